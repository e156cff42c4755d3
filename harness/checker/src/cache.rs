//! The TTL-aware model of resolver caches: which combinations of cached items a validating
//! resolver could hold at each instant of a [`Timeline`], and what it would conclude from each.
//!
//! # The model
//!
//! A resolver may hold, at time `t`, any version a source served at some instant `s ≤ t` with
//! `t < s + TTL`, provided it could reach that source at `s`:
//!
//! - the root and TLD sources ([`Reach::Always`]) are always reachable;
//! - an operator ([`Reach::ViaNs`]) is reachable while the resolver can hold an NS RRset for
//!   the domain listing one of its hosts: the parent's delegation NS, or the child-side NS an
//!   operator serves, fetched while that operator was reachable through the parent's NS. A
//!   child-side NS does not renew itself: when it expires the resolver asks the parent again
//!   (RFC 1034 §5.3.3; the "ghost domain" fixes), so it extends an operator's reach by one TTL.
//!
//! The TTL is the one served, capped by the RRSIG original TTL (RFC 4035 §5.3.3); negative
//! answers use the SOA MINIMUM (RFC 2308). By default a held item is judged at `t` even if its
//! signature expired after it was fetched, as a resolver that does not cap TTLs at signature
//! expiry would (the operator's duty, RFC 6781 §4.4.2, is to keep signatures valid for as long
//! as the data can be cached); [`CacheOptions::cap_ttl_at_signature_expiry`] models validators
//! that do cap (RFC 4035 §5.3.3).
//!
//! The items are independent: a resolver may hold the DS from one fetch, the DNSKEY RRset from
//! another and the answer from a third, so every combination is possible.
//!
//! # The enumeration
//!
//! The set of holdable versions changes only at a finite set of instants (a version starts or
//! stops being holdable; a signature becomes valid or expires). At each instant the model walks
//! the chain from the trust anchor down: every DNSKEY version of the anchor zone, then for each
//! zone below every DS version × every DNSKEY version, then every answer version per checked
//! question. A prefix that is already decided (Bogus, Insecure, Indeterminate) is not extended:
//! every combination below it shares its verdict. Identical versions from different sources or
//! times are one item. Signature checks are remembered across combinations and instants.
//!
//! The result is, per question and per [`Mode`], a list of [`Band`]s (Secure, Insecure, Bogus,
//! Indeterminate), each non-secure band with one [`Witness`] per reason: which items, from
//! which source, served when.
//!
//! **Architecture Invariant:** the model reads only the timeline; it never queries a server.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use dnssec::presentation::rdata_text;
use hickory_proto::rr::{Name, RData, RecordType};
use jiff::Timestamp;

use super::holding::{FOREVER, Hold, OperatorReach, Secs, operator_reach, secs, ts};
pub use super::holding::{Provenance, after, offset};
use super::reach::{ReachBand, reachability};
use super::timeline::{Question, Reach, Served, SourceId, Timeline, VersionId};
use super::validate::{
    Mode, Reason, ReasonCode, Status, Step, TrustAnchors, Validation, Validator,
};
use super::view::{Response, ZoneView};

/// Knobs of the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheOptions {
    /// Start of the analysis (default: the first observation).
    pub from: Option<Timestamp>,
    /// End of the analysis (default: the horizon plus the longest TTL, when every cache has
    /// settled on the final state).
    pub until: Option<Timestamp>,
    /// The questions to judge (default: every question observed at an operator within the
    /// domain, except the apex DNSKEY and DS, which are part of every chain).
    pub questions: Option<Vec<Question>>,
    /// Cap how long an item is held at its latest RRSIG expiration (RFC 4035 §5.3.3).
    pub cap_ttl_at_signature_expiry: bool,
    /// The content every answer to a question must carry (the registrant's data), for the
    /// content check; questions without an entry are not checked for content.
    pub expected: BTreeMap<Question, Expected>,
}

/// What every answer to a question must say, TTLs aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// This RRset (in any order): the registrant's records of that name and type, or the
    /// CNAME at the name.
    Records(Vec<RData>),
    /// A proper denial (NXDOMAIN or NODATA): the registrant has nothing there.
    Denied,
}

