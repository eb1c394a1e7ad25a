//! Logging: core's log sink (`ctt_onboard::__bindings`: the `tracing` subscriber, level filter and
//! formatting) delivered to a Kotlin [`Logger`].

use ctt_onboard::__bindings::{self as core_log, LogLevel};
use ctt_onboard::CttError;
use std::sync::Arc;

/// Receives the library's log events. Called from the library's threads: keep it quick.
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// One event: its level, target (the Rust module) and message (with its fields as `key=value`).
    fn log(&self, level: LogLevel, target: String, message: String);
}

crate::export! {
    /// Installs `logger` for every event at `level` or above, replacing any earlier logger
    /// (`InvalidInput` when another `tracing` subscriber owns the process).
    pub fn install_logger(logger: Arc<dyn Logger>, level: LogLevel) -> Result<(), CttError> {
        let sink: core_log::LogSink =
            Arc::new(move |r: core_log::LogRecord| logger.log(r.level, r.target, r.message));
        Ok(core_log::install_sink(sink, level)?)
    }

    /// Removes the installed logger; events are dropped again.
    pub fn uninstall_logger() -> Result<(), CttError> {
        core_log::uninstall_sink();
        Ok(())
    }
}
