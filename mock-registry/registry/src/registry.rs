//! The registry: objects, rules and poll queues of the SIDN profile, with no I/O.
//!
//! [`Registry::execute`] takes an authenticated registrar's parsed command and returns the
//! response; the network server ([`crate::server`]) only adds sessions and TLS around it. Every
//! command either succeeds or is refused with a [`Refusal`] *before* anything changes, so a
//! refused command never alters objects, queues or the published zone.
//!
//! # Layout
//!
//! - [`objects`]: domains, hosts, contacts and how each is shown in info responses.
//! - [`names`]: name syntax and the "second level under the TLD" rule.
//! - [`refusal`]: result code plus the SIDN-style error detail every error carries.
//! - `domains`, `hosts`, `contacts`, `transfer`, `keyrelay`, `poll`: one module per command
//!   family, each validating first and committing last.
//! - [`receipts`]: key relay receipts (experimental, opt-in by policy and by login): the watches
//!   of relayed keys and the receipts queued for their senders, without I/O.
//! - [`keys`]: key data checks and the DS the TLD publishes.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};

use clock::SharedClock;
use epp::message::{
    Command, CommandExtension, CommandKind, Dcp, DcpAccess, DcpRecipients, DcpRetention,
    DcpStatement, EppResult, Greeting, MsgQ, ResData, Response, ResponseExtension, ResultValue,
};
use epp::sidn::{self, ExtCommand};
use epp::{ResultCode, Text, TrId, uri};

pub mod automation;
mod contact_values;
mod contacts;
mod domains;
mod hosts;
mod keyrelay;
pub mod keys;
pub mod names;
pub mod objects;
mod poll;
pub mod receipts;
pub mod refusal;
mod transfer;

#[cfg(test)]
mod tests;

pub use automation::{AutomationEvent, AutomationPolicy, Profile};
pub use objects::{Contact, Domain, Host};
pub use poll::PollMessage;
pub use receipts::{IssuedReceipt, ProbeReport, ProbeRequest, Publication, ReceiptPolicy, Watch};
pub use refusal::{Area, Refusal};

/// Limits and choices of the registry's policy, with SIDN-like defaults.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The TLD, without dots (`nl`).
    pub tld: String,
    /// Most `keyRelayData` in one key relay (RFC 8063 §3.1.2: more is 2308).
    pub max_keyrelay_data: usize,
    /// How many entries the transaction log ([`Registry::log`]) keeps; the oldest go first.
    /// A long-running server would otherwise grow without bound (some 300 bytes a command),
    /// and every command would pay for the growth.
    pub log_capacity: usize,
    /// How far ahead a relayed key's expiry may lie (RFC 8063 §2.1.1 sets no bound; a relay
    /// serves one operator change, and an absurd expiry is refused with 2004).
    pub max_keyrelay_expiry: SignedDuration,
    /// Most DNSSEC keys on one domain.
    pub max_keys: usize,
    /// Most name servers on one domain.
    pub max_ns: usize,
    /// Subscription periods offered, in months (SIDN: 1, 3 and 12).
    pub periods_months: Vec<u32>,
    /// Period when a create gives none, in months.
    pub default_period_months: u32,
    /// How long a deleted domain can be restored (SIDN: 40 days).
    pub quarantine: SignedDuration,
    /// Languages offered in the greeting.
    pub langs: Vec<String>,
    /// Key relay receipts (the experimental extension of [`receipts`]): offered in the
    /// greeting when set. Off in the SIDN profile.
    pub keyrelay_receipts: Option<ReceiptPolicy>,
    /// Parent-side DS automation from the children's CDS/CDNSKEY ([`automation`]), under one
    /// of the profiles. Off in the SIDN profile, which has no scanner.
    pub ds_automation: Option<AutomationPolicy>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            tld: "nl".into(),
            max_keyrelay_data: 8,
            log_capacity: 100_000,
            max_keyrelay_expiry: SignedDuration::from_hours(366 * 24),
            max_keys: 8,
            max_ns: 13,
            periods_months: vec![1, 3, 12],
            default_period_months: 12,
            quarantine: SignedDuration::from_hours(40 * 24),
            langs: vec!["en".into(), "nl".into()],
            keyrelay_receipts: None,
            ds_automation: None,
        }
    }
}

