//! The TypeScript client runtime (`socketspec-codegen/ts/`), on its own:
//! type-checked with `tsc --strict` and the strictest options, without DOM or
//! Node types (as the generated client is), then its unit tests
//! (`ts/test/*.test.ts`) compiled to a temporary directory and run with
//! Node's built-in test runner against a fake WebSocket.
//!
//! Needs Node.js 20 or later and npm. TypeScript and Node's types come from
//! `tests/ts/package-lock.json`: `scripts/test.sh` installs them into
//! `tests/ts/node_modules`, and this test runs `npm ci` there itself when it
//! is missing or stale. Without Node or npm it fails and says what to install.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// What a failing test tells the developer to install.
const INSTALL_HINT: &str = "the TypeScript runtime tests need Node.js 20 or later and npm \
     (e.g. `apt-get install nodejs npm`, or https://nodejs.org), then `npm ci --prefix tests/ts`";

/// The suites `ts/test/*.test.ts` declare, one per concern of the runtime;
/// each must run and pass.
const SUITES: &[&str] = &[
    "envelope",
    "errors",
    "heartbeat",
    "listeners",
    "reconnect",
    "request correlation",
    "resume",
    "timeouts",
];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn runtime_dir() -> PathBuf {
    crate_dir().join("ts")
}

fn npm_dir() -> PathBuf {
    crate_dir().join("..").join("tests").join("ts")
}

/// `tsc`'s JavaScript entry point, after checking Node's version and running
/// `npm ci` in `tests/ts` when its `node_modules` is missing or older than
/// the lock file.
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
    let modules = npm_dir().join("node_modules");
    let tsc = modules.join("typescript").join("bin").join("tsc");
    // npm writes node_modules/.package-lock.json on every install: older than
    // the lock file (or missing) means the install is stale.
    let modified = |path: PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let lock = modified(npm_dir().join("package-lock.json"));
    let installed = modified(modules.join(".package-lock.json"));
    let node_types = modules.join("@types").join("node");
    if tsc.is_file() && node_types.is_dir() && installed.is_some() && installed >= lock {
        return Ok(tsc);
    }
    let npm = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(npm_dir())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `npm` ({e}): {INSTALL_HINT}"))?;
    if !npm.status.success() || !tsc.is_file() {
        return Err(format!(
            "`npm ci --prefix tests/ts` failed ({}):\n{}\n{INSTALL_HINT}",
            npm.status,
            text_of(&npm)
        ));
    }
    Ok(tsc)
}

fn text_of(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `node` with `args` in `dir`.
fn node(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new("node")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(output) => output,
        Err(e) => panic!("cannot run node {args:?}: {e}; {INSTALL_HINT}"),
    }
}

/// Runs `tsc -p project` in the runtime's directory, with `extra` options.
fn run_tsc(project: &str, extra: &[&str]) -> Output {
    let tsc = tsc().display().to_string();
    let mut args = vec![tsc.as_str(), "-p", project];
    args.extend_from_slice(extra);
    node(&runtime_dir(), &args)
}

#[test]
fn the_runtime_type_checks_strictly_without_dom_or_node_types() {
    // tsconfig.json: --strict and the strictest extra checks, `types: []`.
    let output = run_tsc("tsconfig.json", &[]);
    assert!(
        output.status.success(),
        "tsc -p socketspec-codegen/ts/tsconfig.json failed:\n{}",
        text_of(&output)
    );
}

/// The counts in the summary of Node's TAP output (`# pass 45`).
fn tap_count(tap: &str, name: &str) -> Option<u64> {
    let prefix = format!("# {name} ");
    tap.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|n| n.trim().parse().ok())
}

#[test]
fn the_runtime_unit_tests_pass_under_node() {
    let out = match tempfile::Builder::new().prefix("ts-runtime-").tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("cannot create a temporary directory: {e}"),
    };
    let out_dir = out.path().display().to_string();
    let compiled = run_tsc("tsconfig.test.json", &["--outDir", &out_dir]);
    assert!(
        compiled.status.success(),
        "tsc -p socketspec-codegen/ts/tsconfig.test.json failed:\n{}",
        text_of(&compiled)
    );

    let tests_dir = out.path().join("test");
    let mut files: Vec<String> = match std::fs::read_dir(&tests_dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".test.js"))
            .map(|name| format!("test/{name}"))
            .collect(),
        Err(e) => panic!("tsc wrote no {}: {e}", tests_dir.display()),
    };
    files.sort();
    assert!(!files.is_empty(), "no compiled test files in {out_dir}");

    let mut args = vec!["--test", "--test-reporter=tap"];
    args.extend(files.iter().map(String::as_str));
    let run = node(out.path(), &args);
    let tap = String::from_utf8_lossy(&run.stdout);
    let report = format!(
        "--- node --test output ---\n{tap}--- stderr ---\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        run.status.success(),
        "the runtime's unit tests failed ({}):\n{report}",
        run.status
    );
    for suite in SUITES {
        assert!(
            tap.lines()
                .any(|line| line.starts_with("ok ") && line.ends_with(&format!(" - {suite}"))),
            "suite {suite:?} did not run and pass:\n{report}"
        );
    }
    let passed = tap_count(&tap, "pass").unwrap_or(0);
    assert!(passed >= SUITES.len() as u64, "{report}");
    assert_eq!(tap_count(&tap, "tests"), Some(passed), "{report}");
    for none in ["fail", "cancelled", "skipped", "todo"] {
        assert_eq!(tap_count(&tap, none), Some(0), "{none}:\n{report}");
    }
}
