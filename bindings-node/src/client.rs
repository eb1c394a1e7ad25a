//! `Client`: core's [`ctt_onboard::Client`] with JavaScript options and Promise-returning methods.
//!
//! Every method that talks to the API returns a Promise (see [`crate::promise`]): its work runs
//! on napi's tokio runtime and never blocks the event loop. The client keeps its credentials in
//! Rust: nothing on the JavaScript object (its properties, `util.inspect`, `JSON.stringify`) can
//! reveal them.

use crate::error::{IntoNapi, guard_sync, invalid_input};
use crate::keys::{CallbackKeys, CallbackKeysOptions, key_bytes, ring_from_js};
use crate::logging;
use crate::models::{
    AuthenticatedUser, EnterpriseSummary, NewEnterprise, O365UserInfo, PbxType, SbcGateway,
    action_from_js, auth_from_js, id_from_js, id_to_js,
};
use crate::promise;
use ctt_onboard as core;
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::{Either, Env};
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A password-grant credential set: the OAuth client plus the API user.
#[napi(object)]
pub struct Credentials {
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: String,
    /// The API user's name.
    pub username: String,
    /// The API user's password.
    pub password: String,
}

impl Credentials {
    fn into_core(self) -> core::Credentials {
        core::Credentials::new(
            self.client_id,
            self.client_secret,
            self.username,
            self.password,
        )
    }
}

/// When and how often the client repeats a call that a repeat may fix (reads, URL requests and
/// the provisioning calls; a create is never repeated blindly).
#[napi(object)]
pub struct RetryOptions {
    /// Attempts in all, the first included (1 disables retries). Default 4.
    pub max_attempts: Option<u32>,
    /// The first backoff in milliseconds. Default 200.
    pub initial_backoff_ms: Option<u32>,
    /// The longest backoff in milliseconds. Default 10000.
    pub max_backoff_ms: Option<u32>,
    /// The longest `Retry-After` (ms) the client waits for by itself; a longer one is returned as
    /// `rate_limited`. Default 60000.
    pub max_retry_after_ms: Option<u32>,
    /// The longest one call may take in all (attempts, backoffs, `Retry-After` waits), in ms; a
    /// wait that would end past it is not slept. Default 60000.
    pub deadline_ms: Option<u32>,
}

/// How to build a [`Client`]. Every field is optional; `reseller` (or `resellerToken`) is needed
/// for almost every call, `enterprise` (or `enterpriseToken`) for the `/provisioning` calls.
#[napi(object)]
#[derive(Default)]
pub struct ClientOptions {
    /// The API's base URL. Default `https://api.connecttoteams.com`; plain http only on loopback.
    pub base_url: Option<String>,
    /// The reseller API user's password-grant credentials.
    pub reseller: Option<Credentials>,
    /// A reseller-level token obtained elsewhere; used as is, never renewed.
    pub reseller_token: Option<String>,
    /// The enterprise's API credentials (password grant) for the `/provisioning` calls.
    pub enterprise: Option<Credentials>,
    /// An enterprise-level token obtained elsewhere; used as is, never renewed.
    pub enterprise_token: Option<String>,
    /// How long one attempt of a call may take, in milliseconds. Default 30000.
    pub timeout_ms: Option<u32>,
    /// How long to wait for a connection, in milliseconds. Default 10000.
    pub connect_timeout_ms: Option<u32>,
    /// The retry policy.
    pub retry: Option<RetryOptions>,
    /// The `User-Agent`. Default `ctt-onboard/<version>`.
    pub user_agent: Option<String>,
    /// An HTTP(S) proxy for every call, such as `http://proxy.internal:3128`.
    pub proxy: Option<String>,
    /// Extra CA certificates (PEM text) to trust besides the system's.
    pub ca_cert_pem: Option<Either<String, Vec<String>>>,
    /// Per-endpoint path overrides: `{ o365_user_info: 'GET /provisioning/getO365UserInfo' }`.
    /// Names: token, authenticated_user, sbc_gateways, pbx_types, create_enterprise,
    /// action_item_url, o365_user_info, provision_tenant_admin_api, update_management_consent,
    /// enterprises.
    pub paths: Option<HashMap<String, String>>,
    /// The portal's secret for tagging the callback URLs the flow asks for: at least 16 bytes
    /// (a string is its UTF-8 bytes). A ring of one key whose id is derived from it; see
    /// `callbackKeys` to rotate keys. Not together with `callbackKeys`.
    #[napi(ts_type = "string | Buffer | Uint8Array")]
    pub callback_key: Option<Either<String, Buffer>>,
    /// The portal's callback key ring: the key that signs new URLs, older keys that still
    /// verify, retired key ids, and how long a URL answers. Not together with `callbackKey`.
    pub callback_keys: Option<CallbackKeysOptions>,
    /// The reseller id, when known; otherwise it is read once from `getAuthenticatedUser`.
    pub reseller_id: Option<f64>,
    /// The largest response body accepted, in bytes. Default 1 MiB.
    pub max_response_bytes: Option<u32>,
}

