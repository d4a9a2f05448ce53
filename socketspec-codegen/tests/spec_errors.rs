//! One test per spec mistake the code generator reports, asserting the
//! whole message: the file, the JSON path, what is wrong and the fix.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use socketspec_codegen::{Builder, Error, SpecError, check, check_str};

/// A minimal valid spec with `events` and `rooms` replaced.
fn spec(events: Value, rooms: Value) -> String {
    json!({
        "socketspec": "1",
        "info": {"title": "T", "version": "1"},
        "rooms": rooms,
        "events": events,
    })
    .to_string()
}

/// A minimal valid spec with `$defs`, `events` and `rooms` replaced.
fn spec_with_defs(defs: Value, events: Value) -> String {
    json!({
        "socketspec": "1",
        "info": {"title": "T", "version": "1"},
        "$defs": defs,
        "events": events,
    })
    .to_string()
}

/// The errors `text` produces, each as displayed.
fn errors(text: &str) -> Vec<String> {
    match check_str("api.json", text) {
        Ok(_) => panic!("the spec should be rejected:\n{text}"),
        Err(e) => {
            let errors = e.spec_errors();
            assert!(!errors.is_empty(), "not a spec error: {e}");
            errors.iter().map(ToString::to_string).collect()
        }
    }
}

/// The one error `text` produces.
#[track_caller]
fn one(text: &str) -> String {
    let mut all = errors(text);
    assert_eq!(all.len(), 1, "expected exactly one error, got {all:#?}");
    all.remove(0)
}

#[track_caller]
fn assert_one(text: &str, expected: &str) {
    assert_eq!(one(text), expected);
}

fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

// ---------------------------------------------------------------- format

#[test]
fn display_format_is_file_path_message_fix() {
    let e = SpecError::new(Path::new("dir/api.json"), "events.x", "what", "how");
    assert_eq!(
        e.to_string(),
        "error: dir/api.json: at `events.x`: what\n  fix: how"
    );
    let root = SpecError::new(Path::new("api.json"), "", "what", "how");
    assert_eq!(
        root.to_string(),
        "error: api.json: at `(root)`: what\n  fix: how"
    );
}

#[test]
fn a_valid_spec_passes() {
    let model = check_str(
        "api.json",
        &spec(
            json!({"send_message": {}}),
            json!({"lobby": {"static": true}}),
        ),
    )
    .unwrap();
    assert_eq!(model.event_names().collect::<Vec<_>>(), ["send_message"]);
    assert_eq!(model.room_patterns().collect::<Vec<_>>(), ["lobby"]);
}

// ---------------------------------------------------------------- reserved names

#[test]
fn each_system_event_is_reserved() {
    let system = [
        "__connect__",
        "__disconnect__",
        "__ping__",
        "__pong__",
        "__error__",
        "__auth_expiring__",
        "__session_expiring__",
        "__idle_warning__",
        "__server_shutdown__",
        "__refresh_auth__",
    ];
    assert_eq!(
        socketspec_protocol::SystemEvent::ALL.map(|e| e.name()),
        system
    );
    for name in system {
        let bare = name.trim_matches('_');
        assert_one(
            &spec(json!({name: {}}), json!({})),
            &format!(
                "error: api.json: at `events.{name}`: `{name}` is a reserved name: the protocol's \
                 system events and every name that starts and ends with `__` belong to socketspec\n  \
                 fix: rename the event, e.g. `{bare}`"
            ),
        );
    }
}

#[test]
fn any_double_underscore_name_is_reserved() {
    assert_one(
        &spec(json!({"__custom__": {}}), json!({})),
        "error: api.json: at `events.__custom__`: `__custom__` is a reserved name: the protocol's \
         system events and every name that starts and ends with `__` belong to socketspec\n  \
         fix: rename the event, e.g. `custom`",
    );
    // Nothing left after the underscores: the fix still names something.
    assert!(
        one(&spec(json!({"____": {}}), json!({})))
            .ends_with("fix: rename the event, e.g. `my_event`")
    );
    // Trailing underscores alone are fine (a leading `_` is not a valid start).
    check_str("api.json", &spec(json!({"b__": {}}), json!({}))).unwrap();
}

#[test]
fn reserved_emit_name() {
    assert_one(
        &spec(json!({"a": {"emits": {"__error__": {}}}}), json!({})),
        "error: api.json: at `events.a.emits.__error__`: `__error__` is a reserved name: the \
         protocol's system events and every name that starts and ends with `__` belong to \
         socketspec\n  fix: rename the event, e.g. `error`",
    );
}

#[test]
fn reserved_broadcast_name() {
    assert_one(
        &spec(
            json!({"a": {"broadcasts": {"__connect__": {"room": "lobby"}}}}),
            json!({"lobby": {}}),
        ),
        "error: api.json: at `events.a.broadcasts.__connect__`: `__connect__` is a reserved name: \
         the protocol's system events and every name that starts and ends with `__` belong to \
         socketspec\n  fix: rename the event, e.g. `connect`",
    );
}

// ---------------------------------------------------------------- duplicates

