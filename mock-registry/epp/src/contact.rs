//! RFC 5733 contact mapping: commands and response data.

use jiff::Timestamp;

use super::error::CodecError;
use super::types::{
    AuthInfo, Status, clid_el, datetime_el, format_datetime, parse_bool, parse_status, roid_el,
    status_enum, write_status,
};
use super::xml::{Element, Ns, XmlWriter};

const NS: Ns = Ns::Contact;

status_enum! {
    /// Contact status values (`contact:statusValueType`).
    ContactStatus {
        ClientDeleteProhibited = "clientDeleteProhibited",
        ClientTransferProhibited = "clientTransferProhibited",
        ClientUpdateProhibited = "clientUpdateProhibited",
        Linked = "linked",
        Ok = "ok",
        PendingCreate = "pendingCreate",
        PendingDelete = "pendingDelete",
        PendingTransfer = "pendingTransfer",
        PendingUpdate = "pendingUpdate",
        ServerDeleteProhibited = "serverDeleteProhibited",
        ServerTransferProhibited = "serverTransferProhibited",
        ServerUpdateProhibited = "serverUpdateProhibited",
    }
}

/// Postal info form (`contact:postalInfoEnumType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PostalType {
    /// Internationalised (7-bit ASCII) form.
    Int,
    /// Localised form (UTF-8).
    Loc,
}

impl PostalType {
    /// The schema token (`int` or `loc`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Int => "int",
            Self::Loc => "loc",
        }
    }

    fn parse_attr(el: &Element) -> Result<Self, CodecError> {
        match el.attr("type").map(str::trim) {
            Some("int") => Ok(Self::Int),
            Some("loc") => Ok(Self::Loc),
            Some(other) => Err(CodecError::value_syntax(format!(
                "postal info type must be int or loc, got {other:?}"
            ))
            .with_offending(el.clone())),
            None => Err(CodecError::missing(format!(
                "<{}> requires the type attribute",
                el.qname()
            ))),
        }
    }
}

/// A postal address (`contact:addrType`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// Street lines (0 to 3).
    pub street: Vec<String>,
    /// `contact:city` (required, 1 to 255 characters).
    pub city: String,
    /// `contact:sp`: state or province, up to 255 characters.
    pub sp: Option<String>,
    /// `contact:pc`: up to 16 characters, optional in the schema (SIDN requires it for NL).
    pub pc: Option<String>,
    /// `contact:cc`: ISO 3166-1 alpha-2 country code (two letters).
    pub cc: String,
}

/// Postal info (`contact:postalInfoType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalInfo {
    /// int or loc.
    pub kind: PostalType,
    /// `contact:name`: the person's or role's name (required).
    pub name: String,
    /// `contact:org`: the organisation the contact belongs to, up to 255 characters.
    pub org: Option<String>,
    /// `contact:addr`: street, city, postal code and country.
    pub addr: Address,
}

/// Postal info in an update, where every part is optional (`contact:chgPostalInfoType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalInfoChange {
    /// int or loc.
    pub kind: PostalType,
    /// `contact:name` to set; `None` leaves the name as it is.
    pub name: Option<String>,
    /// `contact:org` to set (may be empty, as `optPostalLineType` allows); `None` leaves it.
    pub org: Option<String>,
    /// `contact:addr` to set, replacing the whole address; `None` leaves it.
    pub addr: Option<Address>,
}

/// A phone or fax number (`contact:e164Type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// `+CC.NNNN` (may be empty, as the schema allows).
    pub number: String,
    /// Extension (`x` attribute).
    pub ext: Option<String>,
}

/// Disclosure preferences (`contact:discloseType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclose {
    /// `flag`: true to disclose the listed elements, false to hide them.
    pub flag: bool,
    /// `name` elements by type.
    pub name: Vec<PostalType>,
    /// `org` elements by type.
    pub org: Vec<PostalType>,
    /// `addr` elements by type.
    pub addr: Vec<PostalType>,
    /// Whether `<contact:voice/>` is listed, i.e. the flag applies to the phone number.
    pub voice: bool,
    /// Whether `<contact:fax/>` is listed, i.e. the flag applies to the fax number.
    pub fax: bool,
    /// Whether `<contact:email/>` is listed, i.e. the flag applies to the e-mail address.
    pub email: bool,
}

