//! PrestaShop details the merchant sees in Picqer and in Kade's audit: a created product carries
//! the shop's cover image, shop prices carry the VAT group of the shop's rate, and every
//! partner call of a job (PrestaShop and Picqer) is listed on that job's audit entry, also for a
//! failed attempt.

use kade_picqer::types::ProductFilter;
use serde_json::{Value, json};

use crate::prestashop_rig::{Rig, order, product, shop_fault, shop_settings, shop_sim};
use crate::support::test_databases;

/// A tiny but real PNG header plus payload: the Picqer simulator sniffs the type from it.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0kade-test-image";

/// `(system, method, path, status)` of each call listed on an audit entry.
fn calls_of(entry: &Value) -> Vec<(String, String, String, Option<u64>)> {
    let text = |v: &Value| v.as_str().unwrap().to_owned();
    entry["calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .map(|c| {
                    assert!(c["ms"].is_u64(), "{c}");
                    (text(&c["system"]), text(&c["method"]), text(&c["path"]), c["status"].as_u64())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_created_product_carries_the_shop_image() {
    let db = test_databases("ps_image").await.remove(0);
    let mut rig = Rig::new(&db, 10).await;
    let sim = shop_sim(1).await;
    sim.add_product(&kade_sim::prestashop::ProductSpec { image: Some(PNG.to_vec()), ..product("PIC-NEW-1", 5) });
    sim.add_product(&product("NOPIC-NEW-2", 5));
    let mut settings = shop_settings("shop", &sim);
    settings.create_missing_products = true;
    rig.add_shop(sim, settings).await;
    rig.shop(0).place_order(&order(&[("PIC-NEW-1", 1), ("NOPIC-NEW-2", 1)], "IMAGEORDR")).unwrap();
    rig.settle().await;

    let p = rig.api().products_by_code("PIC-NEW-1").await.unwrap().remove(0);
    let images = rig.api().product_images(p.idproduct).await.unwrap();
    assert_eq!(images.len(), 1, "one image, copied once");
    assert_eq!(images[0].contenttype, "image/png");
    assert_eq!(images[0].size, Some(PNG.len() as u64));
    assert_eq!(p.images, vec![images[0].url.clone()], "the product lists its image URL");
    let file = reqwest::get(&images[0].url).await.unwrap().bytes().await.unwrap();
    assert_eq!(&file[..], PNG, "Picqer holds the shop's file, byte for byte");
    let shop_calls = rig.shop(0).journal();
    assert!(shop_calls.iter().any(|e| e.method == "GET" && e.path.starts_with("/api/images/products/")));

    let plain = rig.api().products_by_code("NOPIC-NEW-2").await.unwrap().remove(0);
    assert!(rig.api().product_images(plain.idproduct).await.unwrap().is_empty(), "no shop image, no Picqer image");
    let actions = rig.audit_actions("shop/order/1").await;
    assert_eq!(actions.iter().filter(|a| *a == "product image copied to Picqer").count(), 1, "{actions:?}");

    // The simulator refuses what is not an image, as Picqer validates uploads.
    let refused = rig.api().add_product_image(plain.idproduct, b"not an image").await;
    assert!(refused.is_err(), "{refused:?}");
}

#[tokio::test]
async fn shop_prices_carry_the_vat_group_of_the_shop_rate() {
    let db = test_databases("ps_vat").await.remove(0);
    let mut rig = Rig::new(&db, 20).await;
    // A Picqer product whose own VAT group is the 21% one (201), sold by the shop at 9%.
    let page = rig.api().products(&ProductFilter::default()).next_page().await.unwrap().unwrap();
    let high = page.iter().find(|p| p.idvatgroup.map(|v| v.0) == Some(201)).expect("a 21% product").clone();
    let sim = shop_sim(1).await;
    sim.add_product(&kade_sim::prestashop::ProductSpec {
        tax_rate: Some(9.0),
        price: "10.900000".into(),
        ..product(&high.productcode, 5)
    });
    let settings = shop_settings("shop", &sim);
    rig.add_shop(sim, settings).await;
    rig.shop(0).place_order(&order(&[(&high.productcode, 2)], "VATNINEXX")).unwrap();
    rig.settle().await;
    let found = rig.orders_with_reference("PS #1 / VATNINEXX").await;
    let o = rig.api().order(found[0].idorder).await.unwrap();
    assert_eq!(o.products.len(), 1);
    let line = &o.products[0];
    assert_eq!(line.idvatgroup.map(|v| v.0), Some(202), "the 9% group, found by the shop's rate: {line:?}");
    assert_eq!(line.price.map(|m| m.to_f64()), Some(10.0), "the shop's unit price excl. VAT (10.90 at 9%)");

    // Without the shop's price, Picqer's own price and VAT group apply.
    let mut rig2 = Rig::new(&test_databases("ps_vat2").await.remove(0), 20).await;
    let sim = shop_sim(1).await;
    sim.add_product(&kade_sim::prestashop::ProductSpec {
        tax_rate: Some(9.0),
        price: "10.900000".into(),
        ..product(&high.productcode, 5)
    });
    let mut settings = shop_settings("shop", &sim);
    settings.use_shop_price = false;
    rig2.add_shop(sim, settings).await;
    rig2.shop(0).place_order(&order(&[(&high.productcode, 2)], "VATPICQER")).unwrap();
    rig2.settle().await;
    let found = rig2.orders_with_reference("PS #1 / VATPICQER").await;
    let o = rig2.api().order(found[0].idorder).await.unwrap();
    assert_eq!(o.products[0].idvatgroup.map(|v| v.0), Some(201));
    assert_eq!(o.products[0].price, high.price);
}

#[tokio::test]
async fn every_shop_call_of_an_order_push_is_in_the_audit() {
    for db in test_databases("ps_calls").await {
        let mut rig = Rig::new(&db, 10).await;
        let code = rig.productcodes(1).await.remove(0);
        let sim = shop_sim(1).await;
        sim.add_product(&product(&code, 5));
        let settings = shop_settings("shop", &sim);
        rig.add_shop(sim, settings).await;
        // The first attempt's read of the order fails (the client's own retries included): that
        // attempt's calls are logged with the 500s.
        let tries = 1 + kade_prestashop::PrestaConfig::new("http://shop", "").max_transient_retries as usize;
        shop_fault(rig.shop(0), json!({"path": "/api/orders/1", "method": "GET", "status": 500, "times": tries})).await;
        rig.shop(0).place_order(&order(&[(&code, 1)], "AUDITCALL")).unwrap();
        rig.settle().await;
        assert_eq!(rig.orders_with_reference("PS #1 / AUDITCALL").await.len(), 1);

        let entries = rig.hub.engine.store().audit_for("shop/order/1", 100).await.unwrap();
        let failed =
            entries.iter().find(|e| e.action == "shop calls of a failed attempt").expect("failed attempt logged");
        let shop_call = |m: &str, p: &str, st: u64| ("prestashop".to_owned(), m.to_owned(), p.to_owned(), Some(st));
        assert_eq!(calls_of(&failed.detail), vec![shop_call("GET", "orders/1", 500); tries]);
        assert!(failed.detail["error"].as_str().unwrap().contains("500"), "{}", failed.detail);

        let done = entries.iter().find(|e| e.action == "order: in Picqer").expect("the job's effect entry");
        let calls = calls_of(&done.detail);
        let has = |sys: &str, m: &str, p: &str| {
            calls
                .iter()
                .any(|(cs, cm, cp, st)| cs == sys && cm == m && cp == p && st.is_some_and(|s| (200..300).contains(&s)))
        };
        assert!(has("prestashop", "GET", "orders/1"), "{calls:?}");
        assert!(has("prestashop", "GET", "customers/1"), "{calls:?}");
        assert!(has("prestashop", "POST", "customer_messages"), "the number note: {calls:?}");
        // The job's Picqer calls are listed in the same shape, in the order they were made.
        assert!(has("picqer", "GET", "/orders"), "the look-up by reference: {calls:?}");
        assert!(has("picqer", "POST", "/orders"), "the create: {calls:?}");
        let first_picqer = calls.iter().position(|c| c.0 == "picqer").unwrap();
        assert_eq!(calls[0], shop_call("GET", "orders/1", 200), "the shop order is read first: {calls:?}");
        assert!(first_picqer > 0);
        assert_eq!(done.detail["calls_total"].as_u64(), Some(calls.len() as u64));
    }
}
