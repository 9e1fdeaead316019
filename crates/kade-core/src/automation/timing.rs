//! Waits and quiet hours, on plain Unix milliseconds.
//!
//! Quiet hours use a fixed UTC offset rather than a named time zone: a named zone needs the tz
//! database (a data dependency that must be kept current), while an offset is explicit and pure.
//! A merchant in the Netherlands writes `+01:00` in winter; the docs say that summer time needs
//! the offset changed (or quiet hours one hour wider).

use std::fmt;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

/// Parses a wait such as `30m`, `2h`, `2d`, `1w`, `90s` or `0`. Bounded to 52 weeks, because a
/// longer wait is almost certainly a typo (and would sit in the queue for over a year).
pub fn parse_wait(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if t == "0" {
        return Ok(0);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 =
        num.parse().map_err(|_| format!("{text:?} is not a wait: write a number and a unit, e.g. 30m, 2h, 2d, 1w"))?;
    let unit_ms = match unit.trim() {
        "s" => 1_000,
        "m" | "min" => MINUTE_MS,
        "h" => 60 * MINUTE_MS,
        "d" => DAY_MS,
        "w" => 7 * DAY_MS,
        other => return Err(format!("{text:?}: unknown unit {other:?} (use s, m, h, d or w)")),
    };
    let ms = n.checked_mul(unit_ms).filter(|ms| *ms <= 52 * 7 * DAY_MS);
    ms.ok_or_else(|| format!("{text:?} is longer than 52 weeks"))
}

/// A daily window in which nothing is sent, in a fixed UTC offset. `from > to` wraps midnight
/// (21:00–08:00); `from == to` is rejected at parse time (it would mean "never" or "always").
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Minutes after local midnight.
    pub from: i64,
    pub to: i64,
    /// Local time = UTC + offset.
    pub offset_minutes: i64,
}

impl fmt::Debug for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "QuietHours({}–{} UTC{})", hhmm(self.from), hhmm(self.to), offset(self.offset_minutes))
    }
}

fn hhmm(m: i64) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn offset(m: i64) -> String {
    let sign = if m < 0 { '-' } else { '+' };
    format!("{sign}{}", hhmm(m.abs()))
}

fn parse_hhmm(text: &str) -> Option<i64> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m) && m.to_string().len() <= 2).then_some(h * 60 + m)
}

impl QuietHours {
    /// From `"21:00"`, `"08:00"` and an offset such as `"+01:00"`, `"-05:30"` or `"Z"`.
    pub fn parse(from: &str, to: &str, utc_offset: &str) -> Result<QuietHours, String> {
        let from_m =
            parse_hhmm(from).ok_or_else(|| format!("quiet hours start {from:?}: expected HH:MM, e.g. 21:00"))?;
        let to_m = parse_hhmm(to).ok_or_else(|| format!("quiet hours end {to:?}: expected HH:MM, e.g. 08:00"))?;
        if from_m == to_m {
            return Err(format!("quiet hours {from}–{to} start and end at the same time"));
        }
        let off = utc_offset.trim();
        let offset_minutes = if off.eq_ignore_ascii_case("z") || off.is_empty() {
            0
        } else {
            let (sign, rest) = match off.as_bytes().first() {
                Some(b'+') => (1, &off[1..]),
                Some(b'-') => (-1, &off[1..]),
                _ => return Err(format!("UTC offset {utc_offset:?}: expected +HH:MM or -HH:MM, e.g. +01:00")),
            };
            let m = parse_hhmm(rest)
                .filter(|m| *m <= 14 * 60)
                .ok_or_else(|| format!("UTC offset {utc_offset:?}: expected +HH:MM or -HH:MM, e.g. +01:00"))?;
            sign * m
        };
        Ok(QuietHours { from: from_m, to: to_m, offset_minutes })
    }

    /// Whether local minute-of-day `m` is inside the quiet window.
    fn quiet_at(&self, m: i64) -> bool {
        if self.from < self.to { (self.from..self.to).contains(&m) } else { m >= self.from || m < self.to }
    }

    /// `now_ms` if sending is allowed then, else the first allowed instant (the window's end).
    pub fn next_allowed(&self, now_ms: i64) -> i64 {
        let local = now_ms + self.offset_minutes * MINUTE_MS;
        let minute_of_day = local.rem_euclid(DAY_MS) / MINUTE_MS;
        if !self.quiet_at(minute_of_day) {
            return now_ms;
        }
        let day_start = local - local.rem_euclid(DAY_MS);
        let mut end = day_start + self.to * MINUTE_MS;
        if end <= local {
            end += DAY_MS;
        }
        end - self.offset_minutes * MINUTE_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01 00:00:00 UTC.
    const NEW_YEAR: i64 = 1_767_225_600_000;
    const H: i64 = 3_600_000;

    #[test]
    fn waits() {
        assert_eq!(parse_wait("0"), Ok(0));
        assert_eq!(parse_wait("90s"), Ok(90_000));
        assert_eq!(parse_wait("30m"), Ok(30 * MINUTE_MS));
        assert_eq!(parse_wait("2d"), Ok(2 * DAY_MS));
        assert_eq!(parse_wait(" 1w "), Ok(7 * DAY_MS));
        assert!(parse_wait("2 days").unwrap_err().contains("unknown unit"));
        assert!(parse_wait("soon").unwrap_err().contains("not a wait"));
        assert!(parse_wait("53w").unwrap_err().contains("52 weeks"));
    }

    #[test]
    fn quiet_hours_over_midnight_with_an_offset() {
        let q = QuietHours::parse("21:00", "08:00", "+01:00").unwrap();
        // 12:00 UTC = 13:00 local: allowed.
        assert_eq!(q.next_allowed(NEW_YEAR + 12 * H), NEW_YEAR + 12 * H);
        // 20:30 UTC = 21:30 local: deferred to 08:00 local next day = 07:00 UTC.
        assert_eq!(q.next_allowed(NEW_YEAR + 20 * H + H / 2), NEW_YEAR + 31 * H);
        // 02:00 UTC = 03:00 local: deferred to 07:00 UTC the same day.
        assert_eq!(q.next_allowed(NEW_YEAR + 2 * H), NEW_YEAR + 7 * H);
        // Exactly at the end: allowed.
        assert_eq!(q.next_allowed(NEW_YEAR + 7 * H), NEW_YEAR + 7 * H);
    }

    #[test]
    fn quiet_hours_within_a_day_and_negative_offsets() {
        let q = QuietHours::parse("12:00", "13:30", "-05:00").unwrap();
        // 17:15 UTC = 12:15 local → 13:30 local = 18:30 UTC.
        assert_eq!(q.next_allowed(NEW_YEAR + 17 * H + H / 4), NEW_YEAR + 18 * H + H / 2);
        assert_eq!(q.next_allowed(NEW_YEAR + 19 * H), NEW_YEAR + 19 * H);
    }

    #[test]
    fn bad_quiet_hours() {
        assert!(QuietHours::parse("25:00", "08:00", "Z").unwrap_err().contains("HH:MM"));
        assert!(QuietHours::parse("08:00", "08:00", "Z").unwrap_err().contains("same time"));
        assert!(QuietHours::parse("21:00", "08:00", "CET").unwrap_err().contains("offset"));
        assert!(QuietHours::parse("21:00", "08:00", "+15:00").is_err());
    }
}
