//! The responder without sockets: how each kind of query is answered, and that no input makes
//! it panic.

use std::sync::Arc;

use hickory_proto::op::{Edns, Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use proptest::prelude::*;

use super::answer::{AnswerKind, Served, Transport, handle};
use crate::keys::KeyAlgorithm;
use crate::signed::SignedZone;
use crate::signer::{Denial, SigningPolicy, ZoneSigner};
use crate::testutil::{ksk_zsk, n, small_zone, soa, ts};
use crate::zone::{Delegation, Zone};
use crate::{DsDigest, ZoneKey, fixture_keys};

fn sign(zone: &Zone, keys: Vec<ZoneKey>, denial: Denial) -> Arc<SignedZone> {
    let policy = SigningPolicy {
        denial,
        ..SigningPolicy::default()
    };
    let signer = ZoneSigner::new(keys, policy).unwrap();
    Arc::new(signer.sign(zone, ts("2026-01-01T00:00:00Z")).unwrap())
}

/// A root delegating `example.` with a DS, `example.` (small_zone: NSEC) and its child
/// `secure.example.`, served together; plus `big.example.` with an RRset too big for 512
/// octets.
fn zones() -> Served {
    let mut root = Zone::new(Name::root(), soa(&Name::root()), 3600).unwrap();
    root.add_text(". 3600 NS a.root-servers.invalid.").unwrap();
    root.add_text("a.root-servers.invalid. 3600 A 192.0.2.1")
        .unwrap();
    let example_ksk = ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 0));
    root.set_delegation(&Delegation {
        name: n("example."),
        ttl: 3600,
        ns: vec![n("ns1.example.")],
        glue: vec![(n("ns1.example."), "192.0.2.1".parse().unwrap())],
        ds: vec![example_ksk.ds(&n("example."), DsDigest::Sha256).unwrap()],
    })
    .unwrap();
    let root = sign(
        &root,
        vec![
            ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 0)),
            ZoneKey::zsk(fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 1)),
        ],
        Denial::Nsec,
    );
    let mut example = small_zone();
    for i in 0..20 {
        example
            .add_text(&format!(
                "big.example. 300 TXT \"{i:02} {}\"",
                "x".repeat(100)
            ))
            .unwrap();
    }
    let example = sign(&example, ksk_zsk(KeyAlgorithm::Ed25519), Denial::Nsec);
    let mut secure = Zone::new(n("secure.example."), soa(&n("secure.example.")), 3600).unwrap();
    secure
        .add_text("secure.example. 3600 NS ns.secure.example.")
        .unwrap();
    secure
        .add_text("ns.secure.example. 3600 A 192.0.2.53")
        .unwrap();
    let secure = sign(
        &secure,
        vec![ZoneKey::csk(fixture_keys::key(KeyAlgorithm::Ed25519, 3))],
        Denial::default(),
    );
    Served::new(vec![root, example, secure], 1232)
}

struct Ask {
    dnssec: bool,
    edns: bool,
    payload: u16,
    transport: Transport,
}

const DO: Ask = Ask {
    dnssec: true,
    edns: true,
    payload: 1232,
    transport: Transport::Udp,
};

const PLAIN: Ask = Ask {
    dnssec: false,
    edns: false,
    payload: 512,
    transport: Transport::Udp,
};

fn query_bytes(qname: &str, qtype: RecordType, ask: &Ask) -> Vec<u8> {
    let mut m = Message::query();
    m.add_query(Query::query(n(qname), qtype));
    if ask.edns {
        let mut e = Edns::new();
        e.set_dnssec_ok(ask.dnssec);
        e.set_max_payload(ask.payload);
        m.set_edns(e);
    }
    m.to_vec().unwrap()
}

fn ask(served: &Served, qname: &str, qtype: RecordType, how: &Ask) -> (Message, AnswerKind) {
    let handled = handle(served, &query_bytes(qname, qtype, how), how.transport);
    let reply = handled.reply.expect("an answer");
    (Message::from_vec(&reply).unwrap(), handled.kind)
}

fn types(records: &[hickory_proto::rr::Record]) -> Vec<RecordType> {
    records.iter().map(|r| r.record_type()).collect()
}

