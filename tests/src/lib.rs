//! End-to-end test harness for socketspec.
//!
//! The tests in `tests/tests/*.rs` drive the chat example (`examples/chat`,
//! binary `chat-server`) as a real process over real WebSockets, and check it
//! against the wire protocol (`PROTOCOL.md`) and the chat contract
//! (`CHAT-EXAMPLE.md`). This crate provides the pieces they share:
//!
//! - [`ChatServer`]: builds the server once per test binary, starts it on
//!   port 0, waits for its `listening on ws://HOST:PORT/ws` line and kills it
//!   when dropped.
//! - [`Client`]: a small WebSocket client over `tokio-tungstenite` that sends
//!   and receives JSON envelopes with bounded waits, and reports close codes.
//! - [`mint_jwt`]: HS256 test tokens with `sub`, `exp` and `role` claims.
//!
//! Every wait is bounded; nothing here blocks forever.

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub mod hardening;

/// How long [`Client`] helpers without an explicit timeout wait for a message.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`ChatServer::start`] waits for the `listening on` line.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How long [`ChatServer::stop_with_sigint`] waits for the process to exit.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// What went wrong in the harness or on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// `cargo build -p chat-example --bin chat-server` failed (its output).
    Build(String),
    /// The server process could not be started or did not report its address.
    Start(String),
    /// The WebSocket upgrade was refused with this HTTP status.
    Http(u16),
    /// A WebSocket or transport error.
    WebSocket(String),
    /// An I/O error outside the WebSocket (processes, pipes).
    Io(String),
    /// A message that is not JSON, or JSON that could not be encoded.
    Json(String),
    /// Nothing (or not the awaited message) arrived in time.
    Timeout(String),
    /// The connection closed; the close code, if the server sent one.
    Closed(Option<u16>),
    /// Anything else, e.g. a token that could not be signed.
    Other(String),
}

impl Error {
    /// The HTTP status of a refused upgrade.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Http(status) => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Build(m) => write!(f, "building chat-server failed:\n{m}"),
            Error::Start(m) => write!(f, "starting chat-server failed: {m}"),
            Error::Http(s) => write!(f, "the upgrade was refused with HTTP {s}"),
            Error::WebSocket(m) => write!(f, "websocket error: {m}"),
            Error::Io(m) => write!(f, "i/o error: {m}"),
            Error::Json(m) => write!(f, "json error: {m}"),
            Error::Timeout(m) => write!(f, "timed out: {m}"),
            Error::Closed(code) => write!(f, "the connection closed (close code {code:?})"),
            Error::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e.to_string())
    }
}

impl From<tungstenite::Error> for Error {
    fn from(e: tungstenite::Error) -> Self {
        match e {
            tungstenite::Error::Http(response) => Error::Http(response.status().as_u16()),
            other => Error::WebSocket(other.to_string()),
        }
    }
}

/// The harness's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------
// Building and running the chat server
// ---------------------------------------------------------------------------

/// The workspace root (`<this crate>/..`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The cargo target directory: `CARGO_TARGET_DIR` when set (relative to the
/// workspace root if relative), else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    let root = workspace_root();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

static CHAT_SERVER_BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// Builds `chat-server` (once per test binary) and returns its path.
///
/// Runs `cargo build -p chat-example --bin chat-server` in the workspace root;
/// later calls reuse the first outcome.
pub fn chat_server_binary() -> Result<PathBuf> {
    CHAT_SERVER_BINARY
        .get_or_init(build_chat_server)
        .clone()
        .map_err(Error::Build)
}

