//! The live check on a real world: hickory-resolver and the pure validator agree on a secure
//! domain and on every way an operator can break it (stripped signatures, expired signatures,
//! a stopped server), a disagreement is reported with both verdicts, and a disagreement listed
//! as a known divergence is reported as such, with its cause.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::sync::Arc;
use std::time::Duration;

use clock::Clock;
use dnssec::KeyAlgorithm;
use dnssec::fixture_keys;
use harness::checks::{CheckId, Severity};
use harness::live::{KnownDivergences, LiveCheck};
use harness::report::{CheckResult, Outcome};
use harness::scenario::{self, OperatorFault};
use harness::world::{ClockMode, World};

async fn world() -> World {
    let s = scenario::library::load("secure-transfer-13-13.toml").unwrap();
    World::build(Arc::new(s), ClockMode::Virtual).await.unwrap()
}

/// Per question (SOA, www A, DS, a missing name): both verdicts, as one word when they agree.
fn statuses(live: &LiveCheck) -> Vec<String> {
    live.last()
        .iter()
        .map(|c| {
            let (l, p) = (c.live.as_str(), c.pure.as_str());
            if l == p {
                l.to_string()
            } else {
                format!("{l}/{p}")
            }
        })
        .collect()
}

fn only_pass(results: &[CheckResult]) -> &CheckResult {
    assert_eq!(results.len(), 1, "{results:#?}");
    let r = &results[0];
    assert_eq!(r.check, CheckId::LiveMismatch, "{r:#?}");
    assert_eq!(r.outcome, Outcome::Pass, "{r:#?}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hickory_and_the_pure_validator_agree_however_the_operator_breaks_the_zone() {
    let world = world().await;
    let mut live = LiveCheck::start(&world).await.unwrap();
    live.check(&world, "the start").await;
    let r = harness::evaluate::live::checks(&live.take_record());
    assert!(
        only_pass(&r)
            .message
            .contains("on 4 question(s) at 1 instant(s)"),
        "{r:#?}"
    );
    assert_eq!(
        statuses(&live),
        ["secure", "secure", "secure", "secure"],
        "{:#?}",
        live.last()
    );
    let now = world.clock.now();
    // Each fault breaks the domain's own answers (SOA, www A, the name that does not exist)
    // for both validators alike; the DS at the parent stays secure for both.
    for (fault, broken) in [
        (OperatorFault::StripRrsigs, "bogus"),
        (OperatorFault::ExpiredSignatures, "bogus"),
        (OperatorFault::Stop, "failed/indeterminate"),
        (OperatorFault::Stale, "secure"),
    ] {
        world.operators[0]
            .lock()
            .await
            .set_fault(fault, now)
            .await
            .unwrap();
        live.check(&world, &format!("{fault:?}")).await;
        let r = harness::evaluate::live::checks(&live.take_record());
        only_pass(&r);
        assert_eq!(
            statuses(&live),
            [broken, broken, "secure", broken],
            "{fault:?}: {:#?}",
            live.last()
        );
    }
    assert_eq!(live.compared(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_missed_on_the_first_look_is_not_a_disagreement() {
    // On a loaded machine one side can miss an answer within the first timeout while the
    // other gets it: here hickory-resolver is given no time at all on the first look, the
    // pure side the usual half second. The second look must settle it: no mismatch, no
    // unresolved name, and the pass says how many comparisons needed it.
    let world = world().await;
    let mut live = LiveCheck::start(&world)
        .await
        .unwrap()
        .with_first_look_timeouts(Duration::from_nanos(1), Duration::from_millis(500));
    live.check(&world, "the start").await;
    assert_eq!(
        statuses(&live),
        ["secure", "secure", "secure", "secure"],
        "{:#?}",
        live.last()
    );
    let record = live.take_record();
    assert!(record.unresolved.is_empty(), "{:#?}", record.unresolved);
    assert_eq!(record.second_looks, 4);
    let r = harness::evaluate::live::checks(&record);
    assert!(
        only_pass(&r)
            .message
            .contains("(4 of them on a second look"),
        "{r:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disagreement_is_reported_with_both_verdicts() {
    let world = world().await;
    // hickory trusts another root key: everything it validates is bogus to it alone.
    let wrong = fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 3).dnskey(257);
    let mut live = LiveCheck::start(&world)
        .await
        .unwrap()
        .with_hickory_anchors(vec![wrong.clone()]);
    live.check(&world, "the start").await;
    let r = harness::evaluate::live::checks(&live.take_record());
    assert_eq!(r.len(), 1, "{r:#?}");
    let f = &r[0];
    assert_eq!(
        (f.check, f.outcome, f.severity),
        (CheckId::LiveMismatch, Outcome::Fail, Severity::Error)
    );
    assert!(f.fails_scenario());
    assert!(
        f.message
            .starts_with("4 of 4 live comparison(s) disagree; first: example.nl. SOA"),
        "{}",
        f.message
    );
    assert!(
        f.message
            .contains("hickory-resolver says bogus, the harness's validator says secure"),
        "{}",
        f.message
    );
    let evidence = f.evidence.join("\n");
    for needle in [
        "hickory-resolver: bogus",
        "harness validator (RFC 6840, lenient): secure",
        "route . and nl. →",
        "route example.nl. →",
        "chain zone example.nl.",
        "also: example.nl. DS",
    ] {
        assert!(evidence.contains(needle), "{needle:?} missing:\n{evidence}");
    }

    // The same disagreement, listed with its cause, is a known divergence instead.
    let known = KnownDivergences::parse(
        r#"
        [[divergence]]
        validator = "hickory-resolver"
        expected = "secure"
        observed = "bogus"
        cause = "this test gives hickory-resolver the wrong root key"
        "#,
    )
    .unwrap();
    let mut live = LiveCheck::start(&world)
        .await
        .unwrap()
        .with_hickory_anchors(vec![wrong])
        .with_known(known);
    live.check(&world, "the start").await;
    let r = harness::evaluate::live::checks(&live.take_record());
    assert!(!r.iter().any(CheckResult::fails_scenario), "{r:#?}");
    let known: Vec<&CheckResult> = r
        .iter()
        .filter(|c| c.message.starts_with("known divergence"))
        .collect();
    assert_eq!(known.len(), 4, "{r:#?}");
    assert!(known.iter().all(|c| {
        c.severity == Severity::Info
            && c.message
                .contains("this test gives hickory-resolver the wrong root key")
    }));
}

/// A registrant's wildcard under NSEC: `www` is answered from `*`, and the NSEC covering it is
/// the wildcard's own. hickory-resolver 0.26 calls that bogus (its NSEC wildcard bug; Unbound,
/// BIND and Knot Resolver accept the same answers in the differential test). The checked-in
/// list explains it by the answer's shape, so the run does not fail, and the same verdicts on
/// an answer of another shape would still be a mismatch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hickorys_nsec_wildcard_bug_is_a_known_divergence_by_the_answers_shape() {
    let text = r#"
        id = "wildcard-nsec"
        title = "a wildcard under NSEC"
        [registrars.A]
        played_by = "reference"
        operator = { algorithm = 13, denial = "nsec" }
        [registrars.B]
        played_by = "reference"
        [[domains]]
        name = "example.nl"
        sponsor = "A"
        records = ["* A 192.0.2.9", "@ MX 10 mail"]
        [[steps]]
        do = "run"
        for = "1h"
    "#;
    let s = scenario::parse(std::path::Path::new("wildcard-nsec.toml"), text).unwrap();
    let world = World::build(Arc::new(s), ClockMode::Virtual).await.unwrap();
    let mut live = LiveCheck::start(&world).await.unwrap();
    live.check(&world, "the start").await;
    let www = live
        .last()
        .iter()
        .find(|c| c.qname.to_ascii() == "www.example.nl." && c.qtype.to_string() == "A")
        .expect("www A is asked")
        .clone();
    assert_eq!(
        (www.live.as_str(), www.pure.as_str()),
        ("bogus", "secure"),
        "{:#?}",
        live.last()
    );
    let r = harness::evaluate::live::checks(&live.take_record());
    assert!(!r.iter().any(CheckResult::fails_scenario), "{r:#?}");
    assert!(
        r.iter().any(|c| c.severity == Severity::Info
            && c.message.contains("www.example.nl. A")
            && c.message.contains("verify_nsec")),
        "{r:#?}"
    );
}