#[test]
fn authoritative_answers_carry_rrsigs_only_with_do() {
    let served = zones();
    let (m, kind) = ask(&served, "mail.example.", RecordType::A, &DO);
    assert_eq!(kind, AnswerKind::Answer);
    assert!(m.metadata.authoritative);
    assert_eq!(types(&m.answers), [RecordType::A, RecordType::RRSIG]);
    assert!(m.edns.as_ref().unwrap().flags().dnssec_ok);
    let (m, _) = ask(&served, "mail.example.", RecordType::A, &PLAIN);
    assert_eq!(types(&m.answers), [RecordType::A]);
    assert!(
        m.edns.is_none(),
        "no OPT in the answer to a query without one"
    );
}

#[test]
fn cnames_are_followed_inside_the_zone() {
    let served = zones();
    let (m, kind) = ask(&served, "www.example.", RecordType::A, &DO);
    assert_eq!(kind, AnswerKind::Answer);
    assert_eq!(
        types(&m.answers),
        [
            RecordType::CNAME,
            RecordType::RRSIG,
            RecordType::A,
            RecordType::RRSIG
        ]
    );
}

/// `example.` with a wildcard (A and TXT), a wildcard CNAME one level down, a DNAME, and a
/// name beside the wildcard, signed with `denial`.
fn wildcard_zone(denial: Denial) -> Served {
    let mut zone = small_zone();
    for line in [
        "*.example. 300 A 192.0.2.42",
        "*.example. 300 TXT \"wild\"",
        "*.w.example. 300 CNAME mail.example.",
        "old.example. 300 DNAME new.other.",
        "new.example. 300 DNAME mail.example.",
    ] {
        zone.add_text(line).unwrap();
    }
    Served::new(
        vec![sign(&zone, ksk_zsk(KeyAlgorithm::Ed25519), denial)],
        1232,
    )
}

#[test]
fn wildcards_are_expanded_with_the_labels_of_the_wildcard_and_the_proof_of_no_closer_name() {
    for denial in [Denial::Nsec, Denial::default()] {
        let served = wildcard_zone(denial.clone());
        let (m, kind) = ask(&served, "nothing.example.", RecordType::A, &DO);
        assert_eq!(kind, AnswerKind::Answer, "{denial:?}");
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert!(m.metadata.authoritative);
        assert_eq!(types(&m.answers), [RecordType::A, RecordType::RRSIG]);
        assert!(m.answers.iter().all(|r| r.name == n("nothing.example.")));
        let hickory_proto::rr::RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::RRSIG(sig)) =
            &m.answers[1].data
        else {
            panic!("an RRSIG")
        };
        assert_eq!(sig.input().num_labels, 1, "the wildcard's labels");
        let proof = if denial == Denial::Nsec {
            RecordType::NSEC
        } else {
            RecordType::NSEC3
        };
        assert_eq!(
            types(&m.authorities),
            [proof, RecordType::RRSIG],
            "{denial:?}"
        );
        // Without DO: the expansion alone.
        let (m, _) = ask(&served, "nothing.example.", RecordType::A, &PLAIN);
        assert_eq!(types(&m.answers), [RecordType::A]);
        assert!(m.authorities.is_empty());
        // Wildcard NODATA: no MX at the wildcard.
        let (m, kind) = ask(&served, "nothing.example.", RecordType::MX, &DO);
        assert_eq!(kind, AnswerKind::NoData);
        assert!(types(&m.authorities).contains(&RecordType::SOA));
        // A wildcard CNAME is followed inside the zone.
        let (m, kind) = ask(&served, "x.w.example.", RecordType::A, &DO);
        assert_eq!(kind, AnswerKind::Answer);
        assert_eq!(
            types(&m.answers),
            [
                RecordType::CNAME,
                RecordType::RRSIG,
                RecordType::A,
                RecordType::RRSIG
            ]
        );
        // A name that exists is never expanded; nor is one below an existing name.
        let (m, _) = ask(&served, "mail.example.", RecordType::TXT, &DO);
        assert_eq!(m.answers.len(), 0);
        let (_, kind) = ask(&served, "x.mail.example.", RecordType::A, &DO);
        assert_eq!(kind, AnswerKind::NxDomain);
    }
}

