//! Spec errors written for the person who hit them: the file, the JSON path
//! of the mistake, what is wrong, and how to fix it.

use std::fmt;
use std::path::{Path, PathBuf};

/// One mistake in a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The spec file (or a file it references).
    pub file: PathBuf,
    /// Where in the file, as a JSON path: `events.send_message.payload`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl SpecError {
    /// A new error at `path` of `file`.
    pub fn new(
        file: &Path,
        path: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        SpecError {
            file: file.to_owned(),
            path: path.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(root)"
        } else {
            &self.path
        };
        write!(
            f,
            "error: {}: at `{}`: {}\n  fix: {}",
            self.file.display(),
            path,
            self.message,
            self.fix
        )
    }
}

/// Everything wrong with a spec (all mistakes are reported at once, so a
/// build does not fail one typo at a time), or an I/O failure.
///
/// Its `Debug` output is its message, so `compile(..).unwrap()` in a
/// `build.rs` prints the readable errors, not a struct dump.
#[derive(thiserror::Error)]
pub enum Error {
    /// The spec has mistakes.
    #[error("{}", render(.0))]
    Spec(Vec<SpecError>),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A [`Builder`](crate::Builder) option cannot be used: a module name
    /// that is not a Rust identifier, a derive or an attribute that does not
    /// parse, an attribute for a type the spec does not generate.
    #[error("invalid Builder option {option}: {message}")]
    Builder {
        /// The option, as written: `type_attribute("Foo", ..)`.
        option: String,
        /// What is wrong with it and how to fix it.
        message: String,
    },
    /// The generated code could not be produced (a bug in socketspec: please
    /// report it with the spec).
    #[error("code generation failed for {}: {message}", file.display())]
    Generate {
        /// The spec file.
        file: PathBuf,
        /// What failed.
        message: String,
    },
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\n{self}\n")
    }
}

impl Error {
    /// The spec mistakes, if this is a spec error.
    pub fn spec_errors(&self) -> &[SpecError] {
        match self {
            Error::Spec(errors) => errors,
            _ => &[],
        }
    }
}

fn render(errors: &[SpecError]) -> String {
    let mut out = String::new();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&e.to_string());
    }
    if errors.len() > 1 {
        out.push_str(&format!("\n{} errors in the spec", errors.len()));
    }
    out
}

/// Joins JSON path segments: `events` + `send_message` -> `events.send_message`;
/// keys that are not plain identifiers are quoted: `rooms["chat:{room}"]`.
pub(crate) fn join_path(base: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    match (base.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{base}.{key}"),
        (_, false) => format!("{base}[{key:?}]"),
    }
}
