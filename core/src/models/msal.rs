//! The Global Admin's MSAL result, as the vendor's callback posts it and the provisioning calls
//! take it back.

use crate::error::{Error, Result};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The signed-in Microsoft user inside an MSAL result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct O365UserInfo {
    /// Whether the tenant has the "Skype and Teams Tenant Admin API".
    #[serde(default, rename = "containsTeamsTenantAdminAPI")]
    pub contains_teams_tenant_admin_api: bool,
    /// Every other field (user details).
    #[serde(flatten)]
    #[cfg_attr(feature = "uniffi", uniffi(name = "extra_json"))]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The body of `updateEnterpriseManagementConsentByReseller`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ManagementConsentRequest {
    /// The Global Admin's MSAL result.
    pub authentication_result: AuthenticationResult,
    /// The reseller taking over management.
    pub reseller_id: i64,
    /// The enterprise's Microsoft tenant id.
    pub tenant_id: String,
}
