//! Logging: the app installs a [`Logger`] (a Kotlin interface) and receives the library's log
//! events with their level, target (the Rust module, such as `ctt_onboard::auth`) and message.
//!
//! Core logs through `tracing`; a small `tracing` layer forwards each event at or above the chosen
//! level to the installed logger. The subscriber is installed once per process; installing
//! another logger replaces the receiver and the level. Core never logs a secret.

use crate::error::CttError;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock, RwLock};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};

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

impl From<&tracing::Level> for LogLevel {
    fn from(l: &tracing::Level) -> Self {
        match *l {
            tracing::Level::TRACE => LogLevel::Trace,
            tracing::Level::DEBUG => LogLevel::Debug,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::WARN => LogLevel::Warn,
            _ => LogLevel::Error,
        }
    }
}

/// Receives the library's log events. Called from the library's threads: keep it quick.
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// One event: its level, target (the Rust module) and message (with its fields as `key=value`).
    fn log(&self, level: LogLevel, target: String, message: String);
}

struct Installed {
    logger: Arc<dyn Logger>,
    level: LogLevel,
}

static LOGGER: RwLock<Option<Installed>> = RwLock::new(None);
/// Whether this library's subscriber became the process's global one (decided once).
static SUBSCRIBER: OnceLock<bool> = OnceLock::new();

/// Installs `logger` for every event at `level` or above (replacing any earlier logger).
/// Fails with `CttException.InvalidInput` when another `tracing` subscriber already owns the
/// process.
#[uniffi::export]
pub fn install_logger(logger: Arc<dyn Logger>, level: LogLevel) -> Result<(), CttError> {
    let ours = *SUBSCRIBER.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(ForwardLayer);
        tracing::subscriber::set_global_default(subscriber).is_ok()
    });
    if !ours {
        return Err(CttError::invalid_input(
            "a logger could not be installed: another tracing subscriber owns this process",
        ));
    }
    *LOGGER.write().unwrap_or_else(|p| p.into_inner()) = Some(Installed { logger, level });
    Ok(())
}

/// Removes the installed logger; events are dropped again.
#[uniffi::export]
pub fn uninstall_logger() {
    *LOGGER.write().unwrap_or_else(|p| p.into_inner()) = None;
}

struct ForwardLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ForwardLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let level = LogLevel::from(event.metadata().level());
        let logger = {
            let guard = LOGGER.read().unwrap_or_else(|p| p.into_inner());
            match guard.as_ref() {
                Some(i) if level >= i.level => i.logger.clone(),
                _ => return,
            }
        };
        let mut visitor = MessageVisitor::default();
        event.record(&mut visitor);
        logger.log(
            level,
            event.metadata().target().to_owned(),
            visitor.finish(),
        );
    }
}

#[derive(Default)]
struct MessageVisitor {
    message: String,
    fields: String,
}

impl MessageVisitor {
    fn finish(self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message,
            (true, false) => self.fields,
            (false, false) => format!("{} {}", self.message, self.fields),
        }
    }
}

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            if !self.fields.is_empty() {
                self.fields.push(' ');
            }
            let _ = write!(self.fields, "{}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            if !self.fields.is_empty() {
                self.fields.push(' ');
            }
            let _ = write!(self.fields, "{}={value}", field.name());
        }
    }
}
