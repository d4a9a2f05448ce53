//! The generated TypeScript client: written from `spec/chat.json` through
//! `Builder::typescript_out`, type-checked with `tsc --strict`, and run with
//! Node against real chat servers (`tests/ts/chat_test.ts`), together with the
//! example program `examples/chat/ts/example.ts`.
//!
//! Needs Node.js 20 or later and npm. TypeScript comes from
//! `tests/ts/package-lock.json`: `scripts/test.sh` installs it into
//! `tests/ts/node_modules`, and these tests run `npm ci` there themselves
//! when it is missing. Without Node or npm they fail and say what to install.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use serde_json::json;
use socketspec_e2e::proxy::TcpProxy;
use socketspec_e2e::wait::{child_exit, eventually_blocking};
use socketspec_e2e::{ChatServer, Signal, mint_jwt, workspace_root};

const SECRET: &str = "ts-client-secret";

/// How long the Node test program may run in all.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// What a failing test tells the developer to install.
const INSTALL_HINT: &str = "the TypeScript client tests need Node.js 20 or later and npm \
     (e.g. `apt-get install nodejs npm`, or https://nodejs.org), then `npm ci --prefix tests/ts`";

/// Every check `chat_test.ts` must report as `ok - NAME`.
const CHECKS: &[&str] = &[
    "connect resolves after __connect__",
    "join_room replies room_joined and broadcasts user_joined to the others",
    "send_message replies message_ack and broadcasts new_message",
    "leave_room replies room_left and stops broadcasts",
    "echo replies echo_reply",
    "slow_echo replies echo_reply in request order",
    "whoami replies identity",
    "join_admin replies room_joined for role admin",
    "fail resolves once sent; its HANDLER_ERROR reaches __error__ listeners",
    "100 requests in flight on one connection, each matched to its reply",
    "VALIDATION_ERROR rejects with SocketspecError",
    "UNKNOWN_EVENT rejects a raw request",
    "ROOM_NOT_FOUND rejects with details.room",
    "PERMISSION_ERROR rejects a guarded join",
    "HANDLER_ERROR rejects a raw request; the connection stays open",
    "RATE_LIMIT_ERROR rejects requests past the limit",
    "AUTH_ERROR rejects connect with a bad or missing token",
    "refreshAuth resolves with expires_in; refusals reject with AUTH_ERROR",
    "a request without a reply in time rejects with TIMEOUT",
    "__pong__ is sent automatically: the connection outlives the heartbeat timeout",
    "works with the ws package's WebSocket",
    "close() rejects pending requests and closes for good",
    "reconnects after the server restarts",
    "pushed events (welcome, tick, direct_message) arrive typed",
    "resumes after a connection lost without a close frame: nothing lost, nothing twice, replies kept",
    "a resume the server cannot honour (it restarted) gives a fresh session and rejects pending requests",
];

// ---------------------------------------------------------------------------
// Node, npm and tsc
// ---------------------------------------------------------------------------

fn ts_dir() -> PathBuf {
    workspace_root().join("tests").join("ts")
}

/// `tsc`'s JavaScript entry point; `npm ci` installs `tests/ts/node_modules`
/// first (once per test binary) when it is missing or older than the lock file.
///
/// # Panics
/// Without Node.js 20+ or npm, or when `npm ci` fails, with what to install.
fn tsc() -> &'static Path {
    static TSC: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match TSC.get_or_init(install_typescript) {
        Ok(path) => path,
        Err(why) => panic!("{why}"),
    }
}

