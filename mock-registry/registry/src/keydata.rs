//! Validation of EPP `secDNS:keyData` (RFC 5910 §4.2) as the registry receives it.
//!
//! SIDN runs a key data interface: registrars send DNSKEYs (flags, protocol, algorithm, public
//! key) and the registry computes the DS. A key the registry accepts ends up as a DS in the
//! signed TLD, so anything malformed must be refused at the EPP door with an answer that names
//! the wrong field; [`KeyDataError::field`] gives the secDNS element to report.
//!
//! The input is the EPP codec's [`KeyData`]: the codec has already decoded the base64 of
//! `secDNS:pubKey` (and refused what is not base64), so only the DNS meaning is checked here.

mod ed25519;

use hickory_proto::dnssec::rdata::DNSKEY;
use hickory_proto::dnssec::{Algorithm, PublicKey, PublicKeyBuf};

use crate::recent::Recent;

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

/// The DNSKEY that key data describes, without the registry's policy checks
/// ([`validate_key_data`] makes those); an error when it is no DNSKEY at all. For what the
/// registry compares with DNS (relayed keys, a child's CDS and CDNSKEY) and the harness's
/// operators publish, not for what the registry accepts.
pub fn dnskey_of(key: &KeyData) -> Result<DNSKEY, dnssec::KeyError> {
    dnssec::keys::parse_dnskey(&format!(
        "{} {} {} {}",
        key.flags,
        key.protocol,
        key.alg,
        key.pub_key_base64()
    ))
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
/// its algorithm: an RFC 3110 RSA key with a 1024–4096-bit odd modulus and an odd exponent
/// from 3 up to below the modulus (RFC 8017 §3.1), no leading zeros; an uncompressed ECDSA
/// point (x‖y) that lies on the curve; an Ed25519 key of 32 octets that decodes to a curve
/// point (RFC 8032 §5.1.3).
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
        13 => check_point(key.alg, bytes, || {
            check_ec_point(bytes, &ring::agreement::ECDH_P256, 64)
        })
        .map_err(shape)?,
        14 => check_point(key.alg, bytes, || {
            check_ec_point(bytes, &ring::agreement::ECDH_P384, 96)
        })
        .map_err(shape)?,
        _ => check_point(key.alg, bytes, || check_ed25519(bytes)).map_err(shape)?,
    }
    Ok(DNSKEY::with_flags(
        key.flags,
        PublicKeyBuf::new(bytes.clone(), algorithm),
    ))
}

/// How many good curve points a thread remembers: the keys of a few hundred domains.
const KNOWN_POINTS: usize = 256;

thread_local! {
    /// The curve points this thread found good lately, by algorithm and octets.
    ///
    /// Whether octets are a point of a curve never changes, and a registry sees the same few
    /// keys again and again (each DS update, key relay and CDNSKEY scan re-sends them), while
    /// a check costs an elliptic-curve operation (an ECDH agreement for ECDSA keys). Only good
    /// points are remembered, so a bad one goes through the full check every time.
    static KNOWN: std::cell::RefCell<Recent<(u8, Vec<u8>), ()>> =
        const { std::cell::RefCell::new(Recent::new(KNOWN_POINTS)) };
}

/// `check()`, unless the point `key` of algorithm `alg` passed it on this thread lately.
fn check_point(
    alg: u8,
    key: &[u8],
    check: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    if KNOWN.with_borrow(|k| k.find(|(a, p)| *a == alg && p == key).is_some()) {
        return Ok(());
    }
    check()?;
    KNOWN.with_borrow_mut(|k| k.remember((alg, key.to_vec()), ()));
    Ok(())
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
    // RFC 8017 §3.1: the public exponent is an integer with 3 ≤ e ≤ n − 1 and coprime to
    // λ(n), which is even, so e is odd. e = 1 would make every signature its own message.
    if exponent[exponent.len() - 1] & 1 == 0 {
        return Err("even exponent".into());
    }
    if exponent == [1] {
        return Err("exponent 1".into());
    }
    // Both have no leading zero octet: the longer is the larger, else compare octets.
    if (exponent.len(), exponent) >= (modulus.len(), modulus) {
        return Err("exponent not below the modulus".into());
    }
    Ok(())
}

