//! A DNS operator: the keys, zones and authoritative server behind one registrar.
//!
//! The operator keeps, per hosted domain, the unsigned zone content, its own keys (KSK + ZSK,
//! or a CSK) and the foreign keys it publishes for another operator (RFC 8901 model 2,
//! PowerDNS `direct-dnskey`), signs with the DNSSEC engine at the virtual time and serves the
//! snapshots from its own server. Registrars (the reference registrar directly, a subject
//! through the adapter protocol) change zones through this API; the runner calls
//! [`Operator::publish`] after each round so changes reach the server at the time they happen.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use clock::SharedClock;
use dnssec::server::{DnsServer, DnsServerConfig, Faults};
use dnssec::{
    Denial, KeyAlgorithm, KeyPair, Nsec3Config, RrSet, SignedZone, SigningFaults, SigningPolicy,
    Zone, ZoneKey, ZoneSigner, fixture_keys, keys,
};
use epp::secdns::KeyData;
use hickory_proto::dnssec::PublicKey;
use hickory_proto::dnssec::rdata::{CDNSKEY, DNSKEY, DNSSECRData};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, RecordType};
use jiff::{SignedDuration, Timestamp};

use crate::records::build_zone;
use crate::scenario::{DenialKind, KeyScheme};
use crate::scenario::{OperatorFault, OperatorSpec};

pub use super::backend::ForeignKey;
use super::backend::{BoxFuture, OperatorBackend};
pub use crate::error::OperatorError;

#[derive(Debug)]
struct HostedZone {
    /// The operator's own zone of its name servers' host names (RFC 9615 signals live there),
    /// not a customer's domain: never listed as hosted.
    own: bool,
    zone: Zone,
    algorithm: u8,
    signed: bool,
    foreign: Vec<ForeignKey>,
    /// The next KSK of a rollover: published and signing the DNSKEY RRset beside the current
    /// one until that is retired.
    next_ksk: Option<KeyPair>,
    /// Own keys taken out of the DNSKEY RRset (a rolled-over KSK).
    retired: Vec<DNSKEY>,
    snapshot: Option<Arc<SignedZone>>,
    signer: Option<ZoneSigner>,
    dirty: bool,
}

/// A change the primary served at its instant, not yet passed on: the zone's new snapshot, or
/// `None` when the zone was removed.
type Pending = (Timestamp, Option<Arc<SignedZone>>);

/// A second server for some of an operator's name servers, serving what the first served
/// `lag` earlier: a secondary behind on zone transfers (the scenario's `secondary`).
#[derive(Debug)]
struct Secondary {
    server: DnsServer,
    /// The host names it answers for.
    ns: Vec<String>,
    lag: SignedDuration,
    /// What the primary started serving and the secondary not yet, per domain, oldest first:
    /// a snapshot, or `None` for a removed zone.
    pending: BTreeMap<String, VecDeque<Pending>>,
    /// Zones removed since the last publication (their removal is passed on with its time).
    removed: Vec<String>,
    /// The zones it serves or will serve: a zone new to it arrives at once (the first
    /// transfer, before anything is delegated to it); only later changes lag.
    known: std::collections::BTreeSet<String>,
}

impl Secondary {
    /// Passes on to the secondary's server what the primary served `lag` ago or earlier;
    /// returns whether it now serves something else.
    fn catch_up(&mut self, now: Timestamp) -> bool {
        let mut changed = false;
        for (domain, queue) in &mut self.pending {
            let mut latest = None;
            while queue
                .front()
                .is_some_and(|(t, _)| t.checked_add(self.lag).is_ok_and(|due| due <= now))
            {
                latest = queue.pop_front().map(|(_, z)| z);
            }
            match latest {
                Some(Some(zone)) => {
                    self.server.set_zone(zone);
                    changed = true;
                }
                Some(None) => {
                    self.known.remove(domain);
                    if let Ok(origin) = Name::from_ascii(format!("{domain}.")) {
                        changed |= self.server.remove_zone(&origin);
                    }
                }
                None => {}
            }
        }
        self.pending.retain(|_, q| !q.is_empty());
        changed
    }

    /// When the next pending change falls due.
    fn next_deadline(&self) -> Option<Timestamp> {
        self.pending
            .values()
            .filter_map(|q| q.front())
            .filter_map(|(t, _)| t.checked_add(self.lag).ok())
            .min()
    }
}

/// One operator.
#[derive(Debug)]
pub struct Operator {
    label: String,
    spec: OperatorSpec,
    /// Index among the world's operators, to pick distinct fixture keys.
    index: usize,
    keys: BTreeMap<u8, (KeyPair, Option<KeyPair>)>,
    zones: BTreeMap<String, HostedZone>,
    server: DnsServer,
    fault: OperatorFault,
    /// Wall-clock instant(s) signatures must also cover (real validators read the wall clock).
    also_valid_at: Vec<Timestamp>,
    validity: SignedDuration,
    seed: u64,
    /// A change the server already serves that no publication reports (a zone removed), so
    /// the next [`publish`](Self::publish) says "changed" and the runner observes at once.
    removed: bool,
    /// The lagging second server, if the scenario gives the operator one.
    secondary: Option<Secondary>,
}

