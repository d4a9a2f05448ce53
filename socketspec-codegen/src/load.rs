//! Step 1 of the pipeline: read a spec file into [`Spec`], with errors that
//! name the file, the JSON path and the fix.

use std::path::Path;

use crate::error::{Error, SpecError, join_path};
use crate::spec::Spec;

/// Reads and parses the spec at `path`.
pub fn load(path: &Path) -> Result<Spec, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text)
}

/// Parses spec text; `path` is only used in error messages.
pub fn parse(path: &Path, text: &str) -> Result<Spec, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let spec: Spec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = json_path(e.path());
        let inner = e.into_inner();
        Error::Spec(vec![describe(path, &at, &inner)])
    })?;
    de.end().map_err(|e| {
        Error::Spec(vec![SpecError::new(
            path,
            "",
            format!("trailing characters after the spec: {e}"),
            "remove everything after the closing `}`",
        )])
    })?;
    Ok(spec)
}

/// The path in the same notation as every other error (`rooms["chat:{room}"]`),
/// up to where the parser stopped knowing it.
fn json_path(path: &serde_path_to_error::Path) -> String {
    let mut at = String::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Map { key } => at = join_path(&at, key),
            serde_path_to_error::Segment::Seq { index } => at = format!("{at}[{index}]"),
            serde_path_to_error::Segment::Enum { variant } => at = join_path(&at, variant),
            serde_path_to_error::Segment::Unknown => break,
        }
    }
    at
}

fn describe(path: &Path, at: &str, err: &serde_json::Error) -> SpecError {
    let message = err.to_string();
    let line = format!("(line {}, column {})", err.line(), err.column());
    if err.is_syntax() || err.is_eof() {
        return SpecError::new(
            path,
            at,
            format!("the file is not valid JSON: {message}"),
            format!("fix the JSON syntax near {line}"),
        );
    }
    let fix = if message.contains("unknown field") {
        let expected = message
            .split_once("expected ")
            .map(|(_, rest)| rest.split(" at line").next().unwrap_or(rest).to_owned())
            .unwrap_or_default();
        if expected.is_empty() {
            "remove the field; this object takes no fields".to_owned()
        } else {
            format!("remove the field or correct its spelling; expected {expected}")
        }
    } else if message.contains("missing field") {
        "add the field (see docs/spec-format.md)".to_owned()
    } else if let Some(key) = message
        .strip_prefix("duplicate key `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(key, _)| key)
    {
        let message = format!("`{key}` is declared twice {line}");
        return SpecError::new(
            path,
            join_path(at, key),
            message,
            "each name may appear once: rename or merge the two entries",
        );
    } else {
        "give the field the type docs/spec-format.md describes".to_owned()
    };
    let message = message
        .split(" at line")
        .next()
        .unwrap_or(&message)
        .to_owned();
    SpecError::new(path, at, format!("{message} {line}"), fix)
}
