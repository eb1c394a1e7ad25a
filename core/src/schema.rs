//! The JSON Schema of the types whose serde is written by hand (feature `schema`): the open
//! enumerations and [`Secret`]. Every other boundary type derives `schemars::JsonSchema` next to
//! its serde derives; `ctt-codegen` turns the schema into the Python and TypeScript types.

use crate::models::{ActionType, Service};
use crate::secret::Secret;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use std::borrow::Cow;

/// Doc comments as schemars writes them: the lines joined, without the leading space.
fn doc(text: &str) -> String {
    text.lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// An open enumeration: one of the known values (each with its Rust name and doc), or any other
/// string, which passes through unchanged. `x-open-enum` marks it for the generator.
fn open_enum(type_doc: &str, known: &[(&str, &str, &str)]) -> Schema {
    let values: Vec<serde_json::Value> = known
        .iter()
        .map(|(name, wire, d)| {
            serde_json::json!({ "const": wire, "title": name, "description": doc(d) })
        })
        .collect();
    json_schema!({
        "description": doc(type_doc),
        "anyOf": [
            { "oneOf": values },
            { "type": "string", "description": "A value this version of the library does not know, passed through unchanged." }
        ],
        "x-open-enum": true
    })
}

impl JsonSchema for Service {
    fn schema_name() -> Cow<'static, str> {
        "Service".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        open_enum(Service::SCHEMA.0, Service::SCHEMA.1)
    }
}

impl JsonSchema for ActionType {
    fn schema_name() -> Cow<'static, str> {
        "ActionType".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        open_enum(ActionType::SCHEMA.0, ActionType::SCHEMA.1)
    }
}

/// A string that is a secret: hosts print it masked (`x-secret`).
impl JsonSchema for Secret {
    fn schema_name() -> Cow<'static, str> {
        "Secret".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "x-secret": true })
    }
}
