//! The agent against the Picqer simulator and a real store. One test binary, so linking happens
//! once per crate instead of once per file.

mod eval;
mod llm;
mod mcp;
mod orders;
mod stock;
mod support;
