//! The zone signer: keys with roles, a policy, an explicit `now`, and incremental re-signing.
//!
//! [`ZoneSigner::sign`] turns a [`Zone`] into a [`SignedZone`] at a given instant:
//!
//! - the apex gets a DNSKEY RRset of the published keys (signed by the KSKs/CSKs only) and, for
//!   NSEC3, an NSEC3PARAM; every other authoritative RRset is signed by the ZSKs/CSKs; the DS at
//!   a cut is signed (it is this zone's data); the NS at a cut and glue are not (RFC 4035 §2.2);
//! - every algorithm in the DNSKEY RRset signs every RRset (RFC 4035 §2.2), unless a fault says
//!   otherwise; a signer whose keys cannot do that is refused at construction;
//! - RRSIG inception is the earliest instant to cover minus the inception offset, expiration the
//!   latest plus the validity, minus a deterministic per-RRset jitter. The instants are `now`
//!   plus [`SigningPolicy::also_valid_at`]: scenarios run on a virtual clock, but real validators
//!   read the wall clock, so signatures must be valid at both;
//! - denial of existence is an NSEC chain or an NSEC3 chain (RFC 5155) with RFC 9276 defaults.
//!
//! [`ZoneSigner::update`] makes the next snapshot after a change: it rebuilds only the names
//! that changed (and their ancestors and, for a cut, its subtree), re-links the NSEC/NSEC3
//! neighbours, bumps the SOA serial, and keeps every signature that is still good. Its cost is
//! proportional to the change, not to the zone: the snapshot's maps share structure.
//! [`ZoneSigner::resign`] is the full pass (new keys, new policy, signatures nearing expiry),
//! still reusing every signature that remains good.
//!
//! **Architecture Invariant:** the signer never reads the wall clock; `now` is a parameter.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use hickory_proto::dnssec::rdata::{DNSSECRData, NSEC, NSEC3, NSEC3PARAM, RRSIG, SigInput};
use hickory_proto::dnssec::{Algorithm, Nsec3HashAlgorithm, TBS};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, SerialNumber};
use jiff::{SignedDuration, Timestamp};

use super::keys::{KeyError, ZoneKey};
pub use super::params::{Denial, Nsec3Config, SigningFaults};
use super::params::{KeySummary, Setup};
use super::pmap::ChunkedMap;
use super::signed::{
    Node, NodeKind, Nsec3Entry, Nsec3Hash, Rrsigs, SignStats, SignedRrset, SignedZone,
};
use super::zone::{RrSet, Zone, label_count};

/// How to sign: times, denial, TTLs, faults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningPolicy {
    /// Inception is this long before the earliest instant covered (clock skew margin).
    pub inception_offset: SignedDuration,
    /// Expiration is this long after the latest instant covered (before jitter).
    pub validity: SignedDuration,
    /// Up to this much is taken off each RRset's expiration, chosen by hashing the owner, type
    /// and [`jitter_seed`](Self::jitter_seed), so re-signing spreads out but runs are repeatable.
    pub jitter: SignedDuration,
    /// Seed hashed with owner and type, so two runs with one seed sign identically.
    pub jitter_seed: u64,
    /// Further instants the signatures must be valid at (e.g. the real wall-clock time while the
    /// scenario's clock is virtual).
    pub also_valid_at: Vec<Timestamp>,
    /// A signature is kept on re-signing while it stays valid at least this long past the
    /// latest instant covered; otherwise it is made anew.
    pub refresh: SignedDuration,
    /// NSEC or NSEC3.
    pub denial: Denial,
    /// TTL of the apex DNSKEY RRset.
    pub dnskey_ttl: u32,
    /// Signing threads (0: as many as the machine has cores).
    pub threads: usize,
    /// Make each RRset's signatures when a query first reads them rather than when the zone
    /// is signed. Answers are the same (RSA and Ed25519 signatures are deterministic; an
    /// ECDSA one is made once and then kept), but an RRset nobody asks for costs no
    /// private-key operation. The harness's built-in operators defer: the queries of a random
    /// world read about three quarters of the signatures its zones are given (8,612 of 11,331
    /// over the explore benchmark's 200 worlds), and RSA signing was a fifth of its CPU. Off by default: a signer whose output is written out (a zone file, a benchmark
    /// of signing) should pay as it goes.
    pub defer_signatures: bool,
    /// Deliberate misbehaviour for scenarios that must catch breakage (none by default).
    pub faults: SigningFaults,
}

