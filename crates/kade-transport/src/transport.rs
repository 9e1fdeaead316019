//! The send loop: budget, attempt, call record, classification, retry.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use kade_core::backoff;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{ClientBuilder, Url};

use crate::budget::{Counters, SharedBudget, TransportStats};
use crate::config::{Partner, TransportConfig};
use crate::error::{TransportError, retry_after};
use crate::request::{Request, Response, Target};

/// The HTTP client of one partner credential. Cheap to clone: clones share the connection pool,
/// the budget and the counters.
#[derive(Clone, Debug)]
pub struct Transport {
    http: reqwest::Client,
    partner: Partner,
    cfg: Arc<TransportConfig>,
    /// The credential's headers (Authorization...), sent on every request.
    headers: Arc<HeaderMap>,
    budget: Arc<SharedBudget>,
}

/// `Basic base64(user:password)`, marked sensitive so it never shows in debug output.
pub fn basic_auth(user: &str, password: &str) -> Result<HeaderValue, String> {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    sensitive(format!("Basic {token}"))
}

/// `Bearer {token}`, marked sensitive.
pub fn bearer(token: &str) -> Result<HeaderValue, String> {
    sensitive(format!("Bearer {token}"))
}

fn sensitive(value: String) -> Result<HeaderValue, String> {
    let mut v = HeaderValue::from_str(&value)
        .map_err(|_| "the credential contains characters not allowed in a header".to_owned())?;
    v.set_sensitive(true);
    Ok(v)
}

impl Transport {
    /// A transport with its own budget. `headers` carry the credential.
    pub fn new(partner: Partner, cfg: TransportConfig, headers: HeaderMap) -> Result<Self, TransportError> {
        Self::with_client(partner, cfg, headers, |b| b)
    }

