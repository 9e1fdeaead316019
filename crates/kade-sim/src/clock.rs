//! Simulated time: the wall clock in production runs, a manual clock in tests.
//!
//! Everything time-dependent in a simulator reads this clock instead of `SystemTime`, so a test can
//! step through a 17-hour webhook retry schedule, or a rate-limit window, in a few milliseconds of
//! real time. Resolution is one millisecond, which is finer than anything Picqer exposes (its
//! datetimes are whole seconds).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// A clock shared by everything time-dependent in a simulator (rate-limit buckets, webhook retry
/// schedules, `created`/`updated` stamps), so tests can compress hours into milliseconds.
#[derive(Clone, Debug)]
pub struct SimClock {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Real,
    /// The current simulated time lives in a watch channel: `advance` publishes a new value and every
    /// sleeper re-checks its deadline on each change, so nothing polls and no wake-up is lost.
    Manual(Arc<watch::Sender<i64>>),
}

impl SimClock {
    /// The real wall clock.
    pub fn real() -> Self {
        SimClock { kind: Kind::Real }
    }

    /// A clock that only moves when [`SimClock::advance`] is called, starting at `start_unix_ms`.
    pub fn manual(start_unix_ms: i64) -> Self {
        let (tx, _rx) = watch::channel(start_unix_ms);
        SimClock { kind: Kind::Manual(Arc::new(tx)) }
    }

    /// Milliseconds since the Unix epoch, in simulated time.
    pub fn now_ms(&self) -> i64 {
        match &self.kind {
            Kind::Real => wall_clock_ms(),
            Kind::Manual(tx) => *tx.borrow(),
        }
    }

    /// Moves a manual clock forward (wakes sleepers whose deadline passed). No effect on a real clock.
    ///
    /// Sub-millisecond parts of `by` are dropped: the clock counts whole milliseconds.
    pub fn advance(&self, by: Duration) {
        if let Kind::Manual(tx) = &self.kind {
            let ms = duration_ms(by);
            // `send_modify` updates the value even when nobody is subscribed, unlike `send`.
            tx.send_modify(|now| *now = now.saturating_add(ms));
        }
    }

    /// Whether this clock is manual.
    pub fn is_manual(&self) -> bool {
        matches!(self.kind, Kind::Manual(_))
    }

    /// Sleeps until simulated time reaches `unix_ms`.
    ///
    /// On a manual clock this resolves on the `advance` that reaches the deadline (immediately if it
    /// has passed already); it never resolves if nobody advances the clock.
    pub async fn sleep_until(&self, unix_ms: i64) {
        match &self.kind {
            Kind::Real => {
                let remaining = unix_ms.saturating_sub(wall_clock_ms());
                if remaining > 0 {
                    tokio::time::sleep(Duration::from_millis(remaining.unsigned_abs())).await;
                }
            }
            Kind::Manual(tx) => {
                let mut rx = tx.subscribe();
                // `wait_for` only fails once the sender is gone, and `self` keeps it alive.
                let _ = rx.wait_for(|now| *now >= unix_ms).await;
            }
        }
    }

    /// Now in Picqer's datetime format `YYYY-MM-DD HH:MM:SS` (UTC in the simulator).
    pub fn now_picqer(&self) -> String {
        format_datetime(self.now_ms())
    }
}

/// Converts a duration to whole milliseconds, saturating instead of wrapping for absurd values.
pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn wall_clock_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(after) => duration_ms(after),
        // A host clock set before 1970 is odd but representable: report negative millis.
        Err(before) => -duration_ms(before.duration()),
    }
}

const MS_PER_DAY: i64 = 86_400_000;

/// Formats unix millis as Picqer's `YYYY-MM-DD HH:MM:SS`.
///
/// Milliseconds are truncated towards the past (floor), so 1969-12-31 23:59:59.500 stays in 1969.
pub fn format_datetime(unix_ms: i64) -> String {
    let days = unix_ms.div_euclid(MS_PER_DAY);
    let secs_of_day = unix_ms.rem_euclid(MS_PER_DAY) / 1000;
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (secs_of_day / 3600, secs_of_day / 60 % 60, secs_of_day % 60);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}")
}

/// Parses Picqer's `YYYY-MM-DD HH:MM:SS` (or a bare `YYYY-MM-DD`) into unix millis.
///
/// Strict on purpose: the simulator should reject what Picqer would not produce, so impossible
/// dates (`2023-02-29`), out-of-range times and other layouts give `None`.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 && b.len() != 19 {
        return None;
    }
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i64::from(digits(&b[0..4])?);
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs_of_day = 0;
    if b.len() == 19 {
        if b[10] != b' ' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (h, m, sec) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
        if h > 23 || m > 59 || sec > 59 {
            return None;
        }
        secs_of_day = i64::from(h * 3600 + m * 60 + sec);
    }
    Some(days_from_civil(year, month, day) * MS_PER_DAY + secs_of_day * 1000)
}

