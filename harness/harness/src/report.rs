//! Results of a run and the ways they are shown: a terminal summary, JUnit XML (one test case
//! per scenario, the check id as the failure type, the transcript in system-out), JSON, and
//! HTML pages with a timeline picture per scenario ([`html`], [`svg`], drawn from the data
//! in [`lanes`]).

use std::fmt::Write as _;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::{Deserialize, Serialize};

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::rr::{RData, RecordType};

use crate::checks::{CheckId, Severity};
use crate::observe::{Observations, Source, Version};
use crate::partition::PartitionInfo;

pub mod html;
pub mod lanes;
pub mod svg;

pub use lanes::{EventKind, LaneSegment, ReportEvent};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The check held, and the scenario did not expect it to fail.
    Pass,
    /// The check failed though the scenario did not expect it to; this fails the scenario when the
    /// severity is error or worse.
    Fail,
    /// It failed, as the scenario expects (a faulty variant caught).
    ExpectedFail,
    /// The scenario expected it to fail and it held: the harness missed a fault.
    UnexpectedPass,
}

/// One check's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check's stable id (`DNSSEC-CHAIN-BOGUS`, …), which JUnit shows as the failure type.
    pub check: CheckId,
    /// How much a failure matters: only error or worse fails the scenario.
    pub severity: Severity,
    /// Whether it held, measured against the failures the scenario expects.
    pub outcome: Outcome,
    /// What happened, for people.
    pub message: String,
    /// When (virtual time), if it is about an instant or the start of an interval.
    pub at: Option<Timestamp>,
    /// The step during or after which it happened.
    pub step: Option<String>,
    /// Evidence: the checker's witness, EPP exchanges, observed records.
    pub evidence: Vec<String>,
}

impl CheckResult {
    /// Whether this result makes the scenario fail.
    pub fn fails_scenario(&self) -> bool {
        match self.outcome {
            Outcome::Fail => self.severity >= Severity::Error,
            Outcome::UnexpectedPass => true,
            Outcome::Pass | Outcome::ExpectedFail => false,
        }
    }
}

/// What the worst resolver state of a domain amounts to, over a stretch of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every resolver state validates the domain as secure, reaches it and gets its data.
    Secure,
    /// Some resolver state finds the domain provably unsigned (a downgrade).
    Insecure,
    /// Some resolver state gets answers that are not the registrant's data.
    ContentChanged,
    /// Some resolver state cannot resolve the domain: no server answers, or the items to
    /// validate are missing.
    Unreachable,
    /// Some resolver state finds the domain bogus.
    Bogus,
}

impl Verdict {
    /// `secure`, `insecure`, `content-changed`, `unreachable`, `bogus`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secure => "secure",
            Self::Insecure => "insecure",
            Self::ContentChanged => "content-changed",
            Self::Unreachable => "unreachable",
            Self::Bogus => "bogus",
        }
    }
}

/// One domain's verdict over a stretch of virtual time: the worst any resolver could see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictBand {
    /// The domain the band is about, as the scenario names it (no trailing dot).
    pub domain: String,
    /// Start (inclusive).
    pub from: Timestamp,
    /// End (exclusive).
    pub until: Timestamp,
    /// The worst verdict in the band.
    pub verdict: Verdict,
    /// Why, when it is not secure: the first finding's message.
    pub detail: String,
}

/// One row of the human timeline: what each source served at a time, and the verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimelineRow {
    /// The instant (virtual time) from which the row's values hold: one where anything served
    /// changed.
    pub at: Timestamp,
    /// Offset from the scenario start.
    pub offset: String,
    /// Parent DS key tags.
    pub ds: String,
    /// The NS host names the TLD served then (per domain when there are several).
    pub ns: String,
    /// DNSKEY key tags per operator (`A: 123 456`).
    pub dnskey: String,
    /// The verdict band from here on.
    pub verdict: String,
    /// What happened since the previous row (steps, log lines): the first three, then how many
    /// more.
    pub event: String,
}

