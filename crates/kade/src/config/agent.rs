//! `[agent]`: how Kade answers customers (docs/agent.md). Every key is optional.

use std::time::Duration;

use kade_agent::stock::{StockBasis, StockFormula};
use kade_agent::{AgentConfig, Lang, LlmConfig};

use super::raw::{RawAgent, RawLlm, RawStock};
use super::validate::Check;

impl Check<'_, '_, '_> {
    pub(super) fn agent(&mut self, raw: RawAgent) -> Option<AgentConfig> {
        let mut cfg = AgentConfig::default();
        let mut ok = true;
        if let Some(l) = raw.language {
            match Lang::parse(l.get_ref()) {
                Some(lang) => cfg.default_language = lang,
                None => {
                    self.errors.push(
                        "agent.language",
                        format!("must be \"en\" or \"nl\", got {:?}", l.get_ref()),
                        Some(l.span()),
                    );
                    ok = false;
                }
            }
        }
        if let Some(cc) = raw.country_code {
            let code = cc.get_ref().trim().trim_start_matches('+');
            if (1..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) && !code.starts_with('0') {
                cfg.default_country = code.to_string();
            } else {
                let msg = format!("must be a telephone country calling code like \"31\", got {:?}", cc.get_ref());
                self.errors.push("agent.country_code", msg, Some(cc.span()));
                ok = false;
            }
        }
        if let Some(secs) = raw.order_cache_seconds {
            match u64::try_from(*secs.get_ref()) {
                Ok(s @ 0..=3600) => cfg.order_cache = Duration::from_secs(s),
                _ => {
                    let msg = format!("must be between 0 and 3600 (seconds), got {}", secs.get_ref());
                    self.errors.push("agent.order_cache_seconds", msg, Some(secs.span()));
                    ok = false;
                }
            }
        }
        if let Some(stock) = raw.stock {
            match self.stock(stock) {
                Some(f) => cfg.stock = f,
                None => ok = false,
            }
        }
        if let Some(llm) = raw.llm {
            match self.llm(llm) {
                Some(l) => cfg.llm = Some(l),
                None => ok = false,
            }
        }
        ok.then_some(cfg)
    }

    fn stock(&mut self, raw: RawStock) -> Option<StockFormula> {
        let mut f = StockFormula::default();
        let mut ok = true;
        if let Some(w) = raw.warehouses {
            if w.get_ref().iter().any(|id| *id <= 0) {
                self.errors.push(
                    "agent.stock.warehouses",
                    "must list Picqer warehouse ids (positive numbers)",
                    Some(w.span()),
                );
                ok = false;
            }
            f.warehouses = w.into_inner();
        }
        if let Some(b) = raw.basis {
            match b.get_ref().as_str() {
                "free" => f.basis = StockBasis::Free,
                "physical" => f.basis = StockBasis::Physical,
                other => {
                    let msg = format!("must be \"free\" (stock minus reservations) or \"physical\", got {other:?}");
                    self.errors.push("agent.stock.basis", msg, Some(b.span()));
                    ok = false;
                }
            }
        }
        for (key, value, target) in [("buffer", raw.buffer, &mut f.buffer), ("low_at", raw.low_at, &mut f.low_at)] {
            if let Some(v) = value {
                if *v.get_ref() < 0 {
                    self.errors.push(format!("agent.stock.{key}"), "must not be negative", Some(v.span()));
                    ok = false;
                }
                *target = *v.get_ref();
            }
        }
        ok.then_some(f)
    }

    fn llm(&mut self, raw: RawLlm) -> Option<LlmConfig> {
        let base_url = match raw.base_url {
            Some(u) => self.http_url_text("agent.llm.base_url", u),
            None => {
                self.errors
                    .push_missing("agent.llm.base_url", "is required with [agent.llm], e.g. https://api.openai.com/v1");
                None
            }
        };
        let model = match raw.model {
            Some(m) if !m.get_ref().trim().is_empty() => Some(m.get_ref().trim().to_string()),
            Some(m) => {
                self.errors.push("agent.llm.model", "must not be empty", Some(m.span()));
                None
            }
            None => {
                self.errors.push_missing("agent.llm.model", "is required with [agent.llm], e.g. \"gpt-4o-mini\"");
                None
            }
        };
        let api_key = match raw.api_key {
            Some(k) => Some(self.secret_text("agent.llm.api_key", k, 1)?),
            None => None,
        };
        let mut timeout = Duration::from_secs(30);
        if let Some(t) = raw.timeout_seconds {
            match u64::try_from(*t.get_ref()) {
                Ok(s @ 1..=300) => timeout = Duration::from_secs(s),
                _ => {
                    let msg = format!("must be between 1 and 300 (seconds), got {}", t.get_ref());
                    self.errors.push("agent.llm.timeout_seconds", msg, Some(t.span()));
                    return None;
                }
            }
        }
        let mut cfg = LlmConfig::new(base_url?, model?, api_key.map(|k| k.expose().to_string()));
        cfg.timeout = timeout;
        Some(cfg)
    }
}
