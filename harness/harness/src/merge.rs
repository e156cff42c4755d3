//! `harness report merge`: joins the JSON reports of a run spread over several machines
//! (`run --json` or `certify` with `--partition K/N`) into the report one machine would have
//! written, from which the JUnit file and the HTML page follow as usual.
//!
//! The merged report has the same scenarios in the same order (the whole run's, recorded in
//! every part), each scenario's entry exactly as its part wrote it (verdict, checks, evidence,
//! timeline, transcript, its own wall time), and the verdict recomputed from them (a
//! certification is certified only when every scenario of the whole profile passed). Only the
//! run's own wall-clock fields differ from a single machine's: `started` is the earliest
//! part's start, and `wall_seconds` runs from there to the end of the part that finished last
//! (the elapsed time of the spread-out run, including any wait for a free runner).
//!
//! Nothing is guessed: the parts must be of one kind, made by this harness version, of one
//! subject and profile (certifications), and each part `K/N` must be there exactly once with
//! exactly its scenarios; a missing partition is an error that names it and its scenarios.
//! Reports without partition information (whole runs of different scenario sets) are joined
//! in the order given, refusing a scenario id twice.
//!
//! Explorations (`harness explore --partition K/N --json`) merge the same way: every part of
//! one seed, case count, subject, roles, fault and live-check setting once, each with exactly
//! its worlds (world `i` is part `(i mod N) + 1`); the worlds are put back in order and the
//! shrunk failures kept, the first of each kind (its first failing check) in world order, as
//! one machine would have shrunk them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::certify::Certification;
use crate::explore::Exploration;
use crate::partition::PartitionInfo;
use crate::report::{ScenarioReport, SuiteReport};

/// One report to merge, as read from its file.
#[derive(Debug, Clone, Deserialize)]
pub struct Part {
    /// `harness-run` or `harness-certification`.
    pub kind: String,
    /// The harness version that wrote it.
    pub harness_version: String,
    /// When its run started.
    pub started: Timestamp,
    /// Its run's wall time, seconds.
    pub wall_seconds: f64,
    /// Which part it is, when it is one.
    pub partition: Option<PartitionInfo>,
    /// Certifications: the adapter protocol version.
    pub protocol_version: Option<u32>,
    /// Certifications: the registrar under test.
    pub subject: Option<String>,
    /// Certifications: the profile.
    pub profile: Option<String>,
    /// The scenarios of every partial report, in the order one run would have listed them.
    pub scenarios: Vec<ScenarioReport>,
}

/// The merged report.
#[derive(Debug, Clone)]
pub enum Merged {
    /// Of `run --json` reports.
    Run(SuiteReport),
    /// Of `certification.json` reports.
    Certification(Box<Certification>),
    /// Of `harness explore --json` reports.
    Explore {
        /// The earliest part's start.
        started: Timestamp,
        /// The whole exploration.
        exploration: Box<Exploration>,
    },
}

/// One `harness explore --json` report, as read.
#[derive(Debug, Clone, Deserialize)]
struct ExplorePart {
    kind: String,
    harness_version: String,
    started: Timestamp,
    #[serde(flatten)]
    exploration: Exploration,
}

impl Merged {
    /// Whether every scenario passed (for a certification: certified).
    pub fn passed(&self) -> bool {
        match self {
            Self::Run(s) => s.passed() && !s.scenarios.is_empty(),
            Self::Certification(c) => c.certified,
            Self::Explore { exploration, .. } => exploration.passed(),
        }
    }

    /// The merged scenarios, in run order (an exploration's worlds keep only their verdicts,
    /// so it has none).
    pub fn scenarios(&self) -> &[ScenarioReport] {
        match self {
            Self::Run(s) => &s.scenarios,
            Self::Certification(c) => &c.scenarios,
            Self::Explore { .. } => &[],
        }
    }

