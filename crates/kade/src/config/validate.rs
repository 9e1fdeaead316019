//! From raw sections to a [`Config`]: environment overrides, secret resolution, defaults and
//! value checks. Every check runs even after one fails, so all problems are reported together.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::Path;

use super::error::Errors;
use super::events;
use super::messaging::MessagingConfig;
use super::model::{Config, DatabaseConfig, PicqerConnectionConfig, Secret, ServerConfig};
use super::raw::{RawConfig, RawConnection, Text};

/// Where values come from besides the file.
pub(super) struct Sources<'a> {
    /// The config file's directory: relative SQLite and `file:` paths resolve against it, so a
    /// config works the same whatever directory Kade is started from.
    pub dir: &'a Path,
    /// Environment lookup; injected so tests need not mutate the process environment.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8650);
const DEFAULT_DATABASE: &str = "sqlite:kade.db";
const DEFAULT_CONTACT: &str = "unset";
const DEFAULT_SYNC_MINUTES: i64 = 15;
const MIN_ADMIN_TOKEN: usize = 16;
const MIN_MASTER_KEY: usize = 32;

/// A value as found: in the file (with its position) or in an overriding environment variable.
struct Setting {
    text: String,
    span: Option<Range<usize>>,
    var: Option<&'static str>,
}

impl Setting {
    /// Appended to messages, so an error caused by an override does not send the reader to
    /// a file that says something else.
    fn origin(&self) -> String {
        self.var.map(|v| format!(" (set by {v})")).unwrap_or_default()
    }
}

pub(super) struct Check<'s, 'e, 't> {
    pub(super) src: &'s Sources<'s>,
    pub(super) errors: &'e mut Errors<'t>,
}

/// Validates everything; `None` if anything was wrong (the errors say what).
pub(super) fn build(raw: RawConfig, src: &Sources<'_>, errors: &mut Errors<'_>) -> Option<Config> {
    let mut c = Check { src, errors };
    let listen = match c.setting(Some("KADE_LISTEN"), raw.server.listen) {
        None => Some(DEFAULT_LISTEN),
        Some(s) => c.listen(s),
    };
    let public_url = c
        .required("server.public_url", Some("KADE_PUBLIC_URL"), raw.server.public_url)
        .and_then(|s| c.http_url("server.public_url", s));
    let admin_token = c
        .required("server.admin_token", Some("KADE_ADMIN_TOKEN"), raw.server.admin_token)
        .and_then(|s| c.secret("server.admin_token", s, MIN_ADMIN_TOKEN));
    let database = c.database(raw.database.url);
    let agent = c.agent(raw.agent);
    let master_key = c
        .required("security.master_key", Some("KADE_MASTER_KEY"), raw.security.master_key)
        .and_then(|s| c.secret("security.master_key", s, MIN_MASTER_KEY));
    if raw.picqer.is_empty() {
        c.errors.push_missing("picqer", "no Picqer connection configured; add a [picqer.NAME] table");
    }
    let names: Vec<String> = raw.picqer.keys().cloned().collect();
    let mut picqer = BTreeMap::new();
    let mut all_connections_valid = true;
    for (name, (name_span, conn)) in raw.picqer {
        match c.connection(&name, name_span, conn) {
            Some(conn) => {
                picqer.insert(name, conn);
            }
            None => all_connections_valid = false,
        }
    }
    // Shops are checked against every named Picqer connection, valid or not, so a connection
    // with its own error is not reported a second time as missing.
    let shop_names: BTreeMap<String, bool> = names.iter().map(|n| (n.clone(), picqer.contains_key(n))).collect();
    let prestashop = c.shops(raw.prestashop, &shop_names);
    let smtp = c.smtp(raw.smtp);
    let whatsapp = c.whatsapp(raw.whatsapp);
    let twilio = c.twilio(raw.twilio, public_url.as_deref());
    let names: Vec<String> = picqer.keys().cloned().collect();
    let automations = c.automations(raw.automations, raw.automation, &names);
    let server = ServerConfig { listen: listen?, public_url: public_url?, admin_token: admin_token? };
    all_connections_valid.then_some(())?;
    let (default_country, allow_private_webhooks, automations) = automations?;
    let configured = |channel: &str| match channel {
        "email" => matches!(smtp, Ok(Some(_))),
        "whatsapp" => matches!(whatsapp, Ok(Some(_))),
        "sms" => matches!(twilio, Ok(Some(_))),
        _ => true,
    };
    let section = |channel: &str| match channel {
        "email" => "[smtp]",
        "whatsapp" => "[whatsapp]",
        _ => "[twilio]",
    };
    let mut channels_ok = true;
    for (i, rule) in automations.iter().enumerate() {
        let channel = rule.action.channel();
        if !configured(channel) && smtp.is_ok() && whatsapp.is_ok() && twilio.is_ok() {
            let msg = format!("rule {:?} sends by {channel}, but there is no {} section", rule.name, section(channel));
            c.errors.push_missing(&format!("automation[{i}].channel"), msg);
            channels_ok = false;
        }
    }
    channels_ok.then_some(())?;
    let (whatsapp, whatsapp_verify_token) = whatsapp.ok()?.unzip();
    let messaging = MessagingConfig {
        smtp: smtp.ok()?,
        whatsapp,
        whatsapp_verify_token: whatsapp_verify_token.flatten(),
        twilio: twilio.ok()?,
        default_country,
        allow_private_webhooks,
    };
    Some(Config {
        server,
        database: database?,
        master_key: master_key?,
        picqer,
        prestashop: prestashop?,
        agent: agent?,
        messaging,
        automations,
    })
}

