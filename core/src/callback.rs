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

use crate::clock::{SharedClock, SystemClock};
use crate::error::{Error, Result};
use crate::models::{ActionType, CallbackPayload};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
const MAX_KEY_ID_LEN: usize = 32;

/// One key of a [`CallbackKeys`] ring: an id carried in every URL it tags, and the secret bytes.
#[derive(Clone)]
pub struct CallbackKey {
    id: String,
    secret: Arc<Vec<u8>>,
}

impl CallbackKey {
    /// A key with an explicit id (1 to 32 characters of `A-Z a-z 0-9 - _ .`); the secret is at
    /// least [`MIN_KEY_LEN`] bytes. A string secret is taken as its UTF-8 bytes.
    pub fn new(id: impl Into<String>, secret: impl AsRef<[u8]>) -> Result<Self> {
        let id = id.into();
        if id.is_empty()
            || id.len() > MAX_KEY_ID_LEN
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(Error::invalid_input(format!(
                "callback key id {id:?} must be 1 to {MAX_KEY_ID_LEN} characters of A-Z, a-z, 0-9, '-', '_' or '.'"
            )));
        }
        let secret = secret.as_ref();
        if secret.len() < MIN_KEY_LEN {
            return Err(Error::invalid_input(format!(
                "callback key {id:?} is {} bytes; it must be at least {MIN_KEY_LEN} bytes",
                secret.len()
            )));
        }
        Ok(Self {
            id,
            secret: Arc::new(secret.to_vec()),
        })
    }

    /// A key whose id is derived from its secret (`k` and 8 hex digits of a SHA-256 of it), for
    /// a portal with one key: the same secret always gets the same id.
    pub fn derived(secret: impl AsRef<[u8]>) -> Result<Self> {
        let secret = secret.as_ref();
        let mut h = Sha256::new();
        h.update(b"ctt-onboard/callback-key-id\n");
        h.update(secret);
        let id = format!("k{}", hex(&h.finalize()[..4]));
        Self::new(id, secret)
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for CallbackKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallbackKey({:?}, ***)", self.id)
    }
}

/// The portal's callback keys: one that signs new URLs, older ones that still verify, the ids of
/// retired ones (their URLs fail saying so), how long a URL answers, and the clock that judges it.
///
/// Keys never go into a flow's JSON; only a key's id travels in the URLs.
#[derive(Clone)]
pub struct CallbackKeys {
    signing: CallbackKey,
    verifying: Vec<CallbackKey>,
    retired: Vec<String>,
    max_age: Duration,
    clock: Option<SharedClock>,
}

impl CallbackKeys {
    /// A ring whose signing key is `key`.
    pub fn new(key: CallbackKey) -> Self {
        Self {
            signing: key,
            verifying: Vec::new(),
            retired: Vec::new(),
            max_age: DEFAULT_MAX_AGE,
            clock: None,
        }
    }

    /// A ring of one key with a derived id ([`CallbackKey::derived`]).
    pub fn single(secret: impl AsRef<[u8]>) -> Result<Self> {
        CallbackKey::derived(secret).map(Self::new)
    }

    /// Adds an older key that still verifies the URLs it tagged (it signs nothing new).
    pub fn with_verify_key(mut self, key: CallbackKey) -> Result<Self> {
        if key.id == self.signing.id || self.verifying.iter().any(|k| k.id == key.id) {
            return Err(Error::invalid_input(format!(
                "callback key id {:?} is in the ring twice",
                key.id
            )));
        }
        self.verifying.push(key);
        Ok(self)
    }

    /// Marks a key id as retired: URLs it tagged are refused with a message that says so.
    pub fn with_retired(mut self, id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        if self.key(&id).is_some() {
            return Err(Error::invalid_input(format!(
                "callback key id {id:?} cannot be both in the ring and retired"
            )));
        }
        self.retired.push(id);
        Ok(self)
    }

    /// How long a tagged URL answers (default [`DEFAULT_MAX_AGE`]); at least one minute.
    pub fn with_max_age(mut self, max_age: Duration) -> Result<Self> {
        if max_age < Duration::from_secs(60) {
            return Err(Error::invalid_input(format!(
                "callback max_age is {} s; it must be at least 60 s",
                max_age.as_secs()
            )));
        }
        self.max_age = max_age;
        Ok(self)
    }

