//! `$ref` resolution: every reference in the spec, local or into another
//! file, is rewritten to `#/$defs/Name` over one shared definitions map, so
//! that each referenced type is generated once. Two kinds stay as written
//! for the server's validator (see [`crate::schema::is_island`]): the
//! references inside a schema with its own `$id`, which resolve against
//! it, and references to anchors or to the draft's meta-schemas.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::Value;

use crate::error::{SpecError, join_path};
use crate::schema::{Slot, map_subschemas};

/// Rewrites references and collects the definitions they need.
pub(crate) struct Resolver {
    spec_file: PathBuf,
    /// Every definition, resolved, by name.
    pub(crate) defs: IndexMap<String, Value>,
    /// Where each definition came from (file, JSON path), for messages.
    origin: IndexMap<String, (PathBuf, String)>,
    /// Other files the spec references (for `cargo:rerun-if-changed`).
    pub(crate) files: Vec<PathBuf>,
    in_progress: HashSet<(PathBuf, String)>,
    pub(crate) errors: Vec<SpecError>,
    /// Definitions whose resolution failed (already reported).
    pub(crate) broken: HashSet<String>,
}

impl Resolver {
    pub(crate) fn new(spec_file: &Path) -> Self {
        Resolver {
            spec_file: spec_file.to_owned(),
            defs: IndexMap::new(),
            origin: IndexMap::new(),
            files: Vec::new(),
            in_progress: HashSet::new(),
            errors: Vec::new(),
            broken: HashSet::new(),
        }
    }

    /// The file and JSON path definition `name` came from.
    pub(crate) fn origin(&self, name: &str) -> Option<&(PathBuf, String)> {
        self.origin.get(name)
    }

    /// Resolves the spec's own `$defs`.
    pub(crate) fn add_local_defs(&mut self, defs: &IndexMap<String, Value>) {
        let file = self.spec_file.clone();
        for (name, schema) in defs {
            let at = join_path("$defs", name);
            if !self.defs.contains_key(name) {
                // Reserve the name first so self-references resolve.
                self.defs.insert(name.clone(), Value::Null);
                self.origin.insert(name.clone(), (file.clone(), at.clone()));
                let before = self.errors.len();
                let resolved = self.resolve(schema, &file, defs, &at);
                if self.errors.len() > before {
                    self.broken.insert(name.clone());
                }
                self.defs.insert(name.clone(), resolved);
            }
        }
    }

    /// Returns `schema` with every `$ref` rewritten; `local_defs` are the
    /// `$defs` of `file`. Only schema positions are walked: a `const`,
    /// `enum`, `default` or `examples` value is data and stays as written,
    /// even when it looks like `{"$ref": ...}`.
    pub(crate) fn resolve(
        &mut self,
        schema: &Value,
        file: &Path,
        local_defs: &IndexMap<String, Value>,
        at: &str,
    ) -> Value {
        // A schema resource of its own: its references resolve against its
        // `$id`, so they stay as written for the validator.
        if crate::schema::is_resource(schema) {
            return schema.clone();
        }
        map_subschemas(schema, |slot| match slot {
            Slot::Ref(reference) => {
                Value::String(self.reference(reference, file, local_defs, &join_path(at, "$ref")))
            }
            Slot::Schema(segment, sub) => self.resolve(
                sub,
                file,
                local_defs,
                &format!("{at}{}", segment_path(segment)),
            ),
        })
    }

