//! Crash safety of automations (issue 5, acceptance 3): `kade serve` is killed with SIGKILL at
//! random moments, over and over, while orders complete and their SMS and e-mail go out; the
//! provider calls are slowed down so that kills land between recording a send's intent and
//! recording the provider's answer. Afterwards: every order got exactly one SMS (an interrupted
//! SMS is settled by a Twilio lookup, never sent twice), no order got two e-mails or two WhatsApp
//! messages, and every e-mail or WhatsApp message whose outcome the provider cannot tell is marked
//! `ambiguous` (documented: not resent; a WhatsApp receipt with its key settles it later).
//!
//! A separate test binary, so it can be run alone: `cargo test -p kade --test crash_automation`.

#![forbid(unsafe_code)]

#[path = "it/support.rs"]
#[allow(dead_code)]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kade_messaging::testing::{SmtpMode, TestSmtpServer};
use kade_picqer::types::{NewOrder, NewOrderLine, ProductFilter, StockChange};
use kade_sim::picqer::PicqerSimConfig;
use kade_sim::picqer::faults::FaultSpec;
use kade_sim::picqer::hooks::HookPolicy;
use serde_json::{Value, json};

use support::{client, sim_with, test_databases};

const ORDERS: usize = 24;
const MIN_KILLS: usize = 12;
const TOKEN: &str = "crash-test-admin-token-123";

struct Rng(u64);

impl Rng {
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo + 1)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn launch(config: &Path, log: &Path, sim_key: &str) -> std::process::Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_kade"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .env("KADE_ADMIN_TOKEN", TOKEN)
        .env("KADE_MASTER_KEY", "a master key for the crash test, long enough")
        .env("PICQER_API_KEY", sim_key)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// The running `kade serve`, killed on drop.
struct Kade(std::process::Child);

impl Kade {
    /// `Child::kill` is SIGKILL on Unix: no shutdown code runs.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Kade {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn messages(base: &str) -> Option<Vec<Value>> {
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/messages?limit=10000"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json::<Value>().await.ok()?["messages"].as_array().cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_around_sending_never_sends_twice() {
    for db in test_databases("crash_auto").await {
        run(&db).await;
    }
}

