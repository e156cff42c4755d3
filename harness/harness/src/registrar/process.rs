//! The registrar's side of the adapter protocol, for the reference registrar:
//! `harness reference-registrar` runs [`run`], so the protocol is exercised by the project's
//! own suite exactly as a registrar under test uses it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use clock::{SystemClock, VirtualClock};
use epp::secdns::KeyData;
use jiff::{SignedDuration, Timestamp};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, Lines};
use tokio::sync::Mutex;

use super::protocol::{
    ControlledOperator, DnsChoice, FromRegistrar, JsonKey, OperatorOp, ToRegistrar, VERSION,
};
use super::reference::{Config, ReferenceRegistrar};
use super::{LocalOperator, OperatorApi, RegistrarError, TransferRequest};
use crate::dnsutil::Directory;
use crate::operations::{Actors, Change, Operation, OperationFault, Signer, SignerApi, SignerInfo};
use crate::scenario::{DenialKind, KeyScheme};
use crate::scenario::{Fault, OperatorSpec};
use crate::world::WorldClock;
use crate::world::backend::BoxFuture;
use crate::world::backend::OperatorBackend;
use crate::world::operator::{Operator, OperatorError};

/// Why `harness reference-registrar` stopped before the harness said goodbye.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// Reading stdin or writing stdout failed.
    #[error("stdin/stdout: {0}")]
    Io(#[from] std::io::Error),
    /// The harness sent something that is not the protocol.
    #[error("{0}")]
    Protocol(String),
    /// `hello` carried something unusable (an address, a certificate file).
    #[error("{0}")]
    Setup(String),
    /// The reference registrar could not start.
    #[error(transparent)]
    Registrar(#[from] RegistrarError),
    /// Its own operator failed.
    #[error(transparent)]
    Operator(#[from] OperatorError),
}

/// stdin and stdout, shared by the message loop and the remote operator.
struct Io {
    lines: Lines<BufReader<Box<dyn AsyncRead + Unpin + Send>>>,
    out: Box<dyn AsyncWrite + Unpin + Send>,
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Io(stdin, stdout)")
    }
}

impl Io {
    /// stdin and stdout. Pipes (as the harness starts a registrar) are read and written on the
    /// runtime's own event loop; tokio's `stdin()` and `stdout()` hand every read and write to
    /// a blocking thread instead, a thread switch per message each way. Anything else (a
    /// file, a terminal) takes that general path.
    fn stdio() -> Self {
        use std::os::fd::AsFd;
        use tokio::net::unix::pipe;
        let fifo = |fd: std::io::Result<std::os::fd::OwnedFd>| {
            fd.ok().map(std::fs::File::from).filter(|f| {
                use std::os::unix::fs::FileTypeExt;
                f.metadata().is_ok_and(|m| m.file_type().is_fifo())
            })
        };
        let input: Box<dyn AsyncRead + Unpin + Send> =
            match fifo(std::io::stdin().as_fd().try_clone_to_owned())
                .and_then(|f| pipe::Receiver::from_file(f).ok())
            {
                Some(rx) => Box::new(rx),
                None => Box::new(tokio::io::stdin()),
            };
        let out: Box<dyn AsyncWrite + Unpin + Send> =
            match fifo(std::io::stdout().as_fd().try_clone_to_owned())
                .and_then(|f| pipe::Sender::from_file(f).ok())
            {
                Some(tx) => Box::new(tx),
                None => Box::new(tokio::io::stdout()),
            };
        Self {
            lines: BufReader::new(input).lines(),
            out,
        }
    }

    async fn send(&mut self, m: &FromRegistrar) -> Result<(), ProcessError> {
        let mut line = serde_json::to_string(m).map_err(std::io::Error::other)?;
        line.push('\n');
        self.out.write_all(line.as_bytes()).await?;
        Ok(self.out.flush().await?)
    }

    async fn recv(&mut self) -> Result<Option<ToRegistrar>, ProcessError> {
        loop {
            match self.lines.next_line().await? {
                None => return Ok(None),
                Some(l) if l.trim().is_empty() => continue,
                Some(l) => {
                    return serde_json::from_str(&l)
                        .map(Some)
                        .map_err(|e| ProcessError::Protocol(format!("bad message {l:?}: {e}")));
                }
            }
        }
    }
}

/// The hosted operator, driven through `operator` requests.
#[derive(Debug)]
struct RemoteOperator {
    io: Arc<Mutex<Io>>,
    /// Which operator the requests are for: none for its own hosted one, a label of hello's
    /// `controls` in the operator role.
    target: Option<String>,
    ns: Vec<String>,
    algorithm: u8,
    next: u64,
}

struct OpResult {
    keys: Vec<KeyData>,
    expires: Vec<Option<Timestamp>>,
    hosted: Option<bool>,
    ttl: Option<u32>,
}

impl RemoteOperator {
    async fn request(&mut self, op: OperatorOp) -> Result<OpResult, OperatorError> {
        self.next += 1;
        let id = match &self.target {
            None => format!("op-{}", self.next),
            Some(label) => format!("ctl-{label}-{}", self.next),
        };
        let remote = |e: ProcessError| OperatorError::Remote(e.to_string());
        let mut io = self.io.lock().await;
        io.send(&FromRegistrar::Operator {
            id: id.clone(),
            operator: self.target.clone(),
            op,
        })
        .await
        .map_err(remote)?;
        match io.recv().await.map_err(remote)? {
            Some(ToRegistrar::OperatorResult {
                id: got,
                ok,
                error,
                keys,
                expires,
                hosted,
                ttl,
            }) if got == id => {
                if !ok {
                    return Err(OperatorError::Remote(
                        error.unwrap_or_else(|| "the operator refused".into()),
                    ));
                }
                Ok(OpResult {
                    keys: keys
                        .iter()
                        .map(KeyData::try_from)
                        .collect::<Result<_, _>>()?,
                    expires,
                    hosted,
                    ttl,
                })
            }
            other => Err(OperatorError::Remote(format!(
                "expected the result of {id}, got {other:?}"
            ))),
        }
    }
}

/// A controlled operator (hello's `controls`) behind the reference controller's
/// [`SignerApi`], driven through `operator` requests that name it.
#[derive(Debug)]
struct RemoteSigner(Mutex<RemoteOperator>);

impl RemoteSigner {
    async fn call(&self, op: OperatorOp) -> Result<OpResult, String> {
        self.0
            .lock()
            .await
            .request(op)
            .await
            .map_err(|e| e.to_string())
    }

    /// An operation that answers nothing but success.
    fn unit(&self, op: OperatorOp) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.call(op).await.map(|_| ()) })
    }

    async fn keys(&self, op: OperatorOp) -> Result<Vec<KeyData>, String> {
        Ok(self.call(op).await?.keys)
    }
}

