//! SIDN's EPP extension (`http://rxsd.domain-registry.nl/sidn-ext-epp-1.0`) and the scheduled
//! delete extension, as far as the SIDN profile of the mock registry uses them.
//!
//! SIDN's schemas are not public, so element names and order follow what SIDN clients read and
//! write (Net::DRI's SIDN modules and tests, php-epp-client; see protocol-notes §4). Where the
//! order of siblings is not known for certain the reader accepts any order, without duplicates;
//! the writer uses the order seen in those sources.

use jiff::civil::Date;

use super::error::CodecError;
use super::types::{Period, PeriodUnit, bool_el, parse_date, trid_string};
use super::xml::{Element, Ns, XmlWriter};

const NS: Ns = Ns::Sidn;
const SD: Ns = Ns::SidnScheduledDelete;

/// One SIDN error detail: `<sidn-ext-epp:msg code="T0001" field="…">text</…>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    /// SIDN's own error code, e.g. `T0001`.
    pub code: String,
    /// The field the error is about, when there is one.
    pub field: Option<String>,
    /// SIDN's explanation in English, meant for people (element content).
    pub text: String,
}

impl ErrorDetail {
    /// A detail with code, optional field and text.
    pub fn new(code: impl Into<String>, field: Option<&str>, text: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            field: field.map(str::to_string),
            text: text.into(),
        }
    }
}

/// A contact's legal form (SIDN's `legalForm` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs, reason = "each variant is SIDN's token of the same name")]
pub enum LegalForm {
    Anders,
    Bgg,
    Bro,
    Bv,
    BviO,
    Coop,
    Cv,
    Eenmanszaak,
    Eesv,
    Kerk,
    Maatschap,
    Nv,
    Owm,
    Persoon,
    Redr,
    Stichting,
    Vereniging,
    Vof,
}

impl LegalForm {
    const TOKENS: [(Self, &'static str); 18] = [
        (Self::Anders, "ANDERS"),
        (Self::Bgg, "BGG"),
        (Self::Bro, "BRO"),
        (Self::Bv, "BV"),
        (Self::BviO, "BVI/O"),
        (Self::Coop, "COOP"),
        (Self::Cv, "CV"),
        (Self::Eenmanszaak, "EENMANSZAAK"),
        (Self::Eesv, "EESV"),
        (Self::Kerk, "KERK"),
        (Self::Maatschap, "MAATSCHAP"),
        (Self::Nv, "NV"),
        (Self::Owm, "OWM"),
        (Self::Persoon, "PERSOON"),
        (Self::Redr, "REDR"),
        (Self::Stichting, "STICHTING"),
        (Self::Vereniging, "VERENIGING"),
        (Self::Vof, "VOF"),
    ];

    /// SIDN's token.
    pub fn as_str(self) -> &'static str {
        Self::TOKENS
            .iter()
            .find(|(f, _)| *f == self)
            .map(|(_, t)| *t)
            .expect("invariant: TOKENS lists every variant")
    }

    /// The form for a token.
    pub(crate) fn from_token(s: &str) -> Option<Self> {
        Self::TOKENS.iter().find(|(_, t)| *t == s).map(|(f, _)| *f)
    }

    /// Every form, in SIDN's order.
    pub fn all() -> impl Iterator<Item = Self> {
        Self::TOKENS.iter().map(|(f, _)| *f)
    }
}

/// The contact part of SIDN's create/update extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactExt {
    /// SIDN's legal form of the holder (`sidn-ext-epp:legalForm`, e.g. `PERSOON`, `BV`).
    pub legal_form: LegalForm,
    /// Chamber of commerce (or similar) registration number.
    pub legal_form_reg_no: Option<String>,
}

/// SIDN's domain info data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainInfData {
    /// Whether the registrant's data is limited in WHOIS.
    pub limited: Option<bool>,
    /// Whether the registrant opted out of publication.
    pub opt_out: Option<bool>,
    /// The subscription period.
    pub period: Option<Period>,
    /// A scheduled deletion date.
    pub scheduled_delete_date: Option<Date>,
}

/// SIDN's contact info data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactInfData {
    /// Legal form and registration number.
    pub contact: ContactExt,
    /// `sidn-ext-epp:limited`: whether the contact's data is published only in limited form in
    /// WHOIS.
    pub limited: Option<bool>,
}

