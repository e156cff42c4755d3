//! The resolver fleet's answers against the cache model (issue 17): `RESOLVER-FAILED` and
//! `HARNESS-MODEL-MISSED`.
//!
//! Every answer a real resolver gave is judged on its own. It *failed* when it is a SERVFAIL
//! (bogus, or nothing reachable), another error code, no answer in time, the domain gone
//! (NXDOMAIN for its DS or DNSKEY), or content that is not the registrant's (the same
//! expectation the cache model's content check uses, [`crate::records::expected`]). In a
//! scenario whose chain must stay secure (`expect.chain = "secure"`), an answer that is
//! otherwise right but comes without the AD bit also failed, as *insecure*: the resolver found
//! the domain provably unsigned, a downgrade the model reports as `DNSSEC-INSECURE-WINDOW`.
//!
//! Each failure is then held against the model. A failure is *predicted* when a band of the
//! model overlaps the time the question was in flight, widened by one sample period on both
//! sides and, after the band, by what the checked-in list of resolver cache policies
//! (harness/harness/resolver-policies.toml) says a resolver may legitimately answer after the
//! data that caused it is gone: for a failure, a verdict band of bogus, unreachable or changed
//! content, widened by the resolver's failure cache (such as BIND's 30-second bad cache) and
//! its `late` seconds; for an insecure answer, a band in which some cache state finds that
//! question insecure ([`InsecureBand`], per question, since an NSEC3 Opt-Out span makes only
//! denials insecure), widened by `late` only (an insecure answer is data, cached for its TTL,
//! not a failure cache). A failure the model did not predict is also `HARNESS-MODEL-MISSED`:
//! the harness's model was wrong, which is never hidden. The list only ever widens a band by
//! the times it states; its `never_holds` entries explain, in the report, why a resolver gave
//! no failure at all, and change no judgement.
//!
//! A scenario that expects the model's checks to fail (its deliberate fault) expects the
//! real resolvers to fail too: a resolver whose every failure was predicted is then reported
//! as an expected failure, the fault seen by real software.

use std::collections::BTreeMap;

use checker::Expected;
use dnssec::presentation::rdata_text;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use jiff::{SignedDuration, Timestamp};
use real_dns::ResolverKind;

use super::chain::InsecureBand;
use super::{fail, pass};
use crate::checks::CheckId;
use crate::fleet::{FleetQuestion, FleetRecord, FleetSample, NEGATIVE_LABEL};
use crate::observe::{Observations, negative_name};
use crate::record::Record;
use crate::records::{self, RegistrantRecord};
use crate::report::{CheckResult, Outcome, Verdict, VerdictBand};
use crate::scenario::{ChainExpectation, Scenario};

/// Failures listed in a check's evidence at most (the count is always given).
const EVIDENCE_FAILURES: usize = 8;
/// The checked-in cache policies of real resolvers (see the file's header).
const POLICIES: &str = include_str!("../../resolver-policies.toml");

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    policy: Vec<Policy>,
}

/// One entry of resolver-policies.toml.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Policy {
    /// A resolver's name, or `*` for every one.
    resolver: String,
    /// Seconds it may still answer from data the model has let expire.
    #[serde(default)]
    late: u32,
    /// Seconds it caches a failed validation at least, whatever is configured.
    #[serde(default)]
    failure_cache_min: u32,
    /// A state of the model it never holds, in words: named in the report when it gives no
    /// failure in a scenario whose fault the model predicts. Widens and hides nothing.
    #[serde(default)]
    never_holds: Option<String>,
    /// Cached RRsets of the domain whose TTL an insecure status outlives the model's band by
    /// (see [`Keeps`]).
    #[serde(default)]
    insecure_keeps: Vec<Keeps>,
    /// Why; read by people (the list is the documentation), not by the code.
    #[allow(dead_code, reason = "documentation in the list, checked to be there")]
    cause: String,
}

/// A cached RRset of the domain that carries an insecure validation status on after the proof
/// of insecurity has expired: while a resolver holds one fetched as insecure, it answers
/// insecure, and each passes the status to what it fetches next (Knot Resolver: an insecure
/// NS set makes the DNSKEY set it fetches insecure, which makes the answers insecure). The
/// band is widened by the sum of their longest TTLs served in the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Keeps {
    /// The answer to the question itself.
    Answer,
    /// The domain's DNSKEY RRset.
    Dnskey,
    /// The domain's NS RRset: the parent's delegation or the operators' apex NS.
    Ns,
}

