//! The Model Context Protocol server logic: JSON-RPC 2.0 messages in, JSON-RPC answers out, for
//! the streamable HTTP transport (one POST per message, answered with `application/json`).
//! The HTTP side (auth, status codes) lives in kade-server; this module is transport-free so it
//! is tested directly.
//!
//! Supported: `initialize`, `notifications/initialized` (and any other notification),
//! `ping`, `tools/list`, `tools/call`. Stateless: no session id is issued, and no server-initiated
//! stream is offered.

use serde_json::{Value, json};

use crate::agent::Agent;
use crate::tools::{self, ToolError, Trust};

/// Protocol revisions this server speaks, newest first.
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-06-18", "2025-03-26", "2024-11-05"];

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;

/// What to send back.
#[derive(Debug, PartialEq)]
pub enum McpReply {
    /// A JSON-RPC response with the HTTP status to send it with.
    Json(u16, Value),
    /// The message was a notification (or a response): HTTP 202, no body.
    Accepted,
}

fn error(id: Value, code: i64, message: impl Into<String>) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message.into()}})
}

fn result(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// Handles one HTTP body.
pub async fn handle(agent: &Agent, body: &[u8]) -> McpReply {
    let msg: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return McpReply::Json(400, error(Value::Null, PARSE_ERROR, format!("body is not JSON: {e}"))),
    };
    if msg.is_array() {
        return McpReply::Json(
            400,
            error(Value::Null, INVALID_REQUEST, "batches are not supported; send one JSON-RPC message per request"),
        );
    }
    let Some(obj) = msg.as_object() else {
        return McpReply::Json(400, error(Value::Null, INVALID_REQUEST, "a JSON-RPC message must be an object"));
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        let id = obj.get("id").cloned().unwrap_or(Value::Null);
        return McpReply::Json(400, error(id, INVALID_REQUEST, "`jsonrpc` must be \"2.0\""));
    }
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        // A response or error from the client (we never ask it anything): nothing to answer.
        return if obj.contains_key("result") || obj.contains_key("error") {
            McpReply::Accepted
        } else {
            McpReply::Json(
                400,
                error(obj.get("id").cloned().unwrap_or(Value::Null), INVALID_REQUEST, "`method` is missing"),
            )
        };
    };
    let Some(id) = obj.get("id").cloned() else {
        return McpReply::Accepted; // a notification
    };
    if !(id.is_string() || id.is_i64() || id.is_u64()) {
        return McpReply::Json(400, error(Value::Null, INVALID_REQUEST, "`id` must be a string or an integer"));
    }
    let params = obj.get("params").cloned().unwrap_or_else(|| json!({}));
    McpReply::Json(200, dispatch(agent, id, method, &params).await)
}

async fn dispatch(agent: &Agent, id: Value, method: &str, params: &Value) -> Value {
    match method {
        "initialize" => {
            let asked = params.get("protocolVersion").and_then(Value::as_str).unwrap_or(PROTOCOL_VERSIONS[0]);
            let version = PROTOCOL_VERSIONS.iter().find(|v| **v == asked).copied().unwrap_or(PROTOCOL_VERSIONS[0]);
            result(
                id,
                json!({
                    "protocolVersion": version,
                    "capabilities": {"tools": {"listChanged": false}},
                    "serverInfo": {"name": "kade", "title": "Kade order and stock answers", "version": env!("CARGO_PKG_VERSION")},
                    "instructions": format!(
                        "Read-only tools over the Picqer account of connection {:?}. lookup_order discloses an order only when the customer's email address, delivery postcode or verified phone number matches it; pass exactly what the customer gave.",
                        agent.connection()
                    ),
                }),
            )
        }
        "ping" => result(id, json!({})),
        "tools/list" => {
            let tools: Vec<Value> = tools::definitions()
                .into_iter()
                .map(|(name, description, schema)| {
                    json!({"name": name, "description": description, "inputSchema": schema, "annotations": {"readOnlyHint": true, "openWorldHint": false}})
                })
                .collect();
            result(id, json!({"tools": tools}))
        }
        "tools/call" => {
            let Some(name) = params.get("name").and_then(Value::as_str) else {
                return error(id, INVALID_PARAMS, "`params.name` (the tool) is required");
            };
            let args = params.get("arguments").cloned().unwrap_or_else(|| json!({}));
            match tools::call(agent, name, &args, &Trust::Caller).await {
                Ok(out) => result(
                    id,
                    json!({
                        "content": [{"type": "text", "text": serde_json::to_string(&out).unwrap_or_default()}],
                        "structuredContent": out,
                        "isError": false,
                    }),
                ),
                Err(ToolError::Unknown(n)) => error(id, INVALID_PARAMS, format!("unknown tool {n:?}")),
                Err(e) => result(id, json!({"content": [{"type": "text", "text": e.to_string()}], "isError": true})),
            }
        }
        other => error(id, METHOD_NOT_FOUND, format!("method {other:?} is not supported")),
    }
}