fn json(keys: &[KeyData]) -> Vec<JsonKey> {
    keys.iter().map(JsonKey::from).collect()
}

fn text(e: OperatorError) -> String {
    e.to_string()
}

/// The operations a registrar's own operator has too go through [`RemoteOperator`]'s
/// [`OperatorApi`]: one encoding of each request.
impl SignerApi for RemoteSigner {
    fn create_zone<'a>(
        &'a self,
        domain: &'a str,
        records: &'a [String],
        signed: bool,
        algorithm: Option<u8>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut op = self.0.lock().await;
            op.create_zone(domain, records, signed, algorithm)
                .await
                .map_err(text)
        })
    }

    fn remove_zone<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { self.0.lock().await.remove_zone(domain).await.map_err(text) })
    }

    fn ksk<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<KeyData, String>> {
        Box::pin(async move {
            self.keys(OperatorOp::Ksk {
                domain: domain.into(),
            })
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| format!("no KSK for {domain}"))
        })
    }

    fn zsks<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<Vec<KeyData>, String>> {
        Box::pin(async move { self.0.lock().await.zsks(domain).await.map_err(text) })
    }

    fn add_foreign_key<'a>(
        &'a self,
        domain: &'a str,
        key: &'a KeyData,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut op = self.0.lock().await;
            op.add_foreign_key(domain, key, None).await.map_err(text)
        })
    }

    fn remove_foreign_key<'a>(
        &'a self,
        domain: &'a str,
        key: &'a KeyData,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut op = self.0.lock().await;
            op.remove_foreign_key(domain, key).await.map_err(text)
        })
    }

    fn set_signed<'a>(
        &'a self,
        domain: &'a str,
        signed: bool,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut op = self.0.lock().await;
            op.set_signed(domain, signed).await.map_err(text)
        })
    }

    fn add_next_ksk<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<KeyData, String>> {
        Box::pin(async move {
            self.keys(OperatorOp::AddNextKsk {
                domain: domain.into(),
            })
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| format!("no next KSK for {domain}"))
        })
    }

    fn retire_key<'a>(
        &'a self,
        domain: &'a str,
        key: &'a KeyData,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.unit(OperatorOp::RetireKey {
            domain: domain.into(),
            key: JsonKey::from(key),
        })
    }

    fn set_cds<'a>(
        &'a self,
        domain: &'a str,
        cds: Option<&'a [KeyData]>,
        cdnskey: Option<&'a [KeyData]>,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.unit(OperatorOp::SetCds {
            domain: domain.into(),
            cds: cds.map(json),
            cdnskey: cdnskey.map(json),
        })
    }

    fn set_ns<'a>(
        &'a self,
        domain: &'a str,
        ns: &'a [String],
    ) -> BoxFuture<'a, Result<(), String>> {
        self.unit(OperatorOp::SetNs {
            domain: domain.into(),
            ns: ns.to_vec(),
        })
    }

    fn set_csync<'a>(&'a self, domain: &'a str, on: bool) -> BoxFuture<'a, Result<(), String>> {
        self.unit(OperatorOp::SetCsync {
            domain: domain.into(),
            on,
        })
    }

    fn max_ttl<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<u32, String>> {
        Box::pin(async move {
            self.call(OperatorOp::MaxTtl {
                domain: domain.into(),
            })
            .await?
            .ttl
            .ok_or_else(|| format!("no TTL for {domain}"))
        })
    }

    fn set_signals<'a>(
        &'a self,
        domain: &'a str,
        hosts: &'a [String],
        cds: Option<&'a [KeyData]>,
        cdnskey: Option<&'a [KeyData]>,
    ) -> BoxFuture<'a, Result<(), String>> {
        self.unit(OperatorOp::SetSignals {
            domain: domain.into(),
            hosts: hosts.to_vec(),
            cds: cds.map(json),
            cdnskey: cdnskey.map(json),
        })
    }
}

