//! Crash safety (issue 3, acceptance 2): `kade serve` is killed with SIGKILL at random moments,
//! over and over, while the Picqer simulator sends more than 10,000 signed webhooks; afterwards
//! every event Kade acknowledged is in its inbox (none lost) and was processed exactly once (none
//! doubled), and the mirror shows Picqer's final stock.
//!
//! A separate test binary, so it can be run alone: `cargo test -p kade --test crash`.
//!
//! How "accepted" is known independently of Kade: the hooks are addressed to a small proxy in
//! this test (a fixed port for the whole run), which forwards each delivery to whichever `kade
//! serve` is alive and remembers, per body, whether Kade answered 200. A delivery that meets a
//! dead Kade fails and the simulator retries it (short retry schedule), so in the end every
//! emitted webhook has been acknowledged, most once, some several times (duplicates Kade must
//! recognise).

#![forbid(unsafe_code)]

#[path = "crash/proxy.rs"]
mod proxy;
#[path = "it/support.rs"]
#[allow(dead_code)]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kade_sim::picqer::hooks::HookPolicy;
use kade_sim::picqer::{PicqerSimConfig, RunningSim};
use serde_json::Value;

use proxy::sha256;
use support::{sim_with, test_databases};

/// Stock changes made through the simulator; each emits two webhooks (stock, free stock).
const CHANGES: usize = 5_000;
/// Products the changes spread over: few enough that bursts coalesce, enough for parallel work.
const PRODUCTS: usize = 20;
const MIN_KILLS: usize = 20;
pub(crate) const TOKEN: &str = "crash-test-admin-token-123";

/// A tiny xorshift, seeded from the clock (and printed), so a failing run can be told apart.
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

/// Starts `kade serve`, its log appended to `log` (kept for a failing run).
fn launch(config: &str, log: &Path, sim_key: &str) -> std::process::Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_kade"))
        .args(["serve", "--config", config])
        .env("KADE_ADMIN_TOKEN", TOKEN)
        .env("KADE_MASTER_KEY", "a master key for the crash test, long enough")
        .env("PICQER_API_KEY", sim_key)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// The running `kade serve`, killed on drop so a failing test leaves no process behind.
struct Kade {
    child: std::process::Child,
    config: String,
    log: std::path::PathBuf,
    sim_key: String,
}

impl Kade {
    fn spawn(config: &Path, log: &Path, sim_key: &str) -> Kade {
        let config = config.to_str().unwrap().to_string();
        let (log, sim_key) = (log.to_path_buf(), sim_key.to_string());
        let child = launch(&config, &log, &sim_key);
        Kade { child, config, log, sim_key }
    }

    fn restart(&mut self) {
        self.child = launch(&self.config, &self.log, &self.sim_key);
    }

    /// `Child::kill` is SIGKILL on Unix: no shutdown code runs.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Kade {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn get_json(url: &str) -> Option<Value> {
    let r = reqwest::Client::new().get(url).bearer_auth(TOKEN).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json().await.ok()
}

