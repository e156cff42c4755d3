//! Signing a TLD: 100,000 delegations (every other one with a DS) signed from scratch, then
//! republished after one change at a time.
//!
//! Run with `cargo bench -p dnssec --bench sign_tld`. Environment knobs:
//! `DELEGATIONS` (default 100000), `ALGORITHMS` (comma list of `ed25519`, `ecdsa`, `rsa`;
//! default `ed25519,ecdsa`; RSA signs ~40x slower), `THREADS` (default: all cores),
//! `REPEAT` (republications per kind of change, default 20).
//!
//! It prints figures rather than asserting: timings depend on the machine.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use dnssec::{
    Delegation, Denial, DsDigest, KeyAlgorithm, SignedZone, SigningPolicy, Zone, ZoneKey,
    ZoneSigner, fixture_keys,
};
use hickory_proto::rr::Name;
use hickory_proto::rr::rdata::SOA;
use jiff::{SignedDuration, Timestamp};

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn name(s: &str) -> Name {
    s.parse().expect("benchmark names are valid")
}

fn delegation(i: usize, child_key: &ZoneKey, with_ds: bool) -> Delegation {
    let cut = name(&format!("domain{i}.tld."));
    let ds = if with_ds {
        vec![
            child_key
                .ds(&cut, DsDigest::Sha256)
                .expect("DS of a fixture key"),
        ]
    } else {
        vec![]
    };
    Delegation {
        ns: vec![
            name(&format!("ns1.hoster{}.net.", i % 97)),
            name(&format!("ns2.hoster{}.net.", i % 97)),
        ],
        name: cut,
        ttl: 3600,
        glue: vec![],
        ds,
    }
}

fn tld(count: usize, child_key: &ZoneKey) -> Zone {
    let origin = name("tld.");
    let soa = SOA::new(
        name("ns1.tld."),
        name("hostmaster.tld."),
        1,
        7200,
        3600,
        1_209_600,
        3600,
    );
    let mut zone = Zone::new(origin, soa, 3600).expect("valid SOA");
    zone.add_text("tld. 3600 NS ns1.tld.").expect("valid NS");
    zone.add_text("ns1.tld. 3600 A 192.0.2.1").expect("valid A");
    for i in 0..count {
        zone.set_delegation(&delegation(i, child_key, i % 2 == 0))
            .expect("valid delegation");
    }
    zone
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let count: usize = env_or("DELEGATIONS", 100_000);
    let repeat: usize = env_or("REPEAT", 20);
    let threads: usize = env_or("THREADS", 0);
    let algorithms: String = env_or("ALGORITHMS", "ed25519,ecdsa".to_string());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("sign_tld: {count} delegations (50% with DS), {cores} cores, threads={threads}");

    let child_key = ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 3));
    let started = Instant::now();
    let mut zone = tld(count, &child_key);
    zone.take_changes();
    println!("  build unsigned zone: {}", ms(started.elapsed()));

    let now: Timestamp = "2026-01-01T00:00:00Z".parse().expect("valid timestamp");
    for algorithm in algorithms.split(',') {
        let algorithm = match algorithm.trim() {
            "ed25519" => KeyAlgorithm::Ed25519,
            "ecdsa" => KeyAlgorithm::EcdsaP256Sha256,
            "rsa" => KeyAlgorithm::RsaSha256,
            other => panic!("unknown algorithm {other}"),
        };
        for denial in [Denial::default(), Denial::Nsec] {
            let label = match denial {
                Denial::Nsec => "NSEC",
                Denial::Nsec3(_) => "NSEC3",
                Denial::None => "unsigned",
            };
            let keys = vec![
                ZoneKey::ksk(fixture_keys::key(algorithm, 0)),
                ZoneKey::zsk(fixture_keys::key(algorithm, 1)),
            ];
            let policy = SigningPolicy {
                denial,
                threads,
                ..SigningPolicy::default()
            };
            let signer = ZoneSigner::new(keys, policy).expect("valid keys");
            let started = Instant::now();
            let signed = signer.sign(&zone, now).expect("signing works");
            let full = started.elapsed();
            println!(
                "  {algorithm} {label}: full sign {} ({} names, {} signatures, {:.0} signatures/s)",
                ms(full),
                signed.node_count(),
                signed.stats().signatures_made,
                signed.stats().signatures_made as f64 / full.as_secs_f64()
            );
            republish(&signer, &mut zone, signed, now, repeat, &child_key, count);
        }
    }
}

/// Times republication after one change of each kind, `repeat` times each.
fn republish(
    signer: &ZoneSigner,
    zone: &mut Zone,
    mut signed: SignedZone,
    now: Timestamp,
    repeat: usize,
    child_key: &ZoneKey,
    count: usize,
) {
    let mut later = now;
    let mut run = |zone: &mut Zone,
                   signed: &mut SignedZone,
                   what: &str,
                   change: &dyn Fn(&mut Zone, usize)| {
        let mut total = Duration::ZERO;
        let mut worst = Duration::ZERO;
        let mut made = 0;
        for i in 0..repeat {
            change(zone, i);
            later += SignedDuration::from_secs(60);
            let started = Instant::now();
            let changes: BTreeSet<Name> = zone.take_changes();
            let next = signer
                .update(signed, zone, &changes, later)
                .expect("update works");
            let took = started.elapsed();
            total += took;
            worst = worst.max(took);
            made += next.stats().signatures_made;
            *signed = next;
        }
        println!(
            "    republish after {what}: mean {}, worst {} ({:.1} signatures each)",
            us(total / u32::try_from(repeat.max(1)).unwrap_or(1)),
            us(worst),
            made as f64 / repeat.max(1) as f64
        );
    };
    run(zone, &mut signed, "adding a delegation with DS", &|z, i| {
        z.set_delegation(&delegation(count + i, child_key, true))
            .expect("valid delegation");
    });
    run(zone, &mut signed, "removing a delegation", &|z, i| {
        z.remove_delegation(&name(&format!("domain{}.tld.", count + i)));
    });
    run(
        zone,
        &mut signed,
        "adding a DS to an unsigned delegation",
        &|z, i| {
            z.set_delegation(&delegation(2 * i + 1, child_key, true))
                .expect("valid delegation");
        },
    );
    run(zone, &mut signed, "removing that DS again", &|z, i| {
        z.set_delegation(&delegation(2 * i + 1, child_key, false))
            .expect("valid delegation");
    });
}
