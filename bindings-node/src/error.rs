//! The one place that turns a core [`ctt_onboard::Error`] into what JavaScript sees.
//!
//! napi 3 rejects every `async fn` (and [`crate::promise`] every call) with the fixed code
//! `GenericFailure`, so the real code cannot travel in the napi status. Instead the error's
//! fields cross as JSON in the message, behind [`MARKER`], and the package's JavaScript layer
//! (`lib/errors.js`) turns that into a `CttError` with `.code`, `.status`, `.requestId`,
//! `.retryAfterMs` and `.cause`. The code strings are core's [`ErrorCode::as_str`], unchanged:
//! this table is the identity on purpose.

use ctt_onboard::{__bindings, Error, ErrorCode};
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use serde_json::{Value, json};
use std::time::Duration;

/// The prefix of a message that carries an encoded error; the JavaScript layer looks for it.
pub const MARKER: &str = "\u{1}ctt-error:";

/// Encodes a core error, its cause chain included, as JSON.
fn encode(error: &Error) -> Value {
    let cause =
        std::error::Error::source(error).map(|source| match source.downcast_ref::<Error>() {
            Some(inner) => encode(inner),
            None => json!({ "message": source.to_string() }),
        });
    json!({
        "code": error.code().as_str(),
        "message": error.to_string(),
        "status": error.status(),
        "requestId": error.request_id(),
        "retryAfterMs": error.retry_after().map(|d| d.as_millis() as f64),
        "cause": cause,
    })
}

/// Converts a core error into the napi error the JavaScript layer decodes.
pub fn to_napi(error: Error) -> napi::Error {
    napi::Error::from_reason(format!("{MARKER}{}", encode(&error)))
}

/// An `invalid_input` error for an argument the binding itself refuses (such as an unsafe id).
pub fn invalid_input(message: impl Into<String>) -> napi::Error {
    to_napi(Error::invalid_input(message))
}

/// Shorthand for results whose error is a core error.
pub trait IntoNapi<T> {
    /// Maps the error with [`to_napi`].
    fn napi(self) -> napi::Result<T>;
}

impl<T> IntoNapi<T> for ctt_onboard::Result<T> {
    fn napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}

/// Test knob: panics inside the library (synchronously, or inside a Promise with `inPromise`),
/// to show that a panic reaches JavaScript as a `CttError` with code `api`, never as a crash.
#[napi(ts_return_type = "Promise<void>")]
pub fn force_panic_for_tests(
    env: &Env,
    in_promise: Option<bool>,
) -> napi::Result<PromiseRaw<'_, ()>> {
    if in_promise == Some(true) {
        return crate::promise::spawn(env, async { __bindings::forced_panic_for_tests() });
    }
    __bindings::catch_panic_sync(__bindings::forced_panic_for_tests).napi()?;
    crate::promise::spawn(env, async { Ok(()) })
}

/// Test knob: a Promise rejected with a `CttError` of `code` (with the given status, request id
/// and wait), so a portal's error handling can be tested for every code without staging it.
#[napi(catch_unwind, ts_return_type = "Promise<void>")]
pub fn reject_with_code(
    env: &Env,
    code: String,
    status: Option<u16>,
    request_id: Option<String>,
    retry_after_ms: Option<u32>,
) -> napi::Result<PromiseRaw<'_, ()>> {
    crate::promise::spawn(env, async move {
        let known = ErrorCode::parse(&code);
        let unknown = || Error::invalid_input(format!("unknown error code {code:?}"));
        let code = known.ok_or_else(unknown)?;
        let wait = retry_after_ms.map(|ms| Duration::from_millis(ms.into()));
        let error = Error::new(code, format!("a {code} error raised on request"));
        let error = error.with_request_id(request_id).with_retry_after(wait);
        Err(match status {
            Some(s) => error.with_status(s),
            None => error,
        })
    })
}
