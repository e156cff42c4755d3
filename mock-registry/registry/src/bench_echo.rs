//! A bare TLS server that answers every RFC 5734 frame with one fixed frame.
//!
//! It is the ceiling the EPP server's throughput and latency are compared with (design §7):
//! the same TLS configuration, the same framing and the same network path, but no XML, no
//! session logic and no store. Like an EPP server it sends its frame once as soon as the
//! session is up (the greeting), so one load client can drive both servers unchanged.
//!
//! It uses the codec's RFC 5734 framing layer ([`epp::frame`]), which does no XML
//! work, so the comparison isolates what parsing, sessions and the store cost.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::tls;
use epp::frame;

/// The largest frame the echo server reads (the EPP server's default); a longer one closes
/// the connection, as it does on the EPP server.
pub const MAX_FRAME: usize = frame::DEFAULT_MAX_FRAME;

/// A running echo server on loopback. Dropping it stops the server and every connection.
#[derive(Debug)]
pub struct EchoServer {
    local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl EchoServer {
    /// Listens on `127.0.0.1` on an ephemeral port and answers with `response` (the XML
    /// payload; the header is added once here).
    pub async fn start(
        config: Arc<ServerConfig>,
        response: &[u8],
        handshake_timeout: Duration,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let local_addr = listener.local_addr()?;
        let response: Arc<[u8]> = frame::encode(response).into();
        let acceptor = TlsAcceptor::from(config);
        let task = tokio::spawn(accept_loop(listener, acceptor, response, handshake_timeout));
        Ok(Self { local_addr, task })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        // Aborting the loop drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    response: Arc<[u8]>,
    handshake_timeout: Duration,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    connections.spawn(serve(
                        tcp,
                        peer,
                        acceptor.clone(),
                        response.clone(),
                        handshake_timeout,
                    ));
                }
                Err(error) => {
                    // Usually out of file descriptors: wait for connections to finish
                    // instead of spinning.
                    tracing::warn!(%error, "echo server: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            // Reap finished connections so the set does not grow with every one served.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    response: Arc<[u8]>,
    handshake_timeout: Duration,
) {
    // Small request/response frames: Nagle's algorithm would only add latency.
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%peer, %error, "echo server: cannot set TCP_NODELAY");
    }
    let mut session = match tls::accept(&acceptor, tcp, handshake_timeout).await {
        Ok(session) => session,
        Err(error) => {
            tracing::debug!(%peer, %error, "echo server: refused");
            return;
        }
    };
    let result = async {
        session.stream.write_all(&response).await?;
        session.stream.flush().await?;
        loop {
            match frame::read_frame(&mut session.stream, MAX_FRAME).await {
                Ok(_) => {
                    session.stream.write_all(&response).await?;
                    session.stream.flush().await?;
                }
                Err(frame::FrameError::Closed) => break,
                Err(frame::FrameError::Io(e)) => return Err(e),
                Err(other) => return Err(io::Error::new(io::ErrorKind::InvalidData, other)),
            }
        }
        session.stream.shutdown().await
    }
    .await;
    if let Err(error) = result {
        tracing::debug!(%peer, clid = %session.clid, %error, "echo server: connection ended");
    }
}
