//! `Client` and `ClientBuilder`: core's client, its builder's settings as chained methods, and one
//! suspend function per vendor endpoint. Arguments are converted, errors mapped; nothing else.

use crate::error::invalid_input;
use crate::models::AuthenticationResult;
use crate::onboarding::CallbackKeys;
use ctt_onboard::{
    self as core, ActionType, AuthenticatedUser, CttError, EnterpriseSummary, NewEnterprise,
    O365UserInfo, PbxType, SbcGateway,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// When and how often the client repeats a call that a repeat may fix (only calls that cannot do
/// harm when repeated; a create is never repeated blindly).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries). Default 4.
    #[uniffi(default = 4)]
    pub max_attempts: i32,
    /// The first backoff, in milliseconds. Default 200.
    #[uniffi(default = 200)]
    pub initial_backoff_ms: i64,
    /// The longest backoff, in milliseconds. Default 10 000.
    #[uniffi(default = 10000)]
    pub max_backoff_ms: i64,
    /// The longest `Retry-After` the client waits for by itself, in milliseconds; a longer one is
    /// returned as `rate_limited`. Default 60 000.
    #[uniffi(default = 60000)]
    pub max_retry_after_ms: i64,
    /// The longest one call may take in all (attempts, backoffs, `Retry-After` waits), in
    /// milliseconds; a wait that would end past it is not slept. Default 60 000.
    #[uniffi(default = 60000)]
    pub deadline_ms: i64,
}

fn millis(what: &str, ms: i64) -> Result<Duration, CttError> {
    u64::try_from(ms)
        .map(Duration::from_millis)
        .map_err(|_| invalid_input(format!("{what} is {ms}; it must not be negative")))
}

impl TryFrom<RetryPolicy> for core::RetryPolicy {
    type Error = CttError;
    fn try_from(p: RetryPolicy) -> Result<Self, CttError> {
        Ok(core::RetryPolicy {
            max_attempts: u32::try_from(p.max_attempts).map_err(|_| {
                invalid_input(format!(
                    "retry max_attempts is {}; it must be at least 1",
                    p.max_attempts
                ))
            })?,
            initial_backoff: millis("retry initial_backoff_ms", p.initial_backoff_ms)?,
            max_backoff: millis("retry max_backoff_ms", p.max_backoff_ms)?,
            max_retry_after: millis("retry max_retry_after_ms", p.max_retry_after_ms)?,
            deadline: millis("retry deadline_ms", p.deadline_ms)?,
        })
    }
}

/// A test knob: the system clock plus an offset that moves only when told to. Give it to
/// [`ClientBuilder::clock`] and move it together with the simulator's clock to cross the vendor's
/// 30-minute wait in a test.
#[derive(Debug, Default, uniffi::Object)]
pub struct ManualClock {
    pub(crate) inner: core::ManualClock,
}

crate::export! {
    impl ManualClock {
        /// A clock that starts at the system time.
        #[uniffi::constructor]
        pub fn new() -> Arc<Self> {
            Arc::new(Self::default())
        }

        /// Moves this clock forward by `ms` milliseconds.
        pub fn advance_ms(&self, ms: i64) -> Result<(), CttError> {
            self.inner.advance(millis("advance ms", ms)?);
            Ok(())
        }

        /// The clock's current time.
        pub fn now(&self) -> std::time::SystemTime {
            core::Clock::now(&self.inner)
        }
    }
}

/// Configures a [`Client`]: chain the settings, then `build()`. Secrets given here (client secret,
/// passwords, tokens, callback key) are never printed.
#[derive(Debug, Default, uniffi::Object)]
pub struct ClientBuilder {
    inner: Mutex<core::ClientBuilder>,
    error: Mutex<Option<CttError>>,
}

impl ClientBuilder {
    /// Applies one setting. The setters are the only exports outside `export!` (they keep their
    /// plain chaining signature for Java), so this is where their panics are caught: the panic
    /// becomes the builder's error, which `build()` reports as `CttException.Api`.
    fn with(
        self: Arc<Self>,
        f: impl FnOnce(core::ClientBuilder) -> core::ClientBuilder,
    ) -> Arc<Self> {
        let outcome = crate::runtime::guard(|| {
            let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            let builder = std::mem::take(&mut *guard);
            *guard = f(builder);
            Ok(())
        });
        match outcome {
            Ok(()) => self,
            Err(e) => self.fail(e),
        }
    }

    fn fail(self: Arc<Self>, error: CttError) -> Arc<Self> {
        let mut guard = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(error);
        }
        drop(guard);
        self
    }
}

crate::export! {
    impl ClientBuilder {
        /// A builder with every default (the vendor's base URL, no credentials).
        #[uniffi::constructor]
        pub fn new() -> Arc<Self> {
            Arc::new(Self::default())
        }

        /// Checks the configuration and builds the client; `CttException.InvalidInput` names the
        /// setting that is wrong.
        pub fn build(&self) -> Result<Arc<Client>, CttError> {
            if let Some(e) = self.error.lock().unwrap_or_else(|p| p.into_inner()).clone() {
                return Err(e);
            }
            let builder = self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone();
            Ok(Arc::new(Client {
                inner: builder.build()?,
            }))
        }
    }
}

