//! The server over real sockets: UDP and TCP on one port, several queries per TCP connection,
//! truncation and retry, the history, and the faults a scenario switches at runtime.

use std::sync::Arc;
use std::time::Duration;

use dnssec::KeyAlgorithm;
use dnssec::{
    AnswerKind, Faults, QueryError, QueryOptions, SignedZone, SigningPolicy, Transport, ZoneKey,
    ZoneSigner, fixture_keys, query, query_with,
};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::support::{
    Breakage, CHILD, ISLAND, child_zone, name, server, signed_child, signed_island, virtual_now,
};

fn soa_serial(m: &Message) -> u32 {
    m.answers
        .iter()
        .chain(&m.authorities)
        .find_map(|r| match &r.data {
            hickory_proto::rr::RData::SOA(s) => Some(s.serial),
            _ => None,
        })
        .unwrap()
}

/// The child with a TXT RRset far bigger than 1232 octets, at serial `serial`.
fn big_child(serial: u32) -> Arc<SignedZone> {
    let mut zone = child_zone();
    zone.set_serial(serial);
    for i in 0..30 {
        zone.add_text(&format!(
            "big.example.nl. 300 TXT \"{i:02} {}\"",
            "y".repeat(100)
        ))
        .unwrap();
    }
    let keys = vec![ZoneKey::csk(fixture_keys::key(KeyAlgorithm::Ed25519, 0))];
    let signer = ZoneSigner::new(keys, SigningPolicy::default()).unwrap();
    Arc::new(signer.sign(&zone, virtual_now()).unwrap())
}

#[tokio::test]
async fn answers_over_udp_and_tcp_on_one_port_and_records_history() {
    let s = server(&[signed_child(Breakage::None)]).await;
    let addr = s.local_addr();
    for tcp in [false, true] {
        let m = query(addr, &name("www.example.nl."), RecordType::A, true, tcp)
            .await
            .unwrap();
        assert!(m.metadata.authoritative);
        assert_eq!(m.answers.len(), 2, "A and RRSIG");
    }
    let refused = query(addr, &name("www.example.com."), RecordType::A, false, false)
        .await
        .unwrap();
    assert_eq!(refused.metadata.response_code, ResponseCode::Refused);
    let history = s.history();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].transport, Transport::Udp);
    assert_eq!(history[1].transport, Transport::Tcp);
    assert_eq!(history[0].zone, Some(name(CHILD)));
    assert_eq!(history[0].serial, Some(1));
    assert_eq!(history[0].rcode, Some(ResponseCode::NoError));
    assert!(history[0].dnssec_ok && history[0].authoritative);
    assert_eq!(
        history[0].time,
        virtual_now(),
        "the injected clock stamps the history"
    );
    assert_eq!(history[2].kind, AnswerKind::Refused);
    assert!(history.iter().all(|q| q.client.ip().is_loopback()));
    assert_eq!(s.requests_received(), 3);
}

#[tokio::test]
async fn several_queries_on_one_tcp_connection_each_get_their_answer() {
    let s = server(&[signed_child(Breakage::None)]).await;
    let mut stream = TcpStream::connect(s.local_addr()).await.unwrap();
    let options = QueryOptions::default();
    let names = ["www.example.nl.", "mail.example.nl.", "nx.example.nl."];
    let mut ids = Vec::new();
    let mut framed = Vec::new();
    // Pipelined: all three written before any answer is read.
    for n in names {
        let q = dnssec::query::request(&name(n), RecordType::A, &options);
        ids.push(q.metadata.id);
        let bytes = q.to_vec().unwrap();
        framed.extend_from_slice(&u16::try_from(bytes.len()).unwrap().to_be_bytes());
        framed.extend_from_slice(&bytes);
    }
    stream.write_all(&framed).await.unwrap();
    for (n, id) in names.iter().zip(ids) {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.unwrap();
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut buf).await.unwrap();
        let m = Message::from_vec(&buf).unwrap();
        assert_eq!(m.metadata.id, id);
        assert_eq!(m.queries[0].name(), &name(n));
    }
}

