//! The agent: one Picqer connection's orders (live) and catalogue (mirror), answered in the
//! customer's language.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kade_picqer::PicqerClient;
use kade_store::Store;

use crate::detect::{self, Analysis, OrderRef};
use crate::error::AgentError;
use crate::facts::{Facts, ProductFacts, Reply};
use crate::identity::{Channel, Claims, Gate, Proof, gate};
use crate::lang::{self, Lang};
use crate::llm::{Llm, LlmConfig};
use crate::orders::{OrderFacts, OrderLookup, identity_of};
use crate::search::{Catalogue, Entry};
use crate::stock::StockFormula;
use crate::templates as t;

/// Longest message accepted.
pub const MAX_MESSAGE: usize = 4000;
/// At most this many order references are looked up per message.
const MAX_ORDER_REFS: usize = 3;

/// How the agent behaves.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    pub stock: StockFormula,
    /// Calling code for national phone numbers ("31" for the Netherlands).
    pub default_country: String,
    /// Language when the message does not make it clear.
    pub default_language: Lang,
    /// How long Picqer's answers about an order are reused.
    pub order_cache: Duration,
    /// How old the in-memory catalogue index may get before it is rebuilt from the mirror.
    pub catalogue_refresh: Duration,
    /// Most candidates listed for an ambiguous product question.
    pub max_candidates: usize,
    /// An OpenAI-compatible endpoint that phrases answers; `None` = templates.
    pub llm: Option<LlmConfig>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            stock: StockFormula::default(),
            default_country: "31".into(),
            default_language: Lang::En,
            order_cache: Duration::from_secs(30),
            catalogue_refresh: Duration::from_secs(60),
            max_candidates: 8,
            llm: None,
        }
    }
}

/// A customer's question.
#[derive(Clone, Debug)]
pub struct Question {
    pub message: String,
    pub channel: Channel,
    /// The sender as the channel knows it (phone number for WhatsApp/SMS, address for email).
    pub from: Option<String>,
    /// Forces the answer language.
    pub language: Option<Lang>,
}

/// What an order question may be told.
#[derive(Clone, Debug)]
pub struct OrderOutcome {
    pub gate: Gate,
    pub orders: Vec<OrderFacts>,
}

impl OrderOutcome {
    pub fn proof(&self) -> Option<Proof> {
        match &self.gate {
            Gate::Disclose(_, p) => Some(*p),
            _ => None,
        }
    }
}

/// Products found for a question.
#[derive(Clone, Debug, Default)]
pub struct ProductOutcome {
    pub products: Vec<ProductFacts>,
    /// How many matched in total (more than `products` when the list was cut).
    pub total: usize,
}

struct Snapshot {
    at: Instant,
    catalogue: Arc<Catalogue>,
    counted: Arc<Vec<i64>>,
}

pub struct Agent {
    cfg: AgentConfig,
    store: Store,
    connection: String,
    lookup: OrderLookup,
    snapshot: tokio::sync::Mutex<Option<Snapshot>>,
    llm: Option<Llm>,
}

impl Agent {
    pub fn new(cfg: AgentConfig, client: PicqerClient, store: Store, connection: &str) -> Result<Agent, AgentError> {
        let llm = cfg.llm.clone().map(Llm::new).transpose()?;
        Ok(Agent {
            lookup: OrderLookup::new(client, cfg.order_cache),
            cfg,
            store,
            connection: connection.to_string(),
            snapshot: tokio::sync::Mutex::new(None),
            llm,
        })
    }

    pub fn config(&self) -> &AgentConfig {
        &self.cfg
    }

    pub fn connection(&self) -> &str {
        &self.connection
    }

