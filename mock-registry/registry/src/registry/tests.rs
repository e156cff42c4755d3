//! A model-based test of the registry: random command sequences from several registrars
//! (transfers, key relays, token changes, polls and acks, right and wrong tokens, acks of
//! other registrars' messages) against a small model of sponsors and queues. After every
//! step the real queues must equal the model's: nothing lost, duplicated or reordered, and a
//! refused command changes nothing.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use clock::VirtualClock;
use epp::AuthInfo;
use epp::contact::{self, Address, PostalInfo, PostalType};
use epp::domain::{self, ContactType, DomainContact, NsList};
use epp::keyrelay::{self, KeyRelayData};
use epp::message::{Command, CommandKind, Create, Poll, Transfer, TransferOp, Update};
use epp::secdns::KeyData;

const REGISTRARS: [&str; 3] = ["reg-a", "reg-b", "reg-c"];
const DOMAINS: [&str; 3] = ["one.nl", "two.nl", "three.nl"];

#[derive(Debug, Clone)]
enum Action {
    Relay {
        by: usize,
        domain: usize,
        right_token: bool,
    },
    Transfer {
        by: usize,
        domain: usize,
        right_token: bool,
    },
    NewToken {
        domain: usize,
    },
    PollReq {
        who: usize,
    },
    Ack {
        who: usize,
        pos: usize,
    },
    AckBogus {
        who: usize,
    },
    AckOthers {
        who: usize,
        other: usize,
    },
    Advance {
        minutes: u16,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (0..3usize, 0..3usize, prop::bool::weighted(0.8)).prop_map(|(by, domain, right_token)| {
            Action::Relay {
                by,
                domain,
                right_token,
            }
        }),
        (0..3usize, 0..3usize, prop::bool::weighted(0.7)).prop_map(|(by, domain, right_token)| {
            Action::Transfer {
                by,
                domain,
                right_token,
            }
        }),
        (0..3usize).prop_map(|domain| Action::NewToken { domain }),
        (0..3usize).prop_map(|who| Action::PollReq { who }),
        (0..3usize, 0..4usize).prop_map(|(who, pos)| Action::Ack { who, pos }),
        (0..3usize).prop_map(|who| Action::AckBogus { who }),
        (0..3usize, 0..3usize).prop_map(|(who, other)| Action::AckOthers { who, other }),
        (1u16..600).prop_map(|minutes| Action::Advance { minutes }),
    ]
}

/// What the model expects a queued message to be about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    Relay {
        domain: String,
        from: String,
    },
    Transfer {
        domain: String,
        to: String,
        from: String,
    },
}

fn seen(m: &PollMessage) -> Expected {
    match &m.payload {
        Some(ResData::KeyRelay(k)) => Expected::Relay {
            domain: k.name.clone(),
            from: k.re_id.clone(),
        },
        Some(ResData::SidnPoll(p)) => match p.res_data.as_deref() {
            Some(ResData::DomainTransfer(t)) => Expected::Transfer {
                domain: t.name.clone(),
                to: t.re_id.clone(),
                from: t.ac_id.clone(),
            },
            other => panic!("unexpected SIDN poll payload {other:?}"),
        },
        other => panic!("unexpected payload {other:?}"),
    }
}

fn run(reg: &mut Registry, who: &str, kind: CommandKind) -> Response {
    reg.execute(
        who,
        &Services::all(),
        &Command {
            kind,
            extensions: Vec::new(),
            cl_trid: Some("MODEL-1".into()),
        },
    )
}

fn key() -> KeyData {
    KeyData {
        flags: 256,
        protocol: 3,
        alg: 15,
        pub_key: dnssec::fixture_keys::key(dnssec::KeyAlgorithm::Ed25519, 1)
            .public_key()
            .to_vec(),
    }
}

