//! Opening the two backends, embedded migrations, and the small amount of glue that lets one
//! query body serve both (dispatch macros and a row-reading trait).
//!
//! The query bodies are written once and expanded per backend by `writer!`, `reader!` and
//! `transaction!`: the SQL is identical text, type-checked separately against each driver. This
//! avoids both a generic `Store<DB>` (every query compiled through heavy trait bounds) and
//! hand-duplicated code.

use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{Row, SqlSafeStr};

use crate::StoreError;

/// Runs `$body` with `$db` bound to the pool that takes writes (SQLite: the single writer).
macro_rules! writer {
    ($store:expr, |$db:ident| $body:expr) => {
        match $store {
            $crate::Store::Sqlite(s) => {
                let $db = &s.writer;
                $body
            }
            $crate::Store::Postgres(p) => {
                let $db = &p.pool;
                $body
            }
        }
    };
}

/// Runs `$body` with `$db` bound to a pool for reads (SQLite: the read-only pool, so reads never
/// queue behind the writer).
macro_rules! reader {
    ($store:expr, |$db:ident| $body:expr) => {
        match $store {
            $crate::Store::Sqlite(s) => {
                let $db = &s.reader;
                $body
            }
            $crate::Store::Postgres(p) => {
                let $db = &p.pool;
                $body
            }
        }
    };
}

