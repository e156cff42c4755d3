//! The adapter protocol, version 1: how the harness drives a registrar process (the registrar
//! under test, or the reference registrar as `harness reference-registrar`). Specified for
//! registrar developers in `harness/ADAPTER.md`; these are its messages.
//!
//! Newline-delimited JSON on the process's stdin (harness → registrar) and stdout (registrar
//! → harness). Every harness message has an `id`; the registrar answers each with a message of
//! the same `id`, and may before that send `log` lines and, if it uses the hosted operator,
//! `operator` requests, which the harness answers with `operator_result`.

use crate::world::operator::OperatorError;
use std::collections::BTreeMap;

use epp::secdns::KeyData;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The protocol version this harness speaks.
pub const VERSION: u32 = 1;

/// How the registrar reaches the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EppSetup {
    /// Its EPP clID.
    pub clid: String,
    /// Its EPP password.
    pub password: String,
    /// The registry's EPP address (`IP:PORT`); the server certificate is for `localhost`.
    pub address: String,
    /// PEM file of the CA the registry's certificate chains to.
    pub ca_file: String,
    /// PEM file of the registrar's client certificate.
    pub cert_file: String,
    /// PEM file of the registrar's private key (PKCS#8).
    pub key_file: String,
}

/// Where DNS answers in this world.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsSetup {
    /// The server answering for the root and the TLD (`IP:PORT`, UDP and TCP).
    pub parent: String,
    /// Name server host name → `IP:PORT`, for every operator's name servers.
    pub hosts: BTreeMap<String, String>,
    /// The root trust anchor, as a DNSKEY presentation line.
    pub trust_anchor: String,
}

/// The DNS operator the harness hosts for this registrar, if it wants one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostedOperator {
    /// Its name server host names (put these in the registry as host objects).
    pub ns: Vec<String>,
    /// Its preferred DNSSEC algorithm.
    pub algorithm: u8,
}

/// An operator a controller may drive besides its own (a version-1 addition for the
/// operator role: the multi-signer controller of draft-ietf-dnsop-dnssec-automation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlledOperator {
    /// The registrar label it belongs to: the `operator` field of an `operator` request.
    pub label: String,
    /// Its name server host names.
    pub ns: Vec<String>,
    /// Its preferred DNSSEC algorithm.
    pub algorithm: u8,
    /// Whether it publishes RFC 9615 signals (`set_signals`) when a domain goes secure.
    #[serde(default)]
    pub signals: bool,
    /// The TTL of the DNSKEY RRsets it serves, seconds (scaled on the wall clock).
    pub ttl_dnskey: u32,
    /// The TTL of its apex NS RRsets, seconds.
    pub ttl_ns: u32,
}

/// How time passes in the world (a version-1 addition: a registrar that ignores it is on the
/// virtual clock, as before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSetup {
    /// `virtual`: `now` in every message is the time, and nothing happens between messages.
    /// `wall`: the system clock is the time; the registrar acts on its own timers and `tick`
    /// only collects its status.
    pub mode: String,
    /// What every duration of the scenario was divided by (1 on the virtual clock). A
    /// registrar's own fixed durations (a safety margin, how long it waits for the registry)
    /// should be divided by it too; waits read from TTLs need nothing.
    pub time_scale: u32,
    /// The world's TTLs and delays in seconds, already scaled: what the registrar would
    /// read over DNS, given so it can size its own zones and waits before it asks.
    pub ttls: Ttls,
}

impl Default for ClockSetup {
    fn default() -> Self {
        Self {
            mode: "virtual".into(),
            time_scale: 1,
            ttls: Ttls::default(),
        }
    }
}

/// The world's TTLs and delays, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ttls {
    /// DS TTL at the TLD.
    pub tld_ds: u32,
    /// NS (delegation) TTL at the TLD.
    pub tld_ns: u32,
    /// The TLD's DNSKEY TTL.
    pub tld_dnskey: u32,
    /// The registry's publication delay.
    pub propagation_delay: u64,
    /// The hosted operator's DNSKEY TTL.
    pub dnskey: u32,
    /// The hosted operator's NS TTL.
    pub ns: u32,
    /// The hosted operator's TTL for other records.
    pub data: u32,
    /// The hosted operator's negative-answer TTL.
    pub negative: u32,
    /// The reference registrars' poll interval.
    pub poll_interval: u64,
}

