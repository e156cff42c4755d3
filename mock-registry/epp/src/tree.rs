//! The XML element tree the codec reads into and writes from: namespaces by URI, attributes,
//! elements and their content, with the infallible accessors and builders.
//!
//! It knows nothing of parsing errors: the fallible, schema-checking accessors live beside the
//! reader in [`xml`](crate::xml), which is also where [`CodecError`](crate::CodecError)s are
//! made, so this module sits below both the reader and the error type.

use std::fmt;

/// XML Schema instance namespace: `xsi:schemaLocation` and friends may appear anywhere.
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The namespaces the codec knows, by URI. Anything else is [`Ns::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ns {
    /// No namespace (unprefixed attributes, or elements with no default namespace).
    None,
    /// `urn:ietf:params:xml:ns:epp-1.0` (RFC 5730).
    Epp,
    /// `urn:ietf:params:xml:ns:eppcom-1.0` (RFC 5730).
    EppCom,
    /// `urn:ietf:params:xml:ns:domain-1.0` (RFC 5731).
    Domain,
    /// `urn:ietf:params:xml:ns:host-1.0` (RFC 5732).
    Host,
    /// `urn:ietf:params:xml:ns:contact-1.0` (RFC 5733).
    Contact,
    /// `urn:ietf:params:xml:ns:secDNS-1.1` (RFC 5910).
    SecDns,
    /// `urn:ietf:params:xml:ns:keyrelay-1.0` (RFC 8063).
    KeyRelay,
    /// The experimental key relay receipt extension ([`crate::receipt`]).
    KeyRelayReceipt,
    /// `urn:ietf:params:xml:ns:changePoll-1.0` (RFC 8590).
    ChangePoll,
    /// `http://rxsd.domain-registry.nl/sidn-ext-epp-1.0` (SIDN's extension).
    Sidn,
    /// `http://rxsd.domain-registry.nl/sidn-ext-epp-scheduled-delete-1.0`.
    SidnScheduledDelete,
    /// `http://www.w3.org/2001/XMLSchema-instance`.
    Xsi,
    /// Any other namespace URI.
    Other(Box<str>),
}

impl Ns {
    /// Every known namespace with a URI, for lookups.
    pub const KNOWN: [Self; 12] = [
        Self::Epp,
        Self::EppCom,
        Self::Domain,
        Self::Host,
        Self::Contact,
        Self::SecDns,
        Self::KeyRelay,
        Self::KeyRelayReceipt,
        Self::ChangePoll,
        Self::Sidn,
        Self::SidnScheduledDelete,
        Self::Xsi,
    ];

    /// The namespace for a URI.
    pub fn from_uri(uri: &str) -> Self {
        // Lengths first: most of the twelve differ in length, so a frame's few declarations
        // cost a string comparison or two each.
        Self::KNOWN
            .into_iter()
            .find(|ns| ns.uri().len() == uri.len() && ns.uri() == uri)
            .unwrap_or_else(|| Self::Other(uri.into()))
    }

    /// The namespace URI ("" for [`Ns::None`]).
    pub fn uri(&self) -> &str {
        match self {
            Self::None => "",
            Self::Epp => "urn:ietf:params:xml:ns:epp-1.0",
            Self::EppCom => "urn:ietf:params:xml:ns:eppcom-1.0",
            Self::Domain => "urn:ietf:params:xml:ns:domain-1.0",
            Self::Host => "urn:ietf:params:xml:ns:host-1.0",
            Self::Contact => "urn:ietf:params:xml:ns:contact-1.0",
            Self::SecDns => "urn:ietf:params:xml:ns:secDNS-1.1",
            Self::KeyRelay => "urn:ietf:params:xml:ns:keyrelay-1.0",
            // The same string as `receipt::NAMESPACE` (a test holds them equal); written out
            // here like every other URI, so the tree depends on no mapping.
            Self::KeyRelayReceipt => {
                "https://github.com/secure-transfer/epp-keyrelay-harness/ns/keyrelayReceipt-0.1"
            }
            // The same string as `changepoll::NAMESPACE` (a test holds them equal).
            Self::ChangePoll => "urn:ietf:params:xml:ns:changePoll-1.0",
            Self::Sidn => "http://rxsd.domain-registry.nl/sidn-ext-epp-1.0",
            Self::SidnScheduledDelete => {
                "http://rxsd.domain-registry.nl/sidn-ext-epp-scheduled-delete-1.0"
            }
            Self::Xsi => XSI_NS,
            Self::Other(uri) => uri,
        }
    }

