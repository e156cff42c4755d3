//! Result codes (RFC 5730 §3) and the codec's typed rejection, which maps to one of them.

use std::fmt;

use super::tree::Element;

/// An EPP result code (RFC 5730 §3), with the RFC's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ResultCode {
    /// 1000 Command completed successfully.
    Success,
    /// 1001 Command completed successfully; action pending.
    SuccessPending,
    /// 1300 Command completed successfully; no messages.
    SuccessNoMessages,
    /// 1301 Command completed successfully; ack to dequeue.
    SuccessAckToDequeue,
    /// 1500 Command completed successfully; ending session.
    SuccessEndingSession,
    /// 2000 Unknown command.
    UnknownCommand,
    /// 2001 Command syntax error.
    CommandSyntaxError,
    /// 2002 Command use error.
    CommandUseError,
    /// 2003 Required parameter missing.
    RequiredParameterMissing,
    /// 2004 Parameter value range error.
    ParameterValueRangeError,
    /// 2005 Parameter value syntax error.
    ParameterValueSyntaxError,
    /// 2100 Unimplemented protocol version.
    UnimplementedProtocolVersion,
    /// 2101 Unimplemented command.
    UnimplementedCommand,
    /// 2102 Unimplemented option.
    UnimplementedOption,
    /// 2103 Unimplemented extension.
    UnimplementedExtension,
    /// 2104 Billing failure.
    BillingFailure,
    /// 2105 Object is not eligible for renewal.
    ObjectNotEligibleForRenewal,
    /// 2106 Object is not eligible for transfer.
    ObjectNotEligibleForTransfer,
    /// 2200 Authentication error.
    AuthenticationError,
    /// 2201 Authorization error.
    AuthorizationError,
    /// 2202 Invalid authorization information.
    InvalidAuthorizationInformation,
    /// 2300 Object pending transfer.
    ObjectPendingTransfer,
    /// 2301 Object not pending transfer.
    ObjectNotPendingTransfer,
    /// 2302 Object exists.
    ObjectExists,
    /// 2303 Object does not exist.
    ObjectDoesNotExist,
    /// 2304 Object status prohibits operation.
    ObjectStatusProhibitsOperation,
    /// 2305 Object association prohibits operation.
    ObjectAssociationProhibitsOperation,
    /// 2306 Parameter value policy error.
    ParameterValuePolicyError,
    /// 2307 Unimplemented object service.
    UnimplementedObjectService,
    /// 2308 Data management policy violation.
    DataManagementPolicyViolation,
    /// 2400 Command failed.
    CommandFailed,
    /// 2500 Command failed; server closing connection.
    CommandFailedServerClosingConnection,
    /// 2501 Authentication error; server closing connection.
    AuthenticationErrorServerClosingConnection,
    /// 2502 Session limit exceeded; server closing connection.
    SessionLimitExceededServerClosingConnection,
}

impl ResultCode {
    /// Every code, in numeric order.
    pub const ALL: [Self; 34] = [
        Self::Success,
        Self::SuccessPending,
        Self::SuccessNoMessages,
        Self::SuccessAckToDequeue,
        Self::SuccessEndingSession,
        Self::UnknownCommand,
        Self::CommandSyntaxError,
        Self::CommandUseError,
        Self::RequiredParameterMissing,
        Self::ParameterValueRangeError,
        Self::ParameterValueSyntaxError,
        Self::UnimplementedProtocolVersion,
        Self::UnimplementedCommand,
        Self::UnimplementedOption,
        Self::UnimplementedExtension,
        Self::BillingFailure,
        Self::ObjectNotEligibleForRenewal,
        Self::ObjectNotEligibleForTransfer,
        Self::AuthenticationError,
        Self::AuthorizationError,
        Self::InvalidAuthorizationInformation,
        Self::ObjectPendingTransfer,
        Self::ObjectNotPendingTransfer,
        Self::ObjectExists,
        Self::ObjectDoesNotExist,
        Self::ObjectStatusProhibitsOperation,
        Self::ObjectAssociationProhibitsOperation,
        Self::ParameterValuePolicyError,
        Self::UnimplementedObjectService,
        Self::DataManagementPolicyViolation,
        Self::CommandFailed,
        Self::CommandFailedServerClosingConnection,
        Self::AuthenticationErrorServerClosingConnection,
        Self::SessionLimitExceededServerClosingConnection,
    ];