fn build_chat_server() -> Result<PathBuf, String> {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "-p", "chat-example", "--bin", "chat-server"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo build -p chat-example --bin chat-server` exited with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let binary = target_dir()
        .join("debug")
        .join(format!("chat-server{}", std::env::consts::EXE_SUFFIX));
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "the build succeeded but {} does not exist",
            binary.display()
        ))
    }
}

/// Parses `listening on ws://HOST:PORT/ws` into `HOST:PORT`.
pub fn parse_listening_line(line: &str) -> Option<String> {
    let rest = line.trim_end().strip_prefix("listening on ws://")?;
    let addr = rest.strip_suffix("/ws")?;
    (!addr.is_empty() && !addr.contains('/')).then(|| addr.to_owned())
}

/// A running `chat-server` process bound to `127.0.0.1:0`; killed on drop.
pub struct ChatServer {
    child: Child,
    addr: String,
    stderr: Arc<Mutex<String>>,
    stderr_thread: Option<JoinHandle<()>>,
}

impl ChatServer {
    /// Starts the server with `--bind 127.0.0.1:0` followed by `args`.
    ///
    /// # Panics
    /// When the server cannot be built or started, or does not print its
    /// `listening on` line within [`START_TIMEOUT`]; the message includes
    /// its stderr. Use [`ChatServer::try_start`] to get the error instead.
    pub fn start(args: &[&str]) -> ChatServer {
        match ChatServer::try_start(args) {
            Ok(server) => server,
            Err(e) => panic!("chat-server {args:?}: {e}"),
        }
    }

    /// Like [`ChatServer::start`], returning the error instead of panicking.
    pub fn try_start(args: &[&str]) -> Result<ChatServer> {
        ChatServer::try_start_on("127.0.0.1:0", args)
    }

    /// Starts the server with `--bind bind` (e.g. the address of a server
    /// that was stopped, to restart it on the same port) followed by `args`.
    pub fn try_start_on(bind: &str, args: &[&str]) -> Result<ChatServer> {
        let binary = chat_server_binary()?;
        let mut child = Command::new(&binary)
            .arg("--bind")
            .arg(bind)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Start(format!("could not spawn {}: {e}", binary.display())))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_thread = child
            .stderr
            .take()
            .map(|pipe| spawn_stderr_reader(pipe, Arc::clone(&stderr)));
        let mut server = ChatServer {
            child,
            addr: String::new(),
            stderr,
            stderr_thread,
        };
        let Some(stdout) = server.child.stdout.take() else {
            return Err(server.fail("no stdout pipe"));
        };
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            // Keep draining stdout for the whole life of the process.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = parse_listening_line(&line) {
                        server.addr = addr;
                        return Ok(server);
                    }
                    seen.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let why = format!(
                        "no `listening on ws://HOST:PORT/ws` line within {START_TIMEOUT:?}; stdout so far: {seen:?}"
                    );
                    return Err(server.fail(&why));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = server
                        .child
                        .wait()
                        .map(|s| s.to_string())
                        .unwrap_or_default();
                    let why = format!(
                        "the process closed stdout ({status}) before listening; stdout: {seen:?}"
                    );
                    return Err(server.fail(&why));
                }
            }
        }
    }

    /// Kills the process and builds a start error carrying its stderr.
    fn fail(&mut self, why: &str) -> Error {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(thread) = self.stderr_thread.take() {
            let _ = thread.join();
        }
        Error::Start(format!("{why}\n--- stderr ---\n{}", self.stderr()))
    }

    /// `HOST:PORT` the server listens on.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// `ws://HOST:PORT/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// `http://HOST:PORT`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        match self.stderr.lock() {
            Ok(text) => text.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Sends SIGINT, then waits (up to [`STOP_TIMEOUT`]) for the process to exit.
    pub fn stop_with_sigint(&mut self) -> Result<ExitStatus> {
        self.stop_with_signal("INT")
    }

    /// Sends SIGTERM, then waits (up to [`STOP_TIMEOUT`]) for the process to exit.
    pub fn stop_with_sigterm(&mut self) -> Result<ExitStatus> {
        self.stop_with_signal("TERM")
    }

    /// Sends the signal `name` (`"INT"`, `"TERM"`...) with the `kill` command.
    pub fn signal(&self, name: &str) -> Result<()> {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .stdin(Stdio::null())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Io(format!(
                "`kill -{name} {}` exited with {status}",
                self.pid()
            )))
        }
    }

    fn stop_with_signal(&mut self, name: &str) -> Result<ExitStatus> {
        self.signal(name)?;
        self.wait_exit(STOP_TIMEOUT)
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout(format!(
                    "chat-server (pid {}) still running after {timeout:?}; stderr:\n{}",
                    self.pid(),
                    self.stderr()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ChatServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn spawn_stderr_reader(mut pipe: ChildStderr, sink: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let chunk = String::from_utf8_lossy(&buf[..n]);
                    match sink.lock() {
                        Ok(mut text) => text.push_str(&chunk),
                        Err(poisoned) => poisoned.into_inner().push_str(&chunk),
                    }
                }
            }
        }
    })
}

