//! How long a resolver can hold what, and through which name servers: the time arithmetic,
//! interval sets and provenance the cache model and the reachability analysis share, and the
//! reach of each operator through the NS RRsets a resolver could hold.

use std::collections::{BTreeMap, BTreeSet};

use hickory_proto::rr::{Name, RData, RecordType};
use jiff::{SignedDuration, Timestamp};

use super::timeline::{Question, Reach, Served, SourceId, Timeline, VersionId};
use super::view::Response;

/// Seconds since the epoch.
pub(crate) type Secs = i64;

/// "Forever": later than any analysis end, with room to add TTLs.
pub(crate) const FOREVER: Secs = i64::MAX / 4;

/// Where a held item came from, and when fetching it makes it holdable at the witness's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The timeline source the item was fetched from (parent, operator or server).
    pub source: SourceId,
    /// The source's name.
    pub source_name: String,
    /// The stretch during which the source served it.
    pub served: Served,
    /// A fetch between `fetched_from` and `fetched_until` (while the source served it and was
    /// reachable, and not after the witness's time)…
    pub fetched_from: Timestamp,
    /// …end of that window.
    pub fetched_until: Timestamp,
    /// …lets a resolver hold it until this instant (exclusive).
    pub held_until: Timestamp,
}

/// `+26h`, `+1h30m`, `-5m`: an instant relative to an origin.
pub fn offset(origin: Timestamp, t: Timestamp) -> String {
    let secs = t.as_second() - origin.as_second();
    let sign = if secs < 0 { "-" } else { "+" };
    let s = secs.unsigned_abs();
    let (d, h, m, sec) = (s / 86400, (s % 86400) / 3600, (s % 3600) / 60, s % 60);
    let mut out = sign.to_string();
    if d > 0 {
        out.push_str(&format!("{d}d"));
    }
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 || s == 0 {
        out.push_str(&format!("{sec}s"));
    }
    out
}

/// Half-open intervals `[a, b)`, sorted and disjoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Intervals(pub(crate) Vec<(Secs, Secs)>);

impl Intervals {
    pub(crate) fn from_vec(mut v: Vec<(Secs, Secs)>) -> Self {
        v.retain(|(a, b)| a < b);
        v.sort_unstable();
        let mut out: Vec<(Secs, Secs)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match out.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        Self(out)
    }

    pub(crate) fn intersect(&self, a: Secs, b: Secs) -> Vec<(Secs, Secs)> {
        self.0
            .iter()
            .map(|&(x, y)| (x.max(a), y.min(b)))
            .filter(|(x, y)| x < y)
            .collect()
    }
}

pub(crate) fn secs(t: Timestamp) -> Secs {
    t.as_second()
}

pub(crate) fn ts(s: Secs) -> Timestamp {
    Timestamp::from_second(s.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second()))
        .expect("invariant: clamped into jiff's range")
}

/// One way to hold a version.
#[derive(Debug, Clone)]
pub(crate) struct Hold {
    pub(crate) source: SourceId,
    pub(crate) served: Served,
    /// While it could be fetched: served and reachable.
    pub(crate) fetch: (Secs, Secs),
    /// While it could be held: from the first fetch to the last fetch plus its TTL.
    pub(crate) hold: (Secs, Secs),
}

