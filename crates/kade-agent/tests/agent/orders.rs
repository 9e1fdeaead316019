//! Order questions on the Picqer simulator: identity rules, shipments with every parcel,
//! backorders with expected dates, references, the cache and Picqer failures.

use crate::support::*;
use kade_agent::{Agent, AgentConfig, Channel, Question, Reply};
use serde_json::json;

fn ask(message: &str) -> Question {
    Question { message: message.into(), channel: Channel::Chat, from: None, language: None }
}

async fn answer(agent: &Agent, q: Question) -> Reply {
    agent.ask(&q).await.expect("an answer")
}

/// A shipped order with two parcels, reference PS #73; returns its orderid.
async fn shipped(sim: &kade_sim::picqer::RunningSim, c: &kade_picqer::PicqerClient) -> String {
    let code = c.products(&Default::default()).next_page().await.unwrap().unwrap()[0].clone();
    set_stock(sim, code.idproduct.0, 20).await;
    let o = order(c, "PS #73", &[(&code.productcode, 2)]).await;
    c.process_order(o.idorder).await.unwrap();
    control(sim, &format!("/orders/{}/pick", o.idorder), json!({})).await;
    let parcels = json!({"parcels": [
        {"trackingcode": "3SKADE0000001", "carrier": "postnl"},
        {"trackingcode": "3SKADE0000002", "carrier": "postnl"}
    ]});
    control(sim, &format!("/orders/{}/ship", o.idorder), parcels).await;
    o.orderid
}

#[tokio::test]
async fn identity_decides_what_an_order_question_is_told() {
    let sim = sim(30).await;
    let c = client(&sim);
    let id = shipped(&sim, &c).await;
    let store = store("identity").await;
    mirror(&c, &store).await;
    let agent = agent(c, store, AgentConfig::default());

    // Verified by email: everything, with every parcel.
    let r = answer(&agent, ask(&format!("Where is my order {id}? My email is Sanne.deVries@example.com"))).await;
    assert_eq!(r.facts.verification, Some("verified"), "{}", r.answer);
    for fact in [id.as_str(), "3SKADE0000001", "3SKADE0000002", "PostNL", "has been shipped", "2 ×"] {
        assert!(r.answer.contains(fact), "{fact:?} missing from {}", r.answer);
    }
    assert_eq!(r.facts.orders.len(), 1);
    assert_eq!(r.facts.orders[0].shipments[0].parcels.len(), 2);
    assert!(
        r.facts.orders[0].shipments[0]
            .parcels
            .iter()
            .all(|p| p.tracking_url.as_deref().is_some_and(|u| u.starts_with("http")))
    );

    // Verified by delivery postcode, written differently; and in Dutch.
    let r = answer(&agent, ask(&format!("Waar is mijn bestelling {id}? Postcode 6811ab"))).await;
    assert_eq!(r.facts.verification, Some("verified"));
    assert!(r.answer.contains("Verzonden met PostNL in 2 pakketten"), "{}", r.answer);

    // Verified by the WhatsApp number it came from — but the same number from a web chat or
    // typed in the text proves nothing.
    let wa = Question {
        channel: Channel::Whatsapp,
        from: Some("whatsapp:+31612345678".into()),
        ..ask(&format!("status {id}?"))
    };
    assert_eq!(answer(&agent, wa).await.facts.verification, Some("verified"));
    let chat = Question { from: Some("+31612345678".into()), ..ask(&format!("status {id}? my number is 0612345678")) };
    let r = answer(&agent, chat).await;
    assert_eq!(r.facts.verification, Some("required"));
    assert!(!r.answer.contains("3SKADE"), "{}", r.answer);

    // No proof: asked for, nothing disclosed — and the same words as for an order that does
    // not exist.
    let r = answer(&agent, ask(&format!("Where is my order {id}?"))).await;
    assert_eq!((r.facts.verification, r.facts.orders.len()), (Some("required"), 0));
    assert!(r.answer.contains("email address or the delivery postcode"), "{}", r.answer);
    let ghost = answer(&agent, ask("Where is my order 99999999?")).await;
    assert_eq!(ghost.answer.replace("99999999", &id), r.answer);
    assert_eq!(
        serde_json::to_value(&ghost.facts).unwrap()["verification"],
        serde_json::to_value(&r.facts).unwrap()["verification"]
    );

    // Wrong proof reads exactly like no such order.
    let wrong = answer(&agent, ask(&format!("order {id}, email jan.jansen@example.com"))).await;
    let none = answer(&agent, ask("order 99999999, email jan.jansen@example.com")).await;
    assert_eq!(wrong.facts.verification, Some("not_verified"));
    assert_eq!(none.answer.replace("99999999", &id), wrong.answer);
    assert!(!wrong.answer.contains("3SKADE") && wrong.facts.orders.is_empty());
    let right_email_no_order = answer(&agent, ask("order 99999999, email sanne.devries@example.com")).await;
    assert_eq!(right_email_no_order.answer, none.answer, "the customer's own email does not confirm other numbers");

    // A list of postcode guesses is not checked at all.
    let r = answer(&agent, ask(&format!("order {id} postcode 6811 AA, postcode 6811 AB, 6811AC 6811AD"))).await;
    assert_eq!(r.facts.verification, Some("not_verified"));
    assert!(r.facts.orders.is_empty() && r.answer.contains("one email address or one postcode"), "{}", r.answer);
    sim.shutdown().await;
}

