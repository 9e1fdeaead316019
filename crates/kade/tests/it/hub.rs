//! The hub runtime end to end: Kade (store, engine, ingress) against the Picqer simulator, on
//! SQLite always and on PostgreSQL when `KADE_TEST_DATABASE_URL` is set.

use std::time::Duration;

use kade_engine::EngineConfig;
use kade_engine::picqer::PicqerJob;
use kade_engine::picqer::{ConnectError, PicqerSettings};
use kade_picqer::types::{ProductFilter, ProductUpdate};
use kade_picqer::{ApiKey, ClientConfig};
use kade_server::{Hub, HubError, HubOptions};
use kade_sim::picqer::RunningSim;
use serde_json::{Value, json};

use crate::support::{client, control, hub_options, sim, test_databases};

const EVENTS: [&str; 3] = ["products.changed", "products.free_stock_changed", "orders.status_changed"];

fn settings(sim: &RunningSim, key: &str) -> PicqerSettings {
    let mut client = ClientConfig::with_base_url(sim.base_url(), ApiKey::new(key));
    client.retry_base = Duration::from_millis(20);
    client.retry_cap = Duration::from_millis(100);
    PicqerSettings {
        name: "main".into(),
        client,
        webhook_url: String::new(),
        events: EVENTS.iter().map(|e| e.to_string()).collect(),
    }
}

fn options(db: &str, picqer: Vec<PicqerSettings>) -> HubOptions {
    // This file's tests count retries against the default backoff.
    HubOptions {
        engine: EngineConfig { worker_id: "test-worker".into(), ..EngineConfig::default() },
        ..hub_options(db, picqer)
    }
}

async fn hub(db: &str, sim: &RunningSim) -> Hub {
    Hub::start(options(db, vec![settings(sim, sim.api_key())])).await.expect("hub starts")
}

async fn admin_get(hub: &Hub, path: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1{path}", hub.url()))
        .bearer_auth("test-admin-token-0123456789")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().await.unwrap()
}

#[tokio::test]
async fn connect_reports_each_bad_case_distinctly() {
    for db in test_databases("connect").await {
        let sim = sim(5).await;
        let err = Hub::start(options(&db, vec![settings(&sim, "wrong-key")])).await.err().expect("a wrong key fails");
        assert!(
            matches!(
                err,
                HubError::Connect(ConnectError::Picqer { source: kade_picqer::ConnectError::Unauthorized, .. })
            ),
            "{err}"
        );
        assert!(!err.to_string().contains("wrong-key"), "the key must not leak: {err}");

        let mut s = settings(&sim, sim.api_key());
        s.client.base_url = format!("{}/nope/api/v1", sim.root_url());
        let err = Hub::start(options(&db, vec![s])).await.err().expect("an unknown account fails");
        assert!(
            matches!(
                err,
                HubError::Connect(ConnectError::Picqer {
                    source: kade_picqer::ConnectError::UnknownAccount { .. },
                    ..
                })
            ),
            "{err}"
        );

        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let mut s = settings(&sim, sim.api_key());
        s.client.base_url = format!("http://{closed}/api/v1");
        s.client.max_transient_retries = 0;
        let err = Hub::start(options(&db, vec![s])).await.err().expect("an unreachable host fails");
        assert!(
            matches!(
                err,
                HubError::Connect(ConnectError::Picqer { source: kade_picqer::ConnectError::Unreachable { .. }, .. })
            ),
            "{err}"
        );
    }
}

