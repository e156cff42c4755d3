//! The scenario file format as written (serde, strict): unknown keys, unknown values and bad
//! durations are errors that the TOML reader reports with the line and the expected values.
//! [`super::plan`] turns this into a checked [`super::Scenario`].

use std::collections::BTreeMap;
use std::fmt;

use jiff::SignedDuration;
use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// A duration written as `90s`, `15m`, `2h`, `3d`, or combined (`1h30m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub SignedDuration);

impl Dur {
    /// Parses the compact form: numbers with units from days down to seconds, each unit at
    /// most once and in that order (`1d2h`, not `2h1d` or `1h1h`, which would read as a typo).
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a duration: write e.g. 90s, 15m, 2h, 3d or 1h30m");
        let mut total: i64 = 0;
        let mut num = String::new();
        let mut any = false;
        // The last unit's size: each next one must be smaller.
        let mut last_unit = i64::MAX;
        for c in s.trim().chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => return Err(bad()),
            };
            if unit >= last_unit {
                return Err(format!(
                    "{s:?} is not a duration: each unit once, from days down to seconds \
                     (e.g. 1d2h30m)"
                ));
            }
            last_unit = unit;
            let n: i64 = num.parse().map_err(|_| bad())?;
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(bad)?;
            num.clear();
            any = true;
        }
        if !num.is_empty() || !any {
            return Err(bad());
        }
        Ok(Self(SignedDuration::from_secs(total)))
    }

    /// Seconds, for TTLs.
    pub fn secs(self) -> i64 {
        self.0.as_secs()
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.0.as_secs();
        if s == 0 {
            return f.write_str("0s");
        }
        for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if s >= len {
                write!(f, "{}{unit}", s / len)?;
                s %= len;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    /// Stable id, `[a-z0-9-]+`.
    pub id: Spanned<String>,
    /// One line for people.
    pub title: String,
    /// RFC sections and documents the scenario exercises.
    #[serde(default)]
    pub references: Vec<String>,
    /// A longer explanation for people (free text).
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the scenario belongs to the certification profile, and in which roles.
    #[serde(default)]
    pub certify: bool,
    /// `[world]`: TLD, clock, parent TTLs, delays and chaos, each with a default.
    #[serde(default)]
    pub world: WorldFile,
    /// The registrars, by label (`A`, `B`, …).
    pub registrars: BTreeMap<String, RegistrarFile>,
    /// The domains and their starting state.
    pub domains: Vec<DomainFile>,
    /// What happens, in order.
    #[serde(default)]
    pub steps: Vec<Spanned<StepFile>>,
    /// What must hold.
    #[serde(default)]
    pub expect: ExpectFile,
}

/// `[world]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorldFile {
    /// The TLD (default `nl`).
    pub tld: Option<String>,
    /// Virtual start time (RFC 3339).
    pub start: Option<Spanned<String>>,
    /// Seed for everything random.
    pub seed: Option<u64>,
    /// Registry publication delay: EPP change to TLD zone.
    pub propagation_delay: Option<Dur>,
    /// TTLs the TLD zone uses.
    #[serde(default)]
    pub ttl: ParentTtlFile,
    /// Validity of RRSIGs made by every signer in the world.
    pub signature_validity: Option<Dur>,
    /// Chaos: up to this much more publication delay, drawn per registry change.
    pub propagation_jitter: Option<Dur>,
    /// Chaos: the share of registrars' EPP commands answered 2400 without being executed.
    pub transient_failure_rate: Option<Spanned<f64>>,
    /// Chaos: the share of registrars' EPP commands after whose answer the connection drops.
    pub drop_connection_rate: Option<Spanned<f64>>,
    /// Chaos: the share of registrars' logins refused with 2502 (session limit reached).
    pub session_limit_rate: Option<Spanned<f64>>,
    /// The registry offers key relay receipts (experimental extension; default false, as in
    /// the SIDN profile).
    pub keyrelay_receipts: Option<bool>,
    /// How often the registry probes a watched relay's name servers (default 15m).
    pub receipt_probe_interval: Option<Spanned<Dur>>,
    /// The longest the registry watches a relay (default 7d).
    pub receipt_max_watch: Option<Spanned<Dur>>,
    /// A deliberate registry mistake in its receipts: `first-ns-only`.
    pub receipt_fault: Option<Spanned<String>>,
    /// The registry's CDS/CDNSKEY scanner (`[world.ds_automation]`; off by default, as in
    /// the SIDN profile).
    pub ds_automation: Option<Spanned<DsAutomationFile>>,
}

