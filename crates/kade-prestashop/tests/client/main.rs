//! The client against the PrestaShop simulator: JSON quirks, whole-object updates, notes, stock
//! rows, and error classification; the shared transport's retries and budget in `transport`.

mod transport;

use std::net::SocketAddr;

use kade_prestashop::{ErrorClass, PrestaClient, PrestaConfig, PrestaError};
use kade_sim::prestashop::{
    AddressSpec, ComboSpec, CustomerSpec, LineSpec, OrderSpec, PrestaSimConfig, ProductSpec, RunningPrestaSim, start,
};

async fn shop() -> (RunningPrestaSim, PrestaClient) {
    let sim = start(PrestaSimConfig::default(), "127.0.0.1:0".parse::<SocketAddr>().unwrap()).await.unwrap();
    let client = PrestaClient::new(PrestaConfig::new(&sim.root_url(), sim.ws_key())).unwrap();
    (sim, client)
}

fn product(reference: &str) -> ProductSpec {
    ProductSpec {
        reference: reference.into(),
        name: reference.into(),
        price: "1".into(),
        quantity: 5,
        combinations: vec![],
        tax_rate: None,
        image: None,
    }
}

fn order(reference: &str) -> OrderSpec {
    OrderSpec {
        customer: CustomerSpec { firstname: "Ann".into(), lastname: "Smit".into(), email: "ann@example.com".into() },
        address: AddressSpec {
            company: "Smit BV".into(),
            address1: "Kerkstraat 2".into(),
            address2: String::new(),
            postcode: "3511 AA".into(),
            city: "Utrecht".into(),
            country: "NL".into(),
            phone: "030-1234567".into(),
        },
        invoice_address: None,
        lines: vec![LineSpec { reference: reference.into(), quantity: 2, price: Some("24.20".into()) }],
        state: None,
        carrier: None,
        reference: Some("ITQRFWVHT".into()),
    }
}

#[tokio::test]
async fn reads_orders_and_empty_lists() {
    let (sim, client) = shop().await;
    let none = client.orders_updated("2000-01-01 00:00:00", "2100-01-01 00:00:00").await.unwrap();
    assert!(none.is_empty(), "[] is an empty list");
    sim.add_product(&product("TSH-1"));
    let id = sim.place_order(&order("TSH-1")).unwrap();
    let o = client.order(id).await.unwrap();
    assert_eq!((o.reference.as_str(), o.current_state, o.rows.len()), ("ITQRFWVHT", 2, 1));
    let row = &o.rows[0];
    assert_eq!((row.reference.as_str(), row.quantity, row.unit_price_tax_incl.as_str()), ("TSH-1", 2, "24.200000"));
    let a = client.address(o.id_address_delivery).await.unwrap();
    assert_eq!((a.company.as_str(), client.country_iso(a.id_country).await.unwrap().as_str()), ("Smit BV", "NL"));
    let changed = client.orders_updated("2000-01-01 00:00:00", "2100-01-01 00:00:00").await.unwrap();
    assert_eq!(changed.len(), 1);
    let carriers = client.carriers().await.unwrap();
    assert!(carriers.iter().any(|c| c.name == "PostNL" && c.deleted));
}

#[tokio::test]
async fn whole_object_put_keeps_every_other_field() {
    let (sim, client) = shop().await;
    sim.add_product(&product("A"));
    let id = sim.place_order(&order("A")).unwrap();
    let mut rows = client.order_carriers(id).await.unwrap();
    let row = rows.first_mut().unwrap();
    row.set("tracking_number", "3SKADE0001");
    let row_id: u64 = row.get("id").unwrap().parse().unwrap();
    client.put_object("order_carriers", row_id, row, &[]).await.unwrap();
    assert_eq!(sim.field("order_carriers", row_id, "tracking_number").as_deref(), Some("3SKADE0001"));
    assert_eq!(sim.field("order_carriers", row_id, "weight").as_deref(), Some("1.250000"), "nothing wiped");
    assert_eq!(sim.field("order_carriers", row_id, "shipping_cost_tax_incl").as_deref(), Some("6.950000"));
}

