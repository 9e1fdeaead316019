//! Order writes that do not change the status: create, header update, lines, comments, notes,
//! tags.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::World;
use super::orders::{Comment, Note, Order, OrderLine, TEXT_FIELDS, emit_order, note_json, order_json};
use super::picking::release_allocations;
use crate::picqer::errors::{ApiError, ApiResult, code};
use crate::picqer::extract::Fields;

/// Statuses in which lines may still change (error 33 otherwise).
fn lines_editable(o: &Order) -> bool {
    matches!(o.status.as_str(), "concept" | "expected")
}

fn order_mut(w: &mut World, id: u64) -> ApiResult<&mut Order> {
    w.orders.get_mut(&id).ok_or_else(|| ApiError::not_found("Order"))
}

/// Resolves one requested line (`idproduct` or `productcode`, `amount`, `price?`, `remarks?`).
fn resolve_line(w: &World, line: &Map<String, Value>) -> ApiResult<OrderLine> {
    let f = Fields(line);
    let product = if let Some(id) = f.u64("idproduct")? {
        w.products
            .get(id)
            .ok_or_else(|| ApiError::code400(code::PRODUCT_NOT_EXIST, format!("Product {id} does not exist")))?
    } else if let Some(pc) = f.str("productcode")? {
        w.products.by_code(&pc).and_then(|id| w.products.get(id)).ok_or_else(|| {
            ApiError::code400(code::PRODUCT_NOT_EXIST, format!("Product with productcode '{pc}' does not exist"))
        })?
    } else {
        return Err(ApiError::code400(code::NO_PRODUCT_GIVEN, "No product given"));
    };
    let amount = f.req_i64("amount")?;
    if amount <= 0 {
        return Err(ApiError::bad_request("amount must be positive"));
    }
    // A line may carry its own VAT group (a shop's price with the shop's rate).
    let idvatgroup = match f.u64("idvatgroup")? {
        Some(id) if w.vatgroups.iter().any(|v| v.idvatgroup == id) => id,
        Some(id) => return Err(ApiError::code400(code::UNKNOWN_VATGROUP, format!("Unknown vatgroup {id}"))),
        None => product.idvatgroup,
    };
    Ok(OrderLine {
        idorder_product: 0,
        idproduct: product.idproduct,
        idvatgroup,
        productcode: product.productcode.clone(),
        name: f.str("name")?.unwrap_or_else(|| product.name.clone()),
        remarks: f.str("remarks")?.unwrap_or_default(),
        price: f.cents("price")?.unwrap_or(product.price),
        amount,
        amount_cancelled: 0,
        weight: product.weight,
        allocated: 0,
    })
}

/// Copies the header fields present in `body`.
fn apply_header(o: &mut Order, body: &Map<String, Value>) -> ApiResult<()> {
    let f = Fields(body);
    for key in TEXT_FIELDS {
        if body.contains_key(key) {
            match f.str(key)? {
                Some(v) if !v.is_empty() => o.text.insert(key, v),
                _ => o.text.remove(key),
            };
        }
    }
    if let Some(v) = f.bool("partialdelivery")? {
        o.partialdelivery = v;
    }
    if let Some(v) = f.bool("auto_split")? {
        o.auto_split = v;
    }
    if let Some(v) = f.bool("invoiced")? {
        o.invoiced = v;
    }
    if let Some(v) = f.bool("calculatevat")? {
        o.calculatevat = v;
    }
    if let Some(v) = f.cents("discount")? {
        o.discount = v as f64 / 100.0;
    }
    if body.contains_key("idtemplate") {
        o.idtemplate = f.u64("idtemplate")?;
    }
    if body.contains_key("idshippingprovider_profile") {
        o.idshippingprovider_profile = f.u64("idshippingprovider_profile")?;
    }
    if let Some(v) = body.get("pickup_point_data") {
        o.pickup_point_data = v.clone();
    }
    for field in f.objects("orderfields")?.unwrap_or_default() {
        let ff = Fields(field);
        let id = ff.req_u64("idorderfield")?;
        let value = ff.str("value")?.unwrap_or_default();
        o.orderfields.retain(|(x, _)| *x != id);
        o.orderfields.push((id, value));
    }
    Ok(())
}

