//! A per-connection token bucket. It lives in the connection loop, so it
//! needs no lock.

use std::time::Duration;

use tokio::time::Instant;

use crate::config::RateLimit;

/// `capacity` tokens, refilled at `capacity / per` tokens a second.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    capacity: f64,
    tokens: f64,
    per_second: f64,
    last: Instant,
}

impl TokenBucket {
    pub(crate) fn new(limit: RateLimit, now: Instant) -> Self {
        let capacity = f64::from(limit.events.max(1));
        let per = limit.per.as_secs_f64().max(1e-6);
        TokenBucket {
            capacity,
            tokens: capacity,
            per_second: capacity / per,
            last: now,
        }
    }

    /// Takes a token, or says how long until one is available.
    pub(crate) fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.per_second,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_refills() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(RateLimit::new(3, Duration::from_secs(3)), t0);
        assert!(b.try_take(t0).is_ok());
        assert!(b.try_take(t0).is_ok());
        assert!(b.try_take(t0).is_ok());
        let wait = b.try_take(t0).err().unwrap_or_default();
        assert!((wait.as_secs_f64() - 1.0).abs() < 1e-6, "{wait:?}");
        assert!(b.try_take(t0 + Duration::from_secs(1)).is_ok());
    }
}
