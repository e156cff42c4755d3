//! The conformance harness: scenarios, runner, reference registrar, DNS operators,
//! chain-of-trust checker and reports.
#![forbid(unsafe_code)]

pub mod checks;
pub mod scenario;
