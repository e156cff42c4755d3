//! What a resolver holds for one question: RRsets with their RRSIGs, denial proofs, and the
//! [`View`] the validator judges.
//!
//! Everything here is a value that can be shared (`Arc`) and compared cheaply: the cache model
//! assembles views from items cached at different times from different sources, and the same
//! item appears in many combinations, so each item carries a content [`Fingerprint`] that the
//! validator uses to remember signature checks it has already done.
//!
//! [`View::resolve`] builds a view by walking signed zones in memory the way an iterative
//! resolver walks servers (referral by referral, DS from the parent, DNSKEY from the child);
//! tests, the corpus and the benchmark use it. [`View::resolve_chain`] follows CNAMEs and
//! DNAMEs from zone to zone, one view per link. It never touches the network.

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use dnssec::keys::key_tag;
use dnssec::presentation::dname_target;
use dnssec::signed::synthesised_cname;
use dnssec::zone::dname_substitute;
use dnssec::{Lookup, SignedRrset, SignedZone};
use hickory_proto::dnssec::PublicKey;
use hickory_proto::dnssec::rdata::{DNSSECRData, RRSIG};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use jiff::Timestamp;

/// A 128-bit content hash of an item (two SipHash passes with fixed keys over its canonical
/// wire form).
///
/// Used only to memoise work inside one process (which signature verified with which key);
/// equality of items is still decided on their content.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(u128);

impl Fingerprint {
    pub(crate) fn of_bytes(bytes: &[u8]) -> Self {
        let half = |salt: u8| {
            let mut h = DefaultHasher::new();
            salt.hash(&mut h);
            bytes.hash(&mut h);
            h.finish()
        };
        Self((u128::from(half(0)) << 64) | u128::from(half(1)))
    }

    fn combine(parts: impl IntoIterator<Item = Self>) -> Self {
        let mut bytes = Vec::new();
        for p in parts {
            bytes.extend_from_slice(&p.0.to_be_bytes());
        }
        Self::of_bytes(&bytes)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", (self.0 >> 96) as u32)
    }
}

/// Why an item could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ViewError {
    /// An RRset needs at least one record.
    #[error("an RRset needs at least one record")]
    Empty,
    /// The records differ in owner, type or class.
    #[error("records of {0} do not form one RRset (owner, type and class must agree)")]
    Mixed(Name),
    /// A record given as a signature is not an RRSIG over this RRset's type.
    #[error("{0} is not an RRSIG covering the RRset")]
    NotAnRrsig(String),
    /// hickory could not encode a record.
    #[error("cannot encode {0}")]
    Encode(String),
}

/// The canonical wire form of a name (for fingerprints).
pub(crate) fn encode_name(name: &Name) -> Result<Vec<u8>, ViewError> {
    encode(&name.to_lowercase())
}

fn encode(item: &impl BinEncodable) -> Result<Vec<u8>, ViewError> {
    let mut buf = Vec::new();
    let mut encoder = BinEncoder::new(&mut buf);
    encoder.set_canonical_form(true);
    item.emit(&mut encoder)
        .map_err(|e| ViewError::Encode(e.to_string()))?;
    Ok(buf)
}

/// An RRset as a resolver received it: its records (canonical order, no duplicates) and the
/// RRSIGs that came with it.
#[derive(Clone, Debug)]
pub struct Rrset {
    name: Name,
    rtype: RecordType,
    ttl: u32,
    records: Vec<Record>,
    rrsigs: Vec<RRSIG>,
    fingerprint: Fingerprint,
}

impl PartialEq for Rrset {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
            && self.ttl == other.ttl
            && self.records == other.records
            && self.rrsigs == other.rrsigs
    }
}

impl Eq for Rrset {}