#[test]
fn duplicate_event() {
    let text = r#"{"socketspec": "1", "info": {"title": "T", "version": "1"},
  "events": {"a": {}, "a": {"ordered": true}}}"#;
    assert_one(
        text,
        "error: api.json: at `events.a`: `a` is declared twice (line 2, column 25)\n  \
         fix: each name may appear once: rename or merge the two entries",
    );
}

#[test]
fn duplicate_room() {
    let text = r#"{"socketspec": "1", "info": {"title": "T", "version": "1"}, "events": {},
  "rooms": {"chat:{room}": {}, "chat:{room}": {"guarded": true}}}"#;
    assert_one(
        text,
        "error: api.json: at `rooms[\"chat:{room}\"]`: `chat:{room}` is declared twice (line 2, column 44)\n  \
         fix: each name may appear once: rename or merge the two entries",
    );
}

#[test]
fn duplicate_emit() {
    let text = r#"{"socketspec": "1", "info": {"title": "T", "version": "1"},
  "events": {"a": {"emits": {"ack": {}, "ack": {}}}}}"#;
    assert_one(
        text,
        "error: api.json: at `events.a.emits.ack`: `ack` is declared twice (line 2, column 45)\n  \
         fix: each name may appear once: rename or merge the two entries",
    );
}

#[test]
fn duplicate_def_and_broadcast() {
    let text = r#"{"socketspec": "1", "info": {"title": "T", "version": "1"},
  "$defs": {"Room": {"type": "string"}, "Room": {"type": "integer"}}, "events": {}}"#;
    assert!(one(text).starts_with("error: api.json: at `$defs.Room`: `Room` is declared twice"));
    let text = r#"{"socketspec": "1", "info": {"title": "T", "version": "1"}, "rooms": {"x": {}},
  "events": {"a": {"broadcasts": {"b": {"room": "x"}, "b": {"room": "x"}}}}}"#;
    assert!(
        one(text).starts_with("error: api.json: at `events.a.broadcasts.b`: `b` is declared twice")
    );
}

// ---------------------------------------------------------------- Rust names
// Names that clash in Rust are no longer errors: `tests/names.rs` checks the
// names they get.

#[test]
fn invalid_def_name() {
    assert_one(
        &spec_with_defs(json!({"1st": {"type": "object"}}), json!({})),
        "error: api.json: at `$defs.1st`: `1st` is not a valid definition name: it becomes a \
         Rust type name\n  fix: start with a letter and use letters, digits, `_`, `.` or `-` \
         (e.g. `ChatRoom`)",
    );
    // Referencing it does not add a second, confusing error.
    let text = spec_with_defs(
        json!({"A B": {"type": "object"}}),
        json!({"a": {"payload": {"$ref": "#/$defs/A B"}}}),
    );
    assert!(one(&text).contains("`A B` is not a valid definition name"));
}

#[test]
fn two_emits_with_one_context_method_are_accepted_and_numbered() {
    // Once refused; now the second gets `emit_userleft_2` (docs/spec-format.md,
    // "How names become Rust items"; asserted in tests/generate.rs).
    let text = spec(
        json!({"a": {"emits": {"userLeft": {}, "userleft": {}}}}),
        json!({}),
    );
    let model = socketspec_codegen::check_str("api.json", &text);
    assert!(model.is_ok(), "{:?}", model.err().map(|e| e.to_string()));
}

#[test]
fn server_event_declared_twice_with_different_payloads() {
    let first = json!({"type": "object", "properties": {"id": {"type": "string"}}});
    let second = json!({"type": "object", "properties": {"id": {"type": "integer"}}});
    assert_one(
        &spec(
            json!({
                "a": {"emits": {"ack": {"payload": first}}},
                "b": {"emits": {"ack": {"payload": second}}},
            }),
            json!({}),
        ),
        "error: api.json: at `events.b.emits.ack.payload`: server event `ack` is declared again \
         with a different payload (first at `events.a.emits.ack`)\n  fix: give both declarations \
         the same payload (move it to `$defs` and `$ref` it), or rename one",
    );
    // The same payload twice is one server event.
    let model = check_str(
        "api.json",
        &spec(
            json!({
                "a": {"emits": {"ack": {"payload": first}}},
                "b": {"broadcasts": {"ack": {"room": "lobby", "payload": first}}},
            }),
            json!({"lobby": {}}),
        ),
    )
    .unwrap();
    assert_eq!(model.server_event_names().collect::<Vec<_>>(), ["ack"]);
}

// ---------------------------------------------------------------- rooms

#[test]
fn broadcast_to_an_undeclared_room_lists_the_declared_ones() {
    assert_one(
        &spec(
            json!({"a": {"broadcasts": {"news": {"room": "chat:{id}"}}}}),
            json!({"lobby": {"static": true}, "chat:{room}": {}}),
        ),
        "error: api.json: at `events.a.broadcasts.news.room`: broadcast to room pattern \
         `chat:{id}`, which is not declared under `rooms`\n  fix: declare it under `rooms`, or \
         use one of `lobby`, `chat:{room}`",
    );
    assert_one(
        &spec(
            json!({"a": {"broadcasts": {"news": {"room": "news"}}}}),
            json!({}),
        ),
        "error: api.json: at `events.a.broadcasts.news.room`: broadcast to room pattern `news`, \
         which is not declared under `rooms`\n  fix: declare it: \"rooms\": {\"news\": {}}",
    );
}