impl Operator {
    /// Starts an operator with its server on 127.0.0.1 (ephemeral ports).
    pub async fn start(
        label: &str,
        spec: OperatorSpec,
        index: usize,
        clock: SharedClock,
        also_valid_at: Vec<Timestamp>,
        validity: SignedDuration,
        seed: u64,
    ) -> Result<Self, OperatorError> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_at(
            any,
            any,
            label,
            spec,
            index,
            clock,
            also_valid_at,
            validity,
            seed,
        )
        .await
    }

    /// Starts an operator with its server on `addr` and its secondary, if it has one, on
    /// `secondary_addr` (UDP and TCP): a world whose servers each have their own address on
    /// port 53, for real recursive resolvers.
    #[allow(
        clippy::too_many_arguments,
        reason = "start's arguments and the address"
    )]
    pub async fn start_at(
        addr: SocketAddr,
        secondary_addr: SocketAddr,
        label: &str,
        spec: OperatorSpec,
        index: usize,
        clock: SharedClock,
        also_valid_at: Vec<Timestamp>,
        validity: SignedDuration,
        seed: u64,
    ) -> Result<Self, OperatorError> {
        let server = DnsServer::start(addr, clock.clone(), DnsServerConfig::default())
            .await
            .map_err(|e| OperatorError::Server(label.into(), e))?;
        let secondary = match &spec.secondary {
            None => None,
            Some(sec) => Some(Secondary {
                server: DnsServer::start(secondary_addr, clock, DnsServerConfig::default())
                    .await
                    .map_err(|e| OperatorError::Server(format!("{label} (secondary)"), e))?,
                ns: sec.ns.clone(),
                lag: sec.lag,
                pending: BTreeMap::new(),
                removed: Vec::new(),
                known: std::collections::BTreeSet::new(),
            }),
        };
        Ok(Self {
            label: label.into(),
            spec,
            index,
            keys: BTreeMap::new(),
            zones: BTreeMap::new(),
            server,
            fault: OperatorFault::None,
            also_valid_at,
            validity,
            seed,
            removed: false,
            secondary,
        })
    }

    /// The registrar label this operator belongs to.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Its setup.
    pub fn spec(&self) -> &OperatorSpec {
        &self.spec
    }

    /// Where its server answers (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Its name server host names.
    pub fn ns_names(&self) -> &[String] {
        &self.spec.ns
    }

    /// Each server with the host names it answers for: the primary first, then the lagging
    /// secondary if there is one.
    pub fn servers(&self) -> Vec<(SocketAddr, Vec<String>)> {
        let on_secondary = |n: &String| self.secondary.as_ref().is_some_and(|s| s.ns.contains(n));
        let mut out = vec![(
            self.addr(),
            self.spec
                .ns
                .iter()
                .filter(|n| !on_secondary(n))
                .cloned()
                .collect(),
        )];
        if let Some(s) = &self.secondary {
            out.push((s.server.local_addr(), s.ns.clone()));
        }
        out
    }

    /// The server (history, for tests and evidence).
    pub fn server(&self) -> &DnsServer {
        &self.server
    }

    /// Domains it hosts (not its own name servers' zones).
    pub fn hosted(&self) -> Vec<String> {
        self.zones
            .iter()
            .filter(|(_, z)| !z.own)
            .map(|(d, _)| d.clone())
            .collect()
    }

    fn err(&self, what: impl std::fmt::Display) -> OperatorError {
        OperatorError::Dns {
            operator: self.label.clone(),
            what: what.to_string(),
        }
    }

    fn key_pairs(&mut self, algorithm: u8) -> Result<(KeyPair, Option<KeyPair>), OperatorError> {
        if let Some(k) = self.keys.get(&algorithm) {
            return Ok(k.clone());
        }
        let Some(alg) = key_algorithm(algorithm) else {
            return Err(self.err(format!("algorithm {algorithm} is not supported")));
        };
        // Fixture keys keep runs reproducible (and spare RSA generation); each operator gets
        // its own pair. Beyond the fixtures, fresh keys.
        let pick = |n: usize| -> Result<KeyPair, OperatorError> {
            // Fixtures 0..6 are the operators'; 6.. are the registry's.
            if n < 6 {
                Ok(fixture_keys::key(alg, n))
            } else {
                KeyPair::generate(alg).map_err(|e| OperatorError::Dns {
                    operator: self.label.clone(),
                    what: e.to_string(),
                })
            }
        };
        let first = pick(self.index * 2)?;
        let second = match self.spec.keys {
            KeyScheme::KskZsk => Some(pick(self.index * 2 + 1)?),
            KeyScheme::Csk => None,
        };
        self.keys.insert(algorithm, (first.clone(), second.clone()));
        Ok((first, second))
    }

    /// This operator's own keys for `domain` (KSK then ZSK, or the CSK).
    pub fn own_keys(&mut self, domain: &str) -> Result<Vec<ZoneKey>, OperatorError> {
        let algorithm = self
            .zones
            .get(domain)
            .map(|z| z.algorithm)
            .ok_or_else(|| OperatorError::NoZone(self.label.clone(), domain.into()))?;
        let (first, second) = self.key_pairs(algorithm)?;
        let mut keys = match second {
            Some(zsk) => vec![ZoneKey::ksk(first), ZoneKey::zsk(zsk)],
            None => vec![ZoneKey::csk(first)],
        };
        let z = &self.zones[domain];
        if let Some(next) = &z.next_ksk {
            keys.push(ZoneKey::ksk(next.clone()));
        }
        keys.retain(|k| {
            !z.retired
                .iter()
                .any(|r| dnssec::verify::same_key(r, k.dnskey()))
        });
        Ok(keys)
    }

    /// The key that signs the DNSKEY set (KSK or CSK), as EPP key data: what goes to the
    /// registry as the DS source. During a KSK rollover, the current one (the next once the
    /// current is retired).
    pub fn ksk_key_data(&mut self, domain: &str) -> Result<KeyData, OperatorError> {
        let k = self
            .own_keys(domain)?
            .into_iter()
            .find(|k| k.role().signs_dnskey())
            .ok_or_else(|| self.err(format!("{domain} has no key that signs its DNSKEY RRset")))?;
        Ok(key_data(k.dnskey()))
    }

    /// The keys that sign zone data (ZSK, or the CSK), as EPP key data: what goes to the other
    /// operator by key relay.
    pub fn zsk_key_data(&mut self, domain: &str) -> Result<Vec<KeyData>, OperatorError> {
        let keys = self.own_keys(domain)?;
        Ok(keys
            .iter()
            .filter(|k| k.role().signs_zone_data())
            .map(|k| key_data(k.dnskey()))
            .collect())
    }

    /// Hosts `domain` with `records` (relative presentation lines), signed or not, with the
    /// given algorithm (the operator's own by default).
    pub fn create_zone(
        &mut self,
        domain: &str,
        records: &[String],
        signed: bool,
        algorithm: Option<u8>,
    ) -> Result<(), OperatorError> {
        let zone = build_zone(domain, records, self.spec.zone_frame()).map_err(|e| self.err(e))?;
        self.zones.insert(
            domain.into(),
            HostedZone {
                own: false,
                zone,
                algorithm: algorithm.unwrap_or(self.spec.algorithm),
                signed,
                foreign: Vec::new(),
                next_ksk: None,
                retired: Vec::new(),
                snapshot: None,
                signer: None,
                dirty: true,
            },
        );
        Ok(())
    }

    /// Starts a KSK rollover of `domain` (double-KSK, RFC 6781 §4.1.2): the next KSK joins
    /// the DNSKEY RRset and signs it beside the current one. Returns the next KSK. The key
    /// is operator `i`'s rollover fixture (11 + i), so a run replays exactly.
    pub fn add_next_ksk(&mut self, domain: &str) -> Result<KeyData, OperatorError> {
        if self.spec.keys == KeyScheme::Csk {
            return Err(self.err("a KSK rollover needs a KSK and a ZSK (this operator has a CSK)"));
        }
        let algorithm = self
            .zones
            .get(domain)
            .map(|z| z.algorithm)
            .ok_or_else(|| OperatorError::NoZone(self.label.clone(), domain.into()))?;
        let alg = key_algorithm(algorithm)
            .ok_or_else(|| self.err(format!("algorithm {algorithm} is not supported")))?;
        let index = 10 + self.index;
        let pair = if index < fixture_keys::KEYS_PER_ALGORITHM {
            fixture_keys::key(alg, index)
        } else {
            KeyPair::generate(alg).map_err(|e| self.err(e))?
        };
        let data = key_data(&pair.dnskey(dnssec::KeyRole::Ksk.flags()));
        let z = self.zone_mut(domain)?;
        z.next_ksk = Some(pair);
        z.signer = None;
        z.dirty = true;
        Ok(data)
    }

    /// Takes one of its own keys out of `domain`'s DNSKEY RRset (the old KSK at the end of a
    /// rollover); `true` if it was there.
    pub fn retire_key(&mut self, domain: &str, key: &KeyData) -> Result<bool, OperatorError> {
        let dnskey = dnskey_of(key)?;
        let own = self
            .own_keys(domain)?
            .iter()
            .any(|k| dnssec::verify::same_key(k.dnskey(), &dnskey));
        if !own {
            return Ok(false);
        }
        let z = self.zone_mut(domain)?;
        z.retired.push(dnskey);
        z.signer = None;
        z.dirty = true;
        Ok(true)
    }

    /// Replaces `domain`'s apex NS RRset with `ns` (host names), at the zone's NS TTL: a
    /// multi-signer group serves the combined NS set from every signer (RFC 8901 §3).
    pub fn set_ns(&mut self, domain: &str, ns: &[String]) -> Result<(), OperatorError> {
        let ttl = self.spec.ttl_ns;
        let origin = Name::from_ascii(format!("{domain}.")).map_err(|e| self.err(e))?;
        let mut data = Vec::new();
        for h in ns {
            let host = Name::from_ascii(format!("{}.", h.trim_end_matches('.')))
                .map_err(|e| self.err(format!("name server {h}: {e}")))?;
            data.push(RData::NS(hickory_proto::rr::rdata::NS(host)));
        }
        let rrset = RrSet::new(origin, ttl, data).map_err(|e| self.err(e))?;
        let z = self.zone_mut(domain)?;
        z.zone.set_rrset(rrset).map_err(|e| OperatorError::Dns {
            operator: String::new(),
            what: e.to_string(),
        })?;
        z.dirty = true;
        Ok(())
    }

    /// Publishes (`on`) or withdraws `domain`'s apex CSYNC (RFC 7477): the immediate flag
    /// and NS in its bitmap, asking the parent to copy the NS RRset.
    pub fn set_csync(&mut self, domain: &str, on: bool) -> Result<(), OperatorError> {
        let ttl = self.spec.ttl_ns;
        let origin = Name::from_ascii(format!("{domain}.")).map_err(|e| self.err(e))?;
        let label = self.label.clone();
        let z = self.zone_mut(domain)?;
        if on {
            let csync = hickory_proto::rr::rdata::CSYNC::new(
                z.zone.serial(),
                true,
                false,
                [RecordType::NS],
            );
            let rrset =
                RrSet::new(origin, ttl, [RData::CSYNC(csync)]).map_err(|e| OperatorError::Dns {
                    operator: label.clone(),
                    what: e.to_string(),
                })?;
            z.zone.set_rrset(rrset).map_err(|e| OperatorError::Dns {
                operator: label,
                what: e.to_string(),
            })?;
        } else {
            z.zone.remove_rrset(&origin, RecordType::CSYNC);
        }
        z.dirty = true;
        Ok(())
    }

    /// Publishes the child's CDS and CDNSKEY RRsets (RFC 7344) at `domain`'s apex: `None`
    /// withdraws one, an empty list is the delete record (RFC 8078 §4), otherwise the CDS
    /// (SHA-256) or CDNSKEY of each key. The TTL is the zone's DNSKEY TTL.
    pub fn set_cds(
        &mut self,
        domain: &str,
        cds: Option<&[KeyData]>,
        cdnskey: Option<&[KeyData]>,
    ) -> Result<(), OperatorError> {
        let origin = Name::from_ascii(format!("{domain}.")).map_err(|e| self.err(e))?;
        let sets = self.cds_rdata(&origin, cds, cdnskey)?;
        self.set_rrsets(domain, &origin, sets)
    }

    /// RFC 9615 §3.2: the same CDS and CDNSKEY as [`set_cds`](Self::set_cds) makes for
    /// `domain`, at `_dsboot.<domain>._signal.<host>` for each of `hosts`, in the operator's
    /// own zone of that host ([`serve_ns_zone`](Self::serve_ns_zone)); `None` withdraws one.
    pub fn set_signals(
        &mut self,
        domain: &str,
        hosts: &[String],
        cds: Option<&[KeyData]>,
        cdnskey: Option<&[KeyData]>,
    ) -> Result<(), OperatorError> {
        let child = Name::from_ascii(format!("{domain}.")).map_err(|e| self.err(e))?;
        let sets = self.cds_rdata(&child, cds, cdnskey)?;
        for host in hosts {
            let host_name = Name::from_ascii(format!("{}.", host.trim_end_matches('.')))
                .map_err(|e| self.err(e))?;
            let own = self
                .zones
                .iter()
                .filter(|(_, z)| z.own && z.zone.origin().zone_of(&host_name))
                .max_by_key(|(_, z)| z.zone.origin().num_labels())
                .map(|(d, _)| d.clone())
                .ok_or_else(|| {
                    self.err(format!(
                        "no zone of its own holds {host}, so it cannot sign a signal there \
                         (the world serves the name servers' zones only with \
                         [world.ds_automation] rfc9615 or an operator's signals = true)"
                    ))
                })?;
            let owner =
                mock_registry::signals::signal_name(&child, &host_name).map_err(|e| self.err(e))?;
            self.set_rrsets(&own, &owner, sets.clone())?;
        }
        Ok(())
    }

    /// Serves the zone `origin` of its name servers' host names, signed with its own keys:
    /// SOA, NS `hosts`, their addresses (on its server and, for the names it answers for, its
    /// secondary). Returns the key that signs its DNSKEY RRset, for the parent's DS.
    pub fn serve_ns_zone(
        &mut self,
        origin: &str,
        hosts: &[(String, std::net::IpAddr)],
    ) -> Result<DNSKEY, OperatorError> {
        let origin = origin.trim_end_matches('.').to_ascii_lowercase();
        let apex = Name::from_ascii(format!("{origin}.")).map_err(|e| self.err(e))?;
        let first = hosts
            .first()
            .map(|(h, _)| h.trim_end_matches('.').to_string())
            .ok_or_else(|| self.err(format!("{origin}: no name server")))?;
        let soa = SOA::new(
            Name::from_ascii(format!("{first}.")).map_err(|e| self.err(e))?,
            Name::from_ascii(format!("hostmaster.{origin}.")).map_err(|e| self.err(e))?,
            1,
            3600,
            900,
            1_209_600,
            self.spec.ttl_negative,
        );
        let mut zone =
            Zone::new(apex.clone(), soa, self.spec.ttl_negative).map_err(|e| self.err(e))?;
        for (host, ip) in hosts {
            let host = host.trim_end_matches('.');
            zone.add_text(&format!("{origin}. {} NS {host}.", self.spec.ttl_ns))
                .map_err(|e| self.err(e))?;
            let rtype = if ip.is_ipv4() { "A" } else { "AAAA" };
            zone.add_text(&format!("{host}. {} {rtype} {ip}", self.spec.ttl_ns))
                .map_err(|e| self.err(format!("{host}: {e}")))?;
        }
        zone.take_changes();
        self.zones.insert(
            origin.clone(),
            HostedZone {
                own: true,
                zone,
                algorithm: self.spec.algorithm,
                signed: true,
                foreign: Vec::new(),
                next_ksk: None,
                retired: Vec::new(),
                snapshot: None,
                signer: None,
                dirty: true,
            },
        );
        let key = self
            .own_keys(&origin)?
            .into_iter()
            .find(|k| k.role().signs_dnskey())
            .ok_or_else(|| self.err(format!("{origin} has no key that signs its DNSKEY RRset")))?;
        Ok(key.dnskey().clone())
    }

    /// The CDS and CDNSKEY rdata for the child `origin` (see [`set_cds`](Self::set_cds)).
    #[allow(
        clippy::type_complexity,
        reason = "two optional RRsets, by type, used right away"
    )]
    fn cds_rdata(
        &self,
        origin: &Name,
        cds: Option<&[KeyData]>,
        cdnskey: Option<&[KeyData]>,
    ) -> Result<[(RecordType, Option<Vec<RData>>); 2], OperatorError> {
        let cds_data = match cds {
            None => None,
            Some([]) => Some(vec![RData::DNSSEC(DNSSECRData::CDS(keys::cds_delete()))]),
            Some(list) => {
                let mut out = Vec::new();
                for k in list {
                    let cds =
                        keys::cds_from_dnskey(origin, &dnskey_of(k)?, dnssec::DsDigest::Sha256)
                            .map_err(|e| self.err(e))?;
                    out.push(RData::DNSSEC(DNSSECRData::CDS(cds)));
                }
                Some(out)
            }
        };
        let cdnskey_data = cdnskey.map(|list| {
            if list.is_empty() {
                vec![RData::DNSSEC(DNSSECRData::CDNSKEY(keys::cdnskey_delete()))]
            } else {
                // From the key data as given (not through a parsed DNSKEY): what the controller
                // asked for is what is served.
                list.iter()
                    .map(|k| {
                        RData::DNSSEC(DNSSECRData::CDNSKEY(CDNSKEY::with_flags(
                            k.flags,
                            Some(hickory_proto::dnssec::Algorithm::from_u8(k.alg)),
                            k.pub_key.clone(),
                        )))
                    })
                    .collect()
            }
        });
        Ok([
            (RecordType::CDS, cds_data),
            (RecordType::CDNSKEY, cdnskey_data),
        ])
    }

    /// Sets or removes (`None`) RRsets at `owner` in the zone of `domain`, with the DNSKEY
    /// TTL.
    fn set_rrsets(
        &mut self,
        domain: &str,
        owner: &Name,
        sets: [(RecordType, Option<Vec<RData>>); 2],
    ) -> Result<(), OperatorError> {
        let ttl = self.spec.ttl_dnskey;
        let label = self.label.clone();
        let z = self.zone_mut(domain)?;
        let err = |e: dnssec::ZoneError| OperatorError::Dns {
            operator: label.clone(),
            what: e.to_string(),
        };
        for (rtype, data) in sets {
            match data {
                None => {
                    z.zone.remove_rrset(owner, rtype);
                }
                Some(data) => {
                    z.zone
                        .set_rrset(RrSet::new(owner.clone(), ttl, data).map_err(err)?)
                        .map_err(err)?;
                }
            }
        }
        z.dirty = true;
        Ok(())
    }

    /// The largest TTL of anything the zone of `domain` serves: every record, the DNSKEY set,
    /// and negative answers (the SOA minimum). How long caches may hold what it served.
    pub fn max_ttl(&self, domain: &str) -> Result<u32, OperatorError> {
        let z = self
            .zones
            .get(domain)
            .ok_or_else(|| OperatorError::NoZone(self.label.clone(), domain.into()))?;
        let records = z.zone.rrsets().map(|r| r.ttl()).max().unwrap_or(0);
        Ok(records.max(self.spec.ttl_dnskey).max(z.zone.soa().minimum))
    }

    /// Stops hosting `domain`.
    pub fn remove_zone(&mut self, domain: &str) -> bool {
        let removed = self.zones.remove(domain).is_some();
        if removed && let Ok(origin) = Name::from_ascii(format!("{domain}.")) {
            self.server.remove_zone(&origin);
            self.removed = true;
            if let Some(s) = &mut self.secondary {
                s.removed.push(domain.to_string());
            }
        }
        removed
    }

    fn zone_mut(&mut self, domain: &str) -> Result<&mut HostedZone, OperatorError> {
        let label = self.label.clone();
        self.zones
            .get_mut(domain)
            .ok_or(OperatorError::NoZone(label, domain.into()))
    }

    /// Publishes another operator's key in `domain`'s DNSKEY set until `expires`.
    pub fn add_foreign_key(
        &mut self,
        domain: &str,
        dnskey: DNSKEY,
        expires: Option<Timestamp>,
    ) -> Result<(), OperatorError> {
        let z = self.zone_mut(domain)?;
        if let Some(existing) = z.foreign.iter_mut().find(|f| f.dnskey == dnskey) {
            // RFC 8063 §2.1.1: a key relayed again updates its expiry.
            existing.expires = expires;
        } else {
            z.foreign.push(ForeignKey { dnskey, expires });
            z.signer = None;
            z.dirty = true;
        }
        Ok(())
    }

    /// Stops publishing a foreign key; `true` if it was there.
    pub fn remove_foreign_key(
        &mut self,
        domain: &str,
        dnskey: &DNSKEY,
    ) -> Result<bool, OperatorError> {
        let z = self.zone_mut(domain)?;
        let before = z.foreign.len();
        z.foreign.retain(|f| f.dnskey != *dnskey);
        let removed = z.foreign.len() != before;
        if removed {
            z.signer = None;
            z.dirty = true;
        }
        Ok(removed)
    }

    /// The foreign keys published in `domain`.
    pub fn foreign_keys(&self, domain: &str) -> Vec<ForeignKey> {
        self.zones
            .get(domain)
            .map(|z| z.foreign.clone())
            .unwrap_or_default()
    }

    /// Signs or unsigns a zone (going insecure and back).
    pub fn set_signed(&mut self, domain: &str, signed: bool) -> Result<(), OperatorError> {
        let z = self.zone_mut(domain)?;
        if z.signed != signed {
            z.signed = signed;
            z.signer = None;
            z.dirty = true;
        }
        Ok(())
    }

    /// Switches the zone's algorithm (its own keys follow).
    pub fn set_algorithm(&mut self, domain: &str, algorithm: u8) -> Result<(), OperatorError> {
        let z = self.zone_mut(domain)?;
        if z.algorithm != algorithm {
            z.algorithm = algorithm;
            z.signer = None;
            z.dirty = true;
        }
        Ok(())
    }

    /// The zone's algorithm.
    pub fn algorithm(&self, domain: &str) -> Option<u8> {
        self.zones.get(domain).map(|z| z.algorithm)
    }

    /// Whether the zone is signed.
    pub fn is_signed(&self, domain: &str) -> Option<bool> {
        self.zones.get(domain).map(|z| z.signed)
    }

    /// Sets a fault on the server.
    pub fn set_fault(&mut self, fault: OperatorFault, now: Timestamp) -> Result<(), OperatorError> {
        self.fault = fault;
        let mut faults = Faults::default();
        match fault {
            OperatorFault::None => {}
            OperatorFault::Stale => faults.frozen = true,
            OperatorFault::StripRrsigs => faults.strip_rrsigs = true,
            OperatorFault::Stop => faults.drop_queries = true,
            OperatorFault::ExpiredSignatures => {
                // Every zone re-signed with a window that ended before both the virtual and
                // the wall clock's now.
                let earliest = self
                    .also_valid_at
                    .iter()
                    .copied()
                    .chain([now])
                    .min()
                    .unwrap_or(now);
                let end = earliest
                    .checked_sub(SignedDuration::from_hours(24))
                    .unwrap_or(earliest);
                let start = end
                    .checked_sub(SignedDuration::from_hours(24 * 14))
                    .unwrap_or(end);
                let domains: Vec<String> = self.zones.keys().cloned().collect();
                for d in domains {
                    if self.zones.get(&d).is_some_and(|z| z.signed) {
                        let signer = self.signer_for(&d, Some((start, end)))?;
                        let z = self.zone_mut(&d)?;
                        let snapshot =
                            signer.sign(&z.zone, now).map_err(|e| OperatorError::Dns {
                                operator: String::new(),
                                what: e.to_string(),
                            })?;
                        faults.substitutes.push(Arc::new(snapshot));
                    }
                }
            }
        }
        if let Some(s) = &self.secondary {
            s.server.set_faults(faults.clone());
        }
        self.server.set_faults(faults);
        Ok(())
    }

    fn signer_for(
        &mut self,
        domain: &str,
        window: Option<(Timestamp, Timestamp)>,
    ) -> Result<ZoneSigner, OperatorError> {
        let mut keys = self.own_keys(domain)?;
        let z = self
            .zones
            .get(domain)
            .ok_or_else(|| OperatorError::NoZone(self.label.clone(), domain.into()))?;
        let own_algorithm = z.algorithm;
        let mut mixed = false;
        for f in &z.foreign {
            mixed |= u8::from(f.dnskey.public_key().algorithm()) != own_algorithm;
            keys.push(ZoneKey::foreign(f.dnskey.clone()));
        }
        let denial = match self.spec.denial {
            DenialKind::Nsec => Denial::Nsec,
            DenialKind::Nsec3 => Denial::Nsec3(Nsec3Config {
                iterations: self.spec.nsec3_iterations,
                salt: self.spec.nsec3_salt.clone(),
                opt_out: self.spec.nsec3_opt_out,
            }),
        };
        let policy = SigningPolicy {
            validity: self.validity,
            also_valid_at: self.also_valid_at.clone(),
            denial,
            dnskey_ttl: self.spec.ttl_dnskey,
            jitter_seed: self.seed,
            // Only what some query reads is signed (the queries of a random world read about
            // three quarters of the signatures); the answers are the same.
            defer_signatures: true,
            faults: SigningFaults {
                // A foreign key of another algorithm cannot be signed for by this operator:
                // publishing it anyway is what an operator without a common algorithm does
                // (RFC 8901 §4), and what strict validators refuse (RFC 4035 §2.2).
                allow_incomplete_algorithms: mixed,
                window,
                ..SigningFaults::default()
            },
            ..SigningPolicy::default()
        };
        ZoneSigner::new(keys, policy).map_err(|e| self.err(e))
    }

    /// Drops relayed keys whose expiry has passed; returns the domains changed.
    pub fn expire_foreign_keys(&mut self, now: Timestamp) -> Vec<String> {
        let mut changed = Vec::new();
        for (d, z) in &mut self.zones {
            let before = z.foreign.len();
            z.foreign.retain(|f| f.expires.is_none_or(|e| e > now));
            if z.foreign.len() != before {
                z.signer = None;
                z.dirty = true;
                changed.push(d.clone());
            }
        }
        changed
    }

    /// The next instant a relayed key expires or a signature needs refreshing.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let expiries = self
            .zones
            .values()
            .flat_map(|z| z.foreign.iter().filter_map(|f| f.expires));
        let refresh = self.zones.values().filter_map(|z| {
            z.snapshot
                .as_ref()
                .and_then(|s| s.earliest_expiration())
                .and_then(|e| e.checked_sub(SignedDuration::from_hours(24 * 3)).ok())
        });
        let secondary = self.secondary.as_ref().and_then(Secondary::next_deadline);
        expiries.chain(refresh).chain(secondary).min()
    }

    /// Signs what changed and hands new snapshots to the server; returns whether anything
    /// the server serves changed.
    pub fn publish(&mut self, now: Timestamp) -> Result<bool, OperatorError> {
        let mut changed = std::mem::take(&mut self.removed);
        // Only the zones with something to do (the runner asks after every step, and almost
        // always nothing is due).
        let due: Vec<String> = self
            .zones
            .iter()
            .filter(|(_, z)| {
                z.dirty
                    || z.snapshot.is_none()
                    || z.signer
                        .as_ref()
                        .zip(z.snapshot.as_ref())
                        .is_some_and(|(s, snap)| s.needs_refresh(snap, now))
            })
            .map(|(d, _)| d.clone())
            .collect();
        for d in due {
            let signed = self.zones[&d].signed;
            if signed && self.zones[&d].signer.is_none() {
                let signer = self.signer_for(&d, None)?;
                self.zone_mut(&d)?.signer = Some(signer);
            }
            let label = self.label.clone();
            let z = self.zone_mut(&d)?;
            let serial = z.zone.serial().wrapping_add(1);
            z.zone.set_serial(serial);
            let dns_err = |e: &dyn std::fmt::Display| OperatorError::Dns {
                operator: label.clone(),
                what: e.to_string(),
            };
            // Re-sign only what changed: a data change updates the names it touched, a new
            // key set or a refresh re-signs every RRset but keeps each signature that is still
            // good (the engine falls back from `update` to `resign` by itself).
            let changes = z.zone.take_changes();
            let previous = z.snapshot.clone();
            let snapshot = if z.signed {
                let signer = z
                    .signer
                    .as_ref()
                    .expect("invariant: set just above for signed zones");
                match previous.as_deref() {
                    Some(prev) => signer.update(prev, &z.zone, &changes, now),
                    None => signer.sign(&z.zone, now),
                }
                .map_err(|e| dns_err(&e))?
            } else {
                ZoneSigner::unsigned(SigningPolicy::default())
                    .sign(&z.zone, now)
                    .map_err(|e| dns_err(&e))?
            };
            let snapshot = Arc::new(snapshot);
            z.snapshot = Some(snapshot.clone());
            z.dirty = false;
            self.server.set_zone(snapshot.clone());
            if let Some(s) = &mut self.secondary {
                if s.known.insert(d.clone()) && !s.pending.contains_key(&d) {
                    s.server.set_zone(snapshot);
                } else {
                    s.pending
                        .entry(d.clone())
                        .or_default()
                        .push_back((now, Some(snapshot)));
                }
            }
            changed = true;
        }
        if let Some(s) = &mut self.secondary {
            for d in std::mem::take(&mut s.removed) {
                s.pending.entry(d).or_default().push_back((now, None));
            }
            changed |= s.catch_up(now);
        }
        Ok(changed)
    }

    /// The snapshot served for `domain`.
    pub fn snapshot(&self, domain: &str) -> Option<Arc<SignedZone>> {
        self.zones.get(domain).and_then(|z| z.snapshot.clone())
    }
}

