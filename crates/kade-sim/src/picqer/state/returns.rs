//! Returns: creation (addresses copied from the order or customer), status changes through the
//! log, returned products, and receiving them back into stock.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{World, money, ts};
use crate::picqer::errors::{ApiError, ApiResult, code};
use crate::picqer::extract::Fields;

/// Free-text fields of a return (absent = `null`).
pub const TEXT_FIELDS: [&str; 13] = [
    "name",
    "contactname",
    "address",
    "address2",
    "zipcode",
    "city",
    "region",
    "country",
    "telephone",
    "emailaddress",
    "language",
    "reference",
    "tracking_code",
];

#[derive(Clone, Debug)]
pub struct ReturnLine {
    pub idreturn_product: u64,
    pub idproduct: u64,
    pub idorder_product: Option<u64>,
    pub productcode: String,
    pub name: String,
    pub price: i64,
    pub amount: i64,
    pub amount_received: i64,
    pub idreturn_reason: Option<u64>,
    pub remarks: String,
}

#[derive(Clone, Debug)]
pub struct ReturnLog {
    pub idreturn_log: u64,
    pub idreturn_status: Option<u64>,
    pub message: String,
    pub created: i64,
}

#[derive(Clone, Debug)]
pub struct Return {
    pub idreturn: u64,
    pub returnid: String,
    pub idcustomer: Option<u64>,
    pub idorder: Option<u64>,
    pub idreturn_status: u64,
    pub idtemplate: Option<u64>,
    pub text: BTreeMap<&'static str, String>,
    pub lines: Vec<ReturnLine>,
    pub logs: Vec<ReturnLog>,
    pub created: i64,
    pub updated: i64,
}

pub fn line_json(l: &ReturnLine) -> Value {
    json!({
        "idreturn_product": l.idreturn_product,
        "idproduct": l.idproduct,
        "idorder_product": l.idorder_product,
        "productcode": l.productcode,
        "name": l.name,
        "price": money(l.price),
        "amount": l.amount,
        "amount_received": l.amount_received,
        "idreturn_reason": l.idreturn_reason,
        "remarks": l.remarks,
    })
}

pub fn log_json(l: &ReturnLog) -> Value {
    json!({
        "idreturn_log": l.idreturn_log,
        "idreturn_status": l.idreturn_status,
        "message": l.message,
        "iduser": null,
        "created": ts(l.created),
    })
}

/// The return in its GET shape (also the `returns.*` webhook data).
pub fn return_json(w: &World, r: &Return) -> Value {
    let mut v = Map::new();
    v.insert("idreturn".into(), json!(r.idreturn));
    v.insert("returnid".into(), json!(r.returnid));
    v.insert("idcustomer".into(), json!(r.idcustomer));
    v.insert("idorder".into(), json!(r.idorder));
    v.insert("idreturn_status".into(), json!(r.idreturn_status));
    let status = w.return_statuses.iter().find(|s| s.idreturn_status == r.idreturn_status);
    v.insert("status".into(), json!(status.map(|s| s.name.clone())));
    v.insert("idtemplate".into(), json!(r.idtemplate));
    for key in TEXT_FIELDS {
        v.insert(key.into(), json!(r.text.get(key)));
    }
    let lines: Vec<Value> = r.lines.iter().map(line_json).collect();
    v.insert("returned_products".into(), json!(lines));
    v.insert("replacement_products".into(), json!([]));
    v.insert("created".into(), ts(r.created));
    v.insert("updated".into(), ts(r.updated));
    Value::Object(v)
}

pub fn emit_return(w: &mut World, event: &'static str, id: u64) {
    if let Some(r) = w.returns.get(&id) {
        let data = return_json(w, r);
        w.emit(event, data);
    }
}

fn check_status(w: &World, id: u64) -> ApiResult<u64> {
    if w.return_statuses.iter().any(|s| s.idreturn_status == id) {
        Ok(id)
    } else {
        Err(ApiError::bad_request(format!("Unknown idreturn_status {id}")))
    }
}

