//! The load modes (`rtt`, `fanout`, `idle`, `churn`, and `detached` for
//! resumption's sessions). Each takes a [`Target`] (a server's URL and, when
//! known, its process id for memory figures) and its options, and returns a
//! serializable report.

pub mod churn;
pub mod detached;
pub mod fanout;
pub mod idle;
pub mod rtt;

use anyhow::{Result, anyhow};

/// Where a mode sends its load.
#[derive(Debug, Clone)]
pub struct Target {
    /// The WebSocket URL, `ws://HOST:PORT/ws`.
    pub url: String,
    /// The server's process id, for `/proc/PID/status` (RSS); `None` when the
    /// server runs elsewhere and the memory figures are skipped.
    pub pid: Option<u32>,
    /// Another process whose CPU time `fanout` reports next to the
    /// server's (a cluster's `redis-server`, which does part of each
    /// broadcast's work).
    pub observed_pid: Option<u32>,
}

impl Target {
    /// The server's RSS in KiB, when its process id is known.
    pub fn rss_kib(&self) -> Option<u64> {
        self.pid.and_then(|pid| crate::process::rss_kib(pid).ok())
    }

    /// The server's CPU time so far (user + system), seconds, when its
    /// process id is known.
    pub fn cpu_seconds(&self) -> Option<f64> {
        self.pid.and_then(crate::process::cpu_seconds)
    }

    /// The observed process's CPU time so far, seconds, when there is one.
    pub fn observed_cpu_seconds(&self) -> Option<f64> {
        self.observed_pid.and_then(crate::process::cpu_seconds)
    }

    /// The server's RSS in KiB; an error when its process id is unknown.
    pub fn require_rss_kib(&self, mode: &str) -> Result<u64> {
        let pid = self.pid.ok_or_else(|| {
            anyhow!("`{mode}` measures the server's memory: start it with --server-cmd, or pass --server-pid with --url")
        })?;
        crate::process::rss_kib(pid)
    }
}

/// Server CPU microseconds per operation between two CPU-time samples.
pub fn cpu_us_per(before: Option<f64>, after: Option<f64>, operations: u64) -> Option<f64> {
    match (before, after) {
        (Some(b), Some(a)) if operations > 0 => Some((a - b) * 1e6 / operations as f64),
        _ => None,
    }
}

/// How many connects (with their first exchange) run at once while a mode
/// sets up: enough to be quick, few enough not to overflow a listen backlog.
pub const CONNECT_CONCURRENCY: usize = 64;
