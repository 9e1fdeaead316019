//! The SQLite ingest writer: one OS thread with a connection of its own that commits a whole
//! batch of inbox events and their jobs in one synchronous pass.
//!
//! Why it exists: through sqlx, every statement of an ingest transaction (BEGIN, the inbox
//! insert, the jobs upsert, the link, COMMIT) is a round trip between a Tokio task and sqlx's
//! SQLite thread, and under load the Tokio workers are busy answering HTTP, so each reply waits
//! its turn. Measured: the batcher's transaction was open ~95 % of the time while the SQLite
//! thread worked only ~40 % of it (docs/benchmarks.md, fourth pass). Here the batch is one
//! message; the thread runs every statement back to back with statements prepared once, and the
//! waiting happens once per batch instead of once per statement.
//!
//! Each event is stored exactly as [`crate::Store::ingest`] would store it alone, in batch
//! order: a known key is a duplicate and writes nothing; otherwise its job is enqueued by the
//! rule of `enqueue_on!` (coalescing into a queued job of its entity) and the row is inserted
//! already linked to it.
//! The equivalence tests hold this to the statement-per-chunk path PostgreSQL uses.
//!
//! It never fights sqlx's writer for SQLite's one write lock: the caller holds the sqlx writer
//! pool's only connection while this thread writes (see `Store::ingest_shared`), so writes are
//! handed over in an orderly queue instead of SQLite's busy-wait sleeps.

use std::sync::{Arc, mpsc};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension as _, TransactionBehavior, params};
use tokio::sync::oneshot;

use crate::StoreError;
use crate::backend::now_ms;
use crate::jobs::payload_with_event_id;
use crate::records::{InboundEvent, Ingested, NewJob};

/// A batch shared between the caller (who may retry its items one by one after a failure) and
/// the writer thread.
pub type IngestBatch = Arc<[(InboundEvent, NewJob)]>;

/// The id AUTOINCREMENT would give the next inbox row: above every id ever used.
const NEXT_EVENT_ID: &str = "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'inbox'), 0), \
     COALESCE((SELECT MAX(id) FROM inbox), 0)) + 1";
const FIND_EVENT: &str = "SELECT id FROM inbox WHERE dedupe_key = ?1";
const FIND_JOB: &str = "SELECT id FROM jobs WHERE dedupe_key = ?1";
/// The coalescing rule of `jobs::ENQUEUE_SQL`, in two steps. That upsert's `RETURNING` makes
/// SQLite build and drop a temporary b-tree per execution (~12 % of the writer's time,
/// measured); under the write lock the writer can look the queued job up first instead.
const FIND_QUEUED: &str =
    "SELECT id FROM jobs WHERE kind = ?1 AND entity_key = ?2 AND entity_key IS NOT NULL AND state = 'queued'";
const MERGE_JOB: &str = "UPDATE jobs SET payload = ?2, run_at_ms = MIN(run_at_ms, ?3), \
     priority = MAX(priority, ?4), dedupe_key = COALESCE(dedupe_key, ?5), updated_ms = ?6 WHERE id = ?1";
const INSERT_JOB: &str = "INSERT INTO jobs (kind, entity_key, payload, state, priority, attempts, max_attempts, \
     run_at_ms, dedupe_key, created_ms, updated_ms) VALUES (?1, ?2, ?3, 'queued', ?4, 0, ?5, ?6, ?7, ?8, ?8)";
const INSERT_EVENT: &str = "INSERT INTO inbox (id, connection, source, dedupe_key, event, entity_key, headers, \
     body, verified, received_ms, job_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

enum Request {
    Ingest { items: IngestBatch, reply: oneshot::Sender<Result<Vec<Ingested>, StoreError>> },
    Close { reply: oneshot::Sender<()> },
}

/// Handle to the writer thread. Clones share the thread; it ends when the store is closed or
/// the last clone is dropped.
#[derive(Clone, Debug)]
pub(crate) struct IngestWriter {
    tx: mpsc::Sender<Request>,
}

fn stopped() -> StoreError {
    StoreError::Invalid("the SQLite ingest writer has stopped (the store was closed)".into())
}

