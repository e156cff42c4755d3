//! A small EPP client on the codec: mutual TLS, RFC 5734 frames, typed commands and responses.
//!
//! The harness's registrars and the tests speak EPP through it. It keeps every frame it sent
//! and received (the transcript), which reports show and tests validate against the schemas.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::deadline::Deadlines;
use epp::frame::{self, FrameError};
use epp::message::{Command, CommandExtension, CommandKind, Frame, Greeting, Login, Response};
use epp::{CodecError, uri};

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// TCP or TLS failed.
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
    /// Framing failed (including the server closing the connection).
    #[error("framing: {0}")]
    Frame(#[from] FrameError),
    /// The server sent something the codec refuses.
    #[error("unreadable frame from the server: {0}")]
    Codec(#[from] CodecError),
    /// The server sent a frame of the wrong kind (e.g. a response where a greeting belongs).
    #[error("unexpected frame from the server: {0}")]
    Unexpected(String),
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// One exchanged frame, for transcripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptEntry {
    /// `true` for frames the client sent.
    pub sent: bool,
    /// The frame's XML as sent or received, without the length header (decoded lossily if not
    /// UTF-8).
    pub xml: String,
}

/// The byte stream under a client's TLS: a TCP connection, or an in-memory pipe to a server of
/// the same process that takes in-process connections
/// ([`EppServer::accept_in_process`](crate::server::EppServer::accept_in_process)).
#[derive(Debug)]
pub enum Conn {
    /// A TCP connection (every server in another process, and this process's by default).
    Tcp(TcpStream),
    /// A pipe to a server of this process.
    Pipe(DuplexStream),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Self::Pipe(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Self::Pipe(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Pipe(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(s) => s.is_write_vectored(),
            Self::Pipe(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_flush(cx),
            Self::Pipe(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Self::Pipe(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// A connected EPP client.
#[derive(Debug)]
pub struct EppClient {
    stream: TlsStream<Conn>,
    greeting: Greeting,
    timeout: Duration,
    /// One timer for every read and write (see [`Deadlines`]).
    deadlines: Deadlines,
    transcript: Vec<TranscriptEntry>,
    next_trid: u64,
    prefix: String,
}

impl EppClient {
    /// Connects with TLS (`config` carries the client certificate) and reads the greeting.
    /// A server of this process that takes in-process connections at `addr` is reached over
    /// a pipe, anything else over TCP.
    pub async fn connect(
        addr: SocketAddr,
        config: Arc<rustls::ClientConfig>,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let conn = match crate::server::in_process::connect(addr) {
            Some(pipe) => Conn::Pipe(pipe),
            None => {
                let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
                    .await
                    .map_err(|_| ClientError::Timeout(timeout))??;
                tcp.set_nodelay(true)?;
                Conn::Tcp(tcp)
            }
        };
        let stream = tokio::time::timeout(
            timeout,
            TlsConnector::from(config).connect(crate::tls::server_name(), conn),
        )
        .await
        .map_err(|_| ClientError::Timeout(timeout))??;
        let mut client = Self {
            stream,
            greeting: placeholder_greeting(),
            timeout,
            deadlines: Deadlines::new(timeout),
            transcript: Vec::new(),
            next_trid: 1,
            prefix: "CL".into(),
        };
        match client.read().await? {
            Frame::Greeting(g) => client.greeting = *g,
            other => return Err(ClientError::Unexpected(format!("{other:?}"))),
        }
        Ok(client)
    }

    /// Sets the prefix of generated clTRIDs (default `CL`).
    pub fn set_trid_prefix(&mut self, prefix: &str) {
        self.prefix = prefix.to_string();
    }

    /// The greeting the server sent on connect.
    pub fn greeting(&self) -> &Greeting {
        &self.greeting
    }

    /// Every frame sent and received so far.
    pub fn transcript(&self) -> &[TranscriptEntry] {
        &self.transcript
    }

    /// Logs in announcing every object and extension the greeting offers.
    pub async fn login(&mut self, cl_id: &str, pw: &str) -> Result<Response, ClientError> {
        let offered = self.greeting.ext_uris.clone();
        self.login_with_extensions(cl_id, pw, offered).await
    }

    /// Logs in announcing every object the greeting offers but only the extensions in
    /// `ext_uris`: a client that does not implement an offered extension (say key relay
    /// receipts) leaves it out, and the server must not send it.
    pub async fn login_with_extensions(
        &mut self,
        cl_id: &str,
        pw: &str,
        ext_uris: Vec<String>,
    ) -> Result<Response, ClientError> {
        let login = Login {
            cl_id: cl_id.to_string(),
            pw: pw.to_string(),
            new_pw: None,
            version: "1.0".into(),
            lang: "en".into(),
            obj_uris: if self.greeting.obj_uris.is_empty() {
                vec![uri::DOMAIN.into()]
            } else {
                self.greeting.obj_uris.clone()
            },
            ext_uris,
        };
        self.command(CommandKind::Login(login), Vec::new()).await
    }

    /// Sends a command with a generated clTRID and returns the response.
    pub async fn command(
        &mut self,
        kind: CommandKind,
        extensions: Vec<CommandExtension>,
    ) -> Result<Response, ClientError> {
        let cl_trid = format!("{}-{:06}", self.prefix, self.next_trid);
        self.next_trid += 1;
        let frame = Frame::Command(Box::new(Command {
            kind,
            extensions,
            cl_trid: Some(cl_trid),
        }));
        self.send(&frame).await
    }

    /// Sends any frame and returns the response.
    pub async fn send(&mut self, frame: &Frame) -> Result<Response, ClientError> {
        let xml = frame.to_xml();
        self.write_frame(xml.as_bytes()).await?;
        // The encoder writes UTF-8: the transcript takes the frame itself, no lossy copy.
        self.transcript.push(TranscriptEntry { sent: true, xml });
        match self.read().await? {
            Frame::Response(r) => Ok(*r),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Sends raw bytes as one frame and reads the answer (for edge-case tests).
    pub async fn exchange_raw(&mut self, payload: &[u8]) -> Result<Frame, ClientError> {
        self.write_raw(payload).await?;
        self.read().await
    }

    /// Writes one frame without reading (for pipelining).
    pub async fn write_raw(&mut self, payload: &[u8]) -> Result<(), ClientError> {
        self.transcript.push(TranscriptEntry {
            sent: true,
            xml: String::from_utf8_lossy(payload).into_owned(),
        });
        self.write_frame(payload).await
    }

    async fn write_frame(&mut self, payload: &[u8]) -> Result<(), ClientError> {
        self.deadlines
            .within(self.timeout, frame::write_frame(&mut self.stream, payload))
            .await
            .ok_or(ClientError::Timeout(self.timeout))??;
        Ok(())
    }

    /// Reads one frame.
    pub async fn read(&mut self) -> Result<Frame, ClientError> {
        let payload = self
            .deadlines
            .within(
                self.timeout,
                frame::read_frame(&mut self.stream, frame::DEFAULT_MAX_FRAME),
            )
            .await
            .ok_or(ClientError::Timeout(self.timeout))??;
        // A UTF-8 frame becomes its transcript entry without a copy; anything else is parsed
        // as received (and refused by the codec) and kept lossily.
        let (parsed, xml) = match String::from_utf8(payload) {
            Ok(xml) => (epp::parse(xml.as_bytes()), xml),
            Err(e) => {
                let bytes = e.into_bytes();
                let xml = String::from_utf8_lossy(&bytes).into_owned();
                (epp::parse(&bytes), xml)
            }
        };
        self.transcript.push(TranscriptEntry { sent: false, xml });
        Ok(parsed?)
    }

    /// The underlying TLS stream (for tests that write malformed frames).
    pub fn stream(&mut self) -> &mut TlsStream<Conn> {
        &mut self.stream
    }
}

fn placeholder_greeting() -> Greeting {
    use epp::message::{Dcp, DcpAccess};
    Greeting {
        sv_id: String::new(),
        sv_date: jiff::Timestamp::UNIX_EPOCH,
        versions: Vec::new(),
        langs: Vec::new(),
        obj_uris: Vec::new(),
        ext_uris: Vec::new(),
        dcp: Dcp {
            access: DcpAccess::None,
            statements: Vec::new(),
            expiry: None,
        },
    }
}
