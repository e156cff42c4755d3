//! The immutable signed snapshot of a zone, and the lookups an authoritative server needs.
//!
//! A [`SignedZone`] is what the signer produces and a server serves: every owner name as a
//! [`Node`] (its RRsets with their RRSIGs, its NSEC), the NSEC3 chain if the zone uses NSEC3, and
//! enough structure to answer any query: [`SignedZone::lookup`] classifies a query as an answer,
//! a CNAME, a wildcard expansion (with the proof that no closer name exists), a DNAME
//! redirection, a referral (NS, DS with its RRSIGs or the proof that there is none, glue),
//! NODATA or NXDOMAIN (each with its denial proof, RFC 4035 §3.1.3 and RFC 5155 §7.2). The
//! server adds the SOA for negative answers ([`SignedZone::soa`]) and decides about DO, sizes
//! and flags.
//!
//! Snapshots share structure: the signer derives the next one from this one in time and memory
//! proportional to the change, so hold them in an `Arc` and swap.
//!
//! **Architecture Invariant:** nothing here reads a clock or touches the network; a snapshot is a
//! value.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use hickory_proto::dnssec::TBS;
use hickory_proto::dnssec::rdata::{DNSSECRData, NSEC3, RRSIG, SigInput};
use hickory_proto::rr::rdata::{CNAME, NS};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use jiff::Timestamp;

use super::keys::KeyPair;
pub use super::params::Nsec3Hash;
use super::params::{Denial, Nsec3Config, Setup};
use super::pmap::ChunkedMap;
use super::presentation::{dname_target, rdata_text};
use super::zone::{dname_substitute, label_count, wildcard_of};

/// An RRset with the RRSIGs that cover it (none when it is not signed: delegation NS, glue, or a
/// fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRrset {
    pub(crate) name: Name,
    pub(crate) rtype: RecordType,
    pub(crate) ttl: u32,
    pub(crate) records: Vec<Record>,
    pub(crate) rrsigs: Rrsigs,
}

/// The RRSIGs covering one RRset.
///
/// Their fields (algorithm, key tag, labels, original TTL, validity window) are fixed when the
/// RRset is signed, and they alone decide reuse and refresh. The signature bytes are made then,
/// or, with [`SigningPolicy::defer_signatures`](crate::SigningPolicy::defer_signatures), when
/// the RRSIGs are first read: a server answers with the same RRSIGs either way, but an RRset
/// nobody asks for costs no private-key operation (an RSA-2048 signature is about 0.6 ms, and
/// a freshly signed zone holds RRsets no query of a scenario ever reaches). Clones share one
/// cell, so a deferred signature is made at most once, however many snapshots carry it.
#[derive(Clone, Default)]
pub(crate) struct Rrsigs(Option<Arc<RrsigCell>>);

struct RrsigCell {
    /// One per RRSIG, in the order of the records.
    inputs: Vec<SigInput>,
    made: OnceLock<Vec<Record>>,
    /// What a deferred cell signs when first read (None: made at once).
    pending: Option<Pending>,
}

struct Pending {
    name: Name,
    ttl: u32,
    /// The key and the data to be signed for each of [`RrsigCell::inputs`].
    parts: Vec<(KeyPair, TBS)>,
}

