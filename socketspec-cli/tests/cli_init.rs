//! `socketspec init DIR` makes a project that builds offline against this
//! workspace's crates and runs: it serves its docs page and answers an event
//! over a real WebSocket.
//!
//! The build uses `target/init-project` under the workspace as its target
//! directory, so compiled dependencies are reused from one run to the next.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use support::{build_offline, workspace};

mod support;

fn socketspec(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_socketspec"))
        .args(args)
        .output()
        .unwrap()
}

/// Kills the server when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn init_refuses_a_non_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
    let o = socketspec(&["init", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not empty"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn init_project_builds_offline_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("Hello App");
    let o = socketspec(&["init", project.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for file in [
        "Cargo.toml",
        "build.rs",
        "spec/api.json",
        "src/main.rs",
        "README.md",
        "Cargo.lock",
        ".gitignore",
    ] {
        assert!(project.join(file).is_file(), "{file} was not written");
    }
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"hello-app\""), "{manifest}");
    let root = workspace().canonicalize().unwrap();
    assert!(
        manifest.contains(&format!(
            "path = \"{}\"",
            root.join("socketspec-runtime").display()
        )),
        "{manifest}"
    );
    // The spec it starts with is valid.
    let o = socketspec(&["check", project.join("spec/api.json").to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let target = workspace().join("target").join("init-project");
    let build = build_offline(&project);
    assert!(
        build.status.success(),
        "`cargo build --offline` of the new project failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let warnings = String::from_utf8_lossy(&build.stderr).into_owned();
    assert!(
        !warnings.contains("warning:"),
        "the new project builds with warnings:\n{warnings}"
    );

    // It runs: prints its address, serves the docs page, answers `hello`.
    let binary = target
        .join("debug")
        .join(format!("hello-app{}", std::env::consts::EXE_SUFFIX));
    let child = Command::new(&binary)
        .args(["--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Running(child);
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ws://")
        .and_then(|rest| rest.strip_suffix("/ws"))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();

    let page = http_get(&addr, "/socket-docs");
    assert!(page.starts_with("HTTP/1.1 200"), "{page:.200}");
    assert!(
        page.contains("<title>Hello App 0.1.0"),
        "the docs page names the app"
    );
    assert!(page.contains("data-event=\"hello\""));

    let mut ws = WebSocket::connect(&addr);
    let connect = ws.recv();
    assert_eq!(connect["event"], "__connect__", "{connect}");
    ws.send(&json!({"event": "hello", "payload": {"name": "Ada"}, "id": "h-1"}));
    let reply = ws.recv();
    assert_eq!(
        reply,
        json!({"event": "greeting", "payload": {"text": "Hello, Ada!"}, "id": "h-1"})
    );
    ws.send(&json!({"event": "join", "payload": {"room": "general"}, "id": "j-1"}));
    let joined = ws.recv();
    assert_eq!(joined["event"], "joined", "{joined}");
    assert_eq!(joined["payload"]["members"], 1);
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Just enough of RFC 6455 for a test: masked text frames out, unmasked
/// frames in.
struct WebSocket(TcpStream);

impl WebSocket {
    fn connect(addr: &str) -> WebSocket {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "upgrade refused: {head}");
        WebSocket(stream)
    }

    fn send(&mut self, value: &Value) {
        let payload = value.to_string().into_bytes();
        let mask = [0x12u8, 0x34, 0x56, 0x78];
        let mut frame = vec![0x81u8];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.0.write_all(&frame).unwrap();
    }

    fn recv(&mut self) -> Value {
        loop {
            let mut head = [0u8; 2];
            self.0.read_exact(&mut head).unwrap();
            let len = match head[1] & 0x7f {
                126 => {
                    let mut b = [0u8; 2];
                    self.0.read_exact(&mut b).unwrap();
                    u16::from_be_bytes(b) as usize
                }
                127 => {
                    let mut b = [0u8; 8];
                    self.0.read_exact(&mut b).unwrap();
                    u64::from_be_bytes(b) as usize
                }
                n => n as usize,
            };
            let mut payload = vec![0u8; len];
            self.0.read_exact(&mut payload).unwrap();
            match head[0] & 0x0f {
                0x1 | 0x2 => return serde_json::from_slice(&payload).unwrap(),
                0x8 => panic!("the server closed the connection: {payload:?}"),
                _ => continue, // ping, pong
            }
        }
    }
}