impl Default for SigningPolicy {
    fn default() -> Self {
        Self {
            inception_offset: SignedDuration::from_hours(1),
            validity: SignedDuration::from_hours(14 * 24),
            jitter: SignedDuration::ZERO,
            jitter_seed: 0,
            also_valid_at: Vec::new(),
            refresh: SignedDuration::from_hours(7 * 24),
            denial: Denial::default(),
            dnskey_ttl: 3600,
            threads: 0,
            defer_signatures: false,
            faults: SigningFaults::default(),
        }
    }
}

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// An algorithm of the DNSKEY RRset has no key to sign the DNSKEY RRset or the zone data
    /// (RFC 4035 §2.2, RFC 8901 §4: operators must share algorithms).
    #[error("algorithm {algorithm} is in the DNSKEY RRset but no active key signs {what} with it")]
    AlgorithmWithoutSigner {
        /// The algorithm left without a signing key.
        algorithm: Algorithm,
        /// "the DNSKEY RRset" or "the zone data".
        what: &'static str,
    },
    /// No key signs at all.
    #[error("no active signing key")]
    NoSigningKey,
    /// The policy's times do not make sense.
    #[error("bad signing policy: {0}")]
    Policy(String),
    /// A DS RRset where there is no delegation (DS lives at the parent side of a cut).
    #[error("DS at {0}, which is not a delegation")]
    DsOutsideCut(Name),
    /// The snapshot to update is of another zone.
    #[error("snapshot of {snapshot} cannot be updated from zone {zone}")]
    WrongZone {
        /// The snapshot's origin.
        snapshot: String,
        /// The zone's origin.
        zone: String,
    },
    /// Two owner names hash to the same NSEC3 hash (RFC 5155 §7.1: change the salt).
    #[error("NSEC3 hash collision between {0} and {1}")]
    Nsec3Collision(String, String),
    /// A key failed to sign.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// hickory could not encode something to sign.
    #[error("encoding {name} {rtype} for signing: {reason}")]
    Encode {
        /// Owner name of the RRset that could not be encoded.
        name: Name,
        /// Type of the RRset that could not be encoded.
        rtype: RecordType,
        /// hickory's message.
        reason: String,
    },
}

/// Which keys sign an RRset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    DnskeySet,
    ZoneData,
    /// The apex CDS and CDNSKEY: signed by the keys of both roles, because a parent acts on
    /// them only when a key with a DS (a KSK) signs them (RFC 7344 §4.1), while validators
    /// expect zone data signed by the ZSK (what PowerDNS and BIND do).
    KeyManagement,
}

/// Signs zones. See the module documentation.
#[derive(Debug, Clone)]
pub struct ZoneSigner {
    keys: Vec<ZoneKey>,
    policy: SigningPolicy,
    setup: Arc<Setup>,
}

impl ZoneSigner {
    /// A signer with these keys and this policy.
    ///
    /// Refuses keys that break RFC 4035 §2.2: each algorithm in the DNSKEY RRset needs an active
    /// key signing the DNSKEY RRset and one signing the rest (unless the faults allow it).
    pub fn new(keys: Vec<ZoneKey>, policy: SigningPolicy) -> Result<Self, SignError> {
        if policy.validity <= policy.jitter + policy.refresh {
            return Err(SignError::Policy(
                "validity must exceed jitter + refresh, or fresh signatures would be re-made at once"
                    .into(),
            ));
        }
        if policy.inception_offset.is_negative() || policy.jitter.is_negative() {
            return Err(SignError::Policy(
                "inception offset and jitter must not be negative".into(),
            ));
        }
        let signer = Self {
            setup: Arc::new(Setup {
                keys: keys
                    .iter()
                    .map(|k| KeySummary {
                        dnskey: k.dnskey().clone(),
                        role: k.role(),
                        published: k.is_published(),
                        signing: k.is_signing(),
                    })
                    .collect(),
                denial: policy.denial.clone(),
                dnskey_ttl: policy.dnskey_ttl,
                faults: policy.faults.clone(),
            }),
            keys,
            policy,
        };
        if signer.signers(Role::ZoneData).next().is_none()
            && signer.signers(Role::DnskeySet).next().is_none()
            && signer.policy.faults.omit_algorithms.is_empty()
        {
            return Err(SignError::NoSigningKey);
        }
        if !signer.policy.faults.allow_incomplete_algorithms {
            for key in signer.keys.iter().filter(|k| k.is_published()) {
                let algorithm = key.algorithm();
                if signer.policy.faults.omit_algorithms.contains(&algorithm) {
                    continue;
                }
                for (role, what) in [
                    (Role::DnskeySet, "the DNSKEY RRset"),
                    (Role::ZoneData, "the zone data"),
                ] {
                    if !signer.signers(role).any(|k| k.algorithm() == algorithm) {
                        return Err(SignError::AlgorithmWithoutSigner { algorithm, what });
                    }
                }
            }
        }
        Ok(signer)
    }

    /// A "signer" that signs nothing: snapshots of an unsigned zone, with no DNSKEY RRset, no
    /// RRSIGs and no NSEC/NSEC3 (operators that do not run DNSSEC, or a zone going insecure).
    /// The policy's denial is replaced by [`Denial::None`].
    pub fn unsigned(mut policy: SigningPolicy) -> Self {
        policy.denial = Denial::None;
        Self {
            setup: Arc::new(Setup {
                keys: Vec::new(),
                denial: Denial::None,
                dnskey_ttl: policy.dnskey_ttl,
                faults: policy.faults.clone(),
            }),
            keys: Vec::new(),
            policy,
        }
    }

    /// Every key in the DNSKEY RRset, active or only published, in their signing roles.
    pub fn keys(&self) -> &[ZoneKey] {
        &self.keys
    }

    /// Validity, jitter and denial settings the zone is signed with.
    pub fn policy(&self) -> &SigningPolicy {
        &self.policy
    }

