//! The chain-of-trust checks (design.md §3, layer 2): for each domain, every version every
//! source served goes into a [`Timeline`], the TTL-aware cache model enumerates what any
//! resolver could hold at every instant, and each non-secure band becomes a failed check with
//! its witness.

use std::collections::{BTreeMap, BTreeSet};

use hickory_proto::rr::{Name, RecordType};
use jiff::Timestamp;

use super::{fail, pass};
use crate::checks::CheckId;
use crate::observe::{Observations, Source, Version};
use crate::record::Record;
use crate::records;
use crate::report::{CheckResult, Verdict, VerdictBand};
use crate::scenario::{ChainExpectation, Scenario};
use checker::cache::{self, Band, Breakage, CacheOptions};
use checker::timeline::{Question, Source as TlSource, SourceId, Timeline, TimelineError};
use checker::{Anchor, Expected, Mode, Reachability, Response, Status, TrustAnchors};

/// The chain checks and how many cache states were covered.
#[derive(Debug, Default)]
pub struct ChainResult {
    /// The chain-of-trust checks' results for every domain (bogus, insecure, unreachable, changed
    /// content, lame delegation or DS, algorithm completeness), each failure with its witness.
    pub checks: Vec<CheckResult>,
    /// Cache combinations covered.
    pub combinations: u64,
    /// Per domain, the verdict over time.
    pub verdicts: Vec<VerdictBand>,
    /// Per question, when some cache state finds it insecure: what a real resolver may then
    /// answer without the AD bit (the fleet's judge reads them).
    pub insecure: Vec<InsecureBand>,
}

/// A stretch of time during which some cache state a resolver could hold finds one question of
/// a domain insecure: provably unsigned (a DS proven absent, only unsupported algorithms), or a
/// denial under an NSEC3 Opt-Out span (RFC 5155 §9.2). A real resolver may then answer that
/// question without the AD bit. Kept per question, because Opt-Out leaves the domain's data
/// secure and only its denials insecure; and kept apart from the verdict bands, which show the
/// worst verdict of an instant and so hide an insecure state under a bogus one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsecureBand {
    /// The domain, as the scenario names it (no trailing dot).
    pub domain: String,
    /// The question's name, lowercase, without the trailing dot.
    pub name: String,
    /// The question's type.
    pub rtype: RecordType,
    /// Start (inclusive).
    pub from: Timestamp,
    /// End (exclusive).
    pub until: Timestamp,
    /// The first insecure finding's reason, in words.
    pub detail: String,
}

/// The insecure bands of each question of one domain's report (see [`InsecureBand`]).
fn insecure_bands(domain: &str, report: &cache::Report) -> Vec<InsecureBand> {
    let mut out: Vec<InsecureBand> = Vec::new();
    for q in &report.questions {
        let name = q
            .question
            .name
            .to_ascii()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        for band in &q.lenient {
            let Some(f) = band
                .findings
                .iter()
                .find(|f| !f.warning && f.status == Status::Insecure)
            else {
                continue;
            };
            match out.last_mut() {
                Some(last)
                    if last.name == name
                        && last.rtype == q.question.rtype
                        && last.until == band.from =>
                {
                    last.until = band.until;
                }
                _ => out.push(InsecureBand {
                    domain: domain.to_string(),
                    name: name.clone(),
                    rtype: q.question.rtype,
                    from: band.from,
                    until: band.until,
                    detail: f.reason.to_string(),
                }),
            }
        }
    }
    out
}

