//! `kade bench agent`: the evaluation set against a seeded Picqer simulator, through a running
//! Kade (its catalogue sync fills the mirror the agent searches).
//!
//! Steps: start the simulator; create the set's products and orders (API and control API);
//! start Kade on a fresh SQLite file and wait for the first full catalogue sync; ask every
//! question; report the share of facts right, the disclosures without identity and the answer
//! latency.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kade_agent::eval::{self, EvalSet};
use kade_agent::{Agent, AgentConfig};
use kade_engine::EngineConfig;
use kade_engine::picqer::PicqerSettings;
use kade_picqer::{ApiKey, ClientConfig, PicqerClient};
use kade_server::{Hub, HubOptions};
use kade_sim::picqer::{PicqerSimConfig, start};

use crate::cli::BenchAgentArgs;

pub async fn agent(args: BenchAgentArgs) -> anyhow::Result<()> {
    let text = match &args.set {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        None => eval::BUILTIN.to_string(),
    };
    let set = EvalSet::parse(&text)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = start(
        PicqerSimConfig { products: args.products, rate_limit_per_minute: 0, ..PicqerSimConfig::default() },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let mut cfg = ClientConfig::with_base_url(sim.base_url(), ApiKey::new(sim.api_key())).contact("kade bench agent");
    // The simulator's limit is lifted and it then sends no rate-limit headers; without this the
    // client keeps assuming Picqer's 500/minute, and after the first full sync of a large
    // catalogue the order lookups would be measuring the budget refill, not the agent.
    cfg.initial_rate_limit = u32::MAX;
    let client = PicqerClient::new(cfg.clone())?;
    eval::create_products(&client, &sim.root_url(), &set.products).await?;
    let orders = eval::create_orders(&client, &sim.root_url(), &set.orders).await?;
    println!(
        "Simulator: {} seeded products + {} of the set, {} orders created",
        args.products,
        set.products.len(),
        orders.len()
    );

    let dir = std::env::temp_dir().join(format!("kade-bench-agent-{}-{:08x}", std::process::id(), fastrand::u32(..)));
    std::fs::create_dir_all(&dir)?;
    let picqer = PicqerSettings { name: "main".into(), client: cfg, webhook_url: String::new(), events: Vec::new() };
    let database = format!("sqlite:{}", dir.join("kade.db").display());
    let token = format!("bench-{:016x}", fastrand::u64(..));
    let key = format!("kade bench master key {:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    let opts = HubOptions {
        incremental_every: Duration::from_secs(3600),
        engine: EngineConfig { idle_poll: Duration::from_millis(50), ..EngineConfig::default() },
        background: true,
        ..HubOptions::local(&database, &token, key.as_bytes(), vec![picqer])
    };
    let hub = Hub::start(opts).await.context("starting Kade")?;
    let t = Instant::now();
    loop {
        let s = hub.engine.store().sync_state("main", "catalogue_full").await?;
        if s.is_some_and(|s| s.status == "done") {
            break;
        }
        if t.elapsed() > Duration::from_secs(300) {
            bail!("the catalogue sync did not finish within five minutes");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mirrored = hub.engine.store().count_products("main").await?;
    println!("Kade: catalogue mirrored ({mirrored} products) in {:.1}s", t.elapsed().as_secs_f64());

    let conn = hub.engine.picqer("main").context("the connection is registered")?;
    let agent = Agent::new(AgentConfig::default(), conn.client().clone(), hub.engine.store().clone(), "main")?;
    agent.catalogue().await?; // build the index outside the timed questions
    let report = eval::run(&agent, &set, &orders).await;
    let mut times: Vec<u64> = report.outcomes.iter().map(|o| o.micros).collect();
    times.sort_unstable();
    let pct = |p: usize| times.get((times.len() * p / 100).min(times.len().saturating_sub(1))).copied().unwrap_or(0);
    let ms = |us: u64| us as f64 / 1000.0;
    for o in &report.outcomes {
        let missed = !o.missing.is_empty() || !o.present_but_forbidden.is_empty();
        if missed || args.verbose {
            println!(
                "\n[{}] {}{}",
                o.id,
                if o.disclosure { "DISCLOSURE " } else { "" },
                o.answer.replace('\n', "\n    ")
            );
            if missed {
                println!("    missing: {:?}  forbidden but present: {:?}", o.missing, o.present_but_forbidden);
            }
        }
    }
    println!(
        "\nQuestions: {}   facts right: {}/{} = {:.1} %   disclosures without identity: {}",
        report.questions,
        report.facts_right,
        report.facts_total,
        report.share() * 100.0,
        report.disclosures,
    );
    println!(
        "Answer time: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms (orders live from the simulator over loopback, stock from the in-memory index)",
        ms(pct(50)),
        ms(pct(95)),
        ms(pct(100))
    );
    if args.verbose {
        let mut slow: Vec<_> = report.outcomes.iter().map(|o| (o.micros, o.id.as_str())).collect();
        slow.sort_unstable_by(|a, b| b.cmp(a));
        println!("Slowest: {:?}", &slow[..slow.len().min(5)]);
    }
    hub.stop().await;
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    if report.disclosures > 0 || report.share() < 0.95 {
        bail!("the goal is >= 95 % of facts right and 0 disclosures");
    }
    println!("Goal met (>= 95 % of facts right, 0 disclosures).");
    Ok(())
}
