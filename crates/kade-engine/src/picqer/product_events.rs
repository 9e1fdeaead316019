//! `products.*` deliveries applied from their bodies (principle 5: read what Kade already knows).
//!
//! Picqer's product webhooks carry the whole product in its GET shape, `stock[]` per warehouse
//! included (reference §7.3), so the common case writes the mirror from the body and costs no
//! Picqer call. Re-reading the product (`GET /products/{id}`) is the fallback, for exactly the
//! cases the body cannot settle: it lacks the product or its stock array, or the order of two
//! states is ambiguous.
//!
//! # Versions
//! Every mirror write carries a version in milliseconds, and the store keeps the highest:
//! - A **read** (sync page, re-read) is versioned by the instant Kade *asked* Picqer (Kade's
//!   clock, Unix ms): Picqer's answer shows state at least that recent.
//! - A **delivery** is versioned by its `event_triggered_at`. Picqer writes it as
//!   `YYYY-MM-DD HH:MM:SS`: whole seconds, in "Picqer server time" with no zone stated (reference
//!   §2 and §7.3; presumably Dutch local time, unverified). Kade reads it as UTC, as it already
//!   does for `updated_after` cursors and as the simulator writes it. The event happened at some
//!   instant of that second `S`, so it covers `[S·1000, S·1000 + 999]` and is stored with the
//!   version `S·1000 + 999`.
//! - A delivery is applied when the stored version lies before its second; it is older (dropped,
//!   no call) when the stored version lies after its second; when the stored version lies within
//!   its second (another delivery or a read of the same second), the order is unknown: an
//!   identical state is left alone, a different one is re-read.
//! - Among the deliveries one job accounts for (the coalesced `products.*` events of the product,
//!   see [`kade_store::Store::unprocessed_events`]), the one of the newest second wins; several
//!   in that second with different products are ambiguous and re-read.
//! - A re-read triggered by deliveries is versioned `max(asked_at, newest delivery's version)`:
//!   it was asked after those deliveries were received, so it is at least as new as each of
//!   them whatever Picqer's zone is.
//!
//! If Picqer's clock is in fact ahead of UTC (UTC+1/+2 for Dutch time), delivery versions lie up
//! to two hours ahead of read versions: a sync page read within that window after a delivery
//! leaves the delivery's state in place (the next delivery or the next nightly pass moves it on),
//! and a delivery retried hours late can still replace a read made within two hours after it
//! was triggered. Deliveries among themselves are always ordered exactly.

use kade_core::PicqerDateTime;
use kade_core::dedupe::entity_key;
use kade_core::ids::ProductId;
use kade_picqer::types::Product;
use kade_store::{AuditEntry, MirrorProduct, VersionedWrite};
use serde::Deserialize;

use super::PicqerConnection;
use super::catalogue::to_mirror;
use crate::jobs::JobError;
use crate::now_ms;

/// At most this many deliveries are read for one job; beyond it, one re-read is cheaper.
const MAX_DELIVERIES: i64 = 200;

/// One stored `products.*` delivery, parsed.
#[derive(Clone, Debug)]
pub struct ProductDelivery {
    pub event_id: i64,
    pub triggered_at: PicqerDateTime,
    /// The product the body carries, when it carries all the mirror needs (its id matches and it
    /// has a `stock` array).
    pub product: Option<Product>,
}

#[derive(Deserialize)]
struct Envelope {
    event_triggered_at: PicqerDateTime,
    #[serde(default)]
    data: serde_json::Value,
}

impl ProductDelivery {
    /// Parses a delivery body for product `idproduct`; `None` when it is not a Picqer envelope.
    pub fn parse(event_id: i64, idproduct: u64, body: &[u8]) -> Option<ProductDelivery> {
        let env: Envelope = serde_json::from_slice(body).ok()?;
        let complete = env.data.get("idproduct").and_then(|v| v.as_u64()) == Some(idproduct)
            && env.data.get("stock").is_some_and(|s| s.is_array());
        let product = if complete { serde_json::from_value::<Product>(env.data).ok() } else { None };
        Some(ProductDelivery { event_id, triggered_at: env.event_triggered_at, product })
    }
}

/// The version of a delivery's state: the last millisecond of its second (see the module doc).
pub fn delivery_version(t: PicqerDateTime) -> i64 {
    second_start_ms(t) + 999
}

fn second_start_ms(t: PicqerDateTime) -> i64 {
    t.epoch_secs().saturating_mul(1000)
}

/// What the deliveries of one job settle.
#[derive(Debug)]
pub enum Choice<'a> {
    /// Write this product, as of this second.
    Apply(&'a Product, PicqerDateTime),
    /// Read the product from Picqer, and write it no lower than `not_below`.
    Reread { reason: &'static str, not_below: i64 },
}

/// Picks the state to apply from the deliveries one job accounts for. Pure.
pub fn choose(deliveries: &[ProductDelivery]) -> Choice<'_> {
    let Some(newest) = deliveries.iter().map(|d| d.triggered_at).max() else {
        return Choice::Reread { reason: "no delivery to apply", not_below: i64::MIN };
    };
    let not_below = delivery_version(newest);
    let mut latest = deliveries.iter().filter(|d| d.triggered_at == newest);
    let first = latest.next().and_then(|d| d.product.as_ref());
    let Some(first) = first else {
        return Choice::Reread { reason: "the delivery lacks the product or its stock", not_below };
    };
    for other in latest {
        match &other.product {
            None => return Choice::Reread { reason: "the delivery lacks the product or its stock", not_below },
            Some(p) if !same_state(p, first) => {
                return Choice::Reread { reason: "two deliveries of one second disagree", not_below };
            }
            Some(_) => {}
        }
    }
    Choice::Apply(first, newest)
}

