//! Running one send: re-check, record the intent, call the provider, record the outcome.
//!
//! The order of the steps is what makes a message go out at most once per (rule, entity, step):
//!
//! 1. The send log row is `scheduled`. The entity is re-read from Picqer and every check runs
//!    again (conditions, a cancelled order, contact, opt-out, quiet hours, cap). A failed check
//!    ends the send as `skipped` with its reason; quiet hours move it to a later job.
//! 2. The intent is committed: `scheduled` → `sending`, with the recipient and the exact text.
//!    Only the caller that made this move calls the provider.
//! 3. The provider answers: `sent` (with its id), `failed_permanent` (its code and reason, never
//!    retried), back to `scheduled` for a transient failure (the job retries with backoff and
//!    re-checks everything), or `in_doubt`.
//! 4. A job that finds `sending` (the process died between 2 and 3) or `in_doubt` does not send
//!    blindly: it asks the provider ([`kade_messaging::Messenger::lookup`]). Found → `sent`;
//!    not found → sent now; the provider cannot tell → `ambiguous` (not resent, surfaced for the
//!    operator), except for outbound webhooks, which are resent with the same `webhook-id`
//!    because Standard Webhooks receivers de-duplicate on it. A WhatsApp status callback that
//!    carries the key later settles an ambiguous send as sent or delivered.

use kade_core::automation::{Condition, EntityKind, Recipient, Rule};
use kade_messaging::{Lookup, Outbound, OutboundBody, SendError};
use kade_store::{AuditEntry, SendOutcome, SendRecord, send_state};
use serde_json::{Value, json};

use super::fetch::{self, Subject};
use super::{Automations, SendJob, enqueue_send, event_data};
use crate::jobs::JobError;
use crate::picqer::PicqerConnection;
use crate::worker::Engine;

struct Ctx<'a> {
    engine: &'a Engine,
    conn: &'a PicqerConnection,
    row: &'a SendRecord,
}

impl Ctx<'_> {
    fn entry(&self, action: &str, mut detail: Value) -> AuditEntry {
        if let Some(d) = detail.as_object_mut() {
            d.insert("rule".into(), self.row.rule.clone().into());
            d.insert("send_key".into(), self.row.send_key.clone().into());
            d.insert("channel".into(), self.row.channel.clone().into());
        }
        crate::effect_entry(self.conn.name(), Some(self.row.entity.clone()), action, detail)
    }

    async fn skip(&self, reason: &str) -> Result<AuditEntry, JobError> {
        tracing::info!(rule = %self.row.rule, entity = %self.row.entity, reason, "automation skipped");
        self.engine.store().skip_send(&self.row.send_key, reason).await?;
        Ok(self.entry("automation skipped", json!({ "reason": reason })))
    }

    async fn set(&self, from: &str, to: SendOutcome<'_>) -> Result<bool, JobError> {
        Ok(self.engine.store().finish_send(&self.row.send_key, from, &to).await?)
    }
}

pub(super) async fn run(engine: &Engine, conn: &PicqerConnection, job: &SendJob) -> Result<AuditEntry, JobError> {
    let key = job.key.as_str();
    let Some(row) = engine.store().send_by_key(key).await? else {
        return Err(JobError::permanent(format!("automation send {key:?} is not in the send log")));
    };
    let ctx = Ctx { engine, conn, row: &row };
    let auto = engine
        .automations()
        .ok_or_else(|| JobError::transient("automations are not configured in this process (yet)"))?;
    let Some(rule) = auto.rule(&row.rule) else {
        if row.state == send_state::SCHEDULED {
            return ctx.skip("the rule is no longer in the configuration").await;
        }
        return Ok(ctx.entry("automation left as is", json!({"state": row.state, "why": "rule removed"})));
    };
    match row.state.as_str() {
        send_state::SCHEDULED => fresh(&ctx, &auto, rule, job).await,
        send_state::SENDING | send_state::IN_DOUBT => resolve(&ctx, &auto, rule).await,
        settled => Ok(ctx.entry("automation already settled", json!({ "state": settled }))),
    }
}

/// Whether any condition of the rule is about the order's status (then it, not the implicit
/// "never for a cancelled order", decides).
fn tests_status(rule: &Rule) -> bool {
    rule.conditions.iter().any(|c| match c {
        Condition::Equals { field, .. }
        | Condition::NotEquals { field, .. }
        | Condition::In { field, .. }
        | Condition::Exists { field, .. } => field == "status" || field == "order_status",
        Condition::Tag { .. } => false,
    })
}

