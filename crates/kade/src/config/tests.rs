//! The loader against valid files, every class of mistake, secrets, overrides and redaction.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

const ADMIN: &str = "admin-token-0123456789";
const MASTER: &str = "master-key-0123456789-0123456789-abc";
const API_KEY: &str = "picqer-api-key-SECRET-42";

const VALID: &str = r#"
[server]
listen = "0.0.0.0:9000"
public_url = "https://kade.example.com/"
admin_token = "env:KADE_TEST_ADMIN"

[database]
url = "postgres://kade:pg-pass@db.internal/kade"

[security]
master_key = "env:KADE_TEST_MASTER"

[picqer.main]
subdomain = "acme"
api_key = "env:PICQER_API_KEY"
contact = "ops@example.com"
events = ["products.free_stock_changed", "orders.completed"]
incremental_sync_minutes = 30

[picqer.sim]
base_url = "http://127.0.0.1:8650/api/v1/"
api_key = "literal-sim-key"
"#;

/// The smallest valid file: everything else has a default.
pub(super) const MINIMAL: &str = r#"
[server]
public_url = "https://kade.example.com"
admin_token = "env:KADE_TEST_ADMIN"
[security]
master_key = "env:KADE_TEST_MASTER"
[picqer.main]
subdomain = "acme"
api_key = "env:PICQER_API_KEY"
"#;

pub(super) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

pub(super) fn base_env() -> Vec<(&'static str, &'static str)> {
    vec![("KADE_TEST_ADMIN", ADMIN), ("KADE_TEST_MASTER", MASTER), ("PICQER_API_KEY", API_KEY)]
}

pub(super) fn parse(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    from_str(text, Path::new("/etc/kade"), &env_of(env))
}

pub(super) fn ok(text: &str) -> Config {
    parse(text, &base_env()).unwrap_or_else(|e| panic!("config should be valid, got:\n{e}"))
}

