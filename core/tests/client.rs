//! The core client against the in-process simulator: every endpoint, success and failure.

mod common;

use common::*;
use ctt_onboard::{
    ActionType, Client, Credentials, ErrorCode, NewEnterprise, RetryPolicy, Service,
};
use ctt_sim::{FaultConfig, FaultKind, SimConfig, SimCredentials};
use std::time::{Duration, Instant};

fn pbx_enterprise(name: &str) -> NewEnterprise {
    NewEnterprise {
        sbc_gateways: vec![5678],
        pbx_id: vec![1234],
        restrict_admin_access: Some(true),
        ..NewEnterprise::new(name, vec![Service::Pbx])
    }
}

const REDIRECT: &str = "https://portal.example/ctt/callback";

#[tokio::test]
async fn every_endpoint_succeeds_against_the_simulator() {
    let sim = sim();
    let client = client(&sim);

    let user = client
        .authenticated_user()
        .await
        .expect("authenticated user");
    assert_eq!(user.reseller_id, Some(54));
    assert_eq!(user.user_type.as_deref(), Some("RESELLER"));
    let rid = client.reseller_id().await.expect("reseller id");

    let gateways = client.sbc_gateways(rid).await.expect("gateways");
    assert_eq!(gateways[0].sbc_gateway_id, 5678);
    assert_eq!(gateways[0].sbc_gateway_region, "US-East");
    let pbx = client.pbx_types(rid).await.expect("pbx types");
    assert!(pbx.iter().any(|p| p.is_default && p.id == 1234));

    let id = client
        .create_enterprise(&pbx_enterprise("Acme Ltd"))
        .await
        .expect("create");
    assert!(id >= 123_456_789);
    let found = client
        .find_enterprise(rid, "Acme Ltd")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(found.enterprise_id, id);
    assert!(
        client
            .find_enterprise(rid, "Nobody")
            .await
            .expect("find")
            .is_none()
    );
    assert_eq!(client.enterprises(rid).await.expect("list").len(), 1);

    let url = client
        .action_item_url(&ActionType::Registration, "Acme Ltd", REDIRECT)
        .await
        .expect("registration url");
    assert!(url.contains("/common/oauth2/v2.0/authorize"), "{url}");
    let callback = sim.approve(&url, "fabrikam").await.expect("approve");
    assert_eq!(callback.url, REDIRECT);
    let payload = ctt_onboard::CallbackPayload::parse(&callback.body.to_string()).expect("payload");
    assert!(payload.is_global_admin());
    assert_eq!(payload.contains_teams_tenant_admin_api, Some(false));
    let auth = payload.authentication_result().clone();

    let info = client.o365_user_info(&auth).await.expect("o365 info");
    assert!(!info.contains_teams_tenant_admin_api);
    client
        .provision_tenant_admin_api(&auth)
        .await
        .expect("provision");
    assert!(
        client
            .o365_user_info(&auth)
            .await
            .expect("o365 info")
            .contains_teams_tenant_admin_api
    );

    // Management consent: refused until the admin granted it, then recorded.
    let tenant = payload.tenant_id().expect("tenant").to_owned();
    let err = client
        .update_management_consent(&auth, rid, &tenant)
        .await
        .expect_err("not granted");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
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
    client
        .update_management_consent(&auth, rid, &tenant)
        .await
        .expect("management consent");
    let e = &sim.enterprises()[0];
    assert!(e.managed_by_provider);
    assert_eq!(e.tenant_id.as_deref(), Some(tenant.as_str()));
    assert!(e.restrict_admin_access);
}

#[tokio::test]
async fn wrong_client_secret_and_wrong_password_are_authentication_errors() {
    let sim = sim();
    let c = sim.credentials().clone();
    for (secret, password, what) in [
        ("wrong", c.password.as_str(), "client secret"),
        (c.client_secret.as_str(), "wrong", "password"),
    ] {
        let client = Client::builder()
            .base_url(sim.base_url())
            .reseller_credentials(Credentials::new(
                &c.client_id,
                secret,
                &c.username,
                password,
            ))
            .build()
            .expect("client");
        let err = client.sbc_gateways(54).await.expect_err(what);
        assert_eq!(err.code(), ErrorCode::Authentication, "{what}: {err}");
        assert!(matches!(err.status(), Some(400 | 401)), "{what}: {err:?}");
        assert!(
            err.message().contains("reseller credentials were refused"),
            "{err}"
        );
        assert!(
            err.request_id().is_some(),
            "request id from the simulator's header"
        );
    }
    assert_eq!(sim.token_requests("reseller"), 0);
}

