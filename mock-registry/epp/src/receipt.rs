//! Key relay receipts (experimental): the `<keyrelayReceipt:receipt>` poll-response extension
//! with which a registry tells the registrar that sent an RFC 8063 key relay what became of it.
//!
//! RFC 8063 queues the relayed keys for the registrar of record and says nothing back: the
//! sender learns whether its key was received, and whether it was published, only by watching
//! DNS. A receipt closes that gap. It is a command-response extension of the poll response
//! (RFC 3735 §2), in the `<extension>` of a 1301 response without `<resData>`, the shape of an
//! RFC 8590 change poll message without the object's data: the sender already knows the
//! domain and keys, and the relay's `authInfo` is not echoed.
//!
//! The namespace is this project's, not an IETF one ([`NAMESPACE`], schema
//! `xsd/keyrelayReceipt-0.1.xsd`); the specification is `docs/keyrelay-receipt.md` at the
//! repository root. A registry offers it in its greeting's `<svcExtension>`; a registrar that
//! lists it in its `<login>` receives receipts for the relays it sends in that session.

use jiff::Timestamp;

use super::error::CodecError;
use super::secdns::KeyData;
use super::types::{TrId, datetime_el, format_datetime, label_el, uint_el};
use super::xml::{Element, Ns, XmlWriter};

const NS: Ns = Ns::KeyRelayReceipt;

/// The namespace URI (version 0.1, experimental).
pub const NAMESPACE: &str =
    "https://github.com/secure-transfer/epp-keyrelay-harness/ns/keyrelayReceipt-0.1";

/// What became of a relay (`keyrelayReceipt:stateType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// The registrar of record acknowledged the keyrelay poll message.
    Delivered,
    /// Every name server of the delegation serves the keys in a validly self-signed DNSKEY
    /// RRset.
    Published,
    /// The watch ended (the relay expired) before every name server did.
    NotPublished,
    /// The sender revoked the keys before they were published.
    Withdrawn,
}

impl State {
    /// Every state, in schema order.
    pub const ALL: [Self; 4] = [
        Self::Delivered,
        Self::Published,
        Self::NotPublished,
        Self::Withdrawn,
    ];

    /// The schema token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Published => "published",
            Self::NotPublished => "notPublished",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// The state for a schema token.
    pub fn from_token(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether no later receipt follows about publication (every state but `delivered`).
    pub fn is_final(self) -> bool {
        self != Self::Delivered
    }
}

/// What the registry's probe found at one name server (`keyrelayReceipt:hostResultType`),
/// worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostResult {
    /// The registry knows no address for the host name.
    Unresolved,
    /// No authoritative answer.
    Unreachable,
    /// A DNSKEY RRset without one of the keys.
    Missing,
    /// The keys, but no RRSIG over the DNSKEY RRset.
    Unsigned,
    /// RRSIGs, but none by a key of the set verifies at the probe's time.
    Invalid,
    /// Every address serves every key in a DNSKEY RRset signed by a key of that RRset.
    Published,
}

impl HostResult {
    /// Every result, in schema order.
    pub const ALL: [Self; 6] = [
        Self::Published,
        Self::Missing,
        Self::Unsigned,
        Self::Invalid,
        Self::Unreachable,
        Self::Unresolved,
    ];

    /// The schema token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Missing => "missing",
            Self::Unsigned => "unsigned",
            Self::Invalid => "invalid",
            Self::Unreachable => "unreachable",
            Self::Unresolved => "unresolved",
        }
    }

    /// The result for a schema token.
    pub fn from_token(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One name server of the delegation and what the probe found there
/// (`keyrelayReceipt:hostType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostProbe {
    /// The host name.
    pub host: String,
    /// What it served.
    pub result: HostResult,
}

/// `<keyrelayReceipt:receipt>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The domain the keys were relayed for.
    pub name: String,
    /// The transaction ids of the `keyrelay:create` this receipt answers.
    pub relay_tr_id: TrId,
    /// When the registry accepted the relay.
    pub relay_date: Timestamp,
    /// What became of it.
    pub state: State,
    /// When that state was reached.
    pub state_date: Timestamp,
    /// When the registry stops watching the relay.
    pub until: Timestamp,
    /// The relayed keys the receipt is about (one or more).
    pub keys: Vec<KeyData>,
    /// The delegation's name servers with the last probe's findings (`published` and
    /// `notPublished`; empty: no `<keyrelayReceipt:ns>`).
    pub ns: Vec<HostProbe>,
    /// The largest TTL of the DNSKEY RRsets the name servers served (`published`).
    pub dnskey_ttl: Option<u32>,
}

