//! Outbound webhooks signed per the Standard Webhooks scheme (standardwebhooks.com):
//! `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `"{id}.{timestamp}.{body}"`, keyed with the base64-decoded part of `whsec_<base64>`.

use std::net::{IpAddr, SocketAddr};

use base64::Engine as _;
use kade_transport::header::{HeaderName, HeaderValue};
use kade_transport::{Method, Partner, Request, Transport, TransportConfig};
use ring::hmac;

use crate::config::{WebhookOptions, WebhookTarget};
use crate::http;
use crate::outbound::{SendError, Sent};

/// Signs one delivery; returns the `webhook-signature` header value `v1,<base64>`.
/// A secret without the `whsec_` prefix or with invalid base64 is used as raw bytes, so a
/// misconfigured secret still produces a stable (if non-standard) signature; `Messenger::send`
/// refuses such secrets before it gets here.
pub fn sign_standard_webhook(secret: &str, id: &str, timestamp_s: i64, body: &[u8]) -> String {
    let key_bytes = decode_secret(secret).unwrap_or_else(|| secret.as_bytes().to_vec());
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp_s.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(ctx.sign().as_ref()))
}

fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    let b64 = secret.strip_prefix("whsec_")?;
    base64::engine::general_purpose::STANDARD.decode(b64).ok().filter(|k| !k.is_empty())
}

/// Loopback, private, link-local, CGNAT, unique-local, unspecified, multicast, documentation:
/// anything that is not a public unicast address.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || s[0] == 0x2001 && s[1] == 0x0db8
        }
    }
}

#[derive(Clone)]
pub(crate) struct WebhookSender {
    options: WebhookOptions,
    transport: Transport,
}

/// Receivers send no rate-limit headers; the rate is a ceiling on how hard a burst of
/// automations may hit one receiver, not a quota.
const WEBHOOK: Partner = Partner::new("webhook");
const REQUESTS_PER_SECOND: u32 = 100;

impl WebhookSender {
    pub(crate) fn new(options: WebhookOptions) -> Result<Self, String> {
        // Redirects are not followed: a 3xx could point at an address the check below refused.
        let cfg = TransportConfig {
            timeout: options.timeout,
            connect_timeout: options.timeout.min(std::time::Duration::from_secs(10)),
            follow_redirects: false,
            ..TransportConfig::new("", REQUESTS_PER_SECOND, std::time::Duration::from_secs(1)).no_retries()
        };
        let transport = Transport::new(WEBHOOK, cfg, Default::default()).map_err(|e| e.to_string())?;
        Ok(WebhookSender { options, transport })
    }

    /// Resolves the target and refuses private addresses (unless allowed). The request is then
    /// pinned to the checked address, so a DNS answer that changes between check and connect
    /// (rebinding) cannot redirect it.
    async fn resolve(&self, url: &reqwest::Url) -> Result<Option<(String, SocketAddr)>, SendError> {
        let host = url
            .host_str()
            .ok_or_else(|| SendError::permanent("invalid_url", format!("webhook URL {url} has no host")))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| SendError::transient(format!("webhook host {host}: cannot resolve: {e}")))?
                .collect(),
        };
        if self.options.allow_private_targets {
            return Ok(None);
        }
        let Some(first) = addrs.first().copied() else {
            return Err(SendError::transient(format!("webhook host {host}: no address")));
        };
        if let Some(bad) = addrs.iter().find(|a| is_private(a.ip())) {
            return Err(SendError::permanent(
                "private_target",
                format!(
                    "webhook URL {url} resolves to the non-public address {}; refused (set allow_private_targets to call internal services)",
                    bad.ip()
                ),
            ));
        }
        Ok(if bare.parse::<IpAddr>().is_ok() { None } else { Some((bare.to_owned(), first)) })
    }

    pub(crate) async fn send(
        &self,
        id: &str,
        target: &WebhookTarget,
        payload: &serde_json::Value,
    ) -> Result<Sent, SendError> {
        if decode_secret(&target.secret).is_none() {
            return Err(SendError::permanent(
                "invalid_secret",
                "the webhook secret must be `whsec_` followed by base64 (Standard Webhooks)",
            ));
        }
        let url = reqwest::Url::parse(&target.url)
            .map_err(|e| SendError::permanent("invalid_url", format!("webhook URL {:?}: {e}", target.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SendError::permanent("invalid_url", format!("webhook URL {url} must be http(s)")));
        }
        let pinned = self.resolve(&url).await?;
        let transport = match pinned {
            None => self.transport.clone(),
            Some((host, addr)) => {
                self.transport.rebuild(|b| b.resolve(&host, addr)).map_err(|e| SendError::transient(e.to_string()))?
            }
        };
        let body = serde_json::to_vec(payload).unwrap_or_default();
        let ts = crate::timefmt::now_s();
        let signature = sign_standard_webhook(&target.secret, id, ts, &body);
        let what = format!("POST {}", redact_query(&url));
        let header = |name: &'static str, value: &str| {
            HeaderValue::from_str(value).map(|v| (HeaderName::from_static(name), v)).map_err(|_| {
                SendError::permanent("invalid_key", format!("{what}: {name} {value:?} is not a header value"))
            })
        };
        let mut req = Request::to_url(Method::POST, url).body("application/json", body);
        for (name, value) in [
            header("webhook-id", id)?,
            header("webhook-timestamp", &ts.to_string())?,
            header("webhook-signature", &signature)?,
        ] {
            req = req.header(name, value);
        }
        match transport.send(&req).await {
            Ok(_) => Ok(Sent { provider_id: id.to_owned() }),
            Err(e) => Err(match http::send_error(&what, e, classify) {
                // Receivers de-duplicate on webhook-id (that is what the scheme's id is for), so an
                // unanswered delivery is retried like any other transient failure, not held in doubt.
                SendError::InDoubt { reason } => SendError::transient(reason),
                other => other,
            }),
        }
    }
}

/// An error answer of a receiver: 408/429 and 5xx are worth retrying, other 4xx are not.
fn classify(status: u16, text: &str, retry_after: Option<std::time::Duration>, what: &str) -> SendError {
    let reason = format!("{what} answered {status}: {}", http::excerpt(text));
    match status {
        408 | 429 => SendError::Transient { reason, retry_after },
        400..=499 => SendError::permanent(status.to_string(), reason),
        _ => SendError::Transient { reason, retry_after },
    }
}

/// Query strings may carry tokens; messages show only scheme, host and path.
fn redact_query(url: &reqwest::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    let _ = u.set_password(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_standard_webhooks_test_vector() {
        // The published example of the Standard Webhooks specification.
        let sig = sign_standard_webhook(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn classifies_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2a00:1450:4001::1", "93.184.216.34"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }
}
