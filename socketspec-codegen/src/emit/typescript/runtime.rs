//! The client runtime: the TypeScript modules under `socketspec-codegen/ts/`,
//! embedded at compile time and joined into the generated file.
//!
//! Each module is a real ES module, type-checked with `tsc --strict` and
//! unit-tested with Node's test runner (`tests/typescript_runtime.rs`). Two
//! kinds of statements only link the modules to each other, and the
//! generated file, a single module, leaves them out:
//! - `import ... from "./module";`
//! - `export { ... };`: what a module shares with the others but the client
//!   does not export.
//!
//! What a module declares with `export` in front is the generated client's
//! public API. `./protocol` is the module [`protocol`](super::protocol)
//! generates from `socketspec-protocol`; `ts/protocol.ts` is a copy of it for
//! the runtime's own checks.

/// The runtime's class that the generated `Client` extends.
pub(super) const BASE_CLASS: &str = "ClientBase";

/// The runtime's modules, each after the ones it needs while it loads
/// (classes must be defined before a class extends them).
const MODULES: [(&str, &str); 6] = [
    ("errors.ts", include_str!("../../../ts/errors.ts")),
    ("transport.ts", include_str!("../../../ts/transport.ts")),
    ("options.ts", include_str!("../../../ts/options.ts")),
    ("listeners.ts", include_str!("../../../ts/listeners.ts")),
    ("requests.ts", include_str!("../../../ts/requests.ts")),
    ("client_base.ts", include_str!("../../../ts/client_base.ts")),
];

/// The runtime as one block of TypeScript: the modules in order, without
/// the statements that link them.
pub(super) fn source() -> String {
    let mut out = String::new();
    for (_, module) in MODULES {
        out.push_str(&without_linkage(module));
        out.push('\n');
    }
    out
}

/// `module` without its `import` statements and `export { ... }` lists, and
/// without the blank lines they leave behind. Both kinds start at column 0
/// and end with the first line that ends with `;`.
fn without_linkage(module: &str) -> String {
    let mut out = String::with_capacity(module.len());
    let mut in_statement = false;
    let mut blank = true;
    for line in module.lines() {
        let linkage = in_statement || line.starts_with("import ") || line.starts_with("export {");
        if linkage {
            in_statement = !line.trim_end().ends_with(';');
            continue;
        }
        let is_blank = line.trim().is_empty();
        if !(is_blank && blank) {
            out.push_str(line);
            out.push('\n');
        }
        blank = is_blank;
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linkage_statements_are_left_out() {
        let module = "// A.\n\nimport { a } from \"./a\";\nimport {\n  b,\n  c,\n} from \"./b\";\n\nexport class X {}\n\nfunction y(): void {}\n\nexport {\n  y,\n};\n";
        assert_eq!(
            without_linkage(module),
            "// A.\n\nexport class X {}\n\nfunction y(): void {}\n"
        );
    }

    #[test]
    fn the_joined_runtime_links_nothing_and_defines_the_base_class() {
        let runtime = source();
        for line in runtime.lines() {
            assert!(
                !line.starts_with("import ") && !line.starts_with("export {"),
                "a linkage statement is left: {line}"
            );
            assert!(!line.contains("from \"./"), "an import is left: {line}");
        }
        assert!(runtime.contains(&format!("export class {BASE_CLASS}<")));
        assert!(!runtime.contains("\n\n\n"));
        for (name, module) in MODULES {
            assert!(
                module.starts_with("// ---"),
                "{name} does not start with its section rule"
            );
        }
    }
}
