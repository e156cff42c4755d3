//! Validator unit tests: one test per reason, each over several variants (algorithms 8, 13 and
//! 15; NSEC and NSEC3), with chains signed by the DNSSEC engine.

use dnssec::{Denial, KeyAlgorithm, Nsec3Config, ZoneKey, fixture_keys};
use hickory_proto::dnssec::rdata::DS;
use hickory_proto::dnssec::{Algorithm, DigestType};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType, SerialNumber};
use jiff::Timestamp;

use super::*;
use crate::testbed::{self, ChainBuilder, DsChoice, hours, name, tweaked_dnskey, window_policy};
use crate::view::{Override, Response, Rrset};

fn now() -> Timestamp {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

fn nsec3() -> Denial {
    Denial::Nsec3(Nsec3Config::default())
}

fn opt_out() -> Denial {
    Denial::Nsec3(Nsec3Config {
        opt_out: true,
        ..Nsec3Config::default()
    })
}

/// Every algorithm with NSEC and NSEC3.
fn variants() -> Vec<(KeyAlgorithm, Denial)> {
    let mut v = Vec::new();
    for a in KeyAlgorithm::ALL {
        v.push((a, Denial::Nsec));
        v.push((a, nsec3()));
    }
    v
}

fn label(a: KeyAlgorithm, d: &Denial) -> String {
    format!("{a}/{}", if *d == Denial::Nsec { "nsec" } else { "nsec3" })
}

fn www() -> Name {
    name("www.example.test.")
}

#[track_caller]
fn expect(v: &Validation, status: Status, code: Option<ReasonCode>, what: &str) {
    assert_eq!(v.lenient.status(), status, "{what}: {}", v.lenient);
    assert_eq!(v.lenient.code(), code, "{what}: {}", v.lenient);
}

#[track_caller]
fn expect_both(v: &Validation, status: Status, code: Option<ReasonCode>, what: &str) {
    expect(v, status, code, what);
    assert_eq!(v.strict, v.lenient, "{what}: strict differs: {}", v.strict);
}

/// The questions a good chain answers, with their kind.
fn questions() -> Vec<(Name, RecordType, &'static str)> {
    vec![
        (www(), RecordType::A, "positive"),
        (name("example.test."), RecordType::SOA, "apex"),
        (name("example.test."), RecordType::DNSKEY, "dnskey"),
        (name("example.test."), RecordType::DS, "ds at parent"),
        (www(), RecordType::TXT, "nodata"),
        (name("b.example.test."), RecordType::A, "empty non-terminal"),
        (name("nx.example.test."), RecordType::A, "nxdomain"),
        (
            name("zzz.example.test."),
            RecordType::A,
            "nxdomain after last",
        ),
        (name("nx.test."), RecordType::A, "nxdomain in the tld"),
        (name("test."), RecordType::MX, "nodata at the tld apex"),
    ]
}

#[test]
fn good_chains_are_secure_for_every_kind_of_answer() {
    for (a, d) in variants() {
        let chain = ChainBuilder::new(a, d.clone(), now()).build().unwrap();
        for (q, t, kind) in questions() {
            let v = validate(&chain.view(&q, t), &chain.anchors, now());
            let what = format!("{} {q} {t} ({kind})", label(a, &d));
            expect_both(&v, Status::Secure, None, &what);
            assert!(v.warnings.is_empty(), "{what}: {:?}", v.warnings);
        }
    }
}

#[test]
fn a_dnskey_trust_anchor_works_like_a_ds_one() {
    let chain = ChainBuilder::new(KeyAlgorithm::Ed25519, nsec3(), now())
        .build()
        .unwrap();
    let mut anchors = TrustAnchors::new();
    let root_key = ZoneKey::csk(fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 2));
    anchors.add(&Name::root(), Anchor::Dnskey(root_key.dnskey().clone()));
    let v = validate(&chain.view(&www(), RecordType::A), &anchors, now());
    expect_both(&v, Status::Secure, None, "dnskey anchor");
    // A key that is not the root's.
    let mut wrong = TrustAnchors::new();
    let other = ZoneKey::csk(fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 0));
    wrong.add(&Name::root(), Anchor::Dnskey(other.dnskey().clone()));
    let v = validate(&chain.view(&www(), RecordType::A), &wrong, now());
    expect_both(
        &v,
        Status::Bogus,
        Some(ReasonCode::NoDsMatchesKsk),
        "wrong anchor",
    );
    assert_eq!(v.lenient.reason().unwrap().zone, Name::root());
}

