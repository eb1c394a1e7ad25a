//! The onboarding flow end to end against the simulator: every tenant, every skip, persistence,
//! interruption, forged callbacks and the roles wait.

mod common;

use common::*;
use ctt_onboard::callback::{Ask, new_nonce, tag_redirect_url};
use ctt_onboard::{
    ActionType, CallbackKeys, CallbackOutcome, Client, ErrorCode, ManualClock, NewEnterprise,
    Onboarding, OnboardingPlan, Progress, Service, Step, StepState,
};
use ctt_sim::{FaultConfig, FaultKind, SimConfig, Simulator};
use std::collections::HashMap;
use std::task::Poll;
use std::time::Duration;

const KEY: &[u8] = b"test-callback-key-0123456789";
const REDIRECT: &str = "https://portal.example/ctt/callback?portal=1";
const THIRTY_ONE_MINUTES: Duration = Duration::from_secs(31 * 60);

fn keys() -> CallbackKeys {
    CallbackKeys::single(KEY).expect("ring")
}

/// A genuinely tagged URL for an ask the flow never made (a fresh nonce).
fn tag(flow: &Onboarding, action: ActionType) -> String {
    let ask = Ask {
        flow_id: flow.id().to_owned(),
        action,
        nonce: new_nonce(),
        issued_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_secs(),
        key_id: String::new(),
    };
    tag_redirect_url(&keys(), REDIRECT, &ask).expect("tag")
}

fn plan(name: &str, services: Vec<Service>) -> OnboardingPlan {
    let mut p = OnboardingPlan::new(NewEnterprise::new(name, services), REDIRECT);
    p.gateway_regions = vec!["US-East".into()];
    p
}

struct Harness {
    sim: Simulator,
    client: Client,
    clock: ManualClock,
}

impl Harness {
    fn new() -> Self {
        Self::with(SimConfig::default())
    }

    fn with(config: SimConfig) -> Self {
        let sim = sim_with(config);
        let (client, clock) = client_with_clock(&sim);
        Harness { sim, client, clock }
    }

    fn pass_time(&self, by: Duration) {
        self.clock.advance(by);
        self.sim.advance_clock(by);
    }

    /// Approves a URL as `tenant`'s admin and hands the callback to the flow.
    async fn approve(
        &self,
        flow: &mut Onboarding,
        url: &str,
        tenant: &str,
    ) -> ctt_onboard::Result<CallbackOutcome> {
        let cb = self
            .sim
            .approve(url, tenant)
            .await
            .expect("simulator approves");
        flow.handle_callback(
            self.client.callback_keys().expect("keys"),
            &cb.url,
            &cb.body.to_string(),
        )
    }

    /// Drives a flow to completion as `tenant`'s admin; with `persist`, the flow goes through JSON
    /// after every call. Returns the progress values seen.
    async fn drive(&self, flow: &mut Onboarding, tenant: &str, persist: bool) -> Vec<Progress> {
        let mut seen = Vec::new();
        for _ in 0..60 {
            let progress = flow.advance(&self.client).await.expect("advance");
            if persist {
                *flow = Onboarding::from_json(&flow.to_json().expect("json")).expect("from json");
            }
            seen.push(progress.clone());
            match progress {
                Progress::AwaitingAdmin { url, .. } => {
                    assert_eq!(
                        self.approve(flow, &url, tenant).await.expect("callback"),
                        CallbackOutcome::Accepted
                    );
                    if persist {
                        *flow = Onboarding::from_json(&flow.to_json().expect("json"))
                            .expect("from json");
                    }
                }
                Progress::WaitingUntil { .. } => self.pass_time(THIRTY_ONE_MINUTES),
                Progress::Complete { .. } => return seen,
            }
        }
        panic!("the flow did not complete: {:?}", flow.status());
    }

    fn consents(&self, enterprise_id: i64) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for c in self
            .sim
            .consents()
            .into_iter()
            .filter(|c| c.enterprise_id == enterprise_id)
        {
            *counts.entry(c.action).or_insert(0) += 1;
        }
        counts
    }
}

fn actions(seen: &[Progress]) -> Vec<String> {
    seen.iter()
        .filter_map(|p| match p {
            Progress::AwaitingAdmin { action, .. } => Some(action.to_string()),
            _ => None,
        })
        .collect()
}

