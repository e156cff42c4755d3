//! `mock-registry serve --dns`, run as the real binary: a domain created with keyData over EPP
//! is published after the delay and delv fully validates its DS from the written anchor.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clock::SystemClock;
use dnssec::{DnsServer, DnsServerConfig, KeyAlgorithm, Zone, fixture_keys, query};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use mock_registry::client::EppClient;
use mock_registry::key_data_for;
use mock_registry::pki::Pki;
use mock_registry::testing::commands::{self, created_contact_id};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::{delv_at, name};

/// Starts `mock-registry serve --pki DIR --epp 127.0.0.1:0 --dns 127.0.0.1:0 [extra]` and
/// returns the child and its ready line.
async fn start_serve(dir: &std::path::Path, extra: &[&str]) -> (tokio::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-registry"))
        .args([
            "serve",
            "--pki",
            dir.to_str().unwrap(),
            "--epp",
            "127.0.0.1:0",
            "--dns",
            "127.0.0.1:0",
        ])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("a ready line within 30 s")
        .unwrap();
    let Some(ready) = ready else {
        let out = child.wait_with_output().await.unwrap();
        panic!(
            "serve exited without a ready line ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    };
    assert!(ready.starts_with("mock-registry ready "), "{ready}");
    (child, ready)
}

/// The domain's name server, on this process's system clock, and its example.nl zone with
/// the SOA and the NS (ns1.hoster.net), for a test to add its records, sign and serve.
async fn example_nl_server() -> (DnsServer, Zone, clock::SharedClock) {
    let clock: clock::SharedClock = Arc::new(SystemClock);
    let ns = DnsServer::start(
        "127.0.0.1:0".parse().unwrap(),
        clock.clone(),
        DnsServerConfig::default(),
    )
    .await
    .unwrap();
    let soa = hickory_proto::rr::rdata::SOA::new(
        name("ns1.hoster.net."),
        name("hostmaster.example.nl."),
        1,
        3600,
        900,
        1_209_600,
        300,
    );
    let mut zone = Zone::new(name("example.nl."), soa, 300).unwrap();
    zone.add_text("example.nl. 3600 NS ns1.hoster.net.")
        .unwrap();
    (ns, zone, clock)
}

/// The fields of `mock-registry ready epp=… dns=… anchor=…`.
fn field<'l>(line: &'l str, key: &str) -> &'l str {
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {line:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_publishes_an_epp_domain_that_delv_validates() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::init(dir.path(), &["registrar-a"]).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-registry"))
        .args([
            "serve",
            "--pki",
            dir.path().to_str().unwrap(),
            "--epp",
            "127.0.0.1:0",
            "--dns",
            "127.0.0.1:0",
            "--publish-delay",
            "1",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("a ready line within 30 s")
        .unwrap()
        .expect("a ready line");
    assert!(ready.starts_with("mock-registry ready "), "{ready}");
    let epp: std::net::SocketAddr = field(&ready, "epp=").parse().unwrap();
    let dns: std::net::SocketAddr = field(&ready, "dns=").parse().unwrap();
    let anchor = PathBuf::from(field(&ready, "anchor="));
    assert_eq!(anchor, dir.path().join("root.key"));
    let key_line = std::fs::read_to_string(&anchor).unwrap();
    assert!(
        key_line.starts_with(". 3600 IN DNSKEY 257 3 13 "),
        "{key_line}"
    );
    let bind_conf = dir.path().join("trust-anchors.conf");
    assert!(bind_conf.exists());

    // The TLD is there from the start, and validates.
    let conf = bind_conf.clone();
    let out = tokio::task::spawn_blocking(move || delv_at(&conf, dns, "nl", "DNSKEY"))
        .await
        .unwrap();
    assert!(out.contains("; fully validated"), "{out}");

    let creds = pki.registrar("registrar-a").unwrap();
    let tls = Arc::new(mock_registry::tls::client_config(&pki, "registrar-a").unwrap());
    let mut client = EppClient::connect(epp, tls, Duration::from_secs(10))
        .await
        .unwrap();
    let r = client
        .login("registrar-a", creds.password().expose())
        .await
        .unwrap();
    assert!(r.code().is_success(), "{r:?}");
    let (kind, ext) = commands::contact_create();
    let contact = created_contact_id(&client.command(kind, ext).await.unwrap()).unwrap();
    let (kind, ext) = commands::host_create("ns1.hoster.net", &[]);
    assert!(client.command(kind, ext).await.unwrap().code().is_success());
    let ksk = fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 0).dnskey(257);
    let (kind, ext) = commands::domain_create(
        "example.nl",
        &contact,
        &["ns1.hoster.net"],
        vec![key_data_for(&ksk)],
    );
    let sent = Instant::now();
    let r = client.command(kind, ext).await.unwrap();
    assert!(r.code().is_success(), "{r:?}");

    // Wait (real time: this is a real server on the system clock) for the DS to appear.
    let qname = name("example.nl.");
    let seen = loop {
        let m = query(dns, &qname, RecordType::DS, true, false)
            .await
            .unwrap();
        if m.metadata.response_code == ResponseCode::NoError && !m.answers.is_empty() {
            break sent.elapsed();
        }
        assert!(
            sent.elapsed() < Duration::from_secs(20),
            "the DS never appeared"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        seen >= Duration::from_secs(1),
        "published after {seen:?}, before the 1 s delay"
    );
    let out = tokio::task::spawn_blocking(move || delv_at(&bind_conf, dns, "example.nl", "DS"))
        .await
        .unwrap();
    assert!(out.contains("; fully validated"), "{out}");
    assert!(out.contains("IN\tDS\t"), "{out}");
    child.kill().await.unwrap();
}

/// `serve --dns` writes its trust anchor (root.key, root.ds, trust-anchors.conf) into the PKI
/// directory; neither the next `serve` on that directory nor `pki add-registrar` may mistake
/// those files for a registrar's (issue 11: `registrar root: …/root.pem is missing`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_restarts_on_the_same_pki_directory() {
    let dir = tempfile::tempdir().unwrap();
    Pki::init(dir.path(), &["registrar-a"]).unwrap();

    let (mut first, ready) = start_serve(dir.path(), &[]).await;
    let anchor = PathBuf::from(field(&ready, "anchor="));
    assert_eq!(anchor, dir.path().join("root.key"));
    first.kill().await.unwrap();

    let added = std::process::Command::new(env!("CARGO_BIN_EXE_mock-registry"))
        .args([
            "pki",
            "add-registrar",
            "--dir",
            dir.path().to_str().unwrap(),
            "--registrar",
            "registrar-b",
        ])
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "add-registrar after serve --dns: {}",
        String::from_utf8_lossy(&added.stderr)
    );

    // The second start overwrites the anchor with its fresh root key, and both registrars
    // (the one added in between too) can log in.
    let (mut second, ready) = start_serve(dir.path(), &[]).await;
    let epp: std::net::SocketAddr = field(&ready, "epp=").parse().unwrap();
    let pki = Pki::load(dir.path()).unwrap();
    for who in ["registrar-a", "registrar-b"] {
        let tls = Arc::new(mock_registry::tls::client_config(&pki, who).unwrap());
        let mut client = EppClient::connect(epp, tls, Duration::from_secs(10))
            .await
            .unwrap();
        let password = pki.registrar(who).unwrap().password().expose().to_string();
        let r = client.login(who, &password).await.unwrap();
        assert!(r.code().is_success(), "{who}: {r:?}");
    }
    second.kill().await.unwrap();
}

/// `serve --keyrelay-receipts --ns-addr HOST=ADDR`: the greeting offers the extension, and a
/// relay whose key the (only) name server serves validly signed yields a `published` receipt
/// on the system clock, probed every second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sends_key_relay_receipts() {
    use dnssec::{SigningPolicy, ZoneKey, ZoneSigner};
    use epp::keyrelay::{self, KeyRelayData};
    use epp::message::{CommandKind, Create, Poll, ResponseExtension};
    use epp::receipt::State;

    // The domain's name server, already serving the key.
    let (ns, zone, clock) = example_nl_server().await;
    let relayed = fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 2).dnskey(256);
    let keys = vec![
        ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 0)),
        ZoneKey::zsk(fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 1)),
        ZoneKey::foreign(relayed.clone()),
    ];
    let signed = ZoneSigner::new(keys, SigningPolicy::default())
        .unwrap()
        .sign(&zone, clock.now())
        .unwrap();
    ns.set_zone(Arc::new(signed));

    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::init(dir.path(), &["registrar-a", "registrar-b"]).unwrap();
    let ns_addr = format!("ns1.hoster.net={}", ns.local_addr());
    let (mut child, ready) = start_serve(
        dir.path(),
        &[
            "--keyrelay-receipts",
            "--receipt-probe-interval",
            "1",
            "--ns-addr",
            &ns_addr,
        ],
    )
    .await;
    let epp: std::net::SocketAddr = field(&ready, "epp=").parse().unwrap();
    let login = |who: &'static str| {
        let pki = &pki;
        async move {
            let tls = Arc::new(mock_registry::tls::client_config(pki, who).unwrap());
            let mut c = EppClient::connect(epp, tls, Duration::from_secs(10))
                .await
                .unwrap();
            let pw = pki.registrar(who).unwrap().password().expose().to_string();
            assert!(c.login(who, &pw).await.unwrap().code().is_success());
            c
        }
    };
    let mut a = login("registrar-a").await;
    let mut b = login("registrar-b").await;
    assert!(
        b.greeting()
            .ext_uris
            .iter()
            .any(|u| u == epp::uri::KEYRELAY_RECEIPT)
    );
    let (kind, ext) = commands::contact_create();
    let contact = created_contact_id(&a.command(kind, ext).await.unwrap()).unwrap();
    let (kind, ext) = commands::host_create("ns1.hoster.net", &[]);
    assert!(a.command(kind, ext).await.unwrap().code().is_success());
    let ksk = fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 0).dnskey(257);
    let (kind, ext) = commands::domain_create(
        "example.nl",
        &contact,
        &["ns1.hoster.net"],
        vec![key_data_for(&ksk)],
    );
    assert!(a.command(kind, ext).await.unwrap().code().is_success());
    let relay = CommandKind::Create(Create::KeyRelay(keyrelay::Create {
        name: "example.nl".into(),
        auth_info: epp::AuthInfo::password("transfer-token-1"),
        data: vec![KeyRelayData {
            key_data: key_data_for(&relayed),
            expiry: None,
        }],
    }));
    assert!(b.command(relay, vec![]).await.unwrap().code().is_success());

    // Real time: wait for the first probe (about a second), at most 30 s.
    let waited = Instant::now();
    let receipt = loop {
        let r = b
            .command(CommandKind::Poll(Poll::Req), vec![])
            .await
            .unwrap();
        if let [ResponseExtension::KeyRelayReceipt(x)] = r.extensions.as_slice() {
            break x.clone();
        }
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "no receipt: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(receipt.state, State::Published);
    assert_eq!(receipt.ns.len(), 1);
    child.kill().await.unwrap();
}