/// `<contact:info>` and `<contact:transfer>` (`contact:authIDType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthId {
    /// `contact:id` (`eppcom:clIDType`, 3 to 16 characters).
    pub id: String,
    /// `contact:authInfo`; a client other than the sponsor needs it to see full data or transfer.
    pub auth_info: Option<AuthInfo>,
}

/// `<contact:create>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create {
    /// `contact:id` the client proposes (`eppcom:clIDType`, 3 to 16 characters).
    pub id: String,
    /// One or two postal infos (int and/or loc).
    pub postal_info: Vec<PostalInfo>,
    /// `contact:voice` in E.164 form (`+CC.NNNN`), optional in the schema (SIDN requires it).
    pub voice: Option<Phone>,
    /// `contact:fax` in E.164 form (`+CC.NNNN`).
    pub fax: Option<Phone>,
    /// `contact:email` (`eppcom:minTokenType`, at least one character; the registry checks RFC
    /// 5322).
    pub email: String,
    /// `contact:authInfo`: the password a client needs to transfer the contact or see its data.
    pub auth_info: AuthInfo,
    /// `contact:disclose`: which elements the contact wants shown or hidden, overriding policy.
    pub disclose: Option<Disclose>,
}

/// The `chg` part of `<contact:update>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Change {
    /// Postal info changes (at most 2).
    pub postal_info: Vec<PostalInfoChange>,
    /// `contact:voice` to set; `None` leaves the number as it is.
    pub voice: Option<Phone>,
    /// `contact:fax` to set; `None` leaves the number as it is.
    pub fax: Option<Phone>,
    /// `contact:email` to set; `None` leaves the address as it is.
    pub email: Option<String>,
    /// `contact:authInfo` to set; `None` leaves the password as it is.
    pub auth_info: Option<AuthInfo>,
    /// `contact:disclose` to set; `None` leaves the preferences as they are.
    pub disclose: Option<Disclose>,
}

/// `<contact:update>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// `contact:id` of the contact to update.
    pub id: String,
    /// Statuses to add (1 to 7 when present).
    pub add: Option<Vec<Status<ContactStatus>>>,
    /// Statuses to remove.
    pub rem: Option<Vec<Status<ContactStatus>>>,
    /// `contact:chg`: the values to replace; `None` when the update only adds or removes statuses.
    pub chg: Option<Change>,
}

fn postal_line(el: &Element, min: usize) -> Result<String, CodecError> {
    el.only_attrs(&[])?;
    let v = el.normalized()?;
    let n = v.chars().count();
    if n < min || n > 255 {
        return Err(CodecError::value_syntax(format!(
            "<{}> must be {min} to 255 characters",
            el.qname()
        ))
        .with_offending(el.clone()));
    }
    Ok(v)
}

impl Address {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let street = c
            .many(&NS, "street", 3)?
            .into_iter()
            .map(|e| postal_line(e, 0))
            .collect::<Result<_, _>>()?;
        let city = postal_line(c.required(&NS, "city")?, 1)?;
        let sp = c
            .optional(&NS, "sp")
            .map(|e| postal_line(e, 0))
            .transpose()?;
        let pc = match c.optional(&NS, "pc") {
            Some(e) => {
                e.only_attrs(&[])?;
                Some(e.token_len(0, 16)?)
            }
            None => None,
        };
        let cce = c.required(&NS, "cc")?;
        cce.only_attrs(&[])?;
        let cc = cce.token_len(2, 2)?;
        c.finish()?;
        Ok(Self {
            street,
            city,
            sp,
            pc,
            cc,
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "addr", &[]);
        self.street.iter().for_each(|s| w.leaf(&NS, "street", s));
        w.leaf(&NS, "city", &self.city);
        if let Some(v) = &self.sp {
            w.leaf(&NS, "sp", v);
        }
        if let Some(v) = &self.pc {
            w.leaf(&NS, "pc", v);
        }
        w.leaf(&NS, "cc", &self.cc);
        w.close();
    }
}

impl PostalInfo {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&["type"])?;
        let kind = PostalType::parse_attr(el)?;
        let mut c = el.element_children()?;
        let name = postal_line(c.required(&NS, "name")?, 1)?;
        let org = c
            .optional(&NS, "org")
            .map(|e| postal_line(e, 0))
            .transpose()?;
        let addr = Address::parse(c.required(&NS, "addr")?)?;
        c.finish()?;
        Ok(Self {
            kind,
            name,
            org,
            addr,
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "postalInfo", &[("type", self.kind.as_str())]);
        w.leaf(&NS, "name", &self.name);
        if let Some(o) = &self.org {
            w.leaf(&NS, "org", o);
        }
        self.addr.write(w);
        w.close();
    }
}

