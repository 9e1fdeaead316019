//! The partner calls of a shop job in the audit log (principle 9), in one shape for both
//! partners: `"calls": [{"system":"prestashop"|"picqer","method","path","status","ms"}]` on the
//! job's entry, in the order they started.
//!
//! A successful job's calls ride on its effect entry, which the worker commits with the job
//! anyway: no extra write, not even on the stock path. A failed attempt gets one log entry with
//! the calls it made (that is where an operator looks for the 401 or the timeout).

use kade_calls::Call;
use kade_store::{AuditEntry, Job};

use super::PrestaShop;
use crate::jobs::JobError;

/// Calls listed one by one on an entry; a full stock sync may make thousands, and the totals
/// below still count them all.
const LISTED: usize = 50;

fn summary(calls: &[Call]) -> serde_json::Map<String, serde_json::Value> {
    let listed: Vec<serde_json::Value> = calls
        .iter()
        .take(LISTED)
        .map(|c| {
            serde_json::json!({"system": c.system, "method": c.method, "path": c.path, "status": c.status, "ms": c.ms})
        })
        .collect();
    let mut m = serde_json::Map::new();
    m.insert("calls".into(), listed.into());
    m.insert("calls_total".into(), calls.len().into());
    m.insert("calls_ms".into(), calls.iter().map(|c| c.ms).sum::<u64>().into());
    m
}

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
            match entry.detail.as_object_mut() {
                Some(detail) => detail.extend(summary(calls)),
                None => {
                    let mut detail = summary(calls);
                    detail.insert("result".into(), entry.detail.take());
                    entry.detail = detail.into();
                }
            }
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
