//! proptest strategies for every EPP message type, producing only values the schemas allow
//! (so each generated frame must also pass xmllint).

use jiff::Timestamp;
use jiff::civil::Date;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::message::*;
use super::types::{
    AuthInfo, CheckResult, PanData, Period, PeriodUnit, Status, Text, TrId, TrStatus, TransferData,
    XsDuration,
};
use super::xml::{Element, Ns};
use super::{contact, domain, host, keyrelay, secdns, sidn, uri};

pub(crate) fn label() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,12}(\\.[a-z0-9]{1,12}){0,3}"
}

pub(crate) fn clid() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{3,16}"
}

fn roid() -> impl Strategy<Value = String> {
    "[A-Z0-9_]{1,20}-[A-Z]{1,8}"
}

fn trid() -> impl Strategy<Value = String> {
    "[A-Z]{3}-[0-9]{1,10}"
}

fn normalized_text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 .,&<>'\"]{0,30}"
}

fn lang() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("en".to_string()),
        Just("nl".to_string()),
        Just("fr-CA".to_string())
    ]
}

fn text() -> impl Strategy<Value = Text> {
    (normalized_text(), option::of(lang())).prop_map(|(text, lang)| Text { text, lang })
}

fn reason() -> impl Strategy<Value = Text> {
    ("[A-Za-z]{1,10}( [A-Za-z]{1,10}){0,2}", option::of(lang()))
        .prop_map(|(text, lang)| Text { text, lang })
}

pub(crate) fn timestamp() -> impl Strategy<Value = Timestamp> {
    (
        946_684_800i64..4_102_444_800,
        prop_oneof![Just(0i32), 0i32..1000],
    )
        .prop_map(|(s, ms)| {
            Timestamp::new(s, ms * 1_000_000).expect("invariant: the range is within jiff's")
        })
}

fn date() -> impl Strategy<Value = Date> {
    (2000i16..2099, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).expect("valid"))
}

fn duration() -> impl Strategy<Value = XsDuration> {
    (
        any::<bool>(),
        option::of(0u32..20),
        option::of(0u32..40),
        option::of(0u32..400),
        option::of(0u32..48),
    )
        .prop_map(|(neg, y, m, d, h)| {
            let mut s = String::from(if neg { "-P" } else { "P" });
            for (v, c) in [(y, 'Y'), (m, 'M'), (d, 'D')] {
                if let Some(v) = v {
                    s.push_str(&format!("{v}{c}"));
                }
            }
            if let Some(h) = h {
                s.push_str(&format!("T{h}H"));
            }
            if s.ends_with('P') {
                s.push_str("0D");
            }
            XsDuration::parse(&s).expect("invariant: built from the lexical rules")
        })
}

fn period() -> impl Strategy<Value = Period> {
    (
        1u8..=99,
        prop_oneof![Just(PeriodUnit::Years), Just(PeriodUnit::Months)],
    )
        .prop_map(|(value, unit)| Period { value, unit })
}

fn auth_info() -> impl Strategy<Value = AuthInfo> {
    ("[A-Za-z0-9&<>]{1,16}", option::of(roid()))
        .prop_map(|(pw, roid)| AuthInfo::Password { pw, roid })
}

fn status<S: Copy + std::fmt::Debug + 'static>(
    all: &'static [S],
) -> impl Strategy<Value = Status<S>> {
    (
        proptest::sample::select(all),
        option::of(("[A-Za-z .]{1,20}", option::of(lang()))),
    )
        .prop_map(|(value, t)| Status {
            value,
            text: t.map(|(text, lang)| Text { text, lang }),
        })
}

fn host_addr() -> impl Strategy<Value = host::HostAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| host::HostAddr::from_ip(std::net::Ipv4Addr::from(a).into())),
        any::<[u16; 8]>().prop_map(|a| host::HostAddr::from_ip(std::net::Ipv6Addr::from(a).into())),
    ]
}

fn ns_list() -> impl Strategy<Value = domain::NsList> {
    prop_oneof![
        vec(label(), 1..4).prop_map(domain::NsList::HostObj),
        vec(
            (label(), vec(host_addr(), 0..3))
                .prop_map(|(name, addrs)| domain::HostAttr { name, addrs }),
            1..3
        )
        .prop_map(domain::NsList::HostAttr),
    ]
}

