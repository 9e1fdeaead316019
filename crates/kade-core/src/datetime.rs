//! Picqer's datetimes: `"YYYY-MM-DD HH:MM:SS"` without a timezone (account-local time), and
//! date-only fields as `"YYYY-MM-DD"`.
//!
//! Kade keeps them as civil date-times rather than instants because Picqer does not say which
//! zone they are in; comparing two of them, or adding seconds, is still well defined.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A civil date-time as Picqer writes it. Ordered chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PicqerDateTime {
    /// Seconds since 1970-01-01 00:00:00 of the same (unstated) zone.
    secs: i64,
}

/// Why a text is not a Picqer datetime.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a Picqer datetime (expected \"YYYY-MM-DD HH:MM:SS\" or \"YYYY-MM-DD\"): {0:?}")]
pub struct DateTimeParseError(pub String);

impl PicqerDateTime {
    /// From seconds since the epoch of the account's zone.
    pub fn from_epoch_secs(secs: i64) -> Self {
        PicqerDateTime { secs }
    }

    /// Seconds since the epoch of the account's zone.
    pub fn epoch_secs(self) -> i64 {
        self.secs
    }

    /// Builds one from parts; `None` when a part is out of range.
    pub fn from_parts(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<Self> {
        if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59 {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        Some(PicqerDateTime { secs: days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s) })
    }

    /// `self` plus `secs` seconds.
    pub fn plus_secs(self, secs: i64) -> Self {
        PicqerDateTime { secs: self.secs + secs }
    }

    /// The date part as `YYYY-MM-DD`.
    pub fn date_string(self) -> String {
        let (y, m, d) = civil_from_days(self.secs.div_euclid(86_400));
        format!("{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Display for PicqerDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
    }
}

impl FromStr for PicqerDateTime {
    type Err = DateTimeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DateTimeParseError(s.to_string());
        let t = s.trim();
        let (date, time) = match t.split_once([' ', 'T']) {
            Some((d, t)) => (d, Some(t)),
            None => (t, None),
        };
        let mut dp = date.split('-');
        let y: i64 = num(dp.next()).ok_or_else(err)?;
        let mo: u32 = num(dp.next()).ok_or_else(err)?;
        let d: u32 = num(dp.next()).ok_or_else(err)?;
        if dp.next().is_some() {
            return Err(err());
        }
        let (h, mi, sec) = match time {
            None => (0, 0, 0),
            Some(time) => {
                // Tolerate a trailing zone or fraction ("13:36:36.000000Z"): Picqer does not send
                // one, but webhook relays sometimes add it.
                let core: String = time.chars().take(8).collect();
                let mut tp = core.split(':');
                let h = num(tp.next()).ok_or_else(err)?;
                let mi = num(tp.next()).ok_or_else(err)?;
                let sec = tp.next().map_or(Some(0), |v| num(Some(v))).ok_or_else(err)?;
                (h, mi, sec)
            }
        };
        PicqerDateTime::from_parts(y, mo, d, h, mi, sec).ok_or_else(err)
    }
}

fn num<T: FromStr>(part: Option<&str>) -> Option<T> {
    let p = part?;
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse().ok()
}

impl Serialize for PicqerDateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PicqerDateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Tolerant reader for optional datetimes: `null`, `""` and MySQL's zero date all mean "none".
pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PicqerDateTime>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.starts_with("0000-00-00") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's civil algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 → (year, month 1-12, day 1-31); the inverse of [`days_from_civil`].
/// Public so every calendar computation in Kade uses this one copy.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_orders() {
        for s in ["1970-01-01 00:00:00", "2015-12-30 13:36:36", "2024-02-29 23:59:59", "2000-03-01 00:00:00"] {
            let t: PicqerDateTime = s.parse().unwrap();
            assert_eq!(t.to_string(), s);
        }
        let a: PicqerDateTime = "2015-12-30 13:36:36".parse().unwrap();
        let b: PicqerDateTime = "2015-12-31".parse().unwrap();
        assert!(a < b);
        assert_eq!(b.to_string(), "2015-12-31 00:00:00");
        assert_eq!(a.plus_secs(86_400).date_string(), "2015-12-31");
    }

    #[test]
    fn rejects_nonsense_and_tolerates_empty_optionals() {
        for bad in ["2023-02-29 00:00:00", "2015-13-01", "yesterday", "2015-12-30 25:00:00", ""] {
            assert!(bad.parse::<PicqerDateTime>().is_err(), "{bad}");
        }
        #[derive(serde::Deserialize)]
        struct W {
            #[serde(deserialize_with = "deserialize_opt")]
            t: Option<PicqerDateTime>,
        }
        for (json, some) in [
            (r#"{"t":null}"#, false),
            (r#"{"t":""}"#, false),
            (r#"{"t":"0000-00-00 00:00:00"}"#, false),
            (r#"{"t":"2020-01-01 10:00:00"}"#, true),
        ] {
            let w: W = serde_json::from_str(json).unwrap();
            assert_eq!(w.t.is_some(), some, "{json}");
        }
    }
}
