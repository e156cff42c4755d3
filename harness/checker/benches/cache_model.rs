//! The chain-of-trust checker on a full operator change: a three-day double-DS transfer
//! (protocol-notes §5.2) recorded into a timeline, then every cache state enumerated and
//! validated by the cache model.
//!
//! Run with `cargo bench -p checker --bench cache_model`. Environment knobs: `REPEAT` (runs of the
//! model per configuration, default 10), `ALGORITHMS` (comma list of `rsa`, `ecdsa`, `ed25519`;
//! default all three).
//!
//! It prints figures rather than asserting: timings depend on the machine. It does assert that
//! a correct transfer is judged secure, so a wrong model cannot produce good-looking numbers.

use std::time::{Duration, Instant};

use checker::testbed::{self, TransferWorld, Ttls, name};
use checker::{CacheOptions, Mode, Report, Status, check};
use dnssec::{Denial, KeyAlgorithm, Nsec3Config, SigningPolicy, ZoneKey, fixture_keys};
use jiff::{SignedDuration, Timestamp};

const H: i64 = 3600;

fn at(t0: Timestamp, seconds: i64) -> Timestamp {
    t0.saturating_add(SignedDuration::from_secs(seconds))
        .expect("benchmark times are far from the limits")
}

/// How often the operators make new signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resign {
    /// Valid two days, refreshed when less than one is left (checked every six hours).
    Daily,
    /// Valid three hours, refreshed every hour: every RRset has a new version each hour, so
    /// caches hold two versions of everything most of the time (a stress case).
    Hourly,
}

impl Resign {
    fn policy(self, denial: &Denial) -> SigningPolicy {
        let mut p = testbed::policy(denial.clone());
        let (validity, refresh) = match self {
            Self::Daily => (48 * 60, 24 * 60),
            Self::Hourly => (180, 150),
        };
        p.validity = SignedDuration::from_mins(validity);
        p.refresh = SignedDuration::from_mins(refresh);
        p
    }

    fn every(self) -> i64 {
        match self {
            Self::Daily => 6 * H,
            Self::Hourly => H,
        }
    }
}

