//! The Picqer webhook simulator against a real HTTP receiver: signatures, envelope, filtering,
//! retries and auto-deactivation on a manual clock, timeouts, and the network faults.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use base64::Engine as _;
use kade_sim::clock::{SimClock, parse_datetime};
use kade_sim::picqer::hooks::{HookError, HookFaults, HookPolicy, Hooks};
use serde_json::{Value, json};

const T0: &str = "2024-03-01 12:00:00";
const HOUR: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("body is JSON")
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// A tiny webhook receiver on 127.0.0.1: records every request, then answers with the status (and
/// after the delay) configured for its path.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// path → (status, delay); paths not listed answer 200 at once.
    behaviour: Arc<Mutex<HashMap<String, (u16, Duration)>>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let app = Router::new().fallback(receive).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, base)
    }

    fn answer(&self, path: &str, status: u16, delay: Duration) {
        self.behaviour.lock().unwrap().insert(path.to_owned(), (status, delay));
    }

    fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn at(&self, path: &str) -> Vec<Received> {
        self.all().into_iter().filter(|r| r.path == path).collect()
    }
}

async fn receive(State(receiver): State<Receiver>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let path = uri.path().to_owned();
    receiver.got.lock().unwrap().push(Received { path: path.clone(), headers, body });
    let (status, delay) = receiver.behaviour.lock().unwrap().get(&path).copied().unwrap_or((200, Duration::ZERO));
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    StatusCode::from_u16(status).unwrap()
}

fn t0() -> i64 {
    parse_datetime(T0).unwrap()
}

/// A started engine on a manual clock at [`T0`].
fn engine(policy: HookPolicy) -> (Hooks, SimClock) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let clock = SimClock::manual(t0());
    let hooks = Hooks::new(clock.clone(), policy);
    hooks.start();
    (hooks, clock)
}

/// `settle`, but a hang fails the test instead of blocking it forever.
async fn settle(hooks: &Hooks) {
    tokio::time::timeout(Duration::from_secs(30), hooks.settle()).await.expect("settle returned");
}

/// Checks the signature the way a receiver must: HMAC-SHA256 over the raw bytes, base64-decoded,
/// compared in constant time by ring.
fn signature_valid(secret: &str, body: &[u8], header: &str) -> bool {
    let Ok(tag) = base64::engine::general_purpose::STANDARD.decode(header) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::verify(&key, body, &tag).is_ok()
}

fn policy(retries: &[Duration]) -> HookPolicy {
    HookPolicy { retry_schedule: retries.to_vec(), ..HookPolicy::default() }
}

#[tokio::test]
async fn create_validates_like_picqer() {
    let (hooks, _clock) = engine(HookPolicy::default());
    let addr = "https://shop.example/hook";
    assert!(matches!(hooks.create("", "orders.created", addr, None), Err(HookError::Missing("name"))));
    assert!(matches!(hooks.create("n", " ", addr, None), Err(HookError::Missing("event"))));
    assert!(matches!(hooks.create("n", "orders.created", "", None), Err(HookError::Missing("address"))));
    // There is no orders.cancelled event, and the old spelling of free stock is invalid.
    for event in ["orders.cancelled", "products.freestockchanged", "orders"] {
        assert!(matches!(
            hooks.create("n", event, addr, None),
            Err(HookError::UnknownEvent(e)) if e == event
        ));
    }
    for bad in ["ftp://shop.example/hook", "shop.example/hook", "http://", "https//x"] {
        assert!(matches!(hooks.create("n", "orders.created", bad, None), Err(HookError::InvalidAddress(_))), "{bad}");
    }

    let a = hooks.create("Stock", "products.free_stock_changed", addr, Some("s3cret".into())).unwrap();
    let b = hooks.create("Orders", "orders.status_changed", "http://127.0.0.1:9/x", None).unwrap();
    let c = hooks.create("Empty secret", "tasks.created", addr, Some(String::new())).unwrap();
    assert_eq!((a.idhook, b.idhook, c.idhook), (1, 2, 3));
    assert!(a.active && a.secret && !b.secret && !c.secret);
    assert_eq!(a.secret_value.as_deref(), Some("s3cret"));

    // The secret never appears in the API shape.
    let shown = serde_json::to_value(&a).unwrap();
    assert_eq!(
        shown,
        json!({"idhook": 1, "name": "Stock", "event": "products.free_stock_changed",
               "address": addr, "active": true, "secret": true})
    );

    let ids: Vec<u64> = hooks.list().iter().map(|h| h.idhook).collect();
    assert_eq!(ids, [1, 2, 3]);
    let gone = hooks.deactivate(2).unwrap();
    assert!(!gone.active);
    assert_eq!(hooks.list().len(), 3, "deactivated hooks stay listed");
    assert!(!hooks.get(2).unwrap().active);
    assert!(hooks.reactivate(2).unwrap().active);
    assert!(hooks.get(99).is_none());
    assert!(hooks.deactivate(99).is_none());
    assert!(hooks.reactivate(99).is_none());
}

