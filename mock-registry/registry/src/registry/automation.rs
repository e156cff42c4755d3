//! Parent-side DS automation (RFC 7344, RFC 8078, RFC 9615): the registry reads what the
//! child publishes in CDS/CDNSKEY and updates the DS it publishes by itself, under a policy
//! profile modelled on the registries that do this today (`../shared/docs/ds-automation.md`,
//! `docs/ds-automation.md`).
//!
//! This part has no I/O, like the receipts: [`Registry::automation_scans`] says which
//! delegations to scan, and [`Registry::record_scan`] takes what a scanner found over DNS
//! (`crate::scan` asks, with the DNSSEC checks done there). Every decision the scanner's
//! findings lead to is an [`AutomationEvent`] in [`Registry::automation_log`]: a refusal
//! names its reason, an acceptance the keys before and after, so a run's transcript shows
//! why a DS did or did not change. A DS change is told to the sponsor in an RFC 8590 change
//! poll message (`changePoll:changeData`, operation `update`, `op="autoUpdate"`).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};

use super::Registry;
use super::keys::check_key;
use epp::changepoll::{ChangeData, ChangeState, Operation, OperationKind};
use epp::message::{ResData, ResponseExtension};
use epp::secdns::{DsOrKey, DsOrKeySet, KeyData};
use epp::{Text, uri};

/// Which registry's rules the scanner follows. The numbers behind each are in
/// [`AutomationPolicy::profile`]; a scenario may override any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// No scanning: the SIDN profile, where only EPP (and key relay) change a DS.
    None,
    /// Internetstiftelsen (.se, .nu): CDS, daily scans over TCP from three vantage points,
    /// bootstrap after about three days of consistent answers, CDNSKEY must match CDS.
    Se,
    /// SWITCH (.ch, .li): CDS, bootstrap after 72 hours of consistent answers over TCP, or at
    /// once with RFC 9615 signals.
    Ch,
    /// CZ.NIC's FRED (.cz) "AKM": CDNSKEY only, a seven-day acceptance period of unchanged
    /// answers to turn DNSSEC on, `CDNSKEY 0 3 0 AA==` to turn it off, the registrar told by
    /// poll message.
    Fred,
    /// The CentralNic platform: CDS only; insecure delegations scanned weekly, then every
    /// three hours for 72 hours once a CDS appears; any change restarts the timer.
    Centralnic,
}

impl Profile {
    /// Every profile, for listings and errors.
    pub const ALL: [Self; 5] = [Self::None, Self::Se, Self::Ch, Self::Fred, Self::Centralnic];

    /// The name scenarios and logs use.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Se => "se",
            Self::Ch => "ch",
            Self::Fred => "fred",
            Self::Centralnic => "centralnic",
        }
    }

    /// The profile of a name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which child records the scanner acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// CDS only (CDNSKEY, when present, is checked against it if [`AutomationPolicy::agreement`]).
    Cds,
    /// CDNSKEY only.
    Cdnskey,
    /// Either; when both are present they must name the same keys.
    Both,
}

/// How the scanner reaches the child's name servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanTransport {
    /// UDP, with TCP when an answer is truncated.
    Udp,
    /// TCP only (.se, .ch: a spoofed UDP answer cannot start a DNSSEC bootstrap).
    Tcp,
}

/// Bootstrapping an insecure delegation from its CDS/CDNSKEY (RFC 8078 §3: "accept after
/// delay"): the same answer, from every name server, for `delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bootstrap {
    /// How long the answers must stay the same before the first DS is published.
    pub delay: SignedDuration,
    /// CentralNic's pattern: once a CDS is seen on an insecure delegation, scan every
    /// `interval` for the `delay` instead of at the insecure scan interval.
    pub intensive: Option<SignedDuration>,
}

/// The scanner's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationPolicy {
    /// The profile these rules came from (for logs and poll messages).
    pub profile: Profile,
    /// CDS, CDNSKEY or either.
    pub reads: Reads,
    /// Whether CDS and CDNSKEY, when a server serves both, must name the same keys (.se).
    pub agreement: bool,
    /// How often a secure delegation is scanned.
    pub scan_interval: SignedDuration,
    /// How often an insecure delegation is scanned for a bootstrap.
    pub insecure_scan_interval: SignedDuration,
    /// How long a changed answer on a secure delegation must stay the same before the DS
    /// follows (zero: at the scan that sees it).
    pub acceptance: SignedDuration,
    /// Bootstrapping insecure delegations by delay; `None`: the registry does not.
    pub bootstrap: Option<Bootstrap>,
    /// Whether RFC 9615 signals bootstrap an insecure delegation at once.
    pub rfc9615: bool,
    /// Whether the delete records (`CDS 0 0 0 00`, `CDNSKEY 0 3 0 AA==`, RFC 8078 §4) remove
    /// every DS.
    pub delete: bool,
    /// How many times every address is asked per scan (the field's vantage points; the
    /// world has one network, so they differ only when a server answers inconsistently).
    pub vantage_points: u8,
    /// UDP (TCP on truncation) or TCP only.
    pub transport: ScanTransport,
    /// Whether the child's CSYNC (RFC 7477) updates the delegation's NS set: the step of a
    /// multi-signer join or leave (RFC 8901) that changes name servers without the
    /// registrar. None of the profiles' registries lists it; a scenario turns it on.
    pub csync: bool,
}

impl AutomationPolicy {
    /// The rules of a profile; `None` for [`Profile::None`].
    pub fn profile(profile: Profile) -> Option<Self> {
        let day = SignedDuration::from_hours(24);
        let base = Self {
            profile,
            reads: Reads::Cds,
            agreement: true,
            scan_interval: day,
            insecure_scan_interval: day,
            acceptance: SignedDuration::ZERO,
            bootstrap: None,
            rfc9615: false,
            delete: true,
            vantage_points: 1,
            transport: ScanTransport::Tcp,
            csync: false,
        };
        Some(match profile {
            Profile::None => return None,
            Profile::Se => Self {
                vantage_points: 3,
                bootstrap: Some(Bootstrap {
                    delay: SignedDuration::from_hours(72),
                    intensive: None,
                }),
                ..base
            },
            Profile::Ch => Self {
                bootstrap: Some(Bootstrap {
                    delay: SignedDuration::from_hours(72),
                    intensive: None,
                }),
                rfc9615: true,
                ..base
            },
            Profile::Fred => Self {
                reads: Reads::Cdnskey,
                agreement: false,
                bootstrap: Some(Bootstrap {
                    delay: SignedDuration::from_hours(7 * 24),
                    intensive: None,
                }),
                transport: ScanTransport::Udp,
                ..base
            },
            Profile::Centralnic => Self {
                agreement: false,
                insecure_scan_interval: SignedDuration::from_hours(7 * 24),
                bootstrap: Some(Bootstrap {
                    delay: SignedDuration::from_hours(72),
                    intensive: Some(SignedDuration::from_hours(3)),
                }),
                transport: ScanTransport::Udp,
                ..base
            },
        })
    }
}