fn install_typescript() -> Result<PathBuf, String> {
    let version = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run `node` ({e}): {INSTALL_HINT}"))?;
    let text = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let major = text
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .ok_or_else(|| format!("`node --version` printed {text:?}: {INSTALL_HINT}"))?;
    if major < 20 {
        return Err(format!("found Node.js {text}: {INSTALL_HINT}"));
    }
    let tsc = ts_dir()
        .join("node_modules")
        .join("typescript")
        .join("bin")
        .join("tsc");
    // npm writes node_modules/.package-lock.json on every install: older than
    // the lock file (or missing) means tests/ts/node_modules is stale.
    let modified = |path: PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let lock = modified(ts_dir().join("package-lock.json"));
    let installed = modified(ts_dir().join("node_modules").join(".package-lock.json"));
    if tsc.is_file() && installed.is_some() && installed >= lock {
        return Ok(tsc);
    }
    let npm = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(ts_dir())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `npm` ({e}): {INSTALL_HINT}"))?;
    if !npm.status.success() || !tsc.is_file() {
        return Err(format!(
            "`npm ci --prefix tests/ts` failed ({}):\n{}\n{}\n{INSTALL_HINT}",
            npm.status,
            String::from_utf8_lossy(&npm.stdout),
            String::from_utf8_lossy(&npm.stderr)
        ));
    }
    Ok(tsc)
}

