//! Codec-wide tests: round trips and schema validity of generated frames, canonical output
//! snapshots, robustness against arbitrary input, and the mapping of refusals to result codes.

use proptest::prelude::*;
use proptest::strategy::ValueTree;

use super::arb;
use super::message::*;
use super::types::{
    AuthInfo, Period, PeriodUnit, Status, Text, TrId, TrStatus, TransferData, XsDuration,
};
use super::{
    CodecError, ErrorKind, ResultCode, changepoll, contact, domain, host, keyrelay, parse, receipt,
    secdns, sidn,
};
use crate::schema::{Schema, assert_schema_valid};

fn schema_for(xml: &str) -> Schema {
    // SIDN's schema is not public: frames that carry its extension are checked with the lax
    // entry point, which still checks everything else strictly.
    if xml.contains("rxsd.domain-registry.nl") {
        Schema::Lax
    } else {
        Schema::Strict
    }
}

fn validate_all(frames: &[Frame]) {
    let mut strict = Vec::new();
    let mut lax = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let xml = f.to_xml();
        let entry = (format!("frame {i}: {f:?}"), xml);
        match schema_for(&entry.1) {
            Schema::Strict => strict.push(entry),
            Schema::Lax => lax.push(entry),
        }
    }
    assert_schema_valid(&strict, Schema::Strict);
    assert_schema_valid(&lax, Schema::Lax);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// parse(write(x)) == x for every message type.
    #[test]
    fn round_trip(frame in arb::frame()) {
        let xml = frame.to_xml();
        let back = parse(xml.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
        prop_assert_eq!(back, frame);
    }

    /// A command's log name is its object mapping and verb (and transfer op) as written: the
    /// constant table in `CommandKind::name` cannot drift from what the frame says.
    #[test]
    fn command_names_match_the_written_command(cmd in arb::command()) {
        let xml = Frame::Command(Box::new(cmd.clone())).to_xml();
        let expected = match &cmd.kind {
            CommandKind::Login(_) => "login".to_string(),
            CommandKind::Logout => "logout".to_string(),
            CommandKind::Poll(Poll::Req) => "poll:req".to_string(),
            CommandKind::Poll(Poll::Ack { .. }) => "poll:ack".to_string(),
            CommandKind::Renew(_) => "domain:renew".to_string(),
            kind => {
                // `<command><verb [op="…"]><object:verb …>`: both read off the frame.
                let verb = ["check", "info", "create", "update", "delete", "transfer"]
                    .into_iter()
                    .find(|v| xml.contains(&format!("<command><{v}")))
                    .expect("a verb element");
                let object = ["domain", "host", "contact", "keyrelay"]
                    .into_iter()
                    .find(|o| xml.contains(&format!("<{o}:{verb} ")))
                    .expect("an object element");
                match kind {
                    CommandKind::Transfer(op, _) => format!("{object}:{verb}:{}", op.as_str()),
                    _ => format!("{object}:{verb}"),
                }
            }
        };
        prop_assert_eq!(cmd.kind.name(), expected.as_str(), "{}", xml);
    }

    /// Arbitrary bytes never panic, and framing garbage is an error, not a frame.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes);
    }

    /// Well-formed XML that is wrong in every other way never panics: real frames with
    /// elements dropped, duplicated, renamed or moved, and values replaced.
    #[test]
    fn mutated_frames_never_panic(frame in arb::frame(), cut in any::<prop::sample::Index>(), how in 0u8..6) {
        let xml = frame.to_xml();
        let tags: Vec<(usize, usize)> = xml
            .match_indices('<')
            .filter_map(|(i, _)| xml[i..].find('>').map(|j| (i, i + j + 1)))
            .collect();
        if tags.is_empty() {
            return Ok(());
        }
        let (a, b) = tags[cut.index(tags.len())];
        let tag = &xml[a..b];
        let mutated = match how {
            0 => format!("{}{}", &xml[..a], &xml[b..]),
            1 => format!("{}{tag}{}", &xml[..b], &xml[b..]),
            2 => xml.replacen(tag, &tag.replace(':', ":x"), 1),
            3 => format!("{}<unexpected/>{}", &xml[..b], &xml[b..]),
            4 => format!("{}&#x1F600;-9999999999999999999999{}", &xml[..b], &xml[b..]),
            _ => xml.replace("urn:ietf:params:xml:ns:domain-1.0", "urn:example:other"),
        };
        let _ = parse(mutated.as_bytes());
    }
}

#[test]
fn generated_frames_validate_against_the_schemas() {
    // Every frame type the writer can produce, from proptest-generated values, passes xmllint
    // with the RFC schemas (one xmllint run per batch keeps this fast).
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let frames: Vec<Frame> = (0..400)
        .map(|_| {
            arb::frame()
                .new_tree(&mut runner)
                .expect("strategy")
                .current()
        })
        .collect();
    validate_all(&frames);
    // The batch reaches every extension, the RFC 8590 one included.
    assert!(
        frames
            .iter()
            .any(|f| f.to_xml().contains(super::uri::CHANGE_POLL)),
        "no generated frame carries changePoll:changeData"
    );
}

#[test]
fn every_frame_type_validates() {
    let frames = catalogue();
    validate_all(&frames.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>());
    // Every kind of frame the codec writes is in the catalogue, so the count reported in the
    // issue is the number of distinct frame types checked against the schemas.
    assert!(
        frames.len() >= 45,
        "catalogue has {} frame types",
        frames.len()
    );
}

#[test]
fn written_frames_carry_no_spare_capacity() {
    // Callers keep what `to_xml` returns (a client's transcript holds every frame it sent, a
    // world's hundreds of polls among them): the writer's 2 or 4 KiB start is given back.
    for (name, frame) in catalogue() {
        for xml in [frame.to_xml(), frame.to_xml_pretty()] {
            assert_eq!(xml.capacity(), xml.len(), "{name}: slack kept");
        }
    }
    // The wire encoder keeps its buffer whole, for the next answer of the connection.
    let mut buf = Vec::with_capacity(8192);
    cmd(CommandKind::Poll(Poll::Req), vec![]).encode_into(&mut buf);
    assert!(buf.capacity() >= 8192, "encode_into gave its buffer away");
}

