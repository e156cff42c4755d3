//! Cache-model cases built directly from timelines (no EPP): operator changes done right and
//! done wrong, following the steps of protocol-notes §5.2.

use dnssec::{Denial, KeyAlgorithm, Nsec3Config, ZoneKey, fixture_keys};
use hickory_proto::dnssec::rdata::DS;
use hickory_proto::rr::{Name, RecordType};
use jiff::Timestamp;

use super::*;
use crate::testbed::{self, TransferWorld, Ttls, name};

const H: i64 = 3600;

fn t0() -> Timestamp {
    "2026-03-02T00:00:00Z".parse().unwrap()
}

fn at(seconds: i64) -> Timestamp {
    after(t0(), seconds)
}

fn domain() -> Name {
    name("example.test.")
}

fn hosts(op: &str) -> Vec<Name> {
    vec![
        name(&format!("ns1.operator-{op}.example.")),
        name(&format!("ns2.operator-{op}.example.")),
    ]
}

/// Keys of operator A (fixtures 0, 1) and B (fixtures 2, 3) of one algorithm, or of two.
struct Keys {
    ksk_a: ZoneKey,
    zsk_a: ZoneKey,
    ksk_b: ZoneKey,
    zsk_b: ZoneKey,
}

impl Keys {
    fn new(a: KeyAlgorithm, b: KeyAlgorithm) -> Self {
        let (first_b, second_b) = if a == b { (2, 3) } else { (0, 1) };
        Self {
            ksk_a: ZoneKey::ksk(fixture_keys::key(a, 0)),
            zsk_a: ZoneKey::zsk(fixture_keys::key(a, 1)),
            ksk_b: ZoneKey::ksk(fixture_keys::key(b, first_b)),
            zsk_b: ZoneKey::zsk(fixture_keys::key(b, second_b)),
        }
    }

    fn foreign(k: &ZoneKey) -> ZoneKey {
        ZoneKey::foreign(k.dnskey().clone())
    }

    fn a(&self) -> Vec<ZoneKey> {
        vec![self.ksk_a.clone(), self.zsk_a.clone()]
    }

    fn a_with_zsk_b(&self) -> Vec<ZoneKey> {
        vec![
            self.ksk_a.clone(),
            self.zsk_a.clone(),
            Self::foreign(&self.zsk_b),
        ]
    }

    fn b(&self) -> Vec<ZoneKey> {
        vec![self.ksk_b.clone(), self.zsk_b.clone()]
    }

    fn b_with_zsk_a(&self) -> Vec<ZoneKey> {
        vec![
            self.ksk_b.clone(),
            self.zsk_b.clone(),
            Self::foreign(&self.zsk_a),
        ]
    }

    fn ds_a(&self) -> Vec<DS> {
        testbed::ds_for(&domain(), std::slice::from_ref(&self.ksk_a))
    }

    fn ds_b(&self) -> Vec<DS> {
        testbed::ds_for(&domain(), std::slice::from_ref(&self.ksk_b))
    }

    fn ds_ab(&self) -> Vec<DS> {
        let mut ds = self.ds_a();
        ds.extend(self.ds_b());
        ds
    }
}

fn world(algorithm: KeyAlgorithm, denial: Denial) -> TransferWorld {
    TransferWorld::new(
        t0(),
        testbed::upper_algorithm(algorithm),
        denial,
        Ttls::default(),
        &[("operator A", hosts("a")), ("operator B", hosts("b"))],
    )
}

fn nsec3() -> Denial {
    Denial::Nsec3(Nsec3Config::default())
}

/// A (losing) serves alone, delegated with DS_A; B has built its zone with ZSK_A (step 1).
fn start(w: &mut TransferWorld, k: &Keys, b_keys: Vec<ZoneKey>) {
    w.operator_keys(0, k.a(), at(0))
        .operator_keys(1, b_keys, at(0))
        .delegate(&[0], k.ds_a(), at(0));
}