async fn fresh(ctx: &Ctx<'_>, auto: &Automations, rule: &Rule, job: &SendJob) -> Result<AuditEntry, JobError> {
    let (engine, row) = (ctx.engine, ctx.row);
    let store = engine.store();
    let now = engine.now_ms();
    if row.due_ms > now {
        // Deferred (quiet hours) after this job was queued: run again when due.
        let occasion = Some(format!("{}@{}", row.send_key, row.due_ms));
        enqueue_send(engine, SendJob { occasion, ..job.clone() }, row.due_ms).await?;
        return Ok(ctx.entry("automation deferred", json!({ "until_ms": row.due_ms })));
    }
    let kind = match job.kind.as_str() {
        "order" => EntityKind::Order,
        "return" => EntityKind::Return,
        _ => EntityKind::Other,
    };
    let id = job.id;
    let data = match kind {
        EntityKind::Other => event_data(engine, job.source_event_id).await?,
        _ => Value::Null,
    };
    let Some(subject): Option<Subject> = fetch::load(ctx.conn, kind, id, data).await? else {
        return ctx.skip(&format!("the {} no longer exists in Picqer", kind.as_str())).await;
    };
    if let Some(failed) = rule.failed_condition(subject.entity()) {
        return ctx.skip(&format!("the condition `{failed}` no longer holds at send time")).await;
    }
    let status = subject.order.as_ref().and_then(|o| o.get("status")).and_then(Value::as_str);
    if kind == EntityKind::Order && status == Some("cancelled") && !tests_status(rule) {
        return ctx.skip("the order was cancelled meanwhile").await;
    }
    let event = row.event.clone().unwrap_or_default();
    let context = subject.context(&rule.name, &event, &auto.default_country);
    let rendered = fetch::render(rule, &context, &row.send_key);
    let to = match rendered.recipient {
        Recipient::To(to) => to,
        Recipient::Missing(reason) => return ctx.skip(&format!("no recipient: {reason}")).await,
    };
    let channel = rule.action.channel();
    if channel != "webhook" && store.is_opted_out(channel, &to).await? {
        return ctx.skip(&format!("{to} opted out of {channel} messages")).await;
    }
    if let Some(q) = rule.quiet_hours {
        let next = q.next_allowed(now);
        if next > now {
            store.reschedule_send(&row.send_key, next).await?;
            let occasion = Some(format!("{}@{next}", row.send_key));
            enqueue_send(engine, SendJob { occasion, ..job.clone() }, next).await?;
            return Ok(ctx.entry("automation deferred (quiet hours)", json!({ "until_ms": next })));
        }
    }
    if let Some(cap) = rule.cap {
        let n = store.count_sends_to(&to, now - cap.period_ms, &row.send_key).await?;
        if n >= i64::from(cap.max) {
            let days = cap.period_ms as f64 / 86_400_000.0;
            return ctx
                .skip(&format!("per-customer cap reached: {to} already got {n} message(s) in the last {days} day(s)"))
                .await;
        }
    }
    let body = fetch::outbound(&rule.action, &to, rendered.subject.as_deref(), &rendered.stored)?;
    if !store.record_intent(&row.send_key, &to, rendered.subject.as_deref(), &rendered.stored, now).await? {
        return Ok(ctx.entry("automation taken by another run", json!({})));
    }
    deliver(ctx, auto, body).await
}