/// The operator role in this process: the reference controller's procedures
/// ([`Operation`]) on the operators hello's `controls` names, each reached by `operator`
/// requests that name it.
#[derive(Debug)]
struct Controller {
    io: Arc<Mutex<Io>>,
    controls: Vec<ControlledOperator>,
    parent: Option<SocketAddr>,
    scale: u32,
    operations: Vec<Operation>,
    /// How many log lines of each procedure were sent already.
    sent: Vec<usize>,
}

impl Controller {
    fn signer(&self, label: &str) -> Result<Signer, String> {
        let c = self
            .controls
            .iter()
            .find(|c| c.label == label)
            .ok_or_else(|| format!("operator {label:?} is not in hello's controls"))?;
        Ok(Signer {
            info: SignerInfo {
                label: c.label.clone(),
                ns: c.ns.clone(),
                ttl_dnskey: c.ttl_dnskey,
                ttl_ns: c.ttl_ns,
                signals: c.signals,
            },
            api: Arc::new(RemoteSigner(Mutex::new(RemoteOperator {
                io: self.io.clone(),
                target: Some(c.label.clone()),
                ns: c.ns.clone(),
                algorithm: c.algorithm,
                next: 0,
            }))),
        })
    }

    /// Takes an `operator_change`.
    #[allow(
        clippy::too_many_arguments,
        reason = "the message's fields, passed as they came"
    )]
    fn start(
        &mut self,
        now: Timestamp,
        domain: String,
        change: &str,
        signer: &str,
        other: Option<&str>,
        records: Vec<String>,
        fault: Option<&str>,
    ) -> Result<(), String> {
        let change = Change::parse(change).ok_or_else(|| format!("unknown change {change:?}"))?;
        let fault = match fault {
            None => None,
            Some(f) => {
                Some(OperationFault::parse(f).ok_or_else(|| format!("unknown fault {f:?}"))?)
            }
        };
        let parent = self.parent.ok_or("no parent server in hello")?;
        let op = self.signer(signer)?;
        let other = other.map(|o| self.signer(o)).transpose()?;
        self.operations.push(Operation::new(
            &domain,
            change,
            fault,
            Actors {
                operator: 0,
                op,
                other,
                records,
                parent,
            },
            self.scale,
            now,
        ));
        Ok(())
    }

    /// Ticks what is due and adds where each procedure stands to the registrar's report.
    async fn tick(&mut self, now: Timestamp, r: &mut crate::registrar::TickReport) {
        for o in &mut self.operations {
            if o.wake().is_some_and(|w| w <= now) {
                o.tick(now).await;
            }
        }
        for o in &self.operations {
            if o.done_at.is_some() {
                r.done.push(o.domain.clone());
            } else if let Some(why) = &o.failure {
                r.failed.push((o.domain.clone(), why.clone()));
            } else {
                r.busy.push(o.domain.clone());
            }
            if let Some(w) = o.wake() {
                r.next_wake = Some(r.next_wake.map_or(w, |x| x.min(w)));
            }
        }
    }

    /// Its procedures' log lines not yet sent, marked sent.
    fn new_lines(&mut self) -> Vec<String> {
        self.sent.resize(self.operations.len(), 0);
        let mut out = Vec::new();
        for (o, sent) in self.operations.iter().zip(self.sent.iter_mut()) {
            out.extend(
                o.log
                    .iter()
                    .skip(*sent)
                    .map(|(_, l)| format!("[controller] {l}")),
            );
            *sent = o.log.len();
        }
        out
    }
}

