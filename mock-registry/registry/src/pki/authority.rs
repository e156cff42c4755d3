//! Certificate authorities and the certificates they issue.

use std::fmt;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData,
    SanType, SerialNumber,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use x509_cert::der::{Decode, Encode, Tag, Tagged};
use x509_cert::ext::pkix::{BasicConstraints as X509BasicConstraints, SubjectKeyIdentifier};

use super::{CLID_URI_PREFIX, ClId, PkiError, SERVER_DNS_NAME, files};
use clock::{Clock, SystemClock};

/// The organisation written into every subject, so that anyone who meets one of these
/// certificates in a trust store or a log can tell it belongs to a throwaway test PKI.
const ORGANIZATION: &str = "mock-registry test PKI (not for production)";

/// The window in which issued certificates are valid.
///
/// Certificates are checked by rustls, OpenSSL and every registrar's TLS stack against the
/// *real* time, never a scenario's virtual clock, so the window is built around the wall clock
/// ([`Validity::current`]) and is wide: from a day before (clock skew between machines, and
/// X.509 dates are written at day precision here) to ten years after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// The first instant the certificates are valid.
    pub not_before: Timestamp,
    /// The last instant the certificates are valid.
    pub not_after: Timestamp,
}

impl Validity {
    /// From one day before `now` to about ten years after it.
    pub fn around(now: Timestamp) -> Self {
        // Overflow is only possible near the end of jiff's range (year 9999); saturating there
        // still yields a window that contains `now`.
        let not_before = now
            .checked_sub(SignedDuration::from_hours(24))
            .unwrap_or(Timestamp::MIN);
        let not_after = now
            .checked_add(SignedDuration::from_hours(24 * 3653))
            .unwrap_or(Timestamp::MAX);
        Self {
            not_before,
            not_after,
        }
    }

    /// [`around`](Self::around) the wall clock ([`SystemClock`]); see the type's docs for why
    /// not the injected clock.
    pub fn current() -> Self {
        Self::around(SystemClock.now())
    }

    /// Writes the window into `params`, rounded outwards to whole UTC days (rcgen takes dates).
    fn apply(&self, params: &mut CertificateParams) {
        let day = |t: Timestamp| t.to_zoned(TimeZone::UTC).date();
        let start = day(self.not_before);
        params.not_before = rcgen::date_time_ymd(
            i32::from(start.year()),
            start.month().unsigned_abs(),
            start.day().unsigned_abs(),
        );
        // The day after the last day, so rounding never shortens the window.
        let end = day(self.not_after)
            .tomorrow()
            .unwrap_or(day(self.not_after));
        params.not_after = rcgen::date_time_ymd(
            i32::from(end.year()),
            end.month().unsigned_abs(),
            end.day().unsigned_abs(),
        );
    }
}

/// A certificate with its private key: the server's identity, a registrar's, or a fixture's.
///
/// Keys are ECDSA P-256 in PKCS #8, which every TLS stack in the project's test matrix
/// (rustls, OpenSSL, the Perl and PHP EPP clients) accepts and which is cheap to generate.
pub struct Identity {
    cert: CertificateDer<'static>,
    cert_pem: String,
    key: PrivateKeyDer<'static>,
    key_pem: String,
}

