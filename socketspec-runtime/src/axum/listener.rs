//! [`Listener`]: the built-in front's protections of a connection before
//! its first request is answered, for `axum::serve`: `TCP_NODELAY`, and the
//! handshake timeout (a client that never finishes its upgrade request is
//! dropped, as hyper's header read timeout does on the built-in front;
//! `axum::serve` sets none).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;

use crate::Server;

/// A TCP listener for `axum::serve` that treats new connections as the
/// built-in front does: `TCP_NODELAY` on, and a connection whose first
/// request is not answered within the server's
/// [`handshake_timeout`](crate::config::HttpConfig::handshake_timeout)
/// (a client that trickles or stalls its upgrade request) is closed. From
/// [`listener`](super::listener).
#[derive(Debug)]
pub struct Listener {
    tcp: TcpListener,
    handshake_timeout: Duration,
}

/// Wraps `tcp` for `axum::serve(listener(tcp, &server), router)`.
pub fn listener(tcp: TcpListener, server: &Server) -> Listener {
    Listener {
        tcp,
        handshake_timeout: server.config().http.handshake_timeout,
    }
}

impl axum::serve::Listener for Listener {
    type Io = Guarded<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.tcp.accept().await {
                Ok((tcp, addr)) => {
                    let _ = tcp.set_nodelay(true);
                    let deadline = tokio::time::sleep(self.handshake_timeout);
                    return (Guarded::new(tcp, deadline), addr);
                }
                // Out of file descriptors and the like: back off, keep serving.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// A connection of [`Listener`]: reads fail with `TimedOut` once the
/// handshake timeout passes, until the server has written its first byte
/// (the answer to the first request: a 101, or any other response), after
/// which it is a plain stream.
#[derive(Debug)]
pub struct Guarded<S> {
    io: S,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<S> Guarded<S> {
    fn new(io: S, deadline: Sleep) -> Self {
        Guarded {
            io,
            deadline: Some(Box::pin(deadline)),
        }
    }

    /// The server answered: no deadline any more.
    fn disarm(&mut self, written: &Poll<io::Result<usize>>) {
        if matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            self.deadline = None;
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(deadline) = self.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request was not complete within the handshake timeout",
            )));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        self.disarm(&written);
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.disarm(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
