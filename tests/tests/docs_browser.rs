//! The docs page in a real browser, and the docs routes over HTTP.
//!
//! - Headless Chromium (Debian's `/usr/bin/chromium`, driven by
//!   `playwright-core` from `tests/browser/`) opens `/socket-docs` served by
//!   the chat server, connects through the console, sends `echo` with Try it
//!   and finds `echo_reply` under its request; a second connection in the
//!   same page joins the room and sees the `new_message` broadcast; the same
//!   page opened from `file://` renders every event card and talks to the
//!   server. Screenshots land in `target/docs-page*.png`.
//! - Against a chat server with resumption on, behind a [`TcpProxy`] the
//!   test cuts when the page asks (`@@cut` on its stdout, `cut` on its
//!   stdin): the console shows every frame's `seq`, resumes by itself with
//!   the same connection id, the reply in flight arrives, and every `seq`
//!   and `tick` is in the log exactly once; Disconnect does not resume.
//! - `--docs-token` guards the page, `spec.json` and `asyncapi.json`: 401
//!   without it, 200 with it as a bearer header or `?token=`.
//!
//! Missing Chromium, Node or the npm packages make the browser test FAIL
//! with the command that installs them (`scripts/test.sh` does it all).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use socketspec_e2e::proxy::TcpProxy;
use socketspec_e2e::wait::child_exit;
use socketspec_e2e::{ChatServer, Result, http_get, target_dir, workspace_root};

const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// The screenshots the browser run writes into the target directory.
const SCREENSHOTS: [&str; 4] = [
    "docs-page.png",
    "docs-page-narrow.png",
    "docs-page-file.png",
    "docs-page-resume.png",
];

fn chat_model() -> socketspec_codegen::Model {
    match socketspec_codegen::check(workspace_root().join("spec/chat.json")) {
        Ok(model) => model,
        Err(e) => panic!("spec/chat.json does not validate: {e}"),
    }
}

fn chromium_path() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Fails (never skips) with the install command when a tool is missing.
fn require_browser_tools() -> PathBuf {
    let browser_dir = workspace_root().join("tests/browser");
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "the docs browser test needs Node.js (`node` on PATH): install Node 20+, then run scripts/test.sh"
    );
    let chromium = chromium_path();
    assert!(
        chromium.is_file(),
        "the docs browser test needs Chromium at {} (or set CHROMIUM): `apt-get install -y chromium chromium-driver` \
         as root, or run scripts/test.sh, which installs it",
        chromium.display()
    );
    for package in ["playwright-core", "@asyncapi/specs"] {
        assert!(
            browser_dir.join("node_modules").join(package).is_dir(),
            "the docs browser test needs the npm package {package}: run `npm install --prefix tests/browser` \
             (scripts/test.sh does it)"
        );
    }
    browser_dir
}

/// Runs the browser program, killing it after `timeout`, and answers each
/// `@@cut` line it prints: `proxy` cuts its open connections, then the
/// program reads `cut` on its stdin. Returns (success, stdout, stderr).
fn run_browser(
    mut command: Command,
    timeout: Duration,
    proxy: &TcpProxy,
) -> (bool, String, String) {
    let mut child = match command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => panic!("cannot start {command:?}: {e}"),
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
    let mut stderr = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(err) = stderr.as_mut() {
            let _ = err.read_to_string(&mut s);
        }
        s
    });
    let deadline = Instant::now() + timeout;
    let mut out = String::new();
    let mut timed_out = false;
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                if line == "@@cut" {
                    proxy.cut();
                    if let Some(stdin) = child.stdin.as_mut() {
                        let _ = writeln!(stdin, "cut");
                        let _ = stdin.flush();
                    }
                }
                out.push_str(&line);
                out.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = true;
                break;
            }
        }
    }
    let left = deadline.saturating_duration_since(Instant::now());
    let status = match child_exit(
        &mut child,
        left.max(Duration::from_secs(5)),
        "the browser run",
    ) {
        Ok(status) if !timed_out => Some(status),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    let err = err_reader.join().unwrap_or_default();
    match status {
        Some(status) => (status.success(), out, err),
        None => (
            false,
            out,
            format!("{err}\n(killed after {}s)", timeout.as_secs()),
        ),
    }
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.len() > 10_000 && bytes.starts_with(b"\x89PNG"))
}

