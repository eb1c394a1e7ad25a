//! Tagging a redirect URL for one ask, and checking a callback against its tag.
//!
//! Both sides live together because they must agree byte for byte on what the tag covers.

use super::keys::{CallbackKey, CallbackKeys};
use super::*;
use crate::error::{Error, Result};
use crate::models::{ActionType, CallbackPayload};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{Duration, UNIX_EPOCH};

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
