//! SMTP submission over tokio: EHLO, STARTTLS or implicit TLS (rustls with ring), AUTH
//! PLAIN/LOGIN, MAIL/RCPT/DATA, with a timeout on every step.
//!
//! The one case that cannot be classified as simply "retry" or "give up" is a connection that
//! dies after the final "." of DATA was written: the server may already have queued the mail.
//! That is [`SendError::InDoubt`]; the Message-ID (derived from the key) lets an operator find it.

mod message;

pub use message::{build_message, message_id};

use crate::config::{ConfigError, SmtpConfig};
use crate::outbound::{SendError, Sent};

pub(crate) struct SmtpClient {
    cfg: SmtpConfig,
}

impl SmtpClient {
    pub(crate) fn new(cfg: SmtpConfig) -> Result<Self, ConfigError> {
        Ok(SmtpClient { cfg })
    }

    pub(crate) async fn send(&self, key: &str, to: &str, subject: &str, text: &str) -> Result<Sent, SendError> {
        let _ = (&self.cfg, key, to, subject, text);
        Err(SendError::transient("SMTP sending is not implemented yet"))
    }
}
