//! `ctt_onboard._native.NativeClient`: the core [`Client`], with a blocking and an awaitable twin
//! of every method (one declaration each, in [`calls!`]); and `ManualClock`.
//!
//! The options are core's [`ClientOptions`] (a camelCase dict the Python layer builds; unknown
//! names are refused); the callback key ring and the clock are handles passed beside it.
//! Arguments are read with serde before the call ([`Arg`]), results leave as the Python layer's
//! model instances ([`Wire`]). Blocking methods release the GIL while the core future runs; the
//! `*_async` ones start it on the runtime and resolve an asyncio future through [`Completions`].

use crate::completion::Completions;
use crate::error::guarded;
use crate::models::{Arg, Wire};
use crate::onboarding::NativeCallbackKeys;
use crate::runtime::block_on;
use ctt_onboard::client::ClientOptions;
use ctt_onboard::{ActionType, AuthenticationResult, Client, NewEnterprise};
use pyo3::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// A test clock: the system time plus an offset that only moves when told to. Give it to a client
/// (`clock=`) and move it together with the simulator's clock to cross the 30-minute wait.
#[pyclass(module = "ctt_onboard._native", frozen)]
#[derive(Clone, Default)]
pub struct ManualClock {
    pub(crate) inner: ctt_onboard::ManualClock,
}

#[pymethods]
impl ManualClock {
    /// A clock that starts at the system time.
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Moves this clock (and every client using it) forward by `seconds`.
    fn advance(&self, seconds: f64) -> PyResult<()> {
        self.inner.advance(seconds_arg("seconds", seconds)?);
        Ok(())
    }

    /// The clock's current time, in seconds since the Unix epoch.
    fn now(&self) -> f64 {
        unix_seconds(ctt_onboard::Clock::now(&self.inner))
    }
}

/// Seconds since the Unix epoch (0 for times before it).
pub fn unix_seconds(t: std::time::SystemTime) -> f64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A non-negative number of seconds.
pub fn seconds_arg(name: &str, seconds: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        let message = format!("{name} must be a non-negative number of seconds, got {seconds}");
        pyo3::exceptions::PyValueError::new_err(message)
    })
}

/// The core client. Cheap to share: clones share the connection pool and the token cache.
#[pyclass(module = "ctt_onboard._native", frozen)]
pub struct NativeClient {
    pub(crate) inner: Client,
}