#[tokio::test]
async fn hooks_install_idempotently_and_the_catalogue_mirrors() {
    for db in test_databases("install").await {
        let sim = sim(250).await;
        let hub = hub(&db, &sim).await;
        let ours = |sim: &RunningSim| {
            let hooks = sim.hooks().list();
            hooks.into_iter().filter(|h| h.active && h.address.ends_with("/webhooks/picqer/main")).count()
        };
        assert_eq!(ours(&sim), EVENTS.len());
        let plan = hub.engine.picqer("main").unwrap().install_hooks().await.unwrap();
        assert!(plan.is_noop(), "a second install changes nothing: {plan:?}");
        assert_eq!(ours(&sim), EVENTS.len());

        hub.engine.drain().await.unwrap();
        assert_eq!(hub.engine.store().count_products("main").await.unwrap(), 250);
        let status = admin_get(&hub, "/connections/main/sync").await;
        assert_eq!(status["catalogue_full"]["status"], "done");
        assert_eq!(status["catalogue_full"]["items"], 250);

        // Incremental: a product renamed in Picqer reaches the mirror on the next incremental run.
        let picqer = client(&sim);
        let p = picqer.products(&ProductFilter::default()).next_page().await.unwrap().unwrap().remove(3);
        picqer
            .update_product(p.idproduct, &ProductUpdate { name: Some("Renamed".into()), ..Default::default() })
            .await
            .unwrap();
        hub.engine.picqer("main").unwrap().enqueue(&hub.engine, PicqerJob::CatalogueIncremental, None).await.unwrap();
        hub.engine.drain().await.unwrap();
        let mirrored = hub.engine.store().product("main", p.idproduct.0 as i64).await.unwrap().unwrap();
        assert_eq!(mirrored.name, "Renamed");
        let found = admin_get(&hub, &format!("/catalogue/products?productcode={}", p.productcode)).await;
        assert_eq!(found[0]["name"], "Renamed");
        assert!(found[0]["stock"].as_array().is_some_and(|s| !s.is_empty()));
        hub.stop().await;
        // Restarting Kade on the same database installs nothing new.
        let again = hub_restart(&db, &sim).await;
        assert_eq!(ours(&sim), EVENTS.len());
        again.stop().await;
    }
}

async fn hub_restart(db: &str, sim: &RunningSim) -> Hub {
    hub(db, sim).await
}

#[tokio::test]
async fn webhooks_are_verified_deduplicated_and_applied_newest_last() {
    for db in test_databases("ingest").await {
        let sim = sim(20).await;
        let hub = hub(&db, &sim).await;
        hub.engine.drain().await.unwrap();
        let picqer = client(&sim);
        let p = picqer.products(&ProductFilter::default()).next_page().await.unwrap().unwrap().remove(0);

        // Two renames delivered in reverse order: the mirror ends with the newest state.
        control(&sim, "PUT", "/_sim/hooks/faults", json!({"reorder_window": 2})).await;
        for name in ["First", "Second"] {
            picqer
                .update_product(p.idproduct, &ProductUpdate { name: Some(name.into()), ..Default::default() })
                .await
                .unwrap();
        }
        sim.hooks().settle().await;
        control(&sim, "PUT", "/_sim/hooks/faults", json!({})).await;
        wait_for_events(&hub, 2).await;
        hub.engine.drain().await.unwrap();
        assert_eq!(hub.engine.store().product("main", p.idproduct.0 as i64).await.unwrap().unwrap().name, "Second");

        // A redelivery (same bytes) is acknowledged but processed once.
        let hook = sim.hooks().list().into_iter().find(|h| h.event == "products.changed" && h.active).unwrap();
        let body = json!({"idhook": hook.idhook, "name": hook.name, "event": "products.changed",
                          "event_triggered_at": "2026-11-23 10:00:00", "data": {"idproduct": p.idproduct.0}})
        .to_string();
        let before = hub.engine.store().count_events().await.unwrap();
        let http = reqwest::Client::new();
        for _ in 0..2 {
            let url = format!("{}/_sim/hooks/{}/deliver", sim.root_url(), hook.idhook);
            assert!(http.post(url).body(body.clone()).send().await.unwrap().status().is_success());
        }
        sim.hooks().settle().await;
        wait_for_events(&hub, (before + 1) as usize).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(hub.engine.store().count_events().await.unwrap(), before + 1, "the duplicate is not stored again");
        hub.stop().await;
    }
}

