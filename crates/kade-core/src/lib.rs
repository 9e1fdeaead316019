#![forbid(unsafe_code)]
//! Kade's domain types and pure rules.
//!
//! Nothing in this crate performs I/O, reads a clock or spawns a task: every function takes what
//! it needs (including "now" and random numbers) as arguments. That keeps the rules testable
//! without a runtime, and lets the connectors stay thin translators around them.

pub mod automation;
pub mod backoff;
pub mod budget;
pub mod datetime;
pub mod dedupe;
pub mod hooks;
pub mod ids;
pub mod money;
pub mod phone;
pub mod picqer;
pub mod prestashop;
pub mod secret;

pub use budget::{Budget, BudgetDecision};
pub use datetime::PicqerDateTime;
pub use money::Money;
pub use secret::Secret;
