//! Picqer webhook event names the config accepts.
//!
//! Kept here rather than taken from the simulator: the config must not depend on a test double,
//! and a misspelt event would otherwise only surface when Picqer rejects the hook at install time
//! (or, worse, accepts it and never fires). The list follows the reference (§7.2 of
//! `picqer-api.md`), including the names only one source mentions, so a real event is never refused.

/// Every event name Picqer is known to emit.
pub const KNOWN_EVENTS: &[&str] = &[
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

/// What Kade subscribes to when a connection lists no `events`: the catalogue mirror and stock
/// sync (`products.*`), order status and tracking back to shops, and returns.
pub const DEFAULT_EVENTS: &[&str] = &[
    "products.free_stock_changed",
    "products.changed",
    "products.created",
    "orders.status_changed",
    "orders.completed",
    "picklists.shipments.created",
    "returns.status_changed",
    "returns.products_received",
];

/// Whether Picqer knows this event.
pub fn is_known(event: &str) -> bool {
    KNOWN_EVENTS.contains(&event)
}

/// The known event closest to a misspelt one, if it is close enough to be a typo
/// (`products.freestockchanged` → `products.free_stock_changed`).
pub fn suggest(event: &str) -> Option<&'static str> {
    let squash = |s: &str| s.chars().filter(|c| *c != '_').collect::<String>().to_lowercase();
    let wanted = squash(event);
    KNOWN_EVENTS
        .iter()
        .map(|known| (edit_distance(&wanted, &squash(known)), *known))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, known)| known)
}

/// Levenshtein distance over characters; event names are short, so the quadratic cost is nil.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb)).min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_known() {
        assert!(DEFAULT_EVENTS.iter().all(|e| is_known(e)));
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(suggest("products.freestockchanged"), Some("products.free_stock_changed"));
        assert_eq!(suggest("order.completed"), Some("orders.completed"));
        assert_eq!(suggest("something.else.entirely"), None);
    }
}
