//! Runs one scenario: builds its world, plays the steps on a discrete-event virtual clock,
//! records what every DNS source serves after each change, and evaluates every check.
//!
//! The clock only moves by jumping to the next deadline anybody waits for: a registrar's
//! wake-up, a registry publication falling due, an operator's key expiry or re-signing. So a
//! procedure that waits days of TTLs runs in well under a second, and the same seed gives the
//! same run.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clock::Clock;
use epp::keyrelay::{self, Expiry, KeyRelayData};
use epp::message::{CommandKind, Create, Frame};
use epp::{AuthInfo, XsDuration};
use jiff::{SignedDuration, Timestamp};
use mock_registry::client::EppClient;

use crate::checks::CheckId;
use crate::observe::{Observer, Source};
use crate::registrar::protocol::{
    self, DnsChoice, DnsSetup, EppSetup, HostedOperator, ToRegistrar,
};
use crate::registrar::reference::{Config, ReferenceRegistrar};
use crate::registrar::subject::{self, SubjectProcess};
use crate::registrar::{LocalOperator, TickReport};
use crate::report::{CheckResult, Outcome, ScenarioReport};
use crate::scenario::file::PlayedBy;
use crate::scenario::{ChainExpectation, Scenario, Step};
use crate::world::World;

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The subject command (run by `sh -c`), for `subject` roles.
    pub subject: Option<String>,
    /// Run every reference registrar as this adapter-protocol process instead of in-process
    /// (normally `harness reference-registrar`); the verdicts must not change.
    pub reference_process: Option<String>,
    /// How long to wait for a registrar process's answer (default
    /// [`subject::DEFAULT_TIMEOUT`]).
    pub timeout: Option<Duration>,
    /// The reference registrars' poll interval in seconds, where the scenario does not set
    /// one (default 1800).
    pub poll_interval: Option<u64>,
}

/// A registrar as the runner drives it.
#[derive(Debug)]
enum Player {
    Reference(Box<ReferenceRegistrar<LocalOperator>>),
    Process(Box<SubjectProcess>),
}

impl Player {
    async fn tick(&mut self, now: Timestamp) -> TickReport {
        match self {
            Self::Reference(r) => r.tick(now).await,
            Self::Process(p) => p.tick(now).await,
        }
    }

    async fn request_token(&mut self, domain: &str, now: Timestamp) -> Result<String, String> {
        match self {
            Self::Reference(r) => r.request_token(domain, now).await,
            Self::Process(p) => p.request_token(domain, now).await,
        }
    }

    async fn transfer_in(
        &mut self,
        domain: &str,
        token: &str,
        records: Vec<String>,
        checks: Vec<(String, String)>,
        now: Timestamp,
    ) -> Result<(), String> {
        match self {
            Self::Reference(r) => {
                r.transfer_in(domain, token, records, checks, now);
                Ok(())
            }
            Self::Process(p) => p.transfer_in(domain, token, records, checks, now).await,
        }
    }

    fn failure(&self) -> Option<&str> {
        match self {
            Self::Reference(_) => None,
            Self::Process(p) => p.failure(),
        }
    }

    fn transcript(&self, label: &str) -> Vec<(Timestamp, String)> {
        match self {
            Self::Reference(r) => {
                let mut out: Vec<(Timestamp, String)> = r
                    .log()
                    .iter()
                    .map(|(t, l)| (*t, format!("[{label}] {l}")))
                    .collect();
                for e in r.epp().transcript() {
                    // EPP frames carry no virtual time; they are listed after the log lines of
                    // the same run, in order.
                    let dir = if e.sent { "C" } else { "S" };
                    out.push((Timestamp::MAX, format!("[{label} EPP {dir}] {}", e.xml)));
                }
                out
            }
            Self::Process(p) => p.log().to_vec(),
        }
    }
}

/// The state of a run.
struct Run {
    world: World,
    players: Vec<Option<Player>>,
    reports: Vec<TickReport>,
    wakes: Vec<Option<Timestamp>>,
    /// The newest poll message id each registrar could have seen at its last tick.
    seen_upto: Vec<u64>,
    observer: Observer,
    /// (domain, gaining registrar, started) for deadline checks.
    transfers: Vec<(String, usize, Timestamp)>,
    /// When each (registrar, domain) procedure was first seen done.
    done_at: BTreeMap<(usize, String), Timestamp>,
    checks: Vec<CheckResult>,
    /// Registry log positions of scripted steps (their refusals are expected).
    scripted: Vec<std::ops::Range<usize>>,
    step_names: Vec<(Timestamp, String)>,
    /// Refusals and failures of registrar processes met while playing steps.
    registrar_errors: Vec<String>,
    /// hickory-resolver against the pure validator on the current state (design.md §3).
    live: crate::live::LiveCheck,
}

