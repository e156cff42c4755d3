//! The observation timeline: what each DNS source served, when, recorded by querying the
//! servers over DNS (so it works for any operator's server, including ones the project did
//! not write).
//!
//! For every domain the parent is asked for DS and NS, and every operator for DNSKEY, SOA,
//! NS, the scenario's checked names and a name that does not exist. An answer that differs
//! from the previous one of the same source and question starts a new *version*; a version
//! is served from the instant it was first seen until the instant another one replaced it.
//!
//! A server of this process says what it answers a name from
//! ([`dnssec::served_version`]): while that stays the same, so do its answers, and the
//! question is not asked again (so a change costs the questions of the zones it touched,
//! not every question of every server). Every other server (a registrar's own, real
//! software) is asked every question after every change.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use dnssec::query::{QueryOptions, query_with};
use dnssec::server::{ServedVersion, Transport, served_version};
use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::Message;
use hickory_proto::rr::{RData, RecordType};
use hickory_proto::serialize::binary::BinEncodable;
use jiff::Timestamp;

use crate::error::{Context, HarnessError};
use crate::world::World;

/// Who served it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Source {
    /// The registry's root/TLD server.
    Parent,
    /// A registrar's operator (by registrar index).
    Operator(usize),
    /// A server a registrar process runs itself (registrar index, server number), in place
    /// of its hosted operator.
    Own(usize, usize),
    /// The lagging second server of a registrar's operator (by registrar index), for the
    /// host names the scenario's `secondary` gives it.
    Secondary(usize),
}

impl Source {
    /// The registrar whose DNS this is, if any.
    pub fn registrar(&self) -> Option<usize> {
        match self {
            Self::Parent => None,
            Self::Operator(i) | Self::Own(i, _) | Self::Secondary(i) => Some(*i),
        }
    }
}

/// One version of one answer.
#[derive(Debug, Clone)]
pub struct Version {
    /// Who served it.
    pub source: Source,
    /// Question name (absolute, with trailing dot).
    pub qname: String,
    /// Question type.
    pub qtype: RecordType,
    /// Served from.
    pub from: Timestamp,
    /// Served until (exclusive); None while still served.
    pub until: Option<Timestamp>,
    /// The answer.
    pub message: Message,
}

/// What the servers served over a run: every version of every answer, per source. The
/// recorded data the checks judge; [`Observer`] fills it.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    versions: Vec<Version>,
    /// Servers registrar processes run themselves: (source, address, host names).
    own: Vec<(Source, SocketAddr, Vec<String>)>,
    /// Operators' lagging second servers: (source, address, host names, absolute).
    secondaries: Vec<(Source, SocketAddr, Vec<String>)>,
    /// The registrars' labels, by index.
    labels: Vec<String>,
    observations: u64,
}

/// Asks the sources their questions after each change (those whose answers may have changed)
/// and records what changed.
#[derive(Debug)]
pub struct Observer {
    sources: Vec<(Source, SocketAddr)>,
    /// Questions per source kind.
    parent_questions: Vec<(String, RecordType)>,
    operator_questions: Vec<(String, RecordType)>,
    /// Index of the current version per (source, qname, qtype).
    current: BTreeMap<(Source, String, RecordType), usize>,
    /// For servers of this process: what each question was last answered from. A question
    /// whose server still answers it from the same snapshots and faults is not asked again:
    /// its answer is the one recorded (so a change to one zone costs that zone's questions,
    /// not every question of every server).
    answered_from: BTreeMap<(Source, String, RecordType), ServedVersion>,
    recorded: Observations,
}

/// The name the observer (and the live check) asks to see a domain's denial: one that cannot
/// exist, with the world's seed in it (absolute, with the trailing dot).
pub(crate) fn negative_name(seed: u64, domain: &str) -> String {
    format!("does-not-exist-{seed}.{}", fqdn(domain))
}

fn fqdn(n: &str) -> String {
    if n.ends_with('.') {
        n.to_string()
    } else {
        format!("{n}.")
    }
}

