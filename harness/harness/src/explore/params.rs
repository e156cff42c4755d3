//! One random world: its settings, the strategy they are drawn from, and the world as a
//! scenario file with only the settings that differ from the defaults.

use std::fmt::Write as _;
use std::path::Path;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use super::strategy::OrDefault;
use crate::scenario::plan::defaults;
use crate::scenario::{self, DEFAULT_POLL_INTERVAL, Fault, Scenario, ScenarioError};

const MINUTE: u32 = 60;
const HOUR: u32 = 3600;
const DAY: u32 = 86_400;

/// The reference registrar's default poll interval, in seconds.
const POLL: u32 = DEFAULT_POLL_INTERVAL as u32;

/// How an operator signs, and how its registrar behaves when the reference registrar plays it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OperatorParams {
    /// 8, 13 or 15.
    pub algorithm: u8,
    /// One combined signing key instead of a KSK and a ZSK.
    pub csk: bool,
    /// NSEC3 instead of NSEC.
    pub nsec3: bool,
    /// NSEC3 opt-out (with NSEC3 only).
    pub opt_out: bool,
    /// DNSKEY TTL, seconds.
    pub ttl_dnskey: u32,
    /// The zone's own NS TTL.
    pub ttl_ns: u32,
    /// TTL of the registrant's records.
    pub ttl_data: u32,
    /// Negative TTL (SOA minimum).
    pub ttl_negative: u32,
    /// The reference registrar's poll interval, seconds: a slow poller is a counterpart a
    /// registrar under test must cope with.
    pub poll_interval: u32,
    /// The reference registrar, losing: how long after reading a relayed key it publishes
    /// it, seconds (a late publisher, within what a correct gaining side waits).
    pub relay_publish_delay: u32,
}

/// Registry-side chaos: rates in thousandths (so worlds compare and hash exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ChaosParams {
    /// Thousandths of commands answered 2400.
    pub transient_failure_permille: u16,
    /// Thousandths of commands after whose answer the connection is dropped.
    pub drop_connection_permille: u16,
    /// Thousandths of logins refused with 2502.
    pub session_limit_permille: u16,
    /// Up to this much more publication delay per change, seconds.
    pub propagation_jitter: u32,
}

/// One random world. See the [module documentation](super).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WorldParams {
    /// The world's seed (keys, tokens, chaos draws).
    pub seed: u64,
    /// TTL of NS and glue at the TLD, seconds.
    pub tld_ttl_ns: u32,
    /// TTL of DS at the TLD, seconds.
    pub tld_ttl_ds: u32,
    /// The TLD's DNSKEY TTL.
    pub tld_ttl_dnskey: u32,
    /// The TLD's SOA and negative TTL.
    pub tld_ttl_soa: u32,
    /// The registry's publication delay, seconds.
    pub propagation_delay: u32,
    /// RRSIG validity, seconds.
    pub signature_validity: u32,
    /// The losing side (`A`) and the gaining side (`B`).
    pub operators: [OperatorParams; 2],
    /// How many domains move at once (1 to 3).
    pub domains: u8,
    /// The domains move back to `A` afterwards.
    pub round_trip: bool,
    /// Registry-side chaos: transient failures, dropped connections, refused logins and publication
    /// jitter.
    pub chaos: ChaosParams,
}

/// Which registrars of a world the registrar under test plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// `B`, which takes the domains in (and, in a round trip, lets them go back).
    Gaining,
    /// `A`, which lets the domains go (and, in a round trip, takes them back).
    Losing,
    /// Both registrars, as two instances.
    Both,
}

impl Role {
    /// `gaining`, `losing`, `both`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gaining => "gaining",
            Self::Losing => "losing",
            Self::Both => "both",
        }
    }

    /// Whether the registrar at `index` (0: `A`, 1: `B`) is the one under test.
    pub fn covers(self, index: usize) -> bool {
        match self {
            Self::Gaining => index == 1,
            Self::Losing => index == 0,
            Self::Both => true,
        }
    }
}