impl Identity {
    /// The certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The certificate, PEM (one `CERTIFICATE` block), as written to `NAME.pem`.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key, DER (PKCS #8), in the form rustls takes.
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }

    /// The private key, PEM (one PKCS #8 `PRIVATE KEY` block), as written to `NAME.key`.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// Writes `DIR/STEM.pem` and `DIR/STEM.key` (the key readable by the owner only), refusing
    /// to overwrite, and returns the two paths.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<(PathBuf, PathBuf), PkiError> {
        self.write_with(dir, stem, files::Durability::Synced)
    }

    pub(crate) fn write_with(
        &self,
        dir: &Path,
        stem: &str,
        durability: files::Durability,
    ) -> Result<(PathBuf, PathBuf), PkiError> {
        let cert_path = dir.join(format!("{stem}.{}", files::CERT_EXT));
        let key_path = dir.join(format!("{stem}.{}", files::KEY_EXT));
        let public = files::Mode::Public;
        files::write_new(&cert_path, self.cert_pem.as_bytes(), public, durability)?;
        files::write_new(
            &key_path,
            self.key_pem.as_bytes(),
            files::Mode::Secret,
            durability,
        )?;
        Ok((cert_path, key_path))
    }

    /// Reads an identity written by [`write`](Self::write) and checks the key belongs to the
    /// certificate, so a mixed-up pair is reported here and not as a puzzling handshake failure.
    pub fn read(cert_path: &Path, key_path: &Path) -> Result<Self, PkiError> {
        let cert_pem = files::read_text(cert_path)?;
        let key_pem = files::read_text(key_path)?;
        let identity =
            Self::from_pem(&cert_pem, &key_pem).map_err(|problem| PkiError::Invalid {
                path: cert_path.to_owned(),
                problem,
            })?;
        Ok(identity)
    }

    /// Parses a PEM certificate and a PEM PKCS #8 key, and checks that they belong together.
    pub(crate) fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, String> {
        let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| format!("no PEM certificate found: {e}"))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| format!("no PEM private key found in the key file: {e}"))?;
        let key_pair = KeyPair::from_pem(key_pem)
            .map_err(|e| format!("the private key is not a usable PKCS #8 key: {e}"))?;
        let identity = Self {
            cert,
            cert_pem: cert_pem.to_owned(),
            key,
            key_pem: key_pem.to_owned(),
        };
        let parsed = identity.parse().map_err(|e| e.to_string())?;
        let spki = parsed
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| format!("cannot re-encode the certificate's public key: {e}"))?;
        if spki != key_pair.subject_public_key_info() {
            return Err("the private key does not belong to the certificate".to_owned());
        }
        Ok(identity)
    }

    /// A key pair rcgen can sign with, for issuing a CA's certificates or re-using a key in a
    /// fixture.
    pub(crate) fn key_pair(&self) -> Result<KeyPair, rcgen::Error> {
        KeyPair::from_pem(&self.key_pem)
    }

    fn parse(&self) -> Result<x509_cert::Certificate, x509_cert::der::Error> {
        x509_cert::Certificate::from_der(&self.cert)
    }

    fn from_signed(cert: rcgen::Certificate, key: &KeyPair) -> Self {
        Self {
            cert_pem: cert.pem(),
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            key_pem: key.serialize_pem(),
        }
    }
}

/// Shows the certificate's size but never the key.
impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("cert_der_len", &self.cert.len())
            .field("key", &"<hidden>")
            .finish()
    }
}

/// A certificate authority: its self-signed certificate and the key it signs with.
///
/// The project's PKI has one (`ca.pem`); refusal tests create unrelated ones with
/// [`Authority::generate`] to prove that the registry trusts only its own.
pub struct Authority {
    identity: Identity,
    issuer: Issuer<'static, KeyPair>,
    /// Whether the CA certificate has a subjectKeyIdentifier, so the certificates it issues can
    /// carry a matching authorityKeyIdentifier (RFC 5280 §4.2.1.1).
    has_key_id: bool,
}

