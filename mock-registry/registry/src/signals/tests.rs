//! The lookup's judgements on a small signed Internet held in memory (a root, `example.`,
//! `operator-a.example.`), answered by the DNSSEC engine's responder: no network.

use std::collections::BTreeMap;
use std::sync::Arc;

use dnssec::answer::respond;
use dnssec::testutil::{n, soa, ts};
use dnssec::{
    Delegation, KeyAlgorithm, RrSet, SignedZone, SigningFaults, SigningPolicy, Zone, ZoneKey,
    ZoneSigner, fixture_keys,
};
use jiff::SignedDuration;

use super::*;

const ALG: KeyAlgorithm = KeyAlgorithm::EcdsaP256Sha256;
const ROOT: &str = "127.0.0.1:53";
const EXAMPLE: &str = "127.0.0.2:53";
const OPERATOR: &str = "127.0.0.3:53";

fn key(i: usize) -> dnssec::KeyPair {
    fixture_keys::key(ALG, i)
}

fn t0() -> Timestamp {
    ts("2026-03-02T09:00:00Z")
}

fn now() -> Timestamp {
    ts("2026-03-03T09:00:00Z")
}

/// What can be wrong with the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Breakage {
    /// `example.` publishes the DS of another key for `operator-a.example.`.
    wrong_ds: bool,
    /// `operator-a.example.` is delegated without DS.
    no_ds: bool,
    /// `operator-a.example.`'s signatures expired a year ago.
    expired: bool,
    /// No signal records.
    no_signal: bool,
    /// The signal comes from a wildcard.
    wildcard: bool,
    /// A zone cut at the signaling name.
    cut_at_signal: bool,
    /// The signal is signed by a key outside the operator's DNSKEY RRset.
    foreign_signer: bool,
}

fn signal() -> Name {
    n("_dsboot.example.nl._signal.ns1.operator-a.example.")
}

fn child_ksk() -> DNSKEY {
    fixture_keys::key(KeyAlgorithm::Ed25519, 0).dnskey(257)
}

fn cds_rdata() -> RData {
    let cds = keys::cds_from_dnskey(&n("example.nl."), &child_ksk(), DsDigest::Sha256).unwrap();
    RData::DNSSEC(DNSSECRData::CDS(cds))
}

fn cdnskey_rdata() -> RData {
    RData::DNSSEC(DNSSECRData::CDNSKEY(
        keys::cdnskey_from_dnskey(&child_ksk()),
    ))
}

fn sign(
    zone: &Zone,
    keys: Vec<ZoneKey>,
    window: Option<(Timestamp, Timestamp)>,
) -> Arc<SignedZone> {
    let policy = SigningPolicy {
        faults: SigningFaults {
            window,
            ..SigningFaults::default()
        },
        ..SigningPolicy::default()
    };
    Arc::new(
        ZoneSigner::new(keys, policy)
            .unwrap()
            .sign(zone, t0())
            .unwrap(),
    )
}

fn pair(i: usize) -> Vec<ZoneKey> {
    vec![ZoneKey::ksk(key(i)), ZoneKey::zsk(key(i + 1))]
}

