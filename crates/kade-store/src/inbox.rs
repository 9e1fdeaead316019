//! The inbox (principle 1): every inbound event is stored raw, de-duplicated, and committed in
//! the same transaction as the job that will process it, before the sender gets its 2xx. After
//! a crash, either both exist or neither does, so an acknowledged event is never lost and a
//! redelivered one is never processed twice.

use sqlx::types::Json;

use crate::backend::now_ms;
use crate::jobs::with_event_id;
use crate::records::{InboundEvent, Ingested, NewJob, StoredEvent};
use crate::{Store, StoreError};

impl Store {
    /// Stores `ev` and enqueues `job` for it atomically. A duplicate (same `dedupe_key`) writes
    /// nothing and returns the first event's id. The job's payload, when it is a JSON object,
    /// gains `"event_id"` so the handler can load the raw event.
    pub async fn ingest(&self, ev: &InboundEvent, job: &NewJob) -> Result<Ingested, StoreError> {
        let mut out = retry_on_conflict!(self.ingest_once(&[(ev, job)]).await)?;
        out.pop().ok_or_else(|| StoreError::Invalid("ingest produced no result".into()))
    }

    /// [`Store::ingest`] for several events in ONE transaction (all or nothing), returning one
    /// result per item in order; a repeated key within the batch is a duplicate of its first
    /// occurrence. This is the primitive for grouped commits: with `synchronous=FULL` every
    /// commit costs an fsync, so an ingress that gathers concurrent deliveries and commits them
    /// together acknowledges many events per fsync instead of one.
    pub async fn ingest_many(&self, items: &[(InboundEvent, NewJob)]) -> Result<Vec<Ingested>, StoreError> {
        let refs: Vec<(&InboundEvent, &NewJob)> = items.iter().map(|(e, j)| (e, j)).collect();
        retry_on_conflict!(self.ingest_once(&refs).await)
    }

    async fn ingest_once(&self, items: &[(&InboundEvent, &NewJob)]) -> Result<Vec<Ingested>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        Ok(transaction!(self, |tx| {
            let mut results = Vec::with_capacity(items.len());
            for &(ev, job) in items {
                // ON CONFLICT DO NOTHING: on PostgreSQL a concurrent insert of the same key makes
                // this wait for that transaction, then return no row; the SELECT then sees it.
                let inserted: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO inbox \
                     (connection, source, dedupe_key, event, entity_key, headers, body, verified, received_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
                )
                .bind(&ev.connection)
                .bind(&ev.source)
                .bind(&ev.dedupe_key)
                .bind(&ev.event)
                .bind(&ev.entity_key)
                .bind(Json(&ev.headers))
                .bind(&ev.body)
                .bind(ev.verified)
                .bind(ev.received_ms)
                .fetch_optional(&mut *tx)
                .await?;
                results.push(match inserted {
                    None => {
                        let event_id: i64 = sqlx::query_scalar("SELECT id FROM inbox WHERE dedupe_key = $1")
                            .bind(&ev.dedupe_key)
                            .fetch_one(&mut *tx)
                            .await?;
                        Ingested::Duplicate { event_id }
                    }
                    Some(event_id) => {
                        let job = with_event_id(job, event_id);
                        let job_id = enqueue_on!(tx, &job, now);
                        sqlx::query("UPDATE inbox SET job_id = $2 WHERE id = $1")
                            .bind(event_id)
                            .bind(job_id)
                            .execute(&mut *tx)
                            .await?;
                        Ingested::Accepted { event_id, job_id }
                    }
                });
            }
            results
        }))
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
