//! The XML layer under the EPP codec: a hardened, namespace-resolving reader that builds a
//! small element tree, a cursor that enforces schema order and cardinality, and a writer.
//!
//! Why a tree and not a streaming deserializer: EPP frames are small (the framing layer caps
//! them), every element must be checked against a schema position, and the error for a missing
//! element (2003) differs from the error for an unexpected one (2001). Walking a tree with a
//! [`Cursor`] makes each typed parser read like the schema it implements.
//!
//! Hardening: no DTD (so no entity definitions and no expansion), no processing instructions,
//! only the five predefined entities and character references, bounded nesting depth,
//! attribute count, element count and text size. Elements are matched by namespace URI
//! ([`Ns`]), never by prefix.

use std::borrow::Cow;

use quick_xml::events::{BytesDecl, BytesStart};
use quick_xml::name::PrefixDeclaration;

use super::error::CodecError;
use super::markup::{Scanner, Token};
pub use super::tree::{Attr, Element, Node, Ns, XSI_NS};
use super::tree::{collapse_whitespace, is_xml_whitespace};

/// Limits on what the reader accepts, so that no frame can make the parser use unbounded
/// memory or stack.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Maximum element nesting depth (EPP frames nest about ten deep).
    pub max_depth: usize,
    /// Maximum attributes on one element.
    pub max_attributes: usize,
    /// Maximum elements in one document.
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 32,
            max_attributes: 16,
            max_elements: 20_000,
        }
    }
}

impl Element {
    /// The child elements. Fails when non-whitespace text is mixed in, which no element-only
    /// content model of the EPP schemas allows.
    pub(crate) fn element_children(&self) -> Result<Cursor<'_>, CodecError> {
        for node in &self.children {
            if let Node::Text(t) = node
                && !is_xml_whitespace(t)
            {
                return Err(CodecError::syntax(format!(
                    "unexpected text {:?} in element-only content of <{}>",
                    abbreviate(t),
                    self.qname()
                )));
            }
        }
        Ok(Cursor {
            parent: self,
            rest: &self.children,
        })
    }

    /// The text of a simple-content element (no child elements), not normalised.
    pub(crate) fn raw_text(&self) -> Result<Cow<'_, str>, CodecError> {
        // The reader merges adjacent character data, so one text node is the rule: borrow it.
        let mut out: Cow<'_, str> = Cow::Borrowed("");
        for node in &self.children {
            match node {
                Node::Text(t) if out.is_empty() => out = Cow::Borrowed(t),
                Node::Text(t) => out.to_mut().push_str(t),
                Node::Element(e) => {
                    return Err(CodecError::syntax(format!(
                        "unexpected element <{}> in the text content of <{}>",
                        e.qname(),
                        self.qname()
                    )));
                }
            }
        }
        Ok(out)
    }

    /// The text as an XML Schema `token`: whitespace collapsed (the value a validator sees).
    pub(crate) fn token(&self) -> Result<String, CodecError> {
        Ok(collapse_whitespace(&self.raw_text()?))
    }

    /// The text as an XML Schema `normalizedString`: tabs and newlines become spaces.
    pub(crate) fn normalized(&self) -> Result<String, CodecError> {
        Ok(self
            .raw_text()?
            .chars()
            .map(|c| {
                if matches!(c, '\t' | '\n' | '\r') {
                    ' '
                } else {
                    c
                }
            })
            .collect())
    }

    /// A required token with length bounds (2005 outside them: a value syntax error).
    pub(crate) fn token_len(&self, min: usize, max: usize) -> Result<String, CodecError> {
        let t = self.token()?;
        check_len(self, &t, min, max)?;
        Ok(t)
    }

    /// Fails if the element carries an attribute other than `allowed` (unqualified) or the
    /// `xsi:` attributes every schema-aware processor accepts.
    pub(crate) fn only_attrs(&self, allowed: &[&str]) -> Result<(), CodecError> {
        for a in &self.attrs {
            let ok = match a.ns {
                Ns::None => allowed.contains(&a.name.as_str()),
                Ns::Xsi => true,
                _ => false,
            };
            if !ok {
                return Err(CodecError::syntax(format!(
                    "attribute {:?} is not allowed on <{}>",
                    a.name,
                    self.qname()
                )));
            }
        }
        Ok(())
    }

    /// Fails unless the element is empty (whitespace allowed) and has no attributes other than
    /// `allowed`.
    pub(crate) fn expect_empty(&self, allowed: &[&str]) -> Result<(), CodecError> {
        self.only_attrs(allowed)?;
        self.element_children()?.finish()
    }
}

fn check_len(el: &Element, v: &str, min: usize, max: usize) -> Result<(), CodecError> {
    let n = v.chars().count();
    if n < min || n > max {
        // The name is formatted only here, on the error path: every token read goes through
        // this check.
        return Err(CodecError::value_syntax(format!(
            "<{}> must be {min} to {max} characters, got {n}",
            el.qname()
        )));
    }
    Ok(())
}

fn abbreviate(s: &str) -> String {
    let t = s.trim();
    if t.chars().count() > 40 {
        let mut c: String = t.chars().take(40).collect();
        c.push('…');
        c
    } else {
        t.to_string()
    }
}

/// Walks the child elements of one element in schema order.
///
/// Each method consumes the elements it matches; [`finish`](Self::finish) fails on leftovers.
/// A required element that is absent is a *missing parameter* (2003) unless it appears later
/// out of order, which, like any leftover element, is a *syntax error* (2001). It walks the
/// children in place (text between elements is skipped; [`Element::element_children`] has
/// checked it is whitespace), so reading a frame allocates nothing per element here.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    parent: &'a Element,
    /// The children not consumed yet.
    rest: &'a [Node],
}

impl<'a> Cursor<'a> {
    /// The next element and what follows it.
    fn next_element(&self) -> Option<(&'a Element, &'a [Node])> {
        let mut rest = self.rest;
        while let [first, tail @ ..] = rest {
            if let Node::Element(e) = first {
                return Some((e, tail));
            }
            rest = tail;
        }
        None
    }

    /// The elements not consumed yet.
    fn remaining(&self) -> impl Iterator<Item = &'a Element> + use<'a> {
        self.rest.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The next element if it is `ns:name`.
    pub(crate) fn optional(&mut self, ns: &Ns, name: &str) -> Option<&'a Element> {
        let (next, tail) = self.next_element()?;
        if next.is(ns, name) {
            self.rest = tail;
            Some(next)
        } else {
            None
        }
    }