/// A clock for tests: the system time plus an offset that moves only when told to.
///
/// Give it to `new Client(options, clock)` and move it together with the simulator's clock
/// (`simulator.advanceClock`) to cross the vendor's 30-minute wait in a test.
#[napi]
#[derive(Default)]
pub struct ManualClock {
    pub(crate) inner: core::ManualClock,
}

#[napi]
impl ManualClock {
    /// A clock that starts at the system time.
    #[napi(catch_unwind, constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves this clock (and every client using it) forward by `ms` milliseconds.
    #[napi(catch_unwind)]
    pub fn advance(&self, ms: f64) -> napi::Result<()> {
        if !ms.is_finite() || ms < 0.0 {
            return Err(invalid_input(format!(
                "advance takes a non-negative number of milliseconds, got {ms}"
            )));
        }
        self.inner.advance(Duration::from_secs_f64(ms / 1000.0));
        Ok(())
    }

    /// The clock's time, in milliseconds since the Unix epoch (like `Date.now()`).
    #[napi(catch_unwind)]
    pub fn now(&self) -> f64 {
        use core::Clock;
        crate::models::time_to_ms(self.inner.now())
    }
}

/// A client for the ConnecttoTeams provisioning API. Build it once and share it: it holds one
/// connection pool and one token cache. Every API method returns a Promise.
#[napi]
pub struct Client {
    pub(crate) inner: core::Client,
}

fn build(options: ClientOptions, clock: Option<&ManualClock>) -> napi::Result<core::Client> {
    let mut b = core::Client::builder();
    if let Some(url) = options.base_url {
        b = b.base_url(url);
    }
    if let Some(c) = options.reseller {
        b = b.reseller_credentials(c.into_core());
    }
    if let Some(t) = options.reseller_token {
        b = b.reseller_token(t);
    }
    if let Some(c) = options.enterprise {
        b = b.enterprise_credentials(c.into_core());
    }
    if let Some(t) = options.enterprise_token {
        b = b.enterprise_token(t);
    }
    if let Some(ms) = options.timeout_ms {
        b = b.timeout(Duration::from_millis(ms.into()));
    }
    if let Some(ms) = options.connect_timeout_ms {
        b = b.connect_timeout(Duration::from_millis(ms.into()));
    }
    if let Some(r) = options.retry {
        let mut policy = core::RetryPolicy::default();
        if let Some(n) = r.max_attempts {
            policy.max_attempts = n;
        }
        if let Some(ms) = r.initial_backoff_ms {
            policy.initial_backoff = Duration::from_millis(ms.into());
        }
        if let Some(ms) = r.max_backoff_ms {
            policy.max_backoff = Duration::from_millis(ms.into());
        }
        if let Some(ms) = r.max_retry_after_ms {
            policy.max_retry_after = Duration::from_millis(ms.into());
        }
        if let Some(ms) = r.deadline_ms {
            policy.deadline = Duration::from_millis(ms.into());
        }
        b = b.retry_policy(policy);
    }
    if let Some(ua) = options.user_agent {
        b = b.user_agent(ua);
    }
    if let Some(p) = options.proxy {
        b = b.proxy(p);
    }
    match options.ca_cert_pem {
        Some(Either::A(pem)) => b = b.add_ca_cert_pem(pem),
        Some(Either::B(pems)) => {
            for pem in pems {
                b = b.add_ca_cert_pem(pem);
            }
        }
        None => {}
    }
    if let Some(paths) = options.paths {
        let mut paths: Vec<_> = paths.into_iter().collect();
        paths.sort();
        for (endpoint, route) in paths {
            b = b.path(endpoint, route);
        }
    }
    match (options.callback_key, options.callback_keys) {
        (Some(_), Some(_)) => {
            return Err(invalid_input(
                "callbackKey and callbackKeys: give one of them (callbackKey is a ring of one key)",
            ));
        }
        (Some(k), None) => b = b.callback_key(key_bytes(&k)),
        (None, Some(ring)) => b = b.callback_keys(ring_from_js(&ring)?),
        (None, None) => {}
    }
    if let Some(id) = options.reseller_id {
        b = b.reseller_id(id_from_js("resellerId", id)?);
    }
    if let Some(n) = options.max_response_bytes {
        b = b.max_response_bytes(n as usize);
    }
    if let Some(clock) = clock {
        b = b.clock(Arc::new(clock.inner.clone()));
    }
    b.build().napi()
}

