//! The PrestaShop surfaces: `POST /webhooks/prestashop/{shop}` (the shop module's signed
//! notifications) and `GET|POST /prestashop/{shop}/stock-sync?token=…` (the full stock sync URL,
//! for cron). Both only verify and queue; the work happens in the engine.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kade_engine::connector::{ApiOperation, RouteContext};
use kade_engine::http::ApiError;

use super::dispatch::PrestaConnector;
use super::{HookState, HookStatus, NotifyError, NotifyOutcome, PrestaShop, SIGNATURE_HEADER, ingest_notification};

/// What the routes reach: the hub's context and the connector itself.
#[derive(Clone)]
pub(crate) struct AppState {
    ctx: RouteContext,
    connector: Arc<PrestaConnector>,
}

impl AppState {
    fn shop(&self, name: &str) -> Option<Arc<PrestaShop>> {
        self.connector.shop(name)
    }
}

/// The shop's notification module and the full-sync URL: public, each checks its own
/// signature or token.
pub(crate) fn public(ctx: RouteContext, connector: Arc<PrestaConnector>) -> axum::Router {
    axum::Router::new()
        .route("/webhooks/prestashop/{shop}", post(notification))
        .route("/prestashop/{shop}/stock-sync", get(stock_sync).post(stock_sync))
        .with_state(AppState { ctx, connector })
}

/// Admin routes (under `/api/v1`, behind the admin token).
pub(crate) fn admin(ctx: RouteContext, connector: Arc<PrestaConnector>) -> axum::Router {
    axum::Router::new()
        .route("/prestashop/{shop}/hooks", get(hooks_status).post(hooks_repair))
        .with_state(AppState { ctx, connector })
}

/// The admin routes for the OpenAPI document.
pub(crate) const OPERATIONS: &[ApiOperation] = &[
    ApiOperation {
        method: "get",
        path: "/prestashop/{shop}/hooks",
        summary: "Picqer hooks a shop's flows need: active, inactive or missing",
    },
    ApiOperation {
        method: "post",
        path: "/prestashop/{shop}/hooks",
        summary: "Create or reactivate the Picqer hooks a shop's flows need",
    },
];

fn count(state: &AppState, result: &str) {
    state.ctx.engine.metrics().webhook("prestashop", result);
}

async fn notification(
    State(state): State<AppState>,
    Path(shop): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if body.len() > state.ctx.body_limit {
        count(&state, "too_large");
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body exceeds {} bytes", state.ctx.body_limit),
        )
        .into_response();
    }
    let Some(conn) = state.shop(&shop) else {
        count(&state, "unknown_shop");
        return ApiError::not_found(format!("no PrestaShop shop named {shop:?} on this Kade")).into_response();
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let max_attempts = state.ctx.engine.config().max_attempts;
    match ingest_notification(&conn, &state.ctx.ingest, signature, &body, max_attempts).await {
        Ok(NotifyOutcome::Accepted { event_id, job_id }) => {
            state.ctx.engine.notify();
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
async fn stock_sync(State(state): State<AppState>, Path(shop): Path<String>, Query(q): Query<TokenQuery>) -> Response {
    let Some(conn) = state.shop(&shop) else {
        return ApiError::not_found(format!("no PrestaShop shop named {shop:?} on this Kade")).into_response();
    };
    let Some(expected) = conn.settings().full_sync_token.as_ref() else {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "disabled",
            "this shop has no full-sync token configured (full_sync_token)",
        )
        .into_response();
    };
    if !expected.matches(&q.token) {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_token",
            "the token does not match this shop's full_sync_token",
        )
        .into_response();
    }
    match conn.enqueue_full_stock(&state.ctx.engine, "full-sync URL").await {
        Ok(job_id) => {
            (StatusCode::ACCEPTED, Json(serde_json::json!({"status": "queued", "job_id": job_id}))).into_response()
        }
        Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()).into_response(),
    }
}

/// The shop and its Picqer connection, or a 404 naming what is unknown.
type ShopAndPicqer = (Arc<PrestaShop>, Arc<kade_engine::picqer::PicqerConnection>);

fn shop_and_picqer(state: &AppState, shop: &str) -> Result<ShopAndPicqer, ApiError> {
    let conn = state
        .shop(shop)
        .ok_or_else(|| ApiError::not_found(format!("no PrestaShop shop named {shop:?} on this Kade")))?;
    let picqer = state.ctx.engine.picqer(&conn.settings().picqer).ok_or_else(|| {
        ApiError::not_found(format!("the shop's Picqer connection {:?} is not connected", conn.settings().picqer))
    })?;
    Ok((conn, picqer))
}

/// Picqer could not be asked (down, key revoked, rate limited): a 502 with Picqer's answer.
fn picqer_failed(e: kade_engine::JobError) -> ApiError {
    ApiError::new(StatusCode::BAD_GATEWAY, "picqer_failed", format!("Picqer could not be asked about its hooks: {e}"))
}

fn hooks_body(shop: &str, picqer: &str, hooks: &[HookStatus]) -> serde_json::Value {
    let healthy = hooks.iter().all(|h| h.state == HookState::Active);
    serde_json::json!({"shop": shop, "picqer": picqer, "healthy": healthy, "hooks": hooks})
}

/// `GET /api/v1/prestashop/{shop}/hooks`: the Picqer hooks the shop relies on, read live.
async fn hooks_status(
    State(state): State<AppState>,
    Path(shop): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (conn, picqer) = shop_and_picqer(&state, &shop)?;
    let hooks = conn.hook_status(&picqer).await.map_err(picqer_failed)?;
    Ok(Json(hooks_body(&shop, picqer.name(), &hooks)))
}

/// `POST /api/v1/prestashop/{shop}/hooks`: creates missing hooks and reactivates inactive ones
/// (idempotent), then answers with what it did and the state after.
async fn hooks_repair(
    State(state): State<AppState>,
    Path(shop): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (conn, picqer) = shop_and_picqer(&state, &shop)?;
    let (plan, hooks) = conn.repair_hooks(&state.ctx.engine, &picqer).await.map_err(picqer_failed)?;
    let mut body = hooks_body(&shop, picqer.name(), &hooks);
    body["created"] = serde_json::json!(plan.create);
    body["reactivated"] = serde_json::json!(plan.reactivate);
    Ok(Json(body))
}
