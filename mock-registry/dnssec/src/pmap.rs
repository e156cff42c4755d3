//! A sorted map whose clones share structure, so a new snapshot costs little more than the change.
//!
//! A signed TLD holds one entry per name (100,000 and more). Each republication makes a new
//! immutable snapshot while the old one may still be served, so copying the whole map per change
//! would make republication cost proportional to the zone, not to the change. This map keeps its
//! entries in sorted chunks of at most `2 * CHUNK` entries behind `Arc`s: a clone is one `Arc`
//! increment, and a change copies the list of chunk pointers (n / CHUNK pointers) and the one
//! chunk it touches (≤ 2 * CHUNK entries). For 100,000 names that is well under a thousand
//! pointer copies, against 100,000 entry copies for a `BTreeMap` clone.
//!
//! It offers what the signer and the server need: exact lookups, in-order iteration from any key
//! forwards, and from any key backwards (the predecessor walk that finds a covering NSEC/NSEC3).

use std::fmt;
use std::sync::Arc;

/// Target chunk size: chunks split above twice this and merge below a quarter of it.
const CHUNK: usize = 128;

type Chunk<K, V> = Arc<Vec<(K, V)>>;

/// See the module documentation.
#[derive(Clone)]
pub(crate) struct ChunkedMap<K, V> {
    /// Non-empty sorted chunks; every key of a chunk is below every key of the next.
    chunks: Arc<Vec<Chunk<K, V>>>,
    len: usize,
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for ChunkedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.chunks
                    .iter()
                    .flat_map(|c| c.iter().map(|(k, v)| (k, v))),
            )
            .finish()
    }
}

impl<K: Ord + Clone, V: Clone> Default for ChunkedMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord + Clone, V: Clone> ChunkedMap<K, V> {
    /// An empty map.
    pub(crate) fn new() -> Self {
        Self {
            chunks: Arc::new(Vec::new()),
            len: 0,
        }
    }

    /// Builds a map from entries sorted by strictly increasing key.
    #[cfg(test)]
    pub(crate) fn from_sorted(entries: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut chunks = Vec::new();
        let mut current = Vec::with_capacity(CHUNK);
        let mut len = 0;
        for (k, v) in entries {
            debug_assert!(
                current
                    .last()
                    .or_else(|| chunks.last().and_then(|c: &Chunk<K, V>| c.last()))
                    .is_none_or(|(last, _)| *last < k),
                "from_sorted needs strictly increasing keys"
            );
            current.push((k, v));
            len += 1;
            if current.len() == CHUNK {
                chunks.push(Arc::new(std::mem::replace(
                    &mut current,
                    Vec::with_capacity(CHUNK),
                )));
            }
        }
        if !current.is_empty() {
            chunks.push(Arc::new(current));
        }
        Self {
            chunks: Arc::new(chunks),
            len,
        }
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The chunk that holds `key` if present, or where it would go.
    fn chunk_index(&self, key: &K) -> usize {
        let i = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|(last, _)| last < key));
        i.min(self.chunks.len().saturating_sub(1))
    }

    /// The position of the first entry `>= key`, as (chunk, index); may be one past the end.
    fn lower_bound(&self, key: &K) -> (usize, usize) {
        let ci = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|(last, _)| last < key));
        if ci == self.chunks.len() {
            return (ci, 0);
        }
        let i = self.chunks[ci].partition_point(|(k, _)| k < key);
        (ci, i)
    }

    /// The value for `key`.
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        if self.chunks.is_empty() {
            return None;
        }
        let chunk = &self.chunks[self.chunk_index(key)];
        chunk
            .binary_search_by(|(k, _)| k.cmp(key))
            .ok()
            .map(|i| &chunk[i].1)
    }

    /// The value for `key`, for changing in place (copies the chunk if it is shared).
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        if self.chunks.is_empty() {
            return None;
        }
        let ci = self.chunk_index(key);
        let i = self.chunks[ci].binary_search_by(|(k, _)| k.cmp(key)).ok()?;
        let chunks = Arc::make_mut(&mut self.chunks);
        Some(&mut Arc::make_mut(&mut chunks[ci])[i].1)
    }

    /// Inserts or replaces; returns the old value.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        if self.chunks.is_empty() {
            Arc::make_mut(&mut self.chunks).push(Arc::new(vec![(key, value)]));
            self.len = 1;
            return None;
        }
        let ci = self.chunk_index(&key);
        let chunks = Arc::make_mut(&mut self.chunks);
        let chunk = Arc::make_mut(&mut chunks[ci]);
        match chunk.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => Some(std::mem::replace(&mut chunk[i].1, value)),
            Err(i) => {
                chunk.insert(i, (key, value));
                self.len += 1;
                if chunk.len() > 2 * CHUNK {
                    let tail = chunk.split_off(chunk.len() / 2);
                    chunks.insert(ci + 1, Arc::new(tail));
                }
                None
            }
        }
    }

    /// Removes `key`; returns its value.
    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        if self.chunks.is_empty() {
            return None;
        }
        let ci = self.chunk_index(key);
        let i = self.chunks[ci].binary_search_by(|(k, _)| k.cmp(key)).ok()?;
        let chunks = Arc::make_mut(&mut self.chunks);
        let chunk = Arc::make_mut(&mut chunks[ci]);
        let (_, value) = chunk.remove(i);
        self.len -= 1;
        let remaining = chunk.len();
        if remaining == 0 {
            chunks.remove(ci);
        } else if remaining < CHUNK / 4 {
            // Merge with a neighbour so lookups stay logarithmic after many removals.
            let neighbour = if ci + 1 < chunks.len() {
                Some(ci + 1)
            } else {
                ci.checked_sub(1)
            };
            if let Some(n) = neighbour {
                let (lo, hi) = (ci.min(n), ci.max(n));
                if chunks[lo].len() + chunks[hi].len() <= 2 * CHUNK {
                    let high = chunks.remove(hi);
                    let low = Arc::make_mut(&mut chunks[lo]);
                    low.extend(high.iter().cloned());
                }
            }
        }
        Some(value)
    }

    /// All entries in order.
    pub(crate) fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            chunks: &self.chunks,
            ci: 0,
            i: 0,
        }
    }

    /// Entries `>= key`, in order.
    pub(crate) fn iter_from(&self, key: &K) -> Iter<'_, K, V> {
        let (ci, i) = self.lower_bound(key);
        Iter {
            chunks: &self.chunks,
            ci,
            i,
        }
    }

    /// Entries `< key`, in descending order.
    pub(crate) fn iter_before(&self, key: &K) -> RevIter<'_, K, V> {
        let (ci, i) = self.lower_bound(key);
        RevIter {
            chunks: &self.chunks,
            ci,
            i,
        }
    }

    /// Entries in descending order from the last.
    pub(crate) fn iter_rev(&self) -> RevIter<'_, K, V> {
        RevIter {
            chunks: &self.chunks,
            ci: self.chunks.len(),
            i: 0,
        }
    }

    /// The smallest entry.
    pub(crate) fn first(&self) -> Option<(&K, &V)> {
        self.iter().next()
    }

    /// The largest entry.
    pub(crate) fn last(&self) -> Option<(&K, &V)> {
        self.iter_rev().next()
    }
}

