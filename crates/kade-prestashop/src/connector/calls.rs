//! The partner calls of a shop job (PrestaShop and Picqer) in the audit log, as every job's are
//! (`crate::calls`), except that a failed attempt's calls get an entry of their own on the shop's
//! log, `shop calls of a failed attempt`, which is what docs/prestashop.md describes.

use kade_calls::Call;
use kade_store::{AuditEntry, Job};

use super::PrestaShop;
use kade_engine::JobError;
use kade_engine::calls::summary;

/// Puts the calls on the job's effect entry, or logs them for a failed attempt.
pub(super) async fn attach(
    shop: &PrestaShop,
    job: &Job,
    result: Result<Option<AuditEntry>, JobError>,
    calls: &[Call],
) -> Result<Option<AuditEntry>, JobError> {
    if calls.is_empty() {
        return result;
    }
    match result {
        Ok(Some(mut entry)) => {
            kade_engine::calls::add_to(&mut entry.detail, calls);
            Ok(Some(entry))
        }
        Ok(None) => Ok(Some(shop.entry(job.entity_key.clone(), "job done", summary(calls).into()))),
        Err(e) => {
            let mut detail = summary(calls);
            detail.insert("error".into(), e.to_string().into());
            detail.insert("job".into(), job.id.into());
            let entities: Vec<String> = job.entity_key.iter().cloned().collect();
            shop.log(&entities, "shop calls of a failed attempt", detail.into()).await;
            Err(e)
        }
    }
}
