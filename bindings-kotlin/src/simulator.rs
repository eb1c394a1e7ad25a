//! The embedded simulator (crate `ctt-sim`) as a Kotlin object, for tests and first steps:
//! `Simulator.start()`, its `baseUrl`, the credentials it accepts, its reseller id, and
//! `approve(url, tenant)` acting as a tenant's admin. `close()` stops it.

use crate::error::CttError;
use ctt_onboard::ErrorCode;
use ctt_sim as sim;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The credentials the simulator accepts. `toString()` masks the secret and the passwords.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct SimCredentials {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// The reseller API user.
    pub username: String,
    /// Its password.
    pub password: String,
    /// The enterprise-level API user.
    pub enterprise_username: String,
    /// Its password.
    pub enterprise_password: String,
}

impl std::fmt::Debug for SimCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SimCredentials(clientId={}, clientSecret=***, username={}, password=***, enterpriseUsername={}, enterprisePassword=***)",
            self.client_id, self.username, self.enterprise_username
        )
    }
}

impl From<SimCredentials> for sim::SimCredentials {
    fn from(c: SimCredentials) -> Self {
        Self {
            client_id: c.client_id,
            client_secret: c.client_secret,
            username: c.username,
            password: c.password,
            enterprise_username: c.enterprise_username,
            enterprise_password: c.enterprise_password,
        }
    }
}

impl From<&sim::SimCredentials> for SimCredentials {
    fn from(c: &sim::SimCredentials) -> Self {
        Self {
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            username: c.username.clone(),
            password: c.password.clone(),
            enterprise_username: c.enterprise_username.clone(),
            enterprise_password: c.enterprise_password.clone(),
        }
    }
}

/// The callback the portal would receive after the admin acted: where, and the JSON body.
/// The body holds the admin's MSAL tokens, so `toString()` shows only the URL.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct SimCallback {
    /// The redirect URL exactly as given to `getActionItemUrl`.
    pub url: String,
    /// The callback body (JSON).
    pub body: String,
}

impl std::fmt::Debug for SimCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SimCallback(url={}, body=<{} bytes, tokens masked>)",
            self.url,
            self.body.len()
        )
    }
}

/// An enterprise the simulator holds.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
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
    /// True once the management consent was recorded.
    pub managed_by_provider: bool,
    /// How many times that update succeeded.
    pub management_updates: i64,
}

/// One consent an admin granted.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SimConsent {
    /// The enterprise.
    pub enterprise_id: i64,
    /// The action type approved.
    pub action: String,
    /// The tenant that granted it.
    pub tenant_id: String,
}

/// One request the simulator answered (or faulted).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SimRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// The status sent, or 0 when the connection was dropped.
    pub status: i32,
    /// The fault injected, if any.
    pub fault: Option<String>,
}

/// A simulated Microsoft tenant: one for each branch of the onboarding.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SimTenant {
    /// `contoso`, `fabrikam`, `northwind` or `tailspin`.
    pub key: String,
    /// The Microsoft tenant id.
    pub tenant_id: String,
    /// The admin's sign-in name.
    pub admin: String,
    /// True when the admin is a Global Admin.
    pub global_admin: bool,
    /// True when the Tenant Admin API is there before anything is provisioned.
    pub has_admin_api: bool,
    /// True when the Teams administrator roles are missing until provisioned plus 30 minutes.
    pub roles_missing: bool,
    /// What the tenant is for.
    pub description: String,
}

