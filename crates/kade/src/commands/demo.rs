//! `kade demo`: Kade itself on embedded defaults. A seeded Picqer simulator stands in for a Picqer
//! account; Kade runs on SQLite, connects, installs its hooks, mirrors the catalogue, and then
//! warehouse activity (an order picked and shipped, a stock count) flows through signed webhooks,
//! the durable inbox and the workers into the mirror, narrated step by step.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kade_engine::EngineConfig;
use kade_engine::picqer::PicqerSettings;
use kade_picqer::types::{NewOrder, NewOrderLine, ProductFilter};
use kade_picqer::{ApiKey, ClientConfig, PicqerClient};
use kade_server::{Hub, HubOptions};
use kade_sim::picqer::{PicqerSimConfig, RunningSim, start};
use serde_json::json;

use crate::cli::DemoArgs;

const EVENTS: [&str; 5] = [
    "products.free_stock_changed",
    "products.changed",
    "orders.status_changed",
    "orders.completed",
    "picklists.shipments.created",
];

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    println!("Kade demo — a Picqer simulator stands in for your Picqer account; nothing leaves this machine.\n");
    let sim = start(PicqerSimConfig { products: args.products, ..PicqerSimConfig::default() }, args.listen)
        .await
        .context("starting the Picqer simulator")?;
    println!(
        "1. Picqer (simulated) is up at {} with {} products, 3 warehouses, 500 requests/minute.",
        sim.base_url(),
        args.products
    );

    let dir = std::env::temp_dir().join(format!("kade-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let database = args.database.clone().unwrap_or_else(|| format!("sqlite:{}", dir.join("kade.db").display()));
    let hub = start_hub(&sim, &database).await?;
    println!("2. Kade is up at {} on {database}.", hub.url());
    println!(
        "   It checked the API key, and subscribed to {} Picqer events (each hook has its own secret):",
        EVENTS.len()
    );
    for h in hub.engine.store().hooks("main").await? {
        println!("     hook {} → {} ({})", h.idhook, h.event, h.address);
    }

    let outcome = tokio::select! {
        r = walkthrough(&sim, &hub, args.products) => r,
        _ = tokio::signal::ctrl_c() => { println!("\nInterrupted."); Ok(()) }
    };
    if outcome.is_ok() && args.keep_running {
        println!("\nKade and the simulator keep running (Ctrl-C to stop):");
        println!("  curl -H 'Authorization: Bearer {DEMO_TOKEN}' {}/api/v1/connections", hub.url());
        println!(
            "  curl -X POST {}/_sim/products/{{id}}/stock -d '{{\"idwarehouse\":101,\"change\":5}}'",
            sim.root_url()
        );
        let _ = tokio::signal::ctrl_c().await;
    }
    println!("Stopping Kade (in-flight jobs finish first)…");
    hub.stop().await;
    sim.shutdown().await;
    if args.database.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("Done in {:.1}s.", started.elapsed().as_secs_f64());
    outcome
}

const DEMO_TOKEN: &str = "demo-admin-token-not-secret";

async fn start_hub(sim: &RunningSim, database: &str) -> anyhow::Result<Hub> {
    let client = ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key())).contact("kade demo");
    let picqer = PicqerSettings {
        name: "main".into(),
        client,
        webhook_url: String::new(),
        events: EVENTS.iter().map(|e| e.to_string()).collect(),
    };
    let opts = HubOptions {
        engine: EngineConfig { idle_poll: Duration::from_millis(50), ..EngineConfig::default() },
        background: true,
        ..HubOptions::local(database, DEMO_TOKEN, &random_key()?, vec![picqer])
    };
    Hub::start(opts).await.context("starting Kade")
}