impl OperatorApi for RemoteOperator {
    fn ns_names(&self) -> Vec<String> {
        self.ns.clone()
    }

    fn algorithm(&self) -> u8 {
        self.algorithm
    }

    async fn create_zone(
        &mut self,
        domain: &str,
        records: &[String],
        signed: bool,
        algorithm: Option<u8>,
    ) -> Result<(), OperatorError> {
        self.request(OperatorOp::CreateZone {
            domain: domain.into(),
            records: records.to_vec(),
            signed,
            algorithm,
        })
        .await
        .map(|_| ())
    }

    async fn remove_zone(&mut self, domain: &str) -> Result<(), OperatorError> {
        self.request(OperatorOp::RemoveZone {
            domain: domain.into(),
        })
        .await
        .map(|_| ())
    }

    async fn hosts(&mut self, domain: &str) -> Result<bool, OperatorError> {
        Ok(self
            .request(OperatorOp::Hosts {
                domain: domain.into(),
            })
            .await?
            .hosted
            .unwrap_or(false))
    }

    async fn ksk(&mut self, domain: &str) -> Result<KeyData, OperatorError> {
        self.request(OperatorOp::Ksk {
            domain: domain.into(),
        })
        .await?
        .keys
        .into_iter()
        .next()
        .ok_or_else(|| OperatorError::Remote("no KSK".into()))
    }

