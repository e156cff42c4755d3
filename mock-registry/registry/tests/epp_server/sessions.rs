//! RFC 5730 §2 session rules: greeting, hello, login checks, sequencing, logout, failure
//! limits, session limits, pipelining, the idle timeout, and in-process connections.

use std::sync::Arc;
use std::time::Duration;

use epp::domain;
use epp::frame;
use epp::message::{CommandKind, Frame, Info, Login, Poll};
use epp::{ResultCode, uri};
use mock_registry::client::EppClient;
use mock_registry::pki::fixtures;
use mock_registry::server::ServerConfig;

use crate::support::*;

fn login(cl_id: &str, pw: &str) -> Login {
    Login {
        cl_id: cl_id.into(),
        pw: pw.into(),
        new_pw: None,
        version: "1.0".into(),
        lang: "en".into(),
        obj_uris: vec![uri::DOMAIN.into(), uri::KEYRELAY.into()],
        ext_uris: vec![uri::SECDNS.into()],
    }
}

#[tokio::test]
async fn greeting_hello_and_login_rules() {
    let w = World::start().await;
    let mut c = w.connect(A).await;
    let g = c.greeting().clone();
    assert_eq!(g.versions, ["1.0"]);
    for u in [uri::DOMAIN, uri::CONTACT, uri::HOST, uri::KEYRELAY] {
        assert!(g.obj_uris.iter().any(|x| x == u), "{u}");
    }
    for u in [uri::SECDNS, uri::SIDN, uri::SIDN_SCHEDULED_DELETE] {
        assert!(g.ext_uris.iter().any(|x| x == u), "{u}");
    }
    assert_eq!(g.sv_date, w.clock.now_for_tests());
    // hello → greeting, before and after login.
    assert!(matches!(c.send_hello().await, Frame::Greeting(_)));

    // Commands before login: 2002; logout before login: 2002.
    let r = c
        .command(CommandKind::Poll(Poll::Req), vec![])
        .await
        .unwrap();
    assert_eq!((code(&r), detail(&r).as_str()), (2002, "S2002"));
    let r = c.command(CommandKind::Logout, vec![]).await.unwrap();
    assert_eq!(code(&r), 2002);

    // Unknown language, object or extension.
    let mut l = login(A, &w.password(A));
    l.lang = "de".into();
    assert_eq!(
        code(&c.command(CommandKind::Login(l), vec![]).await.unwrap()),
        2102
    );
    let mut l = login(A, &w.password(A));
    l.obj_uris.push("urn:ietf:params:xml:ns:obj-1.0".into());
    assert_eq!(
        code(&c.command(CommandKind::Login(l), vec![]).await.unwrap()),
        2307
    );
    let mut l = login(A, &w.password(A));
    l.ext_uris.push("urn:ietf:params:xml:ns:rgp-1.0".into());
    assert_eq!(
        code(&c.command(CommandKind::Login(l), vec![]).await.unwrap()),
        2103
    );

    // Success, then a second login is a use error.
    ok(&c
        .command(CommandKind::Login(login(A, &w.password(A))), vec![])
        .await
        .unwrap());
    let r = c
        .command(CommandKind::Login(login(A, &w.password(A))), vec![])
        .await
        .unwrap();
    assert_eq!(code(&r), 2002);
    assert!(matches!(c.send_hello().await, Frame::Greeting(_)));
    // Services not announced at login: contact (object) and SIDN (extension).
    let r = c.command(contact_create(), vec![]).await.unwrap();
    assert_eq!((code(&r), detail(&r).as_str()), (2307, "S2307"));

    // Logout: 1500, then the server closes.
    let r = c.command(CommandKind::Logout, vec![]).await.unwrap();
    assert_eq!(r.code(), ResultCode::SuccessEndingSession);
    assert!(
        c.read().await.is_err(),
        "the connection must be closed after logout"
    );
    w.keep(&c);
    w.validate_transcripts();
}

