//! [`Limits`]: sizes, queues and caps that bound what one client (or all of
//! them) can make the server hold.

/// Sizes, queues and caps.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest inbound message in bytes (65,536). A bigger message is
    /// answered with `PAYLOAD_TOO_LARGE`; one far bigger (over 4 times this,
    /// at least 64 KiB) is refused by the WebSocket layer with close 1009
    /// before it is buffered whole.
    pub max_payload_size: usize,
    /// The most concurrent connections (100,000); past it upgrades get HTTP
    /// 503. The server lowers it to what its open-files limit allows, less
    /// a reserve for other sockets (see `raise_open_files_limit`).
    pub max_connections: usize,
    /// At start, raise the process's open-files limit (`RLIMIT_NOFILE`) to
    /// its hard limit (on by default). Either way the connection cap is
    /// kept below the limit, with a reserve (1/16 of it, 32 to 1,024 files)
    /// for the listener, the backend, and the health and metrics routes,
    /// so that past the cap clients get a 503 instead of a dead socket.
    pub raise_open_files_limit: bool,
    /// Outbound messages queued per connection (1,024) before it counts as a
    /// slow consumer and is closed with 4008.
    pub outbound_queue: usize,
    /// Handlers waiting (parked on an await) per connection (64); past it
    /// the server stops reading from that connection until one finishes
    /// (backpressure). A handler that finishes without waiting never counts.
    pub max_in_flight: usize,
    /// Per-connection read buffer (4 KiB). Small by default: tungstenite's
    /// own default (128 KiB, allocated up front) would cost ~1.3 GB per
    /// 10,000 connections.
    pub read_buffer_size: usize,
    /// Per-connection write buffer target (8 KiB): bytes collected before a flush.
    pub write_buffer_size: usize,
    /// WebSocket control frames (pings, pongs) a connection may send per
    /// second (100); past it the connection is closed with 1008, because
    /// answering a ping flood would crowd out everything else.
    pub max_control_frames_per_sec: u32,
    /// Rooms one connection may be in at once (1,000, its own address rooms
    /// aside); a join past it is refused with `PERMISSION_ERROR`
    /// (`details.limit`).
    pub max_rooms_per_connection: usize,
    /// Rooms that may exist at once on this server, in all namespaces
    /// (100,000); a join that would create one more is refused with
    /// `PERMISSION_ERROR` (`details.limit`).
    pub max_rooms: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload_size: 65_536,
            max_connections: 100_000,
            raise_open_files_limit: true,
            outbound_queue: 1024,
            max_in_flight: 64,
            read_buffer_size: 4 * 1024,
            write_buffer_size: 8 * 1024,
            max_control_frames_per_sec: 100,
            max_rooms_per_connection: 1_000,
            max_rooms: 100_000,
        }
    }
}

impl Limits {
    /// The WebSocket layer's hard cap on a message or frame: 4 x
    /// `max_payload_size`, at least 64 KiB.
    pub(crate) fn hard_cap(&self) -> usize {
        self.max_payload_size.saturating_mul(4).max(64 * 1024)
    }

    /// Sets `max_payload_size`.
    pub fn max_payload_size(mut self, bytes: usize) -> Self {
        self.max_payload_size = bytes;
        self
    }

    /// Sets `max_connections`.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }

    /// Sets `raise_open_files_limit`.
    pub fn raise_open_files_limit(mut self, raise: bool) -> Self {
        self.raise_open_files_limit = raise;
        self
    }

    /// The connection cap the open-files limit allows: `max_connections`,
    /// or less when the process may not open that many files. Raises the
    /// limit first when `raise_open_files_limit` is set.
    pub(crate) fn connection_cap(&self) -> usize {
        let Some(files) = open_files_limit(self.raise_open_files_limit) else {
            return self.max_connections;
        };
        let reserve = (files / 16).clamp(32, 1024);
        let cap = usize::try_from(files.saturating_sub(reserve)).unwrap_or(usize::MAX);
        if cap < self.max_connections {
            tracing::info!(
                open_files = files,
                max_connections = cap,
                "the open-files limit caps the connections below max_connections"
            );
        }
        self.max_connections.min(cap).max(1)
    }

    /// Sets `outbound_queue`.
    pub fn outbound_queue(mut self, frames: usize) -> Self {
        self.outbound_queue = frames;
        self
    }

    /// Sets `max_in_flight`.
    pub fn max_in_flight(mut self, handlers: usize) -> Self {
        self.max_in_flight = handlers;
        self
    }

    /// Sets `read_buffer_size`.
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes;
        self
    }

    /// Sets `write_buffer_size`.
    pub fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = bytes;
        self
    }

    /// Sets `max_control_frames_per_sec`.
    pub fn max_control_frames_per_sec(mut self, frames: u32) -> Self {
        self.max_control_frames_per_sec = frames;
        self
    }

    /// Sets `max_rooms_per_connection`.
    pub fn max_rooms_per_connection(mut self, rooms: usize) -> Self {
        self.max_rooms_per_connection = rooms;
        self
    }

    /// Sets `max_rooms`.
    pub fn max_rooms(mut self, rooms: usize) -> Self {
        self.max_rooms = rooms;
        self
    }
}

/// The open-files limit (soft), after raising it to the hard limit when
/// asked; `None` where there is no such limit or it cannot be read.
#[cfg(unix)]
fn open_files_limit(raise: bool) -> Option<u64> {
    if raise {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(files) => return Some(files),
            Err(error) => tracing::warn!(%error, "could not raise the open-files limit"),
        }
    }
    rlimit::getrlimit(rlimit::Resource::NOFILE)
        .ok()
        .map(|(soft, _)| soft)
        .filter(|soft| *soft != rlimit::INFINITY)
}

#[cfg(not(unix))]
fn open_files_limit(_raise: bool) -> Option<u64> {
    None
}
