//! Shared fixtures: a simulator, a client for it, the control API, a webhook receiver.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use kade_picqer::{ApiKey, ClientConfig, PicqerClient};
use kade_sim::picqer::{PicqerSimConfig, RunningSim, start};
use serde_json::Value;

/// A child process (a `kade` the test started) that is killed and reaped when the test ends,
/// also when it fails half-way.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The admin token of every test hub.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// A test hub's options: `db`, these Picqer connections, a free loopback port, the test token and
/// master key, workers off, short retry delays. Tests change what they are about with
/// struct-update syntax (`HubOptions { background: true, ..hub_options(db, picqer) }`).
pub fn hub_options(db: &str, picqer: Vec<kade_engine::picqer::PicqerSettings>) -> kade_server::HubOptions {
    let mut opts = kade_server::HubOptions::local(db, ADMIN_TOKEN, b"test master key material, 32+ bytes long", picqer);
    opts.engine = kade_engine::EngineConfig {
        worker_id: "test-worker".into(),
        backoff_base: Duration::from_millis(5),
        backoff_cap: Duration::from_millis(20),
        ..kade_engine::EngineConfig::default()
    };
    opts.body_limit = 256 * 1024;
    opts
}

/// A simulator with `products` products and the rate limit lifted (tests that are about the
/// limit set it themselves).
pub async fn sim(products: usize) -> RunningSim {
    sim_with(PicqerSimConfig { products, rate_limit_per_minute: 0, ..PicqerSimConfig::default() }).await
}

pub async fn sim_with(cfg: PicqerSimConfig) -> RunningSim {
    let _ = rustls::crypto::ring::default_provider().install_default();
    start(cfg, "127.0.0.1:0".parse().unwrap()).await.expect("simulator starts")
}

/// A client with short retry delays so failure-path tests stay fast.
pub fn client(sim: &RunningSim) -> PicqerClient {
    client_with(sim, |_| {})
}

pub fn client_with(sim: &RunningSim, tweak: impl FnOnce(&mut ClientConfig)) -> PicqerClient {
    let mut cfg = ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key())).contact("kade tests");
    cfg.retry_base = Duration::from_millis(20);
    cfg.retry_cap = Duration::from_millis(200);
    tweak(&mut cfg);
    PicqerClient::new(cfg).expect("client builds")
}

/// Calls the simulator's control API; panics with the body on a non-2xx answer.
pub async fn control(sim: &RunningSim, method: &str, path: &str, body: Value) -> Value {
    let (status, v) = control_raw(sim, method, path, body).await;
    assert!((200..300).contains(&status), "control {method} {path} answered {status}: {v}");
    v
}

pub async fn control_raw(sim: &RunningSim, method: &str, path: &str, body: Value) -> (u16, Value) {
    let http = reqwest::Client::new();
    let url = format!("{}{path}", sim.root_url());
    let req = match method {
        "GET" => http.get(url),
        "PUT" => http.put(url).json(&body),
        "DELETE" => http.delete(url),
        _ => http.post(url).json(&body),
    };
    let resp = req.send().await.expect("control API reachable");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Journal entries for requests whose path starts with `prefix`.
pub fn journal_for(sim: &RunningSim, method: &str, prefix: &str) -> Vec<kade_sim::picqer::JournalEntry> {
    sim.journal().into_iter().filter(|e| e.method == method && e.path.starts_with(prefix)).collect()
}

/// One delivery as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub body: Bytes,
    pub signature: Option<String>,
}

/// A webhook receiver answering `status` (changeable), recording every delivery.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub deliveries: Arc<Mutex<Vec<Delivery>>>,
    pub status: Arc<Mutex<u16>>,
}

impl Receiver {
    pub async fn start(status: u16) -> Receiver {
        let deliveries = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(Mutex::new(status));
        let state = (deliveries.clone(), status.clone());
        let app = Router::new().route("/hook", post(record)).with_state(state);
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, deliveries, status }
    }

    pub fn taken(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }

    /// Waits (real time, bounded) until at least `n` deliveries arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        for _ in 0..500 {
            if self.deliveries.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.taken()
    }
}

type RecState = (Arc<Mutex<Vec<Delivery>>>, Arc<Mutex<u16>>);

async fn record(State((log, status)): State<RecState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers.get("x-picqer-signature").and_then(|v| v.to_str().ok()).map(str::to_string);
    log.lock().unwrap().push(Delivery { body, signature });
    StatusCode::from_u16(*status.lock().unwrap()).unwrap()
}

/// Databases a hub test runs on: a fresh SQLite file always, and a fresh PostgreSQL schema when
/// `KADE_TEST_DATABASE_URL` is set (CI sets it against the local server).
pub async fn test_databases(tag: &str) -> Vec<String> {
    let unique = format!("{tag}_{}_{:08x}", std::process::id(), fastrand::u32(..));
    let dir = std::env::temp_dir().join("kade-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let mut urls = vec![format!("sqlite:{}", dir.join(format!("{unique}.db")).display())];
    if let Ok(url) = std::env::var("KADE_TEST_DATABASE_URL") {
        let schema = format!("it_{unique}");
        urls.push(kade_store::create_postgres_schema(&url, &schema).await.expect("create a test schema"));
    }
    urls
}
