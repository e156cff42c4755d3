//! The harness's side of the adapter protocol: a registrar running as a separate process
//! (the registrar under test, or the reference registrar as `harness reference-registrar`).
//!
//! Every failure of the process (it exits, writes something that is not a protocol message,
//! answers the wrong message or not in time) is recorded with the tail of its stderr and
//! reported as `REGISTRAR-FAILURE`; it never hangs the run.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use epp::secdns::KeyData;
use jiff::Timestamp;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::protocol::{DnsChoice, FromRegistrar, JsonKey, OperatorOp, ToRegistrar};
use super::{
    BoxFuture, OperatorChangeRequest, Registrar, RegistrarError, TickReport, TransferRequest,
};
use crate::world::backend::SharedOperator;
use crate::world::operator::{self, OperatorError};

/// How long the harness waits for any answer (wall clock): registrars do real EPP and DNS
/// work on loopback, which takes milliseconds; this only bounds a hung process.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest line the harness reads from a registrar process, on stdout (one protocol
/// message) or stderr. The largest message a registrar sends is a tick report or an operator
/// request with a zone's records: kilobytes. The bound keeps a process that writes without end
/// (a bug, or `cat /dev/zero` as a subject) from filling the harness's memory before its
/// timeout comes.
pub const MAX_LINE: usize = 4 << 20;

/// How much of an offending stdout line a failure message quotes.
const QUOTED: usize = 300;

/// How much of a stderr line is kept (the last 200 lines are): enough for a panic message or a
/// protocol message echoed for debugging, bounded however long the process's lines are.
const STDERR_KEPT: usize = 4096;

/// Why a line from a process could not be read.
#[derive(Debug)]
enum LineError {
    /// Reading failed: the pipe is gone, as at its end.
    Gone,
    TooLong,
    NotUtf8(std::str::Utf8Error),
}

/// The next line of `r` without its end (`\n` or `\r\n`), at most [`MAX_LINE`] bytes of it;
/// `None` at the end of the stream. A longer line is an error, and so is one that is not UTF-8.
async fn next_line<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<Option<String>, LineError> {
    let mut buf = Vec::new();
    let limit = u64::try_from(MAX_LINE)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let n = (&mut *r)
        .take(limit)
        .read_until(b'\n', &mut buf)
        .await
        .map_err(|_| LineError::Gone)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    } else if buf.len() > MAX_LINE {
        return Err(LineError::TooLong);
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|e| LineError::NotUtf8(e.utf8_error()))
}

/// The start of `line`, for a message about it, control characters escaped (a report is read
/// on a terminal).
fn quote(line: &str) -> String {
    cut(line, QUOTED)
}