/// Runs `$body` inside a write transaction bound to `$tx` (use `&mut *$tx` as the executor) and
/// commits it. An early return through `?` drops the transaction, which rolls it back.
/// SQLite uses `BEGIN IMMEDIATE` so the write lock is taken up front, never upgraded mid-way.
macro_rules! transaction {
    ($store:expr, |$tx:ident| $body:expr) => {
        match $store {
            $crate::Store::Sqlite(s) => {
                let mut $tx = s.writer.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::Store::Postgres(p) => {
                let mut $tx = p.pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

/// SQLite: one connection for all writes and a read-only pool beside it.
///
/// A single writer is what SQLite can do anyway; funnelling writes through one connection turns
/// lock contention (`SQLITE_BUSY` storms) into an orderly queue, and it is the natural place to
/// add grouped commits for ingest later. `synchronous=FULL` makes every commit durable before the
/// caller acknowledges anything.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
    /// Commits ingest batches on a thread of its own (see `sqlite_writer.rs`).
    pub(crate) ingest_writer: crate::sqlite_writer::IngestWriter,
    /// Keeps the background WAL checkpointer running while any clone of the store exists.
    pub(crate) _checkpointer: std::sync::Arc<crate::checkpoint::Alive>,
}

/// PostgreSQL: one pool; concurrency is the database's job (row locks, `SKIP LOCKED`).
#[derive(Clone, Debug)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

/// Accepted SQLite spellings: `sqlite:PATH`, `sqlite://PATH`, or a plain path. A query string
/// (`?mode=rwc`) is ignored: the store sets its own options.
pub(crate) fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then_some(path)
}

pub(crate) async fn open_sqlite(path: &str) -> Result<SqliteStore, StoreError> {
    let open = |source| StoreError::Open { backend: "sqlite", source };
    let base = SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
        .synchronous(SqliteSynchronous::Full);
    let writer_options = base
        .clone()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .pragma("wal_autocheckpoint", crate::checkpoint::WRITER_PAGES.to_string());
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        // A ping before every checkout would be one more round trip to sqlx's SQLite thread
        // per write, and a local file connection has nothing to detect.
        .test_before_acquire(false)
        .connect_with(writer_options)
        .await
        .map_err(open)?;
    migrator(Backend::Sqlite).run(&writer).await?;
    let _checkpointer = crate::checkpoint::start(base.clone()).await?;
    let ingest_writer = crate::sqlite_writer::IngestWriter::start(path)?;
    let reader = SqlitePoolOptions::new().max_connections(4).connect_with(base.read_only(true)).await.map_err(open)?;
    Ok(SqliteStore { writer, reader, ingest_writer, _checkpointer })
}

pub(crate) async fn open_postgres(url: &str) -> Result<PgStore, StoreError> {
    let open = |source| StoreError::Open { backend: "postgres", source };
    let options = PgConnectOptions::from_str(url).map_err(open)?;
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(open)?;
    migrator(Backend::Postgres).run(&pool).await?;
    Ok(PgStore { pool })
}

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// (version, description, SQLite SQL, PostgreSQL SQL). Both backends advance in lock step, so a
/// database's version number means the same schema whichever backend it is.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "processed",
        include_str!("../migrations/sqlite/0002_processed.sql"),
        include_str!("../migrations/postgres/0002_processed.sql"),
    ),
    (
        4,
        "automation",
        include_str!("../migrations/sqlite/0004_automation.sql"),
        include_str!("../migrations/postgres/0004_automation.sql"),
    ),
];

/// Builds the migrator from the embedded files. This is what `sqlx::migrate!` generates, done
/// by hand so that we need neither sqlx's proc-macro crate nor a second build of SQLite for the
/// host (minutes on two cores). Checksums are computed the same way, so switching to the macro
/// later would not invalidate existing databases.
fn migrator(backend: Backend) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|&(version, description, sqlite, postgres)| {
            let sql = match backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            Migration::new(version, description.into(), MigrationType::Simple, sql.into_sql_str(), false)
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// Wall-clock unix milliseconds, for bookkeeping columns (`updated_ms`...). Scheduling decisions
/// take the caller's `now_ms` instead, so tests and several processes agree on time explicitly.
pub(crate) use kade_calls::now_ms;

/// Typed column access shared by both row types, so each record is decoded by one function.
pub(crate) trait Cols {
    fn i64(&self, col: &str) -> sqlx::Result<i64>;
    fn opt_i64(&self, col: &str) -> sqlx::Result<Option<i64>>;
    fn i32(&self, col: &str) -> sqlx::Result<i32>;
    fn text(&self, col: &str) -> sqlx::Result<String>;
    fn opt_text(&self, col: &str) -> sqlx::Result<Option<String>>;
    fn flag(&self, col: &str) -> sqlx::Result<bool>;
    fn json(&self, col: &str) -> sqlx::Result<Value>;
    fn bytes(&self, col: &str) -> sqlx::Result<Vec<u8>>;
}

macro_rules! impl_cols {
    ($row:ty) => {
        impl Cols for $row {
            fn i64(&self, col: &str) -> sqlx::Result<i64> {
                self.try_get(col)
            }
            fn opt_i64(&self, col: &str) -> sqlx::Result<Option<i64>> {
                self.try_get(col)
            }
            fn i32(&self, col: &str) -> sqlx::Result<i32> {
                self.try_get(col)
            }
            fn text(&self, col: &str) -> sqlx::Result<String> {
                self.try_get(col)
            }
            fn opt_text(&self, col: &str) -> sqlx::Result<Option<String>> {
                self.try_get(col)
            }
            fn flag(&self, col: &str) -> sqlx::Result<bool> {
                self.try_get(col)
            }
            fn json(&self, col: &str) -> sqlx::Result<Value> {
                self.try_get::<Json<Value>, _>(col).map(|j| j.0)
            }
            fn bytes(&self, col: &str) -> sqlx::Result<Vec<u8>> {
                self.try_get(col)
            }
        }
    };
}
impl_cols!(SqliteRow);
impl_cols!(PgRow);

/// Evaluates `$op` (an awaited operation) again when it lost a unique-constraint race (see
/// [`StoreError::is_unique_violation`]); the retry re-reads and takes the "already exists" path.
/// A macro, not a function taking an async closure: futures built from async closures are not
/// provably `Send`, and every store future must be `Send` to run in a server task.
macro_rules! retry_on_conflict {
    ($op:expr) => {{
        let mut tries = 0u32;
        loop {
            match $op {
                Err(e) if e.is_unique_violation() && tries < 3 => {
                    tries += 1;
                    tracing::debug!(tries, "unique-key race lost; retrying");
                }
                other => break other,
            }
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn versions(dir: &str) -> BTreeSet<(i64, String)> {
        let path = format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter_map(|name| {
                let stem = name.strip_suffix(".sql")?;
                let (v, desc) = stem.split_once('_')?;
                Some((v.parse().unwrap(), desc.to_string()))
            })
            .collect()
    }

    #[test]
    fn both_backends_have_the_same_migration_versions_and_all_are_embedded() {
        let sqlite = versions("sqlite");
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, versions("postgres"), "migrations/sqlite and migrations/postgres differ");
        let embedded: BTreeSet<_> = MIGRATIONS.iter().map(|m| (m.0, m.1.to_string())).collect();
        assert_eq!(sqlite, embedded, "a migration file is missing from MIGRATIONS (or vice versa)");
    }

    #[test]
    fn sqlite_urls() {
        assert_eq!(sqlite_path("sqlite:data/kade.db"), Some("data/kade.db"));
        assert_eq!(sqlite_path("sqlite://data/kade.db?mode=rwc"), Some("data/kade.db"));
        assert_eq!(sqlite_path("sqlite:///abs/kade.db"), Some("/abs/kade.db"));
        assert_eq!(sqlite_path("kade.db"), Some("kade.db"));
        assert_eq!(sqlite_path("sqlite:"), None);
    }
}
