//! The DNSSEC engine: keys with roles, an unsigned zone model, a signer on an explicit clock,
//! the immutable signed snapshots, and the authoritative server that serves them.
//!
//! It knows nothing of EPP or of the registry: the registry's publication of its root and TLD
//! sits above both, in the `mock-registry` crate. Without the default feature `net` it is pure
//! (no sockets, no runtime, no clock): keys, zones, the signer and signed snapshots, which is
//! all the chain-of-trust checker needs.
//!
//! # Layout
//!
//! - [`keys`]: key pairs (generate, PKCS#8 DER/PEM in and out), key roles (KSK, ZSK, CSK),
//!   foreign public-only keys, key tags, DS, DNSKEY presentation form.
//! - [`zone`]: the unsigned zone (RRsets, SOA, delegations, wildcards, DNAME), with change
//!   tracking.
//! - [`signer`]: [`ZoneSigner`] and its [`SigningPolicy`] (validity window, jitter, instants to
//!   cover, NSEC/NSEC3, faults), full and incremental signing.
//! - [`signed`]: [`SignedZone`], its nodes and the lookups a server answers from.
//! - [`verify`]: what a served DNSKEY RRset proves about keys wanted in it (present, and
//!   signed by a key of the set at an instant).
//! - [`answer`]: the responder: request bytes in, response bytes out, a pure function of the
//!   zones and faults (what the server answers, without a socket).
//! - `server` (feature `net`): `DnsServer`, the authoritative server (UDP and TCP, several
//!   zones, request history, fault knobs) and its responder.
//! - `query` (feature `net`): a one-question client for tests and the harness.
//! - [`fixture_keys`]: fixed, publicly known keys for tests, benchmarks and scenario worlds.
//!
//! # Errors
//!
//! Each module has its own error enum (thiserror), since their callers handle them apart: a
//! [`KeyError`] is a bad key, a [`ZoneError`] a bad zone edit, a [`SignError`] a policy the keys
//! cannot meet.
//!
//! # Use
//!
//! ```
//! use dnssec::{
//!     Delegation, KeyAlgorithm, Lookup, SigningPolicy, Zone, ZoneKey, ZoneSigner, fixture_keys,
//! };
//! use hickory_proto::rr::{Name, RecordType, rdata::SOA};
//!
//! let origin: Name = "tld.".parse()?;
//! let soa = SOA::new("ns1.tld.".parse()?, "hostmaster.tld.".parse()?, 1, 7200, 3600, 1_209_600, 3600);
//! let mut zone = Zone::new(origin.clone(), soa, 3600)?;
//! zone.add_text("tld. 3600 NS ns1.tld.")?;
//! zone.add_text("ns1.tld. 3600 A 192.0.2.1")?;
//! zone.set_delegation(&Delegation {
//!     name: "example.tld.".parse()?,
//!     ttl: 3600,
//!     ns: vec!["ns.example.tld.".parse()?],
//!     glue: vec![("ns.example.tld.".parse()?, "192.0.2.53".parse()?)],
//!     ds: vec![],
//! })?;
//! let keys = vec![
//!     ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 0)),
//!     ZoneKey::zsk(fixture_keys::key(KeyAlgorithm::Ed25519, 1)),
//! ];
//! let signer = ZoneSigner::new(keys, SigningPolicy::default())?;
//! let now = "2026-01-01T00:00:00Z".parse()?;
//! let signed = signer.sign(&zone, now)?;
//! zone.take_changes();
//! assert!(matches!(
//!     signed.lookup(&"www.example.tld.".parse()?, RecordType::A),
//!     Lookup::Referral(_)
//! ));
//!
//! // A change: re-sign only what it touches.
//! zone.remove_delegation(&"example.tld.".parse()?);
//! let changes = zone.take_changes();
//! let next = signer.update(&signed, &zone, &changes, now)?;
//! assert_eq!(next.serial(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod answer;
pub mod fixture_keys;
pub mod keys;
mod params;
mod pmap;
pub mod presentation;
#[cfg(feature = "net")]
pub mod query;
#[cfg(feature = "net")]
pub mod server;
pub mod signed;
pub mod signer;
#[cfg(any(test, feature = "test-support"))]
pub mod testutil;
pub mod verify;
pub mod zone;

pub use keys::{DsDigest, KeyAlgorithm, KeyError, KeyPair, KeyRole, ZoneKey};
#[cfg(feature = "net")]
pub use query::{QueryError, QueryOptions, query, query_with};
#[cfg(feature = "net")]
pub use server::{
    AnswerKind, DnsServer, DnsServerConfig, Faults, QueryRecord, ServedVersion, Transport,
    served_version,
};
pub use signed::{
    Lookup, Node, NodeKind, Nsec3Entry, PresentationOptions, Referral, SignStats, SignedRrset,
    SignedZone,
};
pub use signer::{Denial, Nsec3Config, SignError, SigningFaults, SigningPolicy, ZoneSigner};
pub use zone::{Delegation, RrSet, Zone, ZoneError};