/// What a registrar announced at login, which limits what it may use (RFC 5730 §2.9.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    /// Object namespace URIs from `<objURI>`.
    pub obj_uris: Vec<String>,
    /// Extension namespace URIs from `<svcExtension>`: the registry sends a session only these
    /// extensions.
    pub ext_uris: Vec<String>,
}

impl Services {
    /// Every service the registry offers (what a client that announces everything gets).
    pub fn all() -> Self {
        Self {
            obj_uris: OBJ_URIS.iter().map(|s| s.to_string()).collect(),
            ext_uris: EXT_URIS.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Whether the extension `uri` was announced.
    pub fn has_ext(&self, uri: &str) -> bool {
        self.ext_uris.iter().any(|u| u == uri)
    }
}

/// Object services in the greeting.
pub const OBJ_URIS: [&str; 4] = [uri::DOMAIN, uri::CONTACT, uri::HOST, uri::KEYRELAY];
/// Extensions in the greeting (SIDN clients send all three at login).
pub const EXT_URIS: [&str; 3] = [uri::SECDNS, uri::SIDN, uri::SIDN_SCHEDULED_DELETE];
/// Extensions the greeting adds when the policy offers key relay receipts: the receipts, and
/// RFC 9038's unhandled namespaces (a receipt for a session that did not announce them is
/// returned in `<extValue>`).
pub const RECEIPT_EXT_URIS: [&str; 2] = [uri::KEYRELAY_RECEIPT, uri::UNHANDLED_NAMESPACES];

/// A string of the transaction log: inline up to 46 bytes (client ids, domain names and the
/// usual transaction ids, UUIDs included), so logging a command allocates nothing.
///
/// Why: the log keeps [`Policy::log_capacity`] entries (100,000 by default), and under load
/// each command evicts one logged long before. With its strings on the heap, that was four
/// frees of memory long out of the cache and four allocations per command, under the
/// registry lock: about 6 points of the `epp_load` benchmark's ratio to the echo (58–60 % before,
/// 66–67 % after, runs taking turns on 2026-12-02).
pub type LogText = epp::InlineStr<46>;

/// One line of the transaction log the harness reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// When the registry handled the command (its clock).
    pub time: Timestamp,
    /// Who (none before login).
    pub cl_id: Option<LogText>,
    /// The command, e.g. `domain:transfer:request` (a constant: logging allocates no name).
    pub command: &'static str,
    /// The object it was about, if any.
    pub object: Option<LogText>,
    /// The result code the registry answered with.
    pub code: ResultCode,
    /// The SIDN-style detail code of a refusal.
    pub detail: Option<String>,
    /// Client transaction id.
    pub cl_trid: Option<LogText>,
    /// Server transaction id.
    pub sv_trid: LogText,
}

impl LogEntry {
    /// Whether the server's chaos injected this answer ([`crate::server::Chaos`]) instead of a
    /// rule deciding it: the command was not executed, and a registrar is not to blame.
    pub fn is_chaos(&self) -> bool {
        self.detail
            .as_deref()
            .is_some_and(|d| d.starts_with(refusal::CHAOS_LETTER))
    }
}

/// A relayed key set, as the registry passed it on (for the harness's evidence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayRecord {
    /// When the registry accepted the relay and queued it.
    pub time: Timestamp,
    /// The domain the keys were relayed for, as the registry holds it (lower case).
    pub domain: String,
    /// Who sent it.
    pub from: String,
    /// The registrar of record it was queued for.
    pub to: String,
    /// The message id in the receiver's queue.
    pub msg_id: u64,
    /// The keys and expiries, as sent.
    pub data: Vec<epp::keyrelay::KeyRelayData>,
}

