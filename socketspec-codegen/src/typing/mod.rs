//! The Rust type of every payload schema, decided once, before any code is
//! written: the [`TypePlan`] the Rust emitter prints, the docs page and the
//! warnings describe.
//!
//! The rule (docs/spec-format.md, "How payloads become Rust types"): every
//! schema node gets a Rust type that decodes every value the schema accepts
//! and encodes it back unchanged (`socketspec_payload::same_json`), or,
//! where the generator cannot type it faithfully, a lossless stand-in
//! (`serde_json::Value`, or a map of them) announced by a build warning.
//! What a type does not check itself (string lengths, patterns, bounds, ...)
//! the runtime's validator checks before a handler runs.
//!
//! The steps: which kinds of JSON value a node accepts ([`kinds`]); for one
//! kind, the node's conjunctive parts (itself, what it `$ref`s, its `allOf`,
//! the one `anyOf`/`oneOf` branch of that kind) are read together
//! (`planner`); objects become structs, maps or tagged enums (`object`);
//! recursive types get boxes (`recursion`); names come from `names`.

pub(crate) mod kinds;
mod leaves;
mod names;
mod notes;
mod object;
mod planner;
mod recursion;

use serde_json::Value;

use crate::model::Model;
use crate::warning::SpecWarning;

pub(crate) use names::{Scope, snake_ident, type_name};

/// The Rust types of a spec's payloads.
#[derive(Debug, Clone, Default)]
pub struct TypePlan {
    /// Every named item of the module, in the order they are written.
    pub items: Vec<Item>,
    /// Every `examples` value of the spec with the Rust type of its schema,
    /// for the generated `check_examples`.
    pub examples: Vec<Example>,
    /// What was typed with a lossless stand-in, or is not checked.
    pub warnings: Vec<SpecWarning>,
}

impl TypePlan {
    /// The item named `name`.
    #[cfg(test)]
    pub fn item(&self, name: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.name == name)
    }
}

/// A Rust type, as the emitter prints it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Any JSON value: `serde_json::Value`.
    Any,
    /// Any JSON object: `serde_json::Map<String, Value>`.
    Object,
    /// `null`: `()`.
    Unit,
    /// `bool`.
    Bool,
    /// `i64`: integers whose bounds fit it.
    I64,
    /// `u64`: integers whose bounds fit it but not `i64`.
    U64,
    /// `socketspec_runtime::Integer`: integers of any size.
    Integer,
    /// `f64`.
    F64,
    /// `String`.
    String,
    /// `Vec<T>`.
    Vec(Box<Ty>),
    /// A tuple: an array of exactly these items.
    Tuple(Vec<Ty>),
    /// `BTreeMap<String, T>`.
    Map(Box<Ty>),
    /// `Option<T>`.
    Option(Box<Ty>),
    /// `Box<T>` (recursion).
    Boxed(Box<Ty>),
    /// A named item, by index into [`TypePlan::items`].
    Named(usize),
    /// A definition's type while planning (resolved before the plan is
    /// finished: never in a [`TypePlan`]).
    Def(String),
}

impl Ty {
    /// Whether the type decodes `null` (so an optional field of it must
    /// tell "absent" from "`null`").
    pub fn accepts_null(&self, items: &[Item]) -> bool {
        match self {
            Ty::Any | Ty::Unit | Ty::Option(_) => true,
            Ty::Boxed(inner) => inner.accepts_null(items),
            Ty::Named(i) => match items.get(*i).map(|item| &item.kind) {
                Some(ItemKind::Alias(ty) | ItemKind::Newtype(ty)) => ty.accepts_null(items),
                _ => false,
            },
            _ => false,
        }
    }

