//! Times at the boundary: integer milliseconds since the Unix epoch, in every language.
//!
//! serde's own form of `SystemTime` (`{"secs_since_epoch", "nanos_since_epoch"}`) is no host's
//! idea of a time. Every shape that crosses to a binding serializes its times through this module
//! instead, so Python (`datetime`), JavaScript (`Date`) and Kotlin (`Instant`) each convert one
//! documented number.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (negative before it, saturating far out of range).
pub fn to_unix_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

/// The time `ms` milliseconds after (or, negative, before) the Unix epoch.
pub fn from_unix_ms(ms: i64) -> SystemTime {
    let d = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    }
}

/// `#[serde(with = "crate::wire_time::unix_ms")]` for a `SystemTime` field.
pub mod unix_ms {
    use super::*;

    /// Writes the time as integer milliseconds since the epoch.
    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        to_unix_ms(*t).serialize(s)
    }

    /// Reads integer milliseconds since the epoch.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        i64::deserialize(d).map(from_unix_ms)
    }
}

/// `#[serde(with = "crate::wire_time::option_unix_ms")]` for an `Option<SystemTime>` field.
pub mod option_unix_ms {
    use super::*;

    /// Writes the time as integer milliseconds since the epoch, or null.
    pub fn serialize<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
        t.map(to_unix_ms).serialize(s)
    }

    /// Reads integer milliseconds since the epoch, or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SystemTime>, D::Error> {
        Option::<i64>::deserialize(d).map(|ms| ms.map(from_unix_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_round_trip_on_both_sides_of_the_epoch() {
        for ms in [0, 1, 1_764_633_600_123, -86_400_000] {
            assert_eq!(to_unix_ms(from_unix_ms(ms)), ms);
        }
    }
}