#[tokio::test]
async fn token_is_renewed_a_minute_before_expiry_without_a_401() {
    let sim = sim();
    let (client, clock) = client_with_clock(&sim);
    client.sbc_gateways(54).await.expect("first call");
    assert_eq!(sim.token_requests("reseller"), 1);
    client.pbx_types(54).await.expect("cached token");
    assert_eq!(sim.token_requests("reseller"), 1);
    // 59 minutes and a bit later: within the renewal minute, but still valid at the simulator.
    let step = Duration::from_secs(3545);
    clock.advance(step);
    sim.advance_clock(step);
    client.sbc_gateways(54).await.expect("renewed");
    assert_eq!(sim.token_requests("reseller"), 2);
    assert!(
        sim.requests().iter().all(|r| r.status != 401),
        "renewal must happen before any 401"
    );
}

#[tokio::test]
async fn a_401_fetches_a_new_token_and_repeats_once() {
    let sim = sim();
    let client = client(&sim);
    client.sbc_gateways(54).await.expect("first call");
    // The simulator's clock jumps past expiry; the client still believes its token is good.
    sim.advance_clock(Duration::from_secs(7200));
    client.sbc_gateways(54).await.expect("repeated after 401");
    assert_eq!(sim.token_requests("reseller"), 2);
    let statuses: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|r| r.path.contains("SBCGateway"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![200, 401, 200]);
}

#[tokio::test]
async fn a_caller_supplied_token_that_is_refused_is_not_retried() {
    let sim = sim();
    let client = Client::builder()
        .base_url(sim.base_url())
        .reseller_token("not-a-token")
        .build()
        .expect("client");
    let err = client.sbc_gateways(54).await.expect_err("refused");
    assert_eq!(err.code(), ErrorCode::Authentication);
    assert_eq!(err.status(), Some(401));
    assert_eq!(count(&sim, "/reseller"), 1);
}

#[tokio::test]
async fn fifty_concurrent_first_calls_fetch_one_token() {
    let sim = sim();
    let client = client(&sim);
    let calls = (0..50).map(|_| {
        let c = client.clone();
        async move { c.sbc_gateways(54).await }
    });
    let results = futures_join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(sim.token_requests("reseller"), 1);
}

async fn futures_join_all<F>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn retry_after_is_honoured_and_reported_when_retries_run_out() {
    let sim = sim_with(SimConfig {
        faults: FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::TooManyRequests],
            retry_after_secs: 1,
            paths: vec!["/pbx".into()],
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let client = builder(&sim)
        .retry_policy(RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        })
        .build()
        .expect("client");
    let started = Instant::now();
    let err = client.pbx_types(54).await.expect_err("rate limited");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(err.code(), ErrorCode::RateLimited);
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(count(&sim, "/pbx"), 2);
}