#[track_caller]
fn assert_room(pattern: &str, message: &str, fix: &str) {
    assert_one(
        &spec(json!({}), json!({pattern: {}})),
        &format!("error: api.json: at `rooms[{pattern:?}]`: {message}\n  fix: {fix}"),
    );
}

#[test]
fn room_parameters_that_cannot_be_filled() {
    assert_room(
        "chat:{}",
        "room parameter `{}` in `chat:{}` cannot be filled: its name is not a snake_case identifier",
        "name parameters like `{room}` or `{team_id}`",
    );
    assert_room(
        "chat:{Room}",
        "room parameter `{Room}` in `chat:{Room}` cannot be filled: its name is not a snake_case identifier",
        "name parameters like `{room}` or `{team_id}`",
    );
    assert_room(
        "chat:{room",
        "room pattern `chat:{room` has a `{` without its `}`",
        "close the parameter: `{name}`",
    );
    assert_room(
        "x}",
        "room pattern `x}` has a `}` without its `{`",
        "write parameters as `{name}`",
    );
    assert_room(
        "{a}{b}",
        "room pattern `{a}{b}` has two parameters with nothing between them, so a room name \
         cannot be split back into them",
        "separate parameters with literal text, e.g. `{org}:{team}`",
    );
    assert_room(
        "{a}:{a}",
        "room parameter `{a}` appears twice in `{a}:{a}`",
        "give each parameter its own name",
    );
    assert_room(
        "",
        "a room pattern cannot be empty",
        "name the room, e.g. `lobby` or `chat:{room}`",
    );
}

#[test]
fn room_pattern_with_a_control_character() {
    assert_room(
        "chat\r",
        "room pattern \"chat\\r\" contains the control character U+000D",
        "room names appear in logs, docs and generated code: use visible characters, e.g. `chat:{room}`",
    );
}

#[test]
fn room_parameters_the_generated_code_cannot_take() {
    for name in ["type", "self", "payload", "conn"] {
        assert_room(
            &format!("x:{{{name}}}"),
            &format!(
                "room parameter `{{{name}}}` in `x:{{{name}}}` cannot be filled: `{name}` is a \
                 Rust keyword or an argument name the generated methods use"
            ),
            "rename the parameter, e.g. `{room}` or `{team_id}`",
        );
    }
}

#[test]
fn broadcast_to_an_invalid_pattern_is_reported_once() {
    let errors = errors(&spec(
        json!({"a": {"broadcasts": {"b": {"room": "{a}{b}"}}}}),
        json!({"{a}{b}": {}}),
    ));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("two parameters with nothing between them"));
}

#[test]
fn rooms_with_the_same_generated_item() {
    assert_one(
        &spec(json!({}), json!({"chat:{a}": {}, "chat-{a}": {}})),
        "error: api.json: at `rooms[\"chat-{a}\"]`: room patterns `chat:{a}` and `chat-{a}` would \
         both get the item `rooms::chat`\n  fix: make their literal text differ",
    );
    assert_one(
        &spec(json!({}), json!({"lobby": {}, "LOBBY": {}})),
        "error: api.json: at `rooms.LOBBY`: room patterns `lobby` and `LOBBY` would both get the \
         item `rooms::LOBBY`\n  fix: make their literal text differ",
    );
    // A static name and a pattern may share their text: `CHAT` and `chat(..)`.
    check_str(
        "api.json",
        &spec(json!({}), json!({"chat": {}, "chat:{a}": {}})),
    )
    .unwrap();
}

#[test]
fn guarded_rooms_with_the_same_guard() {
    assert_one(
        &spec(
            json!({}),
            json!({"admin": {"guarded": true}, "admin:{section}": {"guarded": true}}),
        ),
        "error: api.json: at `rooms[\"admin:{section}\"]`: guarded patterns `admin` and \
         `admin:{section}` would both get the guard method `guard_admin`\n  fix: make their \
         literal text differ",
    );
}

#[test]
fn static_room_with_parameters() {
    assert_one(
        &spec(json!({}), json!({"chat:{room}": {"static": true}})),
        "error: api.json: at `rooms[\"chat:{room}\"].static`: room pattern `chat:{room}` has \
         parameters, so it names many rooms and cannot be static\n  fix: remove `static`, or \
         declare each static room by its full name",
    );
}

#[test]
fn max_members_zero() {
    assert_one(
        &spec(json!({}), json!({"lobby": {"max_members": 0}})),
        "error: api.json: at `rooms.lobby.max_members`: `max_members` is 0, so nobody could \
         join\n  fix: remove `max_members` or set it to at least 1",
    );
}

