//! The chat servers' command-line flags and the shutdown signal.

use std::time::Duration;

use clap::Parser;
use socketspec_runtime::auth::{AnyOf, ApiKeyAuth, JwtAuth};
use socketspec_runtime::backend::RedisConfig;
use socketspec_runtime::config::{HttpConfig, Limits, RateLimit, SessionConfig};
use socketspec_runtime::{Backend, ServerBuilder};

/// The socketspec chat example server.
#[derive(Debug, Parser)]
#[command(name = "chat-server", version, about)]
pub struct Args {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Serve the docs page at /socket-docs (raw spec at /socket-docs/spec.json).
    #[arg(long)]
    pub docs: bool,
    /// Bearer token (or ?token=) required for the docs routes.
    #[arg(long, value_name = "T")]
    pub docs_token: Option<String>,
    /// Bearer token (or ?token=) required for /metrics and /socket-health.
    #[arg(long, value_name = "T")]
    pub ops_token: Option<String>,
    /// Require an HS256 JWT (claims sub, exp, role), signed with this secret.
    #[arg(long, value_name = "S")]
    pub jwt_secret: Option<String>,
    /// Clock leeway for JWT `exp` checks, in seconds.
    #[arg(long, value_name = "S", default_value = "0")]
    pub jwt_leeway: f64,
    /// Require this API key (X-API-Key header or ?api_key=).
    #[arg(long, value_name = "K")]
    pub api_key: Option<String>,
    /// Allowed Origin (repeatable); without it every origin is allowed.
    #[arg(long = "allowed-origin", value_name = "O")]
    pub allowed_origins: Vec<String>,
    /// Largest inbound message, in bytes.
    #[arg(long, value_name = "N", default_value = "65536")]
    pub max_payload_size: usize,
    /// Rooms one connection may be in at once (its own addresses aside).
    #[arg(long, value_name = "N", default_value = "1000")]
    pub max_rooms_per_connection: usize,
    /// Rooms that may exist at once on this server, all namespaces together.
    #[arg(long, value_name = "N", default_value = "100000")]
    pub max_rooms: usize,
    /// Rate limit: E events per S seconds per connection, e.g. 20/1.
    #[arg(long, value_name = "E/S")]
    pub rate_limit: Option<String>,
    /// Seconds between `__ping__`s (0 = off).
    #[arg(long, value_name = "S", default_value = "25")]
    pub heartbeat_interval: f64,
    /// Seconds to answer a `__ping__` before the connection is closed.
    #[arg(long, value_name = "S", default_value = "10")]
    pub heartbeat_timeout: f64,
    /// Seconds without an application event before the connection closes (0 = off).
    #[arg(long, value_name = "S", default_value = "300")]
    pub idle_timeout: f64,
    /// Longest connection, in seconds (0 = off).
    #[arg(long, value_name = "S", default_value = "7200")]
    pub max_duration: f64,
    /// Seconds of warning before the idle timeout and max duration.
    #[arg(long, value_name = "S", default_value = "60")]
    pub warning_window: f64,
    /// Seconds before a credential's expiry that `__auth_expiring__` is sent.
    #[arg(long, value_name = "S", default_value = "60")]
    pub token_refresh_window: f64,
    /// Keep a dropped connection's session this many seconds so that its
    /// client can resume it (0 = resumption off).
    #[arg(long, value_name = "S", default_value = "0")]
    pub resume_window: f64,
    /// With resumption on: frames each connection keeps for a resume.
    #[arg(long, value_name = "N", default_value = "1024")]
    pub resume_buffer: usize,
    /// How long in-flight handlers may run after shutdown starts, in seconds.
    #[arg(long, value_name = "S", default_value = "10")]
    pub shutdown_grace: f64,
    /// Join a cluster through Redis (rooms and broadcasts span nodes), e.g.
    /// redis://127.0.0.1:6379.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// Prefix of every Redis key and channel (several apps can share one Redis).
    #[arg(long, value_name = "P", default_value = "socketspec")]
    pub redis_prefix: String,
    /// Seconds a crashed node's memberships survive in Redis.
    #[arg(long, value_name = "S", default_value = "30")]
    pub redis_key_ttl: f64,
    /// A background task broadcasts `tick` `{seq}` to `chat:ticker` every MS
    /// milliseconds (0 = off).
    #[arg(long, value_name = "MS", default_value = "0")]
    pub tick_interval: u64,
    /// The `on_connect` hook sends `welcome` `{connection_id}` to every new
    /// connection, right after `__connect__`.
    #[arg(long)]
    pub welcome: bool,
}

