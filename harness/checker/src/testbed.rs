//! Small signed worlds for tests, the corpus and benchmarks: a root, a TLD and a child zone,
//! signed by the DNSSEC engine with fixture keys, and helpers to tamper with what they serve.
//!
//! The zones are ordinary [`SignedZone`]s, so the same chain can be judged in memory
//! ([`View::resolve`]) and later served over DNS to real validators.
//!
//! Functions here panic on bad input (a fixture that does not build is a bug in the caller),
//! like [`fixture_keys::key`].

use std::net::IpAddr;
use std::sync::Arc;

use dnssec::{
    Delegation, Denial, DsDigest, KeyAlgorithm, SignError, SignedZone, SigningPolicy, Zone,
    ZoneKey, ZoneSigner, fixture_keys,
};
use hickory_proto::dnssec::PublicKey;
use hickory_proto::dnssec::PublicKeyBuf;
use hickory_proto::dnssec::rdata::{DNSKEY, DS};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RecordType};
use jiff::{SignedDuration, Timestamp};

use super::validate::{Anchor, TrustAnchors};
use super::view::{Override, View};

/// Parses a name.
///
/// # Panics
/// If `s` is not a valid name.
pub fn name(s: &str) -> Name {
    s.parse()
        .unwrap_or_else(|e| panic!("testbed name {s:?} does not parse: {e}"))
}

/// An SOA for `origin` (MINIMUM 300: negative answers are cached for 5 minutes).
pub fn soa(origin: &Name, serial: u32) -> SOA {
    SOA::new(
        origin
            .prepend_label("ns1")
            .expect("invariant: a short label fits"),
        origin
            .prepend_label("hostmaster")
            .expect("invariant: a short label fits"),
        serial,
        7200,
        3600,
        1_209_600,
        300,
    )
}

/// The algorithm the root and TLD use when the child uses `child`: another one, so key tags
/// never collide across levels and reports stay readable.
pub fn upper_algorithm(child: KeyAlgorithm) -> KeyAlgorithm {
    if child == KeyAlgorithm::Ed25519 {
        KeyAlgorithm::EcdsaP256Sha256
    } else {
        KeyAlgorithm::Ed25519
    }
}

/// The child zone's data: apex NS (one host per entry of `ns`), `www` A, `mail` A, a TXT two
/// labels down (making `b` an empty non-terminal) and glue-free apex data.
///
/// # Panics
/// If the names do not fit together.
pub fn child_zone(apex: &Name, ns: &[Name], serial: u32) -> Zone {
    let mut zone = Zone::new(apex.clone(), soa(apex, serial), 3600).expect("testbed SOA");
    for host in ns {
        zone.add_text(&format!("{apex} 3600 NS {host}"))
            .expect("testbed NS");
        if apex.zone_of(host) {
            zone.add_text(&format!("{host} 3600 A 192.0.2.53"))
                .expect("testbed A");
        }
    }
    for line in [
        format!("www.{apex} 3600 A 192.0.2.80"),
        format!("mail.{apex} 3600 A 192.0.2.25"),
        format!("a.b.{apex} 3600 TXT \"deep\""),
    ] {
        zone.add_text(&line).expect("testbed record");
    }
    zone
}

/// A TLD zone with its own name server and the given delegations.
///
/// # Panics
/// If a delegation does not fit the zone.
pub fn tld_zone(apex: &Name, address: IpAddr, delegations: &[Delegation], serial: u32) -> Zone {
    let mut zone = Zone::new(apex.clone(), soa(apex, serial), 3600).expect("testbed SOA");
    let ns = apex.prepend_label("ns1").expect("invariant: short label");
    zone.add_text(&format!("{apex} 86400 NS {ns}"))
        .expect("testbed NS");
    zone.add_text(&format!("{ns} 86400 A {address}"))
        .expect("testbed A");
    for d in delegations {
        zone.set_delegation(d).expect("testbed delegation");
    }
    zone
}

/// The root zone: its own name server under `root-servers.` and one TLD delegation.
///
/// # Panics
/// If the delegation does not fit.
pub fn root_zone(address: IpAddr, tld: &Delegation, serial: u32) -> Zone {
    let root = Name::root();
    let mut zone =
        Zone::new(root.clone(), soa(&name("root-servers."), serial), 86400).expect("testbed SOA");
    zone.add_text(". 518400 NS ns.root-servers.")
        .expect("testbed NS");
    zone.add_text(&format!("ns.root-servers. 518400 A {address}"))
        .expect("testbed A");
    zone.set_delegation(tld).expect("testbed delegation");
    zone
}

/// SHA-256 DS records for the published secure-entry-point keys among `keys`.
pub fn ds_for(owner: &Name, keys: &[ZoneKey]) -> Vec<DS> {
    keys.iter()
        .filter(|k| k.is_published() && k.dnskey().secure_entry_point())
        .map(|k| {
            k.ds(owner, DsDigest::Sha256)
                .expect("invariant: DS of a valid key")
        })
        .collect()
}

