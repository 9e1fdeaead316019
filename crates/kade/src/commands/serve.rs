//! `kade serve`: the hub itself.

use std::time::Duration;

use anyhow::Context as _;
use kade_engine::EngineConfig;
use kade_engine::picqer::PicqerSettings;
use kade_server::{Hub, HubOptions};

use crate::cli::ServeArgs;
use crate::config;

/// Webhook bodies above this are refused with 413 (Picqer's are a few kilobytes).
const BODY_LIMIT: usize = 1024 * 1024;

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let cfg = match config::load(&args.config) {
        Ok(cfg) => cfg,
        Err(errors) => anyhow::bail!("{} is not valid:\n{errors}", args.config.display()),
    };
    let picqer: Vec<PicqerSettings> = cfg
        .picqer
        .iter()
        .map(|(name, c)| PicqerSettings {
            name: name.clone(),
            client: c.client_config(),
            webhook_url: cfg.webhook_url(name),
            events: c.events.clone(),
        })
        .collect();
    let minutes = cfg.picqer.values().map(|c| c.incremental_sync_minutes).min().unwrap_or(15);
    let opts = HubOptions {
        database_url: cfg.database.url.clone(),
        listen: cfg.server.listen,
        public_url: Some(cfg.server.public_url.clone()),
        admin_token: cfg.server.admin_token.expose().to_string(),
        master_key: cfg.master_key.expose().as_bytes().to_vec(),
        picqer,
        incremental_every: Duration::from_secs(u64::from(minutes) * 60),
        engine: EngineConfig::default(),
        background: true,
        body_limit: BODY_LIMIT,
        agent: cfg.agent.clone(),
        connectors: crate::connectors::registered(&cfg),
    };
    let automations = super::automations::setup(&cfg)?;
    let rules = automations.as_ref().map_or(0, |a| a.rules.len());
    let connectors = opts.connectors.clone();
    let hub = Hub::start_with_automations(opts, automations).await.context("starting Kade")?;
    println!("Kade is running on {} (database: {})", hub.url(), cfg.database.redacted_url());
    for name in cfg.picqer.keys() {
        println!("  picqer connection {name:?}: webhooks at {}", cfg.webhook_url(name));
    }
    for line in connectors.iter().flat_map(|c| c.describe(&cfg.server.public_url)).flatten() {
        println!("  {line}");
    }
    if rules > 0 {
        println!("  automations: {rules} rule(s); send log: kade messages, or GET /api/v1/messages");
    }
    println!("  admin API: {}/api/v1 (bearer token: server.admin_token)   metrics: {}/metrics", hub.url(), hub.url());
    wait_for_stop().await;
    println!("stopping: finishing in-flight jobs");
    hub.stop().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
