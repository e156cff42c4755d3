//! The checked scenario: every reference resolved, every default filled in, every value in
//! range. Errors name the file, the line and what was expected.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::file::{self, StepFile};
pub use super::file::{DenialKind, Dur, KeyScheme, PlayedBy};
use crate::checks::CheckId;
use crate::operations::{Change, OperationFault};
use mock_registry::registry::names;
use mock_registry::registry::refusal::Area;

/// A scenario error: where and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ScenarioError {
    /// The scenario file the error is in, as the path it was read from.
    pub path: String,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong and what was expected.
    pub message: String,
}

/// A deliberate mistake of a reference registrar, to prove the harness catches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Gaining: switches NS before caches can hold its ZSK in the losing DNSKEY set and its
    /// DS at the parent.
    NsSwitchedTooEarly,
    /// Gaining: removes the losing DS right after the NS switch, while caches still hold the
    /// losing NS, DNSKEY set and signatures.
    OldDsRemovedTooEarly,
    /// Gaining: does not put the losing ZSK in its DNSKEY set.
    LosingZskNotImported,
    /// Losing: acknowledges the relayed key but never publishes it.
    RelayedKeyIgnored,
    /// Losing: drops the relayed key as soon as the domain has left, ignoring its expiry.
    RelayedKeyRemovedTooEarly,
    /// Gaining: signs with its own algorithm even when the losing side uses another one.
    OtherAlgorithm,
    /// Gaining: removes every DS before the move and adds its own after it.
    GoingInsecure,
    /// Losing: reads its poll messages but never acknowledges them.
    PollNeverAcked,
    /// Gaining: relays its key with a wrong token.
    KeyRelayWrongToken,
    /// Gaining: sends its DS as secDNS dsData to a key data registry.
    DsAsDsData,
    /// Gaining: switches NS to misspelt host names nobody answers at, and corrects them a
    /// day later.
    NsHostMisspelt,
    /// Gaining: delegates to its name servers and one misspelt host nobody answers at.
    NsHostPartlyMisspelt,
    /// Gaining: leaves the registrant's MX records out of its zone.
    RecordsDropped,
    /// Losing: removes its zone as soon as the domain has left, while resolvers can still be
    /// delegated to it.
    ZoneRemovedWhileDelegated,
    /// Both sides: every wait is one hour, hard-coded, instead of sized from the TTLs (the
    /// naive registrar a search over worlds finds: right while every TTL adds up to less).
    FixedOneHourWaits,
}

impl Fault {
    /// Every fault, for the mutation score.
    pub const ALL: [Self; 15] = [
        Self::NsSwitchedTooEarly,
        Self::OldDsRemovedTooEarly,
        Self::LosingZskNotImported,
        Self::RelayedKeyIgnored,
        Self::RelayedKeyRemovedTooEarly,
        Self::OtherAlgorithm,
        Self::GoingInsecure,
        Self::PollNeverAcked,
        Self::KeyRelayWrongToken,
        Self::DsAsDsData,
        Self::NsHostMisspelt,
        Self::NsHostPartlyMisspelt,
        Self::RecordsDropped,
        Self::ZoneRemovedWhileDelegated,
        Self::FixedOneHourWaits,
    ];

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Self::NsSwitchedTooEarly => "ns-switched-too-early",
            Self::OldDsRemovedTooEarly => "old-ds-removed-too-early",
            Self::LosingZskNotImported => "losing-zsk-not-imported",
            Self::RelayedKeyIgnored => "relayed-key-ignored",
            Self::RelayedKeyRemovedTooEarly => "relayed-key-removed-too-early",
            Self::OtherAlgorithm => "other-algorithm",
            Self::GoingInsecure => "going-insecure",
            Self::PollNeverAcked => "poll-never-acked",
            Self::KeyRelayWrongToken => "keyrelay-wrong-token",
            Self::DsAsDsData => "ds-as-dsdata",
            Self::NsHostMisspelt => "ns-host-misspelt",
            Self::NsHostPartlyMisspelt => "ns-host-partly-misspelt",
            Self::RecordsDropped => "records-dropped",
            Self::ZoneRemovedWhileDelegated => "zone-removed-while-delegated",
            Self::FixedOneHourWaits => "fixed-one-hour-waits",
        }
    }
}

impl FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown fault {s:?}; expected one of: {}",
                    Self::ALL.map(Self::name).join(", ")
                )
            })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The DNS software an operator runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Software {
    /// The harness's own signer and server, on the world's clock (virtual or wall).
    #[default]
    Builtin,
    /// PowerDNS Authoritative (Debian `pdns-server`, `pdns-backend-sqlite3`), driven through
    /// its HTTP API; signs on the system clock, so wall-clock mode only.
    Powerdns,
    /// Knot DNS (Debian `knot`), driven through `knotc`; signs on the system clock, so
    /// wall-clock mode only.
    Knot,
}

impl Software {
    /// The name in a scenario file.
    pub fn name(self) -> &'static str {
        match self {
            Self::Builtin => "builtin",
            Self::Powerdns => "powerdns",
            Self::Knot => "knot",
        }
    }

    /// Whether it is a real server that signs on the system clock.
    pub fn is_real(self) -> bool {
        self != Self::Builtin
    }
}

impl FromStr for Software {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "builtin" => Self::Builtin,
            "powerdns" => Self::Powerdns,
            "knot" => Self::Knot,
            _ => {
                return Err(format!(
                    "unknown software {s:?}; expected builtin, powerdns or knot"
                ));
            }
        })
    }
}

impl fmt::Display for Software {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Ways a DNS operator's servers can misbehave, switched by a scenario step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OperatorFault {
    /// No fault: serve the zones as they are (`none`), ending an earlier fault.
    None,
    /// Keep serving the zone as it is now, ignoring later changes.
    Stale,
    /// Serve without RRSIGs.
    StripRrsigs,
    /// Serve signatures that expired.
    ExpiredSignatures,
    /// Drop every query unanswered, like a server that is down: resolvers time out.
    Stop,
}

impl FromStr for OperatorFault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "none" => Self::None,
            "stale" => Self::Stale,
            "strip-rrsigs" => Self::StripRrsigs,
            "expired-signatures" => Self::ExpiredSignatures,
            "stop" => Self::Stop,
            _ => {
                return Err(format!(
                    "unknown operator fault {s:?}; expected none, stale, strip-rrsigs, expired-signatures or stop"
                ));
            }
        })
    }
}

/// What the chain of trust must do throughout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChainExpectation {
    /// Secure at every instant for every cache state.
    Secure,
    /// Never bogus; an insecure window is acceptable (going insecure on purpose).
    NoBogus,
    /// Not checked (scenarios about EPP only).
    Any,
}

/// The simulated world a scenario asks for: TLD, clock, TTLs at the parent, publication delay,
/// signature validity.
#[derive(Debug, Clone, Serialize)]
pub struct WorldSpec {
    /// The TLD, without dots.
    pub tld: String,
    /// The instant the world's clock starts at (`[world] start`, RFC 3339; default
    /// [`defaults::START`]).
    pub start: Timestamp,
    /// Seed of everything drawn at random (`[world] seed`): the registry's tokens and every chaos
    /// and jitter draw, so the same seed replays the same run.
    pub seed: u64,
    /// Registry publication delay.
    pub propagation_delay: SignedDuration,
    /// TTL of NS and glue at the TLD, seconds.
    pub ttl_ns: u32,
    /// TTL of DS at the TLD.
    pub ttl_ds: u32,
    /// TTL of the TLD's DNSKEY set.
    pub ttl_dnskey: u32,
    /// TTL of the TLD's SOA and negative answers.
    pub ttl_soa: u32,
    /// RRSIG validity for every signer.
    pub signature_validity: SignedDuration,
    /// Registry-side chaos (all off by default).
    pub chaos: WorldChaos,
    /// Whether and how the registry offers key relay receipts (None: not offered, as in the
    /// SIDN profile).
    pub keyrelay_receipts: Option<ReceiptSpec>,
    /// The registry's CDS/CDNSKEY scanner (None: no scanner, as in the SIDN profile).
    pub ds_automation: Option<AutomationSpec>,
}

/// The registry's CDS/CDNSKEY scanner in a scenario (`[world.ds_automation]`): a profile's
/// rules with the file's overrides. The registry's own type is
/// `mock_registry::registry::AutomationPolicy`; this one is what reports show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutomationSpec {
    /// The profile's name.
    pub profile: String,
    /// How often a secure delegation is scanned.
    pub scan_interval: SignedDuration,
    /// How often an insecure delegation is scanned.
    pub insecure_scan_interval: SignedDuration,
    /// How long a changed answer on a secure delegation must stay before the DS follows.
    pub acceptance: SignedDuration,
    /// The bootstrap delay (None: no bootstrap by delay).
    pub bootstrap_delay: Option<SignedDuration>,
    /// Intensive scans during a bootstrap (CentralNic).
    pub intensive_interval: Option<SignedDuration>,
    /// `cds`, `cdnskey` or `both`.
    pub reads: String,
    /// CDS and CDNSKEY must agree.
    pub agreement: bool,
    /// RFC 9615 signals accepted.
    pub rfc9615: bool,
    /// The delete records accepted.
    pub delete: bool,
    /// Times every address is asked per scan.
    pub vantage_points: u8,
    /// `tcp` or `udp`.
    pub transport: String,
    /// The child's CSYNC updates the NS set (RFC 7477).
    pub csync: bool,
}

