//! RFC 5731 domain name mapping: commands and response data.

use jiff::Timestamp;
use jiff::civil::Date;

use super::error::CodecError;
use super::host::HostAddr;
use super::types::{
    AuthInfo, Period, Status, clid_el, datetime_el, format_datetime, label_el, parse_date,
    parse_status, roid_el, status_enum, write_status,
};
use super::xml::{Element, Ns, XmlWriter};

const NS: Ns = Ns::Domain;

status_enum! {
    /// Domain status values (`domain:statusValueType`, RFC 5731 §2.3).
    DomainStatus {
        ClientDeleteProhibited = "clientDeleteProhibited",
        ClientHold = "clientHold",
        ClientRenewProhibited = "clientRenewProhibited",
        ClientTransferProhibited = "clientTransferProhibited",
        ClientUpdateProhibited = "clientUpdateProhibited",
        Inactive = "inactive",
        Ok = "ok",
        PendingCreate = "pendingCreate",
        PendingDelete = "pendingDelete",
        PendingRenew = "pendingRenew",
        PendingTransfer = "pendingTransfer",
        PendingUpdate = "pendingUpdate",
        ServerDeleteProhibited = "serverDeleteProhibited",
        ServerHold = "serverHold",
        ServerRenewProhibited = "serverRenewProhibited",
        ServerTransferProhibited = "serverTransferProhibited",
        ServerUpdateProhibited = "serverUpdateProhibited",
    }
}

/// Contact roles (`domain:contactAttrType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContactType {
    /// `admin` on the wire.
    Admin,
    /// `billing` on the wire.
    Billing,
    /// `tech` on the wire.
    Tech,
}

impl ContactType {
    /// The schema token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Billing => "billing",
            Self::Tech => "tech",
        }
    }
}

/// A contact associated with a domain (`domain:contactType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainContact {
    /// The role; the schema makes the attribute optional.
    pub kind: Option<ContactType>,
    /// The contact id.
    pub id: String,
}

/// A host given as attributes rather than as a host object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAttr {
    /// `domain:hostName`: the name server's fully qualified name.
    pub name: String,
    /// `domain:hostAddr` glue, needed only when the name server lies inside the domain.
    pub addrs: Vec<HostAddr>,
}

/// Name servers (`domain:nsType`): host objects or host attributes, never mixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NsList {
    /// `<domain:hostObj>` names (the model SIDN uses).
    HostObj(Vec<String>),
    /// `<domain:hostAttr>` entries.
    HostAttr(Vec<HostAttr>),
}

impl NsList {
    /// The host names, whichever model is used.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Self::HostObj(v) => v.iter().map(String::as_str).collect(),
            Self::HostAttr(v) => v.iter().map(|h| h.name.as_str()).collect(),
        }
    }

    fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let objs = c.many(&NS, "hostObj", usize::MAX)?;
        let out = if !objs.is_empty() {
            Self::HostObj(objs.into_iter().map(label_el).collect::<Result<_, _>>()?)
        } else {
            let attrs = c.many(&NS, "hostAttr", usize::MAX)?;
            if attrs.is_empty() {
                return Err(CodecError::missing(
                    "<domain:ns> requires <domain:hostObj> or <domain:hostAttr>",
                ));
            }
            let mut list = Vec::new();
            for a in attrs {
                a.only_attrs(&[])?;
                let mut ac = a.element_children()?;
                let name = label_el(ac.required(&NS, "hostName")?)?;
                let addrs = ac
                    .many(&NS, "hostAddr", usize::MAX)?
                    .into_iter()
                    .map(HostAddr::parse)
                    .collect::<Result<_, _>>()?;
                ac.finish()?;
                list.push(HostAttr { name, addrs });
            }
            Self::HostAttr(list)
        };
        c.finish()?;
        Ok(out)
    }

    fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "ns", &[]);
        match self {
            Self::HostObj(v) => v.iter().for_each(|h| w.leaf(&NS, "hostObj", h)),
            Self::HostAttr(v) => {
                for h in v {
                    w.open(&NS, "hostAttr", &[]);
                    w.leaf(&NS, "hostName", &h.name);
                    for a in &h.addrs {
                        a.write(w, &NS, "hostAddr");
                    }
                    w.close();
                }
            }
        }
        w.close();
    }
}

