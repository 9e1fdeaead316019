//! A minimal webhook receiver for the demo and the benchmarks: verify over the raw bytes, parse,
//! hand the envelope over a channel, answer 200 at once. (The hub's durable ingress, with its inbox
//! and queue, replaces this; the order of operations is the same.)

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use kade_picqer::webhook::{self, Envelope, SIGNATURE_HEADER, WebhookSecret};
use tokio::sync::mpsc;

/// A verified delivery, or why one was refused.
#[derive(Debug)]
pub enum Received {
    Event(Envelope),
    Refused(String),
}

#[derive(Clone)]
struct Ctx {
    secrets: Vec<WebhookSecret>,
    tx: mpsc::UnboundedSender<Received>,
}

/// Starts a receiver on 127.0.0.1 (random port). Returns its URL and the stream of deliveries.
pub async fn start(secrets: Vec<WebhookSecret>) -> anyhow::Result<(String, mpsc::UnboundedReceiver<Received>)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route("/webhooks/picqer", post(receive)).with_state(Ctx { secrets, tx });
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let url = format!("http://{}/webhooks/picqer", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "demo webhook receiver stopped");
        }
    });
    Ok((url, rx))
}

async fn receive(State(ctx): State<Ctx>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let verified = match webhook::verify(&body, signature, &ctx.secrets) {
        Ok(v) => v,
        Err(e) => {
            let _ = ctx.tx.send(Received::Refused(e.to_string()));
            return (StatusCode::UNAUTHORIZED, "bad signature");
        }
    };
    match Envelope::parse(&verified) {
        Ok(env) => {
            let _ = ctx.tx.send(Received::Event(env));
            (StatusCode::OK, "ok")
        }
        Err(e) => {
            let _ = ctx.tx.send(Received::Refused(e.to_string()));
            (StatusCode::BAD_REQUEST, "malformed envelope")
        }
    }
}

/// A random hook secret (32 characters from a 62-letter alphabet, from the OS CSPRNG).
pub fn random_secret() -> anyhow::Result<String> {
    use ring::rand::SecureRandom as _;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| anyhow::anyhow!("the OS random source failed"))?;
    // 256 is not a multiple of 62; the bias (at most 1 in 62 per char) does not matter for a
    // secret of 32 characters (~190 bits).
    Ok(bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect())
}