/// The content of one `<sidn-ext-epp:ext>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ext {
    /// Error details of a response.
    Response(Vec<ErrorDetail>),
    /// Domain info data.
    DomainInfo(DomainInfData),
    /// Contact info data.
    ContactInfo(ContactInfData),
    /// Host info data (`limited`).
    HostInfo {
        /// `sidn-ext-epp:limited` of a host info response as SIDN sent it; `None` when absent.
        limited: Option<bool>,
    },
    /// Contact create extension.
    ContactCreate(ContactExt),
    /// Contact update extension.
    ContactUpdate(ContactExt),
}

/// SIDN's stand-alone extension commands (`<epp><extension><sidn-ext-epp:command>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtCommandKind {
    /// Cancel a pending deletion (restore from quarantine), optionally with a new period.
    DomainCancelDelete {
        /// The domain in quarantine whose deletion is to be cancelled.
        name: String,
        /// A new registration period to start on restore; `None` keeps the old one.
        period: Option<Period>,
    },
}

/// A stand-alone SIDN extension command with its `clTRID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtCommand {
    /// Which extension command, with its arguments.
    pub kind: ExtCommandKind,
    /// Client transaction id.
    pub cl_trid: Option<String>,
}

/// Operations of the scheduled delete extension (a `domain:update` extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduledDelete {
    /// Delete on this date.
    SetDate(Date),
    /// Delete at the end of the subscription period.
    SetDateToEndOfSubscriptionPeriod,
    /// Cancel a scheduled deletion.
    Cancel,
}

// ---------------------------------------------------------------------------------------------

/// Takes the children in any order, at most once each, calling `f` with each local name.
fn each_once<'a>(
    el: &'a Element,
    ns: &Ns,
    known: &[&str],
    mut f: impl FnMut(&str, &'a Element) -> Result<(), CodecError>,
) -> Result<(), CodecError> {
    let mut c = el.element_children()?;
    let mut seen: Vec<&str> = Vec::new();
    for child in c.rest() {
        if child.ns != *ns || !known.contains(&child.name.as_str()) {
            return Err(CodecError::syntax(format!(
                "unexpected element <{}> in <{}>",
                child.qname(),
                el.qname()
            ))
            .with_offending(child.clone()));
        }
        if seen.contains(&child.name.as_str()) {
            return Err(CodecError::syntax(format!(
                "<{}> appears twice in <{}>",
                child.qname(),
                el.qname()
            )));
        }
        seen.push(&child.name);
        f(&child.name, child)?;
    }
    c.finish()
}

fn sidn_period(el: &Element) -> Result<Period, CodecError> {
    Period::parse(el)
}

