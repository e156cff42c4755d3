//! RFC 9615 in a world (loopback addressing): the name servers' zones are signed and securely
//! delegated, the built-in operator's signals validate for the registry's scanner, which
//! bootstraps the DS at its first scan, and for unbound-host following the same delegations
//! with the world's root anchor.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::process::Command;
use std::sync::Arc;

use harness::scenario;
use harness::world::{ClockMode, World};
use hickory_proto::rr::Name;
use mock_registry::registry::automation::Decision;
use mock_registry::signals::{LookupOptions, SignalRoot, lookup};

const SIGNAL: &str = "_dsboot.example.nl._signal.ns1.operator-a.example.";

/// unbound-host through stub zones at the world's servers (root, `example.`, the
/// operator's), with the world's root anchor file.
fn unbound_host(
    anchor: &std::path::Path,
    stubs: &[(&str, std::net::SocketAddr)],
    dir: &std::path::Path,
    qname: &str,
    qtype: &str,
) -> String {
    let mut conf = format!(
        "server:\n  do-not-query-localhost: no\n  trust-anchor-file: \"{}\"\n  chroot: \"\"\n  \
         username: \"\"\n  use-syslog: no\n  verbosity: 0\n  val-log-level: 2\n",
        anchor.display()
    );
    for (zone, addr) in stubs {
        conf.push_str(&format!(
            "stub-zone:\n  name: \"{zone}\"\n  stub-addr: {}@{}\n",
            addr.ip(),
            addr.port()
        ));
    }
    let path = dir.join("unbound.conf");
    std::fs::write(&path, conf).unwrap();
    let out = Command::new("unbound-host")
        .args(["-C", path.to_str().unwrap(), "-v", "-t", qtype, qname])
        .output()
        .unwrap_or_else(|e| {
            panic!("unbound-host is needed ({e}); install unbound-host or run ci/test")
        });
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worlds_signals_validate_for_the_scanner_and_for_unbound() {
    let s = scenario::library::load("ds-automation-bootstrap-ch-signals.toml").unwrap();
    let mut world = World::build(Arc::new(s), ClockMode::Virtual).await.unwrap();
    let hosts = {
        let mut op = world.operators[0].lock().await;
        op.set_signed("example.nl", true).await.unwrap();
        let ksk = [op.ksk_key_data("example.nl").await.unwrap()];
        op.set_cds("example.nl", Some(&ksk), Some(&ksk))
            .await
            .unwrap();
        let hosts = op.ns_names().to_vec();
        op.set_signals("example.nl", &hosts, Some(&ksk), Some(&ksk))
            .await
            .unwrap();
        hosts
    };
    // The operator serves its signals; the scanner, at its first scan of the domain, finds them
    // valid under every name server and publishes the DS at once.
    world.publish().await.unwrap();
    {
        let reg = world.registry.lock().unwrap();
        let log = reg.automation_log();
        assert!(
            matches!(
                log.last().map(|e| &e.decision),
                Some(Decision::Updated { because, .. }) if because.contains("RFC 9615")
            ),
            "{log:?}"
        );
    }

    // The lookup itself, through the world's root and directory.
    let root = SignalRoot {
        servers: vec![world.parent.local_addr()],
        anchors: vec![world.anchor.ds.clone()],
    };
    let child: Name = "example.nl.".parse().unwrap();
    for host in &hosts {
        let host: Name = format!("{host}.").parse().unwrap();
        let sets = lookup(
            &child,
            &host,
            &root,
            &world.directory.hosts,
            &LookupOptions::default(),
            clock::Clock::now(&world.clock),
        )
        .await
        .unwrap();
        assert_eq!((sets.cds.len(), sets.cdnskey.len()), (1, 1), "{host}");
    }

    // unbound-host agrees, with the world's anchor, on the signal and on a name server's
    // address, each secure.
    let dir = tempfile::tempdir().unwrap();
    let anchor = world.anchor.write_files(dir.path()).unwrap().dnskey;
    let stubs = [
        (".", world.parent.local_addr()),
        (
            "example.",
            world.infra.as_ref().expect("signed").local_addr(),
        ),
        (
            "operator-a.example.",
            world.directory.hosts["ns1.operator-a.example"],
        ),
    ];
    let path = dir.path().to_path_buf();
    let (signal, address) = tokio::task::spawn_blocking(move || {
        (
            unbound_host(&anchor, &stubs, &path, SIGNAL, "CDS"),
            unbound_host(&anchor, &stubs, &path, "ns2.operator-a.example.", "A"),
        )
    })
    .await
    .unwrap();
    assert!(
        signal.contains("(secure)") && !signal.contains("BOGUS") && signal.contains("CDS"),
        "{signal}"
    );
    assert!(
        address.contains("(secure)") && !address.contains("BOGUS"),
        "{address}"
    );
    world.stop().await;
}

/// Without RFC 9615 in the scenario the name servers' zones are neither served nor signed:
/// no infra server in loopback mode, and an operator asked for signals says why it cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_rfc_9615_the_world_has_no_signalling_zones() {
    let s = scenario::library::load("ds-automation-bootstrap-se.toml").unwrap();
    let world = World::build(Arc::new(s), ClockMode::Virtual).await.unwrap();
    assert!(world.infra.is_none());
    let mut op = world.operators[0].lock().await;
    let hosts = op.ns_names().to_vec();
    let e = op
        .set_signals("example.nl", &hosts, None, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no zone of its own holds"), "{e}");
    drop(op);
    world.stop().await;
}
