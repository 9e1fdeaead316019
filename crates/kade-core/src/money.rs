//! Exact money amounts.
//!
//! Picqer sends prices as JSON numbers (`54.46`). Binary floats cannot hold most decimal cents, and
//! adding them drifts; Kade keeps amounts as an integer count of 1/10,000 units instead, which holds
//! every amount Picqer shows (at most four decimals, for `fixedstockprice`) exactly.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Scale of [`Money`]: one unit is 1/10,000 of the currency unit.
pub const MONEY_SCALE: i64 = 10_000;

/// An exact amount of money (currency implied by the account), excluding or including VAT as the
/// field it came from says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

/// Why a text could not be read as an amount.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an amount with at most four decimals: {0:?}")]
pub struct MoneyParseError(pub String);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// From whole cents (`5446` is 54.46).
    pub fn from_cents(cents: i64) -> Self {
        Money(cents * (MONEY_SCALE / 100))
    }

    /// From 1/10,000 units.
    pub fn from_units(units: i64) -> Self {
        Money(units)
    }

    /// The amount in 1/10,000 units.
    pub fn units(self) -> i64 {
        self.0
    }

    /// The amount rounded half away from zero to whole cents.
    pub fn cents(self) -> i64 {
        let step = MONEY_SCALE / 100;
        let half = step / 2;
        if self.0 >= 0 { (self.0 + half) / step } else { (self.0 - half) / step }
    }

    /// Reads a JSON float the way Picqer means it: the nearest four-decimal amount. Every decimal
    /// with at most four places round-trips exactly through this.
    pub fn from_f64(v: f64) -> Option<Self> {
        if !v.is_finite() || v.abs() > 9.0e14 {
            return None;
        }
        Some(Money((v * MONEY_SCALE as f64).round() as i64))
    }

    /// The value as a JSON-friendly float (exact for display and for Picqer's inputs).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / MONEY_SCALE as f64
    }

    /// `self * n`, exactly.
    pub fn times(self, n: i64) -> Self {
        Money(self.0 * n)
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Money {
    /// Two decimals, more only when the amount needs them (`54.46`, `49.9512`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / MONEY_SCALE as u64;
        let frac = abs % MONEY_SCALE as u64;
        if frac.is_multiple_of(100) {
            write!(f, "{sign}{whole}.{:02}", frac / 100)
        } else {
            write!(f, "{sign}{whole}.{frac:04}")
        }
    }
}

impl Money {
    /// Reads decimal text with any number of decimals, rounded half away from zero to four
    /// (PrestaShop writes prices with six: `"24.958678"` is 24.9587). Exact: no float on the way,
    /// so `"0.30005"` becomes 0.3001 where a float would round it down.
    pub fn from_decimal_rounded(s: &str) -> Result<Money, MoneyParseError> {
        parse_decimal(s, true)
    }
}

/// Decimal text (`-12.5`, `.25`, `3.`) to 1/10,000 units; more than four decimals are rounded
/// when `round`, refused otherwise.
fn parse_decimal(s: &str, round: bool) -> Result<Money, MoneyParseError> {
    let err = || MoneyParseError(s.to_string());
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if (whole.is_empty() && frac.is_empty()) || (frac.len() > 4 && !round) {
        return Err(err());
    }
    if !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let digit = |i: usize| frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
    let frac_units = (0..4).fold(0, |acc, i| acc * 10 + digit(i)) + i64::from(digit(4) >= 5);
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| err())? };
    let units = whole.checked_mul(MONEY_SCALE).and_then(|w| w.checked_add(frac_units)).ok_or_else(err)?;
    Ok(Money(if neg { -units } else { units }))
}

impl FromStr for Money {
    type Err = MoneyParseError;

    /// Exact: at most four decimals (Picqer's finest), anything finer is an error.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_decimal(s, false)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.to_f64())
    }
}

impl<'de> Deserialize<'de> for Money {
    /// Accepts a JSON number or a numeric string (some payloads quote prices).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount as a number or numeric string")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
                Money::from_f64(v).ok_or_else(|| E::custom(format!("amount out of range: {v}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
                v.checked_mul(MONEY_SCALE).map(Money).ok_or_else(|| E::custom("amount out of range"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(|v| v.checked_mul(MONEY_SCALE))
                    .map(Money)
                    .ok_or_else(|| E::custom("amount out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_are_exact_where_floats_drift() {
        let a: Money = serde_json::from_str("0.1").unwrap();
        let b: Money = serde_json::from_str("0.2").unwrap();
        assert_eq!(a + b, "0.3".parse().unwrap());
        let p: Money = serde_json::from_str("54.46").unwrap();
        assert_eq!(p.cents(), 5446);
        assert_eq!(p.times(3).to_string(), "163.38");
        assert_eq!(serde_json::to_string(&p).unwrap(), "54.46");
    }

    #[test]
    fn accepts_strings_integers_and_four_decimals() {
        let s: Money = serde_json::from_str("\"49.9512\"").unwrap();
        assert_eq!(s.units(), 499_512);
        assert_eq!(s.to_string(), "49.9512");
        let i: Money = serde_json::from_str("12").unwrap();
        assert_eq!(i.to_string(), "12.00");
        assert_eq!("-1.5".parse::<Money>().unwrap().to_string(), "-1.50");
        assert!("1.23456".parse::<Money>().is_err());
        assert!("abc".parse::<Money>().is_err());
        assert!("".parse::<Money>().is_err());
        assert!("1.2.3".parse::<Money>().is_err());
        assert!("+1".parse::<Money>().is_err());
    }

    #[test]
    fn shop_prices_round_exactly_from_text() {
        let m = |s: &str| Money::from_decimal_rounded(s).map(|m| m.units());
        assert_eq!(m("24.958678"), Ok(249_587));
        assert_eq!(m("20.661157"), Ok(206_612));
        assert_eq!(m(" 10.000000 "), Ok(100_000));
        // Half away from zero, decided on the text: a float holds 0.30005 as 0.300049999…
        assert_eq!(m("0.30005"), Ok(3_001));
        assert_eq!(m("-0.30005"), Ok(-3_001));
        assert_eq!(m("0.300049999"), Ok(3_000));
        assert_eq!(m("0.99995"), Ok(10_000), "rounding carries into the whole part");
        assert_eq!(m("7"), Ok(70_000));
        assert_eq!(m(".5"), Ok(5_000));
        for bad in ["", "-", ".", "abc", "1e3", "1,50", "NaN", "99999999999999999999"] {
            let err = Money::from_decimal_rounded(bad).unwrap_err();
            assert_eq!(err.to_string(), format!("not an amount with at most four decimals: {bad:?}"));
        }
    }
}
