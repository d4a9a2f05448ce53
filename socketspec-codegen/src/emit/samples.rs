//! Sample values for the example generator: a string a property's name
//! suggests, a value of a `format`, a string fitted to length bounds, a
//! guess at a string a simple `pattern` matches, numbers within bounds and
//! steps, and variants of a value for `uniqueItems` (the caller checks each
//! against the schema).

use serde_json::{Map, Number, Value, json};

/// A value a person would recognise for a property of this name.
pub(crate) fn name_hint(name: &str) -> &'static str {
    let n = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if has(&["email"]) {
        "alice@example.com"
    } else if has(&["room", "channel", "topic"]) {
        "general"
    } else if has(&["section"]) {
        "ops"
    } else if has(&["text", "message", "body", "content", "comment"]) {
        "Hello, world!"
    } else if has(&["title", "subject"]) {
        "Hello"
    } else if has(&["user", "name", "from", "sender", "author", "to"]) {
        "alice"
    } else if has(&["token", "key", "secret"]) {
        "your-token"
    } else if has(&["lang", "locale"]) {
        "en"
    } else if has(&["color", "colour"]) {
        "blue"
    } else if has(&["role"]) {
        "member"
    } else if has(&["status", "state"]) {
        "ok"
    } else if n == "id" || n.ends_with("_id") || n.ends_with("id") {
        "abc123"
    } else if has(&["data", "value", "payload"]) {
        "hello"
    } else {
        "example"
    }
}

pub(crate) fn format_example(format: &str) -> Option<&'static str> {
    Some(match format {
        "date-time" => "2025-01-01T12:00:00Z",
        "date" => "2025-01-01",
        "time" => "12:00:00Z",
        "duration" => "PT1M",
        "email" | "idn-email" => "alice@example.com",
        "hostname" | "idn-hostname" => "example.com",
        "ipv4" => "192.0.2.1",
        "ipv6" => "2001:db8::1",
        "uuid" => "3f1c5c2e-8d4b-4f7a-9a1e-2b6c7d8e9f01",
        "uri" | "iri" | "uri-reference" | "iri-reference" => "urn:example:resource",
        "json-pointer" => "/example",
        "regex" => "^[a-z]+$",
        _ => return None,
    })
}

/// `text` padded (by repeating it) to `min` characters and cut to `max`.
pub(crate) fn fit_length(text: &str, min: usize, max: Option<usize>) -> String {
    let mut out: String = text.to_owned();
    if out.is_empty() {
        out.push('a');
    }
    while out.chars().count() < min {
        out.push_str(if text.is_empty() { "a" } else { text });
    }
    if let Some(max) = max {
        out = out.chars().take(max.max(min)).collect();
    }
    out
}

/// A string matching a simple regular expression: literals, classes, the
/// usual escapes, groups with alternatives (the first is taken) and
/// quantifiers (their minimum, at least once for `*` and `{0,n}` when that
/// keeps the sample readable). Good enough for identifiers and codes; the
/// caller checks the result against the schema.
pub(crate) fn sample_pattern(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut pos = 0;
    sample_alternatives(&chars, &mut pos)
}

fn sample_alternatives(chars: &[char], pos: &mut usize) -> String {
    let first = sample_sequence(chars, pos);
    // Skip the other alternatives of this group.
    while *pos < chars.len() && chars[*pos] == '|' {
        *pos += 1;
        let _ = sample_sequence(chars, pos);
    }
    first
}

