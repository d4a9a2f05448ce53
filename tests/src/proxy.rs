//! [`TcpProxy`]: a loopback TCP forwarder whose connections a test can cut,
//! to lose a WebSocket without a closing handshake (what a tunnel, a
//! laptop lid or a load balancer restart does to a real client).
//!
//! Plain threads and blocking sockets, so that it works the same from a
//! tokio test and from a synchronous one that drives a Node program.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use crate::{Error, Result};

/// Forwards `127.0.0.1:<port>` to one target address.
pub struct TcpProxy {
    addr: String,
    open: Arc<Mutex<Vec<TcpStream>>>,
    stopped: Arc<AtomicBool>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards every connection to
    /// `target` (`HOST:PORT`).
    pub fn start(target: &str) -> Result<TcpProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| Error::Start(format!("proxy: could not listen: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Start(format!("proxy: no local address: {e}")))?
            .to_string();
        let open = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        let target = target.to_owned();
        {
            let open = Arc::clone(&open);
            let stopped = Arc::clone(&stopped);
            thread::spawn(move || accept_loop(&listener, &target, &open, &stopped));
        }
        Ok(TcpProxy {
            addr,
            open,
            stopped,
        })
    }

    /// `HOST:PORT` clients connect to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// `ws://HOST:PORT/ws` through the proxy.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Cuts every connection open now: both ends see their socket end
    /// without a WebSocket close frame. New connections still go through.
    pub fn cut(&self) {
        let streams = std::mem::take(&mut *self.lock());
        for stream in streams {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Connections open now (each counted once per side).
    pub fn open_connections(&self) -> usize {
        self.lock().len() / 2
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<TcpStream>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.cut();
        // Wake the accept loop so that it sees `stopped`.
        let _ = TcpStream::connect_timeout(
            &match self.addr.parse() {
                Ok(addr) => addr,
                Err(_) => return,
            },
            Duration::from_millis(200),
        );
    }
}

fn accept_loop(
    listener: &TcpListener,
    target: &str,
    open: &Arc<Mutex<Vec<TcpStream>>>,
    stopped: &AtomicBool,
) {
    for client in listener.incoming() {
        if stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        let Ok(server) = TcpStream::connect(target) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
            client.try_clone(),
            server.try_clone(),
            client.try_clone(),
            server.try_clone(),
        ) else {
            continue;
        };
        open.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend([c3, s3]);
        thread::spawn(move || pipe(client, s2));
        thread::spawn(move || pipe(server, c2));
    }
}

/// Copies `from` to `to` until either ends, then ends both.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
