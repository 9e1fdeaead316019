//! Command-line interface.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Kade: a self-hosted integration hub for the Picqer warehouse management system.
#[derive(Debug, Parser)]
#[command(name = "kade", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a walk-through on embedded defaults: a seeded Picqer simulator, the Picqer client,
    /// signed webhooks. Needs no accounts and no network.
    Demo(DemoArgs),
    /// Validate the configuration and verify every Picqer connection live. Exit code 0: all
    /// good; 1: a connection failed; 2: the configuration is invalid.
    Check(CheckArgs),
    /// Run Kade: webhook ingress, workers, scheduler and the admin API (see docs/configuration.md).
    Serve(ServeArgs),
    /// Re-queue dead (or done) jobs and inbox events, e.g. after fixing what made them fail.
    Replay(ReplayArgs),
    /// Answer customer questions (order status, stock) the way the agent API does.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// PrestaShop shops of a running Kade (see docs/prestashop.md).
    #[command(subcommand)]
    Prestashop(PrestashopCommand),
    /// Automation rules: list them, or preview one against a sample or recorded event.
    #[command(subcommand)]
    Automations(AutomationsCommand),
    /// The automation send log: what was sent, skipped, failed, or is ambiguous.
    Messages(MessagesArgs),
    /// Run a partner simulator.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Measure performance; figures are printed as ratios against a floor measured in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seeded products in the demo warehouse.
    #[arg(long, default_value_t = 1_000)]
    pub products: usize,
    /// Where Kade keeps its SQLite database (default: a fresh one in a temporary directory).
    #[arg(long)]
    pub database: Option<String>,
    /// Keep the simulator running after the walk-through (Ctrl-C to stop).
    #[arg(long)]
    pub keep_running: bool,
    /// Where the simulator listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration file (see docs/configuration.md).
    #[arg(long, short, env = "KADE_CONFIG", default_value = "kade.toml")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["job", "event", "dead"])))]