/// Runs `tsc` in `dir` with `args`.
fn run_tsc(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new("node")
        .arg(tsc())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(output) => output,
        Err(e) => panic!("cannot run node {}: {e}; {INSTALL_HINT}", tsc().display()),
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `tsc` options for the Node programs: ES2020 and CommonJS, with the types
/// of `tests/ts/node_modules/@types` (Node's and `ws`'s).
fn node_program_options() -> Vec<String> {
    [
        "--strict", "--target", "ES2020", "--lib", "ES2020", "--module", "commonjs",
    ]
    .map(str::to_owned)
    .to_vec()
}

// ---------------------------------------------------------------------------
// Generating the client
// ---------------------------------------------------------------------------

/// A temporary directory holding the generated `chat.ts` next to copies of
/// the test programs and the example, which import it as `./chat`. It lies
/// under `tests/ts/generated/` (git-ignored), so that tsc and node find the
/// packages of `tests/ts/node_modules`.
fn generated_client() -> tempfile::TempDir {
    tsc();
    let parent = ts_dir().join("generated");
    let dir = std::fs::create_dir_all(&parent)
        .and_then(|()| tempfile::Builder::new().prefix("run-").tempdir_in(&parent));
    let dir = match dir {
        Ok(dir) => dir,
        Err(e) => panic!("cannot create a directory in {}: {e}", parent.display()),
    };
    let spec = workspace_root().join("spec").join("chat.json");
    let ts_file = dir.path().join("chat.ts");
    let built = socketspec_codegen::Builder::new()
        .emit_rerun_if_changed(false)
        .out_dir(dir.path().join("rust"))
        .typescript_out(&ts_file)
        .compile(&spec);
    if let Err(e) = built {
        panic!("generating the chat client failed: {e}");
    }
    assert!(
        ts_file.is_file(),
        "Builder::typescript_out wrote no {}",
        ts_file.display()
    );
    for source in [
        ts_dir().join("chat_test.ts"),
        ts_dir().join("wrong_payload.ts"),
        workspace_root()
            .join("examples")
            .join("chat")
            .join("ts")
            .join("example.ts"),
    ] {
        let Some(name) = source.file_name() else {
            panic!("{} has no file name", source.display());
        };
        if let Err(e) = std::fs::copy(&source, dir.path().join(name)) {
            panic!("cannot copy {}: {e}", source.display());
        }
    }
    dir
}

/// Type-checks `sources` (in `dir`) with `tsc --strict` and compiles them to
/// JavaScript in `dir/js`.
fn compile_to_js(dir: &Path, sources: &[&str]) {
    let mut args = node_program_options();
    args.extend(["--outDir".to_owned(), "js".to_owned()]);
    args.extend(sources.iter().map(|s| (*s).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run_tsc(dir, &args);
    assert!(
        output.status.success(),
        "tsc {sources:?} failed:\n{}",
        text(&output)
    );
}

// ---------------------------------------------------------------------------
// Type checks
// ---------------------------------------------------------------------------

#[test]
fn the_generated_client_type_checks_strictly_without_dom_or_node_types() {
    let dir = generated_client();
    let no_types = dir.path().join("no-types");
    if let Err(e) = std::fs::create_dir(&no_types) {
        panic!("cannot create {}: {e}", no_types.display());
    }
    let no_types = no_types.display().to_string();
    let strictest = [
        "--strict",
        "--noEmit",
        "--target",
        "ES2020",
        "--lib",
        "ES2020",
        "--typeRoots",
        &no_types,
        "--exactOptionalPropertyTypes",
        "--noUncheckedIndexedAccess",
        "--noImplicitOverride",
        "--noImplicitReturns",
        "--noUnusedLocals",
        "--noUnusedParameters",
        "--noPropertyAccessFromIndexSignature",
        "--noFallthroughCasesInSwitch",
        "chat.ts",
    ];
    let output = run_tsc(dir.path(), &strictest);
    assert!(
        output.status.success(),
        "the generated client fails tsc without DOM or Node types:\n{}",
        text(&output)
    );
    // As a browser project compiles it: the DOM's WebSocket must fit its options.
    let browser_check = "import { Client } from \"./chat\";\n\
        export const connect = (url: string) => Client.connect(url, { WebSocket });\n";
    if let Err(e) = std::fs::write(dir.path().join("browser.ts"), browser_check) {
        panic!("cannot write browser.ts: {e}");
    }
    let output = run_tsc(
        dir.path(),
        &[
            "--strict",
            "--noEmit",
            "--target",
            "ES2020",
            "--lib",
            "ES2020,DOM",
            "--typeRoots",
            &no_types,
            "browser.ts",
        ],
    );
    assert!(
        output.status.success(),
        "the generated client fails tsc with the DOM library:\n{}",
        text(&output)
    );
}

/// The fenced blocks of TypeScript (```ts, ```typescript) in `markdown`.
fn typescript_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match current.as_mut() {
            Some(block) if line.starts_with("```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None if matches!(line.trim_end(), "```ts" | "```typescript") => {
                current = Some(String::new());
            }
            None => {}
        }
    }
    blocks
}

/// Every TypeScript snippet of the README and docs/ type-checks with
/// `tsc --strict` against the chat spec's generated client (the names a
/// snippet takes as given, `token` and `console`, are declared for it).
#[test]
fn every_typescript_snippet_in_the_docs_type_checks() {
    let root = workspace_root();
    let mut pages = vec![root.join("README.md")];
    let docs = std::fs::read_dir(root.join("docs")).unwrap_or_else(|e| panic!("docs/: {e}"));
    pages.extend(
        docs.filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "md")),
    );
    pages.sort();
    let dir = generated_client();
    // No ambient types (Node's, the DOM's): a snippet must not lean on them.
    let no_types = dir.path().join("no-types");
    if let Err(e) = std::fs::create_dir(&no_types) {
        panic!("cannot create {}: {e}", no_types.display());
    }
    let no_types = no_types.display().to_string();
    let mut checked = Vec::new();
    for page in &pages {
        let markdown = std::fs::read_to_string(page).unwrap_or_default();
        for (index, block) in typescript_blocks(&markdown).into_iter().enumerate() {
            let stem = page
                .file_stem()
                .map(|s| s.to_string_lossy().replace('-', "_"));
            let name = format!("snippet_{}_{index}.ts", stem.unwrap_or_default());
            let preamble = "declare const token: string;\n\
                declare const console: { log(...values: unknown[]): void };\n";
            let source = format!("{preamble}{block}export {{}};\n");
            if let Err(e) = std::fs::write(dir.path().join(&name), source) {
                panic!("cannot write {name}: {e}");
            }
            checked.push((name, page.display().to_string()));
        }
    }
    assert!(
        checked
            .iter()
            .any(|(_, page)| page.ends_with("typescript-client.md")),
        "docs/typescript-client.md has no ```ts snippet any more: {checked:?}"
    );
    for (name, page) in &checked {
        let output = run_tsc(
            dir.path(),
            &[
                "--strict",
                "--noEmit",
                "--target",
                "ES2022",
                "--module",
                "ES2022",
                "--lib",
                "ES2022",
                "--typeRoots",
                &no_types,
                name,
            ],
        );
        assert!(
            output.status.success(),
            "a TypeScript snippet of {page} ({name}) fails tsc --strict:\n{}",
            text(&output)
        );
    }
}

