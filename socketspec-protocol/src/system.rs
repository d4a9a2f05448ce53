//! The reserved system events.

/// Who sends a system event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Only the server sends it.
    ServerToClient,
    /// Only a client sends it.
    ClientToServer,
    /// A client sends it and the server answers with the same event.
    Both,
}

impl Direction {
    /// How the protocol's table writes it: `S->C`, `C->S`, or
    /// `C->S, then S->C`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::ServerToClient => "S->C",
            Direction::ClientToServer => "C->S",
            Direction::Both => "C->S, then S->C",
        }
    }

    /// Whether the server sends it.
    pub const fn server_sends(self) -> bool {
        !matches!(self, Direction::ClientToServer)
    }

    /// Whether a client sends it.
    pub const fn client_sends(self) -> bool {
        !matches!(self, Direction::ServerToClient)
    }
}

/// The ten reserved system events. No spec may declare one of them, nor any
/// name that starts and ends with `__` (see [`is_reserved`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SystemEvent {
    /// S->C, the first message after the upgrade (after auth).
    Connect,
    /// S->C, just before a close the server starts: `{reason}`.
    Disconnect,
    /// S->C heartbeat, every `heartbeat_interval`.
    Ping,
    /// C->S, the answer to `__ping__`.
    Pong,
    /// S->C, the error envelope.
    Error,
    /// S->C, `token_refresh_window` before the credential expires.
    AuthExpiring,
    /// S->C, `warning_window` before `max_duration` is reached.
    SessionExpiring,
    /// S->C, `warning_window` before the idle timeout.
    IdleWarning,
    /// S->C, a graceful shutdown began: `{grace}`.
    ServerShutdown,
    /// C->S `{token}`, answered S->C `{expires_in}`: a credential refresh.
    RefreshAuth,
}

impl SystemEvent {
    /// All ten, in the protocol's order.
    pub const ALL: [SystemEvent; 10] = [
        SystemEvent::Connect,
        SystemEvent::Disconnect,
        SystemEvent::Ping,
        SystemEvent::Pong,
        SystemEvent::Error,
        SystemEvent::AuthExpiring,
        SystemEvent::SessionExpiring,
        SystemEvent::IdleWarning,
        SystemEvent::ServerShutdown,
        SystemEvent::RefreshAuth,
    ];

    /// The name on the wire, e.g. `__ping__`.
    pub const fn name(self) -> &'static str {
        match self {
            SystemEvent::Connect => "__connect__",
            SystemEvent::Disconnect => "__disconnect__",
            SystemEvent::Ping => "__ping__",
            SystemEvent::Pong => "__pong__",
            SystemEvent::Error => "__error__",
            SystemEvent::AuthExpiring => "__auth_expiring__",
            SystemEvent::SessionExpiring => "__session_expiring__",
            SystemEvent::IdleWarning => "__idle_warning__",
            SystemEvent::ServerShutdown => "__server_shutdown__",
            SystemEvent::RefreshAuth => "__refresh_auth__",
        }
    }

    /// The event called `name`, if it is one of the ten.
    pub fn from_name(name: &str) -> Option<SystemEvent> {
        SystemEvent::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Who sends it.
    pub const fn direction(self) -> Direction {
        match self {
            SystemEvent::Pong => Direction::ClientToServer,
            SystemEvent::RefreshAuth => Direction::Both,
            _ => Direction::ServerToClient,
        }
    }
}

impl std::fmt::Display for SystemEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether `name` is reserved for the protocol: one of the ten system
/// events, or any name of at least four characters that starts and ends
/// with `__`.
pub fn is_reserved(name: &str) -> bool {
    SystemEvent::from_name(name).is_some()
        || (name.len() >= 4 && name.starts_with("__") && name.ends_with("__"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_reserve_the_double_underscore_family() {
        for event in SystemEvent::ALL {
            assert_eq!(SystemEvent::from_name(event.name()), Some(event));
            assert!(is_reserved(event.name()));
        }
        assert!(is_reserved("__custom__"));
        assert!(!is_reserved("__"));
        assert!(!is_reserved("___"));
        assert!(!is_reserved("send_message"));
        assert_eq!(SystemEvent::from_name("__custom__"), None);
    }

    #[test]
    fn only_pong_and_refresh_auth_come_from_clients() {
        let from_clients: Vec<_> = SystemEvent::ALL
            .into_iter()
            .filter(|e| e.direction().client_sends())
            .collect();
        assert_eq!(from_clients, [SystemEvent::Pong, SystemEvent::RefreshAuth]);
    }
}
