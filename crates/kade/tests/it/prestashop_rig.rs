//! The PrestaShop scenario rig: a Picqer simulator, one or more PrestaShop simulators with their
//! notification module pointed at Kade, and a hub (workers off: tests drive the queue).

use std::time::Duration;

use kade_engine::picqer::PicqerSettings;
use kade_picqer::types::{Order, ProductFilter};
use kade_picqer::{ApiKey, ClientConfig, PicqerClient};
use kade_prestashop::connector::{PrestaConnector, PrestaShop, ShopSettings};
use kade_server::{Hub, HubOptions};
use kade_sim::picqer::RunningSim;
use kade_sim::prestashop::{
    AddressSpec, CustomerSpec, LineSpec, NotifyConfig, NotifyMode, OrderSpec, PrestaSimConfig, ProductSpec,
    RunningPrestaSim,
};

use crate::support::{client, hub_options, sim};

pub const SECRET: &str = "shop-module-shared-secret";

pub const EVENTS: [&str; 5] = [
    "orders.status_changed",
    "orders.completed",
    "picklists.shipments.created",
    "products.free_stock_changed",
    "products.changed",
];

pub struct Rig {
    pub picqer: RunningSim,
    pub hub: Hub,
    /// The PrestaShop connector registered with the hub (its shops, by name).
    pub presta: std::sync::Arc<PrestaConnector>,
    pub shops: Vec<(RunningPrestaSim, std::sync::Arc<PrestaShop>)>,
}

pub async fn shop_sim(first_order_id: u64) -> RunningPrestaSim {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cfg = PrestaSimConfig { first_order_id, ..PrestaSimConfig::default() };
    kade_sim::prestashop::start(cfg, "127.0.0.1:0".parse().unwrap()).await.expect("shop simulator starts")
}

pub fn shop_settings(hub_shop: &str, sim: &RunningPrestaSim) -> ShopSettings {
    let (name, key) = (hub_shop.parse().unwrap(), sim.ws_key().parse().unwrap());
    let mut s = ShopSettings::new(name, "main", &sim.root_url(), key, SECRET.into());
    s.poll_every = Duration::ZERO;
    s
}

impl Rig {
    /// A Picqer account with `products` products and a hub on `db`, no shop yet.
    pub async fn new(db: &str, products: usize) -> Rig {
        Rig::with_events(db, products, &EVENTS).await
    }

    /// [`Rig::new`] with the Picqer connection subscribed to `events` only.
    pub async fn with_events(db: &str, products: usize, events: &[&str]) -> Rig {
        let picqer = sim(products).await;
        let mut client = ClientConfig::with_base_url(picqer.base_url(), ApiKey::new(picqer.api_key()));
        client.retry_base = Duration::from_millis(20);
        client.retry_cap = Duration::from_millis(100);
        let settings = PicqerSettings {
            name: "main".into(),
            client,
            webhook_url: String::new(),
            events: events.iter().map(|e| e.to_string()).collect(),
        };
        let presta = PrestaConnector::new(Vec::new());
        let opts = HubOptions { connectors: vec![presta.clone()], ..hub_options(db, vec![settings]) };
        let hub = Hub::start(opts).await.expect("hub starts");
        Rig { picqer, hub, presta, shops: Vec::new() }
    }

    /// Adds a shop (its module notifying Kade); returns its index.
    pub async fn add_shop(&mut self, sim: RunningPrestaSim, settings: ShopSettings) -> usize {
        let url = format!("{}/webhooks/prestashop/{}", self.hub.url(), settings.name);
        sim.configure_notify(Some(NotifyConfig { url, secret: SECRET.into(), mode: NotifyMode::Normal }));
        let shop = self.presta.add_shop(&self.hub.engine, settings).await.expect("shop connects");
        self.shops.push((sim, shop));
        self.shops.len() - 1
    }

    pub fn shop(&self, i: usize) -> &RunningPrestaSim {
        &self.shops[i].0
    }

    pub fn api(&self) -> PicqerClient {
        client(&self.picqer)
    }

    /// Until quiet: shop notifications delivered, Picqer hooks delivered, queue drained — again,
    /// as long as a round did something (each side's effects notify the other).
    pub async fn settle(&self) {
        for _ in 0..30 {
            for (sim, _) in &self.shops {
                for _ in 0..300 {
                    if sim.notify_in_flight() == 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            self.picqer.hooks().settle().await;
            tokio::time::sleep(Duration::from_millis(30)).await;
            let ran = self.hub.engine.drain().await.unwrap();
            if ran == 0 {
                return;
            }
        }
        panic!("the rig did not settle");
    }

    /// Picqer productcodes of the seeded catalogue (first page).
    pub async fn productcodes(&self, n: usize) -> Vec<String> {
        let page = self.api().products(&ProductFilter::default()).next_page().await.unwrap().unwrap();
        page.into_iter().take(n).map(|p| p.productcode).collect()
    }

    pub async fn orders_with_reference(&self, reference: &str) -> Vec<Order> {
        self.api().orders_by_reference(reference).await.unwrap()
    }

    pub async fn audit_actions(&self, entity: &str) -> Vec<String> {
        let entries = self.hub.engine.store().audit_for(entity, 500).await.unwrap();
        entries.into_iter().map(|e| e.action).collect()
    }
}

pub fn product(reference: &str, quantity: i64) -> ProductSpec {
    ProductSpec {
        reference: reference.into(),
        name: format!("Shop product {reference}"),
        price: "24.200000".into(),
        quantity,
        combinations: vec![],
        tax_rate: None,
        image: None,
    }
}

pub fn order(lines: &[(&str, u32)], reference: &str) -> OrderSpec {
    OrderSpec {
        customer: CustomerSpec {
            firstname: "Jan".into(),
            lastname: "de Vries".into(),
            email: "jan@example.com".into(),
        },
        address: AddressSpec {
            company: "De Vries BV".into(),
            address1: "Dorpsstraat 12".into(),
            address2: "bis".into(),
            postcode: "1234 AB".into(),
            city: "Utrecht".into(),
            country: "NL".into(),
            phone: "0612345678".into(),
        },
        invoice_address: Some(AddressSpec {
            company: String::new(),
            address1: "Postbus 7".into(),
            address2: String::new(),
            postcode: "3500 AA".into(),
            city: "Utrecht".into(),
            country: "NL".into(),
            phone: String::new(),
        }),
        lines: lines.iter().map(|(r, q)| LineSpec { reference: (*r).into(), quantity: *q, price: None }).collect(),
        state: None,
        carrier: None,
        reference: Some(reference.into()),
    }
}

/// Adds a fault rule to a shop simulator (`POST /_sim/faults`).
pub async fn shop_fault(sim: &RunningPrestaSim, rule: serde_json::Value) {
    let resp = reqwest::Client::new().post(format!("{}/_sim/faults", sim.root_url())).json(&rule).send().await.unwrap();
    assert!(resp.status().is_success(), "fault rule refused: {}", resp.status());
}
