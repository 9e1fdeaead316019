//! Status progression and StatusCallback requests, signed the way Twilio signs them:
//! `X-Twilio-Signature = base64(HMAC-SHA1(auth token, url + concat(sorted name+value)))`.

use base64::Engine as _;
use ring::hmac;

use super::{SmsMessage, TwSim};
use crate::callbacks::Outgoing;
use crate::picqer::server::lock;

/// The signature of a form POST to `url`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.to_owned();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth_token.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hmac::sign(&key, data.as_bytes()).as_ref())
}

fn form_encode(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish()
}

/// Moves a fresh message through sent → delivered, or to `outcome` (status, error code). The
/// statuses are recorded in order; their callbacks go out in the configured callback mode.
pub fn progress(sim: &TwSim, sid: &str, outcome: Option<(String, u32)>) {
    let steps: Vec<(String, Option<u32>)> = match outcome {
        Some((status, code)) if status == "failed" => vec![("failed".into(), Some(code))],
        Some((status, code)) => vec![("sent".into(), None), (status, Some(code))],
        None => vec![("sent".into(), None), ("delivered".into(), None)],
    };
    let mut emitted = Vec::new();
    for (status, code) in steps {
        if let Some(msg) = record_status(sim, sid, &status, code) {
            emitted.push((msg, status, code));
        }
    }
    let mode = lock(&sim.state).callback_mode;
    for (msg, status, code) in mode.arrange(emitted) {
        emit(sim, &msg, &status, code, sim.config.status_delay_ms);
    }
}

/// Records a status and queues the signed callback (when the message has a StatusCallback).
pub fn set_status(sim: &TwSim, sid: &str, status: &str, error_code: Option<u32>, delay_ms: u64) {
    if let Some(msg) = record_status(sim, sid, status, error_code) {
        emit(sim, &msg, status, error_code, delay_ms);
    }
}

fn record_status(sim: &TwSim, sid: &str, status: &str, error_code: Option<u32>) -> Option<SmsMessage> {
    let now = sim.clock.now_ms();
    let mut st = lock(&sim.state);
    let m = st.messages.iter_mut().find(|m| m.sid == sid)?;
    m.status = status.to_owned();
    m.updated_ms = now;
    if status == "sent" && m.sent_ms.is_none() {
        m.sent_ms = Some(now);
    }
    if error_code.is_some() {
        m.error_code = error_code;
    }
    Some(m.clone())
}

fn emit(sim: &TwSim, msg: &SmsMessage, status: &str, error_code: Option<u32>, delay_ms: u64) {
    let Some(url) = msg.status_callback.clone() else { return };
    let mut params: Vec<(String, String)> = vec![
        ("AccountSid".into(), sim.config.account_sid.clone()),
        ("ApiVersion".into(), "2010-04-01".into()),
        ("From".into(), msg.from.clone()),
        ("MessageSid".into(), msg.sid.clone()),
        ("MessageStatus".into(), status.into()),
        ("SmsSid".into(), msg.sid.clone()),
        ("SmsStatus".into(), status.into()),
        ("To".into(), msg.to.clone()),
    ];
    if let Some(code) = error_code {
        params.push(("ErrorCode".into(), code.to_string()));
    }
    let sig = signature(&sim.config.auth_token, &url, &params);
    sim.poster.send(Outgoing {
        url,
        headers: vec![
            ("x-twilio-signature".into(), sig),
            ("i-twilio-idempotency-token".into(), format!("{}-{status}", msg.sid)),
        ],
        content_type: "application/x-www-form-urlencoded",
        body: form_encode(&params),
        label: format!("{}:{status}", msg.sid),
        delay_ms,
    });
}
