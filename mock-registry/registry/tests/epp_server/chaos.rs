//! Registry-side chaos over real TLS: transient 2400 answers instead of executing, connections
//! dropped after an answer, logins refused for the session limit; each marked `X` in the
//! detail and the log, none changing the registry, all repeatable from the seed.

use epp::ResultCode;
use epp::message::{CommandKind, Poll};
use mock_registry::client::ClientError;
use mock_registry::server::{Chaos, ServerConfig};

use crate::support::*;

fn chaos(c: Chaos) -> ServerConfig {
    ServerConfig {
        chaos: c,
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn transient_failures_change_nothing_and_repeat_with_the_seed() {
    let codes = |seed: u64| async move {
        let w = World::with_config(chaos(Chaos {
            transient_failure_rate: 0.5,
            seed,
            ..Chaos::default()
        }))
        .await;
        let mut c = w.login(A).await;
        let mut codes = Vec::new();
        for _ in 0..40 {
            let before = w.state();
            let r = c
                .command(CommandKind::Poll(Poll::Req), vec![])
                .await
                .unwrap();
            codes.push(code(&r));
            if code(&r) == 2400 {
                assert_eq!(detail(&r), "X2400");
                assert_eq!(w.state(), before, "a chaos answer changed the registry");
            } else {
                assert_eq!(code(&r), 1300, "{r:?}");
            }
        }
        w.keep(&c);
        w.validate_transcripts();
        let log: Vec<_> = w.registry.lock().unwrap().log().iter().cloned().collect();
        let chaos_entries = log.iter().filter(|e| e.is_chaos()).count();
        assert_eq!(chaos_entries, codes.iter().filter(|c| **c == 2400).count());
        assert_eq!(w.server.chaos().injected().0 as usize, chaos_entries);
        codes
    };
    let a = codes(9).await;
    assert!(a.contains(&2400) && a.contains(&1300), "{a:?}");
    assert_eq!(a, codes(9).await, "the same seed gives the same answers");
    assert_ne!(a, codes(10).await);
}

#[tokio::test]
async fn dropped_connections_come_after_the_answer() {
    let w = World::with_config(chaos(Chaos {
        drop_connection_rate: 1.0,
        ..Chaos::default()
    }))
    .await;
    let mut c = w.connect(A).await;
    // The login is answered, then the connection closes.
    let r = c.login(A, &w.password(A)).await.unwrap();
    assert_eq!(r.code(), ResultCode::Success);
    let e = c
        .command(CommandKind::Poll(Poll::Req), vec![])
        .await
        .expect_err("the connection is closed");
    assert!(
        matches!(e, ClientError::Frame(_) | ClientError::Io(_)),
        "{e:?}"
    );
    // Its session slot is free again.
    for _ in 0..100 {
        if w.server.sessions().count(A) == 0 {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(w.server.sessions().count(A), 0);
    assert_eq!(w.server.chaos().injected().1, 1);
    // Paused, nothing is dropped.
    w.server.chaos().set_paused(true);
    let mut c = w.login(A).await;
    for _ in 0..3 {
        ok(&c
            .command(CommandKind::Poll(Poll::Req), vec![])
            .await
            .unwrap());
    }
}

#[tokio::test]
async fn the_session_limit_refuses_a_login_and_closes() {
    let w = World::with_config(chaos(Chaos {
        session_limit_rate: 1.0,
        ..Chaos::default()
    }))
    .await;
    let mut c = w.connect(A).await;
    let r = c.login(A, &w.password(A)).await.unwrap();
    assert_eq!((code(&r), detail(&r).as_str()), (2502, "X2502"));
    assert!(
        c.command(CommandKind::Poll(Poll::Req), vec![])
            .await
            .is_err(),
        "closed after 2502"
    );
    assert_eq!(w.server.sessions().count(A), 0);
    // A wrong password is still a wrong password: the rules come first.
    let mut c = w.connect(A).await;
    let r = c.login(A, "wrong-password").await.unwrap();
    assert_eq!(code(&r), 2200);
    w.keep_received(&c);
    w.validate_transcripts();
}