#[tokio::test]
async fn signed_envelope_over_the_exact_bytes() {
    let (receiver, base) = Receiver::start().await;
    let (hooks, _clock) = engine(HookPolicy::default());
    let signed = hooks
        .create(
            "Stock notifications",
            "products.free_stock_changed",
            &format!("{base}/signed"),
            Some("topsecret".into()),
        )
        .unwrap();
    let plain = hooks.create("Unsigned", "products.free_stock_changed", &format!("{base}/plain"), None).unwrap();
    let data = json!({"idproduct": 42, "productcode": "SKU-1", "stock": [{"idwarehouse": 1, "freestock": 7}]});
    hooks.emit("products.free_stock_changed", data.clone());
    settle(&hooks).await;

    let got = receiver.at("/signed");
    assert_eq!(got.len(), 1);
    let req = &got[0];
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("user-agent"), Some("Picqer Webhooks (kade-sim)"));
    let sig = req.header("x-picqer-signature").expect("signed");
    assert!(signature_valid("topsecret", &req.body, sig));
    assert!(!signature_valid("wrong", &req.body, sig));
    // Picqer's key order, and the whole resource as data.
    let text = std::str::from_utf8(&req.body).unwrap();
    assert!(
        text.starts_with(&format!(
            r#"{{"idhook":{},"name":"Stock notifications","event":"products.free_stock_changed","event_triggered_at":"{T0}","data":{{"#,
            signed.idhook
        )),
        "{text}"
    );
    assert_eq!(
        req.json(),
        json!({"idhook": signed.idhook, "name": "Stock notifications",
               "event": "products.free_stock_changed", "event_triggered_at": T0, "data": data})
    );

    let got = receiver.at("/plain");
    assert_eq!(got.len(), 1);
    assert!(got[0].header("x-picqer-signature").is_none());
    assert_eq!(got[0].json()["idhook"], json!(plain.idhook));
    assert_eq!(got[0].json()["name"], json!("Unsigned"));

    let log = hooks.deliveries();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|d| d.ok && d.status == Some(200) && d.attempt == 1));
    assert!(log.iter().all(|d| d.at == T0 && d.error.is_none()));
}

#[tokio::test]
async fn only_active_hooks_for_the_event_receive_it() {
    let (receiver, base) = Receiver::start().await;
    let (hooks, _clock) = engine(HookPolicy::default());
    let wanted = hooks.create("a", "orders.created", &format!("{base}/a"), None).unwrap();
    let inactive = hooks.create("b", "orders.created", &format!("{base}/b"), None).unwrap();
    hooks.create("c", "orders.completed", &format!("{base}/c"), None).unwrap();
    hooks.deactivate(inactive.idhook);

    hooks.emit("orders.created", json!({"idorder": 1}));
    hooks.emit("products.changed", json!({"idproduct": 1})); // nobody listens
    settle(&hooks).await;

    let got = receiver.all();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/a");
    assert_eq!(got[0].json()["event"], "orders.created");
    let log = hooks.deliveries();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].idhook, log[0].event.as_str()), (wanted.idhook, "orders.created"));

    // Reactivated, it receives the next event again.
    hooks.reactivate(inactive.idhook);
    hooks.emit("orders.created", json!({"idorder": 2}));
    settle(&hooks).await;
    assert_eq!(receiver.at("/b").len(), 1);
    assert_eq!(receiver.at("/a").len(), 2);
}

