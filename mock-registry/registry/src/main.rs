//! `mock-registry`: the command-line front end of the mock registry.
//!
//! Thin on purpose: parsing arguments and printing; the work is in the library.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Parser, Subcommand};
use clock::{SharedClock, SystemClock};
use dnssec::{DnsServer, DnsServerConfig, KeyAlgorithm};
use mock_registry::feedback::{ProbeOptions, run_due};
use mock_registry::pki::{Pki, PkiError, registrar_files};
use mock_registry::registry::{AutomationPolicy, Policy, Profile, ReceiptPolicy, Registry};
use mock_registry::server::{Chaos, EppServer, ServerConfig};
use mock_registry::{PublishConfig, PublishKeys, Publisher};

type BoxError = Box<dyn std::error::Error>;

/// A strict mock SIDN-style (.nl) EPP registry, for testing registrars.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage the test PKI for EPP's mutual TLS (a CA, the server's and registrars' certificates).
    #[command(subcommand)]
    Pki(PkiCommand),
    /// Run the registry: EPP over mutual TLS for the registrars of a PKI and, with `--dns`,
    /// the signed root and TLD it publishes.
    ///
    /// Prints `mock-registry ready epp=IP:PORT` on stdout once it accepts connections (with
    /// `--dns`: `mock-registry ready epp=IP:PORT dns=IP:PORT anchor=PATH`), then runs until
    /// SIGINT or SIGTERM. Logs go to stderr (RUST_LOG, default info).
    Serve(Box<ServeArgs>),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The PKI directory (from `mock-registry pki init`); every registrar in it can log in
    /// with its certificate and NAME.password.
    #[arg(long, value_name = "DIR")]
    pki: PathBuf,
    /// EPP listen address; port 0 picks a free port (see the ready line).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:700")]
    epp: SocketAddr,
    /// The TLD the registry runs.
    #[arg(long, default_value = "nl")]
    tld: String,
    /// Seconds without a frame after which a session is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    idle_timeout: u64,
    /// Seconds a client may leave an answer untaken before its session is closed (and its
    /// session slot freed).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    write_timeout: u64,
    /// Seed for generated transfer tokens (the same seed gives the same tokens).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Serve the signed root and TLD on this address, UDP and TCP (port 0 picks a free port;
    /// see the ready line). Without it, no DNS is served.
    #[arg(long, value_name = "ADDR")]
    dns: Option<SocketAddr>,
    /// Where to write the root trust anchor: root.key (DNSKEY), root.ds and
    /// trust-anchors.conf (for delv -a). Default: the PKI directory.
    #[arg(long, value_name = "DIR", requires = "dns")]
    anchor_dir: Option<PathBuf>,
    /// Seconds between an EPP change and its appearance in the served TLD.
    #[arg(long, value_name = "SECONDS", default_value_t = 0, requires = "dns")]
    publish_delay: u64,
    /// DNSSEC algorithm of the root and TLD keys (fresh keys every start).
    #[arg(long, value_enum, default_value_t = Algorithm::Ecdsa, requires = "dns")]
    dnssec_algorithm: Algorithm,
    /// Chaos: up to this many seconds more publication delay, drawn per change.
    #[arg(long, value_name = "SECONDS", default_value_t = 0, requires = "dns")]
    publish_jitter: u64,
    /// Chaos: the share (0 to 1) of commands answered 2400 without being executed.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = rate)]
    chaos_transient_rate: f64,
    /// Chaos: the share (0 to 1) of commands after whose answer the connection is closed.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = rate)]
    chaos_drop_rate: f64,
    /// Chaos: the share (0 to 1) of logins refused with 2502 (session limit reached).
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = rate)]
    chaos_session_limit_rate: f64,
    /// Seed of the chaos draws and the publication jitter (default: from the clock; the
    /// ready line prints it, so a run can be repeated).
    #[arg(long, value_name = "SEED")]
    chaos_seed: Option<u64>,
    /// Offer key relay receipts (experimental extension, docs/keyrelay-receipt.md): a
    /// registrar that announces it at login is told when the registrar of record acknowledged
    /// its relay and whether every name server serves the relayed keys before they expire.
    #[arg(long)]
    keyrelay_receipts: bool,
    /// Seconds between two probes of a watched relay's name servers.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 900,
        requires = "keyrelay_receipts"
    )]
    receipt_probe_interval: u64,
    /// Where a name server host answers, for the receipts' probes and the CDS/CDNSKEY
    /// scanner: HOST=IP:PORT, repeatable. In-TLD hosts are also asked at their glue, on port
    /// 53.
    #[arg(long = "ns-addr", value_name = "HOST=ADDR", value_parser = parse_ns_addr)]
    ns_addrs: Vec<(String, SocketAddr)>,
    /// Scan the delegations' CDS/CDNSKEY and update their DS by a registry's rules
    /// (docs/ds-automation.md): none, se, ch, fred or centralnic. Off by default, as in the
    /// SIDN profile.
    #[arg(long, value_name = "PROFILE", default_value = "none", value_parser = parse_profile)]
    ds_automation: Profile,
    /// RFC 9615 signals (`--ds-automation ch`): the root server the scanner validates them
    /// from, IP:PORT. Default: this registry's own `--dns` server, with its own anchor; then
    /// only signaling zones delegated securely under its TLD can be validated.
    #[arg(long, value_name = "ADDR", requires = "signal_anchor")]
    signal_root: Option<SocketAddr>,
    /// The trust anchor of `--signal-root`: a file of `. DS …` or `. DNSKEY …` lines (e.g. an
    /// unbound root.key).
    #[arg(long, value_name = "FILE", requires = "signal_root")]
    signal_anchor: Option<PathBuf>,
}

