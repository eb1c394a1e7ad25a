//! `ctt_onboard._native.NativeOnboarding`: the core's resumable [`Onboarding`], and
//! `verify_callback`. Plans, status and progress cross as plain dicts and lists (the flow's own
//! persistence format stays JSON text); the Python layer (`ctt_onboard/onboarding.py`) turns them
//! into `OnboardingPlan`, `StepStatus`, `AwaitingAdmin`, `WaitingUntil` and `Complete`.
//!
//! The flow sits in an `Arc<tokio::sync::Mutex<..>>` that the advance future locks itself: when
//! an awaiting Python task is cancelled, the future is dropped between core steps, and every step
//! that finished has already been written into the shared state.

use crate::client::{NativeClient, awaitable, block_on, unix_seconds};
use crate::error::to_py;
use crate::models::{Json, from_value, py_to_value, to_value};
use ctt_onboard::{
    CallbackOutcome, Client, Onboarding, OnboardingPlan, Progress, Result, catch_panic_sync,
};
use pyo3::prelude::*;
use std::sync::Arc;
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
    match outcome {
        CallbackOutcome::Accepted => "accepted",
        CallbackOutcome::Duplicate => "duplicate",
    }
}

async fn advance(flow: Arc<Mutex<Onboarding>>, client: Client) -> Result<Json> {
    let mut flow = flow.lock().await;
    let progress = flow.advance(&client).await?;
    Ok(progress_json(&progress))
}

/// One enterprise's onboarding, resumable from its JSON.
#[pyclass(module = "ctt_onboard._native", frozen)]
pub struct NativeOnboarding {
    flow: Arc<Mutex<Onboarding>>,
    id: String,
}

impl NativeOnboarding {
    fn wrap(flow: Onboarding) -> Self {
        Self {
            id: flow.id().to_owned(),
            flow: Arc::new(Mutex::new(flow)),
        }
    }

    /// Reads the flow, waiting (without the GIL) for an advance in flight to finish.
    fn read<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&mut Onboarding) -> T + Send) -> T {
        py.detach(|| f(&mut self.flow.blocking_lock()))
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
        self.read(py, |f| catch_panic_sync(|| f.to_json()))
            .map_err(|e| to_py(py, e))
    }

    /// The plan (a dict).
    fn plan(&self, py: Python<'_>) -> PyResult<Json> {
        self.read(py, |f| to_value(f.plan()))
            .map(Json)
            .map_err(|e| to_py(py, e))
    }

    /// Every step in the seed's order (dicts of `step`, `title`, `state`, `detail`,
    /// `updated_at` in Unix seconds, `error_code`).
    fn status(&self, py: Python<'_>) -> Json {
        let steps = self.read(py, |f| f.status());
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
        Json(serde_json::Value::Array(items))
    }

    /// What the last `advance` returned (a dict, or None before the first).
    fn progress(&self, py: Python<'_>) -> Option<Json> {
        self.read(py, |f| f.progress()).map(|p| progress_json(&p))
    }

    /// The enterprise's id, once created (or given).
    fn enterprise_id(&self, py: Python<'_>) -> Option<i64> {
        self.read(py, |f| f.enterprise_id())
    }

    /// The Microsoft tenant bound at registration.
    fn tenant_id(&self, py: Python<'_>) -> Option<String> {
        self.read(py, |f| f.tenant_id().map(str::to_owned))
    }

    /// True once every step is done or skipped.
    fn is_complete(&self, py: Python<'_>) -> bool {
        self.read(py, |f| f.is_complete())
    }

    /// Performs every API step it can and returns where it stopped (a progress dict).
    fn advance(&self, py: Python<'_>, client: PyRef<'_, NativeClient>) -> PyResult<Json> {
        let client = client.core().clone();
        block_on(py, advance(self.flow.clone(), client))
    }

    /// Awaitable twin of `advance`. Cancelling it keeps every step that finished.
    fn advance_async<'py>(
        &self,
        py: Python<'py>,
        client: PyRef<'_, NativeClient>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = client.core().clone();
        awaitable(py, advance(self.flow.clone(), client))
    }

    /// Takes the callback the portal received at `url` with `body`, after verifying it with
    /// `key`; returns `"accepted"` or `"duplicate"`, or raises `CallbackInvalidError`.
    fn handle_callback(
        &self,
        py: Python<'_>,
        key: &[u8],
        url: &str,
        body: &str,
    ) -> PyResult<&'static str> {
        self.read(py, |f| {
            catch_panic_sync(|| f.handle_callback(key, url, body))
        })
        .map(outcome_str)
        .map_err(|e| to_py(py, e))
    }
}

/// Verifies a callback without loading its flow: returns (flow id, action, payload as a
/// wire-named dict), or raises `CallbackInvalidError`.
#[pyfunction]
pub fn verify_callback(
    py: Python<'_>,
    key: &[u8],
    url: &str,
    body: &str,
) -> PyResult<(String, String, Json)> {
    let verified = catch_panic_sync(|| ctt_onboard::verify_callback(key, url, body))
        .map_err(|e| to_py(py, e))?;
    let payload = to_value(&verified.payload).map_err(|e| to_py(py, e))?;
    Ok((
        verified.flow_id,
        verified.action.as_str().to_owned(),
        Json(payload),
    ))
}
