//! `POST /webhooks/picqer/{connection}`.
//!
//! Order of work: read the raw bytes (bounded), find the connection, verify the signature over
//! those bytes, parse, de-duplicate, commit inbox row + job in one transaction, answer. The
//! transaction is shared with concurrent deliveries (grouped commit, [`kade_engine::ingest`]);
//! the answer still waits until the one holding this event has committed. Refusals
//! (413, 404, 401, 400) store nothing but are counted and audited. A storage failure answers 503:
//! nothing was committed, and Picqer retries.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kade_engine::picqer::{InboundError, InboundOutcome, ingest_delivery};
use kade_engine::{Engine, now_ms};
use std::time::Instant;

use tokio::sync::mpsc;

use crate::AppState;
use crate::error::ApiError;

/// Writes audit entries for refused deliveries from one background task, through a bounded
/// queue. A flood of refusals (an attacker, or a retry storm) must neither slow the answers down
/// nor starve the store's single writer; when the queue is full the entry is dropped and counted
/// (`kade_audit_dropped_total`) — the refusal itself is always counted in `kade_webhooks_total`.
#[derive(Clone)]
pub struct RefusalLog {
    tx: mpsc::Sender<kade_store::AuditEntry>,
}

/// Refusal entries waiting to be written at most.
const REFUSAL_QUEUE: usize = 256;

impl RefusalLog {
    pub fn start(engine: Engine) -> Self {
        let (tx, mut rx) = mpsc::channel::<kade_store::AuditEntry>(REFUSAL_QUEUE);
        tokio::spawn(async move {
            while let Some(entry) = rx.recv().await {
                if let Err(e) = engine.store().audit(&entry).await {
                    tracing::warn!(error = %e, "audit write failed");
                }
            }
        });
        RefusalLog { tx }
    }
}

/// An answer and the result it is counted under (`kade_webhooks_total{result}`).
type Answer = (Response, &'static str);

fn refuse(state: &AppState, connection: &str, status: StatusCode, code: &'static str, message: String) -> Answer {
    let entry = kade_store::AuditEntry {
        at_ms: now_ms(),
        connection: Some(connection.to_string()),
        entity: None,
        action: format!("webhook refused: {code}"),
        detail: serde_json::json!({"status": status.as_u16(), "message": message}),
    };
    if state.refusals.tx.try_send(entry).is_err() {
        state.engine.metrics().audit_dropped("refusal_queue_full");
    }
    (ApiError::new(status, code, message).into_response(), code)
}

pub async fn picqer(
    State(state): State<AppState>,
    Path(connection): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // Timed from the handler's start (the body is read inside) to the answer, refusals included.
    let started = Instant::now();
    let (response, result) = answer(&state, &connection, &headers, body).await;
    state.engine.metrics().acknowledged("picqer", result, started.elapsed());
    response
}

async fn answer(state: &AppState, connection: &str, headers: &HeaderMap, body: Body) -> Answer {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = || format!("the body exceeds {} bytes", state.body_limit);
    if declared.is_some_and(|n| n > state.body_limit) {
        return refuse(state, connection, StatusCode::PAYLOAD_TOO_LARGE, "too_large", too_large());
    }
    let bytes = match axum::body::to_bytes(body, state.body_limit).await {
        Ok(b) => b,
        Err(e) if e.to_string().to_lowercase().contains("length limit") => {
            return refuse(state, connection, StatusCode::PAYLOAD_TOO_LARGE, "too_large", too_large());
        }
        Err(e) => {
            return refuse(
                state,
                connection,
                StatusCode::BAD_REQUEST,
                "unreadable",
                format!("could not read the body: {e}"),
            );
        }
    };
    let Some(conn) = state.engine.picqer(connection) else {
        let msg = format!("no Picqer connection named {connection:?} on this Kade");
        return refuse(state, connection, StatusCode::NOT_FOUND, "unknown_connection", msg);
    };
    let signature = headers.get("x-picqer-signature").and_then(|v| v.to_str().ok());
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let kept = serde_json::json!({
        "content-type": header("content-type"),
        "user-agent": header("user-agent"),
        "x-picqer-signature": signature,
    });
    let max_attempts = state.engine.config().max_attempts;
    match ingest_delivery(&conn, &state.ingest, signature, &bytes, kept, max_attempts).await {
        Ok(InboundOutcome::Accepted { event_id, job_id }) => {
            state.engine.notify();
            let body = serde_json::json!({"status": "accepted", "event_id": event_id, "job_id": job_id});
            ((StatusCode::OK, Json(body)).into_response(), "accepted")
        }
        Ok(InboundOutcome::Duplicate { event_id }) => {
            let body = serde_json::json!({"status": "duplicate", "event_id": event_id});
            ((StatusCode::OK, Json(body)).into_response(), "duplicate")
        }
        Err(e @ (InboundError::Signature(_) | InboundError::HookMismatch { .. })) => {
            refuse(state, connection, StatusCode::UNAUTHORIZED, "bad_signature", e.to_string())
        }
        Err(e @ InboundError::Malformed(_)) => {
            refuse(state, connection, StatusCode::BAD_REQUEST, "malformed", e.to_string())
        }
        Err(InboundError::Store(e)) => {
            tracing::error!(error = %e, "could not commit a webhook; Picqer will retry it");
            let answer = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the event could not be stored; retry later",
            );
            (answer.into_response(), "store_unavailable")
        }
    }
}
