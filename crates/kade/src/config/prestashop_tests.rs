//! `[prestashop.NAME]`: every option read, defaults, secrets, and each mistake named by key path
//! and line.

use std::time::Duration;

use kade_core::Secret;
use kade_core::picqer::PicqerStatus;
use kade_core::prestashop::StatusRule;

use super::tests::{MINIMAL, assert_has, base_env, errors, ok, parse};

const WS_KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// A shop with every option set (secrets from the environment).
fn full() -> String {
    format!(
        r#"{MINIMAL}
[prestashop.dev-shop]
picqer = "main"
shop_url = "https://shop.example/"
ws_key = "env:PS_WS_KEY"
notify_secret = "env:PS_NOTIFY"
prefix = "DEV"
tags = ["VIP", "Webshop"]
use_shop_price = false
create_missing_products = true
allocate_concept = true
send_status_email = false
stock_sync = true
full_stock_on_webhook = true
full_sync_token = "env:PS_TOKEN"
poll_seconds = 60
requests_per_second = 8
burst = 30

[prestashop.dev-shop.roles]
create = [2, 3, 10]
process = [3]
cancel = [6, 8]

[[prestashop.dev-shop.status_map]]
when = 3
picqer = "processing"
then = 9

[[prestashop.dev-shop.status_map]]
picqer = "completed"
then = 4

[prestashop.dev-shop.stock_formula]
warehouses = [101, 102]
include_allocated = true
clamp_at_zero = false
"#
    )
}

fn env() -> Vec<(&'static str, &'static str)> {
    let mut env = base_env();
    env.extend([
        ("PS_WS_KEY", WS_KEY),
        ("PS_NOTIFY", "shop-module-shared-secret"),
        ("PS_TOKEN", "cron-token-0123456789"),
    ]);
    env
}

