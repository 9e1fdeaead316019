//! The benchmark's load generator: a bare HTTP/1.1 keep-alive client.
//!
//! Why not reqwest: the load generator shares the two cores with the Kade it measures, so every
//! microsecond it spends per request is taken from Kade and shows up as a lower figure. A general
//! client (connection pool, header maps, body streams) costs about as much per request as the
//! ingress itself. This one writes a request prepared before the clock starts and reads back
//! exactly one response: the status line, the headers it needs, and a `Content-Length` body.

use anyhow::{Context as _, bail, ensure};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Largest response head accepted; Kade's answers are a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;

/// A complete `POST` request, bytes ready to write.
pub fn post_request(host: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut req = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub async fn open(addr: std::net::SocketAddr) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: Vec::with_capacity(4096) })
    }

    /// Sends `request` and returns the response's status and body.
    pub async fn send(&mut self, request: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
        self.stream.write_all(request).await.context("sending a request")?;
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            ensure!(self.buf.len() < MAX_HEAD, "response head over {MAX_HEAD} bytes");
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).context("response head is not UTF-8")?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {status_line:?}"))?;
        let length = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse::<usize>().ok());
        let Some(length) = length else { bail!("response without Content-Length: {head:?}") };
        while self.buf.len() < head_end + length {
            self.fill().await?;
        }
        let body = self.buf[head_end..head_end + length].to_vec();
        self.buf.drain(..head_end + length);
        Ok((status, body))
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await.context("reading a response")?;
        ensure!(n > 0, "the server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_pipelined_responses_split_anywhere() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = vec![0u8; 1024];
            let _ = s.read(&mut got).await.unwrap();
            // Two responses, written in awkward pieces.
            let out = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloHTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\nno";
            for piece in out.chunks(7) {
                s.write_all(piece).await.unwrap();
                tokio::task::yield_now().await;
            }
            let _ = s.read(&mut got).await;
        });
        let mut conn = Conn::open(addr).await.unwrap();
        let req = post_request("h", "/p", &[("x-a", "1")], b"{}");
        assert!(req.starts_with(b"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nx-a: 1\r\n\r\n{}"));
        assert_eq!(conn.send(&req).await.unwrap(), (200, b"hello".to_vec()));
        assert_eq!(conn.send(b"").await.unwrap(), (401, b"no".to_vec()));
        drop(conn);
        server.await.unwrap();
    }
}
