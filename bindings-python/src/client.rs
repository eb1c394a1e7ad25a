//! `ctt_onboard._native.NativeClient`: the core [`Client`], with a blocking and an awaitable twin
//! of every method. Models cross as Python objects: arguments as wire-named dicts, results as the
//! Python layer's model instances (see `models.rs`); the Python layer's `Client` and
//! `AsyncClient` wrap this class.
//!
//! Blocking methods detach from the interpreter (release the GIL) while the core future runs;
//! the `*_async` ones start it on the runtime and resolve an asyncio future through
//! [`Completions`]. Neither touches a Python object inside a core future: arguments are
//! converted before, results and errors after.

use crate::completion::Completions;
use crate::error::to_py;
use crate::models::{Shape, Wire, from_value, py_to_value};
use crate::onboarding::NativeCallbackKeys;
use crate::runtime::{future_into_py, py_runtime};
use ctt_onboard::{
    ActionType, AuthenticationResult, Client, Credentials, NewEnterprise, Result, RetryPolicy,
    catch_panic, catch_panic_sync,
};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Runs a core future to completion with the GIL released; converts its error afterwards. A
/// panic becomes an `api` error (`ctt_onboard::catch_panic`), never an unwind into Python.
pub fn block_on<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = Result<T>> + Send,
) -> PyResult<T> {
    let rt = py_runtime()?;
    py.detach(|| rt.block_on(catch_panic(fut)))
        .map_err(|e| to_py(py, e))
}

/// Hands a core future to asyncio; a panic becomes an `api` error, and an error is converted
/// once the future has finished, on a blocking thread (as `pyo3_async_runtimes` sets results).
pub fn awaitable<'py, T>(
    py: Python<'py>,
    fut: impl Future<Output = Result<T>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    future_into_py(py, async move {
        match catch_panic(fut).await {
            Ok(v) => Ok(v),
            // The GIL is taken on a blocking thread, never on a runtime worker.
            Err(e) => Err(
                tokio::task::spawn_blocking(move || Python::attach(|py| to_py(py, e)))
                    .await
                    .unwrap_or_else(|join| PyRuntimeError::new_err(join.to_string())),
            ),
        }
    })
}

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
        use ctt_onboard::Clock;
        unix_seconds(self.inner.now())
    }
}

/// Seconds since the Unix epoch (0 for times before it).
pub fn unix_seconds(t: std::time::SystemTime) -> f64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn seconds_arg(name: &str, seconds: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "{name} must be a non-negative number of seconds, got {seconds}"
        ))
    })
}

/// A password-grant credential set as the Python layer passes it: (client_id, client_secret,
/// username, password).
type CredentialTuple = (String, String, String, String);

fn credentials((client_id, client_secret, username, password): CredentialTuple) -> Credentials {
    Credentials::new(client_id, client_secret, username, password)
}

/// The core client. Cheap to share: clones share the connection pool and the token cache.
#[pyclass(module = "ctt_onboard._native", frozen)]
pub struct NativeClient {
    inner: Client,
}

