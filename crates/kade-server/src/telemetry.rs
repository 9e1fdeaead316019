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
    // A clone of the matched route is a reference count, not a copy of the text.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("(unmatched)", MatchedPath::as_str);
    let span = tracing::info_span!("http", method = %request.method(), route = %route);
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| tracing::debug!(status = response.status().as_u16(), ms, "request answered"));
    response
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<u8>>>);

    impl Write for Log {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn get_raw(addr: std::net::SocketAddr, path: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: kade\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test]
    async fn a_request_is_logged_under_its_route_never_its_path() {
        let log = Log::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let app = Router::new()
            .route("/shops/{shop}/sync", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn(super::trace));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // On this (current-thread) runtime, so the server's spans reach the default subscriber.
        tokio::spawn(async move { axum::serve(listener, app).await });

        assert!(get_raw(addr, "/shops/secret-shop/sync?token=hunter2").await.starts_with("HTTP/1.1 200"));
        assert!(get_raw(addr, "/nowhere/secret-shop").await.starts_with("HTTP/1.1 404"));
        let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("request answered")).collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].contains("route=/shops/{shop}/sync") && lines[0].contains("status=200"), "{text}");
        assert!(lines[0].contains("method=GET") && lines[0].contains("ms="), "{text}");
        assert!(lines[1].contains("route=(unmatched)") && lines[1].contains("status=404"), "{text}");
        assert!(!text.contains("secret-shop") && !text.contains("hunter2"), "{text}");
    }
}
