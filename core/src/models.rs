//! The vendor's request and response bodies, with the wire's exact field names.
//!
//! Every struct here serializes to exactly what the ConnecttoTeams API sends or expects
//! (`enterpriseName`, `pbxId`, `sbcGateways`, ...). Enumerations the vendor may extend
//! ([`Service`], [`ActionType`]) keep values they do not know as `Other`, so a new vendor value
//! never breaks a caller. Unknown response fields are kept in `extra` maps rather than dropped.

use crate::error::{Error, Result};
use crate::secret::Secret;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest enterprise name this library sends (the vendor publishes no limit; names longer
/// than this are almost certainly a bug in the caller).
pub const MAX_ENTERPRISE_NAME_LEN: usize = 256;

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the library does not know, passed through unchanged.
            Other(String),
        }

        impl $name {
            /// Every value this library knows, in documentation order.
            pub const KNOWN: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The value as the vendor spells it on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(s) => s.as_str(),
                }
            }

            /// Reads a wire value; unknown values become `Other`.
            pub fn from_wire(value: &str) -> Self {
                match value {
                    $( $wire => $name::$variant, )+
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                Ok(Self::from_wire(s))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                String::deserialize(deserializer).map(|s| Self::from_wire(&s))
            }
        }
    };
}

open_enum! {
    /// A service an enterprise subscribes to (`services` in the create body).
    Service {
        /// Teams calling through the provider's PBX; needs SBC gateways and a PBX type.
        Pbx => "PBX",
        /// Direct-routing trunk; needs SBC gateways.
        Trunk => "Trunk",
        /// The CallApp add-on; needs a PBX type and the CallApp consent.
        CallApp => "CALLAPP",
        /// The Call Recording add-on.
        CallRecording => "CallRecording",
        /// SMS.
        Sms => "SMS",
        /// Chat.
        Chat => "CHAT",
    }
}

impl Service {
    /// True for the calling services that need SBC gateways (PBX, Trunk).
    pub fn needs_gateways(&self) -> bool {
        matches!(self, Service::Pbx | Service::Trunk)
    }

    /// True for the services that need a PBX type (PBX, CallApp).
    pub fn needs_pbx_type(&self) -> bool {
        matches!(self, Service::Pbx | Service::CallApp)
    }
}

open_enum! {
    /// What a Global Admin is asked to do at an action item URL (`actionType`).
    ActionType {
        /// Register the enterprise (Part II).
        Registration => "REGISTRATION",
        /// Sign in again to hand over a fresh MSAL token.
        LoginEnterpriseAdmin => "LOGIN_ENTERPRISE_ADMIN",
        /// The mandatory user sync consent.
        GetUserSyncConsent => "GET_USER_SYNC_CONSENT",
        /// The mandatory presence consent.
        GetPresenceConsent => "GET_PRESENCE_CONSENT",
        /// The mandatory "App Deployment Agent" consent.
        GetAgentConsent => "GET_AGENT_CONSENT",
        /// The CallApp consent, mandatory with the CallApp add-on.
        GetCallAppConsent => "GET_CALL_APP_CONSENT",
        /// "Allow Management by Service Provider" (optional, recommended).
        GetServiceProviderManagementConsent => "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT",
        /// Optional contacts sync consent.
        GetContactsConsent => "GET_CONTACTS_CONSENT",
        /// Optional call records (CDR) consent.
        GetCdrConsent => "GET_CDR_CONSENT",
        /// Call recording consent (ASSUMED name: the vendor does not publish it).
        GetCallRecordingConsent => "GET_CALL_RECORDING_CONSENT",
    }
}

/// The reseller API user, from `getAuthenticatedUser`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatedUser {
    /// The user name.
    #[serde(default)]
    pub username: Option<String>,
    /// The user's level, such as `RESELLER`.
    #[serde(rename = "type", default)]
    pub user_type: Option<String>,
    /// The reseller this user belongs to; most calls need it.
    #[serde(default)]
    pub reseller_id: Option<i64>,
    /// Every other field the API returned.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// An SBC gateway region a reseller may assign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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

/// The `configDetails` of an enterprise configuration entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ConfigDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contexts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub def_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_popover: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_reseller: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reseller: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<bool>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub config_type: Option<String>,
}

/// One enterprise configuration entry (`entConfigInfos`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EntConfigInfo {
    /// What is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_details: Option<ConfigDetails>,
    /// The entity the value applies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<i64>,
    /// The entry's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The body of `POST /reseller/newEnterprise`.
