//! Everything the registry must refuse: bad TLS identities, malformed and hostile frames, and
//! every registrar touching another's objects. Each gets its code or a closed connection, and
//! afterwards the state and every queue are exactly as before.

use std::sync::Arc;
use std::time::Duration;

use epp::domain::{self, AddRem, DomainStatus};
use epp::message::{CommandKind, Delete, Info, Poll, Transfer, TransferOp, Update};
use epp::{AuthInfo, ResultCode, Status};
use mock_registry::client::EppClient;
use mock_registry::pki::fixtures;

use crate::support::*;

#[tokio::test]
async fn tls_identities_that_get_no_session() {
    let w = World::start().await;
    let before = w.state();
    let addr = w.server.local_addr();
    let timeout = Duration::from_secs(5);
    // No client certificate.
    let cfg = Arc::new(mock_registry::tls::client_config_without_certificate(&w.pki).unwrap());
    assert!(EppClient::connect(addr, cfg, timeout).await.is_err());
    // A certificate from another CA.
    let (_ca, foreign) = fixtures::foreign_registrar(A).unwrap();
    let cfg = Arc::new(mock_registry::tls::client_config_with_identity(&w.pki, &foreign).unwrap());
    assert!(EppClient::connect(addr, cfg, timeout).await.is_err());
    // A's key in a certificate (from our CA) naming B: TLS succeeds, login as A is 2200,
    // login as B is 2200 too (B's password is not A's), and the third failure closes.
    let imp = fixtures::impersonation(&w.pki, A, B).unwrap();
    let cfg = Arc::new(mock_registry::tls::client_config_with_identity(&w.pki, &imp).unwrap());
    let mut c = EppClient::connect(addr, cfg, timeout).await.unwrap();
    let r = c.login(A, &w.password(A)).await.unwrap();
    assert_eq!(code(&r), 2200, "certificate says B, login says A");
    assert_eq!(w.state(), before);
    w.keep(&c);
    w.validate_transcripts();
}

#[tokio::test]
async fn malformed_and_hostile_frames() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    signed_domain(&mut a, "safe.nl", "token-0001").await;
    let before = w.state();
    let e = r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0">"#;
    let cases: Vec<(String, u16)> = vec![
        ("not xml at all".into(), 2001),
        ("<epp".into(), 2001),
        (format!("{e}<command><logout/></command>"), 2001),
        (
            format!(r#"<?xml version="1.0"?><!DOCTYPE epp [<!ENTITY x "x">]>{e}<hello/></epp>"#),
            2001,
        ),
        (
            format!("{e}<command><poll op=\"req\"/><clTRID>&x;</clTRID></command></epp>"),
            2001,
        ),
        (
            r#"<epp xmlns="urn:example:not-epp"><hello/></epp>"#.into(),
            2001,
        ),
        (format!("{e}<command><frob/></command></epp>"), 2000),
        (
            format!(
                "{e}<command><info><x:info xmlns:x=\"urn:example:obj\"/></info></command></epp>"
            ),
            2307,
        ),
        (
            format!(
                "{e}<command><check><domain:check xmlns:domain=\"urn:ietf:params:xml:ns:domain-1.0\"><domain:name>a.nl</domain:name></domain:check></check><extension><x:y xmlns:x=\"urn:example:ext\"/></extension></command></epp>"
            ),
            2103,
        ),
        (
            format!(
                "{e}<command><delete><domain:delete xmlns:domain=\"urn:ietf:params:xml:ns:domain-1.0\"/></delete><clTRID>DEL-1</clTRID></command></epp>"
            ),
            2003,
        ),
        (
            format!("{e}{}</epp>", "<hello>".repeat(40) + &"</hello>".repeat(40)),
            2001,
        ),
        (
            format!(
                "{e}<response><result code=\"1000\"><msg>x</msg></result><trID><svTRID>abc</svTRID></trID></response></epp>"
            ),
            2001,
        ),
        (format!("{e}<greeting/></epp>"), 2003),
        (
            format!(
                "{e}<greeting><svID>not a server</svID><svDate>2026-01-01T00:00:00Z</svDate><svcMenu><version>1.0</version><lang>en</lang><objURI>urn:ietf:params:xml:ns:domain-1.0</objURI></svcMenu><dcp><access><all/></access><statement><purpose><admin/></purpose><recipient><ours/></recipient><retention><stated/></retention></statement></dcp></greeting></epp>"
            ),
            2001,
        ),
    ];
    for (xml, want) in &cases {
        let r = response(a.exchange_raw(xml.as_bytes()).await.unwrap());
        assert_eq!(code(&r), *want, "{xml}: {r:?}");
        assert!(detail(&r).starts_with(['C', 'S']), "{xml}: {r:?}");
    }
    // The clTRID of a refused but readable command is echoed.
    let r = response(a.exchange_raw(cases[9].0.as_bytes()).await.unwrap());
    assert_eq!(r.tr_id.cl_trid.as_deref(), Some("DEL-1"));
    // Non-UTF-8 and binary garbage.
    for bytes in [vec![0xff, 0xfe, 0x00, 0x3c], vec![0u8; 64]] {
        let r = response(a.exchange_raw(&bytes).await.unwrap());
        assert_eq!(code(&r), 2001);
    }
    // The session survived all of it.
    ok(&a.command(check_domain("safe.nl"), vec![]).await.unwrap());
    assert_eq!(w.state(), before);
    w.keep_received(&a);
    w.validate_transcripts();
}

