//! Mutual TLS between the registry's configuration and registrars' configurations: who gets
//! in, and as whom.

use std::time::{Duration, Instant};

use mock_registry::pki::fixtures::{self, ClientCertSpec};
use mock_registry::pki::{ClientIdentityError, Validity, clid_from_certificate};
use mock_registry::tls::{self, AcceptError};
use rustls::{CertificateError, ServerConfig};
use tokio::net::TcpStream;

use crate::support::{self, Outcome};

fn assert_refused(outcome: &Outcome, expected: &rustls::Error) {
    match &outcome.server {
        Err(error @ AcceptError::Handshake(_)) => {
            assert_eq!(error.tls_error(), Some(expected), "{error}");
        }
        other => panic!("the server accepted or failed otherwise: {other:?}"),
    }
    // The client learns of the refusal at the latest on its first read (with TLS 1.3 the
    // client's side of the handshake finishes before the server checks its certificate).
    assert!(
        outcome.client.is_err(),
        "the client read {:?}",
        outcome.client
    );
}

#[tokio::test]
async fn a_registrar_certificate_authenticates_its_clid_over_tls_1_3_and_1_2() {
    let (_dir, pki) = support::pki();
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        for name in support::REGISTRARS {
            let outcome = support::connect_once(
                tls::server_config(&pki).unwrap(),
                support::client_config_for_version(&pki, name, version),
            )
            .await;
            assert_eq!(outcome.server.unwrap().as_str(), name);
            assert_eq!(outcome.client.unwrap(), format!("hello {name}\n"));
            assert_eq!(outcome.version, Some(version.version));
        }
    }
}

#[tokio::test]
async fn the_default_client_config_negotiates_tls_1_3() {
    let (_dir, pki) = support::pki();
    let outcome = support::connect_once(
        tls::server_config(&pki).unwrap(),
        tls::client_config(&pki, "registrar-a").unwrap(),
    )
    .await;
    assert_eq!(outcome.server.unwrap().as_str(), "registrar-a");
    assert_eq!(outcome.version, Some(rustls::ProtocolVersion::TLSv1_3));
}

#[tokio::test]
async fn no_client_certificate_is_refused() {
    let (_dir, pki) = support::pki();
    let outcome = support::connect_once(
        tls::server_config(&pki).unwrap(),
        tls::client_config_without_certificate(&pki).unwrap(),
    )
    .await;
    assert_refused(&outcome, &rustls::Error::NoCertificatesPresented);
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let (_dir, pki) = support::pki();
    // Same clID, same shape, another CA.
    let (_other_ca, foreign) = fixtures::foreign_registrar("registrar-a").unwrap();
    let outcome = support::connect_once(
        tls::server_config(&pki).unwrap(),
        tls::client_config_with_identity(&pki, &foreign).unwrap(),
    )
    .await;
    assert_refused(
        &outcome,
        &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
    );
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let (_dir, pki) = support::pki();
    let long_ago = "2000-01-01T00:00:00Z".parse().unwrap();
    let expired = pki
        .ca()
        .issue_client_cert(&ClientCertSpec {
            validity: Validity::around(long_ago),
            ..ClientCertSpec::for_clid("registrar-a")
        })
        .unwrap();
    let outcome = support::connect_once(
        tls::server_config(&pki).unwrap(),
        tls::client_config_with_identity(&pki, &expired).unwrap(),
    )
    .await;
    match &outcome.server {
        Err(error) => assert!(
            matches!(
                error.tls_error(),
                Some(rustls::Error::InvalidCertificate(
                    CertificateError::ExpiredContext { .. }
                ))
            ),
            "{error:?}"
        ),
        Ok(clid) => panic!("accepted as {clid}"),
    }
}

#[tokio::test]
async fn a_certificate_without_client_auth_usage_is_refused() {
    let (_dir, pki) = support::pki();
    let server_only = pki
        .ca()
        .issue_client_cert(&ClientCertSpec {
            client_auth: false,
            ..ClientCertSpec::for_clid("registrar-a")
        })
        .unwrap();
    let outcome = support::connect_once(
        tls::server_config(&pki).unwrap(),
        tls::client_config_with_identity(&pki, &server_only).unwrap(),
    )
    .await;
    match &outcome.server {
        Err(error) => assert!(
            matches!(
                error.tls_error(),
                Some(rustls::Error::InvalidCertificate(
                    CertificateError::InvalidPurpose
                        | CertificateError::InvalidPurposeContext { .. }
                ))
            ),
            "{error:?}"
        ),
        Ok(clid) => panic!("accepted as {clid}"),
    }
}

