//! Picqer hooks: the registry behind `/api/v1/hooks` and the delivery engine that POSTs events.
//!
//! What Picqer documents (reference §7) and how the simulator reads it:
//! - One hook covers exactly one event; a hook is deactivated, never deleted.
//! - Deliveries are `POST`s of a JSON envelope `{idhook, name, event, event_triggered_at, data}`,
//!   signed with `X-Picqer-Signature = base64(HMAC-SHA256(secret, raw body))` only when the hook
//!   has a secret.
//! - The receiver must answer 200, 201 or 202 within 10 s; anything else is a failed attempt.
//!   A failed delivery is retried 15 times over roughly 17 hours; the exact schedule is unknown,
//!   so [`HookPolicy::default`] uses a guess and tests can shrink it.
//! - After 5 complete failures within 24 hours the hook is deactivated. "Complete failure" is read
//!   as "the first attempt and every retry failed" (unverified).
//!
//! Design: the registry and the delivery queue sit behind one std `Mutex` that is only held for
//! short, non-blocking sections, so [`Hooks::emit`] can be called from request handlers that hold
//! their own locks. One background task (see [`Hooks::start`]) takes due deliveries off the queue
//! in emission order and runs each attempt as its own task, at most [`MAX_IN_FLIGHT`] at a time
//! and at most one per hook. One per hook keeps every receiver's view in emission order unless a
//! fault says otherwise, which makes tests deterministic; the global cap keeps one slow receiver
//! from stalling the other hooks. Waiting for a retry sleeps on the [`SimClock`], so a manual
//! clock compresses the schedule.
//!
//! Layout: `events` is the wire format (event names, envelope, signature), `queue` the state behind
//! the lock and its bookkeeping, `delivery` the dispatcher, the HTTP attempt and the client.

mod delivery;
mod events;
mod queue;

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;

use self::events::Envelope;
pub use self::events::{EVENTS, is_known_event, sign};
use self::queue::{Entry, Job, Shared};
use crate::clock::{SimClock, format_datetime};

/// The `User-Agent` of every delivery. Picqer's real value was not captured; this one says plainly
/// that the request comes from the simulator.
pub const USER_AGENT: &str = "Picqer Webhooks (kade-sim)";

/// The signature header, sent only when the hook has a secret.
pub const SIGNATURE_HEADER: &str = "X-Picqer-Signature";

/// At most this many attempts run at once, across all hooks.
pub const MAX_IN_FLIGHT: usize = 8;

/// The delivery log keeps the most recent attempts only, so a long-running simulator stays bounded.
pub const DELIVERY_LOG_CAPACITY: usize = 10_000;

/// Delivery rules. Defaults follow Picqer's documentation: answer within 10 s, 15 retries over
/// roughly 17 hours, deactivation after 5 complete failures within 24 hours.
#[derive(Clone, Debug)]
pub struct HookPolicy {
    /// Per-attempt timeout, measured in real time (it bounds a socket, not the simulation).
    pub timeout: Duration,
    /// Delay before each retry after the first attempt, in simulated time.
    pub retry_schedule: Vec<Duration>,
    /// Complete failures (every retry failed) that deactivate a hook ...
    /// (0 disables auto-deactivation.)
    pub deactivate_after: u32,
    /// ... when they fall within this window of simulated time.
    pub failure_window: Duration,
}

impl HookPolicy {
    /// The default retry delays, in minutes. Picqer only says "15 retries over roughly 17 hours";
    /// this is a guess that doubles from one minute and then grows more slowly, so early retries
    /// catch a receiver that blipped and late ones span a night of downtime:
    /// 1, 2, 4, 8, 15, 30, 45, 60, 60, 90, 90, 120, 120, 180, 180 → 1005 min = 16 h 45 min in total.
    pub const DEFAULT_RETRY_MINUTES: [u64; 15] = [1, 2, 4, 8, 15, 30, 45, 60, 60, 90, 90, 120, 120, 180, 180];
}

impl Default for HookPolicy {
    fn default() -> Self {
        HookPolicy {
            timeout: Duration::from_secs(10),
            retry_schedule: Self::DEFAULT_RETRY_MINUTES.iter().map(|m| Duration::from_secs(m * 60)).collect(),
            deactivate_after: 5,
            failure_window: Duration::from_secs(24 * 3600),
        }
    }
}

/// A hook as the API shows it. The secret itself is never serialised; `secret` says whether one is set.
#[derive(Clone, Debug, Serialize)]
pub struct Hook {
    pub idhook: u64,
    pub name: String,
    pub event: String,
    pub address: String,
    pub active: bool,
    pub secret: bool,
    #[serde(skip)]
    pub secret_value: Option<String>,
}

