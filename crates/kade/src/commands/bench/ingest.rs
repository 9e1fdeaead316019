//! `kade bench ingest`: the webhook ingress under load.
//!
//! Starts a Picqer simulator and a real Kade (`Hub::start`, so the hooks, their secrets and the
//! HTTP ingress are the production ones), then fires N distinct, correctly signed
//! `products.free_stock_changed` deliveries at `POST /webhooks/picqer/main` from C concurrent
//! keep-alive connections. Reports webhooks/s and the acknowledgement latency (send → 200, which
//! Kade only answers once the event is committed), then checks that exactly N events reached the
//! inbox. With `--workers`, it also reports the drain time (last acknowledgement → no job queued
//! or running) and the Picqer calls the processing made (the simulator's request counter).
//!
//! Floors from the same run, same file system: raw SQLite inserts through the same driver and
//! settings as Kade's SQLite ingest writer (rusqlite, WAL, `synchronous=FULL`), one row per
//! transaction and in transactions the size the ingress's batcher actually reached, and Kade's
//! own `Store::ingest_many` without HTTP. The ratios say what HTTP, verification and the schema
//! cost on top of durably writing the rows.
//!
//! The load generator runs in this process and shares the cores with Kade: on a 2-core machine
//! the figure is a lower bound for Kade alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use kade_engine::EngineConfig;
use kade_engine::ingest::BatchStats;
use kade_engine::picqer::PicqerSettings;
use kade_picqer::webhook::WebhookSecret;
use kade_picqer::{ApiKey, ClientConfig};
use kade_server::{Hub, HubOptions};
use kade_sim::picqer::{PicqerSimConfig, RunningSim, start};
use serde_json::{Value, json};

use super::ingest_floors::{raw_sqlite, store_ingest};
use super::{cpu, load};
use crate::cli::BenchIngestArgs;

pub(super) const EVENT: &str = "products.free_stock_changed";
/// The goal from issue 3, for SQLite on 2 cores.
const GOAL_PER_SEC: f64 = 20_000.0;
const GOAL_P99: Duration = Duration::from_millis(25);
/// Issue 12: with workers on, the backlog is empty this soon after the last acknowledgement.
const GOAL_DRAIN: Duration = Duration::from_secs(2);
/// How long the drain is waited for before it is reported as not drained.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// One measured run of the ingress.
struct Run {
    wall: Duration,
    /// Acknowledgement latencies, sorted.
    latencies: Vec<Duration>,
    stats: BatchStats,
    stored: i64,
    /// CPU spent during the timed run, per thread name.
    cpu: Vec<(String, Duration)>,
    /// With workers on: last acknowledgement → no job queued or running (`None` if it did not
    /// drain within the limit).
    drain: Option<Duration>,
    /// Requests Kade made to the Picqer simulator from the first delivery until the backlog was
    /// empty (or the run ended, with workers off).
    picqer_calls: usize,
}

impl Run {
    fn per_sec(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }

    fn quantile(&self, q: f64) -> Duration {
        let i = ((self.latencies.len() as f64 * q) as usize).min(self.latencies.len().saturating_sub(1));
        self.latencies.get(i).copied().unwrap_or_default()
    }

    fn batch(&self) -> usize {
        (self.stats.mean().round() as usize).max(1)
    }
}