impl Rrset {
    /// An RRset from its records and the RRSIG records covering it.
    ///
    /// The TTL is the smallest record TTL (RFC 2181 §5.2 says they agree). RRSIGs covering
    /// another type are refused: a view item is one RRset with its own signatures.
    pub fn new(
        records: impl IntoIterator<Item = Record>,
        rrsigs: impl IntoIterator<Item = Record>,
    ) -> Result<Self, ViewError> {
        let mut keyed: Vec<(Vec<u8>, Record)> = Vec::new();
        let mut first: Option<(Name, RecordType)> = None;
        let mut ttl = u32::MAX;
        for mut r in records {
            r.name = r.name.to_lowercase();
            let (name, rtype) = first.get_or_insert_with(|| (r.name.clone(), r.record_type()));
            if r.name != *name
                || r.record_type() != *rtype
                || r.dns_class != hickory_proto::rr::DNSClass::IN
            {
                return Err(ViewError::Mixed(r.name));
            }
            ttl = ttl.min(r.ttl);
            let bytes = encode(&r.data)?;
            keyed.push((bytes, r));
        }
        let Some((name, rtype)) = first else {
            return Err(ViewError::Empty);
        };
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|a, b| a.0 == b.0);
        let mut sigs = Vec::new();
        for s in rrsigs {
            match s.data {
                RData::DNSSEC(DNSSECRData::RRSIG(sig)) if sig.input().type_covered == rtype => {
                    sigs.push(sig);
                }
                _ => return Err(ViewError::NotAnRrsig(s.to_string())),
            }
        }
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&encode(&name)?);
        bytes.extend_from_slice(&u16::from(rtype).to_be_bytes());
        bytes.extend_from_slice(&ttl.to_be_bytes());
        for (b, _) in &keyed {
            bytes.extend_from_slice(&(b.len() as u64).to_be_bytes());
            bytes.extend_from_slice(b);
        }
        for s in &sigs {
            let b = encode(s)?;
            bytes.extend_from_slice(&(b.len() as u64).to_be_bytes());
            bytes.extend_from_slice(&b);
        }
        Ok(Self {
            name,
            rtype,
            ttl,
            records: keyed.into_iter().map(|(_, r)| r).collect(),
            rrsigs: sigs,
            fingerprint: Fingerprint::of_bytes(&bytes),
        })
    }

    /// The RRset a signed zone serves, with its RRSIGs.
    pub fn from_signed(rrset: &SignedRrset) -> Self {
        Self::new(
            rrset.records().iter().cloned(),
            rrset.rrsigs().iter().cloned(),
        )
        .expect("invariant: a signed zone's RRset is non-empty, uniform and encodable")
    }

    /// The same records with other RRSIGs (for tests that tamper with signatures).
    #[cfg(test)]
    pub(crate) fn with_rrsigs(&self, rrsigs: impl IntoIterator<Item = RRSIG>) -> Self {
        let sigs = rrsigs.into_iter().map(|s| {
            Record::from_rdata(
                self.name.clone(),
                self.ttl,
                RData::DNSSEC(DNSSECRData::RRSIG(s)),
            )
        });
        Self::new(self.records.iter().cloned(), sigs)
            .expect("invariant: the records already formed an RRset")
    }

    /// The owner name (lowercase).
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The RRset's type; the owner name and type are the cache key of a view.
    pub fn record_type(&self) -> RecordType {
        self.rtype
    }

    /// The TTL it was served with.
    pub fn ttl(&self) -> u32 {
        self.ttl
    }

    /// The records, in canonical order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The RRSIGs that came with it.
    pub fn rrsigs(&self) -> &[RRSIG] {
        &self.rrsigs
    }

    /// The content fingerprint.
    pub(crate) fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The rdata of each record.
    pub fn rdata(&self) -> impl Iterator<Item = &RData> + '_ {
        self.records.iter().map(|r| &r.data)
    }

    /// How long a validating resolver may cache it: the TTL, capped by the RRSIGs' original
    /// TTL (RFC 4035 §5.3.3).
    pub(crate) fn cache_ttl(&self) -> u32 {
        self.rrsigs
            .iter()
            .map(|s| s.input().original_ttl)
            .fold(self.ttl, u32::min)
    }

    /// A short human description: the data that matters for DNSSEC (key tags, algorithms)
    /// and who signed it when, e.g.
    /// `DNSKEY{KSK 12345/8, ZSK 2222/8} sig{12345/8 20260228230000-20260315000000}`.
    pub fn summary(&self) -> String {
        let items: Vec<String> = self
            .records
            .iter()
            .map(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::DS(ds)) => {
                    format!("{}/{}", ds.key_tag(), u8::from(ds.algorithm()))
                }
                RData::DNSSEC(DNSSECRData::DNSKEY(k)) => format!(
                    "{} {}/{}",
                    if k.revoke() {
                        "REVOKED"
                    } else if k.secure_entry_point() {
                        "KSK"
                    } else {
                        "ZSK"
                    },
                    key_tag(k),
                    u8::from(k.public_key().algorithm())
                ),
                RData::NS(ns) => ns.0.to_string(),
                other => dnssec::presentation::rdata_text(other),
            })
            .collect();
        let body = if matches!(
            self.rtype,
            RecordType::DS | RecordType::DNSKEY | RecordType::NS
        ) {
            format!("{}{{{}}}", self.rtype, items.join(", "))
        } else {
            format!("{} {} {{{}}}", self.name, self.rtype, items.join(", "))
        };
        format!("{body} {}", sig_summary(&self.rrsigs))
    }
}

