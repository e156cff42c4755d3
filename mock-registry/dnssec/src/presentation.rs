//! Record data as text (the master-file presentation form of RFC 1035 §5.1), written and read
//! back without loss.
//!
//! Scenario files, the adapter protocol, zone text handed to the built-in operators and the
//! checks' messages all carry record data as text, and every one of them must mean the same
//! octets: a registrant's `TXT "v=spf1 a -all"` that came back as two strings would be served
//! as different data than the registrant asked for. hickory-proto's `Display` is not a
//! presentation form for the types that hold character-strings (TXT and HINFO lose their quotes,
//! so a space splits one string into two), and its lexer misreads `\DDD` escapes. So the
//! character-string types are written and read here, and every other type is read by hickory and
//! accepted only if it reads back the same from its own text ([`parse_rdata`]).
//!
//! A character-string is written quoted, with `"` and `\` escaped by a backslash and every octet
//! outside printable ASCII as `\DDD` (three decimal digits): the form BIND, Knot and PowerDNS
//! read and write.

use std::fmt::Write as _;

use hickory_proto::rr::rdata::{HINFO, TXT};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};

/// Why record data text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresentationError {
    /// The text is not valid data of the type.
    #[error("{rtype} data: {reason}")]
    Invalid {
        /// The record type the text was read as.
        rtype: RecordType,
        /// What is wrong.
        reason: String,
    },
    /// hickory-proto reads the text, but its text form of the result reads back as different
    /// data: the record could not travel as text (to a zone file, a real server, a registrar
    /// process) without changing.
    #[error(
        "{rtype} data {text:?} does not survive being written out as text (it reads back as \
         {back:?}); write it without quotes and escapes, or in the RFC 3597 generic form"
    )]
    NotFaithful {
        /// The record type.
        rtype: RecordType,
        /// The text as given.
        text: String,
        /// The text form of what it was read as.
        back: String,
    },
}

/// The target of DNAME rdata made by [`dname_rdata`](crate::zone::dname_rdata) or read off the wire.
pub fn dname_target(rdata: &RData) -> Option<Name> {
    match rdata {
        RData::Unknown {
            code: RecordType::DNAME,
            rdata,
        } => {
            let mut decoder = BinDecoder::new(&rdata.anything);
            let name = Name::read(&mut decoder).ok()?;
            (decoder.is_empty()).then_some(name)
        }
        _ => None,
    }
}

/// Record data in presentation form; DNAME (opaque to hickory) as its target name.
pub fn rdata_text(rdata: &RData) -> String {
    if let Some(target) = dname_target(rdata) {
        return target.to_string();
    }
    match rdata {
        RData::TXT(txt) => {
            let mut out = String::new();
            for (i, s) in txt.txt_data.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_string(&mut out, s);
            }
            out
        }
        RData::HINFO(h) => {
            let mut out = String::new();
            write_string(&mut out, &h.cpu);
            out.push(' ');
            write_string(&mut out, &h.os);
            out
        }
        other => other.to_string(),
    }
}

/// Writes one character-string, quoted and escaped (see the module documentation).
fn write_string(out: &mut String, octets: &[u8]) {
    out.push('"');
    for &b in octets {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\{b:03}");
            }
        }
    }
    out.push('"');
}