fn seconds(name: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("--{name} must be a non-negative number of seconds, got {value}"))
}

impl Args {
    /// Parses the process's arguments, with `name` as the program's name
    /// in `--help` and errors (both binaries take the same flags).
    pub fn parse_as(name: &'static str) -> Args {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Args::command().name(name).bin_name(name).get_matches();
        Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }

    /// The JWT verifier `--jwt-secret` and `--jwt-leeway` describe, if any.
    pub fn jwt(&self) -> Result<Option<JwtAuth>, String> {
        let Some(secret) = &self.jwt_secret else {
            return Ok(None);
        };
        let leeway = seconds("jwt-leeway", self.jwt_leeway)?;
        Ok(Some(JwtAuth::hs256(secret.as_bytes()).leeway(leeway)))
    }

    /// Applies the flags (configuration, authentication, backend) to `builder`.
    pub fn configure(&self, builder: ServerBuilder) -> Result<ServerBuilder, String> {
        let mut auth = AnyOf::new();
        if let Some(jwt) = self.jwt()? {
            auth = auth.or(jwt);
        }
        if let Some(key) = &self.api_key {
            auth = auth.or(ApiKeyAuth::new([key]));
        }
        let mut http = HttpConfig::default().docs(self.docs);
        if let Some(token) = &self.docs_token {
            http = http.docs_access_token(token);
        }
        if let Some(token) = &self.ops_token {
            http = http.ops_access_token(token);
        }
        if !self.allowed_origins.is_empty() {
            http = http.allowed_origins(&self.allowed_origins);
        }
        let session = SessionConfig::default()
            .heartbeat_interval(seconds("heartbeat-interval", self.heartbeat_interval)?)
            .heartbeat_timeout(seconds("heartbeat-timeout", self.heartbeat_timeout)?)
            .idle_timeout(seconds("idle-timeout", self.idle_timeout)?)
            .max_duration(seconds("max-duration", self.max_duration)?)
            .warning_window(seconds("warning-window", self.warning_window)?)
            .token_refresh_window(seconds("token-refresh-window", self.token_refresh_window)?)
            .resume_window(seconds("resume-window", self.resume_window)?)
            .resume_buffer(self.resume_buffer);
        let mut builder = builder
            .http(http)
            .limits(
                Limits::default()
                    .max_payload_size(self.max_payload_size)
                    .max_rooms_per_connection(self.max_rooms_per_connection)
                    .max_rooms(self.max_rooms),
            )
            .session(session)
            .shutdown_grace(seconds("shutdown-grace", self.shutdown_grace)?);
        if let Some(limit) = self.rate_limit.as_deref() {
            builder = builder.rate_limit(parse_rate_limit(limit)?);
        }
        if !auth.is_empty() {
            builder = builder.auth(auth);
        }
        if let Some(url) = &self.redis {
            let redis = RedisConfig::new(url)
                .key_prefix(&self.redis_prefix)
                .key_ttl(seconds("redis-key-ttl", self.redis_key_ttl)?);
            builder = builder.backend(Backend::redis(redis));
        }
        Ok(builder)
    }
}

/// `E/S`: E events per S seconds.
fn parse_rate_limit(text: &str) -> Result<RateLimit, String> {
    let bad = || format!("--rate-limit must look like EVENTS/SECONDS (e.g. 20/1), got `{text}`");
    let (events, per) = text.split_once('/').ok_or_else(bad)?;
    let events: u32 = events.trim().parse().map_err(|_| bad())?;
    let per: f64 = per.trim().parse().map_err(|_| bad())?;
    if events == 0 || per <= 0.0 {
        return Err(bad());
    }
    Ok(RateLimit::new(events, seconds("rate-limit", per)?))
}

/// Catches SIGINT and SIGTERM from this call on, and resolves on the first
/// of them. Call it before printing the `listening on` line: a signal that
/// arrives before the handlers exist ends the process the default way
/// (killed, no graceful shutdown). Needs the tokio runtime.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let handlers = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        );
        async move {
            match handlers {
                (Ok(mut int), Ok(mut term)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_parse() {
        assert_eq!(
            parse_rate_limit("20/1"),
            Ok(RateLimit::new(20, Duration::from_secs(1)))
        );
        assert_eq!(
            parse_rate_limit("5/0.5"),
            Ok(RateLimit::new(5, Duration::from_millis(500)))
        );
        assert!(parse_rate_limit("x").is_err());
        assert!(parse_rate_limit("0/1").is_err());
    }
}
