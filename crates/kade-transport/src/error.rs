//! The one error classification of every partner call, and the transport's own error.

use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::HeaderMap;

/// What the caller should do about an error. The one definition: every partner client
/// re-exports it, so the job layer maps all partners' errors the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Try again later: 5xx, timeouts, dropped connections. A non-repeatable request whose answer
    /// was lost is also transient, but its error says `maybe_applied`: look the effect up first.
    Transient,
    /// The budget is spent: try again once it refills.
    RateLimited,
    /// Repeating will not help: bad input, unknown object, bad credentials.
    Permanent,
}

/// A failed partner call, after the retries the transport was allowed. Every variant names the
/// partner, the method and the path — never the query string, where some partners take keys.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The partner answered a status outside 2xx (after the retries it allowed). The body is kept
    /// raw: reading the partner's error envelope is the partner client's job.
    #[error("{system} answered {status} to {method} {path}{}", retries_note(*attempts))]
    Status {
        system: &'static str,
        method: Method,
        path: String,
        status: u16,
        /// How many times the request was sent in all.
        attempts: u32,
        /// Boxed: a header map is large, and this error travels in every `Result`.
        headers: Box<HeaderMap>,
        body: Bytes,
    },
    /// The request did not complete: refused, timed out, connection dropped, body lost.
    /// `maybe_applied` is true when the partner may have acted on it (a non-repeatable request
    /// that was, or may have been, written to the wire): look the effect up before resending.
    #[error("could not complete {system} {method} {path}{}: {source}", if *maybe_applied { " (it may have been applied)" } else { "" })]
    Io {
        system: &'static str,
        method: Method,
        path: String,
        maybe_applied: bool,
        #[source]
        source: reqwest::Error,
    },
    /// The client or the request could not be built (bad base URL, TLS setup, header value).
    #[error("invalid {system} client configuration: {message}")]
    Config { system: &'static str, message: String },
}

fn retries_note(attempts: u32) -> String {
    if attempts > 1 { format!(" (after {attempts} attempts)") } else { String::new() }
}

impl TransportError {
    /// The default classification; a partner client may refine it with what its error body says
    /// (e.g. PrestaShop's "bad XML" 500 is permanent).
    pub fn class(&self) -> ErrorClass {
        match self {
            TransportError::Status { status: 429, .. } => ErrorClass::RateLimited,
            TransportError::Status { status, .. } if *status >= 500 => ErrorClass::Transient,
            TransportError::Status { .. } | TransportError::Config { .. } => ErrorClass::Permanent,
            TransportError::Io { .. } => ErrorClass::Transient,
        }
    }

    /// The HTTP status, when the partner answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            TransportError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the partner may have acted on a request whose answer was lost.
    pub fn maybe_applied(&self) -> bool {
        matches!(self, TransportError::Io { maybe_applied: true, .. })
    }

    /// The partner's `Retry-After` in seconds (HTTP dates are ignored), when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            TransportError::Status { headers, .. } => retry_after(headers),
            _ => None,
        }
    }
}

/// `Retry-After` in whole seconds, the form partners use in practice.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}
