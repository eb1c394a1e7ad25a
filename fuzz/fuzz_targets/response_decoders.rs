//! Every decoder of a vendor response: arbitrary bytes give a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ctt_onboard::decode_enterprise_id(data);
    let _ = ctt_onboard::decode_action_item_url(data);
    let _ = ctt_onboard::decode_enterprise_list(data);
    let _ = serde_json::from_slice::<Vec<ctt_onboard::SbcGateway>>(data);
    let _ = serde_json::from_slice::<Vec<ctt_onboard::PbxType>>(data);
    let _ = serde_json::from_slice::<ctt_onboard::AuthenticatedUser>(data);
    let _ = serde_json::from_slice::<ctt_onboard::O365UserInfo>(data);
});