/// A KSK and a ZSK from fixtures `first` and `first + 1` of `algorithm`.
pub fn ksk_zsk(algorithm: KeyAlgorithm, first: usize) -> Vec<ZoneKey> {
    vec![
        ZoneKey::ksk(fixture_keys::key(algorithm, first)),
        ZoneKey::zsk(fixture_keys::key(algorithm, first + 1)),
    ]
}

/// The public DNSKEY of a zone key, with two bytes of the public key swapped: the key tag stays
/// the same (it is a sum of 16-bit words, and both bytes sit at the same parity) but signatures
/// no longer verify. Published in place of the real key, it makes "the signature does not
/// verify" with a zone the signer built honestly.
pub(crate) fn tweaked_dnskey(key: &ZoneKey) -> DNSKEY {
    let dnskey = key.dnskey();
    let mut bytes = dnskey.public_key().public_bytes().to_vec();
    // Past the RSA exponent (RFC 3110: 1 length octet + 3 exponent octets), any position works
    // for the others too; find two different bytes two apart.
    let start = 8.min(bytes.len().saturating_sub(3));
    let i = (start..bytes.len() - 2)
        .find(|&i| bytes[i] != bytes[i + 2])
        .expect("invariant: a public key has two different bytes two apart");
    bytes.swap(i, i + 2);
    DNSKEY::with_flags(
        dnskey.flags(),
        PublicKeyBuf::new(bytes, dnskey.public_key().algorithm()),
    )
}

/// A default policy for `now`: 14-day validity from an hour before, no jitter, the given
/// denial, one thread (tests run in parallel already).
pub fn policy(denial: Denial) -> SigningPolicy {
    SigningPolicy {
        denial,
        threads: 1,
        ..SigningPolicy::default()
    }
}

/// Signs `zone` with `keys` under `policy` at `now`.
pub fn sign(
    zone: &Zone,
    keys: Vec<ZoneKey>,
    policy: SigningPolicy,
    now: Timestamp,
) -> Result<Arc<SignedZone>, SignError> {
    Ok(Arc::new(ZoneSigner::new(keys, policy)?.sign(zone, now)?))
}

/// Where the test servers are (glue addresses in the zones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addresses {
    /// The root server.
    pub root: IpAddr,
    /// The TLD server.
    pub tld: IpAddr,
    /// The child's server.
    pub child: IpAddr,
}

impl Default for Addresses {
    fn default() -> Self {
        Self {
            root: IpAddr::from([127, 0, 0, 1]),
            tld: IpAddr::from([127, 0, 0, 2]),
            child: IpAddr::from([127, 0, 0, 3]),
        }
    }
}

/// What the TLD publishes for the child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DsChoice {
    /// DS records for the child's published secure-entry-point keys.
    Auto,
    /// Exactly these (empty: an insecure delegation).
    Explicit(Vec<DS>),
}

/// A root → TLD → child chain, signed, with the root's trust anchor, and the extra zones
/// (siblings of the child, or zones below it) that CNAME and DNAME chains lead into.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The root zone.
    pub root: Arc<SignedZone>,
    /// The TLD zone.
    pub tld: Arc<SignedZone>,
    /// The child zone.
    pub child: Arc<SignedZone>,
    /// The extra zones, in the order of [`ChainBuilder::extra`].
    pub extra: Vec<Arc<SignedZone>>,
    /// DS anchors for the root's KSKs.
    pub anchors: TrustAnchors,
}

impl Chain {
    /// Every zone, top down, then the extra zones.
    pub fn zones(&self) -> Vec<&SignedZone> {
        let mut zones: Vec<&SignedZone> = vec![&self.root, &self.tld, &self.child];
        zones.extend(self.extra.iter().map(AsRef::as_ref));
        zones
    }

    /// Resolves a question through the chain in memory.
    pub fn view(&self, qname: &Name, qtype: RecordType) -> View {
        View::resolve(&self.zones(), qname, qtype)
    }

    /// Resolves with some answers replaced.
    #[cfg(test)]
    pub(crate) fn view_with(
        &self,
        qname: &Name,
        qtype: RecordType,
        overrides: &[Override],
    ) -> View {
        View::resolve_with(&self.zones(), qname, qtype, overrides)
    }

    /// Resolves a question and follows its CNAMEs and DNAMEs, one view per link
    /// ([`View::resolve_chain`]).
    pub fn links(&self, qname: &Name, qtype: RecordType, overrides: &[Override]) -> Vec<View> {
        View::resolve_chain(&self.zones(), qname, qtype, overrides)
    }
}

/// A zone besides root, TLD and child: a sibling of the child delegated by the TLD, or a zone
/// delegated by the child, with its own keys, so that a CNAME or DNAME chain crosses zones
/// and delegations whose security differs.
#[derive(Debug, Clone)]
pub struct ExtraZone {
    /// Its apex, directly below the TLD or the child.
    pub apex: Name,
    /// Its keys (none: an unsigned zone).
    pub keys: Vec<ZoneKey>,
    /// Its signing policy.
    pub policy: SigningPolicy,
    /// Its DS at the parent.
    pub ds: DsChoice,
    /// Its records besides SOA and NS, `name ttl type rdata`.
    pub records: Vec<String>,
}

