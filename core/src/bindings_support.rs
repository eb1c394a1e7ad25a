//! What only a language binding needs from core, kept out of the public Rust API.
//!
//! Panic catching, the forced panic the bindings' tests use, and the log sink are how a binding
//! keeps a Rust panic or a `tracing` event from crossing into its host; the fork-safe runtime is
//! where a binding whose host has no tokio runtime (Python, Kotlin) runs core's futures. A Rust
//! user of the crate has no use for them. They live behind this one hidden module so that core's documented surface
//! is the SDK itself.

use crate::error::{Error, Result};

pub use crate::bindings_runtime::{OwnedTask, runtime, shutdown_runtime, spawn_owned};
pub use crate::logging::{LogLevel, LogRecord, LogSink, install_sink, uninstall_sink};

/// Runs `f`, turning a panic into [`Error::from_panic`]. Bindings wrap every call in this (or
/// [`catch_panic`]) so that no panic crosses into a host language.
pub fn catch_panic_sync<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|p| Err(Error::from_panic(p)))
}

/// Awaits `fut`, turning a panic while polling it into [`Error::from_panic`].
pub async fn catch_panic<T>(fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    use futures::FutureExt as _;
    std::panic::AssertUnwindSafe(fut)
        .catch_unwind()
        .await
        .unwrap_or_else(|p| Err(Error::from_panic(p)))
}

/// Panics on purpose: the hook each binding's test uses to show that a panic becomes an error.
pub fn forced_panic_for_tests() -> Result<()> {
    panic!("forced panic (test hook)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn a_panic_becomes_an_api_error() {
        let e = catch_panic_sync(forced_panic_for_tests).expect_err("panicked");
        assert_eq!(e.code(), ErrorCode::Api);
        assert!(e.message().contains("forced panic"), "{e}");
        let e = futures::executor::block_on(catch_panic(async { forced_panic_for_tests() }))
            .expect_err("panicked");
        assert!(e.message().contains("internal error"), "{e}");
        assert_eq!(catch_panic_sync(|| Ok(3)).expect("no panic"), 3);
    }
}
