//! `/returns`, `/return_statuses`, `/return_reasons`.

use axum::Router;
use axum::extract::State;
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use super::{Resp, created, list, ok};
use crate::picqer::errors::{ApiError, ApiResult};
use crate::picqer::extract::{Ids, JsonBody, Q, contains_ci, page};
use crate::picqer::server::AppState;
use crate::picqer::state::World;
use crate::picqer::state::returns::{self, line_json, log_json, return_json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/return_statuses", get(statuses))
        .route("/return_reasons", get(reasons))
        .route("/returns", get(list_returns).post(create_return))
        .route("/returns/{id}", get(get_return).put(update_return))
        .route("/returns/{id}/logs", get(logs).post(add_log))
        .route("/returns/{id}/returned_products", get(lines).post(add_line))
        .route("/returns/{id}/returned_products/{idline}", delete(delete_line))
        .route("/returns/{id}/receive", post(receive))
}

fn render(w: &World, id: u64) -> ApiResult<Value> {
    w.returns.get(&id).map(|r| return_json(w, r)).ok_or_else(|| ApiError::not_found("Return"))
}

async fn statuses(State(sim): State<AppState>) -> Resp {
    list(sim.read(|w| w.return_statuses.iter().map(|s| json!(s)).collect()))
}

async fn reasons(State(sim): State<AppState>) -> Resp {
    list(sim.read(|w| w.return_reasons.iter().map(|s| json!(s)).collect()))
}

/// `GET /returns` with idorder, idcustomer, idreturn_status, returnid, search, offset.
async fn list_returns(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    let (idorder, idcustomer) = (q.u64("idorder")?, q.u64("idcustomer")?);
    let status = q.u64("idreturn_status")?;
    let search = q.filter("search").map(str::to_lowercase);
    let items = sim.read(|w| {
        let rows = w.returns.values().filter(|r| {
            idorder.is_none_or(|id| r.idorder == Some(id))
                && idcustomer.is_none_or(|id| r.idcustomer == Some(id))
                && status.is_none_or(|id| r.idreturn_status == id)
                && q.filter("returnid").is_none_or(|id| r.returnid == id)
                && search
                    .as_deref()
                    .is_none_or(|s| contains_ci(&r.returnid, s) || r.text.values().any(|v| contains_ci(v, s)))
        });
        page(rows, offset).into_iter().map(|r| return_json(w, r)).collect()
    });
    list(items)
}

async fn get_return(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.read(|w| render(w, id.first()))?)
}

async fn create_return(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| {
        let id = returns::create(w, &body)?;
        render(w, id)
    })?)
}

async fn update_return(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    ok(sim.run(|w| {
        returns::update(w, id.first(), &body)?;
        render(w, id.first())
    })?)
}

async fn logs(State(sim): State<AppState>, id: Ids) -> Resp {
    let items = sim.read(|w| {
        w.returns
            .get(&id.first())
            .map(|r| r.logs.iter().map(log_json).collect::<Vec<_>>())
            .ok_or_else(|| ApiError::not_found("Return"))
    })?;
    list(items)
}

async fn add_log(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| returns::add_log(w, id.first(), &body))?)
}

async fn lines(State(sim): State<AppState>, id: Ids) -> Resp {
    let items = sim.read(|w| {
        w.returns
            .get(&id.first())
            .map(|r| r.lines.iter().map(line_json).collect::<Vec<_>>())
            .ok_or_else(|| ApiError::not_found("Return"))
    })?;
    list(items)
}

async fn add_line(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| returns::add_line(w, id.first(), &body))?)
}

async fn delete_line(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.run(|w| returns::delete_line(w, id.first(), id.second()))?;
    ok(json!({}))
}

async fn receive(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    ok(sim.run(|w| {
        returns::receive(w, id.first(), &body)?;
        render(w, id.first())
    })?)
}