/// Fills empty header fields from the customer and their default addresses.
fn fill_from_customer(w: &World, o: &mut Order, idcustomer: u64) {
    let Some(c) = w.customers.get(&idcustomer) else {
        return;
    };
    let mut defaults: Vec<(&'static str, Option<String>)> = vec![
        ("emailaddress", c.emailaddress.clone()),
        ("telephone", c.telephone.clone()),
        ("language", Some(c.language.clone())),
    ];
    for (prefix, addr) in [("delivery", c.delivery_address()), ("invoice", c.invoice_address())] {
        let name = addr.and_then(|a| a.name.clone()).or(Some(c.name.clone()));
        let a = addr.cloned();
        let pick = |f: fn(&super::customers::Address) -> Option<String>| a.as_ref().and_then(f);
        for (suffix, value) in [
            ("name", name),
            ("contactname", pick(|a| a.contactname.clone()).or(c.contactname.clone())),
            ("address", pick(|a| a.address.clone())),
            ("address2", pick(|a| a.address2.clone())),
            ("zipcode", pick(|a| a.zipcode.clone())),
            ("city", pick(|a| a.city.clone())),
            ("region", pick(|a| a.region.clone())),
            ("country", pick(|a| a.country.clone())),
        ] {
            let key = TEXT_FIELDS.iter().find(|k| k.strip_prefix(prefix) == Some(suffix)).copied();
            if let Some(key) = key {
                defaults.push((key, value));
            }
        }
    }
    for (key, value) in defaults {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            o.text.entry(key).or_insert(value);
        }
    }
}

/// `POST /orders`: the order starts as `concept`.
pub fn create(w: &mut World, body: &Map<String, Value>) -> ApiResult<u64> {
    let f = Fields(body);
    let idcustomer = f.u64("idcustomer")?;
    if let Some(id) = idcustomer
        && !w.customers.contains_key(&id)
    {
        return Err(ApiError::code400(code::INVALID_CUSTOMER, format!("Customer {id} does not exist")));
    }
    let requested = f.objects("products")?.unwrap_or_default();
    if requested.is_empty() {
        return Err(ApiError::code400(code::ORDER_MISSING_PRODUCTS, "Order is missing products"));
    }
    let mut lines = Vec::with_capacity(requested.len());
    for line in requested {
        lines.push(resolve_line(w, line)?);
    }
    let now = w.now();
    let mut o = Order {
        idorder: w.ids.order.peek(),
        orderid: String::new(),
        idcustomer,
        idtemplate: None,
        idshippingprovider_profile: None,
        text: BTreeMap::new(),
        pickup_point_data: Value::Null,
        partialdelivery: false,
        auto_split: false,
        invoiced: false,
        discount: 0.0,
        calculatevat: true,
        status: "concept".into(),
        created: now,
        updated: now,
        tags: Vec::new(),
        orderfields: Vec::new(),
        lines: Vec::new(),
        picklists: Vec::new(),
        comments: Vec::new(),
        notes: Vec::new(),
        alloc_warehouse: None,
    };
    apply_header(&mut o, body)?;
    match idcustomer {
        Some(id) => fill_from_customer(w, &mut o, id),
        None => {
            for key in ["deliveryname", "deliverycountry", "invoicename", "invoicecountry"] {
                if o.text(key).is_none() {
                    return Err(ApiError::missing(key));
                }
            }
        }
    }
    let id = w.ids.order.take();
    o.orderid = (20_250_000 + id - 20_000_000).to_string();
    for mut line in lines {
        line.idorder_product = w.ids.order_line.take();
        o.lines.push(line);
    }
    w.orders.insert(id, o);
    emit_order(w, "orders.created", id);
    Ok(id)
}

