//! The live check (design.md §3, layer 3): a real validating resolver, hickory-resolver, asks
//! the world's servers about each domain's checked names at the end of every step, and its
//! verdict must equal the pure validator's verdict on the same answers.
//!
//! The cache model (layer 2) judges everything resolvers *could* hold; the live check makes
//! sure the harness never calls something secure that a real validator would not (and the
//! other way round). Both sides see the same bytes: the [`Router`] puts the registry's root
//! and TLD server and each domain's current operator (from the parent's NS RRset) behind one
//! loopback address; hickory-resolver ([`hickory`]) validates through it with the scenario's
//! root key as its only trust anchor, and the pure validator judges the view
//! [`collect_chain`] gathers through the same router, at the wall-clock instant hickory checks
//! signatures against ([`World::wall_now`], which every signer's `also_valid_at` covers).
//!
//! Any disagreement is a failed `DNSSEC-LIVE-MISMATCH` with both verdicts, the routes and
//! the chain as evidence, never hidden, unless it is listed in the checked-in
//! `harness/harness/known-divergences.toml` ([`known`]) with its cause: then it is reported as a known
//! divergence (an informational result), still with the cause.
//!
//! # Layout
//!
//! - [`router`]: the forwarding router (UDP and TCP on one port).
//! - [`hickory`]: hickory-resolver's configuration and how its verdict is read.
//! - [`known`]: the known-divergences list.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use dnssec::presentation::rdata_text;
use hickory_proto::dnssec::rdata::DNSKEY;
use hickory_proto::rr::{Name, RecordType};
use jiff::Timestamp;

use crate::error::{Context, HarnessError};
use crate::lookup::{Remembering, ServerTransport, Transport, collect_chain, render_chain};
use crate::records;
use crate::world::World;
use checker::{Anchor, Expected, SignatureMemo, Status, TrustAnchors, Validation, Validator};

pub mod hickory;
pub mod known;
pub mod router;

pub use hickory::{HickoryVerdict, LiveStatus};
pub use known::{Divergence, KnownDivergences};
pub use router::{Router, Routes};

/// The name hickory-resolver goes by in reports and in the known-divergences list.
pub const HICKORY: &str = "hickory-resolver";

/// How long either side waits for one answer. Loopback servers answer in microseconds; this
/// only bounds a server told to drop queries, so a scenario with a stopped operator stays fast.
const TIMEOUT: Duration = Duration::from_millis(500);

/// How long each side waits on the second look a disagreement gets before it is reported. On
/// a loaded machine (a CI runner running tests in parallel) one side can miss an answer within
/// [`TIMEOUT`] that the other got, and "no answer" against "secure" is a disagreement of the
/// machine, not of the validators. Only disagreements pay for it: when a server drops queries,
/// both sides get nothing and agree at once.
const SECOND_LOOK_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether a real validator's verdict agrees with the pure validator's. A resolver that got no
/// answer at all agrees with "indeterminate" (the items needed to decide are missing).
pub fn agrees(pure: Status, live: &LiveStatus) -> bool {
    match live {
        LiveStatus::Status(s) => *s == pure,
        LiveStatus::Failed(_) => pure == Status::Indeterminate,
    }
}

/// One question of the live check and both verdicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The question's name.
    pub qname: Name,
    /// The question's type.
    pub qtype: RecordType,
    /// hickory-resolver's verdict.
    pub live: LiveStatus,
    /// The pure validator's lenient verdict.
    pub pure: Status,
}

/// One comparison that did not agree.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// When (virtual time).
    pub at: Timestamp,
    /// The step just finished.
    pub step: String,
    /// Both verdicts, in words.
    pub message: String,
    /// Both verdicts in detail, the routes and the chain.
    pub evidence: Vec<String>,
}

/// A disagreement the known-divergences list explains, seen during the run.
#[derive(Debug, Clone)]
pub struct KnownSeen {
    /// When (virtual time).
    pub at: Timestamp,
    /// The step just finished.
    pub step: String,
    /// The question, both verdicts and the cause.
    pub message: String,
    /// hickory-resolver's detail.
    pub evidence: Vec<String>,
}