#[test]
fn a_wrong_payload_type_fails_tsc_with_the_expected_diagnostics() {
    let dir = generated_client();
    let mut args = node_program_options();
    args.extend(["--noEmit", "wrong_payload.ts"].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run_tsc(dir.path(), &args);
    let diagnostics = text(&output);
    assert!(
        !output.status.success(),
        "tsc accepted wrong_payload.ts:\n{diagnostics}"
    );
    let expected = [
        "wrong_payload.ts(7,30): error TS2322: Type 'number' is not assignable to type 'string'.",
        "wrong_payload.ts(9,13): error TS2345: Argument of type '\"new_mesage\"' is not assignable to parameter of type 'keyof ServerEvents'.",
        "wrong_payload.ts(11,9): error TS2322: Type 'string' is not assignable to type 'number'.",
    ];
    for line in expected {
        assert!(
            diagnostics.lines().any(|l| l.trim() == line),
            "missing diagnostic {line:?} in:\n{diagnostics}"
        );
    }
    let errors = diagnostics.matches("error TS").count();
    assert_eq!(
        errors,
        expected.len(),
        "unexpected diagnostics:\n{diagnostics}"
    );
}

/// A spec using what chat.json does not: several emits, a `$ref` payload, a
/// method name the client itself takes, quoted keys, unions, tuples,
/// intersections, maps, comment terminators in descriptions.
const EXOTIC_SPEC: &str = r##"{
  "socketspec": "1",
  "info": {"title": "Exotic */ title", "version": "2", "description": "Line one\nline */ two"},
  "$defs": {
    "Point": {"type": "object", "required": ["x", "y"], "description": "A point. */",
              "properties": {"x": {"type": "number"}, "y": {"type": "number"}}},
    "Shape": {"oneOf": [{"$ref": "#/$defs/Point"}, {"type": "array", "items": {"$ref": "#/$defs/Point"}}]},
    "Tag": {"type": "string", "enum": ["a", "b-c", "it's"]},
    "Maybe": {"type": ["string", "null"]}
  },
  "rooms": {"board": {"static": true}},
  "events": {
    "close": {"payload": {"type": "object", "properties": {}}},
    "draw.shape": {
      "payload": {
        "type": "object",
        "required": ["shape", "first-name"],
        "properties": {
          "shape": {"$ref": "#/$defs/Shape"},
          "first-name": {"type": "string"},
          "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "uniqueItems": true},
          "meta": {"type": "object", "additionalProperties": {"type": "integer"}},
          "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false},
          "both": {"allOf": [{"$ref": "#/$defs/Point"}, {"type": "object", "properties": {"z": {"type": "number"}}}]},
          "maybe": {"$ref": "#/$defs/Maybe"}
        }
      },
      "emits": {
        "drawn": {"payload": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}},
        "rejected": {"payload": {"type": "object", "properties": {"why": {"type": "string"}}}}
      },
      "broadcasts": {
        "shape_drawn": {"room": "board", "payload": {"type": "object", "properties": {"shape": {"$ref": "#/$defs/Shape"}}}}
      }
    },
    "legacy": {"deprecated": true, "payload": {"$ref": "#/$defs/Point"},
               "emits": {"done": {"payload": {"type": "object", "properties": {}}}}}
  }
}"##;

/// Uses the exotic client; compiles only when its types are right.
const EXOTIC_USE: &str = r#"import { Client, DrawShapeReply, Shape, Tag } from "./exotic";

export async function use(client: Client): Promise<void> {
  const tags: Tag[] = ["a", "b-c", "it's"];
  const reply: DrawShapeReply = await client.drawShape({
    shape: [{ x: 1, y: 2 }],
    "first-name": "n",
    tags,
    meta: { count: 1 },
    pair: ["a", 1],
    both: { x: 0, y: 0, z: 1 },
    maybe: null,
  });
  if (reply.event === "drawn") {
    const id: string = reply.payload.id;
    void id;
  } else {
    const why: string | undefined = reply.payload.why;
    void why;
  }
  await client.emitClose();
  client.on("shape_drawn", (payload) => {
    const shape: Shape | undefined = payload.shape;
    void shape;
  });
  const done: Record<string, unknown> = await client.legacy({ x: 0, y: 0 });
  void done;
}
"#;