fn shop_errors(text: &str) -> Vec<String> {
    match parse(text, &env()) {
        Ok(_) => panic!("config should be invalid"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn every_shop_option_is_read() {
    let c = parse(&full(), &env()).unwrap_or_else(|e| panic!("{e}"));
    let s = &c.prestashop["dev-shop"];
    assert_eq!((s.name.as_str(), s.picqer.as_str(), s.shop_url.as_str()), ("dev-shop", "main", "https://shop.example"));
    assert_eq!((s.ws_key.expose(), s.notify_secret.expose()), (WS_KEY, "shop-module-shared-secret"));
    assert_eq!(s.prefix, "DEV");
    assert_eq!(s.tags, ["VIP", "Webshop"]);
    assert_eq!((s.requests_per_second, s.burst), (8, 30));
    assert!(!s.use_shop_price && s.create_missing_products && s.allocate_concept && !s.send_status_email);
    assert!(s.stock_sync && s.full_stock_on_webhook);
    assert_eq!(s.full_sync_token.as_ref().map(Secret::expose), Some("cron-token-0123456789"));
    assert_eq!(s.poll_every, Duration::from_secs(60));
    assert_eq!(
        (s.roles.create.clone(), s.roles.process.clone(), s.roles.cancel.clone()),
        (vec![2, 3, 10], vec![3], vec![6, 8])
    );
    assert_eq!(
        s.status_map,
        vec![
            StatusRule { when: Some(3), picqer: PicqerStatus::Processing, then: 9 },
            StatusRule { when: None, picqer: PicqerStatus::Completed, then: 4 },
        ]
    );
    assert_eq!(s.stock_formula.warehouses, vec![101, 102]);
    assert!(s.stock_formula.include_allocated && !s.stock_formula.clamp_at_zero);
    let lines = described(&c);
    assert!(
        lines.contains(&"  notify URL    https://kade.example.com/webhooks/prestashop/dev-shop".into()),
        "{lines:?}"
    );
    let full_sync = "  full sync URL https://kade.example.com/prestashop/dev-shop/stock-sync?token=***";
    assert!(lines.contains(&full_sync.into()), "{lines:?}");
    let debug = format!("{c:?}");
    for secret in [WS_KEY, "shop-module-shared-secret", "cron-token-0123456789"] {
        assert!(!debug.contains(secret), "{secret} leaked into {debug}");
    }
}

#[test]
fn a_minimal_shop_gets_the_documented_defaults() {
    let text = format!(
        "{MINIMAL}\n[prestashop.shop]\nshop_url = \"http://127.0.0.1:8081\"\nws_key = \"{WS_KEY}\"\n\
         notify_secret = \"file-or-literal-secret\"\n"
    );
    let c = ok(&text);
    let s = &c.prestashop["shop"];
    assert_eq!(s.picqer, "main", "the only Picqer connection is the default");
    assert_eq!(s.prefix, "PS");
    assert!(s.tags.is_empty() && s.use_shop_price && !s.create_missing_products && !s.allocate_concept);
    assert!(s.send_status_email && s.stock_sync && !s.full_stock_on_webhook && s.full_sync_token.is_none());
    assert_eq!(
        (s.roles.create.clone(), s.roles.process.clone(), s.roles.cancel.clone()),
        (vec![2, 3], vec![3], vec![6])
    );
    assert_eq!(s.status_map.len(), 2);
    assert_eq!(s.stock_formula, kade_core::prestashop::StockFormula::default());
    assert_eq!(s.poll_every, Duration::from_secs(300));
    let lines = described(&c);
    assert!(lines.contains(&"  full sync URL disabled (no prestashop.shop.full_sync_token)".into()), "{lines:?}");
    assert!(ok(MINIMAL).prestashop.is_empty(), "the section is optional");
}

#[test]
fn each_shop_mistake_names_its_key_and_line() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "picqer = \"main\"",
            "picqer = \"other\"",
            "prestashop.dev-shop.picqer: there is no [picqer.other] connection (configured: main)",
        ),
        (
            "shop_url = \"https://shop.example/\"",
            "shop_url = \"shop.example\"",
            "prestashop.dev-shop.shop_url: must be an http(s) URL",
        ),
        (
            "ws_key = \"env:PS_WS_KEY\"",
            "ws_key = \"short\"",
            "prestashop.dev-shop.ws_key: a webservice key has 32 characters, this one has 5",
        ),
        (
            "ws_key = \"env:PS_WS_KEY\"",
            "ws_key = \"env:NOPE\"",
            "prestashop.dev-shop.ws_key: environment variable NOPE is not set",
        ),
        (
            // 32 characters, but one is not ASCII: the key's one rule refuses it (not a byte count).
            "ws_key = \"env:PS_WS_KEY\"",
            "ws_key = \"\u{e9}BCDEFGHIJKLMNOPQRSTUVWXYZ012345\"",
            "prestashop.dev-shop.ws_key: a webservice key is 32 printable ASCII characters; this one contains",
        ),
        (
            "ws_key = \"env:PS_WS_KEY\"",
            "ws_key = \"ABCDEFGHIJKLMNOP:RSTUVWXYZ012345\"",
            "prestashop.dev-shop.ws_key: a webservice key is 32 printable ASCII characters; this one contains",
        ),
        ("ws_key = \"env:PS_WS_KEY\"", "ws_key = 42", "prestashop.dev-shop.ws_key: must be a string: env:NAME"),
        (
            "notify_secret = \"env:PS_NOTIFY\"",
            "notify_secret = \"short\"",
            "prestashop.dev-shop.notify_secret: must be at least 16 characters",
        ),
        (
            "full_sync_token = \"env:PS_TOKEN\"",
            "full_sync_token = \"tiny\"",
            "prestashop.dev-shop.full_sync_token: must be at least 16",
        ),
        (
            "prefix = \"DEV\"",
            "prefix = \"DEVX\"",
            "prestashop.dev-shop.prefix: the prefix must be 1 to 3 characters long",
        ),
        (
            "prefix = \"DEV\"",
            "prefix = \"D-\"",
            "prestashop.dev-shop.prefix: the prefix may only contain letters and digits",
        ),
        (
            "tags = [\"VIP\", \"Webshop\"]",
            "tags = [\"VIP\", \"VIP\"]",
            "prestashop.dev-shop.tags[1]: \"VIP\" is listed twice",
        ),
        ("use_shop_price = false", "use_shop_price = \"no\"", "prestashop.dev-shop.use_shop_price: invalid type"),
        (
            "poll_seconds = 60",
            "poll_seconds = -1",
            "prestashop.dev-shop.poll_seconds: must be between 0 (off) and 86400",
        ),
        ("poll_seconds = 60", "poll_every = 60", "prestashop.dev-shop.poll_every: unknown field"),
        (
            "requests_per_second = 8",
            "requests_per_second = 0",
            "prestashop.dev-shop.requests_per_second: must be between 1 and 1000, got 0",
        ),
        ("burst = 30", "burst = -5", "prestashop.dev-shop.burst: must be between 1 and 10000, got -5"),
        (
            "create = [2, 3, 10]",
            "create = [0]",
            "prestashop.dev-shop.roles.create: must list PrestaShop order state ids",
        ),
        ("cancel = [6, 8]", "cancel = [6]\nrefund = [7]", "prestashop.dev-shop.roles.refund: unknown field `refund`"),
        (
            "picqer = \"processing\"",
            "picqer = \"shipped\"",
            "prestashop.dev-shop.status_map[0].picqer: must be a Picqer order status",
        ),
        (
            "picqer = \"processing\"",
            "picqer = \"sent\"",
            "prestashop.dev-shop.status_map[0].picqer: must be a Picqer order status (concept, expected, processing, \
             paused, completed, cancelled), got \"sent\"",
        ),
        ("when = 3", "when = 0", "prestashop.dev-shop.status_map[0].when: must be a PrestaShop order state id"),
        ("then = 9", "then = -9", "prestashop.dev-shop.status_map[0].then: must be a PrestaShop order state id"),
        (
            "warehouses = [101, 102]",
            "warehouses = [0]",
            "prestashop.dev-shop.stock_formula.warehouses: must list Picqer warehouse ids",
        ),
        ("[prestashop.dev-shop]", "[prestashop.\"dev shop\"]", "prestashop.dev shop: shop name must be"),
        (
            "[prestashop.dev-shop]",
            "[prestashop.main]",
            "prestashop.main: a Picqer connection is already named \"main\"",
        ),
    ];
    let text = full();
    for (from, to, expected) in cases {
        assert!(text.contains(from), "{from}");
        // Renaming the shop renames its sub-tables too.
        let bad = match to.strip_prefix("[prestashop.").and_then(|t| t.strip_suffix(']')) {
            Some(name) => text.replace("prestashop.dev-shop", &format!("prestashop.{name}")),
            None => text.replacen(from, to, 1),
        };
        let lines = shop_errors(&bad);
        assert_has(&lines, expected);
        let line = lines.iter().find(|l| l.contains(expected)).unwrap();
        assert!(line.contains("(line "), "the error says where: {line}");
    }
}