    fn signers(&self, role: Role) -> impl Iterator<Item = &ZoneKey> + '_ {
        self.keys.iter().filter(move |k| {
            k.is_signing()
                && !self.policy.faults.omit_algorithms.contains(&k.algorithm())
                && match role {
                    Role::DnskeySet => k.role().signs_dnskey(),
                    Role::ZoneData => k.role().signs_zone_data(),
                    Role::KeyManagement => k.role().signs_dnskey() || k.role().signs_zone_data(),
                }
        })
    }

    /// Signs a whole zone at `now`, with the zone's SOA serial.
    pub fn sign(&self, zone: &Zone, now: Timestamp) -> Result<SignedZone, SignError> {
        let affected = all_names(zone);
        self.build(None, None, zone, affected, now, zone.serial())
    }

    /// Signs the whole zone again (after key, policy or time changes), keeping the previous
    /// snapshot's signatures that are still good; the serial goes up.
    pub fn resign(
        &self,
        prev: &SignedZone,
        zone: &Zone,
        now: Timestamp,
    ) -> Result<SignedZone, SignError> {
        check_same_zone(prev, zone)?;
        let affected = all_names(zone);
        let serial = next_serial(prev.serial, zone.serial());
        self.build(None, Some(prev), zone, affected, now, serial)
    }

    /// The snapshot after `changed` owner names changed in `zone` since `prev` was made
    /// (typically [`Zone::take_changes`]), with the serial bumped.
    ///
    /// Rebuilds the changed names, their ancestors (empty non-terminals come and go), the
    /// subtree of a cut that appeared or went, and the NSEC/NSEC3 neighbours; everything else
    /// is shared with `prev`. If the keys or policy differ from `prev`'s, or a refresh is due
    /// ([`needs_refresh`](Self::needs_refresh)), this is a [`resign`](Self::resign): a
    /// caller that publishes when a refresh is due gets every expiring signature replaced,
    /// not only the changed names' (which left the rest to expire, and the refresh due again
    /// at every publication).
    pub fn update(
        &self,
        prev: &SignedZone,
        zone: &Zone,
        changed: &BTreeSet<Name>,
        now: Timestamp,
    ) -> Result<SignedZone, SignError> {
        check_same_zone(prev, zone)?;
        // Keys, denial or NSEC TTLs changed: every RRSIG or every NSEC may change. A refresh
        // due: every RRset's signatures may be near their end, changed or not.
        if *prev.setup != *self.setup
            || prev.negative_ttl != negative_ttl(zone)
            || self.needs_refresh(prev, now)
        {
            return self.resign(prev, zone, now);
        }
        let origin = zone.origin();
        let mut affected = BTreeSet::new();
        affected.insert(origin.clone());
        for c in changed {
            let c = c.to_lowercase();
            if !origin.zone_of(&c) {
                continue;
            }
            add_with_ancestors(&mut affected, origin, &c);
            let was_cut = prev
                .node(&c)
                .is_some_and(|n| n.kind == NodeKind::Delegation);
            let is_cut = zone.rrset(&c, RecordType::NS).is_some() && c != *origin;
            // A DNAME occludes its subtree as a cut does (RFC 6672 §2.3).
            let was_dname = prev
                .node(&c)
                .is_some_and(|n| n.rrset(RecordType::DNAME).is_some());
            let is_dname = zone.rrset(&c, RecordType::DNAME).is_some();
            if was_cut || is_cut || was_dname || is_dname {
                // Every name of the subtree changes kind, and so may its ancestors: names
                // between the cut and occluded data become empty non-terminals, or stop being
                // ones.
                let below: Vec<Name> = zone
                    .subtree(&c)
                    .map(|(n, _)| n.clone())
                    .chain(
                        prev.nodes
                            .iter_from(&c)
                            .take_while(|(n, _)| c.zone_of(n))
                            .map(|(n, _)| n.clone()),
                    )
                    .collect();
                for n in &below {
                    add_with_ancestors(&mut affected, origin, n);
                }
            }
        }
        let serial = next_serial(prev.serial, zone.serial());
        self.build(Some(prev), Some(prev), zone, affected, now, serial)
    }

    /// The engine behind all three entry points.
    ///
    /// `base` is the snapshot whose maps are edited (None: start empty), `reuse` the one whose
    /// signatures may be kept, `affected` the names to rebuild (with their ancestors).
    fn build(
        &self,
        base: Option<&SignedZone>,
        reuse: Option<&SignedZone>,
        zone: &Zone,
        affected: BTreeSet<Name>,
        now: Timestamp,
        serial: u32,
    ) -> Result<SignedZone, SignError> {
        let ctx = Ctx::new(self, zone, now, serial);
        let mut stats = SignStats::default();
        let mut nodes = base.map(|b| b.nodes.clone()).unwrap_or_default();
        let mut chain = base.map(|b| b.nsec3.clone()).unwrap_or_default();
        let mut jobs: Vec<Job> = Vec::new();
        // Chain membership before the change, for the names whose status may change.
        let mut was_member: BTreeMap<Name, bool> = BTreeMap::new();
        let mut nsec3_of: BTreeMap<Name, (Option<Nsec3Hash>, Option<Nsec3Hash>)> = BTreeMap::new();

        // 1. Rebuild the affected names.
        for name in &affected {
            let old = base.and_then(|b| b.node(name));
            was_member.insert(name.clone(), old.is_some_and(|n| n.kind.in_nsec_chain()));
            let reuse_node = reuse.and_then(|r| r.node(name));
            let new = self.build_node(&ctx, zone, name, reuse_node, &mut jobs, &mut stats)?;
            let new_hash = new.as_ref().and_then(|n| n.nsec3);
            nsec3_of.insert(name.clone(), (old.and_then(|n| n.nsec3), new_hash));
            stats.names_rebuilt += 1;
            match new {
                Some(node) => {
                    nodes.insert(name.clone(), Arc::new(node));
                }
                None => {
                    nodes.remove(name);
                }
            }
        }

        // 2. Re-link the denial chain around what changed.
        match &self.policy.denial {
            Denial::Nsec => {
                let mut relink: BTreeSet<Name> = BTreeSet::new();
                for (name, was) in &was_member {
                    let is = nodes.get(name).is_some_and(|n| n.kind.in_nsec_chain());
                    if is {
                        relink.insert(name.clone());
                    }
                    if is != *was
                        && let Some(p) = prev_member(&nodes, name)
                    {
                        relink.insert(p);
                    }
                }
                for name in relink {
                    self.relink_nsec(&ctx, &mut nodes, &name, reuse, &mut jobs, &mut stats);
                }
            }
            Denial::None => {}
            Denial::Nsec3(config) => {
                let mut relink: BTreeSet<Nsec3Hash> = BTreeSet::new();
                let mut moved: Vec<Nsec3Hash> = Vec::new();
                for (name, (old, new)) in &nsec3_of {
                    if let Some(h) = old
                        && *old != *new
                        && chain.get(h).is_some_and(|e| e.owner == *name)
                    {
                        chain.remove(h);
                        moved.push(*h);
                    }
                    if let Some(h) = new {
                        if let Some(existing) = chain.get(h) {
                            if existing.owner != *name && nodes.get(&existing.owner).is_some() {
                                return Err(SignError::Nsec3Collision(
                                    existing.owner.to_string(),
                                    name.to_string(),
                                ));
                            }
                        } else {
                            moved.push(*h);
                        }
                        chain.insert(*h, Arc::new(placeholder_nsec3(name.clone())));
                        relink.insert(*h);
                    }
                }
                for h in moved {
                    if let Some((p, _)) = chain.iter_before(&h).next().or_else(|| chain.last()) {
                        relink.insert(*p);
                    }
                }
                for h in relink {
                    self.relink_nsec3(
                        &ctx, config, &nodes, &mut chain, h, reuse, &mut jobs, &mut stats,
                    )?;
                }
            }
        }

        // 3. Sign what needs signing, in parallel, then put the signatures in place.
        let signatures = {
            let nodes = &nodes;
            let chain = &chain;
            parallel_map(&jobs, self.threads(), |job| {
                let rrset = match &job.slot {
                    Slot::Rrset(t) => nodes.get(&job.owner).and_then(|n| n.rrset(*t)),
                    Slot::Nsec => nodes.get(&job.owner).and_then(|n| n.nsec.as_ref()),
                    Slot::Nsec3(h) => chain.get(h).map(|e| &e.rrset),
                }
                .expect("invariant: every job points at an RRset built in steps 1-2");
                self.sign_rrset(&ctx, rrset, job.role)
            })
        };
        let mut earliest = base.and_then(|b| b.earliest_expiration);
        for (job, sigs) in jobs.iter().zip(signatures) {
            let sigs = sigs?;
            stats.signatures_made += sigs.len();
            for input in sigs.inputs() {
                earliest = min_expiration(earliest, input);
            }
            match &job.slot {
                Slot::Nsec3(h) => {
                    let entry = chain
                        .get_mut(h)
                        .expect("invariant: the job's NSEC3 entry exists");
                    Arc::make_mut(entry).rrset.rrsigs = sigs;
                }
                slot => {
                    let node = Arc::make_mut(
                        nodes
                            .get_mut(&job.owner)
                            .expect("invariant: the job's node exists"),
                    );
                    let rrset = match slot {
                        Slot::Rrset(t) => node.rrset_mut(*t),
                        _ => node.nsec.as_mut(),
                    }
                    .expect("invariant: the job's RRset exists");
                    rrset.rrsigs = sigs;
                }
            }
        }

        let mut signed = SignedZone {
            origin: zone.origin().clone(),
            serial,
            nodes,
            nsec3: chain,
            setup: Arc::clone(&self.setup),
            stats,
            negative_ttl: ctx.negative_ttl,
            earliest_expiration: earliest,
        };
        if base.is_none() && stats.signatures_reused > 0 {
            // Reused signatures may expire before the new ones: look at all of them once.
            signed.earliest_expiration = all_signatures(&signed).fold(None, min_expiration);
        }
        Ok(signed)
    }

    /// Whether some signature of `signed` expires within the refresh period after `now` (or
    /// after the latest of [`SigningPolicy::also_valid_at`]), so a
    /// [`resign`](Self::resign) is due. [`update`](Self::update) only re-signs what changed.
    pub fn needs_refresh(&self, signed: &SignedZone, now: Timestamp) -> bool {
        let latest = self
            .policy
            .also_valid_at
            .iter()
            .copied()
            .fold(now, Timestamp::max);
        let due = epoch32(latest.saturating_add(self.policy.refresh).unwrap_or(latest));
        signed.earliest_expiration.is_some_and(|e| e < due)
    }

    fn threads(&self) -> usize {
        if self.policy.threads > 0 {
            self.policy.threads
        } else {
            // Asked once per process: the answer reads cgroup files, and a world signs often.
            static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
            *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
        }
    }

    /// The node for `name` in `zone` (None if the name no longer exists), with signatures
    /// reused from `reuse_node` where still good and jobs queued for the rest.
    fn build_node(
        &self,
        ctx: &Ctx,
        zone: &Zone,
        name: &Name,
        reuse_node: Option<&Node>,
        jobs: &mut Vec<Job>,
        stats: &mut SignStats,
    ) -> Result<Option<Node>, SignError> {
        let origin = zone.origin();
        let kind = match zone.rrsets_at(name) {
            Some(types) => {
                if name == origin {
                    NodeKind::Apex
                } else if zone.cut_above(name).is_some() || zone.dname_above(name).is_some() {
                    NodeKind::Occluded
                } else if types.contains_key(&RecordType::NS) {
                    NodeKind::Delegation
                } else {
                    NodeKind::Authoritative
                }
            }
            None => {
                if name != origin
                    && zone.cut_above(name).is_none()
                    && zone.dname_above(name).is_none()
                    && zone.has_descendants(name)
                {
                    NodeKind::EmptyNonTerminal
                } else {
                    return Ok(None);
                }
            }
        };
        let mut rrsets: Vec<(RrSet, Option<Role>)> = Vec::new();
        for rrset in zone.rrsets_at(name).into_iter().flat_map(|t| t.values()) {
            let role = match (kind, rrset.record_type()) {
                (NodeKind::Occluded, _) => None,
                (NodeKind::Delegation, RecordType::DS) => Some(Role::ZoneData),
                (NodeKind::Delegation, _) => None,
                (_, RecordType::DS) => return Err(SignError::DsOutsideCut(name.clone())),
                (NodeKind::Apex, RecordType::CDS | RecordType::CDNSKEY) => {
                    Some(Role::KeyManagement)
                }
                _ => Some(Role::ZoneData),
            };
            let rrset = if rrset.record_type() == RecordType::SOA {
                with_serial(rrset, ctx.serial)
            } else {
                rrset.clone()
            };
            rrsets.push((rrset, role));
        }
        if kind == NodeKind::Apex {
            if let Some(dnskeys) = &ctx.dnskey_rrset {
                rrsets.push((dnskeys.clone(), Some(Role::DnskeySet)));
            }
            if let Some(param) = &ctx.nsec3param {
                rrsets.push((param.clone(), Some(Role::ZoneData)));
            }
            rrsets.sort_by_key(|(s, _)| s.record_type());
        }
        let mut node = Node {
            name: name.clone(),
            kind,
            rrsets: Vec::with_capacity(rrsets.len()),
            nsec: None,
            nsec3: None,
        };
        for (rrset, role) in rrsets {
            let rtype = rrset.record_type();
            let role = role.filter(|r| self.will_sign(name, rtype, *r));
            let mut signed =
                SignedRrset::unsigned(name.clone(), rtype, rrset.ttl(), rrset.records());
            if let Some(role) = role {
                let previous = reuse_node.and_then(|n| n.rrset(rtype));
                match self.reusable(ctx, &signed, previous, role) {
                    Some(sigs) => {
                        stats.signatures_reused += sigs.len();
                        signed.rrsigs = sigs;
                    }
                    None => jobs.push(Job {
                        owner: name.clone(),
                        slot: Slot::Rrset(rtype),
                        role,
                    }),
                }
            }
            node.rrsets.push(signed);
        }
        if let Denial::Nsec3(config) = &self.policy.denial {
            let member = match kind {
                NodeKind::Apex | NodeKind::Authoritative | NodeKind::EmptyNonTerminal => true,
                NodeKind::Delegation => !config.opt_out || node.rrset(RecordType::DS).is_some(),
                NodeKind::Occluded => false,
            };
            if member {
                node.nsec3 = Some(config.hash(name));
            }
        }
        Ok(Some(node))
    }

    fn policy_unsigned(&self, name: &Name, rtype: RecordType) -> bool {
        self.policy
            .faults
            .unsigned
            .iter()
            .any(|(n, t)| n == name && t.is_none_or(|t| t == rtype))
    }

    /// Whether an RRset at `name` of `rtype` gets signatures in this run.
    fn will_sign(&self, name: &Name, rtype: RecordType, role: Role) -> bool {
        !self.policy_unsigned(name, rtype) && self.signers(role).next().is_some()
    }

    /// The type bitmap of a node's NSEC/NSEC3 (RFC 4034 §4.1.2, RFC 5155 §3.2): the types at
    /// the name, plus RRSIG where something there is signed and NSEC for NSEC; at a cut only NS,
    /// DS and RRSIG, never the glue.
    fn bitmap(&self, node: &Node, nsec: bool) -> BTreeSet<RecordType> {
        let mut types = BTreeSet::new();
        let mut signed = false;
        for s in &node.rrsets {
            let (counts, role) = match node.kind {
                NodeKind::Delegation => (
                    matches!(s.rtype, RecordType::NS | RecordType::DS),
                    (s.rtype == RecordType::DS).then_some(Role::ZoneData),
                ),
                NodeKind::Occluded | NodeKind::EmptyNonTerminal => (false, None),
                NodeKind::Apex if s.rtype == RecordType::DNSKEY => (true, Some(Role::DnskeySet)),
                NodeKind::Apex if matches!(s.rtype, RecordType::CDS | RecordType::CDNSKEY) => {
                    (true, Some(Role::KeyManagement))
                }
                NodeKind::Apex | NodeKind::Authoritative => (true, Some(Role::ZoneData)),
            };
            if counts {
                types.insert(s.rtype);
            }
            if let Some(role) = role {
                signed |= self.will_sign(&node.name, s.rtype, role);
            }
        }
        if nsec {
            types.insert(RecordType::NSEC);
            signed |= self.will_sign(&node.name, RecordType::NSEC, Role::ZoneData);
        }
        if signed {
            types.insert(RecordType::RRSIG);
        }
        types
    }

    /// Sets the NSEC of chain member `name` from its current neighbours and types.
    fn relink_nsec(
        &self,
        ctx: &Ctx,
        nodes: &mut ChunkedMap<Name, Arc<Node>>,
        name: &Name,
        reuse: Option<&SignedZone>,
        jobs: &mut Vec<Job>,
        stats: &mut SignStats,
    ) {
        let Some(node) = nodes.get(name) else { return };
        if !node.kind.in_nsec_chain() {
            return;
        }
        let next = next_member(nodes, name).unwrap_or_else(|| ctx.origin.clone());
        let types = self.bitmap(node, true);
        let record = Record::from_rdata(
            name.clone(),
            ctx.negative_ttl,
            RData::DNSSEC(DNSSECRData::NSEC(NSEC::new(next, types))),
        );
        let mut rrset = SignedRrset::unsigned(
            name.clone(),
            RecordType::NSEC,
            ctx.negative_ttl,
            vec![record],
        );
        if self.will_sign(name, RecordType::NSEC, Role::ZoneData) {
            let previous = reuse
                .and_then(|r| r.node(name))
                .and_then(|n| n.nsec.as_ref());
            match self.reusable(ctx, &rrset, previous, Role::ZoneData) {
                Some(sigs) => {
                    stats.signatures_reused += sigs.len();
                    rrset.rrsigs = sigs;
                }
                None => jobs.push(Job {
                    owner: name.clone(),
                    slot: Slot::Nsec,
                    role: Role::ZoneData,
                }),
            }
        }
        let node = Arc::make_mut(nodes.get_mut(name).expect("invariant: checked above"));
        node.nsec = Some(rrset);
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "internal step of build with its state"
    )]
    fn relink_nsec3(
        &self,
        ctx: &Ctx,
        config: &Nsec3Config,
        nodes: &ChunkedMap<Name, Arc<Node>>,
        chain: &mut ChunkedMap<Nsec3Hash, Arc<Nsec3Entry>>,
        hash: Nsec3Hash,
        reuse: Option<&SignedZone>,
        jobs: &mut Vec<Job>,
        stats: &mut SignStats,
    ) -> Result<(), SignError> {
        let Some(entry) = chain.get(&hash) else {
            return Ok(());
        };
        let owner = entry.owner.clone();
        let node = nodes
            .get(&owner)
            .expect("invariant: every NSEC3 entry's owner is a node");
        let next = chain
            .iter_from(&hash)
            .nth(1)
            .or_else(|| chain.first())
            .map(|(h, _)| *h)
            .expect("invariant: the chain holds at least this entry");
        let types = self.bitmap(node, false);
        let hashed_owner = nsec3_owner(&hash, &ctx.origin)?;
        let record = Record::from_rdata(
            hashed_owner.clone(),
            ctx.negative_ttl,
            RData::DNSSEC(DNSSECRData::NSEC3(NSEC3::new(
                Nsec3HashAlgorithm::SHA1,
                config.opt_out,
                config.iterations,
                config.salt.clone(),
                next.to_vec(),
                types,
            ))),
        );
        let mut rrset = SignedRrset::unsigned(
            hashed_owner,
            RecordType::NSEC3,
            ctx.negative_ttl,
            vec![record],
        );
        let previous = reuse.and_then(|r| r.nsec3.get(&hash)).map(|e| &e.rrset);
        match self.reusable(ctx, &rrset, previous, Role::ZoneData) {
            Some(sigs) => {
                stats.signatures_reused += sigs.len();
                rrset.rrsigs = sigs;
            }
            None => jobs.push(Job {
                owner: owner.clone(),
                slot: Slot::Nsec3(hash),
                role: Role::ZoneData,
            }),
        }
        chain.insert(hash, Arc::new(Nsec3Entry { owner, rrset }));
        Ok(())
    }

    /// The previous RRSIGs if the RRset is unchanged, signed by exactly the keys that would sign
    /// it now, and valid over the window this run needs.
    fn reusable(
        &self,
        ctx: &Ctx,
        new: &SignedRrset,
        previous: Option<&SignedRrset>,
        role: Role,
    ) -> Option<Rrsigs> {
        let previous = previous?;
        if previous.ttl != new.ttl
            || previous.records.len() != new.records.len()
            || previous
                .records
                .iter()
                .zip(&new.records)
                .any(|(a, b)| a.data != b.data)
            || previous.rrsigs.is_empty()
        {
            return None;
        }
        let wanted: BTreeSet<(u8, u16)> = self
            .signers(role)
            .map(|k| (u8::from(k.algorithm()), k.key_tag()))
            .collect();
        let mut have = BTreeSet::new();
        for input in previous.rrsigs.inputs() {
            have.insert((u8::from(input.algorithm), input.key_tag));
            let (inception, expiration) = (input.sig_inception.get(), input.sig_expiration.get());
            let good = match ctx.explicit {
                Some((i, e)) => inception == i && expiration == e,
                None => inception <= ctx.earliest && expiration >= ctx.keep_until,
            };
            if !good {
                return None;
            }
        }
        (have == wanted).then(|| previous.rrsigs.clone())
    }

    fn sign_rrset(&self, ctx: &Ctx, rrset: &SignedRrset, role: Role) -> Result<Rrsigs, SignError> {
        let (inception, expiration) = ctx.window(&self.policy, &rrset.name, rrset.rtype);
        let mut parts = Vec::new();
        let mut signers: Vec<&ZoneKey> = self.signers(role).collect();
        signers.sort_by_key(|k| (u8::from(k.algorithm()), k.key_tag()));
        for key in signers {
            let pair = key
                .key_pair()
                .expect("invariant: only keys with a private key sign");
            let input = SigInput {
                type_covered: rrset.rtype,
                algorithm: key.algorithm(),
                // RFC 4034 §3.1.3: without a leading `*`, which hickory's count leaves out.
                num_labels: rrset.name.num_labels(),
                original_ttl: rrset.ttl,
                sig_expiration: SerialNumber::new(expiration),
                sig_inception: SerialNumber::new(inception),
                key_tag: key.key_tag(),
                signer_name: ctx.origin.clone(),
            };
            let tbs = TBS::from_input(&rrset.name, DNSClass::IN, &input, rrset.records.iter())
                .map_err(|e| SignError::Encode {
                    name: rrset.name.clone(),
                    rtype: rrset.rtype,
                    reason: e.to_string(),
                })?;
            parts.push((input, pair.clone(), tbs));
        }
        if self.policy.defer_signatures {
            return Ok(Rrsigs::deferred(rrset.name.clone(), rrset.ttl, parts));
        }
        let mut sigs = Vec::with_capacity(parts.len());
        for (input, pair, tbs) in parts {
            let signature = pair.sign(&tbs)?;
            sigs.push(Record::from_rdata(
                rrset.name.clone(),
                rrset.ttl,
                RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(input, signature))),
            ));
        }
        Ok(Rrsigs::made(sigs))
    }
}

