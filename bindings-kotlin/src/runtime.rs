//! The one macro every export goes through ([`export!`]): each body runs under core's panic
//! mapping, so a panic reaches Kotlin as `CttException.Api` (not uniffi's `InternalException`),
//! and each async one as a task on the binding's own tokio runtime.
//!
//! Tokio: reqwest needs a tokio reactor while its futures are polled. uniffi's `async_runtime =
//! "tokio"` polls on Kotlin's coroutine threads while another thread runs the reactor, so a call
//! goes back and forth between the two (a JNA callback and a `poll` downcall per wake-up). So
//! [`guard_async`] spawns the whole call onto [`runtime`], beside the reactor, and uniffi's future
//! only awaits the task: one continuation callback per call, from one of the runtime's few
//! threads, which Kotlin keeps attached to the JVM (`CallbackThreads.kt`). Measured against
//! uniffi's tokio runtime (2026-12-06, release, same run): per call the same (1.24x the JDK client
//! in the same process, both), in the bulk benchmark 1,484 against 1,199 enterprises/s.
//!
//! Cancellation: a cancelled coroutine drops the Rust future, which aborts the task and waits until
//! the runtime has dropped the call. So what the call held (the advancing mark of core's
//! `FlowHandle`, a connection) is released when the cancellation completes.

use ctt_onboard::CttError;
use std::future::Future;
use std::sync::{Mutex, OnceLock, PoisonError};

/// The worker threads of [`runtime`]: the calls are IO-bound; one would do (8% less CPU in the bulk
/// benchmark), but the app's `Logger` runs on them, and one slow log call would stall every call.
const WORKER_THREADS: usize = 2;

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// The binding's tokio runtime, started by the first async call and kept for the process (its
/// threads are daemons to the JVM). A failure to start is that call's `CttException.Api`; the next
/// call tries again.
fn runtime() -> Result<&'static tokio::runtime::Runtime, CttError> {
    // One builder at a time, so that a losing builder never has to drop its runtime.
    static STARTING: Mutex<()> = Mutex::new(());
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let _starting = STARTING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let built = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name("ctt-onboard")
        .enable_all()
        .build()
        .map_err(|e| {
            tracing::error!(error = %e, "could not start the tokio runtime");
            internal(format!("could not start the tokio runtime: {e}"))
        })?;
    Ok(RUNTIME.get_or_init(|| built))
}

fn internal(detail: String) -> CttError {
    ctt_onboard::Error::new(ctt_onboard::ErrorCode::Api, detail).into()
}

/// Runs `f`, turning a panic into `CttError::Api` through core's `__bindings::catch_panic_sync`.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, CttError>) -> Result<T, CttError> {
    ctt_onboard::__bindings::catch_panic_sync(|| Ok(f())).unwrap_or_else(|panic| Err(panic.into()))
}

/// Runs `fut` as a task on [`runtime`], a panic turned into `CttError::Api` (core's
/// `__bindings::catch_panic`). Dropping the returned future drops `fut` before the drop returns.
pub(crate) async fn guard_async<T, F>(fut: F) -> Result<T, CttError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, CttError>> + Send + 'static,
{
    let call = async move {
        let caught = ctt_onboard::__bindings::catch_panic(async { Ok(fut.await) }).await;
        caught.unwrap_or_else(|panic| Err(panic.into()))
    };
    let mut task = Spawned(runtime()?.spawn(call));
    match (&mut task.0).await {
        Ok(result) => result,
        // The call's panics are caught inside the task, and the runtime is never shut down: a
        // `JoinError` would be a bug of this module, reported like a panic.
        Err(e) => Err(internal(format!(
            "internal error in ctt-onboard (a bug: please report it): the call's task failed: {e}"
        ))),
    }
}

/// A call running as a task. Dropped unfinished (a cancelled coroutine), it aborts the task and
/// waits until a worker has dropped the call (at most a poll in progress): a bare `abort` would
/// return first, and what the call held would be released some time later.
struct Spawned<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        if !self.0.is_finished() {
            self.0.abort();
            // On the thread that freed the call (Kotlin's), never on one of the runtime's workers.
            let _ = futures::executor::block_on(&mut self.0);
        }
    }
}