/// The first `max` characters of `line`, control characters escaped, with the length of the
/// whole when it was longer.
fn cut(line: &str, max: usize) -> String {
    let mut out = String::new();
    for c in line.chars().take(max) {
        if c.is_control() && c != '\t' {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    if line.chars().nth(max).is_some() {
        out.push_str(&format!("… ({} bytes)", line.len()));
    }
    out
}

/// A registrar process.
#[derive(Debug)]
pub struct SubjectProcess {
    label: String,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<StdMutex<Vec<String>>>,
    /// The task collecting stderr; awaited when the process is gone, so a failure report
    /// carries everything it wrote, however loaded the machine is.
    stderr_task: Option<tokio::task::JoinHandle<()>>,
    next_id: u64,
    timeout: Duration,
    operator: SharedOperator,
    /// The operators it may drive in the operator role, by registrar label.
    controls: BTreeMap<String, SharedOperator>,
    log: Vec<(Timestamp, String)>,
    /// Where its DNS answers, as it said in `ready`.
    pub dns: DnsChoice,
    failure: Option<String>,
    last: TickReport,
    /// The virtual time of the last message, for what it logs while shutting down.
    now: Timestamp,
}

impl SubjectProcess {
    /// Starts `command` (run by `sh -c`) and says hello; `hello` must be a
    /// [`ToRegistrar::Hello`] whose id the process answers with `ready`.
    pub async fn start(
        label: &str,
        command: &str,
        hello: ToRegistrar,
        operator: SharedOperator,
        timeout: Duration,
    ) -> Result<Self, RegistrarError> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                RegistrarError::Process(format!("registrar {label}: cannot start {command:?}: {e}"))
            })?;
        let piped = |what: &str| RegistrarError::Process(format!("registrar {label}: no {what}"));
        let stdin = child.stdin.take().ok_or_else(|| piped("stdin"))?;
        let stdout = BufReader::new(child.stdout.take().ok_or_else(|| piped("stdout"))?);
        let stderr_pipe = child.stderr.take().ok_or_else(|| piped("stderr"))?;
        let stderr = Arc::new(StdMutex::new(Vec::new()));
        let sink = stderr.clone();
        let stderr_task = tokio::spawn(async move {
            // Read to the end whatever it holds (a process blocked on a full stderr pipe would
            // look hung); keep the last 200 lines, each cut to what a report can show.
            let mut reader = BufReader::new(stderr_pipe);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX);
                match (&mut reader).take(limit).read_until(b'\n', &mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let text = String::from_utf8_lossy(&buf);
                let line = cut(text.trim_end_matches(['\n', '\r']), STDERR_KEPT);
                if let Ok(mut v) = sink.lock() {
                    v.push(line);
                    if v.len() > 200 {
                        v.remove(0);
                    }
                }
            }
        });
        let mut p = Self {
            label: label.to_string(),
            child,
            stdin,
            stdout,
            stderr,
            stderr_task: Some(stderr_task),
            next_id: 2,
            timeout,
            operator,
            controls: BTreeMap::new(),
            log: Vec::new(),
            dns: DnsChoice::Hosted,
            failure: None,
            last: TickReport::default(),
            now: Timestamp::UNIX_EPOCH,
        };
        let now = match &hello {
            ToRegistrar::Hello { now, .. } => *now,
            _ => {
                return Err(RegistrarError::Process(format!(
                    "registrar {label}: the first message must be hello"
                )));
            }
        };
        match p.call(&hello, now).await {
            Ok(FromRegistrar::Ready { dns, next_wake, .. }) => {
                p.dns = dns;
                p.last.next_wake = next_wake;
                Ok(p)
            }
            Ok(other) => Err(p.fail(format!("answered hello with {}", kind(&other)))),
            Err(e) => Err(e),
        }
    }

    /// Gives it the operator role over these operators (the labels its `hello` listed in
    /// `controls`): its `operator` requests may then name one of them.
    pub fn set_controls(&mut self, controls: BTreeMap<String, SharedOperator>) {
        self.controls = controls;
    }

    /// The operator role: asks it to carry out a change of a domain's DNSSEC or name
    /// servers with the operators it controls (answered `accepted`; it reports under the
    /// domain in its status from then on).
    pub async fn operator_change(
        &mut self,
        change: OperatorChangeRequest,
    ) -> Result<(), RegistrarError> {
        let id = self.id();
        let now = change.now;
        let msg = ToRegistrar::OperatorChange {
            id,
            now,
            domain: change.domain,
            change: change.change,
            signer: change.signer,
            other: change.other,
            records: change.records,
            fault: change.fault,
        };
        match self.call(&msg, now).await? {
            FromRegistrar::Accepted { .. } => Ok(()),
            other => Err(self.fail(format!("answered operator_change with {}", kind(&other)))),
        }
    }

    /// Why the process failed, if it did.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// Log lines and protocol events, with virtual times.
    pub fn log(&self) -> &[(Timestamp, String)] {
        &self.log
    }

    fn fail(&mut self, why: String) -> RegistrarError {
        let tail: Vec<String> = self
            .stderr
            .lock()
            .map(|v| v.iter().rev().take(20).rev().cloned().collect())
            .unwrap_or_default();
        let msg = if tail.is_empty() {
            format!("registrar {}: {why}", self.label)
        } else {
            format!(
                "registrar {}: {why}; its stderr ends with:\n{}",
                self.label,
                tail.join("\n")
            )
        };
        if self.failure.is_none() {
            self.failure = Some(msg.clone());
        }
        RegistrarError::Process(msg)
    }

    /// The process closed its output or its input: it is gone or going. Waits (boundedly) for
    /// it to exit and for its stderr to end, so the report says the same thing every time: a
    /// failed write and an early exit are one failure.
    async fn gone(&mut self) -> RegistrarError {
        let status = tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .ok()
            .and_then(Result::ok);
        if let Some(task) = self.stderr_task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        self.fail(format!(
            "it closed its output{}",
            status
                .map(|s| format!(" and exited ({s})"))
                .unwrap_or_default()
        ))
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    async fn send(&mut self, msg: &ToRegistrar) -> std::io::Result<()> {
        let mut line = serde_json::to_string(msg).map_err(std::io::Error::other)?;
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await?;
        self.stdin.flush().await
    }

    /// Sends a message and runs the exchange until its answer: log lines are kept, operator
    /// requests are carried out on the hosted operator.
    async fn call(
        &mut self,
        msg: &ToRegistrar,
        now: Timestamp,
    ) -> Result<FromRegistrar, RegistrarError> {
        if let Some(f) = &self.failure {
            return Err(RegistrarError::Process(f.clone()));
        }
        self.now = now;
        let want = match msg {
            ToRegistrar::Hello { id, .. }
            | ToRegistrar::RequestToken { id, .. }
            | ToRegistrar::TransferIn { id, .. }
            | ToRegistrar::Tick { id, .. }
            | ToRegistrar::OperatorChange { id, .. }
            | ToRegistrar::Shutdown { id } => *id,
            ToRegistrar::OperatorResult { .. } => {
                return Err(RegistrarError::Process(
                    "an operator result is not a request".into(),
                ));
            }
        };
        if self.send(msg).await.is_err() {
            return Err(self.gone().await);
        }
        loop {
            let line = match tokio::time::timeout(self.timeout, next_line(&mut self.stdout)).await {
                Err(_) => {
                    return Err(self.fail(format!(
                        "no answer to message {want} within {:?}",
                        self.timeout
                    )));
                }
                Ok(Err(LineError::TooLong)) => {
                    return Err(self.fail(format!(
                        "wrote a line longer than {MAX_LINE} bytes: not a protocol message"
                    )));
                }
                Ok(Err(LineError::NotUtf8(e))) => {
                    return Err(self.fail(format!(
                        "wrote something that is not a protocol message (not UTF-8: {e})"
                    )));
                }
                Ok(Err(LineError::Gone)) | Ok(Ok(None)) => return Err(self.gone().await),
                Ok(Ok(Some(l))) => l,
            };
            if line.trim().is_empty() {
                continue;
            }
            let parsed: FromRegistrar = match serde_json::from_str(&line) {
                Ok(m) => m,
                Err(e) => {
                    return Err(self.fail(format!(
                        "wrote something that is not a protocol message ({e}): {}",
                        quote(&line)
                    )));
                }
            };
            match parsed {
                FromRegistrar::Log { level, message } => {
                    let level = level.unwrap_or_else(|| "info".into());
                    self.log
                        .push((now, format!("[{} {level}] {message}", self.label)));
                }
                FromRegistrar::Operator { id, operator, op } => {
                    let result = self.operate(operator, op, now).await;
                    if self.send(&result_message(id, result)).await.is_err() {
                        return Err(self.gone().await);
                    }
                }
                FromRegistrar::Error { id, message } if id == want => {
                    return Err(RegistrarError::Refused(message));
                }
                answer => {
                    let got = answer_id(&answer);
                    if got != Some(want) {
                        return Err(self.fail(format!(
                            "answered message {got:?} while {want} was due: {}",
                            quote(&line)
                        )));
                    }
                    return Ok(answer);
                }
            }
        }
    }

    async fn operate(
        &mut self,
        target: Option<String>,
        op: OperatorOp,
        now: Timestamp,
    ) -> Result<OperatorAnswer, OperatorError> {
        let shared = match &target {
            None => self.operator.clone(),
            Some(label) => self.controls.get(label).cloned().ok_or_else(|| {
                OperatorError::Remote(format!(
                    "operator {label:?} is not one you control (hello's controls: {})",
                    self.controls.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })?,
        };
        let mut o = shared.lock().await;
        let key = |k: &JsonKey| KeyData::try_from(k);
        let keys = |v: &Option<Vec<JsonKey>>| -> Result<Option<Vec<KeyData>>, OperatorError> {
            v.as_ref()
                .map(|v| v.iter().map(KeyData::try_from).collect())
                .transpose()
        };
        let tag = match &target {
            None => format!("[{} operator]", self.label),
            Some(l) => format!("[{} controls operator {l}]", self.label),
        };
        self.log.push((now, format!("{tag} {}", describe(&op))));
        Ok(match op {
            OperatorOp::CreateZone {
                domain,
                records,
                signed,
                algorithm,
            } => {
                o.create_zone(&domain, &records, signed, algorithm).await?;
                OperatorAnswer::default()
            }
            OperatorOp::RemoveZone { domain } => {
                o.remove_zone(&domain).await;
                OperatorAnswer::default()
            }
            OperatorOp::Hosts { domain } => OperatorAnswer {
                hosted: Some(o.hosted().contains(&domain)),
                ..OperatorAnswer::default()
            },
            OperatorOp::Ksk { domain } => OperatorAnswer {
                keys: vec![JsonKey::from(&o.ksk_key_data(&domain).await?)],
                ..OperatorAnswer::default()
            },
            OperatorOp::Zsks { domain } => OperatorAnswer {
                keys: o
                    .zsk_key_data(&domain)
                    .await?
                    .iter()
                    .map(JsonKey::from)
                    .collect(),
                ..OperatorAnswer::default()
            },
            OperatorOp::AddForeignKey {
                domain,
                key: k,
                expires,
            } => {
                let dnskey = operator::dnskey_of(&key(&k)?)?;
                o.add_foreign_key(&domain, dnskey, expires).await?;
                OperatorAnswer::default()
            }
            OperatorOp::RemoveForeignKey { domain, key: k } => {
                let dnskey = operator::dnskey_of(&key(&k)?)?;
                o.remove_foreign_key(&domain, &dnskey).await?;
                OperatorAnswer::default()
            }
            OperatorOp::ForeignKeys { domain } => {
                let f = o.foreign_keys(&domain);
                OperatorAnswer {
                    keys: f
                        .iter()
                        .map(|f| JsonKey::from(&operator::key_data(&f.dnskey)))
                        .collect(),
                    expires: f.iter().map(|f| f.expires).collect(),
                    ..OperatorAnswer::default()
                }
            }
            OperatorOp::MaxTtl { domain } => OperatorAnswer {
                ttl: Some(o.max_ttl(&domain)?),
                ..OperatorAnswer::default()
            },
            OperatorOp::SetSigned { domain, signed } => {
                o.set_signed(&domain, signed).await?;
                OperatorAnswer::default()
            }
            OperatorOp::AddNextKsk { domain } => OperatorAnswer {
                keys: vec![JsonKey::from(&o.add_next_ksk(&domain).await?)],
                ..OperatorAnswer::default()
            },
            OperatorOp::RetireKey { domain, key: k } => {
                o.retire_key(&domain, &key(&k)?).await?;
                OperatorAnswer::default()
            }
            OperatorOp::SetCds {
                domain,
                cds,
                cdnskey,
            } => {
                let (cds, cdnskey) = (keys(&cds)?, keys(&cdnskey)?);
                o.set_cds(&domain, cds.as_deref(), cdnskey.as_deref())
                    .await?;
                OperatorAnswer::default()
            }
            OperatorOp::SetNs { domain, ns } => {
                o.set_ns(&domain, &ns).await?;
                OperatorAnswer::default()
            }
            OperatorOp::SetCsync { domain, on } => {
                o.set_csync(&domain, on).await?;
                OperatorAnswer::default()
            }
            OperatorOp::SetSignals {
                domain,
                hosts,
                cds,
                cdnskey,
            } => {
                let (cds, cdnskey) = (keys(&cds)?, keys(&cdnskey)?);
                o.set_signals(&domain, &hosts, cds.as_deref(), cdnskey.as_deref())
                    .await?;
                OperatorAnswer::default()
            }
        })
    }

    /// A clock tick.
    pub async fn tick(&mut self, now: Timestamp) -> TickReport {
        let id = self.id();
        match self.call(&ToRegistrar::Tick { id, now }, now).await {
            Ok(FromRegistrar::Status {
                next_wake,
                done,
                failed,
                busy,
                ..
            }) => {
                self.last = TickReport {
                    next_wake,
                    done,
                    failed,
                    busy,
                };
            }
            Ok(other) => {
                let why = format!("answered a tick with {}", kind(&other));
                self.fail(why);
                self.last.next_wake = None;
            }
            Err(_) => self.last.next_wake = None,
        }
        self.last.clone()
    }

    /// The registrant asks for a token.
    pub async fn request_token(
        &mut self,
        domain: &str,
        now: Timestamp,
    ) -> Result<String, RegistrarError> {
        let id = self.id();
        match self
            .call(
                &ToRegistrar::RequestToken {
                    id,
                    now,
                    domain: domain.into(),
                },
                now,
            )
            .await?
        {
            FromRegistrar::Token { token, .. } => Ok(token),
            other => Err(self.fail(format!("answered request_token with {}", kind(&other)))),
        }
    }

    /// The registrant asks to move a domain here.
    pub async fn transfer_in(&mut self, request: TransferRequest) -> Result<(), RegistrarError> {
        let id = self.id();
        let now = request.now;
        let msg = ToRegistrar::TransferIn {
            id,
            now,
            domain: request.domain,
            token: request.token,
            records: request.records,
            checks: request.checks,
        };
        match self.call(&msg, now).await? {
            FromRegistrar::Accepted { .. } => Ok(()),
            FromRegistrar::Status {
                next_wake,
                done,
                failed,
                busy,
                ..
            } => {
                self.last = TickReport {
                    next_wake,
                    done,
                    failed,
                    busy,
                };
                Ok(())
            }
            other => Err(self.fail(format!("answered transfer_in with {}", kind(&other)))),
        }
    }

    /// Asks it to exit, then makes sure it does.
    pub async fn shutdown(&mut self) {
        if self.failure.is_none() {
            let id = self.id();
            let _ = self.call(&ToRegistrar::Shutdown { id }, self.now).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        let _ = self.child.start_kill();
    }
}

/// A registrar process: the subject, or a reference registrar run as a process.
impl Registrar for SubjectProcess {
    fn tick(&mut self, now: Timestamp) -> BoxFuture<'_, TickReport> {
        Box::pin(Self::tick(self, now))
    }

    fn request_token<'a>(
        &'a mut self,
        domain: &'a str,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<String, RegistrarError>> {
        Box::pin(Self::request_token(self, domain, now))
    }

    fn transfer_in(
        &mut self,
        request: TransferRequest,
    ) -> BoxFuture<'_, Result<(), RegistrarError>> {
        Box::pin(Self::transfer_in(self, request))
    }

    fn failure(&self) -> Option<&str> {
        Self::failure(self)
    }

    fn is_process(&self) -> bool {
        true
    }

    fn transcript(&self, _label: &str) -> Vec<(Timestamp, String)> {
        // Its log lines already carry its label.
        self.log.clone()
    }

    fn shutdown(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(Self::shutdown(self))
    }

    fn operator_change(
        &mut self,
        change: OperatorChangeRequest,
    ) -> BoxFuture<'_, Result<(), RegistrarError>> {
        Box::pin(Self::operator_change(self, change))
    }
}

