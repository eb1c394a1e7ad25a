//! Which flow, which ask, and is it genuine: redirect URLs as one-time, expiring capabilities.
//!
//! The vendor's callback body names neither the flow nor the action, and nothing in it is
//! signed; the redirect URL it is posted to is not secret either (the consent page sends the
//! admin's browser there, so it sits in browser history, Referer headers and access logs). So
//! every ask gets its own redirect URL: the portal's URL plus the flow id, the action, a fresh
//! random nonce, the issue time and the id of the key that tagged it, with an HMAC-SHA256 tag
//! over all of them and the portal's whole URL (scheme, host, path, its own query), as
//! length-prefixed fields. The flow keeps the nonce of the ask it waits for and consumes it on
//! acceptance, so a URL answers once, only while it is the flow's current ask, and only until it
//! is older than the key ring's maximum age.
//!
//! The tag is one canonical encoding (unpadded base64url of the 32-byte MAC): a URL whose tag is
//! spelled any other way is refused, so no two strings verify as the same URL.

use crate::models::{ActionType, CallbackPayload};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime};

mod keys;
mod verify;

pub use keys::{CallbackKey, CallbackKeys};
pub(crate) use verify::verify_relative_to;
pub use verify::{tag_redirect_url, verify};

/// The query parameter naming the flow.
pub const FLOW_PARAM: &str = "ctt_flow";
/// The query parameter naming the action.
pub const ACTION_PARAM: &str = "ctt_action";
/// The query parameter holding the ask's nonce.
pub const NONCE_PARAM: &str = "ctt_nonce";
/// The query parameter holding the issue time (Unix seconds).
pub const ISSUED_PARAM: &str = "ctt_iat";
/// The query parameter naming the key that tagged the URL.
pub const KEY_ID_PARAM: &str = "ctt_kid";
/// The query parameter holding the tag version.
pub const VERSION_PARAM: &str = "ctt_v";
/// The query parameter holding the tag.
pub const TAG_PARAM: &str = "ctt_tag";
/// Every parameter the flow adds; a portal's own redirect URL must carry none of them.
pub const PARAMS: [&str; 7] = [
    FLOW_PARAM,
    ACTION_PARAM,
    NONCE_PARAM,
    ISSUED_PARAM,
    KEY_ID_PARAM,
    VERSION_PARAM,
    TAG_PARAM,
];
/// The tag version this library writes and verifies.
pub const TAG_VERSION: &str = "2";
/// The shortest key accepted, in bytes.
pub const MIN_KEY_LEN: usize = 16;
/// The largest callback body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// How long a tagged URL answers by default: 72 hours. The vendor does not publish how long an
/// action item URL lives; a Global Admin often opens it a day or two after the portal sent it.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(72 * 3600);

/// One ask's identity, as tagged into its redirect URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// The flow that asked.
    pub flow_id: String,
    /// The action asked for.
    pub action: ActionType,
    /// The ask's nonce (random, unique to the ask).
    pub nonce: String,
    /// When it was asked, in Unix seconds.
    pub issued_at: u64,
    /// The id of the key that tagged it.
    pub key_id: String,
}

/// A callback that passed verification: its ask and the parsed body. Serialized (for the
/// bindings) with camelCase names and `issuedAt` in milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VerifiedCallback {
    /// The id of the flow that asked for the URL: load that flow and hand it the callback.
    pub flow_id: String,
    /// The action the URL was for.
    pub action: ActionType,
    /// The ask's nonce; the flow accepts it only while it is the ask it waits for.
    pub nonce: String,
    /// When the URL was issued.
    #[serde(with = "crate::wire_time::unix_ms")]
    #[cfg_attr(feature = "schema", schemars(with = "u64"))]
    pub issued_at: SystemTime,
    /// The parsed body (it holds the admin's MSAL result: data a portal must hold like a token).
    pub payload: CallbackPayload,
    /// A digest of the body's JSON value (not its bytes): two bodies that differ only in
    /// whitespace or key order have the same digest.
    pub payload_digest: String,
}

/// A fresh nonce for an ask: 122 random bits.
pub fn new_nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The flow id a callback URL claims, unverified: for finding which stored flow to load before
/// [`crate::Onboarding::handle_callback`] verifies it. `url` may be absolute or a path and query.
pub fn claimed_flow_id(url: &str) -> Option<String> {
    let parsed = parse_any(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == FLOW_PARAM)
        .map(|(_, v)| v.into_owned())
}

fn parse_any(url: &str) -> std::result::Result<url::Url, url::ParseError> {
    url::Url::parse(url)
        .or_else(|_| url::Url::parse("http://callback.invalid").and_then(|base| base.join(url)))
}

/// A canonical digest of a JSON value: keys sorted at every level, no whitespace.
pub(crate) fn json_digest(value: &serde_json::Value) -> String {
    fn canonical(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String((*k).clone()).to_string());
                    out.push(':');
                    if let Some(v) = map.get(*k) {
                        canonical(v, out);
                    }
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(v, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut text = String::new();
    canonical(value, &mut text);
    hex(&Sha256::digest(text.as_bytes())[..16])
}

/// The `tid` claim of an access token that is a JWT; `None` for an opaque token.
pub(crate) fn jwt_tenant(token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("tid")?.as_str().map(str::to_owned)
}

/// A short digest of a secret, to recognise it again without storing it.
pub(crate) fn secret_digest(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"ctt-onboard/seen-token\n");
    h.update(secret.as_bytes());
    hex(&h.finalize()[..16])
}

#[cfg(test)]
mod tests;