#[test]
fn without_an_anchor_or_data_the_verdict_is_indeterminate() {
    let chain = ChainBuilder::new(KeyAlgorithm::Ed25519, Denial::Nsec, now())
        .build()
        .unwrap();
    let view = chain.view(&www(), RecordType::A);
    let v = validate(&view, &TrustAnchors::new(), now());
    expect_both(
        &v,
        Status::Indeterminate,
        Some(ReasonCode::NoTrustAnchor),
        "no anchor",
    );
    let mut partial = view.clone();
    partial.answer = Response::Unavailable;
    let v = validate(&partial, &chain.anchors, now());
    expect_both(
        &v,
        Status::Indeterminate,
        Some(ReasonCode::MissingData),
        "no answer",
    );
    let mut partial = view.clone();
    partial.zones[2].dnskey = Response::Unavailable;
    let v = validate(&partial, &chain.anchors, now());
    expect_both(
        &v,
        Status::Indeterminate,
        Some(ReasonCode::MissingData),
        "no dnskey",
    );
    let mut partial = view;
    partial.zones[2].ds = Response::Unavailable;
    let v = validate(&partial, &chain.anchors, now());
    expect_both(
        &v,
        Status::Indeterminate,
        Some(ReasonCode::MissingData),
        "no ds",
    );
}

#[test]
fn no_ds_matches_a_ksk() {
    for (a, d) in variants() {
        let child = name("example.test.");
        let keys = testbed::ksk_zsk(a, 0);
        let other = ZoneKey::ksk(fixture_keys::key(a, 2));
        let real = testbed::ds_for(&child, &keys)[0].clone();
        let corrupted = {
            let mut digest = real.digest().to_vec();
            digest[0] ^= 0xff;
            DS::new(real.key_tag(), real.algorithm(), real.digest_type(), digest)
        };
        let other_algorithm = {
            let alg = if a == KeyAlgorithm::Ed25519 {
                Algorithm::ECDSAP256SHA256
            } else {
                Algorithm::ED25519
            };
            DS::new(
                real.key_tag(),
                alg,
                real.digest_type(),
                real.digest().to_vec(),
            )
        };
        let cases = [
            ("ds of another key", testbed::ds_for(&child, &[other])),
            ("corrupted digest", vec![corrupted]),
            ("right tag, other algorithm", vec![other_algorithm]),
        ];
        for (what, ds) in cases {
            let mut b = ChainBuilder::new(a, d.clone(), now());
            b.ds = DsChoice::Explicit(ds);
            let chain = b.build().unwrap();
            for (q, t) in [
                (www(), RecordType::A),
                (name("nx.example.test."), RecordType::A),
            ] {
                let v = validate(&chain.view(&q, t), &chain.anchors, now());
                let what = format!("{} {what} {q}", label(a, &d));
                expect_both(&v, Status::Bogus, Some(ReasonCode::NoDsMatchesKsk), &what);
                assert_eq!(v.lenient.reason().unwrap().zone, child, "{what}");
            }
        }
    }
}

#[test]
fn dnskey_set_not_signed_by_a_ds_matched_key() {
    for (a, d) in variants() {
        let child = name("example.test.");
        // The DS points at the ZSK: a zone key, published, that does not sign the DNSKEY RRset.
        let keys = testbed::ksk_zsk(a, 0);
        let zsk_ds = keys[1].ds(&child, dnssec::DsDigest::Sha256).unwrap();
        let mut b = ChainBuilder::new(a, d.clone(), now());
        b.ds = DsChoice::Explicit(vec![zsk_ds]);
        let chain = b.build().unwrap();
        let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
        expect_both(
            &v,
            Status::Bogus,
            Some(ReasonCode::DnskeyNotSignedByDsKey),
            &format!("{} ds for zsk", label(a, &d)),
        );
        // The DS points at a published KSK that has stopped signing; another KSK signs.
        let mut b = ChainBuilder::new(a, d.clone(), now());
        let retired = ZoneKey::ksk(fixture_keys::key(a, 0)).with_signing(false);
        let active = ZoneKey::ksk(fixture_keys::key(a, 2));
        b.ds = DsChoice::Explicit(testbed::ds_for(&child, std::slice::from_ref(&retired)));
        b.child_keys = vec![retired, active, ZoneKey::zsk(fixture_keys::key(a, 1))];
        let chain = b.build().unwrap();
        let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
        expect_both(
            &v,
            Status::Bogus,
            Some(ReasonCode::DnskeyNotSignedByDsKey),
            &format!("{} retired ksk", label(a, &d)),
        );
    }
}