/// What a scanner must ask: every name server of one delegation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRequest {
    /// The domain (zone apex, lower case, no trailing dot).
    pub domain: String,
    /// The delegation's name server host names.
    pub hosts: Vec<String>,
    /// Addresses the registry holds for in-TLD hosts (glue).
    pub glue: Vec<(String, IpAddr)>,
    /// The keys whose DS the TLD publishes now: a CDS/CDNSKEY of a secure delegation must be
    /// signed by one of them (RFC 7344 §4.1). Empty: the delegation is insecure.
    pub ds_keys: Vec<KeyData>,
    /// Whether to ask for RFC 9615 signals (insecure delegation, the policy accepts them).
    pub signals: bool,
    /// How to ask.
    pub transport: ScanTransport,
    /// How many times to ask every address.
    pub vantage_points: u8,
    /// Which records the policy acts on (and so which must be signed).
    pub reads: Reads,
    /// Whether to read the child's CSYNC and NS RRset (secure delegation, the policy takes
    /// CSYNC).
    pub csync: bool,
}

/// What the child asks for, as the scanner read it from one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// Nothing published (no CDS and no CDNSKEY, or not the one the policy reads).
    Nothing,
    /// These keys (the CDNSKEYs, or the DNSKEYs the CDS digests name), sorted.
    Keys(Vec<KeyData>),
    /// The delete records: remove every DS (RFC 8078 §4).
    Delete,
}

impl fmt::Display for Wanted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nothing => f.write_str("nothing"),
            Self::Delete => f.write_str("delete"),
            Self::Keys(keys) => {
                let tags: Vec<String> = keys.iter().map(tag_of).collect();
                write!(f, "keys {}", tags.join(", "))
            }
        }
    }
}

/// What one name server (every address, every vantage point) gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostScan {
    /// No usable answer: unreachable, not authoritative, an error code, answers that differ
    /// between addresses or vantage points.
    Failed(String),
    /// A DNSSEC check failed (the reason says which): the answer cannot be acted on.
    Bogus(String),
    /// A usable answer.
    Answer {
        /// What the records the policy reads ask for.
        wanted: Wanted,
        /// Whether the CDS/CDNSKEY RRsets (and the DNSKEY RRset) are signed, valid now, by a
        /// key with a DS at the parent: required for a secure delegation (RFC 7344 §4.1).
        authenticated: bool,
        /// For an insecure delegation: whether the DNSKEY RRset is signed by a key the
        /// records name, and the records by the DNSKEY RRset (the zone is ready for the DS
        /// it asks for, RFC 8078 §3).
        consistent: bool,
        /// Whether this server's CDS and CDNSKEY, both present, name different keys.
        disagreement: bool,
        /// What its CSYNC asks of the delegation's NS set (when asked for).
        csync: Csync,
    },
}

/// What a child's CSYNC (RFC 7477) asks, as one server serves it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Csync {
    /// No CSYNC (or not asked for).
    #[default]
    None,
    /// A validated CSYNC with the immediate flag and NS in its bitmap: the delegation
    /// should carry this validated NS RRset (host names, lower case, sorted).
    Ns(Vec<String>),
    /// A CSYNC that cannot be acted on, and why.
    Unusable(String),
}

/// What a scanner found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanReport {
    /// The domain of the request.
    pub domain: String,
    /// When the servers were asked.
    pub at: Timestamp,
    /// Per host of the request, in its order.
    pub hosts: Vec<(String, HostScan)>,
    /// RFC 9615: each host's signal (`_dsboot.<domain>._signal.<host>`), when requested and
    /// the child asks for something; empty otherwise.
    pub signals: Vec<(String, Signal)>,
}

/// One name server's RFC 9615 signal, as the scanner found it (`crate::signals` looks it up
/// and validates it, `crate::scan` compares it with the child's own records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Validated from the root down and equal, record type by record type, to what every
    /// server of the child serves (RFC 9615 §4.1 steps 3–4): it asks for this.
    Valid(Wanted),
    /// The host is inside the child: its signal is neither looked up nor needed (§4.1).
    InDomain,
    /// Missing, unreachable, not validated or different from the child's records: why.
    Invalid(String),
}

/// What the scanner decided at one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The DS set now follows the child: keys before, keys after.
    Updated {
        /// The keys with a DS before.
        from: Vec<KeyData>,
        /// The keys with a DS now (empty: DNSSEC turned off).
        to: Vec<KeyData>,
        /// What made it acceptable (`signed by the current DS`, `72h of consistent
        /// answers`, `RFC 9615 signals`).
        because: String,
    },
    /// The child asks for a change the policy makes wait: since when, and until when at the
    /// earliest.
    Waiting {
        /// The change asked for.
        wanted: Wanted,
        /// When the same answer was first seen.
        since: Timestamp,
        /// The earliest scan that may act on it.
        until: Timestamp,
        /// Where the policy takes RFC 9615 signals: why they did not bootstrap at once.
        signals: Option<String>,
    },
    /// The child's request was refused; nothing changed.
    Refused(String),
    /// The delegation's NS set now follows the child's CSYNC (RFC 7477).
    NsUpdated {
        /// The name servers before.
        from: Vec<String>,
        /// The name servers now.
        to: Vec<String>,
    },
}

/// One decision, for the transcript and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomationEvent {
    /// When the scan was made.
    pub time: Timestamp,
    /// The domain.
    pub domain: String,
    /// What was decided.
    pub decision: Decision,
}

impl fmt::Display for AutomationEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.decision {
            Decision::Updated { from, to, because } => {
                let tags = |k: &[KeyData]| {
                    if k.is_empty() {
                        "none".to_string()
                    } else {
                        k.iter().map(tag_of).collect::<Vec<_>>().join(", ")
                    }
                };
                write!(
                    f,
                    "DS of {} updated from the child: keys {} → {} ({because})",
                    self.domain,
                    tags(from),
                    tags(to)
                )
            }
            Decision::Waiting {
                wanted,
                since,
                until,
                signals,
            } => {
                write!(
                    f,
                    "{} asks for {wanted} since {since}: not before {until}",
                    self.domain
                )?;
                match signals {
                    Some(why) => write!(f, " (no RFC 9615 bootstrap: {why})"),
                    None => Ok(()),
                }
            }
            Decision::Refused(why) => write!(f, "{}: CDS/CDNSKEY not acted on: {why}", self.domain),
            Decision::NsUpdated { from, to } => write!(
                f,
                "NS of {} updated from the child's CSYNC: {} → {}",
                self.domain,
                from.join(" "),
                to.join(" ")
            ),
        }
    }
}

/// The scanner's memory of one delegation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// When it is scanned next.
    pub next_scan: Timestamp,
    /// A change asked for and waiting out the policy: what, and since when.
    pub candidate: Option<(Wanted, Timestamp)>,
}

impl Registry {
    /// Whether the registry scans children for CDS/CDNSKEY.
    pub fn automates_ds(&self) -> bool {
        self.policy.ds_automation.is_some()
    }

    /// The scanner's decisions so far, oldest first.
    pub fn automation_log(&self) -> &[AutomationEvent] {
        &self.automation_log
    }

    /// Whether a change asked for by a child is waiting out the policy: the scanner will act
    /// (or refuse) later, so a run is not idle.
    pub fn automation_pending(&self) -> bool {
        self.tracked.values().any(|t| t.candidate.is_some())
    }

