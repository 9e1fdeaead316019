//! The automation send log and opt-outs: one row per (rule, entity, step), the intent recorded
//! by exactly one caller, outcomes and status callbacks that never go backwards.

use kade_store::{NewSend, SendFilter, SendOutcome, send_state};

use crate::each_backend;

fn new_send(rule: &str, entity: &str, channel: &str) -> NewSend {
    NewSend {
        send_key: format!("kade.{rule}.{entity}.0"),
        rule: rule.into(),
        entity: entity.into(),
        step: 0,
        connection: "main".into(),
        channel: channel.into(),
        event: "orders.completed".into(),
        due_ms: 1_000,
    }
}

#[tokio::test]
async fn scheduling_twice_keeps_one_row_and_only_one_caller_records_the_intent() {
    each_backend(async |s| {
        let a = s.schedule_send(&new_send("review", "o1", "email")).await.unwrap();
        let mut again = new_send("review", "o1", "email");
        again.due_ms = 99;
        let b = s.schedule_send(&again).await.unwrap();
        assert_eq!((a.id, b.id, b.due_ms, b.state.as_str()), (a.id, a.id, 1_000, send_state::SCHEDULED));

        assert!(s.record_intent(&a.send_key, "jan@example.com", Some("Hi"), "Body", 5_000).await.unwrap());
        assert!(!s.record_intent(&a.send_key, "jan@example.com", Some("Hi"), "Body", 5_001).await.unwrap());
        let row = s.send_by_key(&a.send_key).await.unwrap().unwrap();
        assert_eq!((row.state.as_str(), row.intent_ms, row.body.as_deref()), ("sending", Some(5_000), Some("Body")));
        // A scheduled-only skip no longer applies once the intent is recorded.
        assert!(!s.skip_send(&a.send_key, "late").await.unwrap());

        let sent = SendOutcome { state: send_state::SENT, provider_id: Some("msg-1"), ..Default::default() };
        assert!(s.finish_send(&a.send_key, send_state::SENDING, &sent).await.unwrap());
        assert!(!s.finish_send(&a.send_key, send_state::SENDING, &sent).await.unwrap());
        assert_eq!(s.send_by_provider_id("msg-1").await.unwrap().unwrap().id, a.id);
        assert!(
            s.finish_send(&a.send_key, "sent", &SendOutcome { state: "bogus", ..Default::default() }).await.is_err()
        );
    })
    .await;
}

#[tokio::test]
async fn status_callbacks_resolve_and_never_downgrade() {
    each_backend(async |s| {
        let r = s.schedule_send(&new_send("ship", "o2", "whatsapp")).await.unwrap();
        // A callback for a send not handed over yet changes nothing.
        let row = s.apply_status(Some(&r.send_key), "wamid.1", "sent", None).await.unwrap().unwrap();
        assert_eq!(row.state, "scheduled");
        assert!(s.record_intent(&r.send_key, "+31612345678", None, "text", 10).await.unwrap());
        let amb =
            SendOutcome { state: send_state::AMBIGUOUS, reason: Some("connection dropped"), ..Default::default() };
        assert!(s.finish_send(&r.send_key, send_state::SENDING, &amb).await.unwrap());
        // The callback carrying our key resolves the ambiguous send.
        let row = s.apply_status(Some(&r.send_key), "wamid.1", "delivered", None).await.unwrap().unwrap();
        assert_eq!((row.state.as_str(), row.provider_id.as_deref()), ("delivered", Some("wamid.1")));
        // Out of order "sent" after "delivered": ignored. By provider id alone: found.
        let row = s.apply_status(None, "wamid.1", "sent", None).await.unwrap().unwrap();
        assert_eq!(row.state, "delivered");
        assert!(s.apply_status(None, "wamid.unknown", "sent", None).await.unwrap().is_none());
        assert!(s.apply_status(None, "wamid.1", "scheduled", None).await.is_err());

        let f = s.schedule_send(&new_send("sms", "o3", "sms")).await.unwrap();
        s.record_intent(&f.send_key, "+31612345678", None, "x", 20).await.unwrap();
        let sent = SendOutcome { state: send_state::SENT, provider_id: Some("SM1"), ..Default::default() };
        s.finish_send(&f.send_key, send_state::SENDING, &sent).await.unwrap();
        let row = s.apply_status(None, "SM1", "failed_permanent", Some("30007")).await.unwrap().unwrap();
        assert_eq!((row.state.as_str(), row.error_code.as_deref()), ("failed_permanent", Some("30007")));
    })
    .await;
}