/// Resolves a returned-product request: `idorder_product` (of the return's order), `idproduct`
/// or `productcode`, plus `amount`, `idreturn_reason?`, `remarks?`.
fn resolve_line(w: &World, idorder: Option<u64>, body: &Map<String, Value>) -> ApiResult<ReturnLine> {
    let f = Fields(body);
    let order_line = match f.u64("idorder_product")? {
        Some(idl) => Some(
            idorder
                .and_then(|o| w.orders.get(&o))
                .and_then(|o| o.lines.iter().find(|l| l.idorder_product == idl))
                .ok_or_else(|| ApiError::bad_request(format!("Order product {idl} is not on the order")))?,
        ),
        None => None,
    };
    let idproduct = match (order_line, f.u64("idproduct")?, f.str("productcode")?) {
        (Some(l), _, _) => l.idproduct,
        (None, Some(id), _) => id,
        (None, None, Some(pc)) => w.products.by_code(&pc).unwrap_or(0),
        _ => return Err(ApiError::code400(code::NO_PRODUCT_GIVEN, "No product given")),
    };
    let p = w
        .products
        .get(idproduct)
        .ok_or_else(|| ApiError::code400(code::PRODUCT_NOT_EXIST, "Product does not exist"))?;
    let amount = f.i64("amount")?.unwrap_or(1);
    if amount <= 0 {
        return Err(ApiError::bad_request("amount must be positive"));
    }
    let reason = f.u64("idreturn_reason")?;
    if let Some(id) = reason
        && !w.return_reasons.iter().any(|r| r.idreturn_reason == id)
    {
        return Err(ApiError::bad_request(format!("Unknown idreturn_reason {id}")));
    }
    Ok(ReturnLine {
        idreturn_product: 0,
        idproduct,
        idorder_product: order_line.map(|l| l.idorder_product),
        productcode: p.productcode.clone(),
        name: p.name.clone(),
        price: order_line.map_or(p.price, |l| l.price),
        amount,
        amount_received: 0,
        idreturn_reason: reason,
        remarks: f.str("remarks")?.unwrap_or_default(),
    })
}

fn apply_text(text: &mut BTreeMap<&'static str, String>, body: &Map<String, Value>) -> ApiResult<()> {
    let f = Fields(body);
    for key in TEXT_FIELDS {
        if body.contains_key(key) {
            match f.str(key)? {
                Some(v) if !v.is_empty() => text.insert(key, v),
                _ => text.remove(key),
            };
        }
    }
    Ok(())
}

/// Name and address copied from an order's delivery block.
fn from_order(w: &World, idorder: u64, text: &mut BTreeMap<&'static str, String>) {
    let Some(o) = w.orders.get(&idorder) else { return };
    for key in TEXT_FIELDS {
        let source = match key {
            "telephone" | "emailaddress" | "language" | "reference" => key.to_owned(),
            "tracking_code" => continue,
            other => format!("delivery{other}"),
        };
        if let Some(v) = o.text(&source) {
            text.entry(key).or_insert_with(|| v.to_owned());
        }
    }
}

fn from_customer(w: &World, idcustomer: u64, text: &mut BTreeMap<&'static str, String>) {
    let Some(c) = w.customers.get(&idcustomer) else { return };
    let a = c.delivery_address();
    let pairs = [
        ("name", Some(c.name.clone())),
        ("contactname", c.contactname.clone()),
        ("address", a.and_then(|a| a.address.clone())),
        ("address2", a.and_then(|a| a.address2.clone())),
        ("zipcode", a.and_then(|a| a.zipcode.clone())),
        ("city", a.and_then(|a| a.city.clone())),
        ("region", a.and_then(|a| a.region.clone())),
        ("country", a.and_then(|a| a.country.clone())),
        ("telephone", c.telephone.clone()),
        ("emailaddress", c.emailaddress.clone()),
        ("language", Some(c.language.clone())),
    ];
    for (key, value) in pairs {
        if let Some(v) = value {
            text.entry(key).or_insert(v);
        }
    }
}

