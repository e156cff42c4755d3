//! Object commands, transfers, key relay and poll queues, each as a registrar would use them.

use epp::domain::{self, AddRem, AuthInfoChange, Change, DomainStatus, NsList};
use epp::keyrelay::{self, Expiry, KeyRelayData};
use epp::message::{
    CommandExtension, CommandKind, Create, Delete, Info, Poll, ResData, ResponseExtension,
    Transfer, TransferOp, Update,
};
use epp::secdns::{self, DsData, DsOrKey, DsOrKeySet, Remove};
use epp::sidn::{self, ExtCommand, ExtCommandKind};
use epp::{AuthInfo, ResultCode, Status, TrStatus, XsDuration};

use crate::support::*;

fn info(name: &str, auth: Option<&str>) -> CommandKind {
    CommandKind::Info(Info::Domain(domain::Info {
        name: name.into(),
        hosts: domain::HostsFilter::All,
        auth_info: auth.map(AuthInfo::password),
    }))
}

fn transfer(op: TransferOp, name: &str, token: Option<&str>) -> CommandKind {
    CommandKind::Transfer(
        op,
        Transfer::Domain(domain::Transfer {
            name: name.into(),
            period: None,
            auth_info: token.map(AuthInfo::password),
        }),
    )
}

fn relay(name: &str, token: &str, data: Vec<KeyRelayData>) -> CommandKind {
    CommandKind::Create(Create::KeyRelay(keyrelay::Create {
        name: name.into(),
        auth_info: AuthInfo::password(token),
        data,
    }))
}

fn update(name: &str) -> domain::Update {
    domain::Update {
        name: name.into(),
        add: None,
        rem: None,
        chg: None,
    }
}

