//! Tiny-size smoke runs: every mode against the chat server and the raw
//! floor, checking the runs complete with the right counts. No timing is
//! asserted: this proves the instruments work, the numbers come from
//! `socketspec-bench suite` in a release build (docs/benchmarks.md).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use socketspec_bench::process::ServerProcess;

const BENCH: &str = env!("CARGO_BIN_EXE_socketspec-bench");
const FLOOR: &str = env!("CARGO_BIN_EXE_raw-floor");

/// The debug `chat-server`, built once (a no-op when scripts/test.sh or an
/// earlier test already built it).
fn chat_server() -> Result<PathBuf> {
    Ok(socketspec_e2e::chat_server_binary()?)
}

fn run_bench(args: &[&str]) -> Result<Output> {
    let output = Command::new(BENCH)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running socketspec-bench")?;
    Ok(output)
}

fn succeed(args: &[&str]) -> Result<String> {
    let output = run_bench(args)?;
    if !output.status.success() {
        bail!(
            "socketspec-bench {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn u64_at(value: &Value, pointer: &str) -> Result<u64> {
    value
        .pointer(pointer)
        .and_then(Value::as_u64)
        .with_context(|| format!("no integer at {pointer} in {value}"))
}

#[test]
fn suite_runs_every_mode_against_both_servers() -> Result<()> {
    let chat = chat_server()?;
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("suite.json");
    let chat_cmd = format!(
        "{} --bind 127.0.0.1:0 --heartbeat-interval 0 --idle-timeout 0 --max-duration 0 --shutdown-grace 1",
        chat.display()
    );
    let floor_cmd = format!("{FLOOR} --bind 127.0.0.1:0");
    let json_arg = json.display().to_string();
    let table = succeed(&[
        "suite",
        "--chat-cmd",
        &chat_cmd,
        "--floor-cmd",
        &floor_cmd,
        "--rtt-connections",
        "4",
        "--rtt-window",
        "2",
        "--rtt-messages",
        "20",
        "--fanout-members",
        "4",
        "--fanout-messages",
        "20",
        "--idle-connections",
        "4",
        "--idle-settle",
        "0.2",
        "--churn-cycles",
        "20",
        "--churn-concurrency",
        "2",
        "--json",
        &json_arg,
    ])?;
    ensure!(table.contains("| metric |"), "no table printed:\n{table}");
    ensure!(table.contains("rtt 4×2: events/s"), "no rtt row:\n{table}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
    for server in ["chat", "floor"] {
        let at = |p: &str| u64_at(&report, &format!("/{server}{p}"));
        ensure!(at("/rtt/0/events")? == 4 * 20, "{server}: rtt events");
        ensure!(at("/rtt/0/rtt/count")? == 4 * 20, "{server}: rtt samples");
        ensure!(
            at("/fanout/0/deliveries")? == 4 * 20,
            "{server}: fanout deliveries"
        );
        ensure!(
            at("/fanout/0/last_member/count")? == 20,
            "{server}: fanout messages"
        );
        ensure!(
            at("/fanout/0/user_joined_frames")? == 4 * 3 / 2,
            "{server}: user_joined"
        );
        ensure!(
            at("/idle/0/connections")? == 4,
            "{server}: idle connections"
        );
        ensure!(at("/idle/0/rss_held_kib")? > 0, "{server}: idle RSS");
        ensure!(at("/churn/0/cycles")? == 20, "{server}: churn cycles");
        ensure!(
            at("/churn/0/members_after")? == 1,
            "{server}: churn left members behind"
        );
        ensure!(at("/churn/0/rss_end_kib")? > 0, "{server}: churn RSS");
    }
    // The chat server reports its connections and rooms: all gone.
    ensure!(u64_at(&report, "/chat/churn/0/health_connections_after")? == 0);
    ensure!(u64_at(&report, "/chat/churn/0/health_rooms_after")? == 0);
    Ok(())
}

fn chat_cmd(extra: &str) -> Result<String> {
    Ok(format!(
        "{} --bind 127.0.0.1:0 --heartbeat-interval 0 --idle-timeout 0 --max-duration 0 --shutdown-grace 1 {extra}",
        chat_server()?.display()
    ))
}

#[test]
fn suite_runs_variants_of_the_chat_server() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("suite.json");
    let json_arg = json.display().to_string();
    let floor_cmd = format!("{FLOOR} --bind 127.0.0.1:0");
    let table = succeed(&[
        "suite",
        "--chat-cmd",
        &chat_cmd("")?,
        "--variant",
        "resume=--resume-window 5",
        "--floor-cmd",
        &floor_cmd,
        "--modes",
        "rtt,fanout",
        "--rtt-connections",
        "2",
        "--rtt-window",
        "2",
        "--rtt-messages",
        "10",
        "--fanout-members",
        "3",
        "--fanout-messages",
        "5",
        "--json",
        &json_arg,
    ])?;
    ensure!(
        table.contains("| socketspec chat | resume | resume / chat | raw floor |"),
        "no variant column:\n{table}"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
    ensure!(
        report.pointer("/variants/0/variant/name") == Some(&Value::from("resume")),
        "{report}"
    );
    for server in ["/chat", "/variants/0/runs", "/floor"] {
        let at = |p: &str| u64_at(&report, &format!("{server}{p}"));
        ensure!(at("/rtt/0/events")? == 2 * 10, "{server}: rtt events");
        ensure!(
            at("/fanout/0/deliveries")? == 3 * 5,
            "{server}: fanout deliveries"
        );
    }
    Ok(())
}

#[test]
fn detached_sessions_stay_in_their_room_only_with_resumption_on() -> Result<()> {
    let detached = |cmd: String, extra: &[&str]| -> Result<Value> {
        let mut args = vec![
            "detached",
            "--server-cmd",
            &cmd,
            "--connections",
            "4",
            "--messages",
            "10",
            "--settle",
            "0.1",
        ];
        args.extend_from_slice(extra);
        Ok(serde_json::from_str(&succeed(&args)?)?)
    };
    // On: the dropped sessions are kept, members of the room, and end
    // when the window passes.
    let on = detached(chat_cmd("--resume-window 4")?, &["--expiry-wait", "4.5"])?;
    ensure!(u64_at(&on, "/sessions_in_room")? == 4, "on: {on}");
    ensure!(
        u64_at(&on, "/health_connections_after_drop")? == 0,
        "on: {on}"
    );
    ensure!(u64_at(&on, "/members_after_expiry")? == 1, "on: {on}");
    ensure!(u64_at(&on, "/health_after_expiry/0")? == 0, "on: {on}");
    // Off: the sessions end at the drop.
    let off = detached(chat_cmd("")?, &[])?;
    ensure!(u64_at(&off, "/sessions_in_room")? == 0, "off: {off}");
    // Kept connected: every member reads every message (the preload's are
    // not counted).
    let kept = detached(
        chat_cmd("--resume-window 4")?,
        &["--keep", "--preload", "3"],
    )?;
    ensure!(u64_at(&kept, "/deliveries")? == 4 * 10, "kept: {kept}");
    ensure!(u64_at(&kept, "/sessions_in_room")? == 4, "kept: {kept}");
    // The set-up's flood, then the sender's join.
    ensure!(
        u64_at(&kept, "/user_joined_frames")? == 4 * 3 / 2 + 4,
        "kept: {kept}"
    );
    Ok(())
}

#[test]
fn single_modes_run_against_a_url() -> Result<()> {
    let floor = ServerProcess::start(&format!("{FLOOR} --bind 127.0.0.1:0"))?;
    let url = floor.url().to_owned();
    let pid = floor.pid().to_string();

    let out = succeed(&[
        "rtt",
        "--url",
        &url,
        "--connections",
        "2",
        "--window",
        "3",
        "--messages",
        "10",
    ])?;
    let rtt: Value = serde_json::from_str(&out)?;
    ensure!(u64_at(&rtt, "/events")? == 20, "rtt: {rtt}");

    let out = succeed(&[
        "fanout",
        "--url",
        &url,
        "--members",
        "3",
        "--messages",
        "5",
        "--window",
        "2",
    ])?;
    let fanout: Value = serde_json::from_str(&out)?;
    ensure!(u64_at(&fanout, "/deliveries")? == 15, "fanout: {fanout}");

    let out = succeed(&[
        "idle",
        "--url",
        &url,
        "--server-pid",
        &pid,
        "--connections",
        "3",
        "--settle",
        "0.1",
    ])?;
    let idle: Value = serde_json::from_str(&out)?;
    ensure!(u64_at(&idle, "/connections")? == 3, "idle: {idle}");

    let out = succeed(&[
        "churn",
        "--url",
        &url,
        "--cycles",
        "6",
        "--concurrency",
        "3",
    ])?;
    let churn: Value = serde_json::from_str(&out)?;
    ensure!(u64_at(&churn, "/leftover_members")? == 0, "churn: {churn}");

    // Memory needs the server's pid.
    let refused = run_bench(&["idle", "--url", &url, "--connections", "1"])?;
    ensure!(!refused.status.success());
    ensure!(String::from_utf8_lossy(&refused.stderr).contains("--server-pid"));
    ensure!(floor.stop(), "the floor did not exit on SIGTERM");
    Ok(())
}

#[test]
fn a_server_that_never_listens_is_reported() -> Result<()> {
    let output = run_bench(&[
        "rtt",
        "--server-cmd",
        "echo not a server",
        "--messages",
        "1",
    ])?;
    ensure!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(stderr.contains("listening on"), "{stderr}");
    Ok(())
}
