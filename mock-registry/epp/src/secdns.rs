//! RFC 5910 DNSSEC extension (`secDNS-1.1`): the `create`/`update` command extensions of
//! domain commands and the `infData` extension of a domain info response.
//!
//! The codec reads and writes both interfaces (DS data and key data). Which one a registry
//! accepts is policy: the SIDN profile of the mock registry accepts key data only and answers
//! 2306 for DS data (RFC 5910 §4), but that decision is not made here.

use data_encoding::{BASE64, HEXLOWER_PERMISSIVE};

use super::error::CodecError;
use super::types::{bool_el, uint_el};
use super::xml::{Element, Ns, XmlWriter};

const NS: Ns = Ns::SecDns;

/// A DNSKEY as EPP carries it (`secDNS:keyDataType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyData {
    /// DNSKEY flags (256 ZSK, 257 KSK/SEP).
    pub flags: u16,
    /// DNSKEY protocol (must be 3 in DNS; the codec carries what it gets).
    pub protocol: u8,
    /// DNSSEC algorithm number.
    pub alg: u8,
    /// The public key (decoded from base64).
    pub pub_key: Vec<u8>,
}

/// A DS record as EPP carries it (`secDNS:dsDataType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DsData {
    /// The key tag of the DNSKEY the DS points at (RFC 4034 §5.1.1).
    pub key_tag: u16,
    /// DNSSEC algorithm number of that DNSKEY (IANA registry: 8 RSASHA256, 13 ECDSAP256SHA256, …).
    pub alg: u8,
    /// Digest algorithm: 2 SHA-256, 4 SHA-384 (RFC 4034 §5.1.3, RFC 4509, RFC 6605).
    pub digest_type: u8,
    /// Digest (decoded from hex).
    pub digest: Vec<u8>,
    /// Optional key data the DS was computed from.
    pub key_data: Option<KeyData>,
}

/// Either interface's list (`secDNS:dsOrKeyType`'s choice). Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DsOrKey {
    /// DS data interface.
    Ds(Vec<DsData>),
    /// Key data interface.
    Key(Vec<KeyData>),
}

/// `secDNS:create`, `secDNS:infData` and the `add` part of an update (`dsOrKeyType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsOrKeySet {
    /// Maximum signature lifetime the child asks the parent to use, in seconds.
    pub max_sig_life: Option<u32>,
    /// The DS records or the key data: a set is one kind only (RFC 5910 §4: the two interfaces
    /// never mix).
    pub data: DsOrKey,
}

/// What an update removes (`secDNS:remType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remove {
    /// `<secDNS:all>` with its boolean value (`true` removes all DS/key data).
    All(bool),
    /// Remove these DS records.
    Ds(Vec<DsData>),
    /// Remove these keys.
    Key(Vec<KeyData>),
}

/// `secDNS:update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The `urgent` attribute (default false).
    pub urgent: bool,
    /// Removals, processed before additions (RFC 5910 §3.2.5).
    pub rem: Option<Remove>,
    /// `secDNS:add`: records to add after the removals.
    pub add: Option<DsOrKeySet>,
    /// `<secDNS:chg>`, with its optional new maxSigLife.
    pub chg: Option<Option<u32>>,
}

impl KeyData {
    /// Parses the children of a keyDataType element (the element may be in any namespace,
    /// e.g. `keyrelay:keyData`; its children are secDNS's).
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let flags = uint_el(c.required(&NS, "flags")?, 0, 65535)? as u16;
        let protocol = uint_el(c.required(&NS, "protocol")?, 0, 255)? as u8;
        let alg = uint_el(c.required(&NS, "alg")?, 0, 255)? as u8;
        let pk = c.required(&NS, "pubKey")?;
        pk.only_attrs(&[])?;
        let pub_key = decode_base64(&pk.raw_text()?).map_err(|e| e.with_offending(pk.clone()))?;
        if pub_key.is_empty() {
            return Err(
                CodecError::value_syntax("<secDNS:pubKey> must not be empty")
                    .with_offending(pk.clone()),
            );
        }
        c.finish()?;
        Ok(Self {
            flags,
            protocol,
            alg,
            pub_key,
        })
    }

    /// Writes `<ns:name>` with secDNS children.
    pub(crate) fn write(&self, w: &mut XmlWriter, ns: &Ns, name: &str) {
        w.open(ns, name, &[]);
        w.declare(&NS);
        w.leaf(&NS, "flags", &self.flags.to_string());
        w.leaf(&NS, "protocol", &self.protocol.to_string());
        w.leaf(&NS, "alg", &self.alg.to_string());
        w.leaf(&NS, "pubKey", &BASE64.encode(&self.pub_key));
        w.close();
    }

    /// The public key in base64, as DNS presentation format and EPP write it.
    pub fn pub_key_base64(&self) -> String {
        BASE64.encode(&self.pub_key)
    }
}

impl DsData {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let key_tag = uint_el(c.required(&NS, "keyTag")?, 0, 65535)? as u16;
        let alg = uint_el(c.required(&NS, "alg")?, 0, 255)? as u8;
        let digest_type = uint_el(c.required(&NS, "digestType")?, 0, 255)? as u8;
        let d = c.required(&NS, "digest")?;
        d.only_attrs(&[])?;
        let digest = decode_hex(&d.token()?).map_err(|e| e.with_offending(d.clone()))?;
        let key_data = c.optional(&NS, "keyData").map(KeyData::parse).transpose()?;
        c.finish()?;
        Ok(Self {
            key_tag,
            alg,
            digest_type,
            digest,
            key_data,
        })
    }

    fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "dsData", &[]);
        w.leaf(&NS, "keyTag", &self.key_tag.to_string());
        w.leaf(&NS, "alg", &self.alg.to_string());
        w.leaf(&NS, "digestType", &self.digest_type.to_string());
        w.leaf(&NS, "digest", &data_encoding::HEXUPPER.encode(&self.digest));
        if let Some(k) = &self.key_data {
            k.write(w, &NS, "keyData");
        }
        w.close();
    }
}