#[test]
fn expired_and_not_yet_valid_signatures() {
    for (a, d) in variants() {
        for (zone, expired) in [
            ("child", true),
            ("child", false),
            ("tld", true),
            ("root", false),
        ] {
            let (inception, expiration) = if expired {
                (hours(now(), -30 * 24), hours(now(), -24))
            } else {
                (hours(now(), 24), hours(now(), 30 * 24))
            };
            let mut b = ChainBuilder::new(a, d.clone(), now());
            let p = window_policy(d.clone(), inception, expiration);
            match zone {
                "child" => b.child_policy = p,
                "tld" => b.tld_policy = p,
                _ => b.root_policy = p,
            }
            let chain = b.build().unwrap();
            let code = if expired {
                ReasonCode::SignatureExpired
            } else {
                ReasonCode::SignatureNotYetValid
            };
            let zone_name = match zone {
                "child" => name("example.test."),
                "tld" => name("test."),
                _ => Name::root(),
            };
            for (q, t) in [
                (www(), RecordType::A),
                (name("nx.example.test."), RecordType::A),
            ] {
                let v = validate(&chain.view(&q, t), &chain.anchors, now());
                let what = format!("{} {zone} expired={expired} {q}", label(a, &d));
                expect_both(&v, Status::Bogus, Some(code), &what);
                assert_eq!(v.lenient.reason().unwrap().zone, zone_name, "{what}");
            }
        }
    }
}

#[test]
fn signature_times_are_inclusive_and_serial() {
    let chain = ChainBuilder::new(KeyAlgorithm::Ed25519, Denial::Nsec, now())
        .build()
        .unwrap();
    let view = chain.view(&www(), RecordType::A);
    let Response::Positive(answer) = &view.answer else {
        panic!("positive answer expected")
    };
    // Only the answer's RRSIG gets new times (so it no longer verifies, but time is checked
    // first, as validators do).
    let retimed = |inception: u32, expiration: u32| {
        let sigs = answer.rrsigs().iter().map(|s| {
            let mut input = s.input().clone();
            input.sig_inception = SerialNumber::new(inception);
            input.sig_expiration = SerialNumber::new(expiration);
            hickory_proto::dnssec::rdata::RRSIG::from_sig(input, s.sig().to_vec())
        });
        let mut v = view.clone();
        v.answer = Response::positive(answer.with_rrsigs(sigs));
        v
    };
    let t = u32::try_from(now().as_second()).unwrap();
    let at = |s: u32| Timestamp::from_second(i64::from(s)).unwrap();
    let v = validate(&retimed(t - 10, t), &chain.anchors, at(t + 1));
    expect(
        &v,
        Status::Bogus,
        Some(ReasonCode::SignatureExpired),
        "one second late",
    );
    let v = validate(&retimed(t + 1, t + 100), &chain.anchors, at(t));
    expect(
        &v,
        Status::Bogus,
        Some(ReasonCode::SignatureNotYetValid),
        "one second early",
    );
    // At the boundaries the time check passes and the (altered) signature is what fails.
    let v = validate(&retimed(t - 10, t), &chain.anchors, at(t));
    expect(
        &v,
        Status::Bogus,
        Some(ReasonCode::SignatureInvalid),
        "at expiration",
    );
    let v = validate(&retimed(t, t + 10), &chain.anchors, at(t));
    expect(
        &v,
        Status::Bogus,
        Some(ReasonCode::SignatureInvalid),
        "at inception",
    );
    // RFC 4034 §3.1.5: serial arithmetic across the 2^32 wrap.
    let v = validate(&retimed(u32::MAX - 10, 5), &chain.anchors, at(t));
    expect(
        &v,
        Status::Bogus,
        Some(ReasonCode::SignatureExpired),
        "wrapped window",
    );
}

