//! `ctt_onboard._native.NativeOnboarding`: the core's resumable [`Onboarding`];
//! `NativeCallbackKeys`: the core's callback key ring; and `verify_callback` /
//! `claimed_flow_id`. Plans, status and progress cross as plain dicts and lists (the flow's own
//! persistence format stays JSON text); the Python layer (`ctt_onboard/onboarding.py`) turns them
//! into `OnboardingPlan`, `StepStatus`, `AwaitingAdmin`, `WaitingUntil` and `Complete`.
//!
//! The flow sits in an `Arc<tokio::sync::Mutex<..>>` that the advance future locks itself: when
//! an awaiting Python task is cancelled, the future is dropped between core steps, and every step
//! that finished has already been written into the shared state.
//!
//! `advance` takes an optional checkpoint, a Python callable `(flow, previous_revision)`, as a
//! core [`Checkpoint`]: each save attaches to the interpreter, hands the callable a *snapshot*
//! (a `NativeOnboarding` of its own over a clone of the core flow: the running one stays locked
//! until `advance` returns), and maps what it raises to the core error that stops `advance`. The
//! blocking `advance` runs the flow as a task of the runtime and serves each save on the calling
//! thread, outside the runtime (so a `sqlite3` connection of that thread works in the checkpoint,
//! and so does a blocking `Client`); `advance_async` calls it on a blocking thread of the
//! runtime, and the Python layer's adapter runs the user's checkpoint on the event loop from
//! there.

use crate::client::{ManualClock, NativeClient, block_on, unix_seconds};
use crate::error::to_py;
use crate::models::{Json, from_value, py_to_value, to_value};
use crate::runtime::{future_into_py, py_runtime};
use ctt_onboard::{
    CallbackKey, CallbackKeys, CallbackOutcome, Checkpoint, Client, Error, ErrorCode, Onboarding,
    OnboardingPlan, Progress, Result, catch_panic, catch_panic_sync,
};
use pyo3::exceptions::{PyException, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::Duration;
use tokio::sync::Mutex;

/// A progress report: `{"kind": "awaiting_admin" | "waiting_until" | "complete", ...}`.
fn progress_json(progress: &Progress) -> Json {
    let value = match progress {
        Progress::AwaitingAdmin { action, url } => serde_json::json!({
            "kind": "awaiting_admin", "action": action.as_str(), "url": url,
        }),
        Progress::WaitingUntil { not_before, reason } => serde_json::json!({
            "kind": "waiting_until", "not_before": unix_seconds(*not_before), "reason": reason,
        }),
        Progress::Complete {
            enterprise_id,
            tenant_id,
        } => serde_json::json!({
            "kind": "complete", "enterprise_id": enterprise_id, "tenant_id": tenant_id,
        }),
    };
    Json(value)
}

fn outcome_str(outcome: CallbackOutcome) -> &'static str {
    outcome.as_str()
}

// ---------------------------------------------------------------- the key ring

/// The portal's callback keys (the core's `CallbackKeys`): one key that signs new redirect
/// URLs, older keys that still verify, retired key ids, the maximum age of a URL and the clock
/// that judges it. Immutable: every `with_*` method returns a new ring. The secrets never leave
/// the ring (its repr masks them).
#[pyclass(module = "ctt_onboard._native", frozen)]
#[derive(Clone)]
pub struct NativeCallbackKeys {
    pub(crate) inner: CallbackKeys,
}

fn key_error(py: Python<'_>, what: &str, e: Error) -> PyErr {
    to_py(py, Error::new(e.code(), format!("{what}: {}", e.message())))
}