/// A delegation the TLD publishes for a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedDelegation {
    /// The domain (folded, without trailing dot).
    pub name: String,
    /// Its name servers.
    pub ns: Vec<String>,
    /// Glue for name servers inside the TLD.
    pub glue: Vec<(String, IpAddr)>,
    /// DNSSEC keys, whose DS the TLD publishes.
    pub keys: Vec<epp::secdns::KeyData>,
}

/// A comparable copy of the registry's state (see [`Registry::state`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryState {
    /// Every domain object, ordered by name.
    pub domains: Vec<Domain>,
    /// Every host object, ordered by name.
    pub hosts: Vec<Host>,
    /// Every contact object, ordered by id.
    pub contacts: Vec<Contact>,
    /// Each registrar's poll queue by clID, oldest message first.
    pub queues: BTreeMap<String, Vec<PollMessage>>,
    /// Key relays passed on.
    pub relays: Vec<RelayRecord>,
    /// Each registrar's current EPP password, by clID (a login can change it).
    pub passwords: BTreeMap<String, String>,
    /// The counter bumped whenever what the TLD zone publishes changes.
    pub generation: u64,
    /// Key relays watched for receipts.
    pub watches: Vec<Watch>,
    /// Every key relay receipt queued so far, oldest first.
    pub receipts: Vec<IssuedReceipt>,
}

/// What a command did, before it becomes a response.
#[derive(Debug, Default)]
pub(crate) struct Reply {
    pub(crate) code: Option<ResultCode>,
    pub(crate) res_data: Option<ResData>,
    pub(crate) extensions: Vec<ResponseExtension>,
    pub(crate) msg_q: Option<MsgQ>,
    /// Values of the result (RFC 9038: data of namespaces the session did not announce).
    pub(crate) values: Vec<ResultValue>,
}

impl Reply {
    pub(crate) fn ok() -> Self {
        Self::default()
    }

    pub(crate) fn data(res: ResData) -> Self {
        Self {
            res_data: Some(res),
            ..Self::default()
        }
    }
}

type Outcome = Result<Reply, Refusal>;

/// A deterministic generator for tokens (SplitMix64): the same seed gives the same tokens, so
/// a scenario replays exactly. Tokens here guard test data, not secrets.
#[derive(Debug, Clone)]
struct TokenRng(u64);

impl TokenRng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn token(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
        (0..12)
            .map(|_| ALPHABET[(self.next() % ALPHABET.len() as u64) as usize] as char)
            .collect()
    }
}

/// The registry's state and rules.
#[derive(Debug)]
pub struct Registry {
    clock: SharedClock,
    policy: Policy,
    passwords: BTreeMap<String, String>,
    domains: BTreeMap<String, Domain>,
    hosts: BTreeMap<String, Host>,
    contacts: BTreeMap<String, Contact>,
    queues: BTreeMap<String, VecDeque<PollMessage>>,
    relays: Vec<RelayRecord>,
    log: VecDeque<LogEntry>,
    rng: TokenRng,
    next_msg_id: u64,
    next_roid: u64,
    next_sv_trid: u64,
    /// Bumped whenever something the TLD zone publishes changes.
    generation: u64,
    /// Key relays watched for receipts.
    watches: Vec<Watch>,
    /// Receipts queued, for evidence.
    receipts: Vec<IssuedReceipt>,
    next_watch_id: u64,
    /// The DS scanner's memory per delegation.
    tracked: automation::TrackedMap,
    /// The DS scanner's decisions.
    automation_log: Vec<AutomationEvent>,
    /// No domain's scheduled delete or quarantine falls due before this instant (`None`:
    /// not known, so the next command looks at every domain). Every command passes through
    /// [`expire`](Self::expire), so without this each one walked all domains under the
    /// registry's lock. Whoever sets a domain's `deleted_at` or `scheduled_delete` calls
    /// [`due_dates_changed`](Self::due_dates_changed).
    nothing_due_before: Option<Timestamp>,
}

