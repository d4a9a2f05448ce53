//! Micro-benchmarks of socketspec's hot path: envelope decode, payload
//! validation of a chat `send_message`, broadcast encoding, and dispatch
//! (a whole in-process `echo` round trip through the runtime, next to the
//! same round trip through the raw floor).
//!
//! ```text
//! cargo bench -p socketspec-bench --bench hot_path
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use socketspec_bench::floor::{Floor, FloorConfig};
use socketspec_runtime::config::SessionConfig;
use socketspec_runtime::{HandshakeRequest, Server, envelope};
use tokio::io::DuplexStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

// The real chat service: the code `socketspec_codegen` generates from
// spec/chat.json (see build.rs) and the chat example's own handler.
socketspec_runtime::include_spec!("chat");
#[path = "../../examples/chat/src/handler.rs"]
#[allow(dead_code)]
mod handler;

const SEND_MESSAGE: &[u8] =
    br#"{"event":"send_message","payload":{"room":"general","text":"hello, world"},"id":"c-17"}"#;

fn fail(what: &str, error: impl std::fmt::Display) -> ! {
    panic!("{what}: {error}")
}

fn decode(c: &mut Criterion) {
    c.bench_function("envelope/decode send_message", |b| {
        b.iter(|| envelope::decode(black_box(SEND_MESSAGE)))
    });
}

/// The chat spec's `send_message` payload schema with the spec's shared
/// `$defs` beside it, compiled once as the runtime does at start-up: the
/// runtime reads both from the generated `META`, and so does this.
fn send_message_validator() -> jsonschema::Validator {
    let Some(event) = chat::META.events.iter().find(|e| e.name == "send_message") else {
        fail("chat spec", "no send_message event")
    };
    let mut schema: Value = serde_json::from_str(event.payload_schema)
        .unwrap_or_else(|e| fail("send_message schema", e));
    let shared: Value = serde_json::from_str(chat::META.schema_defs)
        .unwrap_or_else(|e| fail("shared definitions", e));
    if let (Some(schema), Some(defs)) = (schema.as_object_mut(), shared.get("$defs")) {
        schema.insert("$defs".to_owned(), defs.clone());
    }
    jsonschema::draft202012::new(&schema).unwrap_or_else(|e| fail("send_message schema", e))
}

fn validate(c: &mut Criterion) {
    let validator = send_message_validator();
    let valid = json!({"room": "general", "text": "hello, world"});
    let invalid = json!({"room": "no spaces!", "text": "", "extra": 1});
    assert!(validator.is_valid(&valid));
    assert!(!validator.is_valid(&invalid));
    let mut group = c.benchmark_group("validate send_message");
    group.bench_function("is_valid (valid payload)", |b| {
        b.iter(|| validator.is_valid(black_box(&valid)))
    });
    group.bench_function("is_valid (invalid payload)", |b| {
        b.iter(|| validator.is_valid(black_box(&invalid)))
    });
    group.bench_function("every violation (invalid payload)", |b| {
        b.iter(|| validator.iter_errors(black_box(&invalid)).count())
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let typed = chat::NewMessage::new(
        "general".to_owned(),
        "7b0c2f4e-9d1a-4c55-8f0e-2a3b4c5d6e7f".to_owned(),
        "hello, world".to_owned(),
    );
    let mut group = c.benchmark_group("broadcast encode new_message");
    group.bench_function("typed payload (generated struct)", |b| {
        b.iter(|| envelope::encode("new_message", black_box(&typed), None))
    });
    let frame = envelope::encode("new_message", &typed, None).unwrap_or_else(|e| fail("encode", e));
    group.throughput(Throughput::Elements(1000));
    group.bench_function("share one frame with 1,000 members (clone)", |b| {
        b.iter(|| {
            for _ in 0..1000 {
                black_box(frame.clone());
            }
        })
    });
    group.finish();
}

type Client = WebSocketStream<DuplexStream>;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail("tokio runtime", e))
}

/// An in-process client connected to the real chat service.
async fn chat_client() -> Client {
    let server = Server::builder(chat::service(handler::Chat::default()))
        .session(SessionConfig::without_timers())
        .build()
        .unwrap_or_else(|e| fail("chat server", e));
    let (client, io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let _ = server
            .serve_websocket("/", io, HandshakeRequest::default())
            .await;
    });
    let mut ws = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
    // `__connect__` comes first.
    let _ = ws.next().await;
    ws
}

/// An in-process client connected to the raw floor.
async fn floor_client() -> Client {
    let floor = Floor::new(FloorConfig::default());
    let (client, io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let ws = WebSocketStream::from_raw_socket(
            io,
            Role::Server,
            Some(FloorConfig::default().ws_config()),
        )
        .await;
        floor.serve_websocket(ws).await
    });
    WebSocketStream::from_raw_socket(client, Role::Client, None).await
}

fn echo(seq: u64) -> Message {
    Message::Text(Utf8Bytes::from(format!(
        r#"{{"event":"echo","payload":{{"seq":{seq},"data":"0123456789abcdef"}},"id":"e{seq}"}}"#
    )))
}

/// Sends `batch` echoes, then reads `batch` replies; `iters` times.
async fn round_trips(ws: &mut Client, iters: u64, batch: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        for seq in 0..batch {
            if let Err(e) = ws.feed(echo(seq)).await {
                fail("send", e);
            }
        }
        if let Err(e) = ws.flush().await {
            fail("flush", e);
        }
        let mut got = 0;
        while got < batch {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    let reply: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                    if reply["event"] == "echo_reply" {
                        got += 1;
                    }
                }
                Some(Ok(_)) => {}
                other => fail("read", format!("{other:?}")),
            }
        }
    }
    start.elapsed()
}

fn dispatch(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("dispatch echo round trip (in-process)");
    for batch in [1u64, 64] {
        group.throughput(Throughput::Elements(batch));
        let mut chat = rt.block_on(chat_client());
        group.bench_with_input(BenchmarkId::new("socketspec", batch), &batch, |b, &n| {
            b.iter_custom(|iters| rt.block_on(round_trips(&mut chat, iters, n)))
        });
        let mut floor = rt.block_on(floor_client());
        group.bench_with_input(BenchmarkId::new("raw floor", batch), &batch, |b, &n| {
            b.iter_custom(|iters| rt.block_on(round_trips(&mut floor, iters, n)))
        });
    }
    group.finish();
}

criterion_group!(benches, decode, validate, encode, dispatch);
criterion_main!(benches);
