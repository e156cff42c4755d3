//! Reachability (design.md §3): can every resolver state reach a server that answers
//! authoritatively for the domain?
//!
//! A resolver holding an NS RRset for the domain (the parent's delegation, or an operator's own
//! NS fetched through it; see `holding::operator_reach`) asks the
//! servers that NS set names. A host name leads to the sources that answer for it (their
//! [`Source::hosts`](super::timeline::Source::hosts)); a source answers for the domain at `t`
//! when what it served then for the apex SOA was a positive SOA. A state is
//!
//! - **unreachable** when no host of its NS set leads to a source that answers: a misspelt or
//!   unknown host, a removed zone, a stopped server, REFUSED, SERVFAIL, a timeout, a lame
//!   answer; or when the parent delegates to no name servers at all. A resolver in that state
//!   cannot resolve the domain: a failure.
//! - **lame** when some hosts lead to an answering source and some do not: resolvers retry the
//!   others, so it is a warning.
//!
//! **Architecture Invariant:** like the cache model, this reads only the timeline.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use hickory_proto::rr::{Name, RecordType};
use jiff::Timestamp;

use super::holding::{
    FOREVER, NsHold, OperatorReach, Provenance, Secs, ns_hosts, offset, secs, ts,
};
use super::timeline::{Question, Reach, Served, SourceId, Timeline, VersionId};
use super::view::Response;

/// Whether a resolver state can reach an answering server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reachability {
    /// Every server of the NS set answers.
    Reachable,
    /// Some servers of the NS set answer, some do not.
    Lame,
    /// No server of the NS set answers for the domain.
    Unreachable,
}

impl Reachability {
    /// `reachable`, `lame`, `unreachable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reachable => "reachable",
            Self::Lame => "lame",
            Self::Unreachable => "unreachable",
        }
    }
}

impl fmt::Display for Reachability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One name server host of a held NS set, and whether anything answers there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostState {
    /// The host name.
    pub host: Name,
    /// Whether some source answers for the domain there.
    pub answers: bool,
    /// How each source behind it answered, or that none is behind it.
    pub detail: String,
}

/// A resolver state: the NS set it holds, where that came from, and what each host does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachWitness {
    /// The instant at which a resolver could be in this state.
    pub at: Timestamp,
    /// The NS answer held.
    pub ns: VersionId,
    /// The held NS set in words, as reports quote it.
    pub ns_summary: String,
    /// How a resolver could hold it at that instant.
    pub provenance: Provenance,
    /// Each host of the NS set.
    pub hosts: Vec<HostState>,
}

impl ReachWitness {
    /// A description with times relative to `origin`, one line per host.
    pub fn describe(&self, origin: Timestamp) -> String {
        let p = &self.provenance;
        let mut out = format!(
            "resolver state at {}: NS {} from {} (served {}–{}, fetched {}–{}, held until {})",
            offset(origin, self.at),
            self.ns_summary,
            p.source_name,
            offset(origin, p.served.first_seen),
            p.served
                .until
                .map_or_else(|| "end".to_string(), |u| offset(origin, u)),
            offset(origin, p.fetched_from),
            offset(origin, p.fetched_until),
            offset(origin, p.held_until),
        );
        if self.hosts.is_empty() {
            out.push_str("\n  the NS set names no name server");
        }
        for h in &self.hosts {
            out.push_str(&format!("\n  {}: {}", h.host, h.detail));
        }
        out
    }
}

/// A reachability problem found in a band, with the first state that showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachFinding {
    /// Lame or unreachable.
    pub status: Reachability,
    /// The first state found with it.
    pub witness: ReachWitness,
    /// How many (instant, NS set) states in the band had it.
    pub occurrences: u64,
}

/// A stretch of time with one (worst) reachability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachBand {
    /// Start (inclusive).
    pub from: Timestamp,
    /// End (exclusive).
    pub until: Timestamp,
    /// The worst state any resolver could be in.
    pub status: Reachability,
    /// The problems met, the first state each.
    pub findings: Vec<ReachFinding>,
}

/// The sources that answer for a host name.
fn behind<'t>(timeline: &'t Timeline, host: &Name) -> Vec<(SourceId, &'t str)> {
    timeline
        .sources()
        .filter(|(_, s)| s.reach == Reach::ViaNs && s.hosts.contains(host))
        .map(|(id, s)| (id, s.name.as_str()))
        .collect()
}

/// What `source` served for the apex SOA at `t`, if anything.
fn soa_at(timeline: &Timeline, source: SourceId, domain: &Name, t: Secs) -> Option<Served> {
    timeline
        .served(source, &Question::new(domain, RecordType::SOA))
        .iter()
        .find(|s| secs(s.first_seen) <= t && t < s.until.map_or(FOREVER, secs))
        .copied()
}