impl Registry {
    /// An empty registry under `policy`, reading time from `clock`; `seed` fixes the tokens
    /// it generates.
    pub fn new(policy: Policy, clock: SharedClock, seed: u64) -> Self {
        Self {
            clock,
            policy,
            passwords: BTreeMap::new(),
            domains: BTreeMap::new(),
            hosts: BTreeMap::new(),
            contacts: BTreeMap::new(),
            queues: BTreeMap::new(),
            relays: Vec::new(),
            log: VecDeque::new(),
            rng: TokenRng(seed),
            next_msg_id: 1,
            next_roid: 1,
            next_sv_trid: 1,
            generation: 0,
            watches: Vec::new(),
            receipts: Vec::new(),
            next_watch_id: 1,
            tracked: automation::TrackedMap::new(),
            nothing_due_before: None,
            automation_log: Vec::new(),
        }
    }

    /// The rules it was created with (TLD, limits, periods, receipts).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Registers a registrar account (its clID and EPP password).
    pub fn add_registrar(&mut self, cl_id: &str, password: &str) {
        self.passwords
            .insert(cl_id.to_string(), password.to_string());
        self.queues.entry(cl_id.to_string()).or_default();
    }

    /// Whether `cl_id` is a registrar here.
    pub fn has_registrar(&self, cl_id: &str) -> bool {
        self.passwords.contains_key(cl_id)
    }

    /// Checks a login's password and applies a new one (RFC 5730 §2.9.1.1).
    pub fn authenticate(&mut self, cl_id: &str, pw: &str, new_pw: Option<&str>) -> bool {
        match self.passwords.get_mut(cl_id) {
            Some(stored) if stored == pw => {
                if let Some(n) = new_pw {
                    *stored = n.to_string();
                }
                true
            }
            _ => false,
        }
    }

    /// The extensions the greeting offers and a login may announce: SIDN's three, and the
    /// key relay receipts with RFC 9038 when the policy offers them.
    pub fn ext_uris(&self) -> Vec<String> {
        let receipts = self.offers_receipts().then_some(RECEIPT_EXT_URIS);
        let mut uris: Vec<String> = EXT_URIS
            .iter()
            .chain(receipts.iter().flatten())
            .chain(self.automation_ext_uris())
            .map(|s| s.to_string())
            .collect();
        // RFC 9038 is offered once, whichever feature brings it.
        let mut seen = std::collections::BTreeSet::new();
        uris.retain(|u| seen.insert(u.clone()));
        uris
    }

    /// The greeting, with the current time.
    pub fn greeting(&self) -> Greeting {
        Greeting {
            sv_id: format!("mock-registry SIDN profile (.{})", self.policy.tld),
            sv_date: self.clock.now(),
            versions: vec!["1.0".into()],
            langs: self.policy.langs.clone(),
            obj_uris: OBJ_URIS.iter().map(|s| s.to_string()).collect(),
            ext_uris: self.ext_uris(),
            dcp: Dcp {
                access: DcpAccess::All,
                statements: vec![DcpStatement {
                    purposes: vec!["admin".into(), "prov".into()],
                    recipients: DcpRecipients {
                        ours: vec![None],
                        public: true,
                        ..DcpRecipients::default()
                    },
                    retention: DcpRetention::Stated,
                }],
                expiry: None,
            },
        }
    }

    /// Executes a command for an authenticated registrar and logs it.
    pub fn execute(&mut self, cl_id: &str, services: &Services, cmd: &Command) -> Response {
        let now = self.clock.now();
        self.expire(now);
        let outcome = self
            .check_services(services, cmd)
            .and_then(|()| {
                // The codec refuses a repeated extension element in frames; typed commands
                // built in-process get the same answer (2001) here.
                CommandExtension::check_unique(&cmd.extensions).map_err(|e| Refusal::from_codec(&e))
            })
            .and_then(|()| self.dispatch(cl_id, services, cmd, now));
        self.respond(
            now,
            Some(cl_id),
            cmd.kind.name(),
            object_of(&cmd.kind),
            cmd.cl_trid.clone(),
            outcome,
        )
    }