#[test]
fn max_members_negative() {
    let text = r#"{"socketspec": "1", "info": {"title": "T", "version": "1"}, "events": {},
  "rooms": {"lobby": {"max_members": -1}}}"#;
    assert_one(
        text,
        "error: api.json: at `rooms.lobby.max_members`: invalid value: integer `-1`, expected \
         u32 (line 2, column 39)\n  fix: give the field the type docs/spec-format.md describes",
    );
}

// ---------------------------------------------------------------- $ref

#[test]
fn unresolvable_local_ref() {
    let payload = json!({"type": "object", "properties": {"room": {"$ref": "#/$defs/Missing"}}});
    assert_one(
        &spec_with_defs(
            json!({"Room": {"type": "string"}}),
            json!({"a": {"payload": payload}}),
        ),
        "error: api.json: at `events.a.payload.properties.room.$ref`: `$ref` `#/$defs/Missing` \
         does not resolve: there is no `$defs.Missing`\n  fix: add `Missing` under `$defs`, or \
         use one of `Room`",
    );
    assert_one(
        &spec(json!({"a": {"payload": payload}}), json!({})),
        "error: api.json: at `events.a.payload.properties.room.$ref`: `$ref` `#/$defs/Missing` \
         does not resolve: there is no `$defs.Missing`\n  fix: add `Missing` under `$defs`",
    );
}

#[test]
fn unresolvable_ref_inside_a_def_is_reported_once() {
    assert_one(
        &spec_with_defs(
            json!({"Room": {"$ref": "#/$defs/Nope"}}),
            json!({"a": {"payload": {"type": "object", "properties": {"r": {"$ref": "#/$defs/Room"}}}}}),
        ),
        "error: api.json: at `$defs.Room.$ref`: `$ref` `#/$defs/Nope` does not resolve: there is \
         no `$defs.Nope`\n  fix: add `Nope` under `$defs`, or use one of `Room`",
    );
}

/// A definition that applies itself to the same value (through `allOf`,
/// `anyOf`, `$ref`...) is refused: validating against it never ends, and
/// the type generator would recurse without end. Recursion through
/// `properties` or `items` stays allowed.
#[test]
fn a_definition_that_applies_itself_in_place() {
    let payload = json!({"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}});
    let fix = "\n  fix: a recursive schema must nest its `$ref` under `properties` or `items`; \
               remove the reference from `allOf`/`anyOf`/`oneOf`/`not`/`if`";
    assert_one(
        &spec_with_defs(
            json!({"B": {"allOf": [
                {"type": "object", "properties": {"x": {"$ref": "#/$defs/B"}}},
                {"$ref": "#/$defs/B"},
            ]}}),
            json!({"send": {"payload": payload}}),
        ),
        &format!(
            "error: api.json: at `$defs.B`: `B` applies itself to the same value (B → B), so \
             checking a value against it never ends{fix}"
        ),
    );
    assert_one(
        &spec_with_defs(
            json!({
                "A": {"anyOf": [{"type": "string"}, {"not": {"$ref": "#/$defs/C"}}]},
                "B": {"$ref": "#/$defs/A"},
                "C": {"if": {"type": "string"}, "then": {"oneOf": [{"$ref": "#/$defs/A"}]}},
            }),
            json!({"send": {"payload": payload}}),
        ),
        &format!(
            "error: api.json: at `$defs.A`: `A` applies itself to the same value (A → C → A), \
             so checking a value against it never ends{fix}"
        ),
    );
    // A linked list is recursive through a property: fine.
    let list = json!({"Node": {"type": "object", "properties": {
        "next": {"allOf": [{"$ref": "#/$defs/Node"}]},
        "items": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
    }}});
    let payload = json!({"type": "object", "properties": {"n": {"$ref": "#/$defs/Node"}}});
    check_str(
        "api.json",
        &spec_with_defs(list, json!({"send": {"payload": payload}})),
    )
    .unwrap();
}

#[test]
fn unsupported_local_ref() {
    assert_one(
        &spec(
            json!({"a": {"payload": {"$ref": "#/properties/x"}}}),
            json!({}),
        ),
        "error: api.json: at `events.a.payload.$ref`: `$ref` `#/properties/x` is not \
         supported\n  fix: reference a definition as `#/$defs/Name`",
    );
}

#[test]
fn ref_to_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "api.json",
        &json!({
            "socketspec": "1",
            "info": {"title": "T", "version": "1"},
            "events": {"a": {"payload": {"$ref": "types.json#/$defs/User"}}},
        }),
    );
    let missing = dir.path().join("types.json");
    let io = std::fs::read_to_string(&missing).unwrap_err();
    let err = check(&path).unwrap_err();
    assert_eq!(err.spec_errors().len(), 1, "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "error: {}: at `events.a.payload.$ref`: `$ref` `types.json#/$defs/User` does not \
             resolve: cannot read {}: {io}\n  fix: check the file name; paths are relative to \
             the file that contains the `$ref`",
            path.display(),
            missing.display()
        )
    );
}

