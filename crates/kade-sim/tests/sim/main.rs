//! The simulators' own tests, in raw HTTP (what any client sees). One test binary, so linking
//! happens once per crate instead of once per file.

mod messaging_sims;
mod picqer_api;
mod picqer_flows;
mod prestashop_api;
mod sim_hooks;