/// The verdict bands of one domain: at each instant the worst of the lenient DNSSEC status,
/// the reachability and the content check.
fn verdict_bands(domain: &str, report: &cache::Report) -> Vec<VerdictBand> {
    let mut cuts: BTreeSet<Timestamp> = BTreeSet::new();
    let mut marks: Vec<(Timestamp, Timestamp, Verdict, String)> = Vec::new();
    for b in &report.lenient {
        let v = match b.status {
            Status::Secure => Verdict::Secure,
            Status::Insecure => Verdict::Insecure,
            Status::Indeterminate => Verdict::Unreachable,
            Status::Bogus => Verdict::Bogus,
        };
        let detail = b
            .findings
            .iter()
            .find(|f| !f.warning)
            .map(|f| f.reason.to_string())
            .unwrap_or_default();
        marks.push((b.from, b.until, v, detail));
    }
    for b in &report.reachability {
        if b.status == Reachability::Unreachable {
            marks.push((
                b.from,
                b.until,
                Verdict::Unreachable,
                "no name server of a held NS set answers".into(),
            ));
        }
    }
    for c in &report.content {
        marks.push((
            c.from,
            c.until,
            Verdict::ContentChanged,
            format!("{} is not {}", c.question, c.expected),
        ));
    }
    for (a, b, _, _) in &marks {
        cuts.insert(*a);
        cuts.insert(*b);
    }
    let cuts: Vec<Timestamp> = cuts.into_iter().collect();
    let mut out: Vec<VerdictBand> = Vec::new();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let worst = marks
            .iter()
            .filter(|(from, until, _, _)| *from <= a && a < *until)
            .max_by_key(|(_, _, v, _)| *v);
        let Some((_, _, verdict, detail)) = worst else {
            continue;
        };
        match out.last_mut() {
            Some(last) if last.verdict == *verdict && last.until == a => last.until = b,
            _ => out.push(VerdictBand {
                domain: domain.to_string(),
                from: a,
                until: b,
                verdict: *verdict,
                detail: if *verdict == Verdict::Secure {
                    String::new()
                } else {
                    detail.clone()
                },
            }),
        }
    }
    out
}

fn fqdn(n: &str) -> String {
    if n.ends_with('.') {
        n.to_string()
    } else {
        format!("{n}.")
    }
}

/// The check that fails for a kind of breakage the cache model found.
fn check_of(breakage: Breakage) -> CheckId {
    match breakage {
        Breakage::Bogus => CheckId::ChainBogus,
        Breakage::AlgorithmIncomplete => CheckId::AlgorithmCompleteness,
        Breakage::Insecure => CheckId::InsecureWindow,
        Breakage::LameDs => CheckId::LameDs,
        Breakage::Unresolvable => CheckId::Unreachable,
    }
}

/// Builds the timeline of one domain from what the observer recorded.
pub fn timeline_for(
    s: &Scenario,
    observations: &Observations,
    domain: &str,
    end: Timestamp,
) -> Result<Timeline, TimelineError> {
    let name =
        |n: &str| Name::from_ascii(fqdn(n)).map_err(|e| TimelineError::Path(format!("{n}: {e}")));
    let tld = name(&s.world.tld)?;
    let dom = name(domain)?;
    let mut tl = Timeline::new([Name::root(), tld, dom.clone()])?;
    let parent = tl.add_source(TlSource::parent("registry (root and TLD)"));
    let mut ops: Vec<SourceId> = Vec::new();
    let on_secondary = |h: &String| {
        observations
            .secondaries()
            .iter()
            .any(|(_, _, hosts)| hosts.contains(&fqdn(h)))
    };
    for r in &s.registrars {
        let hosts: Vec<Name> = r
            .operator
            .ns
            .iter()
            .filter(|h| !on_secondary(h))
            .filter_map(|h| Name::from_ascii(fqdn(h)).ok())
            .collect();
        ops.push(tl.add_source(TlSource::operator(format!("operator {}", r.label), hosts)));
    }
    let mut own: BTreeMap<Source, SourceId> = BTreeMap::new();
    for (src, _, hosts) in observations.secondaries() {
        let i = src.registrar().unwrap_or_default();
        let label = s.registrars.get(i).map_or("?", |r| r.label.as_str());
        let names = hosts
            .iter()
            .map(|h| h.trim_end_matches('.'))
            .collect::<Vec<_>>()
            .join(" ");
        let hosts: Vec<Name> = hosts
            .iter()
            .filter_map(|h| Name::from_ascii(h).ok())
            .collect();
        own.insert(
            src.clone(),
            tl.add_source(TlSource::operator(
                format!("operator {label}'s secondary ({names})"),
                hosts,
            )),
        );
    }
    for (src, addr, hosts) in observations.own_servers() {
        let i = src.registrar().unwrap_or_default();
        let label = s.registrars.get(i).map_or("?", |r| r.label.as_str());
        let hosts: Vec<Name> = hosts
            .iter()
            .filter_map(|h| Name::from_ascii(h).ok())
            .collect();
        own.insert(
            src.clone(),
            tl.add_source(TlSource::operator(
                format!("registrar {label}'s own server {addr}"),
                hosts,
            )),
        );
    }
    let id_of = |src: &Source| match src {
        Source::Parent => parent,
        Source::Operator(i) => ops[*i],
        Source::Own(..) | Source::Secondary(_) => own.get(src).copied().unwrap_or(parent),
    };
    // Versions in the order they were first served; a version that ended without a
    // successor means the source stopped answering.
    let mut versions: Vec<&Version> = observations
        .versions()
        .iter()
        .filter(|v| relevant(&v.qname, domain, &s.world.tld))
        .collect();
    versions.sort_by_key(|v| v.from);
    let mut events: Vec<(Timestamp, SourceId, Question, Response)> = Vec::new();
    for v in &versions {
        let qname = Name::from_ascii(&v.qname)
            .map_err(|e| TimelineError::Path(format!("{}: {e}", v.qname)))?;
        let q = Question::new(&qname, v.qtype);
        events.push((
            v.from,
            id_of(&v.source),
            q.clone(),
            Response::from_message(&v.message, &qname, v.qtype),
        ));
        if let Some(until) = v.until {
            let succeeded = versions.iter().any(|w| {
                w.source == v.source && w.qname == v.qname && w.qtype == v.qtype && w.from == until
            });
            if !succeeded {
                events.push((until, id_of(&v.source), q, Response::Unavailable));
            }
        }
    }
    events.sort_by_key(|e| e.0);
    for (at, src, q, r) in events {
        tl.observe(src, q, r, at)?;
    }
    tl.finish(end);
    Ok(tl)
}

