//! Finishing a job exactly once: the job's completion, the processed mark on the inbox events it
//! accounts for, and its effect record (an audit entry) commit in ONE transaction, and only while
//! the finishing worker still holds the lease.
//!
//! Why: a worker can die (or stall past its lease) at any instant between running a handler and
//! recording that it ran. Partner-side effects are made idempotent (principle 4), so running a
//! handler twice is harmless; what must not happen twice is the record that it *counted* — the
//! effect entry on the timeline, the "processed" mark an operator or a flow relies on. Tying them to
//! the lease-checked completion makes that a property of the schema, not of careful handlers:
//! a crashed attempt commits nothing, a re-run commits once, a worker that lost its lease commits
//! nothing, and an event already marked is never marked (or counted) again.

use std::collections::BTreeMap;

use sqlx::types::Json;

use crate::backend::now_ms;
use crate::records::AuditEntry;
use crate::{Store, StoreError};

/// The key under which [`Store::finish_job`] lists, in the effect entry's detail, the inbox
/// events that entry accounts for. Written by the store, so no handler can forge or forget it.
pub const PROCESSED_EVENTS_KEY: &str = "processed_events";

/// Which inbox events a successful job accounts for. Events attached to the job itself
/// (`inbox.job_id`) are always included, whatever the scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventScope {
    /// Only the events attached to the job (scheduled work usually has none).
    None,
    /// One event (the payload's `event_id`): a job that acts on that event alone.
    One(i64),
    /// Every unprocessed event of `entity_key` with an id up to `up_to`: a job that re-reads the
    /// entity's current state covers all the events that announced earlier changes of it
    /// (principle 2), including those of jobs closed as superseded by it.
    EntityUpTo { entity_key: String, up_to: i64 },
}

/// Result of [`Store::finish_job`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finished {
    /// Committed: the job is done, these events were marked processed by it (ascending ids;
    /// possibly none, when earlier work already covered them), and the effect entry was written.
    Done { events: Vec<i64> },
    /// This worker no longer holds the job: nothing was written.
    LeaseLost,
}

/// Marks the scope's unprocessed events. `$1` now, `$2` the effect's audit id, `$3` the job id.
const MARK_ATTACHED: &str = "UPDATE inbox SET processed_ms = $1, effect_id = $2 \
     WHERE processed_ms IS NULL AND job_id = $3 RETURNING id";
/// As [`MARK_ATTACHED`], plus `$4` the event id.
const MARK_ONE: &str = "UPDATE inbox SET processed_ms = $1, effect_id = $2 \
     WHERE processed_ms IS NULL AND (job_id = $3 OR id = $4) RETURNING id";
/// As [`MARK_ATTACHED`], plus `$4` the entity key and `$5` the highest event id covered.
const MARK_ENTITY: &str = "UPDATE inbox SET processed_ms = $1, effect_id = $2 \
     WHERE processed_ms IS NULL AND (job_id = $3 OR (entity_key = $4 AND id <= $5)) RETURNING id";

