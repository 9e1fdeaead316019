//! Purchase orders: concept → purchased → received, or cancelled.

use serde_json::{Map, Value, json};

use super::{World, money, opt_str, ts, ts_opt};
use crate::picqer::errors::{ApiError, ApiResult, code};
use crate::picqer::extract::Fields;

#[derive(Clone, Debug)]
pub struct PoLine {
    pub idpurchaseorder_product: u64,
    pub idproduct: u64,
    pub idvatgroup: u64,
    pub productcode: String,
    pub productcode_supplier: Option<String>,
    pub name: String,
    pub price: i64,
    pub amount: i64,
    pub amountreceived: i64,
    pub weight: Option<i64>,
    pub delivery_date: Option<String>,
}

#[derive(Clone, Debug)]
pub struct PurchaseOrder {
    pub idpurchaseorder: u64,
    pub purchaseorderid: String,
    pub idsupplier: Option<u64>,
    pub supplier_name: String,
    pub supplier_orderid: Option<String>,
    pub idwarehouse: u64,
    pub widx: usize,
    pub status: String,
    pub remarks: Option<String>,
    pub delivery_date: Option<String>,
    pub language: String,
    pub lines: Vec<PoLine>,
    pub created: i64,
    pub updated: i64,
    pub purchased_at: Option<i64>,
}

impl PurchaseOrder {
    pub fn fully_received(&self) -> bool {
        self.lines.iter().all(|l| l.amountreceived >= l.amount)
    }
}

/// The highest-priority active warehouse that accepts orders (Picqer's documented default for
/// purchase orders), else the first.
pub fn default_warehouse(w: &World) -> usize {
    (0..w.warehouses.len())
        .filter(|&i| w.warehouses[i].accept_orders && w.warehouses[i].active)
        .min_by_key(|&i| w.warehouses[i].priority)
        .unwrap_or(0)
}

pub fn po_line_json(l: &PoLine) -> Value {
    json!({
        "idpurchaseorder_product": l.idpurchaseorder_product,
        "idproduct": l.idproduct,
        "idvatgroup": l.idvatgroup,
        "productcode": l.productcode,
        "productcode_supplier": opt_str(&l.productcode_supplier),
        "name": l.name,
        "price": money(l.price),
        "amount": l.amount,
        "amountreceived": l.amountreceived,
        "weight": l.weight,
        "delivery_date": opt_str(&l.delivery_date),
    })
}

/// The purchase order in its GET shape (also the `purchase_orders.*` webhook data).
pub fn po_json(p: &PurchaseOrder) -> Value {
    let lines: Vec<Value> = p.lines.iter().map(po_line_json).collect();
    json!({
        "idpurchaseorder": p.idpurchaseorder,
        "idsupplier": p.idsupplier,
        "idtemplate": null,
        "idwarehouse": p.idwarehouse,
        "idfulfilment_customer": null,
        "purchaseorderid": p.purchaseorderid,
        "supplier_name": p.supplier_name,
        "supplier_orderid": opt_str(&p.supplier_orderid),
        "status": p.status,
        "remarks": opt_str(&p.remarks),
        "delivery_date": opt_str(&p.delivery_date),
        "language": p.language,
        "purchased_at": ts_opt(p.purchased_at),
        "created": ts(p.created),
        "updated": ts(p.updated),
        "products": lines,
    })
}

pub fn emit_po(w: &mut World, event: &'static str, id: u64) {
    if let Some(p) = w.purchaseorders.get(&id) {
        w.emit(event, po_json(p));
    }
}

fn resolve_line(w: &World, body: &Map<String, Value>) -> ApiResult<PoLine> {
    let f = Fields(body);
    let idproduct = match (f.u64("idproduct")?, f.str("productcode")?) {
        (Some(id), _) => id,
        (None, Some(pc)) => w.products.by_code(&pc).unwrap_or(0),
        (None, None) => return Err(ApiError::code400(code::NO_PRODUCT_GIVEN, "No product given")),
    };
    let p = w
        .products
        .get(idproduct)
        .ok_or_else(|| ApiError::code400(code::PRODUCT_NOT_EXIST, "Product does not exist"))?;
    let amount = f.req_i64("amount")?;
    if amount <= 0 {
        return Err(ApiError::bad_request("amount must be positive"));
    }
    Ok(PoLine {
        idpurchaseorder_product: 0,
        idproduct,
        idvatgroup: p.idvatgroup,
        productcode: p.productcode.clone(),
        productcode_supplier: p.productcode_supplier.clone(),
        name: p.name.clone(),
        price: f.cents("price")?.or(p.fixedstockprice).unwrap_or(p.price),
        amount,
        amountreceived: 0,
        weight: p.weight,
        delivery_date: f.str("delivery_date")?,
    })
}

