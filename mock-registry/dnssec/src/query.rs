//! A minimal DNS client: one question to one server, over UDP or TCP, for tests and for the
//! harness's observation timeline (what did this server say, at this step?).
//!
//! It is deliberately not a resolver: no recursion, no retries, no caching, no validation. It
//! checks that the answer matches the question (ID and question section), so a stray datagram
//! cannot be taken for the answer.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::server::Transport;

/// Why a query got no usable answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A socket operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// No answer within the timeout.
    #[error("no answer from {server} within {timeout:?}")]
    Timeout {
        /// The server that did not answer in time.
        server: SocketAddr,
        /// How long we waited.
        timeout: Duration,
    },
    /// The answer could not be decoded or does not answer the question.
    #[error("bad answer from {server}: {reason}")]
    BadAnswer {
        /// The server whose reply was refused.
        server: SocketAddr,
        /// What is wrong.
        reason: String,
    },
}

/// How to ask.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// UDP or TCP.
    pub transport: Transport,
    /// Set the DO bit (implies EDNS).
    pub dnssec_ok: bool,
    /// Send an OPT record (EDNS(0)); without it the server answers at most 512 octets over UDP.
    pub edns: bool,
    /// The EDNS UDP payload size advertised.
    pub payload: u16,
    /// Set RD (an authoritative server ignores it).
    pub recursion_desired: bool,
    /// How long to wait for the answer (connection included).
    pub timeout: Duration,
    /// Over UDP, retry over TCP when the answer comes back truncated.
    pub tcp_on_truncation: bool,
}

impl Default for QueryOptions {
    fn default() -> Self {
        Self {
            transport: Transport::Udp,
            dnssec_ok: true,
            edns: true,
            payload: 1232,
            recursion_desired: false,
            timeout: Duration::from_secs(2),
            tcp_on_truncation: false,
        }
    }
}

/// Asks `server` one question, with EDNS and the given DO bit, over UDP or TCP, and returns
/// the answer as is (truncated answers included).
pub async fn query(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    dnssec_ok: bool,
    tcp: bool,
) -> Result<Message, QueryError> {
    let options = QueryOptions {
        dnssec_ok,
        transport: if tcp { Transport::Tcp } else { Transport::Udp },
        ..QueryOptions::default()
    };
    query_with(server, name, rtype, &options).await
}

/// Asks `server` one question with explicit options.
pub async fn query_with(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    options: &QueryOptions,
) -> Result<Message, QueryError> {
    let request = request(name, rtype, options);
    let bytes = request.to_vec().map_err(|e| QueryError::BadAnswer {
        server,
        reason: format!("could not encode the query: {e}"),
    })?;
    let answer = exchange(server, &bytes, &request, options.transport, options.timeout).await?;
    if options.transport == Transport::Udp
        && options.tcp_on_truncation
        && answer.metadata.truncation
    {
        return exchange(server, &bytes, &request, Transport::Tcp, options.timeout).await;
    }
    Ok(answer)
}

