//! The WhatsApp client against the Cloud API simulator, and status callbacks verified end to end.

use std::time::Duration;

use crate::common::Receiver;
use kade_messaging::{
    CallbackError, Lookup, Messenger, MessengerOptions, Outbound, OutboundBody, SendError, WhatsAppConfig,
    WhatsAppContent, verify_whatsapp_callback,
};
use kade_sim::picqer::faults::FaultSpec;
use kade_sim::whatsapp::{self, RunningWhatsAppSim, WhatsAppSimConfig, WindowMode};

const TO: &str = "+31612345678";

async fn sim() -> RunningWhatsAppSim {
    whatsapp::start(WhatsAppSimConfig::default(), "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn config(sim: &RunningWhatsAppSim) -> WhatsAppConfig {
    WhatsAppConfig {
        base_url: sim.base_url(),
        phone_number_id: sim.config().phone_number_id.clone(),
        access_token: sim.config().access_token.clone(),
        app_secret: sim.config().app_secret.clone(),
    }
}

fn messenger(cfg: WhatsAppConfig) -> Messenger {
    let options = MessengerOptions { http_timeout: Duration::from_millis(800), ..Default::default() };
    Messenger::with_options(None, Some(cfg), None, options).unwrap()
}

fn template(name: &str, params: &[&str]) -> WhatsAppContent {
    WhatsAppContent::Template {
        name: name.into(),
        language: "nl".into(),
        params: params.iter().map(|p| (*p).into()).collect(),
    }
}

fn wa(key: &str, content: WhatsAppContent) -> Outbound {
    Outbound { key: key.into(), body: OutboundBody::WhatsApp { to: TO.into(), content } }
}

#[tokio::test]
async fn a_template_is_accepted_and_its_signed_statuses_carry_the_key() {
    let sim = sim().await;
    let hooks = Receiver::start().await;
    sim.set_callback_url(Some(hooks.url("/hooks/whatsapp")));
    let m = messenger(config(&sim));
    let msg = wa("rule:ship/order:1001/0", template("order_shipped", &["Jan", "#1001", "https://track.example/3SABC"]));
    let sent = m.send(&msg).await.expect("accepted");
    assert!(sent.provider_id.starts_with("wamid."), "{sent:?}");

    let stored = sim.messages();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].to, "31612345678");
    assert_eq!(stored[0].template.as_deref(), Some("order_shipped"));
    assert_eq!(stored[0].params, vec!["Jan", "#1001", "https://track.example/3SABC"]);
    assert_eq!(stored[0].biz_opaque_callback_data.as_deref(), Some("rule:ship/order:1001/0"));

    let got = hooks.wait_for(2).await;
    assert_eq!(got.len(), 2);
    let mut states = Vec::new();
    for r in &got {
        let updates = verify_whatsapp_callback(&config(&sim).app_secret, &r.body, r.header("x-hub-signature-256"))
            .expect("verified");
        for u in updates {
            assert_eq!(u.provider_id, sent.provider_id);
            assert_eq!(u.key.as_deref(), Some("rule:ship/order:1001/0"));
            states.push(u.state);
        }
    }
    assert_eq!(states, vec!["sent", "delivered"]);
    assert_eq!(m.lookup(&msg, 0).await, Ok(Lookup::Unknowable));
}

#[tokio::test]
async fn free_text_needs_the_24_hour_window() {
    let sim = sim().await;
    let hooks = Receiver::start().await;
    sim.set_callback_url(Some(hooks.url("/hooks/whatsapp")));
    let m = messenger(config(&sim));
    let secret = config(&sim).app_secret;

    // Outside the window the Cloud API accepts, then fails the message asynchronously.
    let sent = m.send(&wa("k-out", WhatsAppContent::Text("Waar blijft je review?".into()))).await.expect("accepted");
    let got = hooks.wait_for(1).await;
    let u = verify_whatsapp_callback(&secret, &got[0].body, got[0].header("x-hub-signature-256")).unwrap();
    assert_eq!(
        (u[0].provider_id.as_str(), u[0].state.as_str(), u[0].error_code.as_deref()),
        (sent.provider_id.as_str(), "failed", Some("131047"))
    );

    // The stricter reading refuses at once, with the same code, as a permanent error.
    sim.set_window_mode(WindowMode::Sync);
    let err = m.send(&wa("k-sync", WhatsAppContent::Text("hallo".into()))).await.unwrap_err();
    assert!(matches!(&err, SendError::Permanent { code, .. } if code == "131047"), "{err:?}");

    // Once the customer wrote, free text is delivered.
    sim.customer_message(TO, "Waar is mijn pakket?").unwrap();
    m.send(&wa("k-in", WhatsAppContent::Text("Onderweg!".into()))).await.expect("inside the window");
    assert_eq!(sim.messages().last().unwrap().text.as_deref(), Some("Onderweg!"));
}

