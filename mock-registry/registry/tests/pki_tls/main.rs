//! The test PKI, mutual TLS and the echo server, over real sockets on loopback, checked also
//! against an independent TLS implementation (OpenSSL) where one is installed.
//!
//! One test binary for all of it, so the crate and its dependencies are linked once.
// clippy.toml allows unwrap in `#[test]` functions only; the shared helpers here are test
// code too, where a panic with its location is the failure report.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is the failure report"
)]

mod cli;
mod echo;
mod handshake;
mod load;
mod openssl;
mod support;