impl IngestWriter {
    /// Opens the database at `path` (created and migrated already) and starts the thread.
    pub(crate) fn start(path: &str) -> Result<IngestWriter, StoreError> {
        let conn = open(path)?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("kade-sqlite-ingest".into())
            .spawn(move || run(conn, rx))
            .map_err(|e| StoreError::Invalid(format!("cannot start the SQLite ingest writer thread: {e}")))?;
        Ok(IngestWriter { tx })
    }

    /// Commits `items` in one transaction (all or nothing) and returns one result per item.
    /// The caller must hold the sqlx writer connection meanwhile.
    pub(crate) async fn ingest(&self, items: IngestBatch) -> Result<Vec<Ingested>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Request::Ingest { items, reply }).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Closes the thread's connection and waits until it is closed.
    pub(crate) async fn close(&self) {
        let (reply, answer) = oneshot::channel();
        if self.tx.send(Request::Close { reply }).is_ok() {
            let _ = answer.await;
        }
    }
}

fn open(path: &str) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // Per-connection settings; they must match the sqlx writer's. FULL is what makes an
    // acknowledged event durable before its 2xx.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "wal_autocheckpoint", crate::checkpoint::WRITER_PAGES)?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Invalid(format!("the SQLite database is in journal mode {mode:?}, expected WAL")));
    }
    Ok(conn)
}

fn run(mut conn: Connection, rx: mpsc::Receiver<Request>) {
    while let Ok(request) = rx.recv() {
        match request {
            Request::Ingest { items, reply } => {
                // The caller may have gone; the outcome stands either way (a committed event is
                // answered as a duplicate when redelivered).
                let _ = reply.send(ingest(&mut conn, &items));
            }
            Request::Close { reply } => {
                if let Err((_, e)) = conn.close() {
                    tracing::warn!(error = %e, "closing the SQLite ingest writer");
                }
                let _ = reply.send(());
                return;
            }
        }
    }
}

/// One transaction for the batch; a dropped transaction rolls back, so an error stores nothing.
///
/// Each event's row is written once, complete: the writer holds the write lock, so it knows the
/// id the row will get before inserting it, puts that id in the job's payload, and inserts the
/// row with its job id. (Inserting first and linking after meant an UPDATE that rewrote every
/// ~2 KB row a second time.)
fn ingest(conn: &mut Connection, items: &[(InboundEvent, NewJob)]) -> Result<Vec<Ingested>, StoreError> {
    let now = now_ms();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = Vec::with_capacity(items.len());
    {
        let mut next_id: i64 = tx.query_row(NEXT_EVENT_ID, [], |r| r.get(0))?;
        let mut find = tx.prepare_cached(FIND_EVENT)?;
        let mut find_job = tx.prepare_cached(FIND_JOB)?;
        let mut jobs = Enqueue {
            find_queued: tx.prepare_cached(FIND_QUEUED)?,
            merge: tx.prepare_cached(MERGE_JOB)?,
            insert: tx.prepare_cached(INSERT_JOB)?,
            tx: &tx,
        };
        let mut insert = tx.prepare_cached(INSERT_EVENT)?;
        for (ev, job) in items {
            // A key stored before (or earlier in this batch) is a duplicate: nothing is written.
            if let Some(event_id) = find.query_row([&ev.dedupe_key], |r| r.get(0)).optional()? {
                out.push(Ingested::Duplicate { event_id });
                continue;
            }
            let event_id = next_id;
            next_id += 1;
            let existing: Option<i64> = match &job.dedupe_key {
                Some(key) => find_job.query_row([key], |r| r.get(0)).optional()?,
                None => None,
            };
            let job_id: i64 = match existing {
                Some(id) => id,
                None => jobs.enqueue(job, event_id, now)?,
            };
            insert.execute(params![
                event_id,
                ev.connection,
                ev.source,
                ev.dedupe_key,
                ev.event,
                ev.entity_key,
                json_text(&ev.headers)?,
                ev.body,
                ev.verified,
                ev.received_ms,
                job_id
            ])?;
            out.push(Ingested::Accepted { event_id, job_id });
        }
    }
    tx.commit()?;
    Ok(out)
}

/// The job half of an ingest: `enqueue_on!`'s rule without its dedupe-key lookup (done by the
/// caller), as a lookup of the queued job of the same (kind, entity) and then a merge into it or
/// an insert.
struct Enqueue<'t> {
    find_queued: rusqlite::CachedStatement<'t>,
    merge: rusqlite::CachedStatement<'t>,
    insert: rusqlite::CachedStatement<'t>,
    tx: &'t rusqlite::Transaction<'t>,
}