    /// The clock that stamps and judges URLs (default the system clock; a client built with
    /// this ring and a clock of its own lends it its clock).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    pub(crate) fn has_clock(&self) -> bool {
        self.clock.is_some()
    }

    /// The id of the key that signs new URLs.
    pub fn signing_key_id(&self) -> &str {
        &self.signing.id
    }

    /// How long a tagged URL answers.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// The time on the ring's clock.
    pub fn now(&self) -> SystemTime {
        match &self.clock {
            Some(c) => c.now(),
            None => crate::clock::Clock::now(&SystemClock),
        }
    }

    /// The keys that are UTF-8 text, as secrets for masking (a portal may have pasted one into a
    /// URL or a body).
    pub(crate) fn text_secrets(&self) -> Vec<crate::secret::Secret> {
        std::iter::once(&self.signing)
            .chain(self.verifying.iter())
            .filter_map(|k| std::str::from_utf8(&k.secret).ok())
            .map(crate::secret::Secret::from)
            .collect()
    }

    fn key(&self, id: &str) -> Option<&CallbackKey> {
        std::iter::once(&self.signing)
            .chain(self.verifying.iter())
            .find(|k| k.id == id)
    }
}

impl fmt::Debug for CallbackKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackKeys")
            .field("signing", &self.signing)
            .field("verifying", &self.verifying)
            .field("retired", &self.retired)
            .field("max_age", &self.max_age)
            .finish()
    }
}

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

/// A callback that passed verification: its ask and the parsed body.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCallback {
    /// The id of the flow that asked for the URL.
    pub flow_id: String,
    /// The action the URL was for.
    pub action: ActionType,
    /// The ask's nonce; the flow accepts it only while it is the ask it waits for.
    pub nonce: String,
    /// When the URL was issued.
    pub issued_at: SystemTime,
    /// The parsed body.
    pub payload: CallbackPayload,
    /// A digest of the body's JSON value (not its bytes): two bodies that differ only in
    /// whitespace or key order have the same digest.
    pub payload_digest: String,
}

/// A fresh nonce for an ask: 122 random bits.
pub fn new_nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn field(mac: &mut Hmac<Sha256>, value: &[u8]) {
    mac.update(&(value.len() as u64).to_be_bytes());
    mac.update(value);
}

fn tag_of(key: &CallbackKey, base: &str, ask: &Ask) -> Result<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.secret)
        .map_err(|_| Error::invalid_input("the callback key is not usable for HMAC-SHA256"))?;
    field(&mut mac, b"ctt-onboard/callback");
    field(&mut mac, TAG_VERSION.as_bytes());
    field(&mut mac, key.id.as_bytes());
    field(&mut mac, ask.flow_id.as_bytes());
    field(&mut mac, ask.action.as_str().as_bytes());
    field(&mut mac, ask.nonce.as_bytes());
    field(&mut mac, ask.issued_at.to_string().as_bytes());
    field(&mut mac, base.as_bytes());
    Ok(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The portal's URL with the flow's parameters removed: what the tag covers. The portal's own
/// query stays byte for byte, in its order.
fn base_of(url: &url::Url) -> String {
    let mut base = url.clone();
    base.set_fragment(None);
    let kept: Vec<&str> = url
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            !pair.is_empty() && !PARAMS.contains(&key)
        })
        .collect();
    if kept.is_empty() {
        base.set_query(None);
    } else {
        base.set_query(Some(&kept.join("&")));
    }
    base.to_string()
}