#[test]
fn canonical_output_snapshots() {
    for (name, frame) in catalogue() {
        if matches!(frame, Frame::Response(_) | Frame::Greeting(_)) {
            insta::assert_snapshot!(name, frame.to_xml_pretty());
            // The readable form is the same frame.
            assert_eq!(parse(frame.to_xml_pretty().as_bytes()).expect(name), frame);
        }
    }
}

fn t(s: &str) -> jiff::Timestamp {
    s.parse().expect("test timestamp")
}

fn tr() -> TrId {
    TrId {
        cl_trid: Some("ABC-12345".into()),
        sv_trid: "SIDN-0000001".into(),
    }
}

fn ok_with(res: ResData) -> Frame {
    let mut r = Response::simple(ResultCode::Success, tr());
    r.res_data = Some(res);
    Frame::Response(Box::new(r))
}

fn key(flags: u16) -> secdns::KeyData {
    secdns::KeyData {
        flags,
        protocol: 3,
        alg: 13,
        pub_key: (0u8..64).collect(),
    }
}

fn cmd(kind: CommandKind, extensions: Vec<CommandExtension>) -> Frame {
    Frame::Command(Box::new(Command {
        kind,
        extensions,
        cl_trid: Some("ABC-12345".into()),
    }))
}

/// One frame of every type the codec writes, with fixed values.
fn catalogue() -> Vec<(&'static str, Frame)> {
    let domain_inf = domain::InfData {
        name: "example.nl".into(),
        roid: "DNM_100028-SIDN".into(),
        statuses: vec![Status::new(domain::DomainStatus::Ok)],
        registrant: Some("REG000001".into()),
        contacts: vec![domain::DomainContact {
            kind: Some(domain::ContactType::Admin),
            id: "ADM000001".into(),
        }],
        ns: Some(domain::NsList::HostObj(vec!["ns1.operator-a.net".into()])),
        hosts: vec![],
        cl_id: "registrarA".into(),
        cr_id: Some("registrarA".into()),
        cr_date: Some(t("2026-01-01T00:00:00Z")),
        up_id: None,
        up_date: None,
        ex_date: Some(t("2027-01-01T00:00:00Z")),
        tr_date: None,
        auth_info: Some(AuthInfo::password("token-0001")),
    };
    let trn = TransferData {
        name: "example.nl".into(),
        tr_status: TrStatus::ServerApproved,
        re_id: "registrarB".into(),
        re_date: t("2026-01-02T10:00:00Z"),
        ac_id: "registrarA".into(),
        ac_date: t("2026-01-02T10:00:00Z"),
        ex_date: None,
    };
    let relay = keyrelay::InfData {
        name: "example.nl".into(),
        auth_info: AuthInfo::password("token-0001"),
        data: vec![keyrelay::KeyRelayData {
            key_data: key(256),
            expiry: Some(keyrelay::Expiry::Relative(
                XsDuration::parse("P1M13D").expect("duration"),
            )),
        }],
        cr_date: t("2026-01-01T12:00:00Z"),
        re_id: "registrarB".into(),
        ac_id: "registrarA".into(),
    };
    let mut error = Response::simple(ResultCode::ParameterValuePolicyError, tr());
    error.results[0].values.push(ResultValue::ExtValue {
        value: super::xml::Element::new(super::xml::Ns::SecDns, "dsData"),
        reason: Text::new("only the key data interface is supported"),
    });
    error
        .extensions
        .push(ResponseExtension::Sidn(sidn::Ext::Response(vec![
            sidn::ErrorDetail::new("K0001", Some("secDNS:dsData"), "Only keyData is accepted."),
        ])));
    let mut poll_relay = Response::simple(ResultCode::SuccessAckToDequeue, tr());
    poll_relay.msg_q = Some(MsgQ {
        count: 2,
        id: "17".into(),
        q_date: Some(t("2026-01-01T12:00:00Z")),
        msg: Some(Text::new("Keyrelay action completed successfully.")),
    });
    poll_relay.res_data = Some(ResData::KeyRelay(Box::new(relay.clone())));
    let mut poll_transfer = Response::simple(ResultCode::SuccessAckToDequeue, tr());
    poll_transfer.msg_q = Some(MsgQ {
        count: 1,
        id: "18".into(),
        q_date: Some(t("2026-01-02T10:00:00Z")),
        msg: Some(Text::new("1015 Transfer domain name example.nl processed")),
    });
    poll_transfer.res_data = Some(ResData::SidnPoll(Box::new(SidnPollData {
        command: "domain:transfer".into(),
        result: EppResult {
            code: ResultCode::Success,
            msg: Text::new("The domain name has been transferred."),
            values: vec![],
        },
        res_data: Some(Box::new(ResData::DomainTransfer(trn.clone()))),
        tr_id: TrId {
            cl_trid: None,
            sv_trid: "SIDN-0000002".into(),
        },
    })));
    let mut info_with_ext = Response::simple(ResultCode::Success, tr());
    info_with_ext.res_data = Some(ResData::DomainInfo(Box::new(domain_inf.clone())));
    info_with_ext.extensions = vec![
        ResponseExtension::SecDnsInfo(secdns::DsOrKeySet {
            max_sig_life: None,
            data: secdns::DsOrKey::Key(vec![key(257)]),
        }),
        ResponseExtension::Sidn(sidn::Ext::DomainInfo(sidn::DomainInfData {
            limited: Some(false),
            opt_out: Some(false),
            period: Some(sidn::months(12)),
            scheduled_delete_date: None,
        })),
    ];
    // Key relay receipts (experimental extension): one poll message per state.
    let receipt = |state: receipt::State, ns: Vec<receipt::HostProbe>, ttl: Option<u32>| {
        let mut r = Response::simple(ResultCode::SuccessAckToDequeue, tr());
        r.msg_q = Some(MsgQ {
            count: 1,
            id: "18".into(),
            q_date: Some(t("2026-01-01T15:00:00Z")),
            msg: Some(Text::new(format!(
                "Key relay receipt: {} for example.nl",
                state.as_str()
            ))),
        });
        r.extensions = vec![ResponseExtension::KeyRelayReceipt(Box::new(
            receipt::Receipt {
                name: "example.nl".into(),
                relay_tr_id: TrId {
                    cl_trid: Some("REGISTRARB-000004".into()),
                    sv_trid: "MOCK-00000012".into(),
                },
                relay_date: t("2026-01-01T12:00:00Z"),
                state,
                state_date: t("2026-01-01T15:00:00Z"),
                until: t("2026-01-09T12:00:00Z"),
                keys: vec![key(256)],
                ns,
                dnskey_ttl: ttl,
            },
        ))];
        Frame::Response(Box::new(r))
    };
    let probes = |second: receipt::HostResult| {
        vec![
            receipt::HostProbe {
                host: "ns1.operator-a.example".into(),
                result: receipt::HostResult::Published,
            },
            receipt::HostProbe {
                host: "ns2.operator-a.example".into(),
                result: second,
            },
        ]
    };
    let receipt_delivered = receipt(receipt::State::Delivered, Vec::new(), None);
    let receipt_published = receipt(
        receipt::State::Published,
        probes(receipt::HostResult::Published),
        Some(3600),
    );
    let receipt_not_published = receipt(
        receipt::State::NotPublished,
        probes(receipt::HostResult::Missing),
        None,
    );
    let receipt_withdrawn = receipt(receipt::State::Withdrawn, Vec::new(), None);
    // RFC 8590 change poll: the registry changed the DS of a domain it scanned the CDS and
    // CDNSKEY records of (RFC 7344/8078); the sponsor gets the domain after the change.
    let mut change_ds = Response::simple(ResultCode::SuccessAckToDequeue, tr());
    change_ds.msg_q = Some(MsgQ {
        count: 1,
        id: "19".into(),
        q_date: Some(t("2026-01-03T06:00:00Z")),
        msg: Some(Text::new(
            "Registry updated the DS of example.nl from its CDNSKEY records",
        )),
    });
    change_ds.res_data = Some(ResData::DomainInfo(Box::new(domain::InfData {
        up_id: Some("registry".into()),
        up_date: Some(t("2026-01-03T06:00:00Z")),
        auth_info: None,
        ..domain_inf.clone()
    })));
    change_ds.extensions = vec![
        ResponseExtension::SecDnsInfo(secdns::DsOrKeySet {
            max_sig_life: None,
            data: secdns::DsOrKey::Key(vec![key(257)]),
        }),
        ResponseExtension::ChangePoll(Box::new(changepoll::ChangeData {
            state: changepoll::ChangeState::After,
            operation: changepoll::Operation {
                kind: changepoll::OperationKind::Update,
                op: None,
            },
            date: t("2026-01-03T06:00:00Z"),
            sv_trid: "MOCK-00000042".into(),
            who: "CDS scanner".into(),
            case_id: None,
            reason: Some(Text {
                text: "CDNSKEY at every name server".into(),
                lang: Some("en".into()),
            }),
        })),
    ];
    let mut ack = Response::simple(ResultCode::Success, tr());
    ack.msg_q = Some(MsgQ {
        count: 1,
        id: "17".into(),
        q_date: None,
        msg: None,
    });
    let contact_inf = contact::InfData {
        id: "REG000001".into(),
        roid: "CON_1-SIDN".into(),
        statuses: vec![Status::new(contact::ContactStatus::Ok)],
        postal_info: vec![contact::PostalInfo {
            kind: contact::PostalType::Loc,
            name: "J. Jansen".into(),
            org: None,
            addr: contact::Address {
                street: vec!["Dorpsstraat 1".into()],
                city: "Arnhem".into(),
                sp: None,
                pc: Some("6811AA".into()),
                cc: "NL".into(),
            },
        }],
        voice: Some(contact::Phone {
            number: "+31.261234567".into(),
            ext: None,
        }),
        fax: None,
        email: "j@example.nl".into(),
        cl_id: "registrarA".into(),
        cr_id: "registrarA".into(),
        cr_date: t("2026-01-01T00:00:00Z"),
        up_id: None,
        up_date: None,
        tr_date: None,
        auth_info: None,
        disclose: None,
    };
    let mut contact_info = Response::simple(ResultCode::Success, tr());
    contact_info.res_data = Some(ResData::ContactInfo(Box::new(contact_inf.clone())));
    contact_info.extensions = vec![ResponseExtension::Sidn(sidn::Ext::ContactInfo(
        sidn::ContactInfData {
            contact: sidn::ContactExt {
                legal_form: sidn::LegalForm::Persoon,
                legal_form_reg_no: None,
            },
            limited: Some(false),
        },
    ))];
    let host_inf = host::InfData {
        name: "ns1.example.nl".into(),
        roid: "HOST_1-SIDN".into(),
        statuses: vec![Status::new(host::HostStatus::Linked)],
        addrs: vec![host::HostAddr::from_ip("192.0.2.1".parse().expect("ip"))],
        cl_id: "registrarA".into(),
        cr_id: "registrarA".into(),
        cr_date: t("2026-01-01T00:00:00Z"),
        up_id: None,
        up_date: None,
        tr_date: None,
    };
    let greeting = Greeting {
        sv_id: "mock SIDN registry".into(),
        sv_date: t("2026-01-01T00:00:00Z"),
        versions: vec!["1.0".into()],
        langs: vec!["en".into(), "nl".into()],
        obj_uris: vec![
            super::uri::DOMAIN.into(),
            super::uri::CONTACT.into(),
            super::uri::HOST.into(),
            super::uri::KEYRELAY.into(),
        ],
        ext_uris: vec![
            super::uri::SECDNS.into(),
            super::uri::SIDN.into(),
            super::uri::SIDN_SCHEDULED_DELETE.into(),
        ],
        dcp: Dcp {
            access: DcpAccess::All,
            statements: vec![DcpStatement {
                purposes: vec!["admin".into(), "prov".into()],
                recipients: DcpRecipients {
                    ours: vec![None],
                    public: true,
                    ..DcpRecipients::default()
                },
                retention: DcpRetention::Stated,
            }],
            expiry: None,
        },
    };
    let dcreate = domain::Create {
        name: "example.nl".into(),
        period: Some(Period {
            value: 12,
            unit: PeriodUnit::Months,
        }),
        ns: Some(domain::NsList::HostObj(vec!["ns1.operator-a.net".into()])),
        registrant: Some("REG000001".into()),
        contacts: vec![],
        auth_info: AuthInfo::password("token-0001"),
    };
    vec![
        ("greeting", Frame::Greeting(Box::new(greeting))),
        ("hello", Frame::Hello),
        (
            "login",
            cmd(
                CommandKind::Login(Login {
                    cl_id: "registrarA".into(),
                    pw: "secret-pw".into(),
                    new_pw: None,
                    version: "1.0".into(),
                    lang: "en".into(),
                    obj_uris: vec![super::uri::DOMAIN.into(), super::uri::KEYRELAY.into()],
                    ext_uris: vec![super::uri::SECDNS.into()],
                }),
                vec![],
            ),
        ),
        ("logout", cmd(CommandKind::Logout, vec![])),
        ("poll-req", cmd(CommandKind::Poll(Poll::Req), vec![])),
        (
            "poll-ack",
            cmd(
                CommandKind::Poll(Poll::Ack {
                    msg_id: "17".into(),
                }),
                vec![],
            ),
        ),
        (
            "domain-check",
            cmd(
                CommandKind::Check(Check::Domain(vec!["example.nl".into()])),
                vec![],
            ),
        ),
        (
            "host-check",
            cmd(
                CommandKind::Check(Check::Host(vec!["ns1.example.nl".into()])),
                vec![],
            ),
        ),
        (
            "contact-check",
            cmd(
                CommandKind::Check(Check::Contact(vec!["REG000001".into()])),
                vec![],
            ),
        ),
        (
            "domain-info",
            cmd(
                CommandKind::Info(Info::Domain(domain::Info {
                    name: "example.nl".into(),
                    hosts: domain::HostsFilter::All,
                    auth_info: Some(AuthInfo::password("token-0001")),
                })),
                vec![],
            ),
        ),
        (
            "host-info",
            cmd(
                CommandKind::Info(Info::Host("ns1.example.nl".into())),
                vec![],
            ),
        ),
        (
            "contact-info",
            cmd(
                CommandKind::Info(Info::Contact(contact::AuthId {
                    id: "REG000001".into(),
                    auth_info: None,
                })),
                vec![],
            ),
        ),
        (
            "domain-create-keydata",
            cmd(
                CommandKind::Create(Create::Domain(dcreate.clone())),
                vec![CommandExtension::SecDnsCreate(secdns::DsOrKeySet {
                    max_sig_life: None,
                    data: secdns::DsOrKey::Key(vec![key(257)]),
                })],
            ),
        ),
        (
            "domain-create-dsdata",
            cmd(
                CommandKind::Create(Create::Domain(dcreate)),
                vec![CommandExtension::SecDnsCreate(secdns::DsOrKeySet {
                    max_sig_life: Some(86400),
                    data: secdns::DsOrKey::Ds(vec![secdns::DsData {
                        key_tag: 12345,
                        alg: 13,
                        digest_type: 2,
                        digest: vec![0xAB; 32],
                        key_data: None,
                    }]),
                })],
            ),
        ),
        (
            "host-create",
            cmd(
                CommandKind::Create(Create::Host(host::Create {
                    name: "ns1.example.nl".into(),
                    addrs: vec![host::HostAddr::from_ip("192.0.2.1".parse().expect("ip"))],
                })),
                vec![],
            ),
        ),
        (
            "contact-create-sidn",
            cmd(
                CommandKind::Create(Create::Contact(contact::Create {
                    id: "REG000001".into(),
                    postal_info: contact_inf.postal_info.clone(),
                    voice: contact_inf.voice.clone(),
                    fax: None,
                    email: "j@example.nl".into(),
                    auth_info: AuthInfo::password("contact-pw"),
                    disclose: None,
                })),
                vec![CommandExtension::Sidn(sidn::Ext::ContactCreate(
                    sidn::ContactExt {
                        legal_form: sidn::LegalForm::Persoon,
                        legal_form_reg_no: None,
                    },
                ))],
            ),
        ),
        (
            "keyrelay-create",
            cmd(
                CommandKind::Create(Create::KeyRelay(keyrelay::Create {
                    name: relay.name.clone(),
                    auth_info: relay.auth_info.clone(),
                    data: relay.data.clone(),
                })),
                vec![],
            ),
        ),
        (
            "domain-update-secdns",
            cmd(
                CommandKind::Update(Update::Domain(domain::Update {
                    name: "example.nl".into(),
                    add: Some(domain::AddRem {
                        ns: Some(domain::NsList::HostObj(vec!["ns1.operator-b.net".into()])),
                        ..domain::AddRem::default()
                    }),
                    rem: Some(domain::AddRem {
                        ns: Some(domain::NsList::HostObj(vec!["ns1.operator-a.net".into()])),
                        ..domain::AddRem::default()
                    }),
                    chg: Some(domain::Change {
                        registrant: None,
                        auth_info: Some(domain::AuthInfoChange::Set(AuthInfo::password(
                            "new-token",
                        ))),
                    }),
                })),
                vec![CommandExtension::SecDnsUpdate(secdns::Update {
                    urgent: false,
                    rem: Some(secdns::Remove::Key(vec![key(257)])),
                    add: Some(secdns::DsOrKeySet {
                        max_sig_life: None,
                        data: secdns::DsOrKey::Key(vec![key(257)]),
                    }),
                    chg: None,
                })],
            ),
        ),
        (
            "domain-update-scheduled-delete",
            cmd(
                CommandKind::Update(Update::Domain(domain::Update {
                    name: "example.nl".into(),
                    add: None,
                    rem: None,
                    chg: None,
                })),
                vec![CommandExtension::ScheduledDelete(
                    sidn::ScheduledDelete::SetDateToEndOfSubscriptionPeriod,
                )],
            ),
        ),
        (
            "host-update",
            cmd(
                CommandKind::Update(Update::Host(host::Update {
                    name: "ns1.example.nl".into(),
                    add: Some(host::AddRem {
                        addrs: vec![host::HostAddr::from_ip("2001:db8::1".parse().expect("ip"))],
                        statuses: vec![],
                    }),
                    rem: None,
                    new_name: None,
                })),
                vec![],
            ),
        ),
        (
            "contact-update",
            cmd(
                CommandKind::Update(Update::Contact(contact::Update {
                    id: "REG000001".into(),
                    add: Some(vec![Status::new(
                        contact::ContactStatus::ClientDeleteProhibited,
                    )]),
                    rem: None,
                    chg: None,
                })),
                vec![],
            ),
        ),
        (
            "domain-delete",
            cmd(
                CommandKind::Delete(Delete::Domain("example.nl".into())),
                vec![],
            ),
        ),
        (
            "host-delete",
            cmd(
                CommandKind::Delete(Delete::Host("ns1.example.nl".into())),
                vec![],
            ),
        ),
        (
            "contact-delete",
            cmd(
                CommandKind::Delete(Delete::Contact("REG000001".into())),
                vec![],
            ),
        ),
        (
            "domain-renew",
            cmd(
                CommandKind::Renew(domain::Renew {
                    name: "example.nl".into(),
                    cur_exp_date: "2027-01-01".parse().expect("date"),
                    period: Some(sidn::months(12)),
                }),
                vec![],
            ),
        ),
        (
            "domain-transfer-request",
            cmd(
                CommandKind::Transfer(
                    TransferOp::Request,
                    Transfer::Domain(domain::Transfer {
                        name: "example.nl".into(),
                        period: None,
                        auth_info: Some(AuthInfo::password("token-0001")),
                    }),
                ),
                vec![],
            ),
        ),
        (
            "contact-transfer-query",
            cmd(
                CommandKind::Transfer(
                    TransferOp::Query,
                    Transfer::Contact(contact::AuthId {
                        id: "REG000001".into(),
                        auth_info: None,
                    }),
                ),
                vec![],
            ),
        ),
        (
            "sidn-cancel-delete",
            Frame::Extension(sidn::ExtCommand {
                kind: sidn::ExtCommandKind::DomainCancelDelete {
                    name: "example.nl".into(),
                    period: Some(sidn::months(12)),
                },
                cl_trid: Some("ABC-12345".into()),
            }),
        ),
        (
            "response-success",
            Frame::Response(Box::new(Response::simple(ResultCode::Success, tr()))),
        ),
        (
            "response-logout",
            Frame::Response(Box::new(Response::simple(
                ResultCode::SuccessEndingSession,
                tr(),
            ))),
        ),
        ("response-error-sidn", Frame::Response(Box::new(error))),
        (
            "response-domain-check",
            ok_with(ResData::DomainCheck(vec![super::types::CheckResult {
                name: "example.nl".into(),
                avail: false,
                reason: Some(Text::new("In use")),
            }])),
        ),
        (
            "response-domain-create",
            ok_with(ResData::DomainCreate(domain::CreData {
                name: "example.nl".into(),
                cr_date: t("2026-01-01T00:00:00Z"),
                ex_date: Some(t("2027-01-01T00:00:00Z")),
            })),
        ),
        (
            "response-domain-info",
            Frame::Response(Box::new(info_with_ext)),
        ),
        (
            "response-domain-info-plain",
            ok_with(ResData::DomainInfo(Box::new(domain_inf))),
        ),
        (
            "response-domain-renew",
            ok_with(ResData::DomainRenew(domain::RenData {
                name: "example.nl".into(),
                ex_date: Some(t("2028-01-01T00:00:00Z")),
            })),
        ),
        (
            "response-domain-transfer",
            ok_with(ResData::DomainTransfer(trn.clone())),
        ),
        (
            "response-domain-pending",
            ok_with(ResData::DomainPending(super::types::PanData {
                name: "example.nl".into(),
                pa_result: true,
                pa_trid: tr(),
                pa_date: t("2026-01-02T10:00:00Z"),
            })),
        ),
        (
            "response-host-check",
            ok_with(ResData::HostCheck(vec![super::types::CheckResult {
                name: "ns1.example.nl".into(),
                avail: true,
                reason: None,
            }])),
        ),
        (
            "response-host-create",
            ok_with(ResData::HostCreate(host::CreData {
                name: "ns1.example.nl".into(),
                cr_date: t("2026-01-01T00:00:00Z"),
            })),
        ),
        (
            "response-host-info",
            ok_with(ResData::HostInfo(Box::new(host_inf))),
        ),
        (
            "response-contact-check",
            ok_with(ResData::ContactCheck(vec![super::types::CheckResult {
                name: "REG000001".into(),
                avail: false,
                reason: None,
            }])),
        ),
        (
            "response-contact-create",
            ok_with(ResData::ContactCreate(contact::CreData {
                id: "REG000001".into(),
                cr_date: t("2026-01-01T00:00:00Z"),
            })),
        ),
        (
            "response-contact-info",
            Frame::Response(Box::new(contact_info)),
        ),
        (
            "response-contact-transfer",
            ok_with(ResData::ContactTransfer(TransferData {
                name: "REG000001".into(),
                ex_date: None,
                ..trn
            })),
        ),
        (
            "response-poll-keyrelay",
            Frame::Response(Box::new(poll_relay)),
        ),
        (
            "response-poll-sidn-transfer",
            Frame::Response(Box::new(poll_transfer)),
        ),
        (
            "response-poll-empty",
            Frame::Response(Box::new(Response::simple(
                ResultCode::SuccessNoMessages,
                tr(),
            ))),
        ),
        ("response-poll-ack", Frame::Response(Box::new(ack))),
        ("response-poll-receipt-delivered", receipt_delivered),
        ("response-poll-receipt-published", receipt_published),
        ("response-poll-receipt-not-published", receipt_not_published),
        ("response-poll-receipt-withdrawn", receipt_withdrawn),
        (
            "response-poll-change-ds",
            Frame::Response(Box::new(change_ds)),
        ),
    ]
}

