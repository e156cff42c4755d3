//! The registrant's zone content, as scenarios and the adapter protocol write it: relative
//! presentation lines such as `www 300 A 192.0.2.10`, `@ MX 10 mail` or `ftp CNAME www`.
//!
//! A line is `OWNER [TTL] [IN] TYPE RDATA`. The owner `@` is the domain's apex; an owner without
//! a trailing dot is relative to the domain. Domain names inside the data of MX, CNAME, NS, PTR,
//! DNAME and SRV records are relative to the domain too unless they end with a dot. These
//! records are the ground truth of the content check: every answer a resolver could get for a
//! checked name must carry them.

use hickory_proto::rr::{Name, RData, RecordType};

use checker::Expected;

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
    /// The line.
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
        let mut tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.len() < 3 {
            return Err(err("expected OWNER [TTL] [IN] TYPE DATA".into()));
        }
        let owner = Name::from_ascii(absolute(tokens.remove(0), domain))
            .map_err(|e| err(format!("owner: {e}")))?
            .to_lowercase();
        let ttl = match tokens.first().and_then(|t| t.parse::<u32>().ok()) {
            Some(t) => {
                tokens.remove(0);
                Some(t)
            }
            None => None,
        };
        if tokens.first().is_some_and(|t| t.eq_ignore_ascii_case("IN")) {
            tokens.remove(0);
        }
        let Some(type_token) = (!tokens.is_empty()).then(|| tokens.remove(0)) else {
            return Err(err("no type".into()));
        };
        let rtype: RecordType = type_token
            .to_ascii_uppercase()
            .parse()
            .map_err(|e| err(format!("type {type_token:?}: {e}")))?;
        if tokens.is_empty() {
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
        let mut fields: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
        if let Some(i) = name_field {
            let Some(f) = fields.get_mut(i) else {
                return Err(err(format!("{rtype} needs a name in field {}", i + 1)));
            };
            *f = absolute(f, domain);
        }
        let rdata = RData::try_from_str(rtype, &fields.join(" "))
            .map_err(|e| err(format!("{rtype} data: {e}")))?;
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
            self.rdata
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

/// What every answer to `qname`/`qtype` must carry, given the registrant's records: the RRset of
/// that type at that name, else the CNAME at that name, else a denial. None for the types an
/// operator legitimately changes when the domain moves (SOA, the apex NS, DNSSEC records),
/// which are not the registrant's content.
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
    let qname = qname.to_lowercase();
    let at = |t: RecordType| -> Vec<RData> {
        records
            .iter()
            .filter(|r| r.owner == qname && r.rtype == t)
            .map(|r| r.rdata.clone())
            .collect()
    };
    let exact = at(qtype);
    if !exact.is_empty() {
        return Some(Expected::Records(exact));
    }
    let cname = at(RecordType::CNAME);
    if !cname.is_empty() {
        return Some(Expected::Records(cname));
    }
    Some(Expected::Denied)
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
}