/// The cooperating double-DS change (protocol-notes §5.2) with the TTLs of [`Ttls::default`]:
/// DS 1h, parent NS 24h, DNSKEY 1h, child NS and data 1h.
fn correct_transfer(w: &mut TransferWorld, k: &Keys) {
    start(w, k, k.b_with_zsk_a());
    // Step 2: A publishes ZSK_B (key relay).
    w.operator_keys(0, k.a_with_zsk_b(), at(H));
    // Steps 3-4: after the DNSKEY TTL, the transfer and DS_B.
    w.delegate(&[0], k.ds_ab(), at(3 * H));
    // Steps 5-6: after the DS TTL, NS to B.
    w.delegate(&[1], k.ds_ab(), at(5 * H));
    // Step 7-8: after parent NS (24h) + child NS (1h) + data (1h), DS_A goes.
    w.delegate(&[1], k.ds_b(), at(32 * H));
    // Step 9: after the DS TTL, B drops ZSK_A and A stops serving.
    w.operator_keys(1, k.b(), at(34 * H)).stop(0, at(34 * H));
    w.finish(at(36 * H));
}

fn run(w: &TransferWorld) -> Report {
    check(&w.timeline, &w.anchors, &CacheOptions::default())
}

#[track_caller]
fn assert_never(report: &Report, status: Status, mode: Mode) {
    let bands = report.with_status(mode, status);
    assert!(bands.is_empty(), "{mode}: {status} bands:\n{report}");
}

#[track_caller]
fn only_band(report: &Report, mode: Mode, status: Status) -> &Band {
    let bands = report.with_status(mode, status);
    assert_eq!(
        bands.len(),
        1,
        "{mode}: expected one {status} band:\n{report}"
    );
    bands[0]
}

fn source_of(item: &WitnessItem) -> Vec<&str> {
    item.provenance
        .iter()
        .map(|p| p.source_name.as_str())
        .collect()
}

#[test]
fn a_correct_double_ds_change_is_secure_throughout() {
    for (algorithm, denial) in [
        (KeyAlgorithm::EcdsaP256Sha256, nsec3()),
        (KeyAlgorithm::Ed25519, Denial::Nsec),
        (KeyAlgorithm::RsaSha256, nsec3()),
    ] {
        let k = Keys::new(algorithm, algorithm);
        let mut w = world(algorithm, denial);
        correct_transfer(&mut w, &k);
        let report = run(&w);
        for mode in Mode::BOTH {
            assert_eq!(
                report.worst(mode),
                Status::Secure,
                "{algorithm} {mode}:\n{report}"
            );
        }
        // Every question was judged over the whole analysis.
        assert_eq!(report.questions.len(), 5, "{report}");
        assert_eq!(report.from, t0());
        assert!(report.until >= at(36 * H), "{report}");
        // While DS_B is published before B's keys are reachable, DS_B is lame for resolvers
        // holding A's DNSKEY RRset: a warning, not a failure.
        assert!(
            report
                .lenient
                .iter()
                .any(|b| b.finding(ReasonCode::LameDs).is_some()),
            "{report}"
        );
        assert!(report.stats.combinations > 0 && report.stats.evaluated > 0);
        assert!(report.stats.instants > 5);
        if algorithm == KeyAlgorithm::EcdsaP256Sha256 {
            println!("{report}");
        }
    }
}

