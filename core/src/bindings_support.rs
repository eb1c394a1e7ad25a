//! What only a language binding needs from core, kept out of the public Rust API.
//!
//! Panic catching, the forced panic the bindings' tests use, and the log sink are how a binding
//! keeps a Rust panic or a `tracing` event from crossing into its host; a Rust user of the crate
//! has no use for them. They live behind this one hidden module so that core's documented surface
//! is the SDK itself.

pub use crate::error::{catch_panic, catch_panic_sync, forced_panic_for_tests};
pub use crate::logging::{LogLevel, LogRecord, LogSink, install_sink, uninstall_sink};
