//! The HTTP client: one async method per vendor endpoint, with tokens, retries and error mapping.
//!
//! [`Client`] is cheap to clone (one connection pool, one token cache behind an `Arc`), so a portal
//! builds it once and shares it. The rules that make it safe against a live tenant live here once
//! for every binding: which calls may be repeated, how a lost create is settled without creating
//! twice, and how an answer becomes an [`Error`] with a stable code and no secret in it.

use crate::auth::{TokenLevel, TokenOrigin};
use crate::callback::CallbackKeys;
use crate::clock::SharedClock;
use crate::config::Endpoint;
use crate::error::{Error, ErrorCode, Result};
use crate::models::{
    ActionType, AuthenticatedUser, AuthenticationResult, ManagementConsentRequest, NewEnterprise,
    O365UserInfo, PbxType, SbcGateway, decode_action_item_url, decode_enterprise_id,
};
use crate::secret::redact_excerpt;
use std::sync::Arc;

mod builder;
mod calls;
mod failure;
mod http;
mod list;
mod options;
mod process;
mod token;

use http::Body;
use process::Inner;

pub use builder::ClientBuilder;
pub(crate) use builder::{is_loopback, parse_endpoint_url};
pub use calls::ClientCall;
pub use options::{ClientOptions, RetryOptions};

/// The vendor's text for the missing Teams/Skype Administrator roles (matched case-insensitively).
pub const TENANT_ROLES_MISSING_TEXT: &str = "Roles Teams/Skype Administrator could not be found";
/// The default cap on a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// The longest URL accepted for the base URL and redirect URLs.
pub const MAX_URL_LEN: usize = 2048;
/// The most pages of the enterprise list read by one call; a longer list is a `decode` error.
pub const MAX_LIST_PAGES: u32 = 1000;
/// The page size asked for when reading the enterprise list.
pub const LIST_PAGE_SIZE: u32 = 50;