async fn walkthrough(sim: &RunningSim, hub: &Hub, products: usize) -> anyhow::Result<()> {
    let store = hub.engine.store();
    print!("3. Mirroring the catalogue (pages of 100, within the rate budget): ");
    let t = Instant::now();
    let mut last = -1;
    loop {
        let n = store.count_products("main").await?;
        if n >= last + 200 || (last < 0 && n == 0) {
            print!("{n} ");
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
            last = n;
        }
        let done = store.sync_state("main", "catalogue_full").await?.is_some_and(|s| s.status == "done");
        if done {
            println!("→ {n} products in {:.1}s.", t.elapsed().as_secs_f64());
            break;
        }
        if t.elapsed() > Duration::from_secs(120) {
            bail!("the catalogue sync did not finish within two minutes");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if store.count_products("main").await? < products as i64 {
        bail!("the mirror holds fewer products than Picqer");
    }

    // Warehouse activity, as a webshop and warehouse staff would cause it.
    let picqer = PicqerClient::new(ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key())))?;
    let product = picqer
        .products(&ProductFilter::default())
        .collect_all()
        .await?
        .into_iter()
        .find(|p| p.free_stock(&[]) >= 3)
        .context("no product with free stock")?;
    let seen_events = store.count_events().await?;
    println!(
        "4. A webshop order arrives in Picqer for 2 x {} ({}), free stock {}.",
        product.name,
        product.productcode,
        product.free_stock(&[])
    );
    let order = picqer
        .create_order(&NewOrder {
            reference: Some("DEMO #1001".into()),
            emailaddress: Some("jan@example.nl".into()),
            deliveryname: Some("Jan Jansen".into()),
            deliverycountry: Some("NL".into()),
            invoicename: Some("Jan Jansen".into()),
            invoicecountry: Some("NL".into()),
            products: vec![NewOrderLine::by_id(product.idproduct, 2)],
            ..Default::default()
        })
        .await?;
    picqer.process_order(order.idorder).await?;
    let http = reqwest::Client::new();
    let root = sim.root_url();
    http.post(format!("{root}/_sim/orders/{}/pick", order.idorder))
        .json(&json!({}))
        .send()
        .await?
        .error_for_status()?;
    http.post(format!("{root}/_sim/orders/{}/ship", order.idorder))
        .json(&json!({}))
        .send()
        .await?
        .error_for_status()?;
    println!("   Warehouse staff picked it and shipped it. Meanwhile a stock count adds 25 in the main warehouse.");
    let wh = product.stock.first().map(|s| s.idwarehouse.0).unwrap_or(101);
    http.post(format!("{root}/_sim/products/{}/stock", product.idproduct))
        .json(&json!({"idwarehouse": wh, "change": 25}))
        .send()
        .await?
        .error_for_status()?;

    println!("5. What Picqer told Kade (signed webhooks, committed to the inbox before Kade answered 200):");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut shown = 0usize;
    loop {
        let events = store.events(Some("main"), 100).await?;
        let new: Vec<_> = events.iter().filter(|e| e.id > seen_events).collect();
        for e in new.iter().rev().skip(shown) {
            println!("   ← {:<30} about {}", e.event, e.entity_key.as_deref().unwrap_or("-"));
        }
        shown = new.len();
        let counts = store.queue_counts().await?;
        let pending = counts.get("queued").copied().unwrap_or(0) + counts.get("running").copied().unwrap_or(0);
        if shown >= 4 && pending == 0 {
            break;
        }
        if Instant::now() > deadline {
            bail!("the webhooks did not all arrive and settle within 10 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let entity = kade_core::dedupe::entity_key("main", "product", product.idproduct.0);
    let mirrored =
        store.product("main", product.idproduct.0 as i64).await?.context("product missing from the mirror")?;
    let free: i64 = mirrored.stock.iter().map(|s| s.freestock).sum();
    println!(
        "6. Kade applied the product to its mirror from the deliveries themselves (versioned by event time; \
         it asks Picqer only when two deliveries of one second disagree):"
    );
    println!(
        "   mirror now: {} free stock {} (was {}; -2 shipped, +25 counted).",
        mirrored.productcode,
        free,
        product.free_stock(&[])
    );
    println!("   Its timeline in Kade's audit log:");
    for a in store.audit_for(&entity, 10).await?.iter().rev() {
        print_entry(a);
    }
    let counts = store.queue_counts().await?;
    println!("7. Queue: {counts:?}. Every event is durable in the inbox and replayable; nothing was lost or doubled.");
    Ok(())
}

/// A random master key for the demo's throw-away database (32 bytes from the OS CSPRNG).
fn random_key() -> anyhow::Result<Vec<u8>> {
    use ring::rand::SecureRandom as _;
    let mut bytes = vec![0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| anyhow::anyhow!("the OS random source failed"))?;
    Ok(bytes)
}

/// One audit entry: its action and detail, then the partner calls it lists one per line (they
/// are what a newcomer should see: which request to Picqer each step cost).
fn print_entry(entry: &kade_store::AuditEntry) {
    let mut detail = entry.detail.clone();
    let calls = detail.as_object_mut().and_then(|d| {
        d.remove("calls_total");
        d.remove("calls_ms");
        d.remove("calls")
    });
    println!("     {}  {}", entry.action, detail);
    for c in calls.as_ref().and_then(|c| c.as_array()).into_iter().flatten() {
        let text = |k: &str| c[k].as_str().unwrap_or("?").to_string();
        let status = c["status"].as_u64().map_or_else(|| "no answer".to_string(), |s| s.to_string());
        println!("       {} {} {} → {status} in {} ms", text("system"), text("method"), text("path"), c["ms"]);
    }
}
