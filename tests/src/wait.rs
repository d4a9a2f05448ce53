//! Waiting for something to become true by polling it, instead of sleeping
//! for a time that is usually enough.
//!
//! A probe is asked again every [`POLL_INTERVAL`] until it is satisfied or
//! the timeout passes; the timeout is a bound for a broken run, never the
//! expected duration. A test sleeps only where time passing is what it
//! checks (an idle timeout, a rate limit's window), and says so.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// How long to wait between two probes.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Asks `probe` until it returns `Ok(Some(value))`, and returns that value.
/// `Ok(None)` means "not yet"; an error ends the wait at once. After
/// `timeout` the result is [`Error::Timeout`] naming `what`.
///
/// ```no_run
/// # async fn run(server: &socketspec_e2e::ChatServer) -> socketspec_e2e::Result<()> {
/// use std::time::Duration;
/// use socketspec_e2e::{observe, wait::eventually};
///
/// eventually(Duration::from_secs(5), "a handler in flight", async || {
///     let in_flight = observe::handlers_in_flight(server.addr()).await?;
///     Ok((in_flight >= 1.0).then_some(()))
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn eventually<T>(
    timeout: Duration,
    what: &str,
    mut probe: impl AsyncFnMut() -> Result<Option<T>>,
) -> Result<T> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await? {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::Timeout(format!("{what}: not within {timeout:?}")));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Reads `probe` until `done` holds for what it returns (or `timeout`
/// passes), and returns the last value read either way, so that the
/// caller's assertion shows what was seen.
pub async fn poll_until<T>(
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> Result<T>,
    done: impl Fn(&T) -> bool,
) -> Result<T> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let value = probe().await?;
        if done(&value) || tokio::time::Instant::now() >= deadline {
            return Ok(value);
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// [`eventually`] for code outside an async runtime (process management,
/// `#[test]`s that drive other programs); blocks the calling thread.
pub fn eventually_blocking<T>(
    timeout: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<Option<T>>,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe()? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout(format!("{what}: not within {timeout:?}")));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Waits up to `timeout` for `child` to exit; blocks the calling thread.
/// [`Error::Timeout`] (naming `what`) when it is still running.
pub fn child_exit(child: &mut Child, timeout: Duration, what: &str) -> Result<ExitStatus> {
    eventually_blocking(timeout, what, || Ok(child.try_wait()?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[tokio::test]
    async fn eventually_returns_once_the_probe_is_satisfied() {
        let calls = Cell::new(0);
        let value = eventually(Duration::from_secs(5), "three calls", async || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            Ok((n == 3).then_some(n * 10))
        })
        .await
        .unwrap();
        assert_eq!((value, calls.get()), (30, 3));
    }

    #[tokio::test]
    async fn eventually_times_out_and_stops_at_an_error() {
        let never = eventually(Duration::from_millis(50), "never", async || Ok(None::<()>)).await;
        assert!(matches!(never, Err(Error::Timeout(ref m)) if m.starts_with("never")));
        let failing = eventually(Duration::from_secs(5), "x", async || {
            Err::<Option<()>, _>(Error::Other("boom".to_owned()))
        })
        .await;
        assert_eq!(failing, Err(Error::Other("boom".to_owned())));
    }

    #[tokio::test]
    async fn poll_until_returns_the_last_value_read() {
        let n = Cell::new(0);
        let last = poll_until(
            Duration::from_millis(60),
            async || {
                n.set(n.get() + 1);
                Ok(n.get())
            },
            |_| false,
        )
        .await
        .unwrap();
        assert!(last >= 2, "read {last} times");
        assert_eq!(last, n.get());
    }

    #[test]
    fn eventually_blocking_polls_until_satisfied() {
        let mut n = 0;
        let value = eventually_blocking(Duration::from_secs(5), "n reaches 2", || {
            n += 1;
            Ok((n == 2).then_some("done"))
        })
        .unwrap();
        assert_eq!((value, n), ("done", 2));
        let timed_out = eventually_blocking(Duration::from_millis(30), "never", || Ok(None::<()>));
        assert!(matches!(timed_out, Err(Error::Timeout(_))));
    }

    #[test]
    fn child_exit_returns_the_status_or_times_out() {
        let mut quick = std::process::Command::new("true").spawn().unwrap();
        let status = child_exit(&mut quick, Duration::from_secs(5), "true").unwrap();
        assert!(status.success());
        let mut slow = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let waited = child_exit(&mut slow, Duration::from_millis(50), "sleep 5");
        assert!(matches!(waited, Err(Error::Timeout(ref m)) if m.starts_with("sleep 5")));
        slow.kill().unwrap();
        slow.wait().unwrap();
    }
}