    /// The next instant a delegation is due for a scan.
    pub fn next_scan_deadline(&self) -> Option<Timestamp> {
        self.policy.ds_automation.as_ref()?;
        // A delegation not yet tracked is scanned at the next publication round, which
        // always asks for scans; only the tracked ones have deadlines.
        self.tracked.values().map(|t| t.next_scan).min()
    }

    /// The delegations to scan now. A delegation seen for the first time is scanned at once;
    /// a domain no longer delegated is forgotten.
    pub fn automation_scans(&mut self, now: Timestamp) -> Vec<ScanRequest> {
        let Some(policy) = self.policy.ds_automation.clone() else {
            return Vec::new();
        };
        let domains = &self.domains;
        self.tracked
            .retain(|name, _| domains.get(name).is_some_and(|d| d.is_delegated()));
        let mut out = Vec::new();
        for d in self.domains.values().filter(|d| d.is_delegated()) {
            let t = self.tracked.entry(d.name.clone()).or_insert(Tracked {
                next_scan: now,
                candidate: None,
            });
            if t.next_scan > now {
                continue;
            }
            let glue =
                d.ns.iter()
                    .filter_map(|h| self.hosts.get(h))
                    .flat_map(|h| h.addrs.iter().map(move |a| (h.name.clone(), *a)))
                    .collect();
            out.push(ScanRequest {
                domain: d.name.clone(),
                hosts: d.ns.clone(),
                glue,
                ds_keys: d.keys.clone(),
                signals: policy.rfc9615 && d.keys.is_empty(),
                transport: policy.transport,
                vantage_points: policy.vantage_points.max(1),
                reads: policy.reads,
                csync: policy.csync && !d.keys.is_empty(),
            });
        }
        out
    }

    /// Acts on a scan: refuses, waits or updates the DS set, and schedules the next scan.
    /// A report for a domain no longer delegated changes nothing.
    pub fn record_scan(&mut self, report: ScanReport) {
        let Some(policy) = self.policy.ds_automation.clone() else {
            return;
        };
        let Some(domain) = self.domains.get(&report.domain) else {
            return;
        };
        if !domain.is_delegated() || !self.tracked.contains_key(&report.domain) {
            return;
        }
        let current = domain.keys.clone();
        let secure = !current.is_empty();
        let now = report.at;
        let previous = self
            .tracked
            .get(&report.domain)
            .and_then(|t| t.candidate.clone());
        let (decision, candidate) = decide(&policy, &current, &report, previous, now);
        let interval = match (&candidate, secure) {
            (_, true) => policy.scan_interval,
            (Some(_), false) => policy
                .bootstrap
                .and_then(|b| b.intensive)
                .unwrap_or(policy.insecure_scan_interval),
            (None, false) => policy.insecure_scan_interval,
        };
        let mut next_scan = now.checked_add(interval).unwrap_or(Timestamp::MAX);
        if let (Some(Decision::Waiting { until, .. }), Some(_)) = (&decision, &candidate) {
            // A wait that ends before the next regular scan is acted on at its end (the
            // profile promises the delay, not the delay rounded up to a scan interval).
            next_scan = next_scan.min((*until).max(now));
        }
        if let Some(t) = self.tracked.get_mut(&report.domain) {
            t.next_scan = next_scan;
            t.candidate = candidate;
        }
        if let Some(decision) = decision {
            if let Decision::Updated { to, .. } = &decision {
                self.apply_ds(&report.domain, to.clone(), &policy, now);
            }
            self.automation_log.push(AutomationEvent {
                time: now,
                domain: report.domain.clone(),
                decision,
            });
        }
        if policy.csync && secure {
            let current_ns = self
                .domains
                .get(&report.domain)
                .map(|d| d.ns.clone())
                .unwrap_or_default();
            let decision = match decide_ns(&current_ns, &report) {
                Some(Decision::NsUpdated { to, .. }) => {
                    match self.apply_ns(&report.domain, &to, &policy, now) {
                        Ok(()) => Some(Decision::NsUpdated {
                            from: current_ns,
                            to,
                        }),
                        Err(why) => Some(Decision::Refused(why)),
                    }
                }
                other => other,
            };
            if let Some(decision) = decision {
                self.automation_log.push(AutomationEvent {
                    time: now,
                    domain: report.domain,
                    decision,
                });
            }
        }
    }

    /// Replaces the delegation's name servers with `ns` (creating external host objects the
    /// registry does not have; an in-TLD host needs its object and glue first), and tells
    /// the sponsor. Refused, changing nothing, when a name cannot be used.
    fn apply_ns(
        &mut self,
        name: &str,
        ns: &[String],
        policy: &AutomationPolicy,
        now: Timestamp,
    ) -> Result<(), String> {
        let Some(d) = self.domains.get(name) else {
            return Err("the domain is gone".into());
        };
        if ns.len() > self.policy.max_ns {
            return Err(format!(
                "the CSYNC asks for {} name servers (at most {})",
                ns.len(),
                self.policy.max_ns
            ));
        }
        let tld_suffix = format!(".{}", self.policy.tld);
        let mut create = Vec::new();
        for h in ns {
            if self.hosts.contains_key(h) {
                continue;
            }
            if h.ends_with(&tld_suffix) {
                return Err(format!(
                    "the CSYNC names {h}, a host inside .{} the registry has no object and \
                     glue for",
                    self.policy.tld
                ));
            }
            super::names::normalize(h, super::refusal::Area::Host, "host:name")
                .map_err(|r| format!("the CSYNC names a host that cannot be one: {}", r.text))?;
            create.push(h.clone());
        }
        let sponsor = d.sponsor.clone();
        for h in create {
            let roid = self.roid("H");
            // An external host object, as a registrar's host create would make it (RFC 5732:
            // no addresses outside the TLD), sponsored by the domain's sponsor.
            self.hosts.insert(
                h.clone(),
                super::objects::Host {
                    name: h.clone(),
                    roid,
                    addrs: Vec::new(),
                    statuses: std::collections::BTreeSet::new(),
                    sponsor: sponsor.clone(),
                    cr_id: sponsor.clone(),
                    cr_date: now,
                    up_id: None,
                    up_date: None,
                    tr_date: None,
                },
            );
        }
        let Some(d) = self.domains.get_mut(name) else {
            return Err("the domain is gone".into());
        };
        d.ns = ns.to_vec();
        self.generation += 1;
        let d = d.clone();
        self.tell_sponsor(
            &d,
            Vec::new(),
            format!("CSYNC scanner ({} policy)", policy.profile),
            "child CSYNC (RFC 7477)",
            format!("NS of {} updated from its CSYNC", d.name),
            now,
        );
        Ok(())
    }

    /// Replaces the domain's keys and tells its sponsor (RFC 8590 change poll message).
    fn apply_ds(
        &mut self,
        name: &str,
        keys: Vec<KeyData>,
        policy: &AutomationPolicy,
        now: Timestamp,
    ) {
        let Some(d) = self.domains.get_mut(name) else {
            return;
        };
        d.keys = keys;
        self.generation += 1;
        let d = d.clone();
        let who = format!("CDS/CDNSKEY scanner ({} policy)", policy.profile);
        if d.keys.is_empty() {
            let text = format!("DNSSEC of {} turned off from its CDS/CDNSKEY", d.name);
            self.tell_sponsor(
                &d,
                Vec::new(),
                who,
                "child delete record (RFC 8078)",
                text,
                now,
            );
        } else {
            let secdns = ResponseExtension::SecDnsInfo(DsOrKeySet {
                max_sig_life: None,
                data: DsOrKey::Key(d.keys.clone()),
            });
            let text = format!("DS of {} updated from its CDS/CDNSKEY", d.name);
            self.tell_sponsor(
                &d,
                vec![secdns],
                who,
                "child CDS/CDNSKEY (RFC 7344)",
                text,
                now,
            );
        }
    }

