//! Automations: customer messages on Picqer events, sent once per (rule, entity, step).
//!
//! Two jobs do the work. The Picqer event job ([`after_event`]) evaluates the rules against the
//! event's data and schedules one `automation.send` job per matching (rule, entity), due after
//! the rule's wait; the send log row and the job's dedupe key are both derived from the send key,
//! so duplicate webhooks, replays and retries never schedule twice. The send job ([`run`]) re-reads
//! the entity from Picqer, re-checks everything, records the intent, calls the provider and
//! records the outcome (see `send.rs` for the order of those steps and what a crash means at
//! each point).

mod fetch;
mod job;
mod send;

use std::sync::Arc;

use kade_core::automation::{EntityKind, Rule, Trigger, send_key};
use kade_core::dedupe::entity_key;
use kade_messaging::Messenger;
use kade_store::{AuditEntry, Job, NewSend};
use serde_json::Value;

pub use fetch::{Subject, preview};

pub use job::{AutomationJob, SendJob};

use crate::jobs::JobError;
use crate::picqer::{PicqerConnection, PicqerEvent};
use crate::worker::Engine;

/// The configured rules and the providers that send for them.
pub struct Automations {
    pub rules: Vec<Rule>,
    pub messenger: Arc<Messenger>,
    /// Country for phone numbers written without a country code (ISO-2).
    pub default_country: String,
    /// What the status-callback endpoints verify with.
    pub callbacks: CallbackKeys,
}

/// Secrets and URLs of the providers' delivery receipts. `Debug` never shows the secrets.
#[derive(Clone, Default)]
pub struct CallbackKeys {
    /// WhatsApp: the app secret (X-Hub-Signature-256) and the verify token of the GET handshake.
    pub whatsapp_app_secret: Option<String>,
    pub whatsapp_verify_token: Option<String>,
    /// Twilio: the auth token (X-Twilio-Signature) and the public StatusCallback URL Twilio
    /// calls (the signature covers the URL exactly as Twilio called it).
    pub twilio_auth_token: Option<String>,
    pub twilio_status_url: Option<String>,
}

impl std::fmt::Debug for CallbackKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackKeys")
            .field("whatsapp", &self.whatsapp_app_secret.as_ref().map(|_| "***"))
            .field("twilio", &self.twilio_auth_token.as_ref().map(|_| "***"))
            .field("twilio_status_url", &self.twilio_status_url)
            .finish()
    }
}

impl std::fmt::Debug for Automations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.rules.iter().map(|r| r.name.as_str()).collect();
        f.debug_struct("Automations").field("rules", &names).field("messenger", &self.messenger).finish()
    }
}

impl Automations {
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }
}

/// The one step of a rule (rules send one message; the column leaves room for sequences).
const STEP: i32 = 0;

/// The entity a rule's send is about, from the event job's payload.
fn entity_of(trigger: &Trigger, e: &PicqerEvent) -> Option<(EntityKind, &'static str, u64)> {
    match trigger.entity_kind() {
        EntityKind::Order => {
            let idorder = if matches!(trigger, Trigger::OrderShipped) { e.for_idorder } else { e.idorder };
            Some((EntityKind::Order, "order", idorder?))
        }
        EntityKind::Return => Some((EntityKind::Return, "return", e.idreturn?)),
        EntityKind::Other => [
            ("picklist", e.idpicklist),
            ("shipment", e.idshipment),
            ("product", e.idproduct),
            ("purchaseorder", e.idpurchaseorder),
            ("receipt", e.idreceipt),
        ]
        .into_iter()
        .find_map(|(k, id)| id.map(|v| (EntityKind::Other, k, v))),
    }
}

/// The event's `data` object, from the inbox (the job payload only carries ids).
pub(crate) async fn event_data(engine: &Engine, event_id: Option<i64>) -> Result<Value, JobError> {
    let Some(id) = event_id else { return Ok(Value::Null) };
    let Some(ev) = engine.store().event(id).await? else { return Ok(Value::Null) };
    let body: Value = serde_json::from_slice(&ev.body).unwrap_or(Value::Null);
    Ok(body.get("data").cloned().unwrap_or(Value::Null))
}