/// `[world.ds_automation]`: a profile and any of its rules overridden.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DsAutomationFile {
    /// `none`, `se`, `ch`, `fred` or `centralnic`.
    pub profile: String,
    /// How often a secure delegation is scanned.
    pub scan_interval: Option<Dur>,
    /// How often an insecure delegation is scanned.
    pub insecure_scan_interval: Option<Dur>,
    /// How long a changed answer on a secure delegation must stay before the DS follows.
    pub acceptance: Option<Dur>,
    /// Whether insecure delegations are bootstrapped by delay.
    pub bootstrap: Option<bool>,
    /// How long a bootstrap's answers must stay the same.
    pub bootstrap_delay: Option<Dur>,
    /// CentralNic's intensive scans during a bootstrap.
    pub intensive_interval: Option<Dur>,
    /// `cds`, `cdnskey` or `both`.
    pub reads: Option<String>,
    /// CDS and CDNSKEY must name the same keys.
    pub agreement: Option<bool>,
    /// RFC 9615 signals bootstrap at once.
    pub rfc9615: Option<bool>,
    /// The delete records turn DNSSEC off.
    pub delete: Option<bool>,
    /// Times every address is asked per scan.
    pub vantage_points: Option<u8>,
    /// `tcp` or `udp`.
    pub transport: Option<String>,
    /// The child's CSYNC updates the NS set (RFC 7477).
    pub csync: Option<bool>,
}

/// `[world.ttl]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParentTtlFile {
    /// NS (and glue) of delegations.
    pub ns: Option<Dur>,
    /// DS RRsets at the TLD (default 1h).
    pub ds: Option<Dur>,
    /// The TLD's own DNSKEY RRset.
    pub dnskey: Option<Dur>,
    /// SOA and negative answers.
    pub soa: Option<Dur>,
}

/// Who plays a registrar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlayedBy {
    /// The built-in reference registrar.
    Reference,
    /// The registrar under test (`harness run --subject`).
    Subject,
}

/// `[registrars.X]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistrarFile {
    /// Who plays it.
    pub played_by: PlayedBy,
    /// A deliberate mistake of the reference registrar.
    pub fault: Option<Spanned<String>>,
    /// The EPP clID (default `registrar-<label>`).
    pub clid: Option<String>,
    /// How often the reference registrar polls its queue (default 30m); a slow poller is a
    /// counterpart a registrar under test must cope with.
    pub poll_interval: Option<Dur>,
    /// The reference registrar, losing: publishes a relayed key this long after it read it
    /// (default at once); a late publisher is a counterpart a registrar under test must
    /// cope with.
    pub relay_publish_delay: Option<Spanned<Dur>>,
    /// Its DNS operator.
    #[serde(default)]
    pub operator: OperatorFile,
}

/// `[registrars.X.operator]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OperatorFile {
    /// DNSSEC algorithm: 8, 13 or 15.
    pub algorithm: Option<Spanned<u8>>,
    /// `ksk-zsk` or `csk`.
    pub keys: Option<KeyScheme>,
    /// `nsec` or `nsec3`.
    pub denial: Option<DenialKind>,
    /// NSEC3 parameters (RFC 9276 defaults).
    pub nsec3: Option<Nsec3File>,
    /// TTLs of its zones.
    #[serde(default)]
    pub ttl: OperatorTtlFile,
    /// Its name server host names.
    pub ns: Option<Vec<String>>,
    /// `builtin` (default), `powerdns` or `knot`.
    pub software: Option<Spanned<String>>,
    /// Some of its name servers on a second server that serves what the first served `lag`
    /// earlier (a secondary behind on zone transfers).
    pub secondary: Option<Spanned<SecondaryFile>>,
    /// RFC 9615: the reference operator publishes `_dsboot` signals beside its CDS/CDNSKEY
    /// (built-in operator only; default false).
    pub signals: Option<Spanned<bool>>,
}