fn sample_sequence(chars: &[char], pos: &mut usize) -> String {
    let mut out = String::new();
    while *pos < chars.len() {
        let c = chars[*pos];
        let atom: String = match c {
            '|' | ')' => break,
            '^' | '$' => {
                *pos += 1;
                continue;
            }
            '(' => {
                *pos += 1;
                if chars.get(*pos) == Some(&'?') {
                    // (?:...), (?i) and the like: skip the flag part.
                    while *pos < chars.len() && chars[*pos] != ':' && chars[*pos] != ')' {
                        *pos += 1;
                    }
                    if chars.get(*pos) == Some(&':') {
                        *pos += 1;
                    }
                }
                let inner = sample_alternatives(chars, pos);
                if chars.get(*pos) == Some(&')') {
                    *pos += 1;
                }
                inner
            }
            '[' => {
                *pos += 1;
                sample_class(chars, pos).to_string()
            }
            '\\' => {
                *pos += 1;
                let e = chars.get(*pos).copied().unwrap_or('\\');
                *pos += 1;
                match e {
                    'd' => "1".into(),
                    'w' => "a".into(),
                    's' => " ".into(),
                    'D' | 'W' | 'S' => "-".into(),
                    'n' => "\n".into(),
                    't' => "\t".into(),
                    other => other.to_string(),
                }
            }
            '.' => {
                *pos += 1;
                "a".into()
            }
            other => {
                *pos += 1;
                other.to_string()
            }
        };
        let times = quantifier(chars, pos);
        for _ in 0..times {
            out.push_str(&atom);
        }
    }
    out
}

/// The character a class `[...]` yields; `pos` is just past the `[`.
fn sample_class(chars: &[char], pos: &mut usize) -> char {
    let negated = chars.get(*pos) == Some(&'^');
    if negated {
        *pos += 1;
    }
    let mut members: Vec<(char, char)> = Vec::new();
    let mut first = true;
    while *pos < chars.len() && (chars[*pos] != ']' || first) {
        first = false;
        let mut c = chars[*pos];
        *pos += 1;
        if c == '\\' {
            let e = chars.get(*pos).copied().unwrap_or('\\');
            *pos += 1;
            match e {
                'd' => members.push(('0', '9')),
                'w' => members.push(('a', 'z')),
                's' => members.push((' ', ' ')),
                other => members.push((other, other)),
            }
            continue;
        }
        if c == '[' && chars.get(*pos) == Some(&':') {
            // [:alpha:] and friends.
            while *pos < chars.len() && chars[*pos] != ']' {
                *pos += 1;
            }
            *pos += 1;
            members.push(('a', 'z'));
            continue;
        }
        if chars.get(*pos) == Some(&'-') && chars.get(*pos + 1).is_some_and(|n| *n != ']') {
            let end = chars[*pos + 1];
            *pos += 2;
            members.push((c, end));
            continue;
        }
        if c == ']' {
            c = ']';
        }
        members.push((c, c));
    }
    *pos += 1; // the closing `]`
    if negated {
        return ['a', 'A', '0', '_', '-', 'x']
            .into_iter()
            .find(|c| !members.iter().any(|(lo, hi)| lo <= c && c <= hi))
            .unwrap_or('~');
    }
    // Prefer a lowercase letter, then a letter, then a digit, for readability.
    for want in ['a', 'A', '0'] {
        if let Some((lo, _)) = members.iter().find(|(lo, hi)| *lo <= want && want <= *hi) {
            let _ = lo;
            return want;
        }
    }
    members.first().map_or('a', |(lo, _)| *lo)
}

/// How many times to repeat the atom before `pos`, consuming its quantifier.
fn quantifier(chars: &[char], pos: &mut usize) -> usize {
    let times = match chars.get(*pos) {
        Some('*') | Some('?') => {
            *pos += 1;
            0
        }
        Some('+') => {
            *pos += 1;
            1
        }
        Some('{') => {
            let start = *pos;
            let close = chars[start..].iter().position(|c| *c == '}');
            match close {
                Some(len) => {
                    let body: String = chars[start + 1..start + len].iter().collect();
                    let min = body
                        .split(',')
                        .next()
                        .and_then(|m| m.trim().parse::<usize>().ok());
                    match min {
                        Some(min) => {
                            *pos = start + len + 1;
                            min
                        }
                        // Not a quantifier: a literal `{`.
                        None => return 1,
                    }
                }
                None => return 1,
            }
        }
        _ => return 1,
    };
    // Lazy and possessive suffixes.
    if matches!(chars.get(*pos), Some('?') | Some('+')) {
        *pos += 1;
    }
    times
}