fn code_of(xml: &str) -> u16 {
    match parse(xml.as_bytes()) {
        Ok(f) => panic!("expected a refusal, parsed {f:?}"),
        Err(CodecError { kind, .. }) => kind.result_code().code(),
    }
}

const E: &str = r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0">"#;
const D: &str = r#"xmlns:domain="urn:ietf:params:xml:ns:domain-1.0""#;

#[test]
fn refusals_map_to_result_codes() {
    // 2001: not well-formed, unknown elements, wrong order.
    assert_eq!(code_of("<epp"), 2001);
    assert_eq!(
        code_of(&format!("{E}<command><logout/><bogus/></command></epp>")),
        2001
    );
    assert_eq!(
        code_of(&format!(
            "{E}<command><info><domain:info {D}><domain:authInfo><domain:pw>x</domain:pw></domain:authInfo><domain:name>a.nl</domain:name></domain:info></info></command></epp>"
        )),
        2001
    );
    // 2003: required element missing.
    assert_eq!(
        code_of(&format!(
            "{E}<command><info><domain:info {D}/></info></command></epp>"
        )),
        2003
    );
    assert_eq!(
        code_of(&format!("{E}<command><poll op=\"ack\"/></command></epp>")),
        2003
    );
    // 2004: value out of range.
    assert_eq!(
        code_of(&format!(
            "{E}<command><renew><domain:renew {D}><domain:name>a.nl</domain:name><domain:curExpDate>2027-01-01</domain:curExpDate><domain:period unit=\"y\">100</domain:period></domain:renew></renew></command></epp>"
        )),
        2004
    );
    // 2005: value syntax.
    assert_eq!(
        code_of(&format!(
            "{E}<command><renew><domain:renew {D}><domain:name>a.nl</domain:name><domain:curExpDate>tomorrow</domain:curExpDate></domain:renew></renew></command></epp>"
        )),
        2005
    );
    assert_eq!(
        code_of(&format!("{E}<command><poll op=\"peek\"/></command></epp>")),
        2005
    );
    // 2000: unknown command.
    assert_eq!(
        code_of(&format!("{E}<command><frobnicate/></command></epp>")),
        2000
    );
    // 2307: unknown object namespace, or a service the mapping lacks.
    assert_eq!(
        code_of(&format!(
            "{E}<command><info><x:info xmlns:x=\"urn:example:obj\"/></info></command></epp>"
        )),
        2307
    );
    assert_eq!(
        code_of(&format!(
            "{E}<command><renew><host:renew xmlns:host=\"urn:ietf:params:xml:ns:host-1.0\"/></renew></command></epp>"
        )),
        2307
    );
    // 2103: unknown extension.
    assert_eq!(
        code_of(&format!(
            "{E}<command><check><domain:check {D}><domain:name>a.nl</domain:name></domain:check></check><extension><x:y xmlns:x=\"urn:example:ext\"/></extension></command></epp>"
        )),
        2103
    );
    // 2100: protocol version.
    assert_eq!(
        code_of(&format!(
            "{E}<command><login><clID>registrarA</clID><pw>secret-pw</pw><options><version>2.0</version><lang>en</lang></options><svcs><objURI>urn:ietf:params:xml:ns:domain-1.0</objURI></svcs></login></command></epp>"
        )),
        2100
    );
    // Prefixes do not matter, namespaces do.
    let by_prefix = format!(
        "{E}<command><check><d:check xmlns:d=\"urn:ietf:params:xml:ns:domain-1.0\"><d:name>a.nl</d:name></d:check></check></command></epp>"
    );
    assert!(matches!(parse(by_prefix.as_bytes()), Ok(Frame::Command(_))));
    let wrong_ns = format!(
        "{E}<command><check><domain:check xmlns:domain=\"urn:ietf:params:xml:ns:domain-2.0\"><domain:name>a.nl</domain:name></domain:check></check></command></epp>"
    );
    assert_eq!(code_of(&wrong_ns), 2307);
}

