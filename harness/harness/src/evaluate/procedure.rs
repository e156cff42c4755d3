//! What the registrars did: scripted EPP results, registrar processes, refused commands, and
//! whether every procedure finished, in time.

use crate::checks::CheckId;
use crate::record::Record;
use crate::report::{CheckResult, Outcome, human};
use crate::scenario::Scenario;

use super::{fail, pass};

/// `EPP-EXPECTED-RESULT`: each scripted EPP step got the result code the scenario expects.
pub fn expected_codes(record: &Record) -> Vec<CheckResult> {
    record
        .expected_codes
        .iter()
        .map(|e| CheckResult {
            check: CheckId::EppExpectedCode,
            severity: CheckId::EppExpectedCode.severity(),
            outcome: if e.want == e.got {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            message: format!("{}: got {}, expected {}", e.step, e.got, e.want),
            at: Some(e.at),
            step: Some(e.step.clone()),
            evidence: Vec::new(),
        })
        .collect()
}

/// `REGISTRAR-FAILURE`: registrar processes followed the adapter protocol, and no registrar
/// refused a registrant's request.
pub fn registrars(record: &Record) -> Vec<CheckResult> {
    let mut failures = record.registrar_errors.clone();
    let mut processes = 0;
    for seat in record.seats.iter().filter(|s| s.process) {
        processes += 1;
        failures.extend(seat.failure.clone());
    }
    if let Some(first) = failures.first() {
        vec![fail(
            CheckId::RegistrarFailure,
            first.clone(),
            None,
            failures,
        )]
    } else if processes > 0 {
        vec![pass(
            CheckId::RegistrarFailure,
            format!("{processes} registrar process(es) followed the adapter protocol"),
        )]
    } else {
        Vec::new()
    }
}

/// `EPP-COMMAND-REFUSED`: the registry accepted every command a registrar sent during the
/// procedure (the world's setup, scripted steps and the answers the registry's chaos injected
/// aside).
pub fn refusals(scenario: &Scenario, record: &Record) -> Vec<CheckResult> {
    let start = scenario.world.start;
    let clids: Vec<&str> = scenario
        .registrars
        .iter()
        .map(|r| r.clid.as_str())
        .collect();
    let refused: Vec<String> = record
        .registry_log
        .iter()
        .enumerate()
        .filter(|(i, e)| {
            !e.code.is_success()
                // The registry's chaos answered, not a rule: the registrar is not to blame.
                && !e.is_chaos()
                && e.cl_id.as_deref().is_some_and(|c| clids.contains(&c))
                && e.cl_trid.as_deref() != Some("SETUP-0001")
                && !record.scripted.iter().any(|r| r.contains(i))
        })
        .map(|(_, e)| {
            format!(
                "{} {} {} {} → {} {}",
                human(e.time.duration_since(start)),
                e.cl_id.as_deref().unwrap_or("-"),
                e.command,
                e.object.as_deref().unwrap_or(""),
                e.code,
                e.detail.as_deref().unwrap_or("")
            )
        })
        .collect();
    if refused.is_empty() {
        vec![pass(
            CheckId::EppRefused,
            "the registry accepted every command of the procedure".into(),
        )]
    } else {
        vec![fail(
            CheckId::EppRefused,
            format!(
                "the registry refused {} command(s): {}",
                refused.len(),
                refused[0]
            ),
            None,
            refused,
        )]
    }
}

/// `PROCEDURE-INCOMPLETE`: every registrar finished its part: none gave up, none was still
/// running at the end, and every gaining registrar started the move it was asked for; and
/// every procedure of the reference operator finished.
pub fn completion(scenario: &Scenario, record: &Record) -> Vec<CheckResult> {
    let mut incomplete = Vec::new();
    for (i, seat) in record.seats.iter().enumerate() {
        let label = &scenario.registrars[i].label;
        let r = &seat.report;
        incomplete.extend(
            r.failed
                .iter()
                .map(|(d, why)| format!("{label}: {d}: gave up: {why}")),
        );
        incomplete.extend(
            r.busy
                .iter()
                .map(|d| format!("{label}: {d}: still running at the end")),
        );
    }
    for o in &record.operations {
        let label = &scenario.registrars[o.operator].label;
        let what = o.change.name();
        if let Some(why) = &o.failure {
            incomplete.push(format!(
                "operator {label}: {}: {what} gave up: {why}",
                o.domain
            ));
        } else if o.done_at.is_none() {
            incomplete.push(format!(
                "operator {label}: {}: {what} still running at the end",
                o.domain
            ));
        }
    }
    for t in &record.transfers {
        let label = &scenario.registrars[t.to].label;
        let r = &record.seats[t.to].report;
        let known = r.done.contains(&t.domain)
            || r.failed.iter().any(|(x, _)| *x == t.domain)
            || r.busy.contains(&t.domain);
        if !known {
            incomplete.push(format!("{label}: {}: never started", t.domain));
        }
    }
    if incomplete.is_empty() {
        vec![pass(
            CheckId::ProcedureIncomplete,
            "every registrar finished its part".into(),
        )]
    } else {
        vec![fail(
            CheckId::ProcedureIncomplete,
            incomplete[0].clone(),
            Some(record.end),
            incomplete,
        )]
    }
}

/// `PROCEDURE-DEADLINE`: every move finished within the scenario's `done_within`.
pub fn deadlines(scenario: &Scenario, record: &Record) -> Vec<CheckResult> {
    let Some(limit) = scenario.expect.done_within else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in &record.transfers {
        let d = &t.domain;
        match record.seats[t.to].done_at.get(d) {
            Some(done) if done.duration_since(t.started) <= limit => out.push(pass(
                CheckId::Deadline,
                format!("{d} moved in {}", human(done.duration_since(t.started))),
            )),
            Some(done) => out.push(fail(
                CheckId::Deadline,
                format!(
                    "{d} took {}, more than {}",
                    human(done.duration_since(t.started)),
                    human(limit)
                ),
                Some(*done),
                Vec::new(),
            )),
            None => out.push(fail(
                CheckId::Deadline,
                format!("{d} was not moved within {}", human(limit)),
                None,
                Vec::new(),
            )),
        }
    }
    out
}
