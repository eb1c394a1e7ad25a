//! `ctt_onboard._native.NativeOnboarding`: core's [`FlowHandle`] (its policy for reads, callbacks
//! and a second advance while an advance runs: reads see the last finished step, the others are
//! `FlowStateError`); `NativeCallbackKeys`: core's key ring; `verify_callback` and
//! `claimed_flow_id`. Plans, status and progress cross as core's serde values (dicts); the Python
//! layer (`ctt_onboard/onboarding.py`) turns them into its classes.
//!
//! `advance` takes an optional checkpoint, a Python callable `(snapshot, previous_revision)`, as a
//! core [`Checkpoint`]: each save hands the callable the flow being saved and maps what it raises
//! to the core error that stops `advance`. The blocking `advance` polls the flow on the calling
//! thread, so each save runs there (a `sqlite3` connection of that thread, or a blocking
//! `Client`, works in the checkpoint); `advance_async` calls it on a blocking thread of the
//! runtime, and the Python layer's adapter runs the user's checkpoint on the event loop.

use crate::client::{ManualClock, NativeClient, seconds_arg, unix_seconds};
use crate::completion::Completions;
use crate::error::{from_py, guarded, to_py};
use crate::models::{Arg, Json, to_value};
use crate::runtime::block_on;
use ctt_onboard::{
    CallbackKey, CallbackKeys, Checkpoint, Client, Error, FlowHandle, NoCheckpoint, Onboarding,
    OnboardingPlan, Result,
};
use pyo3::prelude::*;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

// ---------------------------------------------------------------- the key ring

/// The portal's callback keys (core's `CallbackKeys`). Immutable: every `with_*` method returns a
/// new ring. The secrets never leave the ring (its repr masks them).
#[pyclass(module = "ctt_onboard._native", frozen)]
#[derive(Clone)]
pub struct NativeCallbackKeys {
    pub(crate) inner: CallbackKeys,
}

/// `e` with its message prefixed by what was refused.
fn named(what: &str, e: Error) -> Error {
    Error::new(e.code(), format!("{what}: {}", e.message()))
}

