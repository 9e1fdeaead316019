//! Automations over every channel (issue 5, acceptance 1 and 4): the three example rules of
//! `examples/kade.toml` end to end on the Picqer simulator, a real SMTP server, the WhatsApp and
//! Twilio simulators; delivery receipts (signed, and refused when not); each permanent provider
//! error; an in-doubt SMS resolved by a provider lookup instead of a second message.

use std::time::Duration;

use kade_messaging::testing::{SmtpMode, TestSmtpServer};
use kade_picqer::types::{NewReturn, ReturnLine};
use kade_sim::picqer::faults::FaultSpec;
use serde_json::json;

use crate::automation_rig::{AutoRig, DAY, Providers, VERIFY_TOKEN, rules, twilio_sim, whatsapp_sim};
use crate::support::{control, test_databases};

fn example_rules() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/kade.toml");
    std::fs::read_to_string(path).unwrap()
}

#[tokio::test]
async fn the_three_example_rules_send_the_right_messages_and_nothing_else() {
    for db in test_databases("auto_examples").await {
        let mail = TestSmtpServer::start(SmtpMode::Accept).unwrap();
        let (wa, tw) = (whatsapp_sim().await, twilio_sim().await);
        let providers = Providers::smtp(&mail).with_whatsapp(&wa).with_twilio(&tw);
        let rig = AutoRig::start(&db, rules(&example_rules()), providers).await;
        wa.set_callback_url(Some(format!("{}/webhooks/whatsapp", rig.hub.url())));

        // An order shipped in two shipments (three parcels): ONE WhatsApp message.
        let order = rig.order(Some("jan@example.nl"), Some("06-12345678"), "NL").await;
        let id = order.idorder.0;
        control(&rig.picqer, "POST", &format!("/_sim/orders/{id}/pick"), json!({})).await;
        let parcels = json!({"parcels": [{"trackingcode": "3SEXA0001", "carrier": "postnl"},
                                         {"trackingcode": "3SEXA0002", "carrier": "postnl"}],
                             "separate_shipments": true});
        control(&rig.picqer, "POST", &format!("/_sim/orders/{id}/ship"), parcels).await;
        rig.settle().await;
        assert!(wa.messages().is_empty(), "waits for the other parcels (settle window)");
        rig.advance(Duration::from_secs(150)).await;
        let sent = wa.messages();
        assert_eq!(sent.len(), 1, "one message for the whole order: {sent:?}");
        let fresh = rig.api().order(order.idorder).await.unwrap();
        let m = &sent[0];
        assert_eq!(
            (m.to.as_str(), m.template.as_deref(), m.language.as_deref()),
            ("31612345678", Some("order_shipped"), Some("nl"))
        );
        assert_eq!(m.params[..2], ["Jan Jansen".to_string(), fresh.orderid.clone()]);
        assert!(m.params[2].contains("3SEXA0001"), "tracking url of the first parcel: {:?}", m.params);
        let shipped_key = m.biz_opaque_callback_data.clone().expect("the key rides along");
        // The signed status callbacks settle the log.
        assert!(wa.drain_callbacks(Duration::from_secs(5)).await);
        let row = rig.log().await.into_iter().find(|r| r.rule == "shipped-tracking").unwrap();
        assert_eq!(row.send_key, shipped_key);
        assert_eq!((row.state.as_str(), row.provider_id.as_deref()), ("delivered", Some(m.id.as_str())));

        // A return received: one SMS to the order's number.
        let statuses = rig.api().return_statuses().await.unwrap();
        let ret = rig
            .api()
            .create_return(&NewReturn {
                idorder: Some(order.idorder),
                idreturn_status: Some(statuses[0].idreturn_status),
                reference: Some("RMA-7".into()),
                returned_products: vec![ReturnLine { idproduct: fresh.products[0].idproduct, amount: 1 }],
            })
            .await
            .unwrap();
        control(&rig.picqer, "POST", &format!("/_sim/returns/{}/receive", ret.idreturn.0), json!({})).await;
        rig.settle().await;
        let sms = tw.messages();
        assert_eq!(sms.len(), 1, "{sms:?}");
        assert_eq!(sms[0].to, "+31612345678");
        let line = &fresh.products[0];
        assert_eq!(
            sms[0].body,
            format!(
                "We received your return {} (1 x {} ({})). Your refund follows within 5 days.",
                ret.returnid, line.name, line.productcode
            )
        );
        assert!(tw.drain_callbacks(Duration::from_secs(5)).await);
        let row = rig.log().await.into_iter().find(|r| r.rule == "return-received").unwrap();
        assert_eq!((row.state.as_str(), row.provider_id.as_deref()), ("delivered", Some(sms[0].sid.as_str())));

        // Two days after completion (outside quiet hours): the review request by e-mail.
        rig.advance(DAY * 2).await;
        for _ in 0..2 {
            let row = rig.log().await.into_iter().find(|r| r.rule == "review-request").unwrap();
            if row.state == "scheduled" {
                let wait = (row.due_ms - rig.hub.engine.now_ms()).max(0) as u64 + 1_000;
                rig.advance(Duration::from_millis(wait)).await;
            }
        }
        let mails = mail.wait_for_messages(1, Duration::from_secs(5)).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].subject, format!("How was your order {}?", fresh.orderid));
        let text = mails[0].text.clone().unwrap_or_default();
        assert!(text.starts_with("Hi Jan Jansen,"), "{text}");
        let review = rig.log().await.into_iter().find(|r| r.rule == "review-request").unwrap();
        let local_hour = ((review.intent_ms.unwrap() / 3_600_000) + 1).rem_euclid(24);
        assert!((8..21).contains(&local_hour), "sent in quiet hours (local hour {local_hour})");

        // Nothing else reached any provider, whatever else happened to the order.
        rig.advance(DAY * 7).await;
        assert_eq!((mail.messages().len(), wa.messages().len(), tw.messages().len()), (1, 1, 1));
        assert_eq!(rig.log().await.len(), 3);
    }
}

