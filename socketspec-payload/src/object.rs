//! `Serialize` and `Deserialize` for the structs of open JSON objects: the
//! named properties as fields, every other property kept in a map field.
//!
//! serde's `#[serde(flatten)]` would do the same, but it buffers the whole
//! object into an intermediate representation before it reads a field, and
//! writes the struct as a map of unknown length: on the server's hot path
//! that cost more allocations than the rest of a payload's decoding. The
//! impls of [`open_object!`](crate::open_object) read each property once,
//! straight into its field or the map.

/// How a generated impl reads one value: as its type says, or with
/// integral floats (`1.0`) accepted as integers ([`crate::de::integers`]).
#[doc(hidden)]
pub struct Integers<T>(pub T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Integers<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::de::integers(deserializer).map(Integers)
    }
}

/// The map field of an open object's other properties.
#[doc(hidden)]
pub trait ExtraMap: Default {
    /// The type of its values.
    type Value;
    /// Inserts `key`; `false` when it was there already.
    fn insert_new(&mut self, key: String, value: Self::Value) -> bool;
}

impl ExtraMap for serde_json::Map<String, serde_json::Value> {
    type Value = serde_json::Value;
    fn insert_new(&mut self, key: String, value: serde_json::Value) -> bool {
        self.insert(key, value).is_none()
    }
}

impl<T> ExtraMap for std::collections::BTreeMap<String, T> {
    type Value = T;
    fn insert_new(&mut self, key: String, value: T) -> bool {
        self.insert(key, value).is_none()
    }
}

/// Implements `Serialize` and `Deserialize` for a struct of an open JSON
/// object (what `socketspec-codegen` generates for a schema that allows
/// properties beyond the ones it names).
///
/// Each field is `required` or `optional` (an `Option`, absent when
/// `None`), names its JSON property, and is read `plain` or with
/// `integers` (integral floats accepted). Last comes the map field of the
/// other properties (a `serde_json::Map` or a `BTreeMap<String, _>`), and
/// how its values are read.
///
/// ```
/// use std::collections::BTreeMap;
///
/// #[derive(Debug, PartialEq)]
/// pub struct Echo {
///     pub seq: i64,
///     pub note: Option<String>,
///     pub extra: BTreeMap<String, serde_json::Value>,
/// }
///
/// socketspec_payload::open_object! {
///     Echo {
///         required seq = "seq", integers;
///         optional note = "note", plain;
///     }
///     extra, plain
/// }
///
/// let echo: Echo = serde_json::from_str(r#"{"seq": 1.0, "other": [1]}"#).unwrap();
/// assert_eq!(echo.seq, 1);
/// assert_eq!(echo.note, None);
/// assert_eq!(serde_json::to_string(&echo).unwrap(), r#"{"seq":1,"other":[1]}"#);
/// assert!(serde_json::from_str::<Echo>(r#"{"note": "x"}"#).is_err());
/// ```
#[macro_export]
macro_rules! open_object {
    (
        $name:ident {
            $( $kind:ident $field:ident = $json:literal, $with:ident; )*
        }
        $extra:ident, $extra_with:ident
    ) => {
        const _: () = {
            use $crate::__serde as _serde;
            use _serde::de::Error as _;
            use _serde::ser::SerializeMap as _;

            #[allow(non_camel_case_types)]
            enum __Key {
                $( $field, )*
                __Other(::std::string::String),
            }

            struct __KeyVisitor;

            impl<'de> _serde::de::Visitor<'de> for __KeyVisitor {
                type Value = __Key;

                fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str("a property name")
                }

                fn visit_str<E: _serde::de::Error>(self, key: &str) -> ::std::result::Result<__Key, E> {
                    ::std::result::Result::Ok(match key {
                        $( $json => __Key::$field, )*
                        other => __Key::__Other(other.to_owned()),
                    })
                }

                fn visit_string<E: _serde::de::Error>(
                    self,
                    key: ::std::string::String,
                ) -> ::std::result::Result<__Key, E> {
                    ::std::result::Result::Ok(match key.as_str() {
                        $( $json => __Key::$field, )*
                        _ => __Key::__Other(key),
                    })
                }
            }

            impl<'de> _serde::Deserialize<'de> for __Key {
                fn deserialize<D: _serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                    d.deserialize_identifier(__KeyVisitor)
                }
            }

            struct __Visitor;

            impl<'de> _serde::de::Visitor<'de> for __Visitor {
                type Value = $name;

                fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                }

                fn visit_map<A: _serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> ::std::result::Result<$name, A::Error> {
                    // Each type is the struct field's, inferred from the
                    // struct expression below.
                    $( let mut $field = ::std::option::Option::None; )*
                    let mut __extra = ::std::default::Default::default();
                    while let ::std::option::Option::Some(key) = map.next_key::<__Key>()? {
                        match key {
                            $(
                                __Key::$field => {
                                    if $field.is_some() {
                                        return ::std::result::Result::Err(A::Error::duplicate_field($json));
                                    }
                                    $field = ::std::option::Option::Some(
                                        $crate::__open_object_value!($with, map),
                                    );
                                }
                            )*
                            __Key::__Other(key) => {
                                let value = $crate::__open_object_value!($extra_with, map);
                                if !$crate::object::ExtraMap::insert_new(&mut __extra, key, value) {
                                    return ::std::result::Result::Err(A::Error::custom("duplicate property"));
                                }
                            }
                        }
                    }
                    ::std::result::Result::Ok($name {
                        $( $field: $crate::__open_object_take!($kind, $field, $json, A), )*
                        $extra: __extra,
                    })
                }
            }

            impl<'de> _serde::Deserialize<'de> for $name {
                fn deserialize<D: _serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                    d.deserialize_map(__Visitor)
                }
            }

            impl _serde::Serialize for $name {
                fn serialize<S: _serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                    let mut len = self.$extra.len();
                    $( len += $crate::__open_object_present!($kind, self.$field); )*
                    let mut map = s.serialize_map(::std::option::Option::Some(len))?;
                    $( $crate::__open_object_entry!($kind, map, $json, self.$field); )*
                    for (key, value) in &self.$extra {
                        map.serialize_entry(key, value)?;
                    }
                    map.end()
                }
            }
        };
    };
}

