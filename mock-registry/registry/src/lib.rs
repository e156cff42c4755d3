//! A strict mock of a SIDN-style (.nl) EPP registry: the registry's state and rules, its EPP
//! server over mutual TLS, a typed EPP client, the test PKI, and the publication of the signed
//! root and TLD from the registry's state.
//!
//! It sits on three lower crates, each a layer of its own: `clock` (the injected clock),
//! `epp` (framing and the strict codec) and `dnssec` (keys, signer, signed snapshots, the
//! authoritative server). Publication ([`publish`]) is the one place where the registry and the
//! DNSSEC engine meet, so neither of them knows the other.
//!
//! # Layout
//!
//! - [`registry`]: the registry's state and rules, no I/O: `Registry::execute(clid, services,
//!   command) -> Response`, one module per command family.
//! - [`server`]: the EPP server: TLS listener, one task per connection, the session state
//!   machine.
//! - [`client`]: a typed EPP client with transcripts, for registrars and tests.
//! - [`feedback`]: the DNS side of key relay receipts (experimental): asks the name servers of
//!   watched relays' delegations, through an injected [`feedback::HostResolver`].
//! - [`scan`]: the DNS side of DS automation (RFC 7344, RFC 8078): asks a delegation's name
//!   servers for DNSKEY, CDS and CDNSKEY and judges them for `registry::automation`.
//! - [`signals`]: RFC 9615 authenticated bootstrapping: the `_dsboot` signals of a child's
//!   name servers, looked up and validated from the root's trust anchor down, for [`scan`].
//! - [`keydata`]: the checks every `secDNS:keyData` passes before the registry accepts it.
//! - [`publish`]: the signed TLD made from the registry's delegations after a propagation delay,
//!   the signed root, the trust anchor files.
//! - [`pki`]: the test PKI (CA, server and registrar certificates, EPP passwords) on disk, and
//!   reading a registrar's clID from its certificate.
//! - [`tls`]: mutual TLS for EPP (RFC 5734 §8–9): rustls configurations for both sides and
//!   an accept helper with a handshake deadline that yields the authenticated clID.
//! - `testing` (feature `test-support`): helpers for the workspace's tests (a registry with its
//!   EPP server on loopback, ready-made EPP commands, xmllint schema validation).
//! - `bench_echo` (feature `test-support`): a bare TLS server answering RFC 5734 frames with a
//!   fixed frame, the ceiling for the EPP server's benchmarks.
#![forbid(unsafe_code)]

#[cfg(any(test, feature = "test-support"))]
pub mod bench_echo;
pub mod client;
pub mod deadline;
pub mod feedback;
pub mod keydata;
pub mod pki;
pub mod publish;
mod recent;
pub mod registry;
pub mod scan;
pub mod server;
pub mod signals;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod tls;

pub use keydata::{KeyDataError, KeyDataField, key_data_for, validate_key_data};
pub use publish::{
    AnchorFiles, Publication, PublishConfig, PublishError, PublishKeys, PublishTtls, Publisher,
    TrustAnchor,
};
