//! Key relay receipts (experimental, opt-in; `docs/keyrelay-receipt.md`): what the registry
//! tells the sender of an RFC 8063 key relay about it.
//!
//! When a session that announced [`uri::KEYRELAY_RECEIPT`] at login sends an accepted
//! `keyrelay:create`, the registry opens a [`Watch`] for it and later queues receipts for the
//! sender:
//!
//! - `delivered` when the registrar of record acknowledges the keyrelay poll message;
//! - `published` at the first probe that finds every relayed key in the DNSKEY RRset of every
//!   name server of the domain's delegation, signed by a key of that RRset, valid then;
//! - `notPublished` when the watch ends first (the relay's earliest expiry, or the policy's
//!   longest watch);
//! - `withdrawn` when the sender revokes every watched key first (RFC 8063 §2.1.1).
//!
//! This part has no I/O: [`Registry::receipt_probes`] says which delegations to ask, and
//! [`Registry::record_probe`] takes what a prober found over DNS (`crate::feedback` asks
//! for the EPP server and the harness). Time comes from the caller, the one injected clock.

use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};

use super::refusal::{Area, Refusal};
use super::{Registry, Services};
use epp::keyrelay::KeyRelayData;
use epp::message::ResponseExtension;
use epp::receipt::{HostProbe, HostResult, Receipt, State};
use epp::secdns::KeyData;
use epp::{ResultCode, TrId, uri};

/// The registry's receipt policy; its presence in [`super::Policy`] offers the extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptPolicy {
    /// How often a watched delegation is probed. The `published` receipt's time is the first
    /// probe that finds the keys everywhere, so this bounds how late it may be.
    pub probe_interval: SignedDuration,
    /// The longest a relay is watched when its keys expire later (or never).
    pub max_watch: SignedDuration,
    /// Relays one registrar may have watched at once; one more is refused with 2308 (RFC 8063
    /// §6 lets a server limit relays; every watch costs DNS queries until it ends).
    pub max_watches_per_registrar: usize,
}

impl Default for ReceiptPolicy {
    fn default() -> Self {
        Self {
            probe_interval: SignedDuration::from_mins(15),
            max_watch: SignedDuration::from_hours(7 * 24),
            max_watches_per_registrar: 100,
        }
    }
}

/// Where a watch stands about publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publication {
    /// Still probing: no `published`, `notPublished` or `withdrawn` yet.
    Watching,
    /// Ended with this receipt state (`published`, `notPublished`, `withdrawn`), or `None`
    /// for a relay with nothing to publish (every key revoked in it).
    Ended(Option<State>),
}

/// One relay the registry watches for its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    /// Id, unique in the registry.
    pub id: u64,
    /// The domain the keys were relayed for, as the registry holds it (lower case).
    pub domain: String,
    /// The sender, who gets the receipts.
    pub from: String,
    /// The registrar of record the relay was queued for.
    pub to: String,
    /// Every key of the relay, as sent (the `delivered` receipt names them).
    pub relayed: Vec<KeyData>,
    /// The keys to find published (revoked ones left out).
    pub keys: Vec<KeyData>,
    /// The keyrelay poll message's id in `to`'s queue.
    pub relay_msg_id: u64,
    /// The relay's transaction ids.
    pub relay_tr_id: TrId,
    /// When the relay was accepted.
    pub relay_date: Timestamp,
    /// When the watch ends.
    pub until: Timestamp,
    /// When the name servers are asked next: a probe interval after the last probe, never after
    /// `until`.
    pub next_probe: Timestamp,
    /// Where it stands.
    pub publication: Publication,
    /// Whether the `delivered` receipt went out.
    pub delivered: bool,
    /// The last probe's findings, per name server.
    pub last_probe: Vec<HostProbe>,
}

impl Watch {
    fn is_watching(&self) -> bool {
        self.publication == Publication::Watching
    }

    /// Nothing more can come of it: publication ended and the acknowledgement came. (An
    /// ended watch waits for the acknowledgement as long as the relay's message waits in the
    /// queue of the registrar of record: no longer than the message itself is kept.)
    fn is_spent(&self) -> bool {
        !self.is_watching() && self.delivered
    }
}