#[pymethods]
impl NativeCallbackKeys {
    /// A ring whose signing key is `signing_key` (bytes, at least 16); `key_id` is the id the
    /// URLs carry (1 to 32 of `A-Z a-z 0-9 - _ .`), derived from the key when None.
    /// `InvalidInputError` names what is wrong.
    #[new]
    #[pyo3(signature = (signing_key, key_id=None))]
    fn new(py: Python<'_>, signing_key: &[u8], key_id: Option<String>) -> PyResult<Self> {
        let key = match key_id {
            Some(id) => CallbackKey::new(id, signing_key),
            None => CallbackKey::derived(signing_key),
        }
        .map_err(|e| key_error(py, "signing_key", e))?;
        Ok(Self {
            inner: CallbackKeys::new(key),
        })
    }

    /// A copy of this ring that also verifies the URLs `key` (with id `key_id`) tagged; it signs
    /// nothing new.
    fn with_verify_key(&self, py: Python<'_>, key: &[u8], key_id: String) -> PyResult<Self> {
        let key = CallbackKey::new(key_id, key).map_err(|e| key_error(py, "verify key", e))?;
        let inner = self
            .inner
            .clone()
            .with_verify_key(key)
            .map_err(|e| to_py(py, e))?;
        Ok(Self { inner })
    }

    /// A copy of this ring that refuses the URLs key `key_id` tagged, saying it was retired.
    fn with_retired(&self, py: Python<'_>, key_id: String) -> PyResult<Self> {
        let inner = self
            .inner
            .clone()
            .with_retired(key_id)
            .map_err(|e| to_py(py, e))?;
        Ok(Self { inner })
    }

    /// A copy of this ring whose URLs answer for `seconds` (at least 60).
    fn with_max_age(&self, py: Python<'_>, seconds: f64) -> PyResult<Self> {
        let age = Duration::try_from_secs_f64(seconds).map_err(|_| {
            PyValueError::new_err(format!(
                "max_age must be a non-negative number of seconds, got {seconds}"
            ))
        })?;
        let inner = self
            .inner
            .clone()
            .with_max_age(age)
            .map_err(|e| to_py(py, e))?;
        Ok(Self { inner })
    }

