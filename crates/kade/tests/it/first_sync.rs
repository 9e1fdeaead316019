//! First connect mirrors the catalogue once (issue 12, point 5): a hub started like `kade serve`
//! (workers and scheduler on) against a new account reads every product page exactly once before
//! its first incremental poll, and a restart in the middle of that pass resumes it.

use std::time::{Duration, Instant};

use kade_engine::EngineConfig;
use kade_engine::picqer::PicqerSettings;
use kade_picqer::{ApiKey, ClientConfig};
use kade_server::{Hub, HubOptions};
use kade_sim::picqer::{JournalEntry, RunningSim};
use serde_json::json;

use crate::support::{control, hub_options, sim, test_databases};

fn options(db: &str, sim: &RunningSim, worker: &str) -> HubOptions {
    let mut client = ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key()));
    client.retry_base = Duration::from_millis(20);
    client.retry_cap = Duration::from_millis(100);
    let events = ["products.changed", "products.free_stock_changed"];
    HubOptions {
        // Short, so the first incremental poll after the full pass comes within the test; every
        // round before the pass is done must read nothing.
        incremental_every: Duration::from_secs(2),
        engine: EngineConfig {
            worker_id: worker.into(),
            idle_poll: Duration::from_millis(20),
            shutdown_grace: Duration::from_millis(50),
            ..EngineConfig::default()
        },
        // As `kade serve`: workers and the scheduler run (its nightly full-sync round fires at start).
        background: true,
        ..hub_options(
            db,
            vec![PicqerSettings {
                name: "main".into(),
                client,
                webhook_url: String::new(),
                events: events.iter().map(|e| e.to_string()).collect(),
            }],
        )
    }
}

/// Product-list requests (`GET /products`), in order.
fn product_lists(sim: &RunningSim) -> Vec<JournalEntry> {
    sim.journal().into_iter().filter(|e| e.method == "GET" && e.path == "/api/v1/products").collect()
}

fn is_incremental(e: &JournalEntry) -> bool {
    e.query.contains("updated_after")
}

/// Waits (bounded) for the first incremental poll; returns the product-list requests made before it.
async fn lists_before_first_incremental(sim: &RunningSim) -> Vec<JournalEntry> {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let lists = product_lists(sim);
        if let Some(at) = lists.iter().position(is_incremental) {
            return lists[..at].to_vec();
        }
        assert!(Instant::now() < deadline, "no incremental poll within 180 s; {} list calls so far", lists.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn first_connect_reads_each_product_page_once_before_the_first_incremental_poll() {
    for db in test_databases("firstsync").await {
        let sim = sim(10_001).await;
        let hub = Hub::start(options(&db, &sim, "first-sync-worker")).await.expect("hub starts");
        let before = lists_before_first_incremental(&sim).await;
        let offsets: Vec<&str> = before.iter().map(|e| e.query.as_str()).collect();
        assert_eq!(before.len(), 101, "one pass of 101 pages of 100, nothing more: {offsets:?}");
        assert!(before.iter().all(|e| e.status == 200), "{offsets:?}");
        assert_eq!(hub.engine.store().count_products("main").await.unwrap(), 10_001);
        // Nor a second pass after it (the nightly round fired at start): let a few scheduler
        // rounds go by, then count again.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let full_pages = product_lists(&sim).iter().filter(|e| !is_incremental(e)).count();
        assert_eq!(full_pages, 101, "a second full pass ran after the first");
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_restart_in_the_middle_of_the_first_sync_resumes_it() {
    for db in test_databases("firstsync_restart").await {
        let sim = sim(3_050).await;
        // About 10 pages a second, so the pass can be stopped part-way.
        control(&sim, "PUT", "/_sim/rate-limit", json!({"per_minute": 600, "burst": 2})).await;
        let hub = Hub::start(options(&db, &sim, "first-process")).await.expect("hub starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let state = hub.engine.store().sync_state("main", "catalogue_full").await.unwrap();
            if state.and_then(|s| s.cursor["offset"].as_u64()).is_some_and(|o| o >= 1_000) {
                break;
            }
            assert!(Instant::now() < deadline, "the first sync never got going");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The process stops with the sync in flight (the grace period is shorter than the pass).
        hub.stop().await;
        let state = hub_state(&db).await;
        assert_eq!(state.status, "running", "stopped part-way: {state:?}");
        let resume_from = state.cursor["offset"].as_u64().unwrap();
        assert!((1_000..3_050).contains(&resume_from), "{state:?}");
        let pages_first_process = product_lists(&sim).len();

        control(&sim, "PUT", "/_sim/rate-limit", json!({"per_minute": 0})).await;
        let hub = Hub::start(options(&db, &sim, "second-process")).await.expect("hub restarts");
        let before = lists_before_first_incremental(&sim).await;
        assert!(before.len() >= pages_first_process, "an incremental poll ran before the full pass was done");
        let after_restart: Vec<u64> = before[pages_first_process..]
            .iter()
            .filter_map(|e| e.query.strip_prefix("offset=").and_then(|o| o.parse().ok()))
            .collect();
        assert_eq!(after_restart.first(), Some(&resume_from), "resumed at the stored offset: {after_restart:?}");
        assert!(after_restart.windows(2).all(|w| w[0] < w[1]), "each page once: {after_restart:?}");
        // 31 pages in all, plus at most the one page in flight when the first process stopped
        // (answers refused by the slowed-down rate limit are not pages read).
        let read: Vec<&str> = before.iter().filter(|e| e.status == 200).map(|e| e.query.as_str()).collect();
        assert!((31..=32).contains(&read.len()), "{} pages read: {read:?}", read.len());
        assert_eq!(hub.engine.store().count_products("main").await.unwrap(), 3_050);
        hub.stop().await;
    }
}

async fn hub_state(db: &str) -> kade_store::SyncState {
    let store = kade_store::Store::open(db).await.unwrap();
    let state = store.sync_state("main", "catalogue_full").await.unwrap().unwrap();
    store.close().await;
    state
}
