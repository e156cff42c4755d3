//! RFC 9615 authenticated bootstrapping, the registry's side: finds and validates the signals a
//! child's DNS operator publishes for it (`_dsboot.<child>._signal.<ns host>` CDS and CDNSKEY,
//! RFC 9615 §3), so the scanner ([`crate::scan`]) may publish a first DS at once instead of
//! waiting out its delay.
//!
//! The lookup is the "trusted DNS resolver [that] enforces DNSSEC validation" of RFC 9615
//! §4.1 step 3, built in: it starts at the root with the root's trust anchor and follows
//! referrals to the signaling zone, asking every question afresh (no cache, as §5.2
//! recommends). At every zone it:
//!
//! 1. takes the zone's DNSKEY RRset only if it is signed, valid now, by a key one of the DS
//!    records it arrived with names (the trust anchor at the root);
//! 2. follows a referral only if the child's DS RRset is there and signed, valid now, by a key
//!    of that validated DNSKEY RRset. A delegation without DS (insecure) or with a DS RRset
//!    that does not validate (bogus) ends the lookup: no signal;
//! 3. takes the CDS and CDNSKEY RRsets at the signaling name only from an authoritative answer,
//!    signed, valid now, by a key of the zone's DNSKEY RRset, with the zone as signer and
//!    not from a wildcard. A CNAME there, or a zone cut at the signaling name (§3.1 forbids
//!    one), is no signal either.
//!
//! An empty answer (NODATA, NXDOMAIN) is taken as "no such RRset" without checking its
//! denial proof: it can only make the registry refuse the bootstrap (the RRset the policy reads
//! must be there, validated, and equal to the child's; §4.1 step 4), never accept one.
//!
//! Every judgement is a pure function of a DNS message, the keys validated so far and the
//! instant ([`signal_name`], [`zone_keys`], [`judge_step`]), tested without a network; the
//! walk ([`lookup`]) only asks. Where name servers answer comes from the injected
//! [`HostResolver`] first (the harness's loopback servers on ephemeral ports), then from the
//! referral's glue on `glue_port`. A name server named outside the zone that delegates to it,
//! without an address the resolver knows, is not looked up recursively: that signal is
//! unreachable (a gap a real resolver does not have).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use dnssec::query::{QueryOptions, query_with};
use dnssec::server::Transport;
use dnssec::verify::signed_by;
use dnssec::{DsDigest, keys};
use hickory_proto::dnssec::PublicKey;
use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, RRSIG};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use jiff::Timestamp;

use crate::feedback::HostResolver;

/// How many zone cuts a lookup follows at most (the root, a TLD, a few more).
pub const MAX_REFERRALS: usize = 16;

/// Where validation starts: the root's servers and its trust anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalRoot {
    /// Where the root's name servers answer (tried in order).
    pub servers: Vec<SocketAddr>,
    /// The root trust anchor as DS records (a DNSKEY anchor becomes its SHA-256 DS, see
    /// [`parse_anchor`]).
    pub anchors: Vec<DS>,
}

/// How to ask.
#[derive(Debug, Clone)]
pub struct LookupOptions {
    /// The port glue addresses are asked on (53 in the real world).
    pub glue_port: u16,
    /// How long to wait for each answer.
    pub timeout: Duration,
}

impl Default for LookupOptions {
    fn default() -> Self {
        Self {
            glue_port: 53,
            timeout: Duration::from_secs(2),
        }
    }
}

/// Why a name server gives no usable signal. Each one means the same to the registry (no
/// bootstrap by signals, RFC 9615 §4.1: "MUST abort"); the kinds say why, for the transcript.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoSignal {
    /// The host lies inside the child: its signaling domain has no chain of trust before the
    /// child is secure (RFC 9615 §4.1), so it is not used.
    #[error("{host} is inside {child}: its signal cannot be validated (RFC 9615 §4.1)")]
    InDomain {
        /// The name server host.
        host: String,
        /// The child zone.
        child: String,
    },
    /// The signaling name is not a DNS name (too long, RFC 9615 §4.3).
    #[error("no signaling name: {0}")]
    BadName(String),
    /// A server on the way did not answer, or its answer was no answer nor referral.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// A delegation on the way has no DS: there is no chain of trust to the signal.
    #[error("insecure: {0}")]
    Insecure(String),
    /// A validation failed on the way (the reason says which).
    #[error("bogus: {0}")]
    Bogus(String),
    /// The chain validated, but no CDS or CDNSKEY is published at the signaling name.
    #[error("missing: {0}")]
    Missing(String),
}

