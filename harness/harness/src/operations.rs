//! The reference DNS operator's own procedures: DNSSEC and name server changes a domain's
//! operators make without its registrar, through the registry's scanner (CDS/CDNSKEY, RFC
//! 7344 and RFC 8078; CSYNC, RFC 7477): a KSK rollover, going secure (bootstrap), going
//! insecure (delete), and a signer joining or leaving a multi-signer group (RFC 8901 model 2,
//! draft-ietf-dnsop-dnssec-automation §4.4–4.5), which changes DNS operator without a change
//! of registrar.
//!
//! Each is a small state machine the runner ticks like a registrar: the "multi-signer
//! controller" of the draft. It changes zones only through the operators' API and learns what
//! the parent publishes only over DNS (the DS and NS RRsets and their TTLs at the parent's
//! server), as a real controller does; every wait is a TTL it read or one its operators
//! configured. Its deliberate faults are the mistakes a careless controller makes, each caught
//! by an existing check.

use std::net::SocketAddr;

use epp::secdns::KeyData;
use hickory_proto::dnssec::rdata::DS;
use hickory_proto::rr::Name;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::dnsutil;

mod signer;

pub use signer::{Signer, SignerApi, SignerInfo};

/// What the operators change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// A double-KSK rollover (RFC 6781 §4.1.2): the next KSK joins the DNSKEY RRset; once
    /// every cache can hold it, the CDS/CDNSKEY name it alone; once the parent's DS follows
    /// and the old DS can be in no cache, the old KSK goes and the CDS/CDNSKEY are withdrawn.
    KskRollover,
    /// An unsigned zone gets signed and asks for its first DS with CDS/CDNSKEY (RFC 8078 §3);
    /// the parent bootstraps by its policy (a delay, or RFC 9615 signals).
    GoSecure,
    /// The delete records (RFC 8078 §4); once the parent's DS is gone and can be in no cache,
    /// the zone is unsigned.
    GoInsecure,
    /// A second operator joins as a signer (draft-ietf-dnsop-dnssec-automation §4.4): both
    /// publish each other's ZSK; after the DNSKEY TTL a combined CDS/CDNSKEY names both KSKs;
    /// once the parent's DS follows, the longer of the DS and DNSKEY TTLs is waited out; then
    /// both publish the combined NS set with a CSYNC, and the parent's NS follows.
    MultiSignerJoin,
    /// A signer leaves (§4.5): NS first (the others' NS set with a CSYNC; the NS and data
    /// TTLs waited out once the parent follows), then its KSK from the CDS (the DS TTL waited
    /// out), then its ZSK from the others' DNSKEY RRsets; then it stops serving the zone.
    MultiSignerLeave,
}

impl Change {
    /// Every change.
    pub const ALL: [Self; 5] = [
        Self::KskRollover,
        Self::GoSecure,
        Self::GoInsecure,
        Self::MultiSignerJoin,
        Self::MultiSignerLeave,
    ];

    /// The change of a token.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }

    /// The scenario's token (the step's `do`).
    pub fn name(self) -> &'static str {
        match self {
            Self::KskRollover => "ksk-rollover",
            Self::GoSecure => "go-secure",
            Self::GoInsecure => "go-insecure",
            Self::MultiSignerJoin => "multi-signer-join",
            Self::MultiSignerLeave => "multi-signer-leave",
        }
    }
}

/// A deliberate mistake of the reference operator (the controller).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OperationFault {
    /// Rollover: withdraws the CDS/CDNSKEY an hour after publishing them, before any scan,
    /// then retires the old KSK after two days as if the parent had followed.
    CdsWithdrawnTooEarly,
    /// Rollover: the CDNSKEY still names the old KSK while the CDS names the new one; a
    /// registry that checks agreement never acts.
    CdsCdnskeyDisagree,
    /// Join: the combined CDS/CDNSKEY leaves out the joining signer's KSK, so the parent's DS
    /// never covers it, and the combined NS set sends resolvers to servers whose DNSKEY RRset
    /// no DS vouches for.
    CdsMissingSigner,
    /// Join: publishes the combined NS set as soon as the parent's DS changed, without waiting
    /// out the old DS and the DNSKEY RRsets in caches.
    NsBeforeDsWait,
    /// Going secure with RFC 9615 signals: publishes the signal under its first name server
    /// only; a registry that needs every name server's signal (RFC 9615 §4.1) falls back to
    /// its bootstrap delay.
    SignalsOnFirstNsOnly,
}