/// Injected faults: a fraction of API requests fail, reproducibly by seed.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SimFaults {
    /// Fraction of API requests faulted, 0.0 to 1.0.
    pub rate: f64,
    /// Seed of the fault sequence.
    #[uniffi(default = 1)]
    pub seed: i64,
    /// Kinds to draw from: `latency`, `429`, `500`, `502`, `503`, `drop-before`, `drop-after`,
    /// `truncate`. Empty means all.
    #[uniffi(default)]
    pub kinds: Vec<String>,
    /// Only paths starting with one of these are faulted; empty means every path.
    #[uniffi(default)]
    pub paths: Vec<String>,
    /// `Retry-After` seconds of 429 and 503 faults.
    #[uniffi(default = 1)]
    pub retry_after_secs: i64,
    /// The delay of a latency fault, in milliseconds.
    #[uniffi(default = 200)]
    pub latency_ms: i64,
}

fn non_negative(what: &str, v: i64) -> Result<u64, CttError> {
    u64::try_from(v)
        .map_err(|_| CttError::invalid_input(format!("{what} is {v}; it must not be negative")))
}

impl TryFrom<SimFaults> for sim::FaultConfig {
    type Error = CttError;
    fn try_from(f: SimFaults) -> Result<Self, CttError> {
        if !(0.0..=1.0).contains(&f.rate) {
            return Err(CttError::invalid_input(format!(
                "fault rate {} is not between 0 and 1",
                f.rate
            )));
        }
        let kinds = if f.kinds.is_empty() {
            sim::FaultKind::ALL.to_vec()
        } else {
            f.kinds
                .iter()
                .map(|k| {
                    sim::FaultKind::parse(k)
                        .ok_or_else(|| CttError::invalid_input(format!("unknown fault kind {k:?}")))
                })
                .collect::<Result<_, _>>()?
        };
        Ok(sim::FaultConfig {
            rate: f.rate,
            seed: non_negative("seed", f.seed)?,
            kinds,
            latency_ms: non_negative("latency_ms", f.latency_ms)?,
            retry_after_secs: non_negative("retry_after_secs", f.retry_after_secs)?,
            paths: f.paths,
        })
    }
}

/// A canned answer for every API request whose path starts with `pathPrefix` (a test knob for
/// answers the real service should never give: huge, deeply nested, the wrong content type).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct SimCanned {
    /// Requests whose path starts with this, such as `/reseller/getPBXTypes`.
    pub path_prefix: String,
    /// The HTTP status to answer with.
    #[uniffi(default = 200)]
    pub status: i32,
    /// The `Content-Type` header.
    #[uniffi(default = "application/json")]
    pub content_type: String,
    /// The body.
    pub body: String,
}

impl std::fmt::Debug for SimCanned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SimCanned(pathPrefix={}, status={}, contentType={}, body=<{} bytes>)",
            self.path_prefix,
            self.status,
            self.content_type,
            self.body.len()
        )
    }
}

impl TryFrom<SimCanned> for sim::CannedResponse {
    type Error = CttError;
    fn try_from(c: SimCanned) -> Result<Self, CttError> {
        let status = u16::try_from(c.status)
            .ok()
            .filter(|s| (100..=999).contains(s))
            .ok_or_else(|| {
                CttError::invalid_input(format!("status {} is not an HTTP status", c.status))
            })?;
        Ok(sim::CannedResponse {
            path_prefix: c.path_prefix,
            status,
            content_type: c.content_type,
            body: c.body,
        })
    }
}

crate::export! {
    /// Every simulated tenant.
    pub fn sim_tenants() -> Vec<SimTenant> {
        sim::TENANTS
            .iter()
            .map(|t| SimTenant {
                key: t.key.to_string(),
                tenant_id: t.tenant_id.to_string(),
                admin: t.admin.to_string(),
                global_admin: t.global_admin,
                has_admin_api: t.has_admin_api,
                roles_missing: t.roles_missing,
                description: t.description.to_string(),
            })
            .collect()
    }
}

fn sim_error(e: sim::SimError) -> CttError {
    let code = match e.status {
        400 => ErrorCode::InvalidInput,
        401 => ErrorCode::Authentication,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        409 => ErrorCode::Conflict,
        _ => ErrorCode::Api,
    };
    ctt_onboard::Error::new(code, format!("simulator: {}", e.message))
        .with_status(e.status)
        .into()
}

