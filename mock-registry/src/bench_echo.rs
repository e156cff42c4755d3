//! A bare TLS server that answers every RFC 5734 frame with one fixed frame.
//!
//! It is the ceiling the EPP server's throughput and latency are compared with (design §7):
//! the same TLS configuration, the same framing and the same network path, but no XML, no
//! session logic and no store. Like an EPP server it sends its frame once as soon as the
//! session is up (the greeting), so one load client can drive both servers unchanged.
//!
//! The framing here is written out on purpose rather than borrowed from the EPP codec: the
//! ceiling must not get faster or slower when the codec changes.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::tls;

/// The largest XML payload the echo server reads; a longer frame closes the connection, as
/// it would on the EPP server.
pub const MAX_PAYLOAD_LEN: u32 = 1 << 20;

/// The size of the RFC 5734 length header, which the length counts.
const HEADER_LEN: u32 = 4;

/// Reads one RFC 5734 data unit and returns its payload (the XML), or `None` if the peer
/// closed the connection cleanly before a new frame began.
///
/// The 32-bit big-endian total length includes its own four octets (RFC 5734 §4), so a
/// payload has `length − 4` octets; a total of 4 or less, or a payload over `max_payload`,
/// is an `InvalidData` error and nothing is allocated for it.
pub async fn read_frame<R>(reader: &mut R, max_payload: u32) -> io::Result<Option<Vec<u8>>>
where
    R: AsyncRead + Unpin,
{
    let mut header = [0u8; HEADER_LEN as usize];
    let mut filled = 0;
    while filled < header.len() {
        match reader.read(&mut header[filled..]).await? {
            0 if filled == 0 => return Ok(None),
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    let total = u32::from_be_bytes(header);
    let payload_len = match total.checked_sub(HEADER_LEN) {
        Some(len @ 1..) if len <= max_payload => len,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "frame length {total} is outside 5..={}",
                    max_payload + HEADER_LEN
                ),
            ));
        }
    };
    let mut payload = vec![0u8; payload_len as usize];
    reader.read_exact(&mut payload).await?;
    Ok(Some(payload))
}

/// `payload` with its RFC 5734 length header in front, ready to write in one piece (one
/// write, so one TLS record for small frames).
pub fn frame(payload: &[u8]) -> io::Result<Vec<u8>> {
    let total = u32::try_from(payload.len())
        .ok()
        .and_then(|len| len.checked_add(HEADER_LEN))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    let mut out = Vec::with_capacity(payload.len() + HEADER_LEN as usize);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// Writes one RFC 5734 data unit and flushes it.
pub async fn write_frame<W>(writer: &mut W, payload: &[u8]) -> io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    writer.write_all(&frame(payload)?).await?;
    writer.flush().await
}

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
        let response: Arc<[u8]> = frame(response)?.into();
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
        while read_frame(&mut session.stream, MAX_PAYLOAD_LEN)
            .await?
            .is_some()
        {
            session.stream.write_all(&response).await?;
            session.stream.flush().await?;
        }
        session.stream.shutdown().await
    }
    .await;
    if let Err(error) = result {
        tracing::debug!(%peer, clid = %session.clid, %error, "echo server: connection ended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_bad_lengths_are_refused() {
        let (mut a, mut b) = tokio::io::duplex(64);
        write_frame(&mut a, b"<epp/>").await.unwrap();
        assert_eq!(
            read_frame(&mut b, 100).await.unwrap().as_deref(),
            Some(&b"<epp/>"[..])
        );
        // Length 4: an empty payload; length 3: shorter than its own header.
        for total in [4u32, 3, 0] {
            a.write_all(&total.to_be_bytes()).await.unwrap();
            let err = read_frame(&mut b, 100).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        }
        // Over the limit: refused from the header alone.
        a.write_all(&(105u32).to_be_bytes()).await.unwrap();
        let err = read_frame(&mut b, 100).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        // Clean EOF between frames, unexpected EOF inside one.
        a.write_all(&[0, 0]).await.unwrap();
        drop(a);
        let err = read_frame(&mut b, 100).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let (a, mut b) = tokio::io::duplex(64);
        drop(a);
        assert!(read_frame(&mut b, 100).await.unwrap().is_none());
    }
}
