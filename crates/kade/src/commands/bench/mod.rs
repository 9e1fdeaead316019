//! `kade bench`: performance figures, each a ratio against a floor measured in the same run.

mod agent;
mod cpu;
mod flows;
mod ingest;
mod ingest_floors;
mod load;
mod picqer;
mod prestashop;

pub use agent::agent;
pub use flows::flows;
pub use ingest::ingest;
pub use picqer::picqer;
pub use prestashop::prestashop_stock;