/// Key data in JSON: flags, protocol, algorithm, public key in base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonKey {
    /// DNSKEY flags (256 or 257).
    pub flags: u16,
    /// Always 3.
    pub protocol: u8,
    /// DNSSEC algorithm number (IANA; e.g. 13 for ECDSA P-256 with SHA-256).
    pub alg: u8,
    /// Public key, base64.
    pub pub_key: String,
}

impl From<&KeyData> for JsonKey {
    fn from(k: &KeyData) -> Self {
        Self {
            flags: k.flags,
            protocol: k.protocol,
            alg: k.alg,
            pub_key: k.pub_key_base64(),
        }
    }
}

impl TryFrom<&JsonKey> for KeyData {
    type Error = OperatorError;
    fn try_from(k: &JsonKey) -> Result<Self, OperatorError> {
        Ok(Self {
            flags: k.flags,
            protocol: k.protocol,
            alg: k.alg,
            pub_key: epp::secdns::decode_base64(&k.pub_key)
                .map_err(|e| OperatorError::BadKey(e.to_string()))?,
        })
    }
}

/// Harness → registrar.
#[allow(
    clippy::large_enum_variant,
    reason = "one message at a time; boxing `hello` would only complicate the serde shape"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToRegistrar {
    /// The first message: who the registrar is and where everything is.
    Hello {
        /// The id the registrar's answer must carry.
        id: u64,
        /// The adapter protocol version the harness speaks ([`VERSION`]).
        protocol: u32,
        /// The world's time now; on the virtual clock, the only time there is.
        now: Timestamp,
        /// The scenario's label for this registrar (`A`, `B`).
        label: String,
        /// The TLD the registry runs, without dots (`nl`).
        tld: String,
        /// How to reach and log in to the registry.
        epp: EppSetup,
        /// DNS of the world.
        dns: DnsSetup,
        /// The hosted operator offered.
        operator: HostedOperator,
        /// The roles the scenario gives it, in the order they come: `losing` (it lets a domain
        /// go), `gaining` (it takes one in); both when a domain moves there and back.
        #[serde(default)]
        roles: Vec<String>,
        /// Domains this registrar sponsors at the start: their zones are already on the
        /// hosted operator (signed, with a DS at the parent), so it must keep using the hosted
        /// operator for them.
        #[serde(default)]
        domains: Vec<String>,
        /// For the reference registrar only: a deliberate fault (subjects ignore it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fault: Option<String>,
        /// For the reference registrar only: its poll interval in seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        poll_interval: Option<u64>,
        /// For the reference registrar only: how long after reading a relayed key it
        /// publishes it, in seconds (a late publisher; absent: at once).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        relay_publish_delay: Option<u64>,
        /// The clock, the time scale and the scaled TTLs.
        #[serde(default)]
        clock: ClockSetup,
        /// The operators it may drive as a controller (`operator` requests naming one by
        /// label), when a scenario gives it the operator role; empty otherwise.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        controls: Vec<ControlledOperator>,
    },
    /// The registrant asks for the transfer token of a domain this registrar sponsors.
    RequestToken {
        /// The id the registrar's answer must carry.
        id: u64,
        /// The world's time now; on the virtual clock, the only time there is.
        now: Timestamp,
        /// The domain whose token is wanted (`example.nl`, no trailing dot).
        domain: String,
    },
    /// The registrant asks this registrar to move a domain here.
    TransferIn {
        /// The id the registrar's answer must carry.
        id: u64,
        /// The world's time now; on the virtual clock, the only time there is.
        now: Timestamp,
        /// The domain to move here (`example.nl`, no trailing dot).
        domain: String,
        /// The token from the current sponsor.
        token: String,
        /// The zone content the registrant wants served (relative presentation lines).
        records: Vec<String>,
        /// Names the registrant cares about: (absolute name, type).
        checks: Vec<(String, String)>,
    },
    /// Time has come: do what is due.
    Tick {
        /// The id the registrar's answer must carry.
        id: u64,
        /// The world's time now; on the virtual clock, the only time there is.
        now: Timestamp,
    },
    /// The operator role: carry out a DNSSEC or name server change of `domain` with the
    /// controlled operators; answered with `accepted`, then reported in `status` under the
    /// domain like a transfer.
    OperatorChange {
        /// The id the registrar's answer must carry.
        id: u64,
        /// The world's time now.
        now: Timestamp,
        /// The domain.
        domain: String,
        /// `ksk-rollover`, `go-secure`, `go-insecure`, `multi-signer-join` or
        /// `multi-signer-leave`.
        change: String,
        /// The operator that acts (a label of `controls`): the domain's own, or the signer
        /// joining or leaving.
        signer: String,
        /// The other signer of a multi-signer change (the one serving, or the one staying).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        other: Option<String>,
        /// The registrant's records (relative presentation lines), for a joining signer.
        #[serde(default)]
        records: Vec<String>,
        /// A deliberate mistake of the reference controller (its fault names); another
        /// controller ignores it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fault: Option<String>,
    },
    /// The end: answer `bye` and exit.
    Shutdown {
        /// The id the registrar's answer must carry.
        id: u64,
    },
    /// The answer to an `operator` request.
    OperatorResult {
        /// The request's id.
        id: String,
        /// Whether it worked.
        ok: bool,
        /// The error when not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// Keys, for `ksk` (one), `zsks`, `foreign_keys`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        keys: Vec<JsonKey>,
        /// Expiries matching `keys` for `foreign_keys`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        expires: Vec<Option<Timestamp>>,
        /// For `hosts`: whether the operator hosts the zone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hosted: Option<bool>,
        /// For `max_ttl`: seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl: Option<u32>,
    },
}