/// A checked name hickory-resolver could not resolve, or resolved to other data than the
/// registrant's.
#[derive(Debug, Clone)]
pub struct LiveProblem {
    /// When (virtual time).
    pub at: Timestamp,
    /// What had just happened.
    pub step: String,
    /// The question and what hickory said, in words.
    pub message: String,
    /// Its detail and the routes.
    pub evidence: Vec<String>,
}

/// What the live check found over a run: the recorded data its check is judged from.
#[derive(Debug, Clone, Default)]
pub struct LiveRecord {
    /// Checked names hickory-resolver could not resolve (not bogus: no answer at all).
    pub unresolved: Vec<LiveProblem>,
    /// Checked names it resolved to other data than the registrant's.
    pub wrong_content: Vec<LiveProblem>,
    /// How many (instant, question) pairs both validators judged.
    pub compared: usize,
    /// How many of them disagreed at first and agreed on a second, patient look (an answer
    /// one side missed within the first timeout).
    pub second_looks: usize,
    /// Instants at which it ran.
    pub instants: usize,
    /// The disagreements, in order.
    pub mismatches: Vec<Mismatch>,
    /// Known divergences seen, once each.
    pub known: Vec<KnownSeen>,
    /// Why it could not run, when it could not (a harness fault).
    pub faults: Vec<String>,
}

/// The live check of one run: the router, the trust anchor, and what it found so far.
#[derive(Debug)]
pub struct LiveCheck {
    router: Router,
    /// The scenario's root KSK, hickory's only trust anchor.
    keys: Vec<DNSKEY>,
    /// The same key for the pure validator.
    anchors: TrustAnchors,
    known: KnownDivergences,
    /// The comparisons of the latest check.
    last: Vec<Comparison>,
    record: LiveRecord,
    /// What each question must resolve to (the registrant's data), where the content check
    /// applies.
    expected: BTreeMap<(Name, RecordType), Expected>,
    /// How long hickory-resolver and the pure side wait for an answer on the first look
    /// ([`TIMEOUT`] both, unless a test says otherwise).
    first_look: (Duration, Duration),
    /// The pure validator's signature checks, kept across instants: most answers are signed
    /// by the same keys over the same data as at the instant before.
    memo: SignatureMemo,
}

fn fqdn(n: &str) -> String {
    if n.ends_with('.') {
        n.to_string()
    } else {
        format!("{n}.")
    }
}

