//! The durable job queue (principle 3): enqueue with coalescing and dedupe keys, the lease
//! lifecycle after a claim (see `claim.rs`), dead letters and replay.
//!
//! Every lifecycle call names the worker and only acts while that worker still holds the job
//! (`state = 'running' AND locked_by = worker`). A worker whose lease expired and whose job was
//! taken over learns it from the `false` / [`JobOutcome::LeaseLost`] answer and must drop the work.
//! Worker names must therefore be unique per claiming loop (e.g. "host:pid:n").

use std::collections::BTreeMap;

use crate::backend::now_ms;
use crate::records::{Job, JobOutcome, NewJob, job_state};
use crate::{Store, StoreError};

/// The text of [`MERGE_QUEUED`], as a macro so that `concat!` can build [`ENQUEUE_SQL`] from it.
macro_rules! merge_queued {
    () => {
        " ON CONFLICT (kind, entity_key) WHERE state = 'queued' AND entity_key IS NOT NULL DO UPDATE SET \
         payload = excluded.payload, \
         run_at_ms = CASE WHEN excluded.run_at_ms < jobs.run_at_ms THEN excluded.run_at_ms ELSE jobs.run_at_ms END, \
         priority = CASE WHEN excluded.priority > jobs.priority THEN excluded.priority ELSE jobs.priority END, \
         dedupe_key = COALESCE(jobs.dedupe_key, excluded.dedupe_key), \
         updated_ms = excluded.updated_ms"
    };
}

/// Inserts a queued job, or merges it into the queued job of the same (kind, entity): earliest
/// `run_at`, highest priority, newest payload, first dedupe key. Binds kind, entity, payload,
/// priority, max_attempts, run_at, dedupe key, now; returns the job's id. The SQLite ingest
/// writer applies the same rule in two steps (`sqlite_writer.rs`); the inbox equivalence test
/// holds the two to the same result.
pub(crate) const ENQUEUE_SQL: &str = concat!(
    "INSERT INTO jobs (kind, entity_key, payload, state, priority, attempts, max_attempts, run_at_ms, \
     dedupe_key, created_ms, updated_ms) VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6, $7, $8, $8)",
    merge_queued!(),
    " RETURNING id"
);

/// The upsert's merge into the queued job of the same (kind, entity), for the one-row and the
/// multi-row (`inbox/plan.rs`) inserts alike.
pub(crate) const MERGE_QUEUED: &str = merge_queued!();

/// Inserts `$job` on the executor `$conn` (a transaction), coalescing into a queued job of the
/// same kind and entity, and yields its id. A macro rather than a function so that the one body
/// serves both backends' connection types. Must run inside a transaction: the dedupe lookup and
/// the insert belong together.
///
/// Coalescing keeps the earliest `run_at`, the highest priority and the newest payload, so a
/// burst of events for one entity becomes one job that sees the latest state. The partial unique
/// index `jobs_coalesce` makes this a single atomic upsert on both backends.
macro_rules! enqueue_on {
    ($conn:ident, $job:expr, $now:expr) => {{
        let job: &$crate::records::NewJob = $job;
        let existing: Option<i64> = match &job.dedupe_key {
            Some(key) => {
                sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe_key = $1")
                    .bind(key)
                    .fetch_optional(&mut *$conn)
                    .await?
            }
            None => None,
        };
        match existing {
            Some(id) => id,
            None => {
                let id: i64 = sqlx::query_scalar($crate::jobs::ENQUEUE_SQL)
                    .bind(&job.kind)
                    .bind(&job.entity_key)
                    .bind(sqlx::types::Json(&job.payload))
                    .bind(job.priority)
                    .bind(job.max_attempts)
                    .bind(job.run_at_ms)
                    .bind(&job.dedupe_key)
                    .bind($now)
                    .fetch_one(&mut *$conn)
                    .await?;
                id
            }
        }
    }};
}

/// The fields of a job that decide how it may leave the `running` state.
struct Held {
    kind: String,
    entity_key: Option<String>,
    attempts: i32,
    max_attempts: i32,
}

fn check_state(state: &str) -> Result<(), StoreError> {
    if job_state::ALL.contains(&state) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!("unknown job state {state:?}; expected one of {:?}", job_state::ALL)))
    }
}

impl Store {
    /// Adds a job (see [`NewJob`] for coalescing and dedupe keys) and returns its id, or the id of
    /// the job it was merged into.
    pub async fn enqueue(&self, job: &NewJob) -> Result<i64, StoreError> {
        retry_on_conflict!(self.enqueue_once(job).await)
    }

