//! `ctt_onboard._native.NativeSimulator`: `ctt_sim`'s [`SimHandle`], for
//! `ctt_onboard.testing.Simulator`. Options and records cross as its serde values (dicts); a
//! [`SimError`] becomes the `CttError` of its code (a closed simulator is `FlowStateError`).

use crate::client::seconds_arg;
use crate::error::to_py;
use crate::models::{Arg, Json, to_value};
use crate::runtime::block_on;
use ctt_onboard::{Error, ErrorCode};
use ctt_sim::{CannedResponse, SimError, SimHandle, SimOptions};
use pyo3::prelude::*;
use serde::Serialize;

/// A running simulator on 127.0.0.1.
#[pyclass(module = "ctt_onboard._native", frozen)]
pub struct NativeSimulator {
    sim: SimHandle,
}

fn sim_error(e: SimError) -> Error {
    Error::new(
        ErrorCode::parse(e.code()).unwrap_or(ErrorCode::Api),
        e.message,
    )
}

/// A simulator answer on its way to Python: the value, or the error of its code.
fn answer<T>(py: Python<'_>, result: Result<T, SimError>) -> PyResult<T> {
    result.map_err(|e| to_py(py, sim_error(e)))
}

/// A simulator record as a dict.
fn record<T: Serialize>(py: Python<'_>, result: Result<T, SimError>) -> PyResult<Json> {
    let value = answer(py, result).map(|v| to_value(&v))?;
    value.map(Json).map_err(|e| to_py(py, e))
}

fn ms(name: &str, seconds: f64) -> PyResult<u64> {
    Ok(u64::try_from(seconds_arg(name, seconds)?.as_millis()).unwrap_or(u64::MAX))
}

methods! { NativeSimulator, |s, py| {
    /// Starts a simulator from `options` (`ctt_sim`'s `SimOptions`, camelCase); `faults` is the
    /// CLI form (`rate=0.2,seed=7,kinds=429+500`).
    #[new]
    #[pyo3(signature = (options, faults=None))]
    fn new(py: Python<'_>, options: Arg<SimOptions>, faults: Option<&str>) -> PyResult<Self> {
        let sim = answer(py, py.detach(|| SimHandle::start(options.0)))?;
        if let Some(spec) = faults {
            answer(py, sim.set_faults_spec(spec))?;
        }
        Ok(Self { sim })
    }

    /// `http://127.0.0.1:<port>`.
    #[getter]
    fn base_url(&self) -> &str {
        self.sim.base_url()
    }

    /// Acts as `tenant`'s admin on an action item URL and returns the callback as (redirect URL,
    /// JSON body); posts it there too when `post` and the URL is on loopback.
    #[pyo3(signature = (url, tenant, post=true))]
    fn approve(
        &self,
        py: Python<'_>,
        url: String,
        tenant: String,
        post: bool,
    ) -> PyResult<(String, String)> {
        let callback = if post {
            let sim = self.sim.clone();
            block_on(py, async move { Ok(sim.approve(&url, &tenant).await) })?
        } else {
            self.sim.approve_without_posting(&url, &tenant)
        };
        answer(py, callback).map(|c| (c.url, c.body.to_string()))
    }

    /// Stops the server (once no call on it is in flight). Closing twice is harmless.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.sim.close());
    }
}
    /// The credentials it accepts (a dict).
    fn credentials() -> Json = record(py, Ok(s.sim.credentials()));
    /// The reseller id of its one reseller.
    fn reseller_id() -> i64 = answer(py, s.sim.reseller_id());
    /// The simulator's current time, in seconds since the Unix epoch.
    fn now() -> f64 = answer(py, s.sim.now_ms()).map(|ms| ms as f64 / 1000.0);
    /// Moves the simulator's clock forward by `seconds`.
    fn advance_clock(seconds: f64) -> () =
        answer(py, s.sim.advance_clock_ms(ms("seconds", seconds)?));
    /// Replaces the fault configuration (CLI form; empty turns faults off).
    fn set_faults(spec: &str) -> () = answer(py, s.sim.set_faults_spec(spec));
    /// Answers every API request under `canned["path_prefix"]` with `canned` (`ctt_sim`'s
    /// `CannedResponse`: `path_prefix`, `status`, `content_type`, `body`).
    fn set_canned(canned: Arg<CannedResponse>) -> () = answer(py, s.sim.set_canned(canned.0));
    /// Removes the canned responses.
    fn clear_canned() -> () = answer(py, s.sim.clear_canned());
    /// Changes the lifetime of tokens issued from now on.
    fn set_token_ttl(seconds: f64) -> () =
        answer(py, s.sim.set_token_ttl_ms(ms("seconds", seconds)?));
    /// The redirect URL (with the flow's tag) a pending action item URL will post its callback
    /// to, without approving it; None when the URL is not pending.
    fn redirect_url_of(url: &str) -> Option<String> = answer(py, s.sim.redirect_url_of(url));
    /// Every API request answered so far (a list of dicts).
    fn requests() -> Json = record(py, s.sim.requests());
    /// Token requests that succeeded at `level` (`reseller` or `enterprise`).
    fn token_requests(level: &str) -> u64 = answer(py, s.sim.token_requests(level));
    /// Everything it holds (enterprises, consents, requests, token counts), a dict.
    fn snapshot() -> Json = record(py, s.sim.snapshot());
}
