//! The admin JSON API (bearer token) and the health and metrics endpoints.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kade_engine::metrics::Format;
use kade_engine::picqer::PicqerJob;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Admin;
use crate::error::ApiError;

type ApiResult = Result<Json<Value>, ApiError>;

pub fn router(_state: AppState) -> Router<AppState> {
    Router::new()
        .route("/connections", get(connections))
        .route("/connections/{name}/hooks", get(hooks))
        .route("/connections/{name}/sync", get(sync_status).post(sync_trigger))
        .route("/connections/{name}/disconnect", post(disconnect))
        .route("/events", get(events))
        .route("/events/{id}", get(event))
        .route("/events/{id}/replay", post(replay_event))
        .route("/jobs", get(jobs))
        .route("/jobs/{id}/replay", post(replay_job))
        .route("/dead-letters", get(dead_letters))
        .route("/catalogue/products", get(catalogue_product))
        .route("/audit", get(audit))
        .route("/connectors", get(connectors))
        .merge(crate::agent::routes())
        .merge(crate::automation::routes())
}

/// Every registered connector with its instances and their hook and health state.
async fn connectors(_: Admin, State(state): State<AppState>) -> ApiResult {
    let mut all = Vec::new();
    for c in state.engine.connectors() {
        all.push(c.status(&state.engine).await);
    }
    Ok(Json(json!({"connectors": all})))
}

pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.engine.store().queue_counts().await {
        Ok(counts) => (StatusCode::OK, Json(json!({"status": "ready", "jobs": counts}))),
        Err(e) => {
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "store unavailable", "error": e.to_string()})))
        }
    }
}

/// `/metrics`: OpenMetrics for a scraper that asks for it, the classic text format otherwise
/// (`kade_engine::metrics`). Queue depths are read at scrape time.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let format = Format::from_accept(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let queue: Vec<(String, i64)> = match state.engine.store().queue_counts().await {
        Ok(counts) => counts.into_iter().collect(),
        // Without the store the families still render; the queue gauges are left out.
        Err(_) => Vec::new(),
    };
    let body = state.engine.metrics().render(format, &queue);
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

async fn connections(_: Admin, State(state): State<AppState>) -> ApiResult {
    let mut out = Vec::new();
    for c in state.engine.store().connections().await? {
        let full = state.engine.store().sync_state(&c.name, "catalogue_full").await?;
        let hooks = state.engine.store().hooks(&c.name).await?;
        out.push(json!({
            "name": c.name, "kind": c.kind, "state": c.state, "settings": c.settings,
            "has_credentials": c.secrets_enc.is_some(),
            "products": state.engine.store().count_products(&c.name).await?,
            "hooks": hooks.len(), "catalogue_full": full,
        }));
    }
    Ok(Json(Value::Array(out)))
}

async fn hooks(_: Admin, State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let hooks = state.engine.store().hooks(&name).await?;
    let rows: Vec<Value> = hooks
        .iter()
        .map(|h| json!({"idhook": h.idhook, "event": h.event, "address": h.address, "active": h.active, "last_event_ms": h.last_event_ms}))
        .collect();
    Ok(Json(json!({"connection": name, "hooks": rows})))
}

async fn sync_status(_: Admin, State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let store = state.engine.store();
    Ok(Json(json!({
        "connection": name,
        "products": store.count_products(&name).await?,
        "catalogue_full": store.sync_state(&name, "catalogue_full").await?,
        "catalogue_incremental": store.sync_state(&name, "catalogue_incremental").await?,
    })))
}

/// Deactivates Kade's hooks in Picqer and removes the stored credentials; the mirror and the
/// configuration stay. Restarting Kade with the connection configured connects it again.
async fn disconnect(_: Admin, State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let conn = state.engine.picqer(&name).ok_or_else(|| ApiError::not_found(format!("no connection {name:?}")))?;
    conn.disconnect().await.map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, "picqer_failed", e.to_string()))?;
    state.engine.remove_picqer(&name);
    Ok(Json(json!({"disconnected": name})))
}

#[derive(Deserialize)]
struct SyncRequest {
    /// `full` or `incremental`.
    kind: String,
}

