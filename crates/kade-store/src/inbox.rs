//! The inbox (principle 1): every inbound event is stored raw, de-duplicated, and committed in
//! the same transaction as the job that will process it, before the sender gets its 2xx. After
//! a crash, either both exist or neither does, so an acknowledged event is never lost and a
//! redelivered one is never processed twice.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::AssertSqlSafe;
use sqlx::types::Json;

use crate::backend::now_ms;
use crate::records::{InboundEvent, Ingested, NewJob, StoredEvent};
use crate::sqlite_writer::IngestBatch;
use crate::{Store, StoreError};

mod plan;

#[cfg(test)]
mod equivalence_tests;

/// Ingests the batch items at indices `$chunk` (first occurrences of their keys, at most
/// [`plan::CHUNK`]) on the transaction `$tx`, writing each item's result into `$slots`. A macro,
/// like `enqueue_on!`, so one body serves both backends' transaction types.
macro_rules! ingest_chunk {
    ($tx:ident, $style:expr, $items:expr, $chunk:expr, $now:expr, $slots:expr) => {{
        let style: plan::Style = $style;
        let items: &[(&InboundEvent, &NewJob)] = $items;
        let chunk: &[usize] = $chunk;
        // 1. The inbox rows; a key stored before returns nothing.
        let mut insert = sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(plan::insert_inbox_sql(style, chunk.len())));
        for &i in chunk {
            let ev = items[i].0;
            insert = insert
                .bind(&ev.connection)
                .bind(&ev.source)
                .bind(&ev.dedupe_key)
                .bind(&ev.event)
                .bind(&ev.entity_key)
                .bind(Json(&ev.headers))
                .bind(&ev.body)
                .bind(ev.verified)
                .bind(ev.received_ms);
        }
        let inserted: HashMap<String, i64> =
            insert.fetch_all(&mut *$tx).await?.into_iter().map(|(id, key)| (key, id)).collect();
        // 2. Duplicates of stored events: their first event's id.
        let seen: Vec<&str> =
            chunk.iter().map(|&i| items[i].0.dedupe_key.as_str()).filter(|k| !inserted.contains_key(*k)).collect();
        let mut stored: HashMap<String, i64> = HashMap::new();
        if !seen.is_empty() {
            let mut q = sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(plan::select_inbox_sql(style, seen.len())));
            for k in &seen {
                q = q.bind(*k);
            }
            stored.extend(q.fetch_all(&mut *$tx).await?.into_iter().map(|(id, key)| (key, id)));
        }
        // 3. The jobs of the accepted events, coalesced in memory, then one upsert.
        let mut accepted: Vec<(i64, &NewJob)> = Vec::with_capacity(inserted.len());
        for &i in chunk {
            let (ev, job) = items[i];
            $slots[i] = match (inserted.get(&ev.dedupe_key), stored.get(&ev.dedupe_key)) {
                (Some(&event_id), _) => {
                    accepted.push((event_id, job));
                    None
                }
                (None, Some(&event_id)) => Some(Ingested::Duplicate { event_id }),
                (None, None) => {
                    return Err(StoreError::Invalid(format!("inbox key {:?} neither stored nor found", ev.dedupe_key)));
                }
            };
        }
        let jobs: Vec<&NewJob> = accepted.iter().map(|&(_, j)| j).collect();
        let mut known: HashMap<String, i64> = HashMap::new();
        let keys = plan::job_dedupe_keys(&jobs);
        if !keys.is_empty() {
            let mut q = sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(plan::select_job_keys_sql(style, keys.len())));
            for k in &keys {
                q = q.bind(*k);
            }
            known.extend(q.fetch_all(&mut *$tx).await?.into_iter().map(|(id, key)| (key, id)));
        }
        let mut queued: HashMap<(String, String), Option<String>> = HashMap::new();
        if let Some((kinds, entities)) = plan::coalesce_lookup(&jobs) {
            let sql = plan::select_queued_sql(style, kinds.len(), entities.len());
            let mut q = sqlx::query_as::<_, (String, String, Option<String>)>(AssertSqlSafe(sql));
            for v in kinds.iter().chain(&entities) {
                q = q.bind(*v);
            }
            queued.extend(q.fetch_all(&mut *$tx).await?.into_iter().map(|(k, e, d)| ((k, e), d)));
        }
        let plan = plan::JobPlan::new(&accepted, &known, &queued);
        let mut returned = Vec::new();
        if !plan.groups.is_empty() {
            let sql = plan::upsert_jobs_sql(style, plan.groups.len());
            let mut q = sqlx::query_as::<_, (i64, String, Option<String>)>(AssertSqlSafe(sql));
            for g in &plan.groups {
                q = q
                    .bind(&g.kind)
                    .bind(&g.entity_key)
                    .bind(Json(&g.payload))
                    .bind(g.priority)
                    .bind(g.max_attempts)
                    .bind(g.run_at_ms)
                    .bind(&g.dedupe_key)
                    .bind($now)
                    .bind($now);
            }
            returned = q.fetch_all(&mut *$tx).await?;
        }
        let job_ids = plan.job_ids(returned)?;
        // 4. Each accepted event learns its job.
        if !accepted.is_empty() {
            let mut q = sqlx::query(AssertSqlSafe(plan::link_sql(style, accepted.len())));
            for (&(event_id, _), &job_id) in accepted.iter().zip(&job_ids) {
                q = q.bind(event_id).bind(job_id);
            }
            for &(event_id, _) in &accepted {
                q = q.bind(event_id);
            }
            q.execute(&mut *$tx).await?;
        }
        let mut done = accepted.iter().zip(&job_ids);
        for &i in chunk {
            if $slots[i].is_none() {
                let (&(event_id, _), &job_id) = done.next().expect("one job id per accepted event");
                $slots[i] = Some(Ingested::Accepted { event_id, job_id });
            }
        }
    }};
}

