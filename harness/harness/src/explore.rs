//! `harness explore`: searches the space of worlds for the smallest scenario that breaks a
//! registrar.
//!
//! Hand-written scenarios test the worlds their authors thought of; the bugs registrars ship
//! are in the others: a wait hard-coded to a day when the TTLs add up to more, a relay expiry of
//! a week when the move takes longer, a CSK where a ZSK was assumed, a publication delay longer
//! than a poll interval. A world ([`WorldParams`], drawn by a proptest strategy) draws from:
//!
//! - TTLs from one minute to three days, at the TLD (NS, DS, DNSKEY, SOA) and at each operator
//!   (DNSKEY, NS, data, negative);
//! - the registry's publication delay (0 to 12 hours) and the RRSIG validity;
//! - per operator: algorithm 8, 13 or 15; KSK+ZSK or a CSK; NSEC, or NSEC3 with or without
//!   opt-out;
//! - the counterpart's behaviour a correct registrar survives: a slow poller (up to every 12
//!   hours), a late publisher of the relayed key (up to a day after it read it);
//! - registry-side chaos, seeded by the world's seed: transient 2400 answers, connections
//!   dropped after a command, logins refused for the session limit, publication jitter;
//! - one to three domains moving at once, and a move there and back (A → B → A).
//!
//! Each world is written as an ordinary scenario file ([`WorldParams::to_toml`], only the
//! settings that differ from the defaults), run with every check ([`run_worlds`], several at
//! once), and a world that fails is shrunk to a minimal one ([`shrink()`]): first every setting
//! the failure does not need goes back to its default, then the rest get smaller. The shrunk
//! world is written under the output directory with comments saying what was shrunk and the
//! seed, and run again from the file: that file reproduces the failure with `harness run`.
//!
//! Worlds come from a seed: the same seed gives the same worlds, and (with the same registrar)
//! the same verdicts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::{Deserialize, Serialize};

use crate::checks::CheckId;
use crate::partition::Partition;
use crate::report::{ScenarioReport, SuiteReport};
use crate::runner::{RunOptions, run_on_threads, run_scenario};
use crate::scenario::{self, Fault, ScenarioError};

pub mod params;
mod shrink;
mod strategy;

pub use params::{Cast, ChaosParams, OperatorParams, Role, WorldParams};
pub use shrink::{Draw, Shrunk, shrink};

/// `cases` worlds from `seed`: the same seed gives the same worlds.
pub fn generate(seed: u64, cases: usize) -> Vec<Draw> {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = WorldParams::strategy();
    (0..cases)
        .filter_map(|_| {
            let tree = strategy.new_tree(&mut runner).ok()?;
            Some(Draw {
                world: tree.current(),
                tree: Box::new(tree),
            })
        })
        .collect()
}

/// The id of the `index`th world of a seed.
pub fn world_id(seed: u64, index: usize) -> String {
    format!("world-{seed}-{index}")
}

/// A seed for a run that names none: from the system clock, so every run explores other
/// worlds (the seed is printed and recorded, so any run can be repeated).
pub fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() ^ u64::from(d.subsec_nanos()))
        % 1_000_000_000
}

/// What to explore and how.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The seed of the worlds.
    pub seed: u64,
    /// How many worlds.
    pub cases: usize,
    /// Worlds run at once.
    pub jobs: usize,
    /// The registrar under test, as a shell command (run by `sh -c`); None: the reference
    /// registrar, in-process.
    pub subject: Option<String>,
    /// Which registrars it plays, cycled over the worlds (world `i` gets `roles[i % len]`).
    pub roles: Vec<Role>,
    /// A deliberate fault of the reference registrar in the role under test (no subject).
    pub fault: Option<Fault>,
    /// How to run each world (the subject is set from [`Plan::subject`]).
    pub options: RunOptions,
    /// At most this many candidate worlds are run to shrink one failure.
    pub shrink_budget: usize,
    /// At most this many failures are shrunk: the first world of each distinct set of
    /// failing checks, in the worlds' order.
    pub max_shrunk: usize,
    /// Where the shrunk scenarios are written (None: nowhere; they are still reproduced).
    pub out: Option<PathBuf>,
    /// The command that repeats this exploration, for the written files' comments.
    pub command: String,
    /// Only the worlds of this part (`--partition K/N`: world `i` is part `(i mod N) + 1`), so
    /// CI runners share an exploration and `harness report merge` joins their reports.
    pub partition: Option<Partition>,
}

