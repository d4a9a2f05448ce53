//! The docs page's HTML: one self-contained file with a card per event,
//! readable payload tables, examples that satisfy their schemas, the
//! reference tables, no external URL, and spec text escaped everywhere.
//!
//! Unit tests, not integration tests: they compare the page with what the
//! example generator and the protocol tables (both internal) produce.

use std::path::{Path, PathBuf};

use crate::Model;
use crate::emit::{docs, protocol};
use serde_json::{Value, json};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chat() -> Model {
    crate::check(workspace().join("spec/chat.json")).unwrap()
}

/// Every `http://` or `https://` in the page (there must be none: the page
/// works offline and from `file://`).
fn external_urls(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for scheme in ["http://", "https://"] {
        let mut rest = html;
        while let Some(i) = rest.find(scheme) {
            let end = rest[i..]
                .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '<')
                .map_or(rest.len(), |e| i + e);
            found.push(rest[i..end].to_owned());
            rest = &rest[end..];
        }
    }
    found
}

/// The values of every `attr="..."` in the page.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let start = i + needle.len();
            html[start..].find('"').map(|end| &html[start..start + end])
        })
        .collect()
}

#[test]
fn chat_page_is_self_contained() {
    let html = docs::render(&chat()).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert_eq!(
        external_urls(&html),
        Vec::<String>::new(),
        "external URLs in the page"
    );
    assert!(!html.contains("<script src"), "external script");
    assert!(!html.contains("rel=\"stylesheet\""), "external stylesheet");
    assert!(!html.contains("@import"), "CSS import");
    assert!(!html.contains("url("), "CSS url()");
    for href in attribute_values(&html, "href") {
        assert!(
            href.starts_with('#') || href.starts_with("data:"),
            "link to {href:?}: only in-page anchors and data: URLs are allowed"
        );
    }
    assert!(
        attribute_values(&html, "src").is_empty(),
        "no src attributes"
    );
    // The console's default URL is a WebSocket one.
    assert!(html.contains("value=\"ws://localhost:8080/ws\""));
    // Exactly one inline script besides the JSON data block, and one style.
    assert_eq!(html.matches("<script>").count(), 1);
    assert_eq!(html.matches("<script type=\"application/json\"").count(), 1);
    assert_eq!(html.matches("<style>").count(), 1);
}

#[test]
fn chat_page_has_a_card_per_event_with_its_outcomes() {
    let model = chat();
    let html = docs::render(&model).unwrap();
    assert!(html.contains("<title>Chat 1.0.0 · WebSocket API</title>"));
    assert!(
        html.contains("The socketspec showcase: rooms, messages, echo and a guarded admin area.")
    );
    for event in &model.events {
        let card = format!(
            "<article class=\"card\" id=\"event-{0}\" data-event=\"{0}\"",
            event.name
        );
        assert_eq!(
            html.matches(&card).count(),
            1,
            "one card for {}",
            event.name
        );
        assert!(
            html.contains(&format!("id=\"try-event-{}\"", event.name)),
            "try-it editor for {}",
            event.name
        );
    }
    // Badges and room patterns.
    let slow = card_html(&html, "slow_echo");
    assert!(
        slow.contains("class=\"badge ordered\""),
        "slow_echo is ordered"
    );
    assert!(!card_html(&html, "echo").contains("class=\"badge ordered\""));
    let send = card_html(&html, "send_message");
    assert!(send.contains("data-server-event=\"message_ack\""));
    assert!(send.contains("data-server-event=\"new_message\""));
    assert!(send.contains("<code class=\"room\">chat:{room}</code>"));
    let join = card_html(&html, "join_room");
    assert!(
        join.contains("not the sender"),
        "user_joined excludes the sender"
    );
    // Payload tables: required fields, $ref names, constraints, enums, defaults.
    assert!(send.contains("data-field=\"text\""));
    assert!(send.contains("1–2000 characters"));
    assert!(send.contains("pattern: ^[A-Za-z0-9_-]{1,64}$"));
    assert!(send.contains("<div class=\"ref\">Room</div>"));
    assert!(send.contains("No other fields are accepted."));
    let fail = card_html(&html, "fail");
    assert!(
        fail.contains("one of: &#34;error&#34;, &#34;panic&#34;"),
        "{fail}"
    );
    assert!(fail.contains("default: &#34;error&#34;"));
    let slow_constraints = card_html(&html, "slow_echo");
    assert!(slow_constraints.contains("0 ≤ value ≤ 5000"));
    let whoami = card_html(&html, "whoami");
    assert!(whoami.contains("No fields"));
    assert!(
        whoami.contains("string | null"),
        "identity.user_id is nullable"
    );
    assert!(whoami.contains("array of string"));
    // Tags group the cards and the navigation.
    for tag in ["rooms", "chat", "diagnostics"] {
        assert!(html.contains(&format!("id=\"tag-{tag}\"")), "group {tag}");
    }
    assert!(
        html.contains("<h2 class=\"toc-heading\">admin</h2>"),
        "second tags appear in the navigation"
    );
}