#[test]
fn dnames_redirect_what_is_below_them_with_a_synthesised_cname() {
    let served = wildcard_zone(Denial::Nsec);
    // Out of the zone: the DNAME, its RRSIG and the synthesised CNAME (unsigned).
    let (m, kind) = ask(&served, "a.old.example.", RecordType::A, &DO);
    assert_eq!(kind, AnswerKind::Answer);
    assert_eq!(
        types(&m.answers),
        [RecordType::DNAME, RecordType::RRSIG, RecordType::CNAME]
    );
    assert_eq!(m.answers[2].name, n("a.old.example."));
    assert_eq!(m.answers[2].data.to_string(), "a.new.other.");
    assert_eq!(
        crate::presentation::dname_target(&m.answers[0].data),
        Some(n("new.other."))
    );
    // Into the zone: followed, to x.mail.example., which does not exist (RFC 6604: the
    // RCODE is the last link's).
    let (m, kind) = ask(&served, "x.new.example.", RecordType::A, &DO);
    assert_eq!(kind, AnswerKind::NxDomain);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(
        types(&m.answers),
        [RecordType::DNAME, RecordType::RRSIG, RecordType::CNAME]
    );
    // The owner itself is not redirected.
    let (m, kind) = ask(&served, "old.example.", RecordType::DNAME, &DO);
    assert_eq!(kind, AnswerKind::Answer);
    assert_eq!(types(&m.answers), [RecordType::DNAME, RecordType::RRSIG]);
}

#[test]
fn referrals_are_not_authoritative_and_carry_ds_or_its_denial_and_glue() {
    let served = zones();
    // From the root: example. is delegated with a DS.
    let mut root_only = served.clone();
    root_only.zones.retain(|z| z.origin().is_root());
    let (m, kind) = ask(&root_only, "www.example.", RecordType::A, &DO);
    assert_eq!(kind, AnswerKind::Referral);
    assert!(!m.metadata.authoritative);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
    assert_eq!(
        types(&m.authorities),
        [RecordType::NS, RecordType::DS, RecordType::RRSIG]
    );
    assert_eq!(types(&m.additionals), [RecordType::A]);
    // Without DO: no DS.
    let (m, _) = ask(&root_only, "www.example.", RecordType::A, &PLAIN);
    assert_eq!(types(&m.authorities), [RecordType::NS]);
    // An insecure delegation in example. (NSEC): the NSEC at the cut proves there is no DS.
    let mut example_only = served.clone();
    example_only.zones.retain(|z| z.origin() == &n("example."));
    let (m, kind) = ask(&example_only, "x.insecure.example.", RecordType::A, &DO);
    assert_eq!(kind, AnswerKind::Referral);
    assert_eq!(
        types(&m.authorities),
        [
            RecordType::NS,
            RecordType::NS,
            RecordType::NSEC,
            RecordType::RRSIG
        ]
    );
    assert!(
        m.additionals.is_empty(),
        "out-of-zone name servers have no glue"
    );
}

#[test]
fn ds_is_answered_from_the_parent_side_even_when_the_child_is_served() {
    let served = zones();
    let handled = handle(
        &served,
        &query_bytes("secure.example.", RecordType::DS, &DO),
        Transport::Udp,
    );
    assert_eq!(handled.zone.as_ref().unwrap().0, n("example."));
    let m = Message::from_vec(&handled.reply.unwrap()).unwrap();
    assert!(m.metadata.authoritative);
    assert_eq!(types(&m.answers), [RecordType::DS, RecordType::RRSIG]);
    // The apex's other types come from the child.
    let handled = handle(
        &served,
        &query_bytes("secure.example.", RecordType::DNSKEY, &DO),
        Transport::Udp,
    );
    assert_eq!(handled.zone.unwrap().0, n("secure.example."));
    // example.'s DS from the root, served alongside.
    let handled = handle(
        &served,
        &query_bytes("example.", RecordType::DS, &DO),
        Transport::Udp,
    );
    assert_eq!(handled.zone.unwrap().0, Name::root());
    // A child served alone answers DS at its apex as NODATA (it knows no better).
    let mut alone = served.clone();
    alone.zones.retain(|z| z.origin() == &n("secure.example."));
    let (m, kind) = ask(&alone, "secure.example.", RecordType::DS, &DO);
    assert_eq!(kind, AnswerKind::NoData);
    assert!(m.answers.is_empty());
}