/// Reads record data of `rtype` from presentation text (DNAME excepted: the zone reads its
/// target itself).
///
/// TXT and HINFO are read here: character-strings quoted or not, `\X` and `\DDD` escapes, at most
/// 255 octets each (RFC 1035 §3.3, §5.1). Every other type is read by hickory-proto and refused
/// when its text holds a backslash (hickory's escapes are not RFC 1035's) or when the data does
/// not read back the same from [`rdata_text`] ([`PresentationError::NotFaithful`]).
pub fn parse_rdata(rtype: RecordType, text: &str) -> Result<RData, PresentationError> {
    let invalid = |reason: String| PresentationError::Invalid { rtype, reason };
    match rtype {
        RecordType::TXT => {
            let strings = read_strings(text).map_err(invalid)?;
            if strings.is_empty() {
                return Err(invalid("no character-string".into()));
            }
            Ok(RData::TXT(TXT::from_bytes(
                strings.iter().map(Vec::as_slice).collect(),
            )))
        }
        RecordType::HINFO => {
            let strings = read_strings(text).map_err(invalid)?;
            let [cpu, os] = <[Vec<u8>; 2]>::try_from(strings).map_err(|s| {
                invalid(format!(
                    "HINFO holds two character-strings, CPU and OS, not {}",
                    s.len()
                ))
            })?;
            Ok(RData::HINFO(HINFO::from_bytes(
                cpu.into_boxed_slice(),
                os.into_boxed_slice(),
            )))
        }
        _ => {
            if text.contains('\\') {
                return Err(invalid(
                    "escapes (\\X, \\DDD) are read only in TXT and HINFO data".into(),
                ));
            }
            let rdata = hickory_read(rtype, text).map_err(invalid)?;
            let back = rdata_text(&rdata);
            match hickory_read(rtype, &back) {
                Ok(again) if again == rdata => Ok(rdata),
                _ => Err(PresentationError::NotFaithful {
                    rtype,
                    text: text.to_string(),
                    back,
                }),
            }
        }
    }
}

fn hickory_read(rtype: RecordType, text: &str) -> Result<RData, String> {
    RData::try_from_str(rtype, text).map_err(|e| e.to_string())
}

/// The character-strings of `text`, each quoted or a run of non-blank characters.
fn read_strings(text: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            return Ok(out);
        };
        let quoted = first == '"';
        if quoted {
            chars.next();
        }
        let mut s = Vec::new();
        loop {
            match chars.next() {
                None if quoted => {
                    return Err("a quoted character-string is not closed".into());
                }
                None => break,
                Some('"') if quoted => {
                    if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                        return Err("a closing quote must be followed by a blank or the end".into());
                    }
                    break;
                }
                Some(c) if !quoted && c.is_whitespace() => break,
                Some(c @ ('"' | ';' | '(' | ')')) if !quoted => {
                    return Err(format!(
                        "{c:?} inside an unquoted character-string: quote the string"
                    ));
                }
                Some('\\') => match chars.next() {
                    None => return Err("a backslash ends the text".into()),
                    Some(d) if d.is_ascii_digit() => {
                        let mut value = d.to_digit(10).unwrap_or(0);
                        for _ in 0..2 {
                            let Some(next) = chars.next().and_then(|c| c.to_digit(10)) else {
                                return Err("\\DDD needs three decimal digits".into());
                            };
                            value = value * 10 + next;
                        }
                        let octet = u8::try_from(value)
                            .map_err(|_| format!("\\{value} is not an octet (at most \\255)"))?;
                        s.push(octet);
                    }
                    Some(c) => push_char(&mut s, c),
                },
                Some(c) => push_char(&mut s, c),
            }
        }
        if s.len() > 255 {
            return Err(format!(
                "a character-string holds at most 255 octets (RFC 1035 §3.3), this one {}",
                s.len()
            ));
        }
        out.push(s);
    }
}