impl ExtraZone {
    /// A zone at `apex` signed by a KSK and a ZSK of `algorithm` (fixtures `first_key` and
    /// the next), the DS published, NSEC or NSEC3 as `denial`.
    pub fn new(apex: &str, algorithm: KeyAlgorithm, first_key: usize, denial: Denial) -> Self {
        Self {
            apex: name(apex),
            keys: ksk_zsk(algorithm, first_key),
            policy: policy(denial),
            ds: DsChoice::Auto,
            records: Vec::new(),
        }
    }

    fn build(&self, now: Timestamp) -> Result<(Arc<SignedZone>, Delegation), SignError> {
        let ns = self
            .apex
            .prepend_label("ns1")
            .expect("invariant: short label");
        let mut zone = child_zone_bare(&self.apex, &ns);
        for line in &self.records {
            zone.add_text(line).expect("testbed extra record");
        }
        let signed = if self.keys.is_empty() {
            Arc::new(ZoneSigner::unsigned(self.policy.clone()).sign(&zone, now)?)
        } else {
            sign(&zone, self.keys.clone(), self.policy.clone(), now)?
        };
        let ds = match &self.ds {
            DsChoice::Auto => ds_for(&self.apex, &self.keys),
            DsChoice::Explicit(ds) => ds.clone(),
        };
        let delegation = Delegation {
            name: self.apex.clone(),
            ttl: 3600,
            ns: vec![ns.clone()],
            glue: vec![(ns, Addresses::default().child)],
            ds,
        };
        Ok((signed, delegation))
    }
}

/// A zone with only its SOA, its NS and the name server's address.
fn child_zone_bare(apex: &Name, ns: &Name) -> Zone {
    let mut zone = Zone::new(apex.clone(), soa(apex, 1), 3600).expect("testbed SOA");
    zone.add_text(&format!("{apex} 3600 NS {ns}"))
        .expect("testbed NS");
    zone.add_text(&format!("{ns} 3600 A 192.0.2.53"))
        .expect("testbed A");
    zone
}

/// Builds a [`Chain`]; every part can be replaced.
#[derive(Debug, Clone)]
pub struct ChainBuilder {
    /// The signing instant.
    pub now: Timestamp,
    /// The TLD's name.
    pub tld: Name,
    /// The child's name.
    pub child: Name,
    /// Root and TLD keys (default: one CSK each, of [`upper_algorithm`]).
    pub root_keys: Vec<ZoneKey>,
    /// TLD keys (default: one CSK of [`upper_algorithm`]); the DS at the root is made from them.
    pub tld_keys: Vec<ZoneKey>,
    /// Child keys (default: fixtures 0 and 1 of the child's algorithm as KSK and ZSK).
    pub child_keys: Vec<ZoneKey>,
    /// Root signing policy.
    pub root_policy: SigningPolicy,
    /// TLD signing policy.
    pub tld_policy: SigningPolicy,
    /// Child signing policy.
    pub child_policy: SigningPolicy,
    /// The child's DS at the TLD.
    pub ds: DsChoice,
    /// The TLD's DS at the root (default: for its keys).
    pub tld_ds: DsChoice,
    /// Server addresses (glue).
    pub addresses: Addresses,
    /// Extra records for the child, `name ttl type rdata`.
    pub child_records: Vec<String>,
    /// Extra zones, delegated by the TLD or by the child (whichever is the parent of their
    /// apex).
    pub extra: Vec<ExtraZone>,
}

