//! RFC 5732 host mapping: commands and response data.

use jiff::Timestamp;

use super::error::CodecError;
use super::types::{
    Status, clid_el, datetime_el, format_datetime, label_el, parse_status, roid_el, status_enum,
    write_status,
};
use super::xml::{Element, Ns, XmlWriter};

const NS: Ns = Ns::Host;

status_enum! {
    /// Host status values (`host:statusValueType`).
    HostStatus {
        ClientDeleteProhibited = "clientDeleteProhibited",
        ClientUpdateProhibited = "clientUpdateProhibited",
        Linked = "linked",
        Ok = "ok",
        PendingCreate = "pendingCreate",
        PendingDelete = "pendingDelete",
        PendingTransfer = "pendingTransfer",
        PendingUpdate = "pendingUpdate",
        ServerDeleteProhibited = "serverDeleteProhibited",
        ServerUpdateProhibited = "serverUpdateProhibited",
    }
}

/// IP version of an address (`host:ipType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum IpVersion {
    /// IPv4 (the schema default).
    #[default]
    V4,
    /// IPv6.
    V6,
}

/// An address of a host (`host:addrType`). The codec checks the schema (a 3–45 character
/// token); whether it is a valid address of its version is the registry's check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostAddr {
    /// The `ip` attribute.
    pub ip: IpVersion,
    /// The address text.
    pub addr: String,
}

impl HostAddr {
    /// The address for an [`std::net::IpAddr`].
    pub fn from_ip(ip: std::net::IpAddr) -> Self {
        Self {
            ip: if ip.is_ipv4() {
                IpVersion::V4
            } else {
                IpVersion::V6
            },
            addr: ip.to_string(),
        }
    }

    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&["ip"])?;
        let ip = match el.attr("ip").map(str::trim) {
            None | Some("v4") => IpVersion::V4,
            Some("v6") => IpVersion::V6,
            Some(other) => {
                return Err(CodecError::value_syntax(format!(
                    "ip must be v4 or v6, got {other:?}"
                ))
                .with_offending(el.clone()));
            }
        };
        let addr = el
            .token_len(3, 45)
            .map_err(|e| e.with_offending(el.clone()))?;
        Ok(Self { ip, addr })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter, ns: &Ns, name: &str) {
        let ip = match self.ip {
            IpVersion::V4 => "v4",
            IpVersion::V6 => "v6",
        };
        w.text_el(ns, name, &[("ip", ip)], &self.addr);
    }
}

/// `<host:create>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create {
    /// `host:name`: the fully qualified name of the new host object.
    pub name: String,
    /// Addresses (required only for hosts inside a domain of this registry).
    pub addrs: Vec<HostAddr>,
}

/// The `add` or `rem` part of `<host:update>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddRem {
    /// `host:addr` glue addresses to add or remove.
    pub addrs: Vec<HostAddr>,
    /// Statuses (at most 7).
    pub statuses: Vec<Status<HostStatus>>,
}

/// `<host:update>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// `host:name` of the host object to update.
    pub name: String,
    /// What to add.
    pub add: Option<AddRem>,
    /// What to remove.
    pub rem: Option<AddRem>,
    /// `host:chg/host:name`: the host's new name (RFC 5732 §3.2.5).
    pub new_name: Option<String>,
}

impl Create {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let name = label_el(c.required(&NS, "name")?)?;
        let addrs = c
            .many(&NS, "addr", usize::MAX)?
            .into_iter()
            .map(HostAddr::parse)
            .collect::<Result<_, _>>()?;
        c.finish()?;
        Ok(Self { name, addrs })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "create", &[]);
        w.leaf(&NS, "name", &self.name);
        self.addrs.iter().for_each(|a| a.write(w, &NS, "addr"));
        w.close();
    }
}

