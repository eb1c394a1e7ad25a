//! The HTTP face of the simulator: the vendor's endpoints, the consent page and the inspection API.
//!
//! Handlers parse and format only; the rules live in `state.rs`. Bodies are read as bytes and
//! parsed here so that a bad body gets the vendor-style 400 naming the field, not a framework error.

use crate::state::{GATEWAYS, Level, PBX_TYPES, SimError, TENANTS};
use crate::{App, FaultConfig};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/reseller/getAuthenticatedUser", put(authenticated_user))
        .route(
            "/reseller/getAvailableSBCGatewayRegionsByResellerId/{reseller_id}",
            get(sbc_gateways),
        )
        .route("/pbx/getPBXTypesByResellerId", get(pbx_types))
        .route("/reseller/newEnterprise", post(new_enterprise))
        .route("/enterprise/getActionItemUrl", post(action_item_url))
        .route("/provisioning/getO365UserInfo", post(o365_user_info))
        .route(
            "/provisioning/provisionTenantAdminAPI",
            post(provision_tenant_admin_api),
        )
        .route(
            "/enterprise/updateEnterpriseManagementConsentByReseller",
            post(update_management_consent),
        )
        .route("/reseller/v3/getEnterprisesForReseller", get(enterprises))
        .route("/common/oauth2/v2.0/authorize", get(consent_page))
        .route("/restricted/handleResponse", post(consent_answer))
        .route("/_sim/state", get(sim_state))
        .route("/_sim/clock", post(sim_clock))
        .route("/_sim/faults", post(sim_faults))
        .route("/_sim/canned", post(sim_canned))
        .route("/_sim/approve", post(sim_approve))
        .fallback(|| async {
            error(SimError {
                status: 404,
                message: "no such endpoint".into(),
            })
        })
        .with_state(app)
}

fn error(e: SimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({
        "status": e.status,
        "error": status.canonical_reason().unwrap_or("Error"),
        "message": e.message,
    });
    (status, axum::Json(body)).into_response()
}

fn oauth_error(e: SimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let (code, description) = e
        .message
        .split_once(": ")
        .unwrap_or(("invalid_request", e.message.as_str()));
    (
        status,
        axum::Json(serde_json::json!({"error": code, "error_description": description})),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(|s| s.trim().to_owned())
}

fn json_body(body: &Bytes) -> Result<serde_json::Value, SimError> {
    serde_json::from_slice(body).map_err(|e| SimError {
        status: 400,
        message: format!("the body is not valid JSON: {e}"),
    })
}

async fn token(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        // RFC 6749 §2.3.1: the id and the secret were each form-encoded before being joined
        // with ':', so the first ':' splits them and each is form-decoded.
        .and_then(|s| {
            let (id, secret) = s.split_once(':')?;
            Some((form_decode(id)?, form_decode(secret)?))
        });
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let result = app.world(|w| w.issue_token(basic, &form));
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => oauth_error(e),
    }
}

/// Decodes one `application/x-www-form-urlencoded` value (`+` is a space, `%XX` a byte);
/// `None` when it is not UTF-8 or a `%` is not followed by two hex digits.
fn form_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = value.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

async fn authenticated_user(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = bearer(&headers);
    let text = String::from_utf8_lossy(&body)
        .trim()
        .trim_matches('"')
        .to_owned();
    app.world(|w| {
        w.check_token(token.as_deref(), Level::Reseller, None)?;
        if !text.is_empty() && text != w.credentials.username {
            return crate::state::fail(403, "the username in the body is not the token's user");
        }
        Ok(w.authenticated_user())
    })
    .map(|v| axum::Json(v).into_response())
    .unwrap_or_else(error)
}

async fn sbc_gateways(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(reseller_id): Path<String>,
) -> Response {
    let token = bearer(&headers);
    app.world(|w| {
        w.check_token(token.as_deref(), Level::Reseller, None)?;
        let rid: i64 = reseller_id.parse().map_err(|_| SimError {
            status: 400,
            message: format!("resellerId {reseller_id:?} is not a number"),
        })?;
        w.check_reseller(rid)?;
        let list: Vec<_> = GATEWAYS
            .iter()
            .map(|(id, region)| serde_json::json!({"sbcGatewayId": id, "sbcGatewayRegion": region}))
            .collect();
        Ok(serde_json::Value::Array(list))
    })
    .map(|v| axum::Json(v).into_response())
    .unwrap_or_else(error)
}

