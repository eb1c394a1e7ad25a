//! Logging: the app installs a [`Logger`] (a Kotlin interface) and receives the library's log
//! events with their level, target (the Rust module, such as `ctt_onboard::auth`) and message.
//!
//! The forwarding itself (the process-wide `tracing` subscriber, the level filter and the
//! message-and-fields formatting) is core's [`ctt_onboard::logging`], shared by every binding;
//! this module only adapts core's sink to the Kotlin interface and maps the levels. Installing
//! another logger replaces the receiver and the level. Core never logs a secret.

use crate::error::CttError;
use ctt_onboard::logging as core_log;
use std::sync::Arc;

/// The level of a log event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    /// Very detailed events.
    Trace,
    /// Details for debugging, such as token fetches and retries.
    Debug,
    /// Notable events.
    Info,
    /// Something unexpected that the library handled.
    Warn,
    /// Failures.
    Error,
}

impl From<core_log::LogLevel> for LogLevel {
    fn from(l: core_log::LogLevel) -> Self {
        match l {
            core_log::LogLevel::Trace => LogLevel::Trace,
            core_log::LogLevel::Debug => LogLevel::Debug,
            core_log::LogLevel::Info => LogLevel::Info,
            core_log::LogLevel::Warn => LogLevel::Warn,
            core_log::LogLevel::Error => LogLevel::Error,
        }
    }
}

impl From<LogLevel> for core_log::LogLevel {
    fn from(l: LogLevel) -> Self {
        match l {
            LogLevel::Trace => core_log::LogLevel::Trace,
            LogLevel::Debug => core_log::LogLevel::Debug,
            LogLevel::Info => core_log::LogLevel::Info,
            LogLevel::Warn => core_log::LogLevel::Warn,
            LogLevel::Error => core_log::LogLevel::Error,
        }
    }
}

/// Receives the library's log events. Called from the library's threads: keep it quick.
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// One event: its level, target (the Rust module) and message (with its fields as `key=value`).
    fn log(&self, level: LogLevel, target: String, message: String);
}

crate::export! {
    /// Installs `logger` for every event at `level` or above (replacing any earlier logger).
    /// Fails with `CttException.InvalidInput` when another `tracing` subscriber already owns the
    /// process.
    pub fn install_logger(logger: Arc<dyn Logger>, level: LogLevel) -> Result<(), CttError> {
        let sink: core_log::LogSink = Arc::new(move |r: core_log::LogRecord| {
            logger.log(r.level.into(), r.target, r.message);
        });
        Ok(core_log::install_sink(sink, level.into())?)
    }

    /// Removes the installed logger; events are dropped again.
    pub fn uninstall_logger() -> Result<(), CttError> {
        core_log::uninstall_sink();
        Ok(())
    }
}
