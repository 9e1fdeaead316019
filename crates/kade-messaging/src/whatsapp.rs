//! WhatsApp Business Cloud API: `POST {base}/{phone_number_id}/messages` with a bearer token.

use kade_transport::header::{AUTHORIZATION, HeaderMap};
use kade_transport::{Partner, Request, Transport};
use serde_json::{Value, json};

use crate::config::{ConfigError, WhatsAppConfig, check_http_url, invalid};
use crate::http;
use crate::outbound::{SendError, Sent, WhatsAppContent};

#[derive(Clone)]
pub(crate) struct WhatsAppClient {
    cfg: WhatsAppConfig,
    transport: Transport,
}

/// The Cloud API sends no rate-limit headers; it documents 80 messages per second per business
/// number by default (more on higher tiers), and answers 130429 beyond it.
const WHATSAPP: Partner = Partner::new("whatsapp");
const MESSAGES_PER_SECOND: u32 = 80;

/// Codes where repeating the same request cannot succeed.
const PERMANENT: &[u64] = &[
    100,    // invalid parameter
    190,    // access token expired/invalid
    368,    // temporarily blocked for policy violations
    131008, // required parameter missing
    131009, // parameter value invalid
    131026, // undeliverable (not on WhatsApp)
    131047, // re-engagement: free text outside the 24-hour window
    131048, // spam rate limit (quality): retrying makes it worse
    131049, // per-user marketing cap
    131051, // unsupported message type
    132000, // template parameter count mismatch
    132001, // template does not exist in that language / not approved
    132005, // translated text too long
    132012, // parameter format mismatch
    132015, // template paused
    132016, // template disabled
    133010, // phone number not registered
];

/// Codes that mean "later": throughput (130429), pair rate (131056), generic/service errors.
const TRANSIENT: &[u64] = &[4, 80007, 130429, 131000, 131016, 131056, 133004];

impl WhatsAppClient {
    pub(crate) fn new(cfg: WhatsAppConfig, timeout: std::time::Duration) -> Result<Self, ConfigError> {
        check_http_url("whatsapp.base_url", &cfg.base_url)?;
        if cfg.phone_number_id.trim().is_empty() {
            return Err(invalid(
                "whatsapp.phone_number_id",
                "is empty (the phone-number ID from the WhatsApp Manager, not the number)",
            ));
        }
        if cfg.access_token.trim().is_empty() {
            return Err(invalid("whatsapp.access_token", "is empty"));
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            kade_transport::bearer(&cfg.access_token).map_err(|m| invalid("whatsapp.access_token", m))?,
        );
        let base = cfg.base_url.trim_end_matches('/').to_owned();
        let transport = http::transport(WHATSAPP, &base, timeout, MESSAGES_PER_SECOND, headers)
            .map_err(|m| invalid("whatsapp", m))?;
        Ok(WhatsAppClient { cfg: WhatsAppConfig { base_url: base, ..cfg }, transport })
    }

    pub(crate) fn request_body(key: &str, to: &str, content: &WhatsAppContent) -> Value {
        // The Cloud API takes the number without the leading '+'.
        let to = to.trim().trim_start_matches('+');
        let mut body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "biz_opaque_callback_data": key,
        });
        match content {
            WhatsAppContent::Text(text) => {
                body["type"] = json!("text");
                body["text"] = json!({ "body": text, "preview_url": false });
            }
            WhatsAppContent::Template { name, language, params } => {
                let mut template = json!({ "name": name, "language": { "code": language } });
                if !params.is_empty() {
                    let parameters: Vec<Value> = params.iter().map(|p| json!({ "type": "text", "text": p })).collect();
                    template["components"] = json!([{ "type": "body", "parameters": parameters }]);
                }
                body["type"] = json!("template");
                body["template"] = template;
            }
        }
        body
    }

    pub(crate) async fn send(&self, key: &str, to: &str, content: &WhatsAppContent) -> Result<Sent, SendError> {
        let what = format!("WhatsApp POST /{}/messages", self.cfg.phone_number_id);
        let body = serde_json::to_vec(&Self::request_body(key, to, content)).unwrap_or_default();
        let req = Request::post(format!("/{}/messages", self.cfg.phone_number_id)).body("application/json", body);
        let resp = self.transport.send(&req).await.map_err(|e| http::send_error(&what, e, classify))?;
        let (status, text) = (resp.status, resp.text());
        let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match doc.pointer("/messages/0/id").and_then(Value::as_str) {
            Some(id) => Ok(Sent { provider_id: id.to_owned() }),
            // Accepted but unreadable: it was probably sent, we cannot name it.
            None => Err(SendError::in_doubt(format!(
                "{what} answered {status} without messages[0].id: {}",
                http::excerpt(&text)
            ))),
        }
    }
}

/// Maps an error answer to [`SendError`] using the Graph error code first, the HTTP status second.
pub(crate) fn classify(status: u16, text: &str, retry_after: Option<std::time::Duration>, what: &str) -> SendError {
    let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let code = doc.pointer("/error/code").and_then(|c| c.as_u64().or_else(|| c.as_str()?.parse().ok()));
    let message =
        doc.pointer("/error/message").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| http::excerpt(text));
    let details = doc.pointer("/error/error_data/details").and_then(Value::as_str);
    let reason = match (code, details) {
        (Some(c), Some(d)) => format!("{what} answered {status}, code {c}: {message} ({d})"),
        (Some(c), None) => format!("{what} answered {status}, code {c}: {message}"),
        _ => format!("{what} answered {status}: {message}"),
    };
    match code {
        Some(c) if TRANSIENT.contains(&c) => SendError::Transient { reason, retry_after },
        Some(c) if PERMANENT.contains(&c) => SendError::permanent(c.to_string(), reason),
        _ if status == 429 || status >= 500 => SendError::Transient { reason, retry_after },
        _ if status == 401 || status == 403 => {
            SendError::permanent(code.map_or(status.to_string(), |c| c.to_string()), reason)
        }
        Some(c) => SendError::permanent(c.to_string(), reason),
        None => SendError::permanent(status.to_string(), reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_template_and_text_bodies() {
        let t = WhatsAppContent::Template {
            name: "order_shipped".into(),
            language: "nl".into(),
            params: vec!["#1001".into(), "PostNL".into()],
        };
        let b = WhatsAppClient::request_body("r1:o9:0", "+31612345678", &t);
        assert_eq!(b["to"], "31612345678");
        assert_eq!(b["type"], "template");
        assert_eq!(b["biz_opaque_callback_data"], "r1:o9:0");
        assert_eq!(b["template"]["language"]["code"], "nl");
        assert_eq!(b["template"]["components"][0]["parameters"][1]["text"], "PostNL");
        let b = WhatsAppClient::request_body("k", "+31612345678", &WhatsAppContent::Text("hoi".into()));
        assert_eq!(b["text"]["body"], "hoi");
    }

    #[test]
    fn classifies_graph_errors() {
        let body = |c: u64| format!(r#"{{"error":{{"message":"x","type":"OAuthException","code":{c}}}}}"#);
        assert!(
            matches!(classify(400, &body(132000), None, "t"), SendError::Permanent { code, .. } if code == "132000")
        );
        assert!(matches!(classify(400, &body(130429), None, "t"), SendError::Transient { .. }));
        assert!(matches!(classify(401, &body(190), None, "t"), SendError::Permanent { code, .. } if code == "190"));
        assert!(matches!(classify(503, "<html>", None, "t"), SendError::Transient { .. }));
        assert!(matches!(classify(404, "", None, "t"), SendError::Permanent { code, .. } if code == "404"));
    }
}