fn domain_contact() -> impl Strategy<Value = domain::DomainContact> {
    (
        option::of(prop_oneof![
            Just(domain::ContactType::Admin),
            Just(domain::ContactType::Billing),
            Just(domain::ContactType::Tech)
        ]),
        clid(),
    )
        .prop_map(|(kind, id)| domain::DomainContact { kind, id })
}

fn key_data() -> impl Strategy<Value = secdns::KeyData> {
    (
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        vec(any::<u8>(), 1..64),
    )
        .prop_map(|(flags, protocol, alg, pub_key)| secdns::KeyData {
            flags,
            protocol,
            alg,
            pub_key,
        })
}

fn ds_data() -> impl Strategy<Value = secdns::DsData> {
    (
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        vec(any::<u8>(), 1..48),
        option::of(key_data()),
    )
        .prop_map(
            |(key_tag, alg, digest_type, digest, key_data)| secdns::DsData {
                key_tag,
                alg,
                digest_type,
                digest,
                key_data,
            },
        )
}

fn ds_or_key() -> impl Strategy<Value = secdns::DsOrKeySet> {
    (
        option::of(1u32..=i32::MAX as u32),
        prop_oneof![
            vec(ds_data(), 1..3).prop_map(secdns::DsOrKey::Ds),
            vec(key_data(), 1..3).prop_map(secdns::DsOrKey::Key),
        ],
    )
        .prop_map(|(max_sig_life, data)| secdns::DsOrKeySet { max_sig_life, data })
}

fn secdns_update() -> impl Strategy<Value = secdns::Update> {
    (
        any::<bool>(),
        option::of(prop_oneof![
            any::<bool>().prop_map(secdns::Remove::All),
            vec(ds_data(), 1..3).prop_map(secdns::Remove::Ds),
            vec(key_data(), 1..3).prop_map(secdns::Remove::Key),
        ]),
        option::of(ds_or_key()),
        option::of(option::of(1u32..100_000)),
    )
        .prop_map(|(urgent, rem, add, chg)| secdns::Update {
            urgent,
            rem,
            add,
            chg,
        })
}

fn contact_ext() -> impl Strategy<Value = sidn::ContactExt> {
    (
        proptest::sample::select(sidn::LegalForm::all().collect::<Vec<_>>()),
        option::of("[0-9]{8}"),
    )
        .prop_map(|(legal_form, legal_form_reg_no)| sidn::ContactExt {
            legal_form,
            legal_form_reg_no,
        })
}

fn command_extension() -> impl Strategy<Value = CommandExtension> {
    prop_oneof![
        ds_or_key().prop_map(CommandExtension::SecDnsCreate),
        secdns_update().prop_map(CommandExtension::SecDnsUpdate),
        contact_ext().prop_map(|c| CommandExtension::Sidn(sidn::Ext::ContactCreate(c))),
        contact_ext().prop_map(|c| CommandExtension::Sidn(sidn::Ext::ContactUpdate(c))),
        prop_oneof![
            date().prop_map(sidn::ScheduledDelete::SetDate),
            Just(sidn::ScheduledDelete::SetDateToEndOfSubscriptionPeriod),
            Just(sidn::ScheduledDelete::Cancel),
        ]
        .prop_map(CommandExtension::ScheduledDelete),
    ]
}

fn known_obj_uris() -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(
        vec![uri::DOMAIN, uri::CONTACT, uri::HOST, uri::KEYRELAY],
        1..=4,
    )
    .prop_map(|v| v.into_iter().map(str::to_string).collect())
}

fn known_ext_uris() -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(
        vec![
            uri::SECDNS,
            uri::SIDN,
            uri::SIDN_SCHEDULED_DELETE,
            uri::KEYRELAY_RECEIPT,
            uri::CHANGE_POLL,
            uri::UNHANDLED_NAMESPACES,
        ],
        0..=6,
    )
    .prop_map(|v| v.into_iter().map(str::to_string).collect())
}

fn login() -> impl Strategy<Value = Login> {
    (
        clid(),
        "[A-Za-z0-9!&<]{6,16}",
        option::of("[A-Za-z0-9]{6,16}"),
        prop_oneof![Just("en".to_string()), Just("nl".to_string())],
        known_obj_uris(),
        known_ext_uris(),
    )
        .prop_map(|(cl_id, pw, new_pw, lang, obj_uris, ext_uris)| Login {
            cl_id,
            pw,
            new_pw,
            version: "1.0".into(),
            lang,
            obj_uris,
            ext_uris,
        })
}