impl PostalInfoChange {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&["type"])?;
        let kind = PostalType::parse_attr(el)?;
        let mut c = el.element_children()?;
        let name = c
            .optional(&NS, "name")
            .map(|e| postal_line(e, 1))
            .transpose()?;
        let org = c
            .optional(&NS, "org")
            .map(|e| postal_line(e, 0))
            .transpose()?;
        let addr = c.optional(&NS, "addr").map(Address::parse).transpose()?;
        c.finish()?;
        Ok(Self {
            kind,
            name,
            org,
            addr,
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "postalInfo", &[("type", self.kind.as_str())]);
        if let Some(n) = &self.name {
            w.leaf(&NS, "name", n);
        }
        if let Some(o) = &self.org {
            w.leaf(&NS, "org", o);
        }
        if let Some(a) = &self.addr {
            a.write(w);
        }
        w.close();
    }
}

impl Phone {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&["x"])?;
        let number = el.token()?;
        if !number.is_empty() && !is_e164(&number) {
            return Err(CodecError::value_syntax(format!(
                "{number:?} is not an e164 number (+CC.NUMBER)"
            ))
            .with_offending(el.clone()));
        }
        Ok(Self {
            number,
            ext: el.attr("x").map(str::to_string),
        })
    }

    fn write(&self, w: &mut XmlWriter, name: &str) {
        match &self.ext {
            Some(x) => w.text_el(&NS, name, &[("x", x)], &self.number),
            None => w.leaf(&NS, name, &self.number),
        }
    }
}

/// `(\+[0-9]{1,3}\.[0-9]{1,14})?` with at most 17 characters.
fn is_e164(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('+') else {
        return false;
    };
    let Some((cc, num)) = rest.split_once('.') else {
        return false;
    };
    (1..=3).contains(&cc.len())
        && (1..=14).contains(&num.len())
        && cc.bytes().all(|b| b.is_ascii_digit())
        && num.bytes().all(|b| b.is_ascii_digit())
        && s.len() <= 17
}

impl Disclose {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&["flag"])?;
        let flag = parse_bool(
            el.attr("flag")
                .ok_or_else(|| CodecError::missing("<contact:disclose> requires flag"))?
                .trim(),
        )?;
        let mut c = el.element_children()?;
        let mut typed = |name: &str| -> Result<Vec<PostalType>, CodecError> {
            c.many(&NS, name, 2)?
                .into_iter()
                .map(|e| {
                    e.expect_empty(&["type"])?;
                    PostalType::parse_attr(e)
                })
                .collect()
        };
        let name = typed("name")?;
        let org = typed("org")?;
        let addr = typed("addr")?;
        let mut flag_el = |n: &str| -> Result<bool, CodecError> {
            match c.optional(&NS, n) {
                Some(e) => e.expect_empty(&[]).map(|()| true),
                None => Ok(false),
            }
        };
        let voice = flag_el("voice")?;
        let fax = flag_el("fax")?;
        let email = flag_el("email")?;
        c.finish()?;
        Ok(Self {
            flag,
            name,
            org,
            addr,
            voice,
            fax,
            email,
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        w.open(
            &NS,
            "disclose",
            &[("flag", if self.flag { "1" } else { "0" })],
        );
        for (n, list) in [
            ("name", &self.name),
            ("org", &self.org),
            ("addr", &self.addr),
        ] {
            for t in list {
                w.empty(&NS, n, &[("type", t.as_str())]);
            }
        }
        for (n, on) in [
            ("voice", self.voice),
            ("fax", self.fax),
            ("email", self.email),
        ] {
            if on {
                w.empty(&NS, n, &[]);
            }
        }
        w.close();
    }
}

fn email_el(el: &Element) -> Result<String, CodecError> {
    el.only_attrs(&[])?;
    el.token_len(1, usize::MAX)
}

