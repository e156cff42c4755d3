//! Key relay receipts (the registry's experimental extension): each receipt the registry sent
//! judged against what the name servers served, as the observation timeline recorded it, and
//! the receipts against the scenario's `[expect] receipts`.
//!
//! A `published` receipt at `T` claims that at `T` every name server of the domain's
//! delegation served every relayed key in a DNSKEY RRset signed, valid at `T`, by a key of
//! that RRset. The check reads, for every host of the parent's NS RRset at `T` (and every
//! host the receipt lists), the DNSKEY answer each server behind that host served at `T`, and
//! verifies it the same way ([`dnssec::verify`]). It must hold at `T` (never early), and must
//! not have held for longer than one probe interval before `T` (not late). A `notPublished`
//! receipt claims the opposite over the relay's whole watch: it is contradicted when every
//! name server served the keys validly for a whole probe interval or more before the watch
//! ended (a registry probing on its interval cannot have missed that).

use std::collections::BTreeSet;

use dnssec::verify::{DnskeyVerdict, check_dnskey_rrset};
use epp::receipt::{Receipt, State};
use hickory_proto::dnssec::rdata::DNSKEY;
use hickory_proto::rr::{Name, RData, RecordType};
use jiff::{SignedDuration, Timestamp};
use mock_registry::registry::IssuedReceipt;

use crate::checks::CheckId;
use crate::observe::{Observations, Source, Version};
use crate::record::Record;
use crate::report::{CheckResult, human};
use crate::scenario::Scenario;
use crate::world::operator::dnskey_of;

use super::{fail, pass};

fn fqdn(n: &str) -> String {
    if n.ends_with('.') {
        n.to_ascii_lowercase()
    } else {
        format!("{}.", n.to_ascii_lowercase())
    }
}

/// The version of an answer `source` served at `t`, if it served one.
fn served_at<'o>(
    obs: &'o Observations,
    source: &Source,
    qname: &str,
    qtype: RecordType,
    t: Timestamp,
) -> Option<&'o Version> {
    obs.versions().iter().find(|v| {
        v.source == *source
            && v.qname == qname
            && v.qtype == qtype
            && v.from <= t
            && v.until.is_none_or(|u| t < u)
    })
}

