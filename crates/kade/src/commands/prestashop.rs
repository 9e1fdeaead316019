//! `kade prestashop hooks NAME [--repair]`: the shop's hook status from the running Kade's
//! admin API (the hub holds the live connections; this command only asks it).

use std::io::Write as _;

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::cli::PrestashopHooksArgs;
use crate::config;

pub async fn hooks(args: PrestashopHooksArgs) -> anyhow::Result<()> {
    let cfg = match config::load(&args.config) {
        Ok(cfg) => cfg,
        Err(errors) => bail!("{} is not valid:\n{errors}", args.config.display()),
    };
    if !cfg.prestashop.contains_key(&args.shop) {
        let known: Vec<&str> = cfg.prestashop.keys().map(String::as_str).collect();
        bail!(
            "there is no [prestashop.{}] in {} (configured shops: {})",
            args.shop,
            args.config.display(),
            known.join(", ")
        );
    }
    let base = args.url.clone().unwrap_or_else(|| {
        // A wildcard listen address is reached through loopback.
        let mut addr = cfg.server.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    });
    let url = format!("{}/api/v1/prestashop/{}/hooks", base.trim_end_matches('/'), args.shop);
    let http = reqwest::Client::new();
    let req = if args.repair { http.post(&url) } else { http.get(&url) };
    let resp = req
        .bearer_auth(cfg.server.admin_token.expose())
        .send()
        .await
        .with_context(|| format!("cannot reach Kade at {base} (is `kade serve` running? or pass --url)"))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body["message"].as_str().unwrap_or("no details");
        bail!("Kade answered {status}: {message}");
    }
    println!("Shop \"{}\" → Picqer connection \"{}\"", args.shop, body["picqer"].as_str().unwrap_or("?"));
    if args.repair {
        let list =
            |k: &str| body[k].as_array().map(|a| a.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "));
        println!(
            "  created: {}; reactivated: {}",
            list("created").unwrap_or_default(),
            list("reactivated").unwrap_or_default()
        );
    }
    let mut unhealthy = 0;
    for h in body["hooks"].as_array().into_iter().flatten() {
        let event = h["event"].as_str().unwrap_or_default();
        let state = h["state"].as_str().unwrap_or_default();
        let id = h["idhook"].as_u64().map(|id| format!("hook {id}")).unwrap_or_default();
        let hint = if h["configured"] == false {
            format!("not in picqer.{}.events: add it there and restart Kade", body["picqer"].as_str().unwrap_or("NAME"))
        } else {
            String::new()
        };
        if state != "active" {
            unhealthy += 1;
        }
        println!("  {event:<30} {state:<9} {id} {hint}");
    }
    if unhealthy > 0 {
        let _ = std::io::stdout().flush();
        let fix = if args.repair {
            "see the hints above".to_string()
        } else {
            format!("run `kade prestashop hooks {} --repair`", args.shop)
        };
        bail!("{unhealthy} hook(s) not active: {fix}");
    }
    println!("✓ all hooks active");
    Ok(())
}
