//! Plays one scenario: builds its world, plays the steps on a discrete-event virtual clock,
//! records what every DNS source serves after each change, and hands the [`Record`] to the
//! evaluation.
//!
//! The clock only moves by jumping to the next deadline anybody waits for: a registrar's
//! wake-up, a registry publication falling due, an operator's key expiry or re-signing. So a
//! procedure that waits days of TTLs runs in well under a second, and the same seed gives the
//! same run.
//!
//! **Architecture Invariant:** the runner only plays and records; it judges nothing. Every
//! check is a function of the record, in [`evaluate`](crate::evaluate).

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
use mock_registry::server::SharedRegistry;

use crate::checks::CheckId;
use crate::error::{Context, HarnessError, RegistrarError};
use crate::evaluate::{apply_expectations, evaluate};
use crate::fleet::Fleet;
use crate::live::LiveCheck;
use crate::observe::Observer;
use crate::operations::{Actors, Change, Operation, Signer};
use crate::record::{
    EndState, ExpectedCode, HostedZoneEnd, OperationRecord, OperatorEnd, Record, SeatRecord,
    TransferRecord,
};
use crate::registrar::protocol::{
    self, DnsChoice, DnsSetup, EppSetup, HostedOperator, ToRegistrar,
};
use crate::registrar::reference::{Config, ReferenceRegistrar};
use crate::registrar::subject::{self, SubjectProcess};
use crate::registrar::{
    LocalOperator, OperatorChangeRequest, Registrar, TickReport, TransferRequest,
};
use crate::report::lanes::{events, lanes};
use crate::report::{CheckResult, Outcome, ScenarioReport, human, timeline_rows};
use crate::scenario::{Dur, PlayedBy, Scenario, Step};
use crate::world::{Addressing, ClockMode, World};

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
    /// one (default [`crate::scenario::DEFAULT_POLL_INTERVAL`]).
    pub poll_interval: Option<u64>,
    /// Virtual time (the default) or the wall clock with a time scale.
    pub clock: ClockMode,
    /// Wall clock only: how often every DNS source is observed, besides right after every
    /// change the harness causes (default [`DEFAULT_SAMPLE`]).
    pub sample: Option<Duration>,
    /// Skip the live check (hickory-resolver against the harness's validator at every observed
    /// change). It checks the harness, not the registrar, and costs most of a run's time, so a
    /// search over many worlds may leave it out; `DNSSEC-LIVE-MISMATCH` then does not appear.
    pub no_live_check: bool,
    /// Wall clock only: real validating resolvers that resolve every domain throughout the
    /// run (the resolver fleet, [`crate::fleet`]); the world's servers then listen on their
    /// own `127.x.y.z:53`. Empty: no fleet.
    pub resolvers: Vec<real_dns::ResolverKind>,
    /// Virtual clock only: the harness's own DNS queries and the in-process reference
    /// registrars' EPP sessions reach the world's servers without sockets
    /// ([`World::serve_in_process`]): the same responders, the same TLS and EPP server code,
    /// the same verdicts, less kernel time. `harness explore` runs its worlds so.
    pub in_process: bool,
    /// Build the timeline, lanes, events and transcript of the report only when the run
    /// fails. A search over many worlds keeps nothing but the verdict of a passing world, and
    /// formatting every EPP frame of a world it then throws away was a few percent of its time.
    pub details_on_failure_only: bool,
}

/// How often every DNS source is observed on the wall clock by default.
pub const DEFAULT_SAMPLE: Duration = Duration::from_millis(250);

