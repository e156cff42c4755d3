//! A strict mock of a SIDN-style (.nl) EPP registry.
//!
//! # Layout
//!
//! - [`clock`]: the injected clock every component reads.
//! - [`epp`]: the EPP wire library: RFC 5734 framing and a typed, strict codec for every frame
//!   of the SIDN profile (RFC 5730–5733, secDNS-1.1, RFC 8063 key relay, the SIDN extension).
//!   It knows nothing of sockets beyond an async frame reader and writer.
//! - [`dns`]: the DNSSEC engine: keys with roles, the unsigned zone, the signer (explicit time,
//!   NSEC/NSEC3, incremental re-signing) and the signed snapshots a server answers from.
#![forbid(unsafe_code)]

pub mod clock;
pub mod dns;
pub mod epp;