    /// Whether the type holds `i64` or `u64` somewhere outside a named
    /// struct or enum (which decode their own fields), so its field must
    /// read `1.0` as an integer through `socketspec_payload::de::integers`.
    pub fn has_machine_integers(&self, items: &[Item]) -> bool {
        match self {
            Ty::I64 | Ty::U64 => true,
            Ty::Vec(inner) | Ty::Map(inner) | Ty::Option(inner) | Ty::Boxed(inner) => {
                inner.has_machine_integers(items)
            }
            Ty::Tuple(parts) => parts.iter().any(|p| p.has_machine_integers(items)),
            Ty::Named(i) => match items.get(*i).map(|item| &item.kind) {
                Some(ItemKind::Alias(ty)) => ty.has_machine_integers(items),
                _ => false,
            },
            _ => false,
        }
    }
}

/// A named item of the generated module.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The Rust name.
    pub name: String,
    /// Its doc comment.
    pub doc: String,
    /// Where its schema is in the spec (a JSON path).
    pub path: String,
    /// What it is.
    pub kind: ItemKind,
}

/// What a named item is.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    /// `pub type Name = T;`
    Alias(Ty),
    /// A struct around one value, encoded as that value (a recursive
    /// definition that would otherwise be an alias of itself).
    Newtype(Ty),
    /// A struct of named properties.
    Struct(StructPlan),
    /// An enum of strings.
    Enum(Vec<Variant>),
    /// An enum told apart by a property's `const` value (serde's
    /// internally tagged enum).
    Tagged {
        /// The property.
        tag: String,
        /// One variant per value; `ty` is `None` for a variant with no
        /// other properties.
        variants: Vec<Variant>,
    },
    /// An enum of values of different JSON kinds (serde's untagged enum).
    Untagged(Vec<Variant>),
}

impl ItemKind {
    /// Calls `f` on every type the item holds directly.
    pub(crate) fn for_each_ty(&mut self, mut f: impl FnMut(&mut Ty)) {
        match self {
            ItemKind::Alias(ty) | ItemKind::Newtype(ty) => f(ty),
            ItemKind::Struct(plan) => {
                plan.fields.iter_mut().for_each(|field| f(&mut field.ty));
                if let Some(extra) = &mut plan.extra {
                    f(&mut extra.ty);
                }
            }
            ItemKind::Enum(_) => {}
            ItemKind::Tagged { variants, .. } | ItemKind::Untagged(variants) => {
                variants
                    .iter_mut()
                    .filter_map(|v| v.ty.as_mut())
                    .for_each(f);
            }
        }
    }
}

/// A struct's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct StructPlan {
    /// The named properties, in the spec's order.
    pub fields: Vec<Field>,
    /// The other properties the schema allows, if any.
    pub extra: Option<Extra>,
    /// The schema refuses properties it does not name.
    pub closed: bool,
}

/// One property of a struct.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The Rust field name.
    pub name: String,
    /// The property's name in JSON.
    pub json: String,
    /// The value's type (without the `Option` of an optional field).
    pub ty: Ty,
    /// Required by the schema.
    pub required: bool,
    /// The property's description.
    pub doc: Option<String>,
}

/// The properties beyond the named ones, kept in a flattened map.
#[derive(Debug, Clone, PartialEq)]
pub struct Extra {
    /// The Rust field name (`extra`, unless a property took it).
    pub name: String,
    /// The values' type ([`Ty::Any`] for any JSON value).
    pub ty: Ty,
}

/// A variant of a generated enum.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The Rust name.
    pub name: String,
    /// The JSON value it stands for (a string enum's value, a tagged
    /// enum's tag value; empty for an untagged variant).
    pub value: String,
    /// What it holds.
    pub ty: Option<Ty>,
}

/// An `examples` value and the Rust type of the schema it illustrates.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Where it is in the spec: `events.echo.payload.examples[0]`.
    pub path: String,
    /// The value.
    pub value: Value,
    /// The type it must decode into and encode back from unchanged.
    pub ty: Ty,
}

/// Plans the types of every definition, event payload and server event
/// payload of `model`.
pub(crate) fn plan(model: &Model) -> TypePlan {
    planner::Planner::new(model).run()
}
