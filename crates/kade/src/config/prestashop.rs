//! `[prestashop.NAME]`: a PrestaShop shop feeding one of the Picqer connections
//! (docs/prestashop.md lists every option). Checked like the rest of the file: every problem
//! named by its key and line, secrets resolved but never echoed, and the cross-checks a shop
//! needs before it can run (its Picqer connection exists, prefixes are unique, a shop name
//! never shadows a Picqer connection, whose records and audit entities share the namespace).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::time::Duration;

use kade_core::picqer::PicqerStatus;
use kade_core::prestashop::{OrderPrefix, ShopName, StatusRule, StockFormula, WsKey};
use kade_prestashop::ShopSettings;
use toml::Spanned;

use super::model::Secret;
use super::raw::{RawRoles, RawShop, RawStatusRule, RawStockFormula};
use super::validate::Check;

/// Shared secrets Kade checks signatures and tokens with: long enough not to be guessed.
const MIN_SHARED_SECRET: usize = 16;
/// Stands in for the key while the rest of the section is read (never used: see `shop`).
const WS_PLACEHOLDER: &str = "00000000000000000000000000000000";
const DEFAULT_POLL_SECONDS: i64 = 300;
const MAX_POLL_SECONDS: i64 = 86_400;
/// Bounds of the webservice pace: a shared host rarely takes more than a few dozen a second.
const MAX_REQUESTS_PER_SECOND: i64 = 1_000;
const MAX_BURST: i64 = 10_000;

