//! The reference registrar: the secure registrar change, both roles, written to be read.
//!
//! The gaining side follows protocol-notes §5.2, i.e. RFC 6781 §4.3.5.1 with Double-DS and
//! pre-published ZSKs (RFC 8901 model 2; SIDN's "IETF method"), with RFC 8063 key relay as the
//! channel to the losing operator:
//!
//! 1. build the signed zone at its own operator, including the losing operator's ZSK;
//! 2. relay its ZSK with the token (`keyrelay:create`); the losing registrar publishes it;
//! 3. wait until the losing DNSKEY set with that key can be in every cache (its TTL);
//! 4. transfer with the token (SIDN: immediate) and add its own KSK, keeping the old DS;
//! 5. wait until the new DS set can be in every cache (the DS TTL);
//! 6. switch NS at the registry;
//! 7. wait out the old NS and everything the losing operator served;
//! 8. remove the old DS and wait out the DS TTL;
//! 9. stop publishing the losing ZSK.
//!
//! Where the registry offers key relay receipts (the experimental extension of
//! `docs/keyrelay-receipt.md`; the login announces every extension the greeting offers), step 3
//! waits for the registry's `published` receipt instead of asking the losing servers itself,
//! and gives up on `notPublished` or `withdrawn`.
//!
//! The losing side polls, publishes each relayed key until its expiry (revoking on `P0D` or a
//! past time), acknowledges every message, and retires the zone once the delegation has moved
//! and the relayed keys have expired.
//!
//! Every wait is computed from TTLs and delays observed over DNS, plus a margin; the registrar
//! talks to the registry only through EPP over TLS. Deliberate faults ([`Fault`]) change
//! exactly one decision each, so the harness can prove it catches each mistake.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use epp::domain::{self, AddRem, NsList};
use epp::keyrelay::{self, Expiry, KeyRelayData};
use epp::message::{
    Check, CommandExtension, CommandKind, Create, Info, Poll, ResData, Response, ResponseExtension,
    Transfer, TransferOp, Update,
};
use epp::receipt::{Receipt, State as ReceiptState};
use epp::secdns::{self, DsData, DsOrKey, DsOrKeySet, KeyData, Remove};
use epp::{AuthInfo, ResultCode, XsDuration, host, uri};
use hickory_proto::dnssec::PublicKey;
use jiff::{SignedDuration, Timestamp};
use mock_registry::client::{ClientError, EppClient, TranscriptEntry};

use super::{
    BoxFuture, LocalOperator, OperatorApi, Registrar, RegistrarError, TickReport, TransferRequest,
};
use crate::dnsutil::{self, Directory};
use crate::scenario::Fault;

/// How to reach the registry and the DNS.
#[derive(Debug, Clone)]
pub struct Config {
    /// The clID it logs in to the registry with.
    pub clid: String,
    /// The password it logs in to the registry with.
    pub password: String,
    /// Registry EPP address.
    pub epp: SocketAddr,
    /// TLS client configuration with the registrar's certificate.
    pub tls: Arc<rustls::ClientConfig>,
    /// The TLD the registry runs, without dots (`nl`).
    pub tld: String,
    /// A deliberate mistake.
    pub fault: Option<Fault>,
    /// Where name servers answer.
    pub directory: Directory,
    /// How often to poll the registry and re-check DNS while waiting.
    pub poll_interval: SignedDuration,
    /// What the registrar's own fixed durations (its patience, its smallest margin and wait)
    /// are divided by: 1 on the virtual clock, the run's time scale on the wall clock, where
    /// the world's TTLs and delays are divided too. Waits read from TTLs need no scaling.
    pub time_scale: u32,
    /// Losing side: how long after reading a relayed key it publishes it (zero: at once).
    /// Not a mistake: a slow counterpart a correct gaining registrar must wait for.
    pub relay_publish_delay: SignedDuration,
}

impl Config {
    /// A fixed duration of the procedure on this registrar's clock, at least a second.
    fn scaled(&self, d: SignedDuration) -> SignedDuration {
        (d / i32::try_from(self.time_scale.max(1)).unwrap_or(i32::MAX))
            .max(SignedDuration::from_secs(1))
    }

    /// How long it waits for anything it does not control ([`PATIENCE`], scaled).
    fn patience(&self) -> SignedDuration {
        self.scaled(PATIENCE)
    }

    /// The safety margin added to a wait of `wait` seconds: a tenth, at least a minute
    /// (scaled).
    fn margin(&self, wait: u32) -> SignedDuration {
        SignedDuration::from_secs(i64::from(wait / 10))
            .max(self.scaled(SignedDuration::from_mins(1)))
    }

    /// `secs` seconds and their margin after `t`.
    fn after(&self, t: Timestamp, secs: u32) -> Timestamp {
        t.checked_add(SignedDuration::from_secs(i64::from(secs)) + self.margin(secs))
            .unwrap_or(Timestamp::MAX)
    }

    /// The shortest wait before a DS is added or removed: an hour (scaled), in seconds.
    fn min_wait(&self) -> u32 {
        u32::try_from(self.scaled(SignedDuration::from_hours(1)).as_secs()).unwrap_or(3600)
    }
}

/// Where a gaining procedure is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Start,
    AwaitRelayPublished {
        since: Timestamp,
    },
    Transfer,
    AddDs,
    AwaitDs,
    SwitchNs,
    /// The `ns-host-misspelt` fault: the delegation names hosts nobody answers at until
    /// `at`, when it is corrected.
    FixMisspeltNs {
        at: Timestamp,
        misspelt: Vec<String>,
    },
    AwaitNs,
    RemoveOldDs,
    AwaitOldDsGone,
    RemoveOldZsk,
    /// Going insecure (or from unsigned): sign once the move is complete, wait, add the DS.
    SignBeforeDs,
    AddDsAfterMove,
    AwaitDsAfterMove,
    Done,
    Failed(String),
}

#[derive(Debug)]
struct Gain {
    domain: String,
    token: String,
    records: Vec<String>,
    checks: Vec<(String, String)>,
    step: Step,
    wake: Timestamp,
    losing_ns: Vec<String>,
    /// The losing operator's keys imported in our zone.
    imported: Vec<KeyData>,
    /// The DS source keys at the registry before the move (the losing KSKs).
    old_keys: Vec<KeyData>,
    my_ksk: Option<KeyData>,
    my_zsks: Vec<KeyData>,
    ttl_dnskey_losing: u32,
    ttl_ds: u32,
    ttl_ns_parent: u32,
    /// Whether the losing side signs at all (an unsigned domain moves without key exchange).
    losing_signed: bool,
    /// When the relayed key expires at the losing side.
    relay_expires: Option<Timestamp>,
    /// The server transaction id of our relay, which its receipts name.
    relay_sv_trid: Option<String>,
    /// The latest key relay receipt for that relay (when the registry offers them).
    receipt: Option<Receipt>,
    /// Whether the registry moved the domain to us.
    transferred: bool,
    /// When the current wait for the registry's publication began.
    waiting_since: Option<Timestamp>,
    /// The largest TTL the losing operator serves for the zone (SOA, NS, DNSKEY, every record,
    /// negative answers): how long caches may hold what it served.
    ttl_losing_max: u32,
    /// The losing operator's own NS TTL.
    ttl_ns_child: u32,
}