impl DsOrKeySet {
    /// Parses a `dsOrKeyType` element (`secDNS:create`, `secDNS:infData`, `secDNS:add`).
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let max_sig_life = c
            .optional(&NS, "maxSigLife")
            .map(|e| uint_el(e, 1, i32::MAX as u64).map(|v| v as u32))
            .transpose()?;
        let data = parse_choice(&mut c, el)?;
        c.finish()?;
        Ok(Self { max_sig_life, data })
    }

    /// Writes it as `secDNS:<name>`.
    pub(crate) fn write(&self, w: &mut XmlWriter, name: &str) {
        w.open(&NS, name, &[]);
        if let Some(m) = self.max_sig_life {
            w.leaf(&NS, "maxSigLife", &m.to_string());
        }
        write_choice(&self.data, w);
        w.close();
    }
}

fn parse_choice(c: &mut super::xml::Cursor<'_>, parent: &Element) -> Result<DsOrKey, CodecError> {
    let ds = c.many(&NS, "dsData", usize::MAX)?;
    if !ds.is_empty() {
        return Ok(DsOrKey::Ds(
            ds.into_iter()
                .map(DsData::parse)
                .collect::<Result<_, _>>()?,
        ));
    }
    let keys = c.many(&NS, "keyData", usize::MAX)?;
    if !keys.is_empty() {
        return Ok(DsOrKey::Key(
            keys.into_iter()
                .map(KeyData::parse)
                .collect::<Result<_, _>>()?,
        ));
    }
    Err(CodecError::missing(format!(
        "<{}> requires <secDNS:dsData> or <secDNS:keyData>",
        parent.qname()
    )))
}

fn write_choice(data: &DsOrKey, w: &mut XmlWriter) {
    match data {
        DsOrKey::Ds(list) => list.iter().for_each(|d| d.write(w)),
        DsOrKey::Key(list) => list.iter().for_each(|k| k.write(w, &NS, "keyData")),
    }
}

impl Update {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&["urgent"])?;
        let urgent = match el.attr("urgent") {
            Some(v) => {
                super::types::parse_bool(v.trim()).map_err(|e| e.with_offending(el.clone()))?
            }
            None => false,
        };
        let mut c = el.element_children()?;
        let rem = match c.optional(&NS, "rem") {
            Some(r) => {
                r.only_attrs(&[])?;
                let mut rc = r.element_children()?;
                let out = if let Some(all) = rc.optional(&NS, "all") {
                    all.only_attrs(&[])?;
                    Remove::All(bool_el(all)?)
                } else {
                    match parse_choice(&mut rc, r)? {
                        DsOrKey::Ds(d) => Remove::Ds(d),
                        DsOrKey::Key(k) => Remove::Key(k),
                    }
                };
                rc.finish()?;
                Some(out)
            }
            None => None,
        };
        let add = c.optional(&NS, "add").map(DsOrKeySet::parse).transpose()?;
        let chg = match c.optional(&NS, "chg") {
            Some(ch) => {
                ch.only_attrs(&[])?;
                let mut cc = ch.element_children()?;
                let m = cc
                    .optional(&NS, "maxSigLife")
                    .map(|e| uint_el(e, 1, i32::MAX as u64).map(|v| v as u32))
                    .transpose()?;
                cc.finish()?;
                Some(m)
            }
            None => None,
        };
        c.finish()?;
        Ok(Self {
            urgent,
            rem,
            add,
            chg,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        if self.urgent {
            w.open(&NS, "update", &[("urgent", "true")]);
        } else {
            w.open(&NS, "update", &[]);
        }
        if let Some(rem) = &self.rem {
            w.open(&NS, "rem", &[]);
            match rem {
                Remove::All(b) => w.leaf(&NS, "all", if *b { "true" } else { "false" }),
                Remove::Ds(d) => write_choice(&DsOrKey::Ds(d.clone()), w),
                Remove::Key(k) => write_choice(&DsOrKey::Key(k.clone()), w),
            }
            w.close();
        }
        if let Some(add) = &self.add {
            add.write(w, "add");
        }
        if let Some(chg) = &self.chg {
            w.open(&NS, "chg", &[]);
            if let Some(m) = chg {
                w.leaf(&NS, "maxSigLife", &m.to_string());
            }
            w.close();
        }
        w.close();
    }
}

/// Decodes `xs:base64Binary` (whitespace between characters is allowed by the schema).
pub fn decode_base64(s: &str) -> Result<Vec<u8>, CodecError> {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    BASE64
        .decode(compact.as_bytes())
        .map_err(|e| CodecError::value_syntax(format!("not valid base64: {e}")))
}

/// Decodes `xs:hexBinary` (either case).
pub(crate) fn decode_hex(s: &str) -> Result<Vec<u8>, CodecError> {
    HEXLOWER_PERMISSIVE
        .decode(s.as_bytes())
        .map_err(|e| CodecError::value_syntax(format!("not valid hexBinary: {e}")))
}