impl Check<'_, '_, '_> {
    /// Every shop, then the checks across shops. `picqer` names the valid Picqer connections
    /// (`None` for one whose own section failed: not reported again as missing).
    pub(super) fn shops(
        &mut self,
        raw: BTreeMap<String, (Range<usize>, RawShop)>,
        picqer: &BTreeMap<String, bool>,
    ) -> Option<BTreeMap<String, ShopSettings>> {
        let mut shops = BTreeMap::new();
        let mut ok = true;
        let mut prefixes: BTreeMap<OrderPrefix, String> = BTreeMap::new();
        for (name, (name_span, shop)) in raw {
            let prefix_span = shop.prefix.as_ref().map(Spanned::span).unwrap_or(name_span.clone());
            match self.shop(&name, name_span, shop, picqer) {
                Some(s) => {
                    if let Some(first) = prefixes.insert(s.prefix.clone(), name.clone()) {
                        let msg = format!(
                            "prefix {:?} is already used by [prestashop.{first}]; each shop needs its own prefix, \
                             or Picqer references of the two shops could collide",
                            s.prefix
                        );
                        self.errors.push(format!("prestashop.{name}.prefix"), msg, Some(prefix_span));
                        ok = false;
                    }
                    shops.insert(name, s);
                }
                None => ok = false,
            }
        }
        ok.then_some(shops)
    }

    fn shop(
        &mut self,
        name: &str,
        name_span: Range<usize>,
        raw: RawShop,
        picqer: &BTreeMap<String, bool>,
    ) -> Option<ShopSettings> {
        let path = format!("prestashop.{name}");
        let key = |k: &str| format!("{path}.{k}");
        let mut ok = true;
        let shop_name = match name.parse::<ShopName>() {
            Err(_) => {
                // The path already shows the name; the type's message would repeat it.
                let msg = "shop name must be 1 to 32 characters from letters, digits, '-' and '_' (it appears in URLs)";
                self.errors.push(&path, msg, Some(name_span.clone()));
                None
            }
            Ok(_) if picqer.contains_key(name) => {
                let msg = format!(
                    "a Picqer connection is already named {name:?}; give the shop another name (connections share one namespace)"
                );
                self.errors.push(&path, msg, Some(name_span.clone()));
                None
            }
            Ok(n) => Some(n),
        };
        let conn = match raw.picqer {
            Some(p) => match picqer.get(p.get_ref().as_str()) {
                Some(_) => Some(p.into_inner()),
                None => {
                    let known: Vec<&str> = picqer.keys().map(String::as_str).collect();
                    let msg = format!(
                        "there is no [picqer.{}] connection (configured: {})",
                        p.get_ref(),
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    );
                    self.errors.push(key("picqer"), msg, Some(p.span()));
                    None
                }
            },
            None if picqer.len() == 1 => picqer.keys().next().cloned(),
            None => {
                self.errors.push_missing(&key("picqer"), "is required: the Picqer connection this shop's orders go to");
                None
            }
        };
        let shop_url = match raw.shop_url {
            Some(u) => self.http_url_text(&key("shop_url"), u),
            None => {
                self.errors
                    .push_missing(&key("shop_url"), "is required, e.g. \"https://shop.example\" (/api is appended)");
                None
            }
        };
        let ws_key = match raw.ws_key {
            Some(k) => {
                let span = k.span();
                match self.secret_text(&key("ws_key"), k, 1).map(|s| s.expose().parse::<WsKey>()) {
                    Some(Ok(k)) => Some(k),
                    Some(Err(e)) => {
                        self.errors.push(key("ws_key"), e.to_string(), Some(span));
                        None
                    }
                    None => None,
                }
            }
            None => {
                self.errors.push_missing(&key("ws_key"), "is required: env:NAME, file:PATH or the key itself");
                None
            }
        };
        let notify_secret = match raw.notify_secret {
            Some(s) => self.secret_text(&key("notify_secret"), s, MIN_SHARED_SECRET),
            None => {
                self.errors.push_missing(
                    &key("notify_secret"),
                    "is required: the shared secret of the shop's notification module (at least 16 characters)",
                );
                None
            }
        };
        let full_sync_token = match raw.full_sync_token {
            Some(t) => self.secret_text(&key("full_sync_token"), t, MIN_SHARED_SECRET).map(Some),
            None => Some(None),
        };
        // Placeholders until every key is read (so every problem is reported in one run); each is
        // replaced below, or the shop is refused.
        let placeholder_name = ShopName::try_from("placeholder").expect("a valid constant name");
        let placeholder_key = WS_PLACEHOLDER.parse().expect("a valid constant key");
        let mut s = ShopSettings::new(placeholder_name, "", "", placeholder_key, Secret::new(""));
        if let Some(p) = raw.prefix {
            match p.get_ref().parse::<OrderPrefix>() {
                Ok(prefix) => s.prefix = prefix,
                Err(e) => {
                    self.errors.push(key("prefix"), format!("{e}; it starts the Picqer reference"), Some(p.span()));
                    ok = false;
                }
            }
        }
        if let Some(tags) = raw.tags {
            let mut seen = BTreeSet::new();
            for (i, t) in tags.into_inner().into_iter().enumerate() {
                let title = t.get_ref().trim().to_string();
                if title.is_empty() || !seen.insert(title.clone()) {
                    let msg = if title.is_empty() {
                        "must not be empty".to_string()
                    } else {
                        format!("{title:?} is listed twice")
                    };
                    self.errors.push(format!("{path}.tags[{i}]"), msg, Some(t.span()));
                    ok = false;
                } else {
                    s.tags.push(title);
                }
            }
        }
        let flags = [
            (raw.use_shop_price, &mut s.use_shop_price),
            (raw.create_missing_products, &mut s.create_missing_products),
            (raw.allocate_concept, &mut s.allocate_concept),
            (raw.send_status_email, &mut s.send_status_email),
            (raw.stock_sync, &mut s.stock_sync),
            (raw.full_stock_on_webhook, &mut s.full_stock_on_webhook),
        ];
        for (value, target) in flags {
            if let Some(v) = value {
                *target = v;
            }
        }
        if let Some(roles) = raw.roles {
            ok &= self.roles(&path, roles, &mut s);
        }
        if let Some(rows) = raw.status_map {
            match self.status_map(&path, rows) {
                Some(rules) => s.status_map = rules,
                None => ok = false,
            }
        }
        if let Some(f) = raw.stock_formula {
            match self.stock_formula(&path, f) {
                Some(f) => s.stock_formula = f,
                None => ok = false,
            }
        }
        if let Some(secs) = raw.poll_seconds {
            match *secs.get_ref() {
                n @ 0..=MAX_POLL_SECONDS => s.poll_every = Duration::from_secs(n as u64),
                n => {
                    let msg = format!("must be between 0 (off) and {MAX_POLL_SECONDS} seconds, got {n}");
                    self.errors.push(key("poll_seconds"), msg, Some(secs.span()));
                    ok = false;
                }
            }
        } else {
            s.poll_every = Duration::from_secs(DEFAULT_POLL_SECONDS as u64);
        }
        // The shop sends no rate-limit headers: Kade paces itself at a configured rate.
        for (name, value, max, slot) in [
            ("requests_per_second", raw.requests_per_second, MAX_REQUESTS_PER_SECOND, &mut s.requests_per_second),
            ("burst", raw.burst, MAX_BURST, &mut s.burst),
        ] {
            let Some(v) = value else { continue };
            match u32::try_from(*v.get_ref()) {
                Ok(n @ 1..) if i64::from(n) <= max => *slot = n,
                _ => {
                    let msg = format!("must be between 1 and {max}, got {}", v.get_ref());
                    self.errors.push(key(name), msg, Some(v.span()));
                    ok = false;
                }
            }
        }
        ok.then_some(())?;
        s.name = shop_name?;
        s.picqer = conn?;
        s.shop_url = shop_url?;
        s.ws_key = ws_key?;
        s.notify_secret = notify_secret?;
        s.full_sync_token = full_sync_token?;
        Some(s)
    }

    fn roles(&mut self, path: &str, raw: RawRoles, s: &mut ShopSettings) -> bool {
        let mut ok = true;
        for (name, list, target) in [
            ("create", raw.create, &mut s.roles.create),
            ("process", raw.process, &mut s.roles.process),
            ("cancel", raw.cancel, &mut s.roles.cancel),
        ] {
            if let Some(list) = list {
                let bad = list.get_ref().iter().any(|n| *n <= 0);
                let key = format!("{path}.roles.{name}");
                if bad {
                    self.errors.push(key, "must list PrestaShop order state ids (positive numbers)", Some(list.span()));
                    ok = false;
                } else {
                    *target = list.into_inner().into_iter().map(|n| n as u64).collect();
                }
            }
        }
        ok
    }

    fn status_map(&mut self, path: &str, rows: Spanned<Vec<RawStatusRule>>) -> Option<Vec<StatusRule>> {
        let mut rules = Vec::new();
        let mut ok = true;
        for (i, row) in rows.into_inner().into_iter().enumerate() {
            let key = |k: &str| format!("{path}.status_map[{i}].{k}");
            let picqer = match row.picqer.get_ref().parse::<PicqerStatus>() {
                Ok(st) => Some(st),
                Err(e) => {
                    self.errors.push(key("picqer"), e.to_string(), Some(row.picqer.span()));
                    None
                }
            };
            let state = |v: &Spanned<i64>| u64::try_from(*v.get_ref()).ok().filter(|n| *n > 0);
            let when = match &row.when {
                None => Some(None),
                Some(w) => match state(w) {
                    Some(n) => Some(Some(n)),
                    None => {
                        let msg = "must be a PrestaShop order state id (leave it out for any state)";
                        self.errors.push(key("when"), msg, Some(w.span()));
                        None
                    }
                },
            };
            let then = state(&row.then);
            if then.is_none() {
                self.errors.push(key("then"), "must be a PrestaShop order state id", Some(row.then.span()));
            }
            match (when, picqer, then) {
                (Some(when), Some(picqer), Some(then)) => rules.push(StatusRule { when, picqer, then }),
                _ => ok = false,
            }
        }
        ok.then_some(rules)
    }

    fn stock_formula(&mut self, path: &str, raw: RawStockFormula) -> Option<StockFormula> {
        let mut f = StockFormula::default();
        if let Some(w) = raw.warehouses {
            if w.get_ref().iter().any(|id| *id <= 0) {
                let msg = "must list Picqer warehouse ids (positive numbers); leave it out for all warehouses";
                self.errors.push(format!("{path}.stock_formula.warehouses"), msg, Some(w.span()));
                return None;
            }
            f.warehouses = w.into_inner().into_iter().map(|id| id as u64).collect();
        }
        if let Some(v) = raw.include_allocated {
            f.include_allocated = v;
        }
        if let Some(v) = raw.clamp_at_zero {
            f.clamp_at_zero = v;
        }
        Some(f)
    }
}
