//! Prometheus metrics of one server, served as text at `/metrics`.
//!
//! Built on the `prometheus` crate rather than `metrics` +
//! `metrics-exporter-prometheus`: it gives each server its own
//! [`Registry`] instead of one process-wide recorder, so two servers in one
//! process (tests, or two specs mounted side by side) keep separate figures,
//! and it needs no background task, no global install step and, with its
//! default features off, no protobuf.
//!
//! The hot path stays cheap: every labelled series is resolved once, at
//! start-up, from the spec's static event table and the fixed list of error
//! codes and disconnect reasons. Recording is an atomic add on a handle picked by
//! index: no label lookup, no string formatting, no allocation per message.
//!
//! | series | type | labels |
//! |---|---|---|
//! | `socketspec_connections` | gauge | |
//! | `socketspec_connections_opened_total` | counter | |
//! | `socketspec_connections_closed_total` | counter | `reason` |
//! | `socketspec_frames_received_total` | counter | `kind` (`text`, `binary`, `control`) |
//! | `socketspec_events_total` | counter | `event`, `namespace` (spec events) |
//! | `socketspec_errors_total` | counter | `code` (every error code) |
//! | `socketspec_handlers_in_flight` | gauge | |
//! | `socketspec_handler_duration_seconds` | histogram | `event`, `namespace` |
//! | `socketspec_outbound_queue_depth` | histogram | |
//! | `socketspec_broadcasts_total` | counter | |
//! | `socketspec_broadcast_fanout` | histogram | |
//! | `socketspec_broadcast_dropped_total` | counter | |
//! | `socketspec_runtime_alive_tasks` | gauge | |

use std::time::Instant;

use prometheus::core::Collector;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

use socketspec_protocol::{DisconnectReason, ErrorCode};

use crate::meta::EventMeta;

/// Why the metrics registry could not be built (a bug: every name is fixed).
#[derive(Debug, thiserror::Error)]
#[error("the metrics registry could not be built: {0}")]
pub struct MetricsError(String);

impl From<prometheus::Error> for MetricsError {
    fn from(e: prometheus::Error) -> Self {
        MetricsError(e.to_string())
    }
}

/// What an inbound WebSocket frame was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameKind {
    Text = 0,
    Binary = 1,
    Control = 2,
}

/// The metrics of one server.
pub struct Metrics {
    registry: Registry,
    connections: IntGauge,
    opened: IntCounter,
    /// One per [`DisconnectReason::KNOWN`] entry, then `other`.
    closed: Vec<IntCounter>,
    /// One per [`FrameKind`].
    frames: Vec<IntCounter>,
    events_vec: IntCounterVec,
    /// One per [`ErrorCode::ALL`] entry.
    errors: Vec<IntCounter>,
    in_flight: IntGauge,
    latency_vec: HistogramVec,
    outbound_depth: Histogram,
    broadcasts: IntCounter,
    fanout: Histogram,
    dropped: IntCounter,
    tasks: IntGauge,
}

const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
const DEPTH_BUCKETS: [f64; 12] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0,
];
const FANOUT_BUCKETS: [f64; 14] = [
    0.0, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];

