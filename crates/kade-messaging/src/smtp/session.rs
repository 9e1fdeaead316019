//! One SMTP conversation: reply parsing, commands with a timeout each, and the switch to TLS.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::timeout;

/// Any byte stream we talk SMTP over (plain TCP, or TLS on top of it).
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A server reply: the 3-digit code and the text of all its lines.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn text(&self) -> String {
        self.lines.join(" / ")
    }
}

/// A failure of the conversation itself (no reply to classify).
#[derive(Debug)]
pub(crate) enum IoFailure {
    Timeout,
    Closed,
    Io(std::io::Error),
    Garbled(String),
}

impl std::fmt::Display for IoFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IoFailure::Timeout => write!(f, "no answer within the timeout"),
            IoFailure::Closed => write!(f, "the server closed the connection"),
            IoFailure::Io(e) => write!(f, "{e}"),
            IoFailure::Garbled(l) => write!(f, "not an SMTP reply: {l:?}"),
        }
    }
}

/// Longest reply line we accept; a server streaming garbage cannot make us buffer forever.
const MAX_LINE: usize = 4096;

pub(crate) struct Session {
    io: BufReader<Box<dyn Io>>,
    step: Duration,
}

impl Session {
    pub fn new(io: Box<dyn Io>, step: Duration) -> Self {
        Session { io: BufReader::new(io), step }
    }

    pub async fn read_reply(&mut self) -> Result<Reply, IoFailure> {
        let mut lines = Vec::new();
        loop {
            let mut raw = Vec::new();
            let n = timeout(self.step, (&mut self.io).take(MAX_LINE as u64).read_until(b'\n', &mut raw))
                .await
                .map_err(|_| IoFailure::Timeout)?
                .map_err(IoFailure::Io)?;
            if n == 0 {
                return Err(IoFailure::Closed);
            }
            let line = String::from_utf8_lossy(&raw).trim_end_matches(['\r', '\n']).to_owned();
            let code = line.get(..3).and_then(|c| c.parse::<u16>().ok()).filter(|c| (200..600).contains(c));
            let Some(code) = code else { return Err(IoFailure::Garbled(line)) };
            let more = line.as_bytes().get(3) == Some(&b'-');
            lines.push(line.get(4..).unwrap_or("").to_owned());
            if !more {
                return Ok(Reply { code, lines });
            }
        }
    }

    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<(), IoFailure> {
        let io = self.io.get_mut();
        timeout(self.step, async {
            io.write_all(bytes).await?;
            io.flush().await
        })
        .await
        .map_err(|_| IoFailure::Timeout)?
        .map_err(IoFailure::Io)
    }

    /// Hands `bytes` to the connection without flushing; an error means the last of them never
    /// left us (so for DATA, the server cannot have seen the terminating dot).
    pub async fn write_unflushed(&mut self, bytes: &[u8]) -> Result<(), IoFailure> {
        let io = self.io.get_mut();
        timeout(self.step, io.write_all(bytes)).await.map_err(|_| IoFailure::Timeout)?.map_err(IoFailure::Io)
    }

    pub async fn flush(&mut self) -> Result<(), IoFailure> {
        let io = self.io.get_mut();
        timeout(self.step, io.flush()).await.map_err(|_| IoFailure::Timeout)?.map_err(IoFailure::Io)
    }

    /// Sends one command line and reads its reply.
    pub async fn command(&mut self, line: &str) -> Result<Reply, IoFailure> {
        self.write_all(format!("{line}\r\n").as_bytes()).await?;
        self.read_reply().await
    }

    /// Upgrades to TLS (STARTTLS after its 220, or implicit TLS on connect). Bytes the server sent
    /// ahead of the handshake would be plaintext injected into the encrypted session: refused.
    pub async fn into_tls(self, host: &str, tls: Arc<rustls::ClientConfig>) -> Result<Session, String> {
        if !self.io.buffer().is_empty() {
            return Err("the server sent data before the TLS handshake (refused: possible injection)".into());
        }
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| format!("{host:?} is not a valid TLS server name: {e}"))?;
        let connector = tokio_rustls::TlsConnector::from(tls);
        let step = self.step;
        let stream = timeout(step, connector.connect(name, self.io.into_inner()))
            .await
            .map_err(|_| "TLS handshake timed out".to_owned())?
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
        Ok(Session::new(Box::new(stream), step))
    }

    pub async fn quit(mut self) {
        let _ = self.command("QUIT").await;
    }
}
