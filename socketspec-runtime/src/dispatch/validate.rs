//! Payload validation against each event's JSON Schema (draft 2020-12), with
//! every violation and its JSON pointer, using the `jsonschema` crate.

use serde_json::{Value, json};

use socketspec_protocol::{SCHEMA_DOCUMENT, payload_schema_ref, schema_document};

use crate::meta::AppMeta;

/// One compiled validator per event, in the spec's event order.
pub(crate) struct Validators {
    validators: Vec<jsonschema::Validator>,
}

/// A payload schema the runtime could not compile (a bug in generated code
/// or a hand-written `AppMeta`).
#[derive(Debug, thiserror::Error)]
#[error("the payload schema of event `{event}` does not compile: {message}")]
pub struct SchemaError {
    /// The event whose schema failed.
    pub event: String,
    /// What is wrong.
    pub message: String,
}

/// One way a payload breaks its event's schema.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Violation {
    /// Where, as a JSON pointer into the payload (`/text`; empty for the
    /// payload itself).
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

/// Why [`Server::validate_payload`](crate::Server::validate_payload)
/// refused a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// The server has no such namespace, or the namespace no such event.
    #[error("no event `{event}` in namespace `{namespace}`")]
    UnknownEvent {
        /// The namespace asked for.
        namespace: String,
        /// The event asked for.
        event: String,
    },
    /// The payload breaks the event's schema: the violations exactly as a
    /// client's `VALIDATION_ERROR` lists them (every one, up to its cap).
    #[error("{message}")]
    Invalid {
        /// A one-line summary (`payload.text: ...; payload.room: ...`).
        message: String,
        /// The violations, in the validator's order.
        violations: Vec<Violation>,
    },
}

/// A payload that failed its schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Violations {
    /// A one-line summary for the envelope's `message`.
    pub message: String,
    /// `details.errors`: `[{"path": pointer, "message": ...}]`.
    pub errors: Value,
}

