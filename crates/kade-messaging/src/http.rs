//! What the HTTP providers share: one client, and how transport failures map onto [`SendError`].

use std::time::Duration;

use crate::outbound::SendError;

pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// A request that failed before an answer arrived. A connect failure means nothing reached the
/// provider (retry is safe); anything later — a timeout or reset while or after the request was
/// written — may have been acted upon, so it is in doubt. `what` names the call, never a secret.
pub(crate) fn transport(what: &str, e: &reqwest::Error) -> SendError {
    if e.is_connect() {
        SendError::transient(format!("{what}: cannot connect: {e}"))
    } else if e.is_timeout() {
        SendError::in_doubt(format!("{what}: no answer before the timeout (the request was sent): {e}"))
    } else {
        SendError::in_doubt(format!("{what}: the connection failed after the request was sent: {e}"))
    }
}

/// `Retry-After` in seconds (the form these providers use); HTTP dates are ignored.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The first characters of a body, for error messages (bodies can be huge HTML error pages).
pub(crate) fn excerpt(body: &str) -> String {
    let t: String = body.chars().take(300).collect();
    if t.len() < body.len() { format!("{t}…") } else { t }
}