/// A client for the ConnecttoTeams provisioning API. Clone it freely: clones share the
/// connection pool and the token cache.
///
/// A client built before `fork()` (a module-level client under gunicorn `--preload`, a Celery
/// prefork pool) works in the child: the pool, the token cache and the single-flight lock
/// belong to the process that made them, and a forked child builds its own on its first call.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The clock this client uses.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// The callback key ring configured on the builder, if any.
    pub fn callback_keys(&self) -> Option<&CallbackKeys> {
        self.inner.callback_keys.as_ref()
    }

    /// True when enterprise-level credentials or a token are configured.
    pub fn has_enterprise_auth(&self) -> bool {
        !matches!(self.inner.enterprise_tokens.origin, TokenOrigin::Missing(_))
    }

    /// The base URL, with any userinfo (`user:password@`) in it masked.
    pub fn base_url(&self) -> &str {
        &self.inner.base_shown
    }

    /// `PUT /reseller/getAuthenticatedUser`: the reseller API user and its `resellerId`.
    pub async fn authenticated_user(&self) -> Result<AuthenticatedUser> {
        let username = match &self.inner.reseller_tokens.origin {
            TokenOrigin::Grant(c) => c.username.clone(),
            _ => String::new(),
        };
        let answer = self
            .request(
                Endpoint::AuthenticatedUser,
                None,
                TokenLevel::Reseller,
                Body::Text(username),
            )
            .await?;
        decode_json(Endpoint::AuthenticatedUser, &answer.body)
    }

    /// The reseller id: the one given to the builder, or read once from `getAuthenticatedUser`.
    pub async fn reseller_id(&self) -> Result<i64> {
        self.process()?
            .reseller_id
            .get_or_try_init(|| async {
                let user = self.authenticated_user().await?;
                user.reseller_id
                    .ok_or_else(|| Error::decode("getAuthenticatedUser returned no resellerId"))
            })
            .await
            .copied()
    }

    /// `GET .../getAvailableSBCGatewayRegionsByResellerId/{resellerId}`: the SBC gateways the reseller may assign.
    pub async fn sbc_gateways(&self, reseller_id: i64) -> Result<Vec<SbcGateway>> {
        self.reseller_list(Endpoint::SbcGateways, reseller_id).await
    }

    /// `GET /pbx/getPBXTypesByResellerId`: the PBX types the reseller may assign.
    pub async fn pbx_types(&self, reseller_id: i64) -> Result<Vec<PbxType>> {
        self.reseller_list(Endpoint::PbxTypes, reseller_id).await
    }

    /// A `GET` of one of the reseller's lists, decoded as the documented JSON.
    async fn reseller_list<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        reseller_id: i64,
    ) -> Result<T> {
        check_id("reseller_id", reseller_id)?;
        let answer = self
            .request(
                endpoint,
                Some(reseller_id),
                TokenLevel::Reseller,
                Body::Empty,
            )
            .await?;
        decode_json(endpoint, &answer.body)
    }

    /// `POST /reseller/newEnterprise`: creates the enterprise and returns its id.
    ///
    /// The body is validated first ([`NewEnterprise::validate`]); nothing is sent when it fails.
    /// The call is never repeated blindly: when its outcome is unknown (the connection broke after
    /// sending, a timeout, a 5xx), the enterprise is looked up by name and its id returned;
    /// if it is not there, the error is `outcome_unknown`. A duplicate name is `conflict`.
    pub async fn create_enterprise(&self, enterprise: &NewEnterprise) -> Result<i64> {
        match self.send_create(enterprise).await? {
            Ok(id) => Ok(id),
            Err(lost) => self.settle_lost_create(enterprise, lost).await,
        }
    }

    /// Sends the create once. The inner `Err` is a failure after which the server may have
    /// acted (its outcome is unknown); a 429 is the server refusing before acting, so it is a
    /// plain error (`rate_limited`, with its wait), as is anything the server surely refused.
    async fn send_create(
        &self,
        enterprise: &NewEnterprise,
    ) -> Result<std::result::Result<i64, Error>> {
        enterprise.validate()?;
        let body = serde_json::to_value(enterprise).map_err(|e| {
            Error::invalid_input(format!("enterprise could not be serialized: {e}"))
        })?;
        match self
            .call_inner(
                Endpoint::CreateEnterprise,
                None,
                TokenLevel::Reseller,
                Body::Json(body),
            )
            .await
        {
            Ok(answer) => decode_enterprise_id(&answer.body).map(Ok),
            Err(f) if f.maybe_sent && f.transient && f.error.status() != Some(429) => {
                Ok(Err(f.error))
            }
            Err(f) => Err(f.error),
        }
    }

    async fn settle_lost_create(&self, enterprise: &NewEnterprise, cause: Error) -> Result<i64> {
        tracing::warn!(
            enterprise = %enterprise.enterprise_name,
            code = %cause.code(),
            "the create's outcome is unknown; looking the enterprise up by name"
        );
        let reseller_id = match enterprise.reseller_id {
            Some(id) => Ok(id),
            None => self.reseller_id().await,
        };
        let found = match reseller_id {
            Ok(rid) => self.find_enterprise(rid, &enterprise.enterprise_name).await,
            Err(e) => Err(e),
        };
        match found {
            Ok(Some(found)) => {
                tracing::info!(enterprise_id = found.enterprise_id, "the lost create had succeeded");
                Ok(found.enterprise_id)
            }
            Ok(None) => Err(Error::new(
                ErrorCode::OutcomeUnknown,
                format!(
                    "create_enterprise for {:?} failed ({}) and the enterprise is not in the reseller's list; it was probably not created, but check before creating it again",
                    enterprise.enterprise_name,
                    cause.message()
                ),
            )
            .with_source(cause)),
            Err(lookup) => Err(Error::new(
                ErrorCode::OutcomeUnknown,
                format!(
                    "create_enterprise for {:?} failed ({}) and looking it up failed too ({}); it may or may not exist",
                    enterprise.enterprise_name,
                    cause.message(),
                    lookup.message()
                ),
            )
            .with_source(cause)),
        }
    }

    /// `POST /enterprise/getActionItemUrl`: the URL to show the Global Admin for `action`.
    ///
    /// `redirect_url` is where ConnecttoTeams posts the callback; it must be https (http only on a
    /// loopback host).
    pub async fn action_item_url(
        &self,
        action: &ActionType,
        enterprise_name: &str,
        redirect_url: &str,
    ) -> Result<String> {
        if action.as_str().trim().is_empty() {
            return Err(Error::invalid_input("actionType must not be empty"));
        }
        if enterprise_name.trim().is_empty() {
            return Err(Error::invalid_input("enterpriseName must not be blank"));
        }
        parse_endpoint_url("redirectUrl", redirect_url)?;
        let body = serde_json::json!({
            "actionType": action.as_str(),
            "enterpriseName": enterprise_name,
            "redirectUrl": redirect_url,
        });
        let answer = self
            .request(
                Endpoint::ActionItemUrl,
                None,
                TokenLevel::Reseller,
                Body::Json(body),
            )
            .await?;
        decode_action_item_url(&answer.body)
    }

    /// `POST /provisioning/getO365UserInfo`: whether the tenant has the Teams Tenant Admin API.
    pub async fn o365_user_info(&self, auth: &AuthenticationResult) -> Result<O365UserInfo> {
        let body = auth_body(auth)?;
        let answer = self
            .call_with_msal(
                Endpoint::O365UserInfo,
                TokenLevel::Enterprise,
                Body::Json(body),
                auth,
            )
            .await?;
        decode_json(Endpoint::O365UserInfo, &answer.body)
    }

    /// `POST /provisioning/provisionTenantAdminAPI`: asks ConnecttoTeams to provision the
    /// "Skype and Teams Tenant Admin API" (and the roles it needs) for the admin's tenant.
    pub async fn provision_tenant_admin_api(&self, auth: &AuthenticationResult) -> Result<()> {
        let body = auth_body(auth)?;
        self.call_with_msal(
            Endpoint::ProvisionTenantAdminApi,
            TokenLevel::Enterprise,
            Body::Json(body),
            auth,
        )
        .await?;
        Ok(())
    }

    /// `POST /enterprise/updateEnterpriseManagementConsentByReseller`: records "management by
    /// service provider" after the Global Admin granted that consent.
    ///
    /// Fails with `tenant_roles_missing` when the tenant lacks the Teams/Skype Administrator roles.
    pub async fn update_management_consent(
        &self,
        auth: &AuthenticationResult,
        reseller_id: i64,
        tenant_id: &str,
    ) -> Result<()> {
        check_id("reseller_id", reseller_id)?;
        if tenant_id.trim().is_empty() {
            return Err(Error::invalid_input("tenantId must not be blank"));
        }
        auth_body(auth)?;
        let request = ManagementConsentRequest {
            authentication_result: auth.clone(),
            reseller_id,
            tenant_id: tenant_id.to_owned(),
        };
        let body = serde_json::to_value(&request).map_err(|e| {
            Error::invalid_input(format!("consent request could not be serialized: {e}"))
        })?;
        self.call_with_msal(
            Endpoint::UpdateManagementConsent,
            TokenLevel::Reseller,
            Body::Json(body),
            auth,
        )
        .await?;
        Ok(())
    }
}

