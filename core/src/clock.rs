//! Time as the library sees it, injectable so tests can cross the vendor's 30-minute wait.
//!
//! Token renewal, MSAL expiry and the wait after the tenant-roles error all read the time through
//! [`Clock`]. Production uses [`SystemClock`]; tests share a [`ManualClock`] with the simulator's
//! clock knob and move both forward together.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The system clock plus an offset that only moves forward when told to.
#[derive(Debug, Default, Clone)]
pub struct ManualClock {
    offset: Arc<Mutex<Duration>>,
}

impl ManualClock {
    /// A clock that starts at the system time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|p| p.into_inner());
        *offset += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        let offset = *self.offset.lock().unwrap_or_else(|p| p.into_inner());
        SystemTime::now() + offset
    }
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;
