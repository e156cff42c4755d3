//! DNSSEC key data at the registry: the key data interface only (RFC 5910 §4.2), each key
//! checked before it is accepted, and the DS the TLD publishes computed here.

use hickory_proto::dnssec::rdata::{DNSKEY, DS};
use hickory_proto::rr::Name;

use super::refusal::{Area, Refusal};
use dnssec::DsDigest;

use crate::keydata::{self, KeyDataError};
use epp::ResultCode;
use epp::secdns::KeyData;
use epp::xml::{Element, Ns};

/// Checks one key as SIDN's profile requires and returns it as a DNSKEY.
///
/// Result codes: flags or protocol outside the DNSSEC values is a range error (2004), an
/// algorithm the registry does not accept is a policy error (2306), a public key that is not
/// a key of its algorithm is a value syntax error (2005). The detail names the field.
pub fn check_key(key: &KeyData) -> Result<DNSKEY, Refusal> {
    keydata::validate_key_data(key).map_err(|e| {
        let code = match e {
            KeyDataError::Flags(_) | KeyDataError::Protocol(_) => {
                ResultCode::ParameterValueRangeError
            }
            KeyDataError::Algorithm(_) => ResultCode::ParameterValuePolicyError,
            _ => ResultCode::ParameterValueSyntaxError,
        };
        let field = e.field().element();
        Refusal::new(code, Area::Keys, format!("keyData refused: {e}"))
            .field(field)
            .value(key_element(key))
    })
}

/// The DS (SHA-256) the TLD publishes for a key of `domain`.
pub fn ds_for(domain: &str, key: &KeyData) -> Option<DS> {
    let dnskey = check_key(key).ok()?;
    let owner = Name::from_ascii(format!("{domain}.")).ok()?;
    dnssec::keys::ds_from_dnskey(&owner, &dnskey, DsDigest::Sha256).ok()
}

/// The client's keyData as an element, for `<extValue>`.
fn key_element(key: &KeyData) -> Element {
    let leaf = |name: &str, v: String| Element::new(Ns::SecDns, name).with_text(v);
    Element::new(Ns::SecDns, "keyData")
        .with_child(leaf("flags", key.flags.to_string()))
        .with_child(leaf("protocol", key.protocol.to_string()))
        .with_child(leaf("alg", key.alg.to_string()))
        .with_child(leaf("pubKey", key.pub_key_base64()))
}
