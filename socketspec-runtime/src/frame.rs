//! [`Frame`]: one encoded text message, cheap to clone and shared by every
//! recipient of a broadcast.

use std::fmt;

use bytes::Bytes;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// One encoded text message (a JSON envelope): UTF-8 bytes behind a
/// reference count, so a broadcast is serialized once and every member's
/// queue holds the same bytes.
///
/// ```
/// use socketspec_runtime::Frame;
///
/// let frame = Frame::from(r#"{"event":"tick","payload":{}}"#.to_owned());
/// let copy = frame.clone(); // a reference count, not a copy
/// assert_eq!(copy.as_str(), frame.as_str());
/// assert_eq!(frame.len(), 29);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Frame(Utf8Bytes);

impl Frame {
    /// A frame of static text (no allocation).
    pub const fn from_static(text: &'static str) -> Self {
        Frame(Utf8Bytes::from_static(text))
    }

    /// A frame of `bytes`, when they are UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        Utf8Bytes::try_from(bytes).map(Frame)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The text's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_str().as_bytes()
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, shared (a reference count).
    pub fn to_bytes(&self) -> Bytes {
        Bytes::from(self.0.clone())
    }

    /// The WebSocket layer's form of the same bytes (no copy).
    pub(crate) fn into_utf8_bytes(self) -> Utf8Bytes {
        self.0
    }

    /// A frame of the WebSocket layer's text (no copy).
    pub(crate) fn from_utf8_bytes(text: Utf8Bytes) -> Self {
        Frame(text)
    }
}

impl From<String> for Frame {
    fn from(text: String) -> Self {
        Frame(Utf8Bytes::from(text))
    }
}

impl From<&str> for Frame {
    fn from(text: &str) -> Self {
        Frame(Utf8Bytes::from(text))
    }
}

impl AsRef<str> for Frame {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_and_bytes_must_be_utf8() {
        let frame = Frame::from_utf8(Bytes::from_static(b"{\"a\":1}")).ok();
        assert_eq!(frame.as_ref().map(Frame::as_str), Some("{\"a\":1}"));
        assert!(Frame::from_utf8(Bytes::from_static(&[0xff, 0xfe])).is_err());
        let frame = Frame::from("x");
        assert_eq!(frame.to_bytes(), Bytes::from_static(b"x"));
        assert_eq!(format!("{frame:?}"), "\"x\"");
    }
}
