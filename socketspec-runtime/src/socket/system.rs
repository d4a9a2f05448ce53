//! The protocol's own traffic on a connection: the session timers' pings,
//! warnings and closes, and the client's `__refresh_auth__`.

use std::time::Duration;

use serde_json::{Map, Value, json};
use socketspec_protocol::{DisconnectReason, SystemEvent};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::event_loop::ConnectionLoop;
use super::timers::TimerAction;
use crate::auth::seconds_until;
use crate::dispatch::App;
use crate::envelope;
use crate::error::ErrorCode;
use crate::mailbox::CloseRequest;

impl<A, S> ConnectionLoop<A, S>
where
    A: App,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// Fires the session timer that is due; `Some(reason)` ends the loop.
    pub(super) async fn on_timer(&mut self) -> Option<DisconnectReason> {
        let action = self.clock.fire(Instant::now())?;
        let secs = |d: Duration| json!({"expires_in": d.as_secs_f64()});
        let sent = match action {
            TimerAction::Ping => self.send_system(SystemEvent::Ping.name(), json!({})).await,
            TimerAction::IdleWarning(left) => {
                self.send_system(SystemEvent::IdleWarning.name(), secs(left))
                    .await
            }
            TimerAction::SessionWarning(left) => {
                self.send_system(SystemEvent::SessionExpiring.name(), secs(left))
                    .await
            }
            TimerAction::AuthWarning(left) => {
                self.send_system(SystemEvent::AuthExpiring.name(), secs(left))
                    .await
            }
            TimerAction::HeartbeatTimeout => {
                let request = CloseRequest::new(DisconnectReason::HeartbeatTimeout);
                return Some(self.close(request).await);
            }
            TimerAction::IdleTimeout => {
                let request = CloseRequest::new(DisconnectReason::IdleTimeout).with_error(
                    ErrorCode::IdleTimeout,
                    "no application event within the idle timeout",
                );
                return Some(self.close(request).await);
            }
            TimerAction::SessionExpired => {
                let request = CloseRequest::new(DisconnectReason::SessionExpired).with_error(
                    ErrorCode::SessionExpired,
                    "the session reached its maximum duration",
                );
                return Some(self.close(request).await);
            }
            TimerAction::AuthExpired => {
                let request = CloseRequest::new(DisconnectReason::AuthExpired).with_error(
                    ErrorCode::AuthExpired,
                    "the credential expired without a refresh",
                );
                return Some(self.close(request).await);
            }
        };
        sent.is_err().then_some(DisconnectReason::TransportError)
    }

    /// `__refresh_auth__ {token}`: a new credential for the same subject
    /// replaces the old one (and its expiry); anything else is an
    /// `AUTH_ERROR` and the old credential stays in force.
    pub(super) async fn refresh_auth(&mut self, payload: &Value, id: Option<&str>) {
        let refuse = |this: &Self, message: &str| {
            this.queue_error(
                ErrorCode::AuthError,
                Some(SystemEvent::RefreshAuth.name()),
                message,
                &Map::new(),
                id,
            );
        };
        let Some(auth) = self.hub.auth.clone() else {
            return refuse(self, "this server has no token authentication to refresh");
        };
        let Some(token) = payload.get("token").and_then(Value::as_str) else {
            return refuse(
                self,
                "`__refresh_auth__` needs a string `token` in its payload",
            );
        };
        let identity = match auth.refresh(token).await {
            Ok(identity) => identity,
            Err(rejection) => return refuse(self, &rejection.0),
        };
        if identity.user_id != self.conn.user_id() {
            return refuse(
                self,
                "the new token's subject differs from the connection's",
            );
        }
        self.clock
            .set_auth_expiry(identity.expires_at, Instant::now());
        let expires_in = identity.expires_at.map(seconds_until);
        self.conn.set_identity(identity);
        let answer = json!({"expires_in": expires_in});
        if let Ok(frame) = envelope::encode(SystemEvent::RefreshAuth.name(), &answer, id) {
            let _ = self.conn.send_frame(frame);
        }
    }
}
