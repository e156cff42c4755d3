//! The registrant's zone content, as scenarios and the adapter protocol write it: relative
//! presentation lines such as `www 300 A 192.0.2.10`, `@ MX 10 mail` or `ftp CNAME www`.
//!
//! A line is `OWNER [TTL] [IN] TYPE RDATA`. The owner `@` is the domain's apex; an owner without
//! a trailing dot is relative to the domain; `*.shop` is a wildcard (RFC 4592). Domain names
//! inside the data of MX, CNAME, NS, PTR, DNAME and SRV records are relative to the domain too
//! unless they end with a dot. These records are the ground truth of the content check: every
//! answer a resolver could get for a checked name must carry what they say, and
//! [`expected`] works out what that is the way an authoritative server answers (RFC 1034
//! §4.3.2): the data at the name, a CNAME there, the expansion of the wildcard at the closest
//! encloser, or the CNAME a DNAME above the name synthesises.

use dnssec::Zone;
use dnssec::presentation::{parse_rdata, rdata_text, split_field};
use dnssec::zone::{dname_rdata, dname_substitute, label_count, wildcard_of};
use hickory_proto::rr::rdata::{CNAME, SOA};
use hickory_proto::rr::{Name, RData, RecordType};

use checker::Expected;

/// The longest TTL there is: 2^31 − 1 seconds (RFC 2181 §8), in a record or a scenario.
pub const MAX_TTL: u32 = 0x7fff_ffff;

/// One record of the registrant's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrantRecord {
    /// The owner name (absolute, lowercase).
    pub owner: Name,
    /// The TTL the line gives, if any (the operator's data TTL otherwise).
    pub ttl: Option<u32>,
    /// The record type.
    pub rtype: RecordType,
    /// The data, with every name made absolute.
    pub rdata: RData,
}

/// Why a line is not a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {line:?}: {reason}")]
pub struct RecordError {
    /// The line as written in the scenario file, quoted back to the author.
    pub line: String,
    /// What is wrong with it.
    pub reason: String,
}

fn absolute(name: &str, domain: &str) -> String {
    let domain = domain.trim_end_matches('.');
    match name {
        "@" => format!("{domain}."),
        n if n.ends_with('.') => n.to_string(),
        n => format!("{n}.{domain}."),
    }
}

impl RegistrantRecord {
    /// Reads one relative line of `domain`'s zone. See the module documentation.
    pub fn parse(domain: &str, line: &str) -> Result<Self, RecordError> {
        let err = |reason: String| RecordError {
            line: line.to_string(),
            reason,
        };
        let fields = || err("expected OWNER [TTL] [IN] TYPE DATA".into());
        let (owner, mut rest) = split_field(line).ok_or_else(fields)?;
        let owner = Name::from_ascii(absolute(owner, domain))
            .map_err(|e| err(format!("owner: {e}")))?
            .to_lowercase();
        let mut next = || -> Result<&str, RecordError> {
            let (field, after) = split_field(rest).ok_or_else(fields)?;
            rest = after;
            Ok(field)
        };
        let mut type_token = next()?;
        let ttl = match type_token.parse::<u32>() {
            // RFC 2181 §8: a TTL has 31 bits; refused, not cut down.
            Ok(t) if t > MAX_TTL => {
                return Err(err(format!(
                    "TTL {t} is longer than a DNS TTL can be ({MAX_TTL} seconds; RFC 2181 §8)"
                )));
            }
            Ok(t) => {
                type_token = next()?;
                Some(t)
            }
            Err(_) => None,
        };
        if type_token.eq_ignore_ascii_case("IN") {
            type_token = next()?;
        }
        let rtype: RecordType = type_token
            .to_ascii_uppercase()
            .parse()
            .map_err(|e| err(format!("type {type_token:?}: {e}")))?;
        if rest.is_empty() {
            return Err(err("no data".into()));
        }
        // Which data field is a domain name, by position.
        let name_field = match rtype {
            RecordType::CNAME | RecordType::NS | RecordType::PTR | RecordType::ANAME => Some(0),
            RecordType::MX => Some(1),
            RecordType::SRV => Some(3),
            _ if type_token.eq_ignore_ascii_case("DNAME") => Some(0),
            _ => None,
        };
        let rdata = match name_field {
            // The types with a name field hold no character-strings: their fields are words.
            Some(i) => {
                let mut words: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
                let Some(f) = words.get_mut(i) else {
                    return Err(err(format!("{rtype} needs a name in field {}", i + 1)));
                };
                *f = absolute(f, domain);
                if rtype == RecordType::DNAME {
                    // hickory-proto has no DNAME type; the engine keeps it as opaque rdata.
                    let [target] = words.as_slice() else {
                        return Err(err("DNAME needs one target name".into()));
                    };
                    let target =
                        Name::from_ascii(target).map_err(|e| err(format!("DNAME target: {e}")))?;
                    dname_rdata(&target).map_err(|e| err(e.to_string()))?
                } else {
                    parse_rdata(rtype, &words.join(" ")).map_err(|e| err(e.to_string()))?
                }
            }
            None => parse_rdata(rtype, rest).map_err(|e| err(e.to_string()))?,
        };
        Ok(Self {
            owner,
            ttl,
            rtype,
            rdata,
        })
    }

