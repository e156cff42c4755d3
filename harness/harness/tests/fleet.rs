//! The resolver fleet (issue 17): real recursive resolvers, started with the world's root key
//! as their only trust anchor and root hints pointing at the world's root on port 53, follow
//! the delegations of a world built with every server on its own `127.x.y.z:53` and validate
//! its signed domain; with another anchor they validate nothing.
//!
//! Needs port 53 on loopback addresses (root or CAP_NET_BIND_SERVICE); ci/test runs as root.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::sync::Arc;
use std::time::Duration;

use harness::checks::CheckId;
use harness::fleet::Fleet;
use harness::report::{Outcome, ScenarioReport};
use harness::runner::{RunOptions, run_suite};
use harness::scenario;
use harness::world::{Addressing, ClockMode, World};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use real_dns::resolver::{Resolver, ResolverKind, ResolverSetup, RootAnchor};

/// The kinds this machine has; the test insists on at least three (ci/test installs all four).
fn kinds() -> Vec<ResolverKind> {
    let kinds = ResolverKind::installed_kinds();
    assert!(
        kinds.len() >= 3,
        "at least three resolver implementations are needed (have {kinds:?}); install unbound, \
         bind9, knot-resolver and pdns-recursor, or run ci/test"
    );
    kinds
}

async fn world() -> World {
    let s = scenario::library::load("secure-transfer-13-13.toml").unwrap();
    World::build_with(
        Arc::new(s),
        ClockMode::Wall {
            scale: ClockMode::DEFAULT_SCALE,
        },
        Addressing::Port53,
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_resolvers_validate_the_world_by_following_its_delegations() {
    let kinds = kinds();
    let world = world().await;
    // Every server on its own address, on port 53.
    assert_eq!(world.parent.local_addr().port(), 53);
    for op in &world.operators {
        assert_eq!(op.lock().await.addr().port(), 53);
    }
    let fleet = Fleet::start(&world, &kinds, Duration::from_millis(250))
        .await
        .unwrap();
    for r in fleet.resolvers() {
        let www = r.ask("www.example.nl", RecordType::A).await.unwrap();
        let log = || std::fs::read_to_string(r.log_path()).unwrap_or_default();
        assert_eq!(
            www.rcode,
            ResponseCode::NoError,
            "{}: {www}\n{}",
            r.kind(),
            log()
        );
        assert!(www.authentic, "{}: not validated: {www}", r.kind());
        assert!(
            www.records.iter().any(|l| l.ends_with("IN A 192.0.2.10")),
            "{}: {www}",
            r.kind()
        );
        let ds = r.ask("example.nl", RecordType::DS).await.unwrap();
        assert!(ds.authentic && !ds.records.is_empty(), "{}: {ds}", r.kind());
        let none = r
            .ask("no-such-name.example.nl", RecordType::A)
            .await
            .unwrap();
        assert_eq!(none.rcode, ResponseCode::NXDomain, "{}: {none}", r.kind());
        assert!(none.authentic, "{}: denial not validated: {none}", r.kind());
    }
    let record = fleet.finish().await;
    // The clients asked every question of every resolver at least once while it ran.
    for (kind, n) in record.queries() {
        assert!(n >= record.questions.len(), "{kind}: {n} queries");
    }
    world.stop().await;
}

/// RFC 9615 on port 53: the zones of the name servers' host names are signed and securely
/// delegated from the root (`example.`, then the operator's own `operator-a.example.`), so
/// every real resolver validates the operator's signal and its name servers' addresses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_resolvers_validate_the_signals_of_a_world_with_rfc_9615() {
    let kinds = kinds();
    let s = scenario::library::load("ds-automation-bootstrap-ch-signals.toml").unwrap();
    let mut world = World::build_with(
        Arc::new(s),
        ClockMode::Wall {
            scale: ClockMode::DEFAULT_SCALE,
        },
        Addressing::Port53,
    )
    .await
    .unwrap();
    assert_eq!(world.infra.as_ref().unwrap().local_addr().port(), 53);
    {
        let mut op = world.operators[0].lock().await;
        op.set_signed("example.nl", true).await.unwrap();
        let ksk = [op.ksk_key_data("example.nl").await.unwrap()];
        let hosts = op.ns_names().to_vec();
        op.set_cds("example.nl", Some(&ksk), Some(&ksk))
            .await
            .unwrap();
        op.set_signals("example.nl", &hosts, Some(&ksk), Some(&ksk))
            .await
            .unwrap();
    }
    world.publish().await.unwrap();
    let fleet = Fleet::start(&world, &kinds, Duration::from_millis(250))
        .await
        .unwrap();
    for r in fleet.resolvers() {
        for (name, rtype) in [
            (
                "_dsboot.example.nl._signal.ns2.operator-a.example",
                RecordType::CDS,
            ),
            ("ns1.operator-a.example", RecordType::A),
        ] {
            let a = r.ask(name, rtype).await.unwrap();
            let log = || std::fs::read_to_string(r.log_path()).unwrap_or_default();
            assert_eq!(
                a.rcode,
                ResponseCode::NoError,
                "{}: {a}\n{}",
                r.kind(),
                log()
            );
            assert!(
                a.authentic && !a.records.is_empty(),
                "{}: {name} {rtype} not validated: {a}",
                r.kind()
            );
        }
    }
    fleet.finish().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_another_trust_anchor_no_resolver_validates_the_root() {
    let kinds = kinds();
    let world = world().await;
    let mut setup = ResolverSetup::new(
        world.root_hints(),
        RootAnchor {
            key_tag: world.anchor.ds.key_tag().wrapping_add(1),
            algorithm: 13,
            digest_type: 2,
            digest_hex: "00".repeat(32),
        },
    );
    setup.start_timeout = Duration::from_secs(3);
    for kind in kinds {
        let e = Resolver::start(kind, &setup).await.unwrap_err();
        assert!(e.to_string().contains("validated"), "{kind}: {e}");
    }
    world.stop().await;
}

fn outcomes(r: &ScenarioReport, check: CheckId) -> Vec<(Outcome, String)> {
    r.checks
        .iter()
        .filter(|c| c.check == check)
        .map(|c| (c.outcome, c.message.clone()))
        .collect()
}

/// `scenarios/fleet/` and three of the library's happy paths (ECDSA, CSK on both sides, NSEC to
/// NSEC3) on the wall clock with the fleet: the happy paths show no resolver failure (no
/// SERVFAIL, no wrong content, no answer without the AD bit); each of the four faults (NS
/// switched too early, old DS removed too early, relayed key removed too early: bogus; going
/// insecure: answers without AD) makes at least one real resolver fail inside the band the
/// cache model predicts (an expected failure: the fault seen by real software); the model
/// never misses. The figures (queries per resolver, first and last failure against the band)
/// are printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_resolvers_see_the_faults_inside_the_predicted_bands_and_the_model_never_misses() {
    let kinds = kinds();
    let mut scenarios: Vec<_> = scenario::library::scenario_files("fleet")
        .iter()
        .map(|f| f.load().unwrap())
        .collect();
    assert_eq!(
        scenarios.len(),
        5,
        "scenarios/fleet/ holds the happy path and four faults"
    );
    const LIBRARY_HAPPY_PATHS: [&str; 3] = [
        "secure-transfer-13-13",
        "secure-transfer-csk",
        "secure-transfer-nsec-to-nsec3",
    ];
    for id in LIBRARY_HAPPY_PATHS {
        scenarios.push(scenario::library::load(&format!("{id}.toml")).unwrap());
    }
    let options = RunOptions {
        clock: ClockMode::Wall {
            scale: ClockMode::DEFAULT_SCALE,
        },
        resolvers: kinds.clone(),
        no_live_check: true,
        ..RunOptions::default()
    };
    // Two at a time: with four resolvers each, more would make the wall clock late on two
    // shared cores.
    let reports = run_suite(scenarios, &options, 2, |_| {}).await;
    for r in &reports {
        assert!(r.error.is_none(), "{}: {:?}", r.id, r.error);
        for (check, outcome) in [CheckId::ResolverFailed, CheckId::ModelMissed]
            .iter()
            .flat_map(|c| outcomes(r, *c).into_iter().map(move |o| (*c, o)))
        {
            println!("{}: {check} {:?}: {}", r.id, outcome.0, outcome.1);
        }
        // A failure's evidence (each failing answer: rcode, extended errors, the resolver's
        // log) says whether real software saw a broken chain or the loaded machine: print it,
        // so a red run explains itself.
        for c in r.checks.iter().filter(|c| {
            matches!(c.check, CheckId::ResolverFailed | CheckId::ModelMissed)
                && c.outcome == Outcome::Fail
        }) {
            for line in &c.evidence {
                println!("{}: {} evidence: {line}", r.id, c.check);
            }
        }
        let missed = outcomes(r, CheckId::ModelMissed);
        assert!(
            !missed.is_empty() && missed.iter().all(|(o, _)| *o == Outcome::Pass),
            "{}: the model missed: {missed:?}",
            r.id
        );
        let seen = outcomes(r, CheckId::ResolverFailed);
        if r.id == "fleet-secure-transfer" || LIBRARY_HAPPY_PATHS.contains(&r.id.as_str()) {
            assert!(r.passed, "{}: {:?}", r.id, r.checks);
            assert_eq!(seen.len(), 1, "{seen:?}");
            assert_eq!(seen[0].0, Outcome::Pass, "{seen:?}");
            for k in &kinds {
                assert!(seen[0].1.contains(k.name()), "{seen:?}");
            }
        } else {
            assert!(r.passed, "{}: {:?}", r.id, r.failures().collect::<Vec<_>>());
            assert!(
                seen.iter().any(|(o, _)| *o == Outcome::ExpectedFail),
                "{}: no real resolver failed inside the predicted band: {seen:?}",
                r.id
            );
            if r.id == "fleet-fault-going-insecure" {
                assert!(
                    seen.iter()
                        .any(|(o, m)| *o == Outcome::ExpectedFail
                            && m.contains("without the AD bit")),
                    "{}: no resolver answered without AD in the insecure band: {seen:?}",
                    r.id
                );
            }
        }
    }
}