/// Registrar B and C against everything of A's: each is 2201 (or 2303 for queues, 2202 for a
/// wrong token), nothing leaks, nothing changes.
#[tokio::test]
async fn cross_registrar_authorization_matrix() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let contact = signed_domain(&mut a, "mine.nl", "token-0001").await;
    ok(&new_host(&mut a, "ns1.mine.nl", &["192.0.2.1"]).await);
    // A message in A's queue.
    let mut b = w.login(B).await;
    let kr = epp::keyrelay::Create {
        name: "mine.nl".into(),
        auth_info: AuthInfo::password("token-0001"),
        data: vec![epp::keyrelay::KeyRelayData {
            key_data: ed25519_key(256, 1),
            expiry: None,
        }],
    };
    ok(&b
        .command(CommandKind::Create(epp::Create::KeyRelay(kr)), vec![])
        .await
        .unwrap());
    let msg_id = w.registry.lock().unwrap().queue(A)[0].id.to_string();
    let before = w.state();

    let mut u = domain::Update {
        name: "mine.nl".into(),
        add: Some(AddRem {
            statuses: vec![Status::new(DomainStatus::ClientHold)],
            ..AddRem::default()
        }),
        rem: None,
        chg: None,
    };
    let attempts: Vec<(&str, CommandKind, u16)> = vec![
        (
            "domain update",
            CommandKind::Update(Update::Domain(u.clone())),
            2201,
        ),
        (
            "domain delete",
            CommandKind::Delete(Delete::Domain("mine.nl".into())),
            2201,
        ),
        (
            "domain renew",
            CommandKind::Renew(domain::Renew {
                name: "mine.nl".into(),
                cur_exp_date: "2027-01-01".parse().unwrap(),
                period: None,
            }),
            2201,
        ),
        (
            "domain info with a wrong token",
            CommandKind::Info(Info::Domain(domain::Info {
                name: "mine.nl".into(),
                hosts: domain::HostsFilter::All,
                auth_info: Some(AuthInfo::password("guess-token")),
            })),
            2202,
        ),
        (
            "transfer query",
            CommandKind::Transfer(
                TransferOp::Query,
                Transfer::Domain(domain::Transfer {
                    name: "mine.nl".into(),
                    period: None,
                    auth_info: None,
                }),
            ),
            2201,
        ),
        (
            "host update",
            CommandKind::Update(Update::Host(epp::host::Update {
                name: "ns1.mine.nl".into(),
                add: None,
                rem: None,
                new_name: Some("ns2.mine.nl".into()),
            })),
            2201,
        ),
        (
            "host delete",
            CommandKind::Delete(Delete::Host("ns1.mine.nl".into())),
            2201,
        ),
        (
            "contact update",
            CommandKind::Update(Update::Contact(epp::contact::Update {
                id: contact.clone(),
                add: Some(vec![Status::new(
                    epp::contact::ContactStatus::ClientDeleteProhibited,
                )]),
                rem: None,
                chg: None,
            })),
            2201,
        ),
        (
            "contact delete",
            CommandKind::Delete(Delete::Contact(contact.clone())),
            2201,
        ),
        (
            "domain create with A's contact",
            domain_create("theirs.nl", &contact, &[], "token-0009"),
            2201,
        ),
        (
            "poll ack of A's message",
            CommandKind::Poll(Poll::Ack {
                msg_id: msg_id.clone(),
            }),
            2303,
        ),
    ];
    let mut c = w.login(C).await;
    for client in [&mut b, &mut c] {
        for (what, cmd, want) in &attempts {
            let r = client.command(cmd.clone(), vec![]).await.unwrap();
            assert_eq!(code(&r), *want, "{what}: {r:?}");
            assert!(r.res_data.is_none(), "{what}: a refusal carries no data");
        }
        // Info without a token: reduced data, no authInfo, no contacts.
        let r = client
            .command(
                CommandKind::Info(Info::Domain(domain::Info {
                    name: "mine.nl".into(),
                    hosts: domain::HostsFilter::All,
                    auth_info: None,
                })),
                vec![],
            )
            .await
            .unwrap();
        let Some(epp::ResData::DomainInfo(d)) = &r.res_data else {
            panic!("{r:?}")
        };
        assert!(d.auth_info.is_none() && d.contacts.is_empty() && d.registrant.is_none());
        // Contact info: no password.
        let r = client
            .command(
                CommandKind::Info(Info::Contact(epp::contact::AuthId {
                    id: contact.clone(),
                    auth_info: None,
                })),
                vec![],
            )
            .await
            .unwrap();
        let Some(epp::ResData::ContactInfo(ci)) = &r.res_data else {
            panic!("{r:?}")
        };
        assert!(ci.auth_info.is_none());
        // Their own queue is unaffected by A's.
        let r = client
            .command(CommandKind::Poll(Poll::Req), vec![])
            .await
            .unwrap();
        assert_eq!(r.code(), ResultCode::SuccessNoMessages);
    }
    assert_eq!(w.state(), before, "no refused command changed anything");
    u.add = None;
    // A itself can still do everything.
    let r = a
        .command(CommandKind::Poll(Poll::Ack { msg_id }), vec![])
        .await
        .unwrap();
    ok(&r);
    for cl in [&a, &b, &c] {
        w.keep(cl);
    }
    w.validate_transcripts();
}

