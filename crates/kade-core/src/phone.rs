//! Phone numbers to E.164 (`+31612345678`), as SMS and WhatsApp providers require.
//!
//! Picqer stores telephone numbers as the customer typed them ("06-12345678", "+31 (0)6 …",
//! "0031 6 …"). This normalises the common written forms with a default country for numbers
//! written without one. It is not a numbering-plan database: it checks the shape (digits, length
//! 8–15, a known country code where one is implied) and leaves deeper validation to the
//! provider, whose "invalid number" answer is a permanent, surfaced error.

/// Countries Kade knows the calling code of: (ISO 3166 alpha-2, calling code, whether the
/// national trunk prefix `0` is dropped in international form). Italy keeps its leading 0.
const COUNTRIES: &[(&str, &str, bool)] = &[
    ("NL", "31", true),
    ("BE", "32", true),
    ("DE", "49", true),
    ("FR", "33", true),
    ("LU", "352", false),
    ("GB", "44", true),
    ("IE", "353", true),
    ("AT", "43", true),
    ("CH", "41", true),
    ("ES", "34", false),
    ("PT", "351", false),
    ("IT", "39", false),
    ("DK", "45", false),
    ("SE", "46", true),
    ("NO", "47", false),
    ("FI", "358", true),
    ("PL", "48", false),
    ("CZ", "420", false),
    ("US", "1", false),
    ("CA", "1", false),
];

/// Why a number could not be normalised.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("{0:?} contains characters that are not part of a phone number")]
    Characters(String),
    #[error("{0:?} has too few or too many digits for a phone number")]
    Length(String),
    #[error("{number:?} has no country code and the country {country:?} is not known to Kade; write it as +CC…")]
    UnknownCountry { number: String, country: String },
}

/// The calling code for ISO country `iso` (case-insensitive).
pub fn calling_code(iso: &str) -> Option<&'static str> {
    COUNTRIES.iter().find(|(c, _, _)| c.eq_ignore_ascii_case(iso.trim())).map(|(_, code, _)| *code)
}

/// Normalises `raw` to E.164, reading numbers without a country code as numbers of
/// `default_country` (ISO-2, e.g. "NL").
pub fn normalize(raw: &str, default_country: &str) -> Result<String, PhoneError> {
    let trimmed = raw.trim();
    let mut plus = false;
    let mut digits = String::new();
    // "+31 (0)6 …" is a common way of writing an international number with the trunk prefix
    // shown in brackets for national callers: the "(0)" is dropped.
    let cleaned = trimmed.replace("(0)", "");
    for (i, c) in cleaned.char_indices() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 || cleaned[..i].trim().is_empty() => plus = true,
            ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}' => {}
            _ => return Err(PhoneError::Characters(raw.to_string())),
        }
    }
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else {
        let (_, code, drop_zero) =
            COUNTRIES.iter().find(|(c, _, _)| c.eq_ignore_ascii_case(default_country.trim())).ok_or_else(|| {
                PhoneError::UnknownCountry { number: raw.to_string(), country: default_country.to_string() }
            })?;
        let national = if *drop_zero { digits.strip_prefix('0').unwrap_or(&digits) } else { &digits };
        if *code == "1" && national.len() == 11 && national.starts_with('1') {
            national.to_string()
        } else {
            format!("{code}{national}")
        }
    };
    if !(8..=15).contains(&international.len()) || international.starts_with('0') {
        return Err(PhoneError::Length(raw.to_string()));
    }
    Ok(format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dutch_numbers_in_every_common_spelling() {
        for raw in [
            "0612345678",
            "06-12345678",
            "06 1234 5678",
            "+31612345678",
            "+31 (0)6 12345678",
            "0031612345678",
            "(06) 12.34.56.78",
        ] {
            assert_eq!(normalize(raw, "NL").as_deref(), Ok("+31612345678"), "{raw}");
        }
    }

    #[test]
    fn other_countries_and_explicit_codes_win() {
        assert_eq!(normalize("0470 12 34 56", "BE").unwrap(), "+32470123456");
        assert_eq!(normalize("0151 23456789", "de").unwrap(), "+4915123456789");
        assert_eq!(normalize("06 12 34 56 78", "FR").unwrap(), "+33612345678");
        assert_eq!(normalize("02 1234 5678", "IT").unwrap(), "+390212345678");
        assert_eq!(normalize("(415) 555-2671", "US").unwrap(), "+14155552671");
        assert_eq!(normalize("1 415 555 2671", "US").unwrap(), "+14155552671");
        assert_eq!(normalize("+44 7700 900123", "NL").unwrap(), "+447700900123");
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(matches!(normalize("call me", "NL"), Err(PhoneError::Characters(_))));
        assert!(matches!(normalize("12", "NL"), Err(PhoneError::Length(_))));
        assert!(matches!(normalize("+0612345678", "NL"), Err(PhoneError::Length(_))));
        assert!(matches!(normalize("0612345678", "XX"), Err(PhoneError::UnknownCountry { .. })));
        assert!(matches!(normalize("+31 6 12+34", "NL"), Err(PhoneError::Characters(_))));
    }
}
