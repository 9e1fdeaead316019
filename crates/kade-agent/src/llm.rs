//! The optional language model: an OpenAI-compatible chat-completions endpoint is offered the
//! same read-only tools as MCP clients; Kade runs every tool call itself and lets the model
//! phrase the reply. The identity rules hold because the tools enforce them: `lookup_order`
//! ignores whatever identity the model passes and uses only the claims of the customer's own
//! message and channel ([`Trust::Question`]), so a model that is confused — or talked into
//! trying — never receives another customer's order.

use std::fmt;
use std::time::Duration;

use serde_json::{Value, json};

use crate::agent::{Agent, Question};
use crate::detect;
use crate::error::AgentError;
use crate::facts::{Facts, ProductFacts, Reply};
use crate::lang::{self, Lang};
use crate::orders::OrderFacts;
use crate::tools::{self, Trust};

/// Where the model is. `Debug` never shows the key.
#[derive(Clone)]
pub struct LlmConfig {
    /// e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`; `/chat/completions` is
    /// appended.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub timeout: Duration,
    /// Most request rounds (tool calls and the final answer) per question.
    pub max_rounds: usize,
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .field("max_rounds", &self.max_rounds)
            .finish()
    }
}

impl LlmConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>, api_key: Option<String>) -> Self {
        LlmConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key,
            timeout: Duration::from_secs(30),
            max_rounds: 4,
        }
    }
}

pub struct Llm {
    cfg: LlmConfig,
    http: reqwest::Client,
    url: String,
}

fn system_prompt(lang: Lang) -> String {
    let language = if lang == Lang::Nl { "Dutch (informal 'je')" } else { "English" };
    format!(
        "You are the customer service assistant of a web shop. Answer in {language}, briefly and kindly. \
         Use the tools for every fact about orders and stock; never invent order details, tracking codes, dates or stock. \
         When lookup_order reports that verification is needed, ask for the email address or delivery postcode of the order \
         and say nothing else about the order, not even whether it exists. \
         Mention every tracking code and tracking link the tool returns."
    )
}

impl Llm {
    pub fn new(cfg: LlmConfig) -> Result<Llm, AgentError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = cfg.base_url.trim_end_matches('/');
        let parsed = reqwest::Url::parse(base).map_err(|e| AgentError::Llm(format!("base_url {base:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AgentError::Llm(format!("base_url {base:?} must be http:// or https://")));
        }
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .build()
            .map_err(|e| AgentError::Llm(format!("HTTP client: {e}")))?;
        Ok(Llm { url: format!("{base}/chat/completions"), cfg, http })
    }

    async fn complete(&self, messages: &[Value], tool_defs: &[Value]) -> Result<Value, AgentError> {
        let body = json!({
            "model": self.cfg.model,
            "messages": messages,
            "tools": tool_defs,
            "tool_choice": "auto",
            "temperature": 0,
        });
        let mut req = self.http.post(&self.url).json(&body);
        if let Some(key) = &self.cfg.api_key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().await.map_err(|e| AgentError::Llm(format!("POST {}: {e}", self.url)))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| AgentError::Llm(format!("reading the answer: {e}")))?;
        if !status.is_success() {
            let snippet: String = text.chars().take(300).collect();
            return Err(AgentError::Llm(format!("POST {} answered {status}: {snippet}", self.url)));
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| AgentError::Llm(format!("answer is not JSON: {e}")))?;
        v.pointer("/choices/0/message")
            .cloned()
            .ok_or_else(|| AgentError::Llm("answer has no choices[0].message".into()))
    }

