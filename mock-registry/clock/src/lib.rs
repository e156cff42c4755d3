//! The one clock everything reads.
//!
//! Every component that needs the time (EPP dates, poll `qDate`, RRSIG inception and expiry,
//! publication delays) takes a [`Clock`] instead of calling the wall clock. In a scenario the
//! clock is a [`VirtualClock`] that the runner jumps from deadline to deadline, so a procedure
//! that waits days of TTLs runs in milliseconds; `mock-registry serve` uses [`SystemClock`].
#![forbid(unsafe_code)]

use std::fmt;
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// A shareable handle to some clock.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to.
///
/// Cloning gives another handle to the same clock. Time never goes backwards: [`set`](Self::set)
/// to an earlier instant is refused, because every component assumes a monotonic clock (a
/// poll queue's `qDate`s, RRSIG validity windows, the checker's timeline).
#[derive(Debug, Clone)]
pub struct VirtualClock {
    now: Arc<Mutex<Timestamp>>,
}

/// Refusal to move a [`VirtualClock`] backwards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the virtual clock cannot go back from {now} to {requested}")]
pub struct BackwardsInTime {
    /// The clock's current time.
    pub now: Timestamp,
    /// The earlier time that was asked for.
    pub requested: Timestamp,
}

impl VirtualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock to `to`, which must not be earlier than now.
    pub fn set(&self, to: Timestamp) -> Result<(), BackwardsInTime> {
        let mut now = self.lock();
        if to < *now {
            return Err(BackwardsInTime {
                now: *now,
                requested: to,
            });
        }
        *now = to;
        Ok(())
    }

    /// Moves the clock forward by `by` (negative durations are refused) and returns the new time.
    pub fn advance(&self, by: SignedDuration) -> Result<Timestamp, BackwardsInTime> {
        let mut now = self.lock();
        // Only overflow past the year 9999 can fail; stopping there is the useful answer.
        let requested = now.checked_add(by).unwrap_or(Timestamp::MAX);
        if requested < *now {
            return Err(BackwardsInTime {
                now: *now,
                requested,
            });
        }
        *now = requested;
        Ok(requested)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Timestamp> {
        // A poisoned lock only means another thread panicked while holding a plain
        // `Timestamp`; the value is still a valid instant, so keep going with it.
        self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_moves_forward_only() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = VirtualClock::new(start);
        let other = clock.clone();
        let later = clock.advance(SignedDuration::from_hours(26)).unwrap();
        assert_eq!(other.now(), later);
        assert_eq!(later.to_string(), "2026-01-02T02:00:00Z");
        assert!(clock.set(start).is_err());
        assert!(clock.advance(SignedDuration::from_secs(-1)).is_err());
        assert_eq!(clock.now(), later);
    }
}
