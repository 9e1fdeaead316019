//! Accepting a shop notification: verify the HMAC over the raw bytes, de-duplicate, commit to
//! the inbox with its order job — nothing else before the answer (principle 1).
//!
//! The notice is a hint (principle 2): the job re-reads the order from the webservice, so a
//! duplicate, a stale or an out-of-order notice is harmless.

use kade_store::{InboundEvent, Ingested, StoreError};
use serde::Deserialize;

use super::PrestaShop;
use super::jobs::{OrderJob, PrestaJob};
use kade_engine::ingest::IngestBatcher;

use kade_engine::now_ms;

/// The header carrying `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-kade-signature";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyOutcome {
    Accepted { event_id: i64, job_id: i64 },
    Duplicate { event_id: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("missing {SIGNATURE_HEADER} header")]
    MissingSignature,
    #[error("the signature does not match the body (check the shared secret in the shop module)")]
    BadSignature,
    #[error("not a shop notification: {0}")]
    Malformed(String),
    #[error("could not store the notification: {0}")]
    Store(#[from] StoreError),
}

#[derive(Deserialize)]
struct Notice {
    event: String,
    id_order: u64,
    #[serde(default)]
    delivery_id: Option<serde_json::Value>,
}

/// Constant-time check of `sha256=<hex>` against the HMAC of `body`.
pub fn verify_signature(secret: &str, signature: Option<&str>, body: &[u8]) -> Result<(), NotifyError> {
    let sig = signature.ok_or(NotifyError::MissingSignature)?;
    let digits = sig.trim().strip_prefix("sha256=").ok_or(NotifyError::BadSignature)?;
    let tag = hex::decode(digits).map_err(|_| NotifyError::BadSignature)?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::verify(&key, body, &tag).map_err(|_| NotifyError::BadSignature)
}

pub async fn ingest_notification(
    shop: &PrestaShop,
    batcher: &IngestBatcher,
    signature: Option<&str>,
    body: &[u8],
    max_attempts: i32,
) -> Result<NotifyOutcome, NotifyError> {
    verify_signature(shop.settings.notify_secret.expose(), signature, body)?;
    let notice: Notice = serde_json::from_slice(body).map_err(|e| NotifyError::Malformed(e.to_string()))?;
    if !notice.event.starts_with("order.") {
        return Err(NotifyError::Malformed(format!("unknown event {:?}", notice.event)));
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    let digest_hex = hex::encode(digest.as_ref());
    let delivery = notice.delivery_id.map(|d| d.to_string()).unwrap_or_default();
    let entity = shop.order_entity(notice.id_order);
    let job = PrestaJob::Order(OrderJob {
        connection: shop.settings.picqer.clone(),
        shop: shop.name().into(),
        id_order: notice.id_order,
        event: Some(notice.event.clone()),
    });
    let job =
        kade_engine::jobs::encode(&job, now_ms(), max_attempts).map_err(|e| NotifyError::Malformed(e.to_string()))?;
    let event = InboundEvent {
        connection: shop.name().into(),
        source: "prestashop".into(),
        dedupe_key: format!("prestashop/{}/{delivery}/{digest_hex}", shop.name()),
        event: notice.event.clone(),
        entity_key: Some(entity),
        headers: serde_json::json!({ SIGNATURE_HEADER: signature }),
        body: body.to_vec(),
        verified: true,
        received_ms: now_ms(),
    };
    Ok(match batcher.ingest(event, job).await? {
        Ingested::Accepted { event_id, job_id } => NotifyOutcome::Accepted { event_id, job_id },
        Ingested::Duplicate { event_id } => NotifyOutcome::Duplicate { event_id },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
        format!("sha256={}", hex::encode(ring::hmac::sign(&key, body).as_ref()))
    }

    #[test]
    fn signatures_are_checked_over_the_exact_bytes() {
        let body = br#"{"event":"order.created","id_order":5}"#;
        let good = sign("s", body);
        assert!(verify_signature("s", Some(&good), body).is_ok());
        assert!(matches!(verify_signature("t", Some(&good), body), Err(NotifyError::BadSignature)));
        assert!(matches!(
            verify_signature("s", Some(&good), b"{\"event\":\"order.created\",\"id_order\":6}"),
            Err(NotifyError::BadSignature)
        ));
        assert!(matches!(verify_signature("s", None, body), Err(NotifyError::MissingSignature)));
        assert!(matches!(verify_signature("s", Some("sha256=zz"), body), Err(NotifyError::BadSignature)));
        assert!(matches!(verify_signature("s", Some(&good[7..]), body), Err(NotifyError::BadSignature)));
    }
}
