//! What the reseller-level calls answer: the API user, its gateways, PBX types and enterprises.

use serde::{Deserialize, Serialize};

/// The reseller API user, from `getAuthenticatedUser`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AuthenticatedUser {
    /// The user name.
    #[serde(default)]
    pub username: Option<String>,
    /// The user's level, such as `RESELLER`.
    #[serde(rename = "type", default)]
    #[cfg_attr(feature = "schema", schemars(extend("x-name" = "user_type")))]
    pub user_type: Option<String>,
    /// The reseller this user belongs to; most calls need it.
    #[serde(default)]
    pub reseller_id: Option<i64>,
    /// Every other field the API returned.
    #[serde(flatten)]
    #[cfg_attr(feature = "uniffi", uniffi(name = "extra_json"))]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// An SBC gateway region a reseller may assign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SbcGateway {
    /// The id to put in `sbcGateways`.
    pub sbc_gateway_id: i64,
    /// The region's name, such as `US-East`.
    #[serde(default)]
    pub sbc_gateway_region: String,
}

/// A PBX type a reseller may assign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PbxType {
    /// The id to put in `pbxId`.
    pub id: i64,
    /// The PBX type's name.
    #[serde(default)]
    pub pbx_name: String,
    /// Its label.
    #[serde(default)]
    pub pbx_label: Option<String>,
    /// True for the reseller's default PBX type.
    #[serde(default)]
    pub is_default: bool,
    /// True when it may not be assigned.
    #[serde(default)]
    pub is_disabled: bool,
    /// Hosting type, such as `Cloud`.
    #[serde(default)]
    pub hosting_type: Option<String>,
}

/// An enterprise as the reseller's enterprise list reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EnterpriseSummary {
    /// The enterprise's database id.
    pub enterprise_id: i64,
    /// Its name.
    pub enterprise_name: String,
    /// Its billing references, when the list shows them (`None` when it does not).
    #[serde(default)]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub billing_references: Option<Vec<String>>,
}
