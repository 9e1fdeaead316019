//! PrestaShop ↔ Picqer scenarios on both simulators: order push (reference, addresses, number
//! note, tags), idempotence under duplicates and a dropped create, unmatched lines, missing
//! products, processing and force-cancel, the status mapping table, two shops on one account,
//! and a lost notification caught by polling.

use kade_core::picqer::PicqerStatus;
use kade_core::prestashop::StatusRule;
use kade_picqer::types::OrderStatus;
use kade_sim::prestashop::{NotifyConfig, NotifyMode};
use serde_json::json;

use crate::prestashop_rig::{Rig, SECRET, order, product, shop_settings, shop_sim};
use crate::support::{control, test_databases};

fn notes(sim: &kade_sim::prestashop::RunningPrestaSim) -> Vec<String> {
    sim.records("customer_messages").into_iter().map(|m| m["message"].clone()).collect()
}

#[tokio::test]
async fn order_push_carries_reference_addresses_and_writes_the_number_back() {
    for db in test_databases("ps_push").await {
        let mut rig = Rig::new(&db, 20).await;
        let codes = rig.productcodes(2).await;
        let sim = shop_sim(73).await;
        sim.add_product(&product(&codes[0], 10));
        sim.add_product(&product(&codes[1], 10));
        let mut settings = shop_settings("dev", &sim);
        settings.prefix = "DEV".parse().unwrap();
        settings.tags = vec!["VIP".into()];
        let i = rig.add_shop(sim, settings).await;
        // The module sends every notice twice: still one Picqer order.
        rig.shop(i).configure_notify(Some(NotifyConfig {
            url: format!("{}/webhooks/prestashop/dev", rig.hub.url()),
            secret: SECRET.into(),
            mode: NotifyMode::Duplicate,
        }));
        let id = rig.shop(i).place_order(&order(&[(&codes[0], 2), (&codes[1], 1)], "ITQRFWVHT")).unwrap();
        assert_eq!(id, 73);
        rig.settle().await;

        let found = rig.orders_with_reference("DEV #73 / ITQRFWVHT").await;
        assert_eq!(found.len(), 1, "exactly one Picqer order");
        let o = rig.api().order(found[0].idorder).await.unwrap();
        assert_eq!(o.deliveryname.as_deref(), Some("De Vries BV"));
        assert_eq!(o.deliverycontactname.as_deref(), Some("Jan de Vries"));
        assert_eq!(o.deliveryaddress.as_deref(), Some("Dorpsstraat 12 bis"));
        assert_eq!((o.deliveryzipcode.as_deref(), o.deliverycountry.as_deref()), (Some("1234 AB"), Some("NL")));
        assert_eq!(o.invoicename.as_deref(), Some("Jan de Vries"));
        assert_eq!(o.emailaddress.as_deref(), Some("jan@example.com"));
        assert_eq!(o.telephone.as_deref(), Some("0612345678"));
        let lines: Vec<(String, i64)> = o.products.iter().map(|l| (l.productcode.clone(), l.amount)).collect();
        assert_eq!(lines, vec![(codes[0].clone(), 2), (codes[1].clone(), 1)]);
        assert!(o.tags.0.iter().any(|t| t.title == "VIP"), "configured tag applied: {:?}", o.tags);
        // State 2 creates but does not process: the order stays a concept.
        assert_eq!(o.status, OrderStatus::Concept);

        let number = format!("Picqer order {} (Kade)", o.orderid);
        assert_eq!(notes(rig.shop(i)).iter().filter(|m| **m == number).count(), 1, "{:?}", notes(rig.shop(i)));
        let shop_side = rig.audit_actions("dev/order/73").await;
        assert!(shop_side.iter().any(|a| a == "order: created in Picqer"), "{shop_side:?}");
        let picqer_side = rig.audit_actions(&format!("main/order/{}", o.idorder.0)).await;
        assert!(picqer_side.iter().any(|a| a == "order: created in Picqer"), "{picqer_side:?}");

        // Moving the shop order to "processing in progress" processes the Picqer order.
        rig.shop(i).set_state(73, 3).unwrap();
        rig.settle().await;
        assert_eq!(rig.api().order(o.idorder).await.unwrap().status, OrderStatus::Processing);
        assert_eq!(rig.orders_with_reference("DEV #73 / ITQRFWVHT").await.len(), 1);
    }
}

