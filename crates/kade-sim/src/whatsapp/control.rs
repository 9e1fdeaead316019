//! `/_sim` for the WhatsApp simulator: JSON, no auth, never journaled. Tests act as the customer
//! (inbound messages open the window), manage templates and undeliverable numbers, set the
//! webhook URL, push statuses, inject faults, read the journal and the accepted messages.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, SimTemplate, WaState, WindowMode, api::digits, hooks};
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
        .route("/messages/{id}/status", post(push_status))
        .route("/inbound", post(inbound))
        .route("/templates", get(templates).post(add_template))
        .route("/undeliverable", get(undeliverable).post(add_undeliverable))
        .route("/window-mode", get(window_mode).put(set_window_mode))
        .route("/callbacks", get(callbacks).put(set_callback_url))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .fallback(|| async { Fail(StatusCode::NOT_FOUND, "unknown control route".into()) })
}

async fn health(State(sim): State<AppState>) -> Resp {
    let n = lock(&sim.state).messages.len();
    Ok(Json(
        json!({"ok": true, "messages": n, "phone_number_id": sim.config.phone_number_id, "now_ms": sim.clock.now_ms()}),
    ))
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
    error_code: Option<u64>,
}

async fn push_status(State(sim): State<AppState>, Path(id): Path<String>, raw: axum::body::Bytes) -> Resp {
    let p: StatusPush = body(&raw)?;
    hooks::push_status(&sim, &id, &p.status, p.error_code, 0).map_err(bad)?;
    Ok(Json(json!({"queued": true})))
}

#[derive(Deserialize)]
struct Inbound {
    from: String,
    #[serde(default = "hello")]
    text: String,
}

fn hello() -> String {
    "Hallo".into()
}

async fn inbound(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let i: Inbound = body(&raw)?;
    hooks::inbound(&sim, &i.from, &i.text).map_err(bad)?;
    Ok(Json(json!({"window_open_until_ms": sim.clock.now_ms() + super::WINDOW_MS})))
}

async fn templates(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!(lock(&sim.state).templates)))
}

/// Adds or replaces (same name and language) a template.
pub fn upsert_template(st: &mut WaState, t: SimTemplate) {
    st.templates.retain(|x| !(x.name == t.name && x.language == t.language));
    st.templates.push(t);
}

async fn add_template(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let t: SimTemplate = body(&raw)?;
    if !["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"].contains(&t.status.as_str()) {
        return Err(bad("status must be APPROVED, PENDING, REJECTED, PAUSED or DISABLED"));
    }
    upsert_template(&mut lock(&sim.state), t.clone());
    Ok(Json(json!(t)))
}

async fn undeliverable(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!(lock(&sim.state).undeliverable)))
}

#[derive(Deserialize)]
struct Number {
    number: String,
}

async fn add_undeliverable(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let n: Number = body(&raw)?;
    lock(&sim.state).undeliverable.insert(digits(&n.number));
    undeliverable(State(sim)).await
}

async fn window_mode(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!({"mode": lock(&sim.state).window_mode})))
}

#[derive(Deserialize)]
struct Mode {
    mode: WindowMode,
}

async fn set_window_mode(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let m: Mode = body(&raw)?;
    lock(&sim.state).window_mode = m.mode;
    window_mode(State(sim)).await
}

async fn callbacks(State(sim): State<AppState>) -> Resp {
    let (url, mode) = {
        let st = lock(&sim.state);
        (st.callback_url.clone(), st.callback_mode)
    };
    Ok(Json(
        json!({"url": url, "mode": mode, "in_flight": sim.poster.in_flight(), "deliveries": sim.poster.deliveries()}),
    ))
}

#[derive(Deserialize)]
struct CallbackUrl {
    url: Option<String>,
    #[serde(default)]
    mode: Option<CallbackMode>,
}

async fn set_callback_url(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let c: CallbackUrl = body(&raw)?;
    if c.url.as_deref().is_some_and(|u| !u.starts_with("http://") && !u.starts_with("https://")) {
        return Err(bad("url must start with http:// or https://"));
    }
    {
        let mut st = lock(&sim.state);
        st.callback_url = c.url;
        if let Some(mode) = c.mode {
            st.callback_mode = mode;
        }
    }
    callbacks(State(sim)).await
}

async fn clock(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!({"now_ms": sim.clock.now_ms(), "manual": sim.clock.is_manual()})))
}

#[derive(Deserialize)]
struct Advance {
    seconds: u64,
}

async fn advance_clock(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let a: Advance = body(&raw)?;
    if !sim.clock.is_manual() {
        return Err(Fail(StatusCode::CONFLICT, "the clock is real; start the simulator with a manual clock".into()));
    }
    sim.clock.advance(Duration::from_secs(a.seconds));
    clock(State(sim)).await
}