#[test]
fn signer_not_in_the_dnskey_set() {
    for (a, d) in variants() {
        let mut b = ChainBuilder::new(a, d.clone(), now());
        b.child_keys = vec![
            ZoneKey::ksk(fixture_keys::key(a, 0)),
            ZoneKey::zsk(fixture_keys::key(a, 1)).with_published(false),
        ];
        let chain = b.build().unwrap();
        for (q, t) in [
            (www(), RecordType::A),
            (www(), RecordType::TXT),
            (name("nx.example.test."), RecordType::A),
        ] {
            let v = validate(&chain.view(&q, t), &chain.anchors, now());
            let what = format!("{} {q} {t}", label(a, &d));
            expect_both(
                &v,
                Status::Bogus,
                Some(ReasonCode::SignerNotInDnskeySet),
                &what,
            );
        }
        // The DNSKEY query itself is fine: only zone data is signed by the missing key.
        let v = validate(
            &chain.view(&name("example.test."), RecordType::DNSKEY),
            &chain.anchors,
            now(),
        );
        expect_both(&v, Status::Secure, None, "dnskey");
    }
}

#[test]
fn signatures_that_do_not_verify() {
    for (a, d) in variants() {
        // A ZSK published with a tweaked public key (same tag): data signatures fail.
        let zsk = ZoneKey::zsk(fixture_keys::key(a, 1));
        let mut b = ChainBuilder::new(a, d.clone(), now());
        b.child_keys = vec![
            ZoneKey::ksk(fixture_keys::key(a, 0)),
            zsk.clone().with_published(false),
            ZoneKey::foreign(tweaked_dnskey(&zsk)),
        ];
        let chain = b.build().unwrap();
        for (q, t) in [
            (www(), RecordType::A),
            (name("nx.example.test."), RecordType::A),
        ] {
            let v = validate(&chain.view(&q, t), &chain.anchors, now());
            let what = format!("{} tweaked zsk {q}", label(a, &d));
            expect_both(&v, Status::Bogus, Some(ReasonCode::SignatureInvalid), &what);
        }
        // The KSK tweaked: the DS matches the published (tweaked) key, its signature fails.
        let ksk = ZoneKey::ksk(fixture_keys::key(a, 0));
        let mut b = ChainBuilder::new(a, d.clone(), now());
        b.child_keys = vec![
            ksk.clone().with_published(false),
            ZoneKey::foreign(tweaked_dnskey(&ksk)),
            ZoneKey::zsk(fixture_keys::key(a, 1)),
        ];
        let chain = b.build().unwrap();
        let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
        expect_both(
            &v,
            Status::Bogus,
            Some(ReasonCode::SignatureInvalid),
            &format!("{} tweaked ksk", label(a, &d)),
        );
        // Data changed after signing.
        let chain = ChainBuilder::new(a, d.clone(), now()).build().unwrap();
        let mut view = chain.view(&www(), RecordType::A);
        let Response::Positive(answer) = &view.answer else {
            panic!("positive answer expected")
        };
        let forged = Record::from_rdata(www(), 3600, RData::A(A::new(203, 0, 113, 66)));
        let sigs = answer.rrsigs().iter().map(|s| {
            Record::from_rdata(
                www(),
                3600,
                RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::RRSIG(s.clone())),
            )
        });
        view.answer = Response::positive(Rrset::new([forged], sigs).unwrap());
        let v = validate(&view, &chain.anchors, now());
        expect_both(
            &v,
            Status::Bogus,
            Some(ReasonCode::SignatureInvalid),
            &format!("{} forged data", label(a, &d)),
        );
    }
}

#[test]
fn unsigned_rrsets_in_a_signed_zone() {
    for (a, d) in variants() {
        let mut b = ChainBuilder::new(a, d.clone(), now());
        b.child_policy.faults.unsigned = vec![(www(), Some(RecordType::A))];
        let chain = b.build().unwrap();
        let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
        expect_both(&v, Status::Bogus, Some(ReasonCode::Unsigned), &label(a, &d));
        // The DS at the TLD left unsigned.
        let mut b = ChainBuilder::new(a, d.clone(), now());
        b.tld_policy.faults.unsigned = vec![(name("example.test."), Some(RecordType::DS))];
        let chain = b.build().unwrap();
        let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
        expect_both(&v, Status::Bogus, Some(ReasonCode::Unsigned), &label(a, &d));
        assert_eq!(v.lenient.reason().unwrap().zone, name("test."));
    }
}

#[test]
fn a_secure_delegation_to_a_zone_without_keys() {
    for (a, d) in variants() {
        let keys: Vec<ZoneKey> = testbed::ksk_zsk(a, 0)
            .into_iter()
            .map(|k| k.with_published(false))
            .collect();
        let ds = keys[0]
            .ds(&name("example.test."), dnssec::DsDigest::Sha256)
            .unwrap();
        let mut b = ChainBuilder::new(a, d.clone(), now());
        b.child_keys = keys;
        b.ds = DsChoice::Explicit(vec![ds]);
        let chain = b.build().unwrap();
        let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
        expect_both(
            &v,
            Status::Bogus,
            Some(ReasonCode::DnskeyMissing),
            &label(a, &d),
        );
    }
}