#[tokio::test]
async fn accepted_statuses_are_200_201_202_only() {
    let (receiver, base) = Receiver::start().await;
    let (hooks, _clock) = engine(policy(&[]));
    for (path, status) in [("/200", 200), ("/201", 201), ("/202", 202), ("/204", 204)] {
        receiver.answer(path, status, Duration::ZERO);
        hooks.create(path, "orders.created", &format!("{base}{path}"), None).unwrap();
    }
    receiver.answer("/301", 301, Duration::ZERO);
    hooks.create("redirect", "orders.created", &format!("{base}/301"), None).unwrap();
    hooks.emit("orders.created", json!({}));
    settle(&hooks).await;
    let mut outcome: Vec<(Option<u16>, bool)> = hooks.deliveries().iter().map(|d| (d.status, d.ok)).collect();
    outcome.sort();
    assert_eq!(
        outcome,
        [(Some(200), true), (Some(201), true), (Some(202), true), (Some(204), false), (Some(301), false)]
    );
    assert_eq!(receiver.all().len(), 5, "redirects are not followed");
}

#[tokio::test]
async fn retries_follow_the_default_schedule_on_simulated_time() {
    let (receiver, base) = Receiver::start().await;
    let policy = HookPolicy::default();
    let schedule = policy.retry_schedule.clone();
    assert_eq!(schedule.len(), 15);
    let total: Duration = schedule.iter().sum();
    assert!(total > 16 * HOUR && total < 18 * HOUR, "{total:?}");

    let (hooks, clock) = engine(policy);
    receiver.answer("/down", 500, Duration::ZERO);
    let hook = hooks.create("down", "orders.created", &format!("{base}/down"), Some("k".into())).unwrap();
    hooks.emit("orders.created", json!({"idorder": 7}));
    settle(&hooks).await;
    assert_eq!(receiver.all().len(), 1);

    let mut expected_at = vec![T0.to_owned()];
    for (i, delay) in schedule.iter().enumerate() {
        // Not a millisecond early ...
        clock.advance(*delay - Duration::from_millis(1));
        settle(&hooks).await;
        assert_eq!(receiver.all().len(), i + 1, "retry {} came early", i + 1);
        // ... and on time.
        clock.advance(Duration::from_millis(1));
        settle(&hooks).await;
        assert_eq!(receiver.all().len(), i + 2, "retry {} missing", i + 1);
        expected_at.push(clock.now_picqer());
    }
    clock.advance(48 * HOUR);
    settle(&hooks).await;
    let got = receiver.all();
    assert_eq!(got.len(), 16, "first attempt plus 15 retries, then nothing");
    // Every attempt carries the same bytes and signature, event_triggered_at included.
    assert!(got.iter().all(|r| r.body == got[0].body));
    assert!(got.iter().all(|r| signature_valid("k", &r.body, r.header("x-picqer-signature").unwrap())));
    let log = hooks.deliveries();
    let attempts: Vec<u32> = log.iter().map(|d| d.attempt).collect();
    assert_eq!(attempts, (1..=16).collect::<Vec<_>>());
    let at: Vec<String> = log.iter().map(|d| d.at.clone()).collect();
    assert_eq!(at, expected_at);
    assert!(log.iter().all(|d| !d.ok && d.status == Some(500) && d.error.is_some()));
    // One complete failure does not deactivate.
    assert!(hooks.get(hook.idhook).unwrap().active);
}