#[tokio::test]
async fn the_log_filters_counts_for_caps_and_reschedules() {
    each_backend(async |s| {
        for (rule, entity, channel) in [("a", "o1", "email"), ("a", "o2", "email"), ("b", "o1", "sms")] {
            s.schedule_send(&new_send(rule, entity, channel)).await.unwrap();
        }
        s.record_intent("kade.a.o1.0", "jan@example.com", Some("s"), "b", 100).await.unwrap();
        s.record_intent("kade.a.o2.0", "jan@example.com", Some("s"), "b", 200).await.unwrap();
        s.reschedule_send("kade.b.o1.0", 7_777).await.unwrap();
        assert!(s.skip_send("kade.b.o1.0", "opted out").await.unwrap());

        let all = s.sends(&SendFilter::default()).await.unwrap();
        assert_eq!(all.iter().map(|r| r.entity.as_str()).collect::<Vec<_>>(), ["o1", "o2", "o1"]);
        assert_eq!(all[0].due_ms, 7_777);
        assert_eq!(all[0].reason.as_deref(), Some("opted out"));
        let f = |rule: Option<&str>, state: Option<&str>, channel: Option<&str>, recipient: Option<&str>| SendFilter {
            rule: rule.map(Into::into),
            state: state.map(Into::into),
            channel: channel.map(Into::into),
            recipient: recipient.map(Into::into),
            limit: None,
        };
        assert_eq!(s.sends(&f(Some("a"), None, None, None)).await.unwrap().len(), 2);
        assert_eq!(s.sends(&f(None, Some("skipped"), None, None)).await.unwrap().len(), 1);
        assert_eq!(s.sends(&f(None, None, Some("sms"), None)).await.unwrap().len(), 1);
        assert_eq!(s.sends(&f(None, None, None, Some("jan@example.com"))).await.unwrap().len(), 2);
        assert_eq!(s.sends(&SendFilter { limit: Some(1), ..Default::default() }).await.unwrap().len(), 1);

        assert_eq!(s.count_sends_to("jan@example.com", 0, "none").await.unwrap(), 2);
        assert_eq!(s.count_sends_to("jan@example.com", 150, "none").await.unwrap(), 1);
        assert_eq!(s.count_sends_to("jan@example.com", 0, "kade.a.o1.0").await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn optouts_per_channel() {
    each_backend(async |s| {
        s.add_optout("sms", "+31612345678", Some("STOP")).await.unwrap();
        s.add_optout("sms", "+31612345678", Some("STOP again")).await.unwrap();
        s.add_optout("email", "jan@example.com", None).await.unwrap();
        assert!(s.is_opted_out("sms", "+31612345678").await.unwrap());
        assert!(!s.is_opted_out("whatsapp", "+31612345678").await.unwrap());
        let sms = s.optouts(Some("sms")).await.unwrap();
        assert_eq!((sms.len(), sms[0].reason.as_deref()), (1, Some("STOP again")));
        assert_eq!(s.optouts(None).await.unwrap().len(), 2);
        assert!(s.remove_optout("sms", "+31612345678").await.unwrap());
        assert!(!s.remove_optout("sms", "+31612345678").await.unwrap());
        assert!(!s.is_opted_out("sms", "+31612345678").await.unwrap());
    })
    .await;
}
