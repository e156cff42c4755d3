//! Judges a run: every check family, each a pure function of the scenario and the [`Record`]
//! the run left behind. Nothing here queries a server, a registrar or the registry.
//!
//! - [`chain`]: the chain of trust from the observation timeline and the cache model
//!   (`DNSSEC-CHAIN-BOGUS`, `DNSSEC-INSECURE-WINDOW`, `DNSSEC-ALGORITHM-COMPLETENESS`,
//!   `DNSSEC-LAME-DS`).
//! - [`procedure`]: what the registrars did (`EPP-EXPECTED-RESULT`, `REGISTRAR-FAILURE`,
//!   `EPP-COMMAND-REFUSED`, `PROCEDURE-INCOMPLETE`, `PROCEDURE-DEADLINE`).
//! - [`end_state`]: how the run ended (`FINAL-SPONSOR`, `FINAL-DS`, `FINAL-STALE-KEYS`,
//!   `POLL-QUEUE-NOT-DRAINED`).
//! - [`live`]: the live check's comparisons (`DNSSEC-LIVE-MISMATCH`).
//! - [`fleet`]: the real resolvers' answers against the cache model (`RESOLVER-FAILED`,
//!   `HARNESS-MODEL-MISSED`).
//! - [`receipts`]: key relay receipts against the observations and the scenario
//!   (`KEYRELAY-RECEIPT-TIMING`, `KEYRELAY-RECEIPT-EXPECTED`).
//! - [`automation`]: the registry's CDS/CDNSKEY scanner against the scenario's promised timing
//!   (`DS-AUTOMATION-TIMING`).
//!
//! [`apply_expectations`] then marks the failures a scenario expects (its deliberate fault)
//! and the expected failures that did not happen.

use jiff::Timestamp;

use crate::checks::CheckId;
use crate::record::Record;
use crate::report::{CheckResult, Outcome, VerdictBand};
use crate::scenario::Scenario;

pub mod automation;
pub mod chain;
pub mod end_state;
pub mod fleet;
pub mod live;
pub mod procedure;
pub mod receipts;

/// The verdict on one run.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// Every check, in report order.
    pub checks: Vec<CheckResult>,
    /// Cache states (combinations) the chain checks covered.
    pub combinations: u64,
    /// Per domain, the verdict over time.
    pub verdicts: Vec<VerdictBand>,
}

/// Evaluates every check family on a run's record, in report order.
pub fn evaluate(scenario: &Scenario, record: &Record) -> Evaluation {
    let mut checks = procedure::expected_codes(record);
    checks.extend(live::checks(&record.live));
    let chain = chain::chain(scenario, record);
    checks.extend(chain.checks);
    checks.extend(fleet::checks(
        scenario,
        record,
        &chain.verdicts,
        &chain.insecure,
    ));
    checks.extend(procedure::registrars(record));
    checks.extend(procedure::refusals(scenario, record));
    checks.extend(procedure::completion(scenario, record));
    checks.extend(procedure::deadlines(scenario, record));
    checks.extend(end_state::sponsors(scenario, record));
    checks.extend(end_state::final_ds(scenario, record));
    checks.extend(end_state::stale_keys(scenario, record));
    checks.extend(end_state::queues(scenario, record));
    checks.extend(receipts::timing(scenario, record));
    checks.extend(receipts::expected(scenario, record));
    checks.extend(automation::timing(scenario, record));
    Evaluation {
        checks,
        combinations: chain.combinations,
        verdicts: chain.verdicts,
    }
}

/// Marks expected failures, and missed ones, per the scenario's `[expect]`.
pub fn apply_expectations(s: &Scenario, checks: &mut Vec<CheckResult>) {
    for c in checks.iter_mut() {
        if c.outcome == Outcome::Fail && s.expect.failures.contains(&c.check) {
            c.outcome = Outcome::ExpectedFail;
        }
    }
    for want in &s.expect.failures {
        if !checks
            .iter()
            .any(|c| c.check == *want && c.outcome == Outcome::ExpectedFail)
        {
            checks.push(CheckResult {
                check: *want,
                severity: want.severity(),
                outcome: Outcome::UnexpectedPass,
                message: format!(
                    "the scenario expects {want} to fail (a deliberate fault), but it held: the \
                     fault was not caught"
                ),
                at: None,
                step: None,
                evidence: Vec::new(),
            });
        }
    }
}

/// A failed check.
pub(crate) fn fail(
    check: CheckId,
    message: String,
    at: Option<Timestamp>,
    evidence: Vec<String>,
) -> CheckResult {
    CheckResult {
        check,
        severity: check.severity(),
        outcome: Outcome::Fail,
        message,
        at,
        step: None,
        evidence,
    }
}

/// A passed check.
pub(crate) fn pass(check: CheckId, message: String) -> CheckResult {
    CheckResult {
        check,
        severity: check.severity(),
        outcome: Outcome::Pass,
        message,
        at: None,
        step: None,
        evidence: Vec::new(),
    }
}
