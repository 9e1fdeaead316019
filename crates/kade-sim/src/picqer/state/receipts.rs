//! Receipts (v2): goods arriving for a purchase order. Receiving adds physical stock in the
//! receipt's warehouse and counts against the purchase order's lines.

use serde_json::{Map, Value, json};

use super::purchasing::{default_warehouse, record_received};
use super::{World, ts, ts_opt};
use crate::picqer::errors::{ApiError, ApiResult};
use crate::picqer::extract::Fields;

#[derive(Clone, Debug)]
pub struct ReceiptLine {
    pub idreceipt_product: u64,
    pub idproduct: u64,
    pub idpurchaseorder_product: Option<u64>,
    pub productcode: String,
    pub name: String,
    pub amount: i64,
    pub excessive: i64,
    pub created: i64,
}

#[derive(Clone, Debug)]
pub struct Receipt {
    pub idreceipt: u64,
    pub receiptid: String,
    pub idwarehouse: u64,
    pub widx: usize,
    pub idpurchaseorder: Option<u64>,
    pub idsupplier: Option<u64>,
    /// `processing` or `completed`.
    pub status: String,
    pub remarks: Option<String>,
    pub lines: Vec<ReceiptLine>,
    pub completed_at: Option<i64>,
    pub created: i64,
    pub updated: i64,
}

/// The receipt in its GET shape (also the `receipts.*` webhook data).
pub fn receipt_json(w: &World, r: &Receipt) -> Value {
    let supplier = r
        .idsupplier
        .and_then(|id| w.suppliers.get(&id))
        .map_or(Value::Null, |s| json!({"idsupplier": s.idsupplier, "name": s.name}));
    let po = r
        .idpurchaseorder
        .and_then(|id| w.purchaseorders.get(&id))
        .map_or(Value::Null, |p| json!({"idpurchaseorder": p.idpurchaseorder, "purchaseorderid": p.purchaseorderid}));
    let lines: Vec<Value> = r
        .lines
        .iter()
        .map(|l| {
            json!({
                "idreceipt_product": l.idreceipt_product,
                "idpurchaseorder_product": l.idpurchaseorder_product,
                "idproduct": l.idproduct,
                "productcode": l.productcode,
                "name": l.name,
                "amount": l.amount,
                "amount_excessive": l.excessive,
                "created": ts(l.created),
            })
        })
        .collect();
    json!({
        "idreceipt": r.idreceipt,
        "idwarehouse": r.idwarehouse,
        "version": 2,
        "supplier": supplier,
        "purchaseorder": po,
        "receiptid": r.receiptid,
        "status": r.status,
        "remarks": r.remarks,
        "completed_by": null,
        "amount_received": r.lines.iter().map(|l| l.amount).sum::<i64>(),
        "amount_received_excessive": r.lines.iter().map(|l| l.excessive).sum::<i64>(),
        "completed_at": ts_opt(r.completed_at),
        "created": ts(r.created),
        "updated": ts(r.updated),
        "products": lines,
    })
}

pub fn emit_receipt(w: &mut World, event: &'static str, id: u64) {
    if let Some(r) = w.receipts.get(&id) {
        let data = receipt_json(w, r);
        w.emit(event, data);
    }
}

/// `POST /receipts` with `idpurchaseorder` (which must be purchased) or `idsupplier`.
pub fn create(w: &mut World, body: &Map<String, Value>) -> ApiResult<u64> {
    let f = Fields(body);
    let idpurchaseorder = f.u64("idpurchaseorder")?;
    let (idsupplier, widx) = match idpurchaseorder {
        Some(id) => {
            let po = w
                .purchaseorders
                .get(&id)
                .ok_or_else(|| ApiError::bad_request(format!("Purchase order {id} does not exist")))?;
            if po.status != "purchased" {
                return Err(ApiError::rule(format!(
                    "Purchase order is {}; only purchased orders can be received",
                    po.status
                )));
            }
            (po.idsupplier, po.widx)
        }
        None => {
            let id = f.req_u64("idsupplier").map_err(|_| ApiError::missing("idpurchaseorder"))?;
            if !w.suppliers.contains_key(&id) {
                return Err(ApiError::bad_request(format!("Supplier {id} does not exist")));
            }
            (Some(id), default_warehouse(w))
        }
    };
    let id = w.ids.receipt.take();
    let now = w.now();
    let receipt = Receipt {
        idreceipt: id,
        receiptid: (60_250_000 + id - 80_000_000).to_string(),
        idwarehouse: w.warehouses.get(widx).map_or(0, |x| x.idwarehouse),
        widx,
        idpurchaseorder,
        idsupplier,
        status: "processing".into(),
        remarks: f.str("remarks")?,
        lines: Vec::new(),
        completed_at: None,
        created: now,
        updated: now,
    };
    w.receipts.insert(id, receipt);
    emit_receipt(w, "receipts.created", id);
    Ok(id)
}