impl OperationFault {
    /// Every fault, for errors and the mutation score.
    pub const ALL: [Self; 5] = [
        Self::CdsWithdrawnTooEarly,
        Self::CdsCdnskeyDisagree,
        Self::CdsMissingSigner,
        Self::NsBeforeDsWait,
        Self::SignalsOnFirstNsOnly,
    ];

    /// The scenario's token.
    pub fn name(self) -> &'static str {
        match self {
            Self::CdsWithdrawnTooEarly => "cds-withdrawn-too-early",
            Self::CdsCdnskeyDisagree => "cds-cdnskey-disagree",
            Self::CdsMissingSigner => "cds-missing-signer",
            Self::NsBeforeDsWait => "ns-before-ds-wait",
            Self::SignalsOnFirstNsOnly => "signals-on-first-ns-only",
        }
    }

    /// The fault of a token.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }

    /// The change it is a mistake in.
    pub fn change(self) -> Change {
        match self {
            Self::CdsWithdrawnTooEarly | Self::CdsCdnskeyDisagree => Change::KskRollover,
            Self::CdsMissingSigner | Self::NsBeforeDsWait => Change::MultiSignerJoin,
            Self::SignalsOnFirstNsOnly => Change::GoSecure,
        }
    }
}

/// What a procedure does once the parent followed and the wait after it is over.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Then {
    /// Retire `old` (a rolled-over KSK), unsign for a delete, withdraw the records; done.
    Finish { old: Option<KeyData> },
    /// Join: publish the combined NS set with CSYNC.
    JoinNs,
    /// Join: withdraw CSYNC and CDS; done.
    JoinDone,
    /// Leave: the NS set no longer names the leaving signer: now its KSK leaves the CDS.
    LeaveKeys,
    /// Leave: the DS no longer names it: its ZSK leaves the remaining DNSKEY RRsets.
    LeaveZsk,
    /// Leave: the leaving signer stops serving; done.
    LeaveDone,
}

/// Where a procedure stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Not begun.
    Start,
    /// Waiting until `until`, then doing `then`.
    Waiting { until: Timestamp, then: Step },
    /// The CDS/CDNSKEY ask for `want` (empty: delete); waiting for the parent's DS to follow.
    ForDs {
        want: Vec<KeyData>,
        then: Then,
        give_up: Timestamp,
        /// The largest DS TTL the parent served while waiting.
        seen_ttl: u32,
    },
    /// CSYNC asks for `want`; waiting for the parent's NS set to follow.
    ForNs {
        want: Vec<String>,
        then: Then,
        give_up: Timestamp,
    },
    /// Fault `cds-withdrawn-too-early`: the CDS goes at `until`.
    WithdrawnEarly { old: KeyData, until: Timestamp },
    /// Finished.
    Done,
    /// Gave up.
    Failed,
}

/// What a [`State::Waiting`] leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Rollover: the next KSK is in every cache's reach; publish its CDS.
    RolloverCds { ksk: KeyData },
    /// Join: both DNSKEY RRsets carry both ZSKs; publish the combined CDS.
    JoinCds,
    /// What follows the parent.
    After(Then),
}

