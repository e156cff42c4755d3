//! Value types shared by the object mappings, with their XML Schema lexical rules.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use jiff::{Span, Timestamp};

use super::error::CodecError;
use super::xml::{Element, Ns, XmlWriter};

// ---------------------------------------------------------------------------------------------
// Scalars

/// Parses an `xs:dateTime`. A value without a time zone is read as UTC.
pub(crate) fn parse_datetime(s: &str) -> Result<Timestamp, CodecError> {
    let bad = || CodecError::value_syntax(format!("{s:?} is not an xs:dateTime"));
    let b = s.as_bytes();
    // YYYY-MM-DDThh:mm:ss[.f+][Z|(+|-)hh:mm]
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if b.len() < 19
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || b[10] != b'T'
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return Err(bad());
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
    }
    // XML Schema 1.0 (which the EPP schemas use) has no year 0000 (§3.2.7).
    if &b[0..4] == b"0000" {
        return Err(bad());
    }
    let rest = &s[i..];
    let with_zone = match rest {
        "" => format!("{s}Z"),
        "Z" => s.to_string(),
        _ if rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':'
            && rest[1..3].bytes().all(|c| c.is_ascii_digit())
            && rest[4..6].bytes().all(|c| c.is_ascii_digit()) =>
        {
            s.to_string()
        }
        _ => return Err(bad()),
    };
    Timestamp::from_str(&with_zone).map_err(|_| bad())
}

/// Formats an `xs:dateTime` in UTC, e.g. `2026-01-01T00:00:00Z` (fractions only when present).
pub(crate) fn format_datetime(t: &Timestamp) -> String {
    t.to_string()
}

/// Parses an `xs:date` (an optional time zone is accepted and ignored).
pub(crate) fn parse_date(s: &str) -> Result<Date, CodecError> {
    let bad = || CodecError::value_syntax(format!("{s:?} is not an xs:date"));
    let (date, zone) = s.split_at(s.len().min(10));
    if !(zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6 && matches!(zone.as_bytes()[0], b'+' | b'-')))
    {
        return Err(bad());
    }
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    Date::from_str(date).map_err(|_| bad())
}

/// Parses an `xs:boolean`.
pub(crate) fn parse_bool(s: &str) -> Result<bool, CodecError> {
    match s {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(CodecError::value_syntax(format!(
            "{s:?} is not an xs:boolean"
        ))),
    }
}

/// Parses a non-negative XML Schema integer and checks it is within `min..=max`
/// (2005 when it is not a number at all, 2004 when it is out of range).
pub(crate) fn parse_uint(what: &str, s: &str, min: u64, max: u64) -> Result<u64, CodecError> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(CodecError::value_syntax(format!(
            "<{what}> must be an unsigned integer, got {s:?}"
        )));
    }
    let trimmed = digits.trim_start_matches('0');
    let v = if trimmed.is_empty() {
        0
    } else if trimmed.len() > 19 {
        u64::MAX
    } else {
        trimmed.parse::<u64>().unwrap_or(u64::MAX)
    };
    if v < min || v > max {
        return Err(CodecError::range(format!(
            "<{what}> must be between {min} and {max}, got {s}"
        )));
    }
    Ok(v)
}

/// Reads an element's token text as an integer in `min..=max`.
pub(crate) fn uint_el(el: &Element, min: u64, max: u64) -> Result<u64, CodecError> {
    parse_uint(&el.qname(), &el.token()?, min, max).map_err(|e| e.with_offending(el.clone()))
}

/// Reads an element's token text as a boolean.
pub(crate) fn bool_el(el: &Element) -> Result<bool, CodecError> {
    parse_bool(&el.token()?).map_err(|e| e.with_offending(el.clone()))
}

/// Reads an element's token text as a dateTime.
pub(crate) fn datetime_el(el: &Element) -> Result<Timestamp, CodecError> {
    el.only_attrs(&[])?;
    parse_datetime(&el.token()?).map_err(|e| e.with_offending(el.clone()))
}

