//! The client on the shared partner transport: a repeatable call is retried (and every attempt
//! recorded), a create whose answer was lost is reported maybe-applied and never resent, a create
//! refused before sending is retried, a 429 is waited out, and the configured rate paces a burst.

use std::net::SocketAddr;
use std::time::Duration;

use kade_prestashop::{ErrorClass, PrestaClient, PrestaConfig, PrestaError};
use kade_sim::prestashop::{PrestaSimConfig, RunningPrestaSim, start};
use serde_json::{Value, json};

use super::{order, product};

async fn sim() -> RunningPrestaSim {
    start(PrestaSimConfig::default(), "127.0.0.1:0".parse::<SocketAddr>().unwrap()).await.unwrap()
}

/// Quick retries, so the tests do not sleep for production backoffs.
fn config(url: &str, key: &str) -> PrestaConfig {
    let mut cfg = PrestaConfig::new(url, key);
    cfg.retry_base = Duration::from_millis(10);
    cfg.retry_cap = Duration::from_millis(200);
    cfg
}

async fn fault(sim: &RunningPrestaSim, spec: Value) {
    let resp = reqwest::Client::new().post(format!("{}/_sim/faults", sim.root_url())).json(&spec).send().await.unwrap();
    assert!(resp.status().is_success(), "fault refused: {}", resp.text().await.unwrap());
}

fn journaled(sim: &RunningPrestaSim, method: &str, path: &str) -> Vec<u16> {
    sim.journal().iter().filter(|e| e.method == method && e.path == path).map(|e| e.status).collect()
}

fn calls(list: &[kade_calls::Call]) -> Vec<(&'static str, &str, &str, Option<u16>)> {
    list.iter().map(|c| (c.system, c.method.as_str(), c.path.as_str(), c.status)).collect()
}

#[tokio::test]
async fn a_get_that_meets_a_503_is_retried_and_both_attempts_are_recorded() {
    let sim = sim().await;
    let client = PrestaClient::new(config(&sim.root_url(), sim.ws_key())).unwrap();
    fault(&sim, json!({"method": "GET", "path": "/api/orders", "status": 503, "times": 1})).await;
    let (out, recorded) = kade_calls::recorded(client.ping()).await;
    out.unwrap();
    assert_eq!(
        calls(&recorded),
        vec![("prestashop", "GET", "orders", Some(503)), ("prestashop", "GET", "orders", Some(200))]
    );
    assert_eq!(journaled(&sim, "GET", "/api/orders"), vec![503, 200]);
    let stats = client.stats();
    assert_eq!((stats.requests, stats.retries), (2, 1));
}

#[tokio::test]
async fn a_repeatable_call_gives_up_after_its_retries_with_the_503_as_a_transient_error() {
    let sim = sim().await;
    let mut cfg = config(&sim.root_url(), sim.ws_key());
    cfg.max_transient_retries = 2;
    let client = PrestaClient::new(cfg).unwrap();
    fault(&sim, json!({"method": "GET", "path": "/api/orders", "status": 503, "times": 0})).await;
    let err = client.ping().await.unwrap_err();
    assert_eq!((err.status(), err.class()), (Some(503), ErrorClass::Transient), "{err}");
    assert_eq!(journaled(&sim, "GET", "/api/orders"), vec![503, 503, 503], "one try and two retries");
}

#[tokio::test]
async fn a_put_that_times_out_is_retried() {
    let sim = sim().await;
    sim.add_product(&product("A"));
    let id = sim.place_order(&order("A")).unwrap();
    let mut cfg = config(&sim.root_url(), sim.ws_key());
    cfg.timeout = Duration::from_millis(300);
    let client = PrestaClient::new(cfg).unwrap();
    let mut rows = client.order_carriers(id).await.unwrap();
    let row = rows.first_mut().unwrap();
    row.set("tracking_number", "3SKADE0002");
    let row_id: u64 = row.get("id").unwrap().parse().unwrap();
    fault(&sim, json!({"method": "PUT", "path": "/api/order_carriers", "latency_ms": 1500, "times": 1})).await;
    client.put_object("order_carriers", row_id, row, &[]).await.unwrap();
    assert_eq!(sim.field("order_carriers", row_id, "tracking_number").as_deref(), Some("3SKADE0002"));
    assert_eq!(client.stats().retries, 1);
}