/// What a prober must ask: every name server of a watched relay's delegation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRequest {
    /// The [`Watch::id`] this request is for.
    pub watch: u64,
    /// The domain (zone apex).
    pub domain: String,
    /// The delegation's name server host names, as the registry holds them now (empty: the
    /// domain is not delegated, nothing can be published).
    pub hosts: Vec<String>,
    /// Addresses the registry itself holds for in-TLD hosts (glue).
    pub glue: Vec<(String, IpAddr)>,
    /// The keys to find.
    pub keys: Vec<KeyData>,
}

/// What a prober found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// The [`Watch::id`] of the request this answers.
    pub watch: u64,
    /// When the servers were asked.
    pub at: Timestamp,
    /// Per host of the request, in its order.
    pub hosts: Vec<HostProbe>,
    /// The largest DNSKEY TTL seen (with the RRSIGs' original TTLs).
    pub dnskey_ttl: u32,
}

/// A receipt the registry queued, for evidence (tests, the harness's record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedReceipt {
    /// When it was queued.
    pub queued: Timestamp,
    /// The clID of the registrar it was queued for: the relay's sender.
    pub to: String,
    /// Its message id.
    pub msg_id: u64,
    /// The watch it belongs to.
    pub watch: u64,
    /// The receipt as the poll message carries it.
    pub receipt: Receipt,
}

impl Registry {
    /// Whether the registry offers key relay receipts.
    pub fn offers_receipts(&self) -> bool {
        self.policy.keyrelay_receipts.is_some()
    }

    /// Refuses a relay (2308) that would open one watch more than the policy allows its
    /// sender; run with the relay's other checks, before anything changes.
    pub(super) fn check_watch_limit(
        &self,
        cl_id: &str,
        services: &Services,
    ) -> Result<(), Refusal> {
        let Some(policy) = &self.policy.keyrelay_receipts else {
            return Ok(());
        };
        if !services.has_ext(uri::KEYRELAY_RECEIPT) {
            return Ok(());
        }
        let open = self
            .watches
            .iter()
            .filter(|w| w.from == cl_id && w.is_watching())
            .count();
        if open >= policy.max_watches_per_registrar {
            return Err(Refusal::new(
                ResultCode::DataManagementPolicyViolation,
                Area::KeyRelay,
                format!(
                    "{open} relays of yours are still watched for receipts (at most {})",
                    policy.max_watches_per_registrar
                ),
            ));
        }
        Ok(())
    }