/// The engine's algorithm for a DNSSEC algorithm number the operator signs with.
fn key_algorithm(number: u8) -> Option<KeyAlgorithm> {
    match number {
        8 => Some(KeyAlgorithm::RsaSha256),
        13 => Some(KeyAlgorithm::EcdsaP256Sha256),
        15 => Some(KeyAlgorithm::Ed25519),
        _ => None,
    }
}

/// EPP key data for a DNSKEY.
pub use mock_registry::keydata::key_data_for as key_data;

/// The DNSKEY for EPP key data.
pub fn dnskey_of(k: &KeyData) -> Result<DNSKEY, OperatorError> {
    mock_registry::keydata::dnskey_of(k).map_err(|e| OperatorError::BadKey(e.to_string()))
}

/// The built-in operator behind the common interface: every call is synchronous underneath.
impl OperatorBackend for Operator {
    fn label(&self) -> &str {
        Self::label(self)
    }

    fn spec(&self) -> &OperatorSpec {
        Self::spec(self)
    }

    fn addr(&self) -> SocketAddr {
        Self::addr(self)
    }

    fn ns_names(&self) -> &[String] {
        Self::ns_names(self)
    }

    fn servers(&self) -> Vec<(SocketAddr, Vec<String>)> {
        Self::servers(self)
    }

