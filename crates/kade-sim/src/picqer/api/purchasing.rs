//! `/purchaseorders` and `/receipts` (v2).

use axum::Router;
use axum::extract::State;
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use super::{Resp, created, list, ok};
use crate::clock::parse_datetime;
use crate::picqer::errors::{ApiError, ApiResult};
use crate::picqer::extract::{Ids, JsonBody, Q, page};
use crate::picqer::server::AppState;
use crate::picqer::state::World;
use crate::picqer::state::purchasing::{self, po_json, po_line_json};
use crate::picqer::state::receipts::{self, receipt_json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/purchaseorders", get(list_pos).post(create_po))
        .route("/purchaseorders/{id}", get(get_po).put(update_po))
        .route("/purchaseorders/{id}/products", get(po_lines).post(add_po_line))
        .route("/purchaseorders/{id}/products/{idline}", delete(delete_po_line))
        .route("/purchaseorders/{id}/mark-as-purchased", post(mark_purchased))
        .route("/purchaseorders/{id}/cancel", post(cancel_po))
        .route("/receipts", get(list_receipts).post(create_receipt))
        .route("/receipts/{id}", get(get_receipt))
        .route("/receipts/{id}/products", post(receive_product))
        .route("/receipts/{id}/mark-all-received", post(mark_all_received))
}

fn render_po(w: &World, id: u64) -> ApiResult<Value> {
    w.purchaseorders.get(&id).map(po_json).ok_or_else(|| ApiError::not_found("Purchase order"))
}

fn render_receipt(w: &World, id: u64) -> ApiResult<Value> {
    w.receipts.get(&id).map(|r| receipt_json(w, r)).ok_or_else(|| ApiError::not_found("Receipt"))
}

/// `GET /purchaseorders` with status, idsupplier, purchaseorderid, updated_after, offset.
async fn list_pos(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    let idsupplier = q.u64("idsupplier")?;
    let updated_after = match q.filter("updated_after") {
        None => None,
        Some(s) => Some(
            parse_datetime(s)
                .ok_or_else(|| ApiError::bad_request("updated_after must be formatted as YYYY-MM-DD HH:MM:SS"))?,
        ),
    };
    let items = sim.read(|w| {
        let rows = w.purchaseorders.values().filter(|p| {
            q.filter("status").is_none_or(|s| p.status == s)
                && q.filter("purchaseorderid").is_none_or(|s| p.purchaseorderid == s)
                && idsupplier.is_none_or(|id| p.idsupplier == Some(id))
                && updated_after.is_none_or(|t| p.updated > t)
        });
        page(rows, offset).into_iter().map(po_json).collect()
    });
    list(items)
}

async fn get_po(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.read(|w| render_po(w, id.first()))?)
}

async fn create_po(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| {
        let id = purchasing::create(w, &body)?;
        render_po(w, id)
    })?)
}

async fn update_po(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    ok(sim.run(|w| {
        purchasing::update(w, id.first(), &body)?;
        render_po(w, id.first())
    })?)
}

async fn po_lines(State(sim): State<AppState>, id: Ids) -> Resp {
    let items = sim.read(|w| {
        w.purchaseorders
            .get(&id.first())
            .map(|p| p.lines.iter().map(po_line_json).collect::<Vec<_>>())
            .ok_or_else(|| ApiError::not_found("Purchase order"))
    })?;
    list(items)
}

async fn add_po_line(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| purchasing::add_line(w, id.first(), &body))?)
}

async fn delete_po_line(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.run(|w| purchasing::delete_line(w, id.first(), id.second()))?;
    ok(json!({}))
}

async fn mark_purchased(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| {
        purchasing::mark_purchased(w, id.first())?;
        render_po(w, id.first())
    })?)
}

async fn cancel_po(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| {
        purchasing::cancel(w, id.first())?;
        render_po(w, id.first())
    })?)
}

/// `GET /receipts` with status, idpurchaseorder, offset.
async fn list_receipts(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    let idpo = q.u64("idpurchaseorder")?;
    let items = sim.read(|w| {
        let rows = w.receipts.values().filter(|r| {
            q.filter("status").is_none_or(|s| r.status == s) && idpo.is_none_or(|id| r.idpurchaseorder == Some(id))
        });
        page(rows, offset).into_iter().map(|r| receipt_json(w, r)).collect()
    });
    list(items)
}

async fn get_receipt(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.read(|w| render_receipt(w, id.first()))?)
}

async fn create_receipt(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| {
        let id = receipts::create(w, &body)?;
        render_receipt(w, id)
    })?)
}

/// `POST /receipts/{id}/products`; `?force=true` (or `"force": true`) for products not on the PO.
async fn receive_product(State(sim): State<AppState>, id: Ids, q: Q, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| {
        receipts::add_product(w, id.first(), &body, q.flag("force"))?;
        render_receipt(w, id.first())
    })?)
}

async fn mark_all_received(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| {
        receipts::mark_all_received(w, id.first())?;
        render_receipt(w, id.first())
    })?)
}
