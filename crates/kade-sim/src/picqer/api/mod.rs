//! The `/api/v1` routes, one file per resource group. Handlers are thin: parse, call a world
//! operation through [`super::server::Sim::run`], render.

mod catalog;
mod hooks;
mod orders;
mod picklists;
mod products;
mod purchasing;
mod returns;

pub use picklists::shipment_spec;

pub use hooks::hook_error;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::errors::ApiResult;
use super::server::AppState;

/// Handler result: a rendered response or Picqer's error envelope.
pub type Resp = ApiResult<Response>;

/// 200 with a JSON body.
pub fn ok(v: Value) -> Resp {
    Ok(Json(v).into_response())
}

/// 201 with the created resource.
pub fn created(v: Value) -> Resp {
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// 200 with a bare JSON array.
pub fn list(items: Vec<Value>) -> Resp {
    ok(Value::Array(items))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(products::routes())
        .merge(catalog::routes())
        .merge(hooks::routes())
        .merge(orders::routes())
        .merge(picklists::routes())
        .merge(returns::routes())
        .merge(purchasing::routes())
}
