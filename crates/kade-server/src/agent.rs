//! The customer-answer surfaces: `POST /api/v1/agent/ask` (one question, one answer with facts
//! and sources) and `POST /api/v1/mcp` (the MCP server over streamable HTTP). Both sit behind
//! the admin token: the caller is the shop's chat, helpdesk or assistant integration, which
//! passes the customer's words and the channel's sender along.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use kade_agent::mcp::{self, McpReply};
use kade_agent::{Agent, AgentConfig, AgentError, Channel, Lang, Question};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Admin;
use crate::error::ApiError;

/// One agent per Picqer connection, made on first use so its catalogue index is built once
/// and its order cache shared between requests.
pub struct Agents {
    cfg: AgentConfig,
    by_connection: Mutex<HashMap<String, Arc<Agent>>>,
}

impl Agents {
    pub fn new(cfg: AgentConfig) -> Self {
        Agents { cfg, by_connection: Mutex::default() }
    }

    /// The agent for `connection`, or for the only connection when none is named.
    fn get(&self, state: &AppState, connection: Option<&str>) -> Result<Arc<Agent>, ApiError> {
        let conn = match connection {
            Some(name) => state
                .engine
                .picqer(name)
                .ok_or_else(|| ApiError::not_found(format!("no Picqer connection {name:?}")))?,
            None => {
                let mut all = state.engine.picqer_all();
                match all.len() {
                    1 => all.remove(0),
                    0 => {
                        return Err(ApiError::new(
                            StatusCode::CONFLICT,
                            "no_connection",
                            "no Picqer connection is configured",
                        ));
                    }
                    _ => {
                        return Err(bad_request(
                            "several Picqer connections are configured; name one with \"connection\" (or ?connection= for MCP)",
                        ));
                    }
                }
            }
        };
        let mut map = self.by_connection.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = map.get(conn.name()) {
            return Ok(a.clone());
        }
        let agent = Agent::new(self.cfg.clone(), conn.client().clone(), state.engine.store().clone(), conn.name())
            .map_err(ApiError::internal)?;
        let agent = Arc::new(agent);
        map.insert(conn.name().to_string(), agent.clone());
        Ok(agent)
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/agent/ask", axum::routing::post(ask))
        .route("/mcp", axum::routing::post(mcp_post).get(mcp_get).delete(mcp_get))
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AskBody {
    message: String,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    connection: Option<String>,
}

async fn ask(_: Admin, State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let req: AskBody = serde_json::from_slice(&body).map_err(|e| {
        bad_request(format!(
            "the body must be JSON like {{\"message\": \"…\", \"channel\": \"whatsapp\", \"from\": \"+316…\"}}: {e}"
        ))
    })?;
    let channel = match req.channel.as_deref() {
        None => Channel::Api,
        Some(c) => Channel::parse(c).ok_or_else(|| {
            bad_request(format!("channel {c:?} is unknown; use whatsapp, sms, email, chat, helpdesk or api"))
        })?,
    };
    let language = match req.language.as_deref() {
        None => None,
        Some(l) => {
            Some(Lang::parse(l).ok_or_else(|| bad_request(format!("language {l:?} is not supported; use en or nl")))?)
        }
    };
    let agent = state.agents.get(&state, req.connection.as_deref())?;
    let q = Question { message: req.message, channel, from: req.from, language };
    match agent.ask(&q).await {
        Ok(reply) => Ok(Json(reply).into_response()),
        Err(AgentError::BadInput(m)) => Err(bad_request(m)),
        Err(e) => Err(ApiError::internal(e)),
    }
}

#[derive(Deserialize)]
struct McpQuery {
    connection: Option<String>,
}

/// The streamable HTTP transport asks servers to check `Origin` against DNS rebinding. The
/// bearer token already keeps browsers out; refusing cross-origin requests is a second lock.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true; // not a browser
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest).trim_end_matches('/');
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

async fn mcp_post(
    _: Admin,
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<McpQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !same_origin(&headers) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "cross-origin MCP requests are refused"));
    }
    let agent = state.agents.get(&state, q.connection.as_deref())?;
    Ok(match mcp::handle(&agent, &body).await {
        McpReply::Accepted => StatusCode::ACCEPTED.into_response(),
        McpReply::Json(status, v) => (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), Json(v)).into_response(),
    })
}

/// No server-initiated stream and no sessions: GET and DELETE are 405, as the streamable HTTP
/// transport allows.
async fn mcp_get(_: Admin) -> Response {
    let mut r = (StatusCode::METHOD_NOT_ALLOWED, Json(serde_json::json!({"error": "method_not_allowed", "message": "this MCP server answers POSTed JSON-RPC messages only"}))).into_response();
    r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    r
}
