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
        let nested = self.data.get("order").filter(|_| self.event == "orders.notes.created");
        let data = nested.unwrap_or(&self.data);
        let (kind, key) = resource_key(&self.event)?;
        data.get(key).and_then(serde_json::Value::as_u64).map(|id| (kind, id))
    }
}

/// The kind of resource an event is about and the field of `data` holding its id.
fn resource_key(event: &str) -> Option<(&'static str, &'static str)> {
    Some(match event.split('.').next()? {
        "orders" => ("order", "idorder"),
        "products" => ("product", "idproduct"),
        "picklists" if event.starts_with("picklists.shipments.") => ("shipment", "idshipment"),
        "picklists" => ("picklist", "idpicklist"),
        "returns" => ("return", "idreturn"),
        "purchase_orders" => ("purchaseorder", "idpurchaseorder"),
        "receipts" => ("receipt", "idreceipt"),
        _ => return None,
    })
}

/// What the ingress needs of a delivery: the envelope's fields and the id of the resource, without
/// building the resource itself.
///
/// Why not [`Envelope`]: parsing `data` into a `serde_json::Value` allocates a map per object and a
/// string per field of a product or order (dozens per delivery), and the ingress, which answers
/// Picqer within milliseconds, needs none of them. Here the ids are read on the way and every other
/// field of `data` is skipped without allocating. [`EnvelopeHead::resource`] answers exactly what
/// [`Envelope::resource`] answers for the same body (a test checks it).
#[derive(Clone, Debug, Deserialize)]
pub struct EnvelopeHead {
    pub idhook: HookId,
    #[serde(default)]
    pub name: String,
    pub event: String,
    pub event_triggered_at: PicqerDateTime,
    data: Ids,
}

/// The resource ids a `data` object may carry. Values are kept as JSON values (numbers need no
/// allocation) so that an id of an unexpected type means "no id", as with [`Envelope`], not a
/// malformed delivery; a `data` that is not an object has no ids.
#[derive(Clone, Debug, Default)]
struct Ids {
    idorder: Option<serde_json::Value>,
    idproduct: Option<serde_json::Value>,
    idshipment: Option<serde_json::Value>,
    idpicklist: Option<serde_json::Value>,
    idreturn: Option<serde_json::Value>,
    idpurchaseorder: Option<serde_json::Value>,
    idreceipt: Option<serde_json::Value>,
    /// `orders.notes.created` nests the order; only its id is read.
    order: Option<serde_json::Value>,
}

impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IdsVisitor)
    }
}

struct IdsVisitor;

impl<'de> serde::de::Visitor<'de> for IdsVisitor {
    type Value = Ids;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the event's data")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Ids, A::Error> {
        use serde::de::IgnoredAny;
        let mut ids = Ids::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let slot = match key.as_ref() {
                "idorder" => &mut ids.idorder,
                "idproduct" => &mut ids.idproduct,
                "idshipment" => &mut ids.idshipment,
                "idpicklist" => &mut ids.idpicklist,
                "idreturn" => &mut ids.idreturn,
                "idpurchaseorder" => &mut ids.idpurchaseorder,
                "idreceipt" => &mut ids.idreceipt,
                "order" => &mut ids.order,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            // A repeated key: the last one wins, as in a `serde_json::Value`.
            *slot = Some(map.next_value()?);
        }
        Ok(ids)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Ids, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Ids::default())
    }

    fn visit_unit<E>(self) -> Result<Ids, E> {
        Ok(Ids::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<Ids, E> {
        Ok(Ids::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<Ids, E> {
        Ok(Ids::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<Ids, E> {
        Ok(Ids::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Ids, E> {
        Ok(Ids::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<Ids, E> {
        Ok(Ids::default())
    }
}

impl EnvelopeHead {
    /// Parses a verified body.
    pub fn parse(body: &VerifiedBody<'_>) -> Result<Self, EnvelopeError> {
        Ok(serde_json::from_slice(body.body)?)
    }

    /// `data.idorder`, when it is one: the order a shipment or picklist event belongs to.
    pub fn idorder(&self) -> Option<u64> {
        self.data.idorder.as_ref().and_then(serde_json::Value::as_u64)
    }

    /// As [`Envelope::resource`].
    pub fn resource(&self) -> Option<(&'static str, u64)> {
        let (kind, key) = resource_key(&self.event)?;
        let d = &self.data;
        let id = match key {
            "idorder" if self.event == "orders.notes.created" => d
                .order
                .as_ref()
                .map(|o| o.get("idorder").and_then(serde_json::Value::as_u64))
                .unwrap_or_else(|| d.idorder.as_ref().and_then(serde_json::Value::as_u64)),
            "idorder" => d.idorder.as_ref().and_then(serde_json::Value::as_u64),
            "idproduct" => d.idproduct.as_ref().and_then(serde_json::Value::as_u64),
            "idshipment" => d.idshipment.as_ref().and_then(serde_json::Value::as_u64),
            "idpicklist" => d.idpicklist.as_ref().and_then(serde_json::Value::as_u64),
            "idreturn" => d.idreturn.as_ref().and_then(serde_json::Value::as_u64),
            "idpurchaseorder" => d.idpurchaseorder.as_ref().and_then(serde_json::Value::as_u64),
            _ => d.idreceipt.as_ref().and_then(serde_json::Value::as_u64),
        };
        id.map(|id| (kind, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_finds_the_same_resource_as_the_full_envelope() {
        let secret = WebhookSecret::new(b"k");
        let cases = [
            (r#"{"idproduct":7,"stock":[{"idwarehouse":1}]}"#, "products.free_stock_changed"),
            (r#"{"idorder":12,"products":[{"idproduct":3}]}"#, "orders.status_changed"),
            (r#"{"idnote":1,"order":{"idorder":44,"idproduct":2}}"#, "orders.notes.created"),
            (r#"{"idnote":1,"idorder":45}"#, "orders.notes.created"),
            (r#"{"idnote":1,"order":"x"}"#, "orders.notes.created"),
            (r#"{"idshipment":9,"idpicklist":8}"#, "picklists.shipments.created"),
            (r#"{"idpicklist":8}"#, "picklists.closed"),
            (r#"{"idreturn":5}"#, "returns.created"),
            (r#"{"idpurchaseorder":6}"#, "purchase_orders.changed"),
            (r#"{"idreceipt":4}"#, "receipts.completed"),
            (r#"{"idproduct":"seven"}"#, "products.changed"),
            (r#"{"idproduct":null}"#, "products.changed"),
            (r#"{"idproduct":-3}"#, "products.changed"),
            (r#"{}"#, "products.changed"),
            (r#"{"idorder":1}"#, "something.else"),
            (r#"null"#, "products.changed"),
            (r#"[1, {"idproduct": 2}]"#, "products.changed"),
            (r#""text""#, "orders.changed"),
            (r#"{"idproduct":1,"idproduct":2}"#, "products.changed"),
            (r#"{"idproduct":1.5}"#, "products.changed"),
        ];
        for (data, event) in cases {
            let body = format!(
                r#"{{"idhook":1,"name":"n","event":"{event}","event_triggered_at":"2026-01-01 10:00:00","data":{data}}}"#
            );
            let sig = secret.sign(body.as_bytes());
            let v = verify(body.as_bytes(), Some(&sig), std::slice::from_ref(&secret)).unwrap();
            let (full, head) = (Envelope::parse(&v).unwrap(), EnvelopeHead::parse(&v).unwrap());
            assert_eq!(head.resource(), full.resource(), "{event} {data}");
            assert_eq!((head.idhook, head.event.as_str()), (full.idhook, full.event.as_str()));
        }
    }

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
