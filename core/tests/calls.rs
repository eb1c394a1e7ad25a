//! `Client::call` against the in-process simulator: every `ClientCall` performs its method and
//! answers with that method's result, serialized; an error keeps its code.

mod common;

use common::*;
use ctt_onboard::client::ClientCall;
use ctt_onboard::{ActionType, CallbackPayload, ErrorCode, NewEnterprise, Service};
use serde_json::{Value, json};

const REDIRECT: &str = "https://portal.example/ctt/callback";

async fn call(client: &ctt_onboard::Client, value: Value) -> Value {
    let call = ClientCall::from_value(value.clone()).expect("a well-formed call");
    client
        .call(call)
        .await
        .unwrap_or_else(|e| panic!("{value}: {e}"))
}

#[tokio::test]
async fn every_call_answers_what_its_method_returns() {
    let sim = sim();
    let client = client(&sim);

    let user = call(&client, json!({"call": "authenticatedUser"})).await;
    let direct = client.authenticated_user().await.expect("user");
    assert_eq!(user, serde_json::to_value(&direct).expect("json"));
    assert_eq!(user["resellerId"], 54);
    assert_eq!(call(&client, json!({"call": "resellerId"})).await, 54);

    let gateways = call(&client, json!({"call": "sbcGateways", "resellerId": 54})).await;
    assert_eq!(gateways[0]["sbcGatewayId"], 5678);
    let pbx = call(&client, json!({"call": "pbxTypes", "resellerId": 54})).await;
    assert_eq!(
        pbx,
        serde_json::to_value(client.pbx_types(54).await.expect("pbx")).expect("json")
    );

    let enterprise = NewEnterprise::new("Acme Ltd", vec![Service::Sms]);
    let id = call(
        &client,
        json!({"call": "createEnterprise", "enterprise": enterprise}),
    )
    .await;
    assert!(id.as_i64().is_some_and(|id| id >= 123_456_789), "{id}");
    let found = json!({"call": "findEnterprise", "resellerId": 54, "name": "Acme Ltd"});
    assert_eq!(call(&client, found).await["enterpriseId"], id);
    let missing = json!({"call": "findEnterprise", "resellerId": 54, "name": "Nobody"});
    assert_eq!(call(&client, missing).await, Value::Null);
    let list = call(&client, json!({"call": "enterprises", "resellerId": 54})).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    let registration = json!({"call": "actionItemUrl", "action": "REGISTRATION",
        "enterpriseName": "Acme Ltd", "redirectUrl": REDIRECT});
    let url = call(&client, registration).await;
    let url = url.as_str().expect("a URL");
    let callback = sim.approve(url, "fabrikam").await.expect("approve");
    let payload = CallbackPayload::parse(&callback.body.to_string()).expect("payload");
    let auth = serde_json::to_value(payload.authentication_result()).expect("json");
    let info = call(&client, json!({"call": "o365UserInfo", "auth": auth})).await;
    assert_eq!(info["containsTeamsTenantAdminAPI"], false);
    let provision = json!({"call": "provisionTenantAdminApi", "auth": auth});
    assert_eq!(call(&client, provision).await, Value::Null);
    let info = call(&client, json!({"call": "o365UserInfo", "auth": auth})).await;
    assert_eq!(info["containsTeamsTenantAdminAPI"], true);

    let tenant = payload.tenant_id().expect("tenant").to_owned();
    let consent = ClientCall::UpdateManagementConsent {
        auth: payload.authentication_result().clone(),
        reseller_id: 54,
        tenant_id: tenant,
    };
    let refused = client
        .call(consent.clone())
        .await
        .expect_err("not granted yet");
    assert_eq!(refused.code(), ErrorCode::InvalidInput);
    let url = client
        .action_item_url(
            &ActionType::GetServiceProviderManagementConsent,
            "Acme Ltd",
            REDIRECT,
        )
        .await
        .expect("consent url");
    sim.approve(&url, "fabrikam")
        .await
        .expect("approve consent");
    assert_eq!(client.call(consent).await.expect("recorded"), Value::Null);
    assert!(sim.enterprises()[0].managed_by_provider);
}