impl Observer {
    /// An observer for the world's domains and servers.
    pub fn new(world: &World) -> Self {
        let s = &world.scenario;
        let mut sources = vec![(Source::Parent, world.parent.local_addr())];
        let mut secondaries = Vec::new();
        for (i, op) in world.operators.iter().enumerate() {
            if let Ok(op) = op.try_lock() {
                for (k, (addr, hosts)) in op.servers().into_iter().enumerate() {
                    if k == 0 {
                        sources.push((Source::Operator(i), addr));
                    } else {
                        sources.push((Source::Secondary(i), addr));
                        secondaries.push((
                            Source::Secondary(i),
                            addr,
                            hosts.iter().map(|h| fqdn(h)).collect(),
                        ));
                    }
                }
            }
        }
        // The chain above the domains: root DNSKEY, the TLD's DS and DNSKEY.
        let mut parent_questions = vec![
            (".".to_string(), RecordType::DNSKEY),
            (fqdn(&s.world.tld), RecordType::DS),
            (fqdn(&s.world.tld), RecordType::DNSKEY),
        ];
        let mut operator_questions = Vec::new();
        for d in &s.domains {
            parent_questions.push((fqdn(&d.name), RecordType::DS));
            parent_questions.push((fqdn(&d.name), RecordType::NS));
            for t in [RecordType::DNSKEY, RecordType::SOA, RecordType::NS] {
                operator_questions.push((fqdn(&d.name), t));
            }
            for (n, t) in &d.checks {
                if let Ok(rt) = t.parse::<RecordType>()
                    && !(fqdn(n) == fqdn(&d.name)
                        && matches!(rt, RecordType::DNSKEY | RecordType::SOA | RecordType::NS))
                {
                    operator_questions.push((fqdn(n), rt));
                }
            }
            operator_questions.push((negative_name(s.world.seed, &d.name), RecordType::A));
        }
        Self {
            sources,
            parent_questions,
            operator_questions,
            current: BTreeMap::new(),
            answered_from: BTreeMap::new(),
            recorded: Observations {
                labels: s.registrars.iter().map(|r| r.label.clone()).collect(),
                secondaries,
                ..Observations::default()
            },
        }
    }

    /// Registrar `i` answers from its own servers (host name → address), not from its hosted
    /// operator: each distinct address becomes a source of its own, reached through the host
    /// names announced for it.
    pub fn use_own_servers(&mut self, i: usize, servers: &BTreeMap<String, SocketAddr>) {
        self.sources.retain(|(s, _)| s.registrar() != Some(i));
        self.recorded
            .secondaries
            .retain(|(s, _, _)| s.registrar() != Some(i));
        let mut by_addr: BTreeMap<SocketAddr, Vec<String>> = BTreeMap::new();
        for (host, addr) in servers {
            by_addr.entry(*addr).or_default().push(fqdn(host));
        }
        for (k, (addr, hosts)) in by_addr.into_iter().enumerate() {
            let src = Source::Own(i, k);
            self.sources.push((src.clone(), addr));
            self.recorded.own.push((src, addr, hosts));
        }
    }

    /// What was recorded so far.
    pub fn recorded(&self) -> &Observations {
        &self.recorded
    }

    /// Ends the observation: what was recorded.
    pub fn finish(self) -> Observations {
        self.recorded
    }

    /// Whether some DNS the harness does not control is observed (so every round must look).
    pub fn has_own_servers(&self) -> bool {
        !self.recorded.own.is_empty()
    }

