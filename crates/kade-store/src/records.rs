//! The records the store reads and writes. Plain data: timestamps are unix milliseconds (i64) so
//! they mean the same on both backends, JSON travels as `serde_json::Value`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One configured account of a partner system (a Picqer subdomain, a shop...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    pub name: String,
    /// Partner type, e.g. "picqer".
    pub kind: String,
    /// Non-secret settings (subdomain, URLs, options).
    pub settings: Value,
    /// Credentials as a [`crate::SecretBox`] envelope; `None` once disconnected.
    pub secrets_enc: Option<String>,
    /// e.g. "connected", "disconnected".
    pub state: String,
    pub updated_ms: i64,
}

/// An inbound event as received (webhook delivery or poll diff), before any processing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InboundEvent {
    pub connection: String,
    /// Where it came from, e.g. "webhook" or "poll".
    pub source: String,
    /// Globally unique; a second event with the same key is a duplicate delivery.
    pub dedupe_key: String,
    /// Partner event name, e.g. "products.free_stock_changed".
    pub event: String,
    pub entity_key: Option<String>,
    pub headers: Value,
    /// The raw bytes, exactly as received, so signatures can be re-checked and events replayed.
    pub body: Vec<u8>,
    pub verified: bool,
    pub received_ms: i64,
}

/// An inbox row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub id: i64,
    pub connection: String,
    pub source: String,
    pub dedupe_key: String,
    pub event: String,
    pub entity_key: Option<String>,
    pub headers: Value,
    pub body: Vec<u8>,
    pub verified: bool,
    pub received_ms: i64,
    /// The job that processes this event (possibly one shared with other events by coalescing).
    pub job_id: Option<i64>,
}

/// Result of [`crate::Store::ingest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ingested {
    /// New event, committed together with its job.
    Accepted { event_id: i64, job_id: i64 },
    /// Seen before: nothing was written.
    Duplicate { event_id: i64 },
}

/// A job to enqueue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    pub kind: String,
    /// Serialisation and coalescing key, e.g. "picqer:product:123". Jobs with the same key never
    /// run at once, and a queued job absorbs later enqueues of the same kind and key.
    pub entity_key: Option<String>,
    pub payload: Value,
    pub run_at_ms: i64,
    pub max_attempts: i32,
    /// Optional unique key: enqueueing it again returns the existing job.
    pub dedupe_key: Option<String>,
    /// Higher runs first.
    pub priority: i32,
}

/// The job states.
pub mod job_state {
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const DONE: &str = "done";
    pub const DEAD: &str = "dead";
    pub const ALL: [&str; 4] = [QUEUED, RUNNING, DONE, DEAD];
}

/// A stored job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub entity_key: Option<String>,
    pub payload: Value,
    pub priority: i32,
    /// Claims so far, including the current one while running.
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at_ms: i64,
    /// One of [`job_state::ALL`].
    pub state: String,
    pub last_error: Option<String>,
    /// The current owner while running; the last one afterwards.
    pub locked_by: Option<String>,
    pub lease_until_ms: Option<i64>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// Result of [`crate::Store::retry_later`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobOutcome {
    /// Back in the queue, due at `run_at_ms`.
    Rescheduled { run_at_ms: i64 },
    /// Out of attempts: now a dead letter.
    Dead,
    /// A newer queued job for the same kind and entity already exists and will redo this work:
    /// this job was closed as done (its error kept) and the newer one delayed to the backoff time.
    Superseded { by: i64 },
    /// This worker no longer holds the lease; nothing was changed.
    LeaseLost,
}

/// One audit log line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub connection: Option<String>,
    /// The entity it concerns, e.g. "picqer:product:123", for per-entity timelines.
    pub entity: Option<String>,
    pub action: String,
    pub detail: Value,
}

/// A cross-system identity: (system, kind, id) on side A is known as (system, kind, id) on side B.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub a_system: String,
    pub a_kind: String,
    pub a_id: String,
    pub b_system: String,
    pub b_kind: String,
    pub b_id: String,
    /// State of the step that links them, e.g. "created", "synced".
    pub state: String,
    pub updated_ms: i64,
}

/// A mirrored Picqer product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MirrorProduct {
    pub idproduct: i64,
    pub productcode: String,
    pub name: String,
    pub barcode: Option<String>,
    pub active: bool,
    /// Monotonic version (Picqer `updated` as epoch seconds, or the event time): an older
    /// version never overwrites newer state.
    pub version: i64,
    /// The full product JSON as Picqer returned it.
    pub data: Value,
    /// Stock per warehouse; replaces the stored rows whenever the product is written.
    pub stock: Vec<MirrorStock>,
}

/// Stock of one product in one warehouse.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorStock {
    pub idwarehouse: i64,
    pub stock: i64,
    pub reserved: i64,
    pub freestock: i64,
}

/// Progress and cursor of one sync per connection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    pub connection: String,
    /// e.g. "catalogue_full", "catalogue_incremental".
    pub name: String,
    /// Where to resume, e.g. `{"offset":4000}` or `{"updated_after":"2026-..."}`.
    pub cursor: Value,
    /// "running", "done" or "failed".
    pub status: String,
    pub items: i64,
    pub last_run_ms: i64,
    pub last_error: Option<String>,
}

/// A webhook Kade installed at a partner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HookRecord {
    pub connection: String,
    pub idhook: i64,
    pub event: String,
    pub address: String,
    /// The signing secret as a [`crate::SecretBox`] envelope.
    pub secret_enc: String,
    pub active: bool,
    /// Time of the last event received through this hook; never moves backwards.
    pub last_event_ms: Option<i64>,
    pub updated_ms: i64,
}