///
/// Required: `enterprise_name` (unique), `services`, `sbc_gateways` for PBX or Trunk, `pbx_id` for
/// PBX or CALLAPP. [`NewEnterprise::validate`] checks this before anything is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct NewEnterprise {
    /// The enterprise's name, unique in the vendor's system.
    pub enterprise_name: String,
    /// The services to enable.
    #[serde(default)]
    pub services: Vec<Service>,
    /// SBC gateway ids (`sbcGatewayId`), required for PBX and Trunk.
    #[serde(default)]
    pub sbc_gateways: Vec<i64>,
    /// PBX type ids, required for PBX and CALLAPP.
    #[serde(default)]
    pub pbx_id: Vec<i64>,
    /// Restrict the enterprise admin's access; the restricted-access flow sets it to true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrict_admin_access: Option<bool>,
    /// The reseller creating it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseller_id: Option<i64>,
    /// Country name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_name: Option<String>,
    /// The provider's billing references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_references: Option<Vec<String>>,
    /// Whether external numbers may be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_external_numbers: Option<bool>,
    /// Whether extensions may be added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_add_extensions: Option<bool>,
    /// Whether the reseller may manage the enterprise's provisioning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_reseller_manage_enterprise_provisioning: Option<bool>,
    /// Configuration entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ent_config_infos: Option<Vec<EntConfigInfo>>,
    /// The enterprise id, when the vendor asks for one (normally 0 or absent on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<i64>,
    /// Whether the enterprise is federated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federated: Option<bool>,
    /// The federation domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federation_domain: Option<String>,
    /// PBX music on hold (`pbxMOH` on the wire).
    #[serde(rename = "pbxMOH", default, skip_serializing_if = "Option::is_none")]
    pub pbx_moh: Option<bool>,
    /// Who registered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_by: Option<String>,
    /// Whether secure SMS is enabled (`secureSMSEnabled` on the wire).
    #[serde(
        rename = "secureSMSEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub secure_sms_enabled: Option<bool>,
    /// The user limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_limit: Option<i64>,
    /// Whether user provisioning is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_provisioning_enabled: Option<bool>,
}

impl NewEnterprise {
    /// An enterprise with a name and services; set gateways and PBX types as the services need.
    pub fn new(enterprise_name: impl Into<String>, services: Vec<Service>) -> Self {
        Self {
            enterprise_name: enterprise_name.into(),
            services,
            ..Self::default()
        }
    }

    /// True when any service needs SBC gateways.
    pub fn needs_gateways(&self) -> bool {
        self.services.iter().any(Service::needs_gateways)
    }

    /// True when any service needs a PBX type.
    pub fn needs_pbx_type(&self) -> bool {
        self.services.iter().any(Service::needs_pbx_type)
    }

    /// Checks what the vendor requires before anything is sent; the error names the field.
    pub fn validate(&self) -> Result<()> {
        let name = self.enterprise_name.trim();
        if name.is_empty() {
            return Err(Error::invalid_input(
                "enterpriseName is required and must not be blank",
            ));
        }
        if self.enterprise_name.chars().count() > MAX_ENTERPRISE_NAME_LEN {
            return Err(Error::invalid_input(format!(
                "enterpriseName is longer than {MAX_ENTERPRISE_NAME_LEN} characters"
            )));
        }
        if self.enterprise_name.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "enterpriseName contains a control character",
            ));
        }
        if self.services.is_empty() {
            return Err(Error::invalid_input(
                "services must name at least one service",
            ));
        }
        for service in &self.services {
            if let Service::Other(s) = service
                && (s.is_empty()
                    || s.len() > 64
                    || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            {
                let shown: String = s.chars().take(40).collect();
                let more = if s.chars().count() > 40 { "…" } else { "" };
                return Err(Error::invalid_input(format!(
                    "services contains {shown:?}{more}, which is not a service name (known: PBX, Trunk, CALLAPP, CallRecording, SMS, CHAT)"
                )));
            }
        }
        if self.needs_gateways() && self.sbc_gateways.is_empty() {
            return Err(Error::invalid_input(
                "sbcGateways must name at least one gateway when services include PBX or Trunk",
            ));
        }
        if self.needs_pbx_type() && self.pbx_id.is_empty() {
            return Err(Error::invalid_input(
                "pbxId must name at least one PBX type when services include PBX or CALLAPP",
            ));
        }
        if let Some(id) = self.sbc_gateways.iter().find(|id| **id <= 0) {
            return Err(Error::invalid_input(format!(
                "sbcGateways contains {id}; ids are positive"
            )));
        }
        if let Some(id) = self.pbx_id.iter().find(|id| **id <= 0) {
            return Err(Error::invalid_input(format!(
                "pbxId contains {id}; ids are positive"
            )));
        }
        if let Some(id) = self.reseller_id.filter(|id| *id <= 0) {
            return Err(Error::invalid_input(format!(
                "resellerId is {id}; ids are positive"
            )));
        }
        if let Some(id) = self.enterprise_id.filter(|id| *id < 0) {
            return Err(Error::invalid_input(format!(
                "enterpriseId is {id}; it is 0 or positive"
            )));
        }
        if let Some(limit) = self.user_limit.filter(|l| *l < 0) {
            return Err(Error::invalid_input(format!(
                "userLimit is {limit}; it is 0 or positive"
            )));
        }
        Ok(())
    }
}