/// `POST /purchaseorders`: `idsupplier` (or `supplier_name`) and `products` are required.
pub fn create(w: &mut World, body: &Map<String, Value>) -> ApiResult<u64> {
    let f = Fields(body);
    let (idsupplier, supplier_name) = match f.u64("idsupplier")? {
        Some(id) => {
            let s =
                w.suppliers.get(&id).ok_or_else(|| ApiError::bad_request(format!("Supplier {id} does not exist")))?;
            (Some(id), s.name.clone())
        }
        None => (None, f.req_str("supplier_name").map_err(|_| ApiError::missing("idsupplier"))?),
    };
    let widx = match f.u64("idwarehouse")? {
        Some(idw) => w.warehouse_index(idw).ok_or_else(|| ApiError::bad_request(format!("Unknown warehouse {idw}")))?,
        None => default_warehouse(w),
    };
    let requested = f.objects("products")?.unwrap_or_default();
    if requested.is_empty() {
        return Err(ApiError::missing("products"));
    }
    let mut lines = Vec::new();
    for line in requested {
        lines.push(resolve_line(w, line)?);
    }
    let id = w.ids.purchaseorder.take();
    for line in &mut lines {
        line.idpurchaseorder_product = w.ids.purchaseorder_line.take();
    }
    let now = w.now();
    let po = PurchaseOrder {
        idpurchaseorder: id,
        purchaseorderid: (50_250_000 + id - 70_000_000).to_string(),
        idsupplier,
        supplier_name,
        supplier_orderid: f.str("supplier_orderid")?,
        idwarehouse: w.warehouses.get(widx).map_or(0, |x| x.idwarehouse),
        widx,
        status: "concept".into(),
        remarks: f.str("remarks")?,
        delivery_date: f.str("delivery_date")?,
        language: f.str("language")?.unwrap_or_else(|| "nl".into()),
        lines,
        created: now,
        updated: now,
        purchased_at: None,
    };
    w.purchaseorders.insert(id, po);
    emit_po(w, "purchase_orders.created", id);
    Ok(id)
}

fn po_mut(w: &mut World, id: u64) -> ApiResult<&mut PurchaseOrder> {
    w.purchaseorders.get_mut(&id).ok_or_else(|| ApiError::not_found("Purchase order"))
}

fn touch_changed(w: &mut World, id: u64) {
    let now = w.now();
    if let Some(p) = w.purchaseorders.get_mut(&id) {
        p.updated = now;
    }
    emit_po(w, "purchase_orders.changed", id);
}

/// `PUT /purchaseorders/{id}`: remarks, supplier_orderid, delivery_date, language.
pub fn update(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<()> {
    let f = Fields(body);
    let mut next = w.purchaseorders.get(&id).cloned().ok_or_else(|| ApiError::not_found("Purchase order"))?;
    if matches!(next.status.as_str(), "received" | "cancelled") {
        return Err(ApiError::rule(format!("Purchase order is {}", next.status)));
    }
    for (key, slot) in [
        ("remarks", &mut next.remarks),
        ("supplier_orderid", &mut next.supplier_orderid),
        ("delivery_date", &mut next.delivery_date),
    ] {
        if body.contains_key(key) {
            *slot = f.str(key)?;
        }
    }
    if let Some(v) = f.str("language")? {
        next.language = v;
    }
    *po_mut(w, id)? = next;
    touch_changed(w, id);
    Ok(())
}

/// `POST /purchaseorders/{id}/products` (concept only).
pub fn add_line(w: &mut World, id: u64, body: &Map<String, Value>) -> ApiResult<Value> {
    if po_mut(w, id)?.status != "concept" {
        return Err(ApiError::rule("Products can only be added to concept purchase orders"));
    }
    let mut line = resolve_line(w, body)?;
    line.idpurchaseorder_product = w.ids.purchaseorder_line.take();
    let json = po_line_json(&line);
    po_mut(w, id)?.lines.push(line);
    touch_changed(w, id);
    Ok(json)
}

/// `DELETE /purchaseorders/{id}/products/{idline}` (concept only).
pub fn delete_line(w: &mut World, id: u64, idline: u64) -> ApiResult<()> {
    let po = po_mut(w, id)?;
    if po.status != "concept" {
        return Err(ApiError::rule("Products can only be removed from concept purchase orders"));
    }
    let before = po.lines.len();
    po.lines.retain(|l| l.idpurchaseorder_product != idline);
    if po.lines.len() == before {
        return Err(ApiError::not_found("Purchase order product"));
    }
    touch_changed(w, id);
    Ok(())
}

/// `POST /purchaseorders/{id}/mark-as-purchased`: concept → purchased.
/// Events: purchase_orders.changed, purchase_orders.purchased.
pub fn mark_purchased(w: &mut World, id: u64) -> ApiResult<()> {
    let now = w.now();
    let po = po_mut(w, id)?;
    if po.status != "concept" {
        return Err(ApiError::rule(format!("Purchase order is already {}", po.status)));
    }
    po.status = "purchased".into();
    po.purchased_at = Some(now);
    touch_changed(w, id);
    emit_po(w, "purchase_orders.purchased", id);
    Ok(())
}

/// `POST /purchaseorders/{id}/cancel`: only while nothing has been received.
pub fn cancel(w: &mut World, id: u64) -> ApiResult<()> {
    let po = po_mut(w, id)?;
    if !matches!(po.status.as_str(), "concept" | "purchased") || po.lines.iter().any(|l| l.amountreceived > 0) {
        return Err(ApiError::rule(format!("Purchase order cannot be cancelled ({})", po.status)));
    }
    po.status = "cancelled".into();
    touch_changed(w, id);
    Ok(())
}

/// Records `amount` received on a line; the purchase order becomes `received` when every line
/// is complete (event: purchase_orders.changed). Returns the part beyond what was ordered.
pub fn record_received(w: &mut World, id: u64, idline: u64, amount: i64) -> i64 {
    let Some(po) = w.purchaseorders.get_mut(&id) else { return 0 };
    let Some(line) = po.lines.iter_mut().find(|l| l.idpurchaseorder_product == idline) else {
        return 0;
    };
    let open = (line.amount - line.amountreceived).max(0);
    line.amountreceived += amount;
    let excess = (amount - open).max(0);
    if po.status == "purchased" && po.fully_received() {
        po.status = "received".into();
        touch_changed(w, id);
    }
    excess
}