#[tokio::test]
async fn private_notes_and_history() {
    let (sim, client) = shop().await;
    sim.add_product(&product("A"));
    let id = sim.place_order(&order("A")).unwrap();
    let o = client.order(id).await.unwrap();
    let (thread, msgs) = client.order_messages(id).await.unwrap();
    assert!(thread.is_none() && msgs.is_empty());
    client.add_private_note(&o, None, "Picqer order 20260001 & <more>").await.unwrap();
    let (thread, msgs) = client.order_messages(id).await.unwrap();
    assert!(thread.is_some());
    assert_eq!((msgs[0].message.as_str(), msgs[0].private), ("Picqer order 20260001 & <more>", true));
    client.add_order_history(id, 4, true).await.unwrap();
    assert_eq!(client.order(id).await.unwrap().current_state, 4);
}

#[tokio::test]
async fn stock_rows_and_references() {
    let (sim, client) = shop().await;
    let combos = vec![
        ComboSpec { reference: "S-RED".into(), quantity: 2, price: None },
        ComboSpec { reference: "S-BLUE".into(), quantity: 3, price: None },
    ];
    sim.add_product(&ProductSpec { combinations: combos, ..product("S") });
    let found = client.find_by_reference("S-RED").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].id_product, found[0].id_product_attribute), (1, 1));
    assert!(client.find_by_reference("s-red").await.unwrap().is_empty(), "references match case-sensitively");
    assert_eq!(client.stock_rows_of(1).await.unwrap().len(), 3);
    assert_eq!(client.sellables().await.unwrap().len(), 3);
}

#[tokio::test]
async fn errors_are_classified() {
    let (sim, client) = shop().await;
    let missing = client.order(99).await.unwrap_err();
    assert!(missing.is_not_found() && missing.class() == ErrorClass::Permanent, "{missing}");
    let wrong = PrestaClient::new(PrestaConfig::new(&sim.root_url(), &"W".repeat(32))).unwrap();
    let denied = wrong.ping().await.unwrap_err();
    assert!(denied.is_access_problem() && denied.class() == ErrorClass::Permanent, "{denied}");
    assert!(matches!(PrestaClient::new(PrestaConfig::new(&sim.root_url(), "short")), Err(PrestaError::Config(_))));
    // Without retries, so each fault is the answer itself (the retries are in `transport`).
    let mut cfg = PrestaConfig::new(&sim.root_url(), sim.ws_key());
    (cfg.max_transient_retries, cfg.max_rate_limited_retries) = (0, 0);
    let client = PrestaClient::new(cfg).unwrap();
    let faults = format!("{}/_sim/faults", sim.root_url());
    let http = reqwest::Client::new();
    http.post(&faults).json(&serde_json::json!({"path": "/api/orders", "status": 503})).send().await.unwrap();
    assert_eq!(client.ping().await.unwrap_err().class(), ErrorClass::Transient);
    http.post(&faults).json(&serde_json::json!({"path": "/api/orders", "status": 429})).send().await.unwrap();
    assert_eq!(client.ping().await.unwrap_err().class(), ErrorClass::RateLimited);
    let drop = serde_json::json!({"path": "/api/order_histories", "drop_after_commit": true});
    http.post(&faults).json(&drop).send().await.unwrap();
    sim.add_product(&product("A"));
    let id = sim.place_order(&order("A")).unwrap();
    let dropped = client.add_order_history(id, 3, false).await.unwrap_err();
    assert!(matches!(dropped, PrestaError::Transport { maybe_applied: true, .. }), "{dropped}");
    assert_eq!(dropped.class(), ErrorClass::Transient);
    assert_eq!(sim.field("orders", id, "current_state").as_deref(), Some("3"));
}
