//! The tokio runtime behind every call, rebuilt in a process forked after it started.
//!
//! reqwest needs a tokio reactor, so the binding drives the core's futures on a multi-threaded
//! tokio runtime. `pyo3_async_runtimes::tokio` keeps its runtime in a `OnceLock` that can never be
//! replaced. That breaks `fork()`: only the forking thread survives in the child, so a child of a
//! gunicorn master, a Celery prefork pool or `multiprocessing` (fork start method) inherits a
//! runtime whose worker threads do not exist, and every call it makes hangs forever.
//!
//! So this module keeps its own runtime, tagged with the process id that built it. Every use
//! compares the tag with the current process id; in a forked child they differ, and a fresh
//! runtime is built there. The parent's runtime is never dropped in the child (dropping would
//! join threads that do not exist there); it is leaked, which costs the child a little memory
//! once. [`PyTokio`] plugs this runtime into `pyo3_async_runtimes::generic`, so awaitables and
//! blocking calls share it.
//!
//! The slot's lock is only ever taken by a thread that holds the GIL: every entry point calls
//! [`runtime`] before it detaches, and tasks that `pyo3_async_runtimes` spawns from inside the
//! runtime use the runtime they run on ([`tokio::runtime::Handle::try_current`]) instead of the
//! slot. `os.fork()` also holds the GIL, so no other thread can hold the lock at the moment of a
//! fork, and the child never inherits it locked.

use crate::error::to_py;
use ctt_onboard::__bindings::catch_panic;
use ctt_onboard::{Error, Result};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, JoinError, Runtime};
use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// The runtime of the current process and the id of the process that built it.
static SLOT: Mutex<Option<(u32, Arc<tokio::runtime::Runtime>)>> = Mutex::new(None);

/// The runtime for this process, built on first use and again in a forked child.
pub fn runtime() -> std::io::Result<Arc<tokio::runtime::Runtime>> {
    let pid = std::process::id();
    let mut slot = SLOT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((owner, rt)) = slot.as_ref()
        && *owner == pid
    {
        return Ok(rt.clone());
    }
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ctt-onboard")
            .enable_all()
            .build()?,
    );
    if let Some((_, inherited)) = slot.replace((pid, rt.clone())) {
        // Inherited from the parent across fork(): its threads are gone, so it must not be dropped.
        std::mem::forget(inherited);
    }
    Ok(rt)
}

/// Stops this process's runtime; the package registers it with `atexit`. Its worker threads must
/// be gone before the interpreter finalizes: a worker that drops a Python object (a finished
/// awaitable's result) while the final garbage collection runs crashes the process at exit. The
/// GIL is released while the workers stop, so any of them that needs it can finish. A runtime
/// still shared with a call in flight on another thread is left running rather than torn down
/// under it; a later call builds a new one.
#[pyo3::pyfunction]
pub fn shutdown_runtime(py: pyo3::Python<'_>) {
    let pid = std::process::id();
    let taken = {
        let mut slot = SLOT.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some((owner, rt)) if owner == pid => Some(rt),
            Some(inherited) => {
                // From the parent across fork(): its threads are gone, so it must not be dropped.
                std::mem::forget(inherited);
                None
            }
            None => None,
        }
    };
    if let Some(rt) = taken {
        py.detach(move || match Arc::try_unwrap(rt) {
            Ok(rt) => rt.shutdown_timeout(std::time::Duration::from_secs(2)),
            Err(shared) => std::mem::forget(shared),
        });
    }
}

/// The runtime, with a failure to build it as a Python `RuntimeError`.
pub fn py_runtime() -> pyo3::PyResult<Arc<tokio::runtime::Runtime>> {
    runtime().map_err(|e| {
        pyo3::exceptions::PyRuntimeError::new_err(format!("could not start the tokio runtime: {e}"))
    })
}

/// `pyo3_async_runtimes`' view of [`runtime`].
pub struct PyTokio;

/// A join error of a task spawned on [`PyTokio`].
pub struct TaskJoinError(tokio::task::JoinError);

impl JoinError for TaskJoinError {
    fn is_panic(&self) -> bool {
        self.0.is_panic()
    }

    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.0.into_panic()
    }
}

/// The handle of a task spawned on [`PyTokio`]; `None` when no runtime could be started.
pub struct TaskHandle(Option<tokio::task::JoinHandle<()>>);

impl Future for TaskHandle {
    type Output = Result<(), TaskJoinError>;

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.0.as_mut() {
            Some(handle) => Pin::new(handle).poll(cx).map_err(TaskJoinError),
            None => std::task::Poll::Ready(Ok(())),
        }
    }
}

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

impl Runtime for PyTokio {
    type JoinError = TaskJoinError;
    type JoinHandle = TaskHandle;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if let Ok(current) = tokio::runtime::Handle::try_current() {
            return TaskHandle(Some(current.spawn(fut)));
        }
        match runtime() {
            Ok(rt) => TaskHandle(Some(rt.spawn(fut))),
            // Unreachable in practice: `future_into_py` builds the runtime first and raises when it
            // cannot. Logged rather than panicking across the FFI boundary.
            Err(e) => {
                tracing::error!(error = %e, "could not start the tokio runtime");
                TaskHandle(None)
            }
        }
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        if let Ok(current) = tokio::runtime::Handle::try_current() {
            return TaskHandle(Some(current.spawn_blocking(f)));
        }
        match runtime() {
            Ok(rt) => TaskHandle(Some(rt.spawn_blocking(f))),
            Err(e) => {
                tracing::error!(error = %e, "could not start the tokio runtime");
                TaskHandle(None)
            }
        }
    }
}

impl ContextExt for PyTokio {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|c| c.get().cloned())
            .unwrap_or_default()
    }
}

/// Runs a core future to completion with the GIL released; converts its error afterwards. A
/// panic becomes an `api` error, never an unwind into Python.
pub fn block_on<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = Result<T>> + Send,
) -> PyResult<T> {
    let rt = py_runtime()?;
    py.detach(|| rt.block_on(catch_panic(fut)))
        .map_err(|e| to_py(py, e))
}

/// Hands a core future to asyncio as an awaitable on [`runtime`] (the future must not touch
/// Python); a panic becomes an `api` error, and `on_error` converts an error once the future has
/// finished, on a blocking thread (never on a runtime worker).
pub fn awaitable<'py, T, E>(
    py: Python<'py>,
    fut: impl Future<Output = Result<T>> + Send + 'static,
    on_error: E,
) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
    E: FnOnce(Python<'_>, Error) -> PyErr + Send + 'static,
{
    py_runtime()?;
    pyo3_async_runtimes::generic::future_into_py::<PyTokio, _, T>(py, async move {
        let error = match catch_panic(fut).await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let convert = move || Python::attach(|py| on_error(py, error));
        let joined = tokio::task::spawn_blocking(convert).await;
        Err(joined.unwrap_or_else(|join| PyRuntimeError::new_err(join.to_string())))
    })
}