    /// Opens a watch for an accepted relay, when receipts are offered and the sender's
    /// session announced them; revocations in it end the sender's earlier watches of those
    /// keys (`withdrawn`). Called once the relay is queued (its message id is known), after
    /// [`check_watch_limit`](Self::check_watch_limit) passed.
    #[allow(
        clippy::too_many_arguments,
        reason = "the relay's parts, all needed for its receipts"
    )]
    pub(super) fn open_watch(
        &mut self,
        cl_id: &str,
        services: &Services,
        domain: &str,
        to: &str,
        data: &[KeyRelayData],
        relay_msg_id: u64,
        cl_trid: Option<&str>,
        now: Timestamp,
    ) {
        let Some(policy) = self.policy.keyrelay_receipts.clone() else {
            return;
        };
        if !services.has_ext(uri::KEYRELAY_RECEIPT) {
            return;
        }
        let revoked: Vec<&KeyData> = data
            .iter()
            .filter(|d| d.expiry.as_ref().is_some_and(|e| e.is_revocation(now)))
            .map(|d| &d.key_data)
            .collect();
        if !revoked.is_empty() {
            self.withdraw(cl_id, domain, &revoked, now);
        }
        let keys: Vec<KeyData> = data
            .iter()
            .filter(|d| !d.expiry.as_ref().is_some_and(|e| e.is_revocation(now)))
            .map(|d| d.key_data.clone())
            .collect();
        let latest = now.checked_add(policy.max_watch).unwrap_or(Timestamp::MAX);
        let until = data
            .iter()
            .filter(|d| !d.expiry.as_ref().is_some_and(|e| e.is_revocation(now)))
            .filter_map(|d| d.expiry.as_ref().and_then(|e| expiry_time(e, now)))
            .min()
            .map_or(latest, |t| t.min(latest));
        let id = self.next_watch_id;
        self.next_watch_id += 1;
        let publication = if keys.is_empty() {
            Publication::Ended(None)
        } else {
            Publication::Watching
        };
        self.watches.push(Watch {
            id,
            domain: domain.to_string(),
            from: cl_id.to_string(),
            to: to.to_string(),
            relayed: data.iter().map(|d| d.key_data.clone()).collect(),
            keys,
            relay_msg_id,
            relay_tr_id: TrId {
                cl_trid: cl_trid.map(str::to_string),
                sv_trid: self.pending_sv_trid(),
            },
            relay_date: now,
            until,
            next_probe: now
                .checked_add(policy.probe_interval)
                .unwrap_or(Timestamp::MAX)
                .min(until),
            publication,
            delivered: false,
            last_probe: Vec::new(),
        });
    }

    /// The sender revoked `keys` for `domain`: its watches drop them, and a watch left with
    /// none ends `withdrawn`.
    fn withdraw(&mut self, from: &str, domain: &str, keys: &[&KeyData], now: Timestamp) {
        let mut ended = Vec::new();
        for w in &mut self.watches {
            if w.from != from || w.domain != domain || !w.is_watching() {
                continue;
            }
            w.keys.retain(|k| !keys.contains(&k));
            if w.keys.is_empty() {
                w.publication = Publication::Ended(Some(State::Withdrawn));
                ended.push(w.id);
            }
        }
        for id in ended {
            self.issue(id, State::Withdrawn, now, now);
        }
    }

    /// The registrar of record acknowledged message `msg_id`: the relay it carried is
    /// delivered.
    pub(super) fn relay_acknowledged(&mut self, cl_id: &str, msg_id: u64, now: Timestamp) {
        let Some(id) = self
            .watches
            .iter()
            .find(|w| w.to == cl_id && w.relay_msg_id == msg_id && !w.delivered)
            .map(|w| w.id)
        else {
            return;
        };
        if let Some(w) = self.watches.iter_mut().find(|w| w.id == id) {
            w.delivered = true;
        }
        self.issue(id, State::Delivered, now, now);
        self.watches.retain(|w| !w.is_spent());
    }

    /// Ends the watches whose time ran out (`notPublished`) and forgets spent ones.
    pub(super) fn expire_watches(&mut self, now: Timestamp) {
        let due: Vec<(u64, Timestamp)> = self
            .watches
            .iter()
            .filter(|w| w.is_watching() && w.until <= now)
            .map(|w| (w.id, w.until))
            .collect();
        for (id, until) in due {
            if let Some(w) = self.watches.iter_mut().find(|w| w.id == id) {
                w.publication = Publication::Ended(Some(State::NotPublished));
            }
            self.issue(id, State::NotPublished, until, now);
        }
        self.watches.retain(|w| !w.is_spent());
    }

    /// The delegations to probe now: one request per watch whose probe is due (watches that
    /// ran out end first).
    pub fn receipt_probes(&mut self, now: Timestamp) -> Vec<ProbeRequest> {
        self.expire_watches(now);
        self.watches
            .iter()
            .filter(|w| w.is_watching() && w.next_probe <= now)
            .map(|w| {
                let (hosts, glue) = match self.domains.get(&w.domain) {
                    Some(d) if d.is_delegated() => (
                        d.ns.clone(),
                        d.ns.iter()
                            .filter_map(|h| self.hosts.get(h))
                            .flat_map(|h| h.addrs.iter().map(move |a| (h.name.clone(), *a)))
                            .collect(),
                    ),
                    _ => (Vec::new(), Vec::new()),
                };
                ProbeRequest {
                    watch: w.id,
                    domain: w.domain.clone(),
                    hosts,
                    glue,
                    keys: w.keys.clone(),
                }
            })
            .collect()
    }

    /// Takes a prober's findings: `published` when every host of a non-empty delegation
    /// serves the keys, else the next probe is scheduled. A report for a watch that ended
    /// meanwhile (revoked, run out) changes nothing.
    pub fn record_probe(&mut self, report: ProbeReport) {
        let Some(interval) = self
            .policy
            .keyrelay_receipts
            .as_ref()
            .map(|p| p.probe_interval)
        else {
            return;
        };
        let Some(w) = self
            .watches
            .iter_mut()
            .find(|w| w.id == report.watch && w.is_watching())
        else {
            return;
        };
        if report.at >= w.until {
            return;
        }
        let everywhere = !report.hosts.is_empty()
            && report
                .hosts
                .iter()
                .all(|h| h.result == HostResult::Published);
        w.last_probe = report.hosts;
        if everywhere {
            w.publication = Publication::Ended(Some(State::Published));
            let id = w.id;
            self.issue_with_ttl(
                id,
                State::Published,
                report.at,
                report.at,
                report.dnskey_ttl,
            );
        } else {
            w.next_probe = report
                .at
                .checked_add(interval)
                .unwrap_or(Timestamp::MAX)
                .min(w.until);
        }
    }

    /// The next instant receipts have work: a probe or the end of a watch.
    pub fn next_receipt_deadline(&self) -> Option<Timestamp> {
        self.watches
            .iter()
            .filter(|w| w.is_watching())
            .map(|w| w.next_probe.min(w.until))
            .min()
    }

    /// The relays being watched and those waiting for their acknowledgement.
    pub fn watches(&self) -> &[Watch] {
        &self.watches
    }

    /// Every receipt queued so far, oldest first.
    pub fn receipts(&self) -> &[IssuedReceipt] {
        &self.receipts
    }

    fn issue(&mut self, watch: u64, state: State, at: Timestamp, now: Timestamp) {
        self.issue_with_ttl(watch, state, at, now, 0);
    }

    fn issue_with_ttl(
        &mut self,
        watch: u64,
        state: State,
        at: Timestamp,
        now: Timestamp,
        ttl: u32,
    ) {
        let Some(w) = self.watches.iter().find(|w| w.id == watch) else {
            return;
        };
        let with_ns = matches!(state, State::Published | State::NotPublished);
        let receipt = Receipt {
            name: w.domain.clone(),
            relay_tr_id: w.relay_tr_id.clone(),
            relay_date: w.relay_date,
            state,
            state_date: at,
            until: w.until,
            keys: if state == State::Delivered || w.keys.is_empty() {
                w.relayed.clone()
            } else {
                w.keys.clone()
            },
            ns: if with_ns {
                w.last_probe.clone()
            } else {
                Vec::new()
            },
            dnskey_ttl: (state == State::Published).then_some(ttl),
        };
        let to = w.from.clone();
        let text = match state {
            State::Delivered => format!(
                "Key relay for {} delivered: the registrar of record acknowledged it",
                w.domain
            ),
            State::Published => format!(
                "Key relay for {} published: every name server serves the keys, validly signed",
                w.domain
            ),
            State::NotPublished => format!(
                "Key relay for {} not published by every name server before {}",
                w.domain, w.until
            ),
            State::Withdrawn => format!("Key relay for {} withdrawn by its sender", w.domain),
        };
        let msg_id = self.queue_message_with(
            &to,
            text,
            None,
            vec![ResponseExtension::KeyRelayReceipt(Box::new(
                receipt.clone(),
            ))],
            now,
        );
        self.receipts.push(IssuedReceipt {
            queued: now,
            to,
            msg_id,
            watch,
            receipt,
        });
    }
}