#[tokio::test]
async fn big_answers_are_truncated_over_udp_and_whole_over_tcp() {
    let s = server(&[big_child(1)]).await;
    let addr = s.local_addr();
    let qname = name("big.example.nl.");
    let udp = query(addr, &qname, RecordType::TXT, true, false)
        .await
        .unwrap();
    assert!(udp.metadata.truncation && udp.answers.is_empty());
    let retried = query_with(
        addr,
        &qname,
        RecordType::TXT,
        &QueryOptions {
            tcp_on_truncation: true,
            ..QueryOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(!retried.metadata.truncation);
    assert_eq!(retried.answers.len(), 31);
    // Without EDNS: no OPT in the answer (and a 512-octet limit, which this one fits).
    let plain = QueryOptions {
        edns: false,
        dnssec_ok: false,
        ..QueryOptions::default()
    };
    let m = query_with(addr, &name("www.example.nl."), RecordType::A, &plain)
        .await
        .unwrap();
    assert!(!m.metadata.truncation && m.edns.is_none());
    let history = s.history();
    assert!(history[0].truncated && !history[2].truncated);
    assert_eq!(history[2].transport, Transport::Tcp);
}

#[tokio::test]
async fn zones_swap_atomically_and_faults_switch_at_runtime() {
    let s = server(&[big_child(1)]).await;
    let addr = s.local_addr();
    let apex = name(CHILD);
    let serial = || async {
        soa_serial(
            &query(addr, &apex, RecordType::SOA, true, false)
                .await
                .unwrap(),
        )
    };
    assert_eq!(serial().await, 1);
    s.set_zone(big_child(2));
    assert_eq!(serial().await, 2);

    // Frozen: new snapshots are kept but the stale one is served until thawed.
    s.set_faults(Faults {
        frozen: true,
        ..Faults::default()
    });
    s.set_zone(big_child(3));
    assert_eq!(serial().await, 2);
    s.set_faults(Faults::default());
    assert_eq!(serial().await, 3);

    // A substitute (say, signed with an expired window) replaces the zone while set.
    s.set_faults(Faults {
        substitutes: vec![big_child(99)],
        ..Faults::default()
    });
    assert_eq!(serial().await, 99);

    // Stripped signatures.
    s.set_faults(Faults {
        strip_rrsigs: true,
        ..Faults::default()
    });
    let m = query(addr, &apex, RecordType::SOA, true, false)
        .await
        .unwrap();
    assert_eq!(m.answers.len(), 1);
    assert_eq!(m.answers[0].record_type(), RecordType::SOA);

    // Dropped: no answer over UDP or TCP, but the history still sees the queries.
    s.set_faults(Faults {
        drop_queries: true,
        ..Faults::default()
    });
    for transport in [Transport::Udp, Transport::Tcp] {
        let options = QueryOptions {
            transport,
            timeout: Duration::from_millis(300),
            ..QueryOptions::default()
        };
        let err = query_with(addr, &apex, RecordType::SOA, &options)
            .await
            .unwrap_err();
        assert!(matches!(err, QueryError::Timeout { .. }), "{err}");
    }
    let last = s.history().pop().unwrap();
    assert_eq!(last.kind, AnswerKind::Dropped);
    assert_eq!(last.rcode, None);
    assert_eq!(last.qname, Some(apex.clone()));
    s.set_faults(Faults::default());
    assert_eq!(serial().await, 3);
}

#[tokio::test]
async fn garbage_gets_formerr_or_nothing_and_the_server_keeps_serving() {
    let s = server(&[signed_child(Breakage::None)]).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(s.local_addr()).await.unwrap();
    // A header claiming one question, then junk.
    let mut junk = vec![0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    junk.extend_from_slice(&[0xff; 40]);
    socket.send(&junk).await.unwrap();
    let mut buf = [0u8; 512];
    let len = tokio::time::timeout(Duration::from_secs(2), socket.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let m = Message::from_vec(&buf[..len]).unwrap();
    assert_eq!(m.metadata.id, 0x1234);
    assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
    // A runt and a response get nothing; the server still answers afterwards.
    socket.send(&[1, 2, 3]).await.unwrap();
    let mut response = junk.clone();
    response[2] |= 0x80;
    socket.send(&response).await.unwrap();
    // A TCP client that sends half a frame and leaves.
    let mut tcp = TcpStream::connect(s.local_addr()).await.unwrap();
    tcp.write_all(&[0x00, 0x40, 1, 2, 3]).await.unwrap();
    drop(tcp);
    let m = query(
        s.local_addr(),
        &name("www.example.nl."),
        RecordType::A,
        false,
        false,
    )
    .await
    .unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
}

#[tokio::test]
async fn stopping_the_server_frees_its_port() {
    let s = server(&[signed_child(Breakage::None)]).await;
    let addr = s.local_addr();
    drop(s);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let options = QueryOptions {
        timeout: Duration::from_millis(300),
        ..QueryOptions::default()
    };
    assert!(
        query_with(addr, &name("www.example.nl."), RecordType::A, &options)
            .await
            .is_err()
    );
}

/// `answer_in_process`: a query from this process gets, without a socket, exactly the answer
/// the sockets give (truncation over UDP and the TCP retry included), lands in the history,
/// and a server that drops queries fails the query at once instead of after the timeout; once
/// switched off, the sockets answer again.
#[tokio::test]
async fn in_process_answers_are_the_sockets_answers() {
    let s = server(&[big_child(7)]).await;
    let addr = s.local_addr();
    let big = name("big.example.nl.");
    let udp_only = QueryOptions {
        tcp_on_truncation: false,
        ..QueryOptions::default()
    };
    let with_retry = QueryOptions {
        tcp_on_truncation: true,
        ..QueryOptions::default()
    };
    let by_socket = (
        query_with(addr, &big, RecordType::TXT, &udp_only)
            .await
            .unwrap(),
        query_with(addr, &big, RecordType::TXT, &with_retry)
            .await
            .unwrap(),
    );
    let before = s.requests_received();
    s.answer_in_process(true);
    let direct = (
        query_with(addr, &big, RecordType::TXT, &udp_only)
            .await
            .unwrap(),
        query_with(addr, &big, RecordType::TXT, &with_retry)
            .await
            .unwrap(),
    );
    assert!(by_socket.0.metadata.truncation && direct.0.metadata.truncation);
    assert!(!direct.1.metadata.truncation);
    for (a, b) in [(&by_socket.0, &direct.0), (&by_socket.1, &direct.1)] {
        assert_eq!(a.answers, b.answers);
        assert_eq!(a.metadata.response_code, b.metadata.response_code);
    }
    // One UDP query, then UDP and the TCP retry: all recorded.
    assert_eq!(s.requests_received(), before + 3);

    s.set_faults(Faults {
        drop_queries: true,
        ..Faults::default()
    });
    // With a long timeout: the in-process path reports the drop without waiting it out (a
    // regression would make this test take the whole 30 s, not fail it by a clock).
    let patient = QueryOptions {
        timeout: Duration::from_secs(30),
        ..udp_only.clone()
    };
    let dropped = query_with(addr, &big, RecordType::TXT, &patient).await;
    assert!(
        matches!(dropped, Err(QueryError::Timeout { .. })),
        "{dropped:?}"
    );

    s.set_faults(Faults::default());
    s.answer_in_process(false);
    let before = s.requests_received();
    let again = query_with(addr, &big, RecordType::TXT, &with_retry)
        .await
        .unwrap();
    assert_eq!(again.answers, by_socket.1.answers);
    assert_eq!(s.requests_received(), before + 2, "over the sockets again");
}

/// `served_version`: what a server of this process answers a name from changes exactly when
/// its answers about that name can: a new snapshot of the zone holding the name, a fault, the
/// zone going; not a snapshot of another zone, nor the same snapshot set again. Over its
/// sockets as in-process; a server that has gone, or was never here, has no version (only
/// asking can tell).
#[tokio::test]
async fn served_version_changes_when_the_answers_about_a_name_can() {
    let s = server(&[big_child(7), signed_island()]).await;
    let addr = s.local_addr();
    let www = name("www.example.nl.");
    let v = |n: &hickory_proto::rr::Name| dnssec::served_version(addr, n).unwrap();
    let by_socket = v(&www);
    s.answer_in_process(true);
    assert_eq!(v(&www), by_socket, "the same server, the same zones");
    let first = v(&www);
    assert_eq!(first, v(&www));
    let island = v(&name("island.nl."));
    assert_ne!(first, island);

    // Another zone changes: answers about www.example.nl cannot.
    s.set_zone(signed_island());
    assert_eq!(v(&www), first);
    assert_ne!(v(&name("island.nl.")), island);
    // The same snapshot again: nothing to ask.
    let child = big_child(8);
    s.set_zone(child.clone());
    let second = v(&www);
    assert_ne!(second, first, "a new snapshot of the name's zone");
    s.set_zone(child);
    assert_eq!(v(&www), second);

    // Faults shape the answers.
    s.set_faults(Faults {
        strip_rrsigs: true,
        ..Faults::default()
    });
    assert_ne!(v(&www), second);
    s.set_faults(Faults {
        strip_rrsigs: true,
        scope: vec![name(ISLAND)],
        ..Faults::default()
    });
    assert_eq!(v(&www), second, "a fault scoped to another zone");
    s.set_faults(Faults::default());
    assert_eq!(v(&www), second);

    // The zone goes: refused from then on, a version of its own.
    assert!(s.remove_zone(&name(CHILD)));
    let gone = v(&www);
    assert_ne!(gone, second);
    let refused = query(addr, &www, RecordType::A, true, false).await.unwrap();
    assert_eq!(refused.metadata.response_code, ResponseCode::Refused);
    assert_eq!(v(&www), gone);

    drop(s);
    assert!(dnssec::served_version(addr, &www).is_none(), "stopped");
    let elsewhere: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
    assert!(dnssec::served_version(elsewhere, &www).is_none());
}
