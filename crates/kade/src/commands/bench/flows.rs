//! `kade bench flows`: partner calls per flow against the floor, in one run (principle 5: read
//! what Kade already knows, never one call per item where it can be avoided).
//!
//! Kade runs as `kade serve` would (the hub, the PrestaShop connector, the Picqer simulator and
//! two PrestaShop simulators, all on loopback); each flow is started the way the partner starts it
//! (a stock change in "Picqer", an order placed in the shop), the hub settles, and the partners'
//! own request journals are counted:
//! - a stock change with one shop and with two: floor 0 Picqer calls and 1 shop write per shop
//!   whose value differs;
//! - a shop order of 1, 3 and 20 lines: floor the same Picqer calls whatever the line count
//!   (look-up by reference, create, process).

use std::time::Duration;

use anyhow::Context as _;
use kade_engine::picqer::PicqerSettings;
use kade_picqer::types::ProductFilter;
use kade_picqer::{ApiKey, ClientConfig, PicqerClient};
use kade_prestashop::connector::{PrestaConnector, ShopSettings};
use kade_server::{Hub, HubOptions};
use kade_sim::picqer::{PicqerSimConfig, RunningSim};
use kade_sim::prestashop::{
    AddressSpec, CustomerSpec, LineSpec, NotifyConfig, NotifyMode, OrderSpec, PrestaSimConfig, ProductSpec,
    RunningPrestaSim,
};

const EVENTS: [&str; 3] = ["products.free_stock_changed", "orders.status_changed", "picklists.shipments.created"];
const SECRET: &str = "bench-notify-secret-0123456789";

/// One measured flow.
struct Row {
    flow: String,
    picqer: usize,
    picqer_floor: usize,
    shop_reads: usize,
    shop_writes: usize,
    /// Shop writes the flow must make at least and at most; `None` where the issue sets none
    /// (an order's notes back to the shop).
    writes_floor: Option<usize>,
}

struct Bench {
    picqer: RunningSim,
    shops: Vec<RunningPrestaSim>,
    presta: std::sync::Arc<PrestaConnector>,
    hub: Hub,
    codes: Vec<(u64, String)>,
    dir: std::path::PathBuf,
}

pub async fn flows() -> anyhow::Result<()> {
    println!("kade bench flows: partner calls per flow, each against its floor\n");
    let mut b = Bench::start().await?;
    let mut rows = vec![b.stock_change("stock change, 1 shop", 0, 1).await?];
    b.add_shop().await?;
    rows.push(b.stock_change("stock change, 2 shops", 1, 2).await?);
    for (i, lines) in [1usize, 3, 20].into_iter().enumerate() {
        rows.push(b.order(&format!("shop order, {lines} line(s)"), lines, i).await?);
    }
    println!(
        "{:<26} {:>7} {:>7} {:>6} {:>11} {:>7} {:>6}",
        "flow", "picqer", "floor", "ratio", "shop reads", "writes", "floor"
    );
    for r in &rows {
        let ratio = if r.picqer_floor == 0 {
            if r.picqer == 0 { "1.00x".to_string() } else { "over".to_string() }
        } else {
            format!("{:.2}x", r.picqer as f64 / r.picqer_floor as f64)
        };
        println!(
            "{:<26} {:>7} {:>7} {:>6} {:>11} {:>7} {:>6}",
            r.flow,
            r.picqer,
            r.picqer_floor,
            ratio,
            r.shop_reads,
            r.shop_writes,
            r.writes_floor.map_or("-".to_string(), |f| f.to_string())
        );
    }
    let orders: Vec<usize> = rows.iter().filter(|r| r.flow.starts_with("shop order")).map(|r| r.picqer).collect();
    let same = orders.windows(2).all(|w| w[0] == w[1]);
    println!("\nPicqer calls per order are {} whatever the line count", if same { "the same" } else { "NOT the same" });
    b.hub.stop().await;
    let _ = std::fs::remove_dir_all(&b.dir);
    Ok(())
}

