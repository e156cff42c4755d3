//! An unsigned zone: the data an operator or the registry publishes, before DNSSEC.
//!
//! Records are grouped into RRsets (owner, type, class IN, one TTL) under owner names kept in
//! canonical order (RFC 4034 §6.1), so presentation output is stable and the signer can walk the
//! zone in NSEC order. Owner names and the names inside rdata are stored in canonical (lowercase)
//! form, so what is signed is what is served.
//!
//! Delegations are ordinary data here (an NS RRset below the apex makes a zone cut, with glue
//! below it and a DS RRset at it); [`Delegation`] is the convenient way to add and read them.
//! The DNSSEC records (DNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM) are the signer's job and are
//! refused here.
//!
//! Wildcard owners (`*.example.`, RFC 4592) are ordinary names here; the snapshot's lookups
//! synthesise answers from them. A wildcard may not hold NS, DS or DNAME (RFC 4592 §4.2, §4.4).
//!
//! DNAME (RFC 6672) is supported although hickory-proto 0.26 has no DNAME rdata type: it reads
//! DNAME records as opaque rdata, so [`dname_rdata`] writes the target in that form (lowercase,
//! uncompressed, RFC 6672 §2.5) and [`dname_target`](crate::presentation::dname_target) reads it back. Names below a DNAME are
//! occluded (RFC 6672 §2.3): the signer neither signs nor serves them.
//!
//! The zone remembers which owner names changed since [`Zone::take_changes`] was last called, so
//! the signer can re-sign only those ([`ZoneSigner::update`](super::ZoneSigner::update)).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::ops::Bound;

use crate::presentation::{parse_rdata, rdata_text, split_field};
use hickory_proto::dnssec::rdata::{DNSSECRData, DS};
use hickory_proto::rr::rdata::{A, AAAA, NS, NULL, SOA};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecoder, BinEncodable, BinEncoder, Restrict};

/// Why a change to a zone was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZoneError {
    /// The name is not at or below the zone's origin.
    #[error("{name} is not in zone {origin}")]
    OutOfZone {
        /// The name that was refused.
        name: Name,
        /// The zone's origin.
        origin: String,
    },
    /// Names must be fully qualified (end in a dot).
    #[error("{0} is not fully qualified")]
    NotFqdn(Name),
    /// A wildcard owner with NS, DS or DNAME, whose meaning RFC 4592 leaves undefined (§4.2 for
    /// NS, §4.4 for DNAME; a DS belongs to a cut).
    #[error("wildcard owner {0} cannot hold NS, DS or DNAME (RFC 4592 §4.2, §4.4)")]
    Wildcard(Name),
    /// A CNAME beside other data at its name, or more than one (RFC 1034 §3.6.2, RFC 2181
    /// §10.1): resolvers would answer from one and never see the other.
    #[error("{name}: {why} (RFC 1034 §3.6.2, RFC 2181 §10.1)")]
    Cname {
        /// Owner name of the refused RRset.
        name: Name,
        /// What the rule forbids here.
        why: &'static str,
    },
    /// The type is made by the signer.
    #[error("{rtype} at {name} is made by the signer, not added to a zone")]
    SignerManaged {
        /// Owner name of the refused record.
        name: Name,
        /// RRSIG, NSEC or NSEC3: the types the signer writes itself.
        rtype: RecordType,
    },
    /// A record's TTL differs from its RRset's (RFC 2181 §5.2).
    #[error("{rtype} at {name} has TTL {existing}; a record with TTL {new} cannot join it")]
    TtlMismatch {
        /// Owner name of the RRset the record was to join.
        name: Name,
        /// Type of the RRset the record was to join.
        rtype: RecordType,
        /// TTL of the RRset as it stands.
        existing: u32,
        /// TTL of the record that was refused.
        new: u32,
    },
    /// SOA anywhere but the apex, or more than one SOA.
    #[error("a zone has exactly one SOA, at its apex ({0})")]
    Soa(Name),
    /// A delegation at the apex or with no name servers.
    #[error("bad delegation at {name}: {reason}")]
    Delegation {
        /// Owner name of the NS RRset that would make the cut.
        name: Name,
        /// What is wrong.
        reason: &'static str,
    },
    /// An RRset with no records.
    #[error("{rtype} RRset at {name} is empty")]
    EmptyRrset {
        /// Owner name of the empty RRset.
        name: Name,
        /// Type of the empty RRset.
        rtype: RecordType,
    },
    /// Record data that hickory cannot encode or decode.
    #[error("{rtype} at {name}: {reason}")]
    Rdata {
        /// Owner name of the record hickory could not handle.
        name: Name,
        /// Type of the record hickory could not handle.
        rtype: RecordType,
        /// The codec's message.
        reason: String,
    },
    /// Zone file text that does not parse.
    #[error("zone file: {0}")]
    Parse(String),
}