    /// The next element, which must be `ns:name`.
    pub(crate) fn required(&mut self, ns: &Ns, name: &str) -> Result<&'a Element, CodecError> {
        if let Some(e) = self.optional(ns, name) {
            return Ok(e);
        }
        let later = self.remaining().any(|e| e.is(ns, name));
        match self.next_element() {
            Some((found, _)) if later => Err(CodecError::syntax(format!(
                "<{}> found where <{}> was expected in <{}>",
                found.qname(),
                Element::new(ns.clone(), name).qname(),
                self.parent.qname()
            ))
            .with_offending(found.clone())),
            _ => Err(CodecError::missing(format!(
                "<{}> is required in <{}>",
                Element::new(ns.clone(), name).qname(),
                self.parent.qname()
            ))),
        }
    }

    /// All consecutive next elements that are `ns:name`, at most `max`.
    pub(crate) fn many(
        &mut self,
        ns: &Ns,
        name: &str,
        max: usize,
    ) -> Result<Vec<&'a Element>, CodecError> {
        let mut out = Vec::new();
        while let Some(e) = self.optional(ns, name) {
            if out.len() == max {
                return Err(CodecError::syntax(format!(
                    "at most {max} <{}> allowed in <{}>",
                    e.qname(),
                    self.parent.qname()
                )));
            }
            out.push(e);
        }
        Ok(out)
    }

    /// One or more consecutive `ns:name` elements.
    pub(crate) fn at_least_one(
        &mut self,
        ns: &Ns,
        name: &str,
        max: usize,
    ) -> Result<Vec<&'a Element>, CodecError> {
        let first = self.required(ns, name)?;
        let mut rest = self.many(ns, name, max.saturating_sub(1))?;
        rest.insert(0, first);
        Ok(rest)
    }

    /// The next element, whatever it is.
    pub(crate) fn next_any(&mut self) -> Option<&'a Element> {
        let (next, tail) = self.next_element()?;
        self.rest = tail;
        Some(next)
    }

    /// Peeks at the next element.
    pub(crate) fn peek(&self) -> Option<&'a Element> {
        self.next_element().map(|(e, _)| e)
    }

    /// All remaining elements.
    pub(crate) fn rest(&mut self) -> Vec<&'a Element> {
        let rest = self.remaining().collect();
        self.rest = &[];
        rest
    }

    /// Fails if any element was not consumed.
    pub(crate) fn finish(self) -> Result<(), CodecError> {
        match self.next_element() {
            None => Ok(()),
            Some((extra, _)) => Err(CodecError::syntax(format!(
                "unexpected element <{}> in <{}>",
                extra.qname(),
                self.parent.qname()
            ))
            .with_offending(extra.clone())),
        }
    }
}

/// The reader's working lists, kept per thread between documents: a server parses a frame per
/// command, and these three allocations were a tenth of it. [`Limits`] bounds how large they
/// can grow (depth and attributes).
#[derive(Debug, Default)]
struct Spare {
    stack: Vec<Element>,
    bindings: Vec<Binding>,
    open: Vec<(Piece, usize)>,
}

thread_local! {
    static SPARE: std::cell::Cell<Spare> = std::cell::Cell::default();
}

/// Parses a complete document into its root element, enforcing the hardening rules.
pub(crate) fn read_document(input: &[u8], limits: &Limits) -> Result<Element, CodecError> {
    let mut spare = SPARE.take();
    let result = read_with(input, limits, &mut spare);
    // Emptied whatever the outcome: a refused document leaves open elements behind.
    spare.stack.clear();
    spare.bindings.clear();
    spare.open.clear();
    SPARE.set(spare);
    result
}

fn read_with(input: &[u8], limits: &Limits, spare: &mut Spare) -> Result<Element, CodecError> {
    let text = std::str::from_utf8(input)
        .map_err(|e| CodecError::syntax(format!("frame is not valid UTF-8: {e}")))?;
    let mut scanner = Scanner::new(text);
    let stack = &mut spare.stack;
    let mut scope = Scope {
        text,
        bindings: &mut spare.bindings,
        open: &mut spare.open,
    };
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    let mut seen_anything = false;

    while let Some(token) = scanner.next_token()? {
        match token {
            Token::Decl(content) => {
                if seen_anything {
                    return Err(CodecError::syntax("XML declaration not at the start"));
                }
                check_declaration(content)?;
            }
            Token::DocType => {
                return Err(CodecError::syntax(
                    "a DOCTYPE is not allowed in an EPP frame (no DTDs, no entity definitions)",
                ));
            }
            Token::Pi(_) => {
                return Err(CodecError::syntax(
                    "processing instructions are not allowed in an EPP frame",
                ));
            }
            Token::Comment => {}
            Token::Start {
                content,
                name_len,
                empty,
            } => {
                admit_element(root.is_some(), &mut elements, stack.len(), limits)?;
                let start = BytesStart::from_content(content, name_len);
                let el = start_element(&mut scope, &start, limits)?;
                if empty {
                    // `<x/>` is `<x></x>` (XML 1.0 §3.1): its scope ends at once.
                    scope.close(&content.as_bytes()[..name_len])?;
                    attach(stack, &mut root, el);
                } else {
                    stack.push(el);
                }
            }
            Token::End(name) => {
                let done = stack
                    .pop()
                    .ok_or_else(|| CodecError::syntax("unmatched end tag"))?;
                scope.close(name.as_bytes())?;
                attach(stack, &mut root, done);
            }
            Token::Text(raw) => push_char_data(stack, root.is_some(), raw)?,
            Token::CData(content) => {
                push_text(stack, root.is_some(), &normalize_line_ends(content))?;
            }
        }
        seen_anything = true;
    }
    if !stack.is_empty() {
        return Err(CodecError::syntax("XML ends inside an element"));
    }
    root.ok_or_else(|| CodecError::syntax("no root element"))
}

/// Counts one more start tag and refuses it past the root element or beyond the limits
/// (`depth`: the elements open around it).
fn admit_element(
    after_root: bool,
    elements: &mut usize,
    depth: usize,
    limits: &Limits,
) -> Result<(), CodecError> {
    if after_root {
        return Err(CodecError::syntax("content after the root element"));
    }
    *elements += 1;
    if *elements > limits.max_elements {
        return Err(CodecError::syntax(format!(
            "more than {} elements",
            limits.max_elements
        )));
    }
    if depth >= limits.max_depth {
        return Err(CodecError::syntax(format!(
            "elements nest deeper than {}",
            limits.max_depth
        )));
    }
    Ok(())
}

/// Puts a finished element into the element open around it, or makes it the root.
fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(el)),
        None => *root = Some(el),
    }
}

/// Checks an XML declaration (`content` runs from `xml` to before `?>`): version 1.0, and
/// UTF-8 if an encoding is named.
fn check_declaration(content: &str) -> Result<(), CodecError> {
    // The declarations EPP software writes, checked at a glance; any other goes through the
    // full parse below.
    const USUAL: [&str; 3] = [
        r#"xml version="1.0" encoding="UTF-8" standalone="no""#,
        r#"xml version="1.0" encoding="UTF-8""#,
        r#"xml version="1.0""#,
    ];
    if USUAL.contains(&content) {
        return Ok(());
    }
    let decl = BytesDecl::from_start(BytesStart::from_content(content, 3));
    let version = decl
        .version()
        .map_err(|e| CodecError::syntax(format!("bad XML declaration: {e}")))?;
    if version != "1.0" {
        return Err(CodecError::syntax(format!(
            "XML version {version} is not supported (EPP uses XML 1.0)"
        )));
    }
    if let Some(enc) = decl.encoding() {
        let enc = enc.map_err(|e| CodecError::syntax(format!("bad XML declaration: {e}")))?;
        if !enc.eq_ignore_ascii_case("utf-8") {
            return Err(CodecError::syntax(format!(
                "encoding {enc:?} is not supported (EPP frames here are UTF-8)"
            )));
        }
    }
    Ok(())
}

