//! Recursive types: a definition may contain itself through properties or
//! items (a tree, a linked list). Rust needs a `Box` where a type would
//! contain itself directly, and cannot have an alias of itself at all.

use std::collections::HashSet;

use super::{Item, ItemKind, Ty};

/// Turns aliases on a cycle into newtypes and boxes every direct
/// reference that closes a cycle.
pub(super) fn break_cycles(items: &mut [Item]) {
    let all_edges: Vec<Vec<usize>> = items.iter().map(|i| refs(&i.kind, false)).collect();
    for (i, item) in items.iter_mut().enumerate() {
        if let ItemKind::Alias(ty) = &item.kind
            && reaches(i, i, &all_edges)
        {
            item.kind = ItemKind::Newtype(ty.clone());
        }
    }
    let direct: Vec<Vec<usize>> = items.iter().map(|i| refs(&i.kind, true)).collect();
    for (i, item) in items.iter_mut().enumerate() {
        let closes = |j: usize| j == i || reaches(j, i, &direct);
        item.kind.for_each_ty(|ty| box_direct(ty, &closes));
    }
}

/// The items an item refers to; only those it contains directly (not
/// through a `Vec` or a map, which allocate) when `direct`.
fn refs(kind: &ItemKind, direct: bool) -> Vec<usize> {
    let mut out = Vec::new();
    let mut kind = kind.clone();
    kind.for_each_ty(|ty| collect(ty, direct, &mut out));
    out
}

fn collect(ty: &Ty, direct: bool, out: &mut Vec<usize>) {
    match ty {
        Ty::Named(i) => out.push(*i),
        Ty::Option(inner) => collect(inner, direct, out),
        Ty::Tuple(parts) => parts.iter().for_each(|p| collect(p, direct, out)),
        Ty::Vec(inner) | Ty::Map(inner) | Ty::Boxed(inner) if !direct => {
            collect(inner, direct, out)
        }
        _ => {}
    }
}

/// Whether `to` is reachable from `from` along `edges` (in one step or more).
fn reaches(from: usize, to: usize, edges: &[Vec<usize>]) -> bool {
    let mut seen = HashSet::new();
    let mut stack: Vec<usize> = edges.get(from).cloned().unwrap_or_default();
    while let Some(next) = stack.pop() {
        if next == to {
            return true;
        }
        if seen.insert(next) {
            stack.extend(edges.get(next).into_iter().flatten().copied());
        }
    }
    false
}

fn box_direct(ty: &mut Ty, closes: &impl Fn(usize) -> bool) {
    match ty {
        Ty::Named(i) if closes(*i) => {
            let inner = std::mem::replace(ty, Ty::Unit);
            *ty = Ty::Boxed(Box::new(inner));
        }
        Ty::Option(inner) => box_direct(inner, closes),
        Ty::Tuple(parts) => parts.iter_mut().for_each(|p| box_direct(p, closes)),
        _ => {}
    }
}