/// `eppcom:clIDType`: a token of 3 to 16 characters.
pub(crate) fn clid_el(el: &Element) -> Result<String, CodecError> {
    el.only_attrs(&[])?;
    el.token_len(3, 16)
        .map_err(|e| e.with_offending(el.clone()))
}

/// `eppcom:labelType`: a token of 1 to 255 characters.
pub(crate) fn label_el(el: &Element) -> Result<String, CodecError> {
    el.only_attrs(&[])?;
    el.token_len(1, 255)
        .map_err(|e| e.with_offending(el.clone()))
}

/// `eppcom:roidType`: `(\w|_){1,80}-\w{1,8}`.
pub(crate) fn roid_el(el: &Element) -> Result<String, CodecError> {
    el.only_attrs(&[])?;
    let v = el.token()?;
    check_roid(&v).map_err(|e| e.with_offending(el.clone()))?;
    Ok(v)
}

/// Checks the `eppcom:roidType` pattern.
pub(crate) fn check_roid(v: &str) -> Result<(), CodecError> {
    let word = |s: &str, max: usize| {
        let n = s.chars().count();
        (1..=max).contains(&n) && s.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    match v.rsplit_once('-') {
        Some((a, b)) if word(a, 80) && word(b, 8) => Ok(()),
        _ => Err(CodecError::value_syntax(format!(
            "{v:?} is not a ROID (eppcom:roidType)"
        ))),
    }
}

/// `true` when `v` is an `xs:language` tag: `[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*`.
pub(crate) fn is_language(v: &str) -> bool {
    v.split('-').enumerate().all(|(i, part)| {
        (1..=8).contains(&part.len())
            && if i == 0 {
                part.bytes().all(|c| c.is_ascii_alphabetic())
            } else {
                part.bytes().all(|c| c.is_ascii_alphanumeric())
            }
    })
}

/// `epp:trIDStringType`: a token of 3 to 64 characters.
pub(crate) fn trid_string(el: &Element) -> Result<String, CodecError> {
    el.only_attrs(&[])?;
    el.token_len(3, 64)
        .map_err(|e| e.with_offending(el.clone()))
}

// ---------------------------------------------------------------------------------------------
// xs:duration

/// An `xs:duration` (e.g. `P1M13D`), kept in its lexical form so a relayed expiry is carried
/// through exactly as the client wrote it (RFC 8063 §2.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct XsDuration(String);

impl XsDuration {
    /// Validates the lexical form `-?P(nY)?(nM)?(nD)?(T(nH)?(nM)?(n(.n)?S)?)?`.
    pub fn parse(s: &str) -> Result<Self, CodecError> {
        let bad = || CodecError::value_syntax(format!("{s:?} is not an xs:duration"));
        let body = s.strip_prefix('-').unwrap_or(s);
        let body = body.strip_prefix('P').ok_or_else(bad)?;
        let (date, time) = match body.split_once('T') {
            Some((d, t)) => {
                if t.is_empty() {
                    return Err(bad());
                }
                (d, Some(t))
            }
            None => (body, None),
        };
        let mut any = false;
        check_components(date, &['Y', 'M', 'D'], false, &mut any).ok_or_else(bad)?;
        if let Some(t) = time {
            check_components(t, &['H', 'M', 'S'], true, &mut any).ok_or_else(bad)?;
        }
        if !any {
            return Err(bad());
        }
        let out = Self(s.to_string());
        // The lexical space has no bound, but validators (libxml2's xmllint among them) refuse
        // numbers they cannot hold, so a frame carrying one would not validate: such a
        // duration is refused here, as out of range (2004), rather than carried on.
        out.to_span()?;
        Ok(out)
    }

    /// The lexical form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `true` when the duration is zero (RFC 8063: a zero relative expiry revokes the key).
    pub fn is_zero(&self) -> bool {
        self.0
            .chars()
            .filter(|c| c.is_ascii_digit())
            .all(|c| c == '0')
    }

    /// `true` for a negative duration.
    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-')
    }

    /// The duration as a calendar span (fractional seconds are truncated to nanoseconds).
    pub fn to_span(&self) -> Result<Span, CodecError> {
        let range =
            |why: String| CodecError::range(format!("duration {} is out of range: {why}", self.0));
        let negative = self.0.starts_with('-');
        let body = self.0.trim_start_matches('-').trim_start_matches('P');
        let (date, time) = body.split_once('T').unwrap_or((body, ""));
        let mut span = Span::new();
        for (part, is_time) in [(date, false), (time, true)] {
            let mut rest = part;
            while !rest.is_empty() {
                let end = rest
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .ok_or_else(|| range("a number without its designator".into()))?;
                let (num, tail) = rest.split_at(end);
                let designator = tail.as_bytes()[0];
                rest = &tail[1..];
                let (whole, fraction) = num.split_once('.').unwrap_or((num, ""));
                let n: i64 = whole
                    .parse()
                    .map_err(|_| range(format!("{whole} does not fit in 64 bits")))?;
                let set = match (is_time, designator) {
                    (false, b'Y') => span.try_years(n),
                    (false, b'M') => span.try_months(n),
                    (false, b'D') => span.try_days(n),
                    (true, b'H') => span.try_hours(n),
                    (true, b'M') => span.try_minutes(n),
                    (true, b'S') => span.try_seconds(n).and_then(|s| {
                        // Fractions of a second, truncated to nanoseconds.
                        let digits: String = fraction
                            .chars()
                            .chain("000000000".chars())
                            .take(9)
                            .collect();
                        s.try_nanoseconds(digits.parse::<i64>().unwrap_or(0))
                    }),
                    _ => return Err(range("an unknown designator".into())),
                };
                span = set.map_err(|e| range(e.to_string()))?;
            }
        }
        Ok(if negative { span.negate() } else { span })
    }
}

