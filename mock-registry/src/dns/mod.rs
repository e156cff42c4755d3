//! The DNSSEC engine: keys with roles, an unsigned zone model, a signer on an explicit clock,
//! the immutable signed snapshots, the authoritative server that serves them, and the
//! registry's publication of its signed root and TLD.
//!
//! # Layout
//!
//! - [`keys`]: key pairs (generate, PKCS#8 DER/PEM in and out), key roles (KSK, ZSK, CSK),
//!   foreign public-only keys, key tags, DS, DNSKEY presentation form.
//! - [`keydata`]: validation of EPP `secDNS:keyData` for the registry.
//! - [`zone`]: the unsigned zone (RRsets, SOA, delegations), with change tracking.
//! - [`signer`]: [`ZoneSigner`] and its [`SigningPolicy`] (validity window, jitter, instants to
//!   cover, NSEC/NSEC3, faults), full and incremental signing.
//! - [`signed`]: [`SignedZone`], its nodes and the lookups a server answers from.
//! - [`server`]: [`DnsServer`], the authoritative server (UDP and TCP, several zones, request
//!   history, fault knobs) and its responder.
//! - [`publish`]: [`Publisher`]: the signed TLD from the registry's state after a propagation
//!   delay, the signed root, the trust anchor.
//! - [`query`](mod@query): a one-question client for tests and the harness.
//! - [`test_keys`]: fixed test keys for tests, benchmarks and scenarios.
//!
//! # Use
//!
//! ```
//! use mock_registry::dns::{
//!     Delegation, KeyAlgorithm, Lookup, SigningPolicy, Zone, ZoneKey, ZoneSigner, test_keys,
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
//!     ZoneKey::ksk(test_keys::key(KeyAlgorithm::Ed25519, 0)),
//!     ZoneKey::zsk(test_keys::key(KeyAlgorithm::Ed25519, 1)),
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

pub mod keydata;
pub mod keys;
mod pmap;
pub mod publish;
pub mod query;
pub mod server;
pub mod signed;
pub mod signer;
pub mod test_keys;
#[cfg(test)]
mod testutil;
pub mod zone;

pub use keydata::{KeyDataError, KeyDataField, key_data_for, validate_key_data};
pub use keys::{DsDigest, KeyAlgorithm, KeyError, KeyPair, KeyRole, ZoneKey};
pub use publish::{
    AnchorFiles, Publication, PublishConfig, PublishError, PublishKeys, PublishTtls, Publisher,
    TrustAnchor,
};
pub use query::{QueryError, QueryOptions, query, query_with};
pub use server::{AnswerKind, DnsServer, DnsServerConfig, Faults, QueryRecord, Transport};
pub use signed::{
    Lookup, Node, NodeKind, Nsec3Entry, PresentationOptions, Referral, SignStats, SignedRrset,
    SignedZone,
};
pub use signer::{Denial, Nsec3Config, SignError, SigningFaults, SigningPolicy, ZoneSigner};
pub use zone::{Delegation, RrSet, Zone, ZoneError};