/// A running simulator on 127.0.0.1 (its own thread and runtime). `close()` stops it.
#[derive(uniffi::Object)]
#[uniffi::export(Display)]
pub struct Simulator {
    inner: Mutex<Option<Arc<sim::Simulator>>>,
    base_url: String,
    credentials: SimCredentials,
    reseller_id: i64,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Simulator(baseUrl={})", self.base_url)
    }
}

impl std::fmt::Display for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Simulator(baseUrl={})", self.base_url)
    }
}

impl Simulator {
    fn handle(&self) -> Result<Arc<sim::Simulator>, CttError> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .clone()
            .ok_or_else(|| ctt_onboard::Error::flow_state("the simulator was stopped").into())
    }

    fn launch(config: sim::SimConfig) -> Result<Arc<Self>, CttError> {
        let s = sim::Simulator::start(config).map_err(|e| {
            CttError::from(ctt_onboard::Error::new(
                ErrorCode::Network,
                format!("the simulator could not start: {e}"),
            ))
        })?;
        Ok(Arc::new(Self {
            base_url: s.base_url().to_owned(),
            credentials: s.credentials().into(),
            reseller_id: s.reseller_id(),
            inner: Mutex::new(Some(Arc::new(s))),
        }))
    }

    fn with<T>(&self, f: impl FnOnce(&sim::Simulator) -> T) -> Result<T, CttError> {
        let handle = self.handle()?;
        Ok(f(handle.as_ref()))
    }
}

