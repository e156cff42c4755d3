//! The timeline picture's data, in the report: what each DNS source served for each checked
//! domain over virtual time (`lanes`), and what everybody did when (`events`).
//!
//! Both are computed once, from the recorded run, so that the JSON report carries everything
//! the picture shows: a reader of `certification.json` (or a tool merging partial reports)
//! can redraw it without the observations, which are not in the report.
//!
//! A lane is one question to one source: the parent's DS and NS for the domain, each
//! operator's (or own server's) DNSKEY and NS. Its segments tile the run from its virtual
//! start to its end; a new segment starts only when the *set* changes (key tags and
//! algorithms, host names, or the response code), not when only signatures change, so every
//! segment boundary is a change a reader should see.

use hickory_proto::dnssec::PublicKey as _;
use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use jiff::Timestamp;
use mock_registry::registry::LogEntry;
use serde::{Deserialize, Serialize};

use crate::observe::{Observations, Source};

/// The label of a stretch in which a source did not answer the question at all.
pub const NO_ANSWER: &str = "no answer";

/// One stretch of one lane: what one source served for one question, unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneSegment {
    /// The checked domain.
    pub domain: String,
    /// Who served it: `parent`, `operator A`, or `A own ns1.example.net` for a server a
    /// registrar process runs itself.
    pub source: String,
    /// `DS`, `NS` or `DNSKEY`.
    pub rrtype: String,
    /// Start (inclusive).
    pub from: Timestamp,
    /// End (exclusive); the run's end for what was still served then.
    pub until: Timestamp,
    /// The set: DS key tags and algorithms (`24324/13, 27920/13`), DNSKEYs with their role
    /// (`KSK 24324/13, ZSK 65069/13`), NS host names; `no DS` (and so on) for an empty
    /// answer, the response code (`REFUSED`, `NXDOMAIN`) for an error, [`NO_ANSWER`] when
    /// the source did not answer.
    pub label: String,
}

/// What kind of thing happened, for the picture's tick rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// A scenario step (the registrant's requests, waits, scripted commands).
    Step,
    /// A line a registrar logged: what it did, what it waits for.
    Log,
    /// A registrar process driving its hosted DNS operator (zones, relayed keys).
    Operator,
    /// An EPP command the registry executed, other than polls and session commands.
    Epp,
    /// `poll:req` and `poll:ack`.
    Poll,
    /// `login`, `logout` and other session commands.
    Session,
}

/// Something that happened at a virtual instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportEvent {
    /// When.
    pub at: Timestamp,
    /// The registrar's label (`A`), or none for the scenario's own steps.
    pub actor: Option<String>,
    /// What kind of event.
    pub kind: EventKind,
    /// What happened, for people (an EPP command with its object and result).
    pub text: String,
    /// The EPP result code, for EPP commands.
    pub code: Option<u16>,
}

/// The lanes of every checked domain, segments in order (domain, source, type, time):
/// the parent (DS, NS), then each registrar's operator or own servers (DNSKEY, NS).
pub fn lanes(
    obs: &Observations,
    domains: &[String],
    start: Timestamp,
    end: Timestamp,
) -> Vec<LaneSegment> {
    let mut sources: Vec<(Source, String)> = vec![(Source::Parent, "parent".to_string())];
    for (i, label) in obs.labels().iter().enumerate() {
        if obs.runs_own_servers(i) {
            // Its hosted operator is not asked (the registrar serves from its own servers).
            for (src, _, hosts) in obs.own_servers() {
                if src.registrar() == Some(i) {
                    let names: Vec<&str> = hosts.iter().map(|h| h.trim_end_matches('.')).collect();
                    sources.push((src.clone(), format!("{label} own {}", names.join(" "))));
                }
            }
        } else {
            sources.push((Source::Operator(i), format!("operator {label}")));
            if let Some((src, _, hosts)) = obs
                .secondaries()
                .iter()
                .find(|(s, _, _)| s.registrar() == Some(i))
            {
                let names: Vec<&str> = hosts.iter().map(|h| h.trim_end_matches('.')).collect();
                sources.push((
                    src.clone(),
                    format!("operator {label} secondary {}", names.join(" ")),
                ));
            }
        }
    }
    let mut out = Vec::new();
    for domain in domains {
        let qname = fqdn(domain);
        for (source, name) in &sources {
            let types: &[RecordType] = match source {
                Source::Parent => &[RecordType::DS, RecordType::NS],
                Source::Operator(_) | Source::Own(..) | Source::Secondary(_) => {
                    &[RecordType::DNSKEY, RecordType::NS]
                }
            };
            for &rtype in types {
                let mut versions: Vec<_> = obs
                    .versions()
                    .iter()
                    .filter(|v| v.source == *source && v.qname == qname && v.qtype == rtype)
                    .collect();
                versions.sort_by_key(|v| v.from);
                let stretches = versions.iter().map(|v| {
                    (
                        v.from,
                        v.until.unwrap_or(end),
                        set_label(&v.message, &qname, rtype),
                    )
                });
                for (from, until, label) in tile(stretches, start, end) {
                    out.push(LaneSegment {
                        domain: domain.clone(),
                        source: name.clone(),
                        rrtype: rtype.to_string(),
                        from,
                        until,
                        label,
                    });
                }
            }
        }
    }
    out
}

