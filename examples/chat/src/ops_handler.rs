//! The `ops` namespace's handler: this node's figures.

use socketspec_runtime::{Hooks, Result};

use crate::ops;

/// Answers `get_stats` with this node's open connections (every
/// namespace) and the rooms of namespace `/` that exist.
#[derive(Debug, Default, Clone, Copy)]
pub struct Ops;

impl Hooks for Ops {}

impl ops::Handler for Ops {
    async fn get_stats(&self, cx: ops::GetStatsCx<'_>, _payload: ops::GetStats) -> Result<()> {
        let server = cx.server();
        let rooms = server.rooms("/").await.map_or(0, |rooms| rooms.len());
        cx.emit_stats(ops::Stats::new(server.connections().into(), rooms.into()))
    }
}
