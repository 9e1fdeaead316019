//! `/picklists` (with shipments) and `/backorders`.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::{Resp, created, list, ok};
use crate::picqer::errors::{ApiError, ApiResult};
use crate::picqer::extract::{Fields, Ids, JsonBody, Q, page};
use crate::picqer::server::AppState;
use crate::picqer::state::World;
use crate::picqer::state::backorders::{self, backorder_json};
use crate::picqer::state::picklist_ops::{self, ShipmentSpec};
use crate::picqer::state::picklists::{Picklist, picklist_json, shipment_json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/picklists", get(list_picklists))
        .route("/picklists/{id}", get(get_picklist))
        .route("/picklists/{id}/close", post(close))
        .route("/picklists/{id}/pickall", post(close))
        .route("/picklists/{id}/cancel", post(cancel))
        .route("/picklists/{id}/shipments", get(shipments).post(add_shipment))
        .route("/backorders", get(list_backorders))
        .route("/backorders/process", post(process_backorders))
        .route("/backorders/{id}", get(get_backorder).delete(delete_backorder))
}

fn picklist(w: &World, id: u64) -> ApiResult<&Picklist> {
    w.picklists.get(&id).ok_or_else(|| ApiError::not_found("Picklist"))
}

fn render(w: &World, id: u64) -> ApiResult<Value> {
    picklist(w, id).map(|p| picklist_json(w, p))
}

/// `GET /picklists` with status, idorder, picklistid, idwarehouse, beforeid, offset.
async fn list_picklists(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    let idorder = q.u64("idorder")?;
    let idwarehouse = q.u64("idwarehouse")?;
    let beforeid = q.u64("beforeid")?;
    let items = sim.read(|w| {
        let rows = w.picklists.values().filter(|p| {
            q.filter("status").is_none_or(|s| p.status == s)
                && q.filter("picklistid").is_none_or(|s| p.picklistid == s)
                && idorder.is_none_or(|id| p.idorder == id)
                && idwarehouse.is_none_or(|id| p.idwarehouse == id)
                && beforeid.is_none_or(|id| p.idpicklist < id)
        });
        page(rows, offset).into_iter().map(|p| picklist_json(w, p)).collect()
    });
    list(items)
}

async fn get_picklist(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.read(|w| render(w, id.first()))?)
}

async fn close(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| {
        picklist_ops::close(w, id.first())?;
        render(w, id.first())
    })?)
}

async fn cancel(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| {
        picklist_ops::cancel(w, id.first())?;
        render(w, id.first())
    })?)
}

async fn shipments(State(sim): State<AppState>, id: Ids) -> Resp {
    let items = sim.read(|w| {
        picklist(w, id.first())
            .map(|p| p.shipments.iter().filter_map(|s| w.shipments.get(s)).map(|s| shipment_json(w, s)).collect())
    })?;
    list(items)
}

/// Reads a shipment request. Picqer's body is undocumented beyond the profile (GUESS); the
/// simulator also takes `trackingcode`, `weight`, `carrier` and `parcels: [{trackingcode, weight}]`.
pub fn shipment_spec(body: &Map<String, Value>) -> ApiResult<ShipmentSpec> {
    let f = Fields(body);
    let mut parcels = Vec::new();
    for p in f.objects("parcels")?.unwrap_or_default() {
        let pf = Fields(p);
        let code = match pf.str("trackingcode")? {
            Some(c) => Some(c),
            None => pf.str("tracking_code")?,
        };
        parcels.push((code, pf.i64("weight")?));
    }
    if parcels.is_empty()
        && let Some(code) = f.str("trackingcode")?
    {
        parcels.push((Some(code), f.i64("weight")?));
    }
    Ok(ShipmentSpec {
        idshippingprovider_profile: f.u64("idshippingprovider_profile")?,
        carrier: f.str("carrier")?,
        parcels,
        weight: f.i64("weight")?,
    })
}

async fn add_shipment(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    let spec = shipment_spec(&body)?;
    created(sim.run(|w| {
        let sid = picklist_ops::add_shipment(w, id.first(), &spec)?;
        Ok(w.shipments.get(&sid).map_or(Value::Null, |s| shipment_json(w, s)))
    })?)
}

/// `GET /backorders` with idorder, idproduct, idwarehouse, offset.
async fn list_backorders(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    let (idorder, idproduct) = (q.u64("idorder")?, q.u64("idproduct")?);
    let idwarehouse = q.u64("idwarehouse")?;
    let items = sim.read(|w| {
        let rows = w.backorders.values().filter(|b| {
            idorder.is_none_or(|id| b.idorder == id)
                && idproduct.is_none_or(|id| b.idproduct == id)
                && idwarehouse.is_none_or(|id| b.idwarehouse == id)
        });
        page(rows, offset).into_iter().map(|b| backorder_json(w, b)).collect()
    });
    list(items)
}

async fn get_backorder(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.read(|w| {
        w.backorders.get(&id.first()).map(|b| backorder_json(w, b)).ok_or_else(|| ApiError::not_found("Backorder"))
    })?)
}

async fn delete_backorder(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| backorders::delete(w, id.first()))?)
}

/// Answers with the picklists it created (GUESS: the real response is not documented).
async fn process_backorders(State(sim): State<AppState>) -> Resp {
    ok(sim.run(|w| {
        let ids = backorders::process(w, None);
        let made: Vec<Value> = ids.iter().filter_map(|id| w.picklists.get(id)).map(|p| picklist_json(w, p)).collect();
        Ok(json!({"picklists": made}))
    })?)
}
