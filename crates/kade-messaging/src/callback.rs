//! Delivery receipts: verify the provider's signature over the raw bytes first, then parse.
//!
//! Both providers sign with an HMAC and both checks use `ring::hmac::verify`, which compares in
//! constant time, so a forger learns nothing from how long a rejection takes.

use base64::Engine as _;
use ring::hmac;
use serde_json::Value;

/// One delivery receipt, in provider-neutral terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusUpdate {
    /// The wamid or the Twilio `SM…` sid.
    pub provider_id: String,
    /// The `Outbound.key` when the provider echoed it (WhatsApp `biz_opaque_callback_data`,
    /// Twilio `?key=` on the callback URL).
    pub key: Option<String>,
    /// sent | delivered | read | failed | undelivered (Twilio's intermediate states pass through).
    pub state: String,
    pub error_code: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallbackError {
    #[error("the {0} header is missing: the request was not signed by the provider")]
    MissingSignature(&'static str),
    #[error("the {0} signature does not match: wrong secret, or the body or URL was changed on the way")]
    BadSignature(&'static str),
    #[error("the callback body is not the documented shape: {0}")]
    Malformed(String),
}

const WA_HEADER: &str = "X-Hub-Signature-256";
const TW_HEADER: &str = "X-Twilio-Signature";

/// Verifies `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>` and returns the
/// `statuses[]` of every entry/change (inbound customer messages are ignored here).
pub fn verify_whatsapp_callback(
    app_secret: &str,
    raw_body: &[u8],
    x_hub_signature_256: Option<&str>,
) -> Result<Vec<StatusUpdate>, CallbackError> {
    let header = x_hub_signature_256.ok_or(CallbackError::MissingSignature(WA_HEADER))?;
    let hex = header.trim().strip_prefix("sha256=").ok_or(CallbackError::BadSignature(WA_HEADER))?;
    let tag = decode_hex(hex).ok_or(CallbackError::BadSignature(WA_HEADER))?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, app_secret.as_bytes());
    hmac::verify(&key, raw_body, &tag).map_err(|_| CallbackError::BadSignature(WA_HEADER))?;

    let doc: Value = serde_json::from_slice(raw_body).map_err(|e| CallbackError::Malformed(e.to_string()))?;
    let entries = doc.get("entry").and_then(Value::as_array).ok_or_else(|| {
        CallbackError::Malformed("no `entry` array (expected a whatsapp_business_account envelope)".into())
    })?;
    let mut out = Vec::new();
    for change in entries.iter().filter_map(|e| e.get("changes")?.as_array()).flatten() {
        let Some(statuses) = change.pointer("/value/statuses").and_then(Value::as_array) else { continue };
        for s in statuses {
            let id = s.get("id").and_then(Value::as_str);
            let state = s.get("status").and_then(Value::as_str);
            let (Some(id), Some(state)) = (id, state) else {
                return Err(CallbackError::Malformed("a status without `id` or `status`".into()));
            };
            let error_code = s.pointer("/errors/0/code").map(|c| match c {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            out.push(StatusUpdate {
                provider_id: id.to_owned(),
                key: s.get("biz_opaque_callback_data").and_then(Value::as_str).map(str::to_owned),
                state: state.to_owned(),
                error_code,
            });
        }
    }
    Ok(out)
}

/// The string Twilio signs: the full URL as it called it, then each POST parameter's name and
/// value, sorted by name.
pub fn twilio_signing_input(full_url: &str, form_params: &[(String, String)]) -> String {
    let mut params: Vec<&(String, String)> = form_params.iter().collect();
    params.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut s = full_url.to_owned();
    for (k, v) in params {
        s.push_str(k);
        s.push_str(v);
    }
    s
}

/// Verifies `X-Twilio-Signature` (base64 HMAC-SHA1 keyed with the auth token) and parses the
/// form fields of a message status callback.
pub fn verify_twilio_callback(
    auth_token: &str,
    full_url: &str,
    form_params: &[(String, String)],
    x_twilio_signature: Option<&str>,
) -> Result<StatusUpdate, CallbackError> {
    let header = x_twilio_signature.ok_or(CallbackError::MissingSignature(TW_HEADER))?;
    let tag = base64::engine::general_purpose::STANDARD
        .decode(header.trim())
        .map_err(|_| CallbackError::BadSignature(TW_HEADER))?;
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth_token.as_bytes());
    hmac::verify(&key, twilio_signing_input(full_url, form_params).as_bytes(), &tag)
        .map_err(|_| CallbackError::BadSignature(TW_HEADER))?;

    let field = |name: &str| form_params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let provider_id = field("MessageSid")
        .or_else(|| field("SmsSid"))
        .ok_or_else(|| CallbackError::Malformed("no MessageSid field".into()))?;
    let state = field("MessageStatus")
        .or_else(|| field("SmsStatus"))
        .ok_or_else(|| CallbackError::Malformed("no MessageStatus field".into()))?;
    let key = full_url
        .split_once('?')
        .and_then(|(_, q)| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "key").map(|(_, v)| v.into_owned()));
    Ok(StatusUpdate { provider_id, key, state, error_code: field("ErrorCode").filter(|c| !c.is_empty()) })
}

/// `sha256=<lowercase hex>` as WhatsApp sends it; public so tests and simulators can sign.
pub fn whatsapp_signature(app_secret: &str, raw_body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, app_secret.as_bytes());
    let tag = hmac::sign(&key, raw_body);
    let mut s = String::from("sha256=");
    for b in tag.as_ref() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Base64 HMAC-SHA1 as Twilio sends it.
pub fn twilio_signature(auth_token: &str, full_url: &str, form_params: &[(String, String)]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth_token.as_bytes());
    let tag = hmac::sign(&key, twilio_signing_input(full_url, form_params).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}