fn sig_summary(sigs: &[RRSIG]) -> String {
    if sigs.is_empty() {
        return "unsigned".into();
    }
    let parts: Vec<String> = sigs
        .iter()
        .map(|s| {
            let i = s.input();
            format!(
                "{}/{} {}-{}",
                i.key_tag,
                u8::from(i.algorithm),
                dnssec::signed::rrsig_time(i.sig_inception.get()),
                dnssec::signed::rrsig_time(i.sig_expiration.get())
            )
        })
        .collect();
    format!("sig{{{}}}", parts.join(", "))
}

/// The records of a negative answer: NSEC or NSEC3 RRsets (each with its RRSIGs) and the SOA
/// from the authority section.
#[derive(Clone, Debug)]
pub struct DenialProof {
    records: Vec<Arc<Rrset>>,
    soa: Option<Arc<Rrset>>,
    fingerprint: Fingerprint,
}

impl PartialEq for DenialProof {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
            && self.records == other.records
            && self.soa == other.soa
    }
}

impl Eq for DenialProof {}

impl DenialProof {
    /// A denial from its NSEC/NSEC3 RRsets and the SOA (if the answer carried one).
    pub fn new(records: impl IntoIterator<Item = Rrset>, soa: Option<Rrset>) -> Self {
        let mut records: Vec<Arc<Rrset>> = records.into_iter().map(Arc::new).collect();
        records.sort_by(|a, b| (&a.name, a.rtype).cmp(&(&b.name, b.rtype)));
        records.dedup_by(|a, b| a == b);
        let soa = soa.map(Arc::new);
        let fingerprint = Fingerprint::combine(
            records
                .iter()
                .map(|r| r.fingerprint)
                .chain(soa.iter().map(|s| s.fingerprint)),
        );
        Self {
            records,
            soa,
            fingerprint,
        }
    }

    /// The NSEC/NSEC3 RRsets.
    pub fn records(&self) -> &[Arc<Rrset>] {
        &self.records
    }

    /// The SOA RRset.
    pub fn soa(&self) -> Option<&Arc<Rrset>> {
        self.soa.as_ref()
    }

    /// Every RRset in the denial (NSEC/NSEC3, then the SOA).
    pub fn rrsets(&self) -> impl Iterator<Item = &Arc<Rrset>> + '_ {
        self.records.iter().chain(self.soa.iter())
    }

    /// The negative-caching TTL (RFC 2308 §5: the smaller of the SOA's TTL and its MINIMUM; RFC
    /// 9077: no longer than the NSEC/NSEC3 records' TTL).
    pub(crate) fn cache_ttl(&self) -> u32 {
        let soa_ttl = self.soa.as_ref().map(|s| {
            let minimum = s
                .rdata()
                .find_map(|r| match r {
                    RData::SOA(soa) => Some(soa.minimum),
                    _ => None,
                })
                .unwrap_or(u32::MAX);
            s.cache_ttl().min(minimum)
        });
        self.records
            .iter()
            .map(|r| r.cache_ttl())
            .chain(soa_ttl)
            .min()
            .unwrap_or(0)
    }

    /// A short human description, e.g. `NSEC3×2 sig{2222/13 …} + SOA`.
    pub fn summary(&self) -> String {
        let mut kinds: Vec<String> = Vec::new();
        for r in &self.records {
            kinds.push(format!("{} {}", r.rtype, r.name));
        }
        let sigs: Vec<RRSIG> = self
            .records
            .iter()
            .flat_map(|r| r.rrsigs.iter().cloned())
            .collect();
        let mut sigs_dedup: Vec<RRSIG> = Vec::new();
        for s in sigs {
            if !sigs_dedup.iter().any(|d| {
                d.input().key_tag == s.input().key_tag && d.input().algorithm == s.input().algorithm
            }) {
                sigs_dedup.push(s);
            }
        }
        format!(
            "[{}] {}{}",
            kinds.join(", "),
            sig_summary(&sigs_dedup),
            if self.soa.is_some() { " + SOA" } else { "" }
        )
    }
}