/// What every answer to each question observed in `domain` must carry: the registrant's
/// records (see [`records::expected`]).
fn expectations(tl: &Timeline, domain: &str, lines: &[String]) -> BTreeMap<Question, Expected> {
    let Ok(records) = records::parse_all(domain, lines) else {
        return BTreeMap::new();
    };
    let apex = tl.domain().clone();
    tl.questions()
        .into_iter()
        .filter(|q| apex.zone_of(&q.name))
        .filter_map(|q| records::expected(&records, &apex, &q.name, q.rtype).map(|e| (q, e)))
        .collect()
}

/// Whether an observed question belongs to `domain`'s chain: the path above it or a name in it.
fn relevant(qname: &str, domain: &str, tld: &str) -> bool {
    let d = fqdn(domain);
    qname == "." || qname == fqdn(tld) || qname == d || qname.ends_with(&format!(".{d}"))
}

/// Evaluates the chain of trust of every domain over the whole run.
pub fn chain(scenario: &Scenario, record: &Record) -> ChainResult {
    let mut out = ChainResult::default();
    if scenario.expect.chain == ChainExpectation::Any {
        return out;
    }
    let start = scenario.world.start;
    let end = record.end;
    let mut anchors = TrustAnchors::new();
    anchors.add(&Name::root(), Anchor::Dnskey(record.anchor.clone()));
    let mut bogus = Vec::new();
    let mut insecure = Vec::new();
    let mut strict = Vec::new();
    let mut lame = Vec::new();
    let mut unreachable = Vec::new();
    let mut lame_ns = Vec::new();
    let mut content = Vec::new();
    for d in &scenario.domains {
        let tl = match timeline_for(scenario, &record.observations, &d.name, end) {
            Ok(t) => t,
            Err(e) => {
                out.checks.push(fail(
                    CheckId::HarnessFault,
                    format!("{}: cannot build the timeline: {e}", d.name),
                    None,
                    Vec::new(),
                ));
                continue;
            }
        };
        let options = CacheOptions {
            expected: expectations(&tl, &d.name, &d.records),
            ..CacheOptions::default()
        };
        let report = cache::check(&tl, &anchors, &options);
        out.combinations += report.stats.combinations;
        out.verdicts.extend(verdict_bands(&d.name, &report));
        out.insecure.extend(insecure_bands(&d.name, &report));
        let describe =
            |band: &Band, mode: Mode, want: CheckId| -> Vec<(Timestamp, String, Vec<String>)> {
                band.findings
                    .iter()
                    .filter(|f| f.breakage(mode).map(check_of) == Some(want))
                    .map(|f| {
                        let msg = format!(
                            "{}: {} from {} to {} ({} {}): {}",
                            d.name,
                            f.status.as_str(),
                            cache::offset(start, band.from),
                            cache::offset(start, band.until),
                            f.reason.code.as_str(),
                            f.reason.zone,
                            f.reason.detail
                        );
                        let mut evidence: Vec<String> = f
                            .witness
                            .describe(start)
                            .lines()
                            .map(str::to_string)
                            .collect();
                        evidence.push(format!(
                            "{} cache state(s) in this band had this reason",
                            f.occurrences
                        ));
                        (band.from, msg, evidence)
                    })
                    .collect()
            };
        for band in &report.lenient {
            match band.status {
                Status::Bogus => bogus.extend(describe(band, Mode::Lenient, CheckId::ChainBogus)),
                Status::Insecure => {
                    insecure.extend(describe(band, Mode::Lenient, CheckId::InsecureWindow))
                }
                Status::Indeterminate => {
                    unreachable.extend(describe(band, Mode::Lenient, CheckId::Unreachable))
                }
                Status::Secure => {}
            }
            lame.extend(describe(band, Mode::Lenient, CheckId::LameDs));
        }
        for band in &report.reachability {
            for f in &band.findings {
                let what = match f.status {
                    Reachability::Unreachable => {
                        "unreachable: no name server of an NS set a resolver could hold answers for it"
                    }
                    Reachability::Lame => {
                        "lame: some name servers of an NS set a resolver could hold do not answer for it"
                    }
                    Reachability::Reachable => continue,
                };
                let msg = format!(
                    "{}: {what}, from {} to {}",
                    d.name,
                    cache::offset(start, band.from),
                    cache::offset(start, band.until),
                );
                let mut evidence: Vec<String> = f
                    .witness
                    .describe(start)
                    .lines()
                    .map(str::to_string)
                    .collect();
                evidence.push(format!(
                    "{} resolver state(s) in this band were {}",
                    f.occurrences, f.status
                ));
                let found = (band.from, msg, evidence);
                match f.status {
                    Reachability::Unreachable => unreachable.push(found),
                    _ => lame_ns.push(found),
                }
            }
        }
        for c in &report.content {
            let got = c
                .witness
                .items
                .first()
                .map(|i| i.summary.clone())
                .unwrap_or_default();
            let msg = format!(
                "{}: {} answered {} from {} to {}, but the registrant's data is {}",
                d.name,
                c.question,
                got,
                cache::offset(start, c.from),
                cache::offset(start, c.until),
                c.expected
            );
            let mut evidence: Vec<String> = c
                .witness
                .describe(start)
                .lines()
                .map(str::to_string)
                .collect();
            evidence.push(format!(
                "{} wrong answer(s) could be held in this band",
                c.versions
            ));
            content.push((c.from, msg, evidence));
        }
        for band in &report.strict {
            if band.status == Status::Bogus {
                strict.extend(describe(band, Mode::Strict, CheckId::AlgorithmCompleteness));
            }
        }
    }
    let mut emit =
        |check: CheckId, found: Vec<(Timestamp, String, Vec<String>)>, ok: &str, counts: bool| {
            match found.first() {
                Some((at, msg, ev)) if counts => {
                    let mut evidence = ev.clone();
                    for (_, m, _) in found.iter().skip(1).take(4) {
                        evidence.push(format!("also: {m}"));
                    }
                    out.checks
                        .push(fail(check, msg.clone(), Some(*at), evidence));
                }
                Some((_, msg, _)) => out
                    .checks
                    .push(pass(check, format!("accepted by the scenario: {msg}"))),
                None => out.checks.push(pass(check, ok.to_string())),
            }
        };
    emit(
        CheckId::ChainBogus,
        bogus,
        "no cache state any resolver could hold validates as bogus",
        true,
    );
    // What hickory-resolver saw live agrees with the model or adds to it.
    unreachable.extend(
        record
            .live
            .unresolved
            .iter()
            .map(|p| (p.at, format!("live: {}", p.message), p.evidence.clone())),
    );
    content.extend(
        record
            .live
            .wrong_content
            .iter()
            .map(|p| (p.at, format!("live: {}", p.message), p.evidence.clone())),
    );
    unreachable.sort_by_key(|(at, _, _)| *at);
    content.sort_by_key(|(at, _, _)| *at);
    emit(
        CheckId::Unreachable,
        unreachable,
        "every resolver state reached a name server that answers for the domain",
        true,
    );
    emit(
        CheckId::ContentChanged,
        content,
        "every answer a resolver could get carried the registrant's data",
        true,
    );
    emit(
        CheckId::LameDelegation,
        lame_ns,
        "every name server of every NS set a resolver could hold answered",
        true,
    );
    emit(
        CheckId::InsecureWindow,
        insecure,
        "the domain stayed secure for every cache state",
        scenario.expect.chain == ChainExpectation::Secure,
    );
    emit(
        CheckId::AlgorithmCompleteness,
        strict,
        "strict validators (RFC 4035 §2.2) agree",
        true,
    );
    emit(
        CheckId::LameDs,
        lame,
        "every DS matched a published key",
        true,
    );
    out
}
