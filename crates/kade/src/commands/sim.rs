//! `kade sim picqer`: the Picqer simulator as a standalone server.

use anyhow::Context as _;
use kade_sim::picqer::{PicqerSimConfig, start};

use crate::cli::SimPicqerArgs;

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