    /// Queues the RFC 8590 change poll message for a change the scanner made to `d`: the
    /// domain's info after it, `extensions` (its secDNS data, where it has some), then the
    /// change data naming `who` and `reason` (eppcom's reasonBaseType: 1 to 32 characters).
    fn tell_sponsor(
        &mut self,
        d: &super::objects::Domain,
        mut extensions: Vec<ResponseExtension>,
        who: String,
        reason: &str,
        text: String,
        now: Timestamp,
    ) {
        let info = d.full_info(self.subordinate_hosts(&d.name), true);
        let sv_trid = self.pending_sv_trid();
        self.next_sv_trid += 1;
        extensions.push(ResponseExtension::ChangePoll(Box::new(ChangeData {
            state: ChangeState::After,
            operation: Operation {
                kind: OperationKind::Update,
                op: Some("autoUpdate".into()),
            },
            date: now,
            sv_trid,
            who,
            case_id: None,
            reason: Some(Text::new(reason)),
        })));
        self.queue_message_with(
            &d.sponsor,
            text,
            Some(ResData::DomainInfo(Box::new(info))),
            extensions,
            now,
        );
    }

    /// Extensions the greeting offers for DS automation: RFC 8590's change poll, and RFC 9038
    /// for sessions that did not announce it.
    pub(super) fn automation_ext_uris(&self) -> &'static [&'static str] {
        if self.automates_ds() {
            &[uri::CHANGE_POLL, uri::UNHANDLED_NAMESPACES]
        } else {
            &[]
        }
    }
}

/// The scanner's rules applied to one scan: the decision to log (none when nothing is asked
/// or nothing would change), and the candidate to remember.
fn decide(
    policy: &AutomationPolicy,
    current: &[KeyData],
    report: &ScanReport,
    previous: Option<(Wanted, Timestamp)>,
    now: Timestamp,
) -> (Option<Decision>, Option<(Wanted, Timestamp)>) {
    let refuse = |why: String| (Some(Decision::Refused(why)), None);
    if report.hosts.is_empty() {
        return refuse("the delegation has no name servers".into());
    }
    // RFC 7344 §4.1: act only when every name server gives the same, checked answer.
    let mut wanted: Option<&Wanted> = None;
    let mut all_authenticated = true;
    let mut all_consistent = true;
    for (host, scan) in &report.hosts {
        match scan {
            HostScan::Failed(why) => return refuse(format!("{host}: {why}")),
            HostScan::Bogus(why) => return refuse(format!("{host}: {why}")),
            HostScan::Answer {
                wanted: w,
                authenticated,
                consistent,
                disagreement,
                ..
            } => {
                if *disagreement && policy.agreement {
                    return refuse(format!("{host}: CDS and CDNSKEY name different keys"));
                }
                match wanted {
                    Some(first) if first != w => {
                        return refuse(format!(
                            "the name servers disagree: {} asks for {first}, {host} for {w}",
                            report.hosts[0].0
                        ));
                    }
                    _ => wanted = Some(w),
                }
                all_authenticated &= *authenticated;
                all_consistent &= *consistent;
            }
        }
    }
    let wanted = wanted.cloned().unwrap_or(Wanted::Nothing);
    let secure = !current.is_empty();
    let target: Vec<KeyData> = match &wanted {
        Wanted::Nothing => return (None, None),
        Wanted::Delete if !secure => return (None, None),
        Wanted::Delete if !policy.delete => {
            return refuse("this registry does not turn DNSSEC off from a delete record".into());
        }
        Wanted::Delete => Vec::new(),
        Wanted::Keys(keys) => keys.clone(),
    };
    if let Some(bad) = target.iter().find_map(|k| check_key(k).err()) {
        return refuse(format!("a key it asks for is refused: {}", bad.text));
    }
    if same_keys(current, &target) {
        return (None, None);
    }
    let since = match previous {
        Some((w, since)) if w == wanted => since,
        _ => now,
    };
    if secure {
        if !all_authenticated {
            return refuse(
                "the CDS/CDNSKEY is not signed by a key with a DS at the parent (RFC 7344 §4.1)"
                    .into(),
            );
        }
        return settle(
            policy.acceptance,
            wanted,
            since,
            now,
            current,
            target,
            "signed by a key of the current DS set".into(),
        );
    }
    if !all_consistent {
        return refuse(
            "the zone is not signed with the keys its CDS/CDNSKEY names (RFC 8078 §3)".into(),
        );
    }
    let mut no_signals = None;
    if policy.rfc9615 {
        match signalled(&report.domain, &report.signals, &wanted) {
            Ok(()) => {
                return (
                    Some(Decision::Updated {
                        from: current.to_vec(),
                        to: target,
                        because: "RFC 9615 signals from every name server".into(),
                    }),
                    None,
                );
            }
            Err(why) => no_signals = Some(why),
        }
    }
    let Some(bootstrap) = policy.bootstrap else {
        let why = "this registry does not bootstrap DNSSEC from CDS/CDNSKEY by delay";
        return refuse(match no_signals {
            Some(s) => format!("{why}, and there is no RFC 9615 bootstrap: {s}"),
            None => why.into(),
        });
    };
    let (mut decision, candidate) = settle(
        bootstrap.delay,
        wanted,
        since,
        now,
        current,
        target,
        format!(
            "the same answer for {} (RFC 8078 §3.3, accept after delay)",
            human(bootstrap.delay)
        ),
    );
    if let Some(Decision::Waiting { signals, .. }) = &mut decision {
        *signals = no_signals;
    }
    (decision, candidate)
}

/// RFC 9615 §4.1: whether every name server outside the child signals what the child asks
/// for (at least one must be outside); otherwise why not, naming the first host that fails.
fn signalled(domain: &str, signals: &[(String, Signal)], wanted: &Wanted) -> Result<(), String> {
    if signals.is_empty() {
        return Err("no signals were looked up".into());
    }
    let mut valid = 0;
    for (host, signal) in signals {
        match signal {
            Signal::Valid(w) if w == wanted => valid += 1,
            Signal::Valid(w) => {
                return Err(format!(
                    "{host}'s signal asks for {w}, the child for {wanted}"
                ));
            }
            Signal::InDomain => {}
            Signal::Invalid(why) => return Err(format!("{host}: {why}")),
        }
    }
    if valid == 0 {
        return Err(format!(
            "every name server is inside {domain}, so none can carry a signal (RFC 9615 §4.1)"
        ));
    }
    Ok(())
}

