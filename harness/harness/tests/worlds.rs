//! The reference registrars are right in every world: random worlds (TTLs from a minute to
//! three days at the TLD and at each operator, publication delays up to 12 hours, poll
//! intervals up to 12 hours, algorithms 8/13/15, KSK+ZSK or CSK, NSEC or NSEC3 on either side,
//! one or two domains, A → B → A) each run with every check, and every one must pass.
//!
//! A fixed seed and 200 worlds by default; `WORLDS=N` and `WORLDS_SEED=S` run others. A
//! failure is shrunk to a minimal world and printed as a scenario file that reproduces it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use harness::explore::{generate, run_worlds, shrink, world_id};
use harness::report::{SuiteReport, transcript_text};
use harness::runner::RunOptions;

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_registrars_pass_in_random_worlds() {
    let seed = env_or("WORLDS_SEED", 20_261_130);
    let cases = usize::try_from(env_or("WORLDS", 200)).unwrap();
    let draws = generate(seed, cases);
    assert_eq!(draws.len(), cases);
    let worlds: Vec<_> = draws.iter().map(|d| d.world.clone()).collect();
    let options = RunOptions::default();
    let reports = run_worlds(seed, &worlds, &options, 2, |_| {})
        .await
        .unwrap();
    let failed: Vec<usize> = reports
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.passed)
        .map(|(i, _)| i)
        .collect();
    let Some(&first) = failed.first() else {
        return;
    };
    let listed: Vec<String> = failed
        .iter()
        .map(|i| {
            let checks: Vec<String> = reports[*i]
                .failures()
                .map(|c| c.check.id().to_string())
                .collect();
            format!(
                "{} [{}]: {}",
                world_id(seed, *i),
                checks.join(" "),
                worlds[*i].describe()
            )
        })
        .collect();
    let draw = draws.into_iter().nth(first).unwrap();
    let id = world_id(seed, first);
    let shrunk = shrink(draw, &id, reports[first].clone(), &options, 60).await;
    let summary = SuiteReport {
        kind: "harness-run",
        harness_version: env!("CARGO_PKG_VERSION"),
        started: jiff::Timestamp::now(),
        wall_seconds: 0.0,
        partition: None,
        scenarios: vec![shrunk.report.clone()],
    }
    .summary(true);
    panic!(
        "{} of {cases} worlds (seed {seed}) fail:\n{}\n\nthe first, shrunk in {} runs to:\n{}\n{summary}\n{}",
        failed.len(),
        listed.join("\n"),
        shrunk.runs,
        shrunk
            .world
            .to_toml(&id, &[format!("shrunk from world {first} of seed {seed}")]),
        transcript_text(&shrunk.report),
    );
}
