//! The EPP message layer (RFC 5730 §2): the `<epp>` root with a greeting, hello, command,
//! response or extension command, and the dispatch from object namespaces to the object
//! mappings.

use jiff::Timestamp;

use super::changepoll;
use super::contact;
use super::domain;
use super::error::{CodecError, ErrorKind, ResultCode};
use super::host;
use super::keyrelay;
use super::receipt;
use super::secdns;
use super::sidn;
use super::tree;
use super::types::{
    CheckResult, PanData, Text, TrId, datetime_el, format_datetime, parse_ident, parse_idents,
    trid_string, write_idents,
};
use super::xml::{self, Element, Limits, Node, Ns, XmlWriter};

/// One EPP frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `<greeting>`: what the server sends on connect and in answer to `<hello>` (RFC 5730 §2.4).
    Greeting(Box<Greeting>),
    /// `<hello>`: a client asks for a greeting (RFC 5730 §2.3).
    Hello,
    /// `<command>`: a client command (RFC 5730 §2.5).
    Command(Box<Command>),
    /// `<response>`: the server's answer to a command (RFC 5730 §2.6).
    Response(Box<Response>),
    /// A stand-alone extension command (`<epp><extension>`), here SIDN's.
    Extension(sidn::ExtCommand),
}

// ---------------------------------------------------------------------------------------------
// Greeting

/// The server greeting (RFC 5730 §2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// Server name (3–64 characters).
    pub sv_id: String,
    /// Server's current time.
    pub sv_date: Timestamp,
    /// Protocol versions (always `1.0`).
    pub versions: Vec<String>,
    /// `<lang>` identifiers of the languages the server answers in (e.g. `en`).
    pub langs: Vec<String>,
    /// Object namespaces offered.
    pub obj_uris: Vec<String>,
    /// Extension namespaces offered (empty: no `svcExtension`).
    pub ext_uris: Vec<String>,
    /// Data collection policy.
    pub dcp: Dcp,
}

/// Data collection policy (`epp:dcpType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dcp {
    /// Access given to collected data.
    pub access: DcpAccess,
    /// One or more statements.
    pub statements: Vec<DcpStatement>,
    /// `<expiry>`: when the policy ends, absolute or relative; none: no end announced.
    pub expiry: Option<DcpExpiry>,
}

/// `epp:dcpAccessType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs, reason = "variants are the schema's element names")]
pub enum DcpAccess {
    All,
    None,
    Null,
    Other,
    Personal,
    PersonalAndOther,
}

const DCP_ACCESS: [(DcpAccess, &str); 6] = [
    (DcpAccess::All, "all"),
    (DcpAccess::None, "none"),
    (DcpAccess::Null, "null"),
    (DcpAccess::Other, "other"),
    (DcpAccess::Personal, "personal"),
    (DcpAccess::PersonalAndOther, "personalAndOther"),
];

/// `epp:dcpRetentionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs, reason = "variants are the schema's element names")]
pub enum DcpRetention {
    Business,
    Indefinite,
    Legal,
    None,
    Stated,
}

const DCP_RETENTION: [(DcpRetention, &str); 5] = [
    (DcpRetention::Business, "business"),
    (DcpRetention::Indefinite, "indefinite"),
    (DcpRetention::Legal, "legal"),
    (DcpRetention::None, "none"),
    (DcpRetention::Stated, "stated"),
];

/// One policy statement (`epp:dcpStatementType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcpStatement {
    /// Purposes (`admin`, `contact`, `other`, `prov`), in that order; any subset.
    pub purposes: Vec<String>,
    /// `<recipient>`: who receives the collected data.
    pub recipients: DcpRecipients,
    /// `<retention>`: how long collected data is kept.
    pub retention: DcpRetention,
}

/// `epp:dcpRecipientType`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DcpRecipients {
    /// `<other/>`: other entities following unknown practices (RFC 5730 §2.4).
    pub other: bool,
    /// `ours` elements, each with an optional `recDesc`.
    pub ours: Vec<Option<String>>,
    /// `<public/>`: public forums.
    pub public: bool,
    /// `<same/>`: other entities following the server's practices.
    pub same: bool,
    /// `<unrelated/>`: unrelated third parties.
    pub unrelated: bool,
}

/// `epp:dcpExpiryType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DcpExpiry {
    /// At this time.
    Absolute(Timestamp),
    /// After this long.
    Relative(super::types::XsDuration),
}

// ---------------------------------------------------------------------------------------------
// Commands

/// A client command (RFC 5730 §2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// What to do.
    pub kind: CommandKind,
    /// Command extensions (`<extension>` children).
    pub extensions: Vec<CommandExtension>,
    /// Client transaction id.
    pub cl_trid: Option<String>,
}

/// The command proper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandKind {
    /// `<login>`.
    Login(Login),
    /// `<logout>`.
    Logout,
    /// `<poll>`.
    Poll(Poll),
    /// `<check>`.
    Check(Check),
    /// `<info>`.
    Info(Info),
    /// `<create>`.
    Create(Create),
    /// `<update>`.
    Update(Update),
    /// `<delete>`.
    Delete(Delete),
    /// `<renew>` (domains only).
    Renew(domain::Renew),
    /// `<transfer op="…">`.
    Transfer(TransferOp, Transfer),
}

impl CommandKind {
    /// A short name for logs: `login`, `domain:info`, `keyrelay:create`, `transfer:request`…
    ///
    /// Every name is a constant: the server logs one per command, so naming one must not
    /// allocate.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Login(_) => "login",
            Self::Logout => "logout",
            Self::Poll(Poll::Req) => "poll:req",
            Self::Poll(Poll::Ack { .. }) => "poll:ack",
            Self::Check(Check::Domain(_)) => "domain:check",
            Self::Check(Check::Host(_)) => "host:check",
            Self::Check(Check::Contact(_)) => "contact:check",
            Self::Info(Info::Domain(_)) => "domain:info",
            Self::Info(Info::Host(_)) => "host:info",
            Self::Info(Info::Contact(_)) => "contact:info",
            Self::Create(Create::Domain(_)) => "domain:create",
            Self::Create(Create::Host(_)) => "host:create",
            Self::Create(Create::Contact(_)) => "contact:create",
            Self::Create(Create::KeyRelay(_)) => "keyrelay:create",
            Self::Update(Update::Domain(_)) => "domain:update",
            Self::Update(Update::Host(_)) => "host:update",
            Self::Update(Update::Contact(_)) => "contact:update",
            Self::Delete(Delete::Domain(_)) => "domain:delete",
            Self::Delete(Delete::Host(_)) => "host:delete",
            Self::Delete(Delete::Contact(_)) => "contact:delete",
            Self::Renew(_) => "domain:renew",
            Self::Transfer(op, Transfer::Domain(_)) => match op {
                TransferOp::Approve => "domain:transfer:approve",
                TransferOp::Cancel => "domain:transfer:cancel",
                TransferOp::Query => "domain:transfer:query",
                TransferOp::Reject => "domain:transfer:reject",
                TransferOp::Request => "domain:transfer:request",
            },
            Self::Transfer(op, Transfer::Contact(_)) => match op {
                TransferOp::Approve => "contact:transfer:approve",
                TransferOp::Cancel => "contact:transfer:cancel",
                TransferOp::Query => "contact:transfer:query",
                TransferOp::Reject => "contact:transfer:reject",
                TransferOp::Request => "contact:transfer:request",
            },
        }
    }
}

