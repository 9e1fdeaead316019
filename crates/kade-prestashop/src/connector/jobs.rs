//! The PrestaShop connector's jobs, as typed values (see `kade_engine::jobs`). The field names
//! are the ones the previous release stored, so its queued jobs still run.

use kade_core::dedupe::entity_key;
use kade_engine::{JobSpec, Priority};
use serde::{Deserialize, Serialize};

/// One shop's jobs. The variant names are the stored kinds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum PrestaJob {
    /// Bring one shop order's Picqer side in line with its shop state (create, process,
    /// force-cancel). Notifications, polls and retries of one order coalesce into this.
    #[serde(rename = "prestashop.order")]
    Order(OrderJob),
    /// Carry a Picqer order's status and shipments back to its shop order.
    #[serde(rename = "prestashop.status_back")]
    StatusBack(StatusBackJob),
    /// Set one product's shop stock to its Picqer sellable figure.
    #[serde(rename = "prestashop.stock_product")]
    StockProduct(StockProductJob),
    /// Full stock sync of one shop (only differing rows are written).
    #[serde(rename = "prestashop.stock_full")]
    StockFull(ShopJob),
    /// Poll a shop for orders changed since the last poll (safety net for lost notifications).
    #[serde(rename = "prestashop.poll")]
    Poll(ShopJob),
}

/// A job about a whole shop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShopJob {
    /// The Picqer connection the shop feeds.
    pub connection: String,
    pub shop: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderJob {
    pub connection: String,
    pub shop: String,
    pub id_order: u64,
    /// What brought it (`order.created`, `poll`).
    #[serde(default)]
    pub event: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusBackJob {
    pub connection: String,
    pub shop: String,
    /// The Picqer order.
    pub idorder: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StockProductJob {
    pub connection: String,
    pub shop: String,
    /// The Picqer product.
    pub idproduct: u64,
}

impl PrestaJob {
    /// The shop the job is for.
    pub fn shop(&self) -> &str {
        match self {
            PrestaJob::Order(j) => &j.shop,
            PrestaJob::StatusBack(j) => &j.shop,
            PrestaJob::StockProduct(j) => &j.shop,
            PrestaJob::StockFull(j) | PrestaJob::Poll(j) => &j.shop,
        }
    }
}

impl JobSpec for PrestaJob {
    fn entity_key(&self) -> Option<String> {
        Some(match self {
            PrestaJob::Order(j) => entity_key(&j.shop, "order", j.id_order),
            PrestaJob::StatusBack(j) => format!("{}/picqer_order/{}", j.shop, j.idorder),
            PrestaJob::StockProduct(j) => format!("{}/stock/{}", j.shop, j.idproduct),
            PrestaJob::StockFull(j) => format!("{}/stock_full", j.shop),
            PrestaJob::Poll(j) => format!("{}/poll", j.shop),
        })
    }

    fn priority(&self) -> Priority {
        match self {
            PrestaJob::Order(_) | PrestaJob::StatusBack(_) => Priority::Order,
            PrestaJob::StockFull(_) => Priority::Bulk,
            PrestaJob::StockProduct(_) | PrestaJob::Poll(_) => Priority::Event,
        }
    }
}
