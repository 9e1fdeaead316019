//! `kade bench picqer`: the Picqer client against the Picqer simulator.
//!
//! Two figures, each a ratio against a floor measured or derived in the same run:
//! - **Throughput, limit lifted**: mirroring N products through the typed client, against a bare
//!   HTTP loop that fetches the same pages and only reads the bytes. The ratio is the client's
//!   own cost (parsing, budget bookkeeping) on top of the transport.
//! - **Budget adherence**: mirroring under a rate limit with a small burst. The floor is the
//!   least time the limit allows, `(calls - burst) / rate`; the ratio says how close to the budget
//!   the client runs, and the 429 count says whether it overstepped.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use kade_picqer::types::{Product, ProductFilter};
use kade_picqer::{ApiKey, ClientConfig, PAGE_SIZE, PicqerClient};
use kade_sim::picqer::{PicqerSimConfig, RunningSim, start};

use crate::cli::BenchPicqerArgs;

/// List calls needed to read `n` items when the end is detected by a short page: one per full
/// page plus the final short (possibly empty) page.
pub fn expected_list_calls(n: usize) -> u64 {
    (n / PAGE_SIZE) as u64 + 1
}

async fn sim(products: usize, rate: u32, burst: Option<u32>) -> anyhow::Result<RunningSim> {
    let cfg =
        PicqerSimConfig { products, rate_limit_per_minute: rate, rate_burst: burst, ..PicqerSimConfig::default() };
    start(cfg, "127.0.0.1:0".parse()?).await.context("starting the Picqer simulator")
}

/// A client for `sim`. With `limit_lifted`, the client's assumed budget is lifted as well: a
/// server without a limit sends no rate-limit headers, so the client would otherwise keep its
/// conservative default of Picqer's 500/minute and the run would measure that, not the client.
fn client(sim: &RunningSim, limit_lifted: bool) -> anyhow::Result<PicqerClient> {
    let mut cfg = ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key()));
    if limit_lifted {
        cfg.initial_rate_limit = u32::MAX;
    }
    Ok(PicqerClient::new(cfg)?)
}

async fn mirror(client: &PicqerClient) -> anyhow::Result<Vec<Product>> {
    Ok(client.products(&ProductFilter::default()).collect_all().await?)
}

/// The floor: the same pages over plain HTTP, bytes read but not parsed.
async fn raw_fetch(sim: &RunningSim) -> anyhow::Result<(usize, Duration)> {
    let http = reqwest::Client::new();
    let t = Instant::now();
    let mut offset = 0usize;
    loop {
        let body = http
            .get(format!("{}/products", sim.base_url()))
            .basic_auth(sim.api_key(), Some(""))
            .query(&[("offset", offset.to_string())])
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        // Count items without parsing: each product carries exactly one `"idproduct":` key
        // (stock entries and other nested objects do not).
        let items = body.windows(12).filter(|w| w == b"\"idproduct\":").count();
        offset += items;
        if items < PAGE_SIZE {
            break;
        }
    }
    Ok((offset, t.elapsed()))
}

pub async fn picqer(args: BenchPicqerArgs) -> anyhow::Result<()> {
    println!("kade bench picqer\n");

    println!("Throughput, rate limit lifted, {} products (best of {}):", args.products, args.runs);
    let s = sim(args.products, 0, None).await?;
    let (mut best_raw, mut best_client) = (Duration::MAX, Duration::MAX);
    let mut calls = 0;
    for _ in 0..args.runs.max(1) {
        let (n, raw) = raw_fetch(&s).await?;
        anyhow::ensure!(n == args.products, "raw fetch saw {n} products, expected {}", args.products);
        best_raw = best_raw.min(raw);
        let c = client(&s, true)?;
        let t = Instant::now();
        let products = mirror(&c).await?;
        best_client = best_client.min(t.elapsed());
        anyhow::ensure!(products.len() == args.products, "client mirrored {} products", products.len());
        calls = c.stats().requests;
    }
    s.shutdown().await;
    let per_sec = |d: Duration| args.products as f64 / d.as_secs_f64();
    println!(
        "  floor (plain HTTP, bytes only): {:>10.0} products/s  ({:.3}s)",
        per_sec(best_raw),
        best_raw.as_secs_f64()
    );
    println!(
        "  kade-picqer typed mirror:       {:>10.0} products/s  ({:.3}s)",
        per_sec(best_client),
        best_client.as_secs_f64()
    );
    println!("  ratio client/floor time:        {:>10.2}x", best_client.as_secs_f64() / best_raw.as_secs_f64());
    println!(
        "  calls used:                     {:>10}  (ceil(N/100) = {}, end-of-list probe included: {})",
        calls,
        args.products.div_ceil(PAGE_SIZE),
        expected_list_calls(args.products)
    );

    println!(
        "\nBudget, {} products at {}/minute with a burst of {}:",
        args.budget_products, args.budget_rate, args.budget_burst
    );
    let s = sim(args.budget_products, args.budget_rate, Some(args.budget_burst)).await?;
    let c = client(&s, false)?;
    let t = Instant::now();
    let products = mirror(&c).await?;
    let wall = t.elapsed();
    s.shutdown().await;
    anyhow::ensure!(products.len() == args.budget_products, "mirrored {} products", products.len());
    let stats = c.stats();
    let rate_per_sec = f64::from(args.budget_rate) / 60.0;
    let floor = (stats.requests.saturating_sub(u64::from(args.budget_burst))) as f64 / rate_per_sec;
    println!(
        "  list calls:                     {:>10}  (expected {})",
        stats.requests,
        expected_list_calls(args.budget_products)
    );
    println!("  429 answers:                    {:>10}", stats.rate_limited);
    println!("  budget floor (calls-burst)/rate:{floor:>10.3}s");
    println!("  wall time:                      {:>10.3}s", wall.as_secs_f64());
    println!("  ratio wall/floor:               {:>10.3}x  (target <= 1.10)", wall.as_secs_f64() / floor);
    Ok(())
}
