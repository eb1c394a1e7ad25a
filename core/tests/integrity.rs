//! Flow integrity as an attacker and as a portal with several workers would try it: forged bodies
//! under genuine tags, replays, old asks, retired keys, same-name enterprises, checkpoints and
//! compare-and-swap saves (issue 13). Each test names the attack; each would pass the landed
//! flow of before only if the protection it checks were missing.

mod common;

use common::*;
use ctt_onboard::callback::{Ask, new_nonce, tag_redirect_url};
use ctt_onboard::{
    ActionType, CallbackKey, CallbackKeys, CallbackOutcome, Client, Error, ErrorCode, ManualClock,
    NewEnterprise, Onboarding, OnboardingPlan, Progress, Service, Step, StepState,
};
use ctt_sim::{SimConfig, Simulator};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const REDIRECT: &str = "https://portal.example/ctt/callback?portal=1";
const CONTOSO: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

fn plan(name: &str, services: Vec<Service>) -> OnboardingPlan {
    let mut p = OnboardingPlan::new(NewEnterprise::new(name, services), REDIRECT);
    p.gateway_regions = vec!["US-East".into()];
    p
}

struct H {
    sim: Simulator,
    client: Client,
    clock: ManualClock,
}

impl H {
    fn new() -> Self {
        let sim = sim_with(SimConfig::default());
        let (client, clock) = client_with_clock(&sim);
        H { sim, client, clock }
    }

    fn keys(&self) -> &CallbackKeys {
        self.client.callback_keys().expect("keys")
    }

    async fn awaiting(&self, flow: &mut Onboarding) -> (ActionType, String) {
        match flow.advance(&self.client).await.expect("advance") {
            Progress::AwaitingAdmin { action, url } => (action, url),
            other => panic!("not awaiting: {other:?}"),
        }
    }

    /// The genuine callback for `url` (not posted anywhere).
    fn genuine(&self, url: &str, tenant: &str) -> (String, serde_json::Value) {
        let cb = self
            .sim
            .approve_without_posting(url, tenant)
            .expect("approve");
        (cb.url, cb.body)
    }

    /// Drives the flow to completion as `tenant`'s admin.
    async fn complete(&self, flow: &mut Onboarding, tenant: &str) -> (i64, String) {
        for _ in 0..40 {
            match flow.advance(&self.client).await.expect("advance") {
                Progress::AwaitingAdmin { url, .. } => {
                    let (cb, body) = self.genuine(&url, tenant);
                    flow.handle_callback(self.keys(), &cb, &body.to_string())
                        .expect("genuine callback");
                }
                Progress::WaitingUntil { .. } => {
                    self.clock.advance(Duration::from_secs(31 * 60));
                    self.sim.advance_clock(Duration::from_secs(31 * 60));
                }
                Progress::Complete {
                    enterprise_id,
                    tenant_id,
                } => return (enterprise_id, tenant_id),
            }
        }
        panic!("did not complete: {:?}", flow.status());
    }

    fn consents_of(&self, enterprise_id: i64, action: &str) -> usize {
        self.sim
            .consents()
            .iter()
            .filter(|c| c.enterprise_id == enterprise_id && c.action == action)
            .count()
    }
}

fn detail(flow: &Onboarding, step: Step) -> String {
    flow.status()
        .into_iter()
        .find(|s| s.step == step)
        .and_then(|s| s.detail)
        .unwrap_or_default()
}

fn state(flow: &Onboarding, step: Step) -> StepState {
    flow.status()
        .into_iter()
        .find(|s| s.step == step)
        .map(|s| s.state)
        .expect("listed")
}

fn auth(body: &mut serde_json::Value) -> &mut serde_json::Value {
    &mut body["msalAuthenticationResult"]["authenticationResult"]
}