/// XML 1.0 §2.11: CR LF and a lone CR are read as LF.
fn normalize_line_ends(s: &str) -> Cow<'_, str> {
    if s.contains('\r') {
        Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Adds character data as written in the document: `]]>` refused, line ends normalised, and
/// references resolved, which may only be character references and the five predefined
/// entities (there is no DTD to define others).
fn push_char_data(stack: &mut [Element], after_root: bool, raw: &str) -> Result<(), CodecError> {
    // XML 1.0 §2.4: character data must not contain `]]>` (a CDATA section end outside one);
    // a document that holds it is not well-formed.
    if has_cdata_end(raw) {
        return Err(CodecError::syntax(
            "\"]]>\" in character data is not well-formed XML (XML 1.0 §2.4); write ]]&gt;",
        ));
    }
    let mut rest = raw;
    while let Some(amp) = memchr::memchr(b'&', rest.as_bytes()) {
        if amp > 0 {
            push_text(stack, after_root, &normalize_line_ends(&rest[..amp]))?;
        }
        let after = &rest[amp + 1..];
        let semi = after.find(';').ok_or_else(|| {
            CodecError::syntax(
                "XML is not well-formed: \"&\" starts no reference (write &amp; for the character)",
            )
        })?;
        if stack.is_empty() {
            return Err(CodecError::syntax(
                "entity reference outside the root element",
            ));
        }
        let mut buf = [0u8; 4];
        let resolved = resolve_reference(&after[..semi], &mut buf)?;
        push_text(stack, after_root, resolved)?;
        rest = &after[semi + 1..];
    }
    if rest.is_empty() {
        return Ok(());
    }
    push_text(stack, after_root, &normalize_line_ends(rest))
}

/// The text a reference `&name;` stands for (XML 1.0 §4.1, §4.6).
fn resolve_reference<'b>(name: &'b str, buf: &'b mut [u8; 4]) -> Result<&'b str, CodecError> {
    let Some(number) = name.strip_prefix('#') else {
        return quick_xml::escape::resolve_predefined_entity(name).ok_or_else(|| {
            CodecError::syntax(format!(
                "undefined entity &{name}; (only the five XML entities are allowed)"
            ))
        });
    };
    let (digits, radix) = match number.strip_prefix('x') {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    let bad = || CodecError::syntax(format!("bad character reference: &{name};"));
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return Err(bad());
    }
    let c = u32::from_str_radix(digits, radix)
        .ok()
        .and_then(char::from_u32)
        .ok_or_else(bad)?;
    if !is_xml_char(c) {
        return Err(CodecError::syntax(format!(
            "character reference to {:#x}, which XML does not allow",
            c as u32
        )));
    }
    Ok(c.encode_utf8(buf))
}

fn is_xml_char(c: char) -> bool {
    matches!(c as u32, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// The first character of `s` that XML 1.0 §2.2 does not allow, if any.
///
/// Scans bytes, not chars: in a `str` (no surrogates) the only such characters are the C0
/// controls other than tab, LF and CR, and U+FFFE and U+FFFF (UTF-8 `EF BF BE`/`EF BF BF`).
fn forbidden_char(s: &str) -> Option<char> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(off) = b[from..]
        .iter()
        .position(|&x| (x < 0x20 && !matches!(x, b'\t' | b'\n' | b'\r')) || x == 0xEF)
    {
        let at = from + off;
        if b[at] != 0xEF {
            return Some(char::from(b[at]));
        }
        match (b.get(at + 1), b.get(at + 2)) {
            (Some(0xBF), Some(0xBE)) => return Some('\u{FFFE}'),
            (Some(0xBF), Some(0xBF)) => return Some('\u{FFFF}'),
            // Another character with lead byte EF; its continuation bytes match nothing here.
            _ => from = at + 1,
        }
    }
    None
}

/// `true` when `s` holds `]]>`.
fn has_cdata_end(s: &str) -> bool {
    let b = s.as_bytes();
    let mut from = 2;
    while let Some(off) = b
        .get(from..)
        .and_then(|rest| rest.iter().position(|&x| x == b'>'))
    {
        let at = from + off;
        if b[at - 1] == b']' && b[at - 2] == b']' {
            return true;
        }
        from = at + 1;
    }
    false
}

fn push_text(stack: &mut [Element], after_root: bool, text: &str) -> Result<(), CodecError> {
    if let Some(c) = forbidden_char(text) {
        return Err(CodecError::syntax(format!(
            "character {:#x} is not allowed in XML",
            c as u32
        )));
    }
    match stack.last_mut() {
        Some(el) => {
            if let Some(Node::Text(prev)) = el.children.last_mut() {
                prev.push_str(text);
            } else {
                el.children.push(Node::Text(text.to_string()));
            }
            Ok(())
        }
        None if is_xml_whitespace(text) => Ok(()),
        None if after_root => Err(CodecError::syntax("text after the root element")),
        None => Err(CodecError::syntax("text before the root element")),
    }
}

/// A piece of the document being read: where it lies in the input (no copy), or, should the
/// reader ever hand out a copy, the copy.
#[derive(Debug)]
enum Piece {
    At(usize, usize),
    Copy(Box<[u8]>),
}

impl Piece {
    fn of(text: &str, part: &[u8]) -> Self {
        // Addresses compared as numbers: a slice the reader borrowed from `text` lies inside it.
        let base = text.as_ptr() as usize;
        let at = part.as_ptr() as usize;
        if at >= base && at + part.len() <= base + text.len() {
            Self::At(at - base, at - base + part.len())
        } else {
            Self::Copy(part.into())
        }
    }

    fn bytes<'t>(&'t self, text: &'t str) -> &'t [u8] {
        match self {
            Self::At(a, b) => &text.as_bytes()[*a..*b],
            Self::Copy(c) => c,
        }
    }
}

/// The elements open while reading, and the namespace bindings in scope (Namespaces in XML
/// 1.0 §5–§6): prefix and namespace, the default namespace under the empty prefix, innermost
/// last. Names and prefixes are kept as positions in the input, so reading allocates nothing
/// here beyond the two lists.
#[derive(Debug)]
struct Scope<'t> {
    text: &'t str,
    bindings: &'t mut Vec<Binding>,
    /// Each open element's qualified name and how many bindings were in scope when it started.
    open: &'t mut Vec<(Piece, usize)>,
}

/// A namespace declaration in scope: its prefix (empty for the default namespace) and namespace.
#[derive(Debug)]
struct Binding {
    /// The prefix's length and first octets, compared before the prefix itself: an element
    /// name is resolved against every binding in scope, innermost first, and comparing the
    /// octets of each prefix was a sixth of reading a response.
    key: PrefixKey,
    prefix: Piece,
    ns: Ns,
}

impl Binding {
    fn is(&self, key: PrefixKey, prefix: &[u8], text: &str) -> bool {
        self.key == key && (key.is_whole() || self.prefix.bytes(text) == prefix)
    }
}

/// A prefix's length (top octet) and up to its first seven octets, packed in one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PrefixKey(u64);

impl PrefixKey {
    fn of(prefix: &[u8]) -> Self {
        let mut packed = [0u8; 8];
        let head = prefix.len().min(7);
        packed[1..=head].copy_from_slice(&prefix[..head]);
        packed[0] = u8::try_from(prefix.len()).unwrap_or(u8::MAX);
        Self(u64::from_be_bytes(packed))
    }

    /// Whether the key holds the whole prefix, so equal keys mean equal prefixes.
    fn is_whole(self) -> bool {
        self.0 >> 56 <= 7
    }
}

/// The namespace the `xml` prefix is bound to by definition (Namespaces in XML 1.0 §3).
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace of `xmlns` attributes, which nothing may be bound to (§3).
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

impl Scope<'_> {
    /// Adds the declaration `xmlns[:prefix]="uri"` of the element being opened.
    fn declare(&mut self, prefix: &str, uri: &str) -> Result<(), CodecError> {
        let bad = |why: &str| {
            Err(CodecError::syntax(format!(
                "namespace declaration of {:?} to {uri:?}: {why}",
                if prefix.is_empty() { "xmlns" } else { prefix }
            )))
        };
        match prefix {
            "xml" if uri == XML_NS => return Ok(()),
            "xml" => return bad("the xml prefix is bound to its own namespace only"),
            "xmlns" => return bad("the xmlns prefix cannot be declared"),
            _ if uri == XML_NS || uri == XMLNS_NS => {
                return bad("that namespace is reserved");
            }
            // Namespaces in XML 1.0 (unlike 1.1) cannot undeclare a prefix.
            "" => {}
            _ if uri.is_empty() => return bad("a prefix cannot be bound to no namespace"),
            _ => {}
        }
        // An attribute may appear once per tag (XML 1.0 §3.1, "Unique Att Spec"); the
        // bindings after the element's mark are its own declarations.
        let mark = self.open.last().map_or(0, |(_, mark)| *mark);
        let key = PrefixKey::of(prefix.as_bytes());
        if self.bindings[mark..]
            .iter()
            .any(|b| b.is(key, prefix.as_bytes(), self.text))
        {
            return bad("declared twice on one element");
        }
        let ns = if uri.is_empty() {
            Ns::None
        } else {
            Ns::from_uri(uri)
        };
        self.bindings.push(Binding {
            key,
            prefix: Piece::of(self.text, prefix.as_bytes()),
            ns,
        });
        Ok(())
    }

    /// The namespace of an element (`element`: the default namespace applies) or attribute
    /// name with `prefix`.
    fn resolve(&self, prefix: Option<&str>, element: bool) -> Result<Ns, CodecError> {
        let wanted = match prefix {
            None if !element => return Ok(Ns::None),
            None => "",
            Some("xml") => return Ok(Ns::Other(XML_NS.into())),
            Some("xmlns") => {
                return Err(CodecError::syntax(
                    "the xmlns prefix is reserved for namespace declarations",
                ));
            }
            Some(p) => p,
        };
        let key = PrefixKey::of(wanted.as_bytes());
        let found = self
            .bindings
            .iter()
            .rev()
            .find(|b| b.is(key, wanted.as_bytes(), self.text));
        match found {
            Some(b) => Ok(b.ns.clone()),
            None if wanted.is_empty() => Ok(Ns::None),
            None => Err(CodecError::syntax(format!(
                "namespace prefix {wanted:?} is not declared"
            ))),
        }
    }

    /// Starts the scope of an element with this qualified name (before its declarations).
    fn open(&mut self, qname: &[u8]) {
        self.open
            .push((Piece::of(self.text, qname), self.bindings.len()));
    }

    /// Ends the scope of the innermost open element, whose end tag has this name: it must be
    /// the start tag's (XML 1.0 §3, well-formedness constraint "Element Type Match").
    fn close(&mut self, end: &[u8]) -> Result<(), CodecError> {
        let (name, mark) = self
            .open
            .pop()
            .ok_or_else(|| CodecError::syntax("unmatched end tag"))?;
        let start = name.bytes(self.text);
        if start != end {
            return Err(CodecError::syntax(format!(
                "XML is not well-formed: end tag </{}> does not match start tag <{}>",
                String::from_utf8_lossy(end),
                String::from_utf8_lossy(start)
            )));
        }
        self.bindings.truncate(mark);
        Ok(())
    }
}

