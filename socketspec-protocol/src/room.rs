//! The room-pattern grammar.
//!
//! A room is a string. A pattern such as `chat:{room}` names a family of
//! rooms: literal text, and parameters written `{name}` (a snake_case
//! identifier) that each match one or more characters, up to the next
//! literal text. Two parameters must be separated by literal text, so a room
//! name can always be split back into its parameters.

use std::fmt;

/// A parsed room pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomPattern {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Part {
    Literal(String),
    Param(String),
}

/// Why a room pattern does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern is empty.
    Empty,
    /// The pattern holds a control character.
    ControlCharacter(char),
    /// A `{` has no `}`.
    Unclosed,
    /// A `}` has no `{`.
    Unopened,
    /// A parameter's name is not a snake_case identifier.
    InvalidParam(String),
    /// Two parameters with nothing between them.
    AdjacentParams,
    /// A parameter appears twice.
    DuplicateParam(String),
}

impl PatternError {
    /// The error, naming `pattern` (the text that failed to parse).
    pub fn describe(&self, pattern: &str) -> String {
        match self {
            PatternError::Empty => "a room pattern cannot be empty".to_owned(),
            PatternError::ControlCharacter(c) => format!(
                "room pattern {pattern:?} contains the control character U+{:04X}",
                u32::from(*c)
            ),
            PatternError::Unclosed => {
                format!("room pattern `{pattern}` has a `{{` without its `}}`")
            }
            PatternError::Unopened => {
                format!("room pattern `{pattern}` has a `}}` without its `{{`")
            }
            PatternError::InvalidParam(name) => format!(
                "room parameter `{{{name}}}` in `{pattern}` cannot be filled: its name is not a snake_case identifier"
            ),
            PatternError::AdjacentParams => format!(
                "room pattern `{pattern}` has two parameters with nothing between them, so a room name cannot be split back into them"
            ),
            PatternError::DuplicateParam(name) => {
                format!("room parameter `{{{name}}}` appears twice in `{pattern}`")
            }
        }
    }

    /// How to fix it, in a few words.
    pub fn fix(&self) -> &'static str {
        match self {
            PatternError::Empty => "name the room, e.g. `lobby` or `chat:{room}`",
            PatternError::ControlCharacter(_) => {
                "room names appear in logs, docs and generated code: use visible characters, e.g. `chat:{room}`"
            }
            PatternError::Unclosed => "close the parameter: `{name}`",
            PatternError::Unopened => "write parameters as `{name}`",
            PatternError::InvalidParam(_) => "name parameters like `{room}` or `{team_id}`",
            PatternError::AdjacentParams => {
                "separate parameters with literal text, e.g. `{org}:{team}`"
            }
            PatternError::DuplicateParam(_) => "give each parameter its own name",
        }
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::Empty => f.write_str("a room pattern cannot be empty"),
            PatternError::ControlCharacter(c) => write!(
                f,
                "the room pattern contains the control character U+{:04X}",
                u32::from(*c)
            ),
            PatternError::Unclosed => f.write_str("the room pattern has a `{` without its `}`"),
            PatternError::Unopened => f.write_str("the room pattern has a `}` without its `{`"),
            PatternError::InvalidParam(name) => write!(
                f,
                "room parameter `{{{name}}}` cannot be filled: its name is not a snake_case identifier"
            ),
            PatternError::AdjacentParams => f.write_str(
                "the room pattern has two parameters with nothing between them, so a room name cannot be split back into them",
            ),
            PatternError::DuplicateParam(name) => {
                write!(f, "room parameter `{{{name}}}` appears twice")
            }
        }
    }
}

impl std::error::Error for PatternError {}

