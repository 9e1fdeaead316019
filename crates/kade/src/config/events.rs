//! Picqer webhook event names the config accepts.
//!
//! The list lives with the Picqer client (`kade_picqer::events`), not the simulator: the config
//! must not depend on a test double. Checking names here matters because a misspelt event would
//! otherwise only surface when Picqer rejects the hook at install time (or, worse, accepts it and
//! never fires).

/// Every event name Picqer is known to emit (kept with the Picqer client).
pub use kade_picqer::events::EVENTS as KNOWN_EVENTS;

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
    kade_picqer::events::is_known(event)
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
