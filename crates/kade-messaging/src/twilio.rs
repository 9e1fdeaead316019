//! Twilio Programmable Messaging: form-encoded `POST /2010-04-01/Accounts/{sid}/Messages.json`
//! with Basic auth, and the list call used to resolve in-doubt sends (Messages has no
//! idempotency key, so "did it go out?" is answered by listing what was sent).

use kade_transport::header::{AUTHORIZATION, HeaderMap};
use kade_transport::{Method, Partner, Request, Transport, TransportError};
use serde_json::Value;

use crate::config::{ConfigError, TwilioConfig, check_http_url, invalid};
use crate::http;
use crate::outbound::{Lookup, SendError, Sent};

#[derive(Clone)]
pub(crate) struct TwilioClient {
    cfg: TwilioConfig,
    transport: Transport,
}

/// Twilio sends no rate-limit headers; it queues messages per sender and limits concurrent API
/// requests per account (429, error 20429, beyond it). A steady rate keeps a burst of
/// automations well inside that.
const TWILIO: Partner = Partner::new("twilio");
const REQUESTS_PER_SECOND: u32 = 25;

/// Twilio error codes where repeating cannot help.
const PERMANENT: &[u64] = &[
    20003, // authentication failed
    20404, // resource not found (wrong account sid)
    21211, // invalid To
    21408, // region not enabled
    21606, // From cannot send
    21610, // recipient replied STOP (opted out)
    21612, // cannot route to this number
    21614, // not a mobile number
    30003, 30005, 30006, 30007,
];

/// How many list pages a lookup follows before it gives up (it filters by day, To and From).
const MAX_PAGES: usize = 5;

impl TwilioClient {
    pub(crate) fn new(cfg: TwilioConfig, timeout: std::time::Duration) -> Result<Self, ConfigError> {
        check_http_url("twilio.base_url", &cfg.base_url)?;
        if !cfg.account_sid.starts_with("AC") {
            return Err(invalid("twilio.account_sid", "must start with AC (the Account SID from the Twilio console)"));
        }
        if cfg.auth_token.trim().is_empty() {
            return Err(invalid("twilio.auth_token", "is empty"));
        }
        if cfg.from.trim().is_empty() {
            return Err(invalid("twilio.from", "is empty (an E.164 sender number or an alphanumeric sender id)"));
        }
        if let Some(cb) = &cfg.status_callback {
            check_http_url("twilio.status_callback", cb)?;
        }
        let mut headers = HeaderMap::new();
        let auth = kade_transport::basic_auth(&cfg.account_sid, &cfg.auth_token).map_err(|m| invalid("twilio", m))?;
        headers.insert(AUTHORIZATION, auth);
        let base = cfg.base_url.trim_end_matches('/').to_owned();
        let transport =
            http::transport(TWILIO, &base, timeout, REQUESTS_PER_SECOND, headers).map_err(|m| invalid("twilio", m))?;
        Ok(TwilioClient { cfg: TwilioConfig { base_url: base, ..cfg }, transport })
    }

    fn messages_path(&self) -> String {
        format!("/2010-04-01/Accounts/{}/Messages.json", self.cfg.account_sid)
    }