/// Types the signer produces; a zone refuses them.
pub(crate) const SIGNER_TYPES: [RecordType; 5] = [
    RecordType::DNSKEY,
    RecordType::RRSIG,
    RecordType::NSEC,
    RecordType::NSEC3,
    RecordType::NSEC3PARAM,
];

/// One RRset: owner, type, TTL and rdata in canonical order without duplicates (class is IN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RrSet {
    name: Name,
    rtype: RecordType,
    ttl: u32,
    rdata: Vec<RData>,
}

impl RrSet {
    /// An RRset from rdata of one type; names are made canonical (lowercase), duplicates dropped.
    pub fn new(
        name: Name,
        ttl: u32,
        rdata: impl IntoIterator<Item = RData>,
    ) -> Result<Self, ZoneError> {
        let name = name.to_lowercase();
        let mut keyed: Vec<(Vec<u8>, RData)> = Vec::new();
        let mut rtype = None;
        for r in rdata {
            let t = r.record_type();
            if *rtype.get_or_insert(t) != t {
                return Err(ZoneError::Rdata {
                    name,
                    rtype: t,
                    reason: format!("mixed with {} in one RRset", rtype.unwrap_or(t)),
                });
            }
            let (bytes, canonical) = canonicalise(&name, r)?;
            keyed.push((bytes, canonical));
        }
        let Some(rtype) = rtype else {
            return Err(ZoneError::EmptyRrset {
                name,
                rtype: RecordType::NULL,
            });
        };
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|a, b| a.0 == b.0);
        Ok(Self {
            name,
            rtype,
            ttl,
            rdata: keyed.into_iter().map(|(_, r)| r).collect(),
        })
    }

    /// The owner name.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The RRset's type; RRsets are stored per owner and type.
    pub fn record_type(&self) -> RecordType {
        self.rtype
    }

    /// The RRset's TTL in seconds (RFC 2181 §5.2: one TTL for the whole set).
    pub fn ttl(&self) -> u32 {
        self.ttl
    }

    /// The rdata, in canonical order.
    pub fn rdata(&self) -> &[RData] {
        &self.rdata
    }

    /// The records, in canonical order.
    pub fn records(&self) -> Vec<Record> {
        self.rdata
            .iter()
            .map(|r| Record::from_rdata(self.name.clone(), self.ttl, r.clone()))
            .collect()
    }
}

/// Encodes rdata canonically (RFC 4034 §6.2: uncompressed, lowercase names where the RFC says)
/// and decodes it back, so stored rdata is canonical and sorts by its canonical bytes.
fn canonicalise(name: &Name, rdata: RData) -> Result<(Vec<u8>, RData), ZoneError> {
    let rtype = rdata.record_type();
    let err = |reason: String| ZoneError::Rdata {
        name: name.clone(),
        rtype,
        reason,
    };
    let mut buf = Vec::new();
    {
        let mut encoder = BinEncoder::new(&mut buf);
        encoder.set_canonical_form(true);
        rdata.emit(&mut encoder).map_err(|e| err(e.to_string()))?;
    }
    let len = u16::try_from(buf.len()).map_err(|_| err("rdata longer than 65535 octets".into()))?;
    let mut decoder = BinDecoder::new(&buf);
    let canonical =
        RData::read(&mut decoder, rtype, Restrict::new(len)).map_err(|e| err(e.to_string()))?;
    Ok((buf, canonical))
}

/// The number of labels of `name`, a leading `*` included (hickory's `num_labels` leaves the
/// `*` out, as the RRSIG labels field does, RFC 4034 §3.1.3; walking a name's ancestors needs
/// every label).
pub fn label_count(name: &Name) -> usize {
    name.iter().count()
}

/// Whether the leftmost label of `name` is `*` (RFC 4592 §2.1.1).
pub fn is_wildcard(name: &Name) -> bool {
    name.iter().next().is_some_and(|l| l == b"*")
}

/// `*.` in front of `name`: the wildcard whose expansions have `name` as closest encloser
/// (RFC 4592 §2.1.1). Not hickory's `into_wildcard`, which replaces the first label. None when
/// the result would be too long.
pub fn wildcard_of(name: &Name) -> Option<Name> {
    name.prepend_label("*").ok()
}