impl Enqueue<'_> {
    fn enqueue(&mut self, job: &NewJob, event_id: i64, now: i64) -> Result<i64, StoreError> {
        let payload = json_text(&payload_with_event_id(&job.payload, event_id))?;
        let queued: Option<i64> = match &job.entity_key {
            Some(entity) => self.find_queued.query_row([&job.kind, entity], |r| r.get(0)).optional()?,
            None => None,
        };
        if let Some(id) = queued {
            self.merge.execute(params![id, payload, job.run_at_ms, job.priority, job.dedupe_key, now])?;
            return Ok(id);
        }
        self.insert.execute(params![
            job.kind,
            job.entity_key,
            payload,
            job.priority,
            job.max_attempts,
            job.run_at_ms,
            job.dedupe_key,
            now
        ])?;
        Ok(self.tx.last_insert_rowid())
    }
}

/// JSON columns are TEXT, as sqlx's `Json` writes them, so both drivers read each other's rows.
fn json_text(value: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(format!("value not serialisable as JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::Store;
    use crate::records::{InboundEvent, Ingested, NewJob};

    fn item(key: &str) -> (InboundEvent, NewJob) {
        let ev = InboundEvent {
            connection: "c".into(),
            source: "webhook".into(),
            dedupe_key: key.into(),
            event: "e".into(),
            entity_key: Some("p:1".into()),
            headers: json!({}),
            body: b"{}".to_vec(),
            verified: true,
            received_ms: 1,
        };
        let job = NewJob {
            kind: "k".into(),
            entity_key: Some("p:1".into()),
            payload: json!({}),
            run_at_ms: 0,
            max_attempts: 3,
            dedupe_key: None,
            priority: 0,
        };
        (ev, job)
    }

    fn event_id(i: Ingested) -> i64 {
        match i {
            Ingested::Accepted { event_id, .. } | Ingested::Duplicate { event_id } => event_id,
        }
    }

    /// The writer picks row ids itself; they must keep AUTOINCREMENT's promise of never reusing
    /// an id, even one whose row was deleted, and the job must point at the row it got.
    #[tokio::test]
    async fn ids_are_never_reused_and_the_job_points_at_its_row() {
        let dir = std::env::temp_dir().join(format!("kade_writer_ids_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&format!("sqlite:{}", dir.join("w.db").display())).await.unwrap();
        let first = store.ingest_many(&[item("a"), item("b")]).await.unwrap();
        let newest = event_id(first[1]);
        let Store::Sqlite(s) = &store else { unreachable!() };
        sqlx::query("DELETE FROM inbox WHERE id = $1").bind(newest).execute(&s.writer).await.unwrap();
        let again = store.ingest(&item("c").0, &item("c").1).await.unwrap();
        let Ingested::Accepted { event_id, job_id } = again else { panic!("{again:?}") };
        assert!(event_id > newest, "id {event_id} reused after {newest} was deleted");
        let job = store.jobs(None, 10).await.unwrap().into_iter().find(|j| j.id == job_id).unwrap();
        assert_eq!(job.payload["event_id"], json!(event_id));
        assert_eq!(store.event(event_id).await.unwrap().unwrap().job_id, Some(job_id));
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// While a caller holds an ingest turn, the store's other writes wait (they would otherwise
    /// meet SQLite's busy lock and sleep); the holder keeps writing; the end of the turn lets
    /// them through.
    #[tokio::test]
    async fn a_turn_keeps_other_writes_out_until_it_ends() {
        let dir = std::env::temp_dir().join(format!("kade_writer_turn_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&format!("sqlite:{}", dir.join("t.db").display())).await.unwrap();
        let turn = store.ingest_turn().await.unwrap();
        let other = {
            let (store, job) = (store.clone(), item("x").1);
            tokio::spawn(async move { store.enqueue(&job).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!other.is_finished(), "a write ran during someone else's ingest turn");
        let out = store.ingest_in_turn(&turn, std::sync::Arc::new([item("a"), item("b")])).await.unwrap();
        assert_eq!(out.len(), 2);
        drop(turn);
        let job_id = tokio::time::timeout(std::time::Duration::from_secs(5), other).await.unwrap().unwrap().unwrap();
        assert!(job_id > 0);
        assert_eq!(store.count_events().await.unwrap(), 2);
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