impl fmt::Display for XsDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check_components(
    s: &str,
    designators: &[char],
    last_fraction: bool,
    any: &mut bool,
) -> Option<()> {
    let mut rest = s;
    let mut next = 0;
    while !rest.is_empty() {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (num, tail) = rest.split_at(end);
        let d = tail.chars().next()?;
        let idx = designators[next..].iter().position(|x| *x == d)? + next;
        let frac_ok = last_fraction && idx == designators.len() - 1;
        let valid_num = match num.split_once('.') {
            None => !num.is_empty(),
            Some((a, b)) => frac_ok && !a.is_empty() && !b.is_empty() && !b.contains('.'),
        };
        if !valid_num {
            return None;
        }
        *any = true;
        next = idx + 1;
        rest = &tail[d.len_utf8()..];
    }
    Some(())
}

// ---------------------------------------------------------------------------------------------
// Structured values

/// Period unit (`domain:pUnitType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodUnit {
    /// `y` on the wire.
    Years,
    /// `m` on the wire.
    Months,
}

/// A registration period (`domain:periodType`): 1 to 99 years or months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    /// 1..=99.
    pub value: u8,
    /// Years or months.
    pub unit: PeriodUnit,
}

impl Period {
    /// The period in months.
    pub fn months(&self) -> u32 {
        match self.unit {
            PeriodUnit::Years => u32::from(self.value) * 12,
            PeriodUnit::Months => u32::from(self.value),
        }
    }

    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&["unit"])?;
        let unit = match el.attr("unit") {
            Some("y") => PeriodUnit::Years,
            Some("m") => PeriodUnit::Months,
            Some(other) => {
                return Err(CodecError::value_syntax(format!(
                    "period unit must be \"y\" or \"m\", got {other:?}"
                ))
                .with_offending(el.clone()));
            }
            None => return Err(CodecError::missing("<period> requires the unit attribute")),
        };
        let value = uint_el(el, 1, 99)? as u8;
        Ok(Self { value, unit })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter, ns: &Ns) {
        let unit = match self.unit {
            PeriodUnit::Years => "y",
            PeriodUnit::Months => "m",
        };
        w.text_el(ns, "period", &[("unit", unit)], &self.value.to_string());
    }
}