/// The error lines for `text`, with the usual environment.
pub(super) fn errors(text: &str) -> Vec<String> {
    match parse(text, &base_env()) {
        Ok(_) => panic!("config should be invalid"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

pub(super) fn assert_has(lines: &[String], needle: &str) {
    assert!(lines.iter().any(|l| l.contains(needle)), "no error contains {needle:?}; errors:\n{}", lines.join("\n"));
}

/// A fresh directory under the system temp dir (no tempfile crate in the tree).
fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "kade-config-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_full_config_resolves_every_value() {
    let c = ok(VALID);
    assert_eq!(c.server.listen, "0.0.0.0:9000".parse().unwrap());
    assert_eq!(c.server.public_url, "https://kade.example.com");
    assert_eq!(c.server.admin_token.expose(), ADMIN);
    assert_eq!(c.master_key.expose(), MASTER);
    assert!(c.database.is_postgres());
    assert_eq!(c.database.url, "postgres://kade:pg-pass@db.internal/kade");
    let main = &c.picqer["main"];
    assert_eq!(main.base_url, "https://acme.picqer.com/api/v1");
    assert_eq!(main.api_key.expose(), API_KEY);
    assert_eq!(main.contact, "ops@example.com");
    assert_eq!(main.events, ["products.free_stock_changed", "orders.completed"], "kept in file order");
    assert_eq!(main.incremental_sync_minutes, 30);
    let sim = &c.picqer["sim"];
    assert_eq!(sim.base_url, "http://127.0.0.1:8650/api/v1");
    assert_eq!(sim.api_key.expose(), "literal-sim-key");
    assert_eq!(c.webhook_url("main"), "https://kade.example.com/webhooks/picqer/main");

    let client = main.client_config();
    assert_eq!(client.base_url, "https://acme.picqer.com/api/v1");
    assert_eq!(client.api_key.expose(), API_KEY);
    assert!(client.user_agent.contains("ops@example.com"), "{}", client.user_agent);
}

#[test]
fn omitted_keys_take_their_defaults() {
    let c = ok(MINIMAL);
    assert_eq!(c.server.listen, "127.0.0.1:8650".parse().unwrap());
    assert_eq!(c.database.url, "sqlite:///etc/kade/kade.db");
    let main = &c.picqer["main"];
    assert_eq!(main.contact, "unset");
    assert_eq!(main.events, super::events::DEFAULT_EVENTS);
    assert!(main.events.iter().any(|e| e == "products.free_stock_changed"));
    assert_eq!(main.incremental_sync_minutes, 15);
}

#[test]
fn unknown_keys_and_sections_are_rejected_with_their_path() {
    let text = MINIMAL.replace("[security]", "listn = \"x\"\nadmin_tokn = \"y\"\n[security]") + "\n[flows]\nx = 1\n";
    let lines = errors(&text);
    assert_has(&lines, "server.listn: unknown field `listn`");
    assert_has(&lines, "server.admin_tokn: unknown field `admin_tokn`");
    assert_has(&lines, "flows: unknown section");
    assert_eq!(lines.len(), 3, "{lines:#?}");
}

#[test]
fn toml_syntax_errors_give_line_and_column() {
    let lines = errors("[server]\nlisten = \"127.0.0.1:1\"\npublic_url = https://x\n");
    assert_has(&lines, "invalid TOML");
    assert_has(&lines, "(line 3, column 14)");
}

#[test]
fn wrong_types_name_the_key_and_never_echo_secrets() {
    let text =
        MINIMAL.replace("api_key = \"env:PICQER_API_KEY\"", "api_key = 123456789\nincremental_sync_minutes = \"15\"");
    let lines = errors(&text);
    assert_has(&lines, "picqer.main.api_key: must be a string");
    assert_has(&lines, "picqer.main.incremental_sync_minutes: invalid type");
    assert!(!lines.iter().any(|l| l.contains("123456789")), "{lines:#?}");
    // The dropped key is not reported a second time as missing.
    assert_eq!(lines.len(), 2, "{lines:#?}");
}

#[test]
fn missing_environment_variables_are_named() {
    let lines = match parse(MINIMAL, &[("KADE_TEST_ADMIN", ADMIN), ("KADE_TEST_MASTER", MASTER)]) {
        Err(e) => e.iter().map(ToString::to_string).collect::<Vec<_>>(),
        Ok(_) => panic!("should fail"),
    };
    assert_eq!(lines, ["picqer.main.api_key: environment variable PICQER_API_KEY is not set (line 9, column 11)"]);
    let empty = parse(MINIMAL, &[("KADE_TEST_ADMIN", ADMIN), ("KADE_TEST_MASTER", MASTER), ("PICQER_API_KEY", " ")]);
    assert!(empty.unwrap_err().to_string().contains("environment variable PICQER_API_KEY is empty"));
}

#[test]
fn each_value_check_names_its_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("https://kade.example.com", "ftp://x", "server.public_url: must be an http(s) URL, got \"ftp://x\""),
        ("https://kade.example.com", "https://u:hunter2@x", "server.public_url: must not contain a user name"),
        ("subdomain = \"acme\"", "subdomain = \"acme\"\nbase_url = \"http://x\"", "picqer.main: set exactly one of"),
        ("subdomain = \"acme\"", "contact = \"x\"", "picqer.main: set exactly one of subdomain or base_url"),
        ("subdomain = \"acme\"", "subdomain = \"acme.picqer.com\"", "picqer.main.subdomain: write only the subdomain"),
        ("subdomain = \"acme\"", "base_url = \"not a url\"", "picqer.main.base_url: must be an http(s) URL"),
        ("[picqer.main]", "[picqer.Main_Shop]", "picqer.Main_Shop: connection name must be"),
        (
            "subdomain = \"acme\"",
            "subdomain = \"acme\"\nevents = [\"orders.cancelled\"]",
            "events[0]: unknown Picqer event",
        ),
        ("subdomain = \"acme\"", "subdomain = \"acme\"\nincremental_sync_minutes = 0", "must be between 1 and 1440"),
        ("subdomain = \"acme\"", "subdomain = \"acme\"\ncontact = \"\"", "picqer.main.contact: must be non-empty"),
        (
            "subdomain = \"acme\"",
            "subdomain = \"acme\"\ncontact = \"Jörg\"",
            "picqer.main.contact: must be non-empty, printable",
        ),
        ("[security]", "[server.tls]\n[security]", "server.tls: unknown field"),
    ];
    for (from, to, expected) in cases {
        assert!(MINIMAL.contains(from), "{from}");
        assert_has(&errors(&MINIMAL.replacen(from, to, 1)), expected);
    }
    let listen = MINIMAL.replace("[security]", "listen = \"localhost:80\"\n[security]");
    assert_has(&errors(&listen), "server.listen: must be an IP address and port");
    let typo = MINIMAL.replace("api_key", "events = [\"products.freestockchanged\"]\napi_key");
    assert_has(&errors(&typo), "did you mean \"products.free_stock_changed\"?");
    let twice = MINIMAL.replace("api_key", "events = [\"orders.completed\", \"orders.completed\"]\napi_key");
    assert_has(&errors(&twice), "picqer.main.events[1]: \"orders.completed\" is listed twice");
    let db = MINIMAL.to_string() + "[database]\nurl = \"mysql://root:pw@x/db\"\n";
    let lines = errors(&db);
    assert_has(&lines, "database.url: must be sqlite:PATH");
    assert!(!lines.iter().any(|l| l.contains("pw@")), "{lines:#?}");
}

