//! The simulator's world: reseller, tenants, tokens, enterprises, consents, and the clock.
//!
//! Everything here is plain data behind one mutex, mutated by short synchronous methods that
//! never await. The HTTP layer only parses and formats, so the rules of the vendor API live in
//! one readable place.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long after `provisionTenantAdminAPI` a tenant whose roles were missing may grant the
/// management consent (the vendor's "30mins after enabling the roles").
pub const ROLES_DELAY: Duration = Duration::from_secs(30 * 60);

/// The vendor's message when the Teams/Skype Administrator roles are missing.
pub const ROLES_MISSING_MESSAGE: &str = "Unable to complete the consent process as the Roles Teams/Skype Administrator could not be found in the Tenant. Please enable the Roles in your Azure AD and try the Grant Consent process 30mins after enabling the roles";

/// Lifetime of the MSAL results the simulated Microsoft sign-in hands out.
pub const MSAL_LIFETIME: Duration = Duration::from_secs(3600);

/// A simulated Microsoft tenant and the admin who signs in for it.
#[derive(Debug, Clone, Serialize)]
pub struct Tenant {
    /// The short name used to pick it: `contoso`, `fabrikam`, `northwind`, `tailspin`.
    pub key: Cow<'static, str>,
    /// The Microsoft tenant id.
    pub tenant_id: Cow<'static, str>,
    /// The admin's sign-in name.
    pub admin: Cow<'static, str>,
    /// True when the admin is a Global Admin.
    pub global_admin: bool,
    /// True when the tenant has the Teams Tenant Admin API before anything is provisioned.
    pub has_admin_api: bool,
    /// True when the Teams/Skype Administrator roles are missing until provisioned plus 30 minutes.
    pub roles_missing: bool,
    /// What the consent page says about it.
    pub description: &'static str,
}

/// The tenants, one for each branch of the onboarding.
pub const TENANTS: &[Tenant] = &[
    Tenant {
        key: Cow::Borrowed("contoso"),
        tenant_id: Cow::Borrowed("7c9e6679-7425-40de-944b-e07fc1f90ae7"),
        admin: Cow::Borrowed("admin@contoso.onmicrosoft.com"),
        global_admin: true,
        has_admin_api: true,
        roles_missing: false,
        description: "ready: Global Admin, Tenant Admin API present",
    },
    Tenant {
        key: Cow::Borrowed("fabrikam"),
        tenant_id: Cow::Borrowed("1b4e28ba-2fa1-41d2-883f-0016d3cca427"),
        admin: Cow::Borrowed("admin@fabrikam.onmicrosoft.com"),
        global_admin: true,
        has_admin_api: false,
        roles_missing: false,
        description: "no Tenant Admin API until provisionTenantAdminAPI",
    },
    Tenant {
        key: Cow::Borrowed("northwind"),
        tenant_id: Cow::Borrowed("6ec0bd7f-11c0-43da-975e-2a8ad9ebae0b"),
        admin: Cow::Borrowed("admin@northwind.onmicrosoft.com"),
        global_admin: true,
        has_admin_api: true,
        roles_missing: true,
        description: "Teams admin roles missing: management consent fails until provisioned + 30 min",
    },
    Tenant {
        key: Cow::Borrowed("tailspin"),
        tenant_id: Cow::Borrowed("c56a4180-65aa-42ec-a945-5fd21dec0538"),
        admin: Cow::Borrowed("helpdesk@tailspin.onmicrosoft.com"),
        global_admin: false,
        has_admin_api: true,
        roles_missing: false,
        description: "the signer is not a Global Admin",
    },
];

/// Finds a tenant by key or tenant id. A key with a suffix, such as `contoso+17`, is a tenant
/// of its own (its own tenant id and admin) with the traits of `contoso`: soaks and portals can
/// onboard many enterprises, each to a tenant of its own.
pub fn tenant(key: &str) -> Option<Tenant> {
    if let Some(t) = TENANTS.iter().find(|t| t.key == key || t.tenant_id == key) {
        return Some(t.clone());
    }
    let (base_key, suffix) = key.split_once('+')?;
    if suffix.is_empty()
        || suffix.len() > 64
        || !suffix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return None;
    }
    let base = TENANTS.iter().find(|t| t.key == base_key)?;
    // FNV-1a over the key gives a stable tenant id for the same key.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let tenant_id = format!("{}-{:012x}", &base.tenant_id[..23], hash & 0xffff_ffff_ffff);
    let admin = base
        .admin
        .replacen(".onmicrosoft.com", &format!("-{suffix}.onmicrosoft.com"), 1);
    Some(Tenant {
        key: Cow::Owned(key.to_owned()),
        tenant_id: Cow::Owned(tenant_id),
        admin: Cow::Owned(admin),
        ..base.clone()
    })
}

