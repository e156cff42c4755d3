//! The softer acceptances a strict test double must refuse (issue 11, item 6): contact
//! authorization by ROID, country codes and e-mail addresses that are none, `]]>` in
//! character data, maxSigLife on create, and key relay expiries that are negative or absurd.
//! Every refusal leaves the state as it was, and every frame the server sends validates.

use epp::contact::{self, PostalInfoChange, PostalType};
use epp::domain;
use epp::keyrelay::{self, Expiry, KeyRelayData};
use epp::message::{
    CommandExtension, CommandKind, Create, Info, ResData, Transfer, TransferOp, Update,
};
use epp::secdns::{self, DsOrKey, DsOrKeySet};
use epp::{AuthInfo, XsDuration};

use crate::support::*;

/// The ROID of a contact, as its sponsor reads it.
async fn contact_roid(c: &mut mock_registry::client::EppClient, id: &str) -> String {
    let r = c
        .command(
            CommandKind::Info(Info::Contact(contact::AuthId {
                id: id.into(),
                auth_info: None,
            })),
            vec![],
        )
        .await
        .unwrap();
    match &r.res_data {
        Some(ResData::ContactInfo(i)) => i.roid.clone(),
        _ => panic!("{r:?}"),
    }
}

/// RFC 5731 §2.6/§3.2.4: a `roid` on `<domain:pw>` says the password is the registrant's or a
/// contact's, not the domain's. This registry authorizes with the domain's token only, so a
/// ROID is refused (2306) wherever a domain authInfo is taken, before the password is looked
/// at, whatever it is.
#[tokio::test]
async fn contact_authorization_by_roid_is_refused() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let contact = signed_domain(&mut a, "roid.nl", "token-0001").await;
    let roid = contact_roid(&mut a, &contact).await;
    let mut b = w.login(B).await;
    let before = w.state();
    let with_roid = |pw: &str| AuthInfo::Password {
        pw: pw.into(),
        roid: Some(roid.clone()),
    };
    for pw in ["contact-secret", "token-0001"] {
        let attempts = [
            (
                "transfer request",
                CommandKind::Transfer(
                    TransferOp::Request,
                    Transfer::Domain(domain::Transfer {
                        name: "roid.nl".into(),
                        period: None,
                        auth_info: Some(with_roid(pw)),
                    }),
                ),
            ),
            (
                "transfer query",
                CommandKind::Transfer(
                    TransferOp::Query,
                    Transfer::Domain(domain::Transfer {
                        name: "roid.nl".into(),
                        period: None,
                        auth_info: Some(with_roid(pw)),
                    }),
                ),
            ),
            (
                "domain info",
                CommandKind::Info(Info::Domain(domain::Info {
                    name: "roid.nl".into(),
                    hosts: domain::HostsFilter::All,
                    auth_info: Some(with_roid(pw)),
                })),
            ),
            (
                "key relay",
                CommandKind::Create(Create::KeyRelay(keyrelay::Create {
                    name: "roid.nl".into(),
                    auth_info: with_roid(pw),
                    data: vec![KeyRelayData {
                        key_data: ed25519_key(256, 1),
                        expiry: None,
                    }],
                })),
            ),
        ];
        for (what, cmd) in attempts {
            let r = b.command(cmd, vec![]).await.unwrap();
            assert_eq!(code(&r), 2306, "{what} with a ROID: {r:?}");
            assert!(r.res_data.is_none(), "{what}: {r:?}");
        }
    }
    assert_eq!(w.state(), before);
    assert_eq!(
        w.registry
            .lock()
            .unwrap()
            .domain("roid.nl")
            .unwrap()
            .sponsor,
        A
    );
    w.keep(&a);
    w.keep(&b);
    w.validate_transcripts();
}

fn contact_with(cc: &str, email: &str) -> CommandKind {
    let CommandKind::Create(Create::Contact(mut c)) = contact_create() else {
        unreachable!()
    };
    c.postal_info[0].addr.cc = cc.into();
    c.email = email.into();
    CommandKind::Create(Create::Contact(c))
}

