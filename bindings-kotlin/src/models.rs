//! The vendor's bodies as Kotlin data classes (uniffi records) and open enums, converted to and
//! from core's models field by field.
//!
//! Models that hold secrets (the MSAL `AuthenticationResult`, a callback's payload) are objects,
//! not records: a data class would print its tokens in `toString()`. Their `toString()` is core's
//! `Debug`, which masks every secret.

use crate::error::CttError;
use ctt_onboard as core;
use std::sync::Arc;

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the library does not know, passed through unchanged.
            Other {
                /// The value as the vendor spells it.
                value: String,
            },
        }

        impl From<$name> for core::$name {
            fn from(v: $name) -> Self {
                match v {
                    $( $name::$variant => core::$name::$variant, )+
                    // A known wire value typed as `Other` still means the known value.
                    $name::Other { value } => core::$name::from_wire(&value),
                }
            }
        }

        impl From<core::$name> for $name {
            fn from(v: core::$name) -> Self {
                match v {
                    $( core::$name::$variant => $name::$variant, )+
                    core::$name::Other(value) => $name::Other { value },
                }
            }
        }
    };
}

open_enum! {
    /// A service an enterprise subscribes to (`services` in the create body).
    Service {
        /// `PBX`: Teams calling through the provider's PBX; needs SBC gateways and a PBX type.
        Pbx,
        /// `Trunk`: direct-routing trunk; needs SBC gateways.
        Trunk,
        /// `CALLAPP`: the CallApp add-on; needs a PBX type and the CallApp consent.
        CallApp,
        /// `CallRecording`: the Call Recording add-on.
        CallRecording,
        /// `SMS`.
        Sms,
        /// `CHAT`.
        Chat,
    }
}

open_enum! {
    /// What a Global Admin is asked to do at an action item URL (`actionType`).
    ActionType {
        /// `REGISTRATION`: register the enterprise.
        Registration,
        /// `LOGIN_ENTERPRISE_ADMIN`: sign in again for a fresh MSAL token.
        LoginEnterpriseAdmin,
        /// `GET_USER_SYNC_CONSENT` (mandatory).
        GetUserSyncConsent,
        /// `GET_PRESENCE_CONSENT` (mandatory).
        GetPresenceConsent,
        /// `GET_AGENT_CONSENT`: "App Deployment Agent" (mandatory).
        GetAgentConsent,
        /// `GET_CALL_APP_CONSENT` (with the CallApp add-on).
        GetCallAppConsent,
        /// `GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT` (optional, recommended).
        GetServiceProviderManagementConsent,
        /// `GET_CONTACTS_CONSENT` (optional).
        GetContactsConsent,
        /// `GET_CDR_CONSENT` (optional).
        GetCdrConsent,
        /// `GET_CALL_RECORDING_CONSENT` (ASSUMED name).
        GetCallRecordingConsent,
    }
}

crate::export! {
    /// The wire spelling of a service, such as `CALLAPP`.
    pub fn service_wire_name(service: Service) -> String {
        core::Service::from(service).as_str().to_owned()
    }
}

crate::export! {
    /// Reads a service's wire spelling; unknown values become `Service.Other`.
    pub fn service_from_wire(value: String) -> Service {
        core::Service::from_wire(&value).into()
    }
}

crate::export! {
    /// The wire spelling of an action type, such as `REGISTRATION`.
    pub fn action_type_wire_name(action: ActionType) -> String {
        core::ActionType::from(action).as_str().to_owned()
    }
}

crate::export! {
    /// Reads an action type's wire spelling; unknown values become `ActionType.Other`.
    pub fn action_type_from_wire(value: String) -> ActionType {
        core::ActionType::from_wire(&value).into()
    }
}

/// The reseller API user, from `getAuthenticatedUser`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AuthenticatedUser {
    /// The user name.
    pub username: Option<String>,
    /// The user's level, such as `RESELLER` (`type` on the wire).
    pub user_type: Option<String>,
    /// The reseller this user belongs to.
    pub reseller_id: Option<i64>,
    /// Every other field the API returned, as a JSON object.
    pub extra_json: String,
}