// ---------------------------------------------------------------------------
// The WebSocket client
// ---------------------------------------------------------------------------

/// Builds an upgrade request for `url` (all WebSocket headers set), to which
/// tests add headers such as `Origin`, `Authorization` or `X-API-Key`.
pub fn ws_request(url: &str) -> Result<http::Request<()>> {
    Ok(url.into_client_request()?)
}

/// [`ws_request`] plus the given headers.
pub fn ws_request_with(url: &str, headers: &[(&str, &str)]) -> Result<http::Request<()>> {
    let mut request = ws_request(url)?;
    for (name, value) in headers {
        let name = http::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| Error::Other(format!("bad header name {name:?}: {e}")))?;
        let value = http::header::HeaderValue::from_str(value)
            .map_err(|e| Error::Other(format!("bad header value {value:?}: {e}")))?;
        request.headers_mut().append(name, value);
    }
    Ok(request)
}

/// The `event` field of an envelope (`""` when missing).
pub fn event_of(message: &Value) -> &str {
    message.get("event").and_then(Value::as_str).unwrap_or("")
}

/// A WebSocket client speaking socketspec envelopes.
///
/// Messages read while looking for something else (see
/// [`Client::recv_event`], [`Client::request`]) are kept, in order, and
/// returned by later reads; only `__ping__` is dropped by those searches.
pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pending: VecDeque<Value>,
    closed: Option<Option<u16>>,
}

/// One read from the socket.
enum Next {
    Json(Value),
    Closed(Option<u16>),
    TimedOut,
}

static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

impl Client {
    /// Connects to `url` (e.g. [`ChatServer::ws_url`]).
    pub async fn connect(url: &str) -> Result<Client> {
        Client::connect_with(ws_request(url)?).await
    }

    /// Connects with a prepared upgrade request (see [`ws_request_with`]).
    /// A refused upgrade is [`Error::Http`] with its status.
    pub async fn connect_with(request: http::Request<()>) -> Result<Client> {
        let connect = tokio_tungstenite::connect_async(request);
        let (ws, _response) = tokio::time::timeout(DEFAULT_TIMEOUT, connect)
            .await
            .map_err(|_| Error::Timeout("the WebSocket upgrade did not complete".to_owned()))??;
        Ok(Client {
            ws,
            pending: VecDeque::new(),
            closed: None,
        })
    }

    /// Connects to `url` and reads the first message, which must be
    /// `__connect__`; returns the client and that message's payload.
    pub async fn connect_ready(url: &str) -> Result<(Client, Value)> {
        let mut client = Client::connect(url).await?;
        let payload = client.expect_connect().await?;
        Ok((client, payload))
    }

    /// Reads the next message and checks that it is `__connect__` with a
    /// string `connection_id`; returns its payload.
    pub async fn expect_connect(&mut self) -> Result<Value> {
        let first = self.recv_json(DEFAULT_TIMEOUT).await?;
        if event_of(&first) != "__connect__" {
            return Err(Error::Other(format!(
                "expected `__connect__` first, got {first}"
            )));
        }
        let payload = first.get("payload").cloned().unwrap_or(Value::Null);
        if payload
            .get("connection_id")
            .and_then(Value::as_str)
            .is_none()
        {
            return Err(Error::Other(format!(
                "`__connect__` without a string connection_id: {first}"
            )));
        }
        Ok(payload)
    }

    /// Sends `value` as one text frame.
    pub async fn send_json(&mut self, value: &Value) -> Result<()> {
        let text = serde_json::to_string(value)?;
        self.send_raw_text(&text).await
    }

    /// Sends `{"event": event, "payload": payload}` (no `id`).
    pub async fn send_event(&mut self, event: &str, payload: Value) -> Result<()> {
        self.send_json(&json!({"event": event, "payload": payload}))
            .await
    }

    /// Sends `{"event": event, "payload": payload, "id": id}`.
    pub async fn send_event_with_id(
        &mut self,
        event: &str,
        payload: Value,
        id: &str,
    ) -> Result<()> {
        self.send_json(&json!({"event": event, "payload": payload, "id": id}))
            .await
    }