impl Validators {
    /// Compiles every event's payload schema, with `format` checked.
    ///
    /// The spec's definitions and every payload schema go into one document
    /// (payloads under `$defs`, as `event:<index>`, a name no definition can
    /// have), parsed and registered once; each event's validator is a
    /// reference into it, so a definition many payloads use is there once,
    /// and a payload's `#/$defs/Name` finds it.
    pub(crate) fn compile(meta: &AppMeta) -> Result<Self, SchemaError> {
        let fail = |event: &str, message: String| SchemaError {
            event: event.to_owned(),
            message,
        };
        let defs = match meta.schema_defs.trim() {
            "" => serde_json::Map::new(),
            text => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(mut document)) => match document.remove("$defs") {
                    Some(Value::Object(defs)) => defs,
                    _ => serde_json::Map::new(),
                },
                Ok(_) => {
                    return Err(fail(
                        "",
                        "the shared definitions are not a JSON object".to_owned(),
                    ));
                }
                Err(e) => return Err(fail("", e.to_string())),
            },
        };
        let payloads = meta
            .events
            .iter()
            .map(|event| {
                serde_json::from_str::<Value>(event.payload_schema)
                    .map_err(|e| fail(event.name, e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let document = schema_document(defs, payloads);
        let registry = jsonschema::Registry::new()
            .add(SCHEMA_DOCUMENT, document)
            .and_then(|builder| builder.prepare())
            .map_err(|e| fail("", e.to_string()))?;
        let validators = meta
            .events
            .iter()
            .enumerate()
            .map(|(index, event)| {
                jsonschema::draft202012::options()
                    .should_validate_formats(true)
                    .with_registry(&registry)
                    .build(&payload_schema_ref(index))
                    .map_err(|e| fail(event.name, e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Validators { validators })
    }

    /// Checks `payload` against event `index`'s schema.
    pub(crate) fn check(&self, index: usize, payload: &Value) -> Result<(), Violations> {
        let Some(validator) = self.validators.get(index) else {
            return Ok(());
        };
        // The fast path allocates nothing; only a failing payload pays for
        // collecting every violation.
        if validator.is_valid(payload) {
            return Ok(());
        }
        let mut errors = Vec::new();
        let mut lines = Vec::new();
        // Bounded: a payload with 100,000 bad keys must not cost a reply
        // (and the CPU) a hundred thousand times an echo's.
        let mut found = validator.iter_errors(payload);
        for error in found.by_ref().take(MAX_VIOLATIONS) {
            let path = error.instance_path().to_string();
            let message = clip(&error.to_string());
            lines.push(format!("payload{}: {message}", dotted(&path)));
            errors.push(json!({"path": clip(&path), "message": message}));
        }
        if found.next().is_some() {
            lines.push(format!(
                "(only the first {MAX_VIOLATIONS} violations are listed)"
            ));
        }
        Err(Violations {
            message: lines.join("; "),
            errors: Value::Array(errors),
        })
    }
}

impl From<Violations> for PayloadError {
    fn from(violations: Violations) -> Self {
        let list = violations
            .errors
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| Violation {
                path: e["path"].as_str().unwrap_or_default().to_owned(),
                message: e["message"].as_str().unwrap_or_default().to_owned(),
            })
            .collect();
        PayloadError::Invalid {
            message: violations.message,
            violations: list,
        }
    }
}

/// The most violations one `VALIDATION_ERROR` lists.
pub(crate) const MAX_VIOLATIONS: usize = 20;

/// The longest violation message or path, in bytes: messages quote the
/// offending value, which a client controls.
const MAX_MESSAGE: usize = 256;

/// `text`, cut at [`MAX_MESSAGE`] bytes (on a character boundary) with an
/// ellipsis.
fn clip(text: &str) -> String {
    if text.len() <= MAX_MESSAGE {
        return text.to_owned();
    }
    let mut end = MAX_MESSAGE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// `/a/0/b` -> `.a[0].b`, for messages a person reads.
fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.chars().all(|c| c.is_ascii_digit()) && !segment.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else {
            out.push('.');
            out.push_str(&segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::EventMeta;

    static EVENTS: [EventMeta; 1] = [EventMeta {
        name: "send",
        ordered: false,
        executor: false,
        payload_schema: r##"{"type":"object","required":["room","text"],"properties":{"room":{"$ref":"#/$defs/Room"},"text":{"type":"string","minLength":1},"at":{"type":"string","format":"date-time"}}}"##,
        type_checked: false,
    }];
    static META: AppMeta = AppMeta {
        title: "t",
        version: "1",
        namespace: "/",
        events: &EVENTS,
        rooms: &[],
        spec_json: None,
        docs_html: None,
        asyncapi_json: None,
        schema_defs: r#"{"$defs":{"Room":{"type":"string","pattern":"^[a-z]+$"}}}"#,
    };

    #[test]
    fn reports_every_violation_with_its_pointer() {
        let v = Validators::compile(&META).ok();
        let Some(v) = v else {
            panic!("schema did not compile")
        };
        assert!(v.check(0, &json!({"room": "abc", "text": "hi"})).is_ok());
        let err = v.check(0, &json!({"room": "ABC", "text": ""})).err();
        let Some(err) = err else {
            panic!("expected violations")
        };
        let paths: Vec<_> = err
            .errors
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["path"].clone())
            .collect();
        assert!(paths.contains(&json!("/room")), "{paths:?}");
        assert!(paths.contains(&json!("/text")), "{paths:?}");
        assert!(err.message.contains("payload.text"), "{}", err.message);
    }

    #[test]
    fn formats_are_checked() {
        let Ok(v) = Validators::compile(&META) else {
            panic!("schema did not compile")
        };
        let ok = json!({"room": "abc", "text": "hi", "at": "2025-01-01T12:00:00Z"});
        assert!(v.check(0, &ok).is_ok());
        let err = v.check(0, &json!({"room": "abc", "text": "hi", "at": "yesterday"}));
        let Err(err) = err else {
            panic!("`yesterday` passed as a date-time")
        };
        assert!(err.message.contains("payload.at"), "{}", err.message);
    }

    #[test]
    fn dotted_paths() {
        assert_eq!(dotted("/a/0/b"), ".a[0].b");
        assert_eq!(dotted(""), "");
    }

    #[test]
    fn violations_are_bounded_in_number_and_length() {
        static WIDE: [EventMeta; 1] = [EventMeta {
            name: "wide",
            ordered: false,
            executor: false,
            payload_schema: r#"{"type":"object","additionalProperties":{"type":"integer"}}"#,
            type_checked: false,
        }];
        static WIDE_META: AppMeta = AppMeta {
            title: "t",
            version: "1",
            namespace: "/",
            events: &WIDE,
            rooms: &[],
            spec_json: None,
            docs_html: None,
            asyncapi_json: None,
            schema_defs: "",
        };
        let validators = Validators::compile(&WIDE_META).unwrap_or_else(|_| panic!("compiles"));
        let long = "x".repeat(10_000);
        let payload: serde_json::Map<String, Value> =
            (0..1000).map(|i| (format!("k{i}"), json!(long))).collect();
        let Err(violations) = validators.check(0, &Value::Object(payload)) else {
            panic!("expected violations")
        };
        let errors = violations.errors.as_array().map_or(0, Vec::len);
        assert_eq!(errors, MAX_VIOLATIONS);
        assert!(violations.message.contains("only the first 20"));
        assert!(
            violations.message.len() < 20 * 400,
            "{}",
            violations.message.len()
        );
    }
}
