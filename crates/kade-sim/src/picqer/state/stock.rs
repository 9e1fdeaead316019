//! Stock arithmetic per product per warehouse, and the stock events it causes.
//!
//! The relations (observed in real payloads, not documented — GUESS, see docs/simulators.md):
//! `reserved = reservedbackorders + reservedpicklists + reservedallocations` and
//! `freestock = stock - reserved` (negative when backorders wait for stock). The simulator has no
//! bulk locations, so `freepickablestock = freestock`.
//!
//! Every mutation goes through [`World::level_mut`], which snapshots the product the first time
//! an operation touches it; [`World::flush_stock_events`] then compares and fires
//! `products.stock_changed` (physical stock moved) and `products.free_stock_changed` (free stock
//! moved, or physical stock moved — Picqer recomputes free stock on every stock mutation, GUESS).

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::products::emit_product;
use super::{StockSnapshot, World};
use crate::picqer::errors::{ApiError, ApiResult};
use crate::picqer::extract::Fields;

#[derive(Clone, Debug, Default)]
pub struct StockLevel {
    pub idwarehouse: u64,
    pub stock: i64,
    pub reservedbackorders: i64,
    pub reservedpicklists: i64,
    pub reservedallocations: i64,
}

impl StockLevel {
    pub fn reserved(&self) -> i64 {
        self.reservedbackorders + self.reservedpicklists + self.reservedallocations
    }
    pub fn free(&self) -> i64 {
        self.stock - self.reserved()
    }
}

pub fn stock_json(l: &StockLevel) -> Value {
    json!({
        "idwarehouse": l.idwarehouse,
        "stock": l.stock,
        "reserved": l.reserved(),
        "reservedbackorders": l.reservedbackorders,
        "reservedpicklists": l.reservedpicklists,
        "reservedallocations": l.reservedallocations,
        "freestock": l.free(),
        "freepickablestock": l.free(),
    })
}

/// A row of `GET /stockhistory`.
#[derive(Clone, Debug, Serialize)]
pub struct HistoryRow {
    pub idproduct_stock_history: u64,
    pub idproduct: u64,
    pub idwarehouse: u64,
    pub iduser: Option<u64>,
    pub idlocation: Option<u64>,
    pub old_stock: i64,
    pub stock_change: i64,
    pub new_stock: i64,
    pub reason: String,
    pub change_type: String,
    pub changed_at: String,
}

fn snapshot(levels: &[StockLevel]) -> StockSnapshot {
    StockSnapshot {
        stock: levels.iter().map(|l| l.stock).collect(),
        free: levels.iter().map(StockLevel::free).collect(),
    }
}

impl World {
    /// Mutable stock of a product in the warehouse at `widx`, remembering the state before the
    /// current operation so the right events fire afterwards.
    pub fn level_mut(&mut self, idproduct: u64, widx: usize) -> Option<&mut StockLevel> {
        let product = self.products.get_mut(idproduct)?;
        self.touched.entry(idproduct).or_insert_with(|| snapshot(&product.stock));
        product.stock.get_mut(widx)
    }

    pub fn level(&self, idproduct: u64, widx: usize) -> Option<&StockLevel> {
        self.products.get(idproduct)?.stock.get(widx)
    }

    /// Fires the stock events for every product touched since the last flush, in id order.
    pub fn flush_stock_events(&mut self) {
        let touched = std::mem::take(&mut self.touched);
        for (id, before) in touched {
            let Some(p) = self.products.get(id) else {
                continue;
            };
            let after = snapshot(&p.stock);
            let physical = after.stock != before.stock;
            if physical {
                emit_product(self, "products.stock_changed", id);
            }
            if physical || after.free != before.free {
                emit_product(self, "products.free_stock_changed", id);
            }
        }
    }

    /// Records a physical stock change in the history log.
    pub fn log_stock(&mut self, idproduct: u64, widx: usize, old: i64, new: i64, reason: &str) {
        let Some(idwarehouse) = self.warehouses.get(widx).map(|w| w.idwarehouse) else {
            return;
        };
        let row = HistoryRow {
            idproduct_stock_history: self.ids.stock_history.take(),
            idproduct,
            idwarehouse,
            iduser: None,
            idlocation: None,
            old_stock: old,
            stock_change: new - old,
            new_stock: new,
            reason: reason.to_owned(),
            change_type: "change".into(),
            changed_at: crate::clock::format_datetime(self.now()),
        };
        self.stock_history.push(row);
    }

    /// Adds (or removes, when negative) physical stock, e.g. on receipt or picklist close.
    /// Refuses to go negative or below what picklists reserved.
    pub fn add_stock(&mut self, idproduct: u64, widx: usize, delta: i64, reason: &str) -> ApiResult<()> {
        let level = self.level(idproduct, widx).ok_or_else(|| ApiError::not_found("Product"))?;
        let old = level.stock;
        let new = old.checked_add(delta).ok_or_else(|| ApiError::bad_request("Stock change is out of range"))?;
        check_new_stock(new, level.reservedpicklists)?;
        if let Some(l) = self.level_mut(idproduct, widx) {
            l.stock = new;
        }
        if delta != 0 {
            self.log_stock(idproduct, widx, old, new, reason);
        }
        Ok(())
    }
}

fn check_new_stock(new: i64, reservedpicklists: i64) -> ApiResult<()> {
    if new < 0 {
        return Err(ApiError::rule("Stock cannot be negative"));
    }
    if new < reservedpicklists {
        return Err(ApiError::rule(format!(
            "Stock cannot be lower than the amount reserved for picklists ({reservedpicklists})"
        )));
    }
    Ok(())
}

/// `POST /products/{id}/stock/{idwarehouse}` with `{"change":N}` or `{"amount":N}` and `reason`.
/// Returns the new stock entry.
pub fn change_stock(w: &mut World, idproduct: u64, idwarehouse: u64, body: &Map<String, Value>) -> ApiResult<Value> {
    if w.products.get(idproduct).is_none() {
        return Err(ApiError::not_found("Product"));
    }
    let widx = w.warehouse_index(idwarehouse).ok_or_else(|| ApiError::not_found("Warehouse"))?;
    let f = Fields(body);
    let reason = f.str("reason")?.unwrap_or_default();
    let old = w.level(idproduct, widx).map_or(0, |l| l.stock);
    let delta = match (f.i64("change")?, f.i64("amount")?) {
        (Some(change), None) => change,
        (None, Some(amount)) => amount.saturating_sub(old),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("Give either change or amount, not both"));
        }
        (None, None) => return Err(ApiError::missing("change or amount")),
    };
    w.add_stock(idproduct, widx, delta, &reason)?;
    Ok(w.level(idproduct, widx).map(stock_json).unwrap_or(Value::Null))
}
