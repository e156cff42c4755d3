//! RFC 8063 key relay: the `<create><keyrelay:create>` command a gaining registrar sends to
//! relay its DNSKEY to the registrar of record, and the `keyrelay:infData` payload of the poll
//! message the registry queues for that registrar.
//!
//! Key relay is an *object* mapping (it is announced as an `objURI`), not a command extension.
//! An expiry that is an absolute time in the past, or a zero relative duration (`P0D`), revokes
//! a key relayed earlier (RFC 8063 §2.1.1); the codec carries the expiry unchanged.

use jiff::Timestamp;

use super::error::CodecError;
use super::secdns::KeyData;
use super::types::{AuthInfo, XsDuration, clid_el, datetime_el, format_datetime, label_el};
use super::xml::{Element, Ns, XmlWriter};

const NS: Ns = Ns::KeyRelay;

/// When the receiving operator should drop the relayed key (`keyrelay:keyRelayExpiryType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expiry {
    /// At this time (in the past: revocation).
    Absolute(Timestamp),
    /// This long after the relay was created (zero: revocation).
    Relative(XsDuration),
}

impl Expiry {
    /// `true` when this expiry revokes a previously relayed key, judged at `now`.
    pub fn is_revocation(&self, now: Timestamp) -> bool {
        match self {
            Self::Absolute(t) => *t <= now,
            Self::Relative(d) => d.is_zero() || d.is_negative(),
        }
    }
}

/// One relayed key with its optional expiry (`keyrelay:keyRelayDataType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRelayData {
    /// `keyrelay:keyData`: the DNSKEY the gaining operator wants published (`secDNS:keyDataType`,
    /// RFC 5910).
    pub key_data: KeyData,
    /// How long the gaining side wants the key published (RFC 8063 §2.1); `None` means until it is
    /// removed.
    pub expiry: Option<Expiry>,
}

/// `<keyrelay:create>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Create {
    /// The domain the keys are for.
    pub name: String,
    /// The domain's authorization info, proving the registrant's consent.
    pub auth_info: AuthInfo,
    /// One or more keys.
    pub data: Vec<KeyRelayData>,
}

/// `<keyrelay:infData>`: the poll payload (RFC 8063 §3.1.2). The schema requires `crDate`,
/// `reID` and `acID`, although the RFC's prose calls them optional; the codec follows the
/// schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfData {
    /// `keyrelay:name`: the domain the keys are relayed for.
    pub name: String,
    /// The authorization info sent with the relay.
    pub auth_info: AuthInfo,
    /// The relayed keys with their expiries, as the gaining side sent them.
    pub data: Vec<KeyRelayData>,
    /// When the relay was created.
    pub cr_date: Timestamp,
    /// The client that requested the relay.
    pub re_id: String,
    /// The client that should act on it (the registrar of record).
    pub ac_id: String,
}

impl KeyRelayData {
    fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let key_data = KeyData::parse(c.required(&NS, "keyData")?)?;
        let expiry = match c.optional(&NS, "expiry") {
            None => None,
            Some(e) => {
                e.only_attrs(&[])?;
                let mut ec = e.element_children()?;
                let out = if let Some(a) = ec.optional(&NS, "absolute") {
                    Expiry::Absolute(datetime_el(a)?)
                } else if let Some(r) = ec.optional(&NS, "relative") {
                    r.only_attrs(&[])?;
                    Expiry::Relative(
                        XsDuration::parse(&r.token()?)
                            .map_err(|er| er.with_offending(r.clone()))?,
                    )
                } else {
                    return Err(CodecError::missing(
                        "<keyrelay:expiry> requires <keyrelay:absolute> or <keyrelay:relative>",
                    ));
                };
                ec.finish()?;
                Some(out)
            }
        };
        c.finish()?;
        Ok(Self { key_data, expiry })
    }

    fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "keyRelayData", &[]);
        self.key_data.write(w, &NS, "keyData");
        if let Some(e) = &self.expiry {
            w.open(&NS, "expiry", &[]);
            match e {
                Expiry::Absolute(t) => w.leaf(&NS, "absolute", &format_datetime(t)),
                Expiry::Relative(d) => w.leaf(&NS, "relative", d.as_str()),
            }
            w.close();
        }
        w.close();
    }
}

/// Reads name, authInfo and keyRelayData+, the shared head of create and infData.
fn parse_head(
    c: &mut super::xml::Cursor<'_>,
) -> Result<(String, AuthInfo, Vec<KeyRelayData>), CodecError> {
    let name = label_el(c.required(&NS, "name")?)?;
    // keyrelay:authInfo is a domain:authInfoType: its children are domain:pw / domain:ext.
    let auth_info = AuthInfo::parse(c.required(&NS, "authInfo")?, &Ns::Domain)?;
    let data = c
        .at_least_one(&NS, "keyRelayData", usize::MAX)?
        .into_iter()
        .map(KeyRelayData::parse)
        .collect::<Result<_, _>>()?;
    Ok((name, auth_info, data))
}

fn write_head(w: &mut XmlWriter, name: &str, auth_info: &AuthInfo, data: &[KeyRelayData]) {
    // Declared once here, as in the RFC's examples, rather than on every nested element.
    w.declare(&Ns::Domain);
    w.declare(&Ns::SecDns);
    w.leaf(&NS, "name", name);
    w.open(&NS, "authInfo", &[]);
    auth_info.write_inner(w, &Ns::Domain);
    w.close();
    data.iter().for_each(|d| d.write(w));
}

impl Create {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let (name, auth_info, data) = parse_head(&mut c)?;
        c.finish()?;
        Ok(Self {
            name,
            auth_info,
            data,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "create", &[]);
        write_head(w, &self.name, &self.auth_info, &self.data);
        w.close();
    }
}

impl InfData {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let (name, auth_info, data) = parse_head(&mut c)?;
        let cr_date = datetime_el(c.required(&NS, "crDate")?)?;
        let re_id = clid_el(c.required(&NS, "reID")?)?;
        let ac_id = clid_el(c.required(&NS, "acID")?)?;
        c.finish()?;
        Ok(Self {
            name,
            auth_info,
            data,
            cr_date,
            re_id,
            ac_id,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "infData", &[]);
        write_head(w, &self.name, &self.auth_info, &self.data);
        w.leaf(&NS, "crDate", &format_datetime(&self.cr_date));
        w.leaf(&NS, "reID", &self.re_id);
        w.leaf(&NS, "acID", &self.ac_id);
        w.close();
    }
}
