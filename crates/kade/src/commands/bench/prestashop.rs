//! `kade bench prestashop-stock`: a full PrestaShop stock sync against both simulators.
//!
//! The shop has one product per Picqer product (reference = productcode); a chosen share of them
//! holds a quantity that differs from Picqer's sellable figure. The run prints the Picqer calls
//! (goal ⌈N/100⌉ list pages, plus the final short page), the shop writes (goal: exactly the
//! differing ones) and the wall time next to the floor the Picqer rate limit allows, measured in
//! the same run: `(calls - burst) / rate`.

use std::time::Instant;

use anyhow::Context as _;
use kade_engine::picqer::{PicqerConnection, PicqerSettings};
use kade_picqer::types::ProductFilter;
use kade_picqer::{ApiKey, ClientConfig, PAGE_SIZE, PicqerClient};
use kade_prestashop::connector::{PrestaShop, ShopSettings};
use kade_sim::picqer::PicqerSimConfig;
use kade_sim::prestashop::{PrestaSimConfig, ProductSpec};
use kade_store::{SecretBox, Store};

use crate::cli::BenchPrestashopArgs;

pub async fn prestashop_stock(args: BenchPrestashopArgs) -> anyhow::Result<()> {
    let n = args.products;
    println!("kade bench prestashop-stock: {n} products, {}% differing\n", args.differing_percent);
    let picqer_cfg = PicqerSimConfig { products: n, rate_limit_per_minute: 0, ..PicqerSimConfig::default() };
    let picqer =
        kade_sim::picqer::start(picqer_cfg, "127.0.0.1:0".parse()?).await.context("starting the Picqer simulator")?;

    // The shop's catalogue mirrors Picqer's, with `differing_percent` of the quantities off by 7.
    let mut seed_cfg = ClientConfig::with_base_url(picqer.base_url(), ApiKey::new(picqer.api_key()));
    seed_cfg.initial_rate_limit = u32::MAX;
    let products = PicqerClient::new(seed_cfg)?.products(&ProductFilter::default()).collect_all().await?;
    let shop = kade_sim::prestashop::start(PrestaSimConfig::default(), "127.0.0.1:0".parse()?).await?;
    let step = if args.differing_percent == 0 { usize::MAX } else { (100 / args.differing_percent.min(100)).max(1) };
    let mut differing = 0;
    for (i, p) in products.iter().enumerate() {
        let sellable: i64 = p.stock.iter().map(|s| s.freestock).sum::<i64>().max(0);
        let off = i % step == 0;
        differing += usize::from(off);
        let quantity = if off { sellable + 7 } else { sellable };
        let name = p.name.clone();
        shop.add_product(&ProductSpec {
            reference: p.productcode.clone(),
            name,
            price: "10".into(),
            quantity,
            combinations: vec![],
            tax_rate: None,
            image: None,
        });
    }

    // Kade's side: a store, the Picqer connection and the shop, as `kade serve` builds them.
    let dir = std::env::temp_dir().join(format!("kade-bench-ps-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = Store::open(&format!("sqlite:{}", dir.join("kade.db").display())).await?;
    let secrets = SecretBox::from_key_material(b"bench master key material, 32+ bytes")?;
    let client = ClientConfig::with_base_url(picqer.base_url(), ApiKey::new(picqer.api_key()));
    let settings =
        PicqerSettings { name: "main".into(), client, webhook_url: "http://127.0.0.1:9/".into(), events: vec![] };
    let conn = PicqerConnection::connect(store.clone(), secrets.clone(), settings).await?;
    let shop_settings =
        ShopSettings::new("bench".parse()?, "main", &shop.root_url(), shop.ws_key().parse()?, "bench-secret".into());
    let presta = PrestaShop::connect(store, &secrets, shop_settings).await?;

    // Now the Picqer limit applies, with buckets full; journals start empty.
    let http = reqwest::Client::new();
    let limit = serde_json::json!({"per_minute": args.picqer_rate, "burst": args.picqer_burst});
    http.put(format!("{}/_sim/rate-limit", picqer.root_url())).json(&limit).send().await?.error_for_status()?;
    http.delete(format!("{}/_sim/journal", picqer.root_url())).send().await?;
    shop.clear_journal();

    let t = Instant::now();
    let report = presta.stock_full(&conn).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let wall = t.elapsed();
    let journal = picqer.journal();
    let picqer_calls = journal.iter().filter(|e| e.path.starts_with("/api/v1/")).count();
    let rate_limited = journal.iter().filter(|e| e.status == 429).count();
    let shop_journal = shop.journal();
    let shop_reads = shop_journal.iter().filter(|e| e.method == "GET").count();
    let shop_writes = shop_journal.iter().filter(|e| e.method == "PUT").count();
    let floor = picqer_calls.saturating_sub(args.picqer_burst as usize) as f64 / (f64::from(args.picqer_rate) / 60.0);
    println!(
        "  Picqer calls:        {picqer_calls:>8}  (goal ceil(N/100) = {}, + the final short page)",
        n.div_ceil(PAGE_SIZE)
    );
    println!("  Picqer 429 answers:  {rate_limited:>8}");
    println!("  shop reads:          {shop_reads:>8}  (products, combinations, stock rows in pages of 1000)");
    println!("  shop writes:         {shop_writes:>8}  (goal: the {differing} differing products)");
    println!("  matched / unchanged: {:>8} / {}", report.matched, report.unchanged);
    println!("  Picqer floor at {}/min, burst {}: {floor:.3}s", args.picqer_rate, args.picqer_burst);
    let ratio =
        if floor > 0.0 { format!("{:.2}x", wall.as_secs_f64() / floor) } else { "n/a: within the burst".into() };
    println!("  wall time:           {:>8.3}s  (ratio wall/floor {ratio})", wall.as_secs_f64());
    anyhow::ensure!(shop_writes == differing, "wrote {shop_writes} rows, {differing} differed");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
