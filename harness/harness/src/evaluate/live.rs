//! `DNSSEC-LIVE-MISMATCH`: hickory-resolver and the harness's validator judged the served
//! state alike every time the live check ran.

use crate::checks::{CheckId, Severity};
use crate::live::{HICKORY, LiveRecord};
use crate::report::{CheckResult, Outcome};

/// A failed check for the disagreements (the first as the message, the others in the
/// evidence), or a passed one saying how much was compared; known divergences as
/// informational results; a `HARNESS-FAULT` for each time the check could not run.
pub fn checks(record: &LiveRecord) -> Vec<CheckResult> {
    if record.instants == 0 && record.faults.is_empty() {
        // The live check did not run (left out on purpose): nothing to report.
        return Vec::new();
    }
    let mut out: Vec<CheckResult> = record
        .known
        .iter()
        .map(|k| CheckResult {
            check: CheckId::LiveMismatch,
            severity: Severity::Info,
            outcome: Outcome::Pass,
            message: k.message.clone(),
            at: Some(k.at),
            step: Some(k.step.clone()),
            evidence: k.evidence.clone(),
        })
        .collect();
    if let Some(first) = record.mismatches.first() {
        let mut evidence = first.evidence.clone();
        for m in record.mismatches.iter().skip(1).take(9) {
            evidence.push(format!("also: {}", m.message));
        }
        if record.mismatches.len() > 10 {
            evidence.push(format!(
                "and {} more disagreement(s)",
                record.mismatches.len() - 10
            ));
        }
        out.push(CheckResult {
            check: CheckId::LiveMismatch,
            severity: CheckId::LiveMismatch.severity(),
            outcome: Outcome::Fail,
            message: format!(
                "{} of {} live comparison(s) disagree; first: {}",
                record.mismatches.len(),
                record.compared,
                first.message
            ),
            at: Some(first.at),
            step: Some(first.step.clone()),
            evidence,
        });
    } else if record.faults.is_empty() {
        out.push(CheckResult {
            check: CheckId::LiveMismatch,
            severity: CheckId::LiveMismatch.severity(),
            outcome: Outcome::Pass,
            message: format!(
                "{HICKORY} agreed with the harness's validator on {} question(s) at {} \
                 instant(s){}",
                record.compared,
                record.instants,
                if record.second_looks > 0 {
                    format!(
                        " ({} of them on a second look, after one side had missed an answer \
                         in time)",
                        record.second_looks
                    )
                } else {
                    String::new()
                }
            ),
            at: None,
            step: None,
            evidence: Vec::new(),
        });
    }
    for f in &record.faults {
        out.push(CheckResult {
            check: CheckId::HarnessFault,
            severity: CheckId::HarnessFault.severity(),
            outcome: Outcome::Fail,
            message: f.clone(),
            at: None,
            step: None,
            evidence: Vec::new(),
        });
    }
    out
}
