//! The EPP server: TLS listener, one task per connection, RFC 5734 framing, idle timeout,
//! and a [`session::Session`] per connection in front of the shared [`Registry`].
//!
//! Commands of one connection are handled in the order they arrive (pipelining is allowed,
//! answers keep the order). The registry sits behind a plain mutex held only while one command
//! executes, never across I/O.
//!
//! A server can also take connections from clients in the same process over an in-memory pipe
//! instead of TCP ([`EppServer::accept_in_process`]): the same TLS, framing, sessions and
//! chaos, without the kernel's loopback. `harness explore` runs thousands of worlds that way;
//! everything that talks to a server from another process still uses TCP.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::deadline::Deadlines;
use crate::registry::{Area, Refusal, Registry};
use crate::tls;
use epp::ResultCode;
use epp::frame::{self, FrameError};
use epp::message::Frame;

mod chaos;
mod session;

pub use chaos::{Chaos, ChaosDice};
use session::{Action, Session, SessionRules};

/// The registry shared by all connections.
pub type SharedRegistry = Arc<Mutex<Registry>>;

/// Server limits, with defaults fit for interactive use and tests.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// A session without a frame for this long is closed (RFC 5734 §2).
    pub idle_timeout: Duration,
    /// A session whose client has not taken an answer (or the greeting, or the TLS close)
    /// for this long is closed, and its slot freed: a client that sends and never reads would
    /// otherwise hold a session slot forever once the socket buffers are full.
    pub write_timeout: Duration,
    /// The TLS handshake must finish within this.
    pub handshake_timeout: Duration,
    /// Largest frame accepted (header included); a larger one ends the session.
    pub max_frame: usize,
    /// Failed logins after which the session ends with 2501.
    pub max_login_failures: u32,
    /// Concurrent logged-in sessions per registrar; one more gets 2502.
    pub max_sessions_per_registrar: usize,
    /// Chaos knobs (all off by default): transient 2400 answers, dropped connections, logins
    /// refused for the session limit.
    pub chaos: Chaos,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(600),
            write_timeout: Duration::from_secs(30),
            handshake_timeout: tls::DEFAULT_HANDSHAKE_TIMEOUT,
            max_frame: frame::DEFAULT_MAX_FRAME,
            max_login_failures: 3,
            max_sessions_per_registrar: 16,
            chaos: Chaos::default(),
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
    dice: ChaosDice,
    /// Where in-process connections are handed to the accept loop (registered in
    /// [`in_process`]'s table only while [`EppServer::accept_in_process`] is on).
    pipes: Arc<in_process::Door>,
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
        let dice = ChaosDice::new(config.chaos);
        let (pipe_tx, pipe_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(accept_loop(
            listener,
            pipe_rx,
            TlsAcceptor::from(tls),
            registry,
            Arc::new(config),
            Shared {
                sessions: sessions.clone(),
                dice: dice.clone(),
            },
        ));
        Ok(Self {
            local_addr,
            sessions,
            dice,
            pipes: Arc::new(in_process::Door(pipe_tx)),
            task,
        })
    }

    /// Whether clients of this process that connect to [`local_addr`](Self::local_addr) (with
    /// [`EppClient::connect`](crate::client::EppClient::connect)) get an in-memory pipe instead
    /// of a TCP connection. The server still listens on TCP for everybody else, and a pipe's
    /// session is served by the same code as a socket's: TLS with client certificates, RFC 5734
    /// framing, deadlines, session limits and chaos.
    pub fn accept_in_process(&self, on: bool) {
        if on {
            in_process::register(self.local_addr, &self.pipes);
        } else {
            in_process::unregister(self.local_addr, &self.pipes);
        }
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Logged-in session counts.
    pub fn sessions(&self) -> &SessionCounter {
        &self.sessions
    }

    /// The chaos dice every connection draws from (to pause chaos, or count what it did).
    pub fn chaos(&self) -> &ChaosDice {
        &self.dice
    }
}

/// What every connection of a server shares besides the registry.
#[derive(Debug, Clone)]
struct Shared {
    sessions: SessionCounter,
    dice: ChaosDice,
}

impl Drop for EppServer {
    fn drop(&mut self) {
        in_process::unregister(self.local_addr, &self.pipes);
        self.task.abort();
    }
}

/// The process-wide table of servers that take in-process connections, by address, the way
/// [`dnssec`]'s in-process DNS is found: a client needs nothing but the address it would
/// connect to anyway.
pub(crate) mod in_process {
    use std::collections::HashMap;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex, OnceLock, Weak};

    use tokio::io::DuplexStream;
    use tokio::sync::mpsc;

    /// Bytes either end of a pipe may have in flight before a writer waits for its reader,
    /// like a socket buffer; larger frames simply take several turns.
    const PIPE_BUFFER: usize = 64 * 1024;

    /// The accept loop's end for in-process connections.
    #[derive(Debug)]
    pub(crate) struct Door(pub(crate) mpsc::UnboundedSender<DuplexStream>);

    fn table() -> &'static Mutex<HashMap<SocketAddr, Weak<Door>>> {
        static TABLE: OnceLock<Mutex<HashMap<SocketAddr, Weak<Door>>>> = OnceLock::new();
        TABLE.get_or_init(|| Mutex::new(HashMap::new()))
    }

    pub(super) fn register(addr: SocketAddr, door: &Arc<Door>) {
        table()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(addr, Arc::downgrade(door));
    }

    pub(super) fn unregister(addr: SocketAddr, door: &Arc<Door>) {
        let mut t = table().lock().unwrap_or_else(|e| e.into_inner());
        if t.get(&addr)
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(door)))
        {
            t.remove(&addr);
        }
    }

    /// The client's end of a new pipe to the server at `addr`, if a server of this process
    /// takes in-process connections there; `None` sends the client to TCP.
    pub(crate) fn connect(addr: SocketAddr) -> Option<DuplexStream> {
        let door = table()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&addr)?
            .upgrade()?;
        let (client, server) = tokio::io::duplex(PIPE_BUFFER);
        // A server that has stopped accepting drops the pipe: the client sees a closed
        // connection, as it would see a refused one.
        let _ = door.0.send(server);
        Some(client)
    }
}

