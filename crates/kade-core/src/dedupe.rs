//! De-duplication keys for inbound events.
//!
//! Picqer sends no delivery id, and retries a delivery with the same bytes. A delivery is
//! identified by the hook that fired, the event, the resource it is about, when it was triggered,
//! and a digest of the body (so two different changes in the same second are still two events).
//! The digest is computed at the edge (this crate does no hashing) and passed in as hex.

/// The key under which the inbox stores a Picqer delivery; a second delivery with the same key
/// is acknowledged but not processed again.
pub fn picqer_delivery_key(
    connection: &str,
    idhook: u64,
    event: &str,
    resource: Option<(&str, u64)>,
    event_triggered_at: &str,
    body_digest_hex: &str,
) -> String {
    let resource = resource.map(|(kind, id)| format!("{kind}:{id}")).unwrap_or_else(|| "-".into());
    format!("picqer/{connection}/{idhook}/{event}/{resource}/{event_triggered_at}/{body_digest_hex}")
}

/// The key that serialises (and coalesces) work on one entity of one connection, e.g.
/// `main/product/123`.
pub fn entity_key(connection: &str, kind: &str, id: u64) -> String {
    format!("{connection}/{kind}/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_on_every_component() {
        let base =
            picqer_delivery_key("main", 1, "products.changed", Some(("product", 7)), "2026-01-01 10:00:00", "ab");
        let variants = [
            picqer_delivery_key("other", 1, "products.changed", Some(("product", 7)), "2026-01-01 10:00:00", "ab"),
            picqer_delivery_key("main", 2, "products.changed", Some(("product", 7)), "2026-01-01 10:00:00", "ab"),
            picqer_delivery_key("main", 1, "products.created", Some(("product", 7)), "2026-01-01 10:00:00", "ab"),
            picqer_delivery_key("main", 1, "products.changed", Some(("product", 8)), "2026-01-01 10:00:00", "ab"),
            picqer_delivery_key("main", 1, "products.changed", Some(("product", 7)), "2026-01-01 10:00:01", "ab"),
            picqer_delivery_key("main", 1, "products.changed", Some(("product", 7)), "2026-01-01 10:00:00", "cd"),
            picqer_delivery_key("main", 1, "products.changed", None, "2026-01-01 10:00:00", "ab"),
        ];
        for v in variants {
            assert_ne!(v, base);
        }
        assert_eq!(entity_key("main", "product", 123), "main/product/123");
    }
}
