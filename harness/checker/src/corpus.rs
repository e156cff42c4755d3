//! A generated corpus of signed chains, good and broken, with the verdict each question must
//! get: the pure validator's regression suite, and the input of the differential test that
//! serves the same zones to hickory-resolver, `unbound-host`, `delv` and `drill`.
//!
//! Every [`Case`] is a root, a TLD and a child zone ([`SignedZone`]s made by the DNSSEC engine,
//! shared between cases where identical), the root's trust anchor, one question, and possibly
//! [`Override`]s: answers a server must give instead of its zone's (a broken denial cannot be
//! produced by an honest signer, so it is served as an override). Each failure reason comes in
//! several variants, over algorithms 8, 13 and 15 and NSEC and NSEC3.
//!
//! Signatures are made at [`CorpusOptions::now`]; validators that read the wall clock need the
//! corpus generated with `now` = the current time (or an override date), since "expired" and
//! "not yet valid" are relative to it.

use std::collections::BTreeSet;
use std::sync::Arc;

use dnssec::keys::format_ds;
use dnssec::{
    Denial, DsDigest, KeyAlgorithm, Nsec3Config, SignedZone, SigningPolicy, ZoneKey, fixture_keys,
};
use hickory_proto::dnssec::rdata::DS;
use hickory_proto::dnssec::{Algorithm, DigestType};
use hickory_proto::rr::{Name, RecordType};
use jiff::Timestamp;

use super::denial::DenialFault;
use super::testbed::{
    self, Addresses, BadDenial, Chain, ChainBuilder, DsChoice, hours, name, tweaked_dnskey,
};
use super::validate::{Anchor, ReasonCode, Status, TrustAnchors, Validation, validate};
use super::view::{Override, Response, View};

/// How to generate the corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusOptions {
    /// The instant validators will judge the chains at; signatures are made around it.
    pub now: Timestamp,
    /// Further instants the good signatures must be valid at.
    pub also_valid_at: Vec<Timestamp>,
    /// Glue addresses of the root, TLD and child servers.
    pub addresses: Addresses,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        Self {
            now: "2026-03-01T00:00:00Z"
                .parse()
                .expect("invariant: a valid RFC 3339 time"),
            also_valid_at: Vec::new(),
            addresses: Addresses::default(),
        }
    }
}

/// The verdict a case must get, in both modes, and the warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Status under RFC 6840 (what BIND, Unbound and hickory do by default).
    pub lenient: Status,
    /// Its reason (None for Secure).
    pub lenient_code: Option<ReasonCode>,
    /// Status under RFC 4035 §2.2 enforced.
    pub strict: Status,
    /// Its reason.
    pub strict_code: Option<ReasonCode>,
    /// Warnings, sorted.
    pub warnings: Vec<ReasonCode>,
}

impl Expected {
    fn secure() -> Self {
        Self {
            lenient: Status::Secure,
            lenient_code: None,
            strict: Status::Secure,
            strict_code: None,
            warnings: Vec::new(),
        }
    }

    fn both(status: Status, code: ReasonCode) -> Self {
        Self {
            lenient: status,
            lenient_code: Some(code),
            strict: status,
            strict_code: Some(code),
            warnings: Vec::new(),
        }
    }

    fn strict_only(code: ReasonCode) -> Self {
        Self {
            strict: Status::Bogus,
            strict_code: Some(code),
            ..Self::secure()
        }
    }

    fn warning(mut self, code: ReasonCode) -> Self {
        self.warnings.push(code);
        self.warnings.sort();
        self
    }

    /// Whether `v` is what is expected; the difference in words otherwise.
    pub fn compare(&self, v: &Validation) -> Result<(), String> {
        let mut warnings: Vec<ReasonCode> = v.warnings.iter().map(|w| w.code).collect();
        warnings.sort();
        warnings.dedup();
        let got = Self {
            lenient: v.lenient.status(),
            lenient_code: v.lenient.code(),
            strict: v.strict.status(),
            strict_code: v.strict.code(),
            warnings,
        };
        if got == *self {
            Ok(())
        } else {
            Err(format!(
                "expected {self:?}, got {got:?} (lenient: {}; strict: {})",
                v.lenient, v.strict
            ))
        }
    }
}