/// Builds the timeline of a correct double-DS transfer with the given DS TTL.
fn transfer(algorithm: KeyAlgorithm, ds_ttl: u32, resign: Resign, t0: Timestamp) -> TransferWorld {
    let denial = Denial::Nsec3(Nsec3Config::default());
    let ttls = Ttls {
        ds: ds_ttl,
        parent_ns: 86400,
        dnskey: 3600,
    };
    let hosts = |op: &str| {
        vec![
            name(&format!("ns1.operator-{op}.example.")),
            name(&format!("ns2.operator-{op}.example.")),
        ]
    };
    let mut w = TransferWorld::new(
        t0,
        testbed::upper_algorithm(algorithm),
        denial.clone(),
        ttls,
        &[("operator A", hosts("a")), ("operator B", hosts("b"))],
    );
    let ksk_a = ZoneKey::ksk(fixture_keys::key(algorithm, 0));
    let zsk_a = ZoneKey::zsk(fixture_keys::key(algorithm, 1));
    let ksk_b = ZoneKey::ksk(fixture_keys::key(algorithm, 2));
    let zsk_b = ZoneKey::zsk(fixture_keys::key(algorithm, 3));
    let foreign = |k: &ZoneKey| ZoneKey::foreign(k.dnskey().clone());
    let domain = name("example.test.");
    let ds = |keys: &[&ZoneKey]| {
        let keys: Vec<ZoneKey> = keys.iter().map(|k| (*k).clone()).collect();
        testbed::ds_for(&domain, &keys)
    };
    let p = resign.policy(&denial);
    let ds_wait = i64::from(ds_ttl) + H;
    let t2 = H;
    let t4 = 3 * H;
    let t6 = t4 + ds_wait;
    let t8 = t6 + 24 * H + 3 * H;
    let t9 = t8 + ds_wait;
    // Three days at least, and two hours past the last step (every cache has settled).
    let end = (t9 + 2 * H).max(72 * H);
    let steps: Vec<i64> = vec![0, t2, t4, t6, t8, t9];
    w.operator(0, vec![ksk_a.clone(), zsk_a.clone()], p.clone(), at(t0, 0))
        .operator(
            1,
            vec![ksk_b.clone(), zsk_b.clone(), foreign(&zsk_a)],
            p.clone(),
            at(t0, 0),
        )
        .delegate(&[0], ds(&[&ksk_a]), at(t0, 0));
    // The operators' routine re-signing runs between the steps.
    let mut refresh = resign.every();
    let mut run_refreshes = |w: &mut TransferWorld, until: i64| {
        while refresh < until {
            w.refresh(at(t0, refresh));
            refresh += resign.every();
        }
    };
    for (i, &step) in steps.iter().enumerate().skip(1) {
        run_refreshes(&mut w, step);
        match i {
            1 => {
                w.operator(
                    0,
                    vec![ksk_a.clone(), zsk_a.clone(), foreign(&zsk_b)],
                    p.clone(),
                    at(t0, step),
                );
            }
            2 => {
                w.delegate(&[0], ds(&[&ksk_a, &ksk_b]), at(t0, step));
            }
            3 => {
                w.delegate(&[1], ds(&[&ksk_a, &ksk_b]), at(t0, step));
            }
            4 => {
                w.delegate(&[1], ds(&[&ksk_b]), at(t0, step));
            }
            _ => {
                w.operator(
                    1,
                    vec![ksk_b.clone(), zsk_b.clone()],
                    p.clone(),
                    at(t0, step),
                )
                .stop(0, at(t0, step));
            }
        }
    }
    run_refreshes(&mut w, end);
    w.finish(at(t0, end));
    w
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let repeat: usize = std::env::var("REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let algorithms: Vec<KeyAlgorithm> = std::env::var("ALGORITHMS")
        .unwrap_or_else(|_| "rsa,ecdsa,ed25519".into())
        .split(',')
        .filter_map(|a| match a.trim() {
            "rsa" => Some(KeyAlgorithm::RsaSha256),
            "ecdsa" => Some(KeyAlgorithm::EcdsaP256Sha256),
            "ed25519" => Some(KeyAlgorithm::Ed25519),
            _ => None,
        })
        .collect();
    let t0: Timestamp = "2026-03-02T00:00:00Z".parse().expect("valid time");
    println!(
        "checker: double-DS transfer, parent NS 86400, DNSKEY 3600, 5 checked questions, \
         {repeat} runs each"
    );
    for algorithm in algorithms {
        for (ds_ttl, resign) in [
            (3600, Resign::Daily),
            (86400, Resign::Daily),
            (86400, Resign::Hourly),
        ] {
            let started = Instant::now();
            let world = transfer(algorithm, ds_ttl, resign, t0);
            let built = started.elapsed();
            let mut times = Vec::with_capacity(repeat);
            let mut report: Option<Report> = None;
            for _ in 0..repeat.max(1) {
                let started = Instant::now();
                // Up to the end of the observations: the operators stop re-signing there.
                let options = CacheOptions {
                    until: world.timeline.horizon(),
                    ..CacheOptions::default()
                };
                let r = check(&world.timeline, &world.anchors, &options);
                times.push(started.elapsed());
                report = Some(r);
            }
            let report = report.expect("at least one run");
            for mode in Mode::BOTH {
                assert_eq!(
                    report.worst(mode),
                    Status::Secure,
                    "a correct transfer must be secure:\n{report}"
                );
            }
            times.sort();
            let s = report.stats;
            println!(
                "  {algorithm:<15} DS TTL {ds_ttl:>5}, {resign:?} re-signing: {:.1} days, {} versions, \
                 {} instants, {} combinations in {} validator steps ({} signature verifications, \
                 {} memo hits)",
                (report.until.as_second() - report.from.as_second()) as f64 / 86400.0,
                s.versions,
                s.instants,
                s.combinations,
                s.evaluated,
                s.verifications,
                s.memo_hits,
            );
            println!(
                "      model: min {}, median {}, max {}; building the timeline (signing, observing): {}",
                ms(times[0]),
                ms(times[times.len() / 2]),
                ms(times[times.len() - 1]),
                ms(built)
            );
        }
    }
}
