//! Automations as an operator meets them: the outbound webhook channel (Standard Webhooks
//! signatures, retries with the same `webhook-id`), and the real binary's `kade check`,
//! `kade automations list|preview` and `kade messages`, including a bad template's message.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use kade_messaging::sign_standard_webhook;
use serde_json::Value;

use crate::automation_rig::{AutoRig, Providers, rules};
use crate::support::test_databases;

/// `whsec_` + base64 of 32 bytes.
const SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn receiver(fail_first: usize) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let state = (seen.clone(), Arc::new(Mutex::new(fail_first)));
    async fn hook(
        State((seen, fails)): State<(Seen, Arc<Mutex<usize>>)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        seen.lock().unwrap().push((headers, body));
        let mut f = fails.lock().unwrap();
        if *f > 0 {
            *f -= 1;
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        }
    }
    let app = Router::new().route("/hook", post(hook)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn a_webhook_rule_posts_signed_json_and_retries_with_the_same_id() {
    let db = test_databases("auto_webhook").await.remove(0);
    let (url, seen) = receiver(1).await;
    let rule = format!(
        "[[automation]]\nname = \"erp\"\ntrigger = \"orders.completed\"\nchannel = \"webhook\"\nurl = \"{url}\"\n\
         secret = \"{SECRET}\"\nbody = \"Order {{{{order_number}}}} for {{{{customer_name}}}}\"\n"
    );
    let rig = AutoRig::start(&db, rules(&rule), Providers::default()).await;
    let order = rig.order(None, None, "NL").await;
    rig.ship(&order, &["3SHOOK001"]).await;
    rig.settle().await;
    for _ in 0..3 {
        rig.advance(Duration::from_secs(1)).await;
    }
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "a 503, then the retry");
    let id = |h: &HeaderMap, k: &str| h[k].to_str().unwrap().to_string();
    assert_eq!(id(&got[0].0, "webhook-id"), id(&got[1].0, "webhook-id"), "the retry keeps its webhook-id");
    let (headers, body) = &got[1];
    let ts: i64 = id(headers, "webhook-timestamp").parse().unwrap();
    let expected = sign_standard_webhook(SECRET, &id(headers, "webhook-id"), ts, body);
    assert!(id(headers, "webhook-signature").split(' ').any(|s| s == expected), "signature verifies");
    let payload: Value = serde_json::from_slice(body).unwrap();
    let fresh = rig.api().order(order.idorder).await.unwrap();
    assert_eq!(payload["text"], format!("Order {} for Jan Jansen", fresh.orderid));
    assert_eq!(payload["variables"]["order_number"], fresh.orderid.as_str());
    assert_eq!(payload["rule"], "erp");
    let row = rig.log().await.remove(0);
    assert_eq!((row.state.as_str(), row.channel.as_str()), ("sent", "webhook"));
}

const BASE: &str = r#"
[server]
public_url = "https://kade.example.com"
admin_token = "env:KADE_IT_ADMIN_TOKEN"

[database]
url = "sqlite:kade.db"

[security]
master_key = "env:KADE_IT_MASTER_KEY"

[picqer.main]
base_url = "http://127.0.0.1:9/api/v1"
api_key = "k"

[smtp]
host = "127.0.0.1"
port = 2525
tls = "none"
from = "shop@example.com"

[[automation]]
name = "review-request"
trigger = "orders.completed"
wait = "2d"
channel = "email"
subject = "How was order {{order_number}}?"
"#;

fn kade(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kade"))
        .args(args)
        .args(["--config", dir.join("kade.toml").to_str().unwrap()])
        .env("KADE_IT_ADMIN_TOKEN", "admin-token-0123456789")
        .env("KADE_IT_MASTER_KEY", "master-key-0123456789-0123456789-abc")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_cli_lists_previews_shows_the_log_and_names_a_bad_template() {
    let dir = std::env::temp_dir().join(format!("kade-it-auto-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write =
        |body: &str| std::fs::write(dir.join("kade.toml"), format!("{BASE}body = \"\"\"\n{body}\"\"\"\n")).unwrap();

    write("Hi {{customer_name}},\nhow was {{order_numbr}}?\n");
    let (code, text) = kade(&dir, &["check", "--offline"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("rule \"review-request\": line 2, column 11: unknown variable {{order_numbr}} — did you mean {{order_number}}?"),
        "{text}"
    );
    let (code, text) = kade(&dir, &["automations", "list"]);
    assert_ne!(code, 0);
    assert!(text.contains("automation[0].body"), "{text}");

    write("Hi {{customer_name}},\nhow was {{products}}?\n");
    let (code, text) = kade(&dir, &["automations", "list"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("review-request — orders.completed → email") && text.contains("wait: 2d"), "{text}");

    let sample = dir.join("sample.json");
    std::fs::write(
        &sample,
        r#"{"event": "orders.completed", "data": {"orderid": "20250077", "status": "completed",
            "deliveryname": "Piet", "emailaddress": "piet@example.nl",
            "products": [{"amount": 3, "name": "Mug", "productcode": "MUG"}]}}"#,
    )
    .unwrap();
    let (code, text) = kade(&dir, &["automations", "preview", "review-request", "--sample", sample.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    for needle in [
        "triggers",
        "email to: piet@example.nl",
        "subject: How was order 20250077?",
        "Hi Piet,\nhow was 3 x Mug (MUG)?",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in:\n{text}");
    }
    let (code, text) = kade(&dir, &["automations", "preview", "nope", "--sample", sample.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(text.contains("there is no rule \"nope\" (rules: review-request)"), "{text}");

    let (code, text) = kade(&dir, &["messages"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("no messages"), "{text}");
    let (code, text) = kade(&dir, &["messages", "--state", "lost"]);
    assert_ne!(code, 0);
    assert!(text.contains("--state must be one of"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