#[pymethods]
impl NativeClient {
    /// Builds a client; every setting is optional and keyword-only, as in `ClientBuilder`.
    /// `retry` is (max_attempts, initial_backoff_s, max_backoff_s, max_retry_after_s, deadline_s).
    #[new]
    #[pyo3(signature = (*, base_url=None, reseller=None, reseller_token=None, enterprise=None,
        enterprise_token=None, timeout=None, connect_timeout=None, retry=None, user_agent=None,
        proxy=None, ca_cert_pem=None, paths=None, callback_key=None, callback_keys=None,
        clock=None, reseller_id=None, max_response_bytes=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        base_url: Option<String>,
        reseller: Option<CredentialTuple>,
        reseller_token: Option<String>,
        enterprise: Option<CredentialTuple>,
        enterprise_token: Option<String>,
        timeout: Option<f64>,
        connect_timeout: Option<f64>,
        retry: Option<(u32, f64, f64, f64, f64)>,
        user_agent: Option<String>,
        proxy: Option<String>,
        ca_cert_pem: Option<Vec<String>>,
        paths: Option<HashMap<String, String>>,
        callback_key: Option<&[u8]>,
        callback_keys: Option<PyRef<'_, NativeCallbackKeys>>,
        clock: Option<PyRef<'_, ManualClock>>,
        reseller_id: Option<i64>,
        max_response_bytes: Option<usize>,
    ) -> PyResult<Self> {
        let mut b = Client::builder();
        if let Some(v) = base_url {
            b = b.base_url(v);
        }
        if let Some(c) = reseller {
            b = b.reseller_credentials(credentials(c));
        }
        if let Some(t) = reseller_token {
            b = b.reseller_token(t);
        }
        if let Some(c) = enterprise {
            b = b.enterprise_credentials(credentials(c));
        }
        if let Some(t) = enterprise_token {
            b = b.enterprise_token(t);
        }
        if let Some(s) = timeout {
            b = b.timeout(seconds_arg("timeout", s)?);
        }
        if let Some(s) = connect_timeout {
            b = b.connect_timeout(seconds_arg("connect_timeout", s)?);
        }
        if let Some((max_attempts, initial, max, max_retry_after, deadline)) = retry {
            b = b.retry_policy(RetryPolicy {
                max_attempts,
                initial_backoff: seconds_arg("retry.initial_backoff", initial)?,
                max_backoff: seconds_arg("retry.max_backoff", max)?,
                max_retry_after: seconds_arg("retry.max_retry_after", max_retry_after)?,
                deadline: seconds_arg("retry.deadline", deadline)?,
            });
        }
        if let Some(v) = user_agent {
            b = b.user_agent(v);
        }
        if let Some(v) = proxy {
            b = b.proxy(v);
        }
        for pem in ca_cert_pem.unwrap_or_default() {
            b = b.add_ca_cert_pem(pem);
        }
        for (endpoint, route) in paths.unwrap_or_default() {
            b = b.path(endpoint, route);
        }
        match (callback_key, callback_keys) {
            (Some(_), Some(_)) => {
                return Err(to_py(
                    py,
                    ctt_onboard::Error::invalid_input(
                        "callback_key and callback_keys: give one of them (a ring holds the signing key)",
                    ),
                ));
            }
            (Some(k), None) => b = b.callback_key(k),
            (None, Some(ring)) => b = b.callback_keys(ring.inner.clone()),
            (None, None) => {}
        }
        if let Some(c) = clock {
            b = b.clock(Arc::new(c.inner.clone()));
        }
        if let Some(id) = reseller_id {
            b = b.reseller_id(id);
        }
        if let Some(n) = max_response_bytes {
            b = b.max_response_bytes(n);
        }
        let inner = catch_panic_sync(|| b.build()).map_err(|e| to_py(py, e))?;
        Ok(Self { inner })
    }

    /// The base URL.
    #[getter]
    fn base_url(&self) -> String {
        self.inner.base_url().to_owned()
    }

    /// The callback key ring the flow signs its redirect URLs with (on the client's clock), or
    /// None when the client has no callback key.
    fn callback_keys(&self) -> Option<NativeCallbackKeys> {
        self.inner
            .callback_keys()
            .cloned()
            .map(|inner| NativeCallbackKeys { inner })
    }

    /// `PUT /reseller/getAuthenticatedUser`: the reseller API user (`AuthenticatedUser`).
    fn authenticated_user(&self, py: Python<'_>) -> PyResult<Wire> {
        block_on(py, authenticated_user(self.inner.clone()))
    }

    /// `authenticated_user` for asyncio: resolves `future` through `completions`; returns the call
    /// number for `Completions.cancel`.
    fn authenticated_user_async(
        &self,
        py: Python<'_>,
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
    ) -> PyResult<u64> {
        completions.start(py, future, authenticated_user(self.inner.clone()))
    }

    /// The reseller id: the configured one, or read once from `getAuthenticatedUser`.
    fn reseller_id(&self, py: Python<'_>) -> PyResult<i64> {
        block_on(py, reseller_id(self.inner.clone()))
    }

    /// `reseller_id` for asyncio: resolves `future` through `completions`; returns the call
    /// number for `Completions.cancel`.
    fn reseller_id_async(
        &self,
        py: Python<'_>,
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
    ) -> PyResult<u64> {
        completions.start(py, future, reseller_id(self.inner.clone()))
    }

    /// The SBC gateways the reseller may assign (`list[SbcGateway]`).
    fn sbc_gateways(&self, py: Python<'_>, reseller_id: i64) -> PyResult<Wire> {
        block_on(py, sbc_gateways(self.inner.clone(), reseller_id))
    }

    /// `sbc_gateways` for asyncio: resolves `future` through `completions`; returns the call
    /// number for `Completions.cancel`.
    fn sbc_gateways_async(
        &self,
        py: Python<'_>,
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
        reseller_id: i64,
    ) -> PyResult<u64> {
        completions.start(py, future, sbc_gateways(self.inner.clone(), reseller_id))
    }

    /// The PBX types the reseller may assign (`list[PbxType]`).
    fn pbx_types(&self, py: Python<'_>, reseller_id: i64) -> PyResult<Wire> {
        block_on(py, pbx_types(self.inner.clone(), reseller_id))
    }

    /// `pbx_types` for asyncio: resolves `future` through `completions`; returns the call
    /// number for `Completions.cancel`.
    fn pbx_types_async(
        &self,
        py: Python<'_>,
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
        reseller_id: i64,
    ) -> PyResult<u64> {
        completions.start(py, future, pbx_types(self.inner.clone(), reseller_id))
    }

    /// Creates the enterprise (a dict with the wire's names) and returns its id.
    fn create_enterprise(&self, py: Python<'_>, enterprise: &Bound<'_, PyAny>) -> PyResult<i64> {
        let enterprise = py_to_value(enterprise)?;
        block_on(py, create_enterprise(self.inner.clone(), enterprise))
    }

    /// `create_enterprise` for asyncio: resolves `future` through `completions`; returns the call
    /// number for `Completions.cancel`.
    fn create_enterprise_async(
        &self,
        py: Python<'_>,
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
        enterprise: &Bound<'_, PyAny>,
    ) -> PyResult<u64> {
        let enterprise = py_to_value(enterprise)?;
        completions.start(
            py,
            future,
            create_enterprise(self.inner.clone(), enterprise),
        )
    }

    /// The URL to show the Global Admin for `action`.
    fn action_item_url(
        &self,
        py: Python<'_>,
        action: &str,
        enterprise_name: String,
        redirect_url: String,
    ) -> PyResult<String> {
        let action = ActionType::from_wire(action);
        block_on(
            py,
            action_item_url(self.inner.clone(), action, enterprise_name, redirect_url),
        )
    }

    /// `action_item_url` for asyncio: resolves `future` through `completions`; returns the call
    /// number for `Completions.cancel`.
    fn action_item_url_async(
        &self,
        py: Python<'_>,
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
        action: &str,
        enterprise_name: String,
        redirect_url: String,
    ) -> PyResult<u64> {
        let action = ActionType::from_wire(action);
        completions.start(
            py,
            future,
            action_item_url(self.inner.clone(), action, enterprise_name, redirect_url),
        )
    }

    /// Whether the tenant has the Teams Tenant Admin API (`O365UserInfo`), given the MSAL result
    /// (its wire-named dict).
    fn o365_user_info(&self, py: Python<'_>, auth: &Bound<'_, PyAny>) -> PyResult<Wire> {
        block_on(py, o365_user_info(self.inner.clone(), py_to_value(auth)?))
    }

    /// `o365_user_info` for asyncio: resolves `future` through `completions`; returns the call
    /// number for `Completions.cancel`.
    fn o365_user_info_async(
        &self,
        py: Python<'_>,
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
        auth: &Bound<'_, PyAny>,
    ) -> PyResult<u64> {
        completions.start(
            py,
            future,
            o365_user_info(self.inner.clone(), py_to_value(auth)?),
        )
    }

    /// Provisions the "Skype and Teams Tenant Admin API" for the admin's tenant.
    fn provision_tenant_admin_api(&self, py: Python<'_>, auth: &Bound<'_, PyAny>) -> PyResult<()> {
        block_on(
            py,
            provision_tenant_admin_api(self.inner.clone(), py_to_value(auth)?),
        )
    }

    /// `provision_tenant_admin_api` for asyncio: resolves `future` through `completions`;
    /// returns the call number for `Completions.cancel`.
    fn provision_tenant_admin_api_async(
        &self,
        py: Python<'_>,
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
        auth: &Bound<'_, PyAny>,
    ) -> PyResult<u64> {
        completions.start(
            py,
            future,
            provision_tenant_admin_api(self.inner.clone(), py_to_value(auth)?),
        )
    }

    /// Records "management by service provider" after the Global Admin granted that consent.
    fn update_management_consent(
        &self,
        py: Python<'_>,
        auth: &Bound<'_, PyAny>,
        reseller_id: i64,
        tenant_id: String,
    ) -> PyResult<()> {
        let fut = update_management_consent(
            self.inner.clone(),
            py_to_value(auth)?,
            reseller_id,
            tenant_id,
        );
        block_on(py, fut)
    }

    /// `update_management_consent` for asyncio: resolves `future` through `completions`;
    /// returns the call number for `Completions.cancel`.
    fn update_management_consent_async(
        &self,
        py: Python<'_>,
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
        auth: &Bound<'_, PyAny>,
        reseller_id: i64,
        tenant_id: String,
    ) -> PyResult<u64> {
        let fut = update_management_consent(
            self.inner.clone(),
            py_to_value(auth)?,
            reseller_id,
            tenant_id,
        );
        completions.start(py, future, fut)
    }

    /// The reseller's enterprises (`list[EnterpriseSummary]`).
    fn enterprises(&self, py: Python<'_>, reseller_id: i64) -> PyResult<Wire> {
        block_on(py, enterprises(self.inner.clone(), reseller_id))
    }

    /// `enterprises` for asyncio: resolves `future` through `completions`; returns the call
    /// number for `Completions.cancel`.
    fn enterprises_async(
        &self,
        py: Python<'_>,
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
        reseller_id: i64,
    ) -> PyResult<u64> {
        completions.start(py, future, enterprises(self.inner.clone(), reseller_id))
    }

    /// One of the reseller's enterprises by exact name (`EnterpriseSummary` or `None`).
    fn find_enterprise(&self, py: Python<'_>, reseller_id: i64, name: String) -> PyResult<Wire> {
        block_on(py, find_enterprise(self.inner.clone(), reseller_id, name))
    }

    /// `find_enterprise` for asyncio: resolves `future` through `completions`; returns the call
    /// number for `Completions.cancel`.
    fn find_enterprise_async(
        &self,
        py: Python<'_>,
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
        reseller_id: i64,
        name: String,
    ) -> PyResult<u64> {
        completions.start(
            py,
            future,
            find_enterprise(self.inner.clone(), reseller_id, name),
        )
    }
}

