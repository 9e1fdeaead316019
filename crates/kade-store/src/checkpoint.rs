//! WAL checkpoints for SQLite, off the writer's path.
//!
//! In WAL mode every commit appends pages to the `-wal` file; a *checkpoint* copies them back into
//! the database file. By default SQLite runs one on the committing connection whenever the WAL
//! passes 1,000 pages, so every few dozen grouped commits one webhook batch also paid for writing
//! and fsyncing ~4 MB into the database file before its senders got their 200 — the tail of the
//! ingress's acknowledgement latency.
//!
//! Here a background task checkpoints often ([`INTERVAL`]) from a connection of its own, in
//! `PASSIVE` mode, which never blocks the writer or readers: it copies what no reader still needs
//! and fsyncs the database file, off the acknowledgement path. That alone is not enough under a
//! sustained burst: SQLite only restarts the WAL from its beginning when a write transaction
//! starts and finds *every* frame copied, which never happens while frames keep arriving during
//! each background pass. The WAL then grows without bound, and the writer's own threshold, once
//! crossed, made one commit copy tens of megabytes (a ~60–80 ms stall measured in
//! `kade bench ingest`, which alone set the p99). So the writer keeps a small threshold
//! ([`WRITER_PAGES`]): when it is crossed, the writer's checkpoint only has the few frames
//! committed since the last background pass left to copy (a few milliseconds), and its next
//! transaction restarts the WAL. Durability is unchanged: a commit is durable once its frames are
//! fsynced in the WAL (`synchronous=FULL`), whether or not a checkpoint has run.

use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use crate::StoreError;

/// How often the background checkpoint runs: often enough that, at the ingress's peak rate, the
/// frames it leaves behind for the writer's checkpoint stay around a megabyte.
pub(crate) const INTERVAL: Duration = Duration::from_millis(50);

/// The writer's own `wal_autocheckpoint`, in pages (about 4 MB of WAL). With the background task
/// keeping up, crossing it costs the writer only the last few frames, and bounds the WAL.
pub(crate) const WRITER_PAGES: u32 = 1_000;

/// Held by every clone of the SQLite store; the checkpointer stops once the last one is gone.
#[derive(Debug)]
pub(crate) struct Alive;

/// Starts the checkpointer for the database at `options` (the writer's options, read-write).
/// Needs a Tokio runtime, which opening a store always has.
pub(crate) async fn start(options: SqliteConnectOptions) -> Result<Arc<Alive>, StoreError> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .connect_with(options)
        .await
        .map_err(|source| StoreError::Open { backend: "sqlite", source })?;
    let alive = Arc::new(Alive);
    tokio::spawn(run(pool, Arc::downgrade(&alive)));
    Ok(alive)
}

async fn run(pool: SqlitePool, alive: Weak<Alive>) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if alive.strong_count() == 0 {
            break;
        }
        // Busy (a reader holds an old snapshot, another checkpoint runs) is normal: try next tick.
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            tracing::debug!(error = %e, "background WAL checkpoint did not run");
        }
    }
    pool.close().await;
}

#[cfg(test)]
mod tests {
    use crate::Store;

    /// Without the background task nothing would copy these ~700 pages into the database file:
    /// they stay below the writer's own threshold ([`super::WRITER_PAGES`]).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn committed_pages_reach_the_database_file_without_the_writer_checkpointing() {
        let dir = std::env::temp_dir().join(format!(
            "kade-checkpoint-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.db");
        let store = Store::open(&format!("sqlite:{}", path.display())).await.unwrap();
        let Store::Sqlite(s) = &store else { panic!("expected SQLite") };
        sqlx::query("CREATE TABLE blobs (b BLOB)").execute(&s.writer).await.unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        for _ in 0..700 {
            sqlx::query("INSERT INTO blobs (b) VALUES (zeroblob(4000))").execute(&s.writer).await.unwrap();
        }
        let wal = std::fs::metadata(dir.join("c.db-wal")).unwrap().len();
        assert!(wal > 2_000_000, "the rows went to the WAL first ({wal} bytes)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let grown = std::fs::metadata(&path).unwrap().len() - before;
            if grown > 2_000_000 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no checkpoint copied the WAL ({grown} bytes)");
            tokio::time::sleep(super::INTERVAL).await;
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A sustained burst (40 MB of commits, never idle) must not grow the WAL without bound: with
    /// the writer's threshold at the old 10,000-page backstop this WAL reached ~40 MB and the
    /// crossing commit stalled on copying all of it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sustained_burst_keeps_the_wal_small() {
        let dir = std::env::temp_dir().join(format!("kade-checkpoint-burst-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("b.db");
        let store = Store::open(&format!("sqlite:{}", path.display())).await.unwrap();
        let Store::Sqlite(s) = &store else { panic!("expected SQLite") };
        sqlx::query("CREATE TABLE blobs (b BLOB)").execute(&s.writer).await.unwrap();
        let mut largest = 0;
        for _ in 0..200 {
            let mut tx = s.writer.begin().await.unwrap();
            for _ in 0..50 {
                sqlx::query("INSERT INTO blobs (b) VALUES (zeroblob(4000))").execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
            largest = largest.max(std::fs::metadata(dir.join("b.db-wal")).map(|m| m.len()).unwrap_or(0));
        }
        assert!(largest < 12_000_000, "the WAL grew to {largest} bytes during the burst");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