#[test]
fn negative_answers_carry_the_soa_with_the_negative_ttl_and_the_proof() {
    let served = zones();
    let (m, kind) = ask(&served, "nope.example.", RecordType::A, &DO);
    assert_eq!(kind, AnswerKind::NxDomain);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert!(m.metadata.authoritative);
    let soa = &m.authorities[0];
    assert_eq!(soa.record_type(), RecordType::SOA);
    assert_eq!(soa.ttl, 600, "min(SOA TTL, MINIMUM), RFC 2308 §3");
    assert!(types(&m.authorities).contains(&RecordType::NSEC));
    let (m, kind) = ask(&served, "mail.example.", RecordType::TXT, &DO);
    assert_eq!(kind, AnswerKind::NoData);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        types(&m.authorities),
        [
            RecordType::SOA,
            RecordType::RRSIG,
            RecordType::NSEC,
            RecordType::RRSIG
        ]
    );
    let (m, _) = ask(&served, "mail.example.", RecordType::TXT, &PLAIN);
    assert_eq!(types(&m.authorities), [RecordType::SOA]);
    // NSEC3 zone: NXDOMAIN proof is NSEC3.
    let (m, _) = ask(&served, "nope.secure.example.", RecordType::A, &DO);
    assert!(types(&m.authorities).contains(&RecordType::NSEC3));
}

#[test]
fn udp_answers_that_do_not_fit_are_truncated_and_tcp_gets_them_whole() {
    let served = zones();
    let handled = handle(
        &served,
        &query_bytes("big.example.", RecordType::TXT, &DO),
        Transport::Udp,
    );
    assert!(handled.truncated);
    let m = Message::from_vec(&handled.reply.unwrap()).unwrap();
    assert!(m.metadata.truncation);
    assert!(m.answers.is_empty());
    assert_eq!(m.queries.len(), 1);
    assert!(m.edns.is_some(), "the OPT stays in a truncated answer");
    let tcp = Ask {
        transport: Transport::Tcp,
        ..DO
    };
    let (m, _) = ask(&served, "big.example.", RecordType::TXT, &tcp);
    assert!(!m.metadata.truncation);
    assert_eq!(m.answers.len(), 21);
    // The client's smaller payload size is honoured: a referral that fits 1232 but not 512.
    let small = Ask { payload: 512, ..DO };
    let big_enough = handle(
        &served,
        &query_bytes("mail.example.", RecordType::A, &small),
        Transport::Udp,
    );
    assert!(!big_enough.truncated);
    let handled = handle(
        &served,
        &query_bytes("example.", RecordType::DNSKEY, &small),
        Transport::Udp,
    );
    let len = handle(
        &served,
        &query_bytes("example.", RecordType::DNSKEY, &tcp),
        Transport::Tcp,
    )
    .reply
    .unwrap()
    .len();
    assert_eq!(
        handled.truncated,
        len > 512,
        "DNSKEY answer is {len} octets"
    );
}

#[test]
fn refuses_what_it_does_not_serve() {
    let served = zones();
    let mut example_only = served.clone();
    example_only.zones.retain(|z| z.origin() == &n("example."));
    let (m, kind) = ask(&example_only, "example.com.", RecordType::A, &DO);
    assert_eq!(kind, AnswerKind::Refused);
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    assert!(!m.metadata.authoritative);
    for qtype in [RecordType::AXFR, RecordType::IXFR] {
        let (m, _) = ask(&served, "example.", qtype, &DO);
        assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    }
    let mut chaos = Message::query();
    let mut q = Query::query(n("version.bind."), RecordType::TXT);
    q.set_query_class(DNSClass::CH);
    chaos.add_query(q);
    let h = handle(&served, &chaos.to_vec().unwrap(), Transport::Udp);
    assert_eq!(h.rcode, Some(ResponseCode::Refused));
}