/// A validated signal: the CDS and CDNSKEY RRsets at the signaling name (either may be
/// empty; not both), records with their owner.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignalSets {
    /// The signaling name.
    pub name: Option<Name>,
    /// The CDS records.
    pub cds: Vec<Record>,
    /// The CDNSKEY records.
    pub cdnskey: Vec<Record>,
}

/// `_dsboot.<child>._signal.<host>` (RFC 9615 §3.1, §4.1): refused for a host inside the
/// child (its signal is never used) and for names longer than DNS allows (§4.3).
pub fn signal_name(child: &Name, host: &Name) -> Result<Name, NoSignal> {
    if child.zone_of(host) {
        return Err(NoSignal::InDomain {
            host: host.to_ascii().trim_end_matches('.').to_string(),
            child: child.to_ascii().trim_end_matches('.').to_string(),
        });
    }
    let mut labels: Vec<&[u8]> = vec![b"_dsboot"];
    labels.extend(child.iter());
    labels.push(b"_signal");
    labels.extend(host.iter());
    let name = Name::from_labels(labels).map_err(|e| {
        NoSignal::BadName(format!(
            "_dsboot.{}._signal.{}: {e}",
            child.to_ascii().trim_end_matches('.'),
            host.to_ascii().trim_end_matches('.')
        ))
    })?;
    // `from_labels` checks each label; the whole name must fit 255 octets on the wire (its
    // presentation length, trailing dot included, plus the first length octet).
    if name.len() + 1 > 255 {
        return Err(NoSignal::BadName(format!(
            "{name} is longer than 255 octets"
        )));
    }
    Ok(name.to_lowercase())
}