impl ChainBuilder {
    /// A chain whose child signs with `algorithm` and every zone uses `denial`.
    pub fn new(algorithm: KeyAlgorithm, denial: Denial, now: Timestamp) -> Self {
        let upper = upper_algorithm(algorithm);
        Self {
            now,
            tld: name("test."),
            child: name("example.test."),
            root_keys: vec![ZoneKey::csk(fixture_keys::key(upper, 2))],
            tld_keys: vec![ZoneKey::csk(fixture_keys::key(upper, 3))],
            child_keys: ksk_zsk(algorithm, 0),
            root_policy: policy(denial.clone()),
            tld_policy: policy(denial.clone()),
            child_policy: policy(denial),
            ds: DsChoice::Auto,
            tld_ds: DsChoice::Auto,
            addresses: Addresses::default(),
            child_records: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// Builds and signs the three zones.
    pub fn build(&self) -> Result<Chain, SignError> {
        let child_ns = self
            .child
            .prepend_label("ns1")
            .expect("invariant: short label");
        let mut child = child_zone(&self.child, std::slice::from_ref(&child_ns), 1);
        for line in &self.child_records {
            child.add_text(line).expect("testbed child record");
        }
        let mut extra = Vec::new();
        let mut tld_delegations = Vec::new();
        for e in &self.extra {
            let (signed, delegation) = e.build(self.now)?;
            if self.child.zone_of(&e.apex) {
                child
                    .set_delegation(&delegation)
                    .expect("testbed delegation in the child");
            } else {
                tld_delegations.push(delegation);
            }
            extra.push(signed);
        }
        let child_signed = sign(
            &child,
            self.child_keys.clone(),
            self.child_policy.clone(),
            self.now,
        )?;
        let ds = match &self.ds {
            DsChoice::Auto => ds_for(&self.child, &self.child_keys),
            DsChoice::Explicit(ds) => ds.clone(),
        };
        let delegation = Delegation {
            name: self.child.clone(),
            ttl: 3600,
            ns: vec![child_ns.clone()],
            glue: vec![(child_ns, self.addresses.child)],
            ds,
        };
        tld_delegations.push(delegation);
        let tld = tld_zone(&self.tld, self.addresses.tld, &tld_delegations, 1);
        let tld_signed = sign(
            &tld,
            self.tld_keys.clone(),
            self.tld_policy.clone(),
            self.now,
        )?;
        let tld_ns = self
            .tld
            .prepend_label("ns1")
            .expect("invariant: short label");
        let tld_ds = match &self.tld_ds {
            DsChoice::Auto => ds_for(&self.tld, &self.tld_keys),
            DsChoice::Explicit(ds) => ds.clone(),
        };
        let root = root_zone(
            self.addresses.root,
            &Delegation {
                name: self.tld.clone(),
                ttl: 86400,
                ns: vec![tld_ns.clone()],
                glue: vec![(tld_ns, self.addresses.tld)],
                ds: tld_ds,
            },
            1,
        );
        let root_signed = sign(
            &root,
            self.root_keys.clone(),
            self.root_policy.clone(),
            self.now,
        )?;
        let mut anchors = TrustAnchors::new();
        for ds in ds_for(&Name::root(), &self.root_keys) {
            anchors.add(&Name::root(), Anchor::Ds(ds));
        }
        Ok(Chain {
            root: root_signed,
            tld: tld_signed,
            child: child_signed,
            extra,
            anchors,
        })
    }
}

/// A policy whose signatures are valid exactly over `[inception, expiration]`.
pub(crate) fn window_policy(
    denial: Denial,
    inception: Timestamp,
    expiration: Timestamp,
) -> SigningPolicy {
    let mut p = policy(denial);
    p.faults.window = Some((inception, expiration));
    p
}

/// `now` shifted by `hours` (negative: earlier).
pub fn hours(now: Timestamp, hours: i64) -> Timestamp {
    now.saturating_add(SignedDuration::from_hours(hours))
        .expect("invariant: test times are far from the limits")
}

/// TTLs of a transfer world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttls {
    /// The DS RRset at the TLD.
    pub ds: u32,
    /// The delegation NS at the TLD.
    pub parent_ns: u32,
    /// The operators' DNSKEY RRsets.
    pub dnskey: u32,
}

impl Default for Ttls {
    fn default() -> Self {
        Self {
            ds: 3600,
            parent_ns: 86400,
            dnskey: 3600,
        }
    }
}

/// A zone with the signer that made its current snapshot.
#[derive(Debug)]
struct Signed {
    zone: Zone,
    signer: ZoneSigner,
    signed: Arc<SignedZone>,
}

impl Signed {
    fn new(zone: Zone, signer: ZoneSigner, now: Timestamp) -> Result<Self, SignError> {
        let signed = Arc::new(signer.sign(&zone, now)?);
        let mut zone = zone;
        zone.take_changes();
        Ok(Self {
            zone,
            signer,
            signed,
        })
    }

