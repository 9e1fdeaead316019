//! Transport-level behaviour of the Picqer simulator: auth, errors, rate limit, pagination,
//! products and stock, faults, seeding. Raw HTTP on purpose — this is what any client sees.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use kade_sim::SimClock;
use kade_sim::picqer::{PicqerSimConfig, RunningSim, build_world, start};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const LOCAL: &str = "127.0.0.1:0";

async fn sim_with(config: PicqerSimConfig) -> RunningSim {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let addr: SocketAddr = LOCAL.parse().expect("literal address");
    start(config, addr).await.expect("simulator starts")
}

async fn sim() -> RunningSim {
    sim_with(PicqerSimConfig {
        rate_limit_per_minute: 0,
        clock: SimClock::manual(1_767_225_600_000),
        ..PicqerSimConfig::default()
    })
    .await
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn call(sim: &RunningSim, method: Method, path: &str, body: Option<Value>) -> Reply {
    call_as(sim, sim.api_key(), method, path, body).await
}

async fn call_as(sim: &RunningSim, key: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
    let url = format!("{}{path}", sim.base_url());
    let mut req = Client::new().request(method, url).basic_auth(key, Some("X"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request reaches the simulator");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply { status, headers, body }
}

fn assert_envelope(r: &Reply, status: u16, code: u64) {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.body);
    assert_eq!(r.body["error"], json!(true), "body: {}", r.body);
    assert_eq!(r.body["error_code"], json!(code), "body: {}", r.body);
    assert!(r.body["error_message"].is_string(), "body: {}", r.body);
}

#[tokio::test]
async fn auth_errors_and_unknown_routes_use_the_envelope() {
    let sim = sim_with(PicqerSimConfig::default()).await;
    let r = call_as(&sim, "wrong-key", Method::GET, "/products", None).await;
    assert_envelope(&r, 401, 3);
    assert_eq!(r.headers["x-ratelimit-limit"], "500");
    assert!(r.headers.contains_key("x-ratelimit-remaining"));

    let r = call(&sim, Method::GET, "/products/1", None).await;
    assert_envelope(&r, 404, 7);
    assert!(r.headers.contains_key("x-ratelimit-remaining"));
    let r = call(&sim, Method::GET, "/no-such-thing", None).await;
    assert_envelope(&r, 404, 8);
    let r = call(&sim, Method::GET, "/products/abc", None).await;
    assert_envelope(&r, 404, 7);
    let r = call(&sim, Method::PATCH, "/products", None).await;
    assert_envelope(&r, 404, 8);
    let r = call(&sim, Method::GET, "", None).await;
    assert_envelope(&r, 404, 8);
    let health = Client::new().get(format!("{}/_sim/health", sim.root_url())).send().await.expect("health");
    assert_eq!(health.status(), 200);
    let missing = Client::new().get(format!("{}/_sim/nothing", sim.root_url())).send().await.expect("control 404");
    assert_eq!(missing.status(), 404);
    assert!(sim.journal().iter().all(|e| e.path.starts_with("/api/v1")), "control calls are not journaled");

    // Malformed JSON and missing fields are 400, never 422.
    let url = format!("{}/products", sim.base_url());
    let resp = Client::new()
        .post(url)
        .basic_auth(sim.api_key(), None::<&str>)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 400);
    let r = call(&sim, Method::POST, "/products", Some(json!({"name": "X"}))).await;
    assert_envelope(&r, 400, 5);
    let body = json!({"name": "X", "price": 1.5, "productcode": "X-1", "idvatgroup": 999});
    let r = call(&sim, Method::POST, "/products", Some(body)).await;
    assert_envelope(&r, 400, 14);
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limit_answers_429_with_headers_and_refills_on_the_clock() {
    let clock = SimClock::manual(1_767_225_600_000);
    let sim =
        sim_with(PicqerSimConfig { rate_limit_per_minute: 3, clock: clock.clone(), ..PicqerSimConfig::default() })
            .await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = call(&sim, Method::GET, "/warehouses", None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.headers["x-ratelimit-limit"], "3");
        remaining.push(r.headers["x-ratelimit-remaining"].to_str().unwrap_or("").to_owned());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let r = call(&sim, Method::GET, "/warehouses", None).await;
    assert_envelope(&r, 429, 28);
    assert_eq!(r.body["error_message"], "Rate limit exceeded");
    assert_eq!(r.headers["x-ratelimit-remaining"], "0");

    // 3 per minute = one token every 20 simulated seconds.
    clock.advance(Duration::from_secs(19));
    assert_eq!(call(&sim, Method::GET, "/warehouses", None).await.status, 429);
    let url = format!("{}/_sim/clock/advance", sim.root_url());
    let resp = Client::new().post(url).json(&json!({"seconds": 21})).send().await.expect("control call");
    assert_eq!(resp.status(), 200);
    let r = call(&sim, Method::GET, "/warehouses", None).await;
    assert_eq!(
        (r.status.as_u16(), r.headers["x-ratelimit-remaining"].to_str().ok()),
        (200, Some("1")),
        "40 s refilled two tokens"
    );

    // Raising the limit through the control API refills the bucket.
    let url = format!("{}/_sim/rate-limit", sim.root_url());
    let resp = Client::new().put(url).json(&json!({"per_minute": 10})).send().await.expect("control call");
    assert_eq!(resp.status(), 200);
    let r = call(&sim, Method::GET, "/warehouses", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["x-ratelimit-remaining"], "9");
    sim.shutdown().await;
}

#[tokio::test]
async fn lists_page_by_100_in_id_order_and_end_on_a_short_page() {
    let sim = sim().await;
    let mut all = Vec::new();
    let mut sizes = Vec::new();
    for offset in (0..).step_by(100) {
        let r = call(&sim, Method::GET, &format!("/products?offset={offset}"), None).await;
        let page = r.body.as_array().cloned().unwrap_or_default();
        sizes.push(page.len());
        all.extend(page);
        if sizes.last().copied().unwrap_or(0) < 100 {
            break;
        }
    }
    assert_eq!(sizes, [100, 100, 50]);
    let ids: Vec<u64> = all.iter().filter_map(|p| p["idproduct"].as_u64()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    // Inactive products leave the default list but stay reachable with `inactive`.
    let first = ids[0];
    let r = call(&sim, Method::POST, &format!("/products/{first}/inactivate"), None).await;
    assert_eq!(r.body["active"], json!(false));
    let r = call(&sim, Method::GET, "/products?offset=200", None).await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(49));
    let r = call(&sim, Method::GET, "/products?offset=0&inactive=true", None).await;
    assert_eq!(r.body[0]["idproduct"], json!(first));
    sim.shutdown().await;
}

#[tokio::test]
async fn products_have_the_documented_shape_and_filters() {
    let sim = sim().await;
    let r = call(&sim, Method::GET, "/products?search=jkt", None).await;
    let jackets = r.body.as_array().cloned().unwrap_or_default();
    assert!(!jackets.is_empty(), "the seed has jackets");
    let p = &jackets[0];
    for field in ["idproduct", "productcode", "name", "price", "idvatgroup", "barcode", "weight"] {
        assert!(!p[field].is_null(), "{field} set in {p}");
    }
    assert!(p["tags"].is_object());
    assert!(p["fixedstockprice"].is_number() || p["fixedstockprice"].is_null());
    assert_eq!(p["stock"].as_array().map(Vec::len), Some(3));
    let code = p["productcode"].as_str().unwrap_or_default().to_owned();
    assert!(code.starts_with("JKT-"), "{code}");
    let r = call(&sim, Method::GET, &format!("/products?productcode={code}"), None).await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(1));

    let body = json!({"name": "Test", "price": 59.95, "productcode": "T-1", "idvatgroup": 201});
    let r = call(&sim, Method::POST, "/products", Some(body.clone())).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["price"], json!(59.95));
    let id = r.body["idproduct"].as_u64().unwrap_or_default();
    let r = call(&sim, Method::POST, "/products", Some(body)).await;
    assert_eq!(r.status, 400, "productcode is unique");
    let r = call(&sim, Method::PUT, &format!("/products/{id}"), Some(json!({"price": "10.10"}))).await;
    assert_eq!(r.body["price"], json!(10.1));
    assert_eq!(r.body["name"], "Test");
    let r = call(&sim, Method::GET, &format!("/products?idproducts={id},{}", id - 1), None).await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(2));

    let r = call(&sim, Method::GET, &format!("/products/{id}/parts"), None).await;
    assert_envelope(&r, 404, 20);
    sim.shutdown().await;
}