/// Where a signing job's RRset lives.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Rrset(RecordType),
    Nsec,
    Nsec3(Nsec3Hash),
}

#[derive(Debug)]
struct Job {
    owner: Name,
    slot: Slot,
    role: Role,
}

/// What stays fixed during one signing run, shared by every job.
struct Ctx {
    origin: Name,
    serial: u32,
    negative_ttl: u32,
    /// Earliest instant covered (seconds); reused signatures must start by then.
    earliest: u32,
    /// Reused signatures must last until at least this (latest instant + refresh).
    keep_until: u32,
    inception: u32,
    expiration: u32,
    explicit: Option<(u32, u32)>,
    /// None when no key is published (a fault: an RRset cannot be empty, so there is none).
    dnskey_rrset: Option<RrSet>,
    nsec3param: Option<RrSet>,
}

impl Ctx {
    fn new(signer: &ZoneSigner, zone: &Zone, now: Timestamp, serial: u32) -> Self {
        let policy = &signer.policy;
        let earliest = policy
            .also_valid_at
            .iter()
            .copied()
            .fold(now, Timestamp::min);
        let latest = policy
            .also_valid_at
            .iter()
            .copied()
            .fold(now, Timestamp::max);
        let dnskeys: Vec<RData> = signer
            .keys
            .iter()
            .filter(|k| k.is_published())
            .map(|k| RData::DNSSEC(DNSSECRData::DNSKEY(k.dnskey().clone())))
            .collect();
        let dnskey_rrset = RrSet::new(zone.origin().clone(), policy.dnskey_ttl, dnskeys).ok();
        let nsec3param = match &policy.denial {
            Denial::Nsec3(c) => RrSet::new(
                zone.origin().clone(),
                0,
                [RData::DNSSEC(DNSSECRData::NSEC3PARAM(NSEC3PARAM::new(
                    Nsec3HashAlgorithm::SHA1,
                    false,
                    c.iterations,
                    c.salt.clone(),
                )))],
            )
            .ok(),
            Denial::Nsec | Denial::None => None,
        };
        Self {
            origin: zone.origin().clone(),
            serial,
            negative_ttl: negative_ttl(zone),
            earliest: epoch32(earliest),
            keep_until: epoch32(latest.saturating_add(policy.refresh).unwrap_or(latest)),
            inception: epoch32(
                earliest
                    .saturating_sub(policy.inception_offset)
                    .unwrap_or(earliest),
            ),
            expiration: epoch32(latest.saturating_add(policy.validity).unwrap_or(latest)),
            explicit: policy.faults.window.map(|(i, e)| (epoch32(i), epoch32(e))),
            dnskey_rrset,
            nsec3param,
        }
    }