/// Runs one scenario and reports.
pub async fn run_scenario(scenario: Arc<Scenario>, options: &RunOptions) -> ScenarioReport {
    let wall = Instant::now();
    let start = scenario.world.start;
    let mut report = ScenarioReport {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        path: scenario.path.display().to_string(),
        sha256: scenario.sha256.clone(),
        subject: options.subject.clone(),
        roles: roles(&scenario, options),
        passed: false,
        checks: Vec::new(),
        virtual_start: start,
        virtual_end: start,
        wall_seconds: 0.0,
        combinations: 0,
        timeline: Vec::new(),
        transcript: Vec::new(),
        error: None,
    };
    match play(scenario.clone(), options).await {
        Ok(run) => {
            report.virtual_end = run.world.clock.now();
            report.combinations = run.observer.combinations();
            report.timeline = run.observer.timeline_rows(start);
            let mut lines: Vec<(Timestamp, String)> = run.step_names.clone();
            for (i, p) in run.players.iter().enumerate() {
                if let Some(p) = p {
                    lines.extend(p.transcript(&scenario.registrars[i].label));
                }
            }
            // The EPP frames of a registrar process are its own; the registry's log says
            // what it sent and what it got.
            if let Ok(reg) = run.world.registry.lock() {
                for (i, r) in scenario.registrars.iter().enumerate() {
                    if !matches!(run.players[i], Some(Player::Process(_))) {
                        continue;
                    }
                    for e in reg
                        .log()
                        .iter()
                        .filter(|e| e.cl_id.as_deref() == Some(&r.clid))
                    {
                        lines.push((
                            e.time,
                            format!(
                                "[{} EPP] {} {} → {}{}",
                                r.label,
                                e.command,
                                e.object.as_deref().unwrap_or(""),
                                e.code,
                                e.detail
                                    .as_deref()
                                    .map(|d| format!(" {d}"))
                                    .unwrap_or_default()
                            ),
                        ));
                    }
                }
            }
            lines.sort_by_key(|(t, _)| *t);
            report.transcript = lines
                .into_iter()
                .map(|(t, l)| {
                    if t == Timestamp::MAX {
                        l
                    } else {
                        format!("{} {l}", crate::report::human(t.duration_since(start)))
                    }
                })
                .collect();
            report.checks = run.checks;
        }
        Err(e) => {
            let (check, e) = match e {
                PlayError::Harness(e) => (CheckId::HarnessFault, e),
                PlayError::Registrar(e) => (CheckId::RegistrarFailure, e),
            };
            report.error = Some(e.clone());
            report.checks.push(CheckResult {
                check,
                severity: check.severity(),
                outcome: Outcome::Fail,
                message: e,
                at: None,
                step: None,
                evidence: Vec::new(),
            });
        }
    }
    apply_expectations(&scenario, &mut report.checks);
    report.passed =
        report.error.is_none() && !report.checks.iter().any(CheckResult::fails_scenario);
    report.wall_seconds = wall.elapsed().as_secs_f64();
    report
}

/// Who plays each registrar, for the report.
fn roles(s: &Scenario, options: &RunOptions) -> BTreeMap<String, String> {
    s.registrars
        .iter()
        .map(|r| {
            let mut who = match r.played_by {
                PlayedBy::Subject => "subject".to_string(),
                PlayedBy::Reference if options.reference_process.is_some() => {
                    "reference (as a process)".to_string()
                }
                PlayedBy::Reference => "reference".to_string(),
            };
            if let Some(f) = r.fault {
                who.push_str(&format!(", fault {}", f.name()));
            }
            if let Some(p) = r
                .poll_interval
                .filter(|_| r.played_by == PlayedBy::Reference)
            {
                who.push_str(&format!(
                    ", polls every {}",
                    crate::report::human(SignedDuration::from_secs(p as i64))
                ));
            }
            (r.label.clone(), who)
        })
        .collect()
}

/// Runs scenarios, `jobs` at a time, calling `done` as each finishes; reports in the
/// scenarios' order.
pub async fn run_suite(
    scenarios: Vec<Scenario>,
    options: &RunOptions,
    jobs: usize,
    done: impl Fn(&ScenarioReport) + Send + Sync + 'static,
) -> Vec<ScenarioReport> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let done = Arc::new(done);
    let mut tasks = Vec::new();
    for s in scenarios {
        let s = Arc::new(s);
        let options = options.clone();
        let permit = semaphore.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permit.acquire_owned().await;
            let r = run_scenario(s, &options).await;
            done(&r);
            r
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        match t.await {
            Ok(r) => out.push(r),
            Err(e) => tracing::error!("a scenario task failed: {e}"),
        }
    }
    out
}

/// Why a run could not be played to the end.
#[derive(Debug)]
enum PlayError {
    /// The harness failed (a server did not start, an observation failed).
    Harness(String),
    /// A registrar process failed before the run could start.
    Registrar(String),
}

impl From<String> for PlayError {
    fn from(e: String) -> Self {
        Self::Harness(e)
    }
}

