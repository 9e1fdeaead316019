//! Running a shop's jobs (with their webservice calls recorded for the audit) and fanning Picqer
//! events out to the shops that care.

use std::sync::Arc;

use kade_store::{AuditEntry, Job};

use super::{PrestaShop, calls};
use crate::jobs::{JobError, JobKind};
use crate::picqer::PicqerConnection;
use crate::worker::Engine;

fn shop_of(engine: &Engine, job: &Job) -> Result<Arc<PrestaShop>, JobError> {
    let name = job
        .payload
        .get("shop")
        .and_then(|s| s.as_str())
        .ok_or_else(|| JobError::Permanent("job payload names no shop".into()))?;
    engine.prestashop(name).ok_or_else(|| JobError::Transient(format!("shop {name:?} is not connected (yet)")))
}

/// Runs a PrestaShop job.
pub(crate) async fn handle(
    engine: &Engine,
    picqer: &PicqerConnection,
    kind: JobKind,
    job: &Job,
) -> Result<Option<AuditEntry>, JobError> {
    let shop = shop_of(engine, job)?;
    let (result, calls) = kade_calls::recorded(run(engine, picqer, &shop, kind, job)).await;
    calls::attach(&shop, job, result, &calls).await
}

async fn run(
    engine: &Engine,
    picqer: &PicqerConnection,
    shop: &PrestaShop,
    kind: JobKind,
    job: &Job,
) -> Result<Option<AuditEntry>, JobError> {
    let u = |k: &str| job.payload.get(k).and_then(|v| v.as_u64());
    match kind {
        JobKind::PrestaOrder => {
            let id = u("id_order").ok_or_else(|| JobError::Permanent("job payload has no id_order".into()))?;
            shop.sync_order(picqer, id).await.map(Some)
        }
        JobKind::PrestaStatusBack => {
            let id = u("idorder").ok_or_else(|| JobError::Permanent("job payload has no idorder".into()))?;
            shop.status_back(picqer, id).await.map(Some)
        }
        JobKind::PrestaStockProduct => {
            let id = u("idproduct").ok_or_else(|| JobError::Permanent("job payload has no idproduct".into()))?;
            shop.stock_product(picqer, id).await.map(Some)
        }
        JobKind::PrestaStockFull => {
            shop.stock_full(picqer).await.map(|r| Some(shop.entry(None, "stock full sync", serde_json::json!(r))))
        }
        JobKind::PrestaPoll => shop.poll(engine).await.map(Some),
        _ => Err(JobError::Permanent(format!("{} is not a PrestaShop job", kind.as_str()))),
    }
}

/// After a Picqer product event: queue the stock update of every shop that syncs stock.
pub(crate) async fn after_product_event(engine: &Engine, picqer: &PicqerConnection, job: &Job) -> Result<(), JobError> {
    let Some(idproduct) = job.payload.get("idproduct").and_then(|v| v.as_u64()) else { return Ok(()) };
    let event = job.payload.get("event").and_then(|v| v.as_str()).unwrap_or_default();
    if !matches!(
        event,
        "products.free_stock_changed" | "products.stock_changed" | "products.created" | "products.changed"
    ) {
        return Ok(());
    }
    for shop in engine.shops_of(picqer.name()).into_iter().filter(|s| s.settings.stock_sync) {
        if shop.settings.full_stock_on_webhook {
            shop.enqueue_full_stock(engine, event).await?;
        } else {
            let entity = format!("{}/stock/{idproduct}", shop.name());
            shop.enqueue(engine, JobKind::PrestaStockProduct, entity, serde_json::json!({"idproduct": idproduct}))
                .await?;
        }
    }
    Ok(())
}

/// After a Picqer order or shipment event: queue the status-back of every shop on the connection
/// (a shop that does not know the order finishes at once, from the link table).
pub(crate) async fn after_order_event(engine: &Engine, picqer: &PicqerConnection, job: &Job) -> Result<(), JobError> {
    let idorder = job.payload.get("idorder").or_else(|| job.payload.get("for_idorder")).and_then(|v| v.as_u64());
    let Some(idorder) = idorder else { return Ok(()) };
    for shop in engine.shops_of(picqer.name()) {
        let entity = format!("{}/picqer_order/{idorder}", shop.name());
        shop.enqueue(engine, JobKind::PrestaStatusBack, entity, serde_json::json!({"idorder": idorder})).await?;
    }
    Ok(())
}
