//! Real PowerDNS and Knot servers, each test with its own servers, run in parallel.
//!
//! Every signed zone goes through a scenario's whole life on one server: created, keys read,
//! a foreign ZSK published and removed, records and NS replaced, removed. What is served is
//! judged by `delv` with the zone's own KSK as the only trust anchor ("; fully validated"
//! means secure: delv exits 0 on failure, so its text is what counts).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::path::Path;
use std::time::{Duration, Instant};

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use real_dns::dns::{Transport, query, serial_newer};
use real_dns::{
    Algorithm, Denial, DnsBackend, DnsKey, Error, KeyScheme, Knot, KnotConfig, PowerDns,
    PowerDnsConfig, SignatureTiming, Signing, Ttls, ZoneSpec,
};

/// Public keys made by PowerDNS for these tests (never used to sign): the foreign ZSK each
/// zone publishes for "the other operator".
fn foreign_zsk(algorithm: Algorithm) -> DnsKey {
    let text = match algorithm {
        Algorithm::RsaSha256 => {
            "256 3 8 AwEAAcmey5dRw0TO40OSi8hU9o3RR4njqoLbhGAr6U5ztG236pSDagKJZvaRjR+aA0O2ob5NOliq4vA90T9TfXKq5FtwChj0zqknpbEpETXXqpPFM/nHRTkGLrGQdKHl29/aAq9WEDY2CJe6Be8iRRfrJ9ErxZVo/3pszveASQ9htM4d"
        }
        Algorithm::EcdsaP256Sha256 => {
            "256 3 13 YSZJK+tor8oAeqm5GHRQiAwMEyFUlmJhRad1rsjvBdvnxWILCA4QG5HJz1xVm/baCMnSqoUSOjCoqS4iwUH/ag=="
        }
        Algorithm::Ed25519 => "256 3 15 MuSa1SoR87GBhmEtS0POwuxmHvHVNnZ4mf3Rl9fYbZs=",
        _ => panic!("no fixture for {algorithm}"),
    };
    DnsKey::parse(text).unwrap()
}