/// Issue 11: a repeated extension element is refused (2001), in commands and in responses,
/// never merged or cut to one; two elements of different extensions are fine.
#[test]
fn repeated_extension_elements_are_refused() {
    let s = r#"xmlns:secDNS="urn:ietf:params:xml:ns:secDNS-1.1""#;
    let k = "<secDNS:keyData><secDNS:flags>257</secDNS:flags><secDNS:protocol>3</secDNS:protocol><secDNS:alg>15</secDNS:alg><secDNS:pubKey>AAAA</secDNS:pubKey></secDNS:keyData>";
    let create = |ext: &str| {
        format!(
            "{E}<command><create><domain:create {D}><domain:name>a.nl</domain:name><domain:authInfo><domain:pw>token-1</domain:pw></domain:authInfo></domain:create></create><extension>{ext}</extension></command></epp>"
        )
    };
    let one = create(&format!("<secDNS:create {s}>{k}{k}</secDNS:create>"));
    assert!(parse(one.as_bytes()).is_ok());
    let two = create(&format!(
        "<secDNS:create {s}>{k}</secDNS:create><secDNS:create {s}>{k}</secDNS:create>"
    ));
    assert_eq!(code_of(&two), 2001);
    let err = parse(two.as_bytes()).unwrap_err();
    assert!(err.reason.contains("more than once"), "{err}");
    // An unknown extension stays 2103, repeated or not.
    let unknown = create("<x:y xmlns:x=\"urn:example:ext\"/><x:y xmlns:x=\"urn:example:ext\"/>");
    assert_eq!(code_of(&unknown), 2103);
    let sd = r#"xmlns:sd="http://rxsd.domain-registry.nl/sidn-ext-epp-scheduled-delete-1.0""#;
    let update = format!(
        "{E}<command><update><domain:update {D}><domain:name>a.nl</domain:name></domain:update></update><extension><sd:update {sd}><sd:operation>cancel</sd:operation></sd:update><secDNS:update {s}><secDNS:add>{k}</secDNS:add></secDNS:update><sd:update {sd}><sd:operation>cancel</sd:operation></sd:update></extension></command></epp>"
    );
    assert_eq!(code_of(&update), 2001);
    // A response with two secDNS:infData.
    let response = format!(
        "{E}<response><result code=\"1000\"><msg>ok</msg></result><extension><secDNS:infData {s}>{k}</secDNS:infData><secDNS:infData {s}>{k}</secDNS:infData></extension><trID><svTRID>abc-1</svTRID></trID></response></epp>"
    );
    assert_eq!(code_of(&response), 2001);
    // Typed commands: the same rule, for servers executing commands built in-process.
    let x = CommandExtension::ScheduledDelete(sidn::ScheduledDelete::Cancel);
    assert!(CommandExtension::check_unique(std::slice::from_ref(&x)).is_ok());
    assert!(CommandExtension::check_unique(&[x.clone(), x]).is_err());
}