impl Rrsigs {
    /// RRSIGs already made (anything else in `records` is not an RRSIG and is left out).
    pub(crate) fn made(records: Vec<Record>) -> Self {
        if records.is_empty() {
            return Self::default();
        }
        let inputs = records
            .iter()
            .filter_map(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::RRSIG(s)) => Some(s.input().clone()),
                _ => None,
            })
            .collect();
        Self(Some(Arc::new(RrsigCell {
            inputs,
            made: OnceLock::from(records),
            pending: None,
        })))
    }

    /// RRSIGs of `name`/`ttl` whose signatures are made when first read: `parts` pairs each
    /// input with its key and the data it signs.
    pub(crate) fn deferred(name: Name, ttl: u32, parts: Vec<(SigInput, KeyPair, TBS)>) -> Self {
        if parts.is_empty() {
            return Self::default();
        }
        let (inputs, parts) = parts.into_iter().map(|(i, k, t)| (i, (k, t))).unzip();
        Self(Some(Arc::new(RrsigCell {
            inputs,
            made: OnceLock::new(),
            pending: Some(Pending { name, ttl, parts }),
        })))
    }

    /// The RRSIG records, signing them first if they were deferred.
    pub(crate) fn records(&self) -> &[Record] {
        let Some(cell) = &self.0 else { return &[] };
        cell.made.get_or_init(|| {
            let Some(p) = &cell.pending else {
                return Vec::new();
            };
            cell.inputs
                .iter()
                .zip(&p.parts)
                .map(|(input, (key, tbs))| {
                    // Signing fails only when the system's random generator does (RSA
                    // blinding, ECDSA nonces); the eager path would have failed the same way.
                    // The RRSIG then carries no signature: validators call the answer bogus,
                    // and so do the checks, rather than the server panicking mid-answer.
                    let signature = key.sign(tbs).unwrap_or_default();
                    Record::from_rdata(
                        p.name.clone(),
                        p.ttl,
                        RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(
                            input.clone(),
                            signature,
                        ))),
                    )
                })
                .collect()
        })
    }

    /// The RRSIGs' fields without their signatures (never signs).
    pub(crate) fn inputs(&self) -> &[SigInput] {
        self.0.as_ref().map_or(&[], |c| &c.inputs)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.inputs().is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.inputs().len()
    }

    /// Whether the signatures exist yet (not deferred, or read since).
    #[cfg(test)]
    pub(crate) fn is_made(&self) -> bool {
        self.0.as_ref().is_none_or(|c| c.made.get().is_some())
    }
}

impl std::fmt::Debug for Rrsigs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            None => f.write_str("[]"),
            Some(c) => match c.made.get() {
                Some(made) => f.debug_list().entries(made).finish(),
                None => write!(f, "{} deferred RRSIG(s)", c.inputs.len()),
            },
        }
    }
}

/// Equal when the RRSIGs are (deferred ones are made to compare them).
impl PartialEq for Rrsigs {
    fn eq(&self, other: &Self) -> bool {
        self.records() == other.records()
    }
}

impl Eq for Rrsigs {}

impl SignedRrset {
    pub(crate) fn unsigned(name: Name, rtype: RecordType, ttl: u32, records: Vec<Record>) -> Self {
        Self {
            name,
            rtype,
            ttl,
            records,
            rrsigs: Rrsigs::default(),
        }
    }

    /// The owner name.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The RRset's type (RRSIG sets are keyed by the type they cover).
    pub fn record_type(&self) -> RecordType {
        self.rtype
    }

    /// The TTL (also the RRSIGs' original TTL).
    pub fn ttl(&self) -> u32 {
        self.ttl
    }

    /// The records, in canonical order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The RRSIGs covering the records, ordered by algorithm then key tag.
    pub fn rrsigs(&self) -> &[Record] {
        self.rrsigs.records()
    }

    /// Whether any RRSIG covers this RRset.
    pub fn is_signed(&self) -> bool {
        !self.rrsigs.is_empty()
    }

    /// This (wildcard) RRset as its expansion at `qname` (RFC 4592 §3.3.1): the same records
    /// and RRSIGs under the query name. The RRSIGs keep the wildcard's label count, fewer than
    /// the owner's, which is how a validator recognises the expansion and knows to ask for the
    /// proof that no closer name exists (RFC 4035 §5.3.4).
    pub fn expanded(&self, qname: &Name) -> Self {
        let rename = |r: &Record| {
            let mut r = r.clone();
            r.name = qname.clone();
            r
        };
        Self {
            name: qname.clone(),
            rtype: self.rtype,
            ttl: self.ttl,
            records: self.records.iter().map(rename).collect(),
            rrsigs: Rrsigs::made(self.rrsigs().iter().map(rename).collect()),
        }
    }
}

