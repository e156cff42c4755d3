//! Helpers shared by the DNS tests: small zones, and checkers that verify a signed zone the way
//! a validator would (every RRSIG with hickory's verifier, chains closed, proofs sound).
//!
//! Test support (feature `test-support`): these helpers panic on a failed check or a bad
//! fixture, since in a test the panic is the failure report.
#![allow(
    clippy::unwrap_used,
    reason = "test support: a panic is the failure report"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, NSEC, NSEC3};
use hickory_proto::dnssec::{PublicKey, Verifier};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};
use jiff::Timestamp;

#[cfg(test)]
use super::DsDigest;
use super::ZoneKey;
use super::fixture_keys;
use super::keys::{KeyAlgorithm, KeyRole, key_tag};
#[cfg(test)]
use super::signed::Lookup;
use super::signed::{NodeKind, SignedRrset, SignedZone};
#[cfg(test)]
use super::zone::{Delegation, Zone};

/// A name from text (panics on a bad one).
pub fn n(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

/// An instant from RFC 3339 text (panics on a bad one).
pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A SOA for `origin` with `ns1` and `hostmaster` under it, serial 1, minimum 300.
pub fn soa(origin: &Name) -> SOA {
    SOA::new(
        origin.prepend_label("ns1").unwrap(),
        origin.prepend_label("hostmaster").unwrap(),
        2026010101,
        7200,
        3600,
        1_209_600,
        600,
    )
}

/// KSK + ZSK of one algorithm from the fixtures.
pub fn ksk_zsk(algorithm: KeyAlgorithm) -> Vec<ZoneKey> {
    vec![
        ZoneKey::ksk(fixture_keys::key(algorithm, 0)),
        ZoneKey::zsk(fixture_keys::key(algorithm, 1)),
    ]
}

/// A small zone with everything the signer must handle: apex data, a host, an empty
/// non-terminal (`b.example.` above `a.b.example.`), a CNAME, a secure delegation with in-zone
/// glue, an insecure one with out-of-zone name servers.
#[cfg(test)]
pub(crate) fn small_zone() -> Zone {
    let origin = n("example.");
    let mut zone = Zone::new(origin.clone(), soa(&origin), 3600).unwrap();
    for line in [
        "example. 3600 NS ns1.example.",
        "example. 3600 NS ns2.example.",
        "example. 300 MX 10 mail.example.",
        "ns1.example. 3600 A 192.0.2.1",
        "ns2.example. 3600 AAAA 2001:db8::2",
        "mail.example. 300 A 192.0.2.25",
        "a.b.example. 300 TXT \"deep\"",
        "www.example. 300 CNAME mail.example.",
    ] {
        zone.add_text(line).unwrap();
    }
    let child_key = ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 3));
    zone.set_delegation(&Delegation {
        name: n("secure.example."),
        ttl: 86400,
        ns: vec![n("ns.secure.example.")],
        glue: vec![(n("ns.secure.example."), "192.0.2.53".parse().unwrap())],
        ds: vec![
            child_key
                .ds(&n("secure.example."), DsDigest::Sha256)
                .unwrap(),
        ],
    })
    .unwrap();
    zone.set_delegation(&Delegation {
        name: n("insecure.example."),
        ttl: 86400,
        ns: vec![n("ns1.elsewhere.net."), n("ns2.elsewhere.net.")],
        glue: vec![],
        ds: vec![],
    })
    .unwrap();
    zone
}

