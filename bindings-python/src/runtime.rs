//! The tokio runtime behind every call: core's binding runtime (`__bindings::runtime`, rebuilt in
//! a process forked after it started, see its docs), and the blocking bridge onto it.
//!
//! `pyo3_async_runtimes::tokio` keeps its runtime in a `OnceLock` that can never be replaced, so
//! a forked child (gunicorn `--preload`, a Celery prefork pool, `multiprocessing` with fork) would
//! inherit a runtime without threads and hang; core's runtime is tagged with its process id and
//! rebuilt there. Its slot's lock is only ever taken by a thread that holds the GIL (every entry
//! point calls [`py_runtime`] before it detaches), and `os.fork()` holds the GIL too, so the child
//! never inherits it locked.

use crate::error::to_py;
use ctt_onboard::__bindings::catch_panic;
use ctt_onboard::Result;
use pyo3::prelude::*;
use std::future::Future;
use std::sync::Arc;

/// Stops this process's runtime; the package registers it with `atexit`. Its worker threads must
/// be gone before the interpreter finalizes: a worker that drops a Python object (a finished
/// awaitable's result) while the final garbage collection runs crashes the process at exit. The
/// GIL is released while the workers stop, so any of them that needs it can finish.
#[pyfunction]
pub fn shutdown_runtime(py: Python<'_>) {
    py.detach(|| ctt_onboard::__bindings::shutdown_runtime(std::time::Duration::from_secs(2)));
}

/// The runtime, with a failure to build it as the `CttError` of its code.
pub fn py_runtime() -> PyResult<Arc<tokio::runtime::Runtime>> {
    ctt_onboard::__bindings::runtime().map_err(|e| Python::attach(|py| to_py(py, e)))
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
