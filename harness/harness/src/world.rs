//! One isolated, signed Internet per scenario, on loopback (design.md §2): a test PKI, the
//! mock registry on real TLS, the root and TLD it publishes on its own DNS server, and one DNS
//! operator per registrar. Everything reads one [`WorldClock`]: virtual (the runner jumps it
//! from deadline to deadline) or the system clock (wall-clock mode: real servers sign and
//! serve in real time, the scenario's durations divided by a time scale).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex as StdMutex};

use clock::{Clock, SharedClock, SystemClock, VirtualClock};
use dnssec::server::{DnsServer, DnsServerConfig};
use epp::contact::{self, Address, PostalInfo, PostalType};
use epp::domain::{self, ContactType, DomainContact, NsList};
use epp::message::{Command, CommandExtension, CommandKind, Create, ResData};
use epp::secdns::{DsOrKey, DsOrKeySet};
use epp::{AuthInfo, host};
use jiff::Timestamp;
use mock_registry::feedback::ProbeOptions;
use mock_registry::pki::Pki;
use mock_registry::publish::{PublishConfig, PublishKeys, PublishTtls, Publisher, TrustAnchor};
use mock_registry::registry::{Policy, ReceiptPolicy, Registry, Services};
use mock_registry::server::{EppServer, ServerConfig, SharedRegistry};
use tempfile::TempDir;
use tokio::sync::Mutex;

use crate::dnsutil::Directory;
use crate::error::{Context, HarnessError};
use crate::scenario::{ReceiptFault, Scenario};

pub mod backend;
pub mod operator;
pub mod real;

use backend::{OperatorBackend, SharedOperator};
use operator::Operator;
use real::RealOperator;

/// How time passes in a world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// A virtual clock the runner jumps from deadline to deadline: nothing sleeps.
    #[default]
    Virtual,
    /// The system clock, every duration of the scenario divided by `scale`.
    Wall {
        /// The time scale (e.g. 2160: three days in two minutes).
        scale: u32,
    },
}

impl ClockMode {
    /// The default time scale of wall-clock mode: three days of TTL waiting in two minutes.
    pub const DEFAULT_SCALE: u32 = 2160;

    /// `virtual` or `wall`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Virtual => "virtual",
            Self::Wall { .. } => "wall",
        }
    }

    /// Whether it is the system clock.
    pub fn is_wall(self) -> bool {
        matches!(self, Self::Wall { .. })
    }

    /// The time scale (1 on the virtual clock).
    pub fn scale(self) -> u32 {
        match self {
            Self::Virtual => 1,
            Self::Wall { scale } => scale.max(1),
        }
    }
}

/// The one clock of a world.
#[derive(Debug, Clone)]
pub enum WorldClock {
    /// Moved by the runner only.
    Virtual(VirtualClock),
    /// Real time.
    Wall(SystemClock),
}

impl Clock for WorldClock {
    fn now(&self) -> Timestamp {
        match self {
            Self::Virtual(c) => c.now(),
            Self::Wall(c) => c.now(),
        }
    }
}

impl WorldClock {
    /// Brings the world to `t`: the virtual clock jumps there, on the wall clock the runner
    /// sleeps until then. Nothing sleeps in virtual mode.
    pub async fn advance_to(&self, t: Timestamp) -> Result<(), HarnessError> {
        match self {
            Self::Virtual(c) => c.set(t).context("the virtual clock"),
            Self::Wall(c) => {
                let left = t.duration_since(c.now());
                if let Ok(left) = std::time::Duration::try_from(left)
                    && !left.is_zero()
                {
                    tokio::time::sleep(left).await;
                }
                Ok(())
            }
        }
    }

    /// Whether it is the system clock.
    pub fn is_wall(&self) -> bool {
        matches!(self, Self::Wall(_))
    }

    /// The same clock behind the trait object every server takes.
    pub fn shared(&self) -> SharedClock {
        match self {
            Self::Virtual(c) => Arc::new(c.clone()),
            Self::Wall(c) => Arc::new(*c),
        }
    }
}

/// A running world.
#[derive(Debug)]
pub struct World {
    /// The scenario it was built for.
    pub scenario: Arc<Scenario>,
    /// The one clock.
    pub clock: WorldClock,
    /// Which clock, and the time scale.
    pub mode: ClockMode,
    /// PKI, anchors and logs live here while the world runs.
    pub dir: TempDir,
    /// The test PKI.
    pub pki: Pki,
    /// The registry.
    pub registry: SharedRegistry,
    /// Its EPP server.
    pub epp: EppServer,
    /// The registry's root and TLD publication.
    pub publisher: Publisher,
    /// The server answering for root and TLD.
    pub parent: DnsServer,
    /// The root trust anchor.
    pub anchor: TrustAnchor,
    /// One operator per registrar, by registrar index.
    pub operators: Vec<SharedOperator>,
    /// Where every name server answers.
    pub directory: Directory,
    /// The wall-clock instant signatures also cover.
    pub wall_now: Timestamp,
}

