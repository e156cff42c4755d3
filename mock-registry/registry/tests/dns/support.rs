//! A signed chain root → TLD → child on the project's own servers, and the real validators
//! (unbound-host, delv, drill) pointed at it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use clock::{SharedClock, VirtualClock};
use dnssec::{
    DnsServer, DnsServerConfig, Faults, KeyAlgorithm, SignedZone, SigningFaults, SigningPolicy,
    Zone, ZoneKey, ZoneSigner, fixture_keys,
};
use hickory_proto::rr::Name;
use jiff::Timestamp;
use mock_registry::registry::PublishedDelegation;
use mock_registry::{AnchorFiles, PublishConfig, PublishKeys, Publisher, key_data_for};
use tempfile::TempDir;

/// The scenario's (virtual) time: far from the real date on purpose, so tests prove that
/// signatures cover the wall clock through `also_valid_at` and not by accident.
pub(crate) fn virtual_now() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

pub(crate) fn clock() -> SharedClock {
    Arc::new(VirtualClock::new(virtual_now()))
}

/// The real time, which real validators check signatures against. Reading the wall clock is
/// right here: it is exactly what they do.
pub(crate) fn wall_now() -> Timestamp {
    Timestamp::now()
}

pub(crate) fn name(s: &str) -> Name {
    s.parse().unwrap()
}

/// The TLD of the test chain and the child below it.
pub(crate) const TLD: &str = "nl";
pub(crate) const CHILD: &str = "example.nl.";
/// A signed zone the TLD delegates without DS: validators must call it insecure, which proves
/// the TLD's NSEC3 proof that there is no DS.
pub(crate) const ISLAND: &str = "island.nl.";

/// One thing wrong with the chain, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breakage {
    /// A correct chain.
    None,
    /// The child's signatures expired (signed with a window in 2020).
    ExpiredSignatures,
    /// The TLD's DS for the child is of a key the child does not have.
    DsMismatch,
    /// The child's data is signed by a ZSK that is not in its DNSKEY RRset.
    ZskNotPublished,
    /// The child's server strips RRSIGs.
    StrippedSignatures,
    /// The child's server proves denials with the wrong NSEC.
    WrongDenial,
}

impl Breakage {
    pub(crate) const ALL_FAULTS: [Self; 5] = [
        Self::ExpiredSignatures,
        Self::DsMismatch,
        Self::ZskNotPublished,
        Self::StrippedSignatures,
        Self::WrongDenial,
    ];
}

/// The chain: root and TLD from a [`Publisher`], a child zone, each on its own server, and
/// one more server with all three zones (for delv and drill, which send every query to one
/// server).
pub(crate) struct Chain {
    pub(crate) _dir: TempDir,
    pub(crate) anchors: AnchorFiles,
    pub(crate) root: DnsServer,
    pub(crate) tld: DnsServer,
    pub(crate) child: DnsServer,
    pub(crate) all: DnsServer,
}

impl Chain {
    pub(crate) fn dir(&self) -> &Path {
        self._dir.path()
    }
}

/// The child zone's keys: Ed25519 (the root and TLD use ECDSA P-256, so the chain mixes
/// algorithms across zones, as the real one does).
fn child_keys(breakage: Breakage) -> Vec<ZoneKey> {
    let ksk = ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 0));
    let zsk = ZoneKey::zsk(fixture_keys::key(KeyAlgorithm::Ed25519, 1));
    match breakage {
        Breakage::ZskNotPublished => vec![ksk, zsk.with_published(false)],
        _ => vec![ksk, zsk],
    }
}

pub(crate) fn child_zone() -> Zone {
    let origin = name(CHILD);
    let soa = hickory_proto::rr::rdata::SOA::new(
        name("ns1.example.nl."),
        name("hostmaster.example.nl."),
        1,
        7200,
        3600,
        1_209_600,
        300,
    );
    let mut zone = Zone::new(origin, soa, 3600).unwrap();
    for line in [
        "example.nl. 3600 NS ns1.example.nl.",
        "ns1.example.nl. 3600 A 127.0.0.1",
        "www.example.nl. 300 A 192.0.2.80",
        "mail.example.nl. 300 A 192.0.2.25",
    ] {
        zone.add_text(line).unwrap();
    }
    zone
}