impl AutomationSpec {
    /// The registry's policy.
    pub fn policy(&self) -> Option<mock_registry::registry::AutomationPolicy> {
        use mock_registry::registry::automation::{Bootstrap, Reads, ScanTransport};
        let profile = mock_registry::registry::Profile::from_name(&self.profile)?;
        let base = mock_registry::registry::AutomationPolicy::profile(profile)?;
        Some(mock_registry::registry::AutomationPolicy {
            scan_interval: self.scan_interval,
            insecure_scan_interval: self.insecure_scan_interval,
            acceptance: self.acceptance,
            bootstrap: self.bootstrap_delay.map(|delay| Bootstrap {
                delay,
                intensive: self.intensive_interval,
            }),
            reads: match self.reads.as_str() {
                "cdnskey" => Reads::Cdnskey,
                "both" => Reads::Both,
                _ => Reads::Cds,
            },
            agreement: self.agreement,
            rfc9615: self.rfc9615,
            delete: self.delete,
            vantage_points: self.vantage_points,
            transport: if self.transport == "udp" {
                ScanTransport::Udp
            } else {
                ScanTransport::Tcp
            },
            csync: self.csync,
            ..base
        })
    }
}

/// The registry's key relay receipt policy in a scenario (`[world] keyrelay_receipts = true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReceiptSpec {
    /// How often a watched relay's name servers are probed.
    pub probe_interval: SignedDuration,
    /// The longest a relay is watched.
    pub max_watch: SignedDuration,
    /// A deliberate mistake of the registry's prober, so a scenario can show that
    /// `KEYRELAY-RECEIPT-TIMING` catches a receipt that is not true.
    pub fault: Option<ReceiptFault>,
}

/// A registry that gets its receipts wrong (`[world] receipt_fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReceiptFault {
    /// It asks only the first name server of the delegation and takes its answer for all: a
    /// lagging secondary makes it say `published` too early.
    FirstNsOnly,
}

impl ReceiptFault {
    /// Parses the scenario token.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "first-ns-only" => Some(Self::FirstNsOnly),
            _ => None,
        }
    }
}

/// An operator's second server: some of its name servers, serving what the first served
/// `lag` earlier (a secondary behind on zone transfers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecondarySpec {
    /// The name server host names it answers for.
    pub ns: Vec<String>,
    /// How far behind it is.
    pub lag: SignedDuration,
}

/// Registry-side chaos a scenario asks for, in the style of Pebble's knobs: what a
/// production registry does now and then, which a correct registrar survives. Each is off
/// by default; the draws follow the world's seed. See `mock_registry::server::Chaos`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct WorldChaos {
    /// The share of registrars' EPP commands answered 2400 without being executed.
    pub transient_failure_rate: f64,
    /// The share of registrars' EPP commands after whose answer the connection is dropped.
    pub drop_connection_rate: f64,
    /// The share of registrars' logins refused with 2502 (the session limit reached).
    pub session_limit_rate: f64,
    /// Up to this much more publication delay, drawn per registry change.
    pub propagation_jitter: SignedDuration,
}

impl WorldChaos {
    /// Whether any knob is on.
    pub fn is_on(&self) -> bool {
        self.transient_failure_rate > 0.0
            || self.drop_connection_rate > 0.0
            || self.session_limit_rate > 0.0
            || self.propagation_jitter.is_positive()
    }
}

/// A DNS operator's setup.
#[derive(Debug, Clone, Serialize)]
pub struct OperatorSpec {
    /// 8, 13 or 15.
    pub algorithm: u8,
    /// A KSK and a ZSK, or one CSK (`keys`).
    pub keys: KeyScheme,
    /// How its zones prove non-existence: NSEC or NSEC3 (`denial`).
    pub denial: DenialKind,
    /// Extra NSEC3 hash iterations (RFC 5155 §3.1.3; default 0, as RFC 9276 advises); unused with
    /// NSEC.
    pub nsec3_iterations: u16,
    /// NSEC3 salt bytes, given in hex in the file (default empty, as RFC 9276 advises); unused with
    /// NSEC.
    pub nsec3_salt: Vec<u8>,
    /// NSEC3 opt-out.
    pub nsec3_opt_out: bool,
    /// TTL of its zones' DNSKEY RRsets, seconds (default [`defaults::OP_TTL`]).
    pub ttl_dnskey: u32,
    /// Apex NS TTL.
    pub ttl_ns: u32,
    /// TTL of every other record of its zones (the registrant's data), seconds.
    pub ttl_data: u32,
    /// Negative TTL (SOA minimum).
    pub ttl_negative: u32,
    /// Name server host names (absolute, without trailing dot).
    pub ns: Vec<String>,
    /// The software it runs.
    pub software: Software,
    /// A second, lagging server for some of its name servers (built-in operator only).
    pub secondary: Option<SecondarySpec>,
    /// RFC 9615: whether the reference operator's procedures publish `_dsboot` signals beside
    /// CDS/CDNSKEY, in its own name servers' zones (built-in operator only).
    pub signals: bool,
}

impl OperatorSpec {
    /// What this operator puts around a registrant's records in the zones it builds.
    pub fn zone_frame(&self) -> crate::records::ZoneFrame<'_> {
        crate::records::ZoneFrame {
            ns: &self.ns,
            ttl_ns: self.ttl_ns,
            ttl_data: self.ttl_data,
            ttl_negative: self.ttl_negative,
        }
    }
}

/// The reference registrars' poll interval where a scenario sets none: 30 minutes.
pub const DEFAULT_POLL_INTERVAL: u64 = 1800;

pub use crate::records::MAX_TTL;

/// The longest TTL a world serves: the signers' refresh period (see
/// [`dnssec::SigningPolicy::refresh`]), the least time a served signature has left.
pub const MAX_WORLD_TTL: u32 = 7 * 86_400;

/// Why a TTL longer than [`MAX_WORLD_TTL`] is refused.
fn ttl_beyond_signatures(what: &str, ttl: &str) -> String {
    format!(
        "{what} {ttl} is longer than 7 days: the world's signers re-sign a signature 7 days \
         before it expires, so a resolver could hold such data after its signature expired \
         (RFC 4035 §5.3.3, RFC 6781 §4.4.2), and the world would break whatever the registrars \
         do"
    )
}

/// One registrar of the scenario (`[registrars.X]`), checked: who plays it, its deliberate mistake
/// and options, and its DNS operator.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrarSpec {
    /// Its label in the file (`A`).
    pub label: String,
    /// Its EPP clID.
    pub clid: String,
    /// Who plays it.
    #[serde(serialize_with = "ser_played_by")]
    pub played_by: PlayedBy,
    /// A deliberate mistake.
    pub fault: Option<Fault>,
    /// The reference registrar's poll interval in seconds (None: its default,
    /// [`DEFAULT_POLL_INTERVAL`]).
    pub poll_interval: Option<SignedDuration>,
    /// The reference registrar, losing: how long after reading a relayed key it publishes
    /// it, in seconds (0: at once).
    pub relay_publish_delay: u64,
    /// The DNS operator serving the zones of the domains it sponsors (`[registrars.X.operator]`).
    pub operator: OperatorSpec,
}

fn ser_played_by<S: serde::Serializer>(p: &PlayedBy, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match p {
        PlayedBy::Reference => "reference",
        PlayedBy::Subject => "subject",
    })
}

/// A domain at the start.
#[derive(Debug, Clone, Serialize)]
pub struct DomainSpec {
    /// The name (folded).
    pub name: String,
    /// Index into [`Scenario::registrars`].
    pub sponsor: usize,
    /// Signed at the start.
    pub signed: bool,
    /// Zone data (relative presentation format).
    pub records: Vec<String>,
    /// Checked names: (absolute name, type).
    pub checks: Vec<(String, String)>,
}