/// What `delv` says about `name type`, with `ksk` as the zone's trust anchor.
async fn delv(
    server: &dyn DnsBackend,
    dir: &Path,
    zone: &str,
    ksk: &DnsKey,
    name: &str,
    rtype: &str,
) -> String {
    let anchors = dir.join(format!("anchors-{zone}.conf"));
    std::fs::write(
        &anchors,
        format!(
            "trust-anchors {{ \"{zone}.\" static-key {} {} {} \"{}\"; }};\n",
            ksk.flags,
            ksk.protocol,
            ksk.algorithm,
            ksk.public_key_base64()
        ),
    )
    .unwrap();
    let addr = server.addr();
    let out = tokio::process::Command::new("delv")
        .arg("-a")
        .arg(&anchors)
        .arg(format!("+root={zone}"))
        .arg(format!("@{}", addr.ip()))
        .arg("-p")
        .arg(addr.port().to_string())
        .arg(name)
        .arg(rtype)
        .output()
        .await
        .expect("delv (bind9-dnsutils) runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_secure(out: &str, what: &str) {
    assert!(
        out.contains("; fully validated") && !out.contains("resolution failed"),
        "{what}: not validated:\n{out}"
    );
}

fn assert_secure_negative(out: &str, what: &str) {
    assert!(
        out.contains("; negative response, fully validated"),
        "{what}: no validated denial:\n{out}"
    );
}

fn no_spaces(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The denial a server gives for a name that does not exist, checked against what was asked.
async fn check_denial(server: &dyn DnsBackend, zone: &str, denial: Denial) {
    let m = query(
        server.addr(),
        &format!("nx.{zone}"),
        RecordType::A,
        Transport::Udp,
    )
    .await
    .unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    let mut nsec = 0;
    let mut nsec3_flags = Vec::new();
    for r in &m.authorities {
        match &r.data {
            RData::DNSSEC(DNSSECRData::NSEC(_)) => nsec += 1,
            RData::DNSSEC(DNSSECRData::NSEC3(n)) => {
                assert_eq!(n.iterations(), 0, "RFC 9276: no extra iterations");
                assert!(n.salt().is_empty(), "RFC 9276: no salt");
                nsec3_flags.push(n.opt_out());
            }
            _ => {}
        }
    }
    match denial {
        Denial::Nsec => assert!(nsec > 0 && nsec3_flags.is_empty(), "{m:?}"),
        Denial::Nsec3 { opt_out } => {
            assert!(nsec == 0 && !nsec3_flags.is_empty(), "{m:?}");
            assert!(
                nsec3_flags.iter().all(|f| *f == opt_out),
                "opt-out {opt_out}: {nsec3_flags:?}"
            );
        }
    }
}

/// One signed zone's whole life on `server`.
async fn lifecycle(server: &dyn DnsBackend, dir: &Path, zone: &str, signing: Signing) {
    let ttls = Ttls {
        soa: 60,
        soa_minimum: 30,
        dnskey: 120,
        ns: 90,
        data: 45,
    };
    let spec = ZoneSpec::new(
        zone,
        &["ns1.operator-a.example", "ns2.operator-a.example"],
        &[
            "www 300 A 192.0.2.10",
            "@ MX 10 mail",
            "mail A 192.0.2.25",
            "txt TXT \"two  words\"",
            // An insecure delegation: what NSEC3 opt-out skips.
            "sub NS ns.elsewhere.example.",
        ],
    )
    .with_ttls(ttls)
    .signed(signing);
    let what = format!("{} {zone} {signing:?}", server.capabilities().software);

    // Created and signed, with its own keys by role.
    let created = server
        .create_zone(&spec)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let keys = server.own_keys(zone).await.unwrap();
    assert_eq!(keys.ksks.len(), 1, "{what}: {keys:?}");
    assert_eq!(keys.zone_signing.len(), 1, "{what}: {keys:?}");
    let ksk = keys.ksks[0].clone();
    assert_eq!(ksk.flags, 257);
    match signing.keys {
        KeyScheme::Csk => assert_eq!(keys.ksks, keys.zone_signing, "{what}"),
        KeyScheme::KskZsk => assert_eq!(keys.zone_signing[0].flags, 256, "{what}"),
    }
    for k in keys.all() {
        assert_eq!(k.algorithm, signing.algorithm.number(), "{what}");
    }
    assert_eq!(created.dnskeys, keys.all(), "{what}");
    assert!(created.dnskey_signers.contains(&ksk.key_tag()), "{what}");
    let effective = server.capabilities().effective_ttls(&ttls);
    assert_eq!(created.dnskey_ttl, effective.dnskey, "{what}");
    check_denial(server, zone, signing.denial).await;
    assert_secure(
        &delv(server, dir, zone, &ksk, &format!("www.{zone}"), "A").await,
        &what,
    );

    // A foreign ZSK: served in the DNSKEY set, which the zone's KSK signs.
    let foreign = foreign_zsk(signing.algorithm);
    let with = server
        .add_foreign_key(zone, &foreign)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(with.dnskeys.contains(&foreign), "{what}");
    assert!(with.dnskey_signers.contains(&ksk.key_tag()), "{what}");
    assert_eq!(with.dnskey_ttl, effective.dnskey, "{what}: foreign key TTL");
    assert_eq!(
        server.foreign_keys(zone).await.unwrap(),
        vec![foreign.clone()]
    );
    // Adding it again changes nothing.
    let again = server.add_foreign_key(zone, &foreign).await.unwrap();
    assert_eq!(again.dnskeys, with.dnskeys);
    let out = delv(server, dir, zone, &ksk, zone, "DNSKEY").await;
    assert_secure(&out, &what);
    assert!(
        no_spaces(&out).contains(&foreign.public_key_base64()),
        "{what}: {out}"
    );
    assert_secure(
        &delv(server, dir, zone, &ksk, &format!("mail.{zone}"), "A").await,
        &what,
    );
    assert_secure_negative(
        &delv(server, dir, zone, &ksk, &format!("nx.{zone}"), "A").await,
        &what,
    );

    // Removed again.
    let without = server
        .remove_foreign_key(zone, &foreign)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(!without.dnskeys.contains(&foreign), "{what}");
    assert_eq!(without.dnskeys, keys.all(), "{what}");
    let out = delv(server, dir, zone, &ksk, zone, "DNSKEY").await;
    assert_secure(&out, &what);
    assert!(
        !no_spaces(&out).contains(&foreign.public_key_base64()),
        "{what}: {out}"
    );
    assert!(matches!(
        server.remove_foreign_key(zone, &foreign).await,
        Err(Error::Invalid { .. })
    ));

    // Records replaced: served at once, still secure; what went is denied securely.
    let replaced = server
        .replace_records(
            zone,
            &[
                "www 300 A 192.0.2.20".into(),
                "new AAAA 2001:db8::1".into(),
                // Changed, and with spaces kept inside the quotes.
                "txt TXT \"three  little words\"".into(),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(serial_newer(replaced.serial, without.serial), "{what}");
    let out = delv(server, dir, zone, &ksk, &format!("www.{zone}"), "A").await;
    assert_secure(&out, &what);
    assert!(out.contains("192.0.2.20"), "{what}: {out}");
    assert_secure(
        &delv(server, dir, zone, &ksk, &format!("new.{zone}"), "AAAA").await,
        &what,
    );
    let out = delv(server, dir, zone, &ksk, &format!("txt.{zone}"), "TXT").await;
    assert_secure(&out, &what);
    assert!(out.contains("\"three  little words\""), "{what}: {out}");
    assert_secure_negative(
        &delv(server, dir, zone, &ksk, &format!("mail.{zone}"), "A").await,
        &what,
    );

    // NS replaced.
    let moved = server
        .set_ns(zone, &["ns1.operator-b.example".into()])
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(serial_newer(moved.serial, replaced.serial), "{what}");
    let out = delv(server, dir, zone, &ksk, zone, "NS").await;
    assert_secure(&out, &what);
    assert!(out.contains("ns1.operator-b.example."), "{what}: {out}");

    // Removed: refused.
    server
        .remove_zone(zone)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let m = query(server.addr(), zone, RecordType::SOA, Transport::Udp)
        .await
        .unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::Refused, "{what}");
    assert!(matches!(server.own_keys(zone).await, Err(Error::NoZone(_))));
}

/// Every key scheme and denial for one algorithm, one zone each, on one server.
fn combinations(algorithm: Algorithm) -> Vec<Signing> {
    let mut all = Vec::new();
    for keys in [KeyScheme::KskZsk, KeyScheme::Csk] {
        for denial in [
            Denial::Nsec,
            Denial::Nsec3 { opt_out: false },
            Denial::Nsec3 { opt_out: true },
        ] {
            all.push(Signing {
                algorithm,
                keys,
                denial,
                timing: SignatureTiming::default(),
            });
        }
    }
    all
}

async fn run_all(
    server: &dyn DnsBackend,
    dir: &Path,
    algorithm: Algorithm,
    signings: Vec<Signing>,
) {
    for (i, signing) in signings.into_iter().enumerate() {
        let zone = format!("z{i}-a{}.example", algorithm.number());
        lifecycle(server, dir, &zone, signing).await;
    }
    assert!(server.zones().await.is_empty());
}

/// Stops the server and checks its process is gone.
async fn stop_and_check(server: &dyn DnsBackend, pid: u32) {
    server.stop().await.unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "process {pid} still there"
    );
    // Stopping twice is harmless.
    server.stop().await.unwrap();
}

async fn pdns_matrix(algorithm: Algorithm, signings: Vec<Signing>) {
    let server = PowerDns::start().await.unwrap();
    let scratch = tempfile::tempdir().unwrap();
    run_all(&server, scratch.path(), algorithm, signings).await;
    stop_and_check(&server, server.pid()).await;
}

async fn knot_matrix(algorithm: Algorithm, signings: Vec<Signing>) {
    let server = Knot::start().await.unwrap();
    let scratch = tempfile::tempdir().unwrap();
    run_all(&server, scratch.path(), algorithm, signings).await;
    stop_and_check(&server, server.pid()).await;
}

/// RSA: one KSK+ZSK zone with NSEC3 and one CSK zone with NSEC (key generation is slow).
fn rsa_combinations() -> Vec<Signing> {
    let mut a = Signing::new(Algorithm::RsaSha256);
    a.denial = Denial::Nsec3 { opt_out: true };
    let mut b = Signing::new(Algorithm::RsaSha256);
    b.keys = KeyScheme::Csk;
    vec![a, b]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdns_ecdsa_p256() {
    pdns_matrix(
        Algorithm::EcdsaP256Sha256,
        combinations(Algorithm::EcdsaP256Sha256),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdns_ed25519() {
    pdns_matrix(Algorithm::Ed25519, combinations(Algorithm::Ed25519)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdns_rsasha256() {
    pdns_matrix(Algorithm::RsaSha256, rsa_combinations()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knot_ecdsa_p256() {
    knot_matrix(
        Algorithm::EcdsaP256Sha256,
        combinations(Algorithm::EcdsaP256Sha256),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knot_ed25519() {
    knot_matrix(Algorithm::Ed25519, combinations(Algorithm::Ed25519)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knot_rsasha256() {
    knot_matrix(Algorithm::RsaSha256, rsa_combinations()).await;
}

/// Unsigned zones: served, records replaced, no keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_zones_on_both() {
    let pdns = PowerDns::start().await.unwrap();
    let knot = Knot::start().await.unwrap();
    for server in [&pdns as &dyn DnsBackend, &knot] {
        let spec = ZoneSpec::new("plain.example", &["ns1.op.example"], &["www A 192.0.2.1"]);
        let st = server.create_zone(&spec).await.unwrap();
        assert!(st.dnskeys.is_empty());
        assert!(
            server
                .own_keys("plain.example.")
                .await
                .unwrap()
                .all()
                .is_empty()
        );
        assert!(matches!(
            server.create_zone(&spec).await,
            Err(Error::ZoneExists(_))
        ));
        let key = foreign_zsk(Algorithm::Ed25519);
        assert!(matches!(
            server.add_foreign_key("plain.example", &key).await,
            Err(Error::Invalid { .. })
        ));
        let after = server
            .replace_records("PLAIN.example.", &["www A 192.0.2.2".into()])
            .await
            .unwrap();
        assert!(serial_newer(after.serial, st.serial));
        let m = query(
            server.addr(),
            "www.plain.example",
            RecordType::A,
            Transport::Tcp,
        )
        .await
        .unwrap();
        assert!(format!("{m:?}").contains("192.0.2.2"), "{m:?}");
        server.remove_zone("plain.example").await.unwrap();
    }
    let (pdns_pid, knot_pid) = (pdns.pid(), knot.pid());
    stop_and_check(&pdns, pdns_pid).await;
    stop_and_check(&knot, knot_pid).await;
}

/// Several servers of each kind start at once, each on its own ports; dropping one kills it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_start_in_parallel_and_die_with_their_handle() {
    let started = Instant::now();
    let mut pdns = Vec::new();
    let mut knot = Vec::new();
    for _ in 0..3 {
        pdns.push(tokio::spawn(PowerDns::start()));
        knot.push(tokio::spawn(Knot::start()));
    }
    let mut servers: Vec<Box<dyn DnsBackend>> = Vec::new();
    let mut pids = Vec::new();
    for h in pdns {
        let s = h.await.unwrap().unwrap();
        pids.push(s.pid());
        servers.push(Box::new(s));
    }
    for h in knot {
        let s = h.await.unwrap().unwrap();
        pids.push(s.pid());
        servers.push(Box::new(s));
    }
    eprintln!("6 servers started in parallel in {:?}", started.elapsed());
    let mut addrs: Vec<_> = servers.iter().map(|s| s.addr()).collect();
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 6);
    drop(servers);
    for pid in pids {
        let gone = wait_gone(pid).await;
        assert!(gone, "process {pid} survived its handle");
    }
}

/// Whether the process is gone or a zombie (killed, not yet reaped) within two seconds.
async fn wait_gone(pid: u32) -> bool {
    for _ in 0..100 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat) if stat.split_whitespace().nth(2) == Some("Z") => return true,
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    false
}

/// Start-up time of one server of each kind, alone (printed; see `--nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_time() {
    let t = Instant::now();
    let pdns = PowerDns::start().await.unwrap();
    let pdns_time = t.elapsed();
    let t = Instant::now();
    let knot = Knot::start().await.unwrap();
    let knot_time = t.elapsed();
    eprintln!("start-up: PowerDNS {pdns_time:?}, Knot {knot_time:?}");
    pdns.stop().await.unwrap();
    knot.stop().await.unwrap();
}

#[tokio::test]
async fn missing_programs_name_their_package() {
    let hidden = Some(std::ffi::OsString::from("/nonexistent"));
    let e = PowerDns::start_with(PowerDnsConfig {
        search_path: hidden.clone(),
        ..PowerDnsConfig::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(&e, Error::MissingBinary { binary, package: "pdns-server" } if binary == "pdns_server"),
        "{e}"
    );
    let e = PowerDns::start_with(PowerDnsConfig {
        pdns_server: "/usr/sbin/pdns_server".into(),
        search_path: hidden.clone(),
        ..PowerDnsConfig::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::MissingBinary {
                package: "sqlite3",
                ..
            }
        ),
        "{e}"
    );
    let e = PowerDns::start_with(PowerDnsConfig {
        schema: "/nonexistent/schema.sql".into(),
        ..PowerDnsConfig::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::MissingFile {
                package: "pdns-backend-sqlite3",
                ..
            }
        ),
        "{e}"
    );
    let e = Knot::start_with(KnotConfig {
        search_path: hidden,
        ..KnotConfig::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::MissingBinary {
                package: "knot",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains("install the Debian package knot"),
        "{e}"
    );
}

/// A "server" that exits at once is reported as such, not as a time-out.
#[tokio::test]
async fn a_server_that_exits_is_reported_with_its_log() {
    let e = Knot::start_with(KnotConfig {
        knotd: "/bin/false".into(),
        ..KnotConfig::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Exited { .. }), "{e}");
}

/// Invalid input is refused before anything reaches the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_zone_specs_are_refused() {
    let knot = Knot::start().await.unwrap();
    let bad_record = ZoneSpec::new("bad.example", &["ns1.op.example"], &["@ NS ns9.example."]);
    assert!(matches!(
        knot.create_zone(&bad_record).await,
        Err(Error::Invalid { .. })
    ));
    let no_ns = ZoneSpec::new("bad.example", &[], &[]);
    assert!(matches!(
        knot.create_zone(&no_ns).await,
        Err(Error::Invalid { .. })
    ));
    assert!(knot.zones().await.is_empty());
    knot.stop().await.unwrap();
}

/// The TTLs each software really serves, and its signature windows (documented in the
/// crate: PowerDNS's DNSKEY and NSEC3PARAM TTL is the SOA MINIMUM; its RRSIGs run from a
/// Thursday for three weeks; Knot's run from 90 minutes ago for `rrsig-lifetime`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_ttls_and_signature_windows() {
    let pdns = PowerDns::start().await.unwrap();
    let knot = Knot::start().await.unwrap();
    let ttls = Ttls {
        soa: 10,
        soa_minimum: 30,
        dnskey: 50,
        ns: 40,
        data: 20,
    };
    let lifetime = 1200;
    for server in [&pdns as &dyn DnsBackend, &knot] {
        let is_pdns = server.capabilities().dnskey_ttl == real_dns::DnskeyTtlSource::SoaMinimum;
        let mut signing = Signing::new(Algorithm::EcdsaP256Sha256);
        signing.denial = Denial::Nsec3 { opt_out: false };
        signing.timing = SignatureTiming {
            lifetime: Duration::from_secs(lifetime),
            refresh: Duration::from_secs(600),
        };
        let spec = ZoneSpec::new("ttl.example", &["ns1.op.example"], &["www A 192.0.2.1"])
            .with_ttls(ttls)
            .signed(signing);
        server.create_zone(&spec).await.unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let negative = ttls.soa.min(ttls.soa_minimum);
        let expected: [(&str, RecordType, RecordType, u32); 7] = [
            ("ttl.example", RecordType::SOA, RecordType::SOA, ttls.soa),
            ("ttl.example", RecordType::NS, RecordType::NS, ttls.ns),
            ("www.ttl.example", RecordType::A, RecordType::A, ttls.data),
            (
                "ttl.example",
                RecordType::DNSKEY,
                RecordType::DNSKEY,
                if is_pdns {
                    ttls.soa_minimum
                } else {
                    ttls.dnskey
                },
            ),
            (
                "ttl.example",
                RecordType::NSEC3PARAM,
                RecordType::NSEC3PARAM,
                if is_pdns { ttls.soa_minimum } else { negative },
            ),
            ("nx.ttl.example", RecordType::A, RecordType::SOA, negative),
            ("nx.ttl.example", RecordType::A, RecordType::NSEC3, negative),
        ];
        for (name, qtype, rtype, ttl) in expected {
            let m = query(server.addr(), name, qtype, Transport::Udp)
                .await
                .unwrap();
            let rrs: Vec<_> = m
                .answers
                .iter()
                .chain(m.authorities.iter())
                .filter(|r| r.record_type() == rtype)
                .collect();
            assert!(!rrs.is_empty(), "{name} {qtype}: no {rtype}");
            for r in rrs {
                assert_eq!(
                    r.ttl,
                    ttl,
                    "{} {name} {rtype}",
                    server.capabilities().software
                );
            }
            for r in m.answers.iter().chain(m.authorities.iter()) {
                let RData::DNSSEC(DNSSECRData::RRSIG(sig)) = &r.data else {
                    continue;
                };
                let inception = u64::from(sig.input().sig_inception.get());
                let expiration = u64::from(sig.input().sig_expiration.get());
                if is_pdns {
                    // Thursday 00:00 UTC (the epoch was a Thursday), three weeks.
                    assert_eq!(inception % (7 * 86_400), 0, "PowerDNS inception");
                    assert_eq!(expiration - inception, 21 * 86_400, "PowerDNS window");
                } else {
                    assert!(now.abs_diff(inception + 5400) <= 60, "Knot inception");
                    assert!(now.abs_diff(expiration - lifetime) <= 60, "Knot expiration");
                }
            }
        }
        server.remove_zone("ttl.example").await.unwrap();
    }
}

/// A zone removed and created again starts afresh: new keys, no foreign keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_zone_gets_new_keys() {
    let pdns = PowerDns::start().await.unwrap();
    let knot = Knot::start().await.unwrap();
    for server in [&pdns as &dyn DnsBackend, &knot] {
        let spec = ZoneSpec::new("again.example", &["ns1.op.example"], &["www A 192.0.2.1"])
            .signed(Signing::new(Algorithm::Ed25519));
        server.create_zone(&spec).await.unwrap();
        let first = server.own_keys("again.example").await.unwrap();
        server
            .add_foreign_key("again.example", &foreign_zsk(Algorithm::Ed25519))
            .await
            .unwrap();
        server.remove_zone("again.example").await.unwrap();
        let st = server.create_zone(&spec).await.unwrap();
        let second = server.own_keys("again.example").await.unwrap();
        assert!(first.all().iter().all(|k| !second.all().contains(k)));
        assert_eq!(st.dnskeys, second.all());
        assert!(
            server
                .foreign_keys("again.example")
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// A foreign key of another algorithm is published, but the DNSKEY set is signed only with
/// the zone's own algorithm (what RFC 8901 §4 warns about: strict validators may refuse).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_key_of_another_algorithm_is_published() {
    let pdns = PowerDns::start().await.unwrap();
    let knot = Knot::start().await.unwrap();
    for server in [&pdns as &dyn DnsBackend, &knot] {
        let spec = ZoneSpec::new("mix.example", &["ns1.op.example"], &["www A 192.0.2.1"])
            .signed(Signing::new(Algorithm::EcdsaP256Sha256));
        server.create_zone(&spec).await.unwrap();
        let ksk = server.own_keys("mix.example").await.unwrap().ksks[0].clone();
        let other = foreign_zsk(Algorithm::Ed25519);
        let st = server.add_foreign_key("mix.example", &other).await.unwrap();
        assert!(st.dnskeys.contains(&other));
        assert_eq!(st.dnskey_signers, vec![ksk.key_tag()]);
    }
}