#[napi]
impl Client {
    /// Checks the options and builds the client; an `invalid_input` error names a bad setting.
    /// `clock` is a test knob: a `ManualClock` the client reads the time from.
    #[napi(catch_unwind, constructor)]
    pub fn new(options: Option<ClientOptions>, clock: Option<&ManualClock>) -> napi::Result<Self> {
        logging::init();
        let options = options.unwrap_or_default();
        guard_sync(move || {
            Ok(Self {
                inner: build(options, clock)?,
            })
        })
    }

    /// The base URL the client calls.
    #[napi(catch_unwind, getter)]
    pub fn base_url(&self) -> String {
        self.inner.base_url().to_owned()
    }

    /// The client's callback key ring (with the client's clock), or `null` when it has none:
    /// what `advance` signs redirect URLs with, and what `handleCallback(client, ...)` verifies
    /// with.
    #[napi(catch_unwind, getter)]
    pub fn callback_keys(&self) -> Option<CallbackKeys> {
        self.inner
            .callback_keys()
            .cloned()
            .map(CallbackKeys::from_core)
    }

    /// True when enterprise-level credentials or a token are configured.
    #[napi(catch_unwind, getter)]
    pub fn has_enterprise_auth(&self) -> bool {
        self.inner.has_enterprise_auth()
    }

    /// `PUT /reseller/getAuthenticatedUser`: the reseller API user and its `resellerId`.
    #[napi(catch_unwind)]
    pub fn authenticated_user<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, AuthenticatedUser>> {
        let client = self.inner.clone();
        promise::spawn(env, async move {
            AuthenticatedUser::from_core(client.authenticated_user().await.napi()?)
        })
    }

    /// The reseller id: the one given in the options, or read once from `getAuthenticatedUser`.
    #[napi(catch_unwind)]
    pub fn reseller_id<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, f64>> {
        let client = self.inner.clone();
        promise::spawn(env, async move {
            id_to_js("resellerId", client.reseller_id().await.napi()?)
        })
    }

