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
    /// The most concurrent connections (100,000); past it upgrades get HTTP 503.
    pub max_connections: usize,
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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload_size: 65_536,
            max_connections: 100_000,
            outbound_queue: 1024,
            max_in_flight: 64,
            read_buffer_size: 4 * 1024,
            write_buffer_size: 8 * 1024,
        }
    }
}

impl Limits {
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
}
