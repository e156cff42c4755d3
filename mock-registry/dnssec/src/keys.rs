//! DNSSEC keys and the roles a zone gives them.
//!
//! A [`KeyPair`] is key material: an algorithm, a PKCS#8 private key and the public key in
//! DNSKEY form. A [`ZoneKey`] is what a zone does with a key: its [`KeyRole`] (KSK, ZSK or CSK),
//! whether it is published in the apex DNSKEY RRset and whether it signs. A zone key may also be
//! *foreign*: just a DNSKEY received from another operator (RFC 8901 model 2, PowerDNS
//! `direct-dnskey`), published so that resolvers holding this operator's DNSKEY RRset can
//! validate answers the other operator signed, and never used to sign here.
//!
//! Keeping the roles explicit is the point of this module: whether an operator change breaks the
//! chain of trust depends exactly on which key signs which RRset and which keys are published.

use std::fmt;
use std::sync::Arc;

use hickory_proto::dnssec::crypto::{EcdsaSigningKey, Ed25519SigningKey, RsaSigningKey};
use hickory_proto::dnssec::rdata::{CDNSKEY, CDS, DNSKEY, DS};
use hickory_proto::dnssec::{Algorithm, DigestType, PublicKey, PublicKeyBuf, SigningKey, TBS};
use hickory_proto::rr::Name;
use rsa::pkcs8::{EncodePrivateKey, ObjectIdentifier, PrivateKeyInfoRef};
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject;

/// The DNSKEY flags of a zone key without the SEP bit (RFC 4034 §2.1.1): a ZSK.
pub(crate) const FLAGS_ZONE_KEY: u16 = 256;
/// The DNSKEY flags of a zone key with the SEP bit: a KSK or CSK.
pub(crate) const FLAGS_SECURE_ENTRY_POINT: u16 = 257;

/// The DNSSEC algorithms this project signs with.
///
/// ECDSAP384SHA384 (14) is accepted in EPP keyData (see
/// `mock_registry::keydata::validate_key_data`) but not generated: no scenario needs it and ring cannot sign with it through hickory here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// RSA/SHA-256 (8, RFC 5702), 2048-bit keys.
    RsaSha256,
    /// ECDSA P-256 with SHA-256 (13, RFC 6605).
    EcdsaP256Sha256,
    /// Ed25519 (15, RFC 8080).
    Ed25519,
}

impl KeyAlgorithm {
    /// Every algorithm, in IANA number order.
    pub const ALL: [Self; 3] = [Self::RsaSha256, Self::EcdsaP256Sha256, Self::Ed25519];

    /// The IANA DNSSEC algorithm number.
    pub fn number(self) -> u8 {
        match self {
            Self::RsaSha256 => 8,
            Self::EcdsaP256Sha256 => 13,
            Self::Ed25519 => 15,
        }
    }

    /// The algorithm for an IANA number, if this project signs with it.
    pub fn from_number(number: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.number() == number)
    }

    /// The IANA mnemonic (`RSASHA256`, `ECDSAP256SHA256`, `ED25519`).
    pub fn mnemonic(self) -> &'static str {
        match self {
            Self::RsaSha256 => "RSASHA256",
            Self::EcdsaP256Sha256 => "ECDSAP256SHA256",
            Self::Ed25519 => "ED25519",
        }
    }

    /// hickory's name for the algorithm.
    pub fn to_hickory(self) -> Algorithm {
        match self {
            Self::RsaSha256 => Algorithm::RSASHA256,
            Self::EcdsaP256Sha256 => Algorithm::ECDSAP256SHA256,
            Self::Ed25519 => Algorithm::ED25519,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mnemonic())
    }
}

/// What a key signs in its zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyRole {
    /// Key-signing key: flags 257, signs only the apex DNSKEY RRset; the parent's DS points here.
    Ksk,
    /// Zone-signing key: flags 256, signs every RRset except the DNSKEY RRset.
    Zsk,
    /// Combined signing key: flags 257, signs everything.
    Csk,
}

