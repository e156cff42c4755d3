//! The reference DNS operator's own procedures: DNSSEC changes a domain's operator makes
//! without its registrar, through the registry's CDS/CDNSKEY scanner (RFC 7344, RFC 8078):
//! a KSK rollover, going secure (bootstrap) and going insecure (delete).
//!
//! Each is a small state machine the runner ticks like a registrar. It changes the zone only
//! through the operator's API and learns what the parent publishes only over DNS (the DS RRset
//! and its TTL at the parent's server), as a real operator's automation does; every wait is
//! a TTL it read or the zone's own DNSKEY TTL. Its deliberate faults are the mistakes a
//! careless operator makes, each caught by an existing check.

use std::net::SocketAddr;

use hickory_proto::dnssec::rdata::DS;
use hickory_proto::rr::Name;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::dnsutil;
use crate::world::backend::SharedOperator;

/// What the operator changes.
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
}

impl Change {
    /// The scenario's token (the step's `do`).
    pub fn name(self) -> &'static str {
        match self {
            Self::KskRollover => "ksk-rollover",
            Self::GoSecure => "go-secure",
            Self::GoInsecure => "go-insecure",
        }
    }
}

/// A deliberate mistake of the reference operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OperationFault {
    /// Rollover: withdraws the CDS/CDNSKEY an hour after publishing them, before any scan,
    /// then retires the old KSK after two days as if the parent had followed.
    CdsWithdrawnTooEarly,
    /// Rollover: the CDNSKEY still names the old KSK while the CDS names the new one; a
    /// registry that checks agreement never acts.
    CdsCdnskeyDisagree,
}

impl OperationFault {
    /// Every fault, for errors.
    pub const ALL: [Self; 2] = [Self::CdsWithdrawnTooEarly, Self::CdsCdnskeyDisagree];

    /// The scenario's token.
    pub fn name(self) -> &'static str {
        match self {
            Self::CdsWithdrawnTooEarly => "cds-withdrawn-too-early",
            Self::CdsCdnskeyDisagree => "cds-cdnskey-disagree",
        }
    }

    /// The fault of a token.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }

    /// The change it is a mistake in.
    pub fn change(self) -> Change {
        Change::KskRollover
    }
}

/// Where a procedure stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Not begun.
    Start,
    /// Rollover: the next KSK is published; the CDS waits until every cache can hold it.
    NextKskPublished {
        ksk: epp::secdns::KeyData,
        until: Timestamp,
    },
    /// The CDS/CDNSKEY ask for `want` (empty: delete); waiting for the parent's DS to follow.
    WaitingForParent {
        /// The keys whose DS the parent should publish (empty: none).
        want: Vec<epp::secdns::KeyData>,
        /// The rollover's old KSK, retired once the DS followed.
        old: Option<epp::secdns::KeyData>,
        /// When to give up.
        give_up: Timestamp,
        /// The largest DS TTL the parent served while waiting.
        seen_ttl: u32,
    },
    /// The parent's DS followed; waiting until the old DS set can be in no cache.
    ParentFollowed {
        old: Option<epp::secdns::KeyData>,
        until: Timestamp,
    },
    /// Fault `cds-withdrawn-too-early`: the CDS went; the old KSK goes at `until`.
    WithdrawnEarly {
        old: epp::secdns::KeyData,
        until: Timestamp,
    },
    /// Finished.
    Done,
    /// Gave up.
    Failed,
}

/// One procedure of the reference operator for one domain.
#[derive(Debug)]
pub struct Operation {
    /// The domain.
    pub domain: String,
    /// The registrar index whose operator carries it out.
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
    op: SharedOperator,
    parent: SocketAddr,
    /// How often it asks the parent for the DS RRset while waiting.
    check_every: SignedDuration,
    /// The longest it waits for the parent.
    patience: SignedDuration,
    /// When it wants its next tick.
    wake: Option<Timestamp>,
}

/// How often the reference operator looks at the parent's DS while it waits, on the virtual
/// clock (divided by the time scale on the wall clock).
pub const CHECK_EVERY: SignedDuration = SignedDuration::from_mins(15);
/// How long it waits for the parent before it gives up (longer than every profile's delay).
pub const PATIENCE: SignedDuration = SignedDuration::from_hours(14 * 24);

