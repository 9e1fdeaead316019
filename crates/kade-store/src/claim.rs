//! Claiming due jobs: the one place where the two backends need different SQL.
//!
//! Rules (the same on both):
//! - Candidates are queued jobs due at `now` and running jobs whose lease expired (their worker
//!   died or stalled: crash recovery), in order of priority (high first), `run_at`, id.
//! - A job whose entity has another job running under a live lease is skipped, and a batch takes
//!   at most one job per entity: two jobs for one entity never run at once.
//! - An expired job that has already used all its attempts is not handed out again: it is moved
//!   to the dead letters, so a job that crashes its worker every time cannot loop forever.
//! - Each claim sets the lease and counts one attempt.
//!
//! SQLite: everything happens inside one `BEGIN IMMEDIATE` transaction on the single writer, so
//! no other claim can interleave. PostgreSQL: candidate rows are locked `FOR UPDATE SKIP LOCKED`
//! (concurrent claimers take different rows without waiting), and each chosen entity is taken
//! with a transaction-scoped advisory lock, then re-checked in a fresh statement: that closes the
//! race where two claimers pick different jobs of the same entity at the same moment.

use std::collections::HashSet;

use crate::records::Job;
use crate::{Store, StoreError};

/// Excludes jobs whose entity is held by another job under a live lease. `$1` is `now`.
macro_rules! entity_free {
    () => {
        " AND (j.entity_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs r WHERE r.state = 'running' \
         AND r.entity_key = j.entity_key AND r.lease_until_ms > $1)) "
    };
}

macro_rules! claim_order {
    () => {
        " ORDER BY j.priority DESC, j.run_at_ms, j.id LIMIT $2"
    };
}

const EXPIRED_SQLITE: &str = concat!(
    "SELECT ",
    job_cols!(),
    " FROM jobs j WHERE j.state = 'running' AND j.lease_until_ms <= $1",
    entity_free!(),
    claim_order!()
);
const DUE_SQLITE: &str = concat!(
    "SELECT ",
    job_cols!(),
    " FROM jobs j WHERE j.state = 'queued' AND j.run_at_ms <= $1",
    entity_free!(),
    claim_order!()
);
const EXPIRED_PG: &str = concat!(
    "SELECT ",
    job_cols!(),
    " FROM jobs j WHERE j.state = 'running' AND j.lease_until_ms <= $1",
    entity_free!(),
    claim_order!(),
    " FOR UPDATE OF j SKIP LOCKED"
);
const DUE_PG: &str = concat!(
    "SELECT ",
    job_cols!(),
    " FROM jobs j WHERE j.state = 'queued' AND j.run_at_ms <= $1",
    entity_free!(),
    claim_order!(),
    " FOR UPDATE OF j SKIP LOCKED"
);
const TAKE_SQLITE: &str = concat!(
    "UPDATE jobs SET state = 'running', locked_by = $2, lease_until_ms = $3, attempts = attempts + 1, updated_ms = $4 \
     WHERE id = $1 RETURNING ",
    job_cols!()
);
const TAKE_PG: &str = concat!(
    "UPDATE jobs SET state = 'running', locked_by = $2, lease_until_ms = $3, attempts = attempts + 1, updated_ms = $4 \
     WHERE id = ANY($1) RETURNING ",
    job_cols!()
);
const BURY_SQLITE: &str = "UPDATE jobs SET state = 'dead', lease_until_ms = NULL, updated_ms = $2, \
     last_error = COALESCE(last_error || '; ', '') || 'lease expired on the last attempt (worker crashed or stalled)' \
     WHERE id = $1";
const BURY_PG: &str = "UPDATE jobs SET state = 'dead', lease_until_ms = NULL, updated_ms = $2, \
     last_error = COALESCE(last_error || '; ', '') || 'lease expired on the last attempt (worker crashed or stalled)' \
     WHERE id = ANY($1)";
/// Advisory-lock namespace for entity claims ("KADE" in ASCII), so Kade's locks cannot collide
/// with other users of advisory locks in the same database.
const LOCK_ENTITIES_PG: &str =
    "SELECT k FROM unnest($1::text[]) AS k WHERE pg_try_advisory_xact_lock(1262568517, hashtext(k))";
const BUSY_ENTITIES_PG: &str = "SELECT DISTINCT entity_key FROM jobs \
     WHERE state = 'running' AND entity_key = ANY($1) AND lease_until_ms > $2";

/// What to do with the candidates: jobs to bury (out of attempts) and jobs to take, in order.
#[derive(Debug, Default, PartialEq)]
struct Plan {
    bury: Vec<i64>,
    take: Vec<Job>,
}

/// Merges both candidate lists into claim order and applies the per-batch rules.
fn plan(mut candidates: Vec<Job>, limit: usize) -> Plan {
    candidates.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.run_at_ms.cmp(&b.run_at_ms)).then(a.id.cmp(&b.id)));
    let mut plan = Plan::default();
    let mut entities = HashSet::new();
    for job in candidates {
        if job.state == "running" && job.attempts >= job.max_attempts {
            plan.bury.push(job.id);
        } else if plan.take.len() < limit && job.entity_key.as_ref().is_none_or(|e| entities.insert(e.clone())) {
            plan.take.push(job);
        }
    }
    plan
}

/// Candidates fetched per query: some headroom over `limit`, since per-entity and
/// out-of-attempts filtering happen after the fetch.
fn fetch_size(limit: i64) -> i64 {
    limit.saturating_mul(2).saturating_add(4)
}