/// Why a hook could not be created.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("missing parameter: {0}")]
    Missing(&'static str),
    #[error("unknown event: {0}")]
    UnknownEvent(String),
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    #[error("hook not found: {0}")]
    NotFound(u64),
}

/// Webhook-level faults: make the network hostile on purpose.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct HookFaults {
    /// Deliver every event twice.
    #[serde(default)]
    pub duplicate: bool,
    /// Hold events back and deliver them in reverse order of emission, `reorder_window` at a time.
    #[serde(default)]
    pub reorder_window: u32,
}

/// One delivery attempt, for the `/_sim/hooks/deliveries` log.
#[derive(Clone, Debug, Serialize)]
pub struct DeliveryRecord {
    pub iddelivery: u64,
    pub idhook: u64,
    pub event: String,
    pub attempt: u32,
    /// HTTP status, or `None` for a timeout / connection error.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub at: String,
    pub ok: bool,
}

/// The registry and delivery engine. Cheap to clone; all clones share state.
#[derive(Clone)]
pub struct Hooks {
    shared: Arc<Shared>,
}

impl Hooks {
    /// Creates the registry; call [`Hooks::start`] inside a tokio runtime to begin delivering.
    pub fn new(clock: SimClock, policy: HookPolicy) -> Self {
        Hooks { shared: Arc::new(Shared::new(clock, policy)) }
    }

    /// Spawns the delivery task.
    ///
    /// Must be called inside a tokio runtime (it uses `tokio::spawn`). Calling it again is a no-op;
    /// events emitted before `start` wait in the queue.
    ///
    /// The HTTP client is built here. reqwest is built without a bundled TLS provider, so this
    /// installs ring as the process's rustls `CryptoProvider` unless one is installed already (the
    /// `kade` binary installs the same one at startup). Should the client still fail to build, that
    /// is logged and every attempt fails with the reason in [`Hooks::deliveries`].
    pub fn start(&self) {
        {
            let mut st = self.shared.lock();
            if st.started {
                return;
            }
            st.started = true;
        }
        let weak = Arc::downgrade(&self.shared);
        let signals = self.shared.signals.clone();
        let clock = self.shared.clock.clone();
        tokio::spawn(delivery::dispatch_loop(weak, signals, clock, delivery::build_client()));
    }

    /// `POST /hooks`. Validation follows Picqer: `name`, `event` and `address` are required, the
    /// event must be a documented one, and the address an http(s) URL.
    ///
    /// An empty secret counts as no secret (nothing to sign with). The address+event pair is not
    /// required to be unique: that rule is reported by one client only and unverified.
    pub fn create(&self, name: &str, event: &str, address: &str, secret: Option<String>) -> Result<Hook, HookError> {
        let (name, event, address) = (name.trim(), event.trim(), address.trim());
        if name.is_empty() {
            return Err(HookError::Missing("name"));
        }
        if event.is_empty() {
            return Err(HookError::Missing("event"));
        }
        if address.is_empty() {
            return Err(HookError::Missing("address"));
        }
        if !is_known_event(event) {
            return Err(HookError::UnknownEvent(event.to_owned()));
        }
        if !is_http_url(address) {
            return Err(HookError::InvalidAddress(address.to_owned()));
        }
        let secret = secret.filter(|s| !s.is_empty());
        let mut st = self.shared.lock();
        let idhook = st.next_idhook;
        st.next_idhook += 1;
        let hook = Hook {
            idhook,
            name: name.to_owned(),
            event: event.to_owned(),
            address: address.to_owned(),
            active: true,
            secret: secret.is_some(),
            secret_value: secret,
        };
        st.hooks.insert(idhook, Entry { hook: hook.clone(), epoch: 0, failures: VecDeque::new() });
        Ok(hook)
    }

    /// Every hook, active or not, ordered by id.
    pub fn list(&self) -> Vec<Hook> {
        let st = self.shared.lock();
        st.hooks.values().map(|e| e.hook.clone()).collect()
    }

    pub fn get(&self, idhook: u64) -> Option<Hook> {
        self.shared.lock().hooks.get(&idhook).map(|e| e.hook.clone())
    }

    /// `DELETE /hooks/{id}`: deactivates, keeps the hook listed with `active:false`.
    ///
    /// Pending deliveries and retries for the hook are dropped; an attempt already on the wire
    /// finishes but is not retried.
    pub fn deactivate(&self, idhook: u64) -> Option<Hook> {
        let hook = self.shared.lock().deactivate_entry(idhook);
        if hook.is_some() {
            self.shared.signals.idle.notify_waiters();
        }
        hook
    }

    /// `POST /hooks/{id}/reactivate`; also resets the failure count.
    ///
    /// Deliveries dropped at deactivation stay dropped: Picqer does not replay missed events.
    pub fn reactivate(&self, idhook: u64) -> Option<Hook> {
        let mut st = self.shared.lock();
        let entry = st.hooks.get_mut(&idhook)?;
        entry.hook.active = true;
        entry.failures.clear();
        Some(entry.hook.clone())
    }

