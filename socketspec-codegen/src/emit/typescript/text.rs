//! Layout helpers shared by the TypeScript emitter's parts: comments, doc
//! comments, section rules and literals. The output is laid out by hand (two
//! spaces per level, one member per line) because users read it in their IDE.

use std::fmt::Write as _;

use serde_json::Value;

/// Appends a section rule with `title`.
pub(super) fn section(out: &mut String, title: &str) {
    let rule = "-".repeat(75);
    let _ = writeln!(out, "// {rule}\n// {title}\n// {rule}\n");
}

/// Text made safe inside a `/** ... */` or `//` comment.
pub(super) fn comment_safe(text: &str) -> String {
    text.replace("*/", "*\\/")
}

/// A description as doc lines, followed by an empty line (a paragraph
/// break) when there is one.
pub(super) fn paragraph(text: Option<&str>) -> Vec<String> {
    let mut lines: Vec<String> = text
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// A JSDoc comment at `indent` levels (two spaces each), or nothing for no
/// lines.
pub(super) fn doc_comment(lines: &[String], indent: usize) -> String {
    let pad = "  ".repeat(indent);
    let lines: Vec<String> = lines.iter().map(|l| comment_safe(l.trim_end())).collect();
    match lines.as_slice() {
        [] => String::new(),
        [one] if !one.is_empty() => format!("{pad}/** {one} */\n"),
        _ => {
            let mut doc = format!("{pad}/**\n");
            for line in &lines {
                if line.is_empty() {
                    let _ = writeln!(doc, "{pad} *");
                } else {
                    let _ = writeln!(doc, "{pad} * {line}");
                }
            }
            let _ = writeln!(doc, "{pad} */");
            doc
        }
    }
}

/// A one-line JSDoc comment for `text` at `indent` levels.
pub(super) fn doc_line(text: &str, indent: usize) -> String {
    doc_comment(&[text.to_owned()], indent)
}

/// `text` with its first letter upper-cased.
pub(super) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A property key: bare when it is an identifier, else a string literal.
pub(super) fn property_key(name: &str) -> String {
    let mut chars = name.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if identifier {
        name.to_owned()
    } else {
        string_literal(name)
    }
}

/// A TypeScript string literal (JSON's escaping is valid TypeScript).
pub(super) fn string_literal(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_comments_cannot_be_closed_by_a_description() {
        let doc = doc_comment(&["ends */ here".to_owned()], 0);
        assert_eq!(doc, "/** ends *\\/ here */\n");
    }

    #[test]
    fn keys_are_quoted_only_when_they_are_not_identifiers() {
        assert_eq!(property_key("room_id"), "room_id");
        assert_eq!(property_key("$x"), "$x");
        assert_eq!(property_key("first-name"), "\"first-name\"");
        assert_eq!(property_key("1st"), "\"1st\"");
        assert_eq!(property_key("it's \"x\""), "\"it's \\\"x\\\"\"");
    }
}
