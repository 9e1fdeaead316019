//! The `/_sim` control API: no auth, JSON, never rate limited or journaled.
//!
//! Infrastructure knobs live here (journal, clock, rate limit, faults, hooks); the "warehouse
//! staff" actions (process, pick, ship, receive) are in [`staff`].

pub mod staff;

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::api::{Resp, created, hook_error, list, ok};
use super::errors::ApiError;
use super::extract::{Fields, Ids, JsonBody};
use super::faults::FaultSpec;
use super::hooks::HookFaults;
use super::server::{AppState, lock};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/journal", get(journal).delete(clear_journal))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route("/rate-limit", get(rate_limit).put(set_rate_limit))
        .route("/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/hooks", get(hooks_with_secrets))
        .route("/hooks/faults", get(hook_faults).put(set_hook_faults))
        .route("/hooks/deliveries", get(deliveries))
        .route("/hooks/{id}/deliver", post(deliver_raw))
        .route("/hooks/{id}/deactivate", post(deactivate_hook))
        .route("/images/{id}", get(image_file))
        .merge(staff::routes())
        .fallback(|| async { ApiError::not_found("Control route") })
}

/// The file behind a product image URL, with its content type.
async fn image_file(
    State(sim): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<u64>,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let found =
        sim.read(|w| w.products.all().iter().flat_map(|p| &p.images).find(|i| i.idproduct_image == id).cloned());
    match found {
        Some(i) => ([(axum::http::header::CONTENT_TYPE, i.contenttype)], i.data).into_response(),
        None => ApiError::not_found("Product image").into_response(),
    }
}

async fn health(State(sim): State<AppState>) -> Resp {
    let products = sim.read(|w| w.products.len());
    ok(json!({"ok": true, "products": products, "now": sim.clock.now_picqer()}))
}

async fn journal(State(sim): State<AppState>) -> Resp {
    list(lock(&sim.journal).entries().into_iter().map(|e| json!(e)).collect())
}

async fn clear_journal(State(sim): State<AppState>) -> Resp {
    lock(&sim.journal).clear();
    ok(json!({"cleared": true}))
}

fn clock_json(sim: &AppState) -> Value {
    json!({
        "now_ms": sim.clock.now_ms(),
        "now": sim.clock.now_picqer(),
        "manual": sim.clock.is_manual(),
    })
}

async fn clock(State(sim): State<AppState>) -> Resp {
    ok(clock_json(&sim))
}

/// `{"seconds": N}` (fractions allowed); only a manual clock can be moved.
async fn advance_clock(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    if !sim.clock.is_manual() {
        return Err(ApiError::bad_request(
            "The simulator runs on the real clock; start it with a manual clock to advance time",
        ));
    }
    let seconds = body.get("seconds").and_then(Value::as_f64).ok_or_else(|| ApiError::missing("seconds"))?;
    // A century is plenty for any schedule and keeps the clock far from i64 overflow.
    if !seconds.is_finite() || !(0.0..=3_155_760_000.0).contains(&seconds) {
        return Err(ApiError::bad_request("seconds must be between 0 and 3155760000"));
    }
    let by = Duration::try_from_secs_f64(seconds).map_err(|_| ApiError::bad_request("seconds is out of range"))?;
    sim.clock.advance(by);
    ok(clock_json(&sim))
}

async fn rate_limit(State(sim): State<AppState>) -> Resp {
    ok(json!(lock(&sim.limiter).settings()))
}

/// `{"per_minute": N, "burst": M?}`; buckets restart full.
async fn set_rate_limit(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    let f = Fields(&body);
    let per_minute =
        u32::try_from(f.req_u64("per_minute")?).map_err(|_| ApiError::bad_request("per_minute is too large"))?;
    let burst =
        f.u64("burst")?.map(u32::try_from).transpose().map_err(|_| ApiError::bad_request("burst is too large"))?;
    let mut limiter = lock(&sim.limiter);
    limiter.set(per_minute, burst);
    ok(json!(limiter.settings()))
}

async fn faults(State(sim): State<AppState>) -> Resp {
    list(lock(&sim.faults).list().into_iter().map(|f| json!(f)).collect())
}

async fn add_fault(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    let spec: FaultSpec = serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::bad_request(format!("Invalid fault: {e}")))?;
    created(json!(lock(&sim.faults).add(spec)?))
}

async fn clear_faults(State(sim): State<AppState>) -> Resp {
    lock(&sim.faults).clear();
    ok(json!({"cleared": true}))
}

/// Unlike `/api/v1/hooks`, this shows each hook's secret, so tests can verify signatures.
async fn hooks_with_secrets(State(sim): State<AppState>) -> Resp {
    let mut hooks = sim.hooks.list();
    hooks.sort_by_key(|h| h.idhook);
    list(
        hooks
            .into_iter()
            .map(|h| {
                let mut v = json!(h);
                v["secret"] = json!(h.secret_value);
                v
            })
            .collect(),
    )
}

async fn hook_faults(State(sim): State<AppState>) -> Resp {
    ok(json!(sim.hooks.faults()))
}

async fn set_hook_faults(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    let faults: HookFaults = serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::bad_request(format!("Invalid hook faults: {e}")))?;
    sim.hooks.set_faults(faults);
    ok(json!(sim.hooks.faults()))
}

async fn deliveries(State(sim): State<AppState>) -> Resp {
    list(sim.hooks.deliveries().into_iter().map(|d| json!(d)).collect())
}

/// Sends the request body, byte for byte, through hook `id` (signed with its secret).
async fn deliver_raw(State(sim): State<AppState>, id: Ids, body: Bytes) -> Resp {
    sim.hooks.deliver_raw(id.first(), body.to_vec()).map_err(hook_error)?;
    ok(json!({"queued": true}))
}

async fn deactivate_hook(State(sim): State<AppState>, id: Ids) -> Resp {
    let hook = sim.hooks.deactivate(id.first()).ok_or_else(|| ApiError::not_found("Hook"))?;
    ok(json!(hook))
}
