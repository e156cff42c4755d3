use std::collections::BTreeSet;

use hickory_proto::dnssec::Algorithm;
use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::rr::{Name, RData, RecordType};
use jiff::SignedDuration;
use proptest::prelude::*;

use super::*;
use crate::fixture_keys;
use crate::keys::KeyAlgorithm;
use crate::signed::{Lookup, PresentationOptions};
use crate::testutil::*;
use crate::zone::Delegation;

fn policy(denial: Denial) -> SigningPolicy {
    SigningPolicy {
        denial,
        ..SigningPolicy::default()
    }
}

fn opt_out() -> Denial {
    Denial::Nsec3(Nsec3Config {
        iterations: 2,
        salt: vec![0xab, 0xcd],
        opt_out: true,
    })
}

fn denials() -> [Denial; 3] {
    [Denial::Nsec, Denial::default(), opt_out()]
}

fn check_chain(zone: &SignedZone, denial: &Denial) {
    match denial {
        Denial::Nsec => check_nsec_chain(zone),
        Denial::Nsec3(c) => check_nsec3_chain(zone, c.opt_out),
        Denial::None => {
            assert!(zone.nodes().all(|n| n.nsec().is_none()) && zone.nsec3_chain().next().is_none())
        }
    }
}

/// Names worth asking about in `small_zone`.
fn probe_queries() -> Vec<(Name, RecordType)> {
    let names = [
        "example.",
        "www.example.",
        "mail.example.",
        "b.example.",
        "a.b.example.",
        "x.a.b.example.",
        "nope.example.",
        "zzz.example.",
        "0.example.",
        "secure.example.",
        "ns.secure.example.",
        "deep.www.secure.example.",
        "insecure.example.",
        "x.insecure.example.",
        "other.",
    ];
    let types = [
        RecordType::A,
        RecordType::DS,
        RecordType::NS,
        RecordType::TXT,
        RecordType::DNSKEY,
        RecordType::SOA,
    ];
    names
        .iter()
        .flat_map(|name| types.iter().map(move |t| (n(name), *t)))
        .collect()
}

#[test]
fn signs_and_verifies_with_every_algorithm_and_denial() {
    let now = ts("2026-01-01T00:00:00Z");
    for algorithm in KeyAlgorithm::ALL {
        for denial in denials() {
            let keys = ksk_zsk(algorithm);
            let signer = ZoneSigner::new(keys.clone(), policy(denial.clone())).unwrap();
            let signed = signer.sign(&small_zone(), now).unwrap();
            verify_zone(&signed, &[now], &roles(&keys));
            check_chain(&signed, &denial);
            for (qname, qtype) in probe_queries() {
                check_lookup(&signed, &qname, qtype);
            }
        }
    }
}

#[test]
fn lookups_classify_queries() {
    let now = ts("2026-01-01T00:00:00Z");
    let signer = ZoneSigner::new(ksk_zsk(KeyAlgorithm::Ed25519), policy(Denial::Nsec)).unwrap();
    let signed = signer.sign(&small_zone(), now).unwrap();
    assert!(matches!(
        signed.lookup(&n("mail.example."), RecordType::A),
        Lookup::Answer(_)
    ));
    assert!(matches!(
        signed.lookup(&n("WWW.example."), RecordType::A),
        Lookup::Cname(_)
    ));
    assert!(matches!(
        signed.lookup(&n("b.example."), RecordType::A),
        Lookup::NoData { .. }
    ));
    assert!(matches!(
        signed.lookup(&n("nope.example."), RecordType::A),
        Lookup::NxDomain { .. }
    ));
    assert!(matches!(
        signed.lookup(&n("other."), RecordType::A),
        Lookup::NotInZone
    ));
    // DS is answered from the parent side of the cut; anything else there is a referral.
    assert!(matches!(
        signed.lookup(&n("secure.example."), RecordType::DS),
        Lookup::Answer(_)
    ));
    assert!(matches!(
        signed.lookup(&n("insecure.example."), RecordType::DS),
        Lookup::NoData { .. }
    ));
    let Lookup::Referral(r) = signed.lookup(&n("www.secure.example."), RecordType::A) else {
        panic!("expected a referral")
    };
    assert_eq!(r.cut, &n("secure.example."));
    assert!(r.ds.is_some());
    assert_eq!(r.glue.len(), 1);
    let Lookup::Referral(r) = signed.lookup(&n("insecure.example."), RecordType::NS) else {
        panic!("expected a referral")
    };
    assert!(r.ds.is_none() && !r.no_ds_proof.is_empty() && r.glue.is_empty());
}

