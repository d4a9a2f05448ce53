// `echo` declares no broadcast: broadcasting `new_message` from it does not compile.
use socketspec_runtime::{Connection, Result};

include!("gen/chat.rs");

struct Chat;

impl socketspec_runtime::Hooks for Chat {}

impl chat::Handler for Chat {
    async fn join_room(&self, _cx: chat::JoinRoomCx<'_>, _p: chat::JoinRoom) -> Result<()> {
        Ok(())
    }
    async fn leave_room(&self, _cx: chat::LeaveRoomCx<'_>, _p: chat::LeaveRoom) -> Result<()> {
        Ok(())
    }
    async fn join_admin(&self, _cx: chat::JoinAdminCx<'_>, _p: chat::JoinAdmin) -> Result<()> {
        Ok(())
    }
    async fn send_message(&self, _cx: chat::SendMessageCx<'_>, _p: chat::SendMessage) -> Result<()> {
        Ok(())
    }
    async fn echo(&self, cx: chat::EchoCx<'_>, p: chat::Echo) -> Result<()> {
        let message = chat::NewMessage { room: "r".into(), from: "f".into(), text: p.data, extra: Default::default() };
        cx.broadcast_new_message("r", message).await.map(|_| ())
    }
    async fn slow_echo(&self, _cx: chat::SlowEchoCx<'_>, _p: chat::SlowEcho) -> Result<()> {
        Ok(())
    }
    async fn whoami(&self, _cx: chat::WhoamiCx<'_>, _p: chat::Whoami) -> Result<()> {
        Ok(())
    }
    async fn fail(&self, _cx: chat::FailCx<'_>, _p: chat::Fail) -> Result<()> {
        Ok(())
    }
    async fn guard_admin(&self, _conn: &Connection, _section: &str) -> bool {
        true
    }
}

fn main() {
    let _ = chat::service(Chat);
}
