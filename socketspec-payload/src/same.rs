//! What "unchanged" means for a payload that went through a generated type:
//! [`same_json`], and [`round_trip`] which checks it for one value.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Number, Value};

/// Whether `a` and `b` are the same JSON document:
///
/// - the same kind of value at every position;
/// - strings equal character for character, booleans and `null` equal;
/// - arrays of the same length with the same items in the same order;
/// - objects with the same member names, each with the same value (the
///   members' order does not matter: JSON objects are unordered);
/// - numbers with the same value: two integers (within `i64`/`u64`, which
///   `serde_json` reads exactly) are compared exactly; otherwise both are
///   compared as IEEE-754 doubles, the precision JSON interoperates at
///   (RFC 8259, section 6) and the one JavaScript clients read. So `1`,
///   `1.0` and `1e0` are one number.
///
/// ```
/// use serde_json::json;
/// use socketspec_payload::same_json;
///
/// assert!(same_json(&json!({"a": 1, "b": [1.0]}), &json!({"b": [1e0], "a": 1.0})));
/// assert!(!same_json(&json!({"a": 1}), &json!({"a": 1, "b": null})));
/// assert!(!same_json(&json!(9007199254740993u64), &json!(9007199254740992u64)));
/// ```
pub fn same_json(a: &Value, b: &Value) -> bool {
    difference(a, b).is_none()
}

/// Where `a` and `b` first differ, as a JSON pointer and a description
/// (`/items/0: 1 is not 2`); `None` when they are the same JSON document
/// (see [`same_json`]).
pub fn difference(a: &Value, b: &Value) -> Option<String> {
    diff_at(a, b, "")
}

fn diff_at(a: &Value, b: &Value, at: &str) -> Option<String> {
    let differs = || Some(format!("{}: {a} is not {b}", display_pointer(at)));
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => (!same_number(x, y)).then(differs).flatten(),
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!(
                    "{}: {} items, not {}",
                    display_pointer(at),
                    x.len(),
                    y.len()
                ));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (x, y))| diff_at(x, y, &format!("{at}/{i}")))
        }
        (Value::Object(x), Value::Object(y)) => {
            if let Some(key) = x.keys().find(|k| !y.contains_key(*k)) {
                return Some(format!(
                    "{}: `{key}` is missing",
                    display_pointer(&child(at, key))
                ));
            }
            if let Some(key) = y.keys().find(|k| !x.contains_key(*k)) {
                return Some(format!(
                    "{}: `{key}` was added",
                    display_pointer(&child(at, key))
                ));
            }
            x.iter().find_map(|(k, v)| diff_at(v, &y[k], &child(at, k)))
        }
        _ => (a != b).then(differs).flatten(),
    }
}

fn same_number(x: &Number, y: &Number) -> bool {
    if let (Some(a), Some(b)) = (x.as_i64(), y.as_i64()) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (x.as_u64(), y.as_u64()) {
        return a == b;
    }
    let both_integers = (x.is_i64() || x.is_u64()) && (y.is_i64() || y.is_u64());
    if both_integers {
        // One negative, one above `i64::MAX`.
        return false;
    }
    x.as_f64() == y.as_f64()
}

fn child(at: &str, key: &str) -> String {
    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn display_pointer(at: &str) -> &str {
    if at.is_empty() { "(root)" } else { at }
}

/// Decodes `value` into `T`, from the value and from its text (the two
/// paths the runtime and the generated client take), as generated fields
/// decode (integral numbers such as `1.0` read as integers, see
/// [`crate::de::integers`]), re-encodes it, and checks that the JSON is
/// unchanged ([`same_json`]).
///
/// ```
/// use serde_json::json;
/// use socketspec_payload::round_trip;
///
/// assert!(round_trip::<std::collections::BTreeMap<String, i64>>(&json!({"a": 1.0})).is_ok());
/// // `f32` cannot hold 0.1 exactly as a double: lossy.
/// assert!(round_trip::<f32>(&json!(0.1)).is_err());
/// ```
pub fn round_trip<T: Serialize + DeserializeOwned>(value: &Value) -> Result<(), String> {
    let from_value: T =
        crate::de::integers(value.clone()).map_err(|e| format!("does not decode: {e}"))?;
    let text = value.to_string();
    let mut reader = serde_json::Deserializer::from_str(&text);
    let from_text: T = crate::de::integers(&mut reader)
        .and_then(|decoded| reader.end().map(|()| decoded))
        .map_err(|e| format!("does not decode from its text: {e}"))?;
    for (decoded, how) in [
        (from_value, "decoded"),
        (from_text, "decoded from its text"),
    ] {
        let back = serde_json::to_value(&decoded).map_err(|e| format!("does not encode: {e}"))?;
        if let Some(diff) = difference(value, &back) {
            return Err(format!("changes when {how} and encoded again: {diff}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_compare_by_value() {
        assert!(same_json(&json!(1), &json!(1.0)));
        assert!(same_json(&json!(-3), &json!(-3.0)));
        assert!(same_json(&json!(u64::MAX), &json!(u64::MAX)));
        assert!(!same_json(&json!(-1), &json!(u64::MAX)));
        assert!(!same_json(&json!(1), &json!(1.5)));
        // Beyond 2^53 an integer and a double are compared as doubles.
        assert!(same_json(
            &json!(9007199254740993u64),
            &json!(9007199254740992.0)
        ));
        assert!(!same_json(&json!(1), &json!("1")));
    }

    #[test]
    fn differences_name_their_place() {
        let a = json!({"a": [1, {"b/c": true}]});
        assert_eq!(
            difference(&a, &json!({"a": [1, {"b/c": false}]})).as_deref(),
            Some("/a/1/b~1c: true is not false")
        );
        assert_eq!(
            difference(&a, &json!({"a": [1]})).as_deref(),
            Some("/a: 2 items, not 1")
        );
        assert_eq!(
            difference(&a, &json!({})).as_deref(),
            Some("/a: `a` is missing")
        );
        assert_eq!(
            difference(&json!({}), &a).as_deref(),
            Some("/a: `a` was added")
        );
        assert_eq!(
            difference(&json!(1), &json!(2)).as_deref(),
            Some("(root): 1 is not 2")
        );
    }
}