impl KeyRole {
    /// The DNSKEY flags a key in this role is published with.
    pub fn flags(self) -> u16 {
        match self {
            Self::Ksk | Self::Csk => FLAGS_SECURE_ENTRY_POINT,
            Self::Zsk => FLAGS_ZONE_KEY,
        }
    }

    /// Whether the key signs the apex DNSKEY RRset.
    pub fn signs_dnskey(self) -> bool {
        matches!(self, Self::Ksk | Self::Csk)
    }

    /// Whether the key signs everything but the DNSKEY RRset.
    pub fn signs_zone_data(self) -> bool {
        matches!(self, Self::Zsk | Self::Csk)
    }

    /// The role a DNSKEY's flags suggest: the SEP bit makes it a KSK.
    ///
    /// Used for foreign keys, which never sign here, so the guess only affects reporting.
    pub(crate) fn from_flags(flags: u16) -> Self {
        if flags & 1 == 1 { Self::Ksk } else { Self::Zsk }
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ksk => "KSK",
            Self::Zsk => "ZSK",
            Self::Csk => "CSK",
        })
    }
}

/// The DS digest types the registry computes (RFC 4509 SHA-256, RFC 6605 SHA-384).
///
/// SHA-1 (type 1) is deliberately absent: RFC 8624 says it MUST NOT be used to make new DS records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DsDigest {
    /// SHA-256 (digest type 2).
    Sha256,
    /// SHA-384 (digest type 4).
    Sha384,
}

impl DsDigest {
    /// The IANA digest type number.
    pub fn number(self) -> u8 {
        match self {
            Self::Sha256 => 2,
            Self::Sha384 => 4,
        }
    }

    fn to_hickory(self) -> DigestType {
        match self {
            Self::Sha256 => DigestType::SHA256,
            Self::Sha384 => DigestType::SHA384,
        }
    }
}

/// Failures to generate, load, save or use a key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The system random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(String),
    /// The bytes are not a PKCS#8 private key.
    #[error("not a PKCS#8 private key: {0}")]
    Pkcs8(String),
    /// The PEM text holds no `PRIVATE KEY` block.
    #[error("not a PEM `PRIVATE KEY` block: {0}")]
    Pem(String),
    /// The PKCS#8 key is of an algorithm this project does not sign with.
    #[error("unsupported private key algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The crypto library refused the key (for instance an RSA modulus outside 2048–4096 bits).
    #[error("{algorithm} key rejected: {reason}")]
    Rejected {
        /// The algorithm the key claimed.
        algorithm: KeyAlgorithm,
        /// Why it was refused.
        reason: String,
    },
    /// The crypto library refused to sign (its message); not expected with a key it loaded.
    #[error("signing failed: {0}")]
    Sign(String),
    /// A DNSKEY's presentation form could not be parsed.
    #[error("bad DNSKEY presentation form: {0}")]
    DnskeyText(String),
    /// Computing a DS digest failed.
    #[error("DS digest failed: {0}")]
    Digest(String),
}

