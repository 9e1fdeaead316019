//! The WhatsApp Business Cloud API simulator (Meta Graph API, messages endpoint).
//!
//! `POST /{version}/{phone-number-id}/messages` with a bearer token, validated the way the Cloud
//! API validates: OAuth errors (190), unknown phone-number id (100), body shape (100), E.164
//! recipients, templates (exists in that language and approved: 132001; paused/disabled:
//! 132015/132016; body parameter count: 132000; parameter format: 132012), the 24-hour
//! customer-service window (free text outside it is accepted, then fails asynchronously with
//! 131047 — or synchronously, as a configurable stricter reading), numbers not on WhatsApp
//! (accepted, then failed 131026) and an optional pair rate limit (131056). Accepted messages get
//! status webhooks (`sent` then `delivered`, or `failed`) in the Cloud API's envelope, signed with
//! `X-Hub-Signature-256` over the raw body with the app secret. `/_sim/...` controls it.
//!
//! An independent reading of Meta's documentation: shares no types with `kade-messaging`.

pub mod api;
pub mod control;
pub mod hooks;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::callbacks::{CallbackDelivery, CallbackMode, Poster};
use crate::clock::SimClock;
use crate::picqer::faults::Faults;
use crate::picqer::journal::{Journal, JournalEntry};
use crate::picqer::server::lock;

pub const DEFAULT_ACCESS_TOKEN: &str = "EAAG-kade-sim-whatsapp-token";
pub const DEFAULT_APP_SECRET: &str = "kade-sim-whatsapp-app-secret";
pub const DEFAULT_PHONE_NUMBER_ID: &str = "106540352242922";
pub const DEFAULT_WABA_ID: &str = "102290129340398";
/// The customer-service window: 24 hours after the customer's last message.
pub const WINDOW_MS: i64 = 24 * 3600 * 1000;

/// A message template as registered in WhatsApp Manager.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct SimTemplate {
    pub name: String,
    /// Language code, e.g. `nl`, `en_US`.
    pub language: String,
    /// APPROVED, PENDING, REJECTED, PAUSED or DISABLED.
    #[serde(default = "approved")]
    pub status: String,
    /// Number of `{{n}}` variables in the body.
    pub body_params: usize,
}

fn approved() -> String {
    "APPROVED".into()
}

/// What happens to free text sent outside the 24-hour window.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WindowMode {
    /// Accepted (200 + wamid), then a `failed` status with 131047 — what the Cloud API usually does.
    #[default]
    Async,
    /// Refused at once with 131047.
    Sync,
}

#[derive(Clone, Debug)]
pub struct WhatsAppSimConfig {
    pub access_token: String,
    pub app_secret: String,
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_phone_number: String,
    pub templates: Vec<SimTemplate>,
    pub window_mode: WindowMode,
    /// Where status webhooks go (also settable through `/_sim/callbacks`).
    pub callback_url: Option<String>,
    /// Minimum simulated milliseconds between two messages to one user (131056); off when `None`.
    pub pair_rate_ms: Option<i64>,
    /// Real milliseconds between accepting a message and each status webhook.
    pub status_delay_ms: u64,
    pub clock: SimClock,
}

/// Templates every simulator starts with (Kade's example rules use them).
pub fn default_templates() -> Vec<SimTemplate> {
    let t = |name: &str, language: &str, body_params: usize| SimTemplate {
        name: name.into(),
        language: language.into(),
        status: approved(),
        body_params,
    };
    vec![
        t("order_shipped", "nl", 3),
        t("order_shipped", "en", 3),
        t("review_request", "nl", 2),
        t("review_request", "en", 2),
        t("return_received", "nl", 2),
        t("return_received", "en", 2),
        SimTemplate { status: "PENDING".into(), ..t("new_pending_template", "nl", 1) },
        SimTemplate { status: "PAUSED".into(), ..t("paused_template", "nl", 1) },
    ]
}

impl Default for WhatsAppSimConfig {
    fn default() -> Self {
        WhatsAppSimConfig {
            access_token: DEFAULT_ACCESS_TOKEN.into(),
            app_secret: DEFAULT_APP_SECRET.into(),
            phone_number_id: DEFAULT_PHONE_NUMBER_ID.into(),
            waba_id: DEFAULT_WABA_ID.into(),
            display_phone_number: "31201234567".into(),
            templates: default_templates(),
            window_mode: WindowMode::Async,
            callback_url: None,
            pair_rate_ms: None,
            status_delay_ms: 10,
            clock: SimClock::real(),
        }
    }
}

/// One accepted message, as listed by `GET /_sim/messages`.
#[derive(Clone, Debug, Serialize)]
pub struct WaMessage {
    pub id: String,
    /// Digits only, as `wa_id`.
    pub to: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub text: Option<String>,
    pub template: Option<String>,
    pub language: Option<String>,
    pub params: Vec<String>,
    pub biz_opaque_callback_data: Option<String>,
    /// The latest status: accepted, sent, delivered, read, failed.
    pub status: String,
    pub error_code: Option<u64>,
    pub statuses: Vec<String>,
    pub created_ms: i64,
}

