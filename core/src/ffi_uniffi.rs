//! What uniffi needs beyond the derives (feature `uniffi`, for the Kotlin binding): the custom types
//! crossing as strings (unknown fields as JSON, [`Step`] and [`ErrorCode`] by their snake_case
//! names, a [`Secret`] as its text: the records holding one print it masked, their `toString()`
//! being their `Debug`) and [`CttError`], Kotlin's `sealed class CttException`.

use crate::error::{Error, ErrorCode};
use crate::onboarding::Step;
use crate::secret::Secret;

/// A response's fields this library does not model, as a JSON object.
type JsonMap = serde_json::Map<String, serde_json::Value>;

uniffi::custom_type!(JsonMap, String, {
    remote,
    lower: |map| serde_json::Value::Object(map).to_string(),
    try_lift: |json| Ok(serde_json::from_str(&json)?),
});

uniffi::custom_type!(Step, String, {
    lower: |step| step.name().to_owned(),
    try_lift: |name| Ok(serde_json::from_value(serde_json::Value::String(name))?),
});

uniffi::custom_type!(ErrorCode, String, {
    lower: |code| code.as_str().to_owned(),
    try_lift: |code| ErrorCode::parse(&code)
        .ok_or_else(|| uniffi::deps::anyhow::anyhow!("unknown error code {code:?}")),
});

uniffi::custom_type!(Secret, String, {
    lower: |secret| secret.expose().to_owned(),
    try_lift: |text| Ok(Secret::new(text)),
});

macro_rules! ctt_error {
    ($( $variant:ident ),+ $(,)?) => {
        /// Every failure of the library: one subclass per stable error code (`InvalidInput` for
        /// `invalid_input`, ...), each with the same fields; `toString()` reads like core's errors.
        #[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
        #[uniffi::export(Display)]
        pub enum CttError {
            $(
                #[allow(missing_docs)] // uniffi reads literal docs only; ErrorCode documents each
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

        impl From<Error> for CttError {
            fn from(e: Error) -> Self {
                let detail = e.message().to_owned();
                let code = e.code().as_str().to_owned();
                let status = e.status().map(i32::from);
                let request_id = e.request_id().map(str::to_owned);
                let retry_after_ms = e
                    .retry_after()
                    .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
                match e.code() {
                    $( ErrorCode::$variant => CttError::$variant {
                        detail, code, status, request_id, retry_after_ms,
                    }, )+
                }
            }
        }

        impl From<CttError> for Error {
            /// Back to core's error, for an exception a Kotlin callback threw: the code is the
            /// variant's (whatever its `code` field says), the other fields are kept.
            fn from(e: CttError) -> Self {
                let (code, detail, status, request_id, retry_after_ms) = match e {
                    $( CttError::$variant { detail, status, request_id, retry_after_ms, .. } => {
                        (ErrorCode::$variant, detail, status, request_id, retry_after_ms)
                    } )+
                };
                let retry_after = retry_after_ms
                    .and_then(|ms| u64::try_from(ms).ok())
                    .map(std::time::Duration::from_millis);
                let e = Error::new(code, detail)
                    .with_request_id(request_id)
                    .with_retry_after(retry_after);
                match status.and_then(|s| u16::try_from(s).ok()) {
                    Some(s) => e.with_status(s),
                    None => e,
                }
            }
        }
    };
}

// One variant per `ErrorCode`, in its order (each code's meaning is documented there).
ctt_error! {
    InvalidInput, Authentication, Forbidden, NotFound, Conflict, RateLimited, Server, Api,
    TenantRolesMissing, Timeout, Network, Decode, CallbackInvalid, FlowState, OutcomeUnknown,
}

impl std::fmt::Display for CttError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = Error::from(self.clone());
        write!(f, "{}: {e}", e.code())
    }
}

impl std::error::Error for CttError {}

/// What a Kotlin callback (a checkpoint, a logger) threw when it was not a `CttException`:
/// `flow_state`, with the first line of what the JVM reported.
impl From<uniffi::UnexpectedUniFFICallbackError> for CttError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        let first = e.reason.lines().next().unwrap_or("").trim();
        Error::flow_state(format!("the checkpoint failed: {first}")).into()
    }
}
