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
//!
//! **Architecture Invariant:** nothing in this module touches the network or reads a clock.

mod denial;
pub mod testbed;
pub mod validate;
pub mod view;

pub use denial::DenialFault;
pub use validate::{
    Anchor, Mode, Reason, ReasonCode, SecureZone, Status, Step, TrustAnchors, Validation,
    Validator, ValidatorStats, Verdict, validate,
};
pub use view::{DenialProof, Fingerprint, Override, Response, Rrset, View, ViewError, ZoneView};
