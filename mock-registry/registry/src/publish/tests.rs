use std::sync::Arc;

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::rr::{RData, RecordType};
use jiff::SignedDuration;

use super::*;
use crate::keydata::key_data_for;
use crate::registry::{Policy, Registry, Services};
use crate::testing::commands::{self, command, created_contact_id};
use clock::{Clock, VirtualClock};
use dnssec::signed::{Lookup, NodeKind, PresentationOptions};
use dnssec::testutil::{check_nsec_chain, check_nsec3_chain, n, roles, ts, verify_zone};
use epp::ResultCode;

fn start() -> Timestamp {
    ts("2026-01-01T00:00:00Z")
}

fn config(delay_minutes: i64) -> PublishConfig {
    let mut c = PublishConfig::new("nl").unwrap();
    c.delay = SignedDuration::from_mins(delay_minutes);
    c
}

fn publisher(delay_minutes: i64) -> Publisher {
    Publisher::new(
        config(delay_minutes),
        PublishKeys::fixtures(KeyAlgorithm::Ed25519),
        start(),
    )
    .unwrap()
}

/// A registry on a virtual clock with one registrar and a contact.
struct World {
    clock: VirtualClock,
    registry: Registry,
    contact: String,
}

impl World {
    fn new() -> Self {
        let clock = VirtualClock::new(start());
        let mut registry = Registry::new(Policy::default(), Arc::new(clock.clone()), 7);
        registry.add_registrar("registrar-a", "password-a1");
        let mut world = Self {
            clock,
            registry,
            contact: String::new(),
        };
        let r = world.run(commands::contact_create());
        world.contact = created_contact_id(&r).unwrap();
        world
    }

    fn run(&mut self, parts: commands::Parts) -> epp::message::Response {
        let r = self
            .registry
            .execute("registrar-a", &Services::all(), &command(parts));
        assert!(r.code().is_success(), "{r:?}");
        r
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn advance(&self, minutes: i64) -> Timestamp {
        self.clock
            .advance(SignedDuration::from_mins(minutes))
            .unwrap()
    }
}

fn child_ksk(i: usize) -> epp::secdns::KeyData {
    key_data_for(&fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, i).dnskey(257))
}

