//! Reading `kade.toml` into loosely typed sections, reporting every syntax and schema error.
//!
//! Deserialising the whole file in one go would stop at the first unknown key or wrong type.
//! Instead each section is deserialised on its own, and when one fails the offending key is
//! reported, dropped, and the section tried again, so one run lists every typo in the file.
//! All fields are optional here; required keys, defaults and value checks live in `validate`.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::error::Errors;
use super::messaging::{RawAutomations, RawRule, RawSmtp, RawTwilio, RawWhatsApp};

/// A string value with its position in the file.
pub(super) type Text = Spanned<String>;

/// `[server]`. No `Debug`: it may hold literal secrets.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub listen: Option<Text>,
    pub public_url: Option<Text>,
    pub admin_token: Option<Text>,
}

/// `[database]`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub url: Option<Text>,
}

/// `[security]`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecurity {
    pub master_key: Option<Text>,
}

/// `[picqer.NAME]`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConnection {
    pub subdomain: Option<Text>,
    pub base_url: Option<Text>,
    pub api_key: Option<Text>,
    pub contact: Option<Text>,
    pub events: Option<Spanned<Vec<Text>>>,
    /// Signed, so a negative number gets a range error instead of a type error.
    pub incremental_sync_minutes: Option<Spanned<i64>>,
}

/// `[prestashop.NAME.roles]`: which shop states create, process and force-cancel.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoles {
    pub create: Option<Spanned<Vec<i64>>>,
    pub process: Option<Spanned<Vec<i64>>>,
    pub cancel: Option<Spanned<Vec<i64>>>,
}

/// One `[[prestashop.NAME.status_map]]` row.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStatusRule {
    pub when: Option<Spanned<i64>>,
    pub picqer: Text,
    pub then: Spanned<i64>,
}

/// `[prestashop.NAME.stock_formula]`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStockFormula {
    pub warehouses: Option<Spanned<Vec<i64>>>,
    pub include_allocated: Option<bool>,
    pub clamp_at_zero: Option<bool>,
}

/// `[prestashop.NAME]`. No `Debug`: it may hold literal secrets.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawShop {
    pub picqer: Option<Text>,
    pub shop_url: Option<Text>,
    pub ws_key: Option<Text>,
    pub notify_secret: Option<Text>,
    pub prefix: Option<Text>,
    pub tags: Option<Spanned<Vec<Text>>>,
    pub use_shop_price: Option<bool>,
    pub create_missing_products: Option<bool>,
    pub roles: Option<RawRoles>,
    pub allocate_concept: Option<bool>,
    pub status_map: Option<Spanned<Vec<RawStatusRule>>>,
    pub send_status_email: Option<bool>,
    pub stock_sync: Option<bool>,
    pub stock_formula: Option<RawStockFormula>,
    pub full_stock_on_webhook: Option<bool>,
    pub full_sync_token: Option<Text>,
    pub poll_seconds: Option<Spanned<i64>>,
    pub requests_per_second: Option<Spanned<i64>>,
    pub burst: Option<Spanned<i64>>,
}

/// `[agent.stock]`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStock {
    pub warehouses: Option<Spanned<Vec<i64>>>,
    pub basis: Option<Text>,
    pub buffer: Option<Spanned<i64>>,
    pub low_at: Option<Spanned<i64>>,
}

/// `[agent.llm]`. No `Debug`: it may hold a literal key.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLlm {
    pub base_url: Option<Text>,
    pub model: Option<Text>,
    pub api_key: Option<Text>,
    pub timeout_seconds: Option<Spanned<i64>>,
}

/// `[agent]`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAgent {
    pub language: Option<Text>,
    pub country_code: Option<Text>,
    pub order_cache_seconds: Option<Spanned<i64>>,
    pub stock: Option<RawStock>,
    pub llm: Option<RawLlm>,
}

/// The whole file, section by section.
#[derive(Default)]
pub(super) struct RawConfig {
    pub server: RawServer,
    pub database: RawDatabase,
    pub security: RawSecurity,
    pub agent: RawAgent,
    pub smtp: Option<RawSmtp>,
    pub whatsapp: Option<RawWhatsApp>,
    pub twilio: Option<RawTwilio>,
    pub automations: Option<RawAutomations>,
    pub automation: Vec<RawRule>,
    /// Connections by name, with the span of the name.
    pub picqer: BTreeMap<String, (Range<usize>, RawConnection)>,
    /// PrestaShop shops by name, with the span of the name.
    pub prestashop: BTreeMap<String, (Range<usize>, RawShop)>,
}

/// Keys whose values are secrets: a type error on them must not echo the value.
const SECRET_KEYS: &[&str] = &[
    "admin_token",
    "master_key",
    "api_key",
    "ws_key",
    "notify_secret",
    "full_sync_token",
    "password",
    "access_token",
    "app_secret",
    "verify_token",
    "auth_token",
    "secret",
];