/// The SBC gateways every reseller is offered.
pub const GATEWAYS: &[(i64, &str)] = &[(5678, "US-East"), (5679, "US-West"), (5680, "EU-West")];

/// The PBX types: (id, name, label, default, disabled, hosting).
pub const PBX_TYPES: &[(i64, &str, &str, bool, bool, &str)] = &[
    (
        1234,
        "Example PBX",
        "Example PBX Label",
        true,
        false,
        "Cloud",
    ),
    (
        1235,
        "Premises PBX",
        "On-premises PBX",
        false,
        false,
        "OnPremises",
    ),
    (1236, "Legacy PBX", "Retired PBX", false, true, "Cloud"),
];

/// The services the vendor accepts.
pub const SERVICES: &[&str] = &["PBX", "Trunk", "CALLAPP", "CallRecording", "SMS", "CHAT"];

/// The action types the vendor accepts.
pub const ACTION_TYPES: &[&str] = &[
    "REGISTRATION",
    "LOGIN_ENTERPRISE_ADMIN",
    "GET_USER_SYNC_CONSENT",
    "GET_PRESENCE_CONSENT",
    "GET_AGENT_CONSENT",
    "GET_CALL_APP_CONSENT",
    "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT",
    "GET_CONTACTS_CONSENT",
    "GET_CDR_CONSENT",
    "GET_CALL_RECORDING_CONSENT",
];

/// The enterprise list's page size when the request names none (Spring Data's default).
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// The largest page size the enterprise list answers with; a larger `size` is cut to it.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The credentials the simulator accepts. Reading JSON, a field left out keeps its default and
/// an unknown one is refused.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimCredentials {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// The reseller API user.
    pub username: String,
    /// Its password.
    pub password: String,
    /// The enterprise-level API user (one for every enterprise, in the simulator).
    pub enterprise_username: String,
    /// Its password.
    pub enterprise_password: String,
}

/// Prints the names, never the secret or the passwords (even a simulator's test credentials
/// should not teach a log to hold passwords).
impl std::fmt::Debug for SimCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("username", &self.username)
            .field("password", &"***")
            .field("enterprise_username", &self.enterprise_username)
            .field("enterprise_password", &"***")
            .finish()
    }
}

impl Default for SimCredentials {
    fn default() -> Self {
        Self {
            client_id: "ctt-sim-client".into(),
            client_secret: "sim-client-secret".into(),
            username: "api-admin@reseller.example".into(),
            password: "sim-reseller-password".into(),
            enterprise_username: "enterprise-api@reseller.example".into(),
            enterprise_password: "sim-enterprise-password".into(),
        }
    }
}

/// A token level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// `/reseller`, `/enterprise` and `/pbx` calls.
    Reseller,
    /// `/provisioning` calls.
    Enterprise,
}

#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub(crate) level: Level,
    pub(crate) expires_at: SystemTime,
}

#[derive(Debug, Clone)]
pub(crate) struct MsalInfo {
    pub(crate) tenant: Tenant,
    pub(crate) expires_at: SystemTime,
}

/// An enterprise the simulator holds.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SimEnterprise {
    /// Its database id.
    pub id: i64,
    /// Its unique name.
    pub name: String,
    /// The owning reseller.
    pub reseller_id: i64,
    /// Its services.
    pub services: Vec<String>,
    /// Its SBC gateway ids.
    pub sbc_gateways: Vec<i64>,
    /// Its PBX type ids.
    pub pbx_id: Vec<i64>,
    /// The create body's `restrictAdminAccess`.
    pub restrict_admin_access: bool,
    /// The tenant bound at registration.
    pub tenant_id: Option<String>,
    /// True once `updateEnterpriseManagementConsentByReseller` succeeded.
    pub managed_by_provider: bool,
    /// How many times that update succeeded.
    pub management_updates: u32,
    /// The create body's `billingReferences`.
    pub billing_references: Vec<String>,
}