impl From<core::AuthenticatedUser> for AuthenticatedUser {
    fn from(u: core::AuthenticatedUser) -> Self {
        Self {
            username: u.username,
            user_type: u.user_type,
            reseller_id: u.reseller_id,
            extra_json: serde_json::Value::Object(u.extra).to_string(),
        }
    }
}

/// An SBC gateway region a reseller may assign.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SbcGateway {
    /// The id to put in `sbcGateways`.
    pub sbc_gateway_id: i64,
    /// The region's name, such as `US-East`.
    pub sbc_gateway_region: String,
}

impl From<core::SbcGateway> for SbcGateway {
    fn from(g: core::SbcGateway) -> Self {
        Self {
            sbc_gateway_id: g.sbc_gateway_id,
            sbc_gateway_region: g.sbc_gateway_region,
        }
    }
}

/// A PBX type a reseller may assign.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PbxType {
    /// The id to put in `pbxId`.
    pub id: i64,
    /// The PBX type's name.
    pub pbx_name: String,
    /// Its label.
    pub pbx_label: Option<String>,
    /// True for the reseller's default PBX type.
    pub is_default: bool,
    /// True when it may not be assigned.
    pub is_disabled: bool,
    /// Hosting type, such as `Cloud`.
    pub hosting_type: Option<String>,
}

impl From<core::PbxType> for PbxType {
    fn from(p: core::PbxType) -> Self {
        Self {
            id: p.id,
            pbx_name: p.pbx_name,
            pbx_label: p.pbx_label,
            is_default: p.is_default,
            is_disabled: p.is_disabled,
            hosting_type: p.hosting_type,
        }
    }
}

/// The `configDetails` of an enterprise configuration entry.
#[derive(Debug, Clone, PartialEq, Default, uniffi::Record)]
pub struct ConfigDetails {
    /// `contexts`.
    #[uniffi(default)]
    pub contexts: Option<String>,
    /// `defValue`.
    #[uniffi(default)]
    pub def_value: Option<String>,
    /// `ent`.
    #[uniffi(default)]
    pub ent: Option<bool>,
    /// `id`.
    #[uniffi(default)]
    pub id: Option<i64>,
    /// `labelName`.
    #[uniffi(default)]
    pub label_name: Option<String>,
    /// `labelPopover`.
    #[uniffi(default)]
    pub label_popover: Option<String>,
    /// `masterReseller`.
    #[uniffi(default)]
    pub master_reseller: Option<bool>,
    /// `name`.
    #[uniffi(default)]
    pub name: Option<String>,
    /// `partner`.
    #[uniffi(default)]
    pub partner: Option<bool>,
    /// `reseller`.
    #[uniffi(default)]
    pub reseller: Option<bool>,
    /// `system`.
    #[uniffi(default)]
    pub system: Option<bool>,
    /// `type`.
    #[uniffi(default)]
    pub config_type: Option<String>,
}

/// One enterprise configuration entry (`entConfigInfos`).
#[derive(Debug, Clone, PartialEq, Default, uniffi::Record)]
pub struct EntConfigInfo {
    /// What is configured.
    #[uniffi(default)]
    pub config_details: Option<ConfigDetails>,
    /// The entity the value applies to.
    #[uniffi(default)]
    pub entity_id: Option<i64>,
    /// The entry's id.
    #[uniffi(default)]
    pub id: Option<i64>,
    /// The value.
    #[uniffi(default)]
    pub value: Option<String>,
}

impl From<ConfigDetails> for core::ConfigDetails {
    fn from(c: ConfigDetails) -> Self {
        Self {
            contexts: c.contexts,
            def_value: c.def_value,
            ent: c.ent,
            id: c.id,
            label_name: c.label_name,
            label_popover: c.label_popover,
            master_reseller: c.master_reseller,
            name: c.name,
            partner: c.partner,
            reseller: c.reseller,
            system: c.system,
            config_type: c.config_type,
        }
    }
}

