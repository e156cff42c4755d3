//! The observation timeline: every version of every relevant RRset, per source, with the
//! virtual times the source served it.
//!
//! # Model
//!
//! A *source* is a set of name servers answering alike: the root servers, the TLD servers, one
//! DNS operator. A *question* is a name and a type. For each (source, question) the timeline
//! holds a step function of time: the source served version `v` from `first_seen` until
//! `until`, the first instant it was seen serving something else (`None`: still serving at the
//! horizon). Versions are interned by content, so the same RRset served by two operators, or
//! again after a change was undone, is one [`VersionId`].
//!
//! # Feeding it
//!
//! The runner observes every source after every change in a scenario (and at the start): it
//! queries each server for each relevant question and calls [`Timeline::observe`] with the
//! response and the virtual time. Between two observations a source is assumed to serve what
//! it served at the first; a change observed at `t` is taken to have happened at `t`. Which
//! questions matter (see [`Questions`]):
//!
//! - at the root and TLD sources ([`Source::parent`]): the DNSKEY RRset of each zone on the
//!   path, the DS of each zone below, and the domain's delegation NS (which decides which
//!   operators a resolver can reach);
//! - at each operator ([`Source::operator`], reached through the NS host names it answers for):
//!   the domain's DNSKEY, SOA and NS, the configured names, and a name that does not exist.
//!
//! [`Timeline::observe_zone`] answers a list of questions from a [`SignedZone`] as its
//! authoritative server would (for tests and in-process operators); a runner talking to real
//! servers builds [`Response`]s from their answers instead.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::OnceLock;

use dnssec::SignedZone;
use hickory_proto::rr::{Name, RecordType};
use jiff::Timestamp;

use super::view::{Fingerprint, Response};

/// A source's index in its timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub(crate) u32);

/// A version's index in its timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionId(pub(crate) u32);

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// How a resolver gets to a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// Always (the root and the TLD: the path above the domain does not change).
    Always,
    /// Only while the resolver holds an NS RRset for the domain that lists one of the source's
    /// host names.
    ViaNs,
}

/// A set of name servers that answer alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// A name for reports, e.g. `tld` or `operator A`.
    pub name: String,
    /// The name server host names that lead to it (lowercase).
    pub hosts: Vec<Name>,
    /// How a resolver reaches it.
    pub reach: Reach,
}

impl Source {
    /// A parent (root or TLD servers): always reachable.
    pub fn parent(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            hosts: Vec::new(),
            reach: Reach::Always,
        }
    }

    /// A DNS operator of the domain, reached through these NS host names.
    pub fn operator(name: impl Into<String>, hosts: impl IntoIterator<Item = Name>) -> Self {
        Self {
            name: name.into(),
            hosts: hosts.into_iter().map(|h| h.to_lowercase()).collect(),
            reach: Reach::ViaNs,
        }
    }
}

/// A question: name and type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Question {
    /// The name (lowercase).
    pub name: Name,
    /// The RRset type asked for; with the name it keys the timeline's rows.
    pub rtype: RecordType,
}

impl Question {
    /// A question for `name`/`rtype`.
    pub fn new(name: &Name, rtype: RecordType) -> Self {
        Self {
            name: name.to_lowercase(),
            rtype,
        }
    }
}

impl fmt::Display for Question {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.rtype)
    }
}

/// One stretch of time during which a source served one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// What it served.
    pub version: VersionId,
    /// The first observation that saw it.
    pub first_seen: Timestamp,
    /// The last observation that saw it.
    pub last_seen: Timestamp,
    /// The first observation that saw something else (None: still served at the horizon).
    pub until: Option<Timestamp>,
}

/// Why an observation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimelineError {
    /// The path must run from the top down, each zone below the previous one.
    #[error("bad path: {0}")]
    Path(String),
    /// No such source.
    #[error("unknown source {0:?}")]
    UnknownSource(SourceId),
    /// Observations of one (source, question) must not go back in time.
    #[error("observation went back in time: {0}")]
    TimeWentBack(String),
}

/// The questions that matter for a domain. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Questions {
    /// For the parent sources: DNSKEY of every zone above the domain, DS of every zone below the
    /// top, the domain's delegation NS.
    pub parent: Vec<Question>,
    /// For the operators: the domain's DNSKEY, SOA and NS, the configured names, the negative
    /// name.
    pub operator: Vec<Question>,
}

