//! PrestaShop scenarios, continued: tracking back to the shop's order carrier (exact carrier
//! names, partial deliveries, nothing wiped), stock (events, combinations, full sync and its
//! URL), the notification ingress's refusals, and the settings Kade refuses.

use kade_picqer::types::ProductFilter;
use kade_prestashop::connector::{PrestaJob, PrestaShop, ShopError, StatusBackJob};
use kade_sim::prestashop::{ComboSpec, NotifyConfig, NotifyMode, ProductSpec, sign};
use serde_json::json;

use crate::prestashop_rig::{Rig, SECRET, order, product, shop_settings, shop_sim};
use crate::support::{control, test_databases};

async fn db(tag: &str) -> String {
    test_databases(tag).await.remove(0)
}

/// A POSTNL carrier (same name as Picqer's PostNL, different case) added through the webservice.
async fn add_carrier(sim: &kade_sim::prestashop::RunningPrestaSim, name: &str) -> u64 {
    let xml = format!(
        "<prestashop><carrier><name>{name}</name><active>1</active><delay><language id=\"1\">2 days</language></delay>\
         <id_reference>9</id_reference></carrier></prestashop>"
    );
    let resp = reqwest::Client::new()
        .post(format!("{}/carriers?output_format=JSON", sim.api_url()))
        .basic_auth(sim.ws_key(), Some(""))
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let v: serde_json::Value = resp.json().await.unwrap();
    v["carrier"]["id"].as_u64().unwrap()
}

#[tokio::test]
async fn tracking_goes_to_the_carrier_with_the_exact_name_only() {
    let mut rig = Rig::new(&db("ps_track").await, 10).await;
    let code = rig.productcodes(1).await.remove(0);
    let sim = shop_sim(1).await;
    sim.add_product(&product(&code, 9));
    let upper = add_carrier(&sim, "POSTNL").await;
    let s = shop_settings("shop", &sim);
    rig.add_shop(sim, s).await;
    let mut exact = order(&[(&code, 2)], "EXACTNAME");
    exact.state = Some(3);
    let mut cased = order(&[(&code, 1)], "CASEDNAME");
    cased.state = Some(3);
    cased.carrier = Some(upper);
    rig.shop(0).place_order(&exact).unwrap();
    rig.shop(0).place_order(&cased).unwrap();
    rig.settle().await;
    // A partial delivery: two parcels in separate shipments.
    let first = rig.orders_with_reference("PS #1 / EXACTNAME").await.remove(0);
    let path = format!("/_sim/orders/{}", first.idorder.0);
    control(&rig.picqer, "POST", &format!("{path}/pick"), json!({})).await;
    let parcels = json!({"separate_shipments": true, "parcels": [
        {"trackingcode": "3SKADE0001", "carrier": "postnl"}, {"trackingcode": "3SKADE0002", "carrier": "postnl"}]});
    control(&rig.picqer, "POST", &format!("{path}/ship"), parcels).await;
    let second = rig.orders_with_reference("PS #2 / CASEDNAME").await.remove(0);
    let path = format!("/_sim/orders/{}", second.idorder.0);
    control(&rig.picqer, "POST", &format!("{path}/pick"), json!({})).await;
    control(
        &rig.picqer,
        "POST",
        &format!("{path}/ship"),
        json!({"parcels": [{"trackingcode": "3SKADE0003", "carrier": "postnl"}]}),
    )
    .await;
    rig.settle().await;

    let rows = rig.shop(0).records("order_carriers");
    let row = |order: &str| rows.iter().find(|r| r["id_order"] == order).unwrap().clone();
    assert_eq!(row("1")["tracking_number"], "3SKADE0001, 3SKADE0002", "both parcels of the partial deliveries");
    assert_eq!(row("1")["weight"], "1.250000", "the full object was PUT back: nothing wiped");
    assert_eq!(row("1")["shipping_cost_tax_incl"], "6.950000");
    assert_eq!(row("2")["tracking_number"], "", "POSTNL is not PostNL");
    let actions = rig.audit_actions("shop/order/2").await;
    assert!(actions.iter().any(|a| a == "tracking not written: no shop carrier with this exact name"), "{actions:?}");
    assert!(rig.shop(0).mails().iter().any(|m| m.template == "in_transit" && m.id_order == 1));
    // Repeated events write nothing more.
    let puts = |rig: &Rig| {
        rig.shop(0).journal().iter().filter(|e| e.method == "PUT" && e.path.starts_with("/api/order_carriers")).count()
    };
    let before = puts(&rig);
    let shop = rig.presta.shop("shop").unwrap();
    let again = StatusBackJob { connection: "main".into(), shop: shop.name().into(), idorder: first.idorder.0 };
    rig.hub.engine.enqueue(&PrestaJob::StatusBack(again)).await.unwrap();
    rig.settle().await;
    assert_eq!(puts(&rig), before);
}