    /// What was merged, counted: "12 scenarios", or "200 worlds".
    pub fn count(&self) -> String {
        match self {
            Self::Explore { exploration, .. } => format!("{} worlds", exploration.worlds.len()),
            _ => format!("{} scenarios", self.scenarios().len()),
        }
    }

    /// The terminal summary, as one run would have printed it.
    pub fn summary(&self) -> String {
        match self {
            Self::Run(s) => s.summary(false),
            Self::Certification(c) => SuiteReport {
                kind: "harness-run",
                harness_version: c.harness_version,
                started: c.started,
                wall_seconds: c.wall_seconds,
                partition: None,
                scenarios: c.scenarios.clone(),
            }
            .summary(false),
            Self::Explore { exploration, .. } => exploration.summary(),
        }
    }

    /// The JSON report.
    pub fn to_json(&self) -> String {
        match self {
            Self::Run(s) => s.to_json(),
            Self::Certification(c) => c.to_json(),
            Self::Explore {
                started,
                exploration,
            } => exploration.to_json(*started),
        }
    }

    /// The merged report as JUnit XML, as `--junit` writes it for CI test views.
    pub fn to_junit(&self) -> String {
        match self {
            Self::Run(s) => s.to_junit(),
            Self::Certification(c) => c.to_junit(),
            Self::Explore { exploration, .. } => exploration.to_junit(),
        }
    }

    /// The JSON file's name in an output directory: `report.json`, or `certification.json`
    /// as `harness certify` names it.
    pub fn json_name(&self) -> &'static str {
        match self {
            Self::Run(_) => "report.json",
            Self::Certification(_) => crate::certify::JSON_FILE,
            Self::Explore { .. } => "explore.json",
        }
    }

    /// Writes the page and the pictures into `dir`, as `run --html DIR` (`index.html`) or
    /// `certify --out DIR` (`certification.html`, with `certification.json` beside it) would;
    /// returns the page's path.
    pub fn write_html(&self, dir: &Path) -> Result<PathBuf, String> {
        match self {
            Self::Run(s) => crate::report::html::write_run_html(dir, s).map_err(|e| e.to_string()),
            Self::Certification(c) => c.write(dir).map(|(_, html)| html),
            Self::Explore { .. } => Err(
                "an exploration has no HTML page (each shrunk failure is a scenario: `harness \
                 run FILE --html DIR`)"
                    .into(),
            ),
        }
    }
}

/// Why reports cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No report was given.
    #[error("no reports to merge")]
    Empty,
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The partial report as given on the command line.
        path: PathBuf,
        /// The I/O error that stopped the read.
        #[source]
        source: std::io::Error,
    },
    /// A file is not a harness report.
    #[error("{}: not a harness report: {message}", path.display())]
    Parse {
        /// The file that is not a report, as given on the command line.
        path: PathBuf,
        /// What serde said.
        message: String,
    },
    /// A report does not fit with the others.
    #[error("{}: {message}", path.display())]
    Mismatch {
        /// The report that does not fit the first one, as given on the command line.
        path: PathBuf,
        /// How it differs.
        message: String,
    },
    /// Some partitions are missing.
    #[error(
        "partition(s) {} of {count} missing (their scenarios: {}); merge every part's report",
        missing.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
        scenarios.join(", ")
    )]
    Missing {
        /// The missing partitions' numbers.
        missing: Vec<u32>,
        /// How many parts there are.
        count: u32,
        /// The scenarios nobody reported.
        scenarios: Vec<String>,
    },
}

