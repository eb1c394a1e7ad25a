//! The one macro every export goes through ([`export!`]): it runs each exported function and
//! method under core's panic mapping and every async one on tokio.
//!
//! Panics: a panic must never unwind into the JVM, nor reach Kotlin as uniffi's generic
//! `InternalException`. [`export!`] wraps the body of every function it exports in
//! [`ctt_onboard::catch_panic_sync`] (or [`ctt_onboard::catch_panic`] for an `async fn`), so a
//! panic becomes `CttException.Api` ("internal error in ctt-onboard ..."), and the object it was
//! called on stays usable. For that, every export returns `Result<_, CttError>`: a function
//! written with a plain return type is exported as `Result<that type, CttError>`.
//!
//! Tokio: the core's HTTP client (reqwest) needs a tokio reactor while its futures are polled.
//! Kotlin polls uniffi futures from its own coroutine dispatchers, where no tokio runtime exists:
//! an export without `async_runtime = "tokio"` would panic with "no reactor running" on its first
//! request. [`export!`] adds that attribute to every `async fn` it exports, so none can forget it.
//!
//! Cancellation: when a coroutine awaiting a call is cancelled, uniffi drops the Rust future.
//! Core's steps are cancel-safe (a dropped call leaves the client and its token cache usable),
//! and the onboarding flow is locked inside the future, so a cancelled advance keeps every step
//! that finished before the cancellation.

use crate::error::CttError;

/// Runs `f`, turning a panic into `CttError::Api` through core's [`ctt_onboard::catch_panic_sync`].
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, CttError>) -> Result<T, CttError> {
    match ctt_onboard::catch_panic_sync(|| Ok(f())) {
        Ok(result) => result,
        Err(panic) => Err(panic.into()),
    }
}

/// Awaits `fut`, turning a panic while polling it into `CttError::Api` through core's
/// [`ctt_onboard::catch_panic`].
pub(crate) async fn guard_async<T>(
    fut: impl std::future::Future<Output = Result<T, CttError>>,
) -> Result<T, CttError> {
    match ctt_onboard::catch_panic(async { Ok(fut.await) }).await {
        Ok(result) => result,
        Err(panic) => Err(panic.into()),
    }
}

/// Exports free functions and impl blocks through uniffi, each function's body under
/// [`guard`] / [`guard_async`] (see the module's documentation). Write the items without a
/// `#[uniffi::export]` attribute: the macro adds it (constructors keep `#[uniffi::constructor]`).
///
/// ```text
/// crate::export! {
///     impl Client {
///         pub fn base_url(&self) -> String { ... }            // exported as Result<String, CttError>
///         pub async fn pbx_types(&self, id: i64) -> Result<Vec<PbxType>, CttError> { ... }
///     }
///     pub fn error_codes() -> Vec<String> { ... }
/// }
/// ```
#[macro_export]
macro_rules! export {
    // Rewriting one function; `$k` says where the result goes, `$asyncattr` is the attribute an
    // async function needs there.
    (@fn $k:tt [$($asyncattr:tt)*] $(#[$m:meta])* $vis:vis async fn $name:ident ($($args:tt)*)
        -> Result<$ok:ty, CttError> { $($body:tt)* } $($rest:tt)*) => {
        $crate::export!(@emit $k [
            $(#[$m])* $($asyncattr)*
            $vis async fn $name($($args)*) -> Result<$ok, CttError> {
                $crate::runtime::guard_async(async move { $($body)* }).await
            }
        ] $($rest)*);
    };
    (@fn $k:tt $asyncattr:tt $(#[$m:meta])* $vis:vis fn $name:ident ($($args:tt)*)
        -> Result<$ok:ty, CttError> { $($body:tt)* } $($rest:tt)*) => {
        $crate::export!(@emit $k [
            $(#[$m])*
            $vis fn $name($($args)*) -> Result<$ok, CttError> {
                $crate::runtime::guard(move || -> Result<$ok, CttError> { $($body)* })
            }
        ] $($rest)*);
    };
    (@fn $k:tt $asyncattr:tt $(#[$m:meta])* $vis:vis fn $name:ident ($($args:tt)*)
        -> $ret:ty { $($body:tt)* } $($rest:tt)*) => {
        $crate::export!(@emit $k [
            $(#[$m])*
            $vis fn $name($($args)*) -> Result<$ret, CttError> {
                $crate::runtime::guard(move || -> Result<$ret, CttError> { Ok({ $($body)* }) })
            }
        ] $($rest)*);
    };
    (@fn $k:tt $asyncattr:tt $(#[$m:meta])* $vis:vis fn $name:ident ($($args:tt)*)
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
        $crate::export!(@fn (@impl $attrs $ty [$($done)*])
            [#[uniffi::method(async_runtime = "tokio")]] $($item)+);
    };

    () => {};
    // An impl block: rewrite its functions one by one, then export the block.
    ($(#[$m:meta])* impl $ty:ident { $($body:tt)* } $($rest:tt)*) => {
        $crate::export!(@impl [$(#[$m])*] $ty [] $($body)*);
        $crate::export!($($rest)*);
    };
    // A free function (sync only: a free `async fn` matches no rule).
    ($(#[$m:meta])* $vis:vis fn $($rest:tt)*) => {
        $crate::export!(@fn (@free) [] $(#[$m])* $vis fn $($rest)*);
    };
}
