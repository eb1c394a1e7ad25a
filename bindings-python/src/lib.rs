//! ctt_onboard._native: the pyo3 layer of the Python package `ctt_onboard`.
//!
//! This crate only converts arguments, maps errors and hands the core's futures to asyncio; the
//! onboarding logic lives in the `ctt-onboard` crate, and the Python sugar (typed models, the
//! `Client` / `AsyncClient` facades, context managers, reprs) in `python/ctt_onboard/`.

/// The `#[pymethods]` of `$ty`: the `extra` methods as written, then one declaration per method,
/// `fn name(args) -> T = body;`, whose body (a `PyResult<T>`) sees `&self` as `$s` and the GIL
/// token as `$py`.
macro_rules! methods {
    ($ty:ty, |$s:ident, $py:ident| { $($extra:tt)* }
     $($(#[$meta:meta])* fn $name:ident($($arg:ident: $aty:ty),*) -> $out:ty = $body:expr;)*) => {
        #[pymethods]
        impl $ty {
            $($extra)*
            $(
                $(#[$meta])*
                #[allow(unused_variables)]
                fn $name(&self, $py: Python<'_>, $($arg: $aty),*) -> PyResult<$out> {
                    let $s = self;
                    $body
                }
            )*
        }
    };
}

mod client;
mod completion;
mod error;
mod logging;
mod models;
mod onboarding;
mod runtime;
mod simulator;

use pyo3::prelude::*;

/// The native module; the Python package re-exports what users need.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install_default();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<client::NativeClient>()?;
    m.add_class::<client::ManualClock>()?;
    m.add_class::<completion::Completions>()?;
    m.add_class::<models::ModelSpec>()?;
    m.add_class::<simulator::NativeSimulator>()?;
    m.add_class::<onboarding::NativeOnboarding>()?;
    m.add_class::<onboarding::NativeCallbackKeys>()?;
    m.add_function(wrap_pyfunction!(onboarding::verify_callback, m)?)?;
    m.add_function(wrap_pyfunction!(onboarding::claimed_flow_id, m)?)?;
    m.add_function(wrap_pyfunction!(error::is_transient, m)?)?;
    m.add_function(wrap_pyfunction!(models::validate_enterprise, m)?)?;
    m.add_function(wrap_pyfunction!(models::callback_tenant_id, m)?)?;
    m.add_function(wrap_pyfunction!(models::auth_tenant_id, m)?)?;
    m.add_function(wrap_pyfunction!(logging::drain_logs, m)?)?;
    m.add_function(wrap_pyfunction!(logging::logs_pending, m)?)?;
    m.add_function(wrap_pyfunction!(models::register_model, m)?)?;
    m.add_function(wrap_pyfunction!(logging::set_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::shutdown_runtime, m)?)?;
    Ok(())
}
