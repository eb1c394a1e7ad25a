//! Hostile and bad input: the caller's mistakes are refused before anything is sent, the
//! server's oddities become `decode` errors naming the problem, and neither changes a flow.

mod common;

use common::*;
use ctt_onboard::{
    ActionType, Client, ErrorCode, NewEnterprise, Onboarding, OnboardingPlan, Service,
};
use ctt_sim::CannedResponse;

#[tokio::test]
async fn the_callers_bad_input_is_refused_and_nothing_is_sent() {
    let sim = sim();
    let client = client(&sim);
    let trunk = |name: &str| NewEnterprise {
        sbc_gateways: vec![5678],
        ..NewEnterprise::new(name, vec![Service::Trunk])
    };
    let cases: Vec<(&str, NewEnterprise, &str)> = vec![
        ("blank name", trunk("   "), "enterpriseName"),
        (
            "oversized name",
            trunk(&"n".repeat(10_000)),
            "enterpriseName",
        ),
        ("control character", trunk("Acme\u{0}Ltd"), "enterpriseName"),
        ("no services", NewEnterprise::new("A", vec![]), "services"),
        (
            "malformed service",
            NewEnterprise::new("A", vec![Service::Other("PBX; DROP".into())]),
            "services",
        ),
        (
            "empty service",
            NewEnterprise::new("A", vec![Service::Other(String::new())]),
            "services",
        ),
        (
            "oversized service",
            NewEnterprise::new("A", vec![Service::Other("S".repeat(500))]),
            "services",
        ),
        (
            "gateway missing",
            NewEnterprise::new("A", vec![Service::Pbx]),
            "sbcGateways",
        ),
        (
            "negative gateway",
            NewEnterprise {
                sbc_gateways: vec![-1],
                ..NewEnterprise::new("A", vec![Service::Trunk])
            },
            "sbcGateways",
        ),
        (
            "zero PBX type",
            NewEnterprise {
                pbx_id: vec![0],
                ..NewEnterprise::new("A", vec![Service::CallApp])
            },
            "pbxId",
        ),
        (
            "negative reseller",
            NewEnterprise {
                reseller_id: Some(-4),
                ..NewEnterprise::new("A", vec![Service::Sms])
            },
            "resellerId",
        ),
    ];
    for (what, enterprise, field) in cases {
        let err = client.create_enterprise(&enterprise).await.expect_err(what);
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{what}");
        assert!(err.message().contains(field), "{what}: {err}");
        assert!(
            err.message().len() < 400,
            "{what}: the message does not echo oversized input"
        );
    }
    let urls = [
        ("public http", "http://portal.example/cb".to_owned()),
        ("private-range http", "http://192.168.1.10/cb".to_owned()),
        ("javascript", "javascript:alert(1)".to_owned()),
        ("relative", "/cb".to_owned()),
        (
            "oversized",
            format!("https://portal.example/{}", "a".repeat(5000)),
        ),
    ];
    for (what, url) in &urls {
        let err = client
            .action_item_url(&ActionType::Registration, "A", url)
            .await
            .expect_err(what);
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{what}");
        assert!(err.message().contains("redirectUrl"), "{what}: {err}");
    }
    assert!(
        sim.requests().is_empty(),
        "nothing was sent: {:?}",
        sim.requests()
    );
}

#[tokio::test]
async fn an_unknown_but_well_formed_service_passes_through_and_the_api_names_it() {
    // Open enums let a new vendor service through; the simulator, like the vendor, refuses it.
    let sim = sim();
    let client = client(&sim);
    let err = client
        .create_enterprise(&NewEnterprise::new("A", vec![Service::Other("FAX".into())]))
        .await
        .expect_err("refused by the API");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(err.status(), Some(400));
    assert!(err.message().contains("FAX"), "{err}");
}

fn canned(prefix: &str, content_type: &str, body: String) -> CannedResponse {
    CannedResponse {
        path_prefix: prefix.into(),
        status: 200,
        content_type: content_type.into(),
        body,
    }
}