/// Exports free functions and impl blocks through uniffi (it adds `#[uniffi::export]`), each body
/// under [`guard`] / [`guard_async`]. A plain return type `T` is exported as `Result<T, CttError>`;
/// an async method takes `&self` and owned arguments and is exported with `self: Arc<Self>`.
#[macro_export]
macro_rules! export {
    // Rewriting one function; `$k` says where the result goes. An async method's `&self` becomes
    // `self: Arc<Self>`, so that the call's future owns what it uses and can be spawned.
    (@fn $k:tt $(#[$m:meta])* $vis:vis async fn $name:ident
        (&$receiver:ident $(, $arg:ident : $argty:ty)* $(,)?)
        -> Result<$ok:ty, CttError> { $($body:tt)* } $($rest:tt)*) => {
        $crate::export!(@emit $k [
            $(#[$m])*
            $vis async fn $name($receiver: ::std::sync::Arc<Self> $(, $arg: $argty)*)
                -> Result<$ok, CttError> {
                $crate::runtime::guard_async(async move { $($body)* }).await
            }
        ] $($rest)*);
    };
    (@fn $k:tt $(#[$m:meta])* $vis:vis fn $name:ident ($($args:tt)*)
        -> Result<$ok:ty, CttError> { $($body:tt)* } $($rest:tt)*) => {
        $crate::export!(@emit $k [
            $(#[$m])*
            $vis fn $name($($args)*) -> Result<$ok, CttError> {
                $crate::runtime::guard(move || -> Result<$ok, CttError> { $($body)* })
            }
        ] $($rest)*);
    };
    (@fn $k:tt $(#[$m:meta])* $vis:vis fn $name:ident ($($args:tt)*)
        -> $ret:ty { $($body:tt)* } $($rest:tt)*) => {
        $crate::export!(@emit $k [
            $(#[$m])*
            $vis fn $name($($args)*) -> Result<$ret, CttError> {
                $crate::runtime::guard(move || -> Result<$ret, CttError> { Ok({ $($body)* }) })
            }
        ] $($rest)*);
    };

    // Where a rewritten function goes: into the impl block being built, or out as a free function.
    (@emit (@impl $attrs:tt $ty:ident [$($done:tt)*]) [$($f:tt)*] $($rest:tt)*) => {
        $crate::export!(@impl $attrs $ty [$($done)* $($f)*] $($rest)*);
    };
    (@emit (@free) [$($f:tt)*] $($rest:tt)*) => {
        #[uniffi::export]
        $($f)*
        $crate::export!($($rest)*);
    };

    // The impl block being built: when every function is rewritten, export it.
    (@impl [$($attrs:tt)*] $ty:ident [$($done:tt)*]) => {
        #[uniffi::export]
        $($attrs)*
        impl $ty { $($done)* }
    };
    (@impl $attrs:tt $ty:ident [$($done:tt)*] $($item:tt)+) => {
        $crate::export!(@fn (@impl $attrs $ty [$($done)*]) $($item)+);
    };

    () => {};
    // An impl block: rewrite its functions one by one, then export the block.
    ($(#[$m:meta])* impl $ty:ident { $($body:tt)* } $($rest:tt)*) => {
        $crate::export!(@impl [$(#[$m])*] $ty [] $($body)*);
        $crate::export!($($rest)*);
    };
    // A free function (sync only: a free `async fn` matches no rule).
    ($(#[$m:meta])* $vis:vis fn $($rest:tt)*) => {
        $crate::export!(@fn (@free) $(#[$m])* $vis fn $($rest)*);
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::{Context, Waker};
    use std::time::Duration;

    fn local_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    }

    #[test]
    fn dropping_a_call_drops_what_it_holds_before_the_drop_returns() {
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        let held = Arc::clone(&lock);
        let (started, wait_started) = std::sync::mpsc::channel();
        let mut call = Box::pin(guard_async(async move {
            let _guard = held.lock().await;
            let _ = started.send(());
            std::future::pending::<Result<(), CttError>>().await
        }));
        // The first poll spawns the call; it then runs on the binding's runtime.
        let mut cx = Context::from_waker(Waker::noop());
        assert!(call.as_mut().poll(&mut cx).is_pending());
        wait_started
            .recv_timeout(Duration::from_secs(10))
            .expect("the call started");
        assert!(lock.try_lock().is_err(), "the call holds the lock");

        drop(call);
        assert!(
            lock.try_lock().is_ok(),
            "dropping the call released the lock"
        );
    }

    #[test]
    fn a_panic_in_a_call_becomes_an_api_error_and_later_calls_run() {
        let local = local_runtime();
        let e = local
            .block_on(guard_async(async {
                Ok(ctt_onboard::__bindings::forced_panic_for_tests()?)
            }))
            .expect_err("the call panicked");
        let e = ctt_onboard::Error::from(e);
        assert_eq!(e.code(), ctt_onboard::ErrorCode::Api);
        assert!(e.message().contains("forced panic"), "{e}");

        let answer = local.block_on(guard_async(async { Ok(7) }));
        assert_eq!(answer, Ok(7));
    }

    #[test]
    fn a_call_runs_on_the_bindings_runtime() {
        let local = local_runtime();
        let name = local.block_on(guard_async(async {
            Ok(std::thread::current().name().map(str::to_owned))
        }));
        assert_eq!(name, Ok(Some("ctt-onboard".to_owned())));
    }
}
