//! Shrinking a failing world: groups of settings back to their defaults at once (delta
//! debugging), proptest's value trees towards fewer non-default settings
//! ([`super::strategy::OrDefault`] tries each default first) and smaller values, and one
//! setting at a time to its default or the next round value below; each candidate is run; a candidate counts only if it still fails one of the checks the
//! original failed, so shrinking does not wander off to another problem.

use std::collections::HashSet;
use std::sync::Arc;

use proptest::strategy::ValueTree;

use super::params::{Cast, WorldParams};
use crate::checks::CheckId;
use crate::report::ScenarioReport;
use crate::runner::{RunOptions, run_scenario};

/// A world drawn from the strategy, with the value tree that shrinks it.
pub struct Draw {
    /// The drawn settings, as the first run uses them.
    pub world: WorldParams,
    pub(crate) tree: Box<dyn ValueTree<Value = WorldParams> + Send>,
}

impl std::fmt::Debug for Draw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Draw").field("world", &self.world).finish()
    }
}

/// The result of shrinking a failing world.
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The smallest failing world found.
    pub world: WorldParams,
    /// The report of the smallest failing world's run: its failed checks and their evidence.
    pub report: ScenarioReport,
    /// How many candidate worlds were run.
    pub runs: usize,
}

/// Shrinks a failing draw (at most `budget` runs): a candidate counts when it fails one of
/// the `wanted` checks. First groups of settings back to their defaults, halving the groups;
/// when none could go, proptest's pass over the value tree; then, until none of them fails,
/// the worlds one step simpler than the best ([`WorldParams::simpler`]). The last
/// world that still failed is the result; `id` names the candidates' scenarios.
pub async fn shrink(
    mut draw: Draw,
    id: &str,
    cast: &Cast,
    failing: ScenarioReport,
    wanted: &[CheckId],
    options: &RunOptions,
    budget: usize,
) -> Shrunk {
    let mut best = Shrunk {
        world: draw.world.clone(),
        report: failing,
        runs: 0,
    };
    let fails = |r: &ScenarioReport| r.failures().any(|c| wanted.contains(&c.check));
    let run = |candidate: WorldParams| async move {
        // A world the planner refuses is no smaller world.
        let s = candidate.scenario(id, cast).ok()?;
        let r = run_scenario(Arc::new(s), options).await;
        tracing::debug!(passed = r.passed, world = %candidate.describe(), "shrinking");
        Some(r)
    };
    // A value tree comes back to worlds it tried (complicating undoes a step): the best world
    // still fails, and a world that passed passes again.
    let mut passed: HashSet<WorldParams> = HashSet::new();
    // Settings back to their defaults, many at once (delta debugging): all of them, then
    // halves, quarters, … of those still away from their defaults. Most failures need one or
    // two settings, so this reaches them in a few runs where one at a time takes dozens.
    let mut chunk = best.world.changed().len().max(1);
    loop {
        let changed = best.world.changed();
        if changed.is_empty() || best.runs >= budget {
            break;
        }
        chunk = chunk.min(changed.len());
        let mut reduced = false;
        for group in changed.chunks(chunk) {
            if best.runs >= budget {
                break;
            }
            let candidate = best.world.with_defaults(group);
            if candidate == best.world || passed.contains(&candidate) {
                continue;
            }
            best.runs += 1;
            match run(candidate.clone()).await {
                Some(report) if fails(&report) => {
                    best.world = candidate;
                    best.report = report;
                    reduced = true;
                    break;
                }
                _ => {
                    passed.insert(candidate);
                }
            }
        }
        if reduced {
            continue;
        }
        // Single settings are the last pass's.
        if chunk <= 2 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    // proptest's pass over the value tree, when no group of settings could go: it walks the
    // drawn world (each setting to its default first, then smaller values), so after a
    // reduction above it would only bring settings back.
    let reduced = best.world != draw.world;
    'outer: while best.runs < budget && !reduced {
        if !draw.tree.simplify() {
            break;
        }
        loop {
            let candidate = draw.tree.current();
            let failed = if candidate == best.world {
                true
            } else if passed.contains(&candidate) {
                false
            } else {
                best.runs += 1;
                match run(candidate.clone()).await {
                    Some(report) if fails(&report) => {
                        best.world = candidate;
                        best.report = report;
                        true
                    }
                    _ => {
                        passed.insert(candidate);
                        false
                    }
                }
            };
            if failed {
                // The simpler world still fails: keep it and simplify on.
                break;
            }
            if best.runs >= budget || !draw.tree.complicate() {
                break 'outer;
            }
        }
    }
    // One setting at a time, as long as any simpler world still fails.
    'greedy: while best.runs < budget {
        for candidate in best.world.simpler() {
            if passed.contains(&candidate) {
                continue;
            }
            if best.runs >= budget {
                break 'greedy;
            }
            best.runs += 1;
            match run(candidate.clone()).await {
                Some(report) if fails(&report) => {
                    best.world = candidate;
                    best.report = report;
                    continue 'greedy;
                }
                _ => {
                    passed.insert(candidate);
                }
            }
        }
        break;
    }
    best
}
