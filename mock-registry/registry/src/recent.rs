//! A bounded memory of results that cost a cryptographic or parsing operation to reach and
//! can never change (whether octets are a curve point, which clID a certificate names), for
//! the registry's hot paths that meet the same inputs again and again.
//!
//! Only what passed is remembered, by its caller: a refused input goes through the full check
//! every time. The oldest entry goes first when the memory is full. Callers keep one per
//! thread (`thread_local!`), so no lock is taken.

use std::collections::VecDeque;

/// The last `kept` results remembered, oldest first.
#[derive(Debug)]
pub(crate) struct Recent<K, V> {
    kept: usize,
    entries: VecDeque<(K, V)>,
}

impl<K, V> Recent<K, V> {
    /// An empty memory of at most `kept` entries.
    pub(crate) const fn new(kept: usize) -> Self {
        Self {
            kept,
            entries: VecDeque::new(),
        }
    }

    /// The value remembered for the first key that `matches`, if any. A predicate rather than
    /// a key, so a lookup need not build an owned key.
    pub(crate) fn find(&self, matches: impl Fn(&K) -> bool) -> Option<&V> {
        self.entries
            .iter()
            .find(|(k, _)| matches(k))
            .map(|(_, v)| v)
    }

    /// Remembers `value` for `key`, forgetting the oldest entry when full.
    pub(crate) fn remember(&mut self, key: K, value: V) {
        if self.kept == 0 {
            return;
        }
        if self.entries.len() >= self.kept {
            self.entries.pop_front();
        }
        self.entries.push_back((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_entry_is_forgotten_first() {
        let mut r = Recent::new(2);
        r.remember(1, "one");
        r.remember(2, "two");
        assert_eq!(r.find(|k| *k == 1), Some(&"one"));
        r.remember(3, "three");
        assert_eq!(r.find(|k| *k == 1), None);
        assert_eq!(r.find(|k| *k == 2), Some(&"two"));
        assert_eq!(r.find(|k| *k == 3), Some(&"three"));
        let mut none = Recent::new(0);
        none.remember(1, ());
        assert_eq!(none.find(|_| true), None);
    }
}