impl From<core::ConfigDetails> for ConfigDetails {
    fn from(c: core::ConfigDetails) -> Self {
        Self {
            contexts: c.contexts,
            def_value: c.def_value,
            ent: c.ent,
            id: c.id,
            label_name: c.label_name,
            label_popover: c.label_popover,
            master_reseller: c.master_reseller,
            name: c.name,
            partner: c.partner,
            reseller: c.reseller,
            system: c.system,
            config_type: c.config_type,
        }
    }
}

impl From<EntConfigInfo> for core::EntConfigInfo {
    fn from(e: EntConfigInfo) -> Self {
        Self {
            config_details: e.config_details.map(Into::into),
            entity_id: e.entity_id,
            id: e.id,
            value: e.value,
        }
    }
}

impl From<core::EntConfigInfo> for EntConfigInfo {
    fn from(e: core::EntConfigInfo) -> Self {
        Self {
            config_details: e.config_details.map(Into::into),
            entity_id: e.entity_id,
            id: e.id,
            value: e.value,
        }
    }
}

/// The body of `POST /reseller/newEnterprise`: the name and services, gateways for PBX or Trunk,
/// PBX types for PBX or CALLAPP; every other field optional.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewEnterprise {
    /// The enterprise's name, unique in the vendor's system.
    pub enterprise_name: String,
    /// The services to enable.
    pub services: Vec<Service>,
    /// SBC gateway ids, required for PBX and Trunk.
    #[uniffi(default)]
    pub sbc_gateways: Vec<i64>,
    /// PBX type ids, required for PBX and CALLAPP.
    #[uniffi(default)]
    pub pbx_id: Vec<i64>,
    /// Restrict the enterprise admin's access (the restricted-access flow sets true).
    #[uniffi(default)]
    pub restrict_admin_access: Option<bool>,
    /// The reseller creating it.
    #[uniffi(default)]
    pub reseller_id: Option<i64>,
    /// Country name.
    #[uniffi(default)]
    pub country_name: Option<String>,
    /// The provider's billing references.
    #[uniffi(default)]
    pub billing_references: Option<Vec<String>>,
    /// Whether external numbers may be used.
    #[uniffi(default)]
    pub allow_external_numbers: Option<bool>,
    /// Whether extensions may be added.
    #[uniffi(default)]
    pub can_add_extensions: Option<bool>,
    /// Whether the reseller may manage the enterprise's provisioning.
    #[uniffi(default)]
    pub can_reseller_manage_enterprise_provisioning: Option<bool>,
    /// Configuration entries.
    #[uniffi(default)]
    pub ent_config_infos: Option<Vec<EntConfigInfo>>,
    /// The enterprise id, when the vendor asks for one.
    #[uniffi(default)]
    pub enterprise_id: Option<i64>,
    /// Whether the enterprise is federated.
    #[uniffi(default)]
    pub federated: Option<bool>,
    /// The federation domain.
    #[uniffi(default)]
    pub federation_domain: Option<String>,
    /// PBX music on hold.
    #[uniffi(default)]
    pub pbx_moh: Option<bool>,
    /// Who registered it.
    #[uniffi(default)]
    pub registered_by: Option<String>,
    /// Whether secure SMS is enabled.
    #[uniffi(default)]
    pub secure_sms_enabled: Option<bool>,
    /// The user limit.
    #[uniffi(default)]
    pub user_limit: Option<i64>,
    /// Whether user provisioning is enabled.
    #[uniffi(default)]
    pub user_provisioning_enabled: Option<bool>,
}