fn parse_contact(el: &Element) -> Result<DomainContact, CodecError> {
    el.only_attrs(&["type"])?;
    let kind = match el.attr("type").map(str::trim) {
        None => None,
        Some("admin") => Some(ContactType::Admin),
        Some("billing") => Some(ContactType::Billing),
        Some("tech") => Some(ContactType::Tech),
        Some(other) => {
            return Err(CodecError::value_syntax(format!(
                "contact type must be admin, billing or tech, got {other:?}"
            ))
            .with_offending(el.clone()));
        }
    };
    let id = el
        .token_len(3, 16)
        .map_err(|e| e.with_offending(el.clone()))?;
    Ok(DomainContact { kind, id })
}

fn write_contact(c: &DomainContact, w: &mut XmlWriter) {
    match c.kind {
        Some(k) => w.text_el(&NS, "contact", &[("type", k.as_str())], &c.id),
        None => w.leaf(&NS, "contact", &c.id),
    }
}

/// Which hosts a domain info should list (`domain:hostsType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HostsFilter {
    /// Delegated and subordinate hosts (the default).
    #[default]
    All,
    /// Delegated hosts only.
    Del,
    /// `none`: neither kind, only the domain's own data.
    None,
    /// Subordinate hosts only.
    Sub,
}

/// `<domain:info>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// The domain name.
    pub name: String,
    /// The `hosts` attribute.
    pub hosts: HostsFilter,
    /// Authorization info, for a non-sponsor to see full data.
    pub auth_info: Option<AuthInfo>,
}

/// `<domain:create>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create {
    /// The domain name.
    pub name: String,
    /// `domain:period` (1 to 99 years or months); `None` takes the registry's default.
    pub period: Option<Period>,
    /// `domain:ns`: the name servers to delegate to; `None` creates the domain undelegated.
    pub ns: Option<NsList>,
    /// Registrant contact id.
    pub registrant: Option<String>,
    /// `domain:contact`s (admin, billing, tech), each with its role.
    pub contacts: Vec<DomainContact>,
    /// The authorization token (SIDN: the transfer token).
    pub auth_info: AuthInfo,
}

/// The `add` or `rem` part of `<domain:update>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddRem {
    /// `domain:ns` to add or remove, in the form (objects or attributes) the registry uses.
    pub ns: Option<NsList>,
    /// Contacts to add or remove, each with its role (RFC 5731 §3.2.5).
    pub contacts: Vec<DomainContact>,
    /// Statuses (at most 11).
    pub statuses: Vec<Status<DomainStatus>>,
}

/// How an update changes the authorization info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthInfoChange {
    /// Set new authorization info.
    Set(AuthInfo),
    /// Remove it (`<domain:null/>`).
    Null,
}

/// The `chg` part of `<domain:update>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Change {
    /// New registrant (an empty string removes it, as the schema allows).
    pub registrant: Option<String>,
    /// New authorization info.
    pub auth_info: Option<AuthInfoChange>,
}

/// `<domain:update>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The domain name.
    pub name: String,
    /// What to add.
    pub add: Option<AddRem>,
    /// What to remove.
    pub rem: Option<AddRem>,
    /// What to change.
    pub chg: Option<Change>,
}

/// `<domain:renew>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renew {
    /// The domain name.
    pub name: String,
    /// The current expiry date, which must match the registry's (guards against replays).
    pub cur_exp_date: Date,
    /// `domain:period` to add to the expiry; `None` takes the registry's default.
    pub period: Option<Period>,
}

/// `<domain:transfer>` (the operation is the command's `op` attribute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The domain name.
    pub name: String,
    /// Period added on a transfer request.
    pub period: Option<Period>,
    /// The token proving the registrant's consent.
    pub auth_info: Option<AuthInfo>,
}