/// Parses the document. `None` when it is not valid TOML (the errors say where).
pub(super) fn parse(text: &str, errors: &mut Errors<'_>) -> Option<RawConfig> {
    let (root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for e in syntax {
            // toml's Display would quote the offending source line, which may be a literal
            // secret; its message and our line/column say enough.
            errors.push_file(format!("invalid TOML: {}", e.message().trim_end()), e.span());
        }
        return None;
    }
    let mut raw = RawConfig::default();
    for (key, value) in root.into_inner() {
        let (name, key_span) = (key.get_ref().to_string(), key.span());
        match name.as_str() {
            "server" => raw.server = section(&name, value, errors),
            "database" => raw.database = section(&name, value, errors),
            "security" => raw.security = section(&name, value, errors),
            "agent" => raw.agent = section(&name, value, errors),
            "picqer" => raw.picqer = named("picqer", "[picqer.main]", value, errors),
            "prestashop" => raw.prestashop = named("prestashop", "[prestashop.myshop]", value, errors),
            "smtp" => raw.smtp = Some(section(&name, value, errors)),
            "whatsapp" => raw.whatsapp = Some(section(&name, value, errors)),
            "twilio" => raw.twilio = Some(section(&name, value, errors)),
            "automations" => raw.automations = Some(section(&name, value, errors)),
            "automation" => raw.automation = rules(value, errors),
            _ => errors.push(
                name,
                "unknown section; expected [server], [database], [security], [agent], [picqer.NAME], \
                 [prestashop.NAME], [smtp], [whatsapp], [twilio], [automations] or [[automation]]",
                Some(key_span),
            ),
        }
    }
    Some(raw)
}

/// `[KIND.NAME]` tables (`[picqer.main]`, `[prestashop.myshop]`).
fn named<T: DeserializeOwned + Default>(
    kind: &str,
    example: &str,
    value: Spanned<DeValue<'_>>,
    errors: &mut Errors<'_>,
) -> BTreeMap<String, (Range<usize>, T)> {
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        errors.push(kind, format!("must hold one table per connection, e.g. {example}"), Some(span));
        return BTreeMap::new();
    };
    table
        .into_iter()
        .map(|(name, value)| {
            let (name, name_span) = (name.get_ref().to_string(), name.span());
            let conn = section(&format!("{kind}.{name}"), value, errors);
            (name, (name_span, conn))
        })
        .collect()
}

/// `[[automation]]`: an array of tables, each kept with its position and its keys' positions.
fn rules(value: Spanned<DeValue<'_>>, errors: &mut Errors<'_>) -> Vec<RawRule> {
    let span = value.span();
    let DeValue::Array(items) = value.into_inner() else {
        errors.push("automation", "write rules as [[automation]] tables (an array of tables)", Some(span));
        return Vec::new();
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let span = item.span();
            let keys = match item.get_ref() {
                DeValue::Table(t) => t.iter().map(|(k, _)| (k.get_ref().to_string(), k.span())).collect(),
                _ => Vec::new(),
            };
            let spec = section(&format!("automation[{i}]"), item, errors);
            RawRule { span, keys, spec }
        })
        .collect()
}

/// Deserialises one table, reporting (and dropping) each key serde rejects, then retrying.
fn section<T: DeserializeOwned + Default>(path: &str, value: Spanned<DeValue<'_>>, errors: &mut Errors<'_>) -> T {
    let span = value.span();
    let DeValue::Table(mut table) = value.into_inner() else {
        errors.push(path, "must be a table", Some(span));
        return T::default();
    };
    loop {
        let de = ValueDeserializer::from(Spanned::new(span.clone(), DeValue::Table(table.clone())));
        let err = match T::deserialize(de) {
            Ok(v) => return v,
            Err(e) => e,
        };
        let culprit = err.span().and_then(|s| culprit(&table, s.start));
        let Some((keys, key_span)) = culprit else {
            // Not attributable to one key: report it on the section and give up on it.
            errors.push(path, err.message(), err.span());
            return T::default();
        };
        let last = keys.last().map(String::as_str).unwrap_or_default();
        let message = if SECRET_KEYS.contains(&last) && err.message().starts_with("invalid type") {
            "must be a string: env:NAME, file:/path, or the value itself".to_string()
        } else {
            err.message().to_string()
        };
        errors.push(format!("{path}.{}", keys.join(".")), message, err.span().or(Some(key_span)));
        remove(&mut table, &keys);
    }
}

/// The key path of the entry at byte `at`, descending into sub-tables (`[a.b.roles]` is
/// reported as `roles` inside `a.b`, and only `roles` is dropped), with the key's span.
fn culprit(table: &DeTable<'_>, at: usize) -> Option<(Vec<String>, Range<usize>)> {
    for (k, v) in table.iter() {
        if let DeValue::Table(inner) = v.get_ref()
            && let Some((mut keys, span)) = culprit(inner, at)
        {
            keys.insert(0, k.get_ref().to_string());
            return Some((keys, span));
        }
    }
    table
        .iter()
        .find(|(k, v)| k.span().contains(&at) || v.span().contains(&at))
        .map(|(k, _)| (vec![k.get_ref().to_string()], k.span()))
}

/// Removes the entry at `keys` (a path found by [`culprit`]).
fn remove(table: &mut DeTable<'_>, keys: &[String]) {
    match keys {
        [] => {}
        [key] => {
            table.remove(key.as_str());
        }
        [first, rest @ ..] => {
            if let Some(DeValue::Table(inner)) = table.get_mut(first.as_str()).map(|v| v.get_mut()) {
                remove(inner, rest);
            }
        }
    }
}