    /// Executes a SIDN stand-alone extension command.
    pub fn execute_ext(&mut self, cl_id: &str, services: &Services, cmd: &ExtCommand) -> Response {
        let now = self.clock.now();
        self.expire(now);
        let sidn::ExtCommandKind::DomainCancelDelete { name, period } = &cmd.kind;
        let outcome = if services.has_ext(uri::SIDN) {
            self.cancel_delete(cl_id, name, period.as_ref(), now)
        } else {
            Err(Refusal::new(
                ResultCode::UnimplementedExtension,
                Area::Session,
                "the SIDN extension was not announced at login",
            ))
        };
        self.respond(
            now,
            Some(cl_id),
            "domain:cancelDelete",
            Some(LogText::from(name.as_str())),
            cmd.cl_trid.clone(),
            outcome,
        )
    }

    /// Logs and answers a refusal decided outside the registry (codec, session).
    pub fn refuse(
        &mut self,
        cl_id: Option<&str>,
        command: &'static str,
        cl_trid: Option<String>,
        refusal: Refusal,
    ) -> Response {
        let now = self.clock.now();
        self.respond(now, cl_id, command, None, cl_trid, Err(refusal))
    }

    /// Logs and answers a success decided outside the registry (login, logout).
    pub fn succeed(
        &mut self,
        cl_id: Option<&str>,
        command: &'static str,
        cl_trid: Option<String>,
        code: ResultCode,
    ) -> Response {
        let reply = Reply {
            code: Some(code),
            ..Reply::default()
        };
        let now = self.clock.now();
        self.respond(now, cl_id, command, None, cl_trid, Ok(reply))
    }

    /// Makes the response and logs the command as handled at `now`, the instant the command
    /// was executed at (one reading of the clock per command: this runs under the registry's
    /// lock, and a second reading was measurable in the load benchmark).
    fn respond(
        &mut self,
        now: Timestamp,
        cl_id: Option<&str>,
        command: &'static str,
        object: Option<LogText>,
        cl_trid: Option<String>,
        outcome: Outcome,
    ) -> Response {
        let sv_trid = sv_trid(self.next_sv_trid);
        self.next_sv_trid += 1;
        // The log keeps inline copies; the response takes the strings themselves.
        let logged_cl_trid = cl_trid.as_deref().map(LogText::from);
        let logged_sv_trid = LogText::from(sv_trid.as_str());
        let tr_id = TrId { cl_trid, sv_trid };
        let (response, detail) = match outcome {
            Ok(reply) => {
                let code = reply.code.unwrap_or(ResultCode::Success);
                let mut result = EppResult::new(code);
                result.values = reply.values;
                (
                    Response {
                        results: vec![result],
                        msg_q: reply.msg_q,
                        res_data: reply.res_data,
                        extensions: reply.extensions,
                        tr_id,
                    },
                    None,
                )
            }
            Err(refusal) => {
                let detail = refusal.detail();
                let mut result = EppResult::new(refusal.code);
                if let Some(v) = refusal.value {
                    result.values.push(ResultValue::ExtValue {
                        value: *v,
                        reason: Text::new(truncate(&refusal.text, 200)),
                    });
                }
                (
                    Response {
                        results: vec![result],
                        msg_q: None,
                        res_data: None,
                        extensions: vec![ResponseExtension::Sidn(sidn::Ext::Response(vec![
                            detail.clone(),
                        ]))],
                        tr_id,
                    },
                    Some(detail.code),
                )
            }
        };
        tracing::debug!(
            cl_id = cl_id.unwrap_or("-"),
            command,
            object = object.as_deref().unwrap_or("-"),
            code = response.code().code(),
            sv_trid = %logged_sv_trid,
            "epp"
        );
        if self.log.len() >= self.policy.log_capacity {
            self.log.pop_front();
        }
        self.log.push_back(LogEntry {
            time: now,
            cl_id: cl_id.map(LogText::from),
            command,
            object,
            code: response.code(),
            detail,
            cl_trid: logged_cl_trid,
            sv_trid: logged_sv_trid,
        });
        response
    }