#[test]
fn ref_to_a_missing_def_in_another_file() {
    let dir = tempfile::tempdir().unwrap();
    let types = write(
        dir.path(),
        "types.json",
        &json!({"$defs": {"Room": {"type": "string"}}}),
    );
    let path = write(
        dir.path(),
        "api.json",
        &json!({
            "socketspec": "1",
            "info": {"title": "T", "version": "1"},
            "events": {"a": {"payload": {"$ref": "types.json#/$defs/User"}}},
        }),
    );
    assert_eq!(
        check(&path).unwrap_err().to_string(),
        format!(
            "error: {}: at `events.a.payload.$ref`: `$ref` `types.json#/$defs/User` does not \
             resolve: {} has no `$defs.User`\n  fix: check the definition's name in that file",
            path.display(),
            types.display()
        )
    );
}

#[test]
fn ref_outside_the_project() {
    for reference in [
        "http://example.com/user.json",
        "https://example.com/s#/$defs/User",
    ] {
        assert_one(
            &spec(json!({"a": {"payload": {"$ref": reference}}}), json!({})),
            &format!(
                "error: api.json: at `events.a.payload.$ref`: `$ref` `{reference}` points outside \
                 the project: no schema of the spec has that `$id`, and the server never fetches a \
                 schema\n  fix: copy the schema into `$defs` (or a file beside the spec) and \
                 use `#/$defs/Name` or `file.json#/$defs/Name`"
            ),
        );
    }
}

/// A reference inside a schema resource resolves against its `$id`: one
/// that leads to no schema of the spec is refused where it is written.
#[test]
fn ref_inside_a_resource_to_nothing_in_the_spec() {
    assert_one(
        &spec(
            json!({"a": {"payload": {"type": "object", "properties": {"x": {
                "$id": "https://example.com/schemas/x",
                "$ref": "other.json"
            }}}}}),
            json!({}),
        ),
        "error: api.json: at `events.a.payload.properties.x.$ref`: `$ref` `other.json` points \
         outside the project: no schema of the spec has that `$id`, and the server never \
         fetches a schema\n  fix: copy the schema into `$defs` (or a file beside the spec) and \
         use `#/$defs/Name` or `file.json#/$defs/Name`",
    );
}

/// Two different schemas with one `$id`: in the server's one document,
/// one would silently stand for both.
#[test]
fn one_id_for_two_schemas() {
    assert_one(
        &spec_with_defs(
            json!({"S": {"$id": "https://example.com/s", "type": "string"}}),
            json!({"a": {"payload": {"type": "object", "properties": {
                "n": {"$id": "https://example.com/s", "type": "integer"}
            }}}}),
        ),
        "error: api.json: at `events.a.payload.properties.n.$id`: `$id` `https://example.com/s` \
         is declared by two different schemas (also at `$defs.S.$id`)\n  fix: give each schema \
         its own `$id`, or declare it once and `$ref` it",
    );
}

/// A spec referencing definitions in two other files, the way the format
/// allows: `file.json#/$defs/Name` (twice) and a whole `file.json`.
fn multi_file_spec(dir: &Path) -> PathBuf {
    write(
        dir,
        "types.json",
        &json!({"$defs": {
            "User": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "string"}, "name": {"$ref": "#/$defs/Name"}},
            },
            "Name": {"type": "string", "minLength": 1},
        }}),
    );
    std::fs::create_dir(dir.join("shared")).unwrap();
    write(
        &dir.join("shared"),
        "point.json",
        &json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object", "required": ["x", "y"],
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}}}),
    );
    write(
        dir,
        "api.json",
        &json!({
            "socketspec": "1",
            "info": {"title": "T", "version": "1"},
            "rooms": {"lobby": {"static": true}},
            "events": {
                "hello": {"payload": {"$ref": "types.json#/$defs/User"},
                          "emits": {"welcome": {"payload": {"type": "object", "properties": {
                              "user": {"$ref": "types.json#/$defs/User"}}}}}},
                "move": {"payload": {"type": "object", "properties": {
                            "to": {"$ref": "shared/point.json"}}},
                         "broadcasts": {"moved": {"room": "lobby", "payload": {
                            "type": "object", "properties": {
                                "who": {"$ref": "types.json#/$defs/User"},
                                "to": {"$ref": "shared/point.json"}}}}}},
            },
        }),
    )
}

