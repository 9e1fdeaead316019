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

/// One object holding whichever providers are configured. Cheap to clone (clients share their
/// connection pools), `Send + Sync`.
#[derive(Clone)]
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

/// Knobs beyond the provider configurations; the defaults suit production.
#[derive(Clone, Debug)]
pub struct MessengerOptions {
    /// Timeout of one WhatsApp or Twilio call. A timeout after the request was written makes the
    /// send in doubt, so it is generous by default; tests shorten it.
    pub http_timeout: Duration,
    pub webhook: WebhookOptions,
    /// Extra trusted roots (PEM) for SMTP TLS, besides the system's: a private relay's CA.
    pub smtp_extra_roots_pem: Option<String>,
}

impl Default for MessengerOptions {
    fn default() -> Self {
        MessengerOptions { http_timeout: HTTP_TIMEOUT, webhook: WebhookOptions::default(), smtp_extra_roots_pem: None }
    }
}

impl Messenger {
    /// Validates the configurations (clear error naming the field) and builds the clients.
    /// Outbound webhooks need no account and are always available, with private targets refused;
    /// see [`Messenger::with_options`].
    pub fn new(
        smtp: Option<SmtpConfig>,
        whatsapp: Option<WhatsAppConfig>,
        twilio: Option<TwilioConfig>,
    ) -> Result<Self, ConfigError> {
        Self::with_options(smtp, whatsapp, twilio, MessengerOptions::default())
    }

    pub fn with_options(
        smtp: Option<SmtpConfig>,
        whatsapp: Option<WhatsAppConfig>,
        twilio: Option<TwilioConfig>,
        options: MessengerOptions,
    ) -> Result<Self, ConfigError> {
        let roots = match &options.smtp_extra_roots_pem {
            Some(pem) => smtp::parse_pem_certs(pem).map_err(|m| config::invalid("smtp.extra_roots", m))?,
            None => Vec::new(),
        };
        Ok(Messenger {
            smtp: smtp.map(|c| smtp::SmtpClient::with_roots(c, roots)).transpose()?,
            whatsapp: whatsapp.map(|c| whatsapp::WhatsAppClient::new(c, options.http_timeout)).transpose()?,
            twilio: twilio.map(|c| twilio::TwilioClient::new(c, options.http_timeout)).transpose()?,
            webhooks: webhook::WebhookSender::new(options.webhook).map_err(|m| config::invalid("webhook", m))?,
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
                c.send(&msg.key, to, content).await
            }
            OutboundBody::Sms { to, body } => {
                let c = self.twilio.as_ref().ok_or_else(|| Self::not_configured("sms"))?;
                c.send(&msg.key, to, body).await
            }
            OutboundBody::Webhook { target, payload } => self.webhooks.send(&msg.key, target, payload).await,
        }
    }

    /// Asks the provider whether a send with this key (started at `since_ms`, Unix ms) went
    /// through. Twilio lists messages To/From created since then (less 10 minutes of clock skew)
    /// and matches the body — Twilio does not keep our key on the message, so an identical text
    /// sent to the same number in that span by another rule would also match; the WhatsApp
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messenger_is_shareable() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Messenger>();
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