async fn accept_loop(
    listener: TcpListener,
    mut pipes: mpsc::UnboundedReceiver<DuplexStream>,
    acceptor: TlsAcceptor,
    registry: SharedRegistry,
    config: Arc<ServerConfig>,
    shared: Shared,
) {
    let mut connections = JoinSet::new();
    let local_ip = listener
        .local_addr()
        .map_or(std::net::Ipv4Addr::LOCALHOST.into(), |a| a.ip());
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    connections.spawn(serve(
                        tcp,
                        peer,
                        acceptor.clone(),
                        registry.clone(),
                        config.clone(),
                        shared.clone(),
                    ));
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(pipe) = pipes.recv() => {
                // The history and logs name the client as this process, on no port.
                let peer = SocketAddr::new(local_ip, 0);
                connections.spawn(serve(
                    pipe,
                    peer,
                    acceptor.clone(),
                    registry.clone(),
                    config.clone(),
                    shared.clone(),
                ));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve<IO>(
    io: IO,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    registry: SharedRegistry,
    config: Arc<ServerConfig>,
    shared: Shared,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let session = match tls::accept(&acceptor, io, config.handshake_timeout).await {
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
    let mut epp = Session::new(clid.clone(), rules, shared.sessions, shared.dice);
    let mut clock = Deadlines::new(config.idle_timeout);
    // One buffer each way for the whole connection: no allocation per frame read or written
    // once they have grown.
    let mut inbox = Vec::new();
    let mut outbox = Vec::new();
    let result: io::Result<()> = async {
        // RFC 5734 §2: the greeting comes as soon as the TLS session is up.
        let greeting = {
            let reg = registry.lock().unwrap_or_else(|e| e.into_inner());
            Frame::Greeting(Box::new(reg.greeting()))
        };
        greeting.encode_into(&mut outbox);
        let write = frame::write_encoded(&mut stream, &outbox);
        if clock.within(config.write_timeout, write).await.is_none() {
            return Err(write_timed_out(&config));
        }
        loop {
            shrink(&mut inbox);
            let read = frame::read_frame_into(&mut stream, config.max_frame, &mut inbox);
            match clock.within(config.idle_timeout, read).await {
                None => {
                    tracing::info!(%peer, clid, "idle timeout: closing");
                    break;
                }
                Some(Ok(())) => {}
                Some(Err(FrameError::Closed)) => break,
                Some(Err(e @ (FrameError::Oversize { .. } | FrameError::TooSmall { .. }))) => {
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
                    Frame::Response(Box::new(resp)).encode_into(&mut outbox);
                    let write = frame::write_encoded(&mut stream, &outbox);
                    if clock.within(config.write_timeout, write).await.is_none() {
                        return Err(write_timed_out(&config));
                    }
                    break;
                }
                Some(Err(e)) => {
                    tracing::info!(%peer, clid, error = %e, "connection ended");
                    break;
                }
            };
            let (reply, close) = match epp.on_payload(&inbox, &registry) {
                Action::Reply(f) => (f, false),
                Action::ReplyAndClose(f) => (f, true),
            };
            shrink(&mut outbox);
            reply.encode_into(&mut outbox);
            drop(reply);
            // A client that does not take its answers must not hold its session slot (and
            // its registrar's quota) forever: the write has a deadline too.
            let write = frame::write_encoded(&mut stream, &outbox);
            match clock.within(config.write_timeout, write).await {
                Some(written) => written?,
                None => return Err(write_timed_out(&config)),
            }
            if close {
                break;
            }
        }
        // The TLS close_notify is a write as well.
        match clock.within(config.write_timeout, stream.shutdown()).await {
            Some(done) => done,
            None => Err(write_timed_out(&config)),
        }
    }
    .await;
    if let Err(error) = result {
        if error.kind() == io::ErrorKind::TimedOut {
            tracing::info!(%peer, clid, %error, "closing");
        } else {
            tracing::debug!(%peer, clid, %error, "connection error");
        }
    }
    // Dropping the stream closes the connection without waiting for the peer; dropping the
    // session frees its slot.
}

/// Gives back the memory of a buffer that an unusually large frame made large.
fn shrink(buf: &mut Vec<u8>) {
    const KEEP: usize = 64 * 1024;
    if buf.capacity() > KEEP {
        *buf = Vec::new();
    }
}

fn write_timed_out(config: &ServerConfig) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!(
            "the client took no data for {:?}: write deadline passed",
            config.write_timeout
        ),
    )
}
