//! Registry publication: the signed TLD zone made from the registry's state, the signed root
//! that delegates it, and the root trust anchor validators start from.
//!
//! A [`Publisher`] holds two signers (root and TLD, each with a KSK and a ZSK) and the current
//! snapshots. The registry changes what it publishes through EPP; the publisher turns each
//! change into a new TLD snapshot **after the propagation delay**, measured on the injected
//! clock, the way a real registry's zone generation and distribution lag behind its database:
//!
//! 1. [`Publisher::observe`] (or [`schedule`](Publisher::schedule)) notices a new registry
//!    generation at `t` and queues that version of the delegations, due at `t + delay`;
//! 2. [`Publisher::tick`]`(now)` applies every queued version that is due, re-signing only the
//!    delegations that changed ([`ZoneSigner::update`]), and re-signs whatever nears expiry
//!    ([`ZoneSigner::needs_refresh`], [`ZoneSigner::resign`]); it returns the snapshots that
//!    changed, to hand to the [`DnsServer`](dnssec::DnsServer);
//! 3. [`Publisher::next_deadline`] says when `tick` next has work, so a discrete-event runner
//!    jumps the virtual clock straight there; `mock-registry serve` ticks every quarter second
//!    on the system clock instead.
//!
//! In the TLD each delegated domain gets NS, glue for name servers inside the TLD, and a DS
//! (SHA-256) per valid keyData, none for unsigned domains. TTLs are configurable
//! ([`PublishTtls`]).
//!
//! Signatures follow the injected clock, but real validators (unbound, delv, drill, hickory)
//! check them against the wall clock: give the real time in
//! [`SigningPolicy::also_valid_at`] (in [`PublishConfig::signing`] or later through
//! [`Publisher::set_also_valid_at`]) and every RRSIG covers it too.
//!
//! **Architecture Invariant:** the publisher reads no clock and no registry by itself: `now`
//! and the registry's state are passed in, so a scenario controls exactly what is published
//! when.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hickory_proto::dnssec::PublicKey;
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS};
use hickory_proto::rr::rdata::{A, AAAA, SOA};
use hickory_proto::rr::{Name, RData, RecordType};
use jiff::{SignedDuration, Timestamp};

use crate::registry::{PublishedDelegation, Registry};
use dnssec::fixture_keys;
use dnssec::keys::{DsDigest, KeyAlgorithm, KeyError, KeyPair, ZoneKey, format_dnskey, format_ds};
use dnssec::signed::SignedZone;
use dnssec::signer::{Denial, SignError, SigningPolicy, ZoneSigner};
use dnssec::zone::{Delegation, RrSet, Zone, ZoneError};

/// TTLs of what the registry publishes (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishTtls {
    /// NS RRsets (delegations, and the TLD's and root's own).
    pub ns: u32,
    /// DS RRsets of signed delegations.
    pub ds: u32,
    /// The apex DNSKEY RRsets of root and TLD.
    pub dnskey: u32,
    /// The SOA RRsets.
    pub soa: u32,
    /// Negative answers: the SOA MINIMUM, hence also NSEC/NSEC3 (RFC 2308, RFC 9077).
    pub negative: u32,
    /// Glue and the name servers' own addresses.
    pub glue: u32,
}

impl Default for PublishTtls {
    /// SIDN-like values: an hour for delegations and keys, ten minutes negative.
    fn default() -> Self {
        Self {
            ns: 3600,
            ds: 3600,
            dnskey: 3600,
            soa: 3600,
            negative: 600,
            glue: 3600,
        }
    }
}