fn policy_file() -> &'static PolicyFile {
    static FILE: std::sync::LazyLock<PolicyFile> = std::sync::LazyLock::new(|| {
        // A unit test parses the compiled-in file, so this cannot fail in a tested build.
        toml::from_str(POLICIES)
            .unwrap_or_else(|e| panic!("harness/harness/resolver-policies.toml is malformed: {e}"))
    });
    &FILE
}

/// The entries of the list that apply to `resolver`.
fn policies(resolver: ResolverKind) -> impl Iterator<Item = &'static Policy> {
    policy_file()
        .policy
        .iter()
        .filter(move |p| p.resolver == "*" || p.resolver == resolver.name())
}

/// Seconds `resolver` may still answer from data the model has let expire: every `late` of
/// the list that applies to it.
fn late(resolver: ResolverKind) -> i64 {
    policies(resolver).map(|p| i64::from(p.late)).sum()
}

/// How long after a band of the model ends `resolver` may still answer a failure, seconds:
/// its failure cache (`configured`, or the list's minimum if larger) plus its [`late`].
fn allowance(resolver: ResolverKind, configured: u32) -> i64 {
    let cache = policies(resolver)
        .map(|p| p.failure_cache_min)
        .fold(configured, u32::max);
    i64::from(cache) + late(resolver)
}

/// The RRsets whose TTL an insecure status of `resolver` outlives the model's band by.
fn insecure_keeps(resolver: ResolverKind) -> std::collections::BTreeSet<Keeps> {
    policies(resolver)
        .flat_map(|p| p.insecure_keeps.iter().copied())
        .collect()
}

/// The longest TTL, in seconds, any source served for `role` of `question` (name without the
/// trailing dot, and type) in `domain`: what an insecure status may outlive the model's band
/// by when a resolver keeps it with that RRset. A denial counts with its negative TTL (RFC
/// 2308: the SOA's TTL or MINIMUM, whichever is less); 0 when nobody was asked.
fn longest_ttl(
    observations: &Observations,
    domain: &str,
    question: &(String, RecordType),
    role: Keeps,
) -> i64 {
    let apex = format!("{}.", domain.trim_end_matches('.').to_ascii_lowercase());
    let (qname, qtype) = match role {
        Keeps::Answer => (format!("{}.", question.0), question.1),
        Keeps::Dnskey => (apex, RecordType::DNSKEY),
        Keeps::Ns => (apex, RecordType::NS),
    };
    observations
        .versions()
        .iter()
        .filter(|v| v.qname.eq_ignore_ascii_case(&qname) && v.qtype == qtype)
        .map(|v| {
            let m = &v.message;
            let data = m
                .answers
                .iter()
                .chain(m.authorities.iter())
                .filter(|r| r.record_type() == qtype)
                .map(|r| r.ttl)
                .max();
            let negative = || {
                m.authorities
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::SOA(soa) => Some(r.ttl.min(soa.minimum)),
                        _ => None,
                    })
                    .max()
            };
            data.or_else(negative).unwrap_or(0)
        })
        .max()
        .map_or(0, i64::from)
}

/// What the list says `resolver` never holds.
fn never_holds(resolver: ResolverKind) -> Vec<&'static str> {
    policies(resolver)
        .filter_map(|p| p.never_holds.as_deref())
        .collect()
}

/// Log lines given per failure at most.
const LOG_LINES: usize = 4;

/// How an answer failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No usable answer: SERVFAIL, another error, a timeout, the domain gone, wrong content.
    Failed,
    /// The right answer without the AD bit, where the chain must stay secure.
    Insecure,
}

/// One failed answer, judged.
#[derive(Debug, Clone)]
struct Failure<'a> {
    sample: &'a FleetSample,
    kind: Kind,
    why: String,
    /// The model's bands that predict it, in words; empty when none does.
    predicted: Vec<String>,
}

/// The fleet's checks, when it ran: `verdicts` are the model's verdict bands, `insecure` the
/// bands in which it finds a question insecure.
pub fn checks(
    scenario: &Scenario,
    record: &Record,
    verdicts: &[VerdictBand],
    insecure: &[InsecureBand],
) -> Vec<CheckResult> {
    match &record.fleet {
        Some(fleet) => judge_fleet(
            scenario,
            fleet,
            &record.observations,
            record.start,
            verdicts,
            insecure,
        ),
        None => Vec::new(),
    }
}

