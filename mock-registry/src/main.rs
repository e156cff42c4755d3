//! `mock-registry`: the command-line front end of the mock registry.
//!
//! Thin on purpose: parsing arguments and printing; the work is in the library.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mock_registry::pki::{Pki, PkiError, registrar_files};

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
    let result = match cli.command {
        Command::Pki(PkiCommand::Init { out, registrars }) => pki_init(out, &registrars),
        Command::Pki(PkiCommand::AddRegistrar { dir, registrars }) => {
            pki_add_registrar(dir, &registrars)
        }
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
