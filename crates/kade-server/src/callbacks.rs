//! Provider delivery receipts: `POST /webhooks/whatsapp` (plus the GET verification handshake)
//! and `POST /webhooks/twilio/status`.
//!
//! Each is verified over the raw bytes with the provider's own scheme (kade-messaging's verify
//! functions, constant-time HMAC checks) before anything is parsed or recorded; a bad or missing
//! signature answers 401 and changes nothing. A verified receipt moves the send it names (by our
//! key, else by the provider's id) to sent, delivered or failed — never backwards, and it is what
//! settles a send that was left ambiguous.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use kade_messaging::{StatusUpdate, verify_twilio_callback, verify_whatsapp_callback};
use kade_store::send_state;
use std::collections::HashMap;

use crate::AppState;
use crate::error::ApiError;

fn not_configured(what: &str) -> Response {
    ApiError::not_found(format!("{what} is not configured on this Kade")).into_response()
}

/// Maps a provider status to a send-log state; `None` for intermediate states (queued, ...).
fn state_of(status: &str) -> Option<&'static str> {
    match status {
        "sent" => Some(send_state::SENT),
        "delivered" | "read" => Some(send_state::DELIVERED),
        "failed" | "undelivered" => Some(send_state::FAILED_PERMANENT),
        _ => None,
    }
}

async fn apply(state: &AppState, updates: &[StatusUpdate]) -> Result<usize, ApiError> {
    let mut applied = 0;
    for u in updates {
        let Some(to) = state_of(&u.state) else { continue };
        let row =
            state.engine.store().apply_status(u.key.as_deref(), &u.provider_id, to, u.error_code.as_deref()).await?;
        if let Some(row) = row {
            applied += 1;
            tracing::info!(rule = %row.rule, entity = %row.entity, state = %row.state, "delivery receipt applied");
        }
    }
    Ok(applied)
}

/// The GET handshake Meta performs when the callback URL is registered.
pub async fn whatsapp_verify(State(state): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(expected) = state.engine.automations().and_then(|a| a.callbacks.whatsapp_verify_token.clone()) else {
        return not_configured("whatsapp.verify_token");
    };
    let token = q.get("hub.verify_token").map(String::as_str).unwrap_or_default();
    // Constant time: compare HMAC tags (ring's verify) rather than the strings.
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"kade whatsapp verify token");
    let same = ring::hmac::verify(&key, token.as_bytes(), ring::hmac::sign(&key, expected.as_bytes()).as_ref()).is_ok();
    if q.get("hub.mode").map(String::as_str) == Some("subscribe") && same {
        (StatusCode::OK, q.get("hub.challenge").cloned().unwrap_or_default()).into_response()
    } else {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "hub.verify_token does not match whatsapp.verify_token")
            .into_response()
    }
}

pub async fn whatsapp(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = state.engine.automations().and_then(|a| a.callbacks.whatsapp_app_secret.clone()) else {
        return not_configured("whatsapp");
    };
    let sig = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    match verify_whatsapp_callback(&secret, &body, sig) {
        Ok(updates) => match apply(&state, &updates).await {
            Ok(n) => (StatusCode::OK, axum::Json(serde_json::json!({"applied": n}))).into_response(),
            Err(e) => e.into_response(),
        },
        Err(e) => refuse(e),
    }
}

fn refuse(e: kade_messaging::CallbackError) -> Response {
    use kade_messaging::CallbackError as E;
    match e {
        E::MissingSignature(_) | E::BadSignature(_) => {
            ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", e.to_string()).into_response()
        }
        E::Malformed(_) => ApiError::new(StatusCode::BAD_REQUEST, "malformed", e.to_string()).into_response(),
    }
}

pub async fn twilio_status(State(state): State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let keys = state.engine.automations().map(|a| a.callbacks.clone()).unwrap_or_default();
    let (Some(token), Some(public)) = (keys.twilio_auth_token, keys.twilio_status_url) else {
        return not_configured("twilio.status_callback");
    };
    // Twilio signs the URL exactly as it called it: the configured public URL (proxies change
    // the host we see) with the query of this request (the ?key= Kade added).
    let base = public.split('?').next().unwrap_or(&public);
    let full_url = match uri.query() {
        Some(q) => format!("{base}?{q}"),
        None => base.to_string(),
    };
    let Some(params) = parse_form(&body) else {
        return ApiError::new(StatusCode::BAD_REQUEST, "malformed", "the body is not form-encoded UTF-8")
            .into_response();
    };
    let sig = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok());
    match verify_twilio_callback(&token, &full_url, &params, sig) {
        Ok(update) => match apply(&state, std::slice::from_ref(&update)).await {
            Ok(n) => (StatusCode::OK, axum::Json(serde_json::json!({"applied": n}))).into_response(),
            Err(e) => e.into_response(),
        },
        Err(e) => refuse(e),
    }
}

/// `application/x-www-form-urlencoded` → pairs; `None` when it is not valid UTF-8 after decoding.
fn parse_form(body: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

fn decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b'%' => return None,
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode() {
        let p = parse_form(b"MessageSid=SM1&To=%2B31612345678&Body=hi+there&Empty=").unwrap();
        assert_eq!(p[1], ("To".to_string(), "+31612345678".to_string()));
        assert_eq!(p[2].1, "hi there");
        assert_eq!(p[3].1, "");
        assert!(parse_form(b"a=%zz").is_none());
        assert!(parse_form(b"a=%2").is_none());
    }
}