#[test]
fn refusals_keep_the_cltrid_and_the_offending_element() {
    let xml = format!(
        "{E}<command><renew><domain:renew {D}><domain:name>a.nl</domain:name><domain:curExpDate>2027-01-01</domain:curExpDate><domain:period unit=\"y\">100</domain:period></domain:renew></renew><clTRID>XYZ-1</clTRID></command></epp>"
    );
    let e = parse(xml.as_bytes()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Range);
    assert_eq!(e.cl_trid.as_deref(), Some("XYZ-1"));
    assert_eq!(
        e.offending.as_ref().map(|o| o.name.as_str()),
        Some("period")
    );
}

#[test]
fn results_carry_the_rfc_texts() {
    assert_eq!(ResultCode::ALL.len(), 34);
    for code in ResultCode::ALL {
        assert_eq!(ResultCode::from_code(code.code()), Some(code));
        assert!(!code.message().is_empty());
    }
    assert_eq!(ResultCode::from_code(1234), None);
    assert_eq!(
        ResultCode::InvalidAuthorizationInformation.to_string(),
        "2202 Invalid authorization information"
    );
    assert!(ResultCode::AuthenticationErrorServerClosingConnection.ends_session());
    assert!(!ResultCode::CommandFailed.ends_session());
}

/// The receipt schema is strict where the codec is: a wrong state or result token, a missing
/// `until`, an empty `<keyrelayReceipt:ns>` or elements out of order fail xmllint and are
/// refused by the reader alike; the catalogue's receipts pass both.
#[test]
fn receipt_schema_and_codec_agree_on_bad_receipts() {
    let good = catalogue_frame("response-poll-receipt-not-published").to_xml();
    let bad: Vec<(String, String)> = [
        ("state", good.replace(">notPublished<", ">lost<")),
        ("result", good.replace("result=\"missing\"", "result=\"late\"")),
        (
            "until",
            good.replace(
                "<keyrelayReceipt:until>2026-01-09T12:00:00Z</keyrelayReceipt:until>",
                "",
            ),
        ),
        (
            "empty ns",
            {
                let a = good.find("<keyrelayReceipt:ns>").expect("ns");
                let b = good.find("</keyrelayReceipt:ns>").expect("ns end");
                format!("{}<keyrelayReceipt:ns/>{}", &good[..a], &good[b + 21..])
            },
        ),
        (
            "order",
            good.replace(
                "<keyrelayReceipt:state>notPublished</keyrelayReceipt:state><keyrelayReceipt:stateDate>2026-01-01T15:00:00Z</keyrelayReceipt:stateDate>",
                "<keyrelayReceipt:stateDate>2026-01-01T15:00:00Z</keyrelayReceipt:stateDate><keyrelayReceipt:state>notPublished</keyrelayReceipt:state>",
            ),
        ),
    ]
    .into_iter()
    .map(|(n, x)| (n.to_string(), x))
    .collect();
    for (name, xml) in &bad {
        assert_ne!(xml, &good, "{name}: the mutation must change the frame");
        assert!(parse(xml.as_bytes()).is_err(), "{name}: the codec took it");
    }
    let failed: Vec<String> = crate::schema::xmllint_failures(&bad, Schema::Strict)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        failed.len(),
        bad.len(),
        "xmllint let some through: {failed:?}"
    );
    assert_schema_valid(&[("good".to_string(), good)], Schema::Strict);
}

