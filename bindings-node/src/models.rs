//! The vendor's bodies as plain JavaScript objects with the wire's camelCase names, and the
//! conversions to and from core's models.
//!
//! Ids cross as JavaScript `number`s. A `number` holds integers exactly only up to
//! `Number.MAX_SAFE_INTEGER` (2^53 - 1), so every id is checked both ways: an id that would lose
//! precision is an `invalid_input` error (going in) or a `decode` error (coming out), never a
//! silently different enterprise.

use crate::error::{invalid_input, to_napi};
use ctt_onboard as core;
use napi_derive::napi;
use std::collections::HashMap;

/// `Number.MAX_SAFE_INTEGER`.
pub const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// Reads an id given as a JavaScript number: a positive safe integer.
pub fn id_from_js(what: &str, value: f64) -> napi::Result<i64> {
    if !value.is_finite() || value.fract() != 0.0 {
        return Err(invalid_input(format!(
            "{what} is {value}; ids are integers"
        )));
    }
    if value.abs() > MAX_SAFE_INTEGER as f64 {
        return Err(invalid_input(format!(
            "{what} is {value}, beyond Number.MAX_SAFE_INTEGER: it cannot be passed as a number without losing precision"
        )));
    }
    Ok(value as i64)
}

/// Gives an id to JavaScript as a number, refusing one that a number cannot hold exactly.
pub fn id_to_js(what: &str, value: i64) -> napi::Result<f64> {
    if value.abs() > MAX_SAFE_INTEGER {
        return Err(to_napi(core::Error::decode(format!(
            "{what} {value} is beyond Number.MAX_SAFE_INTEGER and cannot be represented exactly as a JavaScript number"
        ))));
    }
    Ok(value as f64)
}

/// A time as milliseconds since the Unix epoch (what `Date.now()` and `new Date(ms)` use).
pub fn time_to_ms(t: std::time::SystemTime) -> f64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as f64,
        Err(e) => -(e.duration().as_millis() as f64),
    }
}

fn ids_from_js(what: &str, values: Option<Vec<f64>>) -> napi::Result<Vec<i64>> {
    values
        .unwrap_or_default()
        .into_iter()
        .map(|v| id_from_js(what, v))
        .collect()
}

fn map_to_js(
    map: serde_json::Map<String, serde_json::Value>,
) -> HashMap<String, serde_json::Value> {
    map.into_iter().collect()
}

/// The reseller API user, from `getAuthenticatedUser`.
#[napi(object, object_from_js = false)]
pub struct AuthenticatedUser {
    /// The user name.
    pub username: Option<String>,
    /// The user's level, such as `RESELLER`.
    #[napi(js_name = "type")]
    pub user_type: Option<String>,
    /// The reseller this user belongs to; most calls need it.
    pub reseller_id: Option<f64>,
    /// Every other field the API returned, as received.
    #[napi(ts_type = "Record<string, unknown>")]
    pub extra: HashMap<String, serde_json::Value>,
}

impl AuthenticatedUser {
    /// Converts core's model.
    pub fn from_core(user: core::AuthenticatedUser) -> napi::Result<Self> {
        Ok(Self {
            username: user.username,
            user_type: user.user_type,
            reseller_id: user
                .reseller_id
                .map(|id| id_to_js("resellerId", id))
                .transpose()?,
            extra: map_to_js(user.extra),
        })
    }
}

/// An SBC gateway region a reseller may assign.
#[napi(object, object_from_js = false)]
pub struct SbcGateway {
    /// The id to put in `sbcGateways`.
    pub sbc_gateway_id: f64,
    /// The region's name, such as `US-East`.
    pub sbc_gateway_region: String,
}

impl SbcGateway {
    /// Converts core's model.
    pub fn from_core(g: core::SbcGateway) -> napi::Result<Self> {
        Ok(Self {
            sbc_gateway_id: id_to_js("sbcGatewayId", g.sbc_gateway_id)?,
            sbc_gateway_region: g.sbc_gateway_region,
        })
    }
}

