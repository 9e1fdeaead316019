#![forbid(unsafe_code)]
//! The PrestaShop connector: a client for PrestaShop's classic webservice (`/api/...`) and, in
//! [`connector`], the flows, jobs and routes that join a shop to Kade (registered with
//! `kade_prestashop::connector::PrestaConnector`).
//!
//! The client always asks for JSON output and tolerates the renderer's quirks (an empty list is a bare
//! `[]`, numbers arrive as strings, multilingual fields as `[{"id","value"}]`); it writes XML,
//! the only input format; and it updates objects by re-sending the whole object it just read,
//! because a PUT nulls every field it does not carry.

pub mod client;
mod config;
pub mod connector;
pub mod error;
mod images;
pub mod object;
pub mod types;
pub mod xml;

pub use client::PrestaClient;
pub use config::{DEFAULT_BURST, DEFAULT_REQUESTS_PER_SECOND, PrestaConfig};
pub use connector::{PrestaConnector, ShopSettings};
pub use error::{ErrorClass, PrestaError};
pub use images::ProductImage;
pub use object::Object;
pub use types::*;