#[test]
fn malformed_queries_get_formerr_notimp_or_badvers_and_responses_get_nothing() {
    let served = zones();
    let good = query_bytes("mail.example.", RecordType::A, &DO);
    // Two questions.
    let mut two = good.clone();
    two[5] = 2;
    assert_eq!(
        handle(&served, &two, Transport::Udp).rcode,
        Some(ResponseCode::FormErr)
    );
    // Cut short in the middle of the question.
    let cut = &good[..good.len() - 20];
    let h = handle(&served, cut, Transport::Udp);
    assert_eq!(h.rcode, Some(ResponseCode::FormErr));
    let m = Message::from_vec(&h.reply.unwrap()).unwrap();
    assert_eq!(m.metadata.id, u16::from_be_bytes([good[0], good[1]]));
    // An opcode other than QUERY.
    let mut notify = Message::query();
    notify.metadata.op_code = OpCode::Notify;
    notify.add_query(Query::query(n("example."), RecordType::SOA));
    assert_eq!(
        handle(&served, &notify.to_vec().unwrap(), Transport::Udp).rcode,
        Some(ResponseCode::NotImp)
    );
    // EDNS version 1.
    let mut v1 = Message::query();
    v1.add_query(Query::query(n("example."), RecordType::SOA));
    let mut e = Edns::new();
    e.set_version(1);
    v1.set_edns(e);
    let h = handle(&served, &v1.to_vec().unwrap(), Transport::Udp);
    assert_eq!(h.rcode, Some(ResponseCode::BADVERS));
    let m = Message::from_vec(&h.reply.unwrap()).unwrap();
    // 16 is both BADVERS and BADSIG; hickory decodes it as the latter.
    assert_eq!(u16::from(m.metadata.response_code), 16);
    assert_eq!(m.edns.unwrap().version(), 0);
    // A response (QR set) or a runt: no answer at all.
    let mut response = good.clone();
    response[2] |= 0x80;
    assert!(handle(&served, &response, Transport::Udp).reply.is_none());
    assert!(handle(&served, &good[..11], Transport::Udp).reply.is_none());
}

#[test]
fn faults_change_answers_only_in_their_scope() {
    let mut served = zones();
    served.strip_rrsigs = true;
    served.fault_scope = vec![n("example.")];
    let (m, _) = ask(&served, "mail.example.", RecordType::A, &DO);
    assert_eq!(types(&m.answers), [RecordType::A]);
    let (m, _) = ask(&served, "secure.example.", RecordType::DNSKEY, &DO);
    assert!(types(&m.answers).contains(&RecordType::RRSIG));
    served.strip_rrsigs = false;
    served.wrong_denial = true;
    let (m, _) = ask(&served, "nope.example.", RecordType::A, &DO);
    let nsec_owners: Vec<&Name> = m
        .authorities
        .iter()
        .filter(|r| r.record_type() == RecordType::NSEC)
        .map(|r| &r.name)
        .collect();
    assert_eq!(nsec_owners, [&n("example.")]);
    served.wrong_denial = false;
    served.drop_queries = true;
    let h = handle(
        &served,
        &query_bytes("mail.example.", RecordType::A, &DO),
        Transport::Udp,
    );
    assert!(h.reply.is_none());
    assert_eq!(h.qname, Some(n("mail.example.")));
    assert!(
        handle(
            &served,
            &query_bytes("secure.example.", RecordType::SOA, &DO),
            Transport::Udp
        )
        .reply
        .is_some()
    );
}

#[test]
fn any_returns_every_rrset_at_the_name() {
    let served = zones();
    let (m, _) = ask(&served, "example.", RecordType::ANY, &PLAIN);
    let t = types(&m.answers);
    assert!(
        t.contains(&RecordType::SOA) && t.contains(&RecordType::MX),
        "{t:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary bytes never panic the responder, and whatever it sends back decodes.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let served = zones_once();
        for transport in [Transport::Udp, Transport::Tcp] {
            let h = handle(served, &bytes, transport);
            if let Some(reply) = h.reply {
                prop_assert!(Message::from_vec(&reply).is_ok());
            }
        }
    }

    /// Valid queries with a few bytes changed reach deeper into the decoder and the lookups.
    #[test]
    fn mutated_queries_never_panic(
        qname in "[a-z]{1,8}(\\.[a-z]{1,8}){0,3}",
        qtype in any::<u16>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
    ) {
        let served = zones_once();
        let mut m = Message::query();
        let name = Name::from_ascii(format!("{qname}.example.")).unwrap();
        m.add_query(Query::query(name, RecordType::from(qtype)));
        let mut e = Edns::new();
        e.set_dnssec_ok(true);
        m.set_edns(e);
        let mut bytes = m.to_vec().unwrap();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let h = handle(served, &bytes, Transport::Udp);
        if let Some(reply) = h.reply {
            prop_assert!(Message::from_vec(&reply).is_ok());
            prop_assert!(reply.len() <= 1232);
        }
    }
}

/// The zones, signed once for the whole property test run.
fn zones_once() -> &'static Served {
    static ZONES: std::sync::OnceLock<Served> = std::sync::OnceLock::new();
    ZONES.get_or_init(zones)
}
