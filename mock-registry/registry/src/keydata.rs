//! Validation of EPP `secDNS:keyData` (RFC 5910 §4.2) as the registry receives it.
//!
//! SIDN runs a key data interface: registrars send DNSKEYs (flags, protocol, algorithm, public
//! key) and the registry computes the DS. A key the registry accepts ends up as a DS in the
//! signed TLD, so anything malformed must be refused at the EPP door with an answer that names
//! the wrong field; [`KeyDataError::field`] gives the secDNS element to report.
//!
//! The input is the EPP codec's [`KeyData`]: the codec has already decoded the base64 of
//! `secDNS:pubKey` (and refused what is not base64), so only the DNS meaning is checked here.

use hickory_proto::dnssec::rdata::DNSKEY;
use hickory_proto::dnssec::{Algorithm, PublicKey, PublicKeyBuf};

pub use epp::secdns::KeyData;

/// The keyData an EPP client sends for a DNSKEY (for building commands from a key).
pub fn key_data_for(dnskey: &DNSKEY) -> KeyData {
    KeyData {
        flags: dnskey.flags(),
        protocol: 3,
        alg: u8::from(dnskey.public_key().algorithm()),
        pub_key: dnskey.public_key().public_bytes().to_vec(),
    }
}

/// Which `secDNS:keyData` child is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyDataField {
    /// `secDNS:flags`.
    Flags,
    /// `secDNS:protocol`.
    Protocol,
    /// `secDNS:alg`.
    Algorithm,
    /// `secDNS:pubKey`.
    PublicKey,
}

impl KeyDataField {
    /// The element's name in the secDNS-1.1 schema.
    pub fn element(self) -> &'static str {
        match self {
            Self::Flags => "secDNS:flags",
            Self::Protocol => "secDNS:protocol",
            Self::Algorithm => "secDNS:alg",
            Self::PublicKey => "secDNS:pubKey",
        }
    }
}

/// Why a keyData was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyDataError {
    /// Flags other than 256 (ZSK) or 257 (KSK/CSK).
    #[error("flags {0} is not 256 or 257")]
    Flags(u16),
    /// Protocol other than 3 (RFC 4034 §2.1.2).
    #[error("protocol {0} is not 3")]
    Protocol(u8),
    /// An algorithm the registry does not accept.
    #[error("algorithm {0} is not one of 8, 13, 14, 15")]
    Algorithm(u8),
    /// The public key decodes but is not a key of its algorithm.
    #[error("public key is not a valid algorithm {algorithm} key: {reason}")]
    PublicKeyShape {
        /// The algorithm number the key claims.
        algorithm: u8,
        /// What is wrong with it.
        reason: String,
    },
}

impl KeyDataError {
    /// The keyData child at fault, for the EPP error's `<value>`.
    pub fn field(&self) -> KeyDataField {
        match self {
            Self::Flags(_) => KeyDataField::Flags,
            Self::Protocol(_) => KeyDataField::Protocol,
            Self::Algorithm(_) => KeyDataField::Algorithm,
            Self::PublicKeyShape { .. } => KeyDataField::PublicKey,
        }
    }
}

/// Smallest and largest RSA modulus accepted, in bits. RFC 5702 allows 512 for RSASHA256, but
/// RFC 8624 and every registry today refuse less than 1024.
const RSA_MODULUS_BITS: std::ops::RangeInclusive<usize> = 1024..=4096;

/// Checks an EPP keyData and returns the DNSKEY it describes.
///
/// Flags must be 256 or 257, protocol 3, algorithm one of 8 (RSASHA256), 13 (ECDSAP256SHA256),
/// 14 (ECDSAP384SHA384) or 15 (ED25519), and the public key must have the size and shape of
/// its algorithm: an RFC 3110 RSA key with a 1024–4096-bit odd modulus and no leading
/// zeros; an uncompressed ECDSA point (x‖y) that lies on the curve; a 32-octet Ed25519 key.
/// Fields are checked in that order, so the first wrong one is reported.
pub fn validate_key_data(key: &KeyData) -> Result<DNSKEY, KeyDataError> {
    if key.flags != 256 && key.flags != 257 {
        return Err(KeyDataError::Flags(key.flags));
    }
    if key.protocol != 3 {
        return Err(KeyDataError::Protocol(key.protocol));
    }
    let algorithm = match key.alg {
        8 => Algorithm::RSASHA256,
        13 => Algorithm::ECDSAP256SHA256,
        14 => Algorithm::ECDSAP384SHA384,
        15 => Algorithm::ED25519,
        other => return Err(KeyDataError::Algorithm(other)),
    };
    let bytes = &key.pub_key;
    let shape = |reason: String| KeyDataError::PublicKeyShape {
        algorithm: key.alg,
        reason,
    };
    match key.alg {
        8 => check_rsa(bytes).map_err(shape)?,
        13 => check_ec_point(bytes, &ring::agreement::ECDH_P256, 64).map_err(shape)?,
        14 => check_ec_point(bytes, &ring::agreement::ECDH_P384, 96).map_err(shape)?,
        _ => {
            if bytes.len() != 32 {
                return Err(shape(format!("{} octets, not 32", bytes.len())));
            }
        }
    }
    Ok(DNSKEY::with_flags(
        key.flags,
        PublicKeyBuf::new(bytes.clone(), algorithm),
    ))
}