fn dnskeys(zone: &SignedZone) -> Vec<DNSKEY> {
    zone.dnskeys()
        .map(|s| {
            s.records()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some(k.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every signed RRset of the zone (node RRsets, NSECs, NSEC3s).
pub(crate) fn all_rrsets(zone: &SignedZone) -> Vec<(&SignedRrset, NodeKind)> {
    let mut out = Vec::new();
    for node in zone.nodes() {
        for s in node.rrsets() {
            out.push((s, node.kind()));
        }
        if let Some(nsec) = node.nsec() {
            out.push((nsec, node.kind()));
        }
    }
    for e in zone.nsec3_chain() {
        out.push((e.rrset(), NodeKind::Authoritative));
    }
    out
}

/// Checks every RRSIG like a validator at each of `instants`, and the signing rules: which
/// RRsets are signed, by which roles, and by every algorithm of the DNSKEY RRset.
pub fn verify_zone(zone: &SignedZone, instants: &[Timestamp], roles: &BTreeMap<u16, KeyRole>) {
    let keys = dnskeys(zone);
    let algorithms: BTreeSet<u8> = keys
        .iter()
        .map(|k| u8::from(k.public_key().algorithm()))
        .collect();
    for (rrset, kind) in all_rrsets(zone) {
        let t = rrset.record_type();
        let must_be_signed = match kind {
            NodeKind::Occluded | NodeKind::EmptyNonTerminal => false,
            NodeKind::Delegation => t == RecordType::DS || t == RecordType::NSEC,
            NodeKind::Apex | NodeKind::Authoritative => true,
        };
        if !must_be_signed {
            assert!(
                rrset.rrsigs().is_empty(),
                "{} {t} must not be signed",
                rrset.name()
            );
            continue;
        }
        let mut signed_algorithms = BTreeSet::new();
        for sig in rrset.rrsigs() {
            let RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) = &sig.data else {
                panic!("not an RRSIG")
            };
            let input = rrsig.input();
            assert_eq!(input.type_covered, t);
            assert_eq!(&input.signer_name, zone.origin());
            assert_eq!(input.original_ttl, rrset.ttl());
            assert_eq!(sig.ttl, rrset.ttl());
            for now in instants {
                let now = u32::try_from(now.as_second()).unwrap();
                assert!(
                    input.sig_inception.get() <= now && now <= input.sig_expiration.get(),
                    "{} {t}: not valid at {now}",
                    rrset.name()
                );
            }
            let key = keys
                .iter()
                .find(|k| {
                    key_tag(k) == input.key_tag && k.public_key().algorithm() == input.algorithm
                })
                .unwrap_or_else(|| panic!("{} {t}: no DNSKEY {}", rrset.name(), input.key_tag));
            key.verify_rrsig(rrset.name(), DNSClass::IN, rrsig, rrset.records().iter())
                .unwrap_or_else(|e| panic!("{} {t}: {e}", rrset.name()));
            let role = roles[&input.key_tag];
            if t == RecordType::DNSKEY {
                assert!(role.signs_dnskey(), "{role} signed the DNSKEY RRset");
            } else {
                assert!(role.signs_zone_data(), "{role} signed {} {t}", rrset.name());
            }
            signed_algorithms.insert(u8::from(input.algorithm));
        }
        assert_eq!(
            signed_algorithms,
            algorithms,
            "{} {t}: RFC 4035 §2.2 wants every algorithm",
            rrset.name()
        );
    }
}

/// Roles by key tag, for [`verify_zone`].
pub fn roles(keys: &[ZoneKey]) -> BTreeMap<u16, KeyRole> {
    keys.iter().map(|k| (k.key_tag(), k.role())).collect()
}

fn nsec_of(rrset: &SignedRrset) -> &NSEC {
    match &rrset.records()[0].data {
        RData::DNSSEC(DNSSECRData::NSEC(n)) => n,
        other => panic!("not an NSEC: {other:?}"),
    }
}

fn nsec3_of(rrset: &SignedRrset) -> &NSEC3 {
    match &rrset.records()[0].data {
        RData::DNSSEC(DNSSECRData::NSEC3(n)) => n,
        other => panic!("not an NSEC3: {other:?}"),
    }
}

/// The types a node's bitmap must list (without RRSIG/NSEC).
fn expected_types(zone: &SignedZone, name: &Name) -> BTreeSet<RecordType> {
    let node = zone.node(name).unwrap();
    node.rrsets()
        .iter()
        .map(SignedRrset::record_type)
        .filter(|t| match node.kind() {
            NodeKind::Delegation => matches!(t, RecordType::NS | RecordType::DS),
            NodeKind::Apex | NodeKind::Authoritative => true,
            _ => false,
        })
        .collect()
}

/// The NSEC chain visits every apex/authoritative/cut name once, in canonical order, closes at
/// the apex, and each bitmap lists exactly the name's types plus RRSIG and NSEC.
pub fn check_nsec_chain(zone: &SignedZone) {
    let members: Vec<&Name> = zone
        .nodes()
        .filter(|n| n.kind().in_nsec_chain())
        .map(|n| n.name())
        .collect();
    assert_eq!(members[0], zone.origin());
    for (i, name) in members.iter().enumerate() {
        let node = zone.node(name).unwrap();
        let nsec = node.nsec().unwrap_or_else(|| panic!("no NSEC at {name}"));
        let next = members.get(i + 1).copied().unwrap_or(zone.origin());
        assert_eq!(nsec_of(nsec).next_domain_name(), next, "NSEC at {name}");
        let types: BTreeSet<RecordType> = nsec_of(nsec).type_bit_maps().collect();
        let mut want = expected_types(zone, name);
        want.extend([RecordType::NSEC, RecordType::RRSIG]);
        assert_eq!(types, want, "bitmap at {name}");
    }
    for node in zone.nodes().filter(|n| !n.kind().in_nsec_chain()) {
        assert!(node.nsec().is_none(), "{} must have no NSEC", node.name());
    }
    assert_eq!(zone.nsec3_chain().count(), 0);
}

/// The NSEC3 chain has one entry per apex/authoritative/ENT/cut name (cuts without DS only
/// without opt-out), in hash order, each pointing at the next and the last at the first.
pub fn check_nsec3_chain(zone: &SignedZone, opt_out: bool) {
    let entries: Vec<_> = zone.nsec3_chain().collect();
    let mut owners = BTreeSet::new();
    for (i, e) in entries.iter().enumerate() {
        let next = entries[(i + 1) % entries.len()];
        let nsec3 = nsec3_of(e.rrset());
        let next_hash = zone.nsec3_hash(next.owner()).unwrap();
        assert_eq!(
            nsec3.next_hashed_owner_name(),
            next_hash,
            "after {}",
            e.owner()
        );
        assert_eq!(nsec3.opt_out(), opt_out);
        let own = zone.nsec3_hash(e.owner()).unwrap();
        let label = data_encoding::BASE32_DNSSEC.encode(&own);
        assert_eq!(
            e.rrset().name(),
            &zone.origin().prepend_label(label).unwrap()
        );
        if i > 0 {
            assert!(zone.nsec3_hash(entries[i - 1].owner()).unwrap() < own);
        }
        let types: BTreeSet<RecordType> = nsec3.type_bit_maps().collect();
        let mut want = expected_types(zone, e.owner());
        let node = zone.node(e.owner()).unwrap();
        if node.kind() != NodeKind::EmptyNonTerminal
            && (node.kind() != NodeKind::Delegation || want.contains(&RecordType::DS))
        {
            want.insert(RecordType::RRSIG);
        }
        assert_eq!(types, want, "NSEC3 bitmap of {}", e.owner());
        assert!(owners.insert(e.owner().clone()));
    }
    for node in zone.nodes() {
        let member = match node.kind() {
            NodeKind::Apex | NodeKind::Authoritative | NodeKind::EmptyNonTerminal => true,
            NodeKind::Delegation => !opt_out || node.rrset(RecordType::DS).is_some(),
            NodeKind::Occluded => false,
        };
        assert_eq!(owners.contains(node.name()), member, "{}", node.name());
        assert!(node.nsec().is_none());
    }
}

/// Whether `name` lies strictly between `owner` and `next` in canonical order (with wrap).
#[cfg(test)]
fn covers(owner: &Name, next: &Name, name: &Name) -> bool {
    if owner < next {
        owner < name && name < next
    } else {
        name > owner || name < next
    }
}

#[cfg(test)]
fn hash_covers(owner: &[u8], next: &[u8], h: &[u8]) -> bool {
    if owner < next {
        owner < h && h < next
    } else {
        h > owner || h < next
    }
}

#[cfg(test)]
fn nsec3_owner_hash(zone: &SignedZone, rrset: &SignedRrset) -> Vec<u8> {
    let label = rrset.name().iter().next().unwrap();
    let _ = zone;
    data_encoding::BASE32_DNSSEC.decode(label).unwrap()
}

/// Checks that `lookup(qname, qtype)` gives an answer whose proofs prove it.
#[cfg(test)]
pub(crate) fn check_lookup(zone: &SignedZone, qname: &Name, qtype: RecordType) {
    let nsec3 = zone.nsec3_chain().next().is_some();
    let covered_nsec = |proof: &[&SignedRrset], target: &Name| {
        proof.iter().any(|p| {
            p.record_type() == RecordType::NSEC
                && covers(p.name(), nsec_of(p).next_domain_name(), target)
        })
    };
    let covered_nsec3 = |proof: &[&SignedRrset], target: &Name| {
        let h = zone.nsec3_hash(target).unwrap();
        proof.iter().any(|p| {
            p.record_type() == RecordType::NSEC3
                && hash_covers(
                    &nsec3_owner_hash(zone, p),
                    nsec3_of(p).next_hashed_owner_name(),
                    &h,
                )
        })
    };
    let matched_nsec3 = |proof: &[&SignedRrset], target: &Name| -> Option<BTreeSet<RecordType>> {
        let h = zone.nsec3_hash(target).unwrap();
        proof
            .iter()
            .find(|p| p.record_type() == RecordType::NSEC3 && nsec3_owner_hash(zone, p) == h)
            .map(|p| nsec3_of(p).type_bit_maps().collect())
    };
    match zone.lookup(qname, qtype) {
        Lookup::Answer(rrset) => {
            assert_eq!(rrset.name(), qname);
            assert_eq!(rrset.record_type(), qtype);
        }
        Lookup::Cname(c) => assert_eq!(c.name(), qname),
        Lookup::Wildcard { rrset, proof } => {
            assert!(zone.node(qname).is_none(), "{qname} exists");
            assert!(crate::zone::is_wildcard(rrset.name()));
            assert!(rrset.name().base_name().zone_of(qname));
            assert!(proof.iter().all(|p| p.is_signed()));
            let ce = rrset.name().base_name();
            if nsec3 {
                let next_closer = qname.trim_to(crate::zone::label_count(&ce) + 1);
                assert!(
                    covered_nsec3(&proof, &next_closer),
                    "next closer {next_closer}"
                );
            } else {
                assert!(covered_nsec(&proof, qname), "{qname} not covered");
            }
        }
        Lookup::Dname(d) => {
            assert_eq!(d.record_type(), RecordType::DNAME);
            assert!(d.name().zone_of(qname) && d.name() != qname);
        }
        Lookup::NotInZone => assert!(!zone.origin().zone_of(qname)),
        Lookup::Referral(r) => {
            assert!(r.cut.zone_of(qname));
            assert_eq!(r.ns.record_type(), RecordType::NS);
            assert!(r.ns.rrsigs().is_empty());
            match r.ds {
                Some(ds) => assert!(!ds.rrsigs().is_empty()),
                None => {
                    if nsec3 {
                        match matched_nsec3(&r.no_ds_proof, r.cut) {
                            Some(types) => assert!(!types.contains(&RecordType::DS)),
                            None => {
                                // Opt-out: covering NSEC3 with the flag for the next closer.
                                assert!(r.no_ds_proof.iter().any(|p| nsec3_of(p).opt_out()));
                                assert!(
                                    covered_nsec3(&r.no_ds_proof, r.cut) || {
                                        // the next closer may be an ancestor of the cut
                                        let apex = crate::zone::label_count(zone.origin());
                                        covered_nsec3(&r.no_ds_proof, &r.cut.trim_to(apex + 1))
                                    }
                                );
                            }
                        }
                    } else {
                        let nsec = r.no_ds_proof.iter().find(|p| p.name() == r.cut).unwrap();
                        let types: BTreeSet<_> = nsec_of(nsec).type_bit_maps().collect();
                        assert!(
                            types.contains(&RecordType::NS) && !types.contains(&RecordType::DS)
                        );
                    }
                }
            }
            for g in &r.glue {
                assert!(g.rrsigs().is_empty());
            }
        }
        Lookup::NoData { proof } => {
            assert!(!proof.is_empty(), "NODATA {qname} {qtype} without proof");
            assert!(proof.iter().all(|p| p.is_signed()));
            if nsec3 {
                if let Some(types) = matched_nsec3(&proof, qname) {
                    assert!(!types.contains(&qtype) && !types.contains(&RecordType::CNAME));
                } else if qtype == RecordType::DS && zone.node(qname).is_some() {
                    // DS at an opt-out cut.
                    assert!(proof.iter().any(|p| nsec3_of(p).opt_out()));
                } else {
                    // Wildcard NODATA: the closest encloser's wildcard matches without the type.
                    let ce = zone.closest_encloser(qname).name().clone();
                    let wildcard = crate::zone::wildcard_of(&ce).unwrap();
                    let types = matched_nsec3(&proof, &wildcard).expect("the wildcard's NSEC3");
                    assert!(!types.contains(&qtype) && !types.contains(&RecordType::CNAME));
                    assert!(matched_nsec3(&proof, &ce).is_some(), "no match for {ce}");
                }
            } else if let Some(nsec) = proof.iter().find(|p| p.name() == qname) {
                let types: BTreeSet<_> = nsec_of(nsec).type_bit_maps().collect();
                assert!(!types.contains(&qtype) && !types.contains(&RecordType::CNAME));
            } else if zone.node(qname).is_none() {
                // Wildcard NODATA: the name is covered, the wildcard lacks the type.
                let ce = zone.closest_encloser(qname).name().clone();
                let wildcard = crate::zone::wildcard_of(&ce).unwrap();
                let nsec = proof
                    .iter()
                    .find(|p| *p.name() == wildcard)
                    .expect("the wildcard's NSEC");
                let types: BTreeSet<_> = nsec_of(nsec).type_bit_maps().collect();
                assert!(!types.contains(&qtype) && !types.contains(&RecordType::CNAME));
                assert!(covered_nsec(&proof, qname), "{qname} not covered");
            } else {
                // Empty non-terminal: an NSEC whose next name is below qname covers it.
                assert!(proof.iter().any(|p| {
                    covers(p.name(), nsec_of(p).next_domain_name(), qname)
                        && qname.zone_of(nsec_of(p).next_domain_name())
                }));
            }
        }
        Lookup::NxDomain { proof } => {
            assert!(zone.node(qname).is_none());
            assert!(proof.iter().all(|p| p.is_signed()));
            let ce = zone.closest_encloser(qname).name().clone();
            // `*.` prepended to the closest encloser (RFC 4592 §2.1.1); hickory's
            // `into_wildcard` replaces the first label instead, which is another name.
            let wildcard = Name::from_ascii("*").unwrap().append_domain(&ce).unwrap();
            if nsec3 {
                assert!(matched_nsec3(&proof, &ce).is_some(), "no match for {ce}");
                let next_closer = qname.trim_to(crate::zone::label_count(&ce) + 1);
                assert!(
                    covered_nsec3(&proof, &next_closer),
                    "next closer {next_closer}"
                );
                assert!(covered_nsec3(&proof, &wildcard), "wildcard {wildcard}");
            } else {
                assert!(covered_nsec(&proof, qname), "{qname} not covered");
                assert!(covered_nsec(&proof, &wildcard), "{wildcard} not covered");
            }
        }
    }
}