/// What to publish and how.
#[derive(Debug, Clone)]
pub struct PublishConfig {
    /// The TLD (`nl.`).
    pub tld: Name,
    /// The TLD's name server host (default `ns1.dns.<tld>`); a domain that would occlude it is
    /// not delegated.
    pub tld_ns: Name,
    /// The root's name server host (default `a.root-servers.invalid.`, RFC 6761).
    pub root_ns: Name,
    /// Addresses of both name servers, published as their A/AAAA records and glue.
    pub ns_addrs: Vec<IpAddr>,
    /// TTLs of what it publishes (SIDN-like defaults).
    pub ttls: PublishTtls,
    /// How long after a registry change the TLD zone shows it.
    pub delay: SignedDuration,
    /// Chaos: up to this much more, drawn per registry version (default none). A real
    /// registry's zone generation runs on a schedule and its distribution takes as long as it
    /// takes, so a registrar must watch the parent over DNS instead of assuming the delay.
    /// Versions are still published in order: a later change never overtakes an earlier one.
    pub delay_jitter: SignedDuration,
    /// The seed of the jitter draws: the same seed gives the same delays.
    pub jitter_seed: u64,
    /// Denial of existence in the TLD (default NSEC3 with RFC 9276 parameters).
    pub tld_denial: Denial,
    /// Denial of existence in the root (default NSEC, as the real root).
    pub root_denial: Denial,
    /// Validity, jitter, refresh, instants to cover; its `denial` and `dnskey_ttl` are
    /// replaced by the fields above.
    pub signing: SigningPolicy,
    /// Unsigned delegations the root also carries, with their glue: the zones a world's name
    /// server host names live in (`example.` for `ns1.operator-a.example.`), so resolvers that
    /// follow delegations from the root can find every operator. Empty by default.
    pub infra: Vec<Delegation>,
}

impl PublishConfig {
    /// Defaults for a TLD (e.g. `nl`, with or without the trailing dot): name servers on
    /// 127.0.0.1, no delay.
    pub fn new(tld: &str) -> Result<Self, PublishError> {
        let tld = fqdn(tld.trim_end_matches('.'))?;
        let tld_ns = Name::from_ascii("ns1.dns")
            .and_then(|n| n.append_domain(&tld))
            .map_err(|e| PublishError::Name(format!("ns1.dns.{tld}: {e}")))?;
        Ok(Self {
            tld,
            tld_ns,
            root_ns: fqdn("a.root-servers.invalid")?,
            ns_addrs: vec![IpAddr::from([127, 0, 0, 1])],
            ttls: PublishTtls::default(),
            delay: SignedDuration::ZERO,
            delay_jitter: SignedDuration::ZERO,
            jitter_seed: 0,
            tld_denial: Denial::default(),
            root_denial: Denial::Nsec,
            signing: SigningPolicy::default(),
            infra: Vec::new(),
        })
    }
}

/// The root's and the TLD's keys.
#[derive(Debug, Clone)]
pub struct PublishKeys {
    /// Root keys (the KSK is the trust anchor).
    pub root: Vec<ZoneKey>,
    /// TLD keys (the KSK's DS is in the root).
    pub tld: Vec<ZoneKey>,
}

impl PublishKeys {
    /// Fresh KSK and ZSK for each zone.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, KeyError> {
        Ok(Self {
            root: vec![
                ZoneKey::ksk(KeyPair::generate(algorithm)?),
                ZoneKey::zsk(KeyPair::generate(algorithm)?),
            ],
            tld: vec![
                ZoneKey::ksk(KeyPair::generate(algorithm)?),
                ZoneKey::zsk(KeyPair::generate(algorithm)?),
            ],
        })
    }

    /// The fixed test keys ([`fixture_keys`]) 0, 1 (root) and 2, 3 (TLD): the same every run.
    pub fn fixtures(algorithm: KeyAlgorithm) -> Self {
        Self {
            root: vec![
                ZoneKey::ksk(fixture_keys::key(algorithm, 0)),
                ZoneKey::zsk(fixture_keys::key(algorithm, 1)),
            ],
            tld: vec![
                ZoneKey::ksk(fixture_keys::key(algorithm, 2)),
                ZoneKey::zsk(fixture_keys::key(algorithm, 3)),
            ],
        }
    }
}

impl PublishKeys {
    /// ECDSA P-256 fixture keys 7 to 10, which no operator uses: scenarios get the same root
    /// and TLD keys every run (so the same seed gives the same run) without sharing a key with
    /// any operator.
    pub fn registry_fixtures() -> Self {
        let k = |i| fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, i);
        Self {
            root: vec![ZoneKey::ksk(k(6)), ZoneKey::zsk(k(7))],
            tld: vec![ZoneKey::ksk(k(8)), ZoneKey::zsk(k(9))],
        }
    }
}

/// Why publication failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// A name that is not a valid domain name.
    #[error("bad name {0}")]
    Name(String),
    /// Building a zone failed.
    #[error(transparent)]
    Zone(#[from] ZoneError),
    /// Signing the root or TLD zone failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// A key operation failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Writing trust anchor files failed.
    #[error("{path}: {source}")]
    Io {
        /// The trust anchor file, or the directory for them, that could not be written.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
}

/// One delegation as the TLD publishes it (names as DNS names, DS computed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cut {
    ns: Vec<Name>,
    glue: Vec<(Name, IpAddr)>,
    ds: Vec<DS>,
}

