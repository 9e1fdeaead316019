//! `/products` and its sub-resources (stock, parts, tags), plus `/stockhistory`.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{Resp, created, list, ok};
use crate::clock::parse_datetime;
use crate::picqer::errors::ApiError;
use crate::picqer::extract::{Ids, JsonBody, Q, contains_ci, page};
use crate::picqer::server::AppState;
use crate::picqer::state::catalog::{tag_from_body, tags_array};
use crate::picqer::state::products::{Product, product_json};
use crate::picqer::state::stock::{change_stock, stock_json};
use crate::picqer::state::{World, product_ops};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products", get(list_products).post(create_product))
        .route("/products/{id}", get(get_product).put(update_product))
        .route("/products/{id}/activate", post(activate))
        .route("/products/{id}/inactivate", post(inactivate))
        .route("/products/{id}/stock", get(product_stock))
        .route("/products/{id}/stock/{idwarehouse}", get(warehouse_stock).post(post_stock))
        .route("/products/{id}/parts", get(list_parts).post(add_part))
        .route("/products/{id}/parts/{idpart}", get(get_part).put(update_part).delete(delete_part))
        .route("/products/{id}/images", get(list_images).post(add_image))
        .route("/products/{id}/images/{idimage}", axum::routing::delete(delete_image))
        .route("/products/{id}/tags", get(list_tags).post(add_tag))
        .route("/products/{id}/tags/{idtag}", axum::routing::delete(remove_tag))
        .route("/stockhistory", get(stock_history))
}

fn product(w: &World, id: u64) -> Result<&Product, ApiError> {
    w.products.get(id).ok_or_else(|| ApiError::not_found("Product"))
}

fn render(w: &World, id: u64) -> Result<Value, ApiError> {
    product(w, id).map(|p| product_json(w, p))
}

async fn list_products(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    let include_inactive = q.flag("inactive");
    let updated_after = match q.filter("updated_after") {
        None => None,
        Some(s) => Some(
            parse_datetime(s)
                .ok_or_else(|| ApiError::bad_request("updated_after must be formatted as YYYY-MM-DD HH:MM:SS"))?,
        ),
    };
    let ids: Option<Vec<u64>> =
        q.filter("idproducts").map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    let search = q.filter("search").map(str::to_lowercase);
    let code = q.filter("productcode").map(str::to_owned);
    let items = sim.read(|w| {
        let keep = |p: &Product| {
            (include_inactive || p.active)
                && updated_after.is_none_or(|t| p.updated > t)
                && search.as_deref().is_none_or(|s| {
                    contains_ci(&p.name, s)
                        || contains_ci(&p.productcode, s)
                        || p.barcode.as_deref().is_some_and(|b| contains_ci(b, s))
                })
        };
        let chosen: Vec<&Product> = if let Some(code) = &code {
            let found = w.products.by_code(code).and_then(|id| w.products.get(id));
            page(found.into_iter().filter(|p| keep(p)), offset)
        } else if let Some(ids) = &ids {
            let mut ids = ids.clone();
            ids.sort_unstable();
            ids.dedup();
            let found = ids.into_iter().filter_map(|id| w.products.get(id));
            page(found.filter(|p| keep(p)), offset)
        } else if updated_after.is_none() && search.is_none() {
            w.products.page(offset, include_inactive)
        } else {
            page(w.products.all().iter().filter(|p| keep(p)), offset)
        };
        chosen.into_iter().map(|p| product_json(w, p)).collect()
    });
    list(items)
}

async fn get_product(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.read(|w| render(w, id.first()))?)
}

async fn create_product(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| {
        let id = product_ops::create(w, &body)?;
        render(w, id)
    })?)
}

async fn update_product(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    ok(sim.run(|w| {
        product_ops::update(w, id.first(), &body)?;
        render(w, id.first())
    })?)
}

async fn activate(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| {
        product_ops::set_active(w, id.first(), true)?;
        render(w, id.first())
    })?)
}

async fn inactivate(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| {
        product_ops::set_active(w, id.first(), false)?;
        render(w, id.first())
    })?)
}

async fn product_stock(State(sim): State<AppState>, id: Ids) -> Resp {
    let items = sim.read(|w| product(w, id.first()).map(|p| p.stock.iter().map(stock_json).collect()))?;
    list(items)
}

async fn warehouse_stock(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.read(|w| {
        let p = product(w, id.first())?;
        p.stock
            .iter()
            .find(|l| l.idwarehouse == id.second())
            .map(stock_json)
            .ok_or_else(|| ApiError::not_found("Warehouse"))
    })?)
}

async fn post_stock(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    ok(sim.run(|w| change_stock(w, id.first(), id.second(), &body))?)
}

async fn list_parts(State(sim): State<AppState>, id: Ids) -> Resp {
    list(sim.read(|w| product_ops::parts(w, id.first()))?)
}

async fn get_part(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.read(|w| product_ops::part(w, id.first(), id.second()))?)
}

async fn add_part(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| product_ops::add_part(w, id.first(), &body))?)
}

async fn update_part(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    ok(sim.run(|w| product_ops::update_part(w, id.first(), id.second(), &body))?)
}

async fn delete_part(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.run(|w| product_ops::delete_part(w, id.first(), id.second()))?;
    ok(json!({}))
}

async fn list_images(State(sim): State<AppState>, id: Ids) -> Resp {
    list(sim.read(|w| product(w, id.first()).map(|p| p.images.iter().map(|i| i.json(&w.root_url)).collect()))?)
}

async fn add_image(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| product_ops::add_image(w, id.first(), &body))?)
}

async fn delete_image(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.run(|w| product_ops::delete_image(w, id.first(), id.second()))?;
    ok(json!({}))
}

async fn list_tags(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.read(|w| product(w, id.first()).map(|p| tags_array(w, &p.tags)))?)
}

async fn add_tag(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| {
        let idtag = tag_from_body(w, &body)?;
        product_ops::add_tag(w, id.first(), idtag)?;
        Ok(w.tags.get(&idtag).map_or(Value::Null, |t| json!(t)))
    })?)
}

async fn remove_tag(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.run(|w| product_ops::remove_tag(w, id.first(), id.second()))?;
    ok(json!({}))
}

/// `GET /stockhistory` with `idproduct`, `idwarehouse`, `sincedate`, `offset`.
async fn stock_history(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    let idproduct = q.u64("idproduct")?;
    let idwarehouse = q.u64("idwarehouse")?;
    let since = q.filter("sincedate").and_then(parse_datetime);
    let items = sim.read(|w| {
        let rows = w.stock_history.iter().filter(|r| {
            idproduct.is_none_or(|id| r.idproduct == id)
                && idwarehouse.is_none_or(|id| r.idwarehouse == id)
                && since.is_none_or(|t| parse_datetime(&r.changed_at).is_some_and(|at| at >= t))
        });
        page(rows, offset).into_iter().map(|r| json!(r)).collect()
    });
    list(items)
}