async fn play(scenario: Arc<Scenario>, options: &RunOptions) -> Result<Run, PlayError> {
    let mut world = World::build(scenario.clone()).await?;
    let mut players = Vec::new();
    let mut own_dns = Vec::new();
    for (i, r) in scenario.registrars.iter().enumerate() {
        let command = match r.played_by {
            PlayedBy::Subject => Some(options.subject.clone().ok_or_else(|| {
                format!(
                    "registrar {} is played by the subject, but no --subject command was given",
                    r.label
                )
            })?),
            PlayedBy::Reference => options.reference_process.clone(),
        };
        let player = match command {
            None => {
                let cfg = Config {
                    clid: r.clid.clone(),
                    password: world.password(i),
                    epp: world.epp.local_addr(),
                    tls: world.client_tls(i)?,
                    tld: scenario.world.tld.clone(),
                    fault: r.fault,
                    directory: world.directory.clone(),
                    poll_interval: SignedDuration::from_secs(
                        r.poll_interval.or(options.poll_interval).unwrap_or(1800) as i64,
                    ),
                };
                let op = LocalOperator(world.operators[i].clone());
                Player::Reference(Box::new(ReferenceRegistrar::connect(cfg, op).await?))
            }
            Some(cmd) => {
                let hello = hello(&world, i, options.poll_interval)?;
                let p = match SubjectProcess::start(
                    &r.label,
                    &cmd,
                    hello,
                    world.operators[i].clone(),
                    options.timeout.unwrap_or(subject::DEFAULT_TIMEOUT),
                )
                .await
                {
                    Ok(p) => p,
                    Err(e) => return Err(PlayError::Registrar(e)),
                };
                if let DnsChoice::Own { servers } = &p.dns {
                    if let Some(d) = scenario.domains.iter().find(|d| d.sponsor == i) {
                        return Err(PlayError::Registrar(format!(
                            "registrar {} announced its own DNS servers, but it sponsors {} at \
                             the start, whose zone is on the hosted operator: use the hosted \
                             operator when a scenario starts with a domain of yours",
                            r.label, d.name
                        )));
                    }
                    let mut parsed = BTreeMap::new();
                    for (host, addr) in servers {
                        let addr: SocketAddr = addr.parse().map_err(|e| {
                            PlayError::Registrar(format!(
                                "registrar {}: announced server {host} at {addr:?}: {e}",
                                r.label
                            ))
                        })?;
                        let host = host.trim_end_matches('.').to_ascii_lowercase();
                        world.directory.hosts.insert(host.clone(), addr);
                        parsed.insert(host, addr);
                    }
                    own_dns.push((i, parsed));
                }
                Player::Process(Box::new(p))
            }
        };
        players.push(Some(player));
    }
    let n = players.len();
    let mut observer = Observer::new(&world);
    for (i, servers) in &own_dns {
        observer.use_own_servers(*i, servers);
    }
    let live = crate::live::LiveCheck::start(&world).await?;
    let mut run = Run {
        world,
        players,
        reports: vec![TickReport::default(); n],
        wakes: vec![None; n],
        seen_upto: vec![0; n],
        observer,
        transfers: Vec::new(),
        done_at: BTreeMap::new(),
        checks: Vec::new(),
        scripted: Vec::new(),
        step_names: Vec::new(),
        registrar_errors: Vec::new(),
        live,
    };
    let result = run.play_steps().await;
    for p in run.players.iter_mut().flatten() {
        if let Player::Process(p) = p {
            p.shutdown().await;
        }
    }
    result?;
    Ok(run)
}

/// The roles registrar `i` plays in the scenario's transfers, in order, without repeats.
fn roles_of(s: &Scenario, i: usize) -> Vec<String> {
    let mut sponsor: Vec<usize> = s.domains.iter().map(|d| d.sponsor).collect();
    let mut roles = Vec::new();
    let mut add = |r: &str| {
        if !roles.iter().any(|x| x == r) {
            roles.push(r.to_string());
        }
    };
    for step in &s.steps {
        if let Step::Transfer { domain, to } = step {
            if sponsor[*domain] == i {
                add("losing");
            }
            if *to == i {
                add("gaining");
            }
            sponsor[*domain] = *to;
        }
    }
    roles
}

/// The `hello` for registrar `i` of the world.
fn hello(world: &World, i: usize, poll_interval: Option<u64>) -> Result<ToRegistrar, String> {
    let r = &world.scenario.registrars[i];
    let creds = world
        .pki
        .registrar(&r.clid)
        .ok_or_else(|| format!("no credentials for {}", r.clid))?;
    Ok(ToRegistrar::Hello {
        id: 1,
        protocol: protocol::VERSION,
        now: world.clock.now(),
        label: r.label.clone(),
        tld: world.scenario.world.tld.clone(),
        epp: EppSetup {
            clid: r.clid.clone(),
            password: world.password(i),
            address: world.epp.local_addr().to_string(),
            ca_file: world
                .pki
                .dir()
                .join(mock_registry::pki::CA_CERT_FILE)
                .display()
                .to_string(),
            cert_file: creds.cert_path().display().to_string(),
            key_file: creds.key_path().display().to_string(),
        },
        dns: DnsSetup {
            parent: world
                .directory
                .parent
                .map(|a| a.to_string())
                .unwrap_or_default(),
            hosts: world
                .directory
                .hosts
                .iter()
                .map(|(h, a)| (h.clone(), a.to_string()))
                .collect(),
            trust_anchor: format!(
                ". IN DNSKEY {}",
                dnssec::keys::format_dnskey(&world.anchor.dnskey)
            ),
        },
        operator: HostedOperator {
            ns: r.operator.ns.clone(),
            algorithm: r.operator.algorithm,
        },
        roles: roles_of(&world.scenario, i),
        domains: world
            .scenario
            .domains
            .iter()
            .filter(|d| d.sponsor == i)
            .map(|d| d.name.clone())
            .collect(),
        fault: r.fault.map(|f| f.name().to_string()),
        poll_interval: r.poll_interval.or(poll_interval),
    })
}

