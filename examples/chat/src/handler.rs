//! The chat handler: the spec's events, implemented.

use std::time::Duration;

use socketspec_runtime::{Connection, ErrorCode, Hooks, Result};

use crate::chat::{self, ConnectionExt as _, rooms};

/// The chat server's behaviour (docs/chat-example.md).
#[derive(Debug, Default, Clone, Copy)]
pub struct Chat {
    welcome: bool,
}

impl Chat {
    /// A chat handler; with `welcome`, every new connection gets `welcome`
    /// `{connection_id}` right after `__connect__`.
    pub fn new(welcome: bool) -> Self {
        Chat { welcome }
    }
}

/// The name others see: the user id, or the connection id without auth.
fn display_name(conn: &Connection) -> String {
    conn.user_id().unwrap_or_else(|| conn.id().to_owned())
}

impl chat::Handler for Chat {
    async fn join_room(&self, cx: chat::JoinRoomCx<'_>, payload: chat::JoinRoom) -> Result<()> {
        let members = cx.join(&rooms::chat(&payload.room)).await?;
        cx.emit_room_joined(chat::RoomJoined::new(payload.room.clone(), members.into()))?;
        let user = display_name(cx.connection());
        cx.broadcast_user_joined(
            &payload.room,
            chat::UserJoined::new(payload.room.clone(), user),
        )
        .await?;
        Ok(())
    }

    async fn leave_room(&self, cx: chat::LeaveRoomCx<'_>, payload: chat::LeaveRoom) -> Result<()> {
        cx.leave(&rooms::chat(&payload.room)).await?;
        cx.emit_room_left(chat::RoomLeft::new(payload.room))
    }

    async fn join_admin(&self, cx: chat::JoinAdminCx<'_>, payload: chat::JoinAdmin) -> Result<()> {
        let room = rooms::admin(&payload.section);
        let members = cx.join(&room).await?;
        cx.emit_room_joined(chat::RoomJoined::new(room, members.into()))
    }

    async fn send_message(
        &self,
        cx: chat::SendMessageCx<'_>,
        payload: chat::SendMessage,
    ) -> Result<()> {
        let from = display_name(cx.connection());
        let message = chat::NewMessage::new(payload.room.clone(), from, payload.text);
        cx.broadcast_new_message(&payload.room, message).await?;
        let message_id = uuid::Uuid::new_v4().to_string();
        cx.emit_message_ack(chat::MessageAck::new(
            chat::MessageAckStatus::Ok,
            message_id,
        ))
    }

    async fn send_direct(
        &self,
        cx: chat::SendDirectCx<'_>,
        payload: chat::SendDirect,
    ) -> Result<()> {
        let message = chat::DirectMessage::new(display_name(cx.connection()), payload.text);
        let push = cx.push();
        // `to` names a connection, or else a user: whichever is connected,
        // on any node. Nobody there is `ROOM_NOT_FOUND`.
        let to_connection = push.to_connection(&payload.to);
        match to_connection.emit_direct_message(message.clone()).await {
            Err(e) if e.code() == ErrorCode::RoomNotFound => {
                push.to_user(&payload.to)
                    .emit_direct_message(message)
                    .await?;
            }
            other => {
                other?;
            }
        }
        cx.emit_message_ack(chat::MessageAck::new(
            chat::MessageAckStatus::Ok,
            uuid::Uuid::new_v4().to_string(),
        ))
    }

    async fn echo(&self, cx: chat::EchoCx<'_>, payload: chat::Echo) -> Result<()> {
        cx.emit_echo_reply(chat::EchoReply::new(payload.seq, payload.data))
    }

    async fn slow_echo(&self, cx: chat::SlowEchoCx<'_>, payload: chat::SlowEcho) -> Result<()> {
        // The schema bounds delay_ms to 0..=5000, so the conversion cannot fail.
        tokio::time::sleep(Duration::from_millis(
            u64::try_from(payload.delay_ms).unwrap_or(0),
        ))
        .await;
        cx.emit_echo_reply(chat::EchoReply::new(payload.seq, String::new()))
    }

    async fn whoami(&self, cx: chat::WhoamiCx<'_>, _payload: chat::Whoami) -> Result<()> {
        let conn = cx.connection();
        let identity = conn.identity();
        cx.emit_identity(chat::Identity::new(
            conn.id().to_owned(),
            identity.as_ref().and_then(|i| i.user_id.clone()),
            identity.as_ref().and_then(|i| i.role().map(str::to_owned)),
            conn.rooms(),
        ))
    }

    async fn fail(&self, _cx: chat::FailCx<'_>, payload: chat::Fail) -> Result<()> {
        match payload.mode.unwrap_or(chat::FailMode::Error) {
            // A message converts into `Error` as the client-facing text.
            chat::FailMode::Error => Err("the handler failed on purpose (mode \"error\")".into()),
            chat::FailMode::Panic => {
                panic!("deliberate panic: this text must never reach a client")
            }
        }
    }

    async fn guard_admin(&self, conn: &Connection, _section: &str) -> bool {
        conn.identity().is_some_and(|i| i.role() == Some("admin"))
    }
}

impl Hooks for Chat {
    async fn on_connect(&self, conn: &Connection) -> Result<()> {
        if self.welcome {
            conn.emit_welcome(chat::Welcome::new(conn.id().to_owned()))?;
        }
        conn.join(rooms::LOBBY).await?;
        Ok(())
    }
}
