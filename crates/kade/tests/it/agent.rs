//! The customer-answer surfaces of a running Kade on the Picqer simulator: the ask endpoint
//! (auth, bad input, answers), an MCP client over streamable HTTP that lists the tools and
//! calls each one, and `kade agent ask` on the real binary.

use std::process::Command;
use std::time::Duration;

use kade_engine::EngineConfig;
use kade_engine::picqer::PicqerSettings;
use kade_picqer::types::{NewOrder, NewOrderLine, ProductFilter};
use kade_picqer::{ApiKey, ClientConfig};
use kade_server::{Hub, HubOptions};
use kade_sim::picqer::RunningSim;
use serde_json::{Value, json};

use crate::support::{client, control, hub_options, sim, test_databases};

const TOKEN: &str = "agent-test-admin-token-0123";

async fn hub(db: &str, sim: &RunningSim) -> Hub {
    let picqer = PicqerSettings {
        name: "main".into(),
        client: ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key())),
        webhook_url: String::new(),
        events: vec!["products.free_stock_changed".into()],
    };
    let opts = HubOptions {
        admin_token: TOKEN.into(),
        engine: EngineConfig { idle_poll: Duration::from_millis(20), ..EngineConfig::default() },
        background: true,
        ..hub_options(db, vec![picqer])
    };
    let hub = Hub::start(opts).await.expect("hub starts");
    for _ in 0..400 {
        let s = hub.engine.store().sync_state("main", "catalogue_full").await.unwrap();
        if s.is_some_and(|s| s.status == "done") {
            return hub;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the first catalogue sync did not finish");
}

/// A shipped order for jan@example.nl (postcode 6811 AB) with one parcel; returns
/// (orderid, productcode, product name).
async fn shipped_order(sim: &RunningSim) -> (String, String, String) {
    let picqer = client(sim);
    let p = picqer.products(&ProductFilter::default()).next_page().await.unwrap().unwrap().remove(0);
    control(sim, "POST", &format!("/_sim/products/{}/stock", p.idproduct), json!({"idwarehouse": 101, "amount": 10}))
        .await;
    let o = picqer
        .create_order(&NewOrder {
            reference: Some("WEB-42".into()),
            emailaddress: Some("jan@example.nl".into()),
            deliveryname: Some("Jan Jansen".into()),
            deliveryzipcode: Some("6811 AB".into()),
            deliverycountry: Some("NL".into()),
            invoicename: Some("Jan Jansen".into()),
            invoicecountry: Some("NL".into()),
            products: vec![NewOrderLine::by_id(p.idproduct, 1)],
            ..Default::default()
        })
        .await
        .unwrap();
    picqer.process_order(o.idorder).await.unwrap();
    control(sim, "POST", &format!("/_sim/orders/{}/pick", o.idorder), json!({})).await;
    control(
        sim,
        "POST",
        &format!("/_sim/orders/{}/ship", o.idorder),
        json!({"parcels": [{"trackingcode": "3SAGENT0001", "carrier": "postnl"}]}),
    )
    .await;
    (o.orderid, p.productcode, p.name)
}

async fn post(url: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(url).header("content-type", "application/json").body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn the_ask_endpoint_answers_with_facts_and_refuses_bad_requests() {
    for db in test_databases("agent_api").await {
        let sim = sim(60).await;
        let (orderid, code, name) = shipped_order(&sim).await;
        let hub = hub(&db, &sim).await;
        let url = format!("{}/api/v1/agent/ask", hub.url());

        let body = json!({"message": format!("where is {orderid}?"), "channel": "chat"}).to_string();
        assert_eq!(post(&url, None, &body).await.0, 401, "the token is required");
        assert_eq!(post(&url, Some("wrong"), &body).await.0, 401);

        let (status, v) = post(&url, Some(TOKEN), "{\"message\": ").await;
        assert_eq!(status, 400);
        assert_eq!(v["error"], "bad_request");
        assert!(v["message"].as_str().unwrap().contains("the body must be JSON"), "{v}");
        for (bad, says) in [
            (json!({"channel": "chat"}), "missing field `message`"),
            (json!({"message": "hi", "channel": "pigeon"}), "channel \"pigeon\" is unknown"),
            (json!({"message": "hi", "language": "fr"}), "use en or nl"),
            (json!({"message": "  "}), "message is empty"),
            (json!({"message": "hi", "mesage": "typo"}), "unknown field `mesage`"),
            (json!({"message": "hi", "connection": "nope"}), "no Picqer connection \"nope\""),
        ] {
            let (status, v) = post(&url, Some(TOKEN), &bad.to_string()).await;
            assert!(status == 400 || status == 404, "{bad}: {status}");
            assert!(v["message"].as_str().unwrap().contains(says), "{bad}: {v}");
        }

        // Unverified: asked to verify, nothing disclosed.
        let (status, v) = post(&url, Some(TOKEN), &body).await;
        assert_eq!(status, 200);
        assert_eq!(v["facts"]["verification"], "required");
        assert_eq!(v["facts"]["orders"], json!([]));
        assert!(!v.to_string().contains("3SAGENT0001"));

        // Verified by postcode: status, products, the parcel.
        let ask = json!({"message": format!("waar is {orderid}? postcode 6811ab"), "channel": "whatsapp", "from": "+31600000000"});
        let (status, v) = post(&url, Some(TOKEN), &ask.to_string()).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["facts"]["verification"], "verified");
        assert_eq!(v["facts"]["language"], "nl");
        assert_eq!(v["facts"]["orders"][0]["orderid"], orderid.as_str());
        assert_eq!(v["facts"]["orders"][0]["shipments"][0]["parcels"][0]["tracking_code"], "3SAGENT0001");
        assert_eq!(v["facts"]["orders"][0]["lines"][0]["productcode"], code.as_str());
        assert!(v["answer"].as_str().unwrap().contains("3SAGENT0001"));
        assert!(v["sources"].as_array().unwrap().iter().any(|s| s.as_str().unwrap().starts_with("picqer:orders/")));

        // A stock question from the mirror Kade synced.
        let (status, v) =
            post(&url, Some(TOKEN), &json!({"message": format!("is {code} in stock?")}).to_string()).await;
        assert_eq!(status, 200);
        assert_eq!(v["facts"]["products"][0]["name"], name.as_str());
        assert!(v["answer"].as_str().unwrap().starts_with(&name), "{v}");
        hub.stop().await;
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn an_mcp_client_lists_the_tools_and_calls_each_one() {
    let db = test_databases("agent_mcp").await.remove(0);
    let sim = sim(60).await;
    let (orderid, code, name) = shipped_order(&sim).await;
    let hub = hub(&db, &sim).await;
    let url = format!("{}/api/v1/mcp", hub.url());
    let http = reqwest::Client::new();
    let rpc = |body: Value| {
        let req = http
            .post(&url)
            .bearer_auth(TOKEN)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18")
            .json(&body);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap())
        }
    };

    let (status, text) = rpc(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "kade-test", "version": "1"}}}))
    .await;
    assert_eq!(status, 200);
    let init: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(init["result"]["serverInfo"]["name"], "kade");
    let (status, text) = rpc(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
    assert_eq!((status, text.as_str()), (202, ""));

    let (_, text) = rpc(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})).await;
    let list: Value = serde_json::from_str(&text).unwrap();
    let tools = list["result"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 3);
    for t in tools {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert_eq!(t["annotations"]["readOnlyHint"], true);
    }

    let call = |id: i64, name: &str, args: Value| json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": args}});
    let (_, text) = rpc(call(3, "lookup_order", json!({"order": orderid, "email": "jan@example.nl"}))).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["result"]["structuredContent"]["verification"], "verified", "{v}");
    assert_eq!(v["result"]["structuredContent"]["orders"][0]["shipments"][0]["carrier"], "PostNL");
    let (_, text) = rpc(call(4, "lookup_order", json!({"order": orderid}))).await;
    assert!(!text.contains("3SAGENT0001") && text.contains("\"verification\":\"required\""), "{text}");
    let (_, text) = rpc(call(5, "search_products", json!({"query": name}))).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["result"]["structuredContent"]["products"][0]["productcode"], code.as_str(), "{v}");
    let (_, text) = rpc(call(6, "get_stock", json!({"productcode": code}))).await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["result"]["structuredContent"]["product"]["name"], name.as_str());
    assert!(v["result"]["structuredContent"]["product"]["sellable"].is_i64());

    // Transport details: auth, no GET stream, JSON-RPC errors.
    let anon = reqwest::Client::new()
        .post(&url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    let cross = reqwest::Client::new()
        .post(&url)
        .bearer_auth(TOKEN)
        .header("origin", "http://evil.example")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403, "cross-origin requests are refused");
    let get = reqwest::Client::new().get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    let bad = reqwest::Client::new().post(&url).bearer_auth(TOKEN).body("{oops").send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let v: Value = bad.json().await.unwrap();
    assert_eq!(v["error"]["code"], -32700);
    hub.stop().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn kade_agent_ask_answers_from_the_configured_account() {
    let db = test_databases("agent_cli").await.remove(0);
    let sim = sim(40).await;
    let (orderid, code, name) = shipped_order(&sim).await;
    let hub = hub(&db, &sim).await;
    hub.stop().await;
    let dir = std::env::temp_dir().join(format!("kade-agent-cli-{}-{:08x}", std::process::id(), fastrand::u32(..)));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("kade.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\npublic_url = \"http://127.0.0.1:1\"\nadmin_token = \"{TOKEN}\"\n\n[database]\nurl = \"{db}\"\n\n\
             [security]\nmaster_key = \"a master key for the agent cli test, long enough\"\n\n\
             [picqer.main]\nbase_url = \"{}\"\napi_key = \"env:PICQER_API_KEY\"\n\n[agent]\nlanguage = \"nl\"\n",
            sim.base_url()
        ),
    )
    .unwrap();
    let (config_path, key) = (config.to_str().unwrap().to_string(), sim.api_key().to_string());
    let run = move |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_kade"))
            .args(["agent", "ask", "--config", &config_path])
            .args(args)
            .env("PICQER_API_KEY", &key)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let orderid2 = orderid.clone();
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        let a = run(&[&format!("{orderid2} jan@example.nl")]);
        let b = run(&[&orderid2, "--channel", "email", "--from", "Jan <jan@example.nl>", "--json"]);
        let c = run(&[&orderid2]);
        let d = run(&["is it there?", "--channel", "pigeon"]);
        let e = run(&[&format!("{code} op voorraad?")]);
        ((a.0, b.0, c.0, d.0, e.0), (a.1, b.1, c.1, e.1), d.2)
    })
    .await
    .unwrap();
    assert_eq!(ok, (true, true, true, false, true), "{out:?} {err}");
    assert!(out.0.contains("3SAGENT0001") && out.0.starts_with("Bestelling"), "[agent] language = nl: {}", out.0);
    let json: Value = serde_json::from_str(&out.1).unwrap();
    assert_eq!(json["facts"]["verified_by"], "email");
    assert!(!out.2.contains("3SAGENT0001") && out.2.contains("e-mailadres"), "{}", out.2);
    assert!(err.contains("--channel \"pigeon\""), "{err}");
    assert!(out.3.starts_with(&name), "{}", out.3);
    let _ = std::fs::remove_dir_all(&dir);
    sim.shutdown().await;
}