    /// Re-signs after a change to the zone (or a new signer), keeping good signatures.
    fn update(&mut self, now: Timestamp) -> Result<(), SignError> {
        let changes = self.zone.take_changes();
        self.signed = Arc::new(
            self.signer
                .update(&self.signed, &self.zone, &changes, now)?,
        );
        Ok(())
    }
}

#[derive(Debug)]
struct OperatorState {
    source: crate::timeline::SourceId,
    hosts: Vec<Name>,
    zone: Option<Signed>,
}

/// A scripted operator change on a virtual clock: a root, a TLD, and DNS operators for one
/// domain, each change re-signed incrementally by the DNSSEC engine and observed into a
/// [`Timeline`](crate::timeline::Timeline) at its instant.
///
/// Every mutator observes every source at `at` afterwards, as a runner does after each change.
#[derive(Debug)]
pub struct TransferWorld {
    /// The observations so far.
    pub timeline: crate::timeline::Timeline,
    /// The root's trust anchor.
    pub anchors: TrustAnchors,
    /// What is observed.
    pub questions: crate::timeline::Questions,
    /// The child zone the built world delegates and signs.
    pub domain: Name,
    ttls: Ttls,
    #[cfg(test)]
    denial: Denial,
    root_source: crate::timeline::SourceId,
    tld_source: crate::timeline::SourceId,
    root: Arc<SignedZone>,
    tld: Signed,
    operators: Vec<OperatorState>,
}

impl TransferWorld {
    /// A world at `start` with `example.test.` and one operator per `(name, hosts)`, none
    /// serving and not delegated yet. Root and TLD sign with `upper` (one CSK each).
    ///
    /// # Panics
    /// If the fixtures do not sign.
    pub fn new(
        start: Timestamp,
        upper: KeyAlgorithm,
        denial: Denial,
        ttls: Ttls,
        operators: &[(&str, Vec<Name>)],
    ) -> Self {
        use crate::timeline::{Questions, Source, Timeline};
        let domain = name("example.test.");
        let tld_name = name("test.");
        let addresses = Addresses::default();
        let tld_keys = vec![ZoneKey::csk(fixture_keys::key(upper, 3))];
        let root_keys = vec![ZoneKey::csk(fixture_keys::key(upper, 2))];
        let tld_zone = tld_zone(&tld_name, addresses.tld, &[], 1);
        let tld = Signed::new(
            tld_zone,
            ZoneSigner::new(tld_keys.clone(), policy(denial.clone())).expect("testbed TLD signer"),
            start,
        )
        .expect("testbed TLD signs");
        let tld_ns = tld_name
            .prepend_label("ns1")
            .expect("invariant: short label");
        let root = root_zone(
            addresses.root,
            &Delegation {
                name: tld_name.clone(),
                ttl: 86400,
                ns: vec![tld_ns.clone()],
                glue: vec![(tld_ns, addresses.tld)],
                ds: ds_for(&tld_name, &tld_keys),
            },
            1,
        );
        let root = sign(&root, root_keys.clone(), policy(denial.clone()), start)
            .expect("testbed root signs");
        let mut anchors = TrustAnchors::new();
        for ds in ds_for(&Name::root(), &root_keys) {
            anchors.add(&Name::root(), Anchor::Ds(ds));
        }
        let path = vec![Name::root(), tld_name, domain.clone()];
        let mut timeline = Timeline::new(path.clone()).expect("invariant: a valid path");
        let root_source = timeline.add_source(Source::parent("root"));
        let tld_source = timeline.add_source(Source::parent("tld"));
        let operators = operators
            .iter()
            .map(|(n, hosts)| OperatorState {
                source: timeline.add_source(Source::operator(*n, hosts.iter().cloned())),
                hosts: hosts.clone(),
                zone: None,
            })
            .collect();
        let questions = Questions::new(
            &path,
            &[
                (name("www.example.test."), RecordType::A),
                (name("www.example.test."), RecordType::TXT),
            ],
            &name("nx.example.test."),
        );
        Self {
            timeline,
            anchors,
            questions,
            domain,
            ttls,
            #[cfg(test)]
            denial,
            root_source,
            tld_source,
            root,
            tld,
            operators,
        }
    }

    /// Operator `op`'s zone as it would be with `keys`: its own NS hosts at the apex.
    fn operator_zone(&self, op: usize) -> Zone {
        child_zone(&self.domain, &self.operators[op].hosts, 1)
    }

    /// Operator `op` serves the domain signed with `keys` under `policy` (its DNSKEY TTL taken
    /// from the world's TTLs), from `at` on.
    ///
    /// # Panics
    /// If the keys do not sign.
    pub fn operator(
        &mut self,
        op: usize,
        keys: Vec<ZoneKey>,
        mut policy: SigningPolicy,
        at: Timestamp,
    ) -> &mut Self {
        policy.dnskey_ttl = self.ttls.dnskey;
        let signer = ZoneSigner::new(keys, policy).expect("testbed operator signer");
        match &mut self.operators[op].zone {
            Some(state) => {
                state.signer = signer;
                state.update(at).expect("testbed operator re-signs");
            }
            None => {
                let zone = self.operator_zone(op);
                self.operators[op].zone =
                    Some(Signed::new(zone, signer, at).expect("testbed operator signs"));
            }
        }
        self.observe(at)
    }

    /// Operator `op` serves the domain with `keys` under the default policy.
    #[cfg(test)]
    pub(crate) fn operator_keys(
        &mut self,
        op: usize,
        keys: Vec<ZoneKey>,
        at: Timestamp,
    ) -> &mut Self {
        let p = policy(self.denial.clone());
        self.operator(op, keys, p, at)
    }

    /// Operator `op` stops answering for the domain.
    pub fn stop(&mut self, op: usize, at: Timestamp) -> &mut Self {
        self.operators[op].zone = None;
        self.observe(at)
    }