fn open_receipt(w: &World, id: u64) -> ApiResult<Receipt> {
    let r = w.receipts.get(&id).cloned().ok_or_else(|| ApiError::not_found("Receipt"))?;
    if r.status != "processing" {
        return Err(ApiError::rule("Receipt is already completed"));
    }
    Ok(r)
}

/// Adds `amount` of a product to the receipt, the stock, and the purchase order line.
fn receive_one(w: &mut World, r: &Receipt, idproduct: u64, amount: i64, force: bool) -> ApiResult<()> {
    let po_line = r
        .idpurchaseorder
        .and_then(|id| w.purchaseorders.get(&id))
        .and_then(|po| po.lines.iter().find(|l| l.idproduct == idproduct).map(|l| l.idpurchaseorder_product));
    if po_line.is_none() && !force {
        return Err(ApiError::rule("Product is not on the purchase order; add force=true to receive it anyway"));
    }
    let (code, name) = w
        .products
        .get(idproduct)
        .map(|p| (p.productcode.clone(), p.name.clone()))
        .ok_or_else(|| ApiError::bad_request(format!("Product {idproduct} does not exist")))?;
    w.add_stock(idproduct, r.widx, amount, &format!("Receipt {}", r.receiptid))?;
    // Stock events first, so a purchase order completed by this line reports after them.
    w.flush_stock_events();
    let excessive = match (r.idpurchaseorder, po_line) {
        (Some(po), Some(line)) => record_received(w, po, line, amount),
        _ => amount,
    };
    let line = ReceiptLine {
        idreceipt_product: w.ids.receipt_line.take(),
        idproduct,
        idpurchaseorder_product: po_line,
        productcode: code,
        name,
        amount,
        excessive,
        created: w.now(),
    };
    let now = w.now();
    if let Some(x) = w.receipts.get_mut(&r.idreceipt) {
        x.lines.push(line);
        x.updated = now;
    }
    Ok(())
}

/// `POST /receipts/{id}/products` with `{idproduct, amount}` (`force` to accept products that are
/// not on the purchase order). Events: receipts.product_received, stock events,
/// purchase_orders.changed when that completed the purchase order.
pub fn add_product(w: &mut World, id: u64, body: &Map<String, Value>, force: bool) -> ApiResult<()> {
    let r = open_receipt(w, id)?;
    let f = Fields(body);
    let idproduct = f.req_u64("idproduct")?;
    let amount = f.i64("amount")?.unwrap_or(1);
    if amount <= 0 {
        return Err(ApiError::bad_request("amount must be positive"));
    }
    let force = force || f.bool("force")?.unwrap_or(false);
    let pending = w.take_events();
    receive_one(w, &r, idproduct, amount, force)?;
    // Put the receipt event before the stock and purchase-order events it caused.
    let caused = w.take_events();
    for (event, data) in pending {
        w.emit(event, data);
    }
    emit_receipt(w, "receipts.product_received", id);
    for (event, data) in caused {
        w.emit(event, data);
    }
    Ok(())
}

/// `POST /receipts/{id}/mark-all-received`: receives whatever the purchase order still expects,
/// then completes the receipt. Events: receipts.product_received (when anything arrived),
/// stock events, purchase_orders.changed, receipts.completed.
pub fn mark_all_received(w: &mut World, id: u64) -> ApiResult<()> {
    let r = open_receipt(w, id)?;
    let open: Vec<(u64, i64)> = r
        .idpurchaseorder
        .and_then(|po| w.purchaseorders.get(&po))
        .map(|po| po.lines.iter().map(|l| (l.idproduct, l.amount - l.amountreceived)).filter(|(_, n)| *n > 0).collect())
        .unwrap_or_default();
    let pending = w.take_events();
    for (idproduct, n) in &open {
        receive_one(w, &r, *idproduct, *n, false)?;
    }
    let caused = w.take_events();
    for (event, data) in pending {
        w.emit(event, data);
    }
    if !open.is_empty() {
        emit_receipt(w, "receipts.product_received", id);
    }
    for (event, data) in caused {
        w.emit(event, data);
    }
    let now = w.now();
    if let Some(x) = w.receipts.get_mut(&id) {
        x.status = "completed".into();
        x.completed_at = Some(now);
        x.updated = now;
    }
    emit_receipt(w, "receipts.completed", id);
    Ok(())
}
