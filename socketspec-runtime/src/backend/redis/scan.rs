//! Key scans: the rooms that exist, and the nodes that are alive (what a
//! broadcast must reach to count as delivered).

use std::sync::atomic::Ordering;

use super::{RedisBackend, RedisCall};
use crate::backend::BackendError;

impl RedisBackend {
    /// Every key starting with `prefix`, by `SCAN` in bounded steps (`KEYS`
    /// would block Redis on a big keyspace).
    pub(super) async fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        let mut cursor: u64 = 0;
        let mut keys = Vec::new();
        loop {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor)
                .arg("MATCH")
                .arg(format!("{}*", glob_escape(prefix)))
                .arg("COUNT")
                .arg(500);
            let (next, batch): (u64, Vec<String>) = self.run(RedisCall::Cmd(&cmd)).await?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }

    /// Counts the nodes whose liveness key exists (this one included).
    pub(super) async fn count_live_nodes(&self) {
        match self.keys_with_prefix(&self.key("node", "")).await {
            Ok(nodes) => self.live_nodes.store(nodes.len(), Ordering::Release),
            Err(e) => tracing::warn!(error = %e, "counting the live nodes failed"),
        }
    }

    /// A publish that `receivers` subscriptions got: an error when that is
    /// fewer than the live nodes, because members on the others missed it.
    pub(super) fn check_reach(&self, receivers: usize) -> Result<(), BackendError> {
        let live = self.live_nodes.load(Ordering::Acquire);
        if receivers >= live {
            return Ok(());
        }
        Err(BackendError(format!(
            "the broadcast reached {receivers} of {live} live nodes; \
             members on the others may have missed it"
        )))
    }
}

/// `text` with the glob characters of `SCAN MATCH` escaped.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