impl Plan {
    /// Exploring `cases` worlds of `seed` with the reference registrars in-process, both
    /// roles, without the live check (it checks the harness, not the registrar, and costs most
    /// of a world's time).
    pub fn new(seed: u64, cases: usize) -> Self {
        Self {
            seed,
            cases,
            jobs: 2,
            subject: None,
            roles: vec![Role::Both],
            fault: None,
            options: RunOptions {
                no_live_check: true,
                in_process: true,
                ..RunOptions::default()
            },
            shrink_budget: 150,
            max_shrunk: 3,
            out: None,
            command: format!("harness explore --seed {seed} --cases {cases}"),
            partition: None,
        }
    }

    /// Who plays the registrars of world `index`.
    pub fn cast(&self, index: usize) -> Cast {
        Cast {
            subject: self.subject.is_some(),
            role: self
                .roles
                .get(index % self.roles.len().max(1))
                .copied()
                .unwrap_or(Role::Both),
            fault: self.fault,
        }
    }

    /// The indices of the worlds this plan runs: all, or its partition's.
    pub fn indices(&self) -> Vec<usize> {
        owned(self.cases, self.partition)
    }

    fn run_options(&self) -> RunOptions {
        RunOptions {
            subject: self.subject.clone(),
            // A passing world keeps only its verdict (see `slim`); a failing one its details.
            details_on_failure_only: true,
            ..self.options.clone()
        }
    }
}

/// The indices among `cases` worlds that `partition` owns (all without one).
fn owned(cases: usize, partition: Option<Partition>) -> Vec<usize> {
    (0..cases)
        .filter(|i| partition.is_none_or(|p| p.owns(*i)))
        .collect()
}

/// Where an exploration stands, after each world.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Worlds finished so far, passed or failed.
    pub done: usize,
    /// Worlds to run.
    pub total: usize,
    /// Worlds that failed so far.
    pub failures: usize,
    /// Wall time since the first world started.
    pub elapsed: Duration,
}

impl Progress {
    /// Worlds per second of wall time so far.
    pub fn rate(&self) -> f64 {
        rate(self.done, self.elapsed)
    }
}

fn rate(done: usize, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { done as f64 / secs } else { 0.0 }
}

/// One explored world and its verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorldResult {
    /// Its index in the seed's sequence.
    pub index: usize,
    /// Its scenario id.
    pub id: String,
    /// The registrars the registrar under test played.
    pub role: Role,
    /// Every setting of the world, default or not: enough to run it again.
    pub params: WorldParams,
    /// The settings that differ from the defaults, in one line.
    pub description: String,
    /// Whether every check passed.
    pub passed: bool,
    /// The ids of the checks that failed (empty when it passed).
    pub failed_checks: Vec<CheckId>,
    /// The first failure's message.
    pub message: Option<String>,
    /// Wall time, seconds.
    pub wall_seconds: f64,
}

/// A failing world, shrunk and written as a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FoundFailure {
    /// The index of the world it was shrunk from.
    pub world: usize,
    /// The shrunk scenario's id.
    pub id: String,
    /// The registrars the registrar under test played.
    pub role: Role,
    /// The checks the original world failed.
    pub checks: Vec<CheckId>,
    /// Candidate worlds run while shrinking.
    pub runs: usize,
    /// What shrinking changed, setting by setting.
    pub shrunk: Vec<String>,
    /// The shrunk world's settings.
    pub params: WorldParams,
    /// The shrunk world's settings that differ from the defaults.
    pub description: String,
    /// The scenario file's text.
    pub scenario: String,
    /// Where it was written.
    pub file: Option<String>,
    /// Whether running it from the file failed one of the same checks again.
    pub reproduced: bool,
    /// That run's report.
    pub report: ScenarioReport,
}

