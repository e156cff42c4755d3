//! The EPP server end to end over real mutual TLS on loopback: sessions, every object
//! command of the SIDN profile, transfers, key relay, poll queues, the refusal matrix, and an
//! independent client (instant-epp). Every frame exchanged is validated against the schemas.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod chaos;
mod flows;
mod instant;
mod receipts;
mod refusals;
mod repeats;
mod sessions;
mod strictness;
mod support;
