//! Mutual TLS for EPP (RFC 5734 §8–9), on rustls with the ring provider.
//!
//! RFC 5734 requires TLS with *mutual* authentication, full path validation, and a match
//! between the client's certificate identity and the client before service is given. Here:
//!
//! - the server ([`server_config`]) offers TLS 1.3 and 1.2 and **requires** a client
//!   certificate that chains to the PKI's CA (rustls' `WebPkiClientVerifier`: signature chain,
//!   validity at the real current time, the clientAuth extended key usage);
//! - [`accept`] runs the handshake under a deadline, so a client that connects and stalls
//!   cannot hold a task for ever (RFC 5734 §2: the server SHOULD time out slow clients), and
//!   returns the clID the certificate vouches for ([`peer_clid`]);
//! - the EPP layer then compares that clID with the `<clID>` of `<login>` and answers 2200 on
//!   a mismatch. This module only authenticates; it does not know EPP.
//!
//! The registrars' side ([`client_config`]) trusts the PKI's CA and nothing else (not the
//! system's roots) and presents the registrar's certificate.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{CipherSuite, ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::pki::verify::roots;
use crate::pki::{
    ClId, ClientIdentityError, Identity, Pki, SERVER_DNS_NAME, clid_from_certificate,
};
use crate::recent::Recent;

/// How long [`accept`] waits for a handshake by default: generous for a loaded CI machine,
/// short enough that stalled connections do not pile up.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The protocol versions both sides offer: TLS 1.3, and 1.2 for older registrar stacks
/// (RFC 5734 as updated by RFC 8996 and RFC 9325 allows nothing older).
const VERSIONS: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// [`client_config`] was asked for a registrar the PKI does not have.
    #[error("the PKI has no registrar {0:?}")]
    UnknownRegistrar(String),
    /// rustls refused a certificate, key or setting.
    #[error("cannot build the TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client certificate verifier could not be built from the CA.
    #[error("cannot build the client certificate verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// The ring crypto provider, named explicitly everywhere so the process-wide default (and
/// with it aws-lc-rs) never comes into play.
///
/// The same suites as ring's default, with the SHA-256 ones first: TLS_AES_128_GCM_SHA256 is
/// the suite every TLS 1.3 peer must implement (RFC 8446 §9.1), and SHA-256 runs on the CPU's
/// SHA extensions where SHA-384 does not, which made the key schedule of the handshakes after
/// each dropped connection a visible part of `harness explore`'s time. A peer that prefers
/// another suite still gets it where rustls follows the client's order.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    // A stable sort: the order within each group stays ring's.
    provider.cipher_suites.sort_by_key(|suite| {
        matches!(
            suite.suite(),
            CipherSuite::TLS13_AES_256_GCM_SHA384
                | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                | CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
        )
    });
    Arc::new(provider)
}

/// The server name registrars connect to; the server certificate is valid for it (and for
/// `127.0.0.1` and `::1`).
pub fn server_name() -> ServerName<'static> {
    ServerName::try_from(SERVER_DNS_NAME).expect("invariant: `localhost` is a valid DNS name")
}

/// The registry's TLS configuration: TLS 1.3 and 1.2, the server certificate from `pki`, and
/// a client certificate chaining to `pki`'s CA required on every connection.
pub fn server_config(pki: &Pki) -> Result<ServerConfig, TlsConfigError> {
    let provider = crypto_provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(roots(pki.ca())?, provider.clone()).build()?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(VERSIONS)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![pki.server().cert_der().clone()],
            pki.server().key_der(),
        )?;
    Ok(config)
}

/// A registrar's TLS configuration: trusts only `pki`'s CA, presents `registrar`'s
/// certificate.
pub fn client_config(pki: &Pki, registrar: &str) -> Result<ClientConfig, TlsConfigError> {
    let credentials = pki
        .registrar(registrar)
        .ok_or_else(|| TlsConfigError::UnknownRegistrar(registrar.to_owned()))?;
    client_config_with_identity(pki, credentials.identity())
}

/// A client configuration that trusts `pki`'s CA and presents `identity`, whatever it is: for
/// refusal tests with [fixture](crate::pki::fixtures) certificates.
pub fn client_config_with_identity(
    pki: &Pki,
    identity: &Identity,
) -> Result<ClientConfig, TlsConfigError> {
    let config = ClientConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(VERSIONS)?
        .with_root_certificates(roots(pki.ca())?)
        .with_client_auth_cert(vec![identity.cert_der().clone()], identity.key_der())?;
    Ok(config)
}

