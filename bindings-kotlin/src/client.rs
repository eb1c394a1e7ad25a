//! `Client`: core's client, built from core's `ClientOptions` (filled by the Kotlin `ClientBuilder`
//! in `Builders.kt`), and one suspend function per vendor endpoint.

use crate::error::invalid_input;
use crate::models::AuthenticationResult;
use crate::onboarding::CallbackKeys;
use ctt_onboard::client::ClientOptions;
use ctt_onboard::{
    self as core, ActionType, AuthenticatedUser, CttError, EnterpriseSummary, NewEnterprise,
    O365UserInfo, PbxType, SbcGateway,
};
use std::sync::Arc;
use std::time::Duration;

/// A test knob: the system clock plus an offset that moves only when told to (core's
/// `ManualClock`), to cross the vendor's 30-minute wait together with the simulator's clock.
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
            let ms = u64::try_from(ms)
                .map_err(|_| invalid_input(format!("advance ms is {ms}; it must not be negative")))?;
            self.inner.advance(Duration::from_millis(ms));
            Ok(())
        }

        /// The clock's current time.
        pub fn now(&self) -> std::time::SystemTime {
            core::Clock::now(&self.inner)
        }
    }
}

/// A client for the ConnecttoTeams provisioning API; share one per application (it holds the
/// connection pool and the token cache). `close()` releases it.
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
        /// A client for `options` (`InvalidInput` names the option at fault), signing callback
        /// URLs with `key` (at least 16 bytes) or `keys`; `Client.builder()` fills these.
        #[uniffi::constructor(default(key = None, keys = None, clock = None))]
        pub fn new(
            options: ClientOptions,
            key: Option<Vec<u8>>,
            keys: Option<Arc<CallbackKeys>>,
            clock: Option<Arc<ManualClock>>,
        ) -> Result<Arc<Self>, CttError> {
            let mut builder = options.into_builder()?;
            if let Some(key) = key {
                builder = builder.callback_key(key);
            }
            if let Some(keys) = keys {
                builder = builder.callback_keys(keys.inner.clone());
            }
            if let Some(clock) = clock {
                let shared: core::SharedClock = Arc::new(clock.inner.clone());
                builder = builder.clock(shared);
            }
            Ok(Arc::new(Self { inner: builder.build()? }))
        }

        /// The base URL.
        pub fn base_url(&self) -> String {
            self.inner.base_url().to_owned()
        }

        /// True when enterprise-level credentials or a token are configured.
        pub fn has_enterprise_auth(&self) -> bool {
            self.inner.has_enterprise_auth()
        }

        /// The callback key ring `advance` signs with, or null when none was configured.
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

        /// `POST /reseller/newEnterprise`: the new enterprise's id (never sent twice blindly:
        /// `OutcomeUnknown` when a lost answer cannot be settled).
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
            Ok(self.inner.action_item_url(&action, &enterprise_name, &redirect_url).await?)
        }

        /// `POST /provisioning/getO365UserInfo`: whether the tenant has the Teams Tenant Admin API.
        pub async fn o365_user_info(&self, auth: Arc<AuthenticationResult>)
            -> Result<O365UserInfo, CttError> {
            Ok(self.inner.o365_user_info(&auth.inner).await?)
        }

        /// `POST /provisioning/provisionTenantAdminAPI` for the admin's tenant.
        pub async fn provision_tenant_admin_api(&self, auth: Arc<AuthenticationResult>)
            -> Result<(), CttError> {
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
            let auth = &auth.inner;
            Ok(self.inner.update_management_consent(auth, reseller_id, &tenant_id).await?)
        }

        /// Test hook, not part of the API: panics inside an async call (arrives as `Api`).
        pub async fn force_panic_for_tests(&self) -> Result<(), CttError> {
            tokio::task::yield_now().await;
            Ok(ctt_onboard::__bindings::forced_panic_for_tests()?)
        }

        /// The reseller's enterprises.
        pub async fn enterprises(&self, reseller_id: i64) -> Result<Vec<EnterpriseSummary>, CttError> {
            Ok(self.inner.enterprises(reseller_id).await?)
        }

        /// One of the reseller's enterprises by its exact name, or null.
        pub async fn find_enterprise(&self, reseller_id: i64, name: String)
            -> Result<Option<EnterpriseSummary>, CttError> {
            Ok(self.inner.find_enterprise(reseller_id, &name).await?)
        }
    }
}