#[tokio::test]
async fn a_forged_registration_under_a_genuine_tag_never_binds_a_tenant() {
    let h = H::new();
    let mut flow = Onboarding::new(plan("Forged Reg", vec![Service::Sms])).expect("flow");
    let (_, url) = h.awaiting(&mut flow).await;
    let (cb_url, mut body) = h.genuine(&url, "contoso");
    // The attacker's body: an opaque token of its own and its own tenant.
    auth(&mut body)["accessToken"] = "attacker-opaque-token".into();
    auth(&mut body)["userInfo"]["tenantId"] = "00000000-0000-0000-0000-0000000000ee".into();
    assert_eq!(
        flow.handle_callback(h.keys(), &cb_url, &body.to_string())
            .expect("nothing offline tells it apart"),
        CallbackOutcome::Accepted
    );
    assert_eq!(
        flow.tenant_id(),
        None,
        "nothing is bound before the vendor confirms"
    );
    // advance asks ConnecttoTeams, which never issued that token: the step asks again.
    let (action, again) = h.awaiting(&mut flow).await;
    assert_eq!(action, ActionType::Registration);
    assert_ne!(again, url, "a new ask, with a new nonce");
    assert_eq!(flow.tenant_id(), None);
    assert!(
        detail(&flow, Step::Registration).contains("refused"),
        "{}",
        detail(&flow, Step::Registration)
    );
    // The genuine admin finishes on the new URL: the flow is not bricked.
    let (_, tenant) = h.complete(&mut flow, "contoso").await;
    assert_eq!(tenant, CONTOSO);
    assert!(!detail(&flow, Step::Registration).contains("refused"));
}

#[tokio::test]
async fn a_body_whose_tenant_disagrees_with_its_token_is_refused_offline() {
    let h = H::new();
    let mut flow = Onboarding::new(plan("Tid Mismatch", vec![Service::Sms])).expect("flow");
    let (_, url) = h.awaiting(&mut flow).await;
    let (cb_url, mut body) = h.genuine(&url, "contoso");
    auth(&mut body)["userInfo"]["tenantId"] = "00000000-0000-0000-0000-0000000000ee".into();
    let before = flow.to_json().expect("json");
    let err = flow
        .handle_callback(h.keys(), &cb_url, &body.to_string())
        .expect_err("tid disagrees");
    assert_eq!(err.code(), ErrorCode::CallbackInvalid);
    assert!(err.message().contains("issued for tenant"), "{err}");
    assert_eq!(flow.to_json().expect("json"), before);
}

#[tokio::test]
async fn the_tenant_admin_api_flag_comes_from_the_vendor_not_the_body() {
    let h = H::new();
    let mut flow = Onboarding::new(plan("Flag Forged", vec![Service::Trunk])).expect("flow");
    let (_, url) = h.awaiting(&mut flow).await;
    let (cb_url, mut body) = h.genuine(&url, "fabrikam");
    body["containsTeamsTenantAdminAPI"] = true.into();
    flow.handle_callback(h.keys(), &cb_url, &body.to_string())
        .expect("accepted");
    h.complete(&mut flow, "fabrikam").await;
    assert_eq!(
        count(&h.sim, "/provisioning/provisionTenantAdminAPI"),
        1,
        "provisioned although the body claimed the API was there"
    );
}

#[tokio::test]
async fn a_forged_consent_is_never_marked_granted() {
    let h = H::new();
    let mut flow = Onboarding::new(plan("Forged Consent", vec![Service::Sms])).expect("flow");
    let (_, url) = h.awaiting(&mut flow).await;
    let (cb, body) = h.genuine(&url, "contoso");
    flow.handle_callback(h.keys(), &cb, &body.to_string())
        .expect("registration");
    let (action, url) = h.awaiting(&mut flow).await;
    assert_eq!(action, ActionType::GetUserSyncConsent);
    // The attacker read the redirect URL (it is not secret) and posts first: the registration's
    // body with a token Microsoft never issued. The admin has not clicked.
    let cb = h.sim.redirect_url_of(&url).expect("pending");
    let mut forged = body.clone();
    auth(&mut forged)["accessToken"] = "opaque-forged-token".into();
    flow.handle_callback(h.keys(), &cb, &forged.to_string())
        .expect("accepted offline");
    let (action, _) = h.awaiting(&mut flow).await;
    assert_eq!(action, ActionType::GetUserSyncConsent, "asked again");
    assert_ne!(state(&flow, Step::UserSyncConsent), StepState::Done);
    assert!(detail(&flow, Step::UserSyncConsent).contains("refused"));
    let (enterprise, _) = h.complete(&mut flow, "contoso").await;
    assert_eq!(state(&flow, Step::UserSyncConsent), StepState::Done);
    assert_eq!(
        h.consents_of(enterprise, "GET_USER_SYNC_CONSENT"),
        1,
        "granted by the admin, once"
    );
}

