//! The runtime's layering holds: no file imports a file that imports it
//! back (a parent naming its own child modules is layout, not a cycle), and
//! no source file is over 600 lines before its tests.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

const MAX_LINES: usize = 600;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every source file, as its module path (`socket::inbound`).
fn modules(root: &Path) -> BTreeMap<Module, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(root).unwrap().with_extension("");
            let mut module: Module = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            out.insert(module, path);
        }
    }
    out
}

/// The code of a file before its `#[cfg(test)]` module, comments dropped.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `a::{b, c::{d}}` -> `a::b`, `a::c::d`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_owned()];
    };
    let (prefix, body) = (&tree[..open], &tree[open + 1..tree.rfind('}').unwrap()]);
    let mut parts = Vec::new();
    let (mut depth, mut current) = (0, String::new());
    for c in body.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
        .iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand(p).into_iter().map(move |e| format!("{prefix}{e}")))
        .collect()
}

/// The modules `module`'s code refers to (through `use` and inline
/// `crate::`/`super::` paths), children excluded.
fn references(module: &Module, code: &str, all: &BTreeMap<Module, PathBuf>) -> BTreeSet<Module> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        rest = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(end) = rest.find(';') {
            paths.extend(expand(&rest[..end]));
        }
    }
    for word in code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        if word.starts_with("crate::") || word.starts_with("super::") {
            paths.push(word.to_owned());
        }
    }
    let mut deps = BTreeSet::new();
    for path in paths {
        let segments: Vec<&str> = path
            .split("::")
            .map(|s| s.split(" as ").next().unwrap_or_default().trim())
            .collect();
        let (mut base, rest): (Module, &[&str]) = match segments.first() {
            Some(&"crate") => (Vec::new(), &segments[1..]),
            Some(&"self") => (module.clone(), &segments[1..]),
            Some(&"super") => {
                let mut base = module.clone();
                let mut rest = &segments[..];
                while rest.first() == Some(&"super") {
                    base.pop();
                    rest = &rest[1..];
                }
                (base, rest)
            }
            _ => continue,
        };
        base.extend(rest.iter().map(|s| (*s).to_owned()));
        for n in (1..=base.len()).rev() {
            let target = &base[..n];
            if all.contains_key(target) {
                if target != module.as_slice() && !target.starts_with(module) {
                    deps.insert(target.to_vec());
                }
                break;
            }
        }
    }
    deps
}

/// Modules that reach themselves through the reference graph.
fn in_cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Module> {
    let reaches = |from: &Module| {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&Module> = graph[from].iter().collect();
        while let Some(m) = stack.pop() {
            if seen.insert(m.clone()) {
                stack.extend(graph.get(m).into_iter().flatten());
            }
        }
        seen
    };
    graph
        .keys()
        .filter(|m| reaches(m).contains(*m))
        .cloned()
        .collect()
}

#[test]
fn no_runtime_file_imports_a_file_that_imports_it_back() {
    let all = modules(&src());
    let graph: BTreeMap<Module, BTreeSet<Module>> = all
        .iter()
        .map(|(m, p)| (m.clone(), references(m, &code(p), &all)))
        .collect();
    let cyclic: Vec<String> = in_cycles(&graph).iter().map(|m| m.join("/")).collect();
    assert!(cyclic.is_empty(), "files in import cycles: {cyclic:?}");
}

#[test]
fn no_runtime_file_is_over_600_lines_before_its_tests() {
    let over: Vec<String> = modules(&src())
        .values()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let lines = text
                .lines()
                .take_while(|l| !l.starts_with("#[cfg(test)]"))
                .count();
            (lines > MAX_LINES).then(|| format!("{} ({lines})", path.display()))
        })
        .collect();
    assert!(over.is_empty(), "files over {MAX_LINES} lines: {over:?}");
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    // The check above passes only if it can fail: a two-file cycle is found.
    let a: Module = vec!["a".into()];
    let b: Module = vec!["b".into()];
    let c: Module = vec!["c".into()];
    let graph = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone()])),
        (c.clone(), BTreeSet::from([a.clone()])),
    ]);
    assert_eq!(in_cycles(&graph), [a, b]);
    let all = BTreeMap::from([
        (vec!["x".to_owned()], PathBuf::new()),
        (vec!["x".to_owned(), "y".to_owned()], PathBuf::new()),
        (vec!["z".to_owned()], PathBuf::new()),
    ]);
    let refs = references(
        &vec!["x".to_owned(), "y".to_owned()],
        "use super::Thing;\nuse crate::z::{A, B};",
        &all,
    );
    assert_eq!(
        refs,
        BTreeSet::from([vec!["x".to_owned()], vec!["z".to_owned()]])
    );
}
