//! The chain-of-trust checker (design.md §3): a library that judges DNSSEC observations over
//! time. A pure validator with reasons, the observation timeline, and a TTL-aware model of
//! what resolver caches could hold at every instant, with witnesses for every failure.
//!
//! It is reusable on its own: feed a [`Timeline`] with what each source served and when (from
//! any DNS software), and [`check`] tells, per question and instant, whether some resolver
//! could find the domain bogus or insecure, and why.
//!
//! # Layout
//!
//! - [`view`]: RRsets with their RRSIGs, denial proofs, responses and the [`View`] of one
//!   question; in-memory resolution through signed zones.
//! - [`validate`](mod@validate): [`validate`](fn@validate::validate) and the [`Validator`]
//!   behind it, verdicts in RFC 4035 §4.3 vocabulary with [`ReasonCode`]s, strict and lenient
//!   modes.
//! - `denial` (private): what NSEC and NSEC3 records prove.
//! - [`timeline`]: the observations: every version of every relevant RRset per source, with
//!   the virtual times it was served.
//! - [`cache`]: the TTL-aware cache model: [`check`] enumerates what resolvers could hold at
//!   every instant and reports Secure / Insecure / Bogus bands with witnesses.
//! - `corpus` (feature `test-support`): generated chains with the verdict each must get, for the differential
//!   test against real validators.
//! - `testbed` (feature `test-support`): signed root → TLD → child chains and scripted operator changes for tests,
//!   the corpus and benchmarks.
//!
//! **Architecture Invariant:** nothing in this crate touches the network or reads a clock: it
//! depends on the DNSSEC engine without its `net` feature (no sockets, no runtime) and judges
//! the items and instants it is given.
//!
//! # Errors
//!
//! Each stage has its own error type ([`TimelineError`], [`ViewError`]); the validator and the
//! cache model never fail, they give verdicts (a broken input is a verdict with a reason).
#![forbid(unsafe_code)]

pub mod cache;
#[cfg(any(test, feature = "test-support"))]
pub mod corpus;
mod denial;
mod holding;
pub mod reach;
#[cfg(any(test, feature = "test-support"))]
pub mod testbed;
pub mod timeline;
pub mod validate;
pub mod view;

pub use cache::{
    Band, Breakage, CacheOptions, CacheStats, ContentBand, Expected, Finding, Provenance,
    QuestionReport, Report, Role, Witness, WitnessItem, check,
};
pub use denial::{DenialFault, NSEC3_ITERATION_LIMIT};
pub use reach::{HostState, ReachBand, ReachFinding, ReachWitness, Reachability};
pub use timeline::{
    Question, Questions, Reach, Served, Source, SourceId, Timeline, TimelineError, VersionId,
};
pub use validate::{
    Anchor, Mode, Reason, ReasonCode, SecureZone, SignatureMemo, Status, Step, TrustAnchors,
    Validation, Validator, ValidatorStats, Verdict, validate, validate_chain,
};
pub use view::{DenialProof, Fingerprint, Override, Response, Rrset, View, ViewError, ZoneView};