impl Store {
    /// Completes job `id` for `worker` in one transaction: (a) checks the job is still running
    /// under this worker's lease — if not, commits nothing and answers [`Finished::LeaseLost`];
    /// (b) marks it done; (c) marks the events in `scope` processed, only those not processed
    /// yet; (d) appends `effect` to the audit log, its detail extended with
    /// [`PROCESSED_EVENTS_KEY`] listing the events marked, and links each marked event to it.
    pub async fn finish_job(
        &self,
        id: i64,
        worker: &str,
        scope: &EventScope,
        effect: &AuditEntry,
    ) -> Result<Finished, StoreError> {
        let now = now_ms();
        Ok(transaction!(self, |tx| {
            // The lease check and the state change are one statement: on PostgreSQL it takes the
            // row lock, so a concurrent claim of an expired lease is ordered before or after us.
            let held = sqlx::query(
                "UPDATE jobs SET state = 'done', lease_until_ms = NULL, updated_ms = $3 \
                 WHERE id = $1 AND state = 'running' AND locked_by = $2",
            )
            .bind(id)
            .bind(worker)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if held != 1 {
                Finished::LeaseLost
            } else {
                let audit_id: i64 = sqlx::query_scalar(
                    "INSERT INTO audit (at_ms, connection, entity, action, detail) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(effect.at_ms)
                .bind(&effect.connection)
                .bind(&effect.entity)
                .bind(&effect.action)
                .bind(Json(&effect.detail))
                .fetch_one(&mut *tx)
                .await?;
                let mark = match scope {
                    EventScope::None => sqlx::query_scalar(MARK_ATTACHED).bind(now).bind(audit_id).bind(id),
                    EventScope::One(event) => {
                        sqlx::query_scalar(MARK_ONE).bind(now).bind(audit_id).bind(id).bind(*event)
                    }
                    EventScope::EntityUpTo { entity_key, up_to } => sqlx::query_scalar(MARK_ENTITY)
                        .bind(now)
                        .bind(audit_id)
                        .bind(id)
                        .bind(entity_key.as_str())
                        .bind(*up_to),
                };
                let mut events: Vec<i64> = mark.fetch_all(&mut *tx).await?;
                events.sort_unstable();
                let mut detail = match &effect.detail {
                    serde_json::Value::Object(map) => map.clone(),
                    serde_json::Value::Null => serde_json::Map::new(),
                    other => serde_json::Map::from_iter([("detail".to_string(), other.clone())]),
                };
                detail.insert(PROCESSED_EVENTS_KEY.into(), events.clone().into());
                sqlx::query("UPDATE audit SET detail = $2 WHERE id = $1")
                    .bind(audit_id)
                    .bind(Json(serde_json::Value::Object(detail)))
                    .execute(&mut *tx)
                    .await?;
                Finished::Done { events }
            }
        }))
    }

    /// Inbox events no finished job has accounted for yet (queued, running, retrying or dead).
    pub async fn count_unprocessed_events(&self) -> Result<i64, StoreError> {
        Ok(reader!(self, |db| sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE processed_ms IS NULL")
            .fetch_one(db)
            .await?))
    }

    /// For every inbox event named in some effect entry, how many effect entries name it. Read
    /// from the audit log itself, independently of the processed marks, so it catches a doubled
    /// effect whatever produced it; exactly-once means every value is 1. A full scan of the
    /// audit log: for verification (crash tests, audits), not for request paths.
    pub async fn effects_per_event(&self) -> Result<BTreeMap<i64, i64>, StoreError> {
        let details: Vec<Json<serde_json::Value>> =
            reader!(self, |db| sqlx::query_scalar("SELECT detail FROM audit").fetch_all(db).await?);
        let mut counts = BTreeMap::new();
        for Json(detail) in details {
            let Some(events) = detail.get(PROCESSED_EVENTS_KEY).and_then(|v| v.as_array()) else { continue };
            for id in events.iter().filter_map(|v| v.as_i64()) {
                *counts.entry(id).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    /// Expires every live lease not held by `worker`, so the next claim takes those jobs over at
    /// once instead of after the lease runs out. Only sound when no other process works on this
    /// database — true of SQLite, which Kade runs single-process by design — and meant for start
    /// up, when every such lease belongs to a process that died. Even if misused, nothing doubles:
    /// a worker whose job is taken over loses its lease, and [`Store::finish_job`] then commits
    /// nothing. Returns how many jobs were released.
    pub async fn expire_foreign_leases(&self, worker: &str, now_ms: i64) -> Result<u64, StoreError> {
        Ok(writer!(self, |db| sqlx::query(
            "UPDATE jobs SET lease_until_ms = $2, updated_ms = $2 \
             WHERE state = 'running' AND locked_by <> $1 AND lease_until_ms > $2",
        )
        .bind(worker)
        .bind(now_ms)
        .execute(db)
        .await?
        .rows_affected()))
    }
}
