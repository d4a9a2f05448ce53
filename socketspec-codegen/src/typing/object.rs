//! Object schemas: a struct of the named properties (in the spec's order)
//! and a flattened map of the others, a plain map, or an enum tagged by a
//! property whose `const` tells the branches of a union apart.
//!
//! Losslessness comes from the map: unless the schema closes itself
//! (`additionalProperties: false`, or `unevaluatedProperties: false` over
//! plain composition), every property it does not name is kept there, so
//! properties that `patternProperties`, `dependentSchemas`, `if`/`then`
//! or union branches allow survive the round trip.

use std::collections::HashSet;

use indexmap::IndexMap;
use serde_json::Value;

use super::kinds::Kinds;
use super::names::{Scope, field_name, type_name, variant_name};
use super::planner::{Ctx, Part, Parts, Planner, Union, canonical, doc_text};
use super::{Extra, Field, ItemKind, StructPlan, Ty, Variant};
use crate::error::join_path;

/// The fields and extra map of an object, before it becomes a type.
struct Shape {
    fields: Vec<Field>,
    extra: Option<Extra>,
    closed: bool,
}

impl<'m> Planner<'m> {
    /// The type of the object values of a node read as `parts`.
    pub(super) fn object_type(&mut self, parts: &Parts<'m>, schema: &'m Value, ctx: &Ctx) -> Ty {
        let key = format!("object {}", canonical(schema));
        if let Some(ty) = self.reuse(ctx, &key) {
            return ty;
        }
        if let [union] = parts.unions.as_slice()
            && let Some(ty) = self.tagged(union, parts, schema, ctx, &key)
        {
            return ty;
        }
        for union in &parts.unions {
            if union
                .branches
                .iter()
                .any(|(b, at)| self.names_properties(b, at))
            {
                self.warn(
                    &union.path,
                    "the branches are objects the generator cannot tell apart (no property with a different `const` in each), so the properties only they name stay in the `extra` map as JSON values",
                    "give each branch a property with its own `const` (e.g. `\"kind\": {\"const\": \"a\"}`) and list it in `required`",
                );
            }
        }
        let all: Vec<&Part<'m>> = parts.parts.iter().collect();
        let shape = self.shape(&all, None, !parts.unions.is_empty(), ctx);
        if shape.fields.is_empty()
            && let Some(extra) = &shape.extra
        {
            return match &extra.ty {
                Ty::Any => Ty::Object,
                other => Ty::Map(Box::new(other.clone())),
            };
        }
        let plan = self.struct_plan(shape);
        self.make_item(ctx, schema, ItemKind::Struct(plan), Some(key))
    }

    /// Whether a union branch names properties (and so would type them).
    fn names_properties(&self, branch: &'m Value, at: &str) -> bool {
        self.parts(branch, at, Kinds::OBJECT).parts.iter().any(|p| {
            p.schema.contains_key("properties") || p.schema.contains_key("patternProperties")
        })
    }

