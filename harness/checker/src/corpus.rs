//! A generated corpus of signed chains, good and broken, with the verdict each question must
//! get: the pure validator's regression suite, and the input of the differential test that
//! serves the same zones to hickory-resolver, `unbound-host`, `delv` and `drill`.
//!
//! Every [`Case`] is a root, a TLD and a child zone ([`SignedZone`]s made by the DNSSEC engine,
//! shared between cases where identical), possibly extra zones (a sibling of the child and a
//! zone below it, which CNAME and DNAME chains lead into), the root's trust anchor, one
//! question, and possibly [`Override`]s: answers a server must give instead of its zone's (a
//! broken denial cannot be produced by an honest signer, so it is served as an override).
//! Each failure reason comes in several variants, over algorithms 8, 13 and 15 and NSEC and
//! NSEC3.
//!
//! What it covers, family by family (a family is the reason the case must get, or `secure`):
//!
//! - every reason of the validator, in variants (expired, not yet valid, unknown signer, bad
//!   signatures, unsigned RRsets, DS and key mismatches, bad denials, insecure delegations,
//!   unsupported algorithms, lame DS, RFC 4035 §2.2 completeness);
//! - wildcards (RFC 4592, RFC 4035 §5.3.4, RFC 5155 §8.8): expansions one and two labels down,
//!   wildcard NODATA, a wildcard CNAME, the wildcard itself, names beside it, under NSEC, NSEC3
//!   and NSEC3 Opt-Out; and expansions without a valid proof (`wildcard-unproven`);
//! - NSEC3 iteration counts around [`NSEC3_ITERATION_LIMIT`](crate::NSEC3_ITERATION_LIMIT)
//!   (RFC 9276), in the child and at the TLD, with and without salt;
//! - CNAME and DNAME chains (RFC 1034 §3.6.2, RFC 6672) within the child, into a sibling zone,
//!   across a delegation into a zone below the child, back again, into NXDOMAIN and into a
//!   wildcard, with the other zone secure, insecure (no DS, signed or not), expired, with a DS
//!   matching no key, or on another algorithm; and chains whose own link is unsigned.
//!
//! Signatures are made at [`CorpusOptions::now`]; validators that read the wall clock need the
//! corpus generated with `now` = the current time (or an override date), since "expired" and
//! "not yet valid" are relative to it.

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
    self, Addresses, BadDenial, BadWildcard, Chain, ChainBuilder, DsChoice, ExtraZone, hours, name,
    tweaked_dnskey,
};
use super::validate::{Anchor, ReasonCode, Status, TrustAnchors, Validation, validate_chain};
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
    /// Why it is not Secure under RFC 4035 §2.2 (None for Secure).
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
    /// Extra zones (a sibling of the child, a zone below it) that CNAME and DNAME chains lead
    /// into; empty for most cases.
    pub extra: Vec<Arc<SignedZone>>,
    /// The root's trust anchor.
    pub anchors: TrustAnchors,
    /// The question's name.
    pub qname: Name,
    /// The question's type.
    pub qtype: RecordType,
    /// Answers the servers give instead of their zone's.
    pub overrides: Vec<Override>,
    /// The verdicts the validator must reach for this case, lenient and strict.
    pub expected: Expected,
}

impl Case {
    /// The zones, top down, then the extra zones.
    pub fn zones(&self) -> Vec<&SignedZone> {
        self.zone_arcs().into_iter().map(AsRef::as_ref).collect()
    }

    /// The zones as shared snapshots, for servers.
    pub fn zone_arcs(&self) -> Vec<&Arc<SignedZone>> {
        let mut zones = vec![&self.root, &self.tld, &self.child];
        zones.extend(self.extra.iter());
        zones
    }

    /// The view a resolver gets for the question itself by asking the servers (overrides
    /// applied): the first link of [`links`](Self::links).
    pub fn view(&self) -> View {
        View::resolve_with(&self.zones(), &self.qname, self.qtype, &self.overrides)
    }

    /// The views of the whole answer: the question, then the target of each CNAME or DNAME
    /// on the way ([`View::resolve_chain`]).
    pub fn links(&self) -> Vec<View> {
        View::resolve_chain(&self.zones(), &self.qname, self.qtype, &self.overrides)
    }