#[tokio::test]
async fn delivery_receipts_with_a_bad_signature_are_refused_and_change_nothing() {
    let db = test_databases("auto_receipts").await.remove(0);
    let tw = twilio_sim().await;
    let wa = whatsapp_sim().await;
    let sms_rule = r#"
[[automation]]
name = "sms"
trigger = "orders.completed"
channel = "sms"
body = "Order {{order_number}} is on its way"
"#;
    let rig = AutoRig::start(&db, rules(sms_rule), Providers::default().with_twilio(&tw).with_whatsapp(&wa)).await;
    let order = rig.order(None, Some("0612345678"), "NL").await;
    rig.ship(&order, &["3SREC0001"]).await;
    rig.settle().await;
    let row = rig.log().await.remove(0);
    assert!(["sent", "delivered"].contains(&row.state.as_str()), "{row:?}");
    let sid = row.provider_id.clone().unwrap();

    let http = reqwest::Client::new();
    let url = format!("{}/webhooks/twilio/status?key={}", rig.hub.url(), row.send_key);
    let form = format!("MessageSid={sid}&MessageStatus=failed&ErrorCode=30007");
    for sig in [None, Some("bm90IGEgc2lnbmF0dXJl")] {
        let mut req = http.post(&url).header("content-type", "application/x-www-form-urlencoded").body(form.clone());
        if let Some(s) = sig {
            req = req.header("x-twilio-signature", s);
        }
        assert_eq!(req.send().await.unwrap().status().as_u16(), 401);
    }
    let wa_body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
        "value": {"statuses": [{"id": sid, "status": "failed", "timestamp": "1", "recipient_id": "31612345678"}]}}]}]});
    let resp = http
        .post(format!("{}/webhooks/whatsapp", rig.hub.url()))
        .header("x-hub-signature-256", "sha256=00")
        .body(wa_body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    // Genuine receipts may already have arrived (they say delivered); the forged "failed" must not.
    let row = rig.log().await.remove(0);
    assert!(
        ["sent", "delivered"].contains(&row.state.as_str()) && row.error_code.is_none(),
        "forged receipt applied: {row:?}"
    );

    // Meta's GET handshake: the challenge comes back only for the right verify token.
    let verify = |token: &str| {
        format!(
            "{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444",
            rig.hub.url()
        )
    };
    let ok = http.get(verify(VERIFY_TOKEN)).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    assert_eq!(http.get(verify("guess")).send().await.unwrap().status().as_u16(), 403);

    // The genuine receipts (signed by the simulator over the exact URL) are applied.
    assert!(tw.drain_callbacks(Duration::from_secs(5)).await);
    assert_eq!(rig.log().await[0].state, "delivered");
    assert!(tw.callbacks().iter().all(|c| c.status == Some(200)), "{:?}", tw.callbacks());
}