/// When an expiry falls (`None` when it cannot be computed, which the relay's checks already
/// refused).
fn expiry_time(e: &epp::keyrelay::Expiry, relay: Timestamp) -> Option<Timestamp> {
    match e {
        epp::keyrelay::Expiry::Absolute(t) => Some(*t),
        epp::keyrelay::Expiry::Relative(d) => {
            let span = d.to_span().ok()?;
            relay
                .to_zoned(jiff::tz::TimeZone::UTC)
                .checked_add(span)
                .ok()
                .map(|z| z.timestamp())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::registry::Policy;
    use crate::testing::commands::delegate;
    use clock::{Clock, VirtualClock};
    use epp::keyrelay::{self, Expiry};
    use epp::message::{Command, CommandKind, Create, Poll};
    use epp::{AuthInfo, XsDuration};

    const A: &str = "reg-a";
    const B: &str = "reg-b";

    fn receipts(_max: usize) -> Services {
        Services {
            ext_uris: vec![uri::SECDNS.into(), uri::KEYRELAY_RECEIPT.into()],
            ..Services::all()
        }
    }

    fn key(n: usize) -> KeyData {
        KeyData {
            flags: 256,
            protocol: 3,
            alg: 15,
            pub_key: dnssec::fixture_keys::key(dnssec::KeyAlgorithm::Ed25519, n)
                .public_key()
                .to_vec(),
        }
    }

    fn relay(n: usize, expiry: Option<Expiry>) -> Command {
        Command {
            kind: CommandKind::Create(Create::KeyRelay(keyrelay::Create {
                name: "example.nl".into(),
                auth_info: AuthInfo::password("transfer-token-1"),
                data: vec![KeyRelayData {
                    key_data: key(n),
                    expiry,
                }],
            })),
            extensions: Vec::new(),
            cl_trid: Some("REL-1".into()),
        }
    }

    /// A registry offering receipts (at most `max` watches a registrar), A sponsoring a
    /// delegated example.nl.
    fn setup(max: usize) -> (Registry, VirtualClock) {
        let clock = VirtualClock::new("2026-01-01T00:00:00Z".parse().expect("time"));
        let policy = Policy {
            keyrelay_receipts: Some(ReceiptPolicy {
                max_watches_per_registrar: max,
                ..ReceiptPolicy::default()
            }),
            ..Policy::default()
        };
        let mut reg = Registry::new(policy, Arc::new(clock.clone()), 1);
        reg.add_registrar(A, "password-a");
        reg.add_registrar(B, "password-b");
        delegate(
            &mut reg,
            A,
            "example.nl",
            &["ns1.example.net", "ns2.example.net"],
            vec![],
        );
        (reg, clock)
    }

    fn states(reg: &Registry) -> Vec<State> {
        reg.receipts().iter().map(|r| r.receipt.state).collect()
    }

    fn report(watch: u64, at: Timestamp, results: [HostResult; 2]) -> ProbeReport {
        ProbeReport {
            watch,
            at,
            hosts: ["ns1.example.net", "ns2.example.net"]
                .into_iter()
                .zip(results)
                .map(|(host, result)| HostProbe {
                    host: host.into(),
                    result,
                })
                .collect(),
            dnskey_ttl: 3600,
        }
    }

    #[test]
    fn only_a_session_that_announced_receipts_opens_a_watch() {
        let (mut reg, _) = setup(10);
        let r = reg.execute(B, &Services::all(), &relay(2, None));
        assert!(r.code().is_success());
        assert!(reg.watches().is_empty());
        reg.execute(B, &receipts(10), &relay(2, None));
        assert_eq!(reg.watches().len(), 1);
        let w = &reg.watches()[0];
        assert_eq!((w.from.as_str(), w.to.as_str()), (B, A));
        assert_eq!(w.relay_tr_id.cl_trid.as_deref(), Some("REL-1"));
        // The policy's longest watch bounds a relay without expiry.
        assert_eq!(
            w.until,
            w.relay_date
                .checked_add(SignedDuration::from_hours(7 * 24))
                .expect("time")
        );
    }

    #[test]
    fn the_limit_refuses_with_2308_and_changes_nothing() {
        let (mut reg, _) = setup(1);
        assert!(
            reg.execute(B, &receipts(1), &relay(2, None))
                .code()
                .is_success()
        );
        let before = reg.state();
        let r = reg.execute(B, &receipts(1), &relay(3, None));
        assert_eq!(r.code().code(), 2308);
        assert_eq!(reg.state(), before);
        // Without receipts the relay goes through as RFC 8063 has it.
        assert!(
            reg.execute(B, &Services::all(), &relay(3, None))
                .code()
                .is_success()
        );
    }

    #[test]
    fn published_needs_every_host_and_a_delegation() {
        let (mut reg, clock) = setup(10);
        reg.execute(B, &receipts(10), &relay(2, None));
        let t0 = clock.now();
        assert!(
            reg.receipt_probes(t0).is_empty(),
            "first probe after an interval"
        );
        let t1 = t0.checked_add(SignedDuration::from_mins(15)).expect("time");
        let probes = reg.receipt_probes(t1);
        assert_eq!(probes.len(), 1);
        assert_eq!(probes[0].hosts, ["ns1.example.net", "ns2.example.net"]);
        assert_eq!(probes[0].keys, vec![key(2)]);
        let id = probes[0].watch;
        reg.record_probe(report(
            id,
            t1,
            [HostResult::Published, HostResult::Unreachable],
        ));
        assert!(reg.receipts().is_empty());
        let t2 = t1.checked_add(SignedDuration::from_mins(15)).expect("time");
        assert_eq!(reg.next_receipt_deadline(), Some(t2));
        // Nothing to probe is not "everywhere".
        reg.record_probe(ProbeReport {
            hosts: Vec::new(),
            ..report(id, t2, [HostResult::Published; 2])
        });
        assert!(reg.receipts().is_empty());
        reg.record_probe(report(id, t2, [HostResult::Published; 2]));
        assert_eq!(states(&reg), [State::Published]);
        let r = &reg.receipts()[0];
        assert_eq!((r.to.as_str(), r.receipt.state_date), (B, t2));
        assert_eq!(r.receipt.dnskey_ttl, Some(3600));
        // A late report for an ended watch changes nothing.
        let before = reg.state();
        reg.record_probe(report(id, t2, [HostResult::Published; 2]));
        assert_eq!(reg.state(), before);
    }

    #[test]
    fn a_watch_runs_out_at_the_earliest_expiry_even_without_a_prober() {
        let (mut reg, clock) = setup(10);
        let t0 = clock.now();
        let expiry = Expiry::Relative(XsDuration::parse("PT2H").expect("duration"));
        reg.execute(B, &receipts(10), &relay(2, Some(expiry)));
        let until = t0.checked_add(SignedDuration::from_hours(2)).expect("time");
        assert_eq!(reg.watches()[0].until, until);
        // Any command after the expiry ends it, dated at the expiry.
        clock
            .set(t0.checked_add(SignedDuration::from_hours(5)).expect("time"))
            .expect("clock");
        reg.execute(B, &receipts(10), &command_poll());
        assert_eq!(states(&reg), [State::NotPublished]);
        assert_eq!(reg.receipts()[0].receipt.state_date, until);
        assert_eq!(reg.next_receipt_deadline(), None);
    }

    #[test]
    fn acknowledgement_delivers_and_revocation_withdraws() {
        let (mut reg, _) = setup(10);
        reg.execute(B, &receipts(10), &relay(2, None));
        let revoke = Expiry::Relative(XsDuration::parse("P0D").expect("duration"));
        reg.execute(B, &receipts(10), &relay(2, Some(revoke)));
        assert_eq!(states(&reg), [State::Withdrawn]);
        // A acknowledges both relays, in its queue's order.
        for m in reg.queue(A) {
            let ack = Command {
                kind: CommandKind::Poll(Poll::Ack {
                    msg_id: m.id.to_string(),
                }),
                extensions: Vec::new(),
                cl_trid: None,
            };
            assert!(reg.execute(A, &Services::all(), &ack).code().is_success());
        }
        assert_eq!(
            states(&reg),
            [State::Withdrawn, State::Delivered, State::Delivered]
        );
        assert!(reg.watches().is_empty(), "spent watches are forgotten");
        assert_eq!(reg.queue(B).len(), 3);
        assert!(reg.queue(A).is_empty());
    }

    fn command_poll() -> Command {
        Command {
            kind: CommandKind::Poll(Poll::Req),
            extensions: Vec::new(),
            cl_trid: None,
        }
    }
}
