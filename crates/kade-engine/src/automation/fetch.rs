//! What a send is about (the order, the return, the order's shipments), read fresh from Picqer
//! at send time, and how a rule renders against it. The preview uses the same rendering on an
//! event's data, without calling Picqer or any provider.

use kade_core::automation::{Action, Context, EntityKind, Recipient, Rule, WhatsAppMessage, recipient, variables};
use kade_core::ids::{OrderId, PicklistId, ReturnId};
use kade_messaging::{OutboundBody, WebhookTarget, WhatsAppContent};
use serde_json::{Value, json};

use crate::jobs::JobError;
use crate::picqer::PicqerConnection;

/// The resources a message is rendered from, as Picqer JSON.
#[derive(Clone, Debug, Default)]
pub struct Subject {
    pub order: Option<Value>,
    pub ret: Option<Value>,
    pub shipments: Vec<Value>,
    /// The event's data, for triggers on other resources.
    pub other: Option<Value>,
}

impl Subject {
    /// The object conditions are checked on: the return, else the order, else the event data.
    pub fn entity(&self) -> &Value {
        self.ret.as_ref().or(self.order.as_ref()).or(self.other.as_ref()).unwrap_or(&Value::Null)
    }

    pub fn context<'a>(&'a self, rule: &'a str, event: &'a str, default_country: &'a str) -> Context<'a> {
        Context {
            rule,
            event,
            order: self.order.as_ref(),
            ret: self.ret.as_ref(),
            shipments: &self.shipments,
            default_country,
        }
    }
}

/// Whether a shipment (event data) carries tracking: its own code or a parcel's.
pub(super) fn has_tracking(shipment: &Value) -> bool {
    let own = shipment.get("trackingcode").and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty());
    let parcel = shipment.get("parcels").and_then(Value::as_array).is_some_and(|ps| {
        ps.iter().any(|p| p.get("tracking_code").and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty()))
    });
    own || parcel
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Re-reads the entity from Picqer. `None` when it no longer exists.
pub(super) async fn load(
    conn: &PicqerConnection,
    kind: EntityKind,
    id: u64,
    event_data: Value,
) -> Result<Option<Subject>, JobError> {
    let client = conn.client();
    let gone = |e: kade_picqer::PicqerError| if e.is_not_found() { Ok(None) } else { Err(JobError::from(e)) };
    match kind {
        EntityKind::Order => {
            let order = match client.order(OrderId(id)).await {
                Ok(o) => o,
                Err(e) => return gone(e),
            };
            let mut shipments = Vec::new();
            for p in &order.picklists {
                for s in client.shipments(PicklistId(p.idpicklist.0)).await? {
                    shipments.push(to_json(&s));
                }
            }
            Ok(Some(Subject { order: Some(to_json(&order)), shipments, ..Subject::default() }))
        }
        EntityKind::Return => {
            let ret = match client.return_(ReturnId(id)).await {
                Ok(r) => r,
                Err(e) => return gone(e),
            };
            let mut value = to_json(&ret);
            // The status name (statuses are account-configured records, the return has the id).
            if let Some(sid) = ret.idreturn_status {
                let statuses = client.return_statuses().await?;
                let name = statuses.into_iter().find(|s| s.idreturn_status == sid).map(|s| s.name);
                if let (Some(obj), Some(name)) = (value.as_object_mut(), name) {
                    obj.insert("status".into(), Value::String(name));
                }
            }
            let order = match ret.idorder {
                Some(o) => client.order(o).await.ok().map(|o| to_json(&o)),
                None => None,
            };
            Ok(Some(Subject { order, ret: Some(value), ..Subject::default() }))
        }
        EntityKind::Other => Ok(Some(Subject { other: Some(event_data), ..Subject::default() })),
    }
}

/// A rule rendered for one subject.
#[derive(Clone, Debug)]
pub(super) struct Rendered {
    pub recipient: Recipient,
    pub subject: Option<String>,
    /// What the send log keeps (and what an in-doubt send is rebuilt from): the text, or for a
    /// WhatsApp template / webhook the JSON that is sent.
    pub stored: String,
}