impl Questions {
    /// The questions for a domain at the end of `path`, with configured names and a name that
    /// must not exist (asked for A, so the answer is an NXDOMAIN proof).
    pub fn new(path: &[Name], names: &[(Name, RecordType)], negative: &Name) -> Self {
        let mut parent = Vec::new();
        let last = path.len().saturating_sub(1);
        for (i, apex) in path.iter().enumerate() {
            if i > 0 {
                parent.push(Question::new(apex, RecordType::DS));
            }
            if i < last {
                parent.push(Question::new(apex, RecordType::DNSKEY));
            }
        }
        let mut operator = Vec::new();
        if let Some(domain) = path.last() {
            parent.push(Question::new(domain, RecordType::NS));
            for t in [RecordType::DNSKEY, RecordType::SOA, RecordType::NS] {
                operator.push(Question::new(domain, t));
            }
        }
        operator.extend(names.iter().map(|(n, t)| Question::new(n, *t)));
        operator.push(Question::new(negative, RecordType::A));
        Self { parent, operator }
    }
}

/// Every version of every relevant RRset, per source, over virtual time. See the module
/// documentation.
#[derive(Debug, Clone)]
pub struct Timeline {
    path: Vec<Name>,
    sources: Vec<Source>,
    versions: Vec<Response>,
    /// Each version's [`Response::summary`], written the first time a witness needs it: a
    /// run's findings name the same few versions over and over.
    summaries: Vec<OnceLock<String>>,
    index: HashMap<Fingerprint, Vec<VersionId>>,
    served: BTreeMap<(SourceId, Question), Vec<Served>>,
    start: Option<Timestamp>,
    horizon: Option<Timestamp>,
}

impl Timeline {
    /// A timeline for the domain at the end of `path`, which lists the zones from the top (the
    /// root, or the zone with the trust anchor) down, each below the previous.
    pub fn new(path: impl IntoIterator<Item = Name>) -> Result<Self, TimelineError> {
        let path: Vec<Name> = path.into_iter().map(|n| n.to_lowercase()).collect();
        if path.is_empty() {
            return Err(TimelineError::Path("empty".into()));
        }
        for w in path.windows(2) {
            if w[0] == w[1] || !w[0].zone_of(&w[1]) {
                return Err(TimelineError::Path(format!(
                    "{} is not below {}",
                    w[1], w[0]
                )));
            }
        }
        Ok(Self {
            path,
            sources: Vec::new(),
            versions: Vec::new(),
            summaries: Vec::new(),
            index: HashMap::new(),
            served: BTreeMap::new(),
            start: None,
            horizon: None,
        })
    }

    /// The zones from the top down to the domain.
    pub fn path(&self) -> &[Name] {
        &self.path
    }

    /// The observed domain (the last zone of the path).
    pub fn domain(&self) -> &Name {
        self.path
            .last()
            .expect("invariant: new refuses an empty path")
    }

    /// Registers a server or registry the runner will observe; the id names it in every row.
    pub fn add_source(&mut self, source: Source) -> SourceId {
        let id = SourceId(u32::try_from(self.sources.len()).unwrap_or(u32::MAX));
        self.sources.push(source);
        id
    }

