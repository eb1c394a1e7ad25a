//! Values cross the boundary as Python objects converted generically from and to core's serde
//! values (never JSON text: a string crossing plus `json.loads` and a Python `from_dict` per item
//! cost more per call than the request itself against a local server).
//!
//! Arguments arrive as the dicts the Python layer makes ([`Arg`]: read with core's own
//! `Deserialize`), converted by hand ([`py_to_value`]) rather than by `depythonize`, which takes
//! any mapping or sequence and has no depth limit (a deeply nested argument would overflow the
//! native stack). Results leave as plain dicts and lists ([`Json`]: `pythonize`, measured as fast
//! as the hand-written converter it replaced) or as instances of the model class a generated
//! method names ([`result_to_py`]): `models.py` registers each flat class once (its wire names,
//! attribute names and defaults) and this module fills an instance's `__dict__` without running
//! Python code per field.

use crate::error::to_py;
use ctt_onboard::{Error, Result};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use pythonize::pythonize;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Reads a core value from the JSON value of a dict the Python layer sent.
pub fn from_value<T: DeserializeOwned>(what: &str, value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::invalid_input(format!("{what}: {e}")))
}

/// Serializes a core value (inside a core future: without the GIL).
pub fn to_value<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value)
        .map_err(|e| Error::decode(format!("could not serialize a result: {e}")))
}

/// A core value read from a Python argument by serde; a bad one is `InvalidInputError` naming it.
pub struct Arg<T>(pub T);

impl<'a, 'py, T: DeserializeOwned> FromPyObject<'a, 'py> for Arg<T> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let name = std::any::type_name::<T>().rsplit("::").next();
        from_value(name.unwrap_or_default(), py_to_value(&obj)?)
            .map(Arg)
            .map_err(|e| to_py(obj.py(), e))
    }
}

/// Nesting deeper than this is refused rather than risking the native stack (serde_json's own
/// parser stops at the same depth).
const MAX_DEPTH: usize = 128;

/// A Python argument as a JSON value, as `json.dumps` would write it; anything `json.dumps`
/// refuses is a `TypeError` here too.
pub fn py_to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_value_at(obj, 0)
}

fn to_value_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyTypeError::new_err("argument is nested too deeply"));
    }
    if obj.is_none() {
        Ok(Value::Null)
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Ok(Value::Bool(b.is_true()))
    } else if let Ok(s) = obj.cast::<PyString>() {
        Ok(Value::String(s.to_cow()?.into_owned()))
    } else if let Ok(i) = obj.cast::<PyInt>() {
        i.extract::<i64>()
            .map(Value::from)
            .or_else(|_| Ok(Value::from(i.extract::<u64>()?)))
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        let n = serde_json::Number::from_f64(f.value());
        n.map(Value::Number)
            .ok_or_else(|| PyTypeError::new_err("NaN and infinity are not JSON"))
    } else if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("keys must be str"))?;
            map.insert(key.to_cow()?.into_owned(), to_value_at(&v, depth + 1)?);
        }
        Ok(Value::Object(map))
    } else if let Ok(l) = obj.cast::<PyList>() {
        l.iter().map(|v| to_value_at(&v, depth + 1)).collect()
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        t.iter().map(|v| to_value_at(&v, depth + 1)).collect()
    } else {
        let name = obj.get_type().name()?;
        Err(PyTypeError::new_err(format!(
            "{name} is not JSON serializable"
        )))
    }
}

/// A plain JSON value on its way to Python, as dicts, lists and scalars.
pub struct Json(pub Value);

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.0)?)
    }
}

/// How to build one registered class without running Python code per field: `object.__new__`,
/// then its `__dict__` from the fields: (wire name, attribute name, immutable default), and
/// whether other wire keys go to `extra`. The class keeps it as `_native_spec_`.
#[pyclass(module = "ctt_onboard._native", frozen)]
pub struct ModelSpec {
    cls: Py<PyType>,
    new: Py<PyAny>,
    fields: Vec<(String, Py<PyString>, Py<PyAny>)>,
    keeps_extra: bool,
}