/// The first productcode of the seeded Picqer catalogue (same seed, same catalogue), read from a
/// simulator of its own so no test database is touched.
async fn seeded_code() -> String {
    let picqer = crate::support::sim(10).await;
    let page = crate::support::client(&picqer)
        .products(&kade_picqer::types::ProductFilter::default())
        .next_page()
        .await
        .unwrap()
        .unwrap();
    page[0].productcode.clone()
}

/// A rig with one shop named "shop" (prefix PS) whose simulator has `refs` as products.
async fn one_shop(db: &str, refs: &[&str], tweak: impl FnOnce(&mut kade_prestashop::ShopSettings)) -> Rig {
    let mut rig = Rig::new(db, 10).await;
    let sim = shop_sim(1).await;
    for r in refs {
        sim.add_product(&product(r, 5));
    }
    let mut settings = shop_settings("shop", &sim);
    tweak(&mut settings);
    rig.add_shop(sim, settings).await;
    rig
}

#[tokio::test]
async fn partly_and_wholly_unmatched_orders() {
    let db = test_databases("ps_unmatched").await.remove(0);
    let seed = Rig::new(&db, 10).await;
    let code = seed.productcodes(1).await.remove(0);
    drop(seed);
    let db = test_databases("ps_unmatched").await.remove(0);
    let rig = one_shop(&db, &[&code, "NOT-IN-PICQER", "ALSO-MISSING"], |_| {}).await;
    let shop = rig.shop(0);
    shop.place_order(&order(&[(&code, 1), ("NOT-IN-PICQER", 2)], "PARTLYXXX")).unwrap();
    shop.place_order(&order(&[("NOT-IN-PICQER", 1), ("ALSO-MISSING", 1)], "WHOLLYXXX")).unwrap();
    rig.settle().await;

    let partly = rig.orders_with_reference("PS #1 / PARTLYXXX").await;
    assert_eq!(partly.len(), 1);
    let o = rig.api().order(partly[0].idorder).await.unwrap();
    assert_eq!(o.products.len(), 1, "only the matched line");
    assert_eq!(o.products[0].productcode, code);
    let comments = rig.api().order_comments(o.idorder).await.unwrap();
    assert!(comments.iter().any(|c| c.body.as_deref().is_some_and(|b| b.contains("NOT-IN-PICQER"))), "{comments:?}");
    let shop_notes = notes(shop);
    assert!(
        shop_notes.iter().any(|m| m.contains("missing in Picqer") && m.contains("NOT-IN-PICQER")),
        "{shop_notes:?}"
    );

    assert!(rig.orders_with_reference("PS #2 / WHOLLYXXX").await.is_empty(), "no Picqer order without a matched line");
    assert!(
        shop_notes.iter().any(|m| m.contains("not sent to Picqer") && m.contains("ALSO-MISSING")),
        "{shop_notes:?}"
    );
    let actions = rig.audit_actions("shop/order/2").await;
    assert!(actions.iter().any(|a| a == "order: no line matched, not sent"), "{actions:?}");

    // A repeated notification for the wholly unmatched order adds no second note.
    shop.set_state(2, 2).unwrap();
    rig.settle().await;
    let again = notes(shop).iter().filter(|m| m.contains("not sent to Picqer")).count();
    assert_eq!(again, 1);
}

#[tokio::test]
async fn missing_products_are_created_first_and_go_negative() {
    let db = test_databases("ps_missing").await.remove(0);
    let rig = one_shop(&db, &["BRAND-NEW-1"], |s| s.create_missing_products = true).await;
    let mut spec = order(&[("BRAND-NEW-1", 3)], "NEWPRODXX");
    spec.state = Some(3); // creates and processes
    rig.shop(0).place_order(&spec).unwrap();
    rig.settle().await;
    let products = rig.api().products_by_code("BRAND-NEW-1").await.unwrap();
    assert_eq!(products.len(), 1, "created once");
    let p = &products[0];
    assert_eq!(p.name, "Shop product BRAND-NEW-1");
    // Picqer prices exclude VAT: 24.20 incl. 21% is 20.00 with the 21% group.
    assert_eq!(p.price.map(|m| m.to_f64()), Some(20.0));
    assert_eq!(p.idvatgroup.map(|v| v.0), Some(201));
    let o = rig.orders_with_reference("PS #1 / NEWPRODXX").await.remove(0);
    assert_eq!(o.status, OrderStatus::Processing);
    let free: i64 = rig.api().stock(p.idproduct).await.unwrap().iter().map(|s| s.freestock).sum();
    assert!(free < 0, "stock 0, then an order of 3: free stock {free}");
    let actions = rig.audit_actions("shop/order/1").await;
    assert!(actions.iter().any(|a| a == "product created in Picqer (missing)"), "{actions:?}");
}