/// How each host of an NS set fares at `t`.
fn host_states(
    timeline: &Timeline,
    domain: &Name,
    hosts: &BTreeSet<Name>,
    t: Secs,
    origin: Timestamp,
) -> Vec<HostState> {
    hosts
        .iter()
        .map(|host| {
            let sources = behind(timeline, host);
            if sources.is_empty() {
                return HostState {
                    host: host.clone(),
                    answers: false,
                    detail: "no server answers for this host name".into(),
                };
            }
            let mut answers = false;
            let mut details = Vec::new();
            for (id, name) in sources {
                match soa_at(timeline, id, domain, t) {
                    Some(s) => {
                        let v = timeline.version(s.version);
                        let ok = matches!(v, Response::Positive(set)
                            if set.record_type() == RecordType::SOA);
                        answers |= ok;
                        let what = match v {
                            Response::Unavailable => "no authoritative answer (REFUSED, \
                                                      SERVFAIL, a lame answer or none at all)"
                                .to_string(),
                            _ => timeline.summary(s.version).to_string(),
                        };
                        details.push(format!(
                            "{name}: {what} since {}",
                            offset(origin, s.first_seen)
                        ));
                    }
                    None => details.push(format!("{name}: has not answered for the domain")),
                }
            }
            HostState {
                host: host.clone(),
                answers,
                detail: details.join("; "),
            }
        })
        .collect()
}

/// The reachability of every resolver state from `from` to `until`. See the module
/// documentation.
pub(crate) fn reachability(
    timeline: &Timeline,
    reach: &OperatorReach,
    from: Secs,
    until: Secs,
) -> Vec<ReachBand> {
    let domain = timeline.domain().clone();
    let origin = timeline.start().unwrap_or(Timestamp::UNIX_EPOCH);
    let soa = Question::new(&domain, RecordType::SOA);
    let mut instants: BTreeSet<Secs> = BTreeSet::new();
    instants.insert(from);
    for h in &reach.ns {
        instants.insert(h.hold.hold.0);
        instants.insert(h.hold.hold.1);
    }
    for (src, q, served) in timeline.entries() {
        let via_ns = timeline
            .source(src)
            .is_some_and(|s| s.reach == Reach::ViaNs);
        if *q != soa || !via_ns {
            continue;
        }
        for s in served {
            instants.insert(secs(s.first_seen));
            if let Some(u) = s.until {
                instants.insert(secs(u));
            }
        }
    }
    let instants: Vec<Secs> = instants
        .into_iter()
        .filter(|t| *t >= from && *t < until)
        .collect();
    let mut bands: Vec<ReachBand> = Vec::new();
    for (k, &t) in instants.iter().enumerate() {
        let next = instants.get(k + 1).copied().unwrap_or(until);
        let mut held: BTreeMap<VersionId, Vec<&NsHold>> = BTreeMap::new();
        for h in reach
            .ns
            .iter()
            .filter(|h| h.hold.hold.0 <= t && t < h.hold.hold.1)
        {
            held.entry(h.version).or_default().push(h);
        }
        let mut status = Reachability::Reachable;
        let mut findings: Vec<ReachFinding> = Vec::new();
        for (version, holds) in held {
            let response = timeline.version(version);
            let hosts = ns_hosts(response);
            let states = host_states(timeline, &domain, &hosts, t, origin);
            let answering = states.iter().filter(|h| h.answers).count();
            let here = if answering == 0 {
                Reachability::Unreachable
            } else if answering < states.len() {
                Reachability::Lame
            } else {
                Reachability::Reachable
            };
            status = status.max(here);
            if here == Reachability::Reachable {
                continue;
            }
            let h = &holds[0].hold;
            let witness = ReachWitness {
                at: ts(t),
                ns: version,
                ns_summary: timeline.summary(version).to_string(),
                provenance: Provenance {
                    source: h.source,
                    source_name: timeline
                        .source(h.source)
                        .map_or_else(String::new, |s| s.name.clone()),
                    served: h.served,
                    fetched_from: ts(h.fetch.0),
                    fetched_until: ts(h.fetch.1.min(t)),
                    held_until: ts(h.hold.1),
                },
                hosts: states,
            };
            match findings.iter_mut().find(|f| f.status == here) {
                Some(f) => f.occurrences += 1,
                None => findings.push(ReachFinding {
                    status: here,
                    witness,
                    occurrences: 1,
                }),
            }
        }
        match bands.last_mut() {
            Some(last) if last.status == status && secs(last.until) == t => {
                last.until = ts(next);
                for f in findings {
                    match last.findings.iter_mut().find(|x| x.status == f.status) {
                        Some(x) => x.occurrences += f.occurrences,
                        None => last.findings.push(f),
                    }
                }
            }
            _ => bands.push(ReachBand {
                from: ts(t),
                until: ts(next),
                status,
                findings,
            }),
        }
    }
    bands
}