/// Reads the next value of `map`, `plain` or with `integers`.
#[doc(hidden)]
#[macro_export]
macro_rules! __open_object_value {
    (plain, $map:ident) => {
        $map.next_value()?
    };
    (integers, $map:ident) => {
        $map.next_value::<$crate::object::Integers<_>>()?.0
    };
}

/// A field's value once every property is read: a missing required one is
/// an error, a missing optional one `None`.
#[doc(hidden)]
#[macro_export]
macro_rules! __open_object_take {
    (required, $field:ident, $json:literal, $a:ident) => {
        match $field {
            ::std::option::Option::Some(value) => value,
            ::std::option::Option::None => {
                return ::std::result::Result::Err(
                    <$a::Error as $crate::__serde::de::Error>::missing_field($json),
                );
            }
        }
    };
    (optional, $field:ident, $json:literal, $a:ident) => {
        $field
    };
}

/// How many entries a field writes (0 or 1).
#[doc(hidden)]
#[macro_export]
macro_rules! __open_object_present {
    (required, $value:expr) => {
        1
    };
    (optional, $value:expr) => {
        usize::from($value.is_some())
    };
}

/// Writes a field's entry (an absent optional one writes none).
#[doc(hidden)]
#[macro_export]
macro_rules! __open_object_entry {
    (required, $map:ident, $json:literal, $value:expr) => {
        $map.serialize_entry($json, &$value)?;
    };
    (optional, $map:ident, $json:literal, $value:expr) => {
        if let ::std::option::Option::Some(value) = &$value {
            $map.serialize_entry($json, value)?;
        }
    };
}