/// The `#[pymethods]` of [`NativeClient`]: the `extra` methods as written, then for each call
/// `name, name_async(args) = |client| body` (the body an expression of type
/// `Result<Wire>` that may `.await`) a blocking method and its asyncio twin, which resolves
/// `future` through `completions` and returns the call number for `Completions.cancel`.
macro_rules! calls {
    (extra { $($extra:tt)* }
     $($(#[doc = $doc:literal])* $name:ident, $name_async:ident ($($arg:ident: $ty:ty),*)
        = |$c:ident| $body:expr;)*) => {
        #[pymethods]
        impl NativeClient {
            $($extra)*
            $(
                $(#[doc = $doc])*
                fn $name(&self, py: Python<'_>, $($arg: $ty),*) -> PyResult<Wire> {
                    let $c = self.inner.clone();
                    block_on(py, async move { $body })
                }

                #[doc = concat!("`", stringify!($name), "` for asyncio (see `Completions`).")]
                fn $name_async(
                    &self,
                    py: Python<'_>,
                    completions: PyRef<'_, Completions>,
                    future: Py<PyAny>,
                    $($arg: $ty),*
                ) -> PyResult<u64> {
                    let $c = self.inner.clone();
                    completions.start(py, future, async move { $body })
                }
            )*
        }
    };
}

calls! {
    extra {
        /// Builds a client from `options` (core's `ClientOptions`, camelCase); `callback_key` (a
        /// one-key ring) or `callback_keys`, and `clock`, are the handles beside them.
        #[new]
        #[pyo3(signature = (options, *, callback_key=None, callback_keys=None, clock=None))]
        fn new(
            py: Python<'_>,
            options: &Bound<'_, PyAny>,
            callback_key: Option<&[u8]>,
            callback_keys: Option<PyRef<'_, NativeCallbackKeys>>,
            clock: Option<PyRef<'_, ManualClock>>,
        ) -> PyResult<Self> {
            let options = crate::models::py_to_value(options)?;
            let inner = guarded(py, || {
                let mut b = ClientOptions::from_json_value(options)?.into_builder()?;
                if let Some(key) = callback_key {
                    b = b.callback_key(key);
                }
                if let Some(ring) = callback_keys {
                    b = b.callback_keys(ring.inner.clone());
                }
                if let Some(c) = clock {
                    b = b.clock(Arc::new(c.inner.clone()));
                }
                b.build()
            })?;
            Ok(Self { inner })
        }

        /// The base URL.
        #[getter]
        fn base_url(&self) -> String {
            self.inner.base_url().to_owned()
        }

        /// The callback key ring the flow signs its redirect URLs with (on the client's clock),
        /// or None when the client has no callback key.
        fn callback_keys(&self) -> Option<NativeCallbackKeys> {
            let ring = self.inner.callback_keys().cloned();
            ring.map(|inner| NativeCallbackKeys { inner })
        }
    }

    /// `PUT /reseller/getAuthenticatedUser`: the reseller API user (`AuthenticatedUser`).
    authenticated_user, authenticated_user_async()
        = |c| Wire::model("AuthenticatedUser", &c.authenticated_user().await?);
    /// The reseller id: the configured one, or read once from `getAuthenticatedUser`.
    reseller_id, reseller_id_async() = |c| Wire::plain(&c.reseller_id().await?);
    /// The SBC gateways the reseller may assign (`list[SbcGateway]`).
    sbc_gateways, sbc_gateways_async(reseller_id: i64)
        = |c| Wire::model("SbcGateway", &c.sbc_gateways(reseller_id).await?);
    /// The PBX types the reseller may assign (`list[PbxType]`).
    pbx_types, pbx_types_async(reseller_id: i64)
        = |c| Wire::model("PbxType", &c.pbx_types(reseller_id).await?);
    /// Creates the enterprise (a dict with the wire's names) and returns its id.
    create_enterprise, create_enterprise_async(enterprise: Arg<NewEnterprise>)
        = |c| Wire::plain(&c.create_enterprise(&enterprise.0).await?);
    /// The URL to show the Global Admin for `action`.
    action_item_url, action_item_url_async(
        action: String, enterprise_name: String, redirect_url: String
    ) = |c| {
        let action = ActionType::from_wire(&action);
        Wire::plain(&c.action_item_url(&action, &enterprise_name, &redirect_url).await?)
    };
    /// Whether the tenant has the Teams Tenant Admin API (`O365UserInfo`), given the MSAL result.
    o365_user_info, o365_user_info_async(auth: Arg<AuthenticationResult>)
        = |c| Wire::model("O365UserInfo", &c.o365_user_info(&auth.0).await?);
    /// Provisions the "Skype and Teams Tenant Admin API" for the admin's tenant.
    provision_tenant_admin_api, provision_tenant_admin_api_async(auth: Arg<AuthenticationResult>)
        = |c| Wire::plain(&c.provision_tenant_admin_api(&auth.0).await?);
    /// Records "management by service provider" after the Global Admin granted that consent.
    update_management_consent, update_management_consent_async(
        auth: Arg<AuthenticationResult>, reseller_id: i64, tenant_id: String
    ) = |c| Wire::plain(&c.update_management_consent(&auth.0, reseller_id, &tenant_id).await?);
    /// The reseller's enterprises (`list[EnterpriseSummary]`).
    enterprises, enterprises_async(reseller_id: i64)
        = |c| Wire::model("EnterpriseSummary", &c.enterprises(reseller_id).await?);
    /// One of the reseller's enterprises by exact name (`EnterpriseSummary` or `None`).
    find_enterprise, find_enterprise_async(reseller_id: i64, name: String)
        = |c| Wire::model("EnterpriseSummary", &c.find_enterprise(reseller_id, &name).await?);
}