fn setup() -> (Registry, VirtualClock, BTreeMap<String, (String, String)>) {
    let clock = VirtualClock::new("2026-01-01T00:00:00Z".parse().expect("time"));
    let mut reg = Registry::new(Policy::default(), Arc::new(clock.clone()), 3);
    let mut domains = BTreeMap::new();
    for r in REGISTRARS {
        reg.add_registrar(r, "password1");
    }
    for (i, d) in DOMAINS.iter().enumerate() {
        let owner = REGISTRARS[i];
        let r = run(
            &mut reg,
            owner,
            CommandKind::Create(Create::Contact(contact::Create {
                id: "x".into(),
                postal_info: vec![PostalInfo {
                    kind: PostalType::Loc,
                    name: "N".into(),
                    org: None,
                    addr: Address {
                        street: vec![],
                        city: "C".into(),
                        sp: None,
                        pc: None,
                        cc: "NL".into(),
                    },
                }],
                voice: None,
                fax: None,
                email: "e@x.nl".into(),
                auth_info: AuthInfo::password("contactpw"),
                disclose: None,
            })),
        );
        let Some(ResData::ContactCreate(c)) = r.res_data else {
            panic!("{r:?}")
        };
        let ns = format!("ns.{owner}.example");
        run(
            &mut reg,
            owner,
            CommandKind::Create(Create::Host(epp::host::Create {
                name: ns.clone(),
                addrs: vec![],
            })),
        );
        let token = format!("token-{i}-start");
        let r = run(
            &mut reg,
            owner,
            CommandKind::Create(Create::Domain(domain::Create {
                name: (*d).into(),
                period: None,
                ns: Some(NsList::HostObj(vec![ns])),
                registrant: Some(c.id.clone()),
                contacts: vec![
                    DomainContact {
                        kind: Some(ContactType::Admin),
                        id: c.id.clone(),
                    },
                    DomainContact {
                        kind: Some(ContactType::Tech),
                        id: c.id,
                    },
                ],
                auth_info: AuthInfo::password(token.clone()),
            })),
        );
        assert!(r.code().is_success(), "{r:?}");
        domains.insert((*d).to_string(), (owner.to_string(), token));
    }
    (reg, clock, domains)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn queues_never_lose_duplicate_or_reorder(actions in proptest::collection::vec(action(), 1..60)) {
        let (mut reg, clock, mut model) = setup();
        let mut queues: BTreeMap<String, VecDeque<Expected>> =
            REGISTRARS.iter().map(|r| (r.to_string(), VecDeque::new())).collect();
        for a in &actions {
            let before = reg.state();
            let refused = match a.clone() {
                Action::Relay { by, domain, right_token } => {
                    let d = DOMAINS[domain];
                    let (sponsor, token) = model[d].clone();
                    let token = if right_token { token } else { "wrong-token".into() };
                    let r = run(&mut reg, REGISTRARS[by], CommandKind::Create(Create::KeyRelay(keyrelay::Create {
                        name: d.into(),
                        auth_info: AuthInfo::password(token),
                        data: vec![KeyRelayData { key_data: key(), expiry: None }],
                    })));
                    if right_token {
                        prop_assert!(r.code().is_success(), "{:?}", r);
                        queues.get_mut(&sponsor).expect("queue").push_back(Expected::Relay {
                            domain: d.into(),
                            from: REGISTRARS[by].into(),
                        });
                        false
                    } else {
                        prop_assert_eq!(r.code().code(), 2202);
                        true
                    }
                }
                Action::Transfer { by, domain, right_token } => {
                    let d = DOMAINS[domain];
                    let (sponsor, token) = model[d].clone();
                    let gaining = REGISTRARS[by];
                    let r = run(&mut reg, gaining, CommandKind::Transfer(TransferOp::Request, Transfer::Domain(domain::Transfer {
                        name: d.into(),
                        period: None,
                        auth_info: Some(AuthInfo::password(if right_token { token } else { "wrong-token".into() })),
                    })));
                    if sponsor == gaining {
                        prop_assert_eq!(r.code().code(), 2106);
                        true
                    } else if !right_token {
                        prop_assert_eq!(r.code().code(), 2202);
                        true
                    } else {
                        prop_assert!(r.code().is_success(), "{:?}", r);
                        let new_token = reg.domain(d).expect("domain").token.clone();
                        for to in [sponsor.clone(), gaining.to_string()] {
                            queues.get_mut(&to).expect("queue").push_back(Expected::Transfer {
                                domain: d.into(),
                                to: gaining.into(),
                                from: sponsor.clone(),
                            });
                        }
                        model.insert(d.into(), (gaining.into(), new_token));
                        false
                    }
                }
                Action::NewToken { domain } => {
                    let d = DOMAINS[domain];
                    let (sponsor, _) = model[d].clone();
                    let token = format!("token-{domain}-{}", reg.log().len());
                    let r = run(&mut reg, &sponsor, CommandKind::Update(Update::Domain(domain::Update {
                        name: d.into(),
                        add: None,
                        rem: None,
                        chg: Some(domain::Change {
                            registrant: None,
                            auth_info: Some(domain::AuthInfoChange::Set(AuthInfo::password(token.clone()))),
                        }),
                    })));
                    prop_assert!(r.code().is_success(), "{:?}", r);
                    model.insert(d.into(), (sponsor, token));
                    false
                }
                Action::PollReq { who } => {
                    let r = run(&mut reg, REGISTRARS[who], CommandKind::Poll(Poll::Req));
                    let q = &queues[REGISTRARS[who]];
                    match q.front() {
                        None => prop_assert_eq!(r.code().code(), 1300),
                        Some(first) => {
                            prop_assert_eq!(r.code().code(), 1301);
                            prop_assert_eq!(r.msg_q.as_ref().expect("msgQ").count, q.len() as u64);
                            let real = reg.queue(REGISTRARS[who]);
                            prop_assert_eq!(&seen(&real[0]), first);
                        }
                    }
                    true
                }
                Action::Ack { who, pos } => {
                    let real = reg.queue(REGISTRARS[who]);
                    match real.get(pos) {
                        Some(m) => {
                            let r = run(&mut reg, REGISTRARS[who], CommandKind::Poll(Poll::Ack { msg_id: m.id.to_string() }));
                            prop_assert!(r.code().is_success(), "{:?}", r);
                            queues.get_mut(REGISTRARS[who]).expect("queue").remove(pos);
                            false
                        }
                        None => true,
                    }
                }
                Action::AckBogus { who } => {
                    let r = run(&mut reg, REGISTRARS[who], CommandKind::Poll(Poll::Ack { msg_id: "987654321".into() }));
                    prop_assert_eq!(r.code().code(), 2303);
                    true
                }
                Action::AckOthers { who, other } => {
                    if who == other {
                        continue;
                    }
                    if let Some(m) = reg.queue(REGISTRARS[other]).first() {
                        let r = run(&mut reg, REGISTRARS[who], CommandKind::Poll(Poll::Ack { msg_id: m.id.to_string() }));
                        prop_assert_eq!(r.code().code(), 2303);
                    }
                    true
                }
                Action::Advance { minutes } => {
                    // Time passing alone never touches queues or sponsors.
                    clock.advance(jiff::SignedDuration::from_mins(i64::from(minutes))).expect("forward");
                    true
                }
            };
            if refused {
                prop_assert_eq!(&reg.state(), &before, "a refused or read-only command changed state: {:?}", a);
            }
            // Real queues equal the model's, and ids only grow along each queue.
            for r in REGISTRARS {
                let real = reg.queue(r);
                let got: Vec<Expected> = real.iter().map(seen).collect();
                let want: Vec<Expected> = queues[r].iter().cloned().collect();
                prop_assert_eq!(got, want, "queue of {} after {:?}", r, a);
                prop_assert!(real.windows(2).all(|w| w[0].id < w[1].id));
            }
            for (d, (sponsor, token)) in &model {
                let real = reg.domain(d).expect("domain");
                prop_assert_eq!(&real.sponsor, sponsor);
                prop_assert_eq!(&real.token, token);
            }
        }
    }
}