    /// The TLD delegates the domain to the operators `ns` with `ds`.
    ///
    /// # Panics
    /// If the delegation does not fit the zone.
    pub fn delegate(&mut self, ns: &[usize], ds: Vec<DS>, at: Timestamp) -> &mut Self {
        let hosts: Vec<Name> = ns
            .iter()
            .flat_map(|&op| self.operators[op].hosts.iter().cloned())
            .collect();
        self.tld
            .zone
            .set_delegation(&Delegation {
                name: self.domain.clone(),
                ttl: self.ttls.parent_ns,
                ns: hosts,
                glue: vec![],
                ds: vec![],
            })
            .expect("testbed delegation");
        if !ds.is_empty() {
            let rrset = dnssec::RrSet::new(
                self.domain.clone(),
                self.ttls.ds,
                ds.into_iter().map(|d| {
                    hickory_proto::rr::RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::DS(
                        d,
                    ))
                }),
            )
            .expect("testbed DS RRset");
            self.tld.zone.set_rrset(rrset).expect("testbed DS");
        }
        self.tld.update(at).expect("testbed TLD re-signs");
        self.observe(at)
    }

    /// Re-signs every zone whose signatures near expiry (the operators' daily routine).
    pub fn refresh(&mut self, at: Timestamp) -> &mut Self {
        for state in self.operators.iter_mut().filter_map(|o| o.zone.as_mut()) {
            if state.signer.needs_refresh(&state.signed, at) {
                state.signed = Arc::new(
                    state
                        .signer
                        .resign(&state.signed, &state.zone, at)
                        .expect("testbed refresh"),
                );
            }
        }
        self.observe(at)
    }

    /// Observes every source at `at`.
    ///
    /// # Panics
    /// If observations go back in time.
    pub fn observe(&mut self, at: Timestamp) -> &mut Self {
        let q = self.questions.clone();
        // Each parent question goes to the zone that answers it: the root's DNSKEY and the
        // TLD's DS to the root, the rest to the TLD.
        let at_root = |x: &&crate::timeline::Question| {
            (x.rtype == RecordType::DNSKEY && x.name.is_root())
                || (x.rtype == RecordType::DS && x.name.num_labels() == 1)
        };
        let upper_root: Vec<_> = q.parent.iter().filter(at_root).cloned().collect();
        let upper_tld: Vec<_> = q.parent.iter().filter(|x| !at_root(x)).cloned().collect();
        self.timeline
            .observe_zone(self.root_source, &self.root, &upper_root, at)
            .expect("testbed observation");
        self.timeline
            .observe_zone(self.tld_source, &self.tld.signed, &upper_tld, at)
            .expect("testbed observation");
        for op in &self.operators {
            match &op.zone {
                Some(state) => self
                    .timeline
                    .observe_zone(op.source, &state.signed, &q.operator, at)
                    .expect("testbed observation"),
                None => self
                    .timeline
                    .observe_unavailable(op.source, &q.operator, at)
                    .expect("testbed observation"),
            }
        }
        self
    }

    /// Ends the observations at `at`.
    pub fn finish(&mut self, at: Timestamp) -> &mut Self {
        self.timeline.finish(at);
        self
    }
}

/// The ways [`bad_denial`] breaks a negative answer of the child zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum BadDenial {
    /// NODATA for `www A` with `www`'s own NSEC/NSEC3 (which lists A).
    TypePresent,
    /// NXDOMAIN for `www A` (which exists) with `www`'s NSEC/NSEC3.
    NameExists,
    /// NXDOMAIN for a name with a proof whose records do not cover it (NSEC) or do not cover
    /// its next closer name (NSEC3).
    NotCovered,
    /// NXDOMAIN without the record that denies the wildcard.
    WildcardNotDenied,
    /// NXDOMAIN with the SOA and no NSEC/NSEC3 at all.
    NoRecords,
    /// NODATA for a name that does not exist, with its NXDOMAIN proof.
    NoDataForMissingName,
}

impl BadDenial {
    /// Every kind, so a corpus built from this list covers them all.
    pub(crate) const ALL: [Self; 6] = [
        Self::TypePresent,
        Self::NameExists,
        Self::NotCovered,
        Self::WildcardNotDenied,
        Self::NoRecords,
        Self::NoDataForMissingName,
    ];

    /// A short identifier.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::TypePresent => "type-present",
            Self::NameExists => "name-exists",
            Self::NotCovered => "not-covered",
            Self::WildcardNotDenied => "wildcard-not-denied",
            Self::NoRecords => "no-records",
            Self::NoDataForMissingName => "nodata-for-missing-name",
        }
    }
}

/// The NSEC or NSEC3 record of `n` itself in `zone` (the record a NODATA proof shows).
fn own_denial_record(zone: &SignedZone, n: &Name) -> super::view::Rrset {
    use super::view::Rrset;
    if matches!(zone.denial(), Denial::Nsec) {
        Rrset::from_signed(
            zone.node(n)
                .and_then(|node| node.nsec())
                .expect("invariant: every authoritative name has its NSEC"),
        )
    } else {
        Rrset::from_signed(
            zone.nsec3_matching(n)
                .expect("invariant: every authoritative name has its NSEC3")
                .rrset(),
        )
    }
}

