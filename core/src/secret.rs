//! Secrets that must never be printed.
//!
//! Client secrets, passwords, bearer tokens and MSAL tokens travel through models that callers log,
//! print and wrap in errors. Holding each one in [`Secret`] makes the safe behaviour the default:
//! `Debug` and `Display` print a mask, and the value is only reachable through
//! [`Secret::expose`], which the HTTP layer calls at the moment it sends it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The mask printed in place of every secret.
pub const MASK: &str = "***";

/// A string that must not appear in logs, errors or debug output.
///
/// Serialization writes the real value: it is how a secret reaches the wire and how the MSAL
/// results are kept in a flow's JSON (which callers must store as they would store a token).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The real value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// JSON keys whose values are secrets wherever they appear in a body.
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "accesstoken",
    "refresh_token",
    "refreshtoken",
    "id_token",
    "idtoken",
    "password",
    "client_secret",
    "clientsecret",
    "secret",
    "token",
    "authorization",
];

/// Removes secrets from a response body before it becomes part of an error.
///
/// Values of secret-named JSON keys, JWT-shaped words and every value in `known` are replaced by
/// the mask; the result is cut to at most `limit` bytes on a character boundary.
///
/// A known value is masked wherever it stands: inside a JSON string (where the server may have
/// escaped it: Spring's stock `"Invalid access token: <token>"` is one), in HTML or plain text,
/// and in its form-encoded spelling. Opaque tokens (a UUID, say) have no shape to recognise, so
/// the client passes every token it holds for the call here.
pub(crate) fn redact_excerpt(body: &str, known: &[&str], limit: usize) -> String {
    let known: Vec<&str> = known.iter().copied().filter(|s| s.len() >= 4).collect();
    let mut text = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut value) => {
            redact_json(&mut value, &known);
            value.to_string()
        }
        Err(_) => redact_pairs(body),
    };
    for secret in &known {
        text = text.replace(secret, MASK);
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        if encoded != *secret {
            text = text.replace(&encoded, MASK);
        }
    }
    text = redact_jwts(&text);
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

fn redact_json(value: &mut serde_json::Value, known: &[&str]) {
    match value {
        serde_json::Value::Object(map) => {
            if known
                .iter()
                .any(|secret| map.keys().any(|k| k.contains(secret)))
            {
                // A secret used as a key: rebuild the object with masked keys.
                let entries = std::mem::take(map);
                for (k, v) in entries {
                    map.insert(mask_known(&k, known), v);
                }
            }
            for (key, v) in map.iter_mut() {
                if SECRET_KEYS.contains(&key.to_ascii_lowercase().as_str()) && !v.is_null() {
                    *v = serde_json::Value::String(MASK.to_owned());
                } else {
                    redact_json(v, known);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_json(v, known)),
        serde_json::Value::String(s) if known.iter().any(|secret| s.contains(secret)) => {
            *s = mask_known(s, known);
        }
        _ => {}
    }
}

fn mask_known(text: &str, known: &[&str]) -> String {
    known
        .iter()
        .fold(text.to_owned(), |t, secret| t.replace(secret, MASK))
}

/// `text` with the userinfo (`user:password@`) of every URL in it replaced by the mask, for
/// messages that quote a URL the caller gave (a base URL, a proxy) which may carry credentials.
/// Works on text that does not parse as a URL too.
pub(crate) fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#', whitespace or quote; its userinfo at
        // the last '@' inside it.
        let end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'' | '\\') || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                out.push_str(MASK);
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Masks the values of secret-named keys in text that is not JSON (cut-off JSON, form bodies,
/// HTML): `"access_token":"…`, `password=…`.
fn redact_pairs(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for key in SECRET_KEYS {
        let mut from = 0;
        while let Some(found) = lower[from..].find(key) {
            let key_end = from + found + key.len();
            from = key_end;
            let rest = &text[key_end..];
            let mut i = 0;
            let bytes = rest.as_bytes();
            while i < bytes.len() && matches!(bytes[i], b'"' | b'\'' | b' ') {
                i += 1;
            }
            if i >= bytes.len() || !matches!(bytes[i], b':' | b'=') {
                continue;
            }
            i += 1;
            while i < bytes.len() && matches!(bytes[i], b'"' | b'\'' | b' ') {
                i += 1;
            }
            let start = key_end + i;
            let len = text[start..]
                .find(['"', '\'', ',', '&', ';', '}', '<', '\n', ' '])
                .unwrap_or(text.len() - start);
            if len > 0 {
                spans.push((start, start + len));
            }
        }
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in spans {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Masks every word that looks like a JWT (`eyJ…` with two dots).
fn redact_jwts(text: &str) -> String {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("eyJ") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| !is_token_char(c)).unwrap_or(tail.len());
        let word = &tail[..end];
        if word.matches('.').count() >= 2 {
            out.push_str(MASK);
        } else {
            out.push_str(word);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_mask() {
        let s = Secret::new("canary-123");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "canary-123");
    }

    #[test]
    fn excerpt_masks_keys_jwts_and_known_values() {
        let body = r#"{"access_token":"abc","nested":{"idToken":"x"},"msg":"pw canary-pw and eyJa.eyJb.sig"}"#;
        let out = redact_excerpt(body, &["canary-pw"], 1024);
        assert!(!out.contains("abc"));
        assert!(!out.contains("canary-pw"));
        assert!(!out.contains("eyJa.eyJb.sig"));
        assert!(out.contains("msg"));
    }

    #[test]
    fn text_that_is_not_json_has_its_secret_pairs_masked() {
        for body in [
            r#"{"access_token":"opaque-canary-1""#,
            "grant=password&password=opaque-canary-1&x=1",
            "<p>refresh_token: opaque-canary-1</p>",
        ] {
            let out = redact_excerpt(body, &[], 1024);
            assert!(!out.contains("opaque-canary-1"), "{out}");
            assert!(out.contains(MASK), "{out}");
        }
        assert_eq!(
            redact_excerpt("no secrets: tokenless", &[], 1024),
            "no secrets: tokenless"
        );
    }

    #[test]
    fn known_values_are_masked_inside_json_strings_keys_and_encodings() {
        let token = "6f1c2a9e-4b1d/9a77+0c2f";
        let body = format!(
            r#"{{"error_description":"Invalid access token: {}","{token}":1,"q":"a={}"}}"#,
            token.replace('/', "\\/"),
            url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
        );
        let out = redact_excerpt(&body, &[token], 1024);
        assert!(!out.contains("6f1c2a9e"), "{out}");
        assert!(out.contains("Invalid access token: ***"), "{out}");
        let out = redact_excerpt(
            &format!("<p>Invalid access token: {token}</p>"),
            &[token],
            1024,
        );
        assert_eq!(out, "<p>Invalid access token: ***</p>");
    }

    #[test]
    fn userinfo_is_masked_in_urls_and_in_text_that_is_not_one() {
        assert_eq!(
            redact_userinfo("proxy \"http://u:pw@proxy:3128/x\" and https://a@b/c"),
            "proxy \"http://***@proxy:3128/x\" and https://***@b/c"
        );
        assert_eq!(
            redact_userinfo("http://u:pw@[not a host"),
            "http://***@[not a host"
        );
        assert_eq!(
            redact_userinfo("https://api.example/x"),
            "https://api.example/x"
        );
        assert_eq!(redact_userinfo("no url"), "no url");
    }

    #[test]
    fn excerpt_is_cut_on_a_char_boundary() {
        let body = "é".repeat(600);
        let out = redact_excerpt(&body, &[], 1024);
        assert!(out.len() <= 1024 + '…'.len_utf8());
    }
}