/// `POST /returns`. `idreturn_status` defaults to the default status (the docs call it required:
/// GUESS that Picqer would default it). Products come as `returned_products` (or `products`).
pub fn create(w: &mut World, body: &Map<String, Value>) -> ApiResult<u64> {
    let f = Fields(body);
    let idorder = f.u64("idorder")?;
    if let Some(id) = idorder
        && !w.orders.contains_key(&id)
    {
        return Err(ApiError::bad_request(format!("Order {id} does not exist")));
    }
    let idcustomer = match f.u64("idcustomer")? {
        Some(id) if !w.customers.contains_key(&id) => {
            return Err(ApiError::code400(code::INVALID_CUSTOMER, format!("Customer {id} does not exist")));
        }
        Some(id) => Some(id),
        None => idorder.and_then(|o| w.orders.get(&o)).and_then(|o| o.idcustomer),
    };
    let idreturn_status = match f.u64("idreturn_status")? {
        Some(id) => check_status(w, id)?,
        None => w
            .return_statuses
            .iter()
            .find(|s| s.default)
            .map(|s| s.idreturn_status)
            .ok_or_else(|| ApiError::missing("idreturn_status"))?,
    };
    let mut text = BTreeMap::new();
    apply_text(&mut text, body)?;
    if let Some(id) = idorder {
        from_order(w, id, &mut text);
    }
    if let Some(id) = idcustomer {
        from_customer(w, id, &mut text);
    }
    if !text.contains_key("name") {
        return Err(ApiError::missing("name"));
    }
    let requested = match f.objects("returned_products")? {
        Some(v) => v,
        None => f.objects("products")?.unwrap_or_default(),
    };
    let mut lines = Vec::new();
    for line in requested {
        lines.push(resolve_line(w, idorder, line)?);
    }
    let id = w.ids.ret.take();
    for line in &mut lines {
        line.idreturn_product = w.ids.return_line.take();
    }
    let now = w.now();
    let r = Return {
        idreturn: id,
        returnid: (40_250_000 + id - 60_000_000).to_string(),
        idcustomer,
        idorder,
        idreturn_status,
        idtemplate: f.u64("idtemplate")?,
        text,
        lines,
        logs: Vec::new(),
        created: now,
        updated: now,
    };
    w.returns.insert(id, r);
    emit_return(w, "returns.created", id);
    Ok(id)
}

fn return_mut(w: &mut World, id: u64) -> ApiResult<&mut Return> {
    w.returns.get_mut(&id).ok_or_else(|| ApiError::not_found("Return"))
}

