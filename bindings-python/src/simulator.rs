//! `ctt_onboard._native.NativeSimulator`: `ctt_sim`'s [`SimHandle`], for
//! `ctt_onboard.testing.Simulator`. Options and every control call cross as its serde values
//! (dicts: [`SimCall`] names the call); a [`SimError`] becomes the `CttError` of its code (a
//! closed simulator is `FlowStateError`).

use crate::error::to_py;
use crate::models::{Arg, Json, py_to_value};
use crate::runtime::block_on;
use ctt_onboard::{Error, ErrorCode};
use ctt_sim::{SimCall, SimError, SimHandle, SimOptions};
use pyo3::prelude::*;

/// A running simulator on 127.0.0.1.
#[pyclass(module = "ctt_onboard._native", frozen)]
pub struct NativeSimulator {
    sim: SimHandle,
}

/// A simulator answer on its way to Python: the value, or the error of its code.
fn answer<T>(py: Python<'_>, result: Result<T, SimError>) -> PyResult<T> {
    result.map_err(|e| {
        let code = ErrorCode::parse(e.code()).unwrap_or(ErrorCode::Api);
        to_py(py, Error::new(code, e.message))
    })
}

#[pymethods]
impl NativeSimulator {
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

    /// Performs `call` (`ctt_sim`'s `SimCall`: a dict with the call's name under `"call"` and its
    /// camelCase arguments) with the GIL released; its result as plain dicts, lists and scalars.
    fn call(&self, py: Python<'_>, call: &Bound<'_, PyAny>) -> PyResult<Json> {
        let call = answer(py, SimCall::from_value(py_to_value(call)?))?;
        let sim = self.sim.clone();
        let value = block_on(py, async move { Ok(sim.call(call).await) })?;
        answer(py, value).map(Json)
    }

    /// Stops the server (once no call on it is in flight). Closing twice is harmless.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.sim.close());
    }
}
