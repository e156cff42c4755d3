//! One isolated, signed Internet per scenario, on loopback (design.md §2): a test PKI, the
//! mock registry on real TLS, the root and TLD it publishes on its own DNS server, and one DNS
//! operator per registrar. Everything reads one [`WorldClock`]: virtual (the runner jumps it
//! from deadline to deadline) or the system clock (wall-clock mode: real servers sign and
//! serve in real time, the scenario's durations divided by a time scale).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex as StdMutex};

use clock::{Clock, SharedClock, SystemClock, VirtualClock};
use dnssec::SigningPolicy;
use dnssec::server::{DnsServer, DnsServerConfig};
use epp::contact::{self, Address, PostalInfo, PostalType};
use epp::domain::{self, ContactType, DomainContact, NsList};
use epp::message::{Command, CommandExtension, CommandKind, Create, ResData};
use epp::secdns::{DsOrKey, DsOrKeySet};
use epp::{AuthInfo, host};
use hickory_proto::rr::Name;
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
pub mod infra;
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
    /// The system clock (`--clock wall`): time passes on its own and registrars act on their own
    /// timers.
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

/// Where a world's servers listen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Addressing {
    /// Every server on 127.0.0.1 with an ephemeral port: the harness's own observer, router
    /// and live check reach them by the host directory.
    #[default]
    Loopback,
    /// Every server on its own loopback address on port 53 (`127.x.y.1` root and TLD,
    /// `127.x.y.2` the zones of the name servers' host names, `127.x.y.(10+i)` operator
    /// `i`), published as glue and in the root hints, so real recursive resolvers can follow
    /// the delegations themselves (design.md §2, "Addresses"). Binding port 53 needs root or
    /// `CAP_NET_BIND_SERVICE`.
    Port53,
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
    /// The mock registry's state, shared with its EPP server; the runner reads its log, queues and
    /// receipts from it.
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
    /// Where the servers listen.
    pub addressing: Addressing,
    /// The server of the zones the name servers' host names live in ([`infra`]): with
    /// [`Addressing::Port53`] (unsigned, so resolvers can find every operator), and with RFC
    /// 9615 signals in either addressing (signed, so the registry can validate them).
    pub infra: Option<infra::Infra>,
}

impl World {
    /// Starts everything a scenario needs and sets up its domains as they are at the start,
    /// every server on 127.0.0.1 with an ephemeral port.
    pub async fn build(scenario: Arc<Scenario>, mode: ClockMode) -> Result<Self, HarnessError> {
        Self::build_with(scenario, mode, Addressing::Loopback).await
    }

