//! A PrestaShop shop configured in `kade.toml`, run by the real binary: `kade check` verifies
//! the webservice key and prints the shop's URLs, `kade serve` connects the shop and a placed
//! shop order reaches the Picqer simulator.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use kade_sim::prestashop::{NotifyConfig, NotifyMode};

use crate::prestashop_rig::{SECRET, order, product, shop_sim};
use crate::support::{KillOnDrop, client, sim, test_databases};

const TOKEN: &str = "serve-ps-admin-token-123";
const MASTER: &str = "a master key for the prestashop serve test";
const FULL_SYNC_TOKEN: &str = "cron-token-kept-secret-77";

fn write_config(tag: &str, port: u16, db: &str, picqer: &str, shop: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kade-serve-ps-{tag}-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("kade.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\nadmin_token = \"env:KADE_ADMIN_TOKEN\"\n\n\
             [database]\nurl = \"{db}\"\n\n[security]\nmaster_key = \"env:KADE_MASTER_KEY\"\n\n\
             [picqer.main]\nbase_url = \"{picqer}\"\napi_key = \"env:PICQER_API_KEY\"\n\
             events = [\"orders.status_changed\", \"orders.completed\", \"picklists.shipments.created\", \"products.free_stock_changed\"]\n\n\
             [prestashop.webshop]\npicqer = \"main\"\nshop_url = \"{shop}\"\nws_key = \"env:PS_WS_KEY\"\n\
             notify_secret = \"env:PS_NOTIFY_SECRET\"\nprefix = \"KD\"\nfull_sync_token = \"env:PS_FULL_SYNC\"\n\
             poll_seconds = 0\n\n[prestashop.webshop.roles]\ncreate = [2]\n"
        ),
    )
    .unwrap();
    config
}

fn kade(args: &[&str], config: &Path, picqer_key: &str, ws_key: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kade"));
    cmd.args(args).arg("--config").arg(config);
    for var in ["KADE_LISTEN", "KADE_PUBLIC_URL", "KADE_DATABASE_URL", "KADE_ADMIN_TOKEN", "KADE_MASTER_KEY"] {
        cmd.env_remove(var);
    }
    cmd.env("KADE_ADMIN_TOKEN", TOKEN)
        .env("KADE_MASTER_KEY", MASTER)
        .env("PICQER_API_KEY", picqer_key)
        .env("PS_WS_KEY", ws_key)
        .env("PS_NOTIFY_SECRET", SECRET)
        .env("PS_FULL_SYNC", FULL_SYNC_TOKEN);
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn check_verifies_the_shop_key_and_prints_its_urls() {
    let db = test_databases("check_ps").await.remove(0);
    let picqer = sim(5).await;
    let shop = shop_sim(1).await;
    let port = free_port();
    let config = write_config("check", port, &db, &picqer.base_url(), &shop.root_url());
    let run = |ws_key: String| {
        let mut cmd = kade(&["check"], &config, picqer.api_key(), &ws_key);
        async move { tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().unwrap() }
    };
    let out = run(shop.ws_key().to_owned()).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("PrestaShop shop \"webshop\""), "{stdout}");
    assert!(stdout.contains(&format!("notify URL    http://127.0.0.1:{port}/webhooks/prestashop/webshop")), "{stdout}");
    assert!(
        stdout.contains(&format!("full sync URL http://127.0.0.1:{port}/prestashop/webshop/stock-sync?token=***")),
        "{stdout}"
    );
    assert!(stdout.contains("✓ connected: the webservice key works"), "{stdout}");
    assert!(shop.journal().iter().any(|e| e.path == "/api/orders"), "one live call to the shop");

    // A key the shop does not know: the live check fails, with the shop's answer, exit code 1.
    let out = run("ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ".into()).await;
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("✗") && stdout.contains("401"), "{stdout}");
    assert!(stderr.contains("1 of 2 connections failed the live check"), "{stderr}");
    for secret in [FULL_SYNC_TOKEN, SECRET, shop.ws_key(), TOKEN, MASTER] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret), "{secret} printed");
    }

    // A broken section: exit code 2 and the key path with its line.
    std::fs::write(&config, std::fs::read_to_string(&config).unwrap().replace("prefix = \"KD\"", "prefix = \"KADE\""))
        .unwrap();
    let out = run(shop.ws_key().to_owned()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("prestashop.webshop.prefix: the prefix must be 1 to 3 characters long")
            && stderr.contains("(line "),
        "{stderr}"
    );
}

#[tokio::test]
async fn serve_connects_the_configured_shop_and_its_orders_reach_picqer() {
    let db = test_databases("serve_ps").await.remove(0);
    let picqer = sim(10).await;
    let code = {
        let page = client(&picqer).products(&Default::default()).next_page().await.unwrap().unwrap();
        page[0].productcode.clone()
    };
    let shop = shop_sim(41).await;
    shop.add_product(&product(&code, 8));
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    shop.configure_notify(Some(NotifyConfig {
        url: format!("{base}/webhooks/prestashop/webshop"),
        secret: SECRET.into(),
        mode: NotifyMode::Normal,
    }));
    let config = write_config("serve", port, &db, &picqer.base_url(), &shop.root_url());
    let mut cmd = kade(&["serve"], &config, picqer.api_key(), shop.ws_key());
    let _child = KillOnDrop(cmd.stdout(Stdio::null()).spawn().unwrap());

    // The shop is connected once its full-sync URL answers 401 (wrong token) instead of 404.
    let mut connected = false;
    for _ in 0..300 {
        let url = format!("{base}/prestashop/webshop/stock-sync?token=wrong");
        if let Ok(r) = reqwest::Client::new().post(url).send().await
            && r.status() == 401
        {
            connected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(connected, "kade serve did not connect the shop from kade.toml");

    let id = shop.place_order(&order(&[(&code, 2)], "SERVEORDR")).unwrap();
    assert_eq!(id, 41);
    let api = client(&picqer);
    let mut found = Vec::new();
    for _ in 0..300 {
        found = api.orders_by_reference("KD #41 / SERVEORDR").await.unwrap();
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(found.len(), 1, "the shop order reached Picqer through kade serve");
    let o = api.order(found[0].idorder).await.unwrap();
    assert_eq!(o.products.iter().map(|l| (l.productcode.clone(), l.amount)).collect::<Vec<_>>(), vec![(code, 2)]);
    // The right token queues the full stock sync.
    let r = reqwest::Client::new()
        .post(format!("{base}/prestashop/webshop/stock-sync?token={FULL_SYNC_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);

    // `kade prestashop hooks`: all active; one deactivated in Picqer → exit 1; --repair heals it.
    let hooks_cli = |extra: &'static [&'static str]| {
        let mut cmd = kade(&["prestashop", "hooks", "webshop"], &config, picqer.api_key(), shop.ws_key());
        cmd.args(extra);
        async move { tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().unwrap() }
    };
    let out = hooks_cli(&[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("✓ all hooks active") && stdout.contains("orders.status_changed"), "{stdout}");
    let hook = api.hooks().await.unwrap().into_iter().find(|h| h.event == "orders.completed" && h.active).unwrap();
    crate::support::control(
        &picqer,
        "POST",
        &format!("/_sim/hooks/{}/deactivate", hook.idhook.0),
        serde_json::json!({}),
    )
    .await;
    let out = hooks_cli(&[]).await;
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("inactive") && stderr.contains("--repair"), "{stdout}{stderr}");
    let out = hooks_cli(&["--repair"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("reactivated: {}", hook.idhook.0)), "{stdout}");
    assert!(api.hooks().await.unwrap().iter().any(|h| h.idhook == hook.idhook && h.active));
}