/// The signed-in Microsoft user inside an MSAL result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// The user's sign-in name, such as `globaladmin@example.com`.
    #[serde(default)]
    pub displayable_id: Option<String>,
    /// The identity provider.
    #[serde(default)]
    pub identity_provider: Option<String>,
    /// The Microsoft tenant id.
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// The MSAL `authenticationResult` a Global Admin's sign-in produces; the provisioning calls need it.
///
/// Its tokens are [`Secret`]s: printed as a mask, sent only in request bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationResult {
    /// The Microsoft access token.
    #[serde(default)]
    pub access_token: Secret,
    /// The token type, such as `login.microsoftonline.com`.
    #[serde(default)]
    pub access_token_type: Option<String>,
    /// Passed through as received.
    #[serde(default)]
    pub expires_after: Option<serde_json::Value>,
    /// Expiry in microseconds since the Unix epoch (16 digits in every vendor sample).
    #[serde(default)]
    pub expires_on: Option<i64>,
    /// Passed through as received.
    #[serde(default)]
    pub expires_on_date: Option<serde_json::Value>,
    /// The id token.
    #[serde(default)]
    pub id_token: Option<Secret>,
    /// As received.
    #[serde(default)]
    pub multiple_resource_refresh_token: Option<bool>,
    /// The refresh token, usually null.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// Who signed in, and the tenant.
    #[serde(default)]
    pub user_info: Option<UserInfo>,
}

impl AuthenticationResult {
    /// When the access token expires, reading `expiresOn` as microseconds (or milliseconds or
    /// seconds when it has fewer digits).
    pub fn expires_at(&self) -> Option<SystemTime> {
        // Checked all the way: a huge or negative value is no expiry, never a wrapped one.
        let v = u64::try_from(self.expires_on?).ok().filter(|v| *v > 0)?;
        let d = if v >= 10_000_000_000_000 {
            Duration::from_micros(v)
        } else if v >= 10_000_000_000 {
            Duration::from_millis(v)
        } else {
            Duration::from_secs(v)
        };
        UNIX_EPOCH.checked_add(d)
    }

    /// True when `expiresOn` is at or before `now` plus `margin`. Unknown expiry counts as valid.
    pub fn is_expired(&self, now: SystemTime, margin: Duration) -> bool {
        // A margin that runs past the end of time makes every known expiry count as expired.
        self.expires_at()
            .is_some_and(|at| now.checked_add(margin).is_none_or(|limit| at <= limit))
    }

    /// The tenant id from `userInfo`.
    pub fn tenant_id(&self) -> Option<&str> {
        self.user_info.as_ref()?.tenant_id.as_deref()
    }

    /// Who signed in, from `userInfo`.
    pub fn displayable_id(&self) -> Option<&str> {
        self.user_info.as_ref()?.displayable_id.as_deref()
    }
}

/// The `msalAuthenticationResult` wrapper of a callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MsalAuthenticationResult {
    /// The MSAL result.
    pub authentication_result: AuthenticationResult,
    /// Null in every sample.
    #[serde(default)]
    pub reseller_id: Option<i64>,
    /// Null in every sample; the tenant is in `authenticationResult.userInfo`.
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// The JSON ConnecttoTeams posts to a `redirectUrl` after the Global Admin acts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackPayload {
    /// The admin's MSAL result.
    pub msal_authentication_result: MsalAuthenticationResult,
    /// Such as `MSFT`.
    #[serde(default)]
    pub organization: Option<String>,
    /// `GLOBAL_ADMIN` for a Global Admin.
    #[serde(default)]
    pub office_user_type: Option<String>,
    /// True for a company (Global) admin.
    #[serde(default)]
    pub company_admin: Option<bool>,
    /// Whether the tenant has the "Skype and Teams Tenant Admin API".
    #[serde(default, rename = "containsTeamsTenantAdminAPI")]
    pub contains_teams_tenant_admin_api: Option<bool>,
}

