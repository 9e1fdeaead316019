//! Automations end to end over e-mail (issue 5): a rule fires on a Picqer event, waits (on a
//! compressed clock), re-checks, and the right message reaches a real SMTP server (aiosmtpd)
//! exactly once — through duplicates, replays, restarts and provider failures. On SQLite always
//! and on PostgreSQL when `KADE_TEST_DATABASE_URL` is set.

use kade_messaging::testing::{SmtpMode, TestSmtpServer};
use kade_picqer::CancelMode;
use serde_json::json;

use crate::automation_rig::{AutoRig, DAY, Providers, rules};
use crate::support::test_databases;

const REVIEW: &str = r#"
[[automation]]
name = "review-request"
trigger = "orders.completed"
wait = "2d"
channel = "email"
subject = "How was your order {{order_number}}?"
body = """
Hi {{customer_name}},
your order {{order_number}} ({{order_reference}}) is {{order_status}}:
{{products}}
Tracking: {{tracking_code}}"""
"#;

fn smtp(mode: SmtpMode) -> TestSmtpServer {
    TestSmtpServer::start(mode).expect("aiosmtpd starts (see kade_messaging::testing)")
}

#[tokio::test]
async fn a_review_request_arrives_once_two_days_after_completion_with_the_right_variables() {
    for db in test_databases("auto_review").await {
        let mail = smtp(SmtpMode::Accept);
        let rig = AutoRig::start(&db, rules(REVIEW), Providers::smtp(&mail)).await;
        let order = rig.order(Some("jan@example.nl"), Some("0612345678"), "NL").await;
        rig.ship(&order, &["3SKADE0001"]).await;
        rig.settle().await;

        let log = rig.log().await;
        assert_eq!(log.len(), 1, "{log:?}");
        assert_eq!((log[0].state.as_str(), log[0].rule.as_str()), ("scheduled", "review-request"));
        let wait = log[0].due_ms - rig.hub.engine.now_ms();
        assert!((2 * 86_400_000 - 60_000..=2 * 86_400_000).contains(&wait), "due in {wait} ms");

        // A day and 23 hours later: nothing yet.
        rig.advance(DAY * 2 - std::time::Duration::from_secs(120)).await;
        assert!(mail.messages().is_empty(), "sent before its time");
        rig.advance(std::time::Duration::from_secs(180)).await;
        let got = mail.wait_for_messages(1, std::time::Duration::from_secs(5)).await;
        assert_eq!(got.len(), 1);
        let m = &got[0];
        let fresh = rig.api().order(order.idorder).await.unwrap();
        assert_eq!(m.rcpt_tos, ["jan@example.nl"]);
        assert_eq!(m.subject, format!("How was your order {}?", fresh.orderid));
        let text = m.text.clone().unwrap_or_default().replace("\r\n", "\n");
        let line = &fresh.products[0];
        let expected = format!(
            "Hi Jan Jansen,\nyour order {} ({}) is completed:\n2 x {} ({})\nTracking: 3SKADE0001",
            fresh.orderid,
            fresh.reference.clone().unwrap(),
            line.name,
            line.productcode
        );
        assert_eq!(text.trim_end(), expected);
        let row = &rig.log().await[0];
        assert_eq!(row.state, "sent");
        // The Message-ID is derived from the send key (how an in-doubt e-mail is recognised).
        let id = m.header("Message-ID").unwrap_or_default();
        assert!(id.contains("review-request") && id.contains(&order.idorder.0.to_string()), "{id}");
        assert!(row.provider_id.as_deref().is_some_and(|p| id.contains(p)), "{id} vs {row:?}");

        // Replaying the event (a duplicate webhook, `kade replay`) and waiting much longer never
        // sends it again.
        let jobs = rig.event_jobs("orders.completed").await;
        assert!(!jobs.is_empty());
        rig.replay(&jobs).await;
        rig.advance(DAY * 7).await;
        assert_eq!(mail.messages().len(), 1, "sent twice");
        assert_eq!(rig.log().await.len(), 1);
    }
}

