//! The zones the world's name server host names live in (`example.` for
//! `ns1.operator-a.example`), delegated from the root and served by an infra server.
//!
//! Two worlds need them:
//! - on port 53 ([`Addressing::Port53`](super::Addressing::Port53)), real resolvers find every
//!   operator by following delegations from the root: the zones are unsigned, each holding the
//!   addresses of the operators' hosts;
//! - with RFC 9615 signals (the registry takes them, or an operator gives them), in both
//!   addressings, the registry must validate `_dsboot.<child>._signal.<host>` from the root
//!   down (RFC 9615 §3.1: "each signaling zone MUST be signed and be validatable"). The zones
//!   are then signed with their own fixed keys ([`keys`]) and delegated from the root with a
//!   DS, and each one securely delegates every operator's own zone (`operator-a.example.`, the
//!   host name minus its first label) to that operator's name servers, with glue and the DS
//!   of the operator's key. The built-in operator serves and signs its zone itself
//!   ([`OperatorBackend::serve_ns_zone`](super::backend::OperatorBackend::serve_ns_zone)); an
//!   operator that cannot (real DNS software) keeps its addresses in the infra zone, unsigned
//!   below it, so its signals cannot validate.
//!
//! Hosts inside the TLD are skipped: the registry's own glue covers them.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use clock::SharedClock;
use dnssec::server::{DnsServer, DnsServerConfig};
use dnssec::{
    Delegation, DsDigest, KeyAlgorithm, RrSet, SignedZone, SigningPolicy, Zone, ZoneKey,
    ZoneSigner, fixture_keys,
};
use hickory_proto::dnssec::rdata::DS;
use hickory_proto::rr::rdata::{NS, SOA};
use hickory_proto::rr::{Name, RData};
use jiff::{SignedDuration, Timestamp};

use crate::error::{Context, HarnessError};
use crate::scenario::Scenario;

/// Whether the name servers' zones are signed and the operators serve their own: when the
/// registry takes RFC 9615 signals, or an operator gives them.
pub fn signed(s: &Scenario) -> bool {
    s.world.ds_automation.as_ref().is_some_and(|a| a.rfc9615)
        || s.registrars.iter().any(|r| r.operator.signals)
}

/// The signed infra zones' keys: Ed25519 fixtures 6 (KSK) and 7 (ZSK), which neither the
/// operators (fixtures 0 to 5, and 10 to 13 for their next KSKs) nor the registry (ECDSA 6 to
/// 9) use, so no key serves zones of different owners, and every run signs the same.
pub fn keys() -> Vec<ZoneKey> {
    vec![
        ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 6)),
        ZoneKey::zsk(fixture_keys::key(KeyAlgorithm::Ed25519, 7)),
    ]
}

/// One name server host of an operator and where it answers.
#[derive(Debug, Clone)]
struct NsHost {
    /// The registrar index whose operator it is.
    registrar: usize,
    name: Name,
    ip: IpAddr,
}

/// The infra zones of a world before they are served.
#[derive(Debug, Clone)]
pub struct InfraPlan {
    signed: bool,
    ttl: u32,
    zones: Vec<PlannedZone>,
}

/// One infra zone: a top label and the operators' hosts under it.
#[derive(Debug, Clone)]
struct PlannedZone {
    origin: Name,
    /// Its own name server (`infra-ns.<origin>`), answering at `ns_ip`.
    ns: Name,
    ns_ip: IpAddr,
    hosts: Vec<NsHost>,
}

/// An operator's own zone of its name servers' host names, in a signed world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorZone {
    /// The registrar index whose operator serves it.
    pub registrar: usize,
    /// Its apex (`operator-a.example.`).
    pub origin: Name,
    /// Its name servers (the operator's hosts in it) and their addresses.
    pub hosts: Vec<(Name, IpAddr)>,
}

