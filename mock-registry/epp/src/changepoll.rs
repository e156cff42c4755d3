//! RFC 8590 change poll: the `<changePoll:changeData>` poll-response extension with which a
//! registry tells the sponsoring registrar about a change to one of its objects that the
//! registrar did not make itself through EPP.
//!
//! Without it, a registrar learns of such a change (a registry batch, a support desk action, a
//! UDRP/URS lock, or here: DS records the registry changed after scanning the child's CDS/CDNSKEY,
//! RFC 7344/8078) only when it next reads the object, and its own copy is wrong until then.
//! A change poll message is an ordinary poll response (1301) whose `<resData>` holds the
//! object's `<info>` data (e.g. `domain:infData`, with `secDNS:infData` beside this element in
//! `<extension>`) and whose `<changePoll:changeData>` says what was done, when, by whom and why
//! (RFC 8590 §3.1.2). [`ChangeData::state`] says whether the `<resData>` shows the object before
//! or after the change.
//!
//! The schema is `xsd/changePoll-1.0.xsd`, copied from RFC 8590 §4.1. The reader is stricter
//! than that schema in the places where a schema-valid value could not mean anything, and each
//! such rule is RFC 8590's own (see [`ChangeData::check`]): a `transfer`, `restore` or `custom`
//! operation without its `op`, a `custom` case without its `name`, an `op` or case `name` that
//! is not 7-bit US-ASCII (§2.1, §3.1.2), and an empty or blank `who` or case id.

use jiff::Timestamp;

use super::error::CodecError;
use super::tree::collapse_whitespace;
use super::types::{Text, datetime_el, format_datetime, is_language, trid_string};
use super::xml::{Element, Ns, XmlWriter};

const NS: Ns = Ns::ChangePoll;

/// The namespace URI (RFC 8590 §5.1), as a registrar lists it in `<login>`'s `<svcExtension>`
/// to receive change poll messages with this extension.
pub const NAMESPACE: &str = "urn:ietf:params:xml:ns:changePoll-1.0";

/// Whether the object data in the poll message's `<resData>` is the object before or after the
/// operation (`changePoll:stateType`, RFC 8590 §2.2).
///
/// A server may send both, "before" first; an operation without an "after" (a purge) is told
/// with "before" only, one without a "before" (a create) with "after" only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum ChangeState {
    /// The object as it was before the operation.
    Before,
    /// The object as the operation left it; the schema's default when `state` is absent.
    #[default]
    After,
}

impl ChangeState {
    /// Every state, in schema order.
    pub const ALL: [Self; 2] = [Self::Before, Self::After];

    /// The schema token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::After => "after",
        }
    }

    /// The state for a schema token.
    pub fn from_token(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The transform operation that changed the object (`changePoll:operationEnum`, RFC 8590
/// §2.1): the EPP transform commands, RGP restore (RFC 3915), the server's own automatic
/// operations, and `custom` for anything else (named by [`Operation::op`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OperationKind {
    /// An EPP `<create>`.
    Create,
    /// An EPP `<delete>`; `op="purge"` when the object was purged at once.
    Delete,
    /// An EPP `<renew>`.
    Renew,
    /// An EPP `<transfer>`; `op` is the transfer operation (request, approve, cancel, reject).
    Transfer,
    /// An EPP `<update>`.
    Update,
    /// An RGP restore (RFC 3915); `op` is request or report.
    Restore,
    /// The server renewed the object at its expiry.
    AutoRenew,
    /// The server deleted the object; `op="purge"` when it was purged at once.
    AutoDelete,
    /// The server purged the object after its `pendingDelete` period.
    AutoPurge,
    /// An operation of the server's own; `op` names it.
    Custom,
}

impl OperationKind {
    /// Every operation, in schema order.
    pub const ALL: [Self; 10] = [
        Self::Create,
        Self::Delete,
        Self::Renew,
        Self::Transfer,
        Self::Update,
        Self::Restore,
        Self::AutoRenew,
        Self::AutoDelete,
        Self::AutoPurge,
        Self::Custom,
    ];

    /// The schema token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Delete => "delete",
            Self::Renew => "renew",
            Self::Transfer => "transfer",
            Self::Update => "update",
            Self::Restore => "restore",
            Self::AutoRenew => "autoRenew",
            Self::AutoDelete => "autoDelete",
            Self::AutoPurge => "autoPurge",
            Self::Custom => "custom",
        }
    }

    /// The operation for a schema token.
    pub fn from_token(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// What RFC 8590 §2.1 says of the `op` attribute for this operation: `Some(values)` when
    /// it MUST be present (any identifier when `values` is empty, one of `values` otherwise),
    /// `None` when it is optional.
    pub fn required_op(self) -> Option<&'static [&'static str]> {
        match self {
            Self::Transfer => Some(&["request", "approve", "cancel", "reject"]),
            Self::Restore => Some(&["request", "report"]),
            Self::Custom => Some(&[]),
            _ => None,
        }
    }
}

