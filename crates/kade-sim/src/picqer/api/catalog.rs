//! Reference resources: warehouses, VAT groups, tags, shipping providers, suppliers, customers.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, put};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Resp, created, list, ok};
use crate::picqer::errors::ApiError;
use crate::picqer::extract::{Ids, JsonBody, Q, contains_ci, page};
use crate::picqer::server::AppState;
use crate::picqer::state::{catalog, customers};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/warehouses", get(warehouses))
        .route("/warehouses/{id}", get(warehouse))
        .route("/vatgroups", get(vatgroups))
        .route("/vatgroups/{id}", get(vatgroup))
        .route("/tags", get(tags).post(create_tag))
        .route("/tags/{id}", get(tag).delete(delete_tag))
        .route("/shippingproviders", get(shippingproviders))
        .route("/suppliers", get(suppliers).post(create_supplier))
        .route("/suppliers/{id}", get(supplier).put(update_supplier))
        .route("/customers", get(customers).post(create_customer))
        .route("/customers/{id}", get(customer).put(update_customer))
        .route("/customers/{id}/addresses", get(addresses).post(add_address))
        .route("/customers/{id}/addresses/{idaddress}", put(update_address).delete(delete_address))
}

fn to_values<T: Serialize>(items: Vec<&T>) -> Vec<Value> {
    items.into_iter().map(|t| json!(t)).collect()
}

fn one<T: Serialize>(item: Option<&T>, what: &str) -> Resp {
    ok(item.map(|t| json!(t)).ok_or_else(|| ApiError::not_found(what))?)
}

async fn warehouses(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    list(sim.read(|w| to_values(page(w.warehouses.iter(), offset))))
}

async fn warehouse(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.read(|w| one(w.warehouses.iter().find(|x| x.idwarehouse == id.first()), "Warehouse"))
}

async fn vatgroups(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    list(sim.read(|w| to_values(page(w.vatgroups.iter(), offset))))
}

async fn vatgroup(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.read(|w| one(w.vatgroups.iter().find(|x| x.idvatgroup == id.first()), "Vatgroup"))
}

async fn tags(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    list(sim.read(|w| to_values(page(w.tags.values(), offset))))
}

async fn tag(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.read(|w| one(w.tags.get(&id.first()), "Tag"))
}

async fn create_tag(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    created(json!(sim.run(|w| catalog::create_tag(w, &body))?))
}

/// Deleting a tag detaches it everywhere (renderers skip unknown tag ids).
async fn delete_tag(State(sim): State<AppState>, id: Ids) -> Resp {
    let tag = sim.run(|w| w.tags.remove(&id.first()).ok_or_else(|| ApiError::not_found("Tag")))?;
    ok(json!(tag))
}

async fn shippingproviders(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    list(sim.read(|w| to_values(page(w.shipping.iter(), offset))))
}

async fn suppliers(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    let search = q.filter("search").map(str::to_lowercase);
    list(sim.read(|w| {
        let rows = w.suppliers.values().filter(|s| search.as_deref().is_none_or(|n| contains_ci(&s.name, n)));
        to_values(page(rows, offset))
    }))
}

async fn supplier(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.read(|w| one(w.suppliers.get(&id.first()), "Supplier"))
}

async fn create_supplier(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    created(json!(sim.run(|w| catalog::create_supplier(w, &body))?))
}

async fn update_supplier(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    ok(json!(sim.run(|w| catalog::update_supplier(w, id.first(), &body))?))
}

/// `GET /customers` with `search` (name, contact, email, customerid) and `customerid` (exact).
async fn customers(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    let search = q.filter("search").map(str::to_lowercase);
    let customerid = q.filter("customerid").map(str::to_owned);
    list(sim.read(|w| {
        let rows = w.customers.values().filter(|c| {
            customerid.as_deref().is_none_or(|id| c.customerid == id)
                && search.as_deref().is_none_or(|s| {
                    contains_ci(&c.name, s)
                        || contains_ci(&c.customerid, s)
                        || c.contactname.as_deref().is_some_and(|x| contains_ci(x, s))
                        || c.emailaddress.as_deref().is_some_and(|x| contains_ci(x, s))
                })
        });
        to_values(page(rows, offset))
    }))
}

async fn customer(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.read(|w| one(w.customers.get(&id.first()), "Customer"))
}

async fn create_customer(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    created(json!(sim.run(|w| customers::create_customer(w, &body))?))
}

async fn update_customer(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    ok(json!(sim.run(|w| customers::update_customer(w, id.first(), &body))?))
}

async fn addresses(State(sim): State<AppState>, id: Ids) -> Resp {
    let items = sim.read(|w| {
        w.customers
            .get(&id.first())
            .map(|c| c.addresses.iter().map(|a| json!(a)).collect::<Vec<_>>())
            .ok_or_else(|| ApiError::not_found("Customer"))
    })?;
    list(items)
}

async fn add_address(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    created(json!(sim.run(|w| customers::add_address(w, id.first(), &body))?))
}

async fn update_address(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    ok(json!(sim.run(|w| customers::update_address(w, id.first(), id.second(), &body))?))
}

async fn delete_address(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.run(|w| customers::delete_address(w, id.first(), id.second()))?;
    ok(json!({}))
}
