//! The docs page: one self-contained HTML file (askama templates under
//! `templates/docs/`, inline CSS and JavaScript, no external URL) with every
//! event as a card, the rooms, the system events and error codes, and a live
//! "try it" console that connects to any running server.
//!
//! ```
//! let model = socketspec_codegen::check("../spec/chat.json").unwrap();
//! let html = model.docs_html().unwrap();
//! assert!(html.contains(r#"data-event="send_message""#));
//! ```

use askama::Template;
use indexmap::IndexMap;
use serde_json::{Value, json};

use crate::emit::protocol::{self, CLOSE_CODES, ERROR_CODES, ErrorCodeDoc};
use crate::emit::schema_table::{deref, schema_table};
use crate::error::Error;
use crate::model::{EventModel, Model};

/// The stylesheet inlined into the page.
const CSS: &str = include_str!("../../templates/docs/page.css");
/// The console script inlined into the page.
const JS: &str = include_str!("../../templates/docs/console.js");

/// Options for the page.
#[derive(Debug, Clone)]
pub struct DocsOptions {
    /// The WebSocket path the console appends to the page's own host when the
    /// page is served over HTTP (`/ws`, the runtime's default `ws_path`).
    pub ws_path: String,
    /// The URL the console starts with when the page is opened from a file.
    pub file_ws_url: String,
}

impl Default for DocsOptions {
    fn default() -> Self {
        DocsOptions {
            ws_path: "/ws".to_owned(),
            file_ws_url: "ws://localhost:8080/ws".to_owned(),
        }
    }
}

/// Renders the docs page for a validated model with the default options.
pub fn render(model: &Model) -> Result<String, Error> {
    render_with(model, &DocsOptions::default())
}

/// Renders the docs page for a validated model.
pub fn render_with(model: &Model, options: &DocsOptions) -> Result<String, Error> {
    let generate_error = |e: askama::Error| Error::Generate {
        file: model.file.clone(),
        message: format!("rendering the docs page: {e}"),
    };
    let mut groups: IndexMap<String, Vec<EventView>> = IndexMap::new();
    let mut nav: IndexMap<String, Vec<NavEvent>> = IndexMap::new();
    for event in &model.events {
        let view = event_view(model, event).map_err(generate_error)?;
        let first = event
            .tags
            .first()
            .cloned()
            .unwrap_or_else(|| "Events".to_owned());
        let tags: Vec<String> = if event.tags.is_empty() {
            vec![first.clone()]
        } else {
            event.tags.clone()
        };
        for tag in tags {
            nav.entry(tag).or_default().push(NavEvent {
                name: event.name.clone(),
                anchor: view.anchor.clone(),
                deprecated: event.deprecated,
            });
        }
        groups.entry(first).or_default().push(view);
    }
    let groups: Vec<Group> = groups
        .into_iter()
        .map(|(name, events)| Group {
            id: format!("tag-{}", slug(&name)),
            name,
            events,
        })
        .collect();
    let nav_groups = nav
        .into_iter()
        .map(|(name, events)| NavGroup { name, events })
        .collect();

    let rooms = model
        .rooms
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut broadcasts: Vec<String> = Vec::new();
            for e in &model.events {
                for b in e.broadcasts.iter().filter(|b| b.room == i) {
                    let name = &model.server_events[b.message].name;
                    if !broadcasts.contains(name) {
                        broadcasts.push(name.clone());
                    }
                }
            }
            RoomView {
                pattern: r.pattern.clone(),
                params: r.params.clone(),
                description_html: inline_html(r.description.as_deref().unwrap_or("")),
                is_static: r.is_static,
                guarded: r.guarded,
                max_members: r.max_members.map(|m| m.to_string()).unwrap_or_default(),
                broadcasts,
            }
        })
        .collect();

    let error_example = pretty(&error_example(model));

    let data = json!({
        "title": model.info.title,
        "version": model.info.version,
        "wsPath": options.ws_path,
        "fileWsUrl": options.file_ws_url,
        "events": model.events.iter().map(|e| json!({
            "name": e.name,
            "emits": e.emits.iter().map(|i| &model.server_events[*i].name).collect::<Vec<_>>(),
            "broadcasts": e.broadcasts.iter().map(|b| &model.server_events[b.message].name).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "serverEvents": model.server_events.iter().map(|s| &s.name).collect::<Vec<_>>(),
    });

    let page = Page {
        title: &model.info.title,
        version: &model.info.version,
        description_html: inline_html(model.info.description.as_deref().unwrap_or("")),
        namespace: &model.namespace,
        default_ws_url: &options.file_ws_url,
        event_count: model.events.len(),
        server_event_count: model.server_events.len(),
        generator_version: env!("CARGO_PKG_VERSION"),
        css: CSS,
        js: JS,
        data_json: script_json(&data),
        groups,
        nav_groups,
        rooms,
        system_events: protocol::system_events()
            .into_iter()
            .map(|s| SystemView {
                name: s.name,
                direction: s.direction.replace("->", "→"),
                payload_summary: s.payload_summary,
                when: s.when,
            })
            .collect(),
        error_codes: &ERROR_CODES,
        close_codes: &CLOSE_CODES,
        error_example,
        rust_notes: model
            .warnings
            .iter()
            .map(|w| (w.path.clone(), w.message.clone()))
            .collect(),
    };
    page.render().map_err(generate_error)
}

#[derive(Template)]
#[template(path = "docs/page.html")]
struct Page<'a> {
    title: &'a str,
    version: &'a str,
    description_html: String,
    namespace: &'a str,
    default_ws_url: &'a str,
    event_count: usize,
    server_event_count: usize,
    generator_version: &'static str,
    css: &'static str,
    js: &'static str,
    data_json: String,
    groups: Vec<Group>,
    nav_groups: Vec<NavGroup>,
    rooms: Vec<RoomView>,
    system_events: Vec<SystemView>,
    error_codes: &'static [ErrorCodeDoc],
    close_codes: &'static [(u16, &'static str)],
    error_example: String,
    /// The build's warnings: where a Rust type keeps raw JSON, which
    /// `format`s are not checked, which payloads have no valid example.
    rust_notes: Vec<(String, String)>,
}

