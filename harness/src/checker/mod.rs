//! The chain-of-trust checker (design.md §3): a pure validator with reasons, and the items it
//! judges.
//!
//! # Layout
//!
//! - [`view`]: RRsets with their RRSIGs, denial proofs, responses and the [`View`] of one
//!   question; in-memory resolution through signed zones.
//! - [`validate`]: [`validate`](validate::validate) and the [`Validator`] behind it, verdicts
//!   in RFC 4035 §4.3 vocabulary with [`ReasonCode`]s, strict and lenient modes.
//! - `denial` (private): what NSEC and NSEC3 records prove.
//! - [`timeline`]: the observations: every version of every relevant RRset per source, with
//!   the virtual times it was served.
//! - [`cache`]: the TTL-aware cache model: [`check`] enumerates what resolvers could hold at
//!   every instant and reports Secure / Insecure / Bogus bands with witnesses.
//! - [`corpus`]: ≥200 generated chains with the verdict each must get, for the differential
//!   test against real validators.
//! - [`testbed`]: signed root → TLD → child chains and scripted operator changes for tests,
//!   the corpus and benchmarks.
//!
//! **Architecture Invariant:** nothing in this module touches the network or reads a clock.

pub mod cache;
pub mod corpus;
mod denial;
pub mod testbed;
pub mod timeline;
pub mod validate;
pub mod view;

pub use cache::{
    Band, CacheOptions, CacheStats, Finding, Provenance, QuestionReport, Report, Role, Witness,
    WitnessItem, check,
};
pub use denial::DenialFault;
pub use timeline::{
    Question, Questions, Reach, Served, Source, SourceId, Timeline, TimelineError, VersionId,
};
pub use validate::{
    Anchor, Mode, Reason, ReasonCode, SecureZone, Status, Step, TrustAnchors, Validation,
    Validator, ValidatorStats, Verdict, validate,
};
pub use view::{DenialProof, Fingerprint, Override, Response, Rrset, View, ViewError, ZoneView};
