//! One EPP session as an explicit state machine (RFC 5730 §2, figure 1).
//!
//! ```text
//!   connect ──► greeting ──► AwaitingLogin ──login ok──► LoggedIn ──logout──► closed (1500)
//!                  ▲            │  bad login (2200), n-th bad login (2501, closed)
//!                  └─ hello ────┘  anything else (2002)
//! ```
//!
//! A command that is wrong for the state is answered 2002 by construction: each state handles
//! only what RFC 5730 allows in it. The session does no I/O: it turns one received payload
//! into an [`Action`], so it is tested without sockets.

use std::sync::{Arc, Mutex};

use crate::registry::{Area, OBJ_URIS, Refusal, Registry, Services};
use epp::message::{CommandKind, Frame, Login};
use epp::{self, ResultCode};

use super::SessionCounter;
use super::chaos::{ChaosDice, Knob};

/// What the connection does after a payload.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Send this frame and read the next one.
    Reply(Frame),
    /// Send this frame, then close the connection (1500, 25xx).
    ReplyAndClose(Frame),
}

#[derive(Debug)]
enum State {
    AwaitingLogin { failures: u32 },
    LoggedIn { cl_id: String, services: Services },
}

/// Limits a session enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionRules {
    pub(crate) max_login_failures: u32,
    pub(crate) max_sessions_per_registrar: usize,
}

/// An EPP session of one TLS connection.
#[derive(Debug)]
pub(crate) struct Session {
    /// The clID the client certificate vouches for (RFC 5734 §9).
    cert_clid: String,
    state: State,
    rules: SessionRules,
    counter: SessionCounter,
    dice: ChaosDice,
}

impl Drop for Session {
    fn drop(&mut self) {
        if let State::LoggedIn { cl_id, .. } = &self.state {
            self.counter.leave(cl_id);
        }
    }
}

impl Session {
    pub(crate) fn new(
        cert_clid: String,
        rules: SessionRules,
        counter: SessionCounter,
        dice: ChaosDice,
    ) -> Self {
        Self {
            cert_clid,
            state: State::AwaitingLogin { failures: 0 },
            rules,
            counter,
            dice,
        }
    }

    /// The registrar logged in, if any.
    pub(crate) fn cl_id(&self) -> Option<&str> {
        match &self.state {
            State::LoggedIn { cl_id, .. } => Some(cl_id),
            State::AwaitingLogin { .. } => None,
        }
    }

    /// Handles one received XML payload, with the server's chaos: a command of a logged-in
    /// session may be answered 2400 instead of executed, and the connection may be dropped
    /// after the answer to a command (see [`super::Chaos`]).
    pub(crate) fn on_payload(&mut self, payload: &[u8], registry: &Arc<Mutex<Registry>>) -> Action {
        let action = self.handle(payload, registry);
        match action {
            // Only the answers of a logged-in session (its login included): chaos does not
            // drop a client that has not logged in yet.
            Action::Reply(frame)
                if is_command_answer(&frame)
                    && self.cl_id().is_some()
                    && self.dice.roll(Knob::DropConnection) =>
            {
                tracing::debug!(clid = %self.cert_clid, "chaos: dropping the connection");
                Action::ReplyAndClose(frame)
            }
            other => other,
        }
    }

