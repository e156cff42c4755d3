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
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines, Stdin, Stdout};
use tokio::sync::Mutex;

use super::protocol::{DnsChoice, FromRegistrar, JsonKey, OperatorOp, ToRegistrar, VERSION};
use super::reference::{Config, ReferenceRegistrar};
use super::{LocalOperator, OperatorApi, RegistrarError, TransferRequest};
use crate::dnsutil::Directory;
use crate::scenario::{DenialKind, KeyScheme};
use crate::scenario::{Fault, OperatorSpec};
use crate::world::WorldClock;
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
#[derive(Debug)]
struct Io {
    lines: Lines<BufReader<Stdin>>,
    out: Stdout,
}

impl Io {
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
        let id = format!("op-{}", self.next);
        let remote = |e: ProcessError| OperatorError::Remote(e.to_string());
        let mut io = self.io.lock().await;
        io.send(&FromRegistrar::Operator { id: id.clone(), op })
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
    let io = Arc::new(Mutex::new(Io {
        lines: BufReader::new(tokio::io::stdin()).lines(),
        out: tokio::io::stdout(),
    }));
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
    let mut directory = Directory {
        parent: Some(
            dns.parent
                .parse()
                .map_err(|e| ProcessError::Setup(format!("parent address: {e}")))?,
        ),
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
        serve(reg, io, |now| {
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
        serve(reg, io, |_| async { Ok(()) }).await
    }
}

/// The message loop: one answer per harness message, `after` run once the answer is known.
async fn serve<O, F, Fut>(
    mut reg: ReferenceRegistrar<O>,
    io: Arc<Mutex<Io>>,
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
                let r = reg.tick(now).await;
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
        io.send(&answer).await?;
    }
}