/// A DS automation profile by name.
fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::from_name(s).ok_or_else(|| {
        format!(
            "{s:?} is not a profile: {}",
            Profile::ALL
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// A rate from 0 to 1.
fn rate(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|e| format!("{s:?}: {e}"))?;
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err(format!("{r} is not a rate from 0 to 1"))
    }
}

/// `HOST=IP:PORT` for `--ns-addr`.
fn parse_ns_addr(s: &str) -> Result<(String, SocketAddr), String> {
    let (host, addr) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not HOST=IP:PORT"))?;
    let addr = addr
        .parse()
        .map_err(|e| format!("{addr:?} is not IP:PORT: {e}"))?;
    Ok((host.trim_end_matches('.').to_ascii_lowercase(), addr))
}

/// DNSSEC algorithms for `--dnssec-algorithm`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Algorithm {
    /// ECDSAP256SHA256 (13).
    Ecdsa,
    /// ED25519 (15).
    Ed25519,
    /// RSASHA256 (8), 2048 bits (slow to generate).
    Rsa,
}

impl Algorithm {
    fn key_algorithm(self) -> KeyAlgorithm {
        match self {
            Self::Ecdsa => KeyAlgorithm::EcdsaP256Sha256,
            Self::Ed25519 => KeyAlgorithm::Ed25519,
            Self::Rsa => KeyAlgorithm::RsaSha256,
        }
    }
}