    async fn zsks(&mut self, domain: &str) -> Result<Vec<KeyData>, OperatorError> {
        Ok(self
            .request(OperatorOp::Zsks {
                domain: domain.into(),
            })
            .await?
            .keys)
    }

    async fn add_foreign_key(
        &mut self,
        domain: &str,
        key: &KeyData,
        expires: Option<Timestamp>,
    ) -> Result<(), OperatorError> {
        self.request(OperatorOp::AddForeignKey {
            domain: domain.into(),
            key: JsonKey::from(key),
            expires,
        })
        .await
        .map(|_| ())
    }

    async fn remove_foreign_key(
        &mut self,
        domain: &str,
        key: &KeyData,
    ) -> Result<(), OperatorError> {
        self.request(OperatorOp::RemoveForeignKey {
            domain: domain.into(),
            key: JsonKey::from(key),
        })
        .await
        .map(|_| ())
    }

    async fn foreign_keys(
        &mut self,
        domain: &str,
    ) -> Result<Vec<(KeyData, Option<Timestamp>)>, OperatorError> {
        let r = self
            .request(OperatorOp::ForeignKeys {
                domain: domain.into(),
            })
            .await?;
        let mut expires = r.expires.into_iter();
        Ok(r.keys
            .into_iter()
            .map(|k| (k, expires.next().flatten()))
            .collect())
    }

    async fn set_signed(&mut self, domain: &str, signed: bool) -> Result<(), OperatorError> {
        self.request(OperatorOp::SetSigned {
            domain: domain.into(),
            signed,
        })
        .await
        .map(|_| ())
    }

    async fn max_ttl(&mut self, domain: &str) -> Result<u32, OperatorError> {
        self.request(OperatorOp::MaxTtl {
            domain: domain.into(),
        })
        .await?
        .ttl
        .ok_or_else(|| OperatorError::Remote("max_ttl answered without a ttl".into()))
    }
}