/// One procedure of the reference operator for one domain.
#[derive(Debug)]
pub struct Operation {
    /// The domain.
    pub domain: String,
    /// The registrar index whose operator carries it out (for a join, the joining signer;
    /// for a leave, the leaving one).
    pub operator: usize,
    /// What it changes.
    pub change: Change,
    /// Its deliberate mistake, if any.
    pub fault: Option<OperationFault>,
    /// When it was asked for.
    pub started: Timestamp,
    /// When it finished.
    pub done_at: Option<Timestamp>,
    /// Why it gave up.
    pub failure: Option<String>,
    /// What it did, when (the transcript's `[operator A]` lines).
    pub log: Vec<(Timestamp, String)>,
    state: State,
    /// The operator that acts (joining or leaving signer; the domain's operator otherwise).
    op: Signer,
    /// The other signer of a multi-signer change: the one serving the domain already (join),
    /// or the one that stays (leave).
    other: Option<Signer>,
    /// The registrant's records, for a joining signer's copy of the zone.
    records: Vec<String>,
    parent: SocketAddr,
    /// How often it asks the parent while it waits.
    check_every: SignedDuration,
    /// The longest it waits for the parent.
    patience: SignedDuration,
    /// The time scale (1 on the virtual clock), for its own fixed durations.
    scale: i32,
    /// When it wants its next tick.
    wake: Option<Timestamp>,
}

/// How often the reference operator looks at the parent while it waits, on the virtual clock
/// (divided by the time scale on the wall clock).
pub const CHECK_EVERY: SignedDuration = SignedDuration::from_mins(15);
/// How long it waits for the parent before it gives up (longer than every profile's delay).
pub const PATIENCE: SignedDuration = SignedDuration::from_hours(14 * 24);

/// Who does a procedure and with what.
#[derive(Debug, Clone)]
pub struct Actors {
    /// The registrar index whose operator acts (see [`Operation::operator`]).
    pub operator: usize,
    /// Its operator.
    pub op: Signer,
    /// The other signer of a multi-signer change.
    pub other: Option<Signer>,
    /// The registrant's records (relative presentation lines).
    pub records: Vec<String>,
    /// The parent's server.
    pub parent: SocketAddr,
}

impl Operation {
    /// A procedure asked for at `now` on the clock's `scale`; the first tick begins it.
    pub fn new(
        domain: &str,
        change: Change,
        fault: Option<OperationFault>,
        actors: Actors,
        scale: u32,
        now: Timestamp,
    ) -> Self {
        let scale = i32::try_from(scale.max(1)).unwrap_or(i32::MAX);
        Self {
            domain: domain.to_string(),
            operator: actors.operator,
            change,
            fault,
            started: now,
            done_at: None,
            failure: None,
            log: Vec::new(),
            state: State::Start,
            op: actors.op,
            other: actors.other,
            records: actors.records,
            parent: actors.parent,
            check_every: (CHECK_EVERY / scale).max(SignedDuration::from_millis(100)),
            patience: PATIENCE / scale,
            scale,
            wake: Some(now),
        }
    }

    /// Whether it is still running.
    pub fn is_busy(&self) -> bool {
        !matches!(self.state, State::Done | State::Failed)
    }

    /// When it wants its next tick.
    pub fn wake(&self) -> Option<Timestamp> {
        self.wake
    }

    fn say(&mut self, now: Timestamp, line: impl Into<String>) {
        self.log.push((now, line.into()));
    }

    fn fail(&mut self, now: Timestamp, why: String) {
        self.say(now, format!("gives up: {why}"));
        self.failure = Some(why);
        self.state = State::Failed;
        self.wake = None;
    }

    fn has(&self, fault: OperationFault) -> bool {
        self.fault == Some(fault)
    }

    /// Does what is due at `now`.
    pub async fn tick(&mut self, now: Timestamp) {
        if self.wake.is_some_and(|w| w > now) || !self.is_busy() {
            return;
        }
        if let Err(why) = self.step(now).await {
            self.fail(now, why);
        }
    }

    fn other(&self) -> Result<Signer, String> {
        self.other
            .clone()
            .ok_or_else(|| format!("{} needs a second signer", self.change.name()))
    }

    /// Both signers of a multi-signer change (acting one first).
    fn signers(&self) -> Result<[Signer; 2], String> {
        Ok([self.op.clone(), self.other()?])
    }

    fn wait_until(&mut self, until: Timestamp, then: Step) {
        self.state = State::Waiting { until, then };
        self.wake = Some(until);
    }