impl AuthId {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let id = clid_el(c.required(&NS, "id")?)?;
        let auth_info = c
            .optional(&NS, "authInfo")
            .map(|a| AuthInfo::parse(a, &NS))
            .transpose()?;
        c.finish()?;
        Ok(Self { id, auth_info })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter, cmd: &str) {
        w.open(&NS, cmd, &[]);
        w.leaf(&NS, "id", &self.id);
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
        let id = clid_el(c.required(&NS, "id")?)?;
        let postal_info = c
            .at_least_one(&NS, "postalInfo", 2)?
            .into_iter()
            .map(PostalInfo::parse)
            .collect::<Result<_, _>>()?;
        let voice = c.optional(&NS, "voice").map(Phone::parse).transpose()?;
        let fax = c.optional(&NS, "fax").map(Phone::parse).transpose()?;
        let email = email_el(c.required(&NS, "email")?)?;
        let auth_info = AuthInfo::parse(c.required(&NS, "authInfo")?, &NS)?;
        let disclose = c
            .optional(&NS, "disclose")
            .map(Disclose::parse)
            .transpose()?;
        c.finish()?;
        Ok(Self {
            id,
            postal_info,
            voice,
            fax,
            email,
            auth_info,
            disclose,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "create", &[]);
        w.leaf(&NS, "id", &self.id);
        self.postal_info.iter().for_each(|p| p.write(w));
        if let Some(v) = &self.voice {
            v.write(w, "voice");
        }
        if let Some(v) = &self.fax {
            v.write(w, "fax");
        }
        w.leaf(&NS, "email", &self.email);
        self.auth_info.write(w, &NS);
        if let Some(d) = &self.disclose {
            d.write(w);
        }
        w.close();
    }
}

fn parse_status_list(el: &Element) -> Result<Vec<Status<ContactStatus>>, CodecError> {
    el.only_attrs(&[])?;
    let mut c = el.element_children()?;
    let list = c
        .at_least_one(&NS, "status", 7)?
        .into_iter()
        .map(|s| parse_status(s, ContactStatus::from_token))
        .collect::<Result<_, _>>()?;
    c.finish()?;
    Ok(list)
}

fn write_status_list(w: &mut XmlWriter, name: &str, list: &[Status<ContactStatus>]) {
    w.open(&NS, name, &[]);
    for s in list {
        write_status(w, &NS, s.value.as_str(), s.text.as_ref());
    }
    w.close();
}

impl Update {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let id = clid_el(c.required(&NS, "id")?)?;
        let add = c.optional(&NS, "add").map(parse_status_list).transpose()?;
        let rem = c.optional(&NS, "rem").map(parse_status_list).transpose()?;
        let chg = match c.optional(&NS, "chg") {
            None => None,
            Some(ch) => {
                ch.only_attrs(&[])?;
                let mut cc = ch.element_children()?;
                let postal_info = cc
                    .many(&NS, "postalInfo", 2)?
                    .into_iter()
                    .map(PostalInfoChange::parse)
                    .collect::<Result<_, _>>()?;
                let voice = cc.optional(&NS, "voice").map(Phone::parse).transpose()?;
                let fax = cc.optional(&NS, "fax").map(Phone::parse).transpose()?;
                let email = cc.optional(&NS, "email").map(email_el).transpose()?;
                let auth_info = cc
                    .optional(&NS, "authInfo")
                    .map(|a| AuthInfo::parse(a, &NS))
                    .transpose()?;
                let disclose = cc
                    .optional(&NS, "disclose")
                    .map(Disclose::parse)
                    .transpose()?;
                cc.finish()?;
                Some(Change {
                    postal_info,
                    voice,
                    fax,
                    email,
                    auth_info,
                    disclose,
                })
            }
        };
        c.finish()?;
        Ok(Self { id, add, rem, chg })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "update", &[]);
        w.leaf(&NS, "id", &self.id);
        if let Some(a) = &self.add {
            write_status_list(w, "add", a);
        }
        if let Some(r) = &self.rem {
            write_status_list(w, "rem", r);
        }
        if let Some(ch) = &self.chg {
            w.open(&NS, "chg", &[]);
            ch.postal_info.iter().for_each(|p| p.write(w));
            if let Some(v) = &ch.voice {
                v.write(w, "voice");
            }
            if let Some(v) = &ch.fax {
                v.write(w, "fax");
            }
            if let Some(v) = &ch.email {
                w.leaf(&NS, "email", v);
            }
            if let Some(a) = &ch.auth_info {
                a.write(w, &NS);
            }
            if let Some(d) = &ch.disclose {
                d.write(w);
            }
            w.close();
        }
        w.close();
    }
}

// ---------------------------------------------------------------------------------------------
// Responses