/// `serve --ds-automation se --ns-addr HOST=ADDR`: the greeting offers RFC 8590's change poll,
/// and a secure delegation whose name server serves a CDS (and CDNSKEY) for a next KSK,
/// signed by the current one, gets that DS at the first scan, on the system clock; the sponsor
/// is told in a change poll message that validates against the schemas. An unknown profile
/// is refused with the list of profiles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_updates_a_ds_from_the_childs_cds() {
    use dnssec::{RrSet, SigningPolicy, ZoneKey, ZoneSigner};
    use epp::message::{CommandKind, Frame, Poll, ResData, ResponseExtension};
    use hickory_proto::dnssec::rdata::DNSSECRData;
    use hickory_proto::rr::RData;

    let bad = Command::new(env!("CARGO_BIN_EXE_mock-registry"))
        .args(["serve", "--pki", "/nonexistent", "--ds-automation", "nl"])
        .output()
        .await
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("se, ch, fred, centralnic"), "{err}");

    let (ns, mut zone, clock) = example_nl_server().await;
    let origin = name("example.nl.");
    let current = ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 0));
    let next = ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 2));
    let cds = RData::DNSSEC(DNSSECRData::CDS(
        dnssec::keys::cds_from_dnskey(&origin, next.dnskey(), dnssec::DsDigest::Sha256).unwrap(),
    ));
    let cdnskey = RData::DNSSEC(DNSSECRData::CDNSKEY(dnssec::keys::cdnskey_from_dnskey(
        next.dnskey(),
    )));
    zone.set_rrset(RrSet::new(origin.clone(), 3600, [cds]).unwrap())
        .unwrap();
    zone.set_rrset(RrSet::new(origin.clone(), 3600, [cdnskey]).unwrap())
        .unwrap();
    let keys = vec![
        current.clone(),
        ZoneKey::zsk(fixture_keys::key(KeyAlgorithm::EcdsaP256Sha256, 1)),
        next.clone(),
    ];
    let signed = ZoneSigner::new(keys, SigningPolicy::default())
        .unwrap()
        .sign(&zone, clock.now())
        .unwrap();
    ns.set_zone(Arc::new(signed));

    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::init(dir.path(), &["registrar-a"]).unwrap();
    let ns_addr = format!("ns1.hoster.net={}", ns.local_addr());
    let (mut child, ready) = start_serve(
        dir.path(),
        &["--ds-automation", "se", "--ns-addr", &ns_addr],
    )
    .await;
    let epp: std::net::SocketAddr = field(&ready, "epp=").parse().unwrap();
    let tls = Arc::new(mock_registry::tls::client_config(&pki, "registrar-a").unwrap());
    let mut a = EppClient::connect(epp, tls, Duration::from_secs(10))
        .await
        .unwrap();
    let pw = pki
        .registrar("registrar-a")
        .unwrap()
        .password()
        .expose()
        .to_string();
    assert!(
        a.login("registrar-a", &pw)
            .await
            .unwrap()
            .code()
            .is_success()
    );
    assert!(
        a.greeting()
            .ext_uris
            .iter()
            .any(|u| u == epp::uri::CHANGE_POLL)
    );
    let (kind, ext) = commands::contact_create();
    let contact = created_contact_id(&a.command(kind, ext).await.unwrap()).unwrap();
    let (kind, ext) = commands::host_create("ns1.hoster.net", &[]);
    assert!(a.command(kind, ext).await.unwrap().code().is_success());
    let (kind, ext) = commands::domain_create(
        "example.nl",
        &contact,
        &["ns1.hoster.net"],
        vec![key_data_for(current.dnskey())],
    );
    assert!(a.command(kind, ext).await.unwrap().code().is_success());

    // Real time: the first scan comes at the next publication round, at most 30 s.
    let waited = Instant::now();
    let r = loop {
        let r = a
            .command(CommandKind::Poll(Poll::Req), vec![])
            .await
            .unwrap();
        if r.code().code() == 1301 {
            break r;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "no change poll message: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        r.extensions
            .iter()
            .any(|x| matches!(x, ResponseExtension::ChangePoll(_))),
        "{r:?}"
    );
    let Some(ResData::DomainInfo(info)) = &r.res_data else {
        panic!("no domain:infData: {r:?}")
    };
    assert_eq!(info.name, "example.nl");
    assert!(r.extensions.iter().any(|x| matches!(
        x,
        ResponseExtension::SecDnsInfo(s)
            if matches!(&s.data, epp::secdns::DsOrKey::Key(k) if *k == vec![key_data_for(next.dnskey())])
    )));
    let xml = Frame::Response(Box::new(r)).to_xml();
    let bad = mock_registry::testing::xmllint_failures(
        &[("change poll".into(), xml)],
        mock_registry::testing::Schema::Strict,
    );
    assert!(bad.is_empty(), "{bad:?}");
    child.kill().await.unwrap();
}

/// `serve --signal-root` needs its anchor, and an anchor file that holds no root DS or DNSKEY
/// is refused with the file named, before anything is served.
#[test]
fn serve_checks_the_signal_root_and_its_anchor() {
    let dir = tempfile::tempdir().unwrap();
    Pki::init(dir.path(), &["registrar-a"]).unwrap();
    let serve = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mock-registry"))
            .args(["serve", "--pki", dir.path().to_str().unwrap()])
            .args(["--epp", "127.0.0.1:0", "--ds-automation", "ch"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = serve(&["--signal-root", "127.0.0.1:53"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--signal-anchor"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let anchor = dir.path().join("not-an-anchor");
    std::fs::write(&anchor, "example. 3600 IN DS 1 13 2 00\n").unwrap();
    let out = serve(&[
        "--signal-root",
        "127.0.0.1:53",
        "--signal-anchor",
        anchor.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--signal-anchor") && err.contains("owner must be"),
        "{err}"
    );
}