    fn check_services(&self, services: &Services, cmd: &Command) -> Result<(), Refusal> {
        let obj = match &cmd.kind {
            CommandKind::Login(_) | CommandKind::Logout | CommandKind::Poll(_) => None,
            CommandKind::Check(c) => Some(c.object()),
            CommandKind::Info(c) => Some(c.object()),
            CommandKind::Create(c) => Some(c.object()),
            CommandKind::Update(c) => Some(c.object()),
            CommandKind::Delete(c) => Some(c.object()),
            CommandKind::Renew(_) => Some("domain"),
            CommandKind::Transfer(_, t) => Some(t.object()),
        };
        if let Some(obj) = obj {
            let needed = match obj {
                "domain" => uri::DOMAIN,
                "host" => uri::HOST,
                "contact" => uri::CONTACT,
                _ => uri::KEYRELAY,
            };
            if !services.obj_uris.iter().any(|u| u == needed) {
                return Err(Refusal::new(
                    ResultCode::UnimplementedObjectService,
                    Area::Session,
                    format!("{needed} was not announced at login"),
                ));
            }
        }
        for ext in &cmd.extensions {
            let needed = match ext {
                CommandExtension::SecDnsCreate(_) | CommandExtension::SecDnsUpdate(_) => {
                    uri::SECDNS
                }
                CommandExtension::Sidn(_) => uri::SIDN,
                CommandExtension::ScheduledDelete(_) => uri::SIDN_SCHEDULED_DELETE,
            };
            if !services.has_ext(needed) {
                return Err(Refusal::new(
                    ResultCode::UnimplementedExtension,
                    Area::Session,
                    format!("{needed} was not announced at login"),
                ));
            }
        }
        Ok(())
    }

    fn dispatch(
        &mut self,
        cl_id: &str,
        services: &Services,
        cmd: &Command,
        now: Timestamp,
    ) -> Outcome {
        use epp::message::{Check, Create, Delete, Info, Poll, Transfer, Update};
        let ext = &cmd.extensions;
        match &cmd.kind {
            CommandKind::Login(_) | CommandKind::Logout => Err(Refusal::new(
                ResultCode::CommandUseError,
                Area::Session,
                "login and logout are session commands",
            )),
            CommandKind::Poll(Poll::Req) => self.poll_req(cl_id, services),
            CommandKind::Poll(Poll::Ack { msg_id }) => self.poll_ack(cl_id, msg_id, now),
            CommandKind::Check(Check::Domain(names)) => {
                no_extensions(ext)?;
                Ok(self.domain_check(names))
            }
            CommandKind::Check(Check::Host(names)) => {
                no_extensions(ext)?;
                Ok(self.host_check(names))
            }
            CommandKind::Check(Check::Contact(ids)) => {
                no_extensions(ext)?;
                Ok(self.contact_check(ids))
            }
            CommandKind::Info(Info::Domain(i)) => {
                no_extensions(ext)?;
                self.domain_info(cl_id, services, i)
            }
            CommandKind::Info(Info::Host(name)) => {
                no_extensions(ext)?;
                self.host_info(name)
            }
            CommandKind::Info(Info::Contact(c)) => {
                no_extensions(ext)?;
                self.contact_info(cl_id, services, c)
            }
            CommandKind::Create(Create::Domain(c)) => self.domain_create(cl_id, c, ext, now),
            CommandKind::Create(Create::Host(c)) => {
                no_extensions(ext)?;
                self.host_create(cl_id, c, now)
            }
            CommandKind::Create(Create::Contact(c)) => self.contact_create(cl_id, c, ext, now),
            CommandKind::Create(Create::KeyRelay(k)) => {
                no_extensions(ext)?;
                self.keyrelay_create(cl_id, services, k, cmd.cl_trid.as_deref(), now)
            }
            CommandKind::Update(Update::Domain(u)) => self.domain_update(cl_id, u, ext, now),
            CommandKind::Update(Update::Host(u)) => {
                no_extensions(ext)?;
                self.host_update(cl_id, u, now)
            }
            CommandKind::Update(Update::Contact(u)) => self.contact_update(cl_id, u, ext, now),
            CommandKind::Delete(Delete::Domain(name)) => {
                no_extensions(ext)?;
                self.domain_delete(cl_id, name, now)
            }
            CommandKind::Delete(Delete::Host(name)) => {
                no_extensions(ext)?;
                self.host_delete(cl_id, name)
            }
            CommandKind::Delete(Delete::Contact(id)) => {
                no_extensions(ext)?;
                self.contact_delete(cl_id, id)
            }
            CommandKind::Renew(r) => {
                no_extensions(ext)?;
                self.domain_renew(cl_id, r, now)
            }
            CommandKind::Transfer(op, Transfer::Domain(t)) => {
                no_extensions(ext)?;
                self.domain_transfer(cl_id, *op, t, now)
            }
            CommandKind::Transfer(_, Transfer::Contact(_)) => Err(Refusal::new(
                ResultCode::UnimplementedCommand,
                Area::Transfer,
                "contacts cannot be transferred at this registry",
            )),
        }
    }

