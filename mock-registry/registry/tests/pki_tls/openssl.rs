//! Interoperability with an independent TLS and X.509 implementation: the `openssl` command.
//!
//! Skipped, with a notice on stderr, when `openssl` is not installed; `ci/test` machines have
//! it (Debian's base image does).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use mock_registry::pki::fixtures;
use mock_registry::tls;
use rustls::CertificateError;
use tokio::process::Command;

use crate::support;

/// Whether `openssl` can be run; prints why the test is skipped when not.
fn have_openssl(test: &str) -> bool {
    let found = std::process::Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("NOTICE: {test} skipped: the `openssl` command is not installed");
    }
    found
}

async fn openssl(dir: &Path, args: &[&str]) -> Output {
    let child = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(30), child)
        .await
        .expect("openssl finishes")
        .expect("openssl runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `openssl s_client` against `addr` with `extra` arguments, keeping its stdin open (so
/// it only stops when the server closes), and returns everything it printed.
async fn s_client(dir: &Path, addr: SocketAddr, extra: &[&str]) -> Output {
    let connect = addr.to_string();
    let mut args = vec![
        "s_client",
        "-connect",
        &connect,
        "-servername",
        "localhost",
        "-verify_hostname",
        "localhost",
        "-verify_return_error",
        "-CAfile",
        "ca.pem",
        "-brief",
    ];
    args.extend_from_slice(extra);
    let mut child = Command::new("openssl")
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("openssl s_client starts");
    let stdin = child.stdin.take();
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("s_client ends when the server closes")
        .expect("s_client runs");
    drop(stdin);
    output
}

#[tokio::test]
async fn openssl_accepts_the_pki_files() {
    if !have_openssl("openssl_accepts_the_pki_files") {
        return;
    }
    let (dir, _) = support::pki();
    let dir = dir.path();
    for (purpose, cert, ok) in [
        ("sslclient", "registrar-a.pem", true),
        ("sslserver", "server.pem", true),
        // The extended key usages keep the roles apart.
        ("sslclient", "server.pem", false),
        ("sslserver", "registrar-a.pem", false),
    ] {
        let out = openssl(
            dir,
            &["verify", "-CAfile", "ca.pem", "-purpose", purpose, cert],
        )
        .await;
        assert_eq!(out.status.success(), ok, "{purpose} {cert}: {}", text(&out));
    }
    let out = openssl(
        dir,
        &[
            "x509",
            "-in",
            "registrar-a.pem",
            "-noout",
            "-subject",
            "-ext",
            "subjectAltName",
        ],
    )
    .await;
    let shown = text(&out);
    assert!(shown.contains("CN = registrar-a"), "{shown}");
    assert!(shown.contains("URI:epp-clid:registrar-a"), "{shown}");
    let out = openssl(dir, &["x509", "-in", "ca.pem", "-noout", "-text"]).await;
    let shown = text(&out);
    assert!(shown.contains("Version: 3"), "{shown}");
    assert!(shown.contains("CA:TRUE"), "{shown}");
    assert!(shown.contains("Certificate Sign"), "{shown}");
    for check in [
        ["-checkhost", "localhost"],
        ["-checkip", "127.0.0.1"],
        ["-checkip", "::1"],
    ] {
        let out = openssl(
            dir,
            &["x509", "-in", "server.pem", "-noout", check[0], check[1]],
        )
        .await;
        let shown = text(&out);
        assert!(shown.contains("does match"), "{check:?}: {shown}");
    }
    for key in ["ca.key", "server.key", "registrar-a.key"] {
        let out = openssl(dir, &["pkey", "-in", key, "-noout"]).await;
        assert!(out.status.success(), "{key}: {}", text(&out));
    }
}

#[tokio::test]
async fn openssl_s_client_with_a_registrar_certificate_is_authenticated() {
    if !have_openssl("openssl_s_client_with_a_registrar_certificate_is_authenticated") {
        return;
    }
    let (dir, pki) = support::pki();
    for version in ["-tls1_3", "-tls1_2"] {
        let (addr, server) =
            support::serve_once(tls::server_config(&pki).unwrap(), Duration::from_secs(10)).await;
        let output = s_client(
            dir.path(),
            addr,
            &[
                version,
                "-cert",
                "registrar-b.pem",
                "-key",
                "registrar-b.key",
            ],
        )
        .await;
        let clid = server.await.unwrap().unwrap();
        assert_eq!(clid.as_str(), "registrar-b");
        let shown = text(&output);
        assert!(shown.contains("hello registrar-b"), "{version}: {shown}");
        // OpenSSL verified our server certificate against ca.pem, for `localhost`.
        assert!(shown.contains("Verification: OK"), "{version}: {shown}");
        let protocol = if version == "-tls1_3" {
            "TLSv1.3"
        } else {
            "TLSv1.2"
        };
        assert!(shown.contains(protocol), "{version}: {shown}");
    }
}

#[tokio::test]
async fn openssl_s_client_without_a_certificate_is_refused() {
    if !have_openssl("openssl_s_client_without_a_certificate_is_refused") {
        return;
    }
    let (dir, pki) = support::pki();
    for version in ["-tls1_3", "-tls1_2"] {
        let (addr, server) =
            support::serve_once(tls::server_config(&pki).unwrap(), Duration::from_secs(10)).await;
        let output = s_client(dir.path(), addr, &[version]).await;
        let error = server.await.unwrap().unwrap_err();
        assert_eq!(
            error.tls_error(),
            Some(&rustls::Error::NoCertificatesPresented),
            "{version}: {error}"
        );
        let shown = text(&output);
        assert!(!shown.contains("hello"), "{version}: {shown}");
    }
}

#[tokio::test]
async fn openssl_s_client_with_a_certificate_from_another_ca_is_refused() {
    if !have_openssl("openssl_s_client_with_a_certificate_from_another_ca_is_refused") {
        return;
    }
    let (dir, pki) = support::pki();
    let (_, foreign) = fixtures::foreign_registrar("registrar-a").unwrap();
    foreign.write(dir.path(), "foreign").unwrap();
    for version in ["-tls1_3", "-tls1_2"] {
        let (addr, server) =
            support::serve_once(tls::server_config(&pki).unwrap(), Duration::from_secs(10)).await;
        let output = s_client(
            dir.path(),
            addr,
            &[version, "-cert", "foreign.pem", "-key", "foreign.key"],
        )
        .await;
        let error = server.await.unwrap().unwrap_err();
        assert_eq!(
            error.tls_error(),
            Some(&rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            )),
            "{version}: {error}"
        );
        let shown = text(&output);
        assert!(!shown.contains("hello"), "{version}: {shown}");
    }
}
