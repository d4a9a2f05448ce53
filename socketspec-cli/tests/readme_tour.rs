//! The README's five-minute tour works end to end: its spec, `build.rs`,
//! handler and `main`, taken from README.md as they are, build in a project
//! made by `socketspec init` (offline, against this workspace's crates), and
//! the server it makes answers a real WebSocket client at the address the
//! README gives: a join, a message, its broadcast and its ack.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use socketspec_runtime::client::{ClientOptions, Incoming, RawClient};

use support::{build_offline, workspace};

/// The first fenced block of `lang` after `heading` in `text`.
fn block_after<'a>(text: &'a str, heading: &str, lang: &str) -> &'a str {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no `{heading}`"));
    let fence = format!("```{lang}\n");
    let open = start
        + text[start..]
            .find(&fence)
            .unwrap_or_else(|| panic!("no ```{lang} block after `{heading}`"))
        + fence.len();
    let close = open + text[open..].find("```").unwrap();
    &text[open..close]
}

/// Kills the tour's server when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The README's address (`main` binds 127.0.0.1:8080; the path is the
/// runtime's default).
const TOUR_URL: &str = "ws://127.0.0.1:8080/ws";

/// Connects once the server listens (it has just been started).
async fn connect_when_up() -> RawClient {
    let mut last = None;
    for _ in 0..100 {
        match RawClient::connect(TOUR_URL, ClientOptions::default()).await {
            Ok(client) => return client,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the tour's server never answered at {TOUR_URL} (is the port taken?): {last:?}");
}

/// Joins `general`, sends a message, and sees its broadcast and its ack.
async fn speak_with_the_tour() {
    let client = connect_when_up().await;
    let joined = client
        .request("join_room", &json!({"room": "general"}))
        .await
        .unwrap();
    assert_eq!(joined.event, "room_joined");
    assert_eq!(joined.payload, json!({"room": "general", "members": 1}));
    let ack = client
        .request("send_message", &json!({"room": "general", "text": "hello"}))
        .await
        .unwrap();
    assert_eq!(ack.event, "message_ack");
    assert_eq!(ack.payload, json!({"message_id": "m-1"}));
    let broadcast = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match client.next_event().await {
                Some(Incoming::Message(m)) if m.event == "new_message" => break m,
                Some(_) => {}
                None => panic!("the connection ended before the broadcast"),
            }
        }
    })
    .await
    .expect("the broadcast of the message to its room");
    assert_eq!(broadcast.payload, json!({"text": "hello"}));
    // A payload its schema refuses is a VALIDATION_ERROR, not a crash.
    let refused = client
        .request("send_message", &json!({"room": "general", "text": ""}))
        .await;
    assert!(
        matches!(&refused, Err(e) if e.to_string().contains("VALIDATION_ERROR")),
        "{refused:?}"
    );
}

#[test]
fn the_readme_tour_builds_and_answers() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let spec = block_after(&readme, "**1. Write a spec**", "json");
    let build_rs = block_after(&readme, "**2. Generate code in `build.rs`**", "rust");
    let handler = block_after(&readme, "**3. Implement the generated trait.**", "rust");
    let main = block_after(&readme, "**4. Run it:**", "rust");

    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("tour");
    let init = Command::new(env!("CARGO_BIN_EXE_socketspec"))
        .args(["init", project.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    std::fs::write(project.join("spec/chat.json"), spec).unwrap();
    std::fs::write(project.join("build.rs"), build_rs).unwrap();
    std::fs::write(project.join("src/main.rs"), format!("{handler}\n{main}")).unwrap();

    let build = build_offline(&project);
    assert!(
        build.status.success(),
        "the README's tour does not build:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );

    let binary = workspace().join("target/init-project/debug/tour");
    let server = Command::new(&binary)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
    let _running = Running(server);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(speak_with_the_tour());
}