fn address() -> impl Strategy<Value = contact::Address> {
    (
        vec("[A-Za-z0-9 ]{0,20}", 0..=3),
        "[A-Za-z]{1,20}",
        option::of("[A-Za-z]{0,10}"),
        option::of("[0-9A-Z]{4,6}"),
        "[A-Z]{2}",
    )
        .prop_map(|(street, city, sp, pc, cc)| contact::Address {
            street,
            city,
            sp,
            pc,
            cc,
        })
}

fn postal_infos() -> impl Strategy<Value = Vec<contact::PostalInfo>> {
    proptest::sample::subsequence(
        vec![contact::PostalType::Int, contact::PostalType::Loc],
        1..=2,
    )
    .prop_flat_map(|kinds| {
        kinds
            .into_iter()
            .map(|kind| {
                ("[A-Za-z ]{1,20}", option::of("[A-Za-z &]{0,20}"), address()).prop_map(
                    move |(name, org, addr)| contact::PostalInfo {
                        kind,
                        name,
                        org,
                        addr,
                    },
                )
            })
            .collect::<Vec<_>>()
    })
}

fn phone() -> impl Strategy<Value = contact::Phone> {
    ("\\+[0-9]{1,3}\\.[0-9]{1,10}", option::of("[0-9]{1,4}"))
        .prop_map(|(number, ext)| contact::Phone { number, ext })
}

