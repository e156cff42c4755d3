//! The authoritative DNS server, registry publication and the real validators, over loopback.
//!
//! One test binary for all of it, so the crate and its dependencies are linked once.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic is the failure report"
)]

mod cli;
mod publication;
mod server;
mod signals;
mod support;
mod validators;