#[tokio::test]
async fn a_wait_survives_a_restart_and_the_message_goes_out_once_at_the_right_time() {
    for db in test_databases("auto_restart").await {
        let mail = smtp(SmtpMode::Accept);
        let rig = AutoRig::start(&db, rules(REVIEW), Providers::smtp(&mail)).await;
        let order = rig.order(Some("jan@example.nl"), None, "NL").await;
        rig.ship(&order, &["3SKADE0002"]).await;
        rig.settle().await;
        let due = rig.log().await[0].due_ms;
        rig.advance(DAY).await;
        assert!(mail.messages().is_empty());

        // Kade stops and starts again (new engine, wall clock; the queue and the send log are in
        // the database). The new process lives in the same compressed time.
        let rig = rig.restart().await;
        rig.hub.engine.advance_clock(DAY);
        let early = due - rig.hub.engine.now_ms();
        assert!(early > 0, "still waiting");
        rig.advance(std::time::Duration::from_millis(early as u64 - 1_000)).await;
        assert!(mail.messages().is_empty(), "sent early after the restart");
        rig.advance(std::time::Duration::from_secs(2)).await;
        assert_eq!(mail.wait_for_messages(1, std::time::Duration::from_secs(5)).await.len(), 1);
        let rig = rig.restart().await;
        rig.hub.engine.advance_clock(DAY * 3);
        rig.settle().await;
        assert_eq!(mail.messages().len(), 1, "sent again after a second restart");
        assert_eq!(rig.log().await[0].state, "sent");
    }
}

#[tokio::test]
async fn an_order_cancelled_during_the_wait_gets_no_review_request() {
    for db in test_databases("auto_cancel").await {
        let mail = smtp(SmtpMode::Accept);
        let rig = AutoRig::start(&db, rules(REVIEW), Providers::smtp(&mail)).await;
        let order = rig.order(Some("jan@example.nl"), None, "NL").await;
        rig.ship(&order, &["3SKADE0003"]).await;
        rig.settle().await;
        rig.api().cancel_order(order.idorder, CancelMode::Force).await.unwrap();
        rig.advance(DAY * 3).await;
        assert!(mail.messages().is_empty());
        let row = &rig.log().await[0];
        assert_eq!(row.state, "skipped");
        assert_eq!(row.reason.as_deref(), Some("the order was cancelled meanwhile"));
    }
}

const NOW: &str = r#"
[[automation]]
name = "closed"
trigger = "orders.completed"
channel = "email"
subject = "Order {{order_number}}"
body = "Thanks {{customer_name}}"
"#;

#[tokio::test]
async fn missing_recipients_opt_outs_and_caps_skip_with_a_logged_reason() {
    for db in test_databases("auto_skip").await {
        let mail = smtp(SmtpMode::Accept);
        let capped = NOW.to_string()
            + "cap = { max = 1, per = \"7d\" }\n"
            + &NOW.replace("\"closed\"", "\"second\"").replace("Thanks", "Again")
            + "cap = { max = 1, per = \"7d\" }\n";
        let rig = AutoRig::start(&db, rules(&capped), Providers::smtp(&mail)).await;

        let no_email = rig.order(None, None, "NL").await;
        rig.ship(&no_email, &["3SKADE0004"]).await;
        rig.settle().await;
        let log = rig.log().await;
        assert_eq!(log.len(), 2);
        for row in &log {
            assert_eq!(row.state, "skipped");
            assert_eq!(row.reason.as_deref(), Some("no recipient: the order has no e-mail address"));
        }

        // Opted out (through the admin API): skipped.
        let (status, _) =
            rig.admin("POST", "/optouts", Some(json!({"channel": "email", "recipient": "piet@example.nl"}))).await;
        assert_eq!(status, 200);
        let opted = rig.order(Some("piet@example.nl"), None, "NL").await;
        rig.ship(&opted, &["3SKADE0005"]).await;
        rig.settle().await;
        let reasons: Vec<String> = rig.log().await[2..].iter().map(|r| r.reason.clone().unwrap_or_default()).collect();
        assert_eq!(reasons, ["piet@example.nl opted out of email messages"; 2]);

        // The cap: one automated message per customer a week, all rules together.
        let order = rig.order(Some("jan@example.nl"), None, "NL").await;
        rig.ship(&order, &["3SKADE0006"]).await;
        rig.settle().await;
        let rows = rig.log().await;
        let states: Vec<&str> = rows[4..].iter().map(|r| r.state.as_str()).collect();
        assert_eq!(states, ["sent", "skipped"], "{rows:?}");
        assert!(
            rows[5].reason.as_deref().unwrap().starts_with("per-customer cap reached: jan@example.nl already got 1")
        );
        assert_eq!(mail.wait_for_messages(1, std::time::Duration::from_secs(5)).await.len(), 1);

        // The send log through the admin API, filtered.
        let (_, body) = rig.admin("GET", "/messages?state=skipped&channel=email", None).await;
        assert_eq!(body["messages"].as_array().unwrap().len(), 5);
        let (status, body) = rig.admin("GET", "/messages?state=lost", None).await;
        assert_eq!(status, 400, "{body}");
    }
}