struct Group {
    id: String,
    name: String,
    events: Vec<EventView>,
}

struct NavGroup {
    name: String,
    events: Vec<NavEvent>,
}

struct NavEvent {
    name: String,
    anchor: String,
    deprecated: bool,
}

struct EventView {
    name: String,
    anchor: String,
    description_html: String,
    tags: Vec<String>,
    ordered: bool,
    deprecated: bool,
    executor: bool,
    payload_table: String,
    example: String,
    example_rows: usize,
    emits: Vec<MessageView>,
    broadcasts: Vec<MessageView>,
}

struct MessageView {
    name: String,
    description_html: String,
    room: String,
    room_guarded: bool,
    exclude_sender: bool,
    table: String,
    example: String,
}

struct RoomView {
    pattern: String,
    params: Vec<String>,
    description_html: String,
    is_static: bool,
    guarded: bool,
    max_members: String,
    broadcasts: Vec<String>,
}

struct SystemView {
    name: &'static str,
    direction: String,
    payload_summary: &'static str,
    when: &'static str,
}

fn event_view(model: &Model, event: &EventModel) -> Result<EventView, askama::Error> {
    let example = pretty(event.example.best());
    let emits = event
        .emits
        .iter()
        .map(|i| {
            let msg = &model.server_events[*i];
            Ok(MessageView {
                name: msg.name.clone(),
                description_html: inline_html(msg.description.as_deref().unwrap_or("")),
                room: String::new(),
                room_guarded: false,
                exclude_sender: false,
                table: schema_table(model, &msg.payload)?,
                example: pretty(msg.example.best()),
            })
        })
        .collect::<Result<Vec<_>, askama::Error>>()?;
    let broadcasts = event
        .broadcasts
        .iter()
        .map(|b| {
            let msg = &model.server_events[b.message];
            let room = &model.rooms[b.room];
            let description = b.description.as_deref().or(msg.description.as_deref());
            Ok(MessageView {
                name: msg.name.clone(),
                description_html: inline_html(description.unwrap_or("")),
                room: room.pattern.clone(),
                room_guarded: room.guarded,
                exclude_sender: b.exclude_sender,
                table: schema_table(model, &msg.payload)?,
                example: pretty(msg.example.best()),
            })
        })
        .collect::<Result<Vec<_>, askama::Error>>()?;
    Ok(EventView {
        name: event.name.clone(),
        anchor: format!("event-{}", slug(&event.name)),
        description_html: inline_html(event.description.as_deref().unwrap_or("")),
        tags: event.tags.clone(),
        ordered: event.ordered,
        deprecated: event.deprecated,
        executor: event.executor,
        payload_table: schema_table(model, &event.payload)?,
        example_rows: example.lines().count().clamp(2, 14),
        example,
        emits,
        broadcasts,
    })
}

/// An `__error__` envelope as one of this API's events would cause it: a
/// payload missing a required field.
fn error_example(model: &Model) -> Value {
    let missing = model.events.iter().find_map(|e| {
        deref(model, &e.payload)
            .get("required")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(Value::as_str)
            .map(|field| (e.name.as_str(), field))
    });
    let (event, message, errors) = match missing {
        Some((event, field)) => (
            json!(event),
            format!("payload: \"{field}\" is a required property"),
            json!([{"path": "", "message": format!("\"{field}\" is a required property")}]),
        ),
        None => (
            json!(model.events.first().map(|e| e.name.as_str())),
            "payload: must be an object".to_owned(),
            json!([{"path": "", "message": "must be an object"}]),
        ),
    };
    json!({
        "event": "__error__",
        "id": "c1-7",
        "payload": {
            "code": "VALIDATION_ERROR",
            "event": event,
            "message": message,
            "request_id": "c1-7",
            "details": {"errors": errors}
        }
    })
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// JSON that is safe inside `<script type="application/json">`: no `<`, `>`
/// or `&` that could close the element or start a comment.
fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// An id fragment: letters, digits, `-` and `_`; anything else becomes `-`.
fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text as HTML, with `backticked` spans as `<code>`.
pub(super) fn inline_html(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        // Odd parts sit between backticks; an unmatched final one is plain.
        let closed = i % 2 == 1 && text.split('`').count() > i + 1;
        if closed {
            out.push_str("<code>");
            out.push_str(&escape(part));
            out.push_str("</code>");
        } else {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(&escape(part));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_html_escapes_and_marks_code() {
        assert_eq!(
            inline_html("a `<b>` & c"),
            "a <code>&lt;b&gt;</code> &amp; c"
        );
        assert_eq!(inline_html("odd ` tick"), "odd ` tick");
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        let s = script_json(&json!({"x": "</script><!--"}));
        assert!(!s.contains('<'), "{s}");
    }
}