#[tokio::test]
async fn odd_answers_are_decode_errors_naming_the_problem() {
    let sim = sim();
    let client = client(&sim);
    client.reseller_id().await.expect("warm up the token");
    let gateways = "/reseller/getAvailableSBCGatewayRegionsByResellerId";
    let cases: Vec<(&str, CannedResponse, &str)> = vec![
        (
            "2 MiB body",
            canned(
                gateways,
                "application/json",
                format!("[{}]", "1,".repeat(1 << 20)),
            ),
            "cap",
        ),
        (
            "deeply nested",
            canned(gateways, "application/json", "[".repeat(100_000)),
            "not the documented JSON",
        ),
        (
            "HTML",
            canned(
                gateways,
                "text/html",
                "<html><body>Login</body></html>".into(),
            ),
            "not the documented JSON",
        ),
        (
            "wrong shape",
            canned(
                gateways,
                "application/json",
                r#"{"sbcGatewayId": "x"}"#.into(),
            ),
            "sbc_gateways",
        ),
        (
            "empty",
            canned(gateways, "application/json", String::new()),
            "not the documented JSON",
        ),
    ];
    for (what, response, expect) in cases {
        sim.set_canned(response);
        let err = client.sbc_gateways(54).await.expect_err(what);
        assert_eq!(err.code(), ErrorCode::Decode, "{what}: {err}");
        assert!(err.message().contains(expect), "{what}: {err}");
        assert!(err.message().len() < 2048, "{what}: message cut short");
    }
    sim.clear_canned();
    sim.set_canned(canned(
        "/reseller/newEnterprise",
        "text/plain",
        "<html>created</html>".into(),
    ));
    let err = client
        .create_enterprise(&NewEnterprise::new("A", vec![Service::Sms]))
        .await
        .expect_err("create");
    assert_eq!(err.code(), ErrorCode::Decode);
    assert!(err.message().contains("enterprise id"), "{err}");
    sim.set_canned(canned(
        "/enterprise/getActionItemUrl",
        "text/html",
        "<html>no</html>".into(),
    ));
    let err = client
        .action_item_url(&ActionType::Registration, "A", "https://portal.example/cb")
        .await
        .expect_err("url");
    assert_eq!(err.code(), ErrorCode::Decode);
    assert!(err.message().contains("not a URL"), "{err}");
    sim.set_canned(canned("/reseller/v3", "application/json", "{}".into()));
    let err = client.find_enterprise(54, "A").await.expect_err("list");
    assert_eq!(err.code(), ErrorCode::Decode);
    sim.set_canned(canned(
        "/oauth/token",
        "application/json",
        r#"{"token":"x"}"#.into(),
    ));
    let fresh = client_with_clock(&sim).0;
    let err = fresh.sbc_gateways(54).await.expect_err("token");
    assert_eq!(err.code(), ErrorCode::Decode);
    assert!(err.message().contains("token response"), "{err}");
}

#[tokio::test]
async fn bad_answers_and_bad_plans_leave_a_flow_unchanged() {
    let sim = sim();
    let client = client(&sim);
    let mut plan = OnboardingPlan::new(
        NewEnterprise::new("Steady", vec![Service::Trunk]),
        "https://portal.example/cb",
    );
    plan.gateway_regions = vec!["US-East".into()];
    let mut flow = Onboarding::new(plan).expect("flow");
    let before = flow.to_json().expect("json");
    sim.set_canned(canned(
        "/reseller/getAvailableSBCGatewayRegionsByResellerId",
        "application/json",
        "[".repeat(10_000),
    ));
    let err = flow.advance(&client).await.expect_err("decode");
    assert_eq!(err.code(), ErrorCode::Decode);
    assert_eq!(
        flow.to_json().expect("json"),
        before,
        "the stored state did not change"
    );
    let shown = flow
        .status()
        .into_iter()
        .find(|s| s.step == ctt_onboard::Step::SbcGateways)
        .expect("step");
    assert_eq!(
        shown.state,
        ctt_onboard::StepState::Failed,
        "status shows the failure while the value lives"
    );
    assert_eq!(shown.error_code, Some(ErrorCode::Decode));
    sim.clear_canned();
    assert!(matches!(
        flow.advance(&client).await.expect("recovers"),
        ctt_onboard::Progress::AwaitingAdmin { .. }
    ));

    // A plan that is wrong is refused before a flow exists.
    let mut plan = OnboardingPlan::new(
        NewEnterprise::new("X", vec![Service::Sms]),
        "http://portal.example/cb",
    );
    assert_eq!(
        Onboarding::new(plan.clone()).expect_err("http").code(),
        ErrorCode::InvalidInput
    );
    plan.redirect_url = format!("https://portal.example/{}", "p".repeat(3000));
    assert_eq!(
        Onboarding::new(plan).expect_err("long").code(),
        ErrorCode::InvalidInput
    );
    // Flow JSON that is not ours is refused.
    for bad in [
        "",
        "[]",
        "{\"schema\":1}",
        "{\"schema\":\"1\"}",
        &"[".repeat(50_000),
    ] {
        assert_eq!(
            Onboarding::from_json(bad).expect_err("bad json").code(),
            ErrorCode::InvalidInput
        );
    }
}

