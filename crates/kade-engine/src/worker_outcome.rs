//! What a worker writes when a job attempt ends: the completion with its effect entry and the
//! processed mark on its events (one transaction, under the lease), or the reschedule / dead
//! letter with a log entry. Either entry lists the partner calls the attempt made.

use kade_core::backoff;
use kade_store::{AuditEntry, EventScope, Finished, Job, JobOutcome};

use super::Engine;
use crate::jobs::JobError;
use crate::now_ms;

impl Engine {
    pub(super) async fn record(
        &self,
        job: &Job,
        result: Result<Option<AuditEntry>, JobError>,
        calls: &[kade_calls::Call],
        took: std::time::Duration,
    ) {
        let connection = job.payload.get("connection").and_then(|c| c.as_str()).map(str::to_string);
        let outcome = match result {
            Ok(effect) => self.finish(job, effect, connection, calls).await,
            Err(error) => self.fail(job, &error, connection, calls).await,
        };
        self.inner.metrics.job_attempt(&job.kind, outcome, took);
    }

    /// Records a failed attempt: a dead letter for a permanent error, otherwise a reschedule with
    /// backoff (or a dead letter once attempts run out), plus a log line in the audit.
    async fn fail(
        &self,
        job: &Job,
        error: &JobError,
        connection: Option<String>,
        calls: &[kade_calls::Call],
    ) -> &'static str {
        let (store, worker) = (&self.inner.store, &self.inner.cfg.worker_id);
        let outcome = match error {
            JobError::Permanent(_) => store.fail_permanently(job.id, worker, &error.to_string()).await.map(|_| "dead"),
            e => {
                let attempt = u32::try_from(job.attempts.max(1) - 1).unwrap_or(0);
                let cfg = &self.inner.cfg;
                let delay =
                    backoff::delay(attempt, cfg.backoff_base, cfg.backoff_cap, fastrand::f64()).max(e.min_delay());
                store
                    .retry_later(job.id, worker, &e.to_string(), self.now_ms() + delay.as_millis() as i64)
                    .await
                    .map(|o| if matches!(o, JobOutcome::Dead) { "dead" } else { "retry" })
            }
        };
        let outcome = outcome.unwrap_or_else(|e| {
            tracing::error!(job = job.id, error = %e, "could not record the job outcome; its lease will expire");
            "unrecorded"
        });
        // A failed attempt's entry is a log line, not an effect: a crash may lose or repeat it.
        let mut entry = AuditEntry {
            at_ms: now_ms(),
            connection,
            entity: job.entity_key.clone(),
            action: format!("job {outcome}"),
            detail: serde_json::json!({
                "job": job.id, "kind": job.kind, "attempt": job.attempts, "outcome": outcome,
                "error": error.to_string(),
            }),
        };
        crate::calls::add_to(&mut entry.detail, calls);
        if let Err(e) = store.audit(&entry).await {
            tracing::warn!(error = %e, "audit write failed");
        }
        outcome
    }

    /// Commits a successful job: its completion, its effect entry (the handler's, or a plain
    /// "job done" line) and the processed mark on its events, together, under the lease.
    async fn finish(
        &self,
        job: &Job,
        effect: Option<AuditEntry>,
        connection: Option<String>,
        calls: &[kade_calls::Call],
    ) -> &'static str {
        let mut effect = effect.unwrap_or_else(|| AuditEntry {
            at_ms: now_ms(),
            connection,
            entity: job.entity_key.clone(),
            action: "job done".into(),
            detail: serde_json::json!({}),
        });
        crate::calls::add_to(&mut effect.detail, calls);
        if let Some(detail) = effect.detail.as_object_mut() {
            detail.insert("job".into(), job.id.into());
            detail.insert("kind".into(), job.kind.clone().into());
            detail.insert("attempt".into(), job.attempts.into());
        }
        match self.inner.store.finish_job(job.id, &self.inner.cfg.worker_id, &event_scope(job), &effect).await {
            Ok(Finished::Done { .. }) => "done",
            Ok(Finished::LeaseLost) => {
                tracing::warn!(job = job.id, "lease lost before the job finished; its work is left to the new owner");
                "lease_lost"
            }
            Err(e) => {
                tracing::error!(job = job.id, error = %e, "could not record the job outcome; its lease will expire");
                "unrecorded"
            }
        }
    }
}

/// The inbox events a successful job accounts for. A product refresh re-reads the product, so
/// it covers every earlier event of that product (coalesced into it, or left by a job it
/// superseded); any other job covers the event in its payload.
fn event_scope(job: &Job) -> EventScope {
    let Some(event) = job.payload.get("event_id").and_then(|v| v.as_i64()) else {
        return EventScope::None;
    };
    match (job.kind.as_str(), &job.entity_key) {
        (crate::picqer::PRODUCT_REFRESH_KIND, Some(entity)) => {
            EventScope::EntityUpTo { entity_key: entity.clone(), up_to: event }
        }
        _ => EventScope::One(event),
    }
}
