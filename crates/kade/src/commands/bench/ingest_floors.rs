//! The floors of `kade bench ingest`: the same rows written without HTTP, measured in the same
//! run on the same file system (see `ingest.rs`).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kade_store::{InboundEvent, NewJob, Store};
use serde_json::json;

use super::ingest::EVENT;

/// The floor: `bodies` inserted with their de-dup key, `batch` rows per transaction, through
/// the driver and settings Kade's SQLite ingest uses (rusqlite on a thread of its own, WAL,
/// `synchronous=FULL`, one prepared statement). What is left above it is HTTP, verification and
/// Kade's schema (the job row, the link, the indexes).
pub(super) async fn raw_sqlite(
    path: &Path,
    bodies: Arc<Vec<Vec<u8>>>,
    rows: usize,
    batch: usize,
) -> anyhow::Result<Duration> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Duration> {
        let _ = std::fs::remove_file(&path);
        let mut db = rusqlite::Connection::open(&path)?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        db.execute(
            "CREATE TABLE floor (id INTEGER PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, body BLOB NOT NULL)",
            [],
        )?;
        let t = Instant::now();
        for (c, chunk) in bodies[..rows].chunks(batch).enumerate() {
            let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut insert = tx.prepare_cached("INSERT INTO floor (dedupe_key, body) VALUES (?1, ?2)")?;
                for (i, body) in chunk.iter().enumerate() {
                    insert.execute(rusqlite::params![format!("floor/{}", c * batch + i), body])?;
                }
            }
            tx.commit()?;
        }
        let elapsed = t.elapsed();
        drop(db);
        let _ = std::fs::remove_file(&path);
        Ok(elapsed)
    })
    .await?
}

/// Kade's store without HTTP: the same inbox rows and product-refresh jobs the ingress builds,
/// committed with `Store::ingest_shared`, `batch` per transaction.
pub(super) async fn store_ingest(url: &str, bodies: &[Vec<u8>], batch: usize) -> anyhow::Result<Duration> {
    let store = Store::open(url).await?;
    let items: Vec<(InboundEvent, NewJob)> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let entity = format!("floor/product/{}", i % 1000);
            let event = InboundEvent {
                connection: "floor".into(),
                source: "picqer".into(),
                dedupe_key: format!("floor/{i}"),
                event: EVENT.into(),
                entity_key: Some(entity.clone()),
                headers: json!({"content-type": "application/json", "user-agent": null, "x-picqer-signature": "x"}),
                body: body.clone(),
                verified: true,
                received_ms: kade_engine::now_ms(),
            };
            let job = NewJob {
                kind: kade_engine::picqer::PRODUCT_REFRESH_KIND.to_string(),
                entity_key: Some(entity),
                payload: json!({"connection": "floor", "event": EVENT, "idhook": 1, "idproduct": i % 1000}),
                run_at_ms: kade_engine::now_ms(),
                max_attempts: 12,
                dedupe_key: None,
                priority: 10,
            };
            (event, job)
        })
        .collect();
    // Batches are built before the clock starts, as the ingress's batcher hands them over.
    let batches: Vec<kade_store::IngestBatch> = items.chunks(batch).map(Arc::from).collect();
    let t = Instant::now();
    for chunk in batches {
        store.ingest_shared(chunk).await?;
    }
    Ok(t.elapsed())
}