/// The CNAME a server synthesises from a DNAME for a name below its owner (RFC 6672 §3.1):
/// owner `qname`, the DNAME's TTL, unsigned, pointing at `qname` with the DNAME owner replaced
/// by its target. None when the DNAME rdata is unreadable or the new name would be longer than
/// 255 octets (the server answers YXDOMAIN then, RFC 6672 §2.2).
pub fn synthesised_cname(dname: &SignedRrset, qname: &Name) -> Option<Record> {
    let target = dname_target(&dname.records.first()?.data)?;
    let new = dname_substitute(qname, &dname.name, &target)?;
    Some(Record::from_rdata(
        qname.clone(),
        dname.ttl,
        RData::CNAME(CNAME(new)),
    ))
}

/// What an owner name is to its zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// The zone's apex (SOA, NS, DNSKEY, NSEC3PARAM…).
    Apex,
    /// Authoritative data below the apex.
    Authoritative,
    /// A zone cut: NS (unsigned) and DS (signed by this zone) are the parent's side.
    Delegation,
    /// Below a zone cut (glue): served only as additional data, never signed.
    Occluded,
    /// A name with no RRsets of its own but with names below it (RFC 4592 §2.2.2); it exists,
    /// so queries for it get NODATA, not NXDOMAIN.
    EmptyNonTerminal,
}

impl NodeKind {
    /// Whether the name is on the NSEC chain (RFC 4034 §4.1.1: authoritative data or a cut).
    pub(crate) fn in_nsec_chain(self) -> bool {
        matches!(self, Self::Apex | Self::Authoritative | Self::Delegation)
    }
}

/// One owner name of a signed zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub(crate) name: Name,
    pub(crate) kind: NodeKind,
    /// Sorted by type.
    pub(crate) rrsets: Vec<SignedRrset>,
    pub(crate) nsec: Option<SignedRrset>,
    pub(crate) nsec3: Option<Nsec3Hash>,
}

impl Node {
    /// The owner name.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// What the name is to the zone.
    pub fn kind(&self) -> NodeKind {
        self.kind
    }

    /// The RRsets at this name (not NSEC), in type order.
    pub fn rrsets(&self) -> &[SignedRrset] {
        &self.rrsets
    }

    /// The RRset of one type.
    pub fn rrset(&self, rtype: RecordType) -> Option<&SignedRrset> {
        self.rrsets
            .binary_search_by(|s| s.rtype.cmp(&rtype))
            .ok()
            .map(|i| &self.rrsets[i])
    }

    pub(crate) fn rrset_mut(&mut self, rtype: RecordType) -> Option<&mut SignedRrset> {
        self.rrsets
            .binary_search_by(|s| s.rtype.cmp(&rtype))
            .ok()
            .map(|i| &mut self.rrsets[i])
    }

    /// The NSEC at this name (NSEC zones; apex, authoritative names and cuts only).
    pub fn nsec(&self) -> Option<&SignedRrset> {
        self.nsec.as_ref()
    }
}

/// One NSEC3 record of the chain, with the owner name it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nsec3Entry {
    pub(crate) owner: Name,
    pub(crate) rrset: SignedRrset,
}

impl Nsec3Entry {
    /// The original (unhashed) owner name.
    pub fn owner(&self) -> &Name {
        &self.owner
    }

    /// The NSEC3 RRset (owner: base32hex hash under the origin) with its RRSIGs.
    pub fn rrset(&self) -> &SignedRrset {
        &self.rrset
    }

    /// The NSEC3 rdata.
    pub fn nsec3(&self) -> Option<&NSEC3> {
        match self.rrset.records.first().map(|r| &r.data) {
            Some(RData::DNSSEC(DNSSECRData::NSEC3(n))) => Some(n),
            _ => None,
        }
    }
}