impl Metrics {
    /// Registers every series; each namespace's events are added with
    /// [`Metrics::events`].
    pub(crate) fn new() -> Result<Self, MetricsError> {
        let registry = Registry::new();
        let connections = register(
            &registry,
            IntGauge::new("socketspec_connections", "Open WebSocket connections.")?,
        )?;
        let opened = register(
            &registry,
            IntCounter::new(
                "socketspec_connections_opened_total",
                "WebSocket connections accepted since start.",
            )?,
        )?;
        let closed_vec = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "socketspec_connections_closed_total",
                    "WebSocket connections ended, by reason.",
                ),
                &["reason"],
            )?,
        )?;
        let closed = DisconnectReason::KNOWN
            .iter()
            .map(DisconnectReason::as_str)
            .chain(std::iter::once("other"))
            .map(|reason| closed_vec.get_metric_with_label_values(&[reason]))
            .collect::<Result<_, _>>()?;
        let frames_vec = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "socketspec_frames_received_total",
                    "Inbound WebSocket frames, by kind.",
                ),
                &["kind"],
            )?,
        )?;
        let frames = ["text", "binary", "control"]
            .iter()
            .map(|kind| frames_vec.get_metric_with_label_values(&[kind]))
            .collect::<Result<_, _>>()?;
        let events_vec = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "socketspec_events_total",
                    "Messages received for each spec event (before validation).",
                ),
                &["event", "namespace"],
            )?,
        )?;
        let errors_vec = register(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "socketspec_errors_total",
                    "`__error__` envelopes sent, by code.",
                ),
                &["code"],
            )?,
        )?;
        let errors = ErrorCode::ALL
            .iter()
            .map(|code| errors_vec.get_metric_with_label_values(&[code.as_str()]))
            .collect::<Result<_, _>>()?;
        let in_flight = register(
            &registry,
            IntGauge::new(
                "socketspec_handlers_in_flight",
                "Handlers running now, on every connection.",
            )?,
        )?;
        let latency_vec = register(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "socketspec_handler_duration_seconds",
                    "How long handlers (with their middleware) ran, by event.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["event", "namespace"],
            )?,
        )?;
        let outbound_depth = register(
            &registry,
            Histogram::with_opts(
                HistogramOpts::new(
                    "socketspec_outbound_queue_depth",
                    "Frames waiting in a connection's outbound queue when its loop starts a write.",
                )
                .buckets(DEPTH_BUCKETS.to_vec()),
            )?,
        )?;
        let broadcasts = register(
            &registry,
            IntCounter::new(
                "socketspec_broadcasts_total",
                "Broadcasts sent from this node.",
            )?,
        )?;
        let fanout = register(
            &registry,
            Histogram::with_opts(
                HistogramOpts::new(
                    "socketspec_broadcast_fanout",
                    "Members on this node a broadcast was queued for.",
                )
                .buckets(FANOUT_BUCKETS.to_vec()),
            )?,
        )?;
        let dropped = register(
            &registry,
            IntCounter::new(
                "socketspec_broadcast_dropped_total",
                "Broadcast deliveries refused because the member's outbound queue was full (the member is closed with 4008).",
            )?,
        )?;
        let tasks = register(
            &registry,
            IntGauge::new(
                "socketspec_runtime_alive_tasks",
                "Tasks alive in the tokio runtime serving this server (read at scrape time).",
            )?,
        )?;
        Ok(Metrics {
            registry,
            connections,
            opened,
            closed,
            frames,
            events_vec,
            errors,
            in_flight,
            latency_vec,
            outbound_depth,
            broadcasts,
            fanout,
            dropped,
            tasks,
        })
    }

    /// A connection was accepted.
    pub(crate) fn connection_opened(&self) {
        self.opened.inc();
    }

    /// The series of one namespace's events.
    pub(crate) fn events(
        &self,
        namespace: &str,
        events: &[EventMeta],
    ) -> Result<EventMetrics, MetricsError> {
        let received = events
            .iter()
            .map(|e| {
                self.events_vec
                    .get_metric_with_label_values(&[e.name, namespace])
            })
            .collect::<Result<_, _>>()?;
        let handler_seconds = events
            .iter()
            .map(|e| {
                self.latency_vec
                    .get_metric_with_label_values(&[e.name, namespace])
            })
            .collect::<Result<_, _>>()?;
        Ok(EventMetrics {
            received,
            handler_seconds,
        })
    }

    /// A connection ended with `reason`.
    pub(crate) fn connection_closed(&self, reason: &DisconnectReason) {
        let index = reason
            .known_index()
            .unwrap_or(DisconnectReason::KNOWN.len());
        if let Some(counter) = self.closed.get(index) {
            counter.inc();
        }
    }

    /// An inbound frame arrived.
    pub(crate) fn frame(&self, kind: FrameKind) {
        if let Some(counter) = self.frames.get(kind as usize) {
            counter.inc();
        }
    }

    /// An `__error__` with `code` was sent (or queued).
    pub(crate) fn error(&self, code: ErrorCode) {
        let index = ErrorCode::ALL.iter().position(|c| *c == code);
        if let Some(counter) = index.and_then(|i| self.errors.get(i)) {
            counter.inc();
        }
    }

    /// A handler for event `index` starts (at `started`, a clock read the
    /// caller already had). The returned timer must be
    /// [finished](HandlerTimer::finish), also when the handler panics or is
    /// dropped, to end it in the gauge.
    pub(crate) fn handler_started(&self, index: usize, started: Instant) -> HandlerTimer {
        self.in_flight.inc();
        HandlerTimer { index, started }
    }

    /// The loop found `depth` frames queued when it started a write.
    pub(crate) fn outbound_depth(&self, depth: usize) {
        self.outbound_depth.observe(depth as f64);
    }

    /// A broadcast was queued for `delivered` local members; `dropped`
    /// members were cut off as slow consumers instead.
    pub(crate) fn broadcast(&self, delivered: usize, dropped: usize) {
        self.broadcasts.inc();
        self.fanout.observe(delivered as f64);
        if dropped > 0 {
            self.dropped.inc_by(dropped as u64);
        }
    }

    /// The Prometheus text exposition (format 0.0.4) of every series;
    /// `connections` is the current open-connection count.
    pub(crate) fn render(&self, connections: usize) -> String {
        self.connections
            .set(i64::try_from(connections).unwrap_or(i64::MAX));
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let tasks = handle.metrics().num_alive_tasks();
            self.tasks.set(i64::try_from(tasks).unwrap_or(i64::MAX));
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "encoding the metrics failed");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The series of one namespace's events, by event index.
pub(crate) struct EventMetrics {
    received: Vec<IntCounter>,
    handler_seconds: Vec<Histogram>,
}