    /// Asks every source every question whose answer may have changed at `now`; returns
    /// whether any answer changed.
    pub async fn observe(&mut self, now: Timestamp) -> Result<bool, HarnessError> {
        self.recorded.observations += 1;
        let mut changed = false;
        let options = QueryOptions {
            transport: Transport::Udp,
            dnssec_ok: true,
            tcp_on_truncation: true,
            ..QueryOptions::default()
        };
        for (source, addr) in self.sources.clone() {
            let questions = match source {
                Source::Parent => self.parent_questions.clone(),
                Source::Operator(_) | Source::Own(..) | Source::Secondary(_) => {
                    self.operator_questions.clone()
                }
            };
            for (qname, qtype) in questions {
                let name = hickory_proto::rr::Name::from_ascii(&qname)
                    .with_context(|| format!("observing {qname}"))?;
                let key = (source.clone(), qname.clone(), qtype);
                // Read before asking: should the server change meanwhile (wall clock), the
                // next round sees a version it has not recorded and asks again.
                let from = served_version(addr, &name);
                if from.is_some() && self.answered_from.get(&key) == from.as_ref() {
                    continue;
                }
                // A server that does not answer (stopped, or a fault) serves nothing.
                let answer = query_with(addr, &name, qtype, &options).await.ok();
                // No answer is asked again next time: a timeout (a busy machine, a lost
                // datagram) says nothing about what the server serves.
                match from {
                    Some(v) if answer.is_some() => self.answered_from.insert(key.clone(), v),
                    _ => self.answered_from.remove(&key),
                };
                let same = match (self.current.get(&key), &answer) {
                    (Some(i), Some(m)) => same_answer(&self.recorded.versions[*i].message, m),
                    (None, None) => true,
                    _ => false,
                };
                if same {
                    continue;
                }
                if let Some(i) = self.current.remove(&key) {
                    self.recorded.versions[i].until = Some(now);
                }
                if let Some(message) = answer {
                    self.current.insert(key, self.recorded.versions.len());
                    self.recorded.versions.push(Version {
                        source: source.clone(),
                        qname,
                        qtype,
                        from: now,
                        until: None,
                        message,
                    });
                }
                changed = true;
            }
        }
        Ok(changed)
    }
}

impl Observations {
    /// The servers registrar processes run themselves: (source, address, host names).
    pub fn own_servers(&self) -> &[(Source, SocketAddr, Vec<String>)] {
        &self.own
    }

    /// Observations made up by a test: these versions, these secondaries.
    #[cfg(test)]
    pub(crate) fn for_tests(
        versions: Vec<Version>,
        secondaries: Vec<(Source, SocketAddr, Vec<String>)>,
    ) -> Self {
        Self {
            versions,
            secondaries,
            ..Self::default()
        }
    }

    /// Operators' lagging second servers: (source, address, absolute host names).
    pub fn secondaries(&self) -> &[(Source, SocketAddr, Vec<String>)] {
        &self.secondaries
    }

    /// Every source that answers for `host` (absolute or not), as the world was set up: the
    /// operator whose name server it is (its secondary, if the host is on it), or a
    /// registrar's own server.
    pub fn sources_of_host(&self, host: &str, operators: &[Vec<String>]) -> Vec<Source> {
        let h = fqdn(&host.to_ascii_lowercase());
        let mut out: Vec<Source> = self
            .own
            .iter()
            .chain(self.secondaries.iter())
            .filter(|(_, _, hosts)| hosts.contains(&h))
            .map(|(s, _, _)| s.clone())
            .collect();
        if out.is_empty() {
            out.extend(
                operators
                    .iter()
                    .enumerate()
                    .filter(|(i, ns)| !self.runs_own_servers(*i) && ns.iter().any(|n| fqdn(n) == h))
                    .map(|(i, _)| Source::Operator(i)),
            );
        }
        out
    }

    /// Whether registrar `registrar` answers from servers of its own, not the hosted operator.
    pub fn runs_own_servers(&self, registrar: usize) -> bool {
        self.own
            .iter()
            .any(|(s, _, _)| s.registrar() == Some(registrar))
    }

    /// The DNSKEYs a registrar's own servers serve for `domain` now (last observation); None
    /// when it has no servers of its own.
    pub fn own_dnskeys(
        &self,
        registrar: usize,
        domain: &str,
    ) -> Option<Vec<hickory_proto::dnssec::rdata::DNSKEY>> {
        if !self.runs_own_servers(registrar) {
            return None;
        }
        Some(
            self.served_dnskeys(
                |s| matches!(s, Source::Own(i, _) if *i == registrar),
                domain,
                true,
            )
            .into_iter()
            .map(|(k, _)| k)
            .collect(),
        )
    }