/// One chain and one question with the verdict it must get. See the module documentation.
#[derive(Debug, Clone)]
pub struct Case {
    /// Stable, unique: `family/variant/algorithm-denial/question`.
    pub id: String,
    /// The reason family (a [`ReasonCode`] identifier or `secure`).
    pub family: String,
    /// What is wrong, in words.
    pub description: String,
    /// The child's algorithm.
    pub algorithm: KeyAlgorithm,
    /// Denial of existence used by the zones.
    pub denial: Denial,
    /// The root zone.
    pub root: Arc<SignedZone>,
    /// The TLD zone.
    pub tld: Arc<SignedZone>,
    /// The child zone.
    pub child: Arc<SignedZone>,
    /// The root's trust anchor.
    pub anchors: TrustAnchors,
    /// The question's name.
    pub qname: Name,
    /// The question's type.
    pub qtype: RecordType,
    /// Answers the servers give instead of their zone's.
    pub overrides: Vec<Override>,
    /// The verdict.
    pub expected: Expected,
}

impl Case {
    /// The zones, top down.
    pub fn zones(&self) -> [&SignedZone; 3] {
        [&self.root, &self.tld, &self.child]
    }

    /// The view a resolver gets by asking the servers (overrides applied).
    pub fn view(&self) -> View {
        View::resolve_with(&self.zones(), &self.qname, self.qtype, &self.overrides)
    }

    /// Validates the case's view at `now` with the pure validator.
    pub fn validate(&self, now: Timestamp) -> Validation {
        validate(&self.view(), &self.anchors, now)
    }

    /// The root trust anchor as DS lines in presentation format (`. IN DS …`), for resolver
    /// configuration files.
    pub fn trust_anchor_text(&self) -> String {
        self.anchors
            .get(&Name::root())
            .unwrap_or_default()
            .iter()
            .filter_map(|a| match a {
                Anchor::Ds(ds) => Some(format!(". IN DS {}\n", format_ds(ds))),
                Anchor::Dnskey(_) => None,
            })
            .collect()
    }
}

fn denial_label(d: &Denial) -> &'static str {
    match d {
        Denial::None => "unsigned",
        Denial::Nsec => "nsec",
        Denial::Nsec3(c) if c.opt_out => "nsec3-optout",
        Denial::Nsec3(_) => "nsec3",
    }
}

fn algorithm_label(a: KeyAlgorithm) -> String {
    format!("alg{}", a.number())
}

struct Gen<'o> {
    options: &'o CorpusOptions,
    cases: Vec<Case>,
}

impl Gen<'_> {
    fn policy(&self, denial: &Denial) -> SigningPolicy {
        let mut p = testbed::policy(denial.clone());
        p.also_valid_at = self.options.also_valid_at.clone();
        p
    }

    fn builder(&self, a: KeyAlgorithm, d: &Denial) -> ChainBuilder {
        let mut b = ChainBuilder::new(a, d.clone(), self.options.now);
        b.root_policy = self.policy(d);
        b.tld_policy = self.policy(d);
        b.child_policy = self.policy(d);
        b.addresses = self.options.addresses;
        b
    }

    fn window(&self, d: &Denial, from_hours: i64, to_hours: i64) -> SigningPolicy {
        testbed::window_policy(
            d.clone(),
            hours(self.options.now, from_hours),
            hours(self.options.now, to_hours),
        )
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one call site per family, all named"
    )]
    fn add(
        &mut self,
        family: &str,
        variant: &str,
        description: &str,
        a: KeyAlgorithm,
        d: &Denial,
        chain: &Chain,
        questions: &[(Name, RecordType)],
        overrides: &[Override],
        expected: &Expected,
    ) {
        for (q, t) in questions {
            let label = q
                .iter()
                .next()
                .map(|l| String::from_utf8_lossy(l).to_string())
                .unwrap_or_default();
            self.cases.push(Case {
                id: format!(
                    "{family}/{variant}/{}-{}/{}-{}",
                    algorithm_label(a),
                    denial_label(d),
                    label,
                    t.to_string().to_lowercase()
                ),
                family: family.to_string(),
                description: description.to_string(),
                algorithm: a,
                denial: d.clone(),
                root: Arc::clone(&chain.root),
                tld: Arc::clone(&chain.tld),
                child: Arc::clone(&chain.child),
                anchors: chain.anchors.clone(),
                qname: q.clone(),
                qtype: *t,
                overrides: overrides.to_vec(),
                expected: expected.clone(),
            });
        }
    }
}