    async fn step(&mut self, now: Timestamp) -> Result<(), String> {
        match self.state.clone() {
            State::Start => self.begin(now).await,
            State::Waiting { until, then } => {
                if now < until {
                    self.wake = Some(until);
                    return Ok(());
                }
                match then {
                    Step::RolloverCds { ksk } => self.rollover_cds(ksk, now).await,
                    Step::JoinCds => self.join_cds(now).await,
                    Step::After(then) => self.after(then, now).await,
                }
            }
            State::WithdrawnEarly { old, until } => {
                if now < until {
                    self.wake = Some(until);
                    return Ok(());
                }
                let d = self.domain.clone();
                self.op.api.set_cds(&d, None, None).await?;
                self.say(
                    now,
                    format!(
                        "{d}: withdraws the CDS and CDNSKEY; retires the old KSK in two days \
                         whatever the parent does"
                    ),
                );
                let retire = later(now, SignedDuration::from_hours(48) / self.scale);
                self.wait_until(retire, Step::After(Then::Finish { old: Some(old) }));
                Ok(())
            }
            State::ForDs {
                want,
                then,
                give_up,
                seen_ttl,
            } => self.poll_ds(want, then, give_up, seen_ttl, now).await,
            State::ForNs {
                want,
                then,
                give_up,
            } => self.poll_ns(want, then, give_up, now).await,
            State::Done | State::Failed => Ok(()),
        }
    }

    /// The procedure's first actions.
    async fn begin(&mut self, now: Timestamp) -> Result<(), String> {
        let d = self.domain.clone();
        let op = self.op.clone();
        match self.change {
            Change::KskRollover => {
                let ksk = op.api.add_next_ksk(&d).await?;
                let ttl = op.info.ttl_dnskey;
                self.say(
                    now,
                    format!(
                        "{d}: the next KSK joins the DNSKEY RRset; its CDS waits out the \
                         DNSKEY TTL ({ttl}s)"
                    ),
                );
                self.wait_until(later(now, secs(ttl)), Step::RolloverCds { ksk });
            }
            Change::GoSecure => {
                op.api.set_signed(&d, true).await?;
                let ksk = op.api.ksk(&d).await?;
                let both = [ksk.clone()];
                op.api.set_cds(&d, Some(&both), Some(&both)).await?;
                // RFC 9615 §3.2: the same RRsets under every name server's signaling domain,
                // so the parent can bootstrap at once.
                let mut signalled = Vec::new();
                if op.info.signals {
                    signalled = op.info.ns.clone();
                    if self.has(OperationFault::SignalsOnFirstNsOnly) {
                        signalled.truncate(1);
                    }
                    op.api
                        .set_signals(&d, &signalled, Some(&both), Some(&both))
                        .await?;
                }
                let signals = if signalled.is_empty() {
                    String::new()
                } else {
                    format!(", signalled under {} (RFC 9615)", signalled.join(", "))
                };
                self.say(
                    now,
                    format!("{d}: signed; CDS and CDNSKEY ask for its KSK{signals}"),
                );
                self.wait_for_ds(vec![ksk], Then::Finish { old: None }, now)
                    .await?;
            }
            Change::GoInsecure => {
                op.api.set_cds(&d, Some(&[]), Some(&[])).await?;
                self.say(now, format!("{d}: publishes the delete CDS and CDNSKEY"));
                self.wait_for_ds(Vec::new(), Then::Finish { old: None }, now)
                    .await?;
            }
            Change::MultiSignerJoin => self.join_begin(now).await?,
            Change::MultiSignerLeave => self.leave_begin(now).await?,
        }
        Ok(())
    }

    /// Rollover, after the DNSKEY TTL: the CDS/CDNSKEY ask for the next KSK.
    async fn rollover_cds(&mut self, ksk: KeyData, now: Timestamp) -> Result<(), String> {
        let d = self.domain.clone();
        let op = self.op.clone();
        let old = op.api.ksk(&d).await?;
        let new = [ksk.clone()];
        let stale = [old.clone(), ksk.clone()];
        let cdnskey: &[_] = if self.has(OperationFault::CdsCdnskeyDisagree) {
            &stale
        } else {
            &new
        };
        op.api.set_cds(&d, Some(&new), Some(cdnskey)).await?;
        self.say(now, format!("{d}: CDS and CDNSKEY ask for the next KSK"));
        if self.has(OperationFault::CdsWithdrawnTooEarly) {
            let until = later(now, SignedDuration::from_hours(1) / self.scale);
            self.state = State::WithdrawnEarly { old, until };
            self.wake = Some(until);
            return Ok(());
        }
        self.wait_for_ds(vec![ksk], Then::Finish { old: Some(old) }, now)
            .await
    }

