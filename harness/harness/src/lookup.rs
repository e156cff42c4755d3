//! `harness lookup NAME TYPE --server IP:PORT --anchor FILE`: resolves one question through a
//! server that answers for every zone on the path (the harness's router, or a server hosting
//! them all), prints the chain (DS, DNSKEY, RRSIG key tags and validity) and the pure
//! validator's verdict with its reason. Exit status 0 only for Secure.
//!
//! The walk: from the deepest zone with a trust anchor, ask `SOA` for each name down to the
//! question's (a positive SOA at a name makes it a zone apex), then `DNSKEY` of each zone, `DS`
//! of each zone below the top (a router sends DS to the parent), and the question itself.
//! Each answer becomes a [`Response`] with [`Response::from_message`], so the view is exactly
//! what the cache model would record. A CNAME or DNAME answer is followed: the target gets a
//! walk of its own ([`collect_chain`]), and [`validate_chain`] judges the links together.
//!
//! The network is behind [`Transport`]: [`ServerTransport`] (the project's query client: UDP
//! with the DO bit, TCP when truncated) for the command and the live check, [`ZoneRouter`]
//! (signed zones in memory, answered by the authoritative server's responder) for tests;
//! [`Remembering`] in front of either asks each question once.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use dnssec::SignedZone;
use dnssec::answer::respond;
use dnssec::keys::parse_dnskey;
use dnssec::query::{QueryOptions, query_with};
use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::{Edns, Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use jiff::Timestamp;

use checker::{
    Anchor, Mode, Override, Response, Status, TrustAnchors, Validation, View, ZoneView,
    validate_chain,
};

/// Why a lookup could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The trust anchor file is unreadable or malformed.
    #[error("trust anchor: {0}")]
    Anchor(String),
    /// A bad name or type on the command line.
    #[error("{0}")]
    Usage(String),
    /// No anchor is for a zone above the name.
    #[error("no trust anchor for {0} or any zone above it")]
    NoAnchor(Name),
    /// Sending, receiving or decoding failed.
    #[error("{server}: {reason}")]
    Network {
        /// The server's address as dialled, to tell which of several servers failed.
        server: String,
        /// The transport or decoding error in words.
        reason: String,
    },
}

/// Sends one question, returns the server's message. Object-safe (boxed futures), so the
/// walk takes a real server or signed zones in memory alike.
pub trait Transport: Send {
    /// Asks `qname`/`qtype` (DNSSEC OK, no recursion).
    fn query<'a>(
        &'a mut self,
        qname: &'a Name,
        qtype: RecordType,
    ) -> BoxFuture<'a, Result<Message, LookupError>>;
}

/// A boxed future that may move between threads.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Queries one server with the project's query client: UDP with EDNS and DO, TCP when the
/// answer is truncated.
#[derive(Debug, Clone)]
pub struct ServerTransport {
    server: SocketAddr,
    options: QueryOptions,
}

impl ServerTransport {
    /// A transport to `server` with a per-query timeout.
    pub fn new(server: SocketAddr, timeout: Duration) -> Self {
        Self {
            server,
            options: QueryOptions {
                transport: dnssec::Transport::Udp,
                dnssec_ok: true,
                edns: true,
                payload: 4096,
                tcp_on_truncation: true,
                timeout,
                ..QueryOptions::default()
            },
        }
    }
}

impl Transport for ServerTransport {
    fn query<'a>(
        &'a mut self,
        qname: &'a Name,
        qtype: RecordType,
    ) -> BoxFuture<'a, Result<Message, LookupError>> {
        Box::pin(async move {
            query_with(self.server, qname, qtype, &self.options)
                .await
                .map_err(|e| LookupError::Network {
                    server: self.server.to_string(),
                    reason: format!("{qname} {qtype}: {e}"),
                })
        })
    }
}

/// A transport that asks each question once and answers it again from memory (failures are
/// not remembered: the next asking tries the network again).
///
/// For a walk over many questions while the servers serve the same: every question's chain
/// starts with the same root and TLD `SOA`, `DNSKEY` and `DS` questions, and a domain's
/// checked names share its zone's. The live check gathers one instant's chains through one
/// (as hickory-resolver answers them from its cache after the first); a fresh one per instant,
/// since the servers change between instants.
#[derive(Debug)]
pub struct Remembering<T> {
    inner: T,
    answers: HashMap<(Name, RecordType), Message>,
    asked: usize,
}

