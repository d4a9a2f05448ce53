//! The planner: walks every definition and payload once and decides the
//! Rust type of each schema node (objects are in [`super::object`]).

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::kinds::{Kinds, island_in_place, kinds};
use super::leaves::integer_type;
use super::names::{Scope, type_name};
use super::{Example, Item, ItemKind, Ty, TypePlan, Variant};
use crate::error::join_path;
use crate::model::Model;
use crate::resolve::segment_path;
use crate::schema::{accepts_anything, exact_ref, is_annotation, ref_name, without_annotations};
use crate::validate::GENERATED_TYPE_NAMES;
use crate::warning::SpecWarning;

/// Where a node is and what its type would be called.
#[derive(Debug, Clone)]
pub(super) struct Ctx {
    /// The name its item gets if it needs one (`FailMode`).
    pub(super) hint: String,
    /// Its JSON path in the spec.
    pub(super) path: String,
    /// The item it must fill (a definition's or a payload's), if any.
    pub(super) slot: Option<usize>,
}

impl Ctx {
    /// The context of a subschema: `suffix` added to the name, `segment`
    /// to the path (`properties.mode`, `items`).
    pub(super) fn child(&self, suffix: &str, segment: &str) -> Ctx {
        Ctx {
            hint: format!("{}{suffix}", self.hint),
            path: format!("{}{}", self.path, segment_path(segment)),
            slot: None,
        }
    }
}

/// One conjunctive part of a node: every value of the node satisfies it.
pub(super) struct Part<'a> {
    pub(super) schema: &'a Map<String, Value>,
    pub(super) path: String,
}

/// An `anyOf`/`oneOf` with several branches that accept the kind at hand.
pub(super) struct Union<'a> {
    pub(super) branches: Vec<(&'a Value, String)>,
    pub(super) path: String,
}

/// A node read for one kind of value: its parts and its unions.
pub(super) struct Parts<'a> {
    pub(super) parts: Vec<Part<'a>>,
    pub(super) unions: Vec<Union<'a>>,
    /// The definitions whose keywords were read in (through `$ref`s).
    pub(super) inlined: Vec<&'a str>,
}

impl<'a> Parts<'a> {
    /// The first part with `key`, and that part's path.
    pub(super) fn first(&self, key: &str) -> Option<(&'a Value, &str)> {
        self.parts
            .iter()
            .find_map(|p| p.schema.get(key).map(|v| (v, p.path.as_str())))
    }
}

pub(super) struct Planner<'m> {
    pub(super) model: &'m Model,
    pub(super) items: Vec<Item>,
    /// Each definition's item.
    def_slots: IndexMap<String, usize>,
    /// Each definition's type once planned (`Option<Def>` for a definition
    /// whose values may be `null`).
    def_types: HashMap<String, Ty>,
    /// Payload aliases of a definition: they name its non-null type.
    payload_aliases: Vec<usize>,
    /// The definitions whose keywords are being read into the node being
    /// planned, outermost first.
    inlining: Vec<String>,
    pub(super) types: Scope,
    /// Items of inline schemas, by what decides them, so identical inline
    /// schemas share one type.
    dedupe: HashMap<String, usize>,
    warnings: Vec<SpecWarning>,
    warned: HashSet<(String, String)>,
    pub(super) examples: Vec<Example>,
    pub(super) example_paths: HashSet<String>,
}

impl<'m> Planner<'m> {
    pub(super) fn new(model: &'m Model) -> Self {
        let mut types = Scope::default();
        for name in GENERATED_TYPE_NAMES {
            types.reserve(name);
        }
        // What the TypeScript client declares or uses: a definition named
        // so is `<Name>Def` in both languages.
        for name in crate::emit::typescript::reserved_type_names() {
            types.reserve(&name);
        }
        for event in &model.events {
            types.reserve(&event.type_name);
            types.reserve(&format!("{}Cx", event.type_name));
        }
        for message in &model.server_events {
            types.reserve(&message.type_name);
        }
        Planner {
            model,
            items: Vec::new(),
            def_slots: IndexMap::new(),
            def_types: HashMap::new(),
            payload_aliases: Vec::new(),
            inlining: Vec::new(),
            types,
            dedupe: HashMap::new(),
            warnings: Vec::new(),
            warned: HashSet::new(),
            examples: Vec::new(),
            example_paths: HashSet::new(),
        }
    }

