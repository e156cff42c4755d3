//! `DS-AUTOMATION-TIMING`: the registry's CDS/CDNSKEY scanner against the timing the
//! scenario's policy promises (`[expect] ds_updates`): how many DS changes it made for a
//! domain in the whole run, and when the first one after the domain's last operator step
//! began came. A scanner that acts too
//! early (before a bootstrap delay ends) is as wrong as one that acts late or never.

use jiff::Timestamp;
use mock_registry::registry::automation::Decision;

use crate::checks::CheckId;
use crate::record::Record;
use crate::report::{CheckResult, human};
use crate::scenario::Scenario;

use super::{fail, pass};

/// One result per `[expect] ds_updates` entry.
pub fn timing(scenario: &Scenario, record: &Record) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for want in &scenario.expect.ds_updates {
        let domain = &scenario.domains[want.domain].name;
        let updates: Vec<&mock_registry::registry::AutomationEvent> = record
            .automation
            .iter()
            .filter(|e| e.domain == *domain && matches!(e.decision, Decision::Updated { .. }))
            .collect();
        // The clock starts at the last operator step for the domain (the scenario's start
        // without one).
        let from: Timestamp = record
            .operations
            .iter()
            .filter(|o| o.domain == *domain)
            .map(|o| o.started)
            .max()
            .unwrap_or(record.start);
        let evidence: Vec<String> = record
            .automation
            .iter()
            .filter(|e| e.domain == *domain)
            .map(|e| format!("{} {e}", human(e.time.duration_since(record.start))))
            .collect();
        if updates.len() != want.count {
            out.push(fail(
                CheckId::DsAutomationTiming,
                format!(
                    "the registry changed the DS of {domain} {} time(s), the scenario expects {}",
                    updates.len(),
                    want.count
                ),
                updates.first().map(|e| e.time).or(Some(record.end)),
                evidence,
            ));
            continue;
        }
        // The first change since the step: earlier ones answered earlier steps.
        let Some(first) = updates.iter().find(|e| e.time >= from) else {
            out.push(pass(
                CheckId::DsAutomationTiming,
                format!("the registry left the DS of {domain} alone, as expected"),
            ));
            continue;
        };
        let took = first.time.duration_since(from);
        let early = took < want.after;
        let late = want.within.is_some_and(|w| took > w);
        let window = match want.within {
            Some(w) => format!("between {} and {}", human(want.after), human(w)),
            None => format!("no sooner than {}", human(want.after)),
        };
        if early || late {
            out.push(fail(
                CheckId::DsAutomationTiming,
                format!(
                    "the registry changed the DS of {domain} {} after the step, the policy \
                     promises {window}",
                    human(took)
                ),
                Some(first.time),
                evidence,
            ));
        } else {
            out.push(pass(
                CheckId::DsAutomationTiming,
                format!(
                    "the registry changed the DS of {domain} {} after the step ({window})",
                    human(took)
                ),
            ));
        }
    }
    out
}
