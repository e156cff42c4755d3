//! Why the registry refused a command: the EPP result code, and the SIDN-style error detail
//! (`<sidn-ext-epp:msg code field>`) every error response carries.
//!
//! SIDN's own catalogue of detail codes is not public. The mock's detail codes are its own:
//! one letter for the area followed by the four digits of the result code, e.g. `T2202` (a
//! transfer refused for a wrong token) or `K2306` (key data refused by policy). The letters are
//! listed on [`Area`]. Registrar code must act on the EPP result code; the detail is for
//! people and logs, as it is at SIDN.

use epp::sidn::ErrorDetail;
use epp::xml::Element;
use epp::{CodecError, ResultCode};

/// The part of the registry a refusal comes from (the first letter of the detail code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `C`: the frame itself (syntax, schema, unknown command or extension).
    Codec,
    /// `S`: the session (login, sequencing, services announced at login).
    Session,
    /// `A`: authorization (another registrar's object).
    Authorization,
    /// `D`: domain rules.
    Domain,
    /// `H`: host rules.
    Host,
    /// `P`: contact (person) rules.
    Contact,
    /// `K`: DNSSEC key data.
    Keys,
    /// `R`: key relay (RFC 8063).
    KeyRelay,
    /// `T`: transfers.
    Transfer,
    /// `Q`: the poll queue.
    Queue,
    /// `X`: not a rule at all: an answer the server's chaos knobs injected
    /// ([`crate::server::Chaos`]); the command was not executed.
    Chaos,
}

impl Area {
    fn letter(self) -> char {
        match self {
            Self::Codec => 'C',
            Self::Session => 'S',
            Self::Authorization => 'A',
            Self::Domain => 'D',
            Self::Host => 'H',
            Self::Contact => 'P',
            Self::Keys => 'K',
            Self::KeyRelay => 'R',
            Self::Transfer => 'T',
            Self::Queue => 'Q',
            Self::Chaos => CHAOS_LETTER,
        }
    }
}

/// The first letter of the detail code of every answer chaos injected: a log reader tells
/// chaos from a rule by it.
pub const CHAOS_LETTER: char = 'X';

/// A refused command: nothing in the registry changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The EPP result code.
    pub code: ResultCode,
    /// The area, for the detail code.
    pub area: Area,
    /// The element the refusal is about (e.g. `domain:name`), if any.
    pub field: Option<String>,
    /// What is wrong, for people.
    pub text: String,
    /// The client's element that caused it, echoed in `<extValue>` (RFC 5730 §2.6). Boxed so
    /// a `Result<_, Refusal>` stays small on the happy path (clippy `result_large_err`).
    pub value: Option<Box<Element>>,
}

impl Refusal {
    /// A refusal with a code, an area and an explanation.
    pub fn new(code: ResultCode, area: Area, text: impl Into<String>) -> Self {
        Self {
            code,
            area,
            field: None,
            text: text.into(),
            value: None,
        }
    }

    /// Names the element at fault.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Attaches the offending client element.
    pub fn value(mut self, value: Element) -> Self {
        self.value = Some(Box::new(value));
        self
    }

    /// The SIDN-style detail for the response extension.
    pub fn detail(&self) -> ErrorDetail {
        ErrorDetail {
            code: format!("{}{}", self.area.letter(), self.code.code()),
            field: self.field.clone(),
            text: self.text.clone(),
        }
    }

    /// The refusal for a frame the codec rejected.
    pub fn from_codec(e: &CodecError) -> Self {
        let mut r = Self::new(e.result_code(), Area::Codec, e.reason.clone());
        if let Some(el) = &e.offending {
            r.field = Some(el.qname());
            r.value = Some(el.clone());
        }
        r
    }

    // Shorthands for the refusals every command can give.

    /// 2303: the object does not exist.
    pub fn not_found(area: Area, what: &str, name: &str) -> Self {
        Self::new(
            ResultCode::ObjectDoesNotExist,
            area,
            format!("{what} {name} does not exist"),
        )
    }

    /// 2201: another registrar's object.
    pub fn not_sponsor(what: &str, name: &str) -> Self {
        Self::new(
            ResultCode::AuthorizationError,
            Area::Authorization,
            format!("{what} {name} is sponsored by another registrar"),
        )
    }

    /// 2306: a value the policy does not allow.
    pub fn policy(area: Area, text: impl Into<String>) -> Self {
        Self::new(ResultCode::ParameterValuePolicyError, area, text)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]: {}", self.code, self.detail().code, self.text)
    }
}
