//! A minimal HTTP/1.1 client for PowerDNS's API on loopback.
//!
//! Why not `ureq` (or hyper/reqwest): the one peer is PowerDNS's own webserver on 127.0.0.1,
//! plain HTTP, one request per connection (`Connection: close`, which PowerDNS 4.7 answers
//! with a `Content-Length` and then closes). That needs ~80 lines over tokio's `TcpStream`
//! that the crate already uses, is async without `spawn_blocking`, and adds nothing to the
//! dependency tree (ureq 3 would bring the `http` crate, `ureq-proto`, `log`, `base64`,
//! `percent-encoding`, `utf-8` even with TLS off). Chunked answers are decoded too, so a
//! future PowerDNS that streams still works.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{Error, Result};

/// How long one API call may take (key generation for RSA included).
const API_TIMEOUT: Duration = Duration::from_secs(20);

/// One request and its answer: `(status, body)`.
pub(crate) async fn request(
    server: SocketAddr,
    method: &'static str,
    path: &str,
    api_key: &str,
    body: Option<&serde_json::Value>,
) -> Result<(u16, String)> {
    let malformed = |reason: String| Error::Http {
        path: path.to_string(),
        reason,
    };
    let body = body.map(serde_json::Value::to_string).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {server}\r\nX-API-Key: {api_key}\r\n\
         Accept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str("\r\n");
    let exchange = async {
        let mut stream = TcpStream::connect(server).await?;
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(API_TIMEOUT, exchange)
        .await
        .map_err(|_| malformed(format!("no answer within {API_TIMEOUT:?}")))?
        .map_err(|e| Error::io(format!("PowerDNS API {method} {path}"), e))?;
    parse_response(&raw).map_err(malformed)
}

/// Status and body of a complete HTTP/1.1 response.
fn parse_response(raw: &[u8]) -> std::result::Result<(u16, String), String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|e| e.to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut chunked = false;
    let mut length: Option<usize> = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().ok();
        }
    }
    let mut body = &raw[split + 4..];
    let decoded;
    if chunked {
        decoded = dechunk(body)?;
        body = &decoded;
    } else if let Some(n) = length {
        body = body.get(..n).ok_or("body shorter than Content-Length")?;
    }
    Ok((status, String::from_utf8_lossy(body).into_owned()))
}

/// Decodes a chunked body.
fn dechunk(mut raw: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size_text = std::str::from_utf8(&raw[..eol]).map_err(|e| e.to_string())?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        raw = &raw[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = raw.get(..size).ok_or("truncated chunk")?;
        out.extend_from_slice(chunk);
        raw = raw.get(size + 2..).ok_or("truncated chunk end")?;
    }
}

#[cfg(test)]
mod tests {
    use super::parse_response;

    #[test]
    fn content_length_and_chunked_bodies() {
        let raw = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        assert_eq!(parse_response(raw).unwrap(), (201, "{}".to_string()));
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(raw).unwrap(), (200, "abcde".to_string()));
        let raw = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        assert_eq!(parse_response(raw).unwrap(), (204, String::new()));
        assert!(parse_response(b"garbage").is_err());
    }
}
