//! The harness's errors, sorted by whose fault they are, because a report must never blame a
//! registrar for the harness's failure or the other way round:
//!
//! - [`HarnessError`]: the harness itself failed (a server did not start, an observation could
//!   not be made). It ends as `HARNESS-FAULT`, never hidden.
//! - [`RegistrarError`]: a registrar failed: a process crashed, broke the adapter protocol or
//!   did not answer in time, a registrar refused a registrant's request, or the reference
//!   registrar gave up (an EPP command refused, a key never published). It ends as
//!   `REGISTRAR-FAILURE` or `PROCEDURE-INCOMPLETE`.
//! - [`ScenarioError`](crate::scenario::ScenarioError): a scenario file is wrong; it names the
//!   file and the line.
//!
//! A [`HarnessError`] carries what the harness was doing as context layers, outermost first
//! ("building the world: PKI: …"), as NLnet Labs' dnst does; [`Context`] adds a layer.

use std::error::Error as StdError;

/// The harness itself failed. See the module documentation.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// Something failed while the harness was doing `context`.
    #[error("{context}: {source}")]
    Context {
        /// What the harness was doing.
        context: String,
        /// The error underneath, kept whole so its own context layers print too.
        #[source]
        source: Box<dyn StdError + Send + Sync + 'static>,
    },
    /// A condition the harness cannot go on from, in words.
    #[error("{0}")]
    Failed(String),
}

impl HarnessError {
    /// A failure without an underlying error.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }

    /// `self` with one more layer of context outside it.
    pub fn context(self, context: impl Into<String>) -> Self {
        Self::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }
}

/// Adds what the harness was doing to an error, turning it into a [`HarnessError`].
pub trait Context<T> {
    /// `context: error`.
    fn context(self, context: impl Into<String>) -> Result<T, HarnessError>;
    /// The same, with the context made only on failure.
    fn with_context(self, context: impl FnOnce() -> String) -> Result<T, HarnessError>;
}

impl<T, E: StdError + Send + Sync + 'static> Context<T> for Result<T, E> {
    fn context(self, context: impl Into<String>) -> Result<T, HarnessError> {
        self.map_err(|e| HarnessError::Context {
            context: context.into(),
            source: Box::new(e),
        })
    }

    fn with_context(self, context: impl FnOnce() -> String) -> Result<T, HarnessError> {
        self.map_err(|e| HarnessError::Context {
            context: context(),
            source: Box::new(e),
        })
    }
}

/// Why an operator could not do something.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// The zone is not hosted here.
    #[error("operator {0} does not host {1}")]
    NoZone(String, String),
    /// Keys, zone data or signing failed.
    #[error("operator {operator}: {what}")]
    Dns {
        /// The operator's name in the scenario.
        operator: String,
        /// What failed, in words (the underlying error's message).
        what: String,
    },
    /// The server could not start.
    #[error("operator {0}: cannot start its server: {1}")]
    Server(String, std::io::Error),
    /// A key given to it is not a DNSKEY.
    #[error("{0}")]
    BadKey(String),
    /// An operator on the far side of the adapter protocol refused, or the exchange failed.
    #[error("{0}")]
    Remote(String),
    /// Real DNS software (PowerDNS, Knot) failed: a missing program (named with its Debian
    /// package), a server that died (with its log's tail), a change not served in time.
    #[error("operator {operator}: {source}")]
    Software {
        /// The operator's name in the scenario, to tell which server failed.
        operator: String,
        /// What the software did.
        #[source]
        source: Box<real_dns::Error>,
    },
}

/// A DNS question a registrar or the harness needed could not be answered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DnsError {
    /// The name is not a valid domain name.
    #[error("bad name {name}: {reason}")]
    BadName {
        /// The name as given.
        name: String,
        /// What makes the name invalid (hickory's message).
        reason: String,
    },
    /// The server did not answer, or answered something that is not an answer.
    #[error("{rtype} {name} at {server}: {reason}")]
    Query {
        /// The question's type.
        rtype: String,
        /// The question's name.
        name: String,
        /// The server asked.
        server: String,
        /// What failed (or the RCODE).
        reason: String,
    },
}

/// A registrar failed. See the module documentation.
#[derive(Debug, thiserror::Error)]
pub enum RegistrarError {
    /// A registrar process failed for good: it could not start, exited, broke the adapter
    /// protocol or did not answer in time. The message carries its stderr's last lines.
    #[error("{0}")]
    Process(String),
    /// The reference registrar could not connect to the registry or log in.
    #[error("{0}")]
    Connect(String),
    /// A registrar refused a registrant's request (an `error` answer).
    #[error("{0}")]
    Refused(String),
    /// An EPP exchange failed on the wire.
    #[error("EPP: {0}")]
    Epp(String),
    /// The registry refused a command the registrar needed.
    #[error("{what} refused: {code}{detail}")]
    EppRefused {
        /// The command, e.g. `key relay`.
        what: String,
        /// The result code.
        code: epp::ResultCode,
        /// The SIDN-style detail, with a leading space, or empty.
        detail: String,
    },
    /// The registry's answer lacked what the command promises.
    #[error("{0}")]
    EppAnswer(String),
    /// A DNS question it needed could not be answered.
    #[error(transparent)]
    Dns(#[from] DnsError),
    /// Its DNS operator could not make a change.
    #[error(transparent)]
    Operator(#[from] OperatorError),
    /// It gave up by its own judgement (a key never published, a domain that is already
    /// its own).
    #[error("{0}")]
    GaveUp(String),
}

impl RegistrarError {
    /// A registrar's own decision to give up.
    pub fn gave_up(message: impl Into<String>) -> Self {
        Self::GaveUp(message.into())
    }
}

impl From<mock_registry::client::ClientError> for RegistrarError {
    fn from(e: mock_registry::client::ClientError) -> Self {
        Self::Epp(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_layers_read_outermost_first() {
        let io: Result<(), std::io::Error> = Err(std::io::Error::other("disk full"));
        let e = io
            .context("PKI")
            .map_err(|e| e.context("building the world"))
            .unwrap_err();
        assert_eq!(e.to_string(), "building the world: PKI: disk full");
        let source = StdError::source(&e).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("PKI: disk full"));
    }
}