    /// A copy of this ring that stamps and judges URLs by `clock`.
    fn with_clock(&self, clock: PyRef<'_, ManualClock>) -> Self {
        Self {
            inner: self.inner.clone().with_clock(Arc::new(clock.inner.clone())),
        }
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

    /// The time on the ring's clock, in seconds since the Unix epoch.
    fn now(&self) -> f64 {
        unix_seconds(self.inner.now())
    }

    /// The ring with its secrets masked.
    fn __repr__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

// ---------------------------------------------------------------- the checkpoint

/// The exception a checkpoint raised, with the core error it became, for the `advance` that
/// called it to raise.
type Raised = Arc<std::sync::Mutex<Option<(PyErr, ErrorCode, String)>>>;

/// The future a [`Checkpoint`] returns (the core's `BoxFuture<'static, Result<()>>`).
type SaveFuture = Pin<Box<dyn Future<Output = Result<()>> + Send + 'static>>;

/// What the blocking `advance`'s task asks of the calling thread: a save, or its end.
enum Request {
    Save {
        snapshot: Box<Onboarding>,
        previous_revision: u64,
        reply: tokio::sync::oneshot::Sender<Result<()>>,
    },
    Done(Result<Json>),
}

/// A Python callable `(flow, previous_revision)` as the core's [`Checkpoint`].
enum PyCheckpoint {
    /// The blocking `advance`: its future runs as a task of the runtime, and each save is sent
    /// back to the calling thread, which calls the checkpoint outside the runtime (so the
    /// checkpoint may use that thread's `sqlite3` connection, or call a blocking `Client`).
    Caller(std::sync::mpsc::Sender<Request>),
    /// `advance_async`: called on a blocking thread of the runtime (the Python layer's adapter
    /// runs the user's checkpoint on the event loop from there).
    Worker {
        callable: Arc<Py<PyAny>>,
        raised: Raised,
    },
}

impl Checkpoint for PyCheckpoint {
    fn save(&mut self, flow: &Onboarding, previous_revision: u64) -> SaveFuture {
        let snapshot = flow.clone();
        match self {
            PyCheckpoint::Caller(requests) => {
                let (reply, answer) = tokio::sync::oneshot::channel();
                let sent = requests.send(Request::Save {
                    snapshot: Box::new(snapshot),
                    previous_revision,
                    reply,
                });
                Box::pin(async move {
                    if sent.is_err() {
                        return Err(Error::flow_state("the advance's caller is gone"));
                    }
                    answer
                        .await
                        .unwrap_or_else(|_| Err(Error::flow_state("the checkpoint was not called")))
                })
            }
            PyCheckpoint::Worker { callable, raised } => {
                let (callable, raised) = (callable.clone(), raised.clone());
                Box::pin(async move {
                    tokio::task::spawn_blocking(move || {
                        call_checkpoint(&callable, snapshot, previous_revision, &raised)
                    })
                    .await
                    .unwrap_or_else(|e| {
                        Err(Error::flow_state(format!(
                            "the checkpoint did not finish: {e}"
                        )))
                    })
                })
            }
        }
    }
}

/// Calls the checkpoint with a snapshot of the flow; what it raises is kept in `raised` and
/// becomes the core error that stops `advance`: a `CttError` keeps its code and message,
/// anything else is `flow_state` naming the exception.
fn call_checkpoint(
    callable: &Py<PyAny>,
    snapshot: Onboarding,
    previous_revision: u64,
    raised: &Raised,
) -> Result<()> {
    Python::attach(|py| {
        let outcome = Bound::new(py, NativeOnboarding::wrap(snapshot))
            .and_then(|flow| callable.bind(py).call1((flow, previous_revision)));
        match outcome {
            Ok(_) => Ok(()),
            Err(err) => {
                let (code, message) = describe(py, &err);
                *raised.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((err, code, message.clone()));
                Err(Error::new(code, message))
            }
        }
    })
}

fn is_ctt_error(py: Python<'_>, value: &Bound<'_, pyo3::exceptions::PyBaseException>) -> bool {
    py.import("ctt_onboard.errors")
        .and_then(|m| m.getattr("CttError"))
        .and_then(|class| value.is_instance(&class))
        .unwrap_or(false)
}

fn describe(py: Python<'_>, err: &PyErr) -> (ErrorCode, String) {
    let value = err.value(py);
    if is_ctt_error(py, value) {
        let code = value
            .getattr("code")
            .and_then(|c| c.extract::<String>())
            .ok()
            .and_then(|c| ErrorCode::parse(&c))
            .unwrap_or(ErrorCode::FlowState);
        let message = value
            .getattr("message")
            .and_then(|m| m.extract::<String>())
            .unwrap_or_else(|_| value.to_string());
        return (code, message);
    }
    let name = value
        .get_type()
        .qualname()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an exception".to_owned());
    (
        ErrorCode::FlowState,
        format!("the checkpoint raised {name}: {value}"),
    )
}

/// The exception `advance` raises for `error`: when it is the error a checkpoint's exception
/// became, that exception itself if it is a `CttError` or not an `Exception` at all
/// (`KeyboardInterrupt`), else a `FlowStateError` whose `__cause__` is it.
fn advance_error(py: Python<'_>, error: Error, raised: &Raised) -> PyErr {
    let taken = raised.lock().unwrap_or_else(|p| p.into_inner()).take();
    match taken {
        Some((original, code, message)) if error.code() == code && error.message() == message => {
            let value = original.value(py);
            if is_ctt_error(py, value) || !value.is_instance_of::<PyException>() {
                return original;
            }
            let converted = to_py(py, error);
            converted.set_cause(py, Some(original));
            converted
        }
        _ => to_py(py, error),
    }
}

/// The thread that may not wait for the flow's lock: the one that called an `advance` with a
/// checkpoint while that advance holds the lock (it runs the checkpoint, and would wait for
/// itself).
#[derive(Default)]
struct Busy(std::sync::Mutex<Option<ThreadId>>);

impl Busy {
    fn set(&self, thread: Option<ThreadId>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = thread;
    }

    fn is_current(&self) -> bool {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) == Some(std::thread::current().id())
    }
}

/// Clears [`Busy`] when the advance ends, finished or dropped.
struct BusyGuard(Arc<Busy>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.set(None);
    }
}