/// `secondary = { ns = [...], lag = "6h" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecondaryFile {
    /// The name servers it answers for (some of the operator's `ns`, not all).
    pub ns: Vec<String>,
    /// How far behind the primary it is.
    pub lag: Dur,
}

/// Key roles of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyScheme {
    /// A KSK signs the DNSKEY set, a ZSK the rest.
    KskZsk,
    /// One combined key.
    Csk,
}

/// Denial of existence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenialKind {
    /// NSEC records (RFC 4034 §4): the zone's names in the clear.
    Nsec,
    /// NSEC3 records (RFC 5155): hashed names, with the parameters of `nsec3`.
    Nsec3,
}

/// `nsec3 = { … }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Nsec3File {
    /// Extra iterations (RFC 9276: 0).
    pub iterations: Option<u16>,
    /// Salt in hex (RFC 9276: empty).
    pub salt: Option<String>,
    /// Set the NSEC3 opt-out flag (RFC 5155 §6; default false).
    pub opt_out: Option<bool>,
}

/// `[registrars.X.operator.ttl]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OperatorTtlFile {
    /// Its zones' DNSKEY RRset (default 1h).
    pub dnskey: Option<Dur>,
    /// Its zones' apex NS RRset (default 1h).
    pub ns: Option<Dur>,
    /// Every other record of its zones (default 1h).
    pub data: Option<Dur>,
    /// SOA minimum / negative answers.
    pub negative: Option<Dur>,
}

/// `[[domains]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DomainFile {
    /// The name, e.g. `example.nl`.
    pub name: Spanned<String>,
    /// Registrar label of the sponsor.
    pub sponsor: Spanned<String>,
    /// Signed at the start (default true).
    pub signed: Option<bool>,
    /// Zone data below the apex, in presentation format relative to the domain
    /// (`www 3600 A 192.0.2.10`; `@` for the apex).
    pub records: Option<Vec<Spanned<String>>>,
    /// Names to check besides the apex and a nonexistent name: `www A`.
    pub checks: Option<Vec<Spanned<String>>>,
}

