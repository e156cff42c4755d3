//! Throughput of `harness explore`: random worlds per second with the reference registrars
//! in-process, and with the reference registrar as the subject process (`harness
//! reference-registrar` over the adapter protocol, as the gaining side, the losing side and both
//! in turn), and the time to shrink the naive registrar's failure (fault
//! `fixed-one-hour-waits`) to its scenario.
//!
//! Run with `cargo bench -p harness --bench explore`. Environment knobs, with defaults:
//! `CASES` (200 in-process worlds), `PROCESS_CASES` (60 worlds with the subject process),
//! `JOBS` (2 worlds at once), `SEED` (20261130).
//!
//! It prints the machine's speed in two reference operations before and after the in-process
//! worlds (see [`machine_reference`]), then figures rather than asserting on them: timings
//! depend on the machine. It does assert the verdicts (every reference world passes; the naive
//! registrar is found, shrunk and reproduced), so a broken exploration cannot produce
//! good-looking numbers.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark")]

use std::time::Instant;

use harness::explore::{Exploration, Plan, Role, explore};
use harness::scenario::Fault;

/// The harness binary's allocator, so the figures are what `harness explore` gets.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU seconds (user + system) this process and its reaped children have used, from
/// `/proc/self/stat` (Linux; `None` elsewhere). On a shared virtual machine both worlds/s and
/// CPU per world move with the hour (the same code has given 27 and 48 worlds/s on one day),
/// so before/after comparisons take turns within minutes and compare CPU a world.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // utime, stime, cutime, cstime are fields 14-17 of stat(5): 11-14 counted from the state.
    let ticks: u64 = f
        .get(11..15)?
        .iter()
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    // USER_HZ, the unit of these fields, is 100 on every Linux architecture the kernel's ABI
    // exposes to user space.
    Some(ticks as f64 / 100.0)
}

fn line(what: &str, e: &Exploration, cpu: Option<f64>) {
    let per_world = cpu.map_or_else(String::new, |c| {
        format!(
            "; CPU {:.1} ms a world, {:.1} worlds/s per busy core",
            1000.0 * c / e.worlds.len().max(1) as f64,
            e.worlds.len() as f64 / c.max(0.001)
        )
    });
    println!(
        "{what:<44} {:>4} worlds in {:>6.2} s: {:>6.1} worlds/s ({} failed){per_world}",
        e.worlds.len(),
        e.wall_seconds,
        e.worlds_per_second,
        e.failed()
    );
}

/// The machine's speed at the moment, in the two operations that weigh most in a world: an
/// x25519 key agreement (a fresh key, its public half, the shared secret: one side of a resumed
/// TLS handshake) and an RSA-2048 signature (a DNSSEC RRSIG of algorithm 8), in µs each.
///
/// The shared virtual machine this project runs on changes speed by a factor of two within a
/// day for the same binary; printed next to the figures, these say which phase they were taken
/// in, so worlds/s from different hours can be compared.
fn machine_reference() -> (f64, f64) {
    use ring::agreement::{EphemeralPrivateKey, UnparsedPublicKey, X25519, agree_ephemeral};
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
    let rng = ring::rand::SystemRandom::new();
    let peer = EphemeralPrivateKey::generate(&X25519, &rng).unwrap();
    let peer = peer.compute_public_key().unwrap();
    let rounds = 400;
    let started = Instant::now();
    for _ in 0..rounds {
        let k = EphemeralPrivateKey::generate(&X25519, &rng).unwrap();
        std::hint::black_box(k.compute_public_key().unwrap());
        agree_ephemeral(k, &UnparsedPublicKey::new(&X25519, peer.as_ref()), |s| {
            std::hint::black_box(s.len())
        })
        .unwrap();
    }
    let x25519 = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    let key = dnssec::fixture_keys::key(dnssec::keys::KeyAlgorithm::RsaSha256, 0);
    let rsa = RsaKeyPair::from_pkcs8(key.to_pkcs8_der()).unwrap();
    let mut sig = vec![0; rsa.public().modulus_len()];
    let rounds = 100;
    let started = Instant::now();
    for i in 0..rounds {
        rsa.sign(&RSA_PKCS1_SHA256, &rng, &[i as u8; 200], &mut sig)
            .unwrap();
    }
    let rsa = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    (x25519, rsa)
}

fn print_reference(when: &str) {
    let (x25519, rsa) = machine_reference();
    println!(
        "machine reference {when}: x25519 agreement {x25519:.1} µs, RSA-2048 signature {rsa:.0} µs"
    );
}

/// Runs `f`, returning its result and the CPU seconds it used.
fn with_cpu<T>(f: impl FnOnce() -> T) -> (T, Option<f64>) {
    let before = cpu_seconds();
    let out = f();
    let used = cpu_seconds().zip(before).map(|(a, b)| a - b);
    (out, used)
}

fn main() {
    let cases = usize::try_from(env_or("CASES", 200)).unwrap();
    let process_cases = usize::try_from(env_or("PROCESS_CASES", 60)).unwrap();
    let jobs = usize::try_from(env_or("JOBS", 2)).unwrap();
    let seed = env_or("SEED", 20_261_130);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "explore bench: seed {seed}, {jobs} worlds at once, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    print_reference("before");
    let mut plan = Plan::new(seed, cases);
    plan.jobs = jobs;
    let (e, cpu) = with_cpu(|| runtime.block_on(explore(&plan, |_| {})).unwrap());
    line("in-process, both roles", &e, cpu);
    print_reference("after");
    assert!(e.passed(), "{}", e.summary());

    let mut plan = Plan::new(seed, process_cases);
    plan.jobs = jobs;
    plan.subject = Some(format!(
        "{} reference-registrar",
        env!("CARGO_BIN_EXE_harness")
    ));
    plan.roles = vec![Role::Gaining, Role::Losing, Role::Both];
    let (e, cpu) = with_cpu(|| runtime.block_on(explore(&plan, |_| {})).unwrap());
    line("subject process, gaining/losing/both", &e, cpu);
    assert!(e.passed(), "{}", e.summary());

    // The naive registrar: found among a few worlds, each kind of failure shrunk.
    let mut plan = Plan::new(seed, 10);
    plan.jobs = jobs;
    plan.roles = vec![Role::Gaining];
    plan.fault = Some(Fault::FixedOneHourWaits);
    let started = Instant::now();
    let e = runtime.block_on(explore(&plan, |_| {})).unwrap();
    line("fault fixed-one-hour-waits, gaining", &e, None);
    assert!(!e.failures.is_empty() && e.failures.iter().all(|f| f.reproduced));
    for f in &e.failures {
        println!(
            "  world {} ({} settings away from their defaults, the seed included) shrunk in {} runs to: {}",
            f.world,
            e.worlds[f.world]
                .params
                .settings()
                .iter()
                .filter(|(_, _, d)| !d)
                .count(),
            f.runs,
            if f.description.is_empty() {
                "the default world".to_string()
            } else {
                f.description.clone()
            }
        );
    }
    println!(
        "  shrinking: {:.2} s for {} failure(s), {:.2} s per failure; total {:.2} s",
        e.shrink_seconds,
        e.failures.len(),
        e.shrink_seconds / e.failures.len().max(1) as f64,
        started.elapsed().as_secs_f64()
    );
}
