//! The Twilio client against the simulator: sends, error codes, in-doubt resolution by lookup,
//! and signed StatusCallbacks verified end to end.

use std::time::Duration;

use crate::common::Receiver;
use kade_messaging::{
    CallbackError, Lookup, Messenger, MessengerOptions, Outbound, OutboundBody, SendError, TwilioConfig,
    verify_twilio_callback,
};
use kade_sim::picqer::faults::FaultSpec;
use kade_sim::twilio::{self, RunningTwilioSim, TwilioSimConfig};

const TO: &str = "+31612345678";

async fn sim() -> RunningTwilioSim {
    twilio::start(TwilioSimConfig::default(), "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn config(sim: &RunningTwilioSim, callback: Option<String>) -> TwilioConfig {
    TwilioConfig {
        base_url: sim.base_url(),
        account_sid: sim.config().account_sid.clone(),
        auth_token: sim.config().auth_token.clone(),
        from: sim.config().from_numbers[0].clone(),
        status_callback: callback,
    }
}

fn messenger(cfg: TwilioConfig) -> Messenger {
    let options = MessengerOptions { http_timeout: Duration::from_millis(800), ..Default::default() };
    Messenger::with_options(None, None, Some(cfg), options).unwrap()
}

fn sms(key: &str, to: &str, body: &str) -> Outbound {
    Outbound { key: key.into(), body: OutboundBody::Sms { to: to.into(), body: body.into() } }
}

fn fault(status: Option<u16>, drop_after_commit: bool) -> FaultSpec {
    FaultSpec {
        method: Some("POST".into()),
        path: "/".into(),
        latency_ms: None,
        status,
        drop_after_commit,
        times: Some(1),
    }
}

#[tokio::test]
async fn an_sms_is_sent_and_its_signed_callbacks_carry_the_key() {
    let sim = sim().await;
    let hooks = Receiver::start().await;
    let cfg = config(&sim, Some(hooks.url("/hooks/twilio")));
    let m = messenger(cfg.clone());
    assert_eq!(m.channels(), vec!["sms", "webhook"]);
    let body = "Je pakket is onderweg: https://track.example/3SABC — groet, Zoë";
    let sent = m.send(&sms("rule:ship/order:1001/0", TO, body)).await.expect("sent");
    assert!(sent.provider_id.starts_with("SM") && sent.provider_id.len() == 34, "{sent:?}");
    let stored = sim.messages();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].to.as_str(), stored[0].from.as_str(), stored[0].body.as_str()),
        (TO, cfg.from.as_str(), body)
    );

    let got = hooks.wait_for(2).await;
    let mut states = Vec::new();
    for r in &got {
        let u = verify_twilio_callback(&cfg.auth_token, &r.url, &r.form(), r.header("x-twilio-signature"))
            .expect("verified");
        assert_eq!(u.provider_id, sent.provider_id);
        assert_eq!(u.key.as_deref(), Some("rule:ship/order:1001/0"));
        assert_eq!(u.error_code, None);
        states.push(u.state);
    }
    assert_eq!(states, vec!["sent", "delivered"]);
}

#[tokio::test]
async fn twilio_refusals_are_permanent_with_twilio_codes() {
    let sim = sim().await;
    let m = messenger(config(&sim, None));
    sim.opt_out("+31611111111");
    let cases = [("0612345678", "21211"), ("+31611111111", "21610")];
    for (to, code) in cases {
        let err = m.send(&sms("k", to, "hallo")).await.unwrap_err();
        assert!(matches!(&err, SendError::Permanent { code: c, .. } if c == code), "{to}: {err:?}");
    }
    let mut bad = config(&sim, None);
    bad.auth_token = "wrong".into();
    let err = messenger(bad).send(&sms("k", TO, "hallo")).await.unwrap_err();
    assert!(matches!(&err, SendError::Permanent { code, .. } if code == "20003"), "{err:?}");
    assert!(!format!("{err}").contains("wrong"), "the token leaked: {err}");
    assert!(sim.messages().is_empty());
}

