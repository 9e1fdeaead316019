//! The proxy the hooks are addressed to: it forwards each delivery to whichever `kade serve` is
//! alive and remembers, per body, what Kade answered — the test's own record of which webhooks
//! were acknowledged, independent of Kade.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::TOKEN;

/// Starts the proxy in front of Kade's `kade_port` and the readiness watcher that opens its gate.
/// Returns the proxy's base URL, what it saw, the gate (the killer closes it) and the watcher.
pub async fn start(kade_port: u16) -> (String, Arc<Mutex<Seen>>, Arc<Mutex<Gate>>, JoinHandle<()>) {
    let kade = format!("http://127.0.0.1:{kade_port}");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let gate = Arc::new(Mutex::new(Gate::default()));
    let watcher = tokio::spawn(watch_readiness(kade.clone(), gate.clone()));
    let proxy = Proxy {
        kade,
        http: reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(4)).build().unwrap(),
        seen: seen.clone(),
    };
    let app = axum::Router::new().route("/webhooks/picqer/{name}", axum::routing::post(forward)).with_state(proxy);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen, gate, watcher)
}

/// Per body (SHA-256), what the proxy saw.
#[derive(Default)]
pub struct Seen {
    pub by_body: HashMap<[u8; 32], Tally>,
    /// Attempts answered 503 by the proxy while Kade was (re)starting.
    pub held_back: u32,
}

#[derive(Clone, Copy, Default)]
pub struct Tally {
    pub attempts: u32,
    /// 200 answers.
    pub ok: u32,
    /// 200 answers saying "duplicate": the event was already committed — typically by an attempt
    /// whose answer a kill cut off.
    pub duplicate: u32,
}

#[derive(Clone)]
struct Proxy {
    kade: String,
    http: reqwest::Client,
    seen: Arc<Mutex<Seen>>,
}

/// Whether the current `kade serve` (incarnation `generation`) has its Picqer connection live.
///
/// Deliveries are forwarded whatever the gate says: Kade serves HTTP only once its connections
/// are registered, and writes refusal audits off the request path through a bounded queue, so a
/// restart under a retry storm needs no help from a readiness check. (An earlier version held
/// deliveries back here until Kade was ready, because a restart answered 404s whose audit writes
/// starved SQLite's single writer; the hub was fixed and this test now proves it.) The gate is
/// kept to tell, in the summary, which incarnation was live.
#[derive(Default)]
pub struct Gate {
    pub generation: u64,
    pub ready: bool,
}

/// Opens the gate once the incarnation it probed answers for its connection. The probe asks for
/// a sync of an unknown kind: 400 once the connection is registered, 404 before, and it never
/// enqueues anything.
async fn watch_readiness(kade: String, gate: Arc<Mutex<Gate>>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
    loop {
        let generation = {
            let g = gate.lock().unwrap();
            (!g.ready).then_some(g.generation)
        };
        if let Some(generation) = generation {
            let probe = http
                .post(format!("{kade}/api/v1/connections/main/sync"))
                .bearer_auth(TOKEN)
                .json(&serde_json::json!({"kind": "readiness-probe"}))
                .send()
                .await;
            if probe.is_ok_and(|r| r.status() == StatusCode::BAD_REQUEST) {
                let mut g = gate.lock().unwrap();
                g.ready |= g.generation == generation;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Forwards one delivery to Kade; a dead Kade becomes a 502, which the simulator retries.
async fn forward(
    State(p): State<Proxy>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut req = p.http.post(format!("{}/webhooks/picqer/{name}", p.kade)).body(body.clone());
    for (k, v) in &headers {
        if !matches!(k.as_str(), "host" | "content-length" | "connection") {
            req = req.header(k, v);
        }
    }
    let (status, answer) = match req.send().await {
        Ok(r) => {
            let status = StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            // An answer cut off by a kill is a failed delivery, whatever its status line said.
            match r.json::<Value>().await {
                Ok(v) => (status, v),
                Err(_) => (StatusCode::BAD_GATEWAY, Value::Null),
            }
        }
        Err(_) => (StatusCode::BAD_GATEWAY, Value::Null),
    };
    let hash = sha256(&body);
    let mut seen = p.seen.lock().unwrap();
    let tally = seen.by_body.entry(hash).or_default();
    tally.attempts += 1;
    if status == StatusCode::OK {
        tally.ok += 1;
        tally.duplicate += u32::from(answer["status"] == "duplicate");
    }
    status
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    out
}
