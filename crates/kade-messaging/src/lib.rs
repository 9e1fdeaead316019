//! Customer messaging for Kade's automations: email over SMTP, WhatsApp (Cloud API), SMS
//! (Twilio) and Standard Webhooks, behind one [`Messenger`].
//!
//! Every failure is classified for the job layer ([`SendError`]): transient (retry with backoff),
//! permanent (record and surface, with the provider's own code) or in doubt (the provider may
//! have acted: resolve with [`Messenger::lookup`] before sending again). Delivery receipts are
//! verified over the raw bytes ([`verify_whatsapp_callback`], [`verify_twilio_callback`]).
#![forbid(unsafe_code)]

mod callback;
mod config;
mod form;
mod http;
mod outbound;
pub mod smtp;
pub mod testing;
mod timefmt;
mod twilio;
mod webhook;
mod whatsapp;

pub use callback::{
    CallbackError, StatusUpdate, twilio_signature, twilio_signing_input, verify_twilio_callback,
    verify_whatsapp_callback, whatsapp_signature,
};
pub use config::{ConfigError, SmtpConfig, SmtpTls, TwilioConfig, WebhookOptions, WebhookTarget, WhatsAppConfig};
pub use outbound::{Lookup, Outbound, OutboundBody, SendError, Sent, WhatsAppContent};
pub use webhook::{is_private, sign_standard_webhook};

use std::time::Duration;

/// Timeout of one HTTP provider call (WhatsApp, Twilio). Generous: a slow answer is still an
/// answer, and a timeout after the request was written turns into an in-doubt send.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// One object holding whichever providers are configured.
pub struct Messenger {
    smtp: Option<smtp::SmtpClient>,
    whatsapp: Option<whatsapp::WhatsAppClient>,
    twilio: Option<twilio::TwilioClient>,
    webhooks: webhook::WebhookSender,
}

impl std::fmt::Debug for Messenger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messenger").field("channels", &self.channels()).finish_non_exhaustive()
    }
}

impl Messenger {
    /// Validates the configurations (clear error naming the field) and builds the clients.
    /// Outbound webhooks need no account and are always available, with private targets refused;
    /// see [`Messenger::with_webhook_options`].
    pub fn new(
        smtp: Option<SmtpConfig>,
        whatsapp: Option<WhatsAppConfig>,
        twilio: Option<TwilioConfig>,
    ) -> Result<Self, ConfigError> {
        Ok(Messenger {
            smtp: smtp.map(smtp::SmtpClient::new).transpose()?,
            whatsapp: whatsapp.map(|c| whatsapp::WhatsAppClient::new(c, HTTP_TIMEOUT)).transpose()?,
            twilio: twilio.map(|c| twilio::TwilioClient::new(c, HTTP_TIMEOUT)).transpose()?,
            webhooks: webhook::WebhookSender::new(WebhookOptions::default())
                .map_err(|m| config::invalid("webhook", m))?,
        })
    }

    /// Replaces the outbound webhook options (e.g. `allow_private_targets` for tests and LANs).
    pub fn with_webhook_options(mut self, options: WebhookOptions) -> Result<Self, ConfigError> {
        self.webhooks = webhook::WebhookSender::new(options).map_err(|m| config::invalid("webhook", m))?;
        Ok(self)
    }

    /// The usable channels: "email", "whatsapp", "sms" (when configured) and "webhook" (always).
    pub fn channels(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.smtp.is_some() {
            out.push("email");
        }
        if self.whatsapp.is_some() {
            out.push("whatsapp");
        }
        if self.twilio.is_some() {
            out.push("sms");
        }
        out.push("webhook");
        out
    }

    fn not_configured(channel: &str) -> SendError {
        SendError::permanent(
            "not_configured",
            format!("no {channel} provider is configured (add it to the config, or change the rule's channel)"),
        )
    }

    /// Sends one message. Errors say whether to retry, give up, or resolve with [`Self::lookup`].
    pub async fn send(&self, msg: &Outbound) -> Result<Sent, SendError> {
        if msg.key.trim().is_empty() {
            return Err(SendError::permanent("invalid_key", "an outbound message needs a non-empty key"));
        }
        match &msg.body {
            OutboundBody::Email { to, subject, text } => {
                let c = self.smtp.as_ref().ok_or_else(|| Self::not_configured("email"))?;
                c.send(&msg.key, to, subject, text).await
            }
            OutboundBody::WhatsApp { to, content } => {
                let c = self.whatsapp.as_ref().ok_or_else(|| Self::not_configured("whatsapp"))?;
                check_e164(to)?;
                c.send(&msg.key, to, content).await
            }
            OutboundBody::Sms { to, body } => {
                let c = self.twilio.as_ref().ok_or_else(|| Self::not_configured("sms"))?;
                check_e164(to)?;
                c.send(&msg.key, to, body).await
            }
            OutboundBody::Webhook { target, payload } => self.webhooks.send(&msg.key, target, payload).await,
        }
    }

    /// Asks the provider whether a send with this key (started at `since_ms`, Unix ms) went
    /// through. Twilio lists messages To/From since that day and matches the body; the WhatsApp
    /// Cloud API has no lookup, so `Unknowable` (the caller tracks status callbacks, which carry
    /// the key); SMTP: `Unknowable`; webhooks: `Unknowable` (receivers de-duplicate on
    /// `webhook-id`, so resending is the scheme's own answer).
    pub async fn lookup(&self, msg: &Outbound, since_ms: i64) -> Result<Lookup, SendError> {
        match &msg.body {
            OutboundBody::Sms { to, body } => {
                let c = self.twilio.as_ref().ok_or_else(|| Self::not_configured("sms"))?;
                c.lookup(to, body, since_ms).await
            }
            OutboundBody::Email { .. } | OutboundBody::WhatsApp { .. } | OutboundBody::Webhook { .. } => {
                Ok(Lookup::Unknowable)
            }
        }
    }
}

/// The providers want E.164; normalising is `kade_core::phone`'s job, this only refuses garbage
/// early with a message that says so.
fn check_e164(to: &str) -> Result<(), SendError> {
    let digits = to.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0') {
        Ok(())
    } else {
        Err(SendError::permanent(
            "invalid_number",
            format!("{to:?} is not an E.164 phone number (+ country code and number, e.g. +31612345678)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_check() {
        assert!(check_e164("+31612345678").is_ok());
        for bad in ["0612345678", "+0612345678", "+31 6 1234", "", "+3161234567890123"] {
            assert!(check_e164(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn channels_and_unconfigured_send() {
        let m = Messenger::new(None, None, None).unwrap();
        assert_eq!(m.channels(), vec!["webhook"]);
        let msg = Outbound { key: "k".into(), body: OutboundBody::Sms { to: "+31612345678".into(), body: "x".into() } };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let err = rt.block_on(m.send(&msg)).unwrap_err();
        assert!(matches!(err, SendError::Permanent { ref code, .. } if code == "not_configured"), "{err:?}");
    }
}
