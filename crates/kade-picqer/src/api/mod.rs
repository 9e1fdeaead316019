//! Endpoint methods, grouped by resource. Each is a thin wrapper: build a [`Request`], send it.
//!
//! [`Request`]: kade_transport::Request

pub(crate) mod catalogue;
pub(crate) mod hooks;
pub(crate) mod orders;
pub(crate) mod parties;
pub(crate) mod purchasing;
pub(crate) mod returns;