    /// The four-digit code.
    pub fn code(self) -> u16 {
        match self {
            Self::Success => 1000,
            Self::SuccessPending => 1001,
            Self::SuccessNoMessages => 1300,
            Self::SuccessAckToDequeue => 1301,
            Self::SuccessEndingSession => 1500,
            Self::UnknownCommand => 2000,
            Self::CommandSyntaxError => 2001,
            Self::CommandUseError => 2002,
            Self::RequiredParameterMissing => 2003,
            Self::ParameterValueRangeError => 2004,
            Self::ParameterValueSyntaxError => 2005,
            Self::UnimplementedProtocolVersion => 2100,
            Self::UnimplementedCommand => 2101,
            Self::UnimplementedOption => 2102,
            Self::UnimplementedExtension => 2103,
            Self::BillingFailure => 2104,
            Self::ObjectNotEligibleForRenewal => 2105,
            Self::ObjectNotEligibleForTransfer => 2106,
            Self::AuthenticationError => 2200,
            Self::AuthorizationError => 2201,
            Self::InvalidAuthorizationInformation => 2202,
            Self::ObjectPendingTransfer => 2300,
            Self::ObjectNotPendingTransfer => 2301,
            Self::ObjectExists => 2302,
            Self::ObjectDoesNotExist => 2303,
            Self::ObjectStatusProhibitsOperation => 2304,
            Self::ObjectAssociationProhibitsOperation => 2305,
            Self::ParameterValuePolicyError => 2306,
            Self::UnimplementedObjectService => 2307,
            Self::DataManagementPolicyViolation => 2308,
            Self::CommandFailed => 2400,
            Self::CommandFailedServerClosingConnection => 2500,
            Self::AuthenticationErrorServerClosingConnection => 2501,
            Self::SessionLimitExceededServerClosingConnection => 2502,
        }
    }

    /// The code for a number, if RFC 5730 defines it.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The RFC 5730 §3 text for this code.
    pub fn message(self) -> &'static str {
        match self {
            Self::Success => "Command completed successfully",
            Self::SuccessPending => "Command completed successfully; action pending",
            Self::SuccessNoMessages => "Command completed successfully; no messages",
            Self::SuccessAckToDequeue => "Command completed successfully; ack to dequeue",
            Self::SuccessEndingSession => "Command completed successfully; ending session",
            Self::UnknownCommand => "Unknown command",
            Self::CommandSyntaxError => "Command syntax error",
            Self::CommandUseError => "Command use error",
            Self::RequiredParameterMissing => "Required parameter missing",
            Self::ParameterValueRangeError => "Parameter value range error",
            Self::ParameterValueSyntaxError => "Parameter value syntax error",
            Self::UnimplementedProtocolVersion => "Unimplemented protocol version",
            Self::UnimplementedCommand => "Unimplemented command",
            Self::UnimplementedOption => "Unimplemented option",
            Self::UnimplementedExtension => "Unimplemented extension",
            Self::BillingFailure => "Billing failure",
            Self::ObjectNotEligibleForRenewal => "Object is not eligible for renewal",
            Self::ObjectNotEligibleForTransfer => "Object is not eligible for transfer",
            Self::AuthenticationError => "Authentication error",
            Self::AuthorizationError => "Authorization error",
            Self::InvalidAuthorizationInformation => "Invalid authorization information",
            Self::ObjectPendingTransfer => "Object pending transfer",
            Self::ObjectNotPendingTransfer => "Object not pending transfer",
            Self::ObjectExists => "Object exists",
            Self::ObjectDoesNotExist => "Object does not exist",
            Self::ObjectStatusProhibitsOperation => "Object status prohibits operation",
            Self::ObjectAssociationProhibitsOperation => "Object association prohibits operation",
            Self::ParameterValuePolicyError => "Parameter value policy error",
            Self::UnimplementedObjectService => "Unimplemented object service",
            Self::DataManagementPolicyViolation => "Data management policy violation",
            Self::CommandFailed => "Command failed",
            Self::CommandFailedServerClosingConnection => {
                "Command failed; server closing connection"
            }
            Self::AuthenticationErrorServerClosingConnection => {
                "Authentication error; server closing connection"
            }
            Self::SessionLimitExceededServerClosingConnection => {
                "Session limit exceeded; server closing connection"
            }
        }
    }

    /// `true` for 1xxx codes.
    pub fn is_success(self) -> bool {
        self.code() < 2000
    }

    /// `true` for the codes after which the server closes the connection (1500 and 25xx).
    pub fn ends_session(self) -> bool {
        matches!(self.code(), 1500 | 2500..=2599)
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.message())
    }
}