/// Whether two products are the same state, as the mirror would store them.
fn same_state(a: &Product, b: &Product) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

fn same_row(a: &MirrorProduct, b: &MirrorProduct) -> bool {
    a.data == b.data && a.stock == b.stock
}

/// How a product job ended.
#[derive(Debug)]
pub enum ProductOutcome {
    /// Written from a delivery body (no Picqer call).
    FromBody { product: Product, triggered_at: PicqerDateTime },
    /// The mirror already holds this state or a newer one (no Picqer call, nothing written).
    Unchanged { product: Product, stored_version: i64 },
    /// Read from Picqer; `written` is false when a newer state had been stored meanwhile.
    Reread { product: Product, reason: &'static str, written: bool },
}

impl PicqerConnection {
    /// The deliveries a job for product `idproduct` accounts for: the product's unprocessed
    /// events up to `up_to_event` (the job's latest event), or that one event alone when they
    /// were processed already (a replay). Empty when there are too many to be worth reading.
    pub async fn product_deliveries(&self, idproduct: u64, up_to_event: i64) -> Result<Vec<ProductDelivery>, JobError> {
        let key = entity_key(self.name(), "product", idproduct);
        let mut rows = self.store.unprocessed_events(&key, up_to_event, MAX_DELIVERIES + 1).await?;
        if rows.len() as i64 > MAX_DELIVERIES {
            return Ok(Vec::new());
        }
        if rows.is_empty() {
            rows.extend(self.store.event(up_to_event).await?.filter(|e| e.entity_key.as_deref() == Some(&key)));
        }
        Ok(rows.iter().filter_map(|e| ProductDelivery::parse(e.id, idproduct, &e.body)).collect())
    }

    /// Brings the mirror's product `idproduct` up to date with `deliveries` (from
    /// [`PicqerConnection::product_deliveries`]; empty for "just re-read it"), by the version
    /// rules of the module doc.
    pub async fn apply_product_deliveries(
        &self,
        idproduct: u64,
        deliveries: &[ProductDelivery],
    ) -> Result<ProductOutcome, JobError> {
        let (reason, not_below) = match choose(deliveries) {
            Choice::Reread { reason, not_below } => (reason, not_below),
            Choice::Apply(product, t) => {
                let row = to_mirror(product, delivery_version(t));
                match self.store.upsert_product_if_before(self.name(), &row, second_start_ms(t)).await? {
                    VersionedWrite::Written => {
                        return Ok(ProductOutcome::FromBody { product: product.clone(), triggered_at: t });
                    }
                    VersionedWrite::Kept { stored_version } if stored_version > row.version => {
                        return Ok(ProductOutcome::Unchanged { product: product.clone(), stored_version });
                    }
                    VersionedWrite::Kept { stored_version } => {
                        // Within the same second as the stored state: only a different state
                        // needs Picqer to say which is current.
                        let stored = self.store.product(self.name(), idproduct as i64).await?;
                        if stored.as_ref().is_some_and(|s| same_row(s, &row)) {
                            return Ok(ProductOutcome::Unchanged { product: product.clone(), stored_version });
                        }
                        ("a state of the same second is stored", row.version)
                    }
                }
            }
        };
        let (product, written) = self.reread_product(idproduct, not_below).await?;
        Ok(ProductOutcome::Reread { product, reason, written })
    }

    /// Reads product `idproduct` from Picqer and writes it, versioned by when it was asked but
    /// no lower than `not_below`.
    pub async fn reread_product(&self, idproduct: u64, not_below: i64) -> Result<(Product, bool), JobError> {
        let asked_at = now_ms();
        let product = match self.client.product(ProductId(idproduct)).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() => {
                return Err(JobError::permanent(format!("product {idproduct} no longer exists in Picqer")));
            }
            Err(e) => return Err(e.into()),
        };
        let written = self.store.upsert_product(self.name(), &to_mirror(&product, asked_at.max(not_below))).await?;
        Ok((product, written))
    }

    /// The effect entry of a product job.
    pub fn product_entry(&self, idproduct: u64, outcome: &ProductOutcome) -> AuditEntry {
        let entity = Some(entity_key(self.name(), "product", idproduct));
        let (product, detail) = match outcome {
            ProductOutcome::FromBody { product, triggered_at } => {
                (product, serde_json::json!({"source": "webhook", "written": true, "event_triggered_at": triggered_at}))
            }
            ProductOutcome::Unchanged { product, stored_version } => {
                (product, serde_json::json!({"source": "webhook", "written": false, "stored_version": stored_version}))
            }
            ProductOutcome::Reread { product, reason, written } => {
                (product, serde_json::json!({"source": "picqer", "reason": reason, "written": written}))
            }
        };
        let mut detail = detail;
        if let Some(d) = detail.as_object_mut() {
            d.insert("productcode".into(), product.productcode.clone().into());
            d.insert("free_stock".into(), serde_json::json!(product.free_stock(&[])));
        }
        self.entry(entity, "product mirrored", detail)
    }
}

#[cfg(test)]
#[path = "product_events_tests.rs"]
mod tests;