#[derive(Debug, Default)]
struct OperatorAnswer {
    keys: Vec<JsonKey>,
    expires: Vec<Option<Timestamp>>,
    hosted: Option<bool>,
    ttl: Option<u32>,
}

fn result_message(id: String, r: Result<OperatorAnswer, OperatorError>) -> ToRegistrar {
    match r {
        Ok(a) => ToRegistrar::OperatorResult {
            id,
            ok: true,
            error: None,
            keys: a.keys,
            expires: a.expires,
            hosted: a.hosted,
            ttl: a.ttl,
        },
        Err(e) => ToRegistrar::OperatorResult {
            id,
            ok: false,
            error: Some(e.to_string()),
            keys: Vec::new(),
            expires: Vec::new(),
            hosted: None,
            ttl: None,
        },
    }
}

fn answer_id(m: &FromRegistrar) -> Option<u64> {
    match m {
        FromRegistrar::Ready { id, .. }
        | FromRegistrar::Token { id, .. }
        | FromRegistrar::Accepted { id }
        | FromRegistrar::Status { id, .. }
        | FromRegistrar::Bye { id }
        | FromRegistrar::Error { id, .. } => Some(*id),
        FromRegistrar::Log { .. } | FromRegistrar::Operator { .. } => None,
    }
}