/// The right to write ingest batches; see [`Store::ingest_turn`].
#[derive(Debug)]
pub struct IngestTurn {
    _sqlite_writer: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
}

impl Store {
    /// Stores `ev` and enqueues `job` for it atomically. A duplicate (same `dedupe_key`) writes
    /// nothing and returns the first event's id. The job's payload, when it is a JSON object,
    /// gains `"event_id"` so the handler can load the raw event.
    pub async fn ingest(&self, ev: &InboundEvent, job: &NewJob) -> Result<Ingested, StoreError> {
        let mut out = self.ingest_shared(Arc::new([(ev.clone(), job.clone())])).await?;
        out.pop().ok_or_else(|| StoreError::Invalid("ingest produced no result".into()))
    }

    /// [`Store::ingest`] for several events in ONE transaction (all or nothing), returning one
    /// result per item in order; a repeated key within the batch is a duplicate of its first
    /// occurrence. This is the primitive for grouped commits: with `synchronous=FULL` every
    /// commit costs an fsync, so an ingress that gathers concurrent deliveries and commits them
    /// together acknowledges many events per fsync instead of one.
    pub async fn ingest_many(&self, items: &[(InboundEvent, NewJob)]) -> Result<Vec<Ingested>, StoreError> {
        self.ingest_shared(Arc::from(items)).await
    }

    /// [`Store::ingest_many`] without copying the batch: the caller keeps its own handle, e.g. to
    /// retry the items one by one when the batch fails.
    ///
    /// SQLite: the batch goes to the ingest writer thread (`sqlite_writer.rs`) while this task
    /// holds the sqlx writer's only connection, so no other write runs meanwhile. PostgreSQL:
    /// a fixed handful of multi-row statements per chunk ([`Store::ingest_statements`]).
    pub async fn ingest_shared(&self, items: IngestBatch) -> Result<Vec<Ingested>, StoreError> {
        let turn = self.ingest_turn().await?;
        self.ingest_in_turn(&turn, items).await
    }

    /// Takes the right to write ingest batches, for as many batches in a row as the caller
    /// likes: on SQLite it holds sqlx's single writer connection, so no other write can start
    /// until the turn is dropped; on PostgreSQL it holds nothing. Why: a grouped-commit loop
    /// that takes the writer once for several back-to-back batches hands the next batch to the
    /// writer thread without first queueing for the connection again. Hold it briefly: every
    /// other write of the store waits for it.
    pub async fn ingest_turn(&self) -> Result<IngestTurn, StoreError> {
        Ok(IngestTurn {
            _sqlite_writer: match self {
                Store::Sqlite(s) => Some(s.writer.acquire().await?),
                Store::Postgres(_) => None,
            },
        })
    }