/// A key relay receipt the registry queued (its experimental extension), as the report shows
/// it: what `KEYRELAY-RECEIPT-TIMING` judged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceiptRow {
    /// The domain the keys were relayed for (no trailing dot), as the receipt names it.
    pub domain: String,
    /// The registrar it was queued for (the relay's sender).
    pub to: String,
    /// `delivered`, `published`, `notPublished` or `withdrawn`.
    pub state: String,
    /// When that state was reached.
    pub state_date: Timestamp,
    /// When the registry accepted the relay.
    pub relay_date: Timestamp,
    /// When the registry stops watching the relay.
    pub until: Timestamp,
    /// The name servers with the registry's last probe's finding for each (`published`,
    /// `missing`, ...; empty for `delivered` and `withdrawn`).
    pub hosts: std::collections::BTreeMap<String, String>,
    /// The largest DNSKEY TTL the name servers served (`published`).
    pub dnskey_ttl: Option<u32>,
}

impl ReceiptRow {
    /// The row for one receipt of the record.
    pub fn of(issued: &mock_registry::registry::IssuedReceipt) -> Self {
        let r = &issued.receipt;
        Self {
            domain: r.name.clone(),
            to: issued.to.clone(),
            state: r.state.as_str().to_string(),
            state_date: r.state_date,
            relay_date: r.relay_date,
            until: r.until,
            hosts: r
                .ns
                .iter()
                .map(|h| (h.host.clone(), h.result.as_str().to_string()))
                .collect(),
            dnskey_ttl: r.dnskey_ttl,
        }
    }
}

/// One scenario's results. It reads back from JSON (`harness report merge` joins partial
/// reports) into the same value, so a merged report is written exactly as the parts were.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// The scenario's id, as in its file.
    pub id: String,
    /// The scenario's one-line title, for people.
    pub title: String,
    /// The file: as given on the command line, or `scenarios/<path>` for a built-in one
    /// (never where the harness was built).
    pub path: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// The subject command, when one played.
    pub subject: Option<String>,
    /// Who played each registrar (label → `subject`, `reference`, with fault and options).
    pub roles: std::collections::BTreeMap<String, String>,
    /// Whether every required check passed.
    pub passed: bool,
    /// Every check evaluated.
    pub checks: Vec<CheckResult>,
    /// When the run began, on the world's clock.
    pub virtual_start: Timestamp,
    /// When the run ended, on the world's clock: normally after the last step and the tail in
    /// which caches empty.
    pub virtual_end: Timestamp,
    /// Wall time, seconds.
    pub wall_seconds: f64,
    /// Cache states (combinations) the checker validated.
    pub combinations: u64,
    /// One row per instant where anything served changed (see [`timeline_rows`]).
    pub timeline: Vec<TimelineRow>,
    /// Per domain, the verdict over time (the worst resolver state in each band).
    pub verdicts: Vec<VerdictBand>,
    /// Per domain, what each source served over time (DS and NS at the parent, DNSKEY and NS
    /// at each operator): the timeline picture's lanes.
    pub lanes: Vec<LaneSegment>,
    /// What happened when: steps, registrar log lines and operator requests, every EPP
    /// command; the timeline picture's ticks.
    pub events: Vec<ReportEvent>,
    /// EPP frames and registrar log lines, in order.
    pub transcript: Vec<String>,
    /// The key relay receipts the registry queued, oldest first (empty unless the scenario
    /// turns them on).
    pub receipts: Vec<ReceiptRow>,
    /// A harness failure that stopped the scenario.
    pub error: Option<String>,
    /// `virtual` or `wall`: the clock the world ran on.
    #[serde(deserialize_with = "clock_name")]
    pub clock: StaticName,
    /// On the wall clock, what every duration of the scenario was divided by (1 on the
    /// virtual clock, where the timeline's times are the scenario's own).
    pub time_scale: u32,
    /// On the wall clock, how often every DNS source was observed, in milliseconds.
    pub sample_ms: Option<u64>,
}

impl ScenarioReport {
    /// How much time passed on the world's clock from start to end.
    pub fn virtual_duration(&self) -> SignedDuration {
        self.virtual_end.duration_since(self.virtual_start)
    }