fn describe(s: &Scenario, step: &Step) -> String {
    match step {
        Step::Transfer { domain, to } => format!(
            "registrant moves {} to {}",
            s.domains[*domain].name, s.registrars[*to].label
        ),
        Step::RequestToken { domain } => format!(
            "registrant asks for the token of {}",
            s.domains[*domain].name
        ),
        Step::Run { limit } => format!("run until idle (at most {})", crate::report::human(*limit)),
        Step::Advance { by } => format!("advance {}", crate::report::human(*by)),
        Step::OperatorFault { operator, fault } => format!(
            "operator {} fault {:?}",
            s.registrars[*operator].label, fault
        ),
        Step::Epp {
            registrar,
            expect_code,
            ..
        } => format!(
            "raw EPP by {} expecting {expect_code}",
            s.registrars[*registrar].label
        ),
        Step::KeyRelay {
            registrar,
            domain,
            expect_code,
            ..
        } => {
            format!(
                "key relay by {} for {domain} expecting {expect_code}",
                s.registrars[*registrar].label
            )
        }
    }
}

impl Run {
    fn now(&self) -> Timestamp {
        self.world.clock.now()
    }

    /// The scenario's steps, then the tail until caches empty, then the evaluation. A
    /// registrar process that fails stops the steps (the others could wait on it forever);
    /// what happened until then is still evaluated.
    async fn play_steps(&mut self) -> Result<(), String> {
        let scenario = self.world.scenario.clone();
        self.settle_with(true).await?;
        for (i, step) in scenario.steps.iter().enumerate() {
            let now = self.now();
            self.step_names.push((
                now,
                format!("[step {}] {}", i + 1, describe(&scenario, step)),
            ));
            self.step(step).await?;
            if self.players.iter().flatten().any(|p| p.failure().is_some()) {
                break;
            }
        }
        // Let caches empty after the last change, so the checker sees the whole tail.
        self.finish().await?;
        self.evaluate().await;
        Ok(())
    }

    /// Publishes what is due and records what the servers serve whenever that changed (or,
    /// with `force`, in any case: after a fault or a scripted step, or when a server the
    /// harness does not control may have changed).
    async fn settle_with(&mut self, mut force: bool) -> Result<(), String> {
        for _ in 0..8 {
            let changed = self.world.publish().await?;
            if changed || force {
                self.observer.observe(&self.world, self.now()).await?;
            }
            force = false;
            if !changed {
                break;
            }
        }
        Ok(())
    }

    async fn settle(&mut self) -> Result<(), String> {
        // Servers a registrar runs itself change without the harness knowing: look every time.
        let force = self.observer.has_own_servers();
        self.settle_with(force).await
    }

    /// Ticks every registrar due now.
    async fn tick_due(&mut self) -> Result<(), String> {
        let now = self.now();
        for i in 0..self.players.len() {
            if self.wakes[i].is_some_and(|w| w > now) {
                continue;
            }
            if let Some(p) = self.players[i].as_mut() {
                let clid = &self.world.scenario.registrars[i].clid;
                self.seen_upto[i] = self
                    .world
                    .registry
                    .lock()
                    .map(|r| r.queue(clid).iter().map(|m| m.id).max().unwrap_or(0))
                    .unwrap_or(0);
                let r = p.tick(now).await;
                for d in &r.done {
                    self.done_at.entry((i, d.clone())).or_insert(now);
                }
                self.wakes[i] = r.next_wake;
                self.reports[i] = r;
                self.settle().await?;
            }
        }
        Ok(())
    }

    /// Whether anybody still has work: a procedure running, a registry publication queued, a
    /// poll message a registrar has not had the chance to see, or a relayed key an operator
    /// publishes until a later expiry.
    async fn busy(&self) -> bool {
        if self.reports.iter().any(|r| !r.busy.is_empty()) || self.world.publisher.pending() > 0 {
            return true;
        }
        let unseen = {
            let reg = self
                .world
                .registry
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            self.world
                .scenario
                .registrars
                .iter()
                .enumerate()
                .any(|(i, r)| {
                    self.players[i].is_some()
                        && reg.queue(&r.clid).iter().any(|m| m.id > self.seen_upto[i])
                })
        };
        if unseen {
            return true;
        }
        let now = self.now();
        for op in &self.world.operators {
            let op = op.lock().await;
            let pending = op.hosted().iter().any(|d| {
                op.foreign_keys(d)
                    .iter()
                    .any(|f| f.expires.is_some_and(|e| e > now))
            });
            if pending {
                return true;
            }
        }
        false
    }