/// A registrar's TLS configuration from PEM files, as a registrar process gets them: the CA to
/// trust (and nothing else), its certificate and its PKCS#8 key.
pub fn client_config_from_files(
    ca: &std::path::Path,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<ClientConfig, String> {
    use rustls_pki_types::PrivateKeyDer;
    use rustls_pki_types::pem::PemObject;
    let ca = CertificateDer::from_pem_file(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
    let cert =
        CertificateDer::from_pem_file(cert).map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let mut roots = RootCertStore::empty();
    roots.add(ca).map_err(|e| e.to_string())?;
    ClientConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_client_auth_cert(vec![cert], key)
        .map_err(|e| e.to_string())
}

/// A client configuration that trusts `pki`'s CA but presents no certificate, which the
/// registry must refuse.
pub fn client_config_without_certificate(pki: &Pki) -> Result<ClientConfig, TlsConfigError> {
    let config = ClientConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(VERSIONS)?
        .with_root_certificates(roots(pki.ca())?)
        .with_no_client_auth();
    Ok(config)
}

/// The clID that the client certificate of an established session vouches for.
///
/// rustls has verified the certificate during the handshake; this only reads it.
pub fn peer_clid<IO>(stream: &TlsStream<IO>) -> Result<ClId, ClientIdentityError> {
    let (_, connection) = stream.get_ref();
    let end_entity = connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or(ClientIdentityError::NoCertificate)?;
    let der: &[u8] = end_entity;
    if let Some(clid) = KNOWN_CLIDS.with_borrow(|k| k.find(|known| **known == *der).cloned()) {
        return Ok(clid);
    }
    let clid = clid_from_certificate(end_entity)?;
    KNOWN_CLIDS.with_borrow_mut(|k| k.remember(der.into(), clid.clone()));
    Ok(clid)
}

/// How many certificates [`KNOWN_CLIDS`] remembers per thread.
const KNOWN_CLIDS_KEPT: usize = 16;

thread_local! {
    /// The clIDs of the last certificates this thread read, by their DER octets. The same few
    /// registrars reconnect all the time (after every dropped connection), and parsing the
    /// X.509 structure again for each handshake was about a twentieth of what
    /// `harness explore` spent on handshakes. Only a certificate that
    /// yielded a clID is remembered; one that did not is parsed, and refused, each time.
    static KNOWN_CLIDS: std::cell::RefCell<Recent<Box<[u8]>, ClId>> =
        const { std::cell::RefCell::new(Recent::new(KNOWN_CLIDS_KEPT)) };
}

/// A TLS session whose client is an authenticated registrar.
#[derive(Debug)]
pub struct Authenticated<IO> {
    /// The established session.
    pub stream: TlsStream<IO>,
    /// The clID the client's certificate vouches for.
    pub clid: ClId,
}

/// Why [`accept`] gave no authenticated session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// The handshake did not finish in time; the connection was dropped.
    #[error("the TLS handshake did not finish within {0:?}")]
    Timeout(Duration),
    /// The handshake failed: no or an untrusted client certificate, no common protocol
    /// version or cipher suite, a broken peer, or the connection closed.
    #[error("the TLS handshake failed: {0}")]
    Handshake(#[source] io::Error),
    /// The handshake succeeded but the certificate names no usable clID.
    #[error(transparent)]
    Identity(#[from] ClientIdentityError),
}

impl AcceptError {
    /// The TLS-level reason of a failed handshake, if rustls gave one (e.g.
    /// `NoCertificatesPresented`, or `InvalidCertificate(UnknownIssuer)`).
    pub fn tls_error(&self) -> Option<&rustls::Error> {
        match self {
            Self::Handshake(e) => e.get_ref()?.downcast_ref(),
            _ => None,
        }
    }
}

/// Runs the server side of the handshake on `io`, giving up after `handshake_timeout`, and
/// reads the client's clID.
///
/// Only the handshake is under the deadline; idle timeouts of the established session are
/// the EPP layer's business.
pub async fn accept<IO>(
    acceptor: &TlsAcceptor,
    io: IO,
    handshake_timeout: Duration,
) -> Result<Authenticated<IO>, AcceptError>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let stream = tokio::time::timeout(handshake_timeout, acceptor.accept(io))
        .await
        .map_err(|_| AcceptError::Timeout(handshake_timeout))?
        .map_err(AcceptError::Handshake)?;
    let clid = peer_clid(&stream)?;
    Ok(Authenticated { stream, clid })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The provider offers exactly ring's suites, the SHA-256 ones first (in ring's order),
    /// so TLS 1.3 peers that follow the client's order settle on TLS_AES_128_GCM_SHA256.
    #[test]
    fn the_provider_reorders_ring_suites_and_drops_none() {
        let ours: Vec<CipherSuite> = crypto_provider()
            .cipher_suites
            .iter()
            .map(|s| s.suite())
            .collect();
        let ring: Vec<CipherSuite> = rustls::crypto::ring::default_provider()
            .cipher_suites
            .iter()
            .map(|s| s.suite())
            .collect();
        let mut sorted = ours.clone();
        sorted.sort_by_key(|s| u16::from(*s));
        let mut ring_sorted = ring.clone();
        ring_sorted.sort_by_key(|s| u16::from(*s));
        assert_eq!(sorted, ring_sorted);
        assert_eq!(ours[0], CipherSuite::TLS13_AES_128_GCM_SHA256);
        let first_sha384 = ours
            .iter()
            .position(|s| format!("{s:?}").ends_with("SHA384"))
            .unwrap();
        assert!(
            ours[first_sha384..]
                .iter()
                .all(|s| format!("{s:?}").ends_with("SHA384")),
            "{ours:?}"
        );
    }
}