    async fn enqueue_once(&self, job: &NewJob) -> Result<i64, StoreError> {
        let now = now_ms();
        Ok(transaction!(self, |tx| enqueue_on!(tx, job, now)))
    }

    /// Pushes the lease of a running job forward (heartbeat). False if the worker lost it.
    pub async fn extend_lease(&self, id: i64, worker: &str, until_ms: i64) -> Result<bool, StoreError> {
        let done = writer!(self, |db| {
            sqlx::query(
                "UPDATE jobs SET lease_until_ms = $3, updated_ms = $4 \
             WHERE id = $1 AND state = 'running' AND locked_by = $2",
            )
            .bind(id)
            .bind(worker)
            .bind(until_ms)
            .bind(now_ms())
            .execute(db)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Marks a job done. False if the lease was lost (another worker took the job over): the
    /// caller must then not assume its work was the one that counted.
    pub async fn complete(&self, id: i64, worker: &str) -> Result<bool, StoreError> {
        let done = writer!(self, |db| sqlx::query(
            "UPDATE jobs SET state = 'done', lease_until_ms = NULL, updated_ms = $3 \
             WHERE id = $1 AND state = 'running' AND locked_by = $2",
        )
        .bind(id)
        .bind(worker)
        .bind(now_ms())
        .execute(db)
        .await?
        .rows_affected());
        Ok(done == 1)
    }

    /// Ends a failed attempt: rescheduled at `run_at_ms` (the caller computes backoff and jitter,
    /// honouring Retry-After), or dead when out of attempts. When a newer queued job for the same
    /// kind and entity exists, that one will redo the work, so this one is closed as superseded
    /// and the newer one is held back to `run_at_ms` so the backoff still applies.
    pub async fn retry_later(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        run_at_ms: i64,
    ) -> Result<JobOutcome, StoreError> {
        retry_on_conflict!(self.retry_later_once(id, worker, error, run_at_ms).await)
    }

    async fn retry_later_once(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        run_at_ms: i64,
    ) -> Result<JobOutcome, StoreError> {
        let now = now_ms();
        Ok(transaction!(self, |tx| {
            let held = sqlx::query_as::<_, (String, Option<String>, i32, i32)>(
                "SELECT kind, entity_key, attempts, max_attempts FROM jobs \
                     WHERE id = $1 AND state = 'running' AND locked_by = $2",
            )
            .bind(id)
            .bind(worker)
            .fetch_optional(&mut *tx)
            .await?
            .map(|(kind, entity_key, attempts, max_attempts)| Held {
                kind,
                entity_key,
                attempts,
                max_attempts,
            });
            let sibling: Option<i64> = match &held {
                Some(Held { kind, entity_key: Some(entity), .. }) => {
                    sqlx::query_scalar("SELECT id FROM jobs WHERE kind = $1 AND entity_key = $2 AND state = 'queued'")
                        .bind(kind)
                        .bind(entity)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                _ => None,
            };
            let (state, outcome, message) = match (&held, sibling) {
                (None, _) => (job_state::RUNNING, JobOutcome::LeaseLost, String::new()),
                (Some(h), _) if h.attempts >= h.max_attempts => (job_state::DEAD, JobOutcome::Dead, error.to_string()),
                (Some(_), Some(by)) => {
                    (job_state::DONE, JobOutcome::Superseded { by }, format!("superseded by job {by} after: {error}"))
                }
                (Some(_), None) => (job_state::QUEUED, JobOutcome::Rescheduled { run_at_ms }, error.to_string()),
            };
            if outcome != JobOutcome::LeaseLost {
                let changed = sqlx::query(
                    "UPDATE jobs SET state = $3, last_error = $4, run_at_ms = $5, lease_until_ms = NULL, \
                         updated_ms = $6 \
                         WHERE id = $1 AND state = 'running' AND locked_by = $2",
                )
                .bind(id)
                .bind(worker)
                .bind(state)
                .bind(&message)
                .bind(run_at_ms)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed != 1 {
                    return Ok(JobOutcome::LeaseLost);
                }
            }
            if let JobOutcome::Superseded { by } = outcome {
                sqlx::query(
                    "UPDATE jobs SET run_at_ms = CASE WHEN run_at_ms < $2 THEN $2 ELSE run_at_ms END, updated_ms = $3 \
                         WHERE id = $1",
                )
                .bind(by)
                .bind(run_at_ms)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            outcome
        }))
    }

    /// Moves a running job straight to the dead letters (a permanent error: bad payload, 4xx
    /// that retrying cannot fix). False if the lease was lost.
    pub async fn fail_permanently(&self, id: i64, worker: &str, error: &str) -> Result<bool, StoreError> {
        let done = writer!(self, |db| sqlx::query(
            "UPDATE jobs SET state = 'dead', last_error = $3, lease_until_ms = NULL, updated_ms = $4 \
             WHERE id = $1 AND state = 'running' AND locked_by = $2",
        )
        .bind(id)
        .bind(worker)
        .bind(error)
        .bind(now_ms())
        .execute(db)
        .await?
        .rows_affected());
        Ok(done == 1)
    }

    /// Puts a dead (or done) job back in the queue, due now, with a fresh attempt budget. If a
    /// queued job of the same kind and entity exists, the replay folds into it (it is made due
    /// now) and this job is marked done with a note, keeping "one queued job per entity". False
    /// when the job does not exist or is queued or running.
    pub async fn replay_job(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        retry_on_conflict!(self.replay_job_once(id, now_ms).await)
    }

    async fn replay_job_once(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        Ok(transaction!(self, |tx| {
            let found = sqlx::query_as::<_, (String, Option<String>, String)>(
                "SELECT kind, entity_key, state FROM jobs WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            match found {
                Some((_, _, state)) if state != job_state::DEAD && state != job_state::DONE => false,
                None => false,
                Some((kind, entity_key, _)) => {
                    let sibling: Option<i64> = match &entity_key {
                        Some(entity) => {
                            sqlx::query_scalar(
                                "SELECT id FROM jobs WHERE kind = $1 AND entity_key = $2 AND state = 'queued'",
                            )
                            .bind(&kind)
                            .bind(entity)
                            .fetch_optional(&mut *tx)
                            .await?
                        }
                        None => None,
                    };
                    if let Some(by) = sibling {
                        sqlx::query(
                            "UPDATE jobs SET run_at_ms = CASE WHEN run_at_ms > $2 THEN $2 ELSE run_at_ms END, \
                                 updated_ms = $2 WHERE id = $1",
                        )
                        .bind(by)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query("UPDATE jobs SET state = 'done', last_error = $2, updated_ms = $3 WHERE id = $1")
                            .bind(id)
                            .bind(format!("replayed as part of queued job {by}"))
                            .bind(now_ms)
                            .execute(&mut *tx)
                            .await?;
                    } else {
                        sqlx::query(
                            "UPDATE jobs SET state = 'queued', attempts = 0, run_at_ms = $2, lease_until_ms = NULL, \
                                 updated_ms = $2 WHERE id = $1",
                        )
                        .bind(id)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                    }
                    true
                }
            }
        }))
    }

    /// Jobs, newest first, optionally only those in one state.
    pub async fn jobs(&self, state: Option<&str>, limit: i64) -> Result<Vec<Job>, StoreError> {
        if let Some(state) = state {
            check_state(state)?;
        }
        reader!(self, |db| {
            let rows = match state {
                Some(state) => {
                    sqlx::query(concat!(
                        "SELECT ",
                        job_cols!(),
                        " FROM jobs WHERE state = $1 ORDER BY id DESC LIMIT $2"
                    ))
                    .bind(state)
                    .bind(limit)
                    .fetch_all(db)
                    .await?
                }
                None => {
                    sqlx::query(concat!("SELECT ", job_cols!(), " FROM jobs ORDER BY id DESC LIMIT $1"))
                        .bind(limit)
                        .fetch_all(db)
                        .await?
                }
            };
            Ok(rows.iter().map(crate::decode::job).collect::<Result<_, _>>()?)
        })
    }

    pub async fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        reader!(self, |db| {
            let row = sqlx::query(concat!("SELECT ", job_cols!(), " FROM jobs WHERE id = $1"))
                .bind(id)
                .fetch_optional(db)
                .await?;
            Ok(row.as_ref().map(crate::decode::job).transpose()?)
        })
    }

    /// Number of jobs per state; every state is present (zero if empty), which is what a metrics
    /// gauge wants.
    pub async fn queue_counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let rows: Vec<(String, i64)> =
            reader!(self, |db| sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetch_all(db).await?);
        let mut counts: BTreeMap<String, i64> = job_state::ALL.iter().map(|s| (s.to_string(), 0)).collect();
        counts.extend(rows);
        Ok(counts)
    }
}

/// A job's payload carrying the inbox event id, so the handler can load the raw event
/// (coalescing replaces the payload, so the merged job points at the newest event): a JSON
/// object gains `"event_id"`, anything else is kept as it is.
pub(crate) fn payload_with_event_id(payload: &serde_json::Value, event_id: i64) -> serde_json::Value {
    let mut payload = payload.clone();
    if let Some(obj) = payload.as_object_mut() {
        obj.insert("event_id".into(), event_id.into());
    }
    payload
}
