//! Random worlds: a proptest strategy over the settings a registrar must cope with, each world
//! written as an ordinary scenario file, run with every check, and shrunk to a minimal one when
//! it fails.
//!
//! Hand-written scenarios test the worlds their authors thought of; the bugs registrars ship
//! are in the others: a wait hard-coded to a day when the TTLs add up to more, a relay expiry of
//! a week when the move takes longer, a CSK where a ZSK was assumed, a publication delay longer
//! than a poll interval. A world draws from:
//!
//! - TTLs from one minute to three days, at the TLD (NS, DS, DNSKEY, SOA) and at each operator
//!   (DNSKEY, NS, data, negative);
//! - the registry's publication delay (0 to 12 hours) and the RRSIG validity;
//! - each reference registrar's poll interval (1 minute to 12 hours);
//! - per operator: algorithm 8, 13 or 15; KSK+ZSK or a CSK; NSEC, or NSEC3 with or without
//!   opt-out;
//! - one or two domains moving at once, and a move there and back (A → B → A).
//!
//! Worlds are generated from a seed, so the same seed gives the same worlds. A world that
//! fails is shrunk with proptest's value trees towards smaller values and fewer settings that
//! differ from the defaults; [`WorldParams::to_toml`] writes only those settings, so the shrunk
//! world reads as a small scenario that reproduces the failure with `harness run`.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::report::{ScenarioReport, human};
use crate::runner::{RunOptions, run_scenario, run_suite};
use crate::scenario::plan::defaults;
use crate::scenario::{self, Scenario, ScenarioError};

const MINUTE: u32 = 60;
const HOUR: u32 = 3600;
const DAY: u32 = 86_400;

/// How an operator signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// The reference registrar's poll interval, seconds.
    pub poll_interval: u32,
}

/// One random world. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldParams {
    /// The world's seed (keys and tokens).
    pub seed: u64,
    /// NS TTL at the TLD.
    pub tld_ttl_ns: u32,
    /// DS TTL at the TLD.
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
    /// How many domains move at once (1 or 2).
    pub domains: u8,
    /// The domains move back to `A` afterwards.
    pub round_trip: bool,
}

fn ttl() -> impl Strategy<Value = u32> {
    // A third of the draws at a few round values registries use, the rest anywhere in range:
    // round values shrink well and real worlds use them; the rest finds sums that matter.
    prop_oneof![
        1 => prop::sample::select(vec![MINUTE, 5 * MINUTE, HOUR, 2 * HOUR, DAY, 2 * DAY, 3 * DAY]),
        2 => MINUTE..=3 * DAY,
    ]
}