/// Opens an element: its namespace declarations enter `scope`, then its name and attributes
/// are resolved in it.
fn start_element(
    scope: &mut Scope<'_>,
    start: &BytesStart<'_>,
    limits: &Limits,
) -> Result<Element, CodecError> {
    scope.open(start.name().as_ref().as_bytes());
    // First the declarations, which apply to the element's own name and attributes too (a
    // pass needed only where the tag mentions xmlns at all).
    let declares = start.attributes_raw().contains("xmlns");
    let too_many = || {
        CodecError::syntax(format!(
            "more than {} attributes on one element",
            limits.max_attributes
        ))
    };
    let mut count = 0usize;
    // Attributes other than declarations seen in the first pass: without any (the usual
    // `<epp xmlns="…">`, `<domain:info xmlns:domain="…">`), no second pass is needed.
    let mut others = 0usize;
    if declares {
        // Duplicates are found below: declarations by `Scope::declare`, other attributes
        // by namespace and local name (which also catches two prefixes bound to one URI).
        for attr in start.attributes().with_checks(false) {
            let attr = attr.map_err(|e| CodecError::syntax(format!("bad attribute: {e}")))?;
            count += 1;
            if count > limits.max_attributes {
                return Err(too_many());
            }
            if let Some(decl) = attr.key.as_namespace_binding() {
                let uri = attr_value(&attr)?;
                let prefix = match decl {
                    PrefixDeclaration::Default => "",
                    PrefixDeclaration::Named(p) => p,
                };
                scope.declare(prefix, &uri)?;
            } else {
                others += 1;
            }
        }
    }
    let qname = start.name();
    let ns = scope.resolve(qname.prefix().map(|p| p.into_inner()), true)?;
    let mut el = Element::new(ns, start.local_name().into_inner());
    if (declares && others == 0) || start.attributes_raw().trim_start().is_empty() {
        return Ok(el);
    }
    // Checked for syntax in the first pass when there was one.
    for attr in start.attributes().with_checks(false) {
        let attr = attr.map_err(|e| CodecError::syntax(format!("bad attribute: {e}")))?;
        if !declares {
            count += 1;
            if count > limits.max_attributes {
                return Err(too_many());
            }
        }
        let key = attr.key;
        // Namespace declarations are the scope's, not attributes.
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let ans = scope.resolve(key.prefix().map(|p| p.into_inner()), false)?;
        let name = key.local_name().into_inner();
        if el.attrs.iter().any(|a| a.ns == ans && a.name == name) {
            return Err(CodecError::syntax(format!("duplicate attribute {name:?}")));
        }
        let value = attr_value(&attr)?.into_owned();
        el.attrs.push(Attr {
            ns: ans,
            name: name.into(),
            value,
        });
    }
    Ok(el)
}