impl CallbackPayload {
    /// Parses a callback body; a `decode` error names what is wrong.
    pub fn parse(body: &str) -> Result<Self> {
        serde_json::from_str(body)
            .map_err(|e| Error::decode(format!("callback body is not the documented JSON: {e}")))
    }

    /// The MSAL result.
    pub fn authentication_result(&self) -> &AuthenticationResult {
        &self.msal_authentication_result.authentication_result
    }

    /// The tenant id the admin signed in to.
    pub fn tenant_id(&self) -> Option<&str> {
        self.authentication_result()
            .tenant_id()
            .or(self.msal_authentication_result.tenant_id.as_deref())
    }

    /// True when the signer is a Global Admin (`officeUserType` is `GLOBAL_ADMIN` and `companyAdmin` is not false).
    pub fn is_global_admin(&self) -> bool {
        self.office_user_type.as_deref() == Some("GLOBAL_ADMIN")
            && self.company_admin != Some(false)
    }
}

/// The answer of `getO365UserInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct O365UserInfo {
    /// Whether the tenant has the "Skype and Teams Tenant Admin API".
    #[serde(default, rename = "containsTeamsTenantAdminAPI")]
    pub contains_teams_tenant_admin_api: bool,
    /// Every other field (user details).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The body of `updateEnterpriseManagementConsentByReseller`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementConsentRequest {
    /// The Global Admin's MSAL result.
    pub authentication_result: AuthenticationResult,
    /// The reseller taking over management.
    pub reseller_id: i64,
    /// The enterprise's Microsoft tenant id.
    pub tenant_id: String,
}

/// An enterprise as the reseller's enterprise list reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnterpriseSummary {
    /// The enterprise's database id.
    pub enterprise_id: i64,
    /// Its name.
    pub enterprise_name: String,
    /// Its billing references, when the list shows them (`None` when it does not).
    #[serde(default)]
    pub billing_references: Option<Vec<String>>,
}

/// Decodes the enterprise list, whose shape is ASSUMED: an array, or an object holding the array
/// under `content`, `enterprises`, `data` or `items`; each entry with `enterpriseId` or `id`.
pub fn decode_enterprise_list(body: &[u8]) -> Result<Vec<EnterpriseSummary>> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::decode(format!("enterprise list is not JSON: {e}")))?;
    let items = match &value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(map) => ["content", "enterprises", "data", "items"]
            .iter()
            .find_map(|k| map.get(*k).and_then(|v| v.as_array()))
            .ok_or_else(|| {
                Error::decode("enterprise list object has no content/enterprises/data/items array")
            })?,
        _ => {
            return Err(Error::decode(
                "enterprise list is neither an array nor an object",
            ));
        }
    };
    items
        .iter()
        .map(|item| {
            let id = item
                .get("enterpriseId")
                .or_else(|| item.get("id"))
                .and_then(json_i64)
                .ok_or_else(|| {
                    Error::decode("enterprise list entry has no numeric enterpriseId or id")
                })?;
            let name = item
                .get("enterpriseName")
                .or_else(|| item.get("name"))
                .and_then(|v| v.as_str())
                .ok_or_else(|| Error::decode("enterprise list entry has no enterpriseName"))?;
            let billing_references = item
                .get("billingReferences")
                .and_then(|v| v.as_array())
                .map(|refs| {
                    refs.iter()
                        .filter_map(|r| r.as_str().map(str::to_owned))
                        .collect()
                });
            Ok(EnterpriseSummary {
                enterprise_id: id,
                enterprise_name: name.to_owned(),
                billing_references,
            })
        })
        .collect()
}

fn json_i64(v: &serde_json::Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Decodes the new enterprise's id: a bare number, a quoted number, or an object with `id` /
/// `enterpriseId` (the vendor documents only the first).
pub fn decode_enterprise_id(body: &[u8]) -> Result<i64> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::decode("enterprise id response is not UTF-8"))?;
    let text = text.trim();
    if let Ok(id) = text.parse::<i64>() {
        return positive_id(id);
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => map
            .get("enterpriseId")
            .or_else(|| map.get("id"))
            .and_then(json_i64)
            .ok_or_else(|| Error::decode("enterprise id response object has no id"))
            .and_then(positive_id),
        Ok(v) => json_i64(&v)
            .ok_or_else(|| {
                Error::decode(format!(
                    "enterprise id response is not a number: {}",
                    excerpt(text)
                ))
            })
            .and_then(positive_id),
        Err(_) => Err(Error::decode(format!(
            "enterprise id response is not a number: {}",
            excerpt(text)
        ))),
    }
}

