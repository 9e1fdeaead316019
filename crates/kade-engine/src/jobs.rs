//! Typed jobs and how a failed job is classified.
//!
//! A job is stored as a kind (`"prestashop.order"`) and a JSON payload, but nobody outside this
//! module touches either: every job is a Rust value of a type implementing [`JobSpec`], an
//! adjacently tagged serde enum whose variant names *are* the stored kinds. The entity key (which
//! serialises and coalesces work on one entity) and the priority lane come from the value, so no
//! call site writes them by hand, and a payload is read back as a whole with its types checked
//! once ([`decode`]) instead of field by field.
//!
//! Upgrades: the stored shape is the serde shape of the value, so a field added to a variant must
//! be `#[serde(default)]` (a job queued by the previous release lacks it) and a renamed kind keeps
//! its old name as a serde `alias`. `upgrade_tests` and the hub's `old_jobs` test hold every kind
//! to the payloads the previous release wrote.

use std::time::Duration;

use kade_store::{Job, NewJob, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The lane a job waits in: higher runs first when several are due (principle 5: orders before
/// bulk syncs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Catalogue syncs, full stock syncs, polls: large and patient.
    Bulk,
    /// Messages to customers: due at a time of their own, never urgent to the second.
    Message,
    /// Single-entity work after an event (a stock change, a Picqer event).
    Event,
    /// An order or its status: a customer is waiting for it.
    Order,
}

impl Priority {
    /// The number the store sorts by.
    pub fn value(self) -> i32 {
        match self {
            Priority::Bulk => 0,
            Priority::Message => 5,
            Priority::Event => 10,
            Priority::Order => 20,
        }
    }
}

/// A job type: one connector's (or the core's) jobs, as an adjacently tagged enum
/// (`#[serde(tag = "kind", content = "payload")]`) whose variants are renamed to their stored
/// kinds, namespaced by the connector (`prestashop.order`). The worker routes a stored job to the
/// connector owning its namespace, which [`decode`]s it into this type.
pub trait JobSpec: Serialize + DeserializeOwned + Send + Sync {
    /// Jobs of one entity run one at a time, and a queued job of the same kind and entity takes
    /// a new one in (coalescing). `None`: independent.
    fn entity_key(&self) -> Option<String>;
    /// Its lane.
    fn priority(&self) -> Priority;
    /// A key that makes a second enqueue of the same job a no-op, even after the first ran.
    fn dedupe_key(&self) -> Option<String> {
        None
    }
}

/// Why a typed job could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("a job of this type did not serialise as {{\"kind\", \"payload\"}}")]
    Shape,
    #[error("job {id} ({kind}): the payload does not fit the job type: {source}")]
    Payload {
        id: i64,
        kind: String,
        #[source]
        source: serde_json::Error,
    },
}

/// The stored form of `job`, due at `run_at_ms`.
pub fn encode<J: JobSpec>(job: &J, run_at_ms: i64, max_attempts: i32) -> Result<NewJob, CodecError> {
    let serde_json::Value::Object(mut tagged) = serde_json::to_value(job).map_err(|_| CodecError::Shape)? else {
        return Err(CodecError::Shape);
    };
    let Some(serde_json::Value::String(kind)) = tagged.remove("kind") else {
        return Err(CodecError::Shape);
    };
    let payload = tagged.remove("payload").unwrap_or_else(|| serde_json::json!({}));
    Ok(NewJob {
        kind,
        entity_key: job.entity_key(),
        payload,
        run_at_ms,
        max_attempts,
        dedupe_key: job.dedupe_key(),
        priority: job.priority().value(),
    })
}

/// Reads a stored job back as its type. Fields the type does not know (such as the `event_id`
/// the store adds) are ignored.
pub fn decode<J: JobSpec>(job: &Job) -> Result<J, CodecError> {
    let tagged = serde_json::json!({"kind": job.kind, "payload": job.payload});
    serde_json::from_value(tagged).map_err(|source| CodecError::Payload { id: job.id, kind: job.kind.clone(), source })
}

/// The namespace of a stored kind: `prestashop` for `prestashop.order`.
pub fn namespace(kind: &str) -> &str {
    kind.split_once('.').map_or(kind, |(ns, _)| ns)
}

/// Why a job did not finish. The worker turns this into a reschedule or a dead letter. Each
/// variant keeps the error that caused it, so the log and the dead-letter list show the whole
/// chain (the partner's answer, the database's complaint), not a flattened string.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying with backoff (partner 5xx, timeout, database hiccup).
    #[error("{0}")]
    Transient(Cause),
    /// The partner's budget is spent: retry when it has refilled.
    #[error("rate limited: {0}")]
    RateLimited(Cause),
    /// Retrying will not help (bad data, unknown object, missing connection).
    #[error("{0}")]
    Permanent(Cause),
}

/// What went wrong: a message of Kade's own, or a source error kept whole.
#[derive(Debug)]
pub enum Cause {
    Message(String),
    Source(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Message(m) => f.write_str(m),
            Cause::Source(e) => {
                write!(f, "{e}")?;
                let mut next = e.source();
                while let Some(inner) = next {
                    write!(f, ": {inner}")?;
                    next = inner.source();
                }
                Ok(())
            }
        }
    }
}

impl JobError {
    /// A transient failure described in Kade's words.
    pub fn transient(msg: impl Into<String>) -> Self {
        JobError::Transient(Cause::Message(msg.into()))
    }

    /// A permanent failure described in Kade's words.
    pub fn permanent(msg: impl Into<String>) -> Self {
        JobError::Permanent(Cause::Message(msg.into()))
    }

    /// A partner's error, classified by the partner's own classification.
    pub fn from_partner<E>(class: kade_picqer::ErrorClass, e: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let cause = Cause::Source(Box::new(e));
        match class {
            kade_picqer::ErrorClass::Transient => JobError::Transient(cause),
            kade_picqer::ErrorClass::RateLimited => JobError::RateLimited(cause),
            kade_picqer::ErrorClass::Permanent => JobError::Permanent(cause),
        }
    }

    /// The least delay before the next attempt for this kind of failure.
    pub fn min_delay(&self) -> Duration {
        match self {
            JobError::RateLimited(_) => Duration::from_secs(20),
            _ => Duration::ZERO,
        }
    }

    /// The error this failure kept, if any (for callers that look for a partner's answer).
    pub fn source_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            JobError::Transient(Cause::Source(e))
            | JobError::RateLimited(Cause::Source(e))
            | JobError::Permanent(Cause::Source(e)) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<kade_picqer::PicqerError> for JobError {
    fn from(e: kade_picqer::PicqerError) -> Self {
        JobError::from_partner(e.class(), e)
    }
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Transient(Cause::Source(Box::new(e)))
    }
}

impl From<CodecError> for JobError {
    fn from(e: CodecError) -> Self {
        JobError::Permanent(Cause::Source(Box::new(e)))
    }
}

#[cfg(test)]
#[path = "jobs_tests.rs"]
mod upgrade_tests;
