//! Kade's persistence: connections, the inbox, the durable job queue, the scheduler's tick
//! claims, the audit log, the link table and the catalogue mirror.
//!
//! One [`Store`] type, two backends behind it (principle 7): SQLite in WAL mode for a single
//! process, PostgreSQL when several Kade processes share the work. Both run the same migrations
//! (same version numbers) and pass the same contract test suite (`tests/contract`). Queries are
//! checked at run time rather than with `query!` macros, so the build needs no live database and
//! no offline query data; the contract suite is what keeps the SQL honest on both backends.
//!
//! The SQLite deployment is single-process by design: claims are made safe by its single writer,
//! not by cross-process locking. Run several Kade processes only on PostgreSQL.
#![forbid(unsafe_code)]

// Macro-bearing modules first: `macro_rules!` are visible only below their module.
#[macro_use]
mod backend;
mod checkpoint;
#[macro_use]
mod decode;
#[macro_use]
mod jobs;
mod automation;
mod claim;
mod crypto;
mod error;
mod inbox;
mod meta;
mod mirror;
mod mirror_scan;
mod processing;
mod records;
mod sqlite_writer;

pub use automation::{NewSend, OptOut, SendFilter, SendOutcome, SendRecord, send_state};
pub use backend::{PgStore, SqliteStore};
pub use crypto::{CryptoError, SecretBox};
pub use error::StoreError;
pub use inbox::IngestTurn;
pub use mirror::VersionedWrite;
pub use processing::{EventScope, Finished, PROCESSED_EVENTS_KEY};
pub use records::*;
pub use sqlite_writer::IngestBatch;

/// A handle to the database. Cheap to clone: every clone shares the same pools.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    /// Opens (creating if needed) and migrates the database named by `url`:
    /// `sqlite:path/kade.db`, `sqlite://path`, a plain file path, or `postgres://…` /
    /// `postgresql://…`. A missing SQLite file (and its directory) is created.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Store::Postgres(backend::open_postgres(url).await?));
        }
        if let Some((scheme, _)) = url.split_once("://")
            && scheme != "sqlite"
        {
            return Err(StoreError::UnsupportedUrl { scheme: scheme.to_string() });
        }
        let path = backend::sqlite_path(url).ok_or_else(|| StoreError::UnsupportedUrl { scheme: "sqlite".into() })?;
        if path == ":memory:" || url.contains("mode=memory") {
            // The writer and the read pool must see the same database, which needs a file.
            return Err(StoreError::Invalid(
                "in-memory SQLite is not supported: use a file (a temp file in tests)".into(),
            ));
        }
        if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Open { backend: "sqlite", source: e.into() })?;
        }
        Ok(Store::Sqlite(backend::open_sqlite(path).await?))
    }

    /// "sqlite" or "postgres", for logs, metrics and `/readyz`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Closes every pool, waiting for connections to be returned. Useful before deleting a
    /// SQLite file or at shutdown; dropping the last clone also closes them, lazily.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => {
                s.reader.close().await;
                s.ingest_writer.close().await;
                s.writer.close().await;
            }
            Store::Postgres(p) => p.pool.close().await,
        }
    }
}

/// Compile-time check that every store future is `Send`: the server runs them in spawned tasks,
/// and a non-`Send` future (easy to create by accident with async closures) would only show up
/// as an error in the crate that spawns it.
#[cfg(test)]
#[allow(dead_code)]
fn store_futures_are_send(s: &Store, job: &NewJob, ev: &InboundEvent, effect: &AuditEntry) {
    fn send<T: Send>(_: T) {}
    send(Store::open(""));
    send(s.ingest(ev, job));
    send(s.ingest_many(&[]));
    send(s.ingest_shared(std::sync::Arc::new([])));
    send(s.ingest_turn());
    send(s.enqueue(job));
    send(s.claim("", 0, 0, 0));
    send(s.retry_later(0, "", "", 0));
    send(s.replay_job(0, 0));
    send(s.complete(0, ""));
    send(s.extend_lease(0, "", 0));
    send(s.fail_permanently(0, "", ""));
    send(s.jobs(None, 0));
    send(s.queue_counts());
    send(s.event(0));
    send(s.events(None, 0));
    send(s.claim_tick("", 0));
    send(s.upsert_products("", &[]));
    send(s.product_by_code("", ""));
    send(s.references("", ""));
    send(s.put_reference("", "", 0, serde_json::Value::Null));
    send(s.sync_state("", ""));
    send(s.hooks(""));
    send(s.touch_hook_event("", 0, 0));
    send(s.connections());
    send(s.clear_connection_secrets(""));
    send(s.linked("", "", "", ""));
    send(s.audit_recent(0));
    send(s.finish_job(0, "", &EventScope::None, effect));
    send(s.count_unprocessed_events());
    send(s.effects_per_event());
    send(s.expire_foreign_leases("", 0));
}

/// Creates `schema` on the PostgreSQL server at `url` and returns a URL whose connections all work
/// in it (a connect-time `search_path`). Tests and benchmarks use it to get an isolated database
/// on a shared server without needing the right to create databases.
pub async fn create_postgres_schema(url: &str, schema: &str) -> Result<String, StoreError> {
    use sqlx::Connection as _;
    if schema.is_empty() || !schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return Err(StoreError::Invalid(format!("schema name {schema:?}: use a-z, 0-9 and _")));
    }
    let mut admin =
        sqlx::PgConnection::connect(url).await.map_err(|source| StoreError::Open { backend: "postgres", source })?;
    // The name was checked above to hold only [a-z0-9_], so it cannot change the statement.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut admin).await?;
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}options[search_path]={schema}"))
}
