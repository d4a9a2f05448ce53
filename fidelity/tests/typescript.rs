//! `check` == build for TypeScript too: the client of every spec of
//! `specs/` type-checks with `tsc --strict` (recursive definitions,
//! definitions named like events, names the client or JavaScript use...).
//! Needs Node.js and `npm ci --prefix tests/ts` (scripts/test.sh does it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use socketspec_fidelity::{SPECS, SpecKind};

fn tsc() -> PathBuf {
    let tsc =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ts/node_modules/typescript/bin/tsc");
    assert!(
        tsc.is_file(),
        "no TypeScript compiler at {}: run `npm ci --prefix tests/ts`",
        tsc.display()
    );
    tsc
}

#[test]
fn every_spec_client_type_checks_strictly() {
    let tsc = tsc();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for spec in SPECS.iter().filter(|s| matches!(s.kind, SpecKind::File)) {
        let model = socketspec_codegen::check(spec.source)
            .unwrap_or_else(|e| panic!("{} is refused by check:\n{e}", spec.source));
        let ts = model.typescript().unwrap();
        let file = dir.path().join(format!("{}.ts", spec.module));
        std::fs::write(&file, ts).unwrap();
        files.push(file);
    }
    assert!(files.len() >= 6, "{} specs", files.len());
    for file in &files {
        let output = Command::new("node")
            .arg(&tsc)
            .args([
                "--strict",
                "--noEmit",
                "--target",
                "ES2020",
                "--lib",
                "ES2020,DOM",
            ])
            .arg(file)
            .output()
            .expect("node runs");
        assert!(
            output.status.success(),
            "{} fails tsc --strict:\n{}{}",
            file.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