/// The three zones, by server address.
fn world(b: Breakage) -> BTreeMap<SocketAddr, Vec<Arc<SignedZone>>> {
    let (root_keys, example_keys, operator_keys) = (pair(0), pair(2), pair(4));
    let ip = |a: &str| a.parse::<SocketAddr>().unwrap().ip();

    let root = Name::root();
    let mut z = Zone::new(root.clone(), soa(&n("root-servers.test.")), 300).unwrap();
    z.add_text(". 3600 NS a.root-servers.test.").unwrap();
    z.set_delegation(&Delegation {
        name: n("example."),
        ttl: 3600,
        ns: vec![n("ns.example.")],
        glue: vec![(n("ns.example."), ip(EXAMPLE))],
        ds: vec![
            example_keys[0]
                .ds(&n("example."), DsDigest::Sha256)
                .unwrap(),
        ],
    })
    .unwrap();
    let root_zone = sign(&z, root_keys, None);

    let mut z = Zone::new(n("example."), soa(&n("example.")), 300).unwrap();
    z.add_text("example. 3600 NS ns.example.").unwrap();
    z.add_text(&format!("ns.example. 3600 A {}", ip(EXAMPLE)))
        .unwrap();
    let op_ds = if b.no_ds {
        Vec::new()
    } else if b.wrong_ds {
        vec![
            ZoneKey::ksk(key(7))
                .ds(&n("operator-a.example."), DsDigest::Sha256)
                .unwrap(),
        ]
    } else {
        vec![
            operator_keys[0]
                .ds(&n("operator-a.example."), DsDigest::Sha256)
                .unwrap(),
        ]
    };
    z.set_delegation(&Delegation {
        name: n("operator-a.example."),
        ttl: 3600,
        ns: vec![n("ns1.operator-a.example.")],
        glue: vec![(n("ns1.operator-a.example."), ip(OPERATOR))],
        ds: op_ds,
    })
    .unwrap();
    let example_zone = sign(&z, example_keys, None);

    let origin = n("operator-a.example.");
    let mut z = Zone::new(origin.clone(), soa(&origin), 300).unwrap();
    z.add_text("operator-a.example. 3600 NS ns1.operator-a.example.")
        .unwrap();
    z.add_text(&format!("ns1.operator-a.example. 3600 A {}", ip(OPERATOR)))
        .unwrap();
    let owner = if b.wildcard {
        n("*._signal.ns1.operator-a.example.")
    } else {
        signal()
    };
    if b.cut_at_signal {
        z.set_delegation(&Delegation {
            name: signal(),
            ttl: 3600,
            ns: vec![n("ns1.operator-a.example.")],
            glue: Vec::new(),
            ds: Vec::new(),
        })
        .unwrap();
    } else if !b.no_signal {
        z.set_rrset(RrSet::new(owner.clone(), 3600, [cds_rdata()]).unwrap())
            .unwrap();
        z.set_rrset(RrSet::new(owner, 3600, [cdnskey_rdata()]).unwrap())
            .unwrap();
    }
    let window = b.expired.then(|| {
        let end = now()
            .checked_sub(SignedDuration::from_hours(24 * 365))
            .unwrap();
        (
            end.checked_sub(SignedDuration::from_hours(24 * 14))
                .unwrap(),
            end,
        )
    });
    let mut keys = operator_keys;
    if b.foreign_signer {
        // A key that signs but is not published: its signatures cannot be trusted.
        keys[1] = ZoneKey::zsk(key(9)).with_published(false);
        keys.push(ZoneKey::zsk(key(5)).with_signing(false));
    }
    let operator_zone = sign(&z, keys, window);

    let mut net = BTreeMap::new();
    net.insert(ROOT.parse().unwrap(), vec![root_zone]);
    net.insert(EXAMPLE.parse().unwrap(), vec![example_zone]);
    net.insert(OPERATOR.parse().unwrap(), vec![operator_zone]);
    net
}

fn anchor() -> SignalRoot {
    SignalRoot {
        servers: vec![ROOT.parse().unwrap()],
        anchors: vec![pair(0)[0].ds(&Name::root(), DsDigest::Sha256).unwrap()],
    }
}

/// Servers in memory: the zones each address serves.
struct Net(BTreeMap<SocketAddr, Vec<Arc<SignedZone>>>);

impl Ask for Net {
    /// The answer of the first server of `servers` that serves something.
    async fn ask(
        &self,
        servers: &[SocketAddr],
        name: &Name,
        rtype: RecordType,
    ) -> Result<Message, NoSignal> {
        let request = dnssec::query::request(name, rtype, &QueryOptions::default());
        for s in servers {
            if let Some(zones) = self.0.get(s) {
                let bytes = respond(zones, &request.to_vec().unwrap(), Transport::Tcp).unwrap();
                return Ok(Message::from_vec(&bytes).unwrap());
            }
        }
        Err(NoSignal::Unreachable(format!("no server at {servers:?}")))
    }
}