impl Bench {
    async fn start() -> anyhow::Result<Bench> {
        let cfg = PicqerSimConfig { products: 40, rate_limit_per_minute: 0, ..PicqerSimConfig::default() };
        let picqer =
            kade_sim::picqer::start(cfg, "127.0.0.1:0".parse()?).await.context("starting the Picqer simulator")?;
        let api = PicqerClient::new(ClientConfig::with_base_url(picqer.base_url(), ApiKey::new(picqer.api_key())))?;
        let products = api.products(&ProductFilter::default()).collect_all().await?;
        let codes: Vec<(u64, String)> = products.iter().map(|p| (p.idproduct.0, p.productcode.clone())).collect();
        let dir = std::env::temp_dir().join(format!("kade-bench-flows-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let client = ClientConfig::with_base_url(picqer.base_url(), ApiKey::new(picqer.api_key()));
        let settings = PicqerSettings {
            name: "main".into(),
            client,
            webhook_url: String::new(),
            events: EVENTS.iter().map(|e| e.to_string()).collect(),
        };
        let presta = PrestaConnector::new(Vec::new());
        let db = format!("sqlite:{}", dir.join("kade.db").display());
        let key = format!("kade bench master key {:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let opts = HubOptions {
            connectors: vec![presta.clone()],
            ..HubOptions::local(&db, &format!("bench-{:016x}", fastrand::u64(..)), key.as_bytes(), vec![settings])
        };
        let hub = Hub::start(opts).await.context("starting Kade")?;
        let mut b = Bench { picqer, shops: Vec::new(), presta, hub, codes, dir };
        b.add_shop().await?;
        b.settle().await?;
        Ok(b)
    }

    /// A shop holding every Picqer product at its sellable figure (nothing differs yet).
    async fn add_shop(&mut self) -> anyhow::Result<()> {
        let sim = kade_sim::prestashop::start(PrestaSimConfig::default(), "127.0.0.1:0".parse()?).await?;
        let name = format!("shop{}", self.shops.len() + 1);
        for (id, code) in &self.codes {
            let mirrored = self.hub.engine.store().product("main", *id as i64).await?;
            let sellable = mirrored.map_or(0, |p| p.stock.iter().map(|s| s.freestock).sum::<i64>().max(0));
            sim.add_product(&ProductSpec {
                reference: code.clone(),
                name: format!("Shop {code}"),
                price: "10".into(),
                quantity: sellable,
                combinations: vec![],
                tax_rate: None,
                image: None,
            });
        }
        let url = format!("{}/webhooks/prestashop/{name}", self.hub.url());
        sim.configure_notify(Some(NotifyConfig { url, secret: SECRET.into(), mode: NotifyMode::Normal }));
        let mut settings =
            ShopSettings::new(name.parse()?, "main", &sim.root_url(), sim.ws_key().parse()?, SECRET.into());
        settings.poll_every = Duration::ZERO;
        settings.prefix = format!("S{}", self.shops.len() + 1).parse()?;
        self.presta.add_shop(&self.hub.engine, settings).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        self.shops.push(sim);
        Ok(())
    }

    /// Delivers everything in flight (shop notifications, Picqer webhooks) and runs the queue,
    /// until a round does nothing.
    async fn settle(&self) -> anyhow::Result<()> {
        for _ in 0..50 {
            for s in &self.shops {
                for _ in 0..300 {
                    if s.notify_in_flight() == 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            self.picqer.hooks().settle().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            if self.hub.engine.drain().await? == 0 {
                return Ok(());
            }
        }
        anyhow::bail!("the hub did not settle")
    }

    async fn clear_journals(&self) -> anyhow::Result<()> {
        reqwest::Client::new().delete(format!("{}/_sim/journal", self.picqer.root_url())).send().await?;
        for s in &self.shops {
            s.clear_journal();
        }
        Ok(())
    }

    fn picqer_calls(&self) -> usize {
        self.picqer.journal().iter().filter(|e| e.path.starts_with("/api/v1/")).count()
    }

    fn shop_counts(&self) -> (usize, usize) {
        let all: Vec<_> = self.shops.iter().flat_map(|s| s.journal()).collect();
        let reads = all.iter().filter(|e| e.method == "GET").count();
        (reads, all.len() - reads)
    }

    /// Warehouse staff count product `n` again: its free stock moves by 3.
    async fn stock_change(&self, flow: &str, n: usize, shops: usize) -> anyhow::Result<Row> {
        self.settle().await?;
        self.clear_journals().await?;
        let (id, _) = &self.codes[n];
        let url = format!("{}/_sim/products/{id}/stock", self.picqer.root_url());
        let body = serde_json::json!({"change": 3, "reason": "bench recount"});
        reqwest::Client::new().post(url).json(&body).send().await?.error_for_status()?;
        self.settle().await?;
        let (shop_reads, shop_writes) = self.shop_counts();
        let picqer = self.picqer_calls();
        Ok(Row { flow: flow.into(), picqer, picqer_floor: 0, shop_reads, shop_writes, writes_floor: Some(shops) })
    }

    /// A customer orders `lines` different products in the first shop.
    async fn order(&self, flow: &str, lines: usize, k: usize) -> anyhow::Result<Row> {
        self.settle().await?;
        self.clear_journals().await?;
        let start = 5 + k * 4;
        let spec = OrderSpec {
            customer: CustomerSpec {
                firstname: "Jan".into(),
                lastname: "de Vries".into(),
                email: "jan@example.com".into(),
            },
            address: AddressSpec {
                company: String::new(),
                address1: "Dorpsstraat 12".into(),
                address2: String::new(),
                postcode: "1234 AB".into(),
                city: "Utrecht".into(),
                country: "NL".into(),
                phone: String::new(),
            },
            invoice_address: None,
            lines: self.codes[start..start + lines]
                .iter()
                .map(|(_, code)| LineSpec { reference: code.clone(), quantity: 1, price: None })
                .collect(),
            state: Some(3),
            carrier: None,
            reference: Some(format!("BENCH{k:04}")),
        };
        let id_order = self.shops[0].place_order(&spec).map_err(|e| anyhow::anyhow!("placing the order: {e}"))?;
        self.settle().await?;
        // The order job's own calls, from its audit entry: what follows (the new order's status
        // and stock events coming back) is other flows' work.
        let entries = self.hub.engine.store().audit_for(&format!("shop1/order/{id_order}"), 50).await?;
        let pushed = entries
            .iter()
            .find(|e| e.action == "order: in Picqer")
            .ok_or_else(|| anyhow::anyhow!("order {id_order} did not reach Picqer"))?;
        let calls = pushed.detail["calls"].as_array().cloned().unwrap_or_default();
        let by = |system: &str| calls.iter().filter(|c| c["system"] == system).count();
        let shop_reads = calls.iter().filter(|c| c["system"] == "prestashop" && c["method"] == "GET").count();
        let shop_writes = by("prestashop") - shop_reads;
        Ok(Row {
            flow: flow.into(),
            picqer: by("picqer"),
            picqer_floor: 3,
            shop_reads,
            shop_writes,
            writes_floor: None,
        })
    }
}
