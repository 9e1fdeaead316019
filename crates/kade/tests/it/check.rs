//! `kade check` as an operator runs it: the real binary, a temp `kade.toml`, secrets passed
//! through the environment, and the Picqer simulator (in this process) as the account.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use kade_sim::picqer::{PicqerSimConfig, RunningSim};

use crate::support;

/// Distinctive, so "never printed" is a meaningful assertion.
const API_KEY: &str = "it-check-picqer-key-5f2c81";
const ADMIN_TOKEN: &str = "it-check-admin-token-93be";
const MASTER_KEY: &str = "it-check-master-key-0123456789-abcdef";

/// A temp directory holding one `kade.toml`, removed on drop.
struct ConfigDir(PathBuf);

impl ConfigDir {
    fn new(toml: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kade-it-check-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("kade.toml"), toml).unwrap();
        ConfigDir(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.join("kade.toml")
    }
}

impl Drop for ConfigDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A complete config with one connection, `main`, at `base_url`; secrets come from the environment.
fn config_for(base_url: &str) -> String {
    format!(
        r#"
[server]
public_url = "https://kade.example.com"
admin_token = "env:KADE_IT_ADMIN_TOKEN"

[security]
master_key = "env:KADE_IT_MASTER_KEY"

[picqer.main]
base_url = "{base_url}"
api_key = "env:PICQER_API_KEY"
contact = "kade integration tests"
"#
    )
}

/// A simulator accepting only [`API_KEY`].
async fn sim() -> RunningSim {
    support::sim_with(PicqerSimConfig { api_key: API_KEY.into(), products: 10, ..PicqerSimConfig::default() }).await
}

/// Runs `kade check` with `api_key` as `PICQER_API_KEY`. Blocking work goes to its own thread
/// so the simulator, on this test's runtime, keeps answering.
async fn check(config: &Path, api_key: &str, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kade"));
    cmd.arg("check").arg("--config").arg(config).args(extra);
    for var in
        ["KADE_LISTEN", "KADE_PUBLIC_URL", "KADE_DATABASE_URL", "KADE_ADMIN_TOKEN", "KADE_MASTER_KEY", "KADE_CONFIG"]
    {
        cmd.env_remove(var);
    }
    cmd.env("KADE_IT_ADMIN_TOKEN", ADMIN_TOKEN).env("KADE_IT_MASTER_KEY", MASTER_KEY).env("PICQER_API_KEY", api_key);
    let out: Output = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().expect("kade runs");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    for secret in [api_key, ADMIN_TOKEN, MASTER_KEY] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret), "a secret was printed:\n{stdout}\n{stderr}");
    }
    (out.status.code().expect("exited normally"), stdout, stderr)
}

#[tokio::test]
async fn a_good_key_passes_and_shows_the_webhook_url() {
    let sim = sim().await;
    let warehouses =
        support::client_with(&sim, |c| c.api_key = kade_picqer::ApiKey::new(API_KEY)).warehouses().await.unwrap().len();
    let dir = ConfigDir::new(&config_for(&sim.base_url()));
    let (code, stdout, stderr) = check(&dir.file(), API_KEY, &[]).await;
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("webhook URL   https://kade.example.com/webhooks/picqer/main"), "{stdout}");
    assert!(stdout.contains(&format!("✓ connected: the API key works, {warehouses} warehouses")), "{stdout}");
    assert!(stdout.contains("All checks passed."), "{stdout}");
    // The SQLite default resolves next to the config file.
    assert!(stdout.contains(&format!("sqlite://{}", dir.0.join("kade.db").display())), "{stdout}");
}

#[tokio::test]
async fn a_wrong_key_fails_with_the_unauthorized_message() {
    let sim = sim().await;
    let dir = ConfigDir::new(&config_for(&sim.base_url()));
    let (code, stdout, stderr) = check(&dir.file(), "not-the-right-key-3c9d", &[]).await;
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("✗ Picqer refused the API key: check it under Settings → API keys in Picqer"), "{stdout}");
    // The webhook URL is shown even when the check fails: it is needed to fix things.
    assert!(stdout.contains("https://kade.example.com/webhooks/picqer/main"), "{stdout}");
    assert!(stderr.contains("1 of 1 Picqer connection failed the live check"), "{stderr}");
}

#[tokio::test]
async fn an_unreachable_host_is_reported_as_such() {
    // A port nothing listens on: bind, note it, release it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base_url = format!("http://127.0.0.1:{port}/api/v1");
    let dir = ConfigDir::new(&config_for(&base_url));
    let (code, stdout, stderr) = check(&dir.file(), API_KEY, &[]).await;
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains(&format!("✗ cannot reach {base_url}: connection refused")), "{stdout}");
}

#[tokio::test]
async fn a_wrong_address_is_an_unknown_account() {
    let sim = sim().await;
    let base_url = format!("{}/nope/api/v1", sim.root_url());
    let dir = ConfigDir::new(&config_for(&base_url));
    let (code, stdout, stderr) = check(&dir.file(), API_KEY, &[]).await;
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains(&format!("✗ no Picqer account answers at {base_url}")), "{stdout}");
}

#[tokio::test]
async fn one_failing_connection_fails_the_check_but_all_are_checked() {
    let sim = sim().await;
    let mut toml = config_for(&sim.base_url());
    toml.push_str(&format!(
        "\n[picqer.second]\nbase_url = \"{}/nope/api/v1\"\napi_key = \"env:PICQER_API_KEY\"\n",
        sim.root_url()
    ));
    let dir = ConfigDir::new(&toml);
    let (code, stdout, stderr) = check(&dir.file(), API_KEY, &[]).await;
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("✓ connected"), "{stdout}");
    assert!(stdout.contains("✗ no Picqer account answers"), "{stdout}");
    assert!(stdout.contains("https://kade.example.com/webhooks/picqer/second"), "{stdout}");
    assert!(stderr.contains("1 of 2 Picqer connections failed"), "{stderr}");
}

#[tokio::test]
async fn an_invalid_config_exits_2_naming_every_key() {
    let sim = sim().await;
    let toml = config_for(&sim.base_url()).replace("https://kade.example.com", "ftp://x").replace(
        "api_key = \"env:PICQER_API_KEY\"",
        "api_key = \"env:KADE_IT_UNSET_VAR\"\nsubdomain = \"acme\"\nevnts = []",
    );
    let dir = ConfigDir::new(&toml);
    let (code, stdout, stderr) = check(&dir.file(), API_KEY, &[]).await;
    assert_eq!(code, 2, "stdout:\n{stdout}\nstderr:\n{stderr}");
    for expected in [
        "4 configuration errors",
        "server.public_url: must be an http(s) URL, got \"ftp://x\" (line 3, column 14)",
        "picqer.main: set exactly one of subdomain or base_url",
        "picqer.main.api_key: environment variable KADE_IT_UNSET_VAR is not set",
        "picqer.main.evnts: unknown field `evnts`",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
    assert!(stdout.is_empty(), "{stdout}");
    assert!(support::journal_for(&sim, "GET", "/").is_empty(), "no live call on an invalid config");
}

#[tokio::test]
async fn offline_validates_without_calling_picqer() {
    let sim = sim().await;
    let dir = ConfigDir::new(&config_for(&sim.base_url()));
    let (code, stdout, stderr) = check(&dir.file(), "any-key-offline-77", &["--offline"]).await;
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("live check skipped (--offline)"), "{stdout}");
    assert!(stdout.contains("https://kade.example.com/webhooks/picqer/main"), "{stdout}");
    assert!(sim.journal().is_empty(), "offline made a call: {:?}", sim.journal());
}