/// The portal's `redirect_url` tagged for one ask with the ring's signing key.
pub fn tag_redirect_url(keys: &CallbackKeys, redirect_url: &str, ask: &Ask) -> Result<String> {
    let mut url = url::Url::parse(redirect_url).map_err(|e| {
        Error::invalid_input(format!(
            "redirect_url {redirect_url:?} is not an absolute URL: {e}"
        ))
    })?;
    if url.fragment().is_some() {
        return Err(Error::invalid_input(
            "redirect_url must not have a #fragment: browsers never send it to the portal",
        ));
    }
    let key = &keys.signing;
    let ask = Ask {
        key_id: key.id.clone(),
        ..ask.clone()
    };
    let base = base_of(&url);
    let tag = tag_of(key, &base, &ask)?;
    url.query_pairs_mut()
        .append_pair(FLOW_PARAM, &ask.flow_id)
        .append_pair(ACTION_PARAM, ask.action.as_str())
        .append_pair(NONCE_PARAM, &ask.nonce)
        .append_pair(ISSUED_PARAM, &ask.issued_at.to_string())
        .append_pair(KEY_ID_PARAM, &ask.key_id)
        .append_pair(VERSION_PARAM, TAG_VERSION)
        .append_pair(TAG_PARAM, &tag);
    Ok(url.to_string())
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

fn param(parsed: &url::Url, name: &str) -> Result<Option<String>> {
    let mut found = None;
    for (k, v) in parsed.query_pairs() {
        if k == name {
            if found.is_some() {
                return Err(Error::callback_invalid(format!(
                    "callback URL repeats the {name} parameter"
                )));
            }
            found = Some(v.into_owned());
        }
    }
    Ok(found)
}

/// Verifies a callback: `url` is the absolute URL it was delivered to, `body` the JSON posted.
/// Checks the tag (with the ring's key named in the URL), the age, and that the body is the
/// documented JSON; returns the ask and the parsed payload, or a `callback_invalid` error saying
/// what is wrong. Whether the ask is the one a flow waits for is the flow's to judge
/// ([`crate::Onboarding::handle_callback`], which also takes a path and query).
pub fn verify(keys: &CallbackKeys, url: &str, body: &str) -> Result<VerifiedCallback> {
    let parsed = url::Url::parse(url).map_err(|e| {
        Error::callback_invalid(format!(
            "callback URL {url:?} is not absolute ({e}): verify needs the whole URL; Onboarding.handle_callback also takes a path"
        ))
    })?;
    verify_parsed(keys, &parsed, body)
}

pub(crate) fn verify_relative_to(
    keys: &CallbackKeys,
    url: &str,
    redirect_url: &str,
    body: &str,
) -> Result<VerifiedCallback> {
    let parsed = url::Url::parse(url)
        .or_else(|_| url::Url::parse(redirect_url).and_then(|base| base.join(url)))
        .map_err(|e| {
            Error::callback_invalid(format!("callback URL {url:?} cannot be read: {e}"))
        })?;
    verify_parsed(keys, &parsed, body)
}

fn verify_parsed(keys: &CallbackKeys, parsed: &url::Url, body: &str) -> Result<VerifiedCallback> {
    let get = |name: &str| param(parsed, name);
    let (Some(flow_id), Some(action), Some(tag)) =
        (get(FLOW_PARAM)?, get(ACTION_PARAM)?, get(TAG_PARAM)?)
    else {
        return Err(Error::callback_invalid(format!(
            "callback URL lacks {FLOW_PARAM}, {ACTION_PARAM} or {TAG_PARAM}: it was not asked for by an onboarding flow"
        )));
    };
    match get(VERSION_PARAM)?.as_deref() {
        Some(TAG_VERSION) => {}
        Some(v) => {
            return Err(Error::callback_invalid(format!(
                "callback URL has tag version {v:?}; this library verifies version {TAG_VERSION}"
            )));
        }
        None => {
            return Err(Error::callback_invalid(
                "callback URL was tagged by an older ctt-onboard (no ctt_v): advance the flow for a fresh URL",
            ));
        }
    }
    let (Some(nonce), Some(issued), Some(key_id)) =
        (get(NONCE_PARAM)?, get(ISSUED_PARAM)?, get(KEY_ID_PARAM)?)
    else {
        return Err(Error::callback_invalid(format!(
            "callback URL lacks {NONCE_PARAM}, {ISSUED_PARAM} or {KEY_ID_PARAM}"
        )));
    };
    let key = match keys.key(&key_id) {
        Some(k) => k,
        None if keys.retired.contains(&key_id) => {
            return Err(Error::callback_invalid(format!(
                "callback URL was tagged with key {key_id:?}, which has been retired: advance the flow for a URL tagged with the current key"
            )));
        }
        None => {
            return Err(Error::callback_invalid(format!(
                "callback URL was tagged with key {key_id:?}, which this key ring does not hold"
            )));
        }
    };
    let issued_at: u64 = match issued.parse::<u64>() {
        Ok(t) if issued == t.to_string() && t <= crate::onboarding::MAX_UNIX => t,
        _ => {
            return Err(Error::callback_invalid(format!(
                "callback URL's {ISSUED_PARAM} {issued:?} is not a time"
            )));
        }
    };
    let ask = Ask {
        flow_id,
        action: ActionType::from_wire(&action),
        nonce,
        issued_at,
        key_id,
    };
    let expected = tag_of(key, &base_of(parsed), &ask)?;
    // Compare MACs, not strings, in constant time; a tag spelled any other way never decodes to
    // the same bytes under the strict unpadded engine, so one URL has one tag.
    let given = URL_SAFE_NO_PAD.decode(tag.as_bytes()).ok();
    let expected_bytes = URL_SAFE_NO_PAD
        .decode(expected.as_bytes())
        .unwrap_or_default();
    let genuine = given.is_some_and(|g| {
        g.len() == expected_bytes.len()
            && g.iter()
                .zip(expected_bytes.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }) && tag == expected;
    if !genuine {
        return Err(Error::callback_invalid(
            "callback tag does not verify: forged, altered, or tagged with another key",
        ));
    }
    let issued_time = UNIX_EPOCH + Duration::from_secs(issued_at);
    let now = keys.now();
    if now
        .duration_since(issued_time)
        .is_ok_and(|age| age > keys.max_age)
    {
        return Err(Error::callback_invalid(format!(
            "callback URL expired: issued {} s ago, and URLs answer for {} s; advance the flow for a fresh one",
            now.duration_since(issued_time)
                .unwrap_or_default()
                .as_secs(),
            keys.max_age.as_secs()
        )));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::callback_invalid(format!(
            "callback body is larger than {MAX_BODY_BYTES} bytes"
        )));
    }
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| {
        Error::callback_invalid(format!("callback body is not the documented JSON: {e}"))
    })?;
    let payload_digest = json_digest(&value);
    let payload: CallbackPayload = serde_json::from_value(value).map_err(|e| {
        Error::callback_invalid(format!("callback body is not the documented JSON: {e}"))
    })?;
    if payload.authentication_result().access_token.is_empty() {
        return Err(Error::callback_invalid(
            "callback body has no authenticationResult.accessToken",
        ));
    }
    Ok(VerifiedCallback {
        flow_id: ask.flow_id,
        action: ask.action,
        nonce: ask.nonce,
        issued_at: issued_time,
        payload,
        payload_digest,
    })
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
mod tests {
    use super::*;

    const KEY: &[u8] = b"portal-secret-key-0123456789";
    const BODY: &str = r#"{"msalAuthenticationResult":{"authenticationResult":{"accessToken":"a","userInfo":{"tenantId":"t"}}},"officeUserType":"GLOBAL_ADMIN","companyAdmin":true}"#;

    fn ring() -> CallbackKeys {
        CallbackKeys::new(CallbackKey::new("k1", KEY).expect("key"))
    }

    fn ask(now: u64) -> Ask {
        Ask {
            flow_id: "flow-1".into(),
            action: ActionType::Registration,
            nonce: "n1".into(),
            issued_at: now,
            key_id: String::new(),
        }
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
    }

    #[test]
    fn a_tagged_url_verifies_and_keeps_the_portals_query() {
        let url = tag_redirect_url(&ring(), "https://portal.example/cb?tenant=7", &ask(now()))
            .expect("tag");
        assert!(url.starts_with("https://portal.example/cb?tenant=7&ctt_flow=flow-1"));
        let v = verify(&ring(), &url, BODY).expect("verifies");
        assert_eq!(v.flow_id, "flow-1");
        assert_eq!(v.action, ActionType::Registration);
        assert_eq!(v.nonce, "n1");
        assert_eq!(claimed_flow_id(&url).as_deref(), Some("flow-1"));
        let path_only = &url["https://portal.example".len()..];
        assert_eq!(claimed_flow_id(path_only).as_deref(), Some("flow-1"));
        let relative = verify_relative_to(&ring(), path_only, "https://portal.example/cb", BODY)
            .expect("relative");
        assert_eq!(relative.nonce, "n1");
    }

    #[test]
    fn forgeries_are_refused() {
        let url =
            tag_redirect_url(&ring(), "https://portal.example/cb?x=1", &ask(now())).expect("tag");
        let other_ring =
            CallbackKeys::new(CallbackKey::new("k1", b"another-key-0123456789").expect("k"));
        let tag = url.split("ctt_tag=").nth(1).expect("tag").to_owned();
        let cases = [
            ("other key", verify(&other_ring, &url, BODY)),
            (
                "flow",
                verify(&ring(), &url.replace("flow-1", "flow-2"), BODY),
            ),
            (
                "action",
                verify(
                    &ring(),
                    &url.replace("REGISTRATION", "GET_AGENT_CONSENT"),
                    BODY,
                ),
            ),
            (
                "nonce",
                verify(&ring(), &url.replace("ctt_nonce=n1", "ctt_nonce=n2"), BODY),
            ),
            (
                "host",
                verify(
                    &ring(),
                    &url.replace("portal.example", "evil.example"),
                    BODY,
                ),
            ),
            ("path", verify(&ring(), &url.replace("/cb?", "/cb2?"), BODY)),
            (
                "scheme",
                verify(&ring(), &url.replace("https:", "http:"), BODY),
            ),
            (
                "portal query",
                verify(&ring(), &url.replace("x=1", "x=2"), BODY),
            ),
            (
                "added query",
                verify(&ring(), &url.replace("x=1", "x=1&y=2"), BODY),
            ),
            (
                "untagged",
                verify(&ring(), "https://portal.example/cb", BODY),
            ),
            (
                "repeated",
                verify(&ring(), &format!("{url}&ctt_flow=x"), BODY),
            ),
            (
                "upper tag",
                verify(&ring(), &url.replace(&tag, &tag.to_uppercase()), BODY),
            ),
            ("padded tag", verify(&ring(), &format!("{url}="), BODY)),
            ("relative", verify(&ring(), "/cb?ctt_flow=x", BODY)),
            ("not json", verify(&ring(), &url, "{not json")),
            ("empty", verify(&ring(), &url, "{}")),
        ];
        for (what, c) in cases {
            assert_eq!(
                c.expect_err(what).code(),
                crate::ErrorCode::CallbackInvalid,
                "{what}"
            );
        }
    }

    #[test]
    fn keys_rotate_retire_and_expire() {
        let old = CallbackKeys::new(CallbackKey::new("old", KEY).expect("k"));
        let url = tag_redirect_url(&old, "https://portal.example/cb", &ask(now())).expect("tag");
        let rotated =
            CallbackKeys::new(CallbackKey::new("new", b"a-newer-key-0123456789").expect("k"));
        let still = rotated
            .clone()
            .with_verify_key(CallbackKey::new("old", KEY).expect("k"))
            .expect("ring");
        assert!(verify(&still, &url, BODY).is_ok());
        let retired = rotated.with_retired("old").expect("ring");
        let e = verify(&retired, &url, BODY).expect_err("retired");
        assert!(e.message().contains("retired"), "{e}");
        let stale = tag_redirect_url(
            &ring(),
            "https://portal.example/cb",
            &ask(now() - 73 * 3600),
        )
        .expect("tag");
        let e = verify(&ring(), &stale, BODY).expect_err("expired");
        assert!(e.message().contains("expired"), "{e}");
        assert!(
            verify(
                &ring()
                    .with_max_age(Duration::from_secs(80 * 3600))
                    .expect("age"),
                &stale,
                BODY
            )
            .is_ok()
        );
    }

    #[test]
    fn keys_are_bytes_of_at_least_16() {
        assert!(
            CallbackKey::derived([0xffu8; 32]).is_ok(),
            "non-UTF-8 bytes are a key"
        );
        assert_eq!(
            CallbackKey::derived(b"short").expect_err("short").code(),
            crate::ErrorCode::InvalidInput
        );
        assert!(CallbackKey::new("bad id!", KEY).is_err());
        assert_eq!(
            CallbackKey::derived(KEY).expect("k").id(),
            CallbackKey::derived(KEY).expect("k").id()
        );
    }

    #[test]
    fn payload_digests_ignore_whitespace_and_key_order() {
        let url = tag_redirect_url(&ring(), "https://portal.example/cb", &ask(now())).expect("tag");
        let a = verify(&ring(), &url, BODY).expect("a");
        let spaced = BODY.replace(',', ", ").replace(':', " : ");
        let b = verify(&ring(), &url, &spaced).expect("b");
        assert_eq!(a.payload_digest, b.payload_digest);
        let changed = BODY.replace("\"t\"", "\"u\"");
        assert_ne!(
            a.payload_digest,
            verify(&ring(), &url, &changed).expect("c").payload_digest
        );
    }

    #[test]
    fn jwt_tenants_are_read_and_opaque_tokens_have_none() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"tid":"tenant-1"}"#);
        assert_eq!(
            jwt_tenant(&format!("e30.{payload}.sig")).as_deref(),
            Some("tenant-1")
        );
        assert_eq!(jwt_tenant("opaque-token"), None);
    }
}