/// The setters: chained, never throwing; a wrong value (or a panic) is kept and reported by
/// `build()`.
#[uniffi::export]
impl ClientBuilder {
    /// The API's base URL (https, or http on a loopback host such as the simulator).
    pub fn base_url(self: Arc<Self>, url: String) -> Arc<Self> {
        self.with(|b| b.base_url(url))
    }

    /// The reseller API user's password-grant credentials.
    pub fn reseller(
        self: Arc<Self>,
        client_id: String,
        client_secret: String,
        username: String,
        password: String,
    ) -> Arc<Self> {
        self.with(|b| {
            b.reseller_credentials(core::Credentials::new(
                client_id,
                client_secret,
                username,
                password,
            ))
        })
    }

    /// A reseller-level token obtained elsewhere; used as is, never renewed.
    pub fn reseller_token(self: Arc<Self>, token: String) -> Arc<Self> {
        self.with(|b| b.reseller_token(token))
    }

    /// The enterprise's API credentials (password grant) for the `/provisioning` calls.
    pub fn enterprise(
        self: Arc<Self>,
        client_id: String,
        client_secret: String,
        username: String,
        password: String,
    ) -> Arc<Self> {
        self.with(|b| {
            b.enterprise_credentials(core::Credentials::new(
                client_id,
                client_secret,
                username,
                password,
            ))
        })
    }

    /// An enterprise-level token obtained elsewhere; used as is, never renewed.
    pub fn enterprise_token(self: Arc<Self>, token: String) -> Arc<Self> {
        self.with(|b| b.enterprise_token(token))
    }

    /// How long to wait for a connection. Default 10 s.
    pub fn connect_timeout(self: Arc<Self>, timeout: Duration) -> Arc<Self> {
        self.with(|b| b.connect_timeout(timeout))
    }

    /// How long one attempt of a call may take in all. Default 30 s.
    pub fn timeout(self: Arc<Self>, timeout: Duration) -> Arc<Self> {
        self.with(|b| b.timeout(timeout))
    }

    /// The retry policy.
    pub fn retry_policy(self: Arc<Self>, policy: RetryPolicy) -> Arc<Self> {
        match core::RetryPolicy::try_from(policy) {
            Ok(p) => self.with(|b| b.retry_policy(p)),
            Err(e) => self.fail(e),
        }
    }

    /// No retries at all.
    pub fn no_retries(self: Arc<Self>) -> Arc<Self> {
        self.with(|b| b.retry_policy(core::RetryPolicy::none()))
    }

    /// The `User-Agent`.
    pub fn user_agent(self: Arc<Self>, user_agent: String) -> Arc<Self> {
        self.with(|b| b.user_agent(user_agent))
    }

    /// An HTTP(S) proxy for every call.
    pub fn proxy(self: Arc<Self>, proxy: String) -> Arc<Self> {
        self.with(|b| b.proxy(proxy))
    }

    /// Trusts the CA certificates in this PEM text in addition to the system's.
    pub fn add_ca_cert_pem(self: Arc<Self>, pem: String) -> Arc<Self> {
        self.with(|b| b.add_ca_cert_pem(pem))
    }

    /// Replaces an endpoint's path, or method and path, such as
    /// `path("o365_user_info", "GET /provisioning/getO365UserInfo")`.
    pub fn path(self: Arc<Self>, endpoint: String, route: String) -> Arc<Self> {
        self.with(|b| b.path(endpoint, route))
    }

    /// The portal's secret for tagging and verifying callback URLs: bytes, at least 16 (from
    /// Kotlin, `callbackKey(String)` takes a string's UTF-8 bytes). A ring of this one key, its
    /// id derived from it; `callbackKeys` rotates keys. `build()` refuses a shorter key
    /// (`CttException.InvalidInput` naming `callback_key`).
    pub fn callback_key(self: Arc<Self>, key: Vec<u8>) -> Arc<Self> {
        self.with(|b| b.callback_key(key))
    }

    /// The portal's callback key ring (signing key, older keys that still verify, retired ids,
    /// maximum age). A ring without a clock of its own follows the client's.
    pub fn callback_keys(self: Arc<Self>, keys: Arc<CallbackKeys>) -> Arc<Self> {
        let keys = keys.inner.clone();
        self.with(|b| b.callback_keys(keys))
    }

    /// The clock for token renewal, MSAL expiry and the onboarding's waits (a test knob).
    pub fn clock(self: Arc<Self>, clock: Arc<ManualClock>) -> Arc<Self> {
        let shared: core::SharedClock = Arc::new(clock.inner.clone());
        self.with(|b| b.clock(shared))
    }

    /// The largest response body accepted. Default 1 MiB.
    pub fn max_response_bytes(self: Arc<Self>, bytes: i64) -> Arc<Self> {
        match usize::try_from(bytes) {
            Ok(n) => self.with(|b| b.max_response_bytes(n)),
            Err(_) => self.fail(invalid_input(format!(
                "max_response_bytes is {bytes}; it must be positive"
            ))),
        }
    }

