//! The pure validator: RFC 4035 §5 and RFC 5155 §8 over a [`View`], no network, explicit time,
//! with a reason for every verdict that is not Secure.
//!
//! # What it decides
//!
//! [`validate`] walks the view from the deepest zone that has a trust anchor down to the answer:
//!
//! 1. the anchor zone's DNSKEY RRset must be signed by a key the anchor names;
//! 2. for each delegation below: the DS RRset from the parent must verify with the parent's keys
//!    (or a signed NSEC/NSEC3 proof that there is no DS makes the rest Insecure); a DS must
//!    match a key of the child's DNSKEY RRset, and that key must sign the DNSKEY RRset;
//! 3. the answer (or the NSEC/NSEC3 proof of a negative answer) must verify with the last
//!    zone's keys, and a negative answer must prove what it claims. An answer whose valid
//!    RRSIG has fewer labels than its owner is a wildcard expansion: it is secure only with a
//!    signed NSEC/NSEC3 proof that no closer name exists (RFC 4035 §5.3.4, RFC 5155 §8.8),
//!    bogus (`wildcard-unproven`) otherwise. A DNAME answer must carry the CNAME the DNAME
//!    makes of the name (RFC 6672 §5.3.1). A proof resting on NSEC3 with more iterations than
//!    [`NSEC3_ITERATION_LIMIT`](crate::NSEC3_ITERATION_LIMIT) is not checked: the answer is
//!    insecure (`nsec3-iterations`, RFC 9276 §3.2).
//!
//! A CNAME or DNAME chain is one view per link, each on its own chain of trust (the target may
//! be in another zone, across a delegation); [`validate_chain`] combines them, the weakest link
//! deciding.
//!
//! # Two modes, both reported
//!
//! RFC 4035 §2.2 requires every RRset to be signed with each algorithm of the apex DNSKEY
//! RRset, and the DNSKEY RRset with each algorithm of the DS RRset. RFC 6840 §5.11 tells
//! validators not to insist: one valid path is enough. The [`Validation`] carries both: the
//! lenient verdict (RFC 6840, what BIND, Unbound and hickory do by default) and the strict one
//! (RFC 4035 §2.2 enforced, close to Unbound's `harden-algo-downgrade`), which differs only when
//! an algorithm's signatures are missing or broken while another algorithm's work.
//!
//! # Time
//!
//! `now` is a parameter; RRSIG validity is compared with serial-number arithmetic (RFC 4034
//! §3.1.5), inception and expiration inclusive (RFC 4035 §5.3.1).
//!
//! **Architecture Invariant:** the validator knows nothing of the network or of the cache; it
//! judges exactly the items it is given.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use dnssec::keys::key_tag;
use dnssec::presentation::dname_target;
use dnssec::zone::dname_substitute;
use dnssec::{DsDigest, SignedZone};
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, RRSIG};
use hickory_proto::dnssec::{Algorithm, PublicKey, Verifier};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};
use jiff::Timestamp;

use super::denial::{self, DenialFault, Goal, Proven};
use super::view::{
    DenialProof, Fingerprint, Response, Rrset, View, ZoneView, epoch32, redirect_target,
};

/// RFC 4035 §4.3: the security status of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// A chain of signed DNSKEY and DS RRsets leads from a trust anchor to the answer.
    Secure,
    /// There is provably no such chain (an unsigned delegation, only unsupported algorithms).
    Insecure,
    /// The items needed to decide are missing.
    Indeterminate,
    /// There should be a chain and there is none: resolvers answer SERVFAIL.
    Bogus,
}

impl Status {
    /// `secure`, `insecure`, `indeterminate`, `bogus`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secure => "secure",
            Self::Insecure => "insecure",
            Self::Indeterminate => "indeterminate",
            Self::Bogus => "bogus",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which reading of RFC 4035 §2.2 a verdict follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// RFC 6840 §5.11: any one valid signature from a trusted key is enough.
    Lenient,
    /// RFC 4035 §2.2 enforced: the DNSKEY RRset signed with every DS algorithm, every other
    /// RRset with every algorithm of the DNSKEY RRset.
    Strict,
}

impl Mode {
    /// Both modes, lenient first.
    pub const BOTH: [Self; 2] = [Self::Lenient, Self::Strict];

    /// `lenient` or `strict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lenient => "lenient",
            Self::Strict => "strict",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a verdict is not Secure (and, for warnings, what is fragile about a Secure one).
///
/// Every code has a stable identifier ([`as_str`](Self::as_str)) for reports and check IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ReasonCode {
    // Bogus.
    /// No DS (or trust anchor) of a supported algorithm and digest matches a zone key in the
    /// DNSKEY RRset.
    NoDsMatchesKsk,
    /// A DS matches a key, but no RRSIG over the DNSKEY RRset was made by a DS-matched key.
    DnskeyNotSignedByDsKey,
    /// The only signatures that could have validated have expired.
    SignatureExpired,
    /// The only signatures that could have validated are not valid yet.
    SignatureNotYetValid,
    /// The RRSIGs name keys (tag and algorithm) that are not in the zone's DNSKEY RRset.
    SignerNotInDnskeySet,
    /// A signature by a key of the DNSKEY RRset does not verify (or its fields are wrong: the
    /// signer name, the label count).
    SignatureInvalid,
    /// The RRset has no RRSIG at all (or only of algorithms that cannot be checked) although its
    /// zone is signed.
    Unsigned,
    /// RFC 4035 §2.2 (strict mode only): an algorithm of the DS RRset has no valid signature over
    /// the DNSKEY RRset, or an algorithm of the DNSKEY RRset none over an RRset.
    AlgorithmWithoutSignature,
    /// The zone is secure (the parent has a DS) but answered without a DNSKEY RRset.
    DnskeyMissing,
    /// An NSEC/NSEC3 denial that does not prove what it must.
    BadDenial(DenialFault),
    /// A wildcard expansion (RRSIG labels below the owner's, RFC 4035 §5.3.4) without a valid
    /// proof that no closer name exists (RFC 5155 §8.8): the proof is missing, or it does not
    /// cover the name, or it shows a closer name.
    WildcardUnproven,
    // Insecure.
    /// The parent proves, with signed NSEC/NSEC3, that the delegation has no DS.
    InsecureDelegation,
    /// The DS RRset holds only algorithms or digest types this validator does not support
    /// (RFC 4035 §5.2, RFC 6840 §5.2): treated like no DS.
    UnsupportedAlgorithms,
    /// The negative answer is covered by an NSEC3 Opt-Out span (RFC 5155 §6): it cannot be
    /// proven secure.
    OptOut,
    /// The NSEC3 records use more hash iterations than
    /// [`NSEC3_ITERATION_LIMIT`](crate::NSEC3_ITERATION_LIMIT): the answer is not checked and
    /// is insecure (RFC 9276 §3.2), as real validators treat it.
    Nsec3Iterations,
    // Indeterminate.
    /// No trust anchor for any zone of the view.
    NoTrustAnchor,
    /// The view lacks an item the chain needs (no DS answer, no DNSKEY answer, no answer).
    MissingData,
    /// The items do not fit the question (an answer for another name, a zone that is not below
    /// its parent).
    InconsistentView,
    // Warnings.
    /// Some DS records point at no key, or at a key that does not sign the DNSKEY RRset, while
    /// another DS works ("security lameness", RFC 6781 §4.3.3).
    LameDs,
}