/// A registry version waiting for its propagation delay, as the changes from the version
/// scheduled before it (None: the delegation goes).
#[derive(Debug, Clone)]
struct Pending {
    due: Timestamp,
    generation: u64,
    changes: BTreeMap<Name, Option<Arc<Cut>>>,
}

/// One registry delegation, parsed: kept between versions so an unchanged delegation costs a
/// comparison, not a parse and a DS computation.
#[derive(Debug, Clone)]
struct Parsed {
    input: PublishedDelegation,
    name: Name,
    /// The cut without glue (glue depends on other delegations); None if unpublishable.
    base: Option<Arc<Cut>>,
}

/// One TLD snapshot made public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publication {
    /// When it was served (on the injected clock).
    pub time: Timestamp,
    /// The registry generation it shows (None: a re-signing only).
    pub generation: Option<u64>,
    /// The TLD SOA serial.
    pub serial: u32,
}

/// The root trust anchor in the forms validators read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The root KSK.
    pub dnskey: DNSKEY,
    /// Its DS (SHA-256).
    pub ds: DS,
}

/// Paths of the trust anchor files written by [`TrustAnchor::write_files`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorFiles {
    /// `root.key`: the DNSKEY in presentation format (unbound `trust-anchor-file`,
    /// `drill -k`, `dig +sigchase`).
    pub dnskey: PathBuf,
    /// `root.ds`: the DS in presentation format.
    pub ds: PathBuf,
    /// `trust-anchors.conf`: BIND's `trust-anchors` clause (`delv -a`, named).
    pub bind: PathBuf,
}

impl TrustAnchor {
    /// `. 3600 IN DNSKEY 257 3 13 …` (one line, with a newline).
    pub fn dnskey_line(&self) -> String {
        format!(". 3600 IN DNSKEY {}\n", format_dnskey(&self.dnskey))
    }

    /// `. 3600 IN DS 12345 13 2 …` (one line, with a newline).
    pub fn ds_line(&self) -> String {
        format!(". 3600 IN DS {}\n", format_ds(&self.ds))
    }

    /// BIND 9.15+ `trust-anchors` clause with a `static-key` (delv's `-a` file).
    pub fn bind_trust_anchors(&self) -> String {
        let d = &self.dnskey;
        let mut out = String::from("trust-anchors {\n");
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "  . static-key {} 3 {} \"{}\";",
            d.flags(),
            u8::from(d.public_key().algorithm()),
            data_encoding::BASE64.encode(d.public_key().public_bytes())
        );
        out.push_str("};\n");
        out
    }

    /// Writes `root.key`, `root.ds` and `trust-anchors.conf` into `dir` (created if missing).
    pub fn write_files(&self, dir: &Path) -> Result<AnchorFiles, PublishError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PublishError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        // The stem is reserved in the PKI (no registrar can be called `root`), so writing the
        // anchor into the PKI directory, the default of `serve --dns`, overwrites no key.
        let stem = crate::pki::TRUST_ANCHOR_STEM;
        let files = AnchorFiles {
            dnskey: dir.join(format!("{stem}.key")),
            ds: dir.join(format!("{stem}.ds")),
            bind: dir.join("trust-anchors.conf"),
        };
        for (path, text) in [
            (&files.dnskey, self.dnskey_line()),
            (&files.ds, self.ds_line()),
            (&files.bind, self.bind_trust_anchors()),
        ] {
            std::fs::write(path, text).map_err(io(path))?;
        }
        Ok(files)
    }
}

/// Builds and signs the root and the TLD. See the module documentation.
#[derive(Debug)]
pub struct Publisher {
    config: PublishConfig,
    keys: PublishKeys,
    root_signer: ZoneSigner,
    tld_signer: ZoneSigner,
    root_zone: Zone,
    tld_zone: Zone,
    root: Arc<SignedZone>,
    tld: Arc<SignedZone>,
    /// The cuts of the last version scheduled, by the registry's (folded) domain name: the
    /// base the next version is diffed against.
    scheduled: HashMap<String, Arc<Cut>>,
    /// Parsed registry delegations of the last version scheduled.
    parsed: HashMap<String, Parsed>,
    pending: VecDeque<Pending>,
    /// The last registry generation queued.
    observed: Option<u64>,
    publications: Vec<Publication>,
}