/// `<login>` (RFC 5730 §2.9.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// `<clID>`: the registrar's account id at the server.
    pub cl_id: String,
    /// `<pw>`: the account's current password (6 to 16 characters in the schema).
    pub pw: String,
    /// New password to set.
    pub new_pw: Option<String>,
    /// Protocol version (must be `1.0`).
    pub version: String,
    /// `<options><lang>`: the language the client wants texts in (one the greeting offers).
    pub lang: String,
    /// Object services the client wants.
    pub obj_uris: Vec<String>,
    /// Extensions the client wants.
    pub ext_uris: Vec<String>,
}

/// `<poll>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Request the first message.
    Req,
    /// Acknowledge (dequeue) a message.
    Ack {
        /// The message id.
        msg_id: String,
    },
}

/// `<check>`, per object mapping: the names (contact ids for contacts) to check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs, reason = "one variant per object mapping")]
pub enum Check {
    Domain(Vec<String>),
    Host(Vec<String>),
    Contact(Vec<String>),
}

/// `<info>`, per object mapping: the object asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs, reason = "one variant per object mapping")]
pub enum Info {
    Domain(domain::Info),
    Host(String),
    Contact(contact::AuthId),
}

/// Create targets, including RFC 8063 key relay.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs, reason = "one variant per object mapping")]
pub enum Create {
    Domain(domain::Create),
    Host(host::Create),
    Contact(contact::Create),
    KeyRelay(keyrelay::Create),
}

/// `<update>`, per object mapping: the object and its changes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs, reason = "one variant per object mapping")]
pub enum Update {
    Domain(domain::Update),
    Host(host::Update),
    Contact(contact::Update),
}

/// `<delete>`, per object mapping: the name (contact id for contacts) of the object.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs, reason = "one variant per object mapping")]
pub enum Delete {
    Domain(String),
    Host(String),
    Contact(String),
}

/// `<transfer>`, per object mapping (RFC 5731 domains, RFC 5733 contacts).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs, reason = "one variant per object mapping")]
pub enum Transfer {
    Domain(domain::Transfer),
    Contact(contact::AuthId),
}

/// Transfer operations (`epp:transferOpType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs, reason = "variants are the schema's tokens")]
pub enum TransferOp {
    Approve,
    Cancel,
    Query,
    Reject,
    Request,
}

impl TransferOp {
    /// The schema token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Cancel => "cancel",
            Self::Query => "query",
            Self::Reject => "reject",
            Self::Request => "request",
        }
    }
}

macro_rules! object_name {
    ($t:ty { $($v:ident => $n:literal),+ }) => {
        impl $t {
            /// The object mapping: `domain`, `host`, `contact` or `keyrelay`.
            pub fn object(&self) -> &'static str {
                match self { $(Self::$v(..) => $n),+ }
            }
        }
    };
}
object_name!(Check { Domain => "domain", Host => "host", Contact => "contact" });
object_name!(Info { Domain => "domain", Host => "host", Contact => "contact" });
object_name!(Create { Domain => "domain", Host => "host", Contact => "contact", KeyRelay => "keyrelay" });
object_name!(Update { Domain => "domain", Host => "host", Contact => "contact" });
object_name!(Delete { Domain => "domain", Host => "host", Contact => "contact" });
object_name!(Transfer { Domain => "domain", Contact => "contact" });

/// One element of a command's `<extension>` that this codec knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandExtension {
    /// `secDNS:create` on a domain create.
    SecDnsCreate(secdns::DsOrKeySet),
    /// `secDNS:update` on a domain update.
    SecDnsUpdate(secdns::Update),
    /// SIDN's `ext` (contact legal form on create/update).
    Sidn(sidn::Ext),
    /// SIDN's scheduled delete on a domain update.
    ScheduledDelete(sidn::ScheduledDelete),
}

impl CommandExtension {
    /// The element it is written as, e.g. `secDNS:create`.
    pub fn element_name(&self) -> &'static str {
        match self {
            Self::SecDnsCreate(_) => "secDNS:create",
            Self::SecDnsUpdate(_) => "secDNS:update",
            Self::Sidn(_) => "sidn-ext-epp:ext",
            Self::ScheduledDelete(_) => "scheduledDelete:update",
        }
    }

    /// Checks that no extension element appears twice in one command.
    ///
    /// Each extension this codec knows defines one element per command that carries all of
    /// its data: RFC 5910 §5.2.1 and §5.2.5 put every key of a create or an update in one
    /// `<secDNS:create>` or `<secDNS:update>`, SIDN's `<sidn-ext-epp:ext>` holds the one
    /// contact extension, `<scheduledDelete:update>` the one operation. The `<extension>`
    /// element itself admits any number of elements (RFC 5730 §2.7.1), so a second one is
    /// schema-valid but meaningless: merging the two or keeping one would guess, and answering
    /// 1000 while dropping a key breaks a chain of trust. It is refused as a syntax error
    /// (2001), the answer a schema with `maxOccurs="1"` would give. The codec calls this for
    /// every command it parses; a server executing typed commands built in-process calls it
    /// too.
    pub fn check_unique(extensions: &[Self]) -> Result<(), CodecError> {
        for (i, x) in extensions.iter().enumerate() {
            if extensions[..i]
                .iter()
                .any(|y| y.element_name() == x.element_name())
            {
                return Err(repeated_extension(x.element_name()));
            }
        }
        Ok(())
    }
}

/// The refusal of a second extension element of one kind (see
/// [`CommandExtension::check_unique`]).
fn repeated_extension(qname: &str) -> CodecError {
    CodecError::syntax(format!(
        "<{qname}> appears more than once in <extension>: its schema defines one element that \
         carries all of its data (e.g. every key in one <secDNS:create>, RFC 5910 §5.2.1), so \
         a second one is refused rather than merged or dropped"
    ))
}

// ---------------------------------------------------------------------------------------------
// Responses

/// A server response (RFC 5730 §2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// One or more results.
    pub results: Vec<EppResult>,
    /// Message queue information.
    pub msg_q: Option<MsgQ>,
    /// `<resData>`: object data, for commands that return some and for poll messages.
    pub res_data: Option<ResData>,
    /// Elements of the response's `<extension>`; a server includes each only for a session that
    /// announced its namespace at login.
    pub extensions: Vec<ResponseExtension>,
    /// `<trID>`: the client's `clTRID`, echoed, and the server's `svTRID`.
    pub tr_id: TrId,
}

impl Response {
    /// The first result's code.
    pub fn code(&self) -> ResultCode {
        self.results
            .first()
            .map_or(ResultCode::CommandFailed, |r| r.code)
    }

    /// A response with one result carrying the RFC text, and no data.
    pub fn simple(code: ResultCode, tr_id: TrId) -> Self {
        Self {
            results: vec![EppResult::new(code)],
            msg_q: None,
            res_data: None,
            extensions: Vec::new(),
            tr_id,
        }
    }

    /// SIDN error details carried by the response, if any.
    pub fn sidn_errors(&self) -> Vec<&sidn::ErrorDetail> {
        self.extensions
            .iter()
            .filter_map(|e| match e {
                ResponseExtension::Sidn(sidn::Ext::Response(list)) => Some(list.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }
}

/// One `<result>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EppResult {
    /// The four-digit result code (RFC 5730 §3): 1xxx success, 2xxx failure.
    pub code: ResultCode,
    /// `<msg>`: human-readable text for the code, with its language.
    pub msg: Text,
    /// Offending values, for errors.
    pub values: Vec<ResultValue>,
}

impl EppResult {
    /// A result with the RFC's text for `code`.
    pub fn new(code: ResultCode) -> Self {
        Self {
            code,
            msg: Text::new(code.message()),
            values: Vec::new(),
        }
    }
}

/// `<value>` or `<extValue>` of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultValue {
    /// The client element that caused the error.
    Value(Element),
    /// The element and a reason.
    ExtValue {
        /// The client element.
        value: Element,
        /// Why it was refused.
        reason: Text,
    },
}

/// `<msgQ>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsgQ {
    /// `count`: how many messages are in the queue.
    pub count: u64,
    /// Id of the first message.
    pub id: String,
    /// When it was queued (poll req responses only).
    pub q_date: Option<Timestamp>,
    /// Its text (poll req responses only).
    pub msg: Option<Text>,
}

