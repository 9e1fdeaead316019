//! What is sent and how a send ends.

use std::time::Duration;

use crate::config::WebhookTarget;

/// One message to send. `key` is stable per (rule, entity, step) and makes a send recognisable
/// later: the SMTP Message-ID is derived from it, WhatsApp `biz_opaque_callback_data` carries it,
/// the Twilio StatusCallback URL carries it as `?key=`, outbound webhooks use it as `webhook-id`.
#[derive(Clone, Debug, PartialEq)]
pub struct Outbound {
    pub key: String,
    pub body: OutboundBody,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OutboundBody {
    Email {
        to: String,
        subject: String,
        text: String,
    },
    /// `to` in E.164 (`+31612345678`).
    WhatsApp {
        to: String,
        content: WhatsAppContent,
    },
    /// `to` in E.164.
    Sms {
        to: String,
        body: String,
    },
    Webhook {
        target: WebhookTarget,
        payload: serde_json::Value,
    },
}

impl OutboundBody {
    /// The channel name used by [`crate::Messenger::channels`].
    pub fn channel(&self) -> &'static str {
        match self {
            OutboundBody::Email { .. } => "email",
            OutboundBody::WhatsApp { .. } => "whatsapp",
            OutboundBody::Sms { .. } => "sms",
            OutboundBody::Webhook { .. } => "webhook",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WhatsAppContent {
    /// Free text: only delivered inside the 24-hour customer-service window.
    Text(String),
    /// An approved template with positional body parameters.
    Template { name: String, language: String, params: Vec<String> },
}

/// A send the provider accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// SMTP: the Message-ID (without angle brackets); WhatsApp: the `wamid`; Twilio: the `SM…` sid;
    /// webhooks: the `webhook-id`.
    pub provider_id: String,
}

/// How a send failed, in the terms the job layer acts on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying (SMTP 4xx, HTTP 429/5xx, connect failure before anything was sent).
    #[error("temporary failure: {reason}")]
    Transient { reason: String, retry_after: Option<Duration> },
    /// Never retry (SMTP 5xx, invalid number, opted out at provider, template not approved,
    /// wrong parameter count, outside the 24h window with free text, auth refused). `code` is the
    /// provider's own code (e.g. "550", "21211", "131047") so it can be surfaced and matched.
    #[error("permanent failure (code {code}): {reason}")]
    Permanent { code: String, reason: String },
    /// The request may have reached the provider and the outcome is unknown (timeout after the
    /// request was written, connection dropped after SMTP DATA, ...). Resolve with `lookup`.
    #[error("outcome unknown: {reason}")]
    InDoubt { reason: String },
}

impl SendError {
    pub(crate) fn transient(reason: impl Into<String>) -> Self {
        SendError::Transient { reason: reason.into(), retry_after: None }
    }

    pub(crate) fn permanent(code: impl Into<String>, reason: impl Into<String>) -> Self {
        SendError::Permanent { code: code.into(), reason: reason.into() }
    }

    pub(crate) fn in_doubt(reason: impl Into<String>) -> Self {
        SendError::InDoubt { reason: reason.into() }
    }
}

/// The answer of [`crate::Messenger::lookup`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The provider has the message: it was sent.
    Found(Sent),
    /// The provider can tell, and it has no such message: safe to send.
    NotFound,
    /// The provider cannot tell (SMTP, WhatsApp without a callback).
    Unknowable,
}