fn state_of(flow: &Onboarding, step: Step) -> StepState {
    flow.status()
        .into_iter()
        .find(|s| s.step == step)
        .map(|s| s.state)
        .expect("step listed")
}

#[tokio::test]
async fn contoso_completes_with_each_consent_once() {
    let h = Harness::new();
    let mut flow =
        Onboarding::new(plan("Contoso Pharma", vec![Service::Pbx, Service::Sms])).expect("flow");
    let seen = h.drive(&mut flow, "contoso", false).await;
    assert_eq!(
        actions(&seen),
        [
            "REGISTRATION",
            "GET_USER_SYNC_CONSENT",
            "GET_PRESENCE_CONSENT",
            "GET_AGENT_CONSENT",
            "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT"
        ]
    );
    let Some(Progress::Complete {
        enterprise_id,
        tenant_id,
    }) = seen.last().cloned()
    else {
        panic!("complete")
    };
    assert_eq!(tenant_id, "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    let enterprises = h.sim.enterprises();
    assert_eq!(enterprises.len(), 1);
    assert_eq!(enterprises[0].id, enterprise_id);
    assert!(enterprises[0].restrict_admin_access);
    assert!(enterprises[0].managed_by_provider);
    assert_eq!(enterprises[0].sbc_gateways, vec![5678], "chosen by region");
    assert_eq!(enterprises[0].pbx_id, vec![1234], "the default PBX type");
    let consents = h.consents(enterprise_id);
    assert_eq!(consents.len(), 4);
    assert!(consents.values().all(|n| *n == 1), "{consents:?}");
    assert_eq!(count(&h.sim, "/provisioning/provisionTenantAdminAPI"), 0);
    assert_eq!(
        state_of(&flow, Step::ProvisionTenantAdminApi),
        StepState::Skipped
    );
    assert!(flow.is_complete());
    // Advancing a complete flow makes no call.
    let before = h.sim.requests().len();
    assert!(matches!(
        flow.advance(&h.client).await.expect("again"),
        Progress::Complete { .. }
    ));
    assert_eq!(h.sim.requests().len(), before);
}

#[tokio::test]
async fn fabrikam_gets_the_tenant_admin_api_provisioned() {
    let h = Harness::new();
    let mut flow = Onboarding::new(plan("Fabrikam Inc", vec![Service::Trunk])).expect("flow");
    h.drive(&mut flow, "fabrikam", false).await;
    assert_eq!(count(&h.sim, "/provisioning/provisionTenantAdminAPI"), 1);
    assert_eq!(
        count(&h.sim, "/provisioning/getO365UserInfo"),
        5 + 1,
        "each of the five callbacks confirmed, and the API checked again after provisioning"
    );
    assert_eq!(
        state_of(&flow, Step::ProvisionTenantAdminApi),
        StepState::Done
    );
    assert_eq!(state_of(&flow, Step::TenantAdminApiCheck), StepState::Done);
}

#[tokio::test]
async fn northwind_waits_thirty_minutes_after_the_roles_error_then_completes() {
    let h = Harness::new();
    let mut flow = Onboarding::new(plan("Northwind Traders", vec![Service::Sms])).expect("flow");
    let mut progress = flow.advance(&h.client).await.expect("advance");
    // Through the consents, to the management update.
    loop {
        match progress {
            Progress::AwaitingAdmin { url, .. } => {
                h.approve(&mut flow, &url, "northwind")
                    .await
                    .expect("callback");
            }
            Progress::WaitingUntil { .. } => break,
            Progress::Complete { .. } => panic!("northwind cannot complete before the wait"),
        }
        progress = flow.advance(&h.client).await.expect("advance");
    }
    let Progress::WaitingUntil { not_before, reason } = progress else {
        unreachable!()
    };
    let wait = not_before
        .duration_since(h.client.clock().now())
        .expect("in the future");
    assert!(
        wait > Duration::from_secs(29 * 60) && wait <= Duration::from_secs(30 * 60),
        "{wait:?}"
    );
    assert!(reason.contains("30 minutes"));
    assert_eq!(
        state_of(&flow, Step::ManagementConsentUpdate),
        StepState::Waiting
    );
    assert_eq!(count(&h.sim, "/provisioning/provisionTenantAdminAPI"), 1);

    // Before the time: no call at all.
    let before = h.sim.requests().len();
    assert!(matches!(
        flow.advance(&h.client).await.expect("still waiting"),
        Progress::WaitingUntil { .. }
    ));
    assert_eq!(h.sim.requests().len(), before);

    h.pass_time(THIRTY_ONE_MINUTES);
    let rest = h.drive(&mut flow, "northwind", false).await;
    assert_eq!(
        actions(&rest),
        ["GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT"],
        "the consent is asked for again"
    );
    assert!(h.sim.enterprises()[0].managed_by_provider);
}

#[tokio::test]
async fn tailspin_registration_is_refused_as_not_a_global_admin() {
    let h = Harness::new();
    let mut flow = Onboarding::new(plan("Tailspin Toys", vec![Service::Chat])).expect("flow");
    let Progress::AwaitingAdmin { action, url } = flow.advance(&h.client).await.expect("advance")
    else {
        panic!("awaiting")
    };
    assert_eq!(action, ActionType::Registration);
    let before = flow.to_json().expect("json");
    let err = h
        .approve(&mut flow, &url, "tailspin")
        .await
        .expect_err("refused");
    assert_eq!(err.code(), ErrorCode::CallbackInvalid);
    assert!(
        err.message().contains("helpdesk@tailspin.onmicrosoft.com"),
        "{err}"
    );
    assert!(err.message().contains("not a Global Admin"), "{err}");
    assert_eq!(flow.to_json().expect("json"), before, "state unchanged");
    // A Global Admin can still take the same URL.
    assert_eq!(
        h.approve(&mut flow, &url, "contoso")
            .await
            .expect("accepted"),
        CallbackOutcome::Accepted
    );
}

#[tokio::test]
async fn service_sets_skip_what_does_not_apply() {
    struct Case {
        services: Vec<Service>,
        skipped: &'static [Step],
        asked: &'static [&'static str],
    }
    let cases = [
        Case {
            services: vec![Service::Pbx],
            skipped: &[Step::CallAppConsent, Step::CallRecordingConsent],
            asked: &["GET_AGENT_CONSENT"],
        },
        Case {
            services: vec![Service::Trunk],
            skipped: &[Step::PbxTypes, Step::CallAppConsent],
            asked: &[],
        },
        Case {
            services: vec![Service::Pbx, Service::CallApp],
            skipped: &[Step::CallRecordingConsent],
            asked: &["GET_CALL_APP_CONSENT"],
        },
        Case {
            services: vec![Service::Sms, Service::Chat],
            skipped: &[Step::SbcGateways, Step::PbxTypes, Step::CallAppConsent],
            asked: &[],
        },
        Case {
            services: vec![Service::CallApp],
            skipped: &[Step::SbcGateways],
            asked: &["GET_CALL_APP_CONSENT"],
        },
        Case {
            services: vec![Service::Trunk, Service::CallRecording],
            skipped: &[Step::PbxTypes],
            asked: &["GET_CALL_RECORDING_CONSENT"],
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let h = Harness::new();
        let mut flow =
            Onboarding::new(plan(&format!("Skips {i}"), case.services.clone())).expect("flow");
        let seen = h.drive(&mut flow, "contoso", false).await;
        for step in case.skipped {
            assert_eq!(
                state_of(&flow, *step),
                StepState::Skipped,
                "case {i}: {step:?}"
            );
        }
        let asked = actions(&seen);
        for a in case.asked {
            assert!(asked.iter().any(|x| x == a), "case {i}: {a} in {asked:?}");
        }
        let needs_gateways = case.services.iter().any(Service::needs_gateways);
        let needs_pbx = case.services.iter().any(Service::needs_pbx_type);
        assert_eq!(
            count(
                &h.sim,
                "/reseller/getAvailableSBCGatewayRegionsByResellerId"
            ) > 0,
            needs_gateways,
            "case {i}"
        );
        assert_eq!(count(&h.sim, "/pbx/") > 0, needs_pbx, "case {i}");
        assert_eq!(h.sim.enterprises().len(), 1);
    }
}

#[tokio::test]
async fn optional_consents_are_asked_for_when_planned() {
    let h = Harness::new();
    let mut p = plan("Optional Co", vec![Service::Sms]);
    p.optional_consents = vec![ActionType::GetContactsConsent, ActionType::GetCdrConsent];
    p.service_provider_management = false;
    let mut flow = Onboarding::new(p).expect("flow");
    let seen = h.drive(&mut flow, "contoso", false).await;
    let asked = actions(&seen);
    assert!(
        asked.contains(&"GET_CONTACTS_CONSENT".to_owned())
            && asked.contains(&"GET_CDR_CONSENT".to_owned())
    );
    assert!(!asked.contains(&"GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT".to_owned()));
    assert_eq!(
        state_of(&flow, Step::ManagementConsentUpdate),
        StepState::Skipped
    );
    assert_eq!(
        count(
            &h.sim,
            "/enterprise/updateEnterpriseManagementConsentByReseller"
        ),
        0
    );
}

#[tokio::test]
async fn persisting_after_every_step_equals_an_uninterrupted_run() {
    for tenant in ["contoso", "fabrikam", "northwind"] {
        let straight = Harness::new();
        let mut a =
            Onboarding::new(plan("Persisted", vec![Service::Pbx, Service::CallApp])).expect("flow");
        let seen_a = straight.drive(&mut a, tenant, false).await;
        let persisted = Harness::new();
        let mut b =
            Onboarding::new(plan("Persisted", vec![Service::Pbx, Service::CallApp])).expect("flow");
        let seen_b = persisted.drive(&mut b, tenant, true).await;
        assert_eq!(actions(&seen_a), actions(&seen_b), "{tenant}");
        let states = |f: &Onboarding| {
            f.status()
                .into_iter()
                .map(|s| (s.step, s.state))
                .collect::<Vec<_>>()
        };
        assert_eq!(states(&a), states(&b), "{tenant}");
        let e = persisted.sim.enterprises();
        assert_eq!(e.len(), 1);
        assert_eq!(
            persisted.consents(e[0].id),
            straight.consents(straight.sim.enterprises()[0].id),
            "{tenant}"
        );
    }
}

/// Polls `fut` at most `n` times, letting the runtime run between polls; `None` means it was dropped unfinished.
async fn poll_n<F: std::future::Future>(fut: F, n: usize) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    for _ in 0..n {
        if let Poll::Ready(v) = futures::poll!(fut.as_mut()) {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_micros(300)).await;
    }
    None
}