/// `<contact:creData>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreData {
    /// `contact:id` the registry created the contact under.
    pub id: String,
    /// `contact:crDate`: when the registry created the contact, in UTC.
    pub cr_date: Timestamp,
}

/// `<contact:infData>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfData {
    /// `contact:id` (`eppcom:clIDType`).
    pub id: String,
    /// `contact:roid`: the registry's own id of the object (`eppcom:roidType`).
    pub roid: String,
    /// Statuses (1 to 7).
    pub statuses: Vec<Status<ContactStatus>>,
    /// Postal infos (1 or 2).
    pub postal_info: Vec<PostalInfo>,
    /// `contact:voice` in E.164 form (`+CC.NNNN`), when the contact has one.
    pub voice: Option<Phone>,
    /// `contact:fax` in E.164 form (`+CC.NNNN`), when the contact has one.
    pub fax: Option<Phone>,
    /// `contact:email` (required in the schema).
    pub email: String,
    /// `contact:clID`: the registrar that sponsors the contact now.
    pub cl_id: String,
    /// `contact:crID`: the registrar that created the contact.
    pub cr_id: String,
    /// `contact:crDate`: when the contact was created, in UTC.
    pub cr_date: Timestamp,
    /// `contact:upID`: the registrar that last updated the contact, if any did.
    pub up_id: Option<String>,
    /// `contact:upDate`: when the contact was last updated, in UTC.
    pub up_date: Option<Timestamp>,
    /// `contact:trDate`: when the contact last changed sponsor, in UTC.
    pub tr_date: Option<Timestamp>,
    /// Authorization info (sponsor only).
    pub auth_info: Option<AuthInfo>,
    /// `contact:disclose`, when the contact asked for other than the registry's default.
    pub disclose: Option<Disclose>,
}

/// `<contact:trnData>`.
pub type TrnData = super::types::TransferData;

impl CreData {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let id = clid_el(c.required(&NS, "id")?)?;
        let cr_date = datetime_el(c.required(&NS, "crDate")?)?;
        c.finish()?;
        Ok(Self { id, cr_date })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "creData", &[]);
        w.leaf(&NS, "id", &self.id);
        w.leaf(&NS, "crDate", &format_datetime(&self.cr_date));
        w.close();
    }
}

impl InfData {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let id = clid_el(c.required(&NS, "id")?)?;
        let roid = roid_el(c.required(&NS, "roid")?)?;
        let statuses = c
            .at_least_one(&NS, "status", 7)?
            .into_iter()
            .map(|s| parse_status(s, ContactStatus::from_token))
            .collect::<Result<_, _>>()?;
        let postal_info = c
            .at_least_one(&NS, "postalInfo", 2)?
            .into_iter()
            .map(PostalInfo::parse)
            .collect::<Result<_, _>>()?;
        let voice = c.optional(&NS, "voice").map(Phone::parse).transpose()?;
        let fax = c.optional(&NS, "fax").map(Phone::parse).transpose()?;
        let email = email_el(c.required(&NS, "email")?)?;
        let cl_id = clid_el(c.required(&NS, "clID")?)?;
        let cr_id = clid_el(c.required(&NS, "crID")?)?;
        let cr_date = datetime_el(c.required(&NS, "crDate")?)?;
        let up_id = c.optional(&NS, "upID").map(clid_el).transpose()?;
        let up_date = c.optional(&NS, "upDate").map(datetime_el).transpose()?;
        let tr_date = c.optional(&NS, "trDate").map(datetime_el).transpose()?;
        let auth_info = c
            .optional(&NS, "authInfo")
            .map(|a| AuthInfo::parse(a, &NS))
            .transpose()?;
        let disclose = c
            .optional(&NS, "disclose")
            .map(Disclose::parse)
            .transpose()?;
        c.finish()?;
        Ok(Self {
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
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "infData", &[]);
        w.leaf(&NS, "id", &self.id);
        w.leaf(&NS, "roid", &self.roid);
        for s in &self.statuses {
            write_status(w, &NS, s.value.as_str(), s.text.as_ref());
        }
        self.postal_info.iter().for_each(|p| p.write(w));
        if let Some(v) = &self.voice {
            v.write(w, "voice");
        }
        if let Some(v) = &self.fax {
            v.write(w, "fax");
        }
        w.leaf(&NS, "email", &self.email);
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
        if let Some(a) = &self.auth_info {
            a.write(w, &NS);
        }
        if let Some(d) = &self.disclose {
            d.write(w);
        }
        w.close();
    }
}