/// One `[[steps]]` entry, by its `do`. (Fields are plain: serde buffers internally tagged
/// enums, which loses spans, so errors in a step name the step's line.)
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "do", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum StepFile {
    /// The registrant moves a domain to another registrar: it asks the sponsor for the
    /// token and gives it to the gaining registrar, which carries out the whole procedure.
    Transfer {
        /// The domain's name, one of `[[domains]]`.
        domain: String,
        /// Gaining registrar label.
        to: String,
    },
    /// The registrant asks the sponsor for the token (and keeps it).
    RequestToken {
        /// The domain's name, one of `[[domains]]`.
        domain: String,
    },
    /// Let everyone work until nobody waits for anything, at most this long.
    Run {
        /// Upper bound of virtual time.
        #[serde(rename = "for")]
        limit: Option<Dur>,
    },
    /// Move the clock, letting everyone work on the way.
    Advance {
        /// How much virtual time to move the clock by (`6h`, `2d`, …).
        by: Dur,
    },
    /// Make an operator misbehave (or stop misbehaving).
    OperatorFault {
        /// Registrar label whose operator it is.
        operator: String,
        /// `none`, `stale`, `strip-rrsigs`, `expired-signatures`, `stop`.
        fault: String,
    },
    /// Send a raw EPP frame as a registrar and check the result code.
    Epp {
        /// The label of the registrar whose session sends it.
        registrar: String,
        /// The XML; `{token:DOMAIN}` is replaced by the domain's current token.
        xml: String,
        /// The result code that must come back.
        expect_code: u16,
    },
    /// The domain's DNS operator rolls its KSK through the registry's CDS/CDNSKEY scanner.
    KskRollover {
        /// The domain's name, one of `[[domains]]`.
        domain: String,
        /// A deliberate mistake of the reference operator.
        fault: Option<String>,
        /// The registrar whose process plays the controller (the operator role of the adapter
        /// protocol); default: the harness's reference controller.
        controller: Option<String>,
    },
    /// The domain's DNS operator signs the unsigned zone and asks for its first DS by
    /// CDS/CDNSKEY.
    GoSecure {
        /// The domain's name, one of `[[domains]]`.
        domain: String,
        /// The registrar whose process plays the controller (the operator role of the adapter
        /// protocol); default: the harness's reference controller.
        controller: Option<String>,
        /// A deliberate mistake of the reference operator.
        fault: Option<String>,
    },
    /// The domain's DNS operator asks for its DS to go with the delete CDS/CDNSKEY, then
    /// unsigns.
    GoInsecure {
        /// The domain's name, one of `[[domains]]`.
        domain: String,
        /// The registrar whose process plays the controller (the operator role of the adapter
        /// protocol); default: the harness's reference controller.
        controller: Option<String>,
    },
    /// A registrar's operator joins the domain's operator as a second signer (RFC 8901 model
    /// 2), through the registry's CDS and CSYNC scanner.
    MultiSignerJoin {
        /// The domain's name, one of `[[domains]]`.
        domain: String,
        /// The registrar label whose operator joins.
        operator: String,
        /// A deliberate mistake of the reference controller.
        fault: Option<String>,
        /// The registrar whose process plays the controller (the operator role of the adapter
        /// protocol); default: the harness's reference controller.
        controller: Option<String>,
    },
    /// A signer of a multi-signer group leaves.
    MultiSignerLeave {
        /// The domain's name, one of `[[domains]]`.
        domain: String,
        /// The registrar label whose operator leaves.
        operator: String,
        /// The registrar whose process plays the controller (the operator role of the adapter
        /// protocol); default: the harness's reference controller.
        controller: Option<String>,
    },
    /// Relay a key for a domain as a registrar (RFC 8063) and check the result code.
    KeyRelay {
        /// The label of the relaying registrar.
        registrar: String,
        /// The domain (need not exist).
        domain: String,
        /// Use the domain's real token (default) or a wrong one.
        wrong_token: Option<bool>,
        /// Expiry: an xs:duration (`P0D` revokes) or an RFC 3339 time.
        expiry: Option<String>,
        /// The result code that must come back.
        expect_code: u16,
    },
}

/// `[expect]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectFile {
    /// `secure` (default), `no-bogus` (an insecure window is acceptable) or `any`.
    pub chain: Option<Spanned<String>>,
    /// Check ids that must fail (a faulty variant must be caught by exactly these).
    #[serde(default)]
    pub failures: Vec<Spanned<String>>,
    /// Sponsor at the end, per domain.
    #[serde(default)]
    pub sponsor: BTreeMap<String, Spanned<String>>,
    /// Registrar labels whose operator's KSK has a DS at the parent at the end, per domain.
    #[serde(default)]
    pub ds: BTreeMap<String, Vec<Spanned<String>>>,
    /// Every poll queue is empty at the end (default true).
    pub queues_empty: Option<bool>,
    /// The procedure is done within this much virtual time.
    pub done_within: Option<Dur>,
    /// The key relay receipts the registry sends, in order, per domain (`delivered`,
    /// `published`, `notPublished`, `withdrawn`).
    #[serde(default)]
    pub receipts: BTreeMap<String, Vec<Spanned<String>>>,
    /// The DS changes the registry's scanner makes, per domain: how many, and when the first
    /// comes after the operator's step began.
    #[serde(default)]
    pub ds_updates: BTreeMap<String, Spanned<DsUpdatesFile>>,
}

/// `ds_updates = { "example.nl" = { count = 1, after = "3d", within = "4d" } }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DsUpdatesFile {
    /// How many DS changes the scanner makes for the domain (default 1).
    pub count: Option<usize>,
    /// The first change after the domain's last operator step began comes no earlier than
    /// this after it (default 0s).
    pub after: Option<Dur>,
    /// …and no later than this.
    pub within: Option<Dur>,
}
