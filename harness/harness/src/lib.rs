//! The conformance harness: scenarios, runner, reference registrar, DNS operators,
//! chain-of-trust checker and reports.
#![forbid(unsafe_code)]

pub mod certify;
pub mod checks;
pub mod dnsutil;
pub mod error;
pub mod evaluate;
pub mod explore;
pub mod fleet;
pub mod live;
pub mod lookup;
pub mod merge;
pub mod observe;
pub mod operations;
pub mod partition;
pub mod progress;
pub mod record;
pub mod records;
pub mod registrar;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod world;