/// The host names an NS answer lists (empty for anything but a positive NS answer).
pub(crate) fn ns_hosts(response: &Response) -> BTreeSet<Name> {
    match response {
        Response::Positive(set) if set.record_type() == RecordType::NS => set
            .rdata()
            .filter_map(|r| match r {
                RData::NS(ns) => Some(ns.0.to_lowercase()),
                _ => None,
            })
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// How resolvers reach the operators, and every NS RRset they could hold. See
/// [`operator_reach`].
#[derive(Debug, Clone, Default)]
pub(crate) struct OperatorReach {
    /// When each operator source ([`Reach::ViaNs`]) is reachable.
    pub(crate) reach: BTreeMap<SourceId, Intervals>,
    /// Every way to hold an NS RRset for the domain: the parent's delegation, and each
    /// operator's own (child-side) NS fetched while it was reachable.
    pub(crate) ns: Vec<NsHold>,
}

/// One NS RRset for the domain a resolver could hold, and how.
#[derive(Debug, Clone)]
pub(crate) struct NsHold {
    /// The NS answer.
    pub(crate) version: VersionId,
    /// Where it came from and when it was holdable.
    pub(crate) hold: Hold,
}

/// The reach of the operators: an operator is reachable while a resolver can hold an NS RRset
/// listing one of its hosts: the parent's delegation NS (held for its TTL after the parent
/// stopped serving it), or the operator's own child-side NS fetched through it, which does not
/// renew itself (RFC 1034 §5.3.3; the "ghost domain" fixes) and so extends the reach by one
/// TTL.
pub(crate) fn operator_reach(timeline: &Timeline) -> OperatorReach {
    let domain = timeline.domain().clone();
    let always = |s: SourceId| {
        timeline
            .source(s)
            .is_some_and(|src| src.reach == Reach::Always)
    };
    let end_of = |s: &Served| s.until.map_or(FOREVER, secs);
    let mut ns: Vec<NsHold> = Vec::new();
    let ns_q = Question::new(&domain, RecordType::NS);
    let operators: Vec<(SourceId, BTreeSet<Name>)> = timeline
        .sources()
        .filter(|(_, s)| s.reach == Reach::ViaNs)
        .map(|(id, s)| (id, s.hosts.iter().cloned().collect()))
        .collect();
    let listed = |hosts: &BTreeSet<Name>| -> Vec<SourceId> {
        operators
            .iter()
            .filter(|(_, h)| !h.is_disjoint(hosts))
            .map(|(id, _)| *id)
            .collect()
    };
    let mut via_parent: BTreeMap<SourceId, Vec<(Secs, Secs)>> = BTreeMap::new();
    for (src, q, served) in timeline.entries() {
        if *q != ns_q || !always(src) {
            continue;
        }
        for s in served {
            let response = timeline.version(s.version);
            let Some(ttl) = response.cache_ttl() else {
                continue;
            };
            let window = (
                secs(s.first_seen),
                end_of(s).saturating_add(Secs::from(ttl)),
            );
            ns.push(NsHold {
                version: s.version,
                hold: Hold {
                    source: src,
                    served: *s,
                    fetch: (secs(s.first_seen), end_of(s)),
                    hold: window,
                },
            });
            for op in listed(&ns_hosts(response)) {
                via_parent.entry(op).or_default().push(window);
            }
        }
    }
    let via_parent: BTreeMap<SourceId, Intervals> = via_parent
        .into_iter()
        .map(|(k, v)| (k, Intervals::from_vec(v)))
        .collect();
    let mut reach: BTreeMap<SourceId, Vec<(Secs, Secs)>> =
        via_parent.iter().map(|(k, v)| (*k, v.0.clone())).collect();
    for (src, q, served) in timeline.entries() {
        if *q != ns_q || always(src) {
            continue;
        }
        let Some(parent_reach) = via_parent.get(&src) else {
            continue;
        };
        for s in served {
            let response = timeline.version(s.version);
            let Some(ttl) = response.cache_ttl() else {
                continue;
            };
            for (a, b) in parent_reach.intersect(secs(s.first_seen), end_of(s)) {
                let held = (a, b.saturating_add(Secs::from(ttl)));
                ns.push(NsHold {
                    version: s.version,
                    hold: Hold {
                        source: src,
                        served: *s,
                        fetch: (a, b),
                        hold: held,
                    },
                });
                for op in listed(&ns_hosts(response)) {
                    reach.entry(op).or_default().push(held);
                }
            }
        }
    }
    let reach: BTreeMap<SourceId, Intervals> = reach
        .into_iter()
        .map(|(k, v)| (k, Intervals::from_vec(v)))
        .collect();

    OperatorReach { reach, ns }
}

/// `t` plus `seconds` (for tests and benchmarks that script timelines).
pub fn after(t: Timestamp, seconds: i64) -> Timestamp {
    t.saturating_add(SignedDuration::from_secs(seconds))
        .expect("invariant: scripted times are far from jiff's limits")
}
