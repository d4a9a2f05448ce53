//! `Origin` checks: exact matches of scheme, host and port.
//!
//! `https://good.example` allows exactly that origin (and its explicit
//! default port, `https://good.example:443`), never
//! `https://good.example.evil.test` or `http://good.example`.

/// The allowed origins of a server.
#[derive(Debug, Clone)]
pub(crate) struct OriginPolicy {
    any: bool,
    allowed: Vec<String>,
}

impl OriginPolicy {
    pub(crate) fn new(allowed: &[String]) -> Self {
        OriginPolicy {
            any: allowed.iter().any(|o| o == "*"),
            allowed: allowed.iter().filter_map(|o| normalize(o)).collect(),
        }
    }

    /// Whether an upgrade with this `Origin` header (or none) may proceed.
    pub(crate) fn allows(&self, origin: Option<&str>) -> bool {
        if self.any {
            return true;
        }
        origin
            .and_then(normalize)
            .is_some_and(|o| self.allowed.contains(&o))
    }
}

/// `scheme://host[:port]`, lower-cased, default port dropped; `None` for
/// anything that is not such an origin (paths, user info, `null`).
fn normalize(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if rest.is_empty() || rest.contains(['/', '@', '?', '#', ' ']) {
        return None;
    }
    let rest = rest.to_ascii_lowercase();
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => {
            if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
                if rest.starts_with('[') && rest.ends_with(']') {
                    (rest.as_str(), None)
                } else {
                    return None;
                }
            } else {
                (host, Some(port))
            }
        }
        _ => (rest.as_str(), None),
    };
    let default = match scheme.as_str() {
        "http" | "ws" => Some("80"),
        "https" | "wss" => Some("443"),
        _ => None,
    };
    Some(match port {
        Some(p) if Some(p) != default => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(list: &[&str]) -> OriginPolicy {
        OriginPolicy::new(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn star_allows_everything_even_no_origin() {
        assert!(policy(&["*"]).allows(None));
        assert!(policy(&["*"]).allows(Some("https://x.test")));
    }

    #[test]
    fn exact_scheme_host_and_port() {
        let p = policy(&["https://good.example", "http://localhost:3000"]);
        assert!(p.allows(Some("https://good.example")));
        assert!(p.allows(Some("https://GOOD.example:443")));
        assert!(p.allows(Some("http://localhost:3000")));
        assert!(!p.allows(Some("http://good.example")));
        assert!(!p.allows(Some("https://good.example.evil.test")));
        assert!(!p.allows(Some("https://evil.test/https://good.example")));
        assert!(!p.allows(Some("https://good.example:8443")));
        assert!(!p.allows(Some("http://localhost:30000")));
        assert!(!p.allows(Some("null")));
        assert!(!p.allows(None));
    }
}