fn positive_id(id: i64) -> Result<i64> {
    if id > 0 {
        Ok(id)
    } else {
        Err(Error::decode(format!(
            "enterprise id response is {id}; ids are positive"
        )))
    }
}

/// Decodes an action item URL: bare text or a JSON string, and it must be an absolute URL.
pub fn decode_action_item_url(body: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::decode("action item URL response is not UTF-8"))?;
    let text = text.trim();
    let url = if text.starts_with('"') {
        serde_json::from_str::<String>(text).map_err(|e| {
            Error::decode(format!(
                "action item URL response is a broken JSON string: {e}"
            ))
        })?
    } else {
        text.to_owned()
    };
    match url::Url::parse(&url) {
        Ok(u) if u.scheme() == "https" => Ok(url),
        // The admin signs in on that page: plain http is accepted only on a loopback host (the
        // simulator), as for every other URL the client takes.
        Ok(u) if u.scheme() == "http" && crate::client::is_loopback(&u) => Ok(url),
        Ok(u) if u.scheme() == "http" => Err(Error::decode(format!(
            "action item URL response is plain http on a public host; only https is accepted: {}",
            excerpt(&url)
        ))),
        _ => Err(Error::decode(format!(
            "action item URL response is not a URL: {}",
            excerpt(&url)
        ))),
    }
}

