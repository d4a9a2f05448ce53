//! Where a request's id and payload sit in their frame: ranges of the
//! frame's text, so taking them costs no allocation.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use crate::dispatch::call::RequestId;
use crate::frame::Frame;

/// Whether a payload object's text has no nested object or array (nor a
/// `{` or `[` inside a string, which is rare enough to not tell apart).
/// Type-checked payloads are flat; anything nested (extra properties the
/// schema allows) takes the `Value` path, so nesting limits and errors are
/// the same whichever path a message takes.
pub(super) fn is_flat(object: &str) -> bool {
    object
        .as_bytes()
        .get(1..)
        .is_some_and(|inner| memchr::memchr2(b'{', b'[', inner).is_none())
}

/// The request id `id`, kept as a range of `frame` when it is a slice of
/// it (no escapes), else copied.
pub(super) fn request_id(id: Cow<'_, str>, frame: Option<&Frame>) -> RequestId {
    match (&id, frame) {
        (Cow::Borrowed(text), Some(frame)) => match range_in(frame, text) {
            Some(range) => RequestId::InFrame(frame.clone(), range),
            None => RequestId::Owned(Arc::from(*text)),
        },
        _ => RequestId::Owned(Arc::from(id.as_ref())),
    }
}

/// Where `part` (a slice of `frame`'s text) sits in `frame`.
pub(super) fn range_in(frame: &Frame, part: &str) -> Option<Range<usize>> {
    let text = frame.as_str();
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let range = start..start.checked_add(part.len())?;
    // Bounds and identity checked: only a true sub-slice is accepted.
    text.get(range.clone())
        .is_some_and(|s| s.as_ptr() == part.as_ptr())
        .then_some(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_flat_objects_skip_the_value_path() {
        assert!(is_flat(r#"{"seq":1,"data":"x"}"#));
        assert!(is_flat("{}"));
        assert!(!is_flat(r#"{"seq":1,"x":{}}"#));
        assert!(!is_flat(r#"{"seq":1,"x":[1]}"#));
        // A bracket inside a string also takes the `Value` path: harmless.
        assert!(!is_flat(r#"{"data":"[x]"}"#));
        assert!(!is_flat(""));
    }

    #[test]
    fn a_range_is_found_only_for_a_true_sub_slice() {
        let frame = Frame::from_static(r#"{"payload":{"a":1}}"#);
        let inner = frame.as_str().get(11..18).unwrap_or_default();
        assert_eq!(range_in(&frame, inner), Some(11..18));
        let elsewhere = String::from(inner);
        assert_eq!(range_in(&frame, &elsewhere), None);
    }

    #[test]
    fn request_ids_stay_in_their_frame_unless_unescaped() {
        let frame = Frame::from_static(r#"{"event":"e","id":"abc"}"#);
        let id = frame.as_str().get(19..22).unwrap_or_default();
        let kept = request_id(Cow::Borrowed(id), Some(&frame));
        assert!(matches!(kept, RequestId::InFrame(_, ref r) if *r == (19..22)));
        assert_eq!(kept.as_str(), "abc");
        // Unescaped (`"a\"b"`), or from a frame we do not hold: copied.
        let unescaped = request_id(Cow::Owned("a\"b".to_owned()), Some(&frame));
        assert!(matches!(unescaped, RequestId::Owned(_)));
        assert_eq!(unescaped.as_str(), "a\"b");
        let elsewhere = request_id(Cow::Borrowed("xyz"), Some(&frame));
        assert_eq!(elsewhere.as_str(), "xyz");
        assert_eq!(request_id(Cow::Borrowed(id), None).as_str(), "abc");
    }
}
