//! The read-only tools, shared by the MCP server and the language-model path: `lookup_order`,
//! `search_products`, `get_stock`. Identity rules are enforced here, in the tool, so no prompt
//! and no model can talk its way past them.

use serde_json::{Value, json};

use crate::agent::Agent;
use crate::detect::{self, OrderRef};
use crate::error::AgentError;
use crate::identity::{Channel, Claims, Gate, normalize_phone};
use crate::lang::Lang;
use crate::templates as t;

/// Whose word the identity arguments are.
#[derive(Clone, Debug)]
pub enum Trust {
    /// An authenticated integration (MCP): `email`, `postcode` and `phone` arguments are the
    /// asker's proof. `phone` must be the number the conversation comes from, as the channel
    /// verified it — never a number the customer typed.
    Caller,
    /// The language model acting on a customer's message: its identity arguments are ignored
    /// and only the claims of the message and its channel count.
    Question(Claims),
}

/// Why a tool call failed.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("unknown tool {0:?}; the tools are lookup_order, search_products and get_stock")]
    Unknown(String),
    #[error("invalid arguments for {tool}: {message}")]
    Arguments { tool: &'static str, message: String },
    #[error(transparent)]
    Failed(#[from] AgentError),
}

/// Name, description and JSON schema of each tool.
pub fn definitions() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "lookup_order",
            "Look up an order by Picqer order number or shop reference (e.g. 20140079, PS #73). Details are returned only when the asker's email address, delivery postcode or verified phone number matches the order; otherwise the result says verification is needed and nothing else — not even whether the order exists.",
            json!({
                "type": "object",
                "properties": {
                    "order": {"type": "string", "description": "Order number or shop reference as the customer wrote it"},
                    "email": {"type": "string", "description": "Email address the customer gave"},
                    "postcode": {"type": "string", "description": "Delivery postcode the customer gave"},
                    "phone": {"type": "string", "description": "The phone number the conversation comes from, as verified by the channel (WhatsApp/SMS). Never a number typed by the customer."},
                    "language": {"type": "string", "enum": ["en", "nl"]}
                },
                "required": ["order"],
                "additionalProperties": false
            }),
        ),
        (
            "search_products",
            "Search the catalogue by words (name, colour, size, product code, barcode; English or Dutch; typos tolerated). Returns the best matches with stock availability.",
            json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "e.g. \"blue jacket M\" or \"blauwe jas maat M\""},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 8}
                },
                "required": ["query"],
                "additionalProperties": false
            }),
        ),
        (
            "get_stock",
            "Stock availability of one product by exact product code or barcode.",
            json!({
                "type": "object",
                "properties": {"productcode": {"type": "string"}},
                "required": ["productcode"],
                "additionalProperties": false
            }),
        ),
    ]
}

fn text<'a>(tool: &'static str, args: &'a Value, key: &str, required: bool) -> Result<Option<&'a str>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(ToolError::Arguments { tool, message: format!("`{key}` is required") }),
        Some(Value::String(s)) if required && s.trim().is_empty() => {
            Err(ToolError::Arguments { tool, message: format!("`{key}` must not be empty") })
        }
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ToolError::Arguments { tool, message: format!("`{key}` must be a string") }),
    }
}

fn order_ref(text: &str) -> OrderRef {
    let found = detect::analyze(text).order_refs;
    match found.into_iter().next() {
        Some(r) => r,
        None if text.trim().bytes().all(|b| b.is_ascii_digit()) && text.trim().len() >= 6 => {
            OrderRef::OrderId(text.trim().to_string())
        }
        None => OrderRef::Reference(text.trim().to_string()),
    }
}

/// Runs one tool.
pub async fn call(agent: &Agent, name: &str, args: &Value, trust: &Trust) -> Result<Value, ToolError> {
    if !args.is_object() {
        return Err(ToolError::Arguments {
            tool: match name {
                "lookup_order" => "lookup_order",
                "search_products" => "search_products",
                "get_stock" => "get_stock",
                _ => return Err(ToolError::Unknown(name.to_string())),
            },
            message: "arguments must be a JSON object".into(),
        });
    }
    match name {
        "lookup_order" => {
            const TOOL: &str = "lookup_order";
            let order = text(TOOL, args, "order", true)?.unwrap_or_default();
            let lang =
                text(TOOL, args, "language", false)?.and_then(Lang::parse).unwrap_or(agent.config().default_language);
            let cc = agent.config().default_country.clone();
            let claims = match trust {
                Trust::Question(c) => c.clone(),
                Trust::Caller => {
                    let emails: Vec<String> =
                        text(TOOL, args, "email", false)?.into_iter().map(str::to_string).collect();
                    let postcodes: Vec<String> =
                        text(TOOL, args, "postcode", false)?.into_iter().map(str::to_string).collect();
                    let mut c = Claims::gather(Channel::Api, None, &emails, &postcodes, &cc);
                    if let Some(p) = text(TOOL, args, "phone", false)? {
                        c.phone = Some(normalize_phone(p, &cc).ok_or_else(|| ToolError::Arguments {
                            tool: TOOL,
                            message: "`phone` is not a phone number (use E.164, e.g. +31612345678)".into(),
                        })?);
                    }
                    c
                }
            };
            let r = order_ref(order);
            let outcome = agent.lookup_order(&r, &claims).await?;
            Ok(match &outcome.gate {
                Gate::Disclose(..) => json!({
                    "verification": outcome.gate.label(),
                    "verified_by": outcome.proof(),
                    "orders": outcome.orders,
                }),
                Gate::AskForIdentity => {
                    json!({"verification": outcome.gate.label(), "message": t::ask_identity(r.text(), lang)})
                }
                Gate::NoMatch => json!({"verification": outcome.gate.label(), "message": t::no_match(r.text(), lang)}),
                Gate::TooManyClaims => {
                    json!({"verification": outcome.gate.label(), "message": t::too_many_claims(lang)})
                }
            })
        }
        "search_products" => {
            const TOOL: &str = "search_products";
            let query = text(TOOL, args, "query", true)?.unwrap_or_default();
            let limit = match args.get("limit") {
                None | Some(Value::Null) => agent.config().max_candidates,
                Some(v) => match v.as_u64() {
                    Some(n @ 1..=50) => n as usize,
                    _ => {
                        return Err(ToolError::Arguments {
                            tool: TOOL,
                            message: "`limit` must be an integer from 1 to 50".into(),
                        });
                    }
                },
            };
            let mut words = detect::analyze(query).product_words;
            if words.is_empty() {
                words = query.split_whitespace().map(str::to_lowercase).collect();
            }
            let found = agent.find_products(&words, limit).await?;
            Ok(json!({"query": query, "total": found.total, "products": found.products}))
        }
        "get_stock" => {
            let code = text("get_stock", args, "productcode", true)?.unwrap_or_default();
            Ok(match agent.stock_of(code).await? {
                Some(p) => json!({"found": true, "product": p}),
                None => json!({"found": false, "productcode": code}),
            })
        }
        other => Err(ToolError::Unknown(other.to_string())),
    }
}
