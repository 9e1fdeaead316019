//! One tracing span per HTTP request, so every log line a handler writes carries the request's
//! method and route, and a debug line when it is answered (status, latency).
//!
//! The span names the matched route (`/webhooks/picqer/{connection}`), never the request path:
//! paths carry connection and shop names, and the stock-sync URL carries a token in its query.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

/// `axum::middleware::from_fn` middleware; added with `Router::layer`, so routing has already
/// put the [`MatchedPath`] on the request (absent for the 404 fallback).
pub async fn trace(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("(unmatched)", |p| p.as_str()).to_owned();
    let span = tracing::info_span!("http", method = %request.method(), route);
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| tracing::debug!(status = response.status().as_u16(), ms, "request answered"));
    response
}