#[test]
fn algorithm_completeness_is_strict_only() {
    for (a, d) in variants() {
        let other = testbed::upper_algorithm(a);
        // A foreign ZSK of another algorithm in the DNSKEY RRset (an operator change between
        // algorithms, RFC 8901 §4): lenient Secure, strict Bogus.
        let mut b = ChainBuilder::new(a, d.clone(), now());
        b.child_keys.push(ZoneKey::foreign(
            ZoneKey::zsk(fixture_keys::key(other, 1)).dnskey().clone(),
        ));
        b.child_policy.faults.allow_incomplete_algorithms = true;
        let chain = b.build().unwrap();
        for (q, t) in [
            (www(), RecordType::A),
            (name("nx.example.test."), RecordType::A),
        ] {
            let v = validate(&chain.view(&q, t), &chain.anchors, now());
            let what = format!("{} foreign zsk {q}", label(a, &d));
            expect(&v, Status::Secure, None, &what);
            assert_eq!(
                v.strict.code(),
                Some(ReasonCode::AlgorithmWithoutSignature),
                "{what}: {}",
                v.strict
            );
            assert_eq!(v.strict.status(), Status::Bogus);
        }
        // Two algorithms in the DS RRset, one of them signing nothing: also a lame DS.
        let mut b = ChainBuilder::new(a, d.clone(), now());
        b.child_keys.extend(testbed::ksk_zsk(other, 0));
        b.child_policy.faults.omit_algorithms = vec![other.to_hickory()];
        let chain = b.build().unwrap();
        let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
        let what = format!("{} omitted algorithm", label(a, &d));
        expect(&v, Status::Secure, None, &what);
        assert_eq!(
            v.strict.code(),
            Some(ReasonCode::AlgorithmWithoutSignature),
            "{what}"
        );
        assert_eq!(v.warnings.len(), 1, "{what}: {:?}", v.warnings);
        assert_eq!(v.warnings[0].code, ReasonCode::LameDs);
        // Both algorithms complete: secure in both modes.
        let mut b = ChainBuilder::new(a, d.clone(), now());
        b.child_keys.extend(testbed::ksk_zsk(other, 0));
        let chain = b.build().unwrap();
        let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
        expect_both(
            &v,
            Status::Secure,
            None,
            &format!("{} two algorithms", label(a, &d)),
        );
    }
}

#[test]
fn a_lame_ds_beside_a_working_one_is_secure_with_a_warning() {
    for (a, d) in variants() {
        let child = name("example.test.");
        let mut b = ChainBuilder::new(a, d.clone(), now());
        let mut ds = testbed::ds_for(&child, &b.child_keys);
        ds.extend(testbed::ds_for(
            &child,
            &[ZoneKey::ksk(fixture_keys::key(a, 2))],
        ));
        b.ds = DsChoice::Explicit(ds);
        let chain = b.build().unwrap();
        let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
        expect_both(&v, Status::Secure, None, &label(a, &d));
        assert_eq!(v.warnings.len(), 1);
        assert_eq!(v.warnings[0].code, ReasonCode::LameDs);
        assert_eq!(v.warnings[0].zone, child);
    }
}

#[test]
fn provably_insecure_delegations() {
    let mut denials = vec![Denial::Nsec, nsec3(), opt_out()];
    denials.push(Denial::Nsec3(Nsec3Config {
        iterations: 5,
        salt: vec![0xab, 0xcd],
        opt_out: false,
    }));
    for a in KeyAlgorithm::ALL {
        for d in &denials {
            let mut b = ChainBuilder::new(a, d.clone(), now());
            b.ds = DsChoice::Explicit(vec![]);
            let chain = b.build().unwrap();
            for (q, t) in [
                (www(), RecordType::A),
                (name("nx.example.test."), RecordType::A),
            ] {
                let v = validate(&chain.view(&q, t), &chain.anchors, now());
                let what = format!("{a} {d:?} {q}");
                expect_both(
                    &v,
                    Status::Insecure,
                    Some(ReasonCode::InsecureDelegation),
                    &what,
                );
                assert_eq!(v.lenient.reason().unwrap().zone, name("test."));
            }
            // Asking for the DS itself: a secure NODATA, Opt-Out included (RFC 5155 §8.6).
            let v = validate(
                &chain.view(&name("example.test."), RecordType::DS),
                &chain.anchors,
                now(),
            );
            expect_both(&v, Status::Secure, None, &format!("{a} {d:?} ds nodata"));
        }
    }
}

