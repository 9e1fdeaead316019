//! The connectors this build of Kade knows, built from the configuration. Adding a connector to
//! Kade is one line here (docs/design.md, "Adding a connector"); `serve`, `check` and the hub
//! take everything else from the [`Connector`] trait.

use std::sync::Arc;

use kade_engine::Connector;

use crate::config::Config;

/// Every connector, with its configured instances.
pub fn registered(cfg: &Config) -> Vec<Arc<dyn Connector>> {
    vec![kade_prestashop::PrestaConnector::new(cfg.prestashop.values().cloned().collect())]
}