/// Where the registrar's DNS answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsChoice {
    /// The hosted operator (controlled with `operator` requests).
    Hosted,
    /// Its own authoritative servers: name server host name → `IP:PORT`.
    Own {
        /// Host name → address.
        servers: BTreeMap<String, String>,
    },
}

/// One operation on the hosted operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum OperatorOp {
    /// Host a zone.
    CreateZone {
        /// The zone's apex (`example.nl`, no trailing dot).
        domain: String,
        /// Relative presentation lines.
        records: Vec<String>,
        /// Whether the operator signs the zone.
        signed: bool,
        /// Algorithm (default: the operator's).
        #[serde(default)]
        algorithm: Option<u8>,
    },
    /// Stop hosting a zone.
    RemoveZone {
        /// The zone to stop serving.
        domain: String,
    },
    /// Whether a zone is hosted.
    Hosts {
        /// The zone asked about.
        domain: String,
    },
    /// The key signing the DNSKEY set (KSK or CSK).
    Ksk {
        /// The zone whose KSK (or CSK) is wanted.
        domain: String,
    },
    /// The keys signing zone data.
    Zsks {
        /// The zone whose ZSKs are wanted.
        domain: String,
    },
    /// Publish another operator's key until `expires`.
    AddForeignKey {
        /// The zone to publish the key in.
        domain: String,
        /// The other operator's key to add to the zone's DNSKEY set.
        key: JsonKey,
        /// When to drop it.
        #[serde(default)]
        expires: Option<Timestamp>,
    },
    /// Stop publishing another operator's key.
    RemoveForeignKey {
        /// The zone to drop the key from.
        domain: String,
        /// The foreign key to drop, as it was added.
        key: JsonKey,
    },
    /// The foreign keys published.
    ForeignKeys {
        /// The zone whose foreign keys are wanted.
        domain: String,
    },
    /// Sign or unsign the zone.
    SetSigned {
        /// The zone to sign or unsign.
        domain: String,
        /// Whether the zone is to be signed from now on.
        signed: bool,
    },
    /// The largest TTL the zone serves (every record, DNSKEY, negative answers).
    MaxTtl {
        /// The zone whose largest TTL is wanted.
        domain: String,
    },
    /// A next KSK joins the DNSKEY RRset (a rollover); answered with it in `keys`.
    AddNextKsk {
        /// The zone.
        domain: String,
    },
    /// One of the operator's own keys leaves the DNSKEY RRset.
    RetireKey {
        /// The zone.
        domain: String,
        /// The key.
        key: JsonKey,
    },
    /// The apex CDS and CDNSKEY (RFC 7344): a missing list withdraws the RRset, an empty one
    /// is the delete record (RFC 8078 §4).
    SetCds {
        /// The zone.
        domain: String,
        /// The keys the CDS names (SHA-256 digests).
        #[serde(default)]
        cds: Option<Vec<JsonKey>>,
        /// The keys the CDNSKEY names.
        #[serde(default)]
        cdnskey: Option<Vec<JsonKey>>,
    },
    /// The apex NS RRset.
    SetNs {
        /// The zone.
        domain: String,
        /// Name server host names.
        ns: Vec<String>,
    },
    /// The apex CSYNC (RFC 7477, immediate flag, NS in its bitmap): on or off.
    SetCsync {
        /// The zone.
        domain: String,
        /// Publish (true) or withdraw.
        on: bool,
    },
    /// RFC 9615 signals: `_dsboot.<domain>._signal.<host>` CDS and CDNSKEY in the operator's
    /// own zone, for each of `hosts` (its name servers); lists as in `set_cds`.
    SetSignals {
        /// The child zone.
        domain: String,
        /// The name server host names to signal under.
        hosts: Vec<String>,
        /// The keys the CDS names.
        #[serde(default)]
        cds: Option<Vec<JsonKey>>,
        /// The keys the CDNSKEY names.
        #[serde(default)]
        cdnskey: Option<Vec<JsonKey>>,
    },
}