/// Polls `check` every 100 ms until it holds; panics with `what` after `limit`.
async fn wait_until<F: AsyncFnMut() -> bool>(limit: Duration, what: &str, mut check: F) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sim_stock(sim: &RunningSim, id: i64) -> Vec<Value> {
    let url = format!("{}/products/{id}/stock", sim.base_url());
    let r = reqwest::Client::new().get(url).basic_auth(sim.api_key(), Some("")).send().await.unwrap();
    r.json::<Vec<Value>>().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_nothing_and_doubles_nothing() {
    for db in test_databases("crash").await {
        run(&db).await;
    }
}

async fn run(db: &str) {
    let started = Instant::now();
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rng = Rng(seed);
    let backend = if db.starts_with("postgres") { "postgres" } else { "sqlite" };
    let policy = HookPolicy {
        timeout: Duration::from_secs(5),
        retry_schedule: (0..20).map(|i| Duration::from_millis(200 + 15 * i)).collect(),
        deactivate_after: 0,
        failure_window: Duration::from_secs(3600),
    };
    let sim = sim_with(PicqerSimConfig {
        products: PRODUCTS,
        rate_limit_per_minute: 0,
        hook_policy: policy,
        ..PicqerSimConfig::default()
    })
    .await;

    // The proxy: the one address the hooks know, alive for the whole test.
    let kade_port = free_port();
    let (proxy_url, seen, gate, watcher) = proxy::start(kade_port).await;

    let dir = std::env::temp_dir().join(format!("kade-crash-{}-{kade_port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    eprintln!("crash test on {backend}: config and kade.log in {} (kept if the test fails)", dir.display());
    let config = dir.join("kade.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{kade_port}\"\npublic_url = \"{proxy_url}\"\n\
             admin_token = \"env:KADE_ADMIN_TOKEN\"\n\n[database]\nurl = \"{db}\"\n\n\
             [security]\nmaster_key = \"env:KADE_MASTER_KEY\"\n\n[picqer.main]\nbase_url = \"{}\"\n\
             api_key = \"env:PICQER_API_KEY\"\n\
             events = [\"products.free_stock_changed\", \"products.stock_changed\"]\n",
            sim.base_url()
        ),
    )
    .unwrap();
    let log = dir.join("kade.log");
    let mut kade = Kade::spawn(&config, &log, sim.api_key());
    let base = format!("http://127.0.0.1:{kade_port}");
    wait_until(Duration::from_secs(60), "the first full sync is done", async || {
        get_json(&format!("{base}/api/v1/connections/main/sync"))
            .await
            .is_some_and(|v| v["products"] == PRODUCTS as i64)
    })
    .await;
    let hooks_before = sim.hooks().list();
    assert_eq!(hooks_before.len(), 2, "one hook per configured event: {hooks_before:?}");

    // Products and one warehouse each, from the simulator's own API.
    let list = reqwest::Client::new()
        .get(format!("{}/products?offset=0", sim.base_url()))
        .basic_auth(sim.api_key(), Some(""))
        .send()
        .await
        .unwrap()
        .json::<Vec<Value>>()
        .await
        .unwrap();
    let mut targets = Vec::new();
    for p in list.iter().take(PRODUCTS) {
        let id = p["idproduct"].as_i64().unwrap();
        let wh = sim_stock(&sim, id).await[0]["idwarehouse"].as_i64().unwrap();
        targets.push((id, wh));
    }

    // The driver: positive changes only, so every emitted body is distinct.
    let driver = {
        let (root, targets, seed) = (sim.root_url(), targets.clone(), seed);
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut rng = Rng(seed.rotate_left(17) | 1);
            for i in 0..CHANGES {
                let (id, wh) = targets[i % targets.len()];
                let change = rng.between(1, 3);
                let r = http
                    .post(format!("{root}/_sim/products/{id}/stock"))
                    .json(&serde_json::json!({"idwarehouse": wh, "change": change}))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "stock change answered {}", r.status());
                if i % 50 == 49 {
                    // A steady stream rather than one burst, so kills land throughout.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        })
    };

    // The killer: at random moments 50–400 ms apart, at least MIN_KILLS times, and on until
    // the driver is done, restarting each time with the same config and database.
    let mut kills = 0;
    while kills < MIN_KILLS || !driver.is_finished() {
        tokio::time::sleep(Duration::from_millis(rng.between(50, 400))).await;
        kade.kill();
        kills += 1;
        // After the kill, so a probe of the dead incarnation cannot open the gate for the next.
        {
            let mut g = gate.lock().unwrap();
            g.generation += 1;
            g.ready = false;
        }
        kade.restart();
    }
    driver.await.unwrap();

    // Let everything land: every emitted webhook acknowledged, the queue empty.
    let emitted = 2 * CHANGES;
    wait_until(Duration::from_secs(150), "every emitted webhook was acknowledged", async || {
        sim.hooks().settle().await;
        let seen = seen.lock().unwrap();
        seen.by_body.len() >= emitted && seen.by_body.values().all(|t| t.ok > 0)
    })
    .await;
    wait_until(Duration::from_secs(150), "Kade's queue is empty", async || {
        get_json(&format!("{base}/readyz")).await.is_some_and(|v| v["jobs"]["queued"] == 0 && v["jobs"]["running"] == 0)
    })
    .await;
    let hooks_after = sim.hooks().list();
    let pid = kade.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = kade.child.wait().unwrap();
    assert!(status.success(), "kade serve did not stop cleanly: {status}");

    // What the simulator and the proxy saw.
    let (attempts, duplicates, accepted_hashes) = {
        let seen = seen.lock().unwrap();
        let attempts: u32 = seen.by_body.values().map(|t| t.attempts).sum::<u32>() + seen.held_back;
        let duplicates: u32 = seen.by_body.values().map(|t| t.duplicate).sum();
        let hashes: Vec<[u8; 32]> = seen.by_body.iter().filter(|(_, t)| t.ok > 0).map(|(h, _)| *h).collect();
        (attempts, duplicates, hashes)
    };
    let accepted = accepted_hashes.len();

    // What Kade kept.
    let store = kade_store::Store::open(db).await.unwrap();
    let events = store.events(None, 1_000_000).await.unwrap();
    let mut inbox: BTreeMap<[u8; 32], i64> = BTreeMap::new();
    for e in &events {
        assert!(inbox.insert(sha256(&e.body), e.id).is_none(), "event {} stored twice", e.id);
    }
    let missing = accepted_hashes.iter().filter(|h| !inbox.contains_key(*h)).count();
    assert_eq!(missing, 0, "{missing} acknowledged webhooks are not in the inbox (lost)");
    assert_eq!(events.len(), accepted, "the inbox holds exactly the acknowledged webhooks");
    assert_eq!(accepted, emitted, "every emitted webhook was accepted");
    assert_eq!(store.count_unprocessed_events().await.unwrap(), 0, "every accepted event was processed");
    let effects = store.effects_per_event().await.unwrap();
    let doubled: Vec<_> = effects.iter().filter(|(_, n)| **n != 1).collect();
    assert!(doubled.is_empty(), "events with more than one effect: {doubled:?}");
    for e in &events {
        assert_eq!(effects.get(&e.id), Some(&1), "event {} has no effect record", e.id);
    }
    assert_eq!(effects.len(), events.len(), "effects name only inbox events");
    for &(id, _) in &targets {
        let mirror = store.product("main", id).await.unwrap().expect("mirrored");
        let mut want: Vec<(i64, i64, i64)> = sim_stock(&sim, id)
            .await
            .iter()
            .map(|s| {
                (s["idwarehouse"].as_i64().unwrap(), s["stock"].as_i64().unwrap(), s["freestock"].as_i64().unwrap())
            })
            .collect();
        let mut got: Vec<(i64, i64, i64)> =
            mirror.stock.iter().map(|s| (s.idwarehouse, s.stock, s.freestock)).collect();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "mirror stock of product {id} differs from Picqer's");
    }
    let ids = |h: &[kade_sim::picqer::hooks::Hook]| h.iter().map(|h| (h.idhook, h.active)).collect::<Vec<_>>();
    assert_eq!(ids(&hooks_after), ids(&hooks_before), "restarts kept the same hooks, all active");
    store.close().await;

    println!(
        "crash test on {backend}: {kills} SIGKILLs, {CHANGES} stock changes, {emitted} webhooks emitted, \
         {attempts} delivery attempts, {accepted} accepted, {duplicates} re-sent after a cut-off answer and \
         recognised as duplicates, \
         {} events processed exactly once, in {:.1?} (seed {seed})",
        events.len(),
        started.elapsed()
    );
    // How many restarts found jobs the killed process had left running (SQLite logs it when it
    // takes them over; on PostgreSQL their leases expire silently).
    let takeovers = std::fs::read_to_string(&log).unwrap_or_default().matches("taking over jobs left running").count();
    println!("  {takeovers} restarts took over jobs a killed process had left running");
    watcher.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
