//! The delivery side: the dispatcher task, one HTTP attempt and its bookkeeping, and the client.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use bytes::Bytes;

use super::queue::{Job, Next, Shared, Signals, Target};
use super::{DeliveryRecord, HookPolicy, SIGNATURE_HEADER, USER_AGENT, sign};
use crate::clock::SimClock;

/// The delivery client, or why it could not be built.
///
/// No redirects: Picqer's rule is "200, 201 or 202", so a 3xx is a failed attempt. No proxy:
/// receivers are usually local, and an ambient HTTP_PROXY must not swallow them.
///
/// reqwest is built without a bundled TLS provider and panics when asked for a client while no
/// rustls `CryptoProvider` is installed, so ring's is installed first. That is idempotent: a
/// provider the process already installed (the `kade` binary installs ring's at startup) stays.
/// Building can still fail, e.g. when the system has no CA certificates at all; that is logged
/// once, and every attempt then fails with the same message in the delivery log.
pub(super) fn build_client() -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().map_err(|err| {
        let message = format!("cannot build the webhook HTTP client: {}", error_chain(&err));
        tracing::error!("{message}");
        message
    })
}

/// The dispatcher: hands due deliveries to attempt tasks in queue order, and otherwise sleeps until
/// the next retry is due (on the simulated clock) or something is queued.
pub(super) async fn dispatch_loop(
    weak: Weak<Shared>,
    signals: Arc<Signals>,
    clock: SimClock,
    client: Result<reqwest::Client, String>,
) {
    loop {
        if signals.closed.load(Ordering::Acquire) {
            return;
        }
        // Created before looking at the queue. `notify_one` stores a permit when nobody waits,
        // so a wake-up that lands between the look and the await is not lost.
        let notified = signals.wake.notified();
        let next_due = {
            let Some(shared) = weak.upgrade() else {
                return;
            };
            let now = clock.now_ms();
            let (next, dropped) = shared.lock().take_next(now);
            if dropped {
                signals.idle.notify_waiters();
            }
            match next {
                Next::Dispatch(job, target) => {
                    tokio::spawn(attempt(shared, client.clone(), job, target));
                    continue;
                }
                Next::Wait(next_due) => next_due,
            }
        };
        match next_due {
            Some(due) => {
                tokio::select! {
                    () = notified => {}
                    () = clock.sleep_until(due) => {}
                }
            }
            None => notified.await,
        }
    }
}

/// One HTTP attempt, then its bookkeeping: log it, and on failure schedule the retry or count the
/// complete failure.
async fn attempt(shared: Arc<Shared>, client: Result<reqwest::Client, String>, job: Job, target: Target) {
    let at = shared.clock.now_picqer();
    let (status, error) = match client {
        Ok(client) => send(&client, &shared.policy, &job.body, &target).await,
        Err(message) => (None, Some(message)),
    };
    let ok = error.is_none();
    tracing::debug!(
        idhook = job.idhook,
        event = %job.event,
        attempt = job.attempt,
        ?status,
        ok,
        "webhook delivery attempt"
    );
    {
        let now = shared.clock.now_ms();
        let mut st = shared.lock();
        st.in_flight -= 1;
        st.busy.remove(&job.idhook);
        st.reindex(job.idhook, None);
        let iddelivery = st.next_iddelivery;
        st.next_iddelivery += 1;
        st.record(DeliveryRecord {
            iddelivery,
            idhook: job.idhook,
            event: job.event.clone(),
            attempt: job.attempt,
            status,
            error,
            at,
            ok,
        });
        if !ok {
            st.after_failure(job, now, &shared.policy);
        }
    }
    shared.signals.wake.notify_one();
    shared.signals.idle.notify_waiters();
}

/// POSTs `body` to the target; returns the status (if any answer came) and why it failed (if it did).
async fn send(
    client: &reqwest::Client,
    policy: &HookPolicy,
    body: &Bytes,
    target: &Target,
) -> (Option<u16>, Option<String>) {
    let mut request = client
        .post(&target.address)
        .timeout(policy.timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, USER_AGENT)
        .body(body.clone());
    if let Some(secret) = &target.secret {
        request = request.header(SIGNATURE_HEADER, sign(secret, body));
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let error = (!matches!(status, 200..=202)).then(|| format!("HTTP {status} is not 200, 201 or 202"));
            (Some(status), error)
        }
        Err(err) if err.is_timeout() => (None, Some(format!("no answer within {:?}", policy.timeout))),
        Err(err) => (None, Some(error_chain(&err))),
    }
}

/// reqwest's top-level message ("error sending request") hides the cause; the chain names it
/// (connection refused, reset, ...).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