    fn reference(
        &mut self,
        reference: &str,
        file: &Path,
        local_defs: &IndexMap<String, Value>,
        at: &str,
    ) -> String {
        let fail = |this: &mut Self, message: String, fix: &str| {
            this.errors.push(SpecError::new(file, at, message, fix));
            reference.to_owned()
        };
        if crate::schema::kept_reference(reference) {
            return reference.to_owned();
        }
        if reference.contains("://") || reference.starts_with("urn:") {
            return fail(
                self,
                format!("`$ref` `{reference}` points outside the project"),
                "copy the schema into `$defs` (or a file beside the spec) and use `#/$defs/Name` or `file.json#/$defs/Name`",
            );
        }
        let (target, fragment) = match reference.split_once('#') {
            Some((target, fragment)) => (target, fragment),
            None => (reference, ""),
        };
        if target.is_empty() {
            let Some(name) = fragment
                .strip_prefix("/$defs/")
                .filter(|n| !n.contains('/'))
            else {
                return fail(
                    self,
                    format!("`$ref` `{reference}` is not supported"),
                    "reference a definition as `#/$defs/Name`",
                );
            };
            if file == self.spec_file {
                if !local_defs.contains_key(name) {
                    let known = local_defs
                        .keys()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return fail(
                        self,
                        format!(
                            "`$ref` `{reference}` does not resolve: there is no `$defs.{name}`"
                        ),
                        &if known.is_empty() {
                            format!("add `{name}` under `$defs`")
                        } else {
                            format!("add `{name}` under `$defs`, or use one of {known}")
                        },
                    );
                }
                return format!("#/$defs/{name}");
            }
            return self.import(file, name, local_defs, at, reference);
        }
        // A reference into another file, relative to the referencing one.
        let other = file.parent().unwrap_or(Path::new(".")).join(target);
        let document = match std::fs::read_to_string(&other) {
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(v) => v,
                Err(e) => {
                    return fail(
                        self,
                        format!(
                            "`$ref` `{reference}`: {} is not valid JSON: {e}",
                            other.display()
                        ),
                        "fix that file's JSON",
                    );
                }
            },
            Err(e) => {
                return fail(
                    self,
                    format!(
                        "`$ref` `{reference}` does not resolve: cannot read {}: {e}",
                        other.display()
                    ),
                    "check the file name; paths are relative to the file that contains the `$ref`",
                );
            }
        };
        if !self.files.contains(&other) {
            self.files.push(other.clone());
        }
        let other_defs: IndexMap<String, Value> = document
            .get("$defs")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        if fragment.is_empty() {
            let name = heck::AsUpperCamelCase(
                other
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("External"),
            )
            .to_string();
            let mut whole = other_defs.clone();
            let mut body = document.clone();
            if let Some(obj) = body.as_object_mut() {
                obj.remove("$defs");
                obj.remove("$schema");
                obj.remove("$id");
            }
            whole.insert(name.clone(), body);
            return self.import(&other, &name, &whole, at, reference);
        }
        match fragment
            .strip_prefix("/$defs/")
            .filter(|n| !n.contains('/'))
        {
            Some(name) if other_defs.contains_key(name) => {
                self.import(&other, name, &other_defs, at, reference)
            }
            Some(name) => fail(
                self,
                format!(
                    "`$ref` `{reference}` does not resolve: {} has no `$defs.{name}`",
                    other.display()
                ),
                "check the definition's name in that file",
            ),
            None => fail(
                self,
                format!("`$ref` `{reference}` is not supported"),
                "use `file.json#/$defs/Name` or `file.json`",
            ),
        }
    }

    /// Brings definition `name` of `file` into the shared map.
    fn import(
        &mut self,
        file: &Path,
        name: &str,
        file_defs: &IndexMap<String, Value>,
        at: &str,
        reference: &str,
    ) -> String {
        let key = (file.to_owned(), name.to_owned());
        let resolved_name = format!("#/$defs/{name}");
        if let Some((origin_file, origin_at)) = self.origin.get(name) {
            if origin_file != file && !self.in_progress.contains(&key) {
                let same = file_defs
                    .get(name)
                    .map(|s| self.peek_same(name, s))
                    .unwrap_or(false);
                if !same {
                    self.errors.push(SpecError::new(
                        &self.spec_file.clone(),
                        at,
                        format!(
                            "`$ref` `{reference}` brings in a definition `{name}` that is already defined differently at {} `{origin_at}`",
                            origin_file.display()
                        ),
                        "rename one of the two definitions",
                    ));
                }
            }
            return resolved_name;
        }
        let Some(schema) = file_defs.get(name) else {
            self.errors.push(SpecError::new(
                file,
                at,
                format!("`$ref` `{reference}` does not resolve"),
                "check the definition's name",
            ));
            return reference.to_owned();
        };
        self.in_progress.insert(key.clone());
        self.defs.insert(name.to_owned(), Value::Null);
        self.origin
            .insert(name.to_owned(), (file.to_owned(), join_path("$defs", name)));
        let before = self.errors.len();
        let resolved = self.resolve(schema, file, file_defs, &join_path("$defs", name));
        if self.errors.len() > before {
            self.broken.insert(name.to_owned());
        }
        self.defs.insert(name.to_owned(), resolved);
        self.in_progress.remove(&key);
        resolved_name
    }

    fn peek_same(&self, name: &str, schema: &Value) -> bool {
        self.defs.get(name) == Some(schema)
    }
}

/// A path segment from [`map_subschemas`] (`properties.a`, `anyOf[1]`)
/// appended to a path: `.properties.a`, `.anyOf[1]`, or `["a b"]`-quoted
/// keys kept as they are.
pub(crate) fn segment_path(segment: &str) -> String {
    if segment.starts_with('[') {
        segment.to_owned()
    } else {
        format!(".{segment}")
    }
}