/// `PUT /orders/{id}`: header fields only; refused once the order is completed or cancelled.
pub fn update(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<()> {
    let now = w.now();
    let o = order_mut(w, id)?;
    if matches!(o.status.as_str(), "completed" | "cancelled") {
        return Err(ApiError::code400(code::ORDER_ALREADY_CLOSED, "Order is already closed"));
    }
    let mut next = o.clone();
    apply_header(&mut next, body)?;
    next.updated = now;
    *o = next;
    Ok(())
}

fn editable(w: &mut World, id: u64, msg: &str) -> ApiResult<()> {
    let o = order_mut(w, id)?;
    if lines_editable(o) { Ok(()) } else { Err(ApiError::code400(code::ORDER_PROCESSED_LOCKED, msg)) }
}

/// `POST /orders/{id}/products`.
pub fn add_line(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<Value> {
    editable(w, id, "Products cannot be added when order is processed already")?;
    let mut line = resolve_line(w, body)?;
    line.idorder_product = w.ids.order_line.take();
    let json = super::orders::line_json(&line);
    let now = w.now();
    let o = order_mut(w, id)?;
    o.lines.push(line);
    o.updated = now;
    Ok(json)
}

/// `PUT /orders/{id}/products/{idorder_product}` (`amount`, `price`, `remarks`). Any allocation
/// of the line is released; allocate again afterwards (as integrations do).
pub fn update_line(w: &mut World, id: u64, idline: u64, body: &Map<String, Value>) -> ApiResult<Value> {
    editable(w, id, "Amount cannot be changed when order is processed already")?;
    let f = Fields(body);
    let amount = f.i64("amount")?;
    if amount.is_some_and(|a| a <= 0) {
        return Err(ApiError::bad_request("amount must be positive"));
    }
    let price = f.cents("price")?;
    let remarks = f.str("remarks")?;
    if !w.orders.get(&id).is_some_and(|o| o.lines.iter().any(|l| l.idorder_product == idline)) {
        return Err(ApiError::not_found("Order product"));
    }
    release_allocations(w, id, Some(idline));
    let now = w.now();
    let o = order_mut(w, id)?;
    o.updated = now;
    let line =
        o.lines.iter_mut().find(|l| l.idorder_product == idline).ok_or_else(|| ApiError::not_found("Order product"))?;
    if let Some(a) = amount {
        line.amount = a;
    }
    if let Some(p) = price {
        line.price = p;
    }
    if let Some(r) = remarks {
        line.remarks = r;
    }
    Ok(super::orders::line_json(line))
}

/// `DELETE /orders/{id}/products/{idorder_product}`.
pub fn delete_line(w: &mut World, id: u64, idline: u64) -> ApiResult<()> {
    editable(w, id, "Product cannot be removed when order is processed")?;
    if !w.orders.get(&id).is_some_and(|o| o.lines.iter().any(|l| l.idorder_product == idline)) {
        return Err(ApiError::not_found("Order product"));
    }
    release_allocations(w, id, Some(idline));
    let now = w.now();
    let o = order_mut(w, id)?;
    o.lines.retain(|l| l.idorder_product != idline);
    o.updated = now;
    Ok(())
}

/// `POST /orders/{id}/comments` with `{"body": ..}`; fires `comments.created`.
pub fn add_comment(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<Value> {
    let text = Fields(body).req_str("body")?;
    let comment = Comment { idcomment: w.ids.comment.take(), body: text, created: w.now() };
    let json = super::orders::comment_json(&comment);
    order_mut(w, id)?.comments.push(comment);
    w.emit("comments.created", json.clone());
    Ok(json)
}

/// `POST /orders/{id}/notes` with `{"note": ..}`; fires `orders.notes.created` with
/// `{"order": .., "note": ..}` (GUESS, from community types).
pub fn add_note(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<Value> {
    let text = Fields(body).req_str("note")?;
    let note = Note { idorder_note: w.ids.comment.take(), note: text, created: w.now() };
    let json = note_json(id, &note);
    order_mut(w, id)?.notes.push(note);
    if let Some(o) = w.orders.get(&id) {
        let data = serde_json::json!({"order": order_json(w, o), "note": json.clone()});
        w.emit("orders.notes.created", data);
    }
    Ok(json)
}

/// `POST /orders/{id}/tags`; adding twice is a no-op.
pub fn add_tag(w: &mut World, id: u64, idtag: u64) -> ApiResult<()> {
    let o = order_mut(w, id)?;
    if !o.tags.contains(&idtag) {
        o.tags.push(idtag);
    }
    Ok(())
}

pub fn remove_tag(w: &mut World, id: u64, idtag: u64) -> ApiResult<()> {
    let o = order_mut(w, id)?;
    if !o.tags.contains(&idtag) {
        return Err(ApiError::not_found("Tag"));
    }
    o.tags.retain(|t| *t != idtag);
    Ok(())
}
