//! The resolver fleet (issue 17): real caching, validating resolvers (Unbound, BIND, Knot
//! Resolver, PowerDNS Recursor) resolving the moving domain over and over while it moves.
//!
//! In wall-clock mode with `--resolvers`, the world is built with [`Addressing::Port53`]
//! (every server on its own `127.x.y.z:53`), and one resolver of each kind is started with
//! the world's root key as its only trust anchor and root hints that point at the world's
//! root server ([`real_dns::resolver`]). From the first instant to the end of the run,
//! several clients ask every resolver, every sample period, each domain's checked names, its
//! DS and DNSKEY RRsets and a name that does not exist; every answer is kept, with the
//! resolver's log lines about the domain, in the [`FleetRecord`]. The runner only records;
//! [`crate::evaluate::fleet`] judges the answers against the cache model afterwards.
//!
//! [`Addressing::Port53`]: crate::world::Addressing::Port53

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use clock::Clock;
use hickory_proto::rr::RecordType;
use jiff::Timestamp;
use real_dns::resolver::{Resolver, ResolverKind, ResolverSetup, RootAnchor};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::error::HarnessError;
use crate::world::{World, WorldClock};

/// Log lines kept per resolver at most (a resolver logging without end must not fill memory).
const LOG_LINES_KEPT: usize = 20_000;

/// The first label of the name the clients ask to see a domain's denial (under the domain).
pub const NEGATIVE_LABEL: &str = "no-such-name-fleet";

/// One question the clients ask about a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetQuestion {
    /// The domain (index into the scenario's domains).
    pub domain: usize,
    /// The name asked (absolute, no trailing dot).
    pub name: String,
    /// The type asked.
    pub rtype: RecordType,
}

/// One answer of one resolver.
#[derive(Debug, Clone)]
pub struct FleetSample {
    /// The resolver (`unbound`, `bind`, `kresd`, `pdns-recursor`).
    pub resolver: ResolverKind,
    /// Which question (index into [`FleetRecord::questions`]).
    pub question: usize,
    /// When it was sent.
    pub sent: Timestamp,
    /// When the answer came (or the client gave up).
    pub answered: Timestamp,
    /// The answer, or why there was none.
    pub answer: Result<real_dns::ResolverAnswer, String>,
}

/// What the fleet recorded.
#[derive(Debug, Clone, Default)]
pub struct FleetRecord {
    /// The resolvers that ran, in order.
    pub resolvers: Vec<ResolverKind>,
    /// The questions every resolver was asked, every period.
    pub questions: Vec<FleetQuestion>,
    /// How often every question was asked.
    pub period: Duration,
    /// The failure caches each resolver was configured with, seconds (`val-bogus-ttl` and
    /// the like); where the software keeps failures longer whatever is configured, the
    /// checked-in resolver-policies.toml says so and the evaluation applies it.
    pub failure_cache: BTreeMap<ResolverKind, u32>,
    /// Every answer, in the order they came.
    pub samples: Vec<FleetSample>,
    /// Per resolver, its log lines that name a domain of the scenario, with the instant they
    /// were read (at most one sample period after they were written).
    pub logs: BTreeMap<ResolverKind, Vec<(Timestamp, String)>>,
}

impl FleetRecord {
    /// Queries made per resolver.
    pub fn queries(&self) -> BTreeMap<ResolverKind, usize> {
        let mut out: BTreeMap<ResolverKind, usize> =
            self.resolvers.iter().map(|k| (*k, 0)).collect();
        for s in &self.samples {
            *out.entry(s.resolver).or_default() += 1;
        }
        out
    }
}

/// Per resolver, its log lines about the scenario's domains, with when they were read.
type Logs = BTreeMap<ResolverKind, Vec<(Timestamp, String)>>;

/// What the clients return: every answer, and the logs.
type Sampled = (Vec<FleetSample>, Logs);

/// A running fleet: the resolvers and the clients asking them.
#[derive(Debug)]
pub struct Fleet {
    resolvers: Vec<Arc<Resolver>>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<Sampled>>,
    questions: Vec<FleetQuestion>,
    period: Duration,
    failure_ttl: u32,
}

/// The questions asked about each domain: its checked names, its DS and DNSKEY RRsets, and a
/// name that does not exist.
pub fn questions(world: &World) -> Vec<FleetQuestion> {
    let mut out = Vec::new();
    for (i, d) in world.scenario.domains.iter().enumerate() {
        let domain = d.name.trim_end_matches('.').to_ascii_lowercase();
        let mut push = |name: String, rtype: RecordType| {
            let q = FleetQuestion {
                domain: i,
                name: name.trim_end_matches('.').to_ascii_lowercase(),
                rtype,
            };
            if !out.contains(&q) {
                out.push(q);
            }
        };
        for (name, rtype) in &d.checks {
            if let Ok(t) = rtype.parse::<RecordType>() {
                push(name.clone(), t);
            }
        }
        push(domain.clone(), RecordType::DS);
        push(domain.clone(), RecordType::DNSKEY);
        push(format!("{NEGATIVE_LABEL}.{domain}"), RecordType::A);
    }
    out
}

