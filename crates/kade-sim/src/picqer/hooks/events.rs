//! The wire format of a delivery: Picqer's event names, the envelope it posts and its signature.

use base64::Engine as _;
use ring::hmac;
use serde::Serialize;

/// Every event name Picqer documents (reference §7.2). Creating a hook for anything else fails,
/// as it does on Picqer; emitting anything else is logged as a simulator bug. Deliberately not
/// shared with `kade_picqer::events`: the simulator is an independent reading of the docs.
pub const EVENTS: &[&str] = &[
    "comments.created",
    "movements.moved",
    "orders.created",
    "orders.allocated",
    "orders.closed",
    "orders.paused",
    "orders.resumed",
    "orders.status_changed",
    "orders.completed",
    "orders.notes.created",
    "picklists.created",
    "picklists.changed",
    "picklists.paused",
    "picklists.resumed",
    "picklists.closed",
    "picklists.cancelled",
    "picklists.snoozed",
    "picklists.unsnoozed",
    "picklists.shipments.created",
    "picklists.shipments.cancelled",
    "picklist_batches.created",
    "picklist_batches.changed",
    "picklist_batches.completed",
    "products.created",
    "products.changed",
    "products.free_stock_changed",
    "products.stock_changed",
    "products.assembled_stock_changed",
    "products.stock_on_location_changed",
    "products.parts.changed",
    "purchase_orders.created",
    "purchase_orders.changed",
    "purchase_orders.purchased",
    "purchase_orders.receipts.created",
    "receipts.created",
    "receipts.completed",
    "receipts.product_received",
    "receipts.product_reverted",
    "returns.created",
    "returns.changed",
    "returns.status_changed",
    "returns.products_received",
    "location_stock_counts.completed",
    "tasks.created",
    "tasks.changed",
    "tasks.deleted",
    "tasks.completed",
    "tasks.uncompleted",
    "webshop_orders.imported",
];

/// Whether `event` is one of Picqer's documented event names ([`EVENTS`]).
pub fn is_known_event(event: &str) -> bool {
    EVENTS.contains(&event)
}

/// Picqer's signature: standard base64 (with padding) of HMAC-SHA256 over the exact body bytes.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hmac::sign(&key, body).as_ref())
}

/// The body Picqer posts. A struct rather than a `serde_json::Value` so the keys keep Picqer's
/// order (a `Value` map would sort them).
#[derive(Serialize)]
pub(super) struct Envelope<'a> {
    pub(super) idhook: u64,
    pub(super) name: &'a str,
    pub(super) event: &'a str,
    pub(super) event_triggered_at: &'a str,
    pub(super) data: &'a serde_json::Value,
}