#[test]
fn server_transaction_ids_have_at_least_eight_digits() {
    for n in [0, 1, 42, 12_345_678, 123_456_789, u64::MAX] {
        assert_eq!(super::sv_trid(n), format!("MOCK-{n:08}"));
    }
}

/// The log of the commands a registrar issues most keeps its strings inline: a busy server
/// evicts an entry per command, and an entry holding heap strings would free memory written
/// 100,000 commands before (see [`LogText`]). A UUID clTRID fits too; a name longer than the
/// inline room is kept whole on the heap.
#[test]
fn log_entries_of_usual_commands_allocate_nothing() {
    let (mut reg, _clock, _) = setup();
    let uuid = "0b9e8a2c-5f3d-4c1e-9a7b-2d6f8e4c1a3b";
    for kind in [
        CommandKind::Info(epp::message::Info::Domain(domain::Info {
            name: DOMAINS[0].into(),
            hosts: domain::HostsFilter::All,
            auth_info: None,
        })),
        CommandKind::Check(epp::message::Check::Domain(vec![
            DOMAINS[0].into(),
            "free.nl".into(),
        ])),
        CommandKind::Poll(Poll::Req),
    ] {
        reg.execute(
            REGISTRARS[0],
            &Services::all(),
            &Command {
                kind,
                extensions: Vec::new(),
                cl_trid: Some(uuid.into()),
            },
        );
        let e = reg.log().back().expect("logged");
        assert_eq!(e.cl_trid.as_deref(), Some(uuid));
        assert_eq!(e.cl_id.as_deref(), Some(REGISTRARS[0]));
        let strings = [&e.cl_id, &e.object, &e.cl_trid, &Some(e.sv_trid.clone())];
        assert!(
            strings
                .iter()
                .all(|s| s.as_ref().is_none_or(|t| t.is_inline())),
            "{e:?}"
        );
    }
    let long = format!("{}.nl", "x".repeat(60));
    run(
        &mut reg,
        REGISTRARS[0],
        CommandKind::Info(epp::message::Info::Domain(domain::Info {
            name: long.clone(),
            hosts: domain::HostsFilter::All,
            auth_info: None,
        })),
    );
    let e = reg.log().back().expect("logged");
    assert_eq!(e.object.as_deref(), Some(long.as_str()));
}