/// The CSYNC rules (RFC 7477 §3): every name server serves a usable CSYNC naming the same NS
/// set; acting changes the delegation when that set differs from it. No CSYNC anywhere logs
/// nothing; a CSYNC on some servers only, or one that cannot be used, is refused.
fn decide_ns(current: &[String], report: &ScanReport) -> Option<Decision> {
    let mut asked: Option<&Vec<String>> = None;
    let mut none = 0;
    for (host, scan) in &report.hosts {
        let HostScan::Answer { csync, .. } = scan else {
            // The DS decision already refused over this server.
            return None;
        };
        match csync {
            Csync::None => none += 1,
            Csync::Unusable(why) => {
                return Some(Decision::Refused(format!("{host}: CSYNC: {why}")));
            }
            Csync::Ns(ns) => match asked {
                Some(first) if first != ns => {
                    return Some(Decision::Refused(format!(
                        "CSYNC: the name servers serve different NS sets ({} and {})",
                        first.join(" "),
                        ns.join(" ")
                    )));
                }
                _ => asked = Some(ns),
            },
        }
    }
    let ns = asked?;
    if none > 0 {
        return Some(Decision::Refused(
            "CSYNC: not every name server serves one (RFC 7477 §3.1)".into(),
        ));
    }
    if ns.is_empty() {
        return Some(Decision::Refused(
            "CSYNC: the child's NS RRset is empty".into(),
        ));
    }
    let mut have: Vec<String> = current.to_vec();
    have.sort();
    if have == *ns {
        return None;
    }
    Some(Decision::NsUpdated {
        from: current.to_vec(),
        to: ns.clone(),
    })
}

/// Acts once `wanted` has been asked for `delay` since `since`; waits before.
fn settle(
    delay: SignedDuration,
    wanted: Wanted,
    since: Timestamp,
    now: Timestamp,
    current: &[KeyData],
    target: Vec<KeyData>,
    because: String,
) -> (Option<Decision>, Option<(Wanted, Timestamp)>) {
    let until = since.checked_add(delay).unwrap_or(Timestamp::MAX);
    if until <= now {
        return (
            Some(Decision::Updated {
                from: current.to_vec(),
                to: target,
                because,
            }),
            None,
        );
    }
    (
        Some(Decision::Waiting {
            wanted: wanted.clone(),
            since,
            until,
            signals: None,
        }),
        Some((wanted, since)),
    )
}

/// Whether two key sets hold the same keys, in any order.
fn same_keys(a: &[KeyData], b: &[KeyData]) -> bool {
    a.len() == b.len() && a.iter().all(|k| b.contains(k))
}

/// A key as its key tag and algorithm (`12345/13`), for people.
fn tag_of(k: &KeyData) -> String {
    match check_key(k) {
        Ok(dnskey) => format!("{}/{}", dnssec::keys::key_tag(&dnskey), k.alg),
        Err(_) => format!("?/{}", k.alg),
    }
}