#[test]
fn validity_covers_every_instant_with_offset_and_bounded_jitter() {
    let virtual_now = ts("2026-01-01T00:00:00Z");
    let wall = ts("2026-03-15T12:00:00Z");
    let keys = ksk_zsk(KeyAlgorithm::Ed25519);
    let mut p = policy(Denial::Nsec);
    p.also_valid_at = vec![wall];
    p.jitter = SignedDuration::from_hours(12);
    p.jitter_seed = 7;
    let signer = ZoneSigner::new(keys.clone(), p).unwrap();
    let signed = signer.sign(&small_zone(), virtual_now).unwrap();
    verify_zone(&signed, &[virtual_now, wall], &roles(&keys));
    let inception = ts("2025-12-31T23:00:00Z").as_second();
    let latest_expiration = ts("2026-03-29T12:00:00Z").as_second();
    let mut expirations = BTreeSet::new();
    for (rrset, _) in all_rrsets(&signed) {
        for sig in rrset.rrsigs() {
            let RData::DNSSEC(DNSSECRData::RRSIG(s)) = &sig.data else {
                panic!()
            };
            assert_eq!(i64::from(s.input().sig_inception.get()), inception);
            let e = i64::from(s.input().sig_expiration.get());
            assert!(e <= latest_expiration && e >= latest_expiration - 12 * 3600);
            expirations.insert(e);
        }
    }
    assert!(expirations.len() > 3, "jitter should spread expirations");
    // Same seed, same result.
    let again = signer.sign(&small_zone(), virtual_now).unwrap();
    assert_eq!(
        again.to_presentation(PresentationOptions::default()),
        signed.to_presentation(PresentationOptions::default())
    );
}

#[test]
fn csk_signs_everything_and_foreign_keys_are_published_only() {
    let now = ts("2026-01-01T00:00:00Z");
    let foreign = ZoneKey::foreign(fixture_keys::key(KeyAlgorithm::Ed25519, 2).dnskey(256));
    let keys = vec![
        ZoneKey::csk(fixture_keys::key(KeyAlgorithm::Ed25519, 0)),
        foreign.clone(),
    ];
    let signer = ZoneSigner::new(keys.clone(), policy(Denial::default())).unwrap();
    let signed = signer.sign(&small_zone(), now).unwrap();
    verify_zone(&signed, &[now], &roles(&keys));
    assert_eq!(signed.dnskeys().unwrap().records().len(), 2);
    for (rrset, _) in all_rrsets(&signed) {
        for sig in rrset.rrsigs() {
            let RData::DNSSEC(DNSSECRData::RRSIG(s)) = &sig.data else {
                panic!()
            };
            assert_ne!(s.input().key_tag, foreign.key_tag());
        }
    }
}

#[test]
fn refuses_keys_that_leave_an_algorithm_without_signer() {
    // Operator B's ZSK with another algorithm: RFC 8901 §4 needs a common algorithm.
    let mut keys = ksk_zsk(KeyAlgorithm::Ed25519);
    keys.push(ZoneKey::foreign(
        fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 0).dnskey(256),
    ));
    let err = ZoneSigner::new(keys.clone(), SigningPolicy::default()).unwrap_err();
    assert!(matches!(
        err,
        SignError::AlgorithmWithoutSigner {
            algorithm: Algorithm::ECDSAP256SHA256,
            ..
        }
    ));
    // A KSK without a ZSK of its algorithm cannot sign the zone data.
    let ksk_only = vec![ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 0))];
    assert!(ZoneSigner::new(ksk_only, SigningPolicy::default()).is_err());
    // Allowed on purpose as a fault.
    let mut p = SigningPolicy::default();
    p.faults.allow_incomplete_algorithms = true;
    assert!(ZoneSigner::new(keys, p).is_ok());
}