/// `<changePoll:operation>`: the operation and its optional `op` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The operation.
    pub kind: OperationKind,
    /// The sub-operation (`op="purge"` of a delete, the transfer or restore step) or the name
    /// of a `custom` operation: an identifier in 7-bit US-ASCII (RFC 8590 §2.1). The schema
    /// types it as `xs:token` without a length limit, so the only bound is the frame's.
    pub op: Option<String>,
}

impl Operation {
    /// Checks the RFC 8590 §2.1 rules on `op` for this operation (see
    /// [`OperationKind::required_op`]).
    pub fn check(&self) -> Result<(), CodecError> {
        if let Some(op) = &self.op {
            check_ascii_token("the op attribute of <changePoll:operation>", op)?;
        }
        match (self.kind.required_op(), &self.op) {
            (None, _) => Ok(()),
            (Some(_), None) => Err(CodecError::missing(format!(
                "a {} <changePoll:operation> requires the op attribute (RFC 8590 §2.1)",
                self.kind.as_str()
            ))),
            (Some(values), Some(op)) if !values.is_empty() && !values.contains(&op.as_str()) => {
                Err(CodecError::value_syntax(format!(
                    "{op:?} is not an op of a {} operation ({}; RFC 8590 §2.1)",
                    self.kind.as_str(),
                    values.join(", ")
                )))
            }
            (Some(_), Some(_)) => Ok(()),
        }
    }
}

/// The kind of case behind an operation (`changePoll:caseTypeEnum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseType {
    /// A Uniform Domain-Name Dispute-Resolution Policy case.
    Udrp,
    /// A Uniform Rapid Suspension case.
    Urs,
    /// A case of the server's own kind, named by [`CaseId::name`].
    Custom,
}

impl CaseType {
    /// Every case type, in schema order.
    pub const ALL: [Self; 3] = [Self::Udrp, Self::Urs, Self::Custom];

    /// The schema token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Udrp => "udrp",
            Self::Urs => "urs",
            Self::Custom => "custom",
        }
    }

    /// The case type for a schema token.
    pub fn from_token(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// `<changePoll:caseId>`: the case (a dispute, a court order, a support ticket) the operation
/// was executed for, so the registrar can refer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseId {
    /// The `type` attribute.
    pub kind: CaseType,
    /// The `name` attribute: what a `custom` case is (required for it, RFC 8590 §3.1.2); an
    /// identifier in 7-bit US-ASCII.
    pub name: Option<String>,
    /// The case identifier (a non-empty token).
    pub id: String,
}

impl CaseId {
    /// Checks the RFC 8590 §3.1.2 rules: a non-empty identifier, a `name` for a `custom` case,
    /// and a `name` in 7-bit US-ASCII.
    pub fn check(&self) -> Result<(), CodecError> {
        check_token("<changePoll:caseId>", &self.id, 1, usize::MAX)?;
        match (&self.name, self.kind) {
            (Some(name), _) => check_ascii_token("the name attribute of <changePoll:caseId>", name),
            (None, CaseType::Custom) => Err(CodecError::missing(
                "a custom <changePoll:caseId> requires the name attribute (RFC 8590 §3.1.2)",
            )),
            (None, _) => Ok(()),
        }
    }
}