    /// Applies what time does on its own: scheduled deletions start quarantine, quarantine
    /// ends in purging. Walks the domains only when something may be due.
    fn expire(&mut self, now: Timestamp) {
        if self.nothing_due_before.is_none_or(|t| t <= now) {
            self.expire_domains(now);
        }
        self.expire_watches(now);
    }

    /// Forgets when the next domain falls due: a domain's `deleted_at` or `scheduled_delete`
    /// was set or cleared.
    pub(super) fn due_dates_changed(&mut self) {
        self.nothing_due_before = None;
    }

    /// Moves every domain that has fallen due ([`Domain::falls_due`], the one place that says
    /// when): a scheduled delete whose day has come starts quarantine, an ended quarantine is
    /// purged (at once, when the quarantine is no longer than zero). Keeps the earliest
    /// instant left.
    fn expire_domains(&mut self, now: Timestamp) {
        let quarantine = self.policy.quarantine;
        let mut changed = false;
        let mut purge = Vec::new();
        let mut next = Timestamp::MAX;
        for d in self.domains.values_mut() {
            while let Some(due) = d.falls_due(quarantine) {
                if due > now {
                    next = next.min(due);
                    break;
                }
                changed = true;
                if d.deleted_at.is_some() {
                    purge.push(d.name.clone());
                    break;
                }
                d.deleted_at = Some(now);
                d.scheduled_delete = None;
            }
        }
        for name in purge {
            self.domains.remove(&name);
        }
        if changed {
            self.generation += 1;
        }
        self.nothing_due_before = Some(next);
    }

    fn roid(&mut self, kind: &str) -> String {
        let n = self.next_roid;
        self.next_roid += 1;
        format!("{kind}_{n}-MOCK")
    }

    fn queue_message(
        &mut self,
        to: &str,
        text: String,
        payload: Option<ResData>,
        now: Timestamp,
    ) -> u64 {
        self.queue_message_with(to, text, payload, Vec::new(), now)
    }

    fn queue_message_with(
        &mut self,
        to: &str,
        text: String,
        payload: Option<ResData>,
        extensions: Vec<ResponseExtension>,
        now: Timestamp,
    ) -> u64 {
        let id = self.next_msg_id;
        self.next_msg_id += 1;
        self.queues
            .entry(to.to_string())
            .or_default()
            .push_back(PollMessage {
                id,
                q_date: now,
                text,
                payload,
                extensions,
            });
        id
    }

    /// The server transaction id the command being executed will get (see
    /// [`respond`](Self::respond), which numbers them).
    fn pending_sv_trid(&self) -> String {
        sv_trid(self.next_sv_trid)
    }

    // Read access for the harness and tests.

    /// A domain by (folded) name.
    pub fn domain(&self, name: &str) -> Option<&Domain> {
        self.domains.get(&name.to_ascii_lowercase())
    }

    /// Every domain object, ordered by (lower-case) name.
    pub fn domains(&self) -> impl Iterator<Item = &Domain> {
        self.domains.values()
    }