    /// Runs until `limit`; with `until_idle`, stops earlier once nobody is busy.
    async fn run_until(&mut self, limit: Timestamp, until_idle: bool) -> Result<(), String> {
        let mut rounds = 0u64;
        loop {
            rounds += 1;
            if rounds > 200_000 {
                return Err("the run did not settle after 200000 rounds".into());
            }
            self.tick_due().await?;
            self.settle().await?;
            if until_idle && !self.busy().await {
                return Ok(());
            }
            let mut next: Vec<Timestamp> = self.wakes.iter().flatten().copied().collect();
            next.extend(self.world.next_deadline().await);
            let now = self.now();
            let next = next.into_iter().filter(|t| *t > now).min();
            match next {
                Some(t) if t <= limit => {
                    self.world.clock.set(t).map_err(|e| e.to_string())?;
                }
                _ => {
                    if !until_idle {
                        self.world.clock.set(limit).map_err(|e| e.to_string())?;
                        self.tick_due().await?;
                        self.settle().await?;
                    }
                    return Ok(());
                }
            }
        }
    }

    async fn step(&mut self, step: &Step) -> Result<(), String> {
        let scenario = self.world.scenario.clone();
        let now = self.now();
        match step {
            Step::Transfer { domain, to } => {
                let name = scenario.domains[*domain].name.clone();
                let sponsor = self
                    .world
                    .sponsor_of(&name)
                    .ok_or_else(|| format!("{name} does not exist"))?;
                let label = |i: usize| scenario.registrars[i].label.clone();
                let token = match self.players[sponsor]
                    .as_mut()
                    .ok_or("the sponsor is not played")?
                    .request_token(&name, now)
                    .await
                {
                    Ok(t) => t,
                    Err(e) => {
                        self.registrar_errors.push(format!(
                            "{}: refused the token of {name}: {e}",
                            label(sponsor)
                        ));
                        return Ok(());
                    }
                };
                let d = &scenario.domains[*domain];
                if let Err(e) = self.players[*to]
                    .as_mut()
                    .ok_or("the gaining registrar is not played")?
                    .transfer_in(&name, &token, d.records.clone(), d.checks.clone(), now)
                    .await
                {
                    self.registrar_errors
                        .push(format!("{}: refused to move {name} in: {e}", label(*to)));
                    return Ok(());
                }
                self.wakes[*to] = Some(now);
                self.transfers.push((name, *to, now));
            }
            Step::RequestToken { domain } => {
                let name = scenario.domains[*domain].name.clone();
                let sponsor = self
                    .world
                    .sponsor_of(&name)
                    .ok_or_else(|| format!("{name} does not exist"))?;
                if let Some(p) = self.players[sponsor].as_mut()
                    && let Err(e) = p.request_token(&name, now).await
                {
                    let label = &scenario.registrars[sponsor].label;
                    self.registrar_errors
                        .push(format!("{label}: refused the token of {name}: {e}"));
                }
            }
            Step::Run { limit } => {
                let until = now.checked_add(*limit).map_err(|e| e.to_string())?;
                self.run_until(until, true).await?;
            }
            Step::Advance { by } => {
                let until = now.checked_add(*by).map_err(|e| e.to_string())?;
                self.run_until(until, false).await?;
            }
            Step::OperatorFault { operator, fault } => {
                self.world.operators[*operator]
                    .lock()
                    .await
                    .set_fault(*fault, now)
                    .map_err(|e| e.to_string())?;
                self.settle_with(true).await?;
            }
            Step::Epp {
                registrar,
                xml,
                expect_code,
            } => {
                let xml = self.fill_tokens(xml);
                let before = self.log_len();
                let got = self.raw_epp(*registrar, xml.as_bytes()).await?;
                self.scripted.push(before..self.log_len());
                self.expect_code(step, *expect_code, got);
                self.settle().await?;
            }
            Step::KeyRelay {
                registrar,
                domain,
                wrong_token,
                expiry,
                expect_code,
            } => {
                let token = if *wrong_token {
                    "not-the-token".to_string()
                } else {
                    self.world
                        .token_of(domain)
                        .unwrap_or_else(|| "no-such-domain".into())
                };
                let expiry = match expiry {
                    None => None,
                    Some(e) if e.starts_with('P') || e.starts_with("-P") => Some(Expiry::Relative(
                        XsDuration::parse(e).map_err(|er| er.to_string())?,
                    )),
                    Some(e) => Some(Expiry::Absolute(
                        e.parse().map_err(|er| format!("expiry {e}: {er}"))?,
                    )),
                };
                let key = relay_key(&self.world, *registrar, domain).await?;
                let frame = Frame::Command(Box::new(epp::Command {
                    kind: CommandKind::Create(Create::KeyRelay(keyrelay::Create {
                        name: domain.clone(),
                        auth_info: AuthInfo::password(token),
                        data: vec![KeyRelayData {
                            key_data: key,
                            expiry,
                        }],
                    })),
                    extensions: Vec::new(),
                    cl_trid: Some("SCRIPT-0001".into()),
                }));
                let before = self.log_len();
                let got = self.raw_epp(*registrar, frame.to_xml().as_bytes()).await?;
                self.scripted.push(before..self.log_len());
                self.expect_code(step, *expect_code, got);
                self.settle().await?;
            }
        }
        self.live
            .check(&self.world, &describe(&scenario, step))
            .await;
        Ok(())
    }

