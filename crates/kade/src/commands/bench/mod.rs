//! `kade bench`: performance figures, each a ratio against a floor measured in the same run.

mod ingest;
mod picqer;
mod prestashop;

pub use ingest::ingest;
pub use picqer::picqer;
pub use prestashop::prestashop_stock;
