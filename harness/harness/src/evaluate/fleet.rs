//! The resolver fleet's answers against the cache model (issue 17): `RESOLVER-FAILED` and
//! `HARNESS-MODEL-MISSED`.
//!
//! Every answer a real resolver gave is judged on its own: SERVFAIL (bogus, or nothing
//! reachable), another error code, no answer in time, the domain gone (NXDOMAIN for its DS
//! or DNSKEY), or content that is not the registrant's (the same expectation the cache
//! model's content check uses, [`crate::records::expected`]) is a failure. Each failure is
//! then held against the model's verdict bands for its domain: it is *predicted* when a band
//! of bogus, unreachable or changed content overlaps the time the question was in flight,
//! widened by one sample period, and after the band by what the checked-in list of resolver
//! cache policies (harness/harness/resolver-policies.toml: failure caches such as BIND's
//! 30-second bad cache, one second of TTL granularity) says a resolver may legitimately
//! answer after the data that caused the failure is gone. A failure the model did not predict is
//! also `HARNESS-MODEL-MISSED`: the harness's model was wrong, which is never hidden.
//!
//! A scenario that expects the model's checks to fail (its deliberate fault) expects the
//! real resolvers to fail too: a resolver whose every failure was predicted is then reported
//! as an expected failure, the fault seen by real software.

use std::collections::BTreeMap;

use checker::Expected;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use jiff::{SignedDuration, Timestamp};
use real_dns::ResolverKind;

use super::{fail, pass};
use crate::checks::CheckId;
use crate::fleet::{FleetRecord, FleetSample};
use crate::record::Record;
use crate::records::{self, RegistrantRecord};
use crate::report::{CheckResult, Outcome, Verdict, VerdictBand};
use crate::scenario::Scenario;

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
    /// Why; read by people (the list is the documentation), not by the code.
    #[allow(dead_code, reason = "documentation in the list, checked to be there")]
    cause: String,
}

/// How long after a band of the model ends `resolver` may still answer a failure, seconds:
/// its failure cache (`configured`, or the list's minimum if larger) plus every `late` of the
/// list that applies to it.
fn allowance(resolver: ResolverKind, configured: u32) -> i64 {
    static FILE: std::sync::LazyLock<PolicyFile> = std::sync::LazyLock::new(|| {
        // A unit test parses the compiled-in file, so this cannot fail in a tested build.
        toml::from_str(POLICIES)
            .unwrap_or_else(|e| panic!("harness/harness/resolver-policies.toml is malformed: {e}"))
    });
    let file = &*FILE;
    let applies = |p: &&Policy| p.resolver == "*" || p.resolver == resolver.name();
    let cache = file
        .policy
        .iter()
        .filter(applies)
        .map(|p| p.failure_cache_min)
        .fold(configured, u32::max);
    let late: u32 = file.policy.iter().filter(applies).map(|p| p.late).sum();
    i64::from(cache) + i64::from(late)
}
/// Log lines given per failure at most.
const LOG_LINES: usize = 4;

/// One failed answer, judged.
#[derive(Debug, Clone)]
struct Failure<'a> {
    sample: &'a FleetSample,
    why: String,
    /// The model's bands that predict it, in words; empty when none does.
    predicted: Vec<String>,
}

/// The fleet's checks, when it ran.
pub fn checks(scenario: &Scenario, record: &Record, verdicts: &[VerdictBand]) -> Vec<CheckResult> {
    let Some(fleet) = &record.fleet else {
        return Vec::new();
    };
    let start = record.start;
    // Tenths of a second: on the wall clock the bands are seconds wide.
    let off = |t: Timestamp| format!("+{:.1}s", t.duration_since(start).as_secs_f64());
    let registrant: Vec<Vec<RegistrantRecord>> = scenario
        .domains
        .iter()
        .map(|d| records::parse_all(&d.name, &d.records).unwrap_or_default())
        .collect();
    let period = SignedDuration::try_from(fleet.period).unwrap_or(SignedDuration::ZERO);
    let mut failures: BTreeMap<ResolverKind, Vec<Failure<'_>>> = BTreeMap::new();
    for s in &fleet.samples {
        let Some(why) = judge(scenario, fleet, &registrant, s) else {
            continue;
        };
        let q = &fleet.questions[s.question];
        let domain = &scenario.domains[q.domain].name;
        // After the question: one period (a band may start between two samples). Before it:
        // the period, the resolver's failure caches, and one second of TTL granularity
        // (resolvers count TTLs in whole seconds of their own clock and keep an entry while
        // `now <= expiry`: Unbound's data with a TTL of 10 s fetched at 0.9 s is still used
        // at 10.99 s), so a bogus state may be seen that long after the model's band ends.
        let configured = fleet.failure_cache.get(&s.resolver).copied().unwrap_or(1);
        let (from, until) = (
            s.sent - period - SignedDuration::from_secs(allowance(s.resolver, configured)),
            s.answered + period,
        );
        let predicted = verdicts
            .iter()
            .filter(|b| b.domain == *domain && b.from < until && from < b.until)
            .filter(|b| {
                matches!(
                    b.verdict,
                    Verdict::Bogus | Verdict::Unreachable | Verdict::ContentChanged
                )
            })
            .map(|b| {
                format!(
                    "{} from {} to {} ({})",
                    b.verdict.as_str(),
                    off(b.from),
                    off(b.until),
                    b.detail
                )
            })
            .collect();
        failures.entry(s.resolver).or_default().push(Failure {
            sample: s,
            why,
            predicted,
        });
    }
    let queries = fleet.queries();
    let counts: Vec<String> = queries.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let expects_fault = scenario.expect.failures.iter().any(|c| {
        matches!(
            c,
            CheckId::ChainBogus | CheckId::Unreachable | CheckId::ContentChanged
        )
    });
    let mut out = Vec::new();
    if failures.is_empty() {
        out.push(pass(
            CheckId::ResolverFailed,
            format!(
                "queries per resolver: {}; no SERVFAIL, error code, timeout or answer other than \
                 the registrant's content",
                counts.join(", ")
            ),
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
        let mut c = fail(
            CheckId::ResolverFailed,
            format!(
                "{kind}: {} of {total} answers failed, from {} to {}; {predicted_words}",
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
                     predicted no failure: the model is wrong (a harness bug)",
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
            "model: no failure predicted".to_string()
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

/// Why an answer is a failure, or None when it is what a resolver should answer.
fn judge(
    scenario: &Scenario,
    fleet: &FleetRecord,
    registrant: &[Vec<RegistrantRecord>],
    s: &FleetSample,
) -> Option<String> {
    let q = &fleet.questions[s.question];
    let a = match &s.answer {
        Ok(a) => a,
        Err(e) => return Some(format!("no answer: {e}")),
    };
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
            .any(|(t, d)| *t == r.record_type().to_string() && *d == r.to_string())
    };
    match expected {
        Expected::Records(set) => {
            if a.rcode != ResponseCode::NoError || !set.iter().all(has) {
                Some(format!(
                    "not the registrant's content ({})",
                    set.iter()
                        .map(|r| format!("{} {r}", r.record_type()))
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
    }
}