pub struct WaState {
    pub templates: Vec<SimTemplate>,
    /// digits → last inbound customer message (simulated ms).
    pub inbound: BTreeMap<String, i64>,
    pub undeliverable: BTreeSet<String>,
    pub messages: Vec<WaMessage>,
    pub callback_url: Option<String>,
    pub last_sent_to: BTreeMap<String, i64>,
    pub window_mode: WindowMode,
    pub pair_rate_ms: Option<i64>,
    pub callback_mode: CallbackMode,
    pub next_id: u64,
}

pub struct WaSim {
    pub config: WhatsAppSimConfig,
    pub state: Mutex<WaState>,
    pub clock: SimClock,
    pub faults: Mutex<Faults>,
    pub journal: Mutex<Journal>,
    pub poster: Poster,
}

pub type AppState = Arc<WaSim>;

/// Binds `listen` (port 0 picks one) and serves; returns at once.
pub async fn start(config: WhatsAppSimConfig, listen: SocketAddr) -> std::io::Result<RunningWhatsAppSim> {
    let tcp = TcpListener::bind(listen).await?;
    let addr = tcp.local_addr()?;
    let root_url = crate::picqer::listener::loopback_url(addr);
    let state = WaState {
        templates: config.templates.clone(),
        inbound: BTreeMap::new(),
        undeliverable: BTreeSet::new(),
        messages: Vec::new(),
        callback_url: config.callback_url.clone(),
        last_sent_to: BTreeMap::new(),
        window_mode: config.window_mode,
        pair_rate_ms: config.pair_rate_ms,
        callback_mode: CallbackMode::Normal,
        next_id: 0,
    };
    let sim = Arc::new(WaSim {
        clock: config.clock.clone(),
        config,
        state: Mutex::new(state),
        faults: Mutex::new(Faults::default()),
        journal: Mutex::new(Journal::default()),
        poster: Poster::start(),
    });
    let app = axum::Router::new().nest("/_sim", control::router()).fallback(api::handle).with_state(sim.clone());
    let (stop_tx, task) = crate::picqer::listener::serve(tcp, app, "whatsapp");
    Ok(RunningWhatsAppSim { addr, root_url, sim, stop: Some(stop_tx), task })
}

/// A running simulator; dropping it stops the server.
pub struct RunningWhatsAppSim {
    addr: SocketAddr,
    root_url: String,
    sim: Arc<WaSim>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningWhatsAppSim {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn root_url(&self) -> String {
        self.root_url.clone()
    }
    /// `http://127.0.0.1:PORT/v21.0`, the Graph base a client is configured with.
    pub fn base_url(&self) -> String {
        format!("{}/v21.0", self.root_url)
    }
    pub fn config(&self) -> &WhatsAppSimConfig {
        &self.sim.config
    }
    pub fn messages(&self) -> Vec<WaMessage> {
        lock(&self.sim.state).messages.clone()
    }
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.sim.journal).entries()
    }
    /// Records a message from the customer (opens the 24-hour window) and, when a callback URL
    /// is set, delivers the inbound-message webhook.
    pub fn customer_message(&self, from: &str, text: &str) -> Result<(), String> {
        hooks::inbound(&self.sim, from, text)
    }
    pub fn set_callback_url(&self, url: Option<String>) {
        lock(&self.sim.state).callback_url = url;
    }
    pub fn add_template(&self, t: SimTemplate) {
        control::upsert_template(&mut lock(&self.sim.state), t);
    }
    pub fn mark_undeliverable(&self, number: &str) {
        lock(&self.sim.state).undeliverable.insert(api::digits(number));
    }
    /// Duplicate or reorder the status webhooks of the next messages.
    pub fn set_callback_mode(&self, mode: CallbackMode) {
        lock(&self.sim.state).callback_mode = mode;
    }
    pub fn set_window_mode(&self, mode: WindowMode) {
        lock(&self.sim.state).window_mode = mode;
    }
    /// Adds a fault rule (same shape as `POST /_sim/faults`).
    pub fn add_fault(&self, spec: crate::picqer::faults::FaultSpec) -> Result<(), String> {
        lock(&self.sim.faults).add(spec).map(|_| ()).map_err(|e| e.message)
    }
    /// Pushes a status for a message (e.g. `read`, or `failed` with a code) as a webhook.
    pub fn push_status(&self, id: &str, status: &str, error_code: Option<u64>) -> Result<(), String> {
        hooks::push_status(&self.sim, id, status, error_code, 0)
    }
    pub fn callbacks(&self) -> Vec<CallbackDelivery> {
        self.sim.poster.deliveries()
    }
    /// Waits until every queued status webhook was attempted.
    pub async fn drain_callbacks(&self, within: std::time::Duration) -> bool {
        self.sim.poster.drain(within).await
    }
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
        drop(self.stop.take());
    }
}
