//! `kade sim picqer` and `kade sim prestashop`: the simulators as standalone servers.

use anyhow::Context as _;
use kade_sim::picqer::{PicqerSimConfig, start};

use crate::cli::{SimPicqerArgs, SimPrestashopArgs};

/// Starts the simulator, prints where it is and how to authenticate, and serves until Ctrl-C.
pub async fn picqer(args: SimPicqerArgs) -> anyhow::Result<()> {
    let config = PicqerSimConfig {
        api_key: args.api_key,
        products: args.products,
        seed: args.seed,
        rate_limit_per_minute: args.rate_limit,
        rate_burst: args.rate_burst,
        ..PicqerSimConfig::default()
    };
    let sim = start(config, args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    println!("Picqer simulator listening");
    println!("  base URL:    {}", sim.base_url());
    println!("  API key:     {}", sim.api_key());
    println!("  control API: {}/_sim/", sim.root_url());
    println!("  try:         curl -u {}: {}/products", sim.api_key(), sim.base_url());
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    println!("stopping");
    sim.shutdown().await;
    Ok(())
}

/// Starts the PrestaShop simulator and serves until Ctrl-C.
pub async fn prestashop(args: SimPrestashopArgs) -> anyhow::Result<()> {
    use kade_sim::prestashop::{NotifyConfig, PrestaSimConfig};
    if args.ws_key.len() != 32 {
        anyhow::bail!(
            "--ws-key must be 32 characters long, like a PrestaShop webservice key (got {})",
            args.ws_key.len()
        );
    }
    let notify = args.notify_url.map(|url| NotifyConfig { url, secret: args.notify_secret, mode: Default::default() });
    let config = PrestaSimConfig { ws_key: args.ws_key, products: args.products, notify, ..PrestaSimConfig::default() };
    let sim = kade_sim::prestashop::start(config, args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    println!("PrestaShop simulator listening");
    println!("  shop URL:    {}", sim.root_url());
    println!("  API:         {}", sim.api_url());
    println!("  ws key:      {}", sim.ws_key());
    println!("  control API: {}/_sim/", sim.root_url());
    println!("  try:         curl -u {}: '{}/orders?output_format=JSON'", sim.ws_key(), sim.api_url());
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    println!("stopping");
    sim.shutdown().await;
    Ok(())
}