#[tokio::test]
async fn a_success_stops_the_retries() {
    let (receiver, base) = Receiver::start().await;
    let (hooks, clock) = engine(HookPolicy::default());
    receiver.answer("/flaky", 503, Duration::ZERO);
    hooks.create("flaky", "orders.created", &format!("{base}/flaky"), None).unwrap();
    hooks.emit("orders.created", json!({}));
    settle(&hooks).await;
    clock.advance(MINUTE);
    settle(&hooks).await;
    receiver.answer("/flaky", 202, Duration::ZERO);
    clock.advance(2 * MINUTE);
    settle(&hooks).await;
    clock.advance(48 * HOUR);
    settle(&hooks).await;
    let log: Vec<(u32, bool)> = hooks.deliveries().iter().map(|d| (d.attempt, d.ok)).collect();
    assert_eq!(log, [(1, false), (2, false), (3, true)]);
}

// Also exercised on a multi-threaded runtime, as the server runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_complete_failures_within_a_day_deactivate_and_reactivate_resets() {
    let (receiver, base) = Receiver::start().await;
    let (hooks, clock) = engine(HookPolicy {
        retry_schedule: vec![MINUTE, MINUTE],
        deactivate_after: 5,
        failure_window: 24 * HOUR,
        ..HookPolicy::default()
    });
    receiver.answer("/down", 500, Duration::ZERO);
    let id = hooks.create("down", "orders.created", &format!("{base}/down"), None).unwrap().idhook;
    for n in 0..6 {
        hooks.emit("orders.created", json!({"n": n}));
    }
    settle(&hooks).await;
    clock.advance(MINUTE);
    settle(&hooks).await;
    assert!(hooks.get(id).unwrap().active);
    clock.advance(MINUTE);
    settle(&hooks).await;
    // Events 0-4 failed completely (3 attempts each); the fifth complete failure deactivated the
    // hook, which dropped event 5's pending last retry.
    assert!(!hooks.get(id).unwrap().active);
    assert_eq!(receiver.all().len(), 6 + 6 + 5);
    clock.advance(48 * HOUR);
    hooks.emit("orders.created", json!({"n": "after"}));
    settle(&hooks).await;
    assert_eq!(receiver.all().len(), 17, "an inactive hook receives nothing");

    // Reactivation clears the failure history: four more complete failures are not enough ...
    assert!(hooks.reactivate(id).unwrap().active);
    for n in 0..4 {
        hooks.emit("orders.created", json!({"again": n}));
    }
    settle(&hooks).await;
    clock.advance(MINUTE);
    settle(&hooks).await;
    clock.advance(MINUTE);
    settle(&hooks).await;
    assert!(hooks.get(id).unwrap().active);
    // ... a fifth is.
    hooks.emit("orders.created", json!({"again": 4}));
    settle(&hooks).await;
    clock.advance(MINUTE);
    settle(&hooks).await;
    clock.advance(MINUTE);
    settle(&hooks).await;
    assert!(!hooks.get(id).unwrap().active);
}

#[tokio::test]
async fn failures_spread_beyond_the_window_do_not_deactivate() {
    let (receiver, base) = Receiver::start().await;
    // No retries: every failed first attempt is a complete failure at the moment it happens.
    let (hooks, clock) = engine(policy(&[]));
    receiver.answer("/down", 500, Duration::ZERO);
    let id = hooks.create("down", "orders.created", &format!("{base}/down"), None).unwrap().idhook;
    // Failures at 0 h, 7 h, 14 h, 21 h, 28 h: never five inside 24 hours.
    for n in 0..5 {
        if n > 0 {
            clock.advance(7 * HOUR);
        }
        hooks.emit("orders.created", json!({"n": n}));
        settle(&hooks).await;
    }
    assert_eq!(receiver.all().len(), 5);
    assert!(hooks.get(id).unwrap().active);
    // At 29 h the failures at 7, 14, 21, 28 and 29 h are five within 24 hours.
    clock.advance(HOUR);
    hooks.emit("orders.created", json!({"n": 5}));
    settle(&hooks).await;
    assert!(!hooks.get(id).unwrap().active);
}

#[tokio::test]
async fn deactivation_drops_pending_retries() {
    let (receiver, base) = Receiver::start().await;
    let (hooks, clock) = engine(HookPolicy::default());
    receiver.answer("/down", 500, Duration::ZERO);
    let id = hooks.create("down", "orders.created", &format!("{base}/down"), None).unwrap().idhook;
    hooks.emit("orders.created", json!({}));
    settle(&hooks).await;
    hooks.deactivate(id);
    clock.advance(HOUR);
    settle(&hooks).await;
    // Reactivating does not resurrect the dropped retries.
    hooks.reactivate(id);
    clock.advance(24 * HOUR);
    settle(&hooks).await;
    assert_eq!(receiver.all().len(), 1);
}

