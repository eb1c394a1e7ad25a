//! Integers and JavaScript numbers: the rule the Node binding applies to every value it passes.
//!
//! A JavaScript `number` is a double: it holds integers exactly only up to
//! [`MAX_SAFE_INTEGER`] (2^53 - 1). Ids beyond it would silently become other ids, so they are
//! refused both ways: going in (`invalid_input`) and coming out (`decode`), naming the field.
//! Going in, integral doubles also become integers, so serde reads them into `i64` fields.

use crate::error::{Error, Result};
use serde_json::{Number, Value};

/// `Number.MAX_SAFE_INTEGER`: the largest integer a double holds exactly (and its next one not).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// An integer a JavaScript caller passed as a number; `what` names it in the error.
pub fn int_from_js(what: &str, value: f64) -> Result<i64> {
    if !value.is_finite() || value.fract() != 0.0 {
        return Err(Error::invalid_input(format!(
            "{what} is {value}; ids are integers"
        )));
    }
    if value.abs() > MAX_SAFE_INTEGER as f64 {
        return Err(Error::invalid_input(format!(
            "{what} is {value}, beyond Number.MAX_SAFE_INTEGER: it cannot be passed as a number without losing precision"
        )));
    }
    Ok(value as i64)
}

/// An integer for a JavaScript caller, refused (`decode`) when a number cannot hold it exactly.
pub fn int_to_js(what: &str, value: i64) -> Result<f64> {
    if value.unsigned_abs() > MAX_SAFE_INTEGER as u64 {
        return Err(Error::decode(format!(
            "{what} {value} is beyond Number.MAX_SAFE_INTEGER and cannot be represented exactly as a JavaScript number"
        )));
    }
    Ok(value as f64)
}

/// A value from JavaScript, with its integral numbers as integers; one beyond
/// [`MAX_SAFE_INTEGER`] is `invalid_input` naming its field (the nearest key, else `what`).
pub fn ints_from_js(what: &str, value: &mut Value) -> Result<()> {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0) {
                *n = Number::from(int_from_js(what, f)?);
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|v| ints_from_js(what, v)),
        Value::Object(map) => map.iter_mut().try_for_each(|(k, v)| ints_from_js(k, v)),
        _ => Ok(()),
    }
}

/// Checks a value going to JavaScript: an integer beyond [`MAX_SAFE_INTEGER`] is `decode`
/// naming its field (the nearest key, else `what`).
pub fn check_ints_for_js(what: &str, value: &Value) -> Result<()> {
    match value {
        Value::Number(n) if !n.is_f64() => match n.as_i64() {
            Some(i) => int_to_js(what, i).map(drop),
            None => Err(Error::decode(format!(
                "{what} {n} is beyond Number.MAX_SAFE_INTEGER and cannot be represented exactly as a JavaScript number"
            ))),
        },
        Value::Array(items) => items.iter().try_for_each(|v| check_ints_for_js(what, v)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| check_ints_for_js(k, v)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    #[test]
    fn unsafe_integers_are_refused_both_ways_naming_the_field() {
        let mut v = json!({"ids": [1.0, 2.5], "n": 3});
        ints_from_js("x", &mut v).expect("safe");
        assert_eq!(v, json!({"ids": [1, 2.5], "n": 3}));
        assert!(v["ids"][0].is_i64());
        let mut v = json!({"sbcGateways": [2f64.powi(60)]});
        let e = ints_from_js("x", &mut v).expect_err("unsafe");
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        assert!(e.message().starts_with("sbcGateways is "), "{e}");
        let e = check_ints_for_js("x", &json!([{"id": MAX_SAFE_INTEGER + 2}])).expect_err("out");
        assert_eq!(e.code(), ErrorCode::Decode);
        assert!(
            e.message().starts_with("id 9007199254740993 is beyond"),
            "{e}"
        );
        assert!(check_ints_for_js("x", &json!({"u": u64::MAX})).is_err());
        check_ints_for_js("x", &json!({"id": MAX_SAFE_INTEGER, "f": 1e300})).expect("safe");
        assert_eq!(int_from_js("id", 7.0).expect("int"), 7);
        assert!(int_from_js("id", f64::NAN).is_err());
        assert!(int_to_js("id", -MAX_SAFE_INTEGER - 1).is_err());
    }
}
