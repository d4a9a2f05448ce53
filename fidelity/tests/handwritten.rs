//! Generated payload types read like hand-written code
//! (`specs/regressions/handwritten_types.json`). Most checks here are the
//! compiler's: this file builds only if the types have the shapes the docs
//! promise (docs/spec-format.md, "How schemas become Rust types").

#![allow(clippy::unwrap_used, clippy::expect_used)]

use socketspec_fidelity::specs::regressions_handwritten_types as api;
use socketspec_runtime::__private::serde_json;

fn is_copy<T: Copy>() {}

/// Compiles only when both values have one type.
fn same_type<T>(_: &T, _: &T) {}

#[test]
fn a_bounded_integer_definition_is_an_alias_of_the_integer_it_fits() {
    // `pub type Money = i64`: a plain integer, `Copy`, no wrapper to unwrap.
    let price: api::Money = 150;
    let plain: i64 = price;
    is_copy::<api::Money>();
    assert_eq!(plain, 150);
}

#[test]
fn required_properties_make_the_constructor_and_the_rest_start_empty() {
    let order = api::Order::new("eu".to_owned(), 2, 150);
    assert_eq!(order.zone, "eu");
    assert!(order.tags.is_none() && order.notes.is_none() && order.level.is_none());
    assert!(order.extra.is_empty());
    // Optional fields are set with struct update syntax.
    let order = api::Order {
        tags: Some(vec!["a".to_owned()]),
        level: Some(api::OrderLevel::High),
        delta: Some(-1),
        ..api::Order::new("eu".to_owned(), 2, 150)
    };
    // The JSON keeps the spec's property order, and absent stays absent.
    assert_eq!(
        serde_json::to_string(&order).unwrap(),
        r#"{"zone":"eu","amount":2,"price":150,"tags":["a"],"level":"high","delta":-1}"#
    );
}

#[test]
fn one_schema_one_type_and_optional_fields_are_options() {
    let order = api::Order::new("eu".to_owned(), 2, 150);
    // Two identical inline enums share one type.
    same_type(&order.level, &order.urgency);
    // Every optional array is an `Option<Vec<_>>`, bounded or not.
    let _: &Option<Vec<String>> = &order.tags;
    let _: &Option<Vec<String>> = &order.notes;
    // Integers bounded within `i64` are `i64`, whatever their sign.
    let _: i64 = order.amount;
    let _: &Option<i64> = &order.delta;
    same_type(&order.amount, &order.price);
}

#[test]
fn empty_payloads_are_empty_structs_with_default() {
    let (empty, nothing) = (api::Empty {}, api::Nothing {});
    assert_eq!(empty, api::Empty::default());
    assert_eq!(nothing, api::Nothing::default());
    assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
    assert_eq!(serde_json::to_string(&nothing).unwrap(), "{}");
}
