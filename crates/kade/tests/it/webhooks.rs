//! Webhooks end to end: signed by the simulator, verified by the client's verifier; replay of a
//! recorded payload; retries and auto-deactivation under a compressed clock.

use std::time::Duration;

use kade_core::ids::HookId;
use kade_picqer::types::{NewHook, ProductFilter};
use kade_picqer::webhook::{self, Envelope, SignatureError, WebhookSecret};
use kade_sim::SimClock;
use kade_sim::picqer::PicqerSimConfig;
use serde_json::json;

use crate::support::{Receiver, client, control, sim, sim_with};

#[tokio::test]
async fn deliveries_are_signed_over_the_exact_bytes() {
    let sim = sim(20).await;
    let picqer = client(&sim);
    let rx = Receiver::start(200).await;
    let secret = "9rKq2mS0aWc8XyZ";
    let hook = picqer
        .create_hook(&NewHook {
            name: "stock".into(),
            event: "products.free_stock_changed".into(),
            address: rx.url.clone(),
            secret: Some(secret.into()),
        })
        .await
        .unwrap();
    assert!(hook.active && hook.secret);
    let product = picqer.products(&ProductFilter::default()).collect_all().await.unwrap().remove(0);
    let wh = picqer.warehouses().await.unwrap()[0].idwarehouse;
    control(
        &sim,
        "POST",
        &format!("/_sim/products/{}/stock", product.idproduct),
        json!({"idwarehouse": wh, "change": 5}),
    )
    .await;

    let got = rx.wait_for(1).await;
    assert_eq!(got.len(), 1, "one free-stock change, one delivery");
    let (body, sig) = (&got[0].body, got[0].signature.as_deref());
    let keys = [WebhookSecret::new(secret.as_bytes())];
    let env = Envelope::parse(&webhook::verify(body, sig, &keys).unwrap()).unwrap();
    assert_eq!((env.idhook, env.event.as_str()), (hook.idhook, "products.free_stock_changed"));
    assert_eq!(env.resource(), Some(("product", product.idproduct.0)));
    assert!(env.data["stock"].is_array(), "data is the whole product");

    assert_eq!(webhook::verify(body, None, &keys).unwrap_err(), SignatureError::Missing);
    assert_eq!(webhook::verify(body, sig, &[WebhookSecret::new(b"wrong")]).unwrap_err(), SignatureError::Mismatch);
    let mut tampered = body.to_vec();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'1' { b'2' } else { b'1' };
    assert_eq!(webhook::verify(&tampered, sig, &keys).unwrap_err(), SignatureError::Mismatch);
}

#[tokio::test]
async fn a_recorded_payload_replays_byte_for_byte_and_unsigned_hooks_send_no_header() {
    let sim = sim(5).await;
    let picqer = client(&sim);
    let rx = Receiver::start(200).await;
    let signed = picqer
        .create_hook(&NewHook {
            name: "o".into(),
            event: "orders.status_changed".into(),
            address: rx.url.clone(),
            secret: Some("k3y".into()),
        })
        .await
        .unwrap();
    // A payload in the shape of Picqer's documentation sample, spacing and all.
    let recorded = "{\"idhook\": 228, \"name\": \"Order status\", \"event\": \"orders.status_changed\",\n \"event_triggered_at\": \"2018-12-01 02:09:12\", \"data\": {\"idorder\": 11, \"status\": \"cancelled\", \"tags\": []}}";
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/_sim/hooks/{}/deliver", sim.root_url(), signed.idhook))
        .body(recorded)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    let got = rx.wait_for(1).await;
    assert_eq!(&got[0].body[..], recorded.as_bytes());
    let v = webhook::verify(&got[0].body, got[0].signature.as_deref(), &[WebhookSecret::new(b"k3y")]).unwrap();
    assert_eq!(Envelope::parse(&v).unwrap().data["status"], "cancelled");

    let plain = picqer
        .create_hook(&NewHook {
            name: "p".into(),
            event: "orders.status_changed".into(),
            address: rx.url.clone(),
            secret: None,
        })
        .await
        .unwrap();
    assert!(!plain.secret);
    http.post(format!("{}/_sim/hooks/{}/deliver", sim.root_url(), plain.idhook)).body(recorded).send().await.unwrap();
    let got = rx.wait_for(2).await;
    assert!(got[1].signature.is_none());
}

#[tokio::test]
async fn failing_receivers_get_retries_then_the_hook_is_deactivated() {
    let clock = SimClock::manual(1_700_000_000_000);
    let sim =
        sim_with(PicqerSimConfig { products: 5, rate_limit_per_minute: 0, clock: clock.clone(), ..Default::default() })
            .await;
    let picqer = client(&sim);
    let rx = Receiver::start(500).await;
    let hook = picqer
        .create_hook(&NewHook {
            name: "stock".into(),
            event: "products.stock_changed".into(),
            address: rx.url.clone(),
            secret: Some("s".into()),
        })
        .await
        .unwrap();
    let product = picqer.products(&ProductFilter::default()).collect_all().await.unwrap().remove(0);
    let wh = picqer.warehouses().await.unwrap()[0].idwarehouse;
    for _ in 0..5 {
        control(
            &sim,
            "POST",
            &format!("/_sim/products/{}/stock", product.idproduct),
            json!({"idwarehouse": wh, "change": 1}),
        )
        .await;
    }
    sim.hooks().settle().await;
    let first_attempts = rx.taken().len();
    assert_eq!(first_attempts, 5);
    assert!(picqer.hook(hook.idhook).await.unwrap().active, "one failed attempt does not deactivate");

    // Compress a day into a few hundred milliseconds: 10-minute steps for 24 hours.
    for _ in 0..(24 * 6) {
        clock.advance(Duration::from_secs(600));
        sim.hooks().settle().await;
    }
    let attempts = rx.taken().len();
    let retries_per_event = sim.hooks().deliveries().iter().filter(|d| d.idhook == hook.idhook.0).count() / 5;
    assert_eq!(attempts, 5 * retries_per_event);
    assert_eq!(retries_per_event, 16, "a first attempt and 15 retries");
    let h = picqer.hook(hook.idhook).await.unwrap();
    assert!(!h.active, "5 complete failures within 24 h deactivate the hook");
    assert!(picqer.hooks().await.unwrap().iter().any(|x| x.idhook == hook.idhook), "a deactivated hook stays listed");

    // Nothing more is sent to a deactivated hook; reactivation restores delivery.
    control(
        &sim,
        "POST",
        &format!("/_sim/products/{}/stock", product.idproduct),
        json!({"idwarehouse": wh, "change": 1}),
    )
    .await;
    sim.hooks().settle().await;
    assert_eq!(rx.taken().len(), attempts);
    *rx.status.lock().unwrap() = 200;
    assert!(picqer.reactivate_hook(HookId(hook.idhook.0)).await.unwrap().active);
    control(
        &sim,
        "POST",
        &format!("/_sim/products/{}/stock", product.idproduct),
        json!({"idwarehouse": wh, "change": 1}),
    )
    .await;
    sim.hooks().settle().await;
    assert_eq!(rx.wait_for(attempts + 1).await.len(), attempts + 1);
}
