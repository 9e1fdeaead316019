//! Outbound status callbacks shared by the messaging simulators (WhatsApp, Twilio): a queue that
//! POSTs already-signed requests in order, after an optional delay, retrying a few times, and
//! records what became of each so tests can wait for and inspect them.
//!
//! Signing happens before a request is queued (each provider signs differently), so this module
//! only moves bytes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::picqer::server::lock;

/// How a simulator delivers the status callbacks of one message — the real services duplicate
/// and reorder them, and receivers must cope.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CallbackMode {
    #[default]
    Normal,
    /// Every callback is sent twice.
    Duplicate,
    /// The callbacks of a message are sent newest first (`delivered` before `sent`).
    Reversed,
}

impl CallbackMode {
    /// The order (and copies) in which a message's status list is emitted.
    pub fn arrange<T: Clone>(self, items: Vec<T>) -> Vec<T> {
        match self {
            CallbackMode::Normal => items,
            CallbackMode::Reversed => items.into_iter().rev().collect(),
            CallbackMode::Duplicate => items.into_iter().flat_map(|i| [i.clone(), i]).collect(),
        }
    }
}

/// One request to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub content_type: &'static str,
    pub body: String,
    /// What it reports, e.g. `wamid.X:delivered`, for the delivery list.
    pub label: String,
    /// Real milliseconds to wait before sending (statuses are asynchronous).
    pub delay_ms: u64,
}

/// A callback and its outcome, as listed by `GET /_sim/callbacks`.
#[derive(Clone, Debug, Serialize)]
pub struct CallbackDelivery {
    pub seq: u64,
    pub url: String,
    pub label: String,
    /// `queued`, `sent` (2xx), `failed` (after the retries).
    pub outcome: String,
    pub status: Option<u16>,
    pub attempts: u32,
    /// The exact body sent (so tests can replay or re-verify it).
    pub body: String,
    pub headers: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    deliveries: Vec<CallbackDelivery>,
    next: u64,
    in_flight: usize,
}

#[derive(Clone)]
pub struct Poster {
    state: Arc<Mutex<State>>,
    tx: mpsc::UnboundedSender<(u64, Outgoing)>,
}

impl Poster {
    /// Starts the delivery task; must be called inside a tokio runtime.
    pub fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(Mutex::new(State::default()));
        tokio::spawn(deliver_loop(state.clone(), rx));
        Poster { state, tx }
    }

    pub fn send(&self, out: Outgoing) -> u64 {
        let mut st = lock(&self.state);
        st.next += 1;
        let seq = st.next;
        st.in_flight += 1;
        st.deliveries.push(CallbackDelivery {
            seq,
            url: out.url.clone(),
            label: out.label.clone(),
            outcome: "queued".into(),
            status: None,
            attempts: 0,
            body: out.body.clone(),
            headers: out.headers.clone(),
        });
        let _ = self.tx.send((seq, out));
        seq
    }

    pub fn deliveries(&self) -> Vec<CallbackDelivery> {
        lock(&self.state).deliveries.clone()
    }

    /// Callbacks queued or being sent (tests wait for 0).
    pub fn in_flight(&self) -> usize {
        lock(&self.state).in_flight
    }

    /// Waits (real time) until nothing is in flight or `within` passed; returns whether it drained.
    pub async fn drain(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while self.in_flight() > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }
}

async fn deliver_loop(state: Arc<Mutex<State>>, mut rx: mpsc::UnboundedReceiver<(u64, Outgoing)>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build();
    while let Some((seq, out)) = rx.recv().await {
        if out.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(out.delay_ms)).await;
        }
        let mut result = ("failed", None, 0);
        if let Ok(client) = client.as_ref() {
            // The real services retry for hours or days; a few quick tries keep tests fast.
            for attempt in 1..=3u32 {
                let mut req = client.post(&out.url).header("content-type", out.content_type).body(out.body.clone());
                for (k, v) in &out.headers {
                    req = req.header(k, v);
                }
                let status = req.send().await.ok().map(|r| r.status().as_u16());
                let ok = status.is_some_and(|s| (200..300).contains(&s));
                result = (if ok { "sent" } else { "failed" }, status, attempt);
                if ok {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
        }
        let mut st = lock(&state);
        st.in_flight = st.in_flight.saturating_sub(1);
        if let Some(d) = st.deliveries.iter_mut().find(|d| d.seq == seq) {
            d.outcome = result.0.into();
            d.status = result.1;
            d.attempts = result.2;
        }
    }
}

/// Compares secrets without an early exit on the first differing byte (the `subtle` crate, so
/// the optimiser cannot turn it back into one); the one compare every simulator's auth uses.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}
