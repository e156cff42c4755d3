//! Load benchmark of the EPP server: hundreds of concurrent mutual-TLS sessions issuing
//! domain:info, domain:check and poll req, measured side by side with a bare TLS server that
//! echoes a fixed frame over the same TLS configuration and framing (the ceiling on this
//! machine).
//!
//! `cargo bench -p mock-registry --bench epp_load`; knobs: `SESSIONS` (default 200),
//! `SECONDS` per server and round (default 5) and `ROUNDS` (default 3; the servers take
//! turns, and the median of the rounds' ratios is the figure). Clients send pre-serialised
//! frames and read raw frames, so the client side costs the same against both servers, and
//! offer TLS suites in ring's default order, as registrars' OpenSSL-based clients do.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark")]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clock::SystemClock;
use epp::frame;
use epp::message::{Check, Command, CommandKind, Frame, Info, Login, Poll};
use epp::{domain, uri};
use mock_registry::bench_echo::EchoServer;
use mock_registry::pki::Pki;
use mock_registry::registry::{Policy, Registry};
use mock_registry::server::{EppServer, ServerConfig};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

const REGISTRARS: [&str; 4] = ["bench-a", "bench-b", "bench-c", "bench-d"];

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn command(kind: CommandKind, n: usize) -> Vec<u8> {
    Frame::Command(Box::new(Command {
        kind,
        extensions: Vec::new(),
        cl_trid: Some(format!("BENCH-{n}")),
    }))
    .to_xml()
    .into_bytes()
}

fn workload() -> Vec<Vec<u8>> {
    vec![
        command(
            CommandKind::Info(Info::Domain(domain::Info {
                name: "bench.nl".into(),
                hosts: domain::HostsFilter::All,
                auth_info: None,
            })),
            1,
        ),
        command(
            CommandKind::Check(Check::Domain(vec!["bench.nl".into(), "free.nl".into()])),
            2,
        ),
        command(CommandKind::Poll(Poll::Req), 3),
    ]
}

struct Stats {
    commands: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Stats {
    fn rate(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64()
    }

    fn pct(&mut self, p: f64) -> Duration {
        self.latencies.sort_unstable();
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }
}

/// A registrar's client configuration as the registrars' own TLS stacks offer it: ring's
/// default suite order, TLS_AES_256_GCM_SHA384 first as OpenSSL's, rather than the SHA-256-first
/// order of this project's own client ([`mock_registry::tls::crypto_provider`]).
fn registrar_client_config(pki: &Pki, who: &str) -> rustls::ClientConfig {
    let identity = pki.registrar(who).unwrap().identity();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca().cert_der().clone()).unwrap();
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(vec![identity.cert_der().clone()], identity.key_der())
        .unwrap()
}

