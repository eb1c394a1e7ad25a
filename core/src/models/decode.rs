//! Tolerant decoders for the answers whose shape the vendor does not document (ASSUMED).
//!
//! Each accepts the shapes seen or plausible and fails as `decode` naming what it found, so a
//! change on the vendor's side shows up as a clear error rather than a wrong id.

use super::EnterpriseSummary;
use crate::error::{Error, Result};

/// Decodes the enterprise list, whose shape is ASSUMED: an array, or an object holding the array
/// under `content`, `enterprises`, `data` or `items`; each entry with `enterpriseId` or `id`.
pub fn decode_enterprise_list(body: &[u8]) -> Result<Vec<EnterpriseSummary>> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::decode(format!("enterprise list is not JSON: {e}")))?;
    let items = match &value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(map) => ["content", "enterprises", "data", "items"]
            .iter()
            .find_map(|k| map.get(*k).and_then(|v| v.as_array()))
            .ok_or_else(|| {
                Error::decode("enterprise list object has no content/enterprises/data/items array")
            })?,
        _ => {
            return Err(Error::decode(
                "enterprise list is neither an array nor an object",
            ));
        }
    };
    items
        .iter()
        .map(|item| {
            let id = item
                .get("enterpriseId")
                .or_else(|| item.get("id"))
                .and_then(json_i64)
                .ok_or_else(|| {
                    Error::decode("enterprise list entry has no numeric enterpriseId or id")
                })?;
            let name = item
                .get("enterpriseName")
                .or_else(|| item.get("name"))
                .and_then(|v| v.as_str())
                .ok_or_else(|| Error::decode("enterprise list entry has no enterpriseName"))?;
            let billing_references = item
                .get("billingReferences")
                .and_then(|v| v.as_array())
                .map(|refs| {
                    refs.iter()
                        .filter_map(|r| r.as_str().map(str::to_owned))
                        .collect()
                });
            Ok(EnterpriseSummary {
                enterprise_id: id,
                enterprise_name: name.to_owned(),
                billing_references,
            })
        })
        .collect()
}

fn json_i64(v: &serde_json::Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Decodes the new enterprise's id: a bare number, a quoted number, or an object with `id` /
/// `enterpriseId` (the vendor documents only the first).
pub fn decode_enterprise_id(body: &[u8]) -> Result<i64> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::decode("enterprise id response is not UTF-8"))?;
    let text = text.trim();
    if let Ok(id) = text.parse::<i64>() {
        return positive_id(id);
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => map
            .get("enterpriseId")
            .or_else(|| map.get("id"))
            .and_then(json_i64)
            .ok_or_else(|| Error::decode("enterprise id response object has no id"))
            .and_then(positive_id),
        Ok(v) => json_i64(&v)
            .ok_or_else(|| {
                Error::decode(format!(
                    "enterprise id response is not a number: {}",
                    excerpt(text)
                ))
            })
            .and_then(positive_id),
        Err(_) => Err(Error::decode(format!(
            "enterprise id response is not a number: {}",
            excerpt(text)
        ))),
    }
}

fn positive_id(id: i64) -> Result<i64> {
    if id > 0 {
        Ok(id)
    } else {
        Err(Error::decode(format!(
            "enterprise id response is {id}; ids are positive"
        )))
    }
}

/// Decodes an action item URL: bare text or a JSON string, and it must be an absolute URL.
pub fn decode_action_item_url(body: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::decode("action item URL response is not UTF-8"))?;
    let text = text.trim();
    let url = if text.starts_with('"') {
        serde_json::from_str::<String>(text).map_err(|e| {
            Error::decode(format!(
                "action item URL response is a broken JSON string: {e}"
            ))
        })?
    } else {
        text.to_owned()
    };
    match url::Url::parse(&url) {
        Ok(u) if u.scheme() == "https" => Ok(url),
        // The admin signs in on that page: plain http is accepted only on a loopback host (the
        // simulator), as for every other URL the client takes.
        Ok(u) if u.scheme() == "http" && crate::client::is_loopback(&u) => Ok(url),
        Ok(u) if u.scheme() == "http" => Err(Error::decode(format!(
            "action item URL response is plain http on a public host; only https is accepted: {}",
            excerpt(&url)
        ))),
        _ => Err(Error::decode(format!(
            "action item URL response is not a URL: {}",
            excerpt(&url)
        ))),
    }
}

fn excerpt(text: &str) -> String {
    crate::secret::redact_excerpt(text, &[], 200)
}
