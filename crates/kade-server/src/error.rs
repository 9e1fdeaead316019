//! The admin API's error answers: the engine's [`ApiError`] (connectors answer in the same
//! shape), plus the router's fallback.

pub use kade_engine::http::ApiError;

/// The router's fallback: a JSON 404 like every other refusal.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}
