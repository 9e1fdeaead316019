//! Webhooks the Cloud API sends: message statuses and inbound customer messages, in the
//! `whatsapp_business_account` envelope, signed `X-Hub-Signature-256: sha256=<hex>` (HMAC-SHA256
//! of the raw body with the app secret; the legacy `X-Hub-Signature` carries SHA-1 likewise).

use ring::hmac;
use serde_json::{Value, json};

use super::{WaMessage, WaSim, api::digits};
use crate::callbacks::Outgoing;
use crate::picqer::server::lock;

/// `sha256=<lowercase hex>`.
pub fn signature_256(app_secret: &str, body: &[u8]) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, app_secret.as_bytes()), body);
    format!("sha256={}", hex::encode(tag))
}

fn signature_sha1(app_secret: &str, body: &[u8]) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, app_secret.as_bytes()), body);
    format!("sha1={}", hex::encode(tag))
}

fn envelope(sim: &WaSim, value: Value) -> Value {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({
        "display_phone_number": sim.config.display_phone_number,
        "phone_number_id": sim.config.phone_number_id,
    });
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": sim.config.waba_id, "changes": [{"field": "messages", "value": value}]}],
    })
}

fn post(sim: &WaSim, url: String, body: String, label: String, delay_ms: u64) {
    let headers = vec![
        ("x-hub-signature-256".to_owned(), signature_256(&sim.config.app_secret, body.as_bytes())),
        ("x-hub-signature".to_owned(), signature_sha1(&sim.config.app_secret, body.as_bytes())),
        ("user-agent".to_owned(), "facebookexternalua".to_owned()),
    ];
    sim.poster.send(Outgoing { url, headers, content_type: "application/json", body, label, delay_ms });
}

fn error_for(code: u64) -> Value {
    let (title, details) = match code {
        131047 => (
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        ),
        131026 => (
            "Message undeliverable",
            "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number.",
        ),
        _ => ("Message failed to send", "The message could not be delivered."),
    };
    json!({"code": code, "title": title, "message": title, "error_data": {"details": details}})
}

/// Records a status for a message and, when a callback URL is set, queues its webhook.
pub fn push_status(sim: &WaSim, id: &str, status: &str, error_code: Option<u64>, delay_ms: u64) -> Result<(), String> {
    let msg = record_status(sim, id, status, error_code)?;
    emit_status(sim, &msg, status, delay_ms);
    Ok(())
}

/// The message's new status, as the Cloud API would report it afterwards.
pub fn record_status(sim: &WaSim, id: &str, status: &str, error_code: Option<u64>) -> Result<WaMessage, String> {
    if !["sent", "delivered", "read", "failed"].contains(&status) {
        return Err(format!("status must be sent, delivered, read or failed (got {status:?})"));
    }
    let mut st = lock(&sim.state);
    let Some(m) = st.messages.iter_mut().find(|m| m.id == id) else {
        return Err(format!("no message {id}"));
    };
    m.status = status.to_owned();
    m.statuses.push(status.to_owned());
    if status == "failed" {
        m.error_code = Some(error_code.unwrap_or(131000));
    }
    Ok(m.clone())
}

/// Queues the status webhook for `status` of `msg` (nothing without a callback URL).
pub fn emit_status(sim: &WaSim, msg: &WaMessage, status: &str, delay_ms: u64) {
    let Some(url) = lock(&sim.state).callback_url.clone() else { return };
    let now = sim.clock.now_ms();
    let mut entry = json!({
        "id": msg.id,
        "status": status,
        "timestamp": (now / 1000).to_string(),
        "recipient_id": msg.to,
    });
    if let Some(data) = &msg.biz_opaque_callback_data {
        entry["biz_opaque_callback_data"] = json!(data);
    }
    if status == "failed" {
        entry["errors"] = json!([error_for(msg.error_code.unwrap_or(131000))]);
    } else {
        let category = if msg.kind == "template" { "utility" } else { "service" };
        entry["conversation"] = json!({"id": format!("conv{:x}", msg.created_ms), "origin": {"type": category}});
        entry["pricing"] = json!({"billable": true, "pricing_model": "PMP", "category": category});
    }
    let body = envelope(sim, json!({ "statuses": [entry] })).to_string();
    post(sim, url, body, format!("{}:{status}", msg.id), delay_ms);
}

/// Moves a fresh message through its statuses (recorded in order), emitting the webhooks in the
/// configured callback mode.
pub fn progress(sim: &WaSim, id: &str, statuses: &[(&str, Option<u64>)]) {
    let mut emitted = Vec::new();
    for (status, code) in statuses {
        if let Ok(msg) = record_status(sim, id, status, *code) {
            emitted.push((msg, (*status).to_owned()));
        }
    }
    let mode = lock(&sim.state).callback_mode;
    for (msg, status) in mode.arrange(emitted) {
        emit_status(sim, &msg, &status, sim.config.status_delay_ms);
    }
}

/// A customer writes to the business: opens (renews) the 24-hour window for that number.
pub fn inbound(sim: &WaSim, from: &str, text: &str) -> Result<(), String> {
    let wa_id = digits(from);
    if !(8..=15).contains(&wa_id.len()) {
        return Err(format!("{from:?} is not a phone number in international format"));
    }
    let now = sim.clock.now_ms();
    let url = {
        let mut st = lock(&sim.state);
        st.inbound.insert(wa_id.clone(), now);
        st.next_id += 1;
        st.callback_url.clone().map(|u| (u, st.next_id))
    };
    if let Some((url, n)) = url {
        let body = envelope(
            sim,
            json!({
                "contacts": [{"profile": {"name": "Sim Customer"}, "wa_id": wa_id}],
                "messages": [{
                    "from": wa_id,
                    "id": format!("wamid.inbound{n:012}"),
                    "timestamp": (now / 1000).to_string(),
                    "type": "text",
                    "text": {"body": text},
                }],
            }),
        )
        .to_string();
        post(sim, url, body, format!("inbound:{wa_id}"), 0);
    }
    Ok(())
}