#[tokio::test]
async fn a_dropped_create_still_ends_with_exactly_one_picqer_order() {
    // On SQLite and, when KADE_TEST_DATABASE_URL is set, on PostgreSQL: each database gets
    // the whole scenario (the seeded Picqer catalogue is the same in every simulator).
    let code = seeded_code().await;
    for db in test_databases("ps_drop").await {
        let rig = one_shop(&db, &[&code], |_| {}).await;
        control(
            &rig.picqer,
            "POST",
            "/_sim/faults",
            json!({"path": "/api/v1/orders", "method": "POST", "drop_after_commit": true}),
        )
        .await;
        rig.shop(0).place_order(&order(&[(&code, 1)], "DROPPEDXX")).unwrap();
        rig.settle().await;
        let found = rig.orders_with_reference("PS #1 / DROPPEDXX").await;
        assert_eq!(found.len(), 1, "the retry found the committed order instead of creating another");
        let creates =
            rig.picqer.journal().into_iter().filter(|e| e.method == "POST" && e.path == "/api/v1/orders").count();
        assert_eq!(creates, 1, "one create call, answered by a dropped connection");
        let actions = rig.audit_actions("shop/order/1").await;
        assert!(actions.iter().any(|a| a == "order: found in Picqer by reference"), "{actions:?}");
        let links = rig.hub.engine.store().linked("prestashop/shop", "order", "1", "picqer/main").await.unwrap();
        assert_eq!(links.len(), 1);
    }
}

#[tokio::test]
async fn force_cancel_of_a_shipped_order() {
    let db = test_databases("ps_cancel").await.remove(0);
    let seed = Rig::new(&db, 10).await;
    let code = seed.productcodes(1).await.remove(0);
    drop(seed);
    let db = test_databases("ps_cancel2").await.remove(0);
    let rig = one_shop(&db, &[&code], |_| {}).await;
    let mut spec = order(&[(&code, 1)], "SHIPPEDXX");
    spec.state = Some(3);
    rig.shop(0).place_order(&spec).unwrap();
    rig.settle().await;
    let o = rig.orders_with_reference("PS #1 / SHIPPEDXX").await.remove(0);
    let path = format!("/_sim/orders/{}", o.idorder.0);
    control(&rig.picqer, "POST", &format!("{path}/pick"), json!({})).await;
    control(
        &rig.picqer,
        "POST",
        &format!("{path}/ship"),
        json!({"parcels": [{"trackingcode": "3SKADE1", "carrier": "postnl"}]}),
    )
    .await;
    rig.settle().await;
    assert_eq!(rig.api().order(o.idorder).await.unwrap().status, OrderStatus::Completed);
    assert_eq!(rig.shop(0).field("orders", 1, "current_state").as_deref(), Some("4"), "completed → shipped");

    rig.shop(0).set_state(1, 6).unwrap();
    rig.settle().await;
    assert_eq!(rig.api().order(o.idorder).await.unwrap().status, OrderStatus::Cancelled);
    let actions = rig.audit_actions(&format!("main/order/{}", o.idorder.0)).await;
    assert!(actions.iter().any(|a| a == "order: force-cancelled in Picqer"), "{actions:?}");
}

