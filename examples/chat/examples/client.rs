//! Two users join a room and exchange typed messages through a running chat
//! server, using only generated code:
//! `cargo run -p chat-example --example client -- ws://127.0.0.1:8080/ws`
use chat_example::chat::client::{Client, ClientError, ServerEvent};
use chat_example::chat::{JoinRoom, SendMessage};

#[tokio::main]
async fn main() -> Result<(), ClientError> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or("ws://127.0.0.1:8080/ws".into());
    let (alice, bob) = (Client::connect(&url).await?, Client::connect(&url).await?);
    let room = String::from("general");
    for user in [&alice, &bob] {
        let joined = user.join_room(JoinRoom { room: room.clone() }).await?;
        println!("joined #{} ({} members)", joined.room, joined.members);
    }
    let text = String::from("hi bob");
    let ack = alice.send_message(SendMessage { room, text }).await?;
    println!("alice's message {} was accepted", ack.message_id);
    while let Some(event) = bob.next_event().await {
        if let ServerEvent::NewMessage(message) = event {
            println!("bob got {:?} from {}", message.text, message.from);
            break;
        }
    }
    alice.close().await?;
    bob.close().await
}
