//! `/hooks`: a thin layer over [`Hooks`], mapping its errors to Picqer envelopes.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::json;

use super::{Resp, created, list, ok};
use crate::picqer::errors::ApiError;
use crate::picqer::extract::{Fields, Ids, JsonBody, Q, page};
use crate::picqer::hooks::HookError;
use crate::picqer::server::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hooks", get(list_hooks).post(create_hook))
        .route("/hooks/{id}", get(get_hook).delete(deactivate))
        .route("/hooks/{id}/reactivate", post(reactivate))
}

/// Maps a hook registry error to the envelope Picqer would send.
pub fn hook_error(e: HookError) -> ApiError {
    match e {
        HookError::Missing(field) => ApiError::missing(field),
        HookError::UnknownEvent(_) | HookError::InvalidAddress(_) => ApiError::bad_request(e.to_string()),
        HookError::NotFound(_) => ApiError::not_found("Hook"),
    }
}

async fn list_hooks(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    let mut hooks = sim.hooks.list();
    hooks.sort_by_key(|h| h.idhook);
    list(page(hooks.into_iter(), offset).into_iter().map(|h| json!(h)).collect())
}

async fn get_hook(State(sim): State<AppState>, id: Ids) -> Resp {
    let hook = sim.hooks.get(id.first()).ok_or_else(|| ApiError::not_found("Hook"))?;
    ok(json!(hook))
}

/// `POST /hooks` with `name`, `event`, `address` (required) and `secret` (optional).
async fn create_hook(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    let f = Fields(&body);
    let name = f.req_str("name")?;
    let event = f.req_str("event")?;
    let address = f.req_str("address")?;
    let secret = f.str("secret")?.filter(|s| !s.is_empty());
    let hook = sim.hooks.create(&name, &event, &address, secret).map_err(hook_error)?;
    created(json!(hook))
}

/// `DELETE /hooks/{id}` deactivates and answers with the (now inactive) hook.
async fn deactivate(State(sim): State<AppState>, id: Ids) -> Resp {
    let hook = sim.hooks.deactivate(id.first()).ok_or_else(|| ApiError::not_found("Hook"))?;
    ok(json!(hook))
}

async fn reactivate(State(sim): State<AppState>, id: Ids) -> Resp {
    let hook = sim.hooks.reactivate(id.first()).ok_or_else(|| ApiError::not_found("Hook"))?;
    ok(json!(hook))
}
