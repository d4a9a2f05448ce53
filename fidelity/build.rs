//! Compiles every spec the fidelity tests run into this one crate, as a
//! user's `build.rs` would (one `socketspec_codegen` build per spec), so a
//! single `cargo build` proves that each spec `check` accepts also builds:
//!
//! - `specs/corpus/*.json` and `specs/regressions/*.json`, as they are;
//! - the vendored JSON-Schema-Test-Suite: one spec per file, one event per
//!   test group, its schema wrapped as `{"value": <schema>}` (payloads are
//!   objects); a group `check` refuses is left out and its errors recorded;
//! - random schemas (`build/random.rs`), one event each.
//!
//! Every spec gets an echo handler (`build/glue.rs`): an event that
//! declares the server event `seen` sends its decoded payload back,
//! re-encoded, so a test sees exactly what the handler received.

#[path = "build/glue.rs"]
mod glue;
#[path = "build/random.rs"]
mod random;
#[path = "build/suite.rs"]
mod suite;

use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".to_owned()));
    println!("cargo:rerun-if-changed=specs");
    println!("cargo:rerun-if-changed=data");
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-env-changed=SOCKETSPEC_PROP_SEED");
    let mut index = glue::Index::default();

    for dir in ["corpus", "regressions"] {
        for file in json_files(&root.join("specs").join(dir)) {
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("spec");
            let module = format!("{dir}_{}", stem.replace('-', "_"));
            index.compile(&file, &module, glue::Kind::File);
        }
    }

    let suite_root = root.join("data/JSON-Schema-Test-Suite/tests/draft2020-12");
    for file in json_files(&suite_root)
        .into_iter()
        .chain(json_files(&suite_root.join("optional/format")))
    {
        let relative = file
            .strip_prefix(&suite_root)
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        let prepared = suite::prepare(&file, &relative);
        let spec_file = out.join(format!("{}.json", prepared.module));
        write(&spec_file, &prepared.spec);
        index.compile(
            &spec_file,
            &prepared.module,
            glue::Kind::Suite {
                file: relative,
                groups: prepared.groups,
            },
        );
    }

    let entropy = std::env::var("SOCKETSPEC_PROP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(random::DEFAULT_SEED);
    let spec = random::spec(entropy, random::SCHEMAS);
    let spec_file = out.join("random_schemas.json");
    write(&spec_file, &spec);
    index.compile(&spec_file, "random_schemas", glue::Kind::Random { entropy });

    write(&out.join("index.rs"), &index.render());
}

/// The `.json` files of `dir`, sorted (none when it does not exist).
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn write(path: &Path, text: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return;
    }
    if let Err(e) = std::fs::write(path, text) {
        panic!("writing {}: {e}", path.display());
    }
}
