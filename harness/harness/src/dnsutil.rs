//! Small DNS helpers on the project's query client: what a server answers for an RRset,
//! the parent's view of a delegation, where name servers answer.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use dnssec::query::{QueryOptions, query_with};
use dnssec::server::Transport;
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};

pub use crate::error::DnsError;

/// Where things answer: the TLD (and root) server, and each name server host name's address.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Directory {
    /// The server answering for the root and the TLD.
    pub parent: Option<SocketAddr>,
    /// Name server host name (no trailing dot) → address.
    pub hosts: BTreeMap<String, SocketAddr>,
}

impl Directory {
    /// The addresses of these name servers that the directory knows (deduplicated).
    pub fn addrs(&self, ns: &[String]) -> Vec<SocketAddr> {
        let mut out: Vec<SocketAddr> = ns
            .iter()
            .filter_map(|n| self.hosts.get(n.trim_end_matches('.')).copied())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Errors of the helpers.
pub type DnsResult<T> = Result<T, DnsError>;

/// Asks one question without DO, over UDP and again over TCP when the answer comes back
/// truncated, as a stub resolver does (RFC 7766 §5).
///
/// Every helper here reads records and their TTLs, which the DNSSEC records would not change:
/// an RRSIG has the TTL of the RRset it covers (RFC 4034 §3), and NSEC or NSEC3 records in a
/// negative answer no more than the SOA's minimum (RFC 9077), which [`max_ttl`] counts. So
/// they are left out (RFC 4035 §3.2.1): smaller answers, and no signatures made for RRsets
/// only a registrar's TTL question reads (the in-process servers sign when an answer first
/// needs a signature). A losing registrar asks [`delegation`] at every poll until the
/// delegation has moved.
///
/// UDP first because a registrar process asks hundreds of questions per run, and a TCP
/// connection for each (connect, accept, close on both sides) was most of its system time.
pub async fn ask(server: SocketAddr, name: &str, rtype: RecordType) -> DnsResult<Message> {
    let name = Name::from_ascii(if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    })
    .map_err(|e| DnsError::BadName {
        name: name.to_string(),
        reason: e.to_string(),
    })?;
    let options = QueryOptions {
        transport: Transport::Udp,
        dnssec_ok: false,
        tcp_on_truncation: true,
        ..QueryOptions::default()
    };
    query_with(server, &name, rtype, &options)
        .await
        .map_err(|e| DnsError::Query {
            rtype: rtype.to_string(),
            name: name.to_string(),
            server: server.to_string(),
            reason: e.to_string(),
        })
}

/// The answer records of `rtype` (without RRSIGs) and their TTL; empty when none.
pub async fn rrset(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
) -> DnsResult<(Vec<Record>, u32)> {
    let m = ask(server, name, rtype).await?;
    if m.metadata.response_code != ResponseCode::NoError
        && m.metadata.response_code != ResponseCode::NXDomain
    {
        return Err(DnsError::Query {
            rtype: rtype.to_string(),
            name: name.to_string(),
            server: server.to_string(),
            reason: m.metadata.response_code.to_string(),
        });
    }
    let recs: Vec<Record> = m
        .answers
        .iter()
        .filter(|r| r.record_type() == rtype)
        .cloned()
        .collect();
    let ttl = recs.iter().map(|r| r.ttl).min().unwrap_or(0);
    Ok((recs, ttl))
}

/// The DNSKEY set a server publishes for `zone`, with its TTL.
pub async fn dnskeys(server: SocketAddr, zone: &str) -> DnsResult<(Vec<DNSKEY>, u32)> {
    let (recs, ttl) = rrset(server, zone, RecordType::DNSKEY).await?;
    let keys = recs
        .iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some(k.clone()),
            _ => None,
        })
        .collect();
    Ok((keys, ttl))
}

/// The DS set the parent publishes for `domain`, with its TTL.
pub async fn ds(parent: SocketAddr, domain: &str) -> DnsResult<(Vec<DS>, u32)> {
    let (recs, ttl) = rrset(parent, domain, RecordType::DS).await?;
    let ds = recs
        .iter()
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DS(d)) => Some(d.clone()),
            _ => None,
        })
        .collect();
    Ok((ds, ttl))
}

/// The NS set the parent delegates `domain` to (from the referral), with its TTL.
pub async fn delegation(parent: SocketAddr, domain: &str) -> DnsResult<(Vec<String>, u32)> {
    let m = ask(parent, domain, RecordType::NS).await?;
    let mut ns: Vec<String> = Vec::new();
    let mut ttl = 0;
    let want = format!("{}.", domain.trim_end_matches('.'));
    for r in m.authorities.iter().chain(m.answers.iter()) {
        if let RData::NS(n) = &r.data
            && r.name.to_ascii().eq_ignore_ascii_case(&want)
        {
            ns.push(n.0.to_ascii().trim_end_matches('.').to_ascii_lowercase());
            ttl = r.ttl;
        }
    }
    ns.sort();
    Ok((ns, ttl))
}

/// The largest TTL among what a server answers for `names` (each with its type) and its
/// negative TTL: how long anything it served may stay in caches.
pub async fn max_ttl(server: SocketAddr, zone: &str, names: &[(String, String)]) -> DnsResult<u32> {
    let mut max = 0;
    let mut asked: Vec<(String, RecordType)> = vec![
        (zone.to_string(), RecordType::SOA),
        (zone.to_string(), RecordType::DNSKEY),
        (zone.to_string(), RecordType::NS),
    ];
    for (n, t) in names {
        if let Ok(rt) = t.parse::<RecordType>() {
            asked.push((n.clone(), rt));
        }
    }
    for (n, t) in asked {
        let m = ask(server, &n, t).await?;
        for r in m.answers.iter().chain(m.authorities.iter()) {
            max = max.max(r.ttl);
            if let RData::SOA(soa) = &r.data {
                max = max.max(soa.minimum);
            }
        }
    }
    Ok(max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::MessageType;
    use hickory_proto::rr::rdata::NS;

    /// `delegation` asks without DO and reads the referral's NS set for the domain only.
    #[tokio::test]
    async fn delegation_asks_without_do_and_reads_the_referral() {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let parent = socket.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut buf = vec![0u8; 1500];
            let (len, peer) = socket.recv_from(&mut buf).await.unwrap();
            let question = Message::from_vec(&buf[..len]).unwrap();
            let dnssec_ok = question.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok);
            let mut answer = question.clone();
            answer.metadata.message_type = MessageType::Response;
            let ns = |owner: &str, host: &str| {
                Record::from_rdata(
                    Name::from_ascii(owner).unwrap(),
                    3600,
                    RData::NS(NS(Name::from_ascii(host).unwrap())),
                )
            };
            answer.authorities = vec![
                ns("example.nl.", "NS2.Operator.example."),
                ns("example.nl.", "ns1.operator.example."),
                ns("other.nl.", "ns.elsewhere.example."),
            ];
            socket
                .send_to(&answer.to_vec().unwrap(), peer)
                .await
                .unwrap();
            dnssec_ok
        });
        let (ns, ttl) = delegation(parent, "example.nl").await.unwrap();
        assert_eq!(ns, ["ns1.operator.example", "ns2.operator.example"]);
        assert_eq!(ttl, 3600);
        assert!(
            !server.await.unwrap(),
            "the NS question went out with DO set"
        );
    }
}
