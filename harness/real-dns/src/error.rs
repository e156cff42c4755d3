//! The crate's one error type.
//!
//! Every failure a harness may want to react to differently is its own variant (a missing
//! package is a setup problem, a deadline passed is a finding about the server); the others
//! carry enough context (the command, the HTTP path, the log tail) to be read in a test report
//! without rerunning anything.

use std::path::PathBuf;
use std::time::Duration;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why starting or driving a real DNS server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A program the server needs is not installed (or not where it was said to be).
    #[error("{binary} not found: install the Debian package {package}")]
    MissingBinary {
        /// The program asked for (a name looked up in PATH, or a path).
        binary: String,
        /// The Debian package that ships it.
        package: &'static str,
    },
    /// A data file the server needs is not installed.
    #[error("{} not found: install the Debian package {package}", path.display())]
    MissingFile {
        /// The path looked at (the configured one, by default where the Debian package installs
        /// it).
        path: PathBuf,
        /// The Debian package that ships it.
        package: &'static str,
    },
    /// A local operation (files, sockets, spawning) failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error underneath.
        #[source]
        source: std::io::Error,
    },
    /// The server process exited while starting or serving.
    #[error("{software} exited ({status}); log tail:\n{log_tail}")]
    Exited {
        /// The software's name as messages show it with its version (e.g. `Knot DNS 3.2`).
        software: &'static str,
        /// The exit status as the OS reports it (code or signal).
        status: String,
        /// The end of its log.
        log_tail: String,
    },
    /// The server did not answer for its probe zone before the deadline.
    #[error(
        "{software} did not answer a SOA query for {zone} within {waited:?}; log tail:\n{log_tail}"
    )]
    StartTimeout {
        /// The software's name as messages show it with its version (e.g. `Knot DNS 3.2`).
        software: &'static str,
        /// The zone asked for.
        zone: String,
        /// How long the server was given to answer.
        waited: Duration,
        /// The end of its log.
        log_tail: String,
    },
    /// A change was accepted but not served before the deadline.
    #[error(
        "{zone}: {expected} not served within {waited:?} (last seen: {last_seen}); log tail:\n{log_tail}"
    )]
    NotServed {
        /// The zone that did not serve what was expected.
        zone: String,
        /// What was waited for.
        expected: String,
        /// How long the change was given to be served.
        waited: Duration,
        /// What the server answered last.
        last_seen: String,
        /// The end of the server's log.
        log_tail: String,
    },
    /// The PowerDNS HTTP API refused a request.
    #[error("PowerDNS API {method} {path}: HTTP {status}: {body}")]
    Api {
        /// The HTTP method.
        method: &'static str,
        /// The path asked for.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The answer's body (PowerDNS puts the reason there).
        body: String,
    },
    /// An HTTP answer could not be read.
    #[error("PowerDNS API {path}: malformed answer: {reason}")]
    Http {
        /// The path asked for.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A control program (knotc, keymgr, sqlite3) failed.
    #[error("`{command}` failed: {output}")]
    Control {
        /// The command line.
        command: String,
        /// What it printed.
        output: String,
    },
    /// A DNS query got no usable answer.
    #[error("DNS query {question} at {server}: {reason}")]
    Dns {
        /// The question (name and type).
        question: String,
        /// The server asked.
        server: std::net::SocketAddr,
        /// What went wrong.
        reason: String,
    },
    /// The zone is not hosted by this server.
    #[error("{0} is not hosted here")]
    NoZone(String),
    /// The zone is already hosted by this server.
    #[error("{0} is already hosted here")]
    ZoneExists(String),
    /// A name, record line or key given by the caller is not acceptable.
    #[error("invalid {what} {input:?}: {reason}")]
    Invalid {
        /// What kind of input (record, zone name, DNSKEY…).
        what: &'static str,
        /// The input as given.
        input: String,
        /// Why it is refused.
        reason: String,
    },
    /// The software cannot do what was asked (an algorithm, a key scheme…).
    #[error("{software} does not support {what}")]
    Unsupported {
        /// The software's name as messages show it with its version (e.g. `Knot DNS 3.2`).
        software: &'static str,
        /// What it cannot do.
        what: String,
    },
    /// The server said something this crate cannot interpret.
    #[error("{software}: unexpected output: {what}")]
    Unexpected {
        /// The software's name as messages show it with its version (e.g. `Knot DNS 3.2`).
        software: &'static str,
        /// What was seen.
        what: String,
    },
}

impl Error {
    /// An [`Error::Io`] with its context.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// An [`Error::Invalid`].
    pub(crate) fn invalid(
        what: &'static str,
        input: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            what,
            input: input.into(),
            reason: reason.into(),
        }
    }
}
