//! The catalogue mirror: full sync (resumable), incremental sync, and per-product refresh.
//!
//! Every read carries a version: the time Kade *asked* Picqer for the data. Picqer answers with
//! state at least that recent, so a write with a newer version is never replaced by an older
//! one, whatever order syncs and event-driven writes finish in. Webhook bodies are versioned on
//! the same scale by their `event_triggered_at` (see [`super::product_events`]).

use kade_core::PicqerDateTime;
use kade_picqer::types::{Product, ProductFilter};
use kade_store::{AuditEntry, MirrorProduct, MirrorStock, SyncState};

use super::{ConnectionJob, PicqerConnection, PicqerEvent};
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

    /// [`PicqerConnection::full_sync_unless_covered`] for a queued job: a scheduled round
    /// (`scheduled_ms`, its fire time) or a first sync (`unless_done_since_ms`) is skipped when a
    /// completed pass already covers it; a job naming neither (the admin API) always runs.
    pub(crate) async fn full_sync(&self, job: &ConnectionJob) -> Result<(), JobError> {
        self.full_sync_unless_covered(job.unless_done_since_ms.or(job.scheduled_ms)).await
    }

    /// Full sync: every product, page by page. Progress is stored after each page, so a crash or
    /// a restart resumes at the page it stopped at instead of starting over.
    ///
    /// `covered_since`: when a completed pass started at or after this time, this one is not
    /// needed and nothing is read. Why: on a first connect the nightly schedule's round fires at
    /// start (its fire time is today's midnight) while the first sync runs; a restart queues the
    /// first sync again while the interrupted job is also still queued. Each of these would read
    /// the whole catalogue once more (100,000 products = 1,000 calls, two minutes of Picqer's
    /// budget) to learn nothing new.
    pub async fn full_sync_unless_covered(&self, covered_since: Option<i64>) -> Result<(), JobError> {
        let previous = self.store.sync_state(self.name(), FULL).await?;
        if let (Some(since), Some(done)) = (covered_since, previous.as_ref().filter(|s| s.status == "done")) {
            let started = done.cursor.get("started_ms").and_then(|v| v.as_i64()).unwrap_or(i64::MIN);
            if started >= since {
                tracing::debug!(connection = self.name(), started, since, "full sync already covered");
                return Ok(());
            }
        }
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
    ///
    /// Until the first full sync has completed there is no cursor, and there is nothing for an
    /// incremental sync to do: the full sync reads everything, and sets the cursor to the time it
    /// started when it is done. Reading "everything updated since 1970" instead would be a
    /// second pass over the whole catalogue running next to the first.
    pub(crate) async fn incremental_sync(&self) -> Result<(), JobError> {
        let state = self.store.sync_state(self.name(), INCREMENTAL).await?;
        let cursor = state.as_ref().and_then(|s| s.cursor.get("updated_after_ms")).and_then(|v| v.as_i64());
        let since_ms = match cursor {
            Some(ms) => ms,
            None => {
                let full = self.store.sync_state(self.name(), FULL).await?;
                match full.filter(|s| s.status == "done") {
                    // A full sync completed before the cursor existed (an older Kade): go on from
                    // when it started.
                    Some(done) => done.cursor.get("started_ms").and_then(|v| v.as_i64()).unwrap_or(0),
                    None => {
                        tracing::debug!(connection = self.name(), "no full sync yet: incremental sync waits for it");
                        return Ok(());
                    }
                }
            }
        };
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

    /// A product job: applies the coalesced `products.*` deliveries it accounts for from their
    /// bodies, re-reading the product from Picqer only when they cannot settle it (see
    /// [`super::product_events`]). A job without an event (queued by hand, older releases)
    /// re-reads. The mirror write is versioned, so a re-run after a crash is harmless; the
    /// returned "product mirrored" entry is committed by the worker with the job's completion,
    /// so it is recorded exactly once.
    pub(crate) async fn refresh_product(&self, event: &PicqerEvent) -> Result<AuditEntry, JobError> {
        let id = event.idproduct.ok_or_else(|| JobError::permanent("product refresh without idproduct"))?;
        let deliveries = match event.event_id {
            Some(event_id) => self.product_deliveries(id, event_id).await?,
            None => Vec::new(),
        };
        let outcome = self.apply_product_deliveries(id, &deliveries).await?;
        if let Some(idhook) = event.idhook {
            self.touch_hook(idhook as i64).await?;
        }
        Ok(self.product_entry(id, &outcome))
    }
}
