//! The request budget of one API credential, as a pure token bucket.
//!
//! Picqer allows a number of requests per minute per account and reports, on every response,
//! `X-RateLimit-Limit` and `X-RateLimit-Remaining`. Kade spends from a local bucket that refills at
//! the advertised rate and is pulled *down* to what the server reports, never up: the server's
//! count is authoritative, and the local refill (which starts from the reported whole number, after
//! the response's network delay) always trails the server's. So a client that waits for a whole
//! token before each call stays under the limit without ever seeing a 429, whether the server
//! counts with a sliding bucket or a fixed window, and whatever other clients of the same account
//! spent before us.
//!
//! Time is passed in by the caller as a monotonic offset, so the rules are testable without a
//! clock and the same type can be shared behind a mutex by async code.

use std::time::Duration;

/// What the caller may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetDecision {
    /// A token was taken: send the request.
    Go,
    /// No token yet: ask again after this long.
    Wait(Duration),
}

/// One credential's bucket. See the module docs for the rules.
#[derive(Clone, Debug)]
pub struct Budget {
    limit: u32,
    window: Duration,
    tokens: f64,
    at: Duration,
}

impl Budget {
    /// A full bucket of `limit` requests per `window`, as of `now`. Starting full is optimistic
    /// for exactly one request: its response tells us the real remaining count.
    pub fn new(limit: u32, window: Duration, now: Duration) -> Self {
        let limit = limit.max(1);
        Budget { limit, window: window.max(Duration::from_millis(1)), tokens: f64::from(limit), at: now }
    }

    /// The current limit per window (as last advertised by the server).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Whole tokens available as of `now`.
    pub fn available(&mut self, now: Duration) -> u32 {
        self.refill(now);
        self.tokens.max(0.0).floor() as u32
    }

    fn rate_per_sec(&self) -> f64 {
        f64::from(self.limit) / self.window.as_secs_f64()
    }

    fn refill(&mut self, now: Duration) {
        if now > self.at {
            let gained = (now - self.at).as_secs_f64() * self.rate_per_sec();
            self.tokens = (self.tokens + gained).min(f64::from(self.limit));
            self.at = now;
        }
    }

    /// Takes one token if a whole one is available, otherwise says how long until one is.
    pub fn try_acquire(&mut self, now: Duration) -> BudgetDecision {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            BudgetDecision::Go
        } else {
            let missing = 1.0 - self.tokens;
            let secs = missing / self.rate_per_sec();
            // Round up to the next millisecond so the caller does not wake a hair too early.
            BudgetDecision::Wait(Duration::from_millis((secs * 1000.0).ceil() as u64).max(Duration::from_millis(1)))
        }
    }

    /// Feeds the rate-limit headers of a response received at `now`.
    pub fn observe(&mut self, limit: Option<u32>, remaining: Option<u32>, now: Duration) {
        self.refill(now);
        if let Some(limit) = limit.filter(|l| *l > 0) {
            self.limit = limit;
            self.tokens = self.tokens.min(f64::from(limit));
        }
        if let Some(remaining) = remaining {
            self.tokens = self.tokens.min(f64::from(remaining));
        }
    }

    /// The server answered 429: whatever we believed, nothing is left right now.
    pub fn on_rate_limited(&mut self, now: Duration) {
        self.refill(now);
        self.tokens = self.tokens.min(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn spends_then_waits_for_refill_at_the_advertised_rate() {
        let mut b = Budget::new(600, MIN, ms(0)); // 10 per second
        for _ in 0..600 {
            assert_eq!(b.try_acquire(ms(0)), BudgetDecision::Go);
        }
        assert_eq!(b.try_acquire(ms(0)), BudgetDecision::Wait(ms(100)));
        assert_eq!(b.try_acquire(ms(100)), BudgetDecision::Go);
        assert_eq!(b.available(ms(100)), 0);
    }

    #[test]
    fn server_remaining_pulls_down_never_up() {
        let mut b = Budget::new(500, MIN, ms(0));
        b.observe(Some(500), Some(3), ms(0));
        assert_eq!(b.available(ms(0)), 3);
        b.observe(Some(500), Some(400), ms(0));
        assert_eq!(b.available(ms(0)), 3, "a higher remaining must not add tokens");
        b.observe(Some(60), None, ms(0)); // limit lowered to 1 per second
        for _ in 0..3 {
            assert_eq!(b.try_acquire(ms(0)), BudgetDecision::Go);
        }
        assert_eq!(b.try_acquire(ms(0)), BudgetDecision::Wait(ms(1000)));
    }

    #[test]
    fn rate_limited_empties_the_bucket() {
        let mut b = Budget::new(120, MIN, ms(0));
        b.on_rate_limited(ms(0));
        assert_eq!(b.try_acquire(ms(0)), BudgetDecision::Wait(ms(500)));
        assert_eq!(b.try_acquire(ms(500)), BudgetDecision::Go);
    }

    #[test]
    fn sustained_rate_never_exceeds_limit() {
        // Drive the bucket for 10 simulated minutes, asking every millisecond: the number of
        // grants in any 60 s span stays within capacity + rate * span.
        let mut b = Budget::new(500, MIN, ms(0));
        let mut grants = Vec::new();
        for t in 0..600_000u64 {
            if b.try_acquire(ms(t)) == BudgetDecision::Go {
                grants.push(t);
            }
        }
        assert!(grants.len() <= 500 + 500 * 10);
        assert!(grants.len() >= 500 * 10, "should use the whole budget, got {}", grants.len());
    }
}