#[test]
fn cross_checks_between_shops() {
    let second = |prefix: &str| {
        format!(
            "\n[prestashop.other]\nshop_url = \"https://other.example\"\nws_key = \"{WS_KEY}\"\n\
             notify_secret = \"another-shared-secret\"\nprefix = \"{prefix}\"\n"
        )
    };
    let lines = shop_errors(&(full() + &second("DEV")));
    assert_has(&lines, "prestashop.other.prefix: prefix \"DEV\" is already used by [prestashop.dev-shop]");
    let c = parse(&(full() + &second("OT")), &env()).unwrap();
    assert_eq!(c.prestashop.len(), 2);

    // With two Picqer connections a shop must say which one it feeds.
    let two = format!("{MINIMAL}\n[picqer.second]\nsubdomain = \"beta\"\napi_key = \"k\"\n{}", second("OT"));
    assert_has(&errors(&two), "prestashop.other.picqer: is required");
    // A Picqer connection with its own error is not reported again as missing.
    let broken = format!("{MINIMAL}\n[picqer.second]\napi_key = \"k\"\n{}picqer = \"second\"\n", second("OT"));
    let lines = errors(&broken);
    assert_has(&lines, "picqer.second: set exactly one of subdomain or base_url");
    assert!(!lines.iter().any(|l| l.contains("there is no [picqer.second]")), "{lines:#?}");
    // Missing required keys are all listed.
    let lines = errors(&format!("{MINIMAL}\n[prestashop.bare]\n"));
    for key in [
        "prestashop.bare.shop_url: is required",
        "prestashop.bare.ws_key: is required",
        "prestashop.bare.notify_secret: is required",
    ] {
        assert_has(&lines, key);
    }
}

/// What `kade serve` and `kade check` print about the configured shops (secrets redacted).
fn described(c: &super::Config) -> Vec<String> {
    crate::connectors::registered(c).iter().flat_map(|k| k.describe(&c.server.public_url)).flatten().collect()
}
