//! Client configuration: endpoints and their overridable paths, retry policy, credentials.
//!
//! The vendor does not publish every path or method (api-reference.md marks them ASSUMED), so
//! every endpoint's method and path can be replaced on the builder without a new release.

use crate::error::{Error, Result};
use crate::secret::Secret;
use std::time::Duration;

/// The vendor's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.connecttoteams.com";

/// One vendor endpoint, named as the client method that calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /oauth/token`: the password grant.
    Token,
    /// `PUT /reseller/getAuthenticatedUser`.
    AuthenticatedUser,
    /// `GET /reseller/getAvailableSBCGatewayRegionsByResellerId/{resellerId}`.
    SbcGateways,
    /// `GET /pbx/getPBXTypesByResellerId?resellerId={resellerId}`.
    PbxTypes,
    /// `POST /reseller/newEnterprise`.
    CreateEnterprise,
    /// `POST /enterprise/getActionItemUrl`.
    ActionItemUrl,
    /// `POST /provisioning/getO365UserInfo` (method ASSUMED).
    O365UserInfo,
    /// `POST /provisioning/provisionTenantAdminAPI` (path ASSUMED).
    ProvisionTenantAdminApi,
    /// `POST /enterprise/updateEnterpriseManagementConsentByReseller` (path ASSUMED).
    UpdateManagementConsent,
    /// `GET /reseller/v3/getEnterprisesForReseller?resellerId={resellerId}` (shape ASSUMED).
    Enterprises,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 10] = [
        Endpoint::Token,
        Endpoint::AuthenticatedUser,
        Endpoint::SbcGateways,
        Endpoint::PbxTypes,
        Endpoint::CreateEnterprise,
        Endpoint::ActionItemUrl,
        Endpoint::O365UserInfo,
        Endpoint::ProvisionTenantAdminApi,
        Endpoint::UpdateManagementConsent,
        Endpoint::Enterprises,
    ];

    /// The snake_case name used for path overrides in every binding.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::AuthenticatedUser => "authenticated_user",
            Endpoint::SbcGateways => "sbc_gateways",
            Endpoint::PbxTypes => "pbx_types",
            Endpoint::CreateEnterprise => "create_enterprise",
            Endpoint::ActionItemUrl => "action_item_url",
            Endpoint::O365UserInfo => "o365_user_info",
            Endpoint::ProvisionTenantAdminApi => "provision_tenant_admin_api",
            Endpoint::UpdateManagementConsent => "update_management_consent",
            Endpoint::Enterprises => "enterprises",
        }
    }

    /// Finds an endpoint by its snake_case name.
    pub fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The default method and path template (`{resellerId}` is filled in per call).
    pub fn default_route(self) -> (&'static str, &'static str) {
        match self {
            Endpoint::Token => ("POST", "/oauth/token"),
            Endpoint::AuthenticatedUser => ("PUT", "/reseller/getAuthenticatedUser"),
            Endpoint::SbcGateways => (
                "GET",
                "/reseller/getAvailableSBCGatewayRegionsByResellerId/{resellerId}",
            ),
            Endpoint::PbxTypes => (
                "GET",
                "/pbx/getPBXTypesByResellerId?resellerId={resellerId}",
            ),
            Endpoint::CreateEnterprise => ("POST", "/reseller/newEnterprise"),
            Endpoint::ActionItemUrl => ("POST", "/enterprise/getActionItemUrl"),
            Endpoint::O365UserInfo => ("POST", "/provisioning/getO365UserInfo"),
            Endpoint::ProvisionTenantAdminApi => ("POST", "/provisioning/provisionTenantAdminAPI"),
            Endpoint::UpdateManagementConsent => (
                "POST",
                "/enterprise/updateEnterpriseManagementConsentByReseller",
            ),
            Endpoint::Enterprises => (
                "GET",
                "/reseller/v3/getEnterprisesForReseller?resellerId={resellerId}",
            ),
        }
    }

    /// True when sending the call twice cannot do harm, so failures may be retried blindly.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Endpoint::CreateEnterprise)
    }
}