/// The host names of the parent's NS RRset for `domain` at `t`.
fn parent_ns_at(obs: &Observations, domain: &str, t: Timestamp) -> Vec<String> {
    let mut out: Vec<String> = served_at(obs, &Source::Parent, &fqdn(domain), RecordType::NS, t)
        .map(|v| {
            v.message
                .authorities
                .iter()
                .chain(v.message.answers.iter())
                .filter_map(|r| match &r.data {
                    RData::NS(n) => Some(n.0.to_ascii().to_ascii_lowercase()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.dedup();
    out
}

/// The observation facts one judgement needs.
struct Judge<'r> {
    obs: &'r Observations,
    /// Each registrar's operator name servers, for host → source.
    operators: Vec<Vec<String>>,
}

impl Judge<'_> {
    /// Whether every name server of the delegation (the parent's at `t`, and those the
    /// receipt lists) served every key validly at `t`; the first reason why not otherwise.
    fn everywhere(&self, receipt: &Receipt, keys: &[DNSKEY], t: Timestamp) -> Result<(), String> {
        let zone = fqdn(&receipt.name);
        let Ok(zone_name) = Name::from_ascii(&zone) else {
            return Err(format!("{zone} is not a name"));
        };
        let mut hosts: BTreeSet<String> = parent_ns_at(self.obs, &receipt.name, t)
            .into_iter()
            .collect();
        hosts.extend(receipt.ns.iter().map(|h| fqdn(&h.host)));
        if hosts.is_empty() {
            return Err("the parent served no delegation".into());
        }
        for host in &hosts {
            let sources = self.obs.sources_of_host(host, &self.operators);
            if sources.is_empty() {
                return Err(format!("{host} is no server the harness observed"));
            }
            for src in sources {
                let Some(v) = served_at(self.obs, &src, &zone, RecordType::DNSKEY, t) else {
                    return Err(format!("{host} served no DNSKEY answer"));
                };
                let c = check_dnskey_rrset(&zone_name, &v.message.answers, keys, t);
                if c.verdict != DnskeyVerdict::Published {
                    return Err(format!(
                        "{host} served a DNSKEY RRset of {} keys: {:?}",
                        c.keys, c.verdict
                    ));
                }
            }
        }
        Ok(())
    }

    /// The instants in `[from, to]` at which what the relevant servers serve can change.
    fn instants(&self, domain: &str, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
        let zone = fqdn(domain);
        let mut out: BTreeSet<Timestamp> = [from, to].into_iter().collect();
        for v in
            self.obs.versions().iter().filter(|v| {
                v.qname == zone && matches!(v.qtype, RecordType::DNSKEY | RecordType::NS)
            })
        {
            for t in [Some(v.from), v.until].into_iter().flatten() {
                if from <= t && t <= to {
                    out.insert(t);
                }
            }
        }
        out.into_iter().collect()
    }

    /// The stretches of `[from, to)` in which every name server served the keys validly.
    fn stretches(
        &self,
        receipt: &Receipt,
        keys: &[DNSKEY],
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<(Timestamp, Timestamp)> {
        let instants = self.instants(&receipt.name, from, to);
        let mut out = Vec::new();
        let mut open: Option<Timestamp> = None;
        for (i, t) in instants.iter().enumerate() {
            let yes = *t < to && self.everywhere(receipt, keys, *t).is_ok();
            match (open, yes) {
                (None, true) => open = Some(*t),
                (Some(s), false) => {
                    out.push((s, *t));
                    open = None;
                }
                _ => {}
            }
            if i + 1 == instants.len()
                && let Some(s) = open.take()
            {
                out.push((s, to));
            }
        }
        out
    }
}

/// `KEYRELAY-RECEIPT-TIMING`: every `published` and `notPublished` receipt agrees with the
/// observations (see the module documentation).
pub fn timing(scenario: &Scenario, record: &Record) -> Vec<CheckResult> {
    let Some(policy) = scenario.world.keyrelay_receipts else {
        return Vec::new();
    };
    let interval = policy.probe_interval;
    let judge = Judge {
        obs: &record.observations,
        operators: scenario
            .registrars
            .iter()
            .map(|r| r.operator.ns.clone())
            .collect(),
    };
    let start = scenario.world.start;
    let mut out = Vec::new();
    let mut judged = 0;
    for issued in &record.receipts {
        let r = &issued.receipt;
        if !matches!(r.state, State::Published | State::NotPublished) {
            continue;
        }
        judged += 1;
        let keys: Vec<DNSKEY> = r.keys.iter().filter_map(|k| dnskey_of(k).ok()).collect();
        if let Some(problem) = judge_one(&judge, issued, &keys, interval) {
            out.push(fail(
                CheckId::KeyRelayReceiptTiming,
                format!(
                    "the registry's {} receipt for {} at {} contradicts the name servers: {problem}",
                    r.state.as_str(),
                    r.name,
                    human(r.state_date.duration_since(start))
                ),
                Some(r.state_date),
                evidence(issued, &judge, &keys),
            ));
        }
    }
    if judged > 0 && out.is_empty() {
        out.push(pass(
            CheckId::KeyRelayReceiptTiming,
            format!("{judged} key relay receipt(s) agree with what every name server served"),
        ));
    }
    out
}

/// What is wrong with one receipt, if anything.
fn judge_one(
    judge: &Judge<'_>,
    issued: &IssuedReceipt,
    keys: &[DNSKEY],
    interval: SignedDuration,
) -> Option<String> {
    let r = &issued.receipt;
    match r.state {
        State::Published => {
            if let Err(why) = judge.everywhere(r, keys, r.state_date) {
                return Some(format!("published too early: {why}"));
            }
            // The stretch that holds at T: when did it start?
            let since = judge
                .stretches(r, keys, r.relay_date, r.state_date)
                .last()
                .filter(|(_, end)| *end == r.state_date)
                .map(|(s, _)| *s);
            match since {
                Some(s) if r.state_date.duration_since(s) > interval => Some(format!(
                    "published late: every name server served the keys since {}, more than \
                     one probe interval ({}) before the receipt",
                    s,
                    human(interval)
                )),
                _ => None,
            }
        }
        State::NotPublished => judge
            .stretches(r, keys, r.relay_date, r.until)
            .into_iter()
            .find(|(s, e)| e.duration_since(*s) >= interval)
            .map(|(s, e)| {
                format!(
                    "every name server served the keys validly from {s} to {e}, a probe \
                     interval ({}) or longer before the watch ended",
                    human(interval)
                )
            }),
        State::Delivered | State::Withdrawn => None,
    }
}

/// The receipt and what each of the delegation's servers served at its time.
fn evidence(issued: &IssuedReceipt, judge: &Judge<'_>, keys: &[DNSKEY]) -> Vec<String> {
    let r = &issued.receipt;
    let mut out = vec![format!(
        "receipt {} to {} (message {}): relayed {}, state date {}, watched until {}, hosts {}",
        r.state.as_str(),
        issued.to,
        issued.msg_id,
        r.relay_date,
        r.state_date,
        r.until,
        r.ns.iter()
            .map(|h| format!("{}={}", h.host, h.result.as_str()))
            .collect::<Vec<_>>()
            .join(" ")
    )];
    let tags: Vec<String> = keys
        .iter()
        .map(|k| dnssec::keys::key_tag(k).to_string())
        .collect();
    out.push(format!("relayed key tags: {}", tags.join(" ")));
    for host in parent_ns_at(judge.obs, &r.name, r.state_date) {
        for src in judge.obs.sources_of_host(&host, &judge.operators) {
            let served = served_at(
                judge.obs,
                &src,
                &fqdn(&r.name),
                RecordType::DNSKEY,
                r.state_date,
            );
            let desc = served.map_or("nothing".to_string(), |v| {
                let tags: Vec<String> = v
                    .message
                    .answers
                    .iter()
                    .filter_map(|rec| match &rec.data {
                        RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::DNSKEY(k)) => {
                            Some(dnssec::keys::key_tag(k).to_string())
                        }
                        _ => None,
                    })
                    .collect();
                format!("DNSKEY {} (since {})", tags.join(" "), v.from)
            });
            out.push(format!("{host} at the receipt's time: {desc}"));
        }
    }
    out
}

/// `KEYRELAY-RECEIPT-EXPECTED`: the registry sent the receipts the scenario expects, per
/// domain, in order.
pub fn expected(scenario: &Scenario, record: &Record) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for (di, want) in &scenario.expect.receipts {
        let d = &scenario.domains[*di].name;
        let got: Vec<&str> = record
            .receipts
            .iter()
            .filter(|r| r.receipt.name == *d)
            .map(|r| r.receipt.state.as_str())
            .collect();
        let message = format!(
            "{d}: the registry sent [{}], the scenario expects [{}]",
            got.join(", "),
            want.join(", ")
        );
        if got == want.iter().map(String::as_str).collect::<Vec<_>>() {
            out.push(pass(CheckId::KeyRelayReceiptExpected, message));
        } else {
            out.push(fail(
                CheckId::KeyRelayReceiptExpected,
                message,
                Some(record.end),
                record
                    .receipts
                    .iter()
                    .filter(|r| r.receipt.name == *d)
                    .map(|r| {
                        format!(
                            "{} at {} to {}",
                            r.receipt.state.as_str(),
                            r.receipt.state_date,
                            r.to
                        )
                    })
                    .collect(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

    use super::*;
    use dnssec::{KeyAlgorithm, SigningPolicy, Zone, ZoneKey, ZoneSigner, fixture_keys};
    use epp::TrId;
    use epp::receipt::{HostProbe, HostResult};
    use hickory_proto::op::{Message, OpCode};
    use hickory_proto::rr::rdata::{NS, SOA};
    use hickory_proto::rr::{RData as Rd, Record as Rr};

    const NS1: &str = "ns1.operator-a.example";
    const NS2: &str = "ns2.operator-a.example";

    fn t(mins: i64) -> Timestamp {
        "2026-03-02T09:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .checked_add(SignedDuration::from_mins(mins))
            .unwrap()
    }

    fn relayed() -> DNSKEY {
        fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 5).dnskey(256)
    }

    /// The losing operator's DNSKEY answer, with the relayed key or without, signed at `at`
    /// (valid for the policy's default three weeks).
    fn dnskey_answer(with_relayed: bool, at: Timestamp) -> Message {
        let origin = Name::from_ascii("example.nl.").unwrap();
        let soa = SOA::new(
            Name::from_ascii(format!("{NS1}.")).unwrap(),
            Name::from_ascii("hostmaster.example.nl.").unwrap(),
            1,
            3600,
            900,
            1_209_600,
            300,
        );
        let mut zone = Zone::new(origin, soa, 300).unwrap();
        zone.add_text(&format!("example.nl. 3600 NS {NS1}."))
            .unwrap();
        let mut keys = vec![
            ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 0)),
            ZoneKey::zsk(fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 1)),
        ];
        if with_relayed {
            keys.push(ZoneKey::foreign(relayed()));
        }
        let signed = ZoneSigner::new(keys, SigningPolicy::default())
            .unwrap()
            .sign(&zone, at)
            .unwrap();
        let set = signed.dnskeys().unwrap();
        let mut m = Message::response(0, OpCode::Query);
        m.add_answers(set.records().iter().chain(set.rrsigs()).cloned());
        m
    }

    fn parent_ns() -> Message {
        let owner = Name::from_ascii("example.nl.").unwrap();
        let mut m = Message::response(0, OpCode::Query);
        m.add_authorities([NS1, NS2].map(|h| {
            Rr::from_rdata(
                owner.clone(),
                7200,
                Rd::NS(NS(Name::from_ascii(format!("{h}.")).unwrap())),
            )
        }));
        m
    }

    fn version(
        source: Source,
        qtype: RecordType,
        from: i64,
        until: Option<i64>,
        m: Message,
    ) -> Version {
        Version {
            source,
            qname: "example.nl.".into(),
            qtype,
            from: t(from),
            until: until.map(t),
            message: m,
        }
    }

    /// The delegation to NS1 (the operator's primary) and NS2 (its secondary): the primary
    /// serves the relayed key from +30m, the secondary from +6h30m.
    fn observations() -> Observations {
        let addr: std::net::SocketAddr = "127.0.0.1:5300".parse().unwrap();
        Observations::for_tests(
            vec![
                version(Source::Parent, RecordType::NS, 0, None, parent_ns()),
                version(
                    Source::Operator(0),
                    RecordType::DNSKEY,
                    0,
                    Some(30),
                    dnskey_answer(false, t(0)),
                ),
                version(
                    Source::Operator(0),
                    RecordType::DNSKEY,
                    30,
                    None,
                    dnskey_answer(true, t(30)),
                ),
                version(
                    Source::Secondary(0),
                    RecordType::DNSKEY,
                    0,
                    Some(390),
                    dnskey_answer(false, t(0)),
                ),
                version(
                    Source::Secondary(0),
                    RecordType::DNSKEY,
                    390,
                    None,
                    dnskey_answer(true, t(30)),
                ),
            ],
            vec![(Source::Secondary(0), addr, vec![format!("{NS2}.")])],
        )
    }

    fn receipt(state: State, at: i64, until: i64) -> IssuedReceipt {
        IssuedReceipt {
            queued: t(at),
            to: "registrar-b".into(),
            msg_id: 7,
            watch: 1,
            receipt: Receipt {
                name: "example.nl".into(),
                relay_tr_id: TrId {
                    cl_trid: None,
                    sv_trid: "SV-1".into(),
                },
                relay_date: t(0),
                state,
                state_date: t(at),
                until: t(until),
                keys: vec![crate::world::operator::key_data(&relayed())],
                ns: [NS1, NS2]
                    .map(|h| HostProbe {
                        host: h.into(),
                        result: HostResult::Published,
                    })
                    .to_vec(),
                dnskey_ttl: Some(3600),
            },
        }
    }

    fn judge(issued: &IssuedReceipt, obs: &Observations) -> Option<String> {
        let judge = Judge {
            obs,
            operators: vec![vec![NS1.into(), NS2.into()]],
        };
        judge_one(&judge, issued, &[relayed()], SignedDuration::from_mins(15))
    }

    #[test]
    fn published_once_every_server_serves_the_key_is_true() {
        let obs = observations();
        assert_eq!(judge(&receipt(State::Published, 390, 10_080), &obs), None);
        // Within one probe interval of it: a registry probing every 15 minutes.
        assert_eq!(judge(&receipt(State::Published, 400, 10_080), &obs), None);
    }

    #[test]
    fn published_while_one_server_lags_is_too_early() {
        let obs = observations();
        let why = judge(&receipt(State::Published, 30, 10_080), &obs).unwrap();
        assert!(why.starts_with("published too early"), "{why}");
        assert!(why.contains(NS2), "{why}");
        // Before anybody serves the key.
        let why = judge(&receipt(State::Published, 10, 10_080), &obs).unwrap();
        assert!(why.contains("too early"), "{why}");
    }

    #[test]
    fn published_long_after_is_late() {
        let obs = observations();
        let why = judge(&receipt(State::Published, 480, 10_080), &obs).unwrap();
        assert!(why.starts_with("published late"), "{why}");
    }

    #[test]
    fn not_published_is_judged_over_the_whole_watch() {
        let obs = observations();
        // The watch ended before the secondary caught up: true.
        assert_eq!(judge(&receipt(State::NotPublished, 300, 300), &obs), None);
        // Shorter than a probe interval of publication everywhere before the end: a registry
        // probing on its interval may have missed it.
        assert_eq!(judge(&receipt(State::NotPublished, 400, 400), &obs), None);
        // A whole interval or more of it: not true.
        let why = judge(&receipt(State::NotPublished, 600, 600), &obs).unwrap();
        assert!(
            why.contains("every name server served the keys validly"),
            "{why}"
        );
    }

    #[test]
    fn a_host_nobody_observed_cannot_be_published() {
        let obs = observations();
        let mut r = receipt(State::Published, 390, 10_080);
        r.receipt.ns.push(HostProbe {
            host: "ns3.elsewhere.example".into(),
            result: HostResult::Published,
        });
        let why = judge(&r, &obs).unwrap();
        assert!(why.contains("ns3.elsewhere.example"), "{why}");
    }
}