    /// Emits `event` with the full resource as `data` to every active hook for that event.
    ///
    /// Synchronous and non-blocking (two short lock sections, no I/O), so request handlers can call
    /// it while holding their own locks. Each hook's envelope is serialised once; every attempt and
    /// duplicate sends those same bytes.
    pub fn emit(&self, event: &str, data: serde_json::Value) {
        if !is_known_event(event) {
            tracing::warn!(event, "emitting an event Picqer does not document");
        }
        let now = self.shared.clock.now_ms();
        let triggered_at = format_datetime(now);
        let targets: Vec<(u64, u64, String)> = {
            let st = self.shared.lock();
            st.hooks
                .values()
                .filter(|e| e.hook.active && e.hook.event == event)
                .map(|e| (e.hook.idhook, e.epoch, e.hook.name.clone()))
                .collect()
        };
        if targets.is_empty() {
            return;
        }
        // Serialise outside the lock: `data` can be a large resource.
        let jobs: Vec<Job> = targets
            .into_iter()
            .filter_map(|(idhook, epoch, name)| {
                let envelope = Envelope { idhook, name: &name, event, event_triggered_at: &triggered_at, data: &data };
                match serde_json::to_vec(&envelope) {
                    Ok(body) => {
                        Some(Job { idhook, epoch, event: event.to_owned(), body: Bytes::from(body), attempt: 1 })
                    }
                    Err(err) => {
                        tracing::error!(%err, idhook, "cannot serialise webhook envelope");
                        None
                    }
                }
            })
            .collect();
        {
            let mut st = self.shared.lock();
            for job in jobs {
                st.enqueue_new(job, now);
            }
        }
        self.shared.signals.wake.notify_one();
    }

    /// Delivers exactly `body` through hook `idhook`, signed as Picqer would (replaying recorded payloads).
    ///
    /// Only active hooks deliver, as with [`Hooks::emit`]: an unknown *or inactive* hook gives
    /// [`HookError::NotFound`]. The delivery goes through the same retries and faults as an
    /// emitted event, and is logged under the hook's event name.
    pub fn deliver_raw(&self, idhook: u64, body: Vec<u8>) -> Result<(), HookError> {
        let now = self.shared.clock.now_ms();
        {
            let mut st = self.shared.lock();
            let Some(entry) = st.hooks.get(&idhook).filter(|e| e.hook.active) else {
                return Err(HookError::NotFound(idhook));
            };
            let job = Job {
                idhook,
                epoch: entry.epoch,
                event: entry.hook.event.clone(),
                body: Bytes::from(body),
                attempt: 1,
            };
            st.enqueue_new(job, now);
        }
        self.shared.signals.wake.notify_one();
        Ok(())
    }

    /// Replaces the faults. Lowering the reorder window below what is held releases the held
    /// deliveries at once (newest first).
    pub fn set_faults(&self, faults: HookFaults) {
        let now = self.shared.clock.now_ms();
        {
            let mut st = self.shared.lock();
            let window = faults.reorder_window as usize;
            st.faults = faults;
            if window <= 1 || st.held.len() >= window {
                st.flush_held(now);
            }
        }
        self.shared.signals.wake.notify_one();
    }

    pub fn faults(&self) -> HookFaults {
        self.shared.lock().faults.clone()
    }

    /// The most recent attempts (up to [`DELIVERY_LOG_CAPACITY`]), oldest first.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.shared.lock().log.iter().cloned().collect()
    }

    /// Waits until no delivery is due at the current simulated time (nothing in flight).
    ///
    /// Deliveries held back by the reorder fault are released first (newest first), so they count
    /// as due. Retries scheduled in the simulated future do not keep `settle` waiting: advance the
    /// clock and settle again. Returns at once (with a warning) if [`Hooks::start`] was never
    /// called, since nothing would ever deliver.
    pub async fn settle(&self) {
        let signals = &self.shared.signals;
        loop {
            // Register for the wake-up before looking, so a completion between the look and the
            // wait is not missed.
            let mut idle = pin!(signals.idle.notified());
            idle.as_mut().enable();
            {
                let mut st = self.shared.lock();
                if !st.started {
                    tracing::warn!("Hooks::settle called before Hooks::start; nothing is delivered");
                    return;
                }
                let now = self.shared.clock.now_ms();
                st.flush_held(now);
                if st.in_flight == 0 && !st.has_due(now) {
                    return;
                }
            }
            signals.wake.notify_one();
            idle.await;
        }
    }
}

/// Accepts `http://` and `https://` URLs with a host, which is what a receiver address must be.
fn is_http_url(address: &str) -> bool {
    reqwest::Url::parse(address)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty()))
}