fn disclose() -> impl Strategy<Value = contact::Disclose> {
    let typed = || {
        proptest::sample::subsequence(
            vec![contact::PostalType::Int, contact::PostalType::Loc],
            0..=2,
        )
    };
    (
        any::<bool>(),
        typed(),
        typed(),
        typed(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(flag, name, org, addr, voice, fax, email)| contact::Disclose {
                flag,
                name,
                org,
                addr,
                voice,
                fax,
                email,
            },
        )
}

fn contact_create() -> impl Strategy<Value = contact::Create> {
    (
        clid(),
        postal_infos(),
        option::of(phone()),
        option::of(phone()),
        "[a-z]{1,8}@[a-z]{1,8}\\.nl",
        auth_info(),
        option::of(disclose()),
    )
        .prop_map(
            |(id, postal_info, voice, fax, email, auth_info, disclose)| contact::Create {
                id,
                postal_info,
                voice,
                fax,
                email,
                auth_info,
                disclose,
            },
        )
}

fn keyrelay_data() -> impl Strategy<Value = Vec<keyrelay::KeyRelayData>> {
    vec(
        (
            key_data(),
            option::of(prop_oneof![
                timestamp().prop_map(keyrelay::Expiry::Absolute),
                duration().prop_map(keyrelay::Expiry::Relative),
            ]),
        )
            .prop_map(|(key_data, expiry)| keyrelay::KeyRelayData { key_data, expiry }),
        1..3,
    )
}

fn create() -> impl Strategy<Value = Create> {
    prop_oneof![
        (
            label(),
            option::of(period()),
            option::of(ns_list()),
            option::of(clid()),
            vec(domain_contact(), 0..3),
            auth_info()
        )
            .prop_map(|(name, period, ns, registrant, contacts, auth_info)| {
                Create::Domain(domain::Create {
                    name,
                    period,
                    ns,
                    registrant,
                    contacts,
                    auth_info,
                })
            }),
        (label(), vec(host_addr(), 0..3))
            .prop_map(|(name, addrs)| Create::Host(host::Create { name, addrs })),
        contact_create().prop_map(Create::Contact),
        (label(), auth_info(), keyrelay_data()).prop_map(|(name, auth_info, data)| {
            Create::KeyRelay(keyrelay::Create {
                name,
                auth_info,
                data,
            })
        }),
    ]
}

fn domain_add_rem() -> impl Strategy<Value = domain::AddRem> {
    (
        option::of(ns_list()),
        vec(domain_contact(), 0..3),
        vec(status(domain::DomainStatus::ALL), 0..4),
    )
        .prop_map(|(ns, contacts, statuses)| domain::AddRem {
            ns,
            contacts,
            statuses,
        })
}

fn update() -> impl Strategy<Value = Update> {
    prop_oneof![
        (
            label(),
            option::of(domain_add_rem()),
            option::of(domain_add_rem()),
            option::of((
                option::of(prop_oneof![clid(), Just(String::new())]),
                option::of(prop_oneof![
                    auth_info().prop_map(domain::AuthInfoChange::Set),
                    Just(domain::AuthInfoChange::Null)
                ]),
            ))
        )
            .prop_map(|(name, add, rem, chg)| Update::Domain(domain::Update {
                name,
                add,
                rem,
                chg: chg.map(|(registrant, auth_info)| domain::Change {
                    registrant,
                    auth_info
                }),
            })),
        (
            label(),
            option::of((
                vec(host_addr(), 0..2),
                vec(status(host::HostStatus::ALL), 0..3)
            )),
            option::of((
                vec(host_addr(), 0..2),
                vec(status(host::HostStatus::ALL), 0..3)
            )),
            option::of(label())
        )
            .prop_map(|(name, add, rem, new_name)| {
                let ar = |x: Option<(Vec<host::HostAddr>, Vec<Status<host::HostStatus>>)>| {
                    x.map(|(addrs, statuses)| host::AddRem { addrs, statuses })
                };
                Update::Host(host::Update {
                    name,
                    add: ar(add),
                    rem: ar(rem),
                    new_name,
                })
            }),
        (
            clid(),
            option::of(vec(status(contact::ContactStatus::ALL), 1..4)),
            option::of(vec(status(contact::ContactStatus::ALL), 1..4)),
            option::of((
                option::of(phone()),
                option::of("[a-z]{1,8}@example\\.nl"),
                option::of(auth_info()),
                option::of(disclose()),
                proptest::sample::subsequence(
                    vec![contact::PostalType::Int, contact::PostalType::Loc],
                    0..=2
                ),
            ))
        )
            .prop_map(|(id, add, rem, chg)| Update::Contact(contact::Update {
                id,
                add,
                rem,
                chg: chg.map(
                    |(voice, email, auth_info, disclose, kinds)| contact::Change {
                        postal_info: kinds
                            .into_iter()
                            .map(|kind| contact::PostalInfoChange {
                                kind,
                                name: Some("New Name".into()),
                                org: None,
                                addr: None,
                            })
                            .collect(),
                        voice,
                        fax: None,
                        email,
                        auth_info,
                        disclose,
                    }
                ),
            })),
    ]
}

fn command_kind() -> impl Strategy<Value = CommandKind> {
    prop_oneof![
        login().prop_map(CommandKind::Login),
        Just(CommandKind::Logout),
        Just(CommandKind::Poll(Poll::Req)),
        "[0-9]{1,10}".prop_map(|msg_id| CommandKind::Poll(Poll::Ack { msg_id })),
        prop_oneof![
            vec(label(), 1..4).prop_map(Check::Domain),
            vec(label(), 1..4).prop_map(Check::Host),
            vec(clid(), 1..4).prop_map(Check::Contact),
        ]
        .prop_map(CommandKind::Check),
        prop_oneof![
            (
                label(),
                prop_oneof![
                    Just(domain::HostsFilter::All),
                    Just(domain::HostsFilter::Del),
                    Just(domain::HostsFilter::None),
                    Just(domain::HostsFilter::Sub)
                ],
                option::of(auth_info())
            )
                .prop_map(|(name, hosts, auth_info)| Info::Domain(domain::Info {
                    name,
                    hosts,
                    auth_info
                })),
            label().prop_map(Info::Host),
            (clid(), option::of(auth_info()))
                .prop_map(|(id, auth_info)| Info::Contact(contact::AuthId { id, auth_info })),
        ]
        .prop_map(CommandKind::Info),
        create().prop_map(CommandKind::Create),
        update().prop_map(CommandKind::Update),
        prop_oneof![
            label().prop_map(Delete::Domain),
            label().prop_map(Delete::Host),
            clid().prop_map(Delete::Contact),
        ]
        .prop_map(CommandKind::Delete),
        (label(), date(), option::of(period())).prop_map(|(name, cur_exp_date, period)| {
            CommandKind::Renew(domain::Renew {
                name,
                cur_exp_date,
                period,
            })
        }),
        (
            prop_oneof![
                Just(TransferOp::Approve),
                Just(TransferOp::Cancel),
                Just(TransferOp::Query),
                Just(TransferOp::Reject),
                Just(TransferOp::Request)
            ],
            prop_oneof![
                (label(), option::of(period()), option::of(auth_info())).prop_map(
                    |(name, period, auth_info)| Transfer::Domain(domain::Transfer {
                        name,
                        period,
                        auth_info
                    })
                ),
                (clid(), option::of(auth_info())).prop_map(|(id, auth_info)| Transfer::Contact(
                    contact::AuthId { id, auth_info }
                )),
            ]
        )
            .prop_map(|(op, t)| CommandKind::Transfer(op, t)),
    ]
}

pub(crate) fn command() -> impl Strategy<Value = Command> {
    (
        command_kind(),
        vec(command_extension(), 0..3),
        option::of(trid()),
    )
        .prop_map(|(kind, mut extensions, cl_trid)| {
            // At most one element of each extension (CommandExtension::check_unique).
            let mut seen = Vec::new();
            extensions.retain(|x| {
                let name = x.element_name();
                let first = !seen.contains(&name);
                seen.push(name);
                first
            });
            Command {
                kind,
                extensions,
                cl_trid,
            }
        })
}

fn result_code() -> impl Strategy<Value = super::ResultCode> {
    proptest::sample::select(super::ResultCode::ALL.to_vec())
}

fn value_element() -> impl Strategy<Value = Element> {
    (
        label(),
        prop_oneof![
            Just(Ns::Domain),
            Just(Ns::Host),
            Just(Ns::Other("urn:example:obj".into()))
        ],
    )
        .prop_map(|(v, ns)| Element::new(ns, "name").with_text(v))
}

fn epp_result() -> impl Strategy<Value = EppResult> {
    (
        result_code(),
        text(),
        vec(
            prop_oneof![
                value_element().prop_map(ResultValue::Value),
                (value_element(), text())
                    .prop_map(|(value, reason)| ResultValue::ExtValue { value, reason }),
            ],
            0..3,
        ),
    )
        .prop_map(|(code, msg, values)| EppResult { code, msg, values })
}

fn tr_id() -> impl Strategy<Value = TrId> {
    (option::of(trid()), trid()).prop_map(|(cl_trid, sv_trid)| TrId { cl_trid, sv_trid })
}

fn check_results(ident: BoxedStrategy<String>) -> impl Strategy<Value = Vec<CheckResult>> {
    vec(
        (ident, any::<bool>(), option::of(reason())).prop_map(|(name, avail, reason)| {
            CheckResult {
                name,
                avail,
                reason,
            }
        }),
        1..4,
    )
}

fn transfer_data(
    ident: BoxedStrategy<String>,
    with_ex: bool,
) -> impl Strategy<Value = TransferData> {
    (
        ident,
        proptest::sample::select(vec![
            TrStatus::ClientApproved,
            TrStatus::ClientCancelled,
            TrStatus::ClientRejected,
            TrStatus::Pending,
            TrStatus::ServerApproved,
            TrStatus::ServerCancelled,
        ]),
        clid(),
        timestamp(),
        clid(),
        timestamp(),
        option::of(timestamp()),
    )
        .prop_map(
            move |(name, tr_status, re_id, re_date, ac_id, ac_date, ex)| TransferData {
                name,
                tr_status,
                re_id,
                re_date,
                ac_id,
                ac_date,
                ex_date: if with_ex { ex } else { None },
            },
        )
}

fn pan_data(ident: BoxedStrategy<String>) -> impl Strategy<Value = PanData> {
    (ident, any::<bool>(), tr_id(), timestamp()).prop_map(|(name, pa_result, pa_trid, pa_date)| {
        PanData {
            name,
            pa_result,
            pa_trid,
            pa_date,
        }
    })
}

fn domain_inf() -> impl Strategy<Value = domain::InfData> {
    (
        (
            label(),
            roid(),
            vec(status(domain::DomainStatus::ALL), 0..4),
            option::of(clid()),
        ),
        (
            vec(domain_contact(), 0..3),
            option::of(ns_list()),
            vec(label(), 0..3),
            clid(),
        ),
        (
            option::of(clid()),
            option::of(timestamp()),
            option::of(clid()),
            option::of(timestamp()),
        ),
        (
            option::of(timestamp()),
            option::of(timestamp()),
            option::of(auth_info()),
        ),
    )
        .prop_map(
            |(
                (name, roid, statuses, registrant),
                (contacts, ns, hosts, cl_id),
                (cr_id, cr_date, up_id, up_date),
                (ex_date, tr_date, auth_info),
            )| domain::InfData {
                name,
                roid,
                statuses,
                registrant,
                contacts,
                ns,
                hosts,
                cl_id,
                cr_id,
                cr_date,
                up_id,
                up_date,
                ex_date,
                tr_date,
                auth_info,
            },
        )
}

fn host_inf() -> impl Strategy<Value = host::InfData> {
    (
        (
            label(),
            roid(),
            vec(status(host::HostStatus::ALL), 1..4),
            vec(host_addr(), 0..3),
        ),
        (
            clid(),
            clid(),
            timestamp(),
            option::of(clid()),
            option::of(timestamp()),
            option::of(timestamp()),
        ),
    )
        .prop_map(
            |((name, roid, statuses, addrs), (cl_id, cr_id, cr_date, up_id, up_date, tr_date))| {
                host::InfData {
                    name,
                    roid,
                    statuses,
                    addrs,
                    cl_id,
                    cr_id,
                    cr_date,
                    up_id,
                    up_date,
                    tr_date,
                }
            },
        )
}

fn contact_inf() -> impl Strategy<Value = contact::InfData> {
    (
        (
            clid(),
            roid(),
            vec(status(contact::ContactStatus::ALL), 1..4),
            postal_infos(),
        ),
        (
            option::of(phone()),
            option::of(phone()),
            "[a-z]{1,8}@[a-z]{1,8}\\.nl",
            clid(),
            clid(),
        ),
        (
            timestamp(),
            option::of(clid()),
            option::of(timestamp()),
            option::of(timestamp()),
        ),
        (option::of(auth_info()), option::of(disclose())),
    )
        .prop_map(
            |(
                (id, roid, statuses, postal_info),
                (voice, fax, email, cl_id, cr_id),
                (cr_date, up_id, up_date, tr_date),
                (auth_info, disclose),
            )| contact::InfData {
                id,
                roid,
                statuses,
                postal_info,
                voice,
                fax,
                email,
                cl_id,
                cr_id,
                cr_date,
                up_id,
                up_date,
                tr_date,
                auth_info,
                disclose,
            },
        )
}

fn sidn_poll() -> impl Strategy<Value = SidnPollData> {
    (
        prop_oneof![
            Just("domain:transfer".to_string()),
            Just("domain:transfer-start".to_string())
        ],
        (result_code(), text()).prop_map(|(code, msg)| EppResult {
            code,
            msg,
            values: Vec::new(),
        }),
        option::of(transfer_data(label().boxed(), true).prop_map(ResData::DomainTransfer)),
        tr_id(),
    )
        .prop_map(|(command, result, res_data, tr_id)| SidnPollData {
            command,
            result,
            res_data: res_data.map(Box::new),
            tr_id,
        })
}

pub(crate) fn res_data() -> impl Strategy<Value = ResData> {
    prop_oneof![
        check_results(label().boxed()).prop_map(ResData::DomainCheck),
        (label(), timestamp(), option::of(timestamp())).prop_map(|(name, cr_date, ex_date)| {
            ResData::DomainCreate(domain::CreData {
                name,
                cr_date,
                ex_date,
            })
        }),
        domain_inf().prop_map(|d| ResData::DomainInfo(Box::new(d))),
        pan_data(label().boxed()).prop_map(ResData::DomainPending),
        (label(), option::of(timestamp()))
            .prop_map(|(name, ex_date)| ResData::DomainRenew(domain::RenData { name, ex_date })),
        transfer_data(label().boxed(), true).prop_map(ResData::DomainTransfer),
        check_results(label().boxed()).prop_map(ResData::HostCheck),
        (label(), timestamp())
            .prop_map(|(name, cr_date)| ResData::HostCreate(host::CreData { name, cr_date })),
        host_inf().prop_map(|h| ResData::HostInfo(Box::new(h))),
        pan_data(label().boxed()).prop_map(ResData::HostPending),
        check_results(clid().boxed()).prop_map(ResData::ContactCheck),
        (clid(), timestamp())
            .prop_map(|(id, cr_date)| ResData::ContactCreate(contact::CreData { id, cr_date })),
        contact_inf().prop_map(|c| ResData::ContactInfo(Box::new(c))),
        pan_data(clid().boxed()).prop_map(ResData::ContactPending),
        transfer_data(clid().boxed(), false).prop_map(ResData::ContactTransfer),
        (
            label(),
            auth_info(),
            keyrelay_data(),
            timestamp(),
            clid(),
            clid()
        )
            .prop_map(
                |(name, auth_info, data, cr_date, re_id, ac_id)| ResData::KeyRelay(Box::new(
                    keyrelay::InfData {
                        name,
                        auth_info,
                        data,
                        cr_date,
                        re_id,
                        ac_id,
                    }
                ))
            ),
        sidn_poll().prop_map(|p| ResData::SidnPoll(Box::new(p))),
    ]
}

fn response_extension() -> impl Strategy<Value = ResponseExtension> {
    prop_oneof![
        ds_or_key().prop_map(ResponseExtension::SecDnsInfo),
        vec(
            (
                "[A-Z][0-9]{4}",
                option::of("[A-Za-z ]{1,12}"),
                "[A-Za-z .]{1,40}"
            )
                .prop_map(|(code, field, text)| sidn::ErrorDetail {
                    code,
                    field,
                    text
                }),
            1..3
        )
        .prop_map(|l| ResponseExtension::Sidn(sidn::Ext::Response(l))),
        (
            option::of(any::<bool>()),
            option::of(any::<bool>()),
            option::of(period()),
            option::of(date())
        )
            .prop_map(|(limited, opt_out, period, scheduled_delete_date)| {
                ResponseExtension::Sidn(sidn::Ext::DomainInfo(sidn::DomainInfData {
                    limited,
                    opt_out,
                    period,
                    scheduled_delete_date,
                }))
            }),
        (contact_ext(), option::of(any::<bool>())).prop_map(|(contact, limited)| {
            ResponseExtension::Sidn(sidn::Ext::ContactInfo(sidn::ContactInfData {
                contact,
                limited,
            }))
        }),
        option::of(any::<bool>())
            .prop_map(|limited| ResponseExtension::Sidn(sidn::Ext::HostInfo { limited })),
        receipt().prop_map(|r| ResponseExtension::KeyRelayReceipt(Box::new(r))),
        change_data().prop_map(|c| ResponseExtension::ChangePoll(Box::new(c))),
    ]
}

/// RFC 8590 change data, only as [`ChangeData::check`](super::changepoll::ChangeData::check)
/// allows it: the op an operation requires, a name for a custom case.
pub(crate) fn change_data() -> impl Strategy<Value = super::changepoll::ChangeData> {
    use super::changepoll::{CaseId, CaseType, ChangeData, ChangeState, Operation, OperationKind};
    let ascii_id = || "[A-Za-z][A-Za-z0-9._-]{0,15}( [A-Za-z0-9]{1,8})?";
    let operation = (
        proptest::sample::select(OperationKind::ALL.to_vec()),
        option::of(ascii_id()),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(kind, op, pick)| {
            let op = match kind.required_op() {
                None => op,
                Some([]) => Some(op.unwrap_or_else(|| "sync".to_string())),
                Some(values) => Some(values[pick.index(values.len())].to_string()),
            };
            Operation { kind, op }
        });
    let case_id = (
        proptest::sample::select(CaseType::ALL.to_vec()),
        option::of(ascii_id()),
        "[A-Za-z0-9&<>-]{1,12}( [A-Za-z0-9]{1,6})?",
    )
        .prop_map(|(kind, name, id)| CaseId {
            kind,
            name: match kind {
                CaseType::Custom => Some(name.unwrap_or_else(|| "court".to_string())),
                _ => name,
            },
            id,
        });
    (
        proptest::sample::select(ChangeState::ALL.to_vec()),
        operation,
        timestamp(),
        trid(),
        prop_oneof![
            "[A-Za-z0-9&<>\"' .-]{1,40}".prop_filter("not blank", |w| !w.trim().is_empty()),
            " [A-Za-z]{1,10}  ",
        ],
        option::of(case_id),
        option::of(reason()),
    )
        .prop_map(
            |(state, operation, date, sv_trid, who, case_id, reason)| ChangeData {
                state,
                operation,
                date,
                sv_trid,
                who,
                case_id,
                reason,
            },
        )
}

fn receipt() -> impl Strategy<Value = super::receipt::Receipt> {
    use super::receipt::{HostProbe, HostResult, Receipt, State};
    (
        (
            label(),
            tr_id(),
            timestamp(),
            proptest::sample::select(State::ALL.to_vec()),
        ),
        (timestamp(), timestamp(), vec(key_data(), 1..3)),
        vec(
            (label(), proptest::sample::select(HostResult::ALL.to_vec()))
                .prop_map(|(host, result)| HostProbe { host, result }),
            0..4,
        ),
        option::of(any::<u32>()),
    )
        .prop_map(
            |(
                (name, relay_tr_id, relay_date, state),
                (state_date, until, keys),
                ns,
                dnskey_ttl,
            )| {
                Receipt {
                    name,
                    relay_tr_id,
                    relay_date,
                    state,
                    state_date,
                    until,
                    keys,
                    ns,
                    dnskey_ttl,
                }
            },
        )
}

fn msg_q() -> impl Strategy<Value = MsgQ> {
    (
        0u64..1_000_000,
        "[0-9]{1,9}",
        option::of(timestamp()),
        option::of(
            ("[A-Za-z0-9 .]{0,40}", option::of(lang()))
                .prop_map(|(text, lang)| Text { text, lang }),
        ),
    )
        .prop_map(|(count, id, q_date, msg)| MsgQ {
            count,
            id,
            q_date,
            msg,
        })
}

pub(crate) fn response() -> impl Strategy<Value = Response> {
    (
        vec(epp_result(), 1..3),
        option::of(msg_q()),
        option::of(res_data()),
        vec(response_extension(), 0..3),
        tr_id(),
    )
        .prop_map(|(results, msg_q, res_data, mut extensions, tr_id)| {
            // At most one element of each extension, as the reader requires.
            let mut seen = Vec::new();
            extensions.retain(|x| {
                let kind = std::mem::discriminant(x);
                let first = !seen.contains(&kind);
                seen.push(kind);
                first
            });
            Response {
                results,
                msg_q,
                res_data,
                extensions,
                tr_id,
            }
        })
}

fn dcp() -> impl Strategy<Value = Dcp> {
    (
        proptest::sample::select(vec![
            DcpAccess::All,
            DcpAccess::None,
            DcpAccess::Null,
            DcpAccess::Other,
            DcpAccess::Personal,
            DcpAccess::PersonalAndOther,
        ]),
        vec(
            (
                proptest::sample::subsequence(vec!["admin", "contact", "other", "prov"], 0..=4),
                (
                    any::<bool>(),
                    vec(option::of("[A-Za-z]{1,10}"), 0..2),
                    any::<bool>(),
                    any::<bool>(),
                    any::<bool>(),
                ),
                proptest::sample::select(vec![
                    DcpRetention::Business,
                    DcpRetention::Indefinite,
                    DcpRetention::Legal,
                    DcpRetention::None,
                    DcpRetention::Stated,
                ]),
            )
                .prop_map(|(p, (other, ours, public, same, unrelated), retention)| {
                    DcpStatement {
                        purposes: p.into_iter().map(str::to_string).collect(),
                        recipients: DcpRecipients {
                            other,
                            ours,
                            public,
                            same,
                            unrelated,
                        },
                        retention,
                    }
                }),
            1..3,
        ),
        option::of(prop_oneof![
            timestamp().prop_map(DcpExpiry::Absolute),
            duration().prop_map(DcpExpiry::Relative)
        ]),
    )
        .prop_map(|(access, statements, expiry)| Dcp {
            access,
            statements,
            expiry,
        })
}

pub(crate) fn greeting() -> impl Strategy<Value = Greeting> {
    (
        "[A-Za-z][A-Za-z .]{2,40}",
        timestamp(),
        vec(lang(), 1..3),
        known_obj_uris(),
        known_ext_uris(),
        dcp(),
    )
        .prop_map(
            |(sv_id, sv_date, langs, obj_uris, ext_uris, dcp)| Greeting {
                sv_id,
                sv_date,
                versions: vec!["1.0".into()],
                langs,
                obj_uris,
                ext_uris,
                dcp,
            },
        )
}

pub(crate) fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        greeting().prop_map(|g| Frame::Greeting(Box::new(g))),
        Just(Frame::Hello),
        command().prop_map(|c| Frame::Command(Box::new(c))),
        response().prop_map(|r| Frame::Response(Box::new(r))),
        (
            label(),
            option::of(prop_oneof![Just(1u8), Just(3), Just(12)]),
            option::of(trid())
        )
            .prop_map(
                |(name, months, cl_trid)| Frame::Extension(sidn::ExtCommand {
                    kind: sidn::ExtCommandKind::DomainCancelDelete {
                        name,
                        period: months.map(sidn::months),
                    },
                    cl_trid,
                })
            ),
    ]
}
