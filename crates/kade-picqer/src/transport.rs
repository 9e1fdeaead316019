//! The HTTP layer: authentication, the shared budget, retries and error classification.
//!
//! Every request URL (path and query) is built once, before the first attempt, and each retry
//! sends that same URL. Picqer's own PHP client once rebuilt the query on a 429 retry and silently
//! restarted a paginated sync at page one; building once rules that out by construction.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use kade_core::{Budget, BudgetDecision, backoff};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::ClientConfig;
use crate::error::PicqerError;

/// Counters for one budget (shared by every client spending from it).
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    rate_limited: AtomicU64,
    retries: AtomicU64,
    budget_wait_ms: AtomicU64,
}

/// A snapshot of a client's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent (every attempt counts).
    pub requests: u64,
    /// 429 answers received. A well-budgeted sync keeps this at zero.
    pub rate_limited: u64,
    /// Attempts that were retries of an earlier attempt.
    pub retries: u64,
    /// Total time spent waiting for budget.
    pub budget_wait: Duration,
}

/// The budget of one API key, with its counters.
#[derive(Debug)]
struct SharedBudget {
    origin: Instant,
    bucket: Mutex<Budget>,
    counters: Counters,
}

impl SharedBudget {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Budget, Duration) -> R) -> R {
        let now = self.now();
        // A poisoned lock only means another task panicked mid-update of plain numbers; the
        // bucket is still usable.
        let mut b = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut b, now)
    }

    /// Waits (asynchronously) until a token is available and takes it.
    async fn acquire(&self) {
        loop {
            match self.with(|b, now| b.try_acquire(now)) {
                BudgetDecision::Go => return,
                BudgetDecision::Wait(d) => {
                    self.counters.budget_wait_ms.fetch_add(d.as_millis() as u64, Ordering::Relaxed);
                    tokio::time::sleep(d).await;
                }
            }
        }
    }
}

/// A Picqer API client. Cheap to clone: clones share the connection pool and the budget.
#[derive(Clone, Debug)]
pub struct PicqerClient {
    http: reqwest::Client,
    base: Arc<str>,
    auth: HeaderValue,
    cfg: Arc<ClientConfig>,
    budget: Arc<SharedBudget>,
}

/// One request, fully built before the first attempt.
pub(crate) struct Call {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Whether sending it twice has the same effect as once (so 5xx/timeouts may be retried).
    pub repeatable: bool,
}

impl Call {
    pub fn get(path: impl Into<String>) -> Self {
        Call { method: Method::GET, path: path.into(), query: Vec::new(), body: None, repeatable: true }
    }

    pub fn post(path: impl Into<String>) -> Self {
        Call { method: Method::POST, path: path.into(), query: Vec::new(), body: None, repeatable: false }
    }

    pub fn put(path: impl Into<String>) -> Self {
        Call { method: Method::PUT, path: path.into(), query: Vec::new(), body: None, repeatable: true }
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Call { method: Method::DELETE, path: path.into(), query: Vec::new(), body: None, repeatable: true }
    }

    pub fn query(mut self, pairs: Vec<(String, String)>) -> Self {
        self.query = pairs;
        self
    }

    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        // Serialising our own request types cannot fail (no maps with non-string keys).
        self.body = Some(serde_json::to_vec(body).unwrap_or_default());
        self
    }
}

impl PicqerClient {
    /// Builds a client with its own budget.
    pub fn new(cfg: ClientConfig) -> Result<Self, PicqerError> {
        let budget = Arc::new(SharedBudget {
            origin: Instant::now(),
            bucket: Mutex::new(Budget::new(cfg.initial_rate_limit, cfg.rate_window, Duration::ZERO)),
            counters: Counters::default(),
        });
        Self::build(cfg, budget)
    }

    /// A client for another configuration that spends from this client's budget. Use it when
    /// several parts of Kade talk to the same Picqer account with the same key.
    pub fn share_budget(&self, cfg: ClientConfig) -> Result<Self, PicqerError> {
        Self::build(cfg, self.budget.clone())
    }