    /// The prefix the writer uses (`None` means the default namespace).
    pub(crate) fn prefix(&self) -> Option<&'static str> {
        match self {
            Self::None | Self::Epp => None,
            Self::EppCom => Some("eppcom"),
            Self::Domain => Some("domain"),
            Self::Host => Some("host"),
            Self::Contact => Some("contact"),
            Self::SecDns => Some("secDNS"),
            Self::KeyRelay => Some("keyrelay"),
            Self::KeyRelayReceipt => Some("keyrelayReceipt"),
            Self::ChangePoll => Some("changePoll"),
            Self::Sidn => Some("sidn-ext-epp"),
            Self::SidnScheduledDelete => Some("scheduledDelete"),
            Self::Xsi => Some("xsi"),
            Self::Other(_) => Some("ext"),
        }
    }
}

impl fmt::Display for Ns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("(no namespace)"),
            other => f.write_str(other.uri()),
        }
    }
}

/// A local name of an element or attribute.
///
/// Names of 30 bytes or fewer (every name in the EPP schemas) are kept inline, so reading a
/// frame allocates nothing for them; longer ones go to the heap. It reads as a `&str`.
pub type Name = crate::inline::InlineStr<30>;

/// An attribute, by namespace and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// Namespace of the attribute ([`Ns::None`] when unprefixed, as almost all EPP attributes).
    pub ns: Ns,
    /// Local name.
    pub name: Name,
    /// Value, with entities and character references resolved.
    pub value: String,
}

/// A node of element content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Character data (entities resolved; CDATA included).
    Text(String),
}

/// An element with its namespace, attributes and content.
///
/// Also used as the public carrier for arbitrary XML the codec does not interpret, such as the
/// content of a result's `<value>` (RFC 5730 §2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Namespace of the element.
    pub ns: Ns,
    /// Local name.
    pub name: Name,
    /// Attributes other than namespace declarations.
    pub attrs: Vec<Attr>,
    /// Content, in document order.
    pub children: Vec<Node>,
}

impl Element {
    /// A new element without attributes or content.
    pub fn new(ns: Ns, name: impl Into<Name>) -> Self {
        Self {
            ns,
            name: name.into(),
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Adds an unqualified attribute (builder style).
    pub fn with_attr(mut self, name: impl Into<Name>, value: impl Into<String>) -> Self {
        self.attrs.push(Attr {
            ns: Ns::None,
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// Adds a child element (builder style).
    pub fn with_child(mut self, child: Self) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    /// Adds text content (builder style).
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// `true` when this element is `ns:name`.
    pub fn is(&self, ns: &Ns, name: &str) -> bool {
        self.ns == *ns && self.name == name
    }

    /// A readable qualified name for error messages, e.g. `{urn:…domain-1.0}name`.
    pub fn qname(&self) -> String {
        match self.ns.prefix() {
            Some(p) if !matches!(self.ns, Ns::Other(_)) => format!("{p}:{}", self.name),
            _ if self.ns == Ns::Epp || self.ns == Ns::None => self.name.to_string(),
            _ => format!("{{{}}}{}", self.ns.uri(), self.name),
        }
    }

    /// The value of an unqualified attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns == Ns::None && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// The first child element, if any (used to dispatch on a choice).
    pub(crate) fn first_child(&self) -> Option<&Self> {
        self.children.iter().find_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }
}

/// `true` for the XML whitespace characters only (space, tab, CR, LF).
pub(crate) fn is_xml_whitespace(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// XML Schema whitespace collapse: runs of whitespace become one space, no leading/trailing.
pub(crate) fn collapse_whitespace(s: &str) -> String {
    // Fast path, the common case: nothing to collapse, so one copy.
    let b = s.as_bytes();
    let collapsed = !b.iter().any(|c| matches!(c, b'\t' | b'\r' | b'\n'))
        && b.first() != Some(&b' ')
        && b.last() != Some(&b' ')
        && !s.contains("  ");
    if collapsed {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for word in s.split([' ', '\t', '\r', '\n']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The fast path of `collapse_whitespace` gives what the general one gives.
        #[test]
        fn collapse_whitespace_fast_path_agrees(s in "[ a\t\r\nb]{0,12}") {
            let mut slow = String::new();
            for word in s.split([' ', '\t', '\r', '\n']).filter(|w| !w.is_empty()) {
                if !slow.is_empty() {
                    slow.push(' ');
                }
                slow.push_str(word);
            }
            prop_assert_eq!(collapse_whitespace(&s), slow);
        }
    }
}