/// Runs the reference registrar as an adapter-protocol process on stdin/stdout. With
/// `own_dns`, it runs its own DNS operator and servers instead of the hosted one (and
/// announces them), which exercises the other half of the protocol.
pub async fn run(own_dns: bool) -> Result<(), ProcessError> {
    let io = Arc::new(Mutex::new(Io::stdio()));
    let hello = io
        .lock()
        .await
        .recv()
        .await?
        .ok_or_else(|| ProcessError::Protocol("no hello".into()))?;
    let ToRegistrar::Hello {
        id,
        protocol,
        now,
        label,
        tld,
        epp,
        dns,
        operator,
        domains,
        fault,
        poll_interval,
        relay_publish_delay,
        clock: clock_setup,
        controls,
        ..
    } = hello
    else {
        return Err(ProcessError::Protocol(format!(
            "the first message must be hello, got {hello:?}"
        )));
    };
    if protocol != VERSION {
        let message =
            format!("protocol {protocol} is not supported (this registrar speaks {VERSION})");
        io.lock()
            .await
            .send(&FromRegistrar::Error {
                id,
                message: message.clone(),
            })
            .await?;
        return Err(ProcessError::Protocol(message));
    }
    let tls = mock_registry::tls::client_config_from_files(
        Path::new(&epp.ca_file),
        Path::new(&epp.cert_file),
        Path::new(&epp.key_file),
    )
    .map_err(|e| ProcessError::Setup(e.to_string()))?;
    let directory_parent: Option<SocketAddr> = Some(
        dns.parent
            .parse()
            .map_err(|e| ProcessError::Setup(format!("parent address: {e}")))?,
    );
    let mut directory = Directory {
        parent: directory_parent,
        hosts: BTreeMap::new(),
    };
    for (h, a) in &dns.hosts {
        directory.hosts.insert(
            h.clone(),
            a.parse::<SocketAddr>()
                .map_err(|e| ProcessError::Setup(format!("{h}: {e}")))?,
        );
    }
    let cfg = |directory: Directory| -> Result<Config, ProcessError> {
        Ok(Config {
            clid: epp.clid.clone(),
            password: epp.password.clone(),
            epp: epp
                .address
                .parse()
                .map_err(|e| ProcessError::Setup(format!("EPP address: {e}")))?,
            tls: Arc::new(tls.clone()),
            tld: tld.clone(),
            fault: fault
                .as_deref()
                .map(str::parse::<Fault>)
                .transpose()
                .map_err(ProcessError::Setup)?,
            directory,
            poll_interval: SignedDuration::from_secs(
                poll_interval.unwrap_or(crate::scenario::DEFAULT_POLL_INTERVAL) as i64,
            ),
            time_scale: clock_setup.time_scale.max(1),
            relay_publish_delay: SignedDuration::from_secs(
                i64::try_from(relay_publish_delay.unwrap_or(0)).unwrap_or(i64::MAX),
            ),
        })
    };
    // Zones it sponsors at the start live on the hosted operator: it must keep using it.
    if own_dns && domains.is_empty() {
        // On the wall clock its servers sign on the system clock, with the scaled TTLs.
        let wall = clock_setup.mode == "wall";
        let clock = if wall {
            WorldClock::Wall(SystemClock)
        } else {
            WorldClock::Virtual(VirtualClock::new(now))
        };
        let ttl = |t: u32, default: u32| if wall && t > 0 { t } else { default };
        let t = &clock_setup.ttls;
        let lower = label.to_ascii_lowercase();
        let spec = OperatorSpec {
            algorithm: operator.algorithm,
            keys: KeyScheme::KskZsk,
            denial: DenialKind::Nsec,
            nsec3_iterations: 0,
            nsec3_salt: Vec::new(),
            nsec3_opt_out: false,
            ttl_dnskey: ttl(t.dnskey, 3600),
            ttl_ns: ttl(t.ns, 3600),
            ttl_data: ttl(t.data, 3600),
            ttl_negative: ttl(t.negative, 900),
            ns: vec![
                format!("ns1.own-{lower}.example"),
                format!("ns2.own-{lower}.example"),
            ],
            software: crate::scenario::Software::Builtin,
            secondary: None,
            signals: false,
        };
        // Index 3: fresh keys, never a fixture another operator of the world uses.
        let op = Operator::start(
            &label,
            spec.clone(),
            3,
            clock.shared(),
            vec![Timestamp::now()],
            SignedDuration::from_hours(21 * 24),
            1,
        )
        .await?;
        let addr = op.addr();
        let servers = spec
            .ns
            .iter()
            .map(|n| (n.clone(), addr.to_string()))
            .collect();
        for n in &spec.ns {
            directory.hosts.insert(n.clone(), addr);
        }
        let op: Box<dyn OperatorBackend> = Box::new(op);
        let op = Arc::new(Mutex::new(op));
        let reg = ReferenceRegistrar::connect(cfg(directory)?, LocalOperator(op.clone())).await?;
        io.lock()
            .await
            .send(&FromRegistrar::Ready {
                id,
                dns: DnsChoice::Own { servers },
                next_wake: None,
            })
            .await?;
        let controller = Controller {
            io: io.clone(),
            controls: controls.clone(),
            parent: directory_parent,
            scale: clock_setup.time_scale.max(1),
            operations: Vec::new(),
            sent: Vec::new(),
        };
        serve(reg, io, controller, |now| {
            let op = op.clone();
            let clock = clock.clone();
            async move {
                if let WorldClock::Virtual(c) = &clock {
                    let _ = c.set(now);
                }
                let mut o = op.lock().await;
                o.publish(now).await.map(|_| ()).map_err(ProcessError::from)
            }
        })
        .await
    } else {
        let remote = RemoteOperator {
            io: io.clone(),
            target: None,
            ns: operator.ns.clone(),
            algorithm: operator.algorithm,
            next: 0,
        };
        let reg = ReferenceRegistrar::connect(cfg(directory)?, remote).await?;
        io.lock()
            .await
            .send(&FromRegistrar::Ready {
                id,
                dns: DnsChoice::Hosted,
                next_wake: None,
            })
            .await?;
        let controller = Controller {
            io: io.clone(),
            controls,
            parent: directory_parent,
            scale: clock_setup.time_scale.max(1),
            operations: Vec::new(),
            sent: Vec::new(),
        };
        serve(reg, io, controller, |_| async { Ok(()) }).await
    }
}