#[tokio::test]
async fn template_problems_and_auth_are_permanent_with_the_graph_code() {
    let sim = sim().await;
    let m = messenger(config(&sim));
    let cases = [
        (template("no_such_template", &["x"]), "132001"),
        (template("order_shipped", &["only one"]), "132000"),
        (template("new_pending_template", &["x"]), "132001"),
        (template("paused_template", &["x"]), "132015"),
        (template("order_shipped", &["a", "", "c"]), "132012"),
    ];
    for (content, code) in cases {
        let err = m.send(&wa("k", content.clone())).await.unwrap_err();
        assert!(matches!(&err, SendError::Permanent { code: c, .. } if c == code), "{content:?}: {err:?}");
    }
    let mut bad = config(&sim);
    bad.access_token = "EAAG-wrong".into();
    let err = messenger(bad).send(&wa("k", template("order_shipped", &["a", "b", "c"]))).await.unwrap_err();
    assert!(matches!(&err, SendError::Permanent { code, .. } if code == "190"), "{err:?}");
    let err = m
        .send(&Outbound {
            key: "k".into(),
            body: OutboundBody::WhatsApp { to: "0612".into(), content: template("order_shipped", &["a", "b", "c"]) },
        })
        .await
        .unwrap_err();
    assert!(matches!(&err, SendError::Permanent { code, .. } if code == "100"), "{err:?}");
    assert!(sim.messages().is_empty(), "nothing was accepted");
}

#[tokio::test]
async fn a_number_not_on_whatsapp_fails_asynchronously_with_131026() {
    let sim = sim().await;
    let hooks = Receiver::start().await;
    sim.set_callback_url(Some(hooks.url("/cb")));
    sim.mark_undeliverable(TO);
    messenger(config(&sim)).send(&wa("k", template("review_request", &["Jan", "#7"]))).await.expect("accepted");
    let got = hooks.wait_for(1).await;
    let u =
        verify_whatsapp_callback(&config(&sim).app_secret, &got[0].body, got[0].header("x-hub-signature-256")).unwrap();
    assert_eq!(
        (u[0].state.as_str(), u[0].error_code.as_deref(), u[0].key.as_deref()),
        ("failed", Some("131026"), Some("k"))
    );
}

#[tokio::test]
async fn faults_map_to_transient_and_in_doubt() {
    let sim = sim().await;
    let m = messenger(config(&sim));
    let msg = wa("k", template("order_shipped", &["a", "b", "c"]));
    let fault = |status: Option<u16>, drop: bool, latency: Option<u64>| FaultSpec {
        method: None,
        path: "/".into(),
        latency_ms: latency,
        status,
        drop_after_commit: drop,
        times: Some(1),
    };
    sim.add_fault(fault(Some(429), false, None)).unwrap();
    assert!(matches!(m.send(&msg).await, Err(SendError::Transient { .. })));
    sim.add_fault(fault(Some(503), false, None)).unwrap();
    assert!(matches!(m.send(&msg).await, Err(SendError::Transient { .. })));
    assert!(sim.messages().is_empty());

    // Accepted, but the answer never arrives: in doubt, and the message does exist.
    sim.add_fault(fault(None, true, None)).unwrap();
    let err = m.send(&msg).await.unwrap_err();
    assert!(matches!(err, SendError::InDoubt { .. }), "{err:?}");
    assert_eq!(sim.messages().len(), 1);

    // Slower than the client's timeout: in doubt too.
    sim.add_fault(fault(None, false, Some(1500))).unwrap();
    let err = m.send(&msg).await.unwrap_err();
    assert!(matches!(err, SendError::InDoubt { .. }), "{err:?}");

    // Nobody listening: nothing was sent, transient.
    let mut gone = config(&sim);
    gone.base_url = "http://127.0.0.1:9/v21.0".into();
    assert!(matches!(messenger(gone).send(&msg).await, Err(SendError::Transient { .. })));
}

#[tokio::test]
async fn callbacks_with_a_wrong_secret_or_a_changed_body_are_refused() {
    let sim = sim().await;
    let hooks = Receiver::start().await;
    sim.set_callback_url(Some(hooks.url("/cb")));
    messenger(config(&sim)).send(&wa("k", template("order_shipped", &["a", "b", "c"]))).await.unwrap();
    let got = hooks.wait_for(1).await;
    let (body, sig) = (&got[0].body, got[0].header("x-hub-signature-256"));
    assert_eq!(
        verify_whatsapp_callback("other-secret", body, sig),
        Err(CallbackError::BadSignature("X-Hub-Signature-256"))
    );
    assert_eq!(
        verify_whatsapp_callback(&config(&sim).app_secret, body, None),
        Err(CallbackError::MissingSignature("X-Hub-Signature-256"))
    );
    let mut tampered = body.clone();
    let pos = tampered.iter().position(|b| *b == b'k').unwrap();
    tampered[pos] = b'K';
    assert!(matches!(
        verify_whatsapp_callback(&config(&sim).app_secret, &tampered, sig),
        Err(CallbackError::BadSignature(_))
    ));
    assert!(matches!(
        verify_whatsapp_callback(&config(&sim).app_secret, body, Some("sha256=zz")),
        Err(CallbackError::BadSignature(_))
    ));
    // Correctly signed but not the envelope: malformed, not a panic.
    let junk = br#"{"hello":"world"}"#;
    let sig = kade_messaging::whatsapp_signature("s", junk);
    assert!(matches!(verify_whatsapp_callback("s", junk, Some(&sig)), Err(CallbackError::Malformed(_))));
}