fn kind(m: &FromRegistrar) -> &'static str {
    match m {
        FromRegistrar::Ready { .. } => "ready",
        FromRegistrar::Token { .. } => "token",
        FromRegistrar::Accepted { .. } => "accepted",
        FromRegistrar::Status { .. } => "status",
        FromRegistrar::Bye { .. } => "bye",
        FromRegistrar::Error { .. } => "error",
        FromRegistrar::Log { .. } => "log",
        FromRegistrar::Operator { .. } => "operator",
    }
}

fn describe(op: &OperatorOp) -> String {
    match op {
        OperatorOp::CreateZone {
            domain,
            signed,
            algorithm,
            ..
        } => format!("create zone {domain} signed={signed} algorithm={algorithm:?}"),
        OperatorOp::RemoveZone { domain } => format!("remove zone {domain}"),
        OperatorOp::Hosts { domain } => format!("hosts {domain}?"),
        OperatorOp::Ksk { domain } => format!("KSK of {domain}?"),
        OperatorOp::Zsks { domain } => format!("ZSKs of {domain}?"),
        OperatorOp::AddForeignKey {
            domain,
            key,
            expires,
        } => format!(
            "publish foreign key {}/{} in {domain} until {expires:?}",
            key.flags, key.alg
        ),
        OperatorOp::RemoveForeignKey { domain, key } => {
            format!("remove foreign key {}/{} from {domain}", key.flags, key.alg)
        }
        OperatorOp::ForeignKeys { domain } => format!("foreign keys of {domain}?"),
        OperatorOp::SetSigned { domain, signed } => format!("set {domain} signed={signed}"),
        OperatorOp::MaxTtl { domain } => format!("largest TTL of {domain}?"),
        OperatorOp::AddNextKsk { domain } => format!("add a next KSK to {domain}"),
        OperatorOp::RetireKey { domain, key } => {
            format!("retire key {}/{} from {domain}", key.flags, key.alg)
        }
        OperatorOp::SetCds {
            domain,
            cds,
            cdnskey,
        } => {
            let n = |v: &Option<Vec<JsonKey>>| match v {
                None => "none".to_string(),
                Some(v) if v.is_empty() => "delete".to_string(),
                Some(v) => format!("{} key(s)", v.len()),
            };
            format!(
                "set CDS ({}) and CDNSKEY ({}) of {domain}",
                n(cds),
                n(cdnskey)
            )
        }
        OperatorOp::SetNs { domain, ns } => format!("set NS of {domain} to {}", ns.join(" ")),
        OperatorOp::SetCsync { domain, on } => format!("set CSYNC of {domain} {on}"),
        OperatorOp::SetSignals {
            domain, hosts, cds, ..
        } => format!(
            "set RFC 9615 signals of {domain} under {} ({})",
            hosts.join(" "),
            match cds {
                None => "withdrawn".to_string(),
                Some(v) => format!("{} key(s)", v.len()),
            }
        ),
    }
}