#[tokio::test]
async fn a_post_whose_answer_is_lost_is_maybe_applied_and_never_resent() {
    let sim = sim().await;
    sim.add_product(&product("A"));
    let id = sim.place_order(&order("A")).unwrap();
    let client = PrestaClient::new(config(&sim.root_url(), sim.ws_key())).unwrap();
    // Every order history POST is committed and then loses its answer: a resend would show.
    fault(&sim, json!({"method": "POST", "path": "/api/order_histories", "drop_after_commit": true, "times": 0})).await;
    let (out, recorded) = kade_calls::recorded(client.add_order_history(id, 4, false)).await;
    let err = out.unwrap_err();
    assert!(matches!(err, PrestaError::Transport { maybe_applied: true, .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Transient);
    assert!(std::error::Error::source(&err).is_some(), "the reqwest error is kept as the source");
    assert!(err.to_string().contains("POST order_histories") && !err.to_string().contains("output_format"), "{err}");
    assert_eq!(journaled(&sim, "POST", "/api/order_histories").len(), 1, "sent exactly once");
    assert_eq!(calls(&recorded), vec![("prestashop", "POST", "order_histories", None)]);
    assert_eq!(sim.field("orders", id, "current_state").as_deref(), Some("4"), "it was applied");
    assert_eq!(client.stats().retries, 0);
}

#[tokio::test]
async fn a_post_refused_before_sending_is_retried_and_not_maybe_applied() {
    // A port nobody listens on: every connect is refused, so nothing is ever sent.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut cfg = config(&format!("http://{closed}"), &"K".repeat(32));
    cfg.max_transient_retries = 2;
    let client = PrestaClient::new(cfg).unwrap();
    let err = client.add_order_history(1, 4, false).await.unwrap_err();
    assert!(matches!(err, PrestaError::Transport { maybe_applied: false, .. }), "{err}");
    let stats = client.stats();
    assert_eq!((stats.requests, stats.retries), (3, 2));
}

#[tokio::test]
async fn a_429_is_waited_out_and_resent() {
    let sim = sim().await;
    let client = PrestaClient::new(config(&sim.root_url(), sim.ws_key())).unwrap();
    fault(&sim, json!({"method": "GET", "path": "/api/orders", "status": 429, "times": 2})).await;
    client.ping().await.unwrap();
    assert_eq!(journaled(&sim, "GET", "/api/orders"), vec![429, 429, 200]);
    let stats = client.stats();
    assert_eq!((stats.rate_limited, stats.retries), (2, 2));
}

#[tokio::test]
async fn the_configured_rate_paces_a_burst() {
    let sim = sim().await;
    let mut cfg = config(&sim.root_url(), sim.ws_key());
    (cfg.requests_per_second, cfg.burst) = (50, 5);
    let paced = PrestaClient::new(cfg).unwrap();
    for _ in 0..30 {
        paced.ping().await.unwrap();
    }
    let stats = paced.stats();
    assert_eq!((stats.requests, stats.rate_limited), (30, 0));
    // 5 go at once, the other 25 wait for tokens at 50/s: 0.5 s of budget in all, less only by
    // the time the calls themselves took.
    assert!(stats.budget_wait >= Duration::from_millis(250), "{stats:?}");
    assert!(stats.budget_wait <= Duration::from_millis(600), "{stats:?}");
    assert_eq!(journaled(&sim, "GET", "/api/orders").len(), 30);

    // The same burst within the default budget does not wait.
    let free = PrestaClient::new(config(&sim.root_url(), sim.ws_key())).unwrap();
    for _ in 0..10 {
        free.ping().await.unwrap();
    }
    assert_eq!(free.stats().budget_wait, Duration::ZERO);
}