impl Fleet {
    /// Starts one resolver of each kind for `world` (built with port-53 addressing) and the
    /// clients asking them every `period`. Resolvers that started are stopped again when
    /// another fails to start.
    pub async fn start(
        world: &World,
        kinds: &[ResolverKind],
        period: Duration,
    ) -> Result<Self, HarnessError> {
        let anchor = &world.anchor.ds;
        let digest_hex = data_encoding::HEXUPPER.encode(anchor.digest());
        let mut setup = ResolverSetup::new(
            world.root_hints(),
            RootAnchor {
                key_tag: anchor.key_tag(),
                algorithm: u8::from(anchor.algorithm()),
                digest_type: u8::from(anchor.digest_type()),
                digest_hex,
            },
        );
        // A failure itself is cached for a minute or so by default; scaled like every TTL,
        // that is under a second, and 1 s is every software's floor.
        setup.failure_ttl = 1;
        let mut starting = JoinSet::new();
        for (i, kind) in kinds.iter().enumerate() {
            let setup = setup.clone();
            let kind = *kind;
            starting.spawn(async move { (i, kind, Resolver::start(kind, &setup).await) });
        }
        let mut started: Vec<(usize, Arc<Resolver>)> = Vec::new();
        let mut failed = Vec::new();
        while let Some(r) = starting.join_next().await {
            match r {
                Ok((i, _, Ok(resolver))) => started.push((i, Arc::new(resolver))),
                Ok((_, kind, Err(e))) => failed.push(format!("{kind}: {e}")),
                Err(e) => failed.push(format!("a resolver start task failed: {e}")),
            }
        }
        if !failed.is_empty() {
            for (_, r) in &started {
                let _gone = r.stop().await;
            }
            return Err(HarnessError::failed(format!(
                "the resolver fleet did not start: {}",
                failed.join("; ")
            )));
        }
        started.sort_by_key(|(i, _)| *i);
        let resolvers: Vec<Arc<Resolver>> = started.into_iter().map(|(_, r)| r).collect();
        let questions = questions(world);
        let domains: Vec<String> = world
            .scenario
            .domains
            .iter()
            .map(|d| d.name.trim_end_matches('.').to_ascii_lowercase())
            .collect();
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(sample(
            resolvers.clone(),
            questions.clone(),
            domains,
            world.clock.clone(),
            period,
            stopped,
        ));
        Ok(Self {
            resolvers,
            stop,
            task: Some(task),
            questions,
            period,
            failure_ttl: setup.failure_ttl,
        })
    }

    /// The resolvers (addresses, pids, logs).
    pub fn resolvers(&self) -> &[Arc<Resolver>] {
        &self.resolvers
    }

    /// Stops the clients, then every resolver (by process id), and returns what was recorded.
    pub async fn finish(mut self) -> FleetRecord {
        let _ = self.stop.send(true);
        let (samples, logs) = match self.task.take() {
            Some(t) => t.await.unwrap_or_default(),
            None => Default::default(),
        };
        for r in &self.resolvers {
            if let Err(e) = r.stop().await {
                tracing::warn!("stopping {}: {e}", r.kind());
            }
        }
        FleetRecord {
            resolvers: self.resolvers.iter().map(|r| r.kind()).collect(),
            questions: std::mem::take(&mut self.questions),
            period: self.period,
            failure_cache: self
                .resolvers
                .iter()
                .map(|r| (r.kind(), self.failure_ttl))
                .collect(),
            samples,
            logs,
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        // Dropping the resolvers kills their processes; the sampler ends with the channel.
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// The clients: every period, every question to every resolver, each from its own socket
/// and not waiting for the others; the logs read as they grow.
async fn sample(
    resolvers: Vec<Arc<Resolver>>,
    questions: Vec<FleetQuestion>,
    domains: Vec<String>,
    clock: WorldClock,
    period: Duration,
    mut stopped: watch::Receiver<bool>,
) -> (
    Vec<FleetSample>,
    BTreeMap<ResolverKind, Vec<(Timestamp, String)>>,
) {
    let questions = Arc::new(questions);
    let mut samples = Vec::new();
    let mut logs: BTreeMap<ResolverKind, Vec<(Timestamp, String)>> = BTreeMap::new();
    let mut offsets = vec![0u64; resolvers.len()];
    let mut asking: JoinSet<FleetSample> = JoinSet::new();
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stopped.changed() => break,
        }
        for (ri, r) in resolvers.iter().enumerate() {
            let (lines, next) = r.log_since(offsets[ri]);
            offsets[ri] = next;
            let now = clock.now();
            let kept = logs.entry(r.kind()).or_default();
            for line in lines {
                let lower = line.to_ascii_lowercase();
                if kept.len() < LOG_LINES_KEPT && domains.iter().any(|d| lower.contains(d.as_str()))
                {
                    kept.push((now, line));
                }
            }
            for qi in 0..questions.len() {
                let r = r.clone();
                let questions = questions.clone();
                let clock = clock.clone();
                asking.spawn(async move {
                    let q = &questions[qi];
                    let sent = clock.now();
                    let answer = r.ask(&q.name, q.rtype).await.map_err(|e| e.to_string());
                    FleetSample {
                        resolver: r.kind(),
                        question: qi,
                        sent,
                        answered: clock.now(),
                        answer,
                    }
                });
            }
        }
        while let Some(done) = asking.try_join_next() {
            if let Ok(s) = done {
                samples.push(s);
            }
        }
    }
    while let Some(done) = asking.join_next().await {
        if let Ok(s) = done {
            samples.push(s);
        }
    }
    samples.sort_by_key(|s| (s.sent, s.resolver, s.question));
    (samples, logs)
}
