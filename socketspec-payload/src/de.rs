//! Decoding helpers named in generated `#[serde(deserialize_with = ...)]`
//! attributes.
//!
//! JSON Schema counts `1.0` and `1e2` as integers, but serde's `i64` and
//! `u64` refuse a number written with a fraction or an exponent. A field
//! whose type holds machine integers is decoded through [`integers`], which
//! hands such a number to the integer type as the integer it is (and leaves
//! `1.5` to be refused as before). [`present`] and [`present_integers`]
//! decode an optional field whose value may be `null`, keeping "absent"
//! (`None`) apart from "`null`" (`Some(None)` or `Some(Value::Null)`).

use std::fmt;

use serde::Deserialize;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// Decodes `T`, reading integral numbers (`1.0`, `1e2`) as integers
/// wherever `T` asks for a machine integer, at any depth.
pub fn integers<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(Lenient(deserializer))
}

/// Decodes a present optional field: `Some` of whatever `T` reads,
/// `null` included.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// [`present`] and [`integers`] together.
pub fn present_integers<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(Lenient(deserializer)).map(Some)
}

/// A deserializer that reads integral floats as integers when asked for
/// an integer, and passes itself on to every nested value.
struct Lenient<D>(D);

/// Every integer request goes through `deserialize_any`, so a float reaches
/// [`IntegerVisitor`] whatever the source (`serde_json`'s own deserializers,
/// or serde's buffered content inside tagged enums, which would refuse a
/// float for an integer outright).
macro_rules! integer_requests {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.deserialize_any(IntegerVisitor(visitor))
        }
    )*};
}

macro_rules! forward_requests {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(Wrap(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Lenient<D> {
    type Error = D::Error;

    integer_requests!(
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128
    );

    forward_requests!(
        deserialize_any,
        deserialize_bool,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, Wrap(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, Wrap(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, Wrap(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, Wrap(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, Wrap(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, Wrap(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// Forwards every callback to the visitor inside, with nested values
/// wrapped in [`Lenient`].
struct Wrap<V>(V);

macro_rules! forward_visits {
    ($($method:ident($t:ty)),*) => {$(
        fn $method<E: de::Error>(self, v: $t) -> Result<V::Value, E> {
            self.0.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visits!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>)
    );

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Lenient(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(Lenient(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(Wrap(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(Wrap(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(Wrap(data))
    }
}

/// A visitor for an integer request: an integral float becomes the
/// integer it is; everything else goes to the visitor unchanged (which
/// refuses it as before).
struct IntegerVisitor<V>(V);

/// `2^63` and `2^64` as doubles (both exact).
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

impl<'de, V: Visitor<'de>> Visitor<'de> for IntegerVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visits!(
        visit_bool(bool),
        visit_i64(i64),
        visit_i128(i128),
        visit_u64(u64),
        visit_u128(u128),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>)
    );

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<V::Value, E> {
        if x.is_finite() && x.fract() == 0.0 {
            if (-TWO_POW_63..TWO_POW_63).contains(&x) {
                return self.0.visit_i64(x as i64);
            }
            if (0.0..TWO_POW_64).contains(&x) {
                return self.0.visit_u64(x as u64);
            }
        }
        self.0.visit_f64(x)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Lenient(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(Wrap(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(Wrap(map))
    }
}

/// Passes [`Lenient`] on to the value a wanted decodes.
struct Seed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Lenient(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        wanted: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Seed(wanted))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        wanted: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Seed(wanted))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        wanted: T,
    ) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Seed(wanted))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Wrap<A> {
    type Error = A::Error;
    type Variant = Wrap<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        wanted: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        self.0
            .variant_seed(wanted)
            .map(|(value, variant)| (value, Wrap(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        wanted: T,
    ) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Seed(wanted))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Wrap(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Wrap(visitor))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::{Value, json};

    #[derive(Deserialize, Debug, PartialEq)]
    struct Fields {
        #[serde(deserialize_with = "super::integers")]
        n: i64,
        #[serde(default, deserialize_with = "super::integers")]
        list: Vec<u64>,
        #[serde(default, deserialize_with = "super::integers")]
        map: BTreeMap<String, (i32, Option<u8>)>,
        #[serde(default, deserialize_with = "super::present")]
        nullable: Option<Option<String>>,
        #[serde(default, deserialize_with = "super::present_integers")]
        maybe: Option<Option<i64>>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(tag = "kind")]
    enum Tagged {
        #[serde(rename = "a")]
        A(Fields),
    }

    #[test]
    fn integral_floats_are_integers_at_any_depth() {
        let value = json!({"n": 1.0, "list": [2e0, 3], "map": {"k": [4.0, 5.0]}, "maybe": 6.0});
        let fields: Fields = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(fields.n, 1);
        assert_eq!(fields.list, vec![2, 3]);
        assert_eq!(fields.map["k"], (4, Some(5)));
        assert_eq!(fields.maybe, Some(Some(6)));
        let from_text: Fields = serde_json::from_str(&value.to_string()).unwrap();
        assert_eq!(from_text, fields);
        // Inside an internally tagged enum, through serde's buffered content.
        let mut tagged = value;
        tagged["kind"] = json!("a");
        let Tagged::A(inner) = serde_json::from_value::<Tagged>(tagged).unwrap();
        assert_eq!(inner, fields);
    }

    #[test]
    fn fractions_and_out_of_range_numbers_are_still_refused() {
        for n in [json!(1.5), json!(1e300), json!("1")] {
            assert!(serde_json::from_value::<Fields>(json!({"n": n})).is_err());
        }
        assert!(serde_json::from_value::<Fields>(json!({"n": 1, "list": [-1.0]})).is_err());
        assert!(
            serde_json::from_value::<Fields>(json!({"n": 1, "map": {"k": [1, 256.0]}})).is_err()
        );
    }

    #[test]
    fn absent_and_null_stay_apart() {
        let absent: Fields = serde_json::from_value(json!({"n": 1})).unwrap();
        assert_eq!((absent.nullable, absent.maybe), (None, None));
        let null: Fields =
            serde_json::from_value(json!({"n": 1, "nullable": null, "maybe": null})).unwrap();
        assert_eq!((null.nullable, null.maybe), (Some(None), Some(None)));
        let _ = Value::Null;
    }
}