/// What a source answered (or a resolver holds) for one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// The RRset asked for (for NS at a parent: the delegation's NS RRset, unsigned), or the
    /// CNAME at the name.
    Positive(Arc<Rrset>),
    /// A positive answer synthesised from a wildcard (RFC 4592 §3.3.1): the RRset (or CNAME) at
    /// the query name, whose RRSIGs carry the wildcard's label count, and the NSEC/NSEC3
    /// records that came with it to show no closer name exists (RFC 4035 §5.3.4, RFC 5155
    /// §8.8). The proof may be empty: the validator then finds the answer bogus.
    Wildcard(Arc<Rrset>, Arc<DenialProof>),
    /// A redirection by a DNAME above the query name (RFC 6672 §3): the DNAME RRset (signed)
    /// and the CNAME the server synthesised from it for the query name (unsigned).
    Dname(Arc<Rrset>, Arc<Rrset>),
    /// The name exists without that type, with the proof.
    NoData(Arc<DenialProof>),
    /// The name does not exist, with the proof.
    NxDomain(Arc<DenialProof>),
    /// No usable answer: refused, server failure, not authoritative, timeout. Nothing to cache.
    Unavailable,
}

impl Response {
    /// A positive response.
    pub fn positive(rrset: Rrset) -> Self {
        Self::Positive(Arc::new(rrset))
    }

    /// The content fingerprint (all `Unavailable`s are equal).
    pub(crate) fn fingerprint(&self) -> Fingerprint {
        match self {
            Self::Positive(r) => Fingerprint::combine([Fingerprint(1), r.fingerprint]),
            Self::NoData(d) => Fingerprint::combine([Fingerprint(2), d.fingerprint]),
            Self::NxDomain(d) => Fingerprint::combine([Fingerprint(3), d.fingerprint]),
            Self::Wildcard(r, d) => {
                Fingerprint::combine([Fingerprint(4), r.fingerprint, d.fingerprint])
            }
            Self::Dname(d, c) => {
                Fingerprint::combine([Fingerprint(5), d.fingerprint, c.fingerprint])
            }
            Self::Unavailable => Fingerprint(0),
        }
    }

    /// How long a resolver may cache it (None: it is not cached at all). A wildcard expansion
    /// or a DNAME redirection lives as long as the shortest of its parts (the TTL Unbound gives
    /// the whole message).
    pub(crate) fn cache_ttl(&self) -> Option<u32> {
        match self {
            Self::Positive(r) => Some(r.cache_ttl()),
            Self::NoData(d) | Self::NxDomain(d) => Some(d.cache_ttl()),
            Self::Wildcard(r, d) if d.records().is_empty() => Some(r.cache_ttl()),
            Self::Wildcard(r, d) => Some(r.cache_ttl().min(d.cache_ttl())),
            Self::Dname(d, c) => Some(d.cache_ttl().min(c.cache_ttl())),
            Self::Unavailable => None,
        }
    }

    /// Every RRset in the response.
    pub fn rrsets(&self) -> Vec<&Arc<Rrset>> {
        match self {
            Self::Positive(r) => vec![r],
            Self::NoData(d) | Self::NxDomain(d) => d.rrsets().collect(),
            Self::Wildcard(r, d) => std::iter::once(r).chain(d.rrsets()).collect(),
            Self::Dname(d, c) => vec![d, c],
            Self::Unavailable => Vec::new(),
        }
    }

    /// The RRset a positive response gives for the question: the data or the CNAME at the
    /// name, expanded or not; for a DNAME, the synthesised CNAME. None for denials and no
    /// answer.
    pub(crate) fn answer_rrset(&self) -> Option<&Arc<Rrset>> {
        match self {
            Self::Positive(r) | Self::Wildcard(r, _) | Self::Dname(_, r) => Some(r),
            Self::NoData(_) | Self::NxDomain(_) | Self::Unavailable => None,
        }
    }

    /// Where a resolver asking for `qtype` must go on: the target of the CNAME (at the name,
    /// from a wildcard, or synthesised from a DNAME), lowercase. None when the response is
    /// the answer itself.
    pub fn redirect(&self, qtype: RecordType) -> Option<Name> {
        if qtype == RecordType::CNAME && !matches!(self, Self::Dname(..)) {
            return None;
        }
        let set = self.answer_rrset()?;
        (set.record_type() == RecordType::CNAME)
            .then(|| redirect_target(set))
            .flatten()
    }

