//! Queries per second of the authoritative server under UDP load.
//!
//! The server serves a root and a TLD with `DELEGATIONS` signed delegations (half with DS,
//! NSEC3) from a tokio runtime; `CLIENTS` threads, each with its own UDP socket, keep `WINDOW`
//! queries in flight for `SECONDS` and count the answers. The query mix is what a TLD server
//! sees: mostly referrals with DS (DO set), some NXDOMAIN, some DNSKEY.
//!
//! Run with `cargo bench -p mock-registry --bench dns_qps`. Environment knobs, with defaults:
//! `SECONDS` (5), `CLIENTS` (2), `WINDOW` (32), `DELEGATIONS` (10000), `WORKERS` (server UDP
//! tasks, 2), `RUNTIME_THREADS` (tokio workers, 2), `HISTORY` (history capacity, 100000; 0
//! turns the history off).
//!
//! It prints figures rather than asserting: they depend on the machine, and clients and
//! server share its cores.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clock::VirtualClock;
use dnssec::{DnsServer, DnsServerConfig, KeyAlgorithm, fixture_keys};
use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};
use jiff::Timestamp;
use mock_registry::registry::PublishedDelegation;
use mock_registry::{PublishConfig, PublishKeys, Publisher, key_data_for};

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn name(s: &str) -> Name {
    s.parse().expect("benchmark names are valid")
}

/// Encoded queries, cycled through by every client.
fn query_mix(delegations: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..1000 {
        let (qname, qtype) = match i % 10 {
            0 => (format!("nx{i}.nl."), RecordType::A),
            1 => ("nl.".to_string(), RecordType::DNSKEY),
            _ => (
                format!("www.domain{}.nl.", (i * 7919) % delegations),
                RecordType::A,
            ),
        };
        let mut m = Message::query();
        m.metadata.id = u16::try_from(i).expect("fewer than 65536 queries");
        m.add_query(Query::query(name(&qname), qtype));
        let mut edns = Edns::new();
        edns.set_dnssec_ok(true);
        edns.set_max_payload(1232);
        m.set_edns(edns);
        out.push(m.to_vec().expect("queries encode"));
    }
    out
}

/// One client: WINDOW queries out, then read answers, refilling the window, until `stop`.
/// Returns (answers, timeouts).
fn client(server: SocketAddr, queries: &[Vec<u8>], window: usize, stop: &AtomicBool) -> (u64, u64) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a client socket");
    socket.connect(server).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("set a timeout");
    let mut buf = [0u8; 4096];
    let (mut answers, mut timeouts) = (0u64, 0u64);
    let mut next = 0usize;
    let mut in_flight = 0usize;
    while !stop.load(Ordering::Relaxed) {
        while in_flight < window {
            socket.send(&queries[next % queries.len()]).expect("send");
            next += 1;
            in_flight += 1;
        }
        match socket.recv(&mut buf) {
            Ok(_) => {
                answers += 1;
                in_flight -= 1;
            }
            Err(_) => {
                // Lost (dropped by a full socket buffer): count and refill the window.
                timeouts += in_flight as u64;
                in_flight = 0;
            }
        }
    }
    (answers, timeouts)
}

fn main() {
    let seconds: u64 = env_or("SECONDS", 5);
    let clients: usize = env_or("CLIENTS", 2);
    let window: usize = env_or("WINDOW", 32);
    let delegations: usize = env_or("DELEGATIONS", 10_000);
    let workers: usize = env_or("WORKERS", 2);
    let runtime_threads: usize = env_or("RUNTIME_THREADS", 2);
    let history: usize = env_or("HISTORY", 100_000);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "dns_qps: {delegations} delegations, {clients} clients x window {window}, {seconds} s, \
         server: {workers} UDP tasks on {runtime_threads} tokio threads, history {history}, \
         {cores} cores"
    );

    let now: Timestamp = "2026-01-01T00:00:00Z".parse().expect("valid timestamp");
    let started = Instant::now();
    let mut publisher = Publisher::new(
        PublishConfig::new("nl").expect("valid TLD"),
        PublishKeys::fixtures(KeyAlgorithm::EcdsaP256Sha256),
        now,
    )
    .expect("publisher");
    let child_key = key_data_for(&fixture_keys::key(KeyAlgorithm::Ed25519, 0).dnskey(257));
    let all: Vec<PublishedDelegation> = (0..delegations)
        .map(|i| PublishedDelegation {
            name: format!("domain{i}.nl"),
            ns: vec![format!("ns1.hoster{}.net", i % 97)],
            glue: vec![],
            keys: if i % 2 == 0 {
                vec![child_key.clone()]
            } else {
                vec![]
            },
        })
        .collect();
    let mut all = all;
    publisher.schedule(1, &all, now);
    publisher.tick(now).expect("publish");
    println!(
        "  signed root + TLD in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Registry publication end to end: a new registry version with one more DS, diffed against
    // the published one and re-signed incrementally.
    let repeat = 20;
    let started = Instant::now();
    for i in 0..repeat {
        all[2 * i + 1].keys = vec![child_key.clone()];
        publisher.schedule(2 + i as u64, &all, now);
        publisher.tick(now).expect("publish");
    }
    println!(
        "  republish one added DS (whole registry version in, diff, incremental re-sign): \
         mean {:.2} ms",
        started.elapsed().as_secs_f64() * 1e3 / repeat as f64
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(runtime_threads)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let config = DnsServerConfig {
        udp_workers: workers,
        history_capacity: history,
        ..DnsServerConfig::default()
    };
    let server = runtime
        .block_on(DnsServer::start(
            "127.0.0.1:0".parse().expect("address"),
            Arc::new(VirtualClock::new(now)),
            config,
        ))
        .expect("server starts");
    for zone in publisher.zones() {
        server.set_zone(zone);
    }
    let addr = server.local_addr();
    let queries = Arc::new(query_mix(delegations));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (queries, stop) = (queries.clone(), stop.clone());
            std::thread::spawn(move || client(addr, &queries, window, &stop))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let (mut answers, mut lost) = (0, 0);
    for t in threads {
        let (a, l) = t.join().expect("client thread");
        answers += a;
        lost += l;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "  {answers} answers in {elapsed:.1} s: {:.0} queries/s answered ({lost} lost or late)",
        answers as f64 / elapsed
    );
    println!("  server saw {} requests", server.requests_received());
}
