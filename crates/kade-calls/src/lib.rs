//! A record of the partner API calls made while a piece of work runs (design principle 9: every
//! partner call lands in the audit log, tied to the entity it concerns).
//!
//! The clients do not write the audit themselves: they have no store, and one database write per
//! call would put a write on hot paths such as stock updates. Instead a job runs inside
//! [`recorded`], each client appends every HTTP attempt (retries included) to that task's list
//! with [`note`], and the job attaches the list to the one audit entry it commits anyway. One
//! list for all partners, so a job that talks to PrestaShop and Picqer shows both in the order
//! the calls started. Outside [`recorded`] nothing is collected and nothing costs anything.
//!
//! Apart from the record, every call is also told to the registered [`Observer`]s (the metrics'
//! partner-call latency), so the clients report a call once, through [`note`], for both.
//!
//! Its own crate because `kade-core` stays free of Tokio and the clients do not depend on each
//! other.
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::Duration;

/// One HTTP attempt as it happened.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Call {
    /// The partner: "picqer", "prestashop"...
    pub system: &'static str,
    pub method: String,
    /// The resource path as the client names it (`/orders/73`, `orders/73`), never the query:
    /// some partners take their key there.
    pub path: String,
    /// The HTTP status; `None` when no answer came (connection refused, dropped, timed out).
    pub status: Option<u16>,
    pub ms: u64,
    /// When it started (Unix milliseconds).
    pub at_ms: i64,
}

tokio::task_local! {
    static CALLS: RefCell<Vec<Call>>;
}

/// Runs `work` and returns its output with the calls it made, in the order they started.
pub async fn recorded<F: Future>(work: F) -> (F::Output, Vec<Call>) {
    CALLS
        .scope(RefCell::new(Vec::new()), async move {
            let out = work.await;
            let mut calls = CALLS.with(|c| std::mem::take(&mut *c.borrow_mut()));
            // Appended as they finish; a slow call that started first is listed first.
            calls.sort_by_key(|c| c.at_ms);
            (out, calls)
        })
        .await
}

/// Told of every partner HTTP attempt as it ends, wherever it runs (inside a job or not).
pub trait Observer: Send + Sync {
    fn observe(&self, system: &'static str, method: &str, status: Option<u16>, took: Duration);
}

/// Process-wide, so the clients need no handle: in production one hub runs per process. Held
/// weakly: an observer that is dropped (a test's hub) stops being told and is pruned.
static OBSERVERS: RwLock<Vec<Weak<dyn Observer>>> = RwLock::new(Vec::new());

/// Tells `observer` of every call [`note`]d from now on, until it is dropped. Registering the
/// same observer again does nothing.
pub fn observe<O: Observer + 'static>(observer: &Arc<O>) {
    let observer: Weak<dyn Observer> = Arc::downgrade(observer) as Weak<dyn Observer>;
    let mut all = OBSERVERS.write().unwrap_or_else(PoisonError::into_inner);
    all.retain(|o| o.strong_count() > 0);
    if !all.iter().any(|o| Weak::ptr_eq(o, &observer)) {
        all.push(observer);
    }
}

/// Appends a call to the current task's record, if one is being kept, and tells the observers.
pub fn note(system: &'static str, method: &str, path: &str, status: Option<u16>, took: Duration) {
    for observer in OBSERVERS.read().unwrap_or_else(PoisonError::into_inner).iter() {
        if let Some(o) = observer.upgrade() {
            o.observe(system, method, status, took);
        }
    }
    let _ = CALLS.try_with(|c| {
        let now = std::time::SystemTime::now();
        let started = now.checked_sub(took).unwrap_or(now);
        let at_ms = started.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        c.borrow_mut().push(Call {
            system,
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            at_ms,
        })
    });
}

/// Wall-clock milliseconds since the Unix epoch (the store's time unit). Here, not in
/// `kade-core`, because reading the clock is I/O and `kade-core` stays pure; and in this small
/// crate rather than `kade-engine` because `kade-store` needs it too and sits below the engine.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_are_kept_only_inside_a_recording_in_the_order_they_started() {
        note("picqer", "GET", "orders", Some(200), Duration::from_millis(3));
        let ((), calls) = recorded(async {
            note("picqer", "GET", "/orders/1", Some(200), Duration::from_millis(2));
            // Finished later but started ~1 s earlier.
            note("prestashop", "PUT", "stock_availables/4", None, Duration::from_millis(1000));
        })
        .await;
        assert_eq!(calls.len(), 2);
        assert_eq!((calls[0].system, calls[0].method.as_str(), calls[0].status), ("prestashop", "PUT", None));
        assert_eq!((calls[1].system, calls[1].path.as_str(), calls[1].ms), ("picqer", "/orders/1", 2));
    }

    #[derive(Default)]
    struct Seen(std::sync::Mutex<Vec<(&'static str, Option<u16>)>>);

    impl Observer for Seen {
        fn observe(&self, system: &'static str, _method: &str, status: Option<u16>, _took: Duration) {
            self.0.lock().unwrap().push((system, status));
        }
    }

    #[test]
    fn observers_see_every_call_once_until_they_are_dropped() {
        // A system name no other test uses: observers are process-wide.
        let seen = Arc::new(Seen::default());
        observe(&seen);
        observe(&seen);
        note("observer-test", "GET", "x", Some(429), Duration::from_millis(1));
        let mine = |s: &Seen| s.0.lock().unwrap().iter().filter(|(sys, _)| *sys == "observer-test").count();
        assert_eq!(mine(&seen), 1, "registered twice, told once");
        assert_eq!(seen.0.lock().unwrap().iter().find(|(sys, _)| *sys == "observer-test").unwrap().1, Some(429));

        let weak = Arc::downgrade(&seen);
        drop(seen);
        note("observer-test", "GET", "x", None, Duration::from_millis(1));
        assert!(weak.upgrade().is_none());
        let late = Arc::new(Seen::default());
        observe(&late);
        assert!(OBSERVERS.read().unwrap().iter().all(|o| o.strong_count() > 0), "the dropped one was pruned");
    }
}