impl Check<'_, '_, '_> {
    /// The environment override if set (and not empty), else the file's value.
    fn setting(&self, var: Option<&'static str>, file: Option<Text>) -> Option<Setting> {
        let from_env = var.and_then(|v| (self.src.env)(v).filter(|s| !s.trim().is_empty()).map(|s| (v, s)));
        match (from_env, file) {
            (Some((var, text)), _) => Some(Setting { text, span: None, var: Some(var) }),
            (None, Some(f)) => Some(Setting { span: Some(f.span()), text: f.into_inner(), var: None }),
            (None, None) => None,
        }
    }

    fn required(&mut self, key: &str, var: Option<&'static str>, file: Option<Text>) -> Option<Setting> {
        let found = self.setting(var, file);
        if found.is_none() {
            let env = var.map(|v| format!(" (or set {v})")).unwrap_or_default();
            self.errors.push_missing(key, format!("is required{env}"));
        }
        found
    }

    fn listen(&mut self, s: Setting) -> Option<SocketAddr> {
        let parsed = s.text.trim().parse().ok();
        if parsed.is_none() {
            let msg = format!("must be an IP address and port like 127.0.0.1:8650, got {:?}{}", s.text, s.origin());
            self.errors.push("server.listen", msg, s.span);
        }
        parsed
    }

    pub(super) fn http_url_text(&mut self, key: &str, t: Text) -> Option<String> {
        self.http_url(key, Setting { span: Some(t.span()), text: t.into_inner(), var: None })
    }

    /// A secret written in the file (`env:`, `file:` or literal), at least `min_len` long.
    pub(super) fn secret_text(&mut self, key: &str, t: Text, min_len: usize) -> Option<Secret> {
        self.secret(key, Setting { span: Some(t.span()), text: t.into_inner(), var: None }, min_len)
    }

    fn http_url(&mut self, key: &str, s: Setting) -> Option<String> {
        match http_url(&s.text) {
            Ok(url) => Some(url),
            Err(msg) => {
                self.errors.push(key, format!("{msg}{}", s.origin()), s.span);
                None
            }
        }
    }

    fn database(&mut self, file: Option<Text>) -> Option<DatabaseConfig> {
        let s = self.setting(Some("KADE_DATABASE_URL"), file).unwrap_or(Setting {
            text: DEFAULT_DATABASE.into(),
            span: None,
            var: None,
        });
        match database_url(&s.text, self.src.dir) {
            Ok(url) => Some(DatabaseConfig { url }),
            Err(msg) => {
                self.errors.push("database.url", format!("{msg}{}", s.origin()), s.span);
                None
            }
        }
    }

    /// Resolves `env:NAME`, `file:PATH` or a literal. Messages name the variable or file, never
    /// the value.
    fn secret(&mut self, key: &str, s: Setting, min_len: usize) -> Option<Secret> {
        let origin = s.origin();
        let value = if let Some(name) = s.text.strip_prefix("env:") {
            let name = name.trim();
            if name.is_empty() {
                self.errors.push(key, format!("env: needs a variable name, e.g. env:PICQER_API_KEY{origin}"), s.span);
                return None;
            }
            match (self.src.env)(name) {
                Some(v) if !v.trim().is_empty() => v.trim().to_string(),
                Some(_) => {
                    self.errors.push(key, format!("environment variable {name} is empty{origin}"), s.span);
                    return None;
                }
                None => {
                    self.errors.push(key, format!("environment variable {name} is not set{origin}"), s.span);
                    return None;
                }
            }
        } else if let Some(file) = s.text.strip_prefix("file:") {
            let path = self.src.dir.join(file.trim());
            match std::fs::read_to_string(&path) {
                Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
                Ok(_) => {
                    self.errors.push(key, format!("secret file {} is empty{origin}", path.display()), s.span);
                    return None;
                }
                Err(e) => {
                    self.errors.push(key, format!("cannot read secret file {}: {e}{origin}", path.display()), s.span);
                    return None;
                }
            }
        } else {
            s.text.trim().to_string()
        };
        if value.chars().count() < min_len.max(1) {
            let msg = match min_len {
                0 | 1 => format!("must not be empty{origin}"),
                n => format!("must be at least {n} characters long{origin}"),
            };
            self.errors.push(key, msg, s.span);
            return None;
        }
        Some(Secret::new(value))
    }

    fn connection(
        &mut self,
        name: &str,
        name_span: Range<usize>,
        raw: RawConnection,
    ) -> Option<PicqerConnectionConfig> {
        let path = format!("picqer.{name}");
        let name_ok = valid_connection_name(name);
        if !name_ok {
            let msg = "connection name must be 1 to 32 characters from a-z, 0-9 and '-' (it appears in webhook URLs)";
            self.errors.push(&path, msg, Some(name_span.clone()));
        }
        let base_url = match (raw.subdomain, raw.base_url) {
            (Some(sub), None) => match subdomain(sub.get_ref()) {
                Ok(sub) => Some(format!("https://{sub}.picqer.com/api/v1")),
                Err(msg) => {
                    self.errors.push(format!("{path}.subdomain"), msg, Some(sub.span()));
                    None
                }
            },
            (None, Some(url)) => self.http_url(
                &format!("{path}.base_url"),
                Setting { span: Some(url.span()), text: url.into_inner(), var: None },
            ),
            _ => {
                self.errors.push(&path, "set exactly one of subdomain or base_url", Some(name_span));
                None
            }
        };
        let api_key = self
            .required(&format!("{path}.api_key"), None, raw.api_key)
            .and_then(|s| self.secret(&format!("{path}.api_key"), s, 1));
        let contact = match raw.contact {
            None => Some(DEFAULT_CONTACT.to_string()),
            // Header values must be visible ASCII; anything else would only fail later, when
            // the HTTP client is built.
            Some(c) if !c.get_ref().trim().is_empty() && c.get_ref().chars().all(|ch| (' '..='~').contains(&ch)) => {
                Some(c.get_ref().trim().to_string())
            }
            Some(c) => {
                let msg = "must be non-empty, printable ASCII text (it goes into the User-Agent header)";
                self.errors.push(format!("{path}.contact"), msg, Some(c.span()));
                None
            }
        };
        let events = self.events(&path, raw.events);
        let minutes = raw.incremental_sync_minutes.as_ref().map_or(DEFAULT_SYNC_MINUTES, |m| *m.get_ref());
        let incremental_sync_minutes = match u32::try_from(minutes) {
            Ok(m @ 1..=1440) => Some(m),
            _ => {
                let msg = format!("must be between 1 and 1440 (minutes), got {minutes}");
                self.errors.push(
                    format!("{path}.incremental_sync_minutes"),
                    msg,
                    raw.incremental_sync_minutes.map(|m| m.span()),
                );
                None
            }
        };
        name_ok.then_some(())?;
        Some(PicqerConnectionConfig {
            base_url: base_url?,
            api_key: api_key?,
            contact: contact?,
            events: events?,
            incremental_sync_minutes: incremental_sync_minutes?,
        })
    }

    fn events(&mut self, path: &str, raw: Option<toml::Spanned<Vec<Text>>>) -> Option<Vec<String>> {
        let Some(list) = raw else {
            return Some(events::DEFAULT_EVENTS.iter().map(|e| e.to_string()).collect());
        };
        let mut seen = BTreeSet::new();
        let mut ordered = Vec::new();
        let mut ok = true;
        for (i, event) in list.into_inner().into_iter().enumerate() {
            let (name, span) = (event.get_ref().as_str(), Some(event.span()));
            let key = format!("{path}.events[{i}]");
            if !events::is_known(name) {
                let hint = events::suggest(name).map(|s| format!("; did you mean {s:?}?")).unwrap_or_default();
                self.errors.push(key, format!("unknown Picqer event {name:?}{hint}"), span);
                ok = false;
            } else if !seen.insert(name.to_string()) {
                self.errors.push(key, format!("{name:?} is listed twice"), span);
                ok = false;
            } else {
                ordered.push(name.to_string());
            }
        }
        ok.then_some(ordered)
    }
}

