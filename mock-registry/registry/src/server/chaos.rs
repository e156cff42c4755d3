//! Registry-side chaos, in the style of Pebble's knobs (`PEBBLE_WFE_NONCEREJECT`, …): a real
//! registry answers `2400` now and then, drops connections and refuses logins when a
//! registrar's session quota is full. A registrar that only ever met a perfect test server
//! breaks on the first of these in production, so the mock can produce them on purpose.
//!
//! Every knob is off by default. Draws come from one generator seeded by [`Chaos::seed`] and
//! shared by every connection of the server, taken in the order commands arrive: a client
//! that sends its commands one after another (as the harness's registrars do) meets the same
//! chaos every run with the same seed.
//!
//! Chaos never changes the registry: a `2400` answer is given *instead of* executing the
//! command, a dropped connection is dropped *after* the answer to a command was written, and
//! a refused login is refused before any session slot is taken. So resending the command on a
//! new connection is always safe. Every injected answer carries a detail code starting with
//! `X` ([`crate::registry::Area::Chaos`]), so logs and the harness can tell it from a rule.

use std::sync::{Arc, Mutex};

/// The chaos knobs. See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Chaos {
    /// The share (0 to 1, default 0) of commands in a logged-in session, logout aside,
    /// answered `2400 Command failed` without being executed.
    pub transient_failure_rate: f64,
    /// The share (0 to 1, default 0) of commands, login included and logout aside, after
    /// whose answer the server closes the connection (the session ends, as if a load
    /// balancer or a restart dropped it).
    pub drop_connection_rate: f64,
    /// The share (0 to 1, default 0) of otherwise valid logins refused with `2502 Session
    /// limit exceeded; server closing connection`, as if the registrar's other sessions had
    /// used its quota.
    pub session_limit_rate: f64,
    /// The seed of the draws (default 0).
    pub seed: u64,
}

impl Chaos {
    /// Whether any knob is on.
    pub fn is_on(&self) -> bool {
        self.transient_failure_rate > 0.0
            || self.drop_connection_rate > 0.0
            || self.session_limit_rate > 0.0
    }

    /// The knobs in one line, for ready lines and logs (so a run can be repeated).
    pub fn describe(&self) -> String {
        format!(
            "transient_failure_rate={} drop_connection_rate={} session_limit_rate={} seed={}",
            self.transient_failure_rate,
            self.drop_connection_rate,
            self.session_limit_rate,
            self.seed
        )
    }
}

/// Which knob a draw is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Knob {
    /// [`Chaos::transient_failure_rate`].
    TransientFailure,
    /// [`Chaos::drop_connection_rate`].
    DropConnection,
    /// [`Chaos::session_limit_rate`].
    SessionLimit,
}

/// The server's chaos: the knobs, the generator and a pause switch, shared by every
/// connection. Cloning shares it.
///
/// The knobs are fixed when the dice are made and kept outside the lock: a knob at 0 (every
/// knob, on a server without chaos) answers without touching the shared lock, which every
/// command of every connection would otherwise take twice.
#[derive(Debug, Clone, Default)]
pub struct ChaosDice {
    chaos: Chaos,
    state: Arc<Mutex<DiceState>>,
}

#[derive(Debug, Default)]
struct DiceState {
    /// SplitMix64 state.
    state: u64,
    paused: bool,
    /// How many answers each knob changed so far.
    injected: [u64; 3],
}

impl ChaosDice {
    /// Dice for `chaos`, seeded with its seed.
    pub fn new(chaos: Chaos) -> Self {
        Self {
            chaos,
            state: Arc::new(Mutex::new(DiceState {
                state: chaos.seed,
                paused: false,
                injected: [0; 3],
            })),
        }
    }

    /// The knobs.
    pub fn chaos(&self) -> Chaos {
        self.chaos
    }

    /// Pauses (or resumes) chaos without consuming draws: a test harness sending commands of
    /// its own (a scripted step that must get a rule's answer, not chaos) pauses it meanwhile,
    /// as Pebble's management interface lets a test switch behaviour.
    pub fn set_paused(&self, paused: bool) {
        self.lock().paused = paused;
    }

    /// How many answers chaos changed so far: 2400 answers, dropped connections, refused
    /// logins.
    pub fn injected(&self) -> (u64, u64, u64) {
        let s = self.lock();
        (s.injected[0], s.injected[1], s.injected[2])
    }

    /// Draws for `knob`: whether chaos strikes now. A knob at 0 and a paused server draw
    /// nothing, so switching one knob on leaves the other knobs' draws in the same places.
    pub(crate) fn roll(&self, knob: Knob) -> bool {
        let rate = match knob {
            Knob::TransientFailure => self.chaos.transient_failure_rate,
            Knob::DropConnection => self.chaos.drop_connection_rate,
            Knob::SessionLimit => self.chaos.session_limit_rate,
        };
        if rate.is_nan() || rate <= 0.0 {
            return false;
        }
        let mut s = self.lock();
        if s.paused {
            return false;
        }
        let hit = unit(splitmix(&mut s.state)) < rate;
        if hit {
            s.injected[knob as usize] += 1;
        }
        hit
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DiceState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// SplitMix64: small, fast, and the same sequence on every platform.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A draw as a number in [0, 1).
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_when_paused() {
        let d = ChaosDice::default();
        assert!(!(0..1000).any(|_| d.roll(Knob::TransientFailure)));
        let d = ChaosDice::new(Chaos {
            transient_failure_rate: 1.0,
            ..Chaos::default()
        });
        d.set_paused(true);
        assert!(!d.roll(Knob::TransientFailure));
        d.set_paused(false);
        assert!(d.roll(Knob::TransientFailure));
        assert!(!d.roll(Knob::DropConnection));
        assert_eq!(d.injected(), (1, 0, 0));
    }

    #[test]
    fn the_same_seed_gives_the_same_draws_at_about_the_rate() {
        let chaos = Chaos {
            transient_failure_rate: 0.25,
            seed: 42,
            ..Chaos::default()
        };
        let draws = |c: Chaos| -> Vec<bool> {
            let d = ChaosDice::new(c);
            (0..4000).map(|_| d.roll(Knob::TransientFailure)).collect()
        };
        let a = draws(chaos);
        assert_eq!(a, draws(chaos));
        assert_ne!(a, draws(Chaos { seed: 43, ..chaos }));
        let hits = a.iter().filter(|h| **h).count();
        assert!((800..1200).contains(&hits), "{hits} of 4000 at 0.25");
    }
}
