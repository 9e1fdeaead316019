//! The ingress under concurrency: many signed deliveries at once go through grouped commits
//! (`kade_engine::ingest`), and each must still get its own, correct answer. Performance is the
//! benchmark's business (`kade bench ingest`); this test only checks outcomes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kade_engine::EngineConfig;
use kade_engine::picqer::PicqerSettings;
use kade_picqer::webhook::WebhookSecret;
use kade_picqer::{ApiKey, ClientConfig};
use kade_server::{Hub, HubOptions};
use kade_sim::picqer::RunningSim;
use serde_json::{Value, json};

use crate::support::{hub_options, sim, test_databases};

const EVENT: &str = "products.free_stock_changed";
const DISTINCT: usize = 450;
/// Every ninth distinct delivery is sent a second time, byte for byte (as Picqer retries).
const REPEAT_EVERY: usize = 9;
const TASKS: usize = 32;

fn options(db: &str, sim: &RunningSim) -> HubOptions {
    let picqer = PicqerSettings {
        name: "main".into(),
        client: ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key())),
        webhook_url: String::new(),
        events: vec![EVENT.into()],
    };
    HubOptions {
        engine: EngineConfig { worker_id: "test-worker".into(), ..EngineConfig::default() },
        ..hub_options(db, vec![picqer])
    }
}

/// The deliveries to send, distinct ones first, then the repeats, interleaved so that a repeat
/// often races its original (same batch, or the next one).
fn deliveries(idhook: u64, name: &str) -> Vec<String> {
    let distinct: Vec<String> = (0..DISTINCT)
        .map(|i| {
            json!({"idhook": idhook, "name": name, "event": EVENT,
                   "event_triggered_at": format!("2026-11-23 10:{:02}:{:02}", i / 60 % 60, i % 60),
                   "data": {"idproduct": 1 + i % 7, "freestock": i}})
            .to_string()
        })
        .collect();
    let mut all = Vec::with_capacity(DISTINCT + DISTINCT / REPEAT_EVERY);
    for (i, body) in distinct.iter().enumerate() {
        all.push(body.clone());
        if i % REPEAT_EVERY == 0 {
            all.push(body.clone());
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_are_each_stored_once_and_answered_truthfully() {
    for db in test_databases("ingest_concurrent").await {
        let sim = sim(7).await;
        let hub = Hub::start(options(&db, &sim)).await.expect("hub starts");
        let url = format!("{}/webhooks/picqer/main", hub.url());
        let hook = sim.hooks().list().into_iter().find(|h| h.active && h.event == EVENT && h.address == url).unwrap();
        let secret = WebhookSecret::new(hook.secret_value.clone().unwrap().as_bytes());
        let bodies = Arc::new(deliveries(hook.idhook, &hook.name));
        let before = hub.engine.store().count_events().await.unwrap();

        let http = reqwest::Client::new();
        let mut tasks = tokio::task::JoinSet::new();
        for t in 0..TASKS {
            let (http, url, bodies, secret) = (http.clone(), url.clone(), bodies.clone(), secret.clone());
            tasks.spawn(async move {
                let mut answers = Vec::new();
                for body in bodies.iter().skip(t).step_by(TASKS) {
                    let resp = http
                        .post(&url)
                        .header("X-Picqer-Signature", secret.sign(body.as_bytes()))
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), 200, "every delivery is acknowledged");
                    answers.push((body.clone(), resp.json::<Value>().await.unwrap()));
                }
                answers
            });
        }
        // Per distinct body: how often it was answered "accepted" / "duplicate", and event ids.
        let mut seen: BTreeMap<String, (usize, usize, BTreeSet<i64>)> = BTreeMap::new();
        while let Some(answers) = tasks.join_next().await {
            for (body, answer) in answers.unwrap() {
                let entry = seen.entry(body).or_default();
                match answer["status"].as_str() {
                    Some("accepted") => entry.0 += 1,
                    Some("duplicate") => entry.1 += 1,
                    other => panic!("unexpected answer {other:?}: {answer}"),
                }
                entry.2.insert(answer["event_id"].as_i64().expect("an event id"));
            }
        }
        assert_eq!(seen.len(), DISTINCT);
        for (i, (accepted, duplicates, ids)) in seen.values().enumerate() {
            assert_eq!(*accepted, 1, "delivery {i}: accepted exactly once");
            assert_eq!(ids.len(), 1, "delivery {i}: a duplicate names the original event: {ids:?}");
            assert!(*duplicates <= 1);
        }
        let repeats: usize = seen.values().map(|s| s.1).sum();
        assert_eq!(repeats, DISTINCT.div_ceil(REPEAT_EVERY), "every repeat answered \"duplicate\"");

        let store = hub.engine.store();
        assert_eq!(store.count_events().await.unwrap(), before + DISTINCT as i64, "each distinct one stored once");
        let stored: BTreeSet<Vec<u8>> =
            store.events(Some("main"), 10_000).await.unwrap().into_iter().map(|e| e.body).collect();
        let sent: BTreeSet<Vec<u8>> = seen.keys().map(|b| b.clone().into_bytes()).collect();
        assert!(sent.is_subset(&stored), "the stored bodies are the bytes sent");
        assert!(hub.ingest.stats().items >= bodies.len() as u64, "every delivery went through the batcher");
        hub.stop().await;
    }
}