#[tokio::test]
async fn domain_lifecycle_with_key_data() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let contact = signed_domain(&mut a, "example.nl", "token-0001").await;
    assert!(
        contact.starts_with("CON") && contact.ends_with("-REGIS"),
        "{contact}"
    );

    // Check: taken, free, invalid.
    let r = a
        .command(
            CommandKind::Check(epp::Check::Domain(vec![
                "example.nl".into(),
                "free.nl".into(),
                "bad_name.nl".into(),
            ])),
            vec![],
        )
        .await
        .unwrap();
    let Some(ResData::DomainCheck(cd)) = r.res_data else {
        panic!("{r:?}")
    };
    assert_eq!(
        cd.iter().map(|c| c.avail).collect::<Vec<_>>(),
        [false, true, false]
    );

    // Info by the sponsor: everything, keyData in secDNS, SIDN data.
    let r = a.command(info("EXAMPLE.nl", None), vec![]).await.unwrap();
    let Some(ResData::DomainInfo(d)) = &r.res_data else {
        panic!("{r:?}")
    };
    assert_eq!(d.name, "example.nl");
    assert_eq!(d.cl_id, A);
    assert_eq!(d.auth_info.as_ref().unwrap().pw(), Some("token-0001"));
    assert_eq!(d.ns.as_ref().unwrap().names(), ["ns1.operator-example.net"]);
    assert!(
        matches!(&r.extensions[0], ResponseExtension::SecDnsInfo(DsOrKeySet { data: DsOrKey::Key(k), .. }) if k.len() == 1)
    );
    assert!(matches!(
        &r.extensions[1],
        ResponseExtension::Sidn(sidn::Ext::DomainInfo(_))
    ));

    // Update: add a second key (ZSK), a status, change the token.
    let mut u = update("example.nl");
    u.add = Some(AddRem {
        statuses: vec![Status::new(DomainStatus::ClientTransferProhibited)],
        ..AddRem::default()
    });
    u.chg = Some(Change {
        registrant: None,
        auth_info: Some(AuthInfoChange::Set(AuthInfo::password("token-0002"))),
    });
    let ext = vec![CommandExtension::SecDnsUpdate(secdns::Update {
        urgent: false,
        rem: None,
        add: Some(DsOrKeySet {
            max_sig_life: None,
            data: DsOrKey::Key(vec![ed25519_key(256, 1)]),
        }),
        chg: None,
    })];
    ok(&a
        .command(CommandKind::Update(Update::Domain(u)), ext)
        .await
        .unwrap());
    {
        let reg = w.registry.lock().unwrap();
        let d = reg.domain("example.nl").unwrap();
        assert_eq!(d.keys.len(), 2);
        assert_eq!(d.token, "token-0002");
        assert_eq!(reg.delegations()[0].keys.len(), 2);
    }

    // Renew with the current expiry date.
    let r = a
        .command(
            CommandKind::Renew(domain::Renew {
                name: "example.nl".into(),
                cur_exp_date: "2027-01-01".parse().unwrap(),
                period: Some(sidn::months(12)),
            }),
            vec![],
        )
        .await
        .unwrap();
    let Some(ResData::DomainRenew(rd)) = r.res_data else {
        panic!("{r:?}")
    };
    assert_eq!(rd.ex_date.unwrap().to_string(), "2028-01-01T00:00:00Z");
    // A wrong curExpDate is refused.
    let r = a
        .command(
            CommandKind::Renew(domain::Renew {
                name: "example.nl".into(),
                cur_exp_date: "2027-01-01".parse().unwrap(),
                period: None,
            }),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!((code(&r), detail(&r).as_str()), (2306, "D2306"));

    // Delete goes to quarantine (pendingDelete, no delegation); cancel delete restores it.
    ok(&a
        .command(
            CommandKind::Delete(Delete::Domain("example.nl".into())),
            vec![],
        )
        .await
        .unwrap());
    assert!(w.registry.lock().unwrap().delegations().is_empty());
    let r = a.command(info("example.nl", None), vec![]).await.unwrap();
    let Some(ResData::DomainInfo(d)) = &r.res_data else {
        panic!()
    };
    assert!(
        d.statuses
            .iter()
            .any(|s| s.value == DomainStatus::PendingDelete)
    );
    let r = a
        .send(&epp::Frame::Extension(ExtCommand {
            kind: ExtCommandKind::DomainCancelDelete {
                name: "example.nl".into(),
                period: None,
            },
            cl_trid: Some("CANCEL-1".into()),
        }))
        .await
        .unwrap();
    ok(&r);
    assert_eq!(w.registry.lock().unwrap().delegations().len(), 1);
    // Quarantine ends: the name is free again.
    ok(&a
        .command(
            CommandKind::Delete(Delete::Domain("example.nl".into())),
            vec![],
        )
        .await
        .unwrap());
    w.clock
        .advance(jiff::SignedDuration::from_hours(41 * 24))
        .unwrap();
    let r = a.command(check_domain("example.nl"), vec![]).await.unwrap();
    let Some(ResData::DomainCheck(cd)) = r.res_data else {
        panic!()
    };
    assert!(cd[0].avail);

    w.keep(&a);
    w.validate_transcripts();
}

