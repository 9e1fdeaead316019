//! `kade sim picqer|prestashop|whatsapp|twilio`: the simulators as standalone servers.

use anyhow::Context as _;
use kade_sim::picqer::{PicqerSimConfig, start};

use crate::cli::{SimPicqerArgs, SimPrestashopArgs, SimTwilioArgs, SimWhatsappArgs};

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

/// Starts the WhatsApp Cloud API simulator and serves until Ctrl-C.
pub async fn whatsapp(args: SimWhatsappArgs) -> anyhow::Result<()> {
    use kade_sim::whatsapp::WhatsAppSimConfig;
    if let Some(url) = &args.callback_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        anyhow::bail!("--callback-url must start with http:// or https:// (got {url:?})");
    }
    let config = WhatsAppSimConfig {
        access_token: args.access_token,
        app_secret: args.app_secret,
        callback_url: args.callback_url,
        ..WhatsAppSimConfig::default()
    };
    let sim = kade_sim::whatsapp::start(config, args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let c = sim.config();
    println!("WhatsApp Cloud API simulator listening");
    println!("  base URL:        {}", sim.base_url());
    println!("  phone number id: {}", c.phone_number_id);
    println!("  access token:    {}", c.access_token);
    println!("  control API:     {}/_sim/", sim.root_url());
    println!(
        "  try:             curl -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -d '{{\"messaging_product\":\"whatsapp\",\"to\":\"31612345678\",\"type\":\"template\",\"template\":{{\"name\":\"review_request\",\"language\":{{\"code\":\"nl\"}},\"components\":[{{\"type\":\"body\",\"parameters\":[{{\"type\":\"text\",\"text\":\"Jan\"}},{{\"type\":\"text\",\"text\":\"#1001\"}}]}}]}}}}' {}/{}/messages",
        c.access_token,
        sim.base_url(),
        c.phone_number_id
    );
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    println!("stopping");
    sim.shutdown().await;
    Ok(())
}

/// Starts the Twilio Messaging simulator and serves until Ctrl-C.
pub async fn twilio(args: SimTwilioArgs) -> anyhow::Result<()> {
    use kade_sim::twilio::TwilioSimConfig;
    if !(args.account_sid.starts_with("AC") && args.account_sid.len() == 34) {
        anyhow::bail!("--account-sid must look like a Twilio Account SID: AC followed by 32 characters");
    }
    let config =
        TwilioSimConfig { account_sid: args.account_sid, auth_token: args.auth_token, ..TwilioSimConfig::default() };
    let sim = kade_sim::twilio::start(config, args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let c = sim.config();
    println!("Twilio Messaging simulator listening");
    println!("  base URL:    {}", sim.base_url());
    println!("  account SID: {}", c.account_sid);
    println!("  auth token:  {}", c.auth_token);
    println!("  from:        {}", c.from_numbers.join(", "));
    println!("  control API: {}/_sim/", sim.base_url());
    println!(
        "  try:         curl -u {}:{} --data-urlencode To=+31612345678 --data-urlencode From={} -d Body=Hallo {}/2010-04-01/Accounts/{}/Messages.json",
        c.account_sid,
        c.auth_token,
        c.from_numbers[0],
        sim.base_url(),
        c.account_sid
    );
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    println!("stopping");
    sim.shutdown().await;
    Ok(())
}