impl ReasonCode {
    /// The stable identifier, e.g. `no-ds-matches-ksk` or `bad-denial/type-present`.
    pub fn as_str(self) -> String {
        match self {
            Self::BadDenial(f) => format!("bad-denial/{}", f.as_str()),
            other => other.simple_str().to_string(),
        }
    }

    fn simple_str(self) -> &'static str {
        match self {
            Self::NoDsMatchesKsk => "no-ds-matches-ksk",
            Self::DnskeyNotSignedByDsKey => "dnskey-not-signed-by-ds-key",
            Self::SignatureExpired => "signature-expired",
            Self::SignatureNotYetValid => "signature-not-yet-valid",
            Self::SignerNotInDnskeySet => "signer-not-in-dnskey-set",
            Self::SignatureInvalid => "signature-invalid",
            Self::Unsigned => "unsigned",
            Self::AlgorithmWithoutSignature => "algorithm-without-signature",
            Self::DnskeyMissing => "dnskey-missing",
            Self::BadDenial(_) => "bad-denial",
            Self::WildcardUnproven => "wildcard-unproven",
            Self::InsecureDelegation => "insecure-delegation",
            Self::UnsupportedAlgorithms => "unsupported-algorithms",
            Self::OptOut => "opt-out",
            Self::Nsec3Iterations => "nsec3-iterations",
            Self::NoTrustAnchor => "no-trust-anchor",
            Self::MissingData => "missing-data",
            Self::InconsistentView => "inconsistent-view",
            Self::LameDs => "lame-ds",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// A reason with where it applies and the evidence in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// What went wrong.
    pub code: ReasonCode,
    /// The zone whose data failed (the parent for a DS problem).
    pub zone: Name,
    /// The evidence, e.g. `DS{12345/8} vs DNSKEY{KSK 23456/8, ZSK 3456/8}`.
    pub detail: String,
}

impl Reason {
    fn new(code: ReasonCode, zone: &Name, detail: impl Into<String>) -> Self {
        Self {
            code,
            zone: zone.clone(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.code, self.zone, self.detail)
    }
}

/// RFC 4035 §4.3, with the reason for every status but Secure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The chain from a trust anchor to the answer verified (RFC 4035 §4.3).
    Secure,
    /// Provably unsigned from some point down.
    Insecure(Reason),
    /// Should validate and does not.
    Bogus(Reason),
    /// Cannot be decided from the view.
    Indeterminate(Reason),
}

impl Verdict {
    /// The status without the reason.
    pub fn status(&self) -> Status {
        match self {
            Self::Secure => Status::Secure,
            Self::Insecure(_) => Status::Insecure,
            Self::Bogus(_) => Status::Bogus,
            Self::Indeterminate(_) => Status::Indeterminate,
        }
    }

    /// The reason (None for Secure).
    pub fn reason(&self) -> Option<&Reason> {
        match self {
            Self::Secure => None,
            Self::Insecure(r) | Self::Bogus(r) | Self::Indeterminate(r) => Some(r),
        }
    }

    /// The reason's code (None for Secure).
    pub fn code(&self) -> Option<ReasonCode> {
        self.reason().map(|r| r.code)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            None => f.write_str("secure"),
            Some(r) => write!(f, "{} ({r})", self.status()),
        }
    }
}

/// The outcome of validating one view: the verdict in each mode and warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// RFC 6840 §5.11 (the default of real validators).
    pub lenient: Verdict,
    /// RFC 4035 §2.2 enforced.
    pub strict: Verdict,
    /// Things that are fragile but do not change the verdict (lame DS).
    pub warnings: Vec<Reason>,
}

impl Validation {
    /// The verdict in `mode`.
    pub fn verdict(&self, mode: Mode) -> &Verdict {
        match mode {
            Mode::Lenient => &self.lenient,
            Mode::Strict => &self.strict,
        }
    }

    fn done(verdict: Verdict, chain: &Chain) -> Self {
        let strict = match (&verdict, &chain.strict) {
            (Verdict::Secure | Verdict::Insecure(_), Some(v)) => Verdict::Bogus(v.clone()),
            _ => verdict.clone(),
        };
        Self {
            lenient: verdict,
            strict,
            warnings: chain.warnings.clone(),
        }
    }

    fn plain(verdict: Verdict) -> Self {
        Self {
            strict: verdict.clone(),
            lenient: verdict,
            warnings: Vec::new(),
        }
    }
}

/// A configured trust anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// A DS for the zone's key (like the root's `root-anchors.xml`).
    Ds(DS),
    /// The key itself.
    Dnskey(DNSKEY),
}

/// Trust anchors by zone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustAnchors {
    zones: BTreeMap<Name, Vec<Anchor>>,
}

impl TrustAnchors {
    /// An empty set: validating with it gives Indeterminate (no trust anchor) until anchors are
    /// added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an anchor for `zone`.
    pub fn add(&mut self, zone: &Name, anchor: Anchor) -> &mut Self {
        self.zones
            .entry(zone.to_lowercase())
            .or_default()
            .push(anchor);
        self
    }