pub struct ReplayArgs {
    /// The configuration file (its database is used).
    #[arg(long, short, env = "KADE_CONFIG", default_value = "kade.toml")]
    pub config: PathBuf,
    /// Replay this job.
    #[arg(long)]
    pub job: Vec<i64>,
    /// Replay the job of this inbox event.
    #[arg(long)]
    pub event: Vec<i64>,
    /// Replay every dead job.
    #[arg(long)]
    pub dead: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The configuration file (see docs/configuration.md).
    #[arg(long, short, env = "KADE_CONFIG", default_value = "kade.toml")]
    pub config: PathBuf,
    /// Only validate the file; skip the live calls to Picqer.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Subcommand)]
pub enum PrestashopCommand {
    /// Show the Picqer hooks a shop relies on (active, inactive, missing); with --repair, create
    /// missing hooks and reactivate inactive ones. Asks the running Kade's admin API. Exit code
    /// 0: all active; 1: some are not.
    Hooks(PrestashopHooksArgs),
}

#[derive(Debug, Args)]
pub struct PrestashopHooksArgs {
    /// The shop's name (`[prestashop.NAME]`).
    pub shop: String,
    /// The configuration file (the admin token and listen address are read from it).
    #[arg(long, short, env = "KADE_CONFIG", default_value = "kade.toml")]
    pub config: PathBuf,
    /// Create missing hooks and reactivate inactive ones first.
    #[arg(long)]
    pub repair: bool,
    /// The running Kade's base URL; default: its listen address from the configuration.
    #[arg(long)]
    pub url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AutomationsCommand {
    /// The configured rules (validated, templates parsed), one block per rule.
    List(AutomationsListArgs),
    /// Render a rule against a recorded inbox event or a sample, without sending anything.
    Preview(AutomationsPreviewArgs),
}

#[derive(Debug, Args)]
pub struct AutomationsListArgs {
    /// The configuration file.
    #[arg(long, short, env = "KADE_CONFIG", default_value = "kade.toml")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["event_id", "sample"])))]
pub struct AutomationsPreviewArgs {
    /// The rule's name.
    pub rule: String,
    /// A recorded inbox event (see `GET /api/v1/events`).
    #[arg(long)]
    pub event_id: Option<i64>,
    /// A JSON file: a whole Picqer webhook body (`{"event": ..., "data": {...}}`) or just the data.
    #[arg(long)]
    pub sample: Option<PathBuf>,
    /// The sample's event name when the file holds only the data (default: the rule's trigger).
    #[arg(long)]
    pub event: Option<String>,
    /// The configuration file.
    #[arg(long, short, env = "KADE_CONFIG", default_value = "kade.toml")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct MessagesArgs {
    /// Only this rule's messages.
    #[arg(long)]
    pub rule: Option<String>,
    /// Only this state: scheduled, sending, sent, delivered, failed_permanent, skipped, in_doubt, ambiguous.
    #[arg(long)]
    pub state: Option<String>,
    /// Only this channel: email, whatsapp, sms, webhook.
    #[arg(long)]
    pub channel: Option<String>,
    /// Only messages to this recipient (e-mail address, E.164 number).
    #[arg(long)]
    pub recipient: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The configuration file (its database holds the send log).
    #[arg(long, short, env = "KADE_CONFIG", default_value = "kade.toml")]
    pub config: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// The Picqer API simulator (see docs/simulators.md).
    Picqer(SimPicqerArgs),
    /// The PrestaShop webservice simulator (see docs/simulators.md).
    Prestashop(SimPrestashopArgs),
    /// The WhatsApp Business Cloud API simulator (see docs/simulators.md).
    Whatsapp(SimWhatsappArgs),
    /// The Twilio Programmable Messaging simulator (see docs/simulators.md).
    Twilio(SimTwilioArgs),
}

#[derive(Debug, Args)]
pub struct SimWhatsappArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8670")]
    pub listen: SocketAddr,
    /// The bearer token clients must send.
    #[arg(long, env = "KADE_SIM_WHATSAPP_TOKEN", default_value = kade_sim::whatsapp::DEFAULT_ACCESS_TOKEN)]
    pub access_token: String,
    /// The app secret status webhooks are signed with (X-Hub-Signature-256).
    #[arg(long, env = "KADE_SIM_WHATSAPP_APP_SECRET", default_value = kade_sim::whatsapp::DEFAULT_APP_SECRET)]
    pub app_secret: String,
    /// Where status webhooks are POSTed (optional; settable later through /_sim/callbacks).
    #[arg(long)]
    pub callback_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct SimTwilioArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8680")]
    pub listen: SocketAddr,
    /// The account SID (Basic-auth username and part of every path).
    #[arg(long, env = "KADE_SIM_TWILIO_ACCOUNT_SID", default_value = kade_sim::twilio::DEFAULT_ACCOUNT_SID)]
    pub account_sid: String,
    /// The auth token (Basic-auth password; key of X-Twilio-Signature).
    #[arg(long, env = "KADE_SIM_TWILIO_AUTH_TOKEN", default_value = kade_sim::twilio::DEFAULT_AUTH_TOKEN)]
    pub auth_token: String,
}

#[derive(Debug, Args)]
pub struct SimPrestashopArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8660")]
    pub listen: SocketAddr,
    /// The webservice key (32 characters), sent as the Basic username or as `ws_key`.
    #[arg(long, env = "KADE_SIM_PRESTASHOP_WS_KEY", default_value = kade_sim::prestashop::DEFAULT_WS_KEY)]
    pub ws_key: String,
    /// Seeded simple products (SIM-00001...), 10 in stock each.
    #[arg(long, default_value_t = 0)]
    pub products: usize,
    /// Where the notification module posts new orders and status changes (optional).
    #[arg(long)]
    pub notify_url: Option<String>,
    /// The shared secret notifications are signed with (HMAC-SHA256).
    #[arg(long, env = "KADE_SIM_PRESTASHOP_NOTIFY_SECRET", default_value = "prestashop-sim-secret")]
    pub notify_secret: String,
}

#[derive(Debug, Args)]
pub struct SimPicqerArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8650")]
    pub listen: SocketAddr,
    /// The API key clients must send as the Basic-auth username.
    #[arg(long, env = "KADE_SIM_PICQER_API_KEY", default_value = "picqer-sim-key")]
    pub api_key: String,
    /// Number of seeded products.
    #[arg(long, default_value_t = 250)]
    pub products: usize,
    /// Requests per minute per API key; 0 lifts the limit.
    #[arg(long, default_value_t = 500)]
    pub rate_limit: u32,
    /// Burst capacity of the rate-limit bucket (default: the per-minute limit).
    #[arg(long)]
    pub rate_burst: Option<u32>,
    /// Seed of the generated warehouse; the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The Picqer client against the Picqer simulator: throughput with the limit lifted, and
    /// budget adherence under a limit.
    Picqer(BenchPicqerArgs),
    /// The webhook ingress: signed webhooks/s and acknowledgement latency on SQLite (and on
    /// PostgreSQL when a URL is given), next to a raw SQLite insert floor from the same run.
    Ingest(BenchIngestArgs),
    /// The customer-answer agent against its evaluation set on the Picqer simulator: share of
    /// facts right and disclosures without identity (goal: >= 95 %, 0).
    Agent(BenchAgentArgs),
    /// A full PrestaShop stock sync against both simulators: Picqer calls, shop writes and wall
    /// time next to the Picqer rate-limit floor of the same run.
    PrestashopStock(BenchPrestashopArgs),
    /// Partner calls per flow against the floor, in one run: a stock change with one and two
    /// shops, shop orders of 1, 3 and 20 lines (all simulators on loopback).
    Flows,
}