    /// The record as an absolute zone-file line, with `default_ttl` where the line gave none.
    pub fn to_zone_line(&self, default_ttl: u32) -> String {
        format!(
            "{} {} IN {} {}",
            self.owner,
            self.ttl.unwrap_or(default_ttl),
            self.rtype,
            rdata_text(&self.rdata)
        )
    }
}

/// Reads every line of `domain`'s zone.
pub fn parse_all(domain: &str, lines: &[String]) -> Result<Vec<RegistrantRecord>, RecordError> {
    lines
        .iter()
        .map(|l| RegistrantRecord::parse(domain, l))
        .collect()
}

/// What an operator puts around a registrant's records in the zone it serves: its name
/// servers at the apex and its TTLs.
#[derive(Debug, Clone, Copy)]
pub struct ZoneFrame<'a> {
    /// Name server host names (absolute, without the final dot).
    pub ns: &'a [String],
    /// TTL of the apex NS RRset.
    pub ttl_ns: u32,
    /// TTL of a record whose line gives none.
    pub ttl_data: u32,
    /// Negative TTL: the SOA minimum and the SOA's own TTL.
    pub ttl_negative: u32,
}

/// Why an operator cannot build a registrant's zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneBuildError {
    /// The operator's own part (origin, SOA, apex NS) is refused.
    #[error("{0}")]
    Frame(String),
    /// A record cannot be read, or cannot stand beside the others (a CNAME beside other data,
    /// TTLs that differ within an RRset, NS or DNAME at a wildcard).
    #[error("record {line:?}: {reason}")]
    Record {
        /// Which of the lines.
        index: usize,
        /// The line as written.
        line: String,
        /// Why.
        reason: String,
    },
}

/// The unsigned zone an operator serves for `domain`: an SOA, its NS at the apex, and every
/// line of the registrant. Shared by the operators and the scenario loader, so that a set of
/// records no zone can hold is refused with its line when the file is read, not at setup.
pub fn build_zone(
    domain: &str,
    lines: &[String],
    frame: ZoneFrame<'_>,
) -> Result<Zone, ZoneBuildError> {
    let domain = domain.trim_end_matches('.');
    let frame_err = |e: &dyn std::fmt::Display| ZoneBuildError::Frame(e.to_string());
    let origin = Name::from_ascii(format!("{domain}.")).map_err(|e| frame_err(&e))?;
    let ns1 = frame.ns.first().map_or("ns1.invalid", String::as_str);
    let soa = SOA::new(
        Name::from_ascii(format!("{ns1}.")).map_err(|e| frame_err(&e))?,
        Name::from_ascii(format!("hostmaster.{domain}.")).map_err(|e| frame_err(&e))?,
        1,
        3600,
        900,
        1_209_600,
        frame.ttl_negative,
    );
    let mut zone = Zone::new(origin, soa, frame.ttl_negative).map_err(|e| frame_err(&e))?;
    for ns in frame.ns {
        zone.add_text(&format!("{domain}. {} NS {ns}.", frame.ttl_ns))
            .map_err(|e| frame_err(&e))?;
    }
    for (index, line) in lines.iter().enumerate() {
        let record_err = |reason: String| ZoneBuildError::Record {
            index,
            line: line.clone(),
            reason,
        };
        let record = RegistrantRecord::parse(domain, line).map_err(|e| record_err(e.reason))?;
        zone.add_text(&record.to_zone_line(frame.ttl_data))
            .map_err(|e| record_err(e.to_string()))?;
    }
    zone.take_changes();
    Ok(zone)
}

