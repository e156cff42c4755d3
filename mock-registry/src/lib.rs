//! A strict mock of a SIDN-style (.nl) EPP registry.
//!
//! # Layout
//!
//! - [`clock`]: the injected clock every component reads.
//! - [`epp`]: the EPP wire library: RFC 5734 framing and a typed, strict codec for every frame
//!   of the SIDN profile (RFC 5730–5733, secDNS-1.1, RFC 8063 key relay, the SIDN extension).
//!   It knows nothing of sockets beyond an async frame reader and writer.
//! - [`pki`]: the test PKI (CA, server and registrar certificates, EPP passwords) on disk, and
//!   reading a registrar's clID from its certificate.
//! - [`tls`]: mutual TLS for EPP (RFC 5734 §8–9): rustls configurations for both sides and
//!   an accept helper with a handshake deadline that yields the authenticated clID.
//! - [`testing`]: helpers for the workspace's tests (schema validation with xmllint, ready-made
//!   EPP commands).
//! - [`bench_echo`]: a bare TLS server answering RFC 5734 frames with a fixed frame, the
//!   ceiling for the EPP server's benchmarks.
//! - [`dns`]: the DNSSEC engine: keys with roles, the unsigned zone, the signer (explicit time,
//!   NSEC/NSEC3, incremental re-signing), the signed snapshots, the authoritative server that
//!   serves them, and the registry's publication of its root and TLD.
#![forbid(unsafe_code)]

pub mod bench_echo;
pub mod client;
pub mod clock;
pub mod dns;
pub mod epp;
pub mod pki;
pub mod registry;
pub mod server;
pub mod testing;
pub mod tls;