/// Renders `rule` for `ctx`.
pub(super) fn render(rule: &Rule, ctx: &Context<'_>, key: &str) -> Rendered {
    let vars = variables(ctx);
    let channel = rule.action.channel();
    let recipient = match &rule.action {
        Action::Webhook { url, .. } => Recipient::To(url.clone()),
        _ => recipient(channel, ctx),
    };
    let (subject, stored) = match &rule.action {
        Action::Email { subject, body } => (Some(subject.render(&vars)), body.render(&vars)),
        Action::Sms { body } => (None, body.render(&vars)),
        Action::WhatsApp(WhatsAppMessage::Text(t)) => (None, t.render(&vars)),
        Action::WhatsApp(WhatsAppMessage::Template { name, language, params }) => {
            let params: Vec<String> = params.iter().map(|p| p.render(&vars)).collect();
            (None, json!({"template": name, "language": language, "params": params}).to_string())
        }
        Action::Webhook { body, .. } => {
            let payload = json!({
                "type": format!("kade.automation.{}", ctx.event), "rule": rule.name, "key": key,
                "event": ctx.event, "text": body.as_ref().map(|b| b.render(&vars)), "variables": vars,
            });
            (None, payload.to_string())
        }
    };
    Rendered { recipient, subject, stored }
}

/// The provider message for a rendered send (from `render`, or from the send log's columns when
/// an in-doubt send is resolved: it must be exactly what was sent the first time).
pub(super) fn outbound(
    action: &Action,
    to: &str,
    subject: Option<&str>,
    stored: &str,
) -> Result<OutboundBody, JobError> {
    let json = || -> Result<Value, JobError> {
        serde_json::from_str(stored).map_err(|e| JobError::permanent(format!("the logged message is not JSON: {e}")))
    };
    Ok(match action {
        Action::Email { .. } => OutboundBody::Email {
            to: to.to_string(),
            subject: subject.unwrap_or_default().to_string(),
            text: stored.to_string(),
        },
        Action::Sms { .. } => OutboundBody::Sms { to: to.to_string(), body: stored.to_string() },
        Action::WhatsApp(WhatsAppMessage::Text(_)) => {
            OutboundBody::WhatsApp { to: to.to_string(), content: WhatsAppContent::Text(stored.to_string()) }
        }
        Action::WhatsApp(WhatsAppMessage::Template { .. }) => {
            let v = json()?;
            let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            let params = v
                .get("params")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            OutboundBody::WhatsApp {
                to: to.to_string(),
                content: WhatsAppContent::Template { name: s("template"), language: s("language"), params },
            }
        }
        Action::Webhook { url, secret, .. } => OutboundBody::Webhook {
            target: WebhookTarget { url: url.clone(), secret: secret.clone() },
            payload: json()?,
        },
    })
}

/// Renders `rule` against an event's data (a sample, or a recorded event), without calling
/// Picqer or a provider: which conditions hold, who it would go to, and the text.
pub fn preview(rule: &Rule, event: &str, data: &Value, default_country: &str) -> Value {
    let mut subject = Subject::default();
    if event.starts_with("returns.") {
        subject.ret = Some(data.clone());
    } else if event.starts_with("orders.") {
        subject.order = Some(data.clone());
    } else if event.starts_with("picklists.shipments.") {
        subject.shipments = vec![data.clone()];
    } else {
        subject.other = Some(data.clone());
    }
    let key = kade_core::automation::send_key(&rule.name, "preview", 0);
    let ctx = subject.context(&rule.name, event, default_country);
    let r = render(rule, &ctx, &key);
    let (to, missing) = match r.recipient {
        Recipient::To(t) => (Some(t), None),
        Recipient::Missing(m) => (None, Some(m)),
    };
    let failed = if rule.trigger.entity_kind() == kade_core::automation::EntityKind::Order && subject.order.is_none() {
        None
    } else {
        rule.failed_condition(subject.entity())
    };
    json!({
        "rule": rule.name, "trigger": rule.trigger.name(), "event": event,
        "fires": rule.trigger.fired_by(event), "conditions_hold": failed.is_none(), "failed_condition": failed,
        "channel": rule.action.channel(), "recipient": to, "skipped_reason": missing,
        "subject": r.subject, "body": r.stored, "variables": variables(&ctx),
    })
}