    /// The DNSKEYs served for `domain` by sources `pick` selects, each with when it was first
    /// served (only those served now, with `current`).
    pub fn served_dnskeys(
        &self,
        pick: impl Fn(&Source) -> bool,
        domain: &str,
        current: bool,
    ) -> Vec<(hickory_proto::dnssec::rdata::DNSKEY, Timestamp)> {
        let q = fqdn(domain);
        let mut out: Vec<(hickory_proto::dnssec::rdata::DNSKEY, Timestamp)> = Vec::new();
        for v in &self.versions {
            if v.qtype != RecordType::DNSKEY || v.qname != q || !pick(&v.source) {
                continue;
            }
            if current && v.until.is_some() {
                continue;
            }
            for r in &v.message.answers {
                if let RData::DNSSEC(DNSSECRData::DNSKEY(k)) = &r.data {
                    match out.iter_mut().find(|(x, _)| x == k) {
                        Some((_, t)) => *t = (*t).min(v.from),
                        None => out.push((k.clone(), v.from)),
                    }
                }
            }
        }
        out
    }

    /// The registrars' labels, by index.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// What `source` served for `qname`/`qtype` at the end of the observation (None: nothing,
    /// or it stopped answering).
    pub fn current(&self, source: &Source, qname: &str, qtype: RecordType) -> Option<&Version> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.source == *source && v.qname == qname && v.qtype == qtype)
            .filter(|v| v.until.is_none())
    }

    /// Every version recorded.
    pub fn versions(&self) -> &[Version] {
        &self.versions
    }

    /// How often the servers were asked.
    pub fn observations(&self) -> u64 {
        self.observations
    }

    /// The largest TTL seen in any answer.
    pub fn max_ttl(&self) -> u32 {
        self.versions
            .iter()
            .flat_map(|v| v.message.answers.iter().chain(v.message.authorities.iter()))
            .map(|r| r.ttl)
            .max()
            .unwrap_or(0)
    }
}

/// Two answers are the same version when their rcode and records are equal (the ID differs
/// per query, and the order of records does not matter).
///
/// Records are compared in their wire form, TTL and the case of names included (the
/// presentation form says the same, but writing it, signatures in base64, was most of an
/// observation's cost); a record that cannot be encoded compares by its presentation form.
fn same_answer(a: &Message, b: &Message) -> bool {
    let norm = |m: &Message| {
        let mut v: Vec<Vec<u8>> = m
            .answers
            .iter()
            .chain(m.authorities.iter())
            .chain(
                m.additionals
                    .iter()
                    .filter(|r| r.record_type() != RecordType::OPT),
            )
            .map(|r| r.to_bytes().unwrap_or_else(|_| r.to_string().into_bytes()))
            .collect();
        v.sort_unstable();
        v
    };
    a.metadata.response_code == b.metadata.response_code
        && a.metadata.authoritative == b.metadata.authoritative
        && norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::{Name, Record, rdata::A};

    fn answer(records: &[(&str, u32, [u8; 4])]) -> Message {
        let mut m = Message::query();
        for (name, ttl, ip) in records {
            m.answers.push(Record::from_rdata(
                Name::from_ascii(name).unwrap(),
                *ttl,
                RData::A(A::from(std::net::Ipv4Addr::from(*ip))),
            ));
        }
        m
    }

    #[test]
    fn same_answer_ignores_order_but_not_ttl_or_case() {
        let a = answer(&[("a.nl.", 60, [192, 0, 2, 1]), ("a.nl.", 60, [192, 0, 2, 2])]);
        let reordered = answer(&[("a.nl.", 60, [192, 0, 2, 2]), ("a.nl.", 60, [192, 0, 2, 1])]);
        assert!(same_answer(&a, &reordered));
        let ttl = answer(&[("a.nl.", 61, [192, 0, 2, 1]), ("a.nl.", 60, [192, 0, 2, 2])]);
        assert!(!same_answer(&a, &ttl));
        let case = answer(&[("A.nl.", 60, [192, 0, 2, 1]), ("a.nl.", 60, [192, 0, 2, 2])]);
        assert!(!same_answer(&a, &case));
        let fewer = answer(&[("a.nl.", 60, [192, 0, 2, 1])]);
        assert!(!same_answer(&a, &fewer));
        let mut nx = a.clone();
        nx.metadata.response_code = hickory_proto::op::ResponseCode::NXDomain;
        assert!(!same_answer(&a, &nx));
    }
}