/// RFC 8080 §3: the 32-octet public key of RFC 8032 §5.1.5, which must decode to a point of
/// the curve (RFC 8032 §5.1.3: y below p, and an x for that y).
fn check_ed25519(key: &[u8]) -> Result<(), String> {
    let encoded: &[u8; 32] = key
        .try_into()
        .map_err(|_| format!("{} octets, not 32", key.len()))?;
    if !ed25519::is_point(encoded) {
        return Err("the 32 octets do not decode to a curve point (RFC 8032 §5.1.3)".to_string());
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
    fn remembered_points_are_per_algorithm_and_bad_ones_stay_refused() {
        let good = kd(257, 3, 13, P256);
        let mut xy = data_encoding::BASE64.decode(P256.as_bytes()).unwrap();
        xy[63] ^= 1;
        let bad = kd(257, 3, 13, &data_encoding::BASE64.encode(&xy));
        for _ in 0..3 {
            assert!(validate_key_data(&good).is_ok());
            assert!(validate_key_data(&bad).is_err());
        }
        // The 64 octets of a good P-256 point are no P-384 point (nor of its length).
        assert!(validate_key_data(&kd(257, 3, 14, P256)).is_err());
        // More good points than a thread remembers: the first is checked again, still good.
        let generated: Vec<KeyData> = (0..KNOWN_POINTS + 1)
            .map(|_| {
                let pair = dnssec::keys::KeyPair::generate(KeyAlgorithm::Ed25519).unwrap();
                key_data_for(&pair.dnskey(257))
            })
            .collect();
        for key in generated.iter().chain(&generated[..1]) {
            assert!(validate_key_data(key).is_ok());
        }
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

    /// Issue 11: RFC 8032 §5.1.3 decoding. Vectors: the public keys of RFC 8032 §7.1, edge
    /// encodings, and random octets judged by the RFC's reference algorithm (Python, with x²
    /// reduced mod p as §5.1.3 requires).
    #[test]
    fn ed25519_keys_must_decode_to_a_curve_point() {
        let hex = |h: &str| data_encoding::HEXLOWER.decode(h.as_bytes()).unwrap();
        let b64 = |b: &[u8]| data_encoding::BASE64.encode(b);
        let p_le = "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";
        let cases: Vec<(String, bool, &str)> = vec![
            // RFC 8032 §7.1 TEST 1, 2, 3.
            (
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a".into(),
                true,
                "RFC 8032 test 1",
            ),
            (
                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c".into(),
                true,
                "RFC 8032 test 2",
            ),
            (
                "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025".into(),
                true,
                "RFC 8032 test 3",
            ),
            // y = p, y = p + 1, y = 2^255 - 1: not below p.
            (p_le.into(), false, "y = p"),
            (
                "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f".into(),
                false,
                "y = p + 1",
            ),
            (
                "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f".into(),
                false,
                "y = 2^255 - 1",
            ),
            // y = 2 has no x.
            (
                "0200000000000000000000000000000000000000000000000000000000000000".into(),
                false,
                "y = 2",
            ),
            // y = 1 and y = -1 have x = 0: valid, but not with the sign bit set.
            (
                "0100000000000000000000000000000000000000000000000000000000000000".into(),
                true,
                "y = 1",
            ),
            (
                "0100000000000000000000000000000000000000000000000000000000000080".into(),
                false,
                "y = 1, x_0 = 1",
            ),
            (
                "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f".into(),
                true,
                "y = -1",
            ),
            (
                "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff".into(),
                false,
                "y = -1, x_0 = 1",
            ),
        ];
        let random: [(&str, bool); 24] = [
            (
                "73dd8fdbecc7777382da96302fcd8379a19dcb2f18724d241789cfe3b1a20a98",
                false,
            ),
            (
                "fb65f673a7bd9da6289f03d487100f0930e13d9907c776537097d732843ba34b",
                false,
            ),
            (
                "7f01a91575a74768ff8dfeeed715b54150c23a8349071190c41b661bd84a6211",
                true,
            ),
            (
                "f504d8af003635ede90d7860fab5656b1290a132c7ac4556164f5503f668c2ec",
                true,
            ),
            (
                "1e223fb419020f77cc7c2dae8f30728230fcbbc4216ba4621d656bfd360045dd",
                false,
            ),
            (
                "f8f9cd974dffe205352f64feda9aa493190afd2536714202c59c54d44b621213",
                true,
            ),
            (
                "173595a23e03995e5f9f7420f5967bd59322dd622ea0274fe83ad19c3fb93028",
                false,
            ),
            (
                "bda1f08d32aff363e17b9a146b0c1a1b0983f6413dbdb464416bd2e7987d4b85",
                true,
            ),
            (
                "2cedb8fa11203a7a8fa7da9d9d124736eaea34bf04114469723f0f0b2d485e87",
                false,
            ),
            (
                "92f921175c23e473fb54a8bbb08595f2239708ec0479e95bb34ff6080599a213",
                true,
            ),
            (
                "7b11bb4f5122ff1213738b5ebc0be6efbcbcb421cbf6ea575a15af79e613dfdb",
                true,
            ),
            (
                "6af1ca07dd7f92039fa9616195039b121417a31dfe41e16aba5463efbcb19475",
                false,
            ),
            (
                "7076d68a1584c083074f99167b053af5b21c7fc79da8eb7c41e5025e4d24ad9c",
                true,
            ),
            (
                "33842bc0e757a8ee717fe43d5367aa4032a26ecdcec1ea33e136623895eb5135",
                false,
            ),
            (
                "22227f59d6e5d90ab610f3fa46d22b1c737846ec36d46961a0857eac50b7d6d7",
                false,
            ),
            (
                "fb9f735213d40847df9b0aadb547925a4fa6ca9004a42267743006c4d4443cc7",
                false,
            ),
            (
                "24cb0cfba11d721ba189a7a3ce5ef513af3233d279412db602c17888b6092d39",
                false,
            ),
            (
                "45c7588ab2f285809dffc12864d9cab3e7391669eee4b86321737432a0e3e801",
                false,
            ),
            (
                "608c91a7e180cbd1f1577653a6fb3419b8ddd1cca4ecb71f363ee663fb16fa4f",
                false,
            ),
            (
                "89facaee5243e8b7db045981150970578c6bc4467ceb0737cfde106dcc082c88",
                false,
            ),
            (
                "55afc9ea237826ff84e6b984d7adb070f2e17e94f2b016c23870868f4ad4ba8f",
                true,
            ),
            (
                "a32a8583d7e88f414fab61f4d8dee69c354dd924f78b8645927f3369891d8001",
                true,
            ),
            (
                "9a600789f80b84ea668bcdfd901f7d17b02a10ee897569ebf4ccec67443f797e",
                false,
            ),
            (
                "20566fe6d0efe6eb7986511b316b9e07ec4221b3c7fa050931273a03af4852b9",
                true,
            ),
        ];
        let all = cases
            .iter()
            .map(|(h, ok, what)| (h.as_str(), *ok, *what))
            .chain(random.iter().map(|(h, ok)| (*h, *ok, "random octets")));
        for (h, ok, what) in all {
            let r = validate_key_data(&kd(257, 3, 15, &b64(&hex(h))));
            assert_eq!(r.is_ok(), ok, "{what} {h}: {r:?}");
            if let Err(e) = r {
                assert_eq!(e.field(), KeyDataField::PublicKey);
            }
        }
        // Every fixture key decodes.
        for n in 0..4 {
            let dnskey = fixture_keys::key(KeyAlgorithm::Ed25519, n).dnskey(257);
            assert!(validate_key_data(&key_data_for(&dnskey)).is_ok());
        }
    }

    /// RSA public exponents (RFC 8017 §3.1): odd, at least 3, below the modulus.
    #[test]
    fn refuses_rsa_exponents_that_are_not_rsa() {
        let good = fixture_keys::key(KeyAlgorithm::RsaSha256, 0)
            .public_key()
            .to_vec();
        let b64 = |b: &[u8]| data_encoding::BASE64.encode(b);
        let modulus = good[1 + usize::from(good[0])..].to_vec();
        // RFC 3110 §2: one length octet, or 0 and two octets for longer exponents.
        let with_exponent = |e: &[u8]| {
            let mut k = match u8::try_from(e.len()) {
                Ok(n) => vec![n],
                Err(_) => {
                    let n = u16::try_from(e.len()).unwrap().to_be_bytes();
                    vec![0, n[0], n[1]]
                }
            };
            k.extend_from_slice(e);
            k.extend_from_slice(&modulus);
            k
        };
        assert!(validate_key_data(&kd(256, 3, 8, &b64(&with_exponent(&[1, 0, 1])))).is_ok());
        assert!(validate_key_data(&kd(256, 3, 8, &b64(&with_exponent(&[3])))).is_ok());
        for (e, what) in [
            (vec![1], "exponent 1"),
            (vec![1, 0, 0], "even exponent"),
            (vec![2], "even exponent"),
            (modulus.clone(), "not below the modulus"),
            ([&[1u8][..], &modulus].concat(), "not below the modulus"),
        ] {
            let err = validate_key_data(&kd(256, 3, 8, &b64(&with_exponent(&e)))).unwrap_err();
            assert!(err.to_string().contains(what), "{what}: {err}");
        }
    }
}
