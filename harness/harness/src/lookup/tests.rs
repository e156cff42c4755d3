//! `harness lookup`: anchors, the walk through a router (every corpus case, in memory), and
//! the UDP/TCP transport against a loopback responder.

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::*;

/// Runs the async walk to completion on a runtime of its own (the command does the same).
fn walk(transport: &mut dyn Transport, case: &corpus::Case) -> View {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(collect_view(
            transport,
            &case.anchors,
            &case.qname,
            case.qtype,
        ))
        .unwrap()
}
use checker::corpus::{self, CorpusOptions};
use checker::{ReasonCode, testbed::name, validate};

#[test]
fn anchors_parse_from_presentation_lines() {
    let cases = corpus::generate(&CorpusOptions::default());
    let text = format!(
        "; the root\n{}\n\ntest. 3600 IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=\n",
        cases[0].trust_anchor_text()
    );
    let anchors = parse_anchors(&text).unwrap();
    assert_eq!(
        anchors.get(&Name::root()),
        cases[0].anchors.get(&Name::root())
    );
    assert!(matches!(
        anchors.get(&name("test.")).unwrap(),
        [Anchor::Dnskey(_)]
    ));
    for bad in [
        "",
        "; nothing",
        ". IN A 192.0.2.1",
        ". IN DS 1 2 3",
        "exa mple. DS",
    ] {
        assert!(parse_anchors(bad).is_err(), "{bad:?}");
    }
}

fn router(case: &corpus::Case) -> ZoneRouter {
    ZoneRouter::new(
        case.zone_arcs().into_iter().cloned().collect(),
        case.overrides.clone(),
    )
}

/// Runs the async chain walk to completion (the command does the same).
fn walk_chain(transport: &mut dyn Transport, case: &corpus::Case) -> Vec<View> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(collect_chain(
            transport,
            &case.anchors,
            &case.qname,
            case.qtype,
        ))
        .unwrap()
}