async fn sync_trigger(
    _: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(req): Json<SyncRequest>,
) -> ApiResult {
    let conn = state.engine.picqer(&name).ok_or_else(|| ApiError::not_found(format!("no connection {name:?}")))?;
    let kind: fn(_) -> PicqerJob = match req.kind.as_str() {
        "full" => PicqerJob::CatalogueFull,
        "incremental" => PicqerJob::CatalogueIncremental,
        other => {
            let msg = format!("kind must be \"full\" or \"incremental\", not {other:?}");
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", msg));
        }
    };
    let job =
        conn.enqueue(&state.engine, kind, Some("requested through the admin API")).await.map_err(ApiError::internal)?;
    Ok(Json(json!({"queued": job})))
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<i64>,
    state: Option<String>,
    connection: Option<String>,
    entity: Option<String>,
    productcode: Option<String>,
}

impl ListQuery {
    fn limit(&self) -> i64 {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }
}

async fn events(_: Admin, State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult {
    let events = state.engine.store().events(q.connection.as_deref(), q.limit()).await?;
    let rows: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({"id": e.id, "connection": e.connection, "event": e.event, "entity": e.entity_key,
                   "verified": e.verified, "received_ms": e.received_ms, "bytes": e.body.len()})
        })
        .collect();
    Ok(Json(Value::Array(rows)))
}

async fn event(_: Admin, State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult {
    let e = state.engine.store().event(id).await?.ok_or_else(|| ApiError::not_found(format!("no event {id}")))?;
    let body: Value =
        serde_json::from_slice(&e.body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&e.body).into()));
    let job = match e.job_id {
        Some(j) => state.engine.store().job(j).await?,
        None => None,
    };
    Ok(Json(json!({"id": e.id, "connection": e.connection, "event": e.event, "entity": e.entity_key,
                   "verified": e.verified, "received_ms": e.received_ms, "headers": e.headers, "body": body, "job": job})))
}

/// Runs an inbox event's processing again: its job is re-queued (a dead one after the cause was
/// fixed, or a done one to re-apply current state; handlers are idempotent).
async fn replay_event(_: Admin, State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult {
    let e = state.engine.store().event(id).await?.ok_or_else(|| ApiError::not_found(format!("no event {id}")))?;
    let job = e
        .job_id
        .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "no_job", format!("event {id} has no job to replay")))?;
    if state.engine.store().replay_job(job, kade_engine::now_ms()).await? {
        state.engine.notify();
        Ok(Json(json!({"event": id, "replayed_job": job})))
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_replayable",
            format!("event {id}'s job {job} is still queued or running"),
        ))
    }
}

async fn jobs(_: Admin, State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult {
    Ok(Json(serde_json::to_value(state.engine.store().jobs(q.state.as_deref(), q.limit()).await?).unwrap_or_default()))
}

async fn dead_letters(_: Admin, State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult {
    Ok(Json(serde_json::to_value(state.engine.store().jobs(Some("dead"), q.limit()).await?).unwrap_or_default()))
}

async fn replay_job(_: Admin, State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult {
    if state.engine.store().replay_job(id, kade_engine::now_ms()).await? {
        state.engine.notify();
        Ok(Json(json!({"replayed": id})))
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_replayable",
            format!("job {id} does not exist or is not dead or done"),
        ))
    }
}

async fn catalogue_product(_: Admin, State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult {
    let code = q
        .productcode
        .as_deref()
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "give ?productcode=..."))?;
    let names: Vec<String> = match &q.connection {
        Some(c) => vec![c.clone()],
        None => state.engine.picqer_all().iter().map(|c| c.name().to_string()).collect(),
    };
    let mut found = Vec::new();
    for name in names {
        for p in state.engine.store().product_by_code(&name, code).await? {
            found.push(
                json!({"connection": name, "idproduct": p.idproduct, "productcode": p.productcode, "name": p.name,
                              "active": p.active, "stock": p.stock, "version": p.version}),
            );
        }
    }
    if found.is_empty() {
        return Err(ApiError::not_found(format!("no mirrored product with productcode {code:?}")));
    }
    Ok(Json(Value::Array(found)))
}

async fn audit(_: Admin, State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult {
    let store = state.engine.store();
    let rows = match &q.entity {
        Some(e) => store.audit_for(e, q.limit()).await?,
        None => store.audit_recent(q.limit()).await?,
    };
    Ok(Json(serde_json::to_value(rows).unwrap_or_default()))
}
