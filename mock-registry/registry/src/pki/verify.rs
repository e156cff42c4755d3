//! Certificate path checks with rustls's WebPKI verifiers, the same ones the TLS handshakes
//! use, so that [`Pki::load`](super::Pki::load) and `pki init` report a bad file before a
//! registrar meets it in a handshake. Here, below [`tls`](crate::tls), so that the PKI never
//! depends on the TLS layer built on it.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::{Authority, SERVER_DNS_NAME};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Checks a client certificate exactly as the handshake will (used by
/// [`Pki::load`](super::Pki::load) to report bad files early).
pub(crate) fn verify_client_certificate(
    ca: &Authority,
    cert: &CertificateDer<'_>,
) -> Result<(), rustls::Error> {
    WebPkiClientVerifier::builder_with_provider(roots(ca)?, provider())
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?
        .verify_client_cert(cert, &[], UnixTime::now())?;
    Ok(())
}

/// Checks the server certificate as a registrar's client will, for every name clients may
/// use.
pub(crate) fn verify_server_certificate(
    ca: &Authority,
    cert: &CertificateDer<'_>,
) -> Result<(), rustls::Error> {
    let verifier = WebPkiServerVerifier::builder_with_provider(roots(ca)?, provider())
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
    for name in [SERVER_DNS_NAME, "127.0.0.1", "::1"] {
        let name = ServerName::try_from(name)
            .map_err(|e| rustls::Error::General(format!("server name {name}: {e}")))?;
        verifier.verify_server_cert(cert, &[], &name, &[], UnixTime::now())?;
    }
    Ok(())
}

/// A root store holding only the CA.
pub(crate) fn roots(ca: &Authority) -> Result<Arc<RootCertStore>, rustls::Error> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.cert_der().clone())?;
    Ok(Arc::new(roots))
}
