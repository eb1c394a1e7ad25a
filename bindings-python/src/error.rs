//! Core [`Error`] to Python exception.
//!
//! The classes live in the Python layer (`ctt_onboard/errors.py`, one per code of the generated
//! `ERROR_CODES`), because Python needs multiple inheritance there (`InvalidInputError` is also a
//! `ValueError`) and pickling for Celery. This module picks the class by code from its
//! `ERROR_CLASSES` and fills in `code`, `status`, `request_id` and `retry_after`; the core's cause
//! chain becomes `__cause__`.

use ctt_onboard::{Error, ErrorCode};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// Converts a core error into its `ctt_onboard.CttError` subclass. Needs the GIL: call it once
/// the core future has finished, never inside it.
pub fn to_py(py: Python<'_>, error: Error) -> PyErr {
    build(py, &error).unwrap_or_else(|import_failure| {
        let err = PyRuntimeError::new_err(format!("[{}] {error}", error.code()));
        err.set_cause(py, Some(import_failure));
        err
    })
}

fn build(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let classes = py.import("ctt_onboard.errors")?.getattr("ERROR_CLASSES")?;
    let class = classes.get_item(error.code().as_str())?;
    let retry_after = error.retry_after().map(|d| d.as_secs_f64());
    let args = (
        error.to_string(),
        error.code().as_str(),
        error.status(),
        error.request_id(),
        retry_after,
    );
    let err = PyErr::from_value(class.call1(args)?);
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    // Innermost cause last: build the chain from the inside out.
    let chained = causes.into_iter().rev().fold(None, |inner, text| {
        let cause = PyRuntimeError::new_err(text);
        cause.set_cause(py, inner);
        Some(cause)
    });
    err.set_cause(py, chained);
    Ok(err)
}

/// A Python exception as a core error: one with a core `code` and a `message` (a `CttError`)
/// keeps them, anything else is `flow_state` with its text.
pub fn from_py(py: Python<'_>, err: &PyErr) -> Error {
    let value = err.value(py);
    let attr = |name| value.getattr(name).and_then(|v| v.extract::<String>()).ok();
    match (
        attr("code").and_then(|c| ErrorCode::parse(&c)),
        attr("message"),
    ) {
        (Some(code), Some(message)) => Error::new(code, message),
        _ => Error::flow_state(value.to_string()),
    }
}

fn parse_code(code: &str) -> PyResult<ErrorCode> {
    ErrorCode::parse(code)
        .ok_or_else(|| PyValueError::new_err(format!("unknown error code {code:?}")))
}

/// True when repeating a call that failed with `code` may succeed (core's `Error::is_transient`).
#[pyfunction]
pub fn is_transient(code: &str) -> PyResult<bool> {
    Ok(Error::new(parse_code(code)?, "").is_transient())
}

/// Runs `f`, turning a panic into an `api` error (sync twin of the futures' wrapper).
pub fn guarded<T>(py: Python<'_>, f: impl FnOnce() -> ctt_onboard::Result<T>) -> PyResult<T> {
    ctt_onboard::__bindings::catch_panic_sync(f).map_err(|e| to_py(py, e))
}