fn reseller_query(q: &HashMap<String, String>) -> Result<i64, SimError> {
    match q.get("resellerId") {
        Some(v) => v.parse().map_err(|_| SimError {
            status: 400,
            message: format!("resellerId {v:?} is not a number"),
        }),
        None => Err(SimError {
            status: 400,
            message: "resellerId is required".into(),
        }),
    }
}

async fn pbx_types(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = bearer(&headers);
    app.world(|w| {
        w.check_token(token.as_deref(), Level::Reseller, None)?;
        w.check_reseller(reseller_query(&q)?)?;
        let list: Vec<_> = PBX_TYPES
            .iter()
            .map(|(id, name, label, default, disabled, hosting)| {
                serde_json::json!({"id": id, "pbxName": name, "pbxLabel": label, "isDefault": default,
                    "isDisabled": disabled, "hostingType": hosting})
            })
            .collect();
        Ok(serde_json::Value::Array(list))
    })
    .map(|v| axum::Json(v).into_response())
    .unwrap_or_else(error)
}

async fn new_enterprise(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let token = bearer(&headers);
    app.world(|w| {
        w.check_token(token.as_deref(), Level::Reseller, None)?;
        let body = json_body(&body)?;
        w.create_enterprise(&body)
    })
    .map(|id| ([(header::CONTENT_TYPE, "application/json")], id.to_string()).into_response())
    .unwrap_or_else(error)
}

async fn action_item_url(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let token = bearer(&headers);
    let base = app.base_url.clone();
    app.world(|w| {
        w.check_token(token.as_deref(), Level::Reseller, None)?;
        let body = json_body(&body)?;
        w.action_item_url(&base, &body)
    })
    .map(|url| ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], url).into_response())
    .unwrap_or_else(error)
}

async fn o365_user_info(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let token = bearer(&headers);
    app.world(|w| {
        let body = json_body(&body)?;
        let tenant_hint = body
            .pointer("/authenticationResult/userInfo/tenantId")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        w.check_token(token.as_deref(), Level::Enterprise, tenant_hint.as_deref())?;
        let tenant = w.msal_tenant(&body)?;
        Ok(w.o365_user_info(&tenant))
    })
    .map(|v| axum::Json(v).into_response())
    .unwrap_or_else(error)
}

async fn provision_tenant_admin_api(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = bearer(&headers);
    app.world(|w| {
        let body = json_body(&body)?;
        let tenant_hint = body
            .pointer("/authenticationResult/userInfo/tenantId")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        w.check_token(token.as_deref(), Level::Enterprise, tenant_hint.as_deref())?;
        let tenant = w.msal_tenant(&body)?;
        w.provision_tenant_admin_api(&tenant);
        Ok(())
    })
    .map(|()| StatusCode::OK.into_response())
    .unwrap_or_else(error)
}

async fn update_management_consent(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = bearer(&headers);
    app.world(|w| {
        w.check_token(token.as_deref(), Level::Reseller, None)?;
        let body = json_body(&body)?;
        w.update_management_consent(&body)
    })
    .map(|()| StatusCode::OK.into_response())
    .unwrap_or_else(error)
}

async fn enterprises(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = bearer(&headers);
    app.world(|w| {
        w.check_token(token.as_deref(), Level::Reseller, None)?;
        let rid = reseller_query(&q)?;
        w.check_reseller(rid)?;
        let number = |name: &str, default: u64| match q.get(name) {
            None => Ok(default),
            Some(v) => v.parse::<u64>().map_err(|_| SimError {
                status: 400,
                message: format!("{name} {v:?} is not a non-negative number"),
            }),
        };
        let page = number("page", 0)?;
        let size = number("size", crate::state::DEFAULT_PAGE_SIZE)?;
        Ok(w.enterprise_list(rid, page, size))
    })
    .map(|v| axum::Json(v).into_response())
    .unwrap_or_else(error)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The simulated Microsoft consent screen: pick the admin who signs in, then Accept or Cancel.
async fn consent_page(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let state = params.get("state").cloned().unwrap_or_default();
    let summary = app
        .world(|w| Ok::<_, SimError>(w.pending_summary(&state)))
        .ok()
        .flatten();
    let Some((action, enterprise)) = summary else {
        return (
            StatusCode::BAD_REQUEST,
            Html("<h1>Unknown or expired sign-in request</h1>".to_owned()),
        )
            .into_response();
    };
    let mut radios = String::new();
    for (i, t) in TENANTS.iter().enumerate() {
        radios.push_str(&format!(
            "<label class=\"admin\"><input type=\"radio\" name=\"tenant\" value=\"{key}\" id=\"tenant-{key}\"{checked}> \
             <strong>{admin}</strong> <small>({key}: {desc})</small></label><br>\n",
            key = t.key,
            admin = escape(&t.admin),
            desc = escape(t.description),
            checked = if i == 0 { " checked" } else { "" },
        ));
    }
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in to your account (simulated)</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:3em auto}}.admin{{line-height:2}}</style></head><body>\
         <h1>Microsoft (simulated)</h1>\
         <p>ConnecttoTeams requests <strong id=\"action\">{action}</strong> for enterprise <strong id=\"enterprise\">{enterprise}</strong>.</p>\
         <form method=\"post\" action=\"/restricted/handleResponse\">\
         <input type=\"hidden\" name=\"state\" value=\"{state}\">\
         <p>Pick an account:</p>{radios}\
         <p><button type=\"submit\" name=\"decision\" value=\"accept\" id=\"accept\">Accept</button> \
         <button type=\"submit\" name=\"decision\" value=\"cancel\" id=\"cancel\">Cancel</button></p>\
         </form></body></html>",
        action = escape(&action),
        enterprise = escape(&enterprise),
        state = escape(&state),
    );
    Html(html).into_response()
}

