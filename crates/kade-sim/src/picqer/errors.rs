//! Picqer's error envelope and the table of error codes the simulator uses.
//!
//! Picqer answers every failure with `{"error":true,"error_code":N,"error_message":"..."}` and
//! promises each `error_code` is unique, so clients branch on the code. Keeping every code in one
//! table (instead of literals spread over handlers) mirrors the advice in the reference (§8.13):
//! codes drift, and a single table is the only place that has to follow.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Error codes. Those marked GUESS are not documented for the situation they are used in.
pub mod code {
    /// "Unknown application error" (documented).
    pub const UNKNOWN: u32 = 1;
    /// GUESS: the code on a 401 for a wrong or missing API key (2–4 are absent from the table).
    pub const UNAUTHORIZED: u32 = 3;
    /// "Missing parameters with POST or PUT" (documented). Also used, as a GUESS, for malformed
    /// JSON and for parameters of the wrong type, which Picqer reports as 400 as well.
    pub const MISSING_PARAMETERS: u32 = 5;
    /// GUESS: the docs list 7 as "Resource ID found"; we read it as "resource not found" and use
    /// it for every 404 on an unknown id.
    pub const NOT_FOUND: u32 = 7;
    /// "API function not yet implemented" (documented); used for unknown routes (404).
    pub const NOT_IMPLEMENTED: u32 = 8;
    /// "Invalid customer to add to order" (documented).
    pub const INVALID_CUSTOMER: u32 = 12;
    /// "Order is missing products" (documented).
    pub const ORDER_MISSING_PRODUCTS: u32 = 13;
    /// "Unknown vatgroup" (documented).
    pub const UNKNOWN_VATGROUP: u32 = 14;
    /// "No product given" (documented).
    pub const NO_PRODUCT_GIVEN: u32 = 15;
    /// 404 from `/products/{id}/parts` for a product without parts (seen in client code).
    pub const NO_PARTS: u32 = 20;
    /// "Product does not exist", e.g. an unknown productcode on an order line (client code).
    pub const PRODUCT_NOT_EXIST: u32 = 24;
    /// Rate limit exceeded (Hookdeck summary of Picqer's docs).
    pub const RATE_LIMIT: u32 = 28;
    /// "Order is being processed" (client code); used when cancelling a processing order
    /// without `force`.
    pub const ORDER_BEING_PROCESSED: u32 = 30;
    /// GUESS: "fatal error with a meaningful message" (client code). Used for business-rule
    /// refusals that have no documented code: stock below zero or below picklist reservations,
    /// wrong status for an action, duplicate productcode.
    pub const BUSINESS_RULE: u32 = 31;
    /// "Order already closed (processed)" (client code).
    pub const ORDER_ALREADY_CLOSED: u32 = 32;
    /// "Amount cannot be changed / product cannot be removed when order is processed" (changelog).
    pub const ORDER_PROCESSED_LOCKED: u32 = 33;
}

/// A failed API call, rendered as Picqer's error envelope.
#[derive(Debug, Clone, thiserror::Error)]
#[error("HTTP {status}, error_code {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }

    /// 400 with error_code 5.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code::MISSING_PARAMETERS, message)
    }

    /// 400 for a required parameter that is absent or empty.
    pub fn missing(field: &str) -> Self {
        Self::bad_request(format!("Missing parameter: {field}"))
    }

    /// 404 for an unknown id of `what` (e.g. "Product").
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, code::NOT_FOUND, format!("{what} not found"))
    }

    /// 400 for a refusal with no documented code.
    pub fn rule(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code::BUSINESS_RULE, message)
    }

    /// 400 with an explicit code.
    pub fn code400(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code::UNAUTHORIZED, "Invalid API key or no access to this function")
    }

    pub fn rate_limited() -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, code::RATE_LIMIT, "Rate limit exceeded")
    }

    pub fn unknown_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, code::NOT_IMPLEMENTED, "API function not found or not implemented")
    }
}

/// Builds the envelope response; shared with the fault injector, which answers arbitrary statuses.
pub fn envelope(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({"error": true, "error_code": code, "error_message": message});
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        envelope(self.status, self.code, &self.message)
    }
}

/// Result alias for handlers and world operations.
pub type ApiResult<T> = Result<T, ApiError>;