pub async fn ingest(args: BenchIngestArgs) -> anyhow::Result<()> {
    ensure!(args.webhooks > 0 && args.concurrency > 0 && args.products > 0, "all counts must be positive");
    let dir =
        args.dir.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("kade-bench-{}", std::process::id())));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("kade bench ingest\n");
    println!(
        "{} distinct signed {EVENT} webhooks over {} products, {} keep-alive HTTP/1.1 connections,",
        args.webhooks, args.products, args.concurrency
    );
    println!(
        "Kade's workers {}; load generator in the same process ({cores} cores shared); files in {}",
        if args.workers { "ON (processing competes with ingress)" } else { "OFF (ingress alone)" },
        dir.display()
    );

    let sqlite_url = format!("sqlite:{}", dir.join("hub.db").display());
    let run = run_ingress(&args, &sqlite_url).await.context("SQLite run")?;
    let batch = run.batch();
    if args.ingress_only {
        println!("\nSQLite (WAL, synchronous=FULL), ingress only:");
        report(&run, args.webhooks);
        if args.dir.is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        return Ok(());
    }
    let bodies = Arc::new(synthetic_bodies(args.webhooks));
    let per_row_rows = args.webhooks.min(5_000);
    let per_row = raw_sqlite(&dir.join("floor-1.db"), bodies.clone(), per_row_rows, 1).await?;
    let batched = raw_sqlite(&dir.join("floor-b.db"), bodies.clone(), bodies.len(), batch).await?;
    let store_url = format!("sqlite:{}", dir.join("store.db").display());
    let store = store_ingest(&store_url, &bodies, batch).await?;

    println!("\nSQLite (WAL, synchronous=FULL):");
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!("  floor: raw inserts, 1 row/transaction:  {:>9.0} rows/s", rate(per_row_rows, per_row));
    println!("  floor: raw inserts, {batch:>3} rows/transaction:{:>9.0} rows/s", rate(bodies.len(), batched));
    println!(
        "  kade-store ingest_many, {batch:>3}/transaction:{:>9.0} events/s  (inbox row + job, no HTTP)",
        rate(bodies.len(), store)
    );
    report(&run, args.webhooks);
    println!("  ratio ingress/raw-floor time ({batch}/tx):   {:>9.2}x", run.wall.as_secs_f64() / batched.as_secs_f64());
    println!("  ratio ingress/ingest_many time:          {:>9.2}x", run.wall.as_secs_f64() / store.as_secs_f64());
    let met = run.per_sec() >= GOAL_PER_SEC && run.quantile(0.99) < GOAL_P99;
    println!(
        "  goal on 2 cores (>= {GOAL_PER_SEC:.0}/s with p99 < {} ms): {}",
        GOAL_P99.as_millis(),
        if met { "met" } else { "NOT met" }
    );
    if args.workers {
        let drained = run.drain.is_some_and(|d| d <= GOAL_DRAIN);
        println!(
            "  goal with workers (drained within {} s, 0 Picqer calls): {}",
            GOAL_DRAIN.as_secs(),
            if met && drained && run.picqer_calls == 0 { "met" } else { "NOT met" }
        );
    }

    if let Some(url) = &args.postgres {
        let schema = format!("bench_{}_{:08x}", std::process::id(), fastrand::u32(..));
        let url = kade_store::create_postgres_schema(url, &schema).await.context("creating a PostgreSQL schema")?;
        let run = run_ingress(&args, &url).await.context("PostgreSQL run")?;
        let store = store_ingest(&url, &bodies, run.batch()).await?;
        println!("\nPostgreSQL (fresh schema):");
        println!(
            "  kade-store ingest_many, {:>3}/transaction:{:>9.0} events/s  (inbox row + job, no HTTP)",
            run.batch(),
            rate(bodies.len(), store)
        );
        report(&run, args.webhooks);
        println!("  ratio ingress/ingest_many time:          {:>9.2}x", run.wall.as_secs_f64() / store.as_secs_f64());
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

fn report(run: &Run, n: usize) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "  kade ingress, signed HTTP webhooks:      {:>9.0} webhooks/s  ({:.3}s)",
        run.per_sec(),
        run.wall.as_secs_f64()
    );
    println!(
        "  ack latency p50 / p99 / max:             {:>9.2} / {:.2} / {:.2} ms",
        ms(run.quantile(0.5)),
        ms(run.quantile(0.99)),
        ms(run.latencies.last().copied().unwrap_or_default())
    );
    println!(
        "  grouped commits: {} transactions, mean {:.1} webhooks each, largest {}, fallbacks {}",
        run.stats.batches,
        run.stats.mean(),
        run.stats.largest,
        run.stats.fallbacks
    );
    let total: Duration = run.cpu.iter().map(|(_, d)| *d).sum();
    if !total.is_zero() {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
        println!(
            "  CPU during the run:                      {:>9.1} µs per webhook, {:.0}% of {cores} cores busy",
            total.as_secs_f64() * 1e6 / run.latencies.len().max(1) as f64,
            100.0 * total.as_secs_f64() / (run.wall.as_secs_f64() * cores)
        );
        let parts: Vec<String> = run
            .cpu
            .iter()
            .take(4)
            .map(|(name, d)| format!("{name} {:.0}%", 100.0 * d.as_secs_f64() / total.as_secs_f64()))
            .collect();
        println!("    by thread: {} (load generator included)", parts.join(", "));
    }
    match run.drain {
        Some(d) => println!("  backlog drained (last ack → no job left): {:>9.3} s", d.as_secs_f64()),
        None => println!("  backlog drained: not measured (workers off) or NOT within {DRAIN_LIMIT:?}"),
    }
    println!("  Picqer calls during the run:             {:>9}", run.picqer_calls);
    let verdict = if run.stored == n as i64 { "none lost, none doubled" } else { "MISMATCH" };
    println!("  inbox after the run:                     {:>9} events of {n} sent ({verdict})", run.stored);
}