impl<T: Transport> Remembering<T> {
    /// Remembers what `inner` answers.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            answers: HashMap::new(),
            asked: 0,
        }
    }

    /// Questions that went to the network (the rest were answered from memory).
    pub fn asked(&self) -> usize {
        self.asked
    }
}

impl<T: Transport> Transport for Remembering<T> {
    fn query<'a>(
        &'a mut self,
        qname: &'a Name,
        qtype: RecordType,
    ) -> BoxFuture<'a, Result<Message, LookupError>> {
        Box::pin(async move {
            let key = (qname.clone(), qtype);
            if let Some(m) = self.answers.get(&key) {
                return Ok(m.clone());
            }
            self.asked += 1;
            let m = self.inner.query(qname, qtype).await?;
            self.answers.insert(key, m.clone());
            Ok(m)
        })
    }
}

/// The query message: one question, no recursion, EDNS with DO.
pub fn query_message(id: u16, qname: &Name, qtype: RecordType) -> Message {
    let mut m = Message::new(id, hickory_proto::op::MessageType::Query, OpCode::Query);
    m.add_query(Query::query(qname.clone(), qtype));
    let mut edns = Edns::new();
    edns.set_max_payload(4096);
    edns.set_dnssec_ok(true);
    m.set_edns(edns);
    m
}

/// Signed zones in memory behind one "server" that answers each question from the zone with
/// the longest matching origin (DS from the parent), like the harness's router; with
/// overrides, as a corpus case is served.
#[derive(Debug, Clone)]
pub struct ZoneRouter {
    zones: Vec<Arc<SignedZone>>,
    overrides: Vec<Override>,
}

impl ZoneRouter {
    /// A router over `zones`, some answers replaced by `overrides`.
    pub fn new(zones: Vec<Arc<SignedZone>>, overrides: Vec<Override>) -> Self {
        Self { zones, overrides }
    }

    /// The zone that answers `qname`/`qtype`.
    pub fn zone_for(&self, qname: &Name, qtype: RecordType) -> Option<&SignedZone> {
        self.zones
            .iter()
            .filter(|z| {
                z.origin().zone_of(qname) && !(qtype == RecordType::DS && z.origin() == qname)
            })
            .max_by_key(|z| z.origin().num_labels())
            .map(AsRef::as_ref)
    }

    /// The message the router sends back for a query: an override where one matches,
    /// otherwise what the authoritative server answers ([`dnssec::answer::respond`]).
    pub fn answer(&self, query: &Message) -> Message {
        let refused = |code: ResponseCode| {
            let mut m = Message::response(query.metadata.id, OpCode::Query);
            m.add_queries(query.queries.iter().cloned());
            m.metadata.response_code = code;
            m
        };
        let Some(q) = query.queries.first() else {
            return refused(ResponseCode::FormErr);
        };
        let (qname, qtype) = (q.name().to_lowercase(), q.query_type());
        let Some(zone) = self.zone_for(&qname, qtype) else {
            return refused(ResponseCode::Refused);
        };
        if let Some(o) = self
            .overrides
            .iter()
            .find(|o| o.zone == *zone.origin() && o.qname == qname && o.qtype == qtype)
        {
            let mut m = Message::response(query.metadata.id, OpCode::Query);
            m.add_query(q.clone());
            m.metadata.authoritative = true;
            fill_from_response(&mut m, &o.response);
            return m;
        }
        let reply = query
            .to_vec()
            .ok()
            .and_then(|request| respond(&self.zones, &request, dnssec::Transport::Tcp))
            .and_then(|bytes| Message::from_vec(&bytes).ok());
        reply.unwrap_or_else(|| refused(ResponseCode::ServFail))
    }
}

/// Fills a response from a [`Response`] (for overrides).
pub fn fill_from_response(m: &mut Message, response: &Response) {
    let records = |set: &checker::Rrset| {
        let mut out = set.records().to_vec();
        out.extend(set.rrsigs().iter().map(|s| {
            hickory_proto::rr::Record::from_rdata(
                set.name().clone(),
                set.ttl(),
                RData::DNSSEC(DNSSECRData::RRSIG(s.clone())),
            )
        }));
        out
    };
    match response {
        Response::Positive(set) => {
            m.add_answers(records(set));
        }
        Response::Wildcard(set, proof) => {
            m.add_answers(records(set));
            for p in proof.rrsets() {
                m.add_authorities(records(p));
            }
        }
        Response::Dname(dname, cname) => {
            m.add_answers(records(dname));
            m.add_answers(records(cname));
        }
        Response::NoData(d) | Response::NxDomain(d) => {
            if matches!(response, Response::NxDomain(_)) {
                m.metadata.response_code = ResponseCode::NXDomain;
            }
            for set in d.rrsets() {
                m.add_authorities(records(set));
            }
        }
        Response::Unavailable => m.metadata.response_code = ResponseCode::ServFail,
    }
}