/// Registrar → harness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromRegistrar {
    /// Answer to `hello`.
    Ready {
        /// The hello's id.
        id: u64,
        /// Where its DNS answers.
        dns: DnsChoice,
        /// When to wake it.
        #[serde(default)]
        next_wake: Option<Timestamp>,
    },
    /// Answer to `request_token`.
    Token {
        /// The request's id.
        id: u64,
        /// The domain's authInfo password, read from the registry.
        token: String,
    },
    /// Answer to `transfer_in`.
    Accepted {
        /// The request's id.
        id: u64,
    },
    /// Answer to `tick` (and possible answer to `transfer_in`).
    Status {
        /// The tick's id.
        id: u64,
        /// When to wake it next.
        #[serde(default)]
        next_wake: Option<Timestamp>,
        /// Domains whose procedure is done.
        #[serde(default)]
        done: Vec<String>,
        /// Domains given up on, with why.
        #[serde(default)]
        failed: Vec<(String, String)>,
        /// Domains still being worked on.
        #[serde(default)]
        busy: Vec<String>,
    },
    /// Answer to `shutdown`.
    Bye {
        /// The shutdown's id.
        id: u64,
    },
    /// Refusal of a harness message.
    Error {
        /// The message's id.
        id: u64,
        /// Why it refuses, for the transcript.
        message: String,
    },
    /// A line for the transcript.
    Log {
        /// `debug`, `info`, `warn` or `error`.
        #[serde(default)]
        level: Option<String>,
        /// The line itself.
        message: String,
    },
    /// A request to the hosted operator.
    Operator {
        /// A request id the registrar chooses; the result carries it.
        id: String,
        /// Which operator: a label from `hello`'s `controls` (the operator role); none for
        /// its own hosted operator.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operator: Option<String>,
        /// What to do, with its arguments (flattened into the message: `op`, `domain`, …).
        #[serde(flatten)]
        op: OperatorOp,
    },
}
