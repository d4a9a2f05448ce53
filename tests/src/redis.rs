//! Where the multi-node tests find Redis.
//!
//! `scripts/test.sh` exports `SOCKETSPEC_TEST_REDIS_URL`: the machine's Redis
//! at 127.0.0.1:6379 when one answers there, otherwise a throwaway
//! `redis-server` it started on a free loopback port for the run. Run
//! directly (`cargo test`), the tests use the variable when it is set and
//! 127.0.0.1:6379 otherwise. Each test works under a key prefix of its own,
//! so they share one Redis without seeing each other.

use tokio::net::TcpStream;

/// The variable naming the Redis the tests use (`redis://host:port`).
pub const URL_VARIABLE: &str = "SOCKETSPEC_TEST_REDIS_URL";

/// The Redis URL the tests use: `$SOCKETSPEC_TEST_REDIS_URL`, or
/// `redis://127.0.0.1:6379`.
pub fn url() -> String {
    std::env::var(URL_VARIABLE)
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

/// The `host:port` of [`url`], for raw TCP connections (proxies, probes).
pub fn address() -> String {
    address_of(&url())
}

fn address_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    // Drop `user:password@` if there is one.
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:6379")
    }
}

/// Fails the test with what to do when no Redis answers at [`url`].
pub async fn require() {
    let address = address();
    if TcpStream::connect(&address).await.is_err() {
        panic!(
            "this test needs Redis at {address} (from {URL_VARIABLE}, default \
             redis://127.0.0.1:6379): run the suite with scripts/test.sh, which \
             starts a throwaway redis-server when none is running, or start one \
             with `redis-server --daemonize yes --save '' --appendonly no`"
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_address_is_the_urls_authority() {
        let cases = [
            ("redis://127.0.0.1:6400", "127.0.0.1:6400"),
            ("redis://127.0.0.1:6401/0", "127.0.0.1:6401"),
            ("redis://:secret@10.0.0.1:6402/2", "10.0.0.1:6402"),
            ("redis://localhost", "localhost:6379"),
        ];
        for (url, address) in cases {
            assert_eq!(super::address_of(url), address, "{url}");
        }
    }
}