/// RFC 3110 §2: exponent length (1 octet, or 0 then 2 octets), exponent, modulus.
fn check_rsa(key: &[u8]) -> Result<(), String> {
    let (exp_len, rest) = match key {
        [] => return Err("empty".into()),
        [0, hi, lo, rest @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), rest),
        [0, ..] => return Err("truncated exponent length".into()),
        [len, rest @ ..] => (usize::from(*len), rest),
    };
    if exp_len == 0 {
        return Err("zero-length exponent".into());
    }
    if rest.len() <= exp_len {
        return Err("no modulus after the exponent".into());
    }
    let (exponent, modulus) = rest.split_at(exp_len);
    if exponent[0] == 0 {
        return Err("exponent has a leading zero octet".into());
    }
    if modulus[0] == 0 {
        return Err("modulus has a leading zero octet".into());
    }
    let bits = modulus.len() * 8 - modulus[0].leading_zeros() as usize;
    if !RSA_MODULUS_BITS.contains(&bits) {
        return Err(format!(
            "{bits}-bit modulus, outside {}–{}",
            RSA_MODULUS_BITS.start(),
            RSA_MODULUS_BITS.end()
        ));
    }
    if modulus[modulus.len() - 1] & 1 == 0 {
        return Err("even modulus".into());
    }
    Ok(())
}

/// RFC 6605 §4: the point as x‖y. Checks the length, then that the point is on the curve.
///
/// ring has no public point validation, but an ECDH agreement validates the peer's public key
/// (SEC 1 §3.2.2.1) before using it, so one ephemeral agreement tells whether the point is good.
fn check_ec_point(
    xy: &[u8],
    curve: &'static ring::agreement::Algorithm,
    len: usize,
) -> Result<(), String> {
    if xy.len() != len {
        return Err(format!("{} octets, not {len}", xy.len()));
    }
    let mut uncompressed = Vec::with_capacity(len + 1);
    uncompressed.push(4);
    uncompressed.extend_from_slice(xy);
    let rng = ring::rand::SystemRandom::new();
    let ours = ring::agreement::EphemeralPrivateKey::generate(curve, &rng)
        .map_err(|_| "could not check the point (random number generator failed)".to_string())?;
    let peer = ring::agreement::UnparsedPublicKey::new(curve, uncompressed);
    ring::agreement::agree_ephemeral(ours, &peer, |_| ())
        .map_err(|_| "the point is not on the curve".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnssec::fixture_keys;
    use dnssec::keys::{KeyAlgorithm, format_dnskey};

    /// A keyData with the public key given in base64, as it appears in EPP.
    fn kd(flags: u16, protocol: u8, alg: u8, public_key: &str) -> KeyData {
        KeyData {
            flags,
            protocol,
            alg,
            pub_key: data_encoding::BASE64.decode(public_key.as_bytes()).unwrap(),
        }
    }

    const P256: &str =
        "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==";
    const P384: &str = "xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40";

    #[test]
    fn accepts_real_keys_of_every_algorithm() {
        for algorithm in KeyAlgorithm::ALL {
            let dnskey = fixture_keys::key(algorithm, 0).dnskey(257);
            let data = key_data_for(&dnskey);
            assert_eq!(validate_key_data(&data).unwrap(), dnskey, "{algorithm}");
        }
        assert!(validate_key_data(&kd(257, 3, 13, P256)).is_ok());
        assert!(validate_key_data(&kd(256, 3, 14, P384)).is_ok());
    }

    #[test]
    fn names_the_wrong_field() {
        let ed = format_dnskey(&fixture_keys::key(KeyAlgorithm::Ed25519, 0).dnskey(257));
        let ed_b64 = ed.rsplit(' ').next().unwrap();
        let cases: Vec<(KeyData, KeyDataField)> = vec![
            (kd(385, 3, 15, ed_b64), KeyDataField::Flags),
            (kd(0, 3, 15, ed_b64), KeyDataField::Flags),
            (kd(257, 2, 15, ed_b64), KeyDataField::Protocol),
            (kd(257, 3, 5, ed_b64), KeyDataField::Algorithm),
            (kd(257, 3, 16, ed_b64), KeyDataField::Algorithm),
            (kd(257, 3, 15, ""), KeyDataField::PublicKey),
            (kd(257, 3, 15, "AAAA"), KeyDataField::PublicKey),
            (kd(257, 3, 13, ed_b64), KeyDataField::PublicKey),
            (kd(257, 3, 14, P256), KeyDataField::PublicKey),
        ];
        for (data, field) in cases {
            let err = validate_key_data(&data).unwrap_err();
            assert_eq!(err.field(), field, "{data:?}: {err}");
        }
    }

    #[test]
    fn refuses_points_off_the_curve() {
        let mut xy = data_encoding::BASE64.decode(P256.as_bytes()).unwrap();
        xy[63] ^= 1;
        let err =
            validate_key_data(&kd(257, 3, 13, &data_encoding::BASE64.encode(&xy))).unwrap_err();
        assert!(err.to_string().contains("not on the curve"), "{err}");
    }

    #[test]
    fn refuses_malformed_rsa_keys() {
        let good = fixture_keys::key(KeyAlgorithm::RsaSha256, 0)
            .public_key()
            .to_vec();
        let b64 = |b: &[u8]| data_encoding::BASE64.encode(b);
        assert!(validate_key_data(&kd(256, 3, 8, &b64(&good))).is_ok());
        let mut short = good.clone();
        short.truncate(4 + 64); // a 512-bit modulus
        let mut even = good.clone();
        *even.last_mut().unwrap() &= 0xfe;
        let mut leading_zero = good.clone();
        leading_zero[4] = 0;
        for (bad, what) in [
            (short, "512-bit"),
            (even, "even modulus"),
            (leading_zero, "leading zero"),
            (vec![3, 1, 0, 1], "no modulus"),
            (vec![0, 0], "truncated"),
        ] {
            let err = validate_key_data(&kd(256, 3, 8, &b64(&bad))).unwrap_err();
            assert!(err.to_string().contains(what), "{what}: {err}");
            assert_eq!(err.field(), KeyDataField::PublicKey);
        }
    }
}