/// Builds worlds.
impl World {
    /// Starts everything a scenario needs and sets up its domains as they are at the start.
    pub async fn build(scenario: Arc<Scenario>, mode: ClockMode) -> Result<Self, HarnessError> {
        scenario
            .check_clock(mode.is_wall())
            .map_err(|e| HarnessError::failed(e.to_string()))?;
        // On the wall clock the scenario's durations are divided and it starts now.
        let scenario = match mode {
            ClockMode::Virtual => scenario,
            ClockMode::Wall { scale } => {
                let now = Timestamp::now();
                let start = Timestamp::from_second(now.as_second()).context("the wall clock")?;
                Arc::new(scenario.for_wall_clock(scale, start))
            }
        };
        let s = &scenario;
        let dir = tempfile::tempdir().context("temporary directory")?;
        let clids: Vec<&str> = s.registrars.iter().map(|r| r.clid.as_str()).collect();
        let pki = Pki::init(dir.path(), &clids).context("PKI")?;
        let clock = match mode {
            ClockMode::Virtual => WorldClock::Virtual(VirtualClock::new(s.world.start)),
            ClockMode::Wall { .. } => WorldClock::Wall(SystemClock),
        };
        let shared = clock.shared();
        let wall_now = Timestamp::now();

        let policy = Policy {
            tld: s.world.tld.clone(),
            keyrelay_receipts: s.world.keyrelay_receipts.map(|r| ReceiptPolicy {
                probe_interval: r.probe_interval,
                max_watch: r.max_watch,
                ..ReceiptPolicy::default()
            }),
            ..Policy::default()
        };
        let mut registry = Registry::new(policy, shared.clone(), s.world.seed);
        for r in pki.registrars() {
            registry.add_registrar(r.clid().as_str(), r.password().expose());
        }
        let registry = Arc::new(StdMutex::new(registry));
        let tls = Arc::new(mock_registry::tls::server_config(&pki).context("TLS")?);
        let epp = EppServer::start(loopback(), tls, registry.clone(), server_config(s))
            .await
            .context("EPP server")?;

        let mut config = PublishConfig::new(&s.world.tld).context("publication")?;
        config.ttls = PublishTtls {
            ns: s.world.ttl_ns,
            ds: s.world.ttl_ds,
            dnskey: s.world.ttl_dnskey,
            soa: s.world.ttl_soa,
            negative: s.world.ttl_soa.min(900),
            glue: s.world.ttl_ns,
        };
        config.delay = s.world.propagation_delay;
        config.delay_jitter = s.world.chaos.propagation_jitter;
        config.jitter_seed = s.world.seed;
        config.signing.validity = s.world.signature_validity;
        config.signing.also_valid_at = vec![wall_now];
        // The registry's own fixture keys: the same every run, and never an operator's (no
        // key may serve zones of different owners, or chains could validate by accident).
        let mut publisher = Publisher::new(config, PublishKeys::registry_fixtures(), s.world.start)
            .context("publisher")?;
        let anchor = publisher.trust_anchor().context("trust anchor")?;
        let parent = DnsServer::start(loopback(), shared.clone(), DnsServerConfig::default())
            .await
            .context("parent DNS server")?;

        let mut operators = Vec::new();
        let mut directory = Directory {
            parent: Some(parent.local_addr()),
            ..Directory::default()
        };
        for (i, r) in s.registrars.iter().enumerate() {
            let what = || format!("operator {} ({})", r.label, r.operator.software);
            let op: Box<dyn OperatorBackend> = if r.operator.software.is_real() {
                Box::new(
                    RealOperator::start(&r.label, r.operator.clone())
                        .await
                        .with_context(what)?,
                )
            } else {
                Box::new(
                    Operator::start(
                        &r.label,
                        r.operator.clone(),
                        i,
                        shared.clone(),
                        vec![wall_now],
                        s.world.signature_validity,
                        s.world.seed,
                    )
                    .await
                    .with_context(what)?,
                )
            };
            for (addr, hosts) in op.servers() {
                for ns in hosts {
                    directory.hosts.insert(ns, addr);
                }
            }
            operators.push(Arc::new(Mutex::new(op)));
        }

        // The starting state: each domain hosted and delegated as the scenario says.
        for (di, d) in s.domains.iter().enumerate() {
            let sponsor = &s.registrars[d.sponsor];
            let mut op = operators[d.sponsor].lock().await;
            let setup = || format!("setting up {}", d.name);
            op.create_zone(&d.name, &d.records, d.signed, None)
                .await
                .with_context(setup)?;
            op.publish(s.world.start).await.with_context(setup)?;
            let ksk = if d.signed {
                Some(op.ksk_key_data(&d.name).await.with_context(setup)?)
            } else {
                None
            };
            let ns = op.ns_names().to_vec();
            drop(op);
            let mut reg = registry
                .lock()
                .map_err(|_| HarnessError::failed("registry lock poisoned"))?;
            setup_domain(&mut reg, &sponsor.clid, &d.name, &ns, ksk, di, s.world.seed)?;
        }
        {
            let reg = registry
                .lock()
                .map_err(|_| HarnessError::failed("registry lock poisoned"))?;
            // The starting state is published at once, not after the delay (and its jitter).
            let back = s
                .world
                .start
                .checked_sub(s.world.propagation_delay + s.world.chaos.propagation_jitter)
                .unwrap_or(s.world.start);
            publisher.observe(&reg, back);
        }
        publisher.tick(s.world.start).context("publication")?;
        for z in publisher.zones() {
            parent.set_zone(z);
        }
        Ok(Self {
            scenario,
            clock,
            mode,
            dir,
            pki,
            registry,
            epp,
            publisher,
            parent,
            anchor,
            operators,
            directory,
            wall_now,
        })
    }