    /// The RRSIG inception and expiration times in the response (seconds since the epoch).
    pub(crate) fn signature_times(&self) -> Vec<(u32, u32)> {
        self.rrsets()
            .into_iter()
            .flat_map(|r| r.rrsigs.iter())
            .map(|s| {
                (
                    s.input().sig_inception.get(),
                    s.input().sig_expiration.get(),
                )
            })
            .collect()
    }

    /// A short human description.
    pub fn summary(&self) -> String {
        match self {
            Self::Positive(r) => r.summary(),
            Self::Wildcard(r, d) => {
                format!("{} expanded from a wildcard, {}", r.summary(), d.summary())
            }
            Self::Dname(d, c) => format!("{} → {}", d.summary(), c.summary()),
            Self::NoData(d) => format!("NODATA {}", d.summary()),
            Self::NxDomain(d) => format!("NXDOMAIN {}", d.summary()),
            Self::Unavailable => "no answer".into(),
        }
    }

    /// What an authoritative server for `zone` answers for `qname`/`qtype`, as far as a
    /// resolver's cache is concerned.
    ///
    /// A referral is a positive answer only for the delegation's NS RRset (the parent-side NS a
    /// resolver caches); anything else below a cut, and names outside the zone, are
    /// [`Unavailable`](Self::Unavailable) here because this server does not answer them.
    pub fn from_zone(zone: &SignedZone, qname: &Name, qtype: RecordType) -> Self {
        // A negative answer carries the SOA with its TTL lowered to the negative TTL (RFC 2308
        // §3), as the authoritative server sends it.
        let soa = zone.soa();
        let negative_ttl = soa
            .records()
            .iter()
            .find_map(|r| match &r.data {
                RData::SOA(s) => Some(s.minimum),
                _ => None,
            })
            .unwrap_or(u32::MAX);
        let negative_soa = Rrset::new(
            soa.records().iter().map(|r| {
                let mut r = r.clone();
                r.ttl = r.ttl.min(negative_ttl);
                r
            }),
            soa.rrsigs().iter().map(|r| {
                let mut r = r.clone();
                r.ttl = r.ttl.min(negative_ttl);
                r
            }),
        )
        .expect("invariant: a signed zone's SOA RRset is non-empty, uniform and encodable");
        let denial = |proof: Vec<&SignedRrset>| {
            Arc::new(DenialProof::new(
                proof.into_iter().map(Rrset::from_signed),
                Some(negative_soa.clone()),
            ))
        };
        match zone.lookup(qname, qtype) {
            Lookup::Answer(r) | Lookup::Cname(r) => Self::positive(Rrset::from_signed(r)),
            Lookup::Wildcard { rrset, proof } => Self::Wildcard(
                Arc::new(Rrset::from_signed(&rrset.expanded(&qname.to_lowercase()))),
                Arc::new(DenialProof::new(
                    proof.into_iter().map(Rrset::from_signed),
                    None,
                )),
            ),
            Lookup::Dname(dname) => match synthesised_cname(dname, &qname.to_lowercase()) {
                Some(cname) => Self::Dname(
                    Arc::new(Rrset::from_signed(dname)),
                    Arc::new(
                        Rrset::new([cname], [])
                            .expect("invariant: one synthesised CNAME is an RRset"),
                    ),
                ),
                // YXDOMAIN (RFC 6672 §2.2): nothing a resolver caches.
                None => Self::Unavailable,
            },
            Lookup::NoData { proof } => Self::NoData(denial(proof)),
            Lookup::NxDomain { proof } => Self::NxDomain(denial(proof)),
            Lookup::Referral(referral)
                if qtype == RecordType::NS && referral.cut == &qname.to_lowercase() =>
            {
                Self::positive(Rrset::from_signed(referral.ns))
            }
            Lookup::Referral(_) | Lookup::NotInZone => Self::Unavailable,
        }
    }
}

/// The target of a CNAME RRset, lowercase.
pub(crate) fn redirect_target(set: &Rrset) -> Option<Name> {
    set.rdata().find_map(|r| match r {
        RData::CNAME(c) => Some(c.0.to_lowercase()),
        _ => None,
    })
}

/// The CNAME a DNAME RRset makes of `qname` (RFC 6672 §3.1), unsigned, with the DNAME's TTL.
fn synthesise(dname: &Rrset, qname: &Name) -> Option<Rrset> {
    let target = dname.rdata().find_map(dname_target)?;
    let new = dname_substitute(qname, dname.name(), &target)?;
    let record = Record::from_rdata(
        qname.clone(),
        dname.ttl(),
        RData::CNAME(hickory_proto::rr::rdata::CNAME(new)),
    );
    Rrset::new([record], []).ok()
}