#[test]
fn only_unsupported_algorithms_or_digests_is_insecure() {
    for (a, d) in variants() {
        let child = name("example.test.");
        let real = testbed::ds_for(&child, &testbed::ksk_zsk(a, 0))[0].clone();
        let unknown_algorithm = DS::new(
            real.key_tag(),
            Algorithm::Unknown(253),
            DigestType::SHA256,
            real.digest().to_vec(),
        );
        let unknown_digest = DS::new(
            real.key_tag(),
            real.algorithm(),
            DigestType::Unknown(6),
            real.digest().to_vec(),
        );
        for (what, ds) in [
            ("algorithm 253", unknown_algorithm),
            ("digest 6", unknown_digest),
        ] {
            let mut b = ChainBuilder::new(a, d.clone(), now());
            b.ds = DsChoice::Explicit(vec![ds.clone()]);
            let chain = b.build().unwrap();
            let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
            let what = format!("{} {what}", label(a, &d));
            expect_both(
                &v,
                Status::Insecure,
                Some(ReasonCode::UnsupportedAlgorithms),
                &what,
            );
            // Beside a supported DS, the unsupported one is ignored (not even lame).
            let mut b = ChainBuilder::new(a, d.clone(), now());
            b.ds = DsChoice::Explicit(vec![ds, real.clone()]);
            let chain = b.build().unwrap();
            let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
            expect_both(&v, Status::Secure, None, &what);
            assert!(v.warnings.is_empty(), "{what}: {:?}", v.warnings);
        }
    }
}

#[test]
fn denials_that_do_not_prove_what_they_claim() {
    for (a, d) in variants() {
        let chain = ChainBuilder::new(a, d.clone(), now()).build().unwrap();
        for kind in testbed::BadDenial::ALL {
            let (q, t, o, fault) = testbed::bad_denial(&chain, kind);
            let v = validate(&chain.view_with(&q, t, &[o]), &chain.anchors, now());
            let what = format!("{} {} {q} {t}", label(a, &d), kind.as_str());
            expect_both(&v, Status::Bogus, Some(ReasonCode::BadDenial(fault)), &what);
            // The same question answered honestly is secure.
            let v = validate(&chain.view(&q, t), &chain.anchors, now());
            expect_both(&v, Status::Secure, None, &what);
        }
    }
}

#[test]
fn a_no_ds_proof_that_proves_nothing_is_bogus() {
    for (a, d) in variants() {
        let mut b = ChainBuilder::new(a, d.clone(), now());
        b.ds = DsChoice::Explicit(vec![]);
        let chain = b.build().unwrap();
        // The TLD's apex NODATA proof, served as the no-DS proof.
        let other = match chain.view(&name("test."), RecordType::MX).answer {
            Response::NoData(p) => p,
            other => panic!("{}", other.summary()),
        };
        let view = chain.view_with(
            &www(),
            RecordType::A,
            &[Override {
                zone: name("test."),
                qname: name("example.test."),
                qtype: RecordType::DS,
                response: Response::NoData(other),
            }],
        );
        let v = validate(&view, &chain.anchors, now());
        let what = label(a, &d);
        assert_eq!(v.lenient.status(), Status::Bogus, "{what}: {}", v.lenient);
        assert!(
            matches!(v.lenient.code(), Some(ReasonCode::BadDenial(_))),
            "{what}: {}",
            v.lenient
        );
        assert_eq!(v.lenient.reason().unwrap().zone, name("test."));
    }
}

#[test]
fn the_validator_remembers_signature_checks() {
    let chain = ChainBuilder::new(KeyAlgorithm::RsaSha256, nsec3(), now())
        .build()
        .unwrap();
    let view = chain.view(&www(), RecordType::A);
    let mut validator = Validator::new(&chain.anchors);
    let first = validator.validate(&view, now());
    let after_first = validator.stats();
    let second = validator.validate(&view, hours(now(), 1));
    assert_eq!(first, second);
    assert_eq!(validator.stats().verifications, after_first.verifications);
    assert!(validator.stats().memo_hits > after_first.memo_hits);
}

