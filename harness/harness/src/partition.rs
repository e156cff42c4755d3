//! `--partition K/N`: one of N deterministic parts of a run, so the runners of a CI system can
//! share it (as `cargo nextest run --partition count:K/N` does), and `harness report merge`
//! joins the parts' reports into the report one machine would have written.
//!
//! **Which part an item belongs to.** The scenario ids of the whole run are sorted
//! (byte-wise); the scenario at index `i` of that order (from 0) belongs to partition
//! `(i mod N) + 1`. So the parts differ in size by one at most, the split depends only on the
//! set of ids (not on the order of paths on the command line, nor on the machine), and each
//! part still runs its scenarios in the run's own order. Numbered items without ids (the
//! worlds of `harness explore`) use their index the same way: [`Partition::owns`].
//!
//! A partial report records its [`PartitionInfo`]: which part it is and the ids of the whole
//! run in run order, so a merge can check that every part is there once, that each holds
//! exactly its scenarios, and put them back in the run's order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Part `index` of `count` (both from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Partition {
    /// Which part, 1 to `count`.
    pub index: u32,
    /// How many parts.
    pub count: u32,
}

/// `--partition` was not `K/N` with 1 ≤ K ≤ N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid partition {given:?}: expected K/N with 1 <= K <= N (e.g. 2/3)")]
pub struct PartitionError {
    /// What was given.
    pub given: String,
}

impl FromStr for Partition {
    type Err = PartitionError;

    fn from_str(s: &str) -> Result<Self, PartitionError> {
        let err = || PartitionError {
            given: s.to_string(),
        };
        // nextest writes `count:K/N`; accept that spelling too.
        let spec = s.trim().strip_prefix("count:").unwrap_or(s.trim());
        let (k, n) = spec.split_once('/').ok_or_else(err)?;
        let index: u32 = k.trim().parse().map_err(|_| err())?;
        let count: u32 = n.trim().parse().map_err(|_| err())?;
        if index == 0 || count == 0 || index > count {
            return Err(err());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Partition {
    /// Whether the item at `position` (from 0) of the sorted order belongs to this part.
    pub fn owns(&self, position: usize) -> bool {
        // u32 → usize never truncates on the platforms Rust's std supports (≥ 32 bits); the
        // fields are public, so a zero is treated as 1 rather than divided by.
        position % self.count.max(1) as usize == self.index.saturating_sub(1) as usize
    }

    /// The items of this part, in their given order; `id` names each (ids are unique).
    pub fn select<T>(&self, items: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
        let ids: Vec<String> = items.iter().map(|t| id(t).to_string()).collect();
        let mine: std::collections::BTreeSet<String> = self.ids(&ids).into_iter().collect();
        items.into_iter().filter(|t| mine.contains(id(t))).collect()
    }

    /// The ids of this part among `all` (any order), in the order of `all`.
    pub fn ids(&self, all: &[String]) -> Vec<String> {
        let mut sorted: Vec<&String> = all.iter().collect();
        sorted.sort();
        sorted.dedup();
        all.iter()
            .filter(|id| {
                sorted
                    .binary_search(id)
                    .is_ok_and(|position| self.owns(position))
            })
            .cloned()
            .collect()
    }

    /// What a partial report records about it, given the ids of the whole run in run order.
    pub fn info(&self, all: &[String]) -> PartitionInfo {
        PartitionInfo {
            index: self.index,
            count: self.count,
            scenarios: all.to_vec(),
        }
    }
}

/// In a partial report: which part it is, and what the whole run was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionInfo {
    /// Which part, 1 to `count`.
    pub index: u32,
    /// How many parts.
    pub count: u32,
    /// The ids of every scenario of the whole run, in run order (the merged report's order).
    pub scenarios: Vec<String>,
}

impl PartitionInfo {
    /// The part it describes.
    pub fn partition(&self) -> Partition {
        Partition {
            index: self.index,
            count: self.count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Partition {
        s.parse().expect("valid")
    }

    #[test]
    fn parses_k_of_n_and_refuses_the_rest() {
        assert_eq!(p("2/3"), Partition { index: 2, count: 3 });
        assert_eq!(p("count:1/1"), Partition { index: 1, count: 1 });
        assert_eq!(p("2/3").to_string(), "2/3");
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "/3", "1/", "-1/3"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }

    #[test]
    fn parts_are_by_sorted_id_round_robin_and_keep_the_run_order() {
        let run: Vec<String> = ["d", "b", "a", "e", "c"].map(String::from).to_vec();
        // Sorted: a b c d e → 1/2 owns a c e, 2/2 owns b d; each in the run's order.
        assert_eq!(p("1/2").ids(&run), ["a", "e", "c"]);
        assert_eq!(p("2/2").ids(&run), ["d", "b"]);
        assert_eq!(
            p("2/2").select(run.clone(), |s| s.as_str()),
            ["d", "b"].map(String::from)
        );
        // The split does not depend on the order the ids come in.
        let mut reversed = run.clone();
        reversed.reverse();
        assert_eq!(p("2/2").ids(&reversed), ["b", "d"]);
    }

    #[test]
    fn every_item_is_in_exactly_one_part_and_parts_are_balanced() {
        let run: Vec<String> = (0..26).map(|i| format!("s{i:02}")).collect();
        for n in 1..=7u32 {
            let parts: Vec<Vec<String>> = (1..=n)
                .map(|k| Partition { index: k, count: n }.ids(&run))
                .collect();
            let mut all: Vec<String> = parts.concat();
            all.sort();
            assert_eq!(all, run, "N={n}");
            let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
            let (min, max) = (sizes.iter().min(), sizes.iter().max());
            assert!(max.zip(min).is_some_and(|(a, b)| a - b <= 1), "{sizes:?}");
        }
    }
}
