//! Verifying a connection: does this API key open a Picqer account at this address?
//!
//! The three ways a new connection usually fails — a wrong key, a wrong subdomain, a host that
//! cannot be reached — need three different fixes, so each gets its own error with the fix in
//! its message, instead of a raw HTTP status.

use std::error::Error as _;

use serde::de::IgnoredAny;

use crate::error::PicqerError;
use crate::pager::Pager;
use crate::transport::PicqerClient;

/// What the verifying call learnt about the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// Warehouses the key can see.
    pub warehouses: usize,
}

/// Why a connection could not be verified. No variant carries the API key.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Picqer answered 401.
    #[error("Picqer refused the API key: check it under Settings → API keys in Picqer, or create a new one")]
    Unauthorized,
    /// A 404, or an answer that is not Picqer's JSON (a parked domain, a web page, a proxy).
    #[error("no Picqer account answers at {url}: check the subdomain (or base_url)")]
    UnknownAccount { url: String },
    /// No HTTP answer at all: DNS, refused connection, TLS, timeout.
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// Anything else (5xx, rate limit): the client's own error says what.
    #[error(transparent)]
    Other(PicqerError),
}

impl ConnectError {
    /// Classifies the error of the verifying call against `url` (the base URL).
    pub fn from_picqer(err: PicqerError, url: &str) -> Self {
        if err.is_unauthorized() {
            return ConnectError::Unauthorized;
        }
        match err {
            PicqerError::Api { status: 404, .. } | PicqerError::Decode { .. } => {
                ConnectError::UnknownAccount { url: url.to_string() }
            }
            PicqerError::Transport { source, .. } => {
                ConnectError::Unreachable { url: url.to_string(), reason: describe_transport(&source) }
            }
            other => ConnectError::Other(other),
        }
    }
}

impl PicqerClient {
    /// Checks the base URL and API key with one live call (`GET /warehouses`).
    ///
    /// The answer is only required to be a JSON array, not to match the warehouse type: a
    /// field Picqer renames one day must not make a good key look like a wrong subdomain.
    /// Retries follow the client's configuration; a caller checking interactively may want
    /// `max_transient_retries = 0` and a short `connect_timeout`.
    pub async fn verify_connection(&self) -> Result<ConnectionInfo, ConnectError> {
        let pager: Pager<IgnoredAny> = Pager::new(self.clone(), "/warehouses", Vec::new());
        match pager.collect_all().await {
            Ok(all) => Ok(ConnectionInfo { warehouses: all.len() }),
            Err(e) => Err(ConnectError::from_picqer(e, &self.config().base_url)),
        }
    }
}