/// Entries in ascending key order, walking the chunks in turn.
#[derive(Debug)]
pub(crate) struct Iter<'a, K, V> {
    chunks: &'a [Chunk<K, V>],
    ci: usize,
    i: usize,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let chunk = self.chunks.get(self.ci)?;
            if let Some((k, v)) = chunk.get(self.i) {
                self.i += 1;
                return Some((k, v));
            }
            self.ci += 1;
            self.i = 0;
        }
    }
}

/// Descending iterator: yields the entries before position (ci, i).
#[derive(Debug)]
pub(crate) struct RevIter<'a, K, V> {
    chunks: &'a [Chunk<K, V>],
    ci: usize,
    i: usize,
}

impl<'a, K, V> Iterator for RevIter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.i > 0 {
                self.i -= 1;
                let (k, v) = &self.chunks[self.ci][self.i];
                return Some((k, v));
            }
            if self.ci == 0 {
                return None;
            }
            self.ci -= 1;
            self.i = self.chunks[self.ci].len();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The map behaves like a BTreeMap under any sequence of inserts and removes, and a clone
        /// taken before the changes is unaffected by them.
        #[test]
        fn behaves_like_btreemap(
            initial in proptest::collection::btree_set(0u32..2000, 0..600),
            ops in proptest::collection::vec((any::<bool>(), 0u32..2000), 0..800),
            probes in proptest::collection::vec(0u32..2100, 0..50),
        ) {
            let mut model: BTreeMap<u32, u32> = initial.iter().map(|k| (*k, k * 2)).collect();
            let mut map = ChunkedMap::from_sorted(model.iter().map(|(k, v)| (*k, *v)));
            let before = map.clone();
            let before_model = model.clone();
            for (insert, k) in ops {
                if insert {
                    prop_assert_eq!(map.insert(k, k + 1), model.insert(k, k + 1));
                } else {
                    prop_assert_eq!(map.remove(&k), model.remove(&k));
                }
                prop_assert_eq!(map.len(), model.len());
            }
            let all: Vec<_> = map.iter().map(|(k, v)| (*k, *v)).collect();
            let expected: Vec<_> = model.iter().map(|(k, v)| (*k, *v)).collect();
            prop_assert_eq!(all, expected);
            for p in probes {
                prop_assert_eq!(map.get(&p), model.get(&p));
                let from: Vec<_> = map.iter_from(&p).map(|(k, _)| *k).collect();
                let from_model: Vec<_> = model.range(p..).map(|(k, _)| *k).collect();
                prop_assert_eq!(from, from_model);
                let before_p: Vec<_> = map.iter_before(&p).map(|(k, _)| *k).collect();
                let before_model_p: Vec<_> = model.range(..p).rev().map(|(k, _)| *k).collect();
                prop_assert_eq!(before_p, before_model_p);
            }
            prop_assert_eq!(map.first().map(|(k, _)| *k), model.keys().next().copied());
            prop_assert_eq!(map.last().map(|(k, _)| *k), model.keys().next_back().copied());
            let untouched: Vec<_> = before.iter().map(|(k, v)| (*k, *v)).collect();
            let untouched_model: Vec<_> = before_model.into_iter().collect();
            prop_assert_eq!(untouched, untouched_model);
        }
    }
}
