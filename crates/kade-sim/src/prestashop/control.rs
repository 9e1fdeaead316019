//! The `/_sim` control API of the PrestaShop simulator: no auth, JSON, never journaled. It acts
//! as the shopper and the back office (place orders, change status, create products), configures
//! the notification module, the webservice key's permissions, faults and the clock.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::PsError;
use super::notify::NotifyConfig;
use super::ops::{self, OrderSpec, ProductSpec};
use super::server::{AppState, lock};
use crate::picqer::faults::FaultSpec;

type Resp = Result<Json<Value>, Fail>;

/// A refused control request: `{"error": "..."}` with a status.
pub struct Fail(StatusCode, String);

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

fn fail(status: StatusCode, message: impl Into<String>) -> Fail {
    Fail(status, message.into())
}

fn ps(err: PsError) -> Fail {
    fail(StatusCode::BAD_REQUEST, err.message)
}

/// Parses a JSON body into `T`, answering 400 with serde's message (and where) otherwise.
fn body<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Result<T, Fail> {
    serde_json::from_slice(raw).map_err(|e| fail(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/journal", get(journal).delete(clear_journal))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route("/faults", get(faults).post(add_fault).delete(clear_faults))
        .route("/access", get(access).put(set_access))
        .route("/notify", get(notify).put(set_notify).delete(clear_notify))
        .route("/notify/deliveries", get(deliveries))
        .route("/notify/flush", post(flush))
        .route("/mails", get(mails))
        .route("/products", post(add_products))
        .route("/orders", post(place_order))
        .route("/orders/{id}/state", put(set_state).post(set_state))
        .fallback(|| async { fail(StatusCode::NOT_FOUND, "unknown control route") })
}

async fn health(State(sim): State<AppState>) -> Resp {
    let (products, orders) = {
        let w = lock(&sim.world);
        (w.count("products"), w.count("orders"))
    };
    Ok(Json(json!({"ok": true, "products": products, "orders": orders, "now": sim.clock.now_picqer()})))
}

async fn journal(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!(lock(&sim.journal).entries())))
}

async fn clear_journal(State(sim): State<AppState>) -> Resp {
    lock(&sim.journal).clear();
    Ok(Json(json!({"cleared": true})))
}

async fn clock(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!({"now_ms": sim.clock.now_ms(), "now": sim.clock.now_picqer(), "manual": sim.clock.is_manual()})))
}

#[derive(Deserialize)]
struct Advance {
    seconds: u64,
}

async fn advance_clock(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let a: Advance = body(&raw)?;
    if !sim.clock.is_manual() {
        return Err(fail(StatusCode::CONFLICT, "the clock is real; start the simulator with a manual clock"));
    }
    sim.clock.advance(Duration::from_secs(a.seconds));
    clock(State(sim)).await
}

async fn faults(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!(lock(&sim.faults).list())))
}

async fn add_fault(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let spec: FaultSpec = body(&raw)?;
    let fault = lock(&sim.faults).add(spec).map_err(|e| fail(StatusCode::BAD_REQUEST, e.message))?;
    Ok(Json(json!(fault)))
}

async fn clear_faults(State(sim): State<AppState>) -> Resp {
    lock(&sim.faults).clear();
    Ok(Json(json!({"cleared": true})))
}

fn access_json(sim: &AppState) -> Value {
    let a = lock(&sim.access);
    json!({"enabled": a.enabled, "active": a.active, "permissions": a.permissions})
}

async fn access(State(sim): State<AppState>) -> Resp {
    Ok(Json(access_json(&sim)))
}

#[derive(Deserialize)]
struct AccessPatch {
    enabled: Option<bool>,
    active: Option<bool>,
    /// resource → methods; resources not named keep their permissions.
    permissions: Option<BTreeMap<String, BTreeSet<String>>>,
}

async fn set_access(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let patch: AccessPatch = body(&raw)?;
    {
        let mut a = lock(&sim.access);
        if let Some(v) = patch.enabled {
            a.enabled = v;
        }
        if let Some(v) = patch.active {
            a.active = v;
        }
        for (res, methods) in patch.permissions.unwrap_or_default() {
            let methods = methods.into_iter().map(|m| m.to_ascii_uppercase()).collect();
            a.permissions.insert(res, methods);
        }
    }
    Ok(Json(access_json(&sim)))
}

async fn notify(State(sim): State<AppState>) -> Resp {
    // The secret is shown: the control API is a test harness, not a production surface.
    Ok(Json(json!(sim.notifier.config())))
}

async fn set_notify(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let config: NotifyConfig = body(&raw)?;
    if !(config.url.starts_with("http://") || config.url.starts_with("https://")) {
        return Err(fail(StatusCode::BAD_REQUEST, "url must be an http(s) URL"));
    }
    sim.notifier.configure(Some(config));
    notify(State(sim)).await
}

async fn clear_notify(State(sim): State<AppState>) -> Resp {
    sim.notifier.configure(None);
    Ok(Json(json!(null)))
}

async fn deliveries(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!({"in_flight": sim.notifier.in_flight(), "deliveries": sim.notifier.deliveries()})))
}

async fn flush(State(sim): State<AppState>) -> Resp {
    sim.notifier.flush();
    Ok(Json(json!({"flushed": true})))
}

async fn mails(State(sim): State<AppState>) -> Resp {
    Ok(Json(json!(lock(&sim.world).mails)))
}

async fn add_products(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let specs: Vec<ProductSpec> = match body::<Value>(&raw)? {
        Value::Array(_) => body(&raw)?,
        _ => vec![body(&raw)?],
    };
    let ids: Vec<u64> = sim.run(|w| specs.iter().map(|s| ops::add_product(w, s)).collect());
    Ok(Json(json!({"ids": ids})))
}

async fn place_order(State(sim): State<AppState>, raw: axum::body::Bytes) -> Resp {
    let spec: OrderSpec = body(&raw)?;
    let id = sim.run(|w| ops::place_order(w, &spec)).map_err(ps)?;
    let reference = lock(&sim.world).get("orders", id).map(|o| o.get("reference").to_owned());
    Ok(Json(json!({"id_order": id, "reference": reference})))
}

#[derive(Deserialize)]
struct StateChange {
    state: u64,
}

async fn set_state(State(sim): State<AppState>, Path(id): Path<u64>, raw: axum::body::Bytes) -> Resp {
    let change: StateChange = body(&raw)?;
    if lock(&sim.world).get("orders", id).is_none() {
        return Err(fail(StatusCode::NOT_FOUND, format!("order {id} does not exist")));
    }
    let history = sim.run(|w| w.change_state(id, change.state, 1, true)).map_err(ps)?;
    Ok(Json(json!({"id_order": id, "current_state": change.state, "id_order_history": history})))
}