impl AddRem {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let addrs = c
            .many(&NS, "addr", usize::MAX)?
            .into_iter()
            .map(HostAddr::parse)
            .collect::<Result<_, _>>()?;
        let statuses = c
            .many(&NS, "status", 7)?
            .into_iter()
            .map(|s| parse_status(s, HostStatus::from_token))
            .collect::<Result<_, _>>()?;
        c.finish()?;
        Ok(Self { addrs, statuses })
    }

    fn write(&self, w: &mut XmlWriter, name: &str) {
        w.open(&NS, name, &[]);
        self.addrs.iter().for_each(|a| a.write(w, &NS, "addr"));
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
        let new_name = match c.optional(&NS, "chg") {
            Some(ch) => {
                ch.only_attrs(&[])?;
                let mut cc = ch.element_children()?;
                let n = label_el(cc.required(&NS, "name")?)?;
                cc.finish()?;
                Some(n)
            }
            None => None,
        };
        c.finish()?;
        Ok(Self {
            name,
            add,
            rem,
            new_name,
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
        if let Some(n) = &self.new_name {
            w.open(&NS, "chg", &[]);
            w.leaf(&NS, "name", n);
            w.close();
        }
        w.close();
    }
}

// ---------------------------------------------------------------------------------------------
// Responses

/// `<host:creData>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreData {
    /// `host:name` of the created host object.
    pub name: String,
    /// `host:crDate`: when the registry created the host, in UTC.
    pub cr_date: Timestamp,
}

/// `<host:infData>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfData {
    /// `host:name` of the host object described.
    pub name: String,
    /// `host:roid`: the registry's own id of the object (`eppcom:roidType`).
    pub roid: String,
    /// Statuses (1 to 7).
    pub statuses: Vec<Status<HostStatus>>,
    /// `host:addr` glue addresses (empty for hosts outside the registry's zones).
    pub addrs: Vec<HostAddr>,
    /// `host:clID`: the registrar that sponsors the host now.
    pub cl_id: String,
    /// `host:crID`: the registrar that created the host.
    pub cr_id: String,
    /// `host:crDate`: when the host was created, in UTC.
    pub cr_date: Timestamp,
    /// `host:upID`: the registrar that last updated the host, if any did.
    pub up_id: Option<String>,
    /// `host:upDate`: when the host was last updated, in UTC.
    pub up_date: Option<Timestamp>,
    /// `host:trDate`: when the host last changed sponsor (with its superordinate domain), in UTC.
    pub tr_date: Option<Timestamp>,
}

impl CreData {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let name = label_el(c.required(&NS, "name")?)?;
        let cr_date = datetime_el(c.required(&NS, "crDate")?)?;
        c.finish()?;
        Ok(Self { name, cr_date })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "creData", &[]);
        w.leaf(&NS, "name", &self.name);
        w.leaf(&NS, "crDate", &format_datetime(&self.cr_date));
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
            .at_least_one(&NS, "status", 7)?
            .into_iter()
            .map(|s| parse_status(s, HostStatus::from_token))
            .collect::<Result<_, _>>()?;
        let addrs = c
            .many(&NS, "addr", usize::MAX)?
            .into_iter()
            .map(HostAddr::parse)
            .collect::<Result<_, _>>()?;
        let cl_id = clid_el(c.required(&NS, "clID")?)?;
        let cr_id = clid_el(c.required(&NS, "crID")?)?;
        let cr_date = datetime_el(c.required(&NS, "crDate")?)?;
        let up_id = c.optional(&NS, "upID").map(clid_el).transpose()?;
        let up_date = c.optional(&NS, "upDate").map(datetime_el).transpose()?;
        let tr_date = c.optional(&NS, "trDate").map(datetime_el).transpose()?;
        c.finish()?;
        Ok(Self {
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
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "infData", &[]);
        w.leaf(&NS, "name", &self.name);
        w.leaf(&NS, "roid", &self.roid);
        for s in &self.statuses {
            write_status(w, &NS, s.value.as_str(), s.text.as_ref());
        }
        self.addrs.iter().for_each(|a| a.write(w, &NS, "addr"));
        w.leaf(&NS, "clID", &self.cl_id);
        w.leaf(&NS, "crID", &self.cr_id);
        w.leaf(&NS, "crDate", &format_datetime(&self.cr_date));
        if let Some(v) = &self.up_id {
            w.leaf(&NS, "upID", v);
        }
        if let Some(v) = &self.up_date {
            w.leaf(&NS, "upDate", &format_datetime(v));
        }
        if let Some(v) = &self.tr_date {
            w.leaf(&NS, "trDate", &format_datetime(v));
        }
        w.close();
    }
}