/// Response data: one element inside `<resData>`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    missing_docs,
    reason = "each variant is the named object's response element"
)]
pub enum ResData {
    DomainCheck(Vec<CheckResult>),
    DomainCreate(domain::CreData),
    DomainInfo(Box<domain::InfData>),
    DomainPending(PanData),
    DomainRenew(domain::RenData),
    DomainTransfer(domain::TrnData),
    HostCheck(Vec<CheckResult>),
    HostCreate(host::CreData),
    HostInfo(Box<host::InfData>),
    HostPending(PanData),
    ContactCheck(Vec<CheckResult>),
    ContactCreate(contact::CreData),
    ContactInfo(Box<contact::InfData>),
    ContactPending(PanData),
    ContactTransfer(contact::TrnData),
    /// RFC 8063 poll payload.
    KeyRelay(Box<keyrelay::InfData>),
    /// SIDN's poll payload wrapper.
    SidnPoll(Box<SidnPollData>),
}

/// One element of a response's `<extension>` that this codec knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseExtension {
    /// `secDNS:infData` of a domain info.
    SecDnsInfo(secdns::DsOrKeySet),
    /// SIDN's `ext`.
    Sidn(sidn::Ext),
    /// A key relay receipt in a poll message (experimental, [`receipt`]).
    KeyRelayReceipt(Box<receipt::Receipt>),
    /// RFC 8590 `changePoll:changeData` in a poll message: what the server did to an object
    /// the client sponsors, by whom and why; the object itself is in the `<resData>`
    /// ([`changepoll`]).
    ChangePoll(Box<changepoll::ChangeData>),
}

impl ResponseExtension {
    /// The namespace URI of the extension, as a client lists it in `<login>`'s
    /// `<svcExtension>`: what a server checks before it sends the element to a session.
    pub fn uri(&self) -> &'static str {
        match self {
            Self::SecDnsInfo(_) => super::uri::SECDNS,
            Self::Sidn(_) => super::uri::SIDN,
            Self::KeyRelayReceipt(_) => super::uri::KEYRELAY_RECEIPT,
            Self::ChangePoll(_) => super::uri::CHANGE_POLL,
        }
    }

    fn write(&self, w: &mut XmlWriter) {
        match self {
            Self::SecDnsInfo(s) => s.write(w, "infData"),
            Self::Sidn(s) => s.write(w),
            Self::KeyRelayReceipt(r) => r.write(w),
            Self::ChangePoll(c) => c.write(w),
        }
    }

    /// The extension as a generic element tree, namespaces declared on it: what a server puts
    /// in a result's `<extValue><value>` when the session did not announce the extension's
    /// namespace (RFC 9038 §3.2, unhandled command-response extensions).
    pub fn to_element(&self) -> Element {
        let mut w = XmlWriter::new();
        self.write(&mut w);
        let xml = w.finish();
        xml::read_document(xml.as_bytes(), &Limits::default())
            .expect("invariant: the writer's output of a typed extension reads back")
    }
}

// ---------------------------------------------------------------------------------------------
// Entry points

/// Parses one EPP XML instance (the payload of one frame) with default limits.
///
/// This is the single bytes-in entry point: the server, the registrars and fuzzers call it.
/// It never panics; every refusal is a [`CodecError`] whose kind fixes the EPP result code and
/// which carries the command's `clTRID` when the XML was readable enough to find it.
pub fn parse(bytes: &[u8]) -> Result<Frame, CodecError> {
    parse_with_limits(bytes, &Limits::default())
}

/// [`parse`] with explicit XML limits.
pub fn parse_with_limits(bytes: &[u8], limits: &Limits) -> Result<Frame, CodecError> {
    let root = xml::read_document(bytes, limits)?;
    Frame::from_element(&root).map_err(|mut e| {
        if e.cl_trid.is_none() {
            e.cl_trid = find_cl_trid(&root);
        }
        e
    })
}

/// Finds `/epp/command/clTRID` (or SIDN's extension command clTRID) in a tree that failed.
fn find_cl_trid(root: &Element) -> Option<String> {
    if !root.is(&Ns::Epp, "epp") {
        return None;
    }
    let child = root.first_child()?;
    let (cmd, ns) = if child.is(&Ns::Epp, "command") {
        (child, Ns::Epp)
    } else if child.is(&Ns::Epp, "extension") {
        (child.first_child()?, Ns::Sidn)
    } else {
        return None;
    };
    cmd.children.iter().rev().find_map(|n| match n {
        Node::Element(e) if e.is(&ns, "clTRID") => trid_string(e).ok(),
        _ => None,
    })
}

impl Frame {
    fn from_element(root: &Element) -> Result<Self, CodecError> {
        if !root.is(&Ns::Epp, "epp") {
            return Err(CodecError::syntax(format!(
                "the root element must be <epp> in {}, got <{}> in {}",
                Ns::Epp.uri(),
                root.name,
                root.ns
            )));
        }
        root.only_attrs(&[])?;
        let mut c = root.element_children()?;
        let child = c
            .next_any()
            .ok_or_else(|| CodecError::missing("<epp> is empty"))?;
        c.finish()?;
        if child.ns != Ns::Epp {
            return Err(CodecError::syntax(format!(
                "<epp> must contain greeting, hello, command, response or extension, got <{}>",
                child.qname()
            )));
        }
        match child.name.as_str() {
            "greeting" => Ok(Self::Greeting(Box::new(Greeting::parse(child)?))),
            "hello" => {
                // The schema types <hello> as anyType; accept only the empty element EPP means.
                child.expect_empty(&[])?;
                Ok(Self::Hello)
            }
            "command" => Ok(Self::Command(Box::new(Command::parse(child)?))),
            "response" => Ok(Self::Response(Box::new(Response::parse(child)?))),
            "extension" => {
                child.only_attrs(&[])?;
                let mut ec = child.element_children()?;
                let inner = ec
                    .next_any()
                    .ok_or_else(|| CodecError::missing("<extension> is empty"))?;
                ec.finish()?;
                if inner.is(&Ns::Sidn, "command") {
                    Ok(Self::Extension(sidn::ExtCommand::parse(inner)?))
                } else {
                    Err(CodecError::new(
                        ErrorKind::UnimplementedExtension,
                        format!("extension command <{}> is not implemented", inner.qname()),
                    ))
                }
            }
            other => Err(CodecError::syntax(format!(
                "<epp> must contain greeting, hello, command, response or extension, got <{other}>"
            ))),
        }
    }

    /// Writes the frame as an XML document, on one line (the wire form).
    pub fn to_xml(&self) -> String {
        owned(self.write_with(XmlWriter::new()))
    }

    /// Encodes the frame for the wire into `buf`: the RFC 5734 length header, then the XML of
    /// [`to_xml`](Self::to_xml). `buf` is cleared first and its capacity reused, so a server
    /// that keeps one buffer per connection encodes its answers without allocating once the
    /// buffer has grown, and sends each as one write (see [`frame::write_encoded`]).
    ///
    /// [`frame::write_encoded`]: crate::frame::write_encoded
    pub fn encode_into(&self, buf: &mut Vec<u8>) {
        buf.clear();
        let mut out = String::from_utf8(std::mem::take(buf))
            .expect("invariant: an empty vector is valid UTF-8");
        // The header's place, patched below once the length is known.
        out.push_str("\0\0\0\0");
        *buf = self.write_with(XmlWriter::with_buffer(out)).into_bytes();
        let total = u32::try_from(buf.len())
            .expect("invariant: an EPP frame the codec writes is far below 4 GiB");
        buf[..super::frame::HEADER_LEN].copy_from_slice(&total.to_be_bytes());
    }