/// A PBX type a reseller may assign.
#[napi(object, object_from_js = false)]
pub struct PbxType {
    /// The id to put in `pbxId`.
    pub id: f64,
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

impl PbxType {
    /// Converts core's model.
    pub fn from_core(p: core::PbxType) -> napi::Result<Self> {
        Ok(Self {
            id: id_to_js("pbx type id", p.id)?,
            pbx_name: p.pbx_name,
            pbx_label: p.pbx_label,
            is_default: p.is_default,
            is_disabled: p.is_disabled,
            hosting_type: p.hosting_type,
        })
    }
}

/// An enterprise as the reseller's enterprise list reports it.
#[napi(object, object_from_js = false)]
pub struct EnterpriseSummary {
    /// The enterprise's database id.
    pub enterprise_id: f64,
    /// Its name.
    pub enterprise_name: String,
}

impl EnterpriseSummary {
    /// Converts core's model.
    pub fn from_core(e: core::EnterpriseSummary) -> napi::Result<Self> {
        Ok(Self {
            enterprise_id: id_to_js("enterpriseId", e.enterprise_id)?,
            enterprise_name: e.enterprise_name,
        })
    }
}

/// The answer of `getO365UserInfo`.
#[napi(object, object_from_js = false)]
pub struct O365UserInfo {
    /// Whether the tenant has the "Skype and Teams Tenant Admin API".
    #[napi(js_name = "containsTeamsTenantAdminAPI")]
    pub contains_teams_tenant_admin_api: bool,
    /// Every other field (user details), as received.
    #[napi(ts_type = "Record<string, unknown>")]
    pub extra: HashMap<String, serde_json::Value>,
}

impl O365UserInfo {
    /// Converts core's model.
    pub fn from_core(info: core::O365UserInfo) -> Self {
        Self {
            contains_teams_tenant_admin_api: info.contains_teams_tenant_admin_api,
            extra: map_to_js(info.extra),
        }
    }
}

/// The body of `POST /reseller/newEnterprise`, with the wire's names.
///
/// Required: `enterpriseName` (unique), `services`; `sbcGateways` for PBX or Trunk; `pbxId` for
/// PBX or CALLAPP. It is validated before anything is sent; an `invalid_input` error names the field.
#[napi(object)]
pub struct NewEnterprise {
    /// The enterprise's name, unique in the vendor's system.
    pub enterprise_name: String,
    /// The services to enable: `PBX`, `Trunk`, `CALLAPP`, `CallRecording`, `SMS`, `CHAT` (other strings pass through).
    #[napi(
        ts_type = "Array<'PBX' | 'Trunk' | 'CALLAPP' | 'CallRecording' | 'SMS' | 'CHAT' | (string & {})>"
    )]
    pub services: Vec<String>,
    /// SBC gateway ids (`sbcGatewayId`), required for PBX and Trunk.
    pub sbc_gateways: Option<Vec<f64>>,
    /// PBX type ids, required for PBX and CALLAPP.
    pub pbx_id: Option<Vec<f64>>,
    /// Restrict the enterprise admin's access; the restricted-access flow sets it to true.
    pub restrict_admin_access: Option<bool>,
    /// The reseller creating it.
    pub reseller_id: Option<f64>,
    /// Country name.
    pub country_name: Option<String>,
    /// The provider's billing references.
    pub billing_references: Option<Vec<String>>,
    /// Whether external numbers may be used.
    pub allow_external_numbers: Option<bool>,
    /// Whether extensions may be added.
    pub can_add_extensions: Option<bool>,
    /// Whether the reseller may manage the enterprise's provisioning.
    pub can_reseller_manage_enterprise_provisioning: Option<bool>,
    /// Configuration entries (`configDetails`, `entityId`, `id`, `value`), as the wire has them.
    #[napi(ts_type = "Array<Record<string, unknown>>")]
    pub ent_config_infos: Option<Vec<serde_json::Value>>,
    /// The enterprise id, when the vendor asks for one (normally absent on create).
    pub enterprise_id: Option<f64>,
    /// Whether the enterprise is federated.
    pub federated: Option<bool>,
    /// The federation domain.
    pub federation_domain: Option<String>,
    /// PBX music on hold.
    #[napi(js_name = "pbxMOH")]
    pub pbx_moh: Option<bool>,
    /// Who registered it.
    pub registered_by: Option<String>,
    /// Whether secure SMS is enabled.
    #[napi(js_name = "secureSMSEnabled")]
    pub secure_sms_enabled: Option<bool>,
    /// The user limit.
    pub user_limit: Option<f64>,
    /// Whether user provisioning is enabled.
    pub user_provisioning_enabled: Option<bool>,
}