async fn wait_for_events(hub: &Hub, n: usize) {
    for _ in 0..300 {
        if hub.engine.store().count_events().await.unwrap() as usize >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("fewer than {n} events arrived");
}

#[tokio::test]
async fn refused_deliveries_store_nothing() {
    for db in test_databases("refuse").await {
        let sim = sim(5).await;
        let hub = hub(&db, &sim).await;
        hub.engine.drain().await.unwrap();
        let url = format!("{}/webhooks/picqer/main", hub.url());
        let http = reqwest::Client::new();
        let (events, jobs) =
            (hub.engine.store().count_events().await.unwrap(), hub.engine.store().queue_counts().await.unwrap());
        let body = r#"{"idhook":1,"name":"x","event":"products.changed","event_triggered_at":"2026-01-01 00:00:00","data":{"idproduct":1}}"#;

        let resp = http.post(&url).header("X-Picqer-Signature", "AAAA").body(body).send().await.unwrap();
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.json::<Value>().await.unwrap()["error"], "bad_signature");
        assert_eq!(http.post(&url).body(body).send().await.unwrap().status(), 401, "a missing signature is refused");

        // Signed with a real hook secret, but not JSON.
        let (idhook, secret) = {
            let hooks = sim.hooks().list();
            let h = hooks.iter().find(|h| h.active).unwrap();
            (h.idhook, h.secret_value.clone().unwrap())
        };
        let garbage = b"{not json";
        let sig = kade_picqer::webhook::WebhookSecret::new(secret.as_bytes()).sign(garbage);
        let resp = http.post(&url).header("X-Picqer-Signature", sig).body(&garbage[..]).send().await.unwrap();
        assert_eq!(resp.status(), 400);
        let _ = idhook;

        let big = vec![b' '; 300 * 1024];
        assert_eq!(http.post(&url).body(big).send().await.unwrap().status(), 413);
        let resp = http.post(format!("{}/webhooks/picqer/nope", hub.url())).body(body).send().await.unwrap();
        assert_eq!(resp.status(), 404);
        assert_eq!(resp.json::<Value>().await.unwrap()["error"], "unknown_connection");

        assert_eq!(hub.engine.store().count_events().await.unwrap(), events, "nothing stored");
        assert_eq!(hub.engine.store().queue_counts().await.unwrap(), jobs, "nothing enqueued");
        let metrics = reqwest::get(format!("{}/metrics", hub.url())).await.unwrap().text().await.unwrap();
        assert!(metrics.contains("result=\"bad_signature\"} 2"), "{metrics}");
        assert!(metrics.contains("result=\"too_large\"} 1"), "{metrics}");
        hub.stop().await;
    }
}

#[tokio::test]
async fn the_supervisor_heals_a_deactivated_hook_and_backfills() {
    for db in test_databases("supervise").await {
        let sim = sim(30).await;
        let hub = hub(&db, &sim).await;
        hub.engine.drain().await.unwrap();
        let hook = sim.hooks().list().into_iter().find(|h| h.event == "products.changed" && h.active).unwrap();
        control(&sim, "POST", &format!("/_sim/hooks/{}/deactivate", hook.idhook), json!({})).await;

        // A change while the hook is down: no delivery reaches Kade.
        let picqer = client(&sim);
        let p = picqer.products(&ProductFilter::default()).next_page().await.unwrap().unwrap().remove(5);
        picqer
            .update_product(
                p.idproduct,
                &ProductUpdate { name: Some("Changed while down".into()), ..Default::default() },
            )
            .await
            .unwrap();
        sim.hooks().settle().await;

        let conn = hub.engine.picqer("main").unwrap();
        let report = conn.supervise(&hub.engine).await.unwrap();
        assert_eq!(report.plan.reactivate, vec![hook.idhook]);
        assert!(report.backfill_queued);
        assert!(sim.hooks().get(hook.idhook).unwrap().active, "healed in Picqer");
        hub.engine.drain().await.unwrap();
        let mirrored = hub.engine.store().product("main", p.idproduct.0 as i64).await.unwrap().unwrap();
        assert_eq!(mirrored.name, "Changed while down", "the back-fill caught the missed change");
        let again = conn.supervise(&hub.engine).await.unwrap();
        assert!(again.plan.is_noop() && !again.backfill_queued);
        hub.stop().await;
    }
}

#[tokio::test]
async fn disconnect_retires_hooks_and_credentials_but_keeps_the_mirror() {
    for db in test_databases("disconnect").await {
        let sim = sim(12).await;
        let hub = hub(&db, &sim).await;
        hub.engine.drain().await.unwrap();
        hub.engine.picqer("main").unwrap().disconnect().await.unwrap();
        assert!(sim.hooks().list().iter().all(|h| !h.active), "every Kade hook deactivated in Picqer");
        let conn = hub.engine.store().connection("main").await.unwrap().unwrap();
        assert!(conn.secrets_enc.is_none());
        assert_eq!(hub.engine.store().count_products("main").await.unwrap(), 12);
        let listed = admin_get(&hub, "/connections").await;
        assert_eq!(listed[0]["has_credentials"], false);
        hub.stop().await;
    }
}

