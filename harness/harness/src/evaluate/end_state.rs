//! How the run ended: who sponsors each domain, the DS set the parent serves, keys left
//! behind at the operators, and poll messages never acknowledged.

use hickory_proto::dnssec::rdata::{DNSSECRData, DS};
use hickory_proto::rr::{RData, RecordType};

use epp::secdns::KeyData;

use crate::checks::CheckId;
use crate::observe::Source;
use crate::record::Record;
use crate::report::CheckResult;
use crate::scenario::Scenario;
use crate::world::operator::key_data;

use super::{fail, pass};

/// `FINAL-SPONSOR`: each domain ends with the registrar the scenario expects.
pub fn sponsors(scenario: &Scenario, record: &Record) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for (di, ri) in &scenario.expect.sponsor {
        let d = &scenario.domains[*di].name;
        let want = &scenario.registrars[*ri];
        match record.end_state.sponsors.get(*di).copied().flatten() {
            Some(got) if got == *ri => out.push(pass(
                CheckId::Sponsor,
                format!("{d} is sponsored by {}", want.label),
            )),
            got => {
                let got = got.map_or("nobody".to_string(), |g| {
                    scenario.registrars[g].label.clone()
                });
                out.push(fail(
                    CheckId::Sponsor,
                    format!("{d} is sponsored by {got}, expected {}", want.label),
                    Some(record.end),
                    Vec::new(),
                ));
            }
        }
    }
    out
}