/// `<changePoll:changeData>`: what was done to the object in the poll message's `<resData>`,
/// when, by whom and why (`changePoll:changeDataType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeData {
    /// Whether `<resData>` shows the object before or after the operation.
    pub state: ChangeState,
    /// What was done.
    pub operation: Operation,
    /// When it was done.
    pub date: Timestamp,
    /// The server transaction id of the operation (`epp:trIDStringType`, 3 to 64
    /// characters), so a registrar can quote it to the registry.
    pub sv_trid: String,
    /// Who did it, for audit only (`changePoll:whoType`: a `normalizedString` of 1 to 255
    /// characters; a user id, a name or a role such as "Batch", RFC 8590 §2.3).
    pub who: String,
    /// The case the operation was executed for.
    pub case_id: Option<CaseId>,
    /// Why, in the session's language or the one `lang` names (`eppcom:reasonType`: 1 to 32
    /// characters).
    pub reason: Option<Text>,
}

impl ChangeData {
    /// Checks everything the schema and RFC 8590 require of the values, so that the frame the
    /// writer makes of them validates and reads back. The reader applies the same checks; a
    /// server should call this before it queues a message it built.
    pub fn check(&self) -> Result<(), CodecError> {
        self.operation.check()?;
        check_token("<changePoll:svTRID>", &self.sv_trid, 3, 64)?;
        check_who(&self.who)?;
        if let Some(c) = &self.case_id {
            c.check()?;
        }
        if let Some(r) = &self.reason {
            check_reason(r)?;
        }
        Ok(())
    }

    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&["state"])?;
        let state = match el.attr("state") {
            None => ChangeState::After,
            Some(s) => {
                let token = collapse_whitespace(s);
                ChangeState::from_token(&token).ok_or_else(|| {
                    CodecError::value_syntax(format!(
                        "{token:?} is not a change state (before, after)"
                    ))
                    .with_offending(el.clone())
                })?
            }
        };
        let mut c = el.element_children()?;
        let operation = parse_operation(c.required(&NS, "operation")?)?;
        let date = datetime_el(c.required(&NS, "date")?)?;
        let sv_trid = trid_string(c.required(&NS, "svTRID")?)?;
        let who_el = c.required(&NS, "who")?;
        who_el.only_attrs(&[])?;
        let who = who_el.normalized()?;
        check_who(&who).map_err(|e| e.with_offending(who_el.clone()))?;
        let case_id = c.optional(&NS, "caseId").map(parse_case_id).transpose()?;
        let reason = c.optional(&NS, "reason").map(parse_reason).transpose()?;
        c.finish()?;
        Ok(Self {
            state,
            operation,
            date,
            sv_trid,
            who,
            case_id,
            reason,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        // `state` is written even when it is the default "after": a client that does not apply
        // schema defaults still reads which object state `<resData>` shows.
        w.open(&NS, "changeData", &[("state", self.state.as_str())]);
        let op = self.operation.kind.as_str();
        match &self.operation.op {
            Some(o) => w.text_el(&NS, "operation", &[("op", o)], op),
            None => w.leaf(&NS, "operation", op),
        }
        w.leaf(&NS, "date", &format_datetime(&self.date));
        w.leaf(&NS, "svTRID", &self.sv_trid);
        w.leaf(&NS, "who", &self.who);
        if let Some(c) = &self.case_id {
            let kind = c.kind.as_str();
            match &c.name {
                Some(n) => w.text_el(&NS, "caseId", &[("type", kind), ("name", n)], &c.id),
                None => w.text_el(&NS, "caseId", &[("type", kind)], &c.id),
            }
        }
        if let Some(r) = &self.reason {
            r.write(w, &NS, "reason");
        }
        w.close();
    }
}