    /// Join: the joining signer copies the zone, and both publish each other's ZSK.
    async fn join_begin(&mut self, now: Timestamp) -> Result<(), String> {
        let d = self.domain.clone();
        let [joining, serving] = self.signers()?;
        let (ns, _) = dnsutil::delegation(self.parent, &d)
            .await
            .map_err(|e| e.to_string())?;
        let serving_ksk = serving.api.ksk(&d).await?;
        let serving_zsks = serving.api.zsks(&d).await?;
        // RFC 8901 §4: the signers share one algorithm (the serving one's).
        joining
            .api
            .create_zone(&d, &self.records, true, Some(serving_ksk.alg))
            .await?;
        joining.api.set_ns(&d, &ns).await?;
        let joining_zsks = joining.api.zsks(&d).await?;
        for k in &serving_zsks {
            joining.api.add_foreign_key(&d, k).await?;
        }
        for k in &joining_zsks {
            serving.api.add_foreign_key(&d, k).await?;
        }
        let wait = serving.info.ttl_dnskey.max(joining.info.ttl_dnskey);
        self.say(
            now,
            format!(
                "{d}: the joining signer serves a copy of the zone (not delegated yet); both \
                 publish each other's ZSK and wait out the DNSKEY TTL ({wait}s)"
            ),
        );
        self.wait_until(later(now, secs(wait)), Step::JoinCds);
        Ok(())
    }

    /// Join, after the DNSKEY TTL: both publish the combined CDS/CDNSKEY.
    async fn join_cds(&mut self, now: Timestamp) -> Result<(), String> {
        let d = self.domain.clone();
        let [joining, serving] = self.signers()?;
        let serving_ksk = serving.api.ksk(&d).await?;
        let joining_ksk = joining.api.ksk(&d).await?;
        let want = if self.has(OperationFault::CdsMissingSigner) {
            vec![serving_ksk]
        } else {
            vec![serving_ksk, joining_ksk]
        };
        for op in [&joining, &serving] {
            op.api.set_cds(&d, Some(&want), Some(&want)).await?;
        }
        self.say(
            now,
            format!(
                "{d}: both signers publish the combined CDS and CDNSKEY ({} KSKs)",
                want.len()
            ),
        );
        self.wait_for_ds(want, Then::JoinNs, now).await
    }

    /// Leave: both signers publish the remaining signer's NS set with a CSYNC.
    async fn leave_begin(&mut self, now: Timestamp) -> Result<(), String> {
        let d = self.domain.clone();
        let [leaving, staying] = self.signers()?;
        let ns = staying.info.ns.clone();
        for op in [&leaving, &staying] {
            op.api.set_ns(&d, &ns).await?;
            op.api.set_csync(&d, true).await?;
        }
        self.say(
            now,
            format!(
                "{d}: both signers publish the remaining signer's NS set ({}) with a CSYNC",
                ns.join(" ")
            ),
        );
        self.wait_for_ns(ns, Then::LeaveKeys, now);
        Ok(())
    }