impl Publisher {
    /// Signs the root and an empty TLD at `now`.
    pub fn new(
        config: PublishConfig,
        keys: PublishKeys,
        now: Timestamp,
    ) -> Result<Self, PublishError> {
        let tld_signer = ZoneSigner::new(keys.tld.clone(), zone_policy(&config, false))?;
        let root_signer = ZoneSigner::new(keys.root.clone(), zone_policy(&config, true))?;
        let serial = u32::try_from(now.as_second()).unwrap_or(1).max(1);
        let tld_zone = tld_zone(&config, serial)?;
        let tld = Arc::new(tld_signer.sign(&tld_zone, now)?);
        let root_zone = root_zone(&config, &keys, serial)?;
        let root = Arc::new(root_signer.sign(&root_zone, now)?);
        let mut publisher = Self {
            publications: vec![Publication {
                time: now,
                generation: None,
                serial: tld.serial(),
            }],
            config,
            keys,
            root_signer,
            tld_signer,
            root_zone,
            tld_zone,
            root,
            tld,
            scheduled: HashMap::new(),
            parsed: HashMap::new(),
            pending: VecDeque::new(),
            observed: None,
        };
        publisher.root_zone.take_changes();
        publisher.tld_zone.take_changes();
        Ok(publisher)
    }

    /// What it was started with: TLD, name servers, TTLs, delays and signing policy.
    pub fn config(&self) -> &PublishConfig {
        &self.config
    }

    /// The signed root being published.
    pub fn root(&self) -> Arc<SignedZone> {
        self.root.clone()
    }

    /// The signed TLD being published.
    pub fn tld(&self) -> Arc<SignedZone> {
        self.tld.clone()
    }

    /// Both snapshots, root first (to hand to a server at start).
    pub fn zones(&self) -> [Arc<SignedZone>; 2] {
        [self.root.clone(), self.tld.clone()]
    }

    /// The root trust anchor (its KSK).
    pub fn trust_anchor(&self) -> Result<TrustAnchor, PublishError> {
        let ksk = self
            .keys
            .root
            .iter()
            .find(|k| k.role().signs_dnskey() && k.is_published())
            .ok_or(PublishError::Sign(SignError::NoSigningKey))?;
        Ok(TrustAnchor {
            dnskey: ksk.dnskey().clone(),
            ds: ksk.ds(&Name::root(), DsDigest::Sha256)?,
        })
    }

    /// Every TLD snapshot made public so far, oldest first.
    pub fn publications(&self) -> &[Publication] {
        &self.publications
    }

    /// Replaces the extra instants every signature must be valid at (typically the real
    /// wall-clock time, for validators that read it) and re-signs both zones at `now` so they
    /// cover them (keeping every signature that already does). Returns the new snapshots.
    pub fn set_also_valid_at(
        &mut self,
        instants: Vec<Timestamp>,
        now: Timestamp,
    ) -> Result<Vec<Arc<SignedZone>>, PublishError> {
        self.config.signing.also_valid_at = instants;
        self.tld_signer = ZoneSigner::new(self.keys.tld.clone(), zone_policy(&self.config, false))?;
        self.root_signer =
            ZoneSigner::new(self.keys.root.clone(), zone_policy(&self.config, true))?;
        self.root = Arc::new(self.root_signer.resign(&self.root, &self.root_zone, now)?);
        self.tld = Arc::new(self.tld_signer.resign(&self.tld, &self.tld_zone, now)?);
        self.publications.push(Publication {
            time: now,
            generation: None,
            serial: self.tld.serial(),
        });
        Ok(vec![self.root.clone(), self.tld.clone()])
    }

    /// Queues the registry's current delegations if its generation changed since the last
    /// call, due at `now + delay`. Call it right after the registry changes (a scenario step)
    /// or poll it: the delay counts from `now`.
    pub fn observe(&mut self, registry: &Registry, now: Timestamp) {
        let generation = registry.generation();
        if self.observed != Some(generation) {
            self.schedule(generation, &registry.delegations(), now);
        }
    }

