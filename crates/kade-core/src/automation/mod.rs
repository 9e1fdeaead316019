//! Automations: "when Picqer says X about an order or return, tell the customer Y" — the pure
//! part (rule model, validation, conditions, templates, waits, quiet hours, variables).
//!
//! A rule is validated completely when it is loaded ([`RuleSpec::build`]), so a typo in a
//! template or a condition is a startup error naming the rule, never a failed message at 3 am.
//! Everything that needs I/O (re-reading the order, the send log, the providers) lives in
//! `kade-engine`; this module only decides.

mod condition;
mod spec;
mod template;
mod timing;
mod vars;

pub use condition::{Condition, lookup, tag_titles};
pub use spec::{CapSpec, ConditionSpec, QuietSpec, RuleSpec};
pub use template::{Template, TemplateError, VARIABLES, is_variable};
pub use timing::{QuietHours, parse_wait};
pub use vars::{Context, Recipient, parcels, recipient, variables};

use std::fmt;

/// The derived trigger "an order was shipped": a shipment with tracking was created for it.
/// Several parcels or shipments of one order become one message (see [`SHIP_SETTLE_MS`]).
pub const ORDER_SHIPPED: &str = "order.shipped";

/// How long an `order.shipped` rule waits at least after the first shipment event, so that the
/// other shipments of a multi-parcel order are in Picqer when the message is rendered (they are
/// collected at send time, and later shipment events coalesce into the same scheduled send).
pub const SHIP_SETTLE_MS: i64 = 2 * 60_000;

/// What kind of Picqer entity a rule is about (its messages are counted once per entity).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityKind {
    Order,
    Return,
    /// Any other resource (picklist, product...): no re-read, no customer contact of its own.
    Other,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Order => "order",
            EntityKind::Return => "return",
            EntityKind::Other => "other",
        }
    }
}

/// What starts a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// A Picqer event by its name, e.g. `orders.completed`, `returns.products_received`.
    Event(String),
    /// The derived [`ORDER_SHIPPED`] trigger.
    OrderShipped,
}

impl Trigger {
    /// Parses a trigger name: [`ORDER_SHIPPED`] or a Picqer event name (`resource.action`,
    /// lower-case letters, digits, `_` and dots).
    pub fn parse(name: &str) -> Result<Trigger, String> {
        let name = name.trim();
        if name == ORDER_SHIPPED {
            return Ok(Trigger::OrderShipped);
        }
        let well_formed = name.contains('.')
            && !name.starts_with('.')
            && !name.ends_with('.')
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
        if !well_formed {
            return Err(format!(
                "{name:?} is not a trigger: use a Picqer event name such as orders.completed, orders.status_changed, \
                 returns.products_received, or {ORDER_SHIPPED}"
            ));
        }
        Ok(Trigger::Event(name.to_string()))
    }

    pub fn name(&self) -> &str {
        match self {
            Trigger::Event(e) => e,
            Trigger::OrderShipped => ORDER_SHIPPED,
        }
    }

    /// The entity the rule's messages are about.
    pub fn entity_kind(&self) -> EntityKind {
        match self {
            Trigger::OrderShipped => EntityKind::Order,
            Trigger::Event(e) if e.starts_with("orders.") => EntityKind::Order,
            Trigger::Event(e) if e.starts_with("returns.") => EntityKind::Return,
            Trigger::Event(_) => EntityKind::Other,
        }
    }

    /// Whether a Picqer event named `event` starts this trigger. The derived "order shipped"
    /// listens to shipment creation.
    pub fn fired_by(&self, event: &str) -> bool {
        match self {
            Trigger::Event(e) => e == event,
            Trigger::OrderShipped => event == "picklists.shipments.created",
        }
    }

    /// The Picqer events Kade must subscribe to for this trigger.
    pub fn events(&self) -> Vec<String> {
        match self {
            Trigger::Event(e) => vec![e.clone()],
            Trigger::OrderShipped => vec!["picklists.shipments.created".into()],
        }
    }
}

/// At most `max` automated messages to one customer (recipient) per `period_ms`, all rules
/// together; a message over the cap is skipped (and logged as such), not postponed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cap {
    pub max: u32,
    pub period_ms: i64,
}

/// A WhatsApp message: free text (only delivered inside the 24-hour customer-service window) or
/// an approved template with its parameters (the only thing allowed outside it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WhatsAppMessage {
    Text(Template),
    Template { name: String, language: String, params: Vec<Template> },
}