fn build(b: &ChainBuilder) -> Chain {
    b.build()
        .unwrap_or_else(|e| panic!("corpus chain does not sign: {e}"))
}

/// Generates the corpus (about 220 cases). See the module documentation.
///
/// # Panics
/// If a chain fails to sign (a bug in the generator).
pub fn generate(options: &CorpusOptions) -> Vec<Case> {
    let mut g = Gen {
        options,
        cases: Vec::new(),
    };
    let child = name("example.test.");
    let www = name("www.example.test.");
    let nx = name("nx.example.test.");
    let www_a = [(www.clone(), RecordType::A)];
    for a in KeyAlgorithm::ALL {
        for d in [Denial::Nsec, Denial::Nsec3(Nsec3Config::default())] {
            generate_variant(&mut g, a, &d, &child, &www_a, &www, &nx);
        }
        // Opt-out: insecure delegations have no NSEC3 of their own at the TLD.
        let d = Denial::Nsec3(Nsec3Config {
            opt_out: true,
            ..Nsec3Config::default()
        });
        let mut b = g.builder(a, &d);
        b.ds = DsChoice::Explicit(vec![]);
        let chain = build(&b);
        g.add(
            "insecure-delegation",
            "no-ds",
            "the TLD has no DS for the child, proven by an Opt-Out span",
            a,
            &d,
            &chain,
            &www_a,
            &[],
            &Expected::both(Status::Insecure, ReasonCode::InsecureDelegation),
        );
        g.add(
            "secure",
            "no-ds-nodata",
            "the DS question itself, answered under an Opt-Out span (RFC 5155 §8.6)",
            a,
            &d,
            &chain,
            &[(child.clone(), RecordType::DS)],
            &[],
            &Expected::secure(),
        );
    }
    g.cases
}