/// One consent an admin granted (approval of a consent URL).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConsentRecord {
    /// The enterprise.
    pub enterprise_id: i64,
    /// The action type approved.
    pub action: String,
    /// The tenant that granted it.
    pub tenant_id: String,
    /// When, in the simulator's clock (seconds since the epoch).
    pub at_unix: u64,
}

/// One request the simulator answered (or faulted).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// The status sent, or 0 when the connection was dropped.
    pub status: u16,
    /// The fault injected, if any.
    pub fault: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct PendingAction {
    pub(crate) action: String,
    pub(crate) enterprise_id: i64,
    pub(crate) redirect_url: String,
}

/// The state of the tenant-side settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantState {
    pub(crate) admin_api_provisioned: bool,
    pub(crate) provisioned_at: Option<SystemTime>,
}

/// The whole simulated world.
#[derive(Debug)]
pub struct World {
    pub(crate) credentials: SimCredentials,
    pub(crate) reseller_id: i64,
    pub(crate) token_ttl: Duration,
    /// Lifetime of the MSAL results the consent screen issues.
    pub(crate) msal_ttl: Duration,
    pub(crate) clock_offset: Duration,
    pub(crate) tokens: HashMap<String, TokenInfo>,
    pub(crate) msal: HashMap<String, MsalInfo>,
    pub(crate) token_requests: HashMap<&'static str, u64>,
    pub(crate) enterprises: Vec<SimEnterprise>,
    pub(crate) next_id: i64,
    pub(crate) pending: HashMap<String, PendingAction>,
    pub(crate) consents: Vec<ConsentRecord>,
    pub(crate) tenants: HashMap<String, TenantState>,
    pub(crate) requests: Vec<RequestRecord>,
    pub(crate) counter: u64,
}

/// An error the simulator answers with: status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError {
    /// HTTP status.
    pub status: u16,
    /// The message, naming the field or object.
    pub message: String,
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for SimError {}

pub(crate) fn fail<T>(status: u16, message: impl Into<String>) -> Result<T, SimError> {
    Err(SimError {
        status,
        message: message.into(),
    })
}

/// The JSON posted to the redirect URL, and where.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Callback {
    /// The redirect URL exactly as given to `getActionItemUrl`.
    pub url: String,
    /// The callback body.
    pub body: serde_json::Value,
}

impl World {
    pub(crate) fn new(credentials: SimCredentials, token_ttl: Duration) -> Self {
        Self {
            credentials,
            reseller_id: 54,
            token_ttl,
            msal_ttl: MSAL_LIFETIME,
            clock_offset: Duration::ZERO,
            tokens: HashMap::new(),
            msal: HashMap::new(),
            token_requests: HashMap::new(),
            enterprises: Vec::new(),
            next_id: 123_456_789,
            pending: HashMap::new(),
            consents: Vec::new(),
            tenants: HashMap::new(),
            requests: Vec::new(),
            counter: 0,
        }
    }

    /// The simulator's time: the system's plus the offset moved by the clock knob.
    pub fn now(&self) -> SystemTime {
        SystemTime::now() + self.clock_offset
    }

    fn unique(&mut self) -> String {
        self.counter += 1;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{:x}{:08x}", nanos, self.counter)
    }

