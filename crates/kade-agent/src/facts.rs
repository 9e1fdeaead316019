//! The structured side of an answer: what an integration can show or log next to the text.

use serde::{Deserialize, Serialize};

use crate::identity::{Channel, Proof};
use crate::lang::Lang;
use crate::orders::OrderFacts;
use crate::stock::Availability;

/// A product and its stock, as answers report it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductFacts {
    pub idproduct: i64,
    pub productcode: String,
    pub name: String,
    pub availability: Availability,
    /// Units sellable by the configured formula.
    pub sellable: i64,
}

/// Everything an answer is based on. For an unverified asker `orders` is empty and
/// `verification` reads the same whether or not the order exists.
#[derive(Clone, Debug, Serialize)]
pub struct Facts {
    /// "order", "stock" and/or "help".
    pub intents: Vec<&'static str>,
    pub language: Lang,
    pub channel: Channel,
    /// Order numbers and references as the asker wrote them.
    pub asked_orders: Vec<String>,
    /// "verified", "required" or "not_verified"; absent when no order was asked about.
    pub verification: Option<&'static str>,
    pub verified_by: Option<Proof>,
    pub orders: Vec<OrderFacts>,
    /// The words a product search used.
    pub product_query: Option<String>,
    pub products: Vec<ProductFacts>,
    /// Matching products not listed.
    pub more_products: usize,
    /// Set when the answer came from the language model.
    pub model: Option<String>,
}

impl Facts {
    pub fn new(language: Lang, channel: Channel) -> Facts {
        Facts {
            intents: Vec::new(),
            language,
            channel,
            asked_orders: Vec::new(),
            verification: None,
            verified_by: None,
            orders: Vec::new(),
            product_query: None,
            products: Vec::new(),
            more_products: 0,
            model: None,
        }
    }
}

/// An answer: text for the customer, facts and the sources they came from.
#[derive(Clone, Debug, Serialize)]
pub struct Reply {
    pub answer: String,
    pub facts: Facts,
    pub sources: Vec<String>,
}
