//! `harness lookup` and delv agree on the mock registry's served TLD (issue 5, "must show"): a
//! domain created with keyData over EPP gets a DS in the published TLD that both call secure;
//! the same DS served from a tampered TLD (a forged TLD signed with keys the root does not
//! vouch for, or the TLD with signatures that expired) is bogus for both, and `harness lookup`
//! says why.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use clock::{Clock, VirtualClock};
use dnssec::{
    DnsServer, DnsServerConfig, Faults, KeyAlgorithm, SigningFaults, SigningPolicy, fixture_keys,
};
use jiff::{SignedDuration, Timestamp};
use mock_registry::client::EppClient;
use mock_registry::pki::Pki;
use mock_registry::testing::commands::{self, created_contact_id};
use mock_registry::testing::registry_with_epp;
use mock_registry::{PublishConfig, PublishKeys, Publisher, key_data_for};

/// The registry's virtual time: far from the real date, so signatures are valid for delv
/// (which reads the wall clock) only through `also_valid_at`.
fn virtual_now() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

/// A publisher for `nl` with `keys`, signing also for the wall clock's now (real validators
/// read it), or with `window` instead (a fault).
fn publisher(keys: PublishKeys, window: Option<(Timestamp, Timestamp)>) -> Publisher {
    let mut config = PublishConfig::new("nl").unwrap();
    config.signing = SigningPolicy {
        also_valid_at: vec![Timestamp::now()],
        faults: SigningFaults {
            window,
            ..SigningFaults::default()
        },
        ..SigningPolicy::default()
    };
    Publisher::new(config, keys, virtual_now()).unwrap()
}

/// `harness lookup NAME DS` through `server`: (exit code, output).
fn lookup(server: std::net::SocketAddr, anchor: &Path, name: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "lookup",
            name,
            "DS",
            "--server",
            &server.to_string(),
            "--anchor",
        ])
        .arg(anchor)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// `delv NAME DS` through `server`.
fn delv(server: std::net::SocketAddr, anchor_conf: &Path, name: &str) -> String {
    let out = Command::new("delv")
        .arg("-a")
        .arg(anchor_conf)
        .arg(format!("@{}", server.ip()))
        .args(["-p", &server.port().to_string(), name, "DS"])
        .output()
        .unwrap_or_else(|e| {
            panic!("delv is needed for this test ({e}); install bind9-dnsutils or run ci/test")
        });
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Both tools on `example.nl DS`, off the runtime (the server runs on it).
async fn both(server: std::net::SocketAddr, dir: &Path) -> ((Option<i32>, String), String) {
    let (key, conf) = (dir.join("root.key"), dir.join("trust-anchors.conf"));
    tokio::task::spawn_blocking(move || {
        (
            lookup(server, &key, "example.nl"),
            delv(server, &conf, "example.nl"),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_lookup_and_delv_agree_on_a_published_ds_and_on_a_tampered_one() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::init(dir.path(), &["registrar-a"]).unwrap();
    let clock = VirtualClock::new(virtual_now());
    let (registry, epp) = registry_with_epp(&pki, &["registrar-a"], &clock).await;
    let creds = pki.registrar("registrar-a").unwrap();
    let keys = PublishKeys::fixtures(KeyAlgorithm::EcdsaP256Sha256);
    let mut published = publisher(keys, None);
    published
        .trust_anchor()
        .unwrap()
        .write_files(dir.path())
        .unwrap();
    let dns = DnsServer::start(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(clock.clone()),
        DnsServerConfig::default(),
    )
    .await
    .unwrap();

    // A registrar creates a signed domain over EPP; the registry publishes its DS.
    let tls = Arc::new(mock_registry::tls::client_config(&pki, "registrar-a").unwrap());
    let mut client = EppClient::connect(epp.local_addr(), tls, Duration::from_secs(10))
        .await
        .unwrap();
    let login = client
        .login("registrar-a", creds.password().expose())
        .await
        .unwrap();
    assert!(login.code().is_success(), "{login:?}");
    let (kind, ext) = commands::contact_create();
    let contact = created_contact_id(&client.command(kind, ext).await.unwrap()).unwrap();
    let (kind, ext) = commands::host_create("ns1.hoster.net", &[]);
    assert!(client.command(kind, ext).await.unwrap().code().is_success());
    let ksk = fixture_keys::key(KeyAlgorithm::Ed25519, 0).dnskey(257);
    let (kind, ext) = commands::domain_create(
        "example.nl",
        &contact,
        &["ns1.hoster.net"],
        vec![key_data_for(&ksk)],
    );
    let r = client.command(kind, ext).await.unwrap();
    assert!(r.code().is_success(), "{r:?}");
    let now = clock.now();
    published.observe(&registry.lock().unwrap(), now);
    published.tick(now).unwrap();
    for zone in published.zones() {
        dns.set_zone(zone);
    }
    let server = dns.local_addr();
    let tag = mock_registry::registry::keys::ds_for("example.nl", &key_data_for(&ksk))
        .unwrap()
        .key_tag()
        .to_string();

    // Secure: harness lookup exits 0, delv fully validates the same DS.
    let ((code, out), delv_out) = both(server, dir.path()).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("verdict   secure (RFC 6840, lenient)"),
        "{out}"
    );
    assert!(out.contains(&format!("DS{{{tag}/15}}")), "{out}");
    assert!(delv_out.contains("; fully validated"), "{delv_out}");
    assert!(delv_out.contains(&format!("DS\t{tag} 15 2")), "{delv_out}");

    // Tampered: the server answers for nl. from another snapshot with the same delegation.
    let expired = (
        virtual_now()
            .checked_sub(SignedDuration::from_hours(24 * 400))
            .unwrap(),
        virtual_now()
            .checked_sub(SignedDuration::from_hours(24 * 370))
            .unwrap(),
    );
    for (what, keys, window, reason, delv_reason) in [
        (
            "a forged TLD, signed with keys the root has no DS for",
            PublishKeys::fixtures(KeyAlgorithm::Ed25519),
            None,
            "bogus (no-ds-matches-ksk at nl.",
            "validating nl/DNSKEY: no valid signature found (DS)",
        ),
        (
            "the TLD with signatures that expired a year ago",
            PublishKeys::fixtures(KeyAlgorithm::EcdsaP256Sha256),
            // Before both the virtual and the wall clock's now.
            Some(expired),
            "bogus (signature-expired at nl.",
            "validating nl/DNSKEY: verify failed due to bad signature (keyid=27920): RRSIG has expired",
        ),
    ] {
        let mut tampered = publisher(keys, window);
        tampered.observe(&registry.lock().unwrap(), now);
        tampered.tick(now).unwrap();
        dns.set_faults(Faults {
            substitutes: vec![tampered.tld()],
            ..Faults::default()
        });
        let ((code, out), delv_out) = both(server, dir.path()).await;
        assert_eq!(code, Some(1), "{what}:\n{out}");
        assert!(
            out.contains(&format!("verdict   {reason}")),
            "{what}:\n{out}"
        );
        assert!(
            delv_out.contains("resolution failed: broken trust chain")
                && delv_out.contains(delv_reason)
                && !delv_out.contains("fully validated"),
            "{what}: delv should fail too:\n{delv_out}"
        );
    }
}