#[tokio::test]
async fn stock_events_write_the_sellable_figure_only_where_it_differs() {
    let mut rig = Rig::new(&db("ps_stock").await, 10).await;
    rig.hub.engine.drain().await.unwrap();
    let products = rig.api().products(&ProductFilter::default()).next_page().await.unwrap().unwrap();
    let (a, b, c) = (&products[0], &products[1], &products[2]);
    let sim = shop_sim(1).await;
    sim.add_product(&product(&a.productcode, 999));
    sim.add_product(&ProductSpec {
        combinations: vec![
            ComboSpec { reference: b.productcode.clone(), quantity: 999, price: None },
            ComboSpec { reference: c.productcode.clone(), quantity: 1, price: None },
        ],
        ..product("PARENT", 0)
    });
    let s = shop_settings("shop", &sim);
    rig.add_shop(sim, s).await;
    let sellable = |rig: &Rig, id: kade_core::ids::ProductId| {
        let api = rig.api();
        async move { api.stock(id).await.unwrap().iter().map(|s| s.freestock).sum::<i64>().max(0) }
    };
    for p in [a, b] {
        control(
            &rig.picqer,
            "POST",
            &format!("/_sim/products/{}/stock", p.idproduct.0),
            json!({"idwarehouse": 101, "change": 3}),
        )
        .await;
    }
    rig.settle().await;
    let qty = |rig: &Rig, reference: &str| -> i64 {
        let (pid, attr) = match rig.shop(0).records("combinations").iter().find(|c| c["reference"] == reference) {
            Some(c) => (c["id_product"].clone(), c["id"].clone()),
            None => {
                let p = rig.shop(0).records("products").into_iter().find(|p| p["reference"] == reference).unwrap();
                (p["id"].clone(), "0".into())
            }
        };
        let rows = rig.shop(0).records("stock_availables");
        rows.iter().find(|r| r["id_product"] == pid && r["id_product_attribute"] == attr).unwrap()["quantity"]
            .parse()
            .unwrap()
    };
    assert_eq!(qty(&rig, &a.productcode), sellable(&rig, a.idproduct).await);
    assert_eq!(qty(&rig, &b.productcode), sellable(&rig, b.idproduct).await);
    assert_eq!(
        qty(&rig, "PARENT"),
        qty(&rig, &b.productcode) + 1,
        "the total row is the shop's own sum, never written"
    );
    let writes = rig
        .shop(0)
        .journal()
        .iter()
        .filter(|e| e.method == "PUT" && e.path.starts_with("/api/stock_availables"))
        .count();
    assert_eq!(writes, 2);

    // The full sync writes only c (its 1 differs from Picqer); the URL needs the token.
    let url = format!("{}/prestashop/shop/stock-sync", rig.hub.url());
    let http = reqwest::Client::new();
    assert_eq!(http.post(&url).send().await.unwrap().status(), 403, "no token configured: disabled");
    drop(rig.shops.pop());
    let sim = shop_sim(1).await;
    sim.add_product(&product(&a.productcode, sellable(&rig, a.idproduct).await));
    sim.add_product(&product(&c.productcode, 12345));
    let mut s = shop_settings("shop", &sim);
    s.full_sync_token = Some("cron-token-123".into());
    rig.add_shop(sim, s).await;
    assert_eq!(http.post(format!("{url}?token=wrong")).send().await.unwrap().status(), 401);
    assert_eq!(http.get(format!("{url}?token=cron-token-123")).send().await.unwrap().status(), 202);
    rig.settle().await;
    assert_eq!(qty(&rig, &c.productcode), sellable(&rig, c.idproduct).await);
    let writes = rig
        .shop(0)
        .journal()
        .iter()
        .filter(|e| e.method == "PUT" && e.path.starts_with("/api/stock_availables"))
        .count();
    assert_eq!(writes, 1, "only the product whose value differed");
}

#[tokio::test]
async fn the_notification_ingress_refuses_bad_deliveries_and_tolerates_disorder() {
    let mut rig = Rig::new(&db("ps_ingress").await, 10).await;
    let code = rig.productcodes(1).await.remove(0);
    let sim = shop_sim(1).await;
    sim.add_product(&product(&code, 9));
    let s = shop_settings("shop", &sim);
    rig.add_shop(sim, s).await;
    let url = format!("{}/webhooks/prestashop/shop", rig.hub.url());
    let http = reqwest::Client::new();
    let body = br#"{"event":"order.created","id_order":1,"delivery_id":1}"#.to_vec();
    let send = |url: String, sig: Option<String>, body: Vec<u8>| {
        let http = http.clone();
        async move {
            let mut req = http.post(url).body(body);
            if let Some(sig) = sig {
                req = req.header("x-kade-signature", sig);
            }
            req.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(send(url.clone(), None, body.clone()).await, 401);
    assert_eq!(send(url.clone(), Some(sign("wrong secret", &body)), body.clone()).await, 401);
    assert_eq!(send(url.clone(), Some(sign(SECRET, b"not json")), b"not json".to_vec()).await, 400);
    let other = format!("{}/webhooks/prestashop/nope", rig.hub.url());
    assert_eq!(send(other, Some(sign(SECRET, &body)), body.clone()).await, 404);
    let stored = rig.hub.engine.store().events(Some("shop"), 100).await.unwrap();
    assert!(stored.is_empty(), "refused deliveries store nothing: {stored:?}");

    // Out of order: the status change arrives before the creation; both are hints, the order
    // is read as it is now, and ends up created and processed once.
    rig.shop(0).configure_notify(Some(NotifyConfig { url, secret: SECRET.into(), mode: NotifyMode::OutOfOrder }));
    rig.shop(0).place_order(&order(&[(&code, 1)], "DISORDERX")).unwrap();
    rig.shop(0).set_state(1, 3).unwrap();
    rig.shop(0).flush_notifications();
    rig.settle().await;
    let found = rig.orders_with_reference("PS #1 / DISORDERX").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].status, kade_picqer::types::OrderStatus::Processing);
}

