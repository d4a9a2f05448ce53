//! What the server reports about itself over HTTP: `/socket-health` and
//! the Prometheus `/metrics`, and waiting for them to show something.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::Result;
use crate::http::http_get_ok;
use crate::wait::poll_until;

/// `/socket-health` as JSON.
pub async fn health(addr: &str) -> Result<Value> {
    Ok(serde_json::from_str(
        &http_get_ok(addr, "/socket-health").await?,
    )?)
}

/// `/metrics`, parsed: `name{labels}` (as written) to value.
pub async fn metrics(addr: &str) -> Result<HashMap<String, f64>> {
    Ok(parse_metrics(&http_get_ok(addr, "/metrics").await?))
}

/// Parses Prometheus text: every sample line into `name{labels}` -> value.
pub fn parse_metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// How many handlers the server is running right now
/// (`socketspec_handlers_in_flight`).
pub async fn handlers_in_flight(addr: &str) -> Result<f64> {
    let m = metrics(addr).await?;
    Ok(m.get("socketspec_handlers_in_flight")
        .copied()
        .unwrap_or(0.0))
}

/// Polls `/socket-health` until `done` holds for it (or `timeout` passes);
/// returns the last health read either way, for the caller to assert on.
pub async fn wait_health(
    addr: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Result<Value> {
    poll_until(timeout, async || health(addr).await, done).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_samples() {
        let text = "# HELP x y\n# TYPE x counter\nx 3\nx_total{kind=\"a b\"} 1.5\n\nbad line\n";
        let m = parse_metrics(text);
        assert_eq!(m.get("x"), Some(&3.0));
        assert_eq!(m.get("x_total{kind=\"a b\"}"), Some(&1.5));
        assert_eq!(m.len(), 2);
    }
}