impl Receipt {
    pub(crate) fn parse(el: &Element) -> Result<Self, CodecError> {
        el.only_attrs(&[])?;
        let mut c = el.element_children()?;
        let name = label_el(c.required(&NS, "name")?)?;
        let relay_tr_id = TrId::parse(c.required(&NS, "relayTRID")?)?;
        let relay_date = datetime_el(c.required(&NS, "relayDate")?)?;
        let state_el = c.required(&NS, "state")?;
        state_el.only_attrs(&[])?;
        let token = state_el.token()?;
        let state = State::from_token(&token).ok_or_else(|| {
            CodecError::value_syntax(format!(
                "{token:?} is not a receipt state (delivered, published, notPublished, withdrawn)"
            ))
            .with_offending(state_el.clone())
        })?;
        let state_date = datetime_el(c.required(&NS, "stateDate")?)?;
        let until = datetime_el(c.required(&NS, "until")?)?;
        let keys = c
            .at_least_one(&NS, "keyData", usize::MAX)?
            .into_iter()
            .map(KeyData::parse)
            .collect::<Result<_, _>>()?;
        let ns = match c.optional(&NS, "ns") {
            None => Vec::new(),
            Some(n) => {
                n.only_attrs(&[])?;
                let mut nc = n.element_children()?;
                let hosts = nc
                    .at_least_one(&NS, "host", usize::MAX)?
                    .into_iter()
                    .map(parse_host)
                    .collect::<Result<_, _>>()?;
                nc.finish()?;
                hosts
            }
        };
        let dnskey_ttl = c
            .optional(&NS, "dnskeyTTL")
            .map(|t| uint_el(t, 0, u64::from(u32::MAX)).map(|v| v as u32))
            .transpose()?;
        c.finish()?;
        Ok(Self {
            name,
            relay_tr_id,
            relay_date,
            state,
            state_date,
            until,
            keys,
            ns,
            dnskey_ttl,
        })
    }

    pub(crate) fn write(&self, w: &mut XmlWriter) {
        w.open(&NS, "receipt", &[]);
        // Declared once here rather than on every key.
        w.declare(&Ns::SecDns);
        w.leaf(&NS, "name", &self.name);
        self.relay_tr_id.write(w, &NS, "relayTRID");
        w.leaf(&NS, "relayDate", &format_datetime(&self.relay_date));
        w.leaf(&NS, "state", self.state.as_str());
        w.leaf(&NS, "stateDate", &format_datetime(&self.state_date));
        w.leaf(&NS, "until", &format_datetime(&self.until));
        for k in &self.keys {
            k.write(w, &NS, "keyData");
        }
        if !self.ns.is_empty() {
            w.open(&NS, "ns", &[]);
            for h in &self.ns {
                w.text_el(&NS, "host", &[("result", h.result.as_str())], &h.host);
            }
            w.close();
        }
        if let Some(t) = self.dnskey_ttl {
            w.leaf(&NS, "dnskeyTTL", &t.to_string());
        }
        w.close();
    }
}

fn parse_host(el: &Element) -> Result<HostProbe, CodecError> {
    el.only_attrs(&["result"])?;
    let token = el
        .attr("result")
        .map(|r| r.trim().to_string())
        .ok_or_else(|| CodecError::missing("<keyrelayReceipt:host> requires result"))?;
    let result = HostResult::from_token(&token).ok_or_else(|| {
        CodecError::value_syntax(format!("{token:?} is not a host result"))
            .with_offending(el.clone())
    })?;
    let host = el
        .token_len(1, 255)
        .map_err(|e| e.with_offending(el.clone()))?;
    Ok(HostProbe { host, result })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for s in State::ALL {
            assert_eq!(State::from_token(s.as_str()), Some(s));
        }
        for r in HostResult::ALL {
            assert_eq!(HostResult::from_token(r.as_str()), Some(r));
        }
        assert_eq!(State::from_token("Published"), None);
        assert!(
            HostResult::Unresolved < HostResult::Published,
            "worst first"
        );
    }

    #[test]
    fn the_tree_knows_the_namespace() {
        assert_eq!(NS.uri(), NAMESPACE);
        assert_eq!(Ns::from_uri(NAMESPACE), NS);
    }
}