#[test]
fn ref_into_other_files_resolves_and_generates_each_type_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = multi_file_spec(dir.path());
    let model = check(&path).unwrap();
    assert_eq!(
        model.referenced_files(),
        [
            dir.path().join("types.json"),
            dir.path().join("shared/point.json")
        ]
    );
    // Every definition is shared once, and every reference points into the
    // shared definitions (the AsyncAPI document shows them as components).
    let asyncapi = model.asyncapi();
    let schemas = &asyncapi["components"]["schemas"];
    let names: Vec<&String> = schemas.as_object().unwrap().keys().collect();
    assert_eq!(names, ["User", "Name", "Point"]);
    assert_eq!(
        asyncapi["components"]["messages"]["hello"]["payload"]["properties"]["payload"],
        json!({"$ref": "#/components/schemas/User"})
    );
    assert_eq!(
        schemas["User"]["properties"]["name"],
        json!({"$ref": "#/components/schemas/Name"})
    );

    let out = tempfile::tempdir().unwrap();
    let generated = Builder::new()
        .emit_rerun_if_changed(false)
        .out_dir(out.path())
        .compile(&path)
        .unwrap();
    let rust = std::fs::read_to_string(&generated.rust_file).unwrap();
    for item in ["pub struct User ", "pub struct Point ", "pub type Name "] {
        assert_eq!(
            rust.matches(item).count(),
            1,
            "`{item}` should appear once:\n{rust}"
        );
    }
    for item in [
        "pub struct User",
        "pub struct Point",
        "pub struct Name",
        "pub type Name",
    ] {
        let total =
            rust.matches(&format!("{item} ")).count() + rust.matches(&format!("{item}(")).count();
        assert!(total <= 1, "`{item}` generated {total} times");
    }
    syn::parse_file(&rust).unwrap();
}

#[test]
fn an_invalid_schema_in_another_file_names_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let types = write(
        dir.path(),
        "types.json",
        &json!({"$defs": {"Age": {"type": "integr"}}}),
    );
    let path = write(
        dir.path(),
        "api.json",
        &json!({
            "socketspec": "1",
            "info": {"title": "T", "version": "1"},
            "events": {"a": {"payload": {"type": "object", "properties": {
                "age": {"$ref": "types.json#/$defs/Age"}}}}},
        }),
    );
    assert_eq!(
        check(&path).unwrap_err().to_string(),
        format!(
            "error: {}: at `$defs.Age.type`: invalid JSON Schema: \"integr\" is not valid under \
             any of the schemas listed in the 'anyOf' keyword\n  fix: correct the keyword's \
             value (JSON Schema draft 2020-12)",
            types.display()
        )
    );
}

#[test]
fn a_def_from_another_file_that_clashes_with_a_local_one() {
    let dir = tempfile::tempdir().unwrap();
    let types = write(
        dir.path(),
        "types.json",
        &json!({"$defs": {"Room": {"type": "integer"}}}),
    );
    let path = write(
        dir.path(),
        "api.json",
        &json!({
            "socketspec": "1",
            "info": {"title": "T", "version": "1"},
            "$defs": {"Room": {"type": "string"}},
            "events": {"a": {"payload": {"type": "object", "properties": {
                "room": {"$ref": "types.json#/$defs/Room"}}}}},
        }),
    );
    assert_eq!(
        check(&path).unwrap_err().to_string(),
        format!(
            "error: {}: at `events.a.payload.properties.room.$ref`: `$ref` \
             `types.json#/$defs/Room` brings in a definition `Room` that is already defined \
             differently at {} `$defs.Room`\n  fix: rename one of the two definitions",
            path.display(),
            path.display()
        )
    );
    let _ = types;
}

// ---------------------------------------------------------------- schemas

fn with_property(property: Value) -> String {
    spec(
        json!({"a": {"payload": {"type": "object", "properties": {"p": property}}}}),
        json!({}),
    )
}

#[test]
fn invalid_type_keyword() {
    assert_one(
        &with_property(json!({"type": "strnig"})),
        "error: api.json: at `events.a.payload.properties.p.type`: invalid JSON Schema: \
         \"strnig\" is not valid under any of the schemas listed in the 'anyOf' keyword\n  \
         fix: correct the keyword's value (JSON Schema draft 2020-12)",
    );
}

#[test]
fn negative_min_length() {
    assert_one(
        &with_property(json!({"type": "string", "minLength": -1})),
        "error: api.json: at `events.a.payload.properties.p.minLength`: invalid JSON Schema: -1 \
         is less than the minimum of 0\n  fix: correct the keyword's value (JSON Schema draft \
         2020-12)",
    );
}

#[test]
fn invalid_regex() {
    assert_one(
        &with_property(json!({"type": "string", "pattern": "(["})),
        "error: api.json: at `events.a.payload.properties.p.pattern`: the schema does not \
         compile: \"([\" is not a \"regex\"\n  fix: correct the keyword (e.g. a `pattern` must \
         be a valid regular expression)",
    );
}

#[test]
fn invalid_def_schemas_are_reported_where_they_are_even_unused() {
    assert_one(
        &spec_with_defs(
            json!({"Code": {"type": "string", "pattern": "(["}}),
            json!({}),
        ),
        "error: api.json: at `$defs.Code.pattern`: the schema does not compile: \"([\" is not a \
         \"regex\"\n  fix: correct the keyword (e.g. a `pattern` must be a valid regular \
         expression)",
    );
    // Used from a payload, it is still reported once, at the definition.
    assert_one(
        &spec_with_defs(
            json!({"Code": {"type": "strnig"}}),
            json!({"a": {"payload": {"type": "object", "properties": {"c": {"$ref": "#/$defs/Code"}}}}}),
        ),
        "error: api.json: at `$defs.Code.type`: invalid JSON Schema: \"strnig\" is not valid \
         under any of the schemas listed in the 'anyOf' keyword\n  fix: correct the keyword's \
         value (JSON Schema draft 2020-12)",
    );
}

