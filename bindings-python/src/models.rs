//! Models cross the boundary as Python objects, never as JSON text: a JSON string crossing plus
//! `json.loads`/`json.dumps` plus a Python `from_dict` per item cost more per call than the
//! request itself against a local server, and `json` (with `re`) was a sixth of the package's
//! import time.
//!
//! Arguments arrive as the wire-named dicts `to_dict()` makes ([`py_to_value`]) and are read with
//! serde, exactly as the core deserializes them. Results leave as the Python layer's own model
//! instances, built here from the core's serde output: the Python layer registers each result
//! class once (`register_model`: its field names, wire names and defaults) and this module fills
//! the instance's `__dict__` without running any Python code per field ([`Wire`]). Flow results
//! leave as plain dicts and lists ([`Json`]).

use crate::error::invalid_input;
use ctt_onboard::{ActionType, Result, Service};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// Reads a core model from the value of a wire-named dict the Python layer sent.
pub fn from_value<T: DeserializeOwned>(what: &str, value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| invalid_input(what, e))
}

/// Writes a core model as JSON text (the simulator's answers).
pub fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| ctt_onboard::Error::decode(format!("could not serialize a result: {e}")))
}

/// Nesting deeper than this is refused rather than risking the native stack (serde_json's own
/// parser stops at the same depth).
const MAX_DEPTH: usize = 128;

/// A Python argument (dicts with string keys, lists, tuples, strings, ints, floats, bools,
/// None) as a JSON value, as `json.dumps` would write it; anything else is a `TypeError`, as
/// `json.dumps` raises.
pub fn py_to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_value_at(obj, 0)
}

fn to_value_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyTypeError::new_err("argument is nested too deeply"));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        return match i.extract::<i64>() {
            Ok(v) => Ok(Value::from(v)),
            Err(_) => Ok(Value::from(i.extract::<u64>()?)),
        };
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyTypeError::new_err("NaN and infinity are not valid JSON"));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("dict keys must be strings"))?
                .to_cow()?
                .into_owned();
            map.insert(key, to_value_at(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l.iter().map(|v| to_value_at(&v, depth + 1)).collect();
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t.iter().map(|v| to_value_at(&v, depth + 1)).collect();
    }
    Err(PyTypeError::new_err(format!(
        "{} is not JSON serializable",
        obj.get_type().name()?
    )))
}

/// A plain JSON value on its way to Python, as dicts, lists and scalars.
pub struct Json(pub Value);

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.0)
    }
}

/// Serializes a core result for [`Wire`]; runs inside the core future, so without the GIL.
pub fn to_value<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value)
        .map_err(|e| ctt_onboard::Error::decode(format!("could not serialize a result: {e}")))
}

/// How to build one registered class: `object.__new__`, then its `__dict__` from the fields.
struct Spec {
    cls: Py<PyType>,
    new: Py<PyAny>,
    /// (wire name, attribute name, default when the wire lacks it); defaults are immutable.
    fields: Vec<(String, Py<PyString>, Py<PyAny>)>,
    /// Whether unknown wire keys go to the `extra` attribute.
    keeps_extra: bool,
}

/// Only touched with the GIL held (registration and conversion both need it), so a fork, which
/// also holds the GIL, never copies it locked.
static SPECS: Mutex<Vec<(String, Arc<Spec>)>> = Mutex::new(Vec::new());

fn spec(name: &str) -> PyResult<Arc<Spec>> {
    let specs = SPECS.lock().unwrap_or_else(|p| p.into_inner());
    specs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, s)| s.clone())
        .ok_or_else(|| {
            PyRuntimeError::new_err(format!("ctt_onboard.models has not registered {name}"))
        })
}

/// Registers the class native results named `name` (the class's own name) become: `fields` is (wire name, attribute
/// name, default) per field; with `keeps_extra` the other wire keys go to `extra`. The defaults
/// are shared between instances, so they must be immutable.
#[pyfunction]
pub fn register_model(
    py: Python<'_>,
    name: &str,
    cls: Bound<'_, PyType>,
    fields: Vec<(String, Bound<'_, PyString>, Bound<'_, PyAny>)>,
    keeps_extra: bool,
) -> PyResult<()> {
    let new = py
        .import("builtins")?
        .getattr("object")?
        .getattr("__new__")?
        .unbind();
    let spec = Spec {
        cls: cls.unbind(),
        new,
        fields: fields
            .into_iter()
            .map(|(wire, attr, default)| (wire, attr.unbind(), default.unbind()))
            .collect(),
        keeps_extra,
    };
    let mut specs = SPECS.lock().unwrap_or_else(|p| p.into_inner());
    specs.retain(|(k, _)| k != name);
    specs.push((name.to_owned(), Arc::new(spec)));
    Ok(())
}