impl Info {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let n = c.required(&NS, "name")?;
        n.only_attrs(&["hosts"])?;
        let hosts = match n.attr("hosts").map(str::trim) {
            None | Some("all") => HostsFilter::All,
            Some("del") => HostsFilter::Del,
            Some("none") => HostsFilter::None,
            Some("sub") => HostsFilter::Sub,
            Some(other) => {
                return Err(CodecError::value_syntax(format!(
                    "hosts must be all, del, none or sub, got {other:?}"
                ))
                .with_offending(n.clone()));
            }
        };
        let name = n.token_len(1, 255)?;
        let auth_info = c
            .optional(&NS, "authInfo")
            .map(|a| AuthInfo::parse(a, &NS))
            .transpose()?;
        c.finish()?;
        Ok(Self {
            name,
            hosts,
            auth_info,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "info", &[]);
        let hosts = match self.hosts {
            HostsFilter::All => "all",
            HostsFilter::Del => "del",
            HostsFilter::None => "none",
            HostsFilter::Sub => "sub",
        };
        w.text_el(&NS, "name", &[("hosts", hosts)], &self.name);
        if let Some(a) = &self.auth_info {
            a.write(w, &NS);
        }
        w.close();
    }
}

impl Create {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let name = label_el(c.required(&NS, "name")?)?;
        let period = c.optional(&NS, "period").map(Period::parse).transpose()?;
        let ns = c.optional(&NS, "ns").map(NsList::parse).transpose()?;
        let registrant = c.optional(&NS, "registrant").map(clid_el).transpose()?;
        let contacts = c
            .many(&NS, "contact", usize::MAX)?
            .into_iter()
            .map(parse_contact)
            .collect::<Result<_, _>>()?;
        let auth_info = AuthInfo::parse(c.required(&NS, "authInfo")?, &NS)?;
        c.finish()?;
        Ok(Self {
            name,
            period,
            ns,
            registrant,
            contacts,
            auth_info,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "create", &[]);
        w.leaf(&NS, "name", &self.name);
        if let Some(p) = &self.period {
            p.write(w, &NS);
        }
        if let Some(ns) = &self.ns {
            ns.write(w);
        }
        if let Some(r) = &self.registrant {
            w.leaf(&NS, "registrant", r);
        }
        self.contacts.iter().for_each(|c| write_contact(c, w));
        self.auth_info.write(w, &NS);
        w.close();
    }
}

impl AddRem {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let ns = c.optional(&NS, "ns").map(NsList::parse).transpose()?;
        let contacts = c
            .many(&NS, "contact", usize::MAX)?
            .into_iter()
            .map(parse_contact)
            .collect::<Result<_, _>>()?;
        let statuses = c
            .many(&NS, "status", 11)?
            .into_iter()
            .map(|s| parse_status(s, DomainStatus::from_token))
            .collect::<Result<_, _>>()?;
        c.finish()?;
        Ok(Self {
            ns,
            contacts,
            statuses,
        })
    }

    fn write(&self, w: &mut XmlWriter, name: &str) {
        w.open(&NS, name, &[]);
        if let Some(ns) = &self.ns {
            ns.write(w);
        }
        self.contacts.iter().for_each(|c| write_contact(c, w));
        for s in &self.statuses {
            write_status(w, &NS, s.value.as_str(), s.text.as_ref());
        }
        w.close();
    }
}

impl Update {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let name = label_el(c.required(&NS, "name")?)?;
        let add = c.optional(&NS, "add").map(AddRem::parse).transpose()?;
        let rem = c.optional(&NS, "rem").map(AddRem::parse).transpose()?;
        let chg = match c.optional(&NS, "chg") {
            None => None,
            Some(ch) => {
                ch.only_attrs(&[])?;
                let mut cc = ch.element_children()?;
                let registrant = match cc.optional(&NS, "registrant") {
                    Some(r) => {
                        r.only_attrs(&[])?;
                        Some(r.token_len(0, 16)?)
                    }
                    None => None,
                };
                let auth_info = match cc.optional(&NS, "authInfo") {
                    None => None,
                    Some(a) => {
                        a.only_attrs(&[])?;
                        let mut ac = a.element_children()?;
                        if let Some(null) = ac.optional(&NS, "null") {
                            null.expect_empty(&[])?;
                            ac.finish()?;
                            Some(AuthInfoChange::Null)
                        } else {
                            Some(AuthInfoChange::Set(AuthInfo::parse(a, &NS)?))
                        }
                    }
                };
                cc.finish()?;
                Some(Change {
                    registrant,
                    auth_info,
                })
            }
        };
        c.finish()?;
        Ok(Self {
            name,
            add,
            rem,
            chg,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "update", &[]);
        w.leaf(&NS, "name", &self.name);
        if let Some(a) = &self.add {
            a.write(w, "add");
        }
        if let Some(r) = &self.rem {
            r.write(w, "rem");
        }
        if let Some(ch) = &self.chg {
            w.open(&NS, "chg", &[]);
            if let Some(r) = &ch.registrant {
                w.leaf(&NS, "registrant", r);
            }
            match &ch.auth_info {
                None => {}
                Some(AuthInfoChange::Null) => {
                    w.open(&NS, "authInfo", &[]);
                    w.empty(&NS, "null", &[]);
                    w.close();
                }
                Some(AuthInfoChange::Set(a)) => a.write(w, &NS),
            }
            w.close();
        }
        w.close();
    }
}

