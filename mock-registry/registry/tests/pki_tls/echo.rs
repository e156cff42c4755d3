//! The bare TLS echo server: the benchmark ceiling speaks RFC 5734 frames over the same
//! mutual TLS as the registry.

use std::sync::Arc;
use std::time::Duration;

use epp::frame::{self, FrameError};
use mock_registry::bench_echo::{self, EchoServer};
use mock_registry::tls;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::support;

const RESPONSE: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><epp/>";

#[tokio::test]
async fn answers_the_greeting_and_every_pipelined_frame() {
    let (_dir, pki) = support::pki();
    let server = EchoServer::start(
        Arc::new(tls::server_config(&pki).unwrap()),
        RESPONSE,
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let connector = TlsConnector::from(Arc::new(tls::client_config(&pki, "registrar-a").unwrap()));
    let tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    let mut stream = connector.connect(tls::server_name(), tcp).await.unwrap();

    let greeting = frame::read_frame(&mut stream, 1 << 16).await.unwrap();
    assert_eq!(greeting, RESPONSE);
    // Pipelined: ten frames out before any answer is read.
    for i in 0..10 {
        frame::write_frame(&mut stream, format!("<command n='{i}'/>").as_bytes())
            .await
            .unwrap();
    }
    for _ in 0..10 {
        let answer = frame::read_frame(&mut stream, 1 << 16).await.unwrap();
        assert_eq!(answer, RESPONSE);
    }
    stream.shutdown().await.unwrap();
    assert!(matches!(
        frame::read_frame(&mut stream, 1 << 16).await,
        Err(FrameError::Closed)
    ));
}

#[tokio::test]
async fn an_oversize_frame_closes_the_connection() {
    let (_dir, pki) = support::pki();
    let server = EchoServer::start(
        Arc::new(tls::server_config(&pki).unwrap()),
        RESPONSE,
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let connector = TlsConnector::from(Arc::new(tls::client_config(&pki, "registrar-a").unwrap()));
    let tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    let mut stream = connector.connect(tls::server_name(), tcp).await.unwrap();
    frame::read_frame(&mut stream, 1 << 16).await.unwrap();
    let too_long = u32::try_from(bench_echo::MAX_FRAME + 1).unwrap();
    stream.write_all(&too_long.to_be_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    // No answer: the server closes (cleanly or not) without reading a payload it refused.
    let next = frame::read_frame(&mut stream, 1 << 16).await;
    assert!(next.is_err(), "{next:?}");
}