#[test]
fn switching_ns_before_the_old_dnskey_ttl_passed_is_bogus() {
    let k = Keys::new(KeyAlgorithm::EcdsaP256Sha256, KeyAlgorithm::EcdsaP256Sha256);
    let mut w = world(KeyAlgorithm::EcdsaP256Sha256, nsec3());
    start(&mut w, &k, k.b_with_zsk_a());
    w.delegate(&[0], k.ds_ab(), at(H));
    w.operator_keys(0, k.a_with_zsk_b(), at(3 * H));
    // Ten minutes later: resolvers still hold A's DNSKEY RRset without ZSK_B for 50 minutes.
    w.delegate(&[1], k.ds_ab(), at(3 * H + 600));
    w.delegate(&[1], k.ds_b(), at(40 * H));
    w.operator_keys(1, k.b(), at(42 * H)).stop(0, at(42 * H));
    w.finish(at(44 * H));
    let report = run(&w);
    for mode in Mode::BOTH {
        let band = only_band(&report, mode, Status::Bogus);
        assert_eq!(
            (band.from, band.until),
            (at(3 * H + 600), at(4 * H)),
            "{report}"
        );
        let finding = band
            .finding(ReasonCode::SignerNotInDnskeySet)
            .unwrap_or_else(|| panic!("{report}"));
        let witness = &finding.witness;
        let dnskey = witness.item(&Role::Dnskey(domain())).unwrap();
        assert_eq!(
            source_of(dnskey),
            ["operator A"],
            "{}",
            witness.describe(t0())
        );
        assert!(
            !dnskey.summary.contains(&k.zsk_b.key_tag().to_string()),
            "{}",
            dnskey.summary
        );
        assert_eq!(dnskey.provenance[0].served.first_seen, at(0));
        assert_eq!(dnskey.provenance[0].served.until, Some(at(3 * H)));
        let answer = witness
            .items
            .iter()
            .find(|i| matches!(i.role, Role::Answer(_)))
            .unwrap();
        assert_eq!(
            source_of(answer),
            ["operator B"],
            "{}",
            witness.describe(t0())
        );
        assert_eq!(finding.breakage(mode), Some(Breakage::Bogus));
    }
}

#[test]
fn removing_the_old_ds_before_the_old_ns_and_data_expired_is_bogus() {
    let k = Keys::new(KeyAlgorithm::Ed25519, KeyAlgorithm::Ed25519);
    let mut w = world(KeyAlgorithm::Ed25519, nsec3());
    start(&mut w, &k, k.b_with_zsk_a());
    w.operator_keys(0, k.a_with_zsk_b(), at(H));
    w.delegate(&[0], k.ds_ab(), at(3 * H));
    w.delegate(&[1], k.ds_ab(), at(5 * H));
    // One hour after the NS change: A is still reachable through the parent NS (24h).
    w.delegate(&[1], k.ds_b(), at(6 * H));
    w.operator_keys(1, k.b(), at(34 * H)).stop(0, at(34 * H));
    w.finish(at(36 * H));
    let report = run(&w);
    let band = only_band(&report, Mode::Lenient, Status::Bogus);
    // From the DS change until A's DNSKEY RRset can no longer be held: A is reachable until
    // 5h + 24h (parent NS) + 1h (A's own NS), its DNSKEY RRset cached 1h more.
    assert_eq!((band.from, band.until), (at(6 * H), at(31 * H)), "{report}");
    let finding = band
        .finding(ReasonCode::NoDsMatchesKsk)
        .unwrap_or_else(|| panic!("{report}"));
    let w_ = &finding.witness;
    let ds = w_.item(&Role::Ds(domain())).unwrap();
    assert_eq!(source_of(ds), ["tld"]);
    assert!(
        !ds.summary.contains(&k.ksk_a.key_tag().to_string()),
        "{}",
        ds.summary
    );
    let dnskey = w_.item(&Role::Dnskey(domain())).unwrap();
    assert_eq!(source_of(dnskey), ["operator A"], "{}", w_.describe(t0()));
    // The witness says where each item came from, in words.
    let text = w_.describe(t0());
    assert!(
        text.contains("from tld") && text.contains("from operator A"),
        "{text}"
    );
}

#[test]
fn a_gaining_operator_without_the_losing_zsk_is_bogus() {
    let k = Keys::new(KeyAlgorithm::RsaSha256, KeyAlgorithm::RsaSha256);
    let mut w = world(KeyAlgorithm::RsaSha256, Denial::Nsec);
    start(&mut w, &k, k.b());
    w.operator_keys(0, k.a_with_zsk_b(), at(H));
    w.delegate(&[0], k.ds_ab(), at(3 * H));
    w.delegate(&[1], k.ds_ab(), at(5 * H));
    w.delegate(&[1], k.ds_b(), at(32 * H));
    w.stop(0, at(34 * H));
    w.finish(at(36 * H));
    let report = run(&w);
    let band = only_band(&report, Mode::Lenient, Status::Bogus);
    // From when B is reachable until A's answers (reachable until 30h, cached 1h) are gone.
    assert_eq!((band.from, band.until), (at(5 * H), at(31 * H)), "{report}");
    let finding = band
        .finding(ReasonCode::SignerNotInDnskeySet)
        .unwrap_or_else(|| panic!("{report}"));
    let dnskey = finding.witness.item(&Role::Dnskey(domain())).unwrap();
    assert_eq!(
        source_of(dnskey),
        ["operator B"],
        "{}",
        finding.witness.describe(t0())
    );
    let answer = finding
        .witness
        .items
        .iter()
        .find(|i| matches!(i.role, Role::Answer(_)))
        .unwrap();
    assert_eq!(source_of(answer), ["operator A"]);
}