    /// The reseller id, when known; otherwise it is read once from `getAuthenticatedUser`.
    pub fn reseller_id(self: Arc<Self>, reseller_id: i64) -> Arc<Self> {
        self.with(|b| b.reseller_id(reseller_id))
    }
}

/// A client for the ConnecttoTeams provisioning API: one suspend function per endpoint. Share one
/// per application; it holds the connection pool and the token cache. `close()` releases it.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Display)]
pub struct Client {
    pub(crate) inner: core::Client,
}

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client(baseUrl={})", self.inner.base_url())
    }
}

crate::export! {
    impl Client {
        /// The base URL.
        pub fn base_url(&self) -> String {
            self.inner.base_url().to_owned()
        }

        /// True when enterprise-level credentials or a token are configured.
        pub fn has_enterprise_auth(&self) -> bool {
            self.inner.has_enterprise_auth()
        }

        /// The callback key ring `advance` signs with (the builder's, with the client's clock
        /// unless it had its own), or null when none was configured.
        pub fn callback_keys(&self) -> Option<Arc<CallbackKeys>> {
            self.inner.callback_keys().cloned().map(CallbackKeys::wrap)
        }
    }
}

crate::export! {
    impl Client {
        /// `PUT /reseller/getAuthenticatedUser`: the reseller API user and its `resellerId`.
        pub async fn authenticated_user(&self) -> Result<AuthenticatedUser, CttError> {
            Ok(self.inner.authenticated_user().await?)
        }

        /// The reseller id: the one given to the builder, or read once from `getAuthenticatedUser`.
        pub async fn reseller_id(&self) -> Result<i64, CttError> {
            Ok(self.inner.reseller_id().await?)
        }

        /// The SBC gateways the reseller may assign.
        pub async fn sbc_gateways(&self, reseller_id: i64) -> Result<Vec<SbcGateway>, CttError> {
            Ok(self.inner.sbc_gateways(reseller_id).await?)
        }

        /// The PBX types the reseller may assign.
        pub async fn pbx_types(&self, reseller_id: i64) -> Result<Vec<PbxType>, CttError> {
            Ok(self.inner.pbx_types(reseller_id).await?)
        }

        /// `POST /reseller/newEnterprise`: validates the body, creates the enterprise and returns its
        /// id. Never repeated blindly: a lost answer is settled by looking the name up
        /// (`CttException.OutcomeUnknown` when that does not settle it).
        pub async fn create_enterprise(&self, enterprise: NewEnterprise) -> Result<i64, CttError> {
            Ok(self.inner.create_enterprise(&enterprise).await?)
        }

        /// `POST /enterprise/getActionItemUrl`: the URL to show the Global Admin for `action`.
        pub async fn action_item_url(
            &self,
            action: ActionType,
            enterprise_name: String,
            redirect_url: String,
        ) -> Result<String, CttError> {
            Ok(self
                .inner
                .action_item_url(&action, &enterprise_name, &redirect_url)
                .await?)
        }

        /// `POST /provisioning/getO365UserInfo`: whether the tenant has the Teams Tenant Admin API.
        pub async fn o365_user_info(
            &self,
            auth: Arc<AuthenticationResult>,
        ) -> Result<O365UserInfo, CttError> {
            Ok(self.inner.o365_user_info(&auth.inner).await?)
        }

        /// `POST /provisioning/provisionTenantAdminAPI` for the admin's tenant.
        pub async fn provision_tenant_admin_api(
            &self,
            auth: Arc<AuthenticationResult>,
        ) -> Result<(), CttError> {
            Ok(self.inner.provision_tenant_admin_api(&auth.inner).await?)
        }

        /// `POST /enterprise/updateEnterpriseManagementConsentByReseller`;
        /// `CttException.TenantRolesMissing` when the tenant lacks the Teams administrator roles.
        pub async fn update_management_consent(
            &self,
            auth: Arc<AuthenticationResult>,
            reseller_id: i64,
            tenant_id: String,
        ) -> Result<(), CttError> {
            Ok(self
                .inner
                .update_management_consent(&auth.inner, reseller_id, &tenant_id)
                .await?)
        }

        /// Test hook, not part of the API: panics inside an async call on purpose, to show that a
        /// panic arrives as `CttException.Api` and leaves this client usable.
        pub async fn force_panic_for_tests(&self) -> Result<(), CttError> {
            tokio::task::yield_now().await;
            Ok(ctt_onboard::error::forced_panic_for_tests()?)
        }

        /// The reseller's enterprises.
        pub async fn enterprises(&self, reseller_id: i64) -> Result<Vec<EnterpriseSummary>, CttError> {
            Ok(self.inner.enterprises(reseller_id).await?)
        }

        /// One of the reseller's enterprises by its exact name, or null.
        pub async fn find_enterprise(
            &self,
            reseller_id: i64,
            name: String,
        ) -> Result<Option<EnterpriseSummary>, CttError> {
            Ok(self
                .inner
                .find_enterprise(reseller_id, &name)
                .await?)
        }
    }
}
