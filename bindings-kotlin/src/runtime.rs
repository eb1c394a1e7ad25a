//! The one macro every export goes through ([`export!`]): each exported function runs under
//! core's panic mapping, and each async one as a task on the binding's own tokio runtime.
//!
//! Panics must never unwind into the JVM, nor reach Kotlin as uniffi's generic
//! `InternalException`: [`export!`] wraps every body in core's `__bindings::catch_panic_sync`
//! (`catch_panic` for an `async fn`), so a panic is `CttException.Api` ("internal error in
//! ctt-onboard ...") and the object stays usable. So every export returns `Result<_, CttError>`
//! (a plain return type `T` is exported as `Result<T, CttError>`).
//!
//! Tokio: reqwest needs a tokio reactor while its futures are polled, and Kotlin polls uniffi
//! futures from its coroutine threads. uniffi's `async_runtime = "tokio"` polls there inside
//! async-compat's context while another thread runs the reactor and hyper's connection task: a call
//! went back and forth between the two (1.2-1.6 JNA continuation callbacks and `poll` downcalls per
//! call) and took 3-4x as long as reqwest alone. So [`guard_async`] spawns the whole call onto
//! [`runtime`], where it runs beside the reactor, and the future uniffi polls only awaits the task:
//! at most one continuation callback per call, always from one of the runtime's few threads, which
//! the Kotlin side keeps attached to the JVM (`CallbackThreads.kt`,
//! bench/proposals/kotlin-jna-keep-attached.md). The call's future must be `Send + 'static`:
//! [`export!`] gives every async method a `self: Arc<Self>` receiver (written `&self`).
//!
//! Cancellation: a cancelled coroutine drops the Rust future, and [`guard_async`]'s future then
//! drops the spawned call on the cancelling thread before it returns (waiting at most for a poll
//! in progress) and aborts the task. So what the call held (the advancing mark of core's
//! `FlowHandle`, a connection) is released when the cancellation completes, and the flow can be
//! advanced again at once, with every step that finished kept.

use ctt_onboard::CttError;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};

/// The worker threads of [`runtime`]. The calls are IO-bound and most of their CPU time is the
/// JVM's (JNA's marshalling), so a few threads are plenty. One would do (in the bulk benchmark on
/// two cores it used some 8% less CPU), but the app's `Logger` runs on these threads, and one slow
/// log call would then stall every call in flight.
const WORKER_THREADS: usize = 2;

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// The binding's tokio runtime, started by the first async call and kept for the life of the
/// process (its workers never hold the JVM open at exit: native threads, attached to the JVM as
/// daemons at most). A failure to
/// start it (no threads left, say) is that call's `CttException.Api`; the next call tries again.
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
    match ctt_onboard::__bindings::catch_panic_sync(|| Ok(f())) {
        Ok(result) => result,
        Err(panic) => Err(panic.into()),
    }
}

/// Runs `fut` to completion as a task on [`runtime`] and returns its result, a panic while
/// polling it turned into `CttError::Api` through core's `__bindings::catch_panic`. Dropping
/// the returned future drops `fut` at once (see the module's documentation).
pub(crate) async fn guard_async<T, F>(fut: F) -> Result<T, CttError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, CttError>> + Send + 'static,
{
    let runtime = runtime()?;
    let call = async move {
        match ctt_onboard::__bindings::catch_panic(async { Ok(fut.await) }).await {
            Ok(result) => result,
            Err(panic) => Err(panic.into()),
        }
    };
    match Spawned::new(runtime, call).await {
        Ok(Some(result)) => result,
        // The slot is emptied only by `Spawned::drop`, after which nobody awaits the task.
        Ok(None) => Err(internal("the call was cancelled".to_owned())),
        // The call's panics are caught inside the task, and the runtime is never shut down: a
        // `JoinError` would be a bug of this module, reported like a panic.
        Err(e) => Err(internal(format!(
            "internal error in ctt-onboard (a bug: please report it): the call's task failed: {e}"
        ))),
    }
}

/// The spawned call, kept where both its task and whoever drops [`Spawned`] can reach it.
type Slot<T> = Arc<Mutex<Option<Pin<Box<dyn Future<Output = T> + Send>>>>>;

/// A call running as a task: awaiting it awaits the task; dropping it drops the call (waiting
/// only for a poll in progress) and aborts the task. With a bare `JoinHandle::abort` the call
/// would be dropped later, on a worker, and a cancelled `advance` could still hold its flow's lock
/// when the coroutine's cancellation has completed.
struct Spawned<T> {
    call: Slot<T>,
    task: tokio::task::JoinHandle<Option<T>>,
    runtime: tokio::runtime::Handle,
}

impl<T: Send + 'static> Spawned<T> {
    fn new(
        runtime: &tokio::runtime::Runtime,
        call: impl Future<Output = T> + Send + 'static,
    ) -> Self {
        let call: Slot<T> = Arc::new(Mutex::new(Some(Box::pin(call))));
        let polled = Arc::clone(&call);
        let task = runtime.spawn(std::future::poll_fn(move |cx| {
            let mut slot = polled.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(call) = slot.as_mut() else {
                return Poll::Ready(None);
            };
            let output = std::task::ready!(call.as_mut().poll(cx));
            *slot = None;
            Poll::Ready(Some(output))
        }));
        Self {
            call,
            task,
            runtime: runtime.handle().clone(),
        }
    }
}

impl<T> Future for Spawned<T> {
    type Output = Result<Option<T>, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.task).poll(cx)
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        let unfinished = self
            .call
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(call) = unfinished {
            // Inside the runtime's context, for whatever the call's parts do when dropped.
            let _context = self.runtime.enter();
            drop(call);
        }
        self.task.abort();
    }
}

/// Exports free functions and impl blocks through uniffi, each function's body under
/// [`guard`] / [`guard_async`] (see the module's documentation). Write the items without a
/// `#[uniffi::export]` attribute: the macro adds it (constructors keep `#[uniffi::constructor]`).
/// An async method takes `&self` and owned arguments; it is exported with a `self: Arc<Self>`
/// receiver and its body runs as a task on the binding's runtime.
///
/// ```text
/// crate::export! {
///     impl Client {
///         pub fn base_url(&self) -> String { ... }            // exported as Result<String, CttError>
///         pub async fn pbx_types(&self, id: i64) -> Result<Vec<PbxType>, CttError> { ... }
///                                                   // exported with `self: Arc<Self>`, spawned
///     }
///     pub fn error_codes() -> Vec<String> { ... }
/// }
/// ```
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
    (@fn $k:tt $(#[$m:meta])* $vis:vis fn $name:ident ($($args:tt)*)
        { $($body:tt)* } $($rest:tt)*) => {
        $crate::export!(@emit $k [
            $(#[$m])*
            $vis fn $name($($args)*) -> Result<(), CttError> {
                $crate::runtime::guard(move || -> Result<(), CttError> { { $($body)* }; Ok(()) })
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
    use std::task::Waker;
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
