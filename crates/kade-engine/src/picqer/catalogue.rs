//! The catalogue mirror: full sync (resumable), incremental sync, and per-product refresh.
//!
//! Every write carries a version: the time Kade *asked* Picqer for the data. Picqer answers with
//! state at least that recent, so a write with a newer version is never replaced by an older
//! one, whatever order syncs and event-driven refreshes finish in.

use kade_core::PicqerDateTime;
use kade_core::ids::ProductId;
use kade_picqer::types::{Product, ProductFilter};
use kade_store::{AuditEntry, MirrorProduct, MirrorStock, SyncState};

use super::{PicqerConnection, PicqerEvent};
use crate::jobs::JobError;
use crate::now_ms;

const FULL: &str = "catalogue_full";
const INCREMENTAL: &str = "catalogue_incremental";
/// Incremental syncs look this far behind their cursor: Picqer's `updated` has one-second
/// resolution and an unstated timezone, and re-reading a few products is cheap and harmless.
const OVERLAP_SECS: i64 = 120;

/// A product as the mirror stores it.
pub fn to_mirror(p: &Product, version: i64) -> MirrorProduct {
    MirrorProduct {
        idproduct: p.idproduct.0 as i64,
        productcode: p.productcode.clone(),
        name: p.name.clone(),
        barcode: p.barcode.clone(),
        active: p.active,
        version,
        data: serde_json::to_value(p).unwrap_or_default(),
        stock: p
            .stock
            .iter()
            .map(|s| MirrorStock {
                idwarehouse: s.idwarehouse.0 as i64,
                stock: s.stock,
                reserved: s.reserved,
                freestock: s.freestock,
            })
            .collect(),
    }
}

impl PicqerConnection {
    async fn save_state(
        &self,
        name: &str,
        cursor: serde_json::Value,
        status: &str,
        items: i64,
        error: Option<String>,
    ) -> Result<(), JobError> {
        let state = SyncState {
            connection: self.name().to_string(),
            name: name.to_string(),
            cursor,
            status: status.to_string(),
            items,
            last_run_ms: now_ms(),
            last_error: error,
        };
        Ok(self.store.put_sync_state(&state).await?)
    }

    /// Full sync: every product, page by page. Progress is stored after each page, so a crash or
    /// a restart resumes at the page it stopped at instead of starting over.
    pub(crate) async fn full_sync(&self) -> Result<(), JobError> {
        let previous = self.store.sync_state(self.name(), FULL).await?;
        let resume = previous.filter(|s| s.status == "running");
        let (offset, started_ms, mut items) = match &resume {
            Some(s) => (
                s.cursor.get("offset").and_then(|v| v.as_u64()).unwrap_or(0),
                s.cursor.get("started_ms").and_then(|v| v.as_i64()).unwrap_or_else(now_ms),
                s.items,
            ),
            None => (0, now_ms(), 0),
        };
        let mut pager = self.client.products(&ProductFilter::default()).starting_at(offset);
        loop {
            let asked_at = now_ms();
            let page = match pager.next_page().await {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(e) => {
                    let cursor = serde_json::json!({"offset": pager.offset(), "started_ms": started_ms});
                    self.save_state(FULL, cursor, "running", items, Some(e.to_string())).await?;
                    return Err(e.into());
                }
            };
            let rows: Vec<MirrorProduct> = page.iter().map(|p| to_mirror(p, asked_at)).collect();
            self.store.upsert_products(self.name(), &rows).await?;
            items += rows.len() as i64;
            let cursor = serde_json::json!({"offset": pager.offset(), "started_ms": started_ms});
            self.save_state(FULL, cursor, "running", items, None).await?;
        }
        self.save_state(
            FULL,
            serde_json::json!({"offset": pager.offset(), "started_ms": started_ms}),
            "done",
            items,
            None,
        )
        .await?;
        // The full sync covers everything changed before it started: incremental syncs go on
        // from there (unless one already ran later).
        let inc = self.store.sync_state(self.name(), INCREMENTAL).await?;
        if inc.is_none() {
            let cursor = serde_json::json!({"updated_after_ms": started_ms});
            self.save_state(INCREMENTAL, cursor, "done", 0, None).await?;
        }
        self.audit(None, "catalogue full sync done", serde_json::json!({"products": items})).await;
        Ok(())
    }

    /// Incremental sync: products updated since the last run (minus a small overlap).
    pub(crate) async fn incremental_sync(&self) -> Result<(), JobError> {
        let state = self.store.sync_state(self.name(), INCREMENTAL).await?;
        let since_ms =
            state.as_ref().and_then(|s| s.cursor.get("updated_after_ms")).and_then(|v| v.as_i64()).unwrap_or(0);
        let started_ms = now_ms();
        let after = PicqerDateTime::from_epoch_secs((since_ms / 1000 - OVERLAP_SECS).max(0));
        let filter = ProductFilter { updated_after: Some(after), ..Default::default() };
        let mut pager = self.client.products(&filter);
        let mut items = 0i64;
        loop {
            let asked_at = now_ms();
            match pager.next_page().await {
                Ok(Some(page)) => {
                    let rows: Vec<MirrorProduct> = page.iter().map(|p| to_mirror(p, asked_at)).collect();
                    self.store.upsert_products(self.name(), &rows).await?;
                    items += rows.len() as i64;
                }
                Ok(None) => break,
                Err(e) => {
                    let cursor = serde_json::json!({"updated_after_ms": since_ms});
                    self.save_state(INCREMENTAL, cursor, "failed", items, Some(e.to_string())).await?;
                    return Err(e.into());
                }
            }
        }
        self.save_state(INCREMENTAL, serde_json::json!({"updated_after_ms": started_ms}), "done", items, None).await?;
        if items > 0 {
            self.audit(
                None,
                "catalogue incremental sync",
                serde_json::json!({"products": items, "since_ms": since_ms}),
            )
            .await;
        }
        Ok(())
    }

    /// Re-reads one product (webhooks are hints: the payload may be stale by the time the job
    /// runs, and deliveries may come out of order). The mirror write is a versioned upsert, so a
    /// re-run after a crash is harmless; the returned "product mirrored" entry is committed by the
    /// worker with the job's completion, so it is recorded exactly once.
    pub(crate) async fn refresh_product(&self, event: &PicqerEvent) -> Result<AuditEntry, JobError> {
        let id = event.idproduct.ok_or_else(|| JobError::permanent("product refresh without idproduct"))?;
        let asked_at = now_ms();
        let product = match self.client.product(ProductId(id)).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() => {
                return Err(JobError::permanent(format!("product {id} no longer exists in Picqer")));
            }
            Err(e) => return Err(e.into()),
        };
        let written = self.store.upsert_product(self.name(), &to_mirror(&product, asked_at)).await?;
        if let Some(idhook) = event.idhook {
            self.store.touch_hook_event(self.name(), idhook as i64, asked_at).await?;
        }
        let entity = Some(kade_core::dedupe::entity_key(self.name(), "product", id));
        let detail = serde_json::json!({"productcode": product.productcode, "written": written, "free_stock": product.free_stock(&[])});
        Ok(self.entry(entity, "product mirrored", detail))
    }
}
