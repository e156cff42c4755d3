//! Shared helpers: a PKI in a temporary directory, and one handshake between a client
//! configuration and the registry's server configuration.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mock_registry::pki::{ClId, Pki};
use mock_registry::tls::{self, AcceptError};
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// The registrars every test PKI has.
pub(crate) const REGISTRARS: [&str; 2] = ["registrar-a", "registrar-b"];

/// A fresh PKI with [`REGISTRARS`]; keep the directory alive as long as the PKI is used.
pub(crate) fn pki() -> (TempDir, Pki) {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::init(dir.path(), &REGISTRARS).unwrap();
    (dir, pki)
}

/// What each side of one connection saw.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The server's [`tls::accept`] result: the authenticated clID or why not.
    pub(crate) server: Result<ClId, AcceptError>,
    /// What the client read until the server closed, or the client's error.
    pub(crate) client: std::io::Result<String>,
    /// The protocol version the client negotiated, if the handshake finished on its side.
    pub(crate) version: Option<rustls::ProtocolVersion>,
}

/// Listens on loopback with `server` and returns the listener's address and a task that
/// accepts one connection with [`tls::accept`], writes `hello <clID>` to an authenticated
/// client and closes.
pub(crate) async fn serve_once(
    server: ServerConfig,
    handshake_timeout: Duration,
) -> (
    SocketAddr,
    tokio::task::JoinHandle<Result<ClId, AcceptError>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(server));
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut session = tls::accept(&acceptor, tcp, handshake_timeout).await?;
        let hello = format!("hello {}\n", session.clid);
        session.stream.write_all(hello.as_bytes()).await.unwrap();
        session.stream.shutdown().await.unwrap();
        Ok(session.clid)
    });
    (addr, task)
}

/// One connection from `client` to a server with `server`'s configuration.
pub(crate) async fn connect_once(server: ServerConfig, client: ClientConfig) -> Outcome {
    let (addr, server) = serve_once(server, tls::DEFAULT_HANDSHAKE_TIMEOUT).await;
    let mut version = None;
    let client = async {
        let tcp = TcpStream::connect(addr).await?;
        let mut stream = TlsConnector::from(Arc::new(client))
            .connect(tls::server_name(), tcp)
            .await?;
        version = stream.get_ref().1.protocol_version();
        let mut text = String::new();
        stream.read_to_string(&mut text).await?;
        Ok(text)
    }
    .await;
    let server = tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("the server side finishes")
        .expect("the server task does not panic");
    Outcome {
        server,
        client,
        version,
    }
}

/// A registrar's client configuration limited to one protocol version.
pub(crate) fn client_config_for_version(
    pki: &Pki,
    registrar: &str,
    version: &'static SupportedProtocolVersion,
) -> ClientConfig {
    let identity = pki.registrar(registrar).unwrap().identity();
    ClientConfig::builder_with_provider(tls::crypto_provider())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots(pki))
        .with_client_auth_cert(vec![identity.cert_der().clone()], identity.key_der())
        .unwrap()
}

/// A root store with `pki`'s CA only.
pub(crate) fn roots(pki: &Pki) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca().cert_der().clone()).unwrap();
    roots
}
