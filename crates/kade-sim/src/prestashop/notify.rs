//! The notification module a small shop would install: on a new order or a status change it POSTs
//! a signed JSON notice to Kade. The core webservice has no outbound webhooks, so the format is
//! Kade's own (documented in docs/simulators.md and docs/prestashop.md):
//!
//! `POST <url>` with body `{"event","delivery_id","id_shop","id_order","current_state",
//! "previous_state","date_upd"}` and header `X-Kade-Signature: sha256=<hex HMAC-SHA256 of the
//! exact body with the shared secret>`.
//!
//! Modes reproduce what such a module does on a bad day: `duplicate` (every notice twice),
//! `lost` (never sent), `out_of_order` (each notice held back until the next one has gone).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::world::Notice;
use crate::picqer::server::lock;

pub const SIGNATURE_HEADER: &str = "x-kade-signature";

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum NotifyMode {
    #[default]
    Normal,
    Duplicate,
    Lost,
    OutOfOrder,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct NotifyConfig {
    pub url: String,
    pub secret: String,
    #[serde(default)]
    pub mode: NotifyMode,
}

/// One notice and what became of it, as listed by `GET /_sim/notify/deliveries`.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub delivery_id: u64,
    pub event: String,
    pub id_order: u64,
    /// `sent` (with `status`), `failed`, `lost`, `held`, `unconfigured`.
    pub outcome: String,
    pub status: Option<u16>,
    pub attempts: u32,
}

struct Outgoing {
    delivery_id: u64,
    body: String,
}

#[derive(Default)]
struct State {
    config: Option<NotifyConfig>,
    held: Option<Outgoing>,
    deliveries: Vec<Delivery>,
    next_id: u64,
    in_flight: usize,
}

#[derive(Clone)]
pub struct Notifier {
    state: Arc<Mutex<State>>,
    tx: mpsc::UnboundedSender<Outgoing>,
}

pub fn sign(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, body);
    format!("sha256={}", hex::encode(tag))
}

impl Notifier {
    /// Starts the delivery task (one at a time, so the sending order is the queue order).
    pub fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(Mutex::new(State::default()));
        tokio::spawn(deliver_loop(state.clone(), rx));
        Notifier { state, tx }
    }

    pub fn configure(&self, config: Option<NotifyConfig>) {
        lock(&self.state).config = config;
    }

    pub fn config(&self) -> Option<NotifyConfig> {
        lock(&self.state).config.clone()
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.state).deliveries.clone()
    }

    /// Notices queued or being sent (tests wait for 0).
    pub fn in_flight(&self) -> usize {
        lock(&self.state).in_flight
    }

    pub fn send(&self, notice: Notice) {
        let mut st = lock(&self.state);
        st.next_id += 1;
        let delivery_id = st.next_id;
        let body = serde_json::json!({
            "event": notice.event,
            "delivery_id": delivery_id,
            "id_shop": 1,
            "id_order": notice.id_order,
            "current_state": notice.current_state,
            "previous_state": notice.previous_state,
            "date_upd": notice.date_upd,
        })
        .to_string();
        let mode = st.config.as_ref().map(|c| c.mode);
        let record = |outcome: &str| Delivery {
            delivery_id,
            event: notice.event.to_owned(),
            id_order: notice.id_order,
            outcome: outcome.to_owned(),
            status: None,
            attempts: 0,
        };
        let entry = match mode {
            None => record("unconfigured"),
            Some(NotifyMode::Lost) => record("lost"),
            Some(NotifyMode::OutOfOrder) if st.held.is_none() => {
                st.held = Some(Outgoing { delivery_id, body });
                record("held")
            }
            Some(mode) => {
                let copies = if mode == NotifyMode::Duplicate { 2 } else { 1 };
                for _ in 0..copies {
                    st.in_flight += 1;
                    let _ = self.tx.send(Outgoing { delivery_id, body: body.clone() });
                }
                if let Some(held) = st.held.take() {
                    st.in_flight += 1;
                    let _ = self.tx.send(held);
                }
                record("queued")
            }
        };
        st.deliveries.push(entry);
    }

    /// Sends a notice held back by `out_of_order` mode.
    pub fn flush(&self) {
        let mut st = lock(&self.state);
        if let Some(held) = st.held.take() {
            st.in_flight += 1;
            let _ = self.tx.send(held);
        }
    }
}

async fn deliver_loop(state: Arc<Mutex<State>>, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build();
    while let Some(out) = rx.recv().await {
        let config = lock(&state).config.clone();
        let mut result = (String::from("failed"), None, 0);
        if let (Some(config), Ok(client)) = (config, client.as_ref()) {
            // A module with an outbox retries a few times, then gives up until cron runs.
            for attempt in 1..=3u32 {
                let sent = client
                    .post(&config.url)
                    .header("content-type", "application/json")
                    .header(SIGNATURE_HEADER, sign(&config.secret, out.body.as_bytes()))
                    .body(out.body.clone())
                    .send()
                    .await;
                let status = sent.ok().map(|r| r.status().as_u16());
                result = (
                    if status.is_some_and(|s| (200..300).contains(&s)) { "sent" } else { "failed" }.into(),
                    status,
                    attempt,
                );
                if result.0 == "sent" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
        }
        let mut st = lock(&state);
        st.in_flight = st.in_flight.saturating_sub(1);
        if let Some(d) = st.deliveries.iter_mut().rev().find(|d| d.delivery_id == out.delivery_id) {
            d.outcome = result.0;
            d.status = result.1;
            d.attempts += result.2;
        }
    }
}