#[derive(Debug)]
struct Away {
    ns_gone_at: Option<Timestamp>,
    retire_at: Option<Timestamp>,
}

/// The reference registrar: both roles of the secure registrar change described in the module
/// documentation, over EPP and through its DNS operator `O`.
#[derive(Debug)]
pub struct ReferenceRegistrar<O> {
    cfg: Config,
    /// The current EPP session (none after the registry dropped one, until the next command).
    epp: Option<EppClient>,
    /// The frames of earlier connections (the registry dropped them, or refused a login).
    past_frames: Vec<TranscriptEntry>,
    /// How many connections it opened.
    connections: u32,
    op: O,
    gains: BTreeMap<String, Gain>,
    away: BTreeMap<String, Away>,
    /// Relayed keys read but not yet published ([`Config::relay_publish_delay`]).
    to_publish: Vec<LatePublication>,
    processed: BTreeSet<String>,
    next_poll: Option<Timestamp>,
    log: Vec<(Timestamp, String)>,
    /// Whether the session announced key relay receipts at login (the registry offered them).
    receipts: bool,
}

/// A relayed key the losing side publishes later.
#[derive(Debug, Clone)]
struct LatePublication {
    at: Timestamp,
    domain: String,
    from: String,
    key: KeyData,
    expiry: Option<Timestamp>,
}

/// How often in a row a command is sent again after a transient failure (`2400`) or a lost
/// connection, and a login tried again after `2502` (session limit) or a lost connection,
/// before the registrar gives up. A registry may answer 2400 and drop connections now and
/// then; neither changes anything (2400 is "not executed", RFC 5730 §3), so sending the
/// command again is safe. At a 30 % failure rate, thirty failures in a row happen once in
/// 10^15 commands.
const RETRIES: u32 = 30;

/// How long the reference registrar waits for anything it does not control: the losing side
/// to publish the relayed key (it polls on its own schedule), and the registry to publish each
/// change. Past it, it gives up and cleans up rather than wait forever. The relay expiry is
/// sized from it and the observed TTLs, so the key outlives the move in every world whose
/// delays stay within it.
const PATIENCE: SignedDuration = SignedDuration::from_hours(48);

/// The names and types whose TTLs bound how long caches may hold a zone's data: the apex
/// records every zone has, the registrant's checked names and every name of its records.
fn ttl_questions(
    domain: &str,
    records: &[String],
    checks: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = checks.to_vec();
    if let Ok(parsed) = crate::records::parse_all(domain, records) {
        for r in parsed {
            let q = (r.owner.to_ascii(), r.rtype.to_string());
            if !out.contains(&q) {
                out.push(q);
            }
        }
    }
    out
}