#[test]
fn faults_break_what_they_say() {
    let now = ts("2026-01-01T00:00:00Z");
    // Expired window.
    let mut p = policy(Denial::Nsec);
    p.faults.window = Some((ts("2025-11-01T00:00:00Z"), ts("2025-12-01T00:00:00Z")));
    let signed = ZoneSigner::new(ksk_zsk(KeyAlgorithm::Ed25519), p)
        .unwrap()
        .sign(&small_zone(), now)
        .unwrap();
    let soa = signed.soa();
    let RData::DNSSEC(DNSSECRData::RRSIG(s)) = &soa.rrsigs()[0].data else {
        panic!()
    };
    assert_eq!(
        i64::from(s.input().sig_expiration.get()),
        ts("2025-12-01T00:00:00Z").as_second()
    );

    // Two algorithms, one omitted: still published, signs nothing.
    let mut keys = ksk_zsk(KeyAlgorithm::Ed25519);
    keys.extend(ksk_zsk(KeyAlgorithm::EcdsaP256Sha256));
    let mut p = policy(Denial::Nsec);
    p.faults.omit_algorithms = vec![Algorithm::ECDSAP256SHA256];
    let signed = ZoneSigner::new(keys.clone(), p)
        .unwrap()
        .sign(&small_zone(), now)
        .unwrap();
    assert_eq!(signed.dnskeys().unwrap().records().len(), 4);
    assert_eq!(signed.soa().rrsigs().len(), 1);
    // Without the fault both algorithms sign everything.
    let signed = ZoneSigner::new(keys.clone(), policy(Denial::Nsec))
        .unwrap()
        .sign(&small_zone(), now)
        .unwrap();
    verify_zone(&signed, &[now], &roles(&keys));
    assert_eq!(signed.soa().rrsigs().len(), 2);

    // An RRset left unsigned.
    let mut p = policy(Denial::Nsec);
    p.faults.unsigned = vec![(n("mail.example."), Some(RecordType::A))];
    let signed = ZoneSigner::new(ksk_zsk(KeyAlgorithm::Ed25519), p)
        .unwrap()
        .sign(&small_zone(), now)
        .unwrap();
    let mail = signed.node(&n("mail.example.")).unwrap();
    assert!(!mail.rrset(RecordType::A).unwrap().is_signed());
    assert!(mail.nsec().unwrap().is_signed());

    // A ZSK that signs but is not published (the "ZSK missing from the DNSKEY set" fault).
    let keys = vec![
        ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 0)),
        ZoneKey::zsk(fixture_keys::key(KeyAlgorithm::Ed25519, 1)).with_published(false),
    ];
    let signed = ZoneSigner::new(keys, policy(Denial::Nsec))
        .unwrap()
        .sign(&small_zone(), now)
        .unwrap();
    assert_eq!(signed.dnskeys().unwrap().records().len(), 1);
    assert!(signed.soa().is_signed());
}

#[test]
fn ds_must_be_at_a_cut() {
    let mut zone = small_zone();
    let ds = ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 0))
        .ds(&n("mail.example."), crate::DsDigest::Sha256)
        .unwrap();
    zone.add(&n("mail.example."), 300, RData::DNSSEC(DNSSECRData::DS(ds)))
        .unwrap();
    let signer = ZoneSigner::new(ksk_zsk(KeyAlgorithm::Ed25519), SigningPolicy::default()).unwrap();
    assert!(matches!(
        signer.sign(&zone, ts("2026-01-01T00:00:00Z")),
        Err(SignError::DsOutsideCut(_))
    ));
}

/// RFC 5155 Appendix A: H(example) with salt aabbccdd and 12 iterations.
#[test]
fn nsec3_hash_matches_rfc5155() {
    let config = Nsec3Config {
        iterations: 12,
        salt: vec![0xaa, 0xbb, 0xcc, 0xdd],
        opt_out: false,
    };
    let h = config.hash(&n("example."));
    assert_eq!(
        data_encoding::BASE32_DNSSEC.encode(&h),
        "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"
    );
    let h = config.hash(&n("a.example."));
    assert_eq!(
        data_encoding::BASE32_DNSSEC.encode(&h),
        "35mthgpgcu1qg68fab165klnsnk3dpvl"
    );
}

fn snapshot_signer(algorithm: KeyAlgorithm, denial: Denial) -> ZoneSigner {
    ZoneSigner::new(ksk_zsk(algorithm), policy(denial)).unwrap()
}

#[test]
fn snapshot_ed25519_nsec() {
    let signed = snapshot_signer(KeyAlgorithm::Ed25519, Denial::Nsec)
        .sign(&small_zone(), ts("2026-01-01T00:00:00Z"))
        .unwrap();
    insta::assert_snapshot!(signed.to_presentation(PresentationOptions::default()));
}

#[test]
fn snapshot_rsasha256_nsec3() {
    let signed = snapshot_signer(KeyAlgorithm::RsaSha256, Denial::default())
        .sign(&small_zone(), ts("2026-01-01T00:00:00Z"))
        .unwrap();
    insta::assert_snapshot!(signed.to_presentation(PresentationOptions::default()));
}

