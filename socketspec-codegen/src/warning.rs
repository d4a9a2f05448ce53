//! Build warnings: what the generator accepted but wants the spec's author
//! to know (a schema node kept as raw JSON in Rust, a `format` the runtime
//! does not check), each with the JSON path and a fix, like errors.

use std::fmt;
use std::path::{Path, PathBuf};

/// One warning about a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecWarning {
    /// The spec file (or a file it references).
    pub file: PathBuf,
    /// Where in the file, as a JSON path.
    pub path: String,
    /// What the generator did.
    pub message: String,
    /// How to avoid it.
    pub fix: String,
}

impl SpecWarning {
    /// A new warning at `path` of `file`.
    pub fn new(
        file: &Path,
        path: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        SpecWarning {
            file: file.to_owned(),
            path: path.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for SpecWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "warning: {}: at `{}`: {}\n  fix: {}",
            self.file.display(),
            self.path,
            self.message,
            self.fix
        )
    }
}
