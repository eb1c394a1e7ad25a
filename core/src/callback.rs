//! Which flow, which action, and is it genuine: tagging redirect URLs and verifying callbacks.
//!
//! The vendor's callback body names neither the flow nor the action, and nothing in it is
//! signed. So every URL a flow asks for carries its own redirect URL: the portal's URL plus
//! `ctt_flow`, `ctt_action` and `ctt_tag`, an HMAC-SHA256 over the first two keyed by a secret
//! only the portal holds. A callback whose tag does not verify is not from a URL this library
//! asked for, and is refused before its body is trusted.

use crate::error::{Error, Result};
use crate::models::{ActionType, CallbackPayload};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The query parameter naming the flow.
pub const FLOW_PARAM: &str = "ctt_flow";
/// The query parameter naming the action.
pub const ACTION_PARAM: &str = "ctt_action";
/// The query parameter holding the tag.
pub const TAG_PARAM: &str = "ctt_tag";
/// The shortest key accepted.
pub const MIN_KEY_LEN: usize = 16;
/// The largest callback body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A callback that passed verification.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCallback {
    /// The id of the flow that asked for the URL.
    pub flow_id: String,
    /// The action the URL was for.
    pub action: ActionType,
    /// The parsed body.
    pub payload: CallbackPayload,
}

fn mac(key: &[u8], flow_id: &str, action: &str) -> Result<Hmac<Sha256>> {
    if key.len() < MIN_KEY_LEN {
        return Err(Error::invalid_input(format!(
            "the callback key must be at least {MIN_KEY_LEN} bytes"
        )));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| Error::invalid_input("the callback key is not usable for HMAC-SHA256"))?;
    mac.update(b"ctt-onboard/callback/v1\n");
    mac.update(flow_id.as_bytes());
    mac.update(b"\n");
    mac.update(action.as_bytes());
    Ok(mac)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The portal's redirect URL with the flow, the action and their tag added.
pub fn tag_redirect_url(
    key: &[u8],
    redirect_url: &str,
    flow_id: &str,
    action: &ActionType,
) -> Result<String> {
    let mut url = url::Url::parse(redirect_url).map_err(|e| {
        Error::invalid_input(format!(
            "redirect_url {redirect_url:?} is not an absolute URL: {e}"
        ))
    })?;
    let tag = hex(&mac(key, flow_id, action.as_str())?.finalize().into_bytes());
    url.query_pairs_mut()
        .append_pair(FLOW_PARAM, flow_id)
        .append_pair(ACTION_PARAM, action.as_str())
        .append_pair(TAG_PARAM, &tag);
    Ok(url.to_string())
}

/// Verifies a callback: `url` is the URL it was delivered to (absolute, or the path and query
/// the portal's router saw), `body` the JSON posted. Returns the flow id, the action and the
/// parsed payload, or a `callback_invalid` error saying what is wrong.
pub fn verify(key: &[u8], url: &str, body: &str) -> Result<VerifiedCallback> {
    let parsed = url::Url::parse(url)
        .or_else(|_| url::Url::parse("http://callback.invalid").and_then(|base| base.join(url)))
        .map_err(|e| {
            Error::callback_invalid(format!("callback URL {url:?} cannot be read: {e}"))
        })?;
    let mut flow = None;
    let mut action = None;
    let mut tag = None;
    for (k, v) in parsed.query_pairs() {
        let slot = match k.as_ref() {
            FLOW_PARAM => &mut flow,
            ACTION_PARAM => &mut action,
            TAG_PARAM => &mut tag,
            _ => continue,
        };
        if slot.is_some() {
            return Err(Error::callback_invalid(format!(
                "callback URL repeats the {k} parameter"
            )));
        }
        *slot = Some(v.into_owned());
    }
    let (Some(flow), Some(action), Some(tag)) = (flow, action, tag) else {
        return Err(Error::callback_invalid(format!(
            "callback URL lacks {FLOW_PARAM}, {ACTION_PARAM} or {TAG_PARAM}: it was not asked for by an onboarding flow"
        )));
    };
    let tag = unhex(&tag).ok_or_else(|| Error::callback_invalid("callback tag is not hex"))?;
    mac(key, &flow, &action)?.verify_slice(&tag).map_err(|_| {
        Error::callback_invalid(
            "callback tag does not verify: forged, altered, or tagged with another key",
        )
    })?;
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::callback_invalid(format!(
            "callback body is larger than {MAX_BODY_BYTES} bytes"
        )));
    }
    let payload = CallbackPayload::parse(body)
        .map_err(|e| Error::callback_invalid(e.message().to_owned()))?;
    if payload.authentication_result().access_token.is_empty() {
        return Err(Error::callback_invalid(
            "callback body has no authenticationResult.accessToken",
        ));
    }
    Ok(VerifiedCallback {
        flow_id: flow,
        action: ActionType::from_wire(&action),
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"portal-secret-key-0123456789";
    const BODY: &str = r#"{"msalAuthenticationResult":{"authenticationResult":{"accessToken":"a","userInfo":{"tenantId":"t"}}},"officeUserType":"GLOBAL_ADMIN","companyAdmin":true}"#;

    #[test]
    fn a_tagged_url_verifies_and_keeps_the_portals_query() {
        let url = tag_redirect_url(
            KEY,
            "https://portal.example/cb?tenant=7",
            "flow-1",
            &ActionType::Registration,
        )
        .expect("tag");
        assert!(url.starts_with("https://portal.example/cb?tenant=7&ctt_flow=flow-1"));
        let v = verify(KEY, &url, BODY).expect("verifies");
        assert_eq!(v.flow_id, "flow-1");
        assert_eq!(v.action, ActionType::Registration);
        let path_only = &url["https://portal.example".len()..];
        assert_eq!(
            verify(KEY, path_only, BODY).expect("relative").flow_id,
            "flow-1"
        );
    }

    #[test]
    fn forgeries_are_refused() {
        let url = tag_redirect_url(
            KEY,
            "https://portal.example/cb",
            "flow-1",
            &ActionType::Registration,
        )
        .expect("tag");
        let cases = [
            verify(b"another-key-0123456789", &url, BODY),
            verify(KEY, &url.replace("flow-1", "flow-2"), BODY),
            verify(KEY, &url.replace("REGISTRATION", "GET_AGENT_CONSENT"), BODY),
            verify(KEY, "https://portal.example/cb", BODY),
            verify(KEY, &format!("{url}&ctt_flow=x"), BODY),
            verify(KEY, &url, "{not json"),
            verify(KEY, &url, "{}"),
        ];
        for c in cases {
            assert_eq!(
                c.expect_err("refused").code(),
                crate::ErrorCode::CallbackInvalid
            );
        }
        assert_eq!(
            verify(b"short", &url, BODY).expect_err("short key").code(),
            crate::ErrorCode::InvalidInput
        );
    }
}
