//! Relayed connections: resumption across nodes.
//!
//! A session lives on the node that accepted its connection. When its
//! client resumes through another node (the usual case behind a load
//! balancer), that node does not take the session over: it passes the
//! connection's frames both ways ([`front`]) to the node holding the
//! session, which serves it as if the socket were its own ([`owner`]): it
//! claims the session exactly once, replays what the client missed and
//! runs its handlers. Nothing moves between nodes but frames, so nothing
//! can be lost or delivered twice in a hand-over.
//!
//! A resume token names its node (`<node id>.<random>`), so the node that
//! receives a resume knows where the session is without asking anyone.

pub(crate) mod front;
pub(crate) mod owner;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::backend::{RelayBody, RelayMessage};

/// How long passing on a close may take.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Relay messages one relayed connection may have waiting before it is
/// dropped (as a lost connection: its client resumes again).
const RELAY_QUEUE: usize = 1024;

/// The relayed connections of this node (either end), by relay id.
#[derive(Default)]
pub(crate) struct Relays {
    open: Mutex<HashMap<String, mpsc::Sender<RelayBody>>>,
}

impl Relays {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, mpsc::Sender<RelayBody>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens relay `id`: what the other node sends for it arrives on the
    /// returned receiver.
    pub(crate) fn register(&self, id: &str) -> mpsc::Receiver<RelayBody> {
        let (tx, rx) = mpsc::channel(RELAY_QUEUE);
        self.lock().insert(id.to_owned(), tx);
        rx
    }

    /// Forgets relay `id`.
    pub(crate) fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Hands a message from another node to its relay. A relay whose
    /// queue is full is dropped: its end sees the queue close.
    pub(crate) fn dispatch(&self, message: RelayMessage) {
        let mut open = self.lock();
        let Some(tx) = open.get(&message.relay) else {
            return;
        };
        if tx.try_send(message.body).is_err() {
            open.remove(&message.relay);
        }
    }
}

/// A close frame received on one side, as the relay passes it on (no
/// frame: 1005, "no status").
fn close_body(frame: Option<CloseFrame>) -> RelayBody {
    let (code, reason) = frame.map_or((1005, String::new()), |f| {
        (u16::from(f.code), f.reason.to_string())
    });
    RelayBody::Close {
        code: Some(code),
        reason,
    }
}

/// Closes `ws` with `code` and `reason` (what the other side's close
/// said), waiting briefly for the peer's answer.
async fn close_with<S>(ws: &mut WebSocketStream<S>, code: u16, reason: &str)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        ws.close(Some(frame)).await?;
        while let Some(Ok(_)) = ws.next().await {}
        Ok::<(), tokio_tungstenite::tungstenite::Error>(())
    })
    .await;
}

/// The node a resume token was issued by, when it names one.
pub(crate) fn token_node(token: &str) -> Option<&str> {
    token.rsplit_once('.').map(|(node, _)| node)
}

/// A new resume token of node `node` (or of no node: one node).
pub(crate) fn new_token(node: Option<&str>) -> Box<str> {
    let random = uuid::Uuid::new_v4().simple().to_string();
    match node {
        Some(node) => format!("{node}.{random}").into(),
        None => random.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_node() {
        let token = new_token(Some("0b4e-11"));
        assert_eq!(token_node(&token), Some("0b4e-11"));
        assert!(token.len() >= 16);
        let single = new_token(None);
        assert_eq!(token_node(&single), None);
        assert_eq!(single.len(), 32);
    }

    #[tokio::test]
    async fn messages_reach_their_relay_and_a_full_one_is_dropped() {
        let relays = Relays::default();
        let mut rx = relays.register("r");
        relays.dispatch(RelayMessage::new("r", "n", RelayBody::Text("a".to_owned())));
        relays.dispatch(RelayMessage::new(
            "x",
            "n",
            RelayBody::Text("lost".to_owned()),
        ));
        assert_eq!(rx.recv().await, Some(RelayBody::Text("a".to_owned())));
        for _ in 0..=RELAY_QUEUE {
            relays.dispatch(RelayMessage::new("r", "n", RelayBody::Text("b".to_owned())));
        }
        let mut got = 0;
        while rx.recv().await.is_some() {
            got += 1;
        }
        assert_eq!(got, RELAY_QUEUE);
    }
}
