//! What a partner client declares about itself, and how patient its transport is.

use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::budget::RateLimitHeaders;

/// The partner-specific hooks. Everything else about talking to a partner is shared.
#[derive(Clone, Copy, Debug)]
pub struct Partner {
    /// The name in the call record and in errors: "picqer", "prestashop", "whatsapp"...
    pub system: &'static str,
    /// Reads the partner's rate-limit headers; partners that send none keep the default (no
    /// headers: the configured rate alone governs the budget).
    pub rate_limit: fn(&HeaderMap) -> RateLimitHeaders,
    /// Whether an error answer may be worth repeating (for a repeatable request). Default: 5xx.
    /// A partner whose 500 sometimes means "your input is bad" says so here.
    pub transient_status: fn(u16, &[u8]) -> bool,
}

fn no_rate_headers(_: &HeaderMap) -> RateLimitHeaders {
    RateLimitHeaders::default()
}

fn server_error(status: u16, _body: &[u8]) -> bool {
    status >= 500
}

impl Partner {
    /// A partner without rate-limit headers whose 5xx answers are transient.
    pub const fn new(system: &'static str) -> Self {
        Partner { system, rate_limit: no_rate_headers, transient_status: server_error }
    }

    pub const fn rate_limit_headers(mut self, read: fn(&HeaderMap) -> RateLimitHeaders) -> Self {
        self.rate_limit = read;
        self
    }

    pub const fn transient_status(mut self, is_transient: fn(u16, &[u8]) -> bool) -> Self {
        self.transient_status = is_transient;
        self
    }
}

/// Timeouts, budget and retry policy of one transport.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// The base URL request paths are appended to (no trailing slash needed). May be empty for
    /// a transport that only sends to absolute URLs.
    pub base_url: String,
    /// Sent on every request, when set.
    pub user_agent: Option<String>,
    /// Whole-request timeout (connect + send + answer).
    pub timeout: Duration,
    /// Connect timeout, shorter so an unreachable host fails fast.
    pub connect_timeout: Duration,
    /// Requests per `rate_window`: the partner's documented rate where it sends no headers, or
    /// the rate assumed until its first answer's headers tell the real one.
    pub rate_limit: u32,
    pub rate_window: Duration,
    /// How many times a 429 is answered by waiting and resending before giving up.
    pub max_rate_limited_retries: u32,
    /// How many times a repeatable request is retried after a 5xx, a timeout or a dropped
    /// connection (and any request after a refused connection, where nothing was sent).
    pub max_transient_retries: u32,
    /// First retry delay; doubles per attempt, with jitter, up to `retry_cap`.
    pub retry_base: Duration,
    /// Longest single retry delay (also caps a partner's `Retry-After`).
    pub retry_cap: Duration,
    /// Follow HTTP redirects (off for targets that were checked by address, e.g. webhooks).
    pub follow_redirects: bool,
}

impl TransportConfig {
    /// Production defaults: 30 s per request, 5 s to connect, 4 retries from 0.5 s up to 60 s,
    /// 8 patient 429 retries, and `rate_limit` requests per `rate_window`.
    pub fn new(base_url: impl Into<String>, rate_limit: u32, rate_window: Duration) -> Self {
        TransportConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            user_agent: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            rate_limit,
            rate_window,
            max_rate_limited_retries: 8,
            max_transient_retries: 4,
            retry_base: Duration::from_millis(500),
            retry_cap: Duration::from_secs(60),
            follow_redirects: true,
        }
    }

    /// No retries at all: every failure goes straight back to the caller, who decides (a
    /// message send whose job layer retries with the provider's own `Retry-After`, a live check).
    pub fn no_retries(mut self) -> Self {
        self.max_rate_limited_retries = 0;
        self.max_transient_retries = 0;
        self
    }
}