/// Authorization information (`domain:authInfoType`, `contact:authInfoType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthInfo {
    /// A password, optionally bound to a contact's ROID (RFC 5731 §2.6).
    Password {
        /// The password (`eppcom:pwAuthInfoType`, a normalizedString).
        pw: String,
        /// The ROID of the contact the password belongs to, if not the object's own.
        roid: Option<String>,
    },
    /// Another authorization mechanism (`<ext>`), carried uninterpreted.
    Ext(Element),
}

impl AuthInfo {
    /// A plain password.
    pub fn password(pw: impl Into<String>) -> Self {
        Self::Password {
            pw: pw.into(),
            roid: None,
        }
    }

    /// The password, if this is one.
    pub fn pw(&self) -> Option<&str> {
        match self {
            Self::Password { pw, .. } => Some(pw),
            Self::Ext(_) => None,
        }
    }

    /// Parses the element *containing* `pw` or `ext` in namespace `ns`.
    pub(crate) fn parse(el: &Element, ns: &Ns) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let out = if let Some(pw) = c.optional(ns, "pw") {
            pw.only_attrs(&["roid"])?;
            let roid = pw.attr("roid").map(str::to_string);
            if let Some(r) = &roid {
                check_roid(r).map_err(|e| e.with_offending(pw.clone()))?;
            }
            Self::Password {
                pw: pw.normalized()?,
                roid,
            }
        } else if let Some(ext) = c.optional(ns, "ext") {
            ext.only_attrs(&[])?;
            let mut ec = ext.element_children()?;
            let inner = ec
                .next_any()
                .ok_or_else(|| CodecError::missing("<authInfo><ext> needs one element"))?;
            if inner.ns == *ns || inner.ns == Ns::Epp {
                return Err(CodecError::syntax(
                    "<authInfo><ext> content must be in another namespace",
                ));
            }
            ec.finish()?;
            Self::Ext(inner.clone())
        } else {
            return Err(CodecError::missing(format!(
                "<{}> requires <pw> or <ext>",
                el.qname()
            )));
        };
        c.finish()?;
        Ok(out)
    }

    /// Writes `<ns:authInfo>…</ns:authInfo>`.
    pub(crate) fn write(&self, w: &mut XmlWriter, ns: &Ns) {
        w.open(ns, "authInfo", &[]);
        self.write_inner(w, ns);
        w.close();
    }

    pub(crate) fn write_inner(&self, w: &mut XmlWriter, ns: &Ns) {
        match self {
            Self::Password { pw, roid: Some(r) } => w.text_el(ns, "pw", &[("roid", r)], pw),
            Self::Password { pw, roid: None } => w.leaf(ns, "pw", pw),
            Self::Ext(e) => {
                w.open(ns, "ext", &[]);
                w.element(e);
                w.close();
            }
        }
    }
}

/// Transfer status (`eppcom:trStatusType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrStatus {
    /// `clientApproved`: the sponsor approved the request.
    ClientApproved,
    /// `clientCancelled`: the requesting client withdrew the request.
    ClientCancelled,
    /// `clientRejected`: the sponsor rejected the request.
    ClientRejected,
    /// `pending`: a transfer request waiting for the sponsor.
    Pending,
    /// `serverApproved`: the registry approved the request (e.g. on the sponsor's silence).
    ServerApproved,
    /// `serverCancelled`: the registry cancelled the request.
    ServerCancelled,
}