    /// Answers `q` with the model, running its tool calls.
    pub async fn ask(&self, agent: &Agent, q: &Question) -> Result<Reply, AgentError> {
        let a = detect::analyze(&q.message);
        let lang = q.language.unwrap_or_else(|| lang::detect(&q.message, agent.config().default_language));
        let trust = Trust::Question(agent.claims(q, &a));
        let tool_defs: Vec<Value> = tools::definitions()
            .into_iter()
            .map(|(name, description, schema)| {
                json!({"type": "function", "function": {"name": name, "description": description, "parameters": schema}})
            })
            .collect();
        let mut messages = vec![
            json!({"role": "system", "content": system_prompt(lang)}),
            json!({"role": "user", "content": q.message}),
        ];
        let mut facts = Facts::new(lang, q.channel);
        facts.model = Some(self.cfg.model.clone());
        let mut sources = Vec::new();
        for _ in 0..self.cfg.max_rounds.max(1) {
            let msg = self.complete(&messages, &tool_defs).await?;
            let calls = msg.get("tool_calls").and_then(Value::as_array).cloned().unwrap_or_default();
            if calls.is_empty() {
                let answer = msg.get("content").and_then(Value::as_str).unwrap_or_default().trim().to_string();
                if answer.is_empty() {
                    return Err(AgentError::Llm("the model gave an empty answer".into()));
                }
                if facts.intents.is_empty() {
                    facts.intents.push("help");
                }
                sources.dedup();
                return Ok(Reply { answer, facts, sources });
            }
            messages.push(msg.clone());
            for call in calls {
                let id = call.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
                let name = call.pointer("/function/name").and_then(Value::as_str).unwrap_or_default().to_string();
                let raw_args = call.pointer("/function/arguments").cloned().unwrap_or(Value::Null);
                // OpenAI sends arguments as a JSON string; some compatible servers send an object.
                let args = match raw_args {
                    Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::Null),
                    other => other,
                };
                let content = match tools::call(agent, &name, &args, &trust).await {
                    Ok(out) => {
                        record(&mut facts, &mut sources, &name, &out, &args, agent.connection());
                        out
                    }
                    Err(e) => json!({"error": e.to_string()}),
                };
                messages.push(json!({"role": "tool", "tool_call_id": id, "content": content.to_string()}));
            }
        }
        Err(AgentError::Llm(format!("no final answer after {} rounds", self.cfg.max_rounds)))
    }
}

/// Folds a tool result into the reply's facts.
fn record(facts: &mut Facts, sources: &mut Vec<String>, tool: &str, out: &Value, args: &Value, connection: &str) {
    match tool {
        "lookup_order" => {
            if !facts.intents.contains(&"order") {
                facts.intents.push("order");
            }
            if let Some(o) = args.get("order").and_then(Value::as_str) {
                facts.asked_orders.push(o.to_string());
            }
            let label = match out.get("verification").and_then(Value::as_str) {
                Some("verified") => "verified",
                Some("required") => "required",
                _ => "not_verified",
            };
            if facts.verification != Some("not_verified") && facts.verification != Some("required") {
                facts.verification = Some(label);
            }
            if let Some(by) = out.get("verified_by").and_then(|v| serde_json::from_value(v.clone()).ok()) {
                facts.verified_by = facts.verified_by.or(Some(by));
            }
            let orders: Vec<OrderFacts> = out
                .get("orders")
                .and_then(|o| serde_json::from_value::<Vec<OrderFacts>>(o.clone()).ok())
                .unwrap_or_default();
            sources.extend(orders.iter().map(|o| format!("picqer:orders/{}", o.idorder)));
            if orders.is_empty() {
                sources.push("picqer:orders".into());
            }
            facts.orders.extend(orders);
        }
        "search_products" | "get_stock" => {
            if !facts.intents.contains(&"stock") {
                facts.intents.push("stock");
            }
            sources.push(format!("mirror:{connection}/products"));
            let list = out.get("products").cloned().or_else(|| out.get("product").map(|p| json!([p])));
            if let Some(ps) = list.and_then(|l| serde_json::from_value::<Vec<ProductFacts>>(l).ok()) {
                facts.products.extend(ps);
            }
        }
        _ => {}
    }
}
