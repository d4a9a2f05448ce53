//! Tools of the hardening suites (`hostile.rs`, `slow_clients.rs`,
//! `soak.rs`): a raw WebSocket client that writes frames byte by byte (for
//! what a well-behaved client library refuses to send), a bystander that
//! measures echo latency while a test misbehaves next to it, and readers
//! for `/socket-health`, `/metrics` and the server's resident memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::{Client, Error, Result, event_of, http_get};

/// WebSocket opcodes (RFC 6455, 5.2).
pub mod opcode {
    /// Continuation frame.
    pub const CONTINUATION: u8 = 0x0;
    /// Text frame.
    pub const TEXT: u8 = 0x1;
    /// Binary frame.
    pub const BINARY: u8 = 0x2;
    /// Close frame.
    pub const CLOSE: u8 = 0x8;
    /// Ping frame.
    pub const PING: u8 = 0x9;
    /// Pong frame.
    pub const PONG: u8 = 0xA;
}

/// Encodes one client frame (masked, as RFC 6455 requires of clients).
pub fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(if fin { 0x80 } else { 0 } | (opcode & 0x0f));
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

/// One frame the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The FIN bit.
    pub fin: bool,
    /// The opcode.
    pub opcode: u8,
    /// The (unmasked) payload.
    pub payload: Vec<u8>,
}

/// What [`RawWs::next_message`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A text (or binary) frame holding JSON.
    Json(Value),
    /// A close frame, with its code when it had one.
    Close(Option<u16>),
    /// The TCP stream ended without a close frame.
    Eof,
}

/// A WebSocket client over a bare `TcpStream`: it upgrades by hand and
/// writes whatever bytes a test wants, valid or not.
pub struct RawWs {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Where the unparsed bytes of `buf` start.
    start: usize,
}

impl RawWs {
    /// Connects to `addr` (`HOST:PORT`) and upgrades on `/ws`.
    pub async fn connect(addr: &str) -> Result<RawWs> {
        let stream = TcpStream::connect(addr).await?;
        RawWs::upgrade(stream, addr).await
    }

    /// Like [`RawWs::connect`], with the socket's receive buffer set to
    /// `bytes` before connecting: a client that reads nothing then fills up
    /// after a few KiB instead of several MiB.
    pub async fn connect_small_buffer(addr: &str, bytes: u32) -> Result<RawWs> {
        let target: std::net::SocketAddr = addr
            .parse()
            .map_err(|e| Error::Other(format!("bad address {addr:?}: {e}")))?;
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(bytes)?;
        let stream = socket.connect(target).await?;
        RawWs::upgrade(stream, addr).await
    }

    async fn upgrade(mut stream: TcpStream, addr: &str) -> Result<RawWs> {
        stream.set_nodelay(true)?;
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut buf = Vec::new();
        let deadline = tokio::time::Instant::now() + crate::DEFAULT_TIMEOUT;
        let end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let mut chunk = [0u8; 1024];
            let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
                .await
                .map_err(|_| Error::Timeout("the raw upgrade".to_owned()))??;
            if n == 0 {
                return Err(Error::Closed(None));
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        if !head.starts_with("HTTP/1.1 101") {
            return Err(Error::Other(format!("upgrade refused: {head}")));
        }
        Ok(RawWs {
            stream,
            buf,
            start: end + 4,
        })
    }

    /// Writes `bytes` verbatim.
    pub async fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        tokio::time::timeout(crate::DEFAULT_TIMEOUT, self.stream.write_all(bytes))
            .await
            .map_err(|_| Error::Timeout("writing raw bytes".to_owned()))??;
        Ok(())
    }

    /// Writes `bytes` with no time bound (for a test that races it).
    pub async fn write_unbounded(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Writes one masked frame.
    pub async fn send_frame(&mut self, fin: bool, opcode: u8, payload: &[u8]) -> Result<()> {
        self.write_raw(&client_frame(fin, opcode, payload)).await
    }

    /// Writes one text frame holding `bytes` (which need not be UTF-8).
    pub async fn send_text_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.send_frame(true, opcode::TEXT, bytes).await
    }

    /// Writes one text frame holding `value` as JSON.
    pub async fn send_json(&mut self, value: &Value) -> Result<()> {
        self.send_text_bytes(value.to_string().as_bytes()).await
    }