#[tokio::test]
async fn a_replay_with_other_whitespace_or_key_order_is_a_duplicate() {
    let h = H::new();
    let mut flow = Onboarding::new(plan("Whitespace", vec![Service::Sms])).expect("flow");
    let (_, url) = h.awaiting(&mut flow).await;
    let (cb, body) = h.genuine(&url, "contoso");
    flow.handle_callback(h.keys(), &cb, &body.to_string())
        .expect("accepted");
    let before = (flow.to_json().expect("json"), flow.revision());
    let spaced = serde_json::to_string_pretty(&body).expect("pretty");
    assert_ne!(spaced, body.to_string());
    assert_eq!(
        flow.handle_callback(h.keys(), &cb, &spaced)
            .expect("replay"),
        CallbackOutcome::Duplicate
    );
    assert_eq!((flow.to_json().expect("json"), flow.revision()), before);
    // One changed value under the same URL is not a replay: it is refused.
    let mut changed = body.clone();
    changed["organization"] = "CHANGED".into();
    let err = flow
        .handle_callback(h.keys(), &cb, &changed.to_string())
        .expect_err("a URL answers once");
    assert_eq!(err.code(), ErrorCode::CallbackInvalid);
    assert_eq!((flow.to_json().expect("json"), flow.revision()), before);
}

#[tokio::test]
async fn a_callback_for_an_earlier_or_superseded_ask_is_refused() {
    let h = H::new();
    let mut flow = Onboarding::new(plan("Earlier Ask", vec![Service::Sms])).expect("flow");
    let (_, first) = h.awaiting(&mut flow).await;
    // Let the first ask expire: advance asks again with a new URL.
    h.clock.advance(Duration::from_secs(73 * 3600));
    h.sim.advance_clock(Duration::from_secs(73 * 3600));
    let (_, second) = h.awaiting(&mut flow).await;
    assert_ne!(first, second);
    let (old_cb, old_body) = h.genuine(&first, "contoso");
    let before = flow.to_json().expect("json");
    let err = flow
        .handle_callback(h.keys(), &old_cb, &old_body.to_string())
        .expect_err("expired");
    assert!(err.message().contains("expired"), "{err}");
    // Judged by a ring that lets old URLs live, it is still not the ask the flow waits for.
    let lenient = CallbackKeys::single("test-callback-key-0123456789")
        .expect("ring")
        .with_max_age(Duration::from_secs(100 * 3600))
        .expect("age")
        .with_clock(Arc::new(h.clock.clone()));
    let err = flow
        .handle_callback(&lenient, &old_cb, &old_body.to_string())
        .expect_err("superseded");
    assert_eq!(err.code(), ErrorCode::CallbackInvalid);
    assert!(err.message().contains("earlier ask"), "{err}");
    assert_eq!(flow.to_json().expect("json"), before);
    // The registration's answer, sent again to a later ask's URL with its token, is a replay.
    let (cb, body) = h.genuine(&second, "contoso");
    flow.handle_callback(h.keys(), &cb, &body.to_string())
        .expect("accepted");
    let (_, consent) = h.awaiting(&mut flow).await;
    let (consent_cb, mut reused) = h.genuine(&consent, "contoso");
    *auth(&mut reused) = body["msalAuthenticationResult"]["authenticationResult"].clone();
    let err = flow
        .handle_callback(h.keys(), &consent_cb, &reused.to_string())
        .expect_err("old token");
    assert!(err.message().contains("replay"), "{err}");
}