#[tokio::test]
async fn transient_faults_are_retried_until_success() {
    let sim = sim_with(SimConfig {
        faults: FaultConfig {
            rate: 0.5,
            seed: 7,
            kinds: vec![
                FaultKind::BadGateway,
                FaultKind::Unavailable,
                FaultKind::TruncatedBody,
                FaultKind::DropBeforeRead,
            ],
            retry_after_secs: 0,
            paths: vec!["/reseller/getAvailable".into()],
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let client = builder(&sim)
        .retry_policy(RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .build()
        .expect("client");
    for _ in 0..20 {
        assert_eq!(client.sbc_gateways(54).await.expect("eventually").len(), 3);
    }
    assert!(
        sim.requests().iter().any(|r| r.fault.is_some()),
        "some requests were faulted"
    );
}

#[tokio::test]
async fn server_errors_until_retries_run_out() {
    let sim = sim_with(SimConfig {
        faults: FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::BadGateway],
            paths: vec!["/reseller/getAvailable".into()],
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let client = client(&sim);
    let err = client.sbc_gateways(54).await.expect_err("502s");
    assert_eq!(err.code(), ErrorCode::Server);
    assert_eq!(err.status(), Some(502));
    assert_eq!(count(&sim, "/reseller/getAvailable"), 3, "max_attempts = 3");
    // A 500 is not in the retried set: one attempt.
    sim.set_faults(FaultConfig {
        rate: 1.0,
        kinds: vec![FaultKind::InternalError],
        paths: vec!["/pbx".into()],
        ..FaultConfig::default()
    });
    let err = client.pbx_types(54).await.expect_err("500");
    assert_eq!(err.code(), ErrorCode::Server);
    assert_eq!(count(&sim, "/pbx"), 1);
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_looked_up_not_repeated() {
    let sim = sim_with(SimConfig {
        faults: FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::DropAfterRead],
            paths: vec!["/reseller/newEnterprise".into()],
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let client = client(&sim);
    let id = client
        .create_enterprise(&pbx_enterprise("Lost Answer Inc"))
        .await
        .expect("settled by lookup");
    let enterprises = sim.enterprises();
    assert_eq!(enterprises.len(), 1, "exactly one enterprise");
    assert_eq!(enterprises[0].id, id);
    assert_eq!(
        count(&sim, "/reseller/newEnterprise"),
        1,
        "the create was sent once"
    );
    assert_eq!(count(&sim, "/reseller/v3/getEnterprisesForReseller"), 1);
}

#[tokio::test]
async fn a_create_dropped_before_it_was_read_is_outcome_unknown() {
    let sim = sim_with(SimConfig {
        faults: FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::DropBeforeRead],
            paths: vec!["/reseller/newEnterprise".into()],
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let client = client(&sim);
    let err = client
        .create_enterprise(&pbx_enterprise("Never Made"))
        .await
        .expect_err("unknown");
    assert_eq!(err.code(), ErrorCode::OutcomeUnknown);
    assert!(err.message().contains("Never Made"));
    assert!(sim.enterprises().is_empty());
    assert_eq!(
        count(&sim, "/reseller/newEnterprise"),
        1,
        "never repeated blindly"
    );
}

#[tokio::test]
async fn a_500_on_create_is_settled_by_lookup() {
    let sim = sim_with(SimConfig {
        faults: FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::InternalError],
            paths: vec!["/reseller/newEnterprise".into()],
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let client = client(&sim);
    let err = client
        .create_enterprise(&pbx_enterprise("Five Hundred"))
        .await
        .expect_err("not created");
    assert_eq!(err.code(), ErrorCode::OutcomeUnknown);
    assert_eq!(count(&sim, "/reseller/newEnterprise"), 1);
}

#[tokio::test]
async fn a_duplicate_name_is_a_conflict() {
    let sim = sim();
    let client = client(&sim);
    client
        .create_enterprise(&pbx_enterprise("Twice"))
        .await
        .expect("first");
    let err = client
        .create_enterprise(&pbx_enterprise("Twice"))
        .await
        .expect_err("second");
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert_eq!(err.status(), Some(409));
    assert!(err.message().contains("already exists"), "{err}");
    assert_eq!(sim.enterprises().len(), 1);
}

#[tokio::test]
async fn validation_failures_send_nothing() {
    let sim = sim();
    let client = client(&sim);
    let bad = [
        NewEnterprise::new("", vec![Service::Sms]),
        NewEnterprise::new("No Services", vec![]),
        NewEnterprise::new("No Gateways", vec![Service::Trunk]),
        NewEnterprise {
            sbc_gateways: vec![5678],
            ..NewEnterprise::new("No Pbx", vec![Service::Pbx])
        },
        NewEnterprise {
            sbc_gateways: vec![-3],
            ..NewEnterprise::new("Negative", vec![Service::Trunk])
        },
    ];
    for e in &bad {
        let err = client.create_enterprise(e).await.expect_err("invalid");
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
    }
    for url in ["http://portal.example/cb", "not a url", "ftp://x/y"] {
        let err = client
            .action_item_url(&ActionType::Registration, "X", url)
            .await
            .expect_err("bad redirect");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.message().contains("redirectUrl"), "{err}");
    }
    assert_eq!(
        client.sbc_gateways(0).await.expect_err("id").code(),
        ErrorCode::InvalidInput
    );
    assert!(
        sim.requests().is_empty(),
        "nothing was sent: {:?}",
        sim.requests()
    );
    assert_eq!(sim.token_requests("reseller"), 0);
}

#[tokio::test]
async fn server_side_validation_names_the_field() {
    let sim = sim();
    let client = client(&sim);
    let mut e = pbx_enterprise("Unknown Gateway");
    e.sbc_gateways = vec![999];
    let err = client
        .create_enterprise(&e)
        .await
        .expect_err("unknown gateway");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(err.status(), Some(400));
    assert!(
        err.message().contains("sbcGateways") && err.message().contains("999"),
        "{err}"
    );
    let err = client.sbc_gateways(99).await.expect_err("other reseller");
    assert_eq!(err.code(), ErrorCode::NotFound);
    let err = client
        .action_item_url(&ActionType::Registration, "Nobody", REDIRECT)
        .await
        .expect_err("no such enterprise");
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn the_roles_error_text_is_tenant_roles_missing() {
    let sim = sim();
    let client = client(&sim);
    client
        .create_enterprise(&pbx_enterprise("Northwind Traders"))
        .await
        .expect("create");
    let url = client
        .action_item_url(&ActionType::Registration, "Northwind Traders", REDIRECT)
        .await
        .expect("url");
    let cb = sim.approve(&url, "northwind").await.expect("register");
    let payload = ctt_onboard::CallbackPayload::parse(&cb.body.to_string()).expect("payload");
    let url = client
        .action_item_url(
            &ActionType::GetServiceProviderManagementConsent,
            "Northwind Traders",
            REDIRECT,
        )
        .await
        .expect("url");
    sim.approve(&url, "northwind").await.expect("consent");
    let auth = payload.authentication_result();
    let tenant = payload.tenant_id().expect("tenant");
    let err = client
        .update_management_consent(auth, 54, tenant)
        .await
        .expect_err("roles");
    assert_eq!(err.code(), ErrorCode::TenantRolesMissing);
    assert!(err.message().contains("30mins"), "{err}");
    client
        .provision_tenant_admin_api(auth)
        .await
        .expect("provision");
    let err = client
        .update_management_consent(auth, 54, tenant)
        .await
        .expect_err("too soon");
    assert_eq!(err.code(), ErrorCode::TenantRolesMissing);
    sim.advance_clock(Duration::from_secs(31 * 60));
    client
        .update_management_consent(auth, 54, tenant)
        .await
        .expect("after 30 minutes");
}

#[tokio::test]
async fn provisioning_calls_without_enterprise_credentials_say_what_to_configure() {
    let sim = sim();
    let client = reseller_only(&sim).build().expect("client");
    assert!(!client.has_enterprise_auth());
    let auth = ctt_onboard::AuthenticationResult {
        access_token: "x".into(),
        ..Default::default()
    };
    let err = client
        .o365_user_info(&auth)
        .await
        .expect_err("no enterprise auth");
    assert_eq!(err.code(), ErrorCode::Authentication);
    assert!(err.message().contains("enterprise"), "{err}");
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn https_is_required_for_a_public_host() {
    for url in ["http://api.connecttoteams.com", "http://10.0.0.5:8080"] {
        let err = Client::builder()
            .base_url(url)
            .build()
            .expect_err("plain http");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.message().contains("https"), "{err}");
    }
    assert!(
        Client::builder()
            .base_url("https://api.connecttoteams.com")
            .build()
            .is_ok()
    );
}

#[tokio::test]
async fn oversized_responses_are_a_decode_error() {
    let sim = sim();
    let client = builder(&sim)
        .max_response_bytes(64)
        .build()
        .expect("client");
    // The token response itself is larger than 64 bytes.
    let err = client.sbc_gateways(54).await.expect_err("too large");
    assert_eq!(err.code(), ErrorCode::Decode);
    assert!(err.message().contains("64-byte cap"), "{err}");
}

#[tokio::test]
async fn path_overrides_reach_the_wire() {
    let sim = sim();
    let client = builder(&sim)
        .path(
            "pbx_types",
            "GET /pbx/getPBXTypesByResellerId?resellerId={resellerId}&extra=1",
        )
        .path("sbc_gateways", "/moved/{resellerId}")
        .build()
        .expect("client");
    assert_eq!(client.pbx_types(54).await.expect("pbx").len(), 3);
    let err = client
        .sbc_gateways(54)
        .await
        .expect_err("moved path does not exist in the simulator");
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert!(sim.requests().iter().any(|r| r.path == "/moved/54"));
}

#[tokio::test]
async fn a_canary_secret_never_reaches_debug_display_or_errors() {
    let canary = SimCredentials {
        client_secret: "CANARY-client-secret-7731".into(),
        password: "CANARY-password-7731".into(),
        enterprise_password: "CANARY-ent-password-7731".into(),
        ..SimCredentials::default()
    };
    let sim = sim_with(SimConfig {
        credentials: canary.clone(),
        ..SimConfig::default()
    });
    let builder = builder(&sim);
    let client = builder.clone().build().expect("client");
    let mut texts = vec![format!("{builder:?}"), format!("{client:?}")];

    client
        .create_enterprise(&pbx_enterprise("Canary Co"))
        .await
        .expect("create");
    let url = client
        .action_item_url(&ActionType::Registration, "Canary Co", REDIRECT)
        .await
        .expect("url");
    let cb = sim.approve(&url, "contoso").await.expect("approve");
    let payload = ctt_onboard::CallbackPayload::parse(&cb.body.to_string()).expect("payload");
    let access = payload
        .authentication_result()
        .access_token
        .expose()
        .to_owned();
    texts.push(format!("{payload:?}"));

    // Errors from every layer: refused credentials, a refused token, a server 400 that echoes nothing.
    let wrong = Client::builder()
        .base_url(sim.base_url())
        .reseller_credentials(Credentials::new(
            &canary.client_id,
            "CANARY-client-secret-7731",
            &canary.username,
            "CANARY-wrong-7731",
        ))
        .build()
        .expect("client");
    let e = wrong.sbc_gateways(54).await.expect_err("refused");
    texts.push(format!("{e} {e:?}"));
    let e = client
        .update_management_consent(payload.authentication_result(), 54, "other-tenant")
        .await
        .expect_err("mismatch");
    texts.push(format!("{e} {e:?}"));
    let fixed = Client::builder()
        .base_url(sim.base_url())
        .reseller_token("CANARY-token-7731")
        .build()
        .expect("client");
    texts.push(format!("{fixed:?}"));
    let e = fixed.sbc_gateways(54).await.expect_err("refused");
    texts.push(format!("{e} {e:?}"));

    for text in &texts {
        for secret in [
            "CANARY-client-secret-7731",
            "CANARY-password-7731",
            "CANARY-ent-password-7731",
            "CANARY-token-7731",
            "CANARY-wrong-7731",
            access.as_str(),
        ] {
            assert!(!text.contains(secret), "{secret} leaked into: {text}");
        }
    }
}

#[tokio::test]
async fn tls_and_proxy_settings_are_checked_at_build() {
    let err = Client::builder()
        .add_ca_cert_pem("not a certificate")
        .build()
        .expect_err("bad pem");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.message().contains("ca_cert_pem #1"), "{err}");
    let err = Client::builder()
        .proxy("::not a url::")
        .build()
        .expect_err("bad proxy");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.message().contains("proxy"), "{err}");
    let err = Client::builder()
        .timeout(Duration::ZERO)
        .build()
        .expect_err("zero timeout");
    assert!(err.message().contains("timeout"), "{err}");
    let err = Client::builder()
        .retry_policy(RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        })
        .build()
        .expect_err("no attempts");
    assert!(err.message().contains("max_attempts"), "{err}");
    let err = Client::builder()
        .callback_key("short")
        .build()
        .expect_err("short key");
    assert!(err.message().contains("callback_key"), "{err}");
    // A proxy that is a URL is accepted; calls then go through it (here: nothing listens, so the
    // call fails as a network error, proving the proxy is used rather than the simulator).
    let sim = sim();
    let client = builder(&sim)
        .proxy("http://127.0.0.1:9")
        .build()
        .expect("proxy accepted");
    let err = client
        .sbc_gateways(54)
        .await
        .expect_err("the proxy refuses");
    assert_eq!(err.code(), ErrorCode::Network, "{err}");
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn a_429_on_create_is_rate_limited_with_its_wait_not_outcome_unknown() {
    let sim = sim_with(SimConfig {
        faults: FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::TooManyRequests],
            retry_after_secs: 7,
            paths: vec!["/reseller/newEnterprise".into()],
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let client = client(&sim);
    let err = client
        .create_enterprise(&pbx_enterprise("Slow Down Ltd"))
        .await
        .expect_err("429");
    assert_eq!(err.code(), ErrorCode::RateLimited, "{err}");
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(count(&sim, "/reseller/newEnterprise"), 1, "never repeated");
    assert_eq!(
        count(&sim, "/reseller/v3/getEnterprisesForReseller"),
        0,
        "a 429 means the server did not act: nothing to look up"
    );
}

#[tokio::test]
async fn the_enterprise_list_is_read_page_by_page_and_a_name_on_page_three_is_found() {
    let sim = sim();
    let client = client(&sim);
    let mut ids = Vec::new();
    for i in 0..120 {
        let mut e = NewEnterprise::new(format!("Paged {i:03}"), vec![Service::Sms]);
        e.billing_references = Some(vec![format!("BILL-{i}")]);
        ids.push(client.create_enterprise(&e).await.expect("create"));
    }
    let found = client
        .find_enterprise(54, "Paged 117")
        .await
        .expect("find")
        .expect("on a later page");
    assert_eq!(found.enterprise_id, ids[117]);
    assert_eq!(
        found.billing_references.as_deref(),
        Some(&["BILL-117".to_owned()][..])
    );
    let all = client.enterprises(54).await.expect("list");
    assert_eq!(all.len(), 120, "every page read");
    assert_eq!(
        count(&sim, "/reseller/v3/getEnterprisesForReseller"),
        3 * 2,
        "three pages of 50 per read ({} per page)",
        ctt_onboard::client::LIST_PAGE_SIZE
    );
    // A client that reads only the first page of the simulator's default page size misses it.
    let first_page: serde_json::Value = reqwest_get_json(&sim, "").await;
    assert_eq!(first_page["content"].as_array().expect("page").len(), 20);
    assert_eq!(first_page["last"], false);
}

async fn reqwest_get_json(sim: &ctt_sim::Simulator, query: &str) -> serde_json::Value {
    let c = sim.credentials();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/oauth/token", sim.base_url()))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[
            ("username", c.username.as_str()),
            ("password", c.password.as_str()),
            ("grant_type", "password"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    http.get(format!(
        "{}/reseller/v3/getEnterprisesForReseller?resellerId=54{query}",
        sim.base_url()
    ))
    .bearer_auth(token["access_token"].as_str().expect("token"))
    .send()
    .await
    .expect("list")
    .json()
    .await
    .expect("list json")
}

#[tokio::test]
async fn a_bare_array_is_one_page_and_an_endless_list_is_a_decode_error() {
    let sim = sim();
    let client = client(&sim);
    client.reseller_id().await.expect("warm up");
    sim.set_canned(ctt_sim::CannedResponse {
        path_prefix: "/reseller/v3".into(),
        status: 200,
        content_type: "application/json".into(),
        body: r#"[{"enterpriseId":5,"enterpriseName":"A","billingReferences":["B-1"]}]"#.into(),
    });
    let found = client
        .find_enterprise(54, "A")
        .await
        .expect("find")
        .expect("found");
    assert_eq!(found.enterprise_id, 5);
    assert_eq!(found.billing_references, Some(vec!["B-1".to_owned()]));
    assert_eq!(
        count(&sim, "/reseller/v3"),
        1,
        "a bare array is the whole list"
    );
    // A page object that never says it is the last one ends at the cap, not in a loop.
    sim.set_canned(ctt_sim::CannedResponse {
        path_prefix: "/reseller/v3".into(),
        status: 200,
        content_type: "application/json".into(),
        body: r#"{"content":[{"enterpriseId":5,"enterpriseName":"A"}],"last":false}"#.into(),
    });
    let err = client.find_enterprise(54, "Z").await.expect_err("endless");
    assert_eq!(err.code(), ErrorCode::Decode, "{err}");
    assert!(count(&sim, "/reseller/v3") <= 1 + 1000, "bounded");
    // A server that ignores the page parameter (always answers page 0) is refused, not looped on.
    sim.set_canned(ctt_sim::CannedResponse {
        path_prefix: "/reseller/v3".into(),
        status: 200,
        content_type: "application/json".into(),
        body: r#"{"content":[{"enterpriseId":5,"enterpriseName":"A"}],"number":0,"totalPages":3,"last":false}"#.into(),
    });
    let before = count(&sim, "/reseller/v3");
    let err = client.enterprises(54).await.expect_err("stuck on page 0");
    assert_eq!(err.code(), ErrorCode::Decode, "{err}");
    assert_eq!(count(&sim, "/reseller/v3") - before, 2);
}

#[tokio::test]
async fn max_attempts_is_bounded_at_build() {
    for bad in [0u32, 11, u32::MAX] {
        let err = Client::builder()
            .retry_policy(RetryPolicy {
                max_attempts: bad,
                ..RetryPolicy::default()
            })
            .build()
            .expect_err("out of range");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.message().contains("max_attempts"), "{err}");
    }
    for good in [1u32, 10] {
        Client::builder()
            .retry_policy(RetryPolicy {
                max_attempts: good,
                ..RetryPolicy::default()
            })
            .build()
            .expect("in range");
    }
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_ends_the_call_without_sleeping() {
    let sim = sim_with(SimConfig {
        faults: FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::TooManyRequests],
            retry_after_secs: 3,
            paths: vec!["/pbx".into()],
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let client = builder(&sim)
        .retry_policy(RetryPolicy {
            max_attempts: 4,
            max_retry_after: Duration::from_secs(10),
            deadline: Duration::from_secs(1),
            ..RetryPolicy::default()
        })
        .build()
        .expect("client");
    client.reseller_id().await.expect("warm up");
    let started = Instant::now();
    let err = client.pbx_types(54).await.expect_err("rate limited");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "it did not sleep: {:?}",
        started.elapsed()
    );
    assert_eq!(err.code(), ErrorCode::RateLimited, "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(count(&sim, "/pbx"), 1);
}

#[tokio::test]
async fn the_deadline_bounds_every_attempt_of_a_call() {
    let sim = sim_with(SimConfig {
        faults: FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::Latency],
            latency_ms: 2_000,
            paths: vec!["/pbx".into()],
            ..FaultConfig::default()
        },
        ..SimConfig::default()
    });
    let client = builder(&sim)
        .timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            deadline: Duration::from_secs(1),
            ..RetryPolicy::default()
        })
        .build()
        .expect("client");
    client.reseller_id().await.expect("warm up");
    let started = Instant::now();
    let err = client.pbx_types(54).await.expect_err("too slow");
    let took = started.elapsed();
    assert_eq!(err.code(), ErrorCode::Timeout, "{err}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(1_800),
        "ended at the 1 s deadline, not after 10 attempts: {took:?}"
    );
}

#[tokio::test]
async fn an_http_action_item_url_on_a_public_host_is_refused() {
    let sim = sim();
    let client = client(&sim);
    client.reseller_id().await.expect("warm up");
    for (url, ok) in [
        ("http://login.example.com/authorize?x=1", false),
        ("\"http://login.example.com/authorize\"", false),
        ("https://login.example.com/authorize?x=1", true),
        ("http://127.0.0.1:9/authorize", true),
    ] {
        sim.set_canned(ctt_sim::CannedResponse {
            path_prefix: "/enterprise/getActionItemUrl".into(),
            status: 200,
            content_type: "text/plain".into(),
            body: url.into(),
        });
        let got = client
            .action_item_url(&ActionType::Registration, "A", REDIRECT)
            .await;
        match (ok, got) {
            (true, Ok(_)) => {}
            (false, Err(e)) => {
                assert_eq!(e.code(), ErrorCode::Decode, "{url}: {e}");
                assert!(e.message().contains("https"), "{url}: {e}");
            }
            (ok, got) => panic!("{url}: expected ok={ok}, got {got:?}"),
        }
    }
}

#[tokio::test]
async fn client_authentication_form_encodes_then_base64s_the_client_id_and_secret() {
    let credentials = SimCredentials {
        client_id: "ctt client:1".into(),
        client_secret: "s3:cr%et+50/&=ünï€".into(),
        ..SimCredentials::default()
    };
    let sim = sim_with(SimConfig {
        credentials,
        ..SimConfig::default()
    });
    let client = client(&sim);
    assert_eq!(client.reseller_id().await.expect("token accepted"), 54);
    assert_eq!(sim.token_requests("reseller"), 1);
}