fn signing_policy() -> SigningPolicy {
    SigningPolicy {
        also_valid_at: vec![wall_now()],
        ..SigningPolicy::default()
    }
}

/// The child signed as `breakage` says (only signing faults matter here).
pub(crate) fn signed_child(breakage: Breakage) -> Arc<SignedZone> {
    let mut policy = signing_policy();
    policy.denial = dnssec::Denial::Nsec;
    if breakage == Breakage::ExpiredSignatures {
        policy.faults = SigningFaults {
            window: Some((
                "2020-01-01T00:00:00Z".parse().unwrap(),
                "2020-02-01T00:00:00Z".parse().unwrap(),
            )),
            ..SigningFaults::default()
        };
    }
    let signer = ZoneSigner::new(child_keys(breakage), policy).unwrap();
    Arc::new(signer.sign(&child_zone(), virtual_now()).unwrap())
}

/// A publisher for the test TLD with the ECDSA fixture keys, signatures valid now for real.
pub(crate) fn publisher() -> Publisher {
    let mut config = PublishConfig::new(TLD).unwrap();
    config.signing = signing_policy();
    Publisher::new(
        config,
        PublishKeys::fixtures(KeyAlgorithm::EcdsaP256Sha256),
        virtual_now(),
    )
    .unwrap()
}

/// The island: signed with its own CSK, delegated without DS.
pub(crate) fn signed_island() -> Arc<SignedZone> {
    let origin = name(ISLAND);
    let soa = hickory_proto::rr::rdata::SOA::new(
        name("ns1.island.nl."),
        name("hostmaster.island.nl."),
        1,
        7200,
        3600,
        1_209_600,
        300,
    );
    let mut zone = Zone::new(origin, soa, 3600).unwrap();
    for line in [
        "island.nl. 3600 NS ns1.island.nl.",
        "ns1.island.nl. 3600 A 127.0.0.1",
        "www.island.nl. 300 A 192.0.2.81",
    ] {
        zone.add_text(line).unwrap();
    }
    let keys = vec![ZoneKey::csk(fixture_keys::key(KeyAlgorithm::Ed25519, 3))];
    let signer = ZoneSigner::new(keys, signing_policy()).unwrap();
    Arc::new(signer.sign(&zone, virtual_now()).unwrap())
}

pub(crate) fn island_delegation() -> PublishedDelegation {
    PublishedDelegation {
        name: "island.nl".into(),
        ns: vec!["ns1.island.nl".into()],
        glue: vec![("ns1.island.nl".into(), "127.0.0.1".parse().unwrap())],
        keys: vec![],
    }
}

/// The TLD's delegation of the child, with the keyData of its KSK (or of another key).
pub(crate) fn child_delegation(breakage: Breakage) -> PublishedDelegation {
    let key = if breakage == Breakage::DsMismatch {
        fixture_keys::key(KeyAlgorithm::Ed25519, 2)
    } else {
        fixture_keys::key(KeyAlgorithm::Ed25519, 0)
    };
    PublishedDelegation {
        name: "example.nl".into(),
        ns: vec!["ns1.example.nl".into()],
        glue: vec![("ns1.example.nl".into(), "127.0.0.1".parse().unwrap())],
        keys: vec![key_data_for(&key.dnskey(257))],
    }
}

pub(crate) async fn server(zones: &[Arc<SignedZone>]) -> DnsServer {
    let server = DnsServer::start(
        "127.0.0.1:0".parse().unwrap(),
        clock(),
        DnsServerConfig::default(),
    )
    .await
    .unwrap();
    for z in zones {
        server.set_zone(z.clone());
    }
    server
}