#[tokio::test]
async fn a_token_answer_that_is_not_the_error_json_is_withheld_from_errors() {
    let sim = sim();
    for body in [
        r#"{"access_token":"CANARY-opaque-77""#,
        "<html>CANARY-opaque-77</html>",
        "\"CANARY-opaque-77\"",
    ] {
        for status in [200u16, 400, 500] {
            sim.set_canned(ctt_sim::CannedResponse {
                path_prefix: "/oauth/token".into(),
                status,
                content_type: "text/plain".into(),
                body: body.into(),
            });
            let client = builder(&sim)
                .retry_policy(ctt_onboard::RetryPolicy::none())
                .build()
                .expect("client");
            let err = client.authenticated_user().await.expect_err("refused");
            let text = format!("{err} {err:?}");
            assert!(
                !text.contains("CANARY-opaque-77"),
                "{status} {body}: {text}"
            );
        }
    }
}

/// A canned answer with any status.
fn answer(prefix: &str, status: u16, content_type: &str, body: &str) -> CannedResponse {
    CannedResponse {
        path_prefix: prefix.into(),
        status,
        content_type: content_type.into(),
        body: body.into(),
    }
}

#[tokio::test]
async fn a_fetched_opaque_token_echoed_by_the_server_is_masked_in_json_and_html() {
    // An opaque (non-JWT) token, as Spring's default token store issues them, echoed by Spring's
    // stock "Invalid access token: <uuid>".
    const TOKEN: &str = "6f1c2a9e-canary-4b1d-9a77-0c2f5e8d1b3a";
    let sim = sim();
    sim.set_canned(answer(
        "/oauth/token",
        200,
        "application/json",
        &format!(r#"{{"access_token":"{TOKEN}","token_type":"bearer","expires_in":3600}}"#),
    ));
    let bodies = [
        (
            401,
            "application/json",
            format!(
                r#"{{"error":"invalid_token","error_description":"Invalid access token: {TOKEN}"}}"#
            ),
        ),
        (
            400,
            "application/json",
            format!(r#"{{"message":"bad request","details":["seen {TOKEN} twice"]}}"#),
        ),
        (
            502,
            "text/html",
            format!("<html><body><p>Invalid access token: {TOKEN}</p></body></html>"),
        ),
    ];
    for (status, content_type, body) in bodies {
        sim.set_canned(answer("/pbx", status, content_type, &body));
        let client = builder(&sim)
            .retry_policy(ctt_onboard::RetryPolicy::none())
            .build()
            .expect("client");
        let err = client.pbx_types(54).await.expect_err("refused");
        let text = format!("{err} {err:?}");
        assert!(!text.contains(TOKEN), "{status}: the token leaked: {text}");
        assert!(
            text.contains("***"),
            "{status}: masked, not dropped: {text}"
        );
    }
}

#[tokio::test]
async fn the_calls_msal_tokens_are_masked_in_error_bodies() {
    const ACCESS: &str = "msal-opaque-canary-access-0042";
    const ID: &str = "msal-opaque-canary-id-0042";
    let sim = sim();
    let client = client(&sim);
    let auth = ctt_onboard::AuthenticationResult {
        access_token: ACCESS.into(),
        id_token: Some(ID.into()),
        ..Default::default()
    };
    sim.set_canned(answer(
        "/provisioning",
        400,
        "application/json",
        &format!(r#"{{"message":"the token {ACCESS} (id {ID}) was not issued by Microsoft"}}"#),
    ));
    for err in [
        client.o365_user_info(&auth).await.expect_err("refused"),
        client
            .provision_tenant_admin_api(&auth)
            .await
            .expect_err("refused"),
    ] {
        let text = format!("{err} {err:?}");
        assert!(!text.contains(ACCESS) && !text.contains(ID), "{text}");
    }
    sim.set_canned(answer(
        "/enterprise/updateEnterprise",
        400,
        "text/html",
        &format!("<p>{ACCESS}</p>"),
    ));
    let err = client
        .update_management_consent(&auth, 54, "tenant")
        .await
        .expect_err("refused");
    assert!(!format!("{err} {err:?}").contains(ACCESS), "{err}");
}

#[tokio::test]
async fn proxy_passwords_and_base_url_userinfo_never_appear() {
    const PROXY_PW: &str = "CANARY-proxy-pw-9191";
    const BASE_PW: &str = "CANARY-base-pw-9191";
    const BASE_USER: &str = "CANARY-base-user-9191";
    let sim = sim();
    let with_userinfo =
        sim.base_url()
            .replacen("http://", &format!("http://{BASE_USER}:{BASE_PW}@"), 1);
    let builder = builder(&sim)
        .base_url(with_userinfo)
        .proxy(format!("http://proxy-user:{PROXY_PW}@127.0.0.1:9"));
    let client = builder.clone().build().expect("client");
    let mut texts = vec![
        format!("{builder:?}"),
        format!("{client:?}"),
        client.base_url().to_owned(),
    ];
    let err = client.pbx_types(54).await.expect_err("the proxy refuses");
    texts.push(format!("{err} {err:?}"));
    for bad in [
        Client::builder().proxy(format!("http://u:{PROXY_PW}@[not a host")),
        Client::builder().base_url(format!("http://{BASE_USER}:{BASE_PW}@api.example.com")),
        Client::builder().base_url(format!("ftp://{BASE_USER}:{BASE_PW}@api.example.com")),
        Client::builder().base_url(format!(
            "https://{BASE_USER}:{BASE_PW}@api.example.com/{}",
            "x".repeat(3000)
        )),
    ] {
        texts.push(format!("{bad:?}"));
        let err = bad.build().expect_err("refused");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        texts.push(format!("{err} {err:?}"));
    }
    for text in &texts {
        for secret in [PROXY_PW, BASE_PW, BASE_USER] {
            assert!(!text.contains(secret), "{secret} leaked into: {text}");
        }
    }
}

#[tokio::test]
async fn huge_token_lifetimes_never_panic_or_wrap() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let jwt = |exp: &str| {
        format!(
            "{}.{}.sig",
            b64.encode(r#"{"alg":"none"}"#),
            b64.encode(format!(r#"{{"exp":{exp}}}"#))
        )
    };
    let sim = sim();
    for token_answer in [
        r#"{"access_token":"opaque-1","expires_in":18446744073709551615}"#.to_owned(),
        r#"{"access_token":"opaque-2","expires_in":"18446744073709551615"}"#.to_owned(),
        r#"{"access_token":"opaque-3","expires_in":9223372036854775807}"#.to_owned(),
        format!(r#"{{"access_token":"{}"}}"#, jwt("18446744073709551615")),
        format!(r#"{{"access_token":"{}"}}"#, jwt("9223372036854775807")),
    ] {
        sim.set_canned(answer(
            "/oauth/token",
            200,
            "application/json",
            &token_answer,
        ));
        let client = builder(&sim)
            .retry_policy(ctt_onboard::RetryPolicy::none())
            .build()
            .expect("client");
        // The simulator does not know these tokens: an authentication error, not a panic.
        let err = client.pbx_types(54).await.expect_err("unknown token");
        assert_eq!(
            err.code(),
            ErrorCode::Authentication,
            "{token_answer}: {err}"
        );
    }
    for expires_on in [i64::MAX, i64::MAX - 1, 1, -1, i64::MIN] {
        let auth = ctt_onboard::AuthenticationResult {
            expires_on: Some(expires_on),
            ..Default::default()
        };
        let _ = auth.expires_at();
        let _ = auth.is_expired(std::time::SystemTime::now(), std::time::Duration::MAX);
    }
}
