//! `[smtp]`, `[whatsapp]`, `[twilio]`, `[automations]` and the `[[automation]]` rules
//! (docs/automations.md). Every rule is validated in full at load time — templates included —
//! and each problem is reported with the rule's name, the key and the position in the file.

use std::ops::Range;
use std::time::Duration;

use kade_core::automation::{Rule, RuleSpec};
use kade_messaging::{SmtpConfig, SmtpTls, TwilioConfig, WhatsAppConfig};
use serde::Deserialize;
use toml::Spanned;

use super::raw::Text;
use super::validate::Check;

/// `[smtp]`. No `Debug`: it may hold a literal password.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub host: Option<Text>,
    pub port: Option<Spanned<i64>>,
    pub tls: Option<Text>,
    pub username: Option<Text>,
    pub password: Option<Text>,
    pub from: Option<Text>,
    pub timeout_seconds: Option<Spanned<i64>>,
}

/// `[whatsapp]`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWhatsApp {
    pub base_url: Option<Text>,
    pub phone_number_id: Option<Text>,
    pub access_token: Option<Text>,
    pub app_secret: Option<Text>,
    pub verify_token: Option<Text>,
}

/// `[twilio]`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTwilio {
    pub base_url: Option<Text>,
    pub account_sid: Option<Text>,
    pub auth_token: Option<Text>,
    pub from: Option<Text>,
    pub status_callbacks: Option<bool>,
}

/// `[automations]`: settings shared by all rules.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAutomations {
    pub default_country: Option<Text>,
    pub allow_private_webhooks: Option<bool>,
}

/// One `[[automation]]` table: the spec, its position, and the position of each of its keys.
pub(super) struct RawRule {
    pub span: Range<usize>,
    pub keys: Vec<(String, Range<usize>)>,
    pub spec: RuleSpec,
}

/// The validated messaging setup. `Debug` never shows a secret (the provider configs redact
/// their own).
#[derive(Clone, Default)]
pub struct MessagingConfig {
    pub smtp: Option<SmtpConfig>,
    pub whatsapp: Option<WhatsAppConfig>,
    pub whatsapp_verify_token: Option<String>,
    pub twilio: Option<TwilioConfig>,
    /// ISO-2 country for phone numbers written without a country code.
    pub default_country: String,
    pub allow_private_webhooks: bool,
}

impl std::fmt::Debug for MessagingConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessagingConfig")
            .field("smtp", &self.smtp)
            .field("whatsapp", &self.whatsapp)
            .field("whatsapp_verify_token", &self.whatsapp_verify_token.as_ref().map(|_| "***"))
            .field("twilio", &self.twilio)
            .field("default_country", &self.default_country)
            .field("allow_private_webhooks", &self.allow_private_webhooks)
            .finish()
    }
}

const WHATSAPP_BASE: &str = "https://graph.facebook.com/v21.0";
const TWILIO_BASE: &str = "https://api.twilio.com";