    /// The StatusCallback URL for one message: the configured URL plus `key=<Outbound.key>`.
    pub(crate) fn callback_url(base: &str, key: &str) -> String {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}key={}", form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>())
    }

    pub(crate) async fn send(&self, key: &str, to: &str, body: &str) -> Result<Sent, SendError> {
        let mut form: Vec<(&str, String)> =
            vec![("To", to.trim().to_owned()), ("From", self.cfg.from.clone()), ("Body", body.to_owned())];
        if let Some(cb) = &self.cfg.status_callback {
            form.push(("StatusCallback", Self::callback_url(cb, key)));
        }
        let what = "Twilio POST Messages.json";
        let req = Request::post(self.messages_path()).form(form);
        let resp = self.transport.send(&req).await.map_err(|e| http::send_error(what, e, classify))?;
        let (status, text) = (resp.status, resp.text());
        let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match doc.get("sid").and_then(Value::as_str) {
            Some(sid) => Ok(Sent { provider_id: sid.to_owned() }),
            None => {
                Err(SendError::in_doubt(format!("{what} answered {status} without a sid: {}", http::excerpt(&text))))
            }
        }
    }

    /// Lists messages To/From, newest first, until they are older than `since_ms`, and matches
    /// the body. No `DateSent` filter: a message still `queued` has no `date_sent` and would be
    /// missed — exactly the in-doubt case this lookup exists for. `date_created` bounds the scan.
    pub(crate) async fn lookup(&self, to: &str, body: &str, since_ms: i64) -> Result<Lookup, SendError> {
        let what = "Twilio GET Messages.json";
        // Clock skew between us and Twilio: look a little further back than the send started.
        let horizon = since_ms - 10 * 60 * 1000;
        let mut req = Request::get(self.messages_path()).query([
            ("To", to.trim().to_owned()),
            ("From", self.cfg.from.clone()),
            ("PageSize", "100".to_owned()),
        ]);
        for _ in 0..MAX_PAGES {
            // A lookup changes nothing: any failure without an answer is simply "try again later".
            let resp = self.transport.send(&req).await.map_err(|e| match e {
                TransportError::Io { source, .. } => SendError::transient(format!("{what}: {source}")),
                e => http::send_error(what, e, classify),
            })?;
            let doc: Value = serde_json::from_slice(&resp.body)
                .map_err(|e| SendError::transient(format!("{what}: unreadable answer: {e}")))?;
            let messages = doc.get("messages").and_then(Value::as_array).cloned().unwrap_or_default();
            for m in &messages {
                if m.get("body").and_then(Value::as_str) == Some(body)
                    && let Some(sid) = m.get("sid").and_then(Value::as_str)
                {
                    return Ok(Lookup::Found(Sent { provider_id: sid.to_owned() }));
                }
                let created = m.get("date_created").and_then(Value::as_str).and_then(crate::timefmt::parse_rfc2822_ms);
                if created.is_some_and(|c| c < horizon) {
                    return Ok(Lookup::NotFound);
                }
            }
            match doc.get("next_page_uri").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => {
                    let url = reqwest::Url::parse(&format!("{}{next}", self.cfg.base_url))
                        .map_err(|e| SendError::transient(format!("{what}: unusable next_page_uri: {e}")))?;
                    req = Request::to_url(Method::GET, url);
                }
                _ => return Ok(Lookup::NotFound),
            }
        }
        // Too many candidates to be sure it is absent.
        Err(SendError::transient(format!("{what}: more than {MAX_PAGES} pages of recent messages to this number")))
    }
}

pub(crate) fn classify(status: u16, text: &str, retry_after: Option<std::time::Duration>, what: &str) -> SendError {
    let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let code = doc.get("code").and_then(|c| c.as_u64().or_else(|| c.as_str()?.parse().ok()));
    let message = doc.get("message").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| http::excerpt(text));
    let reason = match code {
        Some(c) => format!("{what} answered {status}, error {c}: {message}"),
        None => format!("{what} answered {status}: {message}"),
    };
    match code {
        Some(20429) => SendError::Transient { reason, retry_after },
        Some(c) if PERMANENT.contains(&c) => SendError::permanent(c.to_string(), reason),
        _ if status == 429 || status >= 500 => SendError::Transient { reason, retry_after },
        Some(c) => SendError::permanent(c.to_string(), reason),
        None => SendError::permanent(status.to_string(), reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_url_carries_the_key() {
        assert_eq!(
            TwilioClient::callback_url("https://hub.example/cb/twilio", "r1:o/9"),
            "https://hub.example/cb/twilio?key=r1%3Ao%2F9"
        );
        assert_eq!(TwilioClient::callback_url("https://h/cb?t=1", "k"), "https://h/cb?t=1&key=k");
    }

    #[test]
    fn classifies_twilio_errors() {
        let body = |c: u64, s: u16| format!(r#"{{"code":{c},"message":"m","more_info":"x","status":{s}}}"#);
        assert!(
            matches!(classify(400, &body(21211, 400), None, "t"), SendError::Permanent { code, .. } if code == "21211")
        );
        assert!(
            matches!(classify(400, &body(21610, 400), None, "t"), SendError::Permanent { code, .. } if code == "21610")
        );
        assert!(
            matches!(classify(401, &body(20003, 401), None, "t"), SendError::Permanent { code, .. } if code == "20003")
        );
        assert!(matches!(classify(429, &body(20429, 429), None, "t"), SendError::Transient { .. }));
        assert!(matches!(classify(502, "bad gateway", None, "t"), SendError::Transient { .. }));
    }
}