    /// Writes the frame indented, for people: transcripts, reports and snapshots. It parses
    /// to the same value as [`to_xml`](Self::to_xml) except for whitespace inside
    /// uninterpreted content.
    pub fn to_xml_pretty(&self) -> String {
        owned(self.write_with(XmlWriter::pretty()))
    }

    fn write_with(&self, mut w: XmlWriter) -> String {
        w.open(&Ns::Epp, "epp", &[]);
        match self {
            Self::Greeting(g) => g.write(&mut w),
            Self::Hello => w.empty(&Ns::Epp, "hello", &[]),
            Self::Command(c) => c.write(&mut w),
            Self::Response(r) => r.write(&mut w),
            Self::Extension(e) => {
                w.open(&Ns::Epp, "extension", &[]);
                e.write(&mut w);
                w.close();
            }
        }
        w.close();
        w.finish()
    }
}

/// A written frame as its caller keeps it: the writer starts with room for a large frame
/// (2 or 4 KiB), and the strings [`Frame::to_xml`] returns are kept (every frame a client
/// sends goes into its transcript, hundreds of polls per explored world), so the slack is
/// given back (glibc shrinks a block in place, without a copy).
fn owned(mut xml: String) -> String {
    xml.shrink_to_fit();
    xml
}

fn enum_child<T: Copy>(el: &Element, table: &[(T, &str)]) -> Result<T, CodecError> {
    el.only_attrs(&[])?;
    let mut c = el.element_children()?;
    let inner = c
        .next_any()
        .ok_or_else(|| CodecError::missing(format!("<{}> is empty", el.qname())))?;
    c.finish()?;
    inner.expect_empty(&[])?;
    table
        .iter()
        .find(|(_, n)| inner.ns == Ns::Epp && inner.name == *n)
        .map(|(v, _)| *v)
        .ok_or_else(|| {
            CodecError::syntax(format!(
                "unexpected <{}> in <{}>",
                inner.qname(),
                el.qname()
            ))
        })
}

