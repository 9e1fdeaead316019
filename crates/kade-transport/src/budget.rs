//! The budget of one credential, shared by every client that spends from it, with its counters.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kade_core::{Budget, BudgetDecision};

/// What a partner's rate-limit headers said about the budget; `None` where a header is absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// Requests allowed per window.
    pub limit: Option<u32>,
    /// Requests left in the current window.
    pub remaining: Option<u32>,
}

/// A snapshot of a budget's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// HTTP requests sent (every attempt counts).
    pub requests: u64,
    /// 429 answers received. A well-budgeted client keeps this at zero.
    pub rate_limited: u64,
    /// Attempts that were retries of an earlier attempt.
    pub retries: u64,
    /// Total time spent waiting for budget (summed over concurrent waiters).
    pub budget_wait: Duration,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub rate_limited: AtomicU64,
    pub retries: AtomicU64,
    pub budget_wait_ms: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// One credential's bucket ([`kade_core::Budget`], pure) behind a mutex, on a monotonic clock.
#[derive(Debug)]
pub(crate) struct SharedBudget {
    origin: Instant,
    bucket: Mutex<Budget>,
    pub counters: Counters,
}

impl SharedBudget {
    pub fn new(limit: u32, window: Duration) -> Self {
        SharedBudget {
            origin: Instant::now(),
            bucket: Mutex::new(Budget::new(limit, window, Duration::ZERO)),
            counters: Counters::default(),
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut Budget, Duration) -> R) -> R {
        let now = self.origin.elapsed();
        // A poisoned lock only means another task panicked mid-update of plain numbers; the
        // bucket is still usable.
        let mut b = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut b, now)
    }

    /// Waits (asynchronously) until a token is available and takes it.
    pub async fn acquire(&self) {
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

    pub fn observe(&self, seen: RateLimitHeaders) {
        if seen.limit.is_some() || seen.remaining.is_some() {
            self.with(|b, now| b.observe(seen.limit, seen.remaining, now));
        }
    }

    pub fn stats(&self) -> TransportStats {
        let c = &self.counters;
        TransportStats {
            requests: c.requests.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            budget_wait: Duration::from_millis(c.budget_wait_ms.load(Ordering::Relaxed)),
        }
    }
}