#[tokio::test]
async fn every_admin_route_exists_is_documented_and_needs_the_token() {
    let db = test_databases("admin").await.remove(0);
    let sim = sim(5).await;
    let hub = hub(&db, &sim).await;
    let http = reqwest::Client::new();
    for (method, path) in kade_server::openapi::ROUTES {
        let path = path.replace("{name}", "main").replace("{id}", "1");
        let url = format!("{}/api/v1{path}", hub.url());
        let req = match *method {
            "post" => http.post(&url).json(&json!({"kind": "full"})),
            "delete" => http.delete(&url),
            _ => http.get(&url),
        };
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{method} {path} should exist and require the token");
    }
    let unknown = http.get(format!("{}/api/v1/nope", hub.url())).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let doc: Value = http.get(format!("{}/api/openapi.json", hub.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    // Replaying an event re-runs its job.
    hub.engine.drain().await.unwrap();
    let picqer = client(&sim);
    let p = picqer.products(&ProductFilter::default()).next_page().await.unwrap().unwrap().remove(0);
    picqer
        .update_product(p.idproduct, &ProductUpdate { name: Some("Replay me".into()), ..Default::default() })
        .await
        .unwrap();
    sim.hooks().settle().await;
    wait_for_events(&hub, 1).await;
    hub.engine.drain().await.unwrap();
    let events = admin_get(&hub, "/events").await;
    let id = events[0]["id"].as_i64().unwrap();
    let resp = http
        .post(format!("{}/api/v1/events/{id}/replay", hub.url()))
        .bearer_auth("test-admin-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    assert_eq!(hub.engine.drain().await.unwrap(), 1, "the replayed job ran again");
    hub.stop().await;
}

#[tokio::test]
async fn scheduled_rounds_are_queued_once_across_processes() {
    for db in test_databases("schedule").await {
        let sim = sim(5).await;
        let hub = hub(&db, &sim).await;
        hub.engine.drain().await.unwrap();
        let schedules = kade_engine::scheduler::picqer_schedules("main", Duration::from_secs(900));
        // Two processes (two independent "last fired" memories) tick the same round.
        let first = kade_engine::scheduler::tick(&hub.engine, &schedules, &mut Default::default()).await;
        let second = kade_engine::scheduler::tick(&hub.engine, &schedules, &mut Default::default()).await;
        assert_eq!((first, second), (3, 0), "each schedule's round is queued exactly once");
        assert_eq!(hub.engine.drain().await.unwrap(), 3, "supervisor, incremental sync and nightly full sync ran");
        hub.stop().await;
    }
}

#[tokio::test]
async fn a_failing_partner_ends_in_dead_letters_and_replay_recovers() {
    for db in test_databases("deadletter").await {
        let sim = sim(5).await;
        let mut opts = options(&db, vec![settings(&sim, sim.api_key())]);
        opts.engine.max_attempts = 2;
        opts.engine.backoff_base = Duration::from_millis(1);
        opts.engine.backoff_cap = Duration::from_millis(5);
        let hub = Hub::start(opts).await.unwrap();
        hub.engine.drain().await.unwrap();
        let p = client(&sim).products(&ProductFilter::default()).next_page().await.unwrap().unwrap().remove(2);
        let path = format!("/api/v1/products/{}", p.idproduct);
        control(&sim, "POST", "/_sim/faults", json!({"method": "GET", "path": path, "status": 500, "times": 0})).await;

        let conn = hub.engine.picqer("main").unwrap();
        let job = hub
            .engine
            .store()
            .enqueue(&kade_store::NewJob {
                kind: kade_engine::picqer::PRODUCT_REFRESH_KIND.into(),
                entity_key: Some(format!("main/product/{}", p.idproduct)),
                payload: json!({"connection": conn.name(), "idproduct": p.idproduct.0}),
                run_at_ms: kade_engine::now_ms(),
                max_attempts: 2,
                dedupe_key: None,
                priority: 0,
            })
            .await
            .unwrap();
        for _ in 0..50 {
            hub.engine.drain().await.unwrap();
            if hub.engine.store().job(job).await.unwrap().unwrap().state == "dead" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let dead = admin_get(&hub, "/dead-letters").await;
        assert_eq!(dead[0]["id"], job, "{dead}");
        assert!(dead[0]["last_error"].as_str().unwrap().contains("500"), "{dead}");
        // Each failed attempt's entry lists the Picqer calls it made (principle 9), retries
        // inside the client included.
        let entity = format!("main/product/{}", p.idproduct);
        let product_path = format!("/products/{}", p.idproduct);
        let call_of = |c: &Value| (c["system"].clone(), c["method"].clone(), c["path"].clone(), c["status"].clone());
        let failures: Vec<_> = hub
            .engine
            .store()
            .audit_for(&entity, 50)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action.starts_with("job retry") || e.action.starts_with("job dead"))
            .collect();
        assert_eq!(failures.len(), 2, "one entry per attempt: {failures:?}");
        for failed in &failures {
            let calls: Vec<_> = failed.detail["calls"].as_array().expect("calls listed").iter().map(call_of).collect();
            assert!(!calls.is_empty());
            assert!(
                calls.iter().all(|c| *c == (json!("picqer"), json!("GET"), json!(product_path), json!(500))),
                "{calls:?}"
            );
            assert_eq!(failed.detail["calls_total"], json!(calls.len()));
        }

        control(&sim, "DELETE", "/_sim/faults", json!({})).await;
        let resp = reqwest::Client::new()
            .post(format!("{}/api/v1/jobs/{job}/replay", hub.url()))
            .bearer_auth("test-admin-token-0123456789")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        hub.engine.drain().await.unwrap();
        assert_eq!(hub.engine.store().job(job).await.unwrap().unwrap().state, "done");
        assert!(hub.engine.store().product("main", p.idproduct.0 as i64).await.unwrap().is_some());
        // The successful attempt's effect entry lists its read of the product.
        let entries = hub.engine.store().audit_for(&entity, 50).await.unwrap();
        let done = entries.iter().find(|e| e.detail["job"] == json!(job) && e.detail.get("error").is_none()).unwrap();
        let calls: Vec<_> = done.detail["calls"].as_array().expect("calls listed").iter().map(call_of).collect();
        assert_eq!(calls, vec![(json!("picqer"), json!("GET"), json!(product_path), json!(200))], "{done:?}");
        hub.stop().await;
    }
}

#[tokio::test]
async fn an_interrupted_full_sync_resumes_where_it_stopped() {
    for db in test_databases("resume").await {
        let sim = sim(1_000).await;
        let hub = hub(&db, &sim).await;
        // Slow Picqer down (10 requests/s) so the sync can be interrupted half-way.
        control(&sim, "PUT", "/_sim/rate-limit", json!({"per_minute": 600, "burst": 2})).await;
        let engine = hub.engine.clone();
        let first = tokio::spawn(async move { engine.drain().await });
        let mut interrupted_at = 0;
        for _ in 0..500 {
            let state = hub.engine.store().sync_state("main", "catalogue_full").await.unwrap();
            let offset = state.map(|s| s.cursor["offset"].as_u64().unwrap_or(0)).unwrap_or(0);
            if offset >= 300 {
                control(
                    &sim,
                    "POST",
                    "/_sim/faults",
                    json!({"method": "GET", "path": "/api/v1/products", "status": 503, "times": 0}),
                )
                .await;
                interrupted_at = offset;
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(interrupted_at >= 300, "the sync never got going");
        first.await.unwrap().unwrap();
        let state = hub.engine.store().sync_state("main", "catalogue_full").await.unwrap().unwrap();
        assert_eq!(state.status, "running", "interrupted, not done: {state:?}");
        let resume_from = state.cursor["offset"].as_u64().unwrap();
        assert!((300..1_000).contains(&resume_from));

        control(&sim, "DELETE", "/_sim/faults", json!({})).await;
        control(&sim, "PUT", "/_sim/rate-limit", json!({"per_minute": 0})).await;
        control(&sim, "DELETE", "/_sim/journal", json!({})).await;
        for _ in 0..100 {
            hub.engine.drain().await.unwrap();
            if hub.engine.store().sync_state("main", "catalogue_full").await.unwrap().unwrap().status == "done" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(hub.engine.store().count_products("main").await.unwrap(), 1_000);
        let pages: Vec<u64> = sim
            .journal()
            .iter()
            .filter(|e| e.method == "GET" && e.path == "/api/v1/products")
            .filter_map(|e| e.query.strip_prefix("offset=").and_then(|o| o.parse().ok()))
            .collect();
        assert!(pages.iter().all(|o| *o >= resume_from), "pages before the resume point were fetched again: {pages:?}");
        assert_eq!(pages.first(), Some(&resume_from));
        hub.stop().await;
    }
}