/// A method and path template for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: reqwest::Method,
    /// The path (and query) template, starting with `/`; `{resellerId}` is filled in.
    pub path: String,
}

impl Route {
    /// Parses an override: `"/path"` keeps the default method, `"METHOD /path"` replaces both.
    pub fn parse(endpoint: Endpoint, spec: &str) -> Result<Route> {
        let spec = spec.trim();
        let (method, path) = match spec.split_once(' ') {
            Some((m, p)) => (m.trim().to_ascii_uppercase(), p.trim()),
            None => (endpoint.default_route().0.to_owned(), spec),
        };
        if !path.starts_with('/') {
            return Err(Error::invalid_input(format!(
                "path override for {} must start with '/', got {path:?}",
                endpoint.name()
            )));
        }
        let method = match method.as_str() {
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" => {
                reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| {
                    Error::invalid_input(format!("bad method for {}", endpoint.name()))
                })?
            }
            other => {
                return Err(Error::invalid_input(format!(
                    "method override for {} must be GET, POST, PUT, PATCH or DELETE, got {other:?}",
                    endpoint.name()
                )));
            }
        };
        Ok(Route {
            method,
            path: path.to_owned(),
        })
    }

    pub(crate) fn default_for(endpoint: Endpoint) -> Route {
        let (m, p) = endpoint.default_route();
        Route {
            method: reqwest::Method::from_bytes(m.as_bytes()).unwrap_or(reqwest::Method::POST),
            path: p.to_owned(),
        }
    }
}

/// The most attempts one call may make ([`RetryPolicy::max_attempts`] is 1 to this).
pub const MAX_ATTEMPTS_LIMIT: u32 = 10;

/// When and how often the client repeats a call that failed in a way a repeat may fix.
///
/// Only calls that cannot do harm when repeated are retried (reads, URL requests, the provisioning
/// calls); a create is never repeated blindly. Retried failures: connect errors, timeouts,
/// 429, 502, 503 and 504. Waits grow exponentially with full jitter, and honour `Retry-After`.
/// However many attempts are left, one call never takes longer than [`RetryPolicy::deadline`].
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries), at most
    /// [`MAX_ATTEMPTS_LIMIT`]. Default 4.
    pub max_attempts: u32,
    /// The first backoff. Default 200 ms.
    pub initial_backoff: Duration,
    /// The longest backoff. Default 10 s.
    pub max_backoff: Duration,
    /// The longest `Retry-After` the client waits for by itself; a longer one is returned to the
    /// caller as `rate_limited`. Default 60 s.
    pub max_retry_after: Duration,
    /// The longest one call may take in all: its attempts, the token fetch, backoffs and
    /// `Retry-After` waits. A wait that would end past it is not slept: the call ends with the
    /// failure that asked for it (`rate_limited` with its `Retry-After`, say); an attempt still
    /// running at the deadline ends as `timeout`. Default 60 s.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            deadline: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1), jittered with `random` in [0, 1).
    pub(crate) fn backoff(&self, attempt: u32, random: f64) -> Duration {
        let exp = self.initial_backoff.saturating_mul(
            1u32.checked_shl(attempt.saturating_sub(1).min(20))
                .unwrap_or(u32::MAX),
        );
        let cap = exp.min(self.max_backoff);
        // Full jitter, but never less than a tenth of the cap, so a retry storm still spreads out.
        cap.mul_f64(0.1 + 0.9 * random.clamp(0.0, 1.0))
    }
}

/// A password-grant credential set: the OAuth client plus the API user.
///
/// Used for the reseller-level token and, when the enterprise has API credentials, the
/// enterprise-level one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug))]
pub struct Credentials {
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: Secret,
    /// The API user's name.
    pub username: String,
    /// The API user's password.
    pub password: Secret,
}

impl Credentials {
    /// A credential set.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            username: username.into(),
            password: password.into(),
        }
    }
}

/// How the client gets an enterprise-level token for the `/provisioning/*` calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnterpriseAuth {
    /// The enterprise's API credentials, exchanged by the password grant.
    Credentials(Credentials),
    /// A token the caller obtained; used as is and never renewed.
    Token(Secret),
}
