//! What a run recorded: everything the checks judge, captured while the scenario played.
//!
//! The runner fills a [`Record`] and hands it over; [`evaluate`](crate::evaluate) judges it
//! without touching a server, a registrar or the registry again. So a check can never see a
//! state the run did not record, and every verdict can be recomputed from the record alone.

use std::collections::BTreeMap;
use std::ops::Range;

use epp::secdns::KeyData;
use hickory_proto::dnssec::rdata::DNSKEY;
use jiff::Timestamp;
use mock_registry::registry::{IssuedReceipt, LogEntry, PollMessage};

use crate::fleet::FleetRecord;
use crate::live::LiveRecord;
use crate::observe::Observations;
use crate::registrar::TickReport;

/// Everything one run recorded. See the module documentation.
#[derive(Debug, Clone)]
pub struct Record {
    /// The virtual instant the scenario started.
    pub start: Timestamp,
    /// The virtual instant it ended (caches emptied).
    pub end: Timestamp,
    /// The world's root key, every resolver's only trust anchor.
    pub anchor: DNSKEY,
    /// What every DNS source served, and when.
    pub observations: Observations,
    /// One entry per registrar, by index.
    pub seats: Vec<SeatRecord>,
    /// The transfers the registrant asked for, in order.
    pub transfers: Vec<TransferRecord>,
    /// The registry's transaction log.
    pub registry_log: Vec<LogEntry>,
    /// The key relay receipts the registry queued (when it offered them).
    pub receipts: Vec<IssuedReceipt>,
    /// Positions in [`registry_log`](Self::registry_log) of scripted steps, whose refusals are
    /// the scenario's intent, not a registrar's mistake.
    pub scripted: Vec<Range<usize>>,
    /// Result codes of scripted EPP steps.
    pub expected_codes: Vec<ExpectedCode>,
    /// Registrants' requests a registrar refused or failed, in words.
    pub registrar_errors: Vec<String>,
    /// What the live check found.
    pub live: LiveRecord,
    /// The state at the end of the run.
    pub end_state: EndState,
    /// What the resolver fleet's clients got, when it ran.
    pub fleet: Option<FleetRecord>,
    /// The reference operator's procedures (`ksk-rollover`, `go-secure`, `go-insecure`).
    pub operations: Vec<OperationRecord>,
    /// Every decision of the registry's CDS/CDNSKEY scanner, oldest first.
    pub automation: Vec<mock_registry::registry::AutomationEvent>,
}

/// One procedure of the reference operator, as the run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRecord {
    /// The domain.
    pub domain: String,
    /// The registrar index whose operator carried it out.
    pub operator: usize,
    /// What it changed.
    pub change: crate::operations::Change,
    /// When the step asked for it.
    pub started: Timestamp,
    /// When it finished, if it did.
    pub done_at: Option<Timestamp>,
    /// Why it gave up, if it did.
    pub failure: Option<String>,
}

/// One registrar's part of the record.
#[derive(Debug, Clone, Default)]
pub struct SeatRecord {
    /// Its last report: procedures done, failed, still running.
    pub report: TickReport,
    /// Why a registrar process failed for good, if it did.
    pub failure: Option<String>,
    /// Whether it ran as a separate process.
    pub process: bool,
    /// When each of its procedures (by domain) was first seen done.
    pub done_at: BTreeMap<String, Timestamp>,
}

/// A transfer the registrant asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    /// The domain the registrant moved, as the scenario names it.
    pub domain: String,
    /// The gaining registrar's index.
    pub to: usize,
    /// When the registrant asked.
    pub started: Timestamp,
}

/// A scripted EPP step's result code against the one the scenario expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedCode {
    /// The step, in words.
    pub step: String,
    /// When it ran.
    pub at: Timestamp,
    /// The code the scenario expects.
    pub want: u16,
    /// The code the registry answered.
    pub got: u16,
}

/// The state of the world at the end of the run.
#[derive(Debug, Clone, Default)]
pub struct EndState {
    /// Each scenario domain's sponsor (registrar index), by domain index.
    pub sponsors: Vec<Option<usize>>,
    /// Each registrar's poll queue (clID, messages), in registrar order.
    pub queues: Vec<(String, Vec<PollMessage>)>,
    /// Each registrar's hosted operator, by registrar index.
    pub operators: Vec<OperatorEnd>,
}

/// A hosted operator at the end of the run.
#[derive(Debug, Clone, Default)]
pub struct OperatorEnd {
    /// The zones it still hosts, with their KSK (as EPP key data, when signed) and how many
    /// foreign keys each still publishes.
    pub zones: Vec<HostedZoneEnd>,
}

/// One zone a hosted operator still serves at the end.
#[derive(Debug, Clone)]
pub struct HostedZoneEnd {
    /// The zone's domain name, as the registrar named it when creating it (what
    /// [`OperatorEnd::zone`] looks up).
    pub domain: String,
    /// Its KSK (or CSK), if signed.
    pub ksk: Option<KeyData>,
    /// Foreign keys it still publishes.
    pub foreign_keys: usize,
    /// Those keys.
    pub foreign: Vec<KeyData>,
    /// Its own keys that sign zone data (ZSKs, or the CSK): what a co-signer of a
    /// multi-signer group publishes for it.
    pub zsks: Vec<KeyData>,
}

impl OperatorEnd {
    /// The zone of `domain`, if still hosted.
    pub fn zone(&self, domain: &str) -> Option<&HostedZoneEnd> {
        self.zones.iter().find(|z| z.domain == domain)
    }
}