    /// The SBC gateways the reseller may assign.
    #[napi(catch_unwind)]
    pub fn sbc_gateways<'env>(
        &self,
        env: &'env Env,
        reseller_id: f64,
    ) -> napi::Result<PromiseRaw<'env, Vec<SbcGateway>>> {
        let client = self.inner.clone();
        promise::spawn(env, async move {
            let id = id_from_js("resellerId", reseller_id)?;
            let list = client.sbc_gateways(id).await.napi()?;
            list.into_iter().map(SbcGateway::from_core).collect()
        })
    }

    /// The PBX types the reseller may assign.
    #[napi(catch_unwind)]
    pub fn pbx_types<'env>(
        &self,
        env: &'env Env,
        reseller_id: f64,
    ) -> napi::Result<PromiseRaw<'env, Vec<PbxType>>> {
        let client = self.inner.clone();
        promise::spawn(env, async move {
            let id = id_from_js("resellerId", reseller_id)?;
            let list = client.pbx_types(id).await.napi()?;
            list.into_iter().map(PbxType::from_core).collect()
        })
    }

    /// `POST /reseller/newEnterprise`: creates the enterprise and returns its id.
    ///
    /// Validated first (nothing is sent when it fails). Never repeated blindly: when the outcome
    /// is unknown, the enterprise is looked up by name; if that does not settle it, the error is
    /// `outcome_unknown`. A duplicate name is `conflict`.
    #[napi(catch_unwind)]
    pub fn create_enterprise<'env>(
        &self,
        env: &'env Env,
        enterprise: NewEnterprise,
    ) -> napi::Result<PromiseRaw<'env, f64>> {
        let client = self.inner.clone();
        promise::spawn(env, async move {
            let enterprise = enterprise.into_core()?;
            id_to_js(
                "enterpriseId",
                client.create_enterprise(&enterprise).await.napi()?,
            )
        })
    }

    /// `POST /enterprise/getActionItemUrl`: the URL to show the Global Admin for `action`.
    /// `redirectUrl` is where ConnecttoTeams posts the callback (https, or http on loopback).
    #[napi(
        catch_unwind,
        ts_args_type = "action: 'REGISTRATION' | 'LOGIN_ENTERPRISE_ADMIN' | 'GET_USER_SYNC_CONSENT' | 'GET_PRESENCE_CONSENT' | 'GET_AGENT_CONSENT' | 'GET_CALL_APP_CONSENT' | 'GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT' | 'GET_CONTACTS_CONSENT' | 'GET_CDR_CONSENT' | 'GET_CALL_RECORDING_CONSENT' | (string & {}), enterpriseName: string, redirectUrl: string"
    )]
    pub fn action_item_url<'env>(
        &self,
        env: &'env Env,
        action: String,
        enterprise_name: String,
        redirect_url: String,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let client = self.inner.clone();
        promise::spawn(env, async move {
            client
                .action_item_url(&action_from_js(&action), &enterprise_name, &redirect_url)
                .await
                .napi()
        })
    }

    /// `POST /provisioning/getO365UserInfo`: whether the tenant has the Teams Tenant Admin API.
    #[napi(catch_unwind, ts_args_type = "auth: AuthenticationResult")]
    pub fn o365_user_info<'env>(
        &self,
        env: &'env Env,
        auth: serde_json::Value,
    ) -> napi::Result<PromiseRaw<'env, O365UserInfo>> {
        let client = self.inner.clone();
        promise::spawn(env, async move {
            let auth = auth_from_js(auth)?;
            Ok(O365UserInfo::from_core(
                client.o365_user_info(&auth).await.napi()?,
            ))
        })
    }

    /// `POST /provisioning/provisionTenantAdminAPI`: provisions the "Skype and Teams Tenant Admin
    /// API" (and the roles it needs) for the admin's tenant.
    #[napi(
        catch_unwind,
        ts_args_type = "auth: AuthenticationResult",
        ts_return_type = "Promise<void>"
    )]
    pub fn provision_tenant_admin_api<'env>(
        &self,
        env: &'env Env,
        auth: serde_json::Value,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let client = self.inner.clone();
        promise::spawn(env, async move {
            let auth = auth_from_js(auth)?;
            client.provision_tenant_admin_api(&auth).await.napi()
        })
    }

    /// `POST /enterprise/updateEnterpriseManagementConsentByReseller`: records "management by
    /// service provider". Fails with `tenant_roles_missing` when the tenant lacks the
    /// Teams/Skype Administrator roles.
    #[napi(
        catch_unwind,
        ts_args_type = "auth: AuthenticationResult, resellerId: number, tenantId: string",
        ts_return_type = "Promise<void>"
    )]
    pub fn update_management_consent<'env>(
        &self,
        env: &'env Env,
        auth: serde_json::Value,
        reseller_id: f64,
        tenant_id: String,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let client = self.inner.clone();
        promise::spawn(env, async move {
            let auth = auth_from_js(auth)?;
            let id = id_from_js("resellerId", reseller_id)?;
            client
                .update_management_consent(&auth, id, &tenant_id)
                .await
                .napi()
        })
    }

    /// The reseller's enterprises.
    #[napi(catch_unwind)]
    pub fn enterprises<'env>(
        &self,
        env: &'env Env,
        reseller_id: f64,
    ) -> napi::Result<PromiseRaw<'env, Vec<EnterpriseSummary>>> {
        let client = self.inner.clone();
        promise::spawn(env, async move {
            let id = id_from_js("resellerId", reseller_id)?;
            let list = client.enterprises(id).await.napi()?;
            list.into_iter().map(EnterpriseSummary::from_core).collect()
        })
    }

    /// Finds one of the reseller's enterprises by its exact name; `null` when there is none.
    #[napi(catch_unwind, ts_return_type = "Promise<EnterpriseSummary | null>")]
    pub fn find_enterprise<'env>(
        &self,
        env: &'env Env,
        reseller_id: f64,
        name: String,
    ) -> napi::Result<PromiseRaw<'env, Option<EnterpriseSummary>>> {
        let client = self.inner.clone();
        promise::spawn(env, async move {
            let id = id_from_js("resellerId", reseller_id)?;
            client
                .find_enterprise(id, &name)
                .await
                .napi()?
                .map(EnterpriseSummary::from_core)
                .transpose()
        })
    }
}