    fn handle(&mut self, payload: &[u8], registry: &Arc<Mutex<Registry>>) -> Action {
        let lock = || registry.lock().unwrap_or_else(|e| e.into_inner());
        // The frame is declared before the guard, so it is dropped after it: the command is
        // freed with the registry unlocked, which other sessions wait for.
        let frame = match epp::parse(payload) {
            Ok(f) => f,
            Err(e) => {
                let mut reg = lock();
                let code = e.result_code();
                let resp = reg.refuse(
                    self.cl_id(),
                    "(refused frame)",
                    e.cl_trid.clone(),
                    Refusal::from_codec(&e),
                );
                return reply(resp, code.ends_session());
            }
        };
        let mut reg = lock();
        match &frame {
            Frame::Hello => Action::Reply(Frame::Greeting(Box::new(reg.greeting()))),
            Frame::Greeting(_) | Frame::Response(_) => {
                let r = Refusal::new(
                    ResultCode::CommandSyntaxError,
                    Area::Session,
                    "a client sends hello, commands or extension commands, not greetings or responses",
                );
                reply(reg.refuse(self.cl_id(), "(refused frame)", None, r), false)
            }
            Frame::Extension(ext) => match &self.state {
                State::LoggedIn { cl_id, services } => {
                    if let Some(a) = chaos_failure(
                        &self.dice,
                        &mut reg,
                        cl_id,
                        "domain:cancelDelete",
                        &ext.cl_trid,
                    ) {
                        return a;
                    }
                    reply(reg.execute_ext(cl_id, services, ext), false)
                }
                State::AwaitingLogin { .. } => reply(
                    reg.refuse(
                        None,
                        "domain:cancelDelete",
                        ext.cl_trid.clone(),
                        not_logged_in(),
                    ),
                    false,
                ),
            },
            Frame::Command(cmd) => {
                // Cloned only where an answer is made here: execute takes it from the command.
                let cl_trid = || cmd.cl_trid.clone();
                match (&mut self.state, &cmd.kind) {
                    (State::AwaitingLogin { .. }, CommandKind::Login(login)) => {
                        let login = login.clone();
                        self.login(&login, cl_trid(), &mut reg)
                    }
                    (State::AwaitingLogin { .. }, CommandKind::Logout) => reply(
                        reg.refuse(None, "logout", cl_trid(), not_logged_in()),
                        false,
                    ),
                    (State::AwaitingLogin { .. }, kind) => reply(
                        reg.refuse(None, kind.name(), cl_trid(), not_logged_in()),
                        false,
                    ),
                    (State::LoggedIn { cl_id, .. }, CommandKind::Login(_)) => {
                        let r = Refusal::new(
                            ResultCode::CommandUseError,
                            Area::Session,
                            "already logged in: a session has one login (RFC 5730 §2.9.1.1)",
                        );
                        reply(reg.refuse(Some(cl_id), "login", cl_trid(), r), false)
                    }
                    (State::LoggedIn { cl_id, .. }, CommandKind::Logout) => {
                        let resp = reg.succeed(
                            Some(cl_id),
                            "logout",
                            cl_trid(),
                            ResultCode::SuccessEndingSession,
                        );
                        reply(resp, true)
                    }
                    (State::LoggedIn { cl_id, services }, kind) => {
                        if let Some(a) =
                            chaos_failure(&self.dice, &mut reg, cl_id, kind.name(), &cmd.cl_trid)
                        {
                            return a;
                        }
                        reply(reg.execute(cl_id, services, cmd), false)
                    }
                }
            }
        }
    }