/// Drives a flow where every `advance` is dropped after 1, 2, 3, ... polls until one finishes,
/// resuming each time from the last saved JSON. Returns the number of interruptions.
async fn drive_interrupted(h: &Harness, tenant: &str, name: &str, tolerate_errors: bool) -> usize {
    let mut saved = Onboarding::new(plan(name, vec![Service::Pbx, Service::CallApp]))
        .expect("flow")
        .to_json()
        .expect("json");
    let mut interruptions = 0;
    for _ in 0..200 {
        let mut polls = 1;
        let (flow, result) = loop {
            let mut flow = Onboarding::from_json(&saved).expect("resume");
            let outcome = poll_n(flow.advance(&h.client), polls).await;
            match outcome {
                Some(result) => break (flow, result),
                None => {
                    interruptions += 1;
                    polls = if polls < 24 { polls + 1 } else { polls * 2 };
                }
            }
        };
        let mut flow = flow;
        let progress = match result {
            Ok(p) => p,
            Err(e) if tolerate_errors && e.code() != ErrorCode::InvalidInput => {
                saved = flow.to_json().expect("json");
                continue;
            }
            Err(e) => panic!("advance failed: {e}"),
        };
        saved = flow.to_json().expect("json");
        match progress {
            Progress::AwaitingAdmin { url, .. } => {
                h.approve(&mut flow, &url, tenant).await.expect("callback");
                saved = flow.to_json().expect("json");
            }
            Progress::WaitingUntil { .. } => h.pass_time(THIRTY_ONE_MINUTES),
            Progress::Complete { .. } => return interruptions,
        }
    }
    panic!("the interrupted flow did not complete");
}

