//! The EPP wire library: RFC 5734 framing and a typed, strict codec for every frame of the
//! SIDN profile.
//!
//! # Layout
//!
//! - [`frame`]: RFC 5734 length-prefixed framing; the only I/O here (async read/write).
//! - [`inline`]: [`InlineStr`], the short strings kept without an allocation (element names,
//!   and the registry's transaction log).
//! - [`tree`]: the element tree (namespaces by URI, attributes, content) the reader builds and
//!   the writer walks; it knows no errors.
//! - [`xml`]: the hardened XML reader (namespace-resolving, no DTDs or entities, bounded), the
//!   schema-order [`xml::Cursor`], and the writer.
//! - [`message`]: the `<epp>` root: greeting, hello, commands, responses, the dispatch from
//!   object namespaces to mappings, and the entry points [`parse`] and [`Frame::to_xml`].
//! - One module per mapping, each with its types, parser and writer: [`domain`] (RFC 5731),
//!   [`host`] (RFC 5732), [`contact`] (RFC 5733), [`secdns`] (RFC 5910), [`keyrelay`]
//!   (RFC 8063), [`sidn`] (SIDN's extension), [`changepoll`] (RFC 8590, the poll-response
//!   extension that tells a sponsoring registrar what the registry changed on its object, when,
//!   by whom and why) and [`receipt`] (this project's experimental key relay receipts, the
//!   poll-response extension that tells a relay's sender what became of it).
//! - [`error`]: result codes and [`CodecError`], whose [`ErrorKind`] fixes the result code a
//!   server answers a refused frame with.
//!
//! - `schema` (feature `test-support`): validation of frames against the official schemas in
//!   `xsd/` with xmllint, for tests.
//!
//! The codec serves both sides: the registry parses commands and writes responses; registrars
//! write commands and parse responses. Which of the valid frames a registry *accepts* (for
//! example key data but not DS data) is the registry's policy, not the codec's.
//!
//! # Errors
//!
//! One error type, [`CodecError`]: every refusal of an incoming frame carries an [`ErrorKind`]
//! that fixes the EPP result code the server answers with, so no caller maps errors by hand.
#![forbid(unsafe_code)]

pub mod changepoll;
pub mod contact;
pub mod domain;
pub mod error;
pub mod frame;
pub mod host;
pub mod inline;
pub mod keyrelay;
mod markup;
pub mod message;
pub mod receipt;
pub mod secdns;
pub mod sidn;
pub mod tree;
pub mod types;
pub mod xml;

#[cfg(test)]
mod arb;
#[cfg(any(test, feature = "test-support"))]
pub mod schema;
#[cfg(test)]
mod tests;

pub use error::{CodecError, ErrorKind, ResultCode};
pub use inline::InlineStr;
pub use message::{
    Check, Command, CommandExtension, CommandKind, Create, Delete, EppResult, Frame, Greeting,
    Info, Login, MsgQ, Poll, ResData, Response, ResponseExtension, ResultValue, Transfer,
    TransferOp, Update, parse, parse_with_limits,
};
pub use types::{AuthInfo, Period, PeriodUnit, Status, Text, TrId, TrStatus, XsDuration};

/// EPP namespace URIs, for greetings and logins.
pub mod uri {
    /// RFC 5730.
    pub const EPP: &str = "urn:ietf:params:xml:ns:epp-1.0";
    /// RFC 5731.
    pub const DOMAIN: &str = "urn:ietf:params:xml:ns:domain-1.0";
    /// RFC 5732.
    pub const HOST: &str = "urn:ietf:params:xml:ns:host-1.0";
    /// RFC 5733.
    pub const CONTACT: &str = "urn:ietf:params:xml:ns:contact-1.0";
    /// RFC 5910.
    pub const SECDNS: &str = "urn:ietf:params:xml:ns:secDNS-1.1";
    /// RFC 8063.
    pub const KEYRELAY: &str = "urn:ietf:params:xml:ns:keyrelay-1.0";
    /// Key relay receipts: this project's experimental extension, not IETF-registered (see
    /// [`crate::receipt`]).
    pub const KEYRELAY_RECEIPT: &str = crate::receipt::NAMESPACE;
    /// RFC 8590 change poll: poll messages about changes to a sponsored object that the
    /// sponsor did not make (see [`crate::changepoll`]).
    pub const CHANGE_POLL: &str = crate::changepoll::NAMESPACE;
    /// RFC 9038: the practice of returning data of namespaces a client did not announce at
    /// login in `<extValue>` instead of leaving it out.
    pub const UNHANDLED_NAMESPACES: &str = "urn:ietf:params:xml:ns:epp:unhandled-namespaces-1.0";
    /// SIDN's extension.
    pub const SIDN: &str = "http://rxsd.domain-registry.nl/sidn-ext-epp-1.0";
    /// SIDN's scheduled delete extension.
    pub const SIDN_SCHEDULED_DELETE: &str =
        "http://rxsd.domain-registry.nl/sidn-ext-epp-scheduled-delete-1.0";
}