async fn exchange(
    server: SocketAddr,
    bytes: &[u8],
    request: &Message,
    transport: Transport,
    timeout: Duration,
) -> Result<Message, QueryError> {
    // A server of this process that takes in-process queries answers without a socket, by
    // the same responder (a dropped request is no answer: the timeout, without the wait).
    if let Some(reply) = super::server::in_process::exchange(server, bytes, transport) {
        return match reply {
            Some(reply) => check(server, request, &reply),
            None => Err(QueryError::Timeout { server, timeout }),
        };
    }
    let exchange = async {
        match transport {
            Transport::Udp => exchange_udp(server, bytes, request).await,
            Transport::Tcp => exchange_tcp(server, bytes, request).await,
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| QueryError::Timeout { server, timeout })?
}

/// The query message: a random ID, one question, EDNS as asked.
pub fn request(name: &Name, rtype: RecordType, options: &QueryOptions) -> Message {
    let mut message = Message::query();
    message.metadata.recursion_desired = options.recursion_desired;
    message.add_query(Query::query(name.clone(), rtype));
    if options.edns || options.dnssec_ok {
        let mut edns = Edns::new();
        edns.set_max_payload(options.payload);
        edns.set_dnssec_ok(options.dnssec_ok);
        message.set_edns(edns);
    }
    message
}

fn check(server: SocketAddr, request: &Message, bytes: &[u8]) -> Result<Message, QueryError> {
    let bad = |reason: String| QueryError::BadAnswer { server, reason };
    let answer = Message::from_vec(bytes).map_err(|e| bad(e.to_string()))?;
    if answer.metadata.id != request.metadata.id {
        return Err(bad(format!(
            "ID {} does not match {}",
            answer.metadata.id, request.metadata.id
        )));
    }
    // A FORMERR may come without the question; any other answer must echo it.
    if !answer.queries.is_empty() && answer.queries != request.queries {
        return Err(bad("the question section does not match".into()));
    }
    Ok(answer)
}

async fn exchange_udp(
    server: SocketAddr,
    bytes: &[u8],
    request: &Message,
) -> Result<Message, QueryError> {
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(server).await?;
    socket.send(bytes).await?;
    // The answer may be no larger than the payload size the question advertised (RFC 6891
    // §6.2.5; 512 octets without EDNS, RFC 1035 §4.2.1). The buffer holds that and one octet
    // more, to notice a server that sends more, and is not zeroed: a zeroed 64 KiB buffer per
    // question was most of a registrar process's page faults.
    let limit = usize::from(request.max_payload());
    let mut buf = Vec::with_capacity(limit + 1);
    loop {
        buf.clear();
        let len = socket.recv_buf(&mut buf).await?;
        if len > limit {
            return Err(QueryError::BadAnswer {
                server,
                reason: format!(
                    "a UDP answer larger than the {limit} octets the question advertised \
                     (RFC 6891 §6.2.5)"
                ),
            });
        }
        match check(server, request, &buf[..len]) {
            // Not our answer (a late reply to someone else): keep waiting.
            Err(QueryError::BadAnswer { .. }) if len >= 2 && buf[..2] != bytes[..2] => continue,
            other => return other,
        }
    }
}

async fn exchange_tcp(
    server: SocketAddr,
    bytes: &[u8],
    request: &Message,
) -> Result<Message, QueryError> {
    let mut stream = TcpStream::connect(server).await?;
    stream.set_nodelay(true)?;
    let len = u16::try_from(bytes.len()).map_err(|_| QueryError::BadAnswer {
        server,
        reason: "query longer than 65535 octets".into(),
    })?;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).await?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf).await?;
    check(server, request, &buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asks `example.nl. A` with a 1232-octet payload of a one-shot UDP server on loopback that
    /// answers with the question turned into an (empty) answer, followed by `pad` octets.
    async fn ask_padded(pad: usize) -> Result<Message, QueryError> {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server = socket.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 512];
            let (len, peer) = socket.recv_from(&mut buf).await.unwrap();
            let mut m = Message::from_vec(&buf[..len]).unwrap();
            m.metadata.message_type = hickory_proto::op::MessageType::Response;
            let mut bytes = m.to_vec().unwrap();
            bytes.resize(bytes.len() + pad, 0);
            socket.send_to(&bytes, peer).await.unwrap();
        });
        let options = QueryOptions {
            payload: 1232,
            ..QueryOptions::default()
        };
        let name = Name::from_ascii("example.nl.").unwrap();
        query_with(server, &name, RecordType::A, &options).await
    }

    #[tokio::test]
    async fn an_answer_within_the_advertised_payload_is_taken() {
        let answer = ask_padded(0).await.unwrap();
        assert_eq!(answer.queries[0].name().to_ascii(), "example.nl.");
    }

    /// RFC 6891 §6.2.5: a responder must not send more than the requestor advertised; such a
    /// datagram is refused by name, not cut short and misread.
    #[tokio::test]
    async fn an_answer_larger_than_the_advertised_payload_is_refused() {
        let err = ask_padded(1300).await.unwrap_err();
        assert!(
            err.to_string().contains("larger than the 1232 octets"),
            "{err}"
        );
    }
}