// On a current-thread runtime the connection tasks cannot run while `advance` is being polled,
// so the first poll of every advance that makes a call is always interrupted.
#[tokio::test]
async fn cancelling_advance_anywhere_and_resuming_from_json_is_safe() {
    for tenant in ["contoso", "fabrikam", "northwind"] {
        let h = Harness::new();
        let interruptions = drive_interrupted(&h, tenant, "Interrupted Ltd", false).await;
        assert!(
            interruptions > 5,
            "{tenant}: the test interrupted only {interruptions} times"
        );
        let enterprises = h.sim.enterprises();
        assert_eq!(enterprises.len(), 1, "{tenant}: never created twice");
        assert!(enterprises[0].managed_by_provider);
        let consents = h.consents(enterprises[0].id);
        let expected_spm = if tenant == "northwind" { 2 } else { 1 };
        for (action, n) in &consents {
            let want = if action == "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT" {
                expected_spm
            } else {
                1
            };
            assert_eq!(*n, want, "{tenant}: {action}");
        }
        assert_eq!(consents.len(), 5, "{tenant}: {consents:?}");
    }
}

#[tokio::test]
async fn interrupted_flows_survive_injected_faults() {
    let faults = FaultConfig {
        rate: 0.2,
        seed: 42,
        kinds: vec![
            FaultKind::TooManyRequests,
            FaultKind::InternalError,
            FaultKind::BadGateway,
            FaultKind::Unavailable,
            FaultKind::DropBeforeRead,
            FaultKind::DropAfterRead,
            FaultKind::TruncatedBody,
        ],
        retry_after_secs: 0,
        ..FaultConfig::default()
    };
    let h = Harness::with(SimConfig {
        faults,
        ..SimConfig::default()
    });
    drive_interrupted(&h, "fabrikam", "Faulty Ltd", true).await;
    let enterprises = h.sim.enterprises();
    assert_eq!(enterprises.len(), 1, "never created twice");
    let consents = h.consents(enterprises[0].id);
    assert!(consents.values().all(|n| *n == 1), "{consents:?}");
    assert!(
        h.sim
            .requests()
            .iter()
            .filter(|r| r.fault.is_some())
            .count()
            > 3,
        "faults were injected"
    );
}