#[test]
fn payload_that_is_not_an_object() {
    let fix = "fix: wrap the value in an object: {\"type\": \"object\", \"properties\": {\"value\": ...}}";
    assert_one(
        &spec(json!({"a": {"payload": {"type": "string"}}}), json!({})),
        &format!(
            "error: api.json: at `events.a.payload`: a payload schema must describe a JSON object \
             (`\"type\": \"object\"`)\n  {fix}"
        ),
    );
    assert_one(
        &spec(
            json!({"a": {"emits": {"b": {"payload": {"type": "array"}}}}}),
            json!({}),
        ),
        &format!(
            "error: api.json: at `events.a.emits.b.payload`: a payload schema must describe a JSON \
             object (`\"type\": \"object\"`)\n  {fix}"
        ),
    );
    // Through a `$ref` too.
    assert_one(
        &spec_with_defs(
            json!({"Id": {"type": "string"}}),
            json!({"a": {"payload": {"$ref": "#/$defs/Id"}}}),
        ),
        &format!(
            "error: api.json: at `events.a.payload`: a payload schema must describe a JSON object \
             (`\"type\": \"object\"`)\n  {fix}"
        ),
    );
}

// ---------------------------------------------------------------- shape

fn unknown_field_fix(expected: &str) -> String {
    format!("fix: remove the field or correct its spelling; expected {expected}")
}

#[test]
fn unknown_field_at_the_root() {
    let text = r#"{"socketspec": "1", "info": {"title": "T", "version": "1"}, "event": {}}"#;
    let expected =
        "one of `$schema`, `socketspec`, `info`, `namespace`, `$defs`, `rooms`, `events`, `push`";
    assert_one(
        text,
        &format!(
            "error: api.json: at `event`: unknown field `event`, expected {expected} (line 1, \
             column 67)\n  {}",
            unknown_field_fix(expected)
        ),
    );
}

#[test]
fn unknown_field_in_info() {
    let text = r#"{"socketspec": "1", "info": {"title": "T", "version": "1", "titel": "x"}, "events": {}}"#;
    let expected = "one of `title`, `version`, `description`";
    assert_one(
        text,
        &format!(
            "error: api.json: at `info.titel`: unknown field `titel`, expected {expected} (line 1, \
             column 66)\n  {}",
            unknown_field_fix(expected)
        ),
    );
}

#[test]
fn unknown_field_in_a_room() {
    let text = r#"{"socketspec": "1", "info": {"title": "T", "version": "1"}, "events": {},
"rooms": {"chat:{room}": {"statik": true}}}"#;
    let expected = "one of `description`, `static`, `guarded`, `max_members`";
    assert_one(
        text,
        &format!(
            "error: api.json: at `rooms[\"chat:{{room}}\"].statik`: unknown field `statik`, \
             expected {expected} (line 2, column 34)\n  {}",
            unknown_field_fix(expected)
        ),
    );
}

#[test]
fn unknown_field_in_an_event() {
    let text = r#"{"socketspec": "1", "info": {"title": "T", "version": "1"},
"events": {"a": {"broadcast": {}}}}"#;
    let expected = "one of `description`, `tags`, `payload`, `emits`, `broadcasts`, `ordered`, \
                    `executor`, `deprecated`";
    assert_one(
        text,
        &format!(
            "error: api.json: at `events.a.broadcast`: unknown field `broadcast`, expected \
             {expected} (line 2, column 28)\n  {}",
            unknown_field_fix(expected)
        ),
    );
}

#[test]
fn unknown_field_in_an_emit() {
    let text = r#"{"socketspec": "1", "info": {"title": "T", "version": "1"},
"events": {"a": {"emits": {"b": {"desc": ""}}}}}"#;
    let expected = "`description` or `payload`";
    assert_one(
        text,
        &format!(
            "error: api.json: at `events.a.emits.b.desc`: unknown field `desc`, expected \
             {expected} (line 2, column 39)\n  {}",
            unknown_field_fix(expected)
        ),
    );
}

#[test]
fn unknown_field_in_a_broadcast() {
    let text = r#"{"socketspec": "1", "info": {"title": "T", "version": "1"}, "rooms": {"x": {}},
"events": {"a": {"broadcasts": {"b": {"room": "x", "exclude": true}}}}}"#;
    let expected = "one of `room`, `description`, `payload`, `exclude_sender`";
    assert_one(
        text,
        &format!(
            "error: api.json: at `events.a.broadcasts.b.exclude`: unknown field `exclude`, \
             expected {expected} (line 2, column 60)\n  {}",
            unknown_field_fix(expected)
        ),
    );
}

