//! Room caps: one connection cannot be in more than
//! `--max-rooms-per-connection` rooms, the server holds at most
//! `--max-rooms`; a join past either is `PERMISSION_ERROR` with
//! `details.limit`, the connection stays open, and the budget comes back
//! as rooms empty.

use serde_json::{Value, json};
use socketspec_e2e::{ChatServer, Client, Result, assert_error, event_of};

async fn join(client: &mut Client, room: &str) -> Result<Value> {
    client.request("join_room", json!({ "room": room })).await
}

async fn connect(server: &ChatServer) -> Result<Client> {
    let mut client = Client::connect(&server.ws_url()).await?;
    client.expect_connect().await?;
    Ok(client)
}

#[tokio::test]
async fn a_connection_cannot_join_past_its_room_cap() -> Result<()> {
    let server = ChatServer::start(&["--max-rooms-per-connection", "5"]);
    let mut client = connect(&server).await?;
    // `lobby` (joined at connect) counts: four more fit.
    for i in 0..4 {
        let reply = join(&mut client, &format!("r{i}")).await?;
        assert_eq!(event_of(&reply), "room_joined", "{reply}");
    }
    let refused = join(&mut client, "r4").await?;
    let details = assert_error(&refused, "PERMISSION_ERROR");
    assert_eq!(details["details"]["limit"], 5, "{refused}");
    assert_eq!(details["details"]["room"], "chat:r4", "{refused}");
    // Rejoining a room it is in is not a new room.
    let again = join(&mut client, "r0").await?;
    assert_eq!(event_of(&again), "room_joined", "{again}");
    // Leaving one makes room for another.
    client.request("leave_room", json!({"room": "r0"})).await?;
    let reply = join(&mut client, "r4").await?;
    assert_eq!(event_of(&reply), "room_joined", "{reply}");
    let who = client.request("whoami", json!({})).await?;
    assert_eq!(
        who["payload"]["rooms"].as_array().map(Vec::len),
        Some(5),
        "{who}"
    );
    Ok(())
}

#[tokio::test]
async fn the_server_cannot_hold_more_than_its_room_cap() -> Result<()> {
    let server = ChatServer::start(&["--max-rooms", "10"]);
    let mut greedy = connect(&server).await?;
    // `lobby` is one of the ten.
    for i in 0..9 {
        let reply = join(&mut greedy, &format!("g{i}")).await?;
        assert_eq!(event_of(&reply), "room_joined", "{reply}");
    }
    let refused = join(&mut greedy, "g9").await?;
    let details = assert_error(&refused, "PERMISSION_ERROR");
    assert_eq!(details["details"]["limit"], 10, "{refused}");

    // Another connection may still join rooms that exist, not a new one.
    let mut other = connect(&server).await?;
    let reply = join(&mut other, "g0").await?;
    assert_eq!(reply["payload"]["members"], 2, "{reply}");
    assert_error(&join(&mut other, "fresh").await?, "PERMISSION_ERROR");

    // When the greedy connection leaves, its rooms go and the budget with them.
    greedy.close().await?;
    socketspec_e2e::wait::eventually(socketspec_e2e::DEFAULT_TIMEOUT, "a new room", async || {
        let reply = join(&mut other, "fresh").await?;
        Ok((event_of(&reply) == "room_joined").then_some(()))
    })
    .await?;
    Ok(())
}