#[derive(Debug, Subcommand)]
enum PkiCommand {
    /// Create a new PKI: DIR/ca.pem, ca.key, server.pem, server.key and, per registrar,
    /// NAME.pem, NAME.key, NAME.password. Refuses to overwrite existing files.
    Init {
        /// Directory to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Registrar clID (3–16 of A–Z a–z 0–9 - _ .); repeat the flag or list several.
        #[arg(long = "registrar", value_name = "NAME", num_args = 1.., action = clap::ArgAction::Append)]
        registrars: Vec<String>,
    },
    /// Add registrars to an existing PKI, signed by its CA.
    AddRegistrar {
        /// Directory holding the PKI.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Registrar clID; repeat the flag or list several.
        #[arg(long = "registrar", value_name = "NAME", num_args = 1.., action = clap::ArgAction::Append, required = true)]
        registrars: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: Result<(), BoxError> = match cli.command {
        Command::Pki(PkiCommand::Init { out, registrars }) => {
            pki_init(out, &registrars).map_err(Into::into)
        }
        Command::Pki(PkiCommand::AddRegistrar { dir, registrars }) => {
            pki_add_registrar(dir, &registrars).map_err(Into::into)
        }
        Command::Serve(args) => serve(*args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mock-registry: error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn pki_init(out: PathBuf, registrars: &[String]) -> Result<(), PkiError> {
    let names: Vec<&str> = registrars.iter().map(String::as_str).collect();
    let pki = Pki::init(&out, &names)?;
    for file in pki.files() {
        println!("wrote {file}");
    }
    Ok(())
}

fn pki_add_registrar(dir: PathBuf, registrars: &[String]) -> Result<(), PkiError> {
    let mut pki = Pki::load(&dir)?;
    for name in registrars {
        let credentials = pki.add_registrar(name)?;
        for file in registrar_files(credentials) {
            println!("wrote {file}");
        }
    }
    Ok(())
}

fn serve(args: ServeArgs) -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let pki = Pki::load(&args.pki)?;
    let policy = Policy {
        tld: args.tld.trim_matches('.').to_ascii_lowercase(),
        keyrelay_receipts: args.keyrelay_receipts.then(|| ReceiptPolicy {
            probe_interval: jiff::SignedDuration::from_secs(
                i64::try_from(args.receipt_probe_interval).unwrap_or(i64::MAX),
            ),
            ..ReceiptPolicy::default()
        }),
        ds_automation: AutomationPolicy::profile(args.ds_automation),
        ..Policy::default()
    };
    let clock: SharedClock = Arc::new(SystemClock);
    let mut registry = Registry::new(policy, clock.clone(), args.seed);
    for r in pki.registrars() {
        registry.add_registrar(r.clid().as_str(), r.password().expose());
    }
    let tls = Arc::new(mock_registry::tls::server_config(&pki)?);
    let chaos_seed = args.chaos_seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let config = ServerConfig {
        idle_timeout: Duration::from_secs(args.idle_timeout),
        write_timeout: Duration::from_secs(args.write_timeout),
        chaos: Chaos {
            transient_failure_rate: args.chaos_transient_rate,
            drop_connection_rate: args.chaos_drop_rate,
            session_limit_rate: args.chaos_session_limit_rate,
            seed: chaos_seed,
        },
        ..ServerConfig::default()
    };
    let chaos_on = config.chaos.is_on() || args.publish_jitter > 0;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let registry = Arc::new(Mutex::new(registry));
        let config_chaos = config.chaos.describe();
        let server = EppServer::start(args.epp, tls, registry.clone(), config).await?;
        let mut ready = format!("mock-registry ready epp={}", server.local_addr());
        let dns = match args.dns {
            Some(addr) => {
                let dns = start_dns(&args, addr, registry.clone(), clock.clone(), chaos_seed)
                    .await?;
                ready.push_str(&format!(
                    " dns={} anchor={}",
                    dns.server.local_addr(),
                    dns.anchor.display()
                ));
                Some(dns)
            }
            None => None,
        };
        // Where the scanner validates RFC 9615 signals from.
        let signal_root = match (&args.signal_root, &args.signal_anchor, &dns) {
            (Some(root), Some(file), _) => {
                let text = std::fs::read_to_string(file)
                    .map_err(|e| format!("--signal-anchor {}: {e}", file.display()))?;
                let anchors = mock_registry::signals::parse_anchor(&text)
                    .map_err(|e| format!("--signal-anchor {}: {e}", file.display()))?;
                Some(mock_registry::signals::SignalRoot {
                    servers: vec![*root],
                    anchors,
                })
            }
            (_, _, Some(dns)) => Some(mock_registry::signals::SignalRoot {
                servers: vec![dns.server.local_addr()],
                anchors: vec![dns.anchor_ds.clone()],
            }),
            _ => None,
        };
        let probing = (args.keyrelay_receipts || args.ds_automation != Profile::None).then(|| {
            let registry = registry.clone();
            let clock = clock.clone();
            let mut resolver: std::collections::BTreeMap<String, SocketAddr> =
                args.ns_addrs.iter().cloned().collect();
            if let Some(dns) = &dns {
                // The TLD's name server is this server, whatever port it listens on: a
                // signal lookup from the root follows the referral here, not to port 53.
                resolver
                    .entry(dns.tld_ns.clone())
                    .or_insert_with(|| dns.server.local_addr());
            }
            let scan = mock_registry::scan::ScanOptions {
                signals: signal_root,
                ..mock_registry::scan::ScanOptions::default()
            };
            tokio::spawn(async move {
                let mut interval = tokio::time::interval(PUBLISH_TICK);
                loop {
                    interval.tick().await;
                    let now = clock.now();
                    run_due(&registry, &resolver, &ProbeOptions::default(), now).await;
                    mock_registry::scan::run_due(&registry, &resolver, &scan, now).await;
                }
            })
        });
        if chaos_on {
            // Seeded and printed, as Pebble does: the same seed repeats the same chaos.
            ready.push_str(&format!(" chaos_seed={chaos_seed}"));
            tracing::info!(chaos = %config_chaos, publish_jitter = args.publish_jitter, "chaos is on");
        }
        println!("{ready}");
        use std::io::Write;
        std::io::stdout().flush()?;
        shutdown_signal().await?;
        tracing::info!("shutting down");
        if let Some(task) = probing {
            task.abort();
        }
        drop(dns);
        drop(server);
        Ok::<(), BoxError>(())
    })
}

/// The published DNS of `serve`: the server, the publishing task, the anchor's path and DS.
struct Dns {
    server: Arc<DnsServer>,
    publishing: tokio::task::JoinHandle<()>,
    anchor: PathBuf,
    anchor_ds: hickory_proto::dnssec::rdata::DS,
    /// The TLD's name server host (no trailing dot), which this server answers for.
    tld_ns: String,
}

impl Drop for Dns {
    fn drop(&mut self) {
        self.publishing.abort();
    }
}

/// How often the publisher looks at the registry and publishes what is due. A change shows
/// up at most this long after its delay.
const PUBLISH_TICK: Duration = Duration::from_millis(250);

/// Signs root and TLD, serves them on `addr`, writes the trust anchor, and starts the task
/// that republishes the TLD as the registry changes.
async fn start_dns(
    args: &ServeArgs,
    addr: SocketAddr,
    registry: Arc<Mutex<Registry>>,
    clock: SharedClock,
    jitter_seed: u64,
) -> Result<Dns, BoxError> {
    let mut config = PublishConfig::new(&args.tld)?;
    config.delay = jiff::SignedDuration::from_secs(i64::try_from(args.publish_delay)?);
    config.delay_jitter = jiff::SignedDuration::from_secs(i64::try_from(args.publish_jitter)?);
    config.jitter_seed = jitter_seed;
    let ip = if addr.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        addr.ip()
    };
    config.ns_addrs = vec![ip];
    let tld_ns = config
        .tld_ns
        .to_ascii()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let keys = PublishKeys::generate(args.dnssec_algorithm.key_algorithm())?;
    let mut publisher = Publisher::new(config, keys, clock.now())?;
    let anchor_dir = args.anchor_dir.clone().unwrap_or_else(|| args.pki.clone());
    let anchor = publisher.trust_anchor()?;
    let anchors = anchor.write_files(&anchor_dir)?;
    let server = Arc::new(DnsServer::start(addr, clock.clone(), DnsServerConfig::default()).await?);
    for zone in publisher.zones() {
        server.set_zone(zone);
    }
    tracing::info!(
        dns = %server.local_addr(),
        anchor = %anchors.dnskey.display(),
        delv = %anchors.bind.display(),
        "serving the signed root and TLD"
    );
    let publishing = tokio::spawn({
        let server = server.clone();
        async move {
            let mut interval = tokio::time::interval(PUBLISH_TICK);
            loop {
                interval.tick().await;
                let now = clock.now();
                {
                    let registry = registry.lock().unwrap_or_else(|e| e.into_inner());
                    publisher.observe(&registry, now);
                }
                match publisher.tick(now) {
                    Ok(changed) => {
                        for zone in changed {
                            tracing::info!(zone = %zone.origin(), serial = zone.serial(), "published");
                            server.set_zone(zone);
                        }
                    }
                    Err(error) => tracing::error!(%error, "publishing failed"),
                }
            }
        }
    });
    Ok(Dns {
        server,
        publishing,
        anchor: anchors.dnskey,
        anchor_ds: anchor.ds,
        tld_ns,
    })
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}