    /// The catalogue index, rebuilt from the mirror when older than the refresh interval.
    pub async fn catalogue(&self) -> Result<(Arc<Catalogue>, Arc<Vec<i64>>), AgentError> {
        let mut snap = self.snapshot.lock().await;
        if let Some(s) = snap.as_ref().filter(|s| s.at.elapsed() < self.cfg.catalogue_refresh) {
            return Ok((s.catalogue.clone(), s.counted.clone()));
        }
        let mut products = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store.products_after(&self.connection, after, 1000).await?;
            let full = page.len() == 1000;
            after = page.last().map_or(after, |p| p.idproduct);
            products.extend(page);
            if !full {
                break;
            }
        }
        let counted: Vec<i64> = self
            .store
            .references(&self.connection, "warehouse")
            .await?
            .iter()
            .filter(|w| w.get("counts_for_general_stock").and_then(|v| v.as_bool()) == Some(true))
            .filter_map(|w| w.get("idwarehouse").and_then(|v| v.as_i64()))
            .collect();
        let s = Snapshot {
            at: Instant::now(),
            catalogue: Arc::new(Catalogue::build(products)),
            counted: Arc::new(counted),
        };
        let out = (s.catalogue.clone(), s.counted.clone());
        *snap = Some(s);
        Ok(out)
    }

    /// Forgets the index, so the next question rebuilds it (after a sync, in tests).
    pub async fn refresh_catalogue(&self) {
        *self.snapshot.lock().await = None;
    }

    fn product_facts(&self, e: &Entry, counted: &[i64]) -> ProductFacts {
        let sellable = self.cfg.stock.sellable(&e.product.stock, counted);
        ProductFacts {
            idproduct: e.product.idproduct,
            productcode: e.product.productcode.clone(),
            name: e.product.name.clone(),
            availability: self.cfg.stock.availability(sellable, e.unlimited),
            sellable,
        }
    }

    /// Products for search words, best first, at most `limit`.
    pub async fn find_products(&self, words: &[String], limit: usize) -> Result<ProductOutcome, AgentError> {
        let (catalogue, counted) = self.catalogue().await?;
        let hits = catalogue.search(words);
        let products = hits.iter().take(limit).map(|h| self.product_facts(h.entry, &counted)).collect();
        Ok(ProductOutcome { products, total: hits.len() })
    }

    /// One product by exact product code or barcode.
    pub async fn stock_of(&self, code: &str) -> Result<Option<ProductFacts>, AgentError> {
        let (catalogue, counted) = self.catalogue().await?;
        Ok(catalogue.by_code(code).map(|e| self.product_facts(e, &counted)))
    }

    /// What `claims` may learn about order `r`. Details are fetched only for orders the gate
    /// lets through.
    pub async fn lookup_order(&self, r: &OrderRef, claims: &Claims) -> Result<OrderOutcome, AgentError> {
        if claims.is_empty() {
            // Nothing to check against: do not even ask Picqer, so timing cannot tell either.
            return Ok(OrderOutcome { gate: Gate::AskForIdentity, orders: Vec::new() });
        }
        let candidates = self.lookup.candidates(r).await?;
        let identities: Vec<_> = candidates.iter().map(identity_of).collect();
        let g = gate(&identities, claims, &self.cfg.default_country);
        let mut orders = Vec::new();
        if let Gate::Disclose(ids, _) = &g {
            for i in ids {
                orders.push(self.lookup.details(&candidates[*i]).await?);
            }
        }
        Ok(OrderOutcome { gate: g, orders })
    }

    /// Claims a question carries: identity typed in the message plus what the channel vouches for.
    pub fn claims(&self, q: &Question, a: &Analysis) -> Claims {
        Claims::gather(q.channel, q.from.as_deref(), &a.emails, &a.postcodes, &self.cfg.default_country)
    }

    /// Answers a question: through the language model when one is configured (falling back to
    /// templates if it fails), with templates otherwise.
    pub async fn ask(&self, q: &Question) -> Result<Reply, AgentError> {
        validate(q)?;
        if let Some(llm) = &self.llm {
            match llm.ask(self, q).await {
                Ok(reply) => return Ok(reply),
                Err(e) => tracing::warn!(error = %e, "language model failed; answering with templates"),
            }
        }
        self.answer(q).await
    }

    /// The deterministic template answer.
    pub async fn answer(&self, q: &Question) -> Result<Reply, AgentError> {
        validate(q)?;
        let mut a = detect::analyze(&q.message);
        let lang = q.language.unwrap_or_else(|| lang::detect(&q.message, self.cfg.default_language));
        let mut facts = Facts::new(lang, q.channel);
        let mut parts: Vec<String> = Vec::new();
        let mut sources: Vec<String> = Vec::new();
        let (catalogue, _) = self.catalogue().await?;
        // "JKT-0001" reads like a prefixed reference; if it is a product code family, it is one.
        a.order_refs.retain(|r| match r {
            OrderRef::Reference(text) => {
                let code = text.replace(" #", "-").to_lowercase();
                if catalogue.has_code(&code) {
                    a.product_words.push(code);
                    a.asks_stock = true;
                    false
                } else {
                    true
                }
            }
            OrderRef::OrderId(_) => true,
        });
        let claims = self.claims(q, &a);
        if !a.order_refs.is_empty() {
            facts.intents.push("order");
            for r in a.order_refs.iter().take(MAX_ORDER_REFS) {
                facts.asked_orders.push(r.text().to_string());
                let outcome = match self.lookup_order(r, &claims).await {
                    Ok(o) => o,
                    Err(AgentError::Picqer(e)) => {
                        tracing::warn!(error = %e, "order lookup failed");
                        parts.push(t::unavailable(lang));
                        facts.verification = Some("unavailable");
                        break;
                    }
                    Err(e) => return Err(e),
                };
                // The least favourable verification state wins, so one unverified reference is
                // never reported as verified.
                if facts.verification != Some("not_verified") && facts.verification != Some("required") {
                    facts.verification = Some(outcome.gate.label());
                }
                facts.verified_by = facts.verified_by.or(outcome.proof());
                match &outcome.gate {
                    Gate::Disclose(..) => {
                        for o in &outcome.orders {
                            parts.push(t::order(o, lang));
                            sources.push(format!("picqer:orders/{}", o.idorder));
                            sources.extend(
                                o.shipments.iter().take(1).map(|_| format!("picqer:orders/{}/shipments", o.idorder)),
                            );
                        }
                        facts.orders.extend(outcome.orders);
                    }
                    Gate::AskForIdentity => parts.push(t::ask_identity(r.text(), lang)),
                    Gate::NoMatch => parts.push(t::no_match(r.text(), lang)),
                    Gate::TooManyClaims => parts.push(t::too_many_claims(lang)),
                }
            }
            if facts.orders.is_empty() {
                sources.push("picqer:orders".into());
            }
        } else if a.asks_order && !a.asks_stock {
            facts.intents.push("order");
            parts.push(t::need_order_number(lang));
        }
        let stock_question = a.asks_stock || (a.order_refs.is_empty() && !a.asks_order);
        if stock_question && (!a.product_words.is_empty() || a.asks_stock) {
            let found = self.find_products(&a.product_words, self.cfg.max_candidates).await?;
            let query = a.product_words.join(" ");
            // "Unknown product" only for a pure stock question: next to an order question, a
            // stray word is not worth a reply.
            let pure_stock = a.asks_stock && a.order_refs.is_empty() && !facts.intents.contains(&"order");
            if !found.products.is_empty() || pure_stock {
                facts.intents.push("stock");
                facts.product_query = Some(query.clone());
                sources.push(format!("mirror:{}/products", self.connection));
                match found.products.len() {
                    0 => parts.push(t::unknown_product(&query, lang)),
                    1 => parts.push(t::product(&found.products[0], lang)),
                    n => parts.push(t::candidates(&found.products, found.total - n, lang)),
                }
                facts.more_products = found.total - found.products.len();
                facts.products = found.products;
            }
        }
        if parts.is_empty() {
            facts.intents.push("help");
            parts.push(t::help(lang));
        }
        sources.dedup();
        Ok(Reply { answer: parts.join("\n\n"), facts, sources })
    }
}

fn validate(q: &Question) -> Result<(), AgentError> {
    if q.message.trim().is_empty() {
        return Err(AgentError::BadInput("message is empty; send the customer's question as `message`".into()));
    }
    if q.message.len() > MAX_MESSAGE {
        return Err(AgentError::BadInput(format!(
            "message is {} bytes; at most {MAX_MESSAGE} are accepted",
            q.message.len()
        )));
    }
    Ok(())
}