impl LiveCheck {
    /// Starts the router for `world`. Routes are set at each [`check`](Self::check), from
    /// the delegations published then.
    pub async fn start(world: &World) -> Result<Self, HarnessError> {
        let router = Router::start(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("live check router")?;
        let mut anchors = TrustAnchors::new();
        anchors.add(&Name::root(), Anchor::Dnskey(world.anchor.dnskey.clone()));
        Ok(Self {
            router,
            keys: vec![world.anchor.dnskey.clone()],
            anchors,
            known: KnownDivergences::builtin(),
            last: Vec::new(),
            record: LiveRecord::default(),
            expected: Self::expectations(world),
            first_look: (TIMEOUT, TIMEOUT),
            memo: SignatureMemo::default(),
        })
    }

    /// Waits `live` for hickory-resolver's answers and `pure` for the pure side's on the first
    /// look (for tests: a first look that misses an answer on one side only, as a loaded
    /// machine can make it, must not be reported once a second look agrees).
    pub fn with_first_look_timeouts(mut self, live: Duration, pure: Duration) -> Self {
        self.first_look = (live, pure);
        self
    }

    /// Uses `known` instead of the checked-in known-divergences list (for tests).
    pub fn with_known(mut self, known: KnownDivergences) -> Self {
        self.known = known;
        self
    }

    /// Makes hickory-resolver trust these root keys instead of the scenario's (for tests:
    /// with a wrong key every secure answer turns bogus for hickory alone, a disagreement the
    /// check must report).
    pub fn with_hickory_anchors(mut self, keys: Vec<DNSKEY>) -> Self {
        self.keys = keys;
        self
    }

    /// Routes for the world as it is: root and TLD to the registry's server, each domain to
    /// the operator its parent-side NS RRset names (the first, if several answer).
    async fn routes(&self, world: &World) -> Result<(Routes, Vec<String>), HarnessError> {
        let mut dead = Vec::new();
        let s = &world.scenario;
        let parent = world.parent.local_addr();
        let tld = Name::from_ascii(fqdn(&s.world.tld)).context("the TLD")?;
        let mut zones = vec![(Name::root(), parent), (tld.clone(), parent)];
        let mut described = vec![format!(". and {tld} → {parent} (registry)")];
        for d in &s.domains {
            let (ns, _) = crate::dnsutil::delegation(parent, &d.name)
                .await
                .context("the delegation")?;
            let addrs = world.directory.addrs(&ns);
            let name = Name::from_ascii(fqdn(&d.name)).context("a domain")?;
            match addrs.first() {
                Some(a) => {
                    described.push(format!("{name} → {a} (NS {})", ns.join(" ")));
                    zones.push((name, *a));
                }
                None => {
                    described.push(format!(
                        "{name}: no known server for NS [{}]; SERVFAIL, as a resolver answers",
                        ns.join(" ")
                    ));
                    dead.push(name);
                }
            }
        }
        let mut routes = Routes::new(zones);
        routes.unreachable = dead;
        Ok((routes, described))
    }

    /// What each question of the live check must resolve to, from the scenario's records.
    fn expectations(world: &World) -> BTreeMap<(Name, RecordType), Expected> {
        let mut out = BTreeMap::new();
        let questions = Self::questions(world);
        for d in &world.scenario.domains {
            let (Ok(apex), Ok(records)) = (
                Name::from_ascii(fqdn(&d.name)),
                records::parse_all(&d.name, &d.records),
            ) else {
                continue;
            };
            for (q, t) in questions.iter().filter(|(q, _)| apex.zone_of(q)) {
                if let Some(e) = records::expected(&records, &apex, q, *t) {
                    out.insert((q.clone(), *t), e);
                }
            }
        }
        out
    }

    /// The questions of the live check: each domain's checked names, its DS at the parent and
    /// a name that does not exist (the same ones the observation timeline records).
    fn questions(world: &World) -> Vec<(Name, RecordType)> {
        let s = &world.scenario;
        let mut out = Vec::new();
        for d in &s.domains {
            let mut push = |n: &str, t: &str| {
                if let (Ok(n), Ok(t)) = (Name::from_ascii(fqdn(n)), t.parse::<RecordType>())
                    && !out.contains(&(n.clone(), t))
                {
                    out.push((n, t));
                }
            };
            for (n, t) in &d.checks {
                push(n, t);
            }
            push(&d.name, "DS");
            push(&crate::observe::negative_name(s.world.seed, &d.name), "A");
        }
        out
    }

    /// Compares hickory-resolver and the pure validator on every question, on what the
    /// servers serve now. `step` names the step just finished (for the report).
    pub async fn check(&mut self, world: &World, step: &str) {
        let at = clock::Clock::now(&world.clock);
        let (routes, described) = match self.routes(world).await {
            Ok(r) => r,
            Err(e) => {
                self.record
                    .faults
                    .push(format!("after {step}: cannot route the live check: {e}"));
                return;
            }
        };
        self.router.set_routes(routes);
        self.record.instants += 1;
        self.last.clear();
        let resolver =
            match hickory::resolver(self.router.local_addr(), &self.keys, self.first_look.0) {
                Ok(r) => r,
                Err(e) => {
                    self.record.faults.push(format!("after {step}: {e}"));
                    return;
                }
            };
        let status_of = |pure: &Option<Validation>| {
            pure.as_ref()
                .map_or(Status::Indeterminate, |v| v.lenient.status())
        };
        // The pure side asks each of the instant's questions once (hickory-resolver, too,
        // answers the shared root, TLD and zone questions from its cache after the first).
        let mut first_look = Remembering::new(ServerTransport::new(
            self.router.local_addr(),
            self.first_look.1,
        ));
        let anchors = self.anchors.clone();
        let mut validator = Validator::with_memo(&anchors, std::mem::take(&mut self.memo));
        for (qname, qtype) in Self::questions(world) {
            let mut live = hickory::ask(&resolver, &qname, qtype).await;
            let (mut pure, mut chain, mut shapes) = Self::pure(
                &mut first_look,
                &mut validator,
                &qname,
                qtype,
                world.wall_now,
            )
            .await;
            let mut pure_status = status_of(&pure);
            let mut looked_twice = false;
            if !agrees(pure_status, &live.status) {
                // A second look, both sides again with patience and a resolver with an empty
                // cache, before anything is reported: the servers serve the same until the
                // next step, so only a missed answer can change the outcome.
                match hickory::resolver(self.router.local_addr(), &self.keys, SECOND_LOOK_TIMEOUT) {
                    Ok(patient) => {
                        live = hickory::ask(&patient, &qname, qtype).await;
                        // Asked afresh: the second look is for an answer missed the first time.
                        let mut patient_pure =
                            ServerTransport::new(self.router.local_addr(), SECOND_LOOK_TIMEOUT);
                        (pure, chain, shapes) = Self::pure(
                            &mut patient_pure,
                            &mut validator,
                            &qname,
                            qtype,
                            world.wall_now,
                        )
                        .await;
                        pure_status = status_of(&pure);
                        looked_twice = true;
                        if agrees(pure_status, &live.status) {
                            self.record.second_looks += 1;
                        }
                    }
                    Err(e) => self.record.faults.push(format!("after {step}: {e}")),
                }
            }
            self.judge_resolution(&qname, qtype, &live, at, step, &described);
            self.record.compared += 1;
            self.last.push(Comparison {
                qname: qname.clone(),
                qtype,
                live: live.status.clone(),
                pure: pure_status,
            });
            if agrees(pure_status, &live.status) {
                continue;
            }
            let pure_text = pure.as_ref().map_or_else(
                || "indeterminate (no view)".to_string(),
                |v| v.lenient.to_string(),
            );
            let qtype_text = qtype.to_string();
            let reason = pure
                .as_ref()
                .and_then(|v| v.lenient.code())
                .map(|c| c.as_str());
            if let Some(d) = self.known.for_live(
                HICKORY,
                &qtype_text,
                reason.as_deref(),
                &shapes,
                pure_status.as_str(),
                live.status.as_str(),
            ) {
                let message = format!(
                    "known divergence (harness/harness/known-divergences.toml): {qname} {qtype}: \
                     {HICKORY} says {}, the harness's validator {}: {}",
                    live.status.as_str(),
                    pure_status,
                    d.cause
                );
                if !self.record.known.iter().any(|c| c.message == message) {
                    self.record.known.push(KnownSeen {
                        at,
                        step: step.to_string(),
                        message,
                        evidence: vec![format!("{HICKORY}: {}", live.detail)],
                    });
                }
                continue;
            }
            let mut evidence = vec![
                format!("{HICKORY}: {} ({})", live.status, live.detail),
                format!("harness validator (RFC 6840, lenient): {pure_text}"),
            ];
            if let Some(v) = &pure {
                evidence.push(format!(
                    "harness validator (RFC 4035 §2.2, strict): {}",
                    v.strict
                ));
            }
            evidence.push(format!(
                "validated at {} (wall clock, as hickory-resolver does)",
                world.wall_now
            ));
            if looked_twice {
                evidence.push(format!(
                    "the same on a second look, each side waiting up to {:?} for an answer",
                    SECOND_LOOK_TIMEOUT
                ));
            }
            evidence.extend(described.iter().map(|r| format!("route {r}")));
            evidence.extend(chain.lines().map(|l| format!("chain {l}")));
            self.record.mismatches.push(Mismatch {
                at,
                step: step.to_string(),
                message: format!(
                    "{qname} {qtype} after {step}: {HICKORY} says {}, the harness's validator \
                     says {pure_text}",
                    live.status
                ),
                evidence,
            });
        }
        self.memo = validator.into_memo();
    }

    /// Whether a checked name resolved (bogus aside: that is the DNSSEC comparison's) and to
    /// the registrant's data.
    fn judge_resolution(
        &mut self,
        qname: &Name,
        qtype: RecordType,
        live: &hickory::HickoryVerdict,
        at: Timestamp,
        step: &str,
        routes: &[String],
    ) {
        let Some(expected) = self.expected.get(&(qname.clone(), qtype)) else {
            return;
        };
        let mut evidence = vec![format!("{HICKORY}: {}", live.detail)];
        evidence.extend(routes.iter().map(|r| format!("route {r}")));
        match (&live.status, &live.answer) {
            (LiveStatus::Failed(why), _) => self.record.unresolved.push(LiveProblem {
                at,
                step: step.to_string(),
                message: format!(
                    "{qname} {qtype} after {step}: {HICKORY} cannot resolve it ({why})"
                ),
                evidence,
            }),
            (LiveStatus::Status(Status::Secure | Status::Insecure), Some(answer))
                if !expected.holds_for_records(answer) =>
            {
                let got = if answer.is_empty() {
                    "a denial".to_string()
                } else {
                    answer
                        .iter()
                        .map(|r| format!("{} {}", r.record_type(), rdata_text(r)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                self.record.wrong_content.push(LiveProblem {
                    at,
                    step: step.to_string(),
                    message: format!(
                        "{qname} {qtype} after {step}: {HICKORY} resolves it to {got}, but the \
                         registrant's data is {}",
                        expected.describe(qtype)
                    ),
                    evidence,
                });
            }
            _ => {}
        }
    }

    /// The pure validator's verdict on the view gathered through the router, and the chain in
    /// words (None when the view could not be gathered).
    async fn pure(
        transport: &mut dyn Transport,
        validator: &mut Validator<'_>,
        qname: &Name,
        qtype: RecordType,
        now: Timestamp,
    ) -> (Option<Validation>, String, Vec<&'static str>) {
        // hickory-resolver follows CNAMEs and DNAMEs to the answer; so does the pure side.
        match collect_chain(transport, validator.anchors(), qname, qtype).await {
            Ok(links) => {
                let v = validator.validate_chain(&links, now);
                let chain = render_chain(&links, &v);
                (Some(v), chain, known::shapes(&links))
            }
            Err(e) => (None, format!("no view: {e}"), Vec::new()),
        }
    }

    /// Ends the live check: what it found.
    pub fn finish(self) -> LiveRecord {
        self.record
    }

    /// What it found since the last call: the disagreements, known divergences and faults
    /// are handed over and forgotten, the counts stay (for tests that check step by step).
    pub fn take_record(&mut self) -> LiveRecord {
        LiveRecord {
            compared: self.record.compared,
            second_looks: self.record.second_looks,
            instants: self.record.instants,
            mismatches: std::mem::take(&mut self.record.mismatches),
            unresolved: std::mem::take(&mut self.record.unresolved),
            wrong_content: std::mem::take(&mut self.record.wrong_content),
            known: std::mem::take(&mut self.record.known),
            faults: std::mem::take(&mut self.record.faults),
        }
    }

    /// The comparisons of the latest [`check`](Self::check).
    pub fn last(&self) -> &[Comparison] {
        &self.last
    }

    /// Questions compared so far.
    pub fn compared(&self) -> usize {
        self.record.compared
    }

    /// Where the router listens (for tests and debugging with `harness lookup`).
    pub fn router_addr(&self) -> SocketAddr {
        self.router.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_to_resolve_agrees_only_with_indeterminate() {
        let failed = LiveStatus::Failed("timeout".into());
        assert!(agrees(Status::Indeterminate, &failed));
        assert!(!agrees(Status::Bogus, &failed));
        assert!(agrees(Status::Bogus, &LiveStatus::Status(Status::Bogus)));
        assert!(!agrees(
            Status::Secure,
            &LiveStatus::Status(Status::Insecure)
        ));
    }
}