    fn log_len(&self) -> usize {
        self.world
            .registry
            .lock()
            .map(|r| r.log().len())
            .unwrap_or(0)
    }

    fn fill_tokens(&self, xml: &str) -> String {
        let mut out = xml.to_string();
        while let Some(start) = out.find("{token:") {
            let Some(end) = out[start..].find('}') else {
                break;
            };
            let domain = out[start + 7..start + end].to_string();
            let token = self.world.token_of(&domain).unwrap_or_default();
            out.replace_range(start..start + end + 1, &token);
        }
        out
    }

    /// Sends a frame in a fresh, logged-in session of `registrar`; returns the result code.
    async fn raw_epp(&mut self, registrar: usize, payload: &[u8]) -> Result<u16, String> {
        let tls = self.world.client_tls(registrar)?;
        let mut c = EppClient::connect(self.world.epp.local_addr(), tls, Duration::from_secs(10))
            .await
            .map_err(|e| e.to_string())?;
        let clid = self.world.scenario.registrars[registrar].clid.clone();
        c.login(&clid, &self.world.password(registrar))
            .await
            .map_err(|e| e.to_string())?;
        let f = c.exchange_raw(payload).await.map_err(|e| e.to_string())?;
        let label = self.world.scenario.registrars[registrar].label.clone();
        let now = self.now();
        for e in c.transcript() {
            self.step_names.push((
                now,
                format!(
                    "[{label} scripted EPP {}] {}",
                    if e.sent { "C" } else { "S" },
                    e.xml
                ),
            ));
        }
        match f {
            Frame::Response(r) => Ok(r.code().code()),
            other => Err(format!("expected a response, got {other:?}")),
        }
    }

    fn expect_code(&mut self, step: &Step, want: u16, got: u16) {
        let now = self.now();
        let name = describe(&self.world.scenario, step);
        self.checks.push(CheckResult {
            check: CheckId::EppExpectedCode,
            severity: CheckId::EppExpectedCode.severity(),
            outcome: if want == got {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            message: format!("{name}: got {got}, expected {want}"),
            at: Some(now),
            step: Some(name),
            evidence: Vec::new(),
        });
    }

    async fn finish(&mut self) -> Result<(), String> {
        // Everyone finishes what is due now, then time runs on until every cache that could
        // hold something served has expired (the longest TTL in the world, a day at most).
        self.tick_due().await?;
        self.settle().await?;
        let tail = self.observer.max_ttl().max(3600);
        let until = self
            .now()
            .checked_add(SignedDuration::from_secs(i64::from(tail)))
            .map_err(|e| e.to_string())?;
        self.run_until(until, false).await?;
        self.live.check(&self.world, "the end of the run").await;
        self.checks.extend(self.live.results());
        Ok(())
    }
}

/// A valid key to relay in a scripted step: the registrar's operator ZSK for the domain if it
/// hosts it, else a fixture key of its algorithm.
async fn relay_key(
    world: &World,
    registrar: usize,
    domain: &str,
) -> Result<epp::secdns::KeyData, String> {
    let mut op = world.operators[registrar].lock().await;
    if op.hosted().iter().any(|d| d == domain)
        && let Ok(mut k) = op.zsk_key_data(domain)
        && !k.is_empty()
    {
        return Ok(k.remove(0));
    }
    let alg = match op.spec().algorithm {
        8 => dnssec::KeyAlgorithm::RsaSha256,
        15 => dnssec::KeyAlgorithm::Ed25519,
        _ => dnssec::KeyAlgorithm::EcdsaP256Sha256,
    };
    let pair = dnssec::fixture_keys::key(alg, 3);
    Ok(crate::world::operator::key_data(&pair.dnskey(256)))
}

/// Marks expected failures, and missed ones, per the scenario's `[expect]`.
fn apply_expectations(s: &Scenario, checks: &mut Vec<CheckResult>) {
    for c in checks.iter_mut() {
        if c.outcome == Outcome::Fail && s.expect.failures.contains(&c.check) {
            c.outcome = Outcome::ExpectedFail;
        }
    }
    for want in &s.expect.failures {
        if !checks
            .iter()
            .any(|c| c.check == *want && c.outcome == Outcome::ExpectedFail)
        {
            checks.push(CheckResult {
                check: *want,
                severity: want.severity(),
                outcome: Outcome::UnexpectedPass,
                message: format!("the scenario expects {want} to fail (a deliberate fault), but it held: the fault was not caught"),
                at: None,
                step: None,
                evidence: Vec::new(),
            });
        }
    }
    let _ = ChainExpectation::Any;
}

impl Run {
    fn fail(
        &mut self,
        check: CheckId,
        message: String,
        at: Option<Timestamp>,
        evidence: Vec<String>,
    ) {
        self.checks.push(CheckResult {
            check,
            severity: check.severity(),
            outcome: Outcome::Fail,
            message,
            at,
            step: None,
            evidence,
        });
    }