impl ContactExt {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut legal_form = None;
        let mut legal_form_reg_no = None;
        each_once(el, &NS, &["legalForm", "legalFormRegNo"], |name, e| {
            e.only_attrs(&[])?;
            match name {
                "legalForm" => {
                    let t = e.token()?;
                    legal_form = Some(LegalForm::from_token(&t).ok_or_else(|| {
                        CodecError::value_syntax(format!("{t:?} is not a SIDN legal form"))
                            .with_offending(e.clone())
                    })?);
                }
                _ => legal_form_reg_no = Some(e.token_len(1, 255)?),
            }
            Ok(())
        })?;
        Ok(Self {
            legal_form: legal_form
                .ok_or_else(|| CodecError::missing("<sidn-ext-epp:legalForm> is required"))?,
            legal_form_reg_no,
        })
    }

    fn write_inner(&self, w: &mut XmlWriter) {
        w.leaf(&NS, "legalForm", self.legal_form.as_str());
        if let Some(n) = &self.legal_form_reg_no {
            w.leaf(&NS, "legalFormRegNo", n);
        }
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

impl Ext {
    /// Parses a `<sidn-ext-epp:ext>` element.
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let inner = c
            .next_any()
            .ok_or_else(|| CodecError::missing("<sidn-ext-epp:ext> is empty"))?;
        c.finish()?;
        if inner.ns != NS {
            return Err(CodecError::syntax(format!(
                "unexpected <{}> in <sidn-ext-epp:ext>",
                inner.qname()
            )));
        }
        inner.only_attrs(&[])?;
        let out = match inner.name.as_str() {
            "response" => {
                let mut rc = inner.element_children()?;
                let mut list = Vec::new();
                for m in rc.at_least_one(&NS, "msg", usize::MAX)? {
                    m.only_attrs(&["code", "field"])?;
                    list.push(ErrorDetail {
                        code: m
                            .attr("code")
                            .ok_or_else(|| CodecError::missing("SIDN msg requires code"))?
                            .to_string(),
                        field: m.attr("field").map(str::to_string),
                        text: m.normalized()?,
                    });
                }
                rc.finish()?;
                Self::Response(list)
            }
            "infData" => {
                let mut ic = inner.element_children()?;
                let obj = ic
                    .next_any()
                    .ok_or_else(|| CodecError::missing("<sidn-ext-epp:infData> is empty"))?;
                ic.finish()?;
                obj.only_attrs(&[])?;
                match (obj.ns == NS, obj.name.as_str()) {
                    (true, "domain") => {
                        let mut d = DomainInfData::default();
                        each_once(
                            obj,
                            &NS,
                            &["limited", "optOut", "period", "scheduledDeleteDate"],
                            |name, e| {
                                match name {
                                    "limited" => d.limited = Some(bool_el(e)?),
                                    "optOut" => d.opt_out = Some(bool_el(e)?),
                                    "period" => d.period = Some(sidn_period(e)?),
                                    _ => {
                                        // SIDN sends xsi:nil="true" when nothing is scheduled.
                                        let t = e.token()?;
                                        if !t.is_empty() {
                                            d.scheduled_delete_date = Some(
                                                parse_date(t.get(..10).unwrap_or(&t))
                                                    .map_err(|er| er.with_offending(e.clone()))?,
                                            );
                                        }
                                    }
                                }
                                Ok(())
                            },
                        )?;
                        Self::DomainInfo(d)
                    }
                    (true, "contact") => {
                        let mut legal_form = None;
                        let mut reg_no = None;
                        let mut limited = None;
                        each_once(
                            obj,
                            &NS,
                            &["legalForm", "legalFormRegNo", "limited"],
                            |name, e| {
                                match name {
                                    "legalForm" => {
                                        let t = e.token()?;
                                        legal_form =
                                            Some(LegalForm::from_token(&t).ok_or_else(|| {
                                                CodecError::value_syntax(format!(
                                                    "{t:?} is not a SIDN legal form"
                                                ))
                                            })?);
                                    }
                                    "legalFormRegNo" => reg_no = Some(e.token()?),
                                    _ => limited = Some(bool_el(e)?),
                                }
                                Ok(())
                            },
                        )?;
                        Self::ContactInfo(ContactInfData {
                            contact: ContactExt {
                                legal_form: legal_form.ok_or_else(|| {
                                    CodecError::missing("<sidn-ext-epp:legalForm> is required")
                                })?,
                                legal_form_reg_no: reg_no,
                            },
                            limited,
                        })
                    }
                    (true, "host") => {
                        let mut limited = None;
                        each_once(obj, &NS, &["limited"], |_, e| {
                            limited = Some(bool_el(e)?);
                            Ok(())
                        })?;
                        Self::HostInfo { limited }
                    }
                    _ => {
                        return Err(CodecError::syntax(format!(
                            "unexpected <{}> in <sidn-ext-epp:infData>",
                            obj.qname()
                        )));
                    }
                }
            }
            "create" | "update" => {
                let mut cc = inner.element_children()?;
                let contact = cc.required(&NS, "contact")?;
                cc.finish()?;
                let ext = ContactExt::parse(contact)?;
                if inner.name == "create" {
                    Self::ContactCreate(ext)
                } else {
                    Self::ContactUpdate(ext)
                }
            }
            other => {
                return Err(CodecError::syntax(format!(
                    "unexpected <sidn-ext-epp:{other}> in <sidn-ext-epp:ext>"
                )));
            }
        };
        Ok(out)
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "ext", &[]);
        match self {
            Self::Response(list) => {
                w.open(&NS, "response", &[]);
                for m in list {
                    match &m.field {
                        Some(f) => {
                            w.text_el(&NS, "msg", &[("code", &m.code), ("field", f)], &m.text)
                        }
                        None => w.text_el(&NS, "msg", &[("code", &m.code)], &m.text),
                    }
                }
                w.close();
            }
            Self::DomainInfo(d) => {
                w.open(&NS, "infData", &[]);
                w.open(&NS, "domain", &[]);
                if let Some(b) = d.limited {
                    w.leaf(&NS, "limited", bool_str(b));
                }
                if let Some(b) = d.opt_out {
                    w.leaf(&NS, "optOut", bool_str(b));
                }
                if let Some(p) = &d.period {
                    p.write(w, &NS);
                }
                if let Some(date) = &d.scheduled_delete_date {
                    w.leaf(&NS, "scheduledDeleteDate", &date.to_string());
                }
                w.close();
                w.close();
            }
            Self::ContactInfo(c) => {
                w.open(&NS, "infData", &[]);
                w.open(&NS, "contact", &[]);
                c.contact.write_inner(w);
                if let Some(b) = c.limited {
                    w.leaf(&NS, "limited", bool_str(b));
                }
                w.close();
                w.close();
            }
            Self::HostInfo { limited } => {
                w.open(&NS, "infData", &[]);
                w.open(&NS, "host", &[]);
                if let Some(b) = limited {
                    w.leaf(&NS, "limited", bool_str(*b));
                }
                w.close();
                w.close();
            }
            Self::ContactCreate(c) | Self::ContactUpdate(c) => {
                let name = if matches!(self, Self::ContactCreate(_)) {
                    "create"
                } else {
                    "update"
                };
                w.open(&NS, name, &[]);
                w.open(&NS, "contact", &[]);
                c.write_inner(w);
                w.close();
                w.close();
            }
        }
        w.close();
    }
}

