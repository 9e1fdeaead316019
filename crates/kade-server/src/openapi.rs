//! The OpenAPI 3.1 description of the admin API, served at `/api/openapi.json`.
//!
//! Written by hand rather than generated: the API is small, and a generator would add several
//! proc-macro crates to every build on a 2-core machine. A test checks that every route the
//! router serves is described here.

use std::sync::Arc;

use kade_engine::Connector;
use serde_json::{Value, json};

/// Paths of the admin API (relative to `/api/v1`) with their methods, as routed in `admin.rs`.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/connections"),
    ("get", "/connectors"),
    ("get", "/connections/{name}/hooks"),
    ("get", "/connections/{name}/sync"),
    ("post", "/connections/{name}/sync"),
    ("post", "/connections/{name}/disconnect"),
    ("get", "/events"),
    ("get", "/events/{id}"),
    ("post", "/events/{id}/replay"),
    ("get", "/jobs"),
    ("post", "/jobs/{id}/replay"),
    ("get", "/dead-letters"),
    ("get", "/catalogue/products"),
    ("get", "/audit"),
    ("post", "/agent/ask"),
    ("post", "/mcp"),
    ("get", "/automations"),
    ("post", "/automations/{rule}/preview"),
    ("get", "/messages"),
    ("post", "/messages/{key}/resolve"),
    ("get", "/optouts"),
    ("post", "/optouts"),
    ("delete", "/optouts/{channel}/{recipient}"),
];

fn op(summary: &str, params: &[(&str, &str, bool)], body: Option<Value>) -> Value {
    let parameters: Vec<Value> = params
        .iter()
        .map(|(name, place, required)| {
            let ty = if name.ends_with("id") || *name == "limit" { "integer" } else { "string" };
            json!({"name": name, "in": place, "required": required, "schema": {"type": ty}})
        })
        .collect();
    let mut o = json!({
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": parameters,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "404": {"$ref": "#/components/responses/Error"},
        }
    });
    if let Some(schema) = body {
        o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": schema}}});
    }
    o
}

/// Every admin route: the core's ([`ROUTES`]) and those of the registered connectors.
pub fn routes(connectors: &[Arc<dyn Connector>]) -> Vec<(&'static str, &'static str)> {
    let mut all = ROUTES.to_vec();
    all.extend(connectors.iter().flat_map(|c| c.openapi()).map(|o| (o.method, o.path)));
    all
}

/// The document, with the operations of the registered connectors.
pub fn document(connectors: &[Arc<dyn Connector>]) -> Value {
    let mut doc = core_document();
    for op_ in connectors.iter().flat_map(|c| c.openapi()) {
        let params: Vec<(&str, &str, bool)> = op_
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| (name, "path", true))
            .collect();
        doc["paths"][op_.path][op_.method] = op(op_.summary, &params, None);
    }
    doc
}