/// RFC 9038 §6: a receipt for a session that did not announce the namespace goes into the
/// result's `<extValue>`, with the reason `URI not in login services`; the frame stays valid
/// and reads back with the receipt as an uninterpreted element.
#[test]
fn receipts_move_into_ext_value_for_sessions_without_the_extension() {
    let frame = unhandled(
        catalogue_frame("response-poll-receipt-published"),
        0,
        crate::xml::Ns::KeyRelayReceipt,
    );
    insta::assert_snapshot!("response-poll-receipt-unhandled", frame.to_xml_pretty());
    validate_all(std::slice::from_ref(&frame));
    assert_eq!(parse(frame.to_xml().as_bytes()).expect("reads back"), frame);
}

fn catalogue_frame(name: &str) -> Frame {
    catalogue()
        .into_iter()
        .find(|(n, _)| *n == name)
        .expect("catalogue entry")
        .1
}

fn change_ds_frame() -> Frame {
    catalogue_frame("response-poll-change-ds")
}

/// `frame` as a server answers a session that did not announce the namespace of its
/// extension `index` (of namespace `ns`): the element moves into the first result's
/// `<extValue>` with the reason RFC 9038 §6 gives.
fn unhandled(frame: Frame, index: usize, ns: crate::xml::Ns) -> Frame {
    let Frame::Response(mut r) = frame else {
        panic!("a response")
    };
    let ext = r.extensions.remove(index);
    let value = ext.to_element();
    assert_eq!(value.ns, ns);
    r.results[0].values.push(ResultValue::ExtValue {
        value,
        reason: Text::new(format!("{} not in login services", ext.uri())),
    });
    Frame::Response(r)
}

