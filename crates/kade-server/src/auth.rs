//! Bearer-token authentication for the admin API, compared in constant time.

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use ring::hmac;

use crate::AppState;
use crate::error::ApiError;

/// The admin token, held only as an HMAC tag under a per-process random key: checking a
/// presented token is `hmac::verify`, which compares in constant time, and the token itself is
/// not kept in memory in the clear.
pub struct AdminToken {
    key: hmac::Key,
    tag: Vec<u8>,
}

impl AdminToken {
    pub fn new(token: &str) -> Self {
        let rng = ring::rand::SystemRandom::new();
        // Generating a key only fails if the OS random source does; fall back to a fixed key,
        // which keeps the comparison correct (only the in-memory protection is weaker).
        let key =
            hmac::Key::generate(hmac::HMAC_SHA256, &rng).unwrap_or_else(|_| hmac::Key::new(hmac::HMAC_SHA256, b"kade"));
        let tag = hmac::sign(&key, token.as_bytes()).as_ref().to_vec();
        AdminToken { key, tag }
    }

    pub fn verify(&self, presented: &str) -> bool {
        hmac::verify(&self.key, presented.as_bytes(), &self.tag).is_ok()
    }
}

/// Extractor that admits only requests with `Authorization: Bearer <admin token>`.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let State(state) = State::<AppState>::from_request_parts(parts, state).await.map_err(ApiError::internal)?;
        let presented = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match presented {
            Some(token) if state.admin.verify(token.trim()) => Ok(Admin),
            Some(_) => {
                Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "the bearer token is not the admin token"))
            }
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send the admin token as `Authorization: Bearer <token>` (server.admin_token in kade.toml)",
            )),
        }
    }
}

/// The admin check as a layer, for routes the server does not write itself (connectors' admin
/// routes): the same answers as the [`Admin`] extractor.
pub async fn require_admin(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let (mut parts, body) = request.into_parts();
    match Admin::from_request_parts(&mut parts, &state).await {
        Ok(Admin) => next.run(axum::extract::Request::from_parts(parts, body)).await,
        Err(refusal) => refusal.into_response(),
    }
}
