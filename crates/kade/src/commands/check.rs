//! `kade check`: validate the configuration, show each connection's webhook URL, and verify each
//! connection with one live call — so a wrong key or subdomain shows up before `kade serve`
//! starts installing hooks.
//!
//! Exit codes are part of the interface (scripts and CI gate on them): 0 everything passed,
//! 1 a connection failed its live check, 2 the configuration is invalid. Nothing secret is
//! printed: secrets are only ever shown as set, and database passwords are masked.

use std::io::Write as _;
use std::time::Duration;

use anyhow::bail;
use futures_util::future::join_all;
use kade_picqer::{ConnectError, ConnectionInfo, PicqerClient};

use crate::cli::CheckArgs;
use crate::config::{self, Config, PicqerConnectionConfig};

/// A live check is interactive: fail fast on a dead host instead of retrying for a minute.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The exit code for an invalid configuration (1 is taken by "a connection failed").
const EXIT_INVALID_CONFIG: i32 = 2;

pub async fn run(args: CheckArgs) -> anyhow::Result<()> {
    let config = match config::load(&args.config) {
        Ok(config) => config,
        Err(errors) => {
            let plural = if errors.len() == 1 { "" } else { "s" };
            eprintln!("{}: {} configuration error{plural}:", args.config.display(), errors.len());
            for e in errors.iter() {
                eprintln!("  {e}");
            }
            let _ = std::io::stderr().flush();
            // main() maps every error to exit code 1; an invalid config must be told apart.
            std::process::exit(EXIT_INVALID_CONFIG);
        }
    };
    print_summary(&args, &config);

    let results: Vec<Option<Result<ConnectionInfo, ConnectError>>> = if args.offline {
        config.picqer.values().map(|_| None).collect()
    } else {
        join_all(config.picqer.values().map(|conn| async move { Some(verify(conn).await) })).await
    };

    let mut failed = 0;
    for ((name, conn), result) in config.picqer.iter().zip(results) {
        println!();
        println!("Picqer connection \"{name}\" ({})", conn.base_url);
        println!("  webhook URL   {}", config.webhook_url(name));
        println!("  events        {}", conn.events.join(", "));
        println!("  sync          incremental catalogue sync every {} min", conn.incremental_sync_minutes);
        if conn.contact == "unset" {
            println!("  note          no contact set; Picqer asks integrations to name one (picqer.{name}.contact)");
        }
        match result {
            None => println!("  - live check skipped (--offline)"),
            Some(Ok(info)) => {
                let plural = if info.warehouses == 1 { "" } else { "s" };
                println!("  ✓ connected: the API key works, {} warehouse{plural}", info.warehouses);
            }
            Some(Err(e)) => {
                failed += 1;
                println!("  ✗ {e}");
            }
        }
    }
    let mut instances = 0;
    for connector in crate::connectors::registered(&config) {
        let described = connector.describe(&config.server.public_url);
        instances += described.len();
        let mut results = if args.offline { Vec::new() } else { connector.check().await }.into_iter();
        for block in described {
            println!();
            for line in block {
                println!("{line}");
            }
            match results.next().map(|l| l.result) {
                None => println!("  - live check skipped (--offline)"),
                Some(Ok(what)) => println!("  ✓ {what}"),
                Some(Err(e)) => {
                    failed += 1;
                    println!("  ✗ {e}");
                }
            }
        }
    }
    println!();
    let total = config.picqer.len() + instances;
    if failed > 0 {
        let _ = std::io::stdout().flush();
        let noun = if instances == 0 { "Picqer connection" } else { "connection" };
        bail!("{failed} of {total} {noun}{} failed the live check", if total == 1 { "" } else { "s" });
    }
    if args.offline {
        println!("Configuration is valid; live checks skipped (--offline).");
    } else {
        println!("All checks passed.");
    }
    Ok(())
}

fn print_summary(args: &CheckArgs, config: &Config) {
    let path = std::path::absolute(&args.config).unwrap_or_else(|_| args.config.clone());
    println!("✓ configuration {} is valid", path.display());
    println!("  listen        {}", config.server.listen);
    println!("  public URL    {}", config.server.public_url);
    let kind = if config.database.is_postgres() { "PostgreSQL" } else { "SQLite" };
    println!("  database      {} ({kind})", config.database.redacted_url());
    println!("  connections   {}", config.picqer.keys().cloned().collect::<Vec<_>>().join(", "));
}

/// One live call with the check's short timeouts and no retries.
async fn verify(conn: &PicqerConnectionConfig) -> Result<ConnectionInfo, ConnectError> {
    let mut cfg = conn.client_config();
    cfg.connect_timeout = CONNECT_TIMEOUT;
    cfg.timeout = REQUEST_TIMEOUT;
    cfg.max_transient_retries = 0;
    let client = PicqerClient::new(cfg).map_err(ConnectError::Other)?;
    client.verify_connection().await
}
