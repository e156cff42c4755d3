//! From EPP to DNS: a domain created with keyData over EPP (mutual TLS, the in-tree client and
//! server) shows up in the served TLD as NS + DS after the propagation delay, on the virtual
//! clock, and delv fully validates the DS set.

use std::sync::Arc;
use std::time::Duration;

use clock::{Clock, VirtualClock};
use dnssec::{
    AnswerKind, DnsServer, DnsServerConfig, KeyAlgorithm, SigningPolicy, fixture_keys, query,
};
use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use jiff::SignedDuration;
use mock_registry::client::EppClient;
use mock_registry::pki::Pki;
use mock_registry::testing::commands::{self, created_contact_id};
use mock_registry::testing::registry_with_epp;
use mock_registry::{PublishConfig, PublishKeys, Publisher, key_data_for};

use crate::support::{delv_at, name, virtual_now, wall_now};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_created_over_epp_is_published_after_the_delay_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::init(dir.path(), &["registrar-a"]).unwrap();
    let clock = VirtualClock::new(virtual_now());
    let (registry, epp) = registry_with_epp(&pki, &["registrar-a"], &clock).await;
    let creds = pki.registrar("registrar-a").unwrap();

    let mut config = PublishConfig::new("nl").unwrap();
    config.delay = SignedDuration::from_mins(15);
    config.signing = SigningPolicy {
        also_valid_at: vec![wall_now()],
        ..SigningPolicy::default()
    };
    let mut publisher = Publisher::new(
        config,
        PublishKeys::fixtures(KeyAlgorithm::EcdsaP256Sha256),
        clock.now(),
    )
    .unwrap();
    let anchors = publisher
        .trust_anchor()
        .unwrap()
        .write_files(dir.path())
        .unwrap();
    let dns = DnsServer::start(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(clock.clone()),
        DnsServerConfig::default(),
    )
    .await
    .unwrap();
    for zone in publisher.zones() {
        dns.set_zone(zone);
    }

    // The registrar creates a signed domain over EPP.
    let tls = Arc::new(mock_registry::tls::client_config(&pki, "registrar-a").unwrap());
    let mut client = EppClient::connect(epp.local_addr(), tls, Duration::from_secs(10))
        .await
        .unwrap();
    let login = client
        .login("registrar-a", creds.password().expose())
        .await
        .unwrap();
    assert!(login.code().is_success(), "{login:?}");
    let (kind, ext) = commands::contact_create();
    let r = client.command(kind, ext).await.unwrap();
    let contact = created_contact_id(&r).unwrap();
    let (kind, ext) = commands::host_create("ns1.hoster.net", &[]);
    assert!(client.command(kind, ext).await.unwrap().code().is_success());
    let ksk = fixture_keys::key(KeyAlgorithm::Ed25519, 0).dnskey(257);
    let (kind, ext) = commands::domain_create(
        "example.nl",
        &contact,
        &["ns1.hoster.net"],
        vec![key_data_for(&ksk)],
    );
    let r = client.command(kind, ext).await.unwrap();
    assert!(r.code().is_success(), "{r:?}");

    // The registry changed at t0; the TLD shows it at t0 + 15 min, not before.
    let t0 = clock.now();
    publisher.observe(&registry.lock().unwrap(), t0);
    assert!(publisher.tick(t0).unwrap().is_empty());
    let server = dns.local_addr();
    let example = name("example.nl.");
    let ds_query = || query(server, &example, RecordType::DS, true, false);
    let before = ds_query().await.unwrap();
    assert_eq!(before.metadata.response_code, ResponseCode::NXDomain);
    let due = publisher.next_deadline().unwrap();
    assert_eq!(due, t0.checked_add(SignedDuration::from_mins(15)).unwrap());
    clock.set(due).unwrap();
    for zone in publisher.tick(clock.now()).unwrap() {
        dns.set_zone(zone);
    }

    let after = ds_query().await.unwrap();
    assert_eq!(after.metadata.response_code, ResponseCode::NoError);
    assert!(after.metadata.authoritative);
    let ds: Vec<_> = after
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DS(d)) => Some(d.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        ds,
        [mock_registry::registry::keys::ds_for("example.nl", &key_data_for(&ksk)).unwrap()]
    );
    // The referral carries the NS from the registry and the DS with its signature.
    let referral = query(server, &name("www.example.nl."), RecordType::A, true, true)
        .await
        .unwrap();
    assert!(!referral.metadata.authoritative);
    let ns: Vec<String> = referral
        .authorities
        .iter()
        .filter_map(|r| match &r.data {
            RData::NS(ns) => Some(ns.0.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(ns, ["ns1.hoster.net."]);
    assert!(
        referral
            .authorities
            .iter()
            .any(|r| r.record_type() == RecordType::RRSIG)
    );

    // delv validates the DS set from the trust anchor down, against the one server.
    let out =
        tokio::task::spawn_blocking(move || delv_at(&anchors.bind, server, "example.nl", "DS"))
            .await
            .unwrap();
    assert!(out.contains("; fully validated"), "{out}");
    let ds_line = out.lines().find(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.first() == Some(&"example.nl.") && f.get(3) == Some(&"DS")
    });
    assert!(
        ds_line.is_some_and(|l| l.contains(&ds[0].key_tag().to_string())),
        "{out}"
    );

    // The history shows both DS queries, with the serial that answered each and the
    // virtual time they were asked at.
    let ds_queries: Vec<_> = dns
        .history()
        .into_iter()
        .filter(|q| q.qname == Some(name("example.nl.")) && q.qtype == Some(RecordType::DS))
        .collect();
    assert!(ds_queries.len() >= 3, "{ds_queries:?}");
    assert_eq!(ds_queries[0].kind, AnswerKind::NxDomain);
    assert_eq!(ds_queries[0].time, t0);
    assert_eq!(ds_queries[1].kind, AnswerKind::Answer);
    assert_eq!(ds_queries[1].time, due);
    assert!(ds_queries[1].serial > ds_queries[0].serial);
    assert!(ds_queries.iter().all(|q| q.zone == Some(name("nl."))));
}