    /// [`build`](Self::build) with the servers where `addressing` says.
    pub async fn build_with(
        scenario: Arc<Scenario>,
        mode: ClockMode,
        addressing: Addressing,
    ) -> Result<Self, HarnessError> {
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
        let pki = Pki::init_scratch(dir.path(), &clids).context("PKI")?;
        let clock = match mode {
            ClockMode::Virtual => WorldClock::Virtual(VirtualClock::new(s.world.start)),
            ClockMode::Wall { .. } => WorldClock::Wall(SystemClock),
        };
        let shared = clock.shared();
        let wall_now = Timestamp::now();
        // Every signature is made valid at the virtual instant and at today's date (for
        // validators that read the system clock). RRSIG times order only within 2^31 seconds
        // (RFC 4034 §3.1.5), so a start further from today than that, less the validity,
        // makes signatures no validator can place: refused before anything is signed.
        let span = s.world.start.duration_since(wall_now).abs()
            + s.world.signature_validity
            + dnssec::SigningPolicy::default().inception_offset;
        if span.as_secs() >= 1 << 31 {
            let distance = s.world.start.duration_since(wall_now).abs();
            return Err(HarnessError::failed(format!(
                "signatures valid both at the scenario's start ({}) and today ({}) would span \
                 {} (the {} between them, the signature_validity of {} and an hour of \
                 inception offset), more than the 2^31 seconds, about 68 years, within which \
                 RRSIG times are ordered (RFC 4034 §3.1.5): move the start closer to today or \
                 shorten signature_validity",
                s.world.start,
                wall_now.strftime("%Y-%m-%d"),
                crate::scenario::Dur(span),
                crate::scenario::Dur(distance),
                crate::scenario::Dur(s.world.signature_validity),
            )));
        }
        let plan = match addressing {
            Addressing::Loopback => None,
            Addressing::Port53 => {
                if let Some(r) = s.registrars.iter().find(|r| r.operator.software.is_real()) {
                    return Err(HarnessError::failed(format!(
                        "operator {} runs {}, which the harness cannot yet put on port 53; \
                         the resolver fleet needs every server there (use the built-in operator)",
                        r.label, r.operator.software
                    )));
                }
                Some(Port53Plan::find(s.registrars.len())?)
            }
        };

        let policy = Policy {
            tld: s.world.tld.clone(),
            keyrelay_receipts: s.world.keyrelay_receipts.map(|r| ReceiptPolicy {
                probe_interval: r.probe_interval,
                max_watch: r.max_watch,
                ..ReceiptPolicy::default()
            }),
            ds_automation: s.world.ds_automation.as_ref().and_then(|a| a.policy()),
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
        if let Some(plan) = &plan {
            config.ns_addrs = vec![plan.parent.ip()];
            // The root's name server gets a name under no delegation and in no special-use
            // TLD: its address is then authoritative, signed data of the root itself, which
            // a resolver priming from the hints finds without a circular dependency (Knot
            // Resolver cannot prime with a root server named inside the TLD it delegates).
            config.root_ns = Name::from_ascii(ROOT_NS).context("the root's name server")?;
        }
        // The zones of the name servers' host names: unsigned on port 53, signed (and in
        // loopback mode too) when RFC 9615 signals are in play.
        let signed_infra = infra::signed(s);
        let infra_plan = match &plan {
            Some(p) => Some(infra::InfraPlan::new(
                s,
                signed_infra,
                p.infra.ip(),
                |i, host| p.host_ip(s, i, host),
            )?),
            None if signed_infra => {
                Some(infra::InfraPlan::new(s, true, loopback().ip(), |_, _| {
                    loopback().ip()
                })?)
            }
            None => None,
        };
        if let Some(ip) = &infra_plan {
            config.infra = ip.root_delegations()?;
        }
        // The registry's own fixture keys: the same every run, and never an operator's (no
        // key may serve zones of different owners, or chains could validate by accident).
        let mut publisher = Publisher::new(config, PublishKeys::registry_fixtures(), s.world.start)
            .context("publisher")?;
        let anchor = publisher.trust_anchor().context("trust anchor")?;
        let parent = DnsServer::start(
            plan.as_ref().map_or_else(loopback, |p| p.parent),
            shared.clone(),
            DnsServerConfig::default(),
        )
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
                let at = plan.as_ref().map_or_else(loopback, |p| p.operators[i]);
                let secondary_at = plan.as_ref().map_or_else(loopback, |p| p.secondaries[i]);
                Box::new(
                    Operator::start_at(
                        at,
                        secondary_at,
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
        let infra = match infra_plan {
            Some(ip) => {
                let at = plan.as_ref().map_or_else(loopback, |p| p.infra);
                let policy = SigningPolicy {
                    validity: s.world.signature_validity,
                    also_valid_at: vec![wall_now],
                    jitter_seed: s.world.seed,
                    ..SigningPolicy::default()
                };
                let ds = serve_operator_zones(&ip, &operators, s.world.start).await?;
                let signed = ip.is_signed();
                let names = ip.ns_names();
                let infra = ip
                    .start(at, shared.clone(), &ds, policy, s.world.start)
                    .await?;
                if signed {
                    // Loopback servers answer on ephemeral ports: lookups find them here.
                    for n in names {
                        directory.hosts.insert(n, infra.local_addr());
                    }
                }
                Some(infra)
            }
            None => None,
        };

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
            addressing,
            infra,
        })
    }

    /// The root hints of a resolver in this world: the root's name server and where it
    /// answers.
    pub fn root_hints(&self) -> Vec<(String, IpAddr)> {
        vec![(
            self.publisher.config().root_ns.to_ascii(),
            self.parent.local_addr().ip(),
        )]
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
        if let Some(infra) = &mut self.infra {
            changed |= infra.publish(now)?;
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
        // The registry's CDS/CDNSKEY scanner, after this instant's publications; a DS it
        // changes is observed at once, so its propagation delay starts now. RFC 9615 signals
        // are validated from the world's root and its trust anchor.
        let scan = mock_registry::scan::ScanOptions {
            signals: Some(mock_registry::signals::SignalRoot {
                servers: vec![self.parent.local_addr()],
                anchors: vec![self.anchor.ds.clone()],
            }),
            ..mock_registry::scan::ScanOptions::default()
        };
        if mock_registry::scan::run_due(&self.registry, &self.directory.hosts, &scan, now).await > 0
        {
            let reg = self
                .registry
                .lock()
                .map_err(|_| HarnessError::failed("registry lock poisoned"))?;
            self.publisher.observe(&reg, now);
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

    /// Lets every server of the world serve this process without sockets: DNS queries (the
    /// observer's, the reference registrars', the registry's scans) by the same responder, and
    /// EPP sessions (the in-process reference registrars', the harness's own) over an
    /// in-memory pipe to the same TLS server. Registrar processes and real resolvers still use
    /// the sockets. Virtual clock only: a dropped query fails at once there, where a socket
    /// would make the run wait out a real timeout.
    pub async fn serve_in_process(&self) {
        if self.mode.is_wall() {
            return;
        }
        self.epp.accept_in_process(true);
        self.parent.answer_in_process(true);
        if let Some(infra) = &self.infra {
            infra.answer_in_process();
        }
        for op in &self.operators {
            op.lock().await.answer_in_process();
        }
    }

    /// The next instant the publisher, an operator or the registry's receipts have work.
    pub async fn next_deadline(&self) -> Option<Timestamp> {
        let mut all: Vec<Timestamp> = self.publisher.next_deadline().into_iter().collect();
        if let Ok(reg) = self.registry.lock() {
            all.extend(reg.next_receipt_deadline());
            all.extend(reg.next_scan_deadline());
        }
        all.extend(self.infra.as_ref().and_then(infra::Infra::next_deadline));
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

/// The root server's host name in a world on port 53.
const ROOT_NS: &str = "a.root-servers.harness.";

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// The addresses of a world on port 53 (see [`Addressing::Port53`]).
#[derive(Debug, Clone)]
struct Port53Plan {
    parent: SocketAddr,
    infra: SocketAddr,
    operators: Vec<SocketAddr>,
    /// Each operator's secondary server, used when it has one.
    secondaries: Vec<SocketAddr>,
}

impl Port53Plan {
    /// Picks a free `127.x.y.0/24` (x, y random) whose addresses for this world can all be
    /// bound on port 53 for UDP and TCP; explains what to do when binding port 53 is not
    /// allowed.
    fn find(operators: usize) -> Result<Self, HarnessError> {
        use std::hash::{BuildHasher, Hasher};
        let mut last = String::new();
        for attempt in 0..32u32 {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(attempt);
            h.write_u32(std::process::id());
            let r = h.finish();
            let (x, y) = (1 + (r % 254) as u8, ((r >> 8) % 256) as u8);
            let at = |z: u8| SocketAddr::from(([127, x, y, z], 53));
            let plan = Self {
                parent: at(1),
                infra: at(2),
                operators: (0..operators)
                    .map(|i| at(10 + u8::try_from(i).unwrap_or(90).min(90)))
                    .collect(),
                secondaries: (0..operators)
                    .map(|i| at(110 + u8::try_from(i).unwrap_or(90).min(90)))
                    .collect(),
            };
            match plan.probe() {
                Ok(()) => return Ok(plan),
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    return Err(HarnessError::failed(format!(
                        "binding {}:53 was refused ({e}): real resolvers reach authoritative \
                         servers on port 53 only, so the resolver fleet gives every server of \
                         the world its own loopback address on port 53, which needs root or \
                         CAP_NET_BIND_SERVICE (e.g. `setcap cap_net_bind_service=ep` on the \
                         harness binary, or sysctl net.ipv4.ip_unprivileged_port_start=53)",
                        plan.parent.ip()
                    )));
                }
                Err(e) => last = format!("127.{x}.{y}.0/24: {e}"),
            }
        }
        Err(HarnessError::failed(format!(
            "no free 127.x.y.0/24 with port 53 free for every server (last: {last})"
        )))
    }

    fn probe(&self) -> std::io::Result<()> {
        for a in [self.parent, self.infra]
            .iter()
            .chain(&self.operators)
            .chain(&self.secondaries)
        {
            let _udp = std::net::UdpSocket::bind(a)?;
            let _tcp = std::net::TcpListener::bind(a)?;
        }
        Ok(())
    }

    /// Where operator `i`'s name server `host` answers: its secondary's address for the
    /// names the secondary answers for, its server's otherwise.
    fn host_ip(&self, s: &Scenario, i: usize, host: &Name) -> IpAddr {
        let host = host.to_ascii();
        let on_secondary = s.registrars[i]
            .operator
            .secondary
            .as_ref()
            .is_some_and(|sec| {
                sec.ns.iter().any(|n| {
                    n.trim_end_matches('.')
                        .eq_ignore_ascii_case(host.trim_end_matches('.'))
                })
            });
        if on_secondary {
            self.secondaries[i].ip()
        } else {
            self.operators[i].ip()
        }
    }
}

/// RFC 9615: every built-in operator serves (and signs) the zone of its name servers' host
/// names the plan gives it; returns the DS the infra zone publishes for each. An operator
/// that cannot (real DNS software) gets no secure delegation.
async fn serve_operator_zones(
    plan: &infra::InfraPlan,
    operators: &[SharedOperator],
    start: Timestamp,
) -> Result<std::collections::BTreeMap<Name, hickory_proto::dnssec::rdata::DS>, HarnessError> {
    let mut out = std::collections::BTreeMap::new();
    for z in plan.operator_zones()? {
        let mut op = operators[z.registrar].lock().await;
        if op.spec().software.is_real() {
            continue;
        }
        let label = op.label().to_string();
        let what = || format!("operator {label} serving {}", z.origin);
        let origin = z.origin.to_ascii();
        let hosts: Vec<(String, IpAddr)> = z
            .hosts
            .iter()
            .map(|(h, ip)| (h.to_ascii().trim_end_matches('.').to_string(), *ip))
            .collect();
        let ksk = op
            .serve_ns_zone(origin.trim_end_matches('.'), &hosts)
            .await
            .with_context(what)?;
        op.publish(start).await.with_context(what)?;
        let ds = dnssec::keys::ds_from_dnskey(&z.origin, &ksk, dnssec::DsDigest::Sha256)
            .with_context(what)?;
        out.insert(z.origin, ds);
    }
    Ok(out)
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
