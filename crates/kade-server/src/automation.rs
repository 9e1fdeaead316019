//! Admin API for automations (bearer token): the rules, previews, the send log, opt-outs.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use kade_core::automation::{Action, Rule, WhatsAppMessage};
use kade_store::{SendFilter, send_state};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Admin;
use crate::error::ApiError;

type ApiResult = Result<Json<Value>, ApiError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/automations", get(list))
        .route("/automations/{rule}/preview", post(preview))
        .route("/messages", get(messages))
        .route("/messages/{key}/resolve", post(resolve))
        .route("/optouts", get(optouts).post(add_optout))
        .route("/optouts/{channel}/{recipient}", delete(remove_optout))
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// A rule as JSON (templates as written; the webhook secret never).
pub fn describe(rule: &Rule) -> Value {
    let action = match &rule.action {
        Action::Email { subject, body } => json!({"subject": subject.source(), "body": body.source()}),
        Action::Sms { body } => json!({"body": body.source()}),
        Action::WhatsApp(WhatsAppMessage::Text(t)) => json!({"text": t.source()}),
        Action::WhatsApp(WhatsAppMessage::Template { name, language, params }) => json!({
            "template": name, "language": language,
            "params": params.iter().map(|p| p.source()).collect::<Vec<_>>(),
        }),
        Action::Webhook { url, body, .. } => json!({"url": url, "body": body.as_ref().map(|b| b.source())}),
    };
    json!({
        "name": rule.name, "connection": rule.connection, "trigger": rule.trigger.name(),
        "entity": rule.trigger.entity_kind().as_str(),
        "conditions": rule.conditions.iter().map(|c| c.describe()).collect::<Vec<_>>(),
        "wait_ms": rule.wait_ms, "delay_ms": rule.delay_ms(),
        "quiet_hours": rule.quiet_hours.map(|q| format!("{q:?}")),
        "cap": rule.cap.map(|c| json!({"max": c.max, "period_ms": c.period_ms})),
        "channel": rule.action.channel(), "action": action,
    })
}

async fn list(_: Admin, State(state): State<AppState>) -> ApiResult {
    let Some(auto) = state.engine.automations() else {
        return Ok(Json(json!({"rules": [], "channels": []})));
    };
    let rules: Vec<Value> = auto.rules.iter().map(describe).collect();
    Ok(Json(json!({"rules": rules, "channels": auto.messenger.channels()})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewRequest {
    /// A recorded inbox event to render against.
    event_id: Option<i64>,
    /// Or a sample: the event name and its `data` object.
    event: Option<String>,
    data: Option<Value>,
}

async fn preview(
    _: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(req): Json<PreviewRequest>,
) -> ApiResult {
    let auto = state.engine.automations().ok_or_else(|| ApiError::not_found("no automation rules are configured"))?;
    let rule = auto.rule(&name).ok_or_else(|| ApiError::not_found(format!("no automation rule {name:?}")))?;
    let (event, data) = match (req.event_id, req.event, req.data) {
        (Some(id), None, None) => {
            let ev = state
                .engine
                .store()
                .event(id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no inbox event {id}")))?;
            let body: Value = serde_json::from_slice(&ev.body)
                .map_err(|e| bad_request(format!("inbox event {id} is not JSON: {e}")))?;
            (ev.event, body.get("data").cloned().unwrap_or(Value::Null))
        }
        (None, event, Some(data)) => (event.unwrap_or_else(|| rule.trigger.name().to_string()), data),
        _ => {
            return Err(bad_request(
                "give either {\"event_id\": N} (a recorded event) or {\"event\": \"orders.completed\", \"data\": {...}} (a sample)",
            ));
        }
    };
    Ok(Json(kade_engine::automation::preview(rule, &event, &data, &auto.default_country)))
}

async fn messages(_: Admin, State(state): State<AppState>, Query(f): Query<SendFilter>) -> ApiResult {
    if let Some(s) = &f.state
        && !send_state::ALL.contains(&s.as_str())
    {
        return Err(bad_request(format!("state must be one of {:?}, not {s:?}", send_state::ALL)));
    }
    let rows = state.engine.store().sends(&f).await?;
    Ok(Json(json!({"messages": rows})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveRequest {
    /// `mark_sent` or `resend`.
    action: String,
}

/// An operator's decision on an ambiguous send.
async fn resolve(
    _: Admin,
    State(state): State<AppState>,
    Path(key): Path<String>,
    Json(req): Json<ResolveRequest>,
) -> ApiResult {
    use kade_engine::automation::{Resolution, ResolveError, resolve_ambiguous};
    let how = match req.action.as_str() {
        "mark_sent" => Resolution::MarkSent,
        "resend" => Resolution::Resend,
        other => return Err(bad_request(format!("action must be \"mark_sent\" or \"resend\", not {other:?}"))),
    };
    match resolve_ambiguous(&state.engine, &key, how).await {
        Ok(row) => Ok(Json(json!({"message": row}))),
        Err(e @ ResolveError::NotFound(_)) => Err(ApiError::not_found(e.to_string())),
        Err(e @ (ResolveError::NotAmbiguous { .. } | ResolveError::NotResendable(_))) => {
            Err(ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()))
        }
        Err(ResolveError::Job(e)) => Err(ApiError::internal(e)),
    }
}

const CHANNELS: [&str; 3] = ["email", "whatsapp", "sms"];

#[derive(Deserialize)]
struct ChannelQuery {
    channel: Option<String>,
}

async fn optouts(_: Admin, State(state): State<AppState>, Query(q): Query<ChannelQuery>) -> ApiResult {
    let rows = state.engine.store().optouts(q.channel.as_deref()).await?;
    Ok(Json(json!({"optouts": rows})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptOutRequest {
    channel: String,
    recipient: String,
    reason: Option<String>,
}

/// Normalises a recipient the way sends record it (E.164 for phones, lower-case e-mail), so an
/// opt-out entered as "06-12345678" matches the "+31612345678" a send uses.
fn normalise(state: &AppState, channel: &str, recipient: &str) -> Result<String, ApiError> {
    if !CHANNELS.contains(&channel) {
        return Err(bad_request(format!("channel must be one of {CHANNELS:?}, not {channel:?}")));
    }
    let r = recipient.trim();
    if channel == "email" {
        if !r.contains('@') {
            return Err(bad_request(format!("{r:?} is not an e-mail address")));
        }
        return Ok(r.to_string());
    }
    let country = state.engine.automations().map(|a| a.default_country.clone()).unwrap_or_else(|| "NL".into());
    kade_core::phone::normalize(r, &country).map_err(|e| bad_request(e.to_string()))
}

async fn add_optout(_: Admin, State(state): State<AppState>, Json(req): Json<OptOutRequest>) -> ApiResult {
    let recipient = normalise(&state, &req.channel, &req.recipient)?;
    state.engine.store().add_optout(&req.channel, &recipient, req.reason.as_deref()).await?;
    Ok(Json(json!({"channel": req.channel, "recipient": recipient, "opted_out": true})))
}

async fn remove_optout(
    _: Admin,
    State(state): State<AppState>,
    Path((channel, recipient)): Path<(String, String)>,
) -> ApiResult {
    let recipient = normalise(&state, &channel, &recipient)?;
    if !state.engine.store().remove_optout(&channel, &recipient).await? {
        return Err(ApiError::not_found(format!("{recipient} has no opt-out for {channel}")));
    }
    Ok(Json(json!({"channel": channel, "recipient": recipient, "opted_out": false})))
}