impl Expected {
    /// Whether `response` carries what is expected. No answer at all is not a content
    /// question (reachability judges that).
    pub fn holds_for(&self, response: &Response) -> bool {
        match (self, response) {
            (_, Response::Unavailable) => true,
            (Self::Denied, Response::NoData(_) | Response::NxDomain(_)) => true,
            (
                Self::Records(_),
                Response::Positive(_) | Response::Wildcard(..) | Response::Dname(..),
            ) => {
                // The data or CNAME at the name, a wildcard's expansion, or the CNAME a DNAME
                // makes of the name.
                response.answer_rrset().is_some_and(|set| {
                    self.holds_for_records(&set.rdata().cloned().collect::<Vec<_>>())
                })
            }
            _ => false,
        }
    }

    /// Whether an answer's records carry what is expected: `records` empty means a denial.
    pub fn holds_for_records(&self, records: &[RData]) -> bool {
        match self {
            Self::Denied => records.is_empty(),
            Self::Records(want) => {
                // Compared as faithful text: TXT ["ab"] is not TXT ["a", "b"], though
                // hickory's own text of both is `ab`.
                let mut want: Vec<String> = want.iter().map(rdata_text).collect();
                let mut got: Vec<String> = records.iter().map(rdata_text).collect();
                want.sort();
                got.sort();
                want == got
            }
        }
    }

    /// It in words, e.g. `A 192.0.2.1` or `a denial`.
    pub fn describe(&self, rtype: RecordType) -> String {
        match self {
            Self::Denied => "a denial (NXDOMAIN or NODATA)".to_string(),
            Self::Records(r) => {
                let mut items: Vec<String> = r
                    .iter()
                    .map(|d| format!("{} {}", d.record_type(), rdata_text(d)))
                    .collect();
                items.sort();
                if items.is_empty() {
                    format!("{rtype} (none)")
                } else {
                    items.join(", ")
                }
            }
        }
    }
}

/// A stretch of time during which some resolver could get an answer that is not the
/// registrant's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentBand {
    /// The checked name and type the wrong answers were for.
    pub question: Question,
    /// Start (inclusive).
    pub from: Timestamp,
    /// End (exclusive).
    pub until: Timestamp,
    /// What every answer must carry, in words.
    pub expected: String,
    /// The first wrong answer that could be held, with where it came from.
    pub witness: Witness,
    /// How many distinct wrong answers were holdable in the band.
    pub versions: usize,
}

/// The part an item plays in a combination.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The DNSKEY RRset of a zone.
    Dnskey(Name),
    /// The DS RRset (or proof of none) for a zone, from its parent.
    Ds(Name),
    /// The answer to a checked question.
    Answer(Question),
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dnskey(z) => write!(f, "DNSKEY of {z}"),
            Self::Ds(z) => write!(f, "DS of {z}"),
            Self::Answer(q) => write!(f, "answer to {q}"),
        }
    }
}

/// One item of a witness combination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessItem {
    /// What the item is for.
    pub role: Role,
    /// Which version of the source's RRset was held, to find it in the timeline.
    pub version: VersionId,
    /// The version in words.
    pub summary: String,
    /// Every way a resolver could hold it at the witness's time.
    pub provenance: Vec<Provenance>,
}

/// A combination of items a resolver could hold at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// The instant at which a resolver could hold all these items at once.
    pub at: Timestamp,
    /// The items, top of the chain first, the answer last.
    pub items: Vec<WitnessItem>,
}

impl Witness {
    /// The item playing `role`, if the combination has one.
    pub fn item(&self, role: &Role) -> Option<&WitnessItem> {
        self.items.iter().find(|i| i.role == *role)
    }

    /// A description with times relative to `origin`, one item per line.
    pub fn describe(&self, origin: Timestamp) -> String {
        let mut out = format!("resolver state at {}:", offset(origin, self.at));
        for item in &self.items {
            let sources: Vec<String> = item
                .provenance
                .iter()
                .map(|p| {
                    format!(
                        "{} (served {}–{}, fetched {}–{})",
                        p.source_name,
                        offset(origin, p.served.first_seen),
                        p.served
                            .until
                            .map_or_else(|| "end".to_string(), |u| offset(origin, u)),
                        offset(origin, p.fetched_from),
                        offset(origin, p.fetched_until),
                    )
                })
                .collect();
            out.push_str(&format!(
                "\n  {}: {} from {}",
                item.role,
                item.summary,
                sources.join(" or ")
            ));
        }
        out
    }
}