/// A JSON value as the Python object `json.loads` would give (integers beyond 64 bits are already
/// floats in `serde_json`, as they were in the JSON text the core wrote).
pub fn value_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => pyo3::types::PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(value_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, value_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

fn instance<'py>(py: Python<'py>, spec: &Spec, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    let Value::Object(map) = value else {
        return Err(PyTypeError::new_err(
            "a model's wire form must be an object",
        ));
    };
    let attrs = PyDict::new(py);
    for (wire, attr, default) in &spec.fields {
        match map.get(wire) {
            Some(v) => attrs.set_item(attr.bind(py), value_to_py(py, v)?)?,
            None => attrs.set_item(attr.bind(py), default.bind(py))?,
        }
    }
    if spec.keeps_extra {
        let extra = PyDict::new(py);
        for (k, v) in map {
            if !spec.fields.iter().any(|(wire, _, _)| wire == k) {
                extra.set_item(k, value_to_py(py, v)?)?;
            }
        }
        attrs.set_item(pyo3::intern!(py, "extra"), extra)?;
    }
    let obj = spec.new.bind(py).call1((spec.cls.bind(py),))?;
    obj.setattr(pyo3::intern!(py, "__dict__"), attrs)?;
    Ok(obj)
}

/// How many models a result holds.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// Exactly one.
    One,
    /// A list of them.
    List,
    /// One, or `None` for JSON `null`.
    Optional,
}

/// A core result on its way to Python: serialized without the GIL inside the core future, turned
/// into registered model instances once the GIL is held.
pub struct Wire {
    /// The registered class's name.
    pub kind: &'static str,
    pub shape: Shape,
    pub value: Value,
}

impl Wire {
    pub fn new<T: Serialize>(kind: &'static str, shape: Shape, value: &T) -> Result<Self> {
        Ok(Self {
            kind,
            shape,
            value: to_value(value)?,
        })
    }
}

impl<'py> IntoPyObject<'py> for Wire {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let spec = spec(self.kind)?;
        match (self.shape, &self.value) {
            (Shape::Optional, Value::Null) => Ok(py.None().into_bound(py)),
            (Shape::One | Shape::Optional, v) => instance(py, &spec, v),
            (Shape::List, Value::Array(items)) => {
                let built = items
                    .iter()
                    .map(|v| instance(py, &spec, v))
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(PyList::new(py, built)?.into_any())
            }
            (Shape::List, _) => Err(PyTypeError::new_err("expected a list of models")),
        }
    }
}

/// Builds registered model instances from wire-named JSON objects, through the same path native
/// results take: lets the tests compare it with `from_dict`.
#[pyfunction]
pub fn build_models<'py>(
    py: Python<'py>,
    name: &str,
    items: Vec<String>,
) -> PyResult<Bound<'py, PyTuple>> {
    let spec = spec(name)?;
    let built = items
        .iter()
        .map(|text| {
            let value: Value = serde_json::from_str(text)
                .map_err(|e| crate::error::to_py(py, invalid_input("item", e)))?;
            instance(py, &spec, &value)
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, built)
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

/// The tenant id a callback payload (its wire-named dict) names: the core's rule (the access
/// token's tenant, else the wrapper's).
#[pyfunction]
pub fn callback_tenant_id(py: Python<'_>, payload: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let value = py_to_value(payload)?;
    let payload = from_value::<ctt_onboard::CallbackPayload>("payload", value)
        .map_err(|e| crate::error::to_py(py, e))?;
    Ok(payload.tenant_id().map(str::to_owned))
}

/// Checks a new enterprise (its wire-named dict) the way `create_enterprise` does before
/// sending anything.
#[pyfunction]
pub fn validate_enterprise(py: Python<'_>, enterprise: &Bound<'_, PyAny>) -> PyResult<()> {
    let value = py_to_value(enterprise)?;
    from_value::<ctt_onboard::NewEnterprise>("enterprise", value)
        .and_then(|e| e.validate())
        .map_err(|e| crate::error::to_py(py, e))
}
