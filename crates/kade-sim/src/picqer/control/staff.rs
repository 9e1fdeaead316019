//! Warehouse-staff actions: what people on the floor do in Picqer's UI, exposed so tests can
//! drive an order from "processing" to "completed" without a human. They go through the same
//! world operations as the API, so they fire the same webhooks.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::Value;

use crate::picqer::api::{Resp, list, ok};
use crate::picqer::errors::{ApiError, ApiResult};
use crate::picqer::extract::{Fields, Ids, JsonBody};
use crate::picqer::server::AppState;
use crate::picqer::state::World;
use crate::picqer::state::orders::order_json;
use crate::picqer::state::picking;
use crate::picqer::state::picklist_ops::{self, ShipmentSpec};
use crate::picqer::state::picklists::shipment_json;
use crate::picqer::state::stock::change_stock;
use crate::picqer::state::{backorders, purchasing, receipts, returns};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products/{id}/stock", post(product_stock))
        .route("/orders/{id}/process", post(process))
        .route("/orders/{id}/pick", post(pick))
        .route("/orders/{id}/expect", post(expect))
        .route("/orders/{id}/ship", post(ship))
        .route("/returns/{id}/receive", post(receive_return))
        .route("/backorders/{id}/date-available", post(backorder_date))
        .route("/purchaseorders/{id}/receive", post(receive_purchaseorder))
}

/// Receives a return like `POST /api/v1/returns/{id}/receive` (same optional body).
async fn receive_return(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    ok(sim.run(|w| {
        returns::receive(w, id.first(), &body)?;
        w.returns.get(&id.first()).map(|r| returns::return_json(w, r)).ok_or_else(|| ApiError::not_found("Return"))
    })?)
}

/// The goods arrive: a concept purchase order is marked purchased first, then a receipt is
/// created and everything still expected is received. Answers with the receipt.
async fn receive_purchaseorder(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| {
        let po = w.purchaseorders.get(&id.first()).ok_or_else(|| ApiError::not_found("Purchase order"))?;
        if po.status == "concept" {
            purchasing::mark_purchased(w, id.first())?;
        }
        let mut body = serde_json::Map::new();
        body.insert("idpurchaseorder".into(), id.first().into());
        let idreceipt = receipts::create(w, &body)?;
        receipts::mark_all_received(w, idreceipt)?;
        w.receipts.get(&idreceipt).map(|r| receipts::receipt_json(w, r)).ok_or_else(|| ApiError::not_found("Receipt"))
    })?)
}

fn render_order(w: &World, id: u64) -> ApiResult<Value> {
    w.orders.get(&id).map(|o| order_json(w, o)).ok_or_else(|| ApiError::not_found("Order"))
}

/// `{"idwarehouse": N?, "change"|"amount": N, "reason"?}`, same rules as the API; the warehouse
/// defaults to the first one.
async fn product_stock(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    let idwarehouse = Fields(&body).u64("idwarehouse")?;
    ok(sim.run(|w| {
        let idw = idwarehouse
            .or_else(|| w.warehouses.first().map(|x| x.idwarehouse))
            .ok_or_else(|| ApiError::not_found("Warehouse"))?;
        change_stock(w, id.first(), idw, &body)
    })?)
}

async fn process(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| {
        picking::process(w, id.first())?;
        render_order(w, id.first())
    })?)
}

/// Puts a concept order in `expected`, the status only Picqer itself sets.
async fn expect(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| {
        picking::mark_expected(w, id.first())?;
        render_order(w, id.first())
    })?)
}

/// Closes every open (`new`) picklist of the order.
async fn pick(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| {
        let o = w.orders.get(&id.first()).ok_or_else(|| ApiError::not_found("Order"))?;
        let open: Vec<u64> =
            o.picklists.iter().copied().filter(|p| w.picklists.get(p).is_some_and(|p| p.status == "new")).collect();
        if open.is_empty() {
            return Err(ApiError::rule("Order has no open picklists to pick"));
        }
        for pid in open {
            picklist_ops::close(w, pid)?;
        }
        render_order(w, id.first())
    })?)
}

/// `{"parcels": [{"trackingcode": "3S..", "carrier": "postnl", "weight": 900}], "separate_shipments": false}`:
/// ships every closed picklist that has no shipment yet. By default one shipment carries all
/// parcels (multicolli); with `separate_shipments` each parcel becomes its own shipment.
async fn ship(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    let f = Fields(&body);
    let separate = f.bool("separate_shipments")?.unwrap_or(false);
    let mut parcels = Vec::new();
    for p in f.objects("parcels")?.unwrap_or_default() {
        let pf = Fields(p);
        parcels.push((pf.str("trackingcode")?, pf.str("carrier")?, pf.i64("weight")?));
    }
    let profile = f.u64("idshippingprovider_profile")?;
    let specs: Vec<ShipmentSpec> = if separate && !parcels.is_empty() {
        parcels
            .into_iter()
            .map(|(code, carrier, weight)| ShipmentSpec {
                idshippingprovider_profile: profile,
                carrier,
                parcels: vec![(code, weight)],
                weight,
            })
            .collect()
    } else {
        vec![ShipmentSpec {
            idshippingprovider_profile: profile,
            carrier: parcels.iter().find_map(|p| p.1.clone()),
            parcels: parcels.into_iter().map(|(c, _, w)| (c, w)).collect(),
            weight: None,
        }]
    };
    let made = sim.run(|w| {
        let o = w.orders.get(&id.first()).ok_or_else(|| ApiError::not_found("Order"))?;
        let targets: Vec<u64> = o
            .picklists
            .iter()
            .copied()
            .filter(|p| w.picklists.get(p).is_some_and(|p| p.status == "closed" && p.shipments.is_empty()))
            .collect();
        if targets.is_empty() {
            return Err(ApiError::rule("Order has no closed picklist without a shipment; pick it first"));
        }
        let mut made = Vec::new();
        for pid in targets {
            for spec in &specs {
                let sid = picklist_ops::add_shipment(w, pid, spec)?;
                if let Some(s) = w.shipments.get(&sid) {
                    made.push(shipment_json(w, s));
                }
            }
        }
        Ok(made)
    })?;
    list(made)
}

/// `{"date_available": "YYYY-MM-DD" | null}`: when the purchasing team expects the products of
/// a backorder (Picqer shows it as the backorder's `date_available`).
async fn backorder_date(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    let date = match body.get("date_available") {
        None => return Err(ApiError::missing("date_available")),
        Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::bad_request("date_available must be a string or null")),
    };
    ok(sim.run(|w| backorders::set_date_available(w, id.first(), date))?)
}
