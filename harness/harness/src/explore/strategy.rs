//! A proptest strategy for a setting that has a default: usually drawn from another strategy,
//! sometimes the default itself, and shrunk to the default before anything else.
//!
//! proptest shrinks a value towards the low end of its range. A world's settings want
//! something else first: a failing world should lose every setting the failure does not need
//! (so the written scenario says only what matters), and only then should the settings that
//! remain get smaller. [`OrDefault`] does that: its first simplification is the default; when
//! the failure needs the drawn value, it shrinks that value as the inner strategy would.

use std::fmt;

use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

/// `default` with probability `percent`/100, otherwise a value of `inner`; shrinks to the
/// default first.
#[derive(Debug, Clone)]
pub(crate) struct OrDefault<S: Strategy> {
    default: S::Value,
    percent: u32,
    inner: S,
}

impl<S: Strategy> OrDefault<S> {
    /// A setting that is `default` in `percent` of the draws.
    pub(crate) fn new(default: S::Value, percent: u32, inner: S) -> Self {
        Self {
            default,
            percent: percent.min(100),
            inner,
        }
    }
}

/// Where an [`OrDefaultTree`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The default: nothing is simpler.
    Default,
    /// A drawn value; the default not tried yet.
    Drawn,
    /// The default, on trial.
    TryingDefault,
    /// The failure needs a drawn value: shrink it as the inner tree does.
    Inner,
}

/// The value tree of [`OrDefault`].
pub(crate) struct OrDefaultTree<T: ValueTree> {
    default: T::Value,
    inner: Option<T>,
    state: State,
}

impl<T: ValueTree> fmt::Debug for OrDefaultTree<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrDefaultTree")
            .field("default", &self.default)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<S: Strategy> Strategy for OrDefault<S>
where
    S::Value: Clone,
{
    type Tree = OrDefaultTree<S::Tree>;
    type Value = S::Value;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let roll = (0u32..100).new_tree(runner)?.current();
        if roll < self.percent {
            return Ok(OrDefaultTree {
                default: self.default.clone(),
                inner: None,
                state: State::Default,
            });
        }
        Ok(OrDefaultTree {
            default: self.default.clone(),
            inner: Some(self.inner.new_tree(runner)?),
            state: State::Drawn,
        })
    }
}

impl<T: ValueTree> ValueTree for OrDefaultTree<T>
where
    T::Value: Clone,
{
    type Value = T::Value;

    fn current(&self) -> T::Value {
        match (&self.state, &self.inner) {
            (State::Drawn | State::Inner, Some(inner)) => inner.current(),
            _ => self.default.clone(),
        }
    }

    fn simplify(&mut self) -> bool {
        match self.state {
            State::Drawn => {
                self.state = State::TryingDefault;
                true
            }
            // The default still failed: keep it.
            State::TryingDefault => {
                self.state = State::Default;
                false
            }
            State::Inner => self.inner.as_mut().is_some_and(ValueTree::simplify),
            State::Default => false,
        }
    }

    fn complicate(&mut self) -> bool {
        match self.state {
            // The default made the failure go: the drawn value matters.
            State::TryingDefault => {
                self.state = State::Inner;
                true
            }
            State::Inner => self.inner.as_mut().is_some_and(ValueTree::complicate),
            State::Default | State::Drawn => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng};

    fn runner() -> TestRunner {
        TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
        )
    }

    #[test]
    fn shrinks_to_the_default_first_and_then_the_value() {
        let s = OrDefault::new(3600u32, 0, 60u32..=259_200);
        let mut r = runner();
        let mut t = s.new_tree(&mut r).unwrap();
        let drawn = t.current();
        assert_ne!(drawn, 3600);
        assert!(t.simplify());
        assert_eq!(t.current(), 3600, "the default comes first");
        // The failure needs more than 100 000: the default passed, so back to the value.
        assert!(t.complicate());
        assert_eq!(t.current(), drawn);
        let fails = |v: u32| v > 100_000;
        if !fails(drawn) {
            return;
        }
        while t.simplify() {
            while !fails(t.current()) {
                if !t.complicate() {
                    break;
                }
            }
        }
        assert!(fails(t.current()));
        assert!(t.current() < 100_100, "{}", t.current());
    }

    #[test]
    fn a_default_that_still_fails_is_kept() {
        let s = OrDefault::new(0u32, 0, 1u32..=300);
        let mut t = s.new_tree(&mut runner()).unwrap();
        assert!(t.simplify());
        assert_eq!(t.current(), 0);
        assert!(!t.simplify());
        assert_eq!(t.current(), 0);
        assert!(!t.complicate());
    }

    #[test]
    fn the_share_of_defaults_follows_the_percentage() {
        let s = OrDefault::new(0u32, 50, 1u32..=300);
        let mut r = runner();
        let defaults = (0..1000)
            .filter(|_| s.new_tree(&mut r).unwrap().current() == 0)
            .count();
        assert!((400..600).contains(&defaults), "{defaults}");
    }
}