    /// The registrar index for a clID.
    pub fn registrar_index(&self, clid: &str) -> Option<usize> {
        self.scenario.registrars.iter().position(|r| r.clid == clid)
    }

    /// The current sponsor's index of a domain.
    pub fn sponsor_of(&self, domain: &str) -> Option<usize> {
        let clid = self.registry.lock().ok()?.domain(domain)?.sponsor.clone();
        self.registrar_index(&clid)
    }

    /// The domain's current token.
    pub fn token_of(&self, domain: &str) -> Option<String> {
        Some(self.registry.lock().ok()?.domain(domain)?.token.clone())
    }

    /// A TLS client configuration for a registrar.
    pub fn client_tls(&self, index: usize) -> Result<Arc<rustls::ClientConfig>, HarnessError> {
        let clid = &self.scenario.registrars[index].clid;
        mock_registry::tls::client_config(&self.pki, clid)
            .map(Arc::new)
            .with_context(|| format!("TLS client configuration of {clid}"))
    }

    /// A registrar's EPP password.
    pub fn password(&self, index: usize) -> String {
        let clid = &self.scenario.registrars[index].clid;
        self.pki
            .registrar(clid)
            .map(|r| r.password().expose().to_string())
            .unwrap_or_default()
    }

    /// Publishes whatever is due at the clock's time on the parent server and at every
    /// operator; returns whether anything served changed.
    pub async fn publish(&mut self) -> Result<bool, HarnessError> {
        let now = self.clock.now();
        let mut changed = false;
        {
            let reg = self
                .registry
                .lock()
                .map_err(|_| HarnessError::failed("registry lock poisoned"))?;
            self.publisher.observe(&reg, now);
        }
        for z in self.publisher.tick(now).context("publication")? {
            self.parent.set_zone(z);
            changed = true;
        }
        for op in &self.operators {
            changed |= op
                .lock()
                .await
                .publish(now)
                .await
                .context("operator publication")?;
        }
        // Key relay receipts: the registry probes the delegations it watches, after this
        // instant's publications, at the addresses the world's directory gives (a receipt is a
        // poll message, not something DNS serves).
        match self.scenario.world.keyrelay_receipts.and_then(|r| r.fault) {
            None => {
                mock_registry::feedback::run_due(
                    &self.registry,
                    &self.directory.hosts,
                    &ProbeOptions::default(),
                    now,
                )
                .await;
            }
            Some(ReceiptFault::FirstNsOnly) => self.probe_first_ns_only(now).await,
        }
        Ok(changed)
    }