impl NativeClient {
    /// The core client, for the flow.
    pub fn core(&self) -> &Client {
        &self.inner
    }
}

async fn authenticated_user(c: Client) -> Result<Wire> {
    Wire::new(
        "AuthenticatedUser",
        Shape::One,
        &c.authenticated_user().await?,
    )
}

async fn reseller_id(c: Client) -> Result<i64> {
    c.reseller_id().await
}

async fn sbc_gateways(c: Client, reseller_id: i64) -> Result<Wire> {
    Wire::new(
        "SbcGateway",
        Shape::List,
        &c.sbc_gateways(reseller_id).await?,
    )
}

async fn pbx_types(c: Client, reseller_id: i64) -> Result<Wire> {
    Wire::new("PbxType", Shape::List, &c.pbx_types(reseller_id).await?)
}

async fn create_enterprise(c: Client, enterprise: serde_json::Value) -> Result<i64> {
    let enterprise: NewEnterprise = from_value("enterprise", enterprise)?;
    c.create_enterprise(&enterprise).await
}

async fn action_item_url(
    c: Client,
    action: ActionType,
    enterprise_name: String,
    redirect_url: String,
) -> Result<String> {
    c.action_item_url(&action, &enterprise_name, &redirect_url)
        .await
}

async fn o365_user_info(c: Client, auth: serde_json::Value) -> Result<Wire> {
    let auth: AuthenticationResult = from_value("auth", auth)?;
    Wire::new("O365UserInfo", Shape::One, &c.o365_user_info(&auth).await?)
}

async fn provision_tenant_admin_api(c: Client, auth: serde_json::Value) -> Result<()> {
    let auth: AuthenticationResult = from_value("auth", auth)?;
    c.provision_tenant_admin_api(&auth).await
}

async fn update_management_consent(
    c: Client,
    auth: serde_json::Value,
    reseller_id: i64,
    tenant_id: String,
) -> Result<()> {
    let auth: AuthenticationResult = from_value("auth", auth)?;
    c.update_management_consent(&auth, reseller_id, &tenant_id)
        .await
}

async fn enterprises(c: Client, reseller_id: i64) -> Result<Wire> {
    Wire::new(
        "EnterpriseSummary",
        Shape::List,
        &c.enterprises(reseller_id).await?,
    )
}

async fn find_enterprise(c: Client, reseller_id: i64, name: String) -> Result<Wire> {
    let found = c.find_enterprise(reseller_id, &name).await?;
    Wire::new("EnterpriseSummary", Shape::Optional, &found)
}
