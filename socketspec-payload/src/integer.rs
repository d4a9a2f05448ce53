//! [`Integer`]: any JSON integer, the Rust type of `"type": "integer"` when
//! the schema's bounds do not fit a machine integer.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// A JSON integer of any size: what `{"type": "integer"}` accepts when its
/// bounds (`minimum`, `maximum`, ...) do not keep it within `i64` or `u64`.
///
/// JSON Schema counts every number with a zero fractional part as an
/// integer: `7`, `7.0`, `7e0`, `18446744073709551615` and `1e300` alike.
/// `Integer` holds each of them exactly as `serde_json` reads it: an `i64`,
/// a `u64` above `i64::MAX`, or, beyond 64 bits, the integral `f64` the
/// parser produced. It writes the same number back (`7.0` comes back as `7`,
/// the same JSON number).
///
/// ```
/// use socketspec_payload::Integer;
///
/// let n: Integer = serde_json::from_str("7.0").unwrap();
/// assert_eq!(n, 7);
/// assert_eq!(n.as_i64(), Some(7));
/// assert_eq!(i64::try_from(n), Ok(7));
/// assert_eq!(serde_json::to_string(&n).unwrap(), "7");
///
/// let big: Integer = serde_json::from_str("1e30").unwrap();
/// assert_eq!(big.as_i64(), None);
/// assert_eq!(big.as_f64(), 1e30);
///
/// assert!(serde_json::from_str::<Integer>("7.5").is_err());
/// ```
#[derive(Clone, Copy)]
pub struct Integer(Repr);

/// One representation per value, so derived comparisons are by value.
#[derive(Clone, Copy, Debug)]
enum Repr {
    /// Every integer within `i64`.
    Small(i64),
    /// Above `i64::MAX`, up to `u64::MAX`.
    Large(u64),
    /// Beyond the 64-bit range: finite, integral, below `i64::MIN` or
    /// above `u64::MAX`.
    Huge(f64),
}

/// `2^63` and `2^64` as doubles (both exact).
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

impl Integer {
    /// The value as an `i64`, when it fits.
    pub fn as_i64(self) -> Option<i64> {
        match self.0 {
            Repr::Small(n) => Some(n),
            _ => None,
        }
    }

    /// The value as a `u64`, when it fits.
    pub fn as_u64(self) -> Option<u64> {
        match self.0 {
            Repr::Small(n) => u64::try_from(n).ok(),
            Repr::Large(n) => Some(n),
            Repr::Huge(_) => None,
        }
    }

    /// The value as an `f64` (rounded to the nearest double beyond 2^53).
    pub fn as_f64(self) -> f64 {
        match self.0 {
            Repr::Small(n) => n as f64,
            Repr::Large(n) => n as f64,
            Repr::Huge(x) => x,
        }
    }

    /// The integer an `f64` holds, or `None` when it has a fractional part
    /// or is not finite.
    pub fn from_f64(x: f64) -> Option<Integer> {
        if !x.is_finite() || x.fract() != 0.0 {
            return None;
        }
        Some(Integer(if (-TWO_POW_63..TWO_POW_63).contains(&x) {
            Repr::Small(x as i64)
        } else if (0.0..TWO_POW_64).contains(&x) {
            Repr::Large(x as u64)
        } else {
            Repr::Huge(x)
        }))
    }

    /// A key that orders every value: beyond-64-bit values below and above
    /// the others, the 64-bit ones by their exact value.
    fn order_key(self) -> (i8, i128, f64) {
        match self.0 {
            Repr::Small(n) => (0, i128::from(n), 0.0),
            Repr::Large(n) => (0, i128::from(n), 0.0),
            Repr::Huge(x) if x < 0.0 => (-1, 0, x),
            Repr::Huge(x) => (1, 0, x),
        }
    }
}

impl Default for Integer {
    /// Zero.
    fn default() -> Self {
        Integer(Repr::Small(0))
    }
}

impl fmt::Debug for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Integer {
    /// The integer in decimal digits, however large.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Small(n) => fmt::Display::fmt(&n, f),
            Repr::Large(n) => fmt::Display::fmt(&n, f),
            Repr::Huge(x) => write!(f, "{x:.0}"),
        }
    }
}

impl PartialEq for Integer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Integer {}

impl PartialOrd for Integer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Integer {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.order_key(), other.order_key());
        a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.total_cmp(&b.2))
    }
}

impl Hash for Integer {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (class, exact, huge) = self.order_key();
        class.hash(state);
        exact.hash(state);
        huge.to_bits().hash(state);
    }
}

impl PartialEq<i64> for Integer {
    fn eq(&self, other: &i64) -> bool {
        self.as_i64() == Some(*other)
    }
}

