//! The callback parser and `verify`: arbitrary URLs and bodies must give an error, never a panic,
//! and a flow must refuse them without changing.
#![no_main]

use ctt_onboard::{CallbackKeys, NewEnterprise, Onboarding, OnboardingPlan, Service};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"fuzz-callback-key-0123456789";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (url, body) = text.split_once('\n').unwrap_or((&text, ""));
    let _ = ctt_onboard::CallbackPayload::parse(body);
    let Ok(keys) = CallbackKeys::single(KEY) else {
        return;
    };
    let _ = ctt_onboard::verify_callback(&keys, url, body);
    let plan = OnboardingPlan::new(NewEnterprise::new("Fuzz", vec![Service::Sms]), "https://portal.example/cb");
    if let Ok(mut flow) = Onboarding::new(plan) {
        let before = flow.clone();
        if flow.handle_callback(&keys, url, body).is_err() {
            assert_eq!(flow, before, "a refused callback changed the flow");
        }
    }
});