#[tokio::test]
async fn throttling_and_server_errors_are_transient() {
    let sim = sim().await;
    let m = messenger(config(&sim, None));
    sim.add_fault(fault(Some(429), false)).unwrap();
    let err = m.send(&sms("k", TO, "x")).await.unwrap_err();
    assert_eq!(err, SendError::Transient { reason: err_reason(&err), retry_after: Some(Duration::from_secs(1)) });
    sim.add_fault(fault(Some(500), false)).unwrap();
    assert!(matches!(m.send(&sms("k", TO, "x")).await, Err(SendError::Transient { .. })));
    assert!(sim.messages().is_empty());
}

fn err_reason(e: &SendError) -> String {
    match e {
        SendError::Transient { reason, .. } | SendError::Permanent { reason, .. } | SendError::InDoubt { reason } => {
            reason.clone()
        }
    }
}

#[tokio::test]
async fn an_in_doubt_send_is_resolved_by_lookup() {
    let sim = sim().await;
    let m = messenger(config(&sim, None));
    let started = sim_now_ms();
    let msg = sms("rule:r/order:5/0", TO, "Bedankt voor je bestelling #5");
    // Another message to the same number, and an earlier one, must not be mistaken for it.
    m.send(&sms("other", TO, "Iets anders")).await.unwrap();
    assert_eq!(m.lookup(&msg, started).await, Ok(Lookup::NotFound));

    sim.add_fault(fault(None, true)).unwrap();
    let err = m.send(&msg).await.unwrap_err();
    assert!(matches!(err, SendError::InDoubt { .. }), "{err:?}");
    let created =
        sim.messages().into_iter().find(|s| s.body == "Bedankt voor je bestelling #5").expect("it was created");
    assert_eq!(m.lookup(&msg, started).await, Ok(Lookup::Found(kade_messaging::Sent { provider_id: created.sid })));
}

fn sim_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test]
async fn lookup_pages_through_many_messages() {
    let sim = sim().await;
    let m = messenger(config(&sim, None));
    let started = sim_now_ms();
    let first = m.send(&sms("k0", TO, "the first one")).await.unwrap();
    for i in 0..230 {
        m.send(&sms(&format!("k{i}"), TO, &format!("filler {i}"))).await.unwrap();
    }
    assert_eq!(m.lookup(&sms("k0", TO, "the first one"), started).await, Ok(Lookup::Found(first)));
    assert_eq!(m.lookup(&sms("kx", TO, "never sent"), started).await, Ok(Lookup::NotFound));
}

#[tokio::test]
async fn undelivered_messages_report_their_error_code_and_forged_callbacks_are_refused() {
    let sim = sim().await;
    let hooks = Receiver::start().await;
    let cfg = config(&sim, Some(hooks.url("/hooks/twilio?connection=sms1")));
    sim.set_unreachable(TO, "undelivered", 30003);
    messenger(cfg.clone()).send(&sms("k9", TO, "x")).await.unwrap();
    let got = hooks.wait_for(2).await;
    let last = got.last().unwrap();
    let form = last.form();
    let u = verify_twilio_callback(&cfg.auth_token, &last.url, &form, last.header("x-twilio-signature")).unwrap();
    assert_eq!(
        (u.state.as_str(), u.error_code.as_deref(), u.key.as_deref()),
        ("undelivered", Some("30003"), Some("k9"))
    );

    let sig = last.header("x-twilio-signature");
    assert!(matches!(
        verify_twilio_callback("other-token", &last.url, &form, sig),
        Err(CallbackError::BadSignature(_))
    ));
    let moved = last.url.replace("connection=sms1", "connection=sms2");
    assert!(matches!(verify_twilio_callback(&cfg.auth_token, &moved, &form, sig), Err(CallbackError::BadSignature(_))));
    let mut changed = form.clone();
    for (k, v) in changed.iter_mut() {
        if k == "MessageStatus" {
            *v = "delivered".into();
        }
    }
    assert!(matches!(
        verify_twilio_callback(&cfg.auth_token, &last.url, &changed, sig),
        Err(CallbackError::BadSignature(_))
    ));
    assert!(matches!(
        verify_twilio_callback(&cfg.auth_token, &last.url, &form, None),
        Err(CallbackError::MissingSignature(_))
    ));
}