    /// An enum tagged by the first property that every branch requires
    /// with a `const` string of its own, if there is one.
    fn tagged(
        &mut self,
        union: &Union<'m>,
        shared: &Parts<'m>,
        schema: &'m Value,
        ctx: &Ctx,
        key: &str,
    ) -> Option<Ty> {
        let branches: Vec<Parts<'m>> = union
            .branches
            .iter()
            .map(|(b, at)| self.parts(b, at, Kinds::OBJECT))
            .collect();
        if branches.iter().any(|b| !b.unions.is_empty()) {
            return None;
        }
        let required = |b: &Parts<'m>, name: &str| {
            b.parts.iter().chain(&shared.parts).any(|p| {
                p.schema
                    .get("required")
                    .and_then(Value::as_array)
                    .is_some_and(|r| r.iter().any(|v| v.as_str() == Some(name)))
            })
        };
        let candidates: Vec<&String> = branches
            .first()?
            .parts
            .iter()
            .filter_map(|p| p.schema.get("properties").and_then(Value::as_object))
            .flat_map(|props| props.keys())
            .collect();
        let (tag, values) = candidates.into_iter().find_map(|name| {
            let values: Vec<String> = branches
                .iter()
                .map(|b| tag_value(b, name).filter(|_| required(b, name)))
                .collect::<Option<_>>()?;
            let distinct: HashSet<&String> = values.iter().collect();
            (distinct.len() == values.len()).then(|| (name.clone(), values))
        })?;
        let mut scope = Scope::default();
        let mut variants = Vec::new();
        for ((branch, (branch_schema, at)), value) in
            branches.iter().zip(&union.branches).zip(values)
        {
            let name = scope.claim(&variant_name(&value), "", "");
            let parts: Vec<&Part<'m>> = shared.parts.iter().chain(&branch.parts).collect();
            let vctx = Ctx {
                hint: format!("{}{name}", ctx.hint),
                path: at.clone(),
                slot: None,
            };
            let shape = self.shape(&parts, Some(&tag), false, &vctx);
            let ty = if shape.fields.is_empty() && shape.extra.is_none() {
                None
            } else {
                let plan = self.struct_plan(shape);
                Some(self.make_item(&vctx, branch_schema, ItemKind::Struct(plan), None))
            };
            variants.push(Variant { name, value, ty });
        }
        Some(self.make_item(
            ctx,
            schema,
            ItemKind::Tagged { tag, variants },
            Some(key.to_owned()),
        ))
    }

    /// The named properties of `parts` (without `exclude`) and what the
    /// object allows beyond them. `open` when a union may add properties.
    fn shape(
        &mut self,
        parts: &[&Part<'m>],
        exclude: Option<&str>,
        open: bool,
        ctx: &Ctx,
    ) -> Shape {
        let mut declared: IndexMap<&'m str, (&'m Value, String)> = IndexMap::new();
        let mut forbidden: HashSet<&str> = HashSet::new();
        let mut required: HashSet<&str> = HashSet::new();
        for part in parts {
            if let Some(props) = part.schema.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    if Some(name.as_str()) == exclude {
                        continue;
                    }
                    if sub == &Value::Bool(false) {
                        forbidden.insert(name);
                    }
                    declared.entry(name.as_str()).or_insert_with(|| {
                        (
                            sub,
                            format!("{}.{}", part.path, join_path("properties", name)),
                        )
                    });
                }
            }
            if let Some(names) = part.schema.get("required").and_then(Value::as_array) {
                required.extend(names.iter().filter_map(Value::as_str));
            }
        }
        let mut scope = Scope::default();
        let mut fields = Vec::new();
        for (name, (sub, at)) in declared {
            // `"x": false`: the property can never be present.
            if forbidden.contains(name) {
                continue;
            }
            let fctx = Ctx {
                hint: format!("{}{}", ctx.hint, type_name(name)),
                path: at,
                slot: None,
            };
            let ty = self.node(sub, &fctx);
            fields.push(Field {
                name: scope.claim(&field_name(name), "", "_"),
                json: name.to_owned(),
                ty,
                required: required.contains(name),
                doc: doc_text(sub),
            });
        }
        let (extra, closed) = self.extra(parts, open, ctx);
        let extra = extra.map(|ty| Extra {
            name: scope.claim("extra", "", "_"),
            ty,
        });
        Shape {
            fields,
            extra,
            closed,
        }
    }

    /// What the object allows beyond its named properties: the type of
    /// those values (`None` when nothing), and whether it is closed.
    fn extra(&mut self, parts: &[&Part<'m>], open: bool, ctx: &Ctx) -> (Option<Ty>, bool) {
        if let Some(closing) = parts
            .iter()
            .find(|p| p.schema.get("additionalProperties") == Some(&Value::Bool(false)))
        {
            let patterns: Vec<(&'m Value, String)> = patterns(closing);
            if patterns.is_empty() {
                return (None, true);
            }
            let at = format!("{}.patternProperties", closing.path);
            return (Some(self.common_type(&patterns, None, &at, ctx)), false);
        }
        let has = |key: &str| parts.iter().any(|p| p.schema.contains_key(key));
        let plain = !open
            && !has("additionalProperties")
            && !has("patternProperties")
            && !has("dependentSchemas")
            && !has("if");
        if let Some(part) = parts
            .iter()
            .find(|p| p.schema.contains_key("unevaluatedProperties"))
            && plain
        {
            return match part.schema.get("unevaluatedProperties") {
                Some(Value::Bool(false)) => (None, true),
                Some(Value::Bool(true)) | None => (Some(Ty::Any), false),
                Some(sub) => {
                    let vctx = ctx.child("Value", "unevaluatedProperties");
                    let vctx = Ctx {
                        path: format!("{}.unevaluatedProperties", part.path),
                        ..vctx
                    };
                    (Some(self.node(sub, &vctx)), false)
                }
            };
        }
        let additional: Vec<(&'m Value, String)> = parts
            .iter()
            .filter_map(|p| {
                p.schema
                    .get("additionalProperties")
                    .filter(|a| !matches!(a, Value::Bool(true)))
                    .map(|a| (a, format!("{}.additionalProperties", p.path)))
            })
            .collect();
        let patterns: Vec<(&'m Value, String)> = parts.iter().flat_map(|p| patterns(p)).collect();
        let unevaluated = has("unevaluatedProperties");
        match (additional.as_slice(), patterns.is_empty()) {
            ([(schema, at)], true) if !unevaluated => {
                let vctx = Ctx {
                    hint: format!("{}Value", ctx.hint),
                    path: at.clone(),
                    slot: None,
                };
                (Some(self.node(schema, &vctx)), false)
            }
            ([(schema, at)], false) if !unevaluated => {
                let first = patterns.first().map(|(_, p)| p.clone()).unwrap_or_default();
                (
                    Some(self.common_type(&patterns, Some((schema, at)), &first, ctx)),
                    false,
                )
            }
            (_, false) => {
                let first = patterns.first().map(|(_, p)| parent(p)).unwrap_or_default();
                self.warn(
                    &first,
                    "properties the patterns allow share the `extra` map with any other property, so their values are JSON values (`serde_json::Value`)",
                    "add `\"additionalProperties\": false` (or give it the patterns' schema)",
                );
                (Some(Ty::Any), false)
            }
            _ => (Some(Ty::Any), false),
        }
    }

    /// One type for the values of several patterns (and the additional
    /// properties' schema), when their schemas agree; else JSON values.
    fn common_type(
        &mut self,
        patterns: &[(&'m Value, String)],
        additional: Option<(&'m Value, &String)>,
        at: &str,
        ctx: &Ctx,
    ) -> Ty {
        let mut schemas: Vec<(&'m Value, String)> = patterns.to_vec();
        if let Some((schema, path)) = additional {
            schemas.push((schema, path.clone()));
        }
        let first = canonical(schemas[0].0);
        if schemas.iter().all(|(s, _)| canonical(s) == first) {
            let vctx = Ctx {
                hint: format!("{}Value", ctx.hint),
                path: schemas[0].1.clone(),
                slot: None,
            };
            return self.node(schemas[0].0, &vctx);
        }
        self.warn(
            at,
            "the patterns' schemas differ, so the values they allow are JSON values (`serde_json::Value`)",
            "give every pattern (and `additionalProperties`) one schema, or name the properties under `properties`",
        );
        Ty::Any
    }

    fn struct_plan(&self, shape: Shape) -> StructPlan {
        StructPlan {
            fields: shape.fields,
            extra: shape.extra,
            closed: shape.closed,
        }
    }
}

/// The `patternProperties` schemas of a part, with their paths.
fn patterns<'m>(part: &Part<'m>) -> Vec<(&'m Value, String)> {
    part.schema
        .get("patternProperties")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(pattern, schema)| {
                    (
                        schema,
                        format!("{}.{}", part.path, join_path("patternProperties", pattern)),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `a.patternProperties["x"]` -> `a.patternProperties`.
fn parent(path: &str) -> String {
    match path.rfind(".patternProperties") {
        Some(i) => path[..i + ".patternProperties".len()].to_owned(),
        None => path.to_owned(),
    }
}

/// The `const` string (or single-value `enum`) a branch gives `name`.
fn tag_value(branch: &Parts<'_>, name: &str) -> Option<String> {
    branch.parts.iter().find_map(|p| {
        let prop = p.schema.get("properties")?.get(name)?;
        match (prop.get("const"), prop.get("enum")) {
            (Some(Value::String(c)), _) => Some(c.clone()),
            (None, Some(Value::Array(values))) => match values.as_slice() {
                [Value::String(only)] => Some(only.clone()),
                _ => None,
            },
            _ => None,
        }
    })
}
