//! RFC 5734 §4 framing: each EPP data unit is a 32-bit big-endian *total length*, which counts
//! the four header octets themselves, followed by one XML instance of `length − 4` octets.
//!
//! This is the only I/O in the codec. The reader enforces a maximum frame size *before*
//! allocating, so a peer cannot make the server reserve memory by announcing a huge frame; the
//! server answers [`FrameError::Oversize`] by closing the connection, because after a refused
//! length the stream can no longer be resynchronised.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Octets of the length header.
pub(crate) const HEADER_LEN: usize = 4;

/// Default maximum total frame length (header included): 1 MiB, far above any real EPP frame.
pub const DEFAULT_MAX_FRAME: usize = 1 << 20;

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The peer closed the connection cleanly between frames.
    #[error("connection closed by peer")]
    Closed,
    /// The stream ended inside a frame.
    #[error("short read: the stream ended after {got} of {expected} octets of the {part}")]
    ShortRead {
        /// "length header" or "XML payload".
        part: &'static str,
        /// Octets the part should have had: 4 for the header, else the announced payload length.
        expected: usize,
        /// Octets received before the end.
        got: usize,
    },
    /// A total length that cannot hold a header and a non-empty payload (zero included).
    #[error(
        "frame length {length} is too small: the length counts its own 4 octets and an XML instance must follow"
    )]
    TooSmall {
        /// The announced total length.
        length: u32,
    },
    /// A total length above the configured maximum.
    #[error("frame length {length} exceeds the maximum of {max} octets")]
    Oversize {
        /// The announced total length.
        length: u32,
        /// The configured maximum.
        max: usize,
    },
    /// The underlying transport failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Checks a header and returns the payload length.
pub(crate) fn payload_len(header: [u8; HEADER_LEN], max: usize) -> Result<usize, FrameError> {
    let length = u32::from_be_bytes(header);
    let total = length as usize;
    if total <= HEADER_LEN {
        return Err(FrameError::TooSmall { length });
    }
    if total > max {
        return Err(FrameError::Oversize { length, max });
    }
    Ok(total - HEADER_LEN)
}

/// Encodes one frame: header and payload.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + HEADER_LEN);
    let total = u32::try_from(payload.len() + HEADER_LEN)
        .expect("invariant: EPP payloads are far below 4 GiB (frames are size-limited)");
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Splits one frame off the front of `buf`, if a whole one is there.
///
/// Returns the payload and the octets consumed, `Ok(None)` when more input is needed, or the
/// header error. Used by tests, fuzzers and buffer-based clients.
pub fn decode(buf: &[u8], max: usize) -> Result<Option<(&[u8], usize)>, FrameError> {
    let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let len = payload_len(*header, max)?;
    let end = HEADER_LEN + len;
    Ok(buf.get(HEADER_LEN..end).map(|payload| (payload, end)))
}

/// Reads one frame's payload from `r`.
pub async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<Vec<u8>, FrameError> {
    let mut payload = Vec::new();
    read_frame_into(r, max, &mut payload).await?;
    Ok(payload)
}

/// Reads one frame's payload into `payload` (replacing its content, reusing its capacity), for
/// a server that keeps one buffer per connection.
pub async fn read_frame_into<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
    payload: &mut Vec<u8>,
) -> Result<(), FrameError> {
    let mut header = [0u8; HEADER_LEN];
    let got = read_full(r, &mut header).await?;
    if got == 0 {
        return Err(FrameError::Closed);
    }
    if got < HEADER_LEN {
        return Err(FrameError::ShortRead {
            part: "length header",
            expected: HEADER_LEN,
            got,
        });
    }
    let len = payload_len(header, max)?;
    payload.clear();
    payload.resize(len, 0);
    let got = read_full(r, payload).await?;
    if got < len {
        return Err(FrameError::ShortRead {
            part: "XML payload",
            expected: len,
            got,
        });
    }
    Ok(())
}

/// Writes one frame (header and payload) and flushes.
///
/// Header and payload go down in one write: over TLS every write becomes a record of its own
/// (and, with `TCP_NODELAY`, a segment of its own), so writing the 4-octet header separately
/// doubled the records, system calls and packets of every response and made the peer wake
/// up twice per frame.
pub async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, payload: &[u8]) -> std::io::Result<()> {
    let total = u32::try_from(payload.len() + HEADER_LEN).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "EPP payload larger than 4 GiB",
        )
    })?;
    let mut frame = Vec::with_capacity(payload.len() + HEADER_LEN);
    frame.extend_from_slice(&total.to_be_bytes());
    frame.extend_from_slice(payload);
    w.write_all(&frame).await?;
    w.flush().await
}

/// Writes a frame already encoded with its header (by [`encode`] or
/// [`Frame::encode_into`](crate::Frame::encode_into)) in one write, and flushes.
pub async fn write_encoded<W: AsyncWrite + Unpin>(w: &mut W, frame: &[u8]) -> std::io::Result<()> {
    w.write_all(frame).await?;
    w.flush().await
}

/// Reads until `buf` is full or the stream ends; returns the octets read.
async fn read_full<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = r.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    async fn read_all(bytes: &[u8], max: usize) -> Result<Vec<u8>, FrameError> {
        let mut r = bytes;
        read_frame(&mut r, max).await
    }

    #[tokio::test]
    async fn distinct_errors() {
        assert!(matches!(read_all(b"", 100).await, Err(FrameError::Closed)));
        assert!(matches!(
            read_all(&[0, 0], 100).await,
            Err(FrameError::ShortRead {
                part: "length header",
                got: 2,
                ..
            })
        ));
        assert!(matches!(
            read_all(&[0, 0, 0, 0], 100).await,
            Err(FrameError::TooSmall { length: 0 })
        ));
        assert!(matches!(
            read_all(&[0, 0, 0, 4], 100).await,
            Err(FrameError::TooSmall { length: 4 })
        ));
        assert!(matches!(
            read_all(&[0, 0, 1, 0], 100).await,
            Err(FrameError::Oversize {
                length: 256,
                max: 100
            })
        ));
        assert!(matches!(
            read_all(&[0, 0, 0, 10, b'<'], 100).await,
            Err(FrameError::ShortRead {
                part: "XML payload",
                expected: 6,
                got: 1
            })
        ));
        assert_eq!(read_all(&encode(b"<a/>"), 100).await.unwrap(), b"<a/>");
    }

    #[tokio::test]
    async fn pipelined_frames_come_out_in_order() {
        let mut bytes = encode(b"<one/>");
        bytes.extend(encode(b"<two/>"));
        let mut r = bytes.as_slice();
        assert_eq!(read_frame(&mut r, 100).await.unwrap(), b"<one/>");
        assert_eq!(read_frame(&mut r, 100).await.unwrap(), b"<two/>");
        assert!(matches!(
            read_frame(&mut r, 100).await,
            Err(FrameError::Closed)
        ));
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(payload in proptest::collection::vec(any::<u8>(), 1..2000)) {
            let bytes = encode(&payload);
            let (p, used) = decode(&bytes, DEFAULT_MAX_FRAME).unwrap().unwrap();
            prop_assert_eq!(p, payload.as_slice());
            prop_assert_eq!(used, bytes.len());
            // Every strict prefix asks for more input.
            for cut in 0..bytes.len().min(64) {
                prop_assert!(decode(&bytes[..cut], DEFAULT_MAX_FRAME).unwrap().is_none());
            }
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), max in 0usize..100_000) {
            let _ = decode(&bytes, max);
        }
    }
}
