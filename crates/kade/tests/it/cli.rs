//! The real `kade` binary: `kade sim picqer` answers curl-style requests with the documented
//! shapes, and `kade demo` runs to the end.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::KillOnDrop;

#[tokio::test]
async fn sim_picqer_serves_the_documented_shapes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kade"))
        .args(["sim", "picqer", "--listen", "127.0.0.1:0", "--products", "150", "--api-key", "k-123"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = KillOnDrop(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut base = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.trim().strip_prefix("base URL:") {
            base = Some(url.trim().to_string());
        }
        if line.contains("API key:") {
            assert!(line.contains("k-123"));
            break;
        }
    }
    // Keep draining what the simulator prints, so it never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let base = base.expect("the simulator prints its base URL");
    let http = reqwest::Client::new();

    let resp = http.get(format!("{base}/products")).basic_auth("k-123", Some("")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-ratelimit-limit"], "500");
    assert!(resp.headers().contains_key("x-ratelimit-remaining"));
    let page: Value = resp.json().await.unwrap();
    let page = page.as_array().expect("lists are bare arrays");
    assert_eq!(page.len(), 100);
    for field in
        ["idproduct", "productcode", "name", "price", "idvatgroup", "stock", "tags", "active", "created", "updated"]
    {
        assert!(page[0].get(field).is_some(), "product lacks {field}: {}", page[0]);
    }
    let rest: Value = http
        .get(format!("{base}/products?offset=100"))
        .basic_auth("k-123", None::<&str>)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest.as_array().unwrap().len(), 50);

    let one: Value = http
        .get(format!("{base}/products/{}", page[0]["idproduct"]))
        .basic_auth("k-123", Some(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(one.is_object(), "single resources are bare objects");

    let denied = http.get(format!("{base}/products")).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    let env: Value = denied.json().await.unwrap();
    assert_eq!(env["error"], true);
    assert!(env["error_code"].is_i64() && env["error_message"].is_string(), "{env}");

    let bad = http
        .post(format!("{base}/orders"))
        .basic_auth("k-123", Some(""))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let env: Value = bad.json().await.unwrap();
    assert_eq!(env["error"], true, "{env}");
}

#[test]
fn demo_runs_kade_end_to_end() {
    let out = Command::new(env!("CARGO_BIN_EXE_kade")).args(["demo", "--products", "300"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("→ 300 products"), "the catalogue is mirrored: {stdout}");
    assert!(stdout.contains("← orders.completed"), "{stdout}");
    assert!(stdout.contains("← products.free_stock_changed"), "{stdout}");
    assert!(stdout.contains("product mirrored"), "the timeline shows the mirror writes: {stdout}");
    assert!(stdout.contains("\"dead\": 0"), "no dead letters: {stdout}");
}