const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// A private key with its algorithm and public key, ready to sign.
///
/// Cloning is cheap (the signer is shared). `Debug` never shows private material.
#[derive(Clone)]
pub struct KeyPair {
    algorithm: KeyAlgorithm,
    pkcs8: Arc<[u8]>,
    signer: Arc<dyn SigningKey>,
    public_key: Arc<[u8]>,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("algorithm", &self.algorithm)
            .field(
                "public_key",
                &data_encoding::BASE64.encode(&self.public_key),
            )
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// Generates a fresh key: RSA keys are 2048 bits with exponent 65537.
    ///
    /// RSA generation takes a noticeable fraction of a second even optimised; tests should use
    /// the fixture keys in [`fixture_keys`](super::fixture_keys) instead.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, KeyError> {
        let pkcs8: Vec<u8> = match algorithm {
            KeyAlgorithm::RsaSha256 => {
                let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).map_err(|e| {
                    KeyError::Rejected {
                        algorithm,
                        reason: e.to_string(),
                    }
                })?;
                key.to_pkcs8_der()
                    .map_err(|e| KeyError::Pkcs8(e.to_string()))?
                    .as_bytes()
                    .to_vec()
            }
            KeyAlgorithm::EcdsaP256Sha256 => {
                EcdsaSigningKey::generate_pkcs8(Algorithm::ECDSAP256SHA256)
                    .map_err(|e| KeyError::Random(e.to_string()))?
                    .secret_pkcs8_der()
                    .to_vec()
            }
            KeyAlgorithm::Ed25519 => Ed25519SigningKey::generate_pkcs8()
                .map_err(|e| KeyError::Random(e.to_string()))?
                .secret_pkcs8_der()
                .to_vec(),
        };
        Self::from_pkcs8_der(&pkcs8)
    }

    /// Loads a DER-encoded PKCS#8 private key; the algorithm comes from the key's OID.
    ///
    /// Accepts PKCS#8 v1 Ed25519 keys (what `openssl genpkey -algorithm ed25519` writes) as well
    /// as v2 (what ring writes).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = PrivateKeyInfoRef::try_from(der).map_err(|e| KeyError::Pkcs8(e.to_string()))?;
        let oid = info.algorithm.oid;
        let algorithm = if oid == OID_RSA_ENCRYPTION {
            KeyAlgorithm::RsaSha256
        } else if oid == OID_ED25519 {
            KeyAlgorithm::Ed25519
        } else if oid == OID_EC_PUBLIC_KEY {
            match info.algorithm.parameters_oid() {
                Ok(curve) if curve == OID_PRIME256V1 => KeyAlgorithm::EcdsaP256Sha256,
                Ok(curve) => {
                    return Err(KeyError::UnsupportedAlgorithm(format!(
                        "elliptic curve {curve} (only P-256 is supported)"
                    )));
                }
                Err(e) => {
                    return Err(KeyError::Pkcs8(format!(
                        "EC key without a named curve: {e}"
                    )));
                }
            }
        } else {
            return Err(KeyError::UnsupportedAlgorithm(format!("key OID {oid}")));
        };
        let rejected = |reason: String| KeyError::Rejected { algorithm, reason };
        let key = PrivatePkcs8KeyDer::from(der);
        let signer: Arc<dyn SigningKey> = match algorithm {
            KeyAlgorithm::RsaSha256 => Arc::new(
                RsaSigningKey::from_pkcs8(&key, Algorithm::RSASHA256)
                    .map_err(|e| rejected(e.to_string()))?,
            ),
            KeyAlgorithm::EcdsaP256Sha256 => Arc::new(
                EcdsaSigningKey::from_pkcs8(&key, Algorithm::ECDSAP256SHA256)
                    .map_err(|e| rejected(e.to_string()))?,
            ),
            KeyAlgorithm::Ed25519 => {
                // ring's strict parser wants PKCS#8 v2 (with the public key); OpenSSL writes v1.
                let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                    .map_err(|e| rejected(e.to_string()))?;
                Arc::new(Ed25519SigningKey::from_ed25519(pair))
            }
        };
        let public_key = signer
            .to_public_key()
            .map_err(|e| rejected(e.to_string()))?
            .into_inner();
        Ok(Self {
            algorithm,
            pkcs8: der.into(),
            signer,
            public_key: public_key.into(),
        })
    }

    /// Loads a PEM `PRIVATE KEY` (PKCS#8) block.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| KeyError::Pem(e.to_string()))?;
        Self::from_pkcs8_der(der.secret_pkcs8_der())
    }

    /// The DER-encoded PKCS#8 private key.
    pub fn to_pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The PKCS#8 private key as a PEM `PRIVATE KEY` block (RFC 7468, 64-column lines).
    pub fn to_pkcs8_pem(&self) -> String {
        let b64 = data_encoding::BASE64.encode(&self.pkcs8);
        let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            // Base64 output is ASCII, so every chunk boundary is a char boundary.
            out.push_str(std::str::from_utf8(line).expect("invariant: base64 is ASCII"));
            out.push('\n');
        }
        out.push_str("-----END PRIVATE KEY-----\n");
        out
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The public key in DNSKEY wire form (RFC 3110 for RSA, x‖y for ECDSA, 32 bytes for Ed25519).
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The DNSKEY rdata for this key with the given flags.
    pub fn dnskey(&self, flags: u16) -> DNSKEY {
        DNSKEY::with_flags(
            flags,
            PublicKeyBuf::new(self.public_key.to_vec(), self.algorithm.to_hickory()),
        )
    }

    /// Signs the to-be-signed data of an RRSIG.
    pub(crate) fn sign(&self, tbs: &TBS) -> Result<Vec<u8>, KeyError> {
        self.signer
            .sign(tbs)
            .map_err(|e| KeyError::Sign(e.to_string()))
    }
}

