//! `ctt_onboard._native.NativeClient`: the core [`Client`], with a blocking and an awaitable twin
//! of every method (one declaration each, in [`calls!`]); and `ManualClock`.
//!
//! The options are core's [`ClientOptions`] (a camelCase dict the Python layer builds; unknown
//! names are refused); the callback key ring and the clock are handles passed beside it.
//! Arguments are read with serde before the call ([`Arg`]), results leave as the Python layer's
//! model instances ([`Wire`]). Blocking methods release the GIL while the core future runs; the
//! `*_async` ones start it on the runtime and resolve an asyncio future through [`Completions`].

use crate::completion::Completions;
use crate::error::{guarded, to_py};
use crate::models::{py_to_value, result_to_py};
use crate::onboarding::NativeCallbackKeys;
use crate::runtime::block_on;
use ctt_onboard::Client;
use ctt_onboard::client::{ClientCall, ClientOptions};
use pyo3::prelude::*;
use pyo3::types::PyType;
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

#[pymethods]
impl NativeClient {
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
        let options = py_to_value(options)?;
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

    /// Performs `call` (core's `ClientCall`: a dict with the call's name under `"call"` and its
    /// camelCase arguments) with the GIL released; its result as `model` instances when given.
    #[pyo3(signature = (call, model=None))]
    fn call<'py>(
        &self,
        py: Python<'py>,
        call: &Bound<'py, PyAny>,
        model: Option<&Bound<'py, PyType>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (client, call) = (self.inner.clone(), client_call(call)?);
        let value = block_on(py, async move { client.call(call).await })?;
        result_to_py(py, &value, model)
    }

    /// `call` for asyncio: resolves `future` through `completions` and returns the call number
    /// for `Completions.cancel`.
    #[pyo3(signature = (completions, future, call, model=None))]
    fn call_async(
        &self,
        py: Python<'_>,
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
        call: &Bound<'_, PyAny>,
        model: Option<Py<PyType>>,
    ) -> PyResult<u64> {
        let (client, call) = (self.inner.clone(), client_call(call)?);
        completions.start(py, future, model, async move { client.call(call).await })
    }
}

/// A call read from the dict the generated method built (`InvalidInputError` naming the call and
/// the field at fault).
fn client_call(call: &Bound<'_, PyAny>) -> PyResult<ClientCall> {
    ClientCall::from_value(py_to_value(call)?).map_err(|e| to_py(call.py(), e))
}