/// One thing that happens in a scenario (`[[steps]]`), labels and names resolved to indexes into
/// [`Scenario::domains`] and [`Scenario::registrars`].
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "do", rename_all = "kebab-case")]
pub enum Step {
    /// The registrant moves `domain` to registrar `to`.
    Transfer {
        /// The domain, as an index into [`Scenario::domains`].
        domain: usize,
        /// The gaining registrar, as an index into [`Scenario::registrars`].
        to: usize,
    },
    /// The registrant asks the sponsor for the token.
    RequestToken {
        /// The domain, as an index into [`Scenario::domains`].
        domain: usize,
    },
    /// Run until idle, at most `limit`.
    Run {
        /// The most virtual time the step may take; it ends earlier once no registrar is busy
        /// (default [`defaults::RUN_LIMIT_DAYS`] days).
        limit: SignedDuration,
    },
    /// Advance the clock.
    Advance {
        /// How much virtual time to move the clock by; registrars still act on their wake-ups on
        /// the way.
        by: SignedDuration,
    },
    /// Set an operator fault.
    OperatorFault {
        /// Registrar index whose operator.
        operator: usize,
        /// The misbehaviour from now on; [`OperatorFault::None`] ends an earlier one.
        fault: OperatorFault,
    },
    /// Send a raw EPP frame in a registrar's session and compare the result code.
    Epp {
        /// The registrar whose session sends it, as an index into [`Scenario::registrars`].
        registrar: usize,
        /// The frame (with `{token:DOMAIN}` placeholders).
        xml: String,
        /// Expected result code.
        expect_code: u16,
    },
    /// The domain's DNS operator changes its DNSSEC through the registry's CDS/CDNSKEY
    /// scanner (`ksk-rollover`, `go-secure`, `go-insecure`), carried out by the reference
    /// operator (`crate::operations`).
    Operator {
        /// The domain, as an index into [`Scenario::domains`].
        domain: usize,
        /// What changes.
        change: crate::operations::Change,
        /// A deliberate mistake of the reference operator.
        fault: Option<crate::operations::OperationFault>,
        /// The signer joining or leaving a multi-signer group, as a registrar index (its
        /// operator); none for the domain's own operator.
        signer: Option<usize>,
        /// The registrar whose process plays the controller (the adapter protocol's operator
        /// role), as an index; none, or a registrar in this process: the reference
        /// controller.
        controller: Option<usize>,
    },
    /// Relay a key for a domain as a registrar (RFC 8063 `keyrelay:create`) and compare the result
    /// code.
    KeyRelay {
        /// The relaying registrar, as an index into [`Scenario::registrars`].
        registrar: usize,
        /// Domain name (may not exist).
        domain: String,
        /// Use a wrong token.
        wrong_token: bool,
        /// The relayed key's `keyrelay:expiry` as written: an xs:duration (`P0D` revokes) or an RFC
        /// 3339 time; none: no expiry.
        expiry: Option<String>,
        /// Expected result code.
        expect_code: u16,
    },
}

/// What must hold.
#[derive(Debug, Clone, Serialize)]
pub struct Expect {
    /// Chain of trust.
    pub chain: ChainExpectation,
    /// Checks that must fail.
    pub failures: BTreeSet<CheckId>,
    /// Sponsor at the end: (domain index, registrar index).
    pub sponsor: Vec<(usize, usize)>,
    /// DS at the end: (domain index, registrar indexes).
    pub ds: Vec<(usize, Vec<usize>)>,
    /// Queues empty at the end.
    pub queues_empty: bool,
    /// The most virtual time each transfer may take, from the registrant's request until the
    /// gaining registrar reports it done (`PROCEDURE-DEADLINE`); none: not checked.
    pub done_within: Option<SignedDuration>,
    /// Key relay receipts the registry must send, in order: (domain index, state tokens).
    pub receipts: Vec<(usize, Vec<String>)>,
    /// The DS changes the registry's scanner must make (`DS-AUTOMATION-TIMING`).
    pub ds_updates: Vec<DsUpdates>,
}

/// What `[expect] ds_updates` asks of one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DsUpdates {
    /// The domain, as an index into [`Scenario::domains`].
    pub domain: usize,
    /// How many DS changes the scanner makes.
    pub count: usize,
    /// The first change after the domain's last operator step began (the scenario's start
    /// without one) comes no earlier than this after it.
    pub after: SignedDuration,
    /// …and no later than this (None: any time).
    pub within: Option<SignedDuration>,
}

/// A checked scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// The file it came from.
    pub path: PathBuf,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// The scenario's id (`[a-z0-9-]+`), which names it in reports.
    pub id: String,
    /// One line for people, shown next to the id.
    pub title: String,
    /// RFC sections and documents the scenario exercises, as written in the file.
    pub references: Vec<String>,
    /// A longer explanation for people, if the file gives one.
    pub description: Option<String>,
    /// Part of the certification profile.
    pub certify: bool,
    /// The simulated world (`[world]`), every default filled in.
    pub world: WorldSpec,
    /// The registrars, ordered by label (`A`, `B`, …); steps and expectations refer to them by
    /// index.
    pub registrars: Vec<RegistrarSpec>,
    /// The domains and their starting state, in file order; steps and expectations refer to them by
    /// index.
    pub domains: Vec<DomainSpec>,
    /// What happens (`[[steps]]`), in file order.
    pub steps: Vec<Step>,
    /// What must hold during and at the end of the run (`[expect]`).
    pub expect: Expect,
    /// The line of the first operator running real DNS software, which signs on the system
    /// clock: such a scenario runs on the wall clock only.
    pub real_software_line: Option<usize>,
}

impl Scenario {
    /// Whether it can run on the virtual clock; if not, the error names the file and the
    /// line that chose real DNS software.
    pub fn check_clock(&self, wall: bool) -> Result<(), ScenarioError> {
        match self.real_software_line {
            Some(line) if !wall => Err(ScenarioError {
                path: self.path.display().to_string(),
                line: Some(line),
                message: "an operator runs real DNS software, which signs on the system clock: \
                          run this scenario with --clock wall"
                    .into(),
            }),
            _ => Ok(()),
        }
    }

    /// The registrar index for a label.
    pub fn registrar(&self, label: &str) -> Option<usize> {
        self.registrars.iter().position(|r| r.label == label)
    }

    /// Whether any registrar is played by the subject.
    pub fn has_subject(&self) -> bool {
        self.registrars
            .iter()
            .any(|r| r.played_by == PlayedBy::Subject)
    }
}

/// Default TTLs and delays, chosen like a real TLD and a careful operator: the TLD's DS TTL
/// is 1 hour, NS 2 hours (SIDN publishes 3600/7200), operators use 1 hour.
/// The values a scenario file gets for what it leaves out (TTLs in seconds).
pub mod defaults {
    /// The TLD where `[world] tld` is absent: SIDN's, without dots.
    pub const TLD: &str = "nl";
    /// The virtual start.
    pub const START: &str = "2026-03-02T09:00:00Z";
    /// The registry's publication delay.
    pub const DELAY_SECS: i64 = 15 * 60;
    /// NS TTL at the TLD.
    pub const TTL_NS: u32 = 7200;
    /// DS TTL at the TLD.
    pub const TTL_DS: u32 = 3600;
    /// The TLD's DNSKEY TTL.
    pub const TTL_DNSKEY: u32 = 3600;
    /// The TLD's SOA and negative TTL.
    pub const TTL_SOA: u32 = 3600;
    /// An operator's DNSKEY, NS and data TTL.
    pub const OP_TTL: u32 = 3600;
    /// An operator's negative TTL (SOA minimum).
    pub const OP_NEGATIVE: u32 = 900;
    /// How long every signer's RRSIGs are valid, in days (`signature_validity`).
    pub const VALIDITY_DAYS: i64 = 21;
    /// A `run` step's limit.
    pub const RUN_LIMIT_DAYS: i64 = 14;
}

/// `signature_validity`, checked against what the world's signers need: more than their
/// refresh period (they re-sign that long before an expiry, so a shorter validity would have
/// them re-sign at once, for ever), and under 2^31 seconds, beyond which RRSIG times compared
/// in serial number arithmetic no longer say which comes first (RFC 4034 §3.1.5).
fn signature_validity(p: &Planner<'_>, d: Option<Dur>) -> Result<SignedDuration, ScenarioError> {
    let Some(d) = d else {
        return Ok(SignedDuration::from_hours(24 * defaults::VALIDITY_DAYS));
    };
    let refresh = dnssec::SigningPolicy::default().refresh;
    if d.0 <= refresh {
        return Err(p.err_at(
            None,
            format!(
                "signature_validity {d} must be longer than the signers' refresh period ({}): \
                 they re-sign that long before signatures expire",
                Dur(refresh)
            ),
        ));
    }
    if d.secs() > i64::from(MAX_TTL) {
        return Err(p.err_at(
            None,
            format!(
                "signature_validity {d} is too long: RRSIG times are compared in serial number \
                 arithmetic, which orders them only within 2^31 seconds (RFC 4034 §3.1.5)"
            ),
        ));
    }
    Ok(d.0)
}

