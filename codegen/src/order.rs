//! Field order. The schema's properties are a map (sorted, without serde_json's
//! `preserve_order`, which this workspace does not turn on), so the declaration order comes
//! from serde itself: a derived `Deserialize` names its fields, in order, when it asks for a
//! struct; this deserializer records them and stops.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

#[derive(Debug)]
struct Stop(Vec<String>);

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field names recorded")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop(Vec::new())
    }
}

struct Recorder;

impl<'de> Deserializer<'de> for Recorder {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop(Vec::new()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        Err(Stop(fields.iter().map(|f| (*f).to_owned()).collect()))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// `T`'s wire field names in declaration order; empty when serde does not say (a struct with a
/// flattened map reads a map).
pub fn of<T: de::DeserializeOwned>() -> Vec<String> {
    match T::deserialize(Recorder) {
        Err(Stop(fields)) => fields,
        Ok(_) => Vec::new(),
    }
}
