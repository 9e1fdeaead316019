//! The simulated Picqer account: every resource, held in memory behind one lock.
//!
//! Operations are plain functions over `&mut World` that validate first and mutate second, and
//! queue webhook events in [`World::emit`] instead of sending them; the caller drains the queue
//! after releasing the lock. That keeps event order equal to the order of state changes while
//! never calling into the hooks engine with the world locked.

pub mod backorders;
pub mod catalog;
pub mod customers;
pub mod order_ops;
pub mod orders;
pub mod picking;
pub mod picklist_ops;
pub mod picklists;
pub mod product_ops;
pub mod products;
pub mod purchasing;
pub mod receipts;
pub mod returns;
pub mod stock;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::clock::SimClock;

pub use catalog::{ReturnReason, ReturnStatus, ShippingProvider, Supplier, Tag, VatGroup, Warehouse};
pub use customers::Customer;
pub use orders::Order;
pub use picklists::{Picklist, Shipment};
pub use products::{Product, Products};

/// A monotonically increasing id source, one per resource type. Bases differ per type (products
/// start at 10 000 001, orders at 20 000 001, ...) so a client that mixes up two kinds of id hits
/// a 404 instead of the wrong object.
#[derive(Clone, Debug)]
pub struct Seq(u64);

impl Seq {
    pub fn starting_at(first: u64) -> Self {
        Seq(first)
    }
    pub fn take(&mut self) -> u64 {
        let id = self.0;
        self.0 += 1;
        id
    }
    pub fn peek(&self) -> u64 {
        self.0
    }
}

/// All id sequences of the world.
#[derive(Clone, Debug)]
pub struct Ids {
    pub tag: Seq,
    pub supplier: Seq,
    pub customer: Seq,
    pub address: Seq,
    pub part: Seq,
    pub comment: Seq,
    pub order: Seq,
    pub order_line: Seq,
    pub picklist: Seq,
    pub picklist_line: Seq,
    pub shipment: Seq,
    pub parcel: Seq,
    pub backorder: Seq,
    pub ret: Seq,
    pub return_line: Seq,
    pub return_log: Seq,
    pub purchaseorder: Seq,
    pub purchaseorder_line: Seq,
    pub receipt: Seq,
    pub receipt_line: Seq,
    pub stock_history: Seq,
    pub image: Seq,
}

impl Default for Ids {
    fn default() -> Self {
        let s = Seq::starting_at;
        Ids {
            tag: s(301),
            supplier: s(601),
            customer: s(1_000_001),
            address: s(1_500_001),
            part: s(15_000_001),
            comment: s(9_000_001),
            order: s(20_000_001),
            order_line: s(21_000_001),
            picklist: s(30_000_001),
            picklist_line: s(31_000_001),
            shipment: s(40_000_001),
            parcel: s(41_000_001),
            backorder: s(50_000_001),
            ret: s(60_000_001),
            return_line: s(61_000_001),
            return_log: s(62_000_001),
            purchaseorder: s(70_000_001),
            purchaseorder_line: s(71_000_001),
            receipt: s(80_000_001),
            receipt_line: s(81_000_001),
            stock_history: s(90_000_001),
            image: s(95_000_001),
        }
    }
}

/// Stock of one product before the current operation touched it, to decide which stock events
/// to fire once the operation is done.
#[derive(Clone, Debug)]
pub struct StockSnapshot {
    pub stock: Vec<i64>,
    pub free: Vec<i64>,
}

pub struct World {
    pub clock: SimClock,
    /// `http://127.0.0.1:PORT`, for URLs the simulator hands out (status pages, labels).
    pub root_url: String,
    pub ids: Ids,
    pub warehouses: Vec<Warehouse>,
    pub vatgroups: Vec<VatGroup>,
    pub tags: BTreeMap<u64, Tag>,
    pub shipping: Vec<ShippingProvider>,
    pub suppliers: BTreeMap<u64, Supplier>,
    pub customers: BTreeMap<u64, Customer>,
    pub return_statuses: Vec<ReturnStatus>,
    pub return_reasons: Vec<ReturnReason>,
    pub products: Products,
    pub orders: BTreeMap<u64, Order>,
    pub picklists: BTreeMap<u64, Picklist>,
    pub shipments: BTreeMap<u64, Shipment>,
    pub backorders: BTreeMap<u64, backorders::Backorder>,
    pub returns: BTreeMap<u64, returns::Return>,
    pub purchaseorders: BTreeMap<u64, purchasing::PurchaseOrder>,
    pub receipts: BTreeMap<u64, receipts::Receipt>,
    pub stock_history: Vec<stock::HistoryRow>,
    /// Products whose stock the current operation changed, with their state before it.
    pub touched: BTreeMap<u64, StockSnapshot>,
    pending: Vec<(&'static str, Value)>,
}

impl World {
    /// An empty account; [`super::seed::seed`] fills it.
    pub fn new(clock: SimClock) -> Self {
        World {
            clock,
            root_url: String::from("http://127.0.0.1"),
            ids: Ids::default(),
            warehouses: Vec::new(),
            vatgroups: Vec::new(),
            tags: BTreeMap::new(),
            shipping: Vec::new(),
            suppliers: BTreeMap::new(),
            customers: BTreeMap::new(),
            return_statuses: Vec::new(),
            return_reasons: Vec::new(),
            products: Products::default(),
            orders: BTreeMap::new(),
            picklists: BTreeMap::new(),
            shipments: BTreeMap::new(),
            backorders: BTreeMap::new(),
            returns: BTreeMap::new(),
            purchaseorders: BTreeMap::new(),
            receipts: BTreeMap::new(),
            stock_history: Vec::new(),
            touched: BTreeMap::new(),
            pending: Vec::new(),
        }
    }

    /// Simulated now, in unix millis.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Queues a webhook event; sent after the world lock is released.
    pub fn emit(&mut self, event: &'static str, data: Value) {
        self.pending.push((event, data));
    }

    /// Drains the queued events (stock events of touched products included, last).
    pub fn take_events(&mut self) -> Vec<(&'static str, Value)> {
        self.flush_stock_events();
        std::mem::take(&mut self.pending)
    }

    /// Index of a warehouse in `warehouses` (and in every product's `stock`).
    pub fn warehouse_index(&self, idwarehouse: u64) -> Option<usize> {
        self.warehouses.iter().position(|w| w.idwarehouse == idwarehouse)
    }

    pub fn vatgroup_exists(&self, idvatgroup: u64) -> bool {
        self.vatgroups.iter().any(|v| v.idvatgroup == idvatgroup)
    }
}

/// Unix millis as Picqer's datetime.
pub fn ts(ms: i64) -> Value {
    Value::String(crate::clock::format_datetime(ms))
}

/// An optional datetime (`null` when unset).
pub fn ts_opt(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, ts)
}

/// Cents as a JSON number in euros (exact to the cent once printed).
pub fn money(cents: i64) -> Value {
    serde_json::json!(cents as f64 / 100.0)
}

/// An optional string as JSON (`null` when unset).
pub fn opt_str(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |v| Value::String(v.clone()))
}