    fn login(&mut self, login: &Login, cl_trid: Option<String>, reg: &mut Registry) -> Action {
        let mut refusal = None;
        let mut counts_as_failure = false;
        if login.cl_id != self.cert_clid {
            refusal = Some(Refusal::new(
                ResultCode::AuthenticationError,
                Area::Session,
                format!(
                    "clID {} does not match the client certificate, which is for {}",
                    login.cl_id, self.cert_clid
                ),
            ));
            counts_as_failure = true;
        } else if !reg.authenticate(&login.cl_id, &login.pw, None) {
            refusal = Some(Refusal::new(
                ResultCode::AuthenticationError,
                Area::Session,
                "unknown clID or wrong password",
            ));
            counts_as_failure = true;
        } else if !reg.policy().langs.contains(&login.lang) {
            refusal = Some(Refusal::new(
                ResultCode::UnimplementedOption,
                Area::Session,
                format!(
                    "language {} is not offered (greeting: {:?})",
                    login.lang,
                    reg.policy().langs
                ),
            ));
        } else if let Some(u) = login
            .obj_uris
            .iter()
            .find(|u| !OBJ_URIS.contains(&u.as_str()))
        {
            refusal = Some(Refusal::new(
                ResultCode::UnimplementedObjectService,
                Area::Session,
                format!("object service {u} is not offered"),
            ));
        } else if let Some(u) = {
            let offered = reg.ext_uris();
            login
                .ext_uris
                .iter()
                .find(|u| !offered.contains(u))
                .cloned()
        } {
            refusal = Some(Refusal::new(
                ResultCode::UnimplementedExtension,
                Area::Session,
                format!("extension {u} is not offered"),
            ));
        }
        if let Some(mut r) = refusal {
            if counts_as_failure {
                let failures = match &mut self.state {
                    State::AwaitingLogin { failures } => {
                        *failures += 1;
                        *failures
                    }
                    State::LoggedIn { .. } => 0,
                };
                if failures >= self.rules.max_login_failures {
                    r.code = ResultCode::AuthenticationErrorServerClosingConnection;
                    r.text = format!("{} ({} failed logins: closing)", r.text, failures);
                    return reply(reg.refuse(None, "login", cl_trid, r), true);
                }
            }
            return reply(reg.refuse(None, "login", cl_trid, r), false);
        }
        if self.dice.roll(Knob::SessionLimit) {
            let r = Refusal::new(
                ResultCode::SessionLimitExceededServerClosingConnection,
                Area::Chaos,
                format!(
                    "{} has used its sessions (chaos: session_limit_rate); try again",
                    login.cl_id
                ),
            );
            return reply(reg.refuse(Some(&login.cl_id), "login", cl_trid, r), true);
        }
        if !self
            .counter
            .enter(&login.cl_id, self.rules.max_sessions_per_registrar)
        {
            let r = Refusal::new(
                ResultCode::SessionLimitExceededServerClosingConnection,
                Area::Session,
                format!(
                    "{} already has {} sessions",
                    login.cl_id, self.rules.max_sessions_per_registrar
                ),
            );
            return reply(reg.refuse(Some(&login.cl_id), "login", cl_trid, r), true);
        }
        // Only now, with every check passed, may the password change.
        reg.authenticate(&login.cl_id, &login.pw, login.new_pw.as_deref());
        self.state = State::LoggedIn {
            cl_id: login.cl_id.clone(),
            services: Services {
                obj_uris: login.obj_uris.clone(),
                ext_uris: login.ext_uris.clone(),
            },
        };
        reply(
            reg.succeed(Some(&login.cl_id), "login", cl_trid, ResultCode::Success),
            false,
        )
    }
}

/// A transient failure instead of the command, when chaos strikes.
fn chaos_failure(
    dice: &ChaosDice,
    reg: &mut Registry,
    cl_id: &str,
    command: &'static str,
    cl_trid: &Option<String>,
) -> Option<Action> {
    if !dice.roll(Knob::TransientFailure) {
        return None;
    }
    let r = Refusal::new(
        ResultCode::CommandFailed,
        Area::Chaos,
        "transient failure (chaos: transient_failure_rate); the command was not executed: \
         send it again",
    );
    Some(reply(
        reg.refuse(Some(cl_id), command, cl_trid.clone(), r),
        false,
    ))
}

fn not_logged_in() -> Refusal {
    Refusal::new(
        ResultCode::CommandUseError,
        Area::Session,
        "log in first: <login> must precede any other command (RFC 5730 §2.9.1.1)",
    )
}

/// Whether a frame answers a command (not a greeting): the answers after which chaos may drop
/// the connection.
fn is_command_answer(frame: &Frame) -> bool {
    matches!(frame, Frame::Response(_))
}

fn reply(resp: epp::Response, close: bool) -> Action {
    let close = close || resp.code().ends_session();
    let frame = Frame::Response(Box::new(resp));
    if close {
        Action::ReplyAndClose(frame)
    } else {
        Action::Reply(frame)
    }
}