/// An attribute's value with the five predefined entities and character references resolved
/// and attribute-value normalisation applied (XML 1.0 §3.3.3); anything else is an error.
fn attr_value<'a>(
    attr: &'a quick_xml::events::attributes::Attribute<'_>,
) -> Result<Cow<'a, str>, CodecError> {
    // Normalisation changes nothing in a value without references or tab, CR and LF (the
    // usual case); anything else takes quick-xml's full path.
    let raw: &str = &attr.value;
    let value = if raw
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'\t' | b'\n' | b'\r'))
    {
        attr.normalized_value(quick_xml::XmlVersion::Explicit1_0)
            .map_err(|e| CodecError::syntax(format!("bad attribute value: {e}")))?
    } else {
        Cow::Borrowed(raw)
    };
    if let Some(c) = forbidden_char(&value) {
        return Err(CodecError::syntax(format!(
            "character {:#x} is not allowed in XML",
            c as u32
        )));
    }
    Ok(value)
}

/// Writes XML into a string, declaring each namespace prefix on the outermost element that
/// uses it (the style of the RFC examples), compact or indented.
///
/// Every response goes through here, so it allocates nothing per element: an open element is
/// remembered by where its name lies in the output (the end tag copies it from there), and the
/// namespaces declared on it by a range of one shared list.
#[derive(Debug)]
pub(crate) struct XmlWriter {
    out: String,
    /// For each open element: where its qualified name lies in `out`, the end of its
    /// declarations in `decls`, and whether it has element children (so the indented form
    /// knows where to break lines).
    open: Vec<OpenElement>,
    /// The namespaces declared so far on the open elements, outermost first.
    decls: Vec<Ns>,
    /// Indent with two spaces per level (`None`: one line, the wire form).
    pretty: bool,
    /// The last start tag is still open (its `>` not yet written), so [`declare`]
    /// can add namespace declarations to it.
    ///
    /// [`declare`]: Self::declare
    tag_open: bool,
}

/// An element [`XmlWriter`] has opened and not yet closed.
#[derive(Debug, Clone, Copy)]
struct OpenElement {
    /// The qualified name is `out[name.0..name.1]`.
    name: (usize, usize),
    /// Its declarations are `decls[..decls_end]` minus those of the elements around it.
    decls_end: usize,
    has_children: bool,
}

impl XmlWriter {
    /// A writer that starts with the XML declaration.
    pub(crate) fn new() -> Self {
        Self::with_style(false)
    }

    /// A writer that indents elements, for people (transcripts, snapshots).
    pub(crate) fn pretty() -> Self {
        Self::with_style(true)
    }

    /// A compact writer that appends the document to `out` (for a frame header in front, or a
    /// buffer whose capacity is reused).
    pub(crate) fn with_buffer(out: String) -> Self {
        Self::start(out, false)
    }

    fn with_style(pretty: bool) -> Self {
        // Most frames fit: one allocation for the whole document.
        Self::start(
            String::with_capacity(if pretty { 4096 } else { 2048 }),
            pretty,
        )
    }

    fn start(mut out: String, pretty: bool) -> Self {
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>");
        Self {
            out,
            open: Vec::with_capacity(16),
            decls: Vec::with_capacity(8),
            pretty,
            tag_open: false,
        }
    }

    /// Writes the pending `>` of the last start tag.
    fn end_start_tag(&mut self) {
        if self.tag_open {
            self.out.push('>');
            self.tag_open = false;
        }
    }

    /// Declares `ns` on the element just opened (before any content), so its descendants
    /// share one declaration. A no-op when `ns` is already in scope.
    pub(crate) fn declare(&mut self, ns: &Ns) {
        if !self.tag_open || self.declared(ns) {
            return;
        }
        self.write_decl(ns);
        self.decls.push(ns.clone());
        if let Some(top) = self.open.last_mut() {
            top.decls_end = self.decls.len();
        }
    }

    fn write_decl(&mut self, ns: &Ns) {
        match ns.prefix() {
            Some(p) => {
                self.out.push_str(" xmlns:");
                self.out.push_str(p);
            }
            None => self.out.push_str(" xmlns"),
        }
        self.out.push_str("=\"");
        escape_into(&mut self.out, ns.uri(), true);
        self.out.push('"');
    }

    /// Starts a new line at the current depth (indented form only) and marks the parent as
    /// having element children.
    fn break_line(&mut self) {
        self.end_start_tag();
        if let Some(parent) = self.open.last_mut() {
            parent.has_children = true;
        }
        if self.pretty {
            self.out.push('\n');
            for _ in 0..self.open.len() {
                self.out.push_str("  ");
            }
        }
    }

    /// `true` when `ns`'s prefix is bound to `ns` in the current scope (the innermost binding
    /// of a prefix wins, as in XML). `decls` holds exactly the declarations in scope.
    fn declared(&self, ns: &Ns) -> bool {
        let prefix = ns.prefix();
        match self.decls.iter().rev().find(|d| d.prefix() == prefix) {
            Some(d) => d == ns,
            None => false,
        }
    }

    fn write_name(&mut self, ns: &Ns, name: &str) {
        if let Some(p) = ns.prefix() {
            self.out.push_str(p);
            self.out.push(':');
        }
        self.out.push_str(name);
    }