impl ExtCommand {
    /// Parses `<sidn-ext-epp:command>`.
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let cmd = c
            .next_any()
            .ok_or_else(|| CodecError::missing("<sidn-ext-epp:command> is empty"))?;
        let kind = match (cmd.ns == NS, cmd.name.as_str()) {
            (true, "domainCancelDelete") => {
                cmd.only_attrs(&[])?;
                let mut cc = cmd.element_children()?;
                let name = super::types::label_el(cc.required(&NS, "name")?)?;
                let period = cc.optional(&NS, "period").map(sidn_period).transpose()?;
                cc.finish()?;
                ExtCommandKind::DomainCancelDelete { name, period }
            }
            _ => {
                return Err(CodecError::new(
                    super::error::ErrorKind::UnknownCommand,
                    format!("unknown SIDN extension command <{}>", cmd.qname()),
                ));
            }
        };
        let cl_trid = c.optional(&NS, "clTRID").map(trid_string).transpose()?;
        c.finish()?;
        Ok(Self { kind, cl_trid })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "command", &[]);
        match &self.kind {
            ExtCommandKind::DomainCancelDelete { name, period } => {
                w.open(&NS, "domainCancelDelete", &[]);
                w.leaf(&NS, "name", name);
                if let Some(p) = period {
                    p.write(w, &NS);
                }
                w.close();
            }
        }
        if let Some(t) = &self.cl_trid {
            w.leaf(&NS, "clTRID", t);
        }
        w.close();
    }
}

impl ScheduledDelete {
    /// Parses `<scheduledDelete:update>`.
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let op = c.required(&SD, "operation")?;
        op.only_attrs(&[])?;
        let op_token = op.token()?;
        let date = c.optional(&SD, "date");
        let out = match (op_token.as_str(), date) {
            ("setDate", Some(d)) => {
                d.only_attrs(&[])?;
                Self::SetDate(parse_date(&d.token()?).map_err(|e| e.with_offending(d.clone()))?)
            }
            ("setDate", None) => {
                return Err(CodecError::missing(
                    "scheduled delete setDate requires <scheduledDelete:date>",
                ));
            }
            ("setDateToEndOfSubscriptionPeriod" | "cancel", Some(d)) => {
                return Err(CodecError::syntax(format!(
                    "<scheduledDelete:date> is only allowed with setDate, not {op_token}"
                ))
                .with_offending(d.clone()));
            }
            ("setDateToEndOfSubscriptionPeriod", None) => Self::SetDateToEndOfSubscriptionPeriod,
            ("cancel", None) => Self::Cancel,
            (other, _) => {
                return Err(CodecError::value_syntax(format!(
                    "{other:?} is not a scheduled delete operation"
                ))
                .with_offending(op.clone()));
            }
        };
        c.finish()?;
        Ok(out)
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&SD, "update", &[]);
        match self {
            Self::SetDate(d) => {
                w.leaf(&SD, "operation", "setDate");
                w.leaf(&SD, "date", &d.to_string());
            }
            Self::SetDateToEndOfSubscriptionPeriod => {
                w.leaf(&SD, "operation", "setDateToEndOfSubscriptionPeriod");
            }
            Self::Cancel => w.leaf(&SD, "operation", "cancel"),
        }
        w.close();
    }
}

/// A SIDN period (months are what SIDN uses: 1, 3 or 12).
pub fn months(n: u8) -> Period {
    Period {
        value: n,
        unit: PeriodUnit::Months,
    }
}