    pub(super) fn run(mut self) -> TypePlan {
        let model = self.model;
        let payloads: Vec<(&'m str, &'m Value, String, Option<&'m str>, String)> = model
            .events
            .iter()
            .map(|e| {
                (
                    e.type_name.as_str(),
                    &e.payload,
                    join_path(&join_path("events", &e.name), "payload"),
                    e.description.as_deref(),
                    e.name.clone(),
                )
            })
            .chain(model.server_events.iter().map(|m| {
                (
                    m.type_name.as_str(),
                    &m.payload,
                    join_path(&m.path, "payload"),
                    m.description.as_deref(),
                    m.name.clone(),
                )
            }))
            .collect();
        // Definitions first, so references resolve whatever the order.
        for (name, schema) in &model.defs {
            let base = type_name(name);
            let reused = payloads
                .iter()
                .any(|(ty, payload, ..)| *ty == base && exact_ref(payload) == Some(name));
            let rust = if reused {
                base
            } else {
                self.types.claim(&base, "Def", "")
            };
            let path = join_path("$defs", name);
            let doc = doc_text(schema).unwrap_or_else(|| format!("`$defs.{name}` of the spec."));
            let slot = self.push(rust, doc, path, ItemKind::Alias(Ty::Any));
            self.def_slots.insert(name.clone(), slot);
        }
        for (name, schema) in &model.defs {
            let slot = self.def_slots[name];
            let ctx = Ctx {
                hint: self.items[slot].name.clone(),
                path: join_path("$defs", name),
                slot: Some(slot),
            };
            self.inlining.push(name.clone());
            let ty = self.node(schema, &ctx);
            self.inlining.pop();
            let def_type = self.fill(slot, ty);
            self.def_types.insert(name.clone(), def_type);
        }
        for (type_name, payload, path, description, wire) in payloads {
            let doc = doc_text(payload)
                .or(description.map(str::to_owned))
                .unwrap_or_else(|| format!("The payload of `{wire}`."));
            if let Some(def) = exact_ref(payload) {
                let slot = self.def_slots.get(def).copied();
                self.record_examples(payload, &path, &Ty::Def(def.to_owned()));
                if slot.is_some_and(|s| self.items[s].name == type_name) {
                    continue;
                }
                let alias = self.push(
                    type_name.to_owned(),
                    doc,
                    path,
                    ItemKind::Alias(Ty::Def(def.to_owned())),
                );
                self.payload_aliases.push(alias);
                continue;
            }
            let slot = self.push(
                type_name.to_owned(),
                doc,
                path.clone(),
                ItemKind::Alias(Ty::Object),
            );
            let ctx = Ctx {
                hint: type_name.to_owned(),
                path,
                slot: Some(slot),
            };
            let ty = self.node_within(payload, &ctx, Kinds::OBJECT);
            self.fill(slot, ty);
        }
        self.unchecked_formats();
        self.resolve_defs();
        super::recursion::break_cycles(&mut self.items);
        TypePlan {
            items: self.items,
            examples: self.examples,
            warnings: self.warnings,
        }
    }

    /// Adds an item; returns its index.
    pub(super) fn push(
        &mut self,
        name: String,
        doc: String,
        path: String,
        kind: ItemKind,
    ) -> usize {
        self.items.push(Item {
            name,
            doc,
            path,
            kind,
        });
        self.items.len() - 1
    }

    /// Puts `ty` into `slot` (as an alias unless it is the slot's own
    /// item); returns the type references to the slot's schema get.
    fn fill(&mut self, slot: usize, ty: Ty) -> Ty {
        match &ty {
            Ty::Named(i) if *i == slot => ty,
            Ty::Option(inner) if **inner == Ty::Named(slot) => ty,
            _ => {
                self.items[slot].kind = ItemKind::Alias(ty);
                Ty::Named(slot)
            }
        }
    }

    /// Replaces every reference to a definition with its type.
    fn resolve_defs(&mut self) {
        let def_types: HashMap<String, Ty> = self
            .def_types
            .iter()
            .map(|(name, ty)| (name.clone(), ty.clone()))
            .collect();
        let resolve = |ty: &mut Ty| replace_defs(ty, &def_types);
        for item in &mut self.items {
            item.kind.for_each_ty(resolve);
        }
        for example in &mut self.examples {
            replace_defs(&mut example.ty, &def_types);
        }
        // A payload is an object, never `null`: its alias names the
        // definition's item itself.
        for &alias in &self.payload_aliases {
            if let ItemKind::Alias(Ty::Option(inner)) = &self.items[alias].kind {
                self.items[alias].kind = ItemKind::Alias((**inner).clone());
            }
        }
    }

    /// The type of `schema` (every value it accepts).
    pub(super) fn node(&mut self, schema: &'m Value, ctx: &Ctx) -> Ty {
        self.node_within(schema, ctx, Kinds::ALL)
    }

    /// The type of the values of `schema` of the kinds `within`.
    pub(super) fn node_within(&mut self, schema: &'m Value, ctx: &Ctx, within: Kinds) -> Ty {
        let ty = self.node_type(schema, ctx, within);
        self.record_examples(schema, &ctx.path, &ty);
        ty
    }

    fn node_type(&mut self, schema: &'m Value, ctx: &Ctx, within: Kinds) -> Ty {
        if let Some(def) = exact_ref(schema) {
            return Ty::Def(def.to_owned());
        }
        let any = if within == Kinds::OBJECT {
            Ty::Object
        } else {
            Ty::Any
        };
        if accepts_anything(schema) || schema == &Value::Bool(false) {
            return any;
        }
        if island_in_place(schema, &self.model.defs) {
            self.warn(
                &ctx.path,
                "the schema has an `$id` of its own, a `$dynamicRef` or a reference to an anchor (here or in an `allOf`/`anyOf`/`oneOf`/`not`/`if`/`then`/`else` it combines): the server validates it as written, and its Rust type is `serde_json::Value`",
                "for a typed field, move the schema under `$defs` and reference it as `#/$defs/Name`",
            );
            return any;
        }
        let found = kinds(schema, &self.model.defs).and(within);
        if found == Kinds::ALL {
            let hint = if schema.get("properties").is_some() || schema.get("required").is_some() {
                " (`\"type\": \"object\"` for a schema with `properties`)"
            } else {
                ""
            };
            self.warn(
                &ctx.path,
                "the schema does not say which kind of JSON value it takes (no `type`, `const` or `enum`), so its Rust type is `serde_json::Value`",
                &format!("add `\"type\"`{hint}"),
            );
            return any;
        }
        let groups = found.groups();
        let nullable = groups.contains(&Kinds::NULL);
        let rest: Vec<Kinds> = groups.into_iter().filter(|g| *g != Kinds::NULL).collect();
        let ty = match rest.as_slice() {
            [] if nullable => return Ty::Unit,
            // Accepts nothing: any type will do.
            [] => return any,
            [group] => self.group_type(schema, *group, ctx),
            _ => self.untagged(schema, &rest, found, ctx),
        };
        if nullable {
            Ty::Option(Box::new(ty))
        } else {
            ty
        }
    }

    /// An enum with one variant per kind of value.
    fn untagged(&mut self, schema: &'m Value, groups: &[Kinds], found: Kinds, ctx: &Ctx) -> Ty {
        let key = format!("untagged {found:?} {}", canonical(schema));
        if let Some(ty) = self.reuse(ctx, &key) {
            return ty;
        }
        let variants = groups
            .iter()
            .map(|group| {
                let name = group_name(*group);
                let ty = self.group_type(schema, *group, &ctx.child(name, ""));
                Variant {
                    name: name.to_owned(),
                    value: String::new(),
                    ty: Some(ty),
                }
            })
            .collect();
        self.make_item(ctx, schema, ItemKind::Untagged(variants), Some(key))
    }

    /// The type of the values of `schema` of one kind group.
    pub(super) fn group_type(&mut self, schema: &'m Value, group: Kinds, ctx: &Ctx) -> Ty {
        if let Some(def) = self.single_ref(schema, group) {
            return Ty::Def(def.to_owned());
        }
        let parts = self.parts(schema, &ctx.path, group);
        // A definition read into itself (`"A": {"properties": {"x":
        // {"allOf": [{"$ref": "#/$defs/A"}, ...]}}}`) would be read in
        // forever: that part keeps its JSON.
        if parts
            .inlined
            .iter()
            .any(|d| self.inlining.iter().any(|x| x == d))
        {
            self.warn(
                &ctx.path,
                "the schema combines a definition that contains it (through `allOf` or a `$ref` beside other keywords), so its Rust type is `serde_json::Value`",
                "reference the definition alone (`{\"$ref\": \"#/$defs/Name\"}`), or move the extra keywords into a definition of their own",
            );
            return Ty::Any;
        }
        let depth = self.inlining.len();
        self.inlining
            .extend(parts.inlined.iter().map(|d| (*d).to_owned()));
        let ty = self.group_type_of(schema, &parts, group, ctx);
        self.inlining.truncate(depth);
        ty
    }

    /// The definition a node is for `group` when it only picks it out of a
    /// union (`"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]`): then
    /// its type is the definition's, by name.
    fn single_ref(&self, schema: &'m Value, group: Kinds) -> Option<&'m str> {
        let object = schema.as_object()?;
        let own = |k: &str| !is_annotation(k) && !matches!(k, "type" | "anyOf" | "oneOf");
        if object.keys().any(|k| own(k))
            || (object.contains_key("anyOf") && object.contains_key("oneOf"))
        {
            return None;
        }
        let branches = object
            .get("anyOf")
            .or_else(|| object.get("oneOf"))
            .and_then(Value::as_array)?;
        let mut fitting = branches
            .iter()
            .filter(|b| kinds(b, &self.model.defs).meets(group));
        match (fitting.next(), fitting.next()) {
            (Some(only), None) => exact_ref(only),
            _ => None,
        }
    }

    fn group_type_of(
        &mut self,
        schema: &'m Value,
        parts: &Parts<'m>,
        group: Kinds,
        ctx: &Ctx,
    ) -> Ty {
        if group == Kinds::BOOLEAN {
            Ty::Bool
        } else if group == Kinds::INTEGER {
            integer_type(parts)
        } else if group.meets(Kinds::NUMBER) {
            Ty::F64
        } else if group == Kinds::STRING {
            self.string_type(parts, schema, ctx)
        } else if group == Kinds::ARRAY {
            self.array_type(parts, ctx)
        } else if group == Kinds::OBJECT {
            self.object_type(parts, schema, ctx)
        } else {
            Ty::Unit
        }
    }

    /// The conjunctive parts of `schema` for values of `group`: itself,
    /// what it references, its `allOf`, and of each `anyOf`/`oneOf` the
    /// one branch that accepts the group (several become a [`Union`]).
    pub(super) fn parts(&self, schema: &'m Value, path: &str, group: Kinds) -> Parts<'m> {
        let mut out = Parts {
            parts: Vec::new(),
            unions: Vec::new(),
            inlined: Vec::new(),
        };
        self.collect_parts(schema, path.to_owned(), group, &mut out, &mut Vec::new());
        out
    }

    fn collect_parts(
        &self,
        schema: &'m Value,
        path: String,
        group: Kinds,
        out: &mut Parts<'m>,
        trail: &mut Vec<&'m str>,
    ) {
        let Some(object) = schema.as_object() else {
            return;
        };
        if let Some(name) = ref_name(schema)
            && !trail.contains(&name)
            && let Some((key, target)) = self.model.defs.get_key_value(name)
        {
            trail.push(key.as_str());
            out.inlined.push(key.as_str());
            self.collect_parts(target, join_path("$defs", name), group, out, trail);
            trail.pop();
        }
        out.parts.push(Part {
            schema: object,
            path: path.clone(),
        });
        if let Some(all) = object.get("allOf").and_then(Value::as_array) {
            for (i, part) in all.iter().enumerate() {
                self.collect_parts(part, format!("{path}.allOf[{i}]"), group, out, trail);
            }
        }
        for key in ["anyOf", "oneOf"] {
            let Some(branches) = object.get(key).and_then(Value::as_array) else {
                continue;
            };
            let fitting: Vec<(&'m Value, String)> = branches
                .iter()
                .enumerate()
                .filter(|(_, b)| kinds(b, &self.model.defs).meets(group))
                .map(|(i, b)| (b, format!("{path}.{key}[{i}]")))
                .collect();
            match fitting.as_slice() {
                [(branch, at)] => self.collect_parts(branch, at.clone(), group, out, trail),
                [] => {}
                _ => out.unions.push(Union {
                    branches: fitting,
                    path: format!("{path}.{key}"),
                }),
            }
        }
    }

    /// The type of an inline item already made for an identical schema.
    pub(super) fn reuse(&self, ctx: &Ctx, key: &str) -> Option<Ty> {
        if ctx.slot.is_some() {
            return None;
        }
        self.dedupe.get(key).map(|i| Ty::Named(*i))
    }

    /// Makes the item for a node: fills its slot, or adds a new item named
    /// after its context (registered under `key` for reuse).
    pub(super) fn make_item(
        &mut self,
        ctx: &Ctx,
        schema: &Value,
        kind: ItemKind,
        key: Option<String>,
    ) -> Ty {
        let index = match ctx.slot {
            Some(slot) => {
                self.items[slot].kind = kind;
                slot
            }
            None => {
                let name = self.types.claim(&ctx.hint, "", "");
                let doc =
                    doc_text(schema).unwrap_or_else(|| format!("`{}` of the spec.", ctx.path));
                self.push(name, doc, ctx.path.clone(), kind)
            }
        };
        // A payload's own item is not reused for an inline schema: its
        // name belongs to the event.
        let payload_slot = ctx
            .slot
            .is_some_and(|s| !self.def_slots.values().any(|d| *d == s));
        if let Some(key) = key
            && !payload_slot
        {
            self.dedupe.entry(key).or_insert(index);
        }
        Ty::Named(index)
    }

    /// Records a build warning (once per place and message).
    pub(super) fn warn(&mut self, path: &str, message: &str, fix: &str) {
        if self.warned.insert((path.to_owned(), message.to_owned())) {
            self.warnings
                .push(SpecWarning::new(&self.model.file, path, message, fix));
        }
    }
}

/// The variant name of a kind group in an untagged enum.
fn group_name(group: Kinds) -> &'static str {
    if group == Kinds::BOOLEAN {
        "Boolean"
    } else if group == Kinds::INTEGER {
        "Integer"
    } else if group.meets(Kinds::NUMBER) {
        "Number"
    } else if group == Kinds::STRING {
        "String"
    } else if group == Kinds::ARRAY {
        "Array"
    } else {
        "Object"
    }
}

/// What decides a schema's type, as text: its JSON without annotations.
pub(super) fn canonical(schema: &Value) -> String {
    without_annotations(schema).to_string()
}

/// A schema's own description or title.
pub(super) fn doc_text(schema: &Value) -> Option<String> {
    schema
        .get("description")
        .or_else(|| schema.get("title"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn replace_defs(ty: &mut Ty, defs: &HashMap<String, Ty>) {
    match ty {
        Ty::Def(name) => {
            if let Some(found) = defs.get(name.as_str()) {
                *ty = found.clone();
            } else {
                *ty = Ty::Any;
            }
        }
        Ty::Vec(inner) | Ty::Map(inner) | Ty::Option(inner) | Ty::Boxed(inner) => {
            replace_defs(inner, defs);
        }
        Ty::Tuple(parts) => parts.iter_mut().for_each(|p| replace_defs(p, defs)),
        _ => {}
    }
}
