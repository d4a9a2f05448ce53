//! The leaves of a type plan: strings (plain or an enum of the values a
//! schema lists), arrays (vectors and tuples) and integers (the narrowest of
//! `i64`, `u64` and [`Ty::Integer`] that holds every allowed value).

use serde_json::{Number, Value};

use super::names::{Scope, variant_name};
use super::planner::{Ctx, Parts, Planner, canonical};
use super::{ItemKind, Ty, Variant};

impl<'m> Planner<'m> {
    /// A string enum when the parts list the allowed strings, else `String`.
    pub(super) fn string_type(&mut self, parts: &Parts<'m>, schema: &'m Value, ctx: &Ctx) -> Ty {
        let mut allowed: Option<Vec<String>> = None;
        for part in &parts.parts {
            let listed: Option<Vec<String>> =
                match (part.schema.get("const"), part.schema.get("enum")) {
                    (Some(c), _) => Some(c.as_str().map(str::to_owned).into_iter().collect()),
                    (None, Some(Value::Array(values))) => Some(
                        values
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect(),
                    ),
                    _ => None,
                };
            if let Some(listed) = listed {
                allowed = Some(match allowed {
                    None => listed,
                    Some(before) => before.into_iter().filter(|v| listed.contains(v)).collect(),
                });
            }
        }
        let Some(values) = allowed.filter(|v| !v.is_empty()) else {
            return Ty::String;
        };
        let key = format!("enum {}", Value::from(values.clone()));
        if let Some(ty) = self.reuse(ctx, &key) {
            return ty;
        }
        let mut scope = Scope::default();
        let variants = values
            .into_iter()
            .map(|value| Variant {
                name: scope.claim(&variant_name(&value), "", ""),
                value,
                ty: None,
            })
            .collect();
        self.make_item(ctx, schema, ItemKind::Enum(variants), Some(key))
    }

    /// `Vec<T>` of the items' type, a tuple for a fixed `prefixItems`
    /// list, `Vec<serde_json::Value>` where items differ.
    pub(super) fn array_type(&mut self, parts: &Parts<'m>, ctx: &Ctx) -> Ty {
        let items = parts.first("items");
        let min_items = parts
            .parts
            .iter()
            .filter_map(|p| p.schema.get("minItems").and_then(Value::as_u64))
            .max()
            .unwrap_or(0);
        if let Some((Value::Array(prefix), at)) = parts.first("prefixItems") {
            let at = at.to_owned();
            let closed = matches!(items, Some((Value::Bool(false), _)));
            if closed && !prefix.is_empty() && min_items >= prefix.len() as u64 {
                let element = |i: usize| Ctx {
                    hint: format!("{}Item{i}", ctx.hint),
                    path: format!("{at}.prefixItems[{i}]"),
                    slot: None,
                };
                return Ty::Tuple(
                    prefix
                        .iter()
                        .enumerate()
                        .map(|(i, p)| self.node(p, &element(i)))
                        .collect(),
                );
            }
            if let Some((rest, rest_at)) = items.filter(|(i, _)| !matches!(i, Value::Bool(false)))
                && prefix.iter().all(|p| canonical(p) == canonical(rest))
            {
                let rest_at = rest_at.to_owned();
                return Ty::Vec(Box::new(self.node(rest, &item_ctx(ctx, &rest_at))));
            }
            self.warn(
                &format!("{at}.prefixItems"),
                "the array's items have different schemas by position and its length varies, so its Rust type is `Vec<serde_json::Value>`",
                "make it a fixed tuple (`\"items\": false` and `minItems` equal to the number of `prefixItems`), or give every item one schema with `items`",
            );
            return Ty::Vec(Box::new(Ty::Any));
        }
        match items {
            Some((Value::Bool(false), _)) => Ty::Vec(Box::new(Ty::Any)),
            Some((schema, at)) => {
                let at = at.to_owned();
                Ty::Vec(Box::new(self.node(schema, &item_ctx(ctx, &at))))
            }
            None => {
                let typed_elsewhere = parts.parts.iter().any(|p| {
                    p.schema
                        .get("unevaluatedItems")
                        .is_some_and(|s| !matches!(s, Value::Bool(_)))
                }) || parts.unions.iter().any(|u| {
                    u.branches
                        .iter()
                        .any(|(b, _)| b.get("items").is_some() || b.get("prefixItems").is_some())
                });
                if typed_elsewhere {
                    self.warn(
                        &ctx.path,
                        "the array's items are described only inside `anyOf`/`oneOf` branches or by `unevaluatedItems`, so its Rust type is `Vec<serde_json::Value>`",
                        "give the items one schema with `items` beside `\"type\": \"array\"`",
                    );
                }
                Ty::Vec(Box::new(Ty::Any))
            }
        }
    }
}

/// The context of an array's items.
pub(super) fn item_ctx(ctx: &Ctx, items_path_owner: &str) -> Ctx {
    Ctx {
        hint: format!("{}Item", ctx.hint),
        path: format!("{items_path_owner}.items"),
        slot: None,
    }
}

/// A bound of an integer schema, as an `i128` (saturated far beyond 64 bits).
pub(super) fn bound(n: &Number, round_up: bool) -> i128 {
    if let Some(v) = n.as_i64() {
        return i128::from(v);
    }
    if let Some(v) = n.as_u64() {
        return i128::from(v);
    }
    let x = n.as_f64().unwrap_or(0.0);
    let x = if round_up { x.ceil() } else { x.floor() };
    if x >= 1e38 {
        i128::MAX
    } else if x <= -1e38 {
        i128::MIN
    } else {
        x as i128
    }
}

/// `i64` when every allowed integer fits it, else `u64` when they all fit
/// that, else [`Ty::Integer`].
pub(super) fn integer_type(parts: &Parts<'_>) -> Ty {
    let mut low = i128::MIN;
    let mut high = i128::MAX;
    for part in &parts.parts {
        let get = |k: &str| part.schema.get(k).and_then(Value::as_number);
        if let Some(n) = get("minimum") {
            low = low.max(bound(n, true));
        }
        if let Some(n) = get("exclusiveMinimum") {
            low = low.max(bound(n, false).saturating_add(1));
        }
        if let Some(n) = get("maximum") {
            high = high.min(bound(n, false));
        }
        if let Some(n) = get("exclusiveMaximum") {
            high = high.min(bound(n, true).saturating_sub(1));
        }
        let listed: Vec<&Number> = match (part.schema.get("const"), part.schema.get("enum")) {
            (Some(Value::Number(c)), _) => vec![c],
            (None, Some(Value::Array(values))) => {
                values.iter().filter_map(Value::as_number).collect()
            }
            _ => Vec::new(),
        };
        if !listed.is_empty() {
            low = low.max(
                listed
                    .iter()
                    .map(|n| bound(n, true))
                    .min()
                    .unwrap_or(i128::MIN),
            );
            high = high.min(
                listed
                    .iter()
                    .map(|n| bound(n, false))
                    .max()
                    .unwrap_or(i128::MAX),
            );
        }
    }
    if low >= i128::from(i64::MIN) && high <= i128::from(i64::MAX) {
        Ty::I64
    } else if low >= 0 && high <= i128::from(u64::MAX) {
        Ty::U64
    } else {
        Ty::Integer
    }
}