    /// [`Store::ingest_shared`] inside a turn the caller holds (see [`Store::ingest_turn`]).
    pub async fn ingest_in_turn(&self, _turn: &IngestTurn, items: IngestBatch) -> Result<Vec<Ingested>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Store::Sqlite(s) => s.ingest_writer.ingest(items).await,
            Store::Postgres(_) => {
                let refs: Vec<(&InboundEvent, &NewJob)> = items.iter().map(|(e, j)| (e, j)).collect();
                retry_on_conflict!(self.ingest_statements(&refs).await)
            }
        }
    }

    /// One transaction for the whole batch, a fixed handful of statements per [`plan::CHUNK`]
    /// events (see [`plan`] for why): the inbox rows, a lookup of keys already stored, the
    /// coalesced jobs in one upsert, and one update linking events to jobs. Chunks run in order,
    /// so a later chunk sees an earlier one's rows exactly as the next event would have.
    /// PostgreSQL's path; it runs on SQLite too, where the tests hold the ingest writer to it.
    async fn ingest_statements(&self, items: &[(&InboundEvent, &NewJob)]) -> Result<Vec<Ingested>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let (unique, first_of) = plan::first_occurrences(items);
        let mut slots: Vec<Option<Ingested>> = vec![None; items.len()];
        let style = plan::Style::of(self);
        transaction!(self, |tx| {
            for chunk in unique.chunks(plan::CHUNK) {
                ingest_chunk!(tx, style, items, chunk, now, slots);
            }
        });
        plan::finish(&first_of, slots)
    }

    /// One inbox event, with its raw body.
    pub async fn event(&self, id: i64) -> Result<Option<StoredEvent>, StoreError> {
        reader!(self, |db| {
            let row = sqlx::query(concat!("SELECT ", event_cols!(), " FROM inbox WHERE id = $1"))
                .bind(id)
                .fetch_optional(db)
                .await?;
            Ok(row.as_ref().map(crate::decode::event).transpose()?)
        })
    }

    /// The unprocessed events of `entity_key` with ids up to `up_to`, oldest first, at most
    /// `limit`: what a job that covers the entity up to `up_to` accounts for when it finishes
    /// (`EventScope::EntityUpTo`), so its handler can act on exactly those bodies. Served by the
    /// partial index `inbox_unprocessed_entity`.
    pub async fn unprocessed_events(
        &self,
        entity_key: &str,
        up_to: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        reader!(self, |db| {
            let rows = sqlx::query(concat!(
                "SELECT ",
                event_cols!(),
                " FROM inbox WHERE entity_key = $1 AND id <= $2 AND processed_ms IS NULL ORDER BY id LIMIT $3"
            ))
            .bind(entity_key)
            .bind(up_to)
            .bind(limit)
            .fetch_all(db)
            .await?;
            Ok(rows.iter().map(crate::decode::event).collect::<Result<_, _>>()?)
        })
    }

    /// Inbox events, newest first, optionally for one connection only.
    pub async fn events(&self, connection: Option<&str>, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
        reader!(self, |db| {
            let rows = match connection {
                Some(c) => {
                    sqlx::query(concat!(
                        "SELECT ",
                        event_cols!(),
                        " FROM inbox WHERE connection = $1 ORDER BY id DESC LIMIT $2"
                    ))
                    .bind(c)
                    .bind(limit)
                    .fetch_all(db)
                    .await?
                }
                None => {
                    sqlx::query(concat!("SELECT ", event_cols!(), " FROM inbox ORDER BY id DESC LIMIT $1"))
                        .bind(limit)
                        .fetch_all(db)
                        .await?
                }
            };
            Ok(rows.iter().map(crate::decode::event).collect::<Result<_, _>>()?)
        })
    }

    pub async fn count_events(&self) -> Result<i64, StoreError> {
        Ok(reader!(self, |db| sqlx::query_scalar("SELECT COUNT(*) FROM inbox").fetch_one(db).await?))
    }
}