    /// After the parent followed and the wait is over.
    async fn after(&mut self, then: Then, now: Timestamp) -> Result<(), String> {
        let d = self.domain.clone();
        match then {
            Then::Finish { old } => {
                let op = self.op.clone();
                if let Some(old) = &old {
                    op.api.retire_key(&d, old).await?;
                }
                if self.change == Change::GoInsecure {
                    op.api.set_signed(&d, false).await?;
                }
                op.api.set_cds(&d, None, None).await?;
                // The signals have done their work once the DS is there (RFC 9615 §5.1).
                let signals = self.change == Change::GoSecure && op.info.signals;
                if signals {
                    op.api.set_signals(&d, &op.info.ns, None, None).await?;
                }
                let what = match self.change {
                    Change::KskRollover => "retires the old KSK and withdraws the CDS/CDNSKEY",
                    Change::GoInsecure => "unsigns the zone and withdraws the delete records",
                    Change::GoSecure if signals => {
                        "withdraws the CDS/CDNSKEY and the RFC 9615 signals"
                    }
                    _ => "withdraws the CDS/CDNSKEY",
                };
                self.finish(now, format!("{d}: {what}; done"));
            }
            Then::JoinNs => {
                let [joining, serving] = self.signers()?;
                let mut ns = serving.info.ns.clone();
                ns.extend(joining.info.ns.iter().cloned());
                for op in [&joining, &serving] {
                    op.api.set_ns(&d, &ns).await?;
                    op.api.set_csync(&d, true).await?;
                }
                self.say(
                    now,
                    format!(
                        "{d}: both signers publish the combined NS set ({}) with a CSYNC",
                        ns.join(" ")
                    ),
                );
                self.wait_for_ns(ns, Then::JoinDone, now);
            }
            Then::JoinDone => {
                for op in self.signers()? {
                    op.api.set_csync(&d, false).await?;
                    op.api.set_cds(&d, None, None).await?;
                }
                self.finish(
                    now,
                    format!(
                        "{d}: the parent's NS names both signers; CSYNC and CDS withdrawn; joined"
                    ),
                );
            }
            Then::LeaveKeys => {
                let [leaving, staying] = self.signers()?;
                let want = vec![staying.api.ksk(&d).await?];
                for op in [&leaving, &staying] {
                    op.api.set_csync(&d, false).await?;
                    op.api.set_cds(&d, Some(&want), Some(&want)).await?;
                }
                self.say(
                    now,
                    format!("{d}: CDS and CDNSKEY name only the remaining signer's KSK"),
                );
                self.wait_for_ds(want, Then::LeaveZsk, now).await?;
            }
            Then::LeaveZsk => {
                let [leaving, staying] = self.signers()?;
                for k in &leaving.api.zsks(&d).await? {
                    staying.api.remove_foreign_key(&d, k).await?;
                }
                staying.api.set_cds(&d, None, None).await?;
                let ttl = staying.info.ttl_dnskey;
                self.say(
                    now,
                    format!(
                        "{d}: the remaining signer drops the leaving signer's ZSK; the leaving \
                         signer stops after the DNSKEY TTL ({ttl}s)"
                    ),
                );
                self.wait_until(later(now, secs(ttl)), Step::After(Then::LeaveDone));
            }
            Then::LeaveDone => {
                self.op.api.remove_zone(&d).await?;
                self.finish(
                    now,
                    format!("{d}: the leaving signer stops serving the zone; left"),
                );
            }
        }
        Ok(())
    }

    fn finish(&mut self, now: Timestamp, line: String) {
        self.say(now, line);
        self.state = State::Done;
        self.done_at = Some(now);
        self.wake = None;
    }

    /// Starts waiting for the parent's DS to become the DS of `want`, remembering the TTL of
    /// the DS RRset served now (the old one may be cached that long after it changes).
    async fn wait_for_ds(
        &mut self,
        want: Vec<KeyData>,
        then: Then,
        now: Timestamp,
    ) -> Result<(), String> {
        let (ds, ttl) = dnsutil::ds(self.parent, &self.domain)
            .await
            .map_err(|e| e.to_string())?;
        self.state = State::ForDs {
            want,
            then,
            give_up: later(now, self.patience),
            seen_ttl: if ds.is_empty() { 0 } else { ttl },
        };
        self.wake = Some(later(now, self.check_every));
        Ok(())
    }

    fn wait_for_ns(&mut self, want: Vec<String>, then: Then, now: Timestamp) {
        self.state = State::ForNs {
            want,
            then,
            give_up: later(now, self.patience),
        };
        self.wake = Some(later(now, self.check_every));
    }