/// The DNSKEY RRset of `zone` in an authoritative answer, validated: signed, valid at `now`,
/// by a key one of `ds` names (RFC 4035 §5.2). Returns the zone's keys (the zone-key flag
/// set) that may sign its data.
pub fn zone_keys(
    zone: &Name,
    answer: &Message,
    ds: &[DS],
    now: Timestamp,
) -> Result<Vec<DNSKEY>, NoSignal> {
    if answer.metadata.response_code != ResponseCode::NoError || !answer.metadata.authoritative {
        return Err(NoSignal::Unreachable(format!(
            "the DNSKEY query for {zone} was answered {}{}",
            answer.metadata.response_code,
            if answer.metadata.authoritative {
                ""
            } else {
                " without authority"
            }
        )));
    }
    let records = own_signatures(zone, &answer.answers, zone);
    let dnskeys: Vec<DNSKEY> = records
        .iter()
        .filter(|r| r.name == *zone && r.dns_class == DNSClass::IN)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some(k.clone()),
            _ => None,
        })
        .collect();
    if dnskeys.is_empty() {
        return Err(NoSignal::Bogus(format!("{zone} serves no DNSKEY RRset")));
    }
    let usable: Vec<&DS> = ds.iter().filter(|d| digest_of(d).is_some()).collect();
    if usable.is_empty() {
        return Err(NoSignal::Insecure(format!(
            "no DS of {zone} has a digest type this registry reads (SHA-256, SHA-384)"
        )));
    }
    let entry: Vec<DNSKEY> = dnskeys
        .iter()
        .filter(|k| usable.iter().any(|d| ds_names(zone, d, k)))
        .cloned()
        .collect();
    if entry.is_empty() {
        return Err(NoSignal::Bogus(format!(
            "no DNSKEY of {zone} matches its DS ({})",
            usable
                .iter()
                .map(|d| format!("{}/{}", d.key_tag(), u8::from(d.algorithm())))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if signed_by(zone, RecordType::DNSKEY, &records, &entry, now).is_none() {
        return Err(NoSignal::Bogus(format!(
            "the DNSKEY RRset of {zone}: {}",
            why_not_signed(zone, RecordType::DNSKEY, &records, &entry, now)
        )));
    }
    Ok(dnskeys
        .into_iter()
        .filter(|k| k.zone_key() && !k.revoke())
        .collect())
}

/// Where one question got the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The zone answered for the signaling name: the RRset asked for, validated (empty:
    /// there is none).
    Answer(Vec<Record>),
    /// The zone delegates towards the signaling name, securely.
    Referral(Referral),
}

/// A secure delegation on the way to the signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// The child zone's apex.
    pub cut: Name,
    /// Its name servers.
    pub ns: Vec<Name>,
    /// Glue from the referral for those of them inside the delegating zone.
    pub glue: Vec<(Name, IpAddr)>,
    /// Its DS RRset, validated by the delegating zone's keys.
    pub ds: Vec<DS>,
}

/// Judges the answer `m` of `zone`'s server to `qname`/`rtype`, given the zone's validated
/// `keys`: a validated RRset (or none), a secure referral, or why there is no signal.
pub fn judge_step(
    zone: &Name,
    keys: &[DNSKEY],
    qname: &Name,
    rtype: RecordType,
    m: &Message,
    now: Timestamp,
) -> Result<Step, NoSignal> {
    let rcode = m.metadata.response_code;
    if m.metadata.authoritative {
        if rcode == ResponseCode::NXDomain {
            return Ok(Step::Answer(Vec::new()));
        }
        if rcode != ResponseCode::NoError {
            return Err(NoSignal::Unreachable(format!(
                "{zone} answered {rcode} for {qname} {rtype}"
            )));
        }
        let at_name = |r: &&Record| r.name == *qname && r.dns_class == DNSClass::IN;
        if m.answers
            .iter()
            .filter(at_name)
            .any(|r| r.record_type() == RecordType::CNAME)
        {
            return Err(NoSignal::Bogus(format!(
                "{qname} is a CNAME: a signal must be published at the signaling name itself"
            )));
        }
        let records = own_signatures(zone, &m.answers, qname);
        let rrset: Vec<Record> = records
            .iter()
            .filter(at_name)
            .filter(|r| r.record_type() == rtype)
            .cloned()
            .collect();
        if rrset.is_empty() {
            return Ok(Step::Answer(Vec::new()));
        }
        if signed_by(qname, rtype, &records, keys, now).is_none() {
            return Err(NoSignal::Bogus(format!(
                "the {rtype} RRset at {qname}: {}",
                why_not_signed(qname, rtype, &m.answers, keys, now)
            )));
        }
        return Ok(Step::Answer(rrset));
    }
    if rcode != ResponseCode::NoError {
        return Err(NoSignal::Unreachable(format!(
            "{zone}'s server answered {rcode} for {qname} {rtype}"
        )));
    }
    // A referral: the NS RRset of a cut between the zone and the name.
    let cut = m
        .authorities
        .iter()
        .filter(|r| r.record_type() == RecordType::NS)
        .map(|r| r.name.to_lowercase())
        .find(|c| *c != *zone && zone.zone_of(c) && c.zone_of(qname));
    let Some(cut) = cut else {
        return Err(NoSignal::Unreachable(format!(
            "{zone}'s server gave neither an answer nor a referral for {qname} {rtype} \
             (the zone is not served there?)"
        )));
    };
    if cut == *qname {
        return Err(NoSignal::Bogus(format!(
            "{qname} is a zone cut (RFC 9615 §3.1: there must be none at a signaling name)"
        )));
    }
    let ns: Vec<Name> = m
        .authorities
        .iter()
        .filter(|r| r.name == cut)
        .filter_map(|r| match &r.data {
            RData::NS(n) => Some(n.0.to_lowercase()),
            _ => None,
        })
        .collect();
    let glue: Vec<(Name, IpAddr)> = m
        .additionals
        .iter()
        // Glue is believed only for names the delegating zone is authoritative for.
        .filter(|r| zone.zone_of(&r.name) && ns.contains(&r.name))
        .filter_map(|r| match &r.data {
            RData::A(a) => Some((r.name.to_lowercase(), IpAddr::V4(a.0))),
            RData::AAAA(a) => Some((r.name.to_lowercase(), IpAddr::V6(a.0))),
            _ => None,
        })
        .collect();
    let authority = own_signatures(zone, &m.authorities, &cut);
    let ds: Vec<DS> = authority
        .iter()
        .filter(|r| r.name == cut)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DS(d)) => Some(d.clone()),
            _ => None,
        })
        .collect();
    if ds.is_empty() {
        return Err(NoSignal::Insecure(format!(
            "{cut} is delegated from {zone} without DS: no chain of trust to {qname}"
        )));
    }
    if signed_by(&cut, RecordType::DS, &authority, keys, now).is_none() {
        return Err(NoSignal::Bogus(format!(
            "the DS RRset of {cut}: {}",
            why_not_signed(&cut, RecordType::DS, &m.authorities, keys, now)
        )));
    }
    Ok(Step::Referral(Referral { cut, ns, glue, ds }))
}

