//! A TCP listener whose connections can be cut from inside a request handler.
//!
//! `drop_after_commit` must make the client see a transport error *after* the server committed the
//! change. Every accepted socket carries a kill switch that the request can reach through
//! `ConnectInfo`; once flipped, the socket refuses to write, so hyper abandons the response and
//! closes the connection — the client sees "connection closed before message completed", exactly
//! like a proxy dying between commit and answer.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Per-connection kill switch, available to handlers as `ConnectInfo<KillSwitch>`.
#[derive(Clone, Debug)]
pub struct KillSwitch {
    flag: Arc<AtomicBool>,
    pub peer: SocketAddr,
}

impl KillSwitch {
    /// Makes every further write on this connection fail.
    pub fn kill(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }
}

pub struct KillableListener {
    inner: TcpListener,
}

impl KillableListener {
    pub fn new(inner: TcpListener) -> Self {
        KillableListener { inner }
    }
}

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = KillSwitch;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let flag = Arc::new(AtomicBool::new(false));
                    let io = KillableStream { inner: stream, flag: flag.clone() };
                    return (io, KillSwitch { flag, peer });
                }
                // Accept errors (e.g. too many open files) are transient; back off briefly.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(KillSwitch { flag: Arc::new(AtomicBool::new(false)), peer: self.inner.local_addr()? })
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for KillSwitch {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

pub struct KillableStream {
    inner: TcpStream,
    flag: Arc<AtomicBool>,
}

impl KillableStream {
    fn killed(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

fn reset() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "connection cut by fault injection")
}

impl AsyncRead for KillableStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The base URL clients use for a server bound at `addr`: a wildcard bind is reachable on
/// loopback, so hand out a URL a client can actually use.
pub fn loopback_url(addr: SocketAddr) -> String {
    let host = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        ip if ip.is_unspecified() => std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(host, addr.port()))
}

/// Serves a simulator's `app` on `tcp`, every connection with its [`KillSwitch`], until the
/// returned sender fires or is dropped (graceful shutdown). Every simulator starts this way.
pub fn serve(tcp: TcpListener, app: axum::Router, name: &'static str) -> (oneshot::Sender<()>, JoinHandle<()>) {
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<KillSwitch>();
        let served = axum::serve(KillableListener::new(tcp), service)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "{name} simulator stopped with an error");
        }
    });
    (stop_tx, task)
}
