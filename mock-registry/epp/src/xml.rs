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

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::error::CodecError;
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
            items: self
                .children
                .iter()
                .filter_map(|n| match n {
                    Node::Element(e) => Some(e),
                    Node::Text(_) => None,
                })
                .collect(),
            pos: 0,
        })
    }

    /// The text of a simple-content element (no child elements), not normalised.
    pub(crate) fn raw_text(&self) -> Result<Cow<'_, str>, CodecError> {
        let mut texts = Vec::new();
        for node in &self.children {
            match node {
                Node::Text(t) => texts.push(t.as_str()),
                Node::Element(e) => {
                    return Err(CodecError::syntax(format!(
                        "unexpected element <{}> in the text content of <{}>",
                        e.qname(),
                        self.qname()
                    )));
                }
            }
        }
        Ok(match texts.as_slice() {
            [] => Cow::Borrowed(""),
            [one] => Cow::Borrowed(one),
            many => Cow::Owned(many.concat()),
        })
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
        check_len(&self.qname(), &t, min, max)?;
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

fn check_len(what: &str, v: &str, min: usize, max: usize) -> Result<(), CodecError> {
    let n = v.chars().count();
    if n < min || n > max {
        return Err(CodecError::value_syntax(format!(
            "<{what}> must be {min} to {max} characters, got {n}"
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
/// out of order, which, like any leftover element, is a *syntax error* (2001).
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    parent: &'a Element,
    items: Vec<&'a Element>,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// The next element if it is `ns:name`.
    pub(crate) fn optional(&mut self, ns: &Ns, name: &str) -> Option<&'a Element> {
        let next = self.items.get(self.pos).copied()?;
        if next.is(ns, name) {
            self.pos += 1;
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
        let later = self.items[self.pos..].iter().any(|e| e.is(ns, name));
        if later {
            let found = self.items[self.pos];
            Err(CodecError::syntax(format!(
                "<{}> found where <{}> was expected in <{}>",
                found.qname(),
                Element::new(ns.clone(), name).qname(),
                self.parent.qname()
            ))
            .with_offending(found.clone()))
        } else {
            Err(CodecError::missing(format!(
                "<{}> is required in <{}>",
                Element::new(ns.clone(), name).qname(),
                self.parent.qname()
            )))
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
        let next = self.items.get(self.pos).copied()?;
        self.pos += 1;
        Some(next)
    }

    /// Peeks at the next element.
    pub(crate) fn peek(&self) -> Option<&'a Element> {
        self.items.get(self.pos).copied()
    }

    /// All remaining elements.
    pub(crate) fn rest(&mut self) -> Vec<&'a Element> {
        let rest = self.items[self.pos..].to_vec();
        self.pos = self.items.len();
        rest
    }

    /// Fails if any element was not consumed.
    pub(crate) fn finish(self) -> Result<(), CodecError> {
        match self.items.get(self.pos) {
            None => Ok(()),
            Some(extra) => Err(CodecError::syntax(format!(
                "unexpected element <{}> in <{}>",
                extra.qname(),
                self.parent.qname()
            ))
            .with_offending((*extra).clone())),
        }
    }
}

/// Parses a complete document into its root element, enforcing the hardening rules.
pub fn read_document(input: &[u8], limits: &Limits) -> Result<Element, CodecError> {
    let text = std::str::from_utf8(input)
        .map_err(|e| CodecError::syntax(format!("frame is not valid UTF-8: {e}")))?;
    let mut reader = NsReader::from_str(text);
    {
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.check_comments = true;
        config.allow_dangling_amp = false;
        config.allow_unmatched_ends = false;
        config.trim_text(false);
    }

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    let mut seen_anything = false;

    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| CodecError::syntax(format!("XML is not well-formed: {e}")))?;
        let ns = match &resolved {
            ResolveResult::Bound(n) => Some(Ns::from_uri(n.as_ref())),
            ResolveResult::Unbound => Some(Ns::None),
            ResolveResult::Unknown(p) => {
                return Err(CodecError::syntax(format!(
                    "namespace prefix {p:?} is not declared"
                )));
            }
        };
        match event {
            Event::Decl(decl) => {
                if seen_anything {
                    return Err(CodecError::syntax("XML declaration not at the start"));
                }
                let version = decl
                    .version()
                    .map_err(|e| CodecError::syntax(format!("bad XML declaration: {e}")))?;
                if version != "1.0" {
                    return Err(CodecError::syntax(format!(
                        "XML version {version} is not supported (EPP uses XML 1.0)"
                    )));
                }
                if let Some(enc) = decl.encoding() {
                    let enc =
                        enc.map_err(|e| CodecError::syntax(format!("bad XML declaration: {e}")))?;
                    if !enc.eq_ignore_ascii_case("utf-8") {
                        return Err(CodecError::syntax(format!(
                            "encoding {enc:?} is not supported (EPP frames here are UTF-8)"
                        )));
                    }
                }
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
            Event::Start(start) => {
                if root.is_some() {
                    return Err(CodecError::syntax("content after the root element"));
                }
                elements += 1;
                if elements > limits.max_elements {
                    return Err(CodecError::syntax(format!(
                        "more than {} elements",
                        limits.max_elements
                    )));
                }
                if stack.len() >= limits.max_depth {
                    return Err(CodecError::syntax(format!(
                        "elements nest deeper than {}",
                        limits.max_depth
                    )));
                }
                let ns = ns.expect("invariant: start events are always resolved");
                let el = start_element(&reader, &start, ns, limits)?;
                stack.push(el);
            }
            Event::End(_) => {
                let done = stack
                    .pop()
                    .ok_or_else(|| CodecError::syntax("unmatched end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => root = Some(done),
                }
            }
            Event::Empty(_) => {
                return Err(CodecError::syntax(
                    "internal: empty elements are expanded by the reader",
                ));
            }
            Event::Text(t) => {
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

fn is_xml_char(c: char) -> bool {
    matches!(c as u32, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

fn push_text(stack: &mut [Element], after_root: bool, text: &str) -> Result<(), CodecError> {
    if let Some(c) = text.chars().find(|c| !is_xml_char(*c)) {
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

fn start_element(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    ns: Ns,
    limits: &Limits,
) -> Result<Element, CodecError> {
    let local = start.local_name().into_inner().to_string();
    let mut el = Element::new(ns, local);
    let mut count = 0usize;
    for attr in start.attributes().with_checks(true) {
        let attr = attr.map_err(|e| CodecError::syntax(format!("bad attribute: {e}")))?;
        count += 1;
        if count > limits.max_attributes {
            return Err(CodecError::syntax(format!(
                "more than {} attributes on one element",
                limits.max_attributes
            )));
        }
        let key = attr.key;
        // Namespace declarations are consumed by the resolver, not attributes.
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let (resolved, local) = reader.resolver().resolve_attribute(key);
        let ans = match resolved {
            ResolveResult::Bound(n) => Ns::from_uri(n.as_ref()),
            ResolveResult::Unbound => Ns::None,
            ResolveResult::Unknown(p) => {
                return Err(CodecError::syntax(format!(
                    "attribute prefix {p:?} is not declared"
                )));
            }
        };
        let name = local.into_inner().to_string();
        // Resolves the five predefined entities and character references and applies
        // attribute-value normalisation (XML 1.0 §3.3.3); anything else is an error.
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Explicit1_0)
            .map_err(|e| CodecError::syntax(format!("bad attribute value: {e}")))?;
        if let Some(c) = value.chars().find(|c| !is_xml_char(*c)) {
            return Err(CodecError::syntax(format!(
                "character {:#x} is not allowed in XML",
                c as u32
            )));
        }
        let value = value.into_owned();
        if el.attrs.iter().any(|a| a.ns == ans && a.name == name) {
            return Err(CodecError::syntax(format!("duplicate attribute {name:?}")));
        }
        el.attrs.push(Attr {
            ns: ans,
            name,
            value,
        });
    }
    Ok(el)
}

/// Writes XML into a string, declaring each namespace prefix on the outermost element that
/// uses it (the style of the RFC examples), compact or indented.
#[derive(Debug)]
pub(crate) struct XmlWriter {
    out: String,
    /// For each open element: its namespace, name, the namespaces declared on it, and whether
    /// it has element children (so the indented form knows where to break lines).
    open: Vec<(Ns, String, Vec<Ns>, bool)>,
    /// Indent with two spaces per level (`None`: one line, the wire form).
    pretty: bool,
    /// The last start tag is still open (its `>` not yet written), so [`declare`]
    /// can add namespace declarations to it.
    ///
    /// [`declare`]: Self::declare
    tag_open: bool,
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

    fn with_style(pretty: bool) -> Self {
        let mut out = String::with_capacity(1024);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>");
        Self {
            out,
            open: Vec::new(),
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
        if let Some(top) = self.open.last_mut() {
            top.2.push(ns.clone());
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
        self.out.push_str(&escape_attr(ns.uri()));
        self.out.push('"');
    }

    /// Starts a new line at the current depth (indented form only) and marks the parent as
    /// having element children.
    fn break_line(&mut self) {
        self.end_start_tag();
        if let Some(parent) = self.open.last_mut() {
            parent.3 = true;
        }
        if self.pretty {
            self.out.push('\n');
            for _ in 0..self.open.len() {
                self.out.push_str("  ");
            }
        }
    }

    /// `true` when `ns`'s prefix is bound to `ns` in the current scope (the innermost binding
    /// of a prefix wins, as in XML).
    fn declared(&self, ns: &Ns) -> bool {
        let prefix = ns.prefix();
        for (_, _, decls, _) in self.open.iter().rev() {
            if let Some(d) = decls.iter().find(|d| d.prefix() == prefix) {
                return d == ns;
            }
        }
        false
    }

    fn write_name(&mut self, ns: &Ns, name: &str) {
        if let Some(p) = ns.prefix() {
            self.out.push_str(p);
            self.out.push(':');
        }
        self.out.push_str(name);
    }

    fn start_tag(&mut self, ns: &Ns, name: &str, attrs: &[(&str, &str)]) -> Vec<Ns> {
        self.break_line();
        self.out.push('<');
        self.write_name(ns, name);
        let mut decls = Vec::new();
        if !self.declared(ns) {
            self.write_decl(ns);
            decls.push(ns.clone());
        }
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&escape_attr(v));
            self.out.push('"');
        }
        decls
    }

    /// Opens `ns:name` with attributes.
    pub(crate) fn open(&mut self, ns: &Ns, name: &str, attrs: &[(&str, &str)]) {
        let decls = self.start_tag(ns, name, attrs);
        self.tag_open = true;
        self.open.push((ns.clone(), name.to_string(), decls, false));
    }

    /// Closes the innermost open element.
    pub(crate) fn close(&mut self) {
        let (ns, name, _, has_children) = self
            .open
            .pop()
            .expect("invariant: writers close only what they opened");
        self.end_start_tag();
        if has_children && self.pretty {
            self.out.push('\n');
            for _ in 0..self.open.len() {
                self.out.push_str("  ");
            }
        }
        self.out.push_str("</");
        self.write_name(&ns, &name);
        self.out.push('>');
    }

    /// Writes `<ns:name attrs/>`.
    pub(crate) fn empty(&mut self, ns: &Ns, name: &str, attrs: &[(&str, &str)]) {
        self.start_tag(ns, name, attrs);
        self.out.push_str("/>");
    }

    /// Writes `<ns:name attrs>text</ns:name>`.
    pub(crate) fn text_el(&mut self, ns: &Ns, name: &str, attrs: &[(&str, &str)], text: &str) {
        let decls = self.start_tag(ns, name, attrs);
        self.out.push('>');
        self.open.push((ns.clone(), name.to_string(), decls, false));
        self.text(text);
        self.close();
    }

    /// Shorthand for a text element without attributes.
    pub(crate) fn leaf(&mut self, ns: &Ns, name: &str, text: &str) {
        self.text_el(ns, name, &[], text);
    }

    /// Writes escaped character data.
    pub(crate) fn text(&mut self, text: &str) {
        self.end_start_tag();
        self.out.push_str(&quick_xml::escape::partial_escape(text));
    }

    /// Writes a generic element tree (for values the codec carries without interpreting).
    pub(crate) fn element(&mut self, el: &Element) {
        let attrs: Vec<(String, String)> = el
            .attrs
            .iter()
            .filter(|a| a.ns == Ns::None)
            .map(|a| (a.name.clone(), a.value.clone()))
            .collect();
        let attr_refs: Vec<(&str, &str)> = attrs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.open(&el.ns, &el.name, &attr_refs);
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

fn escape_attr(v: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Result<Element, CodecError> {
        read_document(s.as_bytes(), &Limits::default())
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
        ] {
            assert!(read(bad).is_err(), "{bad:?} should be rejected");
        }
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