/// A key as one zone uses it: role, publication, signing, or foreign (public only).
///
/// The two switches model RFC 7583 key states and deliberate faults:
/// published and signing is an active key; published only is a pre-published or retired key (or
/// a foreign key); signing only is a key missing from the DNSKEY RRset (a fault that makes
/// the zone bogus).
#[derive(Debug, Clone)]
pub struct ZoneKey {
    role: KeyRole,
    dnskey: DNSKEY,
    key_tag: u16,
    pair: Option<KeyPair>,
    published: bool,
    signing: bool,
}

impl ZoneKey {
    /// An active key of this operator: published with the role's flags, and signing.
    pub fn new(pair: KeyPair, role: KeyRole) -> Self {
        let dnskey = pair.dnskey(role.flags());
        let key_tag = key_tag(&dnskey);
        Self {
            role,
            dnskey,
            key_tag,
            pair: Some(pair),
            published: true,
            signing: true,
        }
    }

    /// A KSK for `pair`.
    pub fn ksk(pair: KeyPair) -> Self {
        Self::new(pair, KeyRole::Ksk)
    }

    /// A ZSK for `pair`.
    pub fn zsk(pair: KeyPair) -> Self {
        Self::new(pair, KeyRole::Zsk)
    }

    /// A CSK for `pair`.
    pub fn csk(pair: KeyPair) -> Self {
        Self::new(pair, KeyRole::Csk)
    }

    /// Another operator's key, published in the DNSKEY RRset and never used to sign
    /// (RFC 8901 model 2; PowerDNS `direct-dnskey`; what RFC 8063 key relay delivers).
    pub fn foreign(dnskey: DNSKEY) -> Self {
        Self {
            role: KeyRole::from_flags(dnskey.flags()),
            key_tag: key_tag(&dnskey),
            dnskey,
            pair: None,
            published: true,
            signing: false,
        }
    }

    /// Sets whether the key is in the apex DNSKEY RRset.
    pub fn with_published(mut self, published: bool) -> Self {
        self.published = published;
        self
    }

    /// Sets whether the key signs. A foreign key never signs, whatever this says.
    pub fn with_signing(mut self, signing: bool) -> Self {
        self.signing = signing && self.pair.is_some();
        self
    }

    /// The key's role.
    pub fn role(&self) -> KeyRole {
        self.role
    }

    /// The DNSKEY rdata as published.
    pub fn dnskey(&self) -> &DNSKEY {
        &self.dnskey
    }

    /// The key tag (RFC 4034 Appendix B).
    pub fn key_tag(&self) -> u16 {
        self.key_tag
    }