#[tokio::test]
async fn key_data_interface_only_and_each_key_checked() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let contact = new_contact(&mut a).await;
    ok(&new_host(&mut a, "ns1.dns.example", &[]).await);
    let create = |name: &str| domain_create(name, &contact, &["ns1.dns.example"], "token-0001");

    // DS data: 2306 (RFC 5910 §4).
    let ds = vec![CommandExtension::SecDnsCreate(DsOrKeySet {
        max_sig_life: None,
        data: DsOrKey::Ds(vec![DsData {
            key_tag: 1,
            alg: 13,
            digest_type: 2,
            digest: vec![1; 32],
            key_data: None,
        }]),
    })];
    let r = a.command(create("ds.nl"), ds).await.unwrap();
    assert_eq!((code(&r), detail(&r).as_str()), (2306, "K2306"));

    // Each key field, with its code and field name.
    let mut flags = ed25519_key(257, 0);
    flags.flags = 1;
    let mut protocol = ed25519_key(257, 0);
    protocol.protocol = 2;
    let mut alg = ed25519_key(257, 0);
    alg.alg = 5;
    let mut short = ed25519_key(257, 0);
    short.pub_key.truncate(31);
    let mut off_curve = ed25519_key(257, 0);
    off_curve.alg = 13;
    off_curve.pub_key = vec![7; 64];
    // Issue 11: 32 octets that are no Ed25519 point (RFC 8032 §5.1.3): y = 2 has no x, and
    // y = p is not below p.
    let mut no_x = ed25519_key(257, 0);
    no_x.pub_key = [&[2u8][..], &[0; 31]].concat();
    let mut y_is_p = ed25519_key(257, 0);
    y_is_p.pub_key = [&[0xed_u8][..], &[0xff; 30], &[0x7f]].concat();
    // An RSA key whose exponent is 1 (RFC 8017 §3.1).
    let rsa = dnssec::fixture_keys::key(dnssec::KeyAlgorithm::RsaSha256, 0);
    let good = rsa.public_key().to_vec();
    let mut e_one = ed25519_key(257, 0);
    e_one.alg = 8;
    e_one.pub_key = [&[1u8, 1][..], &good[1 + usize::from(good[0])..]].concat();
    for (key, want, field) in [
        (no_x, 2005, "secDNS:pubKey"),
        (y_is_p, 2005, "secDNS:pubKey"),
        (e_one, 2005, "secDNS:pubKey"),
        (flags, 2004, "secDNS:flags"),
        (protocol, 2004, "secDNS:protocol"),
        (alg, 2306, "secDNS:alg"),
        (short, 2005, "secDNS:pubKey"),
        (off_curve, 2005, "secDNS:pubKey"),
    ] {
        let r = a
            .command(create("keys.nl"), keydata_ext(vec![key]))
            .await
            .unwrap();
        assert_eq!(code(&r), want, "{r:?}");
        let d = &r.sidn_errors()[0];
        assert_eq!(
            (d.code.as_str(), d.field.as_deref()),
            (&*format!("K{want}"), Some(field))
        );
    }
    assert!(w.registry.lock().unwrap().domain("keys.nl").is_none());

    // Create works; urgent and maxSigLife changes are unsupported options (RFC 5910 §3.2.5).
    ok(&a
        .command(create("keys.nl"), keydata_ext(vec![ed25519_key(257, 0)]))
        .await
        .unwrap());
    for s in [
        secdns::Update {
            urgent: true,
            rem: Some(Remove::All(true)),
            add: None,
            chg: None,
        },
        secdns::Update {
            urgent: false,
            rem: None,
            add: None,
            chg: Some(Some(3600)),
        },
    ] {
        let r = a
            .command(
                CommandKind::Update(Update::Domain(update("keys.nl"))),
                vec![CommandExtension::SecDnsUpdate(s)],
            )
            .await
            .unwrap();
        assert_eq!(code(&r), 2102, "{r:?}");
    }
    // rem all removes every key: the domain goes unsigned.
    let r = a
        .command(
            CommandKind::Update(Update::Domain(update("keys.nl"))),
            vec![CommandExtension::SecDnsUpdate(secdns::Update {
                urgent: false,
                rem: Some(Remove::All(true)),
                add: None,
                chg: None,
            })],
        )
        .await
        .unwrap();
    ok(&r);
    assert!(
        w.registry
            .lock()
            .unwrap()
            .domain("keys.nl")
            .unwrap()
            .keys
            .is_empty()
    );
    w.keep(&a);
    w.validate_transcripts();
}

