//! Store contract suite: every `Store` method, on SQLite always and on PostgreSQL when
//! `KADE_TEST_DATABASE_URL` is set. Each test body runs once per backend against a fresh
//! database (a temp SQLite file; a new PostgreSQL schema), so tests run in parallel and repeatably.

mod automation;
mod connections;
mod crypto;
mod inbox;
mod links_audit;
mod mirror;
mod processing;
mod queue;
mod queue_leases;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use kade_store::{NewJob, Store};
use sqlx::Connection as _;

/// A unique name per call, across concurrently running tests and repeated runs.
fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}_{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Removes the temp directory even when the test body panics.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("kade_store_test"));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `test` on a fresh SQLite store, then on a fresh PostgreSQL schema if configured.
pub async fn each_backend(test: impl AsyncFn(Store)) {
    let dir = TempDir::new();
    let store = Store::open(&format!("sqlite:{}", dir.0.join("kade.db").display())).await.expect("open sqlite");
    eprintln!("--- backend: sqlite");
    test(store.clone()).await;
    store.close().await;

    if let Ok(url) = std::env::var("KADE_TEST_DATABASE_URL") {
        let schema = unique("kade_test");
        let scoped = kade_store::create_postgres_schema(&url, &schema).await.expect("create a test schema");
        let store = Store::open(&scoped).await.expect("open postgres");
        eprintln!("--- backend: postgres (schema {schema})");
        test(store.clone()).await;
        store.close().await;
        let mut admin = sqlx::PgConnection::connect(&url).await.expect("connect to KADE_TEST_DATABASE_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut admin).await.unwrap();
    }
}

/// A job for `kind`/`entity`, due at `run_at_ms`, 3 attempts, normal priority.
pub fn job(kind: &str, entity: Option<&str>, run_at_ms: i64) -> NewJob {
    NewJob {
        kind: kind.into(),
        entity_key: entity.map(Into::into),
        payload: serde_json::json!({ "kind": kind }),
        run_at_ms,
        max_attempts: 3,
        dedupe_key: None,
        priority: 0,
    }
}

#[tokio::test]
async fn open_rejects_unknown_schemes_and_reopens_migrated_files() {
    let err = Store::open("mysql://user:secret@host/db").await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("mysql") && !msg.contains("secret"), "{msg}");

    assert!(matches!(Store::open("sqlite::memory:").await, Err(kade_store::StoreError::Invalid(_))));

    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("data/nested/kade.db").display());
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    let id = store.enqueue(&job("k", None, 0)).await.unwrap();
    assert!(dir.0.join("data/nested/kade.db-wal").exists(), "the database runs in WAL mode");
    store.close().await;
    // Opening again must find the schema in place (migrations are idempotent) and the data kept.
    let plain_path = dir.0.join("data/nested/kade.db").display().to_string();
    let again = Store::open(&plain_path).await.unwrap();
    assert!(again.job(id).await.unwrap().is_some());
    again.close().await;
}

#[tokio::test]
async fn backend_names() {
    each_backend(async |s| {
        assert!(["sqlite", "postgres"].contains(&s.backend()));
    })
    .await;
}