impl Store {
    /// Claims up to `limit` jobs for `worker` with a lease until `now_ms + lease_ms`. See the
    /// module documentation for the rules.
    pub async fn claim(&self, worker: &str, limit: i64, lease_ms: i64, now_ms: i64) -> Result<Vec<Job>, StoreError> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let until = now_ms.saturating_add(lease_ms);
        let limit_n = usize::try_from(limit).unwrap_or(usize::MAX);
        let fetch = fetch_size(limit);
        match self {
            Store::Sqlite(s) => {
                let mut tx = s.writer.begin_with("BEGIN IMMEDIATE").await?;
                let mut candidates = Vec::new();
                for sql in [EXPIRED_SQLITE, DUE_SQLITE] {
                    let rows = sqlx::query(sql).bind(now_ms).bind(fetch).fetch_all(&mut *tx).await?;
                    for row in &rows {
                        candidates.push(crate::decode::job(row)?);
                    }
                }
                let plan = plan(candidates, limit_n);
                for id in &plan.bury {
                    sqlx::query(BURY_SQLITE).bind(id).bind(now_ms).execute(&mut *tx).await?;
                }
                let mut taken = Vec::with_capacity(plan.take.len());
                for job in &plan.take {
                    let row = sqlx::query(TAKE_SQLITE)
                        .bind(job.id)
                        .bind(worker)
                        .bind(until)
                        .bind(now_ms)
                        .fetch_one(&mut *tx)
                        .await?;
                    taken.push(crate::decode::job(&row)?);
                }
                tx.commit().await?;
                log_claim(worker, &taken, &plan.bury);
                Ok(taken)
            }
            Store::Postgres(p) => {
                let mut tx = p.pool.begin().await?;
                let mut candidates = Vec::new();
                for sql in [EXPIRED_PG, DUE_PG] {
                    let rows = sqlx::query(sql).bind(now_ms).bind(fetch).fetch_all(&mut *tx).await?;
                    for row in &rows {
                        candidates.push(crate::decode::job(row)?);
                    }
                }
                let mut plan = plan(candidates, limit_n);
                let wanted: Vec<String> = plan.take.iter().filter_map(|j| j.entity_key.clone()).collect();
                if !wanted.is_empty() {
                    // Lock first, then look again with a new snapshot: a claimer that committed
                    // before we got the lock is visible to this second statement.
                    let locked: HashSet<String> = sqlx::query_scalar(LOCK_ENTITIES_PG)
                        .bind(&wanted)
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .collect();
                    let busy: HashSet<String> = sqlx::query_scalar(BUSY_ENTITIES_PG)
                        .bind(&wanted)
                        .bind(now_ms)
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .collect();
                    plan.take.retain(|j| j.entity_key.as_ref().is_none_or(|e| locked.contains(e) && !busy.contains(e)));
                }
                if !plan.bury.is_empty() {
                    sqlx::query(BURY_PG).bind(&plan.bury).bind(now_ms).execute(&mut *tx).await?;
                }
                let mut taken = Vec::with_capacity(plan.take.len());
                if !plan.take.is_empty() {
                    let ids: Vec<i64> = plan.take.iter().map(|j| j.id).collect();
                    let rows = sqlx::query(TAKE_PG)
                        .bind(&ids)
                        .bind(worker)
                        .bind(until)
                        .bind(now_ms)
                        .fetch_all(&mut *tx)
                        .await?;
                    for row in &rows {
                        taken.push(crate::decode::job(row)?);
                    }
                    taken.sort_by_key(|j| ids.iter().position(|id| *id == j.id));
                }
                tx.commit().await?;
                log_claim(worker, &taken, &plan.bury);
                Ok(taken)
            }
        }
    }
}

fn log_claim(worker: &str, taken: &[Job], buried: &[i64]) {
    if !buried.is_empty() {
        tracing::warn!(worker, jobs = ?buried, "jobs dead after their last lease expired");
    }
    if !taken.is_empty() {
        tracing::debug!(worker, count = taken.len(), "claimed jobs");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: i64, entity: Option<&str>, priority: i32, run_at_ms: i64, state: &str, attempts: i32) -> Job {
        Job {
            id,
            kind: "k".into(),
            entity_key: entity.map(Into::into),
            payload: serde_json::Value::Null,
            priority,
            attempts,
            max_attempts: 3,
            run_at_ms,
            state: state.into(),
            last_error: None,
            locked_by: None,
            lease_until_ms: None,
            created_ms: 0,
            updated_ms: 0,
        }
    }

    #[test]
    fn plan_orders_dedupes_entities_and_buries_exhausted_leases() {
        let candidates = vec![
            job(1, Some("e1"), 0, 10, "queued", 0),
            job(2, Some("e1"), 5, 20, "queued", 0),
            job(3, None, 0, 5, "queued", 0),
            job(4, Some("e2"), 0, 1, "running", 3),
            job(5, Some("e2"), 0, 2, "running", 1),
            job(6, None, 0, 30, "queued", 0),
        ];
        let plan = plan(candidates, 3);
        assert_eq!(plan.bury, vec![4]);
        let ids: Vec<i64> = plan.take.iter().map(|j| j.id).collect();
        assert_eq!(ids, vec![2, 5, 3], "priority first, then run_at; one job per entity; limit 3");
    }
}
