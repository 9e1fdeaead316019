//! The evaluation set: questions with the facts each answer must and must not contain, and the
//! orders they are about, created in a Picqer simulator before the run. `kade bench agent` and
//! the tests run it; the report gives the share of facts right and the number of disclosures
//! (an answer to an unverified asker containing something it must not).

mod setup;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::agent::{Agent, Question};
use crate::identity::Channel;
use crate::lang::Lang;

pub use setup::{CreatedOrder, create_orders, create_products};

/// The set shipped in the repository.
pub const BUILTIN: &str = include_str!("../../eval/questions.toml");

/// Why the set could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("evaluation set: {0}")]
    Parse(String),
    #[error("setting up order {key:?}: {message}")]
    Setup { key: String, message: String },
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSet {
    #[serde(default)]
    pub products: Vec<ProductSpec>,
    #[serde(default)]
    pub orders: Vec<OrderSpec>,
    pub questions: Vec<QuestionSpec>,
}

/// A product to create in the simulator, with its stock in the main warehouse (0 elsewhere).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductSpec {
    pub code: String,
    pub name: String,
    pub stock: i64,
    pub barcode: Option<String>,
}

/// One order to create in the simulator.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSpec {
    pub key: String,
    pub reference: Option<String>,
    pub email: Option<String>,
    pub postcode: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub partialdelivery: bool,
    pub lines: Vec<LineSpec>,
    /// Absolute stock set in every warehouse before the order is processed.
    #[serde(default)]
    pub stock: Vec<LineSpec>,
    /// Any of "process", "pick", "ship", "pause", "cancel", in order.
    #[serde(default)]
    pub steps: Vec<String>,
    #[serde(default)]
    pub parcels: Vec<ParcelSpec>,
    #[serde(default)]
    pub separate_shipments: bool,
    /// Expected date set on the order's backorders.
    pub backorder_date: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSpec {
    pub code: String,
    pub amount: i64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ParcelSpec {
    pub trackingcode: String,
    pub carrier: String,
}

/// Who the asker is with respect to the order asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityCase {
    /// The asker proves who they are.
    Ok,
    /// No proof given.
    None,
    /// Proof that does not match (someone else's order, a guess).
    Wrong,
    /// Not about an order.
    NotApplicable,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionSpec {
    pub id: String,
    pub message: String,
    #[serde(default = "default_channel")]
    pub channel: String,
    pub from: Option<String>,
    pub language: Option<String>,
    pub identity: IdentityCase,
    #[serde(default)]
    pub must: Vec<String>,
    #[serde(default)]
    pub must_not: Vec<String>,
}

fn default_channel() -> String {
    "chat".into()
}

impl EvalSet {
    pub fn parse(text: &str) -> Result<EvalSet, EvalError> {
        toml::from_str(text).map_err(|e| EvalError::Parse(e.to_string()))
    }
}

/// One question's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub id: String,
    pub answer: String,
    pub facts_right: usize,
    pub facts_total: usize,
    pub missing: Vec<String>,
    pub present_but_forbidden: Vec<String>,
    pub disclosure: bool,
    /// Time to answer, in microseconds.
    pub micros: u64,
}

/// The whole run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub questions: usize,
    pub facts_right: usize,
    pub facts_total: usize,
    pub disclosures: usize,
    pub outcomes: Vec<Outcome>,
}

impl Report {
    pub fn share(&self) -> f64 {
        if self.facts_total == 0 { 1.0 } else { self.facts_right as f64 / self.facts_total as f64 }
    }
}

/// Replaces `{key.orderid}` and `{key.idorder}` with the created orders' numbers.
pub fn fill(text: &str, orders: &HashMap<String, CreatedOrder>) -> String {
    let mut out = text.to_string();
    for (key, o) in orders {
        out = out.replace(&format!("{{{key}.orderid}}"), &o.orderid);
        out = out.replace(&format!("{{{key}.idorder}}"), &o.idorder.to_string());
    }
    out
}

/// Asks every question and scores the answers.
pub async fn run(agent: &Agent, set: &EvalSet, orders: &HashMap<String, CreatedOrder>) -> Report {
    let mut report = Report::default();
    for q in &set.questions {
        let question = Question {
            message: fill(&q.message, orders),
            channel: Channel::parse(&q.channel).unwrap_or(Channel::Chat),
            from: q.from.as_ref().map(|f| fill(f, orders)),
            language: q.language.as_deref().and_then(Lang::parse),
        };
        let started = std::time::Instant::now();
        let asked = agent.ask(&question).await;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let (answer, facts_json, orders_disclosed) = match asked {
            Ok(r) => {
                let facts = serde_json::to_string(&r.facts).unwrap_or_default();
                (r.answer, facts, !r.facts.orders.is_empty())
            }
            Err(e) => (format!("ERROR: {e}"), String::new(), false),
        };
        let lower = answer.to_lowercase();
        let facts_lower = facts_json.to_lowercase();
        let must: Vec<String> = q.must.iter().map(|m| fill(m, orders)).collect();
        let must_not: Vec<String> = q.must_not.iter().map(|m| fill(m, orders)).collect();
        let missing: Vec<String> = must.iter().filter(|m| !lower.contains(&m.to_lowercase())).cloned().collect();
        let forbidden: Vec<String> = must_not
            .iter()
            .filter(|m| {
                let m = m.to_lowercase();
                lower.contains(&m) || facts_lower.contains(&m)
            })
            .cloned()
            .collect();
        let unverified = matches!(q.identity, IdentityCase::None | IdentityCase::Wrong);
        let disclosure = unverified && (!forbidden.is_empty() || orders_disclosed);
        let total = must.len() + must_not.len();
        let right = total - missing.len() - forbidden.len();
        report.questions += 1;
        report.facts_total += total;
        report.facts_right += right;
        report.disclosures += usize::from(disclosure);
        report.outcomes.push(Outcome {
            id: q.id.clone(),
            answer,
            facts_right: right,
            facts_total: total,
            missing,
            present_but_forbidden: forbidden,
            disclosure,
            micros,
        });
    }
    report
}
