//! Key relay receipts (experimental extension) end to end: the greeting offers them only
//! under the policy, the sender of a relay gets `delivered` at the acknowledgement and
//! `published` only once every name server of the delegation serves the key validly signed
//! (two real DNS servers on loopback, one lagging), `notPublished` at the relay's expiry,
//! `withdrawn` on revocation; a registrar that did not announce the extension gets nothing
//! new, and a session without it gets a queued receipt in `<extValue>` (RFC 9038). Every
//! frame is validated with xmllint; the receipts the server wrote are snapshots.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use clock::{Clock, SharedClock};
use dnssec::{
    DnsServer, DnsServerConfig, KeyAlgorithm, SigningPolicy, Zone, ZoneKey, ZoneSigner,
    fixture_keys,
};
use epp::keyrelay::{self, Expiry, KeyRelayData};
use epp::message::{CommandKind, Create, Poll, Response, ResponseExtension, ResultValue};
use epp::receipt::{HostResult, Receipt, State};
use epp::{ResultCode, XsDuration, uri};
use hickory_proto::rr::Name;
use hickory_proto::rr::rdata::SOA;
use jiff::SignedDuration;
use mock_registry::client::EppClient;
use mock_registry::feedback::{ProbeOptions, run_due};
use mock_registry::registry::{Policy, ReceiptPolicy};

use crate::support::*;

const DOMAIN: &str = "relay.nl";
const NS1: &str = "ns1.operator-relay.net";
const NS2: &str = "ns2.operator-relay.net";

fn relay(token: &str, data: Vec<KeyRelayData>) -> CommandKind {
    CommandKind::Create(Create::KeyRelay(keyrelay::Create {
        name: DOMAIN.into(),
        auth_info: epp::AuthInfo::password(token),
        data,
    }))
}

fn key(n: usize, expiry: Option<Expiry>) -> KeyRelayData {
    KeyRelayData {
        key_data: ed25519_key(256, n),
        expiry,
    }
}

/// The losing operator's zone, signed by its fixture KSK (whose key data is the domain's DS
/// source) and ZSK, publishing the relayed keys `foreign`.
fn zone(foreign: &[usize], now: jiff::Timestamp) -> Arc<dnssec::SignedZone> {
    let origin: Name = format!("{DOMAIN}.").parse().unwrap();
    let soa = SOA::new(
        format!("{NS1}.").parse().unwrap(),
        format!("hostmaster.{DOMAIN}.").parse().unwrap(),
        1,
        3600,
        900,
        1_209_600,
        300,
    );
    let mut z = Zone::new(origin, soa, 300).unwrap();
    z.add_text(&format!("{DOMAIN}. 3600 NS {NS1}.")).unwrap();
    z.add_text(&format!("{DOMAIN}. 3600 NS {NS2}.")).unwrap();
    let mut keys = vec![
        ZoneKey::ksk(fixture_keys::key(KeyAlgorithm::Ed25519, 0)),
        ZoneKey::zsk(fixture_keys::key(KeyAlgorithm::Ed25519, 1)),
    ];
    for n in foreign {
        keys.push(ZoneKey::foreign(
            fixture_keys::key(KeyAlgorithm::Ed25519, *n).dnskey(256),
        ));
    }
    let policy = SigningPolicy {
        dnskey_ttl: 7200,
        ..SigningPolicy::default()
    };
    Arc::new(
        ZoneSigner::new(keys, policy)
            .unwrap()
            .sign(&z, now)
            .unwrap(),
    )
}

fn receipts_policy() -> Policy {
    Policy {
        keyrelay_receipts: Some(ReceiptPolicy::default()),
        ..Policy::default()
    }
}

/// Polls everything `c` has, acknowledging each; returns the responses.
async fn drain(c: &mut EppClient) -> Vec<Response> {
    let mut out = Vec::new();
    loop {
        let r = c
            .command(CommandKind::Poll(Poll::Req), vec![])
            .await
            .unwrap();
        if r.code() == ResultCode::SuccessNoMessages {
            return out;
        }
        let id = r.msg_q.clone().unwrap().id;
        ok(&c
            .command(CommandKind::Poll(Poll::Ack { msg_id: id }), vec![])
            .await
            .unwrap());
        out.push(r);
    }
}

fn receipt_of(r: &Response) -> &Receipt {
    match r.extensions.as_slice() {
        [ResponseExtension::KeyRelayReceipt(x)] => x,
        other => panic!("no receipt in {other:?}"),
    }
}

