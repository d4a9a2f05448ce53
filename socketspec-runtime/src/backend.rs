//! Where room membership and broadcasts live beyond this node.
//!
//! Every node keeps its own members in a local registry and delivers to them
//! itself. The [`Backend`] decides what spans nodes: [`Backend::Memory`]
//! keeps everything in this process (one node).

/// The backend a server uses for rooms and broadcasts (seed: `backend`).
#[derive(Debug, Clone, Default)]
pub enum Backend {
    /// Everything in this process: a single node.
    #[default]
    Memory,
}

impl Backend {
    /// A short name for logs and the health endpoint.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Memory => "memory",
        }
    }
}