/// After a Picqer event: schedule a send for every rule it triggers whose conditions hold on
/// the event's data. Safe to run again: the send log row and the job are keyed by the send key.
pub(crate) async fn after_event(engine: &Engine, conn: &PicqerConnection, ev: &PicqerEvent) -> Result<(), JobError> {
    let Some(auto) = engine.automations() else { return Ok(()) };
    let event = ev.event.as_str();
    let rules: Vec<&Rule> = auto
        .rules
        .iter()
        .filter(|r| r.trigger.fired_by(event) && r.connection.as_deref().is_none_or(|c| c == conn.name()))
        .collect();
    if rules.is_empty() {
        return Ok(());
    }
    let event_id = ev.event_id;
    let data = event_data(engine, event_id).await?;
    for rule in rules {
        let Some((_, kind, id)) = entity_of(&rule.trigger, ev) else { continue };
        match rule.trigger {
            // "Shipped" means a shipment with tracking; its conditions are about the order and
            // are checked when the send runs.
            Trigger::OrderShipped => {
                if !fetch::has_tracking(&data) {
                    continue;
                }
            }
            Trigger::Event(_) => {
                if !rule.conditions_hold(&data) {
                    continue;
                }
            }
        }
        let entity = entity_key(conn.name(), kind, id);
        schedule(engine, conn, rule, &entity, kind, id, event, event_id).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn schedule(
    engine: &Engine,
    conn: &PicqerConnection,
    rule: &Rule,
    entity: &str,
    kind: &str,
    id: u64,
    event: &str,
    event_id: Option<i64>,
) -> Result<(), JobError> {
    let key = send_key(&rule.name, entity, STEP as u32);
    let due = engine.now_ms() + rule.delay_ms();
    let row = engine
        .store()
        .schedule_send(&NewSend {
            send_key: key.clone(),
            rule: rule.name.clone(),
            entity: entity.to_string(),
            step: STEP,
            connection: conn.name().to_string(),
            channel: rule.action.channel().to_string(),
            event: event.to_string(),
            due_ms: due,
        })
        .await?;
    let job = SendJob {
        connection: conn.name().to_string(),
        rule: rule.name.clone(),
        key: key.clone(),
        kind: kind.to_string(),
        id,
        event: event.to_string(),
        source_event_id: event_id,
        occasion: None,
    };
    enqueue_send(engine, job, row.due_ms).await?;
    Ok(())
}

/// Queues the send job due at `due_ms` (its `occasion` keeps a second enqueue of the same
/// occasion a no-op).
pub(crate) async fn enqueue_send(engine: &Engine, job: SendJob, due_ms: i64) -> Result<i64, JobError> {
    engine.enqueue_at(&AutomationJob::Send(job), due_ms).await
}

/// Runs one send job; see `send.rs`.
pub(crate) async fn run(engine: &Engine, job: &Job) -> Result<AuditEntry, JobError> {
    let AutomationJob::Send(send) = crate::jobs::decode(job)?;
    let conn = engine
        .picqer(&send.connection)
        .ok_or_else(|| JobError::transient(format!("connection {:?} is not connected (yet)", send.connection)))?;
    send::run(engine, &conn, &send).await
}

/// What an operator decided about an `ambiguous` send (after checking the relay's log or with
/// the customer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// It did go out: record it as sent.
    MarkSent,
    /// It did not: send it (once more checks pass, as for any send).
    Resend,
}

/// Why an operator's resolution was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("there is no send with key {0:?}")]
    NotFound(String),
    #[error("send {key:?} is {state}, not ambiguous: only ambiguous sends are resolved by hand")]
    NotAmbiguous { key: String, state: String },
    #[error("send {0:?} belongs to an entity Kade cannot read back (only order and return rules can be resent)")]
    NotResendable(String),
    #[error(transparent)]
    Job(#[from] JobError),
}

/// Applies an operator's decision to an ambiguous send; returns the updated row.
pub async fn resolve_ambiguous(
    engine: &Engine,
    key: &str,
    how: Resolution,
) -> Result<kade_store::SendRecord, ResolveError> {
    use kade_store::{SendOutcome, send_state};
    let store = engine.store();
    let row =
        store.send_by_key(key).await.map_err(JobError::from)?.ok_or_else(|| ResolveError::NotFound(key.into()))?;
    if row.state != send_state::AMBIGUOUS {
        return Err(ResolveError::NotAmbiguous { key: key.into(), state: row.state });
    }
    match how {
        Resolution::MarkSent => {
            let to = SendOutcome {
                state: send_state::SENT,
                reason: Some("marked sent by the operator"),
                ..Default::default()
            };
            store.finish_send(key, send_state::AMBIGUOUS, &to).await.map_err(JobError::from)?;
        }
        Resolution::Resend => {
            // The entity key is `{connection}/{kind}/{id}`.
            let parts: Vec<&str> = row.entity.split('/').collect();
            let (kind, id) = match parts.as_slice() {
                [_, kind @ ("order" | "return"), id] => (*kind, id.parse::<u64>().ok()),
                _ => return Err(ResolveError::NotResendable(key.into())),
            };
            let id = id.ok_or_else(|| ResolveError::NotResendable(key.into()))?;
            let to = SendOutcome {
                state: send_state::SCHEDULED,
                reason: Some("resend requested by the operator"),
                ..Default::default()
            };
            store.finish_send(key, send_state::AMBIGUOUS, &to).await.map_err(JobError::from)?;
            let now = engine.now_ms();
            let job = SendJob {
                connection: row.connection.clone(),
                rule: row.rule.clone(),
                key: key.to_string(),
                kind: kind.to_string(),
                id,
                event: row.event.clone().unwrap_or_default(),
                source_event_id: None,
                occasion: Some(format!("{key}@resend-{now}")),
            };
            store.reschedule_send(key, now).await.map_err(JobError::from)?;
            enqueue_send(engine, job, now).await?;
        }
    }
    store.send_by_key(key).await.map_err(JobError::from)?.ok_or_else(|| ResolveError::NotFound(key.into()))
}
