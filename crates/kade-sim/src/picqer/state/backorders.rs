//! Backorders: order lines waiting for stock. Picqer makes them while processing an order; the
//! API can list, delete, and process them (turn them into picklists once stock is there).
//! Picqer fires no backorder events; their effect shows in stock and picklist events.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::picking::check_completion;
use super::picklists::{create_for_order, emit_picklist};
use super::{World, ts};
use crate::picqer::errors::{ApiError, ApiResult};

#[derive(Clone, Debug)]
pub struct Backorder {
    pub idbackorder: u64,
    pub idorder: u64,
    pub idorder_product: u64,
    /// Index of the order line.
    pub line: usize,
    pub idproduct: u64,
    pub idcustomer: Option<u64>,
    pub idwarehouse: u64,
    pub widx: usize,
    pub amount: i64,
    pub created: i64,
    /// When the products are expected (`date_available`, "YYYY-MM-DD"). Picqer derives it from
    /// purchase orders; the simulator lets the control API set it.
    pub date_available: Option<String>,
}

/// Stock that backorders may claim: physical stock not promised to picklists or allocations.
fn claimable(w: &World, idproduct: u64, widx: usize) -> i64 {
    w.level(idproduct, widx).map_or(0, |l| l.stock - l.reservedpicklists - l.reservedallocations)
}

pub fn backorder_json(w: &World, b: &Backorder) -> Value {
    // Earlier backorders for the same product get first claim on the stock.
    let ahead: i64 = w
        .backorders
        .values()
        .take_while(|x| x.idbackorder < b.idbackorder)
        .filter(|x| x.idproduct == b.idproduct && x.widx == b.widx)
        .map(|x| x.amount)
        .sum();
    let available = (claimable(w, b.idproduct, b.widx) - ahead).clamp(0, b.amount);
    json!({
        "idbackorder": b.idbackorder,
        "idorder": b.idorder,
        "idorder_product": b.idorder_product,
        "idproduct": b.idproduct,
        "idcustomer": b.idcustomer,
        "idwarehouse": b.idwarehouse,
        "amount": b.amount,
        "amount_available": available,
        "priority": 0,
        "is_purchased": false,
        "has_parts": false,
        "part_of_idbackorder": null,
        "date_available": b.date_available,
        "created_at": ts(b.created),
    })
}

/// Creates a backorder for `amount` of order line `line`, reserving it (`reservedbackorders`).
pub fn create(w: &mut World, idorder: u64, line: usize, widx: usize, amount: i64) {
    let Some(o) = w.orders.get(&idorder) else { return };
    let Some(l) = o.lines.get(line) else { return };
    let Some(idwarehouse) = w.warehouses.get(widx).map(|x| x.idwarehouse) else {
        return;
    };
    let b = Backorder {
        idbackorder: w.ids.backorder.take(),
        idorder,
        idorder_product: l.idorder_product,
        line,
        idproduct: l.idproduct,
        idcustomer: o.idcustomer,
        idwarehouse,
        widx,
        amount,
        created: w.now(),
        date_available: None,
    };
    if let Some(level) = w.level_mut(b.idproduct, widx) {
        level.reservedbackorders += amount;
    }
    w.backorders.insert(b.idbackorder, b);
}

pub fn of_order(w: &World, idorder: u64) -> Vec<u64> {
    w.backorders.values().filter(|b| b.idorder == idorder).map(|b| b.idbackorder).collect()
}

/// Drops a backorder and its reservation.
pub fn remove(w: &mut World, id: u64) -> Option<Backorder> {
    let b = w.backorders.remove(&id)?;
    if let Some(level) = w.level_mut(b.idproduct, b.widx) {
        level.reservedbackorders -= b.amount;
    }
    Some(b)
}

/// `DELETE /backorders/{id}`: the products will not be delivered (`amount_cancelled` grows), and
/// the order may complete.
pub fn delete(w: &mut World, id: u64) -> ApiResult<Value> {
    let json = w.backorders.get(&id).map(|b| backorder_json(w, b)).ok_or_else(|| ApiError::not_found("Backorder"))?;
    if let Some(b) = remove(w, id) {
        if let Some(line) = w.orders.get_mut(&b.idorder).and_then(|o| o.lines.get_mut(b.line)) {
            line.amount_cancelled += b.amount;
        }
        w.flush_stock_events();
        check_completion(w, b.idorder);
    }
    Ok(json)
}

/// `POST /backorders/process` (all orders) and `POST /orders/{id}/process-backorders`:
/// turns backorders into picklists where stock allows, oldest first. Orders without
/// `partialdelivery` only move when all their backorders can be served at once. Orders that are
/// not `processing` (e.g. paused) are skipped. Returns the new picklist ids.
pub fn process(w: &mut World, only_order: Option<u64>) -> Vec<u64> {
    let orders: BTreeSet<u64> =
        w.backorders.values().filter(|b| only_order.is_none_or(|id| id == b.idorder)).map(|b| b.idorder).collect();
    let mut created = Vec::new();
    for idorder in orders {
        let Some(o) = w.orders.get(&idorder) else { continue };
        if o.status != "processing" {
            continue;
        }
        let partial = o.partialdelivery;
        let mine: Vec<Backorder> = w.backorders.values().filter(|b| b.idorder == idorder).cloned().collect();
        let mut taken: BTreeMap<(u64, usize), i64> = BTreeMap::new();
        let mut plan = Vec::new();
        for b in &mine {
            let used = taken.entry((b.idproduct, b.widx)).or_default();
            let n = (claimable(w, b.idproduct, b.widx) - *used).clamp(0, b.amount);
            *used += n;
            plan.push((b.clone(), n));
        }
        if plan.iter().all(|(_, n)| *n == 0) || (!partial && plan.iter().any(|(b, n)| *n < b.amount)) {
            continue;
        }
        let mut by_warehouse: BTreeMap<usize, Vec<(usize, i64)>> = BTreeMap::new();
        for (b, n) in plan.into_iter().filter(|(_, n)| *n > 0) {
            if let Some(level) = w.level_mut(b.idproduct, b.widx) {
                level.reservedbackorders -= n;
            }
            if b.amount == n {
                w.backorders.remove(&b.idbackorder);
            } else if let Some(x) = w.backorders.get_mut(&b.idbackorder) {
                x.amount -= n;
            }
            by_warehouse.entry(b.widx).or_default().push((b.line, n));
        }
        for (widx, picks) in by_warehouse {
            if let Some(pid) = create_for_order(w, idorder, widx, &picks) {
                emit_picklist(w, "picklists.created", pid);
                created.push(pid);
            }
        }
    }
    w.flush_stock_events();
    created
}

/// Sets (or with `None` clears) when a backorder's products are expected.
pub fn set_date_available(w: &mut World, id: u64, date: Option<String>) -> ApiResult<Value> {
    if let Some(d) = &date {
        let ok = d.len() == 10
            && d.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
        if !ok {
            return Err(ApiError::bad_request("date_available must be formatted as YYYY-MM-DD"));
        }
    }
    let b = w.backorders.get_mut(&id).ok_or_else(|| ApiError::not_found("Backorder"))?;
    b.date_available = date;
    Ok(w.backorders.get(&id).map(|b| backorder_json(w, b)).unwrap_or(Value::Null))
}