    /// SHA-256 DS anchors for every secure-entry-point key in the zone's DNSKEY RRset.
    pub fn from_zone(zone: &SignedZone) -> Self {
        let mut anchors = Self::new();
        if let Some(set) = zone.dnskeys() {
            for r in set.records() {
                if let RData::DNSSEC(DNSSECRData::DNSKEY(k)) = &r.data
                    && k.secure_entry_point()
                    && let Ok(ds) = dnssec::keys::ds_from_dnskey(zone.origin(), k, DsDigest::Sha256)
                {
                    anchors.add(zone.origin(), Anchor::Ds(ds));
                }
            }
        }
        anchors
    }

    /// The anchors for `zone`.
    pub fn get(&self, zone: &Name) -> Option<&[Anchor]> {
        self.zones.get(zone).map(Vec::as_slice)
    }

    /// The zones that have anchors.
    pub fn zones(&self) -> impl Iterator<Item = &Name> + '_ {
        self.zones.keys()
    }
}

/// A zone key from an authenticated DNSKEY RRset.
#[derive(Debug, Clone)]
struct TrustedKey {
    dnskey: DNSKEY,
    tag: u16,
    algorithm: Algorithm,
    fingerprint: Fingerprint,
}

impl TrustedKey {
    fn new(dnskey: &DNSKEY) -> Self {
        let mut bytes = dnskey.flags().to_be_bytes().to_vec();
        bytes.push(u8::from(dnskey.public_key().algorithm()));
        bytes.extend_from_slice(dnskey.public_key().public_bytes());
        Self {
            dnskey: dnskey.clone(),
            tag: key_tag(dnskey),
            algorithm: dnskey.public_key().algorithm(),
            fingerprint: Fingerprint::of_bytes(&bytes),
        }
    }

    fn label(&self) -> String {
        format!("{}/{}", self.tag, u8::from(self.algorithm))
    }
}

/// What the chain has established so far: the strict-mode violation seen on the way (if any)
/// and the warnings.
#[derive(Debug, Clone, Default)]
struct Chain {
    strict: Option<Reason>,
    warnings: Vec<Reason>,
}

impl Chain {
    fn violate(&mut self, reason: Reason) {
        self.strict.get_or_insert(reason);
    }
}

/// A zone whose DNSKEY RRset has been authenticated: its keys can validate its data.
#[derive(Debug, Clone)]
pub struct SecureZone {
    apex: Name,
    keys: Arc<Vec<TrustedKey>>,
    /// Supported algorithms of the DNSKEY RRset (RFC 4035 §2.2: each must sign every RRset).
    algorithms: BTreeSet<Algorithm>,
    chain: Chain,
}

impl SecureZone {
    /// The zone's apex.
    pub fn apex(&self) -> &Name {
        &self.apex
    }
}

/// One step down the chain: either a zone whose keys are trusted, or the final outcome (the
/// chain stops being secure here, so nothing below can change the verdict).
#[derive(Debug, Clone)]
pub enum Step {
    /// The zone's DNSKEY RRset is authenticated.
    Secure(SecureZone),
    /// The outcome for every question below this point.
    Done(Validation),
}

/// What a single RRSIG does for an RRset.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SigOutcome {
    // Ordered from least to most informative failure; `Valid` last.
    Unsupported,
    UnknownKey,
    NotYetValid,
    Expired,
    Invalid(String),
    Valid,
}

/// Counters, for benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidatorStats {
    /// Cryptographic signature verifications performed.
    pub verifications: u64,
    /// Verifications answered from memory.
    pub memo_hits: u64,
}

/// What a [`Validator`] remembers of its cryptographic work: which signature of which RRset
/// a key verified, which DS matched which key. Keyed by content ([`Fingerprint`]s), not by
/// `now` (validity times are checked on every use), so it holds for as long as the process
/// lives and may outlive a validator: the live check keeps one across every instant of a run,
/// where the same root, TLD and zone keys sign most answers again and again.
#[derive(Debug, Default)]
pub struct SignatureMemo {
    verified: HashMap<(Fingerprint, usize, Fingerprint), bool>,
    ds_matches: HashMap<(Fingerprint, Fingerprint), bool>,
}

impl SignatureMemo {
    /// Signature verifications and DS matches remembered.
    pub fn len(&self) -> usize {
        self.verified.len() + self.ds_matches.len()
    }

    /// Whether nothing is remembered yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The validator with its memory of signature checks (valid for the items' lifetime in this
/// process, whatever `now` is: time is checked separately).
#[derive(Debug)]
pub struct Validator<'a> {
    anchors: &'a TrustAnchors,
    memo: SignatureMemo,
    stats: ValidatorStats,
}

/// Validates `view` at `now` against `anchors`. See the module documentation.
pub fn validate(view: &View, anchors: &TrustAnchors, now: Timestamp) -> Validation {
    Validator::new(anchors).validate(view, now)
}

/// Validates a CNAME/DNAME chain at `now`: one view per link, as [`View::resolve_chain`] makes
/// them. See [`Validator::validate_chain`].
pub fn validate_chain(links: &[View], anchors: &TrustAnchors, now: Timestamp) -> Validation {
    Validator::new(anchors).validate_chain(links, now)
}

/// How bad a status is, for combining the links of a chain: bogus fails the whole answer,
/// a missing link leaves it undecided, one insecure link makes it insecure.
fn severity(s: Status) -> u8 {
    match s {
        Status::Secure => 0,
        Status::Insecure => 1,
        Status::Indeterminate => 2,
        Status::Bogus => 3,
    }
}

fn supported_algorithm(a: Algorithm) -> bool {
    a.is_supported()
}

fn supported_ds(ds: &DS) -> bool {
    supported_algorithm(ds.algorithm()) && ds.digest_type().is_supported()
}

fn dnskeys_of(set: &Rrset) -> Vec<&DNSKEY> {
    set.rdata()
        .filter_map(|r| match r {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some(k),
            _ => None,
        })
        .collect()
}

fn ds_of(set: &Rrset) -> Vec<&DS> {
    set.rdata()
        .filter_map(|r| match r {
            RData::DNSSEC(DNSSECRData::DS(d)) => Some(d),
            _ => None,
        })
        .collect()
}

/// A usable zone key: the Zone Key flag set, not revoked (RFC 4034 §2.1.1, RFC 5011 §7).
fn usable_zone_key(k: &DNSKEY) -> bool {
    k.zone_key() && !k.revoke()
}

fn tags(keys: &[&TrustedKey]) -> String {
    keys.iter()
        .map(|k| k.label())
        .collect::<Vec<_>>()
        .join(", ")
}

