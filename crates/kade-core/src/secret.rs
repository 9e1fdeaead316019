//! A secret value (API key, shared secret, token) that cannot leak by being printed.
//!
//! Secrets travel from the config file to the one call that needs them (an HTTP header, an HMAC
//! key, a token check). Holding them in this type instead of `String` all the way means a
//! `{:?}` of a settings struct, an error message or a log line shows `***`, and a comparison
//! against untrusted input takes the same time whatever the input (design principle 10).

use std::fmt;

use subtle::ConstantTimeEq;

/// A secret string. `Debug` and `Display` print `***`; `==` compares in constant time.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it (an HTTP header, a key derivation).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` (e.g. a token from a request) is this secret, in constant time.
    pub fn matches(&self, candidate: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(candidate.as_bytes()))
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.matches(&other.0)
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_and_compares_by_value() {
        let s = Secret::new("hunter2-hunter2-hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.to_string(), "***");
        assert_eq!(s.expose(), "hunter2-hunter2-hunter2");
        assert!(s.matches("hunter2-hunter2-hunter2"));
        assert!(!s.matches("hunter2-hunter2-hunter3"));
        assert!(!s.matches("hunter2"), "a prefix is not the secret");
        assert!(!s.matches(""));
        assert_eq!(s, Secret::from("hunter2-hunter2-hunter2"));
        assert_ne!(s, Secret::from(String::from("other")));
    }
}