#[tokio::test]
async fn bad_logins_are_2200_then_2501_and_close() {
    let w = World::start().await;
    // Certificate for A, login as B with B's password: the identities differ.
    let mut c = w.connect(A).await;
    let r = c
        .command(CommandKind::Login(login(B, &w.password(B))), vec![])
        .await
        .unwrap();
    assert_eq!((code(&r), detail(&r).as_str()), (2200, "S2200"));
    let r = c
        .command(CommandKind::Login(login(A, "wrong-password")), vec![])
        .await
        .unwrap();
    assert_eq!(code(&r), 2200);
    let r = c
        .command(CommandKind::Login(login(A, "wrong-again")), vec![])
        .await
        .unwrap();
    assert_eq!(
        r.code(),
        ResultCode::AuthenticationErrorServerClosingConnection
    );
    assert!(c.read().await.is_err(), "closed after the third failure");
    // The password did not change and A can still log in.
    let _a = w.login(A).await;
    w.keep(&c);
    w.validate_transcripts();
}

#[tokio::test]
async fn new_password_applies_only_to_a_successful_login() {
    let w = World::start().await;
    let mut c = w.connect(A).await;
    let mut l = login(A, &w.password(A));
    l.new_pw = Some("fresh-secret".into());
    ok(&c.command(CommandKind::Login(l), vec![]).await.unwrap());
    drop(c);
    let mut c = w.connect(A).await;
    assert_eq!(code(&c.login(A, &w.password(A)).await.unwrap()), 2200);
    ok(&c.login(A, "fresh-secret").await.unwrap());
}