    /// As [`Transport::new`], with a last say over the HTTP client (e.g. pinning a resolved
    /// address).
    pub fn with_client(
        partner: Partner,
        cfg: TransportConfig,
        headers: HeaderMap,
        customize: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> Result<Self, TransportError> {
        let budget = Arc::new(SharedBudget::new(cfg.rate_limit, cfg.rate_window));
        let http = Self::http(partner, &cfg, customize)?;
        Ok(Transport { http, partner, cfg: Arc::new(cfg), headers: Arc::new(headers), budget })
    }

    /// A transport for another configuration or credential headers that spends from this one's
    /// budget: several parts of Kade talking to one account with one key.
    pub fn sharing_budget(&self, cfg: TransportConfig, headers: HeaderMap) -> Result<Self, TransportError> {
        let http = Self::http(self.partner, &cfg, |b| b)?;
        Ok(Transport {
            http,
            partner: self.partner,
            cfg: Arc::new(cfg),
            headers: Arc::new(headers),
            budget: self.budget.clone(),
        })
    }

    /// The same transport (budget, counters, headers) over a differently built HTTP client.
    pub fn rebuild(&self, customize: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Result<Self, TransportError> {
        let http = Self::http(self.partner, &self.cfg, customize)?;
        Ok(Transport { http, ..self.clone() })
    }

    fn http(
        partner: Partner,
        cfg: &TransportConfig,
        customize: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> Result<reqwest::Client, TransportError> {
        // Kade uses one TLS stack, rustls with ring. Installing the provider is idempotent.
        let _ = rustls::crypto::ring::default_provider().install_default();
        if !cfg.base_url.is_empty() {
            Url::parse(&cfg.base_url).map_err(|e| TransportError::Config {
                system: partner.system,
                message: format!("base URL {:?}: {e}", cfg.base_url),
            })?;
        }
        let mut b = reqwest::Client::builder().timeout(cfg.timeout).connect_timeout(cfg.connect_timeout);
        if let Some(ua) = &cfg.user_agent {
            b = b.user_agent(ua.clone());
        }
        if !cfg.follow_redirects {
            b = b.redirect(reqwest::redirect::Policy::none());
        }
        customize(b).build().map_err(|e| TransportError::Config {
            system: partner.system,
            message: format!("cannot build the HTTP client: {e}"),
        })
    }

    pub fn config(&self) -> &TransportConfig {
        &self.cfg
    }

    pub fn system(&self) -> &'static str {
        self.partner.system
    }

    /// Counters of the budget this transport spends from.
    pub fn stats(&self) -> TransportStats {
        self.budget.stats()
    }

    fn url(&self, req: &Request) -> Result<Url, TransportError> {
        let mut url = match &req.target {
            Target::Url(url) => url.clone(),
            Target::Path(path) => {
                // Paths with a leading slash are appended as they are; others get one.
                let sep = if path.starts_with('/') { "" } else { "/" };
                Url::parse(&format!("{}{sep}{path}", self.cfg.base_url)).map_err(|e| TransportError::Config {
                    system: self.partner.system,
                    message: format!("request path {path:?}: {e}"),
                })?
            }
        };
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(req.query.iter());
        }
        Ok(url)
    }

    /// Sends a request with budget, retries and classification; returns the 2xx answer.
    ///
    /// - A 429 empties the budget and is resent (after the backoff, or the partner's
    ///   `Retry-After` up to `retry_cap`) up to `max_rate_limited_retries` times: it was refused,
    ///   so even a create is safe to resend.
    /// - A transient error answer (5xx), a timeout or a dropped connection is retried only for a
    ///   repeatable request. A refused connection is retried for any request: nothing was sent.
    /// - A non-repeatable request whose answer was lost is never resent: it comes back as
    ///   [`TransportError::Io`] with `maybe_applied`.
    ///
    /// Every attempt is noted in the current job's call record ([`kade_calls::note`]).
    pub async fn send(&self, req: &Request) -> Result<Response, TransportError> {
        // The loop's state (reqwest's future, the answer, the retry sleep) lives on the heap: it
        // is large, and callers nest it inside their own futures several levels deep, which in
        // debug builds overflowed a test thread's stack.
        Box::pin(self.send_loop(req)).await
    }

    async fn send_loop(&self, req: &Request) -> Result<Response, TransportError> {
        let url = self.url(req)?;
        let system = self.partner.system;
        let counters = &self.budget.counters;
        let (mut rate_limited, mut transient, mut attempts) = (0u32, 0u32, 0u32);
        loop {
            self.budget.acquire().await;
            Counters::bump(&counters.requests);
            attempts += 1;
            let mut rb = self.http.request(req.method.clone(), url.clone());
            for (name, value) in self.headers.iter().chain(req.headers.iter()) {
                rb = rb.header(name, value.clone());
            }
            if let Some(body) = &req.body {
                rb = rb.body(body.clone());
            }
            let started = Instant::now();
            let outcome = self.attempt(rb).await;
            kade_calls::note(
                system,
                req.method.as_str(),
                &req.label,
                outcome.as_ref().ok().map(|r| r.status),
                started.elapsed(),
            );
            let delay = match outcome {
                Ok(resp) if (200..300).contains(&resp.status) => return Ok(resp),
                Ok(resp) if resp.status == 429 => {
                    Counters::bump(&counters.rate_limited);
                    self.budget.with(|b, now| b.on_rate_limited(now));
                    if rate_limited >= self.cfg.max_rate_limited_retries {
                        return Err(self.status_error(req, resp, attempts));
                    }
                    rate_limited += 1;
                    let asked = retry_after(&resp.headers).unwrap_or_default().min(self.cfg.retry_cap);
                    self.jittered(rate_limited - 1).max(asked)
                }
                Ok(resp) => {
                    let retry = req.repeatable
                        && transient < self.cfg.max_transient_retries
                        && (self.partner.transient_status)(resp.status, &resp.body);
                    if !retry {
                        return Err(self.status_error(req, resp, attempts));
                    }
                    transient += 1;
                    tracing::debug!(system, method = %req.method, path = %req.label, status = resp.status, attempt = transient, "retrying after a server error");
                    self.jittered(transient - 1)
                }
                Err(source) => {
                    // A connect error means nothing was sent, so even a create may be retried.
                    let safe = req.repeatable || source.is_connect();
                    if !(safe && transient < self.cfg.max_transient_retries) || source.is_builder() {
                        return Err(TransportError::Io {
                            system,
                            method: req.method.clone(),
                            path: req.label.clone(),
                            maybe_applied: !req.repeatable && !source.is_connect() && !source.is_builder(),
                            // reqwest names the whole URL, query included: the error names the
                            // path already, and a query may carry a key.
                            source: source.without_url(),
                        });
                    }
                    transient += 1;
                    tracing::debug!(system, method = %req.method, path = %req.label, error = %source.without_url(), attempt = transient, "retrying after a transport error");
                    self.jittered(transient - 1)
                }
            };
            Counters::bump(&counters.retries);
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt. An error answer whose body is lost still counts as that answer (the partner
    /// refused); a 2xx answer whose body is lost is a transport failure (it may have acted).
    async fn attempt(&self, rb: reqwest::RequestBuilder) -> Result<Response, reqwest::Error> {
        let resp = rb.send().await?;
        self.budget.observe((self.partner.rate_limit)(resp.headers()));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        match resp.bytes().await {
            Ok(body) => Ok(Response { status, headers, body }),
            Err(_) if !(200..300).contains(&status) => Ok(Response { status, headers, body: Default::default() }),
            Err(e) => Err(e),
        }
    }

    fn status_error(&self, req: &Request, resp: Response, attempts: u32) -> TransportError {
        TransportError::Status {
            system: self.partner.system,
            method: req.method.clone(),
            path: req.label.clone(),
            status: resp.status,
            attempts,
            headers: Box::new(resp.headers),
            body: resp.body,
        }
    }

    fn jittered(&self, attempt: u32) -> Duration {
        backoff::delay(attempt, self.cfg.retry_base, self.cfg.retry_cap, fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(base: &str) -> Transport {
        Transport::new(Partner::new("test"), TransportConfig::new(base, 10, Duration::from_secs(1)), HeaderMap::new())
            .unwrap()
    }

    #[test]
    fn paths_join_the_base_with_one_slash_and_the_query_is_encoded_once() {
        let t = transport("http://127.0.0.1:9/api/");
        let url = t.url(&Request::get("orders/1").query([("filter[id]", "[1|2]")])).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9/api/orders/1?filter%5Bid%5D=%5B1%7C2%5D");
        assert_eq!(t.url(&Request::get("/orders")).unwrap().as_str(), "http://127.0.0.1:9/api/orders");
        assert!(matches!(
            Transport::new(
                Partner::new("test"),
                TransportConfig::new("not a url", 1, Duration::from_secs(1)),
                HeaderMap::new()
            ),
            Err(TransportError::Config { .. })
        ));
    }

    #[test]
    fn credentials_are_sensitive_headers() {
        let basic = basic_auth("KEY", "").unwrap();
        assert!(basic.is_sensitive());
        assert_eq!(basic, "Basic S0VZOg==");
        assert!(bearer("tok\n").is_err(), "a newline cannot go into a header");
    }
}