crate::export! {
    impl Simulator {
        /// Starts a simulator on a free port of 127.0.0.1 and returns once it listens.
        #[uniffi::constructor]
        pub fn start() -> Result<Arc<Self>, CttError> {
            Self::start_with(None, None)
        }

        /// Starts a simulator with a token lifetime (seconds) and injected faults.
        #[uniffi::constructor]
        pub fn start_with(
            token_ttl_secs: Option<i64>,
            faults: Option<SimFaults>,
        ) -> Result<Arc<Self>, CttError> {
            let mut config = sim::SimConfig::default();
            if let Some(ttl) = token_ttl_secs {
                config.token_ttl = Duration::from_secs(non_negative("token_ttl_secs", ttl)?);
            }
            if let Some(f) = faults {
                config.faults = f.try_into()?;
            }
            Self::launch(config)
        }

        /// Starts a simulator that accepts these credentials instead of its defaults (for canary
        /// secrets in tests).
        #[uniffi::constructor]
        pub fn start_with_credentials(credentials: SimCredentials) -> Result<Arc<Self>, CttError> {
            Self::launch(sim::SimConfig {
                credentials: credentials.into(),
                ..sim::SimConfig::default()
            })
        }

        /// `http://127.0.0.1:<port>`.
        pub fn base_url(&self) -> String {
            self.base_url.clone()
        }

        /// The credentials it accepts.
        pub fn credentials(&self) -> SimCredentials {
            self.credentials.clone()
        }

        /// The reseller id of its one reseller.
        pub fn reseller_id(&self) -> i64 {
            self.reseller_id
        }

        /// The simulator's current time.
        pub fn now(&self) -> Result<std::time::SystemTime, CttError> {
            self.with(|s| s.now())
        }

        /// Moves the simulator's clock forward by `ms` milliseconds.
        pub fn advance_clock_ms(&self, ms: i64) -> Result<(), CttError> {
            let by = Duration::from_millis(non_negative("ms", ms)?);
            self.with(|s| s.advance_clock(by))
        }

        /// Replaces the injected faults (and restarts their sequence from the seed).
        pub fn set_faults(&self, faults: SimFaults) -> Result<(), CttError> {
            let config: sim::FaultConfig = faults.try_into()?;
            self.with(|s| s.set_faults(config))
        }

        /// Answers every API request under `canned.pathPrefix` with `canned` (replacing an earlier
        /// one for the same prefix) until `clearCanned()`. The request log still records them.
        pub fn set_canned(&self, canned: SimCanned) -> Result<(), CttError> {
            let canned: sim::CannedResponse = canned.try_into()?;
            self.with(|s| s.set_canned(canned))
        }

        /// Removes every canned response.
        pub fn clear_canned(&self) -> Result<(), CttError> {
            self.with(|s| s.clear_canned())
        }

        /// Changes the lifetime of tokens issued from now on.
        pub fn set_token_ttl_secs(&self, secs: i64) -> Result<(), CttError> {
            let ttl = Duration::from_secs(non_negative("secs", secs)?);
            self.with(|s| s.set_token_ttl(ttl))
        }

        /// Like `approve`, but never posts the callback anywhere.
        pub fn approve_without_posting(
            &self,
            url: String,
            tenant: String,
        ) -> Result<SimCallback, CttError> {
            let callback = self
                .with(|s| s.approve_without_posting(&url, &tenant))?
                .map_err(sim_error)?;
            Ok(SimCallback {
                url: callback.url,
                body: callback.body.to_string(),
            })
        }

        /// Token requests that succeeded, by level (`reseller`, `enterprise`).
        pub fn token_requests(&self, level: String) -> Result<i64, CttError> {
            self.with(|s| i64::try_from(s.token_requests(&level)).unwrap_or(i64::MAX))
        }

        /// The enterprises it holds.
        pub fn enterprises(&self) -> Result<Vec<SimEnterprise>, CttError> {
            self.with(|s| {
                s.enterprises()
                    .into_iter()
                    .map(|e| SimEnterprise {
                        id: e.id,
                        name: e.name,
                        reseller_id: e.reseller_id,
                        services: e.services,
                        sbc_gateways: e.sbc_gateways,
                        pbx_id: e.pbx_id,
                        restrict_admin_access: e.restrict_admin_access,
                        tenant_id: e.tenant_id,
                        managed_by_provider: e.managed_by_provider,
                        management_updates: i64::from(e.management_updates),
                    })
                    .collect()
            })
        }

        /// The consents granted so far.
        pub fn consents(&self) -> Result<Vec<SimConsent>, CttError> {
            self.with(|s| {
                s.consents()
                    .into_iter()
                    .map(|c| SimConsent {
                        enterprise_id: c.enterprise_id,
                        action: c.action,
                        tenant_id: c.tenant_id,
                    })
                    .collect()
            })
        }

        /// Every API request answered so far, in order.
        pub fn requests(&self) -> Result<Vec<SimRequest>, CttError> {
            self.with(|s| {
                s.requests()
                    .into_iter()
                    .map(|r| SimRequest {
                        method: r.method,
                        path: r.path,
                        status: i32::from(r.status),
                        fault: r.fault,
                    })
                    .collect()
            })
        }

        /// Stops the server now (also done when the object is closed; an `approve` in flight
        /// finishes first). Later calls fail with `CttException.FlowState`.
        pub fn stop(&self) {
            let taken = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(s) = taken.and_then(|s| Arc::try_unwrap(s).ok()) {
                s.close();
            }
        }
    }
}

crate::export! {
    impl Simulator {
        /// Acts as `tenant`'s admin (`contoso`, `fabrikam`, `northwind`, `tailspin`) on an action
        /// item URL the API returned; returns the callback the portal would receive, and posts it
        /// to the redirect URL when that is on a loopback host.
        pub async fn approve(&self, url: String, tenant: String) -> Result<SimCallback, CttError> {
            // Hold a clone of the handle, not the lock, across the await, so `stop()` never waits.
            let s = self.handle()?;
            let callback = s.approve(&url, &tenant).await.map_err(sim_error)?;
            Ok(SimCallback {
                url: callback.url,
                body: callback.body.to_string(),
            })
        }
    }
}
