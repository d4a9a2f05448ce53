//! Every code snippet of the README and `docs/` is checked by the test suite:
//!
//! - a page with Rust snippets is included as doctests by one of the
//!   workspace's crates (`#[cfg(doctest)] #[doc = include_str!(...)]`), and
//!   none of its snippets opts out with `ignore`; the README's snippets are
//!   the five-minute tour, built by `socketspec-cli/tests/readme_tour.rs`;
//! - every JSON snippet parses (a fragment such as `"ordered": true` as the
//!   member of an object);
//! - the TypeScript snippets are type-checked by
//!   `tests/tests/typescript_client.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `(info string, body, line)` of every fenced block of `markdown`.
fn fenced_blocks(markdown: &str) -> Vec<(String, String, usize)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String, usize)> = None;
    for (number, line) in markdown.lines().enumerate() {
        match open.take() {
            Some(block) if line.starts_with("```") => blocks.push(block),
            Some(mut block) => {
                block.1.push_str(line);
                block.1.push('\n');
                open = Some(block);
            }
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    open = Some((info.trim().to_owned(), String::new(), number + 1));
                }
            }
        }
    }
    assert!(open.is_none(), "an unclosed ``` block");
    blocks
}

fn pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(workspace().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages
}

/// The text of every `.rs` file under the workspace's crates (not `target/`).
fn rust_sources() -> String {
    fn walk(dir: &Path, text: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | "node_modules" | ".git") {
                    walk(&path, text);
                }
            } else if name.ends_with(".rs") {
                text.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut text = String::new();
    walk(&workspace(), &mut text);
    text
}

fn is_rust(info: &str) -> bool {
    info == "rust" || info.starts_with("rust,") || info.is_empty()
}

#[test]
fn every_page_with_rust_snippets_runs_them_as_doctests() {
    let sources = rust_sources();
    let mut compiled = 0;
    for page in pages() {
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        let markdown = std::fs::read_to_string(&page).unwrap();
        let rust: Vec<_> = fenced_blocks(&markdown)
            .into_iter()
            .filter(|(info, _, _)| is_rust(info))
            .collect();
        if rust.is_empty() {
            continue;
        }
        let included = sources.contains(&format!("/docs/{name}\")]"));
        assert!(
            included,
            "docs/{name} has Rust snippets but no crate runs them: add \
             `#[cfg(doctest)] #[doc = include_str!(\"../../docs/{name}\")] pub struct ...;` \
             to a crate that can compile them"
        );
        for (info, _, line) in &rust {
            assert!(
                !info.contains("ignore"),
                "docs/{name}:{line}: a ```{info} snippet is not compiled; make it compile \
                 (hide nothing: write the whole function) or make it prose"
            );
            assert!(
                !info.is_empty(),
                "docs/{name}:{line}: an untagged ``` block is compiled as Rust by rustdoc; \
                 tag it (```text, ```json, ```sh)"
            );
        }
        compiled += rust.len();
    }
    assert!(
        compiled >= 10,
        "only {compiled} Rust snippets found in docs/"
    );
}

#[test]
fn the_readmes_rust_snippets_are_the_tour_the_cli_tests_build() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let blocks = fenced_blocks(&readme);
    let rust: Vec<_> = blocks.iter().filter(|(info, _, _)| is_rust(info)).collect();
    // The first Rust block after each heading the tour test reads.
    let tour: Vec<usize> = [
        "**2. Generate code in `build.rs`**",
        "**3. Implement the generated trait.**",
        "**4. Run it:**",
    ]
    .iter()
    .map(|heading| {
        let at = readme.find(heading).expect("the tour's headings");
        let start = at + readme[at..].find("```rust\n").expect("a Rust block");
        readme[..start].lines().count() + 1
    })
    .collect();
    for (info, _, line) in rust {
        assert_eq!(info, "rust", "README.md:{line}");
        assert!(
            tour.contains(line),
            "README.md:{line}: a Rust snippet outside the tour that \
             socketspec-cli/tests/readme_tour.rs builds (tour blocks at lines {tour:?})"
        );
    }
}

/// A JSON snippet parses as it is, as the members of an object, or line by
/// line as such members.
fn parses(body: &str) -> bool {
    let ok = |text: &str| serde_json::from_str::<serde_json::Value>(text).is_ok();
    ok(body)
        || ok(&format!("{{{body}}}"))
        || body
            .lines()
            .filter(|l| !l.trim().is_empty())
            .all(|l| ok(&format!("{{{}}}", l.trim().trim_end_matches(','))))
}

#[test]
fn every_json_snippet_parses() {
    let mut all = pages();
    all.push(workspace().join("README.md"));
    let mut seen = 0;
    for page in all {
        let markdown = std::fs::read_to_string(&page).unwrap();
        for (info, body, line) in fenced_blocks(&markdown) {
            if info == "json" {
                seen += 1;
                assert!(
                    parses(&body),
                    "{}:{line}: this JSON snippet does not parse:\n{body}",
                    page.display()
                );
            }
        }
    }
    assert!(seen >= 10, "only {seen} JSON snippets found");
}