    /// A host by name.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.get(&name.to_ascii_lowercase())
    }

    /// A contact by id.
    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.get(id)
    }

    /// A registrar's poll queue, oldest first.
    pub fn queue(&self, cl_id: &str) -> Vec<PollMessage> {
        self.queues
            .get(cl_id)
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every queue, by registrar.
    pub fn queues(&self) -> BTreeMap<String, Vec<PollMessage>> {
        self.queues
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
            .collect()
    }

    /// The transaction log: the last [`Policy::log_capacity`] commands, oldest first.
    pub fn log(&self) -> &VecDeque<LogEntry> {
        &self.log
    }

    /// Key relays passed on so far.
    pub fn relays(&self) -> &[RelayRecord] {
        &self.relays
    }

    /// Everything a command can change (objects, queues, relays, accounts), for tests that
    /// assert a refused command changed nothing.
    pub fn state(&self) -> RegistryState {
        RegistryState {
            domains: self.domains.values().cloned().collect(),
            hosts: self.hosts.values().cloned().collect(),
            contacts: self.contacts.values().cloned().collect(),
            queues: self.queues(),
            relays: self.relays.clone(),
            passwords: self.passwords.clone(),
            generation: self.generation,
            watches: self.watches.clone(),
            receipts: self.receipts.clone(),
        }
    }

    /// A counter that changes whenever the published TLD content changes.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The delegations the TLD publishes now: delegated domains with their name servers, glue
    /// for in-TLD name servers and DNSSEC keys.
    pub fn delegations(&self) -> Vec<PublishedDelegation> {
        self.domains
            .values()
            .filter(|d| d.is_delegated())
            .map(|d| PublishedDelegation {
                name: d.name.clone(),
                ns: d.ns.clone(),
                glue: d
                    .ns
                    .iter()
                    .filter_map(|h| self.hosts.get(h))
                    .flat_map(|h| h.addrs.iter().map(move |a| (h.name.clone(), *a)))
                    .collect(),
                keys: d.keys.clone(),
            })
            .collect()
    }
}

fn no_extensions(ext: &[CommandExtension]) -> Result<(), Refusal> {
    match ext.first() {
        None => Ok(()),
        Some(_) => Err(Refusal::new(
            ResultCode::UnimplementedExtension,
            Area::Codec,
            "this command takes no extension",
        )),
    }
}

fn object_of(kind: &CommandKind) -> Option<LogText> {
    use epp::message::{Check, Create, Delete, Info, Transfer, Update};
    let name: &str = match kind {
        CommandKind::Login(_) | CommandKind::Logout | CommandKind::Poll(_) => return None,
        CommandKind::Check(Check::Domain(v) | Check::Host(v) | Check::Contact(v)) => {
            return Some(LogText::from(v.join(",")));
        }
        CommandKind::Info(Info::Domain(i)) => &i.name,
        CommandKind::Info(Info::Host(n)) => n,
        CommandKind::Info(Info::Contact(c)) => &c.id,
        CommandKind::Create(Create::Domain(c)) => &c.name,
        CommandKind::Create(Create::Host(c)) => &c.name,
        CommandKind::Create(Create::Contact(c)) => &c.id,
        CommandKind::Create(Create::KeyRelay(k)) => &k.name,
        CommandKind::Update(Update::Domain(u)) => &u.name,
        CommandKind::Update(Update::Host(u)) => &u.name,
        CommandKind::Update(Update::Contact(u)) => &u.id,
        CommandKind::Delete(Delete::Domain(n) | Delete::Host(n) | Delete::Contact(n)) => n,
        CommandKind::Renew(r) => &r.name,
        CommandKind::Transfer(_, Transfer::Domain(t)) => &t.name,
        CommandKind::Transfer(_, Transfer::Contact(c)) => &c.id,
    };
    Some(LogText::from(name))
}

/// The server transaction id of command `n`: `MOCK-` and `n` in at least eight digits.
/// Written by hand rather than with `format!`: every response carries one.
pub(super) fn sv_trid(n: u64) -> String {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let start = at.min(digits.len() - 8);
    let mut out = String::with_capacity(5 + digits.len() - start);
    out.push_str("MOCK-");
    out.push_str(std::str::from_utf8(&digits[start..]).expect("invariant: ASCII digits are UTF-8"));
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}