    async fn poll_ds(
        &mut self,
        want: Vec<KeyData>,
        then: Then,
        give_up: Timestamp,
        seen_ttl: u32,
        now: Timestamp,
    ) -> Result<(), String> {
        let d = self.domain.clone();
        let (ds, ttl) = dnsutil::ds(self.parent, &d)
            .await
            .map_err(|e| e.to_string())?;
        // When the set empties, the answer carries no TTL of the old one: the largest seen
        // while waiting counts.
        let seen_ttl = seen_ttl.max(if ds.is_empty() { 0 } else { ttl });
        if ds_matches(&d, &ds, &want) {
            let mut wait = seen_ttl.max(ttl);
            if then == Then::JoinNs {
                // The longer of the DS and DNSKEY wait times (draft §4.4): a resolver must
                // hold the new DS before it can reach the joining signer's servers.
                let dnskey = self
                    .signers()?
                    .iter()
                    .map(|op| op.info.ttl_dnskey)
                    .max()
                    .unwrap_or(0);
                wait = wait.max(dnskey);
                if self.has(OperationFault::NsBeforeDsWait) {
                    wait = 0;
                }
            }
            self.say(
                now,
                format!("{d}: the parent's DS follows; waits {wait}s before going on"),
            );
            self.wait_until(later(now, secs(wait)), Step::After(then));
        } else if now >= give_up {
            return Err(format!(
                "the parent's DS did not follow the CDS/CDNSKEY within {}",
                crate::report::human(self.patience)
            ));
        } else {
            self.state = State::ForDs {
                want,
                then,
                give_up,
                seen_ttl,
            };
            self.wake = Some(later(now, self.check_every).min(give_up));
        }
        Ok(())
    }

    async fn poll_ns(
        &mut self,
        want: Vec<String>,
        then: Then,
        give_up: Timestamp,
        now: Timestamp,
    ) -> Result<(), String> {
        let d = self.domain.clone();
        let (ns, parent_ttl) = dnsutil::delegation(self.parent, &d)
            .await
            .map_err(|e| e.to_string())?;
        if same_hosts(&ns, &want) {
            // A resolver may hold the old NS set from the parent or from a signer's apex, and
            // what it fetched from a server of the old set for as long as the zone's TTLs.
            let mut wait = parent_ttl;
            for op in self.signers()? {
                wait = wait.max(op.info.ttl_ns);
                if then == Then::LeaveKeys {
                    wait = wait.max(op.api.max_ttl(&d).await.unwrap_or(0));
                }
            }
            self.say(
                now,
                format!("{d}: the parent's NS follows the CSYNC; waits {wait}s before going on"),
            );
            self.wait_until(later(now, secs(wait)), Step::After(then));
        } else if now >= give_up {
            return Err(format!(
                "the parent's NS did not follow the CSYNC within {}",
                crate::report::human(self.patience)
            ));
        } else {
            self.state = State::ForNs {
                want,
                then,
                give_up,
            };
            self.wake = Some(later(now, self.check_every).min(give_up));
        }
        Ok(())
    }
}

fn later(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

fn secs(s: u32) -> SignedDuration {
    SignedDuration::from_secs(i64::from(s))
}

/// Whether two lists of host names name the same hosts (case and trailing dots aside).
fn same_hosts(a: &[String], b: &[String]) -> bool {
    let norm = |v: &[String]| {
        let mut v: Vec<String> = v
            .iter()
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    norm(a) == norm(b)
}

/// Whether the parent's DS RRset is exactly the DS of `want` (empty: no DS).
fn ds_matches(domain: &str, ds: &[DS], want: &[KeyData]) -> bool {
    let Ok(owner) = Name::from_ascii(format!("{domain}.")) else {
        return false;
    };
    if ds.len() != want.len() {
        return false;
    }
    want.iter().all(|k| {
        crate::world::operator::dnskey_of(k).is_ok_and(|dnskey| {
            ds.iter().any(|d| {
                dnssec::keys::ds_from_dnskey(&owner, &dnskey, dnssec::DsDigest::Sha256)
                    .is_ok_and(|mine| mine.digest() == d.digest())
            })
        })
    })
}
