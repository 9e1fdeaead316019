//! The customer's language: English or Dutch, guessed from the words of the message when the
//! channel does not say. Only two languages are answered; anything else gets English.

use serde::{Deserialize, Serialize};

use crate::words::{DUTCH, ENGLISH};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Nl,
}

impl Lang {
    /// `"nl"`, `"nl-NL"`, `"NL"`, `"dutch"`, `"nederlands"` → Dutch; `"en…"`/`"english"` → English.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s == "nl" || s.starts_with("nl-") || s.starts_with("nl_") || s == "dutch" || s == "nederlands" {
            Some(Lang::Nl)
        } else if s == "en" || s.starts_with("en-") || s.starts_with("en_") || s == "english" || s == "engels" {
            Some(Lang::En)
        } else {
            None
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nl => "nl",
        }
    }
}

/// The more likely of the two languages for `text`; ties go to `fallback`.
pub fn detect(text: &str, fallback: Lang) -> Lang {
    let (mut nl, mut en) = (0, 0);
    // Whitespace-separated words, so a product code like "mar-0002-red-43" is not read as "red".
    for word in text.split_whitespace() {
        let w = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'').to_lowercase();
        if DUTCH.contains(&w.as_str()) {
            nl += 1;
        }
        if ENGLISH.contains(&w.as_str()) {
            en += 1;
        }
    }
    match nl.cmp(&en) {
        std::cmp::Ordering::Greater => Lang::Nl,
        std::cmp::Ordering::Less => Lang::En,
        std::cmp::Ordering::Equal => fallback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_are_recognised() {
        assert_eq!(detect("Waar is mijn bestelling 20140079?", Lang::En), Lang::Nl);
        assert_eq!(detect("Where is my order 20140079?", Lang::Nl), Lang::En);
        assert_eq!(detect("Hebben jullie de blauwe jas nog in maat M?", Lang::En), Lang::Nl);
        assert_eq!(detect("is the blue jacket in stock in M", Lang::Nl), Lang::En);
        assert_eq!(detect("20140079", Lang::Nl), Lang::Nl, "no words: the fallback");
    }

    #[test]
    fn codes_parse() {
        assert_eq!(Lang::parse("nl-NL"), Some(Lang::Nl));
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("de"), None);
    }
}