/// Who plays the registrars of a world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cast {
    /// Whether the registrar under test is a process (`played_by = "subject"`, run with
    /// `--subject`); otherwise the reference registrar plays it, in-process.
    pub subject: bool,
    /// Which registrars it plays.
    pub role: Role,
    /// A deliberate fault of the reference registrar in the role under test (only without a
    /// subject process).
    pub fault: Option<Fault>,
}

impl Default for Cast {
    /// The reference registrars on both sides, without faults.
    fn default() -> Self {
        Self {
            subject: false,
            role: Role::Both,
            fault: None,
        }
    }
}

/// TTLs from one minute to three days: a third of the draws at round values registries use,
/// the rest anywhere (round values read well; the rest finds the sums that matter).
fn ttl() -> impl Strategy<Value = u32, Tree: Send> {
    prop_oneof![
        1 => prop::sample::select(vec![MINUTE, 5 * MINUTE, HOUR, 2 * HOUR, DAY, 2 * DAY, 3 * DAY]),
        2 => MINUTE..=3 * DAY,
    ]
}

/// A TTL with a default (kept in 30 % of the draws).
fn ttl_or(default: u32) -> OrDefault<impl Strategy<Value = u32, Tree: Send>> {
    OrDefault::new(default, 30, ttl())
}