impl PartialEq<Integer> for i64 {
    fn eq(&self, other: &Integer) -> bool {
        other == self
    }
}

macro_rules! from_small {
    ($($t:ty),*) => {$(
        impl From<$t> for Integer {
            fn from(n: $t) -> Self {
                Integer(Repr::Small(i64::from(n)))
            }
        }
    )*};
}
from_small!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Integer {
    fn from(n: u64) -> Self {
        match i64::try_from(n) {
            Ok(small) => Integer(Repr::Small(small)),
            Err(_) => Integer(Repr::Large(n)),
        }
    }
}

impl From<usize> for Integer {
    fn from(n: usize) -> Self {
        // usize is at most 64 bits on every target Rust supports.
        Integer::from(n as u64)
    }
}

impl From<isize> for Integer {
    fn from(n: isize) -> Self {
        Integer(Repr::Small(n as i64))
    }
}

/// An [`Integer`] that does not fit the requested Rust integer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange(pub Integer);

impl fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is out of range for the target integer type", self.0)
    }
}

impl std::error::Error for OutOfRange {}

macro_rules! try_into_int {
    ($($t:ty),*) => {$(
        impl TryFrom<Integer> for $t {
            type Error = OutOfRange;
            fn try_from(n: Integer) -> Result<Self, OutOfRange> {
                let wide = match n.0 {
                    Repr::Small(v) => i128::from(v),
                    Repr::Large(v) => i128::from(v),
                    Repr::Huge(_) => return Err(OutOfRange(n)),
                };
                <$t>::try_from(wide).map_err(|_| OutOfRange(n))
            }
        }
    )*};
}
try_into_int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Serialize for Integer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Repr::Small(n) => serializer.serialize_i64(n),
            Repr::Large(n) => serializer.serialize_u64(n),
            Repr::Huge(x) => serializer.serialize_f64(x),
        }
    }
}

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntegerVisitor)
    }
}

struct IntegerVisitor;

impl Visitor<'_> for IntegerVisitor {
    type Value = Integer;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Integer, E> {
        Ok(Integer::from(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Integer, E> {
        Ok(Integer::from(n))
    }

    fn visit_i128<E: de::Error>(self, n: i128) -> Result<Integer, E> {
        match (i64::try_from(n), u64::try_from(n)) {
            (Ok(small), _) => Ok(Integer::from(small)),
            (_, Ok(large)) => Ok(Integer::from(large)),
            _ => Integer::from_f64(n as f64)
                .ok_or_else(|| E::invalid_value(de::Unexpected::Other("an integer"), &self)),
        }
    }

    fn visit_u128<E: de::Error>(self, n: u128) -> Result<Integer, E> {
        match u64::try_from(n) {
            Ok(large) => Ok(Integer::from(large)),
            Err(_) => Integer::from_f64(n as f64)
                .ok_or_else(|| E::invalid_value(de::Unexpected::Other("an integer"), &self)),
        }
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Integer, E> {
        Integer::from_f64(x).ok_or_else(|| E::invalid_type(de::Unexpected::Float(x), &self))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn read(text: &str) -> Result<Integer, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn reads_every_json_integer_and_writes_the_same_number() {
        for (text, back) in [
            ("0", "0"),
            ("-7", "-7"),
            ("7.0", "7"),
            ("1e2", "100"),
            ("9223372036854775807", "9223372036854775807"),
            ("9223372036854775808", "9223372036854775808"),
            ("18446744073709551615", "18446744073709551615"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("1e300", "1e+300"),
            ("-1e300", "-1e+300"),
        ] {
            let n = read(text).unwrap();
            assert_eq!(serde_json::to_string(&n).unwrap(), back, "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_an_integer() {
        for text in ["7.5", "\"7\"", "true", "null", "[]", "{}", "1e-3"] {
            assert!(read(text).is_err(), "{text}");
        }
    }

    #[test]
    fn compares_and_converts_by_value() {
        assert_eq!(read("7.0").unwrap(), read("7").unwrap());
        assert!(read("-1e300").unwrap() < read("-9223372036854775808").unwrap());
        assert!(read("9223372036854775807").unwrap() < read("9223372036854775808").unwrap());
        assert!(read("18446744073709551615").unwrap() < read("1e20").unwrap());
        assert_eq!(
            u64::try_from(read("18446744073709551615").unwrap()),
            Ok(u64::MAX)
        );
        assert!(i64::try_from(read("18446744073709551615").unwrap()).is_err());
        assert!(u8::try_from(Integer::from(256)).is_err());
        assert_eq!(Integer::from(usize::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(read("1e20").unwrap().to_string(), "100000000000000000000");
        assert_eq!(Integer::default(), 0);
    }
}
