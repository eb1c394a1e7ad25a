//! The tokio runtime a binding drives core's futures on when its host brings none (Python and
//! Kotlin; napi-rs gives Node one of its own), written once for both, and reached only through
//! [`crate::__bindings`].
//!
//! reqwest needs a tokio reactor, so such a binding keeps a multi-threaded runtime for the
//! process, started by the first call. A global runtime does not survive `fork()`: only the
//! forking thread lives on in the child, so a child of a gunicorn master, a Celery prefork pool or
//! `multiprocessing` (fork start method) would inherit a runtime whose worker threads do not
//! exist, and every call it made would hang. So the runtime is tagged with the id of the process
//! that built it; in a forked child the ids differ and a fresh runtime is built. The parent's is
//! never dropped there (dropping would join threads that do not exist); it is leaked, which costs
//! the child a little memory once.
//!
//! The slot's lock is held only to clone or swap an `Arc`. A host that can fork must make sure no
//! thread holds it across `fork()` (Python: only threads holding the GIL take it, and `os.fork()`
//! holds the GIL too).

use crate::error::{Error, ErrorCode, Result};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::runtime::Runtime;

/// The runtime's worker threads. The calls are IO-bound, so one would do; two keep a slow host
/// callback on one of them (a log sink, a checkpoint) from stalling every call.
const WORKER_THREADS: usize = 2;

/// The runtime of the current process and the id of the process that built it.
static SLOT: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime for this process: built on first use, and again in a forked child. A failure to
/// start it is an `api` error (the next call tries again).
pub fn runtime() -> Result<Arc<Runtime>> {
    let pid = std::process::id();
    let mut slot = SLOT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((owner, rt)) = slot.as_ref()
        && *owner == pid
    {
        return Ok(rt.clone());
    }
    let built = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name("ctt-onboard")
        .enable_all()
        .build()
        .map_err(|e| {
            tracing::error!(error = %e, "could not start the tokio runtime");
            Error::new(
                ErrorCode::Api,
                format!("could not start the tokio runtime: {e}"),
            )
        })?;
    let rt = Arc::new(built);
    if let Some((_, inherited)) = slot.replace((pid, rt.clone())) {
        // Inherited across fork(): its threads are gone, so it must not be dropped.
        std::mem::forget(inherited);
    }
    Ok(rt)
}

/// Stops this process's runtime, waiting up to `timeout` for its workers (a host whose exit must
/// not race them: Python's interpreter finalization). A runtime still shared with a call in
/// flight is left running rather than torn down under it; the next call builds a new one. Call
/// it where the host's own lock (the GIL) is released, so a worker that needs it can finish.
pub fn shutdown_runtime(timeout: Duration) {
    let pid = std::process::id();
    let taken = match SLOT.lock().unwrap_or_else(PoisonError::into_inner).take() {
        Some((owner, rt)) if owner == pid => Some(rt),
        Some(inherited) => {
            // Inherited across fork(): its threads are gone, so it must not be dropped.
            std::mem::forget(inherited);
            None
        }
        None => None,
    };
    if let Some(rt) = taken {
        match Arc::try_unwrap(rt) {
            Ok(rt) => rt.shutdown_timeout(timeout),
            Err(shared) => std::mem::forget(shared),
        }
    }
}

/// A call spawned on [`runtime`] whose future is dropped before this handle's drop returns: a
/// host that cancels a call (a cancelled coroutine, an asyncio task) gets back what the call held
/// (a flow's advancing mark, a connection) when its cancel completes, not some time later.
pub struct OwnedTask<T>(tokio::task::JoinHandle<T>);

/// Spawns `fut` on [`runtime`] as an [`OwnedTask`].
pub fn spawn_owned<T: Send + 'static>(
    fut: impl Future<Output = T> + Send + 'static,
) -> Result<OwnedTask<T>> {
    Ok(OwnedTask(runtime()?.spawn(fut)))
}

impl<T> OwnedTask<T> {
    /// Aborts the call and waits until a worker has dropped it (at most a poll in progress).
    /// Call it on a host thread, never on one of the runtime's workers.
    pub fn cancel(mut self) {
        self.abort_and_wait();
    }

    fn abort_and_wait(&mut self) {
        if !self.0.is_finished() {
            self.0.abort();
            let _ = futures::executor::block_on(&mut self.0);
        }
    }
}

impl<T> Future for OwnedTask<T> {
    /// The call's output; a `JoinError` (the call panicked or was aborted) is an `api` error.
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.map_err(|e| {
                Error::new(
                    ErrorCode::Api,
                    format!("internal error in ctt-onboard: the call's task failed: {e}"),
                )
            })
        })
    }
}

impl<T> Drop for OwnedTask<T> {
    fn drop(&mut self) {
        self.abort_and_wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn one_runtime_per_process_with_named_threads() {
        let (a, b) = (runtime().expect("runtime"), runtime().expect("runtime"));
        assert!(Arc::ptr_eq(&a, &b), "the process has one runtime");
        let name = a.block_on(async {
            let task = spawn_owned(async { std::thread::current().name().map(str::to_owned) });
            task.expect("spawned").await
        });
        assert_eq!(name.ok().flatten().as_deref(), Some("ctt-onboard"));
    }

    #[test]
    fn dropping_an_owned_task_drops_what_it_holds_before_the_drop_returns() {
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        let held = Arc::clone(&lock);
        let (started, wait_started) = std::sync::mpsc::channel();
        let mut task = Box::pin(
            spawn_owned(async move {
                let _guard = held.lock().await;
                let _ = started.send(());
                std::future::pending::<()>().await
            })
            .expect("spawned"),
        );
        let mut cx = Context::from_waker(Waker::noop());
        assert!(task.as_mut().poll(&mut cx).is_pending());
        wait_started
            .recv_timeout(Duration::from_secs(10))
            .expect("the call started");
        assert!(lock.try_lock().is_err(), "the call holds the lock");
        drop(task);
        assert!(lock.try_lock().is_ok(), "dropping released the lock");
    }

    #[test]
    fn a_cancelled_task_is_dropped_when_cancel_returns() {
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        struct Flag(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                // Slow on purpose: a cancel that did not wait would return before this ends.
                std::thread::sleep(Duration::from_millis(50));
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let flag = Flag(dropped.clone());
        let (started, wait_started) = std::sync::mpsc::channel();
        let task = spawn_owned(async move {
            let _flag = flag;
            let _ = started.send(());
            std::future::pending::<()>().await
        })
        .expect("spawned");
        wait_started
            .recv_timeout(Duration::from_secs(10))
            .expect("the call started");
        task.cancel();
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
    }
}