fn run<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn look(b: Breakage, host: &str) -> Result<SignalSets, NoSignal> {
    let net = Net(world(b));
    let resolver: BTreeMap<String, SocketAddr> = BTreeMap::new();
    let (child, host, root) = (n("example.nl."), n(host), anchor());
    run(walk(&child, &host, &root, &resolver, 53, now(), &net))
}

#[test]
fn a_valid_chain_gives_the_signal() {
    let sets = look(Breakage::default(), "ns1.operator-a.example.").unwrap();
    assert_eq!(sets.name, Some(signal()));
    assert_eq!(
        sets.cds.iter().map(|r| r.data.clone()).collect::<Vec<_>>(),
        vec![cds_rdata()]
    );
    assert_eq!(
        sets.cdnskey
            .iter()
            .map(|r| r.data.clone())
            .collect::<Vec<_>>(),
        vec![cdnskey_rdata()]
    );
}

#[test]
fn a_ds_for_another_key_is_bogus() {
    let e = look(
        Breakage {
            wrong_ds: true,
            ..Breakage::default()
        },
        "ns1.operator-a.example.",
    )
    .unwrap_err();
    assert!(
        matches!(&e, NoSignal::Bogus(why) if why.contains("no DNSKEY of operator-a.example. matches its DS")),
        "{e}"
    );
}

#[test]
fn an_expired_signature_is_bogus() {
    let e = look(
        Breakage {
            expired: true,
            ..Breakage::default()
        },
        "ns1.operator-a.example.",
    )
    .unwrap_err();
    assert!(
        matches!(&e, NoSignal::Bogus(why) if why.contains("expired at")),
        "{e}"
    );
}

#[test]
fn an_insecure_cut_gives_no_signal() {
    let e = look(
        Breakage {
            no_ds: true,
            ..Breakage::default()
        },
        "ns1.operator-a.example.",
    )
    .unwrap_err();
    assert!(
        matches!(&e, NoSignal::Insecure(why) if why.contains("operator-a.example. is delegated from example. without DS")),
        "{e}"
    );
}

#[test]
fn a_missing_signal_is_missing() {
    let e = look(
        Breakage {
            no_signal: true,
            ..Breakage::default()
        },
        "ns1.operator-a.example.",
    )
    .unwrap_err();
    assert!(matches!(&e, NoSignal::Missing(_)), "{e}");
    // Another host of the same zone, with no signal either.
    let e = look(Breakage::default(), "ns2.operator-a.example.").unwrap_err();
    assert!(matches!(&e, NoSignal::Missing(_)), "{e}");
}

#[test]
fn wildcards_cuts_and_untrusted_signers_are_no_signal() {
    let e = look(
        Breakage {
            wildcard: true,
            ..Breakage::default()
        },
        "ns1.operator-a.example.",
    )
    .unwrap_err();
    assert!(
        matches!(&e, NoSignal::Bogus(why) if why.contains("wildcard")),
        "{e}"
    );
    let e = look(
        Breakage {
            cut_at_signal: true,
            ..Breakage::default()
        },
        "ns1.operator-a.example.",
    )
    .unwrap_err();
    assert!(
        matches!(&e, NoSignal::Bogus(why) if why.contains("zone cut")),
        "{e}"
    );
    let e = look(
        Breakage {
            foreign_signer: true,
            ..Breakage::default()
        },
        "ns1.operator-a.example.",
    )
    .unwrap_err();
    assert!(
        matches!(&e, NoSignal::Bogus(why) if why.contains("not a key it can be trusted by")),
        "{e}"
    );
}