#[test]
fn operators_with_different_algorithms_differ_by_mode() {
    let (a, b) = (KeyAlgorithm::RsaSha256, KeyAlgorithm::EcdsaP256Sha256);
    let k = Keys::new(a, b);
    let mut w = world(a, nsec3());
    let mut p = testbed::policy(nsec3());
    p.faults.allow_incomplete_algorithms = true;
    w.operator(0, k.a(), p.clone(), at(0))
        .operator(1, k.b_with_zsk_a(), p.clone(), at(0))
        .delegate(&[0], k.ds_a(), at(0));
    w.operator(0, k.a_with_zsk_b(), p.clone(), at(H));
    w.delegate(&[0], k.ds_ab(), at(3 * H));
    w.delegate(&[1], k.ds_ab(), at(5 * H));
    w.delegate(&[1], k.ds_b(), at(32 * H));
    w.operator(1, k.b(), p, at(34 * H)).stop(0, at(34 * H));
    w.finish(at(36 * H));
    let report = run(&w);
    // RFC 6840: one valid path is enough.
    assert_eq!(report.worst(Mode::Lenient), Status::Secure, "{report}");
    // RFC 4035 §2.2: from the moment A publishes B's ECDSA ZSK without signing with ECDSA
    // until B stops publishing A's RSA ZSK.
    let band = only_band(&report, Mode::Strict, Status::Bogus);
    assert_eq!(band.from, at(H), "{report}");
    assert!(band.until > at(34 * H), "{report}");
    let finding = band
        .finding(ReasonCode::AlgorithmWithoutSignature)
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(
        finding.breakage(Mode::Strict),
        Some(Breakage::AlgorithmIncomplete)
    );
}

#[test]
fn going_insecure_gives_an_insecure_window_and_no_bogus() {
    for denial in [Denial::Nsec, nsec3()] {
        let k = Keys::new(KeyAlgorithm::EcdsaP256Sha256, KeyAlgorithm::EcdsaP256Sha256);
        let mut w = world(KeyAlgorithm::EcdsaP256Sha256, denial.clone());
        start(&mut w, &k, k.b());
        // RFC 6781 §4.3.5.2: remove the DS, wait, move, wait, add the new DS.
        w.delegate(&[0], vec![], at(H));
        w.delegate(&[1], vec![], at(3 * H));
        w.stop(0, at(30 * H));
        w.delegate(&[1], k.ds_b(), at(30 * H));
        w.finish(at(32 * H));
        let report = run(&w);
        for mode in Mode::BOTH {
            assert_never(&report, Status::Bogus, mode);
            let band = only_band(&report, mode, Status::Insecure);
            // From the DS removal until the negative answer (TTL 300 s) is gone after DS_B.
            assert_eq!(
                (band.from, band.until),
                (at(H), at(30 * H + 300)),
                "{denial:?}:\n{report}"
            );
            let finding = band
                .finding(ReasonCode::InsecureDelegation)
                .unwrap_or_else(|| panic!("{report}"));
            assert_eq!(finding.breakage(mode), Some(Breakage::Insecure));
        }
    }
}