    fn pass(&mut self, check: CheckId, message: String) {
        self.checks.push(CheckResult {
            check,
            severity: check.severity(),
            outcome: Outcome::Pass,
            message,
            at: None,
            step: None,
            evidence: Vec::new(),
        });
    }

    /// Evaluates every check at the end of the run.
    async fn evaluate(&mut self) {
        let scenario = self.world.scenario.clone();
        let start = scenario.world.start;
        let now = self.now();

        // The chain of trust, from the observation timeline.
        let chain = crate::evaluate::chain(&self.world, &self.observer, &scenario);
        self.observer.set_combinations(chain.combinations);
        self.checks.extend(chain.checks);

        // Registrar processes followed the protocol.
        let mut failures = self.registrar_errors.clone();
        let mut processes = 0;
        for p in self.players.iter().flatten() {
            if let Player::Process(p) = p {
                processes += 1;
                failures.extend(p.failure().map(str::to_string));
            }
        }
        if !failures.is_empty() {
            self.fail(
                CheckId::RegistrarFailure,
                failures[0].clone(),
                None,
                failures,
            );
        } else if processes > 0 {
            self.pass(
                CheckId::RegistrarFailure,
                format!("{processes} registrar process(es) followed the adapter protocol"),
            );
        }

        // Every command a registrar sent in the procedure was accepted.
        let clids: Vec<String> = scenario.registrars.iter().map(|r| r.clid.clone()).collect();
        let refused: Vec<String> = {
            let reg = self
                .world
                .registry
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            reg.log()
                .iter()
                .enumerate()
                .filter(|(i, e)| {
                    !e.code.is_success()
                        && e.cl_id.as_ref().is_some_and(|c| clids.contains(c))
                        && e.cl_trid.as_deref() != Some("SETUP-0001")
                        && !self.scripted.iter().any(|r| r.contains(i))
                })
                .map(|(_, e)| {
                    format!(
                        "{} {} {} {} → {} {}",
                        crate::report::human(e.time.duration_since(start)),
                        e.cl_id.as_deref().unwrap_or("-"),
                        e.command,
                        e.object.as_deref().unwrap_or(""),
                        e.code,
                        e.detail.as_deref().unwrap_or("")
                    )
                })
                .collect()
        };
        if refused.is_empty() {
            self.pass(
                CheckId::EppRefused,
                "the registry accepted every command of the procedure".into(),
            );
        } else {
            self.fail(
                CheckId::EppRefused,
                format!(
                    "the registry refused {} command(s): {}",
                    refused.len(),
                    refused[0]
                ),
                None,
                refused,
            );
        }

        // Every procedure finished, in time.
        let mut incomplete = Vec::new();
        for (i, r) in self.reports.iter().enumerate() {
            let label = &scenario.registrars[i].label;
            incomplete.extend(
                r.failed
                    .iter()
                    .map(|(d, why)| format!("{label}: {d}: gave up: {why}")),
            );
            incomplete.extend(
                r.busy
                    .iter()
                    .map(|d| format!("{label}: {d}: still running at the end")),
            );
        }
        for (d, to, _) in &self.transfers {
            let label = &scenario.registrars[*to].label;
            let known = self.reports[*to].done.contains(d)
                || self.reports[*to].failed.iter().any(|(x, _)| x == d)
                || self.reports[*to].busy.contains(d);
            if !known {
                incomplete.push(format!("{label}: {d}: never started"));
            }
        }
        if incomplete.is_empty() {
            self.pass(
                CheckId::ProcedureIncomplete,
                "every registrar finished its part".into(),
            );
        } else {
            self.fail(
                CheckId::ProcedureIncomplete,
                incomplete[0].clone(),
                Some(now),
                incomplete,
            );
        }
        if let Some(limit) = scenario.expect.done_within {
            for (d, to, started) in self.transfers.clone() {
                match self.done_at.get(&(to, d.clone())) {
                    Some(done) if done.duration_since(started) <= limit => {
                        self.pass(
                            CheckId::Deadline,
                            format!(
                                "{d} moved in {}",
                                crate::report::human(done.duration_since(started))
                            ),
                        );
                    }
                    Some(done) => self.fail(
                        CheckId::Deadline,
                        format!(
                            "{d} took {}, more than {}",
                            crate::report::human(done.duration_since(started)),
                            crate::report::human(limit)
                        ),
                        Some(*done),
                        Vec::new(),
                    ),
                    None => self.fail(
                        CheckId::Deadline,
                        format!("{d} was not moved within {}", crate::report::human(limit)),
                        None,
                        Vec::new(),
                    ),
                }
            }
        }

        // The end state.
        for (di, ri) in scenario.expect.sponsor.clone() {
            let d = &scenario.domains[di].name;
            let want = &scenario.registrars[ri];
            match self.world.sponsor_of(d) {
                Some(got) if got == ri => self.pass(
                    CheckId::Sponsor,
                    format!("{d} is sponsored by {}", want.label),
                ),
                got => {
                    let got = got.map_or("nobody".to_string(), |g| {
                        scenario.registrars[g].label.clone()
                    });
                    self.fail(
                        CheckId::Sponsor,
                        format!("{d} is sponsored by {got}, expected {}", want.label),
                        Some(now),
                        Vec::new(),
                    );
                }
            }
        }
        for (di, rs) in scenario.expect.ds.clone() {
            let d = scenario.domains[di].name.clone();
            let mut want = Vec::new();
            for ri in &rs {
                if let Some(keys) = self.observer.own_dnskeys(*ri, &d) {
                    // A registrar with its own servers: the KSKs they serve now.
                    for k in keys.iter().filter(|k| k.secure_entry_point()) {
                        let k = crate::world::operator::key_data(k);
                        want.extend(mock_registry::registry::keys::ds_for(&d, &k));
                    }
                    continue;
                }
                let mut op = self.world.operators[*ri].lock().await;
                if let Ok(k) = op.ksk_key_data(&d) {
                    want.extend(mock_registry::registry::keys::ds_for(&d, &k));
                }
            }
            let got = match self.world.directory.parent {
                Some(p) => crate::dnsutil::ds(p, &d)
                    .await
                    .map(|(ds, _)| ds)
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            let tags = |v: &[hickory_proto::dnssec::rdata::DS]| {
                v.iter()
                    .map(|d| d.key_tag().to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let same = want.len() == got.len() && want.iter().all(|w| got.contains(w));
            if same {
                self.pass(
                    CheckId::FinalDs,
                    format!("{d}: the parent publishes DS {}", tags(&got)),
                );
            } else {
                let expected = rs
                    .iter()
                    .map(|r| scenario.registrars[*r].label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                self.fail(
                    CheckId::FinalDs,
                    format!(
                        "{d}: the parent publishes DS [{}], expected the KSK DS of {expected} [{}]",
                        tags(&got),
                        tags(&want)
                    ),
                    Some(now),
                    Vec::new(),
                );
            }
        }
        let mut stale = Vec::new();
        for (i, r) in scenario.registrars.iter().enumerate() {
            // Servers a registrar runs itself: a key they still serve that another
            // registrar's DNS served first is a foreign key left behind.
            for d in &scenario.domains {
                if !self.observer.runs_own_servers(i) {
                    continue;
                }
                let mine_src = |s: &Source| matches!(s, Source::Own(j, _) if *j == i);
                let mine_now = self.observer.served_dnskeys(mine_src, &d.name, true);
                let mine_ever = self.observer.served_dnskeys(mine_src, &d.name, false);
                let theirs = self.observer.served_dnskeys(
                    |s| s.registrar().is_some_and(|j| j != i),
                    &d.name,
                    false,
                );
                let left = mine_now
                    .iter()
                    .filter(|(k, _)| {
                        let first_mine = mine_ever.iter().find(|(x, _)| x == k).map(|(_, t)| *t);
                        theirs
                            .iter()
                            .any(|(x, t)| x == k && first_mine.is_none_or(|m| *t < m))
                    })
                    .count();
                if left > 0 {
                    stale.push(format!(
                        "registrar {}'s own servers still publish {left} foreign key(s) in {}",
                        r.label, d.name
                    ));
                }
            }
        }
        for (i, op) in self.world.operators.iter().enumerate() {
            if self.observer.runs_own_servers(i) {
                continue;
            }
            let op = op.lock().await;
            for d in op.hosted() {
                let f = op.foreign_keys(&d);
                if !f.is_empty() {
                    stale.push(format!(
                        "operator {} still publishes {} foreign key(s) in {d}",
                        scenario.registrars[i].label,
                        f.len()
                    ));
                }
            }
        }
        if stale.is_empty() {
            self.pass(
                CheckId::StaleKeys,
                "no operator publishes another operator's keys".into(),
            );
        } else {
            self.fail(CheckId::StaleKeys, stale[0].clone(), Some(now), stale);
        }
        if scenario.expect.queues_empty {
            let left: Vec<String> = {
                let reg = self
                    .world
                    .registry
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                clids
                    .iter()
                    .flat_map(|c| {
                        reg.queue(c).into_iter().map(move |m| {
                            format!("{c}: message {} queued at {} ({})", m.id, m.q_date, m.text)
                        })
                    })
                    .collect()
            };
            if left.is_empty() {
                self.pass(
                    CheckId::QueueNotDrained,
                    "every poll message was acknowledged".into(),
                );
            } else {
                self.fail(
                    CheckId::QueueNotDrained,
                    format!(
                        "{} poll message(s) never acknowledged: {}",
                        left.len(),
                        left[0]
                    ),
                    Some(now),
                    left,
                );
            }
        }
    }
}