#[test]
fn snapshot_ecdsa_nsec3_opt_out_masked() {
    let signed = snapshot_signer(KeyAlgorithm::EcdsaP256Sha256, opt_out())
        .sign(&small_zone(), ts("2026-01-01T00:00:00Z"))
        .unwrap();
    insta::assert_snapshot!(signed.to_presentation(PresentationOptions {
        mask_signatures: true
    }));
}

#[test]
fn deferred_signatures_are_the_eager_ones_made_when_first_read() {
    let now = ts("2026-01-01T00:00:00Z");
    for algorithm in KeyAlgorithm::ALL {
        for denial in denials() {
            let keys = ksk_zsk(algorithm);
            let eager = ZoneSigner::new(keys.clone(), policy(denial.clone())).unwrap();
            let lazy = ZoneSigner::new(
                keys.clone(),
                SigningPolicy {
                    defer_signatures: true,
                    ..policy(denial.clone())
                },
            )
            .unwrap();
            let e = eager.sign(&small_zone(), now).unwrap();
            let l = lazy.sign(&small_zone(), now).unwrap();
            let rrsets: Vec<&SignedRrset> = all_rrsets(&l).into_iter().map(|(s, _)| s).collect();
            let what = format!("{algorithm:?} {denial:?}");
            // Prepared, counted and timed, but not one signature made.
            assert_eq!(l.stats(), e.stats(), "{what}");
            assert_eq!(l.earliest_expiration(), e.earliest_expiration(), "{what}");
            assert!(
                rrsets.iter().all(|s| !s.is_signed() || !s.rrsigs.is_made()),
                "{what}"
            );
            assert!(rrsets.iter().any(|s| s.is_signed()), "{what}");
            // One read signs one RRset.
            let mail = l
                .node(&n("mail.example."))
                .unwrap()
                .rrset(RecordType::A)
                .unwrap();
            assert_eq!(mail.rrsigs().len(), 1, "{what}");
            assert_eq!(
                rrsets.iter().filter(|s| s.rrsigs.is_made()).count(),
                rrsets.iter().filter(|s| !s.is_signed()).count() + 1,
                "{what}"
            );
            // Once made, they are what the eager signer makes (ECDSA signs with a random
            // nonce: the same fields, and every read of one snapshot the same bytes).
            verify_zone(&l, &[now], &roles(&keys));
            let masked = PresentationOptions {
                mask_signatures: true,
            };
            let first_read = l.to_presentation(PresentationOptions::default());
            assert_eq!(
                first_read,
                l.to_presentation(PresentationOptions::default())
            );
            if algorithm == KeyAlgorithm::EcdsaP256Sha256 {
                assert_eq!(
                    l.to_presentation(masked),
                    e.to_presentation(masked),
                    "{what}"
                );
            } else {
                assert_eq!(
                    first_read,
                    e.to_presentation(PresentationOptions::default()),
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn a_snapshot_derived_from_a_deferred_one_shares_its_signatures() {
    let now = ts("2026-01-01T00:00:00Z");
    let keys = ksk_zsk(KeyAlgorithm::EcdsaP256Sha256);
    let signer = ZoneSigner::new(
        keys.clone(),
        SigningPolicy {
            defer_signatures: true,
            ..policy(Denial::Nsec)
        },
    )
    .unwrap();
    let mut zone = small_zone();
    zone.take_changes();
    let first = signer.sign(&zone, now).unwrap();
    let mail = |z: &SignedZone| {
        z.node(&n("mail.example."))
            .unwrap()
            .rrset(RecordType::A)
            .unwrap()
            .clone()
    };
    let read = mail(&first).rrsigs().to_vec();
    zone.add_text("new.example. 3600 TXT \"x\"").unwrap();
    let changes = zone.take_changes();
    let second = signer.update(&first, &zone, &changes, now).unwrap();
    // Kept, not made again: the same (randomised) ECDSA bytes, already there.
    assert!(mail(&second).rrsigs.is_made());
    assert_eq!(mail(&second).rrsigs(), &read[..]);
    // The new name's RRset waits for its first reader, in the new snapshot only.
    let txt = second
        .node(&n("new.example."))
        .unwrap()
        .rrset(RecordType::TXT)
        .unwrap();
    assert!(txt.is_signed() && !txt.rrsigs.is_made());
    assert!(second.stats().signatures_made >= 1);
    verify_zone(&second, &[now], &roles(&keys));
}

fn tld_with(count: usize) -> Zone {
    let origin = n("tld.");
    let mut zone = Zone::new(origin.clone(), soa(&origin), 3600).unwrap();
    zone.add_text("tld. 3600 NS ns1.tld.").unwrap();
    zone.add_text("ns1.tld. 3600 A 192.0.2.1").unwrap();
    let child = ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 3));
    for i in 0..count {
        let name = n(&format!("d{i}.tld."));
        let ds = if i % 2 == 0 {
            vec![child.ds(&name, crate::DsDigest::Sha256).unwrap()]
        } else {
            vec![]
        };
        zone.set_delegation(&Delegation {
            name: name.clone(),
            ttl: 3600,
            ns: vec![name.prepend_label("ns").unwrap()],
            glue: vec![(
                name.prepend_label("ns").unwrap(),
                "192.0.2.2".parse().unwrap(),
            )],
            ds,
        })
        .unwrap();
    }
    zone
}

#[test]
fn update_touches_only_the_change_and_its_neighbours() {
    let now = ts("2026-01-01T00:00:00Z");
    for denial in denials() {
        let signer = snapshot_signer(KeyAlgorithm::Ed25519, denial.clone());
        let mut zone = tld_with(300);
        let first = signer.sign(&zone, now).unwrap();
        zone.take_changes();
        let name = n("new.tld.");
        zone.set_delegation(&Delegation {
            name: name.clone(),
            ttl: 3600,
            ns: vec![n("ns.elsewhere.")],
            glue: vec![],
            ds: vec![
                ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 2))
                    .ds(&name, crate::DsDigest::Sha256)
                    .unwrap(),
            ],
        })
        .unwrap();
        let changes = zone.take_changes();
        let later = now + SignedDuration::from_hours(1);
        let second = signer.update(&first, &zone, &changes, later).unwrap();
        let stats = second.stats();
        // SOA, the new DS, the new name's NSEC/NSEC3 and its predecessor's.
        assert!(stats.signatures_made <= 4, "{denial:?}: {stats:?}");
        assert!(stats.names_rebuilt <= 3, "{denial:?}: {stats:?}");
        assert_eq!(second.serial(), first.serial() + 1);
        verify_zone(&second, &[later], &roles(signer.keys()));
        check_chain(&second, &denial);
        // The old snapshot is untouched.
        assert!(first.node(&name).is_none());
        check_chain(&first, &denial);

        // And back out.
        zone.remove_delegation(&name);
        let changes = zone.take_changes();
        let third = signer.update(&second, &zone, &changes, later).unwrap();
        assert!(
            third.stats().signatures_made <= 2,
            "{denial:?}: {:?}",
            third.stats()
        );
        check_chain(&third, &denial);
        verify_zone(&third, &[later], &roles(signer.keys()));
    }
}

#[test]
fn resign_keeps_signatures_until_the_refresh_threshold() {
    let now = ts("2026-01-01T00:00:00Z");
    let signer = snapshot_signer(KeyAlgorithm::Ed25519, Denial::default());
    let zone = small_zone();
    let first = signer.sign(&zone, now).unwrap();
    let total = first.stats().signatures_made;
    assert_eq!(
        first.earliest_expiration(),
        Some(ts("2026-01-15T00:00:00Z"))
    );
    assert!(!signer.needs_refresh(&first, now + SignedDuration::from_hours(24)));
    assert!(signer.needs_refresh(&first, now + SignedDuration::from_hours(8 * 24)));
    // A day later every signature still lasts beyond now + refresh (7 days): all reused.
    let day = signer
        .resign(&first, &zone, now + SignedDuration::from_hours(24))
        .unwrap();
    assert_eq!(
        day.stats().signatures_reused,
        total - 1,
        "all but the new SOA"
    );
    assert_eq!(day.stats().signatures_made, 1);
    // Eight days later they would expire within the refresh period: all made anew.
    let later = now + SignedDuration::from_hours(8 * 24);
    let week = signer.resign(&day, &zone, later).unwrap();
    assert_eq!(week.stats().signatures_reused, 0);
    verify_zone(&week, &[later], &roles(signer.keys()));
}

#[test]
fn an_update_when_a_refresh_is_due_refreshes_every_signature() {
    let now = ts("2026-01-01T00:00:00Z");
    let signer = snapshot_signer(KeyAlgorithm::Ed25519, Denial::Nsec);
    let mut zone = small_zone();
    let first = signer.sign(&zone, now).unwrap();
    zone.take_changes();
    // Eight days on, within the refresh period of every signature: a publication with no
    // changed names (an operator bumps the serial and publishes) must refresh them all, the
    // names below the apex too, or they expire and the refresh stays due.
    let later = now + SignedDuration::from_hours(8 * 24);
    assert!(signer.needs_refresh(&first, later));
    let second = signer
        .update(&first, &zone, &BTreeSet::new(), later)
        .unwrap();
    assert!(
        !signer.needs_refresh(&second, later),
        "{:?}",
        second.stats()
    );
    assert_eq!(second.stats().signatures_reused, 0);
    assert_eq!(second.serial(), first.serial() + 1);
    let expired = ts("2026-01-15T00:00:01Z");
    verify_zone(&second, &[later, expired], &roles(signer.keys()));
}

#[test]
fn a_new_negative_ttl_reaches_every_nsec3() {
    let now = ts("2026-01-01T00:00:00Z");
    let signer = snapshot_signer(KeyAlgorithm::Ed25519, Denial::default());
    let mut zone = small_zone();
    let first = signer.sign(&zone, now).unwrap();
    zone.take_changes();
    let mut soa = zone.soa().clone();
    soa.minimum = 60;
    zone.set_rrset(crate::RrSet::new(n("example."), 3600, [RData::SOA(soa)]).unwrap())
        .unwrap();
    let changes = zone.take_changes();
    let second = signer.update(&first, &zone, &changes, now).unwrap();
    assert_eq!(second.negative_ttl(), 60);
    assert!(second.nsec3_chain().all(|e| e.rrset().ttl() == 60));
    verify_zone(&second, &[now], &roles(signer.keys()));
}

#[test]
fn key_changes_fall_back_to_a_full_resign() {
    let now = ts("2026-01-01T00:00:00Z");
    let zone = small_zone();
    let old = snapshot_signer(KeyAlgorithm::Ed25519, Denial::Nsec);
    let first = old.sign(&zone, now).unwrap();
    // Pre-publish a foreign ZSK (what key relay delivers): only the DNSKEY RRset changes.
    let mut keys = old.keys().to_vec();
    keys.push(ZoneKey::foreign(
        fixture_keys::key(KeyAlgorithm::Ed25519, 2).dnskey(256),
    ));
    let new = ZoneSigner::new(keys.clone(), policy(Denial::Nsec)).unwrap();
    let second = new.update(&first, &zone, &BTreeSet::new(), now).unwrap();
    assert_eq!(second.dnskeys().unwrap().records().len(), 3);
    assert_eq!(second.stats().signatures_made, 2, "SOA and DNSKEY");
    verify_zone(&second, &[now], &roles(&keys));
}

fn label() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "c", "mx", "www", "z9", "ns", "x-y"]).prop_map(String::from)
}

