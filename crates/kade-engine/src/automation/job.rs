//! The automation send job, as a typed value (see [`crate::jobs`]).

use serde::{Deserialize, Serialize};

use crate::jobs::{JobSpec, Priority};

/// The jobs of the automations. The variant names are the stored kinds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum AutomationJob {
    /// One send (rule, entity, step), due after its wait.
    #[serde(rename = "automation.send")]
    Send(SendJob),
}

/// One send of a rule about one entity. The send log row (by `key`) holds its state; the job
/// only says which row to work on, and what the send is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendJob {
    /// The Picqer connection the entity lives in.
    pub connection: String,
    pub rule: String,
    /// The send key: the send log row, and the message's idempotency key at the provider.
    pub key: String,
    /// `order`, `return`, or the kind of another entity.
    pub kind: String,
    pub id: u64,
    #[serde(default)]
    pub event: String,
    /// The inbox row of the triggering event (its data fills variables of non-order rules).
    #[serde(default)]
    pub source_event_id: Option<i64>,
    /// What makes this enqueue distinct: the send key for the first job (a second enqueue of the
    /// same send finds it), `key@due` for a deferral, `key@resend-…` for an operator's resend.
    /// Jobs queued before this field existed decode with the send key.
    #[serde(default)]
    pub occasion: Option<String>,
}

impl JobSpec for AutomationJob {
    fn entity_key(&self) -> Option<String> {
        let AutomationJob::Send(s) = self;
        Some(format!("automation/{}", s.key))
    }

    fn priority(&self) -> Priority {
        Priority::Message
    }

    fn dedupe_key(&self) -> Option<String> {
        let AutomationJob::Send(s) = self;
        Some(format!("automation:{}", s.occasion.as_deref().unwrap_or(&s.key)))
    }
}