    /// (inception, expiration) for one RRset.
    fn window(&self, policy: &SigningPolicy, name: &Name, rtype: RecordType) -> (u32, u32) {
        if let Some(w) = self.explicit {
            return w;
        }
        let max = u64::try_from(policy.jitter.as_secs()).unwrap_or(0);
        let jitter = if max == 0 {
            0
        } else {
            u32::try_from(jitter_hash(policy.jitter_seed, name, rtype) % (max + 1)).unwrap_or(0)
        };
        (self.inception, self.expiration.saturating_sub(jitter))
    }
}

/// NSEC/NSEC3 TTL: the smaller of the SOA's TTL and its MINIMUM (RFC 9077 §3).
fn negative_ttl(zone: &Zone) -> u32 {
    zone.soa().minimum.min(zone.soa_ttl())
}

fn min_expiration(earliest: Option<u32>, sig: &SigInput) -> Option<u32> {
    let e = sig.sig_expiration.get();
    Some(earliest.map_or(e, |x| x.min(e)))
}

fn all_signatures(zone: &SignedZone) -> impl Iterator<Item = &SigInput> + '_ {
    zone.nodes()
        .flat_map(|n| n.rrsets().iter().chain(n.nsec()))
        .chain(zone.nsec3_chain().map(Nsec3Entry::rrset))
        .flat_map(|s| s.rrsigs.inputs())
}