/// A reason found in a band, with one witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The status of the combinations with this reason (Secure for a warning).
    pub status: Status,
    /// The reason (of the verdict, or of the warning).
    pub reason: Reason,
    /// Whether it is a warning on a Secure verdict rather than the verdict's reason.
    pub warning: bool,
    /// The first combination found with it.
    pub witness: Witness,
    /// How many combinations, over the band's instants, had it.
    pub occurrences: u64,
}

/// What a finding means for the domain, in the checker's terms: a harness names its checks
/// after these, the checker knows nothing of those names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Breakage {
    /// Some resolver could find the domain bogus.
    Bogus,
    /// Only validators that insist on RFC 4035 §2.2 (every algorithm signs every RRset) find it
    /// bogus; lenient ones (RFC 6840 §5.11) do not.
    AlgorithmIncomplete,
    /// The domain is provably insecure (a downgrade, not an outage).
    Insecure,
    /// A DS matches no published key (a warning: normal during a double-DS rollover).
    LameDs,
    /// The items needed to validate are missing: a resolver cannot get them, so it cannot
    /// answer (a state with nothing to validate is not secure).
    Unresolvable,
}

impl Finding {
    /// What this finding means in `mode`, if it is a problem at all.
    pub fn breakage(&self, mode: Mode) -> Option<Breakage> {
        if self.warning {
            return (self.reason.code == ReasonCode::LameDs).then_some(Breakage::LameDs);
        }
        match (self.status, mode, self.reason.code) {
            (Status::Bogus, Mode::Strict, ReasonCode::AlgorithmWithoutSignature) => {
                Some(Breakage::AlgorithmIncomplete)
            }
            (Status::Bogus, _, _) => Some(Breakage::Bogus),
            // RFC 5155 §9.2: a name error under an Opt-Out span is not proven (an unsigned
            // delegation may exist there), so it is insecure; but that is the operator's choice
            // of denial, not the domain losing its chain of trust.
            (Status::Insecure, _, ReasonCode::OptOut) => None,
            (Status::Insecure, _, _) => Some(Breakage::Insecure),
            (Status::Indeterminate, _, _) => Some(Breakage::Unresolvable),
            (Status::Secure, _, _) => None,
        }
    }
}

/// A stretch of time with one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    /// Start (inclusive).
    pub from: Timestamp,
    /// End (exclusive).
    pub until: Timestamp,
    /// The worst status any combination has in the band.
    pub status: Status,
    /// The reasons met, first occurrence each (warnings included).
    pub findings: Vec<Finding>,
}

impl Band {
    /// The finding with this code, if any.
    pub fn finding(&self, code: ReasonCode) -> Option<&Finding> {
        self.findings.iter().find(|f| f.reason.code == code)
    }
}

/// The bands of one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionReport {
    /// The checked name and type these bands are for.
    pub question: Question,
    /// Bands under RFC 6840 (lenient).
    pub lenient: Vec<Band>,
    /// Bands under RFC 4035 §2.2 (strict).
    pub strict: Vec<Band>,
}

impl QuestionReport {
    /// The bands in `mode`.
    pub fn bands(&self, mode: Mode) -> &[Band] {
        match mode {
            Mode::Lenient => &self.lenient,
            Mode::Strict => &self.strict,
        }
    }
}

/// Counters of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Instants at which the holdable set (or a signature's validity) changes.
    pub instants: usize,
    /// Distinct versions in the timeline.
    pub versions: usize,
    /// Combinations covered (the full product of holdable versions, summed over instants and
    /// questions).
    pub combinations: u64,
    /// Validator steps performed (a decided prefix covers many combinations in one step).
    pub evaluated: u64,
    /// Signature verifications performed.
    pub verifications: u64,
    /// Signature checks answered from memory.
    pub memo_hits: u64,
}

/// The model's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Start of the analysis.
    pub from: Timestamp,
    /// End of the analysis.
    pub until: Timestamp,
    /// The bands of each checked question, in the order the questions were given.
    pub questions: Vec<QuestionReport>,
    /// The worst over all questions at each instant, lenient.
    pub lenient: Vec<Band>,
    /// The same, strict.
    pub strict: Vec<Band>,
    /// Whether every resolver state could reach an answering server (worst over NS sets).
    pub reachability: Vec<ReachBand>,
    /// Answers that did not carry the registrant's data, per question.
    pub content: Vec<ContentBand>,
    /// How much work the model did (combinations, validator steps), summed into run statistics and
    /// benchmarks.
    pub stats: CacheStats,
}