impl InfraPlan {
    /// The infra zones of `s`: one per top label of the operators' name server hosts outside
    /// the TLD, served at `infra_ip`; `ip_of(registrar, host)` says where a host answers.
    pub fn new(
        s: &Scenario,
        signed: bool,
        infra_ip: IpAddr,
        ip_of: impl Fn(usize, &Name) -> IpAddr,
    ) -> Result<Self, HarnessError> {
        let tld = Name::from_ascii(format!("{}.", s.world.tld.trim_end_matches('.')))
            .context("the TLD's name")?;
        let mut zones: BTreeMap<Name, Vec<NsHost>> = BTreeMap::new();
        for (i, r) in s.registrars.iter().enumerate() {
            for host in &r.operator.ns {
                let host = Name::from_ascii(format!("{}.", host.trim_end_matches('.')))
                    .with_context(|| format!("name server {host}"))?
                    .to_lowercase();
                if tld.zone_of(&host) || host.num_labels() < 2 {
                    continue;
                }
                let ip = ip_of(i, &host);
                zones.entry(host.trim_to(1)).or_default().push(NsHost {
                    registrar: i,
                    name: host,
                    ip,
                });
            }
        }
        let zones = zones
            .into_iter()
            .map(|(origin, hosts)| {
                let ns = Name::from_ascii("infra-ns")
                    .and_then(|n| n.append_domain(&origin))
                    .context("infra name server")?;
                Ok(PlannedZone {
                    origin,
                    ns,
                    ns_ip: infra_ip,
                    hosts,
                })
            })
            .collect::<Result<_, HarnessError>>()?;
        Ok(Self {
            signed,
            ttl: s.world.ttl_ns,
            zones,
        })
    }

    /// Whether the zones are signed.
    pub fn is_signed(&self) -> bool {
        self.signed
    }

    /// The infra zones' own name servers (`infra-ns.example`, no trailing dot).
    pub fn ns_names(&self) -> Vec<String> {
        self.zones
            .iter()
            .map(|z| z.ns.to_ascii().trim_end_matches('.').to_string())
            .collect()
    }

    /// The root's delegations to the infra zones, with glue, and with the DS of their KSK
    /// when signed.
    pub fn root_delegations(&self) -> Result<Vec<Delegation>, HarnessError> {
        self.zones
            .iter()
            .map(|z| {
                let ds = if self.signed {
                    vec![
                        keys()[0]
                            .ds(&z.origin, DsDigest::Sha256)
                            .context("infra DS")?,
                    ]
                } else {
                    Vec::new()
                };
                Ok(Delegation {
                    name: z.origin.clone(),
                    ttl: self.ttl,
                    ns: vec![z.ns.clone()],
                    glue: vec![(z.ns.clone(), z.ns_ip)],
                    ds,
                })
            })
            .collect()
    }

    /// In a signed world, the operators' own zones: each host name minus its first label,
    /// strictly below an infra zone, with the hosts of its operator in it. Two operators
    /// with hosts in one such zone cannot both serve it, which is an error.
    pub fn operator_zones(&self) -> Result<Vec<OperatorZone>, HarnessError> {
        if !self.signed {
            return Ok(Vec::new());
        }
        let mut out: Vec<OperatorZone> = Vec::new();
        for z in &self.zones {
            for h in &z.hosts {
                let origin = h.name.base_name();
                if origin.num_labels() <= z.origin.num_labels() {
                    continue;
                }
                match out.iter_mut().find(|o| o.origin == origin) {
                    Some(o) if o.registrar != h.registrar => {
                        return Err(HarnessError::failed(format!(
                            "the name servers of two operators are in {origin}: with RFC 9615 \
                             signals each operator serves and signs the zone of its own name \
                             servers, so give them names in zones of their own"
                        )));
                    }
                    Some(o) => o.hosts.push((h.name.clone(), h.ip)),
                    None => out.push(OperatorZone {
                        registrar: h.registrar,
                        origin,
                        hosts: vec![(h.name.clone(), h.ip)],
                    }),
                }
            }
        }
        Ok(out)
    }

    /// Builds the zones, signs them (when signed) at `now` with `policy`, delegating every
    /// operator zone of `operator_ds` securely (the others' hosts get their addresses here),
    /// and serves them on a new server at `at`.
    pub async fn start(
        self,
        at: SocketAddr,
        clock: SharedClock,
        operator_ds: &BTreeMap<Name, DS>,
        policy: SigningPolicy,
        now: Timestamp,
    ) -> Result<Infra, HarnessError> {
        let server = DnsServer::start(at, clock, DnsServerConfig::default())
            .await
            .context("the name servers' zones' DNS server")?;
        let operator_zones = self.operator_zones()?;
        let mut served = Vec::new();
        for z in &self.zones {
            let zone = self.zone(z, &operator_zones, operator_ds)?;
            let signer = if self.signed {
                ZoneSigner::new(keys(), policy.clone()).context("infra zone keys")?
            } else {
                ZoneSigner::unsigned(SigningPolicy::default())
            };
            let snapshot = Arc::new(signer.sign(&zone, now).context("infra zone")?);
            server.set_zone(snapshot.clone());
            served.push(Served {
                zone,
                signer,
                snapshot,
            });
        }
        Ok(Infra {
            server,
            zones: served,
        })
    }