/// The HTML of one event card.
fn card_html<'a>(html: &'a str, event: &str) -> &'a str {
    let start = html
        .find(&format!("data-event=\"{event}\" aria-labelledby"))
        .unwrap_or_else(|| panic!("no card for {event}"));
    let end = html[start..].find("</article>").unwrap();
    &html[start..start + end]
}

#[test]
fn chat_page_has_rooms_system_events_and_error_codes() {
    let html = docs::render(&chat()).unwrap();
    for pattern in ["lobby", "chat:{room}", "admin:{section}"] {
        assert!(
            html.contains(&format!("<td><code>{pattern}</code>")),
            "room {pattern}"
        );
    }
    assert!(html.contains("<span class=\"badge static\">static</span>"));
    assert!(html.contains("<span class=\"badge guarded\">guarded</span>"));
    for sys in socketspec_protocol::SystemEvent::ALL.map(|e| e.name()) {
        assert!(
            html.contains(&format!("data-system-event=\"{sys}\"")),
            "{sys}"
        );
    }
    for code in protocol::ERROR_CODES {
        assert!(
            html.contains(&format!("data-error-code=\"{}\"", code.code)),
            "{}",
            code.code
        );
    }
    for (code, _) in protocol::CLOSE_CODES {
        assert!(
            html.contains(&format!("<td><code>{code}</code></td>")),
            "{code}"
        );
    }
}

/// The example in each try-it editor, as the page shows it.
fn editor_example(html: &str, event: &str) -> Value {
    let card = card_html(html, event);
    let start = card.find("<textarea").unwrap();
    let body_start = start + card[start..].find('>').unwrap() + 1;
    let body_end = body_start + card[body_start..].find("</textarea>").unwrap();
    let text = unescape(&card[body_start..body_end]);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{event}: {e}: {text}"))
}

/// Undoes askama's HTML escaping (numeric entities).
fn unescape(text: &str) -> String {
    text.replace("&#34;", "\"")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
}

fn assert_valid(model: &Model, schema: &Value, value: &Value, what: &str) {
    let full = model.standalone_schema(schema);
    let validator = jsonschema::draft202012::new(&full).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: example {value} fails its schema: {errors:?}"
    );
}

#[test]
fn chat_examples_are_valid_and_readable() {
    let model = chat();
    let html = docs::render(&model).unwrap();
    for event in &model.events {
        let shown = editor_example(&html, &event.name);
        assert_eq!(shown, *event.example.best(), "{}", event.name);
        assert_valid(&model, &event.payload, &shown, &event.name);
    }
    for server in &model.server_events {
        assert_valid(&model, &server.payload, server.example.best(), &server.name);
    }
    assert_eq!(
        editor_example(&html, "join_room"),
        json!({"room": "general"})
    );
    assert_eq!(
        editor_example(&html, "join_admin"),
        json!({"section": "ops"})
    );
    assert_eq!(
        editor_example(&html, "send_message"),
        json!({"room": "general", "text": "Hello, world!"})
    );
    assert_eq!(
        editor_example(&html, "echo"),
        json!({"seq": 1, "data": "hello"})
    );
    assert_eq!(
        editor_example(&html, "slow_echo"),
        json!({"seq": 1, "delay_ms": 100})
    );
    assert_eq!(editor_example(&html, "fail"), json!({"mode": "error"}));
    assert_eq!(editor_example(&html, "whoami"), json!({}));
}

const TRICKY: &str = r##"{
  "socketspec": "1",
  "info": {"title": "Tricky </script><script>alert(1)</script>", "version": "0 & <1>",
           "description": "Uses `<b>code</b>` and \"quotes\" and 'apostrophes'."},
  "$defs": {
    "Code": {"type": "string", "pattern": "^[A-Z]{2}\\d{4}$", "description": "A code like `AB1234`."},
    "Node": {"type": "object", "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}
  },
  "rooms": {"team:{id}": {"description": "<img src=x onerror=alert(1)>"}},
  "events": {
    "make": {
      "description": "</textarea><script>alert(2)</script>",
      "tags": ["a b/c"],
      "deprecated": true,
      "payload": {"type": "object", "required": ["code", "address", "items", "when", "count"], "properties": {
        "code": {"$ref": "#/$defs/Code"},
        "address": {"type": "object", "required": ["city"], "properties": {
          "city": {"type": "string", "minLength": 12},
          "zip": {"type": "string", "pattern": "^\\d{5}(-\\d{4})?$"}
        }},
        "items": {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "object", "properties": {"sku": {"type": "string", "maxLength": 4}}}},
        "when": {"type": "string", "format": "date-time"},
        "email": {"type": "string", "format": "email"},
        "count": {"type": "integer", "exclusiveMinimum": 10, "multipleOf": 5},
        "ratio": {"type": "number", "minimum": 0, "maximum": 1},
        "kind": {"oneOf": [{"type": "null"}, {"const": "fast"}]},
        "tree": {"$ref": "#/$defs/Node"},
        "flag": {"type": "boolean"},
        "sep": {"type": "string", "enum": ["</script>", "b"]}
      }},
      "broadcasts": {"made": {"room": "team:{id}", "payload": {"type": "object", "properties": {"by": {"type": "string"}}}}}
    }
  }
}"##;

