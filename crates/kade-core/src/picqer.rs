//! Picqer values Kade's own rules name, kept here so the config loader and the connectors share
//! one definition without depending on the Picqer client crate (which depends on this one).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A Picqer order status, as a status-mapping rule names it. Closed on purpose: a rule naming any
/// other status could never match, so it is refused when the config is read. (The client's own
/// `OrderStatus` keeps unknown future statuses as text; those simply match no rule.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PicqerStatus {
    Concept,
    Expected,
    Processing,
    Paused,
    Completed,
    Cancelled,
}

impl PicqerStatus {
    /// Every status, in Picqer's order-lifecycle order.
    pub const ALL: [PicqerStatus; 6] = [
        PicqerStatus::Concept,
        PicqerStatus::Expected,
        PicqerStatus::Processing,
        PicqerStatus::Paused,
        PicqerStatus::Completed,
        PicqerStatus::Cancelled,
    ];

    /// The wire value (`"completed"`).
    pub fn as_str(self) -> &'static str {
        match self {
            PicqerStatus::Concept => "concept",
            PicqerStatus::Expected => "expected",
            PicqerStatus::Processing => "processing",
            PicqerStatus::Paused => "paused",
            PicqerStatus::Completed => "completed",
            PicqerStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for PicqerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no Picqer order status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be a Picqer order status (concept, expected, processing, paused, completed, cancelled), got {0:?}")]
pub struct UnknownPicqerStatus(pub String);

impl FromStr for PicqerStatus {
    type Err = UnknownPicqerStatus;

    /// Case and surrounding spaces do not matter (`" Completed "` is `completed`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        PicqerStatus::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownPicqerStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_status_and_refuses_others_with_the_list() {
        for st in PicqerStatus::ALL {
            assert_eq!(st.as_str().parse::<PicqerStatus>(), Ok(st));
            assert_eq!(serde_json::to_string(&st).unwrap(), format!("\"{st}\""));
        }
        assert_eq!(" Completed ".parse(), Ok(PicqerStatus::Completed));
        let err = "shipped".parse::<PicqerStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "must be a Picqer order status (concept, expected, processing, paused, completed, cancelled), got \"shipped\""
        );
        assert!("".parse::<PicqerStatus>().is_err());
    }
}
