#![forbid(unsafe_code)]
//! The one HTTP machinery of every Kade partner client (Picqer, PrestaShop, the messaging
//! providers and every connector after them).
//!
//! A partner client writes only what is its own: its credential headers ([`basic_auth`],
//! [`bearer`]), its error-body parser (over [`TransportError::Status`]'s raw body), and — when the
//! partner sends them — a reader of its rate-limit headers ([`Partner::rate_limit`]). Everything
//! else is here, once:
//! - **A budget per credential** ([`kade_core::Budget`]), fed by the partner's headers, or by a
//!   configured rate where it sends none. Transports built with [`Transport::sharing_budget`]
//!   spend from the same bucket.
//! - **Timeouts** (connect and whole request).
//! - **Classified retries** with backoff and jitter: a repeatable request is retried after 5xx,
//!   timeouts and dropped connections; a 429 waits for budget; a non-repeatable request whose
//!   answer was lost is reported `maybe_applied` and never resent; a refused connection (nothing
//!   sent) may be retried for any request.
//! - **The call record**: every attempt goes to [`kade_calls::note`].
//! - **One classification** ([`ErrorClass`]) and an error that keeps its source and names the
//!   method and path, never the query.
//! - **Counters** ([`TransportStats`]) for benchmarks.

mod budget;
mod config;
mod error;
mod request;
mod transport;

pub use budget::{RateLimitHeaders, TransportStats};
pub use config::{Partner, TransportConfig};
pub use error::{ErrorClass, TransportError, retry_after};
pub use request::{Request, Response};
pub use reqwest::Method;
pub use reqwest::header;
pub use transport::{Transport, basic_auth, bearer};
