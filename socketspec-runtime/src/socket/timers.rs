//! Session timers: heartbeat, idle timeout, max duration and credential
//! expiry, kept as plain deadlines in the connection loop. One `sleep_until`
//! per connection covers them all, so 10,000 idle connections cost no extra
//! tasks or timer entries.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::config::SessionConfig;

/// What a deadline that passed asks the connection loop to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TimerAction {
    /// Send `__ping__`.
    Ping,
    /// No `__pong__` in time: close 4004.
    HeartbeatTimeout,
    /// Send `__idle_warning__ {expires_in}`.
    IdleWarning(Duration),
    /// Idle for `idle_timeout`: `IDLE_TIMEOUT`, close 4002.
    IdleTimeout,
    /// Send `__session_expiring__ {expires_in}`.
    SessionWarning(Duration),
    /// `max_duration` reached: `SESSION_EXPIRED`, close 4003.
    SessionExpired,
    /// Send `__auth_expiring__ {expires_in}`.
    AuthWarning(Duration),
    /// The credential expired: `AUTH_EXPIRED`, close 4001.
    AuthExpired,
}

#[derive(Debug)]
pub(crate) struct SessionClock {
    config: SessionConfig,
    started: Instant,
    next_ping: Option<Instant>,
    pong_due: Option<Instant>,
    last_activity: Instant,
    idle_warned: bool,
    session_warned: bool,
    auth_expiry: Option<Instant>,
    auth_warned: bool,
    /// The earliest pending deadline, kept rather than recomputed on every
    /// turn of the connection loop. Activity and pongs only push deadlines
    /// later, so they leave it alone: at worst the loop wakes early once,
    /// finds nothing due, and [`fire`](Self::fire) recomputes it.
    next: Option<Instant>,
}