    /// Sends `text` as one text frame, verbatim.
    pub async fn send_raw_text(&mut self, text: &str) -> Result<()> {
        self.send_message(Message::text(text)).await
    }

    /// Sends `bytes` as one binary frame.
    pub async fn send_binary(&mut self, bytes: impl Into<Vec<u8>>) -> Result<()> {
        self.send_message(Message::binary(bytes.into())).await
    }

    async fn send_message(&mut self, message: Message) -> Result<()> {
        tokio::time::timeout(DEFAULT_TIMEOUT, self.ws.send(message))
            .await
            .map_err(|_| Error::Timeout("sending a frame".to_owned()))??;
        Ok(())
    }

    /// Starts the closing handshake from the client side (code 1000).
    pub async fn close(&mut self) -> Result<()> {
        let close = self.ws.close(None);
        tokio::time::timeout(DEFAULT_TIMEOUT, close)
            .await
            .map_err(|_| Error::Timeout("closing".to_owned()))??;
        Ok(())
    }

    /// Reads one message from the socket, skipping control frames.
    async fn read_next(&mut self, deadline: tokio::time::Instant) -> Result<Next> {
        if let Some(code) = self.closed {
            return Ok(Next::Closed(code));
        }
        loop {
            let message = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Ok(Next::TimedOut),
                Ok(None) => return Ok(self.mark_closed(None)),
                Ok(Some(Err(e))) => match e {
                    tungstenite::Error::ConnectionClosed
                    | tungstenite::Error::AlreadyClosed
                    | tungstenite::Error::Io(_)
                    | tungstenite::Error::Protocol(_) => return Ok(self.mark_closed(None)),
                    other => return Err(other.into()),
                },
                Ok(Some(Ok(message))) => message,
            };
            match message {
                Message::Text(text) => {
                    let value = serde_json::from_str(text.as_str()).map_err(|e| {
                        Error::Json(format!(
                            "server sent non-JSON text {:?}: {e}",
                            text.as_str()
                        ))
                    })?;
                    return Ok(Next::Json(value));
                }
                Message::Binary(bytes) => {
                    let value = serde_json::from_slice(&bytes).map_err(|e| {
                        Error::Json(format!("server sent a non-JSON binary frame: {e}"))
                    })?;
                    return Ok(Next::Json(value));
                }
                Message::Close(frame) => {
                    let code = frame.map(|f| u16::from(f.code));
                    // Let tungstenite send its answering close frame.
                    let _ = tokio::time::timeout(Duration::from_millis(500), self.ws.flush()).await;
                    return Ok(self.mark_closed(code));
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    fn mark_closed(&mut self, code: Option<u16>) -> Next {
        self.closed = Some(code);
        Next::Closed(code)
    }

    /// The close code once the connection is known to be closed: `Some(Some(code))`
    /// after a close frame, `Some(None)` after the stream ended without one.
    pub fn closed(&self) -> Option<Option<u16>> {
        self.closed
    }

    /// Messages read ahead and not yet returned.
    pub fn buffered(&self) -> impl Iterator<Item = &Value> {
        self.pending.iter()
    }

    /// The next message (buffered first). [`Error::Timeout`] when none
    /// arrives within `timeout`, [`Error::Closed`] when the connection closed.
    pub async fn recv_json(&mut self, timeout: Duration) -> Result<Value> {
        match self.try_recv_json(timeout).await? {
            Some(value) => Ok(value),
            None => Err(Error::Timeout(format!("no message within {timeout:?}"))),
        }
    }

    /// Like [`Client::recv_json`], but `Ok(None)` when nothing arrives in time.
    pub async fn try_recv_json(&mut self, timeout: Duration) -> Result<Option<Value>> {
        if let Some(value) = self.pending.pop_front() {
            return Ok(Some(value));
        }
        let deadline = tokio::time::Instant::now() + timeout;
        match self.read_next(deadline).await? {
            Next::Json(value) => Ok(Some(value)),
            Next::Closed(code) => Err(Error::Closed(code)),
            Next::TimedOut => Ok(None),
        }
    }

    /// The next message that is not `__ping__` (pings are dropped), or
    /// `Ok(None)` when none arrives within `timeout`.
    pub async fn try_recv_non_ping(&mut self, timeout: Duration) -> Result<Option<Value>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.try_recv_json(left).await? {
                Some(value) if event_of(&value) == "__ping__" => {}
                other => return Ok(other),
            }
        }
    }

    /// The first message whose `event` is `name`, buffered or not. Other
    /// messages read meanwhile are kept for later reads, except `__ping__`,
    /// which is dropped (unless `name` is `__ping__`).
    pub async fn recv_event(&mut self, name: &str, timeout: Duration) -> Result<Value> {
        self.recv_matching(timeout, &format!("event {name:?}"), |m| event_of(m) == name)
            .await
    }

    /// The first message for which `wanted` holds; see [`Client::recv_event`].
    pub async fn recv_matching(
        &mut self,
        timeout: Duration,
        what: &str,
        wanted: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        if let Some(index) = self.pending.iter().position(&wanted)
            && let Some(value) = self.pending.remove(index)
        {
            return Ok(value);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.read_next(deadline).await? {
                Next::Json(value) if wanted(&value) => return Ok(value),
                Next::Json(value) => {
                    if event_of(&value) != "__ping__" {
                        self.pending.push_back(value);
                    }
                }
                Next::Closed(code) => {
                    return Err(Error::Other(format!(
                        "connection closed (code {code:?}) while waiting for {what}; got meanwhile: {}",
                        self.describe_pending()
                    )));
                }
                Next::TimedOut => {
                    return Err(Error::Timeout(format!(
                        "no {what} within {timeout:?}; got meanwhile: {}",
                        self.describe_pending()
                    )));
                }
            }
        }
    }

    fn describe_pending(&self) -> String {
        let all: Vec<String> = self.pending.iter().map(Value::to_string).collect();
        format!("[{}]", all.join(", "))
    }

    /// Waits for the server to close the connection; returns the close code
    /// (`None` if the stream ended without a close frame). Messages read
    /// meanwhile stay available to [`Client::recv_json`] and [`Client::buffered`].
    pub async fn expect_close(&mut self, timeout: Duration) -> Result<Option<u16>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.read_next(deadline).await? {
                Next::Json(value) => self.pending.push_back(value),
                Next::Closed(code) => return Ok(code),
                Next::TimedOut => {
                    return Err(Error::Timeout(format!(
                        "the connection was still open after {timeout:?}; got meanwhile: {}",
                        self.describe_pending()
                    )));
                }
            }
        }
    }

    /// Sends `event` with `payload` and a fresh `id`, and returns the first
    /// message carrying that `id` (the reply or an `__error__`), waiting up
    /// to [`DEFAULT_TIMEOUT`].
    pub async fn request(&mut self, event: &str, payload: Value) -> Result<Value> {
        let id = format!("req-{}", NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed));
        self.request_with_id(event, payload, &id, DEFAULT_TIMEOUT)
            .await
    }

    /// [`Client::request`] with a chosen `id` and timeout.
    pub async fn request_with_id(
        &mut self,
        event: &str,
        payload: Value,
        id: &str,
        timeout: Duration,
    ) -> Result<Value> {
        self.send_event_with_id(event, payload, id).await?;
        self.recv_reply(id, timeout).await
    }

    /// The first message whose envelope `id` is `id`.
    pub async fn recv_reply(&mut self, id: &str, timeout: Duration) -> Result<Value> {
        self.recv_matching(timeout, &format!("reply with id {id:?}"), |m| {
            m.get("id").and_then(Value::as_str) == Some(id)
        })
        .await
    }

    /// Sends `echo` and checks the `echo_reply`: proof that the connection
    /// is open and served.
    pub async fn assert_alive(&mut self) -> Result<()> {
        let seq = i64::try_from(NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed)).unwrap_or(0);
        let reply = self
            .request("echo", json!({"seq": seq, "data": "alive?"}))
            .await?;
        let expected = json!({"seq": seq, "data": "alive?"});
        if event_of(&reply) == "echo_reply" && reply.get("payload") == Some(&expected) {
            Ok(())
        } else {
            Err(Error::Other(format!(
                "expected echo_reply {expected}, got {reply}"
            )))
        }
    }
}