async fn advance(
    flow: Arc<Mutex<Onboarding>>,
    busy: Arc<Busy>,
    client: Client,
    checkpoint: Option<(PyCheckpoint, ThreadId)>,
) -> Result<Json> {
    let mut flow = flow.lock().await;
    let progress = match checkpoint {
        Some((mut checkpoint, caller)) => {
            busy.set(Some(caller));
            let _guard = BusyGuard(busy);
            flow.advance_with_checkpoint(&client, &mut checkpoint)
                .await?
        }
        None => flow.advance(&client).await?,
    };
    Ok(progress_json(&progress))
}

// ---------------------------------------------------------------- the flow

/// One enterprise's onboarding, resumable from its JSON.
#[pyclass(module = "ctt_onboard._native", frozen)]
pub struct NativeOnboarding {
    flow: Arc<Mutex<Onboarding>>,
    busy: Arc<Busy>,
    id: String,
}

impl NativeOnboarding {
    fn wrap(flow: Onboarding) -> Self {
        Self {
            id: flow.id().to_owned(),
            flow: Arc::new(Mutex::new(flow)),
            busy: Arc::default(),
        }
    }

    /// Reads the flow, waiting (without the GIL) for an advance in flight to finish; refused
    /// (`FlowStateError`) on the thread whose advance is running a checkpoint, which would wait
    /// for itself.
    fn read<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Onboarding) -> T + Send,
    ) -> PyResult<T> {
        if let Ok(mut flow) = self.flow.try_lock() {
            return Ok(f(&mut flow));
        }
        if self.busy.is_current() {
            return Err(to_py(
                py,
                Error::flow_state(
                    "this flow is locked while its advance runs: in a checkpoint, use the flow the checkpoint is given",
                ),
            ));
        }
        Ok(py.detach(|| f(&mut self.flow.blocking_lock())))
    }

    /// Refuses to start an advance from this flow's own checkpoint (it would wait for itself).
    fn not_in_own_checkpoint(&self, py: Python<'_>) -> PyResult<()> {
        if self.flow.try_lock().is_err() && self.busy.is_current() {
            return Err(to_py(
                py,
                Error::flow_state(
                    "this flow is being advanced: its checkpoint cannot advance it again",
                ),
            ));
        }
        Ok(())
    }

    /// The blocking advance with a checkpoint: runs it as a task and serves its saves on this
    /// thread, detached from the interpreter while it waits.
    fn advance_serving(
        &self,
        py: Python<'_>,
        client: Client,
        callable: Py<PyAny>,
    ) -> PyResult<Json> {
        let rt = py_runtime()?;
        let raised = Raised::default();
        let (requests, served) = std::sync::mpsc::channel();
        let checkpoint = PyCheckpoint::Caller(requests.clone());
        let fut = advance(
            self.flow.clone(),
            self.busy.clone(),
            client,
            Some((checkpoint, std::thread::current().id())),
        );
        rt.spawn(async move {
            let result = catch_panic(fut).await;
            let _ = requests.send(Request::Done(result));
        });
        // A `Receiver` is not `Sync`: it goes into the detached closure and comes back.
        let mut served = served;
        loop {
            let (message, back) = py.detach(move || (served.recv(), served));
            served = back;
            match message {
                Ok(Request::Save {
                    snapshot,
                    previous_revision,
                    reply,
                }) => {
                    let result = call_checkpoint(&callable, *snapshot, previous_revision, &raised);
                    let _ = reply.send(result);
                }
                Ok(Request::Done(result)) => {
                    return result.map_err(|e| advance_error(py, e, &raised));
                }
                Err(_) => {
                    return Err(PyRuntimeError::new_err(
                        "the advance ended without an answer (the runtime shut down)",
                    ));
                }
            }
        }
    }
}