#[tokio::test]
async fn per_registrar_session_limit() {
    let w = World::with_config(ServerConfig {
        max_sessions_per_registrar: 2,
        ..ServerConfig::default()
    })
    .await;
    let _one = w.login(A).await;
    let _two = w.login(A).await;
    let mut three = w.connect(A).await;
    let r = three.login(A, &w.password(A)).await.unwrap();
    assert_eq!(
        r.code(),
        ResultCode::SessionLimitExceededServerClosingConnection
    );
    assert!(three.read().await.is_err());
    // Other registrars are not affected; a closed session frees its slot.
    let _b = w.login(B).await;
    drop(_one);
    let mut again = None;
    for _ in 0..50 {
        let mut c = w.connect(A).await;
        if c.login(A, &w.password(A)).await.unwrap().code() == ResultCode::Success {
            again = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "the slot of a closed session is released");
}

#[tokio::test]
async fn pipelined_commands_are_answered_in_order() {
    let w = World::start().await;
    let mut c = w.login(A).await;
    let names: Vec<String> = (0..8).map(|i| format!("pipe{i}.nl")).collect();
    for n in &names {
        let f = Frame::Command(Box::new(epp::Command {
            kind: check_domain(n),
            extensions: vec![],
            cl_trid: Some(format!("PIPE-{n}")),
        }));
        c.write_raw(f.to_xml().as_bytes()).await.unwrap();
    }
    for n in &names {
        let r = response(c.read().await.unwrap());
        assert_eq!(
            r.tr_id.cl_trid.as_deref(),
            Some(format!("PIPE-{n}").as_str())
        );
    }
}

#[tokio::test]
async fn idle_sessions_are_closed() {
    let w = World::with_config(ServerConfig {
        idle_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await;
    let mut c = w.login(A).await;
    let err = c.read().await;
    assert!(
        err.is_err(),
        "expected the server to close an idle session: {err:?}"
    );
}

/// The client's own deadline: a server that owes nothing is waited for the client's timeout
/// and no longer, after frames that came at once (the greeting, a login answer) left the
/// client's one timer armed at an earlier deadline; the session is still usable afterwards.
#[tokio::test]
async fn a_client_read_gives_up_at_its_own_timeout() {
    let w = World::start().await;
    let config = Arc::new(mock_registry::tls::client_config(&w.pki, A).unwrap());
    let timeout = Duration::from_millis(300);
    let mut c = EppClient::connect(w.server.local_addr(), config, timeout)
        .await
        .unwrap();
    let r = c.login(A, &w.password(A)).await.unwrap();
    assert_eq!(r.code(), ResultCode::Success);
    for _ in 0..2 {
        let started = std::time::Instant::now();
        let err = tokio::time::timeout(Duration::from_secs(10), c.read())
            .await
            .expect("the client's deadline did not fire")
            .unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(err, mock_registry::client::ClientError::Timeout(t) if t == timeout),
            "{err:?}"
        );
        assert!(took >= timeout && took < Duration::from_secs(5), "{took:?}");
    }
    let r = c.command(CommandKind::Poll(Poll::Req), Vec::new()).await;
    assert_eq!(r.unwrap().code(), ResultCode::SuccessNoMessages);
}

/// Issue 11, item 5: a client that sends commands and never reads its answers. Once the
/// socket buffers are full the server's write waits; after the write timeout (far below the
/// idle timeout here) the session is closed and its slot freed, so the registrar, limited to
/// one session, can log in again.
#[tokio::test]
async fn a_client_that_never_reads_loses_its_session_at_the_write_deadline() {
    let w = World::with_config(ServerConfig {
        idle_timeout: Duration::from_secs(600),
        write_timeout: Duration::from_millis(300),
        max_sessions_per_registrar: 1,
        ..ServerConfig::default()
    })
    .await;
    let mut stuck = w.login(A).await;
    assert_eq!(w.server.sessions().count(A), 1);
    // Each check of 5000 names is about 200 kB and its answer about 400 kB: a few dozen fill
    // the buffers of both sides.
    let names: Vec<String> = (0..5000).map(|i| format!("d{i}.nl")).collect();
    let check = Frame::Command(Box::new(epp::Command {
        kind: CommandKind::Check(epp::Check::Domain(names)),
        extensions: vec![],
        cl_trid: None,
    }))
    .to_xml();
    let mut sent = 0;
    while sent < 500 {
        // A write that cannot finish within a second means every buffer is full.
        match tokio::time::timeout(Duration::from_secs(1), stuck.write_raw(check.as_bytes())).await
        {
            Ok(Ok(())) => sent += 1,
            Ok(Err(_)) | Err(_) => break,
        }
    }
    assert!(sent > 1, "the server took only {sent} commands");
    // The slot is freed within a few write timeouts, long before the idle timeout.
    let freed = tokio::time::timeout(Duration::from_secs(10), async {
        while w.server.sessions().count(A) > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        freed.is_ok(),
        "the session of a client that never reads still holds its slot"
    );
    let mut again = w.connect(A).await;
    ok(&again.login(A, &w.password(A)).await.unwrap());
}

#[tokio::test]
async fn frames_the_server_cannot_resynchronise_after_end_the_session() {
    use tokio::io::AsyncWriteExt;
    let w = World::start().await;
    // Oversize: 2500, then closed.
    let mut c = w.login(A).await;
    let too_big = u32::try_from(frame::DEFAULT_MAX_FRAME + 1).unwrap();
    c.stream().write_all(&too_big.to_be_bytes()).await.unwrap();
    c.stream().flush().await.unwrap();
    let r = response(c.read().await.unwrap());
    assert_eq!(r.code(), ResultCode::CommandFailedServerClosingConnection);
    assert!(c.read().await.is_err());
    // A length that does not even cover its header.
    let mut c = w.login(A).await;
    c.stream().write_all(&2u32.to_be_bytes()).await.unwrap();
    c.stream().flush().await.unwrap();
    let r = response(c.read().await.unwrap());
    assert_eq!(r.code(), ResultCode::CommandFailedServerClosingConnection);
    assert!(c.read().await.is_err());
}

trait ClockExt {
    fn now_for_tests(&self) -> jiff::Timestamp;
}

impl ClockExt for clock::VirtualClock {
    fn now_for_tests(&self) -> jiff::Timestamp {
        use clock::Clock;
        self.now()
    }
}

trait HelloExt {
    async fn send_hello(&mut self) -> Frame;
}

impl HelloExt for mock_registry::client::EppClient {
    async fn send_hello(&mut self) -> Frame {
        self.exchange_raw(Frame::Hello.to_xml().as_bytes())
            .await
            .unwrap()
    }
}

/// `EppServer::accept_in_process`: a client of this process gets an in-memory pipe to the same
/// per-connection code. The TLS identity is still checked, the session limit counts pipes and
/// sockets together, the answers are the ones TCP gets, and switching it off (or stopping the
/// server) sends clients back to TCP.
#[tokio::test]
async fn in_process_connections_are_served_by_the_same_code() {
    use mock_registry::client::Conn;
    let w = World::with_config(ServerConfig {
        max_sessions_per_registrar: 2,
        ..ServerConfig::default()
    })
    .await;
    let is_pipe = |c: &mut EppClient| matches!(c.stream().get_ref().0, Conn::Pipe(_));
    let mut tcp = w.login(A).await;
    assert!(!is_pipe(&mut tcp), "off by default");
    w.server.accept_in_process(true);

    // A certificate from another CA gets no session over a pipe either.
    let (_ca, foreign) = fixtures::foreign_registrar(A).unwrap();
    let cfg = Arc::new(mock_registry::tls::client_config_with_identity(&w.pki, &foreign).unwrap());
    let timeout = Duration::from_secs(5);
    assert!(
        EppClient::connect(w.server.local_addr(), cfg, timeout)
            .await
            .is_err()
    );

    let mut pipe = w.login(A).await;
    assert!(is_pipe(&mut pipe));
    assert_eq!(w.server.sessions().count(A), 2, "a pipe's session counts");
    let mut third = w.connect(A).await;
    assert_eq!(
        third.login(A, &w.password(A)).await.unwrap().code(),
        ResultCode::SessionLimitExceededServerClosingConnection
    );

    // The same commands, the same answers (but for the server's transaction ids).
    signed_domain(&mut pipe, "piped.nl", "token-0001").await;
    let info = |name: &str| {
        CommandKind::Info(Info::Domain(domain::Info {
            name: name.into(),
            hosts: domain::HostsFilter::All,
            auth_info: None,
        }))
    };
    let by_pipe = pipe.command(info("piped.nl"), vec![]).await.unwrap();
    let by_tcp = tcp.command(info("piped.nl"), vec![]).await.unwrap();
    ok(&by_pipe);
    assert_eq!(by_pipe.res_data, by_tcp.res_data);
    assert_eq!(by_pipe.extensions, by_tcp.extensions);
    w.keep(&pipe);

    // Off again: new clients use TCP, the open pipe keeps working.
    w.server.accept_in_process(false);
    drop(tcp);
    let mut back = None;
    for _ in 0..50 {
        let mut c = w.connect(A).await;
        assert!(!is_pipe(&mut c));
        if c.login(A, &w.password(A)).await.unwrap().code() == ResultCode::Success {
            back = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(back.is_some(), "the closed TCP session's slot is released");
    ok(&pipe.command(info("piped.nl"), vec![]).await.unwrap());
    w.validate_transcripts();

    // A stopped server takes nobody in-process: the client tries TCP, and is refused.
    w.server.accept_in_process(true);
    let addr = w.server.local_addr();
    let cfg = Arc::new(mock_registry::tls::client_config(&w.pki, B).unwrap());
    let World { server, .. } = w;
    drop(server);
    assert!(EppClient::connect(addr, cfg, timeout).await.is_err());
    assert!(pipe.command(info("piped.nl"), vec![]).await.is_err());
}

/// RFC 5734 §9 binds a session to the client's certificate. A client that resumes its TLS
/// session (as the reference registrar does after every dropped connection) keeps the
/// identity of the full handshake: the resumed session logs in as that registrar, and not as
/// another one with that one's password.
#[tokio::test]
async fn a_resumed_tls_session_keeps_its_certificate_identity() {
    use rustls::HandshakeKind;
    let w = World::start().await;
    let cfg = Arc::new(mock_registry::tls::client_config(&w.pki, A).unwrap());
    let t = Duration::from_secs(5);
    let addr = w.server.local_addr();
    let mut first = EppClient::connect(addr, cfg.clone(), t).await.unwrap();
    ok(&first.login(A, &w.password(A)).await.unwrap());
    assert_eq!(
        first.stream().get_ref().1.handshake_kind(),
        Some(HandshakeKind::Full)
    );
    let mut resumed = EppClient::connect(addr, cfg.clone(), t).await.unwrap();
    assert_eq!(
        resumed.stream().get_ref().1.handshake_kind(),
        Some(HandshakeKind::Resumed)
    );
    ok(&resumed.login(A, &w.password(A)).await.unwrap());
    let mut as_b = EppClient::connect(addr, cfg, t).await.unwrap();
    assert_eq!(
        as_b.stream().get_ref().1.handshake_kind(),
        Some(HandshakeKind::Resumed)
    );
    assert_eq!(code(&as_b.login(B, &w.password(B)).await.unwrap()), 2200);
    w.keep(&first);
    w.keep(&resumed);
    w.validate_transcripts();
}