/// DNAME rdata (RFC 6672 §2.1) pointing at `target`, as hickory-proto represents a type it has
/// no struct for: opaque rdata of type DNAME holding the target's uncompressed wire form. The
/// target is lowercased, so the canonical form (RFC 4034 §6.2) is the stored form.
pub fn dname_rdata(target: &Name) -> Result<RData, ZoneError> {
    let mut buf = Vec::new();
    let mut encoder = BinEncoder::new(&mut buf);
    encoder.set_canonical_form(true);
    target
        .to_lowercase()
        .emit(&mut encoder)
        .map_err(|e| ZoneError::Rdata {
            name: target.clone(),
            rtype: RecordType::DNAME,
            reason: e.to_string(),
        })?;
    Ok(RData::Unknown {
        code: RecordType::DNAME,
        rdata: NULL::with(buf),
    })
}

/// The name a DNAME at `owner` pointing at `target` redirects `qname` to (RFC 6672 §2.2):
/// `qname`'s labels below `owner` in front of `target`. None when `qname` is not strictly
/// below `owner` or the result would be longer than 255 octets.
pub fn dname_substitute(qname: &Name, owner: &Name, target: &Name) -> Option<Name> {
    let prefix = label_count(qname).checked_sub(label_count(owner))?;
    if prefix == 0 || !owner.zone_of(qname) {
        return None;
    }
    let labels: Vec<&[u8]> = qname.iter().take(prefix).collect();
    let mut out = target.to_lowercase();
    for label in labels.into_iter().rev() {
        out = out
            .prepend_label(hickory_proto::rr::domain::Label::from_raw_bytes(label).ok()?)
            .ok()?;
    }
    Some(out.to_lowercase())
}

/// A delegation as the parent publishes it: NS at the cut, glue addresses, DS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// The cut (the child zone's apex).
    pub name: Name,
    /// TTL of the NS, DS and glue RRsets.
    pub ttl: u32,
    /// Name server host names.
    pub ns: Vec<Name>,
    /// Glue: addresses of name servers at or below the cut (others are refused).
    pub glue: Vec<(Name, IpAddr)>,
    /// The DS RRset (empty for an unsigned child).
    pub ds: Vec<DS>,
}

/// An unsigned zone. See the module documentation.
#[derive(Debug, Clone)]
pub struct Zone {
    origin: Name,
    names: BTreeMap<Name, BTreeMap<RecordType, RrSet>>,
    changes: BTreeSet<Name>,
}

impl Zone {
    /// A zone with its SOA (the apex must also get an NS RRset before it is served).
    pub fn new(origin: Name, soa: SOA, soa_ttl: u32) -> Result<Self, ZoneError> {
        if !origin.is_fqdn() {
            return Err(ZoneError::NotFqdn(origin));
        }
        let origin = origin.to_lowercase();
        let mut zone = Self {
            origin: origin.clone(),
            names: BTreeMap::new(),
            changes: BTreeSet::new(),
        };
        zone.set_rrset(RrSet::new(origin, soa_ttl, [RData::SOA(soa)])?)?;
        Ok(zone)
    }

    /// Parses a zone from presentation format (RFC 1035 §5; `$ORIGIN`/`$TTL` allowed, not
    /// `$INCLUDE`). The zone must hold exactly one SOA, at `origin`.
    pub fn parse(origin: &Name, text: &str) -> Result<Self, ZoneError> {
        let parser = hickory_proto::serialize::txt::Parser::new(text, None, Some(origin.clone()));
        let (parsed_origin, rrsets) = parser
            .parse()
            .map_err(|e| ZoneError::Parse(e.to_string()))?;
        let soa = rrsets
            .values()
            .find(|s| s.record_type() == RecordType::SOA)
            .ok_or_else(|| ZoneError::Soa(parsed_origin.clone()))?;
        let soa_record = soa
            .records_without_rrsigs()
            .next()
            .ok_or_else(|| ZoneError::Soa(parsed_origin.clone()))?;
        let RData::SOA(soa_rdata) = &soa_record.data else {
            return Err(ZoneError::Soa(parsed_origin));
        };
        if soa.name() != &parsed_origin {
            return Err(ZoneError::Soa(soa.name().clone()));
        }
        let mut zone = Self::new(parsed_origin, soa_rdata.clone(), soa.ttl())?;
        for rrset in rrsets.values() {
            if rrset.record_type() == RecordType::SOA {
                continue;
            }
            let data = rrset.records_without_rrsigs().map(|r| r.data.clone());
            zone.set_rrset(RrSet::new(rrset.name().clone(), rrset.ttl(), data)?)?;
        }
        Ok(zone)
    }