/// Groups records into RRsets, each with the RRSIGs covering it (by owner and covered type).
fn group_rrsets(records: &[Record]) -> Vec<Rrset> {
    let mut sets: BTreeMap<(Name, RecordType), (Vec<Record>, Vec<Record>)> = BTreeMap::new();
    for r in records {
        let name = r.name.to_lowercase();
        match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(sig)) => {
                sets.entry((name, sig.input().type_covered))
                    .or_default()
                    .1
                    .push(r.clone());
            }
            _ => sets
                .entry((name, r.record_type()))
                .or_default()
                .0
                .push(r.clone()),
        }
    }
    sets.into_values()
        .filter(|(records, _)| !records.is_empty())
        .filter_map(|(records, sigs)| Rrset::new(records, sigs).ok())
        .collect()
}

impl Response {
    /// What a server's DNS message says about `qname`/`qtype`, as a resolver caches it (the
    /// runner records observations this way when it queries servers it did not write).
    ///
    /// NOERROR with the RRset in the answer section is positive (a CNAME at the name counts as
    /// the answer); NOERROR with an SOA in the authority section is NODATA; NXDOMAIN is a name
    /// error; both carry the NSEC/NSEC3 RRsets of the authority section. A referral is positive
    /// only for the NS question at the cut (the parent-side NS). Anything else (SERVFAIL,
    /// REFUSED, a referral for another question) is [`Unavailable`](Self::Unavailable).
    pub fn from_message(message: &Message, qname: &Name, qtype: RecordType) -> Self {
        let qname = qname.to_lowercase();
        let denial = || {
            let sets = group_rrsets(&message.authorities);
            let soa = sets
                .iter()
                .find(|s| s.record_type() == RecordType::SOA)
                .cloned();
            let proofs = sets
                .into_iter()
                .filter(|s| matches!(s.record_type(), RecordType::NSEC | RecordType::NSEC3));
            Arc::new(DenialProof::new(proofs, soa))
        };
        match message.metadata.response_code {
            ResponseCode::NXDomain => Self::NxDomain(denial()),
            ResponseCode::NoError => {
                let answers = group_rrsets(&message.answers);
                let at_name = |t: RecordType| {
                    answers
                        .iter()
                        .find(|s| *s.name() == qname && s.record_type() == t)
                        .cloned()
                };
                // A DNAME above the name redirects it (RFC 6672 §3); the CNAME beside it is
                // the server's synthesis (made here from the DNAME if the server left it out).
                let dname = answers.iter().find(|s| {
                    s.record_type() == RecordType::DNAME
                        && *s.name() != qname
                        && s.name().zone_of(&qname)
                });
                if let Some(dname) = dname {
                    let cname = at_name(RecordType::CNAME).or_else(|| synthesise(dname, &qname));
                    if let Some(cname) = cname {
                        return Self::Dname(Arc::new(dname.clone()), Arc::new(cname));
                    }
                }
                if let Some(set) = at_name(qtype).or_else(|| at_name(RecordType::CNAME)) {
                    // RRSIG labels below the owner's: a wildcard expansion, with whatever
                    // NSEC/NSEC3 the authority section holds as its proof.
                    let expanded = set
                        .rrsigs()
                        .iter()
                        .any(|s| s.input().num_labels < set.name().num_labels());
                    if expanded {
                        let proof = group_rrsets(&message.authorities).into_iter().filter(|s| {
                            matches!(s.record_type(), RecordType::NSEC | RecordType::NSEC3)
                        });
                        return Self::Wildcard(
                            Arc::new(set),
                            Arc::new(DenialProof::new(proof, None)),
                        );
                    }
                    return Self::positive(set);
                }
                let authority = group_rrsets(&message.authorities);
                if authority.iter().any(|s| s.record_type() == RecordType::SOA) {
                    return Self::NoData(denial());
                }
                match authority.into_iter().find(|s| {
                    qtype == RecordType::NS && s.record_type() == qtype && *s.name() == qname
                }) {
                    Some(ns) => Self::positive(ns),
                    None => Self::Unavailable,
                }
            }
            _ => Self::Unavailable,
        }
    }
}

