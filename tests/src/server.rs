//! [`ChatServer`]: the chat example's `chat-server` as a child process.
//!
//! It is started on port 0 with the test's flags; the harness waits for its
//! `listening on ws://HOST:PORT/ws` line on stdout, keeps what it writes to
//! stderr (for assertions and failure messages), stops it with a signal
//! sent through `rustix` (SIGINT and SIGTERM start the graceful shutdown),
//! and kills it when the handle is dropped.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::process::{Pid, kill_process};

use crate::artifacts::CHAT_SERVER;
use crate::wait::{child_exit, eventually};
use crate::{Error, Result};

/// A signal to send the server (`Signal::INT`, `Signal::TERM`, `Signal::KILL`...).
pub use rustix::process::Signal;

/// How long [`ChatServer::start`] waits for the `listening on` line.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How long the `stop` methods wait for the process to exit.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// Parses `listening on ws://HOST:PORT/ws` into `HOST:PORT`.
pub fn parse_listening_line(line: &str) -> Option<String> {
    let rest = line.trim_end().strip_prefix("listening on ws://")?;
    let addr = rest.strip_suffix("/ws")?;
    (!addr.is_empty() && !addr.contains('/')).then(|| addr.to_owned())
}

/// A running `chat-server` process; killed on drop.
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
        let binary = CHAT_SERVER.locate()?;
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
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: Signal) -> Result<()> {
        kill_process(Pid::from_child(&self.child), signal)
            .map_err(|e| Error::Io(format!("signal {signal:?} to pid {}: {e}", self.pid())))
    }

    /// Sends `signal`, then waits (up to [`STOP_TIMEOUT`]) for the process
    /// to exit; blocks the calling thread.
    pub fn stop_blocking(&mut self, signal: Signal) -> Result<ExitStatus> {
        self.signal(signal)?;
        self.wait_exit(STOP_TIMEOUT)
    }

    /// Sends `signal`, then waits (up to [`STOP_TIMEOUT`]) for the process
    /// to exit.
    pub async fn stop(&mut self, signal: Signal) -> Result<ExitStatus> {
        self.signal(signal)?;
        self.exited(STOP_TIMEOUT).await
    }

    /// Waits up to `timeout` for the process to exit on its own; blocks the
    /// calling thread.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let what = self.still_running(timeout);
        child_exit(&mut self.child, timeout, &what)
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub async fn exited(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let what = self.still_running(timeout);
        let child = &mut self.child;
        eventually(timeout, &what, async || Ok(child.try_wait()?)).await
    }

    fn still_running(&self, timeout: Duration) -> String {
        format!(
            "chat-server (pid {}) to exit (still running after {timeout:?}); stderr so far:\n{}",
            self.pid(),
            self.stderr()
        )
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
                    sink.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push_str(&chunk);
                }
            }
        }
    })
}

#[cfg(test)]
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
}