fn owner() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..=3)
        .prop_map(|labels| format!("{}.example.", labels.join(".")))
}

#[derive(Debug, Clone)]
enum Op {
    Host(String, u8),
    Delegate(String, bool, bool),
    RemoveName(String),
    Undelegate(String),
    /// `*.owner` with an A, a TXT or a CNAME (RFC 4592).
    Wildcard(String, u8),
    /// A DNAME at the owner (RFC 6672).
    Dname(String),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (owner(), 0u8..3).prop_map(|(o, t)| Op::Host(o, t)),
        2 => (owner(), any::<bool>(), any::<bool>()).prop_map(|(o, ds, glue)| Op::Delegate(o, ds, glue)),
        1 => owner().prop_map(Op::RemoveName),
        1 => owner().prop_map(Op::Undelegate),
        2 => (owner(), 0u8..3).prop_map(|(o, t)| Op::Wildcard(o, t)),
        1 => owner().prop_map(Op::Dname),
    ]
}

fn apply(zone: &mut Zone, op: &Op) {
    match op {
        Op::Host(o, t) => {
            let line = match t {
                0 => format!("{o} 600 A 192.0.2.7"),
                1 => format!("{o} 600 TXT \"t\""),
                _ => format!("{o} 600 AAAA 2001:db8::7"),
            };
            zone.add_text(&line).unwrap();
        }
        Op::Delegate(o, ds, glue) => {
            let name = n(o);
            let ds = if *ds {
                vec![
                    ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 2))
                        .ds(&name, crate::DsDigest::Sha256)
                        .unwrap(),
                ]
            } else {
                vec![]
            };
            let host = name.prepend_label("ns").unwrap();
            let glue = if *glue {
                vec![(host.clone(), "192.0.2.9".parse().unwrap())]
            } else {
                vec![]
            };
            zone.set_delegation(&Delegation {
                name,
                ttl: 600,
                ns: vec![host, n("ns.elsewhere.")],
                glue,
                ds,
            })
            .unwrap();
        }
        Op::RemoveName(o) => zone.remove_name(&n(o)),
        Op::Undelegate(o) => {
            zone.remove_delegation(&n(o));
        }
        Op::Wildcard(o, t) => {
            let w = n(o).prepend_label("*").unwrap();
            let at = zone.rrsets_at(&w);
            let has_cname = at.is_some_and(|t| t.contains_key(&RecordType::CNAME));
            let has_other = at.is_some_and(|t| t.keys().any(|k| *k != RecordType::CNAME));
            // CNAME and other data never share an owner (RFC 1034 §3.6.2).
            let line = match t {
                0 if !has_cname => format!("{w} 600 A 192.0.2.8"),
                1 if !has_cname => format!("{w} 600 TXT \"w\""),
                2 if !has_other => format!("{w} 600 CNAME www.example."),
                _ => return,
            };
            zone.add_text(&line).unwrap();
        }
        Op::Dname(o) => {
            // A DNAME never shares its owner with a delegation (RFC 6672 §2.3).
            if zone.rrset(&n(o), RecordType::NS).is_none() {
                zone.add_text(&format!("{o} 600 DNAME target.elsewhere."))
                    .unwrap();
            }
        }
    }
}