/// What every answer to `qname`/`qtype` must carry, given the registrant's records, as an
/// authoritative server answers from them (RFC 1034 §4.3.2, RFC 4592 §3.3.1, RFC 6672 §3.2):
///
/// 1. below a DNAME: the CNAME it synthesises (the highest DNAME wins; what is below it is
///    never served);
/// 2. the RRset of that type at the name, else the CNAME at the name;
/// 3. a denial when the name exists otherwise (other types there, or names below it: an empty
///    non-terminal);
/// 4. for a name that does not exist, the wildcard at its closest encloser (the longest
///    existing ancestor): its RRset of that type, else its CNAME, else a denial (wildcard
///    NODATA); no wildcard: a denial (NXDOMAIN).
///
/// None for the types an operator legitimately changes when the domain moves (SOA, the apex
/// NS, DNSSEC records), which are not the registrant's content, and for a DNAME whose target
/// would be too long (YXDOMAIN).
pub fn expected(
    records: &[RegistrantRecord],
    apex: &Name,
    qname: &Name,
    qtype: RecordType,
) -> Option<Expected> {
    let operator_data = matches!(
        qtype,
        RecordType::SOA
            | RecordType::DNSKEY
            | RecordType::DS
            | RecordType::RRSIG
            | RecordType::NSEC
            | RecordType::NSEC3
            | RecordType::NSEC3PARAM
            | RecordType::CDS
            | RecordType::CDNSKEY
    ) || (qtype == RecordType::NS && qname == apex);
    if operator_data {
        return None;
    }
    let apex = apex.to_lowercase();
    let qname = qname.to_lowercase();
    // An RRset: a record given twice is served once.
    let at = |name: &Name, t: RecordType| -> Vec<RData> {
        let mut set: Vec<RData> = Vec::new();
        for r in records.iter().filter(|r| r.owner == *name && r.rtype == t) {
            if !set.contains(&r.rdata) {
                set.push(r.rdata.clone());
            }
        }
        set
    };
    let found = |set: Vec<RData>| (!set.is_empty()).then_some(Expected::Records(set));
    // 1. A DNAME strictly above the name redirects it.
    let dname = records
        .iter()
        .filter(|r| {
            r.rtype == RecordType::DNAME
                && r.owner != qname
                && r.owner.zone_of(&qname)
                && apex.zone_of(&r.owner)
        })
        .min_by_key(|r| label_count(&r.owner));
    if let Some(d) = dname {
        let target = dnssec::presentation::dname_target(&d.rdata)?;
        let new = dname_substitute(&qname, &d.owner, &target)?;
        return Some(Expected::Records(vec![RData::CNAME(CNAME(new))]));
    }
    // 2. The data, or the CNAME, at the name.
    if let Some(e) = found(at(&qname, qtype)).or_else(|| found(at(&qname, RecordType::CNAME))) {
        return Some(e);
    }
    // 3. A name that exists (data of other types, or names below it).
    let exists = |name: &Name| *name == apex || records.iter().any(|r| name.zone_of(&r.owner));
    if exists(&qname) {
        return Some(Expected::Denied);
    }
    // 4. The wildcard at the closest encloser.
    let ce = (label_count(&apex)..label_count(&qname))
        .rev()
        .map(|k| qname.trim_to(k))
        .find(|a| exists(a))
        .unwrap_or_else(|| apex.clone());
    let Some(wildcard) = wildcard_of(&ce) else {
        return Some(Expected::Denied);
    };
    Some(
        found(at(&wildcard, qtype))
            .or_else(|| found(at(&wildcard, RecordType::CNAME)))
            .unwrap_or(Expected::Denied),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn relative_lines_become_absolute_records() {
        let r = RegistrantRecord::parse("ex.nl", "@ A 192.0.2.1").unwrap();
        assert_eq!(r.to_zone_line(3600), "ex.nl. 3600 IN A 192.0.2.1");
        let r = RegistrantRecord::parse("ex.nl", "www 300 A 192.0.2.1").unwrap();
        assert_eq!(r.to_zone_line(3600), "www.ex.nl. 300 IN A 192.0.2.1");
        // A relative exchange is relative to the domain, with or without a TTL.
        let r = RegistrantRecord::parse("ex.nl", "@ 60 IN MX 10 mail").unwrap();
        assert_eq!(r.to_zone_line(3600), "ex.nl. 60 IN MX 10 mail.ex.nl.");
        let r = RegistrantRecord::parse("ex.nl", "@ MX 10 mx.other.").unwrap();
        assert_eq!(r.to_zone_line(60), "ex.nl. 60 IN MX 10 mx.other.");
        let r = RegistrantRecord::parse("ex.nl", "ftp CNAME www").unwrap();
        assert_eq!(r.to_zone_line(60), "ftp.ex.nl. 60 IN CNAME www.ex.nl.");
        let r = RegistrantRecord::parse("ex.nl", "_sip._tcp SRV 10 5 5060 sip").unwrap();
        assert_eq!(
            r.to_zone_line(60),
            "_sip._tcp.ex.nl. 60 IN SRV 10 5 5060 sip.ex.nl."
        );
        let r = RegistrantRecord::parse("ex.nl", "@ TXT \"v=spf1 -all\"").unwrap();
        assert_eq!(r.rtype, RecordType::TXT);
        for bad in [
            "",
            "www",
            "www A",
            "www 300 BOGUS x",
            "www A not-an-address",
            "@ MX 10",
        ] {
            assert!(RegistrantRecord::parse("ex.nl", bad).is_err(), "{bad:?}");
        }
    }

    /// A character-string keeps its blanks, quotes and octets through the zone line the
    /// operators load, and the content check tells one string from two.
    #[test]
    fn txt_strings_survive_the_zone_line() {
        let r = RegistrantRecord::parse("ex.nl", r#"@ TXT "v=spf1 a  -all" "say \"hi\"""#).unwrap();
        assert_eq!(
            r.to_zone_line(60),
            r#"ex.nl. 60 IN TXT "v=spf1 a  -all" "say \"hi\"""#
        );
        let mut zone = dnssec::Zone::new(
            n("ex.nl."),
            hickory_proto::rr::rdata::SOA::new(n("ns.ex.nl."), n("h.ex.nl."), 1, 1, 1, 1, 1),
            60,
        )
        .unwrap();
        zone.add_text(&r.to_zone_line(60)).unwrap();
        let served: Vec<RData> = zone
            .rrset(&n("ex.nl."), RecordType::TXT)
            .unwrap()
            .rdata()
            .to_vec();
        assert_eq!(served, vec![r.rdata.clone()]);
        let one = RegistrantRecord::parse("ex.nl", r#"@ TXT "ab""#).unwrap();
        let two = RegistrantRecord::parse("ex.nl", "@ TXT a b").unwrap();
        assert!(!Expected::Records(vec![one.rdata]).holds_for_records(&[two.rdata]));
        for bad in [
            r#"@ TXT "open"#,
            r#"@ TXT "\300""#,
            "@ CAA 0 issue \"x\\\"\"",
        ] {
            assert!(RegistrantRecord::parse("ex.nl", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_expected_content_follows_the_records() {
        let lines: Vec<String> = [
            "@ A 192.0.2.1",
            "www A 192.0.2.10",
            "ftp CNAME www",
            "@ MX 10 mail",
        ]
        .map(String::from)
        .to_vec();
        let recs = parse_all("ex.nl", &lines).unwrap();
        let apex = n("ex.nl.");
        assert!(matches!(
            expected(&recs, &apex, &n("www.ex.nl."), RecordType::A),
            Some(Expected::Records(r)) if r.len() == 1
        ));
        assert!(matches!(
            expected(&recs, &apex, &n("ftp.ex.nl."), RecordType::A),
            Some(Expected::Records(r)) if r[0].record_type() == RecordType::CNAME
        ));
        assert_eq!(
            expected(&recs, &apex, &n("www.ex.nl."), RecordType::AAAA),
            Some(Expected::Denied)
        );
        assert_eq!(
            expected(&recs, &apex, &n("nothing.ex.nl."), RecordType::A),
            Some(Expected::Denied)
        );
        assert_eq!(expected(&recs, &apex, &apex, RecordType::SOA), None);
        assert_eq!(expected(&recs, &apex, &apex, RecordType::NS), None);
        assert_eq!(expected(&recs, &apex, &apex, RecordType::DNSKEY), None);
    }

    fn records(text: &[&str]) -> Vec<RegistrantRecord> {
        parse_all(
            "ex.nl",
            &text.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn shows(e: Option<Expected>) -> String {
        match e {
            None => "unchecked".into(),
            Some(Expected::Denied) => "denied".into(),
            Some(Expected::Records(r)) => r
                .iter()
                .map(|d| format!("{} {}", d.record_type(), rdata_text(d)))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    #[test]
    fn wildcards_cnames_and_dnames_answer_as_a_server_would() {
        let recs = records(&[
            "www A 192.0.2.10",
            "*.shop A 192.0.2.20",
            "*.shop TXT \"shop\"",
            "main.shop A 192.0.2.21",
            "ftp CNAME www",
            "*.alias CNAME www",
            "old DNAME new.example.",
            "x.old A 192.0.2.99",
        ]);
        let apex = n("ex.nl.");
        for (q, t, want) in [
            ("a.shop.ex.nl.", RecordType::A, "A 192.0.2.20"),
            ("a.b.shop.ex.nl.", RecordType::TXT, "TXT \"shop\""),
            ("a.shop.ex.nl.", RecordType::MX, "denied"),
            ("main.shop.ex.nl.", RecordType::A, "A 192.0.2.21"),
            ("main.shop.ex.nl.", RecordType::TXT, "denied"),
            ("a.main.shop.ex.nl.", RecordType::A, "denied"),
            ("shop.ex.nl.", RecordType::A, "denied"),
            ("*.shop.ex.nl.", RecordType::A, "A 192.0.2.20"),
            ("ftp.ex.nl.", RecordType::A, "CNAME www.ex.nl."),
            ("ftp.ex.nl.", RecordType::CNAME, "CNAME www.ex.nl."),
            ("q.alias.ex.nl.", RecordType::AAAA, "CNAME www.ex.nl."),
            ("a.old.ex.nl.", RecordType::A, "CNAME a.new.example."),
            ("x.old.ex.nl.", RecordType::A, "CNAME x.new.example."),
            ("old.ex.nl.", RecordType::DNAME, "DNAME new.example."),
            ("nothing.ex.nl.", RecordType::A, "denied"),
        ] {
            assert_eq!(shows(expected(&recs, &apex, &n(q), t)), want, "{q} {t}");
        }
        // A wildcard at the apex answers every name that does not exist.
        let recs = records(&["*.ex.nl. A 192.0.2.1", "www A 192.0.2.10"]);
        assert_eq!(
            shows(expected(&recs, &apex, &n("nothing.ex.nl."), RecordType::A)),
            "A 192.0.2.1"
        );
        assert_eq!(
            shows(expected(&recs, &apex, &n("x.www.ex.nl."), RecordType::A)),
            "denied"
        );
        let r = RegistrantRecord::parse("ex.nl", "old DNAME new").unwrap();
        assert_eq!(r.to_zone_line(60), "old.ex.nl. 60 IN DNAME new.ex.nl.");
    }

    mod engine {
        //! The content check against the engine: for random registrant records, what
        //! [`expected`] says every answer carries is what the authoritative server answers.

        use std::collections::BTreeSet;

        use dnssec::{SigningPolicy, ZoneSigner};
        use hickory_proto::rr::rdata::SOA;
        use proptest::prelude::*;

        use super::*;

        fn label() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec!["a", "b", "shop", "www", "*"])
        }

        fn owner() -> impl Strategy<Value = String> {
            prop::collection::vec(label(), 1..=3).prop_map(|l| l.join("."))
        }

        fn line() -> impl Strategy<Value = String> {
            (owner(), 0u8..5, label()).prop_map(|(o, kind, target)| match kind {
                0 => format!("{o} A 192.0.2.1"),
                1 => format!("{o} TXT \"t\""),
                2 => format!("{o} A 192.0.2.2"),
                3 => format!("{o} CNAME {}", target.replace('*', "w")),
                _ => format!("{o} DNAME {}.other.example.", target.replace('*', "w")),
            })
        }

        /// Keeps what a zone can hold: no CNAME beside other data (RFC 1034 §3.6.2), no
        /// DNAME at a wildcard (RFC 4592 §4.4) or beside a CNAME.
        fn loadable(lines: Vec<String>) -> Vec<RegistrantRecord> {
            let mut out: Vec<RegistrantRecord> = Vec::new();
            for l in lines {
                let r = RegistrantRecord::parse("ex.nl", &l).unwrap();
                let beside: BTreeSet<RecordType> = out
                    .iter()
                    .filter(|o| o.owner == r.owner)
                    .map(|o| o.rtype)
                    .collect();
                let clash = match r.rtype {
                    RecordType::CNAME => !beside.is_empty(),
                    _ => beside.contains(&RecordType::CNAME),
                } || (r.rtype == RecordType::DNAME
                    && (dnssec::zone::is_wildcard(&r.owner)
                        || beside.contains(&RecordType::DNAME)));
                if !clash {
                    out.push(r);
                }
            }
            out
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

            #[test]
            fn expected_content_is_what_the_server_answers(
                lines in prop::collection::vec(line(), 0..12),
                names in prop::collection::vec(owner(), 1..8),
            ) {
                let recs = loadable(lines);
                let apex = n("ex.nl.");
                let soa = SOA::new(n("ns1.ex.nl."), n("h.ex.nl."), 1, 3600, 900, 1_209_600, 300);
                let mut zone = dnssec::Zone::new(apex.clone(), soa, 300).unwrap();
                zone.add_text("ex.nl. 3600 NS ns1.ex.nl.").unwrap();
                for r in &recs {
                    zone.add_text(&r.to_zone_line(300)).unwrap();
                }
                let signed = ZoneSigner::unsigned(SigningPolicy::default())
                    .sign(&zone, "2026-03-01T00:00:00Z".parse().unwrap())
                    .unwrap();
                let mut questions: Vec<Name> = recs.iter().map(|r| r.owner.clone()).collect();
                questions.extend(names.iter().map(|q| n(&format!("{q}.ex.nl."))));
                questions.extend(names.iter().map(|q| n(&format!("x.{q}.ex.nl."))));
                for q in questions {
                    for t in [RecordType::A, RecordType::TXT, RecordType::MX] {
                        let Some(want) = expected(&recs, &apex, &q, t) else {
                            continue;
                        };
                        let got = checker::Response::from_zone(&signed, &q, t);
                        prop_assert!(
                            want.holds_for(&got),
                            "{q} {t}: expected {}, the server answers {}",
                            shows(Some(want.clone())),
                            got.summary()
                        );
                    }
                }
            }
        }
    }
}