#[allow(
    clippy::too_many_lines,
    reason = "one block per family, read top to bottom"
)]
fn generate_variant(
    g: &mut Gen<'_>,
    a: KeyAlgorithm,
    d: &Denial,
    child: &Name,
    www_a: &[(Name, RecordType)],
    www: &Name,
    nx: &Name,
) {
    let other = testbed::upper_algorithm(a);
    let keys = testbed::ksk_zsk(a, 0);
    let real_ds = testbed::ds_for(child, &keys)[0].clone();

    // Good chains, every kind of answer.
    let good = build(&g.builder(a, d));
    g.add(
        "secure",
        "plain",
        "a correct chain",
        a,
        d,
        &good,
        &[
            (www.clone(), RecordType::A),
            (www.clone(), RecordType::TXT),
            (nx.clone(), RecordType::A),
            (child.clone(), RecordType::DNSKEY),
            (child.clone(), RecordType::DS),
        ],
        &[],
        &Expected::secure(),
    );

    // No DS matches a KSK.
    let corrupted = {
        let mut digest = real_ds.digest().to_vec();
        digest[0] ^= 0xff;
        DS::new(
            real_ds.key_tag(),
            real_ds.algorithm(),
            real_ds.digest_type(),
            digest,
        )
    };
    let other_algorithm = DS::new(
        real_ds.key_tag(),
        other.to_hickory(),
        real_ds.digest_type(),
        real_ds.digest().to_vec(),
    );
    for (variant, description, ds) in [
        (
            "other-key",
            "the DS is for a key the child does not publish",
            testbed::ds_for(child, &[ZoneKey::ksk(fixture_keys::key(a, 2))]),
        ),
        (
            "corrupted-digest",
            "the DS digest does not match the KSK",
            vec![corrupted],
        ),
        (
            "other-algorithm",
            "the DS has the KSK's tag and digest but another algorithm",
            vec![other_algorithm],
        ),
    ] {
        let mut b = g.builder(a, d);
        b.ds = DsChoice::Explicit(ds);
        g.add(
            "no-ds-matches-ksk",
            variant,
            description,
            a,
            d,
            &build(&b),
            www_a,
            &[],
            &Expected::both(Status::Bogus, ReasonCode::NoDsMatchesKsk),
        );
    }

    // The DNSKEY RRset is not signed by a DS-matched key.
    let mut b = g.builder(a, d);
    b.ds = DsChoice::Explicit(vec![
        keys[1]
            .ds(child, DsDigest::Sha256)
            .expect("invariant: DS of a fixture key"),
    ]);
    g.add(
        "dnskey-not-signed-by-ds-key",
        "ds-for-zsk",
        "the DS matches the ZSK, which does not sign the DNSKEY RRset",
        a,
        d,
        &build(&b),
        www_a,
        &[],
        &Expected::both(Status::Bogus, ReasonCode::DnskeyNotSignedByDsKey),
    );
    let mut b = g.builder(a, d);
    let retired = ZoneKey::ksk(fixture_keys::key(a, 0)).with_signing(false);
    b.ds = DsChoice::Explicit(testbed::ds_for(child, std::slice::from_ref(&retired)));
    b.child_keys = vec![
        retired,
        ZoneKey::ksk(fixture_keys::key(a, 2)),
        ZoneKey::zsk(fixture_keys::key(a, 1)),
    ];
    g.add(
        "dnskey-not-signed-by-ds-key",
        "retired-ksk",
        "the DS matches a published KSK that no longer signs; another KSK signs",
        a,
        d,
        &build(&b),
        www_a,
        &[],
        &Expected::both(Status::Bogus, ReasonCode::DnskeyNotSignedByDsKey),
    );

    // Expired and not yet valid signatures, two days out of their window: Unbound tolerates
    // clock skew of a tenth of the validity period, at most a day (`val-sig-skew-max`), so a
    // signature a day away from its window is still valid to it.
    let expired = Expected::both(Status::Bogus, ReasonCode::SignatureExpired);
    let mut b = g.builder(a, d);
    b.child_policy = g.window(d, -30 * 24, -48);
    let chain = build(&b);
    g.add(
        "signature-expired",
        "child",
        "every signature of the child expired two days ago",
        a,
        d,
        &chain,
        &[(www.clone(), RecordType::A), (nx.clone(), RecordType::A)],
        &[],
        &expired,
    );
    let mut b = g.builder(a, d);
    b.tld_policy = g.window(d, -30 * 24, -48);
    g.add(
        "signature-expired",
        "tld",
        "every signature of the TLD expired two days ago",
        a,
        d,
        &build(&b),
        www_a,
        &[],
        &expired,
    );
    let not_yet = Expected::both(Status::Bogus, ReasonCode::SignatureNotYetValid);
    for (variant, zone) in [("child", "child"), ("root", "root")] {
        let mut b = g.builder(a, d);
        let p = g.window(d, 48, 30 * 24);
        if zone == "child" {
            b.child_policy = p;
        } else {
            b.root_policy = p;
        }
        g.add(
            "signature-not-yet-valid",
            variant,
            "the signatures start in two days",
            a,
            d,
            &build(&b),
            www_a,
            &[],
            &not_yet,
        );
    }

    // The signer is not in the DNSKEY RRset.
    let mut b = g.builder(a, d);
    b.child_keys = vec![
        ZoneKey::ksk(fixture_keys::key(a, 0)),
        ZoneKey::zsk(fixture_keys::key(a, 1)).with_published(false),
    ];
    g.add(
        "signer-not-in-dnskey-set",
        "unpublished-zsk",
        "the ZSK signs but is not published",
        a,
        d,
        &build(&b),
        &[(www.clone(), RecordType::A), (nx.clone(), RecordType::A)],
        &[],
        &Expected::both(Status::Bogus, ReasonCode::SignerNotInDnskeySet),
    );

    // Signatures that do not verify.
    let zsk = ZoneKey::zsk(fixture_keys::key(a, 1));
    let ksk = ZoneKey::ksk(fixture_keys::key(a, 0));
    for (variant, description, child_keys) in [
        (
            "tweaked-zsk",
            "the published ZSK differs from the signing one (same tag)",
            vec![
                ksk.clone(),
                zsk.clone().with_published(false),
                ZoneKey::foreign(tweaked_dnskey(&zsk)),
            ],
        ),
        (
            "tweaked-ksk",
            "the published KSK (matched by the DS) differs from the signing one (same tag)",
            vec![
                ksk.clone().with_published(false),
                ZoneKey::foreign(tweaked_dnskey(&ksk)),
                zsk.clone(),
            ],
        ),
    ] {
        let mut b = g.builder(a, d);
        b.child_keys = child_keys;
        g.add(
            "signature-invalid",
            variant,
            description,
            a,
            d,
            &build(&b),
            www_a,
            &[],
            &Expected::both(Status::Bogus, ReasonCode::SignatureInvalid),
        );
    }

    // Unsigned RRsets.
    let mut b = g.builder(a, d);
    b.child_policy.faults.unsigned = vec![(www.clone(), Some(RecordType::A))];
    g.add(
        "unsigned",
        "child-answer",
        "the answer has no RRSIG",
        a,
        d,
        &build(&b),
        www_a,
        &[],
        &Expected::both(Status::Bogus, ReasonCode::Unsigned),
    );
    let mut b = g.builder(a, d);
    b.tld_policy.faults.unsigned = vec![(child.clone(), Some(RecordType::DS))];
    g.add(
        "unsigned",
        "tld-ds",
        "the DS RRset at the TLD has no RRSIG",
        a,
        d,
        &build(&b),
        www_a,
        &[],
        &Expected::both(Status::Bogus, ReasonCode::Unsigned),
    );

    // A secure delegation to a zone without a DNSKEY RRset.
    let mut b = g.builder(a, d);
    b.child_keys = keys
        .iter()
        .map(|k| k.clone().with_published(false))
        .collect();
    b.ds = DsChoice::Explicit(vec![real_ds.clone()]);
    g.add(
        "dnskey-missing",
        "keys-unpublished",
        "the TLD has a DS but the child publishes no DNSKEY RRset",
        a,
        d,
        &build(&b),
        www_a,
        &[],
        &Expected::both(Status::Bogus, ReasonCode::DnskeyMissing),
    );

    // RFC 4035 §2.2 completeness (strict only).
    let mut b = g.builder(a, d);
    b.child_keys.push(ZoneKey::foreign(
        ZoneKey::zsk(fixture_keys::key(other, 1)).dnskey().clone(),
    ));
    b.child_policy.faults.allow_incomplete_algorithms = true;
    g.add(
        "algorithm-without-signature",
        "foreign-zsk",
        "a ZSK of another algorithm is published but signs nothing",
        a,
        d,
        &build(&b),
        www_a,
        &[],
        &Expected::strict_only(ReasonCode::AlgorithmWithoutSignature),
    );
    let mut b = g.builder(a, d);
    b.child_keys.extend(testbed::ksk_zsk(other, 0));
    b.child_policy.faults.omit_algorithms = vec![other.to_hickory()];
    g.add(
        "algorithm-without-signature",
        "omitted-algorithm",
        "the DS RRset and DNSKEY RRset hold two algorithms; one signs nothing",
        a,
        d,
        &build(&b),
        www_a,
        &[],
        &Expected::strict_only(ReasonCode::AlgorithmWithoutSignature).warning(ReasonCode::LameDs),
    );

    // Denials that do not prove what they claim (served as overrides).
    for kind in BadDenial::ALL {
        let (q, t, o, fault) = testbed::bad_denial(&good, kind);
        g.add(
            "bad-denial",
            kind.as_str(),
            "the child's server answers with a broken denial",
            a,
            d,
            &good,
            &[(q, t)],
            &[o],
            &Expected::both(Status::Bogus, ReasonCode::BadDenial(fault)),
        );
    }

    // Insecure delegations, proven.
    let mut b = g.builder(a, d);
    b.ds = DsChoice::Explicit(vec![]);
    let insecure = build(&b);
    g.add(
        "insecure-delegation",
        "no-ds",
        "the TLD has no DS for the child, proven by NSEC/NSEC3",
        a,
        d,
        &insecure,
        www_a,
        &[],
        &Expected::both(Status::Insecure, ReasonCode::InsecureDelegation),
    );
    g.add(
        "secure",
        "no-ds-nodata",
        "the DS question of an insecure delegation: a secure NODATA",
        a,
        d,
        &insecure,
        &[(child.clone(), RecordType::DS)],
        &[],
        &Expected::secure(),
    );
    // …and a no-DS proof that proves nothing: the TLD's apex NODATA proof instead.
    let apex_proof = match Response::from_zone(&insecure.tld, &name("test."), RecordType::MX) {
        Response::NoData(p) => p,
        other => panic!("the TLD apex has no MX, got {}", other.summary()),
    };
    let fault = if matches!(d, Denial::Nsec) {
        DenialFault::NoMatch
    } else {
        DenialFault::NextCloserNotCovered
    };
    g.add(
        "bad-denial",
        "no-ds-proof",
        "the TLD proves the absence of a DS with its apex record",
        a,
        d,
        &insecure,
        www_a,
        &[Override {
            zone: name("test."),
            qname: child.clone(),
            qtype: RecordType::DS,
            response: Response::NoData(apex_proof),
        }],
        &Expected::both(Status::Bogus, ReasonCode::BadDenial(fault)),
    );

    // Only unsupported algorithms or digests.
    for (variant, ds) in [
        (
            "algorithm-253",
            DS::new(
                real_ds.key_tag(),
                Algorithm::Unknown(253),
                DigestType::SHA256,
                real_ds.digest().to_vec(),
            ),
        ),
        (
            "digest-6",
            DS::new(
                real_ds.key_tag(),
                real_ds.algorithm(),
                DigestType::Unknown(6),
                real_ds.digest().to_vec(),
            ),
        ),
    ] {
        let mut b = g.builder(a, d);
        b.ds = DsChoice::Explicit(vec![ds]);
        g.add(
            "unsupported-algorithms",
            variant,
            "the only DS has an algorithm or digest type no validator supports",
            a,
            d,
            &build(&b),
            www_a,
            &[],
            &Expected::both(Status::Insecure, ReasonCode::UnsupportedAlgorithms),
        );
    }

    // A lame DS beside a working one.
    let mut b = g.builder(a, d);
    let mut ds = vec![real_ds];
    ds.extend(testbed::ds_for(
        child,
        &[ZoneKey::ksk(fixture_keys::key(a, 2))],
    ));
    b.ds = DsChoice::Explicit(ds);
    g.add(
        "lame-ds",
        "unpublished-key",
        "a second DS points at a key the child does not publish",
        a,
        d,
        &build(&b),
        www_a,
        &[],
        &Expected::secure().warning(ReasonCode::LameDs),
    );
}