/// `P8DT3600S`: a whole number of days and seconds as an `xs:duration`.
fn xs_duration(d: SignedDuration) -> XsDuration {
    let secs = d.as_secs().max(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    XsDuration::parse(&format!("P{days}DT{rest}S"))
        .expect("invariant: digits and designators form an xs:duration")
}

/// Opens a logged-in EPP session, trying again (up to [`RETRIES`] times) when the registry
/// refuses the login for its session limit (`2502`), answers `2400`, or drops the
/// connection; the frames of the failed attempts go to `past`. `connection` numbers the
/// session, for clTRIDs that stay unique across sessions.
async fn open_session(
    cfg: &Config,
    connection: &mut u32,
    past: &mut Vec<TranscriptEntry>,
) -> Result<EppClient, RegistrarError> {
    let mut last = String::new();
    for _ in 0..RETRIES {
        *connection += 1;
        let mut epp =
            match EppClient::connect(cfg.epp, cfg.tls.clone(), Duration::from_secs(30)).await {
                Ok(c) => c,
                Err(e) => {
                    last = format!("cannot connect to the registry: {e}");
                    continue;
                }
            };
        let prefix = cfg.clid.to_ascii_uppercase();
        epp.set_trid_prefix(&if *connection == 1 {
            prefix
        } else {
            format!("{prefix}-S{connection}")
        });
        let r = epp.login(&cfg.clid, &cfg.password).await;
        match r {
            Ok(r) if r.code() == ResultCode::Success => return Ok(epp),
            Ok(r)
                if matches!(
                    r.code(),
                    ResultCode::SessionLimitExceededServerClosingConnection
                        | ResultCode::CommandFailed
                ) =>
            {
                last = format!("login refused: {}", r.code());
            }
            Ok(r) => {
                past.extend(epp.transcript().iter().cloned());
                return Err(RegistrarError::Connect(format!(
                    "{}: login refused: {}",
                    cfg.clid,
                    r.code()
                )));
            }
            Err(e) => last = format!("login: {e}"),
        }
        past.extend(epp.transcript().iter().cloned());
    }
    Err(RegistrarError::Connect(format!(
        "{}: no EPP session after {RETRIES} attempts: {last}",
        cfg.clid
    )))
}

/// Whether a client error means the connection is gone (the registry closed it, or it
/// broke), so the command never reached the registry or was answered before the close: a new
/// session may send it again. A timeout is not: the command may have been executed.
fn connection_lost(e: &ClientError) -> bool {
    matches!(e, ClientError::Io(_) | ClientError::Frame(_))
}

impl<O: OperatorApi> ReferenceRegistrar<O> {
    /// Connects to the registry and logs in.
    pub async fn connect(cfg: Config, op: O) -> Result<Self, RegistrarError> {
        let mut connections = 0;
        let mut past_frames = Vec::new();
        let epp = open_session(&cfg, &mut connections, &mut past_frames).await?;
        // `login` announces every extension the greeting offers.
        let receipts = epp
            .greeting()
            .ext_uris
            .iter()
            .any(|u| u == uri::KEYRELAY_RECEIPT);
        Ok(Self {
            cfg,
            epp: Some(epp),
            receipts,
            past_frames,
            connections,
            op,
            gains: BTreeMap::new(),
            away: BTreeMap::new(),
            to_publish: Vec::new(),
            processed: BTreeSet::new(),
            next_poll: None,
            log: Vec::new(),
        })
    }

    /// What it did, with virtual times.
    pub fn log(&self) -> &[(Timestamp, String)] {
        &self.log
    }

    /// The EPP exchanges of every session so far, in order, for transcripts.
    pub fn epp_transcript(&self) -> impl Iterator<Item = &TranscriptEntry> {
        self.past_frames
            .iter()
            .chain(self.epp.iter().flat_map(|e| e.transcript()))
    }

    fn note(&mut self, now: Timestamp, what: impl Into<String>) {
        let what = what.into();
        tracing::debug!(clid = %self.cfg.clid, %now, "{what}");
        self.log.push((now, what));
    }

    fn has(&self, f: Fault) -> bool {
        self.cfg.fault == Some(f)
    }

    /// When a wait of `secs` (read from TTLs and delays) that starts at `now` ends: after
    /// the seconds and their margin; with the `fixed-one-hour-waits` fault, after one hour
    /// whatever the TTLs, the naive registrar's hard-coded wait.
    fn wait_end(&self, now: Timestamp, secs: u32) -> Timestamp {
        if self.has(Fault::FixedOneHourWaits) {
            return now
                .checked_add(self.cfg.scaled(SignedDuration::from_hours(1)))
                .unwrap_or(Timestamp::MAX);
        }
        self.cfg.after(now, secs)
    }

    /// What a log line about a wait adds under the `fixed-one-hour-waits` fault.
    fn one_hour_note(&self) -> &'static str {
        if self.has(Fault::FixedOneHourWaits) {
            " (fault: waiting one hour instead)"
        } else {
            ""
        }
    }

    /// Sends a command, and sends it again after a transient failure (`2400`: not executed)
    /// or, in a new session, after the registry dropped the connection (see [`RETRIES`]).
    async fn cmd(
        &mut self,
        kind: CommandKind,
        ext: Vec<CommandExtension>,
    ) -> Result<Response, RegistrarError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let epp = match &mut self.epp {
                Some(epp) => epp,
                None => self.epp.insert(
                    open_session(&self.cfg, &mut self.connections, &mut self.past_frames).await?,
                ),
            };
            match epp.command(kind.clone(), ext.clone()).await {
                Ok(r) if r.code() == ResultCode::CommandFailed && attempt < RETRIES => {}
                Ok(r) => return Ok(r),
                Err(e) if connection_lost(&e) && attempt < RETRIES => {
                    // The session is gone: keep its frames, open a new one on the next try.
                    if let Some(lost) = self.epp.take() {
                        self.past_frames.extend(lost.transcript().iter().cloned());
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn cmd_ok(
        &mut self,
        what: &str,
        kind: CommandKind,
        ext: Vec<CommandExtension>,
    ) -> Result<Response, RegistrarError> {
        let r = self.cmd(kind, ext).await?;
        if !r.code().is_success() {
            let detail = r
                .sidn_errors()
                .first()
                .map(|d| format!(" [{}] {}", d.code, d.text))
                .unwrap_or_default();
            return Err(RegistrarError::EppRefused {
                what: what.to_string(),
                code: r.code(),
                detail,
            });
        }
        Ok(r)
    }

    /// The registrant asks for the transfer token: read it from the registry.
    pub async fn request_token(
        &mut self,
        domain: &str,
        now: Timestamp,
    ) -> Result<String, RegistrarError> {
        let r = self
            .cmd_ok(
                "domain info",
                CommandKind::Info(Info::Domain(domain::Info {
                    name: domain.into(),
                    hosts: domain::HostsFilter::None,
                    auth_info: None,
                })),
                Vec::new(),
            )
            .await?;
        let Some(ResData::DomainInfo(d)) = r.res_data else {
            return Err(RegistrarError::EppAnswer("domain info without data".into()));
        };
        let token = d
            .auth_info
            .and_then(|a| a.pw().map(str::to_string))
            .ok_or_else(|| {
                RegistrarError::EppAnswer("no token in domain info (not the sponsor?)".into())
            })?;
        self.note(now, format!("gave the registrant the token of {domain}"));
        Ok(token)
    }

    /// The registrant asks to move `domain` here with `token`; `records` is the zone content
    /// the registrant wants served, `checks` the names it cares about.
    pub fn transfer_in(&mut self, request: TransferRequest) {
        let TransferRequest {
            domain,
            token,
            records,
            checks,
            now,
        } = request;
        self.note(now, format!("registrant asks to move {domain} here"));
        self.gains.insert(
            domain.clone(),
            Gain {
                domain,
                token,
                records,
                checks,
                step: Step::Start,
                wake: now,
                losing_ns: Vec::new(),
                imported: Vec::new(),
                old_keys: Vec::new(),
                my_ksk: None,
                my_zsks: Vec::new(),
                ttl_dnskey_losing: 0,
                ttl_ds: 0,
                ttl_ns_parent: 0,
                losing_signed: true,
                relay_expires: None,
                relay_sv_trid: None,
                receipt: None,
                transferred: false,
                waiting_since: None,
                ttl_losing_max: 0,
                ttl_ns_child: 0,
            },
        );
    }

    /// Does whatever is due at `now`.
    pub async fn tick(&mut self, now: Timestamp) -> TickReport {
        if self.next_poll.is_none_or(|t| t <= now) {
            if let Err(e) = self.poll(now).await {
                self.note(now, format!("poll failed: {e}"));
            }
            if let Err(e) = self.retire(now).await {
                self.note(now, format!("retiring zones failed: {e}"));
            }
            self.next_poll = now.checked_add(self.cfg.poll_interval).ok();
        }
        if self.to_publish.iter().any(|p| p.at <= now)
            && let Err(e) = self.publish_late(now).await
        {
            self.note(now, format!("publishing relayed keys failed: {e}"));
        }
        let domains: Vec<String> = self.gains.keys().cloned().collect();
        for d in domains {
            let mut g = self
                .gains
                .remove(&d)
                .expect("invariant: key taken from the map");
            if g.wake <= now
                && !matches!(g.step, Step::Done | Step::Failed(_))
                && let Err(e) = self.advance(&mut g, now).await
            {
                self.note(now, format!("{d}: giving up: {e}"));
                g.step = Step::Failed(e.to_string());
                self.abort(&g, now).await;
            }
            self.gains.insert(d, g);
        }
        self.report()
    }

    fn report(&self) -> TickReport {
        let mut r = TickReport::default();
        let mut wakes: Vec<Timestamp> = self.next_poll.into_iter().collect();
        for g in self.gains.values() {
            match &g.step {
                Step::Done => r.done.push(g.domain.clone()),
                Step::Failed(why) => r.failed.push((g.domain.clone(), why.clone())),
                _ => {
                    r.busy.push(g.domain.clone());
                    wakes.push(g.wake);
                }
            }
        }
        wakes.extend(self.away.values().filter_map(|a| a.retire_at));
        wakes.extend(self.to_publish.iter().map(|p| p.at));
        // A key still to publish is work: the registrar is not idle until it is out.
        for p in &self.to_publish {
            if !r.busy.contains(&p.domain) {
                r.busy.push(p.domain.clone());
            }
        }
        // A zone that left is still ours to retire: the registrar is not idle until it is gone.
        r.busy.extend(self.away.keys().cloned());
        r.next_wake = wakes.into_iter().min();
        r
    }

    /// The gaining procedure: runs steps until one has to wait.
    async fn advance(&mut self, g: &mut Gain, now: Timestamp) -> Result<(), RegistrarError> {
        let parent = self
            .cfg
            .directory
            .parent
            .ok_or_else(|| RegistrarError::gave_up("no parent server in the directory"))?;
        let poll = self.cfg.poll_interval;
        loop {
            match g.step.clone() {
                Step::Start => self.start(g, now, parent).await?,
                Step::AwaitRelayPublished { since } => {
                    if self.has(Fault::NsSwitchedTooEarly) {
                        g.step = Step::Transfer;
                        continue;
                    }
                    if self.receipts {
                        self.await_receipt(g, now)?;
                        if g.step == Step::Transfer {
                            return Ok(());
                        }
                        g.wake = now.checked_add(poll).unwrap_or(Timestamp::MAX);
                        return Ok(());
                    }
                    // Step 3: every losing server must serve our ZSK before caches can learn it.
                    let mut all = true;
                    let mut ttl = g.ttl_dnskey_losing;
                    for addr in self.cfg.directory.addrs(&g.losing_ns) {
                        let (keys, t) = dnsutil::dnskeys(addr, &g.domain).await?;
                        ttl = ttl.max(t);
                        let published: Vec<KeyData> =
                            keys.iter().map(crate::world::operator::key_data).collect();
                        all &= g.my_zsks.iter().all(|k| published.contains(k));
                    }
                    if all {
                        g.ttl_dnskey_losing = ttl;
                        g.wake = self.wait_end(now, ttl);
                        g.step = Step::Transfer;
                        self.note(now, format!("{}: the losing operator publishes our ZSK; waiting {ttl}s (DNSKEY TTL) + margin{}", g.domain, self.one_hour_note()));
                        return Ok(());
                    }
                    if now.duration_since(since) > self.cfg.patience() {
                        return Err(RegistrarError::gave_up(format!(
                            "the losing operator did not publish the relayed key within {:#}",
                            self.cfg.patience()
                        )));
                    }
                    g.wake = now.checked_add(poll).unwrap_or(Timestamp::MAX);
                    return Ok(());
                }
                Step::Transfer => {
                    let r = self
                        .cmd_ok(
                            "transfer",
                            CommandKind::Transfer(
                                TransferOp::Request,
                                Transfer::Domain(domain::Transfer {
                                    name: g.domain.clone(),
                                    period: None,
                                    auth_info: Some(AuthInfo::password(g.token.clone())),
                                }),
                            ),
                            Vec::new(),
                        )
                        .await?;
                    self.note(now, format!("{}: transferred ({})", g.domain, r.code()));
                    g.transferred = true;
                    g.step = Step::AddDs;
                }
                Step::AddDs => {
                    if self.has(Fault::GoingInsecure) {
                        // The insecure way (RFC 6781 §4.3.5.2): no DS during the move.
                        self.update_secdns(&g.domain, Some(Remove::All(true)), None)
                            .await?;
                        self.note(
                            now,
                            format!("{}: removed every DS before the move", g.domain),
                        );
                        g.step = Step::AwaitOldDsGone;
                        continue;
                    }
                    if !g.losing_signed {
                        g.step = Step::SwitchNs;
                        continue;
                    }
                    let ksk = g
                        .my_ksk
                        .clone()
                        .ok_or_else(|| RegistrarError::gave_up("no KSK"))?;
                    if self.has(Fault::DsAsDsData) {
                        let ds = ds_data(&g.domain, &ksk)?;
                        self.cmd_ok(
                            "DS add (dsData)",
                            CommandKind::Update(Update::Domain(bare_update(&g.domain))),
                            vec![CommandExtension::SecDnsUpdate(secdns::Update {
                                urgent: false,
                                rem: None,
                                add: Some(DsOrKeySet {
                                    max_sig_life: None,
                                    data: DsOrKey::Ds(vec![ds]),
                                }),
                                chg: None,
                            })],
                        )
                        .await?;
                    } else {
                        self.update_secdns(&g.domain, None, Some(vec![ksk])).await?;
                    }
                    self.note(
                        now,
                        format!(
                            "{}: added our KSK as key data, keeping the old DS",
                            g.domain
                        ),
                    );
                    g.step = Step::AwaitDs;
                }
                Step::AwaitDs | Step::AwaitDsAfterMove => {
                    let mine = g
                        .my_ksk
                        .clone()
                        .ok_or_else(|| RegistrarError::gave_up("no KSK"))?;
                    let (ds, ttl) = dnsutil::ds(parent, &g.domain).await?;
                    let published = ds_matches(&g.domain, &mine, &ds);
                    if !published {
                        self.await_registry(g, now, "our DS")?;
                        return Ok(());
                    }
                    g.waiting_since = None;
                    g.ttl_ds = g.ttl_ds.max(ttl);
                    let last = g.step == Step::AwaitDsAfterMove;
                    if self.has(Fault::NsSwitchedTooEarly) && !last {
                        g.step = Step::SwitchNs;
                        continue;
                    }
                    g.wake = self.wait_end(now, g.ttl_ds);
                    self.note(
                        now,
                        format!(
                            "{}: the parent publishes our DS; waiting {}s (DS TTL) + margin{}",
                            g.domain,
                            g.ttl_ds,
                            self.one_hour_note()
                        ),
                    );
                    g.step = if last {
                        Step::RemoveOldZsk
                    } else {
                        Step::SwitchNs
                    };
                    return Ok(());
                }
                Step::SwitchNs => {
                    // The losing side must keep our key until caches can no longer hold its
                    // DNSKEY set: the switch must be published, then the parent NS, the losing
                    // NS and its DNSKEY (its largest TTL) can run out.
                    if let Some(expires) = g.relay_expires
                        && !self.has(Fault::NsSwitchedTooEarly)
                    {
                        let (max_losing, child_ns) = self.losing_ttls(g).await;
                        let need = g.ttl_ns_parent + child_ns + max_losing;
                        let safe_until = now
                            .checked_add(self.cfg.patience())
                            .and_then(|t| t.checked_add(SignedDuration::from_secs(i64::from(need))))
                            .and_then(|t| t.checked_add(self.cfg.margin(need)))
                            .unwrap_or(Timestamp::MAX);
                        if safe_until > expires {
                            return Err(RegistrarError::gave_up(format!(
                                "the relayed key expires at {expires}, before caches could forget \
                                 the losing DNSKEY set after an NS switch now"
                            )));
                        }
                    }
                    let mut mine = self.op.ns_names();
                    let misspelt = self.has(Fault::NsHostMisspelt);
                    if misspelt {
                        mine = mine.iter().map(|n| misspell(n)).collect();
                    }
                    if self.has(Fault::NsHostPartlyMisspelt)
                        && let Some(first) = mine.first()
                    {
                        mine.push(misspell(first));
                    }
                    self.ensure_hosts(&mine).await?;
                    let mut u = bare_update(&g.domain);
                    u.add = Some(AddRem {
                        ns: Some(NsList::HostObj(mine.clone())),
                        ..AddRem::default()
                    });
                    u.rem = Some(AddRem {
                        ns: Some(NsList::HostObj(g.losing_ns.clone())),
                        ..AddRem::default()
                    });
                    self.cmd_ok(
                        "NS switch",
                        CommandKind::Update(Update::Domain(u)),
                        Vec::new(),
                    )
                    .await?;
                    self.note(
                        now,
                        format!("{}: switched NS to {}", g.domain, mine.join(", ")),
                    );
                    if misspelt {
                        g.step = Step::FixMisspeltNs {
                            at: now
                                .checked_add(self.cfg.scaled(SignedDuration::from_hours(24)))
                                .unwrap_or(Timestamp::MAX),
                            misspelt: mine,
                        };
                        continue;
                    }
                    g.step = Step::AwaitNs;
                }
                Step::FixMisspeltNs { at, misspelt } => {
                    if now < at {
                        g.wake = at;
                        return Ok(());
                    }
                    let mine = self.op.ns_names();
                    self.ensure_hosts(&mine).await?;
                    let mut u = bare_update(&g.domain);
                    u.add = Some(AddRem {
                        ns: Some(NsList::HostObj(mine.clone())),
                        ..AddRem::default()
                    });
                    u.rem = Some(AddRem {
                        ns: Some(NsList::HostObj(misspelt)),
                        ..AddRem::default()
                    });
                    self.cmd_ok(
                        "NS correction",
                        CommandKind::Update(Update::Domain(u)),
                        Vec::new(),
                    )
                    .await?;
                    self.note(
                        now,
                        format!("{}: corrected NS to {} (fault)", g.domain, mine.join(", ")),
                    );
                    g.step = Step::AwaitNs;
                }
                Step::AwaitNs => {
                    let (ns, ttl) = dnsutil::delegation(parent, &g.domain).await?;
                    let mut mine = self.op.ns_names();
                    if self.has(Fault::NsHostPartlyMisspelt)
                        && let Some(first) = mine.first()
                    {
                        mine.push(misspell(first));
                    }
                    mine.sort();
                    if ns != mine {
                        self.await_registry(g, now, "our NS")?;
                        return Ok(());
                    }
                    g.waiting_since = None;
                    // Step 7: the old delegation must be out of every cache, then everything
                    // the losing operator served. A resolver may hold the parent's old NS for
                    // its TTL, refresh the losing operator's own (child) NS just before that
                    // runs out and keep using it for the child NS TTL, and fetch the losing
                    // DNSKEY set at the last moment: parent NS TTL + child NS TTL + the
                    // largest TTL the losing operator serves.
                    let (max_losing, child_ns) = self.losing_ttls(g).await;
                    let wait = g.ttl_ns_parent.max(ttl) + child_ns + max_losing;
                    let wait = if self.has(Fault::OldDsRemovedTooEarly) {
                        0
                    } else {
                        wait
                    };
                    g.wake = if wait == 0 {
                        now
                    } else {
                        self.wait_end(now, wait)
                    };
                    self.note(now, format!("{}: the parent delegates to us; waiting {wait}s (parent NS + child NS + losing data TTLs) + margin{}", g.domain, self.one_hour_note()));
                    g.step = if self.has(Fault::GoingInsecure) || !g.losing_signed {
                        Step::SignBeforeDs
                    } else {
                        Step::RemoveOldDs
                    };
                    if wait > 0 {
                        return Ok(());
                    }
                }
                Step::RemoveOldDs => {
                    let old: Vec<KeyData> = g
                        .old_keys
                        .iter()
                        .filter(|k| Some(*k) != g.my_ksk.as_ref())
                        .cloned()
                        .collect();
                    if !old.is_empty() {
                        self.update_secdns(&g.domain, Some(Remove::Key(old)), None)
                            .await?;
                    }
                    self.note(now, format!("{}: removed the old DS", g.domain));
                    g.step = Step::AwaitOldDsGone;
                }
                Step::AwaitOldDsGone => {
                    let (ds, ttl) = dnsutil::ds(parent, &g.domain).await?;
                    let only_mine = match &g.my_ksk {
                        Some(k) if !self.has(Fault::GoingInsecure) => ds
                            .iter()
                            .all(|d| ds_matches(&g.domain, k, std::slice::from_ref(d))),
                        _ => ds.is_empty(),
                    };
                    if !only_mine {
                        self.await_registry(g, now, "the final DS set")?;
                        return Ok(());
                    }
                    g.waiting_since = None;
                    g.ttl_ds = g.ttl_ds.max(ttl).max(g.ttl_ds);
                    g.wake = self.wait_end(now, g.ttl_ds.max(self.cfg.min_wait()));
                    self.note(
                        now,
                        format!(
                            "{}: the parent's DS set is final for now; waiting {}s + margin{}",
                            g.domain,
                            g.ttl_ds,
                            self.one_hour_note()
                        ),
                    );
                    g.step = if self.has(Fault::GoingInsecure) {
                        Step::SwitchNs
                    } else {
                        Step::RemoveOldZsk
                    };
                    return Ok(());
                }
                Step::SignBeforeDs => {
                    // From insecure to secure: sign first, and add the DS only once no cache
                    // can hold unsigned data of ours any more, or that data turns bogus.
                    self.op.set_signed(&g.domain, true).await?;
                    let mine = self.cfg.directory.addrs(&self.op.ns_names());
                    let mut max = 0;
                    for addr in mine {
                        max = max.max(
                            dnsutil::max_ttl(addr, &g.domain, &g.checks)
                                .await
                                .unwrap_or(0),
                        );
                    }
                    let max = max.max(self.cfg.min_wait());
                    g.wake = self.wait_end(now, max);
                    self.note(now, format!("{}: signed our zone; waiting {max}s (our largest TTL) + margin before adding the DS{}", g.domain, self.one_hour_note()));
                    g.step = Step::AddDsAfterMove;
                    return Ok(());
                }
                Step::AddDsAfterMove => {
                    let ksk = g
                        .my_ksk
                        .clone()
                        .ok_or_else(|| RegistrarError::gave_up("no KSK"))?;
                    self.update_secdns(&g.domain, None, Some(vec![ksk])).await?;
                    self.note(now, format!("{}: added our DS after the move", g.domain));
                    g.step = Step::AwaitDsAfterMove;
                }
                Step::RemoveOldZsk => {
                    for k in g.imported.clone() {
                        self.op.remove_foreign_key(&g.domain, &k).await?;
                    }
                    self.note(
                        now,
                        format!("{}: done; the losing ZSK is no longer published", g.domain),
                    );
                    g.step = Step::Done;
                    return Ok(());
                }
                Step::Done | Step::Failed(_) => return Ok(()),
            }
        }
    }

    /// Steps 1 and 2: learn the current state, build our zone, relay our ZSK.
    async fn start(
        &mut self,
        g: &mut Gain,
        now: Timestamp,
        parent: SocketAddr,
    ) -> Result<(), RegistrarError> {
        let r = self
            .cmd_ok(
                "domain info with token",
                CommandKind::Info(Info::Domain(domain::Info {
                    name: g.domain.clone(),
                    hosts: domain::HostsFilter::All,
                    auth_info: Some(AuthInfo::password(g.token.clone())),
                })),
                Vec::new(),
            )
            .await?;
        let Some(ResData::DomainInfo(info)) = &r.res_data else {
            return Err(RegistrarError::EppAnswer("domain info without data".into()));
        };
        if info.cl_id == self.cfg.clid {
            return Err(RegistrarError::GaveUp(format!(
                "{} is already ours",
                g.domain
            )));
        }
        g.old_keys = r
            .extensions
            .iter()
            .filter_map(|e| match e {
                ResponseExtension::SecDnsInfo(DsOrKeySet {
                    data: DsOrKey::Key(k),
                    ..
                }) => Some(k.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let (ns, ns_ttl) = dnsutil::delegation(parent, &g.domain).await?;
        let (_, ds_ttl) = dnsutil::ds(parent, &g.domain).await?;
        g.losing_ns = info
            .ns
            .as_ref()
            .map(|n| n.names().iter().map(|s| s.to_string()).collect())
            .unwrap_or(ns);
        g.ttl_ns_parent = ns_ttl;
        g.ttl_ds = ds_ttl;
        let servers = self.cfg.directory.addrs(&g.losing_ns);
        let first = *servers.first().ok_or_else(|| {
            RegistrarError::GaveUp(format!("cannot reach any of {:?}", g.losing_ns))
        })?;
        let (losing_keys, ttl) = dnsutil::dnskeys(first, &g.domain).await?;
        g.ttl_dnskey_losing = ttl;
        g.losing_signed = !losing_keys.is_empty();

        // RFC 8901 §4: both operators need a common algorithm.
        let mine = self.op.algorithm();
        let theirs: BTreeSet<u8> = losing_keys
            .iter()
            .map(|k| u8::from(k.public_key().algorithm()))
            .collect();
        let algorithm =
            if !theirs.is_empty() && !theirs.contains(&mine) && !self.has(Fault::OtherAlgorithm) {
                let a = *theirs.iter().next().expect("invariant: checked non-empty");
                self.note(
                    now,
                    format!(
                        "{}: the losing side signs with algorithm {a}; using it too (RFC 8901 §4)",
                        g.domain
                    ),
                );
                a
            } else {
                mine
            };
        let signed = g.losing_signed && !self.has(Fault::GoingInsecure);
        let records: Vec<String> = if self.has(Fault::RecordsDropped) {
            g.records
                .iter()
                .filter(|r| !r.split_whitespace().any(|t| t.eq_ignore_ascii_case("MX")))
                .cloned()
                .collect()
        } else {
            g.records.clone()
        };
        self.op
            .create_zone(&g.domain, &records, signed, Some(algorithm))
            .await?;
        g.my_ksk = Some(self.op.ksk(&g.domain).await?);
        g.my_zsks = self.op.zsks(&g.domain).await?;

        if !g.losing_signed || self.has(Fault::GoingInsecure) {
            self.note(
                now,
                format!(
                    "{}: moving without key exchange ({})",
                    g.domain,
                    if g.losing_signed {
                        "going insecure"
                    } else {
                        "unsigned"
                    }
                ),
            );
            g.step = Step::Transfer;
            return Ok(());
        }
        // Step 1: the losing operator's data-signing keys go into our DNSKEY set.
        let data_keys: Vec<KeyData> = {
            let zsks: Vec<KeyData> = losing_keys
                .iter()
                .filter(|k| k.flags() == 256)
                .map(crate::world::operator::key_data)
                .collect();
            if zsks.is_empty() {
                losing_keys
                    .iter()
                    .map(crate::world::operator::key_data)
                    .collect()
            } else {
                zsks
            }
        };
        if !self.has(Fault::LosingZskNotImported) {
            for k in &data_keys {
                self.op.add_foreign_key(&g.domain, k, None).await?;
            }
            g.imported = data_keys;
        }
        // Step 2: relay our ZSK(s) (RFC 8063), valid for as long as the move can take: the
        // losing side's publication and each of the registry's three publications may take up
        // to PATIENCE, then every wait of the procedure with its margin (the DNSKEY TTL, the DS
        // TTL twice, the parent NS + losing NS + losing data TTLs), all doubled for safety.
        let token = if self.has(Fault::KeyRelayWrongToken) {
            format!("x{}", g.token)
        } else {
            g.token.clone()
        };
        let (max_losing, child_ns) = self.losing_ttls(g).await;
        let waits = [
            g.ttl_dnskey_losing,
            g.ttl_ds,
            g.ttl_ns_parent + child_ns + max_losing,
            g.ttl_ds,
        ];
        let mut lifetime = self.cfg.patience() * 4;
        for w in waits {
            lifetime += (SignedDuration::from_secs(i64::from(w)) + self.cfg.margin(w)) * 2;
        }
        let expiry = xs_duration(lifetime);
        let data = g
            .my_zsks
            .iter()
            .map(|k| KeyRelayData {
                key_data: k.clone(),
                expiry: Some(Expiry::Relative(expiry.clone())),
            })
            .collect();
        let relayed = self
            .cmd_ok(
                "key relay",
                CommandKind::Create(Create::KeyRelay(keyrelay::Create {
                    name: g.domain.clone(),
                    auth_info: AuthInfo::password(token),
                    data,
                })),
                Vec::new(),
            )
            .await?;
        g.relay_sv_trid = Some(relayed.tr_id.sv_trid.clone());
        g.relay_expires = now.checked_add(lifetime).ok();
        self.note(
            now,
            format!(
                "{}: relayed our ZSK to the registrar of record, valid for {}",
                g.domain,
                crate::report::human(lifetime)
            ),
        );
        g.step = Step::AwaitRelayPublished { since: now };
        Ok(())
    }

    /// Step 3 with key relay receipts: the registry's `published` receipt says every name
    /// server of the delegation serves our keys validly signed, and the largest DNSKEY TTL
    /// they served; wait that TTL (caches may hold the set without our key) and transfer.
    /// `notPublished` and `withdrawn` end the procedure. Without a final receipt it waits
    /// (the caller sets the wake-up) until the relayed key expires: the registry's watch ends
    /// by then at the latest.
    fn await_receipt(&mut self, g: &mut Gain, now: Timestamp) -> Result<(), RegistrarError> {
        match g.receipt.as_ref().map(|r| r.state) {
            Some(ReceiptState::Published) => {
                let r = g.receipt.as_ref().expect("invariant: matched Some above");
                let ttl = g.ttl_dnskey_losing.max(r.dnskey_ttl.unwrap_or(0));
                let at = r.state_date;
                g.ttl_dnskey_losing = ttl;
                g.wake = self.cfg.after(now, ttl);
                g.step = Step::Transfer;
                self.note(
                    now,
                    format!(
                        "{}: the registry's receipt says every name server publishes our ZSK \
                         since {at}; waiting {ttl}s (DNSKEY TTL) + margin",
                        g.domain
                    ),
                );
                Ok(())
            }
            Some(ReceiptState::NotPublished) => {
                let r = g.receipt.as_ref().expect("invariant: matched Some above");
                let hosts: Vec<String> =
                    r.ns.iter()
                        .map(|h| format!("{} {}", h.host, h.result.as_str()))
                        .collect();
                Err(RegistrarError::gave_up(format!(
                    "the registry's receipt says the relayed key was not published by every \
                     name server before {} ({})",
                    r.until,
                    hosts.join(", ")
                )))
            }
            Some(ReceiptState::Withdrawn) => Err(RegistrarError::gave_up(
                "the registry's receipt says our relay was withdrawn",
            )),
            Some(ReceiptState::Delivered) | None => {
                if g.relay_expires.is_some_and(|e| now > e) {
                    return Err(RegistrarError::gave_up(
                        "the registry sent no final key relay receipt before the relayed key \
                         expired",
                    ));
                }
                Ok(())
            }
        }
    }

    /// Waits another poll interval for the registry to publish `what`, giving up after
    /// [`PATIENCE`].
    fn await_registry(
        &self,
        g: &mut Gain,
        now: Timestamp,
        what: &str,
    ) -> Result<(), RegistrarError> {
        let since = *g.waiting_since.get_or_insert(now);
        if now.duration_since(since) > self.cfg.patience() {
            return Err(RegistrarError::GaveUp(format!(
                "the registry did not publish {what} within {:#}",
                self.cfg.patience()
            )));
        }
        g.wake = now
            .checked_add(self.cfg.poll_interval)
            .unwrap_or(Timestamp::MAX);
        Ok(())
    }

    /// The largest TTL the losing servers serve for the zone, and their NS TTL (each the
    /// largest over the servers; remembered, since they only matter as upper bounds).
    async fn losing_ttls(&self, g: &mut Gain) -> (u32, u32) {
        let names = ttl_questions(&g.domain, &g.records, &g.checks);
        for addr in self.cfg.directory.addrs(&g.losing_ns) {
            if let Ok(t) = dnsutil::max_ttl(addr, &g.domain, &names).await {
                g.ttl_losing_max = g.ttl_losing_max.max(t);
            }
            if let Ok((_, t)) =
                dnsutil::rrset(addr, &g.domain, hickory_proto::rr::RecordType::NS).await
            {
                g.ttl_ns_child = g.ttl_ns_child.max(t);
            }
        }
        (g.ttl_losing_max, g.ttl_ns_child)
    }

    /// Creates host objects for our name servers where the registry has none.
    async fn ensure_hosts(&mut self, names: &[String]) -> Result<(), RegistrarError> {
        let r = self
            .cmd_ok(
                "host check",
                CommandKind::Check(Check::Host(names.to_vec())),
                Vec::new(),
            )
            .await?;
        let Some(ResData::HostCheck(cd)) = r.res_data else {
            return Err(RegistrarError::EppAnswer("host check without data".into()));
        };
        for c in cd.into_iter().filter(|c| c.avail) {
            self.cmd_ok(
                "host create",
                CommandKind::Create(Create::Host(host::Create {
                    name: c.name,
                    addrs: Vec::new(),
                })),
                Vec::new(),
            )
            .await?;
        }
        Ok(())
    }

    /// After giving up: stop serving a zone nobody is delegated to, so no half-built zone
    /// (with the other operator's keys) is left behind.
    async fn abort(&mut self, g: &Gain, now: Timestamp) {
        // A key we relayed is still published by the losing side: revoke it (RFC 8063
        // §2.1.1: a zero relative expiry), which only works while it is their domain.
        if g.relay_expires.is_some() && !g.transferred && !g.my_zsks.is_empty() {
            let revoke = keyrelay::Create {
                name: g.domain.clone(),
                auth_info: AuthInfo::password(g.token.clone()),
                data: g
                    .my_zsks
                    .iter()
                    .map(|k| KeyRelayData {
                        key_data: k.clone(),
                        expiry: Some(Expiry::Relative(xs_duration(SignedDuration::ZERO))),
                    })
                    .collect(),
            };
            match self
                .cmd_ok(
                    "key relay revocation",
                    CommandKind::Create(Create::KeyRelay(revoke)),
                    Vec::new(),
                )
                .await
            {
                Ok(_) => self.note(now, format!("{}: revoked our relayed key", g.domain)),
                Err(e) => self.note(
                    now,
                    format!("{}: could not revoke our relayed key: {e}", g.domain),
                ),
            }
        }
        let Some(parent) = self.cfg.directory.parent else {
            return;
        };
        let mine = self.op.ns_names();
        let delegated_here = dnsutil::delegation(parent, &g.domain)
            .await
            .is_ok_and(|(ns, _)| ns.iter().any(|n| mine.contains(n)));
        if !delegated_here && self.op.hosts(&g.domain).await.unwrap_or(false) {
            if let Err(e) = self.op.remove_zone(&g.domain).await {
                self.note(now, format!("{}: could not remove our zone: {e}", g.domain));
            } else {
                self.note(
                    now,
                    format!("{}: removed our zone (the move did not happen)", g.domain),
                );
            }
        }
    }

    async fn update_secdns(
        &mut self,
        domain: &str,
        rem: Option<Remove>,
        add: Option<Vec<KeyData>>,
    ) -> Result<(), RegistrarError> {
        self.cmd_ok(
            "secDNS update",
            CommandKind::Update(Update::Domain(bare_update(domain))),
            vec![CommandExtension::SecDnsUpdate(secdns::Update {
                urgent: false,
                rem,
                add: add.map(|k| DsOrKeySet {
                    max_sig_life: None,
                    data: DsOrKey::Key(k),
                }),
                chg: None,
            })],
        )
        .await
        .map(|_| ())
    }

    /// The losing side: reads and acknowledges poll messages.
    async fn poll(&mut self, now: Timestamp) -> Result<(), RegistrarError> {
        for _ in 0..100 {
            let r = self.cmd(CommandKind::Poll(Poll::Req), Vec::new()).await?;
            if r.code() != ResultCode::SuccessAckToDequeue {
                return Ok(());
            }
            let Some(q) = r.msg_q.clone() else {
                return Err(RegistrarError::EppAnswer("1301 without msgQ".into()));
            };
            if self.processed.insert(q.id.clone()) {
                self.handle_message(&r, now).await?;
            }
            if self.has(Fault::PollNeverAcked) {
                return Ok(());
            }
            self.cmd_ok(
                "poll ack",
                CommandKind::Poll(Poll::Ack { msg_id: q.id }),
                Vec::new(),
            )
            .await?;
        }
        Ok(())
    }

    async fn handle_message(&mut self, r: &Response, now: Timestamp) -> Result<(), RegistrarError> {
        for e in &r.extensions {
            if let ResponseExtension::KeyRelayReceipt(receipt) = e {
                self.take_receipt(receipt, now);
            }
        }
        match &r.res_data {
            Some(ResData::KeyRelay(k)) => {
                if !self.op.hosts(&k.name).await? {
                    self.note(
                        now,
                        format!("{}: relayed key for a zone we do not host; ignored", k.name),
                    );
                    return Ok(());
                }
                for d in &k.data {
                    let expiry = match &d.expiry {
                        None => None,
                        Some(Expiry::Absolute(t)) => Some(*t),
                        Some(Expiry::Relative(x)) => Some(
                            k.cr_date
                                .to_zoned(jiff::tz::TimeZone::UTC)
                                .checked_add(
                                    x.to_span()
                                        .map_err(|e| RegistrarError::EppAnswer(e.to_string()))?,
                                )
                                .map_err(|e| RegistrarError::EppAnswer(e.to_string()))?
                                .timestamp(),
                        ),
                    };
                    if d.expiry.as_ref().is_some_and(|e| e.is_revocation(now)) {
                        self.to_publish
                            .retain(|p| !(p.domain == k.name && p.key == d.key_data));
                        self.op.remove_foreign_key(&k.name, &d.key_data).await?;
                        self.note(
                            now,
                            format!("{}: key relay from {} revoked a key", k.name, k.re_id),
                        );
                        continue;
                    }
                    if self.has(Fault::RelayedKeyIgnored) {
                        self.note(now, format!("{}: ignored a relayed key (fault)", k.name));
                        continue;
                    }
                    if self.cfg.relay_publish_delay.is_positive() {
                        let at = now
                            .checked_add(self.cfg.relay_publish_delay)
                            .unwrap_or(Timestamp::MAX);
                        self.note(
                            now,
                            format!(
                                "{}: will publish the key relayed by {} at {at} (a late publisher)",
                                k.name, k.re_id
                            ),
                        );
                        self.to_publish.push(LatePublication {
                            at,
                            domain: k.name.clone(),
                            from: k.re_id.clone(),
                            key: d.key_data.clone(),
                            expiry,
                        });
                        continue;
                    }
                    self.op
                        .add_foreign_key(&k.name, &d.key_data, expiry)
                        .await?;
                    self.note(
                        now,
                        format!(
                            "{}: published the key relayed by {} until {}",
                            k.name,
                            k.re_id,
                            expiry.map_or_else(|| "further notice".to_string(), |e| e.to_string())
                        ),
                    );
                }
            }
            Some(ResData::SidnPoll(p)) => {
                if let Some(ResData::DomainTransfer(t)) = p.res_data.as_deref()
                    && t.ac_id == self.cfg.clid
                {
                    self.note(now, format!("{}: transferred away to {}", t.name, t.re_id));
                    if self.has(Fault::ZoneRemovedWhileDelegated) {
                        self.op.remove_zone(&t.name).await?;
                        self.note(now, format!("{}: removed the zone at once (fault)", t.name));
                        return Ok(());
                    }
                    if self.has(Fault::RelayedKeyRemovedTooEarly) {
                        for (k, _) in self.op.foreign_keys(&t.name).await? {
                            self.op.remove_foreign_key(&t.name, &k).await?;
                        }
                        self.note(
                            now,
                            format!("{}: dropped the relayed keys at once (fault)", t.name),
                        );
                    }
                    self.away.insert(
                        t.name.clone(),
                        Away {
                            ns_gone_at: None,
                            retire_at: None,
                        },
                    );
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Publishes the relayed keys whose late publication is due, while the zone is still ours
    /// to serve.
    async fn publish_late(&mut self, now: Timestamp) -> Result<(), RegistrarError> {
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.to_publish)
            .into_iter()
            .partition(|p| p.at <= now);
        self.to_publish = later;
        for p in due {
            if !self.op.hosts(&p.domain).await? {
                continue;
            }
            self.op.add_foreign_key(&p.domain, &p.key, p.expiry).await?;
            self.note(
                now,
                format!(
                    "{}: published the key relayed by {} until {} (late)",
                    p.domain,
                    p.from,
                    p.expiry
                        .map_or_else(|| "further notice".to_string(), |e| e.to_string())
                ),
            );
        }
        Ok(())
    }

    /// Keeps a receipt for the relay it answers (matched by the relay's server transaction
    /// id); a receipt for a relay no procedure waits on (a revocation's, an earlier attempt's)
    /// is only noted.
    fn take_receipt(&mut self, receipt: &Receipt, now: Timestamp) {
        let hosts: Vec<String> = receipt
            .ns
            .iter()
            .map(|h| format!("{} {}", h.host, h.result.as_str()))
            .collect();
        self.note(
            now,
            format!(
                "{}: key relay receipt {} at {}{}",
                receipt.name,
                receipt.state.as_str(),
                receipt.state_date,
                if hosts.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", hosts.join(", "))
                }
            ),
        );
        if let Some(g) = self.gains.get_mut(&receipt.name)
            && g.relay_sv_trid.as_deref() == Some(receipt.relay_tr_id.sv_trid.as_str())
            && (receipt.state.is_final() || g.receipt.is_none())
        {
            g.receipt = Some(receipt.clone());
        }
    }

    /// Retires zones of domains that left, once the delegation moved and caches forgot us.
    async fn retire(&mut self, now: Timestamp) -> Result<(), RegistrarError> {
        let Some(parent) = self.cfg.directory.parent else {
            return Ok(());
        };
        let mine: Vec<String> = self.op.ns_names();
        let names: Vec<String> = self.away.keys().cloned().collect();
        for d in names {
            let a = self
                .away
                .get(&d)
                .expect("invariant: key taken from the map");
            if a.ns_gone_at.is_none() {
                let (ns, ttl) = dnsutil::delegation(parent, &d).await?;
                if !ns.iter().any(|n| mine.contains(n)) {
                    // How long caches may hold anything we served: our zone's largest TTL,
                    // as our operator knows it (and as served, should that be more).
                    let mut max = self.op.max_ttl(&d).await.unwrap_or(0);
                    for addr in self.cfg.directory.addrs(&mine) {
                        max = max.max(dnsutil::max_ttl(addr, &d, &[]).await.unwrap_or(0));
                    }
                    let retire_at = self.wait_end(now, ttl + max);
                    let a = self
                        .away
                        .get_mut(&d)
                        .expect("invariant: key taken from the map");
                    a.ns_gone_at = Some(now);
                    a.retire_at = Some(retire_at);
                }
                continue;
            }
            // Once no resolver can reach us any more (the delegation moved, then the parent
            // NS and everything we served ran out of caches), the zone goes, relayed keys
            // with it: nobody can hold our DNSKEY set and need them after that.
            if a.retire_at.is_some_and(|t| t <= now) {
                self.op.remove_zone(&d).await?;
                self.note(
                    now,
                    format!("{d}: retired the zone (the delegation moved and caches forgot us)"),
                );
                self.away.remove(&d);
            }
        }
        Ok(())
    }
}

/// The in-process reference registrar on the hosted operator.
impl Registrar for ReferenceRegistrar<LocalOperator> {
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
        Self::transfer_in(self, request);
        Box::pin(async { Ok(()) })
    }

    fn failure(&self) -> Option<&str> {
        None
    }

    fn is_process(&self) -> bool {
        false
    }

    fn transcript(&self, label: &str) -> Vec<(Timestamp, String)> {
        let mut out: Vec<(Timestamp, String)> = self
            .log()
            .iter()
            .map(|(t, l)| (*t, format!("[{label}] {l}")))
            .collect();
        for e in self.epp_transcript() {
            // EPP frames carry no virtual time; they are listed after the log lines of the
            // same run, in order.
            let dir = if e.sent { "C" } else { "S" };
            out.push((Timestamp::MAX, format!("[{label} EPP {dir}] {}", e.xml)));
        }
        out
    }

    fn shutdown(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// A name server host name with a typo (the `ns-host-misspelt` fault): the first label's
/// letters after the first two swapped, so nobody answers there.
fn misspell(host: &str) -> String {
    let (first, rest) = host.split_once('.').unwrap_or((host, ""));
    let mut chars: Vec<char> = first.chars().collect();
    if chars.len() >= 4 {
        chars.swap(2, 3);
    } else {
        chars.push('x');
    }
    let first: String = chars.into_iter().collect();
    if rest.is_empty() {
        first
    } else {
        format!("{first}.{rest}")
    }
}

fn bare_update(domain: &str) -> domain::Update {
    domain::Update {
        name: domain.into(),
        add: None,
        rem: None,
        chg: None,
    }
}

fn ds_data(domain: &str, k: &KeyData) -> Result<DsData, RegistrarError> {
    let ds = mock_registry::registry::keys::ds_for(domain, k)
        .ok_or_else(|| RegistrarError::gave_up("cannot compute a DS for our KSK"))?;
    Ok(DsData {
        key_tag: ds.key_tag(),
        alg: u8::from(ds.algorithm()),
        digest_type: u8::from(ds.digest_type()),
        digest: ds.digest().to_vec(),
        key_data: None,
    })
}

/// Whether any DS in `set` is the SHA-256 DS of `key`.
fn ds_matches(domain: &str, key: &KeyData, set: &[hickory_proto::dnssec::rdata::DS]) -> bool {
    mock_registry::registry::keys::ds_for(domain, key).is_some_and(|mine| set.contains(&mine))
}
