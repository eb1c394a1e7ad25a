//! `Client`: core's [`ctt_onboard::Client`] built from core's [`ClientOptions`] (the key ring and
//! the clock are handles passed beside it), with Promise-returning methods; and `ManualClock`.
//! The credentials stay in Rust: nothing on the JavaScript object can reveal them.

use crate::convert::{from_js, time_to_ms, to_js};
use crate::error::{IntoNapi, invalid_input};
use crate::keys::CallbackKeys;
use crate::promise;
use ctt_onboard::client::ClientOptions;
use ctt_onboard::numbers::int_from_js;
use ctt_onboard::{self as core, ActionType, AuthenticationResult, NewEnterprise};
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A clock for tests: the system time plus an offset that moves only when told to (move it with
/// `simulator.advanceClock` to cross the vendor's 30-minute wait).
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
        self.inner.advance(duration_ms("advance", ms)?);
        Ok(())
    }

    /// The clock's time, in milliseconds since the Unix epoch (like `Date.now()`).
    #[napi(catch_unwind)]
    pub fn now(&self) -> f64 {
        time_to_ms(core::Clock::now(&self.inner))
    }
}

/// A non-negative number of milliseconds.
pub fn duration_ms(what: &str, ms: f64) -> napi::Result<Duration> {
    if !ms.is_finite() || ms < 0.0 {
        return Err(invalid_input(format!(
            "{what} takes a non-negative number of milliseconds, got {ms}"
        )));
    }
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

/// A client for the ConnecttoTeams provisioning API. Build it once and share it: it holds one
/// connection pool and one token cache. Every API method returns a Promise.
#[napi]
pub struct Client {
    pub(crate) inner: core::Client,
}

type Json<'e> = napi::Result<PromiseRaw<'e, Value>>;
type Done<'e> = napi::Result<PromiseRaw<'e, ()>>;

impl Client {
    /// Runs `call` on a clone of the core client; its result crosses by serde.
    fn json<'e, T, Fut>(
        &self,
        env: &'e Env,
        what: &'static str,
        call: impl FnOnce(core::Client) -> Fut,
    ) -> Json<'e>
    where
        T: Serialize,
        Fut: Future<Output = core::Result<T>> + Send + 'static,
    {
        let fut = call(self.inner.clone());
        promise::spawn(env, async move { to_js(what, &fut.await.napi()?) })
    }

    /// Runs `call` on a clone of the core client; resolves to `undefined`.
    fn done<'e, Fut>(&self, env: &'e Env, call: impl FnOnce(core::Client) -> Fut) -> Done<'e>
    where
        Fut: Future<Output = core::Result<()>> + Send + 'static,
    {
        let fut = call(self.inner.clone());
        promise::spawn(env, async move { fut.await.napi() })
    }
}