/// The change poll message the registry sends after a DS change of its own: `domain:infData`
/// in `<resData>`, `secDNS:infData` and `changePoll:changeData` in `<extension>`, in that
/// order; it validates against the strict entry point (every element has its schema) and reads
/// back to the same value.
#[test]
fn change_poll_message_validates_and_reads_back() {
    let frame = change_ds_frame();
    let xml = frame.to_xml();
    assert_eq!(schema_for(&xml), Schema::Strict);
    assert_schema_valid(&[("change-ds".to_string(), xml.clone())], Schema::Strict);
    let sec = xml.find("<secDNS:infData").expect("secDNS:infData");
    let change = xml
        .find("<changePoll:changeData")
        .expect("changePoll:changeData");
    assert!(xml.find("<domain:infData").expect("domain:infData") < sec && sec < change);
    assert!(xml.contains(r#"<changePoll:changeData xmlns:changePoll="urn:ietf:params:xml:ns:changePoll-1.0" state="after">"#));
    assert_eq!(parse(xml.as_bytes()).expect("reads back"), frame);
}

/// The schema and the reader agree on what the schema forbids; where RFC 8590 asks more than
/// its schema can say (§2.1, §2.3, §3.1.2), xmllint lets the frame through and the reader
/// refuses it, on purpose.
#[test]
fn change_poll_schema_and_codec_agree_on_bad_change_data() {
    let good = change_ds_frame().to_xml();
    let cp = |inner: &str| inner.replace("cp:", "changePoll:");
    let mutate = |from: &str, to: &str| {
        let (from, to) = (cp(from), cp(to));
        assert!(good.contains(&from), "{from}");
        good.replacen(&from, &to, 1)
    };
    let schema_bad: Vec<(String, String)> = [
        ("operation", mutate(">update<", ">modify<")),
        ("state", mutate(r#"state="after""#, r#"state="later""#)),
        ("no who", mutate("<cp:who>CDS scanner</cp:who>", "")),
        (
            "empty who",
            mutate("<cp:who>CDS scanner</cp:who>", "<cp:who></cp:who>"),
        ),
        (
            "long who",
            mutate(
                "<cp:who>CDS scanner</cp:who>",
                &format!("<cp:who>{}</cp:who>", "w".repeat(256)),
            ),
        ),
        ("short svTRID", mutate(">MOCK-00000042<", ">M1<")),
        (
            "long reason",
            mutate(
                ">CDNSKEY at every name server<",
                ">CDNSKEY at every one of the name servers<",
            ),
        ),
        ("lang", mutate(r#"lang="en""#, r#"lang="english language""#)),
        (
            "order",
            mutate(
                "<cp:svTRID>MOCK-00000042</cp:svTRID><cp:who>CDS scanner</cp:who>",
                "<cp:who>CDS scanner</cp:who><cp:svTRID>MOCK-00000042</cp:svTRID>",
            ),
        ),
        (
            "case type",
            mutate(
                "<cp:who>CDS scanner</cp:who>",
                r#"<cp:who>CDS scanner</cp:who><cp:caseId type="court">C-1</cp:caseId>"#,
            ),
        ),
        (
            "unknown element",
            mutate(
                "<cp:who>CDS scanner</cp:who>",
                "<cp:who>CDS scanner</cp:who><cp:note>x</cp:note>",
            ),
        ),
    ]
    .into_iter()
    .map(|(n, x)| (n.to_string(), x))
    .collect();
    let rfc_bad: Vec<(String, String)> = [
        ("custom op without op", mutate(">update<", ">custom<")),
        ("transfer without op", mutate(">update<", ">transfer<")),
        (
            "transfer op=query",
            mutate(">update<", r#" op="query">transfer<"#),
        ),
        (
            "non-ASCII op",
            mutate(
                "<cp:operation>update",
                r#"<cp:operation op="mise-à-jour">update"#,
            ),
        ),
        (
            "blank who",
            mutate("<cp:who>CDS scanner</cp:who>", "<cp:who>   </cp:who>"),
        ),
        (
            "custom case without name",
            mutate(
                "<cp:who>CDS scanner</cp:who>",
                r#"<cp:who>CDS scanner</cp:who><cp:caseId type="custom">C-1</cp:caseId>"#,
            ),
        ),
        (
            "empty case id",
            mutate(
                "<cp:who>CDS scanner</cp:who>",
                r#"<cp:who>CDS scanner</cp:who><cp:caseId type="udrp"></cp:caseId>"#,
            ),
        ),
    ]
    .into_iter()
    .map(|(n, x)| (n.to_string(), x))
    .collect();
    for (name, xml) in schema_bad.iter().chain(&rfc_bad) {
        assert_ne!(xml, &good, "{name}: the mutation must change the frame");
        assert!(parse(xml.as_bytes()).is_err(), "{name}: the codec took it");
    }
    let failed: Vec<String> = crate::schema::xmllint_failures(&schema_bad, Schema::Strict)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        failed.len(),
        schema_bad.len(),
        "xmllint let some through: {failed:?}"
    );
    assert_schema_valid(&rfc_bad, Schema::Strict);
}

/// `ChangeData::check` and the reader are one rule set: a value `check` refuses is refused with
/// the same kind when written and read back, and every generated value passes both.
#[test]
fn change_data_check_is_what_the_reader_enforces() {
    let Frame::Response(r) = change_ds_frame() else {
        panic!("a response")
    };
    let ResponseExtension::ChangePoll(base) = &r.extensions[1] else {
        panic!("change data")
    };
    let variants: Vec<fn(&mut changepoll::ChangeData)> = vec![
        |d| d.operation.kind = changepoll::OperationKind::Custom,
        |d| {
            d.operation.kind = changepoll::OperationKind::Restore;
            d.operation.op = Some("undo".into());
        },
        |d| d.operation.op = Some(String::new()),
        |d| d.who = "  ".into(),
        |d| d.sv_trid = "x".into(),
        |d| {
            d.case_id = Some(changepoll::CaseId {
                kind: changepoll::CaseType::Custom,
                name: None,
                id: "C-1".into(),
            });
        },
        |d| d.reason = Some(Text::new("")),
    ];
    for (i, change) in variants.into_iter().enumerate() {
        let mut d = (**base).clone();
        change(&mut d);
        let expected = d.check().expect_err("an invalid value").kind;
        let mut bad = (*r).clone();
        bad.extensions[1] = ResponseExtension::ChangePoll(Box::new(d));
        let xml = Frame::Response(Box::new(bad)).to_xml();
        assert_eq!(
            parse(xml.as_bytes()).map_err(|e| e.kind).err(),
            Some(expected),
            "variant {i}: {xml}"
        );
    }
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..200 {
        let d = arb::change_data()
            .new_tree(&mut runner)
            .expect("strategy")
            .current();
        assert_eq!(d.check(), Ok(()), "{d:?}");
    }
}

/// RFC 9038: for a session that did not announce the namespace, the change data goes into
/// the result's `<extValue>`; the frame stays valid and reads back.
#[test]
fn change_data_moves_into_ext_value_for_sessions_without_the_extension() {
    let frame = unhandled(change_ds_frame(), 1, crate::xml::Ns::ChangePoll);
    validate_all(std::slice::from_ref(&frame));
    assert_eq!(parse(frame.to_xml().as_bytes()).expect("reads back"), frame);
}
