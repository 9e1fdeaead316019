//! The values that name and open a shop, parsed once (from the config file or a test) so the
//! flows never re-check them: one rule per value, stated here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Longest shop name: it appears in URLs, entity keys and the link table's system names.
pub const SHOP_NAME_MAX: usize = 32;

/// A shop's name in Kade: 1 to 32 ASCII letters, digits, `-` or `_` (safe in a URL path segment
/// and in entity keys without escaping).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShopName(String);

/// Why a shop name is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("shop name must be 1 to 32 characters from letters, digits, '-' and '_' (it appears in URLs), got {0:?}")]
pub struct ShopNameError(pub String);

impl ShopName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ShopName {
    type Err = ShopNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=SHOP_NAME_MAX).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok { Ok(ShopName(s.to_owned())) } else { Err(ShopNameError(s.to_owned())) }
    }
}

/// The Picqer order-reference prefix of a shop: 1 to 3 ASCII letters or digits (`PS`, `DEV`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderPrefix(String);

/// Why a shop prefix is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    #[error("the prefix must be 1 to 3 characters long (got {0:?})")]
    Length(String),
    #[error("the prefix may only contain letters and digits (got {0:?})")]
    Characters(String),
}

impl OrderPrefix {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for OrderPrefix {
    /// `PS`, the prefix a shop starts with.
    fn default() -> Self {
        OrderPrefix(super::DEFAULT_PREFIX.to_owned())
    }
}

impl FromStr for OrderPrefix {
    type Err = PrefixError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !(1..=3).contains(&s.chars().count()) {
            return Err(PrefixError::Length(s.to_owned()));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(PrefixError::Characters(s.to_owned()));
        }
        Ok(OrderPrefix(s.to_owned()))
    }
}

/// Length of every PrestaShop webservice key (the shop refuses any other, error 18).
pub const WS_KEY_LEN: usize = 32;

/// A PrestaShop webservice key: exactly 32 printable ASCII characters without `:` (it is sent as
/// the HTTP Basic user name, where a colon would end it, or as a query parameter). A secret:
/// never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct WsKey(Secret);

/// Why a webservice key is refused. Never contains the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WsKeyError {
    #[error(
        "a webservice key has {WS_KEY_LEN} characters, this one has {0} (copy it from Advanced Parameters > Webservice)"
    )]
    Length(usize),
    #[error(
        "a webservice key is 32 printable ASCII characters; this one contains a space, a ':' or a \
         non-ASCII character (copy it from Advanced Parameters > Webservice)"
    )]
    Characters,
}

impl WsKey {
    /// The key itself, for the request that sends it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl FromStr for WsKey {
    type Err = WsKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = s.chars().count();
        if n != WS_KEY_LEN {
            return Err(WsKeyError::Length(n));
        }
        if !s.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(WsKeyError::Characters);
        }
        Ok(WsKey(Secret::new(s)))
    }
}

impl fmt::Debug for WsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WsKey(***)")
    }
}

/// `Display`, `AsRef<str>`, `TryFrom<String>`, `Into<String>` and comparisons with text for the
/// two plain (non-secret) name types.
macro_rules! text_type {
    ($t:ident, $err:ident) => {
        /// Like the text itself (`"shop"`), so messages formatting it with `{:?}` read as before.
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $t {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, $err> {
                s.parse()
            }
        }
        impl TryFrom<&str> for $t {
            type Error = $err;
            fn try_from(s: &str) -> Result<Self, $err> {
                s.parse()
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
        impl PartialEq<$t> for &str {
            fn eq(&self, other: &$t) -> bool {
                *self == other.0
            }
        }
    };
}

text_type!(ShopName, ShopNameError);
text_type!(OrderPrefix, PrefixError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_names() {
        for ok in ["a", "dev-shop", "nl_2", &"x".repeat(32)] {
            assert_eq!(ok.parse::<ShopName>().unwrap().as_str(), ok);
        }
        for bad in ["", "dev shop", "dév", "a/b", &"x".repeat(33)] {
            let err = bad.parse::<ShopName>().unwrap_err();
            assert!(err.to_string().starts_with("shop name must be 1 to 32 characters"), "{err}");
        }
        let name: ShopName = serde_json::from_str("\"shop\"").unwrap();
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"shop\"");
        assert!(serde_json::from_str::<ShopName>("\"a b\"").is_err(), "deserialising parses too");
        assert_eq!(name, "shop");
        assert_eq!("shop", name);
        assert_eq!(name.to_string(), "shop");
        assert_eq!(format!("{name:?}"), "\"shop\"");
    }

    #[test]
    fn prefixes() {
        assert_eq!("PS".parse::<OrderPrefix>().unwrap(), OrderPrefix::default());
        assert_eq!("A1B".parse::<OrderPrefix>().unwrap().as_str(), "A1B");
        assert_eq!("".parse::<OrderPrefix>(), Err(PrefixError::Length(String::new())));
        let err = "ABCD".parse::<OrderPrefix>().unwrap_err();
        assert_eq!(err.to_string(), "the prefix must be 1 to 3 characters long (got \"ABCD\")");
        let err = "A-".parse::<OrderPrefix>().unwrap_err();
        assert_eq!(err.to_string(), "the prefix may only contain letters and digits (got \"A-\")");
        assert!("ÄB".parse::<OrderPrefix>().is_err(), "non-ASCII letters are refused");
    }

    #[test]
    fn ws_keys_are_checked_once_and_never_printed() {
        let text = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
        let key: WsKey = text.parse().unwrap();
        assert_eq!(key.expose(), text);
        assert_eq!(format!("{key:?}"), "WsKey(***)");
        let err = "short".parse::<WsKey>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "a webservice key has 32 characters, this one has 5 (copy it from Advanced Parameters > Webservice)"
        );
        // 32 characters but 33 bytes: counted in characters, then refused as not ASCII.
        let accented = format!("é{}", "A".repeat(31));
        assert_eq!(accented.parse::<WsKey>().unwrap_err(), WsKeyError::Characters);
        for bad in [format!("A:{}", "B".repeat(30)), format!("A {}", "B".repeat(30))] {
            let err = bad.parse::<WsKey>().unwrap_err();
            assert_eq!(err, WsKeyError::Characters);
            assert!(!err.to_string().contains(&"B".repeat(30)), "the message never echoes the key");
        }
    }
}