#[pymethods]
impl NativeOnboarding {
    /// A new flow for a plan (a dict in the shape of the core's `OnboardingPlan`);
    /// `InvalidInputError` names what is wrong with it.
    #[new]
    fn new(py: Python<'_>, plan: &Bound<'_, PyAny>) -> PyResult<Self> {
        let plan = py_to_value(plan)?;
        catch_panic_sync(|| from_value::<OnboardingPlan>("plan", plan).and_then(Onboarding::new))
            .map(Self::wrap)
            .map_err(|e| to_py(py, e))
    }

    /// Restores a flow saved by `to_json` (a newer schema is `InvalidInputError`).
    #[staticmethod]
    fn from_json(py: Python<'_>, json: &str) -> PyResult<Self> {
        catch_panic_sync(|| Onboarding::from_json(json))
            .map(Self::wrap)
            .map_err(|e| to_py(py, e))
    }

    /// The flow's id (it is in every redirect URL the flow asks for).
    #[getter]
    fn id(&self) -> String {
        self.id.clone()
    }

    /// The flow as versioned JSON. It holds the Global Admin's latest MSAL result: store it as
    /// you would store a token.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |f| catch_panic_sync(|| f.to_json()))?
            .map_err(|e| to_py(py, e))
    }

    /// The flow as JSON with no MSAL token in it (a flow loaded from it asks the admin to sign
    /// in again when a step needs it).
    fn to_json_without_tokens(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |f| catch_panic_sync(|| f.to_json_without_tokens()))?
            .map_err(|e| to_py(py, e))
    }

    /// The flow's revision: 0 when new, rising with every change.
    fn revision(&self, py: Python<'_>) -> PyResult<u64> {
        self.read(py, |f| f.revision())
    }

    /// True while a callback was accepted and `advance` has yet to confirm it.
    fn has_unconfirmed_callback(&self, py: Python<'_>) -> PyResult<bool> {
        self.read(py, |f| f.has_unconfirmed_callback())
    }

    /// The plan (a dict).
    fn plan(&self, py: Python<'_>) -> PyResult<Json> {
        self.read(py, |f| to_value(f.plan()))?
            .map(Json)
            .map_err(|e| to_py(py, e))
    }

    /// Every step in the seed's order (dicts of `step`, `title`, `state`, `detail`,
    /// `updated_at` in Unix seconds, `error_code`).
    fn status(&self, py: Python<'_>) -> PyResult<Json> {
        let steps = self.read(py, |f| f.status())?;
        let items: Vec<serde_json::Value> = steps
            .iter()
            .map(|s| {
                serde_json::json!({
                    "step": s.step.name(),
                    "title": s.step.title(),
                    "state": s.state.as_str(),
                    "detail": s.detail,
                    "updated_at": s.updated_at.map(unix_seconds),
                    "error_code": s.error_code.map(|c| c.as_str()),
                })
            })
            .collect();
        Ok(Json(serde_json::Value::Array(items)))
    }

    /// What the last `advance` returned (a dict, or None before the first).
    fn progress(&self, py: Python<'_>) -> PyResult<Option<Json>> {
        Ok(self.read(py, |f| f.progress())?.map(|p| progress_json(&p)))
    }

    /// The enterprise's id, once created (or given).
    fn enterprise_id(&self, py: Python<'_>) -> PyResult<Option<i64>> {
        self.read(py, |f| f.enterprise_id())
    }

    /// The Microsoft tenant bound at registration.
    fn tenant_id(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.read(py, |f| f.tenant_id().map(str::to_owned))
    }

    /// True once every step is done or skipped.
    fn is_complete(&self, py: Python<'_>) -> PyResult<bool> {
        self.read(py, |f| f.is_complete())
    }

    /// Performs every API step it can and returns where it stopped (a progress dict).
    /// `checkpoint(snapshot, previous_revision)` is called on this thread after every step that
    /// changed the flow and before the create; what it raises stops the advance.
    #[pyo3(signature = (client, checkpoint=None))]
    fn advance(
        &self,
        py: Python<'_>,
        client: PyRef<'_, NativeClient>,
        checkpoint: Option<Py<PyAny>>,
    ) -> PyResult<Json> {
        self.not_in_own_checkpoint(py)?;
        let client = client.core().clone();
        if let Some(callable) = checkpoint {
            return self.advance_serving(py, client, callable);
        }
        block_on(
            py,
            advance(self.flow.clone(), self.busy.clone(), client, None),
        )
    }

    /// Awaitable twin of `advance`. Cancelling it keeps every step that finished. The
    /// checkpoint is called on a blocking thread of the runtime.
    #[pyo3(signature = (client, checkpoint=None))]
    fn advance_async<'py>(
        &self,
        py: Python<'py>,
        client: PyRef<'_, NativeClient>,
        checkpoint: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.not_in_own_checkpoint(py)?;
        let client = client.core().clone();
        let raised = Raised::default();
        let checkpoint = checkpoint.map(|callable| {
            let checkpoint = PyCheckpoint::Worker {
                callable: Arc::new(callable),
                raised: raised.clone(),
            };
            (checkpoint, std::thread::current().id())
        });
        let fut = advance(self.flow.clone(), self.busy.clone(), client, checkpoint);
        future_into_py(py, async move {
            match catch_panic(fut).await {
                Ok(v) => Ok(v),
                // The GIL is taken on a blocking thread, never on a runtime worker.
                Err(e) => Err(tokio::task::spawn_blocking(move || {
                    Python::attach(|py| advance_error(py, e, &raised))
                })
                .await
                .unwrap_or_else(|join| PyRuntimeError::new_err(join.to_string()))),
            }
        })
    }

    /// Takes the callback the portal received at `url` with `body`, after verifying it with
    /// `keys`; returns `"accepted"` or `"duplicate"`, or raises `CallbackInvalidError`.
    fn handle_callback(
        &self,
        py: Python<'_>,
        keys: PyRef<'_, NativeCallbackKeys>,
        url: &str,
        body: &str,
    ) -> PyResult<&'static str> {
        let keys = &keys.inner;
        self.read(py, |f| {
            catch_panic_sync(|| f.handle_callback(keys, url, body))
        })?
        .map(outcome_str)
        .map_err(|e| to_py(py, e))
    }
}