impl Authority {
    /// A new self-signed CA named `common_name`: X.509 v3, basicConstraints CA with a path
    /// length of 0 (it signs end-entity certificates only), keyUsage keyCertSign and cRLSign.
    pub fn generate(common_name: &str, validity: &Validity) -> Result<Self, PkiError> {
        let what = || format!("the CA {common_name:?}");
        let mut params = CertificateParams::default();
        params.distinguished_name = subject(common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.serial_number = Some(random_serial()?);
        validity.apply(&mut params);
        let key = new_key().map_err(|source| PkiError::Generate {
            what: what(),
            source,
        })?;
        let cert = params
            .self_signed(&key)
            .map_err(|source| PkiError::Generate {
                what: what(),
                source,
            })?;
        let identity = Identity::from_signed(cert, &key);
        Ok(Self {
            identity,
            issuer: Issuer::new(params, key),
            has_key_id: true,
        })
    }

    /// Rebuilds an authority from its PEM certificate and key (`ca.pem`, `ca.key`).
    ///
    /// The issuer name of every certificate it signs must equal its subject byte for byte, or
    /// chain building fails; so the subject is copied attribute by attribute with each
    /// attribute's string type, and [`issue`](Self::issue) double-checks the result.
    pub(crate) fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, String> {
        let identity = Identity::from_pem(cert_pem, key_pem)?;
        let parsed = identity.parse().map_err(|e| e.to_string())?;
        let tbs = parsed.tbs_certificate();
        let is_ca = matches!(
            tbs.get_extension::<X509BasicConstraints>(),
            Ok(Some((_, X509BasicConstraints { ca: true, .. })))
        );
        if !is_ca {
            return Err("not a CA certificate (basicConstraints cA is not set)".to_owned());
        }
        let key_id = tbs
            .get_extension::<SubjectKeyIdentifier>()
            .map_err(|e| format!("unreadable subjectKeyIdentifier: {e}"))?
            .map(|(_, ski)| ski.0.as_bytes().to_vec());
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(tbs.subject())?;
        params.key_identifier_method = match &key_id {
            Some(id) => KeyIdMethod::PreSpecified(id.clone()),
            None => KeyIdMethod::Sha256,
        };
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = identity
            .key_pair()
            .map_err(|e| format!("unusable CA key: {e}"))?;
        Ok(Self {
            identity,
            issuer: Issuer::new(params, key),
            has_key_id: key_id.is_some(),
        })
    }

    /// The CA certificate, DER: the one trust anchor of both sides.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        self.identity.cert_der()
    }

    /// The CA certificate, PEM, as written to `ca.pem`.
    pub fn cert_pem(&self) -> &str {
        self.identity.cert_pem()
    }

    /// The CA certificate and key, for writing `ca.pem` and `ca.key`.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The registry's server certificate: subject CN `localhost`, subjectAltName DNS
    /// `localhost`, IP `127.0.0.1` and IP `::1` (clients check these, RFC 5734 §9), extended
    /// key usage serverAuth only.
    pub fn issue_server(&self, validity: &Validity) -> Result<Identity, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = subject(SERVER_DNS_NAME);
        params.subject_alt_names = vec![
            SanType::DnsName(
                SERVER_DNS_NAME
                    .try_into()
                    .expect("invariant: `localhost` is an IA5 string"),
            ),
            SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
            SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue("the server certificate", params, None, validity)
    }

    /// A registrar's client certificate: subject CN = the clID and a subjectAltName URI
    /// `epp-clid:<clID>` (see the [module docs](super) for why both), extended key usage
    /// clientAuth only.
    pub fn issue_registrar(&self, clid: &ClId, validity: &Validity) -> Result<Identity, PkiError> {
        let params = client_params(Some(clid.as_str()), Some(clid.as_str()), true)?;
        self.issue(
            &format!("the certificate of {clid}"),
            params,
            None,
            validity,
        )
    }

    /// Signs `params` (adding the parts every issued certificate shares) for `key`, or for a
    /// fresh key when `key` is `None`.
    pub(crate) fn issue(
        &self,
        what: &str,
        mut params: CertificateParams,
        key: Option<&Identity>,
        validity: &Validity,
    ) -> Result<Identity, PkiError> {
        let generate = |source| PkiError::Generate {
            what: what.to_owned(),
            source,
        };
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = self.has_key_id;
        // Random serials: the default (a hash of the public key) would repeat when a fixture
        // re-uses a key, and a CA must never issue two certificates with one serial.
        params.serial_number = Some(random_serial()?);
        validity.apply(&mut params);
        let key = match key {
            Some(identity) => identity.key_pair().map_err(generate)?,
            None => new_key().map_err(generate)?,
        };
        let cert = params.signed_by(&key, &self.issuer).map_err(generate)?;
        let identity = Identity::from_signed(cert, &key);
        // The issuer name must equal the CA's subject byte for byte (RFC 5280 §7.1 chain
        // building); check it here, where a mismatch can still be explained.
        let issue_error = |problem: String| PkiError::Issue {
            what: what.to_owned(),
            problem,
        };
        let issued = identity.parse().map_err(|e| issue_error(e.to_string()))?;
        let ca = self
            .identity
            .parse()
            .map_err(|e| issue_error(e.to_string()))?;
        if issued.tbs_certificate().issuer() != ca.tbs_certificate().subject() {
            return Err(issue_error(
                "the CA's subject name cannot be reproduced as an issuer name".to_owned(),
            ));
        }
        Ok(identity)
    }
}