#[napi]
impl Client {
    /// Checks the options and builds the client; `invalid_input` names a bad setting. `clock`
    /// is a test knob. (The JavaScript layer turns `callbackKey`/`callbackKeys` into `keys`.)
    #[napi(
        catch_unwind,
        constructor,
        ts_args_type = "options?: ClientOptions, clock?: ManualClock"
    )]
    pub fn new(
        options: Option<Value>,
        keys: Option<&CallbackKeys>,
        clock: Option<&ManualClock>,
    ) -> napi::Result<Self> {
        crate::logging::init();
        let options: ClientOptions =
            from_js("ClientOptions", options.unwrap_or(Value::Null)).napi()?;
        let mut builder = options.into_builder().napi()?;
        if let Some(keys) = keys {
            builder = builder.callback_keys(keys.inner.clone());
        }
        if let Some(clock) = clock {
            builder = builder.clock(Arc::new(clock.inner.clone()));
        }
        let inner = builder.build().napi()?;
        Ok(Self { inner })
    }

    /// The base URL the client calls.
    #[napi(catch_unwind, getter)]
    pub fn base_url(&self) -> String {
        self.inner.base_url().to_owned()
    }

    /// The client's callback key ring (with the client's clock), or `null` when it has none.
    #[napi(catch_unwind, getter)]
    pub fn callback_keys(&self) -> Option<CallbackKeys> {
        let ring = self.inner.callback_keys().cloned();
        ring.map(|inner| CallbackKeys { inner })
    }

    /// True when enterprise-level credentials or a token are configured.
    #[napi(catch_unwind, getter)]
    pub fn has_enterprise_auth(&self) -> bool {
        self.inner.has_enterprise_auth()
    }

    /// `PUT /reseller/getAuthenticatedUser`: the reseller API user and its `resellerId`.
    #[napi(catch_unwind, ts_return_type = "Promise<AuthenticatedUser>")]
    pub fn authenticated_user<'e>(&self, env: &'e Env) -> Json<'e> {
        self.json(env, "user", |c| async move { c.authenticated_user().await })
    }

    /// The reseller id: the one given in the options, or read once from `getAuthenticatedUser`.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub fn reseller_id<'e>(&self, env: &'e Env) -> Json<'e> {
        self.json(env, "resellerId", |c| async move { c.reseller_id().await })
    }

    /// The SBC gateways the reseller may assign.
    #[napi(catch_unwind, ts_return_type = "Promise<SbcGateway[]>")]
    pub fn sbc_gateways<'e>(&self, env: &'e Env, reseller_id: f64) -> Json<'e> {
        self.json(env, "gateways", move |c| async move {
            c.sbc_gateways(int_from_js("resellerId", reseller_id)?)
                .await
        })
    }

    /// The PBX types the reseller may assign.
    #[napi(catch_unwind, ts_return_type = "Promise<PbxType[]>")]
    pub fn pbx_types<'e>(&self, env: &'e Env, reseller_id: f64) -> Json<'e> {
        self.json(env, "pbx types", move |c| async move {
            c.pbx_types(int_from_js("resellerId", reseller_id)?).await
        })
    }

    /// `POST /reseller/newEnterprise`: creates the enterprise and returns its id (validated
    /// first; never repeated blindly: `outcome_unknown` when a lookup cannot settle it).
    #[napi(
        catch_unwind,
        ts_args_type = "enterprise: NewEnterprise",
        ts_return_type = "Promise<number>"
    )]
    pub fn create_enterprise<'e>(&self, env: &'e Env, enterprise: Value) -> Json<'e> {
        self.json(env, "enterpriseId", move |c| async move {
            let enterprise: NewEnterprise = from_js("NewEnterprise", enterprise)?;
            c.create_enterprise(&enterprise).await
        })
    }

    /// `POST /enterprise/getActionItemUrl`: the URL to show the Global Admin for `action`.
    #[napi(
        catch_unwind,
        ts_args_type = "action: ActionType, enterpriseName: string, redirectUrl: string",
        ts_return_type = "Promise<string>"
    )]
    pub fn action_item_url<'e>(
        &self,
        env: &'e Env,
        action: String,
        enterprise_name: String,
        redirect_url: String,
    ) -> Json<'e> {
        self.json(env, "url", move |c| async move {
            let action = ActionType::from_wire(&action);
            c.action_item_url(&action, &enterprise_name, &redirect_url)
                .await
        })
    }

    /// `POST /provisioning/getO365UserInfo`: whether the tenant has the Teams Tenant Admin API.
    #[napi(
        catch_unwind,
        ts_args_type = "auth: AuthenticationResult",
        ts_return_type = "Promise<O365UserInfo>"
    )]
    pub fn o365_user_info<'e>(&self, env: &'e Env, auth: Value) -> Json<'e> {
        self.json(env, "user info", move |c| async move {
            c.o365_user_info(&auth_from_js(auth)?).await
        })
    }

    /// `POST /provisioning/provisionTenantAdminAPI`: provisions the Teams Tenant Admin API.
    #[napi(
        catch_unwind,
        ts_args_type = "auth: AuthenticationResult",
        ts_return_type = "Promise<void>"
    )]
    pub fn provision_tenant_admin_api<'e>(&self, env: &'e Env, auth: Value) -> Done<'e> {
        self.done(env, move |c| async move {
            c.provision_tenant_admin_api(&auth_from_js(auth)?).await
        })
    }

    /// `POST /enterprise/updateEnterpriseManagementConsentByReseller`: records "management by
    /// service provider" (`tenant_roles_missing` without the Teams/Skype Administrator roles).
    #[napi(
        catch_unwind,
        ts_args_type = "auth: AuthenticationResult, resellerId: number, tenantId: string",
        ts_return_type = "Promise<void>"
    )]
    pub fn update_management_consent<'e>(
        &self,
        env: &'e Env,
        auth: Value,
        reseller_id: f64,
        tenant_id: String,
    ) -> Done<'e> {
        self.done(env, move |c| async move {
            let (auth, id) = (auth_from_js(auth)?, int_from_js("resellerId", reseller_id)?);
            c.update_management_consent(&auth, id, &tenant_id).await
        })
    }

    /// The reseller's enterprises.
    #[napi(catch_unwind, ts_return_type = "Promise<EnterpriseSummary[]>")]
    pub fn enterprises<'e>(&self, env: &'e Env, reseller_id: f64) -> Json<'e> {
        self.json(env, "enterprises", move |c| async move {
            c.enterprises(int_from_js("resellerId", reseller_id)?).await
        })
    }

    /// Finds one of the reseller's enterprises by its exact name; `null` when there is none.
    #[napi(catch_unwind, ts_return_type = "Promise<EnterpriseSummary | null>")]
    pub fn find_enterprise<'e>(&self, env: &'e Env, reseller_id: f64, name: String) -> Json<'e> {
        self.json(env, "enterprise", move |c| async move {
            c.find_enterprise(int_from_js("resellerId", reseller_id)?, &name)
                .await
        })
    }
}

fn auth_from_js(auth: Value) -> core::Result<AuthenticationResult> {
    from_js("authenticationResult", auth)
}