#[tokio::test]
async fn a_slow_receiver_times_out_and_counts_as_a_failure() {
    let (receiver, base) = Receiver::start().await;
    let (hooks, clock) = engine(HookPolicy {
        timeout: Duration::from_millis(200),
        retry_schedule: vec![MINUTE],
        ..HookPolicy::default()
    });
    receiver.answer("/slow", 200, Duration::from_secs(3));
    hooks.create("slow", "orders.created", &format!("{base}/slow"), None).unwrap();
    let started = std::time::Instant::now();
    hooks.emit("orders.created", json!({}));
    settle(&hooks).await;
    assert!(started.elapsed() < Duration::from_secs(2), "timeout enforced");
    let log = hooks.deliveries();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, None);
    assert!(!log[0].ok);
    assert!(log[0].error.as_deref().unwrap().contains("no answer"));
    // It was a failed attempt, so it is retried.
    clock.advance(MINUTE);
    settle(&hooks).await;
    assert_eq!(hooks.deliveries().len(), 2);
}

#[tokio::test]
async fn connection_errors_are_failed_attempts() {
    // Take a free port and close it again, so nothing listens there.
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let (hooks, _clock) = engine(policy(&[]));
    hooks.create("closed", "orders.created", &format!("http://127.0.0.1:{port}/x"), None).unwrap();
    hooks.emit("orders.created", json!({}));
    settle(&hooks).await;
    let log = hooks.deliveries();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].status, log[0].ok), (None, false));
    assert!(log[0].error.is_some());
}

// Also exercised on a multi-threaded runtime, as the server runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slow_receiver_does_not_stall_other_hooks() {
    let (receiver, base) = Receiver::start().await;
    let (hooks, _clock) = engine(HookPolicy::default());
    receiver.answer("/slow", 200, Duration::from_secs(2));
    hooks.create("slow", "orders.created", &format!("{base}/slow"), None).unwrap();
    hooks.create("fast", "orders.created", &format!("{base}/fast"), None).unwrap();
    hooks.emit("orders.created", json!({}));
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    while hooks.deliveries().is_empty() {
        assert!(std::time::Instant::now() < deadline, "fast hook waited for slow one");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(hooks.deliveries()[0].idhook, 2);
    settle(&hooks).await;
    assert_eq!(hooks.deliveries().len(), 2);
}

#[tokio::test]
async fn duplicate_fault_delivers_identical_bytes_twice() {
    let (receiver, base) = Receiver::start().await;
    let (hooks, _clock) = engine(HookPolicy::default());
    hooks.create("dup", "orders.completed", &format!("{base}/dup"), Some("s".into())).unwrap();
    hooks.set_faults(HookFaults { duplicate: true, reorder_window: 0 });
    assert!(hooks.faults().duplicate);
    hooks.emit("orders.completed", json!({"idorder": 5}));
    settle(&hooks).await;
    let got = receiver.all();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(got[0].header("x-picqer-signature"), got[1].header("x-picqer-signature"));
    let log = hooks.deliveries();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|d| d.ok && d.attempt == 1));
    assert_ne!(log[0].iddelivery, log[1].iddelivery);

    hooks.set_faults(HookFaults::default());
    hooks.emit("orders.completed", json!({"idorder": 6}));
    settle(&hooks).await;
    assert_eq!(receiver.all().len(), 3);
}