    /// Validates the case's answer, link by link, at `now` with the pure validator.
    pub fn validate(&self, now: Timestamp) -> Validation {
        validate_chain(&self.links(), &self.anchors, now)
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

/// The question's name in a case id: the labels below `example.test.` (`www`, `a.wild`,
/// `star.wild` for `*.wild`), the first label of the child's apex (`example`), the name
/// without its final dot elsewhere (`back.other.test`), `root` for the root.
fn question_label(q: &Name) -> String {
    let child = name("example.test.");
    let text = if *q == child {
        "example".to_string()
    } else if child.zone_of(q) {
        q.to_string().trim_end_matches(".example.test.").to_string()
    } else if q.is_root() {
        "root".to_string()
    } else {
        q.to_string().trim_end_matches('.').to_string()
    };
    text.replace('*', "star")
}

/// The family a case belongs to: its expected lenient reason, or `secure`.
fn family_of(expected: &Expected) -> String {
    expected
        .lenient_code
        .map_or_else(|| "secure".to_string(), |c| c.as_str())
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
            self.cases.push(Case {
                id: format!(
                    "{family}/{variant}/{}-{}/{}-{}",
                    algorithm_label(a),
                    denial_label(d),
                    question_label(q),
                    t.to_string().to_lowercase()
                ),
                family: family.to_string(),
                description: description.to_string(),
                algorithm: a,
                denial: d.clone(),
                root: Arc::clone(&chain.root),
                tld: Arc::clone(&chain.tld),
                child: Arc::clone(&chain.child),
                extra: chain.extra.clone(),
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

/// Generates the corpus (about 1,080 cases). See the module documentation.
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
        generate_wildcards(&mut g, a, &d);
        generate_iterations(&mut g, a);
    }
    for a in KeyAlgorithm::ALL {
        for d in [Denial::Nsec, Denial::Nsec3(Nsec3Config::default())] {
            generate_wildcards(&mut g, a, &d);
            generate_chains(&mut g, a, &d);
        }
    }
    g.cases
}

/// Wildcards (RFC 4592): good answers resting on them, and broken ones.
fn generate_wildcards(g: &mut Gen<'_>, a: KeyAlgorithm, d: &Denial) {
    let apex = name("example.test.");
    let mut b = g.builder(a, d);
    b.child_records = testbed::wildcard_records(&apex);
    let chain = build(&b);
    let opt_out = matches!(d, Denial::Nsec3(c) if c.opt_out);
    // Under Opt-Out every NSEC3 carries the flag: what rests on a covering NSEC3 is insecure
    // (RFC 5155 §9.2), what rests on a matching one or on none is secure.
    let covered = if opt_out {
        Expected::both(Status::Insecure, ReasonCode::OptOut)
    } else {
        Expected::secure()
    };
    for (q, t, description, expected) in [
        (
            "a.wild",
            RecordType::A,
            "an expansion one label down",
            &covered,
        ),
        (
            "a.wild",
            RecordType::TXT,
            "an expansion of another type",
            &covered,
        ),
        (
            "x.y.wild",
            RecordType::A,
            "an expansion two labels down",
            &covered,
        ),
        ("a.wild", RecordType::MX, "wildcard NODATA", &covered),
        (
            "*.wild",
            RecordType::A,
            "the wildcard itself, not expanded",
            &Expected::secure(),
        ),
        (
            "sub.wild",
            RecordType::A,
            "a name beside the wildcard",
            &Expected::secure(),
        ),
        (
            "z.sub.wild",
            RecordType::A,
            "NXDOMAIN below a name beside the wildcard",
            &covered,
        ),
        (
            "a.cn",
            RecordType::A,
            "a wildcard CNAME to www, and www's A",
            &covered,
        ),
        (
            "a.cn",
            RecordType::TXT,
            "a wildcard CNAME to www, which has no TXT",
            &covered,
        ),
    ] {
        g.add(
            &family_of(expected),
            "wildcard",
            description,
            a,
            d,
            &chain,
            &[(name(&format!("{q}.{apex}")), t)],
            &[],
            expected,
        );
    }
    if opt_out {
        return;
    }
    for kind in BadWildcard::ALL {
        let qtypes: &[RecordType] = match kind {
            BadWildcard::NoDataWithoutWildcard => &[RecordType::MX],
            _ => &[RecordType::A, RecordType::TXT],
        };
        for &t in qtypes {
            let (q, t, o, code) = testbed::bad_wildcard(&chain, kind, t);
            let expected = Expected::both(Status::Bogus, code);
            let variant = match code {
                ReasonCode::BadDenial(_) => format!("wildcard-{}", kind.as_str()),
                _ => kind.as_str().to_string(),
            };
            g.add(
                &family_of(&expected),
                &variant,
                "the child's server answers with a broken wildcard answer",
                a,
                d,
                &chain,
                &[(q, t)],
                &[o],
                &expected,
            );
        }
    }
}

/// NSEC3 iteration counts around the limit (RFC 9276 §3.2), in the child and at the TLD.
fn generate_iterations(g: &mut Gen<'_>, a: KeyAlgorithm) {
    const COUNTS: [u16; 12] = [1, 10, 50, 51, 100, 101, 150, 151, 200, 500, 501, 2500];
    let apex = name("example.test.");
    let q = |s: &str| name(&format!("{s}{apex}"));
    let nsec3 = |iterations: u16, salt: Vec<u8>| {
        Denial::Nsec3(Nsec3Config {
            iterations,
            salt,
            opt_out: false,
        })
    };
    let verdict = |iterations: u16, below: Expected| {
        if iterations > crate::NSEC3_ITERATION_LIMIT {
            Expected::both(Status::Insecure, ReasonCode::Nsec3Iterations)
        } else {
            below
        }
    };
    let salted: [(u16, &[u8]); 2] = [
        (0, &[0xaa, 0xbb, 0xcc, 0xdd]),
        (10, &[0xaa, 0xbb, 0xcc, 0xdd]),
    ];
    let child_variants = COUNTS
        .iter()
        .map(|&n| (n, Vec::new(), format!("child-{n}")))
        .chain(
            salted
                .iter()
                .map(|(n, salt)| (*n, salt.to_vec(), format!("child-salted-{n}"))),
        );
    for (n, salt, variant) in child_variants {
        let d = nsec3(n, salt.clone());
        let mut b = g.builder(a, &Denial::Nsec3(Nsec3Config::default()));
        b.child_policy = g.policy(&d);
        b.child_records = testbed::wildcard_records(&apex);
        let chain = build(&b);
        let questions: &[(&str, RecordType)] = if salt.is_empty() {
            &[
                ("nx.", RecordType::A),
                ("www.", RecordType::TXT),
                ("a.wild.", RecordType::A),
                ("a.wild.", RecordType::MX),
                ("www.", RecordType::A),
            ]
        } else {
            &[
                ("nx.", RecordType::A),
                ("www.", RecordType::TXT),
                ("a.wild.", RecordType::A),
            ]
        };
        for &(name_, t) in questions {
            let expected = if name_ == "www." && t == RecordType::A {
                Expected::secure()
            } else {
                verdict(n, Expected::secure())
            };
            g.add(
                &family_of(&expected),
                &variant,
                "the child's NSEC3 chain uses this many iterations",
                a,
                &d,
                &chain,
                &[(q(name_), t)],
                &[],
                &expected,
            );
        }
    }
    for n in COUNTS {
        let d = nsec3(n, Vec::new());
        let mut b = g.builder(a, &Denial::Nsec3(Nsec3Config::default()));
        b.tld_policy = g.policy(&d);
        b.ds = DsChoice::Explicit(vec![]);
        let chain = build(&b);
        let variant = format!("tld-{n}");
        for (qname, t, below) in [
            (
                q("www."),
                RecordType::A,
                Expected::both(Status::Insecure, ReasonCode::InsecureDelegation),
            ),
            (apex.clone(), RecordType::DS, Expected::secure()),
            (name("nx.test."), RecordType::A, Expected::secure()),
        ] {
            let expected = verdict(n, below);
            g.add(
                &family_of(&expected),
                &variant,
                "the TLD's NSEC3 chain uses this many iterations; the child is unsigned there",
                a,
                &d,
                &chain,
                &[(qname, t)],
                &[],
                &expected,
            );
        }
    }
}

/// CNAME and DNAME chains (RFC 1034 §3.6.2, RFC 6672) within the child, and into zones whose
/// security differs: a sibling (`other.test.`) and a zone below the child
/// (`sub.example.test.`, across a delegation).
fn generate_chains(g: &mut Gen<'_>, a: KeyAlgorithm, d: &Denial) {
    let apex = name("example.test.");
    let upper = testbed::upper_algorithm(a);
    let child_records = vec![
        format!("alias.{apex} 3600 CNAME www.{apex}"),
        format!("ext.{apex} 3600 CNAME www.other.test."),
        format!("nxalias.{apex} 3600 CNAME nothing.other.test."),
        format!("deep.{apex} 3600 CNAME www.sub.{apex}"),
        format!("chain3.{apex} 3600 CNAME ext.{apex}"),
        format!("wext.{apex} 3600 CNAME x.wild.other.test."),
        format!("dn.{apex} 3600 DNAME other.test."),
        format!("dnin.{apex} 3600 DNAME b.{apex}"),
    ];
    let across: Vec<(Name, RecordType)> = [
        ("ext.example.test.", RecordType::A),
        ("ext.example.test.", RecordType::TXT),
        ("nxalias.example.test.", RecordType::A),
        ("deep.example.test.", RecordType::A),
        ("chain3.example.test.", RecordType::A),
        ("wext.example.test.", RecordType::A),
        ("www.dn.example.test.", RecordType::A),
        ("nothing.dn.example.test.", RecordType::A),
        ("back.other.test.", RecordType::A),
    ]
    .into_iter()
    .map(|(q, t)| (name(q), t))
    .collect();
    for state in [
        "secure",
        "other-algorithm",
        "insecure",
        "unsigned",
        "expired",
        "no-ds-match",
    ] {
        let algorithm = if state == "other-algorithm" { upper } else { a };
        let mut other = ExtraZone::new("other.test.", algorithm, 4, d.clone());
        other.records = vec![
            "www.other.test. 3600 A 192.0.2.70".into(),
            "back.other.test. 3600 CNAME mail.example.test.".into(),
            "*.wild.other.test. 3600 A 192.0.2.72".into(),
        ];
        let mut sub = ExtraZone::new("sub.example.test.", algorithm, 6, d.clone());
        sub.records = vec!["www.sub.example.test. 3600 A 192.0.2.71".into()];
        for z in [&mut other, &mut sub] {
            z.policy = g.policy(d);
            match state {
                "insecure" => z.ds = DsChoice::Explicit(vec![]),
                "unsigned" => {
                    z.ds = DsChoice::Explicit(vec![]);
                    z.keys = Vec::new();
                }
                "expired" => z.policy = g.window(d, -30 * 24, -48),
                "no-ds-match" => {
                    z.ds = DsChoice::Explicit(testbed::ds_for(
                        &z.apex,
                        &[ZoneKey::ksk(fixture_keys::key(algorithm, 8))],
                    ));
                }
                _ => {}
            }
        }
        let mut b = g.builder(a, d);
        b.child_records = child_records.clone();
        b.extra = vec![other, sub];
        let chain = build(&b);
        let expected = match state {
            "insecure" | "unsigned" => {
                Expected::both(Status::Insecure, ReasonCode::InsecureDelegation)
            }
            "expired" => Expected::both(Status::Bogus, ReasonCode::SignatureExpired),
            "no-ds-match" => Expected::both(Status::Bogus, ReasonCode::NoDsMatchesKsk),
            _ => Expected::secure(),
        };
        g.add(
            &family_of(&expected),
            &format!("chain-{state}"),
            "a CNAME or DNAME chain into other zones, which are in this state",
            a,
            d,
            &chain,
            &across,
            &[],
            &expected,
        );
        if state == "secure" {
            g.add(
                "secure",
                "chain-in-zone",
                "a CNAME or DNAME chain within the child",
                a,
                d,
                &chain,
                &[
                    (name("alias.example.test."), RecordType::A),
                    (name("a.dnin.example.test."), RecordType::TXT),
                    (name("a.dnin.example.test."), RecordType::A),
                ],
                &[],
                &Expected::secure(),
            );
            // The alias itself unsigned: the chain breaks at its first link.
            for (owner, rtype, q) in [
                ("ext.example.test.", RecordType::CNAME, "ext.example.test."),
                (
                    "dn.example.test.",
                    RecordType::DNAME,
                    "www.dn.example.test.",
                ),
            ] {
                let mut b = b.clone();
                b.child_policy.faults.unsigned = vec![(name(owner), Some(rtype))];
                let expected = Expected::both(Status::Bogus, ReasonCode::Unsigned);
                g.add(
                    &family_of(&expected),
                    &format!("chain-{}-unsigned", rtype.to_string().to_lowercase()),
                    "the child's CNAME or DNAME has no RRSIG",
                    a,
                    d,
                    &build(&b),
                    &[(name(q), RecordType::A)],
                    &[],
                    &expected,
                );
            }
        }
    }
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
            (name("mail.example.test."), RecordType::A),
            (name("b.example.test."), RecordType::A),
            (name("a.b.example.test."), RecordType::TXT),
            (child.clone(), RecordType::SOA),
            (child.clone(), RecordType::NS),
            (name("test."), RecordType::DNSKEY),
            (Name::root(), RecordType::DNSKEY),
            (name("nx.test."), RecordType::A),
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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, HashSet};

    use super::*;

    #[test]
    fn the_corpus_has_every_reason_in_variants_and_the_validator_agrees() {
        let options = CorpusOptions::default();
        let started = std::time::Instant::now();
        let cases = generate(&options);
        let generated = started.elapsed();
        assert!(cases.len() >= 1000, "{} cases", cases.len());
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
            // NSEC3 iterations and Opt-Out exist only with NSEC3.
            if !["nsec3-iterations", "opt-out"].contains(family) {
                assert!(denials.len() >= 2, "{family}");
            }
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
            "wildcard-unproven",
            "nsec3-iterations",
            "opt-out",
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
