//! [`Bystander`]: a well-behaved client that keeps echoing while a test
//! misbehaves on other connections, and times every round trip.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::client::Client;
use crate::{Error, Result};

/// Echo latencies a [`Bystander`] measured.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    /// Every round trip, in order.
    pub samples: Vec<Duration>,
    /// Echoes that failed (no reply, wrong reply, closed connection).
    pub failures: Vec<String>,
}

impl Latencies {
    /// The largest round trip.
    pub fn max(&self) -> Duration {
        self.samples.iter().copied().max().unwrap_or_default()
    }

    /// The `q` quantile (0..=1) of the round trips.
    pub fn quantile(&self, q: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * q).round().max(0.0) as usize;
        sorted.get(index).copied().unwrap_or_default()
    }
}

impl std::fmt::Display for Latencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} echoes, p50 {:.2?}, p99 {:.2?}, max {:.2?}, {} failed",
            self.samples.len(),
            self.quantile(0.5),
            self.quantile(0.99),
            self.max(),
            self.failures.len()
        )
    }
}

/// A well-behaved client that keeps sending `echo` (every 5 ms) while a
/// test misbehaves on other connections, and times every round trip.
pub struct Bystander {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Latencies>,
}

impl Bystander {
    /// Connects to `url` and starts echoing.
    pub async fn start(url: &str) -> Result<Bystander> {
        let (mut client, _) = Client::connect_ready(url).await?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut out = Latencies::default();
            while !flag.load(Ordering::Relaxed) {
                let started = Instant::now();
                match client.assert_alive().await {
                    Ok(()) => out.samples.push(started.elapsed()),
                    Err(e) => {
                        let closed = matches!(e, Error::Closed(_)) || client.closed().is_some();
                        out.failures.push(e.to_string());
                        if closed {
                            break;
                        }
                    }
                }
                // The echo rate, not a wait for anything: one echo every
                // 5 ms samples the latency without flooding the server.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            out
        });
        Ok(Bystander { stop, task })
    }

    /// Stops echoing; prints the figures under `label` and checks them:
    /// no failed echo, at least one echo, and every round trip under
    /// `bound` (a sanity bound, not a performance target).
    pub async fn finish(self, label: &str, bound: Duration) -> Latencies {
        self.stop.store(true, Ordering::Relaxed);
        let latencies = match self.task.await {
            Ok(latencies) => latencies,
            Err(e) => panic!("{label}: the bystander task failed: {e}"),
        };
        println!("{label}: bystander {latencies}");
        assert!(
            latencies.failures.is_empty(),
            "{label}: the bystander's echoes failed: {:?}",
            latencies.failures
        );
        assert!(
            !latencies.samples.is_empty(),
            "{label}: the bystander got no echo at all"
        );
        assert!(
            latencies.max() < bound,
            "{label}: a bystander echo took {:?} (bound {bound:?})",
            latencies.max()
        );
        latencies
    }
}
