//! The core's log events, forwarded to Python's `logging.getLogger("ctt_onboard")`.
//!
//! Core owns the `tracing` subscriber (the hidden `ctt_onboard::__bindings`); this binding supplies
//! its sink.
//! The sink runs on whichever thread logged, often a tokio worker, where taking the GIL could
//! deadlock against a Python thread waiting for that very future. So the sink never touches
//! Python: it queues the record. The Python layer drains the queue (`drain_logs`) before and
//! after every call, with the GIL held, and hands each record to `logging`.
//!
//! The queue is bounded (the oldest records are dropped first), and its lock is only ever tried,
//! never waited on indefinitely, so a process forked while a worker held it cannot deadlock.

use ctt_onboard::__bindings::{LogLevel, LogRecord, install_sink};
use pyo3::prelude::*;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

/// Records kept at most before the oldest are dropped.
const CAPACITY: usize = 10_000;

/// A queued record: Python level number, target, message.
type Record = (u8, String, String);

static QUEUE: Mutex<VecDeque<Record>> = Mutex::new(VecDeque::new());

/// Whether the queue may hold a record: lets the Python layer skip draining after a call that
/// logged nothing with one lock-free check. Set under the queue's lock after a push, cleared under
/// it by a drain, so a record is never left behind with the flag clear.
static PENDING: AtomicBool = AtomicBool::new(false);

/// The Python level number of a core level.
fn python_level(level: LogLevel) -> u8 {
    match level {
        LogLevel::Error => 40,
        LogLevel::Warn => 30,
        LogLevel::Info => 20,
        LogLevel::Debug => 10,
        LogLevel::Trace => 5,
    }
}

/// The most detailed core level a Python level number lets through.
fn core_level(python: u8) -> LogLevel {
    match python {
        0..=5 => LogLevel::Trace,
        6..=10 => LogLevel::Debug,
        11..=20 => LogLevel::Info,
        21..=30 => LogLevel::Warn,
        _ => LogLevel::Error,
    }
}

/// Takes the queue's lock, trying for a while rather than blocking forever.
fn queue() -> Option<MutexGuard<'static, VecDeque<Record>>> {
    for _ in 0..10_000 {
        match QUEUE.try_lock() {
            Ok(guard) => return Some(guard),
            Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => std::thread::yield_now(),
        }
    }
    None
}

fn sink(record: LogRecord) {
    let record = (python_level(record.level), record.target, record.message);
    if let Some(mut q) = queue() {
        if q.len() >= CAPACITY {
            q.pop_front();
        }
        q.push_back(record);
        PENDING.store(true, Ordering::Release);
    }
}

/// Installs the sink at `level` (a Python level number). When another `tracing` subscriber owns
/// the process, records are not forwarded and this returns false.
fn install(level: u8) -> bool {
    install_sink(Arc::new(sink), core_level(level)).is_ok()
}

/// Installs the sink at `logging.DEBUG` when the module loads; the Python layer then follows the
/// `ctt_onboard` logger's level.
pub fn install_default() {
    install(10);
}

/// Takes every queued record: (level number, target, message).
#[pyfunction]
pub fn drain_logs() -> Vec<(u8, String, String)> {
    match queue() {
        Some(mut q) => {
            PENDING.store(false, Ordering::Release);
            q.drain(..).collect()
        }
        None => Vec::new(),
    }
}

/// Sets the lowest Python level number that is queued at all (the Python layer passes the
/// `ctt_onboard` logger's effective level). False when another subscriber owns the process.
#[pyfunction]
pub fn set_log_level(level: u8) -> bool {
    install(level)
}

/// True when records may be waiting for `drain_logs`; a cheap check the Python layer makes after
/// every call.
#[pyfunction]
pub fn logs_pending() -> bool {
    PENDING.load(Ordering::Acquire)
}