fn operator() -> impl Strategy<Value = OperatorParams> {
    (
        prop::sample::select(vec![13u8, 8, 15]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        (ttl(), ttl(), ttl(), ttl()),
        MINUTE..=12 * HOUR,
    )
        .prop_map(
            |(algorithm, csk, nsec3, opt_out, (dnskey, ns, data, negative), poll)| OperatorParams {
                algorithm,
                csk,
                nsec3,
                opt_out: nsec3 && opt_out,
                ttl_dnskey: dnskey,
                ttl_ns: ns,
                ttl_data: data,
                ttl_negative: negative,
                poll_interval: poll,
            },
        )
}

impl WorldParams {
    /// The strategy worlds are drawn from. See the module documentation.
    pub fn strategy() -> BoxedStrategy<Self> {
        (
            any::<u16>(),
            (ttl(), ttl(), ttl(), ttl()),
            0..=12 * HOUR,
            (operator(), operator()),
            1u8..=2,
            any::<bool>(),
            7 * DAY..=30 * DAY,
        )
            .prop_map(
                |(seed, (ns, ds, dnskey, soa), delay, (a, b), domains, round_trip, validity)| {
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
                    };
                    // Signing outlives caching (RFC 6781 §4.4.2): an operator whose RRSIGs
                    // expire before what they sign can leave caches breaks DNSSEC by itself,
                    // whoever the registrar is.
                    w.signature_validity = w.signature_validity.max(3 * w.max_ttl());
                    w
                },
            )
            .boxed()
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

    /// The world as a scenario file, with only the settings that differ from the defaults.
    /// `header` lines become comments at the top.
    pub fn to_toml(&self, id: &str, header: &[String]) -> String {
        let dur = |secs: u32| duration(secs);
        let mut t = String::new();
        for line in header {
            let _ = writeln!(t, "# {line}");
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
        let _ = writeln!(t, "references = [\"RFC 6781 §4.3.5.1\", \"RFC 8063\"]");
        let _ = writeln!(t, "\n[world]\nseed = {}", self.seed);
        if i64::from(self.propagation_delay) != defaults::DELAY_SECS {
            let _ = writeln!(t, "propagation_delay = \"{}\"", dur(self.propagation_delay));
        }
        if i64::from(self.signature_validity) != defaults::VALIDITY_DAYS * i64::from(DAY) {
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
        for (label, o) in ["A", "B"].into_iter().zip(&self.operators) {
            let _ = writeln!(t, "\n[registrars.{label}]\nplayed_by = \"reference\"");
            if o.poll_interval != 30 * MINUTE {
                let _ = writeln!(t, "poll_interval = \"{}\"", dur(o.poll_interval));
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
    pub fn scenario(&self, id: &str) -> Result<Scenario, ScenarioError> {
        let text = self.to_toml(id, &[]);
        scenario::parse(Path::new(&format!("explored/{id}.toml")), &text)
    }

    /// The world in one line, for progress and reports.
    pub fn describe(&self) -> String {
        let op = |o: &OperatorParams| {
            format!(
                "alg {}{} {}{} ttl dnskey {} ns {} data {} neg {} poll {}",
                o.algorithm,
                if o.csk { " csk" } else { "" },
                if o.nsec3 { "nsec3" } else { "nsec" },
                if o.opt_out { " opt-out" } else { "" },
                human_secs(o.ttl_dnskey),
                human_secs(o.ttl_ns),
                human_secs(o.ttl_data),
                human_secs(o.ttl_negative),
                human_secs(o.poll_interval),
            )
        };
        format!(
            "seed {} tld ttl ns {} ds {} dnskey {} soa {}, delay {}, validity {}, {} domain(s){}; A: {}; B: {}",
            self.seed,
            human_secs(self.tld_ttl_ns),
            human_secs(self.tld_ttl_ds),
            human_secs(self.tld_ttl_dnskey),
            human_secs(self.tld_ttl_soa),
            human_secs(self.propagation_delay),
            human_secs(self.signature_validity),
            self.domains,
            if self.round_trip { ", A→B→A" } else { "" },
            op(&self.operators[0]),
            op(&self.operators[1]),
        )
    }
}

fn human_secs(s: u32) -> String {
    human(jiff::SignedDuration::from_secs(i64::from(s)))
}

/// `3d`, `2h30m`, `90s`: a duration as scenario files write it.
fn duration(secs: u32) -> String {
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

/// A world drawn from the strategy, with the value tree that shrinks it.
pub struct Draw {
    /// The world.
    pub world: WorldParams,
    tree: Box<dyn ValueTree<Value = WorldParams>>,
}

impl std::fmt::Debug for Draw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Draw").field("world", &self.world).finish()
    }
}

/// `cases` worlds from `seed`: the same seed gives the same worlds.
pub fn generate(seed: u64, cases: usize) -> Vec<Draw> {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = WorldParams::strategy();
    (0..cases)
        .filter_map(|_| {
            let tree = strategy.new_tree(&mut runner).ok()?;
            Some(Draw {
                world: tree.current(),
                tree,
            })
        })
        .collect()
}

/// The id of the `index`th world of a seed.
pub fn world_id(seed: u64, index: usize) -> String {
    format!("world-{seed}-{index}")
}

/// Runs worlds, `jobs` at a time, with the reference registrars (or processes per
/// `options`); each report in the worlds' order. A world whose scenario cannot be built is a
/// report with the error.
pub async fn run_worlds(
    seed: u64,
    worlds: &[WorldParams],
    options: &RunOptions,
    jobs: usize,
    done: impl Fn(&ScenarioReport) + Send + Sync + 'static,
) -> Result<Vec<ScenarioReport>, ScenarioError> {
    let scenarios = worlds
        .iter()
        .enumerate()
        .map(|(i, w)| w.scenario(&world_id(seed, i)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(run_suite(scenarios, options, jobs, done).await)
}

/// The result of shrinking a failing world.
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The smallest failing world found.
    pub world: WorldParams,
    /// Its report.
    pub report: ScenarioReport,
    /// How many candidate worlds were run.
    pub runs: usize,
}

/// Shrinks a failing draw towards smaller values and default settings, running each candidate
/// (at most `budget` runs); the last world that still failed is the result.
pub async fn shrink(
    mut draw: Draw,
    id: &str,
    failing: ScenarioReport,
    options: &RunOptions,
    budget: usize,
) -> Shrunk {
    let mut best = Shrunk {
        world: draw.world.clone(),
        report: failing,
        runs: 0,
    };
    // A candidate counts only if it fails the way the original did (one of its failing
    // checks), so shrinking does not wander off to another problem.
    let wanted: Vec<_> = best.report.failures().map(|c| c.check).collect();
    let fails = |r: &ScenarioReport| r.failures().any(|c| wanted.contains(&c.check));
    'outer: while best.runs < budget {
        if !draw.tree.simplify() {
            break;
        }
        loop {
            let candidate = draw.tree.current();
            best.runs += 1;
            let report = match candidate.scenario(id) {
                Ok(s) => run_scenario(Arc::new(s), options).await,
                Err(_) => {
                    if !draw.tree.complicate() {
                        break 'outer;
                    }
                    continue;
                }
            };
            if fails(&report) {
                best.world = candidate;
                best.report = report;
                break;
            }
            if best.runs >= budget || !draw.tree.complicate() {
                break 'outer;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_worlds() {
        let a: Vec<WorldParams> = generate(7, 20).into_iter().map(|d| d.world).collect();
        let b: Vec<WorldParams> = generate(7, 20).into_iter().map(|d| d.world).collect();
        let c: Vec<WorldParams> = generate(8, 20).into_iter().map(|d| d.world).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn every_world_is_a_valid_scenario() {
        for (i, d) in generate(1, 200).into_iter().enumerate() {
            let w = &d.world;
            let s = w
                .scenario(&world_id(1, i))
                .unwrap_or_else(|e| panic!("{e}\n{}", w.to_toml("x", &[])));
            assert_eq!(s.world.ttl_ds, w.tld_ttl_ds);
            assert_eq!(s.registrars[1].operator.ttl_data, w.operators[1].ttl_data);
            assert!(w.signature_validity >= 3 * w.max_ttl());
        }
    }

    #[test]
    fn durations_are_written_as_scenarios_read_them() {
        assert_eq!(duration(90), "1m30s");
        assert_eq!(duration(3 * DAY + HOUR), "3d1h");
        assert_eq!(duration(0), "0s");
    }
}
