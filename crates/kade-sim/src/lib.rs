#![forbid(unsafe_code)]
//! Stateful simulators of the partner systems Kade talks to.
//!
//! Each simulator is a second, independent reading of the partner's public documentation: it
//! never reuses the client crates' wire types, so a misreading on one side shows up as a failing
//! test instead of two pieces of code agreeing on a mistake.

pub mod callbacks;
pub mod clock;
pub mod picqer;
pub mod prestashop;
pub mod twilio;
pub mod whatsapp;

pub use clock::SimClock;