#[tokio::test]
async fn forged_and_wrong_callbacks_leave_the_state_unchanged() {
    let h = Harness::new();
    let mut flow = Onboarding::new(plan("Callbacks Inc", vec![Service::Sms])).expect("flow");
    let mut other = Onboarding::new(plan("Other Inc", vec![Service::Sms])).expect("flow");
    let Progress::AwaitingAdmin { url, .. } = flow.advance(&h.client).await.expect("advance")
    else {
        panic!()
    };
    let Progress::AwaitingAdmin { url: other_url, .. } =
        other.advance(&h.client).await.expect("advance")
    else {
        panic!()
    };
    let genuine = h
        .sim
        .approve_without_posting(&url, "contoso")
        .expect("approve");
    let genuine_body = genuine.body.to_string();
    let other_cb = h
        .sim
        .approve_without_posting(&other_url, "contoso")
        .expect("approve");

    // A genuine tag for this flow but another action.
    let wrong_action = tag(&flow, ActionType::GetAgentConsent);
    let earlier_nonce = tag(&flow, ActionType::Registration);
    let bad_tag = genuine.url.replace("ctt_tag=", "ctt_tag=00");
    let no_params = REDIRECT.to_owned();
    let missing_fields = r#"{"msalAuthenticationResult":{}}"#.to_owned();
    let tailspin = h
        .sim
        .approve_without_posting(&url, "tailspin")
        .expect("approve");

    let cases: Vec<(&str, String, String, &[u8])> = vec![
        (
            "a nonce the flow did not issue",
            earlier_nonce,
            genuine_body.clone(),
            KEY,
        ),
        ("bad tag", bad_tag, genuine_body.clone(), KEY),
        (
            "wrong key",
            genuine.url.clone(),
            genuine_body.clone(),
            b"another-key-0123456789",
        ),
        ("no flow parameters", no_params, genuine_body.clone(), KEY),
        (
            "other flow",
            other_cb.url.clone(),
            other_cb.body.to_string(),
            KEY,
        ),
        ("other action", wrong_action, genuine_body.clone(), KEY),
        (
            "not a Global Admin",
            tailspin.url.clone(),
            tailspin.body.to_string(),
            KEY,
        ),
        (
            "malformed JSON",
            genuine.url.clone(),
            "{\"msal".to_owned(),
            KEY,
        ),
        ("missing fields", genuine.url.clone(), missing_fields, KEY),
    ];
    for (what, cb_url, body, key) in &cases {
        let before = flow.to_json().expect("json");
        let ring = CallbackKeys::single(key).expect("ring");
        let err = flow.handle_callback(&ring, cb_url, body).expect_err(what);
        assert_eq!(err.code(), ErrorCode::CallbackInvalid, "{what}: {err}");
        assert_eq!(
            flow.to_json().expect("json"),
            before,
            "{what}: state changed"
        );
    }

    // The genuine one is accepted once; a replay is a duplicate and changes nothing.
    assert_eq!(
        flow.handle_callback(&keys(), &genuine.url, &genuine_body)
            .expect("genuine"),
        CallbackOutcome::Accepted
    );
    let before = flow.to_json().expect("json");
    assert_eq!(
        flow.handle_callback(&keys(), &genuine.url, &genuine_body)
            .expect("replay"),
        CallbackOutcome::Duplicate
    );
    assert_eq!(flow.to_json().expect("json"), before);

    // The tenant is bound: a consent granted by another tenant's admin is refused.
    let Progress::AwaitingAdmin { url, .. } = flow.advance(&h.client).await.expect("advance")
    else {
        panic!()
    };
    let before = flow.to_json().expect("json");
    let switched = h
        .sim
        .approve_without_posting(&url, "fabrikam")
        .expect("approve");
    let err = flow
        .handle_callback(&keys(), &switched.url, &switched.body.to_string())
        .expect_err("tenant switched");
    assert_eq!(err.code(), ErrorCode::CallbackInvalid);
    assert!(err.message().contains("registered to tenant"), "{err}");
    assert_eq!(flow.to_json().expect("json"), before);
}

