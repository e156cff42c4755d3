//! Wall-clock mode gives the same verdicts as the virtual clock: the library's happy paths and
//! faults of every kind (a chain broken by an early NS switch, an early DS removal, a zone
//! removed while delegated, a key not imported, a key relay refused) are judged alike when the
//! registry, the operators and the registrars run on the system clock with every duration
//! divided by the default time scale. The checker is the same code on both timelines; this
//! shows the timeline the runner records on the wall clock is one it can judge. With real DNS
//! software as operators (PowerDNS, Knot DNS), the secure transfer passes and faults are caught.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::collections::BTreeMap;

use harness::report::{Outcome, ScenarioReport};
use harness::runner::{RunOptions, run_suite};
use harness::scenario;
use harness::world::ClockMode;

const SCENARIOS: [&str; 10] = [
    "secure-transfer-13-13",
    "secure-transfer-8-8",
    "secure-transfer-csk",
    "secure-transfer-nsec-to-nsec3",
    "unsigned-domain",
    "fault-ns-switched-too-early",
    "fault-old-ds-removed-too-early",
    "fault-zone-removed-while-delegated",
    "fault-losing-zsk-not-imported",
    "fault-keyrelay-wrong-token",
];

/// Per scenario: whether it passed, and every check that did not simply pass.
fn verdicts(reports: &[ScenarioReport]) -> BTreeMap<String, (bool, Vec<(String, Outcome)>)> {
    reports
        .iter()
        .map(|r| {
            let mut checks: Vec<(String, Outcome)> = r
                .checks
                .iter()
                .filter(|c| c.outcome != Outcome::Pass)
                .map(|c| (c.check.id().to_string(), c.outcome))
                .collect();
            checks.sort_by(|a, b| a.0.cmp(&b.0));
            (r.id.clone(), (r.passed, checks))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_clock_gives_the_virtual_clocks_verdicts() {
    let scenarios: Vec<_> = SCENARIOS
        .iter()
        .map(|id| scenario::library::load(&format!("{id}.toml")).unwrap())
        .collect();
    let virtual_run = run_suite(scenarios.clone(), &RunOptions::default(), 2, |_| {}).await;
    let wall = RunOptions {
        clock: ClockMode::Wall {
            scale: ClockMode::DEFAULT_SCALE,
        },
        ..RunOptions::default()
    };
    // On the wall clock the scenarios wait in real time, not on the CPU: all at once.
    let wall_run = run_suite(scenarios, &wall, SCENARIOS.len(), |_| {}).await;
    for r in &wall_run {
        assert_eq!(r.clock, "wall");
        assert_eq!(r.time_scale, ClockMode::DEFAULT_SCALE);
        assert!(r.error.is_none(), "{}: {:?}", r.id, r.error);
    }
    let (v, w) = (verdicts(&virtual_run), verdicts(&wall_run));
    assert_eq!(v.len(), SCENARIOS.len());
    for (id, expected) in &v {
        assert!(expected.0, "{id} fails on the virtual clock: {expected:?}");
        assert_eq!(w.get(id), Some(expected), "{id}: wall clock differs");
    }
    // The faults were caught on both clocks, not merely passed.
    for id in SCENARIOS.iter().filter(|id| id.starts_with("fault-")) {
        assert!(
            w[*id].1.iter().any(|(_, o)| *o == Outcome::ExpectedFail),
            "{id}: nothing caught on the wall clock"
        );
    }
}

/// The scenarios with real DNS software as operators (scenarios/real-servers/): the reference
/// registrars move a domain between PowerDNS and Knot DNS in both directions and between two
/// PowerDNS operators, and the two faults are caught in what the real servers serve. Runs in
/// the same test binary as the agreement test, so both wait at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_dns_servers_as_operators() {
    let scenarios = scenario::library::load_dir("real-servers").unwrap();
    assert_eq!(
        scenarios.len(),
        5,
        "{:?}",
        scenarios.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
    let software: Vec<String> = scenarios
        .iter()
        .map(|s| {
            s.registrars
                .iter()
                .map(|r| r.operator.software.name())
                .collect::<Vec<_>>()
                .join("→")
        })
        .collect();
    for pair in ["powerdns→knot", "knot→powerdns", "powerdns→powerdns"] {
        assert!(
            software.iter().any(|s| s == pair),
            "{pair} missing: {software:?}"
        );
    }
    let wall = RunOptions {
        clock: ClockMode::Wall {
            scale: ClockMode::DEFAULT_SCALE,
        },
        ..RunOptions::default()
    };
    let n = scenarios.len();
    let reports = run_suite(scenarios, &wall, n, |_| {}).await;
    for r in &reports {
        let failures: Vec<String> = r
            .checks
            .iter()
            .filter(|c| c.fails_scenario())
            .map(|c| format!("{} {}", c.check.id(), c.message))
            .collect();
        assert!(r.passed, "{}: {:?} {failures:#?}", r.id, r.error);
        if r.id.contains("fault") {
            assert!(
                r.checks.iter().any(|c| c.outcome == Outcome::ExpectedFail),
                "{}: nothing caught",
                r.id
            );
        } else {
            assert!(
                r.checks.iter().all(|c| c.outcome != Outcome::ExpectedFail),
                "{}",
                r.id
            );
        }
    }
}