#[tokio::test]
async fn a_retired_keys_urls_fail_saying_so_and_a_verify_key_still_works() {
    let sim = sim_with(SimConfig::default());
    let old = CallbackKey::new("old", b"the-old-portal-key-0123").expect("key");
    let new = CallbackKey::new("new", [0xA5u8; 32]).expect("bytes that are not UTF-8");
    let client = builder(&sim)
        .callback_keys(CallbackKeys::new(old.clone()))
        .build()
        .expect("client");
    let mut flow = Onboarding::new(plan("Rotated", vec![Service::Sms])).expect("flow");
    let Progress::AwaitingAdmin { url, .. } = flow.advance(&client).await.expect("advance") else {
        panic!()
    };
    let cb = sim
        .approve_without_posting(&url, "contoso")
        .expect("approve");
    let body = cb.body.to_string();
    let retired = CallbackKeys::new(new.clone())
        .with_retired("old")
        .expect("ring");
    let err = flow
        .handle_callback(&retired, &cb.url, &body)
        .expect_err("retired");
    assert_eq!(err.code(), ErrorCode::CallbackInvalid);
    assert!(err.message().contains("retired"), "{err}");
    let rotating = CallbackKeys::new(new).with_verify_key(old).expect("ring");
    assert_eq!(
        flow.handle_callback(&rotating, &cb.url, &body)
            .expect("old key still verifies"),
        CallbackOutcome::Accepted
    );
    let short = builder(&sim)
        .callback_key([1u8; 8])
        .build()
        .expect_err("short");
    assert_eq!(short.code(), ErrorCode::InvalidInput);
    assert!(short.message().contains("callback_key"), "{short}");
}

#[tokio::test]
async fn two_flows_with_one_name_never_share_an_enterprise() {
    let h = H::new();
    let mut first = Onboarding::new(plan("Acme", vec![Service::Sms])).expect("flow");
    let mut second = Onboarding::new(plan("Acme", vec![Service::Sms])).expect("flow");
    h.awaiting(&mut first).await;
    let before = second.enterprise_id();
    let err = second
        .advance(&h.client)
        .await
        .expect_err("the name is taken");
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert!(err.message().contains("\"Acme\""), "{err}");
    assert_eq!(second.enterprise_id(), before);
    assert_eq!(second.enterprise_id(), None);
    assert_eq!(h.sim.enterprises().len(), 1);
    // An enterprise created by hand in the vendor's portal is not hijacked either.
    let mut by_hand = NewEnterprise::new("Made By Hand", vec![Service::Sms]);
    by_hand.restrict_admin_access = Some(true);
    h.client.create_enterprise(&by_hand).await.expect("by hand");
    let mut flow = Onboarding::new(plan("Made By Hand", vec![Service::Sms])).expect("flow");
    assert_eq!(
        flow.advance(&h.client).await.expect_err("taken").code(),
        ErrorCode::Conflict
    );
    assert_eq!(flow.enterprise_id(), None);
}

#[tokio::test]
async fn a_failed_checkpoint_stops_advance_before_the_create() {
    let h = H::new();
    let mut flow = Onboarding::new(plan("No Save", vec![Service::Sms])).expect("flow");
    let revision = flow.revision();
    let mut refuse = |_: &Onboarding, _: u64| -> ctt_onboard::Result<()> {
        Err(Error::flow_state("the database is read-only"))
    };
    let err = flow
        .advance_with_checkpoint(&h.client, &mut refuse)
        .await
        .expect_err("refused");
    assert!(err.message().contains("read-only"), "{err}");
    assert_eq!(count(&h.sim, "/reseller/newEnterprise"), 0, "nothing sent");
    assert_eq!(flow.revision(), revision);
    assert!(h.sim.enterprises().is_empty());
}

/// A stored row: the flow's JSON and its revision, saved with compare-and-swap.
#[derive(Clone, Default)]
struct Row(Arc<Mutex<(String, u64)>>);

impl Row {
    fn load(&self) -> Onboarding {
        Onboarding::from_json(&self.0.lock().expect("row").0).expect("flow")
    }

