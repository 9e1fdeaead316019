#![forbid(unsafe_code)]
//! A client for the Picqer REST API v1.
//!
//! What it promises, beyond typed resources:
//! - **One budget per API key.** Every request takes a token from a bucket fed by Picqer's
//!   `X-RateLimit-Limit` / `X-RateLimit-Remaining` headers, so long syncs run at the allowed rate
//!   instead of bouncing off 429s. Clients built with [`PicqerClient::share_budget`] spend from the
//!   same bucket.
//! - **Exact retries.** A 429 is answered by waiting and resending exactly the same request (same
//!   URL, same offset). 5xx answers and timeouts are retried only where repeating is safe.
//! - **Classified errors** ([`ErrorClass`]): transient, rate-limited or permanent, with Picqer's
//!   `error_code` and message kept verbatim.
//! - **Tolerant parsing**: unknown fields ignored, `tags` as an object or an array, explicit nulls,
//!   Picqer's datetime format, money as exact [`kade_core::Money`].
//! - **Webhook verification** over the raw bytes in constant time ([`webhook`]).

mod api;
mod config;
mod connect;
mod error;
pub mod events;
mod pager;
mod transport;
pub mod types;
pub mod webhook;

pub use api::orders::CancelMode;
pub use config::{ApiKey, ClientConfig};
pub use connect::{ConnectError, ConnectionInfo};
pub use error::{ErrorClass, PicqerError, codes};
pub use pager::{PAGE_SIZE, Pager};
pub use transport::{ClientStats, PicqerClient};
