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
mod telemetry;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use kade_engine::Engine;
use kade_engine::connector::RouteContext;
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

/// The whole application: the core's routes, and every registered connector's (its public
/// routes as they are, its admin routes under `/api/v1` behind the admin token).
pub fn router(state: AppState) -> Router {
    let connectors = state.engine.connectors();
    let ctx = RouteContext { engine: state.engine.clone(), ingest: state.ingest.clone(), body_limit: state.body_limit };
    let document = Arc::new(openapi::document(&connectors));
    let mut app = Router::new()
        .route("/webhooks/picqer/{connection}", post(ingress::picqer))
        .route("/webhooks/whatsapp", get(callbacks::whatsapp_verify).post(callbacks::whatsapp))
        .route("/webhooks/twilio/status", post(callbacks::twilio_status))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(admin::ready))
        .route("/metrics", get(admin::metrics))
        .route("/api/openapi.json", get(move || async move { axum::Json((*document).clone()) }))
        .nest("/api/v1", admin::router(state.clone()))
        .fallback(error::not_found)
        .with_state(state.clone());
    for connector in &connectors {
        let admin_routes = connector
            .admin_routes(&ctx)
            .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_admin));
        app = app.merge(connector.routes(&ctx)).nest("/api/v1", admin_routes);
    }
    // Last, so that connectors' routes get their span too.
    app.layer(axum::middleware::from_fn(telemetry::trace))
}