    /// The zone's apex.
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// The SOA rdata.
    pub fn soa(&self) -> &SOA {
        match self
            .rrset(&self.origin, RecordType::SOA)
            .and_then(|s| s.rdata().first())
        {
            Some(RData::SOA(soa)) => soa,
            _ => unreachable!("invariant: a Zone always holds its SOA (set in new, never removed)"),
        }
    }

    /// The SOA RRset's TTL.
    pub fn soa_ttl(&self) -> u32 {
        self.rrset(&self.origin, RecordType::SOA)
            .map_or(0, RrSet::ttl)
    }

    /// The SOA serial.
    pub fn serial(&self) -> u32 {
        self.soa().serial
    }

    /// Sets the SOA serial.
    pub fn set_serial(&mut self, serial: u32) {
        let mut soa = self.soa().clone();
        soa.serial = serial;
        let ttl = self.soa_ttl();
        // A SOA rdata always encodes, and the apex is in the zone: this cannot fail.
        let rrset = RrSet::new(self.origin.clone(), ttl, [RData::SOA(soa)])
            .expect("invariant: an SOA that was stored re-encodes");
        self.insert_unchecked(rrset);
    }

    fn check_name(&self, name: &Name) -> Result<(), ZoneError> {
        if !name.is_fqdn() {
            return Err(ZoneError::NotFqdn(name.clone()));
        }
        if !self.origin.zone_of(name) {
            return Err(ZoneError::OutOfZone {
                name: name.clone(),
                origin: self.origin.to_string(),
            });
        }
        Ok(())
    }

    /// Adds one record, joining its RRset (whose TTL it must share).
    pub fn add(&mut self, name: &Name, ttl: u32, rdata: RData) -> Result<&mut Self, ZoneError> {
        let rtype = rdata.record_type();
        let rrset = match self.rrset(name, rtype) {
            Some(existing) => {
                if existing.ttl != ttl {
                    return Err(ZoneError::TtlMismatch {
                        name: name.clone(),
                        rtype,
                        existing: existing.ttl,
                        new: ttl,
                    });
                }
                RrSet::new(
                    name.clone(),
                    ttl,
                    existing.rdata.iter().cloned().chain([rdata]),
                )?
            }
            None => RrSet::new(name.clone(), ttl, [rdata])?,
        };
        self.set_rrset(rrset)?;
        Ok(self)
    }