fn base_zone() -> Zone {
    let origin = n("example.");
    let mut zone = Zone::new(origin.clone(), soa(&origin), 3600).unwrap();
    zone.add_text("example. 3600 NS ns1.example.").unwrap();
    zone.add_text("ns1.example. 3600 A 192.0.2.1").unwrap();
    zone
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random zones: every signature verifies, the chains are closed and ordered, and every
    /// lookup's proof proves it, for NSEC, NSEC3 and NSEC3 opt-out.
    #[test]
    fn random_zones_sign_correctly(
        ops in prop::collection::vec(op(), 0..25),
        queries in prop::collection::vec((owner(), 0usize..4), 0..20),
        denial in 0usize..3,
    ) {
        let denial = denials()[denial].clone();
        let mut zone = base_zone();
        for o in &ops {
            apply(&mut zone, o);
        }
        let now = ts("2026-01-01T00:00:00Z");
        let keys = ksk_zsk(KeyAlgorithm::Ed25519);
        let signer = ZoneSigner::new(keys.clone(), policy(denial.clone())).unwrap();
        let signed = signer.sign(&zone, now).unwrap();
        verify_zone(&signed, &[now], &roles(&keys));
        check_chain(&signed, &denial);
        let types = [RecordType::A, RecordType::DS, RecordType::NS, RecordType::MX];
        for (q, t) in queries {
            check_lookup(&signed, &n(&q), types[t]);
        }
        for node in signed.nodes() {
            check_lookup(&signed, node.name(), RecordType::MX);
            check_lookup(&signed, node.name(), RecordType::DS);
            check_lookup(&signed, &node.name().prepend_label("nx").unwrap(), RecordType::A);
        }
    }

    /// Updating a snapshot after random changes gives exactly the zone a full signing gives
    /// (Ed25519 is deterministic, so the text must match byte for byte).
    #[test]
    fn incremental_update_equals_full_signing(
        before in prop::collection::vec(op(), 0..20),
        after in prop::collection::vec(op(), 1..8),
        denial in 0usize..3,
    ) {
        let denial = denials()[denial].clone();
        let mut zone = base_zone();
        for o in &before {
            apply(&mut zone, o);
        }
        let now = ts("2026-01-01T00:00:00Z");
        let signer = ZoneSigner::new(ksk_zsk(KeyAlgorithm::Ed25519), policy(denial.clone())).unwrap();
        let first = signer.sign(&zone, now).unwrap();
        zone.take_changes();
        for o in &after {
            apply(&mut zone, o);
        }
        let changes = zone.take_changes();
        let updated = signer.update(&first, &zone, &changes, now).unwrap();
        let mut same = zone.clone();
        same.set_serial(updated.serial());
        let full = signer.sign(&same, now).unwrap();
        prop_assert_eq!(
            updated.to_presentation(PresentationOptions::default()),
            full.to_presentation(PresentationOptions::default())
        );
        prop_assert_eq!(updated.node_count(), full.node_count());
        check_chain(&updated, &denial);
    }
}