fn push_char(s: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    s.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// The first blank-separated field of `line` and what follows it (leading blanks removed): how a
/// record line's owner, TTL, class and type are taken off before its data, which keeps its own
/// spacing (a quoted string may hold several blanks in a row).
pub fn split_field(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_start();
    if line.is_empty() {
        return None;
    }
    let end = line.find(char::is_whitespace).unwrap_or(line.len());
    Some((&line[..end], line[end..].trim_start()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt(strings: &[&[u8]]) -> RData {
        RData::TXT(TXT::from_bytes(strings.to_vec()))
    }

    #[test]
    fn character_strings_keep_their_blanks_quotes_and_octets() {
        for (text, want) in [
            (r#""hello world""#, txt(&[b"hello world"])),
            (r#""two  blanks""#, txt(&[b"two  blanks"])),
            ("a b", txt(&[b"a", b"b"])),
            (
                r#""v=spf1 a -all" "second""#,
                txt(&[b"v=spf1 a -all", b"second"]),
            ),
            (r#""say \"hi\" \\ bye""#, txt(&[br#"say "hi" \ bye"#])),
            (r#""\065\000\255""#, txt(&[b"A\0\xff"])),
            (r#""""#, txt(&[b""])),
            ("caf\u{e9}", txt(&[b"caf\xc3\xa9"])),
        ] {
            let got = parse_rdata(RecordType::TXT, text).unwrap();
            assert_eq!(got, want, "{text}");
            let back = rdata_text(&got);
            assert_eq!(parse_rdata(RecordType::TXT, &back).unwrap(), want, "{back}");
        }
        assert_eq!(
            rdata_text(&txt(&[b"say \"hi\"", b"\x07\xc3\xa9"])),
            r#""say \"hi\"" "\007\195\169""#
        );
    }

    #[test]
    fn bad_character_strings_are_refused_with_the_reason() {
        for (text, why) in [
            (r#""open"#, "not closed"),
            (r#""a"b"#, "closing quote"),
            ("a\"b", "unquoted"),
            ("a;b", "unquoted"),
            (r#""\25""#, "three decimal digits"),
            (r#""\256""#, "not an octet"),
            ("", "no character-string"),
        ] {
            let e = parse_rdata(RecordType::TXT, text).unwrap_err().to_string();
            assert!(e.contains(why), "{text}: {e}");
        }
        let long = format!("\"{}\"", "x".repeat(256));
        assert!(
            parse_rdata(RecordType::TXT, &long)
                .unwrap_err()
                .to_string()
                .contains("255 octets")
        );
        assert!(parse_rdata(RecordType::HINFO, r#""only cpu""#).is_err());
    }

    #[test]
    fn hinfo_is_read_and_written_as_two_strings() {
        let h = parse_rdata(RecordType::HINFO, r#""Intel x86" "Debian GNU/Linux""#).unwrap();
        assert_eq!(rdata_text(&h), r#""Intel x86" "Debian GNU/Linux""#);
    }

    #[test]
    fn other_types_must_read_back_the_same_from_their_text() {
        for (rtype, text) in [
            (RecordType::A, "192.0.2.1"),
            (RecordType::MX, "10 mail.example."),
            (RecordType::CAA, r#"0 issue "ca.example.net""#),
            (RecordType::SRV, "10 5 5060 sip.example."),
        ] {
            let r = parse_rdata(rtype, text).unwrap();
            assert_eq!(parse_rdata(rtype, &rdata_text(&r)).unwrap(), r, "{text}");
        }
        let e = parse_rdata(RecordType::CAA, r#"0 issue "a\"b""#).unwrap_err();
        assert!(e.to_string().contains("escapes"), "{e}");
    }

    #[test]
    fn fields_come_off_a_line_and_the_rest_keeps_its_spacing() {
        assert_eq!(
            split_field("  www 300 TXT \"a  b\""),
            Some(("www", "300 TXT \"a  b\""))
        );
        assert_eq!(split_field("last"), Some(("last", "")));
        assert_eq!(split_field("   "), None);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any TXT data (any octets, 1-4 strings of up to 255) reads back from its text.
            #[test]
            fn any_txt_reads_back_from_its_text(
                strings in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..=255), 1..4)
            ) {
                let rdata = RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()));
                let text = rdata_text(&rdata);
                prop_assert_eq!(parse_rdata(RecordType::TXT, &text).unwrap(), rdata);
            }

            /// Reading arbitrary text never panics.
            #[test]
            fn reading_any_text_never_panics(text in "\\PC{0,40}", which in 0usize..4) {
                let rtype = [RecordType::TXT, RecordType::HINFO, RecordType::CAA, RecordType::MX][which];
                let _ = parse_rdata(rtype, &text);
            }
        }
    }
}