/// The DS set the parent served for `domain` at the end of the run (empty when it served
/// none, or stopped answering).
fn final_parent_ds(record: &Record, domain: &str) -> Vec<DS> {
    record
        .observations
        .current(&Source::Parent, &format!("{domain}."), RecordType::DS)
        .map(|v| {
            v.message
                .answers
                .iter()
                .filter_map(|r| match &r.data {
                    RData::DNSSEC(DNSSECRData::DS(d)) => Some(d.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `FINAL-DS`: at the end the parent serves a DS for exactly the KSKs of the operators the
/// scenario expects, read from the recorded timeline.
pub fn final_ds(scenario: &Scenario, record: &Record) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for (di, rs) in &scenario.expect.ds {
        let d = &scenario.domains[*di].name;
        let mut want = Vec::new();
        for ri in rs {
            if let Some(keys) = record.observations.own_dnskeys(*ri, d) {
                // A registrar with its own servers: the KSKs they serve at the end.
                for k in keys.iter().filter(|k| k.secure_entry_point()) {
                    want.extend(mock_registry::registry::keys::ds_for(d, &key_data(k)));
                }
                continue;
            }
            let ksk = record
                .end_state
                .operators
                .get(*ri)
                .and_then(|op| op.zone(d))
                .and_then(|z| z.ksk.as_ref());
            if let Some(k) = ksk {
                want.extend(mock_registry::registry::keys::ds_for(d, k));
            }
        }
        let got = final_parent_ds(record, d);
        let tags = |v: &[DS]| {
            v.iter()
                .map(|d| d.key_tag().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let same = want.len() == got.len() && want.iter().all(|w| got.contains(w));
        if same {
            out.push(pass(
                CheckId::FinalDs,
                format!("{d}: the parent publishes DS {}", tags(&got)),
            ));
        } else {
            let expected = rs
                .iter()
                .map(|r| scenario.registrars[*r].label.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            out.push(fail(
                CheckId::FinalDs,
                format!(
                    "{d}: the parent publishes DS [{}], expected the KSK DS of {expected} [{}]",
                    tags(&got),
                    tags(&want)
                ),
                Some(record.end),
                Vec::new(),
            ));
        }
    }
    out
}

/// `FINAL-STALE-KEYS`: at the end no operator publishes another operator's keys.
pub fn stale_keys(scenario: &Scenario, record: &Record) -> Vec<CheckResult> {
    let obs = &record.observations;
    let mut stale = Vec::new();
    for (i, r) in scenario.registrars.iter().enumerate() {
        // Servers a registrar runs itself: a key they still serve that another registrar's
        // DNS served first is a foreign key left behind.
        for d in &scenario.domains {
            if !obs.runs_own_servers(i) {
                continue;
            }
            let mine_src = |s: &Source| matches!(s, Source::Own(j, _) if *j == i);
            let mine_now = obs.served_dnskeys(mine_src, &d.name, true);
            let mine_ever = obs.served_dnskeys(mine_src, &d.name, false);
            let theirs =
                obs.served_dnskeys(|s| s.registrar().is_some_and(|j| j != i), &d.name, false);
            let left = mine_now
                .iter()
                .filter(|(k, _)| {
                    let first_mine = mine_ever.iter().find(|(x, _)| x == k).map(|(_, t)| *t);
                    theirs
                        .iter()
                        .any(|(x, t)| x == k && first_mine.is_none_or(|m| *t < m))
                })
                .count();
            if left > 0 {
                stale.push(format!(
                    "registrar {}'s own servers still publish {left} foreign key(s) in {}",
                    r.label, d.name
                ));
            }
        }
    }
    for (i, op) in record.end_state.operators.iter().enumerate() {
        if obs.runs_own_servers(i) {
            continue;
        }
        for z in op.zones.iter().filter(|z| z.foreign_keys > 0) {
            // A multi-signer group (RFC 8901 model 2) at the end: every signer in the final
            // delegation publishes the others' ZSKs, and those are not left over.
            let cosigned = cosigner_zsks(scenario, record, i, &z.domain);
            let left = z.foreign.iter().filter(|k| !cosigned.contains(k)).count();
            if left > 0 {
                stale.push(format!(
                    "operator {} still publishes {left} foreign key(s) in {}",
                    scenario.registrars[i].label, z.domain
                ));
            }
        }
    }
    if stale.is_empty() {
        vec![pass(
            CheckId::StaleKeys,
            "no operator publishes another operator's keys".into(),
        )]
    } else {
        vec![fail(
            CheckId::StaleKeys,
            stale[0].clone(),
            Some(record.end),
            stale,
        )]
    }
}

/// The ZSKs of operator `i`'s co-signers of `domain` at the end: the other operators that
/// serve it, when the parent's final NS set names name servers of operator `i` and of them.
/// Empty when `i` is not in the final delegation.
fn cosigner_zsks(scenario: &Scenario, record: &Record, i: usize, domain: &str) -> Vec<KeyData> {
    let ns = final_parent_ns(record, domain);
    let delegated = |j: usize| {
        scenario.registrars[j]
            .operator
            .ns
            .iter()
            .any(|h| ns.contains(&h.trim_end_matches('.').to_ascii_lowercase()))
    };
    if !delegated(i) {
        return Vec::new();
    }
    record
        .end_state
        .operators
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i && delegated(*j))
        .filter_map(|(_, op)| op.zone(domain))
        .flat_map(|z| z.zsks.iter().cloned())
        .collect()
}

/// The name servers the parent delegates `domain` to at the end (lower case, no dot).
fn final_parent_ns(record: &Record, domain: &str) -> Vec<String> {
    record
        .observations
        .current(&Source::Parent, &format!("{domain}."), RecordType::NS)
        .map(|v| {
            v.message
                .answers
                .iter()
                .chain(v.message.authorities.iter())
                .filter_map(|r| match &r.data {
                    RData::NS(n) => Some(n.0.to_ascii().trim_end_matches('.').to_ascii_lowercase()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `POLL-QUEUE-NOT-DRAINED`: at the end every registrar has acknowledged its poll messages
/// (when the scenario asks for it).
pub fn queues(scenario: &Scenario, record: &Record) -> Vec<CheckResult> {
    if !scenario.expect.queues_empty {
        return Vec::new();
    }
    let left: Vec<String> = record
        .end_state
        .queues
        .iter()
        .flat_map(|(c, q)| {
            q.iter()
                .map(move |m| format!("{c}: message {} queued at {} ({})", m.id, m.q_date, m.text))
        })
        .collect();
    if left.is_empty() {
        vec![pass(
            CheckId::QueueNotDrained,
            "every poll message was acknowledged".into(),
        )]
    } else {
        vec![fail(
            CheckId::QueueNotDrained,
            format!(
                "{} poll message(s) never acknowledged: {}",
                left.len(),
                left[0]
            ),
            Some(record.end),
            left,
        )]
    }
}
