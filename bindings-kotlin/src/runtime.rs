//! The one macro every export goes through ([`export!`]): each body runs under core's panic
//! mapping, so a panic reaches Kotlin as `CttException.Api` (not uniffi's `InternalException`),
//! and each async one as a task on the tokio runtime core keeps for bindings.
//!
//! Tokio: reqwest needs a tokio reactor while its futures are polled. uniffi's `async_runtime =
//! "tokio"` polls on Kotlin's coroutine threads while another thread runs the reactor, so a call
//! goes back and forth between the two (a JNA callback and a `poll` downcall per wake-up). So
//! [`guard_async`] spawns the whole call onto core's binding runtime (`__bindings::runtime`, the
//! one the Python binding uses too), beside the reactor, and uniffi's future only awaits the task:
//! one continuation callback per call, from one of the runtime's few threads, which Kotlin keeps
//! attached to the JVM (`CallbackThreads.kt`). Measured against uniffi's tokio runtime
//! (2026-12-06, release, same run): per call the same (1.24x the JDK client in the same process,
//! both), in the bulk benchmark 1,484 against 1,199 enterprises/s.
//!
//! Cancellation: a cancelled coroutine drops the Rust future, which drops the call's
//! `__bindings::OwnedTask`: it aborts the task and waits until the runtime has dropped the call.
//! So what the call held (the advancing mark of core's `FlowHandle`, a connection) is released
//! when the cancellation completes.

use ctt_onboard::__bindings::{catch_panic, catch_panic_sync, spawn_owned};
use ctt_onboard::CttError;
use std::future::Future;

/// Runs `f`, turning a panic into `CttError::Api` through core's `__bindings::catch_panic_sync`.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, CttError>) -> Result<T, CttError> {
    catch_panic_sync(|| Ok(f())).unwrap_or_else(|panic| Err(panic.into()))
}

/// Runs `fut` as a task on core's binding runtime, a panic turned into `CttError::Api` (core's
/// `__bindings::catch_panic`). Dropping the returned future drops `fut` before the drop returns.
pub(crate) async fn guard_async<T, F>(fut: F) -> Result<T, CttError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, CttError>> + Send + 'static,
{
    let call = async move {
        let caught = catch_panic(async { Ok(fut.await) }).await;
        caught.unwrap_or_else(|panic| Err(panic.into()))
    };
    spawn_owned(call)?.await?
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
    // What a dropped (cancelled) call releases is core's `OwnedTask`'s guarantee, tested there
    // (core/src/bindings_runtime.rs), and end to end by the JUnit cancellation tests.

    fn local_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
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
