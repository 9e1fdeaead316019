//! `[smtp]`, `[whatsapp]`, `[twilio]`, `[automations]` and `[[automation]]`: valid setups, the
//! shipped example file, and every kind of mistake with the rule's name and position.

use std::collections::HashMap;
use std::path::Path;

use super::*;

const BASE: &str = r#"
[server]
public_url = "https://kade.example.com"
admin_token = "admin-token-0123456789"

[security]
master_key = "master-key-0123456789-0123456789-abc"

[picqer.main]
subdomain = "acme"
api_key = "key"
"#;

const PROVIDERS: &str = r#"
[smtp]
host = "127.0.0.1"
port = 2525
tls = "none"
from = "shop@example.com"

[twilio]
base_url = "http://127.0.0.1:9999"
account_sid = "AC1"
auth_token = "env:TW_TOKEN"
from = "+3197010000000"
"#;

fn env(name: &str) -> Option<String> {
    let map: HashMap<&str, &str> = [
        ("TW_TOKEN", "twilio-token"),
        ("KADE_ADMIN_TOKEN", "admin-token-0123456789"),
        ("KADE_MASTER_KEY", "master-key-0123456789-0123456789-abc"),
        ("PICQER_API_KEY", "k"),
        ("SMTP_PASSWORD", "p"),
        ("WHATSAPP_ACCESS_TOKEN", "t"),
        ("WHATSAPP_APP_SECRET", "s"),
        ("WHATSAPP_VERIFY_TOKEN", "verify-token-123"),
        ("TWILIO_AUTH_TOKEN", "t"),
    ]
    .into_iter()
    .collect();
    map.get(name).map(|v| v.to_string())
}

fn parse(text: &str) -> Result<Config, ConfigErrors> {
    from_str(text, Path::new("/etc/kade"), &env)
}

fn errors(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("should be invalid"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_example_file_is_valid_and_has_the_three_classic_rules() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/kade.toml");
    let c = load_with_env(&path, &env).unwrap_or_else(|e| panic!("examples/kade.toml:\n{e}"));
    let names: Vec<&str> = c.automations.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["review-request", "shipped-tracking", "return-received"]);
    assert_eq!(c.automations[0].wait_ms, 2 * 86_400_000);
    assert_eq!(c.automations[1].action.channel(), "whatsapp");
    assert_eq!(
        c.messaging.twilio.as_ref().and_then(|t| t.status_callback.as_deref()),
        Some("https://kade.example.com/webhooks/twilio/status")
    );
    assert_eq!(c.messaging.whatsapp_verify_token.as_deref(), Some("verify-token-123"));
    let debug = format!("{c:?}");
    assert!(!debug.contains("twilio-token") && !debug.contains("verify-token-123"), "{debug}");
}

#[test]
fn template_errors_name_the_rule_the_key_and_both_positions() {
    let text = format!(
        "{BASE}{PROVIDERS}\n[[automation]]\nname = \"review\"\ntrigger = \"orders.completed\"\nchannel = \"email\"\n\
         subject = \"Order {{{{order_number}}}}\"\nbody = \"\"\"\nHi {{{{custmer_name}}}},\nthanks\"\"\"\n"
    );
    let e = errors(&text);
    assert!(e.contains("automation[0].body"), "{e}");
    assert!(e.contains("rule \"review\": line 1, column 6: unknown variable {{custmer_name}}"), "{e}");
    assert!(e.contains("did you mean {{customer_name}}"), "{e}");
    // The file position points at the rule's `body` key.
    let body_line = text.lines().position(|l| l.starts_with("body =")).unwrap() + 1;
    assert!(e.contains(&format!("line {body_line}")), "{e}");

    let e = errors(&format!(
        "{BASE}{PROVIDERS}\n[[automation]]\nname = \"s\"\ntrigger = \"orders.completed\"\nchannel = \"sms\"\nbody = \"{{{{order_number\"\n"
    ));
    assert!(e.contains("rule \"s\": line 1, column 1: \"{{\" is never closed"), "{e}");
}

#[test]
fn every_rule_mistake_is_reported() {
    let text = format!(
        "{BASE}{PROVIDERS}
[[automation]]
name = \"Bad Name\"
trigger = \"orders completed\"
channel = \"pigeon\"
colour = \"red\"

[[automation]]
name = \"wa\"
trigger = \"order.shipped\"
channel = \"whatsapp\"
text = \"{{{{tracking_url}}}}\"
connection = \"other\"
wait = \"2 days\"
when = [{{ field = \"status\" }}]
quiet_hours = {{ from = \"22:00\", to = \"22:00\" }}
cap = {{ max = 0, per = \"1d\" }}
"
    );
    let e = errors(&text);
    for needle in [
        "automation[0].colour",
        "automation[0].name: rule \"Bad Name\"",
        "automation[0].trigger",
        "automation[0].channel: rule \"Bad Name\": \"pigeon\" is not a channel",
        "automation[1].wait",
        "automation[1].when[0]",
        "automation[1].quiet_hours",
        "automation[1].cap.max",
    ] {
        assert!(e.contains(needle), "missing {needle:?} in:\n{e}");
    }
    // A trigger that is not a Picqer event (Kade could not install its hook).
    let e = errors(&format!(
        "{BASE}{PROVIDERS}\n[[automation]]\nname = \"t\"\ntrigger = \"orders.complete\"\nchannel = \"sms\"\nbody = \"x\"\n"
    ));
    assert!(e.contains("automation[0].trigger: rule \"t\": \"orders.complete\" is not a Picqer event; did you mean \"orders.completed\"?"), "{e}");
    // A rule for a channel without its provider section.
    let e = errors(&format!(
        "{BASE}\n[[automation]]\nname = \"r\"\ntrigger = \"returns.products_received\"\nchannel = \"sms\"\nbody = \"x\"\n"
    ));
    assert!(e.contains("rule \"r\" sends by sms, but there is no [twilio] section"), "{e}");
    // Unknown connection, duplicate names.
    let rule = "\n[[automation]]\nname = \"r\"\ntrigger = \"orders.closed\"\nchannel = \"sms\"\nbody = \"x\"\n";
    let e = errors(&format!("{BASE}{PROVIDERS}{rule}connection = \"other\"\n"));
    assert!(e.contains("there is no [picqer.other]"), "{e}");
    let e = errors(&format!("{BASE}{PROVIDERS}{rule}{rule}"));
    assert!(e.contains("rule \"r\" is defined twice"), "{e}");
}

#[test]
fn provider_sections_are_checked() {
    let e = errors(&format!(
        "{BASE}\n[smtp]\nhost = \"\"\ntls = \"ssl\"\nport = 70000\nfrom = \"nobody\"\n[whatsapp]\naccess_token = \"env:NOPE\"\n\
         [twilio]\naccount_sid = \"AC1\"\nfrom = \"+31\"\n[automations]\ndefault_country = \"Atlantis\"\n"
    ));
    for needle in [
        "smtp.host",
        "smtp.tls",
        "smtp.port",
        "smtp.from",
        "whatsapp.phone_number_id",
        "environment variable NOPE is not set",
        "whatsapp.app_secret",
        "twilio.auth_token",
        "automations.default_country",
    ] {
        assert!(e.contains(needle), "missing {needle:?} in:\n{e}");
    }
    let c = parse(&format!("{BASE}{PROVIDERS}")).unwrap();
    let smtp = c.messaging.smtp.unwrap();
    assert_eq!((smtp.port, smtp.tls), (2525, kade_messaging::SmtpTls::None));
    assert_eq!(c.messaging.default_country, "NL");
    assert!(c.automations.is_empty());
}