    /// The results that make it fail.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.fails_scenario())
    }
}

/// A name from a fixed set. (An alias, so serde's derive does not borrow the field from the
/// input, which would tie a deserialised report to the input's lifetime.)
pub type StaticName = &'static str;

/// Reads a report's `clock` back as the name [`crate::world::ClockMode::name`] gives.
fn clock_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let name = String::deserialize(d)?;
    ["virtual", "wall"]
        .into_iter()
        .find(|n| *n == name)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown clock {name:?}")))
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    /// Always `harness-run` (a certification report says `harness-certification`).
    pub kind: &'static str,
    /// The version of the harness that judged the run (its crate version).
    pub harness_version: &'static str,
    /// When the run started (wall clock).
    pub started: Timestamp,
    /// Wall time, seconds. In a merged report: from the first part's start to the last
    /// part's end.
    pub wall_seconds: f64,
    /// In a partial report (`--partition K/N`): which part, and the ids of the whole run; none
    /// in a whole run's report and in a merged one.
    pub partition: Option<PartitionInfo>,
    /// One result per scenario run.
    pub scenarios: Vec<ScenarioReport>,
}

impl SuiteReport {
    /// Whether every scenario passed.
    pub fn passed(&self) -> bool {
        self.scenarios.iter().all(|s| s.passed)
    }

    /// The report as pretty-printed JSON, the form `harness report merge` reads parts from.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .expect("invariant: reports contain only serialisable data")
    }

    /// JUnit XML: one suite, one test case per scenario.
    pub fn to_junit(&self) -> String {
        junit(&self.scenarios, self.wall_seconds)
    }

    /// The terminal summary.
    pub fn summary(&self, verbose: bool) -> String {
        let mut out = String::new();
        for s in &self.scenarios {
            let verdict = if s.passed { "PASS" } else { "FAIL" };
            // On the wall clock, the scenario time the run stood for: its duration × the scale.
            let (clock, played) = if s.clock == "wall" {
                let scale = i32::try_from(s.time_scale).unwrap_or(i32::MAX);
                (
                    format!("x{:<6}", s.time_scale),
                    s.virtual_duration()
                        .checked_mul(scale)
                        .unwrap_or(SignedDuration::MAX),
                )
            } else {
                ("virtual".to_string(), s.virtual_duration())
            };
            let _ = writeln!(
                out,
                "{verdict} {:<44} {clock} {:>9}  wall {:>6.2}s  {}",
                s.id,
                human(played),
                s.wall_seconds,
                s.title
            );
            for c in &s.checks {
                let show = c.fails_scenario()
                    || c.outcome == Outcome::ExpectedFail
                    || (verbose && c.outcome == Outcome::Fail);
                if !show {
                    continue;
                }
                let tag = match c.outcome {
                    Outcome::ExpectedFail => "caught",
                    Outcome::UnexpectedPass => "MISSED",
                    _ => "failed",
                };
                let _ = writeln!(
                    out,
                    "     {tag} {} ({}): {}",
                    c.check.id(),
                    c.severity,
                    c.message
                );
                if !s.passed || verbose {
                    for e in c.evidence.iter().take(8) {
                        let _ = writeln!(out, "         {e}");
                    }
                }
            }
            if let Some(e) = &s.error {
                let _ = writeln!(out, "     stopped: {e}");
            }
        }
        let passed = self.scenarios.iter().filter(|s| s.passed).count();
        let part = self.partition.as_ref().map_or(String::new(), |p| {
            format!(
                " (partition {} of a run of {})",
                p.partition(),
                p.scenarios.len()
            )
        });
        let _ = writeln!(
            out,
            "\n{passed} of {} scenarios passed{part} in {:.2}s wall time",
            self.scenarios.len(),
            self.wall_seconds
        );
        out
    }
}

