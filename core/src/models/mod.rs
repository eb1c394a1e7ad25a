//! The vendor's request and response bodies, with the wire's exact field names.
//!
//! Every struct here serializes to exactly what the ConnecttoTeams API sends or expects
//! (`enterpriseName`, `pbxId`, `sbcGateways`, ...). Enumerations the vendor may extend
//! ([`Service`], [`ActionType`]) keep values they do not know as `Other`, so a new vendor value
//! never breaks a caller. Unknown response fields are kept in `extra` maps rather than dropped.

mod decode;
mod enterprise;
mod enums;
mod msal;
mod reseller;

pub use decode::{decode_action_item_url, decode_enterprise_id, decode_enterprise_list};
pub use enterprise::{ConfigDetails, EntConfigInfo, NewEnterprise};
pub use enums::{ActionType, Service};
pub use msal::{
    AuthenticationResult, CallbackPayload, ManagementConsentRequest, MsalAuthenticationResult,
    O365UserInfo, UserInfo,
};
pub use reseller::{AuthenticatedUser, EnterpriseSummary, PbxType, SbcGateway};

/// The longest enterprise name this library sends (the vendor publishes no limit; names longer
/// than this are almost certainly a bug in the caller).
pub const MAX_ENTERPRISE_NAME_LEN: usize = 256;

#[cfg(test)]
mod tests;