impl TrStatus {
    const ALL: [(Self, &'static str); 6] = [
        (Self::ClientApproved, "clientApproved"),
        (Self::ClientCancelled, "clientCancelled"),
        (Self::ClientRejected, "clientRejected"),
        (Self::Pending, "pending"),
        (Self::ServerApproved, "serverApproved"),
        (Self::ServerCancelled, "serverCancelled"),
    ];

    /// The schema token.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, t)| *t)
            .expect("invariant: ALL lists every variant")
    }

    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let t = el.token()?;
        Self::ALL
            .iter()
            .find(|(_, s)| *s == t)
            .map(|(v, _)| *v)
            .ok_or_else(|| {
                CodecError::value_syntax(format!("{t:?} is not a transfer status"))
                    .with_offending(el.clone())
            })
    }
}

/// A human-readable text with an optional language (`epp:msgType`, `eppcom:reasonType`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    /// The text itself, unescaped.
    pub text: String,
    /// The `lang` attribute, when given.
    pub lang: Option<String>,
}

impl Text {
    /// Text without a language tag.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            lang: None,
        }
    }

    pub(crate) fn parse_normalized(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&["lang"])?;
        Ok(Self {
            text: el.normalized()?,
            lang: el.attr("lang").map(str::to_string),
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter, ns: &Ns, name: &str) {
        match &self.lang {
            Some(l) => w.text_el(ns, name, &[("lang", l)], &self.text),
            None => w.leaf(ns, name, &self.text),
        }
    }
}

/// One answer of a `<check>` (`cd` element): the name or id, whether it is available, and why
/// not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// Domain name, host name or contact id.
    pub name: String,
    /// `avail` attribute: `true` when the object can be provisioned now.
    pub avail: bool,
    /// Reason when not available.
    pub reason: Option<Text>,
}

impl CheckResult {
    /// `key` is "name" (domain, host) or "id" (contact).
    pub(crate) fn parse_list(el: &Element, ns: &Ns, key: &str) -> Result<Vec<Self>, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let mut out = Vec::new();
        for cd in c.at_least_one(ns, "cd", usize::MAX)? {
            cd.only_attrs(&[])?;
            let mut cc = cd.element_children()?;
            let name_el = cc.required(ns, key)?;
            name_el.only_attrs(&["avail"])?;
            let avail =
                parse_bool(name_el.attr("avail").ok_or_else(|| {
                    CodecError::missing("<cd> name requires the avail attribute")
                })?)?;
            let name = if key == "id" {
                name_el.token_len(3, 16)?
            } else {
                name_el.token_len(1, 255)?
            };
            let reason = match cc.optional(ns, "reason") {
                Some(r) => {
                    r.only_attrs(&["lang"])?;
                    Some(Text {
                        text: r.token_len(1, 32)?,
                        lang: r.attr("lang").map(str::to_string),
                    })
                }
                None => None,
            };
            cc.finish()?;
            out.push(Self {
                name,
                avail,
                reason,
            });
        }
        c.finish()?;
        Ok(out)
    }

    pub(crate) fn write_list(items: &[Self], w: &mut XmlWriter, ns: &Ns, key: &str) {
        w.open(ns, "chkData", &[]);
        for cd in items {
            w.open(ns, "cd", &[]);
            w.text_el(
                ns,
                key,
                &[("avail", if cd.avail { "1" } else { "0" })],
                &cd.name,
            );
            if let Some(r) = &cd.reason {
                r.write(w, ns, "reason");
            }
            w.close();
        }
        w.close();
    }
}

/// Reads an object identifier: a `name` (labelType, 1–255) or, for contacts, an `id`
/// (clIDType, 3–16).
fn ident_el(el: &Element, key: &str) -> Result<String, CodecError> {
    if key == "id" {
        clid_el(el)
    } else {
        label_el(el)
    }
}

