//! Node's sink for core's log forwarding ([`ctt_onboard::logging`]): events go to a logger the
//! user sets with `setLogger`, or to stderr when the environment variable `CTT_ONBOARD_LOG` is set
//! (to a level such as `debug`; any other value means `info`). Nothing is logged by default.
//!
//! The logger is called through a weak threadsafe function, so events from tokio's threads reach
//! the event loop without blocking it, and a set logger never keeps the process alive. Core never
//! puts a secret in an event; this sink adds nothing to what core records.

use crate::error::IntoNapi;
use ctt_onboard::__bindings::{self as core_log, LogLevel};
use napi::Status;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::sync::{Arc, Mutex, Once};

/// One log event from the library.
#[napi(object, object_from_js = false)]
pub struct LogRecord {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    #[napi(ts_type = "'error' | 'warn' | 'info' | 'debug' | 'trace'")]
    pub level: String,
    /// Where it comes from, such as `ctt_onboard::client`.
    pub target: String,
    /// What happened, followed by the event's fields as `key=value` (endpoint, status, attempt, ...).
    pub message: String,
    /// When, in milliseconds since the Unix epoch.
    pub time_ms: f64,
}

type Logger = ThreadsafeFunction<LogRecord, (), LogRecord, Status, false, true>;

/// Where events go: the JavaScript logger and its level, and stderr's level.
struct Sinks {
    logger: Option<(Arc<Logger>, LogLevel)>,
    stderr: Option<LogLevel>,
}

static SINKS: Mutex<Sinks> = Mutex::new(Sinks {
    logger: None,
    stderr: None,
});
static INIT: Once = Once::new();

fn parse_level(value: &str) -> LogLevel {
    LogLevel::parse(value).unwrap_or(LogLevel::Info)
}

/// Installs core's sink at the most detailed level any destination wants, or removes it.
fn refresh(sinks: &Sinks) -> napi::Result<()> {
    let wanted = [sinks.logger.as_ref().map(|(_, l)| *l), sinks.stderr];
    let Some(level) = wanted.into_iter().flatten().min() else {
        core_log::uninstall_sink();
        return Ok(());
    };
    let logger = sinks.logger.clone();
    let stderr = sinks.stderr;
    core_log::install_sink(
        Arc::new(move |record: core_log::LogRecord| {
            if stderr.is_some_and(|l| record.level >= l) {
                eprintln!(
                    "ctt-onboard {} {}: {}",
                    record.level.as_str(),
                    record.target,
                    record.message
                );
            }
            if let Some((tsfn, l)) = &logger
                && record.level >= *l
            {
                tsfn.call(
                    LogRecord {
                        level: record.level.as_str().to_owned(),
                        target: record.target,
                        message: record.message,
                        time_ms: crate::convert::time_to_ms(std::time::SystemTime::now()),
                    },
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            }
        }),
        level,
    )
    .napi()
}

/// Reads `CTT_ONBOARD_LOG` once per process and starts printing to stderr when it is set.
pub fn init() {
    INIT.call_once(|| {
        let mut sinks = SINKS.lock().unwrap_or_else(|p| p.into_inner());
        sinks.stderr = std::env::var("CTT_ONBOARD_LOG")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| parse_level(&v));
        // A host that installed its own tracing subscriber keeps it; nothing to report here.
        let _ = refresh(&sinks);
    });
}

/// Sends the library's log events to `logger` (at `level` and above: `error`, `warn`, `info`,
/// `debug`, `trace`; default `info`), or stops sending them when `logger` is `null`.
/// Independently, `CTT_ONBOARD_LOG=debug` in the environment prints them to stderr.
#[napi(
    catch_unwind,
    ts_args_type = "logger: ((record: LogRecord) => void) | null, level?: 'error' | 'warn' | 'info' | 'debug' | 'trace'"
)]
pub fn set_logger(logger: Option<Logger>, level: Option<String>) -> napi::Result<()> {
    init();
    let level = level.as_deref().map(parse_level).unwrap_or(LogLevel::Info);
    let mut sinks = SINKS.lock().unwrap_or_else(|p| p.into_inner());
    sinks.logger = logger.map(|l| (Arc::new(l), level));
    refresh(&sinks)
}
