//! Round trip of an empty `poll req` over the in-process transport (TLS over a pipe, on one
//! current-thread runtime, as an explored world runs it): what `harness explore` spends most
//! of its EPP time on, since nine in ten commands of a world are polls that find nothing; and
//! a new session, as the registrars open one after each dropped connection.
//!
//! `cargo bench -p mock-registry --bench poll_rtt`; knobs: `POLLS` (default 200000; a hundredth as
//! many sessions).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clock::SystemClock;
use epp::message::{CommandKind, Poll};
use mock_registry::client::EppClient;
use mock_registry::pki::Pki;
use mock_registry::registry::{Policy, Registry};
use mock_registry::server::{EppServer, ServerConfig};

fn main() {
    let polls: u64 = std::env::var("POLLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::init_scratch(dir.path(), &["poller"]).unwrap();
        let tls = Arc::new(mock_registry::tls::server_config(&pki).unwrap());
        let mut registry = Registry::new(Policy::default(), Arc::new(SystemClock), 1);
        for r in pki.registrars() {
            registry.add_registrar(r.clid().as_str(), r.password().expose());
        }
        let password = pki
            .registrar("poller")
            .unwrap()
            .password()
            .expose()
            .to_string();
        let server = EppServer::start(
            "127.0.0.1:0".parse().unwrap(),
            tls,
            Arc::new(Mutex::new(registry)),
            ServerConfig::default(),
        )
        .await
        .unwrap();
        server.accept_in_process(true);
        let client_tls = Arc::new(mock_registry::tls::client_config(&pki, "poller").unwrap());
        let timeout = Duration::from_secs(10);
        let mut c = EppClient::connect(server.local_addr(), client_tls.clone(), timeout)
            .await
            .unwrap();
        c.login("poller", &password).await.unwrap();
        let start = Instant::now();
        for _ in 0..polls {
            let r = c
                .command(CommandKind::Poll(Poll::Req), Vec::new())
                .await
                .unwrap();
            assert_eq!(r.code(), epp::ResultCode::SuccessNoMessages);
        }
        let took = start.elapsed();
        println!(
            "{polls} empty polls in-process: {:.2} µs per round trip ({:.0}/s)",
            took.as_secs_f64() * 1e6 / polls as f64,
            polls as f64 / took.as_secs_f64()
        );
        // A session after a dropped connection: TLS resumed with the ticket of an earlier
        // one (x25519 on both sides), the greeting, login, logout.
        let sessions = (polls / 100).max(10);
        let start = Instant::now();
        for _ in 0..sessions {
            let mut c = EppClient::connect(server.local_addr(), client_tls.clone(), timeout)
                .await
                .unwrap();
            let r = c.login("poller", &password).await.unwrap();
            assert_eq!(r.code(), epp::ResultCode::Success);
            c.command(CommandKind::Logout, Vec::new()).await.unwrap();
        }
        let took = start.elapsed();
        println!(
            "{sessions} sessions (resumed TLS, greeting, login, logout): {:.1} µs each",
            took.as_secs_f64() * 1e6 / sessions as f64
        );
    });
}