impl Operation {
    /// A procedure asked for at `now`; the first tick begins it.
    #[allow(
        clippy::too_many_arguments,
        reason = "what the procedure is, who does it, and its clock"
    )]
    pub fn new(
        domain: &str,
        operator: usize,
        change: Change,
        fault: Option<OperationFault>,
        op: SharedOperator,
        parent: SocketAddr,
        scale: u32,
        now: Timestamp,
    ) -> Self {
        let scale = i32::try_from(scale.max(1)).unwrap_or(i32::MAX);
        Self {
            domain: domain.to_string(),
            operator,
            change,
            fault,
            started: now,
            done_at: None,
            failure: None,
            log: Vec::new(),
            state: State::Start,
            op,
            parent,
            check_every: (CHECK_EVERY / scale).max(SignedDuration::from_millis(100)),
            patience: PATIENCE / scale,
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

    /// Does what is due at `now`.
    pub async fn tick(&mut self, now: Timestamp) {
        if self.wake.is_some_and(|w| w > now) || !self.is_busy() {
            return;
        }
        if let Err(why) = self.step(now).await {
            self.fail(now, why);
        }
    }

    async fn step(&mut self, now: Timestamp) -> Result<(), String> {
        let d = self.domain.clone();
        let ttl_dnskey = {
            let op = self.op.lock().await;
            SignedDuration::from_secs(i64::from(op.spec().ttl_dnskey))
        };
        match self.state.clone() {
            State::Start => match self.change {
                Change::KskRollover => {
                    let ksk = {
                        let mut op = self.op.lock().await;
                        op.add_next_ksk(&d).await.map_err(|e| e.to_string())?
                    };
                    let until = later(now, ttl_dnskey);
                    self.say(
                        now,
                        format!(
                            "{d}: the next KSK joins the DNSKEY RRset; its CDS waits out the \
                             DNSKEY TTL ({}s)",
                            ttl_dnskey.as_secs()
                        ),
                    );
                    self.state = State::NextKskPublished { ksk, until };
                    self.wake = Some(until);
                }
                Change::GoSecure => {
                    let ksk = {
                        let mut op = self.op.lock().await;
                        op.set_signed(&d, true).await.map_err(|e| e.to_string())?;
                        let ksk = op.ksk_key_data(&d).await.map_err(|e| e.to_string())?;
                        let both = [ksk.clone()];
                        op.set_cds(&d, Some(&both), Some(&both))
                            .await
                            .map_err(|e| e.to_string())?;
                        ksk
                    };
                    self.say(now, format!("{d}: signed; CDS and CDNSKEY ask for its KSK"));
                    self.wait_for_parent(vec![ksk], None, now).await?;
                }
                Change::GoInsecure => {
                    {
                        let mut op = self.op.lock().await;
                        op.set_cds(&d, Some(&[]), Some(&[]))
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    self.say(now, format!("{d}: publishes the delete CDS and CDNSKEY"));
                    self.wait_for_parent(Vec::new(), None, now).await?;
                }
            },
            State::NextKskPublished { ksk, until } => {
                if now < until {
                    self.wake = Some(until);
                    return Ok(());
                }
                let old = {
                    let mut op = self.op.lock().await;
                    let old = op.ksk_key_data(&d).await.map_err(|e| e.to_string())?;
                    let new = [ksk.clone()];
                    let stale = [old.clone(), ksk.clone()];
                    let cdnskey: &[_] = if self.fault == Some(OperationFault::CdsCdnskeyDisagree) {
                        &stale
                    } else {
                        &new
                    };
                    op.set_cds(&d, Some(&new), Some(cdnskey))
                        .await
                        .map_err(|e| e.to_string())?;
                    old
                };
                self.say(now, format!("{d}: CDS and CDNSKEY ask for the next KSK"));
                if self.fault == Some(OperationFault::CdsWithdrawnTooEarly) {
                    let until = later(now, SignedDuration::from_hours(1) / self.scale_div());
                    self.state = State::WithdrawnEarly { old, until };
                    self.wake = Some(until);
                    return Ok(());
                }
                self.wait_for_parent(vec![ksk], Some(old), now).await?;
            }
            State::WithdrawnEarly { old, until } => {
                if now < until {
                    self.wake = Some(until);
                    return Ok(());
                }
                {
                    let mut op = self.op.lock().await;
                    op.set_cds(&d, None, None)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                let retire = later(now, SignedDuration::from_hours(48) / self.scale_div());
                self.say(
                    now,
                    format!(
                        "{d}: withdraws the CDS and CDNSKEY; retires the old KSK in two days \
                         whatever the parent does"
                    ),
                );
                self.state = State::ParentFollowed {
                    old: Some(old),
                    until: retire,
                };
                self.wake = Some(retire);
            }
            State::WaitingForParent {
                want,
                old,
                give_up,
                seen_ttl,
            } => {
                let (ds, ttl) = dnsutil::ds(self.parent, &d)
                    .await
                    .map_err(|e| e.to_string())?;
                // The old DS RRset may be cached for its own TTL: when the set empties, the
                // answer carries none, so the largest TTL seen while waiting counts too.
                let seen_ttl = seen_ttl.max(if ds.is_empty() { 0 } else { ttl });
                if ds_matches(&d, &ds, &want) {
                    let wait = SignedDuration::from_secs(i64::from(seen_ttl.max(ttl)));
                    let until = later(now, wait);
                    self.say(
                        now,
                        format!(
                            "{d}: the parent's DS follows; waits out its TTL ({}s)",
                            wait.as_secs()
                        ),
                    );
                    self.state = State::ParentFollowed { old, until };
                    self.wake = Some(until);
                } else if now >= give_up {
                    return Err(format!(
                        "the parent's DS did not follow the CDS/CDNSKEY within {}",
                        crate::report::human(self.patience)
                    ));
                } else {
                    self.state = State::WaitingForParent {
                        want,
                        old,
                        give_up,
                        seen_ttl,
                    };
                    self.wake = Some(later(now, self.check_every).min(give_up));
                }
            }
            State::ParentFollowed { old, until } => {
                if now < until {
                    self.wake = Some(until);
                    return Ok(());
                }
                let mut op = self.op.lock().await;
                if let Some(old) = &old {
                    op.retire_key(&d, old).await.map_err(|e| e.to_string())?;
                }
                if self.change == Change::GoInsecure {
                    op.set_signed(&d, false).await.map_err(|e| e.to_string())?;
                }
                op.set_cds(&d, None, None)
                    .await
                    .map_err(|e| e.to_string())?;
                drop(op);
                let what = match self.change {
                    Change::KskRollover => "retires the old KSK and withdraws the CDS/CDNSKEY",
                    Change::GoSecure => "withdraws the CDS/CDNSKEY",
                    Change::GoInsecure => "unsigns the zone and withdraws the delete records",
                };
                self.say(now, format!("{d}: {what}; done"));
                self.state = State::Done;
                self.done_at = Some(now);
                self.wake = None;
            }
            State::Done | State::Failed => {}
        }
        Ok(())
    }

    fn scale_div(&self) -> i32 {
        // `check_every` is CHECK_EVERY divided by the scale (at least 100 ms).
        i32::try_from(CHECK_EVERY.as_millis() / self.check_every.as_millis().max(1))
            .unwrap_or(1)
            .max(1)
    }

    /// Starts waiting for the parent's DS to become the DS of `want`, remembering the TTL of
    /// the DS RRset served now (the old one may be cached that long after it changes).
    async fn wait_for_parent(
        &mut self,
        want: Vec<epp::secdns::KeyData>,
        old: Option<epp::secdns::KeyData>,
        now: Timestamp,
    ) -> Result<(), String> {
        let (ds, ttl) = dnsutil::ds(self.parent, &self.domain)
            .await
            .map_err(|e| e.to_string())?;
        let give_up = later(now, self.patience);
        self.state = State::WaitingForParent {
            want,
            old,
            give_up,
            seen_ttl: if ds.is_empty() { 0 } else { ttl },
        };
        self.wake = Some(later(now, self.check_every));
        Ok(())
    }
}

fn later(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// Whether the parent's DS RRset is exactly the DS of `want` (empty: no DS).
fn ds_matches(domain: &str, ds: &[DS], want: &[epp::secdns::KeyData]) -> bool {
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