/// The families (reason identifiers and `secure`) in a corpus.
pub fn families(cases: &[Case]) -> BTreeSet<String> {
    cases.iter().map(|c| c.family.clone()).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;

    #[test]
    fn the_corpus_has_every_reason_in_variants_and_the_validator_agrees() {
        let options = CorpusOptions::default();
        let started = std::time::Instant::now();
        let cases = generate(&options);
        let generated = started.elapsed();
        assert!(cases.len() >= 200, "{} cases", cases.len());
        let mut ids = HashSet::new();
        for c in &cases {
            assert!(ids.insert(c.id.clone()), "duplicate id {}", c.id);
        }
        // Every family in several variants, over the three algorithms and both denials.
        let mut per_family: BTreeMap<&str, (BTreeSet<u8>, BTreeSet<&str>, usize)> = BTreeMap::new();
        for c in &cases {
            let e = per_family.entry(&c.family).or_default();
            e.0.insert(c.algorithm.number());
            e.1.insert(denial_label(&c.denial));
            e.2 += 1;
        }
        for (family, (algorithms, denials, count)) in &per_family {
            assert_eq!(algorithms.len(), 3, "{family}");
            assert!(denials.len() >= 2, "{family}");
            assert!(*count >= 6, "{family}: {count}");
        }
        for family in [
            "secure",
            "no-ds-matches-ksk",
            "dnskey-not-signed-by-ds-key",
            "signature-expired",
            "signature-not-yet-valid",
            "signer-not-in-dnskey-set",
            "signature-invalid",
            "unsigned",
            "dnskey-missing",
            "algorithm-without-signature",
            "bad-denial",
            "insecure-delegation",
            "unsupported-algorithms",
            "lame-ds",
        ] {
            assert!(per_family.contains_key(family), "{family} missing");
        }
        let started = std::time::Instant::now();
        let mut failures = Vec::new();
        for c in &cases {
            if let Err(e) = c.expected.compare(&c.validate(options.now)) {
                failures.push(format!("{}: {e}", c.id));
            }
            assert!(c.trust_anchor_text().starts_with(". IN DS "));
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        println!(
            "{} cases in {} families; generated in {generated:?}, validated in {:?}",
            cases.len(),
            per_family.len(),
            started.elapsed()
        );
    }
}
