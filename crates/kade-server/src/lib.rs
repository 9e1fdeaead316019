#![forbid(unsafe_code)]
//! Kade's HTTP surfaces.
//!
//! - `POST /webhooks/picqer/{connection}`: the ingress. It verifies, de-duplicates and commits
//!   before answering, and answers in milliseconds whatever the state of downstream systems;
//!   business failures never become non-2xx answers (Picqer deactivates hooks that fail).
//! - `/api/v1/...`: the admin JSON API, behind a bearer token, including the customer-answer
//!   agent (`/api/v1/agent/ask`) and its MCP server (`/api/v1/mcp`).
//! - `/webhooks/whatsapp`, `/webhooks/twilio/status`: delivery receipts of automation messages,
//!   verified with the provider's signature scheme.
//! - `/healthz`, `/readyz`, `/metrics`.

mod admin;
pub mod agent;
mod auth;
pub mod automation;
mod callbacks;
mod error;
pub mod hub;
pub mod ingress;
pub mod openapi;
mod prestashop;
mod telemetry;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use kade_engine::Engine;
use kade_engine::ingest::IngestBatcher;

pub use auth::AdminToken;
pub use hub::{Hub, HubError, HubOptions};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub admin: Arc<AdminToken>,
    /// Largest webhook body accepted (Picqer's are a few kilobytes).
    pub body_limit: usize,
    /// Commits inbox events in grouped transactions (one fsync for many webhooks).
    pub ingest: IngestBatcher,
    /// Audit entries for refused deliveries, written off the request path.
    pub refusals: ingress::RefusalLog,
    /// Customer answers (order lookup, stock), one agent per connection.
    pub agents: Arc<agent::Agents>,
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/webhooks/picqer/{connection}", post(ingress::picqer))
        .route("/webhooks/prestashop/{shop}", post(prestashop::notification))
        .route("/webhooks/whatsapp", get(callbacks::whatsapp_verify).post(callbacks::whatsapp))
        .route("/webhooks/twilio/status", post(callbacks::twilio_status))
        .route("/prestashop/{shop}/stock-sync", get(prestashop::stock_sync).post(prestashop::stock_sync))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(admin::ready))
        .route("/metrics", get(admin::metrics))
        .route("/api/openapi.json", get(|| async { axum::Json(openapi::document()) }))
        .nest("/api/v1", admin::router(state.clone()))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(telemetry::trace))
        .with_state(state)
}