/// One zone on the path from the trust anchor to the answer, as the resolver holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneView {
    /// The zone's apex.
    pub apex: Name,
    /// The parent's answer to `apex DS`: the DS RRset or the proof that there is none. Ignored
    /// for the zone the trust anchor is for.
    pub ds: Response,
    /// The zone's answer to `apex DNSKEY`.
    pub dnskey: Response,
}

/// Everything a resolver holds to answer one question: per zone from the anchor down, the DS
/// (or its denial) from the parent and the DNSKEY RRset from the zone; then the answer.
///
/// Each item is an `Arc` and may come from a different source and time; the view does not
/// record provenance (the cache model keeps that beside it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// The question's name.
    pub qname: Name,
    /// The question's type.
    pub qtype: RecordType,
    /// The zones from the top (the anchor's zone or above) down to the zone that answers.
    pub zones: Vec<ZoneView>,
    /// The answer from the last zone.
    pub answer: Response,
}

/// A response a test server gives instead of its zone's (to serve bad denials and the like).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// The zone (server) that answers differently.
    pub zone: Name,
    /// The question's name.
    pub qname: Name,
    /// The question's type.
    pub qtype: RecordType,
    /// What it answers.
    pub response: Response,
}

impl View {
    /// Resolves `qname`/`qtype` through `zones` in memory, as an iterative resolver would:
    /// start at the highest zone containing the name, follow referrals to the zones given,
    /// take each delegation's DS answer from the parent and the DNSKEY RRset from the child.
    ///
    /// A referral to a zone that is not given ends the walk with an
    /// [`Unavailable`](Response::Unavailable) answer.
    pub fn resolve(zones: &[&SignedZone], qname: &Name, qtype: RecordType) -> Self {
        Self::resolve_with(zones, qname, qtype, &[])
    }

    /// Like [`resolve`](Self::resolve), with some servers answering some questions
    /// differently.
    pub(crate) fn resolve_with(
        zones: &[&SignedZone],
        qname: &Name,
        qtype: RecordType,
        overrides: &[Override],
    ) -> Self {
        let qname = qname.to_lowercase();
        let ask = |zone: &SignedZone, name: &Name, rtype: RecordType| {
            overrides
                .iter()
                .find(|o| o.zone == *zone.origin() && o.qname == *name && o.qtype == rtype)
                .map_or_else(
                    || Response::from_zone(zone, name, rtype),
                    |o| o.response.clone(),
                )
        };
        let top = zones
            .iter()
            .filter(|z| z.origin().zone_of(&qname))
            .min_by_key(|z| z.origin().num_labels());
        let Some(mut current) = top.copied() else {
            return Self {
                qname,
                qtype,
                zones: Vec::new(),
                answer: Response::Unavailable,
            };
        };
        let mut path = vec![ZoneView {
            apex: current.origin().clone(),
            ds: Response::Unavailable,
            dnskey: ask(current, current.origin(), RecordType::DNSKEY),
        }];
        loop {
            let cut = match current.lookup(&qname, qtype) {
                Lookup::Referral(r) => Some(r.cut.clone()),
                _ => None,
            };
            let Some(cut) = cut else {
                let answer = ask(current, &qname, qtype);
                return Self {
                    qname,
                    qtype,
                    zones: path,
                    answer,
                };
            };
            let ds = ask(current, &cut, RecordType::DS);
            let Some(child) = zones.iter().find(|z| *z.origin() == cut) else {
                return Self {
                    qname,
                    qtype,
                    zones: path,
                    answer: Response::Unavailable,
                };
            };
            path.push(ZoneView {
                apex: cut.clone(),
                ds,
                dnskey: ask(child, &cut, RecordType::DNSKEY),
            });
            current = child;
        }
    }

    /// The most links [`resolve_chain`](Self::resolve_chain) follows: resolvers give up on
    /// longer chains too (Unbound restarts a query at most 11 times).
    pub const MAX_LINKS: usize = 10;

    /// Resolves `qname`/`qtype` and follows CNAMEs and DNAMEs from zone to zone, as a resolver
    /// does: one view per link, each resolved from the top (the target may be in another zone,
    /// across a delegation), until an answer that redirects no further, a loop, or
    /// [`MAX_LINKS`](Self::MAX_LINKS). Validate them with
    /// [`validate_chain`](crate::validate_chain).
    pub fn resolve_chain(
        zones: &[&SignedZone],
        qname: &Name,
        qtype: RecordType,
        overrides: &[Override],
    ) -> Vec<Self> {
        let mut links: Vec<Self> = Vec::new();
        let mut name = qname.to_lowercase();
        while links.len() < Self::MAX_LINKS {
            let view = Self::resolve_with(zones, &name, qtype, overrides);
            let next = view.answer.redirect(qtype);
            links.push(view);
            match next {
                Some(t) if !links.iter().any(|l| l.qname == t) => name = t,
                _ => break,
            }
        }
        links
    }
}