#[tokio::test]
async fn an_expired_msal_result_asks_the_admin_to_sign_in_again() {
    let h = Harness::new();
    let mut flow = Onboarding::new(plan("Expired Co", vec![Service::Sms])).expect("flow");
    let Progress::AwaitingAdmin { url, .. } = flow.advance(&h.client).await.expect("advance")
    else {
        panic!()
    };
    h.approve(&mut flow, &url, "fabrikam")
        .await
        .expect("registered");
    // The registration is confirmed, then provisioning fails, and the admin's sign-in expires
    // before the portal advances again.
    h.sim.set_canned(ctt_sim::CannedResponse {
        path_prefix: "/provisioning/provisionTenantAdminAPI".into(),
        status: 500,
        content_type: "application/json".into(),
        body: "{}".into(),
    });
    let err = flow
        .advance(&h.client)
        .await
        .expect_err("provisioning fails");
    assert_eq!(err.code(), ErrorCode::Server);
    assert_eq!(state_of(&flow, Step::Registration), StepState::Done);
    h.sim.clear_canned();
    let canned = count(&h.sim, "/provisioning/provisionTenantAdminAPI");
    h.pass_time(Duration::from_secs(2 * 3600));
    let Progress::AwaitingAdmin { action, url } = flow.advance(&h.client).await.expect("advance")
    else {
        panic!()
    };
    assert_eq!(action, ActionType::LoginEnterpriseAdmin);
    h.approve(&mut flow, &url, "fabrikam")
        .await
        .expect("signed in again");
    h.drive(&mut flow, "fabrikam", false).await;
    assert_eq!(
        count(&h.sim, "/provisioning/provisionTenantAdminAPI") - canned,
        1,
        "provisioned once with the fresh sign-in"
    );
}

#[tokio::test]
async fn missing_enterprise_credentials_stop_with_state_unchanged() {
    let h = Harness::new();
    let client = reseller_only(&h.sim)
        .callback_key("test-callback-key-0123456789")
        .build()
        .expect("client");
    let mut flow = Onboarding::new(plan("No Creds", vec![Service::Sms])).expect("flow");
    let Progress::AwaitingAdmin { url, .. } = flow.advance(&client).await.expect("advance") else {
        panic!()
    };
    h.approve(&mut flow, &url, "contoso")
        .await
        .expect("registered");
    let before = flow.to_json().expect("json");
    let err = flow
        .advance(&client)
        .await
        .expect_err("no enterprise credentials");
    assert_eq!(err.code(), ErrorCode::Authentication);
    assert!(err.message().contains("enterprise credentials"), "{err}");
    assert_eq!(flow.to_json().expect("json"), before);
    // With them configured, the same flow goes on.
    h.drive(&mut flow, "contoso", false).await;
}