/// RFC 5731 §3.1.2 and RFC 5733 §3.1.2: the authInfo of an object is shown to its sponsor
/// only, never to another registrar, not even one that gives the right token and so gets the
/// full data otherwise. Hosts have no authInfo (RFC 5732 §3.1.2), their info is the same for
/// everyone.
#[tokio::test]
async fn auth_info_is_shown_to_the_sponsor_only() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let contact = signed_domain(&mut a, "mine.nl", "token-0001").await;
    ok(&new_host(&mut a, "ns1.mine.nl", &["192.0.2.1"]).await);
    let mut b = w.login(B).await;
    let domain_info = |token: Option<&str>| {
        CommandKind::Info(Info::Domain(domain::Info {
            name: "mine.nl".into(),
            hosts: domain::HostsFilter::All,
            auth_info: token.map(AuthInfo::password),
        }))
    };
    let contact_info = |pw: Option<&str>| {
        CommandKind::Info(Info::Contact(epp::contact::AuthId {
            id: contact.clone(),
            auth_info: pw.map(AuthInfo::password),
        }))
    };
    let before = w.state();

    // The sponsor sees the token.
    let r = a.command(domain_info(None), vec![]).await.unwrap();
    let Some(epp::ResData::DomainInfo(d)) = &r.res_data else {
        panic!("{r:?}")
    };
    assert_eq!(d.auth_info, Some(AuthInfo::password("token-0001")));
    // Another registrar with the right token: full data (contacts, dates, subordinate
    // hosts), but no authInfo.
    let r = b
        .command(domain_info(Some("token-0001")), vec![])
        .await
        .unwrap();
    let Some(epp::ResData::DomainInfo(d)) = &r.res_data else {
        panic!("{r:?}")
    };
    assert!(d.registrant.is_some() && !d.contacts.is_empty() && d.cr_date.is_some());
    assert_eq!(d.hosts, ["ns1.mine.nl"]);
    assert_eq!(
        d.auth_info, None,
        "the token leaked to a non-sponsor: {r:?}"
    );

    // Contacts: the password only for the sponsor, with or without the right password.
    let r = a.command(contact_info(None), vec![]).await.unwrap();
    let Some(epp::ResData::ContactInfo(ci)) = &r.res_data else {
        panic!("{r:?}")
    };
    assert_eq!(ci.auth_info, Some(AuthInfo::password("contact-secret")));
    let r = b
        .command(contact_info(Some("contact-secret")), vec![])
        .await
        .unwrap();
    let Some(epp::ResData::ContactInfo(ci)) = &r.res_data else {
        panic!("{r:?}")
    };
    assert_eq!(ci.auth_info, None, "{r:?}");

    // Hosts carry no authInfo at all; a non-sponsor sees what the sponsor sees.
    let host_info = CommandKind::Info(Info::Host("ns1.mine.nl".into()));
    let ra = a.command(host_info.clone(), vec![]).await.unwrap();
    let rb = b.command(host_info, vec![]).await.unwrap();
    assert_eq!(ra.res_data, rb.res_data);
    // Nothing B received carries either secret.
    for e in b.transcript().iter().filter(|e| !e.sent) {
        assert!(
            !e.xml.contains("token-0001") && !e.xml.contains("contact-secret"),
            "{}",
            e.xml
        );
    }

    assert_eq!(w.state(), before);
    w.keep(&a);
    w.keep(&b);
    w.validate_transcripts();
}