#[test]
fn an_exotic_spec_generates_valid_typescript() {
    let dir = generated_client();
    let spec = dir.path().join("exotic.json");
    let written = std::fs::write(&spec, EXOTIC_SPEC)
        .and_then(|()| std::fs::write(dir.path().join("use.ts"), EXOTIC_USE));
    if let Err(e) = written {
        panic!("cannot write the exotic spec: {e}");
    }
    let model = match socketspec_codegen::check(&spec) {
        Ok(model) => model,
        Err(e) => panic!("the exotic spec is invalid: {e}"),
    };
    let ts = match model.typescript() {
        Ok(ts) => ts,
        Err(e) => panic!("rendering the exotic spec failed: {e}"),
    };
    if let Err(e) = std::fs::write(dir.path().join("exotic.ts"), &ts) {
        panic!("cannot write exotic.ts: {e}");
    }
    let mut args = node_program_options();
    args.extend(
        [
            "--noEmit",
            "--exactOptionalPropertyTypes",
            "--noUncheckedIndexedAccess",
            "--noUnusedLocals",
            "--noUnusedParameters",
            "use.ts",
        ]
        .map(str::to_owned),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run_tsc(dir.path(), &args);
    assert!(
        output.status.success(),
        "tsc rejects the client generated from the exotic spec:\n{}\n--- exotic.ts ---\n{ts}",
        text(&output)
    );
}

// ---------------------------------------------------------------------------
// Against the chat server
// ---------------------------------------------------------------------------

/// A Node process with its stdout delivered line by line.
struct NodeRun {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl NodeRun {
    fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> NodeRun {
        let mut command = Command::new("node");
        command
            .arg("--experimental-websocket")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => panic!("cannot run node: {e}; {INSTALL_HINT}"),
        };
        let (tx, lines) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut stderr_pipe = child.stderr.take();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(pipe) = stderr_pipe.as_mut() {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        });
        NodeRun {
            child,
            lines,
            stderr: Some(stderr),
        }
    }

    /// Sends one line to the program's stdin.
    fn tell(&mut self, line: &str) {
        if let Some(stdin) = self.child.stdin.as_mut() {
            let _ = writeln!(stdin, "{line}");
            let _ = stdin.flush();
        }
    }

    /// Reads stdout until the program exits (killing it after `timeout`),
    /// calling `on_line` for every line; returns the exit status, the
    /// transcript and stderr.
    fn finish(
        mut self,
        timeout: Duration,
        mut on_line: impl FnMut(&mut NodeRun, &str),
    ) -> (Option<ExitStatus>, String, String) {
        let deadline = Instant::now() + timeout;
        let mut transcript = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    println!("node: {line}");
                    transcript.push_str(&line);
                    transcript.push('\n');
                    on_line(&mut self, &line);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    transcript.push_str(&format!("(killed after {timeout:?})\n"));
                    let _ = self.child.kill();
                    break;
                }
            }
        }
        let status = wait_with_timeout(&mut self.child, Duration::from_secs(10));
        let stderr = self
            .stderr
            .take()
            .and_then(|thread| thread.join().ok())
            .unwrap_or_default();
        (status, transcript, stderr)
    }
}

impl Drop for NodeRun {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    match child_exit(child, timeout, "node to exit") {
        Ok(status) => Some(status),
        Err(_) => {
            let _ = child.kill();
            child.wait().ok()
        }
    }
}

/// A proxy in front of `server`, whose connections a test can cut.
fn proxy_to(server: &ChatServer) -> TcpProxy {
    match TcpProxy::start(server.addr()) {
        Ok(proxy) => proxy,
        Err(e) => panic!("starting a proxy to {}: {e}", server.addr()),
    }
}

fn token(sub: &str, role: Option<&str>, expires_in: i64) -> String {
    match mint_jwt(SECRET, sub, role, expires_in) {
        Ok(token) => token,
        Err(e) => panic!("minting a test token: {e}"),
    }
}

