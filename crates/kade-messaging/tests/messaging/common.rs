//! A tiny HTTP receiver for status callbacks and outbound webhooks: records every request (full
//! URL as called, headers, raw body) and answers a status the test chooses.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    /// `http://127.0.0.1:PORT/path?query`, as the sender called it.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The body as decoded form pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        fn dec(s: &str) -> String {
            let s = s.replace('+', " ");
            let b = s.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%'
                    && i + 2 < b.len()
                    && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
                {
                    out.push(v);
                    i += 3;
                    continue;
                }
                out.push(b[i]);
                i += 1;
            }
            String::from_utf8(out).unwrap()
        }
        String::from_utf8_lossy(&self.body)
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (dec(k), dec(v))
            })
            .collect()
    }
}

#[derive(Clone, Default)]
struct Shared {
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    addr: Arc<Mutex<Option<SocketAddr>>>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Shared,
}

async fn record(State(s): State<Shared>, req: Request) -> impl IntoResponse {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default().to_vec();
    let addr = s.addr.lock().unwrap().unwrap();
    let pq = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    s.got.lock().unwrap().push(Received {
        method: parts.method.to_string(),
        url: format!("http://{addr}{pq}"),
        headers: parts.headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned())).collect(),
        body,
    });
    StatusCode::from_u16(s.status.load(Ordering::SeqCst)).unwrap()
}

impl Receiver {
    pub async fn start() -> Receiver {
        let shared = Shared { status: Arc::new(AtomicU16::new(200)), ..Default::default() };
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        *shared.addr.lock().unwrap() = Some(addr);
        let app = axum::Router::new().fallback(record).with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(tcp, app).await;
        });
        Receiver { addr, shared }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn answer(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.got.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived (or 5 s passed) and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..500 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.received()
    }
}
