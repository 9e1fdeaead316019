//! Errors, classified the way the job layer needs them.

use reqwest::Method;

/// The one classification of partner errors, shared by every client.
pub use kade_transport::ErrorClass;

/// A failed Picqer call. Every variant names the request, so a log line is enough to act on.
#[derive(Debug, thiserror::Error)]
pub enum PicqerError {
    /// Picqer answered with an error status. `code` and `message` are Picqer's own
    /// `error_code` / `error_message` when the body had them.
    #[error("picqer answered {status} to {method} {path}{}: {message}", code.map(|c| format!(" (error_code {c})")).unwrap_or_default())]
    Api { method: Method, path: String, status: u16, code: Option<i64>, message: String },
    /// Still 429 after the configured number of patient retries.
    #[error("picqer rate limit still exceeded after {attempts} attempts on {method} {path}")]
    RateLimited { method: Method, path: String, attempts: u32 },
    /// The request did not complete. `maybe_applied` is true when Picqer may have acted on it
    /// (a non-repeatable request that timed out or lost its connection after sending): look the
    /// effect up before trying again.
    #[error("could not complete {method} {path}{}: {source}", if *maybe_applied { " (it may have been applied)" } else { "" })]
    Transport {
        method: Method,
        path: String,
        maybe_applied: bool,
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx answer whose body is not the documented shape.
    #[error("unexpected response body for {method} {path}: {source}")]
    Decode {
        method: Method,
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// The client could not be built (bad base URL, TLS setup).
    #[error("invalid picqer client configuration: {0}")]
    Config(String),
}

impl PicqerError {
    /// How to react: retry soon, wait for budget, or give up.
    pub fn class(&self) -> ErrorClass {
        match self {
            PicqerError::Api { status, .. } if *status == 429 => ErrorClass::RateLimited,
            PicqerError::Api { status, .. } if *status >= 500 => ErrorClass::Transient,
            PicqerError::Api { .. } => ErrorClass::Permanent,
            PicqerError::RateLimited { .. } => ErrorClass::RateLimited,
            PicqerError::Transport { .. } => ErrorClass::Transient,
            PicqerError::Decode { .. } | PicqerError::Config(_) => ErrorClass::Permanent,
        }
    }

    /// HTTP status, when Picqer answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            PicqerError::Api { status, .. } => Some(*status),
            PicqerError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// Picqer's `error_code`, when the body carried one.
    pub fn error_code(&self) -> Option<i64> {
        match self {
            PicqerError::Api { code, .. } => *code,
            PicqerError::RateLimited { .. } => Some(codes::RATE_LIMIT),
            _ => None,
        }
    }

    /// 401: the API key is wrong or revoked.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// 404: the object (or the account's API) does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Picqer's "already processed/closed" (32): for allocate and process this means the work is done.
    pub fn is_already_processed(&self) -> bool {
        self.error_code() == Some(codes::ALREADY_CLOSED)
    }
}

/// Picqer `error_code` values Kade branches on. Picqer renumbers some over time (see the
/// reference), so code compares against these names rather than literals.
pub mod codes {
    /// Missing parameters on POST/PUT.
    pub const MISSING_PARAMETERS: i64 = 5;
    /// Order is missing products.
    pub const ORDER_MISSING_PRODUCTS: i64 = 13;
    /// Unknown VAT group.
    pub const UNKNOWN_VATGROUP: i64 = 14;
    /// A list that does not apply (e.g. parts of a non-composition).
    pub const NO_PARTS: i64 = 20;
    /// Product does not exist (e.g. unknown productcode in an order line).
    pub const PRODUCT_NOT_FOUND: i64 = 24;
    /// Rate limit exceeded.
    pub const RATE_LIMIT: i64 = 28;
    /// Order is being processed.
    pub const ORDER_PROCESSING: i64 = 30;
    /// Order already closed (processed).
    pub const ALREADY_CLOSED: i64 = 32;
    /// Amount or product cannot be changed once the order is processed.
    pub const ORDER_LOCKED: i64 = 33;
}