pub(super) fn integer(obj: &Map<String, Value>, name: &str) -> Value {
    let n = name.to_ascii_lowercase();
    let preferred: i64 = if n.contains("delay") || n.contains("timeout") || n.ends_with("_ms") {
        100
    } else if n.contains("port") {
        8080
    } else if n.contains("limit") || n.contains("size") {
        10
    } else if n.contains("age") {
        30
    } else {
        1
    };
    let lo = obj
        .get("minimum")
        .and_then(Value::as_f64)
        .or_else(|| {
            obj.get("exclusiveMinimum")
                .and_then(Value::as_f64)
                .map(|m| m.floor() + 1.0)
        })
        .map(|m| m.ceil() as i64);
    let hi = obj
        .get("maximum")
        .and_then(Value::as_f64)
        .or_else(|| {
            obj.get("exclusiveMaximum")
                .and_then(Value::as_f64)
                .map(|m| m.ceil() - 1.0)
        })
        .map(|m| m.floor() as i64);
    let mut v = preferred;
    if let Some(lo) = lo {
        v = v.max(lo);
    }
    if let Some(hi) = hi {
        v = v.min(hi);
    }
    if let Some(step) = obj
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|s| *s >= 1.0)
    {
        let step = step as i64;
        if step > 0 && v % step != 0 {
            let up = v + (step - v.rem_euclid(step));
            v = if hi.is_none_or(|hi| up <= hi) {
                up
            } else {
                v - v.rem_euclid(step)
            };
        }
    }
    json!(v)
}

/// A value like `value` but different, the `step`-th such variant: a number
/// moved up, a string with a suffix, a boolean flipped; an object or array
/// with its first member varied.
pub(super) fn vary(value: &Value, step: u64) -> Value {
    match value {
        Value::Bool(b) => Value::Bool(if step.is_multiple_of(2) { !b } else { *b }),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => json!(i.saturating_add(step as i64 + 1)),
            (None, Some(f)) => {
                Number::from_f64(f + step as f64 + 1.0).map_or(Value::Null, Value::Number)
            }
            _ => value.clone(),
        },
        Value::String(s) => Value::String(format!("{s}{}", step + 2)),
        Value::Array(items) => {
            let mut items = items.clone();
            if let Some(first) = items.first_mut() {
                *first = vary(first, step);
            }
            Value::Array(items)
        }
        Value::Object(map) => {
            let mut map = map.clone();
            if let Some((_, first)) = map.iter_mut().next() {
                *first = vary(first, step);
            }
            Value::Object(map)
        }
        Value::Null => Value::Null,
    }
}

pub(super) fn number(obj: &Map<String, Value>, name: &str) -> Value {
    let preferred: f64 = if name.to_ascii_lowercase().contains("price") {
        9.99
    } else {
        1.5
    };
    let mut v = preferred;
    if let Some(lo) = obj.get("minimum").and_then(Value::as_f64) {
        v = v.max(lo);
    }
    if let Some(lo) = obj.get("exclusiveMinimum").and_then(Value::as_f64)
        && v <= lo
    {
        v = lo + 1.0;
    }
    if let Some(hi) = obj.get("maximum").and_then(Value::as_f64) {
        v = v.min(hi);
    }
    if let Some(hi) = obj.get("exclusiveMaximum").and_then(Value::as_f64)
        && v >= hi
    {
        v = hi - 0.5;
    }
    if let Some(step) = obj
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|s| *s > 0.0)
    {
        v = (v / step).ceil() * step;
    }
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_simple_patterns() {
        assert_eq!(sample_pattern("^[A-Za-z0-9_-]{1,64}$"), "a");
        assert_eq!(sample_pattern("^[a-z]{3}-\\d{2}$"), "aaa-11");
        assert_eq!(sample_pattern("^(foo|bar)+x?$"), "foo");
        assert_eq!(sample_pattern("^v[0-9]+\\.[0-9]+$"), "v0.0");
        assert_eq!(sample_pattern("^[^0-9]{2}$"), "aa");
    }
}