fn parse_operation(el: &Element) -> Result<Operation, CodecError> {
    el.only_attrs(&["op"])?;
    let token = el.token()?;
    let kind = OperationKind::from_token(&token).ok_or_else(|| {
        CodecError::value_syntax(format!(
            "{token:?} is not a change poll operation ({})",
            OperationKind::ALL.map(OperationKind::as_str).join(", ")
        ))
        .with_offending(el.clone())
    })?;
    let operation = Operation {
        kind,
        op: el.attr("op").map(collapse_whitespace),
    };
    operation
        .check()
        .map_err(|e| e.with_offending(el.clone()))?;
    Ok(operation)
}

fn parse_case_id(el: &Element) -> Result<CaseId, CodecError> {
    el.only_attrs(&["type", "name"])?;
    let kind_token = el.attr("type").map(collapse_whitespace).ok_or_else(|| {
        CodecError::missing("<changePoll:caseId> requires the type attribute")
            .with_offending(el.clone())
    })?;
    let kind = CaseType::from_token(&kind_token).ok_or_else(|| {
        CodecError::value_syntax(format!(
            "{kind_token:?} is not a case type (udrp, urs, custom)"
        ))
        .with_offending(el.clone())
    })?;
    let case = CaseId {
        kind,
        name: el.attr("name").map(collapse_whitespace),
        id: el.token()?,
    };
    case.check().map_err(|e| e.with_offending(el.clone()))?;
    Ok(case)
}

fn parse_reason(el: &Element) -> Result<Text, CodecError> {
    el.only_attrs(&["lang"])?;
    let reason = Text {
        text: el.token()?,
        lang: el.attr("lang").map(collapse_whitespace),
    };
    check_reason(&reason).map_err(|e| e.with_offending(el.clone()))?;
    Ok(reason)
}

/// `changePoll:whoType`, and not blank: a `who` of spaces names nobody to audit.
fn check_who(who: &str) -> Result<(), CodecError> {
    if who.contains(['\t', '\n', '\r']) {
        return Err(CodecError::value_syntax(
            "<changePoll:who> is a normalizedString: no tabs or line breaks",
        ));
    }
    let n = who.chars().count();
    if !(1..=255).contains(&n) || who.trim_matches(' ').is_empty() {
        return Err(CodecError::value_syntax(format!(
            "<changePoll:who> must name who executed the operation in 1 to 255 characters, got \
             {who:?}"
        )));
    }
    Ok(())
}

/// `eppcom:reasonType`: a token of 1 to 32 characters with an optional `xs:language`.
fn check_reason(r: &Text) -> Result<(), CodecError> {
    check_token("<changePoll:reason>", &r.text, 1, 32)?;
    match &r.lang {
        Some(l) if !is_language(l) => Err(CodecError::value_syntax(format!(
            "{l:?} is not a language tag (the lang attribute of <changePoll:reason>)"
        ))),
        _ => Ok(()),
    }
}

/// An `xs:token` (already collapsed, so it reads back unchanged) of `min` to `max` characters.
fn check_token(what: &str, v: &str, min: usize, max: usize) -> Result<(), CodecError> {
    if collapse_whitespace(v) != v {
        return Err(CodecError::value_syntax(format!(
            "{what} is a token: no leading, trailing or repeated white space, got {v:?}"
        )));
    }
    let n = v.chars().count();
    if n < min || n > max {
        return Err(CodecError::value_syntax(format!(
            "{what} must be {min} to {max} characters, got {n}"
        )));
    }
    Ok(())
}