fn operator() -> impl Strategy<Value = OperatorParams, Tree: Send> {
    (
        prop::sample::select(vec![13u8, 8, 15]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        (
            ttl_or(defaults::OP_TTL),
            ttl_or(defaults::OP_TTL),
            ttl_or(defaults::OP_TTL),
            ttl_or(defaults::OP_NEGATIVE),
        ),
        // A slow poller, up to every 12 hours.
        OrDefault::new(POLL, 40, MINUTE..=12 * HOUR),
        // A late publisher, up to a day after it read the relayed key: with a 12-hour poll,
        // within the 48 hours a correct gaining registrar waits.
        OrDefault::new(0, 60, MINUTE..=DAY),
    )
        .prop_map(
            |(algorithm, csk, nsec3, opt_out, (dnskey, ns, data, negative), poll, late)| {
                OperatorParams {
                    algorithm,
                    csk,
                    nsec3,
                    opt_out: nsec3 && opt_out,
                    ttl_dnskey: dnskey,
                    ttl_ns: ns,
                    ttl_data: data,
                    ttl_negative: negative,
                    poll_interval: poll,
                    relay_publish_delay: late,
                }
            },
        )
}

fn chaos() -> impl Strategy<Value = ChaosParams, Tree: Send> {
    (
        OrDefault::new(0u16, 50, 1u16..=300),
        OrDefault::new(0u16, 60, 1u16..=100),
        OrDefault::new(0u16, 60, 1u16..=300),
        OrDefault::new(0u32, 50, MINUTE..=6 * HOUR),
    )
        .prop_map(|(transient, drop, session, jitter)| ChaosParams {
            transient_failure_permille: transient,
            drop_connection_permille: drop,
            session_limit_permille: session,
            propagation_jitter: jitter,
        })
}

fn seconds(d: jiff::SignedDuration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

impl WorldParams {
    /// The strategy worlds are drawn from. See the [module documentation](super).
    pub fn strategy() -> impl Strategy<Value = Self, Tree: Send> {
        (
            any::<u16>().no_shrink(),
            (
                ttl_or(defaults::TTL_NS),
                ttl_or(defaults::TTL_DS),
                ttl_or(defaults::TTL_DNSKEY),
                ttl_or(defaults::TTL_SOA),
            ),
            OrDefault::new(
                u32::try_from(defaults::DELAY_SECS).unwrap_or(900),
                30,
                0..=12 * HOUR,
            ),
            (operator(), operator()),
            prop_oneof![3 => Just(1u8), 2 => Just(2u8), 1 => Just(3u8)],
            any::<bool>(),
            OrDefault::new(default_validity(), 50, 7 * DAY..=30 * DAY),
            chaos(),
        )
            .prop_map(
                |(
                    seed,
                    (ns, ds, dnskey, soa),
                    delay,
                    (a, b),
                    domains,
                    round_trip,
                    validity,
                    chaos,
                )| {
                    let mut w = Self {
                        seed: u64::from(seed),
                        tld_ttl_ns: ns,
                        tld_ttl_ds: ds,
                        tld_ttl_dnskey: dnskey,
                        tld_ttl_soa: soa,
                        propagation_delay: delay,
                        signature_validity: validity,
                        operators: [a, b],
                        domains,
                        round_trip,
                        chaos,
                    };
                    // Signing outlives caching (RFC 6781 §4.4.2): an operator whose RRSIGs
                    // expire before what they sign can leave caches breaks DNSSEC by itself,
                    // whoever the registrar is.
                    w.normalize();
                    w
                },
            )
    }

    /// The largest TTL anywhere in the world.
    pub fn max_ttl(&self) -> u32 {
        let ops = self
            .operators
            .iter()
            .flat_map(|o| [o.ttl_dnskey, o.ttl_ns, o.ttl_data, o.ttl_negative]);
        [
            self.tld_ttl_ns,
            self.tld_ttl_ds,
            self.tld_ttl_dnskey,
            self.tld_ttl_soa,
        ]
        .into_iter()
        .chain(ops)
        .max()
        .unwrap_or(0)
    }

    /// Every setting as a name and a value for people, with whether it is the default (in the
    /// order scenario files write them): what descriptions and "what was shrunk" are made of.
    pub fn settings(&self) -> Vec<(String, String, bool)> {
        let mut out = Vec::new();
        let mut add = |name: String, value: String, default: bool| {
            out.push((name, value, default));
        };
        let secs = |s: u32| human_secs(s);
        add("seed".into(), self.seed.to_string(), false);
        for (key, v, d) in [
            ("ns", self.tld_ttl_ns, defaults::TTL_NS),
            ("ds", self.tld_ttl_ds, defaults::TTL_DS),
            ("dnskey", self.tld_ttl_dnskey, defaults::TTL_DNSKEY),
            ("soa", self.tld_ttl_soa, defaults::TTL_SOA),
        ] {
            add(format!("TLD {key} TTL"), secs(v), v == d);
        }
        add(
            "publication delay".into(),
            secs(self.propagation_delay),
            i64::from(self.propagation_delay) == defaults::DELAY_SECS,
        );
        add(
            "signature validity".into(),
            secs(self.signature_validity),
            self.signature_validity == default_validity(),
        );
        for (label, o) in ["A", "B"].into_iter().zip(&self.operators) {
            add(
                format!("{label} algorithm"),
                o.algorithm.to_string(),
                o.algorithm == 13,
            );
            add(
                format!("{label} keys"),
                if o.csk { "CSK" } else { "KSK+ZSK" }.into(),
                !o.csk,
            );
            add(
                format!("{label} denial"),
                match (o.nsec3, o.opt_out) {
                    (false, _) => "NSEC",
                    (true, false) => "NSEC3",
                    (true, true) => "NSEC3 opt-out",
                }
                .into(),
                !o.nsec3,
            );
            for (key, v, d) in [
                ("DNSKEY", o.ttl_dnskey, defaults::OP_TTL),
                ("NS", o.ttl_ns, defaults::OP_TTL),
                ("data", o.ttl_data, defaults::OP_TTL),
                ("negative", o.ttl_negative, defaults::OP_NEGATIVE),
            ] {
                add(format!("{label} {key} TTL"), secs(v), v == d);
            }
            add(
                format!("{label} poll interval"),
                secs(o.poll_interval),
                o.poll_interval == POLL,
            );
            add(
                format!("{label} relay publication delay"),
                secs(o.relay_publish_delay),
                o.relay_publish_delay == 0,
            );
        }
        add(
            "domains".into(),
            self.domains.to_string(),
            self.domains == 1,
        );
        add(
            "moves".into(),
            if self.round_trip {
                "A→B→A"
            } else {
                "A→B"
            }
            .into(),
            !self.round_trip,
        );
        let c = &self.chaos;
        for (name, v) in [
            ("chaos 2400 rate", c.transient_failure_permille),
            ("chaos drop rate", c.drop_connection_permille),
            ("chaos session limit rate", c.session_limit_permille),
        ] {
            add(name.into(), permille(v), v == 0);
        }
        add(
            "chaos publication jitter".into(),
            secs(c.propagation_jitter),
            c.propagation_jitter == 0,
        );
        out
    }

    /// Worlds one step simpler than this one, simplest first: each with one setting back at
    /// its default, then each duration away from its default at the next round value below it
    /// (a day, two hours, an hour, five minutes, a minute). Shrinking tries them after proptest's pass, until none
    /// of them fails: so no setting of the result can go back to its default alone.
    pub fn simpler(&self) -> Vec<Self> {
        const ROUND: [u32; 8] = [0, MINUTE, 5 * MINUTE, HOUR, 2 * HOUR, DAY, 2 * DAY, 3 * DAY];
        let fields = fields();
        let mut out = Vec::new();
        let mut push = |w: Self| {
            if w != *self && !out.contains(&w) {
                out.push(w);
            }
        };
        for f in &fields {
            if (f.get)(self) != f.default {
                let mut w = self.clone();
                (f.set)(&mut w, f.default);
                w.normalize();
                push(w);
            }
        }
        // Only settings away from their defaults get smaller: a default made smaller is one
        // more setting for the reader, not a simpler world.
        for f in fields.iter().filter(|f| f.duration) {
            let v = (f.get)(self);
            if v == f.default {
                continue;
            }
            if let Some(lower) = ROUND.iter().rev().find(|r| **r < v && **r >= f.min) {
                let mut w = self.clone();
                (f.set)(&mut w, *lower);
                w.normalize();
                push(w);
            }
        }
        out
    }

    /// The settings (as indices into the shrinker's list) that differ from their defaults.
    pub(crate) fn changed(&self) -> Vec<usize> {
        fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| (f.get)(self) != f.default)
            .map(|(i, _)| i)
            .collect()
    }

    /// This world with the settings `which` (indices from [`WorldParams::changed`]) back at
    /// their defaults.
    pub(crate) fn with_defaults(&self, which: &[usize]) -> Self {
        let fields = fields();
        let mut w = self.clone();
        for f in which.iter().filter_map(|i| fields.get(*i)) {
            (f.set)(&mut w, f.default);
        }
        w.normalize();
        w
    }

    /// Restores what every world keeps: opt-out only with NSEC3, and signatures that
    /// outlive what caches hold (see [`WorldParams::strategy`]) and the signers' refresh
    /// period, which a scenario must exceed (the strategy's lower end, a week, equals it).
    fn normalize(&mut self) {
        for o in &mut self.operators {
            o.opt_out &= o.nsec3;
        }
        let refresh = seconds(dnssec::SigningPolicy::default().refresh);
        self.signature_validity = self
            .signature_validity
            .max(3 * self.max_ttl())
            .max(refresh.saturating_add(1));
    }

    /// The world in one line, for progress and reports: its seed and every setting that
    /// differs from the defaults.
    pub fn describe(&self) -> String {
        let changed: Vec<String> = self
            .settings()
            .into_iter()
            .filter(|(_, _, default)| !default)
            .map(|(name, value, _)| format!("{name} {value}"))
            .collect();
        changed.join(", ")
    }

    /// What differs between this world and a `smaller` one, setting by setting
    /// (`TLD ds TTL: 2d3h → 1h (default)`): what shrinking changed.
    pub fn diff(&self, smaller: &Self) -> Vec<String> {
        self.settings()
            .into_iter()
            .zip(smaller.settings())
            .filter(|((_, a, _), (_, b, _))| a != b)
            .map(|((name, a, _), (_, b, default))| {
                format!(
                    "{name}: {a} → {b}{}",
                    if default { " (default)" } else { "" }
                )
            })
            .collect()
    }

    /// The world as a scenario file, with only the settings that differ from the defaults.
    /// `header` lines become comments at the top; `cast` says who plays each registrar.
    pub fn to_toml(&self, id: &str, header: &[String], cast: &Cast) -> String {
        let dur = |secs: u32| duration(secs);
        let mut t = String::new();
        for line in header {
            if line.is_empty() {
                t.push_str("#\n");
            } else {
                let _ = writeln!(t, "# {line}");
            }
        }
        let _ = writeln!(t, "id = \"{id}\"");
        let _ = writeln!(
            t,
            "title = \"A random world{}\"",
            if self.round_trip {
                " (A → B → A)"
            } else {
                ""
            }
        );
        let _ = writeln!(t, "description = \"{}\"", self.describe().replace('"', "'"));
        let _ = writeln!(t, "references = [\"RFC 6781 §4.3.5.1\", \"RFC 8063\"]");
        let _ = writeln!(t, "\n[world]\nseed = {}", self.seed);
        if i64::from(self.propagation_delay) != defaults::DELAY_SECS {
            let _ = writeln!(t, "propagation_delay = \"{}\"", dur(self.propagation_delay));
        }
        if self.signature_validity != default_validity() {
            let _ = writeln!(
                t,
                "signature_validity = \"{}\"",
                dur(self.signature_validity)
            );
        }
        let mut ttls = Vec::new();
        for (key, v, default) in [
            ("ns", self.tld_ttl_ns, defaults::TTL_NS),
            ("ds", self.tld_ttl_ds, defaults::TTL_DS),
            ("dnskey", self.tld_ttl_dnskey, defaults::TTL_DNSKEY),
            ("soa", self.tld_ttl_soa, defaults::TTL_SOA),
        ] {
            if v != default {
                ttls.push(format!("{key} = \"{}\"", dur(v)));
            }
        }
        if !ttls.is_empty() {
            let _ = writeln!(t, "ttl = {{ {} }}", ttls.join(", "));
        }
        let c = &self.chaos;
        for (key, v) in [
            ("transient_failure_rate", c.transient_failure_permille),
            ("drop_connection_rate", c.drop_connection_permille),
            ("session_limit_rate", c.session_limit_permille),
        ] {
            if v > 0 {
                let _ = writeln!(t, "{key} = {}", f64::from(v) / 1000.0);
            }
        }
        if c.propagation_jitter > 0 {
            let _ = writeln!(t, "propagation_jitter = \"{}\"", dur(c.propagation_jitter));
        }
        for (i, (label, o)) in ["A", "B"].into_iter().zip(&self.operators).enumerate() {
            let tested = cast.role.covers(i);
            let subject = cast.subject && tested;
            let _ = writeln!(
                t,
                "\n[registrars.{label}]\nplayed_by = \"{}\"",
                if subject { "subject" } else { "reference" }
            );
            if !subject {
                if let Some(f) = cast.fault.filter(|_| tested) {
                    let _ = writeln!(t, "fault = \"{}\"", f.name());
                }
                if o.poll_interval != POLL {
                    let _ = writeln!(t, "poll_interval = \"{}\"", dur(o.poll_interval));
                }
                if o.relay_publish_delay > 0 {
                    let _ = writeln!(
                        t,
                        "relay_publish_delay = \"{}\"",
                        dur(o.relay_publish_delay)
                    );
                }
            }
            let mut op = vec![format!("algorithm = {}", o.algorithm)];
            if o.csk {
                op.push("keys = \"csk\"".into());
            }
            op.push(format!(
                "denial = \"{}\"",
                if o.nsec3 { "nsec3" } else { "nsec" }
            ));
            if o.opt_out {
                op.push("nsec3 = { opt_out = true }".into());
            }
            let mut ttl = Vec::new();
            for (key, v, default) in [
                ("dnskey", o.ttl_dnskey, defaults::OP_TTL),
                ("ns", o.ttl_ns, defaults::OP_TTL),
                ("data", o.ttl_data, defaults::OP_TTL),
                ("negative", o.ttl_negative, defaults::OP_NEGATIVE),
            ] {
                if v != default {
                    ttl.push(format!("{key} = \"{}\"", dur(v)));
                }
            }
            if !ttl.is_empty() {
                op.push(format!("ttl = {{ {} }}", ttl.join(", ")));
            }
            let _ = writeln!(t, "operator = {{ {} }}", op.join(", "));
        }
        let names: Vec<String> = (0..self.domains.max(1))
            .map(|i| {
                if i == 0 {
                    "example.nl".to_string()
                } else {
                    format!("example{}.nl", i + 1)
                }
            })
            .collect();
        for n in &names {
            let _ = writeln!(
                t,
                "\n[[domains]]\nname = \"{n}\"\nsponsor = \"A\"\nrecords = [\"@ A 192.0.2.1\", \
                 \"www A 192.0.2.10\", \"@ MX 10 mail\", \"mail A 192.0.2.25\"]\nchecks = \
                 [\"www A\", \"@ MX\"]"
            );
        }
        // Virtual time costs nothing: leave every procedure room to finish in any world.
        let limit = "120d";
        let moves: &[&str] = if self.round_trip { &["B", "A"] } else { &["B"] };
        for to in moves {
            for n in &names {
                let _ = writeln!(
                    t,
                    "\n[[steps]]\ndo = \"transfer\"\ndomain = \"{n}\"\nto = \"{to}\""
                );
            }
            let _ = writeln!(t, "\n[[steps]]\ndo = \"run\"\nfor = \"{limit}\"");
        }
        let end = moves.last().copied().unwrap_or("B");
        let _ = writeln!(t, "\n[expect]\nchain = \"secure\"");
        let sponsor: Vec<String> = names
            .iter()
            .map(|n| format!("\"{n}\" = \"{end}\""))
            .collect();
        let ds: Vec<String> = names
            .iter()
            .map(|n| format!("\"{n}\" = [\"{end}\"]"))
            .collect();
        let _ = writeln!(t, "sponsor = {{ {} }}", sponsor.join(", "));
        let _ = writeln!(t, "ds = {{ {} }}", ds.join(", "));
        t
    }

    /// The world as a checked scenario.
    pub fn scenario(&self, id: &str, cast: &Cast) -> Result<Scenario, ScenarioError> {
        let text = self.to_toml(id, &[], cast);
        scenario::parse(Path::new(&format!("explored/{id}.toml")), &text)
    }
}

/// One setting of a world as a number, for shrinking: its default, the smallest value it
/// takes, whether it is a duration, and how to read and write it.
struct Field {
    default: u32,
    min: u32,
    duration: bool,
    get: fn(&WorldParams) -> u32,
    set: fn(&mut WorldParams, u32),
}

/// Every setting but the seed, in the order [`WorldParams::settings`] lists them.
fn fields() -> Vec<Field> {
    let d =
        |default: u32, min: u32, get: fn(&WorldParams) -> u32, set: fn(&mut WorldParams, u32)| {
            Field {
                default,
                min,
                duration: true,
                get,
                set,
            }
        };
    let n = |default: u32, get: fn(&WorldParams) -> u32, set: fn(&mut WorldParams, u32)| Field {
        default,
        min: 0,
        duration: false,
        get,
        set,
    };
    let delay = u32::try_from(defaults::DELAY_SECS).unwrap_or(900);
    let mut out = vec![
        d(
            defaults::TTL_NS,
            MINUTE,
            |w| w.tld_ttl_ns,
            |w, v| w.tld_ttl_ns = v,
        ),
        d(
            defaults::TTL_DS,
            MINUTE,
            |w| w.tld_ttl_ds,
            |w, v| w.tld_ttl_ds = v,
        ),
        d(
            defaults::TTL_DNSKEY,
            MINUTE,
            |w| w.tld_ttl_dnskey,
            |w, v| w.tld_ttl_dnskey = v,
        ),
        d(
            defaults::TTL_SOA,
            MINUTE,
            |w| w.tld_ttl_soa,
            |w, v| w.tld_ttl_soa = v,
        ),
        d(
            delay,
            0,
            |w| w.propagation_delay,
            |w, v| w.propagation_delay = v,
        ),
        n(
            default_validity(),
            |w| w.signature_validity,
            |w, v| w.signature_validity = v,
        ),
    ];
    // The same settings for A (index 0) and B (index 1), without closures over the index.
    macro_rules! operator {
        ($i:literal) => {
            out.extend([
                n(
                    13,
                    |w| u32::from(w.operators[$i].algorithm),
                    |w, v| w.operators[$i].algorithm = u8::try_from(v).unwrap_or(13),
                ),
                n(
                    0,
                    |w| u32::from(w.operators[$i].csk),
                    |w, v| w.operators[$i].csk = v != 0,
                ),
                n(
                    0,
                    |w| u32::from(w.operators[$i].nsec3),
                    |w, v| w.operators[$i].nsec3 = v != 0,
                ),
                n(
                    0,
                    |w| u32::from(w.operators[$i].opt_out),
                    |w, v| w.operators[$i].opt_out = v != 0,
                ),
                d(
                    defaults::OP_TTL,
                    MINUTE,
                    |w| w.operators[$i].ttl_dnskey,
                    |w, v| w.operators[$i].ttl_dnskey = v,
                ),
                d(
                    defaults::OP_TTL,
                    MINUTE,
                    |w| w.operators[$i].ttl_ns,
                    |w, v| w.operators[$i].ttl_ns = v,
                ),
                d(
                    defaults::OP_TTL,
                    MINUTE,
                    |w| w.operators[$i].ttl_data,
                    |w, v| w.operators[$i].ttl_data = v,
                ),
                d(
                    defaults::OP_NEGATIVE,
                    MINUTE,
                    |w| w.operators[$i].ttl_negative,
                    |w, v| w.operators[$i].ttl_negative = v,
                ),
                d(
                    POLL,
                    MINUTE,
                    |w| w.operators[$i].poll_interval,
                    |w, v| w.operators[$i].poll_interval = v,
                ),
                d(
                    0,
                    0,
                    |w| w.operators[$i].relay_publish_delay,
                    |w, v| w.operators[$i].relay_publish_delay = v,
                ),
            ]);
        };
    }
    operator!(0);
    operator!(1);
    out.extend([
        n(
            1,
            |w| u32::from(w.domains),
            |w, v| w.domains = u8::try_from(v).unwrap_or(1),
        ),
        n(0, |w| u32::from(w.round_trip), |w, v| w.round_trip = v != 0),
        n(
            0,
            |w| u32::from(w.chaos.transient_failure_permille),
            |w, v| w.chaos.transient_failure_permille = u16::try_from(v).unwrap_or(0),
        ),
        n(
            0,
            |w| u32::from(w.chaos.drop_connection_permille),
            |w, v| w.chaos.drop_connection_permille = u16::try_from(v).unwrap_or(0),
        ),
        n(
            0,
            |w| u32::from(w.chaos.session_limit_permille),
            |w, v| w.chaos.session_limit_permille = u16::try_from(v).unwrap_or(0),
        ),
        d(
            0,
            0,
            |w| w.chaos.propagation_jitter,
            |w, v| w.chaos.propagation_jitter = v,
        ),
    ]);
    out
}

/// The default RRSIG validity, in seconds.
fn default_validity() -> u32 {
    seconds(jiff::SignedDuration::from_hours(
        24 * defaults::VALIDITY_DAYS,
    ))
}

fn human_secs(s: u32) -> String {
    duration(s)
}

fn permille(v: u16) -> String {
    format!("{:.1}%", f64::from(v) / 10.0)
}

/// `3d`, `2h30m`, `90s`: a duration as scenario files write it.
pub(crate) fn duration(secs: u32) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let (d, h, m, s) = (
        secs / DAY,
        secs % DAY / HOUR,
        secs % HOUR / MINUTE,
        secs % MINUTE,
    );
    let mut out = String::new();
    for (n, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            let _ = write!(out, "{n}{unit}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_as_scenarios_read_them() {
        assert_eq!(duration(90), "1m30s");
        assert_eq!(duration(3 * DAY + HOUR), "3d1h");
        assert_eq!(duration(0), "0s");
    }
}