#[test]
fn invalid_json_syntax_gives_line_and_column() {
    let text = "{\n  \"socketspec\": \"1\",\n  \"info\": {\"title\": \"T\" \"version\": \"1\"}\n}";
    assert_one(
        text,
        "error: api.json: at `info`: the file is not valid JSON: expected `,` or `}` at line 3 \
         column 25\n  fix: fix the JSON syntax near (line 3, column 25)",
    );
    assert_one(
        "{\n  \"socketspec\": \"1\",",
        "error: api.json: at `(root)`: the file is not valid JSON: EOF while parsing a value at \
         line 2 column 20\n  fix: fix the JSON syntax near (line 2, column 20)",
    );
    assert_one(
        r#"{"socketspec": "1", "info": {"title": "T", "version": "1"}, "events": {}} x"#,
        "error: api.json: at `(root)`: trailing characters after the spec: trailing characters \
         at line 1 column 75\n  fix: remove everything after the closing `}`",
    );
}

#[test]
fn missing_info() {
    assert_one(
        r#"{"socketspec": "1", "events": {}}"#,
        "error: api.json: at `(root)`: missing field `info` (line 1, column 33)\n  fix: add the \
         field (see docs/spec-format.md)",
    );
}

#[test]
fn missing_events() {
    assert_one(
        r#"{"socketspec": "1", "info": {"title": "T", "version": "1"}}"#,
        "error: api.json: at `(root)`: missing field `events` (line 1, column 59)\n  fix: add the \
         field (see docs/spec-format.md)",
    );
}

#[test]
fn missing_nested_field() {
    assert_one(
        r#"{"socketspec": "1", "info": {"version": "1"}, "events": {}}"#,
        "error: api.json: at `info`: missing field `title` (line 1, column 44)\n  fix: add the \
         field (see docs/spec-format.md)",
    );
}

#[test]
fn unsupported_version() {
    assert_one(
        r#"{"socketspec": "2", "info": {"title": "T", "version": "1"}, "events": {}}"#,
        "error: api.json: at `socketspec`: unsupported format version `2`\n  fix: set \
         `\"socketspec\": \"1\"`",
    );
    assert_one(
        r#"{"socketspec": 1, "info": {"title": "T", "version": "1"}, "events": {}}"#,
        "error: api.json: at `socketspec`: invalid type: integer `1`, expected a string (line 1, \
         column 16)\n  fix: give the field the type docs/spec-format.md describes",
    );
}

// ---------------------------------------------------------------- event names

#[test]
fn invalid_event_name() {
    assert_one(
        &spec(json!({"9lives": {}}), json!({})),
        "error: api.json: at `events.9lives`: `9lives` is not a valid event name\n  fix: start \
         with a letter and use letters, digits, `_`, `.`, `-` or `:` (e.g. `send_message`)",
    );
    assert!(one(&spec(json!({"a": {"emits": {"hi there": {}}}}), json!({})))
        .starts_with("error: api.json: at `events.a.emits[\"hi there\"]`: `hi there` is not a valid event name"));
}

// ---------------------------------------------------------------- all at once

#[test]
fn several_mistakes_are_reported_at_once() {
    let text = spec(
        json!({
            "__ping__": {},
            "9x": {},
            "a": {
                "payload": {"type": "string"},
                "broadcasts": {"b": {"room": "nowhere"}},
            },
            "on_connect": {},
        }),
        json!({"{a}{b}": {}, "lobby": {"max_members": 0}}),
    );
    let err = check_str("api.json", &text).unwrap_err();
    let paths: Vec<&str> = err.spec_errors().iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "rooms[\"{a}{b}\"]",
            "rooms.lobby.max_members",
            "events.__ping__",
            "events.9x",
            "events.a.broadcasts.b.room",
            "events.a.payload",
        ]
    );
    let shown = err.to_string();
    assert!(shown.ends_with("\n6 errors in the spec"), "{shown}");
    assert_eq!(shown.matches("error: api.json: at `").count(), 6);
    assert_eq!(shown.matches("\n  fix: ").count(), 6);
    // `build.rs` calls `.unwrap()`: its Debug output is the readable text.
    assert_eq!(format!("{err:?}"), format!("\n{shown}\n"));
}

#[test]
fn every_error_in_this_file_has_a_path_message_and_fix() {
    // A sweep over a spec with one mistake per kind: none may come out with
    // an empty message or fix (an unhelpful error is a bug).
    let text = spec(
        json!({
            "__x__": {},
            "send-message": {},
            "send_message": {"payload": {"type": "object", "properties": {
                "r": {"$ref": "#/$defs/Nope"}, "t": {"type": "strnig"}}}},
            "b": {"emits": {"status": {"payload": {"type": "integer"}}},
                  "broadcasts": {"c": {"room": "x:{id}"}}},
        }),
        json!({"x:{Id}": {}, "y:{a}": {"static": true}}),
    );
    let err = check_str("api.json", &text).unwrap_err();
    assert!(err.spec_errors().len() >= 5, "{err}");
    for e in err.spec_errors() {
        assert!(
            !e.message.trim().is_empty() && !e.fix.trim().is_empty(),
            "{e}"
        );
        assert_eq!(e.file, Path::new("api.json"));
    }
    assert!(matches!(err, Error::Spec(_)));
}
