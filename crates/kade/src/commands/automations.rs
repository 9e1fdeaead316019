//! `kade automations list|preview` and `kade messages`, plus building the automation setup
//! (rules + providers) that `kade serve` hands to the hub.

use std::sync::Arc;

use anyhow::Context as _;
use kade_engine::automation::{Automations, CallbackKeys};
use kade_messaging::{Messenger, WebhookOptions};
use kade_store::{SendFilter, Store, send_state};
use serde_json::Value;

use crate::cli::{AutomationsListArgs, AutomationsPreviewArgs, MessagesArgs};
use crate::config::{self, Config};

fn load(path: &std::path::Path) -> anyhow::Result<Config> {
    match config::load(path) {
        Ok(cfg) => Ok(cfg),
        Err(errors) => anyhow::bail!("{} is not valid:\n{errors}", path.display()),
    }
}

/// The rules and providers of `cfg`, or `None` when it has neither.
pub fn setup(cfg: &Config) -> anyhow::Result<Option<Automations>> {
    let m = &cfg.messaging;
    if cfg.automations.is_empty() && m.smtp.is_none() && m.whatsapp.is_none() && m.twilio.is_none() {
        return Ok(None);
    }
    let messenger = Messenger::new(m.smtp.clone(), m.whatsapp.clone(), m.twilio.clone())
        .context("configuring the message providers")?
        .with_webhook_options(WebhookOptions { allow_private_targets: m.allow_private_webhooks, ..Default::default() })
        .context("configuring outbound webhooks")?;
    let callbacks = CallbackKeys {
        whatsapp_app_secret: m.whatsapp.as_ref().map(|w| w.app_secret.clone()),
        whatsapp_verify_token: m.whatsapp_verify_token.clone(),
        twilio_auth_token: m.twilio.as_ref().map(|t| t.auth_token.clone()),
        twilio_status_url: m.twilio.as_ref().and_then(|t| t.status_callback.clone()),
    };
    Ok(Some(Automations {
        rules: cfg.automations.clone(),
        messenger: Arc::new(messenger),
        default_country: m.default_country.clone(),
        callbacks,
    }))
}

pub fn list(args: AutomationsListArgs) -> anyhow::Result<()> {
    let cfg = load(&args.config)?;
    if cfg.automations.is_empty() {
        println!("no [[automation]] rules in {}", args.config.display());
        return Ok(());
    }
    for rule in &cfg.automations {
        let d = kade_server::automation::describe(rule);
        println!("{} — {} → {}", rule.name, rule.trigger.name(), rule.action.channel());
        let conditions = d["conditions"].as_array().map(|c| c.iter().filter_map(Value::as_str).collect::<Vec<_>>());
        if let Some(c) = conditions.filter(|c| !c.is_empty()) {
            println!("  when: {}", c.join(" and "));
        }
        if rule.delay_ms() > 0 {
            println!("  wait: {}", human(rule.delay_ms()));
        }
        if let Some(q) = rule.quiet_hours {
            println!("  quiet hours: {q:?}");
        }
        if let Some(c) = rule.cap {
            println!("  cap: {} per {}", c.max, human(c.period_ms));
        }
        if let Some(action) = d["action"].as_object() {
            for (k, v) in action {
                println!("  {k}: {}", v.to_string().replace("\\n", "\n    "));
            }
        }
    }
    Ok(())
}

fn human(ms: i64) -> String {
    let (d, h, m) = (ms / 86_400_000, (ms / 3_600_000) % 24, (ms / 60_000) % 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d}d"));
    }
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 || parts.is_empty() {
        parts.push(format!("{m}m"));
    }
    parts.join(" ")
}

pub async fn preview(args: AutomationsPreviewArgs) -> anyhow::Result<()> {
    let cfg = load(&args.config)?;
    let rule = cfg.automations.iter().find(|r| r.name == args.rule).with_context(|| {
        let names: Vec<&str> = cfg.automations.iter().map(|r| r.name.as_str()).collect();
        format!("there is no rule {:?} (rules: {})", args.rule, names.join(", "))
    })?;
    let (event, data) = if let Some(id) = args.event_id {
        let store = Store::open(&cfg.database.url)
            .await
            .with_context(|| format!("opening the database {}", cfg.database.redacted_url()))?;
        let ev = store.event(id).await?.with_context(|| format!("there is no inbox event {id}"))?;
        store.close().await;
        let body: Value = serde_json::from_slice(&ev.body).context("the recorded event is not JSON")?;
        (ev.event, body.get("data").cloned().unwrap_or(Value::Null))
    } else {
        let path = args.sample.context("give --event-id or --sample")?;
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let v: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
        match (v.get("event").and_then(Value::as_str), v.get("data")) {
            (Some(e), Some(d)) => (args.event.unwrap_or_else(|| e.to_string()), d.clone()),
            _ => (args.event.unwrap_or_else(|| rule.trigger.name().to_string()), v),
        }
    };
    let p = kade_engine::automation::preview(rule, &event, &data, &cfg.messaging.default_country);
    println!("rule {} on {event}: {}", rule.name, if p["fires"] == true { "triggers" } else { "does NOT trigger" });
    match p["failed_condition"].as_str() {
        Some(c) => println!("conditions: `{c}` does not hold — nothing would be sent"),
        None => println!("conditions: all hold"),
    }
    match (p["recipient"].as_str(), p["skipped_reason"].as_str()) {
        (Some(to), _) => println!("{} to: {to}", p["channel"].as_str().unwrap_or_default()),
        (_, Some(why)) => println!("would be skipped: {why}"),
        _ => {}
    }
    if let Some(s) = p["subject"].as_str() {
        println!("subject: {s}");
    }
    println!("---\n{}\n---", p["body"].as_str().unwrap_or_default());
    Ok(())
}

pub async fn messages(args: MessagesArgs) -> anyhow::Result<()> {
    if let Some(s) = &args.state {
        anyhow::ensure!(
            send_state::ALL.contains(&s.as_str()),
            "--state must be one of {:?}, not {s:?}",
            send_state::ALL
        );
    }
    let cfg = load(&args.config)?;
    let store = Store::open(&cfg.database.url)
        .await
        .with_context(|| format!("opening the database {}", cfg.database.redacted_url()))?;
    let filter = SendFilter {
        rule: args.rule,
        state: args.state,
        channel: args.channel,
        recipient: args.recipient,
        limit: Some(args.limit),
    };
    let rows = store.sends(&filter).await?;
    store.close().await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        println!("no messages");
    }
    for r in rows {
        let why = [r.error_code.as_deref(), r.reason.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(": ");
        println!(
            "{:>6}  {:<16} {:<8} {:<20} {:<28} {}{}",
            r.id,
            r.state,
            r.channel,
            r.rule,
            r.recipient.as_deref().unwrap_or("-"),
            r.entity,
            if why.is_empty() { String::new() } else { format!("  ({why})") }
        );
    }
    Ok(())
}