#[test]
fn an_rrsig_expiring_while_its_rrset_is_cacheable_is_bogus() {
    let algorithm = KeyAlgorithm::Ed25519;
    let k = Keys::new(algorithm, algorithm);
    let mut w = world(algorithm, nsec3());
    // A signs with signatures that expire at +10h, and re-signs ten minutes before.
    let short = testbed::window_policy(nsec3(), at(-H), at(10 * H));
    w.operator(0, k.a(), short, at(0))
        .delegate(&[0], k.ds_a(), at(0));
    w.operator_keys(0, k.a(), at(10 * H - 600));
    w.finish(at(12 * H));
    let report = run(&w);
    let band = only_band(&report, Mode::Lenient, Status::Bogus);
    // Held until 9h50m + 1h; invalid from one second after the expiration time.
    assert_eq!(
        (band.from, band.until),
        (at(10 * H + 1), at(10 * H + 3000)),
        "{report}"
    );
    assert!(
        band.finding(ReasonCode::SignatureExpired).is_some(),
        "{report}"
    );
    // Validators that cap TTLs at signature expiry (RFC 4035 §5.3.3) see no problem.
    let capped = check(
        &w.timeline,
        &w.anchors,
        &CacheOptions {
            cap_ttl_at_signature_expiry: true,
            ..CacheOptions::default()
        },
    );
    assert_eq!(capped.worst(Mode::Lenient), Status::Secure, "{capped}");
    // Serving the expired signatures is bogus even when capping.
    let mut w = world(algorithm, nsec3());
    let short = testbed::window_policy(nsec3(), at(-H), at(10 * H));
    w.operator(0, k.a(), short, at(0))
        .delegate(&[0], k.ds_a(), at(0));
    w.operator_keys(0, k.a(), at(11 * H));
    w.finish(at(12 * H));
    let capped = check(
        &w.timeline,
        &w.anchors,
        &CacheOptions {
            cap_ttl_at_signature_expiry: true,
            ..CacheOptions::default()
        },
    );
    let band = only_band(&capped, Mode::Lenient, Status::Bogus);
    assert_eq!(
        (band.from, band.until),
        (at(10 * H + 1), at(11 * H)),
        "{capped}"
    );
}

#[test]
fn a_child_side_ns_extends_reach_by_one_ttl_only() {
    // After the NS change, A's own NS (TTL 1h) fetched at the last moment the parent's NS
    // (24h) still pointed to A keeps A reachable one hour more, and not for ever.
    let k = Keys::new(KeyAlgorithm::Ed25519, KeyAlgorithm::Ed25519);
    let mut w = world(KeyAlgorithm::Ed25519, nsec3());
    start(&mut w, &k, k.b_with_zsk_a());
    w.operator_keys(0, k.a_with_zsk_b(), at(H));
    w.delegate(&[0], k.ds_ab(), at(3 * H));
    w.delegate(&[1], k.ds_ab(), at(5 * H));
    // A stops publishing ZSK_B once the NS changed (too early): bogus while A's new DNSKEY
    // RRset can be fetched, i.e. while A is reachable: until 5h + 24h + 1h.
    w.operator_keys(0, k.a(), at(6 * H));
    w.finish(at(40 * H));
    let report = run(&w);
    let band = only_band(&report, Mode::Lenient, Status::Bogus);
    assert_eq!(band.from, at(6 * H), "{report}");
    // Fetched up to 30h, held 1h more.
    assert_eq!(band.until, at(31 * H), "{report}");
}

#[test]
fn options_restrict_questions_and_time() {
    let k = Keys::new(KeyAlgorithm::Ed25519, KeyAlgorithm::Ed25519);
    let mut w = world(KeyAlgorithm::Ed25519, nsec3());
    correct_transfer(&mut w, &k);
    let q = crate::timeline::Question::new(&name("www.example.test."), RecordType::A);
    let report = check(
        &w.timeline,
        &w.anchors,
        &CacheOptions {
            from: Some(at(2 * H)),
            until: Some(at(10 * H)),
            questions: Some(vec![q.clone()]),
            ..CacheOptions::default()
        },
    );
    assert_eq!(report.questions.len(), 1);
    assert_eq!(report.questions[0].question, q);
    assert_eq!(report.lenient.first().unwrap().from, at(2 * H));
    assert_eq!(report.lenient.last().unwrap().until, at(10 * H));
    // Without a trust anchor nothing can be decided.
    let report = check(&w.timeline, &TrustAnchors::new(), &CacheOptions::default());
    assert_eq!(report.worst(Mode::Lenient), Status::Indeterminate);
}