impl Transport for ZoneRouter {
    fn query<'a>(
        &'a mut self,
        qname: &'a Name,
        qtype: RecordType,
    ) -> BoxFuture<'a, Result<Message, LookupError>> {
        let answer = self.answer(&query_message(0, qname, qtype));
        Box::pin(async move { Ok(answer) })
    }
}

/// Reads trust anchors: one DS or DNSKEY record per line in presentation format
/// (`owner [ttl] [class] DS|DNSKEY rdata`), `;` comments and blank lines ignored.
pub fn parse_anchors(text: &str) -> Result<TrustAnchors, LookupError> {
    let mut anchors = TrustAnchors::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split(';').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let bad = |what: String| LookupError::Anchor(format!("line {}: {what}", i + 1));
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let owner: Name = tokens[0]
            .parse()
            .map_err(|e| bad(format!("owner {:?}: {e}", tokens[0])))?;
        let Some(at) = tokens
            .iter()
            .position(|t| t.eq_ignore_ascii_case("DS") || t.eq_ignore_ascii_case("DNSKEY"))
        else {
            return Err(bad("no DS or DNSKEY record".into()));
        };
        let rdata = tokens[at + 1..].join(" ");
        let anchor = if tokens[at].eq_ignore_ascii_case("DS") {
            match RData::try_from_str(RecordType::DS, &rdata) {
                Ok(RData::DNSSEC(DNSSECRData::DS(ds))) => Anchor::Ds(ds),
                Ok(_) => return Err(bad("not a DS".into())),
                Err(e) => return Err(bad(format!("DS: {e}"))),
            }
        } else {
            Anchor::Dnskey(parse_dnskey(&rdata).map_err(|e| bad(e.to_string()))?)
        };
        anchors.add(&owner.to_lowercase(), anchor);
    }
    if anchors.zones().next().is_none() {
        return Err(LookupError::Anchor("no anchors in the file".into()));
    }
    Ok(anchors)
}

/// Collects the view for `qname`/`qtype` through `transport`. See the module documentation.
pub async fn collect_view(
    transport: &mut dyn Transport,
    anchors: &TrustAnchors,
    qname: &Name,
    qtype: RecordType,
) -> Result<View, LookupError> {
    let qname = qname.to_lowercase();
    async fn ask(
        transport: &mut dyn Transport,
        name: &Name,
        rtype: RecordType,
    ) -> Result<Response, LookupError> {
        let m = transport.query(name, rtype).await?;
        Ok(Response::from_message(&m, name, rtype))
    }
    // The deepest anchored zone above the name (for DS, above its parent side).
    let deepest = if qtype == RecordType::DS && !qname.is_root() {
        qname.base_name()
    } else {
        qname.clone()
    };
    let top = anchors
        .zones()
        .filter(|z| z.zone_of(&deepest))
        .max_by_key(|z| z.num_labels())
        .cloned()
        .ok_or_else(|| LookupError::NoAnchor(qname.clone()))?;
    let mut apexes = vec![top.clone()];
    for k in usize::from(top.num_labels()) + 1..=usize::from(deepest.num_labels()) {
        let name = deepest.trim_to(k);
        if let Response::Positive(soa) = ask(transport, &name, RecordType::SOA).await?
            && soa.record_type() == RecordType::SOA
        {
            apexes.push(name);
        }
    }
    let mut zones = Vec::new();
    for (i, apex) in apexes.iter().enumerate() {
        let ds = if i == 0 {
            Response::Unavailable
        } else {
            ask(transport, apex, RecordType::DS).await?
        };
        zones.push(ZoneView {
            apex: apex.clone(),
            ds,
            dnskey: ask(transport, apex, RecordType::DNSKEY).await?,
        });
    }
    let answer = ask(transport, &qname, qtype).await?;
    Ok(View {
        qname,
        qtype,
        zones,
        answer,
    })
}

