//! `/orders` and its sub-resources and actions.

use axum::Router;
use axum::extract::State;
use axum::routing::{delete, get, post, put};
use serde_json::{Value, json};

use super::{Resp, created, list, ok};
use crate::clock::parse_datetime;
use crate::picqer::errors::{ApiError, ApiResult};
use crate::picqer::extract::{Fields, Ids, JsonBody, Q, contains_ci, page};
use crate::picqer::server::AppState;
use crate::picqer::state::backorders::{self, backorder_json};
use crate::picqer::state::catalog::{tag_from_body, tags_array};
use crate::picqer::state::orders::{Order, comment_json, note_json, order_json};
use crate::picqer::state::{World, order_ops, picking};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list_orders).post(create_order))
        .route("/orders/{id}", get(get_order).put(update_order).delete(cancel_order))
        .route("/orders/{id}/products", post(add_line))
        .route("/orders/{id}/products/{idline}", put(update_line).delete(delete_line))
        .route("/orders/{id}/productstatus", get(product_status))
        .route("/orders/{id}/allocate", post(action_allocate))
        .route("/orders/{id}/deallocate", post(action_deallocate))
        .route("/orders/{id}/process", post(action_process))
        .route("/orders/{id}/pause", post(action_pause))
        .route("/orders/{id}/resume", post(action_resume))
        .route("/orders/{id}/change-to-concept", post(action_to_concept))
        .route("/orders/{id}/process-backorders", post(process_backorders))
        .route("/orders/{id}/backorders", get(order_backorders))
        .route("/orders/{id}/comments", get(comments).post(add_comment))
        .route("/orders/{id}/notes", get(notes).post(add_note))
        .route("/orders/{id}/tags", get(tags).post(add_tag))
        .route("/orders/{id}/tags/{idtag}", delete(remove_tag))
}

fn order(w: &World, id: u64) -> ApiResult<&Order> {
    w.orders.get(&id).ok_or_else(|| ApiError::not_found("Order"))
}

fn render(w: &World, id: u64) -> ApiResult<Value> {
    order(w, id).map(|o| order_json(w, o))
}

fn time_filter(q: &Q, key: &str) -> ApiResult<Option<i64>> {
    q.filter(key)
        .map(|s| {
            parse_datetime(s)
                .ok_or_else(|| ApiError::bad_request(format!("{key} must be formatted as YYYY-MM-DD HH:MM:SS")))
        })
        .transpose()
}

/// `GET /orders` with reference, orderid, status, emailaddress, idcustomer, search,
/// sincedate/untildate (creation), updated_after, sinceid/beforeid, offset.
async fn list_orders(State(sim): State<AppState>, q: Q) -> Resp {
    let offset = q.offset()?;
    let since = time_filter(&q, "sincedate")?;
    let until = time_filter(&q, "untildate")?;
    let updated_after = time_filter(&q, "updated_after")?;
    let (sinceid, beforeid) = (q.u64("sinceid")?, q.u64("beforeid")?);
    let idcustomer = q.u64("idcustomer")?;
    let search = q.filter("search").map(str::to_lowercase);
    let email = q.filter("emailaddress").map(str::to_lowercase);
    let items = sim.read(|w| {
        let rows = w.orders.values().filter(|o| {
            q.filter("reference").is_none_or(|r| o.text("reference") == Some(r))
                && q.filter("orderid").is_none_or(|r| o.orderid == r)
                && q.filter("status").is_none_or(|s| o.status == s)
                && idcustomer.is_none_or(|c| o.idcustomer == Some(c))
                && email.as_deref().is_none_or(|e| o.text("emailaddress").is_some_and(|x| x.to_lowercase() == e))
                && since.is_none_or(|t| o.created >= t)
                && until.is_none_or(|t| o.created <= t)
                && updated_after.is_none_or(|t| o.updated > t)
                && sinceid.is_none_or(|id| o.idorder > id)
                && beforeid.is_none_or(|id| o.idorder < id)
                && search.as_deref().is_none_or(|s| {
                    contains_ci(&o.orderid, s)
                        || ["reference", "deliveryname", "deliverycontactname", "invoicename"]
                            .iter()
                            .any(|k| o.text(k).is_some_and(|v| contains_ci(v, s)))
                })
        });
        page(rows, offset).into_iter().map(|o| order_json(w, o)).collect()
    });
    list(items)
}

async fn get_order(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.read(|w| render(w, id.first()))?)
}

async fn create_order(State(sim): State<AppState>, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| {
        let id = order_ops::create(w, &body)?;
        render(w, id)
    })?)
}

async fn update_order(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    ok(sim.run(|w| {
        order_ops::update(w, id.first(), &body)?;
        render(w, id.first())
    })?)
}