impl Check<'_, '_, '_> {
    fn text_required(&mut self, key: &str, t: Option<Text>) -> Option<String> {
        match t {
            Some(t) if !t.get_ref().trim().is_empty() => Some(t.into_inner().trim().to_string()),
            Some(t) => {
                self.errors.push(key, "must not be empty", Some(t.span()));
                None
            }
            None => {
                self.errors.push_missing(key, "is required");
                None
            }
        }
    }

    fn secret_required(&mut self, key: &str, t: Option<Text>) -> Option<String> {
        match t {
            Some(t) => self.secret_text(key, t, 1).map(|s| s.expose().to_string()),
            None => {
                self.errors.push_missing(key, "is required (env:NAME, file:PATH or the value)");
                None
            }
        }
    }

    pub(super) fn smtp(&mut self, raw: Option<RawSmtp>) -> Result<Option<SmtpConfig>, ()> {
        let Some(raw) = raw else { return Ok(None) };
        let host = self.text_required("smtp.host", raw.host);
        let tls = match raw.tls.as_ref().map(|t| t.get_ref().trim().to_ascii_lowercase()) {
            None => Some(SmtpTls::StartTls),
            Some(t) if t == "starttls" => Some(SmtpTls::StartTls),
            Some(t) if t == "implicit" => Some(SmtpTls::Implicit),
            Some(t) if t == "none" => Some(SmtpTls::None),
            Some(t) => {
                let msg = format!("must be \"starttls\", \"implicit\" or \"none\" (test servers only), got {t:?}");
                self.errors.push("smtp.tls", msg, raw.tls.map(|t| t.span()));
                None
            }
        };
        let default_port = match tls {
            Some(SmtpTls::Implicit) => 465,
            Some(SmtpTls::None) => 25,
            _ => 587,
        };
        let port = match raw.port {
            None => Some(default_port),
            Some(p) => match u16::try_from(*p.get_ref()) {
                Ok(port) if port > 0 => Some(port),
                _ => {
                    self.errors.push("smtp.port", format!("must be 1..65535, got {}", p.get_ref()), Some(p.span()));
                    None
                }
            },
        };
        let username = raw.username.map(|u| u.into_inner());
        let password = match raw.password {
            Some(p) => Some(self.secret_text("smtp.password", p, 1).map(|s| s.expose().to_string()).ok_or(())?),
            None => None,
        };
        let from = self.text_required("smtp.from", raw.from);
        if let Some(f) = &from
            && !f.contains('@')
        {
            self.errors.push_missing("smtp.from", format!("{f:?} is not an e-mail address"));
        }
        let timeout = match raw.timeout_seconds {
            None => Some(Duration::from_secs(30)),
            Some(t) => match u64::try_from(*t.get_ref()) {
                Ok(s @ 1..=600) => Some(Duration::from_secs(s)),
                _ => {
                    let msg = format!("must be 1..600 (seconds), got {}", t.get_ref());
                    self.errors.push("smtp.timeout_seconds", msg, Some(t.span()));
                    None
                }
            },
        };
        match (host, tls, port, from, timeout) {
            (Some(host), Some(tls), Some(port), Some(from), Some(timeout)) if from.contains('@') => {
                Ok(Some(SmtpConfig { host, port, tls, username, password, from, timeout }))
            }
            _ => Err(()),
        }
    }

    pub(super) fn whatsapp(
        &mut self,
        raw: Option<RawWhatsApp>,
    ) -> Result<Option<(WhatsAppConfig, Option<String>)>, ()> {
        let Some(raw) = raw else { return Ok(None) };
        let base_url = match raw.base_url {
            Some(u) => self.http_url_text("whatsapp.base_url", u),
            None => Some(WHATSAPP_BASE.to_string()),
        };
        let phone_number_id = self.text_required("whatsapp.phone_number_id", raw.phone_number_id);
        let access_token = self.secret_required("whatsapp.access_token", raw.access_token);
        let app_secret = self.secret_required("whatsapp.app_secret", raw.app_secret);
        let verify_token = match raw.verify_token {
            Some(t) => Some(self.secret_text("whatsapp.verify_token", t, 8).map(|s| s.expose().to_string()).ok_or(())?),
            None => None,
        };
        match (base_url, phone_number_id, access_token, app_secret) {
            (Some(base_url), Some(phone_number_id), Some(access_token), Some(app_secret)) => {
                Ok(Some((WhatsAppConfig { base_url, phone_number_id, access_token, app_secret }, verify_token)))
            }
            _ => Err(()),
        }
    }

    pub(super) fn twilio(
        &mut self,
        raw: Option<RawTwilio>,
        public_url: Option<&str>,
    ) -> Result<Option<TwilioConfig>, ()> {
        let Some(raw) = raw else { return Ok(None) };
        let base_url = match raw.base_url {
            Some(u) => self.http_url_text("twilio.base_url", u),
            None => Some(TWILIO_BASE.to_string()),
        };
        let account_sid = self.text_required("twilio.account_sid", raw.account_sid);
        let auth_token = self.secret_required("twilio.auth_token", raw.auth_token);
        let from = self.text_required("twilio.from", raw.from);
        let status_callback = match (raw.status_callbacks.unwrap_or(true), public_url) {
            (true, Some(base)) => Some(format!("{base}/webhooks/twilio/status")),
            _ => None,
        };
        match (base_url, account_sid, auth_token, from) {
            (Some(base_url), Some(account_sid), Some(auth_token), Some(from)) => {
                Ok(Some(TwilioConfig { base_url, account_sid, auth_token, from, status_callback }))
            }
            _ => Err(()),
        }
    }

    /// The shared settings and every rule; `None` if anything was wrong.
    pub(super) fn automations(
        &mut self,
        settings: Option<RawAutomations>,
        rules: Vec<RawRule>,
        connections: &[String],
    ) -> Option<(String, bool, Vec<Rule>)> {
        let settings = settings.unwrap_or_default();
        let country = match settings.default_country {
            None => Some("NL".to_string()),
            Some(c) if kade_core::phone::calling_code(c.get_ref()).is_some() => Some(c.get_ref().trim().to_uppercase()),
            Some(c) => {
                let msg = format!(
                    "{:?} is not a country Kade knows the calling code of (e.g. \"NL\", \"BE\", \"DE\")",
                    c.get_ref()
                );
                self.errors.push("automations.default_country", msg, Some(c.span()));
                None
            }
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, mut raw) in rules.into_iter().enumerate() {
            let label = raw.spec.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
            let path = format!("automation[{i}]");
            if let Some(secret) = raw.spec.secret.take() {
                let span =
                    raw.keys.iter().find(|(k, _)| k == "secret").map(|(_, s)| s.clone()).unwrap_or(raw.span.clone());
                match self.secret_text(&format!("{path}.secret"), Spanned::new(span, secret), 1) {
                    Some(s) => raw.spec.secret = Some(s.expose().to_string()),
                    None => ok = false,
                }
            }
            match raw.spec.build() {
                Ok(rule) => {
                    // Kade installs a hook for the trigger's event: a typo would fail at startup.
                    let unknown = rule.trigger.events().into_iter().find(|e| !super::events::is_known(e));
                    if let Some(e) = unknown {
                        let hint =
                            super::events::suggest(&e).map(|s| format!("; did you mean {s:?}?")).unwrap_or_default();
                        let span = raw.keys.iter().find(|(k, _)| k == "trigger").map(|(_, s)| s.clone());
                        let msg =
                            format!("rule {label:?}: {e:?} is not a Picqer event{hint} (or use \"order.shipped\")");
                        self.errors.push(format!("{path}.trigger"), msg, span);
                        ok = false;
                    } else if let Some(c) = &rule.connection
                        && !connections.contains(c)
                    {
                        let span = raw.keys.iter().find(|(k, _)| k == "connection").map(|(_, s)| s.clone());
                        self.errors.push(
                            format!("{path}.connection"),
                            format!("rule {label:?}: there is no [picqer.{c}]"),
                            span,
                        );
                        ok = false;
                    } else if out.iter().any(|r: &Rule| r.name == rule.name) {
                        self.errors.push(
                            format!("{path}.name"),
                            format!("rule {label:?} is defined twice"),
                            Some(raw.span.clone()),
                        );
                        ok = false;
                    } else {
                        out.push(rule);
                    }
                }
                Err(problems) => {
                    ok = false;
                    for (key, message) in problems {
                        let top = key.split(['.', '[']).next().unwrap_or_default();
                        let span =
                            raw.keys.iter().find(|(k, _)| k == top).map(|(_, s)| s.clone()).unwrap_or(raw.span.clone());
                        self.errors.push(format!("{path}.{key}"), format!("rule {label:?}: {message}"), Some(span));
                    }
                }
            }
        }
        (ok && country.is_some())
            .then(|| (country.unwrap_or_default(), settings.allow_private_webhooks.unwrap_or(false), out))
    }
}