/// Starts a simulator and Kade on `database_url`, fires the webhooks, stops both.
async fn run_ingress(args: &BenchIngestArgs, database_url: &str) -> anyhow::Result<Run> {
    let cfg = PicqerSimConfig { products: args.products, rate_limit_per_minute: 0, ..PicqerSimConfig::default() };
    let sim = start(cfg, "127.0.0.1:0".parse()?).await.context("starting the Picqer simulator")?;
    let hub = Hub::start(hub_options(&sim, database_url, args.workers)?).await.context("starting Kade")?;
    let url = format!("{}/webhooks/picqer/main", hub.url());
    let hook = sim
        .hooks()
        .list()
        .into_iter()
        .find(|h| h.active && h.event == EVENT && h.address == url)
        .context("Kade installed no products.free_stock_changed hook")?;
    let secret = WebhookSecret::new(hook.secret_value.context("the hook has no secret")?.as_bytes());
    let products = product_pages(&sim, args.products).await?;
    let addr = hub.addr;
    let path = "/webhooks/picqer/main";
    let host = addr.to_string();
    // Triggered from now on: after the first sync's reads, so each delivery is newer state.
    let at =
        Trigger { base_secs: kade_engine::now_ms() / 1000 + 1, per_second: PER_TRIGGER_SECOND.min(products.len()) };
    let requests: Vec<Vec<u8>> = (0..args.webhooks)
        .map(|i| {
            let body = envelope(hook.idhook, &hook.name, i, &products[i % products.len()], at);
            let signature = secret.sign(&body);
            let headers = [("Content-Type", "application/json"), ("X-Picqer-Signature", signature.as_str())];
            load::post_request(&host, path, &headers, &body)
        })
        .collect();
    let before = hub.engine.store().count_events().await?;
    if args.workers {
        // The first catalogue sync runs at start; the run measures deliveries, not that pass.
        wait_for_idle(&hub, DRAIN_LIMIT).await.context("the first catalogue sync did not finish")?;
    }
    let calls_before = journal_seq(&sim);

    // Open every connection before the clock starts: the run measures Kade, not TCP handshakes.
    let mut conns = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        conns.push(load::Conn::open(addr).await?);
    }
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu::sample();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for mut conn in conns {
        let (requests, next) = (requests.clone(), next.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(requests.len() / 8);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else { break };
                let t = Instant::now();
                let (status, answer) = conn.send(request).await.with_context(|| format!("webhook {i}"))?;
                latencies.push(t.elapsed());
                if status != 200 || !answer.windows(10).any(|w| w == b"\"accepted\"") {
                    bail!("webhook {i} answered {status}: {}", String::from_utf8_lossy(&answer));
                }
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::with_capacity(args.webhooks);
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done??);
    }
    let wall = started.elapsed();
    let cpu = cpu::spent(&cpu_before, &cpu::sample());
    let acked = Instant::now();
    let drain = match args.workers {
        true => wait_for_idle(&hub, DRAIN_LIMIT).await.ok().map(|()| acked.elapsed()),
        false => None,
    };
    let picqer_calls = (journal_seq(&sim) - calls_before) as usize;
    latencies.sort_unstable();
    let stats = hub.ingest.stats();
    let stored = hub.engine.store().count_events().await? - before;
    hub.stop().await;
    sim.shutdown().await;
    Ok(Run { wall, latencies, stats, stored, cpu, drain, picqer_calls })
}

/// The simulator's request counter (its journal's newest sequence number).
fn journal_seq(sim: &RunningSim) -> u64 {
    sim.journal().last().map_or(0, |e| e.seq)
}

