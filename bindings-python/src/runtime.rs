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
//! once. The slot's lock is only ever taken by a thread that holds the GIL (every entry point
//! calls [`runtime`] before it detaches), and `os.fork()` holds the GIL too, so the child never
//! inherits it locked.

use crate::error::to_py;
use ctt_onboard::__bindings::catch_panic;
use ctt_onboard::Result;
use pyo3::prelude::*;
use std::future::Future;
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
#[pyfunction]
pub fn shutdown_runtime(py: Python<'_>) {
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
pub fn py_runtime() -> PyResult<Arc<tokio::runtime::Runtime>> {
    runtime().map_err(|e| {
        pyo3::exceptions::PyRuntimeError::new_err(format!("could not start the tokio runtime: {e}"))
    })
}

/// Runs a core future to completion on this thread with the GIL released, inside the runtime's
/// context (its workers drive the I/O) but not as `Runtime::block_on`, so that Python code the
/// future calls back on this thread (a checkpoint using this thread's `sqlite3` connection, or
/// making a blocking `Client` call: a `block_on` of its own) works there. A panic becomes an
/// `api` error, never an unwind into Python.
pub fn block_on<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = Result<T>> + Send,
) -> PyResult<T> {
    let rt = py_runtime()?;
    py.detach(|| {
        let _context = rt.enter();
        park_on(catch_panic(fut))
    })
    .map_err(|e| to_py(py, e))
}

/// Wakes the thread that polls a [`park_on`] future.
struct Unpark(std::thread::Thread);

impl std::task::Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `fut` on this thread, parking it between wake-ups (nests: a wake-up meant for an outer
/// future only costs it a poll).
fn park_on<F: Future>(fut: F) -> F::Output {
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}