/// `DELETE /orders/{id}` cancels; `force` may come in the query string or the JSON body.
async fn cancel_order(State(sim): State<AppState>, id: Ids, q: Q, JsonBody(body): JsonBody) -> Resp {
    let force = q.flag("force") || Fields(&body).bool("force")?.unwrap_or(false);
    ok(sim.run(|w| {
        picking::cancel(w, id.first(), force)?;
        render(w, id.first())
    })?)
}

async fn add_line(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| order_ops::add_line(w, id.first(), &body))?)
}

async fn update_line(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    ok(sim.run(|w| order_ops::update_line(w, id.first(), id.second(), &body))?)
}

async fn delete_line(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.run(|w| order_ops::delete_line(w, id.first(), id.second()))?;
    ok(json!({}))
}

/// GUESS: only `products[].allocated` is known of this shape.
async fn product_status(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.read(|w| {
        let o = order(w, id.first())?;
        let lines: Vec<Value> = o
            .lines
            .iter()
            .map(|l| {
                json!({
                    "idorder_product": l.idorder_product,
                    "idproduct": l.idproduct,
                    "productcode": l.productcode,
                    "amount": l.amount,
                    "amount_cancelled": l.amount_cancelled,
                    "allocated": l.allocated >= l.amount - l.amount_cancelled,
                    "amount_allocated": l.allocated,
                })
            })
            .collect();
        Ok::<_, ApiError>(json!({"idorder": o.idorder, "products": lines}))
    })?)
}

/// Runs a status action and answers with the order (GUESS: Picqer's action responses are
/// not documented; returning the order is the most useful reading).
fn action(sim: &AppState, id: u64, f: fn(&mut World, u64) -> ApiResult<()>) -> Resp {
    ok(sim.run(|w| {
        f(w, id)?;
        render(w, id)
    })?)
}

async fn action_allocate(State(sim): State<AppState>, id: Ids) -> Resp {
    action(&sim, id.first(), picking::allocate)
}

async fn action_deallocate(State(sim): State<AppState>, id: Ids) -> Resp {
    action(&sim, id.first(), picking::deallocate)
}

async fn action_process(State(sim): State<AppState>, id: Ids) -> Resp {
    action(&sim, id.first(), picking::process)
}

async fn action_pause(State(sim): State<AppState>, id: Ids) -> Resp {
    action(&sim, id.first(), picking::pause)
}

async fn action_resume(State(sim): State<AppState>, id: Ids) -> Resp {
    action(&sim, id.first(), picking::resume)
}

async fn action_to_concept(State(sim): State<AppState>, id: Ids) -> Resp {
    action(&sim, id.first(), picking::change_to_concept)
}

async fn process_backorders(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.run(|w| {
        order(w, id.first())?;
        backorders::process(w, Some(id.first()));
        render(w, id.first())
    })?)
}

async fn order_backorders(State(sim): State<AppState>, id: Ids, q: Q) -> Resp {
    let offset = q.offset()?;
    let items = sim.read(|w| {
        order(w, id.first())?;
        let rows = w.backorders.values().filter(|b| b.idorder == id.first());
        Ok::<_, ApiError>(page(rows, offset).into_iter().map(|b| backorder_json(w, b)).collect())
    })?;
    list(items)
}

async fn comments(State(sim): State<AppState>, id: Ids) -> Resp {
    list(sim.read(|w| order(w, id.first()).map(|o| o.comments.iter().map(comment_json).collect()))?)
}

async fn add_comment(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| order_ops::add_comment(w, id.first(), &body))?)
}

async fn notes(State(sim): State<AppState>, id: Ids) -> Resp {
    list(sim.read(|w| order(w, id.first()).map(|o| o.notes.iter().map(|n| note_json(o.idorder, n)).collect()))?)
}

async fn add_note(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| order_ops::add_note(w, id.first(), &body))?)
}

async fn tags(State(sim): State<AppState>, id: Ids) -> Resp {
    ok(sim.read(|w| order(w, id.first()).map(|o| tags_array(w, &o.tags)))?)
}

async fn add_tag(State(sim): State<AppState>, id: Ids, JsonBody(body): JsonBody) -> Resp {
    created(sim.run(|w| {
        let idtag = tag_from_body(w, &body)?;
        order_ops::add_tag(w, id.first(), idtag)?;
        Ok(w.tags.get(&idtag).map_or(Value::Null, |t| json!(t)))
    })?)
}

async fn remove_tag(State(sim): State<AppState>, id: Ids) -> Resp {
    sim.run(|w| order_ops::remove_tag(w, id.first(), id.second()))?;
    ok(json!({}))
}