/// Reads a run of ASCII digits; anything else (signs, spaces) is rejected.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// The two conversions below are Howard Hinnant's `civil_from_days` / `days_from_civil`: they count
// in 400-year eras starting on 1 March, which puts the leap day at the end of the year and turns
// the month lengths into the closed form `(153 * m + 2) / 5`. Valid for the whole i64 day range we
// can meet, before and after 1970.

/// Days since 1970-01-01 → (year, month 1-12, day 1-31) in the proleptic Gregorian calendar.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146_096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of (March-based) year, 0..=365
    let mp = (5 * doy + 2) / 153; // March-based month, 0..=11
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both values are small and positive by construction.
    (year, month as u32, day as u32)
}

/// (year, month 1-12, day 1-31) → days since 1970-01-01.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_instants() {
        assert_eq!(format_datetime(0), "1970-01-01 00:00:00");
        assert_eq!(parse_datetime("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_datetime("1970-01-01"), Some(0));
        // 2018-12-01 02:09:12 UTC, the timestamp in Picqer's envelope example.
        assert_eq!(parse_datetime("2018-12-01 02:09:12"), Some(1_543_630_152_000));
        assert_eq!(format_datetime(1_543_630_152_000), "2018-12-01 02:09:12");
        assert_eq!(format_datetime(1_543_630_152_999), "2018-12-01 02:09:12");
        assert_eq!(format_datetime(-1), "1969-12-31 23:59:59");
        assert_eq!(parse_datetime("1969-12-31 23:59:59"), Some(-1000));
    }

    #[test]
    fn leap_years() {
        for (s, ok) in [
            ("2024-02-29", true),
            ("2023-02-29", false),
            ("2000-02-29", true),
            ("1900-02-29", false),
            ("2100-02-29", false),
            ("1972-02-29", true),
        ] {
            assert_eq!(parse_datetime(s).is_some(), ok, "{s}");
        }
        let feb29 = parse_datetime("2024-02-29 23:59:59").unwrap();
        assert_eq!(format_datetime(feb29 + 1000), "2024-03-01 00:00:00");
        let dec31 = parse_datetime("2024-12-31 00:00:00").unwrap();
        let jan1 = parse_datetime("2024-01-01 00:00:00").unwrap();
        assert_eq!((dec31 - jan1) / MS_PER_DAY, 365); // 366-day year
        let y2000 = parse_datetime("2000-03-01").unwrap() - parse_datetime("2000-02-28").unwrap();
        assert_eq!(y2000 / MS_PER_DAY, 2);
    }

    #[test]
    fn round_trip_every_day_over_centuries() {
        // Every day from 1899 to 2101 at a time of day that changes with the date, so month and
        // year boundaries, leap days and the 1900/2000/2100 century rules are all crossed.
        let start = parse_datetime("1899-01-01").unwrap() / MS_PER_DAY;
        let end = parse_datetime("2101-12-31").unwrap() / MS_PER_DAY;
        let mut last = String::new();
        for day in start..=end {
            let ms = day * MS_PER_DAY + (day.rem_euclid(86_400)) * 1000;
            let text = format_datetime(ms);
            assert_eq!(parse_datetime(&text), Some(ms), "{text}");
            assert!(text > last, "{text} after {last}");
            last = text;
        }
    }

    #[test]
    fn rejects_malformed_input() {
        for s in [
            "",
            "2024-1-01",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "2024-01-00",
            "2024-01-01T00:00:00",
            "2024-01-01 24:00:00",
            "2024-01-01 23:60:00",
            "2024-01-01 23:59:60",
            "2024-01-01 1:00:000",
            "+024-01-01",
            "2024/01/01",
            "2024-01-01 00:00",
        ] {
            assert_eq!(parse_datetime(s), None, "{s:?}");
        }
    }

    #[tokio::test]
    async fn manual_clock_moves_only_when_advanced() {
        let clock = SimClock::manual(1_000);
        assert!(clock.is_manual());
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now_ms(), 2_500);
        // Deadlines in the past resolve immediately.
        clock.sleep_until(2_000).await;

        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep_until(10_000).await })
        };
        clock.advance(Duration::from_millis(5_000));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::from_millis(2_500));
        tokio::time::timeout(Duration::from_secs(5), sleeper).await.expect("sleeper woke").unwrap();
    }

    #[tokio::test]
    async fn real_clock_ignores_advance() {
        let clock = SimClock::real();
        assert!(!clock.is_manual());
        let before = clock.now_ms();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now_ms() - before < 60_000);
        let t = clock.now_ms() + 20;
        clock.sleep_until(t).await;
        assert!(clock.now_ms() >= t);
    }
}
