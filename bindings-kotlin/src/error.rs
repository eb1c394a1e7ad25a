//! Errors: [`CttError`] is core's (its `uniffi` feature); here, the binding's argument errors and
//! test knobs.

use ctt_onboard::{CttError, Error, ErrorCode};

/// An `invalid_input` error raised by the binding's own argument conversion.
pub(crate) fn invalid_input(detail: impl Into<String>) -> CttError {
    Error::invalid_input(detail).into()
}

crate::export! {
    /// Test knob: an error of `code` with every field set.
    pub fn error_for_code(code: String) -> Result<(), CttError> {
        let code = ErrorCode::parse(&code)
            .ok_or_else(|| invalid_input(format!("unknown error code {code:?}")))?;
        Err(Error::new(code, format!("sample {}", code.as_str()))
            .with_status(599)
            .with_request_id(Some(format!("req-{}", code.as_str())))
            .with_retry_after(Some(std::time::Duration::from_millis(1500)))
            .into())
    }

    /// Test hook, not part of the API: panics inside a synchronous export (arrives as `Api`).
    pub fn force_panic_for_tests() -> Result<(), CttError> {
        Ok(ctt_onboard::__bindings::forced_panic_for_tests()?)
    }

    /// Every stable error code, in documentation order.
    pub fn error_codes() -> Vec<String> {
        ErrorCode::ALL.iter().map(|c| c.as_str().to_owned()).collect()
    }
}