/// Looks up and validates the signal of `host` for `child` (RFC 9615 §4.1 step 3), from the
/// root down, over DNS.
pub async fn lookup(
    child: &Name,
    host: &Name,
    root: &SignalRoot,
    resolver: &dyn HostResolver,
    options: &LookupOptions,
    now: Timestamp,
) -> Result<SignalSets, NoSignal> {
    walk(
        child,
        host,
        root,
        resolver,
        options.glue_port,
        now,
        &Dns(options),
    )
    .await
}

/// How the walk asks a question of a zone's servers: over DNS ([`Dns`]), or in memory in the
/// tests.
trait Ask: Sync {
    /// The first usable answer of `servers` to `name`/`rtype`.
    fn ask(
        &self,
        servers: &[SocketAddr],
        name: &Name,
        rtype: RecordType,
    ) -> impl Future<Output = Result<Message, NoSignal>> + Send;
}

/// Asking over DNS.
struct Dns<'a>(&'a LookupOptions);

impl Ask for Dns<'_> {
    fn ask(
        &self,
        servers: &[SocketAddr],
        name: &Name,
        rtype: RecordType,
    ) -> impl Future<Output = Result<Message, NoSignal>> + Send {
        ask(servers, name, rtype, self.0)
    }
}

/// The lookup with the asking injected: at every zone its DNSKEY RRset, then the signal's CDS
/// (an answer or a referral), then the CDNSKEY from the same zone.
async fn walk(
    child: &Name,
    host: &Name,
    root: &SignalRoot,
    resolver: &dyn HostResolver,
    glue_port: u16,
    now: Timestamp,
    asker: &impl Ask,
) -> Result<SignalSets, NoSignal> {
    let qname = signal_name(child, host)?;
    let mut zone = Name::root();
    let mut servers = root.servers.clone();
    let mut ds = root.anchors.clone();
    for _ in 0..MAX_REFERRALS {
        let answer = asker.ask(&servers, &zone, RecordType::DNSKEY).await?;
        let keys = zone_keys(&zone, &answer, &ds, now)?;
        let answer = asker.ask(&servers, &qname, RecordType::CDS).await?;
        match judge_step(&zone, &keys, &qname, RecordType::CDS, &answer, now)? {
            Step::Answer(cds) => {
                let answer = asker.ask(&servers, &qname, RecordType::CDNSKEY).await?;
                let cdnskey =
                    match judge_step(&zone, &keys, &qname, RecordType::CDNSKEY, &answer, now)? {
                        Step::Answer(c) => c,
                        Step::Referral(r) => {
                            return Err(NoSignal::Bogus(format!(
                                "{zone}'s servers answer for {qname} CDS but refer CDNSKEY \
                                 to {}",
                                r.cut
                            )));
                        }
                    };
                if cds.is_empty() && cdnskey.is_empty() {
                    return Err(NoSignal::Missing(format!(
                        "no CDS or CDNSKEY at {qname} (zone {zone})"
                    )));
                }
                return Ok(SignalSets {
                    name: Some(qname),
                    cds,
                    cdnskey,
                });
            }
            Step::Referral(r) => {
                servers = addresses(&r, resolver, glue_port);
                if servers.is_empty() {
                    return Err(NoSignal::Unreachable(format!(
                        "no address known for the name servers of {} ({})",
                        r.cut,
                        r.ns.iter()
                            .map(Name::to_ascii)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                zone = r.cut;
                ds = r.ds;
            }
        }
    }
    Err(NoSignal::Unreachable(format!(
        "more than {MAX_REFERRALS} referrals on the way to {qname}"
    )))
}

/// Where a referral's name servers answer: the resolver's addresses for a host it knows,
/// otherwise the glue on `glue_port`.
fn addresses(r: &Referral, resolver: &dyn HostResolver, glue_port: u16) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for ns in &r.ns {
        let host = ns.to_ascii().trim_end_matches('.').to_ascii_lowercase();
        let known = resolver.resolve(&host);
        if known.is_empty() {
            out.extend(
                r.glue
                    .iter()
                    .filter(|(h, _)| h == ns)
                    .map(|(_, ip)| SocketAddr::new(*ip, glue_port)),
            );
        } else {
            out.extend(known);
        }
    }
    let mut seen = Vec::new();
    out.retain(|a| {
        let new = !seen.contains(a);
        seen.push(*a);
        new
    });
    out
}

/// Asks the servers in turn; the first usable answer (not SERVFAIL or REFUSED) counts.
async fn ask(
    servers: &[SocketAddr],
    name: &Name,
    rtype: RecordType,
    options: &LookupOptions,
) -> Result<Message, NoSignal> {
    let query = QueryOptions {
        transport: Transport::Udp,
        dnssec_ok: true,
        tcp_on_truncation: true,
        timeout: options.timeout,
        ..QueryOptions::default()
    };
    let mut last = String::from("no server to ask");
    for server in servers {
        match query_with(*server, name, rtype, &query).await {
            Ok(m)
                if !matches!(
                    m.metadata.response_code,
                    ResponseCode::ServFail | ResponseCode::Refused
                ) =>
            {
                return Ok(m);
            }
            Ok(m) => last = format!("{server} answered {}", m.metadata.response_code),
            Err(e) => last = e.to_string(),
        }
    }
    Err(NoSignal::Unreachable(format!("{name} {rtype}: {last}")))
}

/// `records` without the RRSIGs that cannot count for `owner` in `zone`: made by another
/// signer, or a wildcard expansion's (fewer labels than the owner: the expansion would need
/// a denial proof, and a signal is never a wildcard).
fn own_signatures(zone: &Name, records: &[Record], owner: &Name) -> Vec<Record> {
    records
        .iter()
        .filter(|r| match sig_of(r) {
            Some(s) if r.name == *owner => {
                s.input().signer_name == *zone && s.input().num_labels == owner.num_labels()
            }
            _ => true,
        })
        .cloned()
        .collect()
}

fn sig_of(r: &Record) -> Option<&RRSIG> {
    match &r.data {
        RData::DNSSEC(DNSSECRData::RRSIG(s)) => Some(s),
        _ => None,
    }
}

/// Why no signature over `owner`/`rtype` in `records` by one of `keys` verifies at `now`, in
/// words (the first reason found: none at all, none by these keys, a window that does not
/// hold `now`, a wildcard's or another signer's, or a signature that does not verify).
fn why_not_signed(
    owner: &Name,
    rtype: RecordType,
    records: &[Record],
    keys: &[DNSKEY],
    now: Timestamp,
) -> String {
    let sigs: Vec<&RRSIG> = records
        .iter()
        .filter(|r| r.name == *owner)
        .filter_map(sig_of)
        .filter(|s| s.input().type_covered == rtype)
        .collect();
    if sigs.is_empty() {
        return "no RRSIG covers it".into();
    }
    let tags: Vec<u16> = keys.iter().map(keys::key_tag).collect();
    let by_keys: Vec<&&RRSIG> = sigs
        .iter()
        .filter(|s| tags.contains(&s.input().key_tag))
        .collect();
    let Some(sig) = by_keys.first() else {
        return format!(
            "signed by key {} only, which is not a key it can be trusted by ({})",
            sigs.iter()
                .map(|s| s.input().key_tag.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if tags.is_empty() {
                "none".to_string()
            } else {
                tags.iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    };
    let input = sig.input();
    let at = now.as_second();
    let (from, to) = (
        i64::from(input.sig_inception.get()),
        i64::from(input.sig_expiration.get()),
    );
    let when = |s: i64| Timestamp::from_second(s).map_or_else(|_| s.to_string(), |t| t.to_string());
    if at > to {
        return format!(
            "its signature by key {} expired at {}",
            input.key_tag,
            when(to)
        );
    }
    if at < from {
        return format!(
            "its signature by key {} is not valid before {}",
            input.key_tag,
            when(from)
        );
    }
    if input.num_labels != owner.num_labels() {
        return format!(
            "its signature by key {} is a wildcard expansion's",
            input.key_tag
        );
    }
    format!(
        "its signature by key {} (signer {}) does not verify",
        input.key_tag, input.signer_name
    )
}

/// The digest type of a DS this module can check.
fn digest_of(ds: &DS) -> Option<DsDigest> {
    match u8::from(ds.digest_type()) {
        2 => Some(DsDigest::Sha256),
        4 => Some(DsDigest::Sha384),
        _ => None,
    }
}

/// Whether `ds` (at `owner`) names `key`.
fn ds_names(owner: &Name, ds: &DS, key: &DNSKEY) -> bool {
    let Some(digest) = digest_of(ds) else {
        return false;
    };
    keys::key_tag(key) == ds.key_tag()
        && key.public_key().algorithm() == ds.algorithm()
        && keys::ds_from_dnskey(owner, key, digest).is_ok_and(|d| d.digest() == ds.digest())
}

/// Reads a root trust anchor: presentation lines `. [TTL] [IN] DS …` or `. [TTL] [IN] DNSKEY
/// …` (a DNSKEY becomes its SHA-256 DS; `;` comments and blank lines skipped), as in
/// `root.key` or `root.ds` of `mock-registry serve`, or unbound's anchor files.
pub fn parse_anchor(text: &str) -> Result<Vec<DS>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split(';').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let bad = |why: String| format!("line {}: {why}", i + 1);
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.first() != Some(&".") {
            return Err(bad("a root anchor's owner must be \".\"".into()));
        }
        let Some(at) = tokens
            .iter()
            .position(|t| t.eq_ignore_ascii_case("DS") || t.eq_ignore_ascii_case("DNSKEY"))
        else {
            return Err(bad("expected a DS or DNSKEY record".into()));
        };
        let rdata = tokens[at + 1..].join(" ");
        if tokens[at].eq_ignore_ascii_case("DNSKEY") {
            let key = keys::parse_dnskey(&rdata).map_err(|e| bad(e.to_string()))?;
            out.push(
                keys::ds_from_dnskey(&Name::root(), &key, DsDigest::Sha256)
                    .map_err(|e| bad(e.to_string()))?,
            );
        } else {
            out.push(parse_ds(&rdata).map_err(bad)?);
        }
    }
    if out.is_empty() {
        return Err("no DS or DNSKEY record".into());
    }
    Ok(out)
}

/// A DS's rdata in presentation form: `key_tag algorithm digest_type hex…`.
fn parse_ds(text: &str) -> Result<DS, String> {
    let mut t = text.split_whitespace();
    let mut num = |what: &str| -> Result<u64, String> {
        t.next()
            .ok_or_else(|| format!("DS: missing {what}"))?
            .parse()
            .map_err(|e| format!("DS {what}: {e}"))
    };
    let tag = u16::try_from(num("key tag")?).map_err(|e| format!("DS key tag: {e}"))?;
    let alg = u8::try_from(num("algorithm")?).map_err(|e| format!("DS algorithm: {e}"))?;
    let digest_type =
        u8::try_from(num("digest type")?).map_err(|e| format!("DS digest type: {e}"))?;
    let hex: String = t.collect();
    let digest = data_encoding::HEXLOWER_PERMISSIVE
        .decode(hex.as_bytes())
        .map_err(|e| format!("DS digest: {e}"))?;
    if digest.is_empty() {
        return Err("DS: missing digest".into());
    }
    Ok(DS::new(
        tag,
        hickory_proto::dnssec::Algorithm::from_u8(alg),
        hickory_proto::dnssec::DigestType::from(digest_type),
        digest,
    ))
}

impl fmt::Display for SignalSets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} CDS and {} CDNSKEY at {}",
            self.cds.len(),
            self.cdnskey.len(),
            self.name.as_ref().map_or_else(String::new, Name::to_ascii)
        )
    }
}

#[cfg(test)]
mod tests;
