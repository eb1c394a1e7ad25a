//! Node's sink for core's log forwarding (`ctt_onboard::__bindings`): events go to the logger set
//! with `setLogger`, and to stderr when the environment variable `CTT_ONBOARD_LOG` is set (to a
//! level such as `debug`; any other value means `info`). Nothing is logged by default.
//!
//! The logger is a weak threadsafe function: events from tokio's threads reach the event loop
//! without blocking it, and a set logger never keeps the process alive. Core never puts a secret
//! in an event; this sink adds nothing to what core records.

use crate::error::IntoNapi;
use ctt_onboard::__bindings::{self as core_log, LogLevel};
use napi::Status;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::sync::{Arc, LazyLock, Mutex, Once};

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

fn level(name: &str) -> LogLevel {
    LogLevel::parse(name).unwrap_or(LogLevel::Info)
}

/// stderr's level, from `CTT_ONBOARD_LOG` (read once per process).
static STDERR: LazyLock<Option<LogLevel>> = LazyLock::new(|| {
    let value = std::env::var("CTT_ONBOARD_LOG").ok();
    value.filter(|v| !v.trim().is_empty()).map(|v| level(&v))
});
/// The logger set last, and its level.
static LOGGER: Mutex<Option<(Arc<Logger>, LogLevel)>> = Mutex::new(None);

/// Installs core's sink for the logger and stderr, at the most detailed level either wants, or
/// removes it when neither wants anything.
fn install(logger: Option<(Arc<Logger>, LogLevel)>) -> napi::Result<()> {
    let stderr = *STDERR;
    let levels = [logger.as_ref().map(|(_, l)| *l), stderr];
    let Some(min) = levels.into_iter().flatten().min() else {
        core_log::uninstall_sink();
        return Ok(());
    };
    let sink = move |r: core_log::LogRecord| {
        if stderr.is_some_and(|l| r.level >= l) {
            eprintln!(
                "ctt-onboard {} {}: {}",
                r.level.as_str(),
                r.target,
                r.message
            );
        }
        if let Some((tsfn, _)) = logger.as_ref().filter(|(_, l)| r.level >= *l) {
            let time_ms = crate::convert::time_to_ms(std::time::SystemTime::now());
            let level = r.level.as_str().to_owned();
            let (target, message) = (r.target, r.message);
            let record = LogRecord {
                level,
                target,
                message,
                time_ms,
            };
            tsfn.call(record, ThreadsafeFunctionCallMode::NonBlocking);
        }
    };
    core_log::install_sink(Arc::new(sink), min).napi()
}

/// Starts printing to stderr when `CTT_ONBOARD_LOG` is set (once per process).
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let logger = LOGGER.lock().unwrap_or_else(|p| p.into_inner());
        // A host that installed its own tracing subscriber keeps it; nothing to report here.
        let _ = install(logger.clone());
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
    let level = level.as_deref().map(self::level).unwrap_or(LogLevel::Info);
    let mut current = LOGGER.lock().unwrap_or_else(|p| p.into_inner());
    *current = logger.map(|l| (Arc::new(l), level));
    install(current.clone())
}