#[tokio::test]
async fn unknown_gateways_regions_and_pbx_types_are_refused_before_create() {
    let h = Harness::new();
    let mut p = plan("Bad Region", vec![Service::Trunk]);
    p.gateway_regions = vec!["Mars-North".into()];
    let mut flow = Onboarding::new(p).expect("flow");
    let err = flow.advance(&h.client).await.expect_err("region");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(
        err.message().contains("Mars-North") && err.message().contains("US-East"),
        "{err}"
    );

    let mut p = plan("Bad Gateway", vec![Service::Trunk]);
    p.enterprise.sbc_gateways = vec![4242];
    let err = Onboarding::new(p)
        .expect("flow")
        .advance(&h.client)
        .await
        .expect_err("gateway");
    assert!(err.message().contains("4242"), "{err}");

    let mut p = plan("Disabled Pbx", vec![Service::Pbx]);
    p.enterprise.pbx_id = vec![1236];
    let err = Onboarding::new(p)
        .expect("flow")
        .advance(&h.client)
        .await
        .expect_err("disabled");
    assert!(
        err.message().contains("1236") && err.message().contains("disabled"),
        "{err}"
    );
    assert!(h.sim.enterprises().is_empty());
    assert_eq!(count(&h.sim, "/reseller/newEnterprise"), 0);
}

#[tokio::test]
async fn an_existing_enterprise_starts_at_part_two() {
    let h = Harness::new();
    let mut e = NewEnterprise::new("Made Earlier", vec![Service::Sms]);
    e.restrict_admin_access = Some(true);
    let id = h.client.create_enterprise(&e).await.expect("create");
    let mut p = plan("Made Earlier", vec![Service::Sms]);
    p.existing_enterprise_id = Some(id);
    let mut flow = Onboarding::new(p).expect("flow");
    let creates = count(&h.sim, "/reseller/newEnterprise");
    let seen = h.drive(&mut flow, "contoso", false).await;
    assert_eq!(count(&h.sim, "/reseller/newEnterprise"), creates);
    assert!(
        matches!(seen.last(), Some(Progress::Complete { enterprise_id, .. }) if *enterprise_id == id)
    );
}

#[tokio::test]
async fn a_client_without_a_callback_key_is_refused() {
    let h = Harness::new();
    let client = reseller_only(&h.sim).build().expect("client");
    let mut flow = Onboarding::new(plan("No Key", vec![Service::Sms])).expect("flow");
    let err = flow.advance(&client).await.expect_err("no key");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.message().contains("callback key"));
    assert!(h.sim.requests().is_empty());
}

#[tokio::test]
async fn the_flow_json_is_small_and_holds_no_client_secret() {
    let h = Harness::new();
    let mut flow =
        Onboarding::new(plan("Small Json", vec![Service::Pbx, Service::CallApp])).expect("flow");
    h.drive(&mut flow, "contoso", false).await;
    let json = flow.to_json().expect("json");
    assert!(json.len() < 4096, "{} bytes", json.len());
    let c = h.sim.credentials();
    for secret in [&c.client_secret, &c.password, &c.enterprise_password] {
        assert!(!json.contains(secret.as_str()));
    }
    assert!(!json.contains("test-callback-key"));
    let access = flow_access_token(&json);
    assert!(
        !format!("{flow:?}").contains(&access),
        "Debug masks the MSAL token"
    );
}

fn flow_access_token(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).expect("json");
    v["auth"]["accessToken"]
        .as_str()
        .expect("the flow keeps the MSAL result")
        .to_owned()
}

#[tokio::test]
async fn the_same_body_under_another_actions_tag_is_not_a_replay() {
    let h = Harness::new();
    let mut flow = Onboarding::new(plan("Replay Keyed", vec![Service::Sms])).expect("flow");
    let Progress::AwaitingAdmin { url, .. } = flow.advance(&h.client).await.expect("advance")
    else {
        panic!()
    };
    let cb = h
        .sim
        .approve_without_posting(&url, "contoso")
        .expect("approve");
    let body = cb.body.to_string();
    assert_eq!(
        flow.handle_callback(&keys(), &cb.url, &body)
            .expect("accepted"),
        CallbackOutcome::Accepted
    );
    let other = tag(&flow, ActionType::GetAgentConsent);
    let before = flow.to_json().expect("json");
    let err = flow
        .handle_callback(&keys(), &other, &body)
        .expect_err("not a replay, and not awaited");
    assert_eq!(err.code(), ErrorCode::CallbackInvalid);
    assert_eq!(flow.to_json().expect("json"), before);
}
