//! Routes core's `tracing` events to JavaScript: to a logger the user sets with `setLogger`, or
//! to stderr when the environment variable `CTT_ONBOARD_LOG` is set (to a level such as `debug`;
//! any other value means `info`). Nothing is logged by default.
//!
//! The logger is called through a weak threadsafe function, so events from tokio's threads reach
//! the event loop without blocking it and a set logger never keeps the process alive. Core never
//! puts a secret in an event; the binding adds nothing to what core records.

use napi::Status;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::{Mutex, Once};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// One log event from the library.
#[napi(object, object_from_js = false)]
pub struct LogRecord {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: String,
    /// Where it comes from, such as `ctt_onboard::client`.
    pub target: String,
    /// What happened.
    pub message: String,
    /// The event's structured fields (endpoint, status, attempt, ...), as text.
    pub fields: HashMap<String, String>,
    /// When, in milliseconds since the Unix epoch.
    pub time_ms: f64,
}

type Logger = ThreadsafeFunction<LogRecord, (), LogRecord, Status, false, true>;

/// The logger set from JavaScript, and its level.
static LOGGER: Mutex<Option<(Logger, Level)>> = Mutex::new(None);
static INIT: Once = Once::new();

fn parse_level(value: &str) -> Level {
    match value.trim().to_ascii_lowercase().as_str() {
        "error" => Level::ERROR,
        "warn" | "warning" => Level::WARN,
        "debug" => Level::DEBUG,
        "trace" => Level::TRACE,
        _ => Level::INFO,
    }
}

fn stderr_level() -> Option<Level> {
    std::env::var("CTT_ONBOARD_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| parse_level(&v))
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: HashMap<String, String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields
                .insert(field.name().to_owned(), value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields
                .insert(field.name().to_owned(), format!("{value:?}"));
        }
    }
}

/// Sends the library's events to the logger or stderr.
struct Bridge {
    stderr: Option<Level>,
}

impl<S: Subscriber> Layer<S> for Bridge {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !meta.target().starts_with("ctt_") {
            return;
        }
        let logger = LOGGER.lock().unwrap_or_else(|p| p.into_inner());
        let to_logger = logger.as_ref().filter(|(_, l)| meta.level() <= l);
        let to_stderr = self.stderr.filter(|l| meta.level() <= l);
        if to_logger.is_none() && to_stderr.is_none() {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = meta.level().as_str().to_ascii_lowercase();
        if to_stderr.is_some() {
            let mut extra: Vec<_> = fields.fields.iter().collect();
            extra.sort();
            let extra: Vec<String> = extra.iter().map(|(k, v)| format!("{k}={v}")).collect();
            eprintln!(
                "ctt-onboard {level} {}: {} {}",
                meta.target(),
                fields.message,
                extra.join(" ")
            );
        }
        if let Some((tsfn, _)) = to_logger {
            let record = LogRecord {
                level,
                target: meta.target().to_owned(),
                message: fields.message,
                fields: fields.fields,
                time_ms: crate::models::time_to_ms(std::time::SystemTime::now()),
            };
            tsfn.call(record, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// Installs the bridge once per process (a no-op when the host already set a global subscriber).
pub fn init() {
    INIT.call_once(|| {
        let bridge = Bridge {
            stderr: stderr_level(),
        };
        let _ = tracing_subscriber::registry().with(bridge).try_init();
    });
}

/// Sends the library's log events to `logger` (at `level` and above: `error`, `warn`, `info`,
/// `debug`, `trace`; default `info`), or stops sending them when `logger` is `null`.
/// Independently, `CTT_ONBOARD_LOG=debug` in the environment prints them to stderr.
#[napi(
    catch_unwind,
    ts_args_type = "logger: ((record: LogRecord) => void) | null, level?: 'error' | 'warn' | 'info' | 'debug' | 'trace'"
)]
pub fn set_logger(logger: Option<Logger>, level: Option<String>) {
    init();
    let level = level.as_deref().map(parse_level).unwrap_or(Level::INFO);
    *LOGGER.lock().unwrap_or_else(|p| p.into_inner()) = logger.map(|l| (l, level));
}