/// Parses a command element holding one or more `ns:key` identifiers (`check`).
pub(crate) fn parse_idents(el: &Element, ns: &Ns, key: &str) -> Result<Vec<String>, CodecError> {
    el.only_attrs(&[])?;
    let mut c = el.element_children()?;
    let ids = c
        .at_least_one(ns, key, usize::MAX)?
        .into_iter()
        .map(|e| ident_el(e, key))
        .collect::<Result<_, _>>()?;
    c.finish()?;
    Ok(ids)
}

/// Parses a command element holding exactly one `ns:key` identifier (`delete`, host `info`).
pub(crate) fn parse_ident(el: &Element, ns: &Ns, key: &str) -> Result<String, CodecError> {
    el.only_attrs(&[])?;
    let mut c = el.element_children()?;
    let id = ident_el(c.required(ns, key)?, key)?;
    c.finish()?;
    Ok(id)
}

/// Writes `<ns:cmd>` with one `ns:key` element per identifier.
pub(crate) fn write_idents(w: &mut XmlWriter, ns: &Ns, cmd: &str, key: &str, ids: &[String]) {
    w.open(ns, cmd, &[]);
    ids.iter().for_each(|n| w.leaf(ns, key, n));
    w.close();
}

/// A transaction identifier pair (`epp:trIDType`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrId {
    /// The client's transaction id, when it sent one.
    pub cl_trid: Option<String>,
    /// The server's transaction id.
    pub sv_trid: String,
}

impl TrId {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let cl_trid = c
            .optional(&Ns::Epp, "clTRID")
            .map(trid_string)
            .transpose()?;
        let sv_trid = trid_string(c.required(&Ns::Epp, "svTRID")?)?;
        c.finish()?;
        Ok(Self { cl_trid, sv_trid })
    }

    /// Writes a trIDType element named `ns:name`; its children are always in the EPP
    /// namespace, also under `domain:paTRID` (the type is `epp:trIDType`).
    pub(crate) fn write(&self, w: &mut XmlWriter, ns: &Ns, name: &str) {
        w.open(ns, name, &[]);
        if let Some(c) = &self.cl_trid {
            w.leaf(&Ns::Epp, "clTRID", c);
        }
        w.leaf(&Ns::Epp, "svTRID", &self.sv_trid);
        w.close();
    }
}

/// Transfer data (`domain:trnData`, `contact:trnData`): the state of a transfer request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferData {
    /// The object: domain name or contact id.
    pub name: String,
    /// `trStatus`: where the request stands (pending, approved, rejected, cancelled).
    pub tr_status: TrStatus,
    /// `reID`: the registrar that requested the transfer (the gaining side).
    pub re_id: String,
    /// `reDate`: when the transfer was requested, in UTC.
    pub re_date: Timestamp,
    /// Client that should act on a pending request, or that acted.
    pub ac_id: String,
    /// Deadline to act, or completion time.
    pub ac_date: Timestamp,
    /// Expiry time after the transfer (domains only).
    pub ex_date: Option<Timestamp>,
}

