//! Load benchmark of the EPP server: hundreds of concurrent mutual-TLS sessions issuing
//! domain:info, domain:check and poll req, measured side by side with a bare TLS server that
//! echoes a fixed frame over the same TLS configuration and framing (the ceiling on this
//! machine).
//!
//! `cargo bench -p mock-registry --bench epp_load`; knobs: `SESSIONS` per server (default
//! 200), `PAIRS` (default 20) and `WINDOW_MS` (default 1000). Both client pools connect (and
//! log in) first and keep their sessions; then the servers take short turns, ABBA, one pair of
//! turns after the other, and the figure is the median over pairs of the ratio within a pair.
//! This machine's speed swings by tens of percent for seconds at a time (the echo alone ran
//! anywhere from 55k to 100k commands/s between 5-second rounds), so long turns compared one
//! against the other measured the machine; a pair of 1-second turns sees the same machine.
//! Clients send pre-serialised
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

/// Which server the clients drive during a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Epp,
    Echo,
}

/// What the clients are told: which window it is, whose turn, and from when its commands
/// count (a short settle after each switch lets the other side's last commands drain).
#[derive(Clone, Copy, Debug)]
struct Phase {
    window: usize,
    side: Option<Side>,
    count_from: Instant,
    done: bool,
}

/// One command: the window it started in and how long it took.
type Sample = (usize, Duration);

/// Connects `sessions` clients to `addr` (logging in when `login`); each then sends commands
/// whenever the phase names `side`, and idles otherwise, keeping its session open, so both
/// servers can take many short turns without new handshakes.
async fn pool(
    pki: &Pki,
    addr: SocketAddr,
    sessions: usize,
    login: bool,
    side: Side,
    phase: &tokio::sync::watch::Receiver<Phase>,
) -> Vec<tokio::task::JoinHandle<Vec<Sample>>> {
    let frames = Arc::new(workload());
    let mut tasks = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(sessions);
    for i in 0..sessions {
        let who = REGISTRARS[i % REGISTRARS.len()];
        let config = Arc::new(registrar_client_config(pki, who));
        let pw = pki.registrar(who).unwrap().password().expose().to_string();
        let frames = frames.clone();
        let mut phase = phase.clone();
        let ready = ready_tx.clone();
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
            ready.send(()).await.unwrap();
            drop(ready);
            let mut samples = Vec::new();
            let mut n = 0usize;
            loop {
                let now = *phase.borrow_and_update();
                if now.done {
                    break;
                }
                if now.side != Some(side) {
                    if phase.changed().await.is_err() {
                        break;
                    }
                    continue;
                }
                let f = &frames[n % frames.len()];
                let t0 = Instant::now();
                frame::write_frame(&mut s, f).await.unwrap();
                frame::read_frame(&mut s, frame::DEFAULT_MAX_FRAME)
                    .await
                    .unwrap();
                if t0 >= now.count_from {
                    samples.push((now.window, t0.elapsed()));
                }
                n += 1;
            }
            samples
        }));
    }
    drop(ready_tx);
    for _ in 0..sessions {
        ready_rx.recv().await.unwrap();
    }
    tasks
}

/// One window's figures: commands started per second and the latency percentiles.
struct Window {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

fn windows(samples: Vec<Sample>, count: usize, measured: Duration) -> Vec<Option<Window>> {
    let mut per: Vec<Vec<Duration>> = vec![Vec::new(); count];
    for (w, d) in samples {
        per[w].push(d);
    }
    per.into_iter()
        .map(|mut l| {
            (!l.is_empty()).then(|| {
                l.sort_unstable();
                let pct = |p: f64| l[((l.len() as f64 - 1.0) * p).round() as usize];
                Window {
                    rate: l.len() as f64 / measured.as_secs_f64(),
                    p50: pct(0.5),
                    p99: pct(0.99),
                }
            })
        })
        .collect()
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

/// This process's CPU time so far (user and system, all threads), from /proc/self/stat, so a
/// window's CPU per command shows whether a side was slower because it worked more per command
/// or because the machine idled.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name; 100 Hz ticks.
    (ticks(11) + ticks(12)) / 100.0
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 0 => (values[n / 2 - 1] + values[n / 2]) / 2.0,
        n => values[n / 2],
    }
}