#[tokio::test]
async fn settings_kade_refuses() {
    let mut rig = Rig::new(&db("ps_settings").await, 10).await;
    let code = rig.productcodes(1).await.remove(0);
    let sim = shop_sim(1).await;
    sim.add_product(&product(&code, 9));
    let store = rig.hub.engine.store().clone();
    let secrets = rig.hub.engine.secrets().clone();

    let mut bad = shop_settings("shop", &sim);
    bad.tags = vec!["Nonexistent".into()];
    let err = PrestaShop::connect(store.clone(), &secrets, bad).await.err().unwrap();
    assert!(err.to_string().contains("Nonexistent") && err.to_string().contains("VIP"), "{err}");
    // A bad prefix cannot reach `connect` any more: its type refuses it (kade-core's unit tests).
    assert!("TOOLONG".parse::<kade_core::prestashop::OrderPrefix>().is_err());
    let mut bad = shop_settings("shop", &sim);
    bad.ws_key = "W".repeat(32).parse().unwrap();
    let err = PrestaShop::connect(store.clone(), &secrets, bad).await.err().unwrap();
    assert!(matches!(err, ShopError::Shop { .. }) && !err.to_string().contains(&"W".repeat(32)), "{err}");

    let s = shop_settings("shop", &sim);
    rig.add_shop(sim, s).await;
    rig.shop(0).place_order(&order(&[(&code, 1)], "SYNCEDXXX")).unwrap();
    rig.settle().await;
    let mut renamed = shop_settings("shop", rig.shop(0));
    renamed.prefix = "XY".parse().unwrap();
    let err = PrestaShop::connect(store.clone(), &secrets, renamed).await.err().unwrap();
    assert!(err.to_string().contains("cannot change from \"PS\" to \"XY\""), "{err}");
    // The same prefix reconnects fine.
    assert!(PrestaShop::connect(store, &secrets, shop_settings("shop", rig.shop(0))).await.is_ok());
}

#[tokio::test]
async fn concept_orders_allocate_and_stock_webhooks_can_run_a_full_sync() {
    let mut rig = Rig::new(&db("ps_alloc").await, 10).await;
    rig.hub.engine.drain().await.unwrap();
    let products = rig.api().products(&ProductFilter::default()).next_page().await.unwrap().unwrap();
    let (a, b) = (&products[0], &products[1]);
    let sim = shop_sim(1).await;
    sim.add_product(&product(&a.productcode, 999));
    sim.add_product(&product(&b.productcode, 999));
    let mut s = shop_settings("shop", &sim);
    s.allocate_concept = true;
    s.full_stock_on_webhook = true;
    rig.add_shop(sim, s).await;
    let reserved = |rig: &Rig, id| {
        let api = rig.api();
        async move { api.stock(id).await.unwrap().iter().map(|s| s.reservedallocations).sum::<i64>() }
    };
    let before = reserved(&rig, a.idproduct).await;
    rig.shop(0).place_order(&order(&[(&a.productcode, 1)], "CONCEPTXX")).unwrap();
    rig.settle().await;
    let o = rig.orders_with_reference("PS #1 / CONCEPTXX").await.remove(0);
    assert_eq!(o.status, kade_picqer::types::OrderStatus::Concept);
    assert_eq!(reserved(&rig, a.idproduct).await, before + 1, "allocated while still a concept");
    let actions = rig.audit_actions("shop/order/1").await;
    assert!(actions.iter().any(|x| x == "order: stock allocated (concept)"), "{actions:?}");

    // One stock event for `a` → a full sync: `b` is corrected too.
    control(
        &rig.picqer,
        "POST",
        &format!("/_sim/products/{}/stock", a.idproduct.0),
        json!({"idwarehouse": 101, "change": 2}),
    )
    .await;
    rig.settle().await;
    let rows = rig.shop(0).records("stock_availables");
    let qty = |pid: &str| rows.iter().find(|r| r["id_product"] == pid).unwrap()["quantity"].parse::<i64>().unwrap();
    assert_ne!(qty("2"), 999, "the other product was synced by the full sync");
    let full = rig.audit_actions("shop/stock").await;
    assert!(full.iter().any(|x| x == "stock full sync"), "{full:?}");
}