/// Time alone still moves a domain after every command has stopped walking the domains: a
/// delete scheduled after the registry last looked fires on its day (not before), the
/// quarantine it starts ends in a purge 40 days on, and a delete and its cancellation are
/// seen too.
#[test]
fn scheduled_deletes_and_quarantines_fall_due_on_time() {
    let (mut reg, clock, _) = setup();
    let [a, b, _] = REGISTRARS;
    let info = |name: &str| {
        CommandKind::Info(epp::message::Info::Domain(domain::Info {
            name: name.into(),
            hosts: domain::HostsFilter::All,
            auth_info: None,
        }))
    };
    let in_quarantine = |r: &Response| match &r.res_data {
        Some(ResData::DomainInfo(d)) => d
            .statuses
            .iter()
            .any(|s| s.value == epp::domain::DomainStatus::PendingDelete),
        other => panic!("{other:?}"),
    };
    let available = |reg: &mut Registry, name: &str| {
        let r = run(
            reg,
            a,
            CommandKind::Check(epp::message::Check::Domain(vec![name.into()])),
        );
        match r.res_data {
            Some(ResData::DomainCheck(c)) => c[0].avail,
            other => panic!("{other:?}"),
        }
    };
    // The registry has looked at every domain and found nothing due.
    assert!(!in_quarantine(&run(&mut reg, a, info(DOMAINS[0]))));
    let day = "2026-01-03".parse().expect("date");
    let r = reg.execute(
        a,
        &Services::all(),
        &Command {
            kind: CommandKind::Update(Update::Domain(domain::Update {
                name: DOMAINS[0].into(),
                add: None,
                rem: None,
                chg: None,
            })),
            extensions: vec![CommandExtension::ScheduledDelete(
                epp::sidn::ScheduledDelete::SetDate(day),
            )],
            cl_trid: Some("SCHED-1".into()),
        },
    );
    assert!(r.code().is_success(), "{r:?}");
    clock
        .set("2026-01-02T23:59:59Z".parse().expect("time"))
        .expect("forward");
    assert!(!in_quarantine(&run(&mut reg, a, info(DOMAINS[0]))));
    clock
        .set("2026-01-03T00:00:00Z".parse().expect("time"))
        .expect("forward");
    assert!(in_quarantine(&run(&mut reg, a, info(DOMAINS[0]))));
    // A delete after the registry last looked starts a quarantine of its own; one cancelled
    // is not purged.
    let delete = |name: &str| CommandKind::Delete(epp::message::Delete::Domain(name.into()));
    assert!(run(&mut reg, b, delete(DOMAINS[1])).code().is_success());
    assert!(
        run(&mut reg, REGISTRARS[2], delete(DOMAINS[2]))
            .code()
            .is_success()
    );
    let cancel = reg.execute_ext(
        REGISTRARS[2],
        &Services::all(),
        &epp::sidn::ExtCommand {
            kind: epp::sidn::ExtCommandKind::DomainCancelDelete {
                name: DOMAINS[2].into(),
                period: None,
            },
            cl_trid: Some("CANCEL-1".into()),
        },
    );
    assert!(cancel.code().is_success(), "{cancel:?}");
    clock
        .advance(jiff::SignedDuration::from_hours(40 * 24 - 1))
        .expect("forward");
    assert!(!available(&mut reg, DOMAINS[0]) && !available(&mut reg, DOMAINS[1]));
    clock
        .advance(jiff::SignedDuration::from_hours(1))
        .expect("forward");
    assert!(available(&mut reg, DOMAINS[0]) && available(&mut reg, DOMAINS[1]));
    assert!(!available(&mut reg, DOMAINS[2]));
}
