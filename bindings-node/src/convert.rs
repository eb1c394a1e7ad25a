//! Values cross as plain JavaScript objects by serde: core's own `Serialize`/`Deserialize`, with
//! the wire's camelCase names (napi's `serde-json` feature turns a `serde_json::Value` into a JS
//! object and back). Their TypeScript types are generated from core's schema (`lib/generated.d.ts`).
//!
//! Numbers follow core's rule for JavaScript ([`ctt_onboard::numbers`]): an integer beyond
//! `Number.MAX_SAFE_INTEGER` is refused both ways, naming its field, never rounded to another id.

use ctt_onboard::{Error, numbers};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Reads a core type from a JavaScript value; `invalid_input` names `what` and the field.
pub fn from_js<T: DeserializeOwned>(what: &str, value: Value) -> ctt_onboard::Result<T> {
    read(what, value, None)
}

/// [`from_js`] for the shapes whose serde names are snake_case: `to_serde` renames the keys
/// JavaScript spells in camelCase, and an error names the field as JavaScript spells it.
pub fn from_js_renamed<T: DeserializeOwned>(
    what: &str,
    value: Value,
    to_serde: fn(Value) -> Value,
) -> ctt_onboard::Result<T> {
    read(what, value, Some(to_serde))
}

fn read<T: DeserializeOwned>(
    what: &str,
    mut value: Value,
    to_serde: Option<fn(Value) -> Value>,
) -> ctt_onboard::Result<T> {
    // Numbers first, while the keys are still JavaScript's.
    numbers::ints_from_js(what, &mut value)?;
    let js = |name: &str| match to_serde {
        Some(_) => camel(name),
        None => name.to_owned(),
    };
    let value = match to_serde {
        Some(rename) => rename(value),
        None => value,
    };
    serde_path_to_error::deserialize(value).map_err(|e| {
        let at = match e.path().to_string() {
            path if path == "." => what.to_owned(),
            path => format!("{what}.{}", js(&path)),
        };
        // serde quotes field names in backticks ("missing field `redirect_url`").
        let message = e.inner().to_string();
        let parts = message.split('`').enumerate();
        let parts: Vec<_> = parts
            .map(|(i, p)| if i % 2 == 1 { js(p) } else { p.into() })
            .collect();
        Error::invalid_input(format!("{at}: {}", parts.join("`")))
    })
}

/// Gives a core value to JavaScript as a plain object; `decode` names an unsafe integer.
pub fn to_js<T: Serialize>(what: &str, value: &T) -> ctt_onboard::Result<Value> {
    let value = serde_json::to_value(value)
        .map_err(|e| Error::decode(format!("{what} could not be converted: {e}")))?;
    numbers::check_ints_for_js(what, &value)?;
    Ok(value)
}

/// A time as milliseconds since the Unix epoch (what `Date.now()` and `new Date(ms)` use).
pub fn time_to_ms(t: std::time::SystemTime) -> f64 {
    ctt_onboard::wire_time::to_unix_ms(t) as f64
}

/// An object with its own keys renamed (not its values'): the few core shapes whose serde names
/// are snake_case (the plan, as the flow JSON has it; the simulator's settings) have camelCase
/// names in JavaScript, like every other shape.
pub fn rename_keys(plan: Value, rename: fn(&str) -> String) -> Value {
    match plan {
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (rename(&k), v)).collect())
        }
        other => other,
    }
}

pub fn snake(key: &str) -> String {
    key.chars()
        .flat_map(|c| match c.is_ascii_uppercase() {
            true => vec!['_', c.to_ascii_lowercase()],
            false => vec![c],
        })
        .collect()
}

pub fn camel(key: &str) -> String {
    let mut parts = key.split('_');
    let first = parts.next().unwrap_or_default().to_owned();
    parts.fold(first, |mut out, p| {
        let mut chars = p.chars();
        out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
        out.push_str(chars.as_str());
        out
    })
}
