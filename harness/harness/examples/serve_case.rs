//! Serves one corpus case over UDP and TCP on loopback, the way the harness's router answers
//! (every zone of the case, DS from the parent, overrides applied), so real validators can be
//! pointed at it by hand:
//!
//! ```text
//! cargo run -p harness --example serve_case -- list
//! cargo run -p harness --example serve_case -- secure/plain/alg13-nsec3/www-a 5353
//! delv @127.0.0.1 -p 5353 -a /tmp/harness-case/anchor.conf +root www.example.test A
//! ```
//!
//! Signatures are made at the current time (validators read the wall clock). A development
//! aid, not the differential test.

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;

use checker::corpus::{self, CorpusOptions};
use dnssec::keys::format_ds;
use harness::lookup::ZoneRouter;
use hickory_proto::op::Message;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = CorpusOptions {
        now: jiff::Timestamp::now(),
        ..CorpusOptions::default()
    };
    let cases = corpus::generate(&options);
    let Some(id) = args.first() else {
        eprintln!("usage: serve_case (list | CASE-ID [PORT])");
        std::process::exit(2);
    };
    if id == "list" {
        for c in &cases {
            println!("{}\t{} {}\t{:?}", c.id, c.qname, c.qtype, c.expected);
        }
        return;
    }
    let Some(case) = cases.iter().find(|c| &c.id == id) else {
        eprintln!("no case {id}");
        std::process::exit(2);
    };
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(5353);
    let dir = std::env::temp_dir().join("harness-case");
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("anchor.txt"), case.trust_anchor_text()).expect("anchor file");
    let mut conf = String::from("trust-anchors {\n");
    for a in case
        .anchors
        .get(&hickory_proto::rr::Name::root())
        .unwrap_or_default()
    {
        if let checker::Anchor::Ds(ds) = a {
            let f = format_ds(ds);
            let mut parts = f.splitn(4, ' ');
            let (tag, alg, dt, hex) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
            );
            conf.push_str(&format!("  . static-ds {tag} {alg} {dt} \"{hex}\";\n"));
        }
    }
    conf.push_str("};\n");
    std::fs::write(dir.join("anchor.conf"), conf).expect("anchor conf");
    println!(
        "{}: {} {} expected {:?}\nanchors in {}",
        case.id,
        case.qname,
        case.qtype,
        case.expected,
        dir.display()
    );
    let router = Arc::new(ZoneRouter::new(
        case.zone_arcs().into_iter().cloned().collect(),
        case.overrides.clone(),
    ));
    let udp = UdpSocket::bind(("127.0.0.1", port)).expect("UDP port");
    let tcp = TcpListener::bind(("127.0.0.1", port)).expect("TCP port");
    let r = Arc::clone(&router);
    std::thread::spawn(move || {
        for stream in tcp.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut len = [0u8; 2];
            while stream.read_exact(&mut len).is_ok() {
                let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
                if stream.read_exact(&mut buf).is_err() {
                    break;
                }
                let Ok(q) = Message::from_vec(&buf) else {
                    break;
                };
                let Ok(bytes) = r.answer(&q).to_vec() else {
                    break;
                };
                let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(&bytes);
                if stream.write_all(&framed).is_err() {
                    break;
                }
            }
        }
    });
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, from)) = udp.recv_from(&mut buf) else {
            continue;
        };
        let Ok(q) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        let mut answer = router.answer(&q);
        let max = q.max_payload().max(512) as usize;
        let mut bytes = answer.to_vec().unwrap_or_default();
        if bytes.len() > max {
            answer = Message::response(q.metadata.id, hickory_proto::op::OpCode::Query);
            answer.add_queries(q.queries.clone());
            answer.metadata.truncation = true;
            bytes = answer.to_vec().unwrap_or_default();
        }
        let _ = udp.send_to(&bytes, from);
    }
}