/// Tiles `[start, end)` with the given stretches (in order): gaps become [`NO_ANSWER`],
/// neighbours with the same label are joined, empty stretches dropped.
fn tile(
    stretches: impl Iterator<Item = (Timestamp, Timestamp, String)>,
    start: Timestamp,
    end: Timestamp,
) -> Vec<(Timestamp, Timestamp, String)> {
    let mut out: Vec<(Timestamp, Timestamp, String)> = Vec::new();
    let mut push = |from: Timestamp, until: Timestamp, label: String| {
        if until <= from {
            return;
        }
        match out.last_mut() {
            Some(last) if last.2 == label && last.1 == from => last.1 = until,
            _ => out.push((from, until, label)),
        }
    };
    let mut cursor = start;
    for (from, until, label) in stretches {
        let (from, until) = (from.max(cursor), until.min(end));
        if from > cursor {
            push(cursor, from, NO_ANSWER.to_string());
        }
        if until > from {
            push(from, until, label);
            cursor = until;
        }
    }
    if cursor < end {
        push(cursor, end, NO_ANSWER.to_string());
    }
    out
}

/// The set an answer carries, in words (see [`LaneSegment::label`]).
fn set_label(m: &Message, qname: &str, rtype: RecordType) -> String {
    let rcode = m.metadata.response_code;
    if rcode != ResponseCode::NoError {
        return match rcode {
            ResponseCode::NXDomain => "NXDOMAIN".into(),
            ResponseCode::Refused => "REFUSED".into(),
            ResponseCode::ServFail => "SERVFAIL".into(),
            other => other.to_str().to_uppercase(),
        };
    }
    // A referral carries the parent's NS in the authority section.
    let records = m
        .answers
        .iter()
        .chain(m.authorities.iter())
        .filter(|r| r.record_type() == rtype && r.name.to_ascii().eq_ignore_ascii_case(qname));
    let mut items: Vec<(u8, u32, String)> = records
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DS(ds)) => {
                let alg = u8::from(ds.algorithm());
                Some((
                    0,
                    u32::from(ds.key_tag()),
                    format!("{}/{alg}", ds.key_tag()),
                ))
            }
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => {
                let tag = dnssec::keys::key_tag(k);
                let (rank, role) = if k.revoke() {
                    (2, "REVOKED")
                } else if k.secure_entry_point() {
                    (0, "KSK")
                } else {
                    (1, "ZSK")
                };
                let alg = u8::from(k.public_key().algorithm());
                Some((rank, u32::from(tag), format!("{role} {tag}/{alg}")))
            }
            RData::NS(ns) => Some((
                0,
                0,
                ns.0.to_ascii().trim_end_matches('.').to_ascii_lowercase(),
            )),
            _ => None,
        })
        .collect();
    items.sort();
    items.dedup();
    if items.is_empty() {
        return format!("no {rtype}");
    }
    items
        .into_iter()
        .map(|(_, _, s)| s)
        .collect::<Vec<_>>()
        .join(", ")
}

fn fqdn(n: &str) -> String {
    format!("{}.", n.trim_end_matches('.'))
}

