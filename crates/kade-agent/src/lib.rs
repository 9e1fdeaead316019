#![forbid(unsafe_code)]
//! Answers for customers: "where is my order?" and "is the blue jacket in stock in M?", from
//! live Picqer data (orders) and Kade's mirror (catalogue and stock).
//!
//! - [`detect`] reads a message: order numbers, shop references, offered identity, product words.
//! - [`identity`] holds the rules for who may hear about an order — pure and tested on its own.
//! - [`orders`] looks orders up in Picqer (with a short cache); [`search`] is the in-memory,
//!   typo-tolerant catalogue index; [`stock`] the sellable-stock formula.
//! - [`agent::Agent`] answers a [`agent::Question`] with [`templates`] in English or Dutch, or
//!   through an OpenAI-compatible model ([`llm`]) that calls the same [`tools`] — which are also
//!   what the MCP server ([`mcp`]) offers.

pub mod agent;
pub mod detect;
pub mod error;
pub mod eval;
pub mod facts;
pub mod identity;
pub mod lang;
pub mod llm;
pub mod mcp;
pub mod orders;
pub mod search;
pub mod stock;
pub mod templates;
pub mod tools;
pub mod words;

pub use agent::{Agent, AgentConfig, Question};
pub use error::AgentError;
pub use facts::{Facts, ProductFacts, Reply};
pub use identity::Channel;
pub use lang::Lang;
pub use llm::LlmConfig;