#[test]
fn required_keys_and_lengths() {
    let lines = errors("[picqer.main]\nsubdomain = \"acme\"\n");
    assert_has(&lines, "server.public_url: is required (or set KADE_PUBLIC_URL)");
    assert_has(&lines, "server.admin_token: is required");
    assert_has(&lines, "security.master_key: is required");
    assert_has(&lines, "picqer.main.api_key: is required");
    assert_has(&errors(""), "picqer: no Picqer connection configured");
    let short =
        parse(MINIMAL, &[("KADE_TEST_ADMIN", "short"), ("KADE_TEST_MASTER", "also-short"), ("PICQER_API_KEY", "k")]);
    let lines: Vec<String> = short.unwrap_err().iter().map(ToString::to_string).collect();
    assert_has(&lines, "server.admin_token: must be at least 16 characters long");
    assert_has(&lines, "security.master_key: must be at least 32 characters long");
}

#[test]
fn all_errors_are_reported_together() {
    let text = r#"
[server]
public_url = "ftp://x"
admin_token = "env:NOPE_ADMIN"
bogus = true
[security]
master_key = "tooshort"
[picqer.main]
api_key = "env:NOPE_KEY"
events = ["orders.cancelled"]
incremental_sync_minutes = 5000
"#;
    let e = parse(text, &[]).unwrap_err();
    let lines: Vec<String> = e.iter().map(ToString::to_string).collect();
    for needle in [
        "server.bogus: unknown field",
        "server.public_url: must be an http(s) URL, got \"ftp://x\"",
        "server.admin_token: environment variable NOPE_ADMIN is not set",
        "security.master_key: must be at least 32 characters long",
        "picqer.main: set exactly one of subdomain or base_url",
        "picqer.main.api_key: environment variable NOPE_KEY is not set",
        "picqer.main.events[0]: unknown Picqer event \"orders.cancelled\"",
        "picqer.main.incremental_sync_minutes: must be between 1 and 1440 (minutes), got 5000",
    ] {
        assert_has(&lines, needle);
    }
    assert_eq!(e.len(), 8, "{e}");
    assert_eq!(e.to_string().lines().count(), 8, "one error per line");
}