/// A stretch of a run (a step's, a poll interval, a publication delay), at most 2^31 seconds:
/// no signature made at its start could still be placed at its end (RFC 4034 §3.1.5), and much
/// longer ones leave the calendar the clocks can count in (a poll due past it would silently
/// never come). `span` is where the file gives it, when the TOML keeps that.
fn within_signable_time(
    p: &Planner<'_>,
    span: Option<&Range<usize>>,
    what: &str,
    d: Dur,
) -> Result<SignedDuration, ScenarioError> {
    if d.secs() > i64::from(MAX_TTL) {
        return Err(p.err_at(
            span.and_then(|s| p.line(s)),
            format!(
                "{what} {d} is longer than 2^31 seconds (about 68 years), the most RRSIG \
                 times can span (RFC 4034 §3.1.5)"
            ),
        ));
    }
    Ok(d.0)
}

/// Checks a parsed file and builds the scenario.
pub(crate) fn plan(path: &Path, text: &str, f: file::File) -> Result<Scenario, ScenarioError> {
    let p = Planner { path, text };
    let id = f.id.get_ref().clone();
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(p.err(
            &f.id.span(),
            format!("id {id:?} must be lower-case letters, digits and hyphens"),
        ));
    }

    let start = match &f.world.start {
        None => defaults::START
            .parse()
            .expect("invariant: the default start is RFC 3339"),
        Some(s) => {
            let t = s.get_ref().parse::<Timestamp>().map_err(|e| {
                // A well-formed time out of the representable range (years -9999 to 9999, less
                // a day each way for offsets) is not a syntax error: say which it is.
                let well_formed = jiff::fmt::temporal::DateTimeParser::new()
                    .parse_pieces(s.get_ref())
                    .is_ok();
                let why = if well_formed {
                    format!(
                        "start {:?} is outside the times the harness can represent \
                         ({} to {}); a world also needs its start within about 68 years of \
                         today, as RRSIG times order only within 2^31 seconds (RFC 4034 §3.1.5)",
                        s.get_ref(),
                        Timestamp::MIN,
                        Timestamp::MAX
                    )
                } else {
                    format!(
                        "start {:?} is not an RFC 3339 time (e.g. 2026-03-02T09:00:00Z): {e}",
                        s.get_ref()
                    )
                };
                p.err(&s.span(), why)
            })?;
            // RRSIG inception and expiration count seconds from 1970 (RFC 4034 §3.1.5), and
            // signatures start an hour before they are made.
            if t.as_second() < 86_400 {
                return Err(p.err(
                    &s.span(),
                    format!(
                        "start {:?} lies before 1970-01-02: RRSIG times count from 1970 \
                         (RFC 4034 §3.1.5)",
                        s.get_ref()
                    ),
                ));
            }
            t
        }
    };
    // RFC 2181 §8: a TTL is 31 bits, the top bit of its 32 zero. Anything longer is refused,
    // not cut down: it is a world no DNS software could serve, and a run that would simulate
    // decades of cache lifetimes.
    //
    // Within that, a TTL may not outlast the signatures over the data: the world's signers
    // re-sign every signature a refresh period (7 days) before it expires, so data cached for
    // at most that long never outlives its signature (RFC 4035 §5.3.3; keeping it so is the
    // signer's duty, RFC 6781 §4.4.2). A longer TTL makes a world whose own root or operators
    // go bogus, whatever the registrars do.
    let ttl = |d: Option<Dur>, default: u32, what: &str| match d {
        None => Ok(default),
        Some(d) => {
            let secs = u32::try_from(d.secs())
                .ok()
                .filter(|s| *s <= MAX_TTL)
                .ok_or_else(|| {
                    p.err_at(
                        None,
                        format!(
                            "{what} {d} is longer than a DNS TTL can be ({MAX_TTL} seconds, \
                             about 68 years; RFC 2181 §8)"
                        ),
                    )
                })?;
            if secs > MAX_WORLD_TTL {
                return Err(p.err_at(None, ttl_beyond_signatures(what, &d.to_string())));
            }
            Ok(secs)
        }
    };
    let tld = f
        .world
        .tld
        .clone()
        .unwrap_or_else(|| defaults::TLD.into())
        .trim_matches('.')
        .to_ascii_lowercase();
    // The TLD as the registry checks names (LDH labels, RFC 1123 §2.1), and not all digits,
    // which no top-level label may be (RFC 3696 §2).
    names::normalize(&tld, Area::Domain, "tld").map_err(|r| {
        p.err_at(
            None,
            format!("[world] tld {tld:?} is not a DNS name: {}", r.text),
        )
    })?;
    if tld
        .rsplit('.')
        .next()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(p.err_at(
            None,
            format!("[world] tld {tld:?}: a top-level label is never all digits (RFC 3696 §2)"),
        ));
    }
    let world = WorldSpec {
        tld: tld.clone(),
        start,
        seed: f.world.seed.unwrap_or(1),
        propagation_delay: match f.world.propagation_delay {
            None => SignedDuration::from_secs(defaults::DELAY_SECS),
            Some(d) => within_signable_time(&p, None, "propagation_delay", d)?,
        },
        ttl_ns: ttl(f.world.ttl.ns, defaults::TTL_NS, "[world] ttl.ns")?,
        ttl_ds: ttl(f.world.ttl.ds, defaults::TTL_DS, "[world] ttl.ds")?,
        ttl_dnskey: ttl(
            f.world.ttl.dnskey,
            defaults::TTL_DNSKEY,
            "[world] ttl.dnskey",
        )?,
        ttl_soa: ttl(f.world.ttl.soa, defaults::TTL_SOA, "[world] ttl.soa")?,
        signature_validity: signature_validity(&p, f.world.signature_validity)?,
        chaos: WorldChaos {
            transient_failure_rate: chaos_rate(&p, f.world.transient_failure_rate.as_ref())?,
            drop_connection_rate: chaos_rate(&p, f.world.drop_connection_rate.as_ref())?,
            session_limit_rate: chaos_rate(&p, f.world.session_limit_rate.as_ref())?,
            propagation_jitter: match f.world.propagation_jitter {
                None => SignedDuration::ZERO,
                Some(d) if d.0.is_negative() => {
                    return Err(p.err_at(None, "propagation_jitter must not be negative".into()));
                }
                Some(d) => within_signable_time(&p, None, "propagation_jitter", d)?,
            },
        },
        keyrelay_receipts: receipt_spec(&p, &f.world)?,
        ds_automation: automation_spec(&p, &f.world)?,
    };

    if f.registrars.is_empty() {
        return Err(p.err_at(None, "at least one [registrars.X] table is required".into()));
    }
    let labels: Vec<String> = f.registrars.keys().cloned().collect();
    let lookup = |s: &Spanned<String>, what: &str| -> Result<usize, ScenarioError> {
        labels.iter().position(|l| l == s.get_ref()).ok_or_else(|| {
            p.err(
                &s.span(),
                format!(
                    "unknown registrar {:?} in {what}; the file defines: {}",
                    s.get_ref(),
                    labels.join(", ")
                ),
            )
        })
    };

    let mut registrars = Vec::new();
    // Operators running real DNS software, and the line of the first.
    let mut real: Vec<(String, Software)> = Vec::new();
    let mut real_software_line = None;
    for (label, r) in &f.registrars {
        let fault = match &r.fault {
            None => None,
            Some(s) => {
                if r.played_by == PlayedBy::Subject {
                    return Err(p.err(&s.span(), format!("registrar {label} is played by the subject: faults apply only to the reference registrar")));
                }
                Some(
                    s.get_ref()
                        .parse::<Fault>()
                        .map_err(|e| p.err(&s.span(), e))?,
                )
            }
        };
        let o = &r.operator;
        let algorithm = match &o.algorithm {
            None => 13,
            Some(a) if [8, 13, 15].contains(a.get_ref()) => *a.get_ref(),
            Some(a) => return Err(p.err(&a.span(), format!("algorithm {} is not supported: use 8 (RSASHA256), 13 (ECDSAP256SHA256) or 15 (ED25519)", a.get_ref()))),
        };
        let n3 = o.nsec3.as_ref();
        let salt = match n3.and_then(|n| n.salt.as_deref()) {
            None | Some("") | Some("-") => Vec::new(),
            Some(hex) => data_encoding::HEXLOWER_PERMISSIVE
                .decode(hex.as_bytes())
                .map_err(|e| {
                    p.err_at(
                        None,
                        format!("registrar {label}: nsec3 salt {hex:?} is not hex: {e}"),
                    )
                })?,
        };
        // RFC 5155 §3.2: the salt's length is one octet.
        if salt.len() > 255 {
            return Err(p.err_at(
                None,
                format!(
                    "registrar {label}: nsec3 salt has {} octets; at most 255 fit (RFC 5155 §3.2)",
                    salt.len()
                ),
            ));
        }
        let software = match &o.software {
            None => Software::Builtin,
            Some(sw) => {
                let software: Software = sw.get_ref().parse().map_err(|e| p.err(&sw.span(), e))?;
                if software.is_real() {
                    real_software_line = real_software_line.or_else(|| p.line(&sw.span()));
                    let why = real_software_limits(
                        software,
                        algorithm,
                        o.keys.unwrap_or(KeyScheme::KskZsk),
                        n3.and_then(|n| n.iterations).unwrap_or(0),
                        !salt.is_empty(),
                    );
                    if let Some(why) = why {
                        return Err(p.err(&sw.span(), format!("registrar {label}: {why}")));
                    }
                    real.push((label.clone(), software));
                }
                software
            }
        };
        let lower = label.to_ascii_lowercase();
        let ns: Vec<String> =
            o.ns.clone()
                .unwrap_or_else(|| {
                    vec![
                        format!("ns1.operator-{lower}.example"),
                        format!("ns2.operator-{lower}.example"),
                    ]
                })
                .into_iter()
                .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
                .collect();
        check_name_servers(&p, label, &ns, &tld, &registrars, o.ns.is_none())?;
        let secondary = match &o.secondary {
            None => None,
            Some(sec) => {
                let err = |m: String| Err(p.err(&sec.span(), format!("registrar {label}: {m}")));
                let spec = sec.get_ref();
                let hosts: Vec<String> = spec
                    .ns
                    .iter()
                    .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
                    .collect();
                if software.is_real() {
                    return err("a secondary is only for the built-in operator".into());
                }
                if let Some(h) = hosts.iter().find(|h| !ns.contains(h)) {
                    return err(format!(
                        "secondary name server {h} is not one of the operator's ns ({})",
                        ns.join(", ")
                    ));
                }
                if hosts.is_empty() || ns.iter().all(|n| hosts.contains(n)) {
                    return err(
                        "a secondary answers for some of the operator's name servers, not none \
                         and not all"
                            .into(),
                    );
                }
                if spec.lag.0 <= SignedDuration::ZERO {
                    return err("a secondary's lag must be more than zero".into());
                }
                Some(SecondarySpec {
                    ns: hosts,
                    lag: spec.lag.0,
                })
            }
        };
        let signals = match &o.signals {
            Some(on) if *on.get_ref() && software.is_real() => {
                return Err(p.err(
                    &on.span(),
                    format!(
                        "registrar {label}: signals are published by the built-in operator \
                         only (software = \"builtin\")"
                    ),
                ));
            }
            Some(on) => *on.get_ref(),
            None => false,
        };
        let clid = r
            .clid
            .clone()
            .unwrap_or_else(|| format!("registrar-{lower}"));
        // The registry's and the PKI's rules (eppcom:clIDType, a name its files can carry),
        // and one clID per registrar: both sides of a move logging in as one would be one.
        mock_registry::pki::check_registrar_name(&clid).map_err(|e| {
            let whose = if r.clid.is_none() {
                " (the default, made from the label: set clid)"
            } else {
                ""
            };
            p.err_at(
                None,
                format!("registrar {label}: clid {clid:?}{whose} cannot be used: {e}"),
            )
        })?;
        if let Some(other) = registrars
            .iter()
            .find(|o: &&RegistrarSpec| o.clid.eq_ignore_ascii_case(&clid))
        {
            return Err(p.err_at(
                None,
                format!(
                    "registrars {} and {label} have the same clid {clid:?}",
                    other.label
                ),
            ));
        }
        registrars.push(RegistrarSpec {
            label: label.clone(),
            clid,
            played_by: r.played_by,
            fault,
            // A registrar that polls without pause would make every instant a poll: refused
            // by name rather than raised to a second behind the author's back.
            poll_interval: match r.poll_interval {
                Some(d) if d.0 < SignedDuration::from_secs(1) => {
                    return Err(p.err_at(
                        None,
                        format!("registrar {label}: poll_interval {d} is under one second"),
                    ));
                }
                Some(d) => Some(within_signable_time(
                    &p,
                    None,
                    &format!("registrar {label}: poll_interval"),
                    d,
                )?),
                None => None,
            },
            relay_publish_delay: match &r.relay_publish_delay {
                None => 0,
                Some(d) if r.played_by == PlayedBy::Subject => {
                    return Err(p.err(
                        &d.span(),
                        format!(
                            "registrar {label} is played by the subject: relay_publish_delay \
                             applies only to the reference registrar"
                        ),
                    ));
                }
                Some(d) => d.get_ref().0.as_secs().max(0).unsigned_abs(),
            },
            operator: OperatorSpec {
                algorithm,
                keys: o.keys.unwrap_or(KeyScheme::KskZsk),
                denial: o.denial.unwrap_or(if n3.is_some() {
                    DenialKind::Nsec3
                } else {
                    DenialKind::Nsec
                }),
                nsec3_iterations: n3.and_then(|n| n.iterations).unwrap_or(0),
                nsec3_salt: salt,
                nsec3_opt_out: n3.and_then(|n| n.opt_out).unwrap_or(false),
                ttl_dnskey: ttl(
                    o.ttl.dnskey,
                    defaults::OP_TTL,
                    &format!("registrar {label}: operator ttl.dnskey"),
                )?,
                ttl_ns: ttl(
                    o.ttl.ns,
                    defaults::OP_TTL,
                    &format!("registrar {label}: operator ttl.ns"),
                )?,
                ttl_data: ttl(
                    o.ttl.data,
                    defaults::OP_TTL,
                    &format!("registrar {label}: operator ttl.data"),
                )?,
                ttl_negative: ttl(
                    o.ttl.negative,
                    defaults::OP_NEGATIVE,
                    &format!("registrar {label}: operator ttl.negative"),
                )?,
                ns,
                software,
                secondary,
                signals,
            },
        });
    }

    let mut domains: Vec<DomainSpec> = Vec::new();
    for d in &f.domains {
        // The registry's own rules (LDH labels, one label under the TLD, no `--` in the third
        // and fourth place but for A-labels), so a name the registry would refuse at setup is
        // refused here, with its line.
        let raw = d.name.get_ref().trim_end_matches('.');
        let name = names::domain_under(raw, &tld).map_err(|r| {
            p.err(
                &d.name.span(),
                format!("domain {raw:?} cannot be registered: {}", r.text),
            )
        })?;
        if domains.iter().any(|x| x.name == name) {
            return Err(p.err(&d.name.span(), format!("domain {name} is listed twice")));
        }
        let sponsor = lookup(&d.sponsor, "sponsor")?;
        let records: Vec<String> = match &d.records {
            Some(list) => {
                // Read here as the operators read them, so `lint` names a bad record and its
                // line instead of the world stopping at setup.
                for r in list {
                    let rec = crate::records::RegistrantRecord::parse(&name, r.get_ref())
                        .map_err(|e| p.err(&r.span(), format!("domain {name}: {e}")))?;
                    if let Some(t) = rec.ttl.filter(|t| *t > MAX_WORLD_TTL) {
                        return Err(p.err(
                            &r.span(),
                            ttl_beyond_signatures(
                                &format!("domain {name}: record {:?}: TTL", r.get_ref()),
                                &format!("{t}s"),
                            ),
                        ));
                    }
                }
                let lines: Vec<String> = list.iter().map(|r| r.get_ref().clone()).collect();
                // Together, as every operator the domain may live at builds its zone: a CNAME
                // beside other data or TTLs that differ within an RRset are refused here.
                for r in &registrars {
                    match crate::records::build_zone(&name, &lines, r.operator.zone_frame()) {
                        Ok(_) => {}
                        Err(crate::records::ZoneBuildError::Record { index, reason, .. }) => {
                            let span = list.get(index).map_or_else(|| d.name.span(), |r| r.span());
                            return Err(p.err(
                                &span,
                                format!(
                                    "domain {name}: record {:?} cannot be served by registrar \
                                     {}'s operator: {reason}",
                                    lines.get(index).map_or("", String::as_str),
                                    r.label
                                ),
                            ));
                        }
                        Err(e) => {
                            return Err(p.err(
                                &d.name.span(),
                                format!("domain {name}: registrar {}'s operator: {e}", r.label),
                            ));
                        }
                    }
                }
                lines
            }
            None => {
                let defaults: Vec<String> = vec![
                    "@ A 192.0.2.1".into(),
                    "@ MX 10 mail".into(),
                    "www A 192.0.2.10".into(),
                    "mail A 192.0.2.25".into(),
                ];
                // A name near the 253-character limit leaves no room for the default names
                // below it.
                for r in &defaults {
                    crate::records::RegistrantRecord::parse(&name, r).map_err(|e| {
                        p.err(
                            &d.name.span(),
                            format!(
                                "domain {name}: the default records (www and mail below it) \
                                 cannot be made: {e}; give the domain its records"
                            ),
                        )
                    })?;
                }
                defaults
            }
        };
        let mut checks = vec![
            (name.clone(), "SOA".to_string()),
            (format!("www.{name}"), "A".into()),
        ];
        if let Some(list) = &d.checks {
            checks.clear();
            checks.push((name.clone(), "SOA".into()));
            for c in list {
                let parts: Vec<&str> = c.get_ref().split_whitespace().collect();
                let [owner, rtype] = parts.as_slice() else {
                    return Err(p.err(
                        &c.span(),
                        format!(
                            "check {:?} must be \"NAME TYPE\", e.g. \"www A\"",
                            c.get_ref()
                        ),
                    ));
                };
                let owner = if *owner == "@" {
                    name.clone()
                } else if owner.ends_with('.') {
                    owner.trim_end_matches('.').to_string()
                } else {
                    format!("{owner}.{name}")
                };
                // A type the live check and the observer cannot ask would leave the check
                // out silently: refused by name.
                let rtype = rtype.to_ascii_uppercase();
                if rtype.parse::<hickory_proto::rr::RecordType>().is_err() {
                    return Err(p.err(
                        &c.span(),
                        format!(
                            "check {:?}: {rtype} is not a DNS record type (e.g. A, AAAA, MX, \
                             TXT, or TYPE65280)",
                            c.get_ref()
                        ),
                    ));
                }
                checks.push((owner, rtype));
            }
        }
        domains.push(DomainSpec {
            name,
            sponsor,
            signed: d.signed.unwrap_or(true),
            records,
            checks,
        });
    }
    if domains.is_empty() {
        return Err(p.err_at(None, "at least one [[domains]] entry is required".into()));
    }
    // A domain named anywhere in the file (steps, expectations) is a DNS name: neither case
    // nor a trailing dot matters (RFC 4343 §3). Its index and its name as [[domains]] has it,
    // or why not.
    let find_domain = |raw: &str| -> Result<(usize, String), String> {
        let n = raw.trim_end_matches('.').to_ascii_lowercase();
        match domains.iter().position(|d| d.name == n) {
            Some(i) => Ok((i, n)),
            None => Err(format!(
                "unknown domain {n:?}; the file defines: {}",
                domains
                    .iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    };
    let domain = |s: &Spanned<String>| -> Result<usize, ScenarioError> {
        find_domain(s.get_ref())
            .map(|(i, _)| i)
            .map_err(|why| p.err(&s.span(), why))
    };

    // Who sponsors each domain as the steps go, to refuse a transfer to its own sponsor (the
    // gaining registrar would find the domain already its own and give up). A raw EPP step may
    // move a domain the loader cannot follow; after one, the check is off.
    let mut sponsors: Vec<Option<usize>> = domains.iter().map(|d| Some(d.sponsor)).collect();
    let mut steps = Vec::new();
    for s in &f.steps {
        let span = s.span();
        // Step fields carry the step's span (see `file::StepFile`).
        let at = |v: &String| Spanned::new(span.clone(), v.clone());
        if matches!(s.get_ref(), StepFile::Epp { .. }) {
            sponsors.fill(None);
        }
        steps.push(match s.get_ref().clone() {
            StepFile::Transfer { domain: d, to } => {
                let domain = domain(&at(&d))?;
                let to = lookup(&at(&to), "transfer")?;
                if let Some(Some(sponsor)) = sponsors.get_mut(domain) {
                    if *sponsor == to {
                        return Err(p.err(
                            &span,
                            format!(
                                "transfer of {} to {}: registrar {} already sponsors it at this \
                                 step; a transfer moves a domain to another registrar",
                                domains[domain].name, registrars[to].label, registrars[to].label
                            ),
                        ));
                    }
                    *sponsor = to;
                }
                Step::Transfer { domain, to }
            }
            StepFile::RequestToken { domain: d } => Step::RequestToken {
                domain: domain(&at(&d))?,
            },
            StepFile::Run { limit } => Step::Run {
                limit: match limit {
                    None => SignedDuration::from_hours(24 * defaults::RUN_LIMIT_DAYS),
                    Some(d) => within_signable_time(&p, Some(&span), "run for", d)?,
                },
            },
            StepFile::Advance { by } => {
                if by.0.is_negative() {
                    return Err(p.err(&span, "advance must move the clock forward".into()));
                }
                Step::Advance {
                    by: within_signable_time(&p, Some(&span), "advance", by)?,
                }
            }
            StepFile::OperatorFault { operator, fault } => {
                if let Some((_, software)) = real.iter().find(|(l, _)| *l == operator) {
                    return Err(p.err(
                        &span,
                        format!(
                            "operator-fault: registrar {operator}'s operator runs {software}, \
                             whose servers the harness does not control; operator faults need \
                             software = \"builtin\""
                        ),
                    ));
                }
                Step::OperatorFault {
                    operator: lookup(&at(&operator), "operator-fault")?,
                    fault: fault.parse().map_err(|e| p.err(&span, e))?,
                }
            }
            StepFile::Epp {
                registrar,
                xml,
                expect_code,
            } => {
                // The world's registry reads frames up to this size (RFC 5734 §4 leaves the
                // limit to the server) and closes the connection on a longer one, so no
                // result code could ever come back.
                // (less the 4-octet length header).
                let limit = epp::frame::DEFAULT_MAX_FRAME - 4;
                if xml.len() > limit {
                    return Err(p.err(
                        &span,
                        format!(
                            "epp: the xml has {} bytes, more than the {limit} the registry \
                             reads in one frame; it would close the connection without an \
                             answer",
                            xml.len()
                        ),
                    ));
                }
                Step::Epp {
                    registrar: lookup(&at(&registrar), "epp")?,
                    xml,
                    expect_code: check_code(&p, &span, expect_code)?,
                }
            }
            StepFile::KskRollover {
                domain: d,
                fault,
                controller,
            } => {
                let di = domain(&at(&d))?;
                let fault = operation_fault(&p, &span, fault.as_deref(), Change::KskRollover)?;
                operator_step(&p, &span, &world, &registrars, &domains, di, "ksk-rollover")?;
                if registrars[domains[di].sponsor].operator.keys == KeyScheme::Csk {
                    return Err(p.err(
                        &span,
                        "ksk-rollover: the domain's operator has a CSK; a KSK rollover needs \
                         keys = \"ksk-zsk\""
                            .into(),
                    ));
                }
                Step::Operator {
                    domain: di,
                    change: crate::operations::Change::KskRollover,
                    fault,
                    signer: None,
                    controller: controller
                        .map(|c| lookup(&at(&c), "controller"))
                        .transpose()?,
                }
            }
            StepFile::GoSecure {
                domain: d,
                controller,
                fault,
            } => {
                let di = domain(&at(&d))?;
                let fault = operation_fault(&p, &span, fault.as_deref(), Change::GoSecure)?;
                operator_step(&p, &span, &world, &registrars, &domains, di, "go-secure")?;
                let sponsor = &registrars[domains[di].sponsor];
                if let Some(f) = fault
                    && !sponsor.operator.signals
                {
                    return Err(p.err(
                        &span,
                        format!(
                            "go-secure fault {}: registrar {}'s operator publishes no signals \
                             (set signals = true in its operator)",
                            f.name(),
                            sponsor.label
                        ),
                    ));
                }
                Step::Operator {
                    domain: di,
                    change: crate::operations::Change::GoSecure,
                    fault,
                    signer: None,
                    controller: controller
                        .map(|c| lookup(&at(&c), "controller"))
                        .transpose()?,
                }
            }
            StepFile::GoInsecure {
                domain: d,
                controller,
            } => {
                let di = domain(&at(&d))?;
                operator_step(&p, &span, &world, &registrars, &domains, di, "go-insecure")?;
                Step::Operator {
                    domain: di,
                    change: crate::operations::Change::GoInsecure,
                    fault: None,
                    signer: None,
                    controller: controller
                        .map(|c| lookup(&at(&c), "controller"))
                        .transpose()?,
                }
            }
            StepFile::MultiSignerJoin {
                domain: d,
                operator,
                fault,
                controller,
            } => {
                let di = domain(&at(&d))?;
                operator_step(
                    &p,
                    &span,
                    &world,
                    &registrars,
                    &domains,
                    di,
                    "multi-signer-join",
                )?;
                let fault = operation_fault(&p, &span, fault.as_deref(), Change::MultiSignerJoin)?;
                let signer = lookup(&at(&operator), "multi-signer-join")?;
                multi_signer_step(&p, &span, &world, &registrars, signer, "multi-signer-join")?;
                Step::Operator {
                    domain: di,
                    change: Change::MultiSignerJoin,
                    fault,
                    signer: Some(signer),
                    controller: controller
                        .map(|c| lookup(&at(&c), "controller"))
                        .transpose()?,
                }
            }
            StepFile::MultiSignerLeave {
                domain: d,
                operator,
                controller,
            } => {
                let di = domain(&at(&d))?;
                operator_step(
                    &p,
                    &span,
                    &world,
                    &registrars,
                    &domains,
                    di,
                    "multi-signer-leave",
                )?;
                let signer = lookup(&at(&operator), "multi-signer-leave")?;
                multi_signer_step(&p, &span, &world, &registrars, signer, "multi-signer-leave")?;
                Step::Operator {
                    domain: di,
                    change: Change::MultiSignerLeave,
                    fault: None,
                    signer: Some(signer),
                    controller: controller
                        .map(|c| lookup(&at(&c), "controller"))
                        .transpose()?,
                }
            }
            StepFile::KeyRelay {
                registrar,
                domain: d,
                wrong_token,
                expiry,
                expect_code,
            } => Step::KeyRelay {
                registrar: lookup(&at(&registrar), "key-relay")?,
                domain: d.trim_end_matches('.').to_ascii_lowercase(),
                wrong_token: wrong_token.unwrap_or(false),
                expiry,
                expect_code: check_code(&p, &span, expect_code)?,
            },
        });
    }

    let e = &f.expect;
    let chain = match e.chain.as_ref().map(|c| c.get_ref().as_str()) {
        None | Some("secure") => ChainExpectation::Secure,
        Some("no-bogus") => ChainExpectation::NoBogus,
        Some("any") => ChainExpectation::Any,
        Some(other) => {
            let span = e.chain.as_ref().map(Spanned::span).unwrap_or_default();
            return Err(p.err(
                &span,
                format!("chain {other:?}: expected secure, no-bogus or any"),
            ));
        }
    };
    let mut failures = BTreeSet::new();
    for c in &e.failures {
        failures.insert(
            c.get_ref()
                .parse::<CheckId>()
                .map_err(|err| p.err(&c.span(), err))?,
        );
    }
    // The tables' keys name domains as the steps do; two keys for one domain are an error
    // rather than one silently winning. `line`: where the entry's value is (the keys carry no
    // position).
    let expect_domain = |table: &str, seen: &mut BTreeSet<usize>, d: &str, line| {
        let (di, n) =
            find_domain(d).map_err(|why| p.err_at(line, format!("[expect.{table}]: {why}")))?;
        if !seen.insert(di) {
            return Err(p.err_at(
                line,
                format!("[expect.{table}]: domain {n} is listed twice"),
            ));
        }
        Ok(di)
    };
    let mut sponsor = Vec::new();
    let mut seen = BTreeSet::new();
    for (d, r) in &e.sponsor {
        let di = expect_domain("sponsor", &mut seen, d, p.line(&r.span()))?;
        sponsor.push((di, lookup(r, "expect.sponsor")?));
    }
    let mut ds = Vec::new();
    let mut seen = BTreeSet::new();
    for (d, list) in &e.ds {
        let line = list.first().and_then(|r| p.line(&r.span()));
        let di = expect_domain("ds", &mut seen, d, line)?;
        let rs = list
            .iter()
            .map(|r| lookup(r, "expect.ds"))
            .collect::<Result<Vec<_>, _>>()?;
        ds.push((di, rs));
    }
    let mut receipts = Vec::new();
    let mut seen = BTreeSet::new();
    for (d, list) in &e.receipts {
        let line = list.first().and_then(|r| p.line(&r.span()));
        let di = expect_domain("receipts", &mut seen, d, line)?;
        let mut states = Vec::new();
        for st in list {
            if epp::receipt::State::from_token(st.get_ref()).is_none() {
                return Err(p.err(
                    &st.span(),
                    format!(
                        "receipt state {:?}: expected delivered, published, notPublished or \
                         withdrawn",
                        st.get_ref()
                    ),
                ));
            }
            if world.keyrelay_receipts.is_none() {
                return Err(p.err(
                    &st.span(),
                    "[expect.receipts] needs [world] keyrelay_receipts = true".into(),
                ));
            }
            states.push(st.get_ref().clone());
        }
        receipts.push((di, states));
    }
    let mut ds_updates = Vec::new();
    let mut seen = BTreeSet::new();
    for (d, u) in &e.ds_updates {
        let di = expect_domain("ds_updates", &mut seen, d, p.line(&u.span()))?;
        if world.ds_automation.is_none() {
            return Err(p.err(
                &u.span(),
                "[expect.ds_updates] needs [world.ds_automation]".into(),
            ));
        }
        let f = u.get_ref();
        ds_updates.push(DsUpdates {
            domain: di,
            count: f.count.unwrap_or(1),
            after: f.after.map_or(SignedDuration::ZERO, |d| d.0),
            within: f.within.map(|d| d.0),
        });
    }
    let expect = Expect {
        chain,
        failures,
        sponsor,
        ds,
        queues_empty: e.queues_empty.unwrap_or(true),
        done_within: e.done_within.map(|d| d.0),
        receipts,
        ds_updates,
    };

    Ok(Scenario {
        path: path.to_path_buf(),
        sha256: sha256_hex(text.as_bytes()),
        id,
        title: f.title,
        references: f.references,
        description: f.description,
        certify: f.certify,
        world,
        registrars,
        domains,
        steps,
        expect,
        real_software_line,
    })
}

/// A reference operator fault for a step doing `change`.
fn operation_fault(
    p: &Planner<'_>,
    span: &Range<usize>,
    fault: Option<&str>,
    change: Change,
) -> Result<Option<OperationFault>, ScenarioError> {
    let Some(f) = fault else {
        return Ok(None);
    };
    let known: Vec<&str> = OperationFault::ALL
        .iter()
        .filter(|x| x.change() == change)
        .map(|x| x.name())
        .collect();
    match OperationFault::parse(f) {
        Some(x) if x.change() == change => Ok(Some(x)),
        _ => Err(p.err(
            span,
            format!(
                "{} fault {f:?}: expected one of {}",
                change.name(),
                known.join(", ")
            ),
        )),
    }
}

/// Checks a multi-signer step: the signer's operator is the built-in one, and the registry
/// reads CSYNC (the NS set changes by it).
fn multi_signer_step(
    p: &Planner<'_>,
    span: &Range<usize>,
    world: &WorldSpec,
    registrars: &[RegistrarSpec],
    signer: usize,
    what: &str,
) -> Result<(), ScenarioError> {
    if !world.ds_automation.as_ref().is_some_and(|a| a.csync) {
        return Err(p.err(
            span,
            format!(
                "{what}: the name servers change by CSYNC (RFC 7477): add csync = true to \
                 [world.ds_automation]"
            ),
        ));
    }
    builtin_operator(p, span, &registrars[signer], what)
}

/// Operator steps drive the built-in operator: the harness rolls no keys and publishes no
/// CDS, CSYNC or signals on real DNS software yet.
fn builtin_operator(
    p: &Planner<'_>,
    span: &Range<usize>,
    r: &RegistrarSpec,
    what: &str,
) -> Result<(), ScenarioError> {
    if r.operator.software.is_real() {
        return Err(p.err(
            span,
            format!(
                "{what}: registrar {}'s operator runs {}; operator steps need software = \
                 \"builtin\"",
                r.label, r.operator.software
            ),
        ));
    }
    Ok(())
}

/// Checks an operator step: the scanner must be on (nothing else acts on CDS/CDNSKEY) and
/// the domain's operator must be the built-in one (the harness drives no KSKs or CDS on real
/// software yet).
fn operator_step(
    p: &Planner<'_>,
    span: &Range<usize>,
    world: &WorldSpec,
    registrars: &[RegistrarSpec],
    domains: &[DomainSpec],
    domain: usize,
    what: &str,
) -> Result<(), ScenarioError> {
    if world.ds_automation.is_none() {
        return Err(p.err(
            span,
            format!(
                "{what}: the registry acts on CDS/CDNSKEY only with [world.ds_automation] \
                 (profile = \"se\", \"ch\", \"fred\" or \"centralnic\")"
            ),
        ));
    }
    builtin_operator(p, span, &registrars[domains[domain].sponsor], what)
}

/// The registry's scanner from `[world.ds_automation]`: a profile, every rule overridable.
fn automation_spec(
    p: &Planner<'_>,
    w: &file::WorldFile,
) -> Result<Option<AutomationSpec>, ScenarioError> {
    use mock_registry::registry::automation::{Reads, ScanTransport};
    use mock_registry::registry::{AutomationPolicy, Profile};
    let Some(f) = &w.ds_automation else {
        return Ok(None);
    };
    let span = f.span();
    let f = f.get_ref();
    let profile = Profile::from_name(&f.profile).ok_or_else(|| {
        p.err(
            &span,
            format!(
                "ds_automation profile {:?}: expected one of {}",
                f.profile,
                Profile::ALL
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let Some(base) = AutomationPolicy::profile(profile) else {
        return Ok(None);
    };
    let positive = |d: Option<Dur>, default: SignedDuration, what: &str| match d {
        None => Ok(default),
        Some(d) if d.0 <= SignedDuration::ZERO => Err(p.err(
            &span,
            format!("ds_automation {what} must be more than zero"),
        )),
        Some(d) => Ok(d.0),
    };
    let bootstrap = f.bootstrap.unwrap_or(base.bootstrap.is_some());
    let delay = match (f.bootstrap_delay, base.bootstrap) {
        (Some(d), _) if d.0.is_negative() => {
            return Err(p.err(
                &span,
                "ds_automation bootstrap_delay must not be negative".into(),
            ));
        }
        (Some(d), _) => d.0,
        (None, Some(b)) => b.delay,
        (None, None) => SignedDuration::from_hours(72),
    };
    let reads = match f.reads.as_deref() {
        None => match base.reads {
            Reads::Cds => "cds",
            Reads::Cdnskey => "cdnskey",
            Reads::Both => "both",
        },
        Some(r @ ("cds" | "cdnskey" | "both")) => r,
        Some(other) => {
            return Err(p.err(
                &span,
                format!("ds_automation reads {other:?}: expected cds, cdnskey or both"),
            ));
        }
    };
    let transport = match f.transport.as_deref() {
        None => match base.transport {
            ScanTransport::Tcp => "tcp",
            ScanTransport::Udp => "udp",
        },
        Some(t @ ("tcp" | "udp")) => t,
        Some(other) => {
            return Err(p.err(
                &span,
                format!("ds_automation transport {other:?}: expected tcp or udp"),
            ));
        }
    };
    let vantage_points = f.vantage_points.unwrap_or(base.vantage_points);
    if vantage_points == 0 {
        return Err(p.err(
            &span,
            "ds_automation vantage_points must be at least 1".into(),
        ));
    }
    Ok(Some(AutomationSpec {
        profile: profile.name().to_string(),
        scan_interval: positive(f.scan_interval, base.scan_interval, "scan_interval")?,
        insecure_scan_interval: positive(
            f.insecure_scan_interval,
            base.insecure_scan_interval,
            "insecure_scan_interval",
        )?,
        acceptance: match f.acceptance {
            Some(d) if d.0.is_negative() => {
                return Err(p.err(
                    &span,
                    "ds_automation acceptance must not be negative".into(),
                ));
            }
            Some(d) => d.0,
            None => base.acceptance,
        },
        bootstrap_delay: bootstrap.then_some(delay),
        intensive_interval: match f.intensive_interval {
            Some(d) => Some(positive(Some(d), d.0, "intensive_interval")?),
            None => base.bootstrap.and_then(|b| b.intensive),
        },
        reads: reads.to_string(),
        agreement: f.agreement.unwrap_or(base.agreement),
        rfc9615: f.rfc9615.unwrap_or(base.rfc9615),
        delete: f.delete.unwrap_or(base.delete),
        vantage_points,
        transport: transport.to_string(),
        csync: f.csync.unwrap_or(base.csync),
    }))
}

/// The registry's receipt policy from `[world]`: on with `keyrelay_receipts = true`; its two
/// durations only with it.
fn receipt_spec(
    p: &Planner<'_>,
    w: &file::WorldFile,
) -> Result<Option<ReceiptSpec>, ScenarioError> {
    let on = w.keyrelay_receipts.unwrap_or(false);
    let positive = |d: &Option<Spanned<Dur>>, default: SignedDuration, what: &str| match d {
        None => Ok(default),
        Some(d) if !on => Err(p.err(&d.span(), format!("{what} needs keyrelay_receipts = true"))),
        Some(d) if d.get_ref().0 <= SignedDuration::ZERO => {
            Err(p.err(&d.span(), format!("{what} must be more than zero")))
        }
        Some(d) => Ok(d.get_ref().0),
    };
    let defaults = mock_registry::registry::ReceiptPolicy::default();
    let probe_interval = positive(
        &w.receipt_probe_interval,
        defaults.probe_interval,
        "receipt_probe_interval",
    )?;
    let max_watch = positive(
        &w.receipt_max_watch,
        defaults.max_watch,
        "receipt_max_watch",
    )?;
    let fault = match &w.receipt_fault {
        None => None,
        Some(f) if !on => {
            return Err(p.err(
                &f.span(),
                "receipt_fault needs keyrelay_receipts = true".into(),
            ));
        }
        Some(f) => Some(ReceiptFault::parse(f.get_ref()).ok_or_else(|| {
            p.err(
                &f.span(),
                format!("receipt_fault {:?}: expected first-ns-only", f.get_ref()),
            )
        })?),
    };
    Ok(on.then_some(ReceiptSpec {
        probe_interval,
        max_watch,
        fault,
    }))
}

/// Why real DNS software cannot run an operator as the scenario asks, if it cannot: an
/// algorithm or key scheme it does not offer, or NSEC3 parameters other than RFC 9276's
/// (both servers are driven with 0 extra iterations and no salt).
fn real_software_limits(
    software: Software,
    algorithm: u8,
    keys: KeyScheme,
    iterations: u16,
    salt: bool,
) -> Option<String> {
    let caps = match software {
        Software::Builtin => return None,
        Software::Powerdns => real_dns::pdns::capabilities(),
        Software::Knot => real_dns::knot::capabilities(),
    };
    let Some(alg) = real_dns::Algorithm::from_number(algorithm) else {
        return Some(format!("{software} cannot sign with algorithm {algorithm}"));
    };
    if !caps.algorithms.contains(&alg) {
        return Some(format!("{software} cannot sign with algorithm {alg}"));
    }
    if keys == KeyScheme::Csk && !caps.csk {
        return Some(format!("{software} cannot sign with a combined key"));
    }
    if iterations != 0 || salt {
        return Some(format!(
            "{software} is driven with RFC 9276's NSEC3 parameters only (0 iterations, no salt)"
        ));
    }
    None
}

/// A chaos rate: from 0 up to, not including, 1 (at 1 nothing would ever get through).
/// An operator's name servers: at least one, each a host name the registry accepts, none twice
/// and none another operator's (each operator answers on its own addresses), and none inside
/// the TLD: such a host needs glue at the registry, which the world does not set up.
fn check_name_servers(
    p: &Planner<'_>,
    label: &str,
    ns: &[String],
    tld: &str,
    others: &[RegistrarSpec],
    defaulted: bool,
) -> Result<(), ScenarioError> {
    let whose = if defaulted {
        " (the default, made from the label: set ns)"
    } else {
        ""
    };
    let err =
        |m: String| Err(p.err_at(None, format!("registrar {label}: operator ns{whose}: {m}")));
    if ns.is_empty() {
        return err("an operator needs at least one name server".into());
    }
    for (i, host) in ns.iter().enumerate() {
        if let Err(r) = names::normalize(host, Area::Host, "ns") {
            return err(format!("{host:?} is not a host name: {}", r.text));
        }
        if ns[..i].contains(host) {
            return err(format!("{host} is listed twice"));
        }
        if names::superordinate(host, tld).is_some() {
            return err(format!(
                "{host} lies inside .{tld}; a name server there needs glue at the registry, \
                 which the world does not set up: use a host outside .{tld}"
            ));
        }
        if let Some(o) = others.iter().find(|o| o.operator.ns.contains(host)) {
            return err(format!(
                "{host} is also registrar {}'s name server; each operator needs its own",
                o.label
            ));
        }
    }
    Ok(())
}

fn chaos_rate(p: &Planner<'_>, rate: Option<&Spanned<f64>>) -> Result<f64, ScenarioError> {
    match rate {
        None => Ok(0.0),
        Some(r) if (0.0..1.0).contains(r.get_ref()) => Ok(*r.get_ref()),
        Some(r) => Err(p.err(
            &r.span(),
            format!(
                "rate {} must be at least 0 and below 1 (e.g. 0.05: one command in twenty)",
                r.get_ref()
            ),
        )),
    }
}

fn check_code(p: &Planner<'_>, span: &Range<usize>, code: u16) -> Result<u16, ScenarioError> {
    if epp::ResultCode::from_code(code).is_none() {
        return Err(p.err(
            span,
            format!("expect_code {code} is not an EPP result code (RFC 5730 §3)"),
        ));
    }
    Ok(code)
}

struct Planner<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Planner<'_> {
    fn line(&self, span: &Range<usize>) -> Option<usize> {
        self.text
            .get(..span.start)
            .map(|before| before.matches('\n').count() + 1)
    }

    fn err(&self, span: &Range<usize>, message: String) -> ScenarioError {
        self.err_at(self.line(span), message)
    }

    fn err_at(&self, line: Option<usize>, message: String) -> ScenarioError {
        ScenarioError {
            path: self.path.display().to_string(),
            line,
            message,
        }
    }
}

/// Hex SHA-256, for certification reports (which scenario file exactly was run).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    data_encoding::HEXLOWER.encode(d.as_ref())
}