/// Reads one report.
pub fn read_part(path: &Path) -> Result<Part, MergeError> {
    read_json(path)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, MergeError> {
    let text = std::fs::read_to_string(path).map_err(|source| MergeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| MergeError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The `kind` of the report at `path`.
fn kind_of(path: &Path) -> Result<String, MergeError> {
    #[derive(Deserialize)]
    struct Kind {
        kind: String,
    }
    read_json::<Kind>(path).map(|k| k.kind)
}

/// A part must be of the merge's `kind` (`named` in the message) and written by this harness
/// version.
fn same_kind_and_version(
    path: &Path,
    part_kind: &str,
    part_version: &str,
    kind: &str,
    named: &str,
) -> Result<(), MergeError> {
    let ours = env!("CARGO_PKG_VERSION");
    let message = if part_kind != kind {
        format!("a {part_kind} report cannot be merged with {named}")
    } else if part_version != ours {
        format!(
            "written by harness {part_version}; merge with the version that ran the parts \
             ({ours} here)"
        )
    } else {
        return Ok(());
    };
    Err(MergeError::Mismatch {
        path: path.to_path_buf(),
        message,
    })
}

/// The spread-out run's start (the earliest part's) and its wall time in seconds, from there
/// to the end of the part that finished last; each part is its start and its seconds.
/// `fallback` is the start when there are no parts.
fn span(fallback: Timestamp, parts: impl Iterator<Item = (Timestamp, f64)>) -> (Timestamp, f64) {
    let parts: Vec<(Timestamp, f64)> = parts.collect();
    let started = parts.iter().map(|p| p.0).min().unwrap_or(fallback);
    let ended = parts
        .iter()
        .map(|&(start, seconds)| {
            start
                .checked_add(SignedDuration::from_secs_f64(seconds.max(0.0)))
                .unwrap_or(start)
        })
        .max()
        .unwrap_or(started);
    (
        started,
        ended.duration_since(started).as_secs_f64().max(0.0),
    )
}

/// Merges the parts of one partitioned exploration; see the module docs.
fn merge_explorations(parts: Vec<(PathBuf, ExplorePart)>) -> Result<Merged, MergeError> {
    let mismatch = |path: &Path, message: String| MergeError::Mismatch {
        path: path.to_path_buf(),
        message,
    };
    let Some((first_path, first)) = parts.first() else {
        return Err(MergeError::Empty);
    };
    let whole = &first.exploration;
    let Some(count) = whole.partition.map(|p| p.count) else {
        return Err(mismatch(
            first_path,
            "an exploration without --partition is whole already; only parts merge".into(),
        ));
    };
    let same = |e: &Exploration| {
        e.seed == whole.seed
            && e.cases == whole.cases
            && e.subject == whole.subject
            && e.roles == whole.roles
            && e.fault == whole.fault
            && e.live_check == whole.live_check
    };
    let mut seen = BTreeSet::new();
    for (path, p) in &parts {
        same_kind_and_version(
            path,
            &p.kind,
            &p.harness_version,
            "harness-explore",
            "explorations",
        )?;
        let e = &p.exploration;
        if !same(e) {
            return Err(mismatch(
                path,
                format!(
                    "explores seed {} ({} worlds, subject {:?}), but {} explores seed {} ({} \
                     worlds, subject {:?}) or with other roles, fault or live check",
                    e.seed,
                    e.cases,
                    e.subject,
                    first_path.display(),
                    whole.seed,
                    whole.cases,
                    whole.subject
                ),
            ));
        }
        let Some(part) = e.partition.filter(|q| q.count == count) else {
            return Err(mismatch(
                path,
                format!("not one of the {count} parts of the first report's exploration"),
            ));
        };
        if !seen.insert(part.index) {
            return Err(mismatch(path, format!("partition {part} is given twice")));
        }
        let expected: Vec<usize> = (0..e.cases).filter(|i| part.owns(*i)).collect();
        let got: Vec<usize> = e.worlds.iter().map(|w| w.index).collect();
        if got != expected {
            return Err(mismatch(
                path,
                format!(
                    "partition {part} holds {} worlds, not its own {} of {}",
                    got.len(),
                    expected.len(),
                    e.cases
                ),
            ));
        }
    }
    let missing: Vec<u32> = (1..=count).filter(|k| !seen.contains(k)).collect();
    if !missing.is_empty() {
        let owners: Vec<crate::partition::Partition> = missing
            .iter()
            .map(|&index| crate::partition::Partition { index, count })
            .collect();
        let worlds = (0..whole.cases)
            .filter(|i| owners.iter().any(|p| p.owns(*i)))
            .map(|i| crate::explore::world_id(whole.seed, i))
            .collect();
        return Err(MergeError::Missing {
            missing,
            count,
            scenarios: worlds,
        });
    }
    let (started, elapsed) = span(
        first.started,
        parts.iter().map(|(_, p)| {
            (
                p.started,
                p.exploration.wall_seconds + p.exploration.shrink_seconds,
            )
        }),
    );
    let mut merged = whole.clone();
    merged.partition = None;
    merged.worlds = Vec::new();
    merged.failures = Vec::new();
    merged.shrink_seconds = 0.0;
    for (_, p) in parts {
        merged.worlds.extend(p.exploration.worlds);
        merged.failures.extend(p.exploration.failures);
        merged.shrink_seconds += p.exploration.shrink_seconds;
    }
    merged.worlds.sort_by_key(|w| w.index);
    merged.failures.sort_by_key(|f| f.world);
    // One shrunk failure per kind, the earliest world's, as a single run keeps them.
    let mut kinds = BTreeSet::new();
    merged
        .failures
        .retain(|f| f.checks.first().is_none_or(|k| kinds.insert(*k)));
    merged.wall_seconds = (elapsed - merged.shrink_seconds).max(0.0);
    merged.worlds_per_second = if merged.wall_seconds > 0.0 {
        merged.worlds.len() as f64 / merged.wall_seconds
    } else {
        0.0
    };
    Ok(Merged::Explore {
        started,
        exploration: Box::new(merged),
    })
}

/// Reads and merges the reports at `paths`.
pub fn merge_files(paths: &[PathBuf]) -> Result<Merged, MergeError> {
    if let Some(first) = paths.first()
        && kind_of(first)? == "harness-explore"
    {
        let parts = paths
            .iter()
            .map(|p| Ok((p.clone(), read_json::<ExplorePart>(p)?)))
            .collect::<Result<Vec<_>, MergeError>>()?;
        return merge_explorations(parts);
    }
    let parts = paths
        .iter()
        .map(|p| Ok((p.clone(), read_part(p)?)))
        .collect::<Result<Vec<_>, MergeError>>()?;
    merge(parts)
}

/// Merges reports (each with the file it came from, for messages); see the module docs.
pub fn merge(parts: Vec<(PathBuf, Part)>) -> Result<Merged, MergeError> {
    let Some((first_path, first)) = parts.first() else {
        return Err(MergeError::Empty);
    };
    let mismatch = |path: &Path, message: String| MergeError::Mismatch {
        path: path.to_path_buf(),
        message,
    };
    let kind = match first.kind.as_str() {
        "harness-run" => "harness-run",
        "harness-certification" => "harness-certification",
        other => {
            return Err(mismatch(
                first_path,
                format!("unknown report kind {other:?}"),
            ));
        }
    };
    let ours = env!("CARGO_PKG_VERSION");
    for (path, p) in &parts {
        same_kind_and_version(
            path,
            &p.kind,
            &p.harness_version,
            kind,
            &format!("{kind} reports"),
        )?;
        if kind == "harness-certification"
            && (p.subject != first.subject
                || p.profile != first.profile
                || p.protocol_version != first.protocol_version)
        {
            return Err(mismatch(
                path,
                format!(
                    "certifies {:?} with profile {:?} (protocol {:?}), but {} certifies {:?} \
                     with profile {:?} (protocol {:?})",
                    p.subject,
                    p.profile,
                    p.protocol_version,
                    first_path.display(),
                    first.subject,
                    first.profile,
                    first.protocol_version
                ),
            ));
        }
    }
    let (started, wall_seconds) = span(
        first.started,
        parts.iter().map(|(_, p)| (p.started, p.wall_seconds)),
    );
    let first = first.clone();
    let scenarios = if first.partition.is_some() {
        partitioned(parts)?
    } else {
        concatenated(parts)?
    };
    let suite = SuiteReport {
        kind: "harness-run",
        harness_version: ours,
        started,
        wall_seconds,
        partition: None,
        scenarios,
    };
    Ok(if kind == "harness-run" {
        Merged::Run(suite)
    } else {
        Merged::Certification(Box::new(Certification::new(
            first.subject.as_deref().unwrap_or_default(),
            first.profile.as_deref().unwrap_or_default(),
            suite,
        )))
    })
}

/// Parts of one partitioned run: every part once, each with exactly its scenarios, put back
/// in the run's order.
fn partitioned(parts: Vec<(PathBuf, Part)>) -> Result<Vec<ScenarioReport>, MergeError> {
    let mismatch = |path: &Path, message: String| MergeError::Mismatch {
        path: path.to_path_buf(),
        message,
    };
    let Some(whole) = parts.first().and_then(|(_, p)| p.partition.clone()) else {
        return Err(MergeError::Empty);
    };
    let mut seen = BTreeSet::new();
    let mut reports = Vec::new();
    for (path, p) in parts {
        let Some(info) = &p.partition else {
            return Err(mismatch(
                &path,
                "a whole run's report cannot be merged with partial ones".into(),
            ));
        };
        if info.count != whole.count || info.scenarios != whole.scenarios {
            return Err(mismatch(
                &path,
                format!(
                    "partition {} is of another run (another partition count or scenario set)",
                    info.partition()
                ),
            ));
        }
        if !seen.insert(info.index) {
            return Err(mismatch(
                &path,
                format!("partition {} is given twice", info.partition()),
            ));
        }
        let expected = info.partition().ids(&whole.scenarios);
        let got: Vec<String> = p.scenarios.iter().map(|s| s.id.clone()).collect();
        if got != expected {
            return Err(mismatch(
                &path,
                format!(
                    "partition {} should hold {} but holds {}",
                    info.partition(),
                    list(&expected),
                    list(&got)
                ),
            ));
        }
        reports.extend(p.scenarios);
    }
    let missing: Vec<u32> = (1..=whole.count).filter(|k| !seen.contains(k)).collect();
    if !missing.is_empty() {
        let scenarios = missing
            .iter()
            .flat_map(|&index| {
                crate::partition::Partition {
                    index,
                    count: whole.count,
                }
                .ids(&whole.scenarios)
            })
            .collect();
        return Err(MergeError::Missing {
            missing,
            count: whole.count,
            scenarios,
        });
    }
    // Every id is in exactly one part (checked above), so this is a permutation.
    let mut by_id: std::collections::BTreeMap<String, ScenarioReport> =
        reports.into_iter().map(|r| (r.id.clone(), r)).collect();
    Ok(whole
        .scenarios
        .iter()
        .filter_map(|id| by_id.remove(id))
        .collect())
}

/// Whole runs' reports, in the order given; an id twice is refused.
fn concatenated(parts: Vec<(PathBuf, Part)>) -> Result<Vec<ScenarioReport>, MergeError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (path, p) in parts {
        if p.partition.is_some() {
            return Err(MergeError::Mismatch {
                path,
                message: "a partial report cannot be merged with whole runs' reports".into(),
            });
        }
        for s in p.scenarios {
            if !seen.insert(s.id.clone()) {
                return Err(MergeError::Mismatch {
                    path,
                    message: format!("scenario {} is in more than one report", s.id),
                });
            }
            out.push(s);
        }
    }
    Ok(out)
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        "no scenarios".into()
    } else {
        ids.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::Partition;

    fn scenario(id: &str, passed: bool) -> ScenarioReport {
        let t: Timestamp = "2026-03-02T09:00:00Z".parse().expect("time");
        ScenarioReport {
            id: id.into(),
            title: format!("title of {id}"),
            path: format!("scenarios/{id}.toml"),
            sha256: "0".repeat(64),
            subject: None,
            roles: Default::default(),
            passed,
            checks: Vec::new(),
            virtual_start: t,
            virtual_end: t,
            wall_seconds: 1.5,
            combinations: 3,
            timeline: Vec::new(),
            verdicts: Vec::new(),
            lanes: Vec::new(),
            events: Vec::new(),
            transcript: vec![format!("transcript of {id}")],
            receipts: Vec::new(),
            error: None,
            clock: "virtual",
            time_scale: 1,
            sample_ms: None,
        }
    }

    const RUN: [&str; 5] = ["d", "b", "a", "e", "c"];

    /// Part `k` of `n` of RUN as `run --json --partition k/n` writes it, read back from JSON.
    fn part(k: u32, n: u32, failing: &[&str], started: &str, wall: f64) -> (PathBuf, Part) {
        let all: Vec<String> = RUN.map(String::from).to_vec();
        let p = Partition { index: k, count: n };
        let scenarios = p
            .ids(&all)
            .iter()
            .map(|id| scenario(id, !failing.contains(&id.as_str())))
            .collect();
        let suite = SuiteReport {
            kind: "harness-run",
            harness_version: env!("CARGO_PKG_VERSION"),
            started: started.parse().expect("time"),
            wall_seconds: wall,
            partition: Some(p.info(&all)),
            scenarios,
        };
        let back = serde_json::from_str(&suite.to_json()).expect("reads back");
        (PathBuf::from(format!("part-{k}.json")), back)
    }

    fn ids(m: &Merged) -> Vec<&str> {
        m.scenarios().iter().map(|s| s.id.as_str()).collect()
    }

    #[test]
    fn parts_merge_into_the_runs_order_unchanged() {
        let parts = vec![
            part(3, 3, &[], "2026-01-01T10:00:05Z", 2.0),
            part(1, 3, &[], "2026-01-01T10:00:00Z", 4.0),
            part(2, 3, &[], "2026-01-01T10:00:01Z", 1.0),
        ];
        let entries: Vec<String> = parts
            .iter()
            .flat_map(|(_, p)| p.scenarios.iter())
            .map(|s| serde_json::to_string(s).expect("json"))
            .collect();
        let m = merge(parts).expect("merges");
        assert_eq!(ids(&m), RUN);
        assert!(m.passed());
        let Merged::Run(suite) = &m else {
            panic!("a run")
        };
        assert_eq!(suite.partition, None, "a merged report is a whole run's");
        // From the first start (10:00:00) to the last end (10:00:07).
        assert_eq!(suite.started.to_string(), "2026-01-01T10:00:00Z");
        assert!(
            (suite.wall_seconds - 7.0).abs() < 1e-9,
            "{}",
            suite.wall_seconds
        );
        // Each scenario's entry is written exactly as its part wrote it.
        for s in &suite.scenarios {
            let json = serde_json::to_string(s).expect("json");
            assert!(entries.contains(&json), "{json}");
        }
    }

    #[test]
    fn a_failure_in_one_part_fails_the_merge() {
        let m = merge(vec![
            part(1, 2, &[], "2026-01-01T10:00:00Z", 1.0),
            part(2, 2, &["b"], "2026-01-01T10:00:00Z", 1.0),
        ])
        .expect("merges");
        assert!(!m.passed());
        assert_eq!(ids(&m), RUN);
    }

    #[test]
    fn a_missing_or_doubled_partition_is_named() {
        let e = merge(vec![
            part(1, 3, &[], "2026-01-01T10:00:00Z", 1.0),
            part(3, 3, &[], "2026-01-01T10:00:00Z", 1.0),
        ])
        .expect_err("part 2 missing");
        // Sorted a b c d e: 2/3 owns b and e, listed in run order.
        assert_eq!(
            e.to_string(),
            "partition(s) 2 of 3 missing (their scenarios: b, e); merge every part's report"
        );
        let e = merge(vec![
            part(1, 2, &[], "2026-01-01T10:00:00Z", 1.0),
            part(1, 2, &[], "2026-01-01T10:00:00Z", 1.0),
        ])
        .expect_err("twice");
        assert!(
            e.to_string().contains("partition 1/2 is given twice"),
            "{e}"
        );
        let e = merge(vec![
            part(1, 2, &[], "2026-01-01T10:00:00Z", 1.0),
            part(2, 3, &[], "2026-01-01T10:00:00Z", 1.0),
        ])
        .expect_err("another run");
        assert!(e.to_string().contains("of another run"), "{e}");
    }

    #[test]
    fn a_part_must_hold_exactly_its_scenarios() {
        let (path, mut p) = part(1, 2, &[], "2026-01-01T10:00:00Z", 1.0);
        p.scenarios.pop();
        let e = merge(vec![
            (path, p),
            part(2, 2, &[], "2026-01-01T10:00:00Z", 1.0),
        ])
        .expect_err("short");
        assert!(
            e.to_string().contains("should hold a, e, c but holds a, e"),
            "{e}"
        );
    }

    #[test]
    fn reports_must_be_of_one_kind_and_version_and_whole_runs_concatenate() {
        let (path, mut p) = part(1, 2, &[], "2026-01-01T10:00:00Z", 1.0);
        p.harness_version = "0.0.1".into();
        let e = merge(vec![(path, p)]).expect_err("old");
        assert!(e.to_string().contains("written by harness 0.0.1"), "{e}");

        let whole = |ids: &[&str]| {
            let suite = SuiteReport {
                kind: "harness-run",
                harness_version: env!("CARGO_PKG_VERSION"),
                started: "2026-01-01T10:00:00Z".parse().expect("time"),
                wall_seconds: 1.0,
                partition: None,
                scenarios: ids.iter().map(|id| scenario(id, true)).collect(),
            };
            let p: Part = serde_json::from_str(&suite.to_json()).expect("reads back");
            (PathBuf::from("whole.json"), p)
        };
        let m = merge(vec![whole(&["x", "y"]), whole(&["a"])]).expect("joins");
        assert_eq!(ids(&m), ["x", "y", "a"]);
        let e = merge(vec![whole(&["x"]), whole(&["x"])]).expect_err("twice");
        assert!(
            e.to_string()
                .contains("scenario x is in more than one report"),
            "{e}"
        );
        let e = merge(vec![
            whole(&["x"]),
            part(1, 2, &[], "2026-01-01T10:00:00Z", 1.0),
        ])
        .expect_err("mixed");
        assert!(e.to_string().contains("partial report"), "{e}");
        assert!(matches!(merge(Vec::new()), Err(MergeError::Empty)));
    }

    #[test]
    fn certifications_merge_into_a_certification_only_when_whole() {
        let cert = |k: u32, subject: &str| {
            let (path, p) = part(k, 2, &[], "2026-01-01T10:00:00Z", 1.0);
            let suite = SuiteReport {
                kind: "harness-run",
                harness_version: env!("CARGO_PKG_VERSION"),
                started: p.started,
                wall_seconds: p.wall_seconds,
                partition: p.partition,
                scenarios: p.scenarios,
            };
            let c = Certification::new(subject, "scenarios/certify (built in)", suite);
            assert!(!c.certified, "a part never certifies");
            let back: Part = serde_json::from_str(&c.to_json()).expect("reads back");
            (path, back)
        };
        let m = merge(vec![cert(1, "python3 r.py"), cert(2, "python3 r.py")]).expect("merges");
        let Merged::Certification(c) = &m else {
            panic!("a certification")
        };
        assert!(c.certified && c.partition.is_none());
        assert_eq!(c.subject, "python3 r.py");
        assert_eq!(c.profile, "scenarios/certify (built in)");
        let e = merge(vec![cert(1, "python3 r.py"), cert(2, "other")]).expect_err("subjects");
        assert!(e.to_string().contains("certifies"), "{e}");
        let e = merge(vec![
            cert(1, "x"),
            part(2, 2, &[], "2026-01-01T10:00:00Z", 1.0),
        ])
        .expect_err("kinds");
        assert!(e.to_string().contains("cannot be merged"), "{e}");
    }
}