    fn jwt(&mut self, claims: serde_json::Value) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let body = b64.encode(claims.to_string());
        let sig = b64.encode(self.unique());
        format!("{header}.{body}.{sig}")
    }

    pub(crate) fn issue_token(
        &mut self,
        basic_client: Option<(String, String)>,
        form: &HashMap<String, String>,
    ) -> Result<serde_json::Value, SimError> {
        let (client_id, client_secret) = match basic_client {
            Some(c) => c,
            None => {
                return fail(
                    401,
                    "invalid_client: HTTP Basic client authentication is required",
                );
            }
        };
        if client_id != self.credentials.client_id
            || client_secret != self.credentials.client_secret
        {
            return fail(401, "invalid_client: bad client credentials");
        }
        match form.get("grant_type").map(String::as_str) {
            Some("password") => {}
            Some(other) => return fail(400, format!("unsupported_grant_type: {other}")),
            None => return fail(400, "invalid_request: grant_type is required"),
        }
        let username = form.get("username").cloned().unwrap_or_default();
        let password = form.get("password").cloned().unwrap_or_default();
        let level =
            if username == self.credentials.username && password == self.credentials.password {
                Level::Reseller
            } else if username == self.credentials.enterprise_username
                && password == self.credentials.enterprise_password
            {
                Level::Enterprise
            } else {
                return fail(400, "invalid_grant: Bad credentials");
            };
        let key = match level {
            Level::Reseller => "reseller",
            Level::Enterprise => "enterprise",
        };
        *self.token_requests.entry(key).or_default() += 1;
        let expires_at = self.now() + self.token_ttl;
        let exp = expires_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let token = self.jwt(serde_json::json!({"sub": username, "lvl": key, "exp": exp}));
        self.tokens
            .insert(token.clone(), TokenInfo { level, expires_at });
        Ok(serde_json::json!({
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.token_ttl.as_secs(),
            "scope": "read write",
        }))
    }

    /// Checks a bearer token; `msal_tenant` lets a reseller token act on `/provisioning/*` for a
    /// tenant that granted management by the service provider.
    pub(crate) fn check_token(
        &self,
        bearer: Option<&str>,
        need: Level,
        msal_tenant: Option<&str>,
    ) -> Result<(), SimError> {
        let token = match bearer {
            Some(t) => t,
            None => return fail(401, "missing bearer token"),
        };
        let info = match self.tokens.get(token) {
            Some(i) => i,
            None => return fail(401, "unknown bearer token"),
        };
        if info.expires_at <= self.now() {
            return fail(401, "bearer token expired");
        }
        if info.level == need {
            return Ok(());
        }
        if need == Level::Enterprise && info.level == Level::Reseller {
            let managed = msal_tenant.is_some_and(|tid| {
                self.enterprises
                    .iter()
                    .any(|e| e.tenant_id.as_deref() == Some(tid) && e.managed_by_provider)
            });
            if managed {
                return Ok(());
            }
        }
        let need_name = match need {
            Level::Reseller => "a reseller-level",
            Level::Enterprise => "an enterprise-level",
        };
        fail(401, format!("this call needs {need_name} token"))
    }

    pub(crate) fn check_reseller(&self, reseller_id: i64) -> Result<(), SimError> {
        if reseller_id == self.reseller_id {
            Ok(())
        } else {
            fail(404, format!("reseller {reseller_id} not found"))
        }
    }

    pub(crate) fn authenticated_user(&self) -> serde_json::Value {
        serde_json::json!({
            "username": self.credentials.username,
            "type": "RESELLER",
            "resellerId": self.reseller_id,
            "firstName": "API",
            "lastName": "Admin",
            "enabled": true,
        })
    }

    pub(crate) fn create_enterprise(&mut self, body: &serde_json::Value) -> Result<i64, SimError> {
        let obj = match body.as_object() {
            Some(o) => o,
            None => return fail(400, "the body must be a JSON object"),
        };
        let name = match obj.get("enterpriseName").and_then(|v| v.as_str()) {
            Some(n) if !n.trim().is_empty() => n.to_owned(),
            _ => return fail(400, "enterpriseName is required"),
        };
        let services: Vec<String> = match obj.get("services").and_then(|v| v.as_array()) {
            Some(a) if !a.is_empty() => {
                let mut out = Vec::new();
                for s in a {
                    match s.as_str() {
                        Some(s) if SERVICES.contains(&s) => out.push(s.to_owned()),
                        _ => return fail(400, format!("services: unknown service {s}")),
                    }
                }
                out
            }
            _ => return fail(400, "services is required and must not be empty"),
        };
        let ids = |field: &str| -> Result<Vec<i64>, SimError> {
            match obj.get(field) {
                None | Some(serde_json::Value::Null) => Ok(Vec::new()),
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .map(|v| {
                        v.as_i64().ok_or_else(|| SimError {
                            status: 400,
                            message: format!("{field} must hold integers"),
                        })
                    })
                    .collect(),
                Some(_) => fail(400, format!("{field} must be an array of integers")),
            }
        };
        let gateways = ids("sbcGateways")?;
        let pbx = ids("pbxId")?;
        let calling = services.iter().any(|s| s == "PBX" || s == "Trunk");
        let needs_pbx = services.iter().any(|s| s == "PBX" || s == "CALLAPP");
        if calling && gateways.is_empty() {
            return fail(400, "sbcGateways is required for PBX or Trunk");
        }
        if needs_pbx && pbx.is_empty() {
            return fail(400, "pbxId is required for PBX or CALLAPP");
        }
        if let Some(g) = gateways
            .iter()
            .find(|g| !GATEWAYS.iter().any(|(id, _)| id == *g))
        {
            return fail(400, format!("sbcGateways: unknown SBC gateway id {g}"));
        }
        for p in &pbx {
            match PBX_TYPES.iter().find(|t| t.0 == *p) {
                None => return fail(400, format!("pbxId: unknown PBX type id {p}")),
                Some(t) if t.4 => return fail(400, format!("pbxId: PBX type {p} is disabled")),
                Some(_) => {}
            }
        }
        if let Some(rid) = obj.get("resellerId").and_then(|v| v.as_i64()) {
            self.check_reseller(rid)?;
        }
        let billing_references: Vec<String> = match obj.get("billingReferences") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_owned).ok_or_else(|| SimError {
                        status: 400,
                        message: "billingReferences must hold strings".into(),
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return fail(400, "billingReferences must be an array of strings"),
        };
        if self.enterprises.iter().any(|e| e.name == name) {
            return fail(409, format!("Enterprise name '{name}' already exists"));
        }
        let id = self.next_id;
        self.next_id += 1;
        self.enterprises.push(SimEnterprise {
            id,
            name,
            reseller_id: self.reseller_id,
            services,
            sbc_gateways: gateways,
            pbx_id: pbx,
            restrict_admin_access: obj
                .get("restrictAdminAccess")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            tenant_id: None,
            managed_by_provider: false,
            management_updates: 0,
            billing_references,
        });
        Ok(id)
    }

    pub(crate) fn action_item_url(
        &mut self,
        base_url: &str,
        body: &serde_json::Value,
    ) -> Result<String, SimError> {
        let field = |name: &str| -> Result<String, SimError> {
            match body.get(name).and_then(|v| v.as_str()) {
                Some(s) if !s.trim().is_empty() => Ok(s.to_owned()),
                _ => fail(400, format!("{name} is required")),
            }
        };
        let action = field("actionType")?;
        let name = field("enterpriseName")?;
        let redirect = field("redirectUrl")?;
        if !ACTION_TYPES.contains(&action.as_str()) {
            return fail(400, format!("actionType {action} is not supported"));
        }
        match url::Url::parse(&redirect) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => {
                return fail(
                    400,
                    format!("redirectUrl {redirect:?} is not an absolute http(s) URL"),
                );
            }
        }
        let enterprise = match self
            .enterprises
            .iter()
            .find(|e| e.name == name && e.reseller_id == self.reseller_id)
        {
            Some(e) => e.clone(),
            None => return fail(404, format!("enterprise '{name}' not found")),
        };
        if action != "REGISTRATION" && enterprise.tenant_id.is_none() {
            return fail(
                400,
                format!(
                    "enterprise '{name}' is not registered yet; get the REGISTRATION URL first"
                ),
            );
        }
        let state = self.unique();
        self.pending.insert(
            state.clone(),
            PendingAction {
                action,
                enterprise_id: enterprise.id,
                redirect_url: redirect,
            },
        );
        let mut url = url::Url::parse(&format!(
            "{}/common/oauth2/v2.0/authorize",
            base_url.trim_end_matches('/')
        ))
        .map_err(|e| SimError {
            status: 500,
            message: e.to_string(),
        })?;
        let nonce = self.unique();
        url.query_pairs_mut()
            .append_pair("response_type", "id_token code")
            .append_pair("client_id", "6a8d4d5b-0334-4db2-9715-90a154ac7043")
            .append_pair("nonce", &nonce)
            .append_pair("response_mode", "form_post")
            .append_pair("state", &state)
            .append_pair(
                "scope",
                "openid Directory.ReadWrite.All Organization.Read.All User.ReadWrite.All",
            )
            .append_pair(
                "redirect_uri",
                &format!(
                    "{}/restricted/handleResponse",
                    base_url.trim_end_matches('/')
                ),
            );
        Ok(url.to_string())
    }

    /// What the consent page shows for a pending action.
    pub(crate) fn pending_summary(&self, state: &str) -> Option<(String, String)> {
        let p = self.pending.get(state)?;
        let name = self
            .enterprises
            .iter()
            .find(|e| e.id == p.enterprise_id)
            .map(|e| e.name.clone())
            .unwrap_or_default();
        Some((p.action.clone(), name))
    }

    pub(crate) fn redirect_for(&self, state: &str) -> Option<String> {
        self.pending.get(state).map(|p| p.redirect_url.clone())
    }

    /// The tenant's admin signs in and accepts: records what Microsoft and ConnecttoTeams would,
    /// and returns the callback.
    pub(crate) fn approve(&mut self, state: &str, tenant_key: &str) -> Result<Callback, SimError> {
        let pending = match self.pending.get(state) {
            Some(p) => p.clone(),
            None => return fail(400, "unknown or expired authorization request (state)"),
        };
        let tenant = match tenant(tenant_key) {
            Some(t) => t,
            None => {
                let keys: Vec<&str> = TENANTS.iter().map(|t| t.key.as_ref()).collect();
                return fail(
                    400,
                    format!("unknown tenant {tenant_key:?} (known: {})", keys.join(", ")),
                );
            }
        };
        let now = self.now();
        let at_unix = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if tenant.global_admin {
            let enterprise = self
                .enterprises
                .iter_mut()
                .find(|e| e.id == pending.enterprise_id)
                .ok_or_else(|| SimError {
                    status: 404,
                    message: "enterprise not found".into(),
                })?;
            if pending.action == "REGISTRATION" {
                match &enterprise.tenant_id {
                    None => enterprise.tenant_id = Some(tenant.tenant_id.to_string()),
                    Some(t) if *t == tenant.tenant_id => {}
                    Some(_) => {
                        return fail(
                            409,
                            "the enterprise is already registered to another tenant",
                        );
                    }
                }
            } else if pending.action != "LOGIN_ENTERPRISE_ADMIN" {
                self.consents.push(ConsentRecord {
                    enterprise_id: pending.enterprise_id,
                    action: pending.action.clone(),
                    tenant_id: tenant.tenant_id.to_string(),
                    at_unix,
                });
            }
        }
        let expires_at = now + self.msal_ttl;
        let exp = expires_at.duration_since(UNIX_EPOCH).unwrap_or_default();
        let access = self.jwt(serde_json::json!({
            "aud": "https://api.spaces.skype.com", "tid": tenant.tenant_id, "upn": tenant.admin, "exp": exp.as_secs()
        }));
        let id_token = self.jwt(serde_json::json!({"tid": tenant.tenant_id, "preferred_username": tenant.admin, "exp": exp.as_secs()}));
        self.msal.insert(
            access.clone(),
            MsalInfo {
                tenant: tenant.clone(),
                expires_at,
            },
        );
        let body = serde_json::json!({
            "msalAuthenticationResult": {
                "authenticationResult": {
                    "accessToken": access,
                    "accessTokenType": "login.microsoftonline.com",
                    "expiresAfter": null,
                    "expiresOn": exp.as_micros() as u64,
                    "expiresOnDate": null,
                    "idToken": id_token,
                    "multipleResourceRefreshToken": false,
                    "refreshToken": null,
                    "userInfo": {
                        "displayableId": tenant.admin,
                        "identityProvider": "user",
                        "tenantId": tenant.tenant_id,
                    }
                },
                "resellerId": null,
                "tenantId": null
            },
            "organization": "MSFT",
            "officeUserType": if tenant.global_admin { "GLOBAL_ADMIN" } else { "USER" },
            "companyAdmin": tenant.global_admin,
            "containsTeamsTenantAdminAPI": self.has_admin_api(&tenant),
        });
        Ok(Callback {
            url: pending.redirect_url,
            body,
        })
    }

    fn has_admin_api(&self, tenant: &Tenant) -> bool {
        tenant.has_admin_api
            || self
                .tenants
                .get(tenant.key.as_ref())
                .is_some_and(|s| s.admin_api_provisioned)
    }

    /// Checks an MSAL `authenticationResult` in a body and returns its tenant.
    pub(crate) fn msal_tenant(&self, body: &serde_json::Value) -> Result<Tenant, SimError> {
        let auth = match body.get("authenticationResult") {
            Some(a) if a.is_object() => a,
            _ => return fail(400, "authenticationResult is required"),
        };
        let token = match auth.get("accessToken").and_then(|v| v.as_str()) {
            Some(t) if !t.is_empty() => t,
            _ => return fail(400, "authenticationResult.accessToken is required"),
        };
        let info = match self.msal.get(token) {
            Some(i) => i,
            None => {
                return fail(
                    400,
                    "authenticationResult.accessToken is not a token Microsoft issued",
                );
            }
        };
        if info.expires_at <= self.now() {
            return fail(
                400,
                "authenticationResult.accessToken has expired; ask the admin to sign in again",
            );
        }
        Ok(info.tenant.clone())
    }

    pub(crate) fn o365_user_info(&self, tenant: &Tenant) -> serde_json::Value {
        serde_json::json!({
            "containsTeamsTenantAdminAPI": self.has_admin_api(tenant),
            "displayableId": tenant.admin,
            "tenantId": tenant.tenant_id,
            "organization": "MSFT",
            "officeUserType": if tenant.global_admin { "GLOBAL_ADMIN" } else { "USER" },
        })
    }

    pub(crate) fn provision_tenant_admin_api(&mut self, tenant: &Tenant) {
        let now = self.now();
        let state = self.tenants.entry(tenant.key.to_string()).or_default();
        state.admin_api_provisioned = true;
        if state.provisioned_at.is_none() {
            state.provisioned_at = Some(now);
        }
    }

    pub(crate) fn update_management_consent(
        &mut self,
        body: &serde_json::Value,
    ) -> Result<(), SimError> {
        let tenant = self.msal_tenant(body)?;
        let reseller_id = match body.get("resellerId").and_then(|v| v.as_i64()) {
            Some(r) => r,
            None => return fail(400, "resellerId is required"),
        };
        self.check_reseller(reseller_id)?;
        let tenant_id = match body.get("tenantId").and_then(|v| v.as_str()) {
            Some(t) if !t.trim().is_empty() => t,
            _ => return fail(400, "tenantId is required"),
        };
        if tenant_id != tenant.tenant_id {
            return fail(400, "tenantId does not match the signed-in admin's tenant");
        }
        let index = match self
            .enterprises
            .iter()
            .position(|e| e.tenant_id.as_deref() == Some(tenant_id) && e.reseller_id == reseller_id)
        {
            Some(i) => i,
            None => {
                return fail(
                    404,
                    format!(
                        "no enterprise of reseller {reseller_id} is registered to tenant {tenant_id}"
                    ),
                );
            }
        };
        let enterprise_id = self.enterprises[index].id;
        let granted = self.consents.iter().any(|c| {
            c.enterprise_id == enterprise_id
                && c.action == "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT"
        });
        if !granted {
            return fail(
                400,
                "the Global Admin has not granted the service provider management consent",
            );
        }
        if tenant.roles_missing {
            let ready = self
                .tenants
                .get(tenant.key.as_ref())
                .and_then(|s| s.provisioned_at)
                .is_some_and(|at| at + ROLES_DELAY <= self.now());
            if !ready {
                return fail(400, ROLES_MISSING_MESSAGE);
            }
        }
        let e = &mut self.enterprises[index];
        e.managed_by_provider = true;
        e.management_updates += 1;
        Ok(())
    }

    /// One page of the reseller's enterprises, as a Spring `Page` (`page` from 0). The list is
    /// always paged, as Spring Data's pageable endpoints are, so a client that reads only the
    /// first page misses enterprises once there are more than `size`.
    pub(crate) fn enterprise_list(
        &self,
        reseller_id: i64,
        page: u64,
        size: u64,
    ) -> serde_json::Value {
        let size = size.clamp(1, MAX_PAGE_SIZE);
        let mine: Vec<&SimEnterprise> = self
            .enterprises
            .iter()
            .filter(|e| e.reseller_id == reseller_id)
            .collect();
        let total = mine.len() as u64;
        let total_pages = total.div_ceil(size);
        let start = page.saturating_mul(size);
        let content: Vec<serde_json::Value> = mine
            .iter()
            .skip(usize::try_from(start).unwrap_or(usize::MAX))
            .take(usize::try_from(size).unwrap_or(usize::MAX))
            .map(|e| {
                serde_json::json!({
                    "enterpriseId": e.id,
                    "enterpriseName": e.name,
                    "services": e.services,
                    "tenantId": e.tenant_id,
                    "managedByProvider": e.managed_by_provider,
                    "billingReferences": e.billing_references,
                })
            })
            .collect();
        serde_json::json!({
            "content": content,
            "number": page,
            "size": size,
            "numberOfElements": content.len(),
            "totalElements": total,
            "totalPages": total_pages,
            "first": page == 0,
            "last": page.saturating_add(1) >= total_pages,
            "empty": content.is_empty(),
        })
    }
}
