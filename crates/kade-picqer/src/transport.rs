//! The Picqer layer over the shared partner transport ([`kade_transport`]): what is Picqer's own
//! — HTTP Basic with the API key as user, JSON bodies, the `X-RateLimit-*` headers and the
//! `error_code`/`error_message` envelope. Budget, timeouts, retries, the call record and the
//! counters are the shared transport's.

use std::sync::Arc;

use bytes::Bytes;
use kade_transport::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use kade_transport::{Partner, RateLimitHeaders, Request, Transport, TransportConfig, TransportError};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::ClientConfig;
use crate::error::PicqerError;

/// A snapshot of a client's counters (those of the budget it spends from).
pub use kade_transport::TransportStats as ClientStats;

/// Picqer sends `X-RateLimit-Limit` and `X-RateLimit-Remaining` on every answer.
fn rate_limit_headers(headers: &HeaderMap) -> RateLimitHeaders {
    let num = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u32>().ok());
    RateLimitHeaders { limit: num("x-ratelimit-limit"), remaining: num("x-ratelimit-remaining") }
}

const PICQER: Partner = Partner::new("picqer").rate_limit_headers(rate_limit_headers);

/// A Picqer API client. Cheap to clone: clones share the connection pool and the budget.
#[derive(Clone, Debug)]
pub struct PicqerClient {
    transport: Transport,
    cfg: Arc<ClientConfig>,
}

/// Picqer's request bodies are JSON; every other part of a request is the transport's own
/// [`Request`].
pub(crate) trait JsonBody {
    fn json<B: Serialize + ?Sized>(self, body: &B) -> Self;
}

impl JsonBody for Request {
    fn json<B: Serialize + ?Sized>(self, body: &B) -> Self {
        // Serialising our own request types cannot fail (no maps with non-string keys).
        self.body("application/json", serde_json::to_vec(body).unwrap_or_default())
    }
}

fn transport_config(cfg: &ClientConfig) -> TransportConfig {
    TransportConfig {
        user_agent: Some(cfg.user_agent.clone()),
        timeout: cfg.timeout,
        connect_timeout: cfg.connect_timeout,
        max_rate_limited_retries: cfg.max_rate_limited_retries,
        max_transient_retries: cfg.max_transient_retries,
        retry_base: cfg.retry_base,
        retry_cap: cfg.retry_cap,
        ..TransportConfig::new(cfg.base_url.clone(), cfg.initial_rate_limit, cfg.rate_window)
    }
}

fn credential(cfg: &ClientConfig) -> Result<HeaderMap, PicqerError> {
    let auth = kade_transport::basic_auth(cfg.api_key.expose(), "")
        .map_err(|_| PicqerError::Config("the API key contains characters not allowed in a header".into()))?;
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, auth);
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    Ok(headers)
}

impl PicqerClient {
    /// Builds a client with its own budget.
    pub fn new(cfg: ClientConfig) -> Result<Self, PicqerError> {
        let transport = Transport::new(PICQER, transport_config(&cfg), credential(&cfg)?).map_err(PicqerError::from)?;
        Ok(PicqerClient { transport, cfg: Arc::new(cfg) })
    }

    /// A client for another configuration that spends from this client's budget. Use it when
    /// several parts of Kade talk to the same Picqer account with the same key.
    pub fn share_budget(&self, cfg: ClientConfig) -> Result<Self, PicqerError> {
        let transport =
            self.transport.sharing_budget(transport_config(&cfg), credential(&cfg)?).map_err(PicqerError::from)?;
        Ok(PicqerClient { transport, cfg: Arc::new(cfg) })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Counters of the budget this client spends from.
    pub fn stats(&self) -> ClientStats {
        self.transport.stats()
    }

    /// Sends a call and decodes a JSON answer.
    pub(crate) async fn send_json<T: DeserializeOwned>(&self, call: Request) -> Result<T, PicqerError> {
        let (method, path) = (call.method().clone(), call.label().to_string());
        let bytes = self.send(call).await?;
        // Some action endpoints answer with an empty body; decode that as JSON null.
        let slice: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"null" } else { &bytes };
        serde_json::from_slice(slice).map_err(|source| PicqerError::Decode { method, path, source })
    }

    /// Sends a call, with budget, retries and classification. Returns the raw 2xx body.
    pub(crate) async fn send(&self, call: Request) -> Result<Bytes, PicqerError> {
        Ok(self.transport.send(&call).await?.body)
    }
}

impl From<TransportError> for PicqerError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Status { method, path, status: 429, attempts, .. } => {
                PicqerError::RateLimited { method, path, attempts }
            }
            TransportError::Status { method, path, status, body, .. } => api_error(method, path, status, &body),
            TransportError::Io { method, path, maybe_applied, source, .. } => {
                PicqerError::Transport { method, path, maybe_applied, source }
            }
            TransportError::Config { message, .. } => PicqerError::Config(message),
        }
    }
}

/// Reads Picqer's error envelope `{error, error_code, error_message}`; falls back to the raw text.
fn api_error(method: Method, path: String, status: u16, body: &[u8]) -> PicqerError {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error_code: Option<i64>,
        error_message: Option<String>,
    }
    let (code, message) = match serde_json::from_slice::<Envelope>(body) {
        Ok(env) => (env.error_code, env.error_message.unwrap_or_default()),
        Err(_) => (None, String::from_utf8_lossy(&body[..body.len().min(300)]).trim().to_string()),
    };
    let message = if message.is_empty() { format!("HTTP {status} without an error message") } else { message };
    PicqerError::Api { method, path, status, code, message }
}
