//! The objects the registry keeps: domains, hosts and contacts, and how each is shown in an
//! info response.

use std::collections::BTreeSet;
use std::net::IpAddr;

use jiff::Timestamp;

use epp::contact::{self, ContactStatus, Disclose, Phone, PostalInfo};
use epp::domain::{self, ContactType, DomainContact, DomainStatus, NsList};
use epp::host::{self, HostAddr, HostStatus};
use epp::secdns::KeyData;
use epp::sidn::ContactExt;
use epp::types::{AuthInfo, Status, TransferData};

/// A registered domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Folded name, e.g. `example.nl`.
    pub name: String,
    /// `domain:roid` handed out at create, unique in the registry.
    pub roid: String,
    /// Registrant contact id.
    pub registrant: String,
    /// Admin and tech contacts.
    pub contacts: BTreeSet<(ContactType, String)>,
    /// Delegated name servers (host objects), in the order given.
    pub ns: Vec<String>,
    /// Client-set statuses (server statuses are not used by this profile).
    pub statuses: BTreeSet<DomainStatus>,
    /// Sponsoring registrar (registrar of record).
    pub sponsor: String,
    /// `domain:crID`: the registrar whose create made the domain.
    pub cr_id: String,
    /// `domain:crDate`: the registry's clock at the create.
    pub cr_date: Timestamp,
    /// `domain:upID`: the registrar whose update changed the domain last.
    pub up_id: Option<String>,
    /// `domain:upDate`: the registry's clock at the last update, if any.
    pub up_date: Option<Timestamp>,
    /// `domain:exDate`: create time plus the period; renewals move it.
    pub ex_date: Timestamp,
    /// `domain:trDate`: when the last transfer completed, if any.
    pub tr_date: Option<Timestamp>,
    /// The transfer token (authInfo password).
    pub token: String,
    /// DNSSEC keys (key data interface); the registry publishes their DS.
    pub keys: Vec<KeyData>,
    /// The last completed transfer, for `transfer op="query"`.
    pub last_transfer: Option<TransferData>,
    /// When it entered quarantine after a delete (SIDN: restorable for 40 days). Whoever
    /// changes it calls `Registry::due_dates_changed`.
    pub deleted_at: Option<Timestamp>,
    /// A deletion scheduled with SIDN's scheduled delete extension. Whoever changes it calls
    /// `Registry::due_dates_changed`.
    pub scheduled_delete: Option<jiff::civil::Date>,
    /// Subscription period in months (SIDN: 1, 3 or 12).
    pub period_months: u32,
}

impl Domain {
    /// The instant time alone next changes this domain, if ever: its quarantine ends
    /// (`quarantine` after `deleted_at`), or the first instant (UTC) of its scheduled delete's
    /// day, when it enters quarantine.
    pub(crate) fn falls_due(&self, quarantine: jiff::SignedDuration) -> Option<Timestamp> {
        match (self.deleted_at, self.scheduled_delete) {
            (Some(t), _) => t.saturating_add(quarantine).ok(),
            (None, Some(day)) => day
                .to_zoned(jiff::tz::TimeZone::UTC)
                .ok()
                .map(|z| z.timestamp()),
            (None, None) => None,
        }
    }

    /// The statuses to show: `ok` when none is set, `pendingDelete` in quarantine, `inactive`
    /// without name servers (RFC 5731 §2.3).
    pub fn shown_statuses(&self) -> Vec<Status<DomainStatus>> {
        let mut out: Vec<Status<DomainStatus>> =
            self.statuses.iter().map(|s| Status::new(*s)).collect();
        if self.deleted_at.is_some() {
            out.push(Status::new(DomainStatus::PendingDelete));
        }
        if self.ns.is_empty() {
            out.push(Status::new(DomainStatus::Inactive));
        }
        if out.is_empty() {
            out.push(Status::new(DomainStatus::Ok));
        }
        out
    }

    /// Whether the TLD publishes a delegation for it: not in quarantine, not on hold, with
    /// name servers (RFC 5731 §2.3: clientHold/serverHold withdraw the delegation).
    pub fn is_delegated(&self) -> bool {
        self.deleted_at.is_none()
            && !self.statuses.contains(&DomainStatus::ClientHold)
            && !self.statuses.contains(&DomainStatus::ServerHold)
            && !self.ns.is_empty()
    }

    /// Full info (for the sponsor, or a client that gave the right authInfo). The authInfo
    /// itself only when `for_sponsor`: RFC 5731 §3.1.2 says `<domain:authInfo>` MUST NOT be
    /// provided when the querying client is not the sponsoring client, even one that proved it
    /// knows the token.
    pub fn full_info(&self, subordinate_hosts: Vec<String>, for_sponsor: bool) -> domain::InfData {
        domain::InfData {
            name: self.name.clone(),
            roid: self.roid.clone(),
            statuses: self.shown_statuses(),
            registrant: Some(self.registrant.clone()),
            contacts: self
                .contacts
                .iter()
                .map(|(kind, id)| DomainContact {
                    kind: Some(*kind),
                    id: id.clone(),
                })
                .collect(),
            ns: (!self.ns.is_empty()).then(|| NsList::HostObj(self.ns.clone())),
            hosts: subordinate_hosts,
            cl_id: self.sponsor.clone(),
            cr_id: Some(self.cr_id.clone()),
            cr_date: Some(self.cr_date),
            up_id: self.up_id.clone(),
            up_date: self.up_date,
            ex_date: Some(self.ex_date),
            tr_date: self.tr_date,
            auth_info: for_sponsor.then(|| AuthInfo::password(self.token.clone())),
        }
    }