/// Calls the provider for a send in state `sending` (owned by this job) and records the answer.
async fn deliver(ctx: &Ctx<'_>, auto: &Automations, body: OutboundBody) -> Result<AuditEntry, JobError> {
    let msg = Outbound { key: ctx.row.send_key.clone(), body };
    let from = send_state::SENDING;
    match auto.messenger.send(&msg).await {
        Ok(sent) => {
            let to =
                SendOutcome { state: send_state::SENT, provider_id: Some(&sent.provider_id), ..Default::default() };
            ctx.set(from, to).await?;
            Ok(ctx.entry("automation sent", json!({ "provider_id": sent.provider_id })))
        }
        Err(SendError::Permanent { code, reason }) => {
            tracing::warn!(rule = %ctx.row.rule, entity = %ctx.row.entity, %code, %reason, "automation refused by the provider");
            let to = SendOutcome {
                state: send_state::FAILED_PERMANENT,
                error_code: Some(&code),
                reason: Some(&reason),
                ..Default::default()
            };
            ctx.set(from, to).await?;
            Ok(ctx.entry("automation failed permanently", json!({ "code": code, "reason": reason })))
        }
        Err(SendError::Transient { reason, .. }) => {
            // Nothing went out: back to scheduled, so the retry re-checks everything.
            let to = SendOutcome { state: send_state::SCHEDULED, reason: Some(&reason), ..Default::default() };
            ctx.set(from, to).await?;
            Err(JobError::transient(format!("{} provider: {reason}", ctx.row.channel)))
        }
        Err(SendError::InDoubt { reason }) => {
            let to = SendOutcome { state: send_state::IN_DOUBT, reason: Some(&reason), ..Default::default() };
            ctx.set(from, to).await?;
            Err(JobError::transient(format!("send outcome unknown ({reason}); the provider will be asked")))
        }
    }
}

/// A send that may have gone out: ask the provider instead of sending again.
async fn resolve(ctx: &Ctx<'_>, auto: &Automations, rule: &Rule) -> Result<AuditEntry, JobError> {
    let row = ctx.row;
    if row.state == send_state::SENDING {
        let why = "interrupted between recording the intent and the provider's answer";
        if !ctx
            .set(
                send_state::SENDING,
                SendOutcome { state: send_state::IN_DOUBT, reason: Some(why), ..Default::default() },
            )
            .await?
        {
            return Ok(ctx.entry("automation settled meanwhile", json!({})));
        }
    }
    let ambiguous = |reason: String| async move {
        tracing::warn!(rule = %row.rule, entity = %row.entity, %reason, "automation send is ambiguous; not resent");
        let to = SendOutcome { state: send_state::AMBIGUOUS, reason: Some(&reason), ..Default::default() };
        ctx.set(send_state::IN_DOUBT, to).await?;
        Ok::<_, JobError>(ctx.entry("automation ambiguous", json!({ "reason": reason })))
    };
    if rule.action.channel() != row.channel {
        return ambiguous(format!("the rule's channel changed from {} since the attempt", row.channel)).await;
    }
    let to = row.recipient.clone().unwrap_or_default();
    let body = fetch::outbound(&rule.action, &to, row.subject.as_deref(), row.body.as_deref().unwrap_or_default())?;
    let msg = Outbound { key: row.send_key.clone(), body: body.clone() };
    // The provider's clock is the wall clock: undo the engine's offset (non-zero only when a test
    // or the demo compresses time).
    let offset = ctx.engine.now_ms() - crate::now_ms();
    let since = row.intent_ms.unwrap_or(row.created_ms) - offset;
    match auto.messenger.lookup(&msg, since).await {
        Ok(Lookup::Found(sent)) => {
            let to = SendOutcome {
                state: send_state::SENT,
                provider_id: Some(&sent.provider_id),
                reason: Some("confirmed by a provider lookup after an interrupted send"),
                ..Default::default()
            };
            ctx.set(send_state::IN_DOUBT, to).await?;
            Ok(ctx.entry("automation confirmed sent", json!({ "provider_id": sent.provider_id })))
        }
        Ok(Lookup::NotFound) => resend(ctx, auto, body).await,
        Ok(Lookup::Unknowable) if row.channel == "webhook" => resend(ctx, auto, body).await,
        Ok(Lookup::Unknowable) => {
            ambiguous(format!(
                "the {} provider cannot tell whether the message went out; not resent to avoid a duplicate \
                 (check with the recipient or the provider's logs; a delivery receipt will settle it)",
                row.channel
            ))
            .await
        }
        Err(SendError::Permanent { code, reason }) => {
            ambiguous(format!("the provider lookup failed ({code}: {reason}); not resent")).await
        }
        Err(e) => Err(JobError::transient(format!("asking the provider about an in-doubt send: {e}"))),
    }
}

async fn resend(ctx: &Ctx<'_>, auto: &Automations, body: OutboundBody) -> Result<AuditEntry, JobError> {
    let to = SendOutcome { state: send_state::SENDING, ..Default::default() };
    if !ctx.set(send_state::IN_DOUBT, to).await? {
        return Ok(ctx.entry("automation settled meanwhile", json!({})));
    }
    deliver(ctx, auto, body).await
}