/// What `verify_callback` returns: flow id, action, nonce, issue time (Unix seconds), payload
/// digest, payload (a wire-named dict).
type Verified = (String, String, String, f64, String, Json);

/// Verifies a callback without loading its flow (`url` absolute): returns (flow id, action,
/// nonce, issued at in Unix seconds, payload digest, payload as a wire-named dict), or raises
/// `CallbackInvalidError`.
#[pyfunction]
pub fn verify_callback(
    py: Python<'_>,
    keys: PyRef<'_, NativeCallbackKeys>,
    url: &str,
    body: &str,
) -> PyResult<Verified> {
    let verified = catch_panic_sync(|| ctt_onboard::verify_callback(&keys.inner, url, body))
        .map_err(|e| to_py(py, e))?;
    let payload = to_value(&verified.payload).map_err(|e| to_py(py, e))?;
    Ok((
        verified.flow_id,
        verified.action.as_str().to_owned(),
        verified.nonce,
        unix_seconds(verified.issued_at),
        verified.payload_digest,
        Json(payload),
    ))
}

/// The flow id a callback URL claims (absolute, or the path and query), unverified: which
/// stored flow to load before `handle_callback` verifies it. None when it names none.
#[pyfunction]
pub fn claimed_flow_id(url: &str) -> Option<String> {
    ctt_onboard::claimed_flow_id(url)
}