impl TransferData {
    /// `key` is "name" (domain, which may carry exDate) or "id" (contact).
    pub(crate) fn parse(el: &Element, ns: &Ns, key: &str) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let name = ident_el(c.required(ns, key)?, key)?;
        let tr_status = TrStatus::parse(c.required(ns, "trStatus")?)?;
        let re_id = clid_el(c.required(ns, "reID")?)?;
        let re_date = datetime_el(c.required(ns, "reDate")?)?;
        let ac_id = clid_el(c.required(ns, "acID")?)?;
        let ac_date = datetime_el(c.required(ns, "acDate")?)?;
        let ex_date = if key == "name" {
            c.optional(ns, "exDate").map(datetime_el).transpose()?
        } else {
            None
        };
        c.finish()?;
        Ok(Self {
            name,
            tr_status,
            re_id,
            re_date,
            ac_id,
            ac_date,
            ex_date,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter, ns: &Ns, key: &str) {
        w.open(ns, "trnData", &[]);
        w.leaf(ns, key, &self.name);
        w.leaf(ns, "trStatus", self.tr_status.as_str());
        w.leaf(ns, "reID", &self.re_id);
        w.leaf(ns, "reDate", &format_datetime(&self.re_date));
        w.leaf(ns, "acID", &self.ac_id);
        w.leaf(ns, "acDate", &format_datetime(&self.ac_date));
        if let Some(d) = &self.ex_date {
            w.leaf(ns, "exDate", &format_datetime(d));
        }
        w.close();
    }
}

/// A pending-action notification (`domain:panData`, `host:panData`, `contact:panData`,
/// RFC 5731 §3.3): the outcome of an action that was pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanData {
    /// The object (domain name, host name or contact id).
    pub name: String,
    /// Whether the action succeeded.
    pub pa_result: bool,
    /// The transaction that requested the action.
    pub pa_trid: TrId,
    /// When the action was completed.
    pub pa_date: Timestamp,
}

impl PanData {
    pub(crate) fn parse(el: &Element, ns: &Ns, key: &str) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let name_el = c.required(ns, key)?;
        name_el.only_attrs(&["paResult"])?;
        let pa_result = parse_bool(
            name_el
                .attr("paResult")
                .ok_or_else(|| CodecError::missing("panData name requires paResult"))?,
        )?;
        let name = name_el.token()?;
        let pa_trid = TrId::parse(c.required(ns, "paTRID")?)?;
        let pa_date = datetime_el(c.required(ns, "paDate")?)?;
        c.finish()?;
        Ok(Self {
            name,
            pa_result,
            pa_trid,
            pa_date,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter, ns: &Ns, key: &str) {
        w.open(ns, "panData", &[]);
        w.text_el(
            ns,
            key,
            &[("paResult", if self.pa_result { "1" } else { "0" })],
            &self.name,
        );
        self.pa_trid.write(w, ns, "paTRID");
        w.leaf(ns, "paDate", &format_datetime(&self.pa_date));
        w.close();
    }
}

/// Declares a status enum for an object mapping: value tokens and parsing.
macro_rules! status_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $token:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs, reason = "each variant is the schema token of the same name")]
        pub enum $name { $($variant,)+ }

        impl $name {
            /// Every value, in schema order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The schema token.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $token,)+ }
            }

            /// The value for a schema token.
            pub(crate) fn from_token(s: &str) -> Option<Self> {
                match s { $($token => Some(Self::$variant),)+ _ => None }
            }

            /// `true` for the `client*` values a sponsoring client may set itself.
            pub fn is_client_settable(self) -> bool {
                self.as_str().starts_with("client")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use status_enum;

/// A status element (`<x:status s="…" lang="…">text</x:status>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status<S> {
    /// The status value.
    pub value: S,
    /// Optional free text explaining it.
    pub text: Option<Text>,
}

impl<S: Copy> Status<S> {
    /// A status without text.
    pub fn new(value: S) -> Self {
        Self { value, text: None }
    }
}

/// Parses status elements given a token lookup.
pub(crate) fn parse_status<S>(
    el: &Element,
    lookup: impl Fn(&str) -> Option<S>,
) -> Result<Status<S>, CodecError> {
    el.only_attrs(&["s", "lang"])?;
    let s = el
        .attr("s")
        .ok_or_else(|| CodecError::missing("<status> requires the s attribute"))?;
    let value = lookup(s.trim()).ok_or_else(|| {
        CodecError::value_syntax(format!("{s:?} is not a status value here"))
            .with_offending(el.clone())
    })?;
    let text = el.normalized()?;
    let lang = el.attr("lang").map(str::to_string);
    let text = if text.is_empty() && lang.is_none() {
        None
    } else {
        Some(Text { text, lang })
    };
    Ok(Status { value, text })
}

