//! Forwarding the library's log events to a host language's logger.
//!
//! Core logs through `tracing`. Python wants `logging` records, Node a callback or stderr,
//! Kotlin a `Logger` interface: each binding needs the same thing underneath, a process-wide
//! subscriber whose layer turns an event into (level, target, message) and hands it to one sink.
//! That part lives here once; a binding supplies only the sink. Core never logs a secret, so a
//! sink may print what it receives.

use crate::error::{Error, Result};
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock, RwLock};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};

/// The level of a log event, from most to least detailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum LogLevel {
    /// Very detailed events (includes the HTTP stack's own).
    Trace,
    /// Details for debugging, such as token fetches, each call and retries.
    Debug,
    /// Notable events.
    Info,
    /// Something unexpected that the library handled.
    Warn,
    /// Failures.
    Error,
}

impl LogLevel {
    /// The lower-case name (`"debug"`), as bindings and environment variables spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }

    /// Parses a name, case-insensitively (`warning` is `warn`).
    pub fn parse(name: &str) -> Option<LogLevel> {
        match name.trim().to_ascii_lowercase().as_str() {
            "trace" => Some(LogLevel::Trace),
            "debug" => Some(LogLevel::Debug),
            "info" => Some(LogLevel::Info),
            "warn" | "warning" => Some(LogLevel::Warn),
            "error" => Some(LogLevel::Error),
            _ => None,
        }
    }
}

impl From<&tracing::Level> for LogLevel {
    fn from(level: &tracing::Level) -> Self {
        match *level {
            tracing::Level::TRACE => LogLevel::Trace,
            tracing::Level::DEBUG => LogLevel::Debug,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::WARN => LogLevel::Warn,
            _ => LogLevel::Error,
        }
    }
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Its level.
    pub level: LogLevel,
    /// Where it comes from: the Rust module, such as `ctt_onboard::client`.
    pub target: String,
    /// The message, followed by its fields as `key=value`.
    pub message: String,
}

/// Receives log records. Called on the library's threads: keep it quick and never block on the
/// host's main thread.
pub type LogSink = Arc<dyn Fn(LogRecord) + Send + Sync>;

struct Installed {
    sink: LogSink,
    level: LogLevel,
}

static SINK: RwLock<Option<Installed>> = RwLock::new(None);
static SUBSCRIBER: OnceLock<bool> = OnceLock::new();

/// Sends every event at `level` or above to `sink`, replacing an earlier sink. The first call
/// makes this library's subscriber the process's global one; it fails with `invalid_input` when
/// another `tracing` subscriber already owns the process (a Rust host that logs on its own).
pub fn install_sink(sink: LogSink, level: LogLevel) -> Result<()> {
    let ours = *SUBSCRIBER.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(ForwardLayer);
        tracing::subscriber::set_global_default(subscriber).is_ok()
    });
    if !ours {
        return Err(Error::invalid_input(
            "a log sink could not be installed: another tracing subscriber owns this process",
        ));
    }
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = Some(Installed { sink, level });
    Ok(())
}

/// Removes the sink; events are dropped again.
pub fn uninstall_sink() {
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = None;
}

struct ForwardLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ForwardLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let level = LogLevel::from(event.metadata().level());
        let sink = {
            let guard = SINK.read().unwrap_or_else(|p| p.into_inner());
            match guard.as_ref() {
                Some(i) if level >= i.level => i.sink.clone(),
                _ => return,
            }
        };
        let mut visitor = MessageVisitor::default();
        event.record(&mut visitor);
        sink(LogRecord {
            level,
            target: event.metadata().target().to_owned(),
            message: visitor.finish(),
        });
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

    fn field(&mut self, field: &Field, value: std::fmt::Arguments<'_>) {
        if field.name() == "message" {
            let _ = self.message.write_fmt(value);
        } else {
            if !self.fields.is_empty() {
                self.fields.push(' ');
            }
            let _ = write!(self.fields, "{}=", field.name());
            let _ = self.fields.write_fmt(value);
        }
    }
}

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.field(field, format_args!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, format_args!("{value}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn events_reach_the_sink_with_fields_and_respect_the_level() {
        let seen: Arc<Mutex<Vec<LogRecord>>> = Arc::default();
        let store = seen.clone();
        install_sink(
            Arc::new(move |r| store.lock().expect("lock").push(r)),
            LogLevel::Info,
        )
        .expect("install");
        tracing::debug!("hidden");
        tracing::info!(attempt = 2, path = "/x", "visible");
        uninstall_sink();
        tracing::warn!("after uninstall");
        // Other tests may log in this process at the same time: look at this test's events only.
        let seen: Vec<LogRecord> = seen
            .lock()
            .expect("lock")
            .iter()
            .filter(|r| {
                ["hidden", "visible", "after uninstall"]
                    .iter()
                    .any(|m| r.message.starts_with(m))
            })
            .cloned()
            .collect();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].level, LogLevel::Info);
        assert_eq!(seen[0].message, "visible attempt=2 path=/x");
        assert!(seen[0].target.starts_with("ctt_onboard"));
        assert_eq!(LogLevel::parse("WARNING"), Some(LogLevel::Warn));
        assert_eq!(LogLevel::parse("loud"), None);
    }
}