#[test]
fn spec_text_is_escaped_everywhere() {
    let model = crate::check_str("tricky.json", TRICKY).unwrap();
    let html = docs::render(&model).unwrap();
    assert!(
        !html.contains("<script>alert"),
        "an injected script survived"
    );
    assert!(!html.contains("<img src=x"), "injected markup survived");
    assert!(
        !html.contains("</textarea><script>"),
        "the editor was broken out of"
    );
    assert!(
        html.contains("<h1>Tricky &#60;/script&#62;&#60;script&#62;alert(1)&#60;/script&#62;</h1>")
    );
    assert!(
        html.contains("<code>&lt;b&gt;code&lt;/b&gt;</code>"),
        "backticks become code, escaped"
    );
    // The JSON data block cannot close its script element.
    let data_start = html
        .find("<script type=\"application/json\" id=\"socketspec-data\">")
        .unwrap();
    let data_end = data_start + html[data_start..].find("</script>").unwrap();
    let data = &html[data_start..data_end];
    let json_text = &data[data.find('>').unwrap() + 1..];
    let parsed: Value = serde_json::from_str(json_text).unwrap();
    assert_eq!(parsed["title"], "Tricky </script><script>alert(1)</script>");
    assert_eq!(external_urls(&html), Vec::<String>::new());
}

#[test]
fn nested_fields_badges_and_examples_of_a_rich_spec() {
    let model = crate::check_str("tricky.json", TRICKY).unwrap();
    let html = docs::render(&model).unwrap();
    let card = card_html(&html, "make");
    assert!(card.contains("class=\"badge deprecated\""));
    assert!(html.contains("card is-deprecated"));
    for field in [
        "address",
        "address.city",
        "address.zip",
        "items",
        "items[].sku",
        "tree",
        "tree.name",
        "tree.children",
    ] {
        assert!(
            card.contains(&format!("data-field=\"{field}\"")),
            "row for {field}"
        );
    }
    assert!(
        card.contains("recursive: see Node above"),
        "recursion is cut"
    );
    assert!(card.contains("2–3 items"));
    assert!(card.contains("format: date-time"));
    assert!(card.contains("&#62; 10"), "exclusive minimum");
    assert!(card.contains("multiple of 5"));
    assert!(card.contains("<code class=\"room\">team:{id}</code>"));
    assert!(html.contains("id=\"tag-a-b-c\""), "tag ids are slugs");

    let shown = editor_example(&html, "make");
    let event = &model.events[0];
    assert_valid(&model, &event.payload, &shown, "make");
    assert_eq!(shown["code"], "AA1111", "sampled from the pattern");
    assert_eq!(shown["when"], "2025-01-01T12:00:00Z");
    assert_eq!(shown["email"], "alice@example.com");
    assert_eq!(shown["count"], 15);
    assert_eq!(shown["kind"], "fast");
    assert_eq!(shown["sep"], "</script>");
    assert_eq!(shown["items"].as_array().map(Vec::len), Some(2));
    assert!(
        shown["address"]["city"]
            .as_str()
            .is_some_and(|c| c.len() >= 12)
    );
}

#[test]
fn options_set_the_console_defaults() {
    let options = docs::DocsOptions {
        ws_path: "/api/socket".to_owned(),
        file_ws_url: "wss://chat.example.test/api/socket".to_owned(),
    };
    let html = docs::render_with(&chat(), &options).unwrap();
    assert!(html.contains("value=\"wss://chat.example.test/api/socket\""));
    assert!(html.contains("\"wsPath\":\"/api/socket\""));
}

#[test]
fn examples_prefer_a_recognisable_value_that_fits_the_pattern() {
    let model = crate::check_str(
        "api.json",
        r#"{
        "socketspec": "1", "info": {"title": "T", "version": "1"},
        "events": {"join": {"payload": {"type": "object", "required": ["room"],
            "properties": {"room": {"type": "string", "pattern": "^[a-z]{1,8}$"}}}}}
    }"#,
    )
    .unwrap();
    let example = model.events[0].example.best();
    assert_eq!(example, &json!({"room": "general"}));
}
