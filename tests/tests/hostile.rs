//! Hostile input against the real chat server: every byte a client sends is
//! hostile until validated. Each input must get the protocol's error
//! envelope or close code, never a crash, a hang or unbounded memory, while
//! a bystander connection keeps getting its echoes (its latency is printed;
//! the only timing assert is a generous sanity bound).
//!
//! Run with `--nocapture` to see one `hostile |` line per input: what was
//! sent and what the server did (docs/reliability.md lists them).

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use socketspec_e2e::bystander::Bystander;
use socketspec_e2e::host::rss_kib;
use socketspec_e2e::observe::{health, metrics, wait_health};
use socketspec_e2e::raw_ws::{Incoming, RawWs, client_frame, opcode};
use socketspec_e2e::{ChatServer, Client, Result, assert_error, workspace_root};

const SANITY: Duration = Duration::from_secs(2);
const WAIT: Duration = Duration::from_secs(10);

fn report(case: &str, outcome: &str) {
    println!("hostile | {case} | {outcome}");
}

/// The server is up, answers `/socket-health`, and logged no panic.
async fn assert_server_fine(server: &ChatServer) -> Result<()> {
    let h = health(server.addr()).await?;
    assert_eq!(h["status"], "ok", "{h}");
    let stderr = server.stderr();
    assert!(
        !stderr.contains("panicked"),
        "the server panicked:\n{stderr}"
    );
    Ok(())
}

/// The `__error__` reply to `text`; the connection must stay open.
async fn error_for(client: &mut Client, text: &str) -> Result<Value> {
    client.send_raw_text(text).await?;
    let reply = client.recv_event("__error__", WAIT).await?;
    client.assert_alive().await?;
    Ok(reply)
}

