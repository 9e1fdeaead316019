//! `kade agent ask`: one customer question answered from the configured Picqer account (orders,
//! live) and the mirror in the configured database (stock), exactly as `POST /api/v1/agent/ask`
//! would answer it. Useful to try the agent and to script it.

use anyhow::{Context as _, bail};
use kade_agent::{Agent, Channel, Lang, Question};
use kade_picqer::PicqerClient;
use kade_store::Store;

use crate::cli::AgentAskArgs;
use crate::config;

pub async fn ask(args: AgentAskArgs) -> anyhow::Result<()> {
    let cfg = match config::load(&args.config) {
        Ok(cfg) => cfg,
        Err(errors) => bail!("{} is not valid:\n{errors}", args.config.display()),
    };
    let channel = Channel::parse(&args.channel)
        .with_context(|| format!("--channel {:?}: use whatsapp, sms, email, chat, helpdesk or api", args.channel))?;
    let language = match &args.language {
        Some(l) => Some(Lang::parse(l).with_context(|| format!("--language {l:?}: use en or nl"))?),
        None => None,
    };
    let (name, conn) = match &args.connection {
        Some(n) => (n.clone(), cfg.picqer.get(n).with_context(|| format!("no [picqer.{n}] in the configuration"))?),
        None if cfg.picqer.len() == 1 => {
            cfg.picqer.iter().next().map(|(n, c)| (n.clone(), c)).context("no connection")?
        }
        None => bail!("several Picqer connections are configured; choose one with --connection"),
    };
    let store = Store::open(&cfg.database.url)
        .await
        .with_context(|| format!("opening the database {}", cfg.database.redacted_url()))?;
    if store.count_products(&name).await? == 0 {
        eprintln!(
            "note: the mirror of {name:?} is empty; stock questions need `kade serve` to have synced the catalogue"
        );
    }
    let client = PicqerClient::new(conn.client_config())?;
    let agent = Agent::new(cfg.agent.clone(), client, store.clone(), &name)?;
    let q = Question { message: args.message, channel, from: args.from, language };
    let reply = agent.ask(&q).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reply)?);
    } else {
        println!("{}", reply.answer);
    }
    store.close().await;
    Ok(())
}