/// Collects the views of a whole answer: the question's, then one per CNAME or DNAME target
/// on the way (each walked from its own trust anchor, since the target may be in another
/// zone, across a delegation), like [`View::resolve_chain`] does in memory. Stops at an answer
/// that redirects no further, a loop, or [`View::MAX_LINKS`].
pub async fn collect_chain(
    transport: &mut dyn Transport,
    anchors: &TrustAnchors,
    qname: &Name,
    qtype: RecordType,
) -> Result<Vec<View>, LookupError> {
    let mut links: Vec<View> = Vec::new();
    let mut name = qname.to_lowercase();
    while links.len() < View::MAX_LINKS {
        let view = collect_view(transport, anchors, &name, qtype).await?;
        let next = view.answer.redirect(qtype);
        links.push(view);
        match next {
            Some(t) if !links.iter().any(|l| l.qname == t) => name = t,
            _ => break,
        }
    }
    Ok(links)
}

/// Every link of a chain and the verdicts, for people.
pub fn render_chain(links: &[View], validation: &Validation) -> String {
    let mut out = String::new();
    for (i, view) in links.iter().enumerate() {
        if links.len() > 1 {
            let _ = writeln!(out, "link {}", i + 1);
        }
        out.push_str(&render_view(view));
    }
    out.push_str(&render_verdict(validation));
    out
}

/// The chain and the verdicts, for people.
pub fn render(view: &View, validation: &Validation) -> String {
    let mut out = render_view(view);
    out.push_str(&render_verdict(validation));
    out
}

fn render_view(view: &View) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", view.qname, view.qtype);
    for (i, z) in view.zones.iter().enumerate() {
        let _ = writeln!(out, "zone {}", z.apex);
        if i > 0 {
            let _ = writeln!(out, "  DS      {}", z.ds.summary());
        }
        let _ = writeln!(out, "  DNSKEY  {}", z.dnskey.summary());
    }
    let _ = writeln!(out, "answer    {}", view.answer.summary());
    out
}

fn render_verdict(validation: &Validation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "verdict   {} (RFC 6840, lenient)", validation.lenient);
    let _ = writeln!(
        out,
        "          {} (RFC 4035 §2.2, strict)",
        validation.strict
    );
    for w in &validation.warnings {
        let _ = writeln!(out, "warning   {w}");
    }
    out
}

/// The command's arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct LookupArgs {
    /// The name to resolve.
    pub name: String,
    /// The record type (A, DS, DNSKEY, …).
    pub rtype: String,
    /// The server that answers for every zone on the path (IP:PORT).
    #[arg(long)]
    pub server: SocketAddr,
    /// Trust anchors: DS or DNSKEY records in presentation format.
    #[arg(long)]
    pub anchor: PathBuf,
    /// Validate at this instant (RFC 3339) instead of now, e.g. a scenario's virtual time.
    #[arg(long)]
    pub now: Option<Timestamp>,
    /// Exit 0 only if the strict (RFC 4035 §2.2) verdict is Secure too.
    #[arg(long)]
    pub strict: bool,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 3)]
    pub timeout: u64,
}

/// Runs `harness lookup`: 0 for Secure, 1 for any other verdict, 2 when it cannot resolve.
pub fn run(args: &LookupArgs) -> ExitCode {
    match run_inner(args) {
        Ok(Status::Secure) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("harness lookup: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &LookupArgs) -> Result<Status, LookupError> {
    let text = std::fs::read_to_string(&args.anchor)
        .map_err(|e| LookupError::Anchor(format!("{}: {e}", args.anchor.display())))?;
    let anchors = parse_anchors(&text)?;
    let absolute = if args.name.ends_with('.') {
        args.name.clone()
    } else {
        format!("{}.", args.name)
    };
    let qname: Name = absolute
        .parse()
        .map_err(|e| LookupError::Usage(format!("name {:?}: {e}", args.name)))?;
    let qtype: RecordType = args
        .rtype
        .to_uppercase()
        .parse()
        .map_err(|e| LookupError::Usage(format!("type {:?}: {e}", args.rtype)))?;
    let mut transport = ServerTransport::new(args.server, Duration::from_secs(args.timeout));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LookupError::Network {
            server: args.server.to_string(),
            reason: format!("cannot start the runtime: {e}"),
        })?;
    let links = runtime.block_on(collect_chain(&mut transport, &anchors, &qname, qtype))?;
    // The command line is the outermost layer: the one place that may read the wall clock.
    let now = args.now.unwrap_or_else(Timestamp::now);
    let validation = validate_chain(&links, &anchors, now);
    print!("{}", render_chain(&links, &validation));
    let mode = if args.strict {
        Mode::Strict
    } else {
        Mode::Lenient
    };
    Ok(validation.verdict(mode).status())
}

#[cfg(test)]
mod tests;
