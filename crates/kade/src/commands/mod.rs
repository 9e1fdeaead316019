//! The commands behind the CLI.

mod agent;
pub mod automations;
mod bench;
mod check;
mod demo;
mod prestashop;
mod replay;
mod serve;
mod sim;

use crate::cli::{AgentCommand, AutomationsCommand, BenchCommand, Cli, Command, PrestashopCommand, SimCommand};

/// Runs the chosen command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Check(args) => check::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Replay(args) => replay::run(args).await,
        Command::Prestashop(PrestashopCommand::Hooks(args)) => prestashop::hooks(args).await,
        Command::Sim(SimCommand::Picqer(args)) => sim::picqer(args).await,
        Command::Sim(SimCommand::Prestashop(args)) => sim::prestashop(args).await,
        Command::Sim(SimCommand::Whatsapp(args)) => sim::whatsapp(args).await,
        Command::Sim(SimCommand::Twilio(args)) => sim::twilio(args).await,
        Command::Bench(BenchCommand::Picqer(args)) => bench::picqer(args).await,
        Command::Bench(BenchCommand::Ingest(args)) => bench::ingest(args).await,
        Command::Bench(BenchCommand::Agent(args)) => bench::agent(args).await,
        Command::Agent(AgentCommand::Ask(args)) => agent::ask(args).await,
        Command::Automations(AutomationsCommand::List(args)) => automations::list(args),
        Command::Automations(AutomationsCommand::Preview(args)) => automations::preview(args).await,
        Command::Messages(args) => automations::messages(args).await,
        Command::Bench(BenchCommand::PrestashopStock(args)) => bench::prestashop_stock(args).await,
        Command::Bench(BenchCommand::Flows) => bench::flows().await,
    }
}
