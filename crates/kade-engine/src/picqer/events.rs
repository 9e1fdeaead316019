//! Accepting a Picqer delivery: verify, de-duplicate, commit to the inbox with its job.
//!
//! This is the whole of the ingress's work before it answers (principle 1): no partner call, no
//! business rule, nothing that can fail for business reasons. The HTTP layer only maps the
//! outcome to a status code.

use kade_core::dedupe::{entity_key, picqer_delivery_key};
use kade_picqer::webhook::{self, EnvelopeHead, SignatureError};
use kade_store::{InboundEvent, Ingested, NewJob, StoreError};

use super::PicqerConnection;
use super::{PicqerEvent, PicqerJob};
use crate::ingest::IngestBatcher;
use crate::jobs::encode;
use crate::now_ms;

/// A delivery's fate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboundOutcome {
    /// New: stored with its job.
    Accepted { event_id: i64, job_id: i64 },
    /// Seen before (Picqer retried, or sent it twice): acknowledged, not processed again.
    Duplicate { event_id: i64 },
}

/// Why a delivery was refused. Nothing is stored for any of these.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("signature check failed: {0}")]
    Signature(#[from] SignatureError),
    #[error("the signature belongs to hook {signed_by}, but the body names hook {claimed}")]
    HookMismatch { signed_by: u64, claimed: u64 },
    #[error("not a Picqer webhook: {0}")]
    Malformed(String),
    #[error("could not store the event: {0}")]
    Store(#[from] StoreError),
}

/// Verifies `body` against the connection's hook secrets, de-duplicates it and commits it with
/// its job. The commit goes through `batcher` (see [`crate::ingest`]): it shares a transaction
/// with concurrent deliveries, and this returns only once that transaction has committed.
pub async fn ingest_delivery(
    conn: &PicqerConnection,
    batcher: &IngestBatcher,
    signature: Option<&str>,
    body: &[u8],
    headers: serde_json::Value,
    max_attempts: i32,
) -> Result<InboundOutcome, InboundError> {
    let (event, job) = prepare_delivery(conn, signature, body, headers, max_attempts)?;
    Ok(match batcher.ingest(event, job).await? {
        Ingested::Accepted { event_id, job_id } => InboundOutcome::Accepted { event_id, job_id },
        Ingested::Duplicate { event_id } => InboundOutcome::Duplicate { event_id },
    })
}

/// Everything before the commit: verify, parse, derive the de-dup key, and build the inbox row
/// and its job. Pure CPU work, done in the request's own task so that concurrent deliveries
/// verify in parallel and the batcher only commits.
fn prepare_delivery(
    conn: &PicqerConnection,
    signature: Option<&str>,
    body: &[u8],
    headers: serde_json::Value,
    max_attempts: i32,
) -> Result<(InboundEvent, NewJob), InboundError> {
    let keys = conn.verification_keys();
    let verified = webhook::verify(body, signature, &keys.secrets)?;
    let signed_by = verified.secret_index.map(|i| keys.idhooks[i]).unwrap_or_default();
    let env = EnvelopeHead::parse(&verified).map_err(|e| InboundError::Malformed(e.to_string()))?;
    if env.idhook.0 != signed_by {
        return Err(InboundError::HookMismatch { signed_by, claimed: env.idhook.0 });
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    let digest_hex = hex::encode(digest.as_ref());
    let resource = env.resource();
    let triggered = env.event_triggered_at.to_string();
    let name = conn.name();
    let dedupe_key = picqer_delivery_key(name, &triggered, &digest_hex);

    let mut job = PicqerEvent {
        connection: name.to_string(),
        event: env.event.clone(),
        idhook: Some(env.idhook.0),
        triggered_at: Some(triggered),
        ..PicqerEvent::default()
    };
    if let Some((k, id)) = resource {
        job.set_resource(k, id);
        // A shipment belongs to an order; flows that follow orders (shop tracking) need it.
        if k == "shipment" {
            job.for_idorder = env.idorder();
        }
    }
    let job = match resource {
        // A hundred stock events for one product become one refresh.
        Some(("product", _)) => PicqerJob::ProductRefresh(job),
        // Other events are recorded one by one, each delivery its own job.
        _ => PicqerJob::Event(PicqerEvent { digest: Some(digest_hex), ..job }),
    };
    let job = encode(&job, now_ms(), max_attempts).map_err(|e| InboundError::Malformed(e.to_string()))?;
    let event = InboundEvent {
        connection: name.to_string(),
        source: "picqer".into(),
        dedupe_key,
        event: env.event.clone(),
        entity_key: resource.map(|(k, id)| entity_key(name, k, id)),
        headers,
        body: body.to_vec(),
        verified: true,
        received_ms: now_ms(),
    };
    Ok((event, job))
}