impl From<NewEnterprise> for core::NewEnterprise {
    fn from(e: NewEnterprise) -> Self {
        Self {
            enterprise_name: e.enterprise_name,
            services: e.services.into_iter().map(Into::into).collect(),
            sbc_gateways: e.sbc_gateways,
            pbx_id: e.pbx_id,
            restrict_admin_access: e.restrict_admin_access,
            reseller_id: e.reseller_id,
            country_name: e.country_name,
            billing_references: e.billing_references,
            allow_external_numbers: e.allow_external_numbers,
            can_add_extensions: e.can_add_extensions,
            can_reseller_manage_enterprise_provisioning: e
                .can_reseller_manage_enterprise_provisioning,
            ent_config_infos: e
                .ent_config_infos
                .map(|v| v.into_iter().map(Into::into).collect()),
            enterprise_id: e.enterprise_id,
            federated: e.federated,
            federation_domain: e.federation_domain,
            pbx_moh: e.pbx_moh,
            registered_by: e.registered_by,
            secure_sms_enabled: e.secure_sms_enabled,
            user_limit: e.user_limit,
            user_provisioning_enabled: e.user_provisioning_enabled,
        }
    }
}

impl From<core::NewEnterprise> for NewEnterprise {
    fn from(e: core::NewEnterprise) -> Self {
        Self {
            enterprise_name: e.enterprise_name,
            services: e.services.into_iter().map(Into::into).collect(),
            sbc_gateways: e.sbc_gateways,
            pbx_id: e.pbx_id,
            restrict_admin_access: e.restrict_admin_access,
            reseller_id: e.reseller_id,
            country_name: e.country_name,
            billing_references: e.billing_references,
            allow_external_numbers: e.allow_external_numbers,
            can_add_extensions: e.can_add_extensions,
            can_reseller_manage_enterprise_provisioning: e
                .can_reseller_manage_enterprise_provisioning,
            ent_config_infos: e
                .ent_config_infos
                .map(|v| v.into_iter().map(Into::into).collect()),
            enterprise_id: e.enterprise_id,
            federated: e.federated,
            federation_domain: e.federation_domain,
            pbx_moh: e.pbx_moh,
            registered_by: e.registered_by,
            secure_sms_enabled: e.secure_sms_enabled,
            user_limit: e.user_limit,
            user_provisioning_enabled: e.user_provisioning_enabled,
        }
    }
}

crate::export! {
    /// Checks what the vendor requires of a create body before anything is sent (core's
    /// `NewEnterprise::validate`); throws `CttException.InvalidInput` naming the field.
    pub fn validate_new_enterprise(enterprise: NewEnterprise) -> Result<(), CttError> {
        Ok(core::NewEnterprise::from(enterprise).validate()?)
    }
}

crate::export! {
    /// The body of a create, as JSON with the wire's names (for logs and tests; holds no secret).
    pub fn new_enterprise_to_json(enterprise: NewEnterprise) -> Result<String, CttError> {
        serde_json::to_string(&core::NewEnterprise::from(enterprise))
            .map_err(|e| CttError::invalid_input(format!("enterprise could not be serialized: {e}")))
    }
}

/// An enterprise as the reseller's enterprise list reports it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnterpriseSummary {
    /// The enterprise's database id.
    pub enterprise_id: i64,
    /// Its name.
    pub enterprise_name: String,
}

impl From<core::EnterpriseSummary> for EnterpriseSummary {
    fn from(e: core::EnterpriseSummary) -> Self {
        Self {
            enterprise_id: e.enterprise_id,
            enterprise_name: e.enterprise_name,
        }
    }
}

/// The answer of `getO365UserInfo`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct O365UserInfo {
    /// Whether the tenant has the "Skype and Teams Tenant Admin API".
    pub contains_teams_tenant_admin_api: bool,
    /// Every other field (user details), as a JSON object.
    pub extra_json: String,
}

impl From<core::O365UserInfo> for O365UserInfo {
    fn from(u: core::O365UserInfo) -> Self {
        Self {
            contains_teams_tenant_admin_api: u.contains_teams_tenant_admin_api,
            extra_json: serde_json::Value::Object(u.extra).to_string(),
        }
    }
}