/// Stops `server` with `signal` and starts a new one on the same address.
/// SIGTERM must end it cleanly; SIGKILL ends it with no closing handshake
/// (and no session kept).
fn restart(server: &mut ChatServer, args: &[&str], signal: Signal) -> Result<(), String> {
    let addr = server.addr().to_owned();
    let status = server
        .stop_blocking(signal)
        .map_err(|e| format!("stopping the server: {e}"))?;
    if signal == Signal::TERM && !status.success() {
        return Err(format!("the stopped server exited with {status}"));
    }
    // The port is free once the process is gone; retry briefly in case the
    // kernel has not released it yet.
    let mut last = None;
    let what = format!("restarting on {addr}");
    let new = eventually_blocking(
        Duration::from_secs(5),
        &what,
        || match ChatServer::try_start_on(&addr, args) {
            Ok(new) => Ok(Some(new)),
            Err(e) => {
                last = Some(e);
                Ok(None)
            }
        },
    )
    .map_err(|e| format!("{e}; last attempt: {last:?}"))?;
    *server = new;
    Ok(())
}

#[test]
fn the_client_speaks_the_protocol_against_the_chat_server() {
    let dir = generated_client();
    compile_to_js(dir.path(), &["chat_test.ts"]);

    let chat = ChatServer::start(&[]);
    let auth = ChatServer::start(&["--jwt-secret", SECRET]);
    let rate = ChatServer::start(&["--rate-limit", "5/1"]);
    let heartbeat =
        ChatServer::start(&["--heartbeat-interval", "0.2", "--heartbeat-timeout", "0.3"]);
    let push = ChatServer::start(&["--welcome", "--tick-interval", "50"]);
    let restart_args = ["--shutdown-grace", "0.3"];
    let mut restarted = ChatServer::start(&restart_args);
    // Resumption on, behind proxies: one whose connections are cut, one
    // whose server is killed and restarted.
    let resumable = ChatServer::start(&["--resume-window", "30", "--tick-interval", "50"]);
    let resume_proxy = proxy_to(&resumable);
    let resume_restart_args = ["--resume-window", "30"];
    let mut resume_restarted = ChatServer::start(&resume_restart_args);
    let resume_restart_proxy = proxy_to(&resume_restarted);
    let forged = match mint_jwt("another-secret", "alice", None, 600) {
        Ok(token) => token,
        Err(e) => panic!("minting a test token: {e}"),
    };
    let config = json!({
        "chat": chat.ws_url(),
        "auth": auth.ws_url(),
        "rate": rate.ws_url(),
        "heartbeat": heartbeat.ws_url(),
        "restart": restarted.ws_url(),
        "push": push.ws_url(),
        "resume": resume_proxy.ws_url(),
        "resumeRestart": resume_restart_proxy.ws_url(),
        "tokens": {
            "alice": token("alice", None, 600),
            "aliceAgain": token("alice", None, 599),
            "aliceShort": token("alice", None, 62),
            "bob": token("bob", None, 600),
            "admin": token("root", Some("admin"), 600),
            "forged": forged,
        },
    })
    .to_string();

    let run = NodeRun::spawn(
        dir.path(),
        &["js/chat_test.js"],
        &[("SOCKETSPEC_TS_TEST", &config)],
    );
    let mut restart_error = None;
    let (status, transcript, stderr) = run.finish(RUN_TIMEOUT, |run, line| {
        let restart_result = match line {
            "@@restart" => restart(&mut restarted, &restart_args, Signal::TERM),
            "@@kill-restart" => restart(&mut resume_restarted, &resume_restart_args, Signal::KILL),
            "@@cut" => {
                resume_proxy.cut();
                run.tell("cut");
                return;
            }
            _ => return,
        };
        match restart_result {
            Ok(()) => run.tell("restarted"),
            Err(e) => {
                run.tell("restart failed");
                restart_error = Some(e);
            }
        }
    });
    let report = format!(
        "--- node output ---\n{transcript}--- node stderr ---\n{stderr}--- restarted server stderr ---\n{}\
         --- resumable server stderr ---\n{}--- killed and restarted server stderr ---\n{}",
        restarted.stderr(),
        resumable.stderr(),
        resume_restarted.stderr()
    );
    assert_eq!(restart_error, None, "{report}");
    assert!(
        status.is_some_and(|s| s.success()),
        "the TypeScript client test program failed ({status:?}):\n{report}"
    );
    assert!(
        !transcript.lines().any(|l| l.starts_with("not ok")),
        "{report}"
    );
    for name in CHECKS {
        assert!(
            transcript.lines().any(|l| l == format!("ok - {name}")),
            "check {name:?} did not pass:\n{report}"
        );
    }
    let ok_lines = transcript
        .lines()
        .filter(|l| l.starts_with("ok - "))
        .count();
    assert_eq!(
        ok_lines,
        CHECKS.len(),
        "a check is missing from CHECKS:\n{report}"
    );
}