    /// Every source in the order it was added, which is the order reports list them in.
    pub fn sources(&self) -> impl Iterator<Item = (SourceId, &Source)> + '_ {
        self.sources
            .iter()
            .enumerate()
            .map(|(i, s)| (SourceId(u32::try_from(i).unwrap_or(u32::MAX)), s))
    }

    /// The source an id names; `None` for an id of another timeline.
    pub fn source(&self, id: SourceId) -> Option<&Source> {
        self.sources.get(id.0 as usize)
    }

    /// A version's content.
    ///
    /// # Panics
    /// If `id` is not from this timeline.
    pub fn version(&self, id: VersionId) -> &Response {
        &self.versions[id.0 as usize]
    }

    /// A version's [`Response::summary`] (made once per version).
    ///
    /// # Panics
    /// If `id` is not from this timeline.
    pub fn summary(&self, id: VersionId) -> &str {
        self.summaries[id.0 as usize].get_or_init(|| self.versions[id.0 as usize].summary())
    }

    /// How many distinct versions were observed.
    pub(crate) fn version_count(&self) -> usize {
        self.versions.len()
    }

    fn intern(&mut self, response: Response) -> VersionId {
        let fp = response.fingerprint();
        if let Some(ids) = self.index.get(&fp)
            && let Some(id) = ids
                .iter()
                .find(|id| self.versions[id.0 as usize] == response)
        {
            return *id;
        }
        let id = VersionId(u32::try_from(self.versions.len()).unwrap_or(u32::MAX));
        self.versions.push(response);
        self.summaries.push(OnceLock::new());
        self.index.entry(fp).or_default().push(id);
        id
    }

    /// Records that `source` answered `question` with `response` at `at`.
    pub fn observe(
        &mut self,
        source: SourceId,
        question: Question,
        response: Response,
        at: Timestamp,
    ) -> Result<(), TimelineError> {
        let Some(src) = self.sources.get(source.0 as usize) else {
            return Err(TimelineError::UnknownSource(source));
        };
        let src_name = src.name.clone();
        let version = self.intern(response);
        self.start = Some(self.start.map_or(at, |s| s.min(at)));
        self.horizon = Some(self.horizon.map_or(at, |h| h.max(at)));
        let list = self.served.entry((source, question.clone())).or_default();
        if let Some(last) = list.last_mut() {
            if at < last.last_seen {
                return Err(TimelineError::TimeWentBack(format!(
                    "{src_name} {question} at {at}, after one at {}",
                    last.last_seen
                )));
            }
            if last.version == version {
                last.last_seen = at;
                return Ok(());
            }
            if last.first_seen == at {
                // Changed again at the same instant: the earlier version was never served for
                // any length of time.
                list.pop();
                if let Some(prev) = list.last_mut()
                    && prev.version == version
                {
                    prev.last_seen = at;
                    prev.until = None;
                    return Ok(());
                }
            } else {
                last.until = Some(at);
            }
        }
        list.push(Served {
            version,
            first_seen: at,
            last_seen: at,
            until: None,
        });
        Ok(())
    }

    /// Observes `questions` at `source` as answered by an authoritative server for `zone`
    /// ([`Response::from_zone`]).
    pub fn observe_zone(
        &mut self,
        source: SourceId,
        zone: &SignedZone,
        questions: &[Question],
        at: Timestamp,
    ) -> Result<(), TimelineError> {
        for q in questions {
            let response = Response::from_zone(zone, &q.name, q.rtype);
            self.observe(source, q.clone(), response, at)?;
        }
        Ok(())
    }

    /// Observes that `source` answers none of `questions` (it stopped serving the zone).
    pub fn observe_unavailable(
        &mut self,
        source: SourceId,
        questions: &[Question],
        at: Timestamp,
    ) -> Result<(), TimelineError> {
        for q in questions {
            self.observe(source, q.clone(), Response::Unavailable, at)?;
        }
        Ok(())
    }

    /// Marks the end of the observations (the scenario ended at `at`): everything still served
    /// is taken to be served until then at least.
    pub fn finish(&mut self, at: Timestamp) {
        self.horizon = Some(self.horizon.map_or(at, |h| h.max(at)));
    }

    /// The first observation.
    pub fn start(&self) -> Option<Timestamp> {
        self.start
    }

    /// The last observation or [`finish`](Self::finish) time.
    pub fn horizon(&self) -> Option<Timestamp> {
        self.horizon
    }

    /// What `source` served for `question`.
    pub fn served(&self, source: SourceId, question: &Question) -> &[Served] {
        self.served
            .get(&(source, question.clone()))
            .map_or(&[], Vec::as_slice)
    }

    /// Every (source, question) with what it served.
    pub fn entries(&self) -> impl Iterator<Item = (SourceId, &Question, &[Served])> + '_ {
        self.served.iter().map(|((s, q), v)| (*s, q, v.as_slice()))
    }

    /// Every question observed anywhere.
    pub fn questions(&self) -> BTreeSet<Question> {
        self.served.keys().map(|(_, q)| q.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testbed::name;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn observations_coalesce_into_stretches() {
        let mut tl = Timeline::new([Name::root(), name("test."), name("example.test.")]).unwrap();
        let a = tl.add_source(Source::operator("A", [name("ns1.a.example.")]));
        let q = Question::new(&name("www.example.test."), RecordType::A);
        tl.observe(a, q.clone(), Response::Unavailable, t(0))
            .unwrap();
        tl.observe(a, q.clone(), Response::Unavailable, t(10))
            .unwrap();
        let soa = crate::view::Rrset::new(
            [hickory_proto::rr::Record::from_rdata(
                name("www.example.test."),
                60,
                hickory_proto::rr::RData::A(hickory_proto::rr::rdata::A::new(192, 0, 2, 1)),
            )],
            [],
        )
        .unwrap();
        tl.observe(a, q.clone(), Response::positive(soa.clone()), t(20))
            .unwrap();
        // Changed and changed back at the same instant: one stretch.
        tl.observe(a, q.clone(), Response::Unavailable, t(30))
            .unwrap();
        tl.observe(a, q.clone(), Response::positive(soa), t(30))
            .unwrap();
        tl.finish(t(100));
        let served = tl.served(a, &q);
        assert_eq!(served.len(), 2, "{served:?}");
        assert_eq!(served[0].until, Some(t(20)));
        assert_eq!((served[1].first_seen, served[1].last_seen), (t(20), t(30)));
        assert_eq!(served[1].until, None);
        assert_eq!(tl.version_count(), 2);
        assert_eq!(tl.horizon(), Some(t(100)));
        assert!(matches!(
            tl.observe(a, q, Response::Unavailable, t(5)),
            Err(TimelineError::TimeWentBack(_))
        ));
        assert!(Timeline::new([name("test."), Name::root()]).is_err());
    }
}