    /// The DNSSEC algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.dnskey.public_key().algorithm()
    }

    /// Whether the key is published in the apex DNSKEY RRset.
    pub fn is_published(&self) -> bool {
        self.published
    }

    /// Whether the key signs (never true for a foreign key).
    pub(crate) fn is_signing(&self) -> bool {
        self.signing
    }

    /// The private key, unless foreign.
    pub fn key_pair(&self) -> Option<&KeyPair> {
        self.pair.as_ref()
    }

    /// The DS record the parent publishes for this key at `owner`.
    pub fn ds(&self, owner: &Name, digest: DsDigest) -> Result<DS, KeyError> {
        ds_from_dnskey(owner, &self.dnskey, digest)
    }
}

/// The key tag of a DNSKEY (RFC 4034 Appendix B; algorithm 1 is not supported anywhere here).
pub fn key_tag(dnskey: &DNSKEY) -> u16 {
    let mut rdata = Vec::with_capacity(4 + dnskey.public_key().public_bytes().len());
    rdata.extend_from_slice(&dnskey.flags().to_be_bytes());
    rdata.push(3);
    rdata.push(u8::from(dnskey.public_key().algorithm()));
    rdata.extend_from_slice(dnskey.public_key().public_bytes());
    DNSKEY::calculate_key_tag_internal(&rdata)
}

/// The CDS a child publishes to ask its parent for the DS of `dnskey` (RFC 7344 §3.1: the
/// DS rdata under another type).
pub fn cds_from_dnskey(owner: &Name, dnskey: &DNSKEY, digest: DsDigest) -> Result<CDS, KeyError> {
    let ds = ds_from_dnskey(owner, dnskey, digest)?;
    Ok(CDS::new(
        ds.key_tag(),
        Some(ds.algorithm()),
        ds.digest_type(),
        ds.digest().to_vec(),
    ))
}

/// The CDNSKEY a child publishes for `dnskey` (RFC 7344 §3.2: the DNSKEY rdata under another
/// type).
pub fn cdnskey_from_dnskey(dnskey: &DNSKEY) -> CDNSKEY {
    CDNSKEY::with_flags(
        dnskey.flags(),
        Some(dnskey.public_key().algorithm()),
        dnskey.public_key().public_bytes().to_vec(),
    )
}

/// `CDS 0 0 0 00`: the child asks for every DS to go (RFC 8078 §4).
pub fn cds_delete() -> CDS {
    CDS::new(0, None, DigestType::from(0), vec![0])
}

/// `CDNSKEY 0 3 0 AA==`: the child asks for every DS to go (RFC 8078 §4).
pub fn cdnskey_delete() -> CDNSKEY {
    CDNSKEY::with_flags(0, None, vec![0])
}

/// The DS for `dnskey` published at `owner` (RFC 4034 §5.1.4: digest over owner ‖ rdata).
pub fn ds_from_dnskey(owner: &Name, dnskey: &DNSKEY, digest: DsDigest) -> Result<DS, KeyError> {
    ds_with_digest_type(owner, dnskey, digest.to_hickory())
}

/// Like [`ds_from_dnskey`] for any digest type hickory knows; kept private so nothing here makes
/// SHA-1 DS records, but the RFC 4034 §5.4 vector (SHA-1) can still be checked.
pub(crate) fn ds_with_digest_type(
    owner: &Name,
    dnskey: &DNSKEY,
    digest_type: DigestType,
) -> Result<DS, KeyError> {
    let digest = dnskey
        .to_digest(owner, digest_type)
        .map_err(|e| KeyError::Digest(e.to_string()))?;
    Ok(DS::new(
        key_tag(dnskey),
        dnskey.public_key().algorithm(),
        digest_type,
        digest.as_ref().to_vec(),
    ))
}