/// On the wall clock, how often a registrar is ticked at least, to collect its status (a
/// registrar acts on its own timers there; ticks only ask where it stands).
const STATUS_PERIOD: Duration = Duration::from_secs(1);

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
        verdicts: Vec::new(),
        lanes: Vec::new(),
        events: Vec::new(),
        transcript: Vec::new(),
        receipts: Vec::new(),
        error: None,
        clock: options.clock.name(),
        time_scale: options.clock.scale(),
        sample_ms: options.clock.is_wall().then(|| {
            u64::try_from(options.sample.unwrap_or(DEFAULT_SAMPLE).as_millis()).unwrap_or(u64::MAX)
        }),
    };
    let mut details = None;
    match play(scenario.clone(), options).await {
        Ok(played) => {
            // Judged against the scenario as played (on the wall clock: its scaled durations).
            let evaluation = evaluate(&played.scenario, &played.record);
            report.virtual_start = played.scenario.world.start;
            report.virtual_end = played.record.end;
            report.combinations = evaluation.combinations;
            report.verdicts = evaluation.verdicts;
            report.receipts = played
                .record
                .receipts
                .iter()
                .map(crate::report::ReceiptRow::of)
                .collect();
            report.checks = evaluation.checks;
            details = Some(played);
        }
        Err(e) => {
            let (check, e) = match e {
                PlayError::Harness(e) => (CheckId::HarnessFault, e.to_string()),
                PlayError::HarnessDuringRun(e, reached) => {
                    report.virtual_end = reached;
                    (CheckId::HarnessFault, e.to_string())
                }
                PlayError::Registrar(e) => (CheckId::RegistrarFailure, e.to_string()),
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
    if let Some(played) = details
        && !(options.details_on_failure_only && report.passed)
    {
        add_details(&mut report, played);
    }
    report.wall_seconds = wall.elapsed().as_secs_f64();
    report
}

/// The parts of a report for people: the timeline, the lanes, the events and the transcript.
fn add_details(report: &mut ScenarioReport, played: Played) {
    let scenario = &played.scenario;
    let start = scenario.world.start;
    let timed = played.transcript.lines();
    let events_seen: Vec<(Timestamp, String)> = timed
        .iter()
        // Not the EPP lines (`[A EPP] …`, `[A scripted EPP C] …`): the events take EPP from the
        // registry's log. A step or log line that merely mentions EPP stays.
        .filter(|(t, l)| {
            *t != Timestamp::MAX && !l.split(']').next().is_some_and(|tag| tag.contains(" EPP"))
        })
        .cloned()
        .collect();
    let domains: Vec<String> = scenario.domains.iter().map(|d| d.name.clone()).collect();
    report.timeline = timeline_rows(
        &played.record.observations,
        start,
        &domains,
        &report.verdicts,
        &events_seen,
    );
    report.lanes = lanes(
        &played.record.observations,
        &domains,
        start,
        report.virtual_end,
    );
    let clids: Vec<(String, String)> = (scenario.registrars.iter())
        .map(|r| (r.clid.clone(), r.label.clone()))
        .collect();
    report.events = events(&events_seen, &played.record.registry_log, &clids);
    report.transcript = timed
        .into_iter()
        .map(|(t, l)| {
            if t == Timestamp::MAX {
                l
            } else {
                format!("{} {l}", human(t.duration_since(start)))
            }
        })
        .collect();
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
                who.push_str(&format!(", polls every {}", human(p)));
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
    run_suite_observed(scenarios, options, jobs, |_| {}, done).await
}

/// [`run_suite`], also calling `started` when a scenario begins (once it has one of the
/// `jobs` slots), so a progress display can name what is running.
pub async fn run_suite_observed(
    scenarios: Vec<Scenario>,
    options: &RunOptions,
    jobs: usize,
    started: impl Fn(&Scenario) + Send + Sync + 'static,
    done: impl Fn(&ScenarioReport) + Send + Sync + 'static,
) -> Vec<ScenarioReport> {
    if !options.clock.is_wall() {
        return run_on_threads(scenarios, options, jobs, started, move |r| done(r)).await;
    }
    // On the wall clock, real resolvers and servers ask the world's DNS servers whenever they
    // like, and a late answer is a resolver failure: the servers must answer while the
    // scenario's own task computes (signs, judges), so they run on the caller's runtime with
    // its worker threads. On the virtual clock everything waits for the scenario in turn.
    let semaphore = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let started = Arc::new(started);
    let done = Arc::new(done);
    let mut tasks = Vec::new();
    for s in scenarios {
        let s = Arc::new(s);
        let options = options.clone();
        let permit = semaphore.clone();
        let started = started.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permit.acquire_owned().await;
            started(&s);
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

/// Runs scenarios on the virtual clock `jobs` at a time, each thread one scenario at a time
/// on its own single-threaded runtime; `done` sees (and may trim) each report as it
/// finishes; reports in the scenarios' order. A scenario that panics is logged and has no
/// report.
///
/// A scenario's tasks (the EPP server's connections, the DNS servers, the registrars, the
/// live check's resolver and router) then never wake each other across threads. On a
/// multi-threaded runtime they did for nearly every frame and datagram: a scenario moving
/// 100 domains at once used about 8 s of CPU there and 4 s on one thread. Scenarios share
/// nothing, so separate threads use the cores as well.
pub(crate) async fn run_on_threads(
    scenarios: Vec<Scenario>,
    options: &RunOptions,
    jobs: usize,
    started: impl Fn(&Scenario) + Send + Sync + 'static,
    done: impl Fn(&mut ScenarioReport) + Send + Sync + 'static,
) -> Vec<ScenarioReport> {
    let threads = jobs.max(1).min(scenarios.len());
    let queue: Arc<std::sync::Mutex<std::collections::VecDeque<(usize, Scenario)>>> = Arc::new(
        std::sync::Mutex::new(scenarios.into_iter().enumerate().collect()),
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let started = Arc::new(started);
    let done = Arc::new(done);
    for t in 0..threads {
        let (queue, tx, started, done, options) = (
            queue.clone(),
            tx.clone(),
            started.clone(),
            done.clone(),
            options.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name(format!("scenario-{t}"))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!("a scenario thread has no runtime: {e}");
                        return;
                    }
                };
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                    let Some((i, s)) = next else { break };
                    started(&s);
                    let id = s.id.clone();
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        runtime.block_on(run_scenario(Arc::new(s), &options))
                    }));
                    let Ok(mut r) = run else {
                        tracing::error!("scenario {id} panicked");
                        continue;
                    };
                    done(&mut r);
                    if tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a scenario thread: {e}");
        }
    }
    drop(tx);
    let mut out = Vec::new();
    while let Some(r) = rx.recv().await {
        out.push(r);
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Why a run could not be played to the end.
#[derive(Debug)]
enum PlayError {
    /// The harness failed (a server did not start, an observation failed).
    Harness(HarnessError),
    /// The harness failed while the steps were played, with the virtual time reached (the
    /// report's end, so a run that stopped years in does not read as one that never began).
    HarnessDuringRun(HarnessError, Timestamp),
    /// A registrar process failed before the run could start.
    Registrar(RegistrarError),
}

impl From<HarnessError> for PlayError {
    fn from(e: HarnessError) -> Self {
        Self::Harness(e)
    }
}

/// One registrar's seat: who plays it and where its procedures stand.
#[derive(Debug)]
struct Seat {
    /// The label in the scenario (`A`, `B`).
    label: String,
    registrar: Box<dyn Registrar>,
    /// Its last tick report.
    report: TickReport,
    /// When it wants its next tick.
    wake: Option<Timestamp>,
    /// The newest poll message id it could have seen at its last tick.
    seen_upto: u64,
    /// When each of its procedures (by domain) was first seen done.
    done_at: BTreeMap<String, Timestamp>,
    /// When it was last ticked.
    last_tick: Option<Timestamp>,
}

/// A run played to the end: the record to judge, and what its transcript is made from.
struct Played {
    /// The scenario as played: on the wall clock, scaled and starting at the run's start.
    scenario: Arc<Scenario>,
    record: Record,
    transcript: TranscriptSource,
}

/// What a run's transcript is made from, kept unformatted: most of it is the text of every
/// EPP frame, and a passing world of `harness explore` needs none of it
/// ([`RunOptions::details_on_failure_only`]).
struct TranscriptSource {
    scenario: Arc<Scenario>,
    registry: SharedRegistry,
    step_names: Vec<(Timestamp, String)>,
    /// Each registrar with its label, in the scenario's order.
    registrars: Vec<(String, Box<dyn Registrar>)>,
    /// Each operation's operator and log.
    operations: Vec<(usize, Vec<(Timestamp, String)>)>,
}

impl TranscriptSource {
    /// Steps, registrar log lines and EPP, in order, with virtual times (`Timestamp::MAX` for
    /// EPP frames, which carry none).
    fn lines(&self) -> Vec<(Timestamp, String)> {
        let scenario = &self.scenario;
        let mut lines: Vec<(Timestamp, String)> = self.step_names.clone();
        for (label, registrar) in &self.registrars {
            lines.extend(registrar.transcript(label));
        }
        for (operator, log) in &self.operations {
            let label = &scenario.registrars[*operator].label;
            lines.extend(
                log.iter()
                    .map(|(t, l)| (*t, format!("[operator {label}] {l}"))),
            );
        }
        if let Ok(reg) = self.registry.lock() {
            lines.extend(
                reg.automation_log()
                    .iter()
                    .map(|e| (e.time, format!("[registry scanner] {e}"))),
            );
        }
        // The EPP frames of a registrar process are its own; the registry's log says what it
        // sent and what it got.
        if let Ok(reg) = self.registry.lock() {
            for ((label, registrar), r) in self.registrars.iter().zip(&scenario.registrars) {
                if !registrar.is_process() {
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
                            "[{label} EPP] {} {} → {}{}",
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
        lines
    }
}

/// The state of a run.
struct Run {
    world: World,
    seats: Vec<Seat>,
    observer: Observer,
    transfers: Vec<TransferRecord>,
    /// Registry log positions of scripted steps (their refusals are expected).
    scripted: Vec<std::ops::Range<usize>>,
    expected_codes: Vec<ExpectedCode>,
    step_names: Vec<(Timestamp, String)>,
    /// Refusals and failures of registrar processes met while playing steps.
    registrar_errors: Vec<String>,
    /// hickory-resolver against the pure validator on the current state (design.md §3).
    live: LiveCheck,
    /// Whether the live check runs.
    live_on: bool,
    /// Wall clock only: how often every source is observed, and when next.
    sample: Option<(SignedDuration, Timestamp)>,
    /// The reference operator's procedures the steps started.
    operations: Vec<Operation>,
    /// Operator steps a registrar process carries out in the operator role: (seat, domain,
    /// change, when asked).
    delegated: Vec<(usize, String, Change, Timestamp)>,
}

async fn play(scenario: Arc<Scenario>, options: &RunOptions) -> Result<Played, PlayError> {
    let fleet_on = !options.resolvers.is_empty();
    if fleet_on && !options.clock.is_wall() {
        return Err(HarnessError::failed(
            "the resolver fleet runs on the wall clock only (real resolvers read the system \
             clock): add --clock wall",
        )
        .into());
    }
    let addressing = if fleet_on {
        Addressing::Port53
    } else {
        Addressing::Loopback
    };
    let mut world = World::build_with(scenario.clone(), options.clock, addressing).await?;
    if options.in_process {
        world.serve_in_process().await;
    }
    let fleet = if fleet_on {
        Some(
            Fleet::start(
                &world,
                &options.resolvers,
                options.sample.unwrap_or(DEFAULT_SAMPLE),
            )
            .await?,
        )
    } else {
        None
    };
    // From here on the world's scenario (on the wall clock: scaled, starting now) is the one
    // every step, check and report reads.
    let scenario = world.scenario.clone();
    let mut seats: Vec<Option<Seat>> = scenario.registrars.iter().map(|_| None).collect();
    let mut own_dns = Vec::new();
    // Registrars that sponsor nothing at the start come first: only they may announce their
    // own servers (see below), and those must already be in the `hello` (and the directory)
    // of the others, who need their addresses when a domain moves back from them.
    let mut order: Vec<usize> = (0..scenario.registrars.len()).collect();
    order.sort_by_key(|i| scenario.domains.iter().any(|d| d.sponsor == *i));
    for i in order {
        let r = &scenario.registrars[i];
        let command = match r.played_by {
            PlayedBy::Subject => Some(options.subject.clone().ok_or_else(|| {
                HarnessError::failed(format!(
                    "registrar {} is played by the subject, but no --subject command was given",
                    r.label
                ))
            })?),
            PlayedBy::Reference => options.reference_process.clone(),
        };
        let registrar: Box<dyn Registrar> = match command {
            None => {
                let cfg = Config {
                    clid: r.clid.clone(),
                    password: world.password(i),
                    epp: world.epp.local_addr(),
                    tls: world.client_tls(i)?,
                    tld: scenario.world.tld.clone(),
                    fault: r.fault,
                    directory: world.directory.clone(),
                    poll_interval: r.poll_interval.unwrap_or_else(|| {
                        SignedDuration::from_secs(
                            options
                                .poll_interval
                                .unwrap_or(crate::scenario::DEFAULT_POLL_INTERVAL)
                                as i64,
                        )
                    }),
                    time_scale: world.mode.scale(),
                    relay_publish_delay: SignedDuration::from_secs(
                        i64::try_from(r.relay_publish_delay).unwrap_or(i64::MAX),
                    ),
                };
                let op = LocalOperator(world.operators[i].clone());
                // The in-process reference registrar is part of the harness: failing to
                // connect is the harness's fault.
                let reference = ReferenceRegistrar::connect(cfg, op)
                    .await
                    .map_err(|e| HarnessError::failed(e.to_string()))?;
                Box::new(reference)
            }
            Some(cmd) => {
                let hello = hello(&world, i, options.poll_interval)?;
                let p = SubjectProcess::start(
                    &r.label,
                    &cmd,
                    hello,
                    world.operators[i].clone(),
                    options.timeout.unwrap_or(subject::DEFAULT_TIMEOUT),
                )
                .await
                .map_err(PlayError::Registrar)?;
                let mut p = p;
                if controls_anything(&scenario, i) {
                    p.set_controls(
                        scenario
                            .registrars
                            .iter()
                            .enumerate()
                            .filter(|(_, r)| !r.operator.software.is_real())
                            .map(|(j, r)| (r.label.clone(), world.operators[j].clone()))
                            .collect(),
                    );
                }
                if let DnsChoice::Own { servers } = &p.dns {
                    if let Some(d) = scenario.domains.iter().find(|d| d.sponsor == i) {
                        return Err(PlayError::Registrar(RegistrarError::Process(format!(
                            "registrar {} announced its own DNS servers, but it sponsors {} at \
                             the start, whose zone is on the hosted operator: use the hosted \
                             operator when a scenario starts with a domain of yours",
                            r.label, d.name
                        ))));
                    }
                    let mut parsed = BTreeMap::new();
                    for (host, addr) in servers {
                        let addr: SocketAddr = addr.parse().map_err(|e| {
                            PlayError::Registrar(RegistrarError::Process(format!(
                                "registrar {}: announced server {host} at {addr:?}: {e}",
                                r.label
                            )))
                        })?;
                        let host = host.trim_end_matches('.').to_ascii_lowercase();
                        world.directory.hosts.insert(host.clone(), addr);
                        parsed.insert(host, addr);
                    }
                    own_dns.push((i, parsed));
                }
                Box::new(p)
            }
        };
        seats[i] = Some(Seat {
            label: r.label.clone(),
            registrar,
            report: TickReport::default(),
            wake: None,
            seen_upto: 0,
            done_at: BTreeMap::new(),
            last_tick: None,
        });
    }
    let seats: Vec<Seat> = seats.into_iter().flatten().collect();
    let mut observer = Observer::new(&world);
    for (i, servers) in &own_dns {
        observer.use_own_servers(*i, servers);
    }
    let live = LiveCheck::start(&world).await?;
    let mut run = Run {
        world,
        seats,
        observer,
        transfers: Vec::new(),
        scripted: Vec::new(),
        expected_codes: Vec::new(),
        step_names: Vec::new(),
        registrar_errors: Vec::new(),
        live,
        live_on: !options.no_live_check,
        sample: None,
        operations: Vec::new(),
        delegated: Vec::new(),
    };
    if run.world.clock.is_wall() {
        let period = SignedDuration::try_from(options.sample.unwrap_or(DEFAULT_SAMPLE))
            .unwrap_or(SignedDuration::from_millis(250));
        run.sample = Some((period, run.now()));
    }
    let played = run.play_steps().await;
    let snapshot = match &played {
        Ok(()) => Some(run.snapshot().await),
        Err(_) => None,
    };
    for seat in &mut run.seats {
        seat.registrar.shutdown().await;
    }
    let fleet = match fleet {
        Some(f) => Some(f.finish().await),
        None => None,
    };
    let reached = run.now();
    run.world.stop().await;
    if let Err(e) = played {
        return Err(PlayError::HarnessDuringRun(e, reached));
    }
    let (seats, end_state, registry_log, receipts, automation) =
        snapshot.ok_or_else(|| HarnessError::failed("no snapshot of a finished run"))?;
    let Run {
        world,
        seats: played_by,
        observer,
        transfers,
        step_names,
        scripted,
        expected_codes,
        registrar_errors,
        live,
        operations: carried_out,
        delegated,
        ..
    } = run;
    let mut operations: Vec<OperationRecord> = carried_out
        .iter()
        .map(|o| OperationRecord {
            domain: o.domain.clone(),
            operator: o.operator,
            change: o.change,
            started: o.started,
            done_at: o.done_at,
            failure: o.failure.clone(),
        })
        .collect();
    // What a registrar process in the operator role did is in its status, by domain.
    for (c, domain, change, started) in delegated {
        let seat = &seats[c];
        operations.push(OperationRecord {
            domain: domain.clone(),
            operator: c,
            change,
            started,
            done_at: seat.done_at.get(&domain).copied(),
            failure: seat
                .report
                .failed
                .iter()
                .find(|(d, _)| *d == domain)
                .map(|(_, why)| why.clone()),
        });
    }
    let transcript = TranscriptSource {
        scenario: world.scenario.clone(),
        registry: world.registry.clone(),
        step_names,
        registrars: played_by
            .into_iter()
            .map(|seat| (seat.label, seat.registrar))
            .collect(),
        operations: carried_out
            .into_iter()
            .map(|o| (o.operator, o.log))
            .collect(),
    };
    Ok(Played {
        scenario: world.scenario.clone(),
        record: Record {
            start: world.scenario.world.start,
            end: world.clock.now(),
            anchor: world.anchor.dnskey.clone(),
            observations: observer.finish(),
            seats,
            transfers,
            registry_log,
            receipts,
            scripted,
            expected_codes,
            registrar_errors,
            live: live.finish(),
            end_state,
            fleet,
            operations,
            automation,
        },
        transcript,
    })
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
fn hello(world: &World, i: usize, poll_interval: Option<u64>) -> Result<ToRegistrar, HarnessError> {
    let r = &world.scenario.registrars[i];
    let creds = world
        .pki
        .registrar(&r.clid)
        .ok_or_else(|| HarnessError::failed(format!("no credentials for {}", r.clid)))?;
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
        poll_interval: whole_seconds(r.poll_interval).or(poll_interval),
        relay_publish_delay: (r.relay_publish_delay > 0).then_some(r.relay_publish_delay),
        clock: clock_setup(world, i, whole_seconds(r.poll_interval).or(poll_interval)),
        controls: if controls_anything(&world.scenario, i) {
            controlled(&world.scenario)
        } else {
            Vec::new()
        },
    })
}

/// Whether registrar `i` plays the controller of some operator step.
fn controls_anything(s: &Scenario, i: usize) -> bool {
    s.steps
        .iter()
        .any(|st| matches!(st, Step::Operator { controller: Some(c), .. } if *c == i))
}

/// The operators a controller may drive: every built-in operator of the scenario.
fn controlled(s: &Scenario) -> Vec<protocol::ControlledOperator> {
    s.registrars
        .iter()
        .filter(|r| !r.operator.software.is_real())
        .map(|r| protocol::ControlledOperator {
            label: r.label.clone(),
            ns: r.operator.ns.clone(),
            algorithm: r.operator.algorithm,
            signals: r.operator.signals,
            ttl_dnskey: r.operator.ttl_dnskey,
            ttl_ns: r.operator.ttl_ns,
        })
        .collect()
}

/// A duration in whole seconds, rounded up, at least one: the adapter protocol's unit.
fn whole_seconds(d: Option<SignedDuration>) -> Option<u64> {
    d.map(|d| {
        u64::try_from(d.as_millis().max(1))
            .unwrap_or(u64::MAX)
            .div_ceil(1000)
    })
}

/// The clock part of `hello`: the mode, the scale, and the world's TTLs as scaled.
fn clock_setup(world: &World, i: usize, poll_interval: Option<u64>) -> protocol::ClockSetup {
    let w = &world.scenario.world;
    let o = &world.scenario.registrars[i].operator;
    protocol::ClockSetup {
        mode: world.mode.name().to_string(),
        time_scale: world.mode.scale(),
        ttls: protocol::Ttls {
            tld_ds: w.ttl_ds,
            tld_ns: w.ttl_ns,
            tld_dnskey: w.ttl_dnskey,
            propagation_delay: u64::try_from(w.propagation_delay.as_secs().max(0)).unwrap_or(0),
            dnskey: o.ttl_dnskey,
            ns: o.ttl_ns,
            data: o.ttl_data,
            negative: o.ttl_negative,
            poll_interval: poll_interval.unwrap_or(crate::scenario::DEFAULT_POLL_INTERVAL),
        },
    }
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
        Step::Operator {
            domain,
            change,
            fault,
            ..
        } => format!(
            "the operator of {} starts {}{}",
            s.domains[*domain].name,
            change.name(),
            fault
                .map(|f| format!(" (fault {})", f.name()))
                .unwrap_or_default()
        ),
    }
}

impl Run {
    fn now(&self) -> Timestamp {
        self.world.clock.now()
    }

    /// The scenario's steps, then the tail until caches empty. A registrar process that fails
    /// stops the steps (the others could wait on it forever); what happened until then is
    /// still recorded and judged.
    async fn play_steps(&mut self) -> Result<(), HarnessError> {
        let scenario = self.world.scenario.clone();
        self.settle_with(true).await?;
        for (i, step) in scenario.steps.iter().enumerate() {
            let now = self.now();
            self.step_names.push((
                now,
                format!("[step {}] {}", i + 1, describe(&scenario, step)),
            ));
            self.step(step).await?;
            if self.seats.iter().any(|s| s.registrar.failure().is_some()) {
                break;
            }
        }
        // Let caches empty after the last change, so the checker sees the whole tail.
        self.finish().await
    }

    /// What the checks need of the seats, the world's end state and the registry's log,
    /// taken when the run ends (before registrar processes are shut down).
    async fn snapshot(
        &self,
    ) -> (
        Vec<SeatRecord>,
        EndState,
        Vec<mock_registry::registry::LogEntry>,
        Vec<mock_registry::registry::IssuedReceipt>,
        Vec<mock_registry::registry::AutomationEvent>,
    ) {
        let seats = self
            .seats
            .iter()
            .map(|s| SeatRecord {
                report: s.report.clone(),
                failure: s.registrar.failure().map(str::to_string),
                process: s.registrar.is_process(),
                done_at: s.done_at.clone(),
            })
            .collect();
        let mut operators = Vec::new();
        for op in &self.world.operators {
            let mut op = op.lock().await;
            let mut zones = Vec::new();
            for d in op.hosted() {
                zones.push(HostedZoneEnd {
                    ksk: op.ksk_key_data(&d).await.ok(),
                    foreign_keys: op.foreign_keys(&d).len(),
                    foreign: op
                        .foreign_keys(&d)
                        .iter()
                        .map(|f| crate::world::operator::key_data(&f.dnskey))
                        .collect(),
                    zsks: op.zsk_key_data(&d).await.unwrap_or_default(),
                    domain: d,
                });
            }
            operators.push(OperatorEnd { zones });
        }
        let scenario = &self.world.scenario;
        let reg = self
            .world
            .registry
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let sponsors = scenario
            .domains
            .iter()
            .map(|d| {
                reg.domain(&d.name)
                    .and_then(|o| scenario.registrars.iter().position(|r| r.clid == o.sponsor))
            })
            .collect();
        let queues = scenario
            .registrars
            .iter()
            .map(|r| (r.clid.clone(), reg.queue(&r.clid)))
            .collect();
        (
            seats,
            EndState {
                sponsors,
                queues,
                operators,
            },
            reg.log().iter().cloned().collect(),
            reg.receipts().to_vec(),
            reg.automation_log().to_vec(),
        )
    }

    /// Publishes what is due and records what the servers serve whenever that changed (or,
    /// with `force`, in any case: after a fault or a scripted step, or when a server the
    /// harness does not control may have changed).
    async fn settle_with(&mut self, mut force: bool) -> Result<(), HarnessError> {
        for _ in 0..8 {
            let changed = self.world.publish().await?;
            if (changed || force) && self.observer.observe(self.now()).await? && self.live_on {
                // Every observed change is checked live, not only step boundaries.
                let label = format!(
                    "the change at {}",
                    checker::cache::offset(self.world.scenario.world.start, self.now())
                );
                self.live.check(&self.world, &label).await;
            }
            force = false;
            if !changed {
                break;
            }
        }
        Ok(())
    }

    /// On the wall clock, observes every source when a sample is due: servers the harness does
    /// not control (real software re-signing, a registrar's own servers) change on their own.
    async fn sample_if_due(&mut self) -> Result<(), HarnessError> {
        let Some((period, at)) = self.sample else {
            return Ok(());
        };
        let now = self.now();
        if now < at {
            return Ok(());
        }
        self.sample = Some((period, now.checked_add(period).unwrap_or(Timestamp::MAX)));
        self.settle_with(true).await
    }

    async fn settle(&mut self) -> Result<(), HarnessError> {
        // Servers a registrar runs itself change without the harness knowing: look every time.
        let force = self.observer.has_own_servers();
        self.settle_with(force).await
    }

    /// Ticks every registrar due now.
    async fn tick_due(&mut self) -> Result<(), HarnessError> {
        let now = self.now();
        let wall = self.world.clock.is_wall();
        for i in 0..self.seats.len() {
            let seat = &self.seats[i];
            // Due at its wake-up; without one, on the virtual clock whenever anything happens;
            // on the wall clock also at the status rate, whatever it asked for.
            let woken = match seat.wake {
                Some(w) => w <= now,
                None => !wall,
            };
            if !(woken || wall && status_due(seat.last_tick, now)) {
                continue;
            }
            let clid = &self.world.scenario.registrars[i].clid;
            let seen = self
                .world
                .registry
                .lock()
                .map(|r| r.queue(clid).iter().map(|m| m.id).max().unwrap_or(0))
                .unwrap_or(0);
            let seat = &mut self.seats[i];
            seat.seen_upto = seen;
            seat.last_tick = Some(now);
            let r = seat.registrar.tick(now).await;
            for d in &r.done {
                seat.done_at.entry(d.clone()).or_insert(now);
            }
            seat.wake = r.next_wake;
            seat.report = r;
            self.settle().await?;
        }
        for i in 0..self.operations.len() {
            if self.operations[i].wake().is_some_and(|w| w <= now) {
                self.operations[i].tick(now).await;
                self.settle().await?;
            }
        }
        Ok(())
    }

    /// Whether anybody still has work: a procedure running, a registry publication queued, a
    /// poll message a registrar has not had the chance to see, a relay the registry still
    /// watches for its receipt, or a relayed key an operator publishes until a later expiry.
    async fn busy(&self) -> bool {
        if self.seats.iter().any(|s| !s.report.busy.is_empty())
            || self.operations.iter().any(Operation::is_busy)
            || self.world.publisher.pending() > 0
        {
            return true;
        }
        let unseen = {
            let reg = self
                .world
                .registry
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            reg.next_receipt_deadline().is_some()
                || reg.automation_pending()
                || self
                    .world
                    .scenario
                    .registrars
                    .iter()
                    .zip(&self.seats)
                    .any(|(r, seat)| reg.queue(&r.clid).iter().any(|m| m.id > seat.seen_upto))
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
    async fn run_until(&mut self, limit: Timestamp, until_idle: bool) -> Result<(), HarnessError> {
        let mut rounds = 0u64;
        loop {
            rounds += 1;
            if rounds > 200_000 {
                let now = self.now();
                return Err(HarnessError::failed(format!(
                    "the run did not settle after 200000 rounds: at {} ({} of virtual time), \
                     {} before this stretch's end; every round is a poll, a publication or an \
                     expiry, so a world whose waits last years (TTLs, advance or run steps) \
                     needs more of them than a run allows: shorten them",
                    now,
                    checker::cache::offset(self.world.scenario.world.start, now),
                    Dur(limit.duration_since(now))
                )));
            }
            self.tick_due().await?;
            self.settle().await?;
            self.sample_if_due().await?;
            if until_idle && !self.busy().await {
                return Ok(());
            }
            let mut next: Vec<Timestamp> = self.seats.iter().filter_map(|s| s.wake).collect();
            next.extend(self.operations.iter().filter_map(Operation::wake));
            next.extend(self.world.next_deadline().await);
            if let Some((_, at)) = self.sample {
                // The wall clock: the next sample, and the next status tick of each registrar.
                next.push(at);
                next.extend(self.seats.iter().filter_map(|s| {
                    s.last_tick.and_then(|l| {
                        l.checked_add(SignedDuration::try_from(STATUS_PERIOD).ok()?)
                            .ok()
                    })
                }));
            }
            let now = self.now();
            let next = next.into_iter().filter(|t| *t > now).min();
            match next {
                Some(t) if t <= limit => {
                    self.world.clock.advance_to(t).await?;
                }
                _ => {
                    if !until_idle {
                        self.world.clock.advance_to(limit).await?;
                        self.tick_due().await?;
                        self.settle().await?;
                    }
                    return Ok(());
                }
            }
        }
    }

    async fn step(&mut self, step: &Step) -> Result<(), HarnessError> {
        let scenario = self.world.scenario.clone();
        let now = self.now();
        match step {
            Step::Transfer { domain, to } => {
                let name = scenario.domains[*domain].name.clone();
                let sponsor = self
                    .world
                    .sponsor_of(&name)
                    .ok_or_else(|| HarnessError::failed(format!("{name} does not exist")))?;
                let label = |i: usize| scenario.registrars[i].label.clone();
                let token = match self.seats[sponsor]
                    .registrar
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
                let request = TransferRequest {
                    domain: name.clone(),
                    token,
                    records: d.records.clone(),
                    checks: d.checks.clone(),
                    now,
                };
                if let Err(e) = self.seats[*to].registrar.transfer_in(request).await {
                    self.registrar_errors
                        .push(format!("{}: refused to move {name} in: {e}", label(*to)));
                    return Ok(());
                }
                self.seats[*to].wake = Some(now);
                self.transfers.push(TransferRecord {
                    domain: name,
                    to: *to,
                    started: now,
                });
            }
            Step::RequestToken { domain } => {
                let name = scenario.domains[*domain].name.clone();
                let sponsor = self
                    .world
                    .sponsor_of(&name)
                    .ok_or_else(|| HarnessError::failed(format!("{name} does not exist")))?;
                if let Err(e) = self.seats[sponsor]
                    .registrar
                    .request_token(&name, now)
                    .await
                {
                    let label = &scenario.registrars[sponsor].label;
                    self.registrar_errors
                        .push(format!("{label}: refused the token of {name}: {e}"));
                }
            }
            Step::Run { limit } => {
                let until = now.checked_add(*limit).context("the run's end")?;
                self.run_until(until, true).await?;
            }
            Step::Advance { by } => {
                let until = now.checked_add(*by).context("the run's end")?;
                self.run_until(until, false).await?;
            }
            Step::Operator {
                domain,
                change,
                fault,
                signer,
                controller: Some(c),
            } if self.seats[*c].registrar.is_process() => {
                let actors = self.actors(*domain, *change, *signer).await?;
                let name = scenario.domains[*domain].name.clone();
                let label = |i: usize| scenario.registrars[i].label.clone();
                let other = match (*change, signer) {
                    (Change::MultiSignerJoin, _) => self.world.sponsor_of(&name).map(label),
                    (Change::MultiSignerLeave, Some(s)) => {
                        let mut staying = None;
                        for (j, op) in self.world.operators.iter().enumerate() {
                            if j != *s && op.lock().await.hosted().contains(&name) {
                                staying = Some(label(j));
                            }
                        }
                        staying
                    }
                    _ => None,
                };
                let request = OperatorChangeRequest {
                    now,
                    domain: name.clone(),
                    change: change.name().to_string(),
                    signer: label(actors.operator),
                    other,
                    records: actors.records.clone(),
                    fault: fault.map(|f| f.name().to_string()),
                };
                match self.seats[*c].registrar.operator_change(request).await {
                    Ok(()) => {
                        self.delegated.push((*c, name, *change, now));
                        // Its next tick begins the change, whatever wake it asked for.
                        self.seats[*c].wake = Some(now);
                    }
                    Err(e) => self.registrar_errors.push(format!(
                        "{}: refused the {} of {name}: {e}",
                        label(*c),
                        change.name()
                    )),
                }
                self.tick_due().await?;
            }
            Step::Operator {
                domain,
                change,
                fault,
                signer,
                ..
            } => {
                let actors = self.actors(*domain, *change, *signer).await?;
                let name = &scenario.domains[*domain].name;
                self.operations.push(Operation::new(
                    name,
                    *change,
                    *fault,
                    actors,
                    self.world.mode.scale(),
                    now,
                ));
                self.tick_due().await?;
            }
            Step::OperatorFault { operator, fault } => {
                self.world.operators[*operator]
                    .lock()
                    .await
                    .set_fault(*fault, now)
                    .await
                    .context("operator fault")?;
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
                        XsDuration::parse(e).with_context(|| format!("expiry {e}"))?,
                    )),
                    Some(e) => Some(Expiry::Absolute(
                        e.parse().with_context(|| format!("expiry {e}"))?,
                    )),
                };
                let key = relay_key(&self.world, *registrar, domain).await;
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
        Ok(())
    }

    /// Who carries out an operator step: the domain's operator (its sponsor's), or for a
    /// multi-signer change the joining signer with the domain's operator, or the leaving
    /// signer with the one other operator that serves the domain.
    async fn actors(
        &self,
        domain: usize,
        change: Change,
        signer: Option<usize>,
    ) -> Result<Actors, HarnessError> {
        let d = &self.world.scenario.domains[domain];
        let sponsor = self
            .world
            .sponsor_of(&d.name)
            .ok_or_else(|| HarnessError::failed(format!("{} does not exist", d.name)))?;
        let parent = self
            .world
            .directory
            .parent
            .ok_or_else(|| HarnessError::failed("the world has no parent server"))?;
        let operator = signer.unwrap_or(sponsor);
        let other = match change {
            Change::MultiSignerJoin => Some(sponsor),
            Change::MultiSignerLeave => {
                let mut others = Vec::new();
                for (j, op) in self.world.operators.iter().enumerate() {
                    if j != operator && op.lock().await.hosted().contains(&d.name) {
                        others.push(j);
                    }
                }
                match others.as_slice() {
                    [one] => Some(*one),
                    _ => {
                        return Err(HarnessError::failed(format!(
                            "multi-signer-leave of {}: {} other operator(s) serve it; a leave \
                             needs exactly one signer that stays",
                            d.name,
                            others.len()
                        )));
                    }
                }
            }
            _ => None,
        };
        if other == Some(operator) {
            return Err(HarnessError::failed(format!(
                "{} of {}: the signer is the domain's own operator",
                change.name(),
                d.name
            )));
        }
        let other = match other {
            Some(j) => Some(Signer::local(self.world.operators[j].clone()).await),
            None => None,
        };
        Ok(Actors {
            operator,
            op: Signer::local(self.world.operators[operator].clone()).await,
            other,
            records: d.records.clone(),
            parent,
        })
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
    /// A scripted step checks a rule's answer, so the registry's chaos is paused meanwhile.
    async fn raw_epp(&mut self, registrar: usize, payload: &[u8]) -> Result<u16, HarnessError> {
        let dice = self.world.epp.chaos().clone();
        dice.set_paused(true);
        let got = self.raw_epp_unpaused(registrar, payload).await;
        dice.set_paused(false);
        got
    }

    async fn raw_epp_unpaused(
        &mut self,
        registrar: usize,
        payload: &[u8],
    ) -> Result<u16, HarnessError> {
        let tls = self.world.client_tls(registrar)?;
        let mut c = EppClient::connect(self.world.epp.local_addr(), tls, Duration::from_secs(10))
            .await
            .context("scripted EPP")?;
        let clid = self.world.scenario.registrars[registrar].clid.clone();
        c.login(&clid, &self.world.password(registrar))
            .await
            .context("scripted EPP login")?;
        let f = c.exchange_raw(payload).await.context("scripted EPP")?;
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
            other => Err(HarnessError::failed(format!(
                "expected a response, got {other:?}"
            ))),
        }
    }

    fn expect_code(&mut self, step: &Step, want: u16, got: u16) {
        self.expected_codes.push(ExpectedCode {
            step: describe(&self.world.scenario, step),
            at: self.now(),
            want,
            got,
        });
    }

    async fn finish(&mut self) -> Result<(), HarnessError> {
        // Everyone finishes what is due now, then time runs on until every cache that could
        // hold something served has expired (the longest TTL in the world, at least an hour,
        // scaled on the wall clock).
        self.tick_due().await?;
        self.settle().await?;
        let tail = self
            .observer
            .recorded()
            .max_ttl()
            .max((3600 / self.world.mode.scale()).max(1));
        let until = self
            .now()
            .checked_add(SignedDuration::from_secs(i64::from(tail)))
            .context("the run's end")?;
        self.run_until(until, false).await?;
        if self.live_on {
            self.live.check(&self.world, "the end of the run").await;
        }
        Ok(())
    }
}

/// On the wall clock, whether a registrar last ticked at `last` is due a status tick at `now`.
fn status_due(last: Option<Timestamp>, now: Timestamp) -> bool {
    last.is_none_or(|l| {
        SignedDuration::try_from(STATUS_PERIOD)
            .ok()
            .and_then(|p| l.checked_add(p).ok())
            .is_none_or(|due| due <= now)
    })
}

/// A valid key to relay in a scripted step: the registrar's operator ZSK for the domain if it
/// hosts it, else a fixture key of its algorithm.
async fn relay_key(world: &World, registrar: usize, domain: &str) -> epp::secdns::KeyData {
    let mut op = world.operators[registrar].lock().await;
    if op.hosted().iter().any(|d| d == domain)
        && let Ok(mut k) = op.zsk_key_data(domain).await
        && !k.is_empty()
    {
        return k.remove(0);
    }
    let alg = match op.spec().algorithm {
        8 => dnssec::KeyAlgorithm::RsaSha256,
        15 => dnssec::KeyAlgorithm::Ed25519,
        _ => dnssec::KeyAlgorithm::EcdsaP256Sha256,
    };
    let pair = dnssec::fixture_keys::key(alg, 3);
    crate::world::operator::key_data(&pair.dnskey(256))
}