    /// The `first-ns-only` receipt fault: the registry's probes ask only the first name
    /// server of each delegation and report its finding for every host.
    async fn probe_first_ns_only(&self, now: Timestamp) {
        let requests = {
            let mut reg = self.registry.lock().unwrap_or_else(|e| e.into_inner());
            reg.receipt_probes(now)
        };
        for mut request in requests {
            let all = std::mem::take(&mut request.hosts);
            request.hosts = all.first().cloned().into_iter().collect();
            let mut report = mock_registry::feedback::probe(
                &request,
                &self.directory.hosts,
                &ProbeOptions::default(),
                now,
            )
            .await;
            if let Some(first) = report.hosts.first().cloned() {
                report.hosts = all
                    .iter()
                    .map(|h| epp::receipt::HostProbe {
                        host: h.clone(),
                        result: first.result,
                    })
                    .collect();
            }
            self.registry
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record_probe(report);
        }
    }

    /// The next instant the publisher, an operator or the registry's receipts have work.
    pub async fn next_deadline(&self) -> Option<Timestamp> {
        let mut all: Vec<Timestamp> = self.publisher.next_deadline().into_iter().collect();
        if let Ok(reg) = self.registry.lock() {
            all.extend(reg.next_receipt_deadline());
        }
        for op in &self.operators {
            all.extend(op.lock().await.next_deadline());
        }
        all.into_iter().min()
    }

    /// Stops every operator's servers; real DNS software's processes end before this returns
    /// (dropping the world kills them too, without waiting, also when a run fails).
    pub async fn stop(&self) {
        for op in &self.operators {
            op.lock().await.stop().await;
        }
    }
}

/// The EPP server's limits, with the scenario's chaos seeded by the world's seed.
fn server_config(s: &Scenario) -> ServerConfig {
    let c = &s.world.chaos;
    ServerConfig {
        chaos: mock_registry::server::Chaos {
            transient_failure_rate: c.transient_failure_rate,
            drop_connection_rate: c.drop_connection_rate,
            session_limit_rate: c.session_limit_rate,
            seed: s.world.seed,
        },
        ..ServerConfig::default()
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Creates the registry objects for a domain at the start: a contact, external host objects
/// for its name servers, the domain with key data when signed.
fn setup_domain(
    reg: &mut Registry,
    clid: &str,
    name: &str,
    ns: &[String],
    ksk: Option<epp::secdns::KeyData>,
    index: usize,
    seed: u64,
) -> Result<(), HarnessError> {
    let mut run = |kind: CommandKind, extensions: Vec<CommandExtension>| {
        let r = reg.execute(
            clid,
            &Services::all(),
            &Command {
                kind,
                extensions,
                cl_trid: Some("SETUP-0001".into()),
            },
        );
        if r.code().is_success() || r.code().code() == 2302 {
            Ok(r)
        } else {
            Err(HarnessError::failed(format!(
                "setting up {name}: {} {:?}",
                r.code(),
                r.sidn_errors()
            )))
        }
    };
    let r = run(
        CommandKind::Create(Create::Contact(contact::Create {
            id: "setup".into(),
            postal_info: vec![PostalInfo {
                kind: PostalType::Loc,
                name: "Registrant".into(),
                org: None,
                addr: Address {
                    street: vec!["Dorpsstraat 1".into()],
                    city: "Arnhem".into(),
                    sp: None,
                    pc: Some("6811AA".into()),
                    cc: "NL".into(),
                },
            }],
            voice: None,
            fax: None,
            email: format!("registrant@{name}"),
            auth_info: AuthInfo::password("contact-secret"),
            disclose: None,
        })),
        Vec::new(),
    )?;
    let Some(ResData::ContactCreate(c)) = r.res_data else {
        return Err(HarnessError::failed("contact create returned no id"));
    };
    for h in ns {
        run(
            CommandKind::Create(Create::Host(host::Create {
                name: h.clone(),
                addrs: Vec::new(),
            })),
            Vec::new(),
        )?;
    }
    let extensions = match ksk {
        Some(k) => vec![CommandExtension::SecDnsCreate(DsOrKeySet {
            max_sig_life: None,
            data: DsOrKey::Key(vec![k]),
        })],
        None => Vec::new(),
    };
    // At least 6 characters whatever the seed (SIDN's tokens are 6 to 64).
    let token = format!(
        "tok{:08x}{index}",
        seed.wrapping_mul(0x9E37_79B9).wrapping_add(index as u64) & 0xffff_ffff
    );
    run(
        CommandKind::Create(Create::Domain(domain::Create {
            name: name.into(),
            period: None,
            ns: Some(NsList::HostObj(ns.to_vec())),
            registrant: Some(c.id.clone()),
            contacts: vec![
                DomainContact {
                    kind: Some(ContactType::Admin),
                    id: c.id.clone(),
                },
                DomainContact {
                    kind: Some(ContactType::Tech),
                    id: c.id,
                },
            ],
            auth_info: AuthInfo::password(token),
        })),
        extensions,
    )?;
    Ok(())
}