/// Runs `sessions` clients against `addr` for `secs`, each logging in first when `login`.
async fn load(pki: &Pki, addr: SocketAddr, sessions: usize, secs: u64, login: bool) -> Stats {
    let frames = Arc::new(workload());
    let deadline = Instant::now() + Duration::from_secs(secs) + Duration::from_secs(2);
    let measure_from = Instant::now() + Duration::from_secs(2);
    let mut tasks = Vec::new();
    for i in 0..sessions {
        let who = REGISTRARS[i % REGISTRARS.len()];
        let config = Arc::new(registrar_client_config(pki, who));
        let pw = pki.registrar(who).unwrap().password().expose().to_string();
        let frames = frames.clone();
        tasks.push(tokio::spawn(async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            tcp.set_nodelay(true).unwrap();
            let mut s = TlsConnector::from(config)
                .connect(mock_registry::tls::server_name(), tcp)
                .await
                .unwrap();
            frame::read_frame(&mut s, frame::DEFAULT_MAX_FRAME)
                .await
                .unwrap();
            if login {
                let l = command(
                    CommandKind::Login(Login {
                        cl_id: who.into(),
                        pw,
                        new_pw: None,
                        version: "1.0".into(),
                        lang: "en".into(),
                        obj_uris: vec![uri::DOMAIN.into()],
                        ext_uris: vec![],
                    }),
                    0,
                );
                frame::write_frame(&mut s, &l).await.unwrap();
                frame::read_frame(&mut s, frame::DEFAULT_MAX_FRAME)
                    .await
                    .unwrap();
            }
            let mut lat = Vec::new();
            let mut n = 0usize;
            while Instant::now() < deadline {
                let f = &frames[n % frames.len()];
                let t0 = Instant::now();
                frame::write_frame(&mut s, f).await.unwrap();
                frame::read_frame(&mut s, frame::DEFAULT_MAX_FRAME)
                    .await
                    .unwrap();
                if t0 >= measure_from {
                    lat.push(t0.elapsed());
                }
                n += 1;
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    Stats {
        commands: latencies.len(),
        elapsed: Duration::from_secs(secs),
        latencies,
    }
}

/// Creates `bench.nl` (contact, external host, domain) so domain:info returns real data.
fn seed(registry: &mut Registry) {
    use epp::contact::{self, Address, PostalInfo, PostalType};
    use epp::message::{Create, ResData};
    use epp::{AuthInfo, host};
    use mock_registry::registry::Services;
    let mut run = |kind: CommandKind| {
        registry.execute(
            REGISTRARS[0],
            &Services::all(),
            &Command {
                kind,
                extensions: vec![],
                cl_trid: None,
            },
        )
    };
    let r = run(CommandKind::Create(Create::Contact(contact::Create {
        id: "x".into(),
        postal_info: vec![PostalInfo {
            kind: PostalType::Loc,
            name: "Bench".into(),
            org: None,
            addr: Address {
                street: vec![],
                city: "Arnhem".into(),
                sp: None,
                pc: None,
                cc: "NL".into(),
            },
        }],
        voice: None,
        fax: None,
        email: "bench@example.nl".into(),
        auth_info: AuthInfo::password("contact-pw"),
        disclose: None,
    })));
    let Some(ResData::ContactCreate(c)) = r.res_data else {
        panic!("{r:?}")
    };
    run(CommandKind::Create(Create::Host(host::Create {
        name: "ns1.bench.example".into(),
        addrs: vec![],
    })));
    let r = run(CommandKind::Create(Create::Domain(domain::Create {
        name: "bench.nl".into(),
        period: None,
        ns: Some(domain::NsList::HostObj(vec!["ns1.bench.example".into()])),
        registrant: Some(c.id.clone()),
        contacts: vec![
            domain::DomainContact {
                kind: Some(domain::ContactType::Admin),
                id: c.id.clone(),
            },
            domain::DomainContact {
                kind: Some(domain::ContactType::Tech),
                id: c.id,
            },
        ],
        auth_info: AuthInfo::password("token-bench"),
    })));
    assert!(r.code().is_success(), "{r:?}");
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let sessions = env("SESSIONS", 200) as usize;
    let secs = env("SECONDS", 5);
    let rounds = env("ROUNDS", 3).max(1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::init(dir.path(), &REGISTRARS).unwrap();
        let tls = Arc::new(mock_registry::tls::server_config(&pki).unwrap());

        let mut registry = Registry::new(Policy::default(), Arc::new(SystemClock), 1);
        for r in pki.registrars() {
            registry.add_registrar(r.clid().as_str(), r.password().expose());
        }
        seed(&mut registry);
        let registry = Arc::new(Mutex::new(registry));
        let config = ServerConfig {
            max_sessions_per_registrar: sessions,
            ..ServerConfig::default()
        };
        let server = EppServer::start(
            "127.0.0.1:0".parse().unwrap(),
            tls.clone(),
            registry,
            config,
        )
        .await
        .unwrap();
        let response = Frame::Response(Box::new(epp::Response::simple(
            epp::ResultCode::SuccessNoMessages,
            epp::TrId {
                cl_trid: Some("BENCH-3".into()),
                sv_trid: "MOCK-00000001".into(),
            },
        )))
        .to_xml();
        let echo = EchoServer::start(tls, response.as_bytes(), Duration::from_secs(10))
            .await
            .unwrap();

        println!(
            "{sessions} concurrent TLS sessions, {secs} s per server and round (after 2 s \
             warm-up), info/check/poll, {rounds} rounds"
        );
        println!(
            "{:<7} {:<22} {:>12} {:>10} {:>10}",
            "round", "server", "commands/s", "p50", "p99"
        );
        // The two servers take turns, round after round: a machine whose speed drifts (other
        // work, a shared host) then shifts both sides of each round's ratio alike, and the
        // median over rounds is the figure to quote.
        let (mut ratios, mut p99s) = (Vec::new(), Vec::new());
        for round in 1..=rounds {
            // Who goes first alternates too (ABBA): a machine speeding up or slowing down
            // within a round then favours neither side over the run.
            let (mut epp, mut ceiling) = if round % 2 == 1 {
                let epp = load(&pki, server.local_addr(), sessions, secs, true).await;
                (
                    epp,
                    load(&pki, echo.local_addr(), sessions, secs, false).await,
                )
            } else {
                let ceiling = load(&pki, echo.local_addr(), sessions, secs, false).await;
                (
                    load(&pki, server.local_addr(), sessions, secs, true).await,
                    ceiling,
                )
            };
            for (name, s) in [
                ("mock-registry EPP", &mut epp),
                ("bare TLS echo", &mut ceiling),
            ] {
                let (p50, p99) = (s.pct(0.5), s.pct(0.99));
                println!(
                    "{round:<7} {name:<22} {:>12.0} {:>10.2?} {:>10.2?}",
                    s.rate(),
                    p50,
                    p99
                );
            }
            let ratio = epp.rate() / ceiling.rate();
            let p99 = epp.pct(0.99).as_secs_f64() / ceiling.pct(0.99).as_secs_f64();
            println!(
                "{round:<7} EPP / ceiling: {:.0}%, p99 {p99:.2}x the echo's",
                100.0 * ratio
            );
            ratios.push(ratio);
            p99s.push(p99);
        }
        println!(
            "median over {rounds} rounds: EPP / ceiling {:.0}%, p99 {:.2}x the echo's",
            100.0 * median(&mut ratios),
            median(&mut p99s)
        );
    });
}
