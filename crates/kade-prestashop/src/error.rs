//! Errors, classified the way the job layer needs them (as kade-picqer does).

/// The one classification of partner errors, shared by every client.
pub use kade_transport::ErrorClass;

/// A failed webservice call; every variant names the request.
#[derive(Debug, thiserror::Error)]
pub enum PrestaError {
    /// The shop answered with an error status; `code`/`message` are the webservice's own.
    #[error("prestashop answered {status} to {method} {path}{}: {message}", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    Api { method: String, path: String, status: u16, code: Option<u64>, message: String },
    /// The request did not complete; `maybe_applied` when a write may have been committed.
    #[error("could not complete {method} {path}{}: {source}", if *maybe_applied { " (it may have been applied)" } else { "" })]
    Transport {
        method: String,
        path: String,
        maybe_applied: bool,
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx answer that is not the documented shape.
    #[error("unexpected response body for {method} {path}: {message}")]
    Decode { method: String, path: String, message: String },
    #[error("invalid prestashop client configuration: {0}")]
    Config(String),
}

impl PrestaError {
    pub fn class(&self) -> ErrorClass {
        match self {
            PrestaError::Api { status: 429, .. } => ErrorClass::RateLimited,
            PrestaError::Api { status, .. } if *status >= 500 => {
                // 500 code 127 is "your XML is bad": repeating it will not help.
                if matches!(self.code(), Some(127) | Some(46)) { ErrorClass::Permanent } else { ErrorClass::Transient }
            }
            PrestaError::Api { .. } | PrestaError::Decode { .. } | PrestaError::Config(_) => ErrorClass::Permanent,
            PrestaError::Transport { .. } => ErrorClass::Transient,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            PrestaError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<u64> {
        match self {
            PrestaError::Api { code, .. } => *code,
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// 401/403/405 and code 22: the key is wrong, inactive or lacks a permission.
    pub fn is_access_problem(&self) -> bool {
        matches!(self.status(), Some(401 | 403 | 405)) || self.code() == Some(22)
    }
}
