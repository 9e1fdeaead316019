//! Provider configurations. Secrets (passwords, tokens, app secrets) are kept out of `Debug` so a
//! config can be logged or put in an error without leaking them.

use std::fmt;
use std::time::Duration;

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text for the whole session (local relays, test servers only).
    None,
    /// Plain connect, then `STARTTLS`; fails closed when the server does not offer it.
    StartTls,
    /// TLS from the first byte (port 465, preferred by RFC 8314).
    Implicit,
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Header `From` and envelope `MAIL FROM`; also gives the Message-ID its domain.
    pub from: String,
    /// Per step (connect, each command, the data transfer); a stuck server never hangs a worker.
    pub timeout: Duration,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Clone)]
pub struct WhatsAppConfig {
    /// The Graph API base including its version, e.g. `https://graph.facebook.com/v21.0`, or a simulator.
    pub base_url: String,
    /// The phone-number *id* Meta assigns (not the number itself).
    pub phone_number_id: String,
    pub access_token: String,
    /// Key of the `X-Hub-Signature-256` HMAC on status callbacks (the app secret, not the token).
    pub app_secret: String,
}

impl fmt::Debug for WhatsAppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsAppConfig")
            .field("base_url", &self.base_url)
            .field("phone_number_id", &self.phone_number_id)
            .field("access_token", &"***")
            .field("app_secret", &"***")
            .finish()
    }
}

#[derive(Clone)]
pub struct TwilioConfig {
    /// `https://api.twilio.com` or a simulator; `/2010-04-01/...` is appended.
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// Sender number (E.164) or alphanumeric sender id.
    pub from: String,
    /// Public URL Twilio posts delivery receipts to; `?key=<Outbound.key>` is appended per message.
    pub status_callback: Option<String>,
}

impl fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"***")
            .field("from", &self.from)
            .field("status_callback", &self.status_callback)
            .finish()
    }
}

/// Where an outbound webhook goes and how it is signed.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    pub url: String,
    /// Standard Webhooks secret, `whsec_<base64 key>`.
    pub secret: String,
}

impl fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookTarget").field("url", &self.url).field("secret", &"***").finish()
    }
}

/// Options for outbound webhooks (they need no account, so they are always available).
#[derive(Clone, Debug)]
pub struct WebhookOptions {
    /// Allow loopback/private/link-local targets. Off by default: a rule author must not be able to
    /// make the hub call into its own network (SSRF). Tests and LAN deployments switch it on.
    pub allow_private_targets: bool,
    pub timeout: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions { allow_private_targets: false, timeout: Duration::from_secs(15) }
    }
}

/// A configuration that cannot work; the message names the field and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { field, message: message.into() }
}

pub(crate) fn check_http_url(field: &'static str, url: &str) -> Result<(), ConfigError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(invalid(field, format!("{url:?} must start with http:// or https://")))
    }
}