/// The message loop: one answer per harness message, `after` run once the answer is known.
async fn serve<O, F, Fut>(
    mut reg: ReferenceRegistrar<O>,
    io: Arc<Mutex<Io>>,
    mut controller: Controller,
    after: F,
) -> Result<(), ProcessError>
where
    O: OperatorApi,
    F: Fn(Timestamp) -> Fut,
    Fut: std::future::Future<Output = Result<(), ProcessError>>,
{
    let mut logged = 0;
    loop {
        let msg = io.lock().await.recv().await?;
        let Some(msg) = msg else { return Ok(()) };
        let (answer, now) = match msg {
            ToRegistrar::RequestToken { id, now, domain } => (
                match reg.request_token(&domain, now).await {
                    Ok(token) => FromRegistrar::Token { id, token },
                    Err(e) => FromRegistrar::Error {
                        id,
                        message: e.to_string(),
                    },
                },
                Some(now),
            ),
            ToRegistrar::TransferIn {
                id,
                now,
                domain,
                token,
                records,
                checks,
            } => {
                reg.transfer_in(TransferRequest {
                    domain,
                    token,
                    records,
                    checks,
                    now,
                });
                (FromRegistrar::Accepted { id }, Some(now))
            }
            ToRegistrar::Tick { id, now } => {
                let mut r = reg.tick(now).await;
                controller.tick(now, &mut r).await;
                (
                    FromRegistrar::Status {
                        id,
                        next_wake: r.next_wake,
                        done: r.done,
                        failed: r.failed,
                        busy: r.busy,
                    },
                    Some(now),
                )
            }
            ToRegistrar::OperatorChange {
                id,
                now,
                domain,
                change,
                signer,
                other,
                records,
                fault,
            } => (
                match controller.start(
                    now,
                    domain,
                    &change,
                    &signer,
                    other.as_deref(),
                    records,
                    fault.as_deref(),
                ) {
                    Ok(()) => FromRegistrar::Accepted { id },
                    Err(message) => FromRegistrar::Error { id, message },
                },
                Some(now),
            ),
            ToRegistrar::Shutdown { id } => {
                io.lock().await.send(&FromRegistrar::Bye { id }).await?;
                return Ok(());
            }
            ToRegistrar::Hello { id, .. } => (
                FromRegistrar::Error {
                    id,
                    message: "already said hello".into(),
                },
                None,
            ),
            ToRegistrar::OperatorResult { id, .. } => {
                io.lock()
                    .await
                    .send(&FromRegistrar::Log {
                        level: Some("warn".into()),
                        message: format!("unexpected operator result {id}"),
                    })
                    .await?;
                continue;
            }
        };
        if let Some(now) = now {
            after(now).await?;
        }
        let mut io = io.lock().await;
        for (_, line) in reg.log().iter().skip(logged) {
            io.send(&FromRegistrar::Log {
                level: Some("info".into()),
                message: line.clone(),
            })
            .await?;
        }
        logged = reg.log().len();
        for line in controller.new_lines() {
            io.send(&FromRegistrar::Log {
                level: Some("info".into()),
                message: line,
            })
            .await?;
        }
        io.send(&answer).await?;
    }
}
