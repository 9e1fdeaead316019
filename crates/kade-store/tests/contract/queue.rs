//! Queue: coalescing, dedupe keys, claim order, per-entity serialisation, concurrency.

use std::collections::{BTreeMap, HashSet};

use kade_store::StoreError;
use serde_json::json;

use crate::{each_backend, job};

#[tokio::test]
async fn a_hundred_enqueues_for_one_entity_coalesce_into_one_job() {
    each_backend(async |s| {
        let mut ids = HashSet::new();
        for i in 0..100 {
            let mut j = job("stock_sync", Some("picqer:product:1"), 1_000 - i);
            j.payload = json!({ "seq": i });
            ids.insert(s.enqueue(&j).await.unwrap());
        }
        assert_eq!(ids.len(), 1, "one job for one entity");
        let id = *ids.iter().next().unwrap();
        let j = s.job(id).await.unwrap().unwrap();
        assert_eq!(j.payload, json!({ "seq": 99 }), "newest payload wins");
        assert_eq!(j.run_at_ms, 901, "earliest run_at kept");
        // Other kinds, other entities and entity-less jobs are not merged.
        let other_kind = s.enqueue(&job("price_sync", Some("picqer:product:1"), 0)).await.unwrap();
        let other_entity = s.enqueue(&job("stock_sync", Some("picqer:product:2"), 0)).await.unwrap();
        let free1 = s.enqueue(&job("stock_sync", None, 0)).await.unwrap();
        let free2 = s.enqueue(&job("stock_sync", None, 0)).await.unwrap();
        assert_eq!(HashSet::from([id, other_kind, other_entity, free1, free2]).len(), 5);
        assert_eq!(s.queue_counts().await.unwrap()["queued"], 5);
    })
    .await;
}

#[tokio::test]
async fn a_running_job_is_not_merged_into_and_its_successor_waits_for_it() {
    each_backend(async |s| {
        let first = s.enqueue(&job("stock_sync", Some("p:1"), 0)).await.unwrap();
        let claimed = s.claim("w1", 10, 60_000, 10).await.unwrap();
        assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), [first]);

        let second = s.enqueue(&job("stock_sync", Some("p:1"), 0)).await.unwrap();
        assert_ne!(second, first, "a running job does not absorb new work");
        let third = s.enqueue(&job("stock_sync", Some("p:1"), 0)).await.unwrap();
        assert_eq!(third, second, "but the new queued one does");
        assert!(s.claim("w2", 10, 60_000, 20).await.unwrap().is_empty(), "entity busy: successor not claimable");

        assert!(s.complete(first, "w1").await.unwrap());
        let next = s.claim("w2", 10, 60_000, 30).await.unwrap();
        assert_eq!(next.iter().map(|j| j.id).collect::<Vec<_>>(), [second]);
    })
    .await;
}