#[tokio::test]
async fn status_mapping_first_match_wins_with_and_without_condition() {
    let db = test_databases("ps_mapping").await.remove(0);
    let seed = Rig::new(&db, 10).await;
    let code = seed.productcodes(1).await.remove(0);
    drop(seed);
    let db = test_databases("ps_mapping2").await.remove(0);
    let rig = one_shop(&db, &[&code], |s| {
        s.roles.create = vec![2, 11];
        s.roles.process = vec![];
        s.status_map = vec![
            StatusRule { when: Some(2), picqer: PicqerStatus::Processing, then: 3 },
            StatusRule { when: None, picqer: PicqerStatus::Processing, then: 9 },
            StatusRule { when: None, picqer: PicqerStatus::Processing, then: 5 },
        ];
    })
    .await;
    rig.shop(0).place_order(&order(&[(&code, 1)], "CONDITION")).unwrap();
    let mut other = order(&[(&code, 1)], "ANYSTATUS");
    other.state = Some(11);
    rig.shop(0).place_order(&other).unwrap();
    rig.settle().await;
    for reference in ["PS #1 / CONDITION", "PS #2 / ANYSTATUS"] {
        let o = rig.orders_with_reference(reference).await.remove(0);
        control(&rig.picqer, "POST", &format!("/_sim/orders/{}/process", o.idorder.0), json!({})).await;
    }
    rig.settle().await;
    assert_eq!(rig.shop(0).field("orders", 1, "current_state").as_deref(), Some("3"), "the conditioned row");
    assert_eq!(rig.shop(0).field("orders", 2, "current_state").as_deref(), Some("9"), "the first Any row");
}

#[tokio::test]
async fn two_shops_with_different_prefixes_on_one_picqer_account() {
    let db = test_databases("ps_two").await.remove(0);
    let mut rig = Rig::new(&db, 10).await;
    let code = rig.productcodes(1).await.remove(0);
    for (name, prefix) in [("nl", "NL"), ("be", "BE")] {
        let sim = shop_sim(1).await;
        sim.add_product(&product(&code, 5));
        let mut s = shop_settings(name, &sim);
        s.prefix = prefix.parse().unwrap();
        rig.add_shop(sim, s).await;
    }
    let mut spec = order(&[(&code, 1)], "SAMEREFXX");
    spec.state = Some(3);
    rig.shop(0).place_order(&spec).unwrap();
    rig.shop(1).place_order(&spec).unwrap();
    rig.settle().await;
    let nl = rig.orders_with_reference("NL #1 / SAMEREFXX").await;
    let be = rig.orders_with_reference("BE #1 / SAMEREFXX").await;
    assert_eq!((nl.len(), be.len()), (1, 1));
    // Shipping the Belgian order moves only the Belgian shop's order.
    let path = format!("/_sim/orders/{}", be[0].idorder.0);
    control(&rig.picqer, "POST", &format!("{path}/pick"), json!({})).await;
    control(&rig.picqer, "POST", &format!("{path}/ship"), json!({})).await;
    rig.settle().await;
    assert_eq!(rig.shop(1).field("orders", 1, "current_state").as_deref(), Some("4"));
    assert_eq!(rig.shop(0).field("orders", 1, "current_state").as_deref(), Some("3"));
}

#[tokio::test]
async fn a_lost_notification_is_caught_by_polling() {
    let db = test_databases("ps_poll").await.remove(0);
    let seed = Rig::new(&db, 10).await;
    let code = seed.productcodes(1).await.remove(0);
    drop(seed);
    let db = test_databases("ps_poll2").await.remove(0);
    let rig = one_shop(&db, &[&code], |_| {}).await;
    rig.shop(0).configure_notify(Some(NotifyConfig {
        url: format!("{}/webhooks/prestashop/shop", rig.hub.url()),
        secret: SECRET.into(),
        mode: NotifyMode::Lost,
    }));
    rig.shop(0).place_order(&order(&[(&code, 1)], "LOSTNOTIF")).unwrap();
    rig.settle().await;
    assert!(rig.orders_with_reference("PS #1 / LOSTNOTIF").await.is_empty(), "nothing told Kade yet");
    let shop = rig.presta.shop("shop").unwrap();
    shop.enqueue_poll(&rig.hub.engine).await.unwrap();
    rig.settle().await;
    assert_eq!(rig.orders_with_reference("PS #1 / LOSTNOTIF").await.len(), 1);
    // A second poll sees the order again (overlap window) but creates nothing new.
    shop.enqueue_poll(&rig.hub.engine).await.unwrap();
    rig.settle().await;
    assert_eq!(rig.orders_with_reference("PS #1 / LOSTNOTIF").await.len(), 1);
}