/// The MSAL `authenticationResult` a Global Admin's sign-in produced; the provisioning calls need
/// it. Its tokens are secrets: `toString()` masks them, and only [`AuthenticationResult::to_json`]
/// (for storing it as you would store a token) returns them.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Debug)]
pub struct AuthenticationResult {
    pub(crate) inner: core::AuthenticationResult,
}

crate::export! {
    impl AuthenticationResult {
        /// Reads an `authenticationResult` JSON object (the vendor's camelCase names).
        #[uniffi::constructor]
        pub fn from_json(json: String) -> Result<Arc<Self>, CttError> {
            let inner = serde_json::from_str(&json).map_err(|e| {
                CttError::from(core::Error::decode(format!(
                    "authenticationResult is not the documented JSON: {e}"
                )))
            })?;
            Ok(Arc::new(Self { inner }))
        }

        /// The JSON with the real tokens, for storage; treat it as a secret.
        pub fn to_json(&self) -> Result<String, CttError> {
            serde_json::to_string(&self.inner).map_err(|e| {
                CttError::from(core::Error::decode(format!(
                    "authenticationResult could not be serialized: {e}"
                )))
            })
        }

        /// The token type, such as `login.microsoftonline.com`.
        pub fn access_token_type(&self) -> Option<String> {
            self.inner.access_token_type.clone()
        }

        /// When the access token expires (from `expiresOn`), if known.
        pub fn expires_at(&self) -> Option<std::time::SystemTime> {
            self.inner.expires_at()
        }

        /// The Microsoft tenant id from `userInfo`.
        pub fn tenant_id(&self) -> Option<String> {
            self.inner.tenant_id().map(str::to_owned)
        }

        /// Who signed in, from `userInfo`.
        pub fn displayable_id(&self) -> Option<String> {
            self.inner.displayable_id().map(str::to_owned)
        }

        /// True when an access token is present.
        pub fn has_access_token(&self) -> bool {
            !self.inner.access_token.is_empty()
        }
    }
}

/// The JSON ConnecttoTeams posts to a `redirectUrl` after the Global Admin acts. Holds the admin's
/// MSAL tokens: `toString()` masks them.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Debug)]
pub struct CallbackPayload {
    pub(crate) inner: core::CallbackPayload,
}

crate::export! {
    impl CallbackPayload {
        /// Parses a callback body; `CttException.Decode` names what is wrong.
        #[uniffi::constructor]
        pub fn parse(body: String) -> Result<Arc<Self>, CttError> {
            Ok(Arc::new(Self {
                inner: core::CallbackPayload::parse(&body)?,
            }))
        }

        /// The admin's MSAL result.
        pub fn authentication_result(&self) -> Arc<AuthenticationResult> {
            Arc::new(AuthenticationResult {
                inner: self.inner.authentication_result().clone(),
            })
        }

        /// The tenant id the admin signed in to.
        pub fn tenant_id(&self) -> Option<String> {
            self.inner.tenant_id().map(str::to_owned)
        }

        /// True when the signer is a Global Admin.
        pub fn is_global_admin(&self) -> bool {
            self.inner.is_global_admin()
        }

        /// `organization`, such as `MSFT`.
        pub fn organization(&self) -> Option<String> {
            self.inner.organization.clone()
        }

        /// `officeUserType`, `GLOBAL_ADMIN` for a Global Admin.
        pub fn office_user_type(&self) -> Option<String> {
            self.inner.office_user_type.clone()
        }

        /// `companyAdmin`.
        pub fn company_admin(&self) -> Option<bool> {
            self.inner.company_admin
        }

        /// `containsTeamsTenantAdminAPI`.
        pub fn contains_teams_tenant_admin_api(&self) -> Option<bool> {
            self.inner.contains_teams_tenant_admin_api
        }
    }
}
