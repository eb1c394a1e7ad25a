//! `Completions`: hands the results of awaitable calls (every `AsyncClient` method and the
//! flow's `advance_async`) to an asyncio loop without ever taking the GIL on a runtime thread.
//!
//! `pyo3_async_runtimes::future_into_py` finishes each call with a hop to a blocking thread that
//! takes the GIL and calls `loop.call_soon_threadsafe`: two thread wake-ups and a GIL handoff per
//! call, which made an `AsyncClient` call cost twice a blocking one against a local server.
//! Here a finished call only queues its result and writes one byte to a socket the loop watches
//! (`loop.add_reader`); the loop's own thread, which holds the GIL anyway, then converts the
//! results and resolves the futures ([`Completions::drain`]).
//!
//! The asyncio futures (and the model class each result becomes) stay in a table that only GIL
//! holders touch, keyed by a call number; the runtime threads see only call numbers and core's
//! serde results, so they never own a Python object.

use crate::error::to_py;
use crate::models::result_to_py;
use crate::runtime::py_runtime;
use ctt_onboard::__bindings::catch_panic;
use ctt_onboard::Result;
use pyo3::prelude::*;
use pyo3::types::PyType;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// What the runtime threads share with the loop: finished calls and the socket that wakes it.
struct Shared {
    done: Mutex<Vec<(u64, Result<Value>)>>,
    wake: UnixStream,
}

impl Shared {
    fn finish(&self, call: u64, result: Result<Value>) {
        lock(&self.done).push((call, result));
        // A full socket already holds a wake-up the loop has not read yet.
        let _ = (&self.wake).write(&[1]);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A call in flight: the asyncio future to resolve, the model class of its result (see
/// [`result_to_py`]) and the task to abort on cancellation.
struct Pending {
    future: Py<PyAny>,
    model: Option<Py<PyType>>,
    task: tokio::task::JoinHandle<()>,
}

/// One asyncio loop's completion queue; the Python layer makes one per loop and registers
/// `drain` with `loop.add_reader(fileno(), drain)`.
#[pyclass(module = "ctt_onboard._native", frozen)]
pub struct Completions {
    shared: Arc<Shared>,
    readable: UnixStream,
    /// Only touched with the GIL held: by `start` and `drain`/`cancel`, all on Python threads.
    pending: Mutex<HashMap<u64, Pending>>,
    next: AtomicU64,
}

#[pymethods]
impl Completions {
    /// A queue with its wake-up socket.
    #[new]
    fn new() -> PyResult<Self> {
        let (readable, wake) = UnixStream::pair()?;
        readable.set_nonblocking(true)?;
        wake.set_nonblocking(true)?;
        Ok(Self {
            shared: Arc::new(Shared {
                done: Mutex::new(Vec::new()),
                wake,
            }),
            readable,
            pending: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        })
    }

    /// The file descriptor that becomes readable when calls have finished.
    fn fileno(&self) -> i32 {
        self.readable.as_raw_fd()
    }

    /// Resolves the futures of every finished call (run by the loop when `fileno` is readable).
    /// A future cancelled meanwhile is left alone.
    fn drain(&self, py: Python<'_>) {
        let mut buf = [0u8; 64];
        while let Ok(n) = (&self.readable).read(&mut buf) {
            if n < buf.len() {
                break;
            }
        }
        let done = std::mem::take(&mut *lock(&self.shared.done));
        for (call, result) in done {
            let Some(pending) = lock(&self.pending).remove(&call) else {
                continue;
            };
            let future = pending.future.bind(py);
            if future
                .call_method0(pyo3::intern!(py, "cancelled"))
                .and_then(|c| c.is_truthy())
                .unwrap_or(true)
            {
                continue;
            }
            let model = pending.model.as_ref().map(|m| m.bind(py));
            let result = result.map_err(|e| to_py(py, e));
            let _ = match result.and_then(|v| result_to_py(py, &v, model)) {
                Ok(value) => future.call_method1(pyo3::intern!(py, "set_result"), (value,)),
                Err(err) => {
                    future.call_method1(pyo3::intern!(py, "set_exception"), (err.into_value(py),))
                }
            };
        }
    }

    /// Aborts call `call` (its awaiting task was cancelled) and waits, without the GIL, until its
    /// core future is dropped (so an advance it ran no longer counts as running); a finished
    /// call is not affected.
    fn cancel(&self, py: Python<'_>, call: u64) -> PyResult<()> {
        let Some(pending) = lock(&self.pending).remove(&call) else {
            return Ok(());
        };
        pending.task.abort();
        let rt = py_runtime()?;
        let wait = async { tokio::time::timeout(Duration::from_secs(5), pending.task).await };
        py.detach(|| drop(rt.block_on(wait)));
        Ok(())
    }
}

impl Completions {
    /// Runs `fut` on the runtime; its result, as `model` instances when given, resolves
    /// `future` through [`Completions::drain`]. Returns the call number for `cancel`.
    pub fn start(
        &self,
        py: Python<'_>,
        future: Py<PyAny>,
        model: Option<Py<PyType>>,
        fut: impl Future<Output = Result<Value>> + Send + 'static,
    ) -> PyResult<u64> {
        let rt = py_runtime()?;
        let call = self.next.fetch_add(1, Ordering::Relaxed);
        let shared = self.shared.clone();
        let task = rt.spawn(async move { shared.finish(call, catch_panic(fut).await) });
        // Registering after the spawn is safe: the call cannot be drained before this returns,
        // since draining needs the GIL, which `py` proves this thread holds.
        let _ = py;
        let pending = Pending {
            future,
            model,
            task,
        };
        lock(&self.pending).insert(call, pending);
        Ok(call)
    }
}