#[test]
fn a_wrong_trust_anchor_fails_at_the_root() {
    let net = Net(world(Breakage::default()));
    let resolver: BTreeMap<String, SocketAddr> = BTreeMap::new();
    let mut root = anchor();
    root.anchors = vec![pair(2)[0].ds(&Name::root(), DsDigest::Sha256).unwrap()];
    let (child, host) = (n("example.nl."), n("ns1.operator-a.example."));
    let e = run(walk(&child, &host, &root, &resolver, 53, now(), &net)).unwrap_err();
    assert!(
        matches!(&e, NoSignal::Bogus(why) if why.contains("no DNSKEY of . matches its DS")),
        "{e}"
    );
}

#[test]
fn signaling_names_follow_rfc_9615() {
    assert_eq!(
        signal_name(&n("Example.CO.uk."), &n("NS1.example.net.")).unwrap(),
        n("_dsboot.example.co.uk._signal.ns1.example.net.")
    );
    // In-domain hosts carry no signal that counts (RFC 9615 §4.1).
    assert!(matches!(
        signal_name(&n("example.co.uk."), &n("ns3.example.co.uk.")),
        Err(NoSignal::InDomain { .. })
    ));
    // 255 octets on the wire at most: `_dsboot` (8) + two labels of 63 (128) + `_signal` (8)
    // + a label of 63 (64) + a label of k (k + 1) + the root (1) is 210 + k.
    let l63 = "b".repeat(63);
    let child = n(&format!("{l63}.{l63}."));
    for (k, fits) in [(45, true), (46, false)] {
        let host = n(&format!("{l63}.{}.", "c".repeat(k)));
        assert_eq!(signal_name(&child, &host).is_ok(), fits, "k = {k}");
    }
}

#[test]
fn the_pure_judgements_name_what_failed() {
    let net = Net(world(Breakage::default()));
    let root: SocketAddr = ROOT.parse().unwrap();
    let keys_msg = run(net.ask(&[root], &Name::root(), RecordType::DNSKEY)).unwrap();
    let root_keys = zone_keys(&Name::root(), &keys_msg, &anchor().anchors, now()).unwrap();
    assert_eq!(root_keys.len(), 2);
    // A year later the root's own DNSKEY RRset has expired.
    let later = ts("2027-03-03T09:00:00Z");
    assert!(matches!(
        zone_keys(&Name::root(), &keys_msg, &anchor().anchors, later),
        Err(NoSignal::Bogus(why)) if why.contains("expired")
    ));
    // The root refers to example. with a DS signed by its keys.
    let referral = run(net.ask(&[root], &signal(), RecordType::CDS)).unwrap();
    let Step::Referral(r) = judge_step(
        &Name::root(),
        &root_keys,
        &signal(),
        RecordType::CDS,
        &referral,
        now(),
    )
    .unwrap() else {
        panic!("a referral")
    };
    assert_eq!(r.cut, n("example."));
    assert_eq!(r.ns, vec![n("ns.example.")]);
    assert_eq!(
        r.glue,
        vec![(
            n("ns.example."),
            EXAMPLE.parse::<SocketAddr>().unwrap().ip()
        )]
    );
    // The same referral judged with keys that are not the root's: its DS is not trusted.
    let other = vec![key(9).dnskey(256)];
    assert!(matches!(
        judge_step(&Name::root(), &other, &signal(), RecordType::CDS, &referral, now()),
        Err(NoSignal::Bogus(why)) if why.contains("DS RRset of example.")
    ));
}

#[test]
fn anchors_read_as_ds_or_dnskey() {
    let ksk = pair(0)[0].dnskey().clone();
    let ds = keys::ds_from_dnskey(&Name::root(), &ksk, DsDigest::Sha256).unwrap();
    let from_key = parse_anchor(&format!(
        "; the root\n. 3600 IN DNSKEY {}\n",
        keys::format_dnskey(&ksk)
    ))
    .unwrap();
    let from_ds = parse_anchor(&format!(". 3600 IN DS {}\n", keys::format_ds(&ds))).unwrap();
    assert_eq!(from_key, vec![ds.clone()]);
    assert_eq!(from_ds, vec![ds]);
    assert!(parse_anchor("example. 3600 IN DS 1 13 2 00").is_err());
    assert!(parse_anchor("\n; nothing\n").is_err());
}