#[tokio::test]
async fn a_permanent_smtp_refusal_is_recorded_and_not_retried() {
    for db in test_databases("auto_550").await {
        let mail = smtp(SmtpMode::RejectRcpt(550));
        let rig = AutoRig::start(&db, rules(NOW), Providers::smtp(&mail)).await;
        let order = rig.order(Some("nobody@example.nl"), None, "NL").await;
        rig.ship(&order, &["3SKADE0007"]).await;
        rig.settle().await;
        let row = &rig.log().await[0];
        assert_eq!((row.state.as_str(), row.error_code.as_deref()), ("failed_permanent", Some("550")), "{row:?}");
        assert!(row.reason.as_deref().is_some_and(|r| !r.is_empty()));
        let jobs = rig.hub.engine.store().jobs(None, 100).await.unwrap();
        let send = jobs.iter().find(|j| j.kind == "automation.send").unwrap();
        assert_eq!((send.state.as_str(), send.attempts), ("done", 1), "not retried");
        let (_, body) = rig.admin("GET", "/messages?state=failed_permanent", None).await;
        assert_eq!(body["messages"][0]["error_code"], "550");
    }
}

#[tokio::test]
async fn a_temporary_smtp_refusal_is_retried_with_backoff_and_never_marked_sent() {
    for db in test_databases("auto_451").await {
        let mail = smtp(SmtpMode::RejectRcpt(451));
        let rig = AutoRig::start(&db, rules(NOW), Providers::smtp(&mail)).await;
        let order = rig.order(Some("jan@example.nl"), None, "NL").await;
        rig.ship(&order, &["3SKADE0008"]).await;
        rig.settle().await;
        for _ in 0..3 {
            rig.advance(std::time::Duration::from_secs(1)).await;
        }
        let row = &rig.log().await[0];
        assert_eq!(row.state, "scheduled", "back to scheduled after a transient failure: {row:?}");
        assert!(row.reason.as_deref().is_some_and(|r| r.contains("451")), "{row:?}");
        let jobs = rig.hub.engine.store().jobs(None, 100).await.unwrap();
        let send = jobs.iter().find(|j| j.kind == "automation.send").unwrap();
        assert!(send.attempts >= 2, "retried: {send:?}");
        assert!(mail.messages().is_empty());
    }
}

#[tokio::test]
async fn a_connection_dropped_after_data_is_ambiguous_and_not_resent() {
    for db in test_databases("auto_drop").await {
        let mail = smtp(SmtpMode::DropAfterData);
        let rig = AutoRig::start(&db, rules(NOW), Providers::smtp(&mail)).await;
        let order = rig.order(Some("jan@example.nl"), None, "NL").await;
        rig.ship(&order, &["3SKADE0009"]).await;
        rig.settle().await;
        for _ in 0..3 {
            rig.advance(std::time::Duration::from_secs(5)).await;
        }
        let row = &rig.log().await[0];
        assert_eq!(row.state, "ambiguous", "{row:?}");
        assert!(row.reason.as_deref().is_some_and(|r| r.contains("not resent")), "{row:?}");
        assert_eq!(mail.messages().len(), 1, "the server stored it once; Kade did not send it again");
        let (_, body) = rig.admin("GET", "/messages?state=ambiguous", None).await;
        assert_eq!(body["messages"].as_array().unwrap().len(), 1);

        // The operator decides. Resend: it goes out again (the server drops the answer again,
        // so it is ambiguous again — and was sent exactly once more, on request).
        let path = format!("/messages/{}/resolve", row.send_key);
        let (status, body) = rig.admin("POST", &path, Some(json!({"action": "resend"}))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["message"]["state"], "scheduled");
        for _ in 0..3 {
            rig.advance(std::time::Duration::from_secs(5)).await;
        }
        assert_eq!(mail.messages().len(), 2);
        assert_eq!(rig.log().await[0].state, "ambiguous");
        // Mark sent (the relay's log shows it): settled; a second decision is refused.
        let (status, body) = rig.admin("POST", &path, Some(json!({"action": "mark_sent"}))).await;
        assert_eq!((status, body["message"]["state"].as_str()), (200, Some("sent")), "{body}");
        let (status, body) = rig.admin("POST", &path, Some(json!({"action": "resend"}))).await;
        assert_eq!(status, 409, "{body}");
        assert!(body["message"].as_str().unwrap().contains("not ambiguous"), "{body}");
        let (status, _) = rig.admin("POST", "/messages/nope/resolve", Some(json!({"action": "resend"}))).await;
        assert_eq!(status, 404);
        let (status, _) = rig.admin("POST", &path, Some(json!({"action": "shrug"}))).await;
        assert_eq!(status, 400);
    }
}

