//! Errors, classified the way the job layer needs them (as kade-picqer does).

use kade_transport::TransportError;
use reqwest::Method;
use serde_json::Value;

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

/// Reads the webservice's error body `{"errors":[{"code","message"}]}`; falls back to the text.
pub(crate) fn error_from(method: &Method, path: &str, status: u16, body: &str) -> PrestaError {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let first = parsed.as_ref().and_then(|v| v.pointer("/errors/0").cloned());
    let code = first.as_ref().and_then(|e| e.get("code")).and_then(|c| c.as_u64().or_else(|| c.as_str()?.parse().ok()));
    let message = first
        .as_ref()
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| body.chars().take(200).collect());
    PrestaError::Api { method: method.to_string(), path: path.to_owned(), status, code, message }
}

impl From<TransportError> for PrestaError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Status { method, path, status, body, .. } => {
                let text = String::from_utf8_lossy(&body[..body.len().min(4000)]);
                error_from(&method, &path, status, &text)
            }
            TransportError::Io { method, path, maybe_applied, source, .. } => {
                PrestaError::Transport { method: method.to_string(), path, maybe_applied, source }
            }
            TransportError::Config { message, .. } => PrestaError::Config(message),
        }
    }
}