/// A duration in the largest whole unit (`3d`, `72h`, `90m`).
fn human(d: SignedDuration) -> String {
    let s = d.as_secs();
    match s {
        s if s % 86_400 == 0 && s != 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 && s != 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s != 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The scanner's memory, keyed by domain.
pub(super) type TrackedMap = BTreeMap<String, Tracked>;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::registry::{Policy, Services};
    use crate::testing::commands::{command, delegate};
    use crate::testing::{Schema, xmllint_failures};
    use clock::{Clock, VirtualClock};
    use epp::message::{Command, CommandKind, Frame, Poll, ResultValue};

    const A: &str = "reg-a";

    fn key(n: usize) -> KeyData {
        KeyData {
            flags: 257,
            protocol: 3,
            alg: 15,
            pub_key: dnssec::fixture_keys::key(dnssec::KeyAlgorithm::Ed25519, n)
                .public_key()
                .to_vec(),
        }
    }

    /// A registry scanning under `profile`, A sponsoring a delegated example.nl with the
    /// keys given (none: insecure).
    fn setup(profile: Profile, keys: Vec<KeyData>) -> (Registry, VirtualClock) {
        let clock = VirtualClock::new("2026-01-01T00:00:00Z".parse().expect("time"));
        let policy = Policy {
            ds_automation: AutomationPolicy::profile(profile),
            ..Policy::default()
        };
        let mut reg = Registry::new(policy, Arc::new(clock.clone()), 1);
        reg.add_registrar(A, "password-a");
        delegate(
            &mut reg,
            A,
            "example.nl",
            &["ns1.example.net", "ns2.example.net"],
            keys,
        );
        (reg, clock)
    }

    fn answer(wanted: Wanted, authenticated: bool) -> HostScan {
        HostScan::Answer {
            wanted,
            authenticated,
            consistent: true,
            disagreement: false,
            csync: Csync::None,
        }
    }

    fn report(at: Timestamp, hosts: [HostScan; 2]) -> ScanReport {
        ScanReport {
            domain: "example.nl".into(),
            at,
            hosts: ["ns1.example.net", "ns2.example.net"]
                .into_iter()
                .map(String::from)
                .zip(hosts)
                .collect(),
            signals: Vec::new(),
        }
    }

    fn later(t: Timestamp, hours: i64) -> Timestamp {
        t.checked_add(SignedDuration::from_hours(hours))
            .expect("time")
    }

    fn decisions(reg: &Registry) -> Vec<&Decision> {
        reg.automation_log().iter().map(|e| &e.decision).collect()
    }

    #[test]
    fn the_sidn_profile_scans_nothing() {
        let clock = VirtualClock::new("2026-01-01T00:00:00Z".parse().expect("time"));
        let mut reg = Registry::new(Policy::default(), Arc::new(clock.clone()), 1);
        assert!(!reg.automates_ds());
        assert!(reg.automation_scans(clock.now()).is_empty());
        assert!(!reg.ext_uris().iter().any(|u| u == uri::CHANGE_POLL));
    }

    #[test]
    fn a_signed_cds_on_a_secure_delegation_replaces_the_ds_and_tells_the_sponsor() {
        let (mut reg, clock) = setup(Profile::Se, vec![key(0)]);
        assert!(reg.ext_uris().iter().any(|u| u == uri::CHANGE_POLL));
        let t0 = clock.now();
        let scans = reg.automation_scans(t0);
        assert_eq!(scans.len(), 1);
        let s = &scans[0];
        assert_eq!(s.hosts, ["ns1.example.net", "ns2.example.net"]);
        assert_eq!((s.ds_keys.clone(), s.signals), (vec![key(0)], false));
        assert_eq!((s.vantage_points, s.transport), (3, ScanTransport::Tcp));
        let want = Wanted::Keys(vec![key(1)]);
        reg.record_scan(report(
            t0,
            [answer(want.clone(), true), answer(want.clone(), true)],
        ));
        assert_eq!(reg.domain("example.nl").expect("domain").keys, vec![key(1)]);
        assert!(matches!(decisions(&reg)[..], [Decision::Updated { .. }]));
        // Scanned again a day later, not before.
        assert!(reg.automation_scans(later(t0, 23)).is_empty());
        assert_eq!(reg.automation_scans(later(t0, 24)).len(), 1);
        // The sponsor's poll message: domain:infData, secDNS:infData, changePoll:changeData,
        // valid against the schemas.
        let r = reg.execute(
            A,
            &Services::all(),
            &Command {
                kind: CommandKind::Poll(Poll::Req),
                extensions: Vec::new(),
                cl_trid: Some("POLL-1".into()),
            },
        );
        assert_eq!(r.code().code(), 1301);
        // Services::all() does not announce change poll: RFC 9038 puts it in extValue.
        assert!(
            r.results[0]
                .values
                .iter()
                .any(|v| matches!(v, ResultValue::ExtValue { .. }))
        );
        let announced = Services {
            ext_uris: reg.ext_uris(),
            ..Services::all()
        };
        let r = reg.execute(
            A,
            &announced,
            &Command {
                kind: CommandKind::Poll(Poll::Req),
                extensions: Vec::new(),
                cl_trid: Some("POLL-2".into()),
            },
        );
        let Some(ResponseExtension::ChangePoll(c)) = r
            .extensions
            .iter()
            .find(|x| matches!(x, ResponseExtension::ChangePoll(_)))
        else {
            panic!("no change poll data: {r:?}")
        };
        assert_eq!(c.operation.kind, OperationKind::Update);
        assert_eq!(c.operation.op.as_deref(), Some("autoUpdate"));
        assert!(c.who.contains("se"));
        assert!(c.check().is_ok());
        assert!(matches!(r.res_data, Some(ResData::DomainInfo(_))));
        let xml = Frame::Response(Box::new(r)).to_xml();
        let bad = xmllint_failures(&[("poll".into(), xml)], Schema::Strict);
        assert!(bad.is_empty(), "{bad:?}");
    }

    #[test]
    fn refusals_change_nothing_and_say_why() {
        let cases: Vec<([HostScan; 2], &str)> = vec![
            (
                [
                    answer(Wanted::Keys(vec![key(1)]), false),
                    answer(Wanted::Keys(vec![key(1)]), false),
                ],
                "not signed by a key with a DS",
            ),
            (
                [
                    answer(Wanted::Keys(vec![key(1)]), true),
                    answer(Wanted::Keys(vec![key(2)]), true),
                ],
                "disagree",
            ),
            (
                [
                    answer(Wanted::Keys(vec![key(1)]), true),
                    HostScan::Failed("TCP connection refused".into()),
                ],
                "TCP connection refused",
            ),
            (
                [
                    HostScan::Bogus("its DNSKEY RRset is not signed".into()),
                    answer(Wanted::Keys(vec![key(1)]), true),
                ],
                "not signed",
            ),
            (
                [
                    HostScan::Answer {
                        wanted: Wanted::Keys(vec![key(1)]),
                        authenticated: true,
                        consistent: true,
                        disagreement: true,
                        csync: Csync::None,
                    },
                    answer(Wanted::Keys(vec![key(1)]), true),
                ],
                "CDS and CDNSKEY name different keys",
            ),
        ];
        for (hosts, why) in cases {
            let (mut reg, clock) = setup(Profile::Se, vec![key(0)]);
            reg.automation_scans(clock.now());
            let before = reg.state();
            reg.record_scan(report(clock.now(), hosts));
            assert_eq!(reg.state(), before, "{why}");
            match decisions(&reg)[..] {
                [Decision::Refused(text)] => assert!(text.contains(why), "{text} vs {why}"),
                ref other => panic!("{why}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_bootstrap_waits_for_the_same_answer_and_restarts_on_change() {
        let (mut reg, clock) = setup(Profile::Se, Vec::new());
        let t0 = clock.now();
        assert!(!reg.automation_scans(t0)[0].signals, "se takes no signals");
        let a = Wanted::Keys(vec![key(1)]);
        reg.record_scan(report(
            t0,
            [answer(a.clone(), false), answer(a.clone(), false)],
        ));
        assert!(reg.automation_pending());
        assert!(matches!(decisions(&reg)[..], [Decision::Waiting { .. }]));
        // A different answer a day later restarts the 72 hours.
        let b = Wanted::Keys(vec![key(2)]);
        let t1 = later(t0, 24);
        assert_eq!(reg.automation_scans(t1).len(), 1);
        reg.record_scan(report(
            t1,
            [answer(b.clone(), false), answer(b.clone(), false)],
        ));
        let Some(Decision::Waiting { since, until, .. }) = decisions(&reg).last().copied() else {
            panic!("waiting")
        };
        assert_eq!((*since, *until), (t1, later(t1, 72)));
        for day in 2..4 {
            let t = later(t0, 24 * day);
            reg.automation_scans(t);
            reg.record_scan(report(
                t,
                [answer(b.clone(), false), answer(b.clone(), false)],
            ));
            assert!(reg.domain("example.nl").expect("domain").keys.is_empty());
        }
        let t = later(t1, 72);
        assert_eq!(reg.automation_scans(t).len(), 1);
        reg.record_scan(report(
            t,
            [answer(b.clone(), false), answer(b.clone(), false)],
        ));
        assert_eq!(reg.domain("example.nl").expect("domain").keys, vec![key(2)]);
        assert!(!reg.automation_pending());
    }

    #[test]
    fn a_zone_not_signed_with_what_it_asks_for_is_not_bootstrapped() {
        let (mut reg, clock) = setup(Profile::Se, Vec::new());
        reg.automation_scans(clock.now());
        let unready = HostScan::Answer {
            wanted: Wanted::Keys(vec![key(1)]),
            authenticated: false,
            consistent: false,
            disagreement: false,
            csync: Csync::None,
        };
        reg.record_scan(report(clock.now(), [unready.clone(), unready]));
        assert!(matches!(decisions(&reg)[..], [Decision::Refused(t)] if t.contains("RFC 8078")));
    }

    #[test]
    fn rfc9615_signals_bootstrap_at_once_where_the_policy_takes_them() {
        let (mut reg, clock) = setup(Profile::Ch, Vec::new());
        let t0 = clock.now();
        assert!(reg.automation_scans(t0)[0].signals);
        let a = Wanted::Keys(vec![key(1)]);
        let mut r = report(t0, [answer(a.clone(), false), answer(a.clone(), false)]);
        // One name server without a signal: the delay applies, and the log says why.
        r.signals = vec![
            ("ns1.example.net".into(), Signal::Valid(a.clone())),
            (
                "ns2.example.net".into(),
                Signal::Invalid("missing: no CDS".into()),
            ),
        ];
        reg.record_scan(r.clone());
        assert!(matches!(
            decisions(&reg)[..],
            [Decision::Waiting { signals: Some(why), .. }] if why == "ns2.example.net: missing: no CDS"
        ));
        assert!(
            reg.automation_log()[0]
                .to_string()
                .ends_with("(no RFC 9615 bootstrap: ns2.example.net: missing: no CDS)")
        );
        // A signal asking for something else is no signal for what the child asks.
        let t1 = later(t0, 24);
        reg.automation_scans(t1);
        r.at = t1;
        r.signals[1].1 = Signal::Valid(Wanted::Keys(vec![key(2)]));
        reg.record_scan(r.clone());
        assert!(matches!(
            &decisions(&reg)[1],
            Decision::Waiting { signals: Some(why), .. } if why.contains("ns2.example.net's signal asks for")
        ));
        // Name servers inside the child need no signal, but one outside must give one.
        let t2 = later(t1, 24);
        reg.automation_scans(t2);
        r.at = t2;
        r.signals[1].1 = Signal::InDomain;
        r.signals[0].1 = Signal::InDomain;
        reg.record_scan(r.clone());
        assert!(matches!(
            &decisions(&reg)[2],
            Decision::Waiting { signals: Some(why), .. } if why.contains("every name server is inside")
        ));
        let t3 = later(t2, 24);
        reg.automation_scans(t3);
        r.at = t3;
        r.signals[0].1 = Signal::Valid(a.clone());
        reg.record_scan(r);
        assert!(
            matches!(&decisions(&reg)[3], Decision::Updated { because, .. } if because.contains("RFC 9615"))
        );
    }

    #[test]
    fn signals_are_ignored_where_the_policy_takes_none() {
        let (mut reg, clock) = setup(Profile::Se, Vec::new());
        let t0 = clock.now();
        reg.automation_scans(t0);
        let a = Wanted::Keys(vec![key(1)]);
        let mut r = report(t0, [answer(a.clone(), false), answer(a.clone(), false)]);
        r.signals = vec![
            ("ns1.example.net".into(), Signal::Valid(a.clone())),
            ("ns2.example.net".into(), Signal::Valid(a)),
        ];
        reg.record_scan(r);
        assert!(matches!(
            decisions(&reg)[..],
            [Decision::Waiting { signals: None, .. }]
        ));
    }

    #[test]
    fn the_delete_record_removes_every_ds_and_is_ignored_when_insecure() {
        let (mut reg, clock) = setup(Profile::Fred, vec![key(0)]);
        let t0 = clock.now();
        reg.automation_scans(t0);
        reg.record_scan(report(
            t0,
            [answer(Wanted::Delete, true), answer(Wanted::Delete, true)],
        ));
        assert!(reg.domain("example.nl").expect("domain").keys.is_empty());
        // Insecure now: the same delete records change nothing and log nothing.
        let t1 = later(t0, 24);
        reg.automation_scans(t1);
        reg.record_scan(report(
            t1,
            [answer(Wanted::Delete, false), answer(Wanted::Delete, false)],
        ));
        assert_eq!(reg.automation_log().len(), 1);
    }

    #[test]
    fn centralnic_scans_insecure_delegations_weekly_then_every_three_hours() {
        let (mut reg, clock) = setup(Profile::Centralnic, Vec::new());
        let t0 = clock.now();
        reg.automation_scans(t0);
        reg.record_scan(report(
            t0,
            [
                answer(Wanted::Nothing, false),
                answer(Wanted::Nothing, false),
            ],
        ));
        assert!(reg.automation_scans(later(t0, 7 * 24 - 1)).is_empty());
        let t1 = later(t0, 7 * 24);
        assert_eq!(reg.automation_scans(t1).len(), 1);
        let a = Wanted::Keys(vec![key(1)]);
        reg.record_scan(report(t1, [answer(a.clone(), false), answer(a, false)]));
        assert_eq!(reg.next_scan_deadline(), Some(later(t1, 3)));
    }

    #[test]
    fn a_domain_no_longer_delegated_is_forgotten() {
        let (mut reg, clock) = setup(Profile::Se, vec![key(0)]);
        let t0 = clock.now();
        reg.automation_scans(t0);
        let r = reg.execute(
            A,
            &Services::all(),
            &command((
                CommandKind::Delete(epp::message::Delete::Domain("example.nl".into())),
                Vec::new(),
            )),
        );
        assert!(r.code().is_success(), "{r:?}");
        let before = reg.state();
        reg.record_scan(report(
            t0,
            [
                answer(Wanted::Keys(vec![key(1)]), true),
                answer(Wanted::Keys(vec![key(1)]), true),
            ],
        ));
        assert_eq!(reg.state(), before);
        assert!(reg.automation_scans(later(t0, 24)).is_empty());
    }
}

#[cfg(test)]
mod csync_tests {
    use std::sync::Arc;

    use super::*;
    use crate::registry::{Policy, Services};
    use crate::testing::commands::{
        command, contact_create, created_contact_id, domain_create, host_create,
    };
    use clock::{Clock, VirtualClock};

    const A: &str = "reg-a";

    fn key() -> KeyData {
        KeyData {
            flags: 257,
            protocol: 3,
            alg: 15,
            pub_key: dnssec::fixture_keys::key(dnssec::KeyAlgorithm::Ed25519, 0)
                .public_key()
                .to_vec(),
        }
    }

    fn setup() -> (Registry, VirtualClock) {
        let clock = VirtualClock::new("2026-01-01T00:00:00Z".parse().expect("time"));
        let mut policy = AutomationPolicy::profile(Profile::Se).expect("se");
        policy.csync = true;
        let mut reg = Registry::new(
            Policy {
                ds_automation: Some(policy),
                ..Policy::default()
            },
            Arc::new(clock.clone()),
            1,
        );
        reg.add_registrar(A, "password-a");
        let all = Services::all();
        let r = reg.execute(A, &all, &command(contact_create()));
        let contact = created_contact_id(&r).expect("contact");
        reg.execute(
            A,
            &all,
            &command(host_create("ns1.operator-a.example", &[])),
        );
        let r = reg.execute(
            A,
            &all,
            &command(domain_create(
                "example.nl",
                &contact,
                &["ns1.operator-a.example"],
                vec![key()],
            )),
        );
        assert!(r.code().is_success(), "{r:?}");
        (reg, clock)
    }

    fn host(csync: Csync) -> HostScan {
        HostScan::Answer {
            wanted: Wanted::Nothing,
            authenticated: true,
            consistent: true,
            disagreement: false,
            csync,
        }
    }

    fn report(at: Timestamp, hosts: Vec<HostScan>) -> ScanReport {
        ScanReport {
            domain: "example.nl".into(),
            at,
            hosts: hosts
                .into_iter()
                .enumerate()
                .map(|(i, h)| (format!("ns{}.operator-a.example", i + 1), h))
                .collect(),
            signals: Vec::new(),
        }
    }

    fn ns(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_csync_on_every_server_updates_the_ns_set_and_creates_external_hosts() {
        let (mut reg, clock) = setup();
        let now = clock.now();
        let scans = reg.automation_scans(now);
        assert!(scans[0].csync);
        let want = ns(&["ns1.operator-a.example", "ns1.operator-b.example"]);
        reg.record_scan(report(now, vec![host(Csync::Ns(want.clone()))]));
        let d = reg.domain("example.nl").expect("domain");
        assert_eq!(d.ns, want);
        assert!(reg.host("ns1.operator-b.example").is_some());
        assert!(matches!(
            reg.automation_log().last().map(|e| &e.decision),
            Some(Decision::NsUpdated { .. })
        ));
        // The sponsor hears of it, in a message that validates against the schemas.
        assert_eq!(reg.queue(A).len(), 1);
        let announced = Services {
            ext_uris: reg.ext_uris(),
            ..Services::all()
        };
        let r = reg.execute(
            A,
            &announced,
            &epp::message::Command {
                kind: epp::message::CommandKind::Poll(epp::message::Poll::Req),
                extensions: Vec::new(),
                cl_trid: Some("POLL-1".into()),
            },
        );
        assert!(
            r.extensions
                .iter()
                .any(|x| matches!(x, ResponseExtension::ChangePoll(c) if c.who.contains("CSYNC")))
        );
        let xml = epp::message::Frame::Response(Box::new(r)).to_xml();
        let bad = crate::testing::xmllint_failures(
            &[("ns change".into(), xml)],
            crate::testing::Schema::Strict,
        );
        assert!(bad.is_empty(), "{bad:?}");
    }

    #[test]
    fn csync_refusals_change_nothing() {
        let cases = [
            (
                vec![
                    host(Csync::Ns(ns(&["ns9.operator-z.example"]))),
                    host(Csync::None),
                ],
                "not every name server",
            ),
            (
                vec![
                    host(Csync::Ns(ns(&["ns9.operator-z.example"]))),
                    host(Csync::Ns(ns(&["ns8.operator-z.example"]))),
                ],
                "different NS sets",
            ),
            (
                vec![host(Csync::Unusable("without the immediate flag".into()))],
                "immediate",
            ),
            (vec![host(Csync::Ns(ns(&["ns1.example.nl"])))], "inside .nl"),
        ];
        for (hosts, why) in cases {
            let (mut reg, clock) = setup();
            reg.automation_scans(clock.now());
            let before = reg.state();
            reg.record_scan(report(clock.now(), hosts));
            assert_eq!(reg.state(), before, "{why}");
            assert!(
                matches!(
                    reg.automation_log().last().map(|e| &e.decision),
                    Some(Decision::Refused(t)) if t.contains(why)
                ),
                "{why}: {:?}",
                reg.automation_log()
            );
        }
    }
}

/// The scanner as a state machine under arbitrary findings: whatever the name servers say,
/// in any order and at any time, it never panics, a refusal or a wait changes nothing the
/// registry holds, the DS set changes only by an `Updated` decision to exactly its `to`, and
/// an insecure delegation is never bootstrapped before the profile's delay without signals.
#[cfg(test)]
mod model_tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::registry::Policy;
    use crate::testing::commands::delegate;
    use clock::VirtualClock;

    const A: &str = "reg-a";
    const HOSTS: [&str; 2] = ["ns1.example.net", "ns2.example.net"];

    fn key(n: usize) -> KeyData {
        KeyData {
            flags: 257,
            protocol: 3,
            alg: 15,
            pub_key: dnssec::fixture_keys::key(dnssec::KeyAlgorithm::Ed25519, n)
                .public_key()
                .to_vec(),
        }
    }

    fn wanted() -> impl Strategy<Value = Wanted> {
        prop_oneof![
            Just(Wanted::Nothing),
            Just(Wanted::Delete),
            (0usize..3).prop_map(|n| Wanted::Keys(vec![key(n)])),
            Just(Wanted::Keys(vec![key(0), key(1)])),
        ]
    }

    fn host_scan() -> impl Strategy<Value = HostScan> {
        prop_oneof![
            Just(HostScan::Failed("timeout".into())),
            Just(HostScan::Bogus("not signed".into())),
            (
                wanted(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                prop_oneof![
                    Just(Csync::None),
                    Just(Csync::Unusable("no flag".into())),
                    Just(Csync::Ns(vec!["ns9.example.org".to_string()])),
                ],
            )
                .prop_map(
                    |(wanted, authenticated, consistent, disagreement, csync)| {
                        HostScan::Answer {
                            wanted,
                            authenticated,
                            consistent,
                            disagreement,
                            csync,
                        }
                    }
                ),
        ]
    }

    fn signal() -> impl Strategy<Value = Signal> {
        prop_oneof![
            wanted().prop_map(Signal::Valid),
            Just(Signal::InDomain),
            Just(Signal::Invalid("missing".into())),
        ]
    }

    /// One scan: hours after the previous one, what each host said, what each signal said.
    fn scan() -> impl Strategy<Value = (u8, [HostScan; 2], [Signal; 2])> {
        (1u8..80, [host_scan(), host_scan()], [signal(), signal()])
    }

    fn setup(profile: Profile, secure: bool, csync: bool) -> Registry {
        let clock = VirtualClock::new("2026-01-01T00:00:00Z".parse().expect("time"));
        let mut policy = AutomationPolicy::profile(profile).expect("a scanning profile");
        policy.csync = csync;
        let mut reg = Registry::new(
            Policy {
                ds_automation: Some(policy),
                ..Policy::default()
            },
            Arc::new(clock),
            1,
        );
        reg.add_registrar(A, "password-a");
        let keys = if secure { vec![key(0)] } else { Vec::new() };
        delegate(&mut reg, A, "example.nl", &HOSTS, keys);
        reg
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn decisions_change_only_what_they_say(
            profile in prop_oneof![
                Just(Profile::Se),
                Just(Profile::Ch),
                Just(Profile::Fred),
                Just(Profile::Centralnic),
            ],
            secure in any::<bool>(),
            csync in any::<bool>(),
            scans in proptest::collection::vec(scan(), 1..25),
        ) {
            let mut reg = setup(profile, secure, csync);
            let policy = AutomationPolicy::profile(profile).expect("profile");
            let start: Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
            let mut now = start;
            // When the request the last update acted on was first made.
            for (hours, hosts, signals) in scans {
                now = now
                    .checked_add(SignedDuration::from_hours(i64::from(hours)))
                    .expect("time");
                let requests = reg.automation_scans(now);
                let before = reg.state();
                let keys_before = reg.domain("example.nl").expect("domain").keys.clone();
                let logged = reg.automation_log().len();
                reg.record_scan(ScanReport {
                    domain: "example.nl".into(),
                    at: now,
                    hosts: HOSTS.iter().map(|h| h.to_string()).zip(hosts).collect(),
                    signals: HOSTS.iter().map(|h| h.to_string()).zip(signals).collect(),
                });
                let new: Vec<Decision> = reg.automation_log()[logged..]
                    .iter()
                    .map(|e| e.decision.clone())
                    .collect();
                let keys_after = reg.domain("example.nl").expect("domain").keys.clone();
                let updated: Vec<&Vec<KeyData>> = new
                    .iter()
                    .filter_map(|d| match d {
                        Decision::Updated { to, .. } => Some(to),
                        _ => None,
                    })
                    .collect();
                let ns_updated = new.iter().any(|d| matches!(d, Decision::NsUpdated { .. }));
                match updated.as_slice() {
                    [] => prop_assert_eq!(&keys_after, &keys_before),
                    [to] => prop_assert_eq!(&keys_after, *to),
                    more => prop_assert!(false, "two DS updates in one scan: {more:?}"),
                }
                if updated.is_empty() && !ns_updated {
                    // Nothing the registry holds changed (the scanner's own memory aside).
                    prop_assert_eq!(reg.state(), before);
                }
                // A bootstrap without valid signals waits out the profile's delay: since
                // the scanner first saw the request, at least the delay has passed.
                if keys_before.is_empty() && !updated.is_empty() {
                    let signalled = policy.rfc9615
                        && requests.first().is_some_and(|r| r.signals);
                    let delay = policy.bootstrap.map(|b| b.delay);
                    let waited = reg.automation_log()[..logged].iter().any(|e| {
                        matches!(&e.decision, Decision::Waiting { since, .. }
                            if delay.is_some_and(|d| now.duration_since(*since) >= d))
                    });
                    prop_assert!(
                        signalled || waited || delay == Some(SignedDuration::ZERO),
                        "bootstrapped without the delay or signals: {new:?}"
                    );
                }
            }
        }
    }
}