#[tokio::test]
async fn stock_changes_follow_picqers_rules() {
    let sim = sim().await;
    let body = json!({"name": "S", "price": 1, "productcode": "S-1", "idvatgroup": 201});
    let id = call(&sim, Method::POST, "/products", Some(body)).await.body["idproduct"].as_u64().unwrap_or_default();
    let path = format!("/products/{id}/stock/101");
    let r = call(&sim, Method::POST, &path, Some(json!({"change": 5, "reason": "in"}))).await;
    assert_eq!(r.body["stock"], json!(5));
    assert_eq!(r.body["freestock"], json!(5));
    let r = call(&sim, Method::POST, &path, Some(json!({"change": -6}))).await;
    assert_envelope(&r, 400, 31);
    let r = call(&sim, Method::POST, &path, Some(json!({"amount": 2}))).await;
    assert_eq!(r.body["stock"], json!(2));
    let r = call(&sim, Method::POST, &path, Some(json!({"amount": -1}))).await;
    assert_eq!(r.status, 400);
    let r = call(&sim, Method::POST, &path, Some(json!({"reason": "nothing"}))).await;
    assert_envelope(&r, 400, 5);
    let r = call(&sim, Method::GET, &format!("/products/{id}/stock"), None).await;
    assert_eq!(r.body[0]["stock"], json!(2));
    let r = call(&sim, Method::GET, &format!("/products/{id}/stock/999"), None).await;
    assert_eq!(r.status, 404);
    sim.shutdown().await;
}