/// The result of an exploration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exploration {
    /// The seed of the worlds.
    pub seed: u64,
    /// How many worlds were asked for.
    pub cases: usize,
    /// The registrar under test (None: the reference registrar, in-process).
    pub subject: Option<String>,
    /// The roles, as cycled over the worlds.
    pub roles: Vec<Role>,
    /// The deliberate fault of the reference registrar, if any.
    pub fault: Option<Fault>,
    /// The part of the worlds this exploration ran, when it ran one (`--partition K/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<Partition>,
    /// Whether the live check ran.
    pub live_check: bool,
    /// Wall time of the worlds (shrinking aside), seconds.
    pub wall_seconds: f64,
    /// Worlds per second of wall time.
    pub worlds_per_second: f64,
    /// Wall time spent shrinking, seconds.
    pub shrink_seconds: f64,
    /// Every world, in order.
    pub worlds: Vec<WorldResult>,
    /// The failures, shrunk.
    pub failures: Vec<FoundFailure>,
    /// The worlds' reports without timelines and transcripts (for JUnit).
    #[serde(skip, default)]
    pub reports: Vec<ScenarioReport>,
}

/// Why an exploration could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExploreError {
    /// A world could not be written as a valid scenario (a harness bug).
    #[error("a random world is not a valid scenario: {0}")]
    Scenario(#[from] ScenarioError),
    /// A shrunk scenario could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
}