/// A login announcing every extension offered but the receipts.
async fn login_without_receipts(w: &World, who: &str) -> EppClient {
    let mut c = w.connect(who).await;
    let ext: Vec<String> = c
        .greeting()
        .ext_uris
        .iter()
        .filter(|u| *u != uri::KEYRELAY_RECEIPT)
        .cloned()
        .collect();
    ok(&c
        .login_with_extensions(who, &w.password(who), ext)
        .await
        .unwrap());
    c
}

#[tokio::test]
async fn the_sidn_profile_offers_no_receipts() {
    let w = World::start().await;
    let mut c = w.connect(B).await;
    assert!(
        !c.greeting()
            .ext_uris
            .iter()
            .any(|u| u == uri::KEYRELAY_RECEIPT)
    );
    let mut ext = c.greeting().ext_uris.clone();
    ext.push(uri::KEYRELAY_RECEIPT.into());
    let r = c
        .login_with_extensions(B, &w.password(B), ext)
        .await
        .unwrap();
    assert_eq!((code(&r), detail(&r).as_str()), (2103, "S2103"));
    w.keep(&c);
    w.validate_transcripts();
}

#[tokio::test]
async fn receipts_follow_a_relay_until_every_name_server_serves_the_key() {
    let w = World::with_policy(receipts_policy()).await;
    let clock: SharedClock = Arc::new(w.clock.clone());
    let start = w.clock.now();
    let at = |mins: i64| start.checked_add(SignedDuration::from_mins(mins)).unwrap();

    // Two name servers of the losing operator; the second lags behind the first.
    let ns1 = DnsServer::start(
        "127.0.0.1:0".parse().unwrap(),
        clock.clone(),
        DnsServerConfig::default(),
    )
    .await
    .unwrap();
    let ns2 = DnsServer::start(
        "127.0.0.1:0".parse().unwrap(),
        clock.clone(),
        DnsServerConfig::default(),
    )
    .await
    .unwrap();
    ns1.set_zone(zone(&[], start));
    ns2.set_zone(zone(&[], start));
    let resolver: BTreeMap<String, SocketAddr> = [
        (NS1.to_string(), ns1.local_addr()),
        (NS2.to_string(), ns2.local_addr()),
    ]
    .into();
    let options = ProbeOptions::default();

    let mut a = w.login(A).await;
    let mut b = w.login(B).await;
    let mut c = login_without_receipts(&w, C).await;
    assert!(
        b.greeting()
            .ext_uris
            .iter()
            .any(|u| u == uri::KEYRELAY_RECEIPT),
        "offered under the policy"
    );
    let contact = new_contact(&mut a).await;
    for ns in [NS1, NS2] {
        ok(&new_host(&mut a, ns, &[]).await);
    }
    ok(&a
        .command(
            domain_create(DOMAIN, &contact, &[NS1, NS2], "token-0001"),
            keydata_ext(vec![ed25519_key(257, 0)]),
        )
        .await
        .unwrap());

    // B relays key 2 with receipts; C relays key 3 without announcing them.
    let expiry = Expiry::Relative(XsDuration::parse("P7D").unwrap());
    let r = b
        .command(relay("token-0001", vec![key(2, Some(expiry))]), vec![])
        .await
        .unwrap();
    ok(&r);
    let relay_sv_trid = r.tr_id.sv_trid.clone();
    ok(&c
        .command(relay("token-0001", vec![key(3, None)]), vec![])
        .await
        .unwrap());
    assert_eq!(w.registry.lock().unwrap().watches().len(), 1, "only B's");

    // A takes both relays; its acknowledgement of B's is B's `delivered`.
    let relays = drain(&mut a).await;
    assert_eq!(relays.len(), 2);
    ns1.set_zone(zone(&[2], at(10)));

    // +15 min: ns1 serves the key, ns2 does not yet: no `published`.
    w.clock.set(at(15)).unwrap();
    assert_eq!(run_due(&w.registry, &resolver, &options, at(15)).await, 1);
    {
        let reg = w.registry.lock().unwrap();
        let watch = &reg.watches()[0];
        let found: Vec<(&str, HostResult)> = watch
            .last_probe
            .iter()
            .map(|h| (h.host.as_str(), h.result))
            .collect();
        assert_eq!(
            found,
            [(NS1, HostResult::Published), (NS2, HostResult::Missing)]
        );
        assert_eq!(reg.next_receipt_deadline(), Some(at(30)));
    }
    // The lagging server catches up at +20; the next probe (+30) finds it.
    ns2.set_zone(zone(&[2], at(20)));
    w.clock.set(at(30)).unwrap();
    assert_eq!(run_due(&w.registry, &resolver, &options, at(30)).await, 1);
    assert_eq!(w.registry.lock().unwrap().next_receipt_deadline(), None);

    let got = drain(&mut b).await;
    let states: Vec<State> = got.iter().map(|r| receipt_of(r).state).collect();
    assert_eq!(states, [State::Delivered, State::Published]);
    let published = receipt_of(&got[1]);
    assert_eq!(published.state_date, at(30));
    assert_eq!(published.relay_tr_id.sv_trid, relay_sv_trid);
    assert_eq!(published.relay_date, start);
    assert_eq!(
        published.until,
        start
            .checked_add(SignedDuration::from_hours(7 * 24))
            .unwrap()
    );
    assert_eq!(published.keys, vec![ed25519_key(256, 2)]);
    assert!(
        published
            .ns
            .iter()
            .all(|h| h.result == HostResult::Published)
    );
    assert_eq!(published.dnskey_ttl, Some(7200));
    insta::assert_snapshot!("receipt-delivered", got[0].clone().into_frame_xml());
    insta::assert_snapshot!("receipt-published", got[1].clone().into_frame_xml());

    // C announced nothing and gets nothing new.
    assert!(drain(&mut c).await.is_empty());

    // A relay that expires in an hour and is never published: `notPublished` at its expiry.
    let soon = Expiry::Absolute(at(90));
    ok(&b
        .command(relay("token-0001", vec![key(4, Some(soon))]), vec![])
        .await
        .unwrap());
    for t in [45, 60, 75, 90] {
        w.clock.set(at(t)).unwrap();
        run_due(&w.registry, &resolver, &options, at(t)).await;
    }
    // A revocation (P0D) of a key still being watched: `withdrawn`.
    ok(&b
        .command(relay("token-0001", vec![key(5, None)]), vec![])
        .await
        .unwrap());
    let revoke = Expiry::Relative(XsDuration::parse("P0D").unwrap());
    ok(&b
        .command(relay("token-0001", vec![key(5, Some(revoke))]), vec![])
        .await
        .unwrap());
    drain(&mut a).await;

    let got = drain(&mut b).await;
    let states: Vec<State> = got.iter().map(|r| receipt_of(r).state).collect();
    assert_eq!(
        states,
        [
            State::NotPublished, // the short relay, at its expiry
            State::Withdrawn,    // key 5, by the revocation
            State::Delivered,    // A acknowledges the short relay,
            State::Delivered,    // key 5's relay
            State::Delivered,    // and the revocation itself
        ]
    );
    let not_published = receipt_of(&got[0]);
    assert_eq!(
        (not_published.state_date, not_published.until),
        (at(90), at(90))
    );
    assert!(
        not_published
            .ns
            .iter()
            .all(|h| h.result == HostResult::Missing),
        "{:?}",
        not_published.ns
    );
    insta::assert_snapshot!("receipt-not-published", got[0].clone().into_frame_xml());
    insta::assert_snapshot!("receipt-withdrawn", got[1].clone().into_frame_xml());

    // A receipt queued for B, read in a session that did not announce the extension: in
    // <extValue> (RFC 9038 §6), and the queue moves on.
    ok(&b
        .command(relay("token-0001", vec![key(2, None)]), vec![])
        .await
        .unwrap());
    drain(&mut a).await;
    let mut b2 = login_without_receipts(&w, B).await;
    let got = drain(&mut b2).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].extensions.is_empty());
    let [ResultValue::ExtValue { value, reason }] = got[0].results[0].values.as_slice() else {
        panic!("{:?}", got[0])
    };
    assert_eq!(value.name.as_str(), "receipt");
    assert_eq!(
        reason.text,
        format!("{} not in login services", uri::KEYRELAY_RECEIPT)
    );
    insta::assert_snapshot!("receipt-unhandled", got[0].clone().into_frame_xml());

    // Every receipt is in the registry's record, and each went to B.
    let reg = w.registry.lock().unwrap();
    assert_eq!(reg.receipts().len(), 8);
    assert!(reg.receipts().iter().all(|r| r.to == B));
    drop(reg);
    for client in [&a, &b, &c, &b2] {
        w.keep(client);
    }
    w.validate_transcripts();
}

/// The response as the server wrote it, readable.
trait IntoFrameXml {
    fn into_frame_xml(self) -> String;
}

impl IntoFrameXml for Response {
    fn into_frame_xml(self) -> String {
        epp::Frame::Response(Box::new(self)).to_xml_pretty()
    }
}