async fn control(sim: &RunningSim, method: Method, path: &str, body: Value) -> reqwest::Response {
    let url = format!("{}/_sim{path}", sim.root_url());
    Client::new().request(method, url).json(&body).send().await.expect("control call")
}

#[tokio::test]
async fn injected_faults_status_latency_and_drop_after_commit() {
    let sim = sim().await;
    let fault = json!({"path": "/api/v1/warehouses", "status": 503, "times": 1});
    assert_eq!(control(&sim, Method::POST, "/faults", fault).await.status(), 201);
    let r = call(&sim, Method::GET, "/warehouses", None).await;
    assert_envelope(&r, 503, 1);
    let r = call(&sim, Method::GET, "/warehouses", None).await;
    assert_eq!(r.status, 200, "times=1 fault is used up");

    let fault = json!({"method": "GET", "path": "/api/v1/vatgroups", "latency_ms": 300});
    control(&sim, Method::POST, "/faults", fault).await;
    let started = Instant::now();
    let r = call(&sim, Method::GET, "/vatgroups", None).await;
    assert_eq!(r.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let fault = json!({"method": "POST", "path": "/api/v1/products", "drop_after_commit": true});
    control(&sim, Method::POST, "/faults", fault).await;
    let body = json!({"name": "Dropped", "price": 1, "productcode": "DROP-1", "idvatgroup": 201});
    let url = format!("{}/products", sim.base_url());
    let sent = Client::new().post(url).basic_auth(sim.api_key(), None::<&str>).json(&body).send().await;
    assert!(sent.is_err(), "client sees a transport error: {sent:?}");
    let r = call(&sim, Method::GET, "/products?productcode=DROP-1", None).await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(1), "but the product was created");
    let statuses: Vec<u16> = sim.journal().iter().map(|e| e.status).collect();
    assert!(statuses.contains(&503) && statuses.contains(&201));
    assert_eq!(control(&sim, Method::DELETE, "/faults", json!({})).await.status(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn seeding_100k_products_is_deterministic_fast_and_pages_cheaply() {
    let config = PicqerSimConfig {
        products: 100_000,
        seed: 7,
        clock: SimClock::manual(1_767_225_600_000),
        ..PicqerSimConfig::default()
    };
    let started = Instant::now();
    let a = build_world(&config, "http://x");
    let elapsed = started.elapsed();
    let b = build_world(&config, "http://x");
    assert_eq!(a.products.len(), 100_000);
    assert!(elapsed < Duration::from_secs(3), "seeding took {elapsed:?}");
    let fingerprint = |w: &kade_sim::picqer::state::World| {
        w.products
            .all()
            .iter()
            .map(|p| (p.productcode.clone(), p.price, p.stock.iter().map(|s| s.stock).sum::<i64>()))
            .collect::<Vec<_>>()
    };
    assert_eq!(fingerprint(&a), fingerprint(&b));
    let other = build_world(&PicqerSimConfig { seed: 8, ..config.clone() }, "http://x");
    assert_ne!(fingerprint(&a), fingerprint(&other));

    let sim = sim_with(PicqerSimConfig { rate_limit_per_minute: 0, ..config }).await;
    let started = Instant::now();
    let r = call(&sim, Method::GET, "/products?offset=99900", None).await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(100));
    let r2 = call(&sim, Method::GET, "/products?offset=100000", None).await;
    assert_eq!(r2.body, json!([]));
    assert!(started.elapsed() < Duration::from_secs(2));
    sim.shutdown().await;
}
