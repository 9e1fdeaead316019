//! The MCP message layer: lifecycle, tool listing, each tool, identity inside the tool, and
//! JSON-RPC errors.

use crate::support::*;
use kade_agent::AgentConfig;
use kade_agent::mcp::{self, McpReply};
use serde_json::{Value, json};

async fn call(agent: &kade_agent::Agent, msg: Value) -> Value {
    match mcp::handle(agent, msg.to_string().as_bytes()).await {
        McpReply::Json(200, v) => v,
        other => panic!("unexpected reply {other:?} to {msg}"),
    }
}

#[tokio::test]
async fn tools_are_listed_and_each_one_answers() {
    let sim = sim(20).await;
    let c = client(&sim);
    product(&sim, &c, "ZEP-0001-BLU-M", "Zephyr Jacket Blue M", 30).await;
    set_stock(&sim, c.products_by_code("ZEP-0001-BLU-M").await.unwrap()[0].idproduct.0, 30).await;
    let o = order(&c, "PS #5", &[("ZEP-0001-BLU-M", 1)]).await;
    let store = store("mcp").await;
    mirror(&c, &store).await;
    let agent = agent(c, store, AgentConfig::default());

    let init = call(&agent, json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})).await;
    assert_eq!(init["result"]["protocolVersion"], "2025-03-26", "the client's revision is accepted");
    assert!(init["result"]["capabilities"]["tools"].is_object());
    assert_eq!(
        mcp::handle(&agent, br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await,
        McpReply::Accepted
    );

    let list = call(&agent, json!({"jsonrpc": "2.0", "id": "l", "method": "tools/list"})).await;
    let names: Vec<&str> =
        list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["lookup_order", "search_products", "get_stock"]);

    let tool = |name: &str, args: Value| json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": name, "arguments": args}});
    let r = call(&agent, tool("search_products", json!({"query": "zephyr jas blauw", "limit": 3}))).await;
    assert_eq!(r["result"]["isError"], false);
    assert_eq!(r["result"]["structuredContent"]["products"][0]["productcode"], "ZEP-0001-BLU-M");
    let text: Value = serde_json::from_str(r["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, r["result"]["structuredContent"], "text content carries the same JSON");

    let r = call(&agent, tool("get_stock", json!({"productcode": "zep-0001-blu-m"}))).await;
    assert_eq!(r["result"]["structuredContent"]["product"]["availability"], "in_stock");
    let r = call(&agent, tool("get_stock", json!({"productcode": "NOPE"}))).await;
    assert_eq!(r["result"]["structuredContent"]["found"], false);

    let r = call(&agent, tool("lookup_order", json!({"order": o.orderid}))).await;
    assert_eq!(r["result"]["structuredContent"]["verification"], "required");
    assert!(r["result"]["structuredContent"].get("orders").is_none());
    let r = call(&agent, tool("lookup_order", json!({"order": o.orderid, "email": "x@y.nl"}))).await;
    assert_eq!(r["result"]["structuredContent"]["verification"], "not_verified");
    let r = call(&agent, tool("lookup_order", json!({"order": "PS #5", "phone": "+31 6 12345678"}))).await;
    assert_eq!(r["result"]["structuredContent"]["verification"], "verified");
    assert_eq!(r["result"]["structuredContent"]["orders"][0]["orderid"], o.orderid.as_str());
    assert_eq!(r["result"]["structuredContent"]["orders"][0]["lines"][0]["productcode"], "ZEP-0001-BLU-M");

    // Tool errors are results with isError; an unknown tool is a JSON-RPC error.
    let r = call(&agent, tool("lookup_order", json!({"email": "x@y.nl"}))).await;
    assert_eq!(r["result"]["isError"], true);
    assert!(r["result"]["content"][0]["text"].as_str().unwrap().contains("`order` is required"));
    let r = call(&agent, tool("search_products", json!({"query": "x", "limit": 500}))).await;
    assert_eq!(r["result"]["isError"], true);
    let r = call(&agent, tool("lookup_order", json!({"order": "1", "phone": "call me"}))).await;
    assert_eq!(r["result"]["isError"], true);
    let r = call(&agent, tool("delete_everything", json!({}))).await;
    assert_eq!(r["error"]["code"], mcp::INVALID_PARAMS);
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_messages_get_json_rpc_errors() {
    let sim = sim(5).await;
    let agent = agent(client(&sim), store("mcp-bad").await, AgentConfig::default());
    let cases: [(&[u8], i64); 5] = [
        (b"{not json", mcp::PARSE_ERROR),
        (br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, mcp::INVALID_REQUEST),
        (br#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, mcp::INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1}"#, mcp::INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#, mcp::INVALID_REQUEST),
    ];
    for (body, code) in cases {
        match mcp::handle(&agent, body).await {
            McpReply::Json(400, v) => assert_eq!(v["error"]["code"], code, "{}", String::from_utf8_lossy(body)),
            other => panic!("{other:?} for {}", String::from_utf8_lossy(body)),
        }
    }
    let r = call(&agent, json!({"jsonrpc": "2.0", "id": 2, "method": "resources/list"})).await;
    assert_eq!(r["error"]["code"], mcp::METHOD_NOT_FOUND);
    let r = call(&agent, json!({"jsonrpc": "2.0", "id": 3, "method": "ping"})).await;
    assert_eq!(r["result"], json!({}));
    sim.shutdown().await;
}
