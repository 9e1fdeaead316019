//! De-duplication keys for inbound events.
//!
//! Picqer sends no delivery id, and retries a delivery with the same bytes. A delivery is
//! identified by the connection it arrived on and a digest of its exact body: the body names the
//! hook, the event, the resource and when it was triggered, so two different deliveries always
//! differ in it, and a retried one never does. The digest is computed at the edge (this crate
//! does no hashing) and passed in as hex.
//!
//! Why the key leads with the trigger time: the inbox's unique index on this key is written on
//! every acknowledged webhook, inside the durable commit the sender waits for. Keys that begin
//! with a hash land on random pages of an index that grows with the inbox, so each webhook
//! dirtied a page of its own that the commit had to write and fsync (it halved the ingress's
//! throughput). Keys that begin with the time land next to each other at the index's end, and a
//! whole batch dirties a handful of pages. Retries (old trigger times) still find their key.

/// Hex digits of the body digest kept in the key: 128 bits, ample for de-duplication among
/// deliveries that already share a connection and a trigger second, and half the index size of
/// the full SHA-256.
pub const DIGEST_HEX_LEN: usize = 32;

/// The key under which the inbox stores a Picqer delivery; a second delivery with the same key
/// is acknowledged but not processed again. `event_triggered_at` is Picqer's
/// `YYYY-MM-DD HH:MM:SS`; only its digits are kept, so keys sort by trigger time.
pub fn picqer_delivery_key(connection: &str, event_triggered_at: &str, body_digest_hex: &str) -> String {
    let digest = body_digest_hex.get(..DIGEST_HEX_LEN).unwrap_or(body_digest_hex);
    let mut key = String::with_capacity(8 + connection.len() + 16 + digest.len());
    key.push_str("picqer/");
    key.push_str(connection);
    key.push('/');
    key.extend(event_triggered_at.chars().filter(char::is_ascii_digit));
    key.push('/');
    key.push_str(digest);
    key
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
    fn keys_differ_on_connection_time_and_body_and_sort_by_time() {
        let digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let base = picqer_delivery_key("main", "2026-01-01 10:00:00", digest);
        assert_eq!(base, "picqer/main/20260101100000/0123456789abcdef0123456789abcdef");
        let variants = [
            picqer_delivery_key("other", "2026-01-01 10:00:00", digest),
            picqer_delivery_key("main", "2026-01-01 10:00:01", digest),
            picqer_delivery_key("main", "2026-01-01 10:00:00", "f123456789abcdef0123456789abcdef"),
        ];
        for v in &variants {
            assert_ne!(*v, base);
        }
        assert!(
            picqer_delivery_key("main", "2026-01-01 09:59:59", "ff")
                < picqer_delivery_key("main", "2026-01-01 10:00:00", "00")
        );
        // A short digest (never produced by Kade) is kept whole rather than rejected.
        assert_eq!(picqer_delivery_key("m", "", "ab"), "picqer/m//ab");
        assert_eq!(entity_key("main", "product", 123), "main/product/123");
    }
}