/// A non-empty `xs:token` "identifier, represented in the 7-bit US-ASCII character set"
/// (RFC 8590 §2.1 and §3.1.2; RFC 20's printable characters).
fn check_ascii_token(what: &str, v: &str) -> Result<(), CodecError> {
    check_token(what, v, 1, usize::MAX)?;
    if let Some(c) = v.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(CodecError::value_syntax(format!(
            "{what} must be 7-bit US-ASCII (RFC 8590), got {c:?} in {v:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn tokens_round_trip() {
        for s in ChangeState::ALL {
            assert_eq!(ChangeState::from_token(s.as_str()), Some(s));
        }
        for o in OperationKind::ALL {
            assert_eq!(OperationKind::from_token(o.as_str()), Some(o));
        }
        for c in CaseType::ALL {
            assert_eq!(CaseType::from_token(c.as_str()), Some(c));
        }
        assert_eq!(OperationKind::from_token("autorenew"), None);
        assert_eq!(ChangeState::default(), ChangeState::After);
    }

    #[test]
    fn the_tree_knows_the_namespace() {
        assert_eq!(NS.uri(), NAMESPACE);
        assert_eq!(Ns::from_uri(NAMESPACE), NS);
        assert_eq!(crate::uri::CHANGE_POLL, NAMESPACE);
    }

    fn data() -> ChangeData {
        ChangeData {
            state: ChangeState::After,
            operation: Operation {
                kind: OperationKind::Update,
                op: None,
            },
            date: "2026-01-01T00:00:00Z".parse().expect("timestamp"),
            sv_trid: "MOCK-0001".into(),
            who: "CDS scanner".into(),
            case_id: None,
            reason: None,
        }
    }

    #[test]
    fn check_enforces_the_rfc_rules_the_schema_cannot() {
        assert!(data().check().is_ok());
        let kind = |f: fn(&mut ChangeData)| {
            let mut d = data();
            f(&mut d);
            d.check().map_err(|e| e.kind)
        };
        // RFC 8590 §2.1: transfer, restore and custom need their op.
        assert_eq!(
            kind(|d| d.operation.kind = OperationKind::Custom),
            Err(ErrorKind::Missing)
        );
        assert_eq!(
            kind(|d| {
                d.operation.kind = OperationKind::Transfer;
                d.operation.op = Some("query".into());
            }),
            Err(ErrorKind::ValueSyntax)
        );
        assert_eq!(
            kind(|d| {
                d.operation.kind = OperationKind::Restore;
                d.operation.op = Some("report".into());
            }),
            Ok(())
        );
        assert_eq!(
            kind(|d| d.operation.op = Some("auto Update".into())),
            Ok(())
        );
        assert_eq!(
            kind(|d| d.operation.op = Some("mise-à-jour".into())),
            Err(ErrorKind::ValueSyntax)
        );
        assert_eq!(
            kind(|d| d.operation.op = Some(String::new())),
            Err(ErrorKind::ValueSyntax)
        );
        // §3.1.2: a custom case needs its name.
        assert_eq!(
            kind(|d| {
                d.case_id = Some(CaseId {
                    kind: CaseType::Custom,
                    name: None,
                    id: "C-1".into(),
                });
            }),
            Err(ErrorKind::Missing)
        );
        assert_eq!(
            kind(|d| {
                d.case_id = Some(CaseId {
                    kind: CaseType::Udrp,
                    name: None,
                    id: String::new(),
                });
            }),
            Err(ErrorKind::ValueSyntax)
        );
        // The schema's bounds.
        for who in ["", "   ", "a\tb"] {
            let mut d = data();
            d.who = who.into();
            assert_eq!(d.check().map_err(|e| e.kind), Err(ErrorKind::ValueSyntax));
        }
        let mut d = data();
        d.who = "x".repeat(256);
        assert!(d.check().is_err());
        d.who = "x".repeat(255);
        assert!(d.check().is_ok());
        assert!(kind(|d| d.sv_trid = "ab".into()).is_err());
        assert!(kind(|d| d.reason = Some(Text::new("x".repeat(33)))).is_err());
        assert!(
            kind(|d| d.reason = Some(Text {
                text: "DS from CDS".into(),
                lang: Some("not a tag".into()),
            }))
            .is_err()
        );
    }
}
