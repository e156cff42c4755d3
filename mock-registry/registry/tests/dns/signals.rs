//! RFC 9615 signals over real DNS on loopback: the registry's lookup
//! (`mock_registry::signals::lookup`) walks root → `example.` → `operator-a.example.`, each
//! zone on its own server, and must agree with delv and unbound-host (one server with every
//! zone for delv, stub zones for unbound-host) on a correct chain and on each way to break it.
//!
//! The root is the registry's own publication with `PublishConfig::infra` carrying the DS of
//! `example.`, as in a scenario world with signals.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use dnssec::{
    Delegation, DsDigest, KeyAlgorithm, RrSet, SignedZone, SigningFaults, SigningPolicy, Zone,
    ZoneKey, ZoneSigner, fixture_keys,
};
use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::rr::RData;
use mock_registry::signals::{LookupOptions, NoSignal, SignalRoot, SignalSets, lookup};
use mock_registry::{PublishConfig, PublishKeys, Publisher};

use crate::support::{delv_at, name, run, server, unbound_conf, virtual_now, wall_now};

/// What is wrong with the signal's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broken {
    Nothing,
    /// `example.` publishes the DS of a key the operator's zone does not have.
    WrongDs,
    /// The operator's zone is delegated without DS.
    NoDs,
    /// The operator's signatures expired in 2020.
    Expired,
    /// The operator publishes no signal.
    NoSignal,
}

const SIGNAL: &str = "_dsboot.example.nl._signal.ns1.operator-a.example.";

fn policy(window: Option<(&str, &str)>) -> SigningPolicy {
    SigningPolicy {
        also_valid_at: vec![wall_now()],
        denial: dnssec::Denial::Nsec,
        faults: SigningFaults {
            window: window.map(|(a, b)| (a.parse().unwrap(), b.parse().unwrap())),
            ..SigningFaults::default()
        },
        ..SigningPolicy::default()
    }
}

fn keys(i: usize) -> Vec<ZoneKey> {
    vec![
        ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, i)),
        ZoneKey::zsk(fixture_keys::key(KeyAlgorithm::Ed25519, i + 1)),
    ]
}

fn signal_rdata() -> (RData, RData) {
    let ksk = fixture_keys::key(KeyAlgorithm::Ed25519, 0).dnskey(257);
    let cds = dnssec::keys::cds_from_dnskey(&name("example.nl."), &ksk, DsDigest::Sha256).unwrap();
    (
        RData::DNSSEC(DNSSECRData::CDS(cds)),
        RData::DNSSEC(DNSSECRData::CDNSKEY(dnssec::keys::cdnskey_from_dnskey(
            &ksk,
        ))),
    )
}

/// The zones of `example.` and `operator-a.example.`, broken as asked.
fn zones(broken: Broken) -> (Arc<SignedZone>, Arc<SignedZone>) {
    let (example_keys, operator_keys) = (keys(4), keys(8));
    let soa = |origin: &str| {
        hickory_proto::rr::rdata::SOA::new(
            name(&format!("ns.{origin}")),
            name(&format!("hostmaster.{origin}")),
            1,
            7200,
            3600,
            1_209_600,
            300,
        )
    };
    let mut z = Zone::new(name("example."), soa("example."), 300).unwrap();
    z.add_text("example. 3600 NS infra-ns.example.").unwrap();
    z.add_text("infra-ns.example. 3600 A 127.0.0.1").unwrap();
    let ds = match broken {
        Broken::NoDs => Vec::new(),
        Broken::WrongDs => vec![
            ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 12))
                .ds(&name("operator-a.example."), DsDigest::Sha256)
                .unwrap(),
        ],
        _ => vec![
            operator_keys[0]
                .ds(&name("operator-a.example."), DsDigest::Sha256)
                .unwrap(),
        ],
    };
    z.set_delegation(&Delegation {
        name: name("operator-a.example."),
        ttl: 3600,
        ns: vec![name("ns1.operator-a.example.")],
        glue: vec![(
            name("ns1.operator-a.example."),
            "127.0.0.1".parse().unwrap(),
        )],
        ds,
    })
    .unwrap();
    let example = ZoneSigner::new(example_keys, policy(None))
        .unwrap()
        .sign(&z, virtual_now())
        .unwrap();

    let origin = "operator-a.example.";
    let mut z = Zone::new(name(origin), soa(origin), 300).unwrap();
    z.add_text("operator-a.example. 3600 NS ns1.operator-a.example.")
        .unwrap();
    z.add_text("ns1.operator-a.example. 3600 A 127.0.0.1")
        .unwrap();
    if broken != Broken::NoSignal {
        let (cds, cdnskey) = signal_rdata();
        z.set_rrset(RrSet::new(name(SIGNAL), 3600, [cds]).unwrap())
            .unwrap();
        z.set_rrset(RrSet::new(name(SIGNAL), 3600, [cdnskey]).unwrap())
            .unwrap();
    }
    let window =
        (broken == Broken::Expired).then_some(("2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z"));
    let operator = ZoneSigner::new(operator_keys, policy(window))
        .unwrap()
        .sign(&z, virtual_now())
        .unwrap();
    (Arc::new(example), Arc::new(operator))
}