/// The NSEC or NSEC3 record of `zone` that covers `n` (the record a name error shows).
fn covering_denial_record(zone: &SignedZone, n: &Name) -> super::view::Rrset {
    use super::view::Rrset;
    if matches!(zone.denial(), Denial::Nsec) {
        Rrset::from_signed(
            zone.nsec_covering(n)
                .expect("invariant: an NSEC chain covers every name"),
        )
    } else {
        Rrset::from_signed(
            zone.nsec3_covering(n)
                .expect("invariant: an NSEC3 chain covers every hash")
                .rrset(),
        )
    }
}

/// A broken negative answer from the child of `chain`: the question, the response the child's
/// server should give instead of its own, and the fault a validator must find.
///
/// The records are chosen with the engine's own NSEC/NSEC3 lookups (never with the checker's),
/// so the expected fault does not depend on the code under test.
pub(crate) fn bad_denial(
    chain: &Chain,
    kind: BadDenial,
) -> (Name, RecordType, Override, super::denial::DenialFault) {
    use super::denial::DenialFault;
    use super::view::{DenialProof, Response, Rrset};
    let zone = &chain.child;
    let apex = zone.origin().clone();
    let www = apex.prepend_label("www").expect("invariant: short label");
    let soa = Some(Rrset::from_signed(zone.soa()));
    let nsec3 = !matches!(zone.denial(), Denial::Nsec);
    let own_record = |n: &Name| own_denial_record(zone, n);
    let covering = |n: &Name| covering_denial_record(zone, n);
    let wildcard = apex.prepend_label("*").expect("invariant: short label");
    // Candidate missing names, in order; the first that fits the case is used.
    let candidates: Vec<Name> = (0..64)
        .map(|i| {
            apex.prepend_label(format!("nx{i}"))
                .expect("invariant: short label")
        })
        .collect();
    let (qname, qtype, response, fault) = match kind {
        BadDenial::TypePresent => (
            www.clone(),
            RecordType::A,
            Response::NoData(Arc::new(DenialProof::new([own_record(&www)], soa))),
            DenialFault::TypePresent,
        ),
        BadDenial::NameExists => (
            www.clone(),
            RecordType::A,
            Response::NxDomain(Arc::new(DenialProof::new([own_record(&www)], soa))),
            DenialFault::NameExists,
        ),
        BadDenial::NoRecords => (
            candidates[0].clone(),
            RecordType::A,
            Response::NxDomain(Arc::new(DenialProof::new([], soa))),
            DenialFault::NoRecords,
        ),
        BadDenial::NoDataForMissingName => {
            let q = candidates[0].clone();
            let proof = match Response::from_zone(zone, &q, RecordType::A) {
                Response::NxDomain(p) => p,
                other => panic!("{q} exists: {}", other.summary()),
            };
            (
                q,
                RecordType::A,
                Response::NoData(proof),
                DenialFault::NoMatch,
            )
        }
        BadDenial::NotCovered => {
            // Only the record for the apex: proves the apex exists, covers nothing useful.
            let apex_record = own_record(&apex);
            let q = candidates
                .iter()
                .find(|c| covering(c) != apex_record)
                .expect("invariant: some candidate falls outside the apex's span")
                .clone();
            let fault = if nsec3 {
                DenialFault::NextCloserNotCovered
            } else {
                DenialFault::NameNotCovered
            };
            (
                q,
                RecordType::A,
                Response::NxDomain(Arc::new(DenialProof::new([apex_record], soa))),
                fault,
            )
        }
        BadDenial::WildcardNotDenied => {
            let wildcard_record = covering(&wildcard);
            let apex_record = own_record(&apex);
            let q = candidates
                .iter()
                .find(|c| {
                    let cover = covering(c);
                    cover != wildcard_record && (!nsec3 || apex_record != wildcard_record)
                })
                .expect("invariant: some candidate is covered apart from the wildcard")
                .clone();
            let mut records = vec![covering(&q)];
            if nsec3 {
                records.push(apex_record);
            }
            (
                q,
                RecordType::A,
                Response::NxDomain(Arc::new(DenialProof::new(records, soa))),
                DenialFault::WildcardNotDenied,
            )
        }
    };
    let o = Override {
        zone: apex,
        qname: qname.clone(),
        qtype,
        response,
    };
    (qname, qtype, o, fault)
}

/// Wildcard records for the child at `apex` (RFC 4592): `*.wild` with an A and a TXT,
/// `sub.wild` beside it (so names at and below it are not expanded), and a wildcard CNAME at
/// `*.cn` pointing at `www`.
pub(crate) fn wildcard_records(apex: &Name) -> Vec<String> {
    vec![
        format!("*.wild.{apex} 3600 A 192.0.2.99"),
        format!("*.wild.{apex} 3600 TXT \"wild\""),
        format!("sub.wild.{apex} 3600 A 192.0.2.98"),
        format!("*.cn.{apex} 3600 CNAME www.{apex}"),
    ]
}