    /// Parses and adds one record given as `name ttl type rdata` (presentation format, absolute
    /// names), e.g. `www.example. 300 A 192.0.2.1`. Handy for tests and examples.
    pub fn add_text(&mut self, line: &str) -> Result<&mut Self, ZoneError> {
        let bad = |what: &str| ZoneError::Parse(format!("{what} in {line:?}"));
        let (owner, rest) = split_field(line).ok_or_else(|| bad("no owner"))?;
        let name: Name = owner.parse().map_err(|_| bad("bad owner"))?;
        let (ttl, rest) = split_field(rest).ok_or_else(|| bad("no TTL"))?;
        let ttl: u32 = ttl.parse().map_err(|_| bad("bad TTL"))?;
        let (mut rtype_text, mut rest) = split_field(rest).ok_or_else(|| bad("no type"))?;
        if rtype_text.eq_ignore_ascii_case("IN") {
            (rtype_text, rest) = split_field(rest).ok_or_else(|| bad("no type"))?;
        }
        let rtype: RecordType = rtype_text.parse().map_err(|_| bad("bad type"))?;
        if SIGNER_TYPES.contains(&rtype) {
            return Err(ZoneError::SignerManaged { name, rtype });
        }
        let rdata = if rtype == RecordType::DNAME {
            // hickory cannot parse DNAME text: one absolute name.
            let target: Name = match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
                [target] => target.parse().map_err(|_| bad("bad DNAME target"))?,
                _ => return Err(bad("a DNAME needs exactly one target name")),
            };
            dname_rdata(&target)?
        } else {
            parse_rdata(rtype, rest).map_err(|e| ZoneError::Parse(format!("{e} in {line:?}")))?
        };
        self.add(&name, ttl, rdata)
    }

    /// Sets (replaces) an RRset.
    pub fn set_rrset(&mut self, rrset: RrSet) -> Result<Option<RrSet>, ZoneError> {
        self.check_name(&rrset.name)?;
        if SIGNER_TYPES.contains(&rrset.rtype) {
            return Err(ZoneError::SignerManaged {
                name: rrset.name,
                rtype: rrset.rtype,
            });
        }
        if rrset.rtype == RecordType::SOA && (rrset.name != self.origin || rrset.rdata.len() != 1) {
            return Err(ZoneError::Soa(rrset.name));
        }
        if is_wildcard(&rrset.name)
            && matches!(
                rrset.rtype,
                RecordType::NS | RecordType::DS | RecordType::DNAME
            )
        {
            return Err(ZoneError::Wildcard(rrset.name));
        }
        // A CNAME is the only data at its name (the signer's RRSIG and NSEC aside, RFC 4035
        // §2.5), and there is one target.
        if rrset.rtype == RecordType::CNAME && rrset.rdata.len() != 1 {
            return Err(ZoneError::Cname {
                name: rrset.name,
                why: "a name has one CNAME at most",
            });
        }
        if let Some(types) = self.names.get(&rrset.name) {
            let cname_here = types.contains_key(&RecordType::CNAME);
            let other_here = types.keys().any(|k| *k != RecordType::CNAME);
            if rrset.rtype == RecordType::CNAME && other_here {
                return Err(ZoneError::Cname {
                    name: rrset.name,
                    why: "a CNAME cannot join other data at its name",
                });
            }
            if rrset.rtype != RecordType::CNAME && cname_here {
                return Err(ZoneError::Cname {
                    name: rrset.name,
                    why: "a name with a CNAME holds no other data",
                });
            }
        }
        Ok(self.insert_unchecked(rrset))
    }

    fn insert_unchecked(&mut self, rrset: RrSet) -> Option<RrSet> {
        self.changes.insert(rrset.name.clone());
        self.names
            .entry(rrset.name.clone())
            .or_default()
            .insert(rrset.rtype, rrset)
    }

    /// Removes an RRset (the SOA cannot be removed): an operator withdrawing its CDS/CDNSKEY,
    /// for one.
    pub fn remove_rrset(&mut self, name: &Name, rtype: RecordType) -> Option<RrSet> {
        if rtype == RecordType::SOA {
            return None;
        }
        let name = name.to_lowercase();
        let types = self.names.get_mut(&name)?;
        let removed = types.remove(&rtype)?;
        if types.is_empty() {
            self.names.remove(&name);
        }
        self.changes.insert(name);
        Some(removed)
    }

    /// Removes every RRset at `name` (except the SOA at the apex).
    #[cfg(test)]
    pub(crate) fn remove_name(&mut self, name: &Name) {
        let name = name.to_lowercase();
        let types: Vec<RecordType> = self
            .names
            .get(&name)
            .map(|t| t.keys().copied().collect())
            .unwrap_or_default();
        for t in types {
            self.remove_rrset(&name, t);
        }
    }

    /// Adds or replaces a delegation: removes whatever was at and below the cut, then adds NS,
    /// DS (if any) and glue.
    pub fn set_delegation(&mut self, delegation: &Delegation) -> Result<(), ZoneError> {
        let name = delegation.name.to_lowercase();
        self.check_name(&name)?;
        if is_wildcard(&name) {
            return Err(ZoneError::Wildcard(name));
        }
        if name == self.origin {
            return Err(ZoneError::Delegation {
                name,
                reason: "a zone cannot delegate its own apex",
            });
        }
        if delegation.ns.is_empty() {
            return Err(ZoneError::Delegation {
                name,
                reason: "no name servers",
            });
        }
        let ns = RrSet::new(
            name.clone(),
            delegation.ttl,
            delegation.ns.iter().map(|n| RData::NS(NS(n.clone()))),
        )?;
        let ds = if delegation.ds.is_empty() {
            None
        } else {
            Some(RrSet::new(
                name.clone(),
                delegation.ttl,
                delegation
                    .ds
                    .iter()
                    .map(|d| RData::DNSSEC(DNSSECRData::DS(d.clone()))),
            )?)
        };
        let mut glue: BTreeMap<(Name, RecordType), Vec<RData>> = BTreeMap::new();
        for (host, ip) in &delegation.glue {
            let host = host.to_lowercase();
            self.check_name(&host)?;
            if !name.zone_of(&host) {
                // Glue elsewhere would outlive this delegation (remove_delegation only clears
                // the cut's subtree); a sibling's glue belongs to the sibling's delegation.
                return Err(ZoneError::Delegation {
                    name,
                    reason: "glue must be at or below the cut",
                });
            }
            let (rtype, rdata) = match ip {
                IpAddr::V4(v4) => (RecordType::A, RData::A(A(*v4))),
                IpAddr::V6(v6) => (RecordType::AAAA, RData::AAAA(AAAA(*v6))),
            };
            glue.entry((host, rtype)).or_default().push(rdata);
        }
        let glue: Vec<RrSet> = glue
            .into_iter()
            .map(|((host, _), rdata)| RrSet::new(host, delegation.ttl, rdata))
            .collect::<Result<_, _>>()?;
        self.remove_delegation(&name);
        self.insert_unchecked(ns);
        if let Some(ds) = ds {
            self.insert_unchecked(ds);
        }
        for g in glue {
            self.insert_unchecked(g);
        }
        Ok(())
    }

    /// Removes the delegation at `name` and everything at and below it. Returns whether there
    /// was anything to remove.
    pub fn remove_delegation(&mut self, name: &Name) -> bool {
        let name = name.to_lowercase();
        if name == self.origin {
            return false;
        }
        let doomed: Vec<Name> = self.subtree(&name).map(|(n, _)| n.clone()).collect();
        for n in &doomed {
            self.names.remove(n);
            self.changes.insert(n.clone());
        }
        !doomed.is_empty()
    }

    /// The delegation at `name`, if there is a cut there.
    pub fn delegation(&self, name: &Name) -> Option<Delegation> {
        let name = name.to_lowercase();
        if name == self.origin {
            return None;
        }
        let ns_set = self.rrset(&name, RecordType::NS)?;
        let ns: Vec<Name> = ns_set
            .rdata()
            .iter()
            .filter_map(|r| match r {
                RData::NS(NS(n)) => Some(n.clone()),
                _ => None,
            })
            .collect();
        let ds = self
            .rrset(&name, RecordType::DS)
            .map(|s| {
                s.rdata()
                    .iter()
                    .filter_map(|r| match r {
                        RData::DNSSEC(DNSSECRData::DS(d)) => Some(d.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut glue = Vec::new();
        for (host, types) in self.subtree(&name) {
            for rrset in types.values() {
                for r in rrset.rdata() {
                    match r {
                        RData::A(a) => glue.push((host.clone(), IpAddr::V4(a.0))),
                        RData::AAAA(a) => glue.push((host.clone(), IpAddr::V6(a.0))),
                        _ => {}
                    }
                }
            }
        }
        Some(Delegation {
            name,
            ttl: ns_set.ttl(),
            ns,
            glue,
            ds,
        })
    }

    /// The zone cuts (names below the apex with an NS RRset), in canonical order; names below
    /// another cut are included (they are occluded, but still data of this zone).
    pub fn delegations(&self) -> impl Iterator<Item = &Name> + '_ {
        self.names
            .iter()
            .filter(|(n, t)| **n != self.origin && t.contains_key(&RecordType::NS))
            .map(|(n, _)| n)
    }

    /// The RRset at `name` of type `rtype`, as stored (unsigned); `None` when absent.
    pub fn rrset(&self, name: &Name, rtype: RecordType) -> Option<&RrSet> {
        self.names.get(name)?.get(&rtype)
    }

    /// The RRsets at a name, by type.
    pub(crate) fn rrsets_at(&self, name: &Name) -> Option<&BTreeMap<RecordType, RrSet>> {
        self.names.get(name)
    }

    /// Every owner name with its RRsets, in canonical order.
    pub fn names(&self) -> impl Iterator<Item = (&Name, &BTreeMap<RecordType, RrSet>)> + '_ {
        self.names.iter()
    }

    /// Every RRset, names in canonical order and types in numeric order, except that the SOA
    /// comes first (as zone files expect).
    pub fn rrsets(&self) -> impl Iterator<Item = &RrSet> + '_ {
        let soa = self.rrset(&self.origin, RecordType::SOA);
        soa.into_iter().chain(
            self.names
                .values()
                .flat_map(|t| t.values())
                .filter(|s| s.rtype != RecordType::SOA),
        )
    }

    /// `name` and every owner name below it, in canonical order (descendants follow their
    /// ancestor directly in canonical order, so this is one range scan).
    pub(crate) fn subtree<'a>(
        &'a self,
        name: &'a Name,
    ) -> impl Iterator<Item = (&'a Name, &'a BTreeMap<RecordType, RrSet>)> + 'a {
        self.names
            .range((Bound::Included(name), Bound::Unbounded))
            .take_while(move |(n, _)| name.zone_of(n))
    }

    /// Whether some owner name lies strictly below `name`.
    pub(crate) fn has_descendants(&self, name: &Name) -> bool {
        self.names
            .range((Bound::Excluded(name), Bound::Unbounded))
            .next()
            .is_some_and(|(n, _)| name.zone_of(n))
    }

    /// The highest zone cut strictly above `name` (and below the apex), if any: data below it
    /// is not authoritative here.
    pub(crate) fn cut_above(&self, name: &Name) -> Option<Name> {
        let apex_labels = label_count(&self.origin);
        (apex_labels + 1..label_count(name))
            .map(|k| name.trim_to(k))
            .find(|ancestor| {
                self.names
                    .get(ancestor)
                    .is_some_and(|t| t.contains_key(&RecordType::NS))
            })
    }

    /// The DNAME owner at or above the apex and strictly above `name`, if any: names below a
    /// DNAME are redirected, never served (RFC 6672 §2.3).
    pub(crate) fn dname_above(&self, name: &Name) -> Option<Name> {
        (label_count(&self.origin)..label_count(name))
            .map(|k| name.trim_to(k))
            .find(|ancestor| {
                self.names
                    .get(ancestor)
                    .is_some_and(|t| t.contains_key(&RecordType::DNAME))
            })
    }

    /// Owner names changed since the last call, and forgets them.
    ///
    /// Hand them to [`ZoneSigner::update`](super::ZoneSigner::update) with the snapshot signed
    /// before those changes. Reporting more names than changed is harmless (only slower).
    pub fn take_changes(&mut self) -> BTreeSet<Name> {
        std::mem::take(&mut self.changes)
    }

    /// The number of RRsets.
    #[cfg(test)]
    pub(crate) fn rrset_count(&self) -> usize {
        self.names.values().map(BTreeMap::len).sum()
    }

    /// The zone in presentation format, one record per line in canonical order.
    pub fn to_presentation(&self) -> String {
        let mut out = String::new();
        for rrset in self.rrsets() {
            for r in rrset.rdata() {
                // Writing to a String cannot fail.
                let _ = writeln!(
                    out,
                    "{} {} {} {} {}",
                    rrset.name,
                    rrset.ttl,
                    DNSClass::IN,
                    rrset.rtype,
                    rdata_text(r)
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn n(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    pub(crate) fn soa() -> SOA {
        SOA::new(
            n("ns1.example."),
            n("hostmaster.example."),
            1,
            7200,
            3600,
            1_209_600,
            3600,
        )
    }

    #[test]
    fn a_cname_is_the_only_data_at_its_name() {
        let mut zone = Zone::new(n("example."), soa(), 3600).unwrap();
        zone.add_text("www.example. 300 CNAME example.").unwrap();
        let refused = [
            // The apex holds the SOA: a CNAME there hides the zone.
            (
                "example. 300 CNAME other.example.",
                "cannot join other data",
            ),
            ("www.example. 300 A 192.0.2.1", "holds no other data"),
            ("www.example. 300 CNAME mail.example.", "one CNAME at most"),
        ];
        for (line, why) in refused {
            let before = zone.to_presentation();
            let e = zone.add_text(line).unwrap_err();
            assert!(e.to_string().contains(why), "{line}: {e}");
            assert!(e.to_string().contains("RFC 1034 §3.6.2"), "{e}");
            assert_eq!(zone.to_presentation(), before, "{line} changed the zone");
        }
        // Replacing the CNAME by itself is fine, and other data once it is gone.
        zone.add_text("www.example. 300 CNAME example.").unwrap();
        zone.remove_rrset(&n("www.example."), RecordType::CNAME);
        zone.add_text("www.example. 300 A 192.0.2.1").unwrap();
    }

    #[test]
    fn builds_and_prints_in_canonical_order() {
        let mut zone = Zone::new(n("Example."), soa(), 3600).unwrap();
        zone.add_text("example. 3600 NS NS1.Example.").unwrap();
        zone.add_text("z.example. 300 A 192.0.2.2").unwrap();
        zone.add_text("a.example. 300 A 192.0.2.1").unwrap();
        zone.add_text("a.example. 300 A 192.0.2.1").unwrap();
        zone.add_text("A.example. 300 IN A 192.0.2.0").unwrap();
        zone.set_delegation(&Delegation {
            name: n("child.example."),
            ttl: 86400,
            ns: vec![n("ns.child.example."), n("ns.elsewhere.")],
            glue: vec![(n("ns.child.example."), "192.0.2.53".parse().unwrap())],
            ds: vec![],
        })
        .unwrap();
        insta::assert_snapshot!(zone.to_presentation(), @r"
        example. 3600 IN SOA ns1.example. hostmaster.example. 1 7200 3600 1209600 3600
        example. 3600 IN NS ns1.example.
        a.example. 300 IN A 192.0.2.0
        a.example. 300 IN A 192.0.2.1
        child.example. 86400 IN NS ns.child.example.
        child.example. 86400 IN NS ns.elsewhere.
        ns.child.example. 86400 IN A 192.0.2.53
        z.example. 300 IN A 192.0.2.2
        ");
        let d = zone.delegation(&n("child.example.")).unwrap();
        assert_eq!(d.glue.len(), 1);
        assert_eq!(
            zone.cut_above(&n("ns.child.example.")),
            Some(n("child.example."))
        );
        assert_eq!(zone.cut_above(&n("child.example.")), None);
        assert!(zone.has_descendants(&n("child.example.")));
        assert!(zone.remove_delegation(&n("child.example.")));
        assert!(zone.rrset(&n("ns.child.example."), RecordType::A).is_none());
        let changes = zone.take_changes();
        assert!(changes.contains(&n("ns.child.example.")));
        assert!(zone.take_changes().is_empty());
    }

    #[test]
    fn refuses_what_does_not_belong() {
        let mut zone = Zone::new(n("example."), soa(), 3600).unwrap();
        assert!(matches!(
            zone.add_text("www.other. 300 A 192.0.2.1"),
            Err(ZoneError::OutOfZone { .. })
        ));
        assert!(matches!(
            zone.add_text("*.example. 300 NS ns.example."),
            Err(ZoneError::Wildcard(_))
        ));
        assert!(matches!(
            zone.add_text("*.example. 300 DNAME other."),
            Err(ZoneError::Wildcard(_))
        ));
        zone.add_text("*.example. 300 A 192.0.2.1").unwrap();
        assert!(matches!(
            zone.add_text("example. 300 NSEC3PARAM 1 0 0 -"),
            Err(ZoneError::SignerManaged { .. })
        ));
        zone.add_text("www.example. 300 A 192.0.2.1").unwrap();
        assert!(matches!(
            zone.add_text("www.example. 301 A 192.0.2.2"),
            Err(ZoneError::TtlMismatch { .. })
        ));
        assert!(matches!(
            zone.add(&n("www.example."), 300, RData::SOA(soa())),
            Err(ZoneError::Soa(_))
        ));
        assert!(zone.remove_rrset(&n("example."), RecordType::SOA).is_none());
        let sibling_glue = Delegation {
            name: n("a.example."),
            ttl: 300,
            ns: vec![n("ns.b.example.")],
            glue: vec![(n("ns.b.example."), "192.0.2.1".parse().unwrap())],
            ds: vec![],
        };
        assert!(matches!(
            zone.set_delegation(&sibling_glue),
            Err(ZoneError::Delegation { .. })
        ));
    }

    #[test]
    fn dname_rdata_round_trips_and_occludes_what_is_below() {
        let mut zone = Zone::new(n("example."), soa(), 3600).unwrap();
        zone.add_text("Old.example. 300 DNAME New.Other.").unwrap();
        let set = zone.rrset(&n("old.example."), RecordType::DNAME).unwrap();
        assert_eq!(
            crate::presentation::dname_target(&set.rdata()[0]),
            Some(n("new.other."))
        );
        assert!(
            zone.to_presentation()
                .contains("old.example. 300 IN DNAME new.other.")
        );
        assert_eq!(
            zone.dname_above(&n("a.b.old.example.")),
            Some(n("old.example."))
        );
        assert_eq!(zone.dname_above(&n("old.example.")), None);
        assert!(zone.add_text("x.example. 300 DNAME a b").is_err());
        assert_eq!(label_count(&n("*.example.")), 2);
        assert!(is_wildcard(&n("*.example.")) && !is_wildcard(&n("a.*.example.")));
        assert_eq!(wildcard_of(&n("example.")), Some(n("*.example.")));
        assert_eq!(
            dname_substitute(&n("a.B.old.example."), &n("old.example."), &n("new.other.")),
            Some(n("a.b.new.other."))
        );
        assert_eq!(
            dname_substitute(&n("old.example."), &n("old.example."), &n("new.other.")),
            None
        );
        let a60 = "a".repeat(60);
        let qname = n(&format!("{a60}.{a60}.{a60}.b.example."));
        let target = n(&format!("{a60}.{a60}.x."));
        assert_eq!(dname_substitute(&qname, &n("b.example."), &target), None);
    }

    #[test]
    fn parses_zone_files() {
        let text = "$TTL 300\n@ IN SOA ns1 hostmaster 5 7200 3600 1209600 3600\n@ NS ns1\nns1 A 192.0.2.1\n";
        let zone = Zone::parse(&n("example."), text).unwrap();
        assert_eq!(zone.serial(), 5);
        assert_eq!(zone.rrset_count(), 3);
        assert!(zone.rrset(&n("ns1.example."), RecordType::A).is_some());
    }
}
