//! Kade's cross-crate tests: the real Picqer client against the real Picqer simulator (and the
//! real `kade` binary), over loopback HTTP. One test binary, so linking happens once.

mod agent;
mod automation;
mod automation_channels;
mod automation_cli;
mod automation_rig;
mod budget;
mod check;
mod cli;
mod client_errors;
mod echo_connector;
mod first_sync;
mod hub;
mod ingest;
mod metrics;
mod orders;
mod pagination;
mod prestashop;
mod prestashop_audit;
mod prestashop_hooks;
mod prestashop_more;
mod prestashop_rig;
mod prestashop_upgrade;
mod product_events;
mod purchasing;
mod serve;
mod serve_prestashop;
mod stock;
mod support;
mod webhooks;
