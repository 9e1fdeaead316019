#![forbid(unsafe_code)]
//! Kade's runtime.
//!
//! Everything Kade does is a job in the store's durable queue (principle 3): processing an inbound
//! webhook, a catalogue sync, the hook supervisor's round. Workers claim jobs with a lease, so a
//! crash leaves nothing half-owned: the lease expires and another worker (or the restarted one)
//! takes the job again. Handlers are written to be safe to run twice.

pub mod automation;
pub mod calls;
pub mod connector;
pub mod http;
pub mod ingest;
pub mod jobs;
pub mod metrics;
pub mod picqer;
pub mod scheduler;
pub mod worker;

pub use connector::{Connector, Registry};
pub use jobs::{JobError, JobSpec, Priority};
/// The one HTTP machinery every partner client uses (docs/design.md, "One partner transport").
pub use kade_transport as transport;
pub use metrics::Metrics;
pub use worker::{Engine, EngineConfig};

/// Milliseconds since the Unix epoch (the store's time unit); one copy, in `kade-calls`.
pub use kade_calls::now_ms;

/// An effect entry for `connection`, stamped now, to be returned to the worker (which commits it
/// with the job's completion) rather than written on the spot. Every connection kind uses it.
pub fn effect_entry(
    connection: &str,
    entity: Option<String>,
    action: &str,
    detail: serde_json::Value,
) -> kade_store::AuditEntry {
    kade_store::AuditEntry {
        at_ms: now_ms(),
        connection: Some(connection.to_string()),
        entity,
        action: action.to_string(),
        detail,
    }
}
