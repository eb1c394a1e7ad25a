//! One error type for every failure, with a stable code that every binding exposes unchanged.
//!
//! A portal written in Python, Node or Kotlin branches on `code` ("the admin is not a Global
//! Admin", "wait and retry"), so the codes are part of the public contract: they are listed in
//! [`ErrorCode::ALL`] and never renamed.

use std::fmt;
use std::time::Duration;

/// The stable, language-independent kind of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ErrorCode {
    /// The caller's input is invalid (checked before anything is sent, or refused by the API with 400).
    InvalidInput,
    /// Credentials or a token were refused, or none was configured for a call that needs one.
    Authentication,
    /// The API refused the call for this caller (HTTP 403).
    Forbidden,
    /// The API does not know the object, or it belongs to another reseller (HTTP 404).
    NotFound,
    /// The object already exists, such as a duplicate enterprise name (HTTP 409).
    Conflict,
    /// The API asked the caller to slow down (HTTP 429); see [`Error::retry_after`].
    RateLimited,
    /// The API failed (HTTP 5xx) and retries, where allowed, ran out.
    Server,
    /// Any other non-success answer from the API.
    Api,
    /// The tenant lacks the Teams/Skype Administrator roles; provision the Tenant Admin API and retry 30 minutes later.
    TenantRolesMissing,
    /// The call did not finish within its timeout.
    Timeout,
    /// The connection failed or broke.
    Network,
    /// A response could not be read as the documented shape, or exceeded the size cap.
    Decode,
    /// A callback failed verification or does not belong where it was delivered.
    CallbackInvalid,
    /// The onboarding flow cannot do what was asked in its current state.
    FlowState,
    /// A create may or may not have happened, and looking it up did not settle it.
    OutcomeUnknown,
}

impl ErrorCode {
    /// Every code, in documentation order.
    pub const ALL: [ErrorCode; 15] = [
        ErrorCode::InvalidInput,
        ErrorCode::Authentication,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::RateLimited,
        ErrorCode::Server,
        ErrorCode::Api,
        ErrorCode::TenantRolesMissing,
        ErrorCode::Timeout,
        ErrorCode::Network,
        ErrorCode::Decode,
        ErrorCode::CallbackInvalid,
        ErrorCode::FlowState,
        ErrorCode::OutcomeUnknown,
    ];

    /// The code as the snake_case string every binding exposes.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::Authentication => "authentication",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Server => "server",
            ErrorCode::Api => "api",
            ErrorCode::TenantRolesMissing => "tenant_roles_missing",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Network => "network",
            ErrorCode::Decode => "decode",
            ErrorCode::CallbackInvalid => "callback_invalid",
            ErrorCode::FlowState => "flow_state",
            ErrorCode::OutcomeUnknown => "outcome_unknown",
        }
    }

    /// Parses a code string; `None` for an unknown one.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every failure of this library: a [`code`](Error::code), a message for people, and where the
/// API answered, its HTTP status and request id.
///
/// The message never contains a secret: response bodies are cut to 1 KiB and masked first.
#[derive(thiserror::Error)]
pub struct Error {
    code: ErrorCode,
    message: String,
    status: Option<u16>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    #[source]
    source: Option<Source>,
}

/// This library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: None,
            request_id: None,
            retry_after: None,
            source: None,
        }
    }

    /// An `invalid_input` error; the message should name the field.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// A `decode` error.
    pub fn decode(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Decode, message)
    }

    /// A `flow_state` error.
    pub fn flow_state(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::FlowState, message)
    }

    /// A `callback_invalid` error.
    pub fn callback_invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::CallbackInvalid, message)
    }

    /// Adds the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Adds the request id the API answered with.
    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    /// Adds how long the API asked the caller to wait.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Adds the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message for people, without status or request id.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The request id from the API's response headers, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// How long to wait before trying again, for `rate_limited` (and 503) answers.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// True when repeating the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.code,
            ErrorCode::RateLimited | ErrorCode::Server | ErrorCode::Timeout | ErrorCode::Network
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match (self.status, &self.request_id) {
            (Some(s), Some(r)) => write!(f, " (HTTP {s}, request id {r})"),
            (Some(s), None) => write!(f, " (HTTP {s})"),
            (None, Some(r)) => write!(f, " (request id {r})"),
            (None, None) => Ok(()),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("code", &self.code)
            .field("message", &self.message)
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .field("retry_after", &self.retry_after)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl Error {
    /// The error a panic becomes at a language boundary: a bug in this library, reported as an
    /// `api` error whose message says so, rather than an unwind into Python, Node or the JVM.
    pub fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Error {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        Error::new(
            ErrorCode::Api,
            format!("internal error in ctt-onboard (a bug: please report it): {what}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).expect("serialize");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert_eq!(ErrorCode::parse("nope"), None);
    }

    #[test]
    fn display_names_status_and_request_id() {
        let e = Error::new(ErrorCode::Conflict, "duplicate")
            .with_status(409)
            .with_request_id(Some("r1".into()));
        assert_eq!(e.to_string(), "duplicate (HTTP 409, request id r1)");
    }
}