fn wildcard_chain(a: KeyAlgorithm, d: &Denial) -> testbed::Chain {
    let mut b = ChainBuilder::new(a, d.clone(), now());
    b.child_records = testbed::wildcard_records(&name("example.test."));
    b.build().unwrap()
}

#[test]
fn wildcard_expansions_and_wildcard_nodata_are_secure_with_their_proofs() {
    for (a, d) in variants() {
        let chain = wildcard_chain(a, &d);
        for (q, t, kind) in [
            ("a.wild.example.test.", RecordType::A, "expansion"),
            ("a.wild.example.test.", RecordType::TXT, "expansion"),
            ("x.y.wild.example.test.", RecordType::A, "two labels down"),
            ("a.wild.example.test.", RecordType::MX, "wildcard nodata"),
            ("*.wild.example.test.", RecordType::A, "the wildcard itself"),
            ("sub.wild.example.test.", RecordType::A, "a name beside it"),
            (
                "z.sub.wild.example.test.",
                RecordType::A,
                "nxdomain below it",
            ),
            ("a.cn.example.test.", RecordType::A, "wildcard cname"),
        ] {
            let links = chain.links(&name(q), t, &[]);
            let v = validate_chain(&links, &chain.anchors, now());
            let what = format!("{} {q} {t} ({kind})", label(a, &d));
            expect_both(&v, Status::Secure, None, &what);
        }
        let links = chain.links(&name("a.cn.example.test."), RecordType::A, &[]);
        assert_eq!(links.len(), 2, "a wildcard CNAME and its target");
        assert!(matches!(links[0].answer, Response::Wildcard(..)));
        // The same expansion without its proof, and judged alone: bogus.
        let view = chain.view(&name("a.wild.example.test."), RecordType::A);
        let Response::Wildcard(set, _) = &view.answer else {
            panic!("{}", view.answer.summary())
        };
        let mut bare = view.clone();
        bare.answer = Response::Positive(set.clone());
        let v = validate(&bare, &chain.anchors, now());
        expect_both(
            &v,
            Status::Bogus,
            Some(ReasonCode::WildcardUnproven),
            &label(a, &d),
        );
    }
}

#[test]
fn broken_wildcard_answers_are_bogus() {
    for (a, d) in variants() {
        let chain = wildcard_chain(a, &d);
        for kind in testbed::BadWildcard::ALL {
            for t in [RecordType::A, RecordType::TXT] {
                let (q, t, o, code) = testbed::bad_wildcard(&chain, kind, t);
                let what = format!("{} {} {q} {t}", label(a, &d), kind.as_str());
                let v = validate_chain(&chain.links(&q, t, &[o]), &chain.anchors, now());
                expect_both(&v, Status::Bogus, Some(code), &what);
                let v = validate_chain(&chain.links(&q, t, &[]), &chain.anchors, now());
                expect_both(&v, Status::Secure, None, &format!("{what}, honestly"));
            }
        }
    }
}

#[test]
fn nsec3_above_the_iteration_limit_is_insecure() {
    for a in KeyAlgorithm::ALL {
        for iterations in [0, 1, NSEC3_ITER_LIMIT, NSEC3_ITER_LIMIT + 1, 500, 2500] {
            let d = Denial::Nsec3(Nsec3Config {
                iterations,
                ..Nsec3Config::default()
            });
            let above = iterations > NSEC3_ITER_LIMIT;
            // In the child: denials and expansions rest on NSEC3; a plain answer does not.
            let chain = wildcard_chain(a, &d);
            for (q, t) in [
                ("nx.example.test.", RecordType::A),
                ("www.example.test.", RecordType::TXT),
                ("a.wild.example.test.", RecordType::A),
                ("a.wild.example.test.", RecordType::MX),
            ] {
                let v = validate_chain(&chain.links(&name(q), t, &[]), &chain.anchors, now());
                let what = format!("{a} {iterations} {q} {t}");
                if above {
                    expect_both(
                        &v,
                        Status::Insecure,
                        Some(ReasonCode::Nsec3Iterations),
                        &what,
                    );
                } else {
                    expect_both(&v, Status::Secure, None, &what);
                }
            }
            let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
            expect_both(&v, Status::Secure, None, "a positive answer");
            // At the TLD: the proof that an insecure delegation has no DS.
            let mut b = ChainBuilder::new(a, d.clone(), now());
            b.ds = DsChoice::Explicit(vec![]);
            let chain = b.build().unwrap();
            let v = validate(&chain.view(&www(), RecordType::A), &chain.anchors, now());
            let code = if above {
                ReasonCode::Nsec3Iterations
            } else {
                ReasonCode::InsecureDelegation
            };
            expect_both(&v, Status::Insecure, Some(code), "no DS");
            let v = validate(
                &chain.view(&name("example.test."), RecordType::DS),
                &chain.anchors,
                now(),
            );
            if above {
                expect_both(&v, Status::Insecure, Some(code), "the DS question");
            } else {
                expect_both(&v, Status::Secure, None, "the DS question");
            }
        }
    }
}

