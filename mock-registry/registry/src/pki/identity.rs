//! Reading the clID a client certificate vouches for.

use rustls_pki_types::CertificateDer;
use x509_cert::der::Decode;
use x509_cert::der::oid::db::rfc4519;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::{DirectoryString, GeneralName};

use super::{CLID_URI_PREFIX, ClId, ClIdError};

/// Why no clID could be read from a client's certificate.
///
/// Every variant means the TLS peer is not an identifiable registrar; the EPP server closes the
/// connection before the greeting rather than guessing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientIdentityError {
    /// The TLS session has no client certificate (only possible if the verifier was
    /// configured to allow that, or the stream was not from a finished handshake).
    #[error("the client presented no certificate")]
    NoCertificate,
    /// The certificate is not valid DER X.509, or an extension the identity depends on is
    /// malformed.
    #[error("the client certificate cannot be parsed: {0}")]
    Unparseable(String),
    /// Neither a subjectAltName URI `epp-clid:…` nor a subject CN is present.
    #[error(
        "the client certificate names no clID: it has no `{CLID_URI_PREFIX}` subjectAltName URI \
         and no subject CN"
    )]
    NoClId,
    /// Several different clIDs in the same place (two `epp-clid:` URIs, or, without those,
    /// two CNs).
    #[error("the client certificate names several clIDs ({0:?}); refusing to guess")]
    Ambiguous(Vec<String>),
    /// The name found is not a valid EPP clID, so no `<login>` could ever match it.
    #[error("the client certificate's identity is unusable: {0}")]
    InvalidClId(#[from] ClIdError),
}

/// The clID a client certificate vouches for.
///
/// The subjectAltName URIs of the form `epp-clid:<clID>` come first (the scheme compared
/// without regard to case, as RFC 3986 §3.1 says, the rest taken verbatim); only when there are
/// none does the subject CN count, the order RFC 6125 §6.4.4 sets for host names. Certificates
/// from [`Pki`](super::Pki) carry the same name in both. This does not verify the certificate:
/// call it on a certificate rustls has already verified against the CA.
pub fn clid_from_certificate(cert: &CertificateDer<'_>) -> Result<ClId, ClientIdentityError> {
    let unparseable = |e: x509_cert::der::Error| ClientIdentityError::Unparseable(e.to_string());
    let cert = x509_cert::Certificate::from_der(cert).map_err(unparseable)?;
    let tbs = cert.tbs_certificate();

    let mut from_san = Vec::new();
    if let Some((_, SubjectAltName(names))) =
        tbs.get_extension::<SubjectAltName>().map_err(unparseable)?
    {
        for name in names {
            if let GeneralName::UniformResourceIdentifier(uri) = name {
                let uri = uri.as_str();
                let scheme_len = CLID_URI_PREFIX.len();
                if uri.len() >= scheme_len
                    && uri.is_char_boundary(scheme_len)
                    && uri[..scheme_len].eq_ignore_ascii_case(CLID_URI_PREFIX)
                {
                    from_san.push(uri[scheme_len..].to_owned());
                }
            }
        }
    }

    let mut from_cn = Vec::new();
    for attribute in tbs.subject().iter() {
        if attribute.oid == rfc4519::COMMON_NAME {
            let cn = DirectoryString::try_from(&attribute.value).map_err(unparseable)?;
            from_cn.push(cn.value().into_owned());
        }
    }

    let mut names = if from_san.is_empty() {
        from_cn
    } else {
        from_san
    };
    names.sort();
    names.dedup();
    match names.len() {
        0 => Err(ClientIdentityError::NoClId),
        1 => Ok(ClId::new(names.remove(0))?),
        _ => Err(ClientIdentityError::Ambiguous(names)),
    }
}