/// The ways [`bad_wildcard`] breaks an answer that rests on a wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum BadWildcard {
    /// The expansion for `a.wild A` without any NSEC/NSEC3.
    NoProof,
    /// The expansion with the apex's own NSEC/NSEC3, which covers nothing useful.
    WrongProof,
    /// The expansion of `*.wild` served for `q.sub.wild`, whose closest encloser is `sub.wild`,
    /// with the record that covers the name: the proof shows a closer name exists.
    CloserName,
    /// The expansion served for `sub.wild`, which exists, with its own record.
    NameExists,
    /// Wildcard NODATA for `zz.wild MX` without the wildcard's record.
    NoDataWithoutWildcard,
    /// NODATA for `a.wild A` with the wildcard NODATA proof of `a.wild MX`: the wildcard has
    /// an A.
    NoDataTypePresent,
}

impl BadWildcard {
    /// Every kind, so a corpus built from this list covers them all.
    pub(crate) const ALL: [Self; 6] = [
        Self::NoProof,
        Self::WrongProof,
        Self::CloserName,
        Self::NameExists,
        Self::NoDataWithoutWildcard,
        Self::NoDataTypePresent,
    ];

    /// A short identifier.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::NoProof => "no-proof",
            Self::WrongProof => "wrong-proof",
            Self::CloserName => "closer-name",
            Self::NameExists => "name-exists",
            Self::NoDataWithoutWildcard => "nodata-without-wildcard",
            Self::NoDataTypePresent => "nodata-type-present",
        }
    }
}

/// A broken answer resting on the child's wildcard (the chain must have
/// [`wildcard_records`]): the question, the response the child's server gives instead, and
/// the reason a validator must find.
///
/// # Panics
/// If the chain's child has no wildcard records.
pub(crate) fn bad_wildcard(
    chain: &Chain,
    kind: BadWildcard,
    qtype: RecordType,
) -> (Name, RecordType, Override, super::validate::ReasonCode) {
    use super::denial::DenialFault;
    use super::validate::ReasonCode;
    use super::view::{DenialProof, Response, Rrset};
    let zone = &chain.child;
    let apex = zone.origin().clone();
    let under = |label: &str| name(&format!("{label}.{apex}"));
    let nsec3 = !matches!(zone.denial(), Denial::Nsec);
    let own_record = |n: &Name| own_denial_record(zone, n);
    let covering = |n: &Name| covering_denial_record(zone, n);
    let wildcard = under("*.wild");
    let expansion = |q: &Name, t: RecordType| -> Rrset {
        Rrset::from_signed(
            &zone
                .node(&wildcard)
                .and_then(|w| w.rrset(t))
                .expect("the chain has wildcard records")
                .expanded(q),
        )
    };
    let unproven = ReasonCode::WildcardUnproven;
    let a = under("a.wild");
    let (qname, qtype, response, code) = match kind {
        BadWildcard::NoProof => (
            a.clone(),
            qtype,
            Response::positive(expansion(&a, qtype)),
            unproven,
        ),
        BadWildcard::WrongProof => (
            a.clone(),
            qtype,
            Response::Wildcard(
                Arc::new(expansion(&a, qtype)),
                Arc::new(DenialProof::new([own_record(&apex)], None)),
            ),
            unproven,
        ),
        BadWildcard::CloserName => {
            let q = under("q.sub.wild");
            // NSEC: the record covering the name shows `sub.wild` is closer. NSEC3: the record
            // covering the name's own hash; the next closer name, `sub.wild`, has an NSEC3 of
            // its own, so no record covers it.
            let cover = covering(&q);
            (
                q.clone(),
                qtype,
                Response::Wildcard(
                    Arc::new(expansion(&q, qtype)),
                    Arc::new(DenialProof::new([cover], None)),
                ),
                unproven,
            )
        }
        BadWildcard::NameExists => {
            let q = under("sub.wild");
            (
                q.clone(),
                qtype,
                Response::Wildcard(
                    Arc::new(expansion(&q, qtype)),
                    Arc::new(DenialProof::new([own_record(&q)], None)),
                ),
                unproven,
            )
        }
        BadWildcard::NoDataWithoutWildcard => {
            // `zz.wild` sorts after `sub.wild`, so the NSEC covering it is not the wildcard's.
            let q = under("zz.wild");
            let soa = Some(Rrset::from_signed(zone.soa()));
            let no_closer = if nsec3 {
                vec![own_record(&under("wild")), covering(&q)]
            } else {
                vec![covering(&q)]
            };
            (
                q,
                RecordType::MX,
                Response::NoData(Arc::new(DenialProof::new(no_closer, soa))),
                ReasonCode::BadDenial(DenialFault::NoMatch),
            )
        }
        BadWildcard::NoDataTypePresent => {
            let proof = match Response::from_zone(zone, &a, RecordType::MX) {
                Response::NoData(p) => p,
                other => panic!("a.wild MX is a wildcard NODATA, got {}", other.summary()),
            };
            (
                a.clone(),
                qtype,
                Response::NoData(proof),
                ReasonCode::BadDenial(DenialFault::TypePresent),
            )
        }
    };
    let o = Override {
        zone: apex,
        qname: qname.clone(),
        qtype,
        response,
    };
    (qname, qtype, o, code)
}
