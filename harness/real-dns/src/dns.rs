//! A few DNS questions to one server: enough to know when a server is up and when a change
//! is served.
//!
//! This is deliberately not a resolver and does not validate: the harness judges DNSSEC with
//! its own checker; here we only need "what does this server answer now". Questions go over
//! UDP because that is what a resolver asks first and what the readiness contract names;
//! [`query`] can use TCP for callers that want to compare.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hickory_proto::dnssec::PublicKey;
use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::error::{Error, Result};
use crate::zone::DnsKey;

/// How long one question may take before it counts as unanswered.
const QUESTION_TIMEOUT: Duration = Duration::from_millis(500);
/// How often a change is looked for while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// UDP or TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// One datagram each way.
    Udp,
    /// Length-prefixed over a fresh connection.
    Tcp,
}

/// Asks `server` one question with the DO bit set and returns its answer as is.
pub async fn query(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    transport: Transport,
) -> Result<Message> {
    let question = format!("{name} {rtype}");
    let err = |reason: String| Error::Dns {
        question: question.clone(),
        server,
        reason,
    };
    let fqdn = if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    };
    let qname = Name::from_ascii(&fqdn).map_err(|e| err(e.to_string()))?;
    let mut request = Message::query();
    request.metadata.recursion_desired = false;
    request.add_query(Query::query(qname, rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    edns.set_dnssec_ok(true);
    request.set_edns(edns);
    let bytes = request.to_vec().map_err(|e| err(e.to_string()))?;
    let exchange = async {
        match transport {
            Transport::Udp => exchange_udp(server, &bytes).await,
            Transport::Tcp => exchange_tcp(server, &bytes).await,
        }
    };
    let raw = tokio::time::timeout(QUESTION_TIMEOUT, exchange)
        .await
        .map_err(|_| err(format!("no answer within {QUESTION_TIMEOUT:?}")))?
        .map_err(|e| err(e.to_string()))?;
    let answer = Message::from_vec(&raw).map_err(|e| err(e.to_string()))?;
    if answer.metadata.id != request.metadata.id {
        return Err(err("answer ID does not match".into()));
    }
    Ok(answer)
}

/// One DNS message over UDP to `server`, waiting for the answer with the same ID.
pub(crate) async fn exchange_udp(server: SocketAddr, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let socket = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    socket.connect(server).await?;
    socket.send(bytes).await?;
    // Room for any datagram, not zeroed (one question per socket).
    let mut buf = Vec::with_capacity(65_535);
    loop {
        buf.clear();
        let len = socket.recv_buf(&mut buf).await?;
        // A stray datagram (a late answer to an earlier socket on this port) is skipped.
        if len >= 2 && buf[..2] == bytes[..2] {
            buf.truncate(len);
            return Ok(buf);
        }
    }
}

/// One DNS message over TCP (RFC 1035 §4.2.2 length framing) to `server`.
pub(crate) async fn exchange_tcp(server: SocketAddr, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(server).await?;
    stream.set_nodelay(true)?;
    let len = u16::try_from(bytes.len()).map_err(std::io::Error::other)?;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).await?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf).await?;
    Ok(buf)
}

/// What a server says about a zone at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The answer's RCODE for the SOA question.
    pub rcode: ResponseCode,
    /// The SOA serial, when the server answered with the zone's SOA.
    pub serial: Option<u32>,
    /// The apex NS host names served (absolute, lower case), sorted.
    pub ns: Vec<String>,
    /// The DNSKEY RRset served, sorted.
    pub dnskeys: Vec<DnsKey>,
    /// The DNSKEY RRset's TTL (0 when none).
    pub dnskey_ttl: u32,
    /// Key tags of the RRSIGs over the DNSKEY RRset, sorted.
    pub dnskey_signers: Vec<u16>,
}

impl std::fmt::Display for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rcode {}", self.rcode)?;
        if let Some(s) = self.serial {
            write!(f, ", serial {s}")?;
        }
        write!(f, ", NS {:?}", self.ns)?;
        let tags: Vec<String> = self
            .dnskeys
            .iter()
            .map(|k| format!("{}/{}", k.key_tag(), k.flags))
            .collect();
        write!(
            f,
            ", DNSKEY [{}] TTL {} signed by {:?}",
            tags.join(" "),
            self.dnskey_ttl,
            self.dnskey_signers
        )
    }
}

/// Asks `server` for the zone's SOA and, when it answers for the zone, its NS and DNSKEY
/// RRsets, over UDP.
pub async fn observe(server: SocketAddr, zone: &str) -> Result<Seen> {
    let soa = query(server, zone, RecordType::SOA, Transport::Udp).await?;
    let rcode = soa.metadata.response_code;
    let serial = soa.answers.iter().find_map(|r| match &r.data {
        RData::SOA(s) => Some(s.serial),
        _ => None,
    });
    let mut seen = Seen {
        rcode,
        serial,
        ns: Vec::new(),
        dnskeys: Vec::new(),
        dnskey_ttl: 0,
        dnskey_signers: Vec::new(),
    };
    if rcode != ResponseCode::NoError || serial.is_none() {
        return Ok(seen);
    }
    let ns = query(server, zone, RecordType::NS, Transport::Udp).await?;
    for r in &ns.answers {
        if let RData::NS(n) = &r.data {
            seen.ns.push(n.0.to_ascii().to_ascii_lowercase());
        }
    }
    seen.ns.sort();
    let keys = query(server, zone, RecordType::DNSKEY, Transport::Udp).await?;
    for r in &keys.answers {
        match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => {
                seen.dnskey_ttl = r.ttl;
                seen.dnskeys.push(DnsKey {
                    flags: k.flags(),
                    protocol: 3,
                    algorithm: u8::from(k.public_key().algorithm()),
                    public_key: k.public_key().public_bytes().to_vec(),
                });
            }
            RData::DNSSEC(DNSSECRData::RRSIG(sig))
                if sig.input().type_covered == RecordType::DNSKEY =>
            {
                seen.dnskey_signers.push(sig.input().key_tag);
            }
            _ => {}
        }
    }
    seen.dnskeys.sort();
    seen.dnskey_signers.sort_unstable();
    Ok(seen)
}

/// `a` is newer than `b` in serial number arithmetic (RFC 1982).
pub fn serial_newer(a: u32, b: u32) -> bool {
    let d = a.wrapping_sub(b);
    d != 0 && d < 0x8000_0000
}

/// Polls [`observe`] until `done` holds or `deadline` passes; on time-out the error says
/// what was awaited and what was seen last. `log_tail` is read only then.
pub(crate) async fn wait_until(
    server: SocketAddr,
    zone: &str,
    waited: Duration,
    expected: &str,
    log_tail: impl Fn() -> String,
    done: impl Fn(&Seen) -> bool,
) -> Result<Seen> {
    let start = Instant::now();
    loop {
        let last = match observe(server, zone).await {
            Ok(seen) if done(&seen) => return Ok(seen),
            Ok(seen) => seen.to_string(),
            Err(e) => e.to_string(),
        };
        if start.elapsed() >= waited {
            return Err(Error::NotServed {
                zone: zone.to_string(),
                expected: expected.to_string(),
                waited,
                last_seen: last,
                log_tail: log_tail(),
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::serial_newer;

    #[test]
    fn serial_arithmetic_wraps() {
        assert!(serial_newer(2, 1));
        assert!(!serial_newer(1, 1));
        assert!(!serial_newer(1, 2));
        assert!(serial_newer(0, u32::MAX));
    }
}
