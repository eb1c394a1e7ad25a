//! The core's `tracing` events, forwarded to Python's `logging.getLogger("ctt_onboard")`.
//!
//! An event is emitted on a tokio worker, where taking the GIL could deadlock against a Python
//! thread that waits for that very future. So the layer below never touches Python: it formats
//! the event into a plain record and queues it. The Python layer drains the queue (`drain_logs`)
//! whenever a call returns, with the GIL held, and hands each record to `logging`.
//!
//! The queue is bounded (the oldest records are dropped first), and its lock is only ever tried,
//! never waited on indefinitely, so a process forked while a worker held it cannot deadlock.

use pyo3::prelude::*;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// Records kept at most before the oldest are dropped.
const CAPACITY: usize = 10_000;

/// A formatted event: Python level number, target, message.
type Record = (u8, String, String);

static QUEUE: Mutex<VecDeque<Record>> = Mutex::new(VecDeque::new());

/// The lowest Python level number forwarded (`logging.DEBUG` = 10 by default).
static MIN_LEVEL: AtomicU8 = AtomicU8::new(10);

fn python_level(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
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

/// Formats an event's fields: the message first, then `key=value` pairs.
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

/// The layer that queues the events of this library's crates.
struct QueueLayer;

fn ours(metadata: &Metadata<'_>) -> bool {
    let target = metadata.target();
    target.starts_with("ctt_onboard") || target.starts_with("ctt_sim")
}

impl<S: Subscriber> Layer<S> for QueueLayer {
    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        ours(metadata) && python_level(metadata.level()) >= MIN_LEVEL.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let record = (
            python_level(metadata.level()),
            metadata.target().to_owned(),
            format!("{}{}", fields.message, fields.rest),
        );
        if let Some(mut q) = queue() {
            if q.len() >= CAPACITY {
                q.pop_front();
            }
            q.push_back(record);
        }
    }
}

/// Installs the layer as the process's tracing subscriber, unless another one was set first.
pub fn install() {
    let _ =
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(QueueLayer));
}

/// Takes every queued record: (level number, target, message).
#[pyfunction]
pub fn drain_logs() -> Vec<(u8, String, String)> {
    match queue() {
        Some(mut q) => q.drain(..).collect(),
        None => Vec::new(),
    }
}

/// Sets the lowest Python level number that is queued at all (the Python layer passes the
/// `ctt_onboard` logger's effective level).
#[pyfunction]
pub fn set_log_level(level: u8) {
    MIN_LEVEL.store(level, Ordering::Relaxed);
    tracing::callsite::rebuild_interest_cache();
}