/// Why the codec refused a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not well-formed, forbidden XML construct, a limit exceeded, or an element or attribute
    /// the schema does not allow there (2001).
    Syntax,
    /// A required element or attribute is absent (2003).
    Missing,
    /// A value outside the range the schema allows (2004).
    Range,
    /// A value that does not have the syntax the schema requires (2005).
    ValueSyntax,
    /// The command element is not an EPP command (2000).
    UnknownCommand,
    /// An extension in a namespace the codec does not implement (2103).
    UnimplementedExtension,
    /// An object namespace, or an object service (e.g. host renew), not implemented (2307).
    UnimplementedObjectService,
    /// A protocol option that is not implemented (2102).
    UnimplementedOption,
    /// An EPP version other than 1.0 (2100).
    UnimplementedProtocolVersion,
}

impl ErrorKind {
    /// The result code a server answers with.
    pub fn result_code(self) -> ResultCode {
        match self {
            Self::Syntax => ResultCode::CommandSyntaxError,
            Self::Missing => ResultCode::RequiredParameterMissing,
            Self::Range => ResultCode::ParameterValueRangeError,
            Self::ValueSyntax => ResultCode::ParameterValueSyntaxError,
            Self::UnknownCommand => ResultCode::UnknownCommand,
            Self::UnimplementedExtension => ResultCode::UnimplementedExtension,
            Self::UnimplementedObjectService => ResultCode::UnimplementedObjectService,
            Self::UnimplementedOption => ResultCode::UnimplementedOption,
            Self::UnimplementedProtocolVersion => ResultCode::UnimplementedProtocolVersion,
        }
    }
}

/// A frame the codec refused, with a human-readable reason, the result code to answer with,
/// and (when known) the offending element and the frame's `clTRID` so the server's error
/// response can carry both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} ({}): {reason}", kind.result_code().code(), kind.result_code().message())]
pub struct CodecError {
    /// The category, which fixes the result code.
    pub kind: ErrorKind,
    /// What exactly is wrong, for people.
    pub reason: String,
    /// The client element that caused the error (for `<extValue><value>`, RFC 5730 §2.6).
    pub offending: Option<Box<Element>>,
    /// The command's `clTRID` when the frame was readable enough to find it.
    pub cl_trid: Option<String>,
}

impl CodecError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
            offending: None,
            cl_trid: None,
        }
    }

    pub(crate) fn syntax(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Syntax, reason)
    }

    pub(crate) fn missing(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Missing, reason)
    }

    pub(crate) fn range(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Range, reason)
    }

    pub(crate) fn value_syntax(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::ValueSyntax, reason)
    }

    /// Attaches the offending element (kept only if none is attached yet).
    pub(crate) fn with_offending(mut self, el: Element) -> Self {
        if self.offending.is_none() {
            self.offending = Some(Box::new(el));
        }
        self
    }

    /// The result code a server answers with.
    pub fn result_code(&self) -> ResultCode {
        self.kind.result_code()
    }
}
