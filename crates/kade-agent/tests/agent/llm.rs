//! The language-model path against a local fake of an OpenAI-compatible endpoint: the model
//! calls Kade's tools, Kade runs them, identity rules hold whatever the model asks for, and a
//! failing endpoint falls back to the templates.

use std::sync::{Arc, Mutex};

use crate::support::*;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use kade_agent::{AgentConfig, Channel, LlmConfig, Question};
use serde_json::{Value, json};

/// A request body and the Authorization header it came with.
type Seen = (Value, Option<String>);

#[derive(Clone, Default)]
struct Fake {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// The order number the scripted model looks up, and the email it (wrongly) claims.
    script: Arc<Mutex<(String, String)>>,
    fail: Arc<Mutex<bool>>,
}

/// A scripted model: first it calls `lookup_order` (claiming an email of its own choosing) and
/// `search_products`; once tool results are in, it answers with them verbatim, so the test can
/// see exactly what the tools gave it.
async fn completions(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    fake.seen.lock().unwrap().push((body.clone(), auth));
    if *fake.fail.lock().unwrap() {
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": {"message": "overloaded"}})));
    }
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let tool_results: Vec<String> = messages
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or("").to_string())
        .collect();
    if tool_results.is_empty() {
        let (order, email) = fake.script.lock().unwrap().clone();
        let calls = json!([
            {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": json!({"order": order, "email": email}).to_string()}},
            {"id": "call_2", "type": "function", "function": {"name": "search_products", "arguments": "{\"query\":\"zephyr jacket\"}"}}
        ]);
        return (
            StatusCode::OK,
            Json(json!({"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": calls}}]})),
        );
    }
    let answer = format!("MODEL SAYS: {}", tool_results.join(" | "));
    (StatusCode::OK, Json(json!({"choices": [{"message": {"role": "assistant", "content": answer}}]})))
}

async fn fake_model() -> (String, Fake) {
    let fake = Fake::default();
    let app = Router::new().route("/v1/chat/completions", post(completions)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, fake)
}

#[tokio::test]
async fn the_model_uses_the_tools_and_cannot_get_past_identity() {
    let sim = sim(20).await;
    let c = client(&sim);
    product(&sim, &c, "ZEP-0001-BLU-M", "Zephyr Jacket Blue M", 30).await;
    let o = order(&c, "PS #9", &[("ZEP-0001-BLU-M", 1)]).await;
    let store = store("llm").await;
    mirror(&c, &store).await;
    let (url, fake) = fake_model().await;
    *fake.script.lock().unwrap() = (o.orderid.clone(), "sanne.devries@example.com".into());
    let cfg =
        AgentConfig { llm: Some(LlmConfig::new(url, "fake-model", Some("sk-test".into()))), ..AgentConfig::default() };
    let agent = agent(c, store, cfg);

    // The customer gave no proof; the model claims the right email anyway. The tool ignores
    // the model's claim, so the model never sees the order.
    let q = Question {
        message: format!("where is order {}?", o.orderid),
        channel: Channel::Chat,
        from: None,
        language: None,
    };
    let r = agent.ask(&q).await.unwrap();
    assert!(r.answer.starts_with("MODEL SAYS:"), "{}", r.answer);
    assert!(r.answer.contains("\"verification\":\"required\""), "{}", r.answer);
    assert!(!r.answer.contains("Zephyr Jacket Blue M\",\"amount"), "no order lines reach the model: {}", r.answer);
    assert!(r.answer.contains("ZEP-0001-BLU-M"), "the stock tool ran: {}", r.answer);
    assert_eq!(r.facts.model.as_deref(), Some("fake-model"));
    assert_eq!(r.facts.verification, Some("required"));
    assert!(r.facts.orders.is_empty());
    assert_eq!(r.facts.intents, ["order", "stock"]);

    // With the customer's own email in the message, the same tool call is verified.
    let q = Question { message: format!("where is order {}? sanne.devries@example.com", o.orderid), ..q };
    let r = agent.ask(&q).await.unwrap();
    assert!(r.answer.contains("\"verification\":\"verified\""), "{}", r.answer);
    assert_eq!(r.facts.orders.len(), 1);
    assert_eq!(r.facts.orders[0].orderid, o.orderid);

    let seen = fake.seen.lock().unwrap().clone();
    let (first, auth) = &seen[0];
    assert_eq!(auth.as_deref(), Some("Bearer sk-test"));
    assert_eq!(first["model"], "fake-model");
    let tools: Vec<&str> =
        first["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(tools, ["lookup_order", "search_products", "get_stock"]);
    assert_eq!(first["messages"][0]["role"], "system");
    drop(seen);

    // The endpoint failing: the template answer, never an error.
    *fake.fail.lock().unwrap() = true;
    let r = agent.ask(&q).await.unwrap();
    assert!(r.facts.model.is_none());
    assert!(r.answer.starts_with(&format!("Order {}", o.orderid)), "{}", r.answer);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_bad_endpoint_url_is_refused_at_start() {
    let sim = sim(5).await;
    let cfg = AgentConfig { llm: Some(LlmConfig::new("ftp://model", "m", None)), ..AgentConfig::default() };
    let e = kade_agent::Agent::new(cfg, client(&sim), store("llm-bad").await, CONNECTION).err().expect("refused");
    assert!(e.to_string().contains("must be http:// or https://"), "{e}");
    sim.shutdown().await;
}