fn core_document() -> Value {
    let list = [("limit", "query", false), ("connection", "query", false)];
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Kade admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Connections, connectors (shops and other partner systems, each adding its own routes), hooks, catalogue sync, the inbox, the job queue and dead letters, the mirror, the audit log, customer answers (agent, MCP) and automations (rules, previews, the send log, opt-outs). Authenticate with `Authorization: Bearer <server.admin_token>`."
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/connections": {"get": op("Connections with credentials state, product count, hook count and sync status", &[], None)},
            "/connectors": {"get": op("Registered connectors (shops and other partner systems) with their instances, hooks and health", &[], None)},
            "/connections/{name}/hooks": {"get": op("Kade's hooks in Picqer for one connection", &[("name", "path", true)], None)},
            "/connections/{name}/sync": {
                "get": op("Catalogue sync status (full and incremental) and product count", &[("name", "path", true)], None),
                "post": op("Queue a catalogue sync", &[("name", "path", true)],
                    Some(json!({"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["full", "incremental"]}}}))),
            },
            "/connections/{name}/disconnect": {"post": op("Deactivate Kade's hooks in Picqer and remove the credentials (the mirror stays)", &[("name", "path", true)], None)},
            "/events": {"get": op("Inbox events, newest first", &list, None)},
            "/events/{id}": {"get": op("One inbox event with its raw body and job", &[("id", "path", true)], None)},
            "/events/{id}/replay": {"post": op("Process an inbox event again", &[("id", "path", true)], None)},
            "/jobs": {"get": op("Jobs, newest first", &[("state", "query", false), ("limit", "query", false)], None)},
            "/jobs/{id}/replay": {"post": op("Re-queue a dead or done job", &[("id", "path", true)], None)},
            "/dead-letters": {"get": op("Jobs that exhausted their attempts", &[("limit", "query", false)], None)},
            "/catalogue/products": {"get": op("A mirrored product by productcode, with stock per warehouse",
                &[("productcode", "query", true), ("connection", "query", false)], None)},
            "/audit": {"get": op("Audit log, newest first; filter by entity (e.g. main/product/123)",
                &[("entity", "query", false), ("limit", "query", false)], None)},
            "/agent/ask": {"post": op("Answer a customer's question about an order or stock (see docs/agent.md); order details only when the asker's identity matches the order",
                &[], Some(json!({"type": "object", "required": ["message"], "additionalProperties": false, "properties": {
                    "message": {"type": "string", "maxLength": 4000},
                    "channel": {"enum": ["whatsapp", "sms", "email", "chat", "helpdesk", "api"]},
                    "from": {"type": "string", "description": "The sender as the channel knows it: phone number (WhatsApp/SMS) or email address (email)"},
                    "language": {"enum": ["en", "nl"]},
                    "connection": {"type": "string"}}})))},
            "/mcp": {"post": op("MCP server (streamable HTTP, JSON-RPC 2.0): initialize, tools/list, tools/call with lookup_order, search_products, get_stock",
                &[("connection", "query", false)], Some(json!({"type": "object", "description": "One JSON-RPC 2.0 message"})))},
            "/automations": {"get": op("Automation rules (trigger, conditions, wait, quiet hours, cap, channel, templates) and the usable channels (see docs/automations.md)", &[], None)},
            "/automations/{rule}/preview": {"post": op("Render a rule against a recorded inbox event or a sample event, without sending: conditions, recipient, subject, body, variables",
                &[("rule", "path", true)], Some(json!({"type": "object", "additionalProperties": false, "properties": {
                    "event_id": {"type": "integer", "description": "A recorded inbox event"},
                    "event": {"type": "string", "description": "With data: the sample's event name (default: the rule's trigger)"},
                    "data": {"type": "object", "description": "The sample event's data (the order, return or shipment as Picqer sends it)"}}})))},
            "/messages": {"get": op("The automation send log, newest first",
                &[("rule", "query", false), ("state", "query", false), ("channel", "query", false), ("recipient", "query", false), ("limit", "query", false)], None)},
            "/messages/{key}/resolve": {"post": op("Resolve an ambiguous send by hand: mark it sent, or send it (after the usual checks)",
                &[("key", "path", true)], Some(json!({"type": "object", "required": ["action"], "properties": {
                    "action": {"enum": ["mark_sent", "resend"]}}})))},
            "/optouts": {
                "get": op("Opt-outs, optionally of one channel", &[("channel", "query", false)], None),
                "post": op("Add an opt-out (phone numbers are normalised to E.164)", &[],
                    Some(json!({"type": "object", "required": ["channel", "recipient"], "properties": {
                        "channel": {"enum": ["email", "whatsapp", "sms"]}, "recipient": {"type": "string"}, "reason": {"type": "string"}}}))),
            },
            "/optouts/{channel}/{recipient}": {"delete": op("Remove an opt-out", &[("channel", "path", true), ("recipient", "path", true)], None)},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Unauthorized": {"description": "Missing or wrong bearer token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "Error": {"description": "An error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}},
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_described() {
        let doc = document(&[]);
        for (method, path) in ROUTES {
            assert!(doc["paths"][path][method].is_object(), "{method} {path} missing from the OpenAPI document");
        }
        let described: usize = doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(described, ROUTES.len());
    }
}
