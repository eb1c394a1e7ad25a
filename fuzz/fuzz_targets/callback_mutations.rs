//! Callbacks that start genuine: a correctly tagged URL for the ask a flow waits for and a
//! well-formed Global Admin body, then mutated (bytes of the URL flipped, inserted or cut, the
//! body replaced, edited or its fields changed). Whatever the mutation, no panic; a refusal leaves
//! the flow as it was; and an accepted callback's URL says exactly what the genuine one said (the
//! same portal URL, flow, action, nonce, time and key), so no mutation of a URL slips past its tag.
#![no_main]

use ctt_onboard::callback::{Ask, PARAMS, tag_redirect_url};
use ctt_onboard::{ActionType, CallbackKeys, NewEnterprise, Onboarding, OnboardingPlan, Service};
use libfuzzer_sys::fuzz_target;
use std::time::{SystemTime, UNIX_EPOCH};

const KEY: &[u8] = b"fuzz-callback-key-0123456789";
const REDIRECT: &str = "https://portal.example/ctt/cb?portal=7&x=a%20b";
const BODY: &str = r#"{"msalAuthenticationResult":{"authenticationResult":{"accessToken":"opaque-token","expiresOn":4102444800000000,"userInfo":{"displayableId":"admin@contoso.example","tenantId":"7c9e6679-7425-40de-944b-e07fc1f90ae7"}}},"organization":"MSFT","officeUserType":"GLOBAL_ADMIN","companyAdmin":true,"containsTeamsTenantAdminAPI":true}"#;

/// What a URL says, decoded: the portal's part (scheme, host, path, its raw query, less the empty
/// segments that no query parser reads) and the flow's parameters.
fn meaning(url: &str) -> Option<(String, Vec<(String, String)>)> {
    // A path and query (or a scheme-relative URL) is read against the portal's URL, as
    // `handle_callback` reads what a router saw.
    let u = url::Url::parse(url)
        .or_else(|_| url::Url::parse(REDIRECT).and_then(|base| base.join(url)))
        .ok()?;
    let portal: Vec<&str> = u
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !PARAMS.contains(&p.split('=').next().unwrap_or("")))
        .collect();
    let mut ours: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| PARAMS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    ours.sort();
    Some((
        format!("{}://{}{}?{}", u.scheme(), u.host_str()?, u.path(), portal.join("&")),
        ours,
    ))
}

fn waiting_flow(now: u64) -> Option<(Onboarding, String)> {
    let plan = OnboardingPlan::new(NewEnterprise::new("Fuzz", vec![Service::Sms]), REDIRECT);
    let flow = Onboarding::new(plan).ok()?;
    let mut v: serde_json::Value = serde_json::from_str(&flow.to_json().ok()?).ok()?;
    let nonce = "0123456789abcdef0123456789abcdef";
    v["awaiting"] = serde_json::json!({
        "step": "registration", "action": "REGISTRATION",
        "url": "https://login.example/authorize", "nonce": nonce, "issued_at": now,
    });
    let flow = Onboarding::from_json(&v.to_string()).ok()?;
    let keys = CallbackKeys::single(KEY).ok()?;
    let ask = Ask {
        flow_id: flow.id().to_owned(),
        action: ActionType::Registration,
        nonce: nonce.into(),
        issued_at: now,
        key_id: String::new(),
    };
    let url = tag_redirect_url(&keys, REDIRECT, &ask).ok()?;
    Some((flow, url))
}

fuzz_target!(|data: &[u8]| {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (Some((flow, genuine_url)), Ok(keys)) = (waiting_flow(now), CallbackKeys::single(KEY))
    else {
        return;
    };
    let (op, rest) = data.split_first().unwrap_or((&0, &[]));
    let at = |len: usize| -> usize {
        match rest.first() {
            Some(b) if len > 0 => usize::from(*b) * len / 256,
            _ => 0,
        }
    };
    let payload = String::from_utf8_lossy(rest.get(1..).unwrap_or(&[])).into_owned();
    let mut url = genuine_url.clone().into_bytes();
    let mut body = BODY.to_owned().into_bytes();
    match op % 8 {
        0 => {
            let i = at(url.len());
            url[i] ^= rest.get(1).copied().unwrap_or(1).max(1);
        }
        1 => {
            let i = at(url.len() + 1);
            url.splice(i..i, payload.bytes());
        }
        2 => {
            let i = at(url.len());
            let n = rest.get(1).map_or(1, |b| usize::from(*b % 16) + 1);
            url.drain(i..(i + n).min(url.len()));
        }
        3 => body = payload.into_bytes(),
        4 => {
            let i = at(body.len() + 1);
            body.splice(i..i, payload.bytes());
        }
        5 => {
            let i = at(body.len());
            body[i] ^= rest.get(1).copied().unwrap_or(1).max(1);
        }
        6 => {
            // A field of the body set to a value of the input's choosing.
            if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(BODY) {
                let fields = ["organization", "officeUserType", "companyAdmin", "containsTeamsTenantAdminAPI"];
                let f = fields[at(fields.len())];
                v[f] = serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload));
                body = v.to_string().into_bytes();
            }
        }
        _ => {
            let i = at(url.len() + 1);
            url.splice(i..i, b"&".iter().copied().chain(payload.bytes()));
        }
    }
    let url = String::from_utf8_lossy(&url).into_owned();
    let body = String::from_utf8_lossy(&body).into_owned();
    let _ = ctt_onboard::verify_callback(&keys, &url, &body);
    let mut judged = flow.clone();
    match judged.handle_callback(&keys, &url, &body) {
        Err(_) => assert_eq!(judged, flow, "a refused callback changed the flow"),
        Ok(_) => assert_eq!(
            meaning(&url),
            meaning(&genuine_url),
            "an accepted URL says something the genuine one did not: {url}"
        ),
    }
});
