//! Helpers for this workspace's tests (feature `test-support`). Schema validation of frames
//! with xmllint is `epp::schema`, re-exported here.
//!
//! [`commands`] builds the EPP commands tests need to give the registry some state;
//! [`registry_with_epp`] starts a registry and its EPP server for them.
//!
//! Helpers here panic with a message on a failed step: they serve tests, where a panic is the
//! failure report.

pub mod commands;

pub use epp::schema::{Schema, assert_schema_valid, xmllint_failures};

/// A registry (default SIDN policy, on `clock`) with each of `clids` from `pki` as a
/// registrar, and its EPP server on a free loopback port: the start of every test that talks
/// EPP to the registry before publishing or moving anything.
pub async fn registry_with_epp(
    pki: &crate::pki::Pki,
    clids: &[&str],
    clock: &clock::VirtualClock,
) -> (crate::server::SharedRegistry, crate::server::EppServer) {
    let mut registry = crate::registry::Registry::new(
        crate::registry::Policy::default(),
        std::sync::Arc::new(clock.clone()),
        1,
    );
    for clid in clids {
        let creds = pki
            .registrar(clid)
            .unwrap_or_else(|| panic!("{clid} is not in the PKI"));
        registry.add_registrar(clid, creds.password().expose());
    }
    let registry = std::sync::Arc::new(std::sync::Mutex::new(registry));
    let tls = crate::tls::server_config(pki).expect("a server TLS configuration from the PKI");
    let epp = crate::server::EppServer::start(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        std::sync::Arc::new(tls),
        registry.clone(),
        crate::server::ServerConfig::default(),
    )
    .await
    .expect("the EPP server starts on loopback");
    (registry, epp)
}