#[tokio::test]
async fn hosts_inside_the_tld_need_their_domain_and_glue() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let mut b = w.login(B).await;
    let r = new_host(&mut a, "ns1.nothere.nl", &["192.0.2.1"]).await;
    assert_eq!(code(&r), 2303);
    signed_domain(&mut a, "glue.nl", "token-0001").await;
    assert_eq!(code(&new_host(&mut a, "ns1.glue.nl", &[]).await), 2003);
    assert_eq!(
        code(&new_host(&mut a, "ns1.external.net", &["192.0.2.1"]).await),
        2306
    );
    assert_eq!(
        code(&new_host(&mut b, "ns1.glue.nl", &["192.0.2.1"]).await),
        2201
    );
    ok(&new_host(&mut a, "ns1.glue.nl", &["192.0.2.1", "2001:db8::1"]).await);
    // Delegating to it publishes glue.
    let mut u = update("glue.nl");
    u.add = Some(AddRem {
        ns: Some(NsList::HostObj(vec!["ns1.glue.nl".into()])),
        ..AddRem::default()
    });
    ok(&a
        .command(CommandKind::Update(Update::Domain(u)), vec![])
        .await
        .unwrap());
    let dels = w.registry.lock().unwrap().delegations();
    assert_eq!(dels[0].glue.len(), 2);
    // A linked host cannot be deleted; a domain with subordinate hosts cannot be deleted.
    let r = a
        .command(
            CommandKind::Delete(Delete::Host("ns1.glue.nl".into())),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(code(&r), 2305);
    let r = a
        .command(
            CommandKind::Delete(Delete::Domain("glue.nl".into())),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(code(&r), 2305);
    let r = a
        .command(CommandKind::Info(Info::Host("NS1.glue.nl".into())), vec![])
        .await
        .unwrap();
    let Some(ResData::HostInfo(h)) = r.res_data else {
        panic!()
    };
    assert!(
        h.statuses
            .iter()
            .any(|s| s.value == epp::host::HostStatus::Linked)
    );
    w.keep(&a);
    w.keep(&b);
    w.validate_transcripts();
}

#[tokio::test]
async fn transfer_is_immediate_and_notifies_both_registrars() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let mut b = w.login(B).await;
    signed_domain(&mut a, "move.nl", "token-0001").await;
    ok(&new_host(&mut a, "ns1.move.nl", &["192.0.2.53"]).await);

    // Refusals change nothing.
    let before = w.state();
    let r = b
        .command(
            transfer(TransferOp::Request, "move.nl", Some("wrong-token")),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!((code(&r), detail(&r).as_str()), (2202, "T2202"));
    let r = b
        .command(transfer(TransferOp::Request, "move.nl", None), vec![])
        .await
        .unwrap();
    assert_eq!(code(&r), 2003);
    let r = a
        .command(
            transfer(TransferOp::Request, "move.nl", Some("token-0001")),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(code(&r), 2106);
    for op in [TransferOp::Approve, TransferOp::Reject, TransferOp::Cancel] {
        let r = a
            .command(transfer(op, "move.nl", None), vec![])
            .await
            .unwrap();
        assert_eq!(code(&r), 2101, "{op:?}");
    }
    let r = b
        .command(transfer(TransferOp::Query, "move.nl", None), vec![])
        .await
        .unwrap();
    assert_eq!(code(&r), 2201);
    let r = a
        .command(transfer(TransferOp::Query, "move.nl", None), vec![])
        .await
        .unwrap();
    assert_eq!(code(&r), 2301);
    assert_eq!(w.state(), before);

    // The transfer itself.
    let r = b
        .command(
            transfer(TransferOp::Request, "move.nl", Some("token-0001")),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(r.code(), ResultCode::Success);
    let Some(ResData::DomainTransfer(t)) = &r.res_data else {
        panic!("{r:?}")
    };
    assert_eq!(
        (t.tr_status, t.re_id.as_str(), t.ac_id.as_str()),
        (TrStatus::ServerApproved, B, A)
    );
    {
        let reg = w.registry.lock().unwrap();
        let d = reg.domain("move.nl").unwrap();
        assert_eq!(d.sponsor, B);
        assert_ne!(d.token, "token-0001", "the token is replaced");
        assert_eq!(
            reg.host("ns1.move.nl").unwrap().sponsor,
            B,
            "subordinate hosts move along"
        );
        assert_eq!(
            d.keys.len(),
            1,
            "DNSSEC keys stay: the gaining registrar manages the DS"
        );
    }
    // The old token no longer works; A lost access.
    let r = a
        .command(info("move.nl", Some("token-0001")), vec![])
        .await
        .unwrap();
    assert_eq!(code(&r), 2202);
    let r = a
        .command(
            CommandKind::Update(Update::Domain(update("move.nl"))),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(code(&r), 2201);
    // Both parties can query the completed transfer.
    for c in [&mut a, &mut b] {
        let r = c
            .command(transfer(TransferOp::Query, "move.nl", None), vec![])
            .await
            .unwrap();
        assert!(
            matches!(r.res_data, Some(ResData::DomainTransfer(ref t)) if t.tr_status == TrStatus::ServerApproved)
        );
    }

    // Both got a SIDN pollData message.
    for c in [&mut a, &mut b] {
        let r = c
            .command(CommandKind::Poll(Poll::Req), vec![])
            .await
            .unwrap();
        assert_eq!(r.code(), ResultCode::SuccessAckToDequeue);
        let q = r.msg_q.as_ref().unwrap();
        assert_eq!(q.count, 1);
        assert!(q.msg.as_ref().unwrap().text.starts_with("1015 "));
        let Some(ResData::SidnPoll(p)) = &r.res_data else {
            panic!("{r:?}")
        };
        assert_eq!(p.command, "domain:transfer");
        assert!(
            matches!(p.res_data.as_deref(), Some(ResData::DomainTransfer(t)) if t.name == "move.nl")
        );
        let ack = c
            .command(
                CommandKind::Poll(Poll::Ack {
                    msg_id: q.id.clone(),
                }),
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(ack.msg_q.as_ref().unwrap().count, 0);
    }
    w.keep(&a);
    w.keep(&b);
    w.validate_transcripts();
}

#[tokio::test]
async fn key_relay_reaches_the_registrar_of_record() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let mut b = w.login(B).await;
    signed_domain(&mut a, "relay.nl", "token-0001").await;
    let data = |exp: Option<Expiry>| KeyRelayData {
        key_data: ed25519_key(256, 2),
        expiry: exp,
    };

    let before = w.state();
    let r = b
        .command(relay("unknown.nl", "token-0001", vec![data(None)]), vec![])
        .await
        .unwrap();
    assert_eq!((code(&r), detail(&r).as_str()), (2303, "D2303"));
    let r = b
        .command(relay("relay.nl", "not-the-token", vec![data(None)]), vec![])
        .await
        .unwrap();
    assert_eq!((code(&r), detail(&r).as_str()), (2202, "R2202"));
    let r = b
        .command(
            relay(
                "relay.nl",
                "token-0001",
                (0..9).map(|_| data(None)).collect(),
            ),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!((code(&r), detail(&r).as_str()), (2308, "R2308"));
    let mut bad = data(None);
    bad.key_data.alg = 13;
    let mut no_point = data(None);
    no_point.key_data.pub_key = [&[2u8][..], &[0; 31]].concat();
    for bad in [bad, no_point] {
        let r = b
            .command(relay("relay.nl", "token-0001", vec![bad]), vec![])
            .await
            .unwrap();
        assert_eq!((code(&r), detail(&r).as_str()), (2005, "K2005"));
    }
    assert_eq!(w.state(), before, "refused relays change nothing");

    // Accepted: relative expiry, then a revocation (P0D) and an absolute expiry.
    let relative = Expiry::Relative(XsDuration::parse("P1M13D").unwrap());
    ok(&b
        .command(
            relay("relay.nl", "token-0001", vec![data(Some(relative.clone()))]),
            vec![],
        )
        .await
        .unwrap());
    let revoke = Expiry::Relative(XsDuration::parse("P0D").unwrap());
    let absolute = Expiry::Absolute("2026-03-01T00:00:00Z".parse().unwrap());
    ok(&b
        .command(
            relay(
                "relay.nl",
                "token-0001",
                vec![data(Some(revoke.clone())), data(Some(absolute.clone()))],
            ),
            vec![],
        )
        .await
        .unwrap());
    // A may relay to itself (the registrar of record is the receiver).
    ok(&a
        .command(relay("relay.nl", "token-0001", vec![data(None)]), vec![])
        .await
        .unwrap());

    // Nothing for B; three messages for A, in order, expiries unchanged.
    let r = b
        .command(CommandKind::Poll(Poll::Req), vec![])
        .await
        .unwrap();
    assert_eq!(r.code(), ResultCode::SuccessNoMessages);
    let mut seen = Vec::new();
    loop {
        let r = a
            .command(CommandKind::Poll(Poll::Req), vec![])
            .await
            .unwrap();
        if r.code() == ResultCode::SuccessNoMessages {
            break;
        }
        let q = r.msg_q.clone().unwrap();
        let Some(ResData::KeyRelay(k)) = r.res_data else {
            panic!("{r:?}")
        };
        assert_eq!((k.name.as_str(), k.ac_id.as_str()), ("relay.nl", A));
        assert_eq!(k.auth_info.pw(), Some("token-0001"));
        seen.push((
            k.re_id.clone(),
            k.data.iter().map(|d| d.expiry.clone()).collect::<Vec<_>>(),
        ));
        ok(&a
            .command(CommandKind::Poll(Poll::Ack { msg_id: q.id }), vec![])
            .await
            .unwrap());
    }
    assert_eq!(
        seen,
        vec![
            (B.to_string(), vec![Some(relative)]),
            (B.to_string(), vec![Some(revoke), Some(absolute)]),
            (A.to_string(), vec![None]),
        ]
    );
    assert_eq!(w.registry.lock().unwrap().relays().len(), 3);
    w.keep(&a);
    w.keep(&b);
    w.validate_transcripts();
}

#[tokio::test]
async fn poll_queues_are_private_and_survive_disconnects() {
    let w = World::start().await;
    let mut a = w.login(A).await;
    let mut b = w.login(B).await;
    signed_domain(&mut a, "queue.nl", "token-0001").await;
    for _ in 0..3 {
        let k = KeyRelayData {
            key_data: ed25519_key(256, 2),
            expiry: None,
        };
        ok(&b
            .command(relay("queue.nl", "token-0001", vec![k]), vec![])
            .await
            .unwrap());
    }
    // req shows the oldest, repeatedly, until acked.
    let first = a
        .command(CommandKind::Poll(Poll::Req), vec![])
        .await
        .unwrap();
    let again = a
        .command(CommandKind::Poll(Poll::Req), vec![])
        .await
        .unwrap();
    assert_eq!(first.msg_q, again.msg_q);
    let id = first.msg_q.unwrap().id;
    // B cannot ack A's message, and learns nothing about it.
    let before = w.state();
    let r = b
        .command(CommandKind::Poll(Poll::Ack { msg_id: id.clone() }), vec![])
        .await
        .unwrap();
    assert_eq!((code(&r), detail(&r).as_str()), (2303, "Q2303"));
    assert!(r.res_data.is_none() && r.msg_q.is_none());
    let r = a
        .command(
            CommandKind::Poll(Poll::Ack {
                msg_id: "999999".into(),
            }),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(code(&r), 2303);
    assert_eq!(w.state(), before);
    w.keep(&a);
    drop(a);

    // A new session sees the same three messages.
    let mut a = w.login(A).await;
    let r = a
        .command(CommandKind::Poll(Poll::Req), vec![])
        .await
        .unwrap();
    assert_eq!(r.msg_q.as_ref().unwrap().count, 3);
    assert_eq!(r.msg_q.as_ref().unwrap().id, id);
    let r = a
        .command(CommandKind::Poll(Poll::Ack { msg_id: id }), vec![])
        .await
        .unwrap();
    assert_eq!(r.msg_q.as_ref().unwrap().count, 2);
    w.keep(&a);
    w.keep(&b);
    w.validate_transcripts();
}
