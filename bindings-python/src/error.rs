//! The one table from core [`ErrorCode`] to Python exception class.
//!
//! The classes live in the Python layer (`ctt_onboard/errors.py`), because Python needs multiple
//! inheritance there (`InvalidInputError` is also a `ValueError`, `TimeoutError` also the
//! builtin) and pickling for Celery. This module only picks the class and fills in
//! `code`, `status`, `request_id` and `retry_after`; the core's cause chain becomes `__cause__`.

use ctt_onboard::{Error, ErrorCode};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// The Python module holding the exception classes.
const ERRORS_MODULE: &str = "ctt_onboard.errors";

/// The Python class for each code: the single place that maps core errors to host classes.
pub fn class_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidInput => "InvalidInputError",
        ErrorCode::Authentication => "AuthenticationError",
        ErrorCode::Forbidden => "ForbiddenError",
        ErrorCode::NotFound => "NotFoundError",
        ErrorCode::Conflict => "ConflictError",
        ErrorCode::RateLimited => "RateLimitedError",
        ErrorCode::Server => "ServerError",
        ErrorCode::Api => "ApiError",
        ErrorCode::TenantRolesMissing => "TenantRolesMissingError",
        ErrorCode::Timeout => "TimeoutError",
        ErrorCode::Network => "NetworkError",
        ErrorCode::Decode => "DecodeError",
        ErrorCode::CallbackInvalid => "CallbackInvalidError",
        ErrorCode::FlowState => "FlowStateError",
        ErrorCode::OutcomeUnknown => "OutcomeUnknownError",
    }
}

/// Converts a core error into the matching `ctt_onboard.CttError` subclass. Needs the GIL: call it
/// once the core future has finished, never inside it.
pub fn to_py(py: Python<'_>, error: Error) -> PyErr {
    match build(py, &error) {
        Ok(err) => err,
        Err(import_failure) => {
            let err = PyRuntimeError::new_err(format!("[{}] {error}", error.code()));
            err.set_cause(py, Some(import_failure));
            err
        }
    }
}

fn build(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let class = py
        .import(ERRORS_MODULE)?
        .getattr(class_name(error.code()))?;
    let value = class.call1((
        error.to_string(),
        error.code().as_str(),
        error.status(),
        error.request_id(),
        error.retry_after().map(|d| d.as_secs_f64()),
    ))?;
    let err = PyErr::from_value(value);
    let mut source = std::error::Error::source(error);
    let mut causes = Vec::new();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    // Innermost cause last: build the chain from the inside out.
    let mut chained: Option<PyErr> = None;
    for text in causes.into_iter().rev() {
        let cause = PyRuntimeError::new_err(text);
        cause.set_cause(py, chained.take());
        chained = Some(cause);
    }
    err.set_cause(py, chained);
    Ok(err)
}

/// The core error for an argument the binding could not read (bad JSON from the Python layer).
pub fn invalid_input(what: &str, e: impl std::fmt::Display) -> Error {
    Error::invalid_input(format!("{what}: {e}"))
}

/// Builds the exception a core error with these fields becomes, without raising it: lets the
/// test suite check the mapping of every code, including those the simulator never answers with.
#[pyfunction]
#[pyo3(signature = (code, message, status=None, request_id=None, retry_after=None))]
pub fn error_for_code(
    py: Python<'_>,
    code: &str,
    message: &str,
    status: Option<u16>,
    request_id: Option<String>,
    retry_after: Option<f64>,
) -> PyResult<Py<pyo3::exceptions::PyBaseException>> {
    let code = ErrorCode::parse(code).ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(format!("unknown error code {code:?}"))
    })?;
    let mut error = Error::new(code, message)
        .with_request_id(request_id)
        .with_retry_after(retry_after.and_then(|s| std::time::Duration::try_from_secs_f64(s).ok()));
    if let Some(status) = status {
        error = error.with_status(status);
    }
    Ok(to_py(py, error).into_value(py))
}

/// Panics inside a core call on purpose (`ctt_onboard::error::forced_panic_for_tests`), through
/// the same wrapper every blocking call uses: shows that a panic becomes an `ApiError`.
#[pyfunction]
pub fn forced_panic(py: Python<'_>) -> PyResult<()> {
    crate::client::block_on(py, async { ctt_onboard::error::forced_panic_for_tests() })
}

/// Awaitable twin of `forced_panic`, through `awaitable` (the wrapper of the flow's
/// `advance_async`).
#[pyfunction]
pub fn forced_panic_async(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    crate::client::awaitable(py, async { ctt_onboard::error::forced_panic_for_tests() })
}

/// `forced_panic` through [`crate::completion::Completions`], the path every `AsyncClient` call
/// takes: resolves `future` with the error.
#[pyfunction]
pub fn forced_panic_start(
    py: Python<'_>,
    completions: PyRef<'_, crate::completion::Completions>,
    future: Py<PyAny>,
) -> PyResult<u64> {
    completions.start(py, future, async {
        ctt_onboard::error::forced_panic_for_tests()
    })
}
