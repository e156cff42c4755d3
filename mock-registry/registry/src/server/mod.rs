//! The EPP server: TLS listener, one task per connection, RFC 5734 framing, idle timeout,
//! and a [`session::Session`] per connection in front of the shared [`Registry`].
//!
//! Commands of one connection are handled in the order they arrive (pipelining is allowed,
//! answers keep the order). The registry sits behind a plain mutex held only while one command
//! executes, never across I/O.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::registry::{Area, Refusal, Registry};
use crate::tls;
use epp::ResultCode;
use epp::frame::{self, FrameError};
use epp::message::Frame;

mod session;

use session::{Action, Session, SessionRules};

/// The registry shared by all connections.
pub type SharedRegistry = Arc<Mutex<Registry>>;

/// Server limits, with defaults fit for interactive use and tests.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// A session without a frame for this long is closed (RFC 5734 §2).
    pub idle_timeout: Duration,
    /// The TLS handshake must finish within this.
    pub handshake_timeout: Duration,
    /// Largest frame accepted (header included); a larger one ends the session.
    pub max_frame: usize,
    /// Failed logins after which the session ends with 2501.
    pub max_login_failures: u32,
    /// Concurrent logged-in sessions per registrar; one more gets 2502.
    pub max_sessions_per_registrar: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(600),
            handshake_timeout: tls::DEFAULT_HANDSHAKE_TIMEOUT,
            max_frame: frame::DEFAULT_MAX_FRAME,
            max_login_failures: 3,
            max_sessions_per_registrar: 16,
        }
    }
}

/// Counts logged-in sessions per registrar.
#[derive(Debug, Clone, Default)]
pub struct SessionCounter(Arc<Mutex<HashMap<String, usize>>>);

impl SessionCounter {
    fn enter(&self, cl_id: &str, max: usize) -> bool {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(cl_id.to_string()).or_default();
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    fn leave(&self, cl_id: &str) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(cl_id) {
            *n = n.saturating_sub(1);
        }
    }

    /// Sessions `cl_id` has open now.
    pub fn count(&self, cl_id: &str) -> usize {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.get(cl_id).copied().unwrap_or(0)
    }
}

/// A running EPP server. Dropping it stops accepting and ends every connection.
#[derive(Debug)]
pub struct EppServer {
    local_addr: SocketAddr,
    sessions: SessionCounter,
    task: tokio::task::JoinHandle<()>,
}

impl EppServer {
    /// Listens on `addr` (port 0 picks a free port) and serves `registry` over TLS.
    pub async fn start(
        addr: SocketAddr,
        tls: Arc<rustls::ServerConfig>,
        registry: SharedRegistry,
        config: ServerConfig,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let sessions = SessionCounter::default();
        let task = tokio::spawn(accept_loop(
            listener,
            TlsAcceptor::from(tls),
            registry,
            Arc::new(config),
            sessions.clone(),
        ));
        Ok(Self {
            local_addr,
            sessions,
            task,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Logged-in session counts.
    pub fn sessions(&self) -> &SessionCounter {
        &self.sessions
    }
}

impl Drop for EppServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    registry: SharedRegistry,
    config: Arc<ServerConfig>,
    sessions: SessionCounter,
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
                        registry.clone(),
                        config.clone(),
                        sessions.clone(),
                    ));
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    registry: SharedRegistry,
    config: Arc<ServerConfig>,
    sessions: SessionCounter,
) {
    let _ = tcp.set_nodelay(true);
    let session = match tls::accept(&acceptor, tcp, config.handshake_timeout).await {
        Ok(s) => s,
        Err(error) => {
            tracing::info!(%peer, %error, "TLS refused");
            return;
        }
    };
    let clid = session.clid.to_string();
    let mut stream = session.stream;
    let rules = SessionRules {
        max_login_failures: config.max_login_failures,
        max_sessions_per_registrar: config.max_sessions_per_registrar,
    };
    let mut epp = Session::new(clid.clone(), rules, sessions);
    let result: io::Result<()> = async {
        // RFC 5734 §2: the greeting comes as soon as the TLS session is up.
        let greeting = {
            let reg = registry.lock().unwrap_or_else(|e| e.into_inner());
            Frame::Greeting(Box::new(reg.greeting()))
        };
        frame::write_frame(&mut stream, greeting.to_xml().as_bytes()).await?;
        loop {
            let read = tokio::time::timeout(
                config.idle_timeout,
                frame::read_frame(&mut stream, config.max_frame),
            )
            .await;
            let payload = match read {
                Err(_) => {
                    tracing::info!(%peer, clid, "idle timeout: closing");
                    break;
                }
                Ok(Ok(p)) => p,
                Ok(Err(FrameError::Closed)) => break,
                Ok(Err(e @ (FrameError::Oversize { .. } | FrameError::TooSmall { .. }))) => {
                    // The stream cannot be resynchronised after a refused length: say why and
                    // close.
                    let r = Refusal::new(
                        ResultCode::CommandFailedServerClosingConnection,
                        Area::Codec,
                        e.to_string(),
                    );
                    let resp = {
                        let mut reg = registry.lock().unwrap_or_else(|er| er.into_inner());
                        reg.refuse(epp.cl_id(), "(frame)", None, r)
                    };
                    frame::write_frame(
                        &mut stream,
                        Frame::Response(Box::new(resp)).to_xml().as_bytes(),
                    )
                    .await?;
                    break;
                }
                Ok(Err(e)) => {
                    tracing::info!(%peer, clid, error = %e, "connection ended");
                    break;
                }
            };
            match epp.on_payload(&payload, &registry) {
                Action::Reply(f) => frame::write_frame(&mut stream, f.to_xml().as_bytes()).await?,
                Action::ReplyAndClose(f) => {
                    frame::write_frame(&mut stream, f.to_xml().as_bytes()).await?;
                    break;
                }
            }
        }
        stream.shutdown().await
    }
    .await;
    if let Err(error) = result {
        tracing::debug!(%peer, clid, %error, "connection error");
    }
}