/// Runs worlds, `jobs` at a time; each report in the worlds' order (timelines and
/// transcripts of passing worlds left out, to keep hundreds of worlds small). `cast` says who
/// plays world `i`; `done` is called as each world finishes.
pub async fn run_worlds(
    seed: u64,
    worlds: &[(usize, WorldParams)],
    cast: impl Fn(usize) -> Cast,
    options: &RunOptions,
    jobs: usize,
    done: impl Fn(&ScenarioReport) + Send + Sync + 'static,
) -> Result<Vec<ScenarioReport>, ScenarioError> {
    let scenarios = worlds
        .iter()
        .map(|(i, w)| w.scenario(&world_id(seed, *i), &cast(*i)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(run_on_threads(
        scenarios,
        options,
        jobs,
        |_| {},
        move |r| {
            done(r);
            if r.passed {
                slim(r);
            }
        },
    )
    .await)
}

/// A report without what makes it large (timeline, lanes, events, transcript).
fn slim(r: &mut ScenarioReport) {
    r.timeline = Vec::new();
    r.verdicts = Vec::new();
    r.lanes = Vec::new();
    r.events = Vec::new();
    r.transcript = Vec::new();
}

/// Explores: runs the plan's worlds, then shrinks the first failure of each kind, writes it
/// as a scenario and runs that file again.
pub async fn explore(
    plan: &Plan,
    progress: impl Fn(&Progress) + Send + Sync + 'static,
) -> Result<Exploration, ExploreError> {
    let indices = plan.indices();
    let mut mine = indices.iter().copied().peekable();
    // Every world is drawn (world i is the seed's i-th draw whichever part runs it); a
    // partition keeps its own.
    let draws: Vec<(usize, Draw)> = generate(plan.seed, plan.cases)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| mine.next_if_eq(i).is_some())
        .collect();
    let worlds: Vec<(usize, WorldParams)> =
        draws.iter().map(|(i, d)| (*i, d.world.clone())).collect();
    let options = plan.run_options();
    let started = Instant::now();
    let total = worlds.len();
    let counters = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let seen = counters.clone();
    let mut reports = run_worlds(
        plan.seed,
        &worlds,
        |i| plan.cast(i),
        &options,
        plan.jobs,
        move |r| {
            let done = seen.0.fetch_add(1, Ordering::Relaxed) + 1;
            let failures = seen.1.fetch_add(usize::from(!r.passed), Ordering::Relaxed)
                + usize::from(!r.passed);
            progress(&Progress {
                done,
                total,
                failures,
                elapsed: started.elapsed(),
            });
        },
    )
    .await?;
    let elapsed = started.elapsed();
    let results: Vec<WorldResult> = reports
        .iter()
        .zip(&worlds)
        .map(|(r, (index, w))| WorldResult {
            index: *index,
            id: r.id.clone(),
            role: plan.cast(*index).role,
            params: w.clone(),
            description: w.describe(),
            passed: r.passed,
            failed_checks: failed_checks(r),
            message: r.failures().next().map(|c| c.message.clone()),
            wall_seconds: r.wall_seconds,
        })
        .collect();

    // The first failing world of each kind (its set of failing checks), shrunk.
    let shrinking = Instant::now();
    let mut kinds: Vec<CheckId> = Vec::new();
    let mut failures = Vec::new();
    for (at, (index, draw)) in draws.into_iter().enumerate() {
        let Some(report) = reports.get(at).filter(|r| !r.passed) else {
            continue;
        };
        // A failure's kind is its first check in the order the checks are listed
        // (DNSSEC-CHAIN-BOGUS before DNS-UNREACHABLE, …): what shrinking keeps failing.
        let Some(kind) = failed_checks(report).first().copied() else {
            continue;
        };
        if kinds.contains(&kind) || kinds.len() >= plan.max_shrunk {
            continue;
        }
        kinds.push(kind);
        failures.push(shrink_and_write(plan, index, draw, report.clone(), kind, &options).await?);
    }
    for r in reports.iter_mut() {
        slim(r);
    }
    Ok(Exploration {
        seed: plan.seed,
        cases: plan.cases,
        subject: plan.subject.clone(),
        roles: plan.roles.clone(),
        fault: plan.fault,
        partition: plan.partition,
        live_check: !plan.options.no_live_check,
        wall_seconds: elapsed.as_secs_f64(),
        worlds_per_second: rate(total, elapsed),
        shrink_seconds: shrinking.elapsed().as_secs_f64(),
        worlds: results,
        failures,
        reports,
    })
}

fn failed_checks(r: &ScenarioReport) -> Vec<CheckId> {
    let mut checks: Vec<CheckId> = r.failures().map(|c| c.check).collect();
    checks.sort();
    checks.dedup();
    checks
}

fn ids(checks: &[CheckId]) -> String {
    checks.iter().map(|c| c.id()).collect::<Vec<_>>().join(", ")
}

/// Shrinks world `index`, writes the result as a scenario (under the plan's output
/// directory, if any) and runs that scenario again.
async fn shrink_and_write(
    plan: &Plan,
    index: usize,
    draw: Draw,
    failing: ScenarioReport,
    kind: CheckId,
    options: &RunOptions,
) -> Result<FoundFailure, ExploreError> {
    let cast = plan.cast(index);
    let original = draw.world.clone();
    let checks = failed_checks(&failing);
    let id = format!("shrunk-{}-{index}", plan.seed);
    let shrunk = shrink(
        draw,
        &id,
        &cast,
        failing,
        &[kind],
        options,
        plan.shrink_budget,
    )
    .await;
    let path = plan.out.as_ref().map(|d| d.join(format!("{id}.toml")));
    let shown = path.as_ref().map_or_else(
        || format!("explored/{id}.toml"),
        |p| p.display().to_string(),
    );
    let changes = original.diff(&shrunk.world);
    let mut header = vec![
        format!(
            "Found by `{}`: world {index} of {} failed {}.",
            plan.command,
            plan.cases,
            ids(&checks)
        ),
        format!(
            "Seed {} (the world's own seed is {}); the registrar under test played {}{}.",
            plan.seed,
            original.seed,
            match cast.role {
                Role::Gaining => "B, the gaining side",
                Role::Losing => "A, the losing side",
                Role::Both => "both sides",
            },
            cast.fault
                .map(|f| format!(" (the reference registrar with fault {})", f.name()))
                .unwrap_or_default()
        ),
        if plan.shrink_budget == 0 {
            format!(
                "Not shrunk (a shrink budget of 0 runs): the world as it was found, failing {} \
                 (here: {}).",
                kind.id(),
                ids(&failed_checks(&shrunk.report))
            )
        } else {
            format!(
                "Shrunk in {} runs to a smallest world that still fails {} (here: {}).",
                shrunk.runs,
                kind.id(),
                ids(&failed_checks(&shrunk.report))
            )
        },
    ];
    if plan.shrink_budget == 0 {
        // Nothing was tried, so nothing is claimed about which settings are needed.
    } else if changes.is_empty() {
        header.push("Nothing could be shrunk: every setting is needed.".into());
    } else {
        header.push("What was shrunk (the original world → this one):".into());
        header.extend(changes.iter().map(|c| format!("  {c}")));
    }
    header.push(format!(
        "Reproduce: harness run {shown}{}",
        plan.subject
            .as_ref()
            .map(|s| format!(" --subject {}", shell_quote(s)))
            .unwrap_or_default()
    ));
    let text = shrunk.world.to_toml(&id, &header, &cast);
    let scenario = match &path {
        Some(p) => {
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir).map_err(|source| ExploreError::Write {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
            std::fs::write(p, &text).map_err(|source| ExploreError::Write {
                path: p.clone(),
                source,
            })?;
            scenario::load(p)?
        }
        None => scenario::parse(Path::new(&shown), &text)?,
    };
    // The file, run as `harness run` would: it must fail the same way.
    let report = run_scenario(Arc::new(scenario), options).await;
    let reproduced = report.failures().any(|c| c.check == kind);
    Ok(FoundFailure {
        world: index,
        id,
        role: cast.role,
        checks,
        runs: shrunk.runs,
        shrunk: changes,
        params: shrunk.world.clone(),
        description: shrunk.world.describe(),
        scenario: text,
        file: path.map(|p| p.display().to_string()),
        reproduced,
        report,
    })
}

/// A command for a shell, quoted when it has to be.
fn shell_quote(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./=:".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

impl Exploration {
    /// Whether no world failed.
    pub fn passed(&self) -> bool {
        self.worlds.iter().all(|w| w.passed)
            && self.worlds.len() == owned(self.cases, self.partition).len()
    }

    /// How many worlds failed.
    pub fn failed(&self) -> usize {
        self.worlds.iter().filter(|w| !w.passed).count()
    }

    /// The terminal summary: each failing world in a line, each shrunk failure with its file
    /// and its checks and witnesses (as `harness run` prints them), and the totals.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for w in self.worlds.iter().filter(|w| !w.passed) {
            let _ = writeln!(
                out,
                "FAIL {} [{}] {}",
                w.id,
                ids(&w.failed_checks),
                w.description
            );
        }
        for f in &self.failures {
            let _ = writeln!(
                out,
                "\nworld {} shrunk in {} runs to {} ({}):",
                f.world,
                f.runs,
                f.file.as_deref().unwrap_or(&f.id),
                if f.reproduced {
                    "the file reproduces the failure"
                } else {
                    "the file did NOT reproduce the failure"
                }
            );
            for c in &f.shrunk {
                let _ = writeln!(out, "  shrunk {c}");
            }
            let suite = SuiteReport {
                kind: "harness-run",
                harness_version: env!("CARGO_PKG_VERSION"),
                started: Timestamp::now(),
                wall_seconds: f.report.wall_seconds,
                partition: None,
                scenarios: vec![f.report.clone()],
            };
            let text = suite.summary(false);
            // The per-scenario part; the totals line is the exploration's own.
            out.push_str(
                text.trim_end()
                    .rsplit_once("\n\n")
                    .map_or(&text, |(s, _)| s),
            );
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "\n{} of {} worlds passed (seed {}{}{}) in {:.1}s: {:.1} worlds/s{}",
            self.worlds.len() - self.failed(),
            owned(self.cases, self.partition).len(),
            self.seed,
            self.partition
                .map(|p| format!(", partition {p} of {} worlds", self.cases))
                .unwrap_or_default(),
            self.fault
                .map(|f| format!(", fault {}", f.name()))
                .unwrap_or_default(),
            self.wall_seconds,
            self.worlds_per_second,
            if self.failures.is_empty() {
                String::new()
            } else {
                format!("; shrinking took {:.1}s", self.shrink_seconds)
            }
        );
        out
    }

    /// The JSON report (`harness explore --json`).
    pub fn to_json(&self, started: Timestamp) -> String {
        #[derive(Serialize)]
        struct Json<'a> {
            kind: &'static str,
            harness_version: &'static str,
            started: Timestamp,
            #[serde(flatten)]
            exploration: &'a Exploration,
        }
        serde_json::to_string_pretty(&Json {
            kind: "harness-explore",
            harness_version: env!("CARGO_PKG_VERSION"),
            started,
            exploration: self,
        })
        .expect("invariant: reports contain only serialisable data")
    }

    /// JUnit XML: one test case per world, the first failing check as the failure type; a
    /// failing world's system-out has its settings and, for a shrunk one, the scenario file.
    pub fn to_junit(&self) -> String {
        let mut report = Report::new("harness");
        let mut suite = TestSuite::new(format!("explore seed {}", self.seed));
        for w in &self.worlds {
            let status = if w.passed {
                TestCaseStatus::success()
            } else {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                if let Some(first) = w.failed_checks.first() {
                    st.set_type(first.id());
                }
                if let Some(m) = &w.message {
                    st.set_message(m);
                }
                st.set_description(ids(&w.failed_checks));
                st
            };
            let mut case = TestCase::new(w.id.clone(), status);
            case.set_classname(format!("explore.{}", self.seed));
            case.set_time(Duration::from_secs_f64(w.wall_seconds));
            case.add_property(("role", w.role.name()));
            if !w.passed {
                let mut text = format!("{}\n", w.description);
                if let Some(f) = self.failures.iter().find(|f| f.world == w.index) {
                    let _ = write!(
                        text,
                        "\nshrunk to {}:\n{}",
                        f.file.as_deref().unwrap_or(&f.id),
                        f.scenario
                    );
                }
                case.set_system_out(text);
            }
            suite.add_test_case(case);
        }
        suite.set_time(Duration::from_secs_f64(self.wall_seconds));
        report.add_test_suite(suite);
        report
            .to_string()
            .expect("invariant: JUnit serialisation of strings cannot fail")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_worlds() {
        let a: Vec<WorldParams> = generate(7, 20).into_iter().map(|d| d.world).collect();
        let b: Vec<WorldParams> = generate(7, 20).into_iter().map(|d| d.world).collect();
        let c: Vec<WorldParams> = generate(8, 20).into_iter().map(|d| d.world).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn every_world_is_a_valid_scenario_for_every_cast() {
        let casts = [
            Cast::default(),
            Cast {
                subject: true,
                role: Role::Gaining,
                fault: None,
            },
            Cast {
                subject: false,
                role: Role::Losing,
                fault: Some(Fault::FixedOneHourWaits),
            },
        ];
        for (i, d) in generate(1, 300).into_iter().enumerate() {
            let w = &d.world;
            let cast = &casts[i % casts.len()];
            let s = w
                .scenario(&world_id(1, i), cast)
                .unwrap_or_else(|e| panic!("{e}\n{}", w.to_toml("x", &[], cast)));
            assert_eq!(s.world.ttl_ds, w.tld_ttl_ds);
            assert_eq!(s.registrars[1].operator.ttl_data, w.operators[1].ttl_data);
            assert_eq!(
                s.world.chaos.propagation_jitter.as_secs(),
                i64::from(w.chaos.propagation_jitter)
            );
            assert!(w.signature_validity >= 3 * w.max_ttl());
            for (r, spec) in s.registrars.iter().enumerate() {
                let tested = cast.role.covers(r);
                assert_eq!(
                    spec.played_by == scenario::PlayedBy::Subject,
                    cast.subject && tested
                );
                assert_eq!(spec.fault.is_some(), cast.fault.is_some() && tested);
            }
        }
    }

    #[test]
    fn worlds_cover_the_space() {
        let worlds: Vec<WorldParams> = generate(3, 300).into_iter().map(|d| d.world).collect();
        let any = |f: &dyn Fn(&WorldParams) -> bool| worlds.iter().any(f);
        assert!(any(&|w| w.operators.iter().any(|o| o.algorithm == 8)));
        assert!(any(&|w| w.operators.iter().any(|o| o.csk)));
        assert!(any(&|w| w.operators.iter().any(|o| o.opt_out)));
        assert!(any(&|w| w
            .operators
            .iter()
            .any(|o| o.relay_publish_delay > 0)));
        assert!(any(&|w| w
            .operators
            .iter()
            .any(|o| o.poll_interval > 6 * 3600)));
        assert!(any(&|w| w.domains == 3 && w.round_trip));
        assert!(any(&|w| w.chaos.transient_failure_permille > 0));
        assert!(any(&|w| w.chaos.drop_connection_permille > 0));
        assert!(any(&|w| w.chaos.session_limit_permille > 0));
        assert!(any(&|w| w.chaos.propagation_jitter > 0));
        assert!(any(&|w| w.tld_ttl_ds > 2 * 86_400));
        assert!(any(
            &|w| w.describe().is_empty() || w.describe().starts_with("seed")
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]

        /// Any drawn world, and every world one shrinking step simpler, is a valid scenario
        /// whose file says what the world says; simpler worlds differ from it and keep
        /// signatures outliving caches.
        #[test]
        fn drawn_worlds_and_their_simpler_ones_are_valid_scenarios(w in WorldParams::strategy()) {
            let cast = Cast::default();
            let s = w.scenario("p", &cast).unwrap();
            proptest::prop_assert_eq!(s.world.ttl_ns, w.tld_ttl_ns);
            proptest::prop_assert_eq!(s.domains.len(), usize::from(w.domains));
            proptest::prop_assert_eq!(s.registrars[0].operator.algorithm, w.operators[0].algorithm);
            proptest::prop_assert!(w.operators.iter().all(|o| o.nsec3 || !o.opt_out));
            let changed = w.changed().len();
            for simpler in w.simpler() {
                proptest::prop_assert_ne!(&simpler, &w);
                proptest::prop_assert!(simpler.changed().len() <= changed);
                proptest::prop_assert!(simpler.signature_validity >= 3 * simpler.max_ttl());
                simpler.scenario("p", &cast).unwrap();
            }
            let all = w.with_defaults(&w.changed());
            proptest::prop_assert!(all.changed().is_empty(), "{:?}", all);
        }
    }

    #[test]
    fn a_diff_names_each_changed_setting() {
        let mut a = generate(5, 1).remove(0).world;
        a.tld_ttl_ds = 2 * 86_400;
        a.chaos.transient_failure_permille = 120;
        let mut b = a.clone();
        b.tld_ttl_ds = 3600;
        b.chaos.transient_failure_permille = 0;
        let d = a.diff(&b);
        assert!(
            d.contains(&"TLD ds TTL: 2d → 1h (default)".to_string()),
            "{d:?}"
        );
        assert!(
            d.contains(&"chaos 2400 rate: 12.0% → 0.0% (default)".to_string()),
            "{d:?}"
        );
        assert_eq!(d.len(), 2);
    }

    /// A passing world's report leaves out the timeline, lanes, events and transcript only
    /// when asked (as exploration asks); `harness run` keeps them; a failing world keeps them
    /// either way (`tests/worlds.rs` checks the failing side).
    #[tokio::test(flavor = "current_thread")]
    async fn details_of_a_passing_world_are_left_out_only_when_asked() {
        let world = generate(7, 1).remove(0).world;
        let scenario = Arc::new(world.scenario(&world_id(7, 0), &Cast::default()).unwrap());
        let mut options = RunOptions {
            no_live_check: true,
            in_process: true,
            ..RunOptions::default()
        };
        let full = run_scenario(scenario.clone(), &options).await;
        assert!(full.passed, "{:?}", full.checks);
        assert!(!full.transcript.is_empty() && !full.timeline.is_empty());
        assert!(!full.lanes.is_empty() && !full.events.is_empty());
        options.details_on_failure_only = true;
        let lean = run_scenario(scenario, &options).await;
        assert!(lean.passed);
        assert!(lean.transcript.is_empty() && lean.timeline.is_empty());
        assert!(lean.lanes.is_empty() && lean.events.is_empty());
        // The verdict is the same: the checks do not read the transcript. (Their messages
        // may differ by a second: signatures also cover the wall clock, for real validators.)
        let outcomes = |r: &ScenarioReport| -> Vec<String> {
            r.checks
                .iter()
                .map(|c| format!("{:?} {:?}", c.check, c.outcome))
                .collect()
        };
        assert_eq!(outcomes(&lean), outcomes(&full));
        assert_eq!(lean.verdicts.len(), full.verdicts.len());
    }
}