/// Registers how native results become instances of `cls` (see [`ModelSpec`]).
#[pyfunction]
pub fn register_model(
    py: Python<'_>,
    cls: Bound<'_, PyType>,
    fields: Vec<(String, Bound<'_, PyString>, Bound<'_, PyAny>)>,
    keeps_extra: bool,
) -> PyResult<()> {
    let builtins = py.import("builtins")?;
    let spec = ModelSpec {
        cls: cls.clone().unbind(),
        new: builtins.getattr("object")?.getattr("__new__")?.unbind(),
        fields: fields
            .into_iter()
            .map(|(w, a, d)| (w, a.unbind(), d.unbind()))
            .collect(),
        keeps_extra,
    };
    cls.setattr("_native_spec_", spec)
}

fn instance<'py>(py: Python<'py>, spec: &ModelSpec, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    let Value::Object(map) = value else {
        return Err(PyTypeError::new_err(
            "a model's wire form must be an object",
        ));
    };
    let attrs = PyDict::new(py);
    for (wire, attr, default) in &spec.fields {
        match map.get(wire) {
            Some(v) => attrs.set_item(attr.bind(py), pythonize(py, v)?)?,
            None => attrs.set_item(attr.bind(py), default.bind(py))?,
        }
    }
    if spec.keeps_extra {
        let extra = PyDict::new(py);
        for (k, v) in map
            .iter()
            .filter(|(k, _)| !spec.fields.iter().any(|f| &f.0 == *k))
        {
            extra.set_item(k, pythonize(py, v)?)?;
        }
        attrs.set_item(pyo3::intern!(py, "extra"), extra)?;
    }
    let obj = spec.new.bind(py).call1((spec.cls.bind(py),))?;
    obj.setattr(pyo3::intern!(py, "__dict__"), attrs)?;
    Ok(obj)
}

/// A call's result as Python objects: with `model` (a model class, from the call's `x-returns`)
/// an instance of it, a list of them, or None, built by its registered [`ModelSpec`] (or its
/// `from_dict` when it has none); without, plain dicts, lists and scalars.
pub fn result_to_py<'py>(
    py: Python<'py>,
    value: &Value,
    model: Option<&Bound<'py, PyType>>,
) -> PyResult<Bound<'py, PyAny>> {
    let Some(cls) = model else {
        return Ok(pythonize(py, value)?);
    };
    let spec = cls.getattr(pyo3::intern!(py, "_native_spec_")).ok();
    let spec = spec.as_ref().and_then(|s| s.cast::<ModelSpec>().ok());
    // A subclass inherits its parent's spec, which does not build it.
    let spec = spec.filter(|s| s.get().cls.bind(py).is(cls));
    let one = |v: &Value| match &spec {
        Some(s) => instance(py, s.get(), v),
        None => cls.call_method1(pyo3::intern!(py, "from_dict"), (pythonize(py, v)?,)),
    };
    match value {
        Value::Null => Ok(py.None().into_bound(py)),
        Value::Array(items) => {
            let built = items.iter().map(one).collect::<PyResult<Vec<_>>>()?;
            Ok(PyList::new(py, built)?.into_any())
        }
        v => one(v),
    }
}

/// The tenant id a callback payload (its wire-named dict) names: the core's rule.
#[pyfunction]
pub fn callback_tenant_id(payload: Arg<ctt_onboard::CallbackPayload>) -> Option<String> {
    payload.0.tenant_id().map(str::to_owned)
}

/// The tenant id of an MSAL result (its wire-named dict): the core's rule.
#[pyfunction]
pub fn auth_tenant_id(auth: Arg<ctt_onboard::AuthenticationResult>) -> Option<String> {
    auth.0.tenant_id().map(str::to_owned)
}

/// Checks a new enterprise (its wire-named dict) the way `create_enterprise` does before
/// sending anything.
#[pyfunction]
pub fn validate_enterprise(py: Python<'_>, enterprise: &Bound<'_, PyAny>) -> PyResult<()> {
    let value = py_to_value(enterprise)?;
    let checked =
        from_value::<ctt_onboard::NewEnterprise>("enterprise", value).and_then(|e| e.validate());
    checked.map_err(|e| to_py(py, e))
}
