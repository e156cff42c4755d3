//! Ready-made EPP commands for tests that need registry state: a contact, hosts, a delegated
//! domain with DNSSEC key data. Each returns the command and its extensions, to send with
//! [`EppClient::command`](crate::client::EppClient::command) or to run with
//! [`Registry::execute`](crate::registry::Registry::execute) via [`command`].

use std::net::IpAddr;

use epp::contact::{self, Address, PostalInfo, PostalType};
use epp::domain::{self, ContactType, DomainContact, NsList};
use epp::host::{self, HostAddr};
use epp::message::{Command, CommandExtension, CommandKind, Create, ResData, Response, Update};
use epp::secdns::{self, DsOrKey, DsOrKeySet, KeyData};
use epp::types::AuthInfo;

use crate::registry::{Registry, Services};

/// A command with its extensions.
pub type Parts = (CommandKind, Vec<CommandExtension>);

/// A full [`Command`] with a client transaction id.
pub fn command((kind, extensions): Parts) -> Command {
    Command {
        kind,
        extensions,
        cl_trid: Some("TEST-1".into()),
    }
}

/// A contact with a minimal postal address (the registry assigns the id; read it from the
/// response's `ContactCreate` data).
pub fn contact_create() -> Parts {
    let create = contact::Create {
        id: "ignored".into(),
        postal_info: vec![PostalInfo {
            kind: PostalType::Int,
            name: "Test Registrant".into(),
            org: None,
            addr: Address {
                street: vec!["Teststraat 1".into()],
                city: "Arnhem".into(),
                sp: None,
                pc: Some("6800 AA".into()),
                cc: "NL".into(),
            },
        }],
        voice: None,
        fax: None,
        email: "registrant@example.invalid".into(),
        auth_info: AuthInfo::Password {
            pw: "contact-secret".into(),
            roid: None,
        },
        disclose: None,
    };
    (CommandKind::Create(Create::Contact(create)), Vec::new())
}

/// A host object; addresses only for hosts inside the TLD (their glue).
pub fn host_create(name: &str, addrs: &[IpAddr]) -> Parts {
    let create = host::Create {
        name: name.into(),
        addrs: addrs.iter().map(|ip| HostAddr::from_ip(*ip)).collect(),
    };
    (CommandKind::Create(Create::Host(create)), Vec::new())
}

/// A domain with `contact` as registrant, admin and tech, name servers `ns` (host objects)
/// and, when `keys` is not empty, secDNS key data.
pub fn domain_create(name: &str, contact: &str, ns: &[&str], keys: Vec<KeyData>) -> Parts {
    let create = domain::Create {
        name: name.into(),
        period: None,
        ns: (!ns.is_empty()).then(|| NsList::HostObj(ns.iter().map(|s| s.to_string()).collect())),
        registrant: Some(contact.into()),
        contacts: [ContactType::Admin, ContactType::Tech]
            .into_iter()
            .map(|kind| DomainContact {
                kind: Some(kind),
                id: contact.into(),
            })
            .collect(),
        auth_info: AuthInfo::Password {
            pw: "transfer-token-1".into(),
            roid: None,
        },
    };
    let extensions = if keys.is_empty() {
        Vec::new()
    } else {
        vec![CommandExtension::SecDnsCreate(DsOrKeySet {
            max_sig_life: None,
            data: DsOrKey::Key(keys),
        })]
    };
    (CommandKind::Create(Create::Domain(create)), extensions)
}

/// Adds name servers and, when `keys` is not empty, key data to a domain.
pub fn domain_add(name: &str, ns: &[&str], keys: Vec<KeyData>) -> Parts {
    let update = domain::Update {
        name: name.into(),
        add: (!ns.is_empty()).then(|| domain::AddRem {
            ns: Some(NsList::HostObj(ns.iter().map(|s| s.to_string()).collect())),
            ..domain::AddRem::default()
        }),
        rem: None,
        chg: None,
    };
    let extensions = if keys.is_empty() {
        Vec::new()
    } else {
        vec![CommandExtension::SecDnsUpdate(secdns::Update {
            urgent: false,
            rem: None,
            add: Some(DsOrKeySet {
                max_sig_life: None,
                data: DsOrKey::Key(keys),
            }),
            chg: None,
        })]
    };
    (CommandKind::Update(Update::Domain(update)), extensions)
}

/// The contact id the registry assigned, from a contact create response.
pub fn created_contact_id(response: &Response) -> Option<String> {
    match &response.res_data {
        Some(ResData::ContactCreate(c)) => Some(c.id.clone()),
        _ => None,
    }
}

/// Gives `clid` (a registrar of `registry`) a contact, the out-of-zone hosts `ns` and the
/// delegation `name` on them with `keys` (none: insecure): the starting state of the
/// registry's own tests about one delegated domain. Panics when the registry refuses a step.
pub fn delegate(registry: &mut Registry, clid: &str, name: &str, ns: &[&str], keys: Vec<KeyData>) {
    let all = Services::all();
    let r = registry.execute(clid, &all, &command(contact_create()));
    let contact = created_contact_id(&r).expect("the contact's id");
    for h in ns {
        let r = registry.execute(clid, &all, &command(host_create(h, &[])));
        assert!(r.code().is_success(), "host {h}: {r:?}");
    }
    let r = registry.execute(
        clid,
        &all,
        &command(domain_create(name, &contact, ns, keys)),
    );
    assert!(r.code().is_success(), "domain {name}: {r:?}");
}