// Also exercised on a multi-threaded runtime, as the server runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorder_fault_reverses_each_window() {
    let (receiver, base) = Receiver::start().await;
    let (hooks, _clock) = engine(HookPolicy::default());
    hooks.create("ro", "orders.created", &format!("{base}/ro"), None).unwrap();
    hooks.set_faults(HookFaults { duplicate: false, reorder_window: 3 });
    let seen = || -> Vec<Value> { receiver.all().iter().map(|r| r.json()["data"]["n"].clone()).collect() };

    hooks.emit("orders.created", json!({"n": 1}));
    hooks.emit("orders.created", json!({"n": 2}));
    // Held back until the window fills (real time passes; nothing is sent).
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(hooks.deliveries().is_empty());
    assert!(seen().is_empty());

    hooks.emit("orders.created", json!({"n": 3}));
    settle(&hooks).await;
    assert_eq!(seen(), [json!(3), json!(2), json!(1)]);

    // A partial window is released, reversed, by settle.
    hooks.emit("orders.created", json!({"n": 4}));
    hooks.emit("orders.created", json!({"n": 5}));
    settle(&hooks).await;
    assert_eq!(seen()[3..], [json!(5), json!(4)]);

    // Lowering the window releases what is held.
    hooks.emit("orders.created", json!({"n": 6}));
    hooks.set_faults(HookFaults::default());
    hooks.emit("orders.created", json!({"n": 7}));
    settle(&hooks).await;
    assert_eq!(seen()[5..], [json!(6), json!(7)]);
}

#[tokio::test]
async fn deliver_raw_sends_and_signs_the_given_bytes() {
    let (receiver, base) = Receiver::start().await;
    let (hooks, _clock) = engine(HookPolicy::default());
    let id = hooks
        .create("replay", "orders.status_changed", &format!("{base}/raw"), Some("replay-secret".into()))
        .unwrap()
        .idhook;
    // Odd spacing, key order and a unicode escape: re-serialising would change these bytes.
    let body = b"{ \"idhook\" :228,\"event\":\"orders.status_changed\",\n\"data\":{\"status\":\"cancelled\",\"name\":\"Caf\\u00e9\"} }".to_vec();
    hooks.deliver_raw(id, body.clone()).unwrap();
    settle(&hooks).await;
    let got = receiver.all();
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0].body[..], &body[..]);
    let sig = got[0].header("x-picqer-signature").unwrap();
    assert!(signature_valid("replay-secret", &body, sig));
    assert_eq!(hooks.deliveries()[0].event, "orders.status_changed");

    assert!(matches!(hooks.deliver_raw(999, b"{}".to_vec()), Err(HookError::NotFound(999))));
    hooks.deactivate(id);
    assert!(matches!(
        hooks.deliver_raw(id, b"{}".to_vec()),
        Err(HookError::NotFound(i)) if i == id
    ));
}

#[tokio::test]
async fn settle_does_not_wait_for_future_retries_and_emit_is_cheap_before_start() {
    let (receiver, base) = Receiver::start().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let clock = SimClock::manual(t0());
    let hooks = Hooks::new(clock.clone(), HookPolicy::default());
    receiver.answer("/down", 500, Duration::ZERO);
    hooks.create("down", "orders.created", &format!("{base}/down"), None).unwrap();
    // Queued before the engine runs; delivered once it starts.
    hooks.emit("orders.created", json!({}));
    hooks.start();
    hooks.start(); // idempotent
    settle(&hooks).await;
    assert_eq!(receiver.all().len(), 1);
    // The retry is due in simulated minutes; settle returns at once instead of waiting for it.
    settle(&hooks).await;
    assert_eq!(receiver.all().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_hook_sees_a_backlog_in_emission_order() {
    let (receiver, base) = Receiver::start().await;
    let (hooks, _clock) = engine(HookPolicy::default());
    for name in ["a", "b", "c"] {
        hooks.create(name, "products.stock_changed", &format!("{base}/{name}"), None).unwrap();
    }
    for n in 0..300 {
        hooks.emit("products.stock_changed", json!({"n": n}));
    }
    settle(&hooks).await;
    for path in ["/a", "/b", "/c"] {
        let order: Vec<Value> = receiver.at(path).iter().map(|r| r.json()["data"]["n"].clone()).collect();
        assert_eq!(order, (0..300).map(|n| json!(n)).collect::<Vec<_>>(), "{path}");
    }
    assert_eq!(hooks.deliveries().len(), 900);
}