/// Parses a DNSKEY's rdata presentation form: `flags protocol algorithm base64…`.
///
/// The base64 may be split by whitespace (RFC 4034 §2.2). The protocol must be 3. Any algorithm
/// number is accepted here (so RFC test vectors with retired algorithms parse); use
/// `mock_registry::keydata::validate_key_data` to check a key a registrant submits.
pub fn parse_dnskey(text: &str) -> Result<DNSKEY, KeyError> {
    let mut tokens = text.split_whitespace();
    let mut next = |what: &str| {
        tokens
            .next()
            .ok_or_else(|| KeyError::DnskeyText(format!("missing {what}")))
    };
    let flags: u16 = next("flags")?
        .parse()
        .map_err(|e| KeyError::DnskeyText(format!("flags: {e}")))?;
    let protocol: u8 = next("protocol")?
        .parse()
        .map_err(|e| KeyError::DnskeyText(format!("protocol: {e}")))?;
    if protocol != 3 {
        return Err(KeyError::DnskeyText(format!(
            "protocol must be 3, not {protocol}"
        )));
    }
    let algorithm: u8 = next("algorithm")?
        .parse()
        .map_err(|e| KeyError::DnskeyText(format!("algorithm: {e}")))?;
    let b64: String = tokens.collect();
    if b64.is_empty() {
        return Err(KeyError::DnskeyText("missing public key".into()));
    }
    let key = data_encoding::BASE64
        .decode(b64.as_bytes())
        .map_err(|e| KeyError::DnskeyText(format!("public key base64: {e}")))?;
    Ok(DNSKEY::with_flags(
        flags,
        PublicKeyBuf::new(key, Algorithm::from_u8(algorithm)),
    ))
}

/// Formats a DNSKEY's rdata as `flags 3 algorithm base64` (one line, no spaces in the base64).
pub fn format_dnskey(dnskey: &DNSKEY) -> String {
    format!(
        "{} 3 {} {}",
        dnskey.flags(),
        u8::from(dnskey.public_key().algorithm()),
        data_encoding::BASE64.encode(dnskey.public_key().public_bytes())
    )
}

