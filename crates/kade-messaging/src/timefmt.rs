//! Calendar arithmetic for the two date formats we write (no date crate needed for this).

// One copy of the calendar arithmetic, in the pure core.
pub(crate) use kade_core::datetime::{civil_from_days, days_from_civil};

/// RFC 5322 date in UTC, e.g. `Mon, 23 Nov 2026 12:05:50 +0000`.
pub(crate) fn rfc5322(unix_s: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = unix_s.div_euclid(86_400);
    let secs = unix_s.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Parses `Wed, 01 May 2024 10:00:00 +0000` (Twilio's dates) to Unix ms; `None` if it is not that.
pub(crate) fn parse_rfc2822_ms(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, d, mon, y, hms, zone] = parts.as_slice() else { return None };
    let m = MONTHS.iter().position(|x| x == mon)? as u32 + 1;
    let mut t = hms.split(':').map(|x| x.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let z: i64 = zone.trim_start_matches(['+', '-']).parse().ok()?;
    let offset_s = sign * ((z / 100) * 3600 + (z % 100) * 60);
    let days = days_from_civil(y.parse().ok()?, m, d.parse().ok()?);
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss - offset_s) * 1000)
}

pub(crate) fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc5322(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        // 2026-11-23 12:05:50 UTC was a Monday.
        assert_eq!(rfc5322(1_795_435_550), "Mon, 23 Nov 2026 12:05:50 +0000");
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for d in [-800_000, -1, 0, 11_016, 20_415, 2_000_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(parse_rfc2822_ms("Mon, 23 Nov 2026 12:05:50 +0000"), Some(1_795_435_550_000));
        assert_eq!(parse_rfc2822_ms("Mon, 23 Nov 2026 13:05:50 +0100"), Some(1_795_435_550_000));
        assert_eq!(parse_rfc2822_ms("yesterday"), None);
    }
}