/// The chain with one breakage (or none).
pub(crate) async fn chain(breakage: Breakage) -> Chain {
    let dir = tempfile::tempdir().unwrap();
    let mut publisher = publisher();
    publisher.schedule(
        1,
        &[child_delegation(breakage), island_delegation()],
        virtual_now(),
    );
    publisher.tick(virtual_now()).unwrap();
    let anchors = publisher
        .trust_anchor()
        .unwrap()
        .write_files(dir.path())
        .unwrap();
    let child = signed_child(breakage);
    let island = signed_island();
    // Only the child misbehaves, also on the server that serves every zone.
    let faults = Faults {
        strip_rrsigs: breakage == Breakage::StrippedSignatures,
        wrong_denial: breakage == Breakage::WrongDenial,
        scope: vec![name(CHILD)],
        ..Faults::default()
    };
    let root = server(&[publisher.root()]).await;
    let tld = server(&[publisher.tld()]).await;
    let child_server = server(&[child.clone(), island.clone()]).await;
    child_server.set_faults(faults.clone());
    let all = server(&[publisher.root(), publisher.tld(), child, island]).await;
    all.set_faults(faults);
    Chain {
        _dir: dir,
        anchors,
        root,
        tld,
        child: child_server,
        all,
    }
}

// ---------------------------------------------------------------------------------------------
// Real validators

/// Runs a tool, failing the test with a clear message when it is not installed (`ci/test`
/// installs them: unbound-host, bind9-dnsutils, ldnsutils).
pub(crate) fn run(tool: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!(
            "{tool} is needed for this test and could not be run ({e}); \
             install it (Debian: unbound-host, bind9-dnsutils, ldnsutils) or run ci/test"
        )
    });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn port(addr: SocketAddr) -> String {
    addr.port().to_string()
}

/// unbound-host's configuration: one stub zone per zone, each at its server.
pub(crate) fn unbound_conf(dir: &Path, anchor: &Path, stubs: &[(&str, SocketAddr)]) -> PathBuf {
    let mut conf = format!(
        "server:\n  do-not-query-localhost: no\n  trust-anchor-file: \"{}\"\n  \
         chroot: \"\"\n  username: \"\"\n  use-syslog: no\n  verbosity: 0\n  val-log-level: 2\n",
        anchor.display()
    );
    for (zone, addr) in stubs {
        conf.push_str(&format!(
            "stub-zone:\n  name: \"{zone}\"\n  stub-addr: {}@{}\n",
            addr.ip(),
            addr.port()
        ));
    }
    let path = dir.join(format!("unbound-{}.conf", stubs.len()));
    std::fs::write(&path, conf).unwrap();
    path
}

/// What unbound-host says about `qname`/`qtype` through the chain's separate servers.
pub(crate) fn unbound_host(chain: &Chain, qname: &str, qtype: &str) -> String {
    let conf = unbound_conf(
        chain.dir(),
        &chain.anchors.dnskey,
        &[
            (".", chain.root.local_addr()),
            ("nl.", chain.tld.local_addr()),
            (CHILD, chain.child.local_addr()),
            (ISLAND, chain.child.local_addr()),
        ],
    );
    let (_, out) = run(
        "unbound-host",
        &["-C", conf.to_str().unwrap(), "-v", "-t", qtype, qname],
    );
    out
}

/// What delv says, asking the all-zones server.
pub(crate) fn delv(chain: &Chain, qname: &str, qtype: &str) -> String {
    delv_at(&chain.anchors.bind, chain.all.local_addr(), qname, qtype)
}

pub(crate) fn delv_at(anchor_conf: &Path, server: SocketAddr, qname: &str, qtype: &str) -> String {
    let (_, out) = run(
        "delv",
        &[
            "-a",
            anchor_conf.to_str().unwrap(),
            &format!("@{}", server.ip()),
            "-p",
            &port(server),
            qname,
            qtype,
        ],
    );
    out
}

/// drill -S (chase the signatures from the trust anchor), asking the all-zones server.
pub(crate) fn drill(chain: &Chain, qname: &str, qtype: &str) -> (bool, String) {
    let server = chain.all.local_addr();
    run(
        "drill",
        &[
            "-S",
            "-k",
            chain.anchors.dnskey.to_str().unwrap(),
            "-p",
            &port(server),
            &format!("@{}", server.ip()),
            qname,
            qtype,
        ],
    )
}