/// Counts from one signing run (for benchmarks and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignStats {
    /// Owner names rebuilt.
    pub names_rebuilt: usize,
    /// RRSIGs computed afresh (with `defer_signatures`, prepared afresh: their signatures are
    /// made when first read); the incremental signer keeps this proportional to the change.
    pub signatures_made: usize,
    /// RRSIGs carried over from the previous snapshot.
    pub signatures_reused: usize,
}

/// How the server should answer a query. See [`SignedZone::lookup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'z> {
    /// The RRset asked for, authoritative.
    Answer(&'z SignedRrset),
    /// The name holds a CNAME and the query was for another type; the server may follow it.
    Cname(&'z SignedRrset),
    /// The name does not exist but the wildcard at its closest encloser has the type asked
    /// for, or a CNAME (RFC 4592 §3.3.1): `rrset` is the wildcard's RRset, which the server
    /// serves [expanded](SignedRrset::expanded) to the query name, with `proof`, the denial
    /// showing no closer name exists: the NSEC covering the query name (RFC 4035 §3.1.3.3),
    /// or the NSEC3 covering the next closer name (RFC 5155 §7.2.6).
    Wildcard {
        /// The wildcard's RRset (owner `*.…`).
        rrset: &'z SignedRrset,
        /// The denial records.
        proof: Vec<&'z SignedRrset>,
    },
    /// A name strictly below a DNAME (RFC 6672 §2.3): the server answers with the DNAME and a
    /// CNAME it synthesises ([`synthesised_cname`]).
    Dname(&'z SignedRrset),
    /// The name exists without that type. `proof` proves it (NSEC or NSEC3 records with their
    /// RRSIGs); for DS at an opt-out delegation it is the closest provable encloser proof. For a
    /// name that does not exist under a wildcard without the type (wildcard NODATA) it is the
    /// denial of the name and the wildcard's own NSEC/NSEC3 (RFC 4035 §3.1.3.4, RFC 5155
    /// §7.2.5).
    NoData {
        /// The denial records.
        proof: Vec<&'z SignedRrset>,
    },
    /// The name is at or below a zone cut.
    Referral(Referral<'z>),
    /// The name does not exist: `proof` denies the name and the wildcard at its closest encloser.
    NxDomain {
        /// The denial records.
        proof: Vec<&'z SignedRrset>,
    },
    /// The name is not in this zone.
    NotInZone,
}

/// A referral to a child zone, from the parent's side of the cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral<'z> {
    /// The delegation point: the child zone's apex name.
    pub cut: &'z Name,
    /// The NS RRset (unsigned, RFC 4035 §2.2).
    pub ns: &'z SignedRrset,
    /// The DS RRset with its RRSIGs, for a secure delegation.
    pub ds: Option<&'z SignedRrset>,
    /// For an insecure delegation: the NSEC/NSEC3 proof that there is no DS.
    pub no_ds_proof: Vec<&'z SignedRrset>,
    /// Address RRsets of in-zone name servers.
    pub glue: Vec<&'z SignedRrset>,
}

/// Options for [`SignedZone::to_presentation`].
#[derive(Debug, Clone, Copy, Default)]
pub struct PresentationOptions {
    /// Replace signature bytes with `<signature>`, for snapshots of randomised (ECDSA) signatures.
    pub mask_signatures: bool,
}

/// A signed zone. See the module documentation.
#[derive(Debug, Clone)]
pub struct SignedZone {
    pub(crate) origin: Name,
    pub(crate) serial: u32,
    pub(crate) nodes: ChunkedMap<Name, Arc<Node>>,
    pub(crate) nsec3: ChunkedMap<Nsec3Hash, Arc<Nsec3Entry>>,
    pub(crate) setup: Arc<Setup>,
    pub(crate) stats: SignStats,
    /// TTL of the NSEC/NSEC3 records (RFC 9077: min of SOA TTL and SOA MINIMUM).
    pub(crate) negative_ttl: u32,
    /// No RRSIG in the snapshot expires before this (a lower bound after updates).
    pub(crate) earliest_expiration: Option<u32>,
}

impl SignedZone {
    /// The zone's apex.
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// The SOA serial of this snapshot.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// What the last signing run did.
    pub fn stats(&self) -> SignStats {
        self.stats
    }

    /// No signature in this snapshot expires earlier than this (None: nothing is signed).
    ///
    /// After incremental updates this is a lower bound, so a refresh it triggers may find
    /// nothing to do; see [`ZoneSigner::needs_refresh`](super::ZoneSigner::needs_refresh).
    pub fn earliest_expiration(&self) -> Option<Timestamp> {
        self.earliest_expiration
            .and_then(|s| Timestamp::from_second(i64::from(s)).ok())
    }

    /// The TTL of NSEC/NSEC3 records and of negative answers (RFC 2308, RFC 9077).
    pub fn negative_ttl(&self) -> u32 {
        self.negative_ttl
    }

    /// NSEC or NSEC3 (with parameters).
    pub fn denial(&self) -> &Denial {
        &self.setup.denial
    }

    fn nsec3_config(&self) -> Option<&Nsec3Config> {
        match &self.setup.denial {
            Denial::Nsec3(c) => Some(c),
            Denial::Nsec | Denial::None => None,
        }
    }

    /// The apex node.
    pub fn apex(&self) -> &Node {
        self.node(&self.origin)
            .expect("invariant: the signer always builds the apex node")
    }

    /// The apex SOA RRset (for the authority section of negative answers).
    pub fn soa(&self) -> &SignedRrset {
        self.apex()
            .rrset(RecordType::SOA)
            .expect("invariant: a zone always has its SOA")
    }

    /// The apex DNSKEY RRset.
    pub fn dnskeys(&self) -> Option<&SignedRrset> {
        self.apex().rrset(RecordType::DNSKEY)
    }

    /// The node at `name` (any kind), if the name exists in the zone's data.
    pub fn node(&self, name: &Name) -> Option<&Node> {
        self.nodes.get(name).map(AsRef::as_ref)
    }

    /// Every node, in canonical order.
    pub(crate) fn nodes(&self) -> impl Iterator<Item = &Node> + '_ {
        self.nodes.iter().map(|(_, n)| n.as_ref())
    }

    /// The number of owner names (including empty non-terminals and glue).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The NSEC3 chain in hash order (empty for NSEC zones).
    pub(crate) fn nsec3_chain(&self) -> impl Iterator<Item = &Nsec3Entry> + '_ {
        self.nsec3.iter().map(|(_, e)| e.as_ref())
    }

    /// The NSEC3 hash of a name under this zone's parameters (None for NSEC zones).
    pub(crate) fn nsec3_hash(&self, name: &Name) -> Option<Nsec3Hash> {
        self.nsec3_config().map(|c| c.hash(name))
    }

    /// The NSEC3 whose owner hash is the hash of `name`.
    pub fn nsec3_matching(&self, name: &Name) -> Option<&Nsec3Entry> {
        let h = self.nsec3_hash(name)?;
        self.nsec3.get(&h).map(AsRef::as_ref)
    }

    /// The NSEC3 covering the hash of `name`: the entry with the greatest hash below it,
    /// wrapping round to the last. (If the hash is in the chain that entry matches instead.)
    pub fn nsec3_covering(&self, name: &Name) -> Option<&Nsec3Entry> {
        let h = self.nsec3_hash(name)?;
        self.nsec3
            .iter_before(&h)
            .next()
            .or_else(|| self.nsec3.last())
            .map(|(_, e)| e.as_ref())
    }

    /// The NSEC covering `name`: the one at the greatest chain name below it, wrapping round to
    /// the last. For a name on the chain this is its predecessor's, not its own.
    pub fn nsec_covering(&self, name: &Name) -> Option<&SignedRrset> {
        self.nodes
            .iter_before(name)
            .chain(self.nodes.iter_rev())
            .find(|(_, n)| n.kind.in_nsec_chain())
            .and_then(|(_, n)| n.nsec.as_ref())
    }

    /// The highest zone cut at or above `name` (below the apex).
    pub(crate) fn cut_at_or_above(&self, name: &Name) -> Option<&Node> {
        let apex_labels = label_count(&self.origin);
        (apex_labels + 1..=label_count(name))
            .map(|k| name.trim_to(k))
            .find_map(|a| self.node(&a).filter(|n| n.kind == NodeKind::Delegation))
    }

    /// The closest encloser of `name`: the longest existing ancestor-or-self (apex at worst).
    /// Occluded names do not count; callers look for a cut first.
    pub fn closest_encloser(&self, name: &Name) -> &Node {
        let apex_labels = label_count(&self.origin);
        (apex_labels..=label_count(name))
            .rev()
            .map(|k| name.trim_to(k))
            .find_map(|a| self.node(&a).filter(|n| n.kind != NodeKind::Occluded))
            .unwrap_or_else(|| self.apex())
    }

    /// Classifies a query for `qname`/`qtype` and gathers what the answer needs.
    ///
    /// DS at a cut is answered from the parent side (this zone); DS at the apex is answered as
    /// NODATA from this zone, like BIND does when it is not also authoritative for the parent
    /// (a server serving the parent too should ask the parent's snapshot). A name below a
    /// DNAME is redirected (RFC 6672 §3.2); a name that does not exist is answered from the
    /// wildcard at its closest encloser if there is one (RFC 4592 §3.3.1, RFC 1034 §4.3.2 step
    /// 3.c).
    pub fn lookup(&self, qname: &Name, qtype: RecordType) -> Lookup<'_> {
        let qname = qname.to_lowercase();
        if !self.origin.zone_of(&qname) {
            return Lookup::NotInZone;
        }
        if let Some(cut) = self.cut_at_or_above(&qname) {
            if cut.name == qname && qtype == RecordType::DS {
                return match cut.rrset(RecordType::DS) {
                    Some(ds) => Lookup::Answer(ds),
                    None => Lookup::NoData {
                        proof: self.no_ds_proof(cut),
                    },
                };
            }
            return Lookup::Referral(self.referral(cut));
        }
        if let Some(dname) = self.dname_above(&qname) {
            return Lookup::Dname(dname);
        }
        let Some(node) = self.node(&qname).filter(|n| n.kind != NodeKind::Occluded) else {
            return self.synthesise(&qname, qtype);
        };
        if let Some(rrset) = node.rrset(qtype) {
            return Lookup::Answer(rrset);
        }
        if let Some(cname) = node.rrset(RecordType::CNAME) {
            return Lookup::Cname(cname);
        }
        Lookup::NoData {
            proof: self.nodata_proof(node),
        }
    }

    /// The DNAME RRset strictly above `name` (at the apex or below), if any.
    fn dname_above(&self, name: &Name) -> Option<&SignedRrset> {
        (label_count(&self.origin)..label_count(name))
            .map(|k| name.trim_to(k))
            .find_map(|a| self.node(&a)?.rrset(RecordType::DNAME))
    }

    /// The answer for a name that does not exist: from the wildcard at its closest encloser
    /// (the type, else a CNAME, else wildcard NODATA), or NXDOMAIN when there is no wildcard.
    fn synthesise(&self, qname: &Name, qtype: RecordType) -> Lookup<'_> {
        let ce = self.closest_encloser(qname);
        let wildcard = wildcard_of(&ce.name)
            .and_then(|w| self.node(&w))
            .filter(|w| w.kind == NodeKind::Authoritative);
        let Some(wildcard) = wildcard else {
            return Lookup::NxDomain {
                proof: self.nxdomain_proof(qname),
            };
        };
        let nsec3 = self.nsec3_config().is_some();
        let no_closer: Vec<&SignedRrset> = if nsec3 {
            let next_closer = qname.trim_to(label_count(&ce.name) + 1);
            self.nsec3_covering(&next_closer)
                .map(|e| &e.rrset)
                .into_iter()
                .collect()
        } else {
            self.nsec_covering(qname).into_iter().collect()
        };
        let answer = wildcard
            .rrset(qtype)
            .or_else(|| wildcard.rrset(RecordType::CNAME));
        if let Some(rrset) = answer {
            return Lookup::Wildcard {
                rrset,
                proof: no_closer,
            };
        }
        // Wildcard NODATA: the name does not exist, and the wildcard lacks the type.
        let mut proof = if nsec3 {
            let mut p = self.closest_provable_encloser_proof(qname);
            p.extend(self.nsec3_matching(&wildcard.name).map(|e| &e.rrset));
            p
        } else {
            let mut p = no_closer;
            p.extend(wildcard.nsec.as_ref());
            p
        };
        let mut seen = std::collections::BTreeSet::new();
        proof.retain(|s| seen.insert(s.name.clone()));
        Lookup::NoData { proof }
    }

    /// The parent-side answer for a cut: NS, DS or the proof of no DS, glue.
    pub fn referral<'z>(&'z self, cut: &'z Node) -> Referral<'z> {
        let ns = cut
            .rrset(RecordType::NS)
            .expect("invariant: a Delegation node has an NS RRset");
        let ds = cut.rrset(RecordType::DS);
        let no_ds_proof = if ds.is_none() {
            self.no_ds_proof(cut)
        } else {
            Vec::new()
        };
        let mut glue = Vec::new();
        for r in &ns.records {
            if let RData::NS(NS(host)) = &r.data
                && let Some(node) = self.node(host)
            {
                glue.extend(
                    [RecordType::A, RecordType::AAAA]
                        .into_iter()
                        .filter_map(|t| node.rrset(t)),
                );
            }
        }
        Referral {
            cut: &cut.name,
            ns,
            ds,
            no_ds_proof,
            glue,
        }
    }

    /// Proof that a cut has no DS: its NSEC (bitmap without DS), its NSEC3, or with opt-out the
    /// closest provable encloser proof (RFC 5155 §7.2.4).
    fn no_ds_proof<'z>(&'z self, cut: &'z Node) -> Vec<&'z SignedRrset> {
        if self.nsec3_config().is_none() {
            return cut.nsec.iter().collect();
        }
        if let Some(e) = cut.nsec3.and_then(|h| self.nsec3.get(&h)) {
            return vec![&e.rrset];
        }
        self.closest_provable_encloser_proof(&cut.name)
    }

    fn nodata_proof<'z>(&'z self, node: &'z Node) -> Vec<&'z SignedRrset> {
        if self.nsec3_config().is_some() {
            match node.nsec3.and_then(|h| self.nsec3.get(&h)) {
                Some(e) => vec![&e.rrset],
                None => self.closest_provable_encloser_proof(&node.name),
            }
        } else if let Some(nsec) = &node.nsec {
            vec![nsec]
        } else {
            // An empty non-terminal: the NSEC that covers it (its next name is below it).
            self.nsec_covering(&node.name).into_iter().collect()
        }
    }

    fn nxdomain_proof(&self, qname: &Name) -> Vec<&SignedRrset> {
        let ce = self.closest_encloser(qname);
        // `*.` in front of the closest encloser (RFC 4592 §2.1.1). A closest encloser of 254
        // octets has no wildcard below it: nothing to deny then.
        let wildcard = wildcard_of(&ce.name);
        let mut proof = Vec::new();
        if self.nsec3_config().is_some() {
            proof = self.closest_provable_encloser_proof(qname);
            if let Some(w) = &wildcard {
                proof.extend(self.nsec3_covering(w).map(|e| &e.rrset));
            }
        } else {
            proof.extend(self.nsec_covering(qname));
            if let Some(w) = &wildcard {
                proof.extend(self.nsec_covering(w));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        proof.retain(|s| seen.insert(s.name.clone()));
        proof
    }

    /// RFC 5155 §7.2.1: the NSEC3 matching the closest (provable) encloser and the NSEC3
    /// covering the next closer name.
    fn closest_provable_encloser_proof(&self, name: &Name) -> Vec<&SignedRrset> {
        let apex_labels = label_count(&self.origin);
        for k in (apex_labels..label_count(name)).rev() {
            let encloser = name.trim_to(k);
            if let Some(m) = self.nsec3_matching(&encloser) {
                let next_closer = name.trim_to(k + 1);
                let mut proof = vec![&m.rrset];
                if let Some(c) = self.nsec3_covering(&next_closer)
                    && c.rrset.name != m.rrset.name
                {
                    proof.push(&c.rrset);
                }
                return proof;
            }
        }
        Vec::new()
    }

    /// Every record (RRSIGs included), grouped by owner name in canonical order, each RRset
    /// followed by its RRSIGs: what a zone transfer would carry.
    pub fn records(&self) -> Vec<Record> {
        let mut out = Vec::new();
        for (_, sets) in self.by_owner() {
            for s in sets {
                out.extend(s.records.iter().cloned());
                out.extend(s.rrsigs().iter().cloned());
            }
        }
        out
    }

    fn by_owner(&self) -> BTreeMap<Name, Vec<&SignedRrset>> {
        let mut owners: BTreeMap<Name, Vec<&SignedRrset>> = BTreeMap::new();
        for node in self.nodes() {
            let entry = owners.entry(node.name.clone()).or_default();
            entry.extend(node.rrsets.iter());
            entry.extend(node.nsec.iter());
            // Types in numeric order, but the SOA first, as zone files expect.
            entry.sort_by_key(|s| (s.rtype != RecordType::SOA, s.rtype));
        }
        for e in self.nsec3_chain() {
            owners
                .entry(e.rrset.name.clone())
                .or_default()
                .push(&e.rrset);
        }
        owners.retain(|_, v| !v.is_empty());
        owners
    }

    /// The zone in presentation format: one record per line, names in canonical order, each
    /// RRset followed by its RRSIGs (times as `YYYYMMDDHHmmSS`). Meant for snapshots and people.
    pub fn to_presentation(&self, options: PresentationOptions) -> String {
        let mut out = String::new();
        for (_, sets) in self.by_owner() {
            for s in sets {
                for r in s.records.iter().chain(s.rrsigs()) {
                    let _ = writeln!(out, "{}", format_record(r, options));
                }
            }
        }
        out
    }

    /// The CNAME target at a node, if it holds one.
    pub(crate) fn cname_target(node: &Node) -> Option<&Name> {
        match node
            .rrset(RecordType::CNAME)?
            .records
            .first()
            .map(|r| &r.data)
        {
            Some(RData::CNAME(CNAME(t))) => Some(t),
            _ => None,
        }
    }
}

/// One record in presentation format; RRSIG times as `YYYYMMDDHHmmSS` (RFC 4034 §3.2).
pub(crate) fn format_record(record: &Record, options: PresentationOptions) -> String {
    if let RData::DNSSEC(DNSSECRData::RRSIG(sig)) = &record.data {
        let input = sig.input();
        let signature = if options.mask_signatures {
            "<signature>".to_string()
        } else {
            data_encoding::BASE64.encode(sig.sig())
        };
        return format!(
            "{} {} IN RRSIG {} {} {} {} {} {} {} {} {}",
            record.name,
            record.ttl,
            input.type_covered,
            u8::from(input.algorithm),
            input.num_labels,
            input.original_ttl,
            rrsig_time(input.sig_expiration.get()),
            rrsig_time(input.sig_inception.get()),
            input.key_tag,
            input.signer_name,
            signature
        );
    }
    if record.record_type() == RecordType::DNAME {
        return format!(
            "{} {} IN DNAME {}",
            record.name,
            record.ttl,
            rdata_text(&record.data)
        );
    }
    record.to_string()
}

/// RRSIG time field in `YYYYMMDDHHmmSS` (UTC).
pub fn rrsig_time(seconds: u32) -> String {
    Timestamp::from_second(i64::from(seconds))
        .map(|t| t.strftime("%Y%m%d%H%M%S").to_string())
        .unwrap_or_else(|_| seconds.to_string())
}