    /// Reduced info for other registrars (RFC 5731 §3.1.2 example): no contacts, hosts,
    /// dates or authInfo.
    pub fn reduced_info(&self) -> domain::InfData {
        domain::InfData {
            name: self.name.clone(),
            roid: self.roid.clone(),
            statuses: self.shown_statuses(),
            registrant: None,
            contacts: Vec::new(),
            ns: (!self.ns.is_empty()).then(|| NsList::HostObj(self.ns.clone())),
            hosts: Vec::new(),
            cl_id: self.sponsor.clone(),
            cr_id: None,
            cr_date: None,
            up_id: None,
            up_date: None,
            ex_date: None,
            tr_date: None,
            auth_info: None,
        }
    }
}

/// A host object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The host name in lower case, the key of the registry's host map.
    pub name: String,
    /// `host:roid` handed out at create, unique in the registry.
    pub roid: String,
    /// Glue addresses (only for hosts inside the TLD).
    pub addrs: Vec<IpAddr>,
    /// Statuses a client set (`clientUpdateProhibited`, `clientDeleteProhibited`).
    pub statuses: BTreeSet<HostStatus>,
    /// The registrar that sponsors the host (that of its superordinate domain for hosts in the
    /// TLD).
    pub sponsor: String,
    /// `host:crID`: the registrar whose create made the host.
    pub cr_id: String,
    /// `host:crDate`: the registry's clock at the create.
    pub cr_date: Timestamp,
    /// `host:upID`: the registrar whose update changed the host last.
    pub up_id: Option<String>,
    /// `host:upDate`: the registry's clock at the last update, if any.
    pub up_date: Option<Timestamp>,
    /// Last transfer (hosts move with their superordinate domain).
    pub tr_date: Option<Timestamp>,
}

impl Host {
    /// Info data; `linked` when a domain delegates to it.
    pub fn info(&self, linked: bool) -> host::InfData {
        let mut statuses: Vec<Status<HostStatus>> =
            self.statuses.iter().map(|s| Status::new(*s)).collect();
        if linked {
            statuses.push(Status::new(HostStatus::Linked));
        }
        if statuses.is_empty() {
            statuses.push(Status::new(HostStatus::Ok));
        }
        host::InfData {
            name: self.name.clone(),
            roid: self.roid.clone(),
            statuses,
            addrs: self.addrs.iter().map(|a| HostAddr::from_ip(*a)).collect(),
            cl_id: self.sponsor.clone(),
            cr_id: self.cr_id.clone(),
            cr_date: self.cr_date,
            up_id: self.up_id.clone(),
            up_date: self.up_date,
            tr_date: self.tr_date,
        }
    }
}

/// A contact object as the registry stores it (RFC 5733), with SIDN's legal form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Server-assigned id (SIDN assigns contact ids).
    pub id: String,
    /// `contact:roid` handed out at create, unique in the registry.
    pub roid: String,
    /// The `int` and `loc` postal forms (RFC 5733 §2.4: one or two, distinct types).
    pub postal_info: Vec<PostalInfo>,
    /// Telephone number in E.164 form (RFC 5733 §2.5).
    pub voice: Option<Phone>,
    /// Fax number in E.164 form (RFC 5733 §2.5).
    pub fax: Option<Phone>,
    /// `contact:email`, checked against RFC 5322 on create and update.
    pub email: String,
    /// The `contact:authInfo` password a registrar needs to see or transfer the contact.
    pub token: String,
    /// `contact:disclose` as the sponsor set it; `None` follows the registry's default.
    pub disclose: Option<Disclose>,
    /// SIDN's legal form and registration number (`sidn-ext-epp:contact`), when given.
    pub legal: Option<ContactExt>,
    /// Statuses a client set (`client*Prohibited`).
    pub statuses: BTreeSet<ContactStatus>,
    /// `contact:clID`: the registrar that manages the contact.
    pub sponsor: String,
    /// `contact:crID`: the registrar whose create made the contact.
    pub cr_id: String,
    /// `contact:crDate`: the registry's clock at the create.
    pub cr_date: Timestamp,
    /// `contact:upID`: the registrar whose update changed the contact last.
    pub up_id: Option<String>,
    /// `contact:upDate`: the registry's clock at the last update, if any.
    pub up_date: Option<Timestamp>,
}

impl Contact {
    /// Info data; the password only for the sponsor (RFC 5733 §3.1.2: `<contact:authInfo>`
    /// MUST NOT be provided to another client, whatever it gave).
    pub fn info(&self, linked: bool, for_sponsor: bool) -> contact::InfData {
        let mut statuses: Vec<Status<ContactStatus>> =
            self.statuses.iter().map(|s| Status::new(*s)).collect();
        if linked {
            statuses.push(Status::new(ContactStatus::Linked));
        }
        if statuses.is_empty() {
            statuses.push(Status::new(ContactStatus::Ok));
        }
        contact::InfData {
            id: self.id.clone(),
            roid: self.roid.clone(),
            statuses,
            postal_info: self.postal_info.clone(),
            voice: self.voice.clone(),
            fax: self.fax.clone(),
            email: self.email.clone(),
            cl_id: self.sponsor.clone(),
            cr_id: self.cr_id.clone(),
            cr_date: self.cr_date,
            up_id: self.up_id.clone(),
            up_date: self.up_date,
            tr_date: None,
            auth_info: for_sponsor.then(|| AuthInfo::password(self.token.clone())),
            disclose: self.disclose.clone(),
        }
    }
}