#[tokio::test(flavor = "multi_thread")]
async fn docs_page_works_in_a_real_browser() -> Result<()> {
    let browser_dir = require_browser_tools();
    let model = chat_model();
    let server = ChatServer::start(&["--docs"]);
    // Resumption on, ticks every 100 ms to `chat:ticker`, behind a proxy the
    // page asks to cut.
    let resumable = ChatServer::start(&["--resume-window", "30", "--tick-interval", "100"]);
    let proxy = TcpProxy::start(resumable.addr())?;

    // The static file, as `socketspec docs` writes it.
    let out_dir = target_dir().join("tmp").join("docs-browser");
    std::fs::create_dir_all(&out_dir)?;
    let file = out_dir.join("chat-docs.html");
    let html = match model.docs_html() {
        Ok(html) => html,
        Err(e) => panic!("rendering the docs page: {e}"),
    };
    std::fs::write(&file, &html)?;
    let file = file.canonicalize()?;

    let screenshot_dir = target_dir();
    for name in SCREENSHOTS {
        let _ = std::fs::remove_file(screenshot_dir.join(name));
    }
    let config = json!({
        "pageUrl": format!("{}/socket-docs", server.http_url()),
        "httpBase": format!("{}/", server.http_url()),
        "fileUrl": format!("file://{}", file.display()),
        "wsUrl": server.ws_url(),
        "resumeWsUrl": proxy.ws_url(),
        "events": model.event_names().collect::<Vec<_>>(),
        "systemEvents": socketspec_runtime::SystemEvent::ALL.len(),
        "errorCodes": socketspec_runtime::ErrorCode::ALL.len(),
        "screenshotDir": screenshot_dir.canonicalize()?,
    });
    let mut node = Command::new("node");
    node.arg(browser_dir.join("docs-page.mjs"))
        .arg(config.to_string())
        .current_dir(&browser_dir)
        .env("CHROMIUM", chromium_path());
    let (ok, stdout, stderr) =
        tokio::task::spawn_blocking(move || run_browser(node, BROWSER_TIMEOUT, &proxy))
            .await
            .map_err(|e| socketspec_e2e::Error::Other(e.to_string()))?;
    assert!(
        ok,
        "the browser run failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- server stderr\n{}\n--- resumable server stderr\n{}",
        server.stderr(),
        resumable.stderr()
    );
    let summary: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    assert_eq!(summary["ok"], true, "{stdout}");
    for check in [
        "echo_reply carries the example payload, under its request",
        "connection #2 received the new_message broadcast (no id)",
        "file:// renders one card per event",
        "from file://, whoami answers through the console",
        "with resumption on, __connect__ carries resume_token and resumed: false",
        "every frame after __connect__ shows its seq",
        "__connect__ has no seq",
        "the console notices the drop without a close frame and resumes by itself",
        "the connection resumed with the same connection_id",
        "the reply in flight across the cut arrives under its request",
        "every seq from 1 to",
        "no tick lost or shown twice across the resume",
        "no resume after Disconnect",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("ok {check}"))),
            "missing check `{check}` in\n{stdout}"
        );
    }
    for name in SCREENSHOTS {
        let path = screenshot_dir.join(name);
        assert!(is_png(&path), "{} is not a screenshot", path.display());
    }
    Ok(())
}

#[tokio::test]
async fn docs_token_guards_the_page_spec_and_asyncapi() -> Result<()> {
    let server = ChatServer::start(&["--docs", "--docs-token", "s3cret-docs"]);
    for path in [
        "/socket-docs",
        "/socket-docs/spec.json",
        "/socket-docs/asyncapi.json",
    ] {
        let r = http_get(server.addr(), path, &[]).await?;
        assert_eq!(r.status, 401, "{path} without a token: {r:?}");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer"),
            "{path}: {r:?}"
        );
        assert!(
            !r.body.contains("socketspec"),
            "{path} leaks content: {r:?}"
        );
        for (bad_path, headers) in [
            (
                path.to_owned(),
                vec![("Authorization", "Bearer s3cret-doc")],
            ),
            (path.to_owned(), vec![("Authorization", "s3cret-docs")]),
            (format!("{path}?token=S3CRET-DOCS"), vec![]),
        ] {
            let r = http_get(server.addr(), &bad_path, &headers).await?;
            assert_eq!(r.status, 401, "{bad_path} {headers:?}: {r:?}");
        }
        let by_header = http_get(
            server.addr(),
            path,
            &[("Authorization", "Bearer s3cret-docs")],
        )
        .await?;
        assert_eq!(
            by_header.status, 200,
            "{path} with the bearer token: {by_header:?}"
        );
        let by_query = http_get(server.addr(), &format!("{path}?token=s3cret-docs"), &[]).await?;
        assert_eq!(by_query.status, 200, "{path}?token=: {by_query:?}");
        assert_eq!(
            by_header.body, by_query.body,
            "{path}: same body either way"
        );
    }
    Ok(())
}

#[tokio::test]
async fn served_docs_are_the_generated_page_and_asyncapi_document() -> Result<()> {
    let model = chat_model();
    let server = ChatServer::start(&["--docs"]);

    let page = http_get(server.addr(), "/socket-docs", &[]).await?;
    assert_eq!(page.status, 200, "{page:?}");
    let expected = match model.docs_html() {
        Ok(html) => html,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        page.body, expected,
        "the served page is the one the build generated"
    );
    for event in model.event_names() {
        assert!(
            page.body.contains(&format!("data-event=\"{event}\"")),
            "no card for {event}"
        );
    }
    for code in socketspec_runtime::ErrorCode::ALL {
        assert!(
            page.body
                .contains(&format!("data-error-code=\"{}\"", code.as_str())),
            "the page's error table lacks {}",
            code.as_str()
        );
    }
    for name in socketspec_runtime::SystemEvent::ALL.map(|e| e.name()) {
        assert!(
            page.body.contains(&format!("data-system-event=\"{name}\"")),
            "the page's system events table lacks {name}"
        );
    }

    let asyncapi = http_get(server.addr(), "/socket-docs/asyncapi.json", &[]).await?;
    assert_eq!(asyncapi.status, 200, "{asyncapi:?}");
    assert!(
        asyncapi
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{asyncapi:?}"
    );
    let served: Value = serde_json::from_str(&asyncapi.body)?;
    assert_eq!(served, model.asyncapi());
    assert_eq!(served["asyncapi"], "3.0.0");
    Ok(())
}
