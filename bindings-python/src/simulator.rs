//! `ctt_onboard._native.NativeSimulator`: the embedded simulator (`ctt_sim::Simulator`), for
//! `ctt_onboard.testing.Simulator`. Results cross as JSON, like the models.

use crate::client::{block_on, unix_seconds};
use crate::models::to_json;
use ctt_sim::{CannedResponse, FaultConfig, SimConfig, SimCredentials, Simulator};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running simulator on 127.0.0.1.
#[pyclass(module = "ctt_onboard._native", frozen)]
pub struct NativeSimulator {
    sim: Mutex<Option<Arc<Simulator>>>,
    base_url: String,
}

fn closed() -> PyErr {
    PyRuntimeError::new_err("the simulator is closed")
}

fn sim_error(e: ctt_sim::SimError) -> PyErr {
    PyValueError::new_err(format!("simulator refused: {e}"))
}

/// The default credentials with the fields of a JSON object replaced.
fn overridden_credentials(json: &str) -> PyResult<SimCredentials> {
    let bad = |e: serde_json::Error| PyValueError::new_err(format!("credentials: {e}"));
    let mut merged = serde_json::to_value(SimCredentials::default()).map_err(bad)?;
    let overrides: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(bad)?;
    let fields = merged
        .as_object_mut()
        .ok_or_else(|| PyValueError::new_err("credentials: not an object"))?;
    for (name, value) in overrides {
        if !fields.contains_key(&name) {
            return Err(PyValueError::new_err(format!(
                "credentials: unknown field {name:?}"
            )));
        }
        fields.insert(name, value);
    }
    serde_json::from_value(merged).map_err(bad)
}

impl NativeSimulator {
    /// The running simulator; the lock is held only to clone the handle.
    fn get(&self) -> PyResult<Arc<Simulator>> {
        let guard = self.sim.lock().unwrap_or_else(|p| p.into_inner());
        guard.clone().ok_or_else(closed)
    }

    fn with<T>(&self, f: impl FnOnce(&Simulator) -> T) -> PyResult<T> {
        let sim = self.get()?;
        Ok(f(&sim))
    }
}

#[pymethods]
impl NativeSimulator {
    /// Starts a simulator. `port` 0 picks a free one; `faults` is the CLI form
    /// (`rate=0.2,seed=7,kinds=429+500`); `credentials` is a JSON object overriding some of
    /// the credentials it accepts (`client_id`, `client_secret`, `username`, `password`,
    /// `enterprise_username`, `enterprise_password`).
    #[new]
    #[pyo3(signature = (*, port=0, token_ttl=3600.0, faults=None, credentials=None))]
    fn new(
        py: Python<'_>,
        port: u16,
        token_ttl: f64,
        faults: Option<&str>,
        credentials: Option<&str>,
    ) -> PyResult<Self> {
        let faults = match faults {
            Some(spec) => FaultConfig::parse(spec).map_err(PyValueError::new_err)?,
            None => FaultConfig::default(),
        };
        let credentials = match credentials {
            Some(json) => overridden_credentials(json)?,
            None => SimCredentials::default(),
        };
        let token_ttl = Duration::try_from_secs_f64(token_ttl)
            .map_err(|_| PyValueError::new_err("token_ttl must be a non-negative number"))?;
        let config = SimConfig {
            port,
            token_ttl,
            faults,
            credentials,
        };
        let sim = py
            .detach(|| Simulator::start(config))
            .map_err(|e| PyRuntimeError::new_err(format!("could not start the simulator: {e}")))?;
        Ok(Self {
            base_url: sim.base_url().to_owned(),
            sim: Mutex::new(Some(Arc::new(sim))),
        })
    }

    /// `http://127.0.0.1:<port>`.
    #[getter]
    fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The credentials it accepts (JSON object).
    fn credentials(&self) -> PyResult<String> {
        let json = self.with(|s| serde_json::to_string(s.credentials()))?;
        json.map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The reseller id of its one reseller.
    fn reseller_id(&self) -> PyResult<i64> {
        self.with(|s| s.reseller_id())
    }

    /// The simulator's current time, in seconds since the Unix epoch.
    fn now(&self) -> PyResult<f64> {
        self.with(|s| unix_seconds(s.now()))
    }

    /// Moves the simulator's clock forward by `seconds`.
    fn advance_clock(&self, seconds: f64) -> PyResult<()> {
        let by = Duration::try_from_secs_f64(seconds)
            .map_err(|_| PyValueError::new_err("seconds must be a non-negative number"))?;
        self.with(|s| s.advance_clock(by))
    }

    /// Replaces the fault configuration (CLI form; empty turns faults off).
    fn set_faults(&self, spec: &str) -> PyResult<()> {
        let faults = FaultConfig::parse(spec).map_err(PyValueError::new_err)?;
        self.with(|s| s.set_faults(faults))
    }

    /// Answers every API request whose path starts with `path_prefix` with this response (a
    /// test knob for answers the real service should never give: huge, nested, mistyped).
    fn set_canned(
        &self,
        path_prefix: &str,
        status: u16,
        content_type: &str,
        body: &str,
    ) -> PyResult<()> {
        let canned = CannedResponse {
            path_prefix: path_prefix.to_owned(),
            status,
            content_type: content_type.to_owned(),
            body: body.to_owned(),
        };
        self.with(|s| s.set_canned(canned))
    }

    /// Removes the canned responses.
    fn clear_canned(&self) -> PyResult<()> {
        self.with(|s| s.clear_canned())
    }

    /// Changes the lifetime of tokens issued from now on.
    fn set_token_ttl(&self, seconds: f64) -> PyResult<()> {
        let ttl = Duration::try_from_secs_f64(seconds)
            .map_err(|_| PyValueError::new_err("seconds must be a non-negative number"))?;
        self.with(|s| s.set_token_ttl(ttl))
    }

    /// Acts as `tenant`'s admin on an action item URL and returns the callback as
    /// (redirect URL, JSON body); posts it there too when `post` and the URL is on loopback.
    #[pyo3(signature = (url, tenant, post=true))]
    fn approve(
        &self,
        py: Python<'_>,
        url: &str,
        tenant: &str,
        post: bool,
    ) -> PyResult<(String, String)> {
        let sim = self.get()?;
        let callback = if post {
            let (url, tenant) = (url.to_owned(), tenant.to_owned());
            block_on(py, async move { Ok(sim.approve(&url, &tenant).await) })?
        } else {
            sim.approve_without_posting(url, tenant)
        }
        .map_err(sim_error)?;
        Ok((callback.url, callback.body.to_string()))
    }

    /// The redirect URL (with the flow's tag) a pending action item URL will post its callback
    /// to, without approving it; None when the URL is not pending.
    fn redirect_url_of(&self, url: &str) -> PyResult<Option<String>> {
        self.with(|s| s.redirect_url_of(url))
    }

    /// Every API request answered so far (JSON array).
    fn requests(&self) -> PyResult<String> {
        self.with(|s| to_json(&s.requests()))?
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// Token requests that succeeded at `level` (`reseller` or `enterprise`).
    fn token_requests(&self, level: &str) -> PyResult<u64> {
        self.with(|s| s.token_requests(level))
    }

    /// Everything it holds (enterprises, consents, requests, token counts) as JSON.
    fn snapshot(&self) -> PyResult<String> {
        self.with(|s| s.snapshot().to_string())
    }

    /// Stops the server (once no call on it is in flight). Closing twice is harmless.
    fn close(&self, py: Python<'_>) {
        let sim = self.sim.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(sim) = sim {
            py.detach(move || drop(sim));
        }
    }
}