impl Report {
    /// The overall bands in `mode`.
    pub fn bands(&self, mode: Mode) -> &[Band] {
        match mode {
            Mode::Lenient => &self.lenient,
            Mode::Strict => &self.strict,
        }
    }

    /// The bands with `status` in `mode`.
    #[cfg(test)]
    pub(crate) fn with_status(&self, mode: Mode, status: Status) -> Vec<&Band> {
        self.bands(mode)
            .iter()
            .filter(|b| b.status == status)
            .collect()
    }

    /// The worst status over the whole analysis in `mode`.
    pub fn worst(&self, mode: Mode) -> Status {
        self.bands(mode)
            .iter()
            .map(|b| b.status)
            .max()
            .unwrap_or(Status::Indeterminate)
    }

    /// The report for one question.
    pub fn question(&self, q: &Question) -> Option<&QuestionReport> {
        self.questions.iter().find(|r| r.question == *q)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for mode in Mode::BOTH {
            writeln!(f, "{mode}:")?;
            for band in self.bands(mode) {
                writeln!(
                    f,
                    "  [{}, {}) {}",
                    offset(self.from, band.from),
                    offset(self.from, band.until),
                    band.status
                )?;
                for finding in &band.findings {
                    writeln!(
                        f,
                        "    {}{} ({} combinations)",
                        if finding.warning { "warning: " } else { "" },
                        finding.reason,
                        finding.occurrences
                    )?;
                    for line in finding.witness.describe(self.from).lines() {
                        writeln!(f, "      {line}")?;
                    }
                }
            }
        }
        write!(
            f,
            "{} instants, {} versions, {} combinations covered in {} validator steps",
            self.stats.instants, self.stats.versions, self.stats.combinations, self.stats.evaluated
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The model

#[derive(Debug)]
struct RoleData {
    role: Role,
    versions: BTreeMap<VersionId, Vec<Hold>>,
}

impl RoleData {
    fn held_at(&self, t: Secs) -> Vec<VersionId> {
        self.versions
            .iter()
            .filter(|(_, holds)| holds.iter().any(|h| h.hold.0 <= t && t < h.hold.1))
            .map(|(v, _)| *v)
            .collect()
    }
}

/// A chain prefix: the step reached and the items that led there.
#[derive(Debug, Clone)]
struct Prefix {
    step: Step,
    items: Vec<(usize, VersionId)>,
}

/// Per (question or overall, mode): the band being built and the finished ones.
#[derive(Debug, Default)]
struct BandBuilder {
    bands: Vec<Band>,
}

impl BandBuilder {
    /// Adds one instant's result; `witness` builds the witness of a finding the band keeps
    /// (the first of its kind), and only then.
    fn push(
        &mut self,
        from: Secs,
        until: Secs,
        status: Status,
        findings: Vec<Pending>,
        witness: &impl Fn(Secs, &[(usize, VersionId)]) -> Witness,
    ) {
        if let Some(last) = self.bands.last_mut()
            && last.status == status
            && secs(last.until) == from
        {
            last.until = ts(until);
            for f in findings {
                match last
                    .findings
                    .iter_mut()
                    .find(|x| f.same_kind(x.warning, &x.reason))
                {
                    Some(existing) => existing.occurrences += f.occurrences,
                    None => last.findings.push(f.keep(witness)),
                }
            }
            return;
        }
        self.bands.push(Band {
            from: ts(from),
            until: ts(until),
            status,
            findings: findings.into_iter().map(|f| f.keep(witness)).collect(),
        });
    }
}

/// A finding of one instant before anything keeps it. Its witness, which summarises every
/// version it names, is built only when a band keeps the finding as the first of its kind:
/// later ones of the same kind are only counted, and most instants' findings are.
#[derive(Debug, Clone)]
struct Pending {
    status: Status,
    reason: Reason,
    warning: bool,
    at: Secs,
    items: Vec<(usize, VersionId)>,
    occurrences: u64,
}

impl Pending {
    fn same_kind(&self, warning: bool, reason: &Reason) -> bool {
        self.warning == warning && self.reason.code == reason.code
    }

    fn keep(self, witness: &impl Fn(Secs, &[(usize, VersionId)]) -> Witness) -> Finding {
        Finding {
            status: self.status,
            witness: witness(self.at, &self.items),
            reason: self.reason,
            warning: self.warning,
            occurrences: self.occurrences,
        }
    }
}

fn merge_pending(list: &mut Vec<Pending>, f: Pending) {
    match list.iter_mut().find(|x| f.same_kind(x.warning, &x.reason)) {
        Some(existing) => existing.occurrences += f.occurrences,
        None => list.push(f),
    }
}

/// What one instant concluded for one (question, mode).
#[derive(Debug)]
struct InstantResult {
    status: Status,
    findings: Vec<Pending>,
}

impl InstantResult {
    fn new() -> Self {
        Self {
            status: Status::Secure,
            findings: Vec::new(),
        }
    }
}

struct Model<'t> {
    timeline: &'t Timeline,
    /// How resolvers reach the operators, and the NS RRsets they could hold.
    operators: OperatorReach,
    roles: Vec<RoleData>,
    dnskey_role: Vec<usize>,
    ds_role: Vec<Option<usize>>,
    answer_role: Vec<usize>,
    questions: Vec<Question>,
}

/// Runs the cache model over `timeline`. See the module documentation.
pub fn check(timeline: &Timeline, anchors: &TrustAnchors, options: &CacheOptions) -> Report {
    let model = Model::build(timeline, options);
    model.run(anchors, options)
}

/// The instant after which nothing in the response validates any more (the earliest, over its
/// RRsets, of each RRset's latest RRSIG expiration, plus one second).
fn expiry_cap(response: &Response) -> Option<Secs> {
    response
        .rrsets()
        .into_iter()
        .filter_map(|set| {
            set.rrsigs()
                .iter()
                .map(|s| Secs::from(s.input().sig_expiration.get()) + 1)
                .max()
        })
        .min()
}

impl<'t> Model<'t> {
    fn build(timeline: &'t Timeline, options: &CacheOptions) -> Self {
        let path = timeline.path();
        let domain = timeline.domain().clone();
        let last = path.len() - 1;
        let always = |s: SourceId| {
            timeline
                .source(s)
                .is_some_and(|src| src.reach == Reach::Always)
        };
        let end_of = |s: &Served| s.until.map_or(FOREVER, secs);

        // Reach of the operators: parent NS, then child-side NS fetched through it.
        let operators = operator_reach(timeline);
        let reach = &operators.reach;

        // Roles.
        let mut roles: Vec<RoleData> = Vec::new();
        let mut index: BTreeMap<(Question, bool), usize> = BTreeMap::new();
        let mut add_role = |role: Role, q: Question, upper: bool| {
            let i = roles.len();
            roles.push(RoleData {
                role,
                versions: BTreeMap::new(),
            });
            index.insert((q, upper), i);
            i
        };
        let mut dnskey_role = Vec::new();
        let mut ds_role = Vec::new();
        for (i, apex) in path.iter().enumerate() {
            dnskey_role.push(add_role(
                Role::Dnskey(apex.clone()),
                Question::new(apex, RecordType::DNSKEY),
                i < last,
            ));
            ds_role.push((i > 0).then(|| {
                add_role(
                    Role::Ds(apex.clone()),
                    Question::new(apex, RecordType::DS),
                    true,
                )
            }));
        }
        let questions: Vec<Question> = options.questions.clone().unwrap_or_else(|| {
            timeline
                .entries()
                .filter(|(src, q, _)| {
                    !always(*src)
                        && domain.zone_of(&q.name)
                        && !(q.name == domain
                            && matches!(q.rtype, RecordType::DNSKEY | RecordType::DS))
                })
                .map(|(_, q, _)| q.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        });
        let answer_role: Vec<usize> = questions
            .iter()
            .map(|q| add_role(Role::Answer(q.clone()), q.clone(), false))
            .collect();

        // Holds.
        for (src, q, served) in timeline.entries() {
            let upper = always(src);
            let Some(&r) = index.get(&(q.clone(), upper)) else {
                continue;
            };
            let source_reach = if upper { None } else { reach.get(&src) };
            if !upper && source_reach.is_none() {
                continue;
            }
            for s in served {
                let response = timeline.version(s.version);
                let Some(ttl) = response.cache_ttl() else {
                    continue;
                };
                let (first, end) = (secs(s.first_seen), end_of(s));
                let fetches = match source_reach {
                    None => vec![(first, end)],
                    Some(r) => r.intersect(first, end),
                };
                let cap = if options.cap_ttl_at_signature_expiry {
                    expiry_cap(response)
                } else {
                    None
                };
                for (a, b) in fetches {
                    let mut hold_end = b.saturating_add(Secs::from(ttl));
                    if let Some(cap) = cap {
                        hold_end = hold_end.min(cap).max(b);
                    }
                    roles[r].versions.entry(s.version).or_default().push(Hold {
                        source: src,
                        served: *s,
                        fetch: (a, b),
                        hold: (a, hold_end),
                    });
                }
            }
        }
        Self {
            timeline,
            operators,
            roles,
            dnskey_role,
            ds_role,
            answer_role,
            questions,
        }
    }

    /// Every instant in `[from, until)` where something changes.
    fn instants(&self, from: Secs, until: Secs) -> Vec<Secs> {
        let mut set = BTreeSet::new();
        set.insert(from);
        for role in &self.roles {
            for (v, holds) in &role.versions {
                for h in holds {
                    set.insert(h.hold.0);
                    set.insert(h.hold.1);
                }
                for (inception, expiration) in self.timeline.version(*v).signature_times() {
                    set.insert(Secs::from(inception));
                    set.insert(Secs::from(expiration) + 1);
                }
            }
        }
        set.into_iter()
            .filter(|t| *t >= from && *t < until)
            .collect()
    }

    fn default_until(&self) -> Secs {
        let horizon = self.timeline.horizon().map_or(0, secs);
        let longest = self
            .roles
            .iter()
            .flat_map(|r| r.versions.keys())
            .filter_map(|v| self.timeline.version(*v).cache_ttl())
            .max()
            .unwrap_or(0);
        horizon + Secs::from(longest)
    }

    fn witness(&self, at: Secs, items: &[(usize, VersionId)]) -> Witness {
        let items = items
            .iter()
            .map(|&(r, v)| {
                let provenance = self.roles[r]
                    .versions
                    .get(&v)
                    .into_iter()
                    .flatten()
                    .filter(|h| h.hold.0 <= at && at < h.hold.1)
                    .map(|h| Provenance {
                        source: h.source,
                        source_name: self
                            .timeline
                            .source(h.source)
                            .map_or_else(String::new, |s| s.name.clone()),
                        served: h.served,
                        fetched_from: ts(h.fetch.0),
                        fetched_until: ts(h.fetch.1.min(at)),
                        held_until: ts(h.hold.1),
                    })
                    .collect();
                WitnessItem {
                    role: self.roles[r].role.clone(),
                    version: v,
                    summary: self.timeline.summary(v).to_string(),
                    provenance,
                }
            })
            .collect();
        Witness { at: ts(at), items }
    }

    /// Walks the chain at `t`: the prefixes reaching the domain's zone (or decided above it).
    fn chain(
        &self,
        validator: &mut Validator<'_>,
        anchors: &TrustAnchors,
        t: Secs,
        held: &[Vec<VersionId>],
        stats: &mut CacheStats,
    ) -> Vec<Prefix> {
        let path = self.timeline.path();
        let now = ts(t);
        let Some(start) = path.iter().rposition(|z| anchors.get(z).is_some()) else {
            let missing = ZoneView {
                apex: path[0].clone(),
                ds: Response::Unavailable,
                dnskey: Response::Unavailable,
            };
            return vec![Prefix {
                step: validator.anchor(&missing, now),
                items: Vec::new(),
            }];
        };
        let r = self.dnskey_role[start];
        let mut prefixes: Vec<Prefix> = Vec::new();
        let versions: Vec<Option<VersionId>> = if held[r].is_empty() {
            vec![None]
        } else {
            held[r].iter().copied().map(Some).collect()
        };
        for v in versions {
            let zone = ZoneView {
                apex: path[start].clone(),
                ds: Response::Unavailable,
                dnskey: v.map_or(Response::Unavailable, |v| self.timeline.version(v).clone()),
            };
            stats.evaluated += 1;
            prefixes.push(Prefix {
                step: validator.anchor(&zone, now),
                items: v.map(|v| (r, v)).into_iter().collect(),
            });
        }
        for (i, apex) in path.iter().enumerate().skip(start + 1) {
            let ds_r = self.ds_role[i].expect("invariant: zones below the top have a DS role");
            let dk_r = self.dnskey_role[i];
            let mut next = Vec::new();
            for prefix in prefixes {
                let Step::Secure(parent) = &prefix.step else {
                    next.push(prefix);
                    continue;
                };
                let ds_versions: Vec<Option<VersionId>> = if held[ds_r].is_empty() {
                    vec![None]
                } else {
                    held[ds_r].iter().copied().map(Some).collect()
                };
                for dv in ds_versions {
                    let ds = dv.map_or(Response::Unavailable, |v| self.timeline.version(v).clone());
                    let needs_keys = matches!(ds, Response::Positive(_));
                    let dk_versions: Vec<Option<VersionId>> =
                        if !needs_keys || held[dk_r].is_empty() {
                            vec![None]
                        } else {
                            held[dk_r].iter().copied().map(Some).collect()
                        };
                    for kv in dk_versions {
                        let zone = ZoneView {
                            apex: apex.clone(),
                            ds: ds.clone(),
                            dnskey: kv.map_or(Response::Unavailable, |v| {
                                self.timeline.version(v).clone()
                            }),
                        };
                        stats.evaluated += 1;
                        let mut items = prefix.items.clone();
                        items.extend(dv.map(|v| (ds_r, v)));
                        items.extend(kv.map(|v| (dk_r, v)));
                        next.push(Prefix {
                            step: validator.descend(parent, &zone, now),
                            items,
                        });
                    }
                }
            }
            prefixes = next;
        }
        prefixes
    }

    fn run(&self, anchors: &TrustAnchors, options: &CacheOptions) -> Report {
        let from = options.from.or(self.timeline.start()).map_or(0, secs);
        let until = options.until.map_or_else(|| self.default_until(), secs);
        let instants = self.instants(from, until);
        let mut validator = Validator::new(anchors);
        let mut stats = CacheStats {
            instants: instants.len(),
            versions: self.timeline.version_count(),
            ..CacheStats::default()
        };
        let mut per_question: Vec<[BandBuilder; 2]> = self
            .questions
            .iter()
            .map(|_| [BandBuilder::default(), BandBuilder::default()])
            .collect();
        let mut overall = [BandBuilder::default(), BandBuilder::default()];

        let path = self.timeline.path();
        let start = path
            .iter()
            .rposition(|z| anchors.get(z).is_some())
            .unwrap_or(0);
        let witness = |at: Secs, items: &[(usize, VersionId)]| self.witness(at, items);
        let chain_roles: Vec<usize> = (start..path.len())
            .flat_map(|i| {
                std::iter::once(self.dnskey_role[i]).chain(self.ds_role[i].filter(|_| i > start))
            })
            .collect();
        for (k, &t) in instants.iter().enumerate() {
            let next = instants.get(k + 1).copied().unwrap_or(until);
            let held: Vec<Vec<VersionId>> = self.roles.iter().map(|r| r.held_at(t)).collect();
            let width = |r: usize| held[r].len().max(1) as u64;
            let prefixes = self.chain(&mut validator, anchors, t, &held, &mut stats);
            let mut overall_results = [InstantResult::new(), InstantResult::new()];
            for (qi, q) in self.questions.iter().enumerate() {
                let ar = self.answer_role[qi];
                let mut results = [InstantResult::new(), InstantResult::new()];
                for prefix in &prefixes {
                    // Roles this prefix did not choose: each choice shares its verdict.
                    let chosen: BTreeSet<usize> = prefix.items.iter().map(|(r, _)| *r).collect();
                    let unchosen: u64 = chain_roles
                        .iter()
                        .filter(|r| !chosen.contains(r))
                        .map(|&r| width(r))
                        .product();
                    match &prefix.step {
                        Step::Done(v) => {
                            stats.combinations += unchosen * width(ar);
                            self.record(&mut results, v, t, &prefix.items, unchosen * width(ar));
                        }
                        Step::Secure(zone) => {
                            let answers: Vec<Option<VersionId>> = if held[ar].is_empty() {
                                vec![None]
                            } else {
                                held[ar].iter().copied().map(Some).collect()
                            };
                            for av in answers {
                                let answer = av.map_or(Response::Unavailable, |v| {
                                    self.timeline.version(v).clone()
                                });
                                stats.evaluated += 1;
                                stats.combinations += unchosen;
                                let v = validator.answer(zone, &q.name, q.rtype, &answer, ts(t));
                                let mut items = prefix.items.clone();
                                items.extend(av.map(|v| (ar, v)));
                                self.record(&mut results, &v, t, &items, unchosen);
                            }
                        }
                    }
                }
                for (m, result) in results.into_iter().enumerate() {
                    let o = &mut overall_results[m];
                    o.status = o.status.max(result.status);
                    for f in &result.findings {
                        merge_pending(&mut o.findings, f.clone());
                    }
                    per_question[qi][m].push(t, next, result.status, result.findings, &witness);
                }
            }
            for (m, result) in overall_results.into_iter().enumerate() {
                overall[m].push(t, next, result.status, result.findings, &witness);
            }
        }
        let vstats = validator.stats();
        stats.verifications = vstats.verifications;
        stats.memo_hits = vstats.memo_hits;
        let [lenient, strict] = overall;
        Report {
            from: ts(from),
            until: ts(until),
            questions: self
                .questions
                .iter()
                .zip(per_question)
                .map(|(q, [l, s])| QuestionReport {
                    question: q.clone(),
                    lenient: l.bands,
                    strict: s.bands,
                })
                .collect(),
            lenient: lenient.bands,
            strict: strict.bands,
            reachability: reachability(self.timeline, &self.operators, from, until),
            content: self.content(options, from, until),
            stats,
        }
    }

    /// The content check: every answer version a resolver could hold for a question with an
    /// expectation must carry it; each wrong one, over the time it was holdable, makes a band.
    fn content(&self, options: &CacheOptions, from: Secs, until: Secs) -> Vec<ContentBand> {
        let mut out = Vec::new();
        for (qi, q) in self.questions.iter().enumerate() {
            let Some(expected) = options.expected.get(q) else {
                continue;
            };
            let r = self.answer_role[qi];
            // (start, end, version) of every wrong answer's holdable stretch.
            let mut wrong: Vec<(Secs, Secs, VersionId)> = Vec::new();
            for (v, holds) in &self.roles[r].versions {
                if expected.holds_for(self.timeline.version(*v)) {
                    continue;
                }
                for h in holds {
                    let (a, b) = (h.hold.0.max(from), h.hold.1.min(until));
                    if a < b {
                        wrong.push((a, b, *v));
                    }
                }
            }
            wrong.sort();
            let mut bands: Vec<(Secs, Secs, VersionId, BTreeSet<VersionId>)> = Vec::new();
            for (a, b, v) in wrong {
                match bands.last_mut() {
                    Some(last) if a <= last.1 => {
                        last.1 = last.1.max(b);
                        last.3.insert(v);
                    }
                    _ => bands.push((a, b, v, BTreeSet::from([v]))),
                }
            }
            for (a, b, v, versions) in bands {
                out.push(ContentBand {
                    question: q.clone(),
                    from: ts(a),
                    until: ts(b),
                    expected: expected.describe(q.rtype),
                    witness: self.witness(a, &[(r, v)]),
                    versions: versions.len(),
                });
            }
        }
        out
    }

    /// Folds one combination's validation into the instant's results (both modes).
    fn record(
        &self,
        results: &mut [InstantResult; 2],
        v: &Validation,
        t: Secs,
        items: &[(usize, VersionId)],
        weight: u64,
    ) {
        for (m, mode) in Mode::BOTH.into_iter().enumerate() {
            let result = &mut results[m];
            let verdict = v.verdict(mode);
            result.status = result.status.max(verdict.status());
            let mut add = |reason: &Reason, status: Status, warning: bool| match result
                .findings
                .iter_mut()
                .find(|f| f.same_kind(warning, reason))
            {
                Some(f) => f.occurrences += weight,
                None => result.findings.push(Pending {
                    status,
                    reason: reason.clone(),
                    warning,
                    at: t,
                    items: items.to_vec(),
                    occurrences: weight,
                }),
            };
            if let Some(reason) = verdict.reason() {
                add(reason, verdict.status(), false);
            }
            for w in &v.warnings {
                add(w, Status::Secure, true);
            }
        }
    }
}

#[cfg(test)]
mod tests;
