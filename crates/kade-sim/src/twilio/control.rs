//! `/_sim` for the Twilio simulator: JSON, no auth, never journaled.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, hooks};
use crate::callbacks::CallbackMode;
use crate::picqer::faults::FaultSpec;
use crate::picqer::server::lock;

type Resp = Result<Json<Value>, Fail>;

pub struct Fail(StatusCode, String);

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

fn bad(message: impl Into<String>) -> Fail {
    Fail(StatusCode::BAD_REQUEST, message.into())
}

fn body<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Result<T, Fail> {
    serde_json::from_slice(raw).map_err(|e| bad(format!("invalid JSON body: {e}")))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/journal", get(journal).delete(clear_journal))
        .route("/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/messages", get(messages).delete(clear_messages))
        .route("/messages/{sid}/status", post(set_status))
        .route("/opt-outs", get(opt_outs).post(add_opt_out))
        .route("/unreachable", get(unreachable).post(add_unreachable))
        .route("/disabled-prefixes", get(prefixes).post(add_prefix))
        .route("/callbacks", get(callbacks).put(set_callback_mode))
        .route("/clock/advance", post(advance))
        .fallback(|| async { Fail(StatusCode::NOT_FOUND, "unknown control route".into()) })
}

async fn health(State(sim): State<AppState>) -> Resp {
    let n = lock(&sim.state).messages.len();
    Ok(Json(json!({"ok": true, "messages": n, "account_sid": sim.config.account_sid, "now_ms": sim.clock.now_ms()})))
}

async fn journal(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!(lock(&sim.journal).entries())))
}

async fn clear_journal(State(sim): State<AppState>) -> Resp {
    lock(&sim.journal).clear();
    Ok(Json(json!({"cleared": true})))
}

async fn faults(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!(lock(&sim.faults).list())))
}

async fn add_fault(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let spec: FaultSpec = body(&raw)?;
    let fault = lock(&sim.faults).add(spec).map_err(|e| bad(e.message))?;
    Ok(Json(json!(fault)))
}

async fn clear_faults(State(sim): State<AppState>) -> Resp {
    lock(&sim.faults).clear();
    Ok(Json(json!({"cleared": true})))
}

async fn messages(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!(lock(&sim.state).messages)))
}

async fn clear_messages(State(sim): State<AppState>) -> Resp {
    lock(&sim.state).messages.clear();
    Ok(Json(json!({"cleared": true})))
}

#[derive(Deserialize)]
struct StatusPush {
    status: String,
    error_code: Option<u32>,
}

async fn set_status(State(sim): State<AppState>, Path(sid): Path<String>, raw: axum::body::Bytes) -> Resp {
    let p: StatusPush = body(&raw)?;
    if !lock(&sim.state).messages.iter().any(|m| m.sid == sid) {
        return Err(Fail(StatusCode::NOT_FOUND, format!("no message {sid}")));
    }
    hooks::set_status(&sim, &sid, &p.status, p.error_code, 0);
    Ok(Json(json!({"queued": true})))
}

#[derive(Deserialize)]
struct Number {
    number: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    code: Option<u32>,
}

async fn opt_outs(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!(lock(&sim.state).opted_out)))
}

async fn add_opt_out(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let n: Number = body(&raw)?;
    lock(&sim.state).opted_out.insert(n.number.trim().to_owned());
    opt_outs(State(sim)).await
}

async fn unreachable(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!(lock(&sim.state).unreachable)))
}

async fn add_unreachable(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let n: Number = body(&raw)?;
    let status = n.status.unwrap_or_else(|| "undelivered".into());
    if status != "undelivered" && status != "failed" {
        return Err(bad("status must be undelivered or failed"));
    }
    lock(&sim.state).unreachable.insert(n.number.trim().to_owned(), (status, n.code.unwrap_or(30003)));
    unreachable(State(sim)).await
}

async fn prefixes(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!(lock(&sim.state).disabled_prefixes)))
}

#[derive(Deserialize)]
struct Prefix {
    prefix: String,
}

async fn add_prefix(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let p: Prefix = body(&raw)?;
    lock(&sim.state).disabled_prefixes.push(p.prefix);
    prefixes(State(sim)).await
}

async fn callbacks(State(sim): State<AppState>) -> Resp {
    let mode = lock(&sim.state).callback_mode;
    Ok(Json(json!({"mode": mode, "in_flight": sim.poster.in_flight(), "deliveries": sim.poster.deliveries()})))
}

#[derive(Deserialize)]
struct Mode {
    mode: CallbackMode,
}

async fn set_callback_mode(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let m: Mode = body(&raw)?;
    lock(&sim.state).callback_mode = m.mode;
    callbacks(State(sim)).await
}

#[derive(Deserialize)]
struct Advance {
    seconds: u64,
}

async fn advance(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let a: Advance = body(&raw)?;
    if !sim.clock.is_manual() {
        return Err(Fail(StatusCode::CONFLICT, "the clock is real; start the simulator with a manual clock".into()));
    }
    sim.clock.advance(std::time::Duration::from_secs(a.seconds));
    Ok(Json(json!({"now_ms": sim.clock.now_ms()})))
}
