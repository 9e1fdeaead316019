//! Handling Picqer events that no flow acts on yet (order, picklist, return... events): they are
//! recorded against their entity so the timeline shows them.

use kade_core::dedupe::entity_key;
use kade_store::AuditEntry;

use super::{PicqerConnection, PicqerEvent};
use crate::jobs::JobError;

impl PicqerConnection {
    /// Handles an event that no flow acts on yet: the hook's last-event time moves on (idempotent:
    /// it never moves backwards), and the returned entry — recorded against the event's entity,
    /// so the timeline shows it — is committed by the worker with the job's completion, exactly
    /// once however often this runs.
    pub(crate) async fn record_event(&self, event: &PicqerEvent) -> Result<AuditEntry, JobError> {
        if let Some(idhook) = event.idhook {
            self.touch_hook(idhook as i64).await?;
        }
        let entity = event.resource().map(|(kind, id)| entity_key(self.name(), kind, id));
        let detail = serde_json::to_value(event).unwrap_or_default();
        Ok(self.entry(entity, &format!("event {}", event.event), detail))
    }

    /// An effect entry for this connection, to be returned to the worker (which commits it with
    /// the job's completion) rather than written on the spot.
    pub(super) fn entry(&self, entity: Option<String>, action: &str, detail: serde_json::Value) -> AuditEntry {
        crate::effect_entry(self.name(), entity, action, detail)
    }
}