fn main() {
    let sessions = env("SESSIONS", 200) as usize;
    let pairs = env("PAIRS", 20).max(1) as usize;
    let window = Duration::from_millis(env("WINDOW_MS", 1000).max(200));
    // The first ~10 % of each window is not counted: the other side's last commands drain.
    let settle = window / 10;
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
        let echo = EchoServer::start(tls, response.as_bytes(), Duration::from_secs(3600))
            .await
            .unwrap();

        let (tx, rx) = tokio::sync::watch::channel(Phase {
            window: 0,
            side: None,
            count_from: Instant::now(),
            done: false,
        });
        let epp_pool = pool(&pki, server.local_addr(), sessions, true, Side::Epp, &rx).await;
        let echo_pool = pool(&pki, echo.local_addr(), sessions, false, Side::Echo, &rx).await;

        // Window 2k and 2k+1 are pair k; pair 0 is warm-up. Who goes first alternates
        // (ABBA), so a machine speeding up or slowing down favours neither side.
        let count = 2 * (pairs + 1);
        let mut sides = Vec::with_capacity(count);
        let mut cpu = Vec::with_capacity(count);
        for w in 0..count {
            let pair = w / 2;
            let first = if pair % 2 == 0 { Side::Epp } else { Side::Echo };
            let other = if first == Side::Epp { Side::Echo } else { Side::Epp };
            let side = if w % 2 == 0 { first } else { other };
            sides.push(side);
            tx.send(Phase {
                window: w,
                side: Some(side),
                count_from: Instant::now() + settle,
                done: false,
            })
            .unwrap();
            tokio::time::sleep(settle).await;
            let start = cpu_seconds();
            tokio::time::sleep(window - settle).await;
            cpu.push(cpu_seconds() - start);
        }
        tx.send(Phase {
            window: count,
            side: None,
            count_from: Instant::now(),
            done: true,
        })
        .unwrap();
        let mut epp_samples = Vec::new();
        for t in epp_pool {
            epp_samples.extend(t.await.unwrap());
        }
        let mut echo_samples = Vec::new();
        for t in echo_pool {
            echo_samples.extend(t.await.unwrap());
        }
        let measured = window - settle;
        let epp_w = windows(epp_samples, count, measured);
        let echo_w = windows(echo_samples, count, measured);

        println!(
            "{sessions} concurrent TLS sessions per server, both pools connected throughout; \
             the servers take {pairs} turns each of {window:?} (ABBA, after a warm-up pair; \
             the first {settle:?} of a turn not counted), info/check/poll"
        );
        println!(
            "{:<5} {:>10} {:>10} {:>10} {:>8} {:>10} {:>10} {:>10} {:>8} {:>7} {:>6}",
            "pair", "EPP/s", "p50", "p99", "cpu µs", "echo/s", "p50", "p99", "cpu µs", "ratio",
            "p99x"
        );
        // CPU per command counted (user + system, clients included, both cores).
        let per = |w: usize, rate: f64| 1e6 * cpu[w] / (rate * measured.as_secs_f64());
        let (mut ratios, mut p99s) = (Vec::new(), Vec::new());
        for pair in 1..=pairs {
            let (a, b) = (2 * pair, 2 * pair + 1);
            let (ew, cw) = if sides[a] == Side::Epp { (a, b) } else { (b, a) };
            let (Some(e), Some(c)) = (&epp_w[ew], &echo_w[cw]) else {
                println!("{pair:<5} (a side served nothing in its turn)");
                continue;
            };
            let ratio = e.rate / c.rate;
            let p99 = e.p99.as_secs_f64() / c.p99.as_secs_f64();
            println!(
                "{pair:<5} {:>10.0} {:>10.2?} {:>10.2?} {:>8.1} {:>10.0} {:>10.2?} {:>10.2?} {:>8.1} \
                 {:>6.0}% {:>5.2}x",
                e.rate,
                e.p50,
                e.p99,
                per(ew, e.rate),
                c.rate,
                c.p50,
                c.p99,
                per(cw, c.rate),
                100.0 * ratio,
                p99
            );
            ratios.push(ratio);
            p99s.push(p99);
        }
        let (lo, hi) = ratios
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
        println!(
            "median over {} pairs: EPP / echo {:.0}% (pairs from {:.0} to {:.0}%), p99 {:.2}x the echo's",
            ratios.len(),
            100.0 * median(&mut ratios),
            100.0 * lo,
            100.0 * hi,
            median(&mut p99s)
        );
    });
}