#[test]
fn the_example_exchanges_typed_messages() {
    let dir = generated_client();
    compile_to_js(dir.path(), &["example.ts"]);
    let server = ChatServer::start(&[]);
    let url = server.ws_url();
    let run = NodeRun::spawn(dir.path(), &["js/example.js", &url], &[]);
    let (status, transcript, stderr) = run.finish(Duration::from_secs(30), |_, _| {});
    let report = format!("--- output ---\n{transcript}--- stderr ---\n{stderr}");
    assert!(
        status.is_some_and(|s| s.success()),
        "the example failed ({status:?}):\n{report}"
    );
    let lines: Vec<&str> = transcript.lines().collect();
    assert_eq!(lines.len(), 3, "{report}");
    assert_eq!(lines[0], "bob joined general: 2 members", "{report}");
    assert!(
        lines[1].starts_with("alice sent message ") && lines[1].ends_with(": ok"),
        "{report}"
    );
    assert_eq!(
        lines[2], "bob received \"hello, bob\" from alice in general",
        "{report}"
    );
}

/// The commands in `examples/chat/ts/example.ts`'s header, run as written
/// (from a copy of the repository's layout, so nothing is written into the
/// source tree), against a real server.
#[test]
fn the_example_builds_and_runs_with_the_commands_it_documents() {
    let root = socketspec_e2e::workspace_root();
    let example = root.join("examples/chat/ts/example.ts");
    let header = std::fs::read_to_string(&example).unwrap_or_default();
    let commands: Vec<&str> = header
        .lines()
        .take_while(|l| l.starts_with("//"))
        .filter_map(|l| l.strip_prefix("//   "))
        .collect();
    assert_eq!(
        commands.len(),
        3,
        "example.ts documents its three commands: {commands:?}"
    );

    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary directory: {e}"));
    let at = |rel: &str| tmp.path().join(rel);
    for dir in ["spec", "examples/chat/ts", "tests/ts", "target/debug"] {
        std::fs::create_dir_all(at(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"));
    }
    let copy = |rel: &str| {
        std::fs::copy(root.join(rel), at(rel)).unwrap_or_else(|e| panic!("copying {rel}: {e}"));
    };
    copy("spec/chat.json");
    copy("examples/chat/ts/example.ts");
    let link = |from: std::path::PathBuf, rel: &str| {
        std::os::unix::fs::symlink(&from, at(rel))
            .unwrap_or_else(|e| panic!("linking {}: {e}", from.display()));
    };
    let _ = tsc(); // installs tests/ts's packages when missing
    link(ts_dir().join("node_modules"), "tests/ts/node_modules");
    let cli = socketspec_e2e::target_dir().join("debug/socketspec");
    assert!(
        cli.is_file(),
        "{} is missing: `cargo build -p socketspec-cli`",
        cli.display()
    );
    link(cli, "target/debug/socketspec");

    let server = ChatServer::start(&[]);
    for command in commands {
        let command = command.replace("ws://127.0.0.1:8080/ws", &server.ws_url());
        let output = Command::new("sh")
            .args(["-c", &command])
            .current_dir(tmp.path())
            .output()
            .unwrap_or_else(|e| panic!("running `{command}`: {e}"));
        assert!(
            output.status.success(),
            "`{command}` failed:\n{}",
            text(&output)
        );
        if command.starts_with("node ") {
            let out = String::from_utf8_lossy(&output.stdout);
            assert!(
                out.contains("bob received \"hello, bob\" from alice"),
                "{out}"
            );
        }
    }
}