    /// Writes `<ns:name attrs` and declares `ns` when it is not in scope; returns where the
    /// name lies in the output.
    fn start_tag(&mut self, ns: &Ns, name: &str, attrs: &[(&str, &str)]) -> (usize, usize) {
        self.break_line();
        self.out.push('<');
        let start = self.out.len();
        self.write_name(ns, name);
        let span = (start, self.out.len());
        if !self.declared(ns) {
            self.write_decl(ns);
            self.decls.push(ns.clone());
        }
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape_into(&mut self.out, v, true);
            self.out.push('"');
        }
        span
    }

    /// Opens `ns:name` with attributes.
    pub(crate) fn open(&mut self, ns: &Ns, name: &str, attrs: &[(&str, &str)]) {
        let name = self.start_tag(ns, name, attrs);
        self.tag_open = true;
        self.open.push(OpenElement {
            name,
            decls_end: self.decls.len(),
            has_children: false,
        });
    }

    /// Closes the innermost open element.
    pub(crate) fn close(&mut self) {
        let top = self
            .open
            .pop()
            .expect("invariant: writers close only what they opened");
        // Its declarations go out of scope.
        let outer = self.open.last().map_or(0, |o| o.decls_end);
        self.decls.truncate(outer.min(top.decls_end));
        self.end_start_tag();
        if top.has_children && self.pretty {
            self.out.push('\n');
            for _ in 0..self.open.len() {
                self.out.push_str("  ");
            }
        }
        self.out.push_str("</");
        self.copy_name(top.name);
        self.out.push('>');
    }

    /// Appends the name written earlier at `out[start..end]`.
    fn copy_name(&mut self, (start, end): (usize, usize)) {
        self.out.extend_from_within(start..end);
    }

    /// Writes `<ns:name attrs/>`.
    pub(crate) fn empty(&mut self, ns: &Ns, name: &str, attrs: &[(&str, &str)]) {
        let outer = self.decls.len();
        self.start_tag(ns, name, attrs);
        self.out.push_str("/>");
        self.decls.truncate(outer);
    }

    /// Writes `<ns:name attrs>text</ns:name>`.
    pub(crate) fn text_el(&mut self, ns: &Ns, name: &str, attrs: &[(&str, &str)], text: &str) {
        // The common case, a leaf in a namespace already declared: no bookkeeping.
        if attrs.is_empty() && !self.pretty && self.declared(ns) {
            self.end_start_tag();
            if let Some(parent) = self.open.last_mut() {
                parent.has_children = true;
            }
            self.out.push('<');
            self.write_name(ns, name);
            self.out.push('>');
            self.push_escaped(text);
            self.out.push_str("</");
            self.write_name(ns, name);
            self.out.push('>');
            return;
        }
        let outer = self.decls.len();
        let span = self.start_tag(ns, name, attrs);
        self.out.push('>');
        self.push_escaped(text);
        self.out.push_str("</");
        self.copy_name(span);
        self.out.push('>');
        self.decls.truncate(outer);
    }

    /// Shorthand for a text element without attributes.
    pub(crate) fn leaf(&mut self, ns: &Ns, name: &str, text: &str) {
        self.text_el(ns, name, &[], text);
    }

    /// Writes escaped character data.
    pub(crate) fn text(&mut self, text: &str) {
        self.end_start_tag();
        self.push_escaped(text);
    }

    /// Escapes `<`, `>` and `&` (so no `]]>` can appear in character data either, XML 1.0
    /// §2.4).
    fn push_escaped(&mut self, text: &str) {
        escape_into(&mut self.out, text, false);
    }

    /// Writes a generic element tree (for values the codec carries without interpreting).
    pub(crate) fn element(&mut self, el: &Element) {
        let attrs: Vec<(&str, &str)> = el
            .attrs
            .iter()
            .filter(|a| a.ns == Ns::None)
            .map(|a| (a.name.as_str(), a.value.as_str()))
            .collect();
        self.open(&el.ns, &el.name, &attrs);
        self.write_children(el);
        self.close();
    }

    fn write_children(&mut self, el: &Element) {
        for child in &el.children {
            match child {
                Node::Element(c) => self.element(c),
                Node::Text(t) => self.text(t),
            }
        }
    }

    /// The document so far.
    pub(crate) fn finish(self) -> String {
        debug_assert!(self.open.is_empty(), "unclosed elements: {:?}", self.open);
        let mut out = self.out;
        if self.pretty {
            out.push('\n');
        }
        out
    }
}

