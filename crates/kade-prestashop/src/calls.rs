//! A record of the webservice calls made while a piece of work runs (design principle 9: every
//! partner call lands in the audit log, tied to the entity it concerns).
//!
//! The client does not write the audit itself: it has no store, and one database write per call
//! would put a write on the hot stock path. Instead a job runs inside [`recorded`], the client
//! appends each call to that task's list, and the job attaches the list to the one audit entry
//! it commits anyway. Outside [`recorded`] nothing is collected (and nothing costs anything).

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

/// One webservice call as it happened.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Call {
    pub method: String,
    /// The resource path under `/api` (`orders/73`), without the query (it may carry the key).
    pub path: String,
    /// The HTTP status; `None` when no answer came (connection refused, dropped, timed out).
    pub status: Option<u16>,
    pub ms: u64,
    /// When it started (Unix milliseconds), to interleave it with other partners' calls.
    pub at_ms: i64,
}

tokio::task_local! {
    static CALLS: RefCell<Vec<Call>>;
}

/// Runs `work` and returns its output with the calls it made, in order.
pub async fn recorded<F: Future>(work: F) -> (F::Output, Vec<Call>) {
    CALLS
        .scope(RefCell::new(Vec::new()), async move {
            let out = work.await;
            let calls = CALLS.with(|c| std::mem::take(&mut *c.borrow_mut()));
            (out, calls)
        })
        .await
}

/// Appends a call to the current task's record, if one is being kept.
pub(crate) fn note(method: &str, path: &str, status: Option<u16>, took: Duration) {
    let _ = CALLS.try_with(|c| {
        let now = std::time::SystemTime::now();
        let started = now.checked_sub(took).unwrap_or(now);
        let at_ms = started.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        c.borrow_mut().push(Call {
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
    async fn calls_are_kept_only_inside_a_recording() {
        note("GET", "orders", Some(200), Duration::from_millis(3));
        let ((), calls) = recorded(async {
            note("GET", "orders/1", Some(200), Duration::from_millis(2));
            note("PUT", "stock_availables/4", None, Duration::from_millis(5));
        })
        .await;
        assert_eq!(calls.len(), 2);
        assert_eq!((calls[1].method.as_str(), calls[1].status, calls[1].ms), ("PUT", None, 5));
    }
}