/// Seconds since the epoch as an RRSIG time field (RFC 4034 §3.1.5, valid until 2106).
fn epoch32(t: Timestamp) -> u32 {
    u32::try_from(t.as_second().max(0)).unwrap_or(u32::MAX)
}

/// FNV-1a over seed, owner and type, finished with a SplitMix64 step: cheap, stable, spread.
fn jitter_hash(seed: u64, name: &Name, rtype: RecordType) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    for b in name.to_ascii().to_ascii_lowercase().bytes() {
        eat(b);
    }
    for b in u16::from(rtype).to_be_bytes() {
        eat(b);
    }
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn with_serial(soa: &RrSet, serial: u32) -> RrSet {
    let rdata = soa.rdata().iter().map(|r| match r {
        RData::SOA(s) => {
            let mut s = s.clone();
            s.serial = serial;
            RData::SOA(s)
        }
        other => other.clone(),
    });
    RrSet::new(soa.name().clone(), soa.ttl(), rdata)
        .expect("invariant: an SOA that was stored re-encodes")
}

/// The owner name of an NSEC3: base32hex of the hash, under the origin.
fn nsec3_owner(hash: &Nsec3Hash, origin: &Name) -> Result<Name, SignError> {
    let label = data_encoding::BASE32_DNSSEC.encode(hash);
    origin
        .prepend_label(label.as_bytes())
        .map_err(|e| SignError::Encode {
            name: origin.clone(),
            rtype: RecordType::NSEC3,
            reason: e.to_string(),
        })
}