fn excerpt(text: &str) -> String {
    crate::secret::redact_excerpt(text, &[], 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_services_and_actions_pass_through() {
        let s: Vec<Service> = serde_json::from_str(r#"["PBX","FAX"]"#).expect("parse");
        assert_eq!(s, vec![Service::Pbx, Service::Other("FAX".into())]);
        assert_eq!(serde_json::to_string(&s).expect("ser"), r#"["PBX","FAX"]"#);
        assert_eq!(ActionType::from_wire("NEW_THING").as_str(), "NEW_THING");
        assert_eq!(
            ActionType::from_wire("REGISTRATION"),
            ActionType::Registration
        );
    }

    #[test]
    fn new_enterprise_uses_wire_names() {
        let mut e = NewEnterprise::new("Acme", vec![Service::Pbx]);
        e.sbc_gateways = vec![5678];
        e.pbx_id = vec![1234];
        e.restrict_admin_access = Some(true);
        let v = serde_json::to_value(&e).expect("ser");
        assert_eq!(v["enterpriseName"], "Acme");
        assert_eq!(v["sbcGateways"][0], 5678);
        assert_eq!(v["pbxId"][0], 1234);
        assert_eq!(v["restrictAdminAccess"], true);
        assert!(v.get("countryName").is_none());
    }

    #[test]
    fn every_field_of_the_vendor_sample_keeps_its_wire_name() {
        let sample = r#"{"allowExternalNumbers":true,"billingReferences":["string"],"canAddExtensions":true,
            "canResellerManageEnterpriseProvisioning":true,"countryName":"string","entConfigInfos":[{"configDetails":
            {"contexts":"string","defValue":"string","ent":true,"id":0,"labelName":"string","labelPopover":"string",
            "masterReseller":true,"name":"string","partner":true,"reseller":true,"system":true,"type":"string"},
            "entityId":0,"id":0,"value":"string"}],"enterpriseId":0,"enterpriseName":"string","federated":true,
            "federationDomain":"string","pbxId":[0],"pbxMOH":true,"registeredBy":"string","resellerId":0,
            "restrictAdminAccess":true,"sbcGateways":[0],"secureSMSEnabled":true,"services":["string"],"userLimit":0,
            "userProvisioningEnabled":true}"#;
        let parsed: NewEnterprise = serde_json::from_str(sample).expect("the vendor's sample");
        let back = serde_json::to_value(&parsed).expect("serialize");
        let original: serde_json::Value = serde_json::from_str(sample).expect("json");
        assert_eq!(back, original, "a field was renamed or dropped");
    }

    #[test]
    fn validate_names_the_field() {
        let cases: Vec<(NewEnterprise, &str)> = vec![
            (
                NewEnterprise::new("  ", vec![Service::Sms]),
                "enterpriseName",
            ),
            (
                NewEnterprise::new("x".repeat(300), vec![Service::Sms]),
                "enterpriseName",
            ),
            (NewEnterprise::new("A", vec![]), "services"),
            (
                NewEnterprise::new("A", vec![Service::Other("bad value".into())]),
                "services",
            ),
            (NewEnterprise::new("A", vec![Service::Trunk]), "sbcGateways"),
            (
                NewEnterprise {
                    sbc_gateways: vec![1],
                    ..NewEnterprise::new("A", vec![Service::Pbx])
                },
                "pbxId",
            ),
            (NewEnterprise::new("A", vec![Service::CallApp]), "pbxId"),
            (
                NewEnterprise {
                    sbc_gateways: vec![-1],
                    ..NewEnterprise::new("A", vec![Service::Trunk])
                },
                "sbcGateways",
            ),
            (
                NewEnterprise {
                    pbx_id: vec![0],
                    ..NewEnterprise::new("A", vec![Service::CallApp])
                },
                "pbxId",
            ),
            (
                NewEnterprise {
                    user_limit: Some(-4),
                    ..NewEnterprise::new("A", vec![Service::Sms])
                },
                "userLimit",
            ),
            (
                NewEnterprise {
                    enterprise_id: Some(-1),
                    ..NewEnterprise::new("A", vec![Service::Sms])
                },
                "enterpriseId",
            ),
        ];
        for (e, field) in cases {
            let err = e.validate().expect_err("must fail");
            assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
            assert!(
                err.message().contains(field),
                "{} should name {field}",
                err.message()
            );
        }
        assert!(
            NewEnterprise::new("A", vec![Service::Sms, Service::Chat])
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn decoders_are_tolerant() {
        assert_eq!(decode_enterprise_id(b"123456789").expect("bare"), 123456789);
        assert_eq!(decode_enterprise_id(b"\"42\"").expect("quoted"), 42);
        assert_eq!(decode_enterprise_id(b"{\"id\":7}").expect("object"), 7);
        assert!(decode_enterprise_id(b"oops").is_err());
        assert!(decode_enterprise_id(b"-5").is_err());
        assert_eq!(
            decode_action_item_url(b"https://x.test/a?b=c").expect("bare"),
            "https://x.test/a?b=c"
        );
        assert_eq!(
            decode_action_item_url(b"\"https://x.test/a\"").expect("json"),
            "https://x.test/a"
        );
        assert!(decode_action_item_url(b"not a url").is_err());
        let list =
            decode_enterprise_list(br#"{"content":[{"enterpriseId":5,"enterpriseName":"A"}]}"#)
                .expect("list");
        assert_eq!(list[0].enterprise_id, 5);
        let list = decode_enterprise_list(br#"[{"id":"6","enterpriseName":"B"}]"#).expect("list");
        assert_eq!(list[0].enterprise_id, 6);
    }

    #[test]
    fn callback_parses_the_vendor_sample() {
        let body = r#"{"msalAuthenticationResult":{"authenticationResult":{"accessToken":"access_token","accessTokenType":"login.microsoftonline.com","expiresAfter":null,"expiresOn":1742985175242681,"expiresOnDate":null,"idToken":"id_token","multipleResourceRefreshToken":false,"refreshToken":null,"userInfo":{"displayableId":"globaladmin@example.com","identityProvider":"user","tenantId":"tenantid"}},"resellerId":null,"tenantId":null},"organization":"MSFT","officeUserType":"GLOBAL_ADMIN","companyAdmin":true,"containsTeamsTenantAdminAPI":true}"#;
        let p = CallbackPayload::parse(body).expect("parse");
        assert!(p.is_global_admin());
        assert_eq!(p.tenant_id(), Some("tenantid"));
        assert_eq!(p.contains_teams_tenant_admin_api, Some(true));
        let at = p.authentication_result().expires_at().expect("expiry");
        assert_eq!(
            at.duration_since(UNIX_EPOCH)
                .expect("after epoch")
                .as_secs(),
            1742985175
        );
        let canary = body
            .replace("\"access_token\"", "\"CANARY-AT\"")
            .replace("\"id_token\"", "\"CANARY-ID\"");
        let p = CallbackPayload::parse(&canary).expect("parse");
        assert_eq!(p.authentication_result().access_token.expose(), "CANARY-AT");
        let debug = format!("{p:?}");
        assert!(!debug.contains("CANARY"), "{debug}");
    }
}
