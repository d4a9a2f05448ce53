//! Rust names for spec names: types, fields and enum variants, always
//! valid identifiers, never two alike in one scope.
//!
//! The rules, in the order they apply (docs/spec-format.md repeats them):
//! - a type is the UpperCamelCase of its name (`user-joined` ->
//!   `UserJoined`); a field the snake_case (`content-type` ->
//!   `content_type`); characters an identifier cannot hold are dropped;
//! - a name left empty or starting with a digit gets a prefix (`T` for a
//!   type, `field_` for a field, `V` for a variant);
//! - a Rust keyword becomes a raw identifier (`r#type`), or, where Rust
//!   has none (`self`, `Self`, `super`, `crate`), gets a suffix;
//! - a name already taken in its scope gets a suffix: the one its role
//!   chooses (`Def` for a definition), then `2`, `3`, ...

use std::collections::HashSet;

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Keywords that cannot be raw identifiers.
const NOT_RAW: [&str; 5] = ["self", "Self", "super", "crate", "_"];

/// Names already given in one scope.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    taken: HashSet<String>,
}

impl Scope {
    /// Marks `name` as taken.
    pub(crate) fn reserve(&mut self, name: &str) {
        self.taken.insert(bare(name).to_owned());
    }

    /// Whether `name` is taken.
    pub(crate) fn is_taken(&self, name: &str) -> bool {
        self.taken.contains(bare(name))
    }

    /// `base` if free, else `base` + `suffix` (when there is one), else
    /// the first free of `base2`, `base3`, ... (or with the suffix); the
    /// result is taken.
    pub(crate) fn claim(&mut self, base: &str, suffix: &str, separator: &str) -> String {
        let mut candidates = vec![base.to_owned()];
        if !suffix.is_empty() {
            candidates.push(format!("{base}{suffix}"));
        }
        let name = candidates
            .into_iter()
            .find(|c| !self.is_taken(c))
            .unwrap_or_else(|| {
                // A number makes a keyword an ordinary identifier.
                let stem = format!("{}{suffix}", bare(base));
                // `self_` + `_2` would be `self__2`, which `non_snake_case`
                // warns about: one separator is enough.
                let joint = if stem.ends_with(separator) {
                    ""
                } else {
                    separator
                };
                (2..)
                    .map(|n| format!("{stem}{joint}{n}"))
                    .find(|c| !self.is_taken(c))
                    .unwrap_or(stem)
            });
        self.reserve(&name);
        name
    }
}

/// `name` without a raw identifier's `r#`.
fn bare(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

/// Keeps the characters an ASCII identifier may hold.
fn ascii_ident_chars(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// `text` with its first letter in upper case (a dropped non-ASCII
/// first letter can leave a lowercase one first).
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn is_keyword(name: &str) -> bool {
    syn::parse_str::<syn::Ident>(name).is_err()
}

/// The type name for a spec name: `user-joined` -> `UserJoined`.
pub(crate) fn type_name(name: &str) -> String {
    let mut out = capitalized(&ascii_ident_chars(&name.to_upper_camel_case()));
    if out.is_empty() {
        out = "Type".to_owned();
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    if is_keyword(&out) {
        out.push_str("Type");
    }
    out
}

/// The field name for a property: `content-type` -> `content_type`,
/// `type` -> `r#type`.
pub(crate) fn field_name(name: &str) -> String {
    snake_ident(name, "field")
}

/// A snake_case identifier for `name`; `fallback` prefixes one that would
/// be empty or start with a digit.
pub(crate) fn snake_ident(name: &str, fallback: &str) -> String {
    let mut out = ascii_ident_chars(&name.to_snake_case());
    if out.is_empty() {
        out = fallback.to_owned();
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        out = format!("{fallback}_{out}");
    }
    if NOT_RAW.contains(&out.as_str()) {
        out.push('_');
    } else if is_keyword(&out) {
        out = format!("r#{out}");
    }
    out
}

/// The variant name for an enum value or a union branch: `in-progress`
/// -> `InProgress`, `""` -> `Empty`, `1st` -> `V1st`.
pub(crate) fn variant_name(value: &str) -> String {
    let mut out = capitalized(&ascii_ident_chars(&value.to_upper_camel_case()));
    if value.is_empty() {
        out = "Empty".to_owned();
    } else if out.is_empty() {
        out = "Value".to_owned();
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    if is_keyword(&out) {
        out.push_str("Value");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_identifiers() {
        assert_eq!(type_name("user-joined"), "UserJoined");
        assert_eq!(type_name("set_x_y"), "SetXY");
        assert_eq!(type_name("self"), "SelfType");
        assert_eq!(type_name("42"), "T42");
        assert_eq!(type_name("ça·va"), "AVa");
        assert_eq!(field_name("content-type"), "content_type");
        assert_eq!(field_name("type"), "r#type");
        assert_eq!(field_name("self"), "self_");
        assert_eq!(field_name("$ref"), "r#ref");
        assert_eq!(field_name("1st"), "field_1st");
        assert_eq!(field_name("🙂"), "field");
        assert_eq!(variant_name("GET"), "Get");
        assert_eq!(variant_name(""), "Empty");
        assert_eq!(variant_name("+"), "Value");
        assert_eq!(variant_name("self"), "SelfValue");
    }

    #[test]
    fn a_taken_name_gets_its_suffix_then_a_number() {
        let mut scope = Scope::default();
        assert_eq!(scope.claim("Ping", "Def", ""), "Ping");
        assert_eq!(scope.claim("Ping", "Def", ""), "PingDef");
        assert_eq!(scope.claim("Ping", "Def", ""), "PingDef2");
        assert_eq!(scope.claim("content_type", "", "_"), "content_type");
        assert_eq!(scope.claim("content_type", "", "_"), "content_type_2");
        assert_eq!(scope.claim("r#type", "", "_"), "r#type");
        assert!(scope.is_taken("type"));
        assert_eq!(scope.claim("r#type", "", "_"), "type_2");
        // `self` and `Self` are both `self_`: the second is `self_2`.
        assert_eq!(scope.claim("self_", "", "_"), "self_");
        assert_eq!(scope.claim("self_", "", "_"), "self_2");
    }
}