#[tokio::test]
async fn dedupe_keys_return_the_existing_job() {
    each_backend(async |s| {
        let mut j = job("schedule:hook_supervisor", None, 0);
        j.dedupe_key = Some("hook_supervisor:1700000000000".into());
        let a = s.enqueue(&j).await.unwrap();
        let b = s.enqueue(&j).await.unwrap();
        assert_eq!(a, b);
        // Still deduplicated after the job ran.
        s.claim("w", 1, 1_000, 0).await.unwrap();
        assert!(s.complete(a, "w").await.unwrap());
        assert_eq!(s.enqueue(&j).await.unwrap(), a);
        assert_eq!(s.jobs(None, 10).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn claim_follows_priority_then_run_at_and_skips_future_jobs() {
    each_backend(async |s| {
        let late = s.enqueue(&job("a", None, 50)).await.unwrap();
        let early = s.enqueue(&job("b", None, 10)).await.unwrap();
        let mut urgent = job("c", None, 90);
        urgent.priority = 10;
        let urgent = s.enqueue(&urgent).await.unwrap();
        let _future = s.enqueue(&job("d", None, 1_000)).await.unwrap();

        let got = s.claim("w", 10, 5_000, 100).await.unwrap();
        assert_eq!(got.iter().map(|j| j.id).collect::<Vec<_>>(), [urgent, early, late]);
        for j in &got {
            assert_eq!(j.state, "running");
            assert_eq!(j.attempts, 1);
            assert_eq!(j.locked_by.as_deref(), Some("w"));
            assert_eq!(j.lease_until_ms, Some(5_100));
        }
        assert!(s.claim("w", 10, 5_000, 100).await.unwrap().is_empty());
        assert_eq!(s.claim("w", 10, 5_000, 1_000).await.unwrap().len(), 1, "due once its time comes");
        assert!(s.claim("w", 0, 5_000, 10_000).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn claim_never_returns_two_jobs_of_one_entity() {
    each_backend(async |s| {
        for kind in ["stock", "price", "title"] {
            s.enqueue(&job(kind, Some("p:1"), 0)).await.unwrap();
        }
        s.enqueue(&job("stock", Some("p:2"), 0)).await.unwrap();
        let got = s.claim("w", 10, 60_000, 1).await.unwrap();
        let entities: Vec<_> = got.iter().map(|j| j.entity_key.clone().unwrap()).collect();
        assert_eq!(entities.len(), 2, "{entities:?}");
        assert_eq!(entities.iter().collect::<HashSet<_>>().len(), 2, "one per entity: {entities:?}");
        assert!(s.claim("w2", 10, 60_000, 2).await.unwrap().is_empty(), "p:1 is busy, p:2 has nothing queued");
        let p1 = got.iter().find(|j| j.entity_key.as_deref() == Some("p:1")).unwrap();
        assert!(s.complete(p1.id, "w").await.unwrap());
        assert_eq!(s.claim("w2", 10, 60_000, 3).await.unwrap().len(), 1, "next job of p:1, alone");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_share_a_job_and_each_runs_once() {
    each_backend(async |s| {
        const JOBS: usize = 240;
        let mut expected = HashSet::new();
        for i in 0..JOBS {
            // A third of the jobs share ten entities, to exercise per-entity exclusion under load.
            let entity = (i % 3 == 0).then(|| format!("e:{}", i % 10));
            let mut j = job(&format!("kind{i}"), entity.as_deref(), 0);
            j.payload = json!({ "i": i });
            expected.insert(s.enqueue(&j).await.unwrap());
        }
        assert_eq!(expected.len(), JOBS);

        // Entities currently held by some worker, as the workers see it: a claim of an entity
        // already in here would be two jobs of one entity running at once.
        let held = std::sync::Arc::new(std::sync::Mutex::new(HashSet::<String>::new()));
        let mut tasks = Vec::new();
        for w in 0..4 {
            let s = s.clone();
            let held = held.clone();
            tasks.push(tokio::spawn(async move {
                let worker = format!("w{w}");
                let mut done = Vec::new();
                let mut idle = 0;
                while idle < 20 {
                    let jobs = s.claim(&worker, 7, 60_000, 1).await.unwrap();
                    if jobs.is_empty() {
                        idle += 1;
                        tokio::task::yield_now().await;
                        continue;
                    }
                    idle = 0;
                    for e in jobs.iter().filter_map(|j| j.entity_key.clone()) {
                        assert!(held.lock().unwrap().insert(e.clone()), "entity {e} handed out twice at once");
                    }
                    tokio::task::yield_now().await;
                    for j in jobs {
                        if let Some(e) = &j.entity_key {
                            held.lock().unwrap().remove(e);
                        }
                        assert!(s.complete(j.id, &worker).await.unwrap(), "{worker} lost job {}", j.id);
                        done.push(j.id);
                    }
                }
                done
            }));
        }
        let mut runs: BTreeMap<i64, usize> = BTreeMap::new();
        for t in tasks {
            for id in t.await.unwrap() {
                *runs.entry(id).or_default() += 1;
            }
        }
        assert_eq!(runs.len(), JOBS, "every job completed");
        assert!(runs.values().all(|&n| n == 1), "each job completed exactly once");
        assert_eq!(runs.keys().copied().collect::<HashSet<_>>(), expected);
        assert_eq!(s.queue_counts().await.unwrap()["done"], JOBS as i64);
    })
    .await;
}

#[tokio::test]
async fn listing_counts_and_state_validation() {
    each_backend(async |s| {
        let a = s.enqueue(&job("a", None, 0)).await.unwrap();
        let b = s.enqueue(&job("b", None, 0)).await.unwrap();
        let c = s.enqueue(&job("c", None, 5_000)).await.unwrap();
        s.claim("w", 2, 1_000, 0).await.unwrap();
        assert!(s.complete(a, "w").await.unwrap());

        let counts = s.queue_counts().await.unwrap();
        let expect: BTreeMap<String, i64> =
            [("dead", 0), ("done", 1), ("queued", 1), ("running", 1)].map(|(k, v)| (k.to_string(), v)).into();
        assert_eq!(counts, expect);
        let all: Vec<i64> = s.jobs(None, 10).await.unwrap().iter().map(|j| j.id).collect();
        assert_eq!(all, [c, b, a], "newest first");
        assert_eq!(s.jobs(Some("running"), 10).await.unwrap()[0].id, b);
        assert_eq!(s.jobs(None, 1).await.unwrap().len(), 1);
        assert!(matches!(s.jobs(Some("sleeping"), 10).await, Err(StoreError::Invalid(_))));
        assert!(s.job(999_999).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claim_tick_is_won_once_per_schedule_and_fire_time() {
    each_backend(async |s| {
        assert!(s.claim_tick("hook_supervisor", 300_000).await.unwrap());
        assert!(!s.claim_tick("hook_supervisor", 300_000).await.unwrap());
        assert!(s.claim_tick("hook_supervisor", 600_000).await.unwrap());
        assert!(s.claim_tick("nightly_reconcile", 300_000).await.unwrap());

        let mut tasks = Vec::new();
        for _ in 0..6 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move { s.claim_tick("contended", 42).await.unwrap() }));
        }
        let mut winners = 0;
        for t in tasks {
            winners += usize::from(t.await.unwrap());
        }
        assert_eq!(winners, 1);
    })
    .await;
}
