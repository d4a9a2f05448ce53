//! Starting a server from a command line, reading its `listening on` line,
//! sampling its memory and stopping it.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};

/// How long a server may take to print its `listening on` line.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a server may take to exit after SIGTERM before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Parses `listening on ws://HOST:PORT/PATH` into the WebSocket URL.
pub fn parse_listening_line(line: &str) -> Option<String> {
    let url = line.trim().strip_prefix("listening on ")?;
    let rest = url.strip_prefix("ws://")?;
    (!rest.is_empty() && rest.contains('/')).then(|| url.to_owned())
}

/// `command` with every `{unique}` replaced by a string no other start of
/// this process uses (this process's id, a counter and the time), so that
/// servers sharing a Redis can each get a fresh `--redis-prefix`.
pub fn expand_unique(command: &str) -> String {
    static STARTS: AtomicU64 = AtomicU64::new(0);
    if !command.contains("{unique}") {
        return command.to_owned();
    }
    let n = STARTS.fetch_add(1, Ordering::Relaxed);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    command.replace("{unique}", &format!("{}-{millis}-{n}", std::process::id()))
}

/// A server process started by the benchmark; killed when dropped.
pub struct ServerProcess {
    child: Child,
    url: String,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Runs `command` through `sh -c 'exec …'` (so the process id is the
    /// server's own) and waits for its `listening on ws://…` line. Every
    /// `{unique}` in it is replaced first (see [`expand_unique`]).
    pub fn start(command: &str) -> Result<ServerProcess> {
        let command = &expand_unique(command);
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("exec {command}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("could not start `{command}`"))?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(pipe) = child.stderr.take() {
            spawn_line_collector(pipe, Arc::clone(&stderr));
        }
        let (tx, rx) = mpsc::channel::<String>();
        if let Some(pipe) = child.stdout.take() {
            std::thread::spawn(move || {
                // Keep draining stdout for the server's whole life.
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    let _ = tx.send(line);
                }
            });
        }
        let mut server = ServerProcess {
            child,
            url: String::new(),
            stderr,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = parse_listening_line(&line) {
                        server.url = url;
                        return Ok(server);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let tail = server.stderr_tail();
                    server.kill();
                    bail!(
                        "`{command}` printed no `listening on ws://HOST:PORT/PATH` line within {START_TIMEOUT:?}; stderr:\n{tail}"
                    );
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // Give the stderr reader a moment to collect the reason.
                    std::thread::sleep(Duration::from_millis(100));
                    let status = server.child.try_wait().ok().flatten();
                    let tail = server.stderr_tail();
                    server.kill();
                    bail!(
                        "`{command}` closed stdout before its `listening on` line (exit status {status:?}); stderr:\n{tail}"
                    );
                }
            }
        }
    }

    /// The server's WebSocket URL, from its `listening on` line.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines the server wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        self.stderr
            .lock()
            .map(|lines| lines.join("\n"))
            .unwrap_or_default()
    }

    /// Stops the server: SIGTERM, then SIGKILL after [`STOP_TIMEOUT`].
    /// Returns whether it exited on its own after SIGTERM.
    pub fn stop(mut self) -> bool {
        self.terminate()
    }

    fn terminate(&mut self) -> bool {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return true;
        }
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if sent {
            let deadline = Instant::now() + STOP_TIMEOUT;
            while Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.kill();
        false
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            self.kill();
        }
    }
}

fn spawn_line_collector(pipe: impl Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut lines) = into.lock() {
                if lines.len() >= 50 {
                    lines.remove(0);
                }
                lines.push(line);
            }
        }
    });
}

/// The resident set size of process `pid` in KiB (`VmRSS` in
/// `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS line in {path}"))
}

/// CPU time process `pid` has used so far (user + system, all threads), in
/// seconds, from `/proc/PID/stat`.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks_per_second())
}

/// `getconf CLK_TCK` (USER_HZ, the unit of `/proc/PID/stat` times); 100
/// when it cannot be asked.
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t: &f64| t > 0.0)
            .unwrap_or(100.0)
    })
}

/// The number of threads of process `pid` (`Threads` in `/proc/PID/status`).
pub fn threads(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|rest| rest.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_listening_line() {
        assert_eq!(
            parse_listening_line("listening on ws://127.0.0.1:4000/ws\n").as_deref(),
            Some("ws://127.0.0.1:4000/ws")
        );
        assert_eq!(parse_listening_line("listening on http://x/ws"), None);
        assert_eq!(parse_listening_line("hello"), None);
    }

    #[test]
    fn reads_our_own_cpu_time() {
        let busy = std::time::Instant::now();
        let mut x = 0u64;
        while busy.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_add(1);
        }
        assert!(x > 0);
        assert!(cpu_seconds(std::process::id()).is_some_and(|s| s > 0.0));
    }

    #[test]
    fn unique_placeholders_differ_per_start() {
        assert_eq!(expand_unique("srv --x 1"), "srv --x 1");
        let a = expand_unique("srv --redis-prefix b-{unique}");
        let b = expand_unique("srv --redis-prefix b-{unique}");
        assert!(a.starts_with("srv --redis-prefix b-") && !a.contains('{'));
        assert_ne!(a, b);
    }

    #[test]
    fn reads_our_own_rss() {
        let rss = rss_kib(std::process::id()).unwrap_or(0);
        assert!(rss > 0);
    }
}