/// Formats a DS's rdata as `key_tag algorithm digest_type HEX`.
pub fn format_ds(ds: &DS) -> String {
    format!(
        "{} {} {} {}",
        ds.key_tag(),
        u8::from(ds.algorithm()),
        u8::from(ds.digest_type()),
        data_encoding::HEXUPPER.encode(ds.digest())
    )
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::dnssec::Verifier;
    use hickory_proto::dnssec::rdata::{RRSIG, SigInput};
    use hickory_proto::rr::rdata::{A, MX};
    use hickory_proto::rr::{DNSClass, RData, Record, RecordType, SerialNumber};

    use super::*;
    use crate::fixture_keys;

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    /// RFC 4034 §5.4 (DS, SHA-1) and RFC 4509 §2.3 (SHA-256) for `dskey.example.com.`.
    #[test]
    fn rfc4034_and_rfc4509_vectors() {
        let dnskey = parse_dnskey(
            "256 3 5 AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMz
             NXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJ
             BjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==",
        )
        .unwrap();
        assert_eq!(key_tag(&dnskey), 60485);
        let owner = name("dskey.example.com.");
        let sha1 = ds_with_digest_type(&owner, &dnskey, DigestType::SHA1).unwrap();
        assert_eq!(
            format_ds(&sha1),
            "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"
        );
        let sha256 = ds_from_dnskey(&owner, &dnskey, DsDigest::Sha256).unwrap();
        assert_eq!(
            format_ds(&sha256),
            "60485 5 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A"
        );
    }

    /// RFC 6605 §6.1 (P-256: key tag, SHA-256 DS, and the example RRSIG verifies) and §6.2
    /// (P-384: key tag and SHA-384 DS).
    #[test]
    fn rfc6605_vectors() {
        let p256 = parse_dnskey(
            "257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edb
             krSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
        )
        .unwrap();
        let owner = name("example.net.");
        assert_eq!(key_tag(&p256), 55648);
        assert_eq!(
            format_ds(&ds_from_dnskey(&owner, &p256, DsDigest::Sha256).unwrap()),
            "55648 13 2 B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17"
        );
        let www = name("www.example.net.");
        let record = Record::from_rdata(www.clone(), 3600, RData::A(A::new(192, 0, 2, 1)));
        let input = SigInput {
            type_covered: RecordType::A,
            algorithm: Algorithm::ECDSAP256SHA256,
            num_labels: 3,
            original_ttl: 3600,
            sig_expiration: SerialNumber::new(1_284_026_679),
            sig_inception: SerialNumber::new(1_281_607_479),
            key_tag: 55648,
            signer_name: owner.clone(),
        };
        let sig = data_encoding::BASE64
            .decode(
                b"qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==",
            )
            .unwrap();
        let rrsig = RRSIG::from_sig(input, sig);
        p256.verify_rrsig(&www, DNSClass::IN, &rrsig, std::iter::once(&record))
            .unwrap();

        let p384 = parse_dnskey(
            "257 3 14 xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RC
             OpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40",
        )
        .unwrap();
        assert_eq!(key_tag(&p384), 10771);
        assert_eq!(
            format_ds(&ds_from_dnskey(&owner, &p384, DsDigest::Sha384).unwrap()),
            "10771 14 4 72D7B62976CE06438E9C0BF319013CF801F09ECC84B8D7E9495F27E305C6A9B0563A9B5F4D288405C3008A946DF983D6"
        );
    }

    /// RFC 8080 §6.1 example 1 (as corrected by erratum 4935): the key loads from its seed, has
    /// the published key tag and DS, and signs the MX RRset to exactly the published signature
    /// (Ed25519 is deterministic, so this pins the whole signing path byte for byte).
    #[test]
    fn rfc8080_ed25519_vector() {
        let seed = data_encoding::BASE64
            .decode(b"ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=")
            .unwrap();
        // PKCS#8 v1 wrapping of a raw Ed25519 seed (RFC 8410 §7).
        let mut der = data_encoding::HEXLOWER
            .decode(b"302e020100300506032b657004220420")
            .unwrap();
        der.extend_from_slice(&seed);
        let pair = KeyPair::from_pkcs8_der(&der).unwrap();
        assert_eq!(pair.algorithm(), KeyAlgorithm::Ed25519);
        let key = ZoneKey::ksk(pair.clone());
        assert_eq!(
            format_dnskey(key.dnskey()),
            "257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4="
        );
        assert_eq!(key.key_tag(), 3613);
        let owner = name("example.com.");
        assert_eq!(
            format_ds(&key.ds(&owner, DsDigest::Sha256).unwrap()),
            "3613 15 2 3AA5AB37EFCE57F737FC1627013FEE07BDF241BD10F3B1964AB55C78E79A304B"
        );
        let mx = Record::from_rdata(
            owner.clone(),
            3600,
            RData::MX(MX::new(10, name("mail.example.com."))),
        );
        let input = SigInput {
            type_covered: RecordType::MX,
            algorithm: Algorithm::ED25519,
            num_labels: 2,
            original_ttl: 3600,
            sig_expiration: SerialNumber::new(1_440_021_600),
            sig_inception: SerialNumber::new(1_438_207_200),
            key_tag: 3613,
            signer_name: owner.clone(),
        };
        let tbs = TBS::from_input(&owner, DNSClass::IN, &input, std::iter::once(&mx)).unwrap();
        let sig = pair.sign(&tbs).unwrap();
        assert_eq!(
            data_encoding::BASE64.encode(&sig),
            "oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg=="
        );
    }

    #[test]
    fn pkcs8_round_trips_for_every_algorithm() {
        for algorithm in KeyAlgorithm::ALL {
            let pair = fixture_keys::key(algorithm, 0);
            let from_der = KeyPair::from_pkcs8_der(pair.to_pkcs8_der()).unwrap();
            assert_eq!(from_der.public_key(), pair.public_key(), "{algorithm}");
            let pem = pair.to_pkcs8_pem();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
            assert!(pem.lines().all(|l| l.len() <= 64));
            let from_pem = KeyPair::from_pkcs8_pem(&pem).unwrap();
            assert_eq!(from_pem.public_key(), pair.public_key(), "{algorithm}");
            assert_eq!(from_pem.to_pkcs8_der(), pair.to_pkcs8_der());
        }
    }

    #[test]
    fn generated_keys_sign_and_verify() {
        // RSA generation is slow; one RSA key is generated here, the rest of the suite uses
        // the fixtures.
        for algorithm in KeyAlgorithm::ALL {
            let pair = KeyPair::generate(algorithm).unwrap();
            let reloaded = KeyPair::from_pkcs8_der(pair.to_pkcs8_der()).unwrap();
            let dnskey = reloaded.dnskey(FLAGS_ZONE_KEY);
            let owner = name("example.");
            let record = Record::from_rdata(owner.clone(), 300, RData::A(A::new(192, 0, 2, 1)));
            let input = SigInput {
                type_covered: RecordType::A,
                algorithm: algorithm.to_hickory(),
                num_labels: 1,
                original_ttl: 300,
                sig_expiration: SerialNumber::new(2_000_000_000),
                sig_inception: SerialNumber::new(1_000_000_000),
                key_tag: key_tag(&dnskey),
                signer_name: owner.clone(),
            };
            let tbs =
                TBS::from_input(&owner, DNSClass::IN, &input, std::iter::once(&record)).unwrap();
            let rrsig = RRSIG::from_sig(input, reloaded.sign(&tbs).unwrap());
            dnskey
                .verify_rrsig(&owner, DNSClass::IN, &rrsig, std::iter::once(&record))
                .unwrap();
            if algorithm == KeyAlgorithm::RsaSha256 {
                // RFC 3110: one-octet exponent length 3, exponent 65537, 256-octet modulus.
                assert_eq!(&pair.public_key()[..4], &[3, 1, 0, 1]);
                assert_eq!(pair.public_key().len(), 4 + 256);
            }
        }
    }

    #[test]
    fn unsupported_keys_are_refused_with_the_reason() {
        assert!(matches!(
            KeyPair::from_pkcs8_der(b"not der"),
            Err(KeyError::Pkcs8(_))
        ));
        assert!(matches!(
            KeyPair::from_pkcs8_pem("hello"),
            Err(KeyError::Pem(_))
        ));
        // A P-384 key: valid PKCS#8, unsupported curve.
        let p384 = EcdsaSigningKey::generate_pkcs8(Algorithm::ECDSAP384SHA384).unwrap();
        let err = KeyPair::from_pkcs8_der(p384.secret_pkcs8_der()).unwrap_err();
        assert!(err.to_string().contains("1.3.132.0.34"), "{err}");
    }

    #[test]
    fn roles_have_the_rfc_flags_and_foreign_keys_never_sign() {
        let pair = fixture_keys::key(KeyAlgorithm::Ed25519, 0);
        assert_eq!(ZoneKey::ksk(pair.clone()).dnskey().flags(), 257);
        assert_eq!(ZoneKey::zsk(pair.clone()).dnskey().flags(), 256);
        assert_eq!(ZoneKey::csk(pair.clone()).dnskey().flags(), 257);
        let foreign = ZoneKey::foreign(pair.dnskey(256)).with_signing(true);
        assert!(foreign.key_pair().is_none() && !foreign.is_signing() && foreign.is_published());
        assert_eq!(foreign.role(), KeyRole::Zsk);
        let text = format_dnskey(foreign.dnskey());
        assert_eq!(&parse_dnskey(&text).unwrap(), foreign.dnskey());
        assert!(parse_dnskey("256 2 15 AAAA").is_err());
        assert!(parse_dnskey("256 3 15").is_err());
    }
}
