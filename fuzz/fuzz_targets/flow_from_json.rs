//! `Onboarding::from_json`: arbitrary text is refused or read, never a panic; what is read
//! serializes again and reads back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(flow) = ctt_onboard::Onboarding::from_json(&text) {
        let _ = flow.status();
        let _ = flow.progress();
        let json = flow.to_json().expect("a flow read from JSON serializes");
        let again = ctt_onboard::Onboarding::from_json(&json).expect("and reads back");
        assert_eq!(again.to_json().expect("json"), json);
    }
});
