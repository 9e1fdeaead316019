//! The Twilio Programmable Messaging simulator (REST API 2010-04-01, Messages resource).
//!
//! `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (form-encoded, Basic auth
//! `AccountSid:AuthToken`) validated as Twilio does — 20003 (auth), 21604/21211 (To missing or
//! not E.164), 21603/21606 (From), 21602/21617 (Body), 21610 (recipient replied STOP), 21408
//! (region not enabled), 21609 (StatusCallback) — answering 201 with the message resource.
//! `GET .../Messages.json` lists newest first with `To`, `From`, `DateSent`, `DateSent<`,
//! `DateSent>` filters and paging; `GET .../Messages/{sid}.json` fetches one. Accepted messages
//! move queued → sent → delivered (or undelivered/failed with a 300xx code) and each change is
//! POSTed to the message's StatusCallback, signed with `X-Twilio-Signature` (base64 HMAC-SHA1 of
//! the callback URL followed by the sorted form parameters, keyed with the auth token).
//!
//! An independent reading of Twilio's documentation: shares no types with `kade-messaging`.

pub mod api;
pub mod control;
pub mod hooks;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::callbacks::{CallbackDelivery, CallbackMode, Poster};
use crate::clock::SimClock;
use crate::picqer::faults::Faults;
use crate::picqer::journal::{Journal, JournalEntry};
use crate::picqer::server::lock;

pub const DEFAULT_ACCOUNT_SID: &str = "AC00000000000000000000000000005eed";
pub const DEFAULT_AUTH_TOKEN: &str = "kade-sim-twilio-auth-token";
pub const DEFAULT_FROM: &str = "+3197010250000";

#[derive(Clone, Debug)]
pub struct TwilioSimConfig {
    pub account_sid: String,
    pub auth_token: String,
    /// Numbers the account owns (valid `From` values); alphanumeric sender ids are also accepted.
    pub from_numbers: Vec<String>,
    /// `To` prefixes for which SMS is not enabled (21408), e.g. `+7`.
    pub disabled_prefixes: Vec<String>,
    /// Real milliseconds between acceptance and each status change.
    pub status_delay_ms: u64,
    pub clock: SimClock,
}

impl Default for TwilioSimConfig {
    fn default() -> Self {
        TwilioSimConfig {
            account_sid: DEFAULT_ACCOUNT_SID.into(),
            auth_token: DEFAULT_AUTH_TOKEN.into(),
            from_numbers: vec![DEFAULT_FROM.into()],
            disabled_prefixes: Vec::new(),
            status_delay_ms: 10,
            clock: SimClock::real(),
        }
    }
}

/// A message as the account stores it.
#[derive(Clone, Debug, Serialize)]
pub struct SmsMessage {
    pub sid: String,
    pub to: String,
    pub from: String,
    pub body: String,
    pub status: String,
    pub error_code: Option<u32>,
    pub status_callback: Option<String>,
    pub created_ms: i64,
    pub sent_ms: Option<i64>,
    pub updated_ms: i64,
    pub num_segments: u32,
    pub messaging_service_sid: Option<String>,
}

pub struct TwState {
    pub messages: Vec<SmsMessage>,
    /// Numbers that replied STOP.
    pub opted_out: BTreeSet<String>,
    /// Number → (final status, error code) for messages that will not arrive.
    pub unreachable: BTreeMap<String, (String, u32)>,
    pub disabled_prefixes: Vec<String>,
    pub callback_mode: CallbackMode,
    pub next_id: u64,
}

pub struct TwSim {
    pub config: TwilioSimConfig,
    pub state: Mutex<TwState>,
    pub clock: SimClock,
    pub faults: Mutex<Faults>,
    pub journal: Mutex<Journal>,
    pub poster: Poster,
}

pub type AppState = Arc<TwSim>;

pub async fn start(config: TwilioSimConfig, listen: SocketAddr) -> std::io::Result<RunningTwilioSim> {
    let tcp = TcpListener::bind(listen).await?;
    let addr = tcp.local_addr()?;
    let root_url = crate::picqer::listener::loopback_url(addr);
    let state = TwState {
        messages: Vec::new(),
        opted_out: BTreeSet::new(),
        unreachable: BTreeMap::new(),
        disabled_prefixes: config.disabled_prefixes.clone(),
        callback_mode: CallbackMode::Normal,
        next_id: 0,
    };
    let sim = Arc::new(TwSim {
        clock: config.clock.clone(),
        config,
        state: Mutex::new(state),
        faults: Mutex::new(Faults::default()),
        journal: Mutex::new(Journal::default()),
        poster: Poster::start(),
    });
    let app = axum::Router::new().nest("/_sim", control::router()).fallback(api::handle).with_state(sim.clone());
    let (stop_tx, task) = crate::picqer::listener::serve(tcp, app, "twilio");
    Ok(RunningTwilioSim { addr, root_url, sim, stop: Some(stop_tx), task })
}

/// A running simulator; dropping it stops the server.
pub struct RunningTwilioSim {
    addr: SocketAddr,
    root_url: String,
    sim: Arc<TwSim>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningTwilioSim {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:PORT`, the API base a client is configured with.
    pub fn base_url(&self) -> String {
        self.root_url.clone()
    }
    pub fn config(&self) -> &TwilioSimConfig {
        &self.sim.config
    }
    pub fn messages(&self) -> Vec<SmsMessage> {
        lock(&self.sim.state).messages.clone()
    }
    pub fn journal(&self) -> Vec<JournalEntry> {
        lock(&self.sim.journal).entries()
    }
    /// The recipient replied STOP: further sends answer 21610.
    pub fn opt_out(&self, number: &str) {
        lock(&self.sim.state).opted_out.insert(number.trim().to_owned());
    }
    /// Messages to `number` end `status` (undelivered or failed) with `code` (e.g. 30003).
    pub fn set_unreachable(&self, number: &str, status: &str, code: u32) {
        lock(&self.sim.state).unreachable.insert(number.trim().to_owned(), (status.to_owned(), code));
    }
    /// Duplicate or reorder the status callbacks of the next messages.
    pub fn set_callback_mode(&self, mode: CallbackMode) {
        lock(&self.sim.state).callback_mode = mode;
    }
    pub fn add_fault(&self, spec: crate::picqer::faults::FaultSpec) -> Result<(), String> {
        lock(&self.sim.faults).add(spec).map(|_| ()).map_err(|e| e.message)
    }
    pub fn callbacks(&self) -> Vec<CallbackDelivery> {
        self.sim.poster.deliveries()
    }
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

/// `Wed, 01 May 2024 10:00:00 +0000`, Twilio's date format.
pub fn rfc2822(unix_ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = unix_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = ymd(days);
    format!(
        "{}, {d:02} {} {y} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    )
}

/// Civil date of a day number (days since 1970-01-01).
pub fn ymd(days: i64) -> (i64, u32, u32) {
    crate::clock::civil_from_days(days)
}

/// `YYYY-MM-DD` of a Unix time in ms (the form of Twilio's `DateSent` filters).
pub fn day_of(unix_ms: i64) -> String {
    let (y, m, d) = ymd(unix_ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}
