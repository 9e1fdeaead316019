//! The PrestaShop surfaces: `POST /webhooks/prestashop/{shop}` (the shop module's signed
//! notifications) and `GET|POST /prestashop/{shop}/stock-sync?token=…` (the full stock sync URL,
//! for cron). Both only verify and queue; the work happens in the engine.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kade_engine::prestashop::{NotifyError, NotifyOutcome, ingest_notification};

use crate::AppState;
use crate::error::ApiError;

fn count(state: &AppState, result: &str) {
    state.engine.metrics().webhook("prestashop", result);
}

pub async fn notification(
    State(state): State<AppState>,
    Path(shop): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if body.len() > state.body_limit {
        count(&state, "too_large");
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body exceeds {} bytes", state.body_limit),
        )
        .into_response();
    }
    let Some(conn) = state.engine.prestashop(&shop) else {
        count(&state, "unknown_shop");
        return ApiError::not_found(format!("no PrestaShop shop named {shop:?} on this Kade")).into_response();
    };
    let signature = headers.get(kade_engine::prestashop::SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let max_attempts = state.engine.config().max_attempts;
    match ingest_notification(&conn, &state.ingest, signature, &body, max_attempts).await {
        Ok(NotifyOutcome::Accepted { event_id, job_id }) => {
            state.engine.notify();
            count(&state, "accepted");
            (StatusCode::OK, Json(serde_json::json!({"status": "accepted", "event_id": event_id, "job_id": job_id})))
                .into_response()
        }
        Ok(NotifyOutcome::Duplicate { event_id }) => {
            count(&state, "duplicate");
            (StatusCode::OK, Json(serde_json::json!({"status": "duplicate", "event_id": event_id}))).into_response()
        }
        Err(e @ (NotifyError::MissingSignature | NotifyError::BadSignature)) => {
            count(&state, "bad_signature");
            ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", e.to_string()).into_response()
        }
        Err(e @ NotifyError::Malformed(_)) => {
            count(&state, "malformed");
            ApiError::new(StatusCode::BAD_REQUEST, "malformed", e.to_string()).into_response()
        }
        Err(NotifyError::Store(e)) => {
            tracing::error!(error = %e, "could not commit a shop notification");
            count(&state, "store_unavailable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the notification could not be stored; retry later",
            )
            .into_response()
        }
    }
}

#[derive(serde::Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// Queues a full stock sync when the token matches the shop's (constant-time comparison).
pub async fn stock_sync(
    State(state): State<AppState>,
    Path(shop): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Response {
    let Some(conn) = state.engine.prestashop(&shop) else {
        return ApiError::not_found(format!("no PrestaShop shop named {shop:?} on this Kade")).into_response();
    };
    let Some(expected) = conn.settings().full_sync_token.as_deref() else {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "disabled",
            "this shop has no full-sync token configured (full_sync_token)",
        )
        .into_response();
    };
    let same = expected.len() == q.token.len()
        && expected.bytes().zip(q.token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !same {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_token",
            "the token does not match this shop's full_sync_token",
        )
        .into_response();
    }
    match conn.enqueue_full_stock(&state.engine, "full-sync URL").await {
        Ok(job_id) => {
            (StatusCode::ACCEPTED, Json(serde_json::json!({"status": "queued", "job_id": job_id}))).into_response()
        }
        Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()).into_response(),
    }
}

/// The shop and its Picqer connection, or a 404 naming what is unknown.
fn shop_and_picqer(
    state: &AppState,
    shop: &str,
) -> Result<
    (std::sync::Arc<kade_engine::prestashop::PrestaShop>, std::sync::Arc<kade_engine::picqer::PicqerConnection>),
    ApiError,
> {
    let conn = state
        .engine
        .prestashop(shop)
        .ok_or_else(|| ApiError::not_found(format!("no PrestaShop shop named {shop:?} on this Kade")))?;
    let picqer = state.engine.picqer(&conn.settings().picqer).ok_or_else(|| {
        ApiError::not_found(format!("the shop's Picqer connection {:?} is not connected", conn.settings().picqer))
    })?;
    Ok((conn, picqer))
}

/// Picqer could not be asked (down, key revoked, rate limited): a 502 with Picqer's answer.
fn picqer_failed(e: kade_engine::JobError) -> ApiError {
    ApiError::new(StatusCode::BAD_GATEWAY, "picqer_failed", format!("Picqer could not be asked about its hooks: {e}"))
}

fn hooks_body(shop: &str, picqer: &str, hooks: &[kade_engine::prestashop::HookStatus]) -> serde_json::Value {
    let healthy = hooks.iter().all(|h| h.state == kade_engine::prestashop::HookState::Active);
    serde_json::json!({"shop": shop, "picqer": picqer, "healthy": healthy, "hooks": hooks})
}

/// `GET /api/v1/prestashop/{shop}/hooks`: the Picqer hooks the shop relies on, read live.
pub async fn hooks_status(
    _: crate::auth::Admin,
    State(state): State<AppState>,
    Path(shop): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (conn, picqer) = shop_and_picqer(&state, &shop)?;
    let hooks = conn.hook_status(&picqer).await.map_err(picqer_failed)?;
    Ok(Json(hooks_body(&shop, picqer.name(), &hooks)))
}

/// `POST /api/v1/prestashop/{shop}/hooks`: creates missing hooks and reactivates inactive ones
/// (idempotent), then answers with what it did and the state after.
pub async fn hooks_repair(
    _: crate::auth::Admin,
    State(state): State<AppState>,
    Path(shop): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (conn, picqer) = shop_and_picqer(&state, &shop)?;
    let (plan, hooks) = conn.repair_hooks(&state.engine, &picqer).await.map_err(picqer_failed)?;
    let mut body = hooks_body(&shop, picqer.name(), &hooks);
    body["created"] = serde_json::json!(plan.create);
    body["reactivated"] = serde_json::json!(plan.reactivate);
    Ok(Json(body))
}