impl NewEnterprise {
    /// Converts core's model.
    pub fn from_core(e: &core::NewEnterprise) -> napi::Result<Self> {
        let ids = |what: &str, v: &[i64]| -> napi::Result<Vec<f64>> {
            v.iter().map(|id| id_to_js(what, *id)).collect()
        };
        let opt = |what: &str, v: Option<i64>| v.map(|id| id_to_js(what, id)).transpose();
        Ok(Self {
            enterprise_name: e.enterprise_name.clone(),
            services: e.services.iter().map(|s| s.as_str().to_owned()).collect(),
            sbc_gateways: Some(ids("sbcGateways", &e.sbc_gateways)?),
            pbx_id: Some(ids("pbxId", &e.pbx_id)?),
            restrict_admin_access: e.restrict_admin_access,
            reseller_id: opt("resellerId", e.reseller_id)?,
            country_name: e.country_name.clone(),
            billing_references: e.billing_references.clone(),
            allow_external_numbers: e.allow_external_numbers,
            can_add_extensions: e.can_add_extensions,
            can_reseller_manage_enterprise_provisioning: e
                .can_reseller_manage_enterprise_provisioning,
            ent_config_infos: e
                .ent_config_infos
                .as_ref()
                .map(|items| {
                    items
                        .iter()
                        .map(|i| to_plain("entConfigInfos", i))
                        .collect()
                })
                .transpose()?,
            enterprise_id: opt("enterpriseId", e.enterprise_id)?,
            federated: e.federated,
            federation_domain: e.federation_domain.clone(),
            pbx_moh: e.pbx_moh,
            registered_by: e.registered_by.clone(),
            secure_sms_enabled: e.secure_sms_enabled,
            user_limit: opt("userLimit", e.user_limit)?,
            user_provisioning_enabled: e.user_provisioning_enabled,
        })
    }

