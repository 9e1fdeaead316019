//! The Picqer connection's jobs, as typed values (see [`crate::jobs`]).

use kade_core::dedupe::entity_key;
use serde::{Deserialize, Serialize};

use crate::jobs::{JobSpec, Priority};

/// The jobs of a Picqer connection. The variant names are the stored kinds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum PicqerJob {
    /// Bring one product's mirror row up to date (products.* events coalesce into this, one per
    /// product).
    #[serde(rename = "picqer.product_refresh")]
    ProductRefresh(PicqerEvent),
    /// Record and act on a Picqer event that is not a product event.
    #[serde(rename = "picqer.event")]
    Event(PicqerEvent),
    /// Full catalogue sync, resumable from its stored offset.
    #[serde(rename = "picqer.catalogue_full")]
    CatalogueFull(ConnectionJob),
    /// Products changed since the last sync (`updated_after`).
    #[serde(rename = "picqer.catalogue_incremental")]
    CatalogueIncremental(ConnectionJob),
    /// Check Kade's hooks in Picqer; heal and back-fill.
    #[serde(rename = "picqer.hook_supervise")]
    HookSupervise(ConnectionJob),
}

/// A webhook delivery as a job sees it: the event and the ids of what it is about (the body
/// stays in the inbox, under `event_id`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PicqerEvent {
    /// The Picqer connection it came through.
    pub connection: String,
    /// `products.free_stock_changed`, `orders.status_changed`…
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub idhook: Option<u64>,
    /// Picqer's `event_triggered_at`, as Picqer wrote it.
    #[serde(default)]
    pub triggered_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idproduct: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idorder: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idpicklist: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idshipment: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idreturn: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idpurchaseorder: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idreceipt: Option<u64>,
    /// The order a shipment belongs to (flows that follow orders need it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_idorder: Option<u64>,
    /// SHA-256 of the delivery body: one event job per distinct delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The inbox row of the latest delivery the job accounts for; the store sets it.
    #[serde(default, skip_serializing)]
    pub event_id: Option<i64>,
}

impl PicqerEvent {
    /// Sets the id field named by the webhook resource kind (`order` → `idorder`).
    pub fn set_resource(&mut self, kind: &str, id: u64) {
        let slot = match kind {
            "product" => &mut self.idproduct,
            "order" => &mut self.idorder,
            "picklist" => &mut self.idpicklist,
            "shipment" => &mut self.idshipment,
            "return" => &mut self.idreturn,
            "purchaseorder" => &mut self.idpurchaseorder,
            "receipt" => &mut self.idreceipt,
            _ => return,
        };
        *slot = Some(id);
    }

    /// The resource the event is about, as (kind, id), products last (an order event may also
    /// name a product nowhere, but a product event names only the product).
    pub fn resource(&self) -> Option<(&'static str, u64)> {
        [
            ("order", self.idorder),
            ("picklist", self.idpicklist),
            ("shipment", self.idshipment),
            ("return", self.idreturn),
            ("purchaseorder", self.idpurchaseorder),
            ("receipt", self.idreceipt),
            ("product", self.idproduct),
        ]
        .into_iter()
        .find_map(|(k, id)| id.map(|id| (k, id)))
    }

    /// The Picqer order an order or shipment event concerns.
    pub fn order(&self) -> Option<u64> {
        self.idorder.or(self.for_idorder)
    }

    /// Whether the event may change a product's stock or existence.
    pub fn moves_stock(&self) -> bool {
        self.idproduct.is_some()
            && matches!(
                self.event.as_str(),
                "products.free_stock_changed" | "products.stock_changed" | "products.created" | "products.changed"
            )
    }
}

/// A job about a whole connection (syncs, the hook supervisor).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionJob {
    pub connection: String,
    /// Why it was queued ("first sync", "backfill after hooks were down").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A scheduled round's fire time (the scheduler stamps it): a full sync is skipped when a
    /// completed pass started at or after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_ms: Option<i64>,
    /// A first sync's rule: skipped when any completed pass started at or after this (0: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless_done_since_ms: Option<i64>,
}

impl ConnectionJob {
    pub fn new(connection: &str, reason: Option<&str>) -> Self {
        ConnectionJob {
            connection: connection.into(),
            reason: reason.map(str::to_string),
            scheduled_ms: None,
            unless_done_since_ms: None,
        }
    }
}

impl PicqerJob {
    /// The connection the job belongs to.
    pub fn connection(&self) -> &str {
        match self {
            PicqerJob::ProductRefresh(e) | PicqerJob::Event(e) => &e.connection,
            PicqerJob::CatalogueFull(c) | PicqerJob::CatalogueIncremental(c) | PicqerJob::HookSupervise(c) => {
                &c.connection
            }
        }
    }

    /// The stored kind.
    pub fn kind(&self) -> &'static str {
        match self {
            PicqerJob::ProductRefresh(_) => "picqer.product_refresh",
            PicqerJob::Event(_) => "picqer.event",
            PicqerJob::CatalogueFull(_) => "picqer.catalogue_full",
            PicqerJob::CatalogueIncremental(_) => "picqer.catalogue_incremental",
            PicqerJob::HookSupervise(_) => "picqer.hook_supervise",
        }
    }
}

/// A product refresh re-establishes the product's whole state, so its success accounts for
/// every earlier event of that product; other jobs account for their own event only.
pub const PRODUCT_REFRESH_KIND: &str = "picqer.product_refresh";

impl JobSpec for PicqerJob {
    fn entity_key(&self) -> Option<String> {
        match self {
            PicqerJob::ProductRefresh(e) => e.idproduct.map(|id| entity_key(&e.connection, "product", id)),
            PicqerJob::Event(e) => e.digest.as_ref().map(|d| format!("{}/event/{d}", e.connection)),
            _ => Some(format!("{}/{}", self.connection(), self.kind())),
        }
    }

    fn priority(&self) -> Priority {
        match self {
            PicqerJob::ProductRefresh(_) | PicqerJob::Event(_) => Priority::Event,
            _ => Priority::Bulk,
        }
    }
}