fn ds_at(zone: &SignedZone, name: &str) -> Vec<DS> {
    match zone.lookup(&n(name), RecordType::DS) {
        Lookup::Answer(set) => set
            .records()
            .iter()
            .filter_map(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::DS(d)) => Some(d.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn verify(p: &Publisher, at: &[Timestamp]) {
    verify_zone(&p.tld(), at, &roles(&p.keys.tld));
    verify_zone(&p.root(), at, &roles(&p.keys.root));
    check_nsec3_chain(&p.tld(), false);
    check_nsec_chain(&p.root());
}

#[test]
fn a_domain_with_key_data_appears_after_the_delay() {
    let mut world = World::new();
    let mut p = publisher(10);
    world.run(commands::host_create("ns1.hoster.net", &[]));
    let contact = world.contact.clone();
    world.run(commands::domain_create(
        "example.nl",
        &contact,
        &["ns1.hoster.net"],
        vec![child_ksk(0)],
    ));
    let t0 = world.now();
    p.observe(&world.registry, t0);
    assert!(p.tick(t0).unwrap().is_empty(), "not before the delay");
    assert!(matches!(
        p.tld().lookup(&n("example.nl."), RecordType::NS),
        Lookup::NxDomain { .. }
    ));
    let due = t0.checked_add(SignedDuration::from_mins(10)).unwrap();
    assert_eq!(p.next_deadline(), Some(due));
    world.advance(9);
    assert!(p.tick(world.now()).unwrap().is_empty());
    world.advance(1);
    let changed = p.tick(world.now()).unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].origin(), &n("nl."));
    let tld = p.tld();
    let Lookup::Referral(referral) = tld.lookup(&n("www.example.nl."), RecordType::A) else {
        panic!("no delegation")
    };
    assert_eq!(referral.ns.records().len(), 1);
    let expected = crate::registry::keys::ds_for("example.nl", &child_ksk(0)).unwrap();
    assert_eq!(ds_at(&tld, "example.nl."), [expected]);
    assert_eq!(p.pending(), 0);
    assert_eq!(
        p.publications().last().map(|x| (x.time, x.serial)),
        Some((due, tld.serial()))
    );
    verify(&p, &[due]);
}

#[test]
fn glue_goes_with_the_delegation_the_host_lies_under() {
    let mut world = World::new();
    let mut p = publisher(0);
    let contact = world.contact.clone();
    world.run(commands::domain_create("example.nl", &contact, &[], vec![]));
    world.run(commands::host_create(
        "ns1.example.nl",
        &[
            "192.0.2.53".parse().unwrap(),
            "2001:db8::53".parse().unwrap(),
        ],
    ));
    world.run(commands::domain_add(
        "example.nl",
        &["ns1.example.nl"],
        vec![],
    ));
    // Another domain delegated to the same in-TLD host: the glue stays under example.nl.
    world.run(commands::domain_create(
        "other.nl",
        &contact,
        &["ns1.example.nl"],
        vec![],
    ));
    p.observe(&world.registry, world.now());
    p.tick(world.now()).unwrap();
    let tld = p.tld();
    let node = tld.node(&n("ns1.example.nl.")).unwrap();
    assert_eq!(node.kind(), NodeKind::Occluded);
    assert!(node.rrset(RecordType::A).is_some() && node.rrset(RecordType::AAAA).is_some());
    let Lookup::Referral(r) = tld.lookup(&n("other.nl."), RecordType::A) else {
        panic!()
    };
    assert_eq!(r.glue.len(), 2, "glue for the sibling's name server");
    assert!(r.ds.is_none() && !r.no_ds_proof.is_empty());
    // Unsigned domains get no DS.
    assert!(ds_at(&tld, "example.nl.").is_empty());
    verify(&p, &[world.now()]);
}

#[test]
fn each_version_is_published_at_its_own_time_and_removals_too() {
    let mut world = World::new();
    let mut p = publisher(60);
    world.run(commands::host_create("ns1.hoster.net", &[]));
    let contact = world.contact.clone();
    world.run(commands::domain_create(
        "example.nl",
        &contact,
        &["ns1.hoster.net"],
        vec![child_ksk(0)],
    ));
    p.observe(&world.registry, world.now());
    world.advance(30);
    // A second key 30 minutes later: a DS set of two, an hour after that.
    world.run(commands::domain_add("example.nl", &[], vec![child_ksk(1)]));
    p.observe(&world.registry, world.now());
    p.observe(&world.registry, world.now()); // no change, nothing queued
    assert_eq!(p.pending(), 2);
    world.advance(30);
    assert_eq!(p.next_deadline(), Some(world.now()));
    p.tick(world.now()).unwrap();
    assert_eq!(ds_at(&p.tld(), "example.nl.").len(), 1);
    world.advance(30);
    p.tick(world.now()).unwrap();
    assert_eq!(ds_at(&p.tld(), "example.nl.").len(), 2);
    // The domain is deleted: the delegation goes, after the delay.
    let delete = (
        epp::message::CommandKind::Delete(epp::message::Delete::Domain("example.nl".into())),
        vec![],
    );
    let r = world
        .registry
        .execute("registrar-a", &Services::all(), &command(delete));
    assert_eq!(r.code(), ResultCode::Success, "{r:?}");
    p.observe(&world.registry, world.now());
    world.advance(60);
    p.tick(world.now()).unwrap();
    assert!(matches!(
        p.tld().lookup(&n("example.nl."), RecordType::DS),
        Lookup::NxDomain { .. }
    ));
    let serials: Vec<u32> = p.publications().iter().map(|x| x.serial).collect();
    assert!(serials.windows(2).all(|w| w[0] < w[1]), "{serials:?}");
    verify(&p, &[world.now()]);
}

#[test]
fn republishing_one_change_touches_only_that_delegation() {
    let mut p = publisher(0);
    let delegation = |i: usize| PublishedDelegation {
        name: format!("d{i}.nl"),
        ns: vec!["ns1.hoster.net".into()],
        glue: vec![],
        keys: vec![child_ksk(i % 4)],
    };
    let all: Vec<PublishedDelegation> = (0..200).map(delegation).collect();
    p.schedule(1, &all, start());
    p.tick(start()).unwrap();
    let mut fewer = all.clone();
    fewer.remove(100);
    p.schedule(2, &fewer, start());
    p.tick(start()).unwrap();
    let stats = p.tld().stats();
    assert!(
        stats.signatures_made <= 4,
        "one removal re-signs its NSEC3 neighbour and the SOA: {stats:?}"
    );
    assert!(stats.names_rebuilt <= 4, "{stats:?}");
}

#[test]
fn signatures_are_refreshed_before_they_expire_and_cover_the_wall_clock() {
    let mut p = publisher(0);
    let first = p.tld();
    let deadline = p.next_deadline().unwrap();
    // Signed for 14 days, refreshed 7 days before expiry.
    assert!(
        deadline
            > start()
                .checked_add(SignedDuration::from_hours(6 * 24))
                .unwrap()
    );
    assert!(
        deadline
            < start()
                .checked_add(SignedDuration::from_hours(8 * 24))
                .unwrap()
    );
    let before = deadline.checked_sub(SignedDuration::from_secs(1)).unwrap();
    assert!(p.tick(before).unwrap().is_empty());
    let changed = p.tick(deadline).unwrap();
    assert_eq!(changed.len(), 2, "root and TLD");
    assert!(p.tld().serial() > first.serial());
    assert!(p.next_deadline().unwrap() > deadline);
    verify(
        &p,
        &[
            deadline,
            deadline
                .checked_add(SignedDuration::from_hours(24 * 7))
                .unwrap(),
        ],
    );
    // A wall clock far from the scenario's, later or earlier: both zones are re-signed at
    // once to cover it too.
    for wall in [ts("2031-06-01T12:00:00Z"), ts("2025-06-01T12:00:00Z")] {
        let changed = p.set_also_valid_at(vec![wall], deadline).unwrap();
        assert_eq!(changed.len(), 2);
        verify(&p, &[deadline, wall]);
    }
}

#[test]
fn names_that_would_occlude_the_tld_name_server_are_not_delegated() {
    let mut p = publisher(0);
    let d = |name: &str| PublishedDelegation {
        name: name.into(),
        ns: vec!["ns1.hoster.net".into()],
        glue: vec![],
        keys: vec![],
    };
    p.schedule(1, &[d("dns.nl"), d("fine.nl")], start());
    p.tick(start()).unwrap();
    let tld = p.tld();
    assert!(tld.node(&n("fine.nl.")).is_some());
    assert!(matches!(
        tld.lookup(&n("ns1.dns.nl."), RecordType::A),
        Lookup::Answer(_)
    ));
}

#[test]
fn the_root_delegates_the_tld_with_its_ds_and_exports_the_anchor() {
    let p = publisher(0);
    let root = p.root();
    let tld_ksk = &p.keys.tld[0];
    assert_eq!(
        ds_at(&root, "nl."),
        [tld_ksk.ds(&n("nl."), DsDigest::Sha256).unwrap()]
    );
    let anchor = p.trust_anchor().unwrap();
    assert_eq!(anchor.dnskey, *p.keys.root[0].dnskey());
    let dir = tempfile::tempdir().unwrap();
    let files = anchor.write_files(dir.path()).unwrap();
    let key = std::fs::read_to_string(&files.dnskey).unwrap();
    assert!(key.starts_with(". 3600 IN DNSKEY 257 3 15 "), "{key}");
    let bind = std::fs::read_to_string(&files.bind).unwrap();
    assert!(
        bind.starts_with("trust-anchors {\n  . static-key 257 3 15 \""),
        "{bind}"
    );
    let ds = std::fs::read_to_string(&files.ds).unwrap();
    assert!(
        ds.starts_with(&format!(". 3600 IN DS {} 15 2 ", anchor.ds.key_tag())),
        "{ds}"
    );
    insta::assert_snapshot!("anchor", format!("{key}{ds}{bind}"));
}

#[test]
fn snapshot_published_zones() {
    let mut p = publisher(0);
    let delegations = [
        PublishedDelegation {
            name: "example.nl".into(),
            ns: vec!["ns1.example.nl".into(), "ns2.hoster.net".into()],
            glue: vec![("ns1.example.nl".into(), "192.0.2.53".parse().unwrap())],
            keys: vec![child_ksk(0)],
        },
        PublishedDelegation {
            name: "unsigned.nl".into(),
            ns: vec!["ns2.hoster.net".into()],
            glue: vec![],
            keys: vec![],
        },
    ];
    p.schedule(1, &delegations, start());
    p.tick(start()).unwrap();
    let options = PresentationOptions::default();
    insta::assert_snapshot!("root", p.root().to_presentation(options));
    insta::assert_snapshot!("tld", p.tld().to_presentation(options));
}

#[test]
fn jitter_delays_each_version_within_bounds_in_order_and_repeatably() {
    // Four versions a minute apart, 10 minutes of delay and up to 60 of jitter.
    let dues = |seed: u64| -> Vec<Timestamp> {
        let mut world = World::new();
        let mut c = config(10);
        c.delay_jitter = SignedDuration::from_mins(60);
        c.jitter_seed = seed;
        let mut p =
            Publisher::new(c, PublishKeys::fixtures(KeyAlgorithm::Ed25519), start()).unwrap();
        world.run(commands::host_create("ns1.hoster.net", &[]));
        let contact = world.contact.clone();
        let mut dues = Vec::new();
        for i in 0..4 {
            world.run(commands::domain_create(
                &format!("example{i}.nl"),
                &contact,
                &["ns1.hoster.net"],
                vec![child_ksk(i)],
            ));
            let t = world.now();
            p.observe(&world.registry, t);
            let last = p.pending.back().unwrap().due;
            let earliest = t.checked_add(SignedDuration::from_mins(10)).unwrap();
            let latest = t.checked_add(SignedDuration::from_mins(70)).unwrap();
            assert!(last >= earliest, "{last} before {earliest}");
            assert!(last <= latest || Some(&last) == dues.last(), "{last}");
            assert!(dues.last().is_none_or(|d| *d <= last), "out of order");
            dues.push(last);
            world.advance(1);
        }
        dues
    };
    let a = dues(5);
    assert_eq!(a, dues(5));
    assert_ne!(a, dues(6));
    // The jitter does delay: some version is due well after its 10 minutes.
    let t0 = start();
    assert!(
        a.iter()
            .any(|d| d.duration_since(t0) > SignedDuration::from_mins(14)),
        "{a:?}"
    );
}
