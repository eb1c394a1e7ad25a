//! How a failed attempt becomes an [`Error`]: its code, status, request id, `Retry-After` and a
//! masked excerpt of the body, and whether it may have reached the server.

use super::token::token_error_excerpt;
use super::{Client, TENANT_ROLES_MISSING_TEXT};
use crate::config::Endpoint;
use crate::error::{Error, ErrorCode};
use crate::secret::{Secret, redact_excerpt};
use reqwest::header::{HeaderMap, HeaderValue};
use std::time::{Duration, SystemTime};

/// A failed attempt and whether the request may have reached the server.
pub(super) struct Failure {
    pub(super) error: Error,
    /// True when the server may have acted on the request (so a create's outcome is unknown).
    pub(super) maybe_sent: bool,
    /// True when a repeat may succeed.
    pub(super) transient: bool,
}

/// The longest body excerpt an error carries.
pub(super) const EXCERPT_LIMIT: usize = 1024;
/// Response headers that may carry a request id, in order of preference.
const REQUEST_ID_HEADERS: &[&str] = &[
    "x-request-id",
    "request-id",
    "x-correlation-id",
    "x-amzn-requestid",
];

impl Client {
    /// Maps a non-success answer to an error with status, request id and a masked excerpt.
    pub(super) fn status_failure(
        &self,
        endpoint: Endpoint,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        call_secrets: &[Secret],
    ) -> Failure {
        let text = String::from_utf8_lossy(body);
        // The configured secrets, and the call's own: its bearer token, the tokens this process
        // fetched lately and the MSAL tokens in its body.
        let known: Vec<&str> = self
            .inner
            .known_secrets
            .iter()
            .chain(call_secrets)
            .map(Secret::expose)
            .collect();
        let excerpt = if endpoint == Endpoint::Token {
            token_error_excerpt(&text, &known)
        } else {
            redact_excerpt(&text, &known, EXCERPT_LIMIT)
        };
        let retry_after = retry_after(headers, self.inner.clock.now());
        let code = if text
            .to_ascii_lowercase()
            .contains(&TENANT_ROLES_MISSING_TEXT.to_ascii_lowercase())
        {
            ErrorCode::TenantRolesMissing
        } else {
            match status {
                400 | 422 => ErrorCode::InvalidInput,
                401 => ErrorCode::Authentication,
                403 => ErrorCode::Forbidden,
                404 => ErrorCode::NotFound,
                409 => ErrorCode::Conflict,
                429 => ErrorCode::RateLimited,
                500..=599 => ErrorCode::Server,
                _ => ErrorCode::Api,
            }
        };
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let message = if excerpt.trim().is_empty() {
            format!("{} failed: {status} {reason}", endpoint.name())
        } else {
            format!("{} failed: {status} {reason}: {excerpt}", endpoint.name())
        };
        Failure {
            error: Error::new(code, message)
                .with_status(status)
                .with_request_id(request_id(headers))
                .with_retry_after(retry_after),
            maybe_sent: true,
            transient: matches!(status, 429 | 502 | 503 | 504)
                || (status >= 500 && !endpoint.is_idempotent()),
        }
    }
}

pub(super) fn transport_failure(
    endpoint: Endpoint,
    e: reqwest::Error,
    after_headers: bool,
) -> Failure {
    let connect = e.is_connect();
    let (code, what) = if e.is_timeout() {
        (ErrorCode::Timeout, "timed out")
    } else if connect {
        (ErrorCode::Network, "could not connect")
    } else if after_headers {
        (ErrorCode::Network, "the response body was cut off")
    } else {
        (ErrorCode::Network, "the connection broke")
    };
    // reqwest's text names the URL without credentials; tokens travel only in headers.
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    Failure {
        error: Error::new(code, format!("{} {what}: {detail}", endpoint.name())).with_source(e),
        maybe_sent: !connect,
        transient: true,
    }
}

pub(super) fn request_id(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS
        .iter()
        .find_map(|h| headers.get(*h))
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .map(|s| s.chars().take(128).collect())
}

/// `Retry-After` as seconds or an HTTP date.
pub(super) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}
