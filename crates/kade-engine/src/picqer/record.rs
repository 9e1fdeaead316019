//! Handling Picqer events that no flow acts on yet (order, picklist, return... events): they are
//! recorded against their entity so the timeline shows them.

use kade_core::dedupe::entity_key;
use kade_store::{AuditEntry, Job};

use super::PicqerConnection;
use crate::jobs::JobError;

impl PicqerConnection {
    /// Handles an event that no flow acts on yet: the hook's last-event time moves on (idempotent:
    /// it never moves backwards), and the returned entry — recorded against the event's entity,
    /// so the timeline shows it — is committed by the worker with the job's completion, exactly
    /// once however often this runs.
    pub(crate) async fn record_event(&self, job: &Job) -> Result<AuditEntry, JobError> {
        let event = job.payload.get("event").and_then(|v| v.as_str()).unwrap_or("unknown");
        if let Some(idhook) = job.payload.get("idhook").and_then(|v| v.as_i64()) {
            self.touch_hook(idhook).await?;
        }
        let entity = ["idorder", "idpicklist", "idshipment", "idreturn", "idpurchaseorder", "idreceipt"]
            .iter()
            .find_map(|k| job.payload.get(*k).and_then(|v| v.as_u64()).map(|id| entity_key(self.name(), &k[2..], id)));
        Ok(self.entry(entity, &format!("event {event}"), job.payload.clone()))
    }

    /// An effect entry for this connection, to be returned to the worker (which commits it with
    /// the job's completion) rather than written on the spot.
    pub(super) fn entry(&self, entity: Option<String>, action: &str, detail: serde_json::Value) -> AuditEntry {
        crate::effect_entry(self.name(), entity, action, detail)
    }
}