#[test]
fn file_secrets_are_read_trimmed_and_relative_to_the_config() {
    let dir = temp_dir();
    std::fs::write(dir.join("api-key"), format!("  {API_KEY}\n")).unwrap();
    std::fs::write(dir.join("empty"), "\n").unwrap();
    let text = MINIMAL.replace("env:PICQER_API_KEY", "file:api-key");
    let c = from_str(&text, &dir, &env_of(&base_env())).unwrap();
    assert_eq!(c.picqer["main"].api_key.expose(), API_KEY);

    let abs = MINIMAL.replace("env:PICQER_API_KEY", &format!("file:{}", dir.join("api-key").display()));
    assert_eq!(parse(&abs, &base_env()).unwrap().picqer["main"].api_key.expose(), API_KEY);

    let missing = MINIMAL.replace("env:PICQER_API_KEY", "file:/nonexistent/kade-key");
    assert_has(&errors(&missing), "picqer.main.api_key: cannot read secret file /nonexistent/kade-key");
    let empty = MINIMAL.replace("env:PICQER_API_KEY", "file:empty");
    let e = from_str(&empty, &dir, &env_of(&base_env())).unwrap_err().to_string();
    assert!(e.contains("picqer.main.api_key: secret file") && e.contains("is empty"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn environment_variables_override_the_file() {
    let mut env = base_env();
    env.extend([
        ("KADE_LISTEN", "127.0.0.1:7000"),
        ("KADE_PUBLIC_URL", "https://override.example.com"),
        ("KADE_DATABASE_URL", "sqlite:other.db"),
        ("KADE_ADMIN_TOKEN", "override-admin-token-123"),
        ("KADE_MASTER_KEY", "env:OTHER_MASTER"),
        ("OTHER_MASTER", "override-master-key-0123456789-0123456789"),
    ]);
    let c = parse(VALID, &env).unwrap();
    assert_eq!(c.server.listen, "127.0.0.1:7000".parse().unwrap());
    assert_eq!(c.server.public_url, "https://override.example.com");
    assert_eq!(c.database.url, "sqlite:///etc/kade/other.db");
    assert_eq!(c.server.admin_token.expose(), "override-admin-token-123");
    assert_eq!(c.master_key.expose(), "override-master-key-0123456789-0123456789");

    // An override also fills a key the file leaves out; a bad one says where it came from.
    let no_url = MINIMAL.replace("public_url = \"https://kade.example.com\"", "");
    let mut env = base_env();
    env.push(("KADE_PUBLIC_URL", "https://from-env.example.com"));
    assert_eq!(parse(&no_url, &env).unwrap().server.public_url, "https://from-env.example.com");
    env.push(("KADE_LISTEN", "nope"));
    let e = parse(&no_url, &env).unwrap_err().to_string();
    assert!(
        e.contains(
            "server.listen: must be an IP address and port like 127.0.0.1:8650, got \"nope\" (set by KADE_LISTEN)"
        ),
        "{e}"
    );
    // An empty variable counts as unset.
    let mut env = base_env();
    env.push(("KADE_LISTEN", ""));
    assert_eq!(parse(MINIMAL, &env).unwrap().server.listen, "127.0.0.1:8650".parse().unwrap());
}

#[test]
fn sqlite_paths_resolve_next_to_the_config_file() {
    let with = |url: &str| ok(&(MINIMAL.to_string() + &format!("[database]\nurl = \"{url}\"\n"))).database.url;
    assert_eq!(with("sqlite:kade.db"), "sqlite:///etc/kade/kade.db");
    assert_eq!(with("sqlite://data/kade.db?mode=rwc"), "sqlite:///etc/kade/data/kade.db?mode=rwc");
    assert_eq!(with("sqlite:///var/lib/kade.db"), "sqlite:///var/lib/kade.db");
    assert_eq!(with("sqlite::memory:"), "sqlite::memory:");
    assert_eq!(with("postgresql://h/db"), "postgresql://h/db");

    // Through `load`, the directory is the real file's.
    let dir = temp_dir();
    let file = dir.join("kade.toml");
    std::fs::write(&file, MINIMAL).unwrap();
    let c = load_with_env(&file, &env_of(&base_env())).unwrap();
    assert_eq!(c.database.url, format!("sqlite://{}", dir.join("kade.db").display()));
    std::fs::remove_dir_all(dir).unwrap();
    let e = load_with_env(&file, &env_of(&base_env())).unwrap_err().to_string();
    assert!(e.starts_with(&format!("cannot read {}", file.display())), "{e}");
}

#[test]
fn debug_output_never_shows_a_secret() {
    let c = ok(VALID);
    let debug = format!("{c:?}");
    for secret in [ADMIN, MASTER, API_KEY, "literal-sim-key", "pg-pass"] {
        assert!(!debug.contains(secret), "{secret} leaked into {debug}");
    }
    assert!(debug.contains("Secret(***)"));
    assert_eq!(c.server.admin_token.to_string(), "***");
    assert_eq!(c.database.redacted_url(), "postgres://kade:***@db.internal/kade");
    assert!(!format!("{:?}", c.picqer["main"].client_config()).contains(API_KEY));
}

#[test]
fn the_agent_section_is_optional_and_checked() {
    let c = ok(MINIMAL);
    assert!(c.agent.llm.is_none());
    assert_eq!(c.agent.default_country, "31");
    let text = format!(
        "{MINIMAL}\n[agent]\nlanguage = \"nl\"\ncountry_code = \"+32\"\norder_cache_seconds = 0\n\
         [agent.stock]\nwarehouses = [101]\nbasis = \"physical\"\nbuffer = 2\nlow_at = 3\n\
         [agent.llm]\nbase_url = \"http://127.0.0.1:11434/v1/\"\nmodel = \"small\"\napi_key = \"env:PICQER_API_KEY\"\n"
    );
    let c = ok(&text);
    assert_eq!((c.agent.default_language, c.agent.default_country.as_str()), (kade_agent::Lang::Nl, "32"));
    assert_eq!((c.agent.stock.warehouses.clone(), c.agent.stock.buffer, c.agent.stock.low_at), (vec![101], 2, 3));
    let llm = c.agent.llm.expect("llm configured");
    assert_eq!((llm.base_url.as_str(), llm.model.as_str()), ("http://127.0.0.1:11434/v1", "small"));
    assert_eq!(llm.api_key.as_deref(), Some(API_KEY));
    assert!(!format!("{llm:?}").contains(API_KEY), "the key never prints");

    let bad = format!(
        "{MINIMAL}\n[agent]\nlanguage = \"fr\"\ncountry_code = \"031\"\nmood = \"cheerful\"\n\
         [agent.stock]\nbasis = \"hoped\"\nbuffer = -1\n[agent.llm]\nmodel = \"\"\napi_key = \"env:NOPE\"\n"
    );
    let lines = errors(&bad);
    for needle in [
        "agent.language",
        "agent.country_code",
        "agent.mood",
        "agent.stock.basis",
        "agent.stock.buffer",
        "agent.llm.base_url",
        "agent.llm.model",
        "environment variable NOPE is not set",
    ] {
        assert_has(&lines, needle);
    }
}
