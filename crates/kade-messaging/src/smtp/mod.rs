//! SMTP submission over tokio: EHLO, STARTTLS or implicit TLS (rustls with ring, certificates
//! checked against the OS roots), AUTH PLAIN/LOGIN, MAIL/RCPT/DATA, with a timeout on every step.
//!
//! Classification: a 4xx reply is transient, a 5xx reply permanent (its code is the error code),
//! a failed connect transient. The one case that is neither is a connection that dies, or a
//! reply that never comes, after the final "." of DATA was written: the server may already have
//! queued the mail. That is [`SendError::InDoubt`]; the Message-ID derived from the key lets an
//! operator find the mail in the relay's log. Passwords are never logged or put in errors.

mod message;
mod session;

pub use message::{
    MessageError, address_of, build_message, dot_stuff, encode_header_text, message_id, quoted_printable,
};

use std::sync::Arc;

use base64::Engine as _;
use tokio::net::TcpStream;

use crate::config::{ConfigError, SmtpConfig, SmtpTls, invalid};
use crate::outbound::{SendError, Sent};
use session::{IoFailure, Reply, Session};

#[derive(Clone)]
pub(crate) struct SmtpClient {
    cfg: SmtpConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// A send failed at `step`; replies are classified by their code.
fn from_reply(step: &str, reply: &Reply) -> SendError {
    let reason = format!("SMTP {step}: the server answered {} {}", reply.code, reply.text());
    match reply.code {
        400..=499 => SendError::transient(reason),
        500..=599 => SendError::permanent(reply.code.to_string(), reason),
        // A success code where another was required: a confused server; try again later.
        _ => SendError::transient(reason),
    }
}

fn from_io(step: &str, e: &IoFailure) -> SendError {
    SendError::transient(format!("SMTP {step}: {e}"))
}

fn tls_config(
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider.clone())
        .map_err(|e| format!("cannot load the system's root certificates: {e}"))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl SmtpClient {
    /// `extra_roots` (DER) are trusted besides the OS roots: a private relay's CA, or a test CA.
    pub(crate) fn with_roots(
        cfg: SmtpConfig,
        extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    ) -> Result<Self, ConfigError> {
        if cfg.host.trim().is_empty() {
            return Err(invalid("smtp.host", "is empty"));
        }
        if cfg.port == 0 {
            return Err(invalid("smtp.port", "must be 1-65535 (587 for STARTTLS, 465 for implicit TLS)"));
        }
        if address_of(&cfg.from).is_none() {
            return Err(invalid(
                "smtp.from",
                format!("{:?} is not an email address (name <addr@domain> or addr@domain)", cfg.from),
            ));
        }
        if cfg.username.is_some() != cfg.password.is_some() {
            return Err(invalid("smtp.username", "username and password go together: set both or neither"));
        }
        if cfg.timeout.is_zero() {
            return Err(invalid("smtp.timeout", "must be more than zero"));
        }
        let tls = match cfg.tls {
            SmtpTls::None => None,
            SmtpTls::StartTls | SmtpTls::Implicit => Some(tls_config(extra_roots).map_err(|m| invalid("smtp.tls", m))?),
        };
        Ok(SmtpClient { cfg, tls })
    }

    pub(crate) async fn send(&self, key: &str, to: &str, subject: &str, text: &str) -> Result<Sent, SendError> {
        let message = build_message(key, &self.cfg.from, to, subject, text, crate::timefmt::now_s())
            .map_err(|e| SendError::permanent("invalid_message", e.0))?;
        let rcpt = address_of(to).unwrap_or_default();
        let sender = address_of(&self.cfg.from).unwrap_or_default();
        let id = message_id(key, &self.cfg.from);

        let mut s = self.open().await?;
        let ehlo = self.hello(&mut s).await?;
        let (mut s, ehlo) = if self.cfg.tls == SmtpTls::StartTls {
            if !has_ext(&ehlo, "STARTTLS") {
                return Err(SendError::permanent(
                    "starttls",
                    format!(
                        "SMTP: {} does not offer STARTTLS; refusing to send in plain text (use tls = none only for a local relay)",
                        self.cfg.host
                    ),
                ));
            }
            let r = s.command("STARTTLS").await.map_err(|e| from_io("STARTTLS", &e))?;
            if r.code != 220 {
                return Err(from_reply("STARTTLS", &r));
            }
            let tls = self.tls.clone().ok_or_else(|| SendError::transient("SMTP: TLS is not set up"))?;
            let mut s = s
                .into_tls(&self.cfg.host, tls)
                .await
                .map_err(|e| SendError::transient(format!("SMTP STARTTLS: {e}")))?;
            let ehlo = self.hello(&mut s).await?;
            (s, ehlo)
        } else {
            (s, ehlo)
        };
        if let (Some(user), Some(pass)) = (&self.cfg.username, &self.cfg.password) {
            self.auth(&mut s, &ehlo, user, pass).await?;
        }
        let r = s.command(&format!("MAIL FROM:<{sender}>")).await.map_err(|e| from_io("MAIL FROM", &e))?;
        if r.code != 250 {
            return Err(from_reply("MAIL FROM", &r));
        }
        let r = s.command(&format!("RCPT TO:<{rcpt}>")).await.map_err(|e| from_io("RCPT TO", &e))?;
        if !matches!(r.code, 250 | 251) {
            return Err(from_reply("RCPT TO", &r));
        }
        let r = s.command("DATA").await.map_err(|e| from_io("DATA", &e))?;
        if r.code != 354 {
            return Err(from_reply("DATA", &r));
        }
        // Until the terminating "." is out, the server cannot have accepted anything.
        let mut payload = dot_stuff(&message);
        payload.push_str(".\r\n");
        s.write_unflushed(payload.as_bytes()).await.map_err(|e| from_io("DATA (message)", &e))?;
        let in_doubt = |e: IoFailure| {
            SendError::in_doubt(format!(
                "SMTP end of DATA: {e} after the whole message was sent; it may have been queued (Message-ID <{id}>)"
            ))
        };
        // From here the terminating dot may be on its way: no failure can prove it was not seen.
        s.flush().await.map_err(in_doubt)?;
        match s.read_reply().await {
            Ok(r) if r.code == 250 => {
                s.quit().await;
                tracing::debug!(message_id = %id, "smtp message accepted");
                Ok(Sent { provider_id: id })
            }
            Ok(r) => Err(from_reply("end of DATA", &r)),
            Err(e) => Err(in_doubt(e)),
        }
    }

    async fn open(&self) -> Result<Session, SendError> {
        let addr = (self.cfg.host.as_str(), self.cfg.port);
        let tcp = tokio::time::timeout(self.cfg.timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| {
                SendError::transient(format!("SMTP: connecting to {}:{} timed out", self.cfg.host, self.cfg.port))
            })?
            .map_err(|e| {
                SendError::transient(format!("SMTP: cannot connect to {}:{}: {e}", self.cfg.host, self.cfg.port))
            })?;
        let mut s = Session::new(Box::new(tcp), self.cfg.timeout);
        if self.cfg.tls == SmtpTls::Implicit {
            let tls = self.tls.clone().ok_or_else(|| SendError::transient("SMTP: TLS is not set up"))?;
            s = s.into_tls(&self.cfg.host, tls).await.map_err(|e| SendError::transient(format!("SMTP: {e}")))?;
        }
        let greeting = s.read_reply().await.map_err(|e| from_io("greeting", &e))?;
        if greeting.code != 220 {
            return Err(from_reply("greeting", &greeting));
        }
        Ok(s)
    }

    /// EHLO, falling back to HELO for servers without ESMTP. Returns the extension lines.
    async fn hello(&self, s: &mut Session) -> Result<Vec<String>, SendError> {
        // An address literal is a valid EHLO argument and reveals nothing about the host.
        let name = "[127.0.0.1]";
        let r = s.command(&format!("EHLO {name}")).await.map_err(|e| from_io("EHLO", &e))?;
        if r.code == 250 {
            return Ok(r.lines.into_iter().skip(1).collect());
        }
        let r = s.command(&format!("HELO {name}")).await.map_err(|e| from_io("HELO", &e))?;
        if r.code != 250 {
            return Err(from_reply("HELO", &r));
        }
        Ok(Vec::new())
    }

    async fn auth(&self, s: &mut Session, ehlo: &[String], user: &str, pass: &str) -> Result<(), SendError> {
        let b64 = |v: &[u8]| base64::engine::general_purpose::STANDARD.encode(v);
        let mechs: Vec<String> = ehlo
            .iter()
            .filter_map(|l| l.strip_prefix("AUTH ").or_else(|| l.strip_prefix("AUTH=")))
            .flat_map(|m| m.split_whitespace().map(str::to_ascii_uppercase))
            .collect();
        // The password is only ever inside these base64 strings; errors name the step, not them.
        let r = if mechs.iter().any(|m| m == "PLAIN") {
            let token = b64(format!("\0{user}\0{pass}").as_bytes());
            s.command(&format!("AUTH PLAIN {token}")).await.map_err(|e| from_io("AUTH PLAIN", &e))?
        } else if mechs.iter().any(|m| m == "LOGIN") {
            let r = s.command("AUTH LOGIN").await.map_err(|e| from_io("AUTH LOGIN", &e))?;
            if r.code != 334 {
                return Err(from_reply("AUTH LOGIN", &r));
            }
            let r = s.command(&b64(user.as_bytes())).await.map_err(|e| from_io("AUTH LOGIN (username)", &e))?;
            if r.code != 334 {
                return Err(from_reply("AUTH LOGIN (username)", &r));
            }
            s.command(&b64(pass.as_bytes())).await.map_err(|e| from_io("AUTH LOGIN (password)", &e))?
        } else {
            return Err(SendError::permanent(
                "auth_unsupported",
                format!(
                    "SMTP: {} offers no AUTH PLAIN or LOGIN (offered: {mechs:?}; is TLS required first?)",
                    self.cfg.host
                ),
            ));
        };
        if r.code != 235 {
            return Err(from_reply("AUTH", &r));
        }
        Ok(())
    }
}

fn has_ext(ehlo: &[String], ext: &str) -> bool {
    ehlo.iter().any(|l| l.split_whitespace().next().is_some_and(|w| w.eq_ignore_ascii_case(ext)))
}

/// The certificates of a PEM bundle (`-----BEGIN CERTIFICATE-----` blocks), as DER.
pub(crate) fn parse_pem_certs(pem: &str) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let end = after.find(END).ok_or("a certificate block has no END line")?;
        let b64: String = after[..end].chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("a certificate block is not valid base64: {e}"))?;
        out.push(rustls::pki_types::CertificateDer::from(der));
        rest = &after[end + END.len()..];
    }
    if out.is_empty() {
        return Err("no PEM certificate found (expected -----BEGIN CERTIFICATE-----)".into());
    }
    Ok(out)
}