/// `PUT /returns/{id}` (text fields). Event: returns.changed.
pub fn update(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<()> {
    let now = w.now();
    let r = return_mut(w, id)?;
    let mut text = r.text.clone();
    apply_text(&mut text, body)?;
    r.text = text;
    r.updated = now;
    emit_return(w, "returns.changed", id);
    Ok(())
}

/// `POST /returns/{id}/logs` with `{"idreturn_status": N?, "message": ".."?}`.
/// A new status fires returns.status_changed.
pub fn add_log(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<Value> {
    let f = Fields(body);
    let status = f.u64("idreturn_status")?.map(|s| check_status(w, s)).transpose()?;
    let message = f.str("message")?.unwrap_or_default();
    if status.is_none() && message.is_empty() {
        return Err(ApiError::missing("idreturn_status or message"));
    }
    let log = ReturnLog { idreturn_log: w.ids.return_log.take(), idreturn_status: status, message, created: w.now() };
    let json = log_json(&log);
    let now = w.now();
    let r = return_mut(w, id)?;
    let changed = status.is_some_and(|s| s != r.idreturn_status);
    if let Some(s) = status {
        r.idreturn_status = s;
    }
    r.logs.push(log);
    r.updated = now;
    if changed {
        emit_return(w, "returns.status_changed", id);
    }
    Ok(json)
}

/// `POST /returns/{id}/returned_products`. Event: returns.changed.
pub fn add_line(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<Value> {
    let idorder = w.returns.get(&id).ok_or_else(|| ApiError::not_found("Return"))?.idorder;
    let mut line = resolve_line(w, idorder, body)?;
    line.idreturn_product = w.ids.return_line.take();
    let json = line_json(&line);
    return_mut(w, id)?.lines.push(line);
    emit_return(w, "returns.changed", id);
    Ok(json)
}

/// `DELETE /returns/{id}/returned_products/{idreturn_product}` (only while nothing is received).
pub fn delete_line(w: &mut World, id: u64, idline: u64) -> ApiResult<()> {
    let r = return_mut(w, id)?;
    let line =
        r.lines.iter().find(|l| l.idreturn_product == idline).ok_or_else(|| ApiError::not_found("Returned product"))?;
    if line.amount_received > 0 {
        return Err(ApiError::rule("Returned product was already received"));
    }
    r.lines.retain(|l| l.idreturn_product != idline);
    emit_return(w, "returns.changed", id);
    Ok(())
}

/// `POST /returns/{id}/receive` with optional `{"idwarehouse": N, "products":
/// [{"idreturn_product"|"idproduct": N, "amount": N}]}` (body GUESS). Without `products`, everything still
/// outstanding is received, into the highest-priority warehouse accepting orders.
/// Events: returns.products_received, then the stock events.
pub fn receive(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<()> {
    let f = Fields(body);
    let widx = match f.u64("idwarehouse")? {
        Some(idw) => w.warehouse_index(idw).ok_or_else(|| ApiError::bad_request(format!("Unknown warehouse {idw}")))?,
        None => super::purchasing::default_warehouse(w),
    };
    let r = w.returns.get(&id).cloned().ok_or_else(|| ApiError::not_found("Return"))?;
    let mut plan: Vec<(usize, i64)> = Vec::new();
    match f.objects("products")? {
        Some(items) => {
            for item in items {
                let pf = Fields(item);
                // The body is undocumented (GUESS): a line is named by its `idreturn_product`, or
                // by `idproduct` (the first line of that product with something left to receive).
                let li =
                    match (pf.u64("idreturn_product")?, pf.u64("idproduct")?) {
                        (Some(idl), _) => r.lines.iter().position(|l| l.idreturn_product == idl).ok_or_else(|| {
                            ApiError::bad_request(format!("Returned product {idl} is not on the return"))
                        })?,
                        (None, Some(idp)) => {
                            r.lines.iter().position(|l| l.idproduct == idp && l.amount > l.amount_received).ok_or_else(
                                || ApiError::bad_request(format!("Product {idp} has nothing left to receive")),
                            )?
                        }
                        (None, None) => return Err(ApiError::missing("idreturn_product or idproduct")),
                    };
                let idl = r.lines[li].idreturn_product;
                let open = r.lines[li].amount - r.lines[li].amount_received;
                let n = pf.i64("amount")?.unwrap_or(open);
                if n <= 0 || n > open {
                    return Err(ApiError::rule(format!("Can receive at most {open} of returned product {idl}")));
                }
                plan.push((li, n));
            }
        }
        None => plan
            .extend(r.lines.iter().enumerate().map(|(i, l)| (i, l.amount - l.amount_received)).filter(|(_, n)| *n > 0)),
    }
    if plan.is_empty() {
        return Err(ApiError::rule("Nothing left to receive on this return"));
    }
    for &(li, n) in &plan {
        let idproduct = r.lines[li].idproduct;
        w.add_stock(idproduct, widx, n, &format!("Return {}", r.returnid))?;
        if let Some(line) = w.returns.get_mut(&id).and_then(|r| r.lines.get_mut(li)) {
            line.amount_received += n;
        }
    }
    let now = w.now();
    return_mut(w, id)?.updated = now;
    emit_return(w, "returns.products_received", id);
    w.flush_stock_events();
    Ok(())
}