impl Renew {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let name = label_el(c.required(&NS, "name")?)?;
        let d = c.required(&NS, "curExpDate")?;
        d.only_attrs(&[])?;
        let cur_exp_date = parse_date(&d.token()?).map_err(|e| e.with_offending(d.clone()))?;
        let period = c.optional(&NS, "period").map(Period::parse).transpose()?;
        c.finish()?;
        Ok(Self {
            name,
            cur_exp_date,
            period,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "renew", &[]);
        w.leaf(&NS, "name", &self.name);
        w.leaf(&NS, "curExpDate", &self.cur_exp_date.to_string());
        if let Some(p) = &self.period {
            p.write(w, &NS);
        }
        w.close();
    }
}

impl Transfer {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let name = label_el(c.required(&NS, "name")?)?;
        let period = c.optional(&NS, "period").map(Period::parse).transpose()?;
        let auth_info = c
            .optional(&NS, "authInfo")
            .map(|a| AuthInfo::parse(a, &NS))
            .transpose()?;
        c.finish()?;
        Ok(Self {
            name,
            period,
            auth_info,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "transfer", &[]);
        w.leaf(&NS, "name", &self.name);
        if let Some(p) = &self.period {
            p.write(w, &NS);
        }
        if let Some(a) = &self.auth_info {
            a.write(w, &NS);
        }
        w.close();
    }
}

// ---------------------------------------------------------------------------------------------
// Responses

/// `<domain:creData>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreData {
    /// The domain name.
    pub name: String,
    /// `domain:crDate`: when the registry created the domain, in UTC.
    pub cr_date: Timestamp,
    /// `domain:exDate`: when the registration ends, if the registry sets one.
    pub ex_date: Option<Timestamp>,
}

/// `<domain:infData>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfData {
    /// The domain name.
    pub name: String,
    /// `domain:roid`: the registry's own id of the object (`eppcom:roidType`).
    pub roid: String,
    /// Statuses (at most 11).
    pub statuses: Vec<Status<DomainStatus>>,
    /// The registrant contact id; only the sponsor and authorised clients see it.
    pub registrant: Option<String>,
    /// The admin, billing and tech contacts, each with its role.
    pub contacts: Vec<DomainContact>,
    /// Delegated name servers.
    pub ns: Option<NsList>,
    /// `domain:host`: names of the host objects subordinate to the domain.
    pub hosts: Vec<String>,
    /// `domain:clID`: the registrar that sponsors the domain now.
    pub cl_id: String,
    /// `domain:crID`: the registrar that created the domain (optional in the schema).
    pub cr_id: Option<String>,
    /// `domain:crDate`: when the domain was created, in UTC.
    pub cr_date: Option<Timestamp>,
    /// `domain:upID`: the registrar that last updated the domain, if any did.
    pub up_id: Option<String>,
    /// `domain:upDate`: when the domain was last updated, in UTC.
    pub up_date: Option<Timestamp>,
    /// `domain:exDate`: when the registration ends, in UTC.
    pub ex_date: Option<Timestamp>,
    /// `domain:trDate`: when the domain last changed sponsor, in UTC.
    pub tr_date: Option<Timestamp>,
    /// Authorization info (only for the sponsor or with valid authInfo).
    pub auth_info: Option<AuthInfo>,
}

/// `<domain:renData>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenData {
    /// The domain name.
    pub name: String,
    /// `domain:exDate` after the renewal, in UTC.
    pub ex_date: Option<Timestamp>,
}

