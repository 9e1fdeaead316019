//! Client configuration.

use std::fmt;
use std::time::Duration;

/// A Picqer API key. Its `Debug` and `Display` never show the key, so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for building the Authorization header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// How to reach one Picqer account and how politely.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `https://{subdomain}.picqer.com/api/v1`, or a simulator's base URL. No trailing slash needed.
    pub base_url: String,
    /// The API key (HTTP Basic username; the password is empty).
    pub api_key: ApiKey,
    /// Sent on every request. Picqer asks integrations to name themselves and a contact.
    pub user_agent: String,
    /// Per-request timeout (connect + response).
    pub timeout: Duration,
    /// Connect timeout, shorter so an unreachable host fails fast.
    pub connect_timeout: Duration,
    /// The request budget assumed before the first response advertises the real one.
    pub initial_rate_limit: u32,
    /// The span `X-RateLimit-Limit` refers to. Picqer documents "per minute".
    pub rate_window: Duration,
    /// How many times a 429 is answered by waiting and resending before giving up.
    pub max_rate_limited_retries: u32,
    /// How many times a safe request is retried after a 5xx, a timeout or a dropped connection.
    pub max_transient_retries: u32,
    /// First retry delay; doubles per attempt, with jitter, up to `retry_cap`.
    pub retry_base: Duration,
    /// Longest single retry delay.
    pub retry_cap: Duration,
}

impl ClientConfig {
    /// Defaults for a Picqer account on `https://{subdomain}.picqer.com`.
    pub fn for_subdomain(subdomain: &str, api_key: ApiKey) -> Self {
        Self::with_base_url(format!("https://{subdomain}.picqer.com/api/v1"), api_key)
    }

    /// Defaults for an explicit base URL (a simulator, a proxy).
    pub fn with_base_url(base_url: impl Into<String>, api_key: ApiKey) -> Self {
        ClientConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            api_key,
            user_agent: format!(
                "Kade/{} (self-hosted Picqer integration hub; set a contact with user_agent)",
                env!("CARGO_PKG_VERSION")
            ),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            initial_rate_limit: 500,
            rate_window: Duration::from_secs(60),
            max_rate_limited_retries: 8,
            max_transient_retries: 4,
            retry_base: Duration::from_millis(500),
            retry_cap: Duration::from_secs(60),
        }
    }

    /// Sets the User-Agent to `Kade/{version} ({contact})`, e.g. a URL and an e-mail address.
    pub fn contact(mut self, contact: &str) -> Self {
        self.user_agent = format!("Kade/{} ({contact})", env!("CARGO_PKG_VERSION"));
        self
    }
}