    fn hosted(&self) -> Vec<String> {
        Self::hosted(self)
    }

    fn foreign_keys(&self, domain: &str) -> Vec<ForeignKey> {
        Self::foreign_keys(self, domain)
    }

    fn max_ttl(&self, domain: &str) -> Result<u32, OperatorError> {
        Self::max_ttl(self, domain)
    }

    fn next_deadline(&self) -> Option<Timestamp> {
        Self::next_deadline(self)
    }

    fn create_zone<'a>(
        &'a mut self,
        domain: &'a str,
        records: &'a [String],
        signed: bool,
        algorithm: Option<u8>,
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        let r = Self::create_zone(self, domain, records, signed, algorithm);
        Box::pin(async move { r })
    }

    fn remove_zone<'a>(&'a mut self, domain: &'a str) -> BoxFuture<'a, bool> {
        let r = Self::remove_zone(self, domain);
        Box::pin(async move { r })
    }

    fn ksk_key_data<'a>(
        &'a mut self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<KeyData, OperatorError>> {
        let r = Self::ksk_key_data(self, domain);
        Box::pin(async move { r })
    }

    fn zsk_key_data<'a>(
        &'a mut self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KeyData>, OperatorError>> {
        let r = Self::zsk_key_data(self, domain);
        Box::pin(async move { r })
    }

    fn add_next_ksk<'a>(
        &'a mut self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<KeyData, OperatorError>> {
        let r = Self::add_next_ksk(self, domain);
        Box::pin(async move { r })
    }

    fn retire_key<'a>(
        &'a mut self,
        domain: &'a str,
        key: &'a KeyData,
    ) -> BoxFuture<'a, Result<bool, OperatorError>> {
        let r = Self::retire_key(self, domain, key);
        Box::pin(async move { r })
    }

    fn set_cds<'a>(
        &'a mut self,
        domain: &'a str,
        cds: Option<&'a [KeyData]>,
        cdnskey: Option<&'a [KeyData]>,
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        let r = Self::set_cds(self, domain, cds, cdnskey);
        Box::pin(async move { r })
    }

    fn set_ns<'a>(
        &'a mut self,
        domain: &'a str,
        ns: &'a [String],
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        let r = Self::set_ns(self, domain, ns);
        Box::pin(async move { r })
    }

    fn answer_in_process(&self) {
        self.server.answer_in_process(true);
        if let Some(s) = &self.secondary {
            s.server.answer_in_process(true);
        }
    }

    fn set_csync<'a>(
        &'a mut self,
        domain: &'a str,
        on: bool,
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        let r = Self::set_csync(self, domain, on);
        Box::pin(async move { r })
    }

    fn set_signals<'a>(
        &'a mut self,
        domain: &'a str,
        hosts: &'a [String],
        cds: Option<&'a [KeyData]>,
        cdnskey: Option<&'a [KeyData]>,
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        let r = Self::set_signals(self, domain, hosts, cds, cdnskey);
        Box::pin(async move { r })
    }

    fn serve_ns_zone<'a>(
        &'a mut self,
        origin: &'a str,
        hosts: &'a [(String, std::net::IpAddr)],
    ) -> BoxFuture<'a, Result<DNSKEY, OperatorError>> {
        let r = Self::serve_ns_zone(self, origin, hosts);
        Box::pin(async move { r })
    }

    fn add_foreign_key<'a>(
        &'a mut self,
        domain: &'a str,
        dnskey: DNSKEY,
        expires: Option<Timestamp>,
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        let r = Self::add_foreign_key(self, domain, dnskey, expires);
        Box::pin(async move { r })
    }

    fn remove_foreign_key<'a>(
        &'a mut self,
        domain: &'a str,
        dnskey: &'a DNSKEY,
    ) -> BoxFuture<'a, Result<bool, OperatorError>> {
        let r = Self::remove_foreign_key(self, domain, dnskey);
        Box::pin(async move { r })
    }

    fn set_signed<'a>(
        &'a mut self,
        domain: &'a str,
        signed: bool,
    ) -> BoxFuture<'a, Result<(), OperatorError>> {
        let r = Self::set_signed(self, domain, signed);
        Box::pin(async move { r })
    }

    fn set_fault(
        &mut self,
        fault: OperatorFault,
        now: Timestamp,
    ) -> BoxFuture<'_, Result<(), OperatorError>> {
        let r = Self::set_fault(self, fault, now);
        Box::pin(async move { r })
    }

    fn publish(&mut self, now: Timestamp) -> BoxFuture<'_, Result<bool, OperatorError>> {
        self.expire_foreign_keys(now);
        let r = Self::publish(self, now);
        Box::pin(async move { r })
    }

    fn stop(&mut self) -> BoxFuture<'_, ()> {
        let stopped = Faults {
            drop_queries: true,
            ..Faults::default()
        };
        if let Some(s) = &self.secondary {
            s.server.set_faults(stopped.clone());
        }
        self.server.set_faults(stopped);
        Box::pin(async {})
    }
}