/// Waits until no job is queued or running (polling every 5 ms), or fails after `limit`.
async fn wait_for_idle(hub: &Hub, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let counts = hub.engine.store().queue_counts().await?;
        let busy = ["queued", "running"].iter().map(|s| counts.get(*s).copied().unwrap_or(0)).sum::<i64>();
        if busy == 0 {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "{busy} jobs still queued or running after {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn hub_options(sim: &RunningSim, database_url: &str, workers: bool) -> anyhow::Result<HubOptions> {
    let mut client = ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key())).contact("kade bench");
    client.initial_rate_limit = u32::MAX;
    Ok(HubOptions {
        database_url: database_url.to_string(),
        listen: "127.0.0.1:0".parse()?,
        public_url: None,
        admin_token: format!("bench-{:016x}", fastrand::u64(..)),
        master_key: format!("kade bench master key {:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)).into_bytes(),
        picqer: vec![PicqerSettings {
            name: "main".into(),
            client,
            webhook_url: String::new(),
            events: vec![EVENT.to_string()],
        }],
        incremental_every: Duration::from_secs(3600),
        engine: EngineConfig::default(),
        background: workers,
        body_limit: 1024 * 1024,
        agent: Default::default(),
        connectors: Vec::new(),
    })
}

/// Products as the simulator serves them, so the deliveries have Picqer's real shape and size.
async fn product_pages(sim: &RunningSim, want: usize) -> anyhow::Result<Vec<Value>> {
    let http = reqwest::Client::new();
    let mut products = Vec::with_capacity(want);
    while products.len() < want {
        let page: Vec<Value> = http
            .get(format!("{}/products", sim.base_url()))
            .basic_auth(sim.api_key(), Some(""))
            .query(&[("offset", products.len().to_string())])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let short = page.len() < kade_picqer::PAGE_SIZE;
        products.extend(page);
        if short {
            break;
        }
    }
    ensure!(!products.is_empty(), "the simulator served no products");
    Ok(products)
}

/// Deliveries that share one trigger second. Picqer stamps events to the second, and the inbox's
/// de-dup keys lead with that second, so this decides how local the key index's writes are: a
/// thousand per second is a heavy burst for one Picqer account (a bulk stock import), and far
/// more keys per second than the one-per-second a slow trickle would give.
const PER_TRIGGER_SECOND: usize = 1000;

/// When the deliveries are triggered: `per_second` deliveries share each second, from
/// `base_secs` (seconds since the epoch, written as Picqer writes its times).
#[derive(Clone, Copy)]
struct Trigger {
    base_secs: i64,
    per_second: usize,
}

/// Delivery `i`: a free-stock change of a product, distinct from every other delivery (its own
/// stock figure in the first warehouse), so none is a duplicate. As in Picqer, the body carries
/// the product with its `stock` array. With `per_second` at most the number of products, the
/// successive changes of one product carry successive seconds, so Kade applies each from its
/// body without asking Picqer (same-second changes of one product would be re-read).
fn envelope(idhook: u64, name: &str, i: usize, product: &Value, at: Trigger) -> Vec<u8> {
    let mut data = product.clone();
    if let Some(stock) = data.get_mut("stock").and_then(|s| s.as_array_mut()).and_then(|s| s.first_mut()) {
        stock["freestock"] = json!(i);
    } else if let Some(obj) = data.as_object_mut() {
        obj.insert("freestock".into(), json!(i));
    }
    let secs = at.base_secs + (i / at.per_second.max(1)) as i64;
    let triggered = kade_core::PicqerDateTime::from_epoch_secs(secs).to_string();
    let body = json!({"idhook": idhook, "name": name, "event": EVENT, "event_triggered_at": triggered, "data": data});
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Bodies for the floors: the same size as a delivery, without a simulator.
fn synthetic_bodies(n: usize) -> Vec<Vec<u8>> {
    let product = json!({"idproduct": 1, "productcode": "P-000001", "name": "Benchmark product",
        "price": 12.5, "stock": [{"idwarehouse": 1, "stock": 10, "reserved": 0, "freestock": 10}],
        "description": "x".repeat(600)});
    let at = Trigger { base_secs: 1_793_491_200, per_second: PER_TRIGGER_SECOND };
    (0..n).map(|i| envelope(1, "bench", i, &product, at)).collect()
}