#[tokio::test]
async fn rules_are_listed_and_previewed_through_the_admin_api() {
    let db = test_databases("auto_admin").await.remove(0);
    let mail = smtp(SmtpMode::Accept);
    let rig = AutoRig::start(&db, rules(REVIEW), Providers::smtp(&mail)).await;
    let (status, body) = rig.admin("GET", "/automations", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["rules"][0]["name"], "review-request");
    assert_eq!(body["rules"][0]["wait_ms"], 172_800_000);

    let sample = json!({"event": "orders.completed", "data": {
        "orderid": "20250042", "status": "completed", "deliveryname": "Piet", "emailaddress": "piet@example.nl",
        "products": [{"amount": 1, "name": "Mug", "productcode": "MUG"}]}});
    let (status, p) = rig.admin("POST", "/automations/review-request/preview", Some(sample)).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["subject"], "How was your order 20250042?");
    assert_eq!(p["recipient"], "piet@example.nl");
    assert!(p["body"].as_str().unwrap().starts_with("Hi Piet,\nyour order 20250042 () is completed:\n1 x Mug (MUG)"));

    // A recorded event, by inbox id.
    let order = rig.order(Some("jan@example.nl"), None, "NL").await;
    rig.ship(&order, &["3SKADE0010"]).await;
    rig.settle().await;
    let events = rig.hub.engine.store().events(None, 100).await.unwrap();
    let completed = events.iter().find(|e| e.event == "orders.completed").unwrap();
    let (status, p) =
        rig.admin("POST", "/automations/review-request/preview", Some(json!({"event_id": completed.id}))).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["recipient"], "jan@example.nl");
    assert_eq!(p["fires"], true);

    let (status, _) = rig.admin("POST", "/automations/nope/preview", Some(json!({"event_id": 1}))).await;
    assert_eq!(status, 404);
    let (status, e) = rig.admin("POST", "/automations/review-request/preview", Some(json!({}))).await;
    assert_eq!(status, 400, "{e}");
    assert!(mail.messages().is_empty(), "a preview never sends");
}

#[tokio::test]
async fn quiet_hours_defer_a_send_to_the_end_of_the_window() {
    let db = test_databases("auto_quiet").await.remove(0);
    let mail = smtp(SmtpMode::Accept);
    let quiet = NOW.to_string() + "quiet_hours = { from = \"21:00\", to = \"08:00\", utc_offset = \"Z\" }\n";
    let rig = AutoRig::start(&db, rules(&quiet), Providers::smtp(&mail)).await;
    // Move the engine's clock to the next 22:00 UTC.
    const H: i64 = 3_600_000;
    let now = rig.hub.engine.now_ms();
    let day_start = now - now.rem_euclid(24 * H);
    let ten_pm = if now.rem_euclid(24 * H) < 22 * H { day_start + 22 * H } else { day_start + 46 * H };
    rig.hub.engine.advance_clock(std::time::Duration::from_millis((ten_pm - now) as u64));

    let order = rig.order(Some("jan@example.nl"), None, "NL").await;
    rig.ship(&order, &["3SQUIET01"]).await;
    rig.settle().await;
    let row = rig.log().await.remove(0);
    let eight_am = ten_pm + 10 * H;
    assert_eq!(row.state, "scheduled");
    assert!((eight_am..eight_am + 60_000).contains(&row.due_ms), "deferred to 08:00 UTC: {row:?}");
    rig.advance(std::time::Duration::from_millis((eight_am - rig.hub.engine.now_ms() - 60_000) as u64)).await;
    assert!(mail.messages().is_empty(), "sent during quiet hours");
    rig.advance(std::time::Duration::from_secs(120)).await;
    assert_eq!(mail.wait_for_messages(1, std::time::Duration::from_secs(5)).await.len(), 1);
    let row = rig.log().await.remove(0);
    assert_eq!(row.state, "sent");
    assert!(row.intent_ms.unwrap() >= eight_am, "{row:?}");
}