    fn cas(&self, flow: &Onboarding, previous: u64) -> ctt_onboard::Result<()> {
        let mut row = self.0.lock().expect("row");
        if row.1 != previous {
            return Err(Error::flow_state(format!(
                "stale: the row is at revision {}, not {previous}",
                row.1
            )));
        }
        *row = (flow.to_json()?, flow.revision());
        Ok(())
    }
}

#[tokio::test]
async fn two_advances_racing_on_one_stored_flow_send_one_create() {
    let h = H::new();
    let flow = Onboarding::new(plan("Raced", vec![Service::Sms])).expect("flow");
    let row = Row::default();
    *row.0.lock().expect("row") = (flow.to_json().expect("json"), flow.revision());
    let (mut a, mut b) = (row.load(), row.load());
    let (ra, rb) = (row.clone(), row.clone());
    let mut save_a = move |f: &Onboarding, prev: u64| ra.cas(f, prev);
    let mut save_b = move |f: &Onboarding, prev: u64| rb.cas(f, prev);
    let (x, y) = tokio::join!(
        a.advance_with_checkpoint(&h.client, &mut save_a),
        b.advance_with_checkpoint(&h.client, &mut save_b)
    );
    let outcomes = [x.is_ok(), y.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{x:?} {y:?}");
    let loser = if x.is_ok() { y } else { x };
    assert_eq!(loser.expect_err("lost").code(), ErrorCode::FlowState);
    assert_eq!(count(&h.sim, "/reseller/newEnterprise"), 1);
    assert_eq!(h.sim.enterprises().len(), 1);
    assert_eq!(row.load().enterprise_id(), Some(h.sim.enterprises()[0].id));
}

#[tokio::test]
async fn a_callback_racing_an_advance_is_never_lost() {
    let h = H::new();
    let row = Row::default();
    let flow =
        Onboarding::new(plan("Race Rounds", vec![Service::Pbx, Service::CallApp])).expect("flow");
    *row.0.lock().expect("row") = (flow.to_json().expect("json"), flow.revision());
    let mut rounds = 0;
    for _ in 0..40 {
        // Worker A advances the stored flow; its checkpoint saves with compare-and-swap.
        let mut a = row.load();
        let ra = row.clone();
        let mut save = move |f: &Onboarding, prev: u64| ra.cas(f, prev);
        let progress = match a.advance_with_checkpoint(&h.client, &mut save).await {
            Ok(p) => p,
            Err(e) if e.code() == ErrorCode::FlowState => continue,
            Err(e) => panic!("{e}"),
        };
        let Progress::AwaitingAdmin { url, .. } = progress else {
            break;
        };
        // Worker B takes the callback from the stored row while worker A, holding an older
        // copy, advances again (nothing to do but report the ask) and would save it back.
        let stale = row.load();
        let (cb, body) = h.genuine(&url, "contoso");
        loop {
            let mut b = row.load();
            let prev = b.revision();
            b.handle_callback(h.keys(), &cb, &body.to_string())
                .expect("accepted");
            if row.cas(&b, prev).is_ok() {
                break;
            }
        }
        let mut stale = stale;
        let rs = row.clone();
        let mut save_stale = move |f: &Onboarding, prev: u64| rs.cas(f, prev);
        // The stale copy still waits for the ask; if it changed anything its save would fail.
        let _ = stale
            .advance_with_checkpoint(&h.client, &mut save_stale)
            .await;
        assert!(
            row.load().has_unconfirmed_callback() || row.load().revision() > stale.revision(),
            "the callback is in the stored row"
        );
        rounds += 1;
    }
    let flow = row.load();
    assert!(flow.is_complete(), "{:?}", flow.status());
    assert!(rounds >= 5, "{rounds} rounds");
    let id = flow.enterprise_id().expect("id");
    for action in [
        "GET_USER_SYNC_CONSENT",
        "GET_PRESENCE_CONSENT",
        "GET_AGENT_CONSENT",
        "GET_CALL_APP_CONSENT",
        "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT",
    ] {
        assert_eq!(h.consents_of(id, action), 1, "{action} granted once");
    }
}

#[tokio::test]
async fn a_lost_create_answer_is_settled_by_the_flows_own_reference() {
    use ctt_sim::{FaultConfig, FaultKind};
    let h = H::new();
    // Another customer called the same already exists: the lost answer must not adopt it.
    let mut theirs = Onboarding::new(plan("Lost Answer", vec![Service::Sms])).expect("flow");
    h.awaiting(&mut theirs).await;
    let mut ours = Onboarding::new(plan("Lost Answer", vec![Service::Sms])).expect("flow");
    h.sim.set_faults(FaultConfig {
        rate: 1.0,
        seed: 1,
        kinds: vec![FaultKind::DropAfterRead],
        paths: vec!["/reseller/newEnterprise".into()],
        ..FaultConfig::default()
    });
    let err = ours.advance(&h.client).await.expect_err("lost or conflict");
    h.sim.set_faults(FaultConfig::default());
    assert_eq!(ours.enterprise_id(), None, "{err}");
    assert_eq!(h.sim.enterprises().len(), 1);

    // Our own lost create is found by its reference, not repeated.
    let mut lone = Onboarding::new(plan("Lone Lost", vec![Service::Sms])).expect("flow");
    h.sim.set_faults(FaultConfig {
        rate: 1.0,
        seed: 1,
        kinds: vec![FaultKind::DropAfterRead],
        paths: vec!["/reseller/newEnterprise".into()],
        ..FaultConfig::default()
    });
    let first = lone.advance(&h.client).await;
    h.sim.set_faults(FaultConfig::default());
    if first.is_err() {
        h.awaiting(&mut lone).await;
    }
    let made: Vec<_> = h
        .sim
        .enterprises()
        .into_iter()
        .filter(|e| e.name == "Lone Lost")
        .collect();
    assert_eq!(made.len(), 1);
    assert_eq!(lone.enterprise_id(), Some(made[0].id));
}

/// Registers fabrikam with the body edited by `edit`, lets the provisioning call fail once
/// with `refusal`, and returns the ask of the next `advance`.
async fn after_a_refused_provisioning(
    edit: impl FnOnce(&mut serde_json::Value),
    refusal: (u16, &str),
    pass: Duration,
) -> ActionType {
    let h = H::new();
    let mut flow = Onboarding::new(plan("Msal Refused", vec![Service::Trunk])).expect("flow");
    let (_, url) = h.awaiting(&mut flow).await;
    let (cb, mut body) = h.genuine(&url, "fabrikam");
    edit(auth(&mut body));
    flow.handle_callback(h.keys(), &cb, &body.to_string())
        .expect("accepted");
    h.sim.set_canned(ctt_sim::CannedResponse {
        path_prefix: "/provisioning/provisionTenantAdminAPI".into(),
        status: refusal.0,
        content_type: "application/json".into(),
        body: refusal.1.into(),
    });
    let first = flow.advance(&h.client).await;
    h.sim.clear_canned();
    h.clock.advance(pass);
    h.sim.advance_clock(pass);
    match first {
        Ok(Progress::AwaitingAdmin { action, .. }) => action,
        Ok(other) => panic!("{other:?}"),
        Err(_) => h.awaiting(&mut flow).await.0,
    }
}

#[tokio::test]
async fn a_result_without_expires_on_that_the_api_refuses_leads_to_a_fresh_sign_in() {
    // No expiresOn: only the API can judge it, and its refusal (whatever it says) means a fresh
    // sign-in, not `invalid_input` on every advance.
    let action = after_a_refused_provisioning(
        |a| {
            a.as_object_mut().expect("object").remove("expiresOn");
        },
        (
            400,
            r#"{"message":"authenticationResult was not accepted"}"#,
        ),
        Duration::ZERO,
    )
    .await;
    assert_eq!(action, ActionType::LoginEnterpriseAdmin);
}

#[tokio::test]
async fn the_api_sees_expired_before_the_local_clock_does() {
    // expiresOn claims a far future; the API knows better and says so.
    let action = after_a_refused_provisioning(
        |a| a["expiresOn"] = serde_json::json!(4_102_444_800_000_000i64),
        (500, "{}"),
        Duration::from_secs(2 * 3600),
    )
    .await;
    assert_eq!(action, ActionType::LoginEnterpriseAdmin);
}

#[tokio::test]
async fn flow_json_out_of_range_is_refused_and_tokens_can_stay_out() {
    let h = H::new();
    let mut flow = Onboarding::new(plan("Ranges", vec![Service::Sms])).expect("flow");
    let (_, url) = h.awaiting(&mut flow).await;
    let (cb, body) = h.genuine(&url, "contoso");
    flow.handle_callback(h.keys(), &cb, &body.to_string())
        .expect("accepted");
    h.awaiting(&mut flow).await;
    let json = flow.to_json().expect("json");
    let mut v: serde_json::Value = serde_json::from_str(&json).expect("json");
    for (path, value) in [
        ("/created_at", serde_json::json!(u64::MAX)),
        ("/revision", serde_json::json!(u64::MAX)),
        ("/enterprise_id", serde_json::json!(-5)),
        ("/awaiting/issued_at", serde_json::json!(1u64 << 60)),
        ("/auth/expiresOn", serde_json::json!(i64::MAX)),
        ("/schema", serde_json::json!(0)),
    ] {
        let mut bad = v.clone();
        *bad.pointer_mut(path).expect(path) = value;
        let err = Onboarding::from_json(&bad.to_string()).expect_err(path);
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{path}: {err}");
    }
    let access = v["auth"]["accessToken"].as_str().expect("token").to_owned();
    let without = flow.to_json_without_tokens().expect("json");
    assert!(!without.contains(&access));
    v = serde_json::from_str(&without).expect("json");
    assert!(v["auth"].is_null());
    let mut back = Onboarding::from_json(&without).expect("loads");
    assert_eq!(back.revision(), flow.revision());
    h.complete(&mut back, "contoso").await;
}

#[test]
fn urls_are_tagged_over_every_field_and_verify_once_per_ask() {
    // A genuine tag is bound to its ask: the same URL with another nonce does not verify.
    let keys = CallbackKeys::single("k".repeat(20)).expect("ring");
    let ask = Ask {
        flow_id: "f".into(),
        action: ActionType::Registration,
        nonce: new_nonce(),
        issued_at: 1_900_000_000,
        key_id: String::new(),
    };
    let url = tag_redirect_url(&keys, REDIRECT, &ask).expect("tag");
    let other = url.replace(&ask.nonce, &new_nonce());
    let body = r#"{"msalAuthenticationResult":{"authenticationResult":{"accessToken":"a"}},"officeUserType":"GLOBAL_ADMIN"}"#;
    assert!(ctt_onboard::verify_callback(&keys, &url, body).is_ok());
    assert_eq!(
        ctt_onboard::verify_callback(&keys, &other, body)
            .expect_err("nonce")
            .code(),
        ErrorCode::CallbackInvalid
    );
}

#[tokio::test]
async fn forgeries_over_and_over_never_grow_the_flow_without_end() {
    let h = H::new();
    let mut flow = Onboarding::new(plan("Persistent Forger", vec![Service::Sms])).expect("flow");
    let mut sizes = Vec::new();
    for _ in 0..45 {
        let (_, url) = h.awaiting(&mut flow).await;
        let cb = h.sim.redirect_url_of(&url).expect("pending");
        let body = serde_json::json!({
            "msalAuthenticationResult": {"authenticationResult": {
                "accessToken": new_nonce(),
                "userInfo": {"displayableId": "x@evil.example", "tenantId": "evil"}}},
            "officeUserType": "GLOBAL_ADMIN", "companyAdmin": true
        });
        flow.handle_callback(h.keys(), &cb, &body.to_string())
            .expect("accepted offline");
        sizes.push(flow.to_json().expect("json").len());
    }
    assert_eq!(flow.tenant_id(), None);
    assert!(
        sizes[44] <= sizes[34] + 64,
        "the JSON keeps growing: {} -> {} bytes",
        sizes[34],
        sizes[44]
    );
    let (_, tenant) = h.complete(&mut flow, "contoso").await;
    assert_eq!(tenant, CONTOSO);
}
