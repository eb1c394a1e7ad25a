use super::*;
use crate::models::{ActionType, NewEnterprise, Service};

fn plan(services: Vec<Service>) -> OnboardingPlan {
    let mut p = OnboardingPlan::new(
        NewEnterprise::new("Acme", services),
        "https://portal.example/cb",
    );
    p.gateway_regions = vec!["US-East".into()];
    p
}

#[test]
fn plans_are_validated_naming_the_field() {
    let mut p = plan(vec![Service::Pbx]);
    p.gateway_regions.clear();
    assert!(
        Onboarding::new(p)
            .expect_err("no gateways")
            .message()
            .contains("sbcGateways")
    );
    let mut p = plan(vec![Service::Sms]);
    p.redirect_url = "http://portal.example/cb".into();
    assert!(
        Onboarding::new(p)
            .expect_err("http")
            .message()
            .contains("redirect_url")
    );
    let mut p = plan(vec![Service::Sms]);
    p.optional_consents = vec![ActionType::GetAgentConsent];
    assert!(
        Onboarding::new(p)
            .expect_err("not optional")
            .message()
            .contains("optional_consents")
    );
    let mut p = plan(vec![Service::Sms]);
    p.redirect_url = "https://portal.example/cb?ctt_flow=x".into();
    assert!(Onboarding::new(p).is_err());
    assert!(Onboarding::new(plan(vec![Service::Pbx, Service::CallApp])).is_ok());
}

#[test]
fn status_lists_every_step_with_skips() {
    let flow = Onboarding::new(plan(vec![Service::Sms, Service::Chat])).expect("flow");
    let status = flow.status();
    assert_eq!(status.len(), Step::ALL.len());
    let state = |s: Step| status.iter().find(|x| x.step == s).map(|x| x.state);
    assert_eq!(state(Step::SbcGateways), Some(StepState::Skipped));
    assert_eq!(state(Step::PbxTypes), Some(StepState::Skipped));
    assert_eq!(state(Step::CreateEnterprise), Some(StepState::Pending));
    assert_eq!(state(Step::CallAppConsent), Some(StepState::Skipped));
    assert_eq!(state(Step::PresenceConsent), Some(StepState::Pending));
    assert_eq!(
        state(Step::ManagementConsentUpdate),
        Some(StepState::Pending)
    );
}

#[test]
fn json_round_trips_and_refuses_newer_schemas() {
    let flow = Onboarding::new(plan(vec![Service::Trunk])).expect("flow");
    let json = flow.to_json().expect("json");
    assert_eq!(Onboarding::from_json(&json).expect("back"), flow);
    let newer = json.replacen("\"schema\":2", "\"schema\":3", 1);
    let e = Onboarding::from_json(&newer).expect_err("newer");
    assert!(e.message().contains("schema 3"), "{e}");
    let older = json.replacen("\"schema\":2", "\"schema\":1", 1);
    assert_eq!(
        Onboarding::from_json(&older)
            .expect("version 1 is read")
            .to_json()
            .expect("json"),
        json,
        "and written back as version 2"
    );
    assert!(Onboarding::from_json("{}").is_err());
    assert!(Onboarding::from_json("nope").is_err());
}

#[test]
fn the_summary_names_the_flow_and_holds_no_secret() {
    let flow = Onboarding::new(plan(vec![Service::Sms])).expect("flow");
    let summary = flow.to_string();
    let expected = format!(
        "Onboarding(id={}, enterprise=\"Acme\", enterpriseId=None, complete=false)",
        flow.id()
    );
    assert_eq!(summary, expected);
}