    /// Converts to core's model (checking every id).
    pub fn into_core(self) -> napi::Result<core::NewEnterprise> {
        let ent_config_infos = self
            .ent_config_infos
            .map(|items| {
                items
                    .into_iter()
                    .map(serde_json::from_value::<core::EntConfigInfo>)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
            .map_err(|e| invalid_input(format!("entConfigInfos is not valid: {e}")))?;
        let opt_id = |what: &str, v: Option<f64>| v.map(|v| id_from_js(what, v)).transpose();
        Ok(core::NewEnterprise {
            enterprise_name: self.enterprise_name,
            services: self
                .services
                .iter()
                .map(|s| core::Service::from_wire(s))
                .collect(),
            sbc_gateways: ids_from_js("sbcGateways", self.sbc_gateways)?,
            pbx_id: ids_from_js("pbxId", self.pbx_id)?,
            restrict_admin_access: self.restrict_admin_access,
            reseller_id: opt_id("resellerId", self.reseller_id)?,
            country_name: self.country_name,
            billing_references: self.billing_references,
            allow_external_numbers: self.allow_external_numbers,
            can_add_extensions: self.can_add_extensions,
            can_reseller_manage_enterprise_provisioning: self
                .can_reseller_manage_enterprise_provisioning,
            ent_config_infos,
            enterprise_id: opt_id("enterpriseId", self.enterprise_id)?,
            federated: self.federated,
            federation_domain: self.federation_domain,
            pbx_moh: self.pbx_moh,
            registered_by: self.registered_by,
            secure_sms_enabled: self.secure_sms_enabled,
            user_limit: opt_id("userLimit", self.user_limit)?,
            user_provisioning_enabled: self.user_provisioning_enabled,
        })
    }
}

/// The signed-in Microsoft user inside an MSAL result.
#[napi(object)]
#[allow(dead_code)] // declared for the TypeScript types; values cross as JSON (serde)
pub struct UserInfo {
    /// The user's sign-in name, such as `globaladmin@example.com`.
    #[napi(ts_type = "string | null")]
    pub displayable_id: Option<String>,
    /// The identity provider.
    #[napi(ts_type = "string | null")]
    pub identity_provider: Option<String>,
    /// The Microsoft tenant id.
    #[napi(ts_type = "string | null")]
    pub tenant_id: Option<String>,
}

/// The MSAL `authenticationResult` a Global Admin's sign-in produces (the callback's
/// `msalAuthenticationResult.authenticationResult`); the provisioning calls need it.
///
/// It holds the admin's tokens: store it as you would store a token.
#[napi(object)]
#[allow(dead_code)] // declared for the TypeScript types; values cross as JSON (serde)
pub struct AuthenticationResult {
    /// The Microsoft access token.
    pub access_token: String,
    /// The token type, such as `login.microsoftonline.com`.
    #[napi(ts_type = "string | null")]
    pub access_token_type: Option<String>,
    /// Passed through as received.
    pub expires_after: Option<serde_json::Value>,
    /// Expiry in microseconds since the Unix epoch (16 digits in every vendor sample).
    #[napi(ts_type = "number | null")]
    pub expires_on: Option<f64>,
    /// Passed through as received.
    pub expires_on_date: Option<serde_json::Value>,
    /// The id token.
    #[napi(ts_type = "string | null")]
    pub id_token: Option<String>,
    /// As received.
    #[napi(ts_type = "boolean | null")]
    pub multiple_resource_refresh_token: Option<bool>,
    /// The refresh token, usually null.
    #[napi(ts_type = "string | null")]
    pub refresh_token: Option<String>,
    /// Who signed in, and the tenant.
    #[napi(ts_type = "UserInfo | null")]
    pub user_info: Option<UserInfo>,
}

/// The `msalAuthenticationResult` wrapper of a callback.
#[napi(object)]
#[allow(dead_code)] // declared for the TypeScript types; values cross as JSON (serde)
pub struct MsalAuthenticationResult {
    /// The MSAL result.
    pub authentication_result: AuthenticationResult,
    /// Null in every sample.
    #[napi(ts_type = "number | null")]
    pub reseller_id: Option<f64>,
    /// Null in every sample; the tenant is in `authenticationResult.userInfo`.
    #[napi(ts_type = "string | null")]
    pub tenant_id: Option<String>,
}

/// The JSON ConnecttoTeams posts to a `redirectUrl` after the Global Admin acts.
#[napi(object)]
#[allow(dead_code)] // declared for the TypeScript types; values cross as JSON (serde)
pub struct CallbackPayload {
    /// The admin's MSAL result.
    pub msal_authentication_result: MsalAuthenticationResult,
    /// Such as `MSFT`.
    #[napi(ts_type = "string | null")]
    pub organization: Option<String>,
    /// `GLOBAL_ADMIN` for a Global Admin.
    #[napi(ts_type = "string | null")]
    pub office_user_type: Option<String>,
    /// True for a company (Global) admin.
    #[napi(ts_type = "boolean | null")]
    pub company_admin: Option<bool>,
    /// Whether the tenant has the "Skype and Teams Tenant Admin API".
    #[napi(js_name = "containsTeamsTenantAdminAPI", ts_type = "boolean | null")]
    pub contains_teams_tenant_admin_api: Option<bool>,
}

/// Reads an MSAL `authenticationResult` given as a plain object with the wire's names.
pub fn auth_from_js(mut value: serde_json::Value) -> napi::Result<core::AuthenticationResult> {
    integral_numbers(&mut value);
    serde_json::from_value(value)
        .map_err(|e| invalid_input(format!("authenticationResult is not an MSAL result: {e}")))
}

/// JavaScript numbers arrive as floats; the wire's integers (such as `expiresOn`) must be integers.
pub fn integral_numbers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) => {
            if let Some(f) = n
                .as_f64()
                .filter(|f| n.is_f64() && f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64)
            {
                *value = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        serde_json::Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// Gives a core model to JavaScript as a plain object with the wire's names (MSAL tokens
/// included: they are data the caller holds).
pub fn to_plain<T: serde::Serialize>(what: &str, value: &T) -> napi::Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| {
        to_napi(core::Error::decode(format!(
            "{what} could not be converted: {e}"
        )))
    })
}

/// Reads an action type: a vendor name such as `REGISTRATION`; unknown names pass through.
pub fn action_from_js(action: &str) -> core::ActionType {
    core::ActionType::from_wire(action)
}
