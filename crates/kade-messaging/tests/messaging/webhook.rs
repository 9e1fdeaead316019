//! Outbound webhooks: Standard Webhooks headers and signature, status classification, and the
//! refusal of private targets.

use crate::common::Receiver;
use base64::Engine as _;
use kade_messaging::{Messenger, MessengerOptions, Outbound, OutboundBody, SendError, WebhookOptions, WebhookTarget};
use serde_json::json;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn messenger(allow_private: bool) -> Messenger {
    let webhook = WebhookOptions { allow_private_targets: allow_private, ..Default::default() };
    Messenger::with_options(None, None, None, MessengerOptions { webhook, ..Default::default() }).unwrap()
}

fn hook(key: &str, url: String, secret: &str) -> Outbound {
    Outbound {
        key: key.into(),
        body: OutboundBody::Webhook {
            target: WebhookTarget { url, secret: secret.into() },
            payload: json!({"event": "order.shipped", "order": {"reference": "#1001", "customer": "Zoë"}}),
        },
    }
}

/// The receiver's side of the scheme, written from the spec (not with the sender's function).
fn verify(secret: &str, id: &str, ts: &str, body: &[u8], header: &str) -> bool {
    let key = base64::engine::general_purpose::STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap();
    let mut signed = format!("{id}.{ts}.").into_bytes();
    signed.extend_from_slice(body);
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    header.split(' ').filter_map(|s| s.strip_prefix("v1,")).any(|sig| {
        base64::engine::general_purpose::STANDARD
            .decode(sig)
            .is_ok_and(|tag| ring::hmac::verify(&key, &signed, &tag).is_ok())
    })
}

#[tokio::test]
async fn a_delivery_carries_id_timestamp_and_a_valid_signature() {
    let rx = Receiver::start().await;
    let sent = messenger(true).send(&hook("rule:9/order:1001/0", rx.url("/in"), SECRET)).await.expect("sent");
    assert_eq!(sent.provider_id, "rule:9/order:1001/0");
    let got = rx.wait_for(1).await;
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("webhook-id"), Some("rule:9/order:1001/0"));
    let ts = r.header("webhook-timestamp").unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((ts.parse::<i64>().unwrap() - now).abs() < 60);
    assert!(verify(SECRET, "rule:9/order:1001/0", ts, &r.body, r.header("webhook-signature").unwrap()));
    assert!(!verify("whsec_c2VjcmV0LWIK", "rule:9/order:1001/0", ts, &r.body, r.header("webhook-signature").unwrap()));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["order"]["customer"], "Zoë");
}

#[tokio::test]
async fn answers_are_classified() {
    let rx = Receiver::start().await;
    let m = messenger(true);
    for (status, want) in [
        (400, "permanent"),
        (404, "permanent"),
        (410, "permanent"),
        (408, "transient"),
        (429, "transient"),
        (500, "transient"),
        (503, "transient"),
    ] {
        rx.answer(status);
        let err = m.send(&hook("k", rx.url("/in"), SECRET)).await.unwrap_err();
        let got = match &err {
            SendError::Permanent { code, .. } => {
                assert_eq!(code, &status.to_string());
                "permanent"
            }
            SendError::Transient { .. } => "transient",
            SendError::InDoubt { .. } => "in doubt",
        };
        assert_eq!(got, want, "{status}: {err:?}");
    }
}

#[tokio::test]
async fn private_targets_and_bad_secrets_are_refused_before_any_request() {
    let rx = Receiver::start().await;
    let m = messenger(false);
    for url in [
        rx.url("/in"),
        "http://localhost:9/x".into(),
        "http://10.0.0.8/x".into(),
        "http://[::1]:9/x".into(),
        "http://169.254.169.254/latest".into(),
    ] {
        let err = m.send(&hook("k", url.clone(), SECRET)).await.unwrap_err();
        assert!(matches!(&err, SendError::Permanent { code, .. } if code == "private_target"), "{url}: {err:?}");
    }
    let allowed = messenger(true);
    for (url, secret, code) in [
        (rx.url("/in"), "not-a-whsec-secret", "invalid_secret"),
        ("ftp://example.org/x".to_owned(), SECRET, "invalid_url"),
        ("not a url".to_owned(), SECRET, "invalid_url"),
    ] {
        let err = allowed.send(&hook("k", url.clone(), secret)).await.unwrap_err();
        assert!(matches!(&err, SendError::Permanent { code: c, .. } if c == code), "{url}: {err:?}");
    }
    assert!(rx.received().is_empty());
    // Nobody listening: transient.
    let err = allowed.send(&hook("k", "http://127.0.0.1:9/x".into(), SECRET)).await.unwrap_err();
    assert!(matches!(err, SendError::Transient { .. }), "{err:?}");
}
