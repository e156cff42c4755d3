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
use mock_registry::clock::SystemClock;
use mock_registry::pki::{Pki, PkiError, registrar_files};
use mock_registry::registry::{Policy, Registry};
use mock_registry::server::{EppServer, ServerConfig};

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
    /// Run the registry: EPP over mutual TLS for the registrars of a PKI.
    ///
    /// Prints `mock-registry ready epp=IP:PORT` on stdout once it accepts connections, then
    /// runs until SIGINT or SIGTERM. Logs go to stderr (RUST_LOG, default info).
    Serve(ServeArgs),
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
    /// Seed for generated transfer tokens (the same seed gives the same tokens).
    #[arg(long, default_value_t = 1)]
    seed: u64,
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
        Command::Serve(args) => serve(args),
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
        ..Policy::default()
    };
    let mut registry = Registry::new(policy, Arc::new(SystemClock), args.seed);
    for r in pki.registrars() {
        registry.add_registrar(r.clid().as_str(), r.password().expose());
    }
    let tls = Arc::new(mock_registry::tls::server_config(&pki)?);
    let config = ServerConfig {
        idle_timeout: Duration::from_secs(args.idle_timeout),
        ..ServerConfig::default()
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let registry = Arc::new(Mutex::new(registry));
        let server = EppServer::start(args.epp, tls, registry, config).await?;
        println!("mock-registry ready epp={}", server.local_addr());
        use std::io::Write;
        std::io::stdout().flush()?;
        shutdown_signal().await?;
        tracing::info!("shutting down");
        drop(server);
        Ok::<(), BoxError>(())
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