fn valid_connection_name(name: &str) -> bool {
    (1..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An http(s) URL without credentials, query or fragment, normalised without a trailing slash
/// so paths can be appended.
fn http_url(text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text.trim()).map_err(|_| format!("must be an http(s) URL, got {text:?}"))?;
    // Checked before anything that echoes the value: it would print the password.
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("must be an http(s) URL, got {text:?}"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("must not have a query or fragment, got {text:?}"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// A Picqer account subdomain: one DNS label. People paste the whole host, so say what to write.
fn subdomain(text: &str) -> Result<String, String> {
    let s = text.trim().to_ascii_lowercase();
    if s.contains('.') || s.contains('/') {
        let host = s.split("://").last().unwrap_or_default();
        let label = host.split(['.', '/']).next().unwrap_or_default();
        return Err(format!("write only the subdomain, e.g. {label:?} for {label}.picqer.com"));
    }
    let label_ok = (1..=63).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if !label_ok {
        return Err(format!("must be a Picqer subdomain like \"acme\" (for acme.picqer.com), got {text:?}"));
    }
    Ok(s)
}

/// Normalises the database URL; relative SQLite paths are made absolute against `dir`.
fn database_url(text: &str, dir: &Path) -> Result<String, String> {
    let text = text.trim();
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return match reqwest::Url::parse(text) {
            Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(text.to_string()),
            // Not echoed: it may hold a password.
            _ => Err("is not a valid postgres:// URL (postgres://USER:PASSWORD@HOST/DATABASE)".into()),
        };
    }
    let Some(rest) = text.strip_prefix("sqlite://").or_else(|| text.strip_prefix("sqlite:")) else {
        return Err("must be sqlite:PATH (e.g. sqlite:kade.db) or a postgres:// URL".into());
    };
    let (path, query) = rest.split_once('?').map_or((rest, None), |(p, q)| (p, Some(q)));
    if path.is_empty() {
        return Err("needs a file path, e.g. sqlite:kade.db".into());
    }
    if path == ":memory:" {
        return Ok(text.to_string());
    }
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    Ok(format!("sqlite://{}{query}", dir.join(path).display()))
}