#[tokio::test]
async fn a_call_refused_before_sending_keeps_its_code_and_sends_nothing() {
    let sim = sim();
    let client = client(&sim);
    let before = sim.requests().len();
    let e = client
        .call(ClientCall::SbcGateways { reseller_id: 0 })
        .await
        .expect_err("id 0");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(e.message().contains("reseller_id"), "{}", e.message());
    assert_eq!(sim.requests().len(), before);
}

/// The simulator's control calls (`ctt_sim::SimCall`) drive an approval end to end: the callback
/// a host reads back is the one posted, as a value and as its exact text.
#[tokio::test]
async fn the_simulator_approves_through_its_call() {
    use ctt_sim::{SimCall, SimHandle, SimOptions};
    let handle = SimHandle::start(SimOptions::default()).expect("simulator");
    let c = handle.credentials();
    let client = ctt_onboard::Client::builder()
        .base_url(handle.base_url())
        .reseller_credentials(ctt_onboard::Credentials::new(
            &c.client_id,
            c.client_secret.as_str(),
            &c.username,
            c.password.as_str(),
        ))
        .build()
        .expect("client");
    let enterprise = NewEnterprise::new("Acme Ltd", vec![Service::Sms]);
    client.create_enterprise(&enterprise).await.expect("create");
    let url = client
        .action_item_url(&ActionType::Registration, "Acme Ltd", REDIRECT)
        .await
        .expect("registration url");
    let sim = |value: Value| {
        let call = SimCall::from_value(value).expect("a well-formed call");
        let handle = handle.clone();
        async move { handle.call(call).await }
    };
    let redirect = sim(json!({"call": "redirectUrlOf", "url": url})).await;
    assert_eq!(redirect, Ok(json!(REDIRECT)));
    let approved = sim(json!({"call": "approve", "url": url, "tenant": "fabrikam"}))
        .await
        .expect("approved");
    assert_eq!(approved["url"], REDIRECT);
    let text = approved["bodyText"].as_str().expect("bodyText");
    assert_eq!(
        serde_json::from_str::<Value>(text).ok().as_ref(),
        Some(&approved["body"])
    );
    let payload = CallbackPayload::parse(text).expect("a callback payload");
    assert!(payload.is_global_admin());
    let unknown = sim(json!({"call": "approve", "url": url, "tenant": "initech"})).await;
    assert_eq!(
        unknown.map_err(|e| e.code()),
        Err("invalid_input"),
        "an unknown tenant"
    );
    handle.close();
}

/// The benchmarks' probe sends nothing and answers its echo, after its wake-ups.
#[tokio::test]
async fn the_probe_answers_its_echo_without_a_request() {
    let sim = sim();
    let client = client(&sim);
    let echo = json!([{"sbcGatewayId": 5678}, "two", null]);
    for hops in [0, 3] {
        let probe = json!({"call": "__probe", "hops": hops, "echo": echo});
        assert_eq!(call(&client, probe).await, echo);
    }
    assert!(sim.requests().is_empty(), "no request was sent");
}

/// The bindings' tests' failing call: any code, with its status, request id and wait; or a panic.
#[tokio::test]
async fn the_fail_call_answers_the_error_it_describes() {
    let sim = sim();
    let client = client(&sim);
    let fail = json!({"call": "__fail", "code": "rate_limited", "message": "slow down",
        "status": 429, "requestId": "req-7", "retryAfterMs": 1500});
    let e = client
        .call(ClientCall::from_value(fail).expect("a well-formed call"))
        .await
        .expect_err("it fails");
    assert_eq!(e.code(), ErrorCode::RateLimited);
    assert_eq!(e.status(), Some(429));
    assert_eq!(e.request_id(), Some("req-7"));
    assert_eq!(
        e.retry_after(),
        Some(std::time::Duration::from_millis(1500))
    );
    assert!(e.message().contains("slow down"), "{e}");
    let panics = ClientCall::from_value(
        json!({"call": "__fail", "code": "api", "message": "x", "panic": true}),
    )
    .expect("a well-formed call");
    let caught = ctt_onboard::__bindings::catch_panic(client.call(panics)).await;
    assert_eq!(caught.expect_err("it panicked").code(), ErrorCode::Api);
    assert!(sim.requests().is_empty(), "no request was sent");
}