/// Appends `text` with `<`, `>` and `&` escaped (and `"` and `'` too in an attribute value),
/// copying the runs between them whole.
fn escape_into(out: &mut String, text: &str, attribute: bool) {
    // memchr finds the special bytes a vector at a time; attribute values (namespace URIs
    // above all) have two more, looked for only before the first of the other three.
    let find = |s: &str| {
        let bytes = s.as_bytes();
        let markup = memchr::memchr3(b'<', b'>', b'&', bytes);
        if attribute {
            let before = &bytes[..markup.unwrap_or(bytes.len())];
            memchr::memchr2(b'"', b'\'', before).or(markup)
        } else {
            markup
        }
    };
    let mut rest = text;
    // The special characters are ASCII, so a byte position found here is a char boundary.
    while let Some(i) = find(rest) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'"' => "&quot;",
            _ => "&apos;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::arbitrary::Arbitrary;
    use quick_xml::events::Event;
    use quick_xml::reader::Reader;

    fn read(s: &str) -> Result<Element, CodecError> {
        read_document(s.as_bytes(), &Limits::default())
    }

    proptest::proptest! {
        /// The vectorised search escapes exactly the characters a character-by-character
        /// escape does, in text and in attribute values.
        #[test]
        fn escaping_is_the_same_as_character_by_character(
            text in "[a-z<>&\"' é\u{1F600}]{0,40}",
            attribute: bool,
        ) {
            let mut fast = String::from("x");
            escape_into(&mut fast, &text, attribute);
            let mut slow = String::from("x");
            for c in text.chars() {
                match c {
                    '<' => slow.push_str("&lt;"),
                    '>' => slow.push_str("&gt;"),
                    '&' => slow.push_str("&amp;"),
                    '"' if attribute => slow.push_str("&quot;"),
                    '\'' if attribute => slow.push_str("&apos;"),
                    c => slow.push(c),
                }
            }
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    /// The reader as it was before [`Scanner`] (quick-xml's `Reader` drove it): the oracle the
    /// scanner's reader is compared with.
    fn quick_xml_reader(input: &[u8], limits: &Limits) -> Result<Element, CodecError> {
        let text = std::str::from_utf8(input)
            .map_err(|e| CodecError::syntax(format!("frame is not valid UTF-8: {e}")))?;
        let mut reader = Reader::from_str(text);
        {
            let config = reader.config_mut();
            // `<x/>` comes as one event, handled as a start and an end (expanding it in the reader
            // would copy its name).
            config.expand_empty_elements = false;
            // The reader checks end tags against start tags; `Scope` does too, with the
            // message it reports.
            config.check_end_names = true;
            config.check_comments = true;
            config.allow_dangling_amp = false;
            config.allow_unmatched_ends = false;
            config.trim_text(false);
        }

        let mut stack: Vec<Element> = Vec::with_capacity(limits.max_depth.min(8));
        let (mut bindings, mut open) = (Vec::new(), Vec::new());
        let mut scope = Scope {
            text,
            bindings: &mut bindings,
            open: &mut open,
        };
        let mut root: Option<Element> = None;
        let mut elements = 0usize;
        let mut seen_anything = false;

        loop {
            // Namespaces are resolved for start tags only: an end tag must repeat its start tag's
            // name (`check_end_names`), so resolving it again would only cost time.
            let event = reader
                .read_event()
                .map_err(|e| CodecError::syntax(format!("XML is not well-formed: {e}")))?;
            match event {
                Event::Decl(decl) => {
                    if seen_anything {
                        return Err(CodecError::syntax("XML declaration not at the start"));
                    }
                    check_declaration(&decl)?;
                }
                Event::DocType(_) => {
                    return Err(CodecError::syntax(
                        "a DOCTYPE is not allowed in an EPP frame (no DTDs, no entity definitions)",
                    ));
                }
                Event::PI(_) => {
                    return Err(CodecError::syntax(
                        "processing instructions are not allowed in an EPP frame",
                    ));
                }
                Event::Comment(_) => {}
                Event::Start(ref start) | Event::Empty(ref start) => {
                    admit_element(root.is_some(), &mut elements, stack.len(), limits)?;
                    let el = start_element(&mut scope, start, limits)?;
                    if matches!(event, Event::Empty(_)) {
                        // `<x/>` is `<x></x>` (XML 1.0 §3.1): its scope ends at once.
                        scope.close(start.name().as_ref().as_bytes())?;
                        attach(&mut stack, &mut root, el);
                    } else {
                        stack.push(el);
                    }
                }
                Event::End(end) => {
                    let done = stack
                        .pop()
                        .ok_or_else(|| CodecError::syntax("unmatched end tag"))?;
                    scope.close(end.name().as_ref().as_bytes())?;
                    attach(&mut stack, &mut root, done);
                }
                Event::Text(t) => {
                    // XML 1.0 §2.4: character data must not contain `]]>` (a CDATA section end
                    // outside one); a document that holds it is not well-formed.
                    if has_cdata_end(&t) {
                        return Err(CodecError::syntax(
                            "\"]]>\" in character data is not well-formed XML (XML 1.0 §2.4); write ]]&gt;",
                        ));
                    }
                    let content = t.xml10_content();
                    push_text(&mut stack, root.is_some(), &content)?;
                }
                Event::CData(c) => {
                    let content = c.xml10_content();
                    push_text(&mut stack, root.is_some(), &content)?;
                }
                Event::GeneralRef(r) => {
                    let resolved: Cow<'_, str> = match r
                        .resolve_char_ref()
                        .map_err(|e| CodecError::syntax(format!("bad character reference: {e}")))?
                    {
                        Some(c) => {
                            if !is_xml_char(c) {
                                return Err(CodecError::syntax(format!(
                                    "character reference to {:#x}, which XML does not allow",
                                    c as u32
                                )));
                            }
                            Cow::Owned(c.to_string())
                        }
                        None => {
                            let name = r.xml10_content();
                            match quick_xml::escape::resolve_predefined_entity(&name) {
                                Some(v) => Cow::Borrowed(v),
                                None => {
                                    return Err(CodecError::syntax(format!(
                                        "undefined entity &{name}; (only the five XML entities are allowed)"
                                    )));
                                }
                            }
                        }
                    };
                    if stack.is_empty() {
                        return Err(CodecError::syntax(
                            "entity reference outside the root element",
                        ));
                    }
                    push_text(&mut stack, root.is_some(), &resolved)?;
                }
                Event::Eof => break,
            }
            seen_anything = true;
        }
        if !stack.is_empty() {
            return Err(CodecError::syntax("XML ends inside an element"));
        }
        root.ok_or_else(|| CodecError::syntax("no root element"))
    }

    /// Pieces of markup and text the mutations splice into frames.
    const SPLICES: &[&str] = &[
        "<",
        ">",
        "/>",
        "</",
        "&",
        "&amp;",
        "&#x41;",
        "&#65;",
        "&#0;",
        "&#x;",
        "&#xD800;",
        "&bogus;",
        "]]>",
        "]]",
        "<!---->",
        "<!-- a -- b -->",
        "<!-- x --->",
        "<![CDATA[<a>&]]>",
        "<![CDATA[",
        "<?p x?>",
        "<?xml version=\"1.0\"?>",
        "<!DOCTYPE a>",
        "<!ELEMENT a>",
        "\r\n",
        "\r",
        "'",
        "\"",
        "=",
        " x='1'",
        " x=\"<\"",
        " xmlns:p='urn:p'",
        " xmlns=''",
        " p:x='1'",
        "<a>",
        "</a>",
        "<a/>",
        "<p:a/>",
        "\u{1}",
        "\u{feff}",
        " ",
        "\t",
        "é",
        "<a x='1' x='2'/>",
        "&lt;&gt;&quot;",
    ];

    /// Both readers take `xml` and build the same tree, or both refuse it, or only the
    /// scanner's refuses it for a reason quick-xml does not check: names (XML 1.0 §2.3), and
    /// `<` in a tag or an attribute value (§3.1 [40], [10]).
    fn agree(xml: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let limits = Limits::default();
        let new = read_document(xml.as_bytes(), &limits);
        let old = quick_xml_reader(xml.as_bytes(), &limits);
        match (&new, &old) {
            (Ok(a), Ok(b)) => proptest::prop_assert_eq!(a, b),
            (Err(_), Err(_)) => {}
            (Err(e), Ok(_)) => {
                let e = e.to_string();
                proptest::prop_assert!(
                    e.contains("bad element name")
                        || e.contains("bad name in end tag")
                        || e.contains("processing instruction target")
                        || e.contains("\"<\" in an attribute value")
                        || e.contains("\"<\" inside a tag"),
                    "refused what quick-xml's reader took: {e}\n{xml}"
                );
            }
            (Ok(_), Err(e)) => {
                proptest::prop_assert!(false, "took what quick-xml's reader refused ({e}):\n{xml}");
            }
        }
        Ok(())
    }

    proptest::proptest! {
        /// On real frames with markup spliced in or cut out, the reader accepts what the
        /// quick-xml-driven reader accepted, builds the same tree, and refuses the rest.
        #[test]
        fn agrees_with_the_quick_xml_reader(
            frame in crate::arb::frame(),
            pretty in proptest::bool::ANY,
            edits in proptest::collection::vec(
                (proptest::sample::select(SPLICES), proptest::sample::Index::arbitrary(), 0usize..4),
                0..4,
            ),
        ) {
            let mut xml = if pretty { frame.to_xml_pretty() } else { frame.to_xml() };
            for (piece, at, cut) in edits {
                let mut i = at.index(xml.len() + 1);
                while !xml.is_char_boundary(i) {
                    i -= 1;
                }
                let mut j = (i + cut).min(xml.len());
                while !xml.is_char_boundary(j) {
                    j += 1;
                }
                xml.replace_range(i..j, piece);
            }
            agree(&xml)?;
        }

        /// The same on documents made of nothing but those pieces, inside a root or not.
        #[test]
        fn agrees_with_the_quick_xml_reader_on_fragments(
            pieces in proptest::collection::vec(proptest::sample::select(SPLICES), 0..10),
            wrap in proptest::bool::ANY,
        ) {
            let inner = pieces.concat();
            let xml = if wrap { format!("<e xmlns='urn:x'>{inner}</e>") } else { inner };
            agree(&xml)?;
        }
    }

    #[test]
    fn resolves_namespaces_not_prefixes() {
        let a =
            read(r#"<x:epp xmlns:x="urn:ietf:params:xml:ns:epp-1.0"><x:hello/></x:epp>"#).unwrap();
        let b = read(r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/></epp>"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.ns, Ns::Epp);
        let c = read(r#"<epp xmlns="urn:example:other"><hello/></epp>"#).unwrap();
        assert_eq!(c.ns, Ns::Other("urn:example:other".into()));
    }

    #[test]
    fn long_prefixes_that_share_their_start_are_told_apart() {
        // The packed key holds seven octets of a prefix: longer ones are compared in full.
        let el = read(concat!(
            r#"<a xmlns="urn:x" xmlns:prefix_one="urn:one" xmlns:prefix_two="urn:two" "#,
            r#"xmlns:prefix_="urn:short"><prefix_one:b/><prefix_two:c/><prefix_:d/></a>"#
        ))
        .unwrap();
        let namespaces: Vec<Ns> = el
            .children
            .iter()
            .filter_map(|n| match n {
                Node::Element(e) => Some(e.ns.clone()),
                Node::Text(_) => None,
            })
            .collect();
        assert_eq!(
            namespaces,
            [
                Ns::Other("urn:one".into()),
                Ns::Other("urn:two".into()),
                Ns::Other("urn:short".into())
            ]
        );
        assert!(read(r#"<a xmlns:prefix_one="urn:one"><prefix_onf:b/></a>"#).is_err());
    }

    proptest::proptest! {
        #[test]
        fn byte_scans_agree_with_char_scans(s in "[a\\]>\u{1}\t\u{fffe}\u{ffff}\u{fffd}é\u{ef00}]{0,12}") {
            proptest::prop_assert_eq!(forbidden_char(&s), s.chars().find(|c| !is_xml_char(*c)));
            proptest::prop_assert_eq!(has_cdata_end(&s), s.contains("]]>"));
        }
    }

    #[test]
    fn forbidden_characters_are_found_by_bytes_as_by_chars() {
        for s in [
            "plain",
            "tab\tlf\ncr\r",
            "\u{1}",
            "a\u{1f}b",
            "\u{fffe}",
            "x\u{ffff}",
            "\u{fffd}\u{ef00}\u{10ffff}é",
            "\u{7f}\u{85}",
            "\u{e000}\u{d7ff}",
            "ok\u{fffe}",
            "\u{ef}\u{fffe}",
        ] {
            let by_chars = s.chars().find(|c| !is_xml_char(*c));
            assert_eq!(forbidden_char(s), by_chars, "{s:?}");
        }
    }

    #[test]
    fn namespace_scopes_follow_namespaces_in_xml() {
        // Nested rebinding, the default namespace undeclared, a prefixed attribute.
        let el = read(
            r#"<a xmlns="urn:x" xmlns:p="urn:p"><p:b p:k="v"><p:c xmlns:p="urn:q"/></p:b><d xmlns=""/><e/></a>"#,
        )
        .unwrap();
        let kids: Vec<&Element> = el.element_children().unwrap().rest();
        assert_eq!(kids[0].ns, Ns::Other("urn:p".into()));
        assert_eq!(kids[0].attrs[0].ns, Ns::Other("urn:p".into()));
        let c = kids[0].first_child().unwrap();
        assert_eq!(c.ns, Ns::Other("urn:q".into()));
        assert_eq!(kids[1].ns, Ns::None);
        assert_eq!(kids[2].ns, Ns::Other("urn:x".into()));
        // The binding of p ends with its element.
        assert!(read(r#"<a><b xmlns:p="urn:p"/><p:c/></a>"#).is_err());
        for bad in [
            r#"<p:a/>"#,
            r#"<a xmlns:p=""/>"#,
            r#"<a xmlns:xml="urn:other"/>"#,
            r#"<a xmlns:xmlns="urn:other"/>"#,
            r#"<a xmlns:p="http://www.w3.org/XML/1998/namespace"/>"#,
            r#"<a xmlns="http://www.w3.org/2000/xmlns/"/>"#,
            r#"<xmlns:a/>"#,
            r#"<a q:k="v"/>"#,
            r#"<a xmlns:p="urn:p" xmlns:q="urn:p" p:k="1" q:k="2"/>"#,
        ] {
            assert!(read(bad).is_err(), "{bad} should be refused");
        }
        assert!(
            read(r#"<a xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:lang="en"/>"#).is_ok()
        );
    }

    #[test]
    fn refuses_dtd_entities_and_pis() {
        let dtd = r#"<?xml version="1.0"?><!DOCTYPE epp [<!ENTITY a "aaaa">]><epp xmlns="urn:ietf:params:xml:ns:epp-1.0">&a;</epp>"#;
        assert!(read(dtd).unwrap_err().to_string().contains("DOCTYPE"));
        let ent = r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0">&a;</epp>"#;
        assert!(
            read(ent)
                .unwrap_err()
                .to_string()
                .contains("undefined entity")
        );
        let pi = r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><?php x?></epp>"#;
        assert!(read(pi).is_err());
        let ok = read(r#"<e xmlns="urn:x">a&amp;b&#x41;&lt;</e>"#).unwrap();
        assert_eq!(ok.raw_text().unwrap(), "a&bA<");
    }

    /// The working lists kept between documents start empty each time: a document refused
    /// halfway (open elements, namespace bindings in scope) leaves nothing to the next.
    #[test]
    fn a_refused_document_leaves_nothing_behind() {
        assert!(read(r#"<a xmlns:p="urn:p"><p:b><c>"#).is_err());
        assert!(read(r#"<p:b/>"#).is_err(), "p is not bound any more");
        let el = read(r#"<e xmlns="urn:x"><f/></e>"#).unwrap();
        assert_eq!(el.name, "e");
        assert_eq!(el.element_children().unwrap().rest().len(), 1);
    }

    #[test]
    fn bounds_depth_and_attributes() {
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(read(&deep).unwrap_err().to_string().contains("nest deeper"));
        let attrs: String = (0..40).map(|i| format!(" a{i}=\"1\"")).collect();
        assert!(read(&format!("<a{attrs}/>")).is_err());
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "<",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text",
            "<a>\u{1}</a>",
            "<a x='1' x='2'/>",
            "<p:a/>",
            "<?xml version=\"1.1\"?><a/>",
            "<a/>trailing",
            "<a>x]]>y</a>",
            "<a><![CDATA[x]]>]]></a>",
        ] {
            assert!(read(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn writer_escapes_text_and_attributes() {
        let mut w = XmlWriter::new();
        w.text_el(&Ns::Epp, "a", &[("x", "1<2 & \"q\" 'a'")], "]]> & <b>");
        let s = w.finish();
        assert!(
            s.ends_with(r#"<a xmlns="urn:ietf:params:xml:ns:epp-1.0" x="1&lt;2 &amp; &quot;q&quot; &apos;a&apos;">]]&gt; &amp; &lt;b&gt;</a>"#),
            "{s}"
        );
        let back = read(&s).unwrap();
        assert_eq!(back.attr("x"), Some("1<2 & \"q\" 'a'"));
        assert_eq!(back.raw_text().unwrap(), "]]> & <b>");
    }

    #[test]
    fn writer_declares_each_namespace_once() {
        let mut w = XmlWriter::new();
        w.open(&Ns::Epp, "epp", &[]);
        w.open(&Ns::Domain, "info", &[]);
        w.text_el(&Ns::Domain, "name", &[("hosts", "all")], "a&b.nl");
        w.close();
        w.close();
        let s = w.finish();
        assert_eq!(
            s,
            r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><domain:info xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name hosts="all">a&amp;b.nl</domain:name></domain:info></epp>"#
        );
        let back = read(&s).unwrap();
        assert_eq!(back.ns, Ns::Epp);
    }
}
