//! `kade serve` as a process: configuration, background workers, ingress, admin API, SIGTERM.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{KillOnDrop, control, sim, test_databases};

const TOKEN: &str = "serve-test-admin-token-123";

async fn get(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn serve_syncs_takes_webhooks_and_stops_on_sigterm() {
    let db = test_databases("serve").await.remove(0);
    let sim = sim(150).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("kade-serve-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("kade.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\nadmin_token = \"env:KADE_ADMIN_TOKEN\"\n\n\
             [database]\nurl = \"{db}\"\n\n[security]\nmaster_key = \"env:KADE_MASTER_KEY\"\n\n\
             [picqer.main]\nbase_url = \"{}\"\napi_key = \"env:PICQER_API_KEY\"\nevents = [\"products.free_stock_changed\"]\n",
            sim.base_url()
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_kade"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .env("KADE_ADMIN_TOKEN", TOKEN)
        .env("KADE_MASTER_KEY", "a master key for the serve test, long enough")
        .env("PICQER_API_KEY", sim.api_key())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let base = format!("http://127.0.0.1:{port}");

    // The first full sync runs in the background: wait until the mirror has the catalogue.
    let mut synced = false;
    for _ in 0..200 {
        let sent =
            reqwest::Client::new().get(format!("{base}/api/v1/connections/main/sync")).bearer_auth(TOKEN).send().await;
        if let Ok(r) = sent
            && r.status().is_success()
            && r.json::<Value>().await.unwrap()["products"] == 150
        {
            synced = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(synced, "the first full sync did not complete");
    assert_eq!(get(&format!("{base}/healthz"), None).await.status(), 200);
    assert_eq!(get(&format!("{base}/api/v1/connections"), None).await.status(), 401);
    assert_eq!(get(&format!("{base}/api/v1/connections"), Some("wrong")).await.status(), 401);

    // A stock change in Picqer reaches the mirror through a signed webhook and a worker.
    let products: Value = get(&format!("{base}/api/v1/catalogue/products?productcode=SNK-0001-GRN-40"), Some(TOKEN))
        .await
        .json()
        .await
        .unwrap();
    let id = products[0]["idproduct"].as_i64().unwrap();
    let wh = products[0]["stock"][0]["idwarehouse"].as_i64().unwrap();
    control(&sim, "POST", &format!("/_sim/products/{id}/stock"), json!({"idwarehouse": wh, "amount": 4321})).await;
    let mut seen = false;
    for _ in 0..200 {
        let p: Value = get(&format!("{base}/api/v1/catalogue/products?productcode=SNK-0001-GRN-40"), Some(TOKEN))
            .await
            .json()
            .await
            .unwrap();
        if p[0]["stock"].as_array().unwrap().iter().any(|s| s["stock"] == 4321) {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen, "the stock change did not reach the mirror");
    let metrics = get(&format!("{base}/metrics"), None).await.text().await.unwrap();
    assert!(metrics.contains("kade_webhooks_total{source=\"picqer\",result=\"accepted\"}"), "{metrics}");

    // SIGTERM: a clean stop.
    let pid = child.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::task::spawn_blocking(move || child.0.wait()).await.unwrap().unwrap();
    assert!(status.success(), "kade serve exited with {status}");
}

#[tokio::test]
async fn replay_requeues_dead_jobs_from_the_command_line() {
    let db = test_databases("replay").await.remove(0);
    let store = kade_store::Store::open(&db).await.unwrap();
    let job = kade_store::NewJob {
        kind: "picqer.product_refresh".into(),
        entity_key: Some("main/product/1".into()),
        payload: json!({"connection": "main", "idproduct": 1}),
        run_at_ms: 0,
        max_attempts: 1,
        dedupe_key: None,
        priority: 0,
    };
    let id = store.enqueue(&job).await.unwrap();
    store.claim("w", 1, 60_000, kade_engine::now_ms()).await.unwrap();
    store.fail_permanently(id, "w", "boom").await.unwrap();
    store.close().await;

    let dir = std::env::temp_dir().join(format!("kade-replay-{}-{id}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("kade.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\npublic_url = \"http://127.0.0.1:1\"\nadmin_token = \"{TOKEN}\"\n[database]\nurl = \"{db}\"\n\
             [security]\nmaster_key = \"a master key for the replay test, long enough\"\n\
             [picqer.main]\nbase_url = \"http://127.0.0.1:1/api/v1\"\napi_key = \"k\"\n"
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kade"))
            .args(["replay", "--config", config.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--dead"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("✓ job {id}")) && stdout.contains("it was dead"), "{stdout}");
    let store = kade_store::Store::open(&db).await.unwrap();
    assert_eq!(store.job(id).await.unwrap().unwrap().state, "queued");
    store.close().await;

    let out = run(&["--job", "999999"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("no such job"));
    let out = run(&[]);
    assert!(!out.status.success(), "one of --job, --event, --dead is required");
}