/// The consent screen's answer: on Accept, post the callback to the redirect URL, then send the
/// browser there (303).
async fn consent_answer(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let state = form.get("state").cloned().unwrap_or_default();
    let tenant = form.get("tenant").cloned().unwrap_or_default();
    let Some(redirect) = app
        .world(|w| Ok::<_, SimError>(w.redirect_for(&state)))
        .ok()
        .flatten()
    else {
        return (
            StatusCode::BAD_REQUEST,
            Html("<h1>Unknown or expired sign-in request</h1>".to_owned()),
        )
            .into_response();
    };
    if form.get("decision").map(String::as_str) != Some("accept") {
        return Redirect::to(&redirect).into_response();
    }
    match app.world(|w| w.approve(&state, &tenant)) {
        Ok(callback) => {
            crate::post_callback(&callback).await;
            Redirect::to(&callback.url).into_response()
        }
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            Html(format!(
                "<h1>Sign-in failed</h1><p>{}</p>",
                escape(&e.message)
            )),
        )
            .into_response(),
    }
}

async fn sim_state(State(app): State<Arc<App>>) -> Response {
    axum::Json(app.snapshot()).into_response()
}

async fn sim_clock(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let secs = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("advance_secs").and_then(|s| s.as_u64()));
    match secs {
        Some(s) => {
            app.advance_clock(std::time::Duration::from_secs(s));
            axum::Json(app.snapshot()["now_unix"].clone()).into_response()
        }
        None => error(SimError {
            status: 400,
            message: "advance_secs is required".into(),
        }),
    }
}

/// Reads a control body as `T` and applies it: 204, or 400 naming what is wrong.
fn control<T: serde::de::DeserializeOwned>(
    body: &Bytes,
    what: &str,
    apply: impl FnOnce(T),
) -> Response {
    match serde_json::from_slice::<T>(body) {
        Ok(value) => {
            apply(value);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => error(SimError {
            status: 400,
            message: format!("bad {what}: {e}"),
        }),
    }
}

async fn sim_faults(State(app): State<Arc<App>>, body: Bytes) -> Response {
    control(&body, "fault config", |f: FaultConfig| app.set_faults(f))
}

async fn sim_canned(State(app): State<Arc<App>>, body: Bytes) -> Response {
    control(&body, "canned response", |c: crate::CannedResponse| {
        app.set_canned(c)
    })
}

/// `{"url": "<action item URL>", "tenant": "contoso"}`: acts as that tenant's admin on the URL
/// and answers the callback (`{"url", "body"}`) without posting it anywhere, for drivers in
/// other processes (the crash soak, benchmarks).
async fn sim_approve(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let request: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(SimError {
                status: 400,
                message: format!("the body is not valid JSON: {e}"),
            });
        }
    };
    let (Some(url), Some(tenant)) = (request["url"].as_str(), request["tenant"].as_str()) else {
        return error(SimError {
            status: 400,
            message: "url and tenant are required".into(),
        });
    };
    let state = url::Url::parse(url).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
    });
    let Some(state) = state else {
        return error(SimError {
            status: 400,
            message: "url has no state parameter".into(),
        });
    };
    match app.world(|w| w.approve(&state, tenant)) {
        Ok(callback) => axum::Json(serde_json::json!({"url": callback.url, "body": callback.body}))
            .into_response(),
        Err(e) => error(e),
    }
}