/// Seconds since the epoch as the 32-bit RRSIG time it compares against (RFC 4034 §3.1.5).
pub(crate) fn epoch32(t: Timestamp) -> u32 {
    // RRSIG times are serial numbers modulo 2^32; truncation is the intended wrap.
    t.as_second() as u32
}

#[cfg(test)]
mod tests {
    use dnssec::{Denial, KeyAlgorithm, Nsec3Config};
    use hickory_proto::op::{Message, OpCode};
    use hickory_proto::rr::RecordType;

    use super::*;
    use crate::testbed::{ChainBuilder, name};

    /// What the authoritative server answers, through its responder.
    fn message(zone: &SignedZone, qname: &Name, qtype: RecordType) -> Message {
        let mut q = Message::query();
        q.add_query(hickory_proto::op::Query::query(qname.clone(), qtype));
        q.metadata.op_code = OpCode::Query;
        let mut edns = hickory_proto::op::Edns::new();
        edns.set_dnssec_ok(true);
        edns.set_max_payload(4096);
        q.set_edns(edns);
        let request = q.to_vec().expect("a query encodes");
        let zones = [std::sync::Arc::new(zone.clone())];
        let reply = dnssec::answer::respond(&zones, &request, dnssec::answer::Transport::Tcp)
            .expect("the responder answers a query");
        Message::from_vec(&reply).expect("the responder's answer decodes")
    }

    #[test]
    fn messages_and_zone_lookups_give_the_same_responses() {
        let now = "2026-03-01T00:00:00Z".parse().unwrap();
        for denial in [Denial::Nsec, Denial::Nsec3(Nsec3Config::default())] {
            let chain = ChainBuilder::new(KeyAlgorithm::Ed25519, denial, now)
                .build()
                .unwrap();
            for (zone, q, t) in [
                (&chain.child, "www.example.test.", RecordType::A),
                (&chain.child, "www.example.test.", RecordType::TXT),
                (&chain.child, "nx.example.test.", RecordType::A),
                (&chain.child, "example.test.", RecordType::DNSKEY),
                (&chain.tld, "example.test.", RecordType::DS),
                (&chain.tld, "example.test.", RecordType::NS),
                (&chain.tld, "www.example.test.", RecordType::A),
                (&chain.child, "www.other.", RecordType::A),
            ] {
                let q = name(q);
                let from_zone = Response::from_zone(zone, &q, t);
                let from_message = Response::from_message(&message(zone, &q, t), &q, t);
                assert_eq!(from_message, from_zone, "{q} {t}");
            }
        }
    }

    #[test]
    fn wildcard_and_dname_answers_read_the_same_from_messages_and_zones() {
        let now = "2026-03-01T00:00:00Z".parse().unwrap();
        let apex = name("example.test.");
        for denial in [Denial::Nsec, Denial::Nsec3(Nsec3Config::default())] {
            let mut b = ChainBuilder::new(KeyAlgorithm::EcdsaP256Sha256, denial, now);
            b.child_records = crate::testbed::wildcard_records(&apex);
            b.child_records
                .push(format!("dn.{apex} 3600 DNAME other.test."));
            let chain = b.build().unwrap();
            for (q, t, kind) in [
                ("a.wild.example.test.", RecordType::A, "wildcard"),
                ("a.wild.example.test.", RecordType::MX, "nodata"),
                ("a.cn.example.test.", RecordType::A, "wildcard"),
                ("x.dn.example.test.", RecordType::A, "dname"),
                ("sub.wild.example.test.", RecordType::A, "positive"),
            ] {
                let q = name(q);
                let from_zone = Response::from_zone(&chain.child, &q, t);
                let from_message = Response::from_message(&message(&chain.child, &q, t), &q, t);
                assert_eq!(from_message, from_zone, "{q} {t}");
                let shape = match &from_zone {
                    Response::Wildcard(..) => "wildcard",
                    Response::NoData(_) => "nodata",
                    Response::Dname(..) => "dname",
                    Response::Positive(_) => "positive",
                    _ => "other",
                };
                assert_eq!(shape, kind, "{q} {t}: {}", from_zone.summary());
            }
        }
    }
}