/// The registry's verdict, and what delv and unbound-host say about the signal's CDS.
async fn verdicts(broken: Broken) -> (Result<SignalSets, NoSignal>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = PublishConfig::new("nl").unwrap();
    config.signing = policy(None);
    config.infra = vec![Delegation {
        name: name("example."),
        ttl: 3600,
        ns: vec![name("infra-ns.example.")],
        glue: vec![(name("infra-ns.example."), "127.0.0.1".parse().unwrap())],
        ds: vec![keys(4)[0].ds(&name("example."), DsDigest::Sha256).unwrap()],
    }];
    let publisher = Publisher::new(
        config,
        PublishKeys::fixtures(KeyAlgorithm::EcdsaP256Sha256),
        virtual_now(),
    )
    .unwrap();
    let anchor = publisher.trust_anchor().unwrap();
    let files = anchor.write_files(dir.path()).unwrap();
    let (example, operator) = zones(broken);
    let root_server = server(&[publisher.root()]).await;
    let example_server = server(std::slice::from_ref(&example)).await;
    let operator_server = server(std::slice::from_ref(&operator)).await;
    let all = server(&[publisher.root(), example, operator]).await;

    // Glue says 127.0.0.1 on port 53; the servers answer on ephemeral ports, found here.
    let resolver: BTreeMap<String, SocketAddr> = [
        ("infra-ns.example".to_string(), example_server.local_addr()),
        (
            "ns1.operator-a.example".to_string(),
            operator_server.local_addr(),
        ),
    ]
    .into_iter()
    .collect();
    let root = SignalRoot {
        servers: vec![root_server.local_addr()],
        anchors: vec![anchor.ds.clone()],
    };
    let ours = lookup(
        &name("example.nl."),
        &name("ns1.operator-a.example."),
        &root,
        &resolver,
        &LookupOptions::default(),
        virtual_now(),
    )
    .await;

    let (bind, key) = (files.bind.clone(), files.dnskey.clone());
    let stubs = [
        (".", root_server.local_addr()),
        ("example.", example_server.local_addr()),
        ("operator-a.example.", operator_server.local_addr()),
    ];
    let conf = unbound_conf(dir.path(), &key, &stubs);
    let at = all.local_addr();
    let (delv, unbound) = tokio::task::spawn_blocking(move || {
        let delv = delv_at(&bind, at, SIGNAL, "CDS");
        let (_, unbound) = run(
            "unbound-host",
            &["-C", conf.to_str().unwrap(), "-v", "-t", "CDS", SIGNAL],
        );
        (delv, unbound)
    })
    .await
    .unwrap();
    (ours, delv, unbound)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signal_lookup_agrees_with_delv_and_unbound() {
    let (ours, delv, unbound) = verdicts(Broken::Nothing).await;
    let sets = ours.unwrap();
    assert_eq!((sets.cds.len(), sets.cdnskey.len()), (1, 1));
    assert_eq!(sets.cds[0].data, signal_rdata().0);
    assert!(delv.contains("; fully validated"), "{delv}");
    assert!(
        unbound.contains("(secure)") && !unbound.contains("BOGUS"),
        "{unbound}"
    );

    for (broken, expect) in [
        (Broken::WrongDs, "bogus"),
        (Broken::Expired, "bogus"),
        (Broken::NoDs, "insecure"),
        (Broken::NoSignal, "missing"),
    ] {
        let (ours, delv, unbound) = verdicts(broken).await;
        let e = ours.expect_err("no signal");
        assert!(e.to_string().starts_with(expect), "{broken:?}: {e}");
        match expect {
            "bogus" => {
                assert!(
                    !delv.contains("fully validated") && delv.contains("resolution failed"),
                    "{broken:?}: delv\n{delv}"
                );
                assert!(unbound.contains("BOGUS"), "{broken:?}: unbound\n{unbound}");
            }
            "insecure" => {
                assert!(
                    delv.contains("; unsigned answer"),
                    "{broken:?}: delv\n{delv}"
                );
                assert!(
                    unbound.contains("(insecure)"),
                    "{broken:?}: unbound\n{unbound}"
                );
            }
            _ => {
                assert!(
                    delv.contains("negative response, fully validated"),
                    "{broken:?}: delv\n{delv}"
                );
                assert!(
                    unbound.contains("NXDOMAIN") && unbound.contains("(secure)"),
                    "{broken:?}: unbound\n{unbound}"
                );
            }
        }
    }
}