impl Client {
    /// `POST /reseller/newEnterprise` sent once and never settled by a lookup: a lost answer (the
    /// server may have acted) is `outcome_unknown`, a 429 is `rate_limited`. For a caller that
    /// can recognise its own enterprise afterwards; the onboarding flow does, by the billing
    /// reference it adds.
    pub async fn create_enterprise_once(&self, enterprise: &NewEnterprise) -> Result<i64> {
        self.send_create(enterprise).await?.map_err(|lost| {
            Error::new(
                ErrorCode::OutcomeUnknown,
                format!(
                    "create_enterprise for {:?} may or may not have been performed ({})",
                    enterprise.enterprise_name,
                    lost.message()
                ),
            )
            .with_source(lost)
        })
    }
}

fn check_id(what: &str, id: i64) -> Result<()> {
    if id > 0 {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{what} is {id}; ids are positive"
        )))
    }
}

fn auth_body(auth: &AuthenticationResult) -> Result<serde_json::Value> {
    if auth.access_token.is_empty() {
        return Err(Error::invalid_input(
            "authenticationResult.accessToken is empty",
        ));
    }
    let auth = serde_json::to_value(auth).map_err(|e| {
        Error::invalid_input(format!("authenticationResult could not be serialized: {e}"))
    })?;
    Ok(serde_json::json!({ "authenticationResult": auth }))
}

fn decode_json<T: serde::de::DeserializeOwned>(endpoint: Endpoint, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        let text = String::from_utf8_lossy(body);
        // serde's message may quote a value from the body, so it is masked like the body.
        Error::decode(format!(
            "{} response is not the documented JSON ({}): {}",
            endpoint.name(),
            redact_excerpt(&e.to_string(), &[], 200),
            redact_excerpt(&text, &[], 200)
        ))
    })
}

#[cfg(test)]
mod tests;