    fn build(cfg: ClientConfig, budget: Arc<SharedBudget>) -> Result<Self, PicqerError> {
        // Kade uses one TLS stack, rustls with ring. Installing the provider is idempotent.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Url::parse(&cfg.base_url).map_err(|e| PicqerError::Config(format!("base URL {:?}: {e}", cfg.base_url)))?;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{}:", cfg.api_key.expose()));
        let mut auth = HeaderValue::from_str(&format!("Basic {token}"))
            .map_err(|_| PicqerError::Config("the API key contains characters not allowed in a header".into()))?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .build()
            .map_err(|e| PicqerError::Config(format!("HTTP client: {e}")))?;
        Ok(PicqerClient { http, base: cfg.base_url.clone().into(), auth, cfg: Arc::new(cfg), budget })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Counters of the budget this client spends from.
    pub fn stats(&self) -> ClientStats {
        let c = &self.budget.counters;
        ClientStats {
            requests: c.requests.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            budget_wait: Duration::from_millis(c.budget_wait_ms.load(Ordering::Relaxed)),
        }
    }

    /// Sends a call and decodes a JSON answer.
    pub(crate) async fn send_json<T: DeserializeOwned>(&self, call: Call) -> Result<T, PicqerError> {
        let (method, path) = (call.method.clone(), call.path.clone());
        let bytes = self.send(call).await?;
        // Some action endpoints answer with an empty body; decode that as JSON null.
        let slice: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"null" } else { &bytes };
        serde_json::from_slice(slice).map_err(|source| PicqerError::Decode { method, path, source })
    }

    /// Sends a call, with budget, retries and classification. Returns the raw 2xx body.
    pub(crate) async fn send(&self, call: Call) -> Result<Bytes, PicqerError> {
        let mut url = Url::parse(&format!("{}{}", self.base, call.path))
            .map_err(|e| PicqerError::Config(format!("request path {:?}: {e}", call.path)))?;
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter());
        }
        let counters = &self.budget.counters;
        let (mut rate_limited, mut transient) = (0u32, 0u32);
        loop {
            self.budget.acquire().await;
            counters.requests.fetch_add(1, Ordering::Relaxed);
            let mut req = self
                .http
                .request(call.method.clone(), url.clone())
                .header(AUTHORIZATION, self.auth.clone())
                .header(ACCEPT, "application/json");
            if let Some(body) = &call.body {
                req = req.header(CONTENT_TYPE, "application/json").body(body.clone());
            }
            let started = std::time::Instant::now();
            let outcome = match req.send().await {
                Ok(resp) => {
                    self.observe(resp.headers());
                    let status = resp.status().as_u16();
                    resp.bytes().await.map(|b| (status, b))
                }
                Err(e) => Err(e),
            };
            let answered = outcome.as_ref().ok().map(|(status, _)| *status);
            kade_calls::note("picqer", call.method.as_str(), &call.path, answered, started.elapsed());
            let retry_delay = match outcome {
                Ok((status, body)) if (200..300).contains(&status) => return Ok(body),
                Ok((429, _)) => {
                    counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                    self.budget.with(|b, now| b.on_rate_limited(now));
                    if rate_limited >= self.cfg.max_rate_limited_retries {
                        return Err(PicqerError::RateLimited {
                            method: call.method,
                            path: call.path,
                            attempts: rate_limited + 1,
                        });
                    }
                    rate_limited += 1;
                    self.jittered(rate_limited - 1)
                }
                Ok((status, body)) => {
                    let err = api_error(&call, status, &body);
                    if status >= 500 && call.repeatable && transient < self.cfg.max_transient_retries {
                        transient += 1;
                        tracing::debug!(%err, attempt = transient, "retrying after server error");
                        self.jittered(transient - 1)
                    } else {
                        return Err(err);
                    }
                }
                Err(source) => {
                    // A connect error means nothing was sent, so even a create may be retried.
                    let safe = call.repeatable || source.is_connect();
                    if safe && transient < self.cfg.max_transient_retries {
                        transient += 1;
                        tracing::debug!(error = %source, attempt = transient, "retrying after transport error");
                        self.jittered(transient - 1)
                    } else {
                        return Err(PicqerError::Transport {
                            method: call.method,
                            path: call.path,
                            maybe_applied: !source.is_connect() && !call.repeatable,
                            source,
                        });
                    }
                }
            };
            counters.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(retry_delay).await;
        }
    }

    fn jittered(&self, attempt: u32) -> Duration {
        backoff::delay(attempt, self.cfg.retry_base, self.cfg.retry_cap, fastrand::f64())
    }

    fn observe(&self, headers: &HeaderMap) {
        let num =
            |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u32>().ok());
        let (limit, remaining) = (num("x-ratelimit-limit"), num("x-ratelimit-remaining"));
        if limit.is_some() || remaining.is_some() {
            self.budget.with(|b, now| b.observe(limit, remaining, now));
        }
    }
}

/// Reads Picqer's error envelope `{error, error_code, error_message}`; falls back to the raw text.
fn api_error(call: &Call, status: u16, body: &[u8]) -> PicqerError {
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
    PicqerError::Api { method: call.method.clone(), path: call.path.clone(), status, code, message }
}