/// The model's question whose insecure bands speak for a fleet question: the same name and
/// type; for the fleet's nonexistent name, the observer's (both are denials of a name that
/// cannot exist); for the domain's own DS and DNSKEY, its apex SOA, which is insecure exactly
/// when the domain's chain is.
fn model_question(scenario: &Scenario, q: &FleetQuestion) -> (String, RecordType) {
    let domain = scenario.domains[q.domain]
        .name
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if q.name == domain && matches!(q.rtype, RecordType::DS | RecordType::DNSKEY) {
        (domain, RecordType::SOA)
    } else if q.name == format!("{NEGATIVE_LABEL}.{domain}") {
        let name = negative_name(scenario.world.seed, &domain);
        (name.trim_end_matches('.').to_string(), RecordType::A)
    } else {
        (q.name.clone(), q.rtype)
    }
}

fn judge_fleet(
    scenario: &Scenario,
    fleet: &FleetRecord,
    observations: &Observations,
    start: Timestamp,
    verdicts: &[VerdictBand],
    insecure: &[InsecureBand],
) -> Vec<CheckResult> {
    // Tenths of a second: on the wall clock the bands are seconds wide.
    let off = |t: Timestamp| format!("+{:.1}s", t.duration_since(start).as_secs_f64());
    let registrant: Vec<Vec<RegistrantRecord>> = scenario
        .domains
        .iter()
        .map(|d| records::parse_all(&d.name, &d.records).unwrap_or_default())
        .collect();
    let period = SignedDuration::try_from(fleet.period).unwrap_or(SignedDuration::ZERO);
    let secs = SignedDuration::from_secs;
    let fault_band = |b: &VerdictBand| {
        matches!(
            b.verdict,
            Verdict::Bogus | Verdict::Unreachable | Verdict::ContentChanged
        )
    };
    let mut failures: BTreeMap<ResolverKind, Vec<Failure<'_>>> = BTreeMap::new();
    for s in &fleet.samples {
        let Some((kind, why)) = judge(scenario, fleet, &registrant, s) else {
            continue;
        };
        let q = &fleet.questions[s.question];
        let domain = &scenario.domains[q.domain].name;
        // Before the question: one period (a band may start between two samples). After the
        // band: the period and what the list allows the resolver (see the module docs).
        let until = s.answered + period;
        let predicted = match kind {
            Kind::Failed => {
                let configured = fleet.failure_cache.get(&s.resolver).copied().unwrap_or(1);
                let from = s.sent - period - secs(allowance(s.resolver, configured));
                verdicts
                    .iter()
                    .filter(|b| b.domain == *domain && b.from < until && from < b.until)
                    .filter(|b| fault_band(b))
                    .map(|b| {
                        format!(
                            "{} from {} to {} ({})",
                            b.verdict.as_str(),
                            off(b.from),
                            off(b.until),
                            b.detail
                        )
                    })
                    .collect()
            }
            Kind::Insecure => {
                let model = model_question(scenario, q);
                // The answer's TTL as the servers gave it to the observer; the fleet's own
                // nonexistent name was never asked there, so it goes by the observer's.
                let asked = (q.name.clone(), q.rtype);
                let ttl = |k| match longest_ttl(observations, domain, &asked, k) {
                    0 => longest_ttl(observations, domain, &model, k),
                    t => t,
                };
                let kept: i64 = insecure_keeps(s.resolver).into_iter().map(ttl).sum();
                let from = s.sent - period - secs(late(s.resolver) + kept);
                let (name, rtype) = model;
                insecure
                    .iter()
                    .filter(|b| b.domain == *domain && b.name == name && b.rtype == rtype)
                    .filter(|b| b.from < until && from < b.until)
                    .map(|b| {
                        format!(
                            "insecure from {} to {} ({} {}: {})",
                            off(b.from),
                            off(b.until),
                            b.name,
                            b.rtype,
                            b.detail
                        )
                    })
                    .collect()
            }
        };
        failures.entry(s.resolver).or_default().push(Failure {
            sample: s,
            kind,
            why,
            predicted,
        });
    }
    let queries = fleet.queries();
    let counts: Vec<String> = queries.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let expects_insecure = scenario.expect.failures.contains(&CheckId::InsecureWindow);
    let expects_fault = expects_insecure
        || scenario.expect.failures.iter().any(|c| {
            matches!(
                c,
                CheckId::ChainBogus | CheckId::Unreachable | CheckId::ContentChanged
            )
        });
    let mut out = Vec::new();
    if failures.is_empty() {
        let insecure_too = if scenario.expect.chain == ChainExpectation::Secure {
            ", answer without the AD bit"
        } else {
            ""
        };
        out.push(pass(
            CheckId::ResolverFailed,
            format!(
                "queries per resolver: {}; no SERVFAIL, error code, timeout{insecure_too} or \
                 answer other than the registrant's content",
                counts.join(", ")
            ),
        ));
    }
    if expects_fault {
        out.extend(silent(
            scenario,
            fleet,
            &failures,
            verdicts,
            insecure,
            &off,
            expects_insecure,
        ));
    }
    let mut missed_any = false;
    for (kind, list) in &failures {
        let total = queries.get(kind).copied().unwrap_or(0);
        let first = list.iter().map(|f| f.sample.sent).min().unwrap_or(start);
        let last = list.iter().map(|f| f.sample.sent).max().unwrap_or(start);
        let missed: Vec<&Failure<'_>> = list.iter().filter(|f| f.predicted.is_empty()).collect();
        let mut bands: Vec<&String> = list.iter().flat_map(|f| &f.predicted).collect();
        bands.sort();
        bands.dedup();
        let predicted_words = if bands.is_empty() {
            "the model predicted no failure then".to_string()
        } else {
            format!(
                "the model predicted {}",
                bands
                    .iter()
                    .map(|b| b.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let insecure_count = list.iter().filter(|f| f.kind == Kind::Insecure).count();
        let insecure_words = match insecure_count {
            0 => String::new(),
            n if n == list.len() => " (all without the AD bit: insecure)".to_string(),
            n => format!(" ({n} of them without the AD bit: insecure)"),
        };
        let mut c = fail(
            CheckId::ResolverFailed,
            format!(
                "{kind}: {} of {total} answers failed{insecure_words}, from {} to {}; \
                 {predicted_words}",
                list.len(),
                off(first),
                off(last),
            ),
            Some(first),
            evidence(fleet, list.iter(), &off),
        );
        if missed.is_empty() && expects_fault {
            c.outcome = Outcome::ExpectedFail;
            c.message.push_str(
                " (every failure inside a predicted band: the fault, seen by real software)",
            );
        }
        out.push(c);
        if !missed.is_empty() {
            missed_any = true;
            let mfirst = missed.iter().map(|f| f.sample.sent).min().unwrap_or(start);
            let mlast = missed.iter().map(|f| f.sample.sent).max().unwrap_or(start);
            out.push(fail(
                CheckId::ModelMissed,
                format!(
                    "{kind} failed {} times from {} to {} where the harness's cache model \
                     predicted no such failure: the model is wrong (a harness bug)",
                    missed.len(),
                    off(mfirst),
                    off(mlast)
                ),
                Some(mfirst),
                evidence(fleet, missed.into_iter(), &off),
            ));
        }
    }
    if !missed_any {
        out.push(pass(
            CheckId::ModelMissed,
            format!(
                "every failure of {} real resolvers lay inside a band the model predicted",
                fleet.resolvers.len()
            ),
        ));
    }
    out
}

/// In a scenario whose fault the model predicts, one line per resolver that gave no failure
/// at all: which bands it went through unharmed, and what the list of cache policies says it
/// never holds. A predicted state is one *some* resolver could hold; whether a given one does
/// depends on its cache timing and on how it builds its chain, so this is information, not a
/// failure.
fn silent(
    scenario: &Scenario,
    fleet: &FleetRecord,
    failures: &BTreeMap<ResolverKind, Vec<Failure<'_>>>,
    verdicts: &[VerdictBand],
    insecure: &[InsecureBand],
    off: &dyn Fn(Timestamp) -> String,
    expects_insecure: bool,
) -> Vec<CheckResult> {
    let domains: Vec<&str> = scenario.domains.iter().map(|d| d.name.as_str()).collect();
    let mut bands: Vec<String> = verdicts
        .iter()
        .filter(|b| domains.contains(&b.domain.as_str()))
        .filter(|b| {
            matches!(
                b.verdict,
                Verdict::Bogus | Verdict::Unreachable | Verdict::ContentChanged
            )
        })
        .map(|b| {
            format!(
                "{} from {} to {}",
                b.verdict.as_str(),
                off(b.from),
                off(b.until)
            )
        })
        .collect();
    if expects_insecure {
        for b in insecure {
            let words = format!("insecure from {} to {}", off(b.from), off(b.until));
            if !bands.contains(&words) {
                bands.push(words);
            }
        }
    }
    if bands.is_empty() {
        return Vec::new();
    }
    let queries = fleet.queries();
    fleet
        .resolvers
        .iter()
        .filter(|k| !failures.contains_key(k))
        .map(|k| {
            let policy = match never_holds(*k).as_slice() {
                [] => String::new(),
                list => format!(
                    "; resolver-policies.toml: {k} never holds {}",
                    list.join("; nor ")
                ),
            };
            pass(
                CheckId::ResolverFailed,
                format!(
                    "{k}: none of {} answers failed, though the model predicted {}: the states \
                     it allows are ones some resolver could hold, and this one's cache timing \
                     or chain building kept it out of them{policy}",
                    queries.get(k).copied().unwrap_or(0),
                    bands.join("; ")
                ),
            )
        })
        .collect()
}

fn evidence<'a>(
    fleet: &FleetRecord,
    list: impl Iterator<Item = &'a Failure<'a>>,
    off: &dyn Fn(Timestamp) -> String,
) -> Vec<String> {
    let list: Vec<&Failure<'_>> = list.collect();
    let mut out = Vec::new();
    for f in list.iter().take(EVIDENCE_FAILURES) {
        let s = f.sample;
        let q = &fleet.questions[s.question];
        let answer = match &s.answer {
            Ok(a) => a.to_string(),
            Err(e) => e.clone(),
        };
        let model = if f.predicted.is_empty() {
            "model: no such failure predicted".to_string()
        } else {
            format!("model: predicted {}", f.predicted.join("; "))
        };
        out.push(format!(
            "{} at {} (answered {}): {} {} → {answer} [{}]; {model}",
            s.resolver,
            off(s.sent),
            off(s.answered),
            q.name,
            q.rtype,
            f.why
        ));
        // The resolver's own words: lines about the domain read while the question was in
        // flight or just after (logs are read once per sample period).
        let period = SignedDuration::try_from(fleet.period).unwrap_or(SignedDuration::ZERO);
        if let Some(lines) = fleet.logs.get(&s.resolver) {
            for (_, line) in lines
                .iter()
                .filter(|(t, _)| *t >= s.sent && *t <= s.answered + period * 2)
                .take(LOG_LINES)
            {
                out.push(format!("  {} log: {line}", s.resolver));
            }
        }
    }
    if list.len() > EVIDENCE_FAILURES {
        out.push(format!(
            "… and {} more failures",
            list.len() - EVIDENCE_FAILURES
        ));
    }
    out
}

/// Why an answer is a failure, and of which kind, or None when it is what a resolver should
/// answer.
fn judge(
    scenario: &Scenario,
    fleet: &FleetRecord,
    registrant: &[Vec<RegistrantRecord>],
    s: &FleetSample,
) -> Option<(Kind, String)> {
    let a = match &s.answer {
        Ok(a) => a,
        Err(e) => return Some((Kind::Failed, format!("no answer: {e}"))),
    };
    if let Some(why) = content_failure(scenario, fleet, registrant, s, a) {
        return Some((Kind::Failed, why));
    }
    (scenario.expect.chain == ChainExpectation::Secure && !a.authentic).then(|| {
        (
            Kind::Insecure,
            "no AD bit: the resolver found it insecure, where the chain must stay secure".into(),
        )
    })
}

/// Why an answer is not a usable one (an error, a timeout, the domain gone, content that is
/// not the registrant's), or None.
fn content_failure(
    scenario: &Scenario,
    fleet: &FleetRecord,
    registrant: &[Vec<RegistrantRecord>],
    s: &FleetSample,
    a: &real_dns::ResolverAnswer,
) -> Option<String> {
    let q = &fleet.questions[s.question];
    match a.rcode {
        ResponseCode::ServFail => return Some("SERVFAIL (bogus, or no server reachable)".into()),
        ResponseCode::NoError | ResponseCode::NXDomain => {}
        other => return Some(format!("{other}")),
    }
    if matches!(q.rtype, RecordType::DS | RecordType::DNSKEY) {
        return (a.rcode == ResponseCode::NXDomain)
            .then(|| "NXDOMAIN: the domain does not exist".to_string());
    }
    let d = &scenario.domains[q.domain];
    let apex = Name::from_ascii(format!("{}.", d.name.trim_end_matches('.'))).ok()?;
    let qname = Name::from_ascii(format!("{}.", q.name)).ok()?;
    let expected = records::expected(&registrant[q.domain], &apex, &qname, q.rtype)?;
    let at_name: Vec<(String, String)> = a
        .records
        .iter()
        .filter_map(|line| {
            let mut parts = line.splitn(5, ' ');
            let owner = parts.next()?;
            let _ttl = parts.next()?;
            let _class = parts.next()?;
            let rtype = parts.next()?;
            let data = parts.next()?;
            (owner.trim_end_matches('.') == q.name).then(|| (rtype.to_string(), data.to_string()))
        })
        .collect();
    let has = |r: &RData| {
        at_name
            .iter()
            .any(|(t, d)| *t == r.record_type().to_string() && *d == rdata_text(r))
    };
    match expected {
        Expected::Records(set) => {
            if a.rcode != ResponseCode::NoError || !set.iter().all(has) {
                Some(format!(
                    "not the registrant's content ({})",
                    set.iter()
                        .map(|r| format!("{} {}", r.record_type(), rdata_text(r)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            } else {
                None
            }
        }
        Expected::Denied => at_name
            .iter()
            .any(|(t, _)| *t == q.rtype.to_string())
            .then(|| "data where the registrant has none".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use real_dns::ResolverAnswer;

    use super::*;

    #[test]
    fn the_policy_list_parses_and_gives_bind_its_bad_cache() {
        let file: PolicyFile = toml::from_str(POLICIES).unwrap();
        assert!(file.policy.iter().all(|p| !p.cause.trim().is_empty()));
        let known: Vec<&str> = ResolverKind::ALL.iter().map(|k| k.name()).collect();
        assert!(
            file.policy
                .iter()
                .all(|p| p.resolver == "*" || known.contains(&p.resolver.as_str())),
            "{file:?}"
        );
        // BIND: its 30-second bad cache plus one second of TTL granularity.
        assert_eq!(allowance(ResolverKind::Bind, 1), 31);
        // The others: the configured failure cache plus the second.
        assert_eq!(allowance(ResolverKind::Unbound, 1), 2);
        assert_eq!(allowance(ResolverKind::Kresd, 5), 6);
        // An insecure answer is data: only the second of granularity (and the TTLs it is
        // kept with: every resolver its answer's, Knot Resolver also its NS and DNSKEY sets').
        assert_eq!(late(ResolverKind::Bind), 1);
        assert_eq!(
            insecure_keeps(ResolverKind::Unbound)
                .into_iter()
                .collect::<Vec<_>>(),
            [Keeps::Answer]
        );
        assert_eq!(
            insecure_keeps(ResolverKind::Kresd)
                .into_iter()
                .collect::<Vec<_>>(),
            [Keeps::Answer, Keeps::Dnskey, Keeps::Ns]
        );
        // What every validator never holds (a DNSKEY set judged against a later DS), and Knot
        // Resolver's chain building besides; they widen nothing.
        assert_eq!(never_holds(ResolverKind::Unbound).len(), 1);
        let kresd = never_holds(ResolverKind::Kresd);
        assert_eq!(kresd.len(), 2);
        assert!(kresd[1].contains("delegation"), "{kresd:?}");
    }

    const SCENARIO: &str = r#"
id = "t"
title = "t"

[registrars.A]
played_by = "reference"

[registrars.B]
played_by = "reference"

[[domains]]
name = "example.nl"
sponsor = "A"
records = ["@ A 192.0.2.1", "www A 192.0.2.10"]
checks = ["www A"]

[[steps]]
do = "transfer"
domain = "example.nl"
to = "B"

[expect]
chain = "secure"
failures = ["DNSSEC-INSECURE-WINDOW"]
"#;

    fn scenario(chain: &str) -> Scenario {
        let text = SCENARIO.replace("chain = \"secure\"", &format!("chain = \"{chain}\""));
        crate::scenario::parse(Path::new("t.toml"), &text).unwrap()
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    /// A fleet of Unbound and Knot Resolver asked `www.example.nl A` at `+10 s`: Unbound's
    /// answer is `unbound`, Knot Resolver's the registrant's, validated.
    fn fleet(unbound: ResolverAnswer) -> FleetRecord {
        let good = ResolverAnswer {
            rcode: ResponseCode::NoError,
            authentic: true,
            records: vec!["www.example.nl 60 IN A 192.0.2.10".into()],
            extended_errors: Vec::new(),
        };
        let sample = |resolver, answer| FleetSample {
            resolver,
            question: 0,
            sent: at(10),
            answered: at(10),
            answer: Ok(answer),
        };
        FleetRecord {
            resolvers: vec![ResolverKind::Unbound, ResolverKind::Kresd],
            questions: vec![FleetQuestion {
                domain: 0,
                name: "www.example.nl".into(),
                rtype: RecordType::A,
            }],
            period: Duration::from_millis(250),
            failure_cache: [(ResolverKind::Unbound, 1), (ResolverKind::Kresd, 1)].into(),
            samples: vec![
                sample(ResolverKind::Unbound, unbound),
                sample(ResolverKind::Kresd, good),
            ],
            logs: BTreeMap::new(),
        }
    }

    fn insecure_answer() -> ResolverAnswer {
        ResolverAnswer {
            rcode: ResponseCode::NoError,
            authentic: false,
            records: vec!["www.example.nl 60 IN A 192.0.2.10".into()],
            extended_errors: Vec::new(),
        }
    }

    fn insecure_band(name: &str, rtype: RecordType, from: i64, until: i64) -> InsecureBand {
        InsecureBand {
            domain: "example.nl".into(),
            name: name.into(),
            rtype,
            from: at(from),
            until: at(until),
            detail: "no-ds at example.nl.".into(),
        }
    }

    fn outcomes(checks: &[CheckResult], id: CheckId) -> Vec<(Outcome, &str)> {
        checks
            .iter()
            .filter(|c| c.check == id)
            .map(|c| (c.outcome, c.message.as_str()))
            .collect()
    }

    #[test]
    fn an_answer_without_ad_inside_an_insecure_band_is_the_predicted_fault() {
        let s = scenario("secure");
        let bands = [insecure_band("www.example.nl", RecordType::A, 5, 12)];
        let checks = judge_fleet(
            &s,
            &fleet(insecure_answer()),
            &Observations::default(),
            at(0),
            &[],
            &bands,
        );
        let failed = outcomes(&checks, CheckId::ResolverFailed);
        assert!(
            failed.iter().any(|(o, m)| *o == Outcome::ExpectedFail
                && m.starts_with("unbound: 1 of 1 answers failed (all without the AD bit")
                && m.contains("insecure from +5.0s to +12.0s")),
            "{failed:?}"
        );
        // Knot Resolver answered securely through the band: named, with what the list says
        // it never holds, as information.
        assert!(
            failed.iter().any(|(o, m)| *o == Outcome::Pass
                && m.starts_with("kresd: none of 1 answers failed")
                && m.contains("resolver-policies.toml: kresd never holds")),
            "{failed:?}"
        );
        let missed = outcomes(&checks, CheckId::ModelMissed);
        assert!(
            missed.iter().all(|(o, _)| *o == Outcome::Pass),
            "{missed:?}"
        );
    }

    #[test]
    fn an_answer_without_ad_outside_every_insecure_band_is_a_model_miss() {
        let s = scenario("secure");
        // Only a second of TTL granularity and a period widen an insecure band: it ended at
        // +8.5 s, the answer came at +10 s.
        let late_band = insecure_band("www.example.nl", RecordType::A, 2, 8);
        // An insecure band for another question does not predict this one (an Opt-Out span
        // makes only denials insecure), nor does a bogus verdict band (that is a SERVFAIL).
        let other = insecure_band("does-not-exist-0.example.nl", RecordType::A, 5, 12);
        let bogus = VerdictBand {
            domain: "example.nl".into(),
            from: at(5),
            until: at(12),
            verdict: Verdict::Bogus,
            detail: "no-ds-matches-ksk".into(),
        };
        let checks = judge_fleet(
            &s,
            &fleet(insecure_answer()),
            &Observations::default(),
            at(0),
            &[bogus],
            &[late_band, other],
        );
        let missed = outcomes(&checks, CheckId::ModelMissed);
        assert!(
            missed
                .iter()
                .any(|(o, m)| *o == Outcome::Fail && m.starts_with("unbound failed 1 times")),
            "{missed:?}"
        );
        assert!(
            outcomes(&checks, CheckId::ResolverFailed)
                .iter()
                .any(|(o, _)| *o == Outcome::Fail),
            "{checks:?}"
        );
    }

    #[test]
    fn without_ad_is_no_failure_where_the_scenario_accepts_going_insecure() {
        let s = scenario("no-bogus");
        let checks = judge_fleet(
            &s,
            &fleet(insecure_answer()),
            &Observations::default(),
            at(0),
            &[],
            &[],
        );
        let failed = outcomes(&checks, CheckId::ResolverFailed);
        assert!(
            failed.iter().all(|(o, _)| *o == Outcome::Pass),
            "{failed:?}"
        );
        assert!(
            outcomes(&checks, CheckId::ModelMissed)
                .iter()
                .all(|(o, _)| *o == Outcome::Pass)
        );
    }

    #[test]
    fn a_never_holds_entry_hides_no_failure_outside_a_band() {
        // Knot Resolver has a never_holds entry; a SERVFAIL of its with no band near is
        // still a model miss.
        let s = scenario("secure");
        let mut f = fleet(insecure_answer());
        f.samples[1].answer = Ok(ResolverAnswer {
            rcode: ResponseCode::ServFail,
            authentic: false,
            records: Vec::new(),
            extended_errors: Vec::new(),
        });
        let checks = judge_fleet(&s, &f, &Observations::default(), at(0), &[], &[]);
        let missed = outcomes(&checks, CheckId::ModelMissed);
        assert!(
            missed
                .iter()
                .any(|(o, m)| *o == Outcome::Fail && m.starts_with("kresd failed 1 times")),
            "{missed:?}"
        );
    }

    /// What the servers served: the parent's delegation NS with a TTL of 3 s, the operator's
    /// DNSKEY set and `www` A with 2 s.
    fn observations() -> Observations {
        use crate::observe::{Source, Version};
        use hickory_proto::op::{Message, OpCode};
        use hickory_proto::rr::Record as Rr;
        use hickory_proto::rr::rdata::{A, NS};
        let apex = Name::from_ascii("example.nl.").unwrap();
        let version = |source, qname: &str, qtype, m| Version {
            source,
            qname: qname.into(),
            qtype,
            from: at(0),
            until: None,
            message: m,
        };
        let mut referral = Message::response(0, OpCode::Query);
        referral.add_authorities([Rr::from_rdata(
            apex.clone(),
            3,
            RData::NS(NS(Name::from_ascii("ns1.operator-b.example.").unwrap())),
        )]);
        let mut dnskey = Message::response(0, OpCode::Query);
        let key = dnssec::fixture_keys::key(dnssec::KeyAlgorithm::EcdsaP256Sha256, 1);
        dnskey.add_answers([Rr::from_rdata(
            apex.clone(),
            2,
            RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::DNSKEY(
                key.dnskey(256),
            )),
        )]);
        let mut www = Message::response(0, OpCode::Query);
        www.add_answers([Rr::from_rdata(
            Name::from_ascii("www.example.nl.").unwrap(),
            2,
            RData::A(A::new(192, 0, 2, 10)),
        )]);
        Observations::for_tests(
            vec![
                version(Source::Parent, "example.nl.", RecordType::NS, referral),
                version(
                    Source::Operator(1),
                    "example.nl.",
                    RecordType::DNSKEY,
                    dnskey,
                ),
                version(Source::Operator(1), "www.example.nl.", RecordType::A, www),
            ],
            Vec::new(),
        )
    }

    #[test]
    fn an_insecure_status_outlives_the_band_by_the_ttls_a_resolver_keeps_it_with() {
        let s = scenario("secure");
        let obs = observations();
        let www = ("www.example.nl".to_string(), RecordType::A);
        assert_eq!(longest_ttl(&obs, "example.nl", &www, Keeps::Answer), 2);
        assert_eq!(longest_ttl(&obs, "example.nl", &www, Keeps::Dnskey), 2);
        assert_eq!(longest_ttl(&obs, "example.nl", &www, Keeps::Ns), 3);
        // The band ended at +4 s; both answered without AD at +10 s.
        let band = [insecure_band("www.example.nl", RecordType::A, 0, 4)];
        let mut f = fleet(insecure_answer());
        f.samples[1].answer = Ok(insecure_answer());
        let checks = judge_fleet(&s, &f, &obs, at(0), &[], &band);
        let missed = outcomes(&checks, CheckId::ModelMissed);
        // Unbound keeps the status with the answer only: 1 s late + 2 s of TTL + the period
        // reach +7.25 s, not +10 s.
        assert!(
            missed
                .iter()
                .any(|(o, m)| *o == Outcome::Fail && m.starts_with("unbound failed 1 times")),
            "{missed:?}"
        );
        // Knot Resolver keeps it with its NS set and DNSKEY set too: 1 + 3 + 2 + 2 s and the
        // period reach +12.25 s.
        assert!(
            !missed.iter().any(|(_, m)| m.starts_with("kresd")),
            "{missed:?}"
        );
        assert!(
            outcomes(&checks, CheckId::ResolverFailed)
                .iter()
                .any(|(o, m)| *o == Outcome::ExpectedFail && m.starts_with("kresd: 1 of 1")),
            "{checks:?}"
        );
    }

    #[test]
    fn the_domain_s_ds_dnskey_and_denial_are_judged_by_the_apex_and_the_observer_s_denial() {
        let s = scenario("secure");
        let q = |name: &str, rtype| FleetQuestion {
            domain: 0,
            name: name.into(),
            rtype,
        };
        assert_eq!(
            model_question(&s, &q("example.nl", RecordType::DNSKEY)),
            ("example.nl".to_string(), RecordType::SOA)
        );
        assert_eq!(
            model_question(&s, &q("example.nl", RecordType::DS)),
            ("example.nl".to_string(), RecordType::SOA)
        );
        let negative = negative_name(s.world.seed, "example.nl");
        assert_eq!(
            model_question(&s, &q("no-such-name-fleet.example.nl", RecordType::A)),
            (negative.trim_end_matches('.').to_string(), RecordType::A)
        );
        assert_eq!(
            model_question(&s, &q("www.example.nl", RecordType::A)),
            ("www.example.nl".to_string(), RecordType::A)
        );
    }
}