fn short(text: &str) -> String {
    let escaped: String = text.escape_debug().collect();
    if escaped.chars().count() > 60 {
        format!(
            "{}… ({} bytes)",
            escaped.chars().take(60).collect::<String>(),
            text.len()
        )
    } else {
        escaped
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_truncated_json_get_validation_errors() -> Result<()> {
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let cases = [
        "",
        " ",
        "garbage",
        "{",
        "}",
        "{\"event\":",
        "{\"event\":\"echo\",\"payload\":{\"seq\":1",
        "{\"event\":\"echo\",\"payload\":{\"seq\":1,\"data\":\"x\"}}}",
        "{\"event\":\"echo\"} trailing",
        "{'event':'echo'}",
        "{event:\"echo\"}",
        "\u{feff}{\"event\":\"echo\",\"payload\":{\"seq\":1,\"data\":\"\"}}",
        "\0",
        "null",
        "42",
        "\"echo\"",
        "[]",
        "[{\"event\":\"echo\"}]",
        "{}",
        "{\"payload\":{}}",
        "{\"event\":null}",
        "{\"event\":42}",
        "{\"event\":[\"echo\"]}",
        "{\"event\":\"echo\",\"payload\":\"x\"}",
        "{\"event\":\"echo\",\"payload\":[1]}",
        "{\"event\":\"echo\",\"payload\":7}",
        "{\"event\":\"echo\",\"id\":{}}",
        "{\"event\":\"echo\",\"id\":17}",
        "{\"event\":\"echo\",\"payload\":{\"seq\":NaN,\"data\":\"\"}}",
        "{\"event\":\"echo\",\"payload\":{\"seq\":Infinity,\"data\":\"\"}}",
        "{\"event\":\"echo\",\"payload\":{\"seq\":0x10,\"data\":\"\"}}",
        "{\"event\":\"echo\",\"payload\":{\"seq\":1,\"data\":\"\\ud800\"}}",
        "{\"event\":\"echo\",\"payload\":{\"seq\":1,\"data\":\"\\x41\"}}",
        "{\"event\":\"echo\",\"payload\":{\"seq\":1,\"data\":\"unterminated}}",
        "{\"event\":\"echo\",\"payload\":{\"seq\":1,,\"data\":\"\"}}",
        "{\"event\":\"echo\",\"payload\":{\"seq\":1,\"data\":\"\",}}",
    ];
    for text in cases {
        let reply = error_for(&mut client, text).await?;
        let payload = assert_error(&reply, "VALIDATION_ERROR");
        report(
            &format!("text `{}`", short(text)),
            &format!("VALIDATION_ERROR ({}), connection open", payload["message"]),
        );
    }
    // Unknown and server-only event names: UNKNOWN_EVENT.
    for name in ["nope", "", "__connect__", "__error__", "__custom__", "ECHO"] {
        let reply = error_for(&mut client, &json!({"event": name}).to_string()).await?;
        assert_error(&reply, "UNKNOWN_EVENT");
        report(
            &format!("event name {name:?}"),
            "UNKNOWN_EVENT, connection open",
        );
    }
    // Duplicate keys: the last one wins (serde_json), like most JSON parsers.
    client
        .send_raw_text(r#"{"event":"nope","event":"echo","payload":{"seq":5,"data":"dup"}}"#)
        .await?;
    let reply = client.recv_event("echo_reply", WAIT).await?;
    assert_eq!(reply["payload"]["seq"], 5);
    report("duplicate `event` keys", "the last one wins: echo_reply");
    bystander.finish("garbage json", SANITY).await;
    assert_server_fine(&server).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_in_text_frames_fails_the_connection_with_1007() -> Result<()> {
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let cases: [(&str, &[u8]); 6] = [
        (
            "0xFF byte",
            b"{\"event\":\"echo\",\"payload\":{\"seq\":1,\"data\":\"\xff\"}}",
        ),
        ("lone continuation byte", b"\x80"),
        ("truncated 3-byte sequence", b"{\"event\":\"\xe2\x82\"}"),
        ("overlong encoding of '/'", b"\xc0\xaf"),
        ("UTF-16 surrogate U+D800", b"\xed\xa0\x80"),
        ("code point above U+10FFFF", b"\xf4\x90\x80\x80"),
    ];
    for (what, bytes) in cases {
        let mut raw = RawWs::connect(server.addr()).await?;
        raw.recv_event("__connect__", WAIT).await?;
        raw.send_text_bytes(bytes).await?;
        let end = raw.expect_end(WAIT).await?;
        assert_eq!(end, Incoming::Close(Some(1007)), "{what}");
        report(
            &format!("text frame with invalid UTF-8 ({what})"),
            "close 1007 (invalid frame payload data)",
        );
    }
    // Invalid UTF-8 split across fragments is caught too.
    let mut raw = RawWs::connect(server.addr()).await?;
    raw.recv_event("__connect__", WAIT).await?;
    raw.send_frame(false, opcode::TEXT, b"{\"event\":\"echo\xe2")
        .await?;
    raw.send_frame(true, opcode::CONTINUATION, b"\x28\"}")
        .await?;
    assert_eq!(raw.expect_end(WAIT).await?, Incoming::Close(Some(1007)));
    report("invalid UTF-8 across two fragments", "close 1007");
    bystander.finish("invalid utf-8", SANITY).await;
    assert_server_fine(&server).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_frames_are_json_or_a_validation_error() -> Result<()> {
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    client
        .send_binary(br#"{"event":"echo","payload":{"seq":3,"data":"bin"}}"#.to_vec())
        .await?;
    let reply = client.recv_event("echo_reply", WAIT).await?;
    assert_eq!(reply["payload"], json!({"seq": 3, "data": "bin"}));
    report(
        "binary frame holding a valid envelope",
        "handled like text: echo_reply",
    );
    let cases: [(&str, Vec<u8>); 5] = [
        ("empty binary frame", Vec::new()),
        ("binary frame of 0xFF bytes", vec![0xff; 64]),
        (
            "binary frame of random-looking bytes",
            (0..=255u8).collect(),
        ),
        ("binary frame of UTF-8 garbage", b"not json at all".to_vec()),
        ("binary frame, 60 KiB of zero bytes", vec![0; 60 * 1024]),
    ];
    for (what, bytes) in cases {
        client.send_binary(bytes).await?;
        let reply = client.recv_event("__error__", WAIT).await?;
        assert_error(&reply, "VALIDATION_ERROR");
        client.assert_alive().await?;
        report(what, "VALIDATION_ERROR, connection open");
    }
    bystander.finish("binary frames", SANITY).await;
    assert_server_fine(&server).await
}

fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn nested_objects(depth: usize) -> String {
    format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_nesting_is_a_validation_error_not_a_stack_overflow() -> Result<()> {
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    for depth in [10_000, 1_000, 129] {
        let cases = [
            (format!("arrays nested {depth} deep"), nested_arrays(depth)),
            (
                format!("payload with objects nested {depth} deep"),
                format!(
                    "{{\"event\":\"echo\",\"payload\":{{\"seq\":1,\"data\":\"\",\"x\":{}}}}}",
                    nested_objects(depth)
                ),
            ),
            (
                format!("`id` with arrays nested {depth} deep"),
                format!("{{\"event\":\"echo\",\"id\":{}}}", nested_arrays(depth)),
            ),
        ];
        for (what, text) in cases {
            let started = Instant::now();
            let reply = error_for(&mut client, &text).await?;
            let payload = assert_error(&reply, "VALIDATION_ERROR");
            let message = payload["message"].as_str().unwrap_or_default();
            assert!(message.contains("recursion limit"), "{what}: {message}");
            report(
                &format!("{what} ({} bytes)", text.len()),
                &format!(
                    "VALIDATION_ERROR (serde_json's recursion limit) in {:.1?}",
                    started.elapsed()
                ),
            );
        }
    }
    // Just under the parser's limit: valid JSON, the schema and the
    // handler cope (echo ignores extra properties).
    let text = format!(
        "{{\"event\":\"echo\",\"payload\":{{\"seq\":9,\"data\":\"deep\",\"x\":{}}}}}",
        nested_objects(120)
    );
    client.send_raw_text(&text).await?;
    let reply = client.recv_event("echo_reply", WAIT).await?;
    assert_eq!(reply["payload"], json!({"seq": 9, "data": "deep"}));
    report(
        "payload with objects nested 120 deep",
        "accepted: echo_reply",
    );
    bystander.finish("deep nesting", SANITY).await;
    assert_server_fine(&server).await
}

fn many_keys(keys: usize, extra: &str) -> String {
    let mut text = String::with_capacity(keys * 12 + 100);
    text.push_str(extra);
    for i in 0..keys {
        text.push_str(&format!(",\"k{i}\":{i}"));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_keys_are_refused_or_validated_within_bounds() -> Result<()> {
    // With the default 64 KiB limit, 100,000 keys (1.2 MB) are far above
    // the WebSocket layer's hard cap: refused before being buffered whole.
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let text = format!(
        "{{\"event\":\"echo\",\"payload\":{{{}}}}}",
        many_keys(100_000, "\"seq\":1,\"data\":\"\"")
    );
    client.send_raw_text(&text).await?;
    assert_eq!(client.expect_close(WAIT).await?, Some(1009));
    report(
        &format!("100,000-key payload ({} bytes), default limits", text.len()),
        "close 1009 (above the hard cap, never buffered whole)",
    );
    // 5,000 keys (~60 KB) fit the limit: echo ignores them, join_room
    // (additionalProperties: false) reports them.
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let small = many_keys(5_000, "\"seq\":2,\"data\":\"k\"");
    client
        .send_raw_text(&format!("{{\"event\":\"echo\",\"payload\":{{{small}}}}}"))
        .await?;
    let reply = client.recv_event("echo_reply", WAIT).await?;
    assert_eq!(reply["payload"], json!({"seq": 2, "data": "k"}));
    let reply = error_for(
        &mut client,
        &format!(
            "{{\"event\":\"join_room\",\"payload\":{{{}}}}}",
            many_keys(5_000, "\"room\":\"r\"")
        ),
    )
    .await?;
    assert_error(&reply, "VALIDATION_ERROR");
    report(
        "5,000-key payloads (~60 KB)",
        "echo: extra keys ignored; join_room: VALIDATION_ERROR",
    );
    bystander.finish("100k keys (default limits)", SANITY).await;
    assert_server_fine(&server).await?;
    drop(server);

    // With a 4 MB limit the whole object is parsed and validated.
    let server = ChatServer::start(&["--max-payload-size", "4000000"]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let rss_before = rss_kib(server.pid()).unwrap_or(0);
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let started = Instant::now();
    client.send_raw_text(&text).await?;
    let reply = client
        .recv_event("echo_reply", Duration::from_secs(30))
        .await?;
    assert_eq!(reply["payload"], json!({"seq": 1, "data": ""}));
    let echo_time = started.elapsed();
    // A reply far above the WebSocket write buffer (2 MB) goes out whole.
    let big = "b".repeat(2_000_000);
    client
        .send_json(&json!({"event": "echo", "payload": {"seq": 2, "data": big}}))
        .await?;
    let reply = client
        .recv_event("echo_reply", Duration::from_secs(30))
        .await?;
    assert_eq!(
        reply["payload"]["data"].as_str().map(str::len),
        Some(2_000_000)
    );
    report(
        "2,000,000-byte string with --max-payload-size 4000000",
        "echoed whole (a 2 MB reply frame)",
    );
    let join = format!(
        "{{\"event\":\"join_room\",\"payload\":{{{}}}}}",
        many_keys(100_000, "\"room\":\"r\"")
    );
    let started = Instant::now();
    client.send_raw_text(&join).await?;
    let reply = client
        .recv_event("__error__", Duration::from_secs(30))
        .await?;
    let payload = assert_error(&reply, "VALIDATION_ERROR");
    let join_time = started.elapsed();
    client.assert_alive().await?;
    let rss_after = rss_kib(server.pid()).unwrap_or(0);
    report(
        "100,000-key payload with --max-payload-size 4000000",
        &format!(
            "echo: parsed, extra keys ignored, echo_reply in {echo_time:.1?}; join_room: \
             VALIDATION_ERROR ({} bytes of message) in {join_time:.1?}; RSS {rss_before} -> {rss_after} KiB",
            payload["message"].as_str().map_or(0, str::len)
        ),
    );
    bystander.finish("100k keys (4 MB limit)", SANITY).await;
    assert_server_fine(&server).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_numbers_and_strings() -> Result<()> {
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let echo = |seq: &str, data: &str| {
        format!("{{\"event\":\"echo\",\"payload\":{{\"seq\":{seq},\"data\":{data}}}}}")
    };
    // Numbers: what JSON cannot hold (beyond f64), and what is no integer.
    let refused = [
        ("1e400", "number out of f64 range"),
        ("-1e400", "negative number out of f64 range"),
        ("1.5", "a fraction"),
        (&"9".repeat(5000), "a 5,000-digit integer"),
    ];
    for (seq, what) in refused {
        let reply = error_for(&mut client, &echo(seq, "\"\"")).await?;
        assert_error(&reply, "VALIDATION_ERROR");
        report(
            &format!("`seq`: {what}"),
            "VALIDATION_ERROR, connection open",
        );
    }
    // `seq` is `"type": "integer"` without bounds: every integer the JSON
    // parser reads reaches the handler (an `Integer`), within 64 bits exactly.
    for (seq, expected) in [
        ("9223372036854775807", json!(i64::MAX)),
        ("-9223372036854775808", json!(i64::MIN)),
        ("18446744073709551615", json!(u64::MAX)),
        ("0", json!(0)),
    ] {
        client.send_raw_text(&echo(seq, "\"n\"")).await?;
        let reply = client.recv_event("echo_reply", WAIT).await?;
        assert_eq!(reply["payload"]["seq"], expected);
    }
    report("`seq`: i64::MAX, i64::MIN, u64::MAX, 0", "echoed exactly");
    // Beyond 64 bits the parser reads an integral `f64`, and that comes back.
    for seq in ["99999999999999999999", "-9223372036854775809", "1e300"] {
        client.send_raw_text(&echo(seq, "\"n\"")).await?;
        let reply = client.recv_event("echo_reply", WAIT).await?;
        let parsed: f64 = serde_json::from_str(seq)?;
        assert_eq!(reply["payload"]["seq"].as_f64(), Some(parsed), "{seq}");
    }
    report(
        "`seq`: integers beyond 64 bits",
        "echoed as the f64 the JSON parser reads",
    );
    // Strings: big but within the limit, over the schema, over the limit,
    // over the hard cap.
    let big = "x".repeat(60_000);
    client
        .send_raw_text(&echo("1", &format!("\"{big}\"")))
        .await?;
    let reply = client.recv_event("echo_reply", WAIT).await?;
    assert_eq!(
        reply["payload"]["data"].as_str().map(str::len),
        Some(60_000)
    );
    report("60,000-character string", "echoed whole");
    let escaped = "\\u00e9".repeat(10_000);
    client
        .send_raw_text(&echo("1", &format!("\"{escaped}\"")))
        .await?;
    let reply = client.recv_event("echo_reply", WAIT).await?;
    assert_eq!(
        reply["payload"]["data"].as_str().map(|s| s.chars().count()),
        Some(10_000)
    );
    report("10,000 \\u escapes in a string", "decoded and echoed");
    let long_text = "y".repeat(2_001);
    let reply = error_for(
        &mut client,
        &json!({"event": "send_message", "payload": {"room": "r", "text": long_text}}).to_string(),
    )
    .await?;
    assert_error(&reply, "VALIDATION_ERROR");
    report(
        "send_message text of 2,001 characters",
        "VALIDATION_ERROR (maxLength 2000)",
    );
    let reply = error_for(
        &mut client,
        &json!({"event": "join_room", "payload": {"room": "r".repeat(65)}}).to_string(),
    )
    .await?;
    assert_error(&reply, "VALIDATION_ERROR");
    report("room name of 65 characters", "VALIDATION_ERROR (pattern)");
    let over = echo("1", &format!("\"{}\"", "z".repeat(70_000)));
    let reply = error_for(&mut client, &over).await?;
    let payload = assert_error(&reply, "PAYLOAD_TOO_LARGE");
    assert_eq!(payload["details"]["limit"], 65_536);
    assert_eq!(payload["details"]["size"], over.len());
    report(
        &format!("{}-byte message (limit 65,536)", over.len()),
        "PAYLOAD_TOO_LARGE with details.limit and details.size, connection open",
    );
    let huge_event = format!("{{\"event\":\"{}\"}}", "e".repeat(60_000));
    let reply = error_for(&mut client, &huge_event).await?;
    assert_error(&reply, "UNKNOWN_EVENT");
    report(
        "60,000-character event name",
        "UNKNOWN_EVENT, connection open",
    );
    let capped = echo("1", &format!("\"{}\"", "z".repeat(300_000)));
    client.send_raw_text(&capped).await?;
    assert_eq!(client.expect_close(WAIT).await?, Some(1009));
    report(
        &format!("{}-byte message (hard cap 262,144)", capped.len()),
        "close 1009",
    );
    bystander.finish("huge numbers and strings", SANITY).await;
    assert_server_fine(&server).await
}

/// Values of every JSON type but `allowed` (JSON Schema type names).
fn wrong_values(allowed: &[&str]) -> Vec<Value> {
    let all = [
        ("null", json!(null)),
        ("boolean", json!(true)),
        ("integer", json!(7)),
        ("number", json!(1.5)),
        ("string", json!("s")),
        ("array", json!([1])),
        ("object", json!({"a": 1})),
    ];
    all.into_iter()
        .filter(|(name, _)| {
            let implied = *name == "integer" && allowed.contains(&"number");
            !(allowed.contains(name) || implied)
        })
        .map(|(_, v)| v)
        .collect()
}

/// A valid value for a property schema of the chat spec.
fn valid_value(schema: &Value) -> Value {
    if let Some(default) = schema.get("enum").and_then(|e| e.get(0)) {
        return default.clone();
    }
    match schema["type"].as_str() {
        Some("integer") => json!(1),
        _ => json!("general"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_types_at_every_field_of_every_chat_event() -> Result<()> {
    let spec_text = std::fs::read_to_string(workspace_root().join("spec/chat.json"))?;
    let spec: Value = serde_json::from_str(&spec_text)?;
    let defs = spec["$defs"].clone();
    let resolve = |schema: &Value| -> Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => defs[r.trim_start_matches("#/$defs/")].clone(),
            None => schema.clone(),
        }
    };
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    let events = spec["events"].as_object().cloned().unwrap_or_default();
    let mut tried = 0;
    for (event, meta) in &events {
        let properties = meta["payload"]["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let valid: Map<String, Value> = properties
            .iter()
            .map(|(name, schema)| (name.clone(), valid_value(&resolve(schema))))
            .collect();
        for (field, schema) in &properties {
            let schema = resolve(schema);
            let allowed: Vec<&str> = match &schema["type"] {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            for wrong in wrong_values(&allowed) {
                let mut payload = valid.clone();
                payload.insert(field.clone(), wrong.clone());
                let id = format!("{event}-{field}-{tried}");
                let reply = client
                    .request_with_id(event, Value::Object(payload), &id, WAIT)
                    .await?;
                let p = assert_error(&reply, "VALIDATION_ERROR");
                assert_eq!(p["event"], event.as_str());
                assert_eq!(p["request_id"], id.as_str());
                let paths: Vec<&Value> = p["details"]["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| &e["path"])
                    .collect();
                assert!(
                    paths.contains(&&json!(format!("/{field}"))),
                    "{event}.{field} = {wrong}: {reply}"
                );
                tried += 1;
            }
            if let Some(values) = schema.get("enum") {
                let reply = client
                    .request(event, json!({ field.as_str(): "not-in-the-enum" }))
                    .await?;
                assert_error(&reply, "VALIDATION_ERROR");
                tried += 1;
                let _ = values;
            }
        }
        // Every required field missing, one at a time.
        for required in meta["payload"]["required"].as_array().into_iter().flatten() {
            let mut payload = valid.clone();
            payload.remove(required.as_str().unwrap_or_default());
            let reply = client.request(event, Value::Object(payload)).await?;
            assert_error(&reply, "VALIDATION_ERROR");
            tried += 1;
        }
        // The whole payload of the wrong type.
        for wrong in [json!([]), json!("x"), json!(1), json!(true)] {
            client
                .send_json(&json!({"event": event, "payload": wrong}))
                .await?;
            let reply = client.recv_event("__error__", WAIT).await?;
            assert_error(&reply, "VALIDATION_ERROR");
            tried += 1;
        }
    }
    client.assert_alive().await?;
    report(
        &format!(
            "wrong types at every field of all {} chat events",
            events.len()
        ),
        &format!(
            "{tried} messages, each a VALIDATION_ERROR naming the field's path; connection open"
        ),
    );
    bystander.finish("wrong types", SANITY).await;
    assert_server_fine(&server).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragmented_messages_are_reassembled_within_the_limits() -> Result<()> {
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let envelope = br#"{"event":"echo","payload":{"seq":21,"data":"fragments"}}"#;

    // Three fragments, and a ping between two of them (allowed by RFC 6455).
    let mut raw = RawWs::connect(server.addr()).await?;
    raw.recv_event("__connect__", WAIT).await?;
    raw.send_frame(false, opcode::TEXT, &envelope[..10]).await?;
    raw.send_frame(false, opcode::CONTINUATION, &envelope[10..30])
        .await?;
    raw.send_frame(true, opcode::PING, b"mid").await?;
    raw.send_frame(true, opcode::CONTINUATION, &envelope[30..])
        .await?;
    let reply = raw.recv_event("echo_reply", WAIT).await?;
    assert_eq!(reply["payload"]["seq"], 21);
    report(
        "text in 3 fragments with a ping between",
        "reassembled: echo_reply",
    );

    // One byte per fragment.
    raw.send_frame(false, opcode::BINARY, &envelope[..1])
        .await?;
    for byte in &envelope[1..envelope.len() - 1] {
        raw.send_frame(false, opcode::CONTINUATION, &[*byte])
            .await?;
    }
    raw.send_frame(true, opcode::CONTINUATION, &envelope[envelope.len() - 1..])
        .await?;
    raw.recv_event("echo_reply", WAIT).await?;
    report(
        &format!("binary message in {} one-byte fragments", envelope.len()),
        "reassembled: echo_reply",
    );

    // Fragments adding up past max_payload_size but under the hard cap.
    let body = format!(
        "{{\"event\":\"echo\",\"payload\":{{\"seq\":1,\"data\":\"{}\"}}}}",
        "f".repeat(100_000)
    );
    let chunks: Vec<&[u8]> = body.as_bytes().chunks(1024).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let op = if i == 0 {
            opcode::TEXT
        } else {
            opcode::CONTINUATION
        };
        raw.send_frame(i + 1 == chunks.len(), op, chunk).await?;
    }
    let reply = raw.recv_event("__error__", WAIT).await?;
    assert_error(&reply, "PAYLOAD_TOO_LARGE");
    raw.echo(22).await?;
    report(
        &format!(
            "{} fragments adding up to {} bytes",
            chunks.len(),
            body.len()
        ),
        "PAYLOAD_TOO_LARGE, connection open",
    );

    // Fragments that never end, past the hard cap: refused as they come.
    raw.send_frame(false, opcode::TEXT, b"{\"event\":\"echo\",\"data\":\"")
        .await?;
    let chunk = vec![b'a'; 4096];
    let mut sent = 0usize;
    let mut refused = false;
    while sent < 1024 * 1024 {
        if raw
            .send_frame(false, opcode::CONTINUATION, &chunk)
            .await
            .is_err()
        {
            refused = true;
            break;
        }
        sent += chunk.len();
    }
    let end = raw.expect_end(WAIT).await?;
    assert_eq!(end, Incoming::Close(Some(1009)), "after {sent} bytes");
    report(
        "an endless fragmented message (4 KiB continuation frames)",
        &format!(
            "close 1009 once past the 262,144-byte hard cap ({}sent {sent} bytes before the close)",
            if refused { "writes failed; " } else { "" }
        ),
    );

    // Protocol violations around fragmentation.
    let violations: [(&str, Vec<Vec<u8>>); 3] = [
        (
            "continuation frame with nothing to continue",
            vec![client_frame(true, opcode::CONTINUATION, b"x")],
        ),
        (
            "new text frame while a fragmented message is open",
            vec![
                client_frame(false, opcode::TEXT, b"{"),
                client_frame(true, opcode::TEXT, b"{}"),
            ],
        ),
        (
            "fragmented ping",
            vec![client_frame(false, opcode::PING, b"p")],
        ),
    ];
    for (what, frames) in violations {
        let mut raw = RawWs::connect(server.addr()).await?;
        raw.recv_event("__connect__", WAIT).await?;
        for frame in frames {
            raw.write_raw(&frame).await?;
        }
        assert_eq!(
            raw.expect_end(WAIT).await?,
            Incoming::Close(Some(1002)),
            "{what}"
        );
        report(what, "close 1002 (protocol error)");
    }
    bystander.finish("fragmentation", SANITY).await;
    assert_server_fine(&server).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_violations_close_with_1002() -> Result<()> {
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let unmasked = {
        let mut f = vec![0x81, 2];
        f.extend_from_slice(b"{}");
        f
    };
    let cases: [(&str, Vec<u8>, u16); 6] = [
        ("unmasked client frame", unmasked, 1002),
        (
            "reserved bit RSV1 set (no extension)",
            {
                let mut f = client_frame(true, opcode::TEXT, b"{}");
                f[0] |= 0x40;
                f
            },
            1002,
        ),
        (
            "reserved data opcode 0x3",
            client_frame(true, 0x3, b"{}"),
            1002,
        ),
        (
            "reserved control opcode 0xB",
            client_frame(true, 0xB, b""),
            1002,
        ),
        (
            "ping with a 126-byte payload (control frames hold 125 at most)",
            client_frame(true, opcode::PING, &[0u8; 126]),
            1002,
        ),
        (
            "frame header announcing 2^63-1 bytes",
            {
                let mut f = vec![0x81, 0x80 | 127];
                f.extend_from_slice(&(i64::MAX as u64).to_be_bytes());
                f.extend_from_slice(&[1, 2, 3, 4]);
                f
            },
            1009,
        ),
    ];
    for (what, bytes, code) in cases {
        let mut raw = RawWs::connect(server.addr()).await?;
        raw.recv_event("__connect__", WAIT).await?;
        raw.write_raw(&bytes).await?;
        let end = raw.expect_end(WAIT).await?;
        assert_eq!(end, Incoming::Close(Some(code)), "{what}");
        report(what, &format!("close {code}"));
    }
    // A close frame with an invalid code or a truncated body.
    for (what, body) in [
        ("close frame with a 1-byte body", vec![0x03]),
        (
            "close frame with reserved code 1005",
            1005u16.to_be_bytes().to_vec(),
        ),
        ("close frame with invalid UTF-8 reason", {
            let mut b = 1000u16.to_be_bytes().to_vec();
            b.push(0xff);
            b
        }),
    ] {
        let mut raw = RawWs::connect(server.addr()).await?;
        raw.recv_event("__connect__", WAIT).await?;
        raw.send_frame(true, opcode::CLOSE, &body).await?;
        let end = raw.expect_end(WAIT).await?;
        assert!(
            matches!(end, Incoming::Close(Some(1002 | 1007)) | Incoming::Eof),
            "{what}: {end:?}"
        );
        report(what, &format!("{end:?}"));
    }
    bystander.finish("protocol violations", SANITY).await;
    assert_server_fine(&server).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_frame_floods_are_closed_with_1008() -> Result<()> {
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let rss_before = rss_kib(server.pid()).unwrap_or(0);
    let ping = client_frame(true, opcode::PING, &[b'p'; 125]);
    let pong = client_frame(true, opcode::PONG, b"unsolicited");
    // Pings at the rate a keep-alive uses: answered, the connection open.
    let mut raw = RawWs::connect(server.addr()).await?;
    raw.recv_event("__connect__", WAIT).await?;
    for _ in 0..3 {
        raw.write_raw(&ping.repeat(20)).await?;
        raw.write_raw(&pong.repeat(20)).await?;
        raw.echo(1).await?;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    report(
        "40 control frames a second for 3 seconds",
        "answered; echo answered after each burst",
    );
    // 20,000 pings (or unsolicited pongs) in one burst: past the limit of
    // 100 control frames a second, closed with 1008.
    for (what, frame) in [("pings", &ping), ("unsolicited pongs", &pong)] {
        let mut raw = RawWs::connect(server.addr()).await?;
        raw.recv_event("__connect__", WAIT).await?;
        let started = Instant::now();
        let _ = tokio::time::timeout(WAIT, raw.write_unbounded(&frame.repeat(20_000))).await;
        let end = raw.expect_end(WAIT).await?;
        assert!(
            matches!(end, Incoming::Close(Some(1008)) | Incoming::Eof),
            "{what}: {end:?}"
        );
        report(
            &format!("20,000 {what} in one burst"),
            &format!("closed with 1008 (frame flood), {:.1?}", started.elapsed()),
        );
    }
    // Many connections flooding at once: each closed, the server fine.
    let mut floods = Vec::new();
    for _ in 0..20 {
        let addr = server.addr().to_owned();
        let ping = ping.clone();
        floods.push(tokio::spawn(async move {
            let mut raw = RawWs::connect(&addr).await?;
            raw.recv_event("__connect__", WAIT).await?;
            let _ = tokio::time::timeout(WAIT, raw.write_unbounded(&ping.repeat(10_000))).await;
            raw.expect_end(WAIT).await
        }));
    }
    for flood in floods {
        let end = flood
            .await
            .map_err(|e| socketspec_e2e::Error::Other(e.to_string()))??;
        assert!(
            matches!(end, Incoming::Close(Some(1008)) | Incoming::Eof),
            "{end:?}"
        );
    }
    let rss_after = rss_kib(server.pid()).unwrap_or(0);
    report(
        "20 connections x 10,000 pings at once",
        &format!("each closed with 1008; server RSS {rss_before} -> {rss_after} KiB"),
    );
    bystander.finish("control-frame floods", SANITY).await;
    assert_server_fine(&server).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_faster_than_it_reads_is_cut_off() -> Result<()> {
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    let rss_before = rss_kib(server.pid()).unwrap_or(0);
    // A 4 KiB receive buffer: the replies back up after a few KiB.
    let mut raw = RawWs::connect_small_buffer(server.addr(), 4096).await?;
    raw.recv_event("__connect__", WAIT).await?;
    let frame = client_frame(
        true,
        opcode::TEXT,
        br#"{"event":"echo","payload":{"seq":1,"data":"flood flood flood flood flood"}}"#,
    );
    let burst: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * 1000)
        .collect();
    let started = Instant::now();
    let mut sent = 0usize;
    // Write until the server stops reading (the write stalls) or hangs up.
    let stalled_after = loop {
        match tokio::time::timeout(Duration::from_secs(2), raw.write_unbounded(&burst)).await {
            Ok(Ok(())) => sent += 1000,
            Ok(Err(_)) => break None,
            Err(_) => break Some(started.elapsed()),
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server read 60 s of unanswered echoes without cutting the client off"
        );
    };
    // The server must end the connection in bounded time, not keep it (and
    // its loop) forever. The client still reads nothing: reading would
    // let the server go on.
    let h = wait_health(server.addr(), Duration::from_secs(30), |h| {
        h["connections"] == 1
    })
    .await?;
    let took = started.elapsed();
    assert_eq!(h["connections"], 1, "only the bystander is left: {h}");
    let m = metrics(server.addr()).await?;
    assert_eq!(
        m.get("socketspec_connections_closed_total{reason=\"slow_consumer\"}"),
        Some(&1.0),
        "closed as a slow consumer"
    );
    // What the client sees: its backlog then the end (a reset or a FIN;
    // no close frame can get through a socket that does not drain).
    let end = raw.expect_end(Duration::from_secs(30)).await?;
    assert!(
        matches!(end, Incoming::Close(Some(4008)) | Incoming::Eof),
        "ended with {end:?}"
    );
    let rss_after = rss_kib(server.pid()).unwrap_or(0);
    report(
        "a client writing echo requests without reading (4 KiB receive buffer)",
        &format!(
            "{sent} requests written until the server stopped reading ({stalled_after:.1?}); \
             dropped as a slow consumer after {took:.1?} (write stalled 10 s), the client sees {end:?}; \
             RSS {rss_before} -> {rss_after} KiB"
        ),
    );
    bystander.finish("faster than it reads", SANITY).await;
    assert_server_fine(&server).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_upgrades_do_not_hold_the_server() -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = ChatServer::start(&[]);
    let bystander = Bystander::start(&server.ws_url()).await?;
    // 200 connections that send half an upgrade request and stall.
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut tcp = tokio::net::TcpStream::connect(server.addr()).await?;
        tcp.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: webs")
            .await?;
        stalled.push(tcp);
    }
    let (mut client, _) = Client::connect_ready(&server.ws_url()).await?;
    client.assert_alive().await?;
    let h = health(server.addr()).await?;
    assert_eq!(
        h["connections"], 2,
        "half-upgraded sockets are not connections: {h}"
    );
    // The handshake timeout (10 s) drops them.
    let started = Instant::now();
    for tcp in &mut stalled {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(20), tcp.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "a half-upgraded socket was kept for 20 s");
    }
    report(
        "200 sockets sending half an upgrade request",
        &format!(
            "not counted as connections; others connect and are served meanwhile; \
             all dropped by the 10 s handshake timeout (the last {:.1?} after the check)",
            started.elapsed()
        ),
    );
    drop(stalled);
    bystander.finish("slow upgrades", SANITY).await;
    assert_server_fine(&server).await
}