/// RFC 5733 §2.4.3: `contact:cc` is an ISO 3166-1 alpha-2 code; §2.6: `contact:email` is an
/// RFC 5322 addr-spec. Anything else is 2005, on create and on update.
#[tokio::test]
async fn country_codes_and_e_mail_addresses_are_checked() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let id = new_contact(&mut a).await;
    let before = w.state();
    for cc in ["XX", "UK", "EU", "nl", "N1", "ZZ"] {
        let r = a
            .command(contact_with(cc, "jan@example.nl"), vec![])
            .await
            .unwrap();
        assert_eq!(code(&r), 2005, "cc {cc}: {r:?}");
        assert_eq!(r.sidn_errors()[0].field.as_deref(), Some("contact:cc"));
    }
    for email in [
        "jan",
        "jan@",
        "@example.nl",
        "jan@@example.nl",
        "jan@example..nl",
        "jan..j@example.nl",
        ".jan@example.nl",
        "jan.@example.nl",
        "jan@-example.nl",
        "jan@example-.nl",
        "jan@example.nl.",
        "jan@exa_mple.nl",
        "jän@example.nl",
        "jan,piet@example.nl",
        "jan@example.nl>",
        "<jan@example.nl>",
        "Jan <jan@example.nl>",
        "\"jan@example.nl",
        "jan@[192.0.2.1",
        "jan@[300.0.2.1]",
    ] {
        let r = a.command(contact_with("NL", email), vec![]).await.unwrap();
        assert_eq!(code(&r), 2005, "e-mail {email:?}: {r:?}");
        assert_eq!(r.sidn_errors()[0].field.as_deref(), Some("contact:email"));
    }
    // The same on update.
    let update = |chg: contact::Change| {
        CommandKind::Update(Update::Contact(contact::Update {
            id: id.clone(),
            add: None,
            rem: None,
            chg: Some(chg),
        }))
    };
    let r = a
        .command(
            update(contact::Change {
                email: Some("jan@".into()),
                ..contact::Change::default()
            }),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(code(&r), 2005, "{r:?}");
    let r = a
        .command(
            update(contact::Change {
                postal_info: vec![PostalInfoChange {
                    kind: PostalType::Loc,
                    name: None,
                    org: None,
                    addr: Some(contact::Address {
                        street: vec![],
                        city: "Arnhem".into(),
                        sp: None,
                        pc: None,
                        cc: "XX".into(),
                    }),
                }],
                ..contact::Change::default()
            }),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(code(&r), 2005, "{r:?}");
    assert_eq!(w.state(), before);
    // What RFC 5322 and ISO 3166-1 do allow.
    for (cc, email) in [
        ("GB", "j.a+n@sub.example.nl"),
        ("BE", "\"jan jansen\"@example.nl"),
        ("AX", "jan@[192.0.2.1]"),
        ("CW", "o'brien@example.co.uk"),
        ("NL", "x@localhost"),
    ] {
        ok(&a.command(contact_with(cc, email), vec![]).await.unwrap());
    }
    w.keep(&a);
    w.validate_transcripts();
}

/// XML 1.0 §2.4: `]]>` must not appear in character data; a frame holding it is not
/// well-formed (2001). Escaped, it is only text.
#[tokio::test]
async fn cdata_end_in_character_data_is_a_syntax_error() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let before = w.state();
    let frame = |name: &str| {
        format!(
            r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><check><domain:check xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>{name}</domain:name></domain:check></check><clTRID>CDATA-1</clTRID></command></epp>"#
        )
    };
    for bad in ["a]]>b.nl", "]]>", "x<![CDATA[y]]>]]>.nl"] {
        let r = response(a.exchange_raw(frame(bad).as_bytes()).await.unwrap());
        assert_eq!(code(&r), 2001, "{bad}: {r:?}");
    }
    for fine in [
        "a]]&gt;b.nl",
        "a]>b.nl",
        "a]]b.nl",
        "x<![CDATA[]]]]><![CDATA[>]]>.nl",
    ] {
        let r = response(a.exchange_raw(frame(fine).as_bytes()).await.unwrap());
        assert_eq!(code(&r), 1000, "{fine}: {r:?}");
    }
    assert_eq!(w.state(), before);
    w.keep_received(&a);
    w.validate_transcripts();
}

/// RFC 5910 §5.2.1: a server that does not support maxSigLife MUST answer 2102 when a create
/// carries it, as an update's `<secDNS:chg>` already did (§5.2.5); it is not ignored, in
/// `<secDNS:create>` nor in `<secDNS:add>`.
#[tokio::test]
async fn max_sig_life_is_2102_wherever_it_appears() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let contact = signed_domain(&mut a, "signed.nl", "token-0001").await;
    let before = w.state();
    let r = a
        .command(
            domain_create(
                "new.nl",
                &contact,
                &["ns1.operator-signed.net"],
                "token-0002",
            ),
            vec![CommandExtension::SecDnsCreate(DsOrKeySet {
                max_sig_life: Some(604_800),
                data: DsOrKey::Key(vec![ed25519_key(257, 1)]),
            })],
        )
        .await
        .unwrap();
    assert_eq!(code(&r), 2102, "{r:?}");
    assert_eq!(
        r.sidn_errors()[0].field.as_deref(),
        Some("secDNS:maxSigLife")
    );
    let r = a
        .command(
            CommandKind::Update(Update::Domain(domain::Update {
                name: "signed.nl".into(),
                add: None,
                rem: None,
                chg: None,
            })),
            vec![CommandExtension::SecDnsUpdate(secdns::Update {
                urgent: false,
                rem: None,
                add: Some(DsOrKeySet {
                    max_sig_life: Some(604_800),
                    data: DsOrKey::Key(vec![ed25519_key(256, 2)]),
                }),
                chg: None,
            })],
        )
        .await
        .unwrap();
    assert_eq!(code(&r), 2102, "{r:?}");
    assert_eq!(w.state(), before);
    w.keep(&a);
    w.validate_transcripts();
}

