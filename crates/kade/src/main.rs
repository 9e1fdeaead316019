#![forbid(unsafe_code)]
//! The `kade` command. Thin by design: parse arguments, set up logging, hand over to a command.

mod cli;
mod commands;
mod config;
mod connectors;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("KADE_LOG").unwrap_or_else(|_| "warn,kade=info".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    // One TLS stack for the whole process: rustls with ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match commands::run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
