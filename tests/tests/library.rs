//! The scenario library end to end: every scenario passes with the reference registrars, every
//! deliberate fault is caught by the check its scenario expects (a mutation score of 100%),
//! and a faulty registrar in a scenario that expects a secure chain fails with a witness.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::collections::BTreeSet;
use std::sync::Arc;

use harness::checks::CheckId;
use harness::operations::OperationFault;
use harness::report::{Outcome, ScenarioReport};
use harness::runner::{RunOptions, run_scenario, run_suite};
use harness::scenario::{self, Fault, Scenario, Step};

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

    // The same for the reference operator's faults (DS automation steps).
    let mut caught_ops = BTreeSet::new();
    for s in library() {
        for step in &s.steps {
            let Step::Operator {
                fault: Some(fault), ..
            } = step
            else {
                continue;
            };
            assert!(
                !s.expect.failures.is_empty(),
                "{}: a faulty variant must expect the checks that catch it",
                s.id
            );
            let r = reports.iter().find(|r| r.id == s.id).unwrap();
            for check in &s.expect.failures {
                assert!(
                    r.checks
                        .iter()
                        .any(|c| c.check == *check && c.outcome == Outcome::ExpectedFail),
                    "{}: {check} did not catch {}",
                    s.id,
                    fault.name()
                );
            }
            caught_ops.insert(fault.name());
        }
    }
    let missed: Vec<_> = OperationFault::ALL
        .iter()
        .map(|f| f.name())
        .filter(|f| !caught_ops.contains(f))
        .collect();
    assert!(
        missed.is_empty(),
        "operator faults without a catching scenario: {missed:?}"
    );

    // The scanner's refusals are in the transcript, with their reason.
    let r = reports
        .iter()
        .find(|r| r.id == "fault-cds-cdnskey-disagree")
        .unwrap();
    assert!(
        r.transcript.iter().any(|l| l.contains("[registry scanner]")
            && l.contains("CDS and CDNSKEY name different keys")),
        "{:#?}",
        r.transcript
    );
    // A bootstrap waits the whole delay: the .se scanner says when it may act.
    let r = reports
        .iter()
        .find(|r| r.id == "ds-automation-bootstrap-se")
        .unwrap();
    assert!(
        r.transcript
            .iter()
            .any(|l| l.contains("[registry scanner]") && l.contains("not before")),
        "{:#?}",
        r.transcript
    );

    // RFC 9615: with signals under every name server the first DS comes at the first scan;
    // with one missing the scanner says which and waits out its delay.
    let r = reports
        .iter()
        .find(|r| r.id == "ds-automation-bootstrap-ch-signals")
        .unwrap();
    assert!(
        r.transcript.iter().any(|l| l.contains("[registry scanner]")
            && l.contains("RFC 9615 signals from every name server")),
        "{:#?}",
        r.transcript
    );
    let r = reports
        .iter()
        .find(|r| r.id == "fault-signals-on-first-ns-only")
        .unwrap();
    assert!(
        r.transcript.iter().any(|l| l.contains("[registry scanner]")
            && l.contains("no RFC 9615 bootstrap: ns2.operator-a.example: missing")),
        "{:#?}",
        r.transcript
    );

    // Key relay receipts: a relayed key never published yields notPublished at the end of the
    // registry's watch (a day), and the gaining side gives up at that receipt.
    let r = reports
        .iter()
        .find(|r| r.id == "keyrelay-receipt-not-published")
        .unwrap();
    let not_published = r
        .receipts
        .iter()
        .find(|x| x.state == "notPublished")
        .unwrap();
    assert_eq!(
        not_published
            .state_date
            .duration_since(r.virtual_start)
            .as_secs(),
        24 * 3600
    );
    assert!(
        r.transcript
            .iter()
            .any(|l| l.contains("giving up: the registry's receipt says the relayed key was not")),
        "{:#?}",
        r.transcript
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

/// The key relay receipt scenario: the gaining side gets `published` only once every name
/// server serves its key (the lagging secondary six hours after the relay), transfers only
/// after that receipt, and a scenario expecting other receipts fails on
/// `KEYRELAY-RECEIPT-EXPECTED` while the receipts themselves are judged true.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gaining_side_waits_for_the_published_receipt() {
    let mut s = scenario::library::load("keyrelay-receipts.toml").unwrap();
    s.expect.receipts = vec![(0, vec!["published".to_string()])];
    let r = run_scenario(Arc::new(s), &RunOptions::default()).await;
    let outcome = |id: CheckId| {
        r.checks
            .iter()
            .find(|c| c.check == id)
            .map(|c| c.outcome)
            .unwrap()
    };
    assert_eq!(outcome(CheckId::KeyRelayReceiptExpected), Outcome::Fail);
    assert_eq!(outcome(CheckId::KeyRelayReceiptTiming), Outcome::Pass);
    assert_eq!(outcome(CheckId::ChainBogus), Outcome::Pass);

    let states: Vec<&str> = r.receipts.iter().map(|x| x.state.as_str()).collect();
    assert_eq!(states, ["delivered", "published"]);
    let published = &r.receipts[1];
    assert!(
        published
            .state_date
            .duration_since(r.virtual_start)
            .as_secs()
            >= 6 * 3600,
        "published at {} despite the secondary's six hours' lag",
        published.state_date
    );
    assert!(published.hosts.values().all(|h| *h == "published"));
    let line = |needle: &str| {
        r.transcript
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in {:#?}", r.transcript))
    };
    assert!(
        line("receipt says every name server publishes our ZSK")
            < line("example.nl: transferred ("),
        "the gaining side transferred before the receipt"
    );
}

/// `RunOptions::in_process` (what `harness explore` uses): the harness's queries reach the
/// world's servers without sockets, by the same responder, and the reference registrars' EPP
/// sessions go over in-memory pipes to the same TLS server, so every scenario of the library
/// gets the same verdict, check by check, and the live check (hickory-resolver, through the
/// router's sockets) still agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_gives_the_library_the_same_verdicts() {
    let in_process = RunOptions {
        in_process: true,
        ..RunOptions::default()
    };
    let by_sockets = run_suite(library(), &RunOptions::default(), 4, |_| {}).await;
    let direct = run_suite(library(), &in_process, 4, |_| {}).await;
    assert_eq!(by_sockets.len(), direct.len());
    let verdict = |r: &ScenarioReport| {
        // Outcomes check by check, the run's end, and how many cache states the chain checks
        // covered (what was observed, when): messages quote signature times of the wall
        // clock, which differ between any two runs.
        let mut v: Vec<(CheckId, String)> = r
            .checks
            .iter()
            .map(|c| (c.check, format!("{:?}", c.outcome)))
            .collect();
        v.sort();
        (r.passed, v, r.virtual_end, r.combinations)
    };
    for (a, b) in by_sockets.iter().zip(&direct) {
        assert_eq!(a.id, b.id);
        assert_eq!(verdict(a), verdict(b), "{}", a.id);
    }
    assert!(direct.iter().all(|r| r.passed));
}