/// A short reason for a failed request, in the operator's terms. reqwest's own message is
/// "error sending request for url (…)"; the useful part is at the bottom of the source chain.
fn describe_transport(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out waiting for an answer".into();
    }
    let chain: Vec<&(dyn std::error::Error + 'static)> = std::iter::successors(err.source(), |&e| e.source()).collect();
    for &e in &chain {
        // `io::Error::source` skips the error it wraps, so unwrap those by hand: TLS failures
        // arrive as an io::Error around an io::Error around the rustls error.
        let mut inner: &(dyn std::error::Error + 'static) = e;
        loop {
            if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                return format!("TLS handshake failed: {tls}");
            }
            let Some(io) = inner.downcast_ref::<std::io::Error>() else { break };
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".into(),
                std::io::ErrorKind::TimedOut => return "timed out waiting for an answer".into(),
                _ => {}
            }
            match io.get_ref() {
                Some(wrapped) => inner = wrapped,
                None => break,
            }
        }
    }
    let deepest = chain.last().map_or_else(|| err.to_string(), ToString::to_string);
    if chain.iter().any(|e| e.to_string().starts_with("dns error")) {
        return format!("DNS lookup failed: {deepest}");
    }
    deepest
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;
    use std::time::Duration;

    use super::*;
    use crate::config::{ApiKey, ClientConfig};

    const KEY: &str = "secret-key-never-shown";

    /// A one-response HTTP server on a plain socket (the crate has no server dependency).
    fn serve(response: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api/v1", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                // Read the request head; a TLS ClientHello (not text) is answered at once.
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.first().is_none_or(u8::is_ascii_alphabetic) {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                if !response.is_empty() {
                    let _ = stream.write_all(response.as_bytes());
                } else {
                    // Accept, then say nothing.
                    std::thread::sleep(Duration::from_secs(5));
                }
            }
        });
        url
    }

    fn reply(status: &str, content_type: &str, body: &str) -> &'static str {
        let text = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        Box::leak(text.into_boxed_str())
    }

    async fn verify(base_url: &str) -> Result<ConnectionInfo, ConnectError> {
        let mut cfg = ClientConfig::with_base_url(base_url, ApiKey::new(KEY));
        cfg.max_transient_retries = 0;
        cfg.timeout = Duration::from_millis(500);
        cfg.connect_timeout = Duration::from_millis(500);
        let result = PicqerClient::new(cfg).unwrap().verify_connection().await;
        if let Err(e) = &result {
            assert!(!e.to_string().contains(KEY) && !format!("{e:?}").contains(KEY), "key leaked: {e:?}");
        }
        result
    }

    #[tokio::test]
    async fn a_json_list_counts_the_warehouses() {
        let url = serve(reply("200 OK", "application/json", r#"[{"idwarehouse":1},{"idwarehouse":2,"new":true}]"#));
        assert_eq!(verify(&url).await.unwrap(), ConnectionInfo { warehouses: 2 });
    }

    #[tokio::test]
    async fn status_401_is_a_wrong_key() {
        let body = r#"{"error":true,"error_code":0,"error_message":"Unauthorized"}"#;
        let url = serve(reply("401 Unauthorized", "application/json", body));
        let err = verify(&url).await.unwrap_err();
        assert!(matches!(err, ConnectError::Unauthorized), "{err:?}");
        assert!(err.to_string().contains("Settings → API keys"));
    }

    #[tokio::test]
    async fn a_404_or_a_web_page_is_an_unknown_account() {
        for response in [
            reply("404 Not Found", "application/json", r#"{"error":true,"error_code":7,"error_message":"Not found"}"#),
            reply("404 Not Found", "text/html", "<html>no such shop</html>"),
            reply("200 OK", "text/html", "<html>Welcome to Picqer</html>"),
            reply("200 OK", "application/json", r#"{"not":"a list"}"#),
        ] {
            let url = serve(response);
            let err = verify(&url).await.unwrap_err();
            assert!(matches!(&err, ConnectError::UnknownAccount { url: u } if *u == url), "{err:?}");
            assert_eq!(
                err.to_string(),
                format!("no Picqer account answers at {url}: check the subdomain (or base_url)")
            );
        }
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}/api/v1");
        let err = verify(&url).await.unwrap_err();
        assert!(matches!(&err, ConnectError::Unreachable { reason, .. } if reason == "connection refused"), "{err:?}");
        assert!(err.to_string().starts_with(&format!("cannot reach {url}: ")));
    }

    #[tokio::test]
    async fn silence_is_a_timeout() {
        let url = serve("");
        let err = verify(&url).await.unwrap_err();
        assert!(matches!(&err, ConnectError::Unreachable { reason, .. } if reason.contains("timed out")), "{err:?}");
    }

    #[tokio::test]
    async fn a_plain_http_server_behind_https_is_a_tls_failure() {
        let url = serve(reply("400 Bad Request", "text/plain", "plain HTTP")).replace("http://", "https://");
        let err = verify(&url).await.unwrap_err();
        assert!(matches!(&err, ConnectError::Unreachable { reason, .. } if reason.contains("TLS")), "{err:?}");
    }

    #[tokio::test]
    async fn server_errors_stay_the_clients_own() {
        let url =
            serve(reply("503 Service Unavailable", "application/json", r#"{"error":true,"error_message":"down"}"#));
        let err = verify(&url).await.unwrap_err();
        assert!(matches!(&err, ConnectError::Other(e) if e.status() == Some(503)), "{err:?}");
    }
}