#[cfg(test)]
mod line_tests {
    use super::*;

    async fn lines_of(bytes: &[u8]) -> Vec<Result<Option<String>, String>> {
        let mut r = BufReader::new(bytes);
        let mut out = Vec::new();
        loop {
            let next = next_line(&mut r).await;
            let end = matches!(next, Ok(None) | Err(_));
            out.push(next.map_err(|e| format!("{e:?}")));
            if end {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn lines_end_at_newlines_and_a_long_or_broken_one_is_refused() {
        assert_eq!(
            lines_of(b"{}\r\n\nlast").await,
            vec![
                Ok(Some("{}".into())),
                Ok(Some(String::new())),
                Ok(Some("last".into())),
                Ok(None)
            ]
        );
        let mut exact = vec![b'x'; MAX_LINE];
        exact.push(b'\n');
        assert_eq!(
            lines_of(&exact).await[0]
                .as_ref()
                .map(|l| l.as_ref().map(String::len)),
            Ok(Some(MAX_LINE))
        );
        let long = vec![b'x'; MAX_LINE + 1];
        assert_eq!(lines_of(&long).await, vec![Err("TooLong".into())]);
        assert!(
            lines_of(b"ok\n\xff\n").await[1]
                .as_ref()
                .unwrap_err()
                .starts_with("NotUtf8")
        );
    }

    #[test]
    fn a_quote_is_short_and_escapes_control_characters() {
        assert_eq!(quote("a\u{0}b\tc"), "a\\0b\tc");
        let q = quote(&"y".repeat(1000));
        assert!(
            q.ends_with("… (1000 bytes)") && q.starts_with(&"y".repeat(QUOTED)),
            "{q}"
        );
    }
}
