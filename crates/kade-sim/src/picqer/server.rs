//! The shared simulator state and the gate every `/api/v1` request passes through:
//! journal → rate limit → fault injection → auth → handler (→ connection kill).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::errors::{ApiError, ApiResult, code, envelope};
use super::faults::Faults;
use super::hooks::Hooks;
use super::journal::Journal;
use super::listener::KillSwitch;
use super::ratelimit::RateLimiter;
use super::state::World;
use crate::clock::SimClock;

/// Largest request body accepted (Picqer's own limit is unknown; this only guards memory).
const MAX_BODY: usize = 16 * 1024 * 1024;

pub struct Sim {
    pub world: Mutex<World>,
    pub hooks: Hooks,
    pub clock: SimClock,
    pub api_key: String,
    pub limiter: Mutex<RateLimiter>,
    pub faults: Mutex<Faults>,
    pub journal: Mutex<Journal>,
}

pub type AppState = Arc<Sim>;

/// Locks a mutex, ignoring poisoning: the simulator never panics while holding a lock on
/// purpose, and a test harness is better served by a live server than a cascade of panics.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Sim {
    /// Runs a world operation under the lock, then sends the events it queued — after the lock is
    /// released, in the order they were queued. Events are sent even when the operation fails
    /// half-way, because whatever it changed did change.
    pub fn run<T>(&self, f: impl FnOnce(&mut World) -> ApiResult<T>) -> ApiResult<T> {
        let (result, events) = {
            let mut world = lock(&self.world);
            let result = f(&mut world);
            (result, world.take_events())
        };
        for (event, data) in events {
            self.hooks.emit(event, data);
        }
        result
    }

    /// Read-only access to the world.
    pub fn read<T>(&self, f: impl FnOnce(&World) -> T) -> T {
        f(&lock(&self.world))
    }
}

/// The username of an `Authorization: Basic` header (the API key; the password is ignored).
fn basic_user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split_once(':').map_or(text.clone(), |(u, _)| u.to_owned()))
}

/// The envelope for an injected status: 429 looks exactly like a real rate-limit answer.
fn fault_response(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::TOO_MANY_REQUESTS {
        return ApiError::rate_limited().into_response();
    }
    envelope(status, code::UNKNOWN, "Simulated fault (injected by /_sim/faults)")
}

/// The middleware in front of every request; it only acts on `/api/v1` (routes and 404s).
async fn gate(State(sim): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if !(path == "/api/v1" || path.starts_with("/api/v1/")) {
        // The control API and stray paths are neither limited, faulted nor journaled.
        return next.run(req).await;
    }
    let method = req.method().as_str().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let user = basic_user(req.headers());
    let kill = req.extensions().get::<ConnectInfo<KillSwitch>>().map(|c| c.0.clone());
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY).await;

    let decision = lock(&sim.limiter).take(user.as_deref().unwrap_or(""));
    let bytes = bytes.ok();
    let (mut response, kill_after) = match &bytes {
        None => (ApiError::bad_request("Request body too large or unreadable").into_response(), None),
        Some(_) if !decision.allowed => (ApiError::rate_limited().into_response(), None),
        Some(bytes) => {
            let fault = lock(&sim.faults).take(&method, &path).unwrap_or_default();
            if let Some(ms) = fault.latency_ms {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            }
            if let Some(status) = fault.status {
                (fault_response(status), None)
            } else if user.as_deref() != Some(sim.api_key.as_str()) {
                (ApiError::unauthorized().into_response(), None)
            } else {
                let req = Request::from_parts(parts, Body::from(bytes.clone()));
                let kill_after = if fault.drop_after_commit { kill } else { None };
                (next.run(req).await, kill_after)
            }
        }
    };
    let body = bytes.as_deref().unwrap_or_default();
    journal(&sim, &method, &path, &query, response.status(), body);
    set_rate_headers(&mut response, decision);
    if let Some(kill) = kill_after {
        // The handler committed; now make sure the client never sees its answer.
        kill.kill();
    }
    response
}

fn journal(sim: &Sim, method: &str, path: &str, query: &str, status: StatusCode, body: &[u8]) {
    let at = sim.clock.now_picqer();
    lock(&sim.journal).record(method, path, query, status.as_u16(), body, at);
}

fn set_rate_headers(response: &mut Response, decision: super::ratelimit::Decision) {
    if let Some(limit) = decision.limit {
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(decision.remaining));
    }
}

async fn unknown_route() -> ApiError {
    ApiError::unknown_route()
}

/// The whole application: `/api/v1` behind the gate, `/_sim` without auth.
pub fn app(state: AppState) -> Router {
    let api = super::api::router().fallback(unknown_route).method_not_allowed_fallback(unknown_route);
    Router::new()
        .nest("/api/v1", api)
        .nest("/_sim", super::control::router())
        .fallback(unknown_route)
        .layer(from_fn_with_state(state.clone(), gate))
        .with_state(state)
}