/// `<domain:trnData>`.
pub type TrnData = super::types::TransferData;

impl CreData {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let name = label_el(c.required(&NS, "name")?)?;
        let cr_date = datetime_el(c.required(&NS, "crDate")?)?;
        let ex_date = c.optional(&NS, "exDate").map(datetime_el).transpose()?;
        c.finish()?;
        Ok(Self {
            name,
            cr_date,
            ex_date,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "creData", &[]);
        w.leaf(&NS, "name", &self.name);
        w.leaf(&NS, "crDate", &format_datetime(&self.cr_date));
        if let Some(d) = &self.ex_date {
            w.leaf(&NS, "exDate", &format_datetime(d));
        }
        w.close();
    }
}

impl InfData {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let name = label_el(c.required(&NS, "name")?)?;
        let roid = roid_el(c.required(&NS, "roid")?)?;
        let statuses = c
            .many(&NS, "status", 11)?
            .into_iter()
            .map(|s| parse_status(s, DomainStatus::from_token))
            .collect::<Result<_, _>>()?;
        let registrant = c.optional(&NS, "registrant").map(clid_el).transpose()?;
        let contacts = c
            .many(&NS, "contact", usize::MAX)?
            .into_iter()
            .map(parse_contact)
            .collect::<Result<_, _>>()?;
        let ns = c.optional(&NS, "ns").map(NsList::parse).transpose()?;
        let hosts = c
            .many(&NS, "host", usize::MAX)?
            .into_iter()
            .map(label_el)
            .collect::<Result<_, _>>()?;
        let cl_id = clid_el(c.required(&NS, "clID")?)?;
        let cr_id = c.optional(&NS, "crID").map(clid_el).transpose()?;
        let cr_date = c.optional(&NS, "crDate").map(datetime_el).transpose()?;
        let up_id = c.optional(&NS, "upID").map(clid_el).transpose()?;
        let up_date = c.optional(&NS, "upDate").map(datetime_el).transpose()?;
        let ex_date = c.optional(&NS, "exDate").map(datetime_el).transpose()?;
        let tr_date = c.optional(&NS, "trDate").map(datetime_el).transpose()?;
        let auth_info = c
            .optional(&NS, "authInfo")
            .map(|a| AuthInfo::parse(a, &NS))
            .transpose()?;
        c.finish()?;
        Ok(Self {
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
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "infData", &[]);
        w.leaf(&NS, "name", &self.name);
        w.leaf(&NS, "roid", &self.roid);
        for s in &self.statuses {
            write_status(w, &NS, s.value.as_str(), s.text.as_ref());
        }
        if let Some(r) = &self.registrant {
            w.leaf(&NS, "registrant", r);
        }
        self.contacts.iter().for_each(|c| write_contact(c, w));
        if let Some(ns) = &self.ns {
            ns.write(w);
        }
        self.hosts.iter().for_each(|h| w.leaf(&NS, "host", h));
        w.leaf(&NS, "clID", &self.cl_id);
        if let Some(v) = &self.cr_id {
            w.leaf(&NS, "crID", v);
        }
        if let Some(v) = &self.cr_date {
            w.leaf(&NS, "crDate", &format_datetime(v));
        }
        if let Some(v) = &self.up_id {
            w.leaf(&NS, "upID", v);
        }
        if let Some(v) = &self.up_date {
            w.leaf(&NS, "upDate", &format_datetime(v));
        }
        if let Some(v) = &self.ex_date {
            w.leaf(&NS, "exDate", &format_datetime(v));
        }
        if let Some(v) = &self.tr_date {
            w.leaf(&NS, "trDate", &format_datetime(v));
        }
        if let Some(a) = &self.auth_info {
            a.write(w, &NS);
        }
        w.close();
    }
}

impl RenData {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let name = label_el(c.required(&NS, "name")?)?;
        let ex_date = c.optional(&NS, "exDate").map(datetime_el).transpose()?;
        c.finish()?;
        Ok(Self { name, ex_date })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "renData", &[]);
        w.leaf(&NS, "name", &self.name);
        if let Some(d) = &self.ex_date {
            w.leaf(&NS, "exDate", &format_datetime(d));
        }
        w.close();
    }
}