    /// Reads one frame; `Ok(None)` at the end of the stream.
    pub async fn read_frame(&mut self, timeout: Duration) -> Result<Option<RawFrame>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some((frame, used)) = parse_server_frame(&self.buf[self.start..])? {
                self.start += used;
                return Ok(Some(frame));
            }
            // Drop what was parsed before reading more (amortized O(1)).
            self.buf.drain(..self.start);
            self.start = 0;
            let len = self.buf.len();
            self.buf.resize(len + 64 * 1024, 0);
            let read =
                tokio::time::timeout_at(deadline, self.stream.read(&mut self.buf[len..])).await;
            let n = match read {
                Ok(Ok(n)) => n,
                Err(_) | Ok(Err(_)) => 0,
            };
            self.buf.truncate(len + n);
            match read {
                Err(_) => return Err(Error::Timeout(format!("no frame within {timeout:?}"))),
                // A reset is the end of the stream too.
                Ok(Ok(0)) | Ok(Err(_)) => return Ok(None),
                Ok(Ok(_)) => {}
            }
        }
    }

    /// The next JSON message, close frame or end of stream; control frames
    /// other than close are skipped.
    pub async fn next_message(&mut self, timeout: Duration) -> Result<Incoming> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(frame) = self.read_frame(left).await? else {
                return Ok(Incoming::Eof);
            };
            match frame.opcode {
                opcode::TEXT | opcode::BINARY => {
                    let value = serde_json::from_slice(&frame.payload)?;
                    return Ok(Incoming::Json(value));
                }
                opcode::CLOSE => {
                    let code = (frame.payload.len() >= 2)
                        .then(|| u16::from_be_bytes([frame.payload[0], frame.payload[1]]));
                    return Ok(Incoming::Close(code));
                }
                _ => {}
            }
        }
    }

    /// The next message whose `event` is `name`; `__ping__` and other
    /// events are skipped. Fails on a close or the end of the stream.
    pub async fn recv_event(&mut self, name: &str, timeout: Duration) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_message(left).await? {
                Incoming::Json(value) if event_of(&value) == name => return Ok(value),
                Incoming::Json(_) => {}
                Incoming::Close(code) => return Err(Error::Closed(code)),
                Incoming::Eof => return Err(Error::Closed(None)),
            }
        }
    }

    /// Reads until the server's close frame or the end of the stream;
    /// returns what ended it. JSON read meanwhile is dropped.
    pub async fn expect_end(&mut self, timeout: Duration) -> Result<Incoming> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_message(left).await {
                Ok(Incoming::Json(_)) => {}
                Ok(end) => return Ok(end),
                Err(Error::Json(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends `echo {seq, data}` and waits for its `echo_reply`.
    pub async fn echo(&mut self, seq: i64) -> Result<()> {
        self.send_json(&json!({"event": "echo", "payload": {"seq": seq, "data": "raw"}}))
            .await?;
        let reply = self
            .recv_event("echo_reply", crate::DEFAULT_TIMEOUT)
            .await?;
        if reply["payload"]["seq"] == seq {
            Ok(())
        } else {
            Err(Error::Other(format!("echo {seq} answered with {reply}")))
        }
    }

    /// The underlying stream, e.g. to reset it.
    pub fn into_stream(self) -> TcpStream {
        self.stream
    }
}

/// Parses one unmasked server frame from the front of `buf`: the frame and
/// how many bytes it took, or `None` when more bytes are needed.
pub fn parse_server_frame(buf: &[u8]) -> Result<Option<(RawFrame, usize)>> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let fin = buf[0] & 0x80 != 0;
    let opcode = buf[0] & 0x0f;
    if buf[1] & 0x80 != 0 {
        return Err(Error::Other("the server sent a masked frame".to_owned()));
    }
    let (len, mut at) = match buf[1] & 0x7f {
        126 => {
            let Some(b) = buf.get(2..4) else {
                return Ok(None);
            };
            (usize::from(u16::from_be_bytes([b[0], b[1]])), 4)
        }
        127 => {
            let Some(b) = buf.get(2..10) else {
                return Ok(None);
            };
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(b);
            let len = usize::try_from(u64::from_be_bytes(bytes))
                .map_err(|_| Error::Other("frame length overflows usize".to_owned()))?;
            (len, 10)
        }
        n => (usize::from(n), 2),
    };
    let Some(payload) = buf.get(at..at + len) else {
        return Ok(None);
    };
    let frame = RawFrame {
        fin,
        opcode,
        payload: payload.to_vec(),
    };
    at += len;
    Ok(Some((frame, at)))
}

/// Echo latencies a [`Bystander`] measured.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    /// Every round trip, in order.
    pub samples: Vec<Duration>,
    /// Echoes that failed (no reply, wrong reply, closed connection).
    pub failures: Vec<String>,
}

