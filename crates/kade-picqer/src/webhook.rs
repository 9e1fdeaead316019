//! Verifying and reading Picqer webhook deliveries.
//!
//! Picqer signs a delivery, when the hook has a secret, with
//! `X-Picqer-Signature: base64(HMAC-SHA256(secret, raw body))`. The check must run over the exact
//! bytes received — re-serialising parsed JSON changes them — and in constant time. Only
//! [`verify`] can produce a [`VerifiedBody`], and only a verified body can be parsed into an
//! [`Envelope`], so unverified input cannot reach the rest of Kade by accident.

use std::fmt;

use base64::Engine as _;
use kade_core::PicqerDateTime;
use kade_core::ids::HookId;
use ring::hmac;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The header Picqer puts the signature in.
pub const SIGNATURE_HEADER: &str = "X-Picqer-Signature";

/// A hook secret. `Debug` never shows it.
#[derive(Clone)]
pub struct WebhookSecret(hmac::Key, usize);

impl WebhookSecret {
    /// Wraps a secret as configured on the hook.
    pub fn new(secret: &[u8]) -> Self {
        WebhookSecret(hmac::Key::new(hmac::HMAC_SHA256, secret), secret.len())
    }

    /// The signature Picqer would send for `body` (used by tests and the simulator tooling).
    pub fn sign(&self, body: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(hmac::sign(&self.0, body).as_ref())
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret({} bytes, ***)", self.1)
    }
}

/// Why a delivery was rejected.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The hook has a secret but the request carries no signature header.
    #[error("missing X-Picqer-Signature header")]
    Missing,
    /// The header is not standard base64 of a 32-byte HMAC-SHA256.
    #[error("malformed X-Picqer-Signature header (expected base64 of a 32-byte HMAC-SHA256)")]
    Malformed,
    /// The signature matches none of the configured secrets.
    #[error("X-Picqer-Signature does not match the body for any configured hook secret")]
    Mismatch,
}

/// A delivery body whose signature checked out (or whose hook has no secret, by explicit choice).
#[derive(Debug)]
pub struct VerifiedBody<'a> {
    body: &'a [u8],
    /// Index of the secret that matched, if any (which one during a rotation).
    pub secret_index: Option<usize>,
}

/// Checks `signature` (the header value) against `body` for any of `secrets` (several during a
/// rotation). Each comparison runs in constant time (ring's `hmac::verify`), and every secret is
/// tried so timing does not reveal which one matched.
pub fn verify<'a>(
    body: &'a [u8],
    signature: Option<&str>,
    secrets: &[WebhookSecret],
) -> Result<VerifiedBody<'a>, SignatureError> {
    let sig = signature.ok_or(SignatureError::Missing)?;
    let tag = base64::engine::general_purpose::STANDARD.decode(sig.trim()).map_err(|_| SignatureError::Malformed)?;
    if tag.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    let mut matched = None;
    for (i, secret) in secrets.iter().enumerate() {
        if hmac::verify(&secret.0, body, &tag).is_ok() && matched.is_none() {
            matched = Some(i);
        }
    }
    match matched {
        Some(i) => Ok(VerifiedBody { body, secret_index: Some(i) }),
        None => Err(SignatureError::Mismatch),
    }
}

/// Accepts a body from a hook that was deliberately created without a secret. Kade always sets
/// secrets on the hooks it creates; this exists for operators who subscribe hooks by hand.
pub fn accept_unsigned(body: &[u8]) -> VerifiedBody<'_> {
    VerifiedBody { body, secret_index: None }
}

