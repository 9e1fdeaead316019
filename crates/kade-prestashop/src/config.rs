//! How to reach one shop's webservice, and how politely.

use std::time::Duration;

use kade_transport::TransportConfig;

#[derive(Clone, Debug)]
pub struct PrestaConfig {
    /// The shop URL (`https://shop.example`); `/api` is appended.
    pub shop_url: String,
    pub ws_key: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connect timeout, shorter so an unreachable shop fails fast.
    pub connect_timeout: Duration,
    /// Webservice requests per second. PrestaShop sends no rate-limit headers and has no limit
    /// of its own, but every call is a full PHP request on the merchant's (often shared) host,
    /// and hosts' firewalls throttle bursts; a steady rate keeps a large stock push from
    /// slowing the shop down for its customers.
    pub requests_per_second: u32,
    /// How many requests may go at once before the rate applies (the bucket's size): a short
    /// sync (an order push, one product's stock) is not slowed down, a long one is paced.
    pub burst: u32,
    /// How many times a repeatable call (GET, PUT, DELETE) is retried after a 5xx, a timeout or
    /// a dropped connection. A POST is retried only when nothing was sent (connection refused).
    pub max_transient_retries: u32,
    /// How many times a 429 (a host's firewall) is answered by waiting and resending.
    pub max_rate_limited_retries: u32,
    /// First retry delay; doubles per attempt, with jitter, up to `retry_cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
}

/// The default webservice rate: a few requests per second, what a small shared host serves
/// alongside its shoppers without noticing.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 5;
/// The default burst: an order push (about ten calls) goes at once.
pub const DEFAULT_BURST: u32 = 20;

impl PrestaConfig {
    pub fn new(shop_url: &str, ws_key: &str) -> Self {
        PrestaConfig {
            shop_url: shop_url.trim_end_matches('/').to_owned(),
            ws_key: ws_key.to_owned(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
            burst: DEFAULT_BURST,
            max_transient_retries: 3,
            max_rate_limited_retries: 5,
            retry_base: Duration::from_millis(500),
            retry_cap: Duration::from_secs(30),
        }
    }

    pub(crate) fn transport(&self) -> TransportConfig {
        // A bucket of `burst` tokens refilled at `requests_per_second`.
        let burst = self.burst.max(1);
        let window = Duration::from_secs_f64(f64::from(burst) / f64::from(self.requests_per_second.max(1)));
        TransportConfig {
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            max_transient_retries: self.max_transient_retries,
            max_rate_limited_retries: self.max_rate_limited_retries,
            retry_base: self.retry_base,
            retry_cap: self.retry_cap,
            ..TransportConfig::new(format!("{}/api", self.shop_url), burst, window)
        }
    }
}