/// RFC 8063 §2.1.1: an absolute expiry in the past or a zero relative one revokes a relayed
/// key. A negative relative expiry means nothing (2004), and an expiry more than a year ahead
/// is refused too (2004), so nothing absurd is passed on; values the schemas' types cannot hold
/// never reach a poll message.
#[tokio::test]
async fn key_relay_expiries_are_bounded() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let mut b = w.login(B).await;
    signed_domain(&mut a, "relay.nl", "token-0001").await;
    let relay = |expiry: Expiry| {
        CommandKind::Create(Create::KeyRelay(keyrelay::Create {
            name: "relay.nl".into(),
            auth_info: AuthInfo::password("token-0001"),
            data: vec![KeyRelayData {
                key_data: ed25519_key(256, 2),
                expiry: Some(expiry),
            }],
        }))
    };
    let relative = |d: &str| Expiry::Relative(XsDuration::parse(d).unwrap());
    let absolute = |t: &str| Expiry::Absolute(t.parse().unwrap());
    let before = w.state();
    for (what, e, want) in [
        ("negative", relative("-P1D"), 2004),
        ("negative zero", relative("-P0D"), 2004),
        ("two years", relative("P2Y"), 2004),
        ("a year and a day", relative("P1YT24H1S"), 2004),
        ("far future", absolute("9999-12-30T00:00:00Z"), 2004),
        ("years ahead", absolute("2030-01-01T00:00:00Z"), 2004),
    ] {
        let r = b.command(relay(e), vec![]).await.unwrap();
        assert_eq!(code(&r), want, "{what}: {r:?}");
    }
    // As raw frames: a 20-digit year, in either form, and year 0000, which xs:dateTime lacks.
    let raw = |expiry: &str| {
        format!(
            r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><create><keyrelay:create xmlns:keyrelay="urn:ietf:params:xml:ns:keyrelay-1.0" xmlns:domain="urn:ietf:params:xml:ns:domain-1.0" xmlns:secDNS="urn:ietf:params:xml:ns:secDNS-1.1"><keyrelay:name>relay.nl</keyrelay:name><keyrelay:authInfo><domain:pw>token-0001</domain:pw></keyrelay:authInfo><keyrelay:keyRelayData><keyrelay:keyData><secDNS:flags>256</secDNS:flags><secDNS:protocol>3</secDNS:protocol><secDNS:alg>15</secDNS:alg><secDNS:pubKey>{}</secDNS:pubKey></keyrelay:keyData><keyrelay:expiry>{expiry}</keyrelay:expiry></keyrelay:keyRelayData></keyrelay:create></create></command></epp>"#,
            ed25519_key(256, 2).pub_key_base64()
        )
    };
    for (expiry, want) in [
        (
            "<keyrelay:relative>P99999999999999999999Y</keyrelay:relative>",
            2004,
        ),
        (
            "<keyrelay:relative>PT99999999999999999999S</keyrelay:relative>",
            2004,
        ),
        (
            "<keyrelay:absolute>99999999999999999999-01-01T00:00:00Z</keyrelay:absolute>",
            2005,
        ),
        (
            "<keyrelay:absolute>0000-01-01T00:00:00Z</keyrelay:absolute>",
            2005,
        ),
    ] {
        let r = response(b.exchange_raw(raw(expiry).as_bytes()).await.unwrap());
        assert_eq!(code(&r), want, "{expiry}: {r:?}");
    }
    assert_eq!(w.state(), before, "refused relays change nothing");
    // Within the bounds: passed on unchanged, revocations included.
    for e in [
        relative("P30D"),
        relative("P1Y"),
        relative("P0D"),
        relative("PT0.5S"),
        absolute("2025-06-01T00:00:00Z"),
        absolute("0001-01-01T00:00:00Z"),
        absolute("2026-12-31T00:00:00Z"),
    ] {
        ok(&b.command(relay(e.clone()), vec![]).await.unwrap());
        let relayed = w.registry.lock().unwrap().relays().last().unwrap().clone();
        assert_eq!(relayed.data[0].expiry.as_ref(), Some(&e));
    }
    // The registrar of record reads every one of them, in frames that validate.
    for _ in 0..7 {
        let r = a
            .command(CommandKind::Poll(epp::Poll::Req), vec![])
            .await
            .unwrap();
        let id = r.msg_q.as_ref().unwrap().id.clone();
        ok(&a
            .command(CommandKind::Poll(epp::Poll::Ack { msg_id: id }), vec![])
            .await
            .unwrap());
    }
    w.keep(&a);
    w.keep_received(&b);
    w.validate_transcripts();
}