    /// The unsigned zone of `z`: SOA, NS, its name server's address, the delegations of the
    /// operator zones with a DS, and the addresses of every other host.
    fn zone(
        &self,
        z: &PlannedZone,
        operator_zones: &[OperatorZone],
        operator_ds: &BTreeMap<Name, DS>,
    ) -> Result<Zone, HarnessError> {
        let (origin, ttl) = (&z.origin, self.ttl);
        let rname = Name::from_ascii("hostmaster")
            .and_then(|n| n.append_domain(origin))
            .context("infra zone SOA")?;
        let soa = SOA::new(z.ns.clone(), rname, 1, 3600, 600, 2_419_200, ttl);
        let mut zone = Zone::new(origin.clone(), soa, ttl).context("infra zone")?;
        zone.set_rrset(
            RrSet::new(origin.clone(), ttl, [RData::NS(NS(z.ns.clone()))]).context("infra NS")?,
        )
        .context("infra NS")?;
        let delegated: Vec<&OperatorZone> = operator_zones
            .iter()
            .filter(|o| origin.zone_of(&o.origin) && operator_ds.contains_key(&o.origin))
            .collect();
        for o in &delegated {
            zone.set_delegation(&Delegation {
                name: o.origin.clone(),
                ttl,
                ns: o.hosts.iter().map(|(h, _)| h.clone()).collect(),
                glue: o.hosts.clone(),
                ds: operator_ds.get(&o.origin).cloned().into_iter().collect(),
            })
            .with_context(|| format!("the delegation of {}", o.origin))?;
        }
        let mut by_host: BTreeMap<Name, Vec<RData>> = BTreeMap::new();
        let own = std::iter::once((z.ns.clone(), z.ns_ip));
        let hosts = z
            .hosts
            .iter()
            .filter(|h| !delegated.iter().any(|o| o.origin.zone_of(&h.name)))
            .map(|h| (h.name.clone(), h.ip));
        for (host, ip) in own.chain(hosts) {
            let data = match ip {
                IpAddr::V4(v4) => RData::A(v4.into()),
                IpAddr::V6(v6) => RData::AAAA(v6.into()),
            };
            let at = by_host.entry(host).or_default();
            if !at.contains(&data) {
                at.push(data);
            }
        }
        for (host, data) in by_host {
            zone.set_rrset(RrSet::new(host, ttl, data).context("infra address")?)
                .context("infra address")?;
        }
        Ok(zone)
    }
}

/// One served infra zone: its content, signer and what the server has.
#[derive(Debug)]
struct Served {
    zone: Zone,
    signer: ZoneSigner,
    snapshot: Arc<SignedZone>,
}

/// The running infra: its server and zones.
#[derive(Debug)]
pub struct Infra {
    server: DnsServer,
    zones: Vec<Served>,
}

impl Infra {
    /// Lets its server answer this process's queries without sockets.
    pub fn answer_in_process(&self) {
        self.server.answer_in_process(true);
    }

    /// Where it answers.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Its server (history, for tests).
    pub fn server(&self) -> &DnsServer {
        &self.server
    }

    /// Re-signs a zone whose signatures come close to expiring; returns whether anything
    /// served changed.
    pub fn publish(&mut self, now: Timestamp) -> Result<bool, HarnessError> {
        let mut changed = false;
        for z in &mut self.zones {
            if z.signer.needs_refresh(&z.snapshot, now) {
                z.snapshot = Arc::new(z.signer.sign(&z.zone, now).context("infra zone")?);
                self.server.set_zone(z.snapshot.clone());
                changed = true;
            }
        }
        Ok(changed)
    }

    /// When a signature needs refreshing next (as the operators do: three days before the
    /// earliest expiry).
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.zones
            .iter()
            .filter_map(|z| z.snapshot.earliest_expiration())
            .filter_map(|e| e.checked_sub(SignedDuration::from_hours(24 * 3)).ok())
            .min()
    }
}
