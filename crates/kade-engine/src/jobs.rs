//! Job kinds and how a failed job is classified.

use std::time::Duration;

use kade_picqer::{ErrorClass, PicqerError};
use kade_store::StoreError;

/// The kinds of job Kade runs. The string form is what the store keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// Re-read one product from Picqer and write it to the mirror (products.* events coalesce
    /// into this, one per product).
    ProductRefresh,
    /// Record and act on a Picqer event that is not a product event.
    PicqerEvent,
    /// Full catalogue sync, resumable from its stored offset.
    CatalogueFull,
    /// Products changed since the last sync (`updated_after`).
    CatalogueIncremental,
    /// Check Kade's hooks in Picqer; heal and back-fill.
    HookSupervise,
    /// Bring one PrestaShop order's Picqer side in line with its shop state (create, process,
    /// force-cancel). Notifications, polls and retries of one order coalesce into this.
    PrestaOrder,
    /// Carry a Picqer order's status and shipments back to its PrestaShop order.
    PrestaStatusBack,
    /// Set one product's PrestaShop stock to its Picqer sellable figure.
    PrestaStockProduct,
    /// Full stock sync of one shop (only differing rows are written).
    PrestaStockFull,
    /// Poll a shop for orders changed since the last poll (safety net for lost notifications).
    PrestaPoll,
    /// One automation send (rule, entity, step), due after its wait; see `crate::automation`.
    AutomationSend,
}

impl JobKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::ProductRefresh => "picqer.product_refresh",
            JobKind::PicqerEvent => "picqer.event",
            JobKind::CatalogueFull => "picqer.catalogue_full",
            JobKind::CatalogueIncremental => "picqer.catalogue_incremental",
            JobKind::HookSupervise => "picqer.hook_supervise",
            JobKind::PrestaOrder => "prestashop.order",
            JobKind::PrestaStatusBack => "prestashop.status_back",
            JobKind::PrestaStockProduct => "prestashop.stock_product",
            JobKind::PrestaStockFull => "prestashop.stock_full",
            JobKind::PrestaPoll => "prestashop.poll",
            JobKind::AutomationSend => "automation.send",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            JobKind::ProductRefresh,
            JobKind::PicqerEvent,
            JobKind::CatalogueFull,
            JobKind::CatalogueIncremental,
            JobKind::HookSupervise,
            JobKind::PrestaOrder,
            JobKind::PrestaStatusBack,
            JobKind::PrestaStockProduct,
            JobKind::PrestaStockFull,
            JobKind::PrestaPoll,
            JobKind::AutomationSend,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Why a job did not finish. The worker turns this into a reschedule or a dead letter.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying with backoff (partner 5xx, timeout, database hiccup).
    #[error("{0}")]
    Transient(String),
    /// The partner's budget is spent: retry when it has refilled.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// Retrying will not help (bad data, unknown object, missing connection).
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    /// The least delay before the next attempt for this kind of failure.
    pub fn min_delay(&self) -> Duration {
        match self {
            JobError::RateLimited(_) => Duration::from_secs(20),
            _ => Duration::ZERO,
        }
    }
}

impl From<PicqerError> for JobError {
    fn from(e: PicqerError) -> Self {
        match e.class() {
            ErrorClass::Transient => JobError::Transient(e.to_string()),
            ErrorClass::RateLimited => JobError::RateLimited(e.to_string()),
            ErrorClass::Permanent => JobError::Permanent(e.to_string()),
        }
    }
}

impl From<kade_prestashop::PrestaError> for JobError {
    fn from(e: kade_prestashop::PrestaError) -> Self {
        match e.class() {
            kade_prestashop::ErrorClass::Transient => JobError::Transient(e.to_string()),
            kade_prestashop::ErrorClass::RateLimited => JobError::RateLimited(e.to_string()),
            kade_prestashop::ErrorClass::Permanent => JobError::Permanent(e.to_string()),
        }
    }
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Transient(format!("store: {e}"))
    }
}