async fn run(db: &str) {
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rng = Rng(seed);
    let backend = if db.starts_with("postgres") { "postgres" } else { "sqlite" };
    let policy = HookPolicy {
        timeout: Duration::from_secs(5),
        retry_schedule: (0..40).map(|i| Duration::from_millis(200 + 20 * i)).collect(),
        deactivate_after: 0,
        failure_window: Duration::from_secs(3600),
    };
    let sim =
        sim_with(PicqerSimConfig { products: 5, rate_limit_per_minute: 0, hook_policy: policy, ..Default::default() })
            .await;
    let tw = kade_sim::twilio::start(Default::default(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    // Every send takes a while, so kills land while it is in flight.
    tw.add_fault(FaultSpec {
        method: Some("POST".into()),
        path: "/2010-04-01".into(),
        latency_ms: Some(150),
        status: None,
        drop_after_commit: false,
        times: Some(0),
    })
    .unwrap();
    let mail = TestSmtpServer::start(SmtpMode::Accept).expect("aiosmtpd starts");
    let wa = kade_sim::whatsapp::start(Default::default(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    wa.add_fault(FaultSpec {
        method: Some("POST".into()),
        path: "/".into(),
        latency_ms: Some(150),
        status: None,
        drop_after_commit: false,
        times: Some(0),
    })
    .unwrap();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let dir = std::env::temp_dir().join(format!("kade-crash-auto-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    eprintln!("automation crash test on {backend}: config and kade.log in {}", dir.display());
    let twc = tw.config();
    let wac = wa.config();
    wa.set_callback_url(Some(format!("{base}/webhooks/whatsapp")));
    let config = dir.join("kade.toml");
    std::fs::write(
        &config,
        format!(
            r#"[server]
listen = "127.0.0.1:{port}"
public_url = "{base}"
admin_token = "env:KADE_ADMIN_TOKEN"

[database]
url = "{db}"

[security]
master_key = "env:KADE_MASTER_KEY"

[picqer.main]
base_url = "{picqer}"
api_key = "env:PICQER_API_KEY"
events = ["orders.created"]

[smtp]
host = "127.0.0.1"
port = {smtp}
tls = "none"
from = "shop@example.com"
timeout_seconds = 5

[twilio]
base_url = "{twilio}"
account_sid = "{sid}"
auth_token = "{token}"
from = "{from}"

[whatsapp]
base_url = "{wa_base}"
phone_number_id = "{wa_pnid}"
access_token = "{wa_token}"
app_secret = "{wa_secret}"

[[automation]]
name = "sms"
trigger = "orders.completed"
channel = "sms"
body = "Order {{{{order_number}}}} is complete"

[[automation]]
name = "wa"
trigger = "orders.completed"
channel = "whatsapp"
template = "review_request"
language = "nl"
params = ["{{{{customer_name}}}}", "{{{{order_number}}}}"]

[[automation]]
name = "mail"
trigger = "orders.completed"
channel = "email"
subject = "Order {{{{order_number}}}}"
body = "Hi {{{{customer_name}}}}"
"#,
            picqer = sim.base_url(),
            smtp = mail.port(),
            twilio = tw.base_url(),
            sid = twc.account_sid,
            token = twc.auth_token,
            from = twc.from_numbers[0],
            wa_base = wa.base_url(),
            wa_pnid = wac.phone_number_id,
            wa_token = wac.access_token,
            wa_secret = wac.app_secret,
        ),
    )
    .unwrap();
    let log = dir.join("kade.log");
    let mut kade = Kade(launch(&config, &log, sim.api_key()));
    let started = Instant::now();
    while messages(&base).await.is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "kade serve did not come up; see {}", log.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Orders, processed, waiting to be picked and shipped.
    let api = client(&sim);
    let product = api.products(&ProductFilter::default()).collect_all().await.unwrap().remove(0);
    for w in api.warehouses().await.unwrap() {
        let change = StockChange::Absolute { amount: 1000, reason: "crash test".into() };
        api.change_stock(product.idproduct, w.idwarehouse, &change).await.unwrap();
    }
    let mut ids = Vec::new();
    for i in 0..ORDERS {
        let order = api
            .create_order(&NewOrder {
                reference: Some(format!("CRASH-{i}")),
                emailaddress: Some(format!("customer{i}@example.nl")),
                telephone: Some(format!("06{:08}", 10_000_000 + i)),
                deliveryname: Some(format!("Customer {i}")),
                deliverycountry: Some("NL".into()),
                invoicename: Some(format!("Customer {i}")),
                invoicecountry: Some("NL".into()),
                products: vec![NewOrderLine::by_id(product.idproduct, 1)],
                ..Default::default()
            })
            .await
            .unwrap();
        api.process_order(order.idorder).await.unwrap();
        ids.push(order.idorder.0);
    }

    // The driver completes the orders one by one; the killer kills and restarts Kade.
    let driver = {
        let (sim_root, ids) = (sim.root_url(), ids.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for id in ids {
                for (path, body) in [("pick", json!({})), ("ship", json!({}))] {
                    let r = http.post(format!("{sim_root}/_sim/orders/{id}/{path}")).json(&body).send().await.unwrap();
                    assert!(r.status().is_success(), "{path} {id}: {}", r.status());
                }
                tokio::time::sleep(Duration::from_millis(60)).await;
            }
        })
    };
    let mut kills = 0;
    while kills < MIN_KILLS || !driver.is_finished() {
        tokio::time::sleep(Duration::from_millis(rng.between(80, 500))).await;
        kade.kill();
        kills += 1;
        kade = Kade(launch(&config, &log, sim.api_key()));
    }
    driver.await.unwrap();

    // Let everything land: two sends per order, none still open.
    let settled = Instant::now();
    let rows = loop {
        sim.hooks().settle().await;
        if let Some(rows) = messages(&base).await {
            let open = rows
                .iter()
                .filter(|r| ["scheduled", "sending", "in_doubt"].contains(&r["state"].as_str().unwrap_or("")))
                .count();
            if rows.len() == 3 * ORDERS && open == 0 {
                break rows;
            }
        }
        assert!(settled.elapsed() < Duration::from_secs(180), "sends did not settle; see {}", log.display());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // SMS: exactly one per order, all settled as sent (or delivered).
    let mut sms: BTreeMap<String, usize> = BTreeMap::new();
    for m in tw.messages() {
        *sms.entry(m.body.clone()).or_default() += 1;
    }
    let doubled: Vec<_> = sms.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "SMS sent twice: {doubled:?}");
    assert_eq!(sms.len(), ORDERS, "one SMS per order");
    let by_rule = |rule: &str| rows.iter().filter(|r| r["rule"] == rule).cloned().collect::<Vec<_>>();
    for r in by_rule("sms") {
        assert!(["sent", "delivered"].contains(&r["state"].as_str().unwrap()), "{r}");
    }

    // E-mail: never twice; a send SMTP cannot vouch for is ambiguous, and it went out at most once.
    let mut mails: BTreeMap<String, usize> = BTreeMap::new();
    for m in mail.messages() {
        *mails.entry(m.subject.clone()).or_default() += 1;
    }
    let doubled: Vec<_> = mails.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "e-mail sent twice: {doubled:?}");
    let mut ambiguous = 0;
    for r in by_rule("mail") {
        match r["state"].as_str().unwrap() {
            "sent" => {}
            "ambiguous" => ambiguous += 1,
            other => panic!("unexpected e-mail state {other}: {r}"),
        }
    }
    // WhatsApp: never twice; without a lookup, an interrupted send is ambiguous until a receipt
    // carrying its key settles it.
    let mut was: BTreeMap<String, usize> = BTreeMap::new();
    for m in wa.messages() {
        *was.entry(m.params.get(1).cloned().unwrap_or_default()).or_default() += 1;
    }
    let doubled: Vec<_> = was.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "WhatsApp sent twice: {doubled:?}");
    let mut wa_ambiguous = 0;
    for r in by_rule("wa") {
        match r["state"].as_str().unwrap() {
            "sent" | "delivered" => {}
            "ambiguous" => wa_ambiguous += 1,
            other => panic!("unexpected WhatsApp state {other}: {r}"),
        }
    }
    let interrupted = rows
        .iter()
        .filter(|r| r["reason"].as_str().is_some_and(|s| s.contains("interrupted") || s.contains("lookup")))
        .count();
    let pid = kade.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let _ = kade.0.wait();
    println!(
        "automation crash test on {backend}: {kills} SIGKILLs, {ORDERS} orders, {} SMS and {} e-mails sent, \
         {} WhatsApp messages, {interrupted} sends found interrupted and resolved, {ambiguous} e-mails and \
         {wa_ambiguous} WhatsApp messages ambiguous (not resent) (seed {seed})",
        tw.messages().len(),
        mail.messages().len(),
        wa.messages().len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