/// Why a verified body is not a Picqer delivery.
#[derive(Debug, thiserror::Error)]
#[error("not a Picqer webhook envelope: {0}")]
pub struct EnvelopeError(#[from] serde_json::Error);

/// The delivery envelope: `{idhook, name, event, event_triggered_at, data}`.
#[derive(Clone, Debug, Deserialize)]
pub struct Envelope {
    pub idhook: HookId,
    #[serde(default)]
    pub name: String,
    pub event: String,
    pub event_triggered_at: PicqerDateTime,
    /// The whole resource in its API shape (order, product, picklist, shipment, ...).
    pub data: serde_json::Value,
}

impl Envelope {
    /// Parses a verified body.
    pub fn parse(body: &VerifiedBody<'_>) -> Result<Self, EnvelopeError> {
        Ok(serde_json::from_slice(body.body)?)
    }

    /// `data` as a typed resource (e.g. [`crate::types::Order`] for `orders.*`).
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, EnvelopeError> {
        Ok(T::deserialize(&self.data)?)
    }

    /// The kind and id of the resource the event is about, for de-duplication and per-entity
    /// ordering. Shipment events name the shipment; `orders.notes.created` nests the order.
    pub fn resource(&self) -> Option<(&'static str, u64)> {
        let data = self.data.get("order").filter(|_| self.event == "orders.notes.created").unwrap_or(&self.data);
        let key = match self.event.split('.').next()? {
            "orders" => "idorder",
            "products" => "idproduct",
            "picklists" if self.event.starts_with("picklists.shipments.") => "idshipment",
            "picklists" => "idpicklist",
            "returns" => "idreturn",
            "purchase_orders" => "idpurchaseorder",
            "receipts" => "idreceipt",
            _ => return None,
        };
        let kind = key.trim_start_matches("id");
        let kind: &'static str = match kind {
            "order" => "order",
            "product" => "product",
            "shipment" => "shipment",
            "picklist" => "picklist",
            "return" => "return",
            "purchaseorder" => "purchaseorder",
            _ => "receipt",
        };
        data.get(key).and_then(serde_json::Value::as_u64).map(|id| (kind, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"idhook":228,"name":"Stock","event":"products.free_stock_changed","event_triggered_at":"2018-12-01 02:09:12","data":{"idproduct":7,"stock":[]}}"#;

    #[test]
    fn valid_signature_passes_and_parses() {
        let secret = WebhookSecret::new(b"s3cret");
        let sig = secret.sign(BODY);
        let v = verify(BODY, Some(&sig), &[secret]).unwrap();
        let env = Envelope::parse(&v).unwrap();
        assert_eq!(env.idhook, HookId(228));
        assert_eq!(env.resource(), Some(("product", 7)));
        assert_eq!(env.event_triggered_at.to_string(), "2018-12-01 02:09:12");
    }

    #[test]
    fn rejects_missing_malformed_wrong_and_tampered() {
        let secret = WebhookSecret::new(b"s3cret");
        let sig = secret.sign(BODY);
        assert_eq!(verify(BODY, None, std::slice::from_ref(&secret)).unwrap_err(), SignatureError::Missing);
        assert_eq!(
            verify(BODY, Some("not base64!"), std::slice::from_ref(&secret)).unwrap_err(),
            SignatureError::Malformed
        );
        assert_eq!(
            verify(BODY, Some("c2hvcnQ="), std::slice::from_ref(&secret)).unwrap_err(),
            SignatureError::Malformed
        );
        let other = WebhookSecret::new(b"other");
        assert_eq!(verify(BODY, Some(&sig), &[other]).unwrap_err(), SignatureError::Mismatch);
        let mut changed = BODY.to_vec();
        changed[30] ^= 1; // one byte
        assert_eq!(verify(&changed, Some(&sig), std::slice::from_ref(&secret)).unwrap_err(), SignatureError::Mismatch);
        // A hex signature (a common misreading) is not accepted.
        let hex: String = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"s3cret"), BODY)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(verify(BODY, Some(&hex), &[secret]).is_err());
    }

    #[test]
    fn any_secret_of_a_rotation_matches_and_debug_hides_it() {
        let old = WebhookSecret::new(b"old");
        let new = WebhookSecret::new(b"new");
        let v = verify(BODY, Some(&new.sign(BODY)), &[old, new.clone()]).unwrap();
        assert_eq!(v.secret_index, Some(1));
        assert!(!format!("{new:?}").contains("new\""));
    }

    #[test]
    fn shipment_and_note_events_name_their_resource() {
        let ship = br#"{"idhook":1,"name":"n","event":"picklists.shipments.created","event_triggered_at":"2020-01-01 00:00:00","data":{"idshipment":9,"idpicklist":3}}"#;
        let env = Envelope::parse(&accept_unsigned(ship)).unwrap();
        assert_eq!(env.resource(), Some(("shipment", 9)));
        let note = br#"{"idhook":1,"name":"n","event":"orders.notes.created","event_triggered_at":"2020-01-01 00:00:00","data":{"order":{"idorder":5},"note":{}}}"#;
        assert_eq!(Envelope::parse(&accept_unsigned(note)).unwrap().resource(), Some(("order", 5)));
        assert!(Envelope::parse(&accept_unsigned(b"{\"idhook\":1}")).is_err());
    }
}
