//! The one place that knows the Kotlin exception classes: core's [`ctt_onboard::Error`] becomes
//! one variant of [`CttError`] per [`ErrorCode`], which uniffi turns into
//! `sealed class CttException` with one subclass per code.
//!
//! Every variant carries the same fields: `detail` (the message for people; never named
//! `message`, which would collide with `Throwable.message`), the stable `code` string, the HTTP
//! `status` and `requestId` where the API answered, and `retryAfterMs` for `rate_limited`. Core
//! never puts a secret into a message, so nothing here needs masking.

use ctt_onboard::{Error, ErrorCode};

macro_rules! ctt_error {
    ($( $(#[$doc:meta])* $variant:ident => $code:ident ),+ $(,)?) => {
        /// Every failure of the library, one variant per stable error code.
        ///
        /// `toString()` reads like core's errors: code, message, HTTP status and request id.
        #[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
        #[uniffi::export(Display)]
        pub enum CttError {
            $(
                $(#[$doc])*
                $variant {
                    /// The message for people (no secrets), without status or request id.
                    detail: String,
                    /// The stable code, such as `invalid_input`.
                    code: String,
                    /// The HTTP status, when the API answered.
                    status: Option<i32>,
                    /// The API's request id, when it sent one.
                    request_id: Option<String>,
                    /// How long to wait before trying again (`rate_limited`), in milliseconds.
                    retry_after_ms: Option<i64>,
                },
            )+
        }

        impl CttError {
            fn build(
                code: ErrorCode,
                detail: String,
                status: Option<i32>,
                request_id: Option<String>,
                retry_after_ms: Option<i64>,
            ) -> Self {
                let code_str = code.as_str().to_owned();
                match code {
                    $(
                        ErrorCode::$code => CttError::$variant {
                            detail,
                            code: code_str,
                            status,
                            request_id,
                            retry_after_ms,
                        },
                    )+
                }
            }

            /// The stable code string.
            pub fn code(&self) -> &str {
                match self {
                    $( CttError::$variant { code, .. } => code, )+
                }
            }

            /// The message for people.
            pub fn detail(&self) -> &str {
                match self {
                    $( CttError::$variant { detail, .. } => detail, )+
                }
            }

            fn status_and_request_id(&self) -> (Option<i32>, Option<&str>) {
                match self {
                    $( CttError::$variant { status, request_id, .. } => (*status, request_id.as_deref()), )+
                }
            }

            /// Back to core's error, for an exception a Kotlin callback threw: the code is the
            /// variant's (whatever its `code` field says), the other fields are kept.
            pub(crate) fn into_core(self) -> Error {
                match self {
                    $(
                        CttError::$variant { detail, status, request_id, retry_after_ms, .. } => {
                            let mut e = Error::new(ErrorCode::$code, detail)
                                .with_request_id(request_id)
                                .with_retry_after(
                                    retry_after_ms
                                        .and_then(|ms| u64::try_from(ms).ok())
                                        .map(std::time::Duration::from_millis),
                                );
                            if let Some(s) = status.and_then(|s| u16::try_from(s).ok()) {
                                e = e.with_status(s);
                            }
                            e
                        }
                    )+
                }
            }
        }
    };
}

ctt_error! {
    /// `invalid_input`: the caller's input is invalid; the message names the field.
    InvalidInput => InvalidInput,
    /// `authentication`: credentials or a token were refused, or none was configured.
    Authentication => Authentication,
    /// `forbidden`: the API refused the call for this caller (HTTP 403).
    Forbidden => Forbidden,
    /// `not_found`: the API does not know the object (HTTP 404).
    NotFound => NotFound,
    /// `conflict`: the object already exists, such as a duplicate enterprise name (HTTP 409).
    Conflict => Conflict,
    /// `rate_limited`: the API asked the caller to slow down; see `retryAfterMs`.
    RateLimited => RateLimited,
    /// `server`: the API failed (HTTP 5xx) and retries ran out.
    Server => Server,
    /// `api`: any other non-success answer.
    Api => Api,
    /// `tenant_roles_missing`: the tenant lacks the Teams/Skype Administrator roles.
    TenantRolesMissing => TenantRolesMissing,
    /// `timeout`: the call did not finish in time.
    Timeout => Timeout,
    /// `network`: the connection failed or broke.
    Network => Network,
    /// `decode`: a response was not the documented shape.
    Decode => Decode,
    /// `callback_invalid`: a callback failed verification or does not belong here.
    CallbackInvalid => CallbackInvalid,
    /// `flow_state`: the onboarding flow cannot do this in its current state.
    FlowState => FlowState,
    /// `outcome_unknown`: a create may or may not have happened.
    OutcomeUnknown => OutcomeUnknown,
}

impl std::fmt::Display for CttError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.detail())?;
        match self.status_and_request_id() {
            (Some(s), Some(r)) => write!(f, " (HTTP {s}, request id {r})"),
            (Some(s), None) => write!(f, " (HTTP {s})"),
            (None, Some(r)) => write!(f, " (request id {r})"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for CttError {}

impl From<Error> for CttError {
    fn from(e: Error) -> Self {
        CttError::build(
            e.code(),
            e.message().to_owned(),
            e.status().map(i32::from),
            e.request_id().map(str::to_owned),
            e.retry_after()
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }
}

/// What a Kotlin callback (a `FlowCheckpoint`) threw when it was not a `CttException`:
/// `flow_state`, with the first line of what the JVM reported.
impl From<uniffi::UnexpectedUniFFICallbackError> for CttError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        let first = e.reason.lines().next().unwrap_or("").trim();
        Error::flow_state(format!("the checkpoint failed: {first}")).into()
    }
}

impl CttError {
    /// An `invalid_input` error raised by the binding's own argument conversion.
    pub fn invalid_input(detail: impl Into<String>) -> Self {
        Error::invalid_input(detail).into()
    }
}

crate::export! {
    /// Test knob: an error with every field set, for each code, so the Kotlin tests can check that
    /// every code arrives as its own exception subclass with status, request id and wait.
    pub fn error_for_code(code: String) -> Result<(), CttError> {
        let code = ErrorCode::parse(&code)
            .ok_or_else(|| CttError::invalid_input(format!("unknown error code {code:?}")))?;
        Err(Error::new(code, format!("sample {}", code.as_str()))
            .with_status(599)
            .with_request_id(Some(format!("req-{}", code.as_str())))
            .with_retry_after(Some(std::time::Duration::from_millis(1500)))
            .into())
    }
}

crate::export! {
    /// Test hook, not part of the API: panics on purpose inside a synchronous export, to show that
    /// a panic arrives as `CttException.Api` ("internal error in ctt-onboard ...").
    pub fn force_panic_for_tests() -> Result<(), CttError> {
        Ok(ctt_onboard::error::forced_panic_for_tests()?)
    }
}

crate::export! {
    /// Every stable error code, in documentation order.
    pub fn error_codes() -> Vec<String> {
        ErrorCode::ALL
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_its_variant() {
        for code in ErrorCode::ALL {
            let e: CttError = Error::new(code, "x").with_status(418).into();
            assert_eq!(e.code(), code.as_str());
        }
    }
}