/// Checks that `message` is a well-formed `__error__` envelope with `code`
/// (payload with `code`, `event`, a string `message`, a string
/// `request_id` and an object `details`) and returns its payload.
///
/// # Panics
/// When it is not.
pub fn assert_error<'a>(message: &'a Value, code: &str) -> &'a Value {
    assert_eq!(
        event_of(message),
        "__error__",
        "expected an __error__ {code}, got {message}"
    );
    let payload = &message["payload"];
    assert_eq!(payload["code"], code, "wrong error code in {message}");
    assert!(
        payload.get("event").is_some(),
        "`event` missing (null expected when unknown) in {message}"
    );
    assert!(
        payload["event"].is_null() || payload["event"].is_string(),
        "bad `event` in {message}"
    );
    assert!(
        payload["message"].is_string(),
        "`message` must be a string in {message}"
    );
    assert!(
        payload["request_id"].is_string(),
        "`request_id` must be a string in {message}"
    );
    assert!(
        payload["details"].is_object(),
        "`details` must be an object in {message}"
    );
    payload
}

// ---------------------------------------------------------------------------
// Plain HTTP
// ---------------------------------------------------------------------------

/// A plain HTTP response: status, lower-cased headers and body text.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header names (lower-cased) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, decoded as UTF-8 (lossily).
    pub body: String,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` on `addr` (`HOST:PORT`) over HTTP/1.1 with `Connection: close`
/// and the given extra headers; reads the whole response (bounded by
/// [`DEFAULT_TIMEOUT`]). Handles `Content-Length` and chunked bodies.
pub async fn http_get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Result<HttpResponse> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, Error>(raw)
    };
    let raw = tokio::time::timeout(DEFAULT_TIMEOUT, exchange)
        .await
        .map_err(|_| Error::Timeout(format!("GET {path}")))??;
    parse_http_response(&raw)
}

fn parse_http_response(raw: &[u8]) -> Result<HttpResponse> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| Error::Other("HTTP response without a header end".to_owned()))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| Error::Other(format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| Error::Other("truncated chunked body".to_owned()))?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|e| Error::Other(format!("bad chunk size {size_hex:?}: {e}")))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = data
            .get(..size)
            .ok_or_else(|| Error::Other("truncated chunk".to_owned()))?;
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).unwrap_or_default();
    }
}

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Mints an HS256 JWT signed with `secret`, with claims `sub`, `exp`
/// (`expires_in_secs` from now; negative for an expired token) and, when
/// given, `role`.
pub fn mint_jwt(
    secret: &str,
    sub: &str,
    role: Option<&str>,
    expires_in_secs: i64,
) -> Result<String> {
    let now = i64::try_from(unix_now()).unwrap_or(i64::MAX);
    let mut claims = json!({"sub": sub, "exp": now.saturating_add(expires_in_secs)});
    if let (Some(role), Some(map)) = (role, claims.as_object_mut()) {
        map.insert("role".to_owned(), json!(role));
    }
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| Error::Other(format!("signing a test JWT: {e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_listening_line() {
        assert_eq!(
            parse_listening_line("listening on ws://127.0.0.1:40123/ws"),
            Some("127.0.0.1:40123".to_owned())
        );
        assert_eq!(
            parse_listening_line("listening on ws://[::1]:80/ws\n"),
            Some("[::1]:80".to_owned())
        );
        assert_eq!(
            parse_listening_line("listening on http://127.0.0.1:1/ws"),
            None
        );
        assert_eq!(parse_listening_line("starting"), None);
    }

    #[test]
    fn parses_http_responses() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let r = parse_http_response(raw).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.body, "abcde");
        let r = parse_http_response(b"HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\nno\n")
            .unwrap();
        assert_eq!((r.status, r.body.as_str()), (404, "no\n"));
    }

    #[test]
    fn mints_a_token_with_the_claims() {
        let token = mint_jwt("s", "alice", Some("admin"), 60).unwrap();
        let key = jsonwebtoken::DecodingKey::from_secret(b"s");
        let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        let data = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
        assert_eq!(data.claims["sub"], "alice");
        assert_eq!(data.claims["role"], "admin");
    }
}