#[tokio::test]
async fn each_permanent_provider_error_is_recorded_with_its_code_and_not_retried() {
    let db = test_databases("auto_permanent").await.remove(0);
    let (wa, tw) = (whatsapp_sim().await, twilio_sim().await);
    let cases = r#"
[[automation]]
name = "wa-paused"
trigger = "orders.completed"
channel = "whatsapp"
template = "paused_template"
language = "nl"
params = ["{{order_number}}"]

[[automation]]
name = "wa-params"
trigger = "orders.completed"
channel = "whatsapp"
template = "review_request"
language = "nl"
params = ["{{order_number}}"]

[[automation]]
name = "wa-unknown-template"
trigger = "orders.completed"
channel = "whatsapp"
template = "no_such_template"
language = "nl"

[[automation]]
name = "wa-pending"
trigger = "orders.completed"
channel = "whatsapp"
template = "new_pending_template"
language = "nl"
params = ["{{order_number}}"]

[[automation]]
name = "sms-opted-out"
trigger = "orders.completed"
channel = "sms"
body = "Order {{order_number}}"

[[automation]]
name = "wa-free-text"
trigger = "orders.completed"
channel = "whatsapp"
text = "Order {{order_number}} shipped"
"#;
    let rig = AutoRig::start(&db, rules(cases), Providers::default().with_whatsapp(&wa).with_twilio(&tw)).await;
    wa.set_callback_url(Some(format!("{}/webhooks/whatsapp", rig.hub.url())));
    tw.opt_out("+31612345678");
    let order = rig.order(None, Some("0612345678"), "NL").await;
    rig.ship(&order, &["3SPERM001"]).await;
    rig.settle().await;
    // Free text outside the 24-hour window is accepted, then fails asynchronously (131047).
    assert!(wa.drain_callbacks(Duration::from_secs(5)).await);
    let log = rig.log().await;
    let outcome: Vec<(&str, &str, Option<&str>)> =
        log.iter().map(|r| (r.rule.as_str(), r.state.as_str(), r.error_code.as_deref())).collect();
    for (rule, code) in [
        ("wa-paused", "132015"),
        ("wa-params", "132000"),
        ("wa-unknown-template", "132001"),
        ("wa-pending", "132001"),
        ("sms-opted-out", "21610"),
        ("wa-free-text", "131047"),
    ] {
        assert!(outcome.contains(&(rule, "failed_permanent", Some(code))), "{rule}: {outcome:?}");
    }
    for r in log.iter().filter(|r| r.rule != "wa-free-text") {
        assert!(r.reason.as_deref().is_some_and(|m| m.len() > 10), "a clear reason: {r:?}");
    }
    let jobs = rig.hub.engine.store().jobs(None, 200).await.unwrap();
    for j in jobs.iter().filter(|j| j.kind == "automation.send") {
        assert_eq!((j.state.as_str(), j.attempts), ("done", 1), "never retried: {j:?}");
    }
    assert!(tw.messages().is_empty());
    assert_eq!(wa.messages().len(), 1, "only the free text was accepted (and then failed)");

    // A number that cannot be a phone number is not sent at all: skipped, with the reason.
    let bad = rig.order(None, Some("12"), "NL").await;
    rig.ship(&bad, &["3SPERM002"]).await;
    rig.settle().await;
    let entity = format!("main/order/{}", bad.idorder.0);
    for r in rig.log().await.iter().filter(|r| r.entity == entity) {
        assert_eq!(r.state, "skipped", "{r:?}");
        assert!(r.reason.as_deref().unwrap().contains("telephone number cannot be used"), "{r:?}");
    }
}

#[tokio::test]
async fn an_sms_whose_answer_was_lost_is_found_by_lookup_and_not_sent_twice() {
    for db in test_databases("auto_indoubt").await {
        let tw = twilio_sim().await;
        let rule = r#"
[[automation]]
name = "sms"
trigger = "orders.completed"
channel = "sms"
body = "Order {{order_number}} shipped: {{parcels}}"
"#;
        let providers = Providers { no_twilio_receipts: true, ..Providers::default().with_twilio(&tw) };
        let rig = AutoRig::start(&db, rules(rule), providers).await;
        // Twilio stores the message, then the connection dies before the answer.
        tw.add_fault(FaultSpec {
            method: Some("POST".into()),
            path: "/2010-04-01".into(),
            latency_ms: None,
            status: None,
            drop_after_commit: true,
            times: Some(1),
        })
        .unwrap();
        let order = rig.order(None, Some("0612345678"), "NL").await;
        rig.ship(&order, &["3SDOUBT01"]).await;
        rig.settle().await;
        for _ in 0..3 {
            rig.advance(Duration::from_secs(1)).await;
        }
        let row = rig.log().await.remove(0);
        assert_eq!(tw.messages().len(), 1, "exactly one SMS");
        assert_eq!((row.state.as_str(), row.provider_id.as_deref()), ("sent", Some(tw.messages()[0].sid.as_str())));
        assert!(row.reason.as_deref().is_some_and(|r| r.contains("lookup")), "{row:?}");
    }
}