/// Whether `name` is a valid parameter name: `[a-z_][a-z0-9_]*`.
fn valid_param(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl RoomPattern {
    /// Parses `text`; `{name}` marks a parameter.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(PatternError::ControlCharacter(c));
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let end = after.find('}').ok_or(PatternError::Unclosed)?;
                let name = &after[..end];
                if !valid_param(name) {
                    return Err(PatternError::InvalidParam(name.to_owned()));
                }
                if matches!(parts.last(), Some(Part::Param(_))) {
                    return Err(PatternError::AdjacentParams);
                }
                if parts
                    .iter()
                    .any(|p| matches!(p, Part::Param(n) if n == name))
                {
                    return Err(PatternError::DuplicateParam(name.to_owned()));
                }
                parts.push(Part::Param(name.to_owned()));
                rest = &after[end + 1..];
            } else {
                let next = rest.find('{').unwrap_or(rest.len());
                let literal = &rest[..next];
                if literal.contains('}') {
                    return Err(PatternError::Unopened);
                }
                parts.push(Part::Literal(literal.to_owned()));
                rest = &rest[next..];
            }
        }
        Ok(RoomPattern {
            text: text.to_owned(),
            parts,
        })
    }

    /// The pattern's text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern has parameters.
    pub fn has_params(&self) -> bool {
        self.params().next().is_some()
    }

    /// The parameters' names, in order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Param(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// The literal text, parameters left out (`chat:{room}` gives `chat:`).
    pub fn literal_text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Literal(text) => Some(text.as_str()),
                Part::Param(_) => None,
            })
            .collect()
    }

    /// Fills the parameters in order: `chat:{room}` with `["general"]` gives
    /// `chat:general`. Missing values fill in as empty text.
    pub fn fill(&self, values: &[&str]) -> String {
        let mut out = String::with_capacity(self.text.len() + 16);
        let mut values = values.iter();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Param(_) => out.push_str(values.next().copied().unwrap_or_default()),
            }
        }
        out
    }

    /// Matches a room name, returning `(parameter, value)` pairs in order.
    pub fn matches<'r>(&'r self, room: &'r str) -> Option<Vec<(&'r str, &'r str)>> {
        let mut params = Vec::new();
        let mut rest = room;
        let mut parts = self.parts.iter().peekable();
        while let Some(part) = parts.next() {
            match part {
                Part::Literal(text) => rest = rest.strip_prefix(text.as_str())?,
                Part::Param(name) => {
                    // A parameter runs to the next literal (or the end).
                    let end = match parts.peek() {
                        Some(Part::Literal(next)) => rest.find(next.as_str())?,
                        _ => rest.len(),
                    };
                    if end == 0 {
                        return None;
                    }
                    params.push((name.as_str(), &rest[..end]));
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(params)
    }
}

impl fmt::Display for RoomPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RoomPattern {
        RoomPattern::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn fills_and_matches_parameters() {
        let p = parse("chat:{room}");
        assert_eq!(p.fill(&["general"]), "chat:general");
        assert_eq!(p.matches("chat:general"), Some(vec![("room", "general")]));
        assert_eq!(p.matches("chat:"), None);
        assert_eq!(p.matches("admin:x"), None);
        assert_eq!(p.literal_text(), "chat:");
    }

    #[test]
    fn literal_patterns_match_exactly() {
        let p = parse("lobby");
        assert!(!p.has_params());
        assert_eq!(p.matches("lobby"), Some(vec![]));
        assert_eq!(p.matches("lobby2"), None);
    }

    #[test]
    fn several_parameters() {
        let p = parse("org:{org}/team:{team}");
        assert_eq!(p.params().collect::<Vec<_>>(), ["org", "team"]);
        assert_eq!(
            p.matches("org:acme/team:red"),
            Some(vec![("org", "acme"), ("team", "red")])
        );
        assert_eq!(p.fill(&["a", "b"]), "org:a/team:b");
    }

    #[test]
    fn malformed_patterns_say_what_is_wrong() {
        assert_eq!(RoomPattern::parse(""), Err(PatternError::Empty));
        assert_eq!(RoomPattern::parse("a{b"), Err(PatternError::Unclosed));
        assert_eq!(RoomPattern::parse("a}b"), Err(PatternError::Unopened));
        assert_eq!(
            RoomPattern::parse("{a}{b}"),
            Err(PatternError::AdjacentParams)
        );
        assert_eq!(
            RoomPattern::parse("{a}:{a}"),
            Err(PatternError::DuplicateParam("a".into()))
        );
        assert_eq!(
            RoomPattern::parse("{Room}"),
            Err(PatternError::InvalidParam("Room".into()))
        );
        assert_eq!(
            RoomPattern::parse("a\u{7}"),
            Err(PatternError::ControlCharacter('\u{7}'))
        );
    }
}
