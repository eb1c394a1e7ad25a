//! Why every async export runs on tokio, and the one macro that makes sure of it.
//!
//! The core's HTTP client (reqwest) needs a tokio reactor while its futures are polled. Kotlin
//! polls uniffi futures from its own coroutine dispatchers, where no tokio runtime exists: an
//! export without `async_runtime = "tokio"` would panic with "no reactor running" on its first
//! request. uniffi's `tokio` feature wraps each such future so that it is polled inside a shared
//! tokio runtime. [`export_async!`] adds that attribute to every impl block or function it wraps,
//! so no async export can forget it (matrix-rust-sdk does the same with an attribute macro).
//!
//! Cancellation: when a coroutine awaiting a call is cancelled, uniffi drops the Rust future.
//! Core's steps are cancel-safe (a dropped call leaves the client and its token cache usable),
//! and the onboarding flow is locked inside the future, so a cancelled advance keeps every step
//! that finished before the cancellation.

/// Exports the wrapped impl blocks and functions with `#[uniffi::export(async_runtime = "tokio")]`.
///
/// Use it for every item that has an `async fn`; items without one use `#[uniffi::export]`.
#[macro_export]
macro_rules! export_async {
    ($($item:item)*) => {
        $(
            #[uniffi::export(async_runtime = "tokio")]
            $item
        )*
    };
}