    /// Queues this version of the delegations, made at `changed_at`, due after the delay.
    pub fn schedule(
        &mut self,
        generation: u64,
        delegations: &[PublishedDelegation],
        changed_at: Timestamp,
    ) {
        self.observed = Some(generation);
        let due = changed_at
            .checked_add(self.config.delay + self.jitter(generation))
            .unwrap_or(Timestamp::MAX);
        let cuts = self.cuts(delegations);
        let mut changes = BTreeMap::new();
        for (domain, cut) in &cuts {
            if self.scheduled.get(domain) != Some(cut) {
                changes.insert(self.parsed[domain].name.clone(), Some(cut.clone()));
            }
        }
        for domain in self.scheduled.keys() {
            if !cuts.contains_key(domain)
                && let Ok(name) = fqdn(domain)
            {
                changes.insert(name, None);
            }
        }
        self.scheduled = cuts;
        // Keep the queue ordered by due time (a later change never overtakes an earlier one).
        let due = self.pending.back().map_or(due, |p| p.due.max(due));
        self.pending.push_back(Pending {
            due,
            generation,
            changes,
        });
    }

    /// The extra delay of a registry version: a whole number of seconds from zero to
    /// [`PublishConfig::delay_jitter`], a function of the seed and the generation only (so
    /// the same run gets the same delays, whenever the publisher happens to look).
    fn jitter(&self, generation: u64) -> SignedDuration {
        let max = self.config.delay_jitter.as_secs();
        if max <= 0 {
            return SignedDuration::ZERO;
        }
        let mut z = self
            .config
            .jitter_seed
            .wrapping_add(generation.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let span = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
        SignedDuration::from_secs(i64::try_from(z % span).unwrap_or(max))
    }

    /// When [`tick`](Self::tick) next has work: a queued version falls due, or signatures
    /// need refreshing. None: nothing will change unless the registry does.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        // needs_refresh is true once an expiration is *less* than now + refresh: one second
        // past the boundary, or a runner jumping here would find nothing to do and loop.
        let refresh = |signer: &ZoneSigner, zone: &SignedZone| {
            zone.earliest_expiration().and_then(|e| {
                e.checked_sub(signer.policy().refresh)
                    .and_then(|t| t.checked_add(SignedDuration::from_secs(1)))
                    .ok()
            })
        };
        [
            self.pending.front().map(|p| p.due),
            refresh(&self.tld_signer, &self.tld),
            refresh(&self.root_signer, &self.root),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Versions queued and not yet published.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Publishes every queued version due by `now` and refreshes signatures nearing expiry.
    /// Returns the snapshots that changed (give them to the servers).
    pub fn tick(&mut self, now: Timestamp) -> Result<Vec<Arc<SignedZone>>, PublishError> {
        let mut changed = Vec::new();
        let mut last = None;
        while self.pending.front().is_some_and(|p| p.due <= now) {
            let version = self
                .pending
                .pop_front()
                .expect("invariant: checked just above");
            self.apply(&version.changes)?;
            last = Some(version.generation);
        }
        if let Some(generation) = last {
            let changes = self.tld_zone.take_changes();
            if !changes.is_empty() {
                self.tld =
                    Arc::new(
                        self.tld_signer
                            .update(&self.tld, &self.tld_zone, &changes, now)?,
                    );
                self.publications.push(Publication {
                    time: now,
                    generation: Some(generation),
                    serial: self.tld.serial(),
                });
                changed.push(self.tld.clone());
            }
        }
        if self.tld_signer.needs_refresh(&self.tld, now) {
            self.tld = Arc::new(self.tld_signer.resign(&self.tld, &self.tld_zone, now)?);
            self.publications.push(Publication {
                time: now,
                generation: None,
                serial: self.tld.serial(),
            });
            changed.retain(|z| z.origin() != self.tld.origin());
            changed.push(self.tld.clone());
        }
        if self.root_signer.needs_refresh(&self.root, now) {
            self.root = Arc::new(self.root_signer.resign(&self.root, &self.root_zone, now)?);
            changed.insert(0, self.root.clone());
        }
        Ok(changed)
    }

    /// The registry's delegations as cuts by domain: names parsed and DS computed (both reused
    /// from the previous version when the delegation did not change), glue assigned to the cut
    /// it lies under. Anything unpublishable is left out with a warning (the registry checks
    /// names and keys, so this is defence, not policy).
    fn cuts(&mut self, delegations: &[PublishedDelegation]) -> HashMap<String, Arc<Cut>> {
        let mut previous = std::mem::take(&mut self.parsed);
        let mut parsed = HashMap::with_capacity(delegations.len());
        let mut cuts: HashMap<String, Arc<Cut>> = HashMap::with_capacity(delegations.len());
        let mut glue: Vec<(&str, IpAddr)> = Vec::new();
        for d in delegations {
            let p = match previous.remove(&d.name) {
                Some(p) if p.input == *d => p,
                _ => match self.parse(d) {
                    Some(p) => p,
                    None => continue,
                },
            };
            if let Some(base) = &p.base {
                cuts.insert(d.name.clone(), base.clone());
                glue.extend(d.glue.iter().map(|(h, ip)| (h.as_str(), *ip)));
            }
            parsed.insert(d.name.clone(), p);
        }
        glue.sort();
        glue.dedup();
        for (host, ip) in glue {
            // Glue belongs to the delegation the host lies under (which may be another domain
            // than the one delegating to it); a host under no delegation cannot have glue.
            let owner = std::iter::once(host)
                .chain(host.match_indices('.').map(|(i, _)| &host[i + 1..]))
                .find(|suffix| cuts.contains_key(*suffix));
            if let (Some(owner), Ok(host)) = (owner, fqdn(host))
                && let Some(cut) = cuts.get_mut(owner)
            {
                Arc::make_mut(cut).glue.push((host, ip));
            }
        }
        self.parsed = parsed;
        cuts
    }

    /// Parses one delegation (None: not a domain name at all).
    fn parse(&self, d: &PublishedDelegation) -> Option<Parsed> {
        let Ok(name) = fqdn(&d.name) else {
            tracing::warn!(domain = d.name, "not a domain name: not published");
            return None;
        };
        let tld = &self.config.tld;
        let publishable = tld.zone_of(&name) && name != *tld && !name.zone_of(&self.config.tld_ns);
        if !publishable {
            tracing::warn!(
                domain = d.name,
                "outside the TLD or above its name server: not published"
            );
        }
        let ns: Vec<Name> = d.ns.iter().filter_map(|h| fqdn(h).ok()).collect();
        let base = (publishable && !ns.is_empty()).then(|| {
            let ds = d
                .keys
                .iter()
                .filter_map(|k| crate::registry::keys::ds_for(&d.name, k))
                .collect();
            Arc::new(Cut {
                ns,
                glue: Vec::new(),
                ds,
            })
        });
        Some(Parsed {
            input: d.clone(),
            name,
            base,
        })
    }

    /// Edits the TLD zone by `changes`; the zone records which names changed.
    fn apply(&mut self, changes: &BTreeMap<Name, Option<Arc<Cut>>>) -> Result<(), PublishError> {
        let ttls = self.config.ttls;
        for (name, cut) in changes {
            let Some(cut) = cut else {
                self.tld_zone.remove_delegation(name);
                continue;
            };
            self.tld_zone.set_delegation(&Delegation {
                name: name.clone(),
                ttl: ttls.ns,
                ns: cut.ns.clone(),
                glue: Vec::new(),
                ds: Vec::new(),
            })?;
            if !cut.ds.is_empty() {
                self.tld_zone.set_rrset(RrSet::new(
                    name.clone(),
                    ttls.ds,
                    cut.ds
                        .iter()
                        .map(|d| RData::DNSSEC(DNSSECRData::DS(d.clone()))),
                )?)?;
            }
            for rrset in address_rrsets(&cut.glue, ttls.glue)? {
                self.tld_zone.set_rrset(rrset)?;
            }
        }
        Ok(())
    }
}

/// The signing policy for one zone: the configured one with that zone's denial and DNSKEY TTL.
fn zone_policy(config: &PublishConfig, root: bool) -> SigningPolicy {
    SigningPolicy {
        denial: if root {
            config.root_denial.clone()
        } else {
            config.tld_denial.clone()
        },
        dnskey_ttl: config.ttls.dnskey,
        ..config.signing.clone()
    }
}

fn fqdn(name: &str) -> Result<Name, PublishError> {
    let text = if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    };
    Name::from_ascii(&text)
        .map(|n| n.to_lowercase())
        .map_err(|e| PublishError::Name(format!("{name}: {e}")))
}

/// A/AAAA RRsets for (host, address) pairs.
fn address_rrsets(addrs: &[(Name, IpAddr)], ttl: u32) -> Result<Vec<RrSet>, PublishError> {
    let mut by_set: BTreeMap<(Name, RecordType), Vec<RData>> = BTreeMap::new();
    for (host, ip) in addrs {
        let (rtype, rdata) = match ip {
            IpAddr::V4(v4) => (RecordType::A, RData::A(A(*v4))),
            IpAddr::V6(v6) => (RecordType::AAAA, RData::AAAA(AAAA(*v6))),
        };
        by_set.entry((host.clone(), rtype)).or_default().push(rdata);
    }
    by_set
        .into_iter()
        .map(|((host, _), rdata)| RrSet::new(host, ttl, rdata).map_err(Into::into))
        .collect()
}

fn soa(mname: &Name, origin: &Name, serial: u32, ttls: &PublishTtls) -> Result<SOA, PublishError> {
    let rname = Name::from_ascii("hostmaster")
        .and_then(|n| n.append_domain(origin))
        .map_err(|e| PublishError::Name(e.to_string()))?;
    Ok(SOA::new(
        mname.clone(),
        rname,
        serial,
        3600,
        600,
        2_419_200,
        ttls.negative,
    ))
}

/// The TLD without delegations: SOA, NS and the name server's addresses.
fn tld_zone(config: &PublishConfig, serial: u32) -> Result<Zone, PublishError> {
    let ttls = &config.ttls;
    let origin = &config.tld;
    let mut zone = Zone::new(
        origin.clone(),
        soa(&config.tld_ns, origin, serial, ttls)?,
        ttls.soa,
    )?;
    zone.set_rrset(RrSet::new(
        origin.clone(),
        ttls.ns,
        [RData::NS(hickory_proto::rr::rdata::NS(
            config.tld_ns.clone(),
        ))],
    )?)?;
    if origin.zone_of(&config.tld_ns) {
        let addrs: Vec<(Name, IpAddr)> = config
            .ns_addrs
            .iter()
            .map(|ip| (config.tld_ns.clone(), *ip))
            .collect();
        for rrset in address_rrsets(&addrs, ttls.glue)? {
            zone.set_rrset(rrset)?;
        }
    }
    Ok(zone)
}

/// The root: SOA, NS, its name server's addresses, and the TLD's delegation with DS and glue.
fn root_zone(
    config: &PublishConfig,
    keys: &PublishKeys,
    serial: u32,
) -> Result<Zone, PublishError> {
    let ttls = &config.ttls;
    let root = Name::root();
    let mut zone = Zone::new(
        root.clone(),
        soa(&config.root_ns, &root, serial, ttls)?,
        ttls.soa,
    )?;
    zone.set_rrset(RrSet::new(
        root.clone(),
        ttls.ns,
        [RData::NS(hickory_proto::rr::rdata::NS(
            config.root_ns.clone(),
        ))],
    )?)?;
    let ds: Vec<DS> = keys
        .tld
        .iter()
        .filter(|k| k.role().signs_dnskey() && k.is_published())
        .map(|k| k.ds(&config.tld, DsDigest::Sha256))
        .collect::<Result<_, _>>()?;
    let glue: Vec<(Name, IpAddr)> = if config.tld.zone_of(&config.tld_ns) {
        config
            .ns_addrs
            .iter()
            .map(|ip| (config.tld_ns.clone(), *ip))
            .collect()
    } else {
        Vec::new()
    };
    zone.set_delegation(&Delegation {
        name: config.tld.clone(),
        ttl: ttls.ns,
        ns: vec![config.tld_ns.clone()],
        glue: Vec::new(),
        ds: Vec::new(),
    })?;
    if !ds.is_empty() {
        zone.set_rrset(RrSet::new(
            config.tld.clone(),
            ttls.ds,
            ds.into_iter().map(|d| RData::DNSSEC(DNSSECRData::DS(d))),
        )?)?;
    }
    for rrset in address_rrsets(&glue, ttls.glue)? {
        zone.set_rrset(rrset)?;
    }
    for d in &config.infra {
        zone.set_delegation(d)?;
    }
    // The root's own name server, and the TLD's when it lives outside the TLD: authoritative
    // data of the root unless some delegation covers it.
    let mut own: Vec<(Name, IpAddr)> = config
        .ns_addrs
        .iter()
        .map(|ip| (config.root_ns.clone(), *ip))
        .collect();
    if !config.tld.zone_of(&config.tld_ns) {
        own.extend(
            config
                .ns_addrs
                .iter()
                .map(|ip| (config.tld_ns.clone(), *ip)),
        );
    }
    for rrset in address_rrsets(&own, ttls.glue)? {
        zone.set_rrset(rrset)?;
    }
    Ok(zone)
}

#[cfg(test)]
mod tests;