/// Writes a status element.
pub(crate) fn write_status(w: &mut XmlWriter, ns: &Ns, token: &str, text: Option<&Text>) {
    match text {
        None => w.empty(ns, "status", &[("s", token)]),
        Some(Text {
            text,
            lang: Some(l),
        }) => w.text_el(ns, "status", &[("s", token), ("lang", l)], text),
        Some(Text { text, lang: None }) => w.text_el(ns, "status", &[("s", token)], text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        let t = parse_datetime("2000-06-08T22:00:00.0Z").unwrap();
        assert_eq!(format_datetime(&t), "2000-06-08T22:00:00Z");
        assert_eq!(parse_datetime("2000-06-08T22:00:00").unwrap(), t);
        assert_eq!(parse_datetime("2000-06-09T00:00:00+02:00").unwrap(), t);
        for bad in [
            "2000-06-08",
            "2000-06-08 22:00:00Z",
            "2000-13-08T22:00:00Z",
            "x",
            "2000-06-08T22:00:00.Z",
            "0000-01-01T00:00:00Z",
            "99999999999999999999-01-01T00:00:00Z",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad}");
        }
        assert!(parse_date("2000-04-03").is_ok());
        assert!(parse_date("2000-4-03").is_err());
    }

    #[test]
    fn durations() {
        for ok in ["P1M13D", "P0D", "PT0S", "-P1D", "P1Y2M3DT4H5M6.5S", "PT1H"] {
            XsDuration::parse(ok).unwrap();
        }
        for bad in [
            "P", "PT", "1D", "P1H", "PT1D", "P1.5D", "P1D1M", "", "P-1D", "P1DT",
        ] {
            assert!(XsDuration::parse(bad).is_err(), "{bad}");
        }
        // Lexically fine, but no validator holds such numbers: out of range (2004).
        for huge in [
            "P99999999999999999999Y",
            "PT99999999999999999999S",
            "P20000Y",
        ] {
            let err = XsDuration::parse(huge).unwrap_err();
            assert_eq!(err.kind, super::super::error::ErrorKind::Range, "{huge}");
        }
        assert_eq!(
            XsDuration::parse("-P1DT1.5S").unwrap().to_span().unwrap(),
            Span::new()
                .days(-1)
                .seconds(-1)
                .nanoseconds(-500_000_000)
                .fieldwise()
        );
        assert_eq!(
            XsDuration::parse("PT0.0000000019S")
                .unwrap()
                .to_span()
                .unwrap(),
            Span::new().nanoseconds(1).fieldwise()
        );
        assert!(XsDuration::parse("P0D").unwrap().is_zero());
        assert!(XsDuration::parse("PT0.000S").unwrap().is_zero());
        assert!(!XsDuration::parse("P1M13D").unwrap().is_zero());
        assert_eq!(
            XsDuration::parse("P1M13D")
                .unwrap()
                .to_span()
                .unwrap()
                .get_days(),
            13
        );
    }

    #[test]
    fn integers() {
        assert_eq!(parse_uint("x", "0042", 0, 100).unwrap(), 42);
        assert_eq!(parse_uint("x", "+7", 0, 100).unwrap(), 7);
        assert_eq!(
            parse_uint("x", "101", 0, 100).unwrap_err().kind,
            super::super::error::ErrorKind::Range
        );
        assert_eq!(
            parse_uint("x", "ten", 0, 100).unwrap_err().kind,
            super::super::error::ErrorKind::ValueSyntax
        );
        assert!(parse_uint("x", "99999999999999999999999", 0, 100).is_err());
    }

    #[test]
    fn roids() {
        assert!(check_roid("EXAMPLE1-REP").is_ok());
        assert!(check_roid("DNM_100028-SIDN").is_ok());
        assert!(check_roid("nodash").is_err());
        assert!(check_roid("-REP").is_err());
    }
}