#[derive(Debug, Args)]
pub struct BenchAgentArgs {
    /// An evaluation set (TOML, see crates/kade-agent/eval/questions.toml); default: the built-in one.
    #[arg(long)]
    pub set: Option<PathBuf>,
    /// Seeded products around the evaluation's own (noise for the search).
    #[arg(long, default_value_t = 1_000)]
    pub products: usize,
    /// Print every answer, not only the ones that missed a fact.
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Answer one question from the configured Picqer account and mirror (see docs/agent.md).
    Ask(AgentAskArgs),
}

#[derive(Debug, Args)]
pub struct AgentAskArgs {
    /// The customer's message, e.g. "where is my order 20140079? jan@example.com".
    pub message: String,
    /// The sender as the channel knows it: a phone number (whatsapp, sms) or email address (email).
    #[arg(long)]
    pub from: Option<String>,
    /// whatsapp, sms, email, chat, helpdesk or api.
    #[arg(long, default_value = "api")]
    pub channel: String,
    /// Answer in this language (en or nl) instead of the message's.
    #[arg(long)]
    pub language: Option<String>,
    /// The Picqer connection (needed when several are configured).
    #[arg(long)]
    pub connection: Option<String>,
    /// Print the whole reply (answer, facts, sources) as JSON.
    #[arg(long)]
    pub json: bool,
    /// The configuration file (its database holds the mirror).
    #[arg(long, short, env = "KADE_CONFIG", default_value = "kade.toml")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct BenchPrestashopArgs {
    /// Products in Picqer and in the shop.
    #[arg(long, default_value_t = 10_000)]
    pub products: usize,
    /// Share of shop products whose stock differs from Picqer's (only these may be written).
    #[arg(long, default_value_t = 10)]
    pub differing_percent: usize,
    /// Picqer rate limit per minute during the sync (the default is Picqer's 500/min at 12x
    /// speed, as in `kade bench picqer`).
    #[arg(long, default_value_t = 6_000)]
    pub picqer_rate: u32,
    /// Burst of the Picqer rate-limit bucket.
    #[arg(long, default_value_t = 50)]
    pub picqer_burst: u32,
}

#[derive(Debug, Args)]
pub struct BenchIngestArgs {
    /// Distinct signed webhooks fired at the ingress.
    #[arg(long, default_value_t = 20_000)]
    pub webhooks: usize,
    /// Concurrent HTTP/1.1 keep-alive connections sending them.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Products the webhooks are spread over (and the simulator's catalogue size).
    #[arg(long, default_value_t = 1_000)]
    pub products: usize,
    /// Also run against this PostgreSQL server (a fresh schema is created and left for inspection).
    #[arg(long, env = "KADE_BENCH_DATABASE_URL")]
    pub postgres: Option<String>,
    /// Directory for the SQLite files (hub and floor); it decides what an fsync costs.
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
    /// Run Kade's workers and scheduler during the run (default: off, so the figure is the
    /// ingress alone and not the ingress competing with event processing for the cores).
    #[arg(long)]
    pub workers: bool,
    /// Only the ingress run, without the floors and PostgreSQL (for profiling the ingress alone;
    /// the figures are then not comparable to anything measured in the same run).
    #[arg(long)]
    pub ingress_only: bool,
}

#[derive(Debug, Args)]
pub struct BenchPicqerArgs {
    /// Catalogue size for the throughput run (limit lifted).
    #[arg(long, default_value_t = 100_000)]
    pub products: usize,
    /// Catalogue size for the budget run.
    #[arg(long, default_value_t = 50_000)]
    pub budget_products: usize,
    /// Rate limit (per minute) for the budget run. The default keeps Picqer's proportions
    /// (one page per allowed request) at 12x speed, so the run takes seconds, not minutes.
    #[arg(long, default_value_t = 6_000)]
    pub budget_rate: u32,
    /// Burst capacity for the budget run.
    #[arg(long, default_value_t = 50)]
    pub budget_burst: u32,
    /// Repetitions of the throughput run (best is reported).
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
}