methods! { NativeCallbackKeys, |s, py| {
    /// A ring whose signing key is `signing_key` (at least 16 bytes); `key_id` is the id the URLs
    /// carry, derived from the key when None.
    #[new]
    #[pyo3(signature = (signing_key, key_id=None))]
    fn new(py: Python<'_>, signing_key: &[u8], key_id: Option<String>) -> PyResult<Self> {
        let key = match key_id {
            Some(id) => CallbackKey::new(id, signing_key),
            None => CallbackKey::derived(signing_key),
        };
        let inner = key.map(CallbackKeys::new).map_err(|e| named("signing_key", e));
        inner.map(|inner| Self { inner }).map_err(|e| to_py(py, e))
    }

    /// The id of the key that signs new URLs.
    #[getter]
    fn signing_key_id(&self) -> String {
        self.inner.signing_key_id().to_owned()
    }

    /// How long a tagged URL answers, in seconds.
    #[getter]
    fn max_age(&self) -> f64 {
        self.inner.max_age().as_secs_f64()
    }
}
    /// A copy that also verifies the URLs `key` (id `key_id`) tagged; it signs nothing new.
    fn with_verify_key(key: &[u8], key_id: String) -> Self = {
        let key = CallbackKey::new(key_id, key).map_err(|e| named("verify key", e));
        s.with(py, |ring| ring.with_verify_key(key?))
    };
    /// A copy that refuses the URLs key `key_id` tagged, saying it was retired.
    fn with_retired(key_id: String) -> Self = s.with(py, |ring| ring.with_retired(key_id));
    /// A copy whose URLs answer for `seconds` (at least 60).
    fn with_max_age(seconds: f64) -> Self = {
        let age = seconds_arg("max_age", seconds)?;
        s.with(py, |ring| ring.with_max_age(age))
    };
    /// A copy that stamps and judges URLs by `clock`.
    fn with_clock(clock: PyRef<'_, ManualClock>) -> Self =
        s.with(py, |ring| Ok(ring.with_clock(Arc::new(clock.inner.clone()))));
    /// The time on the ring's clock, in seconds since the Unix epoch.
    fn now() -> f64 = Ok(unix_seconds(s.inner.now()));
    /// The ring with its secrets masked.
    fn __repr__() -> String = Ok(format!("{:?}", s.inner));
}

impl NativeCallbackKeys {
    fn with(
        &self,
        py: Python<'_>,
        f: impl FnOnce(CallbackKeys) -> Result<CallbackKeys>,
    ) -> PyResult<Self> {
        f(self.inner.clone())
            .map(|inner| Self { inner })
            .map_err(|e| to_py(py, e))
    }
}

// ---------------------------------------------------------------- the checkpoint

type SaveFuture = Pin<Box<dyn Future<Output = Result<()>> + Send + 'static>>;

/// A Python callable `(snapshot, previous_revision)` as the core's [`Checkpoint`]: called where
/// the advance is polled, the blocking `advance`'s own thread (see [`crate::runtime::block_on`]),
/// or, `on_worker` (for `advance_async`), on a blocking thread of the runtime.
struct PyCheckpoint {
    callable: Arc<Py<PyAny>>,
    on_worker: bool,
}

impl Checkpoint for PyCheckpoint {
    fn save(&mut self, flow: &Onboarding, previous_revision: u64) -> SaveFuture {
        let (snapshot, callable) = (flow.clone(), self.callable.clone());
        let call = move || call_checkpoint(&callable, snapshot, previous_revision);
        if !self.on_worker {
            return Box::pin(async move { call() });
        }
        Box::pin(async move {
            let joined = tokio::task::spawn_blocking(call).await;
            let unfinished = |e| {
                Err(Error::flow_state(format!(
                    "the checkpoint did not finish: {e}"
                )))
            };
            joined.unwrap_or_else(unfinished)
        })
    }
}

/// Calls the checkpoint with the flow being saved; what it raises (the Python layer makes that
/// a `CttError`) is the core error that stops `advance`.
fn call_checkpoint(
    callable: &Py<PyAny>,
    snapshot: Onboarding,
    previous_revision: u64,
) -> Result<()> {
    Python::attach(|py| {
        let flow = Bound::new(
            py,
            NativeOnboarding {
                flow: FlowHandle::from_flow(snapshot),
            },
        );
        let called = flow.and_then(|flow| callable.bind(py).call1((flow, previous_revision)));
        called.map(drop).map_err(|err| from_py(py, &err))
    })
}

/// `flow.advance` with the checkpoint, if any (see [`PyCheckpoint`]); its progress (core's
/// serde shape).
async fn advance(
    flow: FlowHandle,
    client: Client,
    checkpoint: Option<Py<PyAny>>,
    on_worker: bool,
) -> Result<Value> {
    let progress = match checkpoint {
        Some(c) => {
            let mut checkpoint = PyCheckpoint {
                callable: Arc::new(c),
                on_worker,
            };
            flow.advance(&client, &mut checkpoint).await?
        }
        None => flow.advance(&client, &mut NoCheckpoint).await?,
    };
    to_value(&progress)
}

// ---------------------------------------------------------------- the flow

/// One enterprise's onboarding, resumable from its JSON.
#[pyclass(module = "ctt_onboard._native", frozen)]
pub struct NativeOnboarding {
    flow: FlowHandle,
}

impl NativeOnboarding {
    fn wrap(py: Python<'_>, flow: impl FnOnce() -> Result<FlowHandle>) -> PyResult<Self> {
        guarded(py, flow).map(|flow| Self { flow })
    }
}

methods! { NativeOnboarding, |s, py| {
    /// A new flow for a plan (a dict in the shape of core's `OnboardingPlan`).
    #[new]
    fn new(py: Python<'_>, plan: Arg<OnboardingPlan>) -> PyResult<Self> {
        Self::wrap(py, || FlowHandle::new(plan.0))
    }

    /// Restores a flow saved by `to_json` (a newer schema is `InvalidInputError`).
    #[staticmethod]
    fn from_json(py: Python<'_>, json: &str) -> PyResult<Self> {
        Self::wrap(py, || FlowHandle::from_json(json))
    }

    /// The flow's id (it is in every redirect URL the flow asks for).
    #[getter]
    fn id(&self) -> String {
        self.flow.read(|f| f.id().to_owned())
    }
}
    /// True while an advance of this flow runs.
    fn is_advancing() -> bool = Ok(s.flow.is_advancing());
    /// The flow as versioned JSON (it holds the admin's latest MSAL result).
    fn to_json() -> String = guarded(py, || s.flow.read(Onboarding::to_json));
    /// The flow as JSON with no MSAL token in it.
    fn to_json_without_tokens() -> String =
        guarded(py, || s.flow.read(Onboarding::to_json_without_tokens));
    /// The flow's revision: 0 when new, rising with every change.
    fn revision() -> u64 = Ok(s.flow.read(Onboarding::revision));
    /// True while a callback was accepted and `advance` has yet to confirm it.
    fn has_unconfirmed_callback() -> bool = Ok(s.flow.read(Onboarding::has_unconfirmed_callback));
    /// The plan (core's serde shape).
    fn plan() -> Json = guarded(py, || s.flow.read(|f| to_value(f.plan())).map(Json));
    /// Every step in the seed's order (core's `StepStatus` shape, times in Unix ms).
    fn status() -> Json = guarded(py, || s.flow.read(|f| to_value(&f.status())).map(Json));
    /// What the last `advance` returned (core's `Progress` shape), or None before the first.
    fn progress() -> Json = guarded(py, || s.flow.read(|f| to_value(&f.progress())).map(Json));
    /// The enterprise's id, once created (or given).
    fn enterprise_id() -> Option<i64> = Ok(s.flow.read(Onboarding::enterprise_id));
    /// The Microsoft tenant bound at registration.
    fn tenant_id() -> Option<String> = Ok(s.flow.read(|f| f.tenant_id().map(str::to_owned)));
    /// True once every step is done or skipped.
    fn is_complete() -> bool = Ok(s.flow.read(Onboarding::is_complete));
    /// Performs every API step it can and returns where it stopped (a progress dict);
    /// `checkpoint(snapshot, previous_revision)` is called on this thread for every save.
    #[pyo3(signature = (client, checkpoint=None))]
    fn advance(client: PyRef<'_, NativeClient>, checkpoint: Option<Py<PyAny>>) -> Json =
        block_on(py, advance(s.flow.clone(), client.inner.clone(), checkpoint, false)).map(Json);
    /// `advance` for asyncio: resolves `future` through `completions` (returns the call number
    /// for `Completions.cancel`; cancelling keeps every step that finished). The checkpoint is
    /// called on a blocking thread of the runtime.
    #[pyo3(signature = (completions, future, client, checkpoint=None))]
    fn advance_async(
        completions: PyRef<'_, Completions>,
        future: Py<PyAny>,
        client: PyRef<'_, NativeClient>,
        checkpoint: Option<Py<PyAny>>
    ) -> u64 = {
        let fut = advance(s.flow.clone(), client.inner.clone(), checkpoint, true);
        completions.start(py, future, None, fut)
    };
    /// Takes the callback the portal received at `url` with `body`, verified with `keys`;
    /// `"accepted"` or `"duplicate"`, or raises `CallbackInvalidError` (`FlowStateError` while
    /// an advance runs).
    fn handle_callback(keys: PyRef<'_, NativeCallbackKeys>, url: &str, body: &str) -> &'static str =
        guarded(py, || s.flow.handle_callback(&keys.inner, url, body)).map(|o| o.as_str());
}

/// Verifies a callback without loading its flow (`url` absolute): core's `VerifiedCallback` as a
/// dict, or raises `CallbackInvalidError`.
#[pyfunction]
pub fn verify_callback(
    py: Python<'_>,
    keys: PyRef<'_, NativeCallbackKeys>,
    url: &str,
    body: &str,
) -> PyResult<Json> {
    let v = guarded(py, || ctt_onboard::verify_callback(&keys.inner, url, body))?;
    to_value(&v).map(Json).map_err(|e| to_py(py, e))
}

/// The flow id a callback URL claims (absolute, or the path and query), unverified; None when it
/// names none.
#[pyfunction]
pub fn claimed_flow_id(url: &str) -> Option<String> {
    ctt_onboard::claimed_flow_id(url)
}