impl EventMetrics {
    /// A message for event `index` arrived.
    pub(crate) fn received(&self, index: usize) {
        if let Some(counter) = self.received.get(index) {
            counter.inc();
        }
    }
}

/// Times one handler run; see [`Metrics::handler_started`]. It holds no
/// reference to the metrics (its owner reaches them anyway), so starting
/// one costs no reference count.
pub(crate) struct HandlerTimer {
    index: usize,
    started: Instant,
}

impl HandlerTimer {
    /// The handler is over: record its duration.
    pub(crate) fn finish(self, metrics: &Metrics, events: &EventMetrics) {
        metrics.in_flight.dec();
        if let Some(histogram) = events.handler_seconds.get(self.index) {
            histogram.observe(self.started.elapsed().as_secs_f64());
        }
    }
}

fn register<C: Collector + Clone + 'static>(registry: &Registry, c: C) -> Result<C, MetricsError> {
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static EVENTS: [EventMeta; 2] = [
        EventMeta {
            name: "echo",
            ordered: false,
            executor: false,
            payload_schema: "{}",
            type_checked: false,
        },
        EventMeta {
            name: "send_message",
            ordered: false,
            executor: false,
            payload_schema: "{}",
            type_checked: false,
        },
    ];

    #[test]
    fn renders_every_series_with_its_labels() -> Result<(), MetricsError> {
        let m = Metrics::new()?;
        let events = m.events("/", &EVENTS)?;
        m.connection_opened();
        m.connection_closed(&DisconnectReason::SlowConsumer);
        m.connection_closed(&DisconnectReason::custom("a reason a handler made up"));
        m.frame(FrameKind::Control);
        events.received(1);
        events.received(7); // out of range: ignored
        m.error(ErrorCode::ValidationError);
        m.handler_started(0, Instant::now()).finish(&m, &events);
        m.outbound_depth(3);
        m.broadcast(5, 1);
        let text = m.render(2);
        for line in [
            "socketspec_connections 2",
            "socketspec_connections_opened_total 1",
            "socketspec_connections_closed_total{reason=\"slow_consumer\"} 1",
            "socketspec_connections_closed_total{reason=\"other\"} 1",
            "socketspec_frames_received_total{kind=\"control\"} 1",
            "socketspec_events_total{event=\"send_message\",namespace=\"/\"} 1",
            "socketspec_events_total{event=\"echo\",namespace=\"/\"} 0",
            "socketspec_errors_total{code=\"VALIDATION_ERROR\"} 1",
            "socketspec_errors_total{code=\"ROOM_NOT_FOUND\"} 0",
            "socketspec_handlers_in_flight 0",
            "socketspec_handler_duration_seconds_count{event=\"echo\",namespace=\"/\"} 1",
            "socketspec_outbound_queue_depth_count 1",
            "socketspec_broadcasts_total 1",
            "socketspec_broadcast_fanout_sum 5",
            "socketspec_broadcast_dropped_total 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in:\n{text}"
            );
        }
        Ok(())
    }
}