fn on(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

impl SessionClock {
    pub(crate) fn new(
        config: SessionConfig,
        now: Instant,
        auth_expires: Option<SystemTime>,
    ) -> Self {
        let mut clock = SessionClock {
            config,
            started: now,
            next_ping: on(config.heartbeat_interval).map(|d| now + d),
            pong_due: None,
            last_activity: now,
            idle_warned: false,
            session_warned: false,
            auth_expiry: None,
            auth_warned: false,
            next: None,
        };
        clock.set_auth_expiry(auth_expires, now);
        clock
    }

    /// An application event arrived.
    pub(crate) fn activity(&mut self, now: Instant) {
        self.last_activity = now;
        self.idle_warned = false;
    }

    /// A `__pong__` arrived.
    pub(crate) fn pong(&mut self) {
        self.pong_due = None;
    }

    /// The credential was refreshed (or first set).
    pub(crate) fn set_auth_expiry(&mut self, expires: Option<SystemTime>, now: Instant) {
        self.auth_expiry = expires.map(|at| {
            let left = at
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO);
            now + left
        });
        self.auth_warned = false;
        self.recompute();
    }

    fn recompute(&mut self) {
        self.next = self.pending().map(|(at, _)| at).min();
    }

    fn idle_deadline(&self) -> Option<Instant> {
        on(self.config.idle_timeout).map(|d| self.last_activity + d)
    }

    fn session_deadline(&self) -> Option<Instant> {
        on(self.config.max_duration).map(|d| self.started + d)
    }

    fn warning(deadline: Instant, window: Duration) -> Instant {
        deadline.checked_sub(window).unwrap_or(deadline)
    }

    /// Every pending deadline, paired with its action.
    fn pending(&self) -> impl Iterator<Item = (Instant, TimerAction)> + '_ {
        let window = self.config.warning_window;
        let idle = self.idle_deadline();
        let session = self.session_deadline();
        let auth = self.auth_expiry;
        let ww = |d: Instant| d.saturating_duration_since(Self::warning(d, window));
        [
            self.next_ping.map(|at| (at, TimerAction::Ping)),
            self.pong_due.map(|at| (at, TimerAction::HeartbeatTimeout)),
            idle.filter(|_| !self.idle_warned && !window.is_zero())
                .map(|d| (Self::warning(d, window), TimerAction::IdleWarning(ww(d)))),
            idle.map(|d| (d, TimerAction::IdleTimeout)),
            session
                .filter(|_| !self.session_warned && !window.is_zero())
                .map(|d| (Self::warning(d, window), TimerAction::SessionWarning(ww(d)))),
            session.map(|d| (d, TimerAction::SessionExpired)),
            auth.filter(|_| !self.auth_warned && !self.config.token_refresh_window.is_zero())
                .map(|d| {
                    let at = Self::warning(d, self.config.token_refresh_window);
                    (
                        at,
                        TimerAction::AuthWarning(d.saturating_duration_since(at)),
                    )
                }),
            auth.map(|d| (d, TimerAction::AuthExpired)),
        ]
        .into_iter()
        .flatten()
    }

    /// When the loop should next call [`fire`](Self::fire): the earliest
    /// pending deadline, or a moment before it (see `next`).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.next
    }

    /// The action of the earliest deadline that has passed, marking it done.
    /// Warnings report the time actually left, measured from `now`.
    pub(crate) fn fire(&mut self, now: Instant) -> Option<TimerAction> {
        let fired = self.take_due(now);
        self.recompute();
        fired
    }

    fn take_due(&mut self, now: Instant) -> Option<TimerAction> {
        let (_, action) = self
            .pending()
            .filter(|(at, _)| *at <= now)
            .min_by_key(|(at, _)| *at)?;
        match action {
            TimerAction::Ping => {
                self.next_ping = on(self.config.heartbeat_interval).map(|d| now + d);
                if self.pong_due.is_none() {
                    self.pong_due = on(self.config.heartbeat_timeout).map(|d| now + d);
                }
                Some(TimerAction::Ping)
            }
            TimerAction::IdleWarning(_) => {
                self.idle_warned = true;
                let left = self
                    .idle_deadline()
                    .map_or(Duration::ZERO, |d| d.saturating_duration_since(now));
                Some(TimerAction::IdleWarning(left))
            }
            TimerAction::SessionWarning(_) => {
                self.session_warned = true;
                let left = self
                    .session_deadline()
                    .map_or(Duration::ZERO, |d| d.saturating_duration_since(now));
                Some(TimerAction::SessionWarning(left))
            }
            TimerAction::AuthWarning(_) => {
                self.auth_warned = true;
                let left = self
                    .auth_expiry
                    .map_or(Duration::ZERO, |d| d.saturating_duration_since(now));
                Some(TimerAction::AuthWarning(left))
            }
            terminal => Some(terminal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SessionConfig {
        SessionConfig::default()
            .heartbeat_interval(Duration::from_secs(10))
            .heartbeat_timeout(Duration::from_secs(5))
            .idle_timeout(Duration::from_secs(30))
            .max_duration(Duration::from_secs(100))
            .warning_window(Duration::from_secs(10))
            .token_refresh_window(Duration::from_secs(10))
    }

    #[test]
    fn ping_then_heartbeat_timeout_without_pong() {
        let t0 = Instant::now();
        let mut c = SessionClock::new(config(), t0, None);
        assert_eq!(c.next_deadline(), Some(t0 + Duration::from_secs(10)));
        assert_eq!(
            c.fire(t0 + Duration::from_secs(10)),
            Some(TimerAction::Ping)
        );
        assert_eq!(
            c.fire(t0 + Duration::from_secs(15)),
            Some(TimerAction::HeartbeatTimeout)
        );
    }

    #[test]
    fn pong_clears_the_heartbeat_deadline() {
        let t0 = Instant::now();
        let mut c = SessionClock::new(config(), t0, None);
        c.fire(t0 + Duration::from_secs(10));
        c.pong();
        assert_eq!(c.fire(t0 + Duration::from_secs(15)), None);
    }

    #[test]
    fn idle_warning_comes_once_before_the_timeout_and_activity_resets_it() {
        let t0 = Instant::now();
        let mut cfg = config();
        cfg.heartbeat_interval = Duration::ZERO;
        let mut c = SessionClock::new(cfg, t0, None);
        assert_eq!(
            c.fire(t0 + Duration::from_secs(20)),
            Some(TimerAction::IdleWarning(Duration::from_secs(10)))
        );
        assert_eq!(c.fire(t0 + Duration::from_secs(21)), None);
        c.activity(t0 + Duration::from_secs(25));
        assert_eq!(
            c.fire(t0 + Duration::from_secs(50)),
            Some(TimerAction::IdleWarning(Duration::from_secs(5)))
        );
        assert_eq!(
            c.fire(t0 + Duration::from_secs(55)),
            Some(TimerAction::IdleTimeout)
        );
    }

    #[test]
    fn an_early_deadline_after_activity_fires_nothing_and_moves_on() {
        let t0 = Instant::now();
        let mut cfg = config();
        cfg.heartbeat_interval = Duration::ZERO;
        cfg.max_duration = Duration::ZERO;
        let mut c = SessionClock::new(cfg, t0, None);
        assert_eq!(c.next_deadline(), Some(t0 + Duration::from_secs(20)));
        c.activity(t0 + Duration::from_secs(5));
        // Kept: the loop wakes at 20 s, finds nothing due, and recomputes.
        assert_eq!(c.next_deadline(), Some(t0 + Duration::from_secs(20)));
        assert_eq!(c.fire(t0 + Duration::from_secs(20)), None);
        assert_eq!(c.next_deadline(), Some(t0 + Duration::from_secs(25)));
    }

    #[test]
    fn zero_turns_timeouts_off() {
        let t0 = Instant::now();
        let cfg = config()
            .heartbeat_interval(Duration::ZERO)
            .idle_timeout(Duration::ZERO)
            .max_duration(Duration::ZERO);
        let c = SessionClock::new(cfg, t0, None);
        assert_eq!(c.next_deadline(), None);
    }
}
