//! The client against a scripted peer: a WebSocket over `tokio::io::duplex`
//! whose server end the test drives frame by frame, so what the client
//! writes and how it reads are checked without a real server.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::DuplexStream;
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use super::*;

type Peer = WebSocketStream<DuplexStream>;

/// Hands the server end of every connection the client opens to the test.
struct ScriptedConnector {
    peers: mpsc::UnboundedSender<Peer>,
}

impl Connector for ScriptedConnector {
    fn connect<'a>(
        &'a self,
        _handshake: &'a Handshake,
    ) -> BoxFuture<'a, Result<BoxSocket, ClientError>> {
        Box::pin(async move {
            let (client_end, server_end) = tokio::io::duplex(64 * 1024);
            let peer = WebSocketStream::from_raw_socket(server_end, Role::Server, None).await;
            self.peers
                .send(peer)
                .map_err(|_| ClientError::Transport("the test is gone".to_owned()))?;
            let ws = WebSocketStream::from_raw_socket(client_end, Role::Client, None).await;
            Ok(Box::new(ws) as BoxSocket)
        })
    }
}

fn text(value: Value) -> Message {
    Message::text(value.to_string())
}

/// A connected client and the peer it talks to (its `__connect__` sent).
async fn connected() -> (RawClient, Peer) {
    let (peers, mut accepted) = mpsc::unbounded_channel();
    let connect = tokio::spawn(RawClient::connect_with(
        ScriptedConnector { peers },
        ClientOptions::new(),
    ));
    let Some(mut peer) = accepted.recv().await else {
        panic!("the client did not connect");
    };
    let hello = json!({"event": "__connect__", "payload": {"connection_id": "c1"}});
    peer.send(text(hello)).await.unwrap_or_default();
    match connect.await {
        Ok(Ok(client)) => (client, peer),
        other => panic!("connecting failed: {other:?}"),
    }
}

/// The next event-stream item that is not the `__connect__`.
async fn next_after_connect(client: &RawClient) -> Option<Incoming> {
    loop {
        match client.next_event().await {
            Some(Incoming::Message(m)) if m.event == Wire::Connect.name() => {}
            other => return other,
        }
    }
}

#[tokio::test]
async fn send_binary_writes_one_binary_frame_and_the_answer_arrives_on_the_stream() {
    let (client, mut peer) = connected().await;
    let envelope = br#"{"event":"echo","payload":{"seq":7,"data":"bin"},"id":"b1"}"#;
    client
        .send_binary(envelope.to_vec())
        .await
        .unwrap_or_else(|e| panic!("send_binary: {e}"));
    match peer.next().await {
        Some(Ok(Message::Binary(bytes))) => assert_eq!(&bytes[..], &envelope[..]),
        other => panic!("expected one binary frame, got {other:?}"),
    }
    let reply = json!({"event": "echo_reply", "payload": {"seq": 7, "data": "bin"}, "id": "b1"});
    peer.send(text(reply)).await.unwrap_or_default();
    match next_after_connect(&client).await {
        Some(Incoming::Message(m)) => {
            assert_eq!(
                (m.event.as_str(), m.id.as_deref()),
                ("echo_reply", Some("b1"))
            );
            assert_eq!(m.payload, json!({"seq": 7, "data": "bin"}));
        }
        other => panic!("expected the reply on the stream, got {other:?}"),
    }
}

#[tokio::test]
async fn the_servers_close_code_and_disconnect_reason_end_the_stream() {
    let (client, mut peer) = connected().await;
    let bye = json!({"event": "__disconnect__", "payload": {"reason": "idle_timeout"}});
    peer.send(text(bye)).await.unwrap_or_default();
    let frame = CloseFrame {
        code: CloseCode::from(4002),
        reason: "idle".into(),
    };
    peer.send(Message::Close(Some(frame)))
        .await
        .unwrap_or_default();
    // Answer the client's echo of the close so that it finishes at once.
    tokio::spawn(async move { while let Some(Ok(_)) = peer.next().await {} });
    let disconnect = next_after_connect(&client).await;
    assert!(
        matches!(&disconnect, Some(Incoming::Message(m)) if m.event == Wire::Disconnect.name()),
        "{disconnect:?}"
    );
    let closed = client.next_event().await;
    assert_eq!(
        closed,
        Some(Incoming::Closed(CloseInfo {
            code: Some(4002),
            reason: "idle_timeout".to_owned(),
            reconnecting: false,
        }))
    );
    assert_eq!(client.next_event().await, None);
    assert!(!client.is_connected());
}

/// A peer that sends its close frame and then neither reads nor ends the
/// TCP stream (as a server does that stopped reading after refusing an
/// oversized frame): the close is reported at once, not after the wait for
/// the closing handshake. The clock is paused, so "at once" is exact: no
/// timer had to fire.
#[tokio::test(start_paused = true)]
async fn a_close_frame_is_reported_without_waiting_for_the_handshake() {
    let (client, mut peer) = connected().await;
    let frame = CloseFrame {
        code: CloseCode::from(1009),
        reason: "too big".into(),
    };
    peer.send(Message::Close(Some(frame)))
        .await
        .unwrap_or_default();
    let started = tokio::time::Instant::now();
    let closed = next_after_connect(&client).await;
    assert_eq!(
        closed,
        Some(Incoming::Closed(CloseInfo {
            code: Some(1009),
            reason: "too big".to_owned(),
            reconnecting: false,
        }))
    );
    assert_eq!(started.elapsed(), std::time::Duration::ZERO);
    drop(peer);
}