/// Registrar A presents a certificate, from the registry's own CA, that names B. TLS accepts
/// it and the authenticated clID is B, whatever A claims later: the EPP server compares this
/// clID with the `<clID>` of `<login>`, so A logging in as A gets 2200, and A cannot log in as
/// B without B's password either. Authentication follows the certificate, never the login.
#[tokio::test]
async fn a_certificate_naming_b_authenticates_as_b_whoever_presents_it() {
    let (_dir, pki) = support::pki();
    let forged = fixtures::impersonation(&pki, "registrar-a", "registrar-b").unwrap();
    // The certificate really is for A's key.
    let a = pki.registrar("registrar-a").unwrap().identity();
    assert_eq!(forged.key_pem(), a.key_pem());
    let outcome = support::connect_once(
        tls::server_config(&pki).unwrap(),
        tls::client_config_with_identity(&pki, &forged).unwrap(),
    )
    .await;
    assert_eq!(outcome.server.unwrap().as_str(), "registrar-b");
}

#[tokio::test]
async fn a_trusted_certificate_without_a_clid_gives_no_session() {
    let (_dir, pki) = support::pki();
    let anonymous = pki
        .ca()
        .issue_client_cert(&ClientCertSpec {
            common_name: None,
            clid_uri: None,
            ..ClientCertSpec::for_clid("unused")
        })
        .unwrap();
    let outcome = support::connect_once(
        tls::server_config(&pki).unwrap(),
        tls::client_config_with_identity(&pki, &anonymous).unwrap(),
    )
    .await;
    assert!(
        matches!(
            outcome.server,
            Err(AcceptError::Identity(ClientIdentityError::NoClId))
        ),
        "{:?}",
        outcome.server
    );
    // The server dropped the session without a word.
    assert_eq!(outcome.client.unwrap_or_default(), "");
}

#[test]
fn the_san_uri_takes_precedence_over_the_cn_and_bad_names_are_refused() {
    let (_dir, pki) = support::pki();
    let issue = |spec: &ClientCertSpec<'_>| pki.ca().issue_client_cert(spec).unwrap();
    let clid = |spec: &ClientCertSpec<'_>| clid_from_certificate(issue(spec).cert_der());

    let both = ClientCertSpec {
        common_name: Some("Registrar A B.V."),
        clid_uri: Some("registrar-a"),
        ..ClientCertSpec::for_clid("unused")
    };
    assert_eq!(clid(&both).unwrap().as_str(), "registrar-a");
    let cn_only = ClientCertSpec {
        clid_uri: None,
        ..ClientCertSpec::for_clid("registrar-a")
    };
    assert_eq!(clid(&cn_only).unwrap().as_str(), "registrar-a");
    let uri_only = ClientCertSpec {
        common_name: None,
        ..ClientCertSpec::for_clid("registrar-a")
    };
    assert_eq!(clid(&uri_only).unwrap().as_str(), "registrar-a");
    let too_long = ClientCertSpec::for_clid("a-name-far-too-long-for-epp");
    assert!(matches!(
        clid(&too_long),
        Err(ClientIdentityError::InvalidClId(_))
    ));
    assert!(matches!(
        clid_from_certificate(&b"not a certificate"[..].into()),
        Err(ClientIdentityError::Unparseable(_))
    ));
}

/// The registrars' configuration trusts the test CA only: a server with a certificate from
/// another CA (even one valid for `localhost`) is refused by the client.
#[tokio::test]
async fn registrars_trust_only_the_test_ca() {
    let (_dir, pki) = support::pki();
    let other_ca = fixtures::unrelated_authority().unwrap();
    let impostor = other_ca.issue_server(&Validity::current()).unwrap();
    let server = ServerConfig::builder_with_provider(tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![impostor.cert_der().clone()], impostor.key_der())
        .unwrap();
    let outcome =
        support::connect_once(server, tls::client_config(&pki, "registrar-a").unwrap()).await;
    let error = outcome.client.unwrap_err();
    let tls_error = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    assert_eq!(
        tls_error,
        Some(&rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer
        )),
        "{error}"
    );
    assert!(outcome.server.is_err());
}

#[tokio::test]
async fn a_silent_client_is_dropped_after_the_handshake_timeout() {
    let (_dir, pki) = support::pki();
    let timeout = Duration::from_millis(300);
    let (addr, server) = support::serve_once(tls::server_config(&pki).unwrap(), timeout).await;
    let started = Instant::now();
    // Connect and say nothing.
    let _tcp = TcpStream::connect(addr).await.unwrap();
    let result = tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("the server gives up on its own")
        .unwrap();
    assert!(
        matches!(result, Err(AcceptError::Timeout(t)) if t == timeout),
        "{result:?}"
    );
    assert!(started.elapsed() >= timeout);
}

#[test]
fn unknown_registrars_get_no_client_config() {
    let (_dir, pki) = support::pki();
    assert!(matches!(
        tls::client_config(&pki, "registrar-z"),
        Err(tls::TlsConfigError::UnknownRegistrar(name)) if name == "registrar-z"
    ));
}