/// What a rule sends.
#[derive(Clone, PartialEq, Eq)]
pub enum Action {
    Email {
        subject: Template,
        body: Template,
    },
    WhatsApp(WhatsAppMessage),
    Sms {
        body: Template,
    },
    /// A JSON POST signed per Standard Webhooks; `body` becomes its `text` field.
    Webhook {
        url: String,
        secret: String,
        body: Option<Template>,
    },
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Email { subject, body } => {
                f.debug_struct("Email").field("subject", subject).field("body", body).finish()
            }
            Action::WhatsApp(m) => f.debug_tuple("WhatsApp").field(m).finish(),
            Action::Sms { body } => f.debug_struct("Sms").field("body", body).finish(),
            Action::Webhook { url, body, .. } => {
                f.debug_struct("Webhook").field("url", url).field("secret", &"***").field("body", body).finish()
            }
        }
    }
}

impl Action {
    /// The channel name: `email`, `whatsapp`, `sms` or `webhook`.
    pub fn channel(&self) -> &'static str {
        match self {
            Action::Email { .. } => "email",
            Action::WhatsApp(_) => "whatsapp",
            Action::Sms { .. } => "sms",
            Action::Webhook { .. } => "webhook",
        }
    }

    /// Every template of the action, with the config key it came from.
    pub fn templates(&self) -> Vec<(&'static str, &Template)> {
        match self {
            Action::Email { subject, body } => vec![("subject", subject), ("body", body)],
            Action::WhatsApp(WhatsAppMessage::Text(t)) => vec![("text", t)],
            Action::WhatsApp(WhatsAppMessage::Template { params, .. }) => {
                params.iter().map(|p| ("params", p)).collect()
            }
            Action::Sms { body } => vec![("body", body)],
            Action::Webhook { body, .. } => body.iter().map(|b| ("body", b)).collect(),
        }
    }
}

/// One validated automation rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Unique; lower-case letters, digits, `-` and `_` (it is part of every send's key).
    pub name: String,
    /// The Picqer connection it listens to; `None` = every connection.
    pub connection: Option<String>,
    pub trigger: Trigger,
    pub conditions: Vec<Condition>,
    pub wait_ms: i64,
    pub quiet_hours: Option<QuietHours>,
    pub cap: Option<Cap>,
    pub action: Action,
}

impl Rule {
    /// Whether every condition holds for `entity` (the event's data, or the re-read entity).
    pub fn conditions_hold(&self, entity: &serde_json::Value) -> bool {
        self.conditions.iter().all(|c| c.holds(entity))
    }

    /// The first condition that fails, described, for logs and previews.
    pub fn failed_condition(&self, entity: &serde_json::Value) -> Option<String> {
        self.conditions.iter().find(|c| !c.holds(entity)).map(Condition::describe)
    }

    /// How long after the trigger the send is due (the derived shipped trigger waits at least
    /// the settle window).
    pub fn delay_ms(&self) -> i64 {
        match self.trigger {
            Trigger::OrderShipped => self.wait_ms.max(SHIP_SETTLE_MS),
            Trigger::Event(_) => self.wait_ms,
        }
    }
}

/// The key of one send: stable per (rule, entity, step), made only of URL- and header-safe
/// characters, because providers carry it (SMTP Message-ID, WhatsApp callback data, Twilio
/// callback URL) and that is how an in-doubt send is recognised later.
pub fn send_key(rule: &str, entity: &str, step: u32) -> String {
    let entity: String =
        entity.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '.' }).collect();
    format!("kade.{rule}.{entity}.{step}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers() {
        assert_eq!(Trigger::parse("order.shipped"), Ok(Trigger::OrderShipped));
        let t = Trigger::parse("orders.completed").unwrap();
        assert_eq!(t.entity_kind(), EntityKind::Order);
        assert!(t.fired_by("orders.completed") && !t.fired_by("orders.closed"));
        assert_eq!(Trigger::parse("returns.products_received").unwrap().entity_kind(), EntityKind::Return);
        assert_eq!(Trigger::parse("picklists.closed").unwrap().entity_kind(), EntityKind::Other);
        assert!(Trigger::OrderShipped.fired_by("picklists.shipments.created"));
        assert!(Trigger::parse("Orders Completed").unwrap_err().contains("not a trigger"));
        assert!(Trigger::parse("orders.").is_err());
    }

    #[test]
    fn send_keys_are_safe_and_stable() {
        assert_eq!(send_key("review", "main/order/20000001", 0), "kade.review.main.order.20000001.0");
        assert_eq!(send_key("review", "main/order/20000001", 0), send_key("review", "main/order/20000001", 0));
    }
}