const NSEC3_ITER_LIMIT: u16 = crate::NSEC3_ITERATION_LIMIT;

#[test]
fn cname_and_dname_chains_are_as_strong_as_their_weakest_link() {
    use testbed::ExtraZone;
    let apex = name("example.test.");
    for (a, d) in variants() {
        for state in ["secure", "insecure", "expired"] {
            let mut other = ExtraZone::new("other.test.", a, 4, d.clone());
            other.records = vec![
                "www.other.test. 3600 A 192.0.2.70".into(),
                "back.other.test. 3600 CNAME mail.example.test.".into(),
            ];
            let mut sub = ExtraZone::new("sub.example.test.", a, 6, d.clone());
            sub.records = vec!["www.sub.example.test. 3600 A 192.0.2.71".into()];
            for z in [&mut other, &mut sub] {
                match state {
                    "insecure" => z.ds = DsChoice::Explicit(vec![]),
                    "expired" => {
                        z.policy = window_policy(d.clone(), hours(now(), -720), hours(now(), -48));
                    }
                    _ => {}
                }
            }
            let mut b = ChainBuilder::new(a, d.clone(), now());
            b.child_records = vec![
                format!("alias.{apex} 3600 CNAME www.{apex}"),
                format!("ext.{apex} 3600 CNAME www.other.test."),
                format!("deep.{apex} 3600 CNAME www.sub.{apex}"),
                format!("chain3.{apex} 3600 CNAME ext.{apex}"),
                format!("dn.{apex} 3600 DNAME other.test."),
                format!("dnin.{apex} 3600 DNAME b.{apex}"),
            ];
            b.extra = vec![other, sub];
            let chain = b.build().unwrap();
            let (status, code) = match state {
                "secure" => (Status::Secure, None),
                "insecure" => (Status::Insecure, Some(ReasonCode::InsecureDelegation)),
                _ => (Status::Bogus, Some(ReasonCode::SignatureExpired)),
            };
            for (q, t, links, across) in [
                ("alias.example.test.", RecordType::A, 2, false),
                ("a.dnin.example.test.", RecordType::TXT, 2, false),
                ("ext.example.test.", RecordType::A, 2, true),
                ("ext.example.test.", RecordType::TXT, 2, true),
                ("deep.example.test.", RecordType::A, 2, true),
                ("chain3.example.test.", RecordType::A, 3, true),
                ("www.dn.example.test.", RecordType::A, 2, true),
                ("nothing.dn.example.test.", RecordType::A, 2, true),
                ("back.other.test.", RecordType::A, 2, true),
            ] {
                let got = chain.links(&name(q), t, &[]);
                let what = format!("{} {state} {q} {t}", label(a, &d));
                assert_eq!(got.len(), links, "{what}");
                let v = validate_chain(&got, &chain.anchors, now());
                if across {
                    expect_both(&v, status, code, &what);
                } else {
                    expect_both(&v, Status::Secure, None, &what);
                }
            }
            // A DNAME answer whose synthesised CNAME points elsewhere does not fit.
            let view = chain.view(&name("www.dn.example.test."), RecordType::A);
            let Response::Dname(dname, _) = &view.answer else {
                panic!("{}", view.answer.summary())
            };
            let forged = Rrset::new(
                [Record::from_rdata(
                    name("www.dn.example.test."),
                    3600,
                    RData::CNAME(hickory_proto::rr::rdata::CNAME(name("evil.other.test."))),
                )],
                [],
            )
            .unwrap();
            let mut bad = view.clone();
            bad.answer = Response::Dname(dname.clone(), std::sync::Arc::new(forged));
            if state != "expired" {
                let v = validate(&bad, &chain.anchors, now());
                expect(
                    &v,
                    Status::Indeterminate,
                    Some(ReasonCode::InconsistentView),
                    "forged",
                );
            }
        }
    }
}