/// Shows the CA certificate's size but never the key.
impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority")
            .field("identity", &self.identity)
            .field("has_key_id", &self.has_key_id)
            .finish_non_exhaustive()
    }
}

/// The parameters of a client certificate with the given subject CN and clID URI (either may
/// be left out, for fixtures) and, if `client_auth`, the clientAuth extended key usage.
pub(crate) fn client_params(
    common_name: Option<&str>,
    clid_uri: Option<&str>,
    client_auth: bool,
) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    if let Some(cn) = common_name {
        params.distinguished_name.push(DnType::CommonName, cn);
    }
    params
        .distinguished_name
        .push(DnType::OrganizationName, ORGANIZATION);
    if let Some(clid) = clid_uri {
        let uri = format!("{CLID_URI_PREFIX}{clid}");
        let uri = uri.as_str().try_into().map_err(|_| PkiError::Issue {
            what: format!("a client certificate for {clid:?}"),
            problem: "a subjectAltName URI must be ASCII".to_owned(),
        })?;
        params.subject_alt_names = vec![SanType::URI(uri)];
    }
    params.extended_key_usages = if client_auth {
        vec![ExtendedKeyUsagePurpose::ClientAuth]
    } else {
        vec![ExtendedKeyUsagePurpose::ServerAuth]
    };
    Ok(params)
}

fn subject(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name.push(DnType::OrganizationName, ORGANIZATION);
    name
}

fn new_key() -> Result<KeyPair, rcgen::Error> {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
}

/// A positive 128-bit serial number (RFC 5280 §4.1.2.2 asks for unique, positive serials of at
/// most 20 octets; 16 random octets make collisions negligible).
fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| PkiError::Random)?;
    // Clear the sign bit and set the next one, so the DER integer is positive and always
    // exactly 16 octets long.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// Copies an X.509 name into rcgen's form, keeping each attribute's string type.
fn distinguished_name(name: &x509_cert::name::Name) -> Result<DistinguishedName, String> {
    let mut out = DistinguishedName::new();
    for rdn in name.iter_rdn() {
        if rdn.len() != 1 {
            return Err("multi-valued RDNs in the CA's subject are not supported".to_owned());
        }
        for attribute in rdn.iter() {
            let arcs: Vec<u64> = attribute.oid.arcs().map(u64::from).collect();
            let kind = DnType::from_oid(&arcs);
            if out.get(&kind).is_some() {
                return Err(
                    "repeated attribute types in the CA's subject are not supported".into(),
                );
            }
            let text = std::str::from_utf8(attribute.value.value())
                .map_err(|_| "a CA subject attribute is not UTF-8 text".to_owned())?
                .to_owned();
            let value = match attribute.value.tag() {
                Tag::Utf8String => DnValue::Utf8String(text),
                Tag::PrintableString => DnValue::PrintableString(
                    text.try_into()
                        .map_err(|e| format!("bad PrintableString in the CA's subject: {e}"))?,
                ),
                Tag::Ia5String => DnValue::Ia5String(
                    text.try_into()
                        .map_err(|e| format!("bad IA5String in the CA's subject: {e}"))?,
                ),
                other => {
                    return Err(format!(
                        "the CA's subject uses the string type {other}, which cannot be copied"
                    ));
                }
            };
            out.push(kind, value);
        }
    }
    Ok(out)
}