#[test]
fn every_corpus_case_gets_the_same_verdict_through_a_router() {
    let options = CorpusOptions::default();
    let mut failures = Vec::new();
    for case in corpus::generate(&options) {
        let mut transport = router(&case);
        let links = walk_chain(&mut transport, &case);
        assert_eq!(links.len(), case.links().len(), "{}", case.id);
        let v = validate_chain(&links, &case.anchors, options.now);
        if let Err(e) = case.expected.compare(&v) {
            failures.push(format!("{}: {e}\n{}", case.id, render_chain(&links, &v)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn remembered_answers_and_signature_checks_change_no_verdict() {
    // Each case walked twice through one `Remembering`: the second walk asks nothing, and its
    // links are the first walk's. One signature memo carried across every case, whose zones
    // share names but not keys or data: the verdicts are those of a fresh validator.
    let options = CorpusOptions::default();
    let mut memo = checker::SignatureMemo::default();
    let mut failures = Vec::new();
    for case in corpus::generate(&options) {
        let mut transport = Remembering::new(router(&case));
        let links = walk_chain(&mut transport, &case);
        let asked = transport.asked();
        assert!(asked > 0, "{}", case.id);
        assert_eq!(walk_chain(&mut transport, &case), links, "{}", case.id);
        assert_eq!(transport.asked(), asked, "{}: asked again", case.id);
        let fresh = validate_chain(&links, &case.anchors, options.now);
        let mut validator = checker::Validator::with_memo(&case.anchors, memo);
        let remembered = validator.validate_chain(&links, options.now);
        memo = validator.into_memo();
        if remembered != fresh {
            failures.push(format!("{}: {remembered:?} against {fresh:?}", case.id));
        }
    }
    assert!(memo.len() > 1000, "{} checks remembered", memo.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Fails every question while `down`, else answers from the router.
struct Flaky {
    router: ZoneRouter,
    down: bool,
}

impl Transport for Flaky {
    fn query<'a>(
        &'a mut self,
        qname: &'a Name,
        qtype: RecordType,
    ) -> BoxFuture<'a, Result<Message, LookupError>> {
        if self.down {
            return Box::pin(async {
                Err(LookupError::Network {
                    server: "flaky".into(),
                    reason: "down".into(),
                })
            });
        }
        self.router.query(qname, qtype)
    }
}

#[test]
fn a_failed_question_is_asked_again() {
    let case = &corpus::generate(&CorpusOptions::default())[0];
    let mut transport = Remembering::new(Flaky {
        router: router(case),
        down: true,
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert!(
        rt.block_on(transport.query(&case.qname, case.qtype))
            .is_err()
    );
    transport.inner.down = false;
    let answer = rt
        .block_on(transport.query(&case.qname, case.qtype))
        .unwrap();
    assert_eq!(transport.asked(), 2);
    assert_eq!(
        rt.block_on(transport.query(&case.qname, case.qtype))
            .unwrap(),
        answer
    );
    assert_eq!(transport.asked(), 2);
}

/// A loopback server for a corpus case: UDP, answering DNSKEY questions truncated so the
/// client retries over TCP.
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Server {
    fn start(router: ZoneRouter) -> Self {
        let (udp, tcp) = loop {
            let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
            if let Ok(tcp) = TcpListener::bind(udp.local_addr().unwrap()) {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().unwrap();
        udp.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        tcp.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        {
            let (stop, router) = (Arc::clone(&stop), router.clone());
            threads.push(std::thread::spawn(move || {
                let mut buf = vec![0u8; 4096];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, from)) = udp.recv_from(&mut buf) else {
                        continue;
                    };
                    let query = Message::from_vec(&buf[..n]).unwrap();
                    let mut answer = router.answer(&query);
                    if query.queries[0].query_type() == RecordType::DNSKEY {
                        answer = Message::response(query.metadata.id, OpCode::Query);
                        answer.add_query(query.queries[0].clone());
                        answer.metadata.truncation = true;
                    }
                    udp.send_to(&answer.to_vec().unwrap(), from).unwrap();
                }
            }));
        }
        {
            let stop = Arc::clone(&stop);
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok((mut stream, _)) = tcp.accept() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    stream.set_nonblocking(false).unwrap();
                    let mut len = [0u8; 2];
                    stream.read_exact(&mut len).unwrap();
                    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
                    stream.read_exact(&mut buf).unwrap();
                    let answer = router.answer(&Message::from_vec(&buf).unwrap());
                    let bytes = answer.to_vec().unwrap();
                    let mut framed = u16::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
                    framed.extend_from_slice(&bytes);
                    stream.write_all(&framed).unwrap();
                }
            }));
        }
        Self {
            addr,
            stop,
            threads,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn the_command_resolves_over_udp_and_tcp_and_exits_by_verdict() {
    let options = CorpusOptions::default();
    let cases = corpus::generate(&options);
    let dir = tempfile::tempdir().unwrap();
    for (id, status, code) in [
        ("secure/plain/alg13-nsec3/www-a", Status::Secure, None),
        ("secure/plain/alg8-nsec/example-ds", Status::Secure, None),
        (
            "signature-expired/child/alg15-nsec3/www-a",
            Status::Bogus,
            Some(ReasonCode::SignatureExpired),
        ),
        (
            "no-ds-matches-ksk/other-key/alg13-nsec/www-a",
            Status::Bogus,
            Some(ReasonCode::NoDsMatchesKsk),
        ),
    ] {
        let case = cases
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no case {id}"));
        let server = Server::start(router(case));
        let mut transport = ServerTransport::new(server.addr, Duration::from_secs(2));
        let view = walk(&mut transport, case);
        let v = validate(&view, &case.anchors, options.now);
        assert_eq!(v.lenient.status(), status, "{id}: {}", render(&view, &v));
        assert_eq!(v.lenient.code(), code, "{id}");
        // The command itself: exit 0 only for Secure.
        let anchor = dir.path().join("anchor");
        std::fs::write(&anchor, case.trust_anchor_text()).unwrap();
        let args = LookupArgs {
            name: case.qname.to_string(),
            rtype: case.qtype.to_string(),
            server: server.addr,
            anchor,
            now: Some(options.now),
            strict: false,
            timeout: 2,
        };
        let expected = if status == Status::Secure { 0 } else { 1 };
        assert_eq!(run(&args), ExitCode::from(expected), "{id}");
    }
    // Nobody answers: exit 2.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let anchor = dir.path().join("anchor");
    let args = LookupArgs {
        name: "www.example.test".into(),
        rtype: "a".into(),
        server: silent.local_addr().unwrap(),
        anchor,
        now: None,
        strict: false,
        timeout: 1,
    };
    assert_eq!(run(&args), ExitCode::from(2));
}