#[tokio::test]
async fn shop_references_are_found_with_or_without_their_prefix() {
    let sim = sim(30).await;
    let c = client(&sim);
    let id = shipped(&sim, &c).await;
    let p = c.products(&Default::default()).next_page().await.unwrap().unwrap()[1].clone();
    set_stock(&sim, p.idproduct.0, 5).await;
    let other = order(&c, "DEV #73 / ITQRFWVHT", &[(&p.productcode, 1)]).await;
    let store = store("refs").await;
    mirror(&c, &store).await;
    let agent = agent(c, store, AgentConfig::default());

    let r = answer(&agent, ask("Where is PS #73? sanne.devries@example.com")).await;
    assert_eq!(r.facts.orders.iter().map(|o| o.orderid.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    let r = answer(&agent, ask("order ps73, 6811 AB")).await;
    assert_eq!(r.facts.orders.len(), 1);
    let r = answer(&agent, ask("ITQRFWVHT - postcode 6811 AB")).await;
    assert_eq!(r.facts.orders.iter().map(|o| o.orderid.as_str()).collect::<Vec<_>>(), [other.orderid.as_str()]);
    assert!(r.answer.contains("received"), "a concept order: {}", r.answer);
    let r = answer(&agent, ask("DEV #73 / ITQRFWVHT sanne.devries@example.com")).await;
    assert_eq!(r.facts.orders.len(), 1);
    // "#73" alone means both of Sanne's orders; she may see both.
    let r = answer(&agent, ask("order #73 sanne.devries@example.com")).await;
    assert_eq!(r.facts.orders.len(), 2, "{}", r.answer);
    // A prefix that is not hers: nothing.
    let r = answer(&agent, ask("order XY #73 sanne.devries@example.com")).await;
    assert!(r.facts.orders.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn backorders_show_the_expected_date_when_picqer_has_one() {
    let sim = sim(30).await;
    let c = client(&sim);
    let ps = c.products(&Default::default()).next_page().await.unwrap().unwrap();
    let (have, wait) = (&ps[2], &ps[3]);
    set_stock(&sim, have.idproduct.0, 10).await;
    set_stock(&sim, wait.idproduct.0, 0).await;
    let o = order(&c, "PS #88", &[(&have.productcode, 1), (&wait.productcode, 3)]).await;
    c.process_order(o.idorder).await.unwrap();
    let bos = c.order_backorders(o.idorder).await.unwrap();
    assert_eq!(bos.len(), 1);
    let store = store("backorders").await;
    mirror(&c, &store).await;
    let agent =
        agent(c.clone(), store, AgentConfig { order_cache: std::time::Duration::ZERO, ..AgentConfig::default() });

    let r = answer(&agent, ask(&format!("where is {} 6811 AB", o.orderid))).await;
    assert!(r.answer.contains("waiting for stock"), "{}", r.answer);
    assert!(
        r.answer.contains(&format!("3 × {}", wait.name)) && r.answer.contains("we do not have a date yet"),
        "{}",
        r.answer
    );

    control(
        &sim,
        &format!("/backorders/{}/date-available", bos[0].idbackorder),
        json!({"date_available": "2026-12-01"}),
    )
    .await;
    let r = answer(&agent, ask(&format!("waar blijft {}? 6811 AB", o.orderid))).await;
    assert!(r.answer.contains("verwacht op 2026-12-01"), "{}", r.answer);
    assert_eq!(r.facts.orders[0].backorders[0].expected.as_deref(), Some("2026-12-01"));

    // Part shipped, the rest waits.
    control(&sim, &format!("/orders/{}/pick", o.idorder), json!({})).await;
    control(
        &sim,
        &format!("/orders/{}/ship", o.idorder),
        json!({"parcels": [{"trackingcode": "JVGL0001", "carrier": "dhl"}]}),
    )
    .await;
    let r = answer(&agent, ask(&format!("{} sanne.devries@example.com", o.orderid))).await;
    assert!(r.answer.contains("part of it has been shipped") && r.answer.contains("JVGL0001"), "{}", r.answer);
    sim.shutdown().await;
}

#[tokio::test]
async fn lookups_are_cached_briefly_and_failures_are_answered_politely() {
    let sim = sim(30).await;
    let c = client(&sim);
    let id = shipped(&sim, &c).await;
    let store = store("cache").await;
    mirror(&c, &store).await;
    let agent = agent(c, store, AgentConfig::default());
    let q = ask(&format!("{id} sanne.devries@example.com"));
    answer(&agent, q.clone()).await;
    let calls = sim.journal().len();
    answer(&agent, q.clone()).await;
    assert_eq!(sim.journal().len(), calls, "the second question is answered from the cache");
    // Without any proof Picqer is not even asked.
    answer(&agent, ask("where is 20259999")).await;
    assert_eq!(sim.journal().len(), calls);

    // Picqer failing: a polite answer, no error, no details.
    let faults = reqwest::Client::new();
    faults
        .post(format!("{}/_sim/faults", sim.root_url()))
        .json(&json!({"path": "/api/v1/orders", "status": 500, "times": 0}))
        .send()
        .await
        .unwrap();
    let r = answer(&agent, ask("where is 20258888? sanne.devries@example.com")).await;
    assert!(r.answer.contains("cannot reach our order system"), "{}", r.answer);
    assert_eq!(r.facts.verification, Some("unavailable"));
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_questions_are_refused_clearly() {
    let sim = sim(10).await;
    let c = client(&sim);
    let store = store("bad").await;
    let agent = agent(c, store, AgentConfig::default());
    let e = agent.ask(&ask("   ")).await.unwrap_err();
    assert!(e.to_string().contains("message is empty"), "{e}");
    let e = agent.ask(&ask(&"x".repeat(5000))).await.unwrap_err();
    assert!(e.to_string().contains("at most 4000"), "{e}");
    sim.shutdown().await;
}