/// The run's events in time order: the timed transcript lines (steps as `[step N] …`,
/// registrar lines as `[A] …`, `[A info] …` or `[A operator] …`) and every EPP command in
/// the registry's log, attributed to the registrar whose clID sent it (`registrars`:
/// clID and label).
pub fn events(
    timed: &[(Timestamp, String)],
    registry_log: &[LogEntry],
    registrars: &[(String, String)],
) -> Vec<ReportEvent> {
    let mut out: Vec<ReportEvent> = timed
        .iter()
        .map(|(at, line)| transcript_event(*at, line, registrars))
        .collect();
    for e in registry_log {
        let actor = e.cl_id.as_deref().map(|c| {
            registrars
                .iter()
                .find(|(clid, _)| clid == c)
                .map_or_else(|| c.to_string(), |(_, label)| label.clone())
        });
        let kind = match e.command {
            c if c.starts_with("poll") => EventKind::Poll,
            "login" | "logout" | "hello" => EventKind::Session,
            _ => EventKind::Epp,
        };
        let mut text = e.command.to_string();
        if let Some(o) = &e.object {
            text.push(' ');
            text.push_str(o);
        }
        text.push_str(&format!(" → {}", e.code));
        if let Some(d) = &e.detail {
            text.push_str(&format!(" ({d})"));
        }
        out.push(ReportEvent {
            at: e.time,
            actor,
            kind,
            text,
            code: Some(e.code.code()),
        });
    }
    // Stable: lines of the same instant keep the order they were logged in.
    out.sort_by_key(|e| e.at);
    out
}

/// One transcript line as an event: the bracketed prefix says who and what.
fn transcript_event(at: Timestamp, line: &str, registrars: &[(String, String)]) -> ReportEvent {
    let plain = |actor: Option<String>, kind, text: &str| ReportEvent {
        at,
        actor,
        kind,
        text: text.to_string(),
        code: None,
    };
    let Some((tag, rest)) = line
        .strip_prefix('[')
        .and_then(|l| l.split_once(']'))
        .map(|(t, r)| (t, r.trim_start()))
    else {
        return plain(None, EventKind::Log, line);
    };
    if let Some(n) = tag.strip_prefix("step ") {
        return plain(None, EventKind::Step, &format!("step {n}: {rest}"));
    }
    let mut words = tag.split_whitespace();
    let who = words.next().unwrap_or_default();
    if registrars.iter().any(|(_, label)| label == who) {
        let kind = match words.next() {
            Some("operator") => EventKind::Operator,
            _ => EventKind::Log,
        };
        return plain(Some(who.to_string()), kind, rest);
    }
    plain(None, EventKind::Log, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("valid")
    }

    #[test]
    fn tiling_fills_gaps_and_joins_equal_neighbours() {
        let got = tile(
            [
                (t(10), t(20), "a".to_string()),
                (t(20), t(30), "a".to_string()),
                (t(40), t(50), "b".to_string()),
            ]
            .into_iter(),
            t(0),
            t(60),
        );
        let want = vec![
            (t(0), t(10), NO_ANSWER.to_string()),
            (t(10), t(30), "a".to_string()),
            (t(30), t(40), NO_ANSWER.to_string()),
            (t(40), t(50), "b".to_string()),
            (t(50), t(60), NO_ANSWER.to_string()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn transcript_lines_become_typed_events() {
        let regs = vec![("registrar-a".to_string(), "A".to_string())];
        let e = transcript_event(t(0), "[step 2] run until idle", &regs);
        assert_eq!(
            (e.kind, e.actor, e.text.as_str()),
            (EventKind::Step, None, "step 2: run until idle")
        );
        let e = transcript_event(t(0), "[A info] example.nl: relayed", &regs);
        assert_eq!((e.kind, e.actor.as_deref()), (EventKind::Log, Some("A")));
        assert_eq!(e.text, "example.nl: relayed");
        let e = transcript_event(t(0), "[A operator] create zone", &regs);
        assert_eq!(e.kind, EventKind::Operator);
        let e = transcript_event(t(0), "no prefix", &regs);
        assert_eq!((e.kind, e.actor), (EventKind::Log, None));
    }
}
