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
//! Its own crate because `kade-core` stays free of Tokio and the clients do not depend on each
//! other.
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::future::Future;
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

/// Appends a call to the current task's record, if one is being kept.
pub fn note(system: &'static str, method: &str, path: &str, status: Option<u16>, took: Duration) {
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
}