/// Cross-check with a real validator implementation: `ldns-verify-zone` (ldnsutils, which
/// `ci/test` installs) checks every RRSIG and the NSEC/NSEC3 chain of our output. Skipped when
/// the tool is absent. (Opt-out is left out: the tool reports opted-out delegations as errors.)
#[test]
fn ldns_verify_zone_accepts_our_zones() {
    if std::process::Command::new("ldns-verify-zone")
        .arg("-v")
        .output()
        .is_err()
    {
        eprintln!("ldns-verify-zone not installed: skipping the cross-check");
        return;
    }
    let now = ts("2026-01-01T00:00:00Z");
    let dir = std::env::temp_dir().join(format!("dns-ldns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for algorithm in KeyAlgorithm::ALL {
        for denial in [Denial::Nsec, Denial::default()] {
            let signed = snapshot_signer(algorithm, denial.clone())
                .sign(&small_zone(), now)
                .unwrap();
            let file = dir.join(format!(
                "{algorithm}-{}.zone",
                matches!(denial, Denial::Nsec)
            ));
            std::fs::write(
                &file,
                signed.to_presentation(PresentationOptions::default()),
            )
            .unwrap();
            let out = std::process::Command::new("ldns-verify-zone")
                .args(["-t", "20260101000000"])
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{algorithm} {denial:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unsigned_snapshots_carry_no_dnssec_records() {
    let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let signed = ZoneSigner::unsigned(SigningPolicy::default())
        .sign(&small_zone(), now)
        .unwrap();
    assert!(signed.dnskeys().is_none(), "no DNSKEY RRset");
    check_chain(&signed, &Denial::None);
    for n in signed.nodes() {
        for r in n.rrsets() {
            assert!(
                r.rrsigs().is_empty(),
                "{} {} is signed",
                r.name(),
                r.record_type()
            );
        }
    }
    let nope: Name = "nope.example.".parse().unwrap();
    match signed.lookup(&nope, RecordType::A) {
        Lookup::NxDomain { proof } => assert!(proof.is_empty()),
        other => panic!("{other:?}"),
    }
    let mail: Name = "mail.example.".parse().unwrap();
    assert!(
        matches!(signed.lookup(&mail, RecordType::A), Lookup::Answer(a) if a.rrsigs().is_empty())
    );
}

/// RFC 7344 §4.1: a parent acts on CDS/CDNSKEY only when a key with a DS signs them, so the
/// apex CDS and CDNSKEY carry the KSK's signature as well as the ZSK's; other data only the
/// ZSK's, and the DNSKEY RRset only the KSK's.
#[test]
fn cds_and_cdnskey_are_signed_by_ksk_and_zsk() {
    let origin = n("example.");
    let keys = ksk_zsk(KeyAlgorithm::EcdsaP256Sha256);
    let (ksk, zsk) = (keys[0].key_tag(), keys[1].key_tag());
    let mut zone = small_zone();
    let cds = crate::keys::cds_from_dnskey(&origin, keys[0].dnskey(), crate::DsDigest::Sha256)
        .expect("a CDS of the KSK");
    let cds = RData::DNSSEC(DNSSECRData::CDS(cds));
    let cdnskey = RData::DNSSEC(DNSSECRData::CDNSKEY(crate::keys::cdnskey_from_dnskey(
        keys[0].dnskey(),
    )));
    zone.set_rrset(RrSet::new(origin.clone(), 3600, [cds]).unwrap())
        .unwrap();
    zone.set_rrset(RrSet::new(origin.clone(), 3600, [cdnskey]).unwrap())
        .unwrap();
    let signed = ZoneSigner::new(keys, policy(Denial::Nsec))
        .unwrap()
        .sign(&zone, ts("2026-03-02T09:00:00Z"))
        .unwrap();
    let apex = signed.node(&origin).unwrap();
    let tags = |t: RecordType| -> BTreeSet<u16> {
        apex.rrset(t)
            .unwrap()
            .rrsigs()
            .iter()
            .filter_map(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::RRSIG(s)) => Some(s.input().key_tag),
                _ => None,
            })
            .collect()
    };
    assert_eq!(tags(RecordType::CDS), BTreeSet::from([ksk, zsk]));
    assert_eq!(tags(RecordType::CDNSKEY), BTreeSet::from([ksk, zsk]));
    assert_eq!(tags(RecordType::DNSKEY), BTreeSet::from([ksk]));
    assert_eq!(tags(RecordType::SOA), BTreeSet::from([zsk]));
    let bitmap = apex.nsec().unwrap();
    let RData::DNSSEC(DNSSECRData::NSEC(nsec)) = &bitmap.records()[0].data else {
        panic!("an NSEC at the apex")
    };
    let types: Vec<RecordType> = nsec.type_bit_maps().collect();
    assert!(types.contains(&RecordType::CDS) && types.contains(&RecordType::CDNSKEY));
}