fn placeholder_nsec3(owner: Name) -> Nsec3Entry {
    Nsec3Entry {
        rrset: SignedRrset::unsigned(owner.clone(), RecordType::NSEC3, 0, Vec::new()),
        owner,
    }
}

/// Serial for the next snapshot: one more than the last (RFC 1982), or the zone's if ahead.
fn next_serial(previous: u32, zone: u32) -> u32 {
    let bumped = previous.wrapping_add(1);
    if SerialNumber::new(zone) > SerialNumber::new(bumped) {
        zone
    } else {
        bumped
    }
}

fn check_same_zone(prev: &SignedZone, zone: &Zone) -> Result<(), SignError> {
    if prev.origin != *zone.origin() {
        return Err(SignError::WrongZone {
            snapshot: prev.origin.to_string(),
            zone: zone.origin().to_string(),
        });
    }
    Ok(())
}

fn add_with_ancestors(set: &mut BTreeSet<Name>, origin: &Name, name: &Name) {
    for k in label_count(origin)..=label_count(name) {
        set.insert(name.trim_to(k));
    }
}

/// Every owner name of the zone and every ancestor up to the apex.
fn all_names(zone: &Zone) -> BTreeSet<Name> {
    let origin = zone.origin();
    let mut set = BTreeSet::new();
    set.insert(origin.clone());
    for (name, _) in zone.names() {
        if set.contains(name) {
            continue;
        }
        let mut n = name.clone();
        while n != *origin && set.insert(n.clone()) {
            n = n.base_name();
        }
    }
    set
}

/// The NSEC-chain member before `name` (wrapping round).
fn prev_member(nodes: &ChunkedMap<Name, Arc<Node>>, name: &Name) -> Option<Name> {
    nodes
        .iter_before(name)
        .chain(nodes.iter_rev())
        .find(|(_, n)| n.kind.in_nsec_chain())
        .map(|(k, _)| k.clone())
}

/// The NSEC-chain member after `name` (None: wrap to the apex).
fn next_member(nodes: &ChunkedMap<Name, Arc<Node>>, name: &Name) -> Option<Name> {
    nodes
        .iter_from(name)
        .skip_while(|(k, _)| *k == name)
        .find(|(_, n)| n.kind.in_nsec_chain())
        .map(|(k, _)| k.clone())
}

/// Maps `f` over `items` on up to `threads` threads, keeping order.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    // Below this, thread start-up costs more than it saves.
    const MIN_PER_THREAD: usize = 64;
    let threads = threads.min(items.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

#[cfg(test)]
mod tests;