fn enum_name<T: PartialEq>(v: &T, table: &[(T, &'static str)]) -> &'static str {
    table
        .iter()
        .find(|(x, _)| x == v)
        .map(|(_, n)| *n)
        .expect("invariant: the table lists every variant")
}

fn uri_list(els: Vec<&Element>) -> Result<Vec<String>, CodecError> {
    els.into_iter()
        .map(|e| {
            e.only_attrs(&[])?;
            let v = e.token()?;
            if v.is_empty() {
                return Err(CodecError::value_syntax("a URI must not be empty"));
            }
            Ok(v)
        })
        .collect()
}

fn parse_svc_extension(c: &mut xml::Cursor<'_>) -> Result<Vec<String>, CodecError> {
    match c.optional(&Ns::Epp, "svcExtension") {
        Some(se) => {
            se.only_attrs(&[])?;
            let mut sc = se.element_children()?;
            let uris = uri_list(sc.at_least_one(&Ns::Epp, "extURI", usize::MAX)?)?;
            sc.finish()?;
            Ok(uris)
        }
        None => Ok(Vec::new()),
    }
}

fn write_svc_extension(w: &mut XmlWriter, uris: &[String]) {
    if !uris.is_empty() {
        w.open(&Ns::Epp, "svcExtension", &[]);
        uris.iter().for_each(|u| w.leaf(&Ns::Epp, "extURI", u));
        w.close();
    }
}

fn version_token(el: &Element) -> Result<String, CodecError> {
    el.only_attrs(&[])?;
    let v = el.token()?;
    let pattern_ok = v.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && a.bytes().all(|c| (b'1'..=b'9').contains(&c))
            && b.bytes().all(|c| c.is_ascii_digit())
    });
    if !pattern_ok {
        return Err(
            CodecError::value_syntax(format!("{v:?} is not an EPP version"))
                .with_offending(el.clone()),
        );
    }
    if v != "1.0" {
        return Err(CodecError::new(
            ErrorKind::UnimplementedProtocolVersion,
            format!("EPP version {v} is not implemented (only 1.0)"),
        )
        .with_offending(el.clone()));
    }
    Ok(v)
}

fn language(el: &Element) -> Result<String, CodecError> {
    el.only_attrs(&[])?;
    let v = el.token()?;
    if !super::types::is_language(&v) {
        return Err(
            CodecError::value_syntax(format!("{v:?} is not a language tag"))
                .with_offending(el.clone()),
        );
    }
    Ok(v)
}

impl Greeting {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let sv = c.required(&Ns::Epp, "svID")?;
        sv.only_attrs(&[])?;
        let sv_id = sv.normalized()?;
        if !(3..=64).contains(&sv_id.chars().count()) {
            return Err(CodecError::value_syntax("svID must be 3 to 64 characters"));
        }
        let sv_date = datetime_el(c.required(&Ns::Epp, "svDate")?)?;
        let menu = c.required(&Ns::Epp, "svcMenu")?;
        menu.only_attrs(&[])?;
        let mut mc = menu.element_children()?;
        let versions = mc
            .at_least_one(&Ns::Epp, "version", usize::MAX)?
            .into_iter()
            .map(version_token)
            .collect::<Result<_, _>>()?;
        let langs = mc
            .at_least_one(&Ns::Epp, "lang", usize::MAX)?
            .into_iter()
            .map(language)
            .collect::<Result<_, _>>()?;
        let obj_uris = uri_list(mc.at_least_one(&Ns::Epp, "objURI", usize::MAX)?)?;
        let ext_uris = parse_svc_extension(&mut mc)?;
        mc.finish()?;
        let dcp = Dcp::parse(c.required(&Ns::Epp, "dcp")?)?;
        c.finish()?;
        Ok(Self {
            sv_id,
            sv_date,
            versions,
            langs,
            obj_uris,
            ext_uris,
            dcp,
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        let e = &Ns::Epp;
        w.open(e, "greeting", &[]);
        w.leaf(e, "svID", &self.sv_id);
        w.leaf(e, "svDate", &format_datetime(&self.sv_date));
        w.open(e, "svcMenu", &[]);
        self.versions.iter().for_each(|v| w.leaf(e, "version", v));
        self.langs.iter().for_each(|v| w.leaf(e, "lang", v));
        self.obj_uris.iter().for_each(|v| w.leaf(e, "objURI", v));
        write_svc_extension(w, &self.ext_uris);
        w.close();
        self.dcp.write(w);
        w.close();
    }
}

impl Dcp {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        let e = &Ns::Epp;
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let access = enum_child(c.required(e, "access")?, &DCP_ACCESS)?;
        let mut statements = Vec::new();
        for s in c.at_least_one(e, "statement", usize::MAX)? {
            s.only_attrs(&[])?;
            let mut sc = s.element_children()?;
            let p = sc.required(e, "purpose")?;
            p.only_attrs(&[])?;
            let mut pc = p.element_children()?;
            let mut purposes = Vec::new();
            for name in ["admin", "contact", "other", "prov"] {
                if let Some(x) = pc.optional(e, name) {
                    x.expect_empty(&[])?;
                    purposes.push(name.to_string());
                }
            }
            pc.finish()?;
            let r = sc.required(e, "recipient")?;
            r.only_attrs(&[])?;
            let mut rc = r.element_children()?;
            let flag = |rc: &mut xml::Cursor<'_>, n: &str| -> Result<bool, CodecError> {
                match rc.optional(e, n) {
                    Some(x) => x.expect_empty(&[]).map(|()| true),
                    None => Ok(false),
                }
            };
            let other = flag(&mut rc, "other")?;
            let mut ours = Vec::new();
            for o in rc.many(e, "ours", usize::MAX)? {
                o.only_attrs(&[])?;
                let mut oc = o.element_children()?;
                let desc = match oc.optional(e, "recDesc") {
                    Some(d) => {
                        d.only_attrs(&[])?;
                        Some(d.token_len(1, 255)?)
                    }
                    None => None,
                };
                oc.finish()?;
                ours.push(desc);
            }
            let public = flag(&mut rc, "public")?;
            let same = flag(&mut rc, "same")?;
            let unrelated = flag(&mut rc, "unrelated")?;
            rc.finish()?;
            let retention = enum_child(sc.required(e, "retention")?, &DCP_RETENTION)?;
            sc.finish()?;
            statements.push(DcpStatement {
                purposes,
                recipients: DcpRecipients {
                    other,
                    ours,
                    public,
                    same,
                    unrelated,
                },
                retention,
            });
        }
        let expiry = match c.optional(e, "expiry") {
            Some(x) => {
                x.only_attrs(&[])?;
                let mut xc = x.element_children()?;
                let out = if let Some(a) = xc.optional(e, "absolute") {
                    DcpExpiry::Absolute(datetime_el(a)?)
                } else {
                    let r = xc.required(e, "relative")?;
                    DcpExpiry::Relative(super::types::XsDuration::parse(&r.token()?)?)
                };
                xc.finish()?;
                Some(out)
            }
            None => None,
        };
        c.finish()?;
        Ok(Self {
            access,
            statements,
            expiry,
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        let e = &Ns::Epp;
        w.open(e, "dcp", &[]);
        w.open(e, "access", &[]);
        w.empty(e, enum_name(&self.access, &DCP_ACCESS), &[]);
        w.close();
        for s in &self.statements {
            w.open(e, "statement", &[]);
            w.open(e, "purpose", &[]);
            s.purposes.iter().for_each(|p| w.empty(e, p, &[]));
            w.close();
            w.open(e, "recipient", &[]);
            let r = &s.recipients;
            if r.other {
                w.empty(e, "other", &[]);
            }
            for o in &r.ours {
                match o {
                    Some(d) => {
                        w.open(e, "ours", &[]);
                        w.leaf(e, "recDesc", d);
                        w.close();
                    }
                    None => w.empty(e, "ours", &[]),
                }
            }
            for (on, n) in [
                (r.public, "public"),
                (r.same, "same"),
                (r.unrelated, "unrelated"),
            ] {
                if on {
                    w.empty(e, n, &[]);
                }
            }
            w.close();
            w.open(e, "retention", &[]);
            w.empty(e, enum_name(&s.retention, &DCP_RETENTION), &[]);
            w.close();
            w.close();
        }
        if let Some(x) = &self.expiry {
            w.open(e, "expiry", &[]);
            match x {
                DcpExpiry::Absolute(t) => w.leaf(e, "absolute", &format_datetime(t)),
                DcpExpiry::Relative(d) => w.leaf(e, "relative", d.as_str()),
            }
            w.close();
        }
        w.close();
    }
}

/// Which object namespaces implement which services, for 2307 vs 2001.
fn object_of(el: &Element, command: &str) -> Result<Ns, CodecError> {
    let services: &[&str] = match el.ns {
        Ns::Domain => &[
            "check", "create", "delete", "info", "renew", "transfer", "update",
        ],
        Ns::Host => &["check", "create", "delete", "info", "update"],
        Ns::Contact => &["check", "create", "delete", "info", "transfer", "update"],
        Ns::KeyRelay => &["create"],
        _ => {
            return Err(CodecError::new(
                ErrorKind::UnimplementedObjectService,
                format!("no object service for <{}> in {}", command, el.ns),
            )
            .with_offending(el.clone()));
        }
    };
    if !services.contains(&command) {
        return Err(CodecError::new(
            ErrorKind::UnimplementedObjectService,
            format!("the {} mapping has no {command} service", el.ns),
        )
        .with_offending(el.clone()));
    }
    if el.name != command {
        return Err(CodecError::syntax(format!(
            "<{command}> must contain the object's <{command}> element, got <{}>",
            el.qname()
        ))
        .with_offending(el.clone()));
    }
    Ok(el.ns.clone())
}

impl Command {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        let e = &Ns::Epp;
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let cmd = c
            .next_any()
            .ok_or_else(|| CodecError::missing("<command> is empty"))?;
        if cmd.ns != Ns::Epp {
            return Err(CodecError::new(
                ErrorKind::UnknownCommand,
                format!("<{}> is not an EPP command", cmd.qname()),
            ));
        }
        let kind = match cmd.name.as_str() {
            "login" => CommandKind::Login(Login::parse(cmd)?),
            "logout" => {
                cmd.expect_empty(&[])?;
                CommandKind::Logout
            }
            "poll" => {
                cmd.expect_empty(&["op", "msgID"])?;
                match cmd.attr("op").map(str::trim) {
                    Some("req") => CommandKind::Poll(Poll::Req),
                    Some("ack") => {
                        let id = cmd.attr("msgID").map(str::trim).unwrap_or("");
                        if id.is_empty() {
                            return Err(CodecError::missing("<poll op=\"ack\"> requires msgID"));
                        }
                        CommandKind::Poll(Poll::Ack {
                            msg_id: tree::collapse_whitespace(id),
                        })
                    }
                    Some(other) => {
                        return Err(CodecError::value_syntax(format!(
                            "poll op must be req or ack, got {other:?}"
                        ))
                        .with_offending(cmd.clone()));
                    }
                    None => return Err(CodecError::missing("<poll> requires the op attribute")),
                }
            }
            "check" | "info" | "create" | "update" | "delete" | "renew" | "transfer" => {
                let allowed: &[&str] = if cmd.name == "transfer" { &["op"] } else { &[] };
                cmd.only_attrs(allowed)?;
                let mut oc = cmd.element_children()?;
                let obj = oc.next_any().ok_or_else(|| {
                    CodecError::missing(format!("<{}> requires an object element", cmd.name))
                })?;
                oc.finish()?;
                parse_object_command(&cmd.name, cmd, obj)?
            }
            other => {
                return Err(CodecError::new(
                    ErrorKind::UnknownCommand,
                    format!("<{other}> is not an EPP command"),
                ));
            }
        };
        let extensions = match c.optional(e, "extension") {
            Some(x) => parse_command_extensions(x)?,
            None => Vec::new(),
        };
        let cl_trid = c.optional(e, "clTRID").map(trid_string).transpose()?;
        c.finish()?;
        Ok(Self {
            kind,
            extensions,
            cl_trid,
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        let e = &Ns::Epp;
        w.open(e, "command", &[]);
        match &self.kind {
            CommandKind::Login(l) => l.write(w),
            CommandKind::Logout => w.empty(e, "logout", &[]),
            CommandKind::Poll(Poll::Req) => w.empty(e, "poll", &[("op", "req")]),
            CommandKind::Poll(Poll::Ack { msg_id }) => {
                w.empty(e, "poll", &[("op", "ack"), ("msgID", msg_id)]);
            }
            CommandKind::Check(c) => {
                w.open(e, "check", &[]);
                match c {
                    Check::Domain(n) => write_idents(w, &Ns::Domain, "check", "name", n),
                    Check::Host(n) => write_idents(w, &Ns::Host, "check", "name", n),
                    Check::Contact(n) => write_idents(w, &Ns::Contact, "check", "id", n),
                }
                w.close();
            }
            CommandKind::Info(i) => {
                w.open(e, "info", &[]);
                match i {
                    Info::Domain(d) => d.write(w),
                    Info::Host(n) => {
                        write_idents(w, &Ns::Host, "info", "name", std::slice::from_ref(n));
                    }
                    Info::Contact(c) => c.write(w, "info"),
                }
                w.close();
            }
            CommandKind::Create(c) => {
                w.open(e, "create", &[]);
                match c {
                    Create::Domain(d) => d.write(w),
                    Create::Host(h) => h.write(w),
                    Create::Contact(c) => c.write(w),
                    Create::KeyRelay(k) => k.write(w),
                }
                w.close();
            }
            CommandKind::Update(u) => {
                w.open(e, "update", &[]);
                match u {
                    Update::Domain(d) => d.write(w),
                    Update::Host(h) => h.write(w),
                    Update::Contact(c) => c.write(w),
                }
                w.close();
            }
            CommandKind::Delete(d) => {
                w.open(e, "delete", &[]);
                let (ns, key, v) = match d {
                    Delete::Domain(n) => (Ns::Domain, "name", n),
                    Delete::Host(n) => (Ns::Host, "name", n),
                    Delete::Contact(n) => (Ns::Contact, "id", n),
                };
                write_idents(w, &ns, "delete", key, std::slice::from_ref(v));
                w.close();
            }
            CommandKind::Renew(r) => {
                w.open(e, "renew", &[]);
                r.write(w);
                w.close();
            }
            CommandKind::Transfer(op, t) => {
                w.open(e, "transfer", &[("op", op.as_str())]);
                match t {
                    Transfer::Domain(d) => d.write(w),
                    Transfer::Contact(c) => c.write(w, "transfer"),
                }
                w.close();
            }
        }
        if !self.extensions.is_empty() {
            w.open(e, "extension", &[]);
            for x in &self.extensions {
                match x {
                    CommandExtension::SecDnsCreate(s) => s.write(w, "create"),
                    CommandExtension::SecDnsUpdate(u) => u.write(w),
                    CommandExtension::Sidn(s) => s.write(w),
                    CommandExtension::ScheduledDelete(s) => s.write(w),
                }
            }
            w.close();
        }
        if let Some(t) = &self.cl_trid {
            w.leaf(e, "clTRID", t);
        }
        w.close();
    }
}

fn parse_object_command(
    command: &str,
    cmd_el: &Element,
    obj: &Element,
) -> Result<CommandKind, CodecError> {
    let ns = object_of(obj, command)?;
    Ok(match (command, ns) {
        ("check", Ns::Domain) => {
            CommandKind::Check(Check::Domain(parse_idents(obj, &Ns::Domain, "name")?))
        }
        ("check", Ns::Host) => {
            CommandKind::Check(Check::Host(parse_idents(obj, &Ns::Host, "name")?))
        }
        ("check", Ns::Contact) => {
            CommandKind::Check(Check::Contact(parse_idents(obj, &Ns::Contact, "id")?))
        }
        ("info", Ns::Domain) => CommandKind::Info(Info::Domain(domain::Info::parse(obj)?)),
        ("info", Ns::Host) => CommandKind::Info(Info::Host(parse_ident(obj, &Ns::Host, "name")?)),
        ("info", Ns::Contact) => CommandKind::Info(Info::Contact(contact::AuthId::parse(obj)?)),
        ("create", Ns::Domain) => CommandKind::Create(Create::Domain(domain::Create::parse(obj)?)),
        ("create", Ns::Host) => CommandKind::Create(Create::Host(host::Create::parse(obj)?)),
        ("create", Ns::Contact) => {
            CommandKind::Create(Create::Contact(contact::Create::parse(obj)?))
        }
        ("create", Ns::KeyRelay) => {
            CommandKind::Create(Create::KeyRelay(keyrelay::Create::parse(obj)?))
        }
        ("update", Ns::Domain) => CommandKind::Update(Update::Domain(domain::Update::parse(obj)?)),
        ("update", Ns::Host) => CommandKind::Update(Update::Host(host::Update::parse(obj)?)),
        ("update", Ns::Contact) => {
            CommandKind::Update(Update::Contact(contact::Update::parse(obj)?))
        }
        ("delete", Ns::Domain) => {
            CommandKind::Delete(Delete::Domain(parse_ident(obj, &Ns::Domain, "name")?))
        }
        ("delete", Ns::Host) => {
            CommandKind::Delete(Delete::Host(parse_ident(obj, &Ns::Host, "name")?))
        }
        ("delete", Ns::Contact) => {
            CommandKind::Delete(Delete::Contact(parse_ident(obj, &Ns::Contact, "id")?))
        }
        ("renew", Ns::Domain) => CommandKind::Renew(domain::Renew::parse(obj)?),
        ("transfer", ns) => {
            let op = match cmd_el.attr("op").map(str::trim) {
                Some("approve") => TransferOp::Approve,
                Some("cancel") => TransferOp::Cancel,
                Some("query") => TransferOp::Query,
                Some("reject") => TransferOp::Reject,
                Some("request") => TransferOp::Request,
                Some(other) => {
                    return Err(CodecError::value_syntax(format!(
                        "transfer op must be approve, cancel, query, reject or request, got {other:?}"
                    ))
                    .with_offending(cmd_el.clone()));
                }
                None => return Err(CodecError::missing("<transfer> requires the op attribute")),
            };
            let t = if ns == Ns::Domain {
                Transfer::Domain(domain::Transfer::parse(obj)?)
            } else {
                Transfer::Contact(contact::AuthId::parse(obj)?)
            };
            CommandKind::Transfer(op, t)
        }
        (c, ns) => {
            // object_of() only lets through the services listed for each namespace.
            return Err(CodecError::new(
                ErrorKind::UnimplementedObjectService,
                format!("the {ns} mapping has no {c} service"),
            ));
        }
    })
}

fn parse_command_extensions(x: &Element) -> Result<Vec<CommandExtension>, CodecError> {
    x.only_attrs(&[])?;
    let mut c = x.element_children()?;
    let items = c.rest();
    if items.is_empty() {
        return Err(CodecError::syntax(
            "<extension> must contain at least one element",
        ));
    }
    let mut out = Vec::new();
    let mut seen: Vec<&Element> = Vec::new();
    for el in items {
        // Any element in any namespace, known or not, at most once (see
        // `CommandExtension::check_unique` for why).
        if seen.iter().any(|s| s.ns == el.ns && s.name == el.name) {
            return Err(repeated_extension(&el.qname()).with_offending(el.clone()));
        }
        seen.push(el);
        let ext = match (&el.ns, el.name.as_str()) {
            (Ns::SecDns, "create") => {
                CommandExtension::SecDnsCreate(secdns::DsOrKeySet::parse(el)?)
            }
            (Ns::SecDns, "update") => CommandExtension::SecDnsUpdate(secdns::Update::parse(el)?),
            (Ns::Sidn, "ext") => CommandExtension::Sidn(sidn::Ext::parse(el)?),
            (Ns::SidnScheduledDelete, "update") => {
                CommandExtension::ScheduledDelete(sidn::ScheduledDelete::parse(el)?)
            }
            (
                Ns::SecDns
                | Ns::Sidn
                | Ns::SidnScheduledDelete
                | Ns::KeyRelayReceipt
                | Ns::ChangePoll,
                _,
            ) => {
                return Err(CodecError::syntax(format!(
                    "<{}> is not a command extension element",
                    el.qname()
                ))
                .with_offending(el.clone()));
            }
            (Ns::Epp | Ns::None, _) => {
                return Err(CodecError::syntax(format!(
                    "<{}> is not allowed in <extension>",
                    el.qname()
                )));
            }
            (ns, _) => {
                return Err(CodecError::new(
                    ErrorKind::UnimplementedExtension,
                    format!("extension {ns} is not implemented"),
                )
                .with_offending(el.clone()));
            }
        };
        out.push(ext);
    }
    c.finish()?;
    Ok(out)
}

impl Login {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        let e = &Ns::Epp;
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let cl_id = super::types::clid_el(c.required(e, "clID")?)?;
        let pw_el = c.required(e, "pw")?;
        pw_el.only_attrs(&[])?;
        let pw = pw_el.token_len(6, 16)?;
        let new_pw = match c.optional(e, "newPW") {
            Some(n) => {
                n.only_attrs(&[])?;
                Some(n.token_len(6, 16)?)
            }
            None => None,
        };
        let opts = c.required(e, "options")?;
        opts.only_attrs(&[])?;
        let mut oc = opts.element_children()?;
        let version = version_token(oc.required(e, "version")?)?;
        let lang = language(oc.required(e, "lang")?)?;
        oc.finish()?;
        let svcs = c.required(e, "svcs")?;
        svcs.only_attrs(&[])?;
        let mut sc = svcs.element_children()?;
        let obj_uris = uri_list(sc.at_least_one(e, "objURI", usize::MAX)?)?;
        let ext_uris = parse_svc_extension(&mut sc)?;
        sc.finish()?;
        c.finish()?;
        Ok(Self {
            cl_id,
            pw,
            new_pw,
            version,
            lang,
            obj_uris,
            ext_uris,
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        let e = &Ns::Epp;
        w.open(e, "login", &[]);
        w.leaf(e, "clID", &self.cl_id);
        w.leaf(e, "pw", &self.pw);
        if let Some(n) = &self.new_pw {
            w.leaf(e, "newPW", n);
        }
        w.open(e, "options", &[]);
        w.leaf(e, "version", &self.version);
        w.leaf(e, "lang", &self.lang);
        w.close();
        w.open(e, "svcs", &[]);
        self.obj_uris.iter().for_each(|u| w.leaf(e, "objURI", u));
        write_svc_extension(w, &self.ext_uris);
        w.close();
        w.close();
    }
}

impl Response {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        let e = &Ns::Epp;
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let results = c
            .at_least_one(e, "result", usize::MAX)?
            .into_iter()
            .map(EppResult::parse)
            .collect::<Result<_, _>>()?;
        let msg_q = c.optional(e, "msgQ").map(MsgQ::parse).transpose()?;
        let res_data = c.optional(e, "resData").map(ResData::parse).transpose()?;
        let extensions = match c.optional(e, "extension") {
            Some(x) => parse_response_extensions(x)?,
            None => Vec::new(),
        };
        let tr_id = TrId::parse(c.required(e, "trID")?)?;
        c.finish()?;
        Ok(Self {
            results,
            msg_q,
            res_data,
            extensions,
            tr_id,
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        let e = &Ns::Epp;
        w.open(e, "response", &[]);
        self.results.iter().for_each(|r| r.write(w));
        if let Some(q) = &self.msg_q {
            q.write(w);
        }
        if let Some(d) = &self.res_data {
            d.write(w);
        }
        if !self.extensions.is_empty() {
            w.open(e, "extension", &[]);
            for x in &self.extensions {
                x.write(w);
            }
            w.close();
        }
        self.tr_id.write(w, e, "trID");
        w.close();
    }
}

fn parse_response_extensions(x: &Element) -> Result<Vec<ResponseExtension>, CodecError> {
    x.only_attrs(&[])?;
    let mut c = x.element_children()?;
    let items = c.rest();
    if items.is_empty() {
        return Err(CodecError::syntax(
            "<extension> must contain at least one element",
        ));
    }
    let mut out = Vec::new();
    let mut seen: Vec<&Element> = Vec::new();
    for el in items {
        // A client must not merge or drop either (RFC 5910 §5.1.2: one `<secDNS:infData>`
        // holds every key of the domain).
        if seen.iter().any(|s| s.ns == el.ns && s.name == el.name) {
            return Err(repeated_extension(&el.qname()).with_offending(el.clone()));
        }
        seen.push(el);
        out.push(match (&el.ns, el.name.as_str()) {
            (Ns::SecDns, "infData") => {
                ResponseExtension::SecDnsInfo(secdns::DsOrKeySet::parse(el)?)
            }
            (Ns::Sidn, "ext") => ResponseExtension::Sidn(sidn::Ext::parse(el)?),
            (Ns::KeyRelayReceipt, "receipt") => {
                ResponseExtension::KeyRelayReceipt(Box::new(receipt::Receipt::parse(el)?))
            }
            (Ns::ChangePoll, "changeData") => {
                ResponseExtension::ChangePoll(Box::new(changepoll::ChangeData::parse(el)?))
            }
            _ => {
                return Err(CodecError::new(
                    ErrorKind::UnimplementedExtension,
                    format!("response extension <{}> is not implemented", el.qname()),
                ));
            }
        });
    }
    c.finish()?;
    Ok(out)
}

impl EppResult {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        let e = &Ns::Epp;
        el.only_attrs(&["code"])?;
        let code_s = el
            .attr("code")
            .ok_or_else(|| CodecError::missing("<result> requires the code attribute"))?;
        let n = super::types::parse_uint("result code", code_s.trim(), 0, u64::from(u16::MAX))?;
        let code = ResultCode::from_code(n as u16)
            .ok_or_else(|| CodecError::value_syntax(format!("{n} is not an EPP result code")))?;
        let mut c = el.element_children()?;
        let msg = Text::parse_normalized(c.required(e, "msg")?)?;
        let mut values = Vec::new();
        while let Some(v) = c.peek() {
            if v.is(e, "value") {
                c.next_any();
                values.push(ResultValue::Value(value_content(v)?));
            } else if v.is(e, "extValue") {
                c.next_any();
                v.only_attrs(&[])?;
                let mut vc = v.element_children()?;
                let value = value_content(vc.required(e, "value")?)?;
                let reason = Text::parse_normalized(vc.required(e, "reason")?)?;
                vc.finish()?;
                values.push(ResultValue::ExtValue { value, reason });
            } else {
                break;
            }
        }
        c.finish()?;
        Ok(Self { code, msg, values })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        let e = &Ns::Epp;
        // Result codes are four digits (RFC 5730 §3).
        let n = self.code.code();
        let digits = [n / 1000, n / 100 % 10, n / 10 % 10, n % 10].map(|d| b'0' + (d % 10) as u8);
        let code = std::str::from_utf8(&digits).expect("invariant: ASCII digits are UTF-8");
        w.open(e, "result", &[("code", code)]);
        self.msg.write(w, e, "msg");
        for v in &self.values {
            match v {
                ResultValue::Value(x) => {
                    w.open(e, "value", &[]);
                    w.element(x);
                    w.close();
                }
                ResultValue::ExtValue { value, reason } => {
                    w.open(e, "extValue", &[]);
                    w.open(e, "value", &[]);
                    w.element(value);
                    w.close();
                    reason.write(w, e, "reason");
                    w.close();
                }
            }
        }
        w.close();
    }
}

/// The one element inside `<value>` (`epp:errValueType`: mixed, exactly one element).
fn value_content(v: &Element) -> Result<Element, CodecError> {
    let mut elements = v.children.iter().filter_map(|n| match n {
        Node::Element(e) => Some(e),
        Node::Text(_) => None,
    });
    let first = elements
        .next()
        .ok_or_else(|| CodecError::missing("<value> must contain an element"))?;
    if elements.next().is_some() {
        return Err(CodecError::syntax(
            "<value> must contain exactly one element",
        ));
    }
    Ok(first.clone())
}

impl MsgQ {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        let e = &Ns::Epp;
        el.only_attrs(&["count", "id"])?;
        let count = super::types::parse_uint(
            "msgQ count",
            el.attr("count")
                .ok_or_else(|| CodecError::missing("<msgQ> requires count"))?
                .trim(),
            0,
            u64::MAX,
        )?;
        let id = tree::collapse_whitespace(
            el.attr("id")
                .ok_or_else(|| CodecError::missing("<msgQ> requires id"))?,
        );
        if id.is_empty() {
            return Err(CodecError::value_syntax("<msgQ> id must not be empty"));
        }
        let mut c = el.element_children()?;
        let q_date = c.optional(e, "qDate").map(datetime_el).transpose()?;
        let msg = match c.optional(e, "msg") {
            Some(m) => {
                m.only_attrs(&["lang"])?;
                // mixedMsgType may carry elements; the text is what clients display.
                let text: String = m
                    .children
                    .iter()
                    .filter_map(|n| match n {
                        Node::Text(t) => Some(t.as_str()),
                        Node::Element(_) => None,
                    })
                    .collect();
                Some(Text {
                    text,
                    lang: m.attr("lang").map(str::to_string),
                })
            }
            None => None,
        };
        c.finish()?;
        Ok(Self {
            count,
            id,
            q_date,
            msg,
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        let e = &Ns::Epp;
        let count = self.count.to_string();
        let attrs = [("count", count.as_str()), ("id", self.id.as_str())];
        if self.q_date.is_none() && self.msg.is_none() {
            w.empty(e, "msgQ", &attrs);
            return;
        }
        w.open(e, "msgQ", &attrs);
        if let Some(d) = &self.q_date {
            w.leaf(e, "qDate", &format_datetime(d));
        }
        if let Some(m) = &self.msg {
            m.write(w, e, "msg");
        }
        w.close();
    }
}

impl ResData {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let d = c
            .next_any()
            .ok_or_else(|| CodecError::missing("<resData> must contain an element"))?;
        c.finish()?;
        Ok(match (&d.ns, d.name.as_str()) {
            (Ns::Domain, "chkData") => {
                Self::DomainCheck(CheckResult::parse_list(d, &Ns::Domain, "name")?)
            }
            (Ns::Domain, "creData") => Self::DomainCreate(domain::CreData::parse(d)?),
            (Ns::Domain, "infData") => Self::DomainInfo(Box::new(domain::InfData::parse(d)?)),
            (Ns::Domain, "panData") => Self::DomainPending(PanData::parse(d, &Ns::Domain, "name")?),
            (Ns::Domain, "renData") => Self::DomainRenew(domain::RenData::parse(d)?),
            (Ns::Domain, "trnData") => {
                Self::DomainTransfer(domain::TrnData::parse(d, &Ns::Domain, "name")?)
            }
            (Ns::Host, "chkData") => {
                Self::HostCheck(CheckResult::parse_list(d, &Ns::Host, "name")?)
            }
            (Ns::Host, "creData") => Self::HostCreate(host::CreData::parse(d)?),
            (Ns::Host, "infData") => Self::HostInfo(Box::new(host::InfData::parse(d)?)),
            (Ns::Host, "panData") => Self::HostPending(PanData::parse(d, &Ns::Host, "name")?),
            (Ns::Contact, "chkData") => {
                Self::ContactCheck(CheckResult::parse_list(d, &Ns::Contact, "id")?)
            }
            (Ns::Contact, "creData") => Self::ContactCreate(contact::CreData::parse(d)?),
            (Ns::Contact, "infData") => Self::ContactInfo(Box::new(contact::InfData::parse(d)?)),
            (Ns::Contact, "panData") => {
                Self::ContactPending(PanData::parse(d, &Ns::Contact, "id")?)
            }
            (Ns::Contact, "trnData") => {
                Self::ContactTransfer(contact::TrnData::parse(d, &Ns::Contact, "id")?)
            }
            (Ns::KeyRelay, "infData") => Self::KeyRelay(Box::new(keyrelay::InfData::parse(d)?)),
            (Ns::Sidn, "pollData") => Self::SidnPoll(Box::new(SidnPollData::parse(d)?)),
            _ => {
                return Err(CodecError::syntax(format!(
                    "unsupported response data <{}>",
                    d.qname()
                )));
            }
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&Ns::Epp, "resData", &[]);
        match self {
            Self::DomainCheck(l) => CheckResult::write_list(l, w, &Ns::Domain, "name"),
            Self::DomainCreate(d) => d.write(w),
            Self::DomainInfo(d) => d.write(w),
            Self::DomainPending(p) => p.write(w, &Ns::Domain, "name"),
            Self::DomainRenew(d) => d.write(w),
            Self::DomainTransfer(d) => d.write(w, &Ns::Domain, "name"),
            Self::HostCheck(l) => CheckResult::write_list(l, w, &Ns::Host, "name"),
            Self::HostCreate(d) => d.write(w),
            Self::HostInfo(d) => d.write(w),
            Self::HostPending(p) => p.write(w, &Ns::Host, "name"),
            Self::ContactCheck(l) => CheckResult::write_list(l, w, &Ns::Contact, "id"),
            Self::ContactCreate(d) => d.write(w),
            Self::ContactInfo(d) => d.write(w),
            Self::ContactPending(p) => p.write(w, &Ns::Contact, "id"),
            Self::ContactTransfer(d) => d.write(w, &Ns::Contact, "id"),
            Self::KeyRelay(d) => d.write(w),
            Self::SidnPoll(d) => d.write(w),
        }
        w.close();
    }
}

/// A SIDN poll message payload: the command that caused it and an embedded result
/// (`<sidn-ext-epp:pollData>`), e.g. for a completed transfer.
///
/// It lives here rather than in [`sidn`] because it embeds an EPP result and response data:
/// the SIDN mapping sits below the message layer and never refers back to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidnPollData {
    /// The command, e.g. `domain:transfer`.
    pub command: String,
    /// The embedded result.
    pub result: EppResult,
    /// The embedded response data, e.g. `domain:trnData`.
    pub res_data: Option<Box<ResData>>,
    /// The embedded transaction ids.
    pub tr_id: TrId,
}

impl SidnPollData {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let cmd = c.required(&Ns::Sidn, "command")?;
        cmd.only_attrs(&[])?;
        let command = cmd.token_len(1, 255)?;
        let data = c.required(&Ns::Sidn, "data")?;
        c.finish()?;
        data.only_attrs(&[])?;
        let mut dc = data.element_children()?;
        let result = EppResult::parse(dc.required(&Ns::Epp, "result")?)?;
        let res_data = dc
            .optional(&Ns::Epp, "resData")
            .map(ResData::parse)
            .transpose()?
            .map(Box::new);
        let tr_id = TrId::parse(dc.required(&Ns::Epp, "trID")?)?;
        dc.finish()?;
        Ok(Self {
            command,
            result,
            res_data,
            tr_id,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&Ns::Sidn, "pollData", &[]);
        w.leaf(&Ns::Sidn, "command", &self.command);
        w.open(&Ns::Sidn, "data", &[]);
        self.result.write(w);
        if let Some(r) = &self.res_data {
            r.write(w);
        }
        self.tr_id.write(w, &Ns::Epp, "trID");
        w.close();
        w.close();
    }
}
