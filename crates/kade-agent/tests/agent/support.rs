//! Fixtures: a Picqer simulator, a store whose mirror is filled from it, an agent on both.

#![allow(dead_code)]

use std::time::Duration;

use kade_agent::{Agent, AgentConfig};
use kade_picqer::types::{NewOrder, NewOrderLine, ProductFilter};
use kade_picqer::{ApiKey, ClientConfig, PicqerClient};
use kade_sim::picqer::{PicqerSimConfig, RunningSim, start};
use kade_store::{MirrorProduct, Store};
use serde_json::{Value, json};

pub const CONNECTION: &str = "main";

pub async fn sim(products: usize) -> RunningSim {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cfg = PicqerSimConfig { products, rate_limit_per_minute: 0, ..PicqerSimConfig::default() };
    start(cfg, "127.0.0.1:0".parse().unwrap()).await.expect("simulator starts")
}

pub fn client(sim: &RunningSim) -> PicqerClient {
    let mut cfg = ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key())).contact("kade-agent tests");
    cfg.retry_base = Duration::from_millis(10);
    cfg.retry_cap = Duration::from_millis(50);
    cfg.max_transient_retries = 1;
    PicqerClient::new(cfg).expect("client builds")
}

/// A fresh SQLite store in the temp directory.
pub async fn store(tag: &str) -> Store {
    let dir = std::env::temp_dir().join("kade-agent-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{tag}_{}_{:08x}.db", std::process::id(), fastrand_u32()));
    Store::open(&format!("sqlite:{}", path.display())).await.expect("store opens")
}

fn fastrand_u32() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
}

/// Copies the simulator's catalogue and warehouses into the store's mirror, the way Kade's
/// catalogue sync would.
pub async fn mirror(client: &PicqerClient, store: &Store) {
    let products = client.products(&ProductFilter::default()).collect_all().await.unwrap();
    let rows: Vec<MirrorProduct> = products.iter().map(|p| kade_engine::picqer::to_mirror(p, 1)).collect();
    store.upsert_products(CONNECTION, &rows).await.unwrap();
    for w in client.warehouses().await.unwrap() {
        store
            .put_reference(CONNECTION, "warehouse", w.idwarehouse.0 as i64, serde_json::to_value(&w).unwrap())
            .await
            .unwrap();
    }
}

pub fn agent(client: PicqerClient, store: Store, cfg: AgentConfig) -> Agent {
    Agent::new(cfg, client, store, CONNECTION).expect("agent builds")
}

pub async fn control(sim: &RunningSim, path: &str, body: Value) -> Value {
    let resp = reqwest::Client::new().post(format!("{}/_sim{path}", sim.root_url())).json(&body).send().await.unwrap();
    let status = resp.status();
    let v: Value = resp.json().await.unwrap();
    assert!(status.is_success(), "control {path}: {status} {v}");
    v
}

/// Sets a product's stock: `main` in the main warehouse, 0 elsewhere.
pub async fn set_stock(sim: &RunningSim, idproduct: u64, main: i64) {
    for (w, amount) in [(101, main), (102, 0), (103, 0)] {
        control(sim, &format!("/products/{idproduct}/stock"), json!({"idwarehouse": w, "amount": amount})).await;
    }
}

/// An order for Sanne (email, postcode 6811 AB, phone 06-12345678) with the given reference.
pub async fn order(client: &PicqerClient, reference: &str, lines: &[(&str, i64)]) -> kade_picqer::types::Order {
    let o = NewOrder {
        reference: Some(reference.into()),
        emailaddress: Some("sanne.devries@example.com".into()),
        telephone: Some("06-12345678".into()),
        deliveryname: Some("Sanne de Vries".into()),
        deliveryaddress: Some("Dorpsstraat 1".into()),
        deliveryzipcode: Some("6811 AB".into()),
        deliverycity: Some("Arnhem".into()),
        deliverycountry: Some("NL".into()),
        invoicename: Some("Sanne de Vries".into()),
        invoicecountry: Some("NL".into()),
        partialdelivery: Some(true),
        products: lines.iter().map(|(c, n)| NewOrderLine::by_code(*c, *n)).collect(),
        ..Default::default()
    };
    client.create_order(&o).await.expect("order created")
}

/// Creates a product (21 % VAT) with `main` units in the main warehouse; returns its id.
pub async fn product(sim: &RunningSim, client: &PicqerClient, code: &str, name: &str, main: i64) -> u64 {
    let p = kade_picqer::types::NewProduct {
        productcode: code.into(),
        name: name.into(),
        price: kade_core::Money::from_cents(4995),
        idvatgroup: kade_core::ids::VatGroupId(201),
        ..Default::default()
    };
    let created = client.create_product(&p).await.expect("product created");
    set_stock(sim, created.idproduct.0, main).await;
    created.idproduct.0
}
