//! The markup scanner under the XML reader: splits a frame into character data and markup
//! (XML 1.0 §2.4–§2.8, §3.1, §4.1) without copying anything.
//!
//! Why not quick-xml's `Reader`: the reader keeps its own copy of every open element's name
//! to match end tags, which [`xml`](crate::xml)'s namespace scope does as well, and it grows
//! that copy from nothing for every frame. Those allocations were a sixth of the registry's
//! parse time. The scanner only finds where each construct starts and ends and checks the
//! rules that belong to its syntax (names, comments, unclosed markup); what a construct means
//! (namespaces, references, which constructs a frame may hold) is the reader's. Attributes are
//! still read by quick-xml's [`BytesStart::attributes`](quick_xml::events::BytesStart).

use crate::error::CodecError;

/// One construct of the document, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'t> {
    /// Character data as written: references not resolved, line ends not normalised.
    Text(&'t str),
    /// A start tag or an empty-element tag: what lies between `<` and `>` (or `/>`), and the
    /// length of the element's name at its start.
    Start {
        content: &'t str,
        name_len: usize,
        empty: bool,
    },
    /// An end tag's name (whitespace before `>` is allowed, XML 1.0 §3.1 [42]).
    End(&'t str),
    /// The content of a CDATA section.
    CData(&'t str),
    /// A comment (its content is of no use to EPP).
    Comment,
    /// An XML declaration: what lies between `<?` and `?>`, starting with `xml`.
    Decl(&'t str),
    /// A processing instruction, with its target.
    Pi(&'t str),
    /// A document type declaration.
    DocType,
}

/// Walks a document from its start, one [`Token`] at a time.
#[derive(Debug)]
pub(crate) struct Scanner<'t> {
    text: &'t str,
    pos: usize,
}

fn not_well_formed(why: impl std::fmt::Display) -> CodecError {
    CodecError::syntax(format!("XML is not well-formed: {why}"))
}

/// XML whitespace (§2.3 [3]).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `true` when `name` matches the Name production (§2.3 [5]). Non-ASCII characters are taken
/// as name characters, as they are in every range the production lists except a few
/// punctuation marks no EPP software writes.
pub(crate) fn is_name(name: &str) -> bool {
    match name.as_bytes() {
        [first, rest @ ..] => {
            NAME_START[usize::from(*first)] && rest.iter().all(|&b| NAME_CHAR[usize::from(b)])
        }
        [] => false,
    }
}

impl<'t> Scanner<'t> {
    /// A scanner over `text`, after a UTF-8 byte order mark if there is one (§4.3.3).
    pub(crate) fn new(text: &'t str) -> Self {
        let pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Self { text, pos }
    }

    /// The next construct, or `None` at the end of the document.
    pub(crate) fn next_token(&mut self) -> Result<Option<Token<'t>>, CodecError> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        if start >= bytes.len() {
            return Ok(None);
        }
        if bytes[start] != b'<' {
            let end = find_byte(bytes, start, b'<').unwrap_or(bytes.len());
            self.pos = end;
            return Ok(Some(Token::Text(&self.text[start..end])));
        }
        let rest = &self.text[start..];
        let token = if let Some(after) = rest.strip_prefix("</") {
            let close = find_byte(after.as_bytes(), 0, b'>')
                .ok_or_else(|| not_well_formed("end tag is not closed"))?;
            let name = after[..close].trim_end_matches(|c: char| c.is_ascii() && is_space(c as u8));
            if !is_name(name) {
                return Err(not_well_formed(format!(
                    "bad name in end tag </{}>",
                    &after[..close]
                )));
            }
            self.pos = start + 2 + close + 1;
            Token::End(name)
        } else if let Some(after) = rest.strip_prefix("<!--") {
            let close =
                find(after, "-->").ok_or_else(|| not_well_formed("comment is not closed"))?;
            let content = &after[..close];
            // §2.5 [15]: "--" must not occur in a comment, nor may one end in "--->".
            if content.contains("--") || content.ends_with('-') {
                return Err(not_well_formed("\"--\" inside a comment"));
            }
            self.pos = start + 4 + close + 3;
            Token::Comment
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let close =
                find(after, "]]>").ok_or_else(|| not_well_formed("CDATA section is not closed"))?;
            self.pos = start + 9 + close + 3;
            Token::CData(&after[..close])
        } else if rest.len() >= 9 && rest.as_bytes()[..9].eq_ignore_ascii_case(b"<!DOCTYPE") {
            // Nothing after it is read: the reader refuses the document here.
            self.pos = bytes.len();
            Token::DocType
        } else if rest.starts_with("<!") {
            return Err(not_well_formed(
                "\"<!\" starts neither a comment, a CDATA section nor a DOCTYPE",
            ));
        } else if let Some(after) = rest.strip_prefix("<?") {
            let close = find(after, "?>")
                .ok_or_else(|| not_well_formed("processing instruction is not closed"))?;
            let content = &after[..close];
            let target_len = content.bytes().position(is_space).unwrap_or(content.len());
            self.pos = start + 2 + close + 2;
            let target = &content[..target_len];
            if target == "xml" {
                Token::Decl(content)
            } else if is_name(target) {
                Token::Pi(target)
            } else {
                return Err(not_well_formed(format!(
                    "bad processing instruction target {target:?}"
                )));
            }
        } else {
            let close = tag_end(bytes, start + 1)?;
            let inner = &self.text[start + 1..close];
            let (content, empty) = match inner.strip_suffix('/') {
                Some(c) => (c, true),
                None => (inner, false),
            };
            let name_len = content.bytes().position(is_space).unwrap_or(content.len());
            if !is_name(&content[..name_len]) {
                return Err(not_well_formed(format!(
                    "bad element name in <{}>",
                    &content[..name_len]
                )));
            }
            self.pos = close + 1;
            Token::Start {
                content,
                name_len,
                empty,
            }
        };
        Ok(Some(token))
    }
}

fn find_byte(bytes: &[u8], from: usize, wanted: u8) -> Option<usize> {
    memchr::memchr(wanted, &bytes[from..]).map(|off| from + off)
}

/// Where `needle` (a short terminator such as `-->`) first occurs in `haystack`: its first
/// byte by `memchr`, then the rest compared (a `memmem` searcher costs more to build than
/// these searches take).
fn find(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    let first = *n.first()?;
    let mut from = 0;
    while let Some(at) = find_byte(h, from, first) {
        if h[at..].starts_with(n) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Bytes that may start a name (§2.3 [4]); bytes of multi-byte characters count as such.
const NAME_START: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphabetic()
            || b == b'_' as usize
            || b == b':' as usize
            || b >= 0x80;
        b += 1;
    }
    t
};

/// Bytes that may continue a name (§2.3 [4a]).
const NAME_CHAR: [bool; 256] = {
    let mut t = NAME_START;
    let mut b = 0;
    while b < 256 {
        if (b as u8).is_ascii_digit() || b == b'-' as usize || b == b'.' as usize {
            t[b] = true;
        }
        b += 1;
    }
    t
};

/// Where the `>` of a tag starting at `from` (just after its `<`) lies: the first one outside
/// a quoted attribute value. A `<` before it is an error (§3.1 [40], and [10]: no `<` in a
/// value).
fn tag_end(bytes: &[u8], from: usize) -> Result<usize, CodecError> {
    let mut at = from;
    loop {
        // Outside quotes: the tag ends, a value starts, or the tag is broken.
        let i = at
            + memchr::memchr3(b'>', b'"', b'\'', &bytes[at..])
                .ok_or_else(|| not_well_formed("tag is not closed"))?;
        if memchr::memchr(b'<', &bytes[at..i]).is_some() {
            return Err(not_well_formed("\"<\" inside a tag"));
        }
        if bytes[i] == b'>' {
            return Ok(i);
        }
        // Inside the value: up to its closing quote, without `<`.
        let quote = bytes[i];
        let end = find_byte(bytes, i + 1, quote)
            .ok_or_else(|| not_well_formed("attribute value is not closed"))?;
        if memchr::memchr(b'<', &bytes[i + 1..end]).is_some() {
            return Err(not_well_formed("\"<\" in an attribute value"));
        }
        at = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Result<Vec<Token<'_>>, CodecError> {
        let mut scanner = Scanner::new(s);
        let mut out = Vec::new();
        while let Some(t) = scanner.next_token()? {
            out.push(t);
        }
        Ok(out)
    }

    #[test]
    fn splits_markup_and_text() {
        let got = tokens(
            "\u{feff}<?xml version=\"1.0\"?><!-- c --><a x='>' y=\"/\">t&amp;<![CDATA[<d>]]><b/></a \n><?p i?>",
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                Token::Decl("xml version=\"1.0\""),
                Token::Comment,
                Token::Start {
                    content: "a x='>' y=\"/\"",
                    name_len: 1,
                    empty: false
                },
                Token::Text("t&amp;"),
                Token::CData("<d>"),
                Token::Start {
                    content: "b",
                    name_len: 1,
                    empty: true
                },
                Token::End("a"),
                Token::Pi("p"),
            ]
        );
        assert_eq!(tokens("<!doctype x><a/>").unwrap(), vec![Token::DocType]);
    }

    #[test]
    fn refuses_broken_markup() {
        for bad in [
            "<",
            "<a",
            "<a x='1>",
            "</a",
            "<!-- x",
            "<!-- a -- b -->",
            "<!-- a --->",
            "<![CDATA[x",
            "<!ELEMENT a ANY>",
            "<?p x",
            "<? x?>",
            "< a>",
            "<1a/>",
            "<a/b>",
            "</ a>",
            "</>",
            "<a x='<'/>",
            "<a <b>",
            "<>",
        ] {
            assert!(tokens(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn names_follow_the_name_production() {
        for good in ["a", "_a", "a:b", "a-b.c1", "é", "epp"] {
            assert!(is_name(good), "{good}");
        }
        for bad in ["", "1a", "-a", ".a", "a b", "a/b", "a>", "a=b", "a'"] {
            assert!(!is_name(bad), "{bad}");
        }
    }
}
