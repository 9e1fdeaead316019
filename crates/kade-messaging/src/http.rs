//! What the HTTP providers share: their [`kade_transport::Transport`] (budget, timeouts, call
//! record, classification) and how its failures map onto [`SendError`].
//!
//! A send is never retried inside the transport: the job layer retries transient failures with
//! the provider's own `Retry-After`, and resolves in-doubt sends with a lookup first.

use std::time::Duration;

use kade_transport::header::HeaderMap;
use kade_transport::{Partner, Transport, TransportConfig, TransportError};

use crate::outbound::SendError;

/// A transport for one provider account: `rate` requests per second, no retries.
pub(crate) fn transport(
    partner: Partner,
    base_url: &str,
    timeout: Duration,
    rate: u32,
    headers: HeaderMap,
) -> Result<Transport, String> {
    let cfg = TransportConfig {
        timeout,
        connect_timeout: timeout.min(Duration::from_secs(10)),
        ..TransportConfig::new(base_url, rate, Duration::from_secs(1)).no_retries()
    };
    Transport::new(partner, cfg, headers).map_err(|e| e.to_string())
}

/// A failed call in [`SendError`] terms. An error answer goes to the provider's `classify`
/// (status, body text, `Retry-After`); a call without an answer is transient when nothing
/// reached the provider (connect failure) and in doubt otherwise: a timeout or reset while or
/// after the request was written may have been acted upon. `what` names the call, never a secret.
pub(crate) fn send_error(
    what: &str,
    err: TransportError,
    classify: impl FnOnce(u16, &str, Option<Duration>, &str) -> SendError,
) -> SendError {
    let retry_after = err.retry_after();
    match err {
        TransportError::Status { status, body, .. } => {
            classify(status, &String::from_utf8_lossy(&body), retry_after, what)
        }
        TransportError::Io { maybe_applied: false, source, .. } => {
            SendError::transient(format!("{what}: cannot connect: {source}"))
        }
        TransportError::Io { source, .. } if source.is_timeout() => {
            SendError::in_doubt(format!("{what}: no answer before the timeout (the request was sent): {source}"))
        }
        TransportError::Io { source, .. } => {
            SendError::in_doubt(format!("{what}: the connection failed after the request was sent: {source}"))
        }
        TransportError::Config { message, .. } => SendError::permanent("invalid_request", format!("{what}: {message}")),
    }
}

/// The first characters of a body, for error messages (bodies can be huge HTML error pages).
pub(crate) fn excerpt(body: &str) -> String {
    let t: String = body.chars().take(300).collect();
    if t.len() < body.len() { format!("{t}…") } else { t }
}