impl Latencies {
    /// The largest round trip.
    pub fn max(&self) -> Duration {
        self.samples.iter().copied().max().unwrap_or_default()
    }

    /// The `q` quantile (0..=1) of the round trips.
    pub fn quantile(&self, q: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * q).round().max(0.0) as usize;
        sorted.get(index).copied().unwrap_or_default()
    }
}

impl std::fmt::Display for Latencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} echoes, p50 {:.2?}, p99 {:.2?}, max {:.2?}, {} failed",
            self.samples.len(),
            self.quantile(0.5),
            self.quantile(0.99),
            self.max(),
            self.failures.len()
        )
    }
}

/// A well-behaved client that keeps sending `echo` (every 5 ms) while a
/// test misbehaves on other connections, and times every round trip.
pub struct Bystander {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Latencies>,
}

impl Bystander {
    /// Connects to `url` and starts echoing.
    pub async fn start(url: &str) -> Result<Bystander> {
        let (mut client, _) = Client::connect_ready(url).await?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut out = Latencies::default();
            while !flag.load(Ordering::Relaxed) {
                let started = Instant::now();
                match client.assert_alive().await {
                    Ok(()) => out.samples.push(started.elapsed()),
                    Err(e) => {
                        out.failures.push(e.to_string());
                        if client.closed().is_some() {
                            break;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            out
        });
        Ok(Bystander { stop, task })
    }

    /// Stops echoing; prints the figures under `label` and checks them:
    /// no failed echo, at least one echo, and every round trip under
    /// `bound` (a sanity bound, not a performance target).
    pub async fn finish(self, label: &str, bound: Duration) -> Latencies {
        self.stop.store(true, Ordering::Relaxed);
        let latencies = match self.task.await {
            Ok(latencies) => latencies,
            Err(e) => panic!("{label}: the bystander task failed: {e}"),
        };
        println!("{label}: bystander {latencies}");
        assert!(
            latencies.failures.is_empty(),
            "{label}: the bystander's echoes failed: {:?}",
            latencies.failures
        );
        assert!(
            !latencies.samples.is_empty(),
            "{label}: the bystander got no echo at all"
        );
        assert!(
            latencies.max() < bound,
            "{label}: a bystander echo took {:?} (bound {bound:?})",
            latencies.max()
        );
        latencies
    }
}

/// `/socket-health` as JSON.
pub async fn health(addr: &str) -> Result<Value> {
    let response = http_get(addr, "/socket-health", &[]).await?;
    if response.status != 200 {
        return Err(Error::Other(format!(
            "/socket-health answered {}",
            response.status
        )));
    }
    Ok(serde_json::from_str(&response.body)?)
}

/// `/metrics`, parsed: `name{labels}` (as written) to value.
pub async fn metrics(addr: &str) -> Result<HashMap<String, f64>> {
    let response = http_get(addr, "/metrics", &[]).await?;
    if response.status != 200 {
        return Err(Error::Other(format!(
            "/metrics answered {}",
            response.status
        )));
    }
    Ok(parse_metrics(&response.body))
}

/// Parses Prometheus text: every sample line into `name{labels}` -> value.
pub fn parse_metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The resident memory of process `pid` in KiB (`VmRSS` in
/// `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Polls `/socket-health` until `done` holds for it (or `timeout` passes);
/// returns the last health read.
pub async fn wait_health(
    addr: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let h = health(addr).await?;
        if done(&h) || Instant::now() >= deadline {
            return Ok(h);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Raises this process's open-file limit to at least `want` (up to the
/// hard limit); returns the soft limit in force afterwards.
pub fn raise_nofile_limit(want: u64) -> u64 {
    rlimit::increase_nofile_limit(want).unwrap_or(0)
}