impl<'a> Validator<'a> {
    /// A validator for these anchors.
    pub fn new(anchors: &'a TrustAnchors) -> Self {
        Self::with_memo(anchors, SignatureMemo::default())
    }

    /// A validator for these anchors that starts from what an earlier one remembered.
    pub fn with_memo(anchors: &'a TrustAnchors, memo: SignatureMemo) -> Self {
        Self {
            anchors,
            memo,
            stats: ValidatorStats::default(),
        }
    }

    /// The trust anchors it validates from.
    pub fn anchors(&self) -> &'a TrustAnchors {
        self.anchors
    }

    /// Ends the validator, keeping what it remembers for the next.
    pub fn into_memo(self) -> SignatureMemo {
        self.memo
    }

    /// Counters so far.
    pub fn stats(&self) -> ValidatorStats {
        self.stats
    }

    /// Validates a whole view. See the module documentation.
    pub fn validate(&mut self, view: &View, now: Timestamp) -> Validation {
        let Some(start) = view
            .zones
            .iter()
            .rposition(|z| self.anchors.get(&z.apex).is_some())
        else {
            let zone = view
                .zones
                .first()
                .map_or_else(Name::root, |z| z.apex.clone());
            return Validation::plain(Verdict::Indeterminate(Reason::new(
                ReasonCode::NoTrustAnchor,
                &zone,
                "no trust anchor for any zone on the path",
            )));
        };
        let mut zone = match self.anchor(&view.zones[start], now) {
            Step::Secure(z) => z,
            Step::Done(v) => return v,
        };
        for child in &view.zones[start + 1..] {
            zone = match self.descend(&zone, child, now) {
                Step::Secure(z) => z,
                Step::Done(v) => return v,
            };
        }
        self.answer(&zone, &view.qname, view.qtype, &view.answer, now)
    }

    /// Validates a CNAME/DNAME chain: one view per link, the first for the question, each
    /// next one for the target the previous link's CNAME (or DNAME) points at
    /// ([`View::resolve_chain`]).
    ///
    /// Each link is validated on its own chain of trust, since the alias and its target may
    /// lie in different zones, across delegations, with different keys or none (RFC 4035 §5:
    /// every RRset is validated with the keys of its own zone). The answer is as weak as its
    /// weakest link: a validating resolver sets AD only when every RRset of the answer is
    /// secure, and fails the query (SERVFAIL) when any is bogus. So the verdict (in each mode)
    /// is the first link with the worst status; the warnings are every link's.
    pub fn validate_chain(&mut self, links: &[View], now: Timestamp) -> Validation {
        if links.is_empty() {
            return Validation::plain(Verdict::Indeterminate(Reason::new(
                ReasonCode::MissingData,
                &Name::root(),
                "no answer to validate",
            )));
        }
        let mut lenient: Option<Verdict> = None;
        let mut strict: Option<Verdict> = None;
        let mut warnings = Vec::new();
        for (i, link) in links.iter().enumerate() {
            let mut v = self.validate(link, now);
            if let Some(next) = links.get(i + 1) {
                let target = link.answer.redirect(link.qtype);
                if target.as_ref() != Some(&next.qname.to_lowercase()) {
                    let apex = link
                        .zones
                        .last()
                        .map_or_else(Name::root, |z| z.apex.clone());
                    let broken = Verdict::Indeterminate(Reason::new(
                        ReasonCode::InconsistentView,
                        &apex,
                        format!(
                            "link {} ({} {}) leads to {}, not to {}",
                            i + 1,
                            link.qname,
                            link.qtype,
                            target.map_or_else(|| "nothing".to_string(), |t| t.to_string()),
                            next.qname
                        ),
                    ));
                    v = Validation::plain(broken);
                }
            }
            for (slot, verdict) in [(&mut lenient, v.lenient), (&mut strict, v.strict)] {
                if slot
                    .as_ref()
                    .is_none_or(|w| severity(verdict.status()) > severity(w.status()))
                {
                    *slot = Some(verdict);
                }
            }
            warnings.extend(v.warnings);
        }
        Validation {
            lenient: lenient.unwrap_or(Verdict::Secure),
            strict: strict.unwrap_or(Verdict::Secure),
            warnings,
        }
    }

    /// Authenticates the DNSKEY RRset of a zone that has a trust anchor.
    pub fn anchor(&mut self, zone: &ZoneView, now: Timestamp) -> Step {
        let chain = Chain::default();
        let Some(anchors) = self.anchors.get(&zone.apex) else {
            return Step::Done(Validation::plain(Verdict::Indeterminate(Reason::new(
                ReasonCode::NoTrustAnchor,
                &zone.apex,
                "no trust anchor for this zone",
            ))));
        };
        let anchors: Vec<Anchor> = anchors.to_vec();
        self.authenticate_dnskeys(
            &zone.apex,
            &zone.dnskey,
            &KeySource::Anchors(&anchors),
            chain,
            now,
        )
    }

    /// Follows the delegation from `parent` to `child`: the DS answer, then the child's DNSKEY
    /// RRset.
    pub(crate) fn descend(
        &mut self,
        parent: &SecureZone,
        child: &ZoneView,
        now: Timestamp,
    ) -> Step {
        let mut chain = parent.chain.clone();
        if child.apex == parent.apex || !parent.apex.zone_of(&child.apex) {
            return Step::Done(Validation::done(
                Verdict::Indeterminate(Reason::new(
                    ReasonCode::InconsistentView,
                    &child.apex,
                    format!("{} is not below {}", child.apex, parent.apex),
                )),
                &chain,
            ));
        }
        match &child.ds {
            Response::Positive(set) => {
                if set.record_type() != RecordType::DS || *set.name() != child.apex {
                    return Step::Done(Validation::done(
                        Verdict::Indeterminate(Reason::new(
                            ReasonCode::InconsistentView,
                            &parent.apex,
                            format!("expected DS at {}, got {}", child.apex, set.summary()),
                        )),
                        &chain,
                    ));
                }
                if let Err(reason) = self.verify_rrset(parent, set, &mut chain, now) {
                    return Step::Done(Validation::done(Verdict::Bogus(reason), &chain));
                }
                let ds: Vec<DS> = ds_of(set)
                    .into_iter()
                    .filter(|d| supported_ds(d))
                    .cloned()
                    .collect();
                if ds.is_empty() {
                    return Step::Done(Validation::done(
                        Verdict::Insecure(Reason::new(
                            ReasonCode::UnsupportedAlgorithms,
                            &child.apex,
                            format!("no supported algorithm or digest in {}", set.summary()),
                        )),
                        &chain,
                    ));
                }
                self.authenticate_dnskeys(
                    &child.apex,
                    &child.dnskey,
                    &KeySource::Ds(&ds),
                    chain,
                    now,
                )
            }
            Response::NoData(proof) => {
                for set in proof.rrsets() {
                    if let Err(reason) = self.verify_rrset(parent, set, &mut chain, now) {
                        return Step::Done(Validation::done(Verdict::Bogus(reason), &chain));
                    }
                }
                let records: Vec<&Rrset> = proof.records().iter().map(AsRef::as_ref).collect();
                let verdict = match denial::check(&parent.apex, &child.apex, Goal::NoDs, &records) {
                    Ok(Proven::TooManyIterations(n)) => Verdict::Insecure(Reason::new(
                        ReasonCode::Nsec3Iterations,
                        &parent.apex,
                        format!(
                            "no-DS proof for {} uses {n} NSEC3 iterations (limit {}): {}",
                            child.apex,
                            denial::NSEC3_ITERATION_LIMIT,
                            proof.summary()
                        ),
                    )),
                    Ok(_) => Verdict::Insecure(Reason::new(
                        ReasonCode::InsecureDelegation,
                        &parent.apex,
                        format!("no DS for {}: {}", child.apex, proof.summary()),
                    )),
                    Err(fault) => Verdict::Bogus(Reason::new(
                        ReasonCode::BadDenial(fault),
                        &parent.apex,
                        format!("no-DS proof for {}: {}", child.apex, proof.summary()),
                    )),
                };
                Step::Done(Validation::done(verdict, &chain))
            }
            Response::Wildcard(..) | Response::Dname(..) => Step::Done(Validation::done(
                Verdict::Indeterminate(Reason::new(
                    ReasonCode::InconsistentView,
                    &parent.apex,
                    format!("expected DS at {}, got {}", child.apex, child.ds.summary()),
                )),
                &chain,
            )),
            Response::NxDomain(proof) => Step::Done(Validation::done(
                Verdict::Indeterminate(Reason::new(
                    ReasonCode::InconsistentView,
                    &parent.apex,
                    format!(
                        "the parent says {} does not exist: {}",
                        child.apex,
                        proof.summary()
                    ),
                )),
                &chain,
            )),
            Response::Unavailable => Step::Done(Validation::done(
                Verdict::Indeterminate(Reason::new(
                    ReasonCode::MissingData,
                    &parent.apex,
                    format!("no DS answer for {}", child.apex),
                )),
                &chain,
            )),
        }
    }

    /// Validates the answer with the keys of the zone that gave it.
    pub fn answer(
        &mut self,
        zone: &SecureZone,
        qname: &Name,
        qtype: RecordType,
        answer: &Response,
        now: Timestamp,
    ) -> Validation {
        let mut chain = zone.chain.clone();
        let qname = qname.to_lowercase();
        let mismatch = |detail: String, chain: &Chain| {
            Validation::done(
                Verdict::Indeterminate(Reason::new(
                    ReasonCode::InconsistentView,
                    &zone.apex,
                    detail,
                )),
                chain,
            )
        };
        if !zone.apex.zone_of(&qname) {
            return mismatch(format!("{qname} is not in zone {}", zone.apex), &chain);
        }
        let verdict = match answer {
            Response::Positive(set) | Response::Wildcard(set, _) => {
                // A CNAME at the name answers any other type (RFC 1034 §3.6.2); the chain goes
                // on at its target, which is another question.
                let fits = set.record_type() == qtype
                    || (set.record_type() == RecordType::CNAME && qtype != RecordType::CNAME);
                if *set.name() != qname || !fits {
                    return mismatch(
                        format!("asked {qname} {qtype}, got {}", set.summary()),
                        &chain,
                    );
                }
                match self.verify_rrset(zone, set, &mut chain, now) {
                    Err(reason) => Verdict::Bogus(reason),
                    Ok(labels) if labels < qname.num_labels() => {
                        let proof = match answer {
                            Response::Wildcard(_, p) => Some(p.as_ref()),
                            _ => None,
                        };
                        self.expansion(zone, &qname, qtype, labels, proof, &mut chain, now)
                    }
                    Ok(_) => Verdict::Secure,
                }
            }
            Response::Dname(dname, cname) => {
                if dname.record_type() != RecordType::DNAME
                    || *dname.name() == qname
                    || !dname.name().zone_of(&qname)
                {
                    return mismatch(
                        format!("asked {qname} {qtype}, got {}", dname.summary()),
                        &chain,
                    );
                }
                match self.verify_rrset(zone, dname, &mut chain, now) {
                    Err(reason) => Verdict::Bogus(reason),
                    Ok(_) => {
                        // RFC 6672 §5.3.1: the CNAME is unsigned; it must be what the DNAME
                        // makes of the query name.
                        let wanted = dname
                            .rdata()
                            .next()
                            .and_then(dname_target)
                            .and_then(|t| dname_substitute(&qname, dname.name(), &t));
                        if cname.name() != &qname
                            || redirect_target(cname).as_ref() != wanted.as_ref()
                        {
                            return mismatch(
                                format!(
                                    "{} does not follow from {}",
                                    cname.summary(),
                                    dname.summary()
                                ),
                                &chain,
                            );
                        }
                        Verdict::Secure
                    }
                }
            }
            Response::NoData(proof) | Response::NxDomain(proof) => {
                let mut failed = None;
                for set in proof.rrsets() {
                    if let Err(reason) = self.verify_rrset(zone, set, &mut chain, now) {
                        failed = Some(reason);
                        break;
                    }
                }
                if let Some(reason) = failed {
                    Verdict::Bogus(reason)
                } else {
                    let goal = match (answer, qtype) {
                        (Response::NxDomain(_), _) => Goal::NxDomain,
                        (_, RecordType::DS) => Goal::NoDs,
                        (_, t) => Goal::NoData(t),
                    };
                    let records: Vec<&Rrset> = proof.records().iter().map(AsRef::as_ref).collect();
                    let what = if matches!(answer, Response::NxDomain(_)) {
                        "NXDOMAIN"
                    } else {
                        "NODATA"
                    };
                    match denial::check(&zone.apex, &qname, goal, &records) {
                        Ok(Proven::TooManyIterations(n)) => Verdict::Insecure(Reason::new(
                            ReasonCode::Nsec3Iterations,
                            &zone.apex,
                            format!(
                                "{what} for {qname} {qtype} uses {n} NSEC3 iterations (limit {})",
                                denial::NSEC3_ITERATION_LIMIT
                            ),
                        )),
                        // An Opt-Out span proves there is no DS (RFC 5155 §8.6): the DS
                        // question is answered securely (as BIND and ldns do).
                        Ok(Proven::Yes) => Verdict::Secure,
                        Ok(Proven::OptOut) if goal == Goal::NoDs => Verdict::Secure,
                        Ok(Proven::OptOut) => Verdict::Insecure(Reason::new(
                            ReasonCode::OptOut,
                            &zone.apex,
                            format!("{what} for {qname} {qtype} under an Opt-Out span"),
                        )),
                        Err(fault) => Verdict::Bogus(Reason::new(
                            ReasonCode::BadDenial(fault),
                            &zone.apex,
                            format!("{what} for {qname} {qtype}: {}", proof.summary()),
                        )),
                    }
                }
            }
            Response::Unavailable => Verdict::Indeterminate(Reason::new(
                ReasonCode::MissingData,
                &zone.apex,
                format!("no answer for {qname} {qtype}"),
            )),
        };
        Validation::done(verdict, &chain)
    }

    /// The verdict on a positive answer whose valid RRSIG has `labels` labels, fewer than the
    /// query name: a wildcard expansion, secure only with a signed proof that no closer name
    /// exists (RFC 4035 §5.3.4, RFC 5155 §8.8).
    #[allow(
        clippy::too_many_arguments,
        reason = "one step of answer() with its state"
    )]
    fn expansion(
        &mut self,
        zone: &SecureZone,
        qname: &Name,
        qtype: RecordType,
        labels: u8,
        proof: Option<&DenialProof>,
        chain: &mut Chain,
        now: Timestamp,
    ) -> Verdict {
        let wildcard = format!("*.{}", qname.trim_to(usize::from(labels)));
        let unproven = |detail: String| {
            Verdict::Bogus(Reason::new(
                ReasonCode::WildcardUnproven,
                &zone.apex,
                format!("{qname} {qtype} expanded from {wildcard}: {detail}"),
            ))
        };
        let Some(proof) = proof.filter(|p| !p.records().is_empty()) else {
            return unproven("no NSEC/NSEC3 shows that no closer name exists".into());
        };
        for set in proof.records() {
            if let Err(reason) = self.verify_rrset(zone, set, chain, now) {
                return Verdict::Bogus(reason);
            }
        }
        let records: Vec<&Rrset> = proof.records().iter().map(AsRef::as_ref).collect();
        match denial::check(&zone.apex, qname, Goal::Expansion(labels), &records) {
            Ok(Proven::Yes) => Verdict::Secure,
            Ok(Proven::OptOut) => Verdict::Insecure(Reason::new(
                ReasonCode::OptOut,
                &zone.apex,
                format!("{qname} {qtype} expanded from {wildcard} under an Opt-Out span"),
            )),
            Ok(Proven::TooManyIterations(n)) => Verdict::Insecure(Reason::new(
                ReasonCode::Nsec3Iterations,
                &zone.apex,
                format!(
                    "{qname} {qtype} expanded from {wildcard}: the proof uses {n} NSEC3 \
                     iterations (limit {})",
                    denial::NSEC3_ITERATION_LIMIT
                ),
            )),
            Err(fault) => unproven(format!("{fault}: {}", proof.summary())),
        }
    }

    /// Authenticates a DNSKEY RRset with DS records or trust anchors (RFC 4035 §5.2).
    fn authenticate_dnskeys(
        &mut self,
        apex: &Name,
        dnskey: &Response,
        source: &KeySource<'_>,
        mut chain: Chain,
        now: Timestamp,
    ) -> Step {
        let set = match dnskey {
            Response::Positive(set)
                if set.record_type() == RecordType::DNSKEY && set.name() == apex =>
            {
                set
            }
            Response::Positive(_) | Response::Wildcard(..) | Response::Dname(..) => {
                return Step::Done(Validation::done(
                    Verdict::Indeterminate(Reason::new(
                        ReasonCode::InconsistentView,
                        apex,
                        format!("expected the DNSKEY RRset, got {}", dnskey.summary()),
                    )),
                    &chain,
                ));
            }
            Response::NoData(_) | Response::NxDomain(_) => {
                return Step::Done(Validation::done(
                    Verdict::Bogus(Reason::new(
                        ReasonCode::DnskeyMissing,
                        apex,
                        format!("{} but the zone has no DNSKEY RRset", source.summary()),
                    )),
                    &chain,
                ));
            }
            Response::Unavailable => {
                return Step::Done(Validation::done(
                    Verdict::Indeterminate(Reason::new(
                        ReasonCode::MissingData,
                        apex,
                        "no DNSKEY answer",
                    )),
                    &chain,
                ));
            }
        };
        let keys: Vec<TrustedKey> = dnskeys_of(set)
            .into_iter()
            .filter(|k| usable_zone_key(k))
            .map(TrustedKey::new)
            .collect();
        // Which keys each DS (or anchor) matches.
        let entries = source.entries();
        let mut matched: Vec<Vec<usize>> = Vec::with_capacity(entries.len());
        for entry in &entries {
            let mut m = Vec::new();
            for (i, k) in keys.iter().enumerate() {
                if self.entry_matches(apex, entry, k) {
                    m.push(i);
                }
            }
            matched.push(m);
        }
        let matched_keys: BTreeSet<usize> = matched.iter().flatten().copied().collect();
        if matched_keys.is_empty() {
            let key_list: Vec<&TrustedKey> = keys.iter().collect();
            return Step::Done(Validation::done(
                Verdict::Bogus(Reason::new(
                    ReasonCode::NoDsMatchesKsk,
                    apex,
                    format!("{} vs DNSKEY{{{}}}", source.summary(), tags(&key_list)),
                )),
                &chain,
            ));
        }
        // Which matched keys make a valid signature over the DNSKEY RRset.
        let candidates: Vec<&TrustedKey> = matched_keys.iter().map(|&i| &keys[i]).collect();
        let mut best: Option<SigOutcome> = None;
        let mut valid_by: BTreeSet<(u16, Algorithm)> = BTreeSet::new();
        for (index, sig) in set.rrsigs().iter().enumerate() {
            let relevant = candidates
                .iter()
                .any(|k| k.tag == sig.input().key_tag && k.algorithm == sig.input().algorithm);
            if !relevant {
                continue;
            }
            let (outcome, key) = self.check_sig(apex, set, index, sig, &candidates, now);
            if outcome == SigOutcome::Valid
                && let Some(k) = key
            {
                valid_by.insert((k.tag, k.algorithm));
            }
            if best.as_ref().is_none_or(|b| outcome > *b) {
                best = Some(outcome);
            }
        }
        if valid_by.is_empty() {
            let reason = match best {
                None | Some(SigOutcome::Unsupported | SigOutcome::UnknownKey) => Reason::new(
                    ReasonCode::DnskeyNotSignedByDsKey,
                    apex,
                    format!(
                        "{} matches DNSKEY {} but the DNSKEY RRset is {}",
                        source.summary(),
                        tags(&candidates),
                        set.rrsigs()
                            .first()
                            .map_or_else(|| "unsigned".to_string(), |_| sig_list(set))
                    ),
                ),
                Some(outcome) => sig_reason(&outcome, apex, set),
            };
            return Step::Done(Validation::done(Verdict::Bogus(reason), &chain));
        }
        // Lame DS: entries whose keys do not produce a valid signature.
        let lame: Vec<String> = entries
            .iter()
            .zip(&matched)
            .filter(|(_, m)| {
                !m.iter()
                    .any(|&i| valid_by.contains(&(keys[i].tag, keys[i].algorithm)))
            })
            .map(|(e, _)| e.label())
            .collect();
        if !lame.is_empty() {
            chain.warnings.push(Reason::new(
                ReasonCode::LameDs,
                apex,
                format!(
                    "{} lead to no key signing the DNSKEY RRset ({} works)",
                    lame.join(", "),
                    valid_by
                        .iter()
                        .map(|(t, a)| format!("{t}/{}", u8::from(*a)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        // Strict: every DS algorithm signs the DNSKEY RRset (RFC 4035 §2.2).
        let ds_algorithms: BTreeSet<Algorithm> = entries.iter().map(|e| e.algorithm()).collect();
        for a in &ds_algorithms {
            if !valid_by.iter().any(|(_, va)| va == a) {
                chain.violate(Reason::new(
                    ReasonCode::AlgorithmWithoutSignature,
                    apex,
                    format!(
                        "algorithm {} of {} has no valid signature over the DNSKEY RRset",
                        u8::from(*a),
                        source.summary()
                    ),
                ));
            }
        }
        let algorithms: BTreeSet<Algorithm> = keys
            .iter()
            .map(|k| k.algorithm)
            .filter(|a| supported_algorithm(*a))
            .collect();
        let zone = SecureZone {
            apex: apex.clone(),
            keys: Arc::new(keys),
            algorithms,
            chain,
        };
        // Strict: the DNSKEY RRset, like any RRset, is signed with every algorithm it holds.
        let mut chain = zone.chain.clone();
        let _ = self.verify_rrset(&zone, set, &mut chain, now);
        Step::Secure(SecureZone { chain, ..zone })
    }

    fn entry_matches(&mut self, apex: &Name, entry: &Entry<'_>, key: &TrustedKey) -> bool {
        match entry.ds() {
            None => entry.dnskey().is_some_and(|k| {
                k.flags() == key.dnskey.flags() && k.public_key() == key.dnskey.public_key()
            }),
            Some(ds) => {
                if ds.key_tag() != key.tag || ds.algorithm() != key.algorithm || !supported_ds(ds) {
                    return false;
                }
                let mut bytes = ds.key_tag().to_be_bytes().to_vec();
                bytes.push(u8::from(ds.algorithm()));
                bytes.push(u8::from(ds.digest_type()));
                bytes.extend_from_slice(ds.digest());
                if let Ok(owner) = super::view::encode_name(apex) {
                    bytes.extend_from_slice(&owner);
                }
                let ds_fp = Fingerprint::of_bytes(&bytes);
                *self
                    .memo
                    .ds_matches
                    .entry((ds_fp, key.fingerprint))
                    .or_insert_with(|| ds.covers(apex, &key.dnskey).unwrap_or(false))
            }
        }
    }

    /// Checks one RRSIG against the candidate keys. Returns the outcome and, when valid, the
    /// key that verified it.
    fn check_sig<'k>(
        &mut self,
        apex: &Name,
        set: &Rrset,
        index: usize,
        sig: &RRSIG,
        candidates: &[&'k TrustedKey],
        now: Timestamp,
    ) -> (SigOutcome, Option<&'k TrustedKey>) {
        let input = sig.input();
        if input.signer_name != *apex {
            return (
                SigOutcome::Invalid(format!(
                    "RRSIG {} names signer {}, not the zone {apex}",
                    input.key_tag, input.signer_name
                )),
                None,
            );
        }
        let labels = set.name().num_labels();
        if input.num_labels > labels {
            return (
                SigOutcome::Invalid(format!(
                    "RRSIG {} has {} labels for a {labels}-label owner",
                    input.key_tag, input.num_labels
                )),
                None,
            );
        }
        if !supported_algorithm(input.algorithm) {
            return (SigOutcome::Unsupported, None);
        }
        let keys: Vec<&TrustedKey> = candidates
            .iter()
            .copied()
            .filter(|k| k.tag == input.key_tag && k.algorithm == input.algorithm)
            .collect();
        if keys.is_empty() {
            return (SigOutcome::UnknownKey, None);
        }
        let now = epoch32(now);
        // RFC 4034 §3.1.5 serial arithmetic: differences as signed 32-bit numbers.
        if (input.sig_expiration.get().wrapping_sub(now) as i32) < 0 {
            return (SigOutcome::Expired, None);
        }
        if (now.wrapping_sub(input.sig_inception.get()) as i32) < 0 {
            return (SigOutcome::NotYetValid, None);
        }
        for k in keys {
            let key = (set.fingerprint(), index, k.fingerprint);
            let ok = match self.memo.verified.get(&key) {
                Some(ok) => {
                    self.stats.memo_hits += 1;
                    *ok
                }
                None => {
                    self.stats.verifications += 1;
                    let ok = k
                        .dnskey
                        .verify_rrsig(set.name(), DNSClass::IN, sig, set.records().iter())
                        .is_ok();
                    self.memo.verified.insert(key, ok);
                    ok
                }
            };
            if ok {
                return (SigOutcome::Valid, Some(k));
            }
        }
        (
            SigOutcome::Invalid(format!(
                "RRSIG {}/{} does not verify",
                input.key_tag,
                u8::from(input.algorithm)
            )),
            None,
        )
    }

    /// Verifies an RRset with a secure zone's keys (RFC 4035 §5.3). Records a strict-mode
    /// violation in `chain` if an algorithm of the DNSKEY RRset has no valid signature.
    ///
    /// Returns the largest RRSIG labels field among the valid signatures: below the owner's
    /// label count, the RRset is a wildcard expansion (RFC 4035 §5.3.4), which needs a proof
    /// the caller checks.
    fn verify_rrset(
        &mut self,
        zone: &SecureZone,
        set: &Rrset,
        chain: &mut Chain,
        now: Timestamp,
    ) -> Result<u8, Reason> {
        let keys: Vec<&TrustedKey> = zone.keys.iter().collect();
        let mut best: Option<SigOutcome> = None;
        let mut valid: BTreeSet<Algorithm> = BTreeSet::new();
        let mut labels = 0;
        for (index, sig) in set.rrsigs().iter().enumerate() {
            let (outcome, key) = self.check_sig(&zone.apex, set, index, sig, &keys, now);
            if let Some(k) = key {
                valid.insert(k.algorithm);
                labels = labels.max(sig.input().num_labels);
            }
            if best.as_ref().is_none_or(|b| outcome > *b) {
                best = Some(outcome);
            }
        }
        if valid.is_empty() {
            return Err(match best {
                None | Some(SigOutcome::Unsupported) => Reason::new(
                    ReasonCode::Unsigned,
                    &zone.apex,
                    format!("{} has no usable RRSIG", set.summary()),
                ),
                Some(outcome) => sig_reason(&outcome, &zone.apex, set),
            });
        }
        for a in &zone.algorithms {
            if !valid.contains(a) {
                chain.violate(Reason::new(
                    ReasonCode::AlgorithmWithoutSignature,
                    &zone.apex,
                    format!(
                        "algorithm {} is in the DNSKEY RRset but does not sign {}",
                        u8::from(*a),
                        set.summary()
                    ),
                ));
            }
        }
        Ok(labels)
    }
}

fn sig_list(set: &Rrset) -> String {
    set.rrsigs()
        .iter()
        .map(|s| {
            format!(
                "signed by {}/{}",
                s.input().key_tag,
                u8::from(s.input().algorithm)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn sig_reason(outcome: &SigOutcome, apex: &Name, set: &Rrset) -> Reason {
    let what = set.summary();
    match outcome {
        SigOutcome::Expired => Reason::new(
            ReasonCode::SignatureExpired,
            apex,
            format!("every usable RRSIG over {what} has expired"),
        ),
        SigOutcome::NotYetValid => Reason::new(
            ReasonCode::SignatureNotYetValid,
            apex,
            format!("every usable RRSIG over {what} is not valid yet"),
        ),
        SigOutcome::UnknownKey => Reason::new(
            ReasonCode::SignerNotInDnskeySet,
            apex,
            format!("{what}: no signing key is in the DNSKEY RRset"),
        ),
        SigOutcome::Invalid(detail) => Reason::new(
            ReasonCode::SignatureInvalid,
            apex,
            format!("{what}: {detail}"),
        ),
        SigOutcome::Unsupported | SigOutcome::Valid => Reason::new(
            ReasonCode::Unsigned,
            apex,
            format!("{what} has no usable RRSIG"),
        ),
    }
}

/// Where the trusted keys of a DNSKEY RRset come from.
enum KeySource<'s> {
    Anchors(&'s [Anchor]),
    Ds(&'s [DS]),
}

/// One DS or anchor.
enum Entry<'s> {
    Anchor(&'s Anchor),
    Ds(&'s DS),
}

impl Entry<'_> {
    fn ds(&self) -> Option<&DS> {
        match *self {
            Self::Anchor(Anchor::Ds(d)) | Self::Ds(d) => Some(d),
            Self::Anchor(Anchor::Dnskey(_)) => None,
        }
    }

    fn dnskey(&self) -> Option<&DNSKEY> {
        match *self {
            Self::Anchor(Anchor::Dnskey(k)) => Some(k),
            _ => None,
        }
    }

    fn algorithm(&self) -> Algorithm {
        match (self.ds(), self.dnskey()) {
            (Some(d), _) => d.algorithm(),
            (None, Some(k)) => k.public_key().algorithm(),
            (None, None) => Algorithm::Unknown(0),
        }
    }

    fn label(&self) -> String {
        match (self.ds(), self.dnskey()) {
            (Some(d), _) => format!("DS {}/{}", d.key_tag(), u8::from(d.algorithm())),
            (None, Some(k)) => format!(
                "anchor DNSKEY {}/{}",
                key_tag(k),
                u8::from(k.public_key().algorithm())
            ),
            (None, None) => String::new(),
        }
    }
}

impl<'s> KeySource<'s> {
    fn entries(&self) -> Vec<Entry<'s>> {
        match self {
            Self::Anchors(a) => a
                .iter()
                .filter(|a| match a {
                    Anchor::Ds(d) => supported_ds(d),
                    Anchor::Dnskey(k) => supported_algorithm(k.public_key().algorithm()),
                })
                .map(Entry::Anchor)
                .collect(),
            Self::Ds(d) => d.iter().map(Entry::Ds).collect(),
        }
    }

    fn summary(&self) -> String {
        let labels: Vec<String> = self.entries().iter().map(Entry::label).collect();
        match self {
            Self::Anchors(_) => format!("trust anchor{{{}}}", labels.join(", ")),
            Self::Ds(_) => {
                let inner: Vec<String> = labels
                    .iter()
                    .map(|l| l.trim_start_matches("DS ").to_string())
                    .collect();
                format!("DS{{{}}}", inner.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests;