/// JUnit XML for `scenarios` (a run's or a certification's): one suite, one test case per
/// scenario, the first failing check id as the failure type, the timeline and transcript in
/// system-out.
pub fn junit(scenarios: &[ScenarioReport], wall_seconds: f64) -> String {
    let mut report = Report::new("harness");
    let mut suite = TestSuite::new("scenarios");
    for s in scenarios {
        let status = match s.failures().next() {
            None if s.error.is_none() => TestCaseStatus::success(),
            first => {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                match (first, &s.error) {
                    (Some(f), _) => {
                        st.set_type(f.check.id());
                        st.set_message(&f.message);
                    }
                    (None, Some(e)) => {
                        st.set_type(CheckId::HarnessFault.id());
                        st.set_message(e);
                    }
                    (None, None) => {}
                }
                st.set_description(
                    s.failures()
                        .map(|f| format!("{} {}: {}", f.check.id(), f.severity, f.message))
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
                st
            }
        };
        let mut case = TestCase::new(s.id.clone(), status);
        case.set_classname(format!("scenarios.{}", s.id));
        case.set_time(Duration::from_secs_f64(s.wall_seconds));
        case.add_property(("file", s.path.as_str()));
        case.set_system_out(transcript_text(s));
        suite.add_test_case(case);
    }
    suite.set_time(Duration::from_secs_f64(wall_seconds));
    report.add_test_suite(suite);
    report
        .to_string()
        .expect("invariant: JUnit serialisation of strings cannot fail")
}

/// One row per instant where anything changed: DS and NS at the parent, DNSKEY key tags
/// per operator, the verdict from then on (per domain when there are several) and what
/// happened since the previous row (`events`: virtual time and line, in order).
pub fn timeline_rows(
    obs: &Observations,
    start: Timestamp,
    domains: &[String],
    verdicts: &[VerdictBand],
    events: &[(Timestamp, String)],
) -> Vec<TimelineRow> {
    let mut instants: Vec<Timestamp> = obs.versions().iter().map(|v| v.from).collect();
    instants.sort();
    instants.dedup();
    let fqdn = |d: &str| format!("{}.", d.trim_end_matches('.'));
    let mut previous: Option<Timestamp> = None;
    instants
        .into_iter()
        .map(|at| {
            // One domain: its values; several: each prefixed with its name.
            let per_domain = |values: Vec<(String, String)>| -> String {
                if domains.len() == 1 {
                    values
                        .into_iter()
                        .map(|(_, v)| v)
                        .collect::<Vec<_>>()
                        .join("; ")
                } else {
                    values
                        .into_iter()
                        .map(|(d, v)| format!("{d}: {v}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                }
            };
            let verdict = per_domain(
                domains
                    .iter()
                    .filter_map(|d| {
                        verdicts
                            .iter()
                            .find(|v| v.domain == *d && v.from <= at && at < v.until)
                            .map(|v| (d.clone(), v.verdict.as_str().to_string()))
                    })
                    .collect(),
            );
            let happened: Vec<&str> = events
                .iter()
                .filter(|(t, _)| previous.is_none_or(|p| *t > p) && *t <= at)
                .map(|(_, l)| l.as_str())
                .collect();
            previous = Some(at);
            let event = match happened.len() {
                0..=3 => happened.join(" | "),
                n => format!("{} | … and {} more", happened[..3].join(" | "), n - 3),
            };
            let served = |src: &Source, t: RecordType, name: Option<&str>| -> Vec<&Version> {
                obs.versions()
                    .iter()
                    .filter(|v| {
                        v.source == *src
                            && v.qtype == t
                            && name.is_none_or(|n| v.qname == n)
                            && v.from <= at
                            && v.until.is_none_or(|u| u > at)
                    })
                    .collect()
            };
            let ds = per_domain(
                domains
                    .iter()
                    .map(|d| {
                        let tags: Vec<String> =
                            served(&Source::Parent, RecordType::DS, Some(&fqdn(d)))
                                .iter()
                                .flat_map(|v| v.message.answers.iter())
                                .filter_map(|r| match &r.data {
                                    RData::DNSSEC(DNSSECRData::DS(d)) => {
                                        Some(d.key_tag().to_string())
                                    }
                                    _ => None,
                                })
                                .collect();
                        (d.clone(), tags.join(" "))
                    })
                    .collect(),
            );
            let ns = per_domain(
                domains
                    .iter()
                    .map(|d| {
                        let hosts: Vec<String> =
                            served(&Source::Parent, RecordType::NS, Some(&fqdn(d)))
                                .iter()
                                .flat_map(|v| {
                                    v.message.authorities.iter().chain(v.message.answers.iter())
                                })
                                .filter_map(|r| match &r.data {
                                    RData::NS(n) => {
                                        Some(n.0.to_ascii().trim_end_matches('.').to_string())
                                    }
                                    _ => None,
                                })
                                .collect();
                        (d.clone(), hosts.join(" "))
                    })
                    .collect(),
            );
            let mut dnskey = Vec::new();
            for (i, label) in obs.labels().iter().enumerate() {
                let mut srcs = vec![Source::Operator(i)];
                srcs.extend(
                    obs.own_servers()
                        .iter()
                        .chain(obs.secondaries().iter())
                        .filter(|(s, _, _)| s.registrar() == Some(i))
                        .map(|(s, _, _)| s.clone()),
                );
                let mut tags: Vec<String> = srcs
                    .iter()
                    .flat_map(|s| served(s, RecordType::DNSKEY, None))
                    .flat_map(|v| v.message.answers.iter())
                    .filter_map(|r| match &r.data {
                        RData::DNSSEC(DNSSECRData::DNSKEY(k)) => {
                            Some(dnssec::keys::key_tag(k).to_string())
                        }
                        _ => None,
                    })
                    .collect();
                tags.sort();
                tags.dedup();
                if !tags.is_empty() {
                    dnskey.push(format!("{label}: {}", tags.join(" ")));
                }
            }
            TimelineRow {
                at,
                offset: human(at.duration_since(start)),
                ds,
                ns,
                dnskey: dnskey.join("; "),
                verdict,
                event,
            }
        })
        .collect()
}

/// The transcript as text (JUnit system-out, certification pages).
pub fn transcript_text(s: &ScenarioReport) -> String {
    let mut t = String::new();
    if !s.timeline.is_empty() {
        t.push_str("timeline:\n");
        for r in &s.timeline {
            let _ = writeln!(
                t,
                "  {:>8}  DS [{}]  NS [{}]  DNSKEY {}  {}  {}",
                r.offset, r.ds, r.ns, r.dnskey, r.verdict, r.event
            );
        }
    }
    t.push_str("transcript:\n");
    for line in &s.transcript {
        t.push_str(line);
        t.push('\n');
    }
    t
}

/// Escapes text for HTML and XML content and attribute values (the pages and the pictures),
/// and drops the characters XML 1.0 does not allow (a registrar's log line may hold
/// anything), so the inline SVG stays well-formed.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// `1d 2h 3m` style.
pub fn human(d: SignedDuration) -> String {
    let secs = d.as_secs().max(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rest / 3600, (rest % 3600) / 60, rest % 60);
    match (days, h, m) {
        // Under an hour the seconds count: on the wall clock a whole run takes minutes.
        (0, 0, 0) if s > 0 => format!("{s}s"),
        (0, 0, m) if s > 0 => format!("{m}m{s:02}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h{m:02}m"),
        (d, h, m) => format!("{d}d{h:02}h{m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_under_an_hour_keep_their_seconds() {
        let d = SignedDuration::from_secs;
        assert_eq!(human(d(0)), "0m");
        assert_eq!(human(d(12)), "12s");
        assert_eq!(human(d(150)), "2m30s");
        assert_eq!(human(d(120)), "2m");
        assert_eq!(human(d(3600 + 59)), "1h00m");
        assert_eq!(human(d(86_400 + 3660)), "1d01h01m");
    }

    #[test]
    fn escaping_keeps_markup_well_formed() {
        assert_eq!(esc("a<b>&\"'\u{1}c"), "a&lt;b&gt;&amp;&quot;&#39;c");
    }
}
