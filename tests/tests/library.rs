//! The scenario library end to end: every scenario passes with the reference registrars, every
//! deliberate fault is caught by the check its scenario expects (a mutation score of 100%),
//! and a faulty registrar in a scenario that expects a secure chain fails with a witness.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::collections::BTreeSet;
use std::sync::Arc;

use harness::checks::CheckId;
use harness::report::{Outcome, ScenarioReport};
use harness::runner::{RunOptions, run_scenario, run_suite};
use harness::scenario::{self, Fault, Scenario};

fn library() -> Vec<Scenario> {
    let all = scenario::load_all(&[]).unwrap();
    assert!(all.len() >= 15, "the library has {} scenarios", all.len());
    all
}

/// Every scenario at once, each reported (a scenario whose task panicked fails the test).
async fn run_all(scenarios: Vec<Scenario>) -> Vec<ScenarioReport> {
    let n = scenarios.len();
    let out = run_suite(scenarios, &RunOptions::default(), n, |_| {}).await;
    assert_eq!(out.len(), n, "a scenario task failed");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_library_passes_and_every_fault_is_caught() {
    let scenarios = library();
    let faults: Vec<(String, Option<Fault>, BTreeSet<CheckId>)> = scenarios
        .iter()
        .map(|s| {
            (
                s.id.clone(),
                s.registrars.iter().find_map(|r| r.fault),
                s.expect.failures.clone(),
            )
        })
        .collect();
    let reports = run_all(scenarios).await;
    let failed: Vec<String> = reports
        .iter()
        .filter(|r| !r.passed)
        .map(|r| {
            format!(
                "{}: {:?} {:?}",
                r.id,
                r.error,
                r.failures()
                    .map(|c| (c.check, c.message.clone()))
                    .collect::<Vec<_>>()
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "failing scenarios:\n{}",
        failed.join("\n")
    );

    // Mutation score: each fault has a scenario, and there its expected checks failed.
    let mut caught = BTreeSet::new();
    for (id, fault, expected) in &faults {
        let Some(fault) = fault else { continue };
        assert!(
            !expected.is_empty(),
            "{id}: a faulty variant must expect the checks that catch it"
        );
        let r = reports.iter().find(|r| r.id == *id).unwrap();
        for check in expected {
            assert!(
                r.checks
                    .iter()
                    .any(|c| c.check == *check && c.outcome == Outcome::ExpectedFail),
                "{id}: {check} did not catch {fault}"
            );
        }
        caught.insert(*fault);
    }
    let all: BTreeSet<Fault> = Fault::ALL.into_iter().collect();
    let missed: Vec<_> = all.difference(&caught).collect();
    assert!(
        missed.is_empty(),
        "faults without a catching scenario: {missed:?}"
    );

    // Correct procedures were judged over real cache states, not vacuously.
    for r in reports
        .iter()
        .filter(|r| r.id.starts_with("secure-transfer"))
    {
        assert!(
            r.combinations > 50,
            "{}: only {} cache states",
            r.id,
            r.combinations
        );
        assert!(
            r.checks
                .iter()
                .any(|c| c.check == CheckId::ChainBogus && c.outcome == Outcome::Pass)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_registrar_expected_to_be_secure_fails_with_a_witness() {
    let mut s = scenario::library::load("fault-ns-switched-too-early.toml").unwrap();
    s.expect.failures.clear();
    let r = run_scenario(Arc::new(s), &RunOptions::default()).await;
    assert!(!r.passed);
    let bogus = r
        .checks
        .iter()
        .find(|c| c.check == CheckId::ChainBogus)
        .unwrap();
    assert_eq!(bogus.outcome, Outcome::Fail);
    assert!(bogus.at.is_some(), "the failure says when");
    assert!(bogus.message.contains("bogus from +"), "{}", bogus.message);
    let witness = bogus.evidence.join("\n");
    assert!(witness.contains("resolver state at +"), "{witness}");
    assert!(
        witness.contains("DNSKEY of example.nl.") && witness.contains("from operator"),
        "{witness}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_run() {
    let s = Arc::new(scenario::library::load("secure-transfer-15-15.toml").unwrap());
    let a = run_scenario(s.clone(), &RunOptions::default()).await;
    let b = run_scenario(s, &RunOptions::default()).await;
    let strip = |r: &ScenarioReport| {
        r.transcript
            .iter()
            .filter(|l| !l.contains("EPP"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        strip(&a),
        strip(&b),
        "same registrar actions at the same virtual times"
    );
    assert_eq!(a.virtual_end, b.virtual_end);
    assert_eq!(
        a.timeline
            .iter()
            .map(|t| (t.at, t.ds.clone(), t.ns.clone(), t.dnskey.clone()))
            .collect::<Vec<_>>(),
        b.timeline
            .iter()
            .map(|t| (t.at, t.ds.clone(), t.ns.clone(), t.dnskey.clone()))
            .collect::<Vec<_>>()
    );
}
