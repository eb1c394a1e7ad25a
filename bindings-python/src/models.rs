//! Models cross the boundary as JSON text with the wire's names (serde, exactly as the core
//! serializes them); the Python layer turns it into typed classes with snake_case attributes.

use crate::error::invalid_input;
use ctt_onboard::{ActionType, Result, Service};
use pyo3::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Reads a core model from the JSON the Python layer sent.
pub fn from_json<T: DeserializeOwned>(what: &str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| invalid_input(what, e))
}

/// Writes a core model as JSON for the Python layer.
pub fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| ctt_onboard::Error::decode(format!("could not serialize a result: {e}")))
}

/// The service names this version of the core knows, in documentation order.
#[pyfunction]
pub fn known_services() -> Vec<String> {
    Service::KNOWN
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect()
}

/// The action types this version of the core knows, in documentation order.
#[pyfunction]
pub fn known_action_types() -> Vec<String> {
    ActionType::KNOWN
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect()
}

/// Every error code, in documentation order, with its Python class name.
#[pyfunction]
pub fn error_codes() -> Vec<(String, String)> {
    ctt_onboard::ErrorCode::ALL
        .iter()
        .map(|c| {
            (
                c.as_str().to_owned(),
                crate::error::class_name(*c).to_owned(),
            )
        })
        .collect()
}

/// Checks a new enterprise the way `create_enterprise` does before sending anything.
#[pyfunction]
pub fn validate_enterprise(py: Python<'_>, enterprise_json: &str) -> PyResult<()> {
    from_json::<ctt_onboard::NewEnterprise>("enterprise", enterprise_json)
        .and_then(|e| e.validate())
        .map_err(|e| crate::error::to_py(py, e))
}
